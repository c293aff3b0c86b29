//! Re-provision and reboot requests, queued for the site's LAN relay (which collects them,
//! sends each phone a SIP NOTIFY and acknowledges the outcome: see `relay` for its side).
//!
//! - `POST /api/sites/<site>/actions` `{"action": "reprovision" | "reboot", "macs": [...]}`,
//!   or `{"action": ..., "all": true}` for every phone of the site. `macs`: 1 to
//!   [`MAX_MACS`] MACs in any spelling, each a phone of this site (else 400 naming `macs`,
//!   nothing queued). A phone that already has the same action pending is not queued twice:
//!   its pending action is reported under `already_pending`. Answers `201` (`200` when
//!   nothing new was queued) `{"action", "queued": [{"id", "mac"}], "already_pending":
//!   [{"id", "mac"}]}`.
//! - `GET /api/sites/<site>/actions`: the site's [`LIST_LIMIT`] most recent actions, newest
//!   first: `[{"id", "mac", "action", "status", "requested_at", "collected_at",
//!   "finished_at", "deliveries", "detail"}]`. `status` is `pending` (queued), `collected`
//!   (handed to the relay, awaiting its answer), `done` or `failed` (the relay's answer, its
//!   words in `detail`; or given up after too many deliveries). Times are Unix seconds or
//!   `null`.
//!
//! An unknown site is a 404.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use worker::{Method, Response};

use super::{json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};

/// The most MACs one request may name.
pub(crate) const MAX_MACS: usize = 500;
/// How many actions the list shows.
pub(crate) const LIST_LIMIT: usize = 200;

/// `/api/sites/<site>/actions...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "actions"]) => queue(ctx, site, r.body).await,
        (Method::Get, ["sites", site, "actions"]) => list(ctx, site).await,
        _ => return None,
    })
}

/// What the relay is asked to do.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Action {
    /// Fetch the config now (SIP NOTIFY check-sync).
    Reprovision,
    /// Restart (SIP NOTIFY check-sync with reboot).
    Reboot,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Reprovision => "reprovision",
            Self::Reboot => "reboot",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewActions {
    action: Action,
    #[serde(default)]
    macs: Option<Vec<String>>,
    #[serde(default)]
    all: bool,
}

#[derive(Serialize)]
struct Queued {
    action: &'static str,
    queued: Vec<Item>,
    already_pending: Vec<Item>,
}

#[derive(Serialize)]
struct Item {
    id: String,
    mac: String,
}

async fn queue(ctx: &Ctx<'_>, site: &str, body: Option<&str>) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let n: NewActions = parse_body(body)?;
    #[derive(Deserialize)]
    struct PhoneId {
        id: String,
        mac: String,
        vendor: engine::Vendor,
    }
    // ALE phones are only redirected: nothing to re-provision or reboot.
    let redirect_only = |p: &PhoneId| p.vendor.redirect_only();
    let phones: Vec<PhoneId> = match (&n.macs, n.all) {
        (Some(_), true) => {
            return Err(ApiError::bad("macs", "give either macs or all, not both"));
        }
        (None, false) => {
            return Err(ApiError::bad(
                "macs",
                "give the phones' MACs, or \"all\": true",
            ));
        }
        (None, true) => {
            let all: Vec<PhoneId> = ctx
                .db
                .prepare("SELECT id, mac, vendor FROM phones WHERE site_id = ?1 ORDER BY mac")
                .bind(&[site.into()])?
                .all()
                .await?
                .results()?;
            let all: Vec<PhoneId> = all
                .into_iter()
                .filter(|p| redirect_only(p).is_none())
                .collect();
            if all.is_empty() {
                return Err(ApiError::bad(
                    "all",
                    "the site has no phones configured here",
                ));
            }
            all
        }
        (Some(macs), false) => {
            if macs.is_empty() || macs.len() > MAX_MACS {
                return Err(ApiError::bad("macs", format!("1 to {MAX_MACS} MACs")));
            }
            let mut wanted = BTreeSet::new();
            for (i, m) in macs.iter().enumerate() {
                let mac = engine::Mac::parse(m)
                    .map_err(|e| ApiError::bad("macs", format!("macs[{i}]: {}", e.detail())))?;
                wanted.insert(mac.to_string());
            }
            let list =
                serde_json::Value::from(wanted.iter().map(String::as_str).collect::<Vec<_>>())
                    .to_string();
            let found: Vec<PhoneId> = ctx
                .db
                .prepare(
                    "SELECT id, mac, vendor FROM phones WHERE site_id = ?1 \
                     AND mac IN (SELECT value FROM json_each(?2)) ORDER BY mac",
                )
                .bind(&[site.into(), list.into()])?
                .all()
                .await?
                .results()?;
            let known: BTreeSet<&str> = found.iter().map(|p| p.mac.as_str()).collect();
            if let Some(missing) = wanted.iter().find(|m| !known.contains(m.as_str())) {
                return Err(ApiError::bad(
                    "macs",
                    format!("{missing} is not a phone of this site"),
                ));
            }
            if let Some((p, why)) = found.iter().find_map(|p| Some((p, redirect_only(p)?))) {
                return Err(ApiError::bad("macs", format!("{}: {why}", p.mac)));
            }
            found
        }
    };

    #[derive(Deserialize)]
    struct Pending {
        id: String,
        phone_id: String,
    }
    let pending: BTreeMap<String, String> = ctx
        .db
        .prepare(
            "SELECT id, phone_id FROM relay_actions WHERE site_id = ?1 AND action = ?2 AND status = 'pending'",
        )
        .bind(&[site.into(), n.action.as_str().into()])?
        .all()
        .await?
        .results::<Pending>()?
        .into_iter()
        .map(|p| (p.phone_id, p.id))
        .collect();
    let mut queued = Vec::new();
    let mut already_pending = Vec::new();
    let mut rows = Vec::new();
    for p in phones {
        if let Some(id) = pending.get(&p.id) {
            already_pending.push(Item {
                id: id.clone(),
                mac: p.mac,
            });
        } else {
            let id = new_id("act")?;
            rows.push(serde_json::json!({ "id": id, "phone_id": p.id }));
            queued.push(Item { id, mac: p.mac });
        }
    }
    if !rows.is_empty() {
        let rows = serde_json::Value::Array(rows).to_string();
        let now = (ctx.now as f64).into();
        // The partial unique index keeps one pending action per phone and action, even
        // against a concurrent request.
        let insert = ctx
            .db
            .prepare(
                "INSERT INTO relay_actions (id, site_id, phone_id, action, status, requested_at) \
                 SELECT json_extract(value, '$.id'), ?2, json_extract(value, '$.phone_id'), ?3, 'pending', ?4 \
                 FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING",
            )
            .bind(&[rows.as_str().into(), site.into(), n.action.as_str().into(), now])?;
        // One audit row per action added (the ids are new, so exactly those inserted).
        let action = format!("queue {}", n.action.as_str());
        let entries: Vec<edge_shared::audit::Entry<'_>> = queued
            .iter()
            .map(|q| edge_shared::audit::Entry {
                detail: &q.mac,
                ..edge_shared::audit::Entry::new(&action, "relay_action", &q.id)
            })
            .collect();
        let audit = edge_shared::audit::log(
            &ctx.db,
            ctx.now,
            edge_shared::audit::Actor::Admin,
            &entries,
            Some("relay_actions"),
        )?;
        ctx.db.batch(vec![insert, audit]).await?;
    }
    let status = if queued.is_empty() { 200 } else { 201 };
    json(
        status,
        &Queued {
            action: n.action.as_str(),
            queued,
            already_pending,
        },
    )
}

/// One line of the actions list.
#[derive(Serialize, Deserialize)]
struct ActionView {
    id: String,
    mac: String,
    action: String,
    status: String,
    requested_at: f64,
    collected_at: Option<f64>,
    finished_at: Option<f64>,
    deliveries: f64,
    detail: String,
}

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let rows: Vec<ActionView> = ctx
        .db
        .prepare(format!(
            "SELECT a.id, p.mac, a.action, a.status, a.requested_at, a.collected_at, a.finished_at, \
             a.deliveries, a.detail FROM relay_actions a JOIN phones p ON p.id = a.phone_id \
             WHERE a.site_id = ?1 ORDER BY a.requested_at DESC, a.rowid DESC LIMIT {LIST_LIMIT}"
        ))
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    json(200, &rows)
}
