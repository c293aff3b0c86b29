//! The render preview and the credential audit of a site.
//!
//! `POST /api/sites/<site>/preview` renders the config a phone would receive, through the
//! same code that serves phones:
//! `{mac?, vendor?, model?, user_extension?, template?: {name?, vendor, style?, composition?,
//! source}, reveal_secrets?}`. With `mac`, the site's phone (its user, model and template);
//! without, sample data for `vendor` (two lines, ten BLF keys). `user_extension` binds
//! another of the site's users; `template` is a draft checked like a save (a broken one is a
//! 400 with line and column) and used instead of the phone's own. Unless `reveal_secrets`
//! is true, SIP passwords and the phone's URL token are masked. Answers `{file, content_type,
//! config, default_config}` (`default_config`: the vendor default for the same data, to diff
//! against).
//!
//! `GET /api/sites/<site>/audit` audits every user's SIP password and voicemail PIN:
//! `{users: [{extension, display_name, password, pin}], summary: {weak, fair, strong}}`.

use serde::{Deserialize, Serialize};
use worker::{Method, Response};

use super::sites::load as load_site;
use super::{json, parse_body, ApiError, ApiResult, Ctx, Route};
use crate::{phone, store};

/// `/api/sites/<site>/preview` and `/api/sites/<site>/audit`.
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "preview"]) => preview(ctx, site, r.body).await,
        (Method::Get, ["sites", site, "audit"]) => audit(ctx, site).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    mac: Option<String>,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    user_extension: Option<String>,
    #[serde(default)]
    template: Option<Draft>,
    #[serde(default)]
    reveal_secrets: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    #[serde(default = "draft_name")]
    name: String,
    vendor: String,
    #[serde(default)]
    style: engine::TemplateStyle,
    #[serde(default)]
    composition: engine::Composition,
    source: String,
}

fn draft_name() -> String {
    "draft".to_owned()
}

/// What stands in for a secret in a masked preview.
const MASK: &str = "********";

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
    let s = load_site(ctx, site).await?;
    let b: Body = parse_body(body)?;
    let draft = match b.template {
        Some(d) => Some(super::templates::checked(
            d.name,
            &d.vendor,
            d.style,
            d.composition,
            d.source,
            "template.",
        )?),
        None => None,
    };
    let key = ctx.env.secret(crate::TOKEN_KEY)?.to_string();
    let (mut profile, template, additional_params) = match &b.mac {
        Some(mac) => {
            let mac = engine::Mac::parse(mac).map_err(|e| ApiError::engine("mac", &e))?;
            let row = store::phone_by_mac(&ctx.db, site, &mac.to_string())
                .await?
                .ok_or_else(|| ApiError::bad("mac", "no phone with this MAC on the site"))?;
            let vendor = row
                .vendor
                .parse::<engine::Vendor>()
                .map_err(|e| ApiError::engine("mac", &e))?;
            let steady = if b.reveal_secrets {
                engine::steady_token(key.as_bytes(), &row.id, row.token_generation as u32)
            } else {
                MASK.to_owned()
            };
            let base = phone::base_url(&ctx.origin, &steady);
            let profile = phone::profile(&ctx.db, &row, vendor, &base).await?;
            let own = phone::saved_template(&row);
            (profile, draft.or(own), row.additional_params)
        }
        None => {
            let vendor = b
                .vendor
                .as_deref()
                .ok_or_else(|| ApiError::bad("vendor", "give a vendor or the MAC of a phone"))?
                .parse::<engine::Vendor>()
                .map_err(|e| ApiError::engine("vendor", &e))?;
            let mut p = engine::sample_profile(vendor);
            for l in &mut p.lines {
                s.pbx_host().clone_into(&mut l.server_host);
            }
            (p, draft, s.additional_params().to_owned())
        }
    };
    if let Some(model) = b.model {
        super::sites::text("model", &model, 1, 40)?;
        profile.device.model = model;
    }
    if let Some(ext) = &b.user_extension {
        let u = user(ctx, site, ext).await?;
        let line = engine::Line {
            extension: u.extension,
            auth_name: u.auth_name,
            password: engine::Secret::new(u.sip_password),
            display_name: u.display_name,
            label: String::new(),
            server_host: s.pbx_host().to_owned(),
            server_port: s.pbx_port(),
            transport: engine::Transport::Udp,
            voicemail: "*001".to_owned(),
        };
        match profile.lines.first_mut() {
            Some(first) => *first = line,
            None => profile.lines.push(line),
        }
    }
    if !b.reveal_secrets {
        for l in &mut profile.lines {
            l.password = engine::Secret::new(MASK.to_owned());
        }
    }
    let vendor = profile.device.vendor;
    if let Some(t) = &template {
        if t.vendor != vendor {
            return Err(ApiError::bad(
                "template.vendor",
                format!(
                    "the template is for {} phones, this phone is a {vendor}",
                    t.vendor
                ),
            ));
        }
    }
    let file = engine::device_config_path(vendor, &profile.device.mac).unwrap_or_default();
    let default_config = phone::render(profile.clone(), None, "")
        .map_err(|e| ApiError::engine("template.source", &e))?;
    let config = phone::render(profile, template, &additional_params)
        .map_err(|e| ApiError::engine("template.source", &e))?;
    #[derive(Serialize)]
    struct Preview {
        file: String,
        content_type: &'static str,
        config: String,
        default_config: String,
    }
    json(
        200,
        &Preview {
            file,
            content_type: engine::config_content_type(vendor),
            config,
            default_config,
        },
    )
}

async fn audit(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
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
            let password = engine::audit_sip_password(&u.sip_password, &u.extension);
            let pin = (!u.voicemail_pin.is_empty())
                .then(|| engine::audit_pin(&u.voicemail_pin, &u.extension));
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
