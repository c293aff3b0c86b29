//! The render preview and the credential audit of a site.
//!
//! `POST /api/sites/<site>/preview` renders the config a phone would receive with
//! [`engine::preview`], the call the web page and `lan-relay template` make too, from the
//! same profile rule that serves phones:
//! `{mac?, vendor?, model?, user_extension?, template?: {name?, vendor, style?, composition?,
//! source}, reveal_secrets?}`. With `mac`, the site's phone (its user, model and template);
//! without, the sample phone of `vendor` (two lines, ten BLF keys) on the site's settings,
//! firmware rows and edge URL. `user_extension` binds another of the site's users;
//! `template` is a draft checked like a save (a broken one is a 400 with line and column)
//! and used instead of the phone's own. Unless `reveal_secrets`
//! is true, SIP passwords and the phone's URL token are masked. Answers `{file, content_type,
//! config, default_config}` (`default_config`: the vendor default for the same data, to diff
//! against).
//!
//! `GET /api/sites/<site>/phones/<mac>/preview-input[?reveal_secrets=true]` answers what
//! that preview renders from, as an [`engine::PreviewRequest`] in JSON (the phone's site
//! settings, user, BLF keys, firmware rows, URL and saved template), built by the same code
//! as the preview above. The web page fetches it once per phone chosen and renders every
//! keystroke with the engine compiled to wasm, so what it shows is byte for byte what the
//! phone receives. Unless `reveal_secrets` is true, the SIP password and the URL token in it
//! are already [`engine::SECRET_MASK`]; the answer is never cached (`no-store`).
//!
//! `GET /api/sites/<site>/preview-input?vendor=<v>[&model=<m>][&reveal_secrets=true]` answers
//! the same for the sample phone of `vendor` on the site: the site's own settings (PBX host
//! and port, time, Additional Parameters), its firmware rows for the vendor and its edge URL
//! (the token masked: a sample phone has none), with the sample user, MAC and BLF keys; the
//! input `POST .../preview` without `mac` renders from, built by the same code. The web page's
//! "sample" preview renders from it, so a sample shows the site's settings, not the engine's
//! sample site.
//!
//! `GET /api/sites/<site>/credential-strength` rates every user's SIP password and voicemail PIN:
//! `{users: [{extension, display_name, password, pin}], summary: {weak, fair, strong}}`.

use serde::Deserialize;
use worker::{Method, Response};

use super::sites::load as load_site;
use super::{json, parse_body, ApiError, ApiResult, Ctx, Route};
use edge_shared::inputs;
use edge_shared::store;

/// `/api/sites/<site>/preview` and `/api/sites/<site>/credential-strength`.
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "preview"]) => preview(ctx, site, r.body).await,
        (Method::Get, ["sites", site, "phones", mac, "preview-input"]) => {
            preview_input(ctx, site, Some(mac), r.query).await
        }
        (Method::Get, ["sites", site, "preview-input"]) => {
            preview_input(ctx, site, None, r.query).await
        }
        (Method::Get, ["sites", site, "credential-strength"]) => {
            credential_strength(ctx, site).await
        }
        // The vendors and their model tables (keys, accounts, DECT handsets), as the
        // console's wasm has them: for API clients.
        (Method::Get, ["vendors"]) => json(200, &engine::vendors()),
        _ => return None,
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    mac: Option<String>,
    #[serde(default)]
    vendor: Option<engine::Vendor>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    user_extension: Option<String>,
    /// A draft checked like a save, but named `draft` if it has no name.
    #[serde(default)]
    template: Option<engine::TemplateDraft>,
    #[serde(default)]
    reveal_secrets: bool,
}

#[derive(Deserialize)]
struct UserRow {
    extension: String,
    auth_name: String,
    sip_password: String,
    display_name: String,
    voicemail_pin: String,
}

async fn user(ctx: &Ctx<'_>, site: &str, ext: &str) -> ApiResult<UserRow> {
    ctx.db
        .prepare(
            "SELECT extension, auth_name, sip_password, display_name, voicemail_pin FROM users \
             WHERE site_id = ?1 AND extension = ?2",
        )
        .bind(&[site.into(), ext.into()])?
        .first::<UserRow>(None)
        .await?
        .ok_or_else(|| ApiError::bad("user_extension", "no user with this extension on the site"))
}

async fn preview(ctx: &Ctx<'_>, site: &str, body: Option<&str>) -> ApiResult<Response> {
    let req = request(ctx, site, parse_body(body)?).await?;
    match engine::preview(&req) {
        Ok(p) => json(200, &p),
        Err(diagnostics) => Err(refused(&diagnostics)),
    }
}

/// `.../phones/<mac>/preview-input` (`mac`) or `.../preview-input?vendor=` (the sample phone):
/// the query is `reveal_secrets`, and for the sample `vendor` (required) and `model`.
async fn preview_input(
    ctx: &Ctx<'_>,
    site: &str,
    mac: Option<&str>,
    query: &str,
) -> ApiResult<Response> {
    let mut b = Body {
        mac: mac.map(str::to_owned),
        ..Body::default()
    };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match (&*k, &*v, mac) {
            ("reveal_secrets", "true" | "1", _) => b.reveal_secrets = true,
            ("reveal_secrets", "false" | "0", _) => b.reveal_secrets = false,
            ("reveal_secrets", _, _) => {
                return Err(ApiError::bad("reveal_secrets", "true or false"))
            }
            ("vendor", _, None) => {
                b.vendor = Some(v.parse().map_err(|e| ApiError::engine("vendor", &e))?)
            }
            ("model", _, None) => b.model = Some(v.into_owned()),
            _ => return Err(ApiError::bad(&k, "unknown query parameter")),
        }
    }
    json(200, &request(ctx, site, b).await?)
}

/// What a preview renders from: the one place the edge builds it, for the preview it renders
/// itself and for the input it hands the web page. Unless `reveal_secrets` is set, the SIP
/// password and the URL token are [`engine::SECRET_MASK`] already here.
async fn request(ctx: &Ctx<'_>, site: &str, b: Body) -> ApiResult<engine::PreviewRequest> {
    let s = load_site(ctx, site).await?;
    let draft = match b.template {
        Some(d) => Some(super::templates::checked(d, Some("draft"), "template.")?),
        None => None,
    };
    if let Some(model) = &b.model {
        super::sites::text("model", model, 1, 40)?;
    }
    let user = match &b.user_extension {
        Some(ext) => {
            let u = user(ctx, site, ext).await?;
            Some(engine::User {
                extension: u.extension,
                auth_name: u.auth_name,
                sip_password: engine::Secret::new(u.sip_password),
                display_name: u.display_name,
                voicemail_pin: engine::Secret::default(),
            })
        }
        None => None,
    };
    let mut req = match &b.mac {
        Some(mac) => {
            let mac = engine::Mac::parse(mac).map_err(|e| ApiError::engine("mac", &e))?;
            let row = store::phone_by_mac(&ctx.db, site, &mac.to_string())
                .await?
                .ok_or_else(|| ApiError::bad("mac", "no phone with this MAC on the site"))?;
            let vendor = row.vendor;
            // The URL token is the shell's secret: the engine masks only passwords.
            let steady = if b.reveal_secrets {
                let key = ctx.env.secret(crate::TOKEN_KEY)?.to_string();
                engine::steady_token(key.as_bytes(), &row.id, row.token_generation as u32)
            } else {
                engine::SECRET_MASK.to_owned()
            };
            let i = inputs::inputs(&ctx.db, &row, vendor).await?;
            engine::PreviewRequest {
                model: Some(b.model.unwrap_or(i.device.model)),
                mac: Some(i.device.mac),
                unbound: user.is_none() && i.user.is_none(),
                user: user.or(i.user),
                site: Some(i.site),
                blf: Some(i.blf),
                handsets: i.handsets,
                contacts: Some(i.contacts),
                firmware: Some(i.firmware),
                base_url: Some(inputs::base_url(&ctx.origin, &steady)),
                template: draft
                    .or_else(|| inputs::saved_template(&row))
                    .map(Into::into),
                reveal_secrets: b.reveal_secrets,
                ..engine::PreviewRequest::sample(vendor)
            }
        }
        None => {
            let vendor = b
                .vendor
                .ok_or_else(|| ApiError::bad("vendor", "give a vendor or the MAC of a phone"))?;
            // The site's own settings (PBX, time, Additional Parameters), firmware rows and
            // edge URL (a sample phone has no token: masked); the sample user, MAC and keys.
            engine::PreviewRequest {
                model: b.model,
                site: Some(s.into()),
                user,
                firmware: Some(store::firmware_rows(&ctx.db, site, vendor).await?),
                base_url: Some(inputs::base_url(&ctx.origin, engine::SECRET_MASK)),
                template: draft.map(Into::into),
                reveal_secrets: b.reveal_secrets,
                ..engine::PreviewRequest::sample(vendor)
            }
        }
    };
    if !req.reveal_secrets {
        let handsets = req.handsets.iter_mut().map(|h| &mut h.user);
        for u in req.user.iter_mut().chain(handsets) {
            u.sip_password = engine::Secret::from(engine::SECRET_MASK);
            u.voicemail_pin = engine::Secret::default();
        }
    }
    Ok(req)
}

/// The first diagnostic as a 400 naming the field it is about.
fn refused(diagnostics: &[engine::Diagnostic]) -> ApiError {
    let Some(d) = diagnostics.first() else {
        return ApiError::bad("template.source", "the preview failed");
    };
    let field = d.field.unwrap_or(match d.source {
        engine::DiagnosticSource::Params => "additional_params",
        _ => "template.source",
    });
    ApiError::bad(field, d.to_string())
}

async fn credential_strength(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let users: Vec<UserRow> = ctx
        .db
        .prepare(
            "SELECT extension, auth_name, sip_password, display_name, voicemail_pin FROM users \
             WHERE site_id = ?1 ORDER BY extension",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let mut summary = std::collections::BTreeMap::<String, u32>::new();
    let rows: Vec<serde_json::Value> = users
        .into_iter()
        .map(|u| {
            let password = engine::sip_password_strength(&u.sip_password, &u.extension);
            let pin = (!u.voicemail_pin.is_empty())
                .then(|| engine::pin_strength(&u.voicemail_pin, &u.extension));
            let worst = pin
                .as_ref()
                .map_or(password.strength, |p| p.strength.min(password.strength));
            *summary
                .entry(
                    serde_json::to_value(worst)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                )
                .or_default() += 1;
            serde_json::json!({
                "extension": u.extension,
                "display_name": u.display_name,
                "password": password,
                "pin": pin,
                "strength": worst,
            })
        })
        .collect();
    json(
        200,
        &serde_json::json!({ "users": rows, "summary": summary }),
    )
}
