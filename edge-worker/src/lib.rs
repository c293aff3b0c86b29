//! The edge worker: serves phones' configs over HTTPS from the D1 inventory, with every rule
//! (which file, which MAC, which policy, how it renders) taken from the `engine` crate.
//!
//! This crate is the I/O shell: it reads D1 and R2, the clock and the request, and writes
//! the response. Routes:
//! - `GET /healthz`
//! - `GET /p/<token>/<file>`: a phone's files (see [`phone`]).
//! - `GET /s/<site>/<site token>/<file>`: the same under a site's URL, for redirection services
//!   that take no URL per phone; only with the phone's HTTP Basic credentials.
//! - `/api/...`: the admin API (see [`admin`]).
//! - `/relay/v1/...`: the LAN relays' sync API: snapshot, discovered phones, action queue
//!   (see [`relay`]).
//!
//! A Cron Trigger (`wrangler.toml`) works the RPS outbox (see [`rps`]); so does each admin
//! request that queued something, on its `waitUntil`.
//!
//! # Layout
//! Wire values (vendors, MACs, template drafts, the relay snapshot) are parsed into the
//! engine's types where they enter (serde on the body or the D1 row), not at each use.
//! ```text
//! lib.rs               routing by path prefix, the cron entry, binding names
//! error.rs             the phone routes' uniform 404/401/429/500 answers
//! store.rs             D1 reads and writes of the phone route (typed rows)
//! audit.rs             the one statement every audit-log row is written by
//! phone.rs             /p/ and /s/: a phone's configs, phonebook and firmware
//! relay/mod.rs         /relay/v1/: the relay contract, auth, the snapshot (engine::Inventory)
//! relay/discovered.rs  phones a relay saw on the LAN
//! relay/bind.rs        star-code binds from a relay
//! relay/actions.rs     re-provision/reboot actions a relay collects and acknowledges
//! rps/mod.rs           the RPS outbox: queues and drives vendor registrations
//! rps/seal.rs          RPS accounts sealed at rest (AES-GCM under RPS_KEY)
//! admin/mod.rs         /api/: bearer auth, body parsing, errors naming the field, Ctx
//! admin/sites.rs       sites and their settings, relay tokens
//! admin/users.rs       users (extensions, SIP passwords, PINs)
//! admin/phones.rs      phones: binding, tokens, window, the phones view
//! admin/templates.rs   templates, validated on save
//! admin/uri_maps.rs    URI mappings to templates
//! admin/phonebooks.rs  external phonebook sources
//! admin/preview.rs     render previews, preview inputs, the credential audit
//! admin/firmware.rs    firmware images streamed into R2
//! admin/actions.rs     queueing re-provision/reboot actions for relays
//! admin/stats.rs       fetches per hour and firmware versions seen
//! admin/rps.rs         RPS accounts and per-phone registration state
//! ```
#![forbid(unsafe_code)]

pub(crate) mod admin;
mod audit;
mod error;
mod phone;
mod relay;
mod rps;
mod store;

use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

/// Binding names, as in `wrangler.toml`.
pub(crate) const DB: &str = "DB";
/// The R2 bucket holding firmware images.
pub(crate) const FIRMWARE: &str = "FIRMWARE";
/// The secret that derives steady-state tokens.
pub(crate) const TOKEN_KEY: &str = "TOKEN_KEY";

/// `scheme://host[:port]` of the request.
///
/// The request's URL is split by hand rather than with `Request::url()`: the `url` crate's
/// IDNA tables would add about 60 KB to the worker for URLs the runtime already parsed.
pub(crate) fn origin(req: &Request) -> String {
    let url = req.inner().url();
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

/// The request's query string (without `?`), empty if none.
pub(crate) fn query(req: &Request) -> String {
    let url = req.inner().url();
    let url = url.split('#').next().unwrap_or_default();
    url.split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default()
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let path = req.path();
    let result = if let Some(rest) = path.strip_prefix("/api/") {
        let rest = rest.to_owned();
        return admin::handle(req, &env, &ctx, &rest)
            .await
            .or_else(|e| error::internal(&e));
    } else if let Some(rest) = path.strip_prefix("/relay/v1/") {
        relay::handle(req, &env, rest).await
    } else if path == "/healthz" {
        Response::ok("ok\n")
    } else if let Some(rest) = path.strip_prefix("/p/") {
        phone::handle(&req, &env, rest).await
    } else if let Some(rest) = path.strip_prefix("/s/") {
        phone::handle_site(&req, &env, rest).await
    } else {
        error::not_found()
    };
    result.or_else(|e| error::internal(&e))
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
    });
}
