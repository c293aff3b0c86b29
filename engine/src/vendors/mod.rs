//! The vendors: one folder each (`vendors/<vendor>/`), holding everything the system knows
//! about that vendor: its [`Facts`] (name, OUIs, typical model, Additional Parameters
//! sections, redirection service, check-sync events), its User-Agent and file names,
//! default config, how Additional Parameters merge into it, phonebook and firmware formats
//! (`mod.rs` and the files beside it), and its redirection-service client (`rps.rs`).
//!
//! This file is the registry: [`Vendor`] names the vendors, and [`Vendor::facts`] and
//! [`Vendor::module`] are the only places that map a vendor to its home. Nothing outside
//! `vendors/` matches on a vendor; every other part asks [`Vendor`] (a test in
//! `engine/tests/vendor_homes.rs` fails when a vendor is named outside its home). Adding a
//! vendor is adding a folder, a [`Vendor`] variant and its two lines here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::detect::{PathMatch, UaInfo};
use crate::error::{Error, ErrorKind, Result};
use crate::inputs::{Contact, Profile};
use crate::mac::Mac;
use crate::params::{Param, Section};

pub use model::{check_blf_layout, Model};

pub(crate) mod ale;
pub(crate) mod fanvil;
pub(crate) mod grandstream;
pub(crate) mod htek;
pub(crate) mod kv;
mod model;
pub(crate) mod pvalue;
pub(crate) mod snom;
#[cfg(test)]
mod testing;
pub(crate) mod yealink;

/// A phone maker.
///
/// Serialised as its lowercase name; deserialised through [`FromStr`] (any case), so a
/// wire field holding an unknown vendor fails with the same sentence everywhere:
/// `unknown vendor "x"; expected yealink, snom, ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Yealink.
    Yealink,
    /// Snom.
    Snom,
    /// Fanvil.
    Fanvil,
    /// Grandstream.
    Grandstream,
    /// Htek (Hanlong).
    Htek,
    /// Alcatel-Lucent Enterprise: redirection (RPS) only; its configs are not rendered here.
    Ale,
}

/// The syntax of a vendor's config files, which decides escaping and validation of
/// templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigSyntax {
    /// `key = value` lines (Yealink; Htek templates written the MikoPBX way).
    KeyValue,
    /// Fanvil's `<<VOIP CONFIG FILE>>` text with named modules.
    FanvilModules,
    /// XML (Snom, Grandstream, Htek): templates are auto-escaped and outputs checked
    /// well-formed.
    Xml,
}

impl ConfigSyntax {
    /// `true` when output in this syntax must be well-formed XML.
    pub fn is_xml(self) -> bool {
        self == Self::Xml
    }
}

impl Vendor {
    /// Every vendor.
    pub const ALL: [Self; 6] = [
        Self::Yealink,
        Self::Snom,
        Self::Fanvil,
        Self::Grandstream,
        Self::Htek,
        Self::Ale,
    ];

    /// The vendors whose phones this engine configures (all but ALE).
    pub const PROVISIONED: [Self; 5] = [
        Self::Yealink,
        Self::Snom,
        Self::Fanvil,
        Self::Grandstream,
        Self::Htek,
    ];

    /// Lowercase name: `yealink`, `snom`, `fanvil`, `grandstream`, `htek`, `ale`.
    pub fn as_str(self) -> &'static str {
        self.facts().name
    }

    /// The vendor's name as people write it (`Yealink`, `Alcatel-Lucent Enterprise`).
    pub fn display_name(self) -> &'static str {
        self.facts().display_name
    }

    /// The vendor that owns the OUI (a MAC's first three octets), if it is one we know.
    pub fn from_oui(oui: [u8; 3]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.facts().ouis.contains(&oui))
    }

    /// The OUI our sample phones of this vendor use (its first registered block).
    pub fn sample_oui(self) -> [u8; 3] {
        self.facts().ouis.first().copied().unwrap_or_default()
    }

    /// A typical model of the vendor's, used when no model is known.
    pub fn sample_model(self) -> &'static str {
        self.facts().sample_model
    }

    /// What the vendor's redirection service offers.
    pub fn rps_api(self) -> RpsApi {
        self.facts().rps
    }

    /// For a redirection service that takes one URL per vendor-side site instead of one per
    /// phone (GDMS): the note telling the administrator what to set there.
    pub fn rps_site_url_note(self) -> Option<&'static str> {
        self.facts().rps_site_url_note
    }

    /// For a redirection service without an API (Htek): the overview's note.
    pub fn rps_manual_note(self) -> Option<&'static str> {
        self.facts().rps_manual_note
    }

    /// For a redirection service without an API (Htek): the steps to register one phone by
    /// hand, given its MAC and provisioning URL (the text holds the URL: show it only to the
    /// administrator).
    pub fn rps_manual_instructions(self, mac: Mac, url: &str) -> Option<String> {
        self.rps_code()
            .manual_instructions
            .map(|write| write(mac, url))
    }

    /// The `Event` header of the SIP NOTIFY that makes the vendor's phone fetch its
    /// config again (`reboot` = restart as well); `None` for a vendor this system does
    /// not configure.
    pub fn check_sync_event(self, reboot: bool) -> Option<&'static str> {
        self.facts()
            .check_sync
            .map(|e| if reboot { e.reboot } else { e.resync })
    }

    /// The vendor to address a reboot NOTIFY as when the phone's vendor is not known: every
    /// configured vendor's reboot event is the same (a test holds this), so the first
    /// configured vendor's serves them all.
    pub fn any_for_reboot() -> Self {
        Self::PROVISIONED[0]
    }

    /// The Additional Parameters sections that change the vendor's configs.
    pub fn param_sections(self) -> impl Iterator<Item = Section> {
        self.facts().param_sections.iter().map(|p| p.section)
    }

    /// The vendor's redirection-service code, from its home.
    pub(crate) fn rps_code(self) -> &'static RpsCode {
        match self {
            Self::Yealink => &yealink::RPS_CODE,
            Self::Snom => &snom::RPS_CODE,
            Self::Fanvil => &fanvil::RPS_CODE,
            Self::Grandstream => &grandstream::RPS_CODE,
            Self::Htek => &htek::RPS_CODE,
            Self::Ale => &ale::RPS_CODE,
        }
    }

    /// The vendor's facts, from its home.
    pub(crate) fn facts(self) -> &'static Facts {
        match self {
            Self::Yealink => &yealink::FACTS,
            Self::Snom => &snom::FACTS,
            Self::Fanvil => &fanvil::FACTS,
            Self::Grandstream => &grandstream::FACTS,
            Self::Htek => &htek::FACTS,
            Self::Ale => &ale::FACTS,
        }
    }

    /// `true` if this engine renders configs for the vendor's phones.
    pub fn is_provisioned(self) -> bool {
        self.facts().redirect_only.is_none()
    }

    /// Why nothing that configures a phone (a user, a template, BLF keys, HTTP
    /// credentials, a re-provision or reboot) applies to the vendor's phones, or `None`
    /// when it does. ALE phones are kept only to be redirected (RPS) elsewhere.
    pub fn redirect_only(self) -> Option<&'static str> {
        self.facts().redirect_only
    }

    /// The syntax of the vendor's config files.
    pub fn config_syntax(self) -> Result<ConfigSyntax> {
        Ok(self.module()?.syntax())
    }

    /// The syntax `text` (a template's source or a rendered config) of this vendor's is
    /// written in: [`Self::config_syntax`], unless the vendor's phones read two (Htek).
    pub fn syntax_of(self, text: &str) -> Result<ConfigSyntax> {
        Ok(self.module()?.syntax_of(text))
    }

    /// The relative path under which the vendor's phone with `mac` fetches its phonebook:
    /// `phonebook/<mac>.xml`, or for a vendor whose phonebook setting names a folder to
    /// which the phone appends a file name of its own, `phonebook/<mac>/<that name>`.
    pub fn phonebook_path(self, mac: &Mac) -> String {
        match self.phonebook_file() {
            Some(file) => format!("{}/{mac}/{file}", crate::detect::PHONEBOOK_DIR),
            None => crate::detect::phonebook_path(mac),
        }
    }

    /// The file name the vendor's phone appends to its phonebook folder, if its phonebook
    /// setting names a folder (Grandstream `phonebook.xml`).
    pub fn phonebook_file(self) -> Option<&'static str> {
        self.module().ok().and_then(|m| m.phonebook_file())
    }

    /// File extensions (lowercase, with the dot) accepted for the vendor's firmware images.
    pub fn firmware_extensions(self) -> &'static [&'static str] {
        match self.module() {
            Ok(m) => m.firmware_extensions(),
            Err(_) => &[],
        }
    }

    /// `true` when the vendor's phones may ask for an RPS code at first boot (Yealink's
    /// "RPS ing" and "RPS pin"): the only vendor whose guidance shows them.
    pub fn rps_desk_codes(self) -> bool {
        self.facts().rps_desk_codes
    }

    /// The vendor's example template's source (placeholder style, an overlay), or `None`
    /// for a vendor whose phones are not configured here.
    pub fn example_template(self) -> Option<&'static str> {
        self.module().ok().map(|m| m.example_template())
    }

    /// The names of the vendor's models (its model table), the typical model first: the
    /// console's pickers.
    pub fn known_models(self) -> Vec<&'static str> {
        let mut v = vec![self.sample_model()];
        for m in self.models() {
            if !v.contains(&m.name) {
                v.push(m.name);
            }
        }
        v
    }

    /// `true` when the vendor's config carries the site directory as a local phonebook
    /// (Snom's tbook): a shell fills [`crate::Profile::contacts`] before rendering it, and
    /// need not for any other vendor.
    pub fn config_holds_directory(self) -> bool {
        self.facts().local_directory
    }

    /// The provisioning URL a SIP PnP NOTIFY gives this vendor's phone, from a base URL
    /// (the relay's `http://host:port`, or a phone's edge URL `https://edge/p/<token>`),
    /// shaped as the vendor's firmware takes it (a folder URL with a trailing `/` for a
    /// vendor whose phones ignore any other).
    pub fn pnp_url(self, base: &str) -> std::borrow::Cow<'_, str> {
        match self.facts().pnp_url {
            PnpUrlForm::Folder if !base.ends_with('/') => format!("{base}/").into(),
            _ => base.into(),
        }
    }

    /// The module that knows this vendor, or an `Unsupported` error for ALE.
    pub(crate) fn module(self) -> Result<&'static dyn VendorModule> {
        match self {
            Self::Yealink => Ok(&yealink::Yealink),
            Self::Snom => Ok(&snom::Snom),
            Self::Fanvil => Ok(&fanvil::Fanvil),
            Self::Grandstream => Ok(&grandstream::Grandstream),
            Self::Htek => Ok(&htek::Htek),
            Self::Ale => Err(Error::new(
                ErrorKind::Unsupported,
                "Alcatel-Lucent Enterprise phones are redirected (RPS) but not configured here",
            )),
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Vendor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "unknown vendor {:?}; expected yealink, snom, fanvil, grandstream, htek or ale",
                        crate::error::clip(s)
                    ),
                )
            })
    }
}

impl<'de> Deserialize<'de> for Vendor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse()
            .map_err(|e: Error| serde::de::Error::custom(e.detail()))
    }
}

/// What every part of the system asks about a vendor, answered by a `FACTS` constant in
/// the vendor's home and read through [`Vendor`]'s methods.
#[derive(Debug)]
pub(crate) struct Facts {
    /// Lowercase name, the wire form.
    pub(crate) name: &'static str,
    /// The name as people write it.
    pub(crate) display_name: &'static str,
    /// OUIs registered to the vendor; the first is used for sample MACs.
    pub(crate) ouis: &'static [[u8; 3]],
    /// A typical model.
    pub(crate) sample_model: &'static str,
    /// The Additional Parameters sections that change the vendor's configs, with the
    /// names written between their brackets.
    pub(crate) param_sections: &'static [ParamSection],
    /// The redirection service.
    pub(crate) rps: RpsApi,
    /// For a service that takes no URL per phone but one per vendor-side site (GDMS): what
    /// the administrator must set there, for the console.
    pub(crate) rps_site_url_note: Option<&'static str>,
    /// For a service without an API ([`RpsApi::Manual`]): the overview's note on what the
    /// administrator does by hand.
    pub(crate) rps_manual_note: Option<&'static str>,
    /// Why the vendor's phones are not configured here, only redirected (RPS), or `None`
    /// when this system renders their configs.
    pub(crate) redirect_only: Option<&'static str>,
    /// The check-sync NOTIFY events, or `None` when the vendor is not configured here.
    pub(crate) check_sync: Option<CheckSyncEvents>,
    /// The models this system configures (`vendors/<vendor>/models.rs`); empty when the
    /// vendor is not configured here.
    pub(crate) models: &'static [Model],
    /// How the provisioning URL in a SIP PnP NOTIFY must be shaped for the vendor's phones.
    pub(crate) pnp_url: PnpUrlForm,
    /// `true` when the vendor's config carries the site directory as a local phonebook
    /// ([`Profile::contacts`](crate::Profile)), so shells load it before rendering.
    pub(crate) local_directory: bool,
    /// `true` when a phone redirected by the vendor's service may ask the person at the desk
    /// for a code (Yealink's "RPS ing" and "RPS pin"), so the console shows that guidance.
    pub(crate) rps_desk_codes: bool,
}

/// The shape of the URL a vendor's phone takes from a SIP PnP NOTIFY body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PnpUrlForm {
    /// The base URL as it is (no trailing `/`): the phone appends `/` and its file name.
    Base,
    /// A folder URL ending in `/`: the phone appends its file name and ignores a URL that
    /// does not end in `/`.
    Folder,
}

/// A vendor's redirection-service code, kept apart from its [`Facts`] (which are data) so
/// that a build that never registers a phone (the page's wasm) does not link it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RpsCode {
    /// How the vendor's PortSIP `system.ini` section reads.
    pub(crate) ini: crate::rps::IniSpec,
    /// For a service without an API: the steps for one phone, given its MAC and its
    /// provisioning URL (which holds its token: shown only to the administrator).
    pub(crate) manual_instructions: Option<fn(Mac, &str) -> String>,
}

/// An Additional Parameters section of a vendor's and its name (`snom-phone-settings`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamSection {
    pub(crate) section: Section,
    pub(crate) name: &'static str,
}

/// The `Event` header values of a vendor's re-provisioning NOTIFY.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckSyncEvents {
    /// Fetch the config again, without restarting if the phone can.
    pub(crate) resync: &'static str,
    /// Fetch the config again and restart.
    pub(crate) reboot: &'static str,
}

/// What a vendor's redirection service (RPS) lets this system do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RpsApi {
    /// An API registers and removes phones.
    Full,
    /// An API registers phones but publishes no call to remove one (Grandstream GDMS: a
    /// device is removed in its console).
    NoRemoval,
    /// No API: registration is manual, in the vendor's portal (Htek).
    Manual,
}

impl RpsApi {
    /// `true` when an API registers phones.
    pub fn registers(self) -> bool {
        self != Self::Manual
    }

    /// `true` when the API can remove a phone's registration.
    pub fn removes(self) -> bool {
        self == Self::Full
    }
}

/// What every provisioned vendor's module provides. Implemented by one unit struct per
/// vendor module; the engine's public functions dispatch through [`Vendor::module`].
///
/// Contract for implementers: never panic on any input; all text inputs (paths,
/// User-Agents, configs, overlays) may be hostile.
pub(crate) trait VendorModule: Sync {
    /// The syntax of the vendor's config files.
    fn syntax(&self) -> ConfigSyntax;

    /// Reads the vendor's HTTP User-Agent; `None` if the string is not this vendor's.
    fn parse_user_agent(&self, ua: &str) -> Option<UaInfo>;

    /// Classifies a requested file name (the last path segment, already percent-decoded;
    /// any directory in front was removed by the caller): the device's own config, a common
    /// file, or `None` if the vendor's phones never ask for such a name.
    fn classify_file(&self, file: &str) -> Option<PathMatch>;

    /// The file name under which this vendor's phone with `mac` asks for its own config
    /// (e.g. `001565aabbcc.cfg`), used to build provisioning URLs.
    fn device_file_name(&self, mac: &Mac) -> String;

    /// Writes the complete default config for `profile` into `out`.
    fn write_config(&self, profile: &Profile, out: &mut String);

    /// The syntax `text` (a template's source, or a rendered config) is written in. A vendor
    /// has one syntax ([`Self::syntax`]) unless its phones read two; Htek's read its own XML
    /// and the `key = value` files MikoPBX writes, and a template's own text says which it
    /// is (see `vendors/htek`).
    fn syntax_of(&self, _text: &str) -> ConfigSyntax {
        self.syntax()
    }

    /// Writes the default config for `profile` in `syntax` (one [`Self::syntax_of`] gives):
    /// the config a template in that syntax is merged over. A vendor with one syntax writes
    /// its default config.
    fn write_config_as(&self, profile: &Profile, _syntax: ConfigSyntax, out: &mut String) {
        self.write_config(profile, out);
    }

    /// Writes the common (non-secret) file `file` that [`Self::classify_file`] accepted as
    /// `PathMatch::Common`; `profile_base_url` is where device files live.
    fn write_common(&self, file: &str, common: &CommonContext<'_>, out: &mut String);

    /// Merges a template's output (in the vendor's own syntax, a whole file or a fragment)
    /// over `config`: settings the config has are overridden in place, new ones added.
    fn overlay(&self, config: &str, overlay: &str) -> Result<String>;

    /// Merges Additional Parameters (already filtered to this vendor's sections) into
    /// `config`. Fails, changing nothing, if a parameter cannot be placed.
    fn apply_params(&self, config: &str, params: &[&Param]) -> Result<String>;

    /// Writes the phonebook in the vendor's remote-phonebook format.
    fn write_phonebook(&self, title: &str, contacts: &[Contact], out: &mut String);

    /// Reads a remote phonebook in this vendor's format (a fetched phonebook source, see
    /// `phonebook_source`): its entries, or `None` when `root` is not this vendor's.
    fn read_phonebook(&self, _root: &crate::xml::Element) -> Option<Vec<Contact>> {
        None
    }

    /// Accepted firmware file extensions, lowercase with the dot.
    fn firmware_extensions(&self) -> &'static [&'static str];

    /// The vendor's example template ("Load examples"): placeholder style, an overlay,
    /// commented, each key with its source (`vendors/<vendor>/example.*`).
    fn example_template(&self) -> &'static str;

    /// For a phone whose phonebook setting names a folder: the file name it appends there
    /// (see [`Vendor::phonebook_path`]); `None` (the default) when the setting is the
    /// phonebook file's own URL.
    fn phonebook_file(&self) -> Option<&'static str> {
        None
    }
}

/// Site-wide values available to common (non-secret) files.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommonContext<'a> {
    /// The model the common file is for, if known.
    pub model: Option<&'a str>,
    /// Base URL under which the phone's own files are served (ends without `/`).
    pub base_url: Option<&'a str>,
    /// Firmware URL for this model, if one is assigned.
    pub firmware_url: Option<&'a str>,
    /// Minutes between periodic provisioning checks (0 = off).
    pub poll_interval_minutes: u32,
    /// The phone asking, when the shell knows it (the edge from the token's phone, the relay
    /// from the User-Agent's MAC); `None` over TFTP and for a User-Agent without one. A
    /// common file that must name the phone's own file (Yealink's `y000000000000.boot`) is
    /// not served without it.
    pub mac: Option<Mac>,
}

/// A value made safe for a line-based config: CR, LF and other control characters become
/// spaces, so no value (a display name, a label) can inject a setting of its own.
pub(crate) fn line_safe(value: &str) -> std::borrow::Cow<'_, str> {
    // Fast path on bytes: control characters are ASCII (< 0x20, 0x7f) or C1
    // (U+0080..U+009F, whose UTF-8 lead byte is 0xC2).
    if !value.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return std::borrow::Cow::Borrowed(value);
    }
    if value.chars().any(char::is_control) {
        std::borrow::Cow::Owned(
            value
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// The XML element an Additional Parameter of an XML vendor stands for: its element as given
/// when it has children (`raw_xml`), else an element named by its key with its attributes
/// (`default_attrs` when it gives none) and its value as text, made line-safe. An error at
/// the parameter's line for XML that does not parse or an attribute name that is not one; the
/// key's name is the caller's to check (a Snom setting, a P-code).
pub(crate) fn param_element(
    p: &Param,
    default_attrs: &[(&str, &str)],
) -> Result<crate::xml::Element> {
    let bad = |msg: String| Error::new(ErrorKind::InvalidParams, msg).at(p.line, None);
    if let Some(raw) = &p.raw_xml {
        return crate::xml::Element::parse_fragment_one(raw).map_err(|e| {
            bad(format!(
                "not a single well-formed XML element: {}",
                e.detail()
            ))
        });
    }
    let mut el = crate::xml::Element::new(&p.key);
    if p.attrs.is_empty() {
        for (k, v) in default_attrs {
            el.attrs.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    for (k, v) in &p.attrs {
        if !crate::xml::is_name(k) {
            return Err(bad(format!(
                "{:?} is not a valid attribute name",
                crate::error::clip(k)
            )));
        }
        el.attrs.push((k.clone(), v.clone()));
    }
    el.set_text(&line_safe(&p.value));
    Ok(el)
}

/// Appends the decimal digits of `n` without allocating (the generators' hot path).
pub(crate) fn push_decimal(out: &mut String, mut n: u64) {
    if n < 10 {
        out.push(char::from(b'0' + (n as u8)));
        return;
    }
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        // `n % 10` < 10, so the cast cannot truncate.
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written, so the slice is valid UTF-8.
    if let Some(digits) = buf.get(start..).and_then(|b| std::str::from_utf8(b).ok()) {
        out.push_str(digits);
    }
}

/// `true` for a Grandstream P-code name such as `P3` or `P26015` (at most seven digits,
/// the longest codes in use have five).
pub(crate) fn is_pcode(s: &str) -> bool {
    s.len() > 1
        && s.len() <= 8
        && s.starts_with('P')
        && s.bytes().skip(1).all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn only_yealink_phones_ask_for_rps_codes() {
        // RPS ing and RPS pin are Yealink's mechanism (PROTOCOLS.md).
        for v in Vendor::ALL {
            assert_eq!(v.rps_desk_codes(), v == Vendor::Yealink, "{v}");
        }
    }

    #[test]
    fn decimal_writer() {
        let mut s = String::new();
        for n in [0, 7, 10, 99, 5060, 86_400, u64::from(u32::MAX), u64::MAX] {
            s.clear();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn one_reboot_event_serves_a_phone_of_unknown_vendor() {
        let any = Vendor::any_for_reboot().check_sync_event(true);
        assert!(any.is_some());
        for v in Vendor::PROVISIONED {
            assert_eq!(v.check_sync_event(true), any, "{v}");
            assert!(v.check_sync_event(false).is_some(), "{v}");
        }
        assert_eq!(Vendor::Ale.check_sync_event(true), None);
    }

    #[test]
    fn facts_agree_with_the_registry() {
        for v in Vendor::ALL {
            assert_eq!(
                v.rps_api() == RpsApi::Manual,
                v.rps_manual_note().is_some(),
                "{v}"
            );
            assert_eq!(v.as_str().parse::<Vendor>().unwrap(), v);
            assert_eq!(v.is_provisioned(), v.module().is_ok(), "{v}");
            assert_eq!(v.is_provisioned(), v.redirect_only().is_none(), "{v}");
            assert!(!v.facts().ouis.is_empty(), "{v}");
            assert_eq!(Vendor::from_oui(v.sample_oui()), Some(v));
            for s in v.param_sections() {
                assert_eq!(s.vendor(), Some(v));
            }
        }
        let e = serde_json::from_str::<Vendor>("\"acme\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("unknown vendor \"acme\"; expected yealink"),
            "{e}"
        );
        assert_eq!(
            serde_json::from_str::<Vendor>("\"Snom\"").unwrap(),
            Vendor::Snom
        );
    }

    #[test]
    fn pcodes() {
        assert!(is_pcode("P3") && is_pcode("P26015") && is_pcode("P1234567"));
        assert!(!is_pcode("P") && !is_pcode("p3") && !is_pcode("P12345678") && !is_pcode("P3a"));
    }
}
