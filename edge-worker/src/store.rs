//! D1 access of the phone worker alone: what a phone request and a relay read besides the
//! shared rows (`edge_shared::store`), and the writes a phone's fetch makes.

pub(crate) use edge_shared::store::{
    firmware_rows, phone_by_mac, phone_by_token, PhoneRow, FIRMWARE_ROW_COLUMNS,
};
use edge_shared::store::{num, opt};
use engine::Vendor;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

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

/// Which of a client address's key and a phone's key (miss-counter keys, see
/// [`count_miss`]) are cooling off at `now`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Brake {
    /// The end of the address's cool-off, if it is cooling off.
    pub(crate) address: Option<u64>,
    /// Whether the phone's key is cooling off.
    pub(crate) phone: bool,
}

/// The brake state of `address` and `phone` at `now` (one read).
pub(crate) async fn brake(
    db: &D1Database,
    address: &str,
    phone: Option<&str>,
    now: u64,
) -> Result<Brake> {
    #[derive(Deserialize)]
    struct Row {
        key: String,
        locked_until: f64,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT key, locked_until FROM misses WHERE key IN (?1, ?2) AND locked_until > ?3")
        .bind(&[address.into(), phone.unwrap_or(address).into(), num(now)])?
        .all()
        .await?
        .results()?;
    let mut b = Brake::default();
    for r in rows {
        if r.key == address {
            b.address = Some(r.locked_until as u64);
        } else {
            b.phone = true;
        }
    }
    Ok(b)
}

/// Counts a miss under `key` at `now` in one statement, so that parallel misses are each
/// counted (a read, then a write, loses them). The rule is `engine::MissCounter::record_miss`
/// written in SQL, with `policy`'s numbers: a cool-off that has ended, or a window that has
/// passed, starts the count again; reaching the threshold starts a cool-off; a key already
/// cooling off is left as it is. `expires_at` is when the row holds nothing any more (the
/// admin worker's cron deletes it then). Returns the statement; its row is `locked_until`.
pub(crate) fn count_miss(
    db: &D1Database,
    key: &str,
    now: u64,
    policy: &engine::MissPolicy,
) -> Result<D1PreparedStatement> {
    // ?2 now, ?3 threshold, ?4 window, ?5 cool-off. In SET, every column is the old row's.
    const LOCKED: &str = "?2 < locked_until";
    const RESTART: &str = "(locked_until != 0 OR ?2 >= window_start + ?4)";
    let start = format!("CASE WHEN {RESTART} THEN ?2 ELSE window_start END");
    let count = format!("CASE WHEN {RESTART} THEN 1 ELSE count + 1 END");
    let until = format!("CASE WHEN {count} >= ?3 THEN ?2 + ?5 ELSE 0 END");
    let sql = format!(
        "INSERT INTO misses (key, window_start, count, locked_until, expires_at) \
         VALUES (?1, ?2, 1, CASE WHEN 1 >= ?3 THEN ?2 + ?5 ELSE 0 END, ?2 + MAX(?4, CASE WHEN 1 >= ?3 THEN ?5 ELSE 0 END)) \
         ON CONFLICT (key) DO UPDATE SET \
         window_start = CASE WHEN {LOCKED} THEN window_start ELSE {start} END, \
         count = CASE WHEN {LOCKED} THEN count ELSE {count} END, \
         locked_until = CASE WHEN {LOCKED} THEN locked_until ELSE {until} END, \
         expires_at = CASE WHEN {LOCKED} THEN expires_at ELSE MAX({start} + ?4, {until}) END \
         RETURNING locked_until"
    );
    db.prepare(sql).bind(&[
        key.into(),
        num(now),
        JsValue::from(policy.threshold),
        num(policy.window_secs),
        num(policy.cooloff_secs),
    ])
}

/// Counts a miss under each key (one statement each, in one batch); returns the end of the
/// latest cool-off now running among them, or `None`.
pub(crate) async fn count_misses(
    db: &D1Database,
    keys: &[(&str, engine::MissPolicy)],
    now: u64,
) -> Result<Option<u64>> {
    #[derive(Deserialize)]
    struct Row {
        locked_until: f64,
    }
    let stmts = keys
        .iter()
        .map(|(key, policy)| count_miss(db, key, now, policy))
        .collect::<Result<Vec<_>>>()?;
    let mut until = None;
    for result in db.batch(stmts).await? {
        for row in result.results::<Row>()? {
            let u = row.locked_until as u64;
            if u > now {
                until = until.max(Some(u));
            }
        }
    }
    Ok(until)
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
