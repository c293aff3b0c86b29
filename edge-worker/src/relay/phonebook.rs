//! `POST /relay/v1/phonebook`: what the relay fetched for a phonebook source on a LAN host.
//! See the contract in the module above.

use serde::Deserialize;
use worker::{D1Database, Response};

use edge_shared::api::{json, parse_body, ApiError, ApiResult};
use edge_shared::phonebook::{check_entries, record_fetch, Outcome};

/// The largest body: 5000 entries of long names fit.
pub(super) const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    source: String,
    /// The URL fetched (the snapshot's): a report for a URL the source no longer has is
    /// refused.
    url: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    entries: Vec<engine::Contact>,
    #[serde(default)]
    error: Option<String>,
}

pub(super) async fn report(
    db: &D1Database,
    site: &str,
    now: u64,
    body: &str,
) -> ApiResult<Response> {
    let r: Report = parse_body(Some(body))?;
    let url = db
        .prepare(
            "SELECT url FROM phonebook_sources WHERE site_id = ?1 AND id = ?2 \
             AND fetched_by = 'relay' AND url IS NOT NULL",
        )
        .bind(&[site.into(), r.source.as_str().into()])?
        .first::<String>(Some("url"))
        .await?;
    let Some(url) = url else {
        return Err(ApiError::bad(
            "source",
            "no phonebook source of the site that the relay fetches",
        ));
    };
    if r.url != url {
        // Changed while the relay fetched the old one: the old document is not the new
        // URL's (the relay fetches the new one from its next snapshot).
        return Err(ApiError::conflict(
            "url",
            "the source's URL changed since the relay's snapshot",
        ));
    }
    if let Some(e) = r.error.as_deref().filter(|e| !e.is_empty()) {
        super::text(|| "error".into(), Some(e), 200)?;
        if !r.entries.is_empty() || r.format.is_some() {
            return Err(ApiError::bad(
                "error",
                "send either an error or the entries",
            ));
        }
        record_fetch(db, &r.source, now, Outcome::Failed(e)).await?;
        return json(200, &serde_json::json!({ "entries": 0 }));
    }
    let format = r
        .format
        .as_deref()
        .and_then(engine::SourceFormat::parse)
        .ok_or_else(|| ApiError::bad("format", "a format engine::SourceFormat names"))?;
    check_entries(&r.entries)?;
    let parsed = engine::ParsedSource {
        format,
        entries: r.entries,
    };
    record_fetch(db, &r.source, now, Outcome::Entries(&parsed)).await?;
    json(200, &serde_json::json!({ "entries": parsed.entries.len() }))
}
