//! A site's inventory and what a phone gets from it: the rules both shells share.
//!
//! [`Inventory`] is a site as the edge's relay snapshot carries it (`GET /relay/v1/snapshot`,
//! JSON) and as a relay's local inventory file holds it (TOML): settings, users, phones, BLF
//! keys, templates, URI mappings, firmware rows and phonebook entries.
//!
//! [`profile`] builds the [`Profile`] a phone's config is rendered from (the edge calls it
//! for each request with the rows it read from D1). [`Site`] is an inventory checked and
//! compiled once (templates, Additional Parameters, MAC lists) that answers a LAN phone's
//! request with [`Site::answer`]: which file, for which phone, allowed or not, rendered how.
//!
//! On the LAN a phone is known by its MAC: the file name it asks for (`<mac>.cfg`,
//! `phonebook/<mac>.xml`) or, for a URI-mapped path, the MAC in its User-Agent. Where the
//! vendor's User-Agent carries a MAC it must be the one in the path; the site's allow/deny
//! lists apply; an unbound phone gets no config. Every refusal is one of two kinds
//! ([`Refusal`]), which the shells answer identically.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::detect::{detect, firmware_path, PhoneRequest, Resource};
use crate::error::Result;
use crate::firmware::{pick_firmware, FirmwareRow};
use crate::inputs::{BlfKey, Contact, Device, Language, Line, Profile, Transport};
use crate::mac::Mac;
use crate::params::AdditionalParams;
use crate::phonebook::{merge_contacts, render_phonebook};
use crate::policy::MacPolicy;
use crate::render::render_common;
use crate::secret::Secret;
use crate::star_code::StarCodePattern;
use crate::template::{Renderer, Template};
use crate::tz::TimeZone;
use crate::uri_map::UriMapping;
use crate::vendors::ConfigSyntax;
use crate::vendors::{CommonContext, Vendor};

/// A site's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteSettings {
    /// The site's id (empty for a local inventory).
    #[serde(default)]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The PBX the phones register with.
    pub pbx_host: String,
    /// Its SIP port.
    #[serde(default = "sip_port")]
    pub pbx_port: u16,
    /// MACs and OUI prefixes allowed (empty: all).
    #[serde(default)]
    pub allow_macs: String,
    /// MACs and OUI prefixes denied (deny wins).
    #[serde(default)]
    pub deny_macs: String,
    /// Additional Parameters (INI), applied after the template.
    #[serde(default)]
    pub additional_params: String,
    /// Minutes between the phones' provisioning checks (0: off).
    #[serde(default = "poll")]
    pub poll_interval_minutes: u32,
    /// The star code for self-binding: a prefix (`*123*`) or MikoPBX's Extension Template
    /// (`*123*XXX`), see [`StarCodePattern`]; empty: off.
    #[serde(default)]
    pub star_code_pattern: String,
    /// Hot-desking: whether a phone that is already bound may be bound to another extension
    /// by star code (under the same [`StarCodeMode`] and brakes). Off by default: it lets
    /// anyone at a bound phone who can bind (a PIN, an approval) move it to another user.
    #[serde(default)]
    pub hot_desking: bool,
    /// How star-code binding is authorised ([`StarCodeMode`]); `None`: never chosen, a
    /// site from before the setting, which keeps its old behaviour ([`Self::star_code_pin`])
    /// and is warned about until an administrator chooses. New sites get
    /// [`StarCodeMode::Pin`].
    #[serde(default)]
    pub star_code_mode: Option<StarCodeMode>,
    /// The setting before [`Self::star_code_mode`]: whether self-binding wants the user's
    /// voicemail PIN after the extension (`*123*200*1234`). Read when no mode is chosen;
    /// written as `mode != open`, so an older relay reading a newer snapshot stays safe.
    #[serde(default)]
    pub star_code_pin: bool,
    /// NTP server.
    #[serde(default)]
    pub ntp_server: Option<String>,
    /// IANA time zone name.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Language code.
    #[serde(default)]
    pub language: Option<String>,
    /// Which provisioning URL SIP PnP hands the phones (see [`Site::pnp_url_for`]).
    #[serde(default)]
    pub pnp_url: PnpUrl,
    /// Whether the site's LAN relay serves TFTP. Off by default: TFTP has no authentication
    /// and no encryption, so anyone on the LAN who guesses a MAC's file name gets its config
    /// (MikoPBX's module keeps TFTP optional, for trusted LANs). The relay's own `[tftp]
    /// enabled` overrides it either way.
    #[serde(default)]
    pub tftp_enabled: bool,
}

/// Which provisioning URL a site's LAN relay sends in its SIP PnP NOTIFY: a site setting
/// (`"relay"` or `"edge"` in the edge's admin API, its relay snapshot and a local inventory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PnpUrl {
    /// The relay's own HTTP URL: phones fetch their files on the LAN (the default).
    #[default]
    Relay,
    /// The phone's steady-state HTTPS URL on the edge ([`PhoneEntry::edge_url`]), so that it
    /// is provisioned the same way in and out of the office; phones without one get the
    /// relay's URL.
    Edge,
}

impl PnpUrl {
    /// `"relay"` or `"edge"`, as the setting is spelled.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relay => "relay",
            Self::Edge => "edge",
        }
    }
}

fn sip_port() -> u16 {
    5060
}
fn poll() -> u32 {
    1440
}

/// A user (extension) of the site. Serialised with its secrets in clear (see
/// [`Inventory`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// The extension number.
    pub extension: String,
    /// The SIP authentication name (the extension if empty).
    #[serde(default)]
    pub auth_name: String,
    /// The SIP password.
    #[serde(serialize_with = "expose")]
    pub sip_password: Secret<String>,
    /// The name shown on the phone.
    #[serde(default)]
    pub display_name: String,
    /// The voicemail PIN.
    #[serde(default, serialize_with = "expose")]
    pub voicemail_pin: Secret<String>,
}

impl User {
    /// The rule for an extension number: 1-32 ASCII letters, digits or `* # + - _ .`. The
    /// edge applies it to every extension it stores and to what names one (a phone's user,
    /// a star-code bind), so a stored extension is always one a phone can dial and a config
    /// can carry.
    pub fn check_extension(ext: &str) -> Result<()> {
        let ok = !ext.is_empty()
            && ext.len() <= 32
            && ext
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"*#+-_.".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(crate::Error::new(
                crate::ErrorKind::InvalidInput,
                "1-32 letters, digits or * # + - _ .",
            ))
        }
    }
}

/// A phone of the site.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneEntry {
    /// Its MAC.
    pub mac: Mac,
    /// Its maker.
    pub vendor: Vendor,
    /// Its model, if known.
    #[serde(default)]
    pub model: String,
    /// The extension of the user it is bound to; `None`: not bound yet (no config).
    #[serde(default)]
    pub user_extension: Option<String>,
    /// The name of its template; `None`: the vendor default.
    #[serde(default)]
    pub template: Option<String>,
    /// Its steady-state base URL on the edge (`https://<edge>/p/<steady token>`, no trailing
    /// `/`), which SIP PnP sends when the site's [`SiteSettings::pnp_url`] is
    /// [`PnpUrl::Edge`]. The edge's snapshot carries it only for a site in that mode and
    /// only for a phone the edge serves at that URL; it holds the phone's token, so it is as
    /// secret as a SIP password and never logged. Left out of the JSON when `None`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_some"
    )]
    pub edge_url: Option<Secret<String>>,
    /// On a DECT base: the users of its handset slots after the first (the first is
    /// [`Self::user_extension`]'s); empty for a desk phone. Left out of the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handsets: Vec<HandsetEntry>,
}

/// A DECT base's handset slot and the user on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandsetEntry {
    /// The slot, 2 and up (slot 1 is the base's own user).
    pub slot: u8,
    /// The extension of the user on it.
    pub user_extension: String,
}

/// A user on a DECT base's handset slot, as a shell hands it to the engine (the preview).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HandsetUser {
    /// The slot, 2 and up (slot 1 is the base's own user).
    pub slot: u8,
    /// The user.
    pub user: User,
}

/// A BLF key of a phone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlfEntry {
    /// The phone's MAC.
    pub mac: Mac,
    /// The key's position (keys are sorted by it).
    #[serde(default)]
    pub position: u32,
    /// The key itself.
    #[serde(flatten)]
    pub key: BlfKey,
}

/// An external phonebook entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhonebookEntry {
    /// The source's name (entries of one source are consecutive, sources in priority order).
    #[serde(default)]
    pub source: String,
    /// The contact's name.
    pub name: String,
    /// The number.
    pub number: String,
}

/// A site's whole inventory: the relay snapshot's wire type. The edge serialises it and the
/// relay deserialises it, so both shells compile against one contract.
///
/// Serialising writes the secrets in clear (the users' SIP passwords and PINs, the phones'
/// edge URLs): the relay renders configs with them. Those fields are [`Secret`]s, which have
/// no `Serialize` of their own; they reach the JSON only through this module's `expose`, by
/// name.
/// The document is as secret as the passwords in it and never logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inventory {
    /// The settings.
    pub site: SiteSettings,
    /// The users.
    #[serde(default)]
    pub users: Vec<User>,
    /// The phones.
    #[serde(default)]
    pub phones: Vec<PhoneEntry>,
    /// The phones' BLF keys.
    #[serde(default)]
    pub blf_keys: Vec<BlfEntry>,
    /// The templates.
    #[serde(default)]
    pub templates: Vec<Template>,
    /// The URI mappings.
    #[serde(default)]
    pub uri_mappings: Vec<UriMapping>,
    /// The firmware images.
    #[serde(default)]
    pub firmware: Vec<FirmwareRow>,
    /// External phonebook entries.
    #[serde(default)]
    pub phonebook: Vec<PhonebookEntry>,
    /// The phonebook sources on a LAN host, which the relay fetches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phonebook_fetch: Vec<PhonebookFetch>,
}

/// A phonebook source the relay fetches (`engine::SourceUrl` says the host is the LAN's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonebookFetch {
    /// The source's id, for the result (`POST /relay/v1/phonebook`).
    pub id: String,
    /// The URL, the only address fetched.
    pub url: String,
    /// Minutes between fetches.
    pub fetch_minutes: u32,
    /// The last "fetch now" request (seconds since the epoch; 0: none): fetch again when it
    /// changes.
    #[serde(default)]
    pub requested_at: u64,
}

/// A secret as its plain value: the one way a [`Secret`] reaches the inventory's JSON.
fn expose<S: serde::Serializer>(
    secret: &Secret<String>,
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_str(secret.expose())
}

/// An optional secret's plain value (`None` is skipped by the field's attribute).
fn expose_some<S: serde::Serializer>(
    secret: &Option<Secret<String>>,
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    match secret {
        Some(s) => expose(s, ser),
        None => ser.serialize_none(),
    }
}

/// The content type of a vendor's config files in its own syntax (for lists of vendors;
/// a rendered file's is [`content_type_of`]).
pub fn config_content_type(vendor: Vendor) -> &'static str {
    content_type(vendor.config_syntax().ok())
}

/// The content type of `body`, a config or common file of `vendor`'s: by the syntax it is
/// written in (an Htek config from a MikoPBX `key = value` template is text, its default
/// XML), so one rule decides both.
pub fn content_type_of(vendor: Vendor, body: &str) -> &'static str {
    content_type(vendor.syntax_of(body).ok())
}

fn content_type(syntax: Option<ConfigSyntax>) -> &'static str {
    match syntax {
        Some(s) if s.is_xml() => "application/xml",
        _ => "text/plain; charset=utf-8",
    }
}

/// The URL of the firmware image `model` of `vendor` gets from `rows`, under `base_url`.
pub fn firmware_url(
    rows: &[FirmwareRow],
    vendor: Vendor,
    model: &str,
    base_url: &str,
) -> Option<String> {
    pick_firmware(rows, vendor, model)
        .map(|f| format!("{base_url}/{}", firmware_path(vendor, &f.file_name)))
}

/// The profile a phone's config is rendered from: the site's settings, the user's account
/// on the site's PBX (no account for an unbound phone), the BLF keys, and the URLs under
/// `base_url` (where the phone fetches its own files, without a trailing `/`).
pub fn profile(
    site: &SiteSettings,
    device: Device,
    user: Option<&User>,
    blf: Vec<BlfKey>,
    firmware: &[FirmwareRow],
    base_url: &str,
) -> Profile {
    let vendor = device.vendor;
    let mac = device.mac;
    let firmware_url = firmware_url(firmware, vendor, &device.model, base_url);
    let mut p = Profile::new(device);
    p.ntp_server = site.ntp_server.clone().filter(|s| !s.is_empty());
    p.timezone = site
        .timezone
        .as_deref()
        .and_then(|t| TimeZone::from_name(t).ok());
    p.language = site.language.as_deref().and_then(Language::from_code);
    p.provisioning_url = Some(base_url.to_owned());
    p.phonebook_url = Some(format!("{base_url}/{}", vendor.phonebook_path(&mac)));
    p.poll_interval_minutes = site.poll_interval_minutes;
    if let Some(u) = user {
        p.lines.push(line(site, u));
        p.blf = blf;
        p.firmware_url = firmware_url;
    }
    p
}

/// The account a user has on the site's PBX.
pub(crate) fn line(site: &SiteSettings, u: &User) -> Line {
    Line {
        extension: u.extension.clone(),
        auth_name: if u.auth_name.is_empty() {
            u.extension.clone()
        } else {
            u.auth_name.clone()
        },
        password: u.sip_password.clone(),
        display_name: u.display_name.clone(),
        label: String::new(),
        server_host: site.pbx_host.clone(),
        server_port: site.pbx_port,
        transport: Transport::Udp,
        voicemail: "*001".to_owned(),
        handset: None,
    }
}

/// Gives a DECT base's handsets their accounts: the phone's own user is handset 1, and each
/// `(slot, user)` of `handsets` (slots 2 and up) adds that user's account on that handset, in
/// slot order, as far as the base's model has handsets and accounts. A phone that is not a
/// known DECT base, or not bound, is left as it is.
pub fn assign_handsets(p: &mut Profile, site: &SiteSettings, handsets: &[(u8, &User)]) {
    let Some(model) = p.device.vendor.model(&p.device.model) else {
        return;
    };
    if !model.is_dect_base() || p.lines.is_empty() {
        return;
    }
    if let Some(first) = p.lines.first_mut() {
        first.handset = Some(1);
    }
    let mut extra: Vec<&(u8, &User)> = handsets
        .iter()
        .filter(|(slot, _)| (2..=model.dect_handsets).contains(slot))
        .collect();
    extra.sort_by_key(|(slot, _)| *slot);
    extra.dedup_by_key(|(slot, _)| *slot);
    for (slot, u) in extra {
        if p.lines.len() >= usize::from(model.accounts) {
            break;
        }
        let mut l = line(site, u);
        l.handset = Some(*slot);
        p.lines.push(l);
    }
}

/// The site's directory: its own users first, then each external source in order, merged
/// by number (see [`merge_contacts`]).
pub fn directory(users: &[Contact], external: &[Vec<Contact>]) -> Vec<Contact> {
    merge_contacts(std::iter::once(users).chain(external.iter().map(Vec::as_slice)))
}

/// The longest edge URL a phone may have (PnP sends it in one UDP datagram).
const MAX_EDGE_URL: usize = 1024;

/// An edge URL is `http://` or `https://` and a host, printable ASCII without spaces (it
/// is sent as a NOTIFY body and written into configs). The error never repeats the URL: it
/// holds a token.
fn check_edge_url(url: &str) -> std::result::Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("the edge URL must start with https:// or http://")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the edge URL has no host");
    }
    if url.len() > MAX_EDGE_URL || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the edge URL must be at most 1024 printable ASCII characters, no spaces");
    }
    if url.ends_with('/') {
        return Err("the edge URL must not end with /");
    }
    Ok(())
}

/// What SIP PnP sends a phone: [`Site::pnp_url_for`]. Its `Debug` leaves the URL out (an
/// edge URL holds the phone's token).
#[derive(Clone, PartialEq, Eq)]
pub struct PnpChoice<'a> {
    /// Whose URL it is.
    pub target: PnpUrl,
    /// The URL (the relay's, or the phone's on the edge), shaped as the phone's vendor
    /// takes it ([`Vendor::pnp_url`]): never log it.
    pub url: std::borrow::Cow<'a, str>,
    /// Why this one.
    pub reason: PnpReason,
}

impl std::fmt::Debug for PnpChoice<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PnpChoice")
            .field("target", &self.target)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// Why [`Site::pnp_url_for`] chose the URL it chose (for the relay's PnP log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PnpReason {
    /// The site sends its phones to the relay.
    RelayMode,
    /// The site sends its phones to the edge, and this one has its edge URL.
    EdgeMode,
    /// Edge mode, but the site does not know the phone (yet).
    UnknownPhone,
    /// Edge mode, but the phone is not bound to a user (the relay may give it a star-code
    /// provisioning account).
    Unbound,
    /// Edge mode, but the phone has no edge URL (a local inventory, or the edge does not
    /// serve it at one: see the relay snapshot's docs).
    NoEdgeUrl,
    /// Edge mode, but the asker is not confirmed as the device with this MAC (the relay's
    /// ARP table holds another MAC or none for its address): the edge URL, good from
    /// anywhere, is not handed out on a MAC's word.
    Unconfirmed,
}

impl PnpReason {
    /// A short lowercase description, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RelayMode => "relay mode",
            Self::EdgeMode => "edge mode",
            Self::UnknownPhone => "edge mode, unknown phone",
            Self::Unbound => "edge mode, phone not bound",
            Self::NoEdgeUrl => "edge mode, phone has no edge URL",
            Self::Unconfirmed => "edge mode, MAC not confirmed at the address",
        }
    }
}

/// What a phone dialled after the site's star-code pattern: `<extension>` or
/// `<extension>*<PIN>` (the user's voicemail PIN, when the site wants it:
/// [`SiteSettings::star_code_pin`]). Its `Debug` leaves the PIN out.
#[derive(Clone, PartialEq, Eq)]
pub struct StarCode {
    /// The extension to bind to: 1 to 32 letters or digits.
    pub extension: String,
    /// The PIN dialled after it: 1 to 16 digits.
    pub pin: Option<Secret<String>>,
}

impl StarCode {
    /// Parses the number a phone dialled (the Request-URI user, percent-decoded) against
    /// the site's `pattern` (`*123*`, or MikoPBX's `*123*XXX`: [`StarCodePattern`]); `None`
    /// when it is not a star code, or the pattern is neither form.
    pub fn parse(number: &str, pattern: &str) -> Option<Self> {
        StarCodePattern::parse(pattern).ok()?.code(number)
    }
}

impl std::fmt::Debug for StarCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StarCode")
            .field("extension", &self.extension)
            .field("pin", &self.pin.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How a site authorises star-code binding: a phone's SIP password is handed to whoever
/// binds it, so the mode decides who may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StarCodeMode {
    /// The user's voicemail PIN follows the extension (`*123*200*<PIN>`); the default.
    Pin,
    /// The dialled binding waits until an administrator approves it in the console.
    Approval,
    /// The extension alone binds: anyone on the LAN who knows the code can take any
    /// extension's password. A convenience the console warns about.
    Open,
}

impl StarCodeMode {
    /// The setting's value (`pin`, `approval`, `open`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pin => "pin",
            Self::Approval => "approval",
            Self::Open => "open",
        }
    }

    /// The mode of a site whose `mode` setting may be unset: then the old `pin` flag decides
    /// (a site from before the setting keeps its behaviour).
    pub fn resolve(mode: Option<Self>, legacy_pin: bool) -> Self {
        mode.unwrap_or(if legacy_pin { Self::Pin } else { Self::Open })
    }

    /// Whether a binding waits for an administrator.
    pub fn needs_approval(self) -> bool {
        self == Self::Approval
    }
}

/// Why a star code binds nothing ([`Site::star_code_user`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StarCodeRefusal {
    /// The site has no user with that extension.
    NoSuchUser,
    /// The site wants the user's PIN after the extension, and none was dialled.
    PinRequired,
    /// The PIN dialled is not the user's (or the user has none).
    WrongPin,
}

impl std::fmt::Display for StarCodeRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NoSuchUser => "no user with this extension",
            Self::PinRequired => "the site wants the user's PIN after the extension",
            Self::WrongPin => "wrong PIN",
        })
    }
}

/// Why a LAN request gets nothing (the shells answer both the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a file we serve, an unknown phone, an unbound phone, an unknown image.
    NotFound,
    /// A denied MAC, or a User-Agent that names another phone or vendor.
    Denied,
}

/// What a LAN request gets.
#[derive(Debug)]
pub enum Answer {
    /// A rendered file (config, common file, phonebook).
    File {
        /// The bytes.
        body: String,
        /// Its content type.
        content_type: &'static str,
        /// The vendor of the phone that asked.
        vendor: Vendor,
    },
    /// A firmware image: the shell streams the stored file.
    Firmware {
        /// The vendor.
        vendor: Vendor,
        /// The image's row (file name, size, SHA-256).
        row: FirmwareRow,
    },
}

/// An inventory checked and compiled: answers LAN requests.
pub struct Site {
    inv: Inventory,
    renderer: Renderer,
    params: AdditionalParams,
    policy: MacPolicy,
    phones: HashMap<Mac, usize>,
    directory: Vec<Contact>,
    /// On a LAN relay: its registrar, for the hot-desking line ([`Site::with_registrar`]).
    pub(crate) registrar: Option<crate::star_code::Registrar>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("id", &self.inv.site.id)
            .field("phones", &self.inv.phones.len())
            .finish_non_exhaustive()
    }
}

impl Site {
    /// Checks and compiles `inv`: MAC lists, Additional Parameters, every template. An
    /// error names what is wrong; the caller keeps serving its previous `Site`.
    pub fn new(inv: Inventory) -> Result<Self> {
        let policy = MacPolicy::parse(&inv.site.allow_macs, &inv.site.deny_macs)?;
        let params = AdditionalParams::parse(&inv.site.additional_params)?;
        for p in &inv.phones {
            if let Some(url) = &p.edge_url {
                check_edge_url(url.expose()).map_err(|e| {
                    crate::error::Error::new(
                        crate::error::ErrorKind::InvalidInput,
                        format!("phone {}: {e}", p.mac),
                    )
                    .with_name("edge_url")
                })?;
            }
        }
        let mut renderer = Renderer::new();
        for t in &inv.templates {
            renderer.load_saved(t.clone())?;
        }
        let phones = inv
            .phones
            .iter()
            .enumerate()
            .map(|(i, p)| (p.mac, i))
            .collect();
        let users: Vec<Contact> = inv
            .users
            .iter()
            .map(|u| Contact {
                name: u.display_name.clone(),
                number: u.extension.clone(),
            })
            .collect();
        let mut external: Vec<Vec<Contact>> = Vec::new();
        let mut last: Option<&str> = None;
        for e in &inv.phonebook {
            if last != Some(e.source.as_str()) || external.is_empty() {
                external.push(Vec::new());
                last = Some(e.source.as_str());
            }
            if let Some(list) = external.last_mut() {
                list.push(Contact {
                    name: e.name.clone(),
                    number: e.number.clone(),
                });
            }
        }
        let directory = directory(&users, &external);
        Ok(Self {
            inv,
            renderer,
            params,
            policy,
            phones,
            directory,
            registrar: None,
        })
    }

    /// The inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inv
    }

    /// The phone with `mac`, if the site has it.
    pub fn phone(&self, mac: &Mac) -> Option<&PhoneEntry> {
        self.phones.get(mac).and_then(|&i| self.inv.phones.get(i))
    }

    /// Whether the site's lists allow `mac`.
    pub fn allows(&self, mac: &Mac) -> bool {
        self.policy.is_allowed(mac)
    }

    /// The user with `extension`.
    pub fn user(&self, extension: &str) -> Option<&User> {
        self.inv.users.iter().find(|u| u.extension == extension)
    }

    /// Answers a LAN phone's request; `base_url` is where the phone fetches its files (e.g.
    /// `http://192.0.2.10:8480`, no trailing `/`).
    pub fn answer(
        &self,
        req: &PhoneRequest<'_>,
        base_url: &str,
    ) -> std::result::Result<Answer, Refusal> {
        let d = detect(req, &self.inv.uri_mappings);
        if !d.ua_mac_matches() {
            return Err(Refusal::Denied);
        }
        let (mac, template) = match &d.resource {
            Resource::DeviceConfig { mac } | Resource::Phonebook { mac } => (*mac, None),
            // A mapped path names no MAC: the User-Agent does, else the network.
            Resource::Mapped { template, .. } => {
                (d.mac().ok_or(Refusal::NotFound)?, Some(template.as_str()))
            }
            Resource::CommonConfig { file, model } => {
                let vendor = d.vendor.ok_or(Refusal::NotFound)?;
                let model = model.as_deref().or(d.model.as_deref()).unwrap_or_default();
                let fw = firmware_url(&self.inv.firmware, vendor, model, base_url);
                let ctx = CommonContext {
                    model: Some(model).filter(|m| !m.is_empty()),
                    base_url: Some(base_url),
                    firmware_url: fw.as_deref(),
                    poll_interval_minutes: self.inv.site.poll_interval_minutes,
                    mac: d.ua_mac,
                };
                let body = render_common(vendor, file, &ctx).map_err(|_| Refusal::NotFound)?;
                return Ok(Answer::File {
                    content_type: content_type_of(vendor, &body),
                    body,
                    vendor,
                });
            }
            Resource::Firmware { vendor, file } => {
                if d.vendor.is_some_and(|v| v != *vendor) {
                    return Err(Refusal::Denied);
                }
                let row = self
                    .inv
                    .firmware
                    .iter()
                    .find(|r| r.vendor == *vendor && r.file_name == *file)
                    .ok_or(Refusal::NotFound)?;
                return Ok(Answer::Firmware {
                    vendor: *vendor,
                    row: row.clone(),
                });
            }
            Resource::NotServed => return Err(Refusal::NotFound),
        };
        let phone = self.phone(&mac).ok_or(Refusal::NotFound)?;
        if d.ua_mac.is_some_and(|m| m != mac) || d.vendor.is_some_and(|v| v != phone.vendor) {
            return Err(Refusal::Denied);
        }
        if !self.allows(&mac) {
            return Err(Refusal::Denied);
        }
        let vendor = phone.vendor;
        if matches!(d.resource, Resource::Phonebook { .. }) {
            let body = render_phonebook(vendor, "Directory", &self.directory)
                .map_err(|_| Refusal::NotFound)?;
            return Ok(Answer::File {
                body,
                content_type: "application/xml",
                vendor,
            });
        }
        let user = phone
            .user_extension
            .as_deref()
            .and_then(|e| self.user(e))
            .ok_or(Refusal::NotFound)?;
        let mut keys: Vec<&BlfEntry> = self.inv.blf_keys.iter().filter(|b| b.mac == mac).collect();
        keys.sort_by_key(|b| b.position);
        let model = if phone.model.is_empty() {
            d.model.clone().unwrap_or_default()
        } else {
            phone.model.clone()
        };
        let mut p = profile(
            &self.inv.site,
            Device { vendor, model, mac },
            Some(user),
            keys.into_iter().map(|b| b.key.clone()).collect(),
            &self.inv.firmware,
            base_url,
        );
        let handsets: Vec<(u8, &User)> = phone
            .handsets
            .iter()
            .filter_map(|h| Some((h.slot, self.user(&h.user_extension)?)))
            .collect();
        assign_handsets(&mut p, &self.inv.site, &handsets);
        p.lines.extend(self.hot_desk_line(phone));
        // The directory rides along for vendors whose config holds a local phonebook.
        if vendor.config_holds_directory() {
            p.contacts = self.directory.clone();
        }
        let template = template.or(phone.template.as_deref());
        let body = self
            .renderer
            .render_config(&Arc::new(p), template, &self.params)
            .map_err(|_| Refusal::NotFound)?;
        Ok(Answer::File {
            content_type: content_type_of(vendor, &body),
            body,
            vendor,
        })
    }
}

impl Site {
    /// The config a phone that is not bound yet gets on a LAN with star-code binding: the
    /// vendor default with one account, `account`, registered at the relay's own registrar
    /// (`registrar_host`:`registrar_port`), labelled with the code to dial. No template and
    /// no Additional Parameters: they are for bound phones. `None` for a MAC the site's lists
    /// refuse, or a phone that is bound (it gets its real config).
    pub fn provisioning_account_config(
        &self,
        device: Device,
        account: &User,
        registrar_host: &str,
        registrar_port: u16,
        base_url: &str,
    ) -> Option<String> {
        if !self.allows(&device.mac)
            || self
                .phone(&device.mac)
                .is_some_and(|p| p.user_extension.is_some())
        {
            return None;
        }
        let mut site = self.inv.site.clone();
        site.pbx_host = registrar_host.to_owned();
        site.pbx_port = registrar_port;
        let p = profile(&site, device, Some(account), Vec::new(), &[], base_url);
        self.renderer
            .render_config(&Arc::new(p), None, &AdditionalParams::default())
            .ok()
    }

    /// The provisioning URL SIP PnP sends phone `mac`, and why; `None` for a MAC the site's
    /// lists refuse (it gets no answer). `relay_base` is the relay's own URL (e.g.
    /// `http://192.0.2.10:8480`); `vendor` is what the SUBSCRIBE says the phone is
    /// ([`crate::PnpInfo::vendor_guess`]), used when the site does not know the phone.
    ///
    /// The phone's edge URL when the site's [`SiteSettings::pnp_url`] is [`PnpUrl::Edge`] and
    /// the phone is bound and has one ([`PhoneEntry::edge_url`]); otherwise the relay's URL:
    /// in relay mode, for a phone the site does not know or has not bound (which the relay
    /// serves a star-code provisioning account, if the site has a star code), and for a
    /// phone without an edge URL (a local inventory, or one the edge does not serve there),
    /// and for an asker not `confirmed` as the device with this MAC (the shell's ARP check:
    /// anyone on the LAN can name any MAC).
    /// Either is shaped as the phone's vendor takes it ([`Vendor::pnp_url`]).
    pub fn pnp_url_for<'a>(
        &'a self,
        mac: &Mac,
        vendor: Option<Vendor>,
        relay_base: &'a str,
        confirmed: bool,
    ) -> Option<PnpChoice<'a>> {
        if !self.allows(mac) {
            return None;
        }
        let phone = self.phone(mac);
        let vendor = phone.map(|p| p.vendor).or(vendor);
        let shape = |url: &'a str| match vendor {
            Some(v) => v.pnp_url(url),
            None => std::borrow::Cow::Borrowed(url),
        };
        let relay = |reason| PnpChoice {
            target: PnpUrl::Relay,
            url: shape(relay_base),
            reason,
        };
        if self.inv.site.pnp_url == PnpUrl::Relay {
            return Some(relay(PnpReason::RelayMode));
        }
        let Some(phone) = phone else {
            return Some(relay(PnpReason::UnknownPhone));
        };
        if phone.user_extension.is_none() {
            return Some(relay(PnpReason::Unbound));
        }
        Some(match &phone.edge_url {
            Some(_) if !confirmed => relay(PnpReason::Unconfirmed),
            Some(url) => PnpChoice {
                target: PnpUrl::Edge,
                url: shape(url.expose()),
                reason: PnpReason::EdgeMode,
            },
            None => relay(PnpReason::NoEdgeUrl),
        })
    }

    /// Whether the site's Additional Parameters say `[debug] verbose = 1`: its LAN relay
    /// logs every PnP packet, MAC and decision.
    pub fn verbose(&self) -> bool {
        self.params.verbose()
    }

    /// The site's star code (e.g. `*123*`), if self-binding is on.
    pub fn star_code(&self) -> Option<&str> {
        Some(self.inv.site.star_code_pattern.as_str()).filter(|s| !s.is_empty())
    }

    /// The site's star code understood ([`StarCodePattern`]); `None`: off, or a setting
    /// that is neither form (the edge refuses to save one; a local inventory may hold one).
    pub fn star_code_pattern(&self) -> Option<StarCodePattern> {
        StarCodePattern::parse(self.star_code()?).ok()
    }

    /// Whether a bound phone may be bound again by star code ([`SiteSettings::hot_desking`]).
    pub fn hot_desking(&self) -> bool {
        self.inv.site.hot_desking
    }

    /// How the site authorises star-code binding ([`StarCodeMode::resolve`]).
    pub fn star_code_mode(&self) -> StarCodeMode {
        StarCodeMode::resolve(self.inv.site.star_code_mode, self.inv.site.star_code_pin)
    }

    /// The user a star code dialled after the site's pattern names (see [`StarCode`]),
    /// checking the voicemail PIN: required in [`StarCodeMode::Pin`], checked whenever one
    /// is dialled (in constant time). A user without a PIN cannot bind by star code while
    /// PINs are required.
    pub fn star_code_user(&self, code: &StarCode) -> std::result::Result<&User, StarCodeRefusal> {
        let user = self
            .user(&code.extension)
            .ok_or(StarCodeRefusal::NoSuchUser)?;
        let pin_required = self.star_code_mode() == StarCodeMode::Pin;
        match (&code.pin, pin_required) {
            (None, false) => Ok(user),
            (None, true) => Err(StarCodeRefusal::PinRequired),
            (Some(pin), _) => {
                let want = user.voicemail_pin.expose();
                let same = crate::secret::ct_eq(pin.expose().as_bytes(), want.as_bytes());
                if same && !want.is_empty() {
                    Ok(user)
                } else {
                    Err(StarCodeRefusal::WrongPin)
                }
            }
        }
    }

    /// A copy of the site with phone `mac` bound to `extension` (added as a phone of
    /// `vendor` if the site does not have it yet). Fails if the site has no such user.
    pub fn with_binding(&self, mac: Mac, vendor: Vendor, extension: &str) -> Result<Self> {
        if self.user(extension).is_none() {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::InvalidInput,
                "no user with this extension",
            )
            .with_name("extension"));
        }
        let mut inv = self.inv.clone();
        match inv.phones.iter_mut().find(|p| p.mac == mac) {
            Some(p) => {
                p.user_extension = Some(extension.to_owned());
                // The edge learns of the binding from the relay: its URL for the phone is
                // known good once the next snapshot carries it.
                p.edge_url = None;
            }
            None => inv.phones.push(PhoneEntry {
                mac,
                vendor,
                model: String::new(),
                user_extension: Some(extension.to_owned()),
                template: None,
                edge_url: None,
                handsets: Vec::new(),
            }),
        }
        let registrar = self.registrar.clone();
        Self::new(inv).map(|s| Self { registrar, ..s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        serde_json::from_str(
            r#"{
              "site": {"id": "s1", "name": "Office", "pbx_host": "pbx.example.com", "pbx_port": 5060,
                       "allow_macs": "", "deny_macs": "00:15:65:de:ad:00", "additional_params": "[yealink]\nphone_setting.backlight_time = 60\n",
                       "poll_interval_minutes": 1440, "star_code_pattern": "*123*", "ntp_server": "pool.ntp.org",
                       "timezone": "Europe/Berlin", "language": "de", "window_secs": 604800},
              "users": [{"extension": "201", "auth_name": "201", "sip_password": "Vq9-kL2m-Zt7x", "display_name": "Ann", "voicemail_pin": "1234"},
                        {"extension": "202", "auth_name": "", "sip_password": "Kp3-wQ8y", "display_name": "Bo <&>", "voicemail_pin": ""}],
              "phones": [{"mac": "001565aabbcc", "vendor": "yealink", "model": "T46S", "user_extension": "201", "template": "desk"},
                         {"mac": "000413aabbcc", "vendor": "snom", "model": "D785", "user_extension": "202", "template": null},
                         {"mac": "001565000009", "vendor": "yealink", "model": "", "user_extension": null, "template": null},
                         {"mac": "001565dead00", "vendor": "yealink", "model": "", "user_extension": "201", "template": null}],
              "blf_keys": [{"mac": "001565aabbcc", "position": 2, "extension": "203", "label": "", "line": 1, "pickup_prefix": ""},
                           {"mac": "001565aabbcc", "position": 1, "extension": "202", "label": "Bo", "line": 1, "pickup_prefix": "*8"}],
              "templates": [{"name": "desk", "vendor": "yealink", "style": "placeholder", "composition": "overlay", "source": "features.dnd.enable = 1\n"},
                            {"name": "legacy", "vendor": "yealink", "style": "jinja", "composition": "overlay", "source": "account.1.label = L{{ user.extension }}\n"}],
              "uri_mappings": [{"path": "legacy/boot.cfg", "template": "legacy"}],
              "firmware": [{"vendor": "yealink", "model": "T46S", "version": "66.86.0.15", "file_name": "T46S-66.86.0.15.rom", "size": 100, "sha256": null}],
              "phonebook": [{"source": "HQ", "name": "Reception", "number": "+49 30 1"}]
            }"#,
        )
        .unwrap()
    }

    const BASE: &str = "http://192.0.2.10:8480";

    fn ask(site: &Site, path: &str, ua: Option<&str>) -> std::result::Result<Answer, Refusal> {
        site.answer(
            &PhoneRequest {
                path,
                user_agent: ua,
                pnp: None,
                lan_mac: None,
            },
            BASE,
        )
    }

    fn body(a: std::result::Result<Answer, Refusal>) -> String {
        match a {
            Ok(Answer::File { body, .. }) => body,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_config_is_served_as_the_syntax_it_is_written_in() {
        for v in Vendor::PROVISIONED {
            let own = config_content_type(v);
            let sample = crate::render::default_config(&crate::sample::profile(v)).unwrap();
            assert_eq!(content_type_of(v, &sample), own, "{v}");
        }
        // An Htek config from a MikoPBX `key = value` template is text, its default XML.
        let htek = "htek".parse::<Vendor>().unwrap();
        assert_eq!(
            content_type_of(htek, "<hl_provision version=\"1\">"),
            "application/xml"
        );
        assert_eq!(
            content_type_of(htek, "#!version:1.0.0.1\naccount.1.enable = 1\n"),
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn an_ale_phone_is_kept_but_never_served() {
        // The edge keeps ALE phones only to redirect them (RPS): a snapshot holding one
        // compiles, and nothing is answered for it, whatever it asks.
        let mut inv = inventory();
        inv.phones.push(
            // Bound to a user, as if behind the edge's back: still nothing.
            serde_json::from_str(
                r#"{"mac": "00809f000042", "vendor": "ale", "model": "ALE-H3P", "user_extension": "201"}"#,
            )
                .unwrap(),
        );
        let site = Site::new(inv).unwrap();
        let mac = Mac::parse("00809f000042").unwrap();
        assert_eq!(site.phone(&mac).map(|p| p.vendor), Some(Vendor::Ale));
        for path in ["config.00809f000042.xml", "00809f000042.cfg", "config.xml"] {
            for ua in [None, Some("ALE H3P 1.0 00:80:9f:00:00:42")] {
                assert!(ask(&site, path, ua).is_err(), "{path} {ua:?}");
            }
        }
    }

    #[test]
    fn star_codes_parse_and_check_the_pin_when_the_site_wants_it() {
        let p = "*123*";
        let c = StarCode::parse("*123*201", p).unwrap();
        assert_eq!((c.extension.as_str(), c.pin.is_none()), ("201", true));
        let c = StarCode::parse("*123*201*1234", p).unwrap();
        assert_eq!(c.pin.as_ref().map(|s| s.expose().as_str()), Some("1234"));
        assert!(!format!("{c:?}").contains("1234"), "Debug shows the PIN");
        for bad in [
            "*123*",
            "*124*201",
            "201",
            "*123*20 1",
            "*123*201*",
            "*123*201*12a",
            "*123*201*1*2",
            "*123**1234",
            &format!("*123*{}", "9".repeat(33)),
            &format!("*123*1*{}", "9".repeat(17)),
        ] {
            assert!(StarCode::parse(bad, p).is_none(), "{bad:?} parsed");
        }
        assert!(
            StarCode::parse("201", "").is_none(),
            "an empty pattern is off"
        );

        // PIN not required: the extension alone binds; a PIN, when dialled, must be right.
        let site = Site::new(inventory()).unwrap();
        let code = |n: &str| StarCode::parse(n, p).unwrap();
        assert_eq!(
            site.star_code_user(&code("*123*201")).unwrap().extension,
            "201"
        );
        assert_eq!(
            site.star_code_user(&code("*123*201*1234"))
                .unwrap()
                .extension,
            "201"
        );
        assert_eq!(
            site.star_code_user(&code("*123*201*1235")).err(),
            Some(StarCodeRefusal::WrongPin)
        );
        assert_eq!(
            site.star_code_user(&code("*123*299")).err(),
            Some(StarCodeRefusal::NoSuchUser)
        );

        assert_eq!(
            site.star_code_mode(),
            StarCodeMode::Open,
            "a site from before the setting"
        );

        // Approval: no PIN needed (an administrator decides), a dialled one still checked.
        let mut inv = inventory();
        inv.site.star_code_mode = Some(StarCodeMode::Approval);
        let site = Site::new(inv).unwrap();
        assert!(site.star_code_mode().needs_approval());
        assert!(site.star_code_user(&code("*123*201")).is_ok());
        assert!(site.star_code_user(&code("*123*201*1235")).is_err());

        // The mode wins over the old flag, both ways.
        let mut inv = inventory();
        inv.site.star_code_pin = true;
        inv.site.star_code_mode = Some(StarCodeMode::Open);
        assert_eq!(Site::new(inv).unwrap().star_code_mode(), StarCodeMode::Open);

        // Required (the old flag, or the mode): no PIN, a wrong one, or a user without one
        // binds nothing.
        let mut inv = inventory();
        inv.site.star_code_pin = true;
        assert_eq!(
            Site::new(inv.clone()).unwrap().star_code_mode(),
            StarCodeMode::Pin
        );
        inv.site.star_code_pin = false;
        inv.site.star_code_mode = Some(StarCodeMode::Pin);
        let site = Site::new(inv).unwrap();
        assert_eq!(
            site.star_code_user(&code("*123*201")).err(),
            Some(StarCodeRefusal::PinRequired)
        );
        assert_eq!(
            site.star_code_user(&code("*123*201*1234"))
                .unwrap()
                .extension,
            "201"
        );
        assert_eq!(
            site.star_code_user(&code("*123*201*123")).err(),
            Some(StarCodeRefusal::WrongPin)
        );
        // User 202 has no PIN: nothing dialled can match it.
        assert_eq!(
            site.star_code_user(&code("*123*202*0")).err(),
            Some(StarCodeRefusal::WrongPin)
        );
        assert_eq!(
            site.star_code_user(&code("*123*202")).err(),
            Some(StarCodeRefusal::PinRequired)
        );
    }

    #[test]
    fn a_bound_phone_gets_its_config_with_template_keys_and_params() {
        let site = Site::new(inventory()).unwrap();
        let cfg = body(ask(
            &site,
            "001565aabbcc.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"),
        ));
        assert!(
            cfg.contains("account.1.password = Vq9-kL2m-Zt7x\n"),
            "{cfg}"
        );
        assert!(cfg.contains("features.dnd.enable = 1\n"));
        assert!(cfg.contains("phone_setting.backlight_time = 60\n"));
        assert!(
            cfg.contains("linekey.2.value = 202\n"),
            "position orders the keys"
        );
        assert!(cfg.contains("linekey.3.value = 203\n"));
        assert!(cfg.contains("http://192.0.2.10:8480/firmware/yealink/T46S-66.86.0.15.rom"));
        // Without a User-Agent (TFTP) the path is enough.
        assert_eq!(body(ask(&site, "/001565AABBCC.cfg", None)), cfg);
    }

    #[test]
    fn refusals() {
        let site = Site::new(inventory()).unwrap();
        let other_ua = Some("Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01");
        assert_eq!(
            ask(&site, "001565aabbcc.cfg", other_ua).unwrap_err(),
            Refusal::Denied
        );
        assert_eq!(
            ask(&site, "001565dead00.cfg", None).unwrap_err(),
            Refusal::Denied
        );
        assert_eq!(
            ask(&site, "001565000009.cfg", None).unwrap_err(),
            Refusal::NotFound,
            "unbound"
        );
        assert_eq!(
            ask(&site, "001565123456.cfg", None).unwrap_err(),
            Refusal::NotFound,
            "unknown"
        );
        assert_eq!(
            ask(&site, "../etc/passwd", None).unwrap_err(),
            Refusal::NotFound
        );
        assert_eq!(
            ask(&site, "firmware/yealink/nope.rom", None).unwrap_err(),
            Refusal::NotFound
        );
        assert_eq!(
            ask(&site, "legacy/boot.cfg", None).unwrap_err(),
            Refusal::NotFound,
            "mapped path needs a UA MAC"
        );
    }

    #[test]
    fn phonebook_common_firmware_and_mapped_paths() {
        let site = Site::new(inventory()).unwrap();
        let book = body(ask(&site, "phonebook/000413aabbcc.xml", None));
        assert!(
            book.contains("Reception") && book.contains("Bo &lt;&amp;&gt;"),
            "{book}"
        );
        let common = body(ask(
            &site,
            "y000000000066.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"),
        ));
        assert!(common.contains(BASE), "{common}");
        match ask(&site, "firmware/yealink/T46S-66.86.0.15.rom", None) {
            Ok(Answer::Firmware { vendor, row }) => {
                assert_eq!(vendor, Vendor::Yealink);
                assert_eq!(row.size, 100);
            }
            other => panic!("{other:?}"),
        }
        let mapped = body(ask(
            &site,
            "legacy/boot.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"),
        ));
        assert!(mapped.contains("account.1.label = L201\n"), "{mapped}");
    }

    #[test]
    fn an_unbound_phone_gets_a_provisioning_account_then_binds() {
        let site = Site::new(inventory()).unwrap();
        let mac = Mac::parse("001565000009").unwrap();
        let account = User {
            extension: "001565000009".into(),
            auth_name: String::new(),
            sip_password: Secret::new("relay-derived-pw".to_owned()),
            display_name: "Dial *123* + extension".into(),
            voicemail_pin: Secret::default(),
        };
        let device = Device {
            vendor: Vendor::Yealink,
            model: "T46S".into(),
            mac,
        };
        let cfg = site
            .provisioning_account_config(device.clone(), &account, "192.0.2.10", 5062, BASE)
            .unwrap();
        assert!(
            cfg.contains("account.1.sip_server_host = 192.0.2.10\n"),
            "{cfg}"
        );
        assert!(cfg.contains("account.1.sip_server_port = 5062\n"));
        assert!(cfg.contains("account.1.password = relay-derived-pw\n"));
        assert!(
            !cfg.contains("backlight"),
            "no Additional Parameters for a provisioning account"
        );
        assert_eq!(site.star_code(), Some("*123*"));
        // Bound phones and denied MACs get none.
        let bound = Device {
            mac: Mac::parse("001565aabbcc").unwrap(),
            ..device.clone()
        };
        assert!(site
            .provisioning_account_config(bound, &account, "h", 1, BASE)
            .is_none());
        let denied = Device {
            mac: Mac::parse("001565dead00").unwrap(),
            ..device.clone()
        };
        assert!(site
            .provisioning_account_config(denied, &account, "h", 1, BASE)
            .is_none());
        // Binding: the phone then gets its real config.
        let bound_site = site.with_binding(mac, Vendor::Yealink, "202").unwrap();
        let real = body(ask(&bound_site, "001565000009.cfg", None));
        assert!(real.contains("account.1.password = Kp3-wQ8y\n"), "{real}");
        let fresh = Mac::parse("001565777777").unwrap();
        let added = site.with_binding(fresh, Vendor::Yealink, "201").unwrap();
        assert!(added.phone(&fresh).is_some());
        assert!(site.with_binding(fresh, Vendor::Yealink, "999").is_err());
    }

    const EDGE: &str = "https://edge.example.com/p/0123456789abcdef0123456789abcdef";

    /// The test inventory in edge mode: every phone with an edge URL but the bound Snom.
    fn edge_site() -> Site {
        let mut inv = inventory();
        inv.site.pnp_url = PnpUrl::Edge;
        for p in &mut inv.phones {
            p.edge_url = Some(Secret::new(format!("{EDGE}{}", p.mac.to_lower_hex())));
        }
        // The bound Snom has none (a local inventory, or one the edge does not serve).
        inv.phones[1].edge_url = None;
        Site::new(inv).unwrap()
    }

    fn choose(site: &Site, mac: &str) -> Option<(PnpUrl, String, PnpReason)> {
        site.pnp_url_for(&Mac::parse(mac).unwrap(), None, BASE, true)
            .map(|c| (c.target, c.url.into_owned(), c.reason))
    }

    #[test]
    fn pnp_sends_the_edge_url_only_in_edge_mode_to_a_bound_phone_that_has_one() {
        let site = edge_site();
        assert_eq!(
            choose(&site, "001565aabbcc"),
            Some((
                PnpUrl::Edge,
                format!("{EDGE}001565aabbcc"),
                PnpReason::EdgeMode
            ))
        );
        let relay = |reason| Some((PnpUrl::Relay, BASE.to_owned(), reason));
        // Snom's NOTIFY URL is a folder URL (its vendor home's `pnp_url`).
        assert_eq!(
            choose(&site, "000413aabbcc"),
            Some((PnpUrl::Relay, format!("{BASE}/"), PnpReason::NoEdgeUrl)),
            "bound, no edge URL"
        );
        assert_eq!(
            choose(&site, "001565000009"),
            relay(PnpReason::Unbound),
            "unbound, even with an edge URL: the relay's star-code account"
        );
        assert_eq!(
            choose(&site, "001565123456"),
            relay(PnpReason::UnknownPhone)
        );
        assert_eq!(choose(&site, "001565dead00"), None, "denied: no answer");
        // A MAC named by someone the relay cannot confirm as that device: never the edge URL.
        assert_eq!(
            site.pnp_url_for(&Mac::parse("001565aabbcc").unwrap(), None, BASE, false)
                .map(|c| (c.target, c.url.into_owned(), c.reason)),
            relay(PnpReason::Unconfirmed)
        );

        // Relay mode (the default): the relay's URL for everyone, edge URLs or not.
        let mut inv = site.inventory().clone();
        inv.site.pnp_url = PnpUrl::default();
        let relay_site = Site::new(inv).unwrap();
        assert_eq!(
            choose(&relay_site, "001565aabbcc"),
            relay(PnpReason::RelayMode)
        );
        assert_eq!(choose(&relay_site, "001565dead00"), None);

        // A star-code binding made on site drops the phone's edge URL until the edge's next
        // snapshot brings it.
        let rebound = site
            .with_binding(Mac::parse("001565000009").unwrap(), Vendor::Yealink, "202")
            .unwrap();
        assert_eq!(
            choose(&rebound, "001565000009"),
            relay(PnpReason::NoEdgeUrl)
        );

        // The URL is never in a Debug.
        let c = site
            .pnp_url_for(&Mac::parse("001565aabbcc").unwrap(), None, BASE, true)
            .unwrap();
        let dbg = format!("{c:?} {:?}", site.inventory().phones);
        assert!(!dbg.contains("0123456789abcdef"), "{dbg}");
        assert!(dbg.contains("Edge"), "{dbg}");
    }

    #[test]
    fn tftp_is_off_unless_the_site_turns_it_on_and_verbose_follows_the_params() {
        let site = |extra: &str| {
            let inv: Inventory = serde_json::from_str(&format!(
                r#"{{"site": {{"pbx_host": "pbx.example.com"{extra}}}}}"#
            ))
            .unwrap();
            Site::new(inv).unwrap()
        };
        let plain = site("");
        assert!(!plain.inventory().site.tftp_enabled, "off by default");
        assert!(!plain.verbose());
        assert!(
            site(r#", "tftp_enabled": true"#)
                .inventory()
                .site
                .tftp_enabled
        );
        assert!(site(r#", "additional_params": "[debug]\nverbose = 1\n""#).verbose());
        assert!(!site(r#", "additional_params": "[debug]\nverbose = 0\n""#).verbose());
    }

    #[test]
    fn pnp_url_is_read_from_the_inventory_and_a_bad_value_is_refused() {
        let json = |pnp: &str, phone: &str| {
            format!(
                r#"{{"site": {{"pbx_host": "pbx.example.com"{pnp}}},
                    "phones": [{{"mac": "001565aabbcc", "vendor": "yealink", "user_extension": "201"{phone}}}]}}"#
            )
        };
        let inv: Inventory = serde_json::from_str(&json("", "")).unwrap();
        assert_eq!(inv.site.pnp_url, PnpUrl::Relay, "relay by default");
        assert!(inv.phones[0].edge_url.is_none());
        let inv: Inventory = serde_json::from_str(&json(
            r#", "pnp_url": "edge""#,
            &format!(r#", "edge_url": "{EDGE}""#),
        ))
        .unwrap();
        assert_eq!(inv.site.pnp_url, PnpUrl::Edge);
        assert_eq!(
            inv.phones[0].edge_url.as_ref().map(|u| u.expose().as_str()),
            Some(EDGE)
        );
        let inv: Inventory = serde_json::from_str(&json(r#", "pnp_url": "relay""#, "")).unwrap();
        assert_eq!(inv.site.pnp_url, PnpUrl::Relay);
        for bad in [r#""bogus""#, r#""Edge""#, r#""""#] {
            let e = serde_json::from_str::<Inventory>(&json(&format!(r#", "pnp_url": {bad}"#), ""))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("unknown variant") && e.contains("`relay`") && e.contains("`edge`"),
                "{bad}: {e}"
            );
        }
        for bad in ["1", "null", "true"] {
            assert!(
                serde_json::from_str::<Inventory>(&json(&format!(r#", "pnp_url": {bad}"#), ""))
                    .is_err(),
                "{bad}"
            );
        }
        assert_eq!(PnpUrl::Edge.as_str(), "edge");
        assert_eq!(serde_json::to_string(&PnpUrl::Relay).unwrap(), r#""relay""#);
        assert_eq!(serde_json::to_string(&PnpUrl::Edge).unwrap(), r#""edge""#);
    }

    #[test]
    fn a_malformed_edge_url_is_refused_without_repeating_it() {
        for bad in [
            "ftp://edge.example.com/p/secret-token-1",
            "https://",
            "https:///p/secret-token-1",
            "https://edge.example.com/p/secret token-1",
            "https://edge.example.com/p/secret-token-1\\r\\nX: y",
            "https://edge.example.com/p/secret-token-1/",
            "edge.example.com/p/secret-token-1",
        ] {
            let inv: Inventory = serde_json::from_str(&format!(
                r#"{{"site": {{"pbx_host": "h", "pnp_url": "edge"}},
                    "phones": [{{"mac": "001565aabbcc", "vendor": "yealink", "edge_url": "{bad}"}}]}}"#
            ))
            .unwrap();
            let e = Site::new(inv).unwrap_err();
            assert_eq!(e.name(), Some("edge_url"), "{bad}");
            let msg = e.to_string();
            assert!(!msg.contains("secret"), "{bad}: {msg}");
            assert!(msg.contains("001565aabbcc"), "{msg}");
        }
        let mut inv = inventory();
        inv.phones[0].edge_url = Some(Secret::new(format!(
            "https://e.example/{}",
            "a".repeat(1100)
        )));
        assert!(Site::new(inv).is_err());
        let mut inv = inventory();
        inv.phones[0].edge_url = Some(Secret::new("http://192.0.2.1:8787/p/t".into()));
        assert!(
            Site::new(inv).is_ok(),
            "plain HTTP (a dev edge) is a URL too"
        );
    }

    #[test]
    fn the_snapshot_json_reads_back_as_the_same_inventory_secrets_in_clear() {
        // The edge writes this type and the relay reads it: what one serialises, the other
        // must read back whole, secrets included (the relay renders with them).
        let mut inv = inventory();
        inv.phones[0].edge_url = Some(Secret::from("https://edge.example.com/p/TOKEN"));
        let json = serde_json::to_string(&inv).unwrap();
        for clear in [
            r#""sip_password":"Vq9-kL2m-Zt7x""#,
            r#""voicemail_pin":"1234""#,
            r#""edge_url":"https://edge.example.com/p/TOKEN""#,
            r#""mac":"001565aabbcc","vendor":"yealink""#,
        ] {
            assert!(json.contains(clear), "{clear} not in {json}");
        }
        assert!(!json.contains("***"), "a redacted secret: {json}");
        assert_eq!(
            json.matches("edge_url").count(),
            1,
            "a phone without one has no edge_url key"
        );
        let back: Inventory = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json, "lossless");
        let site = Site::new(back).unwrap();
        assert_eq!(
            body(ask(&site, "001565aabbcc.cfg", None)),
            body(ask(
                &Site::new(inventory()).unwrap(),
                "001565aabbcc.cfg",
                None
            ))
        );
    }

    #[test]
    fn a_broken_inventory_is_refused_whole() {
        let mut inv = inventory();
        inv.site.deny_macs = "zz".into();
        assert!(Site::new(inv).is_err());
        let mut inv = inventory();
        inv.site.additional_params = "[yealink]\nno separator".into();
        assert!(Site::new(inv).is_err());
        let mut inv = inventory();
        if let Some(t) = inv.templates.get_mut(1) {
            t.source = "{{ user.extension }".into();
        }
        assert!(Site::new(inv).is_err());
    }

    #[test]
    fn extension_rule() {
        for ok in ["200", "a", "*97", "+4930_1.2-#", &"9".repeat(32)] {
            assert!(User::check_extension(ok).is_ok(), "{ok}");
        }
        for bad in ["", " 200", "20 0", "ü", "2\n", &"9".repeat(33)] {
            let e = User::check_extension(bad).err();
            assert_eq!(
                e.map(|e| e.kind()),
                Some(crate::ErrorKind::InvalidInput),
                "{bad:?}"
            );
        }
    }
}
