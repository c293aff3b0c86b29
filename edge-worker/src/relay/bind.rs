//! `POST /relay/v1/bind`: a phone bound by its user on site (the star code), reported by the
//! relay. See the contract in the module above.

use serde::Deserialize;
use worker::{D1Database, Response};

use super::audit;
use edge_shared::api::{json, parse_body, ApiError, ApiResult};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bind {
    mac: String,
    extension: String,
    /// Whether the relay checked the user's PIN (a right one was dialled). Absent: no.
    #[serde(default)]
    pin: bool,
}

pub(super) async fn bind(db: &D1Database, site: &str, now: u64, body: &str) -> ApiResult<Response> {
    let b: Bind = parse_body(Some(body))?;
    let mac = engine::Mac::parse(&b.mac).map_err(|e| ApiError::engine("mac", &e))?;
    edge_shared::api::check_extension("extension", &b.extension)?;
    let user = db
        .prepare("SELECT id FROM users WHERE site_id = ?1 AND extension = ?2")
        .bind(&[site.into(), b.extension.as_str().into()])?
        .first::<String>(Some("id"))
        .await?
        .ok_or_else(|| ApiError::bad("extension", "no user with this extension on the site"))?;
    #[derive(Deserialize)]
    struct Phone {
        id: String,
        vendor: engine::Vendor,
        /// The extension it is bound to now, if any.
        bound_to: Option<String>,
    }
    let Phone {
        id: phone,
        vendor,
        bound_to,
    } = db
        .prepare(
            "SELECT p.id, p.vendor, u.extension AS bound_to FROM phones p \
             LEFT JOIN users u ON u.id = p.user_id WHERE p.site_id = ?1 AND p.mac = ?2",
        )
        .bind(&[site.into(), mac.to_string().into()])?
        .first::<Phone>(None)
        .await?
        .ok_or_else(|| {
            ApiError::bad(
                "mac",
                "no phone with this MAC in the site: report it (POST /relay/v1/discovered) first",
            )
        })?;
    if let Some(why) = vendor.redirect_only() {
        return Err(ApiError::bad("mac", why));
    }
    #[derive(Deserialize)]
    struct Mode {
        star_code_mode: Option<engine::StarCodeMode>,
        star_code_pin: f64,
        hot_desking: f64,
    }
    let (mode, hot_desking) = db
        .prepare("SELECT star_code_mode, star_code_pin, hot_desking FROM sites WHERE id = ?1")
        .bind(&[site.into()])?
        .first::<Mode>(None)
        .await?
        .map_or((engine::StarCodeMode::Pin, false), |m| {
            (
                engine::StarCodeMode::resolve(m.star_code_mode, m.star_code_pin != 0.0),
                m.hot_desking != 0.0,
            )
        });
    // A bound phone moves to another user only where the site allows hot-desking (the
    // edge's setting wins over a relay whose snapshot is older than turning it off).
    if bound_to.as_ref().is_some_and(|e| *e != b.extension) && !hot_desking {
        return Err(ApiError::conflict(
            "mac",
            "the phone is already bound to another extension and the site does not allow hot-desking",
        ));
    }
    if mode == engine::StarCodeMode::Pin && !b.pin {
        // The edge's own setting wins over a relay whose snapshot is older than a change
        // from open to PIN.
        return Err(ApiError::conflict(
            "pin",
            "the site wants the user's voicemail PIN and the relay did not check one: its inventory is out of date",
        ));
    }
    // A re-binding names the user the phone leaves in the audit log.
    let detail = match &bound_to {
        Some(old) if *old != b.extension => format!("{mac} -> {} (was {old})", b.extension),
        _ => format!("{mac} -> {}", b.extension),
    };
    if mode.needs_approval() {
        // The edge decides, whatever the relay believed: the binding waits for an
        // administrator (`/api/sites/<site>/binding-requests`).
        let request = db
            .prepare(
                "INSERT INTO binding_requests (phone_id, site_id, user_id, requested_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (phone_id) DO UPDATE SET user_id = ?3, requested_at = ?4",
            )
            .bind(&[
                phone.as_str().into(),
                site.into(),
                user.as_str().into(),
                edge_shared::store::num(now),
            ])?;
        db.batch(vec![
            request,
            audit(db, now, site, "star-code bind requested", &detail)?,
        ])
        .await?;
        return json(
            202,
            &serde_json::json!({ "mac": mac.to_string(), "extension": b.extension, "status": "awaiting_approval" }),
        );
    }
    let mut batch = edge_shared::store::bind_phone(db, &phone, &user, now)?;
    let action = if bound_to.is_some_and(|e| e != b.extension) {
        "star-code re-bind (hot-desking)"
    } else {
        "star-code bind"
    };
    batch.push(audit(db, now, site, action, &detail)?);
    db.batch(batch).await?;
    json(
        200,
        &serde_json::json!({ "mac": mac.to_string(), "extension": b.extension, "status": "bound" }),
    )
}
