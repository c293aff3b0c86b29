//! The admin worker: the console's static assets, the admin API and the RPS outbox, on the
//! same D1 inventory and R2 firmware bucket as the phone worker (`edge-worker`).
//!
//! It holds the secrets phones never need: `ADMIN_TOKEN` (the API's bearer token) and
//! `RPS_KEY` (seals the vendors' RPS accounts), plus `TOKEN_KEY`, because the URLs it hands
//! out (a phone's first-access and steady-state URLs, the per-site URL, the URLs registered
//! with the vendors' redirection services) are derived from it. Those URLs name the phone
//! worker's origin: the `PHONE_ORIGIN` variable, or this request's own origin when unset
//! (local development serves both workers on one origin).
//!
//! Routes:
//! - `/api/...`: the admin API (see [`api`]).
//! - `/p/`, `/s/`, `/relay/`, `/healthz`: handed as they are to the phone worker through the
//!   service binding `PHONES` (one origin for `wrangler dev` and the tests; in production
//!   phones and relays reach the phone worker on its own hostname, and without the binding
//!   these paths are a 404 here).
//! - `/help/troubleshooting`: `docs/troubleshooting.md` as plain text (the console links it).
//! - anything else: the console's static files (`wrangler.toml` `[assets]`), else a 404.
//!
//! A Cron Trigger (`wrangler.toml`) works the RPS outbox (see [`rps`]); so does each admin
//! request that queued something, on its `waitUntil`. The same cron deletes the phone
//! worker's expired miss counters and fetches the phonebook sources that are due.
//!
//! # Layout
//! ```text
//! lib.rs             routing by path prefix, the forward to the phone worker, the cron entry
//! rps/mod.rs         the RPS outbox: queues and drives vendor registrations
//! rps/seal.rs        RPS accounts sealed at rest (AES-GCM under RPS_KEY)
//! api/mod.rs         /api/: bearer auth, routing, Ctx (errors and bodies: edge-shared)
//! api/sites.rs       sites and the rules of their settings, relay tokens, the site URL
//! api/users.rs       users (extensions, SIP passwords, PINs)
//! api/phones.rs      phones: binding, tokens, window, the phones view
//! api/templates.rs   templates, validated on save
//! api/uri_maps.rs    URI mappings to templates
//! api/phonebooks.rs  external phonebook sources (lists and URLs)
//! phonebook_fetch.rs the edge's fetches of public phonebook source URLs (cron, fetch now)
//! api/preview.rs     render previews, preview inputs, the credential audit
//! api/firmware.rs    firmware images streamed into R2
//! api/actions.rs     queueing re-provision/reboot actions for relays
//! api/stats.rs       fetches per hour and firmware versions seen
//! api/rps.rs         RPS accounts and per-phone registration state
//! ```
#![forbid(unsafe_code)]

pub(crate) mod api;
mod phonebook_fetch;
mod rps;

pub(crate) use edge_shared::{query, DB, FIRMWARE, TOKEN_KEY};
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

/// The service binding to the phone worker (`wrangler.toml` `[[services]]`).
const PHONES: &str = "PHONES";

/// The LAN troubleshooting page (network, DHCP, firewall, the relay's debug log), built in.
const TROUBLESHOOTING: &str = include_str!("../../docs/troubleshooting.md");

/// The paths the phone worker answers; this worker hands them over unchanged.
fn is_phone_route(path: &str) -> bool {
    path == "/healthz"
        || path.starts_with("/p/")
        || path.starts_with("/s/")
        || path.starts_with("/relay/")
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    if let Some(rest) = path.strip_prefix("/api/") {
        let rest = rest.to_owned();
        return api::handle(req, &env, &ctx, &rest)
            .await
            .or_else(|e| edge_shared::http::internal(&e));
    }
    if path == "/help/troubleshooting" {
        let mut res = Response::ok(TROUBLESHOOTING)?;
        res.headers_mut()
            .set("Content-Type", "text/plain; charset=utf-8")?;
        res.headers_mut().set("X-Content-Type-Options", "nosniff")?;
        return Ok(res);
    }
    if is_phone_route(&path) {
        // The request as it came (method, headers, body, URL): the phone worker sees the same
        // origin, so the URLs it writes into configs are this one.
        return match env.service(PHONES) {
            Ok(phones) => phones
                .fetch_request(req)
                .await
                .or_else(|e| edge_shared::http::internal(&e)),
            Err(_) => edge_shared::http::not_found(),
        };
    }
    edge_shared::http::not_found()
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, ctx: ScheduleContext) {
    ctx.wait_until(async move {
        match rps::work(&env).await {
            Ok(s) if s.calls > 0 || s.failed > 0 => worker::console_log!(
                "rps cron: {} done, {} retrying, {} failed, {} deferred, {} calls",
                s.done,
                s.retrying,
                s.failed,
                s.deferred,
                s.calls
            ),
            Ok(_) => {}
            Err(e) => worker::console_error!("rps cron: {e}"),
        }
        match phonebook_fetch::work(&env).await {
            Ok(0) => {}
            Ok(n) => worker::console_log!("phonebook cron: {n} sources fetched"),
            Err(e) => worker::console_error!("phonebook cron: {e}"),
        }
        if let Err(e) = prune_misses(&env).await {
            worker::console_error!("misses cron: {e}");
        }
    });
}

/// A signal that aborts an outbound fetch after `limit`: a server that does not answer is
/// the fetch's error, not a call that holds the invocation until it is killed.
pub(crate) fn abort_after(limit: std::time::Duration) -> worker::AbortSignal {
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let timer = signal.clone();
    worker::wasm_bindgen_futures::spawn_local(async move {
        worker::Delay::from(limit).await;
        if !timer.aborted() {
            controller.abort();
        }
    });
    signal
}

/// Deletes the phone worker's miss counters that hold nothing any more (their window and
/// cool-off have ended), so guesses from ever new addresses do not pile up rows.
async fn prune_misses(env: &Env) -> Result<()> {
    let now = worker::Date::now().as_millis() / 1000;
    env.d1(DB)?
        .prepare("DELETE FROM misses WHERE expires_at <= ?1")
        .bind(&[edge_shared::store::num(now)])?
        .run()
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_phone_route;

    #[test]
    fn phone_routes() {
        for p in [
            "/healthz",
            "/p/abc/x.cfg",
            "/s/site/tok/x.cfg",
            "/relay/v1/snapshot",
        ] {
            assert!(is_phone_route(p), "{p}");
        }
        for p in [
            "/",
            "/api/sites",
            "/healthz/x",
            "/p",
            "/index.html",
            "/pkg/engine_wasm.js",
        ] {
            assert!(!is_phone_route(p), "{p}");
        }
    }
}
