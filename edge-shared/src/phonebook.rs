//! A phonebook source's entries and its last fetch, as both workers write them: the admin
//! worker for pasted lists and the edge's own fetches (its cron, "fetch now"), the phone
//! worker for what a relay fetched from the LAN (`POST /relay/v1/phonebook`).

use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

use crate::api::{ApiError, ApiResult};
use crate::store::num;

/// Checks entries sent to an API (a pasted list, what a relay fetched): at most
/// `engine::MAX_PHONEBOOK_ENTRIES`, each passing `engine::check_contact`; a refusal names
/// `entries[i].name` or `entries[i].number`.
pub fn check_entries(entries: &[engine::Contact]) -> ApiResult<()> {
    if entries.len() > engine::MAX_PHONEBOOK_ENTRIES {
        return Err(ApiError::bad(
            "entries",
            format!("at most {} entries", engine::MAX_PHONEBOOK_ENTRIES),
        ));
    }
    for (i, c) in entries.iter().enumerate() {
        if let Err(f) = engine::check_contact(c) {
            return Err(ApiError::bad(
                &format!("entries[{i}].{}", f.as_str()),
                f.rule(),
            ));
        }
    }
    Ok(())
}

/// Rows per multi-row INSERT: 25 rows of 4 values stay within D1's 100 bound parameters.
const ROWS_PER_INSERT: usize = 25;

/// The statements that replace the source's entries with `entries`, in order.
pub fn replace_entries(
    db: &D1Database,
    source_id: &str,
    entries: &[engine::Contact],
) -> Result<Vec<D1PreparedStatement>> {
    let mut batch = vec![db
        .prepare("DELETE FROM phonebook_entries WHERE source_id = ?1")
        .bind(&[source_id.into()])?];
    for (chunk_no, chunk) in entries.chunks(ROWS_PER_INSERT).enumerate() {
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
            params.push(source_id.into());
            params.push(JsValue::from((chunk_no * ROWS_PER_INSERT + i) as u32));
            params.push(e.name.as_str().into());
            params.push(e.number.as_str().into());
        }
        batch.push(db.prepare(sql).bind(&params)?);
    }
    Ok(batch)
}

/// What one fetch of a URL source brought.
pub enum Outcome<'a> {
    /// The document's entries (each passed `engine::check_contact`) and its format.
    Entries(&'a engine::ParsedSource),
    /// Why it failed: the old entries stay.
    Failed(&'a str),
}

/// Records a fetch of URL source `source_id` at `now`, in one batch: on success its
/// entries are replaced and the result noted; on failure only the error is (the last good
/// entries keep serving).
pub async fn record_fetch(
    db: &D1Database,
    source_id: &str,
    now: u64,
    outcome: Outcome<'_>,
) -> Result<()> {
    let batch = match outcome {
        Outcome::Entries(p) => {
            let mut batch = replace_entries(db, source_id, &p.entries)?;
            batch.push(
                db.prepare(
                    "UPDATE phonebook_sources SET last_fetch_at = ?2, last_ok_at = ?2, \
                     last_count = ?3, last_format = ?4, last_error = NULL WHERE id = ?1",
                )
                .bind(&[
                    source_id.into(),
                    num(now),
                    num(p.entries.len() as u64),
                    p.format.name().into(),
                ])?,
            );
            batch
        }
        Outcome::Failed(e) => vec![db
            .prepare(
                "UPDATE phonebook_sources SET last_fetch_at = ?2, last_error = ?3 WHERE id = ?1",
            )
            .bind(&[source_id.into(), num(now), e.into()])?],
    };
    db.batch(batch).await?;
    Ok(())
}
