//! A Snom SRAPS account as PortSIP writes it (`[snom]`: `username`, `password` for the
//! legacy XML-RPC API; ours: `accesskey_id`, `accesskey_secret` for REST, `base_url`,
//! `xmlrpc_url`), and the calls it makes (the client in `rps.rs`).

use super::rps;
use crate::error::Error;
use crate::mac::Mac;
use crate::rps::{Client, IniSection, IniSpec, Notice, RpsAccount, RpsPhone, ServerSpec, Started};
use crate::secret::Secret;
use crate::vendors::Vendor;

/// SRAPS's REST base.
pub(crate) const SRAPS_BASE: &str = "https://api.sraps.snom.com/api/v1/";
/// SRAPS's legacy XML-RPC URL.
pub(crate) const SNOM_XMLRPC: &str = "https://secure-provisioning.snom.com:8083/xmlrpc/";

/// The `[snom]` section: either pair of credentials, so no key is required by itself.
pub(crate) const INI: IniSpec = IniSpec {
    required: &[],
    optional: &[
        "username",
        "password",
        "accesskey_id",
        "accesskey_secret",
        "base_url",
        "xmlrpc_url",
    ],
    parse,
};

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

fn parse(sec: &IniSection, notices: &mut Vec<Notice>) -> Result<RpsAccount, Error> {
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
    let a = SnomAccount {
        username,
        password,
        access_key_id: key_id,
        access_key_secret: key_secret,
        rest_base: sec.url_or("base_url", SRAPS_BASE)?,
        xmlrpc_url: sec.url_or("xmlrpc_url", SNOM_XMLRPC)?,
    };
    sec.note(
        notices,
        match a.api() {
            SnomApi::Rest => "access key present: the REST API (Hawk) is used",
            SnomApi::XmlRpc => {
                "no access key: the legacy XML-RPC API (username and password) is used"
            }
        },
    );
    Ok(RpsAccount::Snom(a))
}

impl Client for SnomAccount {
    fn vendor(&self) -> Vendor {
        Vendor::Snom
    }

    fn ini_keys(&self) -> Vec<(&'static str, String)> {
        let mut keys = Vec::new();
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            keys.push(("username", u.clone()));
            keys.push(("password", p.expose().clone()));
        }
        if let (Some(i), Some(s)) = (&self.access_key_id, &self.access_key_secret) {
            keys.push(("accesskey_id", i.clone()));
            keys.push(("accesskey_secret", s.expose().clone()));
        }
        keys.push(("base_url", self.rest_base.clone()));
        keys.push(("xmlrpc_url", self.xmlrpc_url.clone()));
        keys
    }

    fn ensure_server(&self, _spec: &ServerSpec) -> Started {
        Ok(Box::new(rps::ensure_server(self)))
    }

    fn register(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(rps::register(self, phone)))
    }

    fn remove(&self, mac: Mac) -> Started {
        Ok(Box::new(rps::remove(self, mac)))
    }

    fn status(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(rps::status(self, phone)))
    }
}
