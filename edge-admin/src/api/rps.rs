//! The RPS part of the admin API: the site's private accounts, each phone's registration,
//! dry-runs, and Htek's manual registration.
//!
//! - `GET /api/sites/<s>/rps` -> the accounts (what may be shown: never a secret), a warning
//!   for each vendor whose phones have no private account, the outbox by state, Htek's note.
//! - `PUT /api/sites/<s>/rps/accounts` `{"ini": "<PortSIP system.ini, or part of it>"}` ->
//!   the accounts found are sealed and stored (each replaces the vendor's previous one), with
//!   the parser's notices; every phone of those vendors is queued for registration.
//! - `DELETE /api/sites/<s>/rps/accounts/<vendor>` -> 204; the vendor's queue is dropped.
//! - `GET /api/sites/<s>/phones/<mac>/rps` -> the phone's registration: state, last attempt,
//!   next retry, the vendor's reason; what the phone will ask the person at the desk (RPS ing
//!   from the serial number, or the stored RPS pin); for Htek, the portal instructions.
//! - `POST /api/sites/<s>/phones/<mac>/rps` `{"action": "register"|"remove", "dry_run": bool}`
//!   -> re-runs the registration (queued and worked after the response: 202), or shows the
//!   exact first request it would send, secrets redacted (200). For Htek, whose registration
//!   is manual, `{"action": "mark_registered"|"unmark"}` records what the administrator did
//!   in Htek's portal (rotating the token or deleting the phone clears the mark).
//! - `POST /api/sites/<s>/rps/work` -> works the outbox now and says what it did.
//! - `GET /api/sites/<s>/rps/htek.csv` -> `MAC,URL` of the site's Htek phones not yet marked
//!   registered, for Htek's portal.

use engine::rps::{RpsAccount, Step};
use engine::Vendor;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{Method, Response};

use super::sites::{load as load_site, no_content};
use super::{audit, json, parse_body, random_bytes, ApiError, ApiResult, Ctx, Route};
use crate::rps::{self as outbox, seal, Wish};

pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Get, ["sites", site, "rps"]) => overview(ctx, site).await,
        (Method::Put, ["sites", site, "rps", "accounts"]) => put_accounts(ctx, site, r.body).await,
        (Method::Delete, ["sites", site, "rps", "accounts", vendor]) => {
            delete_account(ctx, site, vendor).await
        }
        (Method::Post, ["sites", site, "rps", "work"]) => work_now(ctx, site).await,
        (Method::Get, ["sites", site, "rps", "htek.csv"]) => htek_csv(ctx, site).await,
        (Method::Get, ["sites", site, "phones", mac, "rps"]) => phone_status(ctx, site, mac).await,
        (Method::Post, ["sites", site, "phones", mac, "rps"]) => {
            phone_action(ctx, site, mac, r.body).await
        }
        _ => return None,
    })
}

/// What the console may show of an account: names, hosts and forms, never a secret.
fn summary(a: &RpsAccount) -> serde_json::Value {
    let clip = |s: &str| -> String {
        let head: String = s.chars().take(4).collect();
        if s.chars().count() > 4 {
            format!("{head}…")
        } else {
            head
        }
    };
    let form = |f: engine::rps::PasswordForm| match f {
        engine::rps::PasswordForm::Plain => "plain (hashed here)",
        engine::rps::PasswordForm::Hashed => "already hashed",
    };
    let mut v = json!({ "vendor": a.vendor(), "verified": a.is_verified(), "api": a.vendor().rps_api().registers() });
    let extra = match a {
        RpsAccount::Yealink(y) => {
            json!({ "key_id": clip(&y.access_key_id), "base_url": y.base_url })
        }
        RpsAccount::Ale(y) => json!({
            "key_id": clip(&y.access_key_id),
            "base_url": y.base_url,
            "provisioning_url": y.provisioning_url,
            "note": if y.provisioning_url.is_some() {
                "ALE's API is unverified: no public document describes it. ALE phones are not configured \
                 here: they are sent to the provisioning_url above."
            } else {
                "ALE's API is unverified: no public document describes it. ALE phones are not configured \
                 here: add provisioning_url (the server that configures them, such as your ALE \
                 communication server) to the [ale] section, or their registrations fail."
            },
        }),
        RpsAccount::Grandstream(g) => json!({
            "username": g.username,
            "password": form(g.password_form),
            "site_id": g.site_id,
            "base_url": g.base_url,
        }),
        RpsAccount::Fanvil(f) => {
            json!({ "username": f.username, "password": form(f.password_form), "base_url": f.url })
        }
        RpsAccount::Htek(h) => json!({
            "username": h.username,
            "note": a.vendor().rps_manual_note(),
        }),
        RpsAccount::Snom(s) => json!({
            "api": match s.api() { engine::rps::SnomApi::Rest => "rest", engine::rps::SnomApi::XmlRpc => "xmlrpc" },
            "username": s.username,
            "key_id": s.access_key_id.as_deref().map(clip),
            "base_url": match s.api() { engine::rps::SnomApi::Rest => &s.rest_base, engine::rps::SnomApi::XmlRpc => &s.xmlrpc_url },
        }),
        _ => json!({}),
    };
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            if k != "api" || !x.is_boolean() {
                o.insert(k.clone(), x.clone());
            }
        }
        if let Some(api) = e.get("api").filter(|x| x.is_string()) {
            o.insert("snom_api".into(), api.clone());
        }
    }
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsBody {
    ini: String,
}

async fn put_accounts(ctx: &Ctx<'_>, site: &str, body: Option<&str>) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let b: AccountsBody = parse_body(body)?;
    let (accounts, notices) =
        engine::rps::parse_accounts(&b.ini).map_err(|e| ApiError::engine("ini", &e))?;
    if accounts.is_empty() {
        return Err(ApiError::bad(
            "ini",
            format!(
                "no RPS account found: give at least one of {} with its keys",
                Vendor::ALL.map(|v| format!("[{v}]")).join(", ")
            ),
        ));
    }
    let key = seal::SealKey::from_env(ctx.env).map_err(|_| {
        ApiError::status(
            503,
            "the edge has no RPS_KEY secret (64 hex digits): accounts cannot be stored encrypted",
        )
    })?;
    let mut batch = Vec::new();
    let mut shown = Vec::new();
    let mut notices: Vec<_> = notices
        .iter()
        .map(|n| json!({ "section": n.section, "line": n.line, "message": n.message }))
        .collect();
    for a in &accounts {
        let api = a.vendor().rps_api();
        let vendor = a.vendor().as_str();
        // A section pasted as PortSIP writes it may lack keys this system needs (ALE: the
        // host and where to send the phones). It is saved, so the paste's other vendors
        // work, but marked incomplete and nothing is queued: registrations would only fail.
        let missing = a.missing_before_use();
        let sealed = key
            .seal(
                random_bytes::<12>()?,
                &seal::account_aad(site, vendor),
                a.to_ini().expose(),
            )
            .map_err(|_| ApiError::bad("ini", "an account is too long to store"))?;
        let mut s = summary(a);
        if !missing.is_empty() {
            let keys = missing.join(" and ");
            if let Some(o) = s.as_object_mut() {
                o.insert("incomplete".into(), json!(missing));
            }
            notices.push(json!({
                "section": vendor,
                "line": null,
                "message": format!(
                    "[{vendor}] saved but incomplete: add {keys} to the section and save it again; \
                     until then no {} phone is queued for registration",
                    a.vendor().display_name()
                ),
            }));
        }
        batch.push(
            ctx.db
                .prepare(
                    "INSERT INTO rps_accounts (site_id, vendor, sealed, summary, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (site_id, vendor) DO UPDATE SET sealed = excluded.sealed, summary = excluded.summary, \
                     server_id = NULL, paused_until = 0, updated_at = excluded.updated_at",
                )
                .bind(&[
                    site.into(),
                    vendor.into(),
                    sealed.into(),
                    s.to_string().into(),
                    (ctx.now as f64).into(),
                ])?,
        );
        if api.registers() && missing.is_empty() {
            batch.push(outbox::enqueue_vendor(
                &ctx.db,
                site,
                vendor,
                &ctx.origin,
                ctx.now,
            )?);
        }
        batch.push(audit(
            ctx,
            "set rps account",
            "site",
            &format!("{site}/{vendor}"),
        )?);
        shown.push(s);
    }
    ctx.db.batch(batch).await?;
    ctx.work_rps_later();
    json(200, &json!({ "accounts": shown, "notices": notices }))
}

async fn delete_account(ctx: &Ctx<'_>, site: &str, vendor: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let Ok(vendor) = vendor.parse::<Vendor>() else {
        return Err(ApiError::not_found("RPS account"));
    };
    let vendor = vendor.as_str();
    let exists = ctx
        .db
        .prepare("SELECT vendor FROM rps_accounts WHERE site_id = ?1 AND vendor = ?2")
        .bind(&[site.into(), vendor.into()])?
        .first::<String>(Some("vendor"))
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("RPS account"));
    }
    let del = ctx
        .db
        .prepare("DELETE FROM rps_accounts WHERE site_id = ?1 AND vendor = ?2")
        .bind(&[site.into(), vendor.into()])?;
    let drop = ctx
        .db
        .prepare("DELETE FROM rps_outbox WHERE site_id = ?1 AND vendor = ?2")
        .bind(&[site.into(), vendor.into()])?;
    ctx.db
        .batch(vec![
            del,
            drop,
            audit(
                ctx,
                "delete rps account",
                "site",
                &format!("{site}/{vendor}"),
            )?,
        ])
        .await?;
    Ok(no_content()?)
}

#[derive(Deserialize)]
struct AccountSummary {
    vendor: Vendor,
    summary: String,
    paused_until: f64,
    updated_at: f64,
}

#[derive(Deserialize)]
struct Count {
    vendor: Vendor,
    state: String,
    n: f64,
}

async fn overview(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let accounts: Vec<AccountSummary> = ctx
        .db
        .prepare("SELECT vendor, summary, paused_until, updated_at FROM rps_accounts WHERE site_id = ?1 ORDER BY vendor")
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let phones: Vec<Count> = ctx
        .db
        .prepare("SELECT vendor, 'phones' AS state, COUNT(*) AS n FROM phones WHERE site_id = ?1 GROUP BY vendor")
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let queue: Vec<Count> = ctx
        .db
        .prepare("SELECT vendor, state, COUNT(*) AS n FROM rps_outbox WHERE site_id = ?1 GROUP BY vendor, state")
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    let has = |v: Vendor| accounts.iter().any(|a| a.vendor == v);
    let count = |v: Vendor| phones.iter().find(|c| c.vendor == v).map_or(0.0, |c| c.n);
    // Every vendor the engine knows; a redirect-only vendor (ALE) is warned about only where
    // the site has its phones (few sites do).
    let warnings: Vec<_> = Vendor::ALL
        .into_iter()
        .filter(|v| !has(*v) && (v.is_provisioned() || count(*v) > 0.0))
        .map(|v| {
            let n = count(v);
            json!({
                "vendor": v,
                "phones": n,
                "message": no_account_warning(v),
            })
        })
        .collect();
    let shown: Vec<_> = accounts
        .iter()
        .map(|a| {
            let mut s: serde_json::Value =
                serde_json::from_str(&a.summary).unwrap_or_else(|_| json!({}));
            if let Some(o) = s.as_object_mut() {
                o.insert("updated_at".into(), json!(a.updated_at));
                o.insert(
                    "paused_until".into(),
                    json!((a.paused_until > ctx.now as f64).then_some(a.paused_until)),
                );
            }
            s
        })
        .collect();
    let queue: Vec<_> = queue
        .iter()
        .map(|c| json!({ "vendor": c.vendor, "state": c.state, "count": c.n }))
        .collect();
    // The vendors whose service takes one URL per vendor-side site (GDMS), and those with no
    // API at all (Htek): what the administrator sets or does by hand, from the vendor's home.
    let site_url = super::sites::site_url(ctx, site).await?;
    let per_site: Vec<_> = Vendor::ALL
        .into_iter()
        .filter_map(|v| {
            let note = v.rps_site_url_note()?;
            Some(json!({ "vendor": v, "site_url": site_url, "note": note }))
        })
        .collect();
    let manual: Vec<_> = Vendor::ALL
        .into_iter()
        .filter_map(|v| Some(json!({ "vendor": v, "note": v.rps_manual_note()? })))
        .collect();
    json(
        200,
        &json!({
            "accounts": shown,
            "warnings": warnings,
            "queue": queue,
            "per_site": per_site,
            "manual": manual,
        }),
    )
}

/// What the console says when a vendor has no private account.
fn no_account_warning(vendor: Vendor) -> String {
    let name = vendor.display_name();
    if !vendor.rps_api().registers() {
        return format!(
            "No {name} account is noted. {name} registration is manual anyway: enter each phone's URL in \
             {name}'s RPS portal under your own account (the CSV export lists them)."
        );
    }
    // PortSIP's documents: without a private account the phone's configuration link is
    // stored under the PBX maker's account; they strongly recommend one per vendor.
    format!(
        "No private {name} RPS account is configured: {name} phones can then be redirected only \
         through an account you do not control (a reseller's or a PBX vendor's), which decides where \
         your phones are sent, and the link to your phones' configuration is stored under that \
         account. A private account per vendor is strongly recommended: ask {name} (or your \
         {name} distributor) for an RPS account of your own, then paste its credentials \
         (PortSIP system.ini section [{vendor}]) under RPS accounts to register your phones under it."
    )
}

#[derive(Deserialize)]
struct PhoneRow {
    id: String,
    mac: String,
    vendor: Vendor,
    serial_number: String,
    rps_pin: Option<String>,
    token_generation: f64,
    http_user: Option<String>,
    http_password: Option<String>,
    /// Registered before by the site's account (the outbox's hint).
    known: f64,
}

async fn find_phone(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<PhoneRow> {
    let mac = engine::Mac::parse(mac).map_err(|_| ApiError::not_found("phone"))?;
    ctx.db
        .prepare(
            "SELECT id, mac, vendor, serial_number, rps_pin, token_generation, http_user, http_password, \
             COALESCE((SELECT known FROM rps_outbox o WHERE o.mac = phones.mac \
             AND o.site_id = phones.site_id AND o.vendor = phones.vendor), 0) AS known \
             FROM phones WHERE site_id = ?1 AND mac = ?2",
        )
        .bind(&[site.into(), mac.to_string().into()])?
        .first::<PhoneRow>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("phone"))
}

/// A phone's RPS row as the API shows it.
#[derive(Deserialize, Serialize, Clone)]
pub(crate) struct RpsRow {
    pub(crate) op: String,
    pub(crate) state: String,
    pub(crate) result: Option<String>,
    pub(crate) attempts: f64,
    pub(crate) next_at: f64,
    pub(crate) last_attempt_at: Option<f64>,
    pub(crate) error_kind: Option<String>,
    pub(crate) error: Option<String>,
}

/// The vendors the site has an RPS account for.
pub(crate) async fn account_vendors(ctx: &Ctx<'_>, site: &str) -> ApiResult<Vec<Vendor>> {
    #[derive(Deserialize)]
    struct Row {
        vendor: Vendor,
    }
    let rows: Vec<Row> = ctx
        .db
        .prepare("SELECT vendor FROM rps_accounts WHERE site_id = ?1")
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.vendor).collect())
}

/// The state shown for a phone: `registered`, `removed`, `pending`, `retrying`, `failed`,
/// `manual` (no API: Htek), `no_account`.
pub(crate) fn shown_state(vendor: Vendor, has_account: bool, row: Option<&RpsRow>) -> &'static str {
    match row {
        Some(r) => match (r.state.as_str(), r.op.as_str()) {
            ("done", "register") => "registered",
            ("done", _) => "removed",
            ("pending", _) if r.attempts > 0.0 => "retrying",
            ("pending", _) => "pending",
            _ => "failed",
        },
        None if !vendor.rps_api().registers() => "manual",
        None if has_account => "not_queued",
        None => "no_account",
    }
}

async fn phone_status(ctx: &Ctx<'_>, site: &str, mac: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let p = find_phone(ctx, site, mac).await?;
    let row = ctx
        .db
        .prepare(
            "SELECT op, state, result, attempts, next_at, last_attempt_at, error_kind, error \
             FROM rps_outbox WHERE mac = ?1 AND site_id = ?2 AND vendor = ?3",
        )
        .bind(&[p.mac.as_str().into(), site.into(), p.vendor.as_str().into()])?
        .first::<RpsRow>(None)
        .await?;
    let has_account = ctx
        .db
        .prepare("SELECT vendor FROM rps_accounts WHERE site_id = ?1 AND vendor = ?2")
        .bind(&[site.into(), p.vendor.as_str().into()])?
        .first::<String>(Some("vendor"))
        .await?
        .is_some();
    let state = shown_state(p.vendor, has_account, row.as_ref());
    let serial = engine::rps::SerialNumber::parse(&p.serial_number).ok();
    // RPS ing and RPS pin are Yealink's mechanism: no guidance for another vendor's phone.
    let codes = p.vendor.rps_desk_codes();
    let ing = serial
        .as_ref()
        .and_then(engine::rps::rps_ing)
        .filter(|_| codes);
    let asks = match (&p.rps_pin, &ing) {
        _ if !codes => None,
        (Some(pin), _) => Some(format!("If the phone asks for an RPS pin, enter {pin}.")),
        (None, Some(ing)) => Some(format!(
            "If the phone asks for an \"RPS ing\" code, enter {ing} (the last five digits of its serial number). \
             If it asks for an \"RPS pin\" instead (devices made before 2018), the code cannot be derived: \
             ask the vendor or your provider for it, quoting the MAC {}.",
            p.mac
        )),
        (None, None) => Some(format!(
            "If the phone asks for a code: an \"RPS ing\" code is the last five digits of its serial number \
             (add the serial number to show it here); an \"RPS pin\" (devices made before 2018) cannot be derived: \
             ask the vendor or your provider for it, quoting the MAC {}.",
            p.mac
        )),
    };
    // No API (Htek): the steps to register this phone by hand, with its own URL.
    let manual = match (p.vendor.rps_manual_note(), engine::Mac::parse(&p.mac)) {
        (Some(_), Ok(m)) => {
            let key = ctx
                .env
                .secret(crate::TOKEN_KEY)
                .map(|k| k.to_string())
                .unwrap_or_default();
            let url = outbox::phone_url(&key, &ctx.origin, &p.id, p.token_generation as u32);
            p.vendor.rps_manual_instructions(m, &url)
        }
        _ => None,
    };
    // One URL per vendor-side site (GDMS): the phone is served there only with its HTTP
    // credentials.
    let per_site = if p.vendor.rps_site_url_note().is_some() {
        let name = p.vendor.display_name();
        let creds = p.http_user.is_some() && p.http_password.is_some();
        Some(json!({
            "site_url": super::sites::site_url(ctx, site).await?,
            "http_credentials": creds,
            "note": if creds {
                format!("{name}'s service sends the phone to the site URL set on its {name} site; the phone must give it the HTTP user and password set here.")
            } else {
                format!("This phone has no HTTP user and password: under the site URL {name}'s service sends it to, it will not be served. Set them here and at {name}.")
            },
        }))
    } else {
        None
    };
    json(
        200,
        &json!({
            "mac": p.mac,
            "vendor": p.vendor,
            "state": state,
            "per_site": per_site,
            "row": row,
            "serial_number": serial.map(|s| s.to_string()),
            "rps_ing": ing,
            "rps_pin": p.rps_pin.filter(|_| codes),
            "asks": asks,
            "manual": manual,
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    action: String,
    #[serde(default)]
    dry_run: bool,
}

async fn phone_action(
    ctx: &Ctx<'_>,
    site: &str,
    mac: &str,
    body: Option<&str>,
) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let p = find_phone(ctx, site, mac).await?;
    let b: ActionBody = parse_body(body)?;
    if !p.vendor.rps_api().registers() {
        return manual_mark(ctx, site, &p, &b).await;
    }
    let wish = match b.action.as_str() {
        "register" => Wish::Register,
        "remove" => Wish::Remove,
        _ => return Err(ApiError::bad("action", "register or remove")),
    };
    let name = p.vendor.display_name();
    if !p.vendor.rps_api().registers() {
        return Err(ApiError::bad(
            "action",
            format!("{name} has no public registration API: register the phone in {name}'s portal (GET .../rps for its URL)"),
        ));
    }
    if wish == Wish::Remove && !p.vendor.rps_api().removes() {
        return Err(ApiError::bad(
            "action",
            format!("{name}'s service has no public call to remove a device: remove it in {name}'s own console"),
        ));
    }
    if b.dry_run {
        return dry_run(ctx, site, &p, wish).await;
    }
    let stmt = ctx.rps_enqueue(site, &p.mac, p.vendor, wish)?;
    let queued = stmt
        .run()
        .await?
        .meta()?
        .and_then(|m| m.changes)
        .unwrap_or(0);
    if queued == 0 {
        return Err(ApiError::conflict(
            "action",
            format!(
                "no usable {} RPS account on the site: add one under RPS accounts, or complete \
                 the one saved incomplete (the accounts list says what it lacks)",
                p.vendor
            ),
        ));
    }
    audit(ctx, &format!("rps {}", b.action), "phone", &p.id)?
        .run()
        .await?;
    ctx.work_rps_later();
    json(202, &json!({ "queued": b.action, "state": "pending" }))
}

/// A vendor without a registration API (Htek) is registered by hand in its portal: the
/// administrator marks it here, so the state and the CSV (phones still to register) say the
/// truth.
async fn manual_mark(
    ctx: &Ctx<'_>,
    site: &str,
    p: &PhoneRow,
    b: &ActionBody,
) -> ApiResult<Response> {
    let stmt = match (b.action.as_str(), b.dry_run) {
        ("mark_registered", false) => ctx
            .db
            .prepare(
                "INSERT INTO rps_outbox (mac, site_id, vendor, op, state, result, origin, next_at, updated_at) \
                 VALUES (?1, ?2, ?5, 'register', 'done', 'manual', ?3, ?4, ?4) \
                 ON CONFLICT (mac, site_id, vendor) DO UPDATE SET op = 'register', \
                 state = 'done', result = 'manual', seq = rps_outbox.seq + 1, error_kind = NULL, error = NULL, \
                 updated_at = excluded.updated_at",
            )
            .bind(&[
                p.mac.as_str().into(),
                site.into(),
                ctx.origin.as_str().into(),
                (ctx.now as f64).into(),
                p.vendor.as_str().into(),
            ])?,
        ("unmark", false) => manual_unmark(ctx, site, &p.mac)?,
        _ => {
            let name = p.vendor.display_name();
            return Err(ApiError::bad(
                "action",
                format!("{name} has no public registration API: register the phone in {name}'s portal (GET .../rps for its URL), then mark_registered (or unmark)"),
            ));
        }
    };
    ctx.db
        .batch(vec![
            stmt,
            audit(
                ctx,
                &format!("rps {} {}", p.vendor, b.action),
                "phone",
                &p.id,
            )?,
        ])
        .await?;
    phone_status(ctx, site, &p.mac).await
}

/// The vendors registered by hand (no API), as a JSON array for `json_each` in SQL.
pub(crate) fn manual_vendors() -> String {
    let names: Vec<_> = Vendor::ALL
        .into_iter()
        .filter(|v| !v.rps_api().registers())
        .collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

/// The statement that forgets a phone's manual registration mark (its URL changed, or it is
/// gone).
pub(crate) fn manual_unmark(
    ctx: &Ctx<'_>,
    site: &str,
    mac: &str,
) -> worker::Result<worker::D1PreparedStatement> {
    ctx.db
        .prepare(
            "DELETE FROM rps_outbox WHERE mac = ?1 AND site_id = ?2 \
             AND vendor IN (SELECT value FROM json_each(?3))",
        )
        .bind(&[mac.into(), site.into(), manual_vendors().into()])
}

/// The exact first request the action would send, secrets redacted. Later requests depend on
/// the vendor's replies (a token, a lookup), so they are described, not built.
async fn dry_run(ctx: &Ctx<'_>, site: &str, p: &PhoneRow, wish: Wish) -> ApiResult<Response> {
    let key = seal::SealKey::from_env(ctx.env).map_err(|_| {
        ApiError::status(
            503,
            "the edge has no RPS_KEY secret: the account cannot be opened",
        )
    })?;
    #[derive(Deserialize)]
    struct Acc {
        sealed: String,
        server_id: Option<String>,
    }
    let acc = ctx
        .db
        .prepare("SELECT sealed, server_id FROM rps_accounts WHERE site_id = ?1 AND vendor = ?2")
        .bind(&[site.into(), p.vendor.as_str().into()])?
        .first::<Acc>(None)
        .await?
        .ok_or_else(|| {
            ApiError::conflict("action", format!("no {} RPS account on the site", p.vendor))
        })?;
    let account = key
        .open(&seal::account_aad(site, p.vendor.as_str()), &acc.sealed)
        .ok()
        .and_then(|ini| engine::rps::parse_accounts(&ini).ok())
        .and_then(|(mut a, _)| a.pop())
        .ok_or_else(|| {
            ApiError::status(
                500,
                "the stored account does not open under RPS_KEY: paste it again",
            )
        })?;
    let mac = engine::Mac::parse(&p.mac).map_err(|e| ApiError::engine("mac", &e))?;
    let nonce = engine::first_access_token(random_bytes::<16>()?);
    let now_ms = worker::Date::now().as_millis();
    let (what, step) = match wish {
        Wish::Remove => (
            "remove",
            account.remove(mac).start(now_ms, &nonce).map_done(),
        ),
        Wish::Register if account.needs_server() && acc.server_id.is_none() => (
            "ensure_server (then register)",
            outbox::server_spec(&account, site, &ctx.origin).and_then(|spec| {
                account
                    .ensure_server(&spec)
                    .start(now_ms, &nonce)
                    .map_done()
            }),
        ),
        Wish::Register => {
            let token_key = ctx.env.secret(crate::TOKEN_KEY)?.to_string();
            let url = outbox::phone_url(&token_key, &ctx.origin, &p.id, p.token_generation as u32);
            (
                "register",
                outbox::rps_phone(
                    &account,
                    mac,
                    &url,
                    &p.serial_number,
                    (p.http_user.as_deref(), p.http_password.as_deref()),
                    acc.server_id.clone(),
                )
                .and_then(|mut phone| {
                    phone.known = p.known > 0.0;
                    account.register(&phone).start(now_ms, &nonce).map_done()
                }),
            )
        }
    };
    let request = match step {
        Ok(Some(req)) => {
            let r = req.redacted();
            json!({ "method": r.method, "url": r.url, "headers": r.headers, "body": r.body })
        }
        Ok(None) => serde_json::Value::Null,
        Err(e) => {
            return json(
                200,
                &json!({ "dry_run": true, "operation": what, "request": null, "error": { "kind": e.kind(), "message": e.to_string() } }),
            )
        }
    };
    json(
        200,
        &json!({
            "dry_run": true,
            "operation": what,
            "request": request,
            "note": "the first request, secrets shown as ***; nothing was sent. Later requests depend on the vendor's replies.",
        }),
    )
}

/// The first step of an op as "a request to send" or its immediate result.
trait FirstStep {
    fn map_done(self) -> Result<Option<engine::rps::HttpRequest>, engine::rps::RpsError>;
}

impl<T> FirstStep for Step<T> {
    fn map_done(self) -> Result<Option<engine::rps::HttpRequest>, engine::rps::RpsError> {
        match self {
            Self::Send(r) => Ok(Some(r)),
            Self::Done(Ok(_)) => Ok(None),
            Self::Done(Err(e)) => Err(e),
        }
    }
}

async fn work_now(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let s = outbox::work(ctx.env).await?;
    json(200, &s)
}

async fn htek_csv(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    #[derive(Deserialize)]
    struct H {
        id: String,
        mac: String,
        token_generation: f64,
    }
    let rows: Vec<H> = ctx
        .db
        .prepare(
            "SELECT p.id, p.mac, p.token_generation FROM phones p WHERE p.site_id = ?1 \
             AND p.vendor IN (SELECT value FROM json_each(?2)) \
             AND NOT EXISTS (SELECT 1 FROM rps_outbox o WHERE o.mac = p.mac AND o.site_id = p.site_id \
             AND o.vendor = p.vendor AND o.state = 'done') ORDER BY p.mac",
        )
        .bind(&[site.into(), manual_vendors().into()])?
        .all()
        .await?
        .results()?;
    let key = ctx.env.secret(crate::TOKEN_KEY)?.to_string();
    let list: Vec<(engine::Mac, String)> = rows
        .iter()
        .filter_map(|r| {
            let mac = engine::Mac::parse(&r.mac).ok()?;
            Some((
                mac,
                outbox::phone_url(&key, &ctx.origin, &r.id, r.token_generation as u32),
            ))
        })
        .collect();
    let csv = engine::rps::htek_csv(list.iter().map(|(m, u)| (*m, u.as_str())));
    let resp = edge_shared::http::uncached(200, "text/csv; charset=utf-8", csv)?;
    let headers = resp.headers().clone();
    headers.set(
        "Content-Disposition",
        &format!("attachment; filename=\"htek-{site}.csv\""),
    )?;
    Ok(resp.with_headers(headers))
}
