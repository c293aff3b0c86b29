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

use super::{Client, IniSection, IniSpec};
use crate::error::{Error, ErrorKind};
use crate::secret::Secret;
use crate::vendors::ale::account::AleAccount;
use crate::vendors::fanvil::account::FanvilAccount;
use crate::vendors::grandstream::account::GdmsAccount;
use crate::vendors::htek::account::HtekAccount;
use crate::vendors::snom::account::SnomAccount;
use crate::vendors::yealink::account::YealinkAccount;
use crate::vendors::Vendor;

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
    /// The vendor's account, answering every call in the vendor's home.
    pub(crate) fn client(&self) -> &dyn Client {
        match self {
            Self::Yealink(a) => a,
            Self::Ale(a) => a,
            Self::Grandstream(a) => a,
            Self::Fanvil(a) => a,
            Self::Htek(a) => a,
            Self::Snom(a) => a,
        }
    }

    pub(crate) fn client_mut(&mut self) -> &mut dyn Client {
        match self {
            Self::Yealink(a) => a,
            Self::Ale(a) => a,
            Self::Grandstream(a) => a,
            Self::Fanvil(a) => a,
            Self::Htek(a) => a,
            Self::Snom(a) => a,
        }
    }

    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        self.client().vendor()
    }

    /// `false` for the vendors whose API is unverified (ALE) or absent (Htek): the console
    /// labels them.
    pub fn is_verified(&self) -> bool {
        self.client().is_verified()
    }

    /// The keys the account still needs before a phone can be registered under it, in the
    /// order to add them (ALE: `rps_host`, `provisioning_url`); empty when it is complete.
    /// A shell queues nothing for an incomplete account.
    pub fn missing_before_use(&self) -> Vec<&'static str> {
        self.client().missing_before_use()
    }

    /// The account as one INI section in canonical form, which [`parse_accounts`] reads back
    /// to the same account (passwords in the vendor's hashed form, so a stored copy never
    /// holds a plain password the vendor does not need). For encrypted storage: a secret.
    pub fn to_ini(&self) -> Secret<String> {
        let mut out = format!("[{}]\n", self.vendor());
        for (k, v) in self.client().ini_keys() {
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

/// Parses PortSIP-style INI text into accounts (in the order of their sections) and the
/// notices about what was ignored or detected.
///
/// Errors name the section, the key and the line, never a value.
pub fn parse_accounts(text: &str) -> Result<(Vec<RpsAccount>, Vec<Notice>), Error> {
    let mut notices = Vec::new();
    let mut sections: Vec<(IniSpec, IniSection)> = Vec::new();
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
            let Ok(vendor) = name.parse::<Vendor>() else {
                notices.push(Notice {
                    section: Some(clip_name(&name)),
                    line: Some(n),
                    message: "ignored: not an RPS section".into(),
                });
                current = None;
                continue;
            };
            if let Some(prev) = sections.iter().map(|(_, s)| s).find(|s| s.name == name) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("[{name}] appears twice (lines {} and {n})", prev.line),
                )
                .at(n, None));
            }
            sections.push((
                vendor.rps_code().ini,
                IniSection {
                    name,
                    line: n,
                    keys: Vec::new(),
                },
            ));
            current = Some(sections.len() - 1);
            continue;
        }
        let Some(idx) = current else {
            // Lines of ignored sections, or before any section.
            continue;
        };
        let Some((spec, sec)) = sections.get_mut(idx) else {
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
        if !spec.required.contains(&key.as_str()) && !spec.optional.contains(&key.as_str()) {
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
    for (spec, sec) in &sections {
        if sec.keys.iter().all(|(_, v, _)| v.is_empty()) {
            notices.push(Notice {
                section: Some(sec.name.clone()),
                line: Some(sec.line),
                message: "empty: no account configured".into(),
            });
            continue;
        }
        accounts.push((spec.parse)(sec, &mut notices)?);
    }
    Ok((accounts, notices))
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
    use crate::vendors::fanvil::account::fanvil_password;
    use crate::vendors::grandstream::account::gdms_password;
    use crate::vendors::snom::account::{SnomApi, SRAPS_BASE};
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
        let vendors: Vec<_> = accounts.iter().map(|a| a.vendor().as_str()).collect();
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
