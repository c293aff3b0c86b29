//! The relay sync API: a site's LAN relay pulls everything it needs to render offline.
//!
//! `GET /relay/v1/snapshot` with `Authorization: Bearer <relay token>` (created by the admin
//! API, stored as SHA-256) answers the site's snapshot with a strong ETag (SHA-256 of the
//! body); `If-None-Match` with the current ETag gets 304, so an unchanged site costs the
//! relay one tiny round trip per poll. The snapshot holds SIP passwords (the relay renders
//! configs), so it is only ever served to the site's own relay token.

use serde::Serialize;
use worker::{Env, Headers, Request, Response, Result};

use crate::admin::sites::{Site, SITE_COLUMNS};
use crate::error;

/// What the relay receives.
#[derive(Serialize)]
struct Snapshot {
    site: Site,
    users: Vec<serde_json::Value>,
    phones: Vec<serde_json::Value>,
    blf_keys: Vec<serde_json::Value>,
    templates: Vec<serde_json::Value>,
    uri_mappings: Vec<serde_json::Value>,
    firmware: Vec<serde_json::Value>,
    phonebook: Vec<serde_json::Value>,
}

pub(crate) async fn snapshot(req: &Request, env: &Env) -> Result<Response> {
    let db = env.d1(crate::DB)?;
    let header = req.headers().get("Authorization")?.unwrap_or_default();
    let token = header.strip_prefix("Bearer ").unwrap_or_default().trim();
    let site = if engine::is_token_shaped(token) {
        db.prepare(format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE relay_token_hash = ?1"
        ))
        .bind(&[engine::token_hash(token).into()])?
        .first::<Site>(None)
        .await?
    } else {
        None
    };
    let Some(site) = site else {
        return error::plain(401, "Unauthorized\n");
    };
    let all = |sql: &str| {
        let stmt = db.prepare(sql).bind(&[site.id.as_str().into()]);
        async move { stmt?.all().await?.results::<serde_json::Value>() }
    };
    let snap = Snapshot {
        users: all("SELECT extension, auth_name, sip_password, display_name, voicemail_pin FROM users WHERE site_id = ?1 ORDER BY extension").await?,
        phones: all(
            "SELECT p.mac, p.vendor, p.model, u.extension AS user_extension, t.name AS template \
             FROM phones p LEFT JOIN users u ON u.id = p.user_id LEFT JOIN templates t ON t.id = p.template_id \
             WHERE p.site_id = ?1 ORDER BY p.mac",
        )
        .await?,
        blf_keys: all(
            "SELECT p.mac, b.position, b.extension, b.label, b.line, b.pickup_prefix FROM blf_keys b \
             JOIN phones p ON p.id = b.phone_id WHERE p.site_id = ?1 ORDER BY p.mac, b.position",
        )
        .await?,
        templates: all("SELECT name, vendor, style, composition, source FROM templates WHERE site_id = ?1 ORDER BY name").await?,
        uri_mappings: all(
            "SELECT m.path, t.name AS template FROM uri_mappings m JOIN templates t ON t.id = m.template_id \
             WHERE m.site_id = ?1 ORDER BY m.path",
        )
        .await?,
        firmware: all("SELECT vendor, model, version, file_name, size, sha256 FROM firmware WHERE site_id = ?1 ORDER BY vendor, model, file_name").await?,
        phonebook: all(
            "SELECT s.name AS source, e.name, e.number FROM phonebook_entries e JOIN phonebook_sources s ON s.id = e.source_id \
             WHERE s.site_id = ?1 ORDER BY s.priority, s.id, e.position",
        )
        .await?,
        site,
    };
    let body = serde_json::to_string(&snap).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let etag = format!("\"{}\"", engine::token_hash(&body));
    let headers = Headers::new();
    headers.set("ETag", &etag)?;
    headers.set("Cache-Control", "no-store")?;
    let matches = req
        .headers()
        .get("If-None-Match")?
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    headers.set("Content-Type", "application/json")?;
    Ok(Response::ok(body)?.with_headers(headers))
}
