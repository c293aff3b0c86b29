//! A Yealink RPS account as PortSIP writes it (`[yealink]`: `accesskey_id`,
//! `accesskey_secret`, optional `rps_host`; ours: `base_url`), and the calls it makes
//! (the client in `rps.rs`).

use super::rps::{self, Api, DEFAULT_BASE, DEFAULT_PORT};
use crate::error::Error;
use crate::mac::Mac;
use crate::rps::{Client, IniSection, IniSpec, Notice, RpsAccount, RpsPhone, ServerSpec, Started};
use crate::secret::Secret;
use crate::vendors::Vendor;

/// The `[yealink]` section.
pub(crate) const INI: IniSpec = IniSpec {
    required: &["accesskey_id", "accesskey_secret"],
    optional: &["rps_host", "base_url"],
    parse,
};

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
            base_url: DEFAULT_BASE.into(),
        }
    }

    pub(crate) fn api(&self) -> Api {
        Api {
            vendor: Vendor::Yealink.as_str(),
            key_id: self.access_key_id.clone(),
            secret: self.access_key_secret.clone(),
            base: self.base_url.clone(),
        }
    }
}

fn parse(sec: &IniSection, _notices: &mut Vec<Notice>) -> Result<RpsAccount, Error> {
    Ok(RpsAccount::Yealink(YealinkAccount {
        access_key_id: sec.require("accesskey_id")?,
        access_key_secret: Secret::new(sec.require("accesskey_secret")?),
        base_url: sec
            .base(DEFAULT_PORT)?
            .unwrap_or_else(|| DEFAULT_BASE.to_owned()),
    }))
}

impl Client for YealinkAccount {
    fn vendor(&self) -> Vendor {
        Vendor::Yealink
    }

    fn ini_keys(&self) -> Vec<(&'static str, String)> {
        vec![
            ("accesskey_id", self.access_key_id.clone()),
            ("accesskey_secret", self.access_key_secret.expose().clone()),
            ("base_url", self.base_url.clone()),
        ]
    }

    fn ensure_server(&self, spec: &ServerSpec) -> Started {
        Ok(Box::new(rps::ensure_server(self.api(), spec)))
    }

    fn register(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(rps::register(self.api(), phone)))
    }

    fn remove(&self, mac: Mac) -> Started {
        Ok(Box::new(rps::remove(self.api(), mac)))
    }

    fn status(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(rps::status(self.api(), phone)))
    }

    fn needs_server(&self) -> bool {
        true
    }
}
