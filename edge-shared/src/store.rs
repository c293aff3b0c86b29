//! D1 reads both workers make: a phone joined with its site and user (the phone route
//! serves it, the admin preview renders it), its BLF keys, the site's firmware rows; and the
//! helpers that bind values to statements.

use engine::Vendor;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

/// A phone joined with its site and user: everything a config render needs but BLF keys
/// and firmware rows. Not `Debug`: it holds the SIP and HTTP passwords.
#[derive(Deserialize)]
pub struct PhoneRow {
    /// The phone's id.
    pub id: String,
    /// Its MAC, canonical (12 lowercase hex digits).
    pub mac: String,
    /// Its maker.
    pub vendor: Vendor,
    /// Its model; empty if not known.
    pub model: String,
    /// SHA-256 of its first-access token, until its first use of the steady-state one.
    pub token1_hash: Option<String>,
    /// SHA-256 of its steady-state token.
    pub token2_hash: String,
    /// The steady-state token's generation (rotation counter).
    pub token_generation: f64,
    /// When it was bound (its provisioning window opened).
    pub assigned_at: f64,
    /// When it first fetched its secrets, if it has.
    pub first_fetch_at: Option<f64>,
    /// Its site.
    pub site_id: String,
    /// The site's PBX host.
    pub pbx_host: String,
    /// The site's PBX port.
    pub pbx_port: f64,
    /// The site's MAC allow list.
    pub allow_macs: String,
    /// The site's MAC deny list.
    pub deny_macs: String,
    /// The site's Additional Parameters.
    pub additional_params: String,
    /// The site's config poll interval.
    pub poll_interval_minutes: f64,
    /// The site's NTP server.
    pub ntp_server: Option<String>,
    /// The site's time zone.
    pub timezone: Option<String>,
    /// The site's language.
    pub language: Option<String>,
    /// The site's provisioning window.
    pub window_secs: f64,
    /// Its user's extension, if bound.
    pub extension: Option<String>,
    /// Its user's SIP authentication name.
    pub auth_name: Option<String>,
    /// Its user's SIP password.
    pub sip_password: Option<String>,
    /// Its user's display name.
    pub display_name: Option<String>,
    /// Its template's name, if it has one.
    pub template_name: Option<String>,
    /// Its template's vendor.
    pub template_vendor: Option<Vendor>,
    /// Its template's style.
    pub template_style: Option<engine::TemplateStyle>,
    /// How its template combines with the default config.
    pub template_composition: Option<engine::Composition>,
    /// Its template's source.
    pub template_source: Option<String>,
    /// Its HTTP Basic user name, if it has credentials.
    pub http_user: Option<String>,
    /// Its HTTP Basic password.
    pub http_password: Option<String>,
    /// How many URI mappings the site has (they are loaded only when there are some).
    pub mappings: f64,
}

/// The columns and joins of a [`PhoneRow`]; callers add the `WHERE`.
const PHONE_ROW_SQL: &str =
    "SELECT p.id, p.mac, p.vendor, p.model, p.token1_hash, p.token2_hash, p.token_generation, \
     p.assigned_at, p.first_fetch_at, s.id AS site_id, s.pbx_host, s.pbx_port, s.allow_macs, \
     s.deny_macs, s.additional_params, s.poll_interval_minutes, s.ntp_server, s.timezone, \
     s.language, s.window_secs, u.extension, u.auth_name, u.sip_password, u.display_name, \
     t.name AS template_name, t.vendor AS template_vendor, t.style AS template_style, \
     t.composition AS template_composition, t.source AS template_source, p.http_user, \
     p.http_password, (SELECT COUNT(*) FROM uri_mappings m WHERE m.site_id = s.id) AS mappings \
     FROM phones p JOIN sites s ON s.id = p.site_id LEFT JOIN users u ON u.id = p.user_id \
     LEFT JOIN templates t ON t.id = p.template_id";

/// The generation of a site's token (`engine::site_token`); 0 for an unknown site, whose
/// token is then checked all the same (and fails).
pub async fn site_token_generation(db: &D1Database, site_id: &str) -> Result<u32> {
    let g = db
        .prepare("SELECT site_token_generation FROM sites WHERE id = ?1")
        .bind(&[site_id.into()])?
        .first::<f64>(Some("site_token_generation"))
        .await?;
    Ok(g.map_or(0, |g| g as u32))
}

/// The phone whose first-access or steady-state token hashes to `hash`.
pub async fn phone_by_token(db: &D1Database, hash: &str) -> Result<Option<PhoneRow>> {
    db.prepare(format!(
        "{PHONE_ROW_SQL} WHERE p.token1_hash = ?1 OR p.token2_hash = ?1"
    ))
    .bind(&[hash.into()])?
    .first::<PhoneRow>(None)
    .await
}

/// The site's phone with the (canonical) MAC `mac`.
pub async fn phone_by_mac(db: &D1Database, site_id: &str, mac: &str) -> Result<Option<PhoneRow>> {
    db.prepare(format!(
        "{PHONE_ROW_SQL} WHERE p.site_id = ?1 AND p.mac = ?2"
    ))
    .bind(&[site_id.into(), mac.into()])?
    .first::<PhoneRow>(None)
    .await
}

/// A BLF key row.
#[derive(Debug, Deserialize)]
pub struct BlfRow {
    /// The watched extension.
    pub extension: String,
    /// The key's label.
    pub label: String,
    /// The line (account) it uses.
    pub line: f64,
    /// The call pickup prefix.
    pub pickup_prefix: String,
}

/// The phone's BLF keys in key order.
pub async fn blf_keys(db: &D1Database, phone_id: &str) -> Result<Vec<BlfRow>> {
    db.prepare(
        "SELECT extension, label, line, pickup_prefix FROM blf_keys WHERE phone_id = ?1 ORDER BY position",
    )
    .bind(&[phone_id.into()])?
    .all()
    .await?
    .results()
}

/// A DECT base's handset slot and its user's account.
#[derive(Debug, Deserialize)]
pub struct HandsetRow {
    /// The slot (2 and up; slot 1 is the phone's own user).
    pub slot: f64,
    /// The user's extension.
    pub extension: String,
    /// The user's SIP authentication name.
    pub auth_name: String,
    /// The user's SIP password.
    pub sip_password: engine::Secret<String>,
    /// The user's display name.
    pub display_name: String,
}

/// The users on a DECT base's handset slots after the first, in slot order.
pub async fn handsets(db: &D1Database, phone_id: &str) -> Result<Vec<HandsetRow>> {
    db.prepare(
        "SELECT h.slot, u.extension, u.auth_name, u.sip_password, u.display_name \
         FROM phone_handsets h JOIN users u ON u.id = h.user_id WHERE h.phone_id = ?1 ORDER BY h.slot",
    )
    .bind(&[phone_id.into()])?
    .all()
    .await?
    .results()
}

/// The columns of an [`engine::FirmwareRow`], for `SELECT`s from `firmware`.
pub const FIRMWARE_ROW_COLUMNS: &str = "vendor, model, version, notes, file_name, size, sha256";

/// The site's firmware rows of `vendor` (a phone's, and the preview's sample phone's).
pub async fn firmware_rows(
    db: &D1Database,
    site_id: &str,
    vendor: Vendor,
) -> Result<Vec<engine::FirmwareRow>> {
    db.prepare(format!(
        "SELECT {FIRMWARE_ROW_COLUMNS} FROM firmware WHERE site_id = ?1 AND vendor = ?2"
    ))
    .bind(&[site_id.into(), vendor.as_str().into()])?
    .all()
    .await?
    .results()
}

/// The statements that bind phone `phone_id` to user `user_id` at `now` (a star code the
/// relay reports, an approved binding request): a new assignment, so the provisioning
/// window opens again; a binding request waiting for the phone is settled.
pub fn bind_phone(
    db: &D1Database,
    phone_id: &str,
    user_id: &str,
    now: u64,
) -> Result<Vec<worker::D1PreparedStatement>> {
    Ok(vec![
        db.prepare(
            "UPDATE phones SET user_id = ?2, assigned_at = ?3, first_fetch_at = NULL WHERE id = ?1",
        )
        .bind(&[phone_id.into(), user_id.into(), num(now)])?,
        db.prepare("DELETE FROM binding_requests WHERE phone_id = ?1")
            .bind(&[phone_id.into()])?,
    ])
}

/// Seconds since the epoch (or any count under 2^53) as a D1 parameter.
pub fn num(n: u64) -> JsValue {
    // Seconds since the epoch fit a JS number exactly.
    JsValue::from(n as f64)
}

/// Optional text as a D1 parameter: `NULL` for `None`.
pub fn opt(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from)
}

/// The site's directory as phonebooks show it: its users, then each external source in
/// priority order, merged by number ([`engine::directory`]).
pub async fn directory(db: &D1Database, site_id: &str) -> Result<Vec<engine::Contact>> {
    let contact = |c: ContactRow| engine::Contact {
        name: c.name,
        number: c.number,
    };
    let users: Vec<engine::Contact> = site_users(db, site_id)
        .await?
        .into_iter()
        .map(contact)
        .collect();
    let external: Vec<Vec<engine::Contact>> = external_contacts(db, site_id)
        .await?
        .into_iter()
        .map(|l| l.into_iter().map(contact).collect())
        .collect();
    Ok(engine::directory(&users, &external))
}

/// A directory entry.
#[derive(Debug, Deserialize)]
struct ContactRow {
    name: String,
    number: String,
}

/// The site's users as directory entries.
async fn site_users(db: &D1Database, site_id: &str) -> Result<Vec<ContactRow>> {
    db.prepare("SELECT display_name AS name, extension AS number FROM users WHERE site_id = ?1 ORDER BY extension")
        .bind(&[site_id.into()])?
        .all()
        .await?
        .results()
}

/// External phonebook entries of the site, source by source in priority order.
async fn external_contacts(db: &D1Database, site_id: &str) -> Result<Vec<Vec<ContactRow>>> {
    #[derive(Deserialize)]
    struct Row {
        source_id: String,
        name: String,
        number: String,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT e.source_id, e.name, e.number FROM phonebook_entries e \
             JOIN phonebook_sources s ON s.id = e.source_id WHERE s.site_id = ?1 \
             ORDER BY s.priority, s.id, e.position",
        )
        .bind(&[site_id.into()])?
        .all()
        .await?
        .results()?;
    let mut lists: Vec<Vec<ContactRow>> = Vec::new();
    let mut last: Option<String> = None;
    for r in rows {
        if last.as_deref() != Some(r.source_id.as_str()) {
            lists.push(Vec::new());
            last = Some(r.source_id.clone());
        }
        if let Some(list) = lists.last_mut() {
            list.push(ContactRow {
                name: r.name,
                number: r.number,
            });
        }
    }
    Ok(lists)
}
