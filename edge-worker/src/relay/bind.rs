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
    }
    let Phone { id: phone, vendor } = db
        .prepare("SELECT id, vendor FROM phones WHERE site_id = ?1 AND mac = ?2")
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
    // A new assignment: the window for the first fetch of secrets opens again.
    let update = db
        .prepare(
            "UPDATE phones SET user_id = ?2, assigned_at = ?3, first_fetch_at = NULL WHERE id = ?1",
        )
        .bind(&[
            phone.as_str().into(),
            user.as_str().into(),
            (now as f64).into(),
        ])?;
    let detail = format!("{mac} -> {}", b.extension);
    db.batch(vec![
        update,
        audit(db, now, site, "star-code bind", &detail)?,
    ])
    .await?;
    json(
        200,
        &serde_json::json!({ "mac": mac.to_string(), "extension": b.extension }),
    )
}
