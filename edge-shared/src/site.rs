//! A site's settings as D1 stores them and the APIs carry them: what the admin API takes
//! and returns, what the relay snapshot's `site` is made from. The rules a new setting must
//! meet are the admin API's (`edge-admin`), the only writer.

use serde::{Deserialize, Serialize};

/// A site's settings: what `POST /api/sites` takes, what `PATCH /api/sites/<id>` merges
/// into, and (with the id) what the API and the relay snapshot return.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Shown to admins.
    pub name: String,
    /// The PBX's host name or address.
    pub pbx_host: String,
    /// The PBX's SIP port.
    #[serde(default = "sip_port")]
    pub pbx_port: u16,
    /// The MAC allow list (see `engine::MacPolicy`).
    #[serde(default)]
    pub allow_macs: String,
    /// The MAC deny list.
    #[serde(default)]
    pub deny_macs: String,
    /// Additional Parameters (INI) merged over every config.
    #[serde(default)]
    pub additional_params: String,
    /// How often phones check for a new config; 0: never.
    #[serde(default = "poll")]
    pub poll_interval_minutes: u32,
    /// The star code a phone's user dials to bind it to an extension: a prefix (`*123*` for
    /// `*123*200`) or MikoPBX's Extension Template (`*123*XXX`: a 3-digit extension), see
    /// `engine::StarCodePattern`. Empty: off.
    #[serde(default)]
    pub star_code_pattern: String,
    /// Hot-desking: a bound phone may be bound to another extension by star code. Off by
    /// default (warned in the console while on). A boolean (D1's 0/1 read back too).
    #[serde(default, deserialize_with = "flag")]
    pub hot_desking: bool,
    /// Who may bind a phone by star code: `"pin"` (the user's voicemail PIN follows the
    /// extension, `*123*200*<pin>`), `"approval"` (an administrator approves each binding)
    /// or `"open"` (the extension alone; warned). `null`: a site from before the setting,
    /// still behaving as `star_code_pin` says, warned until an administrator chooses. A new
    /// site without it gets `"pin"`.
    #[serde(default)]
    pub star_code_mode: Option<engine::StarCodeMode>,
    /// The setting before `star_code_mode`: whether the star code must end with the user's
    /// voicemail PIN. Stored as `mode != open` whenever a mode is set, so a relay too old to
    /// know the mode still asks for the PIN. A boolean (D1 keeps it as 0/1, read back too).
    #[serde(default, deserialize_with = "flag")]
    pub star_code_pin: bool,
    /// The NTP server phones use.
    #[serde(default)]
    pub ntp_server: Option<String>,
    /// The phones' time zone (an IANA name).
    #[serde(default)]
    pub timezone: Option<String>,
    /// The phones' language code.
    #[serde(default)]
    pub language: Option<String>,
    /// How long a newly assigned phone may fetch its secrets for the first time.
    #[serde(default = "window")]
    pub window_secs: u32,
    /// Which provisioning URL the site's LAN relay sends by SIP PnP: `"relay"` (its own, the
    /// default) or `"edge"` (each phone's steady-state URL here; see the phone worker's relay API).
    #[serde(default)]
    pub pnp_url: engine::PnpUrl,
    /// Whether the site's LAN relay serves TFTP (see `engine::SiteSettings::tftp_enabled`):
    /// off by default. A boolean (D1 keeps it as 0/1, read back too).
    #[serde(default, deserialize_with = "flag")]
    pub tftp_enabled: bool,
}

fn sip_port() -> u16 {
    5060
}

/// A boolean, or D1's 0/1 for one; anything else is refused.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        serde_json::Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        _ => Err(D::Error::custom("expected true or false")),
    }
}
fn poll() -> u32 {
    1440
}
fn window() -> u32 {
    7 * 86_400
}

/// A site as the API returns it (and as the relay snapshot carries it).
#[derive(Serialize, Deserialize)]
pub struct Site {
    /// Its id.
    pub id: String,
    /// Its settings.
    #[serde(flatten)]
    pub settings: Settings,
}

impl Site {
    /// Which URL the site's relay hands phones by SIP PnP.
    pub fn pnp_url(&self) -> engine::PnpUrl {
        self.settings.pnp_url
    }
}

/// The site as the engine takes it: the relay snapshot's `site`, a sample preview's site.
/// `window_secs` stays behind: the provisioning window is a rule of the edge's phone route,
/// which the engine's settings do not carry.
impl From<Site> for engine::SiteSettings {
    fn from(site: Site) -> Self {
        let Settings {
            name,
            pbx_host,
            pbx_port,
            allow_macs,
            deny_macs,
            additional_params,
            poll_interval_minutes,
            star_code_pattern,
            hot_desking,
            star_code_mode,
            star_code_pin,
            ntp_server,
            timezone,
            language,
            window_secs: _,
            pnp_url,
            tftp_enabled,
        } = site.settings;
        Self {
            id: site.id,
            name,
            pbx_host,
            pbx_port,
            allow_macs,
            deny_macs,
            additional_params,
            poll_interval_minutes,
            star_code_pattern,
            hot_desking,
            star_code_mode,
            star_code_pin,
            ntp_server,
            timezone,
            language,
            pnp_url,
            tftp_enabled,
        }
    }
}

/// The columns of [`Site`], for `SELECT`s.
pub const SITE_COLUMNS: &str =
    "id, name, pbx_host, pbx_port, allow_macs, deny_macs, additional_params, \
     poll_interval_minutes, star_code_pattern, ntp_server, timezone, language, window_secs, pnp_url, \
     star_code_pin, star_code_mode, hot_desking, tftp_enabled";
