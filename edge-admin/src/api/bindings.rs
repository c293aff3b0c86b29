//! Star-code bindings waiting for an administrator (a site whose `star_code_mode` is
//! `"approval"`: the relay reports each dialled binding, `POST /relay/v1/bind`, and the edge
//! keeps it here instead of binding).
//!
//! - `GET /api/sites/<site>/binding-requests`: the requests, oldest first: `[{"mac",
//!   "vendor", "model", "lan_ip", "extension", "display_name", "requested_at"}]` (`lan_ip`:
//!   the address the relay last confirmed for the phone, or `null`).
//! - `POST /api/sites/<site>/binding-requests/<mac>/approve` `{"extension", "requested_at"}`
//!   (the request as the administrator saw it): binds the phone to that user (a new
//!   assignment: its provisioning window opens again) and queues a reboot for the relay, so
//!   the phone fetches its real config; answers `200` `{"mac", "extension"}`. Audited. A
//!   phone that dialled again since (another extension replaces its request) is not bound
//!   to what nobody saw: `409` naming `extension`, nothing changed.
//! - `DELETE /api/sites/<site>/binding-requests/<mac>`: refuses it; `204`. Audited.
//!
//! An unknown site, or a MAC without a request, is a 404.

use serde::{Deserialize, Serialize};
use worker::{Method, Response};

use super::{json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};

/// `/api/sites/<site>/binding-requests...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Get, ["sites", site, "binding-requests"]) => list(ctx, site).await,
        (Method::Post, ["sites", site, "binding-requests", mac, "approve"]) => {
            approve(ctx, site, mac, r.body).await
        }
        (Method::Delete, ["sites", site, "binding-requests", mac]) => reject(ctx, site, mac).await,
        _ => return None,
    })
}

/// A request as the list shows it.
#[derive(Serialize, Deserialize)]
struct Request {
    mac: String,
    vendor: String,
    model: String,
    lan_ip: Option<String>,
    extension: String,
    display_name: String,
    requested_at: f64,
}

const SELECT: &str =
    "SELECT p.mac, p.vendor, p.model, p.lan_ip, u.extension, u.display_name, r.requested_at, \
     r.phone_id, r.user_id FROM binding_requests r JOIN phones p ON p.id = r.phone_id \
     JOIN users u ON u.id = r.user_id WHERE r.site_id = ?1";

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let rows: Vec<Request> = ctx
        .db
        .prepare(format!("{SELECT} ORDER BY r.requested_at, p.mac LIMIT 500"))
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    json(200, &rows)
}

/// The request of phone `mac` on `site`, with the ids it joins.
async fn one(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<(Request, String, String)> {
    super::sites::load(ctx, site).await?;
    let mac = engine::Mac::parse(mac).map_err(|_| ApiError::not_found("binding request"))?;
    #[derive(Deserialize)]
    struct Row {
        #[serde(flatten)]
        request: Request,
        phone_id: String,
        user_id: String,
    }
    let row = ctx
        .db
        .prepare(format!("{SELECT} AND p.mac = ?2"))
        .bind(&[site.into(), mac.to_string().into()])?
        .first::<Row>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("binding request"))?;
    Ok((row.request, row.phone_id, row.user_id))
}

/// What the administrator approves: the request as shown.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seen {
    extension: String,
    requested_at: f64,
}

async fn approve(ctx: &Ctx<'_>, site: &str, mac: &str, body: Option<&str>) -> ApiResult<Response> {
    let seen: Seen = parse_body(body)?;
    let (request, phone, user) = one(ctx, site, mac).await?;
    if seen.extension != request.extension || seen.requested_at != request.requested_at {
        return Err(ApiError::conflict(
            "extension",
            format!(
                "the phone asked again since: it now asks for {}; look at the request again before approving",
                request.extension
            ),
        ));
    }
    let mut batch = edge_shared::store::bind_phone(&ctx.db, &phone, &user, ctx.now)?;
    // The phone is registered at the relay's provisioning account: a reboot makes it fetch
    // the config it is now entitled to.
    batch.push(
        ctx.db
            .prepare(
                "INSERT INTO relay_actions (id, site_id, phone_id, action, status, requested_at) \
                 VALUES (?1, ?2, ?3, 'reboot', 'pending', ?4)",
            )
            .bind(&[
                new_id("act")?.into(),
                site.into(),
                phone.as_str().into(),
                edge_shared::store::num(ctx.now),
            ])?,
    );
    batch.push(audit(ctx, site, "approve star-code bind", &request)?);
    ctx.db.batch(batch).await?;
    json(
        200,
        &serde_json::json!({ "mac": request.mac, "extension": request.extension }),
    )
}

async fn reject(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<Response> {
    let (request, phone, _) = one(ctx, site, mac).await?;
    let delete = ctx
        .db
        .prepare("DELETE FROM binding_requests WHERE phone_id = ?1")
        .bind(&[phone.as_str().into()])?;
    let audit = audit(ctx, site, "refuse star-code bind", &request)?;
    ctx.db.batch(vec![delete, audit]).await?;
    Ok(super::sites::no_content()?)
}

/// The audit row of an administrator's decision on `request`: `<mac> -> <extension>`.
fn audit(
    ctx: &Ctx<'_>,
    site: &str,
    action: &str,
    request: &Request,
) -> worker::Result<worker::D1PreparedStatement> {
    let detail = format!("{} -> {}", request.mac, request.extension);
    edge_shared::audit::log(
        &ctx.db,
        ctx.now,
        edge_shared::audit::Actor::Admin,
        &[edge_shared::audit::Entry {
            detail: &detail,
            ..edge_shared::audit::Entry::new(action, "site", site)
        }],
        None,
    )
}
