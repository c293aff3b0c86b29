//! Sites: their settings (the model is `edge_shared::site`; the rules they must meet are
//! here, the only writer), relay tokens.

use edge_shared::site::{Settings, Site, SITE_COLUMNS};
use edge_shared::store::opt;
use worker::{Method, Response};

use super::{audit, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};

/// `/api/sites...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites"]) => create(ctx, r.body).await,
        (Method::Get, ["sites"]) => list(ctx).await,
        (Method::Get, ["sites", site]) => get(ctx, site).await,
        (Method::Patch, ["sites", site]) => update(ctx, site, r.body).await,
        (Method::Delete, ["sites", site]) => delete(ctx, site).await,
        (Method::Post, ["sites", site, "relay-token"]) => relay_token(ctx, site).await,
        (Method::Post, ["sites", site, "site-token"]) => site_token(ctx, site).await,
        _ => return None,
    })
}

/// Every rule a site's settings must meet; the error names the field.
fn validate(s: &Settings) -> ApiResult<()> {
    text("name", &s.name, 1, 100)?;
    host("pbx_host", &s.pbx_host)?;
    if s.pbx_port == 0 {
        return Err(ApiError::bad("pbx_port", "must be 1-65535"));
    }
    engine::MacPolicy::parse(&s.allow_macs, &s.deny_macs).map_err(|e| {
        let field = if e.name() == Some("deny") {
            "deny_macs"
        } else {
            "allow_macs"
        };
        ApiError::engine(field, &e)
    })?;
    engine::AdditionalParams::parse(&s.additional_params)
        .map_err(|e| ApiError::engine("additional_params", &e))?;
    if let Some(tz) = &s.timezone {
        engine::TimeZone::from_name(tz).map_err(|e| ApiError::engine("timezone", &e))?;
    }
    if let Some(l) = &s.language {
        engine::Language::from_code(l).ok_or_else(|| {
            ApiError::bad("language", "not a known language code such as en or de")
        })?;
    }
    if let Some(n) = &s.ntp_server {
        host("ntp_server", n)?;
    }
    if s.poll_interval_minutes > 43_200 {
        return Err(ApiError::bad(
            "poll_interval_minutes",
            "at most 43200 (30 days); 0 turns polling off",
        ));
    }
    if !s.star_code_pattern.is_empty() {
        engine::StarCodePattern::parse(&s.star_code_pattern)
            .map_err(|e| ApiError::engine("star_code_pattern", &e))?;
    }
    if !(300..=31_536_000).contains(&s.window_secs) {
        return Err(ApiError::bad(
            "window_secs",
            "300 (5 minutes) to 31536000 (a year)",
        ));
    }
    Ok(())
}

/// The statement's parameters ?2..?18 in [`SITE_COLUMNS`] order (after the id).
fn settings_params(s: &Settings) -> Vec<wasm_bindgen::JsValue> {
    vec![
        s.name.as_str().into(),
        s.pbx_host.as_str().into(),
        f64::from(s.pbx_port).into(),
        s.allow_macs.as_str().into(),
        s.deny_macs.as_str().into(),
        s.additional_params.as_str().into(),
        f64::from(s.poll_interval_minutes).into(),
        s.star_code_pattern.as_str().into(),
        opt(s.ntp_server.as_deref()),
        opt(s.timezone.as_deref()),
        opt(s.language.as_deref()),
        f64::from(s.window_secs).into(),
        s.pnp_url.as_str().into(),
        // An older relay knows only the flag: anything but open asks it for the PIN.
        f64::from(u8::from(
            engine::StarCodeMode::resolve(s.star_code_mode, s.star_code_pin)
                != engine::StarCodeMode::Open,
        ))
        .into(),
        opt(s.star_code_mode.map(engine::StarCodeMode::as_str)),
        f64::from(u8::from(s.hot_desking)).into(),
        f64::from(u8::from(s.tftp_enabled)).into(),
    ]
}

/// `POST /api/sites`.
pub(crate) async fn create(ctx: &Ctx<'_>, body: Option<&str>) -> ApiResult<Response> {
    let mut s: Settings = parse_body(body)?;
    validate(&s)?;
    // Safe by default: a new site's star code wants the user's PIN unless told otherwise.
    s.star_code_mode.get_or_insert(engine::StarCodeMode::Pin);
    let id = new_id("site")?;
    let mut params = vec![wasm_bindgen::JsValue::from(id.as_str())];
    params.extend(settings_params(&s));
    params.push((ctx.now as f64).into());
    let insert = ctx
        .db
        .prepare(format!(
            "INSERT INTO sites ({SITE_COLUMNS}, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19)"
        ))
        .bind(&params)?;
    ctx.db
        .batch(vec![insert, audit(ctx, "create", "site", &id)?])
        .await?;
    get(ctx, &id).await.map(|r| r.with_status(201))
}

/// `PATCH /api/sites/<id>`: the fields given replace the stored ones; the result must pass
/// every rule a new site passes, or nothing changes.
pub(crate) async fn update(ctx: &Ctx<'_>, id: &str, body: Option<&str>) -> ApiResult<Response> {
    let current = load(ctx, id).await?;
    let patch: serde_json::Map<String, serde_json::Value> = parse_body(body)?;
    let mut merged = serde_json::to_value(&current.settings)
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    if let Some(m) = merged.as_object_mut() {
        m.extend(patch);
    }
    let s: Settings = parse_body(Some(&merged.to_string()))?;
    validate(&s)?;
    let mut params = vec![wasm_bindgen::JsValue::from(id)];
    params.extend(settings_params(&s));
    params.push((ctx.now as f64).into());
    let update = ctx
        .db
        .prepare(
            "UPDATE sites SET name = ?2, pbx_host = ?3, pbx_port = ?4, allow_macs = ?5, deny_macs = ?6, \
             additional_params = ?7, poll_interval_minutes = ?8, star_code_pattern = ?9, ntp_server = ?10, \
             timezone = ?11, language = ?12, window_secs = ?13, pnp_url = ?14, star_code_pin = ?15, \
             star_code_mode = ?16, hot_desking = ?17, tftp_enabled = ?18, updated_at = ?19 \
             WHERE id = ?1",
        )
        .bind(&params)?;
    ctx.db
        .batch(vec![update, audit(ctx, "update", "site", id)?])
        .await?;
    get(ctx, id).await
}

/// `DELETE /api/sites/<id>`: the site and everything in it (users, phones, templates,
/// mappings, phonebooks, firmware rows by cascade; firmware images in R2 after).
pub(crate) async fn delete(ctx: &Ctx<'_>, id: &str) -> ApiResult<Response> {
    load(ctx, id).await?;
    // Its RPS accounts go with the site: phones still registered (or being registered) at a
    // vendor would stay pointed at this edge with nobody able to remove them. Deleting the
    // phones first queues each removal.
    let at_vendors = ctx
        .db
        .prepare(
            "SELECT COUNT(*) AS n FROM rps_outbox WHERE site_id = ?1 \
             AND vendor NOT IN (SELECT value FROM json_each(?2)) \
             AND NOT (state = 'done' AND op = 'remove')",
        )
        .bind(&[id.into(), super::rps::manual_vendors().into()])?
        .first::<f64>(Some("n"))
        .await?
        .unwrap_or_default();
    if at_vendors > 0.0 {
        return Err(ApiError::conflict(
            "site",
            format!(
                "{at_vendors} phone(s) are registered or queued at a vendor's redirection service: delete the \
                 phones first (each removal is queued and runs at once), or delete the site's RPS accounts to \
                 leave them registered"
            ),
        ));
    }
    let keys: Vec<String> = ctx
        .db
        .prepare("SELECT r2_key FROM firmware WHERE site_id = ?1")
        .bind(&[id.into()])?
        .all()
        .await?
        .results::<serde_json::Value>()?
        .into_iter()
        .filter_map(|v| v.get("r2_key").and_then(|k| k.as_str()).map(str::to_owned))
        .collect();
    super::delete_row(ctx, "sites", "site", id).await?;
    // The rows are gone first: an image left behind by a failure here is unreachable, never
    // a row pointing at nothing.
    let bucket = ctx.env.bucket(crate::FIRMWARE)?;
    for key in keys {
        bucket.delete(key).await?;
    }
    Ok(no_content()?)
}

/// `GET /api/sites`: every site.
pub(crate) async fn list(ctx: &Ctx<'_>) -> ApiResult<Response> {
    let sites: Vec<Site> = ctx
        .db
        .prepare(format!(
            "SELECT {SITE_COLUMNS} FROM sites ORDER BY name, id"
        ))
        .all()
        .await?
        .results()?;
    json(200, &sites)
}

/// `GET /api/sites/<id>`.
pub(crate) async fn get(ctx: &Ctx<'_>, id: &str) -> ApiResult<Response> {
    let site = load(ctx, id).await?;
    json(200, &site)
}

/// The site `id`, or the API's 404.
pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> ApiResult<Site> {
    ctx.db
        .prepare(format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = ?1"))
        .bind(&[id.into()])?
        .first::<Site>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("site"))
}

/// An empty 204 answer.
pub(crate) fn no_content() -> worker::Result<Response> {
    Ok(Response::empty()?.with_status(204))
}

pub(crate) fn text(field: &str, v: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = v.chars().count();
    if n < min || n > max || v.chars().any(char::is_control) {
        return Err(ApiError::bad(
            field,
            format!("{min}-{max} printable characters"),
        ));
    }
    Ok(())
}

pub(crate) fn host(field: &str, v: &str) -> ApiResult<()> {
    let ok = !v.is_empty()
        && v.len() <= 253
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(field, "a host name or IP address"))
    }
}

/// `POST /api/sites/<site>/relay-token`: a new relay token for the site (shown once; the
/// previous one stops working).
pub(crate) async fn relay_token(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load(ctx, site).await?;
    let token = engine::first_access_token(super::random_bytes::<16>()?);
    let update = ctx
        .db
        .prepare("UPDATE sites SET relay_token_hash = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(&[
            site.into(),
            engine::token_hash(&token).into(),
            (ctx.now as f64).into(),
        ])?;
    ctx.db
        .batch(vec![
            update,
            audit(ctx, "rotate relay token", "site", site)?,
        ])
        .await?;
    json(201, &serde_json::json!({ "relay_token": token }))
}

/// The site's URL for redirection services that take no URL per phone
/// (`/s/<site>/<token>`, the token at the site's generation): the one place that builds it.
pub(crate) async fn site_url(ctx: &Ctx<'_>, site: &str) -> ApiResult<String> {
    let generation = edge_shared::store::site_token_generation(&ctx.db, site).await?;
    let key = ctx.env.secret(crate::TOKEN_KEY)?.to_string();
    let token = engine::site_token(key.as_bytes(), site, generation);
    Ok(format!("{}/s/{site}/{token}", ctx.origin))
}

/// `POST /api/sites/<site>/site-token`: a new site URL (the token's next generation); the
/// previous one stops working at once. Nothing can set it at the redirection service for
/// the administrator (GDMS publishes no call that sets a site's provisioning server): the
/// answer's note says to set it there.
pub(crate) async fn site_token(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load(ctx, site).await?;
    let update = ctx
        .db
        .prepare(
            "UPDATE sites SET site_token_generation = site_token_generation + 1, updated_at = ?2 \
             WHERE id = ?1",
        )
        .bind(&[site.into(), (ctx.now as f64).into()])?;
    ctx.db
        .batch(vec![update, audit(ctx, "rotate site token", "site", site)?])
        .await?;
    json(
        201,
        &serde_json::json!({
            "site_url": site_url(ctx, site).await?,
            "note": "The previous site URL no longer works. Set this one as the provisioning server \
                     of the GDMS site its Grandstream phones are in; until then GDMS sends them to \
                     the old one and they are not served.",
        }),
    )
}
