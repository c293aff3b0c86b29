//! D1 access of the phone worker alone: what a phone request and a relay read besides the
//! shared rows (`edge_shared::store`), and the writes a phone's fetch makes.

pub(crate) use edge_shared::store::{
    firmware_rows, phone_by_mac, phone_by_token, PhoneRow, FIRMWARE_ROW_COLUMNS,
};
use edge_shared::store::{num, opt};
use engine::Vendor;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Result};

/// The site's URI mappings (validated on save; a row that no longer passes is skipped).
pub(crate) async fn uri_mappings(
    db: &D1Database,
    site_id: &str,
) -> Result<Vec<engine::UriMapping>> {
    #[derive(Deserialize)]
    struct Row {
        path: String,
        template: String,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT m.path, t.name AS template FROM uri_mappings m JOIN templates t ON t.id = m.template_id \
             WHERE m.site_id = ?1 ORDER BY m.path",
        )
        .bind(&[site_id.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .iter()
        .filter_map(|r| engine::UriMapping::new(&r.path, &r.template).ok())
        .collect())
}

/// The site's template `name`, as saved (and validated then).
pub(crate) async fn template(
    db: &D1Database,
    site_id: &str,
    name: &str,
) -> Result<Option<engine::Template>> {
    db.prepare("SELECT name, vendor, style, composition, source FROM templates WHERE site_id = ?1 AND name = ?2")
        .bind(&[site_id.into(), name.into()])?
        .first::<engine::Template>(None)
        .await
}

/// Where a firmware image is stored.
#[derive(Debug, Deserialize)]
pub(crate) struct FirmwareFile {
    pub(crate) r2_key: String,
    pub(crate) size: f64,
}

/// The stored image `file_name` of the site's firmware for a vendor.
pub(crate) async fn firmware_file(
    db: &D1Database,
    site_id: &str,
    vendor: Vendor,
    file_name: &str,
) -> Result<Option<FirmwareFile>> {
    db.prepare(
        "SELECT r2_key, size FROM firmware WHERE site_id = ?1 AND vendor = ?2 AND file_name = ?3",
    )
    .bind(&[site_id.into(), vendor.as_str().into(), file_name.into()])?
    .first::<FirmwareFile>(None)
    .await
}

/// The miss counter of a client address.
pub(crate) async fn misses(db: &D1Database, ip: &str) -> Result<engine::MissCounter> {
    #[derive(Deserialize)]
    struct Row {
        window_start: f64,
        count: f64,
        locked_until: f64,
    }
    let row = db
        .prepare("SELECT window_start, count, locked_until FROM misses WHERE ip = ?1")
        .bind(&[ip.into()])?
        .first::<Row>(None)
        .await?;
    Ok(
        row.map_or_else(engine::MissCounter::default, |r| engine::MissCounter {
            window_start: r.window_start as u64,
            count: r.count as u32,
            locked_until: r.locked_until as u64,
        }),
    )
}

/// Stores the miss counter of a client address.
pub(crate) async fn save_misses(db: &D1Database, ip: &str, c: &engine::MissCounter) -> Result<()> {
    db.prepare(
        "INSERT INTO misses (ip, window_start, count, locked_until) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (ip) DO UPDATE SET window_start = ?2, count = ?3, locked_until = ?4",
    )
    .bind(&[
        ip.into(),
        num(c.window_start),
        JsValue::from(c.count),
        num(c.locked_until),
    ])?
    .run()
    .await?;
    Ok(())
}

/// Records what a phone fetched; the first use of the steady-state token retires the
/// first-access token; the first fetch closes the provisioning window for good.
pub(crate) async fn record_fetch(
    db: &D1Database,
    phone_id: &str,
    now: u64,
    seen: &Seen<'_>,
    retire_first_token: bool,
    first_contact: bool,
) -> Result<()> {
    // `first_fetch_at` (the end of the provisioning window) is set by the device config's
    // own fetch only (`first_contact`), never by a common file or the phonebook.
    let mut sql = String::from(
        "UPDATE phones SET last_ip = ?2, last_user_agent = ?3, last_firmware = ?4, last_file = ?5, \
         last_seen_at = ?6, first_fetch_at = CASE WHEN ?8 THEN COALESCE(first_fetch_at, ?6) ELSE first_fetch_at END, \
         model = CASE WHEN model = '' AND COALESCE(?7, '') != '' THEN ?7 ELSE model END",
    );
    if retire_first_token {
        sql.push_str(", token1_hash = NULL");
    }
    sql.push_str(" WHERE id = ?1");
    let seen_stmt = db.prepare(sql).bind(&[
        phone_id.into(),
        seen.ip.into(),
        seen.user_agent.into(),
        opt(seen.firmware),
        seen.file.into(),
        num(now),
        opt(seen.model),
        JsValue::from(u8::from(first_contact)),
    ])?;
    // The hourly counter of the console's chart, in the same batch: both or neither.
    let hour = now - now % 3600;
    let count = db
        .prepare(
            "INSERT INTO fetch_stats (site_id, hour, vendor, count) \
             SELECT site_id, ?2, vendor, 1 FROM phones WHERE id = ?1 \
             ON CONFLICT (site_id, hour, vendor) DO UPDATE SET count = count + 1",
        )
        .bind(&[phone_id.into(), num(hour)])?;
    let mut batch = vec![seen_stmt, count];
    // In each hour's first minute, rows older than the chart's two days go (a few hundred
    // rows a site at most, so the scan is cheap).
    if now % 3600 < 60 {
        batch.push(
            db.prepare("DELETE FROM fetch_stats WHERE hour < ?1")
                .bind(&[num(hour.saturating_sub(2 * 86_400))])?,
        );
    }
    db.batch(batch).await?;
    Ok(())
}

/// Records a download that is not a config (it does not count as the first fetch).
pub(crate) async fn record_seen(
    db: &D1Database,
    phone_id: &str,
    now: u64,
    seen: &Seen<'_>,
) -> Result<()> {
    db.prepare(
        "UPDATE phones SET last_ip = ?2, last_user_agent = ?3, last_file = ?4, last_seen_at = ?5 WHERE id = ?1",
    )
    .bind(&[phone_id.into(), seen.ip.into(), seen.user_agent.into(), seen.file.into(), num(now)])?
    .run()
    .await?;
    Ok(())
}

/// What a request told us about the phone.
pub(crate) struct Seen<'a> {
    pub(crate) ip: &'a str,
    pub(crate) user_agent: &'a str,
    pub(crate) firmware: Option<&'a str>,
    pub(crate) model: Option<&'a str>,
    pub(crate) file: &'a str,
}
