//! Phones: binding a MAC to a user and a template, the phones view, and the phone's
//! access (tokens, provisioning window, optional HTTP Basic credentials).
//!
//! - `POST /api/sites/<site>/phones` `{mac, vendor?, model?, serial_number?,
//!   user_extension?, template?, blf_keys?, handsets?, http_user?, http_password?}` -> 201
//!   with the first-access provisioning URL (shown this once: only its hash is stored).
//!   `handsets` (`[{slot, user_extension}]`) binds users to a DECT base's handset slots
//!   after the first (slot 1 is `user_extension`'s); a model that is not a DECT base takes
//!   none. A BLF layout longer than the model's keys take is refused at `blf_keys`.
//! - `GET /api/sites/<site>/phones` -> the phones view (no secrets; credential audit).
//! - `GET /api/sites/<site>/phones/<mac>` -> one phone with its BLF keys.
//! - `PATCH /api/sites/<site>/phones/<mac>` any of the fields above but `mac` and `vendor`
//!   (`null` clears `user_extension`, `template`, `http_user`). Binding another user starts
//!   a new provisioning window.
//! - `DELETE /api/sites/<site>/phones/<mac>` -> 204.
//! - `POST /api/sites/<site>/phones/<mac>/rotate-token` -> a new first-access URL; the old
//!   first-access and steady-state URLs stop working, and the window opens again.
//! - `POST /api/sites/<site>/phones/<mac>/reopen` -> the window opens again (the phone may
//!   fetch its secrets for the first time within the site's `window_secs`).

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{Method, Response};

use super::sites::{load as load_site, no_content, text};
use super::{audit, json, new_id, parse_body, random_bytes, ApiError, ApiResult, Ctx, Route};
use crate::rps::Wish;
use edge_shared::store::opt;

/// `/api/sites/<site>/phones...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "phones"]) => create(ctx, site, r.body).await,
        (Method::Get, ["sites", site, "phones"]) => list(ctx, site).await,
        (Method::Get, ["sites", site, "phones", mac]) => get(ctx, site, mac).await,
        (Method::Patch, ["sites", site, "phones", mac]) => update(ctx, site, mac, r.body).await,
        (Method::Delete, ["sites", site, "phones", mac]) => delete(ctx, site, mac).await,
        (Method::Post, ["sites", site, "phones", mac, "rotate-token"]) => {
            rotate(ctx, site, mac).await
        }
        (Method::Post, ["sites", site, "phones", mac, "reopen"]) => reopen(ctx, site, mac).await,
        _ => return None,
    })
}

// Most BLF keys any phone may have, whatever its model (a known model's own limit, from
// its keys and expansion modules, is checked as well): the engine's, which a template's
// loop over `blf` is bounded by (above the largest the model tables hold: a Yealink with
// six 40-key EXP40 modules has 269 keys).
use engine::MAX_BLF_KEYS;

/// A phone's writable fields; a PATCH merges over the stored ones.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    mac: String,
    #[serde(default)]
    vendor: Option<engine::Vendor>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    serial_number: String,
    #[serde(default)]
    user_extension: Option<String>,
    /// The name of one of the site's templates.
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    blf_keys: Vec<Blf>,
    /// On a DECT base: the users on its handset slots after the first.
    #[serde(default)]
    handsets: Vec<Handset>,
    #[serde(default)]
    http_user: Option<String>,
    #[serde(default)]
    http_password: Option<String>,
    /// A Yealink "RPS pin" issued by the vendor (letters and digits, at most 31).
    #[serde(default)]
    rps_pin: Option<String>,
}

/// A BLF key as the API takes and shows it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Blf {
    extension: String,
    #[serde(default)]
    label: String,
    #[serde(default = "one")]
    line: u8,
    #[serde(default)]
    pickup_prefix: String,
}

fn one() -> u8 {
    1
}

/// A DECT base's handset slot and its user, as the API takes and shows it.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Handset {
    slot: u8,
    user_extension: String,
}

/// `fields` checked, with the ids they name resolved.
struct Resolved {
    mac: engine::Mac,
    /// The serial number in its canonical form (or empty).
    serial_number: String,
    vendor: engine::Vendor,
    user_id: Option<String>,
    template_id: Option<String>,
    /// The handset slots and their users' ids.
    handsets: Vec<(u8, String)>,
}

async fn resolve(ctx: &Ctx<'_>, site: &str, f: &Fields) -> ApiResult<Resolved> {
    let mac = engine::Mac::parse(&f.mac).map_err(|e| ApiError::engine("mac", &e))?;
    if mac.is_placeholder() {
        return Err(ApiError::bad("mac", "no phone has this MAC"));
    }
    let vendor = match f.vendor {
        Some(v) => v,
        None => mac.vendor().ok_or_else(|| {
            ApiError::bad("vendor", "the MAC's maker is not known; give the vendor")
        })?,
    };
    if let Some(why) = vendor.redirect_only() {
        let configured = [
            ("user_extension", f.user_extension.is_some()),
            ("template", f.template.is_some()),
            ("blf_keys", !f.blf_keys.is_empty()),
            ("handsets", !f.handsets.is_empty()),
            (
                "http_user",
                f.http_user.is_some() || f.http_password.is_some(),
            ),
        ];
        if let Some((field, _)) = configured.iter().find(|(_, set)| *set) {
            return Err(ApiError::bad(
                field,
                format!("{why}: give no user, template, BLF keys or HTTP credentials"),
            ));
        }
    }
    text("model", &f.model, 0, 40)?;
    let serial_number = if f.serial_number.trim().is_empty() {
        String::new()
    } else {
        engine::rps::SerialNumber::parse(&f.serial_number)
            .map_err(|e| ApiError::engine("serial_number", &e))?
            .to_string()
    };
    if let Some(pin) = &f.rps_pin {
        if pin.is_empty() || pin.len() > 31 || !pin.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::bad(
                "rps_pin",
                "1-31 letters and digits (the code the vendor issued)",
            ));
        }
    }
    if f.blf_keys.len() > MAX_BLF_KEYS {
        return Err(ApiError::bad(
            "blf_keys",
            format!("at most {MAX_BLF_KEYS} keys"),
        ));
    }
    for (i, k) in f.blf_keys.iter().enumerate() {
        super::check_extension(&format!("blf_keys[{i}].extension"), &k.extension)?;
        text(&format!("blf_keys[{i}].label"), &k.label, 0, 40)?;
        if !(1..=16).contains(&k.line) {
            return Err(ApiError::bad(&format!("blf_keys[{i}].line"), "1-16"));
        }
        if k.pickup_prefix.len() > 8
            || !k
                .pickup_prefix
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
        {
            return Err(ApiError::bad(
                &format!("blf_keys[{i}].pickup_prefix"),
                "at most 8 digits, * and #",
            ));
        }
    }
    match (&f.http_user, &f.http_password) {
        (None, None) => {}
        (Some(u), Some(p)) => {
            text("http_user", u, 1, 64)?;
            if u.contains(':') {
                return Err(ApiError::bad("http_user", "must not contain ':'"));
            }
            text("http_password", p, 12, 128)?;
        }
        (Some(_), None) => {
            return Err(ApiError::bad(
                "http_password",
                "required with http_user (12-128 characters)",
            ))
        }
        (None, Some(_)) => return Err(ApiError::bad("http_user", "required with http_password")),
    }
    let user_id = match &f.user_extension {
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
    let handsets = resolve_handsets(ctx, site, f, vendor).await?;
    // Each account sits on one of a desk phone's keys before the BLF keys; a DECT base's
    // accounts are on its handsets.
    let on_keys = usize::from(user_id.is_some())
        * usize::from(
            !vendor
                .model(&f.model)
                .is_some_and(engine::Model::is_dect_base),
        );
    let blf: Vec<engine::BlfKey> = f
        .blf_keys
        .iter()
        .map(|k| engine::BlfKey {
            extension: k.extension.clone(),
            label: k.label.clone(),
            line: k.line,
            pickup_prefix: k.pickup_prefix.clone(),
        })
        .collect();
    engine::check_blf_layout(vendor, &f.model, on_keys, &blf)
        .map_err(|e| ApiError::engine("blf_keys", &e))?;
    let template_id = match &f.template {
        Some(name) => {
            let (id, tvendor) = super::templates::find_with_vendor(ctx, site, name)
                .await?
                .ok_or_else(|| {
                    ApiError::bad("template", "no template with this name on the site")
                })?;
            if tvendor != vendor {
                return Err(ApiError::bad(
                    "template",
                    format!("the template is for {tvendor} phones, this phone is a {vendor}"),
                ));
            }
            Some(id)
        }
        None => None,
    };
    Ok(Resolved {
        mac,
        serial_number,
        vendor,
        user_id,
        template_id,
        handsets,
    })
}

/// Checks a DECT base's handset slots and resolves their users (of this site only): the
/// model must be a DECT base the engine knows, the phone bound (its user is handset 1), each
/// slot within the base's handsets and used once, each user on one handset only, and no
/// more accounts than the base holds.
async fn resolve_handsets(
    ctx: &Ctx<'_>,
    site: &str,
    f: &Fields,
    vendor: engine::Vendor,
) -> ApiResult<Vec<(u8, String)>> {
    if f.handsets.is_empty() {
        return Ok(Vec::new());
    }
    let base = vendor
        .model(&f.model)
        .filter(|m| m.is_dect_base())
        .ok_or_else(|| {
            let bases: Vec<&str> = vendor
                .models()
                .iter()
                .filter(|m| m.is_dect_base())
                .map(|m| m.name)
                .collect();
            let hint = if bases.is_empty() {
                format!("this system knows no {} DECT base", vendor.display_name())
            } else {
                format!("{} DECT bases: {}", vendor.display_name(), bases.join(", "))
            };
            ApiError::bad(
                "handsets",
                format!("handsets need a DECT base model ({hint})"),
            )
        })?;
    if f.user_extension.is_none() {
        return Err(ApiError::bad(
            "user_extension",
            "a DECT base with handsets needs its own user (handset 1)",
        ));
    }
    let accounts = usize::from(base.accounts);
    if f.handsets.len() + 1 > accounts {
        return Err(ApiError::bad(
            "handsets",
            format!(
                "the {} holds {accounts} accounts: at most {} handsets besides handset 1",
                base.name,
                accounts - 1
            ),
        ));
    }
    let mut out = Vec::with_capacity(f.handsets.len());
    for (i, h) in f.handsets.iter().enumerate() {
        if !(2..=base.dect_handsets).contains(&h.slot) {
            return Err(ApiError::bad(
                &format!("handsets[{i}].slot"),
                format!(
                    "2-{}: the {} serves {} handsets, and slot 1 is the phone's own user",
                    base.dect_handsets, base.name, base.dect_handsets
                ),
            ));
        }
        if out.iter().any(|(slot, _)| *slot == h.slot) {
            return Err(ApiError::bad(
                &format!("handsets[{i}].slot"),
                "this slot is given twice",
            ));
        }
        // One account registered twice from one base would ring and register twice.
        let taken = f.user_extension.as_deref() == Some(h.user_extension.as_str())
            || f.handsets[..i]
                .iter()
                .any(|o| o.user_extension == h.user_extension);
        if taken {
            return Err(ApiError::bad(
                &format!("handsets[{i}].user_extension"),
                "this user is on another handset of this base already",
            ));
        }
        let id = ctx
            .db
            .prepare("SELECT id FROM users WHERE site_id = ?1 AND extension = ?2")
            .bind(&[site.into(), h.user_extension.as_str().into()])?
            .first::<String>(Some("id"))
            .await?
            .ok_or_else(|| {
                ApiError::bad(
                    &format!("handsets[{i}].user_extension"),
                    "no user with this extension on the site",
                )
            })?;
        out.push((h.slot, id));
    }
    Ok(out)
}

/// The statements that replace a DECT base's handset slots.
fn handset_statements(
    ctx: &Ctx<'_>,
    phone: &str,
    handsets: &[(u8, String)],
) -> ApiResult<Vec<worker::D1PreparedStatement>> {
    let mut out = vec![ctx
        .db
        .prepare("DELETE FROM phone_handsets WHERE phone_id = ?1")
        .bind(&[phone.into()])?];
    for (slot, user) in handsets {
        out.push(
            ctx.db
                .prepare("INSERT INTO phone_handsets (phone_id, slot, user_id) VALUES (?1, ?2, ?3)")
                .bind(&[phone.into(), JsValue::from(*slot), user.as_str().into()])?,
        );
    }
    Ok(out)
}

async fn handsets_of(ctx: &Ctx<'_>, phone: &str) -> ApiResult<Vec<Handset>> {
    Ok(ctx
        .db
        .prepare(
            "SELECT h.slot, u.extension AS user_extension FROM phone_handsets h \
             JOIN users u ON u.id = h.user_id WHERE h.phone_id = ?1 ORDER BY h.slot",
        )
        .bind(&[phone.into()])?
        .all()
        .await?
        .results()?)
}

/// The statements that replace a phone's BLF keys.
fn blf_statements(
    ctx: &Ctx<'_>,
    phone: &str,
    keys: &[Blf],
) -> ApiResult<Vec<worker::D1PreparedStatement>> {
    let mut out = vec![ctx
        .db
        .prepare("DELETE FROM blf_keys WHERE phone_id = ?1")
        .bind(&[phone.into()])?];
    for (i, k) in keys.iter().enumerate() {
        out.push(
            ctx.db
                .prepare(
                    "INSERT INTO blf_keys (phone_id, position, extension, label, line, pickup_prefix) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .bind(&[
                    phone.into(),
                    JsValue::from(i as u32),
                    k.extension.as_str().into(),
                    k.label.as_str().into(),
                    JsValue::from(k.line),
                    k.pickup_prefix.as_str().into(),
                ])?,
        );
    }
    Ok(out)
}

/// What creating a phone (or rotating its token) returns. The first-access URL is shown
/// this once: only its hash is stored.
#[derive(Serialize)]
struct Created {
    id: String,
    mac: String,
    vendor: engine::Vendor,
    model: String,
    /// The URL to register with the vendor's redirection service (RPS); none for a phone
    /// that is only redirected elsewhere (ALE).
    provisioning_url: Option<String>,
    /// The file the phone will ask for under it.
    config_file: Option<String>,
    /// Why there is no URL (ALE).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

impl Created {
    fn new(
        ctx: &Ctx<'_>,
        id: String,
        mac: engine::Mac,
        vendor: engine::Vendor,
        model: String,
        token1: &str,
    ) -> Self {
        Self {
            provisioning_url: vendor
                .is_provisioned()
                .then(|| format!("{}/p/{token1}/", ctx.origin)),
            config_file: engine::device_config_path(vendor, &mac),
            note: (!vendor.is_provisioned()).then_some(
                "not configured here: the site's [ale] RPS account sends this phone to its provisioning_url",
            ),
            id,
            mac: mac.to_string(),
            vendor,
            model,
        }
    }
}

async fn create(ctx: &Ctx<'_>, site: &str, body: Option<&str>) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let f: Fields = parse_body(body)?;
    let r = resolve(ctx, site, &f).await?;
    let taken = ctx
        .db
        .prepare("SELECT id FROM phones WHERE mac = ?1")
        .bind(&[r.mac.to_string().into()])?
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
             assigned_at, template_id, http_user, http_password, rps_pin) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .bind(&[
            id.as_str().into(),
            site.into(),
            r.mac.to_string().into(),
            r.vendor.as_str().into(),
            f.model.as_str().into(),
            r.serial_number.as_str().into(),
            opt(r.user_id.as_deref()),
            engine::token_hash(&token1).into(),
            engine::token_hash(&token2).into(),
            (ctx.now as f64).into(),
            opt(r.template_id.as_deref()),
            opt(f.http_user.as_deref()),
            opt(f.http_password.as_deref()),
            opt(f.rps_pin.as_deref()),
        ])?;
    let mut batch = vec![insert];
    batch.extend(blf_statements(ctx, &id, &f.blf_keys)?);
    batch.extend(handset_statements(ctx, &id, &r.handsets)?);
    batch.push(audit(ctx, "create", "phone", &id)?);
    let mac_text = r.mac.to_string();
    batch.push(ctx.rps_enqueue(site, &mac_text, r.vendor, Wish::Register)?);
    ctx.db.batch(batch).await?;
    ctx.work_rps_later();
    json(
        201,
        &Created::new(ctx, id, r.mac, r.vendor, f.model, &token1),
    )
}

/// A stored phone, as `GET .../phones/<mac>` shows it (never the HTTP password).
#[derive(Deserialize)]
struct Stored {
    id: String,
    mac: String,
    vendor: engine::Vendor,
    model: String,
    serial_number: String,
    user_extension: Option<String>,
    template: Option<String>,
    http_user: Option<String>,
    http_password: Option<String>,
    rps_pin: Option<String>,
    assigned_at: f64,
    first_fetch_at: Option<f64>,
    window_secs: f64,
    discovered_via: String,
    last_ip: Option<String>,
    last_user_agent: Option<String>,
    last_firmware: Option<String>,
    last_file: Option<String>,
    last_seen_at: Option<f64>,
}

async fn find(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<Stored> {
    // The path may spell the MAC any way the engine reads.
    let mac = engine::Mac::parse(mac).map_err(|_| ApiError::not_found("phone"))?;
    ctx.db
        .prepare(
            "SELECT p.id, p.mac, p.vendor, p.model, p.serial_number, u.extension AS user_extension, \
             t.name AS template, p.http_user, p.http_password, p.rps_pin, p.assigned_at, p.first_fetch_at, \
             s.window_secs, p.discovered_via, p.last_ip, p.last_user_agent, p.last_firmware, \
             p.last_file, p.last_seen_at \
             FROM phones p JOIN sites s ON s.id = p.site_id LEFT JOIN users u ON u.id = p.user_id \
             LEFT JOIN templates t ON t.id = p.template_id WHERE p.site_id = ?1 AND p.mac = ?2",
        )
        .bind(&[site.into(), mac.to_string().into()])?
        .first::<Stored>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("phone"))
}

async fn blf_of(ctx: &Ctx<'_>, phone: &str) -> ApiResult<Vec<Blf>> {
    Ok(ctx
        .db
        .prepare(
            "SELECT extension, label, line, pickup_prefix FROM blf_keys WHERE phone_id = ?1 ORDER BY position",
        )
        .bind(&[phone.into()])?
        .all()
        .await?
        .results()?)
}

async fn get(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let p = find(ctx, site, mac).await?;
    let blf = blf_of(ctx, &p.id).await?;
    let handsets = handsets_of(ctx, &p.id).await?;
    let dect_handsets = p.vendor.model(&p.model).map_or(0, |m| m.dect_handsets);
    let window_open = engine::window_open(
        p.assigned_at as u64,
        p.first_fetch_at.map(|t| t as u64),
        ctx.now,
        p.window_secs as u64,
    );
    json(
        200,
        &serde_json::json!({
            "id": p.id,
            "mac": p.mac,
            "vendor": p.vendor,
            "model": p.model,
            "serial_number": p.serial_number,
            "user_extension": p.user_extension,
            "template": p.template,
            "blf_keys": blf,
            "handsets": handsets,
            "dect_handsets": dect_handsets,
            "http_user": p.http_user,
            "rps_pin": p.rps_pin,
            "rps_ing": engine::rps::SerialNumber::parse(&p.serial_number).ok().as_ref().and_then(engine::rps::rps_ing),
            "redirect_only": p.vendor.redirect_only(),
            "assigned_at": p.assigned_at,
            "first_fetch_at": p.first_fetch_at,
            "window_open": window_open,
            "window_closes_at": p.first_fetch_at.is_none().then_some(p.assigned_at + p.window_secs),
            "found_by": p.discovered_via,
            "ip": p.last_ip,
            "user_agent": p.last_user_agent,
            "firmware": p.last_firmware,
            "last_file": p.last_file,
            "last_seen_at": p.last_seen_at,
        }),
    )
}

async fn update(ctx: &Ctx<'_>, site: &str, mac: &str, body: Option<&str>) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let p = find(ctx, site, mac).await?;
    let patch: serde_json::Map<String, serde_json::Value> = parse_body(body)?;
    for fixed in ["mac", "vendor"] {
        if patch.contains_key(fixed) {
            return Err(ApiError::bad(
                fixed,
                "cannot change; delete the phone and add it again",
            ));
        }
    }
    let current = Fields {
        mac: p.mac.clone(),
        vendor: Some(p.vendor),
        model: p.model.clone(),
        serial_number: p.serial_number.clone(),
        user_extension: p.user_extension.clone(),
        template: p.template.clone(),
        blf_keys: blf_of(ctx, &p.id).await?,
        handsets: handsets_of(ctx, &p.id).await?,
        http_user: p.http_user.clone(),
        http_password: p.http_password.clone(),
        rps_pin: p.rps_pin.clone(),
    };
    let mut merged =
        serde_json::to_value(&current).map_err(|e| worker::Error::RustError(e.to_string()))?;
    if let Some(m) = merged.as_object_mut() {
        // Clearing the user name clears the password with it.
        if patch
            .get("http_user")
            .is_some_and(serde_json::Value::is_null)
        {
            m.insert("http_password".into(), serde_json::Value::Null);
        }
        m.extend(patch);
    }
    let f: Fields = parse_body(Some(&merged.to_string()))?;
    let r = resolve(ctx, site, &f).await?;
    // Binding another user is a new assignment: a new window for the first fetch.
    let rebound = f.user_extension != p.user_extension && r.user_id.is_some();
    let update = ctx
        .db
        .prepare(
            "UPDATE phones SET model = ?2, serial_number = ?3, user_id = ?4, template_id = ?5, \
             http_user = ?6, http_password = ?7, rps_pin = ?10, \
             assigned_at = CASE WHEN ?8 THEN ?9 ELSE assigned_at END, \
             first_fetch_at = CASE WHEN ?8 THEN NULL ELSE first_fetch_at END WHERE id = ?1",
        )
        .bind(&[
            p.id.as_str().into(),
            f.model.as_str().into(),
            r.serial_number.as_str().into(),
            opt(r.user_id.as_deref()),
            opt(r.template_id.as_deref()),
            opt(f.http_user.as_deref()),
            opt(f.http_password.as_deref()),
            JsValue::from(u8::from(rebound)),
            (ctx.now as f64).into(),
            opt(f.rps_pin.as_deref()),
        ])?;
    let mut batch = vec![update];
    batch.extend(blf_statements(ctx, &p.id, &f.blf_keys)?);
    batch.extend(handset_statements(ctx, &p.id, &r.handsets)?);
    batch.push(audit(ctx, "update", "phone", &p.id)?);
    // What the vendor stores for the phone (serial number, HTTP credentials) changed: tell it.
    let vendor_facts_changed = r.serial_number != p.serial_number
        || f.http_user != p.http_user
        || f.http_password != p.http_password;
    if vendor_facts_changed {
        batch.push(ctx.rps_enqueue(site, &p.mac, p.vendor, Wish::Register)?);
    }
    ctx.db.batch(batch).await?;
    if vendor_facts_changed {
        ctx.work_rps_later();
    }
    get(ctx, site, &p.mac).await
}

async fn delete(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let p = find(ctx, site, mac).await?;
    let delete = ctx
        .db
        .prepare("DELETE FROM phones WHERE id = ?1")
        .bind(&[p.id.as_str().into()])?;
    ctx.db
        .batch(vec![
            delete,
            super::rps::manual_unmark(ctx, site, &p.mac)?,
            ctx.rps_enqueue(site, &p.mac, p.vendor, Wish::Remove)?,
            audit(ctx, "delete", "phone", &p.id)?,
        ])
        .await?;
    ctx.work_rps_later();
    Ok(no_content()?)
}

async fn rotate(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let p = find(ctx, site, mac).await?;
    let generation: f64 = ctx
        .db
        .prepare("SELECT token_generation FROM phones WHERE id = ?1")
        .bind(&[p.id.as_str().into()])?
        .first::<f64>(Some("token_generation"))
        .await?
        .unwrap_or_default();
    let next = generation as u32 + 1;
    let token1 = engine::first_access_token(random_bytes::<16>()?);
    let key = ctx.env.secret(crate::TOKEN_KEY)?.to_string();
    let token2 = engine::steady_token(key.as_bytes(), &p.id, next);
    let update = ctx
        .db
        .prepare(
            "UPDATE phones SET token1_hash = ?2, token2_hash = ?3, token_generation = ?4, \
             assigned_at = ?5, first_fetch_at = NULL WHERE id = ?1",
        )
        .bind(&[
            p.id.as_str().into(),
            engine::token_hash(&token1).into(),
            engine::token_hash(&token2).into(),
            JsValue::from(next),
            (ctx.now as f64).into(),
        ])?;
    // The registered URL holds the steady-state token: register the new one.
    ctx.db
        .batch(vec![
            update,
            audit(ctx, "rotate token", "phone", &p.id)?,
            // A manual vendor's portal (Htek) holds the old URL now.
            super::rps::manual_unmark(ctx, site, &p.mac)?,
            ctx.rps_enqueue(site, &p.mac, p.vendor, Wish::Register)?,
        ])
        .await?;
    ctx.work_rps_later();
    let mac = engine::Mac::parse(&p.mac).map_err(|e| ApiError::engine("mac", &e))?;
    json(
        201,
        &Created::new(ctx, p.id, mac, p.vendor, p.model, &token1),
    )
}

async fn reopen(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let p = find(ctx, site, mac).await?;
    let update = ctx
        .db
        .prepare("UPDATE phones SET assigned_at = ?2 WHERE id = ?1")
        .bind(&[p.id.as_str().into(), (ctx.now as f64).into()])?;
    ctx.db
        .batch(vec![update, audit(ctx, "reopen window", "phone", &p.id)?])
        .await?;
    get(ctx, site, &p.mac).await
}

#[derive(Deserialize)]
struct Row {
    id: String,
    mac: String,
    vendor: engine::Vendor,
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
    rps_op: Option<String>,
    rps_state: Option<String>,
    rps_result: Option<String>,
    rps_attempts: Option<f64>,
    rps_next_at: Option<f64>,
    rps_last_attempt_at: Option<f64>,
    rps_error_kind: Option<String>,
    rps_error: Option<String>,
}

/// A phone's registration with its vendor's redirection service, in the phones view.
#[derive(Serialize)]
struct RpsBrief {
    /// `registered`, `removed`, `pending`, `retrying`, `failed`, `manual` (Htek),
    /// `not_queued` or `no_account`.
    state: &'static str,
    last_attempt_at: Option<f64>,
    next_at: Option<f64>,
    error_kind: Option<String>,
    error: Option<String>,
}

/// One line of the phones view: never a secret, only the audit of it.
#[derive(Serialize)]
struct PhoneView {
    id: String,
    mac: String,
    vendor: engine::Vendor,
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
    rps: RpsBrief,
    /// Why nothing configures this phone here (ALE: only redirected), or `null`.
    redirect_only: Option<&'static str>,
    /// On a DECT base: the handsets the base serves (0 for a desk phone) and the users on
    /// its slots after the first.
    dect_handsets: u8,
    handsets: Vec<HandsetView>,
}

/// A DECT base's handset slot in the phones view.
#[derive(Serialize, Deserialize)]
struct HandsetView {
    #[serde(skip_serializing)]
    phone_id: String,
    slot: u8,
    extension: String,
    display_name: String,
}

pub(crate) async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let rows: Vec<Row> = ctx
        .db
        .prepare(
            "SELECT p.id, p.mac, p.vendor, p.model, u.extension, u.display_name, u.sip_password, u.voicemail_pin, \
             p.last_ip, p.last_user_agent, p.last_firmware, p.last_file, p.last_seen_at, p.discovered_via, \
             o.op AS rps_op, o.state AS rps_state, o.result AS rps_result, o.attempts AS rps_attempts, \
             o.next_at AS rps_next_at, o.last_attempt_at AS rps_last_attempt_at, \
             o.error_kind AS rps_error_kind, o.error AS rps_error \
             FROM phones p LEFT JOIN users u ON u.id = p.user_id LEFT JOIN rps_outbox o ON o.mac = p.mac AND o.site_id = p.site_id AND o.vendor = p.vendor \
             WHERE p.site_id = ?1 ORDER BY p.mac",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let with_account = super::rps::account_vendors(ctx, site).await?;
    let mut handsets: Vec<HandsetView> = ctx
        .db
        .prepare(
            "SELECT h.phone_id, h.slot, u.extension, u.display_name FROM phone_handsets h \
             JOIN phones p ON p.id = h.phone_id JOIN users u ON u.id = h.user_id \
             WHERE p.site_id = ?1 ORDER BY h.phone_id, h.slot",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let view: Vec<PhoneView> = rows
        .into_iter()
        .map(|r| {
            let row = match (&r.rps_op, &r.rps_state) {
                (Some(op), Some(state)) => Some(super::rps::RpsRow {
                    op: op.clone(),
                    state: state.clone(),
                    result: r.rps_result.clone(),
                    attempts: r.rps_attempts.unwrap_or_default(),
                    next_at: r.rps_next_at.unwrap_or_default(),
                    last_attempt_at: r.rps_last_attempt_at,
                    error_kind: r.rps_error_kind.clone(),
                    error: r.rps_error.clone(),
                }),
                _ => None,
            };
            let has_account = with_account.contains(&r.vendor);
            let state = super::rps::shown_state(r.vendor, has_account, row.as_ref());
            let rps = RpsBrief {
                state,
                last_attempt_at: r.rps_last_attempt_at,
                next_at: (state == "pending" || state == "retrying")
                    .then_some(r.rps_next_at)
                    .flatten(),
                error_kind: r.rps_error_kind.clone(),
                error: r.rps_error.clone(),
            };
            let ext = r.extension.clone().unwrap_or_default();
            let audits: Vec<engine::StrengthReport> = r
                .sip_password
                .as_deref()
                .map(|p| engine::sip_password_strength(p, &ext))
                .into_iter()
                .chain(
                    r.voicemail_pin
                        .as_deref()
                        .filter(|p| !p.is_empty())
                        .map(|p| engine::pin_strength(p, &ext)),
                )
                .collect();
            let (mine, rest): (Vec<HandsetView>, Vec<HandsetView>) = std::mem::take(&mut handsets)
                .into_iter()
                .partition(|h| h.phone_id == r.id);
            handsets = rest;
            PhoneView {
                dect_handsets: r.vendor.model(&r.model).map_or(0, |m| m.dect_handsets),
                handsets: mine,
                redirect_only: r.vendor.redirect_only(),
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
                rps,
            }
        })
        .collect();
    json(200, &view)
}
