//! The edge as the relay talks to it: the `[edge]` section of the configuration, and
//! [`EdgeClient`], the one HTTP client every call to the edge's relay API
//! (`/relay/v1/...`, see `edge-worker/src/relay/mod.rs`) goes through.
//!
//! One agent configuration for all of them: TLS by rustls with the Web PKI roots (ureq's
//! default), `User-Agent: lan-relay/<version>`, a 30 s limit per call (a firmware image
//! gets 10 minutes), HTTP error statuses returned as answers rather than errors (each call
//! says what its statuses mean), and the site's relay token as `Authorization: Bearer`. The
//! token is never logged and never part of an error: errors name the URL, the status and
//! the edge's own error text (which names a field, never a secret). Blocking: run the calls
//! off the async threads.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use engine::Secret;
use serde::Deserialize;

use crate::sip::registrar::Binding;

use crate::discovery::Seen;

/// The `[edge]` section of the configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// The edge's base URL (e.g. `https://provisioning.example.com`).
    pub url: String,
    /// A file holding the site's relay token (from the admin API's `relay-token`).
    pub token_file: PathBuf,
    /// Seconds between polls.
    #[serde(default = "poll_secs")]
    pub poll_secs: u64,
    /// The SIP port re-provision NOTIFYs go to on the phones.
    #[serde(default = "sip_port")]
    pub phone_sip_port: u16,
}

fn sip_port() -> u16 {
    5060
}

fn poll_secs() -> u64 {
    60
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edge")
            .field("url", &self.url)
            .field("poll_secs", &self.poll_secs)
            .finish_non_exhaustive()
    }
}

impl Edge {
    /// The relay token, read from [`Self::token_file`] now (so a new token takes effect
    /// without a restart), trimmed.
    pub fn read_token(&self) -> std::io::Result<String> {
        std::fs::read_to_string(&self.token_file).map(|t| t.trim().to_owned())
    }
}

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a firmware download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest snapshot accepted.
const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024;
/// The largest list of actions accepted.
const MAX_ACTIONS_BYTES: u64 = 1024 * 1024;
/// The most of an error answer's text kept for the log.
const MAX_ERROR_DETAIL: u64 = 4096;

/// What one snapshot poll brought.
#[derive(Debug)]
pub enum Fetched {
    /// `304`: nothing changed.
    NotModified,
    /// A new snapshot and its ETag.
    New {
        /// The body.
        body: String,
        /// Its ETag.
        etag: String,
    },
}

/// A re-provision or reboot request collected from the edge.
#[derive(Debug, Clone, Deserialize)]
pub struct Action {
    /// Its id, for the acknowledgement.
    pub id: String,
    /// `reprovision` or `reboot`.
    pub action: String,
    /// The phone's MAC.
    pub mac: String,
    /// Its vendor.
    pub vendor: String,
    /// Its LAN address as this relay reported it (`None`: never seen on the LAN).
    #[serde(default)]
    pub ip: Option<String>,
}

/// The relay's client of the edge's relay API (see the module docs). Cloning is cheap and
/// shares the agent (and its connections).
#[derive(Clone)]
pub struct EdgeClient {
    agent: ureq::Agent,
    base: String,
    token: Secret<String>,
}

impl std::fmt::Debug for EdgeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl EdgeClient {
    /// A client of `edge` presenting `token`.
    pub fn new(edge: &Edge, token: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .user_agent(concat!("lan-relay/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            agent,
            base: edge.url.trim_end_matches('/').to_owned(),
            token: Secret::from(token),
        }
    }

    /// The same client (and agent) presenting `token` instead.
    #[must_use]
    pub fn with_token(&self, token: String) -> Self {
        Self {
            token: Secret::from(token),
            ..self.clone()
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/relay/v1/{path}", self.base)
    }

    fn authorization(&self) -> String {
        format!("Bearer {}", self.token.expose())
    }

    /// The body of `resp` as text, at most `limit` bytes (more fails the read).
    fn text(
        resp: &mut ureq::http::Response<ureq::Body>,
        limit: u64,
        url: &str,
    ) -> Result<String, String> {
        resp.body_mut()
            .with_config()
            .limit(limit)
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))
    }

    /// `GET /relay/v1/<path>`, authorised; the status is the caller's to judge.
    fn get(
        &self,
        url: &str,
        configure: impl FnOnce(
            ureq::RequestBuilder<ureq::typestate::WithoutBody>,
        ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody>,
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        configure(
            self.agent
                .get(url)
                .header("Authorization", &self.authorization()),
        )
        .call()
        .map_err(|e| format!("{url}: {e}"))
    }

    /// `POST /relay/v1/<path>` with a JSON body; `Ok` on 200, else the status and the
    /// edge's error text.
    fn post(&self, path: &str, body: &serde_json::Value) -> Result<(), String> {
        self.post_status(path, body).map(|_| ())
    }

    /// POSTs `body`; the status of a `200` or `202` answer.
    fn post_status(&self, path: &str, body: &serde_json::Value) -> Result<u16, String> {
        let url = self.url(path);
        let mut resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.authorization())
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .map_err(|e| format!("{url}: {e}"))?;
        match resp.status().as_u16() {
            s @ (200 | 202) => Ok(s),
            s => {
                let detail = Self::text(&mut resp, MAX_ERROR_DETAIL, &url).unwrap_or_default();
                Err(format!("{url}: HTTP {s} {detail}"))
            }
        }
    }

    /// `GET /relay/v1/snapshot` with `If-None-Match: <etag>` (none when `etag` is empty).
    pub fn snapshot(&self, etag: &str) -> Result<Fetched, String> {
        let url = self.url("snapshot");
        let mut resp = self.get(&url, |req| {
            if etag.is_empty() {
                req
            } else {
                req.header("If-None-Match", etag)
            }
        })?;
        match resp.status().as_u16() {
            304 => Ok(Fetched::NotModified),
            200 => {
                let etag = resp
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = Self::text(&mut resp, MAX_SNAPSHOT_BYTES, &url)?;
                Ok(Fetched::New { body, etag })
            }
            401 => Err(format!("{url}: the relay token was refused (401)")),
            s => Err(format!("{url}: HTTP {s}")),
        }
    }

    /// `POST /relay/v1/discovered`: the phones seen on the LAN.
    pub fn report(&self, phones: &[Seen]) -> Result<(), String> {
        self.post("discovered", &serde_json::json!({ "phones": phones }))
    }

    /// `POST /relay/v1/bind`: the phone `mac` bound to `extension` by its user. The edge
    /// decides by the site's mode: bound (`200`), or waiting for an administrator (`202`).
    /// `pin`: whether the user's PIN was dialled and checked.
    pub fn bind(&self, mac: &engine::Mac, extension: &str, pin: bool) -> Result<Binding, String> {
        let status = self.post_status(
            "bind",
            &serde_json::json!({ "mac": mac.to_string(), "extension": extension, "pin": pin }),
        )?;
        Ok(if status == 202 {
            Binding::AwaitingApproval
        } else {
            Binding::Made
        })
    }

    /// `POST /relay/v1/phonebook`: what fetching phonebook source `source` from `url` (the
    /// snapshot's) brought.
    pub fn phonebook(
        &self,
        source: &str,
        url: &str,
        outcome: &Result<engine::ParsedSource, String>,
    ) -> Result<(), String> {
        let body = match outcome {
            Ok(p) => serde_json::json!({
                "source": source,
                "url": url,
                "format": p.format.name(),
                "entries": p.entries,
            }),
            Err(e) => {
                // The edge takes at most 200 characters.
                let e: String = e.chars().take(200).collect();
                serde_json::json!({ "source": source, "url": url, "error": e })
            }
        };
        self.post("phonebook", &body)
    }

    /// `GET /relay/v1/actions`: the re-provision and reboot requests waiting.
    pub fn actions(&self) -> Result<Vec<Action>, String> {
        #[derive(Deserialize)]
        struct Collected {
            actions: Vec<Action>,
        }
        let url = self.url("actions");
        let mut resp = self.get(&url, |req| req)?;
        if resp.status().as_u16() != 200 {
            return Err(format!("{url}: HTTP {}", resp.status().as_u16()));
        }
        let text = Self::text(&mut resp, MAX_ACTIONS_BYTES, &url)?;
        serde_json::from_str::<Collected>(&text)
            .map(|c| c.actions)
            .map_err(|e| format!("{url}: {e}"))
    }

    /// `POST /relay/v1/actions/ack`: `(id, ok, detail)` per action carried out.
    pub fn ack(&self, results: &[(String, bool, String)]) -> Result<(), String> {
        let results: Vec<serde_json::Value> = results
            .iter()
            .map(|(id, ok, detail)| serde_json::json!({ "id": id, "ok": ok, "detail": detail }))
            .collect();
        self.post("actions/ack", &serde_json::json!({ "results": results }))
    }

    /// `GET /relay/v1/firmware/<vendor>/<file>`: the image's bytes, at most `limit` of
    /// them (a longer body fails the read), with the URL for errors.
    pub fn firmware(
        &self,
        vendor: engine::Vendor,
        file: &str,
        limit: u64,
    ) -> Result<(impl Read, String), String> {
        let url = self.url(&format!("firmware/{}/{file}", vendor.as_str()));
        let resp = self.get(&url, |req| {
            req.config().timeout_global(Some(DOWNLOAD_TIMEOUT)).build()
        })?;
        if resp.status().as_u16() != 200 {
            return Err(format!("{url}: HTTP {}", resp.status().as_u16()));
        }
        let reader = resp.into_body().into_with_config().limit(limit).reader();
        Ok((reader, url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(url: &str) -> Edge {
        Edge {
            url: url.to_owned(),
            token_file: PathBuf::from("/nonexistent"),
            poll_secs: 60,
            phone_sip_port: 5060,
        }
    }

    #[test]
    fn urls_and_authorization() {
        let c = EdgeClient::new(&edge("https://edge.example/"), "t0k3n".to_owned());
        assert_eq!(c.url("snapshot"), "https://edge.example/relay/v1/snapshot");
        assert_eq!(c.authorization(), "Bearer t0k3n");
        let d = c.with_token("other".to_owned());
        assert_eq!(d.authorization(), "Bearer other");
        assert_eq!(
            d.url("actions/ack"),
            "https://edge.example/relay/v1/actions/ack"
        );
    }

    #[test]
    fn the_token_is_never_shown() {
        let c = EdgeClient::new(&edge("https://edge.example"), "t0k3n".to_owned());
        assert!(!format!("{c:?}").contains("t0k3n"));
        // An unreachable edge: the error names the URL, never the token.
        let c = EdgeClient::new(&edge("http://127.0.0.1:1"), "t0k3n".to_owned());
        let e = c.snapshot("").unwrap_err();
        assert!(
            e.starts_with("http://127.0.0.1:1/relay/v1/snapshot: "),
            "{e}"
        );
        assert!(!e.contains("t0k3n"));
        let e = c.report(&[]).unwrap_err();
        assert!(!e.contains("t0k3n"));
    }
}
