//! A site's users (extensions): number, SIP auth name and password, display name, voicemail
//! PIN. Passwords and PINs are written, never read back: answers carry their audit instead.
//!
//! - `POST /api/sites/<site>/users` `{extension, sip_password, auth_name?, display_name?,
//!   voicemail_pin?}` -> 201 user view; 409 `extension` when taken.
//! - `GET /api/sites/<site>/users` -> every user view, by extension.
//! - `GET /api/sites/<site>/users/<extension>` -> the user view.
//! - `PATCH /api/sites/<site>/users/<extension>` any of the fields above -> the user view.
//!   Phones bound to the user keep their binding (a renamed extension follows).
//! - `DELETE /api/sites/<site>/users/<extension>` -> 204; bound phones become unbound.

use serde::{Deserialize, Serialize};
use worker::{Method, Response};

use super::sites::{load as load_site, no_content, text};
use super::{audit, check_extension, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};

/// `/api/sites/<site>/users...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "users"]) => create(ctx, site, r.body).await,
        (Method::Get, ["sites", site, "users"]) => list(ctx, site).await,
        (Method::Get, ["sites", site, "users", ext]) => get(ctx, site, ext).await,
        (Method::Patch, ["sites", site, "users", ext]) => update(ctx, site, ext, r.body).await,
        (Method::Delete, ["sites", site, "users", ext]) => delete(ctx, site, ext).await,
        _ => return None,
    })
}

/// A user as written by the API (all fields; a PATCH merges over the stored one).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    extension: String,
    #[serde(default)]
    auth_name: Option<String>,
    sip_password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    voicemail_pin: String,
}

/// A stored user.
#[derive(Deserialize)]
struct Row {
    id: String,
    extension: String,
    auth_name: String,
    sip_password: String,
    display_name: String,
    voicemail_pin: String,
}

/// A user as the API returns it: never the password or PIN, only how strong they are.
#[derive(Serialize)]
struct View {
    id: String,
    extension: String,
    auth_name: String,
    display_name: String,
    password: engine::StrengthReport,
    pin: Option<engine::StrengthReport>,
    /// MACs of the phones bound to the user.
    phones: Vec<String>,
}

impl View {
    fn new(r: Row, phones: Vec<String>) -> Self {
        Self {
            password: engine::sip_password_strength(&r.sip_password, &r.extension),
            pin: (!r.voicemail_pin.is_empty())
                .then(|| engine::pin_strength(&r.voicemail_pin, &r.extension)),
            id: r.id,
            extension: r.extension,
            auth_name: r.auth_name,
            display_name: r.display_name,
            phones,
        }
    }
}

fn validate(u: &Fields) -> ApiResult<()> {
    check_extension("extension", &u.extension)?;
    text(
        "auth_name",
        u.auth_name.as_deref().unwrap_or(&u.extension),
        1,
        64,
    )?;
    text("sip_password", &u.sip_password, 1, 128)?;
    text("display_name", &u.display_name, 0, 100)?;
    if !u.voicemail_pin.bytes().all(|b| b.is_ascii_digit()) || u.voicemail_pin.len() > 16 {
        return Err(ApiError::bad("voicemail_pin", "digits only, at most 16"));
    }
    Ok(())
}

async fn find(ctx: &Ctx<'_>, site: &str, ext: &str) -> ApiResult<Option<Row>> {
    Ok(ctx
        .db
        .prepare(
            "SELECT id, extension, auth_name, sip_password, display_name, voicemail_pin \
             FROM users WHERE site_id = ?1 AND extension = ?2",
        )
        .bind(&[site.into(), ext.into()])?
        .first::<Row>(None)
        .await?)
}

async fn view(ctx: &Ctx<'_>, site: &str, ext: &str, status: u16) -> ApiResult<Response> {
    let row = find(ctx, site, ext)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let phones = ctx
        .db
        .prepare("SELECT mac FROM phones WHERE user_id = ?1 ORDER BY mac")
        .bind(&[row.id.as_str().into()])?
        .all()
        .await?
        .results::<Mac>()?
        .into_iter()
        .map(|m| m.mac)
        .collect();
    json(status, &View::new(row, phones))
}

#[derive(Deserialize)]
struct Mac {
    mac: String,
}

async fn create(ctx: &Ctx<'_>, site: &str, body: Option<&str>) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let u: Fields = parse_body(body)?;
    validate(&u)?;
    if find(ctx, site, &u.extension).await?.is_some() {
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
        .bind(&params(&id, site, &u))?;
    ctx.db
        .batch(vec![insert, audit(ctx, "create", "user", &id)?])
        .await?;
    view(ctx, site, &u.extension, 201).await
}

fn params(id: &str, site: &str, u: &Fields) -> Vec<wasm_bindgen::JsValue> {
    vec![
        id.into(),
        site.into(),
        u.extension.as_str().into(),
        u.auth_name.as_deref().unwrap_or(&u.extension).into(),
        u.sip_password.as_str().into(),
        u.display_name.as_str().into(),
        u.voicemail_pin.as_str().into(),
    ]
}

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    #[derive(Deserialize)]
    struct Listed {
        #[serde(flatten)]
        row: Row,
        macs: Option<String>,
    }
    let rows: Vec<Listed> = ctx
        .db
        .prepare(
            "SELECT u.id, u.extension, u.auth_name, u.sip_password, u.display_name, u.voicemail_pin, \
             (SELECT group_concat(p.mac, ' ') FROM phones p WHERE p.user_id = u.id) AS macs \
             FROM users u WHERE u.site_id = ?1 ORDER BY u.extension",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let views: Vec<View> = rows
        .into_iter()
        .map(|l| {
            let mut macs: Vec<String> = l
                .macs
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            macs.sort();
            View::new(l.row, macs)
        })
        .collect();
    json(200, &views)
}

async fn get(ctx: &Ctx<'_>, site: &str, ext: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    view(ctx, site, ext, 200).await
}

async fn update(ctx: &Ctx<'_>, site: &str, ext: &str, body: Option<&str>) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let row = find(ctx, site, ext)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let patch: serde_json::Map<String, serde_json::Value> = parse_body(body)?;
    let mut merged = serde_json::json!({
        "extension": row.extension,
        "auth_name": row.auth_name,
        "sip_password": row.sip_password,
        "display_name": row.display_name,
        "voicemail_pin": row.voicemail_pin,
    });
    if let Some(m) = merged.as_object_mut() {
        m.extend(patch);
    }
    let u: Fields = parse_body(Some(&merged.to_string()))?;
    validate(&u)?;
    if u.extension != row.extension && find(ctx, site, &u.extension).await?.is_some() {
        return Err(ApiError::conflict(
            "extension",
            "this site already has that extension",
        ));
    }
    let update = ctx
        .db
        .prepare(
            "UPDATE users SET extension = ?3, auth_name = ?4, sip_password = ?5, display_name = ?6, \
             voicemail_pin = ?7 WHERE id = ?1 AND site_id = ?2",
        )
        .bind(&params(&row.id, site, &u))?;
    ctx.db
        .batch(vec![update, audit(ctx, "update", "user", &row.id)?])
        .await?;
    view(ctx, site, &u.extension, 200).await
}

async fn delete(ctx: &Ctx<'_>, site: &str, ext: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let row = find(ctx, site, ext)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    super::delete_row(ctx, "users", "user", &row.id).await?;
    Ok(no_content()?)
}
