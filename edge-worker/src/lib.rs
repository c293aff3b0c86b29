//! The phone worker ("the edge"): serves phones' configs over HTTPS from the D1 inventory,
//! and the LAN relays' sync API, with every rule (which file, which MAC, which policy, how it
//! renders) taken from the `engine` crate.
//!
//! It is the only Worker phones and relays reach, and it holds one secret, `TOKEN_KEY` (the
//! key that derives phones' steady-state tokens and sites' tokens). The admin API, the console
//! and the RPS outbox are another Worker (`edge-admin`) on the same D1 database and R2 bucket,
//! holding `ADMIN_TOKEN` and `RPS_KEY`; nothing of it is compiled in here, and `/api/` is a
//! 404 like any unknown path. What both need (the shared D1 rows, the site model, API errors,
//! the audit log) is the `edge-shared` library.
//!
//! This crate is the I/O shell: it reads D1 and R2, the clock and the request, and writes
//! the response. Routes:
//! - `GET /healthz`
//! - `GET /p/<token>/<file>`: a phone's files (see [`phone`]).
//! - `GET /s/<site>/<site token>/<file>`: the same under a site's URL, for redirection services
//!   that take no URL per phone; only with the phone's HTTP Basic credentials.
//! - `/relay/v1/...`: the LAN relays' sync API: snapshot, discovered phones, action queue
//!   (see [`relay`]).
//!
//! Nothing here queues work for the RPS outbox: registrations are queued by the admin API's
//! changes and worked by the admin worker's Cron Trigger.
//!
//! # Layout
//! Wire values (vendors, MACs, template drafts, the relay snapshot) are parsed into the
//! engine's types where they enter (serde on the body or the D1 row), not at each use.
//! ```text
//! lib.rs               routing by path prefix
//! error.rs             the phone route's 401 challenge and 429 cool-off (404/500: edge-shared)
//! store.rs             D1 reads and writes of the phone route and the relay API (typed rows)
//! phone.rs             /p/ and /s/: a phone's configs, phonebook and firmware
//! relay/mod.rs         /relay/v1/: the relay contract, auth, the snapshot (engine::Inventory)
//! relay/discovered.rs  phones a relay saw on the LAN
//! relay/bind.rs        star-code binds from a relay
//! relay/actions.rs     re-provision/reboot actions a relay collects and acknowledges
//! ```
#![forbid(unsafe_code)]

mod error;
mod phone;
mod relay;
mod store;

pub(crate) use edge_shared::{origin, DB, FIRMWARE, TOKEN_KEY};
use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let result = if let Some(rest) = path.strip_prefix("/relay/v1/") {
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
