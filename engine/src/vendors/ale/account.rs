//! An Alcatel-Lucent Enterprise RPS account (`[ale]`: PortSIP's `accesskey_id`,
//! `accesskey_secret`; `rps_host` required before use; ours: `base_url`,
//! `provisioning_url`). No public API document exists: the client is Yealink's scheme on
//! the host the account names (see `rps.rs`).

use crate::error::Error;
use crate::mac::Mac;
use crate::rps::{
    Client, IniSection, IniSpec, Notice, RpsAccount, RpsError, RpsPhone, ServerSpec, Started, Url,
};
use crate::secret::Secret;
use crate::vendors::yealink::rps::{self as yealink, DEFAULT_PORT};
use crate::vendors::Vendor;

/// The `[ale]` section.
pub(crate) const INI: IniSpec = IniSpec {
    required: &["accesskey_id", "accesskey_secret"],
    optional: &["rps_host", "base_url", "provisioning_url"],
    parse,
};

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

fn parse(sec: &IniSection, notices: &mut Vec<Notice>) -> Result<RpsAccount, Error> {
    let access_key_id = sec.require("accesskey_id")?;
    let access_key_secret = Secret::new(sec.require("accesskey_secret")?);
    let base_url = sec.base(DEFAULT_PORT)?;
    if base_url.is_none() {
        sec.note(
            notices,
            "no `rps_host`: ALE's API host has no default; set it before registering phones (ALE support is unverified)",
        );
    }
    let provisioning_url = match sec.get("provisioning_url") {
        Some(u) => Some(provisioning_url(sec, u)?),
        None => {
            sec.note(
                notices,
                "no `provisioning_url`: ALE phones are not configured by this system; name the provisioning server they should be sent to (for example your ALE communication server) before registering them",
            );
            None
        }
    };
    Ok(RpsAccount::Ale(AleAccount {
        access_key_id,
        access_key_secret,
        base_url,
        provisioning_url,
    }))
}

/// A URL phones are sent to: http(s), a host, no credentials in it; kept as written.
fn provisioning_url(sec: &IniSection, value: &str) -> Result<String, Error> {
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

impl Client for AleAccount {
    fn vendor(&self) -> Vendor {
        Vendor::Ale
    }

    fn ini_keys(&self) -> Vec<(&'static str, String)> {
        let mut keys = vec![
            ("accesskey_id", self.access_key_id.clone()),
            ("accesskey_secret", self.access_key_secret.expose().clone()),
        ];
        if let Some(b) = &self.base_url {
            keys.push(("base_url", b.clone()));
        }
        if let Some(u) = &self.provisioning_url {
            keys.push(("provisioning_url", u.clone()));
        }
        keys
    }

    fn ensure_server(&self, spec: &ServerSpec) -> Started {
        Ok(Box::new(yealink::ensure_server(self.api()?, spec)))
    }

    fn register(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(yealink::register(self.api()?, phone)))
    }

    fn remove(&self, mac: Mac) -> Started {
        Ok(Box::new(yealink::remove(self.api()?, mac)))
    }

    fn status(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(yealink::status(self.api()?, phone)))
    }

    fn needs_server(&self) -> bool {
        true
    }

    fn target_url<'a>(&'a self, _own: &'a str) -> Result<&'a str, RpsError> {
        self.provisioning_url.as_deref().ok_or_else(|| {
            RpsError::InvalidInput(
                "ale: the account names no `provisioning_url`; ALE phones are not configured \
                 here, so set the provisioning server they should be sent to"
                    .into(),
            )
        })
    }

    fn is_verified(&self) -> bool {
        false
    }

    /// PortSIP's `[ale]` has two keys; ALE's API host has no default and ALE phones are not
    /// configured here, so both the host and where to send them must be added.
    fn missing_before_use(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.base_url.is_none() {
            missing.push("rps_host");
        }
        if self.provisioning_url.is_none() {
            missing.push("provisioning_url");
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use crate::rps::parse_accounts;

    #[test]
    fn a_portsip_section_names_what_else_is_needed() {
        let (a, _) = parse_accounts("[ale]\naccesskey_id = k\naccesskey_secret = s\n").unwrap();
        assert_eq!(a[0].missing_before_use(), ["rps_host", "provisioning_url"]);
        let (a, _) = parse_accounts(
            "[ale]\naccesskey_id = k\naccesskey_secret = s\nrps_host = ale.example.net\n\
             provisioning_url = https://oxo.example.net/dm/\n",
        )
        .unwrap();
        assert!(a[0].missing_before_use().is_empty());
    }
}
