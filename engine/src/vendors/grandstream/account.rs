//! A Grandstream GDMS account as PortSIP writes it (`[grandstream]`: `username`,
//! `password`, `api_id`, `api_secret`, `site_id`; ours: `org_id`, `base_url`), and the
//! calls it makes (the client in `rps.rs`).

use super::rps::{self, Flow};
use crate::encoding::{md5_hex, sha256_hex};
use crate::error::Error;
use crate::mac::Mac;
use crate::rps::{
    is_hex, Client, IniSection, IniSpec, Notice, PasswordForm, RpsAccount, RpsPhone, ServerSpec,
    Session, Started,
};
use crate::secret::Secret;
use crate::vendors::Vendor;

/// GDMS's API base (EU: `https://eu.gdms.cloud/oapi`).
pub(crate) const GDMS_BASE: &str = "https://www.gdms.cloud/oapi";

/// The `[grandstream]` section.
pub(crate) const INI: IniSpec = IniSpec {
    required: &["username", "password", "api_id", "api_secret", "site_id"],
    optional: &["org_id", "base_url"],
    parse,
};

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
    /// Send the MAC as `AA:BB:CC:DD:EE:FF` instead of `AABBCCDDEEFF`. GDMS's own replies
    /// spell it upper-case hex without separators (`"mac":"C074AD8C654E"` in a live
    /// `device/add` reply quoted by public GDMS clients), so that is the default; some
    /// clients send the colon form, which this switch selects.
    pub mac_colons: bool,
    /// A token and organisation from an earlier op ([`RpsAccount::resume`]); not part of
    /// the account's INI.
    pub session: Option<Session>,
}

fn parse(sec: &IniSection, notices: &mut Vec<Notice>) -> Result<RpsAccount, Error> {
    let username = sec.require("username")?;
    let password = sec.require("password")?;
    let client_id = sec.require("api_id")?;
    let client_secret = sec.require("api_secret")?;
    let site_id = sec.require("site_id")?;
    let (hash, form) = gdms_password(&password);
    sec.note(
        notices,
        match form {
            PasswordForm::Plain => {
                "password: plain text detected; hashed as GDMS requires (SHA-256 of MD5)"
            }
            PasswordForm::Hashed => {
                "password: already hashed (64 hex digits, SHA-256 of MD5); used as is"
            }
        },
    );
    Ok(RpsAccount::Grandstream(GdmsAccount {
        username,
        password_hash: Secret::new(hash),
        password_form: form,
        client_id,
        client_secret: Secret::new(client_secret),
        site_id,
        org_id: sec.get("org_id").map(str::to_owned),
        base_url: sec.url_or("base_url", GDMS_BASE)?,
        mac_colons: false,
        session: None,
    }))
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

impl Client for GdmsAccount {
    fn vendor(&self) -> Vendor {
        Vendor::Grandstream
    }

    fn ini_keys(&self) -> Vec<(&'static str, String)> {
        let mut keys = vec![
            ("username", self.username.clone()),
            ("password", self.password_hash.expose().clone()),
            ("api_id", self.client_id.clone()),
            ("api_secret", self.client_secret.expose().clone()),
            ("site_id", self.site_id.clone()),
        ];
        if let Some(o) = &self.org_id {
            keys.push(("org_id", o.clone()));
        }
        keys.push(("base_url", self.base_url.clone()));
        keys
    }

    fn ensure_server(&self, _spec: &ServerSpec) -> Started {
        Ok(Box::new(Flow::ensure_site(self)))
    }

    fn register(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(Flow::register(self, phone)?))
    }

    fn remove(&self, _mac: Mac) -> Started {
        Err(rps::remove_unsupported())
    }

    fn status(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(Flow::status(self, phone)))
    }

    fn resume(&mut self, session: Session) {
        self.session = Some(session);
    }
}
