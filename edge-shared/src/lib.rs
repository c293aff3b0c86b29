//! What the two Workers share, and nothing either one alone needs: the phone worker
//! (`edge-worker`: phones and LAN relays, holding only `TOKEN_KEY`) and the admin worker
//! (`edge-admin`: the console, the admin API, the RPS outbox, holding `ADMIN_TOKEN` and
//! `RPS_KEY`) both link this plain library, on the same D1 database and R2 bucket.
//!
//! It reads no secret but the one both workers hold (`TOKEN_KEY`, by name only: the callers
//! read it), and it has no `#[event]`: each worker is its own entry point.
//!
//! # Layout
//! ```text
//! lib.rs      binding names, the request's origin and query string
//! http.rs     uncached plain/JSON answers, the uniform 404, the generic 500
//! api.rs      JSON API errors naming the field (ApiError), body parsing, JSON answers
//! ids.rs      random bytes from the platform's CSPRNG, random ids
//! audit.rs    the one statement every audit-log row is written by
//! site.rs     a site's settings as stored (Site, Settings, SITE_COLUMNS)
//! phonebook.rs a phonebook source's entries and last fetch, written by both workers
//! store.rs    D1 rows both workers read: a phone with its site and user, BLF keys, firmware rows
//! inputs.rs   what a phone's config renders from (the phone route and the admin preview)
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod http;
pub mod ids;
pub mod inputs;
pub mod phonebook;
pub mod site;
pub mod store;

use worker::Request;

/// The D1 database binding (the inventory), in both workers' wrangler configs.
pub const DB: &str = "DB";
/// The R2 bucket binding holding firmware images.
pub const FIRMWARE: &str = "FIRMWARE";
/// The secret that derives phones' steady-state tokens and sites' tokens (both workers).
pub const TOKEN_KEY: &str = "TOKEN_KEY";

/// `scheme://host[:port]` of the request.
///
/// The request's URL is split by hand rather than with `Request::url()`: the `url` crate's
/// IDNA tables would add about 60 KB to the worker for URLs the runtime already parsed.
pub fn origin(req: &Request) -> String {
    origin_of(&req.inner().url())
}

/// The request's query string (without `?`), empty if none.
pub fn query(req: &Request) -> String {
    query_of(&req.inner().url())
}

fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

fn query_of(url: &str) -> String {
    let url = url.split('#').next().unwrap_or_default();
    url.split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_and_query() {
        assert_eq!(origin_of("https://e.example/p/x?a=1"), "https://e.example");
        assert_eq!(origin_of("http://127.0.0.1:8787"), "http://127.0.0.1:8787");
        assert_eq!(origin_of("http://h?x#y"), "http://h");
        assert_eq!(query_of("https://h/api/x?a=1&b=2#f"), "a=1&b=2");
        assert_eq!(query_of("https://h/api/x#f?no"), "");
        assert_eq!(query_of("https://h/"), "");
    }
}
