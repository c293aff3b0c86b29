//! URI mappings: an administrator maps an arbitrary request path (e.g. the fixed file name
//! an old Yealink firmware asks for) to a template.

use serde::{Deserialize, Serialize};

use crate::detect::normalize;
use crate::error::{Error, ErrorKind, Result};

/// A request path mapped to a template. Deserialising validates and normalises like
/// [`UriMapping::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMapping")]
pub struct UriMapping {
    path: String,
    template: String,
}

impl UriMapping {
    /// Creates a mapping, normalising the path (leading `/`, `.` and empty segments, query
    /// string removed). Fails for a path that is empty or tries to leave the tree.
    pub fn new(path: &str, template: &str) -> Result<Self> {
        let segments = normalize(path).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "the path contains '..', a backslash, a control character or a bad %-escape",
            )
            .with_name("path")
        })?;
        if segments.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "the path is empty").with_name("path"));
        }
        if segments
            .first()
            .is_some_and(|s| s == crate::detect::PHONEBOOK_DIR || s == crate::detect::FIRMWARE_DIR)
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "paths under phonebook/ and firmware/ are served by the system and cannot be mapped",
            )
            .with_name("path"));
        }
        if template.trim().is_empty() {
            return Err(
                Error::new(ErrorKind::InvalidInput, "no template given").with_name("template")
            );
        }
        Ok(Self {
            path: segments.join("/"),
            template: template.trim().to_owned(),
        })
    }

    /// The normalised path, without a leading `/` (e.g. `y000000000028.cfg`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The template the path is mapped to.
    pub fn template(&self) -> &str {
        &self.template
    }
}

#[derive(Deserialize)]
struct RawMapping {
    path: String,
    template: String,
}

impl TryFrom<RawMapping> for UriMapping {
    type Error = Error;
    fn try_from(r: RawMapping) -> Result<Self> {
        Self::new(&r.path, &r.template)
    }
}

/// The mapping for the normalised `path`, if any. Paths compare exactly (case-sensitive,
/// as web servers and TFTP servers compare file names).
pub(crate) fn find<'a>(mappings: &'a [UriMapping], path: &str) -> Option<&'a UriMapping> {
    mappings.iter().find(|m| m.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{detect, PhoneRequest, Resource};
    use crate::mac::Mac;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn mapped_path_wins_over_vendor_rules() {
        let maps = [UriMapping::new("/y000000000028.cfg", "old-yealink").unwrap()];
        let d = detect(
            &PhoneRequest {
                path: "y000000000028.cfg",
                ..Default::default()
            },
            &maps,
        );
        assert_eq!(
            d.resource,
            Resource::Mapped {
                path: "y000000000028.cfg".into(),
                template: "old-yealink".into()
            }
        );
        let d = detect(
            &PhoneRequest {
                path: "/Y000000000028.cfg",
                ..Default::default()
            },
            &maps,
        );
        assert!(!matches!(d.resource, Resource::Mapped { .. }));
    }

    /// An old Yealink's User-Agent carries no MAC ("Yealink SIP-T28P 2.71.14.4", the example
    /// of antirek/sip-device-detector's README), and TFTP carries no User-Agent: the phone a
    /// mapped path is for is the one the LAN ties to the address, unless the User-Agent
    /// names one.
    #[test]
    fn a_mapped_path_is_for_the_user_agent_mac_else_the_lan_mac() {
        let site = crate::Site::new(
            serde_json::from_str(
                r#"{
                  "site": {"id": "s", "name": "O", "pbx_host": "pbx", "pbx_port": 5060, "allow_macs": "",
                           "deny_macs": "00:15:65:de:ad:00", "additional_params": "", "poll_interval_minutes": 1440,
                           "star_code_pattern": "", "ntp_server": "", "timezone": "UTC", "language": "en", "window_secs": 0},
                  "users": [{"extension": "201", "auth_name": "", "sip_password": "pw-201", "display_name": "A", "voicemail_pin": ""},
                            {"extension": "202", "auth_name": "", "sip_password": "pw-202", "display_name": "B", "voicemail_pin": ""}],
                  "phones": [{"mac": "001565000001", "vendor": "yealink", "model": "T28P", "user_extension": "201", "template": null},
                             {"mac": "001565000002", "vendor": "yealink", "model": "T28P", "user_extension": "202", "template": null},
                             {"mac": "000413000003", "vendor": "snom", "model": "D785", "user_extension": "202", "template": null},
                             {"mac": "001565000004", "vendor": "yealink", "model": "", "user_extension": null, "template": null},
                             {"mac": "001565dead00", "vendor": "yealink", "model": "", "user_extension": "201", "template": null}],
                  "templates": [{"name": "old", "vendor": "yealink", "style": "placeholder", "composition": "overlay",
                                 "source": "account.1.label = old {SIP_NUM}\n"}],
                  "uri_mappings": [{"path": "y000000000028.cfg", "template": "old"}]
                }"#,
            )
            .unwrap(),
        )
        .unwrap();
        let mac = |s: &str| Mac::parse(s).ok();
        let ask = |ua: Option<&str>, lan: Option<&str>| {
            let req = PhoneRequest {
                path: "y000000000028.cfg",
                user_agent: ua,
                pnp: None,
                lan_mac: lan.and_then(mac),
            };
            match site.answer(&req, "http://relay") {
                Ok(crate::Answer::File { body, .. }) => Ok(body),
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e),
            }
        };
        const OLD_UA: &str = "Yealink SIP-T28P 2.71.14.4";
        let first = ask(Some(OLD_UA), Some("001565000001")).unwrap();
        assert!(first.contains("account.1.label = old 201") && first.contains("pw-201"));
        // TFTP: no User-Agent at all.
        assert!(ask(None, Some("001565000001")).unwrap().contains("pw-201"));
        // Another MAC at the address: that phone's config, never the first one's.
        let second = ask(Some(OLD_UA), Some("001565000002")).unwrap();
        assert!(second.contains("pw-202") && !second.contains("pw-201"));
        // A phone of another vendor than the User-Agent's, an unbound one, a denied one, no
        // MAC at all: refused.
        assert_eq!(
            ask(Some(OLD_UA), Some("000413000003")),
            Err(crate::Refusal::Denied)
        );
        assert_eq!(
            ask(None, Some("001565000004")),
            Err(crate::Refusal::NotFound)
        );
        assert_eq!(ask(None, Some("001565dead00")), Err(crate::Refusal::Denied));
        assert_eq!(ask(Some(OLD_UA), None), Err(crate::Refusal::NotFound));
        // A MAC in the User-Agent names the phone, whatever the LAN says.
        let named = ask(
            Some("Yealink SIP-T28P 2.73.0.50 00:15:65:00:00:02"),
            Some("001565000001"),
        )
        .unwrap();
        assert!(named.contains("pw-202"));
    }

    #[test]
    fn needs_lan_mac_only_for_a_mapped_path_without_a_user_agent_mac() {
        let maps = [UriMapping::new("y000000000028.cfg", "old").unwrap()];
        let d = |path, ua| {
            detect(
                &PhoneRequest {
                    path,
                    user_agent: ua,
                    ..Default::default()
                },
                &maps,
            )
        };
        assert!(d("y000000000028.cfg", None).needs_lan_mac());
        assert!(d("y000000000028.cfg", Some("Yealink SIP-T28P 2.71.14.4")).needs_lan_mac());
        assert!(!d(
            "y000000000028.cfg",
            Some("Yealink SIP-T28P 2.73.0.50 00:15:65:00:00:02")
        )
        .needs_lan_mac());
        assert!(!d("001565000001.cfg", None).needs_lan_mac());
        assert!(!d("y000000000066.cfg", None).needs_lan_mac());
    }

    #[test]
    fn bad_mappings_are_refused() {
        assert!(UriMapping::new("/../x", "t").is_err());
        assert!(UriMapping::new("/", "t").is_err());
        assert!(UriMapping::new("/a.cfg", " ").is_err());
        assert_eq!(
            UriMapping::new("//a/./b.cfg?x", "t").unwrap().path(),
            "a/b.cfg"
        );
    }
}
