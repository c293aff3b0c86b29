//! Render inputs: the values a phone's configuration is rendered from (the device, its
//! lines, keys and contacts). The phone's *model* is one field of [`Device`].
//!
//! A shell loads these from its store (D1, a snapshot, a TOML file) and hands them to the
//! engine; the engine never fetches anything itself.

use serde::{Deserialize, Serialize};

use crate::mac::Mac;
use crate::secret::Secret;
use crate::tz::TimeZone;
use crate::vendors::Vendor;

/// SIP transport of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP (the default everywhere).
    #[default]
    Udp,
    /// TCP.
    Tcp,
    /// TLS.
    Tls,
}

impl Transport {
    /// `udp`, `tcp` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

/// One SIP account (a "line") on a phone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Line {
    /// The extension number, e.g. `204`; also the SIP user part.
    pub extension: String,
    /// The SIP digest authentication name (often equal to the extension).
    pub auth_name: String,
    /// The SIP password.
    pub password: Secret<String>,
    /// The caller name shown to others, e.g. `Irina Smirnova`.
    pub display_name: String,
    /// The label shown on the phone's line key; empty means "use display name".
    #[serde(default)]
    pub label: String,
    /// The registrar/proxy host (the PBX), e.g. `pbx.example.com`.
    pub server_host: String,
    /// The registrar port.
    #[serde(default = "default_sip_port")]
    pub server_port: u16,
    /// The SIP transport.
    #[serde(default)]
    pub transport: Transport,
    /// The number dialled to reach voicemail.
    #[serde(default = "default_voicemail")]
    pub voicemail: String,
    /// On a DECT base: the handset slot (1-based) this account belongs to, which the
    /// base's config assigns it to (its incoming and outgoing line). `None` on a desk
    /// phone, and on a base for an account no handset is assigned to.
    #[serde(default)]
    pub handset: Option<u8>,
}

impl Line {
    /// The label to show: `label` if set, else `display_name`, else the extension.
    pub fn effective_label(&self) -> &str {
        if !self.label.is_empty() {
            &self.label
        } else if !self.display_name.is_empty() {
            &self.display_name
        } else {
            &self.extension
        }
    }
}

fn default_sip_port() -> u16 {
    5060
}

fn default_voicemail() -> String {
    "*001".to_owned()
}

/// A busy-lamp-field key: watches another extension, calls it, picks up its calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlfKey {
    /// The monitored extension.
    pub extension: String,
    /// The key label; empty means the extension.
    #[serde(default)]
    pub label: String,
    /// The 1-based account the key belongs to.
    #[serde(default = "one")]
    pub line: u8,
    /// The directed call-pickup prefix, e.g. `*8`; empty means none.
    #[serde(default)]
    pub pickup_prefix: String,
}

impl BlfKey {
    /// The label to show: `label` if set, else the extension.
    pub fn effective_label(&self) -> &str {
        if self.label.is_empty() {
            &self.extension
        } else {
            &self.label
        }
    }
}

fn one() -> u8 {
    1
}

/// A user interface language. Vendors name languages differently; each vendor module maps
/// these to its own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Language {
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Italian.
    It,
    /// Spanish.
    Es,
    /// Dutch.
    Nl,
    /// Portuguese.
    Pt,
    /// Russian.
    Ru,
    /// Polish.
    Pl,
    /// Turkish.
    Tr,
}

impl Language {
    /// Every language, for listings.
    pub const ALL: [Self; 10] = [
        Self::En,
        Self::De,
        Self::Fr,
        Self::It,
        Self::Es,
        Self::Nl,
        Self::Pt,
        Self::Ru,
        Self::Pl,
        Self::Tr,
    ];

    /// The ISO 639-1 code, e.g. `de`.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::It => "it",
            Self::Es => "es",
            Self::Nl => "nl",
            Self::Pt => "pt",
            Self::Ru => "ru",
            Self::Pl => "pl",
            Self::Tr => "tr",
        }
    }

    /// The English name of the language (`English`, `German`, ...).
    pub fn english_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::De => "German",
            Self::Fr => "French",
            Self::It => "Italian",
            Self::Es => "Spanish",
            Self::Nl => "Dutch",
            Self::Pt => "Portuguese",
            Self::Ru => "Russian",
            Self::Pl => "Polish",
            Self::Tr => "Turkish",
        }
    }

    /// Parses an ISO 639-1 code (case-insensitive; `de-DE` style tags accepted).
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }
}

/// The phone being configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Its maker.
    pub vendor: Vendor,
    /// Its model as the vendor names it (`T46S`, `D785`, `X4U`, `GXP2170`, `UC926`); empty if
    /// not known yet.
    #[serde(default)]
    pub model: String,
    /// Its MAC address.
    pub mac: Mac,
}

/// Everything one phone's configuration is rendered from: the device, its accounts, its keys
/// and the site-wide settings that apply to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Profile {
    /// The phone.
    pub device: Device,
    /// Its SIP accounts; the first is the user's own. May be empty for a phone that is not
    /// bound yet (then no account is written).
    #[serde(default)]
    pub lines: Vec<Line>,
    /// BLF keys, in key order.
    #[serde(default)]
    pub blf: Vec<BlfKey>,
    /// NTP server host.
    #[serde(default)]
    pub ntp_server: Option<String>,
    /// Time zone.
    #[serde(default)]
    pub timezone: Option<TimeZone>,
    /// User interface language.
    #[serde(default)]
    pub language: Option<Language>,
    /// URL of the phone's remote phonebook (XML in the vendor's format).
    #[serde(default)]
    pub phonebook_url: Option<String>,
    /// URL of the firmware image the phone should run (empty when none is assigned).
    #[serde(default)]
    pub firmware_url: Option<String>,
    /// Base URL of the provisioning server, which the phone polls and re-fetches from.
    #[serde(default)]
    pub provisioning_url: Option<String>,
    /// Minutes between the phone's periodic provisioning checks; 0 disables the poll.
    #[serde(default = "default_poll")]
    pub poll_interval_minutes: u32,
    /// The site's directory (the same merged list as the remote phonebook), for a vendor
    /// whose config also carries a local phonebook (Snom's `<tbook>`); empty when the shell
    /// did not load it, and then no local phonebook is written.
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

fn default_poll() -> u32 {
    1440
}

impl Profile {
    /// A profile for `device` with no accounts, keys or settings (the poll interval is one
    /// day). Fill in the public fields as needed.
    pub fn new(device: Device) -> Self {
        Self {
            device,
            lines: Vec::new(),
            blf: Vec::new(),
            ntp_server: None,
            timezone: None,
            language: None,
            phonebook_url: None,
            firmware_url: None,
            provisioning_url: None,
            poll_interval_minutes: default_poll(),
            contacts: Vec::new(),
        }
    }

    /// The user's own (first) account, if the phone is bound.
    pub fn primary(&self) -> Option<&Line> {
        self.lines.first()
    }
}

/// A directory entry for phonebooks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Contact {
    /// The name shown.
    pub name: String,
    /// The number dialled.
    pub number: String,
}
