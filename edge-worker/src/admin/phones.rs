//! Phones: binding a MAC to a user, and the phones view.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{audit, json, new_id, parse_body, random_bytes, ApiError, ApiResult, Ctx, Route};
use worker::Method;

/// `/api/sites/<site>/phones...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "phones"]) => create(ctx, site, r.body).await,
        (Method::Get, ["sites", site, "phones"]) => list(ctx, site).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPhone {
    mac: String,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    user_extension: Option<String>,
    #[serde(default)]
    serial_number: String,
    /// The name of one of the site's templates.
    #[serde(default)]
    template: Option<String>,
}

/// What creating a phone returns. The first-access URL is shown this once: only its hash is
/// stored.
#[derive(Serialize)]
struct Created {
    id: String,
    mac: String,
    vendor: String,
    model: String,
    /// The URL to register with the vendor's redirection service (RPS).
    provisioning_url: String,
    /// The file the phone will ask for under it.
    config_file: String,
}

pub(crate) async fn create(ctx: &Ctx<'_>, site: &str, body: Option<&str>) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let p: NewPhone = parse_body(body)?;
    let mac = engine::Mac::parse(&p.mac).map_err(|e| ApiError::engine("mac", &e))?;
    if mac.is_placeholder() {
        return Err(ApiError::bad("mac", "no phone has this MAC"));
    }
    let vendor = match &p.vendor {
        Some(v) => v
            .parse::<engine::Vendor>()
            .map_err(|e| ApiError::engine("vendor", &e))?,
        None => mac.vendor().ok_or_else(|| {
            ApiError::bad("vendor", "the MAC's maker is not known; give the vendor")
        })?,
    };
    if !vendor.is_provisioned() {
        return Err(ApiError::bad(
            "vendor",
            "Alcatel-Lucent Enterprise phones are redirected, not configured here",
        ));
    }
    super::sites::text("model", &p.model, 0, 40)?;
    super::sites::text("serial_number", &p.serial_number, 0, 64)?;
    let user_id = match &p.user_extension {
        Some(ext) => Some(
            ctx.db
                .prepare("SELECT id FROM users WHERE site_id = ?1 AND extension = ?2")
                .bind(&[site.into(), ext.as_str().into()])?
                .first::<String>(Some("id"))
                .await?
                .ok_or_else(|| {
                    ApiError::bad("user_extension", "no user with this extension on the site")
                })?,
        ),
        None => None,
    };
    let template_id =
        match &p.template {
            Some(name) => Some(super::templates::find(ctx, site, name).await?.ok_or_else(
                || ApiError::bad("template", "no template with this name on the site"),
            )?),
            None => None,
        };
    let taken = ctx
        .db
        .prepare("SELECT id FROM phones WHERE mac = ?1")
        .bind(&[mac.to_string().into()])?
        .first::<String>(Some("id"))
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(
            "mac",
            "a phone with this MAC already exists",
        ));
    }
    let id = new_id("phone")?;
    let token1 = engine::first_access_token(random_bytes::<16>()?);
    let key = ctx.env.secret(crate::TOKEN_KEY)?.to_string();
    let token2 = engine::steady_token(key.as_bytes(), &id, 0);
    let insert = ctx
        .db
        .prepare(
            "INSERT INTO phones (id, site_id, mac, vendor, model, serial_number, user_id, token1_hash, token2_hash, \
             assigned_at, template_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(&[
            id.as_str().into(),
            site.into(),
            mac.to_string().into(),
            vendor.as_str().into(),
            p.model.as_str().into(),
            p.serial_number.as_str().into(),
            user_id.as_deref().map_or(wasm_bindgen::JsValue::NULL, wasm_bindgen::JsValue::from),
            engine::token_hash(&token1).into(),
            engine::token_hash(&token2).into(),
            (ctx.now as f64).into(),
            template_id.as_deref().map_or(wasm_bindgen::JsValue::NULL, wasm_bindgen::JsValue::from),
        ])?;
    ctx.db
        .batch(vec![insert, audit(ctx, "create", "phone", &id)?])
        .await?;
    let created = Created {
        provisioning_url: format!("{}/p/{token1}/", ctx.origin),
        config_file: engine::device_config_path(vendor, &mac).unwrap_or_default(),
        id,
        mac: mac.to_string(),
        vendor: vendor.to_string(),
        model: p.model,
    };
    json(201, &created)
}

#[derive(Deserialize)]
struct Row {
    id: String,
    mac: String,
    vendor: String,
    model: String,
    extension: Option<String>,
    display_name: Option<String>,
    sip_password: Option<String>,
    voicemail_pin: Option<String>,
    last_ip: Option<String>,
    last_user_agent: Option<String>,
    last_firmware: Option<String>,
    last_file: Option<String>,
    last_seen_at: Option<f64>,
    discovered_via: String,
}

/// One line of the phones view: never a secret, only the audit of it.
#[derive(Serialize)]
struct PhoneView {
    id: String,
    mac: String,
    vendor: String,
    model: String,
    extension: Option<String>,
    display_name: Option<String>,
    firmware: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    last_file: Option<String>,
    last_seen_at: Option<f64>,
    found_by: String,
    credential_strength: Option<engine::Strength>,
    credential_findings: Vec<String>,
}

pub(crate) async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let rows: Vec<Row> = ctx
        .db
        .prepare(
            "SELECT p.id, p.mac, p.vendor, p.model, u.extension, u.display_name, u.sip_password, u.voicemail_pin, \
             p.last_ip, p.last_user_agent, p.last_firmware, p.last_file, p.last_seen_at, p.discovered_via \
             FROM phones p LEFT JOIN users u ON u.id = p.user_id WHERE p.site_id = ?1 ORDER BY p.mac",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let view: Vec<PhoneView> = rows
        .into_iter()
        .map(|r| {
            let ext = r.extension.clone().unwrap_or_default();
            let audits: Vec<engine::Audit> = r
                .sip_password
                .as_deref()
                .map(|p| engine::audit_sip_password(p, &ext))
                .into_iter()
                .chain(
                    r.voicemail_pin
                        .as_deref()
                        .filter(|p| !p.is_empty())
                        .map(|p| engine::audit_pin(p, &ext)),
                )
                .collect();
            PhoneView {
                credential_strength: audits.iter().map(|a| a.strength).min(),
                credential_findings: audits
                    .iter()
                    .flat_map(|a| a.findings.iter().map(ToString::to_string))
                    .collect(),
                id: r.id,
                mac: r.mac,
                vendor: r.vendor,
                model: r.model,
                extension: r.extension,
                display_name: r.display_name,
                firmware: r.last_firmware,
                ip: r.last_ip,
                user_agent: r.last_user_agent,
                last_file: r.last_file,
                last_seen_at: r.last_seen_at,
                found_by: r.discovered_via,
            }
        })
        .collect();
    json(200, &view)
}
