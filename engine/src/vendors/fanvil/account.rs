//! A Fanvil FDPS account as PortSIP writes it (`[fanvil]`: `username`, `password`; ours:
//! `base_url`, the XML-RPC URL), and the calls it makes (the client in `rps.rs`).

use super::rps;
use crate::encoding::md5_hex;
use crate::error::Error;
use crate::mac::Mac;
use crate::rps::{
    is_hex, Client, IniSection, IniSpec, Notice, PasswordForm, RpsAccount, RpsPhone, ServerSpec,
    Started,
};
use crate::secret::Secret;
use crate::vendors::Vendor;

/// FDPS's XML-RPC URL.
pub(crate) const FDPS_URL: &str = "https://fdps.fanvil.com/xmlrpc.php";

/// The `[fanvil]` section.
pub(crate) const INI: IniSpec = IniSpec {
    required: &["username", "password"],
    optional: &["base_url"],
    parse,
};

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

fn parse(sec: &IniSection, notices: &mut Vec<Notice>) -> Result<RpsAccount, Error> {
    let username = sec.require("username")?;
    let password = sec.require("password")?;
    let (hash, form) = fanvil_password(&password);
    sec.note(
        notices,
        match form {
            PasswordForm::Plain => {
                "password: plain text detected; hashed as Fanvil requires (MD5 of MD5)"
            }
            PasswordForm::Hashed => {
                "password: already hashed (32 hex digits, MD5 of MD5); used as is"
            }
        },
    );
    Ok(RpsAccount::Fanvil(FanvilAccount {
        username,
        password_hash: Secret::new(hash),
        password_form: form,
        url: sec.url_or("base_url", FDPS_URL)?,
    }))
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

impl Client for FanvilAccount {
    fn vendor(&self) -> Vendor {
        Vendor::Fanvil
    }

    fn ini_keys(&self) -> Vec<(&'static str, String)> {
        vec![
            ("username", self.username.clone()),
            ("password", self.password_hash.expose().clone()),
            ("base_url", self.url.clone()),
        ]
    }

    fn ensure_server(&self, spec: &ServerSpec) -> Started {
        Ok(Box::new(rps::ensure_group(self, spec)?))
    }

    fn register(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(rps::register(self, phone)?))
    }

    fn remove(&self, mac: Mac) -> Started {
        Ok(Box::new(rps::remove(self, mac)))
    }

    fn status(&self, phone: &RpsPhone) -> Started {
        Ok(Box::new(rps::status(self, phone)))
    }
}
