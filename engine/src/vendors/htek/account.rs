//! An Htek account as PortSIP writes it (`[htek]`: `username`, `password`). Htek has no
//! registration API, so every call fails with a plain instruction (see `rps.rs`).

use super::rps;
use crate::error::Error;
use crate::mac::Mac;
use crate::rps::{Client, IniSection, IniSpec, Notice, RpsAccount, RpsPhone, ServerSpec, Started};
use crate::secret::Secret;
use crate::vendors::Vendor;

/// The `[htek]` section.
pub(crate) const INI: IniSpec = IniSpec {
    required: &["username", "password"],
    optional: &[],
    parse,
};

/// An Htek account (no API uses it: Htek registration is manual in Htek's portal).
#[derive(Debug, Clone)]
pub struct HtekAccount {
    /// Portal user name.
    pub username: String,
    /// Portal password.
    pub password: Secret<String>,
}

fn parse(sec: &IniSection, notices: &mut Vec<Notice>) -> Result<RpsAccount, Error> {
    let username = sec.require("username")?;
    let password = sec.require("password")?;
    sec.note(
        notices,
        "Htek has no public registration API: phones are registered by hand in Htek's portal (per-phone URL or CSV export)",
    );
    Ok(RpsAccount::Htek(HtekAccount {
        username,
        password: Secret::new(password),
    }))
}

impl Client for HtekAccount {
    fn vendor(&self) -> Vendor {
        Vendor::Htek
    }

    fn ini_keys(&self) -> Vec<(&'static str, String)> {
        vec![
            ("username", self.username.clone()),
            ("password", self.password.expose().clone()),
        ]
    }

    fn ensure_server(&self, _spec: &ServerSpec) -> Started {
        Err(rps::unsupported())
    }

    fn register(&self, _phone: &RpsPhone) -> Started {
        Err(rps::unsupported())
    }

    fn remove(&self, _mac: Mac) -> Started {
        Err(rps::unsupported())
    }

    fn status(&self, _phone: &RpsPhone) -> Started {
        Err(rps::unsupported())
    }

    fn is_verified(&self) -> bool {
        false
    }
}
