//! Answers both workers give: uncached text and JSON, the one 404 body every refused phone
//! request gets, and the generic 500 that logs no request data.

use worker::{Headers, Response, Result};

/// The one body every refused phone request gets, whatever the reason (unknown token,
/// another phone's MAC, denied MAC, mismatched User-Agent, closed window), so a client
/// cannot tell the reasons apart.
pub const NOT_FOUND_BODY: &str = "Not Found\n";

/// The single 404 response.
pub fn not_found() -> Result<Response> {
    plain(404, NOT_FOUND_BODY)
}

/// A failure of ours: logged without request data (which may hold tokens), answered with a
/// generic 500.
pub fn internal(e: &worker::Error) -> Result<Response> {
    // D1 errors carry the failing statement, never bound values.
    let msg: String = e.to_string().chars().take(200).collect();
    worker::console_error!("internal error: {msg}");
    plain(500, "Internal Server Error\n")
}

/// A text response that no cache keeps.
pub fn plain(status: u16, body: &str) -> Result<Response> {
    uncached(status, "text/plain; charset=utf-8", body.to_owned())
}

/// A response of `content_type` that no cache keeps: every answer of these workers carries
/// either a phone's secrets or an admin's data.
pub fn uncached(status: u16, content_type: &str, body: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", content_type)?;
    headers.set("Cache-Control", "no-store")?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}
