//! Vendor redirection services (RPS): sans-IO clients that register phones with each
//! vendor's cloud so a factory-fresh phone is sent to our edge.
//!
//! Nothing here sends anything. Each operation is an [`Op`], a small state machine: it
//! hands the shell a [`Step::Send`] with a fully built [`HttpRequest`] (method, URL,
//! headers, body, already signed), the shell executes it and feeds the [`HttpReply`] back
//! with [`Op::on_reply`], until the op yields [`Step::Done`] with a typed result or an
//! [`RpsError`]. Multi-call sequences (Grandstream's token first, Yealink's "already
//! exists → look it up → edit", Snom's settings → token → company → endpoint walk) live
//! inside the op, so the shell drives every vendor with the same loop:
//!
//! ```
//! # use engine::rps::*;
//! # use engine::{Mac, Secret};
//! # fn send(_: &HttpRequest) -> HttpReply { HttpReply::new(200, br#"{"ret":0,"data":["id1"],"error":null}"#.to_vec()) }
//! let (accounts, _notices) = parse_accounts("[yealink]\naccesskey_id=k\naccesskey_secret=s\n").unwrap();
//! let phone = RpsPhone::new(Mac::parse("001565aabbcc").unwrap(), "https://edge.example/p/tok/");
//! let mut op = accounts[0].register(&phone);
//! let mut step = op.start(1_700_000_000_000, "nonce-1");
//! let result = loop {
//!     match step {
//!         Step::Send(req) => step = op.on_reply(send(&req), 1_700_000_000_500, "nonce-2"),
//!         Step::Done(r) => break r,
//!     }
//! };
//! assert_eq!(result.unwrap(), Registration::Created);
//! ```
//!
//! Time (`now_ms`, Unix milliseconds) and a fresh nonce are passed to every call that may
//! build a request, so every signature is reproducible in a test and the engine never reads
//! a clock or draws a random number.
//!
//! Secrets (API keys, passwords and their hashes, access tokens, the phones' tokenized URLs
//! and HTTP passwords) never appear in `Debug` output or in an error: [`HttpRequest`]'s
//! `Debug` is its [`HttpRequest::redacted`] view, and vendor messages kept in an error are
//! clipped and scrubbed of every secret the op knows.
//!
//! # What is confirmed and what is a setting
//! The facts come from the public API notes in the project's `RPS.md`. Where a fact is
//! unsure, the value is a field of the account with the documented default, and the code
//! says `// unsure:`. The unsure points:
//! - Yealink: whether `rps_host` without a port keeps port 8443 (we keep it); whether query
//!   keys are sorted in the string to sign (we sort; every call has one); the shape of list
//!   replies (`data` as an array, or an object holding `data`/`list`/`items`/`rows`/`records`;
//!   all are accepted); the body of device delete (`ids`, the documented one, is sent); the
//!   message for a MAC of another customer (recognised by words, and an "exists" that our
//!   own list cannot find is reported as owned by another account).
//! - ALE: the whole API (the Yealink scheme on the host the account names) is unverified.
//! - Grandstream: values in the signed string are taken raw (not URL-encoded); the MAC is
//!   sent as 12 upper-case hex digits ([`GdmsAccount::mac_colons`] switches to `AA:BB:…`);
//!   list replies' shape (array or `result`/`list`/`records`); no public delete call (remove
//!   reports [`RpsError::Unsupported`]); "already exists" is recognised by words.
//! - Snom: the legacy XML-RPC MAC spelling (upper-case hex); the REST list reply's shape
//!   (array or `results`); "not registered" replies of the legacy API (recognised by words).
//! - Fanvil: `redirect.checkDevice(mac)` for status; `cfgPfName` keeps the URL's query.
//! - Htek: no API at all; see [`htek_csv`] and [`htek_instructions`].

pub(crate) mod accounts;
mod client;
mod error;
mod op;
mod reply;
mod wire;
pub(crate) mod xmlrpc;

use crate::vendors::htek::rps as htek;
use crate::vendors::snom::rps as sraps;
use crate::vendors::yealink::rps as yealink;

/// The vendors' tests drive ops one step at a time with these.
#[cfg(test)]
pub(crate) mod test_steps {
    use super::{HttpRequest, RpsError, Step};

    /// The request a step asks to send; panics if the op ended.
    pub(crate) fn send<T>(s: Step<T>) -> HttpRequest {
        match s {
            Step::Send(r) => r,
            Step::Done(r) => panic!("expected a request, got {:?}", r.err()),
        }
    }

    /// The result a step ended with; panics if it asks to send.
    pub(crate) fn done<T>(s: Step<T>) -> Result<T, RpsError> {
        match s {
            Step::Done(r) => r,
            Step::Send(r) => panic!("expected the end, got {r:?}"),
        }
    }
}

pub use crate::vendors::ale::account::AleAccount;
pub use crate::vendors::fanvil::account::FanvilAccount;
pub use crate::vendors::grandstream::account::GdmsAccount;
pub use crate::vendors::htek::account::HtekAccount;
pub use crate::vendors::snom::account::{SnomAccount, SnomApi};
pub use crate::vendors::yealink::account::YealinkAccount;
pub use accounts::{parse_accounts, Notice, PasswordForm, RpsAccount};
pub(crate) use client::{is_hex, Client, IniSection, IniSpec, Started};
pub use htek::{htek_csv, htek_instructions, HTEK_RPS_URL};
pub use sraps::{hawk_header, hawk_mac, hawk_payload_hash, HawkRequest};
pub use yealink::{rps_ing, SerialNumber};

pub use error::*;
pub use op::*;
pub(crate) use reply::*;
pub use wire::*;

#[cfg(test)]
mod tests {
    #[test]
    fn token_shaped_runs_are_hidden_in_vendor_text() {
        let t = "0123456789abcdef0123456789abcdef";
        let shown = sanitize(
            &format!("bad item {{\"url\":\"https://e/p/{t}/\"}} id 12345 mac 001565AABBCC"),
            &[],
        );
        assert_eq!(
            shown,
            "bad item {\"url\":\"https://e/p/***/\"} id 12345 mac 001565AABBCC"
        );
        assert_eq!(sanitize("ünïcode ok", &[]), "ünïcode ok");
    }

    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_vendor_envelope_does_not_hide_the_http_status() {
        // Found by the stand-in: Yealink's 429 carried `{"ret":-1,"error":{"msg":"request.too.many"}}`
        // and was read as an unexpected reply (the words did not match, the status was ignored).
        let r = HttpReply::new(
            429,
            br#"{"ret":-1,"error":{"msg":"request.too.many"}}"#.to_vec(),
        )
        .with_header("Retry-After", "3");
        let e = classify(
            "yealink",
            Some(429),
            Some("request.too.many"),
            None,
            &r,
            &[],
        );
        assert_eq!(e.kind(), "rate_limited");
        assert_eq!(e.retry_after(), Some(3));
        let e = classify("yealink", Some(429), Some("whatever"), None, &r, &[]);
        assert_eq!(e.kind(), "rate_limited");
        let e = classify("gdms", Some(401), Some("E1"), None, &r, &[]);
        assert_eq!(e.kind(), "bad_credentials");
        let e = classify("gdms", Some(404), Some("E2"), None, &r, &[]);
        assert_eq!(e.kind(), "not_found");
        let e = classify("gdms", Some(200), Some("E3"), None, &r, &[]);
        assert_eq!(e.kind(), "unexpected_reply");
        // Words still win over a generic status: a 403 "bound by another user" is ownership.
        let e = classify(
            "gdms",
            Some(403),
            None,
            Some("device has been bound by another user"),
            &r,
            &[],
        );
        assert_eq!(e.kind(), "owned_by_another_account");
    }

    #[test]
    fn which_vendors_have_an_api() {
        use crate::vendors::{RpsApi, Vendor};
        let api = |v: Vendor| v.rps_api();
        for v in [Vendor::Yealink, Vendor::Ale, Vendor::Fanvil, Vendor::Snom] {
            assert_eq!(api(v), RpsApi::Full, "{v}");
        }
        assert_eq!(api(Vendor::Grandstream), RpsApi::NoRemoval);
        assert_eq!(api(Vendor::Htek), RpsApi::Manual);
        assert!(!RpsApi::Manual.registers() && RpsApi::NoRemoval.registers());
        assert!(RpsApi::Full.removes() && !RpsApi::NoRemoval.removes());
        let (accounts, _) = parse_accounts(
            "[yealink]\naccesskey_id=k\naccesskey_secret=s\n[fanvil]\nusername=u\npassword=p\n",
        )
        .unwrap();
        assert_eq!(
            accounts
                .iter()
                .map(RpsAccount::needs_server)
                .collect::<Vec<_>>(),
            [true, false]
        );
    }

    #[test]
    fn retry_policy() {
        let p = RetryPolicy::default();
        let d = |s: &str| Detail {
            vendor: "yealink",
            message: Some(s.into()),
            ..Detail::default()
        };
        let server = RpsError::ServerError(d("boom"));
        // Exponential from a minute, jitter within ±10 %.
        for (attempt, base) in [(1u32, 60u64), (2, 120), (3, 240), (9, 15_360)] {
            for jitter in [0u8, 128, 255] {
                let got = p.delay(Failure::Vendor(&server), attempt, jitter).unwrap();
                assert!(
                    got >= base - base / 10 && got <= base + base / 10,
                    "{attempt} {jitter} {got}"
                );
            }
            assert!(
                p.delay(Failure::Vendor(&server), attempt, 0)
                    < p.delay(Failure::Vendor(&server), attempt, 255)
            );
        }
        assert_eq!(
            p.delay(Failure::Transport, 1, 128),
            p.delay(Failure::Vendor(&server), 1, 128)
        );
        // Capped at six hours.
        let long = RetryPolicy {
            max_attempts: 30,
            ..p
        };
        assert_eq!(long.delay(Failure::Transport, 20, 255), Some(6 * 3600));
        // Given up after max_attempts.
        assert_eq!(p.delay(Failure::Vendor(&server), 10, 0), None);
        assert_eq!(p.delay(Failure::Transport, 10, 0), None);
        // Retry-After wins, clamped to [1, max].
        let limited = |after| RpsError::RateLimited {
            detail: d("slow down"),
            retry_after: after,
        };
        assert_eq!(p.delay(Failure::Vendor(&limited(Some(7))), 3, 200), Some(7));
        assert_eq!(p.delay(Failure::Vendor(&limited(Some(0))), 1, 200), Some(1));
        assert_eq!(
            p.delay(Failure::Vendor(&limited(Some(u64::MAX))), 1, 0),
            Some(6 * 3600)
        );
        assert_eq!(p.delay(Failure::Vendor(&limited(None)), 1, 0), Some(54));
        // A person must act: never retried.
        for e in [
            RpsError::BadCredentials(d("no")),
            RpsError::OwnedByAnotherAccount(d("theirs")),
            RpsError::InvalidMac(d("mac")),
            RpsError::InvalidUrl(d("url")),
            RpsError::NotFound(d("gone")),
            RpsError::Refused(d("code 30010")),
            RpsError::InvalidInput("x".into()),
            RpsError::Unsupported("x".into()),
        ] {
            assert!(!e.is_transient(), "{}", e.kind());
            assert_eq!(p.delay(Failure::Vendor(&e), 1, 0), None, "{}", e.kind());
        }
        assert!(RpsError::UnexpectedReply(d("<html>")).is_transient());
        // Tiny and huge settings stay in range.
        let q = RetryPolicy {
            base_secs: 0,
            max_secs: 0,
            max_attempts: u32::MAX,
        };
        assert_eq!(q.delay(Failure::Transport, u32::MAX - 1, 255), Some(1));
        let r = RetryPolicy {
            base_secs: u64::MAX,
            max_secs: u64::MAX,
            max_attempts: 100,
        };
        assert!(r.delay(Failure::Transport, 99, 255).is_some());
    }

    #[test]
    fn url_parts() {
        let u = Url::parse("https://API-DM.yealink.com:8443/api/open?x=1#frag").unwrap();
        assert_eq!(u.host, "api-dm.yealink.com");
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.path_query, "/api/open?x=1");
        assert_eq!(u.path(), "/api/open");
        assert_eq!(u.origin(), "https://api-dm.yealink.com:8443");
        let u = Url::parse("http://example.com").unwrap();
        assert_eq!((u.effective_port(), u.path_query.as_str()), (80, "/"));
        for bad in [
            "ftp://x/",
            "https://",
            "https://user@host/",
            "https://host:99999/",
            "https://ho st/",
            "https://host/a b",
        ] {
            assert!(Url::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn redaction_covers_every_encoding() {
        let req = HttpRequest::new("POST", "https://x/?t=a%2Fb%3D".into())
            .header("Authorization", "Basic dXNlcjpwYXNz")
            .header("X-Other", "sec\"ret")
            .body(br#"{"p":"sec\"ret","q":"a/b="}"#.to_vec())
            .secrets(&["a/b=".into(), "sec\"ret".into()]);
        let r = req.redacted();
        assert_eq!(r.url, "https://x/?t=***");
        assert_eq!(r.headers[0].1, "Basic ***");
        assert_eq!(r.headers[1].1, "***");
        assert_eq!(r.body, r#"{"p":"***","q":"***"}"#);
        let dbg = format!("{req:?}");
        assert!(
            !dbg.contains("dXNlcjpwYXNz") && !dbg.contains("a%2Fb"),
            "{dbg}"
        );
    }

    #[test]
    fn sanitize_clips_and_scrubs() {
        let long = "x".repeat(500);
        assert_eq!(sanitize(&long, &[]).chars().count(), MAX_DETAIL + 1);
        assert_eq!(
            sanitize("bad\npw hunter2", &["hunter2".into()]),
            "bad pw ***"
        );
    }

    #[test]
    fn nonce_is_checked() {
        assert!(check_nonce("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        for bad in ["", "a\"b", "a b", &"n".repeat(129)] {
            assert!(check_nonce(bad).is_err());
        }
    }

    #[test]
    fn status_errors() {
        let k = |s: u16| status_error("x", &HttpReply::new(s, "oops"), &[]);
        assert!(k(200).is_none());
        assert!(matches!(k(401), Some(RpsError::BadCredentials(_))));
        assert!(matches!(k(404), Some(RpsError::NotFound(_))));
        assert!(matches!(k(502), Some(RpsError::ServerError(_))));
        let r = status_error(
            "x",
            &HttpReply::new(429, "").with_header("Retry-After", " 30"),
            &[],
        )
        .unwrap();
        assert_eq!(r.retry_after(), Some(30));
    }
}
