//! Responses for refusals and failures.

use worker::{Headers, Response, Result};

/// The one body every refused phone request gets, whatever the reason (unknown token,
/// another phone's MAC, denied MAC, mismatched User-Agent, closed window), so a client
/// cannot tell the reasons apart.
pub(crate) const NOT_FOUND_BODY: &str = "Not Found\n";

/// The single 404 response.
pub(crate) fn not_found() -> Result<Response> {
    plain(404, NOT_FOUND_BODY)
}

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

/// A failure of ours: logged without request data (which may hold tokens), answered with a
/// generic 500.
pub(crate) fn internal(e: &worker::Error) -> Result<Response> {
    // D1 errors carry the failing statement, never bound values.
    let msg: String = e.to_string().chars().take(200).collect();
    worker::console_error!("internal error: {msg}");
    plain(500, "Internal Server Error\n")
}

/// A text response that no cache keeps.
pub(crate) fn plain(status: u16, body: &str) -> Result<Response> {
    uncached(status, "text/plain; charset=utf-8", body.to_owned())
}

/// A response of `content_type` that no cache keeps: every answer of this worker carries
/// either a phone's secrets or an admin's data.
pub(crate) fn uncached(status: u16, content_type: &str, body: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", content_type)?;
    headers.set("Cache-Control", "no-store")?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}
