//! Phonebook sources: named contact lists merged (in priority order, after the site's own
//! users) into every phone's directory by the engine. A source is a pasted list, or a URL
//! (another PBX's directory: a vendor phonebook XML, CSV or JSON, see
//! `engine::parse_source`) fetched every `fetch_minutes` (15-10080, default 60): by the edge
//! when its host is public, by the site's relay when it is a LAN address
//! (`engine::SourceUrl`; `fetched_by` says which). A failed fetch keeps the last good
//! entries. A URL with credentials is refused: this version keeps no secret for a source.
//!
//! - `POST /api/sites/<site>/phonebook-sources` `{name, priority?, entries: [{name,
//!   number}]}` or `{name, priority?, url, fetch_minutes?}` -> 201 with the source.
//! - `GET /api/sites/<site>/phonebook-sources` -> every source with its entry count and, for
//!   a URL, its last fetch: `last_fetch_at`, `last_ok_at`, `last_count`, `last_format`,
//!   `last_error` (`null` when the last fetch worked).
//! - `GET /api/sites/<site>/phonebook-sources/<id>` -> the source with its entries.
//! - `PUT /api/sites/<site>/phonebook-sources/<id>` the same body as `POST` -> 200; a list's
//!   entries are replaced as a whole; a URL source keeps its entries while its URL stays.
//! - `POST /api/sites/<site>/phonebook-sources/<id>/fetch` -> the edge fetches it now: 200
//!   with the source and the fetch's result; a relay's source is asked of the relay (its next
//!   poll): 202.
//! - `DELETE /api/sites/<site>/phonebook-sources/<id>` -> 204.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{Method, Response};

use super::sites::{load as load_site, no_content, text};
use super::{audit, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};
use edge_shared::store::opt;

/// `/api/sites/<site>/phonebook-sources...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "phonebook-sources"]) => {
            write(ctx, site, None, r.body).await
        }
        (Method::Get, ["sites", site, "phonebook-sources"]) => list(ctx, site).await,
        (Method::Get, ["sites", site, "phonebook-sources", id]) => get(ctx, site, id, 200).await,
        (Method::Put, ["sites", site, "phonebook-sources", id]) => {
            write(ctx, site, Some(id), r.body).await
        }
        (Method::Post, ["sites", site, "phonebook-sources", id, "fetch"]) => {
            fetch_now(ctx, site, id).await
        }
        (Method::Delete, ["sites", site, "phonebook-sources", id]) => delete(ctx, site, id).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    name: String,
    #[serde(default = "priority")]
    priority: u32,
    #[serde(default)]
    entries: Vec<engine::Contact>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default = "fetch_minutes")]
    fetch_minutes: u32,
}

fn fetch_minutes() -> u32 {
    engine::DEFAULT_FETCH_MINUTES
}

fn priority() -> u32 {
    100
}

/// Checks the body; a URL source's URL, parsed.
fn validate(b: &Body) -> ApiResult<Option<engine::SourceUrl>> {
    text("name", &b.name, 1, 100)?;
    if b.priority > 1_000_000 {
        return Err(ApiError::bad("priority", "0-1000000 (lower comes first)"));
    }
    if !(engine::MIN_FETCH_MINUTES..=engine::MAX_FETCH_MINUTES).contains(&b.fetch_minutes) {
        return Err(ApiError::bad(
            "fetch_minutes",
            format!(
                "{}-{} minutes between fetches",
                engine::MIN_FETCH_MINUTES,
                engine::MAX_FETCH_MINUTES
            ),
        ));
    }
    if let Some(url) = b.url.as_deref() {
        if !b.entries.is_empty() {
            return Err(ApiError::bad(
                "entries",
                "a URL source's entries come from its URL: send either entries or a url",
            ));
        }
        return engine::SourceUrl::parse(url)
            .map(Some)
            .map_err(|e| ApiError::bad("url", e.detail()));
    }
    edge_shared::phonebook::check_entries(&b.entries)?;
    Ok(None)
}

/// Creates (`id` `None`) or replaces a source and all its entries, in one batch.
async fn write(
    ctx: &Ctx<'_>,
    site: &str,
    id: Option<&str>,
    body: Option<&str>,
) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let old = match id {
        Some(id) => Some(exists(ctx, site, id).await?),
        None => None,
    };
    let b: Body = parse_body(body)?;
    let url = validate(&b)?;
    let (id, status, action) = match id {
        Some(id) => (id.to_owned(), 200, "update"),
        None => (new_id("pbs")?, 201, "create"),
    };
    let fetched_by = url
        .as_ref()
        .map(|u| crate::phonebook_fetch::fetcher(ctx.env, u).as_str());
    let mut batch = vec![ctx
        .db
        .prepare(
            "INSERT INTO phonebook_sources (id, site_id, name, priority, url, fetch_minutes, \
             fetched_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET \
             name = ?3, priority = ?4, url = ?5, fetch_minutes = ?6, fetched_by = ?7",
        )
        .bind(&[
            id.as_str().into(),
            site.into(),
            b.name.as_str().into(),
            JsValue::from(b.priority),
            opt(url.as_ref().map(|u| u.url.as_str())),
            JsValue::from(b.fetch_minutes),
            opt(fetched_by),
        ])?];
    let same_url =
        matches!((&old, &url), (Some(o), Some(u)) if o.url.as_deref() == Some(u.url.as_str()));
    if !same_url {
        // A new URL (or a list): what was fetched before is another source's, so it goes,
        // and the new URL is fetched at the next chance.
        batch.push(
            ctx.db
                .prepare(
                    "UPDATE phonebook_sources SET next_fetch_at = 0, last_fetch_at = NULL, \
                     last_ok_at = NULL, last_count = NULL, last_format = NULL, \
                     last_error = NULL WHERE id = ?1",
                )
                .bind(&[id.as_str().into()])?,
        );
        batch.extend(edge_shared::phonebook::replace_entries(
            &ctx.db, &id, &b.entries,
        )?);
    }
    batch.push(audit(ctx, action, "phonebook source", &id)?);
    ctx.db.batch(batch).await?;
    get(ctx, site, &id, status).await
}

/// `POST .../phonebook-sources/<id>/fetch`: the edge's source fetched now; the relay's
/// asked of the relay.
async fn fetch_now(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let s = exists(ctx, site, id).await?;
    let Some(url) = s.url.as_deref() else {
        return Err(ApiError::bad("url", "a pasted list is not fetched"));
    };
    if s.fetched_by.as_deref() == Some("edge") {
        crate::phonebook_fetch::fetch_and_record(ctx.env, &ctx.db, id, url).await?;
        return get(ctx, site, id, 200).await;
    }
    ctx.db
        .batch(vec![
            ctx.db
                .prepare("UPDATE phonebook_sources SET fetch_requested_at = ?2 WHERE id = ?1")
                .bind(&[id.into(), edge_shared::store::num(ctx.now)])?,
            audit(ctx, "fetch", "phonebook source", id)?,
        ])
        .await?;
    get(ctx, site, id, 202).await
}

/// A source's row as the API shows it.
#[derive(Serialize, Deserialize)]
struct Source {
    id: String,
    name: String,
    priority: f64,
    url: Option<String>,
    fetch_minutes: f64,
    fetched_by: Option<String>,
    last_fetch_at: Option<f64>,
    last_ok_at: Option<f64>,
    last_count: Option<f64>,
    last_format: Option<String>,
    last_error: Option<String>,
}

const SOURCE_COLUMNS: &str = "s.id, s.name, s.priority, s.url, s.fetch_minutes, s.fetched_by, \
    s.last_fetch_at, s.last_ok_at, s.last_count, s.last_format, s.last_error";

async fn exists(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<Source> {
    ctx.db
        .prepare(format!(
            "SELECT {SOURCE_COLUMNS} FROM phonebook_sources s WHERE s.site_id = ?1 AND s.id = ?2"
        ))
        .bind(&[site.into(), id.into()])?
        .first::<Source>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("phonebook source"))
}

async fn get(ctx: &Ctx<'_>, site: &str, id: &str, status: u16) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let s = exists(ctx, site, id).await?;
    let entries: Vec<engine::Contact> = ctx
        .db
        .prepare(
            "SELECT name, number FROM phonebook_entries WHERE source_id = ?1 ORDER BY position",
        )
        .bind(&[id.into()])?
        .all()
        .await?
        .results()?;
    let mut v = serde_json::to_value(&s).map_err(|e| worker::Error::RustError(e.to_string()))?;
    v["entries"] =
        serde_json::to_value(&entries).map_err(|e| worker::Error::RustError(e.to_string()))?;
    json(status, &v)
}

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let rows: Vec<serde_json::Value> = ctx
        .db
        .prepare(format!(
            "SELECT {SOURCE_COLUMNS}, (SELECT COUNT(*) FROM phonebook_entries e WHERE \
             e.source_id = s.id) AS entries FROM phonebook_sources s WHERE s.site_id = ?1 \
             ORDER BY s.priority, s.id"
        ))
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    json(200, &rows)
}

async fn delete(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let s = exists(ctx, site, id).await?;
    super::delete_row(ctx, "phonebook_sources", "phonebook source", &s.id).await?;
    Ok(no_content()?)
}
