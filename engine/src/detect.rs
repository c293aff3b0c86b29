//! Request detection: from what a phone sends (a path or TFTP file name, a User-Agent, the
//! SIP PnP parameters), decide who is asking and for what.

use serde::{Deserialize, Serialize};

use crate::encoding::percent_decode;
use crate::mac::Mac;
use crate::uri_map::UriMapping;
use crate::vendors::Vendor;

/// What a phone sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhoneRequest<'a> {
    /// The HTTP request path (after any prefix the shell owns, such as a token), with its
    /// query string if any, or the TFTP file name.
    pub path: &'a str,
    /// The HTTP User-Agent header, if any (TFTP has none).
    pub user_agent: Option<&'a str>,
    /// What the phone announced in its SIP PnP SUBSCRIBE, if the shell saw one from this
    /// address.
    pub pnp: Option<&'a PnpInfo>,
    /// The MAC the shell's network ties to the request's source address (the relay: its
    /// ARP table, else a PnP sighting it confirmed there), if any. It names the phone a
    /// mapped path is for when the request itself does not ([`Detection::mac`]). The edge
    /// has no such fact: `None`.
    pub lan_mac: Option<Mac>,
}

/// The parameters of a SIP PnP `Event: ua-profile` SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PnpInfo {
    /// The `vendor` parameter, as sent.
    pub vendor: String,
    /// The `model` parameter, as sent.
    pub model: String,
    /// The `version` parameter (firmware), as sent.
    pub version: String,
    /// The MAC, from the Request-URI/From (`MAC%3a...`) or a `mac` parameter, if present.
    pub mac: Option<Mac>,
}

impl PnpInfo {
    /// The configured vendor the SUBSCRIBE names in its `vendor` parameter, else the maker
    /// of its MAC's OUI.
    pub fn vendor_guess(&self) -> Option<Vendor> {
        let name = self.vendor.to_ascii_lowercase();
        Vendor::PROVISIONED
            .into_iter()
            .find(|v| name.contains(v.as_str()))
            .or_else(|| {
                self.mac
                    .and_then(|m| m.vendor())
                    .filter(|v| v.is_provisioned())
            })
    }
}

/// What a vendor's User-Agent told us.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UaInfo {
    /// The model, as the vendor names it (e.g. `T46S`, `D785`, `X4U`, `GXP2170`, `UC926`).
    pub model: Option<String>,
    /// The firmware version.
    pub firmware: Option<String>,
    /// The MAC, where the vendor puts it in the User-Agent.
    pub mac: Option<Mac>,
}

/// A vendor module's reading of a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The device's own config (carries secrets).
    DeviceConfig {
        /// The MAC in the file name.
        mac: Mac,
    },
    /// A common file without secrets (model/vendor defaults, boot or index files).
    Common {
        /// The model the file name identifies, if any.
        model: Option<String>,
    },
}

/// Which resource a request is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resource {
    /// The device's own config, rendered per request (carries secrets).
    DeviceConfig {
        /// The MAC the config is for.
        mac: Mac,
    },
    /// A vendor/model common file without secrets.
    CommonConfig {
        /// The file name asked for.
        file: String,
        /// The model the file is for, if the name or the User-Agent says.
        model: Option<String>,
    },
    /// The phone's phonebook (`phonebook/<mac>.xml`, or `phonebook/<mac>/<file>` for a
    /// vendor whose phone appends its own file name to a folder: see
    /// [`Vendor::phonebook_path`]).
    Phonebook {
        /// The MAC of the phone asking.
        mac: Mac,
    },
    /// A firmware image (`firmware/<vendor>/<file>`).
    Firmware {
        /// The vendor directory.
        vendor: Vendor,
        /// The file name.
        file: String,
    },
    /// A path an administrator mapped to a template.
    Mapped {
        /// The mapping's path, normalised.
        path: String,
        /// The template it is mapped to.
        template: String,
    },
    /// Nothing we serve.
    NotServed,
}

/// The engine's answer: who is asking and for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detection {
    /// The vendor, if anything identified it.
    pub vendor: Option<Vendor>,
    /// The model, if known.
    pub model: Option<String>,
    /// The firmware version, if known.
    pub firmware_version: Option<String>,
    /// The MAC the User-Agent (or PnP) carries, which shells require to equal the path MAC.
    pub ua_mac: Option<Mac>,
    /// The MAC the network ties to the source address ([`PhoneRequest::lan_mac`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lan_mac: Option<Mac>,
    /// What is asked for.
    pub resource: Resource,
}

impl Detection {
    /// The MAC of the resource (path), else the one from the User-Agent; for a mapped
    /// path, which names no phone, the User-Agent's, else the one the network ties to the
    /// source address ([`PhoneRequest::lan_mac`]).
    pub fn mac(&self) -> Option<Mac> {
        match &self.resource {
            Resource::DeviceConfig { mac } | Resource::Phonebook { mac } => Some(*mac),
            Resource::Mapped { .. } => self.ua_mac.or(self.lan_mac),
            _ => self.ua_mac,
        }
    }

    /// Whether the request is for a mapped path and names no phone itself (no MAC in the
    /// User-Agent or PnP): only the network can say whose config it is. A shell that can tie
    /// the source address to a MAC passes it as [`PhoneRequest::lan_mac`].
    pub fn needs_lan_mac(&self) -> bool {
        matches!(self.resource, Resource::Mapped { .. }) && self.ua_mac.is_none()
    }

    /// `false` when the User-Agent names a MAC that differs from the MAC in the path: a
    /// phone asking for another phone's file. Shells refuse such requests.
    pub fn ua_mac_matches(&self) -> bool {
        match (&self.resource, self.ua_mac) {
            (Resource::DeviceConfig { mac } | Resource::Phonebook { mac }, Some(ua)) => *mac == ua,
            _ => true,
        }
    }
}

/// The path prefix under which phonebooks are served.
pub const PHONEBOOK_DIR: &str = "phonebook";
/// The path prefix under which firmware images are served.
pub const FIRMWARE_DIR: &str = "firmware";

/// The relative path of a phone's phonebook for a vendor whose phonebook setting names a file,
/// e.g. `phonebook/001565aabbcc.xml` (every vendor's: [`Vendor::phonebook_path`]).
pub(crate) fn phonebook_path(mac: &Mac) -> String {
    format!("{PHONEBOOK_DIR}/{mac}.xml")
}

/// The relative path of a firmware image, e.g. `firmware/yealink/T46S-66.86.0.15.rom`.
pub fn firmware_path(vendor: Vendor, file: &str) -> String {
    format!("{FIRMWARE_DIR}/{vendor}/{file}")
}

/// The relative path under which the phone with `mac` asks for its own config, in its
/// vendor's naming (e.g. `001565aabbcc.cfg`, `cfg000b82aabbcc.xml`).
pub fn device_config_path(vendor: Vendor, mac: &Mac) -> Option<String> {
    vendor.module().ok().map(|m| m.device_file_name(mac))
}

/// Detects vendor, model, MAC, firmware and the resource asked for.
///
/// Never fails: anything unrecognised is [`Resource::NotServed`]. Path traversal is
/// impossible by construction, because only recognised names map to resources and they are
/// rebuilt from parsed values, never passed through.
pub fn detect(req: &PhoneRequest<'_>, mappings: &[UriMapping]) -> Detection {
    let mut d = Detection {
        vendor: None,
        model: None,
        firmware_version: None,
        ua_mac: None,
        lan_mac: req.lan_mac,
        resource: Resource::NotServed,
    };
    if let Some(ua) = req.user_agent {
        identify_user_agent(ua, &mut d);
    }
    if d.vendor.is_none() {
        if let Some(p) = req.pnp {
            identify_pnp(p, &mut d);
        }
    }
    let Some(segments) = normalize(req.path) else {
        return d;
    };
    // The engine's own paths first, so no mapping can shadow a phonebook or firmware.
    if let Some(r) = own_scheme(&segments) {
        d.resource = r;
        return d;
    }
    // A mapping names a template, not a phone: the shell renders it for the phone the
    // User-Agent (or PnP) identifies, else the one the network ties to the source address
    // ([`Detection::mac`]), so no path MAC is involved.
    let joined = segments.join("/");
    if let Some(m) = crate::uri_map::find(mappings, &joined) {
        d.resource = Resource::Mapped {
            path: m.path().to_owned(),
            template: m.template().to_owned(),
        };
        return d;
    }
    let Some(file) = segments.last() else {
        return d;
    };
    classify(&join_mac_separators(file), &mut d);
    d
}

/// The file name with any MAC written with `:` or `-` between its octets
/// (`00:15:65:aa:bb:cc.cfg`, `00-15-65-AA-BB-CC.cfg`, as an administrator's DHCP option or a
/// hand-typed URL may spell it) written as the twelve bare hex digits every vendor's phone
/// asks for (`001565aabbcc.cfg`), case kept; other names are returned as they are. A `:` is
/// already percent-decoded here.
pub(crate) fn join_mac_separators(file: &str) -> std::borrow::Cow<'_, str> {
    const LEN: usize = 17;
    let b = file.as_bytes();
    let is_mac_at = |i: usize| -> bool {
        let Some(w) = b.get(i..i + LEN) else {
            return false;
        };
        let sep = w[2];
        (sep == b':' || sep == b'-')
            && w.iter().enumerate().all(|(k, &c)| {
                if k % 3 == 2 {
                    c == sep
                } else {
                    c.is_ascii_hexdigit()
                }
            })
            // Not part of a longer run of hex pairs (`aa-bb-cc-dd-ee-ff-01`,
            // `01-aa-bb-cc-dd-ee-ff`, `1aa:bb:...`): nothing but the separator-free rest of
            // the name may touch it.
            && b.get(i + LEN).is_none_or(|&c| c != sep)
            && !(i > 0 && b.get(i - 1).is_some_and(|&c| c == sep || c.is_ascii_hexdigit()))
    };
    let Some(start) = (0..b.len()).find(|&i| is_mac_at(i)) else {
        return std::borrow::Cow::Borrowed(file);
    };
    let mut out = String::with_capacity(file.len());
    out.push_str(&file[..start]);
    out.extend(
        file[start..start + LEN]
            .chars()
            .filter(|c| *c != ':' && *c != '-'),
    );
    out.push_str(&file[start + LEN..]);
    std::borrow::Cow::Owned(out)
}

fn identify_user_agent(ua: &str, d: &mut Detection) {
    for v in Vendor::PROVISIONED {
        let Ok(m) = v.module() else { continue };
        if let Some(info) = m.parse_user_agent(ua) {
            d.vendor = Some(v);
            d.model = info.model;
            d.firmware_version = info.firmware;
            d.ua_mac = info.mac;
            return;
        }
    }
}

fn identify_pnp(p: &PnpInfo, d: &mut Detection) {
    d.vendor = p.vendor_guess();
    if d.vendor.is_some() {
        d.model = Some(p.model.trim().to_owned()).filter(|m| !m.is_empty());
        d.firmware_version = Some(p.version.trim().to_owned()).filter(|m| !m.is_empty());
        d.ua_mac = p.mac;
    }
}

fn classify(file: &str, d: &mut Detection) {
    let hit = match d.vendor {
        Some(v) => v
            .module()
            .ok()
            .and_then(|m| m.classify_file(file))
            .map(|p| (v, p)),
        None => {
            let hits: Vec<(Vendor, PathMatch)> = Vendor::PROVISIONED
                .into_iter()
                .filter_map(|v| v.module().ok()?.classify_file(file).map(|p| (v, p)))
                .collect();
            // Several vendors use `<mac>.cfg`: the MAC's maker decides.
            let by_oui = hits.iter().position(|(v, p)| match p {
                PathMatch::DeviceConfig { mac } => mac.vendor() == Some(*v),
                PathMatch::Common { .. } => false,
            });
            let idx = by_oui.unwrap_or(0);
            hits.into_iter().nth(idx)
        }
    };
    let Some((vendor, m)) = hit else { return };
    if matches!(m, PathMatch::DeviceConfig { mac } if mac.is_placeholder()) {
        // `000000000000.cfg` is what a phone asks for before it knows its MAC; no phone has it.
        return;
    }
    d.vendor = Some(vendor);
    d.resource = match m {
        PathMatch::DeviceConfig { mac } => Resource::DeviceConfig { mac },
        PathMatch::Common { model } => {
            if d.model.is_none() {
                d.model.clone_from(&model);
            }
            Resource::CommonConfig {
                file: file.to_owned(),
                model: model.or_else(|| d.model.clone()),
            }
        }
    };
}

fn own_scheme(segments: &[String]) -> Option<Resource> {
    match segments {
        [dir, file] if dir == PHONEBOOK_DIR => {
            let file = join_mac_separators(file);
            let stem = file.strip_suffix(".xml")?;
            let mac = Mac::from_hex12(stem)?;
            Some(Resource::Phonebook { mac })
        }
        // `phonebook/<mac>/<file>`: a phone that appends its own file name to a folder; the
        // file is a vendor's declared name (Grandstream `phonebook.xml`), nothing else.
        [dir, mac, file] if dir == PHONEBOOK_DIR => {
            let known = Vendor::PROVISIONED
                .into_iter()
                .any(|v| v.phonebook_file() == Some(file.as_str()));
            let mac = Mac::from_hex12(&join_mac_separators(mac)).filter(|_| known)?;
            Some(Resource::Phonebook { mac })
        }
        [dir, vendor, file] if dir == FIRMWARE_DIR => {
            let vendor: Vendor = vendor.parse().ok()?;
            if !vendor.is_provisioned() || !is_plain_file_name(file) {
                return None;
            }
            Some(Resource::Firmware {
                vendor,
                file: file.clone(),
            })
        }
        _ => None,
    }
}

/// `true` for a file name that is safe to use as a storage key: ASCII letters, digits and
/// `._-+`, not starting with a dot, at most 128 bytes.
pub fn is_plain_file_name(file: &str) -> bool {
    !file.is_empty()
        && file.len() <= 128
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
}

/// Splits a request path into percent-decoded segments, dropping the query string and empty
/// segments. `None` for anything that tries to leave the tree (`..`, `\`, NUL, control
/// characters) or is not UTF-8 after decoding.
pub(crate) fn normalize(path: &str) -> Option<Vec<String>> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut out = Vec::new();
    for raw in path.split('/') {
        if raw.is_empty() || raw == "." {
            continue;
        }
        let seg = percent_decode(raw)?;
        if seg == ".." || seg.contains(['/', '\\']) || seg.chars().any(char::is_control) {
            return None;
        }
        out.push(seg);
    }
    if out.len() > 16 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn only_a_whole_separated_mac_is_joined() {
        for (name, joined) in [
            ("00:15:65:aa:bb:cc.cfg", "001565aabbcc.cfg"),
            ("00-15-65-AA-BB-CC.cfg", "001565AABBCC.cfg"),
            ("cfg00:0b:82:aa:bb:cc.xml", "cfg000b82aabbcc.xml"),
            (
                "snomD785-00:04:13:aa:bb:cc.htm",
                "snomD785-000413aabbcc.htm",
            ),
            // Left as they are: a longer run of pairs, mixed separators, a short one.
            ("aa-bb-cc-dd-ee-ff-01.cfg", "aa-bb-cc-dd-ee-ff-01.cfg"),
            ("01-aa-bb-cc-dd-ee-ff.cfg", "01-aa-bb-cc-dd-ee-ff.cfg"),
            ("1aa:bb:cc:dd:ee:ff.cfg", "1aa:bb:cc:dd:ee:ff.cfg"),
            ("00:15:65-aa:bb:cc.cfg", "00:15:65-aa:bb:cc.cfg"),
            ("00:15:65:aa:bb.cfg", "00:15:65:aa:bb.cfg"),
            ("001565aabbcc.cfg", "001565aabbcc.cfg"),
            ("", ""),
        ] {
            assert_eq!(join_mac_separators(name), joined, "{name}");
        }
    }

    #[test]
    fn normalize_refuses_traversal() {
        assert_eq!(normalize("/a//b/./c.cfg?x=1").unwrap(), ["a", "b", "c.cfg"]);
        assert!(normalize("/../etc/passwd").is_none());
        assert!(normalize("/%2e%2e/etc/passwd").is_none());
        assert!(normalize("/a%2fb").is_none());
        assert!(normalize("/a%5cb").is_none());
        assert!(normalize("/a%00b").is_none());
        assert!(normalize("/a%zz").is_none());
        assert!(normalize("/a%ff").is_none());
    }

    #[test]
    fn own_scheme_paths() {
        let d = detect(
            &PhoneRequest {
                path: "/phonebook/001565AABBCC.xml",
                ..Default::default()
            },
            &[],
        );
        assert_eq!(
            d.resource,
            Resource::Phonebook {
                mac: Mac::parse("001565aabbcc").unwrap()
            }
        );
        let d = detect(
            &PhoneRequest {
                path: "firmware/yealink/T46S-66.86.0.15.rom",
                ..Default::default()
            },
            &[],
        );
        assert_eq!(
            d.resource,
            Resource::Firmware {
                vendor: Vendor::Yealink,
                file: "T46S-66.86.0.15.rom".into()
            }
        );
        for bad in [
            "firmware/ale/x.bin",
            "firmware/yealink/.hidden",
            "firmware/acme/x.rom",
            "phonebook/zz.xml",
        ] {
            let d = detect(
                &PhoneRequest {
                    path: bad,
                    ..Default::default()
                },
                &[],
            );
            assert_eq!(d.resource, Resource::NotServed, "{bad}");
        }
    }
}
