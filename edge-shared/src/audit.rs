//! The audit log: every write of the admin API and of the relays leaves its rows here,
//! through the one statement [`log`] builds, run in the write's own D1 batch so that the
//! change and its rows are stored both or neither.

use serde::Serialize;
use worker::{D1Database, D1PreparedStatement, Result};

/// Who made a change.
#[derive(Clone, Copy)]
pub enum Actor {
    /// The admin API (its bearer token).
    Admin,
    /// A site's LAN relay (its relay token).
    Relay,
}

impl Actor {
    fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Relay => "relay",
        }
    }
}

/// One row: what was done to which entity, and a detail (empty if none).
#[derive(Serialize)]
pub struct Entry<'a> {
    /// What was done ("create", "bind", ...).
    pub action: &'a str,
    /// The kind of thing it was done to ("phone", "site", ...).
    pub entity: &'a str,
    /// Its id.
    pub id: &'a str,
    /// More about it; empty if nothing.
    pub detail: &'a str,
}

impl<'a> Entry<'a> {
    /// A row without detail.
    pub fn new(action: &'a str, entity: &'a str, id: &'a str) -> Self {
        Self {
            action,
            entity,
            id,
            detail: "",
        }
    }
}

/// The statement that writes `entries`, made by `actor` at `at`.
///
/// With `if_row_in` (a table of ours with an `id` column, never input), only the entries
/// whose id is a row of that table are written: for a batch whose `INSERT ... ON CONFLICT DO
/// NOTHING` of new ids ran first, exactly the rows it added.
pub fn log(
    db: &D1Database,
    at: u64,
    actor: Actor,
    entries: &[Entry<'_>],
    if_row_in: Option<&'static str>,
) -> Result<D1PreparedStatement> {
    let only = if_row_in.map_or_else(String::new, |table| {
        format!(" WHERE json_extract(value, '$.id') IN (SELECT id FROM {table})")
    });
    statement(db, at, actor, entries, &only)
}

/// [`log`] after a statement that may change nothing (an `UPDATE` whose row was deleted or
/// changed meanwhile): the entries are written only if that statement, the one run just
/// before in the batch, changed a row.
pub fn log_if_changed(
    db: &D1Database,
    at: u64,
    actor: Actor,
    entries: &[Entry<'_>],
) -> Result<D1PreparedStatement> {
    statement(db, at, actor, entries, " WHERE changes() > 0")
}

fn statement(
    db: &D1Database,
    at: u64,
    actor: Actor,
    entries: &[Entry<'_>],
    only: &str,
) -> Result<D1PreparedStatement> {
    let rows =
        serde_json::to_string(entries).map_err(|e| worker::Error::RustError(e.to_string()))?;
    db.prepare(format!(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) \
         SELECT ?1, ?2, json_extract(value, '$.action'), json_extract(value, '$.entity'), \
         json_extract(value, '$.id'), json_extract(value, '$.detail') FROM json_each(?3){only}"
    ))
    .bind(&[
        // Seconds since the epoch fit a JS number exactly.
        (at as f64).into(),
        actor.as_str().into(),
        rows.into(),
    ])
}
