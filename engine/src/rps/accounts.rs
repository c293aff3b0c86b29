//! Private RPS accounts as PortSIP writes them in `system.ini`: one section per vendor.
//!
//! An administrator pastes their `system.ini` (or part of it) unchanged. Sections and keys
//! that are not about RPS are ignored with a [`Notice`]; a vendor section whose keys are all
//! empty (PortSIP writes every section, filled or not) is skipped with a notice; a section
//! with some keys but not all is an error naming the missing key. Values are never quoted
//! in an error or a notice.
//!
//! | section | keys (PortSIP's) | ours, optional |
//! |---|---|---|
//! | `[yealink]` | `accesskey_id`, `accesskey_secret`, `rps_host` (optional) | `base_url` |
//! | `[ale]` | `accesskey_id`, `accesskey_secret` | `rps_host` (required before use), `base_url`, `provisioning_url` (required before use) |
//! | `[grandstream]` | `username`, `password`, `api_id`, `api_secret`, `site_id` | `org_id`, `base_url` |
//! | `[fanvil]` | `username`, `password` | `base_url` (the XML-RPC URL) |
//! | `[htek]` | `username`, `password` | |
//! | `[snom]` | `username`, `password` | `accesskey_id`, `accesskey_secret` (REST), `base_url`, `xmlrpc_url` |
//!
//! Passwords: Grandstream's API takes the lower-hex SHA-256 of the lower-hex MD5 of the
//! password, Fanvil's the lower-hex MD5 of the lower-hex MD5. Either the plain password or
//! that final hash is accepted; a value that is exactly the hash's shape (64 or 32 hex
//! digits) is taken as already hashed, and a notice says which form was detected.

use std::fmt;

use super::Url;
use crate::encoding::{md5_hex, sha256_hex};
use crate::error::{Error, ErrorKind};
use crate::secret::Secret;
use crate::vendors::yealink::rps as yealink;

/// One vendor's RPS account.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RpsAccount {
    /// Yealink's signed JSON API.
    Yealink(YealinkAccount),
    /// Alcatel-Lucent Enterprise: the Yealink scheme on ALE's host (unverified).
    Ale(AleAccount),
    /// Grandstream GDMS.
    Grandstream(GdmsAccount),
    /// Fanvil FDPS (XML-RPC).
    Fanvil(FanvilAccount),
    /// Htek: kept for PortSIP compatibility; registration is manual.
    Htek(HtekAccount),
    /// Snom SRAPS (REST with an access key, else the legacy XML-RPC API).
    Snom(SnomAccount),
}

impl RpsAccount {
    /// The vendor's lowercase name (`yealink`, `ale`, `grandstream`, `fanvil`, `htek`,
    /// `snom`).
    pub fn vendor(&self) -> &'static str {
        match self {
            Self::Yealink(_) => "yealink",
            Self::Ale(_) => "ale",
            Self::Grandstream(_) => "grandstream",
            Self::Fanvil(_) => "fanvil",
            Self::Htek(_) => "htek",
            Self::Snom(_) => "snom",
        }
    }

    /// `false` for the vendors whose API is unverified (ALE) or absent (Htek): the console
    /// labels them.
    pub fn is_verified(&self) -> bool {
        !matches!(self, Self::Ale(_) | Self::Htek(_))
    }
}

impl RpsAccount {
    /// The account as one INI section in canonical form, which [`parse_accounts`] reads back
    /// to the same account (passwords in the vendor's hashed form, so a stored copy never
    /// holds a plain password the vendor does not need). For encrypted storage: a secret.
    pub fn to_ini(&self) -> Secret<String> {
        let mut keys: Vec<(&str, String)> = Vec::new();
        match self {
            Self::Yealink(a) => {
                keys.push(("accesskey_id", a.access_key_id.clone()));
                keys.push(("accesskey_secret", a.access_key_secret.expose().clone()));
                keys.push(("base_url", a.base_url.clone()));
            }
            Self::Ale(a) => {
                keys.push(("accesskey_id", a.access_key_id.clone()));
                keys.push(("accesskey_secret", a.access_key_secret.expose().clone()));
                if let Some(b) = &a.base_url {
                    keys.push(("base_url", b.clone()));
                }
                if let Some(u) = &a.provisioning_url {
                    keys.push(("provisioning_url", u.clone()));
                }
            }
            Self::Grandstream(a) => {
                keys.push(("username", a.username.clone()));
                keys.push(("password", a.password_hash.expose().clone()));
                keys.push(("api_id", a.client_id.clone()));
                keys.push(("api_secret", a.client_secret.expose().clone()));
                keys.push(("site_id", a.site_id.clone()));
                if let Some(o) = &a.org_id {
                    keys.push(("org_id", o.clone()));
                }
                keys.push(("base_url", a.base_url.clone()));
            }
            Self::Fanvil(a) => {
                keys.push(("username", a.username.clone()));
                keys.push(("password", a.password_hash.expose().clone()));
                keys.push(("base_url", a.url.clone()));
            }
            Self::Htek(a) => {
                keys.push(("username", a.username.clone()));
                keys.push(("password", a.password.expose().clone()));
            }
            Self::Snom(a) => {
                if let (Some(u), Some(p)) = (&a.username, &a.password) {
                    keys.push(("username", u.clone()));
                    keys.push(("password", p.expose().clone()));
                }
                if let (Some(i), Some(s)) = (&a.access_key_id, &a.access_key_secret) {
                    keys.push(("accesskey_id", i.clone()));
                    keys.push(("accesskey_secret", s.expose().clone()));
                }
                keys.push(("base_url", a.rest_base.clone()));
                keys.push(("xmlrpc_url", a.xmlrpc_url.clone()));
            }
        }
        let mut out = format!("[{}]\n", self.vendor());
        for (k, v) in keys {
            out.push_str(k);
            // Always quoted: the parser strips one pair, so a value that itself starts and
            // ends with a quote survives the round trip.
            out.push_str(" = \"");
            out.push_str(&v);
            out.push_str("\"\n");
        }
        Secret::new(out)
    }
}

/// A Yealink RPS account.
#[derive(Debug, Clone)]
pub struct YealinkAccount {
    /// Access key id (`accesskey_id`).
    pub access_key_id: String,
    /// Access key secret (`accesskey_secret`).
    pub access_key_secret: Secret<String>,
    /// API base, `https://api-dm.yealink.com:8443` unless `rps_host` or `base_url` says.
    pub base_url: String,
}

impl YealinkAccount {
    /// An account on the default host.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            access_key_secret: Secret::new(access_key_secret.into()),
            base_url: yealink::DEFAULT_BASE.into(),
        }
    }

    pub(crate) fn api(&self) -> yealink::Api {
        yealink::Api {
            vendor: "yealink",
            key_id: self.access_key_id.clone(),
            secret: self.access_key_secret.clone(),
            base: self.base_url.clone(),
        }
    }
}

/// An Alcatel-Lucent Enterprise RPS account: Yealink's key names, on a host the account
/// must name (there is no default). Unverified: no public API document exists.
#[derive(Debug, Clone)]
pub struct AleAccount {
    /// Access key id (`accesskey_id`).
    pub access_key_id: String,
    /// Access key secret (`accesskey_secret`).
    pub access_key_secret: Secret<String>,
    /// API base from `rps_host` or `base_url`; required before any call.
    pub base_url: Option<String>,
    /// Where ALE phones are sent (`provisioning_url`, ours): this system does not configure
    /// ALE phones, so they are redirected to the provisioning server that does (typically
    /// the customer's ALE communication server). Required before registering a phone.
    pub provisioning_url: Option<String>,
}

/// A Grandstream GDMS account.
#[derive(Debug, Clone)]
pub struct GdmsAccount {
    /// Login name (`username`).
    pub username: String,
    /// The password in the form the API takes: lower-hex SHA-256 of lower-hex MD5.
    pub password_hash: Secret<String>,
    /// Which form the INI held.
    pub password_form: PasswordForm,
    /// OAuth client id (`api_id`).
    pub client_id: String,
    /// OAuth client secret (`api_secret`).
    pub client_secret: Secret<String>,
    /// The GDMS site phones join (`site_id`).
    pub site_id: String,
    /// The organisation; looked up (the one holding `site_id`) when absent.
    pub org_id: Option<String>,
    /// API base, `https://www.gdms.cloud/oapi` (EU: `https://eu.gdms.cloud/oapi`).
    pub base_url: String,
    /// Send the MAC as `AA:BB:CC:DD:EE:FF` instead of `AABBCCDDEEFF`.
    // unsure: GDMS's MAC spelling; upper-case hex without separators is the default.
    pub mac_colons: bool,
    /// A token and organisation from an earlier op ([`RpsAccount::resume`]); not part of
    /// the account's INI.
    pub session: Option<super::Session>,
}

/// A Fanvil FDPS account.
#[derive(Debug, Clone)]
pub struct FanvilAccount {
    /// Account name (`username`).
    pub username: String,
    /// The password in the form the API takes: lower-hex MD5 of lower-hex MD5.
    pub password_hash: Secret<String>,
    /// Which form the INI held.
    pub password_form: PasswordForm,
    /// The XML-RPC URL, `https://fdps.fanvil.com/xmlrpc.php`.
    pub url: String,
}

/// An Htek account (no API uses it: Htek registration is manual in Htek's portal).
#[derive(Debug, Clone)]
pub struct HtekAccount {
    /// Portal user name.
    pub username: String,
    /// Portal password.
    pub password: Secret<String>,
}

/// Which Snom API an account uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnomApi {
    /// The REST API, signed with Hawk (an access key is configured).
    Rest,
    /// The legacy XML-RPC API with HTTP Basic auth (PortSIP's username and password).
    XmlRpc,
}

/// A Snom SRAPS account.
#[derive(Debug, Clone)]
pub struct SnomAccount {
    /// Legacy API user name (`username`).
    pub username: Option<String>,
    /// Legacy API password (`password`).
    pub password: Option<Secret<String>>,
    /// REST access key id (`accesskey_id`).
    pub access_key_id: Option<String>,
    /// REST access key secret (`accesskey_secret`).
    pub access_key_secret: Option<Secret<String>>,
    /// REST base, `https://api.sraps.snom.com/api/v1/`.
    pub rest_base: String,
    /// Legacy XML-RPC URL, `https://secure-provisioning.snom.com:8083/xmlrpc/`.
    pub xmlrpc_url: String,
}

impl SnomAccount {
    /// REST when an access key is configured, else the legacy XML-RPC API.
    pub fn api(&self) -> SnomApi {
        if self.access_key_id.is_some() && self.access_key_secret.is_some() {
            SnomApi::Rest
        } else {
            SnomApi::XmlRpc
        }
    }
}

/// Defaults from the vendors' documents.
pub(crate) const GDMS_BASE: &str = "https://www.gdms.cloud/oapi";
pub(crate) const FDPS_URL: &str = "https://fdps.fanvil.com/xmlrpc.php";
pub(crate) const SRAPS_BASE: &str = "https://api.sraps.snom.com/api/v1/";
pub(crate) const SNOM_XMLRPC: &str = "https://secure-provisioning.snom.com:8083/xmlrpc/";

/// How a password was given in the INI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordForm {
    /// The plain password; the engine hashed it as the vendor requires.
    Plain,
    /// Already the vendor's hash; used as is.
    Hashed,
}

/// Something the parser ignored or decided, for the console to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The section it is about (lowercase, without brackets), if any.
    pub section: Option<String>,
    /// The 1-based line, if it is about one line.
    pub line: Option<usize>,
    /// What happened (never a value).
    pub message: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
        if let Some(s) = &self.section {
            write!(f, "[{s}] ")?;
        }
        f.write_str(&self.message)
    }
}

struct Section {
    name: String,
    line: usize,
    keys: Vec<(String, String, usize)>,
}

impl Section {
    fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, key: &str) -> Result<String, Error> {
        self.get(key)
            .map(str::to_owned)
            .ok_or_else(|| self.missing(key))
    }

    fn missing(&self, key: &str) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!("[{}] is missing `{key}`", self.name),
        )
        .at(self.line, None)
        .with_name(key.to_owned())
    }

    fn bad(&self, key: &str, why: &str) -> Error {
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
}

/// The keys each section knows: required (when the section is used), then optional.
const SECTIONS: &[(&str, &[&str], &[&str])] = &[
    (
        "yealink",
        &["accesskey_id", "accesskey_secret"],
        &["rps_host", "base_url"],
    ),
    (
        "ale",
        &["accesskey_id", "accesskey_secret"],
        &["rps_host", "base_url", "provisioning_url"],
    ),
    (
        "grandstream",
        &["username", "password", "api_id", "api_secret", "site_id"],
        &["org_id", "base_url"],
    ),
    ("fanvil", &["username", "password"], &["base_url"]),
    ("htek", &["username", "password"], &[]),
    (
        "snom",
        &[],
        &[
            "username",
            "password",
            "accesskey_id",
            "accesskey_secret",
            "base_url",
            "xmlrpc_url",
        ],
    ),
];

/// Parses PortSIP-style INI text into accounts (in the order of their sections) and the
/// notices about what was ignored or detected.
///
/// Errors name the section, the key and the line, never a value.
pub fn parse_accounts(text: &str) -> Result<(Vec<RpsAccount>, Vec<Notice>), Error> {
    let mut notices = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    let mut current: Option<usize> = None;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[') {
            let Some(name) = inner.strip_suffix(']') else {
                notices.push(Notice {
                    section: None,
                    line: Some(n),
                    message: "a '[' line without a closing ']' is ignored".into(),
                });
                current = None;
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            let known = SECTIONS.iter().any(|(s, _, _)| *s == name);
            if !known {
                notices.push(Notice {
                    section: Some(clip_name(&name)),
                    line: Some(n),
                    message: "ignored: not an RPS section".into(),
                });
                current = None;
                continue;
            }
            if let Some(prev) = sections.iter().find(|s| s.name == name) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("[{name}] appears twice (lines {} and {n})", prev.line),
                )
                .at(n, None));
            }
            sections.push(Section {
                name,
                line: n,
                keys: Vec::new(),
            });
            current = Some(sections.len() - 1);
            continue;
        }
        let Some(idx) = current else {
            // Lines of ignored sections, or before any section.
            continue;
        };
        let Some(sec) = sections.get_mut(idx) else {
            continue;
        };
        let Some((k, v)) = line.split_once('=') else {
            notices.push(Notice {
                section: Some(sec.name.clone()),
                line: Some(n),
                message: "ignored: not a `key = value` line".into(),
            });
            continue;
        };
        let key = k.trim().to_ascii_lowercase();
        let value = unquote(v.trim());
        let (required, optional) = SECTIONS
            .iter()
            .find(|(s, _, _)| *s == sec.name)
            .map_or((&[][..], &[][..]), |(_, r, o)| (*r, *o));
        if !required.contains(&key.as_str()) && !optional.contains(&key.as_str()) {
            notices.push(Notice {
                section: Some(sec.name.clone()),
                line: Some(n),
                message: format!("key `{}` ignored: not an RPS setting", clip_name(&key)),
            });
            continue;
        }
        if value.chars().any(char::is_control) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("[{}] `{key}` contains a control character", sec.name),
            )
            .at(n, None)
            .with_name(key));
        }
        sec.keys.push((key, value.to_owned(), n));
    }

    let mut accounts = Vec::new();
    for sec in &sections {
        if sec.keys.iter().all(|(_, v, _)| v.is_empty()) {
            notices.push(Notice {
                section: Some(sec.name.clone()),
                line: Some(sec.line),
                message: "empty: no account configured".into(),
            });
            continue;
        }
        accounts.push(build(sec, &mut notices)?);
    }
    Ok((accounts, notices))
}

fn build(sec: &Section, notices: &mut Vec<Notice>) -> Result<RpsAccount, Error> {
    let note = |notices: &mut Vec<Notice>, message: String| {
        notices.push(Notice {
            section: Some(sec.name.clone()),
            line: Some(sec.line),
            message,
        });
    };
    Ok(match sec.name.as_str() {
        "yealink" => {
            let id = sec.require("accesskey_id")?;
            let secret = sec.require("accesskey_secret")?;
            let base_url = base_from(sec)?.unwrap_or_else(|| yealink::DEFAULT_BASE.to_owned());
            RpsAccount::Yealink(YealinkAccount {
                access_key_id: id,
                access_key_secret: Secret::new(secret),
                base_url,
            })
        }
        "ale" => {
            let id = sec.require("accesskey_id")?;
            let secret = sec.require("accesskey_secret")?;
            let base_url = base_from(sec)?;
            if base_url.is_none() {
                note(
                    notices,
                    "no `rps_host`: ALE's API host has no default; set it before registering phones (ALE support is unverified)".into(),
                );
            }
            let provisioning_url = match sec.get("provisioning_url") {
                Some(u) => Some(provisioning_url(sec, u)?),
                None => {
                    note(
                        notices,
                        "no `provisioning_url`: ALE phones are not configured by this system; name the provisioning server they should be sent to (for example your ALE communication server) before registering them".into(),
                    );
                    None
                }
            };
            RpsAccount::Ale(AleAccount {
                access_key_id: id,
                access_key_secret: Secret::new(secret),
                base_url,
                provisioning_url,
            })
        }
        "grandstream" => {
            let username = sec.require("username")?;
            let password = sec.require("password")?;
            let client_id = sec.require("api_id")?;
            let client_secret = sec.require("api_secret")?;
            let site_id = sec.require("site_id")?;
            let (hash, form) = gdms_password(&password);
            note(
                notices,
                match form {
                    PasswordForm::Plain => {
                        "password: plain text detected; hashed as GDMS requires (SHA-256 of MD5)"
                            .into()
                    }
                    PasswordForm::Hashed => {
                        "password: already hashed (64 hex digits, SHA-256 of MD5); used as is"
                            .into()
                    }
                },
            );
            let base_url = match sec.get("base_url") {
                Some(b) => checked_base(sec, "base_url", b)?,
                None => GDMS_BASE.to_owned(),
            };
            RpsAccount::Grandstream(GdmsAccount {
                username,
                password_hash: Secret::new(hash),
                password_form: form,
                client_id,
                client_secret: Secret::new(client_secret),
                site_id,
                org_id: sec.get("org_id").map(str::to_owned),
                base_url,
                mac_colons: false,
                session: None,
            })
        }
        "fanvil" => {
            let username = sec.require("username")?;
            let password = sec.require("password")?;
            let (hash, form) = fanvil_password(&password);
            note(
                notices,
                match form {
                    PasswordForm::Plain => {
                        "password: plain text detected; hashed as Fanvil requires (MD5 of MD5)"
                            .into()
                    }
                    PasswordForm::Hashed => {
                        "password: already hashed (32 hex digits, MD5 of MD5); used as is".into()
                    }
                },
            );
            let url = match sec.get("base_url") {
                Some(b) => checked_base(sec, "base_url", b)?,
                None => FDPS_URL.to_owned(),
            };
            RpsAccount::Fanvil(FanvilAccount {
                username,
                password_hash: Secret::new(hash),
                password_form: form,
                url,
            })
        }
        "htek" => {
            let username = sec.require("username")?;
            let password = sec.require("password")?;
            note(
                notices,
                "Htek has no public registration API: phones are registered by hand in Htek's portal (per-phone URL or CSV export)".into(),
            );
            RpsAccount::Htek(HtekAccount {
                username,
                password: Secret::new(password),
            })
        }
        "snom" => {
            let username = sec.get("username").map(str::to_owned);
            let password = sec.get("password").map(|p| Secret::new(p.to_owned()));
            let key_id = sec.get("accesskey_id").map(str::to_owned);
            let key_secret = sec
                .get("accesskey_secret")
                .map(|p| Secret::new(p.to_owned()));
            // A half-given pair is a mistake, whichever API the other pair selects.
            match (&key_id, &key_secret) {
                (Some(_), None) => return Err(sec.missing("accesskey_secret")),
                (None, Some(_)) => return Err(sec.missing("accesskey_id")),
                _ => {}
            }
            match (&username, &password) {
                (Some(_), None) => return Err(sec.missing("password")),
                (None, Some(_)) => return Err(sec.missing("username")),
                (None, None) if key_id.is_none() => return Err(sec.missing("username")),
                _ => {}
            }
            let rest_base = match sec.get("base_url") {
                Some(b) => checked_base(sec, "base_url", b)?,
                None => SRAPS_BASE.to_owned(),
            };
            let xmlrpc_url = match sec.get("xmlrpc_url") {
                Some(b) => checked_base(sec, "xmlrpc_url", b)?,
                None => SNOM_XMLRPC.to_owned(),
            };
            let a = SnomAccount {
                username,
                password,
                access_key_id: key_id,
                access_key_secret: key_secret,
                rest_base,
                xmlrpc_url,
            };
            note(
                notices,
                match a.api() {
                    SnomApi::Rest => "access key present: the REST API (Hawk) is used".into(),
                    SnomApi::XmlRpc => {
                        "no access key: the legacy XML-RPC API (username and password) is used"
                            .into()
                    }
                },
            );
            RpsAccount::Snom(a)
        }
        _ => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("[{}] is not an RPS section", sec.name),
            ))
        }
    })
}

/// The API base from `base_url` (a full URL) or `rps_host` (a host, `host:port` or URL).
fn base_from(sec: &Section) -> Result<Option<String>, Error> {
    if let Some(b) = sec.get("base_url") {
        return checked_base(sec, "base_url", b).map(Some);
    }
    let Some(h) = sec.get("rps_host") else {
        return Ok(None);
    };
    if h.contains("://") {
        return checked_base(sec, "rps_host", h).map(Some);
    }
    let candidate = if h.contains(':') {
        format!("https://{h}")
    } else {
        format!("https://{h}:{}", yealink::DEFAULT_PORT)
    };
    checked_base(sec, "rps_host", &candidate).map(Some)
}

fn checked_base(sec: &Section, key: &str, value: &str) -> Result<String, Error> {
    match Url::parse(value) {
        Some(u) if !u.path_query.contains('?') => {
            Ok(
                format!("{}{}", u.origin(), u.path_query.trim_end_matches('/'))
                    + if value.ends_with('/') { "/" } else { "" },
            )
        }
        _ => Err(sec.bad(key, "not an http(s) host or URL")),
    }
}

/// A URL phones are sent to: http(s), a host, no credentials in it; kept as written.
fn provisioning_url(sec: &Section, value: &str) -> Result<String, Error> {
    let value = value.trim();
    // RFC 3986's characters, without a fragment (a phone would not send it).
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?[]@!$&'()*+,;=%".contains(&b));
    match Url::parse(value) {
        Some(_) if value.len() <= 512 && plain => Ok(value.to_owned()),
        _ => Err(sec.bad(
            "provisioning_url",
            "not an http(s) URL (at most 512 characters, no fragment, no user name or password in it)",
        )),
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// GDMS's password form: `sha256hex(md5hex(password))`, or the value itself when it is
/// already 64 hex digits.
pub(crate) fn gdms_password(password: &str) -> (String, PasswordForm) {
    if is_hex(password, 64) {
        (password.to_ascii_lowercase(), PasswordForm::Hashed)
    } else {
        let md5 = md5_hex(password.as_bytes());
        (sha256_hex(md5.as_bytes()), PasswordForm::Plain)
    }
}

/// Fanvil's password form: `md5hex(md5hex(password))`, or the value itself when it is
/// already 32 hex digits.
pub(crate) fn fanvil_password(password: &str) -> (String, PasswordForm) {
    if is_hex(password, 32) {
        (password.to_ascii_lowercase(), PasswordForm::Hashed)
    } else {
        let md5 = md5_hex(password.as_bytes());
        (md5_hex(md5.as_bytes()), PasswordForm::Plain)
    }
}

fn unquote(v: &str) -> &str {
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        v.get(1..v.len() - 1).unwrap_or(v)
    } else {
        v
    }
}

/// A section or key name as it may be shown: at most 40 printable characters.
fn clip_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A PortSIP-style system.ini: unrelated sections and keys around the RPS ones, every
    /// vendor section present, some empty.
    const SYSTEM_INI: &str = "\u{feff}; PortSIP PBX system settings
[general]
http_port = 8899
db_password = do-not-read-me

[yealink]
accesskey_id = ak-yl-1
accesskey_secret = sk-yl-secret
rps_host =
log_level = 3

[ale]
accesskey_id =
accesskey_secret =

[grandstream]
username = gs-admin
password = gs-plain-pass
api_id = 12345
api_secret = gs-api-secret
site_id = 678

[fanvil]
username = fv-user
password = \"0123456789abcdef0123456789ABCDEF\"

[htek]
username = ht-user
password = ht-pass

[snom]
username = snom-user
password = snom-pass

[mail]
smtp_password = another-secret
";

    #[test]
    fn portsip_ini_parses_with_notices() {
        let (accounts, notices) = parse_accounts(SYSTEM_INI).unwrap();
        let vendors: Vec<_> = accounts.iter().map(RpsAccount::vendor).collect();
        assert_eq!(
            vendors,
            ["yealink", "grandstream", "fanvil", "htek", "snom"]
        );
        let text: Vec<String> = notices.iter().map(ToString::to_string).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        assert!(
            has("line 2: [general] ignored: not an RPS section"),
            "{text:#?}"
        );
        assert!(has("[mail] ignored"), "{text:#?}");
        assert!(has("[yealink] key `log_level` ignored"), "{text:#?}");
        assert!(has("[ale] empty: no account configured"), "{text:#?}");
        assert!(
            has("[grandstream] password: plain text detected"),
            "{text:#?}"
        );
        assert!(has("[fanvil] password: already hashed"), "{text:#?}");
        assert!(
            has("[htek] Htek has no public registration API"),
            "{text:#?}"
        );
        assert!(
            has("[snom] no access key: the legacy XML-RPC API"),
            "{text:#?}"
        );
        // Nothing from the unrelated sections reaches a notice.
        assert!(!format!("{notices:?}").contains("do-not-read-me"));

        let RpsAccount::Yealink(y) = &accounts[0] else {
            panic!()
        };
        assert_eq!(y.base_url, "https://api-dm.yealink.com:8443");
        assert_eq!(y.access_key_secret.expose(), "sk-yl-secret");
        let RpsAccount::Grandstream(g) = &accounts[1] else {
            panic!()
        };
        assert_eq!(g.password_form, PasswordForm::Plain);
        // python3 -c "import hashlib;print(hashlib.sha256(hashlib.md5(b'gs-plain-pass').hexdigest().encode()).hexdigest())"
        assert_eq!(
            g.password_hash.expose(),
            "96a8d596a3b7bdb03186bdc1be5216ccfaac8d1ccd0b428b24ff585a33b5dc86"
        );
        assert_eq!((g.client_id.as_str(), g.site_id.as_str()), ("12345", "678"));
        let RpsAccount::Fanvil(f) = &accounts[2] else {
            panic!()
        };
        assert_eq!(f.password_form, PasswordForm::Hashed);
        assert_eq!(f.password_hash.expose(), "0123456789abcdef0123456789abcdef");
        let RpsAccount::Snom(s) = &accounts[4] else {
            panic!()
        };
        assert_eq!(s.api(), SnomApi::XmlRpc);
    }

    #[test]
    fn to_ini_round_trips_every_account() {
        let extra =
            "[ale]\naccesskey_id = a\naccesskey_secret = \"'q'\"\nrps_host = ale.example:9443\n\
                     provisioning_url = https://oxo.example/dm?site=1\n\
                     [snom]\naccesskey_id = k\naccesskey_secret = s\n";
        let mut all = parse_accounts(SYSTEM_INI).unwrap().0;
        all.extend(parse_accounts(extra).unwrap().0);
        assert_eq!(all.len(), 7);
        for a in &all {
            let ini = a.to_ini();
            let (back, _) = parse_accounts(ini.expose()).unwrap();
            assert_eq!(back.len(), 1, "{}", a.vendor());
            // Debug hides secrets, so compare the canonical forms, then the secrets.
            assert_eq!(back[0].to_ini().expose(), ini.expose(), "{}", a.vendor());
            // ... and everything else (a plain password comes back as its hash).
            let plain_to_hashed =
                |d: String| d.replace("password_form: Plain", "password_form: Hashed");
            assert_eq!(
                plain_to_hashed(format!("{:?}", back[0])),
                plain_to_hashed(format!("{a:?}"))
            );
        }
        // Hashed forms are what is stored: the plain Grandstream password is not.
        let gs = all[1].to_ini();
        assert!(!gs.expose().contains("gs-plain-pass"));
        assert!(gs
            .expose()
            .contains("96a8d596a3b7bdb03186bdc1be5216ccfaac8d1ccd0b428b24ff585a33b5dc86"));
        // A quoted secret keeps its quotes.
        let RpsAccount::Ale(ale) = &parse_accounts(all[5].to_ini().expose()).unwrap().0[0] else {
            panic!()
        };
        assert_eq!(ale.access_key_secret.expose(), "'q'");
        assert_eq!(ale.base_url.as_deref(), Some("https://ale.example:9443"));
        assert_eq!(
            ale.provisioning_url.as_deref(),
            Some("https://oxo.example/dm?site=1")
        );
    }

    #[test]
    fn no_secret_in_debug() {
        let (accounts, notices) = parse_accounts(SYSTEM_INI).unwrap();
        let all = format!("{accounts:?} {notices:?}");
        for s in [
            "sk-yl-secret",
            "gs-plain-pass",
            "gs-api-secret",
            "0123456789abcdef",
            "ht-pass",
            "snom-pass",
            "another-secret",
        ] {
            assert!(!all.contains(s), "{s} leaked");
        }
    }

    #[test]
    fn hashing_rules() {
        // python3 -c "import hashlib;print(hashlib.md5(hashlib.md5(b'fv-plain').hexdigest().encode()).hexdigest())"
        assert_eq!(
            fanvil_password("fv-plain"),
            (
                "5fb1026327a52f5ce5b4d80c0b924713".into(),
                PasswordForm::Plain
            )
        );
        let h = "A".repeat(64);
        assert_eq!(gdms_password(&h), ("a".repeat(64), PasswordForm::Hashed));
        // 32 hex digits are a plain password for GDMS (its hash has 64).
        assert_eq!(gdms_password(&"b".repeat(32)).1, PasswordForm::Plain);
    }

    #[test]
    fn missing_key_is_named_without_values() {
        let e =
            parse_accounts("[grandstream]\nusername=u\npassword=topsecret\napi_id=1\nsite_id=2\n")
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(e.name(), Some("api_secret"));
        assert_eq!(e.line(), Some(1));
        assert!(
            e.to_string()
                .contains("[grandstream] is missing `api_secret`"),
            "{e}"
        );
        assert!(!format!("{e} {e:?}").contains("topsecret"));

        let e = parse_accounts("[yealink]\naccesskey_secret=s3cr3t\n").unwrap_err();
        assert_eq!(e.name(), Some("accesskey_id"));
        assert!(!format!("{e:?}").contains("s3cr3t"));

        let e = parse_accounts("[snom]\naccesskey_id=k\n").unwrap_err();
        assert_eq!(e.name(), Some("accesskey_secret"));
        let e = parse_accounts("[snom]\nusername=u\n").unwrap_err();
        assert_eq!(e.name(), Some("password"));
    }

    #[test]
    fn bad_values_and_duplicates() {
        let e =
            parse_accounts("[yealink]\naccesskey_id=k\naccesskey_secret=s\nrps_host=not a host\n")
                .unwrap_err();
        assert_eq!((e.name(), e.line()), (Some("rps_host"), Some(4)));
        for bad in [
            "oxo.example",
            "ftp://oxo.example/",
            "https://user:pw@oxo.example/",
            "https://",
            "https://oxo.example/dm#x",
            "https://oxo.example/d m",
            "https://oxo.example/\"x\"",
            "https://oxo.example/é",
        ] {
            let e = parse_accounts(&format!(
                "[ale]\naccesskey_id=k\naccesskey_secret=s\nprovisioning_url={bad}\n"
            ))
            .unwrap_err();
            assert_eq!(
                (e.name(), e.line()),
                (Some("provisioning_url"), Some(4)),
                "{bad}"
            );
        }
        let e = parse_accounts("[htek]\nusername=a\npassword=b\n[HTEK]\n").unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");
    }

    #[test]
    fn hosts_and_rest_keys() {
        let (a, _) = parse_accounts(
            "[yealink]\naccesskey_id=k\naccesskey_secret=s\nrps_host=rps.example.com\n\
             [ale]\naccesskey_id=k\naccesskey_secret=s\nrps_host=https://ale.example.com/\n\
             [snom]\naccesskey_id=kid\naccesskey_secret=ks\n",
        )
        .unwrap();
        let RpsAccount::Yealink(y) = &a[0] else {
            panic!()
        };
        assert_eq!(y.base_url, "https://rps.example.com:8443");
        let RpsAccount::Ale(al) = &a[1] else { panic!() };
        assert_eq!(al.base_url.as_deref(), Some("https://ale.example.com/"));
        let RpsAccount::Snom(s) = &a[2] else { panic!() };
        assert_eq!(s.api(), SnomApi::Rest);
        assert_eq!(s.rest_base, SRAPS_BASE);
        // ALE without a host parses (with a notice) but cannot make a request.
        let (a, n) = parse_accounts("[ale]\naccesskey_id=k\naccesskey_secret=s\n").unwrap();
        assert!(n.iter().any(|n| n.message.contains("no `rps_host`")));
        assert!(n
            .iter()
            .any(|n| n.message.contains("no `provisioning_url`")));
        let RpsAccount::Ale(al) = &a[0] else { panic!() };
        assert!(al.api().is_err());
        assert_eq!(al.provisioning_url, None);
    }

    #[test]
    fn junk_never_panics() {
        for t in [
            "[",
            "]",
            "[yealink",
            "=",
            "[yealink]\n=\n",
            "[snom]\nusername\n",
            "\u{feff}",
        ] {
            let _ = parse_accounts(t);
        }
    }
}
