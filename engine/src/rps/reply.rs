//! Reading vendors' replies and keeping secrets out of what is kept of them: status
//! classification, JSON helpers, URL parsing, scrubbing.

use super::{Detail, HttpReply, RpsError};
use crate::secret::{ct_eq, Secret};

use crate::encoding::{base64, form_encode, percent_encode};

/// The longest vendor message kept in an error.
pub(crate) const MAX_DETAIL: usize = 200;

// ---- shared helpers ----

/// Classifies a reply's HTTP status before its body is read: `None` for 2xx.
pub(crate) fn status_error(
    vendor: &'static str,
    reply: &HttpReply,
    secrets: &[String],
) -> Option<RpsError> {
    let s = reply.status;
    if (200..300).contains(&s) {
        return None;
    }
    let mut d = Detail::new(vendor);
    d.status = Some(s);
    d.message = body_excerpt(&reply.body, secrets);
    Some(match s {
        401 | 403 => RpsError::BadCredentials(d),
        404 => RpsError::NotFound(d),
        429 => RpsError::RateLimited {
            detail: d,
            retry_after: reply.retry_after(),
        },
        500..=599 => RpsError::ServerError(d),
        _ => RpsError::UnexpectedReply(d),
    })
}

/// The first characters of a body, as text, for an error message (scrubbed).
pub(crate) fn body_excerpt(body: &[u8], secrets: &[String]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    if t.is_empty() {
        None
    } else {
        Some(sanitize(t, secrets))
    }
}

/// Makes a vendor message safe to keep: secrets replaced, control characters turned into
/// spaces, clipped to [`MAX_DETAIL`] characters.
pub(crate) fn sanitize(s: &str, secrets: &[String]) -> String {
    let mut forms = Vec::new();
    for x in secrets {
        push_secret_forms(&mut forms, x);
    }
    let scrubbed = hide_hex_runs(&scrub(s, &forms));
    let mut out: String = scrubbed
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DETAIL)
        .collect();
    if scrubbed.chars().count() > MAX_DETAIL {
        out.push('…');
    }
    out
}

pub(crate) fn push_secret_forms(out: &mut Vec<String>, s: &str) {
    if s.is_empty() {
        return;
    }
    for form in [
        s.to_owned(),
        percent_encode(s),
        form_encode(s),
        json_escape(s),
        crate::xml::escape(s),
    ] {
        if !out.contains(&form) {
            out.push(form);
        }
    }
}

pub(crate) fn scrub(s: &str, secrets: &[String]) -> String {
    // Longest first, so a secret that contains another is replaced whole.
    let mut sorted: Vec<&String> = secrets.iter().filter(|x| !x.is_empty()).collect();
    sorted.sort_by_key(|x| std::cmp::Reverse(x.len()));
    let mut out = s.to_owned();
    for x in sorted {
        if out.contains(x.as_str()) {
            out = out.replace(x.as_str(), "***");
        }
    }
    out
}

/// Hides every run of 32 or more hex digits: the shape of this system's URL tokens, which a
/// vendor's reply may carry for a phone the op was not told about (a lookup's list).
pub(crate) fn hide_hex_runs(s: &str) -> String {
    const RUN: usize = 32;
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i].is_ascii_hexdigit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
            if i - start >= RUN {
                out.push_str(&s[copied..start]);
                out.push_str("***");
                copied = i;
            }
        } else {
            i += 1;
        }
    }
    out.push_str(&s[copied..]);
    out
}

pub(crate) fn json_escape(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    q.get(1..q.len().saturating_sub(1))
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn basic_auth_header(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Compares a URL the vendor reports with the phone's, in constant time.
pub(crate) fn same_url(reported: &str, phone: &Secret<String>) -> bool {
    ct_eq(reported.trim().as_bytes(), phone.expose().as_bytes())
}

/// An absolute http(s) URL split into the parts the signers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    pub(crate) https: bool,
    /// Host as written (lower-cased).
    pub(crate) host: String,
    /// The explicit port, if any.
    pub(crate) port: Option<u16>,
    /// Path and query, starting with `/`.
    pub(crate) path_query: String,
}

impl Url {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (https, rest) = if let Some(r) = strip_prefix_ci(s, "https://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(s, "http://") {
            (false, r)
        } else {
            return None;
        };
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let tail = tail.split('#').next().unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, Some(p.parse::<u16>().ok()?))
            }
            _ => (authority, None),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'[' | b']' | b':'))
        {
            return None;
        }
        if tail
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b >= 0x80)
        {
            return None;
        }
        let path_query = if tail.starts_with('/') {
            tail.to_owned()
        } else {
            format!("/{tail}")
        };
        Some(Self {
            https,
            host: host.to_ascii_lowercase(),
            port,
            path_query,
        })
    }

    pub(crate) fn effective_port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// `scheme://host[:port]`.
    pub(crate) fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match self.port {
            Some(p) => format!("{scheme}://{}:{p}", self.host),
            None => format!("{scheme}://{}", self.host),
        }
    }

    /// `host[:port]` as written.
    pub(crate) fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    pub(crate) fn path(&self) -> &str {
        self.path_query
            .split('?')
            .next()
            .unwrap_or(&self.path_query)
    }
}

pub(crate) fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Joins a base URL and a path with exactly one `/` between them.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Parses a JSON body, or `None`.
pub(crate) fn json(body: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(body).ok()
}

pub(crate) fn to_json(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// A JSON scalar as text (strings as is, numbers written out).
pub(crate) fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The items of a list reply: the value itself if it is an array, else the first array
/// found under one of `keys`.
// unsure: list replies' envelope differs between vendors and is not documented publicly.
pub(crate) fn json_items<'a>(
    v: &'a serde_json::Value,
    keys: &[&str],
) -> Option<&'a Vec<serde_json::Value>> {
    if let Some(a) = v.as_array() {
        return Some(a);
    }
    keys.iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_array()))
}

/// Classifies a vendor's refusal by the words of its code and message (vendors document
/// few codes; these words are the ones their codes and messages are made of).
pub(crate) fn classify(
    vendor: &'static str,
    status: Option<u16>,
    code: Option<&str>,
    message: Option<&str>,
    reply: &HttpReply,
    secrets: &[String],
) -> RpsError {
    let d = Detail {
        vendor,
        status,
        code: code.map(|c| sanitize(c, secrets)),
        message: message.map(|m| sanitize(m, secrets)),
    };
    let t = lower(&format!("{} {}", code.unwrap_or(""), message.unwrap_or("")));
    let has = |w: &[&str]| w.iter().any(|x| t.contains(x));
    if has(&[
        "owned",
        "other_user",
        "other user",
        "another",
        "belong",
        "bound",
        "occupied",
        "taken",
    ]) {
        RpsError::OwnedByAnotherAccount(d)
    } else if status == Some(429)
        || has(&[
            "limit", "frequen", "too many", "too.many", "too_many", "throttl",
        ])
    {
        RpsError::RateLimited {
            detail: d,
            retry_after: reply.retry_after(),
        }
    } else if has(&[
        "sign",
        "accesskey",
        "access.key",
        "access_key",
        "auth",
        "credential",
        "password",
        "token",
        "forbidden",
        "permission",
        "expired",
    ]) || matches!(status, Some(401))
    {
        RpsError::BadCredentials(d)
    } else if t.contains("mac") && has(&["invalid", "format", "illegal", "malformed", "error"]) {
        RpsError::InvalidMac(d)
    } else if t.contains("url") && has(&["invalid", "format", "illegal", "malformed", "error"]) {
        RpsError::InvalidUrl(d)
    } else if has(&[
        "not.found",
        "not found",
        "not_found",
        "notfound",
        "not_exist",
        "not exist",
        "not.exist",
        "notexist",
    ]) {
        RpsError::NotFound(d)
    } else if status.is_some_and(|s| s >= 500) {
        RpsError::ServerError(d)
    } else if status == Some(404) {
        RpsError::NotFound(d)
    } else {
        RpsError::UnexpectedReply(d)
    }
}

/// Lower-cased, for word matching of vendor messages.
pub(crate) fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

pub(crate) fn unexpected(
    vendor: &'static str,
    reply: &HttpReply,
    why: &str,
    secrets: &[String],
) -> RpsError {
    let mut d = Detail::new(vendor);
    d.status = Some(reply.status);
    d.message = Some(match body_excerpt(&reply.body, secrets) {
        Some(b) => sanitize(&format!("{why}: {b}"), secrets),
        None => why.to_owned(),
    });
    RpsError::UnexpectedReply(d)
}
