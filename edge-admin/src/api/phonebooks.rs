//! Phonebook sources: named contact lists merged (in priority order, after the site's own
//! users) into every phone's directory by the engine.
//!
//! - `POST /api/sites/<site>/phonebook-sources` `{name, priority?, entries: [{name,
//!   number}]}` -> 201 with the source.
//! - `GET /api/sites/<site>/phonebook-sources` -> every source with its entry count.
//! - `GET /api/sites/<site>/phonebook-sources/<id>` -> the source with its entries.
//! - `PUT /api/sites/<site>/phonebook-sources/<id>` the same body as `POST` -> 200; the
//!   entries are replaced as a whole.
//! - `DELETE /api/sites/<site>/phonebook-sources/<id>` -> 204.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{Method, Response};

use super::sites::{load as load_site, no_content, text};
use super::{audit, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};

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
    entries: Vec<Entry>,
}

fn priority() -> u32 {
    100
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    number: String,
}

/// Rows per multi-row INSERT: 25 rows of 4 values stay within D1's 100 bound parameters.
const ROWS_PER_INSERT: usize = 25;

fn validate(b: &Body) -> ApiResult<()> {
    text("name", &b.name, 1, 100)?;
    if b.priority > 1_000_000 {
        return Err(ApiError::bad("priority", "0-1000000 (lower comes first)"));
    }
    if b.entries.len() > engine::MAX_PHONEBOOK_ENTRIES {
        return Err(ApiError::bad(
            "entries",
            format!("at most {} entries", engine::MAX_PHONEBOOK_ENTRIES),
        ));
    }
    for (i, e) in b.entries.iter().enumerate() {
        text(&format!("entries[{i}].name"), &e.name, 1, 100)?;
        let ok = (1..=32).contains(&e.number.len())
            && e.number.bytes().any(|c| c.is_ascii_digit())
            && e.number
                .bytes()
                .all(|c| c.is_ascii_digit() || b"+*#-() ".contains(&c));
        if !ok {
            return Err(ApiError::bad(
                &format!("entries[{i}].number"),
                "1-32 characters: digits and + * # - ( ) or spaces",
            ));
        }
    }
    Ok(())
}

/// Creates (`id` `None`) or replaces a source and all its entries, in one batch.
async fn write(
    ctx: &Ctx<'_>,
    site: &str,
    id: Option<&str>,
    body: Option<&str>,
) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    if let Some(id) = id {
        exists(ctx, site, id).await?;
    }
    let b: Body = parse_body(body)?;
    validate(&b)?;
    let (id, status, action) = match id {
        Some(id) => (id.to_owned(), 200, "update"),
        None => (new_id("pbs")?, 201, "create"),
    };
    let mut batch = vec![ctx
        .db
        .prepare(
            "INSERT INTO phonebook_sources (id, site_id, name, priority) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET name = ?3, priority = ?4",
        )
        .bind(&[
            id.as_str().into(),
            site.into(),
            b.name.as_str().into(),
            JsValue::from(b.priority),
        ])?];
    batch.push(
        ctx.db
            .prepare("DELETE FROM phonebook_entries WHERE source_id = ?1")
            .bind(&[id.as_str().into()])?,
    );
    for (chunk_no, chunk) in b.entries.chunks(ROWS_PER_INSERT).enumerate() {
        let mut sql = String::from(
            "INSERT INTO phonebook_entries (source_id, position, name, number) VALUES ",
        );
        let mut params: Vec<JsValue> = Vec::with_capacity(chunk.len() * 4);
        for (i, e) in chunk.iter().enumerate() {
            let n = params.len();
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(?{}, ?{}, ?{}, ?{})", n + 1, n + 2, n + 3, n + 4));
            params.push(id.as_str().into());
            params.push(JsValue::from((chunk_no * ROWS_PER_INSERT + i) as u32));
            params.push(e.name.as_str().into());
            params.push(e.number.as_str().into());
        }
        batch.push(ctx.db.prepare(sql).bind(&params)?);
    }
    batch.push(audit(ctx, action, "phonebook source", &id)?);
    ctx.db.batch(batch).await?;
    get(ctx, site, &id, status).await
}

#[derive(Serialize, Deserialize)]
struct Source {
    id: String,
    name: String,
    priority: f64,
}

async fn exists(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<Source> {
    ctx.db
        .prepare("SELECT id, name, priority FROM phonebook_sources WHERE site_id = ?1 AND id = ?2")
        .bind(&[site.into(), id.into()])?
        .first::<Source>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("phonebook source"))
}

async fn get(ctx: &Ctx<'_>, site: &str, id: &str, status: u16) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let s = exists(ctx, site, id).await?;
    let entries: Vec<Entry> = ctx
        .db
        .prepare(
            "SELECT name, number FROM phonebook_entries WHERE source_id = ?1 ORDER BY position",
        )
        .bind(&[id.into()])?
        .all()
        .await?
        .results()?;
    json(
        status,
        &serde_json::json!({ "id": s.id, "name": s.name, "priority": s.priority, "entries": entries }),
    )
}

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let rows: Vec<serde_json::Value> = ctx
        .db
        .prepare(
            "SELECT s.id, s.name, s.priority, (SELECT COUNT(*) FROM phonebook_entries e WHERE e.source_id = s.id) \
             AS entries FROM phonebook_sources s WHERE s.site_id = ?1 ORDER BY s.priority, s.id",
        )
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
