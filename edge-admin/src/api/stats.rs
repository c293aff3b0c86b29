//! The console's overview of a site: config fetches by hour and vendor over the last 24
//! hours, and the firmware versions the phones report, per model.
//!
//! `GET /api/sites/<site>/stats` -> `{now, hours: [24 hour starts, oldest first],
//! fetches: [{hour, vendor, count}], firmware: [{vendor, model, firmware, phones}],
//! uploaded: [{vendor, model, version}]}`.
//! - `hours` are Unix seconds of each hour's start (UTC); the last one is the current hour.
//! - `fetches` counts config files served by the edge (not firmware or phonebook
//!   downloads), one row per hour and vendor that saw any.
//! - `firmware` groups the site's phones by vendor, model and the firmware version their
//!   last request reported (`null`: never seen), most phones first within a model.
//! - `uploaded` is the site's firmware images (what the phones should be running).

use serde::{Deserialize, Serialize};
use worker::{Method, Response};

use super::{json, ApiResult, Ctx, Route};

/// `/api/sites/<site>/stats`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Get, ["sites", site, "stats"]) => stats(ctx, site).await,
        _ => return None,
    })
}

#[derive(Serialize, Deserialize)]
struct Fetches {
    hour: f64,
    vendor: engine::Vendor,
    count: f64,
}

#[derive(Serialize, Deserialize)]
struct FirmwareGroup {
    vendor: engine::Vendor,
    model: String,
    firmware: Option<String>,
    phones: f64,
}

#[derive(Serialize, Deserialize)]
struct Uploaded {
    vendor: engine::Vendor,
    model: String,
    version: String,
}

async fn stats(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let current = ctx.now - ctx.now % 3600;
    let first = current - 23 * 3600;
    let fetches: Vec<Fetches> = ctx
        .db
        .prepare(
            "SELECT hour, vendor, count FROM fetch_stats WHERE site_id = ?1 AND hour >= ?2 \
             ORDER BY hour, vendor",
        )
        .bind(&[site.into(), (first as f64).into()])?
        .all()
        .await?
        .results()?;
    let firmware: Vec<FirmwareGroup> = ctx
        .db
        .prepare(
            "SELECT vendor, model, last_firmware AS firmware, COUNT(*) AS phones FROM phones \
             WHERE site_id = ?1 GROUP BY vendor, model, last_firmware \
             ORDER BY vendor, model, phones DESC, firmware",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let uploaded: Vec<Uploaded> = ctx
        .db
        .prepare(
            "SELECT vendor, model, version FROM firmware WHERE site_id = ?1 \
             ORDER BY vendor, model, created_at DESC",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let hours: Vec<u64> = (0..24).map(|i| first + i * 3600).collect();
    json(
        200,
        &serde_json::json!({
            "now": ctx.now,
            "hours": hours,
            "fetches": fetches,
            "firmware": firmware,
            "uploaded": uploaded,
        }),
    )
}
