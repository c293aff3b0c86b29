//! What goes on the wire: the requests an op asks the shell to send, the replies fed back,
//! and the phone being registered; `Debug` and `Display` show them redacted.

use std::fmt;

use super::{push_secret_forms, scrub, Url};
use crate::mac::Mac;
use crate::secret::Secret;
use crate::vendors::yealink::rps::SerialNumber;

/// An HTTP request for the shell to send, built and signed by an op.
///
/// The fields are what goes on the wire. `Debug` prints the [`redacted`](Self::redacted)
/// view, so logging a request never logs a secret.
#[must_use]
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The absolute URL, query included.
    pub url: String,
    /// Headers in the order they were built.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    secrets: Vec<String>,
}

/// An [`HttpRequest`] with every secret replaced by `***`, for dry-runs and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactedRequest {
    /// The method.
    pub method: &'static str,
    /// The URL, secrets replaced.
    pub url: String,
    /// The headers, secrets (and Basic credentials) replaced.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), secrets replaced.
    pub body: String,
}

impl HttpRequest {
    pub(crate) fn new(method: &'static str, url: String) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: Vec::new(),
            secrets: Vec::new(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Registers the secrets to hide in the redacted view: each as is and in the encodings
    /// it may take in a URL, a form, JSON or XML.
    pub(crate) fn secrets(mut self, secrets: &[String]) -> Self {
        for s in secrets {
            push_secret_forms(&mut self.secrets, s);
        }
        self
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The request with every secret replaced by `***`: Basic credentials, keys, passwords
    /// and their hashes, access tokens, the phone's tokenized URL.
    pub fn redacted(&self) -> RedactedRequest {
        let scrub = |s: &str| scrub(s, &self.secrets);
        RedactedRequest {
            method: self.method,
            url: scrub(&self.url),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("authorization")
                        && v.len() > 6
                        && v.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("basic "))
                    {
                        "Basic ***".to_owned()
                    } else {
                        scrub(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
            body: scrub(&String::from_utf8_lossy(&self.body)),
        }
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.redacted(), f)
    }
}

impl fmt::Display for RedactedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        for (k, v) in &self.headers {
            writeln!(f, "{k}: {v}")?;
        }
        if !self.body.is_empty() {
            writeln!(f)?;
            f.write_str(&self.body)?;
        }
        Ok(())
    }
}

/// A reply the shell received for an [`HttpRequest`].
#[derive(Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// The HTTP status code.
    pub status: u16,
    /// The headers (names in any case).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl HttpReply {
    /// A reply with `status` and `body` and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The value of the first header named `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// `Retry-After` in seconds, when the header holds a number.
    pub(crate) fn retry_after(&self) -> Option<u64> {
        self.header_value("retry-after")
            .and_then(|v| v.trim().parse().ok())
    }
}

impl fmt::Debug for HttpReply {
    // A reply may carry an access token (Grandstream's token call): only its size is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpReply")
            .field("status", &self.status)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A phone to register: its MAC, the URL the vendor should send it to, and optionally its
/// serial number and the HTTP credentials the vendor stores for it.
#[derive(Debug, Clone)]
pub struct RpsPhone {
    /// The MAC address.
    pub mac: Mac,
    /// The provisioning URL (tokenized: a secret).
    pub url: Secret<String>,
    /// The serial number (Grandstream needs it to prove ownership).
    pub serial: Option<SerialNumber>,
    /// HTTP user name the vendor gives the phone with the URL (Yealink).
    pub auth_name: Option<String>,
    /// HTTP password the vendor gives the phone with the URL (Yealink).
    pub auth_password: Option<Secret<String>>,
    /// A free-text note stored with the registration (Yealink `remark`).
    pub remark: Option<String>,
    /// The vendor's server id from [`super::RpsAccount::ensure_server`] (Yealink `serverId`).
    pub server_id: Option<String>,
    /// A hint that this account registered the phone before (a re-registration): vendors
    /// whose "add" refuses a known MAC (Yealink, ALE) then look it up first, saving the
    /// refused add. Either way the result is the same.
    pub known: bool,
}

impl RpsPhone {
    /// A phone with its MAC and provisioning URL and nothing else.
    pub fn new(mac: Mac, url: impl Into<String>) -> Self {
        Self {
            mac,
            url: Secret::new(url.into()),
            serial: None,
            auth_name: None,
            auth_password: None,
            remark: None,
            server_id: None,
            known: false,
        }
    }

    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut v = url_secrets(self.url.expose());
        if let Some(p) = &self.auth_password {
            v.push(p.expose().clone());
        }
        v
    }
}

/// A tokenized URL as the secrets to hide: the URL, and its path and query on their own
/// (Fanvil sends the path apart from the host).
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut v = vec![url.to_owned()];
    if let Some(u) = Url::parse(url) {
        let tail = u.path_query.trim_start_matches('/');
        // Only a tail long enough to hold a token: a short path (`p/`, an ALE server's
        // `dm/`) would blank every occurrence of those letters in what is shown.
        if tail.len() >= 16 {
            v.push(tail.to_owned());
        }
    }
    v
}
