//! The site's star-code setting (`star_code_pattern`), in either of the two forms people
//! paste: this project's prefix, or MikoPBX's "Extension Template".
//!
//! - **Prefix** (`*123*`): the code ends with `*` or `#`; any extension dialled after it
//!   binds (`*123*201`). Also any other text of digits, `*` and `#` that starts with `*` or
//!   `#` and is not the MikoPBX form (`*55`: `*55201`), as sites saved before this parser
//!   had.
//! - **MikoPBX** (`*123*XXX` or `*123*200`): a feature code ending with `*` or `#`, then a
//!   sample extension whose length is the extension's. MikoPBX writes the sample as `X`s,
//!   one a digit: its installer sets the field to `*<free application number>*` followed by
//!   `Util::getExtensionX(<the PBX's extension length>)`, i.e. `XXX` for three digits
//!   (mikopbx/ModuleAutoprovision `Setup/PbxExtensionSetup.php`, `installDB`); the dialplan
//!   matches it as an Asterisk pattern, `exten => _<setting>!` (`Lib/AutoprovisionConf.php`,
//!   `extensionGenContexts`); the page tells users to dial it "where XXX is the internal
//!   number" (`Messages/en.php`, `mod_Autoprovision_header`). A sample written with digits
//!   (`*123*200`, how administrators quote it) is taken the same way: only its length
//!   counts. The extension dialled is then exactly that many digits.
//!
//! After the extension, `*<PIN>` may follow in both forms (the user's voicemail PIN, which
//! the site's `star_code_mode` may require: [`crate::StarCodeMode`]). MikoPBX takes the last
//! `*`-separated part as the extension (`Lib/Autoprovision.php`, `StartAGIProvision`); here
//! the part after the code is the extension and a further part the PIN, as before.

use crate::access::provisioning_password;
use crate::error::{Error, ErrorKind, Result};
use crate::inputs::Line;
use crate::inventory::{line, PhoneEntry, Site, StarCode, User};
use crate::secret::Secret;

/// The longest feature code (the prefix), as the setting always allowed.
const MAX_PREFIX: usize = 16;
/// The longest MikoPBX sample extension.
const MAX_SAMPLE: usize = 16;

/// The site's star-code setting, understood: the code dialled before the extension and, for
/// MikoPBX's form, the extension's length in digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarCodePattern {
    prefix: String,
    digits: Option<usize>,
}

fn refuse(detail: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, detail).with_name("star_code_pattern")
}

impl StarCodePattern {
    /// Parses a non-empty setting (empty is "off", which the caller decides). The error
    /// names the field and says what the two forms look like.
    pub fn parse(text: &str) -> Result<Self> {
        const FORMS: &str = "a prefix such as *123* (any extension after it) or MikoPBX's \
                             Extension Template such as *123*XXX or *123*200 (a 3-digit extension)";
        if text.is_empty() {
            return Err(refuse("empty: star-code binding is off"));
        }
        if !text.starts_with(['*', '#']) {
            return Err(refuse(&format!(
                "must start with * or # so that no extension is mistaken for it: {FORMS}"
            )));
        }
        // Split at the last separator: the code before it, a sample (maybe empty) after.
        let cut = text.rfind(['*', '#']).map_or(0, |i| i + 1);
        let (code, sample) = text.split_at(cut);
        let sample_ok = !sample.is_empty()
            && sample
                .bytes()
                .all(|b| b.is_ascii_digit() || b.eq_ignore_ascii_case(&b'x'));
        let code_has_digit = code.bytes().any(|b| b.is_ascii_digit());
        let only_dial = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
        };
        if sample_ok && code_has_digit && only_dial(code) {
            if code.len() > MAX_PREFIX || sample.len() > MAX_SAMPLE {
                return Err(refuse(&format!(
                    "at most {MAX_PREFIX} characters of code and {MAX_SAMPLE} of sample extension"
                )));
            }
            return Ok(Self {
                prefix: code.to_owned(),
                digits: Some(sample.len()),
            });
        }
        if !only_dial(text) {
            return Err(refuse(&format!(
                "only digits, * and # (and X for a digit of MikoPBX's sample extension): {FORMS}"
            )));
        }
        if text.len() > MAX_PREFIX {
            return Err(refuse(&format!("at most {MAX_PREFIX} characters: {FORMS}")));
        }
        if !text.bytes().any(|b| b.is_ascii_digit()) {
            return Err(refuse(&format!("no feature code (no digit): {FORMS}")));
        }
        Ok(Self {
            prefix: text.to_owned(),
            digits: None,
        })
    }

    /// What is dialled before the extension (`*123*`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The extension's length in digits (MikoPBX's form); `None`: any extension.
    pub fn digits(&self) -> Option<usize> {
        self.digits
    }

    /// How the setting was understood, for the administrator: "any extension after *123*"
    /// or "*123* followed by a 3-digit extension".
    pub fn understood(&self) -> String {
        match self.digits {
            None => format!("any extension after {}", self.prefix),
            Some(n) => format!("{} followed by a {n}-digit extension", self.prefix),
        }
    }

    /// The code a phone dialled (the Request-URI user, percent-decoded): the extension
    /// (1 to 32 letters or digits; exactly [`Self::digits`] digits in MikoPBX's form),
    /// then optionally `*` and a PIN of 1 to 16 digits. `None` for anything else.
    pub fn code(&self, number: &str) -> Option<StarCode> {
        let rest = number.strip_prefix(self.prefix.as_str())?;
        let (extension, pin) = match rest.split_once('*') {
            Some((e, p)) => (e, Some(p)),
            None => (rest, None),
        };
        let ext_ok = match self.digits {
            None => {
                (1..=32).contains(&extension.len())
                    && extension.bytes().all(|b| b.is_ascii_alphanumeric())
            }
            Some(n) => extension.len() == n && extension.bytes().all(|b| b.is_ascii_digit()),
        };
        let pin_ok = pin
            .is_none_or(|p| (1..=16).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
        (ext_ok && pin_ok).then(|| StarCode {
            extension: extension.to_owned(),
            pin: pin.map(|p| Secret::new(p.to_owned())),
        })
    }
}

impl std::fmt::Display for StarCodePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.understood())
    }
}

/// A LAN relay's star-code registrar: where a bound phone's hot-desking line registers.
#[derive(Clone)]
pub(crate) struct Registrar {
    key: Secret<Vec<u8>>,
    host: String,
    port: u16,
}

impl Site {
    /// This site as a LAN relay serves it: while the site allows hot-desking, a bound desk
    /// phone's config carries one more line, its provisioning account at the relay's
    /// registrar (`host`:`port`, the password derived from `key` as for an unbound phone),
    /// labelled with the code. It is how a bound phone reaches the registrar to dial the code
    /// again: its first line is the PBX's. Not on a DECT base (its lines are its handsets').
    #[must_use]
    pub fn with_registrar(mut self, key: &[u8], host: &str, port: u16) -> Self {
        self.registrar = Some(Registrar {
            key: Secret::new(key.to_vec()),
            host: host.to_owned(),
            port,
        });
        self
    }

    /// The hot-desking line of bound `phone` (see [`Self::with_registrar`]), if any.
    pub(crate) fn hot_desk_line(&self, phone: &PhoneEntry) -> Option<Line> {
        let r = self.registrar.as_ref()?;
        let code = self.star_code_pattern()?;
        if !self.hot_desking() || !phone.handsets.is_empty() {
            return None;
        }
        let mut site = self.inventory().site.clone();
        site.pbx_host.clone_from(&r.host);
        site.pbx_port = r.port;
        let account = provisioning_account(
            r.key.expose(),
            &phone.mac,
            format!("Hot desk: dial {} + extension", code.prefix()),
        );
        let mut l = line(&site, &account);
        l.label = "Hot desk".to_owned();
        Some(l)
    }
}

/// The provisioning account a LAN relay's registrar accepts from phone `mac`: user and
/// extension the MAC, the password derived under the relay's `key`
/// ([`provisioning_password`]), so the relay never stores it. The registrar and the hot-desk
/// line both use this one account.
pub fn provisioning_account(key: &[u8], mac: &crate::Mac, display_name: String) -> User {
    User {
        extension: mac.to_string(),
        auth_name: mac.to_string(),
        sip_password: Secret::new(provisioning_password(key, mac)),
        display_name,
        voicemail_pin: Secret::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> StarCodePattern {
        StarCodePattern::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn both_forms_are_understood_and_said() {
        let p = parsed("*123*");
        assert_eq!((p.prefix(), p.digits()), ("*123*", None));
        assert_eq!(p.understood(), "any extension after *123*");
        for mikopbx in ["*123*200", "*123*XXX", "*123*xxx", "*123*2X0"] {
            let p = parsed(mikopbx);
            assert_eq!((p.prefix(), p.digits()), ("*123*", Some(3)), "{mikopbx}");
            assert_eq!(p.understood(), "*123* followed by a 3-digit extension");
        }
        // MikoPBX's own default shape: `*<application number>*` and one X a digit.
        assert_eq!(parsed("*2*XXXX").digits(), Some(4));
        assert_eq!(parsed("#77#20").prefix(), "#77#");
        // A prefix saved before this parser, without a closing separator, keeps working.
        let p = parsed("*55");
        assert_eq!((p.prefix(), p.digits()), ("*55", None));
        assert_eq!(parsed("*12*3*").digits(), None);
    }

    #[test]
    fn what_is_neither_is_refused_naming_the_field() {
        for (bad, says) in [
            ("", "off"),
            ("123*", "start with"),
            ("123", "start with"),
            ("*123*20a", "only digits"),
            ("*123*XX*", "only digits"),
            ("*123 *", "only digits"),
            ("*", "no feature code"),
            ("**", "no feature code"),
            ("*#", "no feature code"),
            ("*XXX", "only digits"),
            ("*123*ü", "only digits"),
            ("*1234567890123456*", "at most"),
            ("*123*12345678901234567", "at most"),
            ("*12345678901234567", "at most"),
        ] {
            let e = StarCodePattern::parse(bad).expect_err(bad);
            assert_eq!(e.name(), Some("star_code_pattern"), "{bad:?}");
            assert!(e.to_string().contains(says), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_mikopbx_pattern_matches_only_its_length_and_keeps_the_pin() {
        let p = parsed("*123*200");
        let ext = |n: &str| p.code(n).map(|c| c.extension);
        assert_eq!(ext("*123*201").as_deref(), Some("201"));
        assert_eq!(ext("*123*20"), None, "too short");
        assert_eq!(ext("*123*2011"), None, "too long");
        assert_eq!(ext("*123*20a"), None, "X is a digit");
        let c = p.code("*123*201*1234").unwrap();
        assert_eq!(c.extension, "201");
        assert_eq!(c.pin.as_ref().map(|s| s.expose().as_str()), Some("1234"));
        for bad in ["*123*201*", "*123*201*12a", "*123**1234", "*124*201", "201"] {
            assert!(p.code(bad).is_none(), "{bad:?}");
        }
        // The prefix form takes any extension, letters too, as before.
        let p = parsed("*123*");
        assert_eq!(p.code("*123*2011").unwrap().extension, "2011");
        assert_eq!(p.code("*123*ab1").unwrap().extension, "ab1");
    }

    fn site(hot_desking: bool, handsets: &str) -> Site {
        let inv: crate::Inventory = serde_json::from_str(&format!(
            r#"{{"site": {{"pbx_host": "pbx.example.com", "star_code_pattern": "*123*XXX",
                          "hot_desking": {hot_desking}}},
                "users": [{{"extension": "201", "sip_password": "Vq9-kL2m-Zt7x"}},
                          {{"extension": "202", "sip_password": "Kp3-wQ8y-Mn5b"}}],
                "phones": [{{"mac": "001565aabbcc", "vendor": "yealink", "user_extension": "201"{handsets}}}]}}"#
        ))
        .unwrap();
        Site::new(inv).unwrap()
    }

    fn config(site: &Site) -> String {
        let req = crate::PhoneRequest {
            path: "001565aabbcc.cfg",
            user_agent: None,
            pnp: None,
            lan_mac: None,
        };
        match site.answer(&req, "http://192.0.2.10:8480") {
            Ok(crate::Answer::File { body, .. }) => body,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bound_phone_carries_its_hot_desk_line_only_where_the_site_allows_it() {
        let key = [7u8; 32];
        let mac = crate::Mac::parse("001565aabbcc").unwrap();
        let password = provisioning_password(&key, &mac);
        let with = |s: Site| s.with_registrar(&key, "192.0.2.10", 5070);
        let on = config(&with(site(true, "")));
        assert!(on.contains("pbx.example.com"), "{on}");
        assert!(on.contains("192.0.2.10") && on.contains("5070"), "{on}");
        assert!(
            on.contains("001565aabbcc") && on.contains(&password),
            "{on}"
        );
        assert!(on.contains("dial *123* + extension"), "{on}");
        // Kept across a binding made on the relay.
        let moved = with(site(true, "")).with_binding(mac, crate::Vendor::Yealink, "202");
        assert!(config(&moved.unwrap()).contains(&password));
        for off in [
            with(site(false, "")),
            site(true, ""),
            with(site(
                true,
                r#", "handsets": [{"slot": 2, "user_extension": "202"}]"#,
            )),
        ] {
            let c = config(&off);
            assert!(
                !c.contains(&password) && !c.contains("192.0.2.10:5070"),
                "{c}"
            );
        }
    }
}
