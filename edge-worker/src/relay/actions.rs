//! `GET /relay/v1/actions` and `POST /relay/v1/actions/ack`: the relay's side of the
//! re-provision/reboot queue (see the module docs of [`super`] for the contract; the admin
//! queues and lists actions in the admin worker, `edge-admin`'s `api::actions`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use worker::{D1Database, Response};

use super::{audit, text, COLLECT_LIMIT, MAX_ACK, MAX_DELIVERIES, REDELIVER_AFTER_SECS};
use edge_shared::api::{json, parse_body, ApiError, ApiResult};

/// An action as the collect query reads it.
#[derive(Deserialize)]
struct Row {
    id: String,
    action: String,
    deliveries: f64,
    mac: String,
    vendor: engine::Vendor,
    model: String,
    lan_ip: Option<String>,
}

/// An action as the relay receives it.
#[derive(Serialize)]
struct Handed {
    id: String,
    action: String,
    mac: String,
    vendor: engine::Vendor,
    model: String,
    ip: Option<String>,
    delivery: u32,
}

#[derive(Serialize)]
struct Collected {
    actions: Vec<Handed>,
    ack_within_secs: u64,
}

pub(super) async fn collect(db: &D1Database, site: &str, now: u64) -> ApiResult<Response> {
    let cutoff = now.saturating_sub(REDELIVER_AFTER_SECS) as f64;
    let rows: Vec<Row> = db
        .prepare(format!(
            "SELECT a.id, a.action, a.deliveries, p.mac, p.vendor, p.model, p.lan_ip \
             FROM relay_actions a JOIN phones p ON p.id = a.phone_id WHERE a.site_id = ?1 \
             AND (a.status = 'pending' OR (a.status = 'collected' AND a.collected_at <= ?2)) \
             ORDER BY a.requested_at, a.rowid LIMIT {COLLECT_LIMIT}"
        ))
        .bind(&[site.into(), cutoff.into()])?
        .all()
        .await?
        .results()?;
    if rows.is_empty() {
        return json(
            200,
            &Collected {
                actions: Vec::new(),
                ack_within_secs: REDELIVER_AFTER_SECS,
            },
        );
    }
    let (exhausted, rows): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|r| r.deliveries as u32 >= MAX_DELIVERIES);
    let ids = |rows: &[Row]| {
        serde_json::Value::from(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()).to_string()
    };
    // Claimed again only if still collectable: a concurrent collect does not get it twice.
    let claim = db
        .prepare(
            "UPDATE relay_actions SET status = 'collected', collected_at = ?2, deliveries = deliveries + 1 \
             WHERE site_id = ?3 AND id IN (SELECT value FROM json_each(?1)) \
             AND (status = 'pending' OR (status = 'collected' AND collected_at <= ?4)) RETURNING id",
        )
        .bind(&[ids(&rows).into(), (now as f64).into(), site.into(), cutoff.into()])?;
    let give_up = db
        .prepare(
            "UPDATE relay_actions SET status = 'failed', finished_at = ?2, detail = ?5 \
             WHERE site_id = ?3 AND id IN (SELECT value FROM json_each(?1)) \
             AND status = 'collected' AND collected_at <= ?4",
        )
        .bind(&[
            ids(&exhausted).into(),
            (now as f64).into(),
            site.into(),
            cutoff.into(),
            format!("not acknowledged after {MAX_DELIVERIES} deliveries").into(),
        ])?;
    let note = format!("{} handed out, {} given up", rows.len(), exhausted.len());
    let results = db
        .batch(vec![
            claim,
            give_up,
            audit(db, now, site, "relay collect", &note)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let claimed: HashSet<String> = match results.first() {
        Some(r) => r.results::<Id>()?.into_iter().map(|i| i.id).collect(),
        None => HashSet::new(),
    };
    let actions = rows
        .into_iter()
        .filter(|r| claimed.contains(&r.id))
        .map(|r| Handed {
            delivery: r.deliveries as u32 + 1,
            id: r.id,
            action: r.action,
            mac: r.mac,
            vendor: r.vendor,
            model: r.model,
            ip: r.lan_ip,
        })
        .collect();
    json(
        200,
        &Collected {
            actions,
            ack_within_secs: REDELIVER_AFTER_SECS,
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ack {
    results: Vec<Outcome>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcome {
    id: String,
    ok: bool,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Serialize)]
struct Acknowledged {
    acknowledged: usize,
    ignored: usize,
}

pub(super) async fn ack(db: &D1Database, site: &str, now: u64, body: &str) -> ApiResult<Response> {
    let a: Ack = parse_body(Some(body))?;
    if a.results.len() > MAX_ACK {
        return Err(ApiError::bad(
            "results",
            format!("at most {MAX_ACK} results per acknowledgement"),
        ));
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(a.results.len());
    for (i, o) in a.results.iter().enumerate() {
        if o.id.is_empty() || text(String::new, Some(&o.id), 64).is_err() {
            return Err(ApiError::bad(
                &format!("results[{i}].id"),
                "1-64 printable characters",
            ));
        }
        if !seen.insert(o.id.as_str()) {
            return Err(ApiError::bad(
                &format!("results[{i}].id"),
                "this id is listed twice",
            ));
        }
        let detail = text(|| format!("results[{i}].detail"), o.detail.as_deref(), 200)?;
        rows.push(serde_json::json!({
            "id": o.id, "ok": o.ok, "detail": detail.unwrap_or_default(),
        }));
    }
    if rows.is_empty() {
        return json(
            200,
            &Acknowledged {
                acknowledged: 0,
                ignored: 0,
            },
        );
    }
    let update = db
        .prepare(
            "UPDATE relay_actions SET status = CASE WHEN j.ok THEN 'done' ELSE 'failed' END, \
             finished_at = ?2, detail = j.detail \
             FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.ok') AS ok, \
             json_extract(value, '$.detail') AS detail FROM json_each(?1)) AS j \
             WHERE relay_actions.id = j.id AND relay_actions.site_id = ?3 \
             AND relay_actions.status = 'collected' RETURNING id",
        )
        .bind(&[
            serde_json::Value::Array(rows).to_string().into(),
            (now as f64).into(),
            site.into(),
        ])?;
    let note = format!("{} results", a.results.len());
    let results = db
        .batch(vec![update, audit(db, now, site, "relay ack", &note)?])
        .await?;
    let acknowledged = match results.first() {
        Some(r) => r.results::<serde_json::Value>()?.len(),
        None => 0,
    };
    json(
        200,
        &Acknowledged {
            acknowledged,
            ignored: a.results.len().saturating_sub(acknowledged),
        },
    )
}
