//! What a phone's config renders from, read from D1 the same way for the phone route (the
//! config it serves) and the admin preview (the inputs the page renders with), so that a
//! preview is byte for byte what the phone receives.

use engine::{BlfKey, Device, Mac, Secret, Vendor};
use worker::Result;

use crate::store::{self, PhoneRow};

/// `https://host/p/<steady token>`: where the phone fetches from once provisioned.
pub fn base_url(origin: &str, steady: &str) -> String {
    format!("{origin}/p/{steady}")
}

/// The site's settings as the engine takes them, from the phone's row.
fn site_settings(row: &PhoneRow) -> engine::SiteSettings {
    engine::SiteSettings {
        id: row.site_id.clone(),
        name: String::new(),
        pbx_host: row.pbx_host.clone(),
        pbx_port: row.pbx_port as u16,
        allow_macs: row.allow_macs.clone(),
        deny_macs: row.deny_macs.clone(),
        additional_params: row.additional_params.clone(),
        poll_interval_minutes: row.poll_interval_minutes as u32,
        star_code_pattern: String::new(),
        hot_desking: false,
        star_code_mode: None,
        star_code_pin: false,
        ntp_server: row.ntp_server.clone(),
        timezone: row.timezone.clone(),
        language: row.language.clone(),
        // Only the LAN relay's PnP reads it; a config is the same in either mode.
        pnp_url: engine::PnpUrl::default(),
        tftp_enabled: false,
    }
}

/// What a phone's config renders from, as stored: the site's settings, the device, its
/// user (none for a phone not bound to one), its BLF keys and the site's firmware rows.
pub struct Inputs {
    /// The site's settings.
    pub site: engine::SiteSettings,
    /// The phone itself.
    pub device: Device,
    /// Its user; `None` if not bound.
    pub user: Option<engine::User>,
    /// Its BLF keys (none if not bound).
    pub blf: Vec<BlfKey>,
    /// On a DECT base: the users on its handset slots after the first (none if not bound).
    pub handsets: Vec<engine::HandsetUser>,
    /// The site directory, for a vendor whose config carries it as a local phonebook
    /// ([`Vendor::config_holds_directory`]; empty otherwise, and not read).
    pub contacts: Vec<engine::Contact>,
    /// The site's firmware rows of its vendor.
    pub firmware: Vec<engine::FirmwareRow>,
}

/// Reads a phone's [`Inputs`] (its BLF keys only if it is bound).
pub async fn inputs(db: &worker::D1Database, row: &PhoneRow, vendor: Vendor) -> Result<Inputs> {
    let mac = Mac::parse(&row.mac).unwrap_or(Mac::from_octets([0; 6]));
    let user = match (&row.extension, &row.auth_name, &row.sip_password) {
        (Some(extension), Some(auth), Some(password)) => Some(engine::User {
            extension: extension.clone(),
            auth_name: auth.clone(),
            sip_password: Secret::new(password.clone()),
            display_name: row.display_name.clone().unwrap_or_default(),
            voicemail_pin: Secret::default(),
        }),
        _ => None,
    };
    let handsets = match user {
        Some(_) => store::handsets(db, &row.id)
            .await?
            .into_iter()
            .map(|h| engine::HandsetUser {
                slot: h.slot as u8,
                user: engine::User {
                    extension: h.extension,
                    auth_name: h.auth_name,
                    sip_password: h.sip_password,
                    display_name: h.display_name,
                    voicemail_pin: Secret::default(),
                },
            })
            .collect(),
        None => Vec::new(),
    };
    let contacts = if user.is_some() && vendor.config_holds_directory() {
        store::directory(db, &row.site_id).await?
    } else {
        Vec::new()
    };
    let blf = match user {
        Some(_) => store::blf_keys(db, &row.id)
            .await?
            .into_iter()
            .map(|b| BlfKey {
                extension: b.extension,
                label: b.label,
                line: b.line as u8,
                pickup_prefix: b.pickup_prefix,
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Inputs {
        site: site_settings(row),
        device: Device {
            vendor,
            model: row.model.clone(),
            mac,
        },
        user,
        blf,
        handsets,
        contacts,
        firmware: store::firmware_rows(db, &row.site_id, vendor).await?,
    })
}

/// The phone's own template as it was saved (validated then).
pub fn saved_template(row: &PhoneRow) -> Option<engine::Template> {
    Some(engine::Template {
        name: row.template_name.clone()?,
        vendor: row.template_vendor?,
        style: row.template_style?,
        composition: row.template_composition?,
        source: row.template_source.clone()?,
    })
}
