//! The phone route's own refusals (beyond the shared 404 and 500 of `edge_shared::http`):
//! the HTTP Basic challenge and the guessers' cool-off.

pub(crate) use edge_shared::http::{internal, not_found, plain, uncached};
use worker::{Response, Result};

/// The challenge a phone with HTTP Basic credentials gets when it sent none (phones send
/// credentials only when asked). It comes only after its token was accepted.
pub(crate) fn challenge() -> Result<Response> {
    let r = plain(401, "Unauthorized\n")?;
    r.headers().set(
        "WWW-Authenticate",
        "Basic realm=\"provisioning\", charset=\"UTF-8\"",
    )?;
    Ok(r)
}

/// The cool-off response for an address that made too many misses.
pub(crate) fn too_many(retry_after_secs: u64) -> Result<Response> {
    let r = plain(429, "Too Many Requests\n")?;
    r.headers()
        .set("Retry-After", &retry_after_secs.to_string())?;
    Ok(r)
}
