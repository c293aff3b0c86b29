//! What a vendor's RPS account is to the rest of the engine: the [`Client`] trait each
//! vendor's home implements (`vendors/<vendor>/account.rs`), and the reader of one INI
//! section ([`IniSection`]) with the checks every vendor's keys share.

use super::{Machine, Notice, RpsAccount, RpsError, RpsPhone, ServerSpec, Session, Url};
use crate::error::{Error, ErrorKind};
use crate::mac::Mac;
use crate::vendors::Vendor;

/// A machine to run, or why none can start.
pub(crate) type Started = Result<Box<dyn Machine>, RpsError>;

/// One vendor's RPS account: the calls [`RpsAccount`] makes, answered in the vendor's home.
pub(crate) trait Client {
    /// The vendor.
    fn vendor(&self) -> Vendor;

    /// The account's keys in canonical form, as [`RpsAccount::to_ini`] writes them.
    fn ini_keys(&self) -> Vec<(&'static str, String)>;

    /// Makes sure the server, group or site phones point at exists.
    fn ensure_server(&self, spec: &ServerSpec) -> Started;

    /// Registers the phone, or updates its registration.
    fn register(&self, phone: &RpsPhone) -> Started;

    /// Removes the phone's registration.
    fn remove(&self, mac: Mac) -> Started;

    /// Reads the phone's registration.
    fn status(&self, phone: &RpsPhone) -> Started;

    /// Whether [`Client::register`] needs the server's id first.
    fn needs_server(&self) -> bool {
        false
    }

    /// Where the vendor is to send the account's phones, given our own URL.
    fn target_url<'a>(&'a self, own: &'a str) -> Result<&'a str, RpsError> {
        Ok(own)
    }

    /// Keeps an earlier op's session for the next ops (only GDMS keeps one).
    fn resume(&mut self, _session: Session) {}

    /// `false` when the vendor's API is unverified or absent: the console labels it.
    fn is_verified(&self) -> bool {
        true
    }

    /// The keys the account still needs before any phone can be registered under it (a
    /// section pasted as PortSIP writes it may lack ours); empty when it is complete.
    fn missing_before_use(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// How a vendor's PortSIP `system.ini` section reads: its keys and its parser.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IniSpec {
    /// Keys that must be given when the section is used.
    pub(crate) required: &'static [&'static str],
    /// Keys that may be given.
    pub(crate) optional: &'static [&'static str],
    /// Builds the account from a section holding only known keys.
    pub(crate) parse: fn(&IniSection, &mut Vec<Notice>) -> Result<RpsAccount, Error>,
}

/// One section of the pasted INI: its name, line, and the known keys it gave.
#[derive(Debug)]
pub(crate) struct IniSection {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) keys: Vec<(String, String, usize)>,
}

impl IniSection {
    /// The last non-empty value given for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The value of `key`, or an error naming it.
    pub(crate) fn require(&self, key: &str) -> Result<String, Error> {
        self.get(key)
            .map(str::to_owned)
            .ok_or_else(|| self.missing(key))
    }

    /// The error for a missing `key`: the section, the key and the line, no value.
    pub(crate) fn missing(&self, key: &str) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!("[{}] is missing `{key}`", self.name),
        )
        .at(self.line, None)
        .with_name(key.to_owned())
    }

    /// The error for a bad value of `key`, at its line, without the value.
    pub(crate) fn bad(&self, key: &str, why: &str) -> Error {
        let line = self
            .keys
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map_or(self.line, |(_, _, l)| *l);
        Error::new(
            ErrorKind::InvalidInput,
            format!("[{}] `{key}`: {why}", self.name),
        )
        .at(line, None)
        .with_name(key.to_owned())
    }

    /// Adds a notice about the section.
    pub(crate) fn note(&self, notices: &mut Vec<Notice>, message: impl Into<String>) {
        notices.push(Notice {
            section: Some(self.name.clone()),
            line: Some(self.line),
            message: message.into(),
        });
    }

    /// The API base from `base_url` (a full URL) or `rps_host` (a host, `host:port` or
    /// URL; a bare host gets `default_port`).
    pub(crate) fn base(&self, default_port: u16) -> Result<Option<String>, Error> {
        if let Some(b) = self.get("base_url") {
            return self.url("base_url", b).map(Some);
        }
        let Some(h) = self.get("rps_host") else {
            return Ok(None);
        };
        if h.contains("://") {
            return self.url("rps_host", h).map(Some);
        }
        let candidate = if h.contains(':') {
            format!("https://{h}")
        } else {
            format!("https://{h}:{default_port}")
        };
        self.url("rps_host", &candidate).map(Some)
    }

    /// The URL under `key`, or `default` when the section gives none.
    pub(crate) fn url_or(&self, key: &str, default: &str) -> Result<String, Error> {
        match self.get(key) {
            Some(v) => self.url(key, v),
            None => Ok(default.to_owned()),
        }
    }

    /// An http(s) host or URL without a query, normalised (host lower-cased, one trailing
    /// `/` kept when given).
    fn url(&self, key: &str, value: &str) -> Result<String, Error> {
        match Url::parse(value) {
            Some(u) if !u.path_query.contains('?') => {
                Ok(
                    format!("{}{}", u.origin(), u.path_query.trim_end_matches('/'))
                        + if value.ends_with('/') { "/" } else { "" },
                )
            }
            _ => Err(self.bad(key, "not an http(s) host or URL")),
        }
    }
}

/// `true` when `s` is exactly `len` hex digits (a password given already hashed).
pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}
