//! Sites and their users.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{audit, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};
use worker::Method;

/// `/api/sites...` and the site's users.
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites"]) => create(ctx, r.body).await,
        (Method::Get, ["sites", site]) => get(ctx, site).await,
        (Method::Post, ["sites", site, "users"]) => create_user(ctx, site, r.body).await,
        (Method::Post, ["sites", site, "relay-token"]) => relay_token(ctx, site).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSite {
    name: String,
    pbx_host: String,
    #[serde(default = "sip_port")]
    pbx_port: u16,
    #[serde(default)]
    allow_macs: String,
    #[serde(default)]
    deny_macs: String,
    #[serde(default)]
    additional_params: String,
    #[serde(default = "poll")]
    poll_interval_minutes: u32,
    #[serde(default)]
    ntp_server: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default = "window")]
    window_secs: u32,
}

fn sip_port() -> u16 {
    5060
}
fn poll() -> u32 {
    1440
}
fn window() -> u32 {
    7 * 86_400
}

/// A site as the API returns it (and as the relay snapshot carries it).
#[derive(Serialize, Deserialize)]
pub(crate) struct Site {
    pub(crate) id: String,
    name: String,
    pbx_host: String,
    pbx_port: f64,
    allow_macs: String,
    deny_macs: String,
    additional_params: String,
    poll_interval_minutes: f64,
    star_code_pattern: String,
    ntp_server: Option<String>,
    timezone: Option<String>,
    language: Option<String>,
    window_secs: f64,
}

/// The columns of [`Site`], for `SELECT`s.
pub(crate) const SITE_COLUMNS: &str =
    "id, name, pbx_host, pbx_port, allow_macs, deny_macs, additional_params, \
     poll_interval_minutes, star_code_pattern, ntp_server, timezone, language, window_secs";

pub(crate) async fn create(ctx: &Ctx<'_>, body: Option<&str>) -> ApiResult<Response> {
    let s: NewSite = parse_body(body)?;
    text("name", &s.name, 1, 100)?;
    host("pbx_host", &s.pbx_host)?;
    if s.pbx_port == 0 {
        return Err(ApiError::bad("pbx_port", "must be 1-65535"));
    }
    engine::MacPolicy::parse(&s.allow_macs, &s.deny_macs).map_err(|e| {
        ApiError::engine(
            e.name().map_or("allow_macs", |n| {
                if n == "deny" {
                    "deny_macs"
                } else {
                    "allow_macs"
                }
            }),
            &e,
        )
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
    let id = new_id("site")?;
    let now = (ctx.now as f64).into();
    let insert = ctx
        .db
        .prepare(
            "INSERT INTO sites (id, name, pbx_host, pbx_port, allow_macs, deny_macs, additional_params, \
             poll_interval_minutes, ntp_server, timezone, language, window_secs, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
        )
        .bind(&[
            id.as_str().into(),
            s.name.as_str().into(),
            s.pbx_host.as_str().into(),
            f64::from(s.pbx_port).into(),
            s.allow_macs.as_str().into(),
            s.deny_macs.as_str().into(),
            s.additional_params.as_str().into(),
            f64::from(s.poll_interval_minutes).into(),
            opt(s.ntp_server.as_deref()),
            opt(s.timezone.as_deref()),
            opt(s.language.as_deref()),
            f64::from(s.window_secs).into(),
            now,
        ])?;
    ctx.db
        .batch(vec![insert, audit(ctx, "create", "site", &id)?])
        .await?;
    get(ctx, &id).await.map(|r| r.with_status(201))
}

pub(crate) async fn get(ctx: &Ctx<'_>, id: &str) -> ApiResult<Response> {
    let site = load(ctx, id).await?;
    json(200, &site)
}

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> ApiResult<Site> {
    ctx.db
        .prepare(format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = ?1"))
        .bind(&[id.into()])?
        .first::<Site>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("site"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    extension: String,
    #[serde(default)]
    auth_name: Option<String>,
    sip_password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    voicemail_pin: String,
}

/// A user as the API returns it: never the password or PIN, only how strong they are.
#[derive(Serialize)]
struct UserView {
    id: String,
    extension: String,
    auth_name: String,
    display_name: String,
    password: engine::Audit,
    pin: Option<engine::Audit>,
}

pub(crate) async fn create_user(
    ctx: &Ctx<'_>,
    site: &str,
    body: Option<&str>,
) -> ApiResult<Response> {
    load(ctx, site).await?;
    let u: NewUser = parse_body(body)?;
    if u.extension.is_empty()
        || u.extension.len() > 32
        || !u
            .extension
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"*#+-_.".contains(&b))
    {
        return Err(ApiError::bad(
            "extension",
            "1-32 letters, digits or * # + - _ .",
        ));
    }
    let auth = u.auth_name.clone().unwrap_or_else(|| u.extension.clone());
    text("auth_name", &auth, 1, 64)?;
    text("sip_password", &u.sip_password, 1, 128)?;
    text("display_name", &u.display_name, 0, 100)?;
    if !u.voicemail_pin.bytes().all(|b| b.is_ascii_digit()) || u.voicemail_pin.len() > 16 {
        return Err(ApiError::bad("voicemail_pin", "digits only, at most 16"));
    }
    let exists = ctx
        .db
        .prepare("SELECT id FROM users WHERE site_id = ?1 AND extension = ?2")
        .bind(&[site.into(), u.extension.as_str().into()])?
        .first::<serde_json::Value>(None)
        .await?;
    if exists.is_some() {
        return Err(ApiError::conflict(
            "extension",
            "this site already has that extension",
        ));
    }
    let id = new_id("user")?;
    let insert = ctx
        .db
        .prepare(
            "INSERT INTO users (id, site_id, extension, auth_name, sip_password, display_name, voicemail_pin) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&[
            id.as_str().into(),
            site.into(),
            u.extension.as_str().into(),
            auth.as_str().into(),
            u.sip_password.as_str().into(),
            u.display_name.as_str().into(),
            u.voicemail_pin.as_str().into(),
        ])?;
    ctx.db
        .batch(vec![insert, audit(ctx, "create", "user", &id)?])
        .await?;
    let view = UserView {
        id,
        password: engine::audit_sip_password(&u.sip_password, &u.extension),
        pin: (!u.voicemail_pin.is_empty())
            .then(|| engine::audit_pin(&u.voicemail_pin, &u.extension)),
        extension: u.extension,
        auth_name: auth,
        display_name: u.display_name,
    };
    json(201, &view)
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

fn host(field: &str, v: &str) -> ApiResult<()> {
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

fn opt(v: Option<&str>) -> wasm_bindgen::JsValue {
    v.map_or(wasm_bindgen::JsValue::NULL, wasm_bindgen::JsValue::from)
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
