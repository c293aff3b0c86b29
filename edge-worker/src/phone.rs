//! `GET /p/<token>/<file>`: a phone's own files, behind its per-phone token.
//!
//! Order of checks, all answered with the same 404 when they fail: the token's shape, the
//! token (first-access or steady-state), what the engine detects in the path and
//! User-Agent, the MAC in the path against the token's phone, the MAC in the User-Agent
//! against the path, the site's allow/deny lists, the provisioning window. Unknown tokens,
//! tokens used for another phone's MAC and wrong HTTP Basic credentials count as misses for
//! the client address (the engine's `client_key`: IPv6 per /64); past the threshold the
//! address gets 429 for a cool-off, but a valid token is always served, so an office behind
//! one NAT address is never locked out by its own phones.
//!
//! Under a site URL (`/s/<site>/<token>/`, see [`handle_site`]) the credentials are the only
//! secret, so there the brake comes first: a braked address or phone gets the 429 whatever
//! it sends, the right password included.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use engine::{
    detect, render_common, render_phonebook, AdditionalParams, CommonContext, Detection, Mac,
    MacPolicy, PhoneRequest, Profile, Resource, Vendor,
};
use worker::{Date, Env, Headers, Request, Response, Result};

use edge_shared::inputs::{base_url, inputs, saved_template};

use crate::error;
use crate::store::{self, PhoneRow, Seen};

pub(crate) async fn handle(req: &Request, env: &Env, rest: &str) -> Result<Response> {
    let (token, file_path) = rest.split_once('/').unwrap_or((rest, ""));
    serve(req, env, Entry::Phone(token), file_path).await
}

/// `GET /s/<site>/<site token>/<file>`: the site-wide URL for a redirection service that takes
/// no URL per phone (Grandstream GDMS). It names no phone, so a phone is served under it only
/// with its own HTTP Basic credentials, and guessing them is braked per client address and
/// per phone named (the MAC in the path or User-Agent), whatever the outcome: once braked,
/// the right password gets the same 429. Every phone, known or not, with credentials or
/// without, answers alike: a 401 challenge without credentials, a 404 (a miss) with wrong
/// ones, so the answers tell nobody which MACs exist or have credentials.
pub(crate) async fn handle_site(req: &Request, env: &Env, rest: &str) -> Result<Response> {
    let (site, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let (token, file_path) = rest.split_once('/').unwrap_or((rest, ""));
    serve(req, env, Entry::Site { site, token }, file_path).await
}

/// How a phone's request names it.
#[derive(Clone, Copy)]
enum Entry<'a> {
    /// `/p/<phone token>/`.
    Phone(&'a str),
    /// `/s/<site>/<site token>/`.
    Site { site: &'a str, token: &'a str },
}

async fn serve(req: &Request, env: &Env, entry: Entry<'_>, file_path: &str) -> Result<Response> {
    let db = env.d1(crate::DB)?;
    let now = Date::now().as_millis() / 1000;
    let ip = req.headers().get("CF-Connecting-IP")?.unwrap_or_default();
    let address = address_key(&ip);
    let user_agent = req.headers().get("User-Agent")?.unwrap_or_default();
    let ua = Some(user_agent.as_str()).filter(|u| !u.is_empty());
    let (row, detection, token) = match entry {
        Entry::Phone(token) => {
            let row = if engine::is_token_shaped(token) {
                store::phone_by_token(&db, &engine::token_hash(token)).await?
            } else {
                None
            };
            // The site's URI mappings take part in detection; a site without any costs no
            // query.
            let mappings = match &row {
                Some(r) if r.mappings > 0.0 => store::uri_mappings(&db, &r.site_id).await?,
                _ => Vec::new(),
            };
            let request = PhoneRequest {
                path: file_path,
                user_agent: ua,
                pnp: None,
                lan_mac: None,
            };
            (row, detect(&request, &mappings), token)
        }
        Entry::Site { site, token } => {
            let key = env.secret(crate::TOKEN_KEY)?.to_string();
            let generation = edge_shared::store::site_token_generation(&db, site).await?;
            let expected = engine::site_token(key.as_bytes(), site, generation);
            if !engine::is_token_shaped(token)
                || !engine::ct_eq(token.as_bytes(), expected.as_bytes())
            {
                return miss(&db, &[(&address, engine::MissPolicy::ADDRESS)], now).await;
            }
            let mappings = store::uri_mappings(&db, site).await?;
            let request = PhoneRequest {
                path: file_path,
                user_agent: ua,
                pnp: None,
                lan_mac: None,
            };
            let detection = detect(&request, &mappings);
            let mac = match &detection.resource {
                Resource::DeviceConfig { mac } | Resource::Phonebook { mac } => Some(*mac),
                _ => detection.ua_mac,
            };
            // The brake first: a braked address or phone is refused whatever it sends. A
            // request to a braked phone still counts against its address (a guesser moving
            // on to another phone is braked there too); a braked address's requests count
            // for no phone (they are never tried, and a row per guessed MAC would only fill
            // the table).
            let phone = mac.map(|m| format!("mac:{m}:{site}"));
            let mut keys = vec![(address.as_str(), engine::MissPolicy::ADDRESS)];
            if let Some(p) = &phone {
                keys.push((p.as_str(), engine::MissPolicy::PHONE_CREDENTIALS));
            }
            let brake = store::brake(&db, &address, phone.as_deref(), now).await?;
            if let Some(until) = brake.address {
                return error::too_many(until.saturating_sub(now));
            }
            if brake.phone {
                return miss(&db, &keys, now).await;
            }
            let row = match mac {
                Some(m) => store::phone_by_mac(&db, site, &m.to_string()).await?,
                None => None,
            };
            // A site URL names no phone: only the phone's own credentials let it through.
            // Every other phone (none, or one without credentials) answers as a wrong
            // password does.
            let header = req.headers().get("Authorization")?;
            let auth = match row
                .as_ref()
                .and_then(|r| r.http_user.as_ref().zip(r.http_password.as_ref()))
            {
                Some((user, password)) => engine::basic_auth(header.as_deref(), user, password),
                None => match engine::basic_auth(header.as_deref(), "", "") {
                    engine::BasicAuth::Missing => engine::BasicAuth::Missing,
                    _ => engine::BasicAuth::Refused,
                },
            };
            match auth {
                engine::BasicAuth::Granted => {}
                // Phones send credentials only when challenged; a challenge tells nothing.
                engine::BasicAuth::Missing => return error::challenge(),
                engine::BasicAuth::Refused => return miss(&db, &keys, now).await,
            }
            (row, detection, token)
        }
    };
    let Some(row) = row.filter(|r| token_matches_resource(r, &detection)) else {
        return miss(&db, &[(&address, engine::MissPolicy::ADDRESS)], now).await;
    };
    let vendor = row.vendor;
    if !vendor.is_provisioned() {
        return error::not_found();
    }
    if !allowed(&row, &detection, vendor, now) {
        return error::not_found();
    }
    // Under a token URL the credentials come after the token (under a site URL they were
    // checked above, behind the brake).
    if let (Entry::Phone(_), Some(user), Some(password)) =
        (entry, &row.http_user, &row.http_password)
    {
        let header = req.headers().get("Authorization")?;
        match engine::basic_auth(header.as_deref(), user, password) {
            engine::BasicAuth::Granted => {}
            // Phones send credentials only when challenged.
            engine::BasicAuth::Missing => return error::challenge(),
            // A wrong password is a guess: counted like an unknown token.
            engine::BasicAuth::Refused => {
                return miss(&db, &[(&address, engine::MissPolicy::ADDRESS)], now).await
            }
        }
    }

    let key = env.secret(crate::TOKEN_KEY)?.to_string();
    let steady = engine::steady_token(key.as_bytes(), &row.id, row.token_generation as u32);
    let base = base_url(&crate::origin(req), &steady);
    let (body, content_type) = match &detection.resource {
        Resource::DeviceConfig { .. } => {
            let template = saved_template(&row);
            match device_config(&db, &row, vendor, &base, template).await? {
                Some(cfg) => {
                    let ct = engine::content_type_of(vendor, &cfg);
                    (cfg, ct)
                }
                // A phone without a user has no config yet.
                None => return error::not_found(),
            }
        }
        Resource::Mapped { template, .. } => {
            let Some(t) = store::template(&db, &row.site_id, template).await? else {
                return error::not_found();
            };
            match device_config(&db, &row, vendor, &base, Some(t)).await? {
                Some(cfg) => {
                    let ct = engine::content_type_of(vendor, &cfg);
                    (cfg, ct)
                }
                None => return error::not_found(),
            }
        }
        Resource::CommonConfig { file, model } => {
            let fw = engine::firmware_url(
                &store::firmware_rows(&db, &row.site_id, vendor).await?,
                vendor,
                model.as_deref().unwrap_or(&row.model),
                &base,
            );
            let ctx = CommonContext {
                model: model.as_deref(),
                base_url: Some(&base),
                firmware_url: fw.as_deref(),
                poll_interval_minutes: row.poll_interval_minutes as u32,
                mac: Mac::parse(&row.mac).ok(),
            };
            // A common file the vendor writes only for a known phone cannot fail here (the
            // token names the phone); any refusal is the same 404 as every other.
            let Ok(body) = render_common(vendor, file, &ctx) else {
                return error::not_found();
            };
            let ct = engine::content_type_of(vendor, &body);
            (body, ct)
        }
        Resource::Phonebook { .. } => {
            let merged = edge_shared::store::directory(&db, &row.site_id).await?;
            (
                render_phonebook(vendor, "Directory", &merged).map_err(engine_err)?,
                "application/xml",
            )
        }
        Resource::Firmware { file, .. } => {
            return firmware(
                req,
                env,
                &db,
                &row,
                vendor,
                file,
                now,
                &ip,
                &user_agent,
                file_path,
            )
            .await;
        }
        Resource::NotServed => return error::not_found(),
    };

    let seen = Seen {
        ip: &ip,
        user_agent: &user_agent,
        firmware: detection.firmware_version.as_deref(),
        model: detection.model.as_deref(),
        file: file_path,
    };
    let hash = engine::token_hash(token);
    let used_steady = engine::ct_eq(hash.as_bytes(), row.token2_hash.as_bytes());
    // Only the device config itself, served inside the window, is the phone's first
    // contact: a common file or the phonebook (served outside the window, holding no secret)
    // must not close the window into the steady state in which the config is served without
    // one (issue 15, finding 2).
    let first_contact = matches!(
        detection.resource,
        Resource::DeviceConfig { .. } | Resource::Mapped { .. }
    );
    store::record_fetch(
        &db,
        &row.id,
        now,
        &seen,
        used_steady && row.token1_hash.is_some(),
        first_contact,
    )
    .await?;

    error::uncached(200, content_type, body)
}

/// The phone's config rendered with `template` (its own, or the one a URI mapping names),
/// or `None` for a phone not bound to a user.
async fn device_config(
    db: &worker::D1Database,
    row: &PhoneRow,
    vendor: Vendor,
    base: &str,
    template: Option<engine::Template>,
) -> Result<Option<String>> {
    let profile = profile(db, row, vendor, base).await?;
    if profile.lines.is_empty() {
        return Ok(None);
    }
    render(profile, template, &row.additional_params)
        // A template that fails for this phone's data: never a half-rendered config.
        .map(Some)
        .map_err(engine_err)
}

/// Renders `profile`'s config with `template` (if any) and the site's Additional Parameters:
/// exactly what the phone receives (the admin preview renders through `engine::preview`,
/// which runs the same renderer over the same profile rule).
fn render(
    profile: Profile,
    template: Option<engine::Template>,
    additional_params: &str,
) -> engine::Result<String> {
    // Validated on save; parameters that no longer parse are left out, not half-applied.
    let params = AdditionalParams::parse(additional_params).unwrap_or_default();
    let name = template.as_ref().map(|t| t.name.clone());
    let renderer = renderer_for(template)?;
    renderer.render_config(&Arc::new(profile), name.as_deref(), &params)
}

thread_local! {
    /// Compiled templates of this isolate, keyed by the SHA-256 of everything saved with
    /// them (an edited template has a new key; the old entry ages out with the rest).
    static RENDERERS: RefCell<HashMap<String, Rc<engine::Renderer>>> = RefCell::new(HashMap::new());
}

/// At most this many compiled templates per isolate; past it the cache starts afresh.
const MAX_CACHED_TEMPLATES: usize = 64;

/// A renderer holding `template` compiled (or none), from the isolate's cache.
fn renderer_for(template: Option<engine::Template>) -> engine::Result<Rc<engine::Renderer>> {
    let key = template.as_ref().map_or_else(String::new, |t| {
        engine::token_hash(&format!(
            "{}\0{:?}\0{:?}\0{}\0{}",
            t.vendor, t.style, t.composition, t.name, t.source
        ))
    });
    if let Some(r) = RENDERERS.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(r);
    }
    let mut renderer = engine::Renderer::new();
    if let Some(t) = template {
        renderer.load_saved(t)?;
    }
    let renderer = Rc::new(renderer);
    RENDERERS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED_TEMPLATES {
            c.clear();
        }
        c.insert(key, Rc::clone(&renderer));
    });
    Ok(renderer)
}

/// A miss (unknown token, a token naming another phone, wrong credentials), counted under
/// each key with its policy: 429 if one of them is cooling off now, else the 404 of every
/// refusal.
async fn miss(
    db: &worker::D1Database,
    keys: &[(&str, engine::MissPolicy)],
    now: u64,
) -> Result<Response> {
    match store::count_misses(db, keys, now).await? {
        Some(until) => error::too_many(until.saturating_sub(now)),
        None => error::not_found(),
    }
}

/// The miss-counter key of a client address (`CF-Connecting-IP`): the engine's
/// `client_key` (IPv6 per /64). A header that is no address (none reaches the Worker
/// through Cloudflare) is counted as it is, cut short.
fn address_key(ip: &str) -> String {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(addr) => format!("ip:{}", engine::client_key(addr)),
        Err(_) => {
            let end = ip.char_indices().nth(64).map_or(ip.len(), |(i, _)| i);
            format!("ip:?{}", ip.get(..end).unwrap_or_default())
        }
    }
}

/// The token's phone is the one the path names: the MAC in the path (device config,
/// phonebook) must be this phone's. Common files carry no MAC and belong to every phone.
fn token_matches_resource(row: &PhoneRow, d: &Detection) -> bool {
    let Ok(mac) = Mac::parse(&row.mac) else {
        return false;
    };
    match &d.resource {
        Resource::DeviceConfig { mac: m } | Resource::Phonebook { mac: m } => *m == mac,
        Resource::CommonConfig { .. } | Resource::Firmware { .. } | Resource::Mapped { .. } => true,
        Resource::NotServed => false,
    }
}

/// The checks that are not misses: the User-Agent's MAC, the vendor, the site's MAC
/// lists, the provisioning window (secrets only).
fn allowed(row: &PhoneRow, d: &Detection, vendor: Vendor, now: u64) -> bool {
    let Ok(mac) = Mac::parse(&row.mac) else {
        return false;
    };
    if !d.ua_mac_matches() || d.ua_mac.is_some_and(|m| m != mac) {
        return false;
    }
    if d.vendor.is_some_and(|v| v != vendor) {
        return false;
    }
    if matches!(d.resource, Resource::Firmware { vendor: v, .. } if v != vendor) {
        return false;
    }
    // Lists are validated on save; one that no longer parses denies rather than serves all.
    let Ok(policy) = MacPolicy::parse(&row.allow_macs, &row.deny_macs) else {
        return false;
    };
    if !policy.is_allowed(&mac) {
        return false;
    }
    match d.resource {
        Resource::DeviceConfig { .. } | Resource::Mapped { .. } => engine::window_open(
            row.assigned_at as u64,
            row.first_fetch_at.map(|t| t as u64),
            now,
            row.window_secs as u64,
        ),
        _ => true,
    }
}

/// The profile the phone's config renders from (the engine's rule); without lines for a
/// phone not bound to a user.
async fn profile(
    db: &worker::D1Database,
    row: &PhoneRow,
    vendor: Vendor,
    base: &str,
) -> Result<Profile> {
    let i = inputs(db, row, vendor).await?;
    let mut p = engine::profile(&i.site, i.device, i.user.as_ref(), i.blf, &i.firmware, base);
    let handsets: Vec<(u8, &engine::User)> = i.handsets.iter().map(|h| (h.slot, &h.user)).collect();
    engine::assign_handsets(&mut p, &i.site, &handsets);
    p.contacts = i.contacts;
    Ok(p)
}

fn engine_err(e: engine::Error) -> worker::Error {
    worker::Error::RustError(format!("render: {}", e.kind().description()))
}

/// A phone's firmware download (recorded as seen).
#[allow(clippy::too_many_arguments)]
async fn firmware(
    req: &Request,
    env: &Env,
    db: &worker::D1Database,
    row: &PhoneRow,
    vendor: Vendor,
    file: &str,
    now: u64,
    ip: &str,
    user_agent: &str,
    file_path: &str,
) -> Result<Response> {
    let Some(fw) = store::firmware_file(db, &row.site_id, vendor, file).await? else {
        return error::not_found();
    };
    let response = stream_firmware(req, env, &fw).await?;
    if response.status_code() < 300 {
        let seen = Seen {
            ip,
            user_agent,
            firmware: None,
            model: None,
            file: file_path,
        };
        store::record_seen(db, &row.id, now, &seen).await?;
    }
    Ok(response)
}

/// The stored image `fw` from R2, whole or the one byte range the request asks for (the
/// engine's `answer_range`); the same 404 as every refusal if the blob is missing.
pub(crate) async fn stream_firmware(
    req: &Request,
    env: &Env,
    fw: &store::FirmwareFile,
) -> Result<Response> {
    let size = fw.size as u64;
    if size > MAX_SAFE_INTEGER {
        return error::not_found();
    }
    let range = req.headers().get("Range")?;
    let answer = engine::answer_range(range.as_deref(), size);
    let headers = Headers::new();
    headers.set("Accept-Ranges", "bytes")?;
    headers.set("Cache-Control", "no-store")?;
    if let Some(cr) = answer.content_range(size) {
        headers.set("Content-Range", &cr)?;
    }
    if answer == engine::RangeAnswer::Unsatisfiable {
        return Ok(Response::empty()?.with_status(416).with_headers(headers));
    }
    let bucket = env.bucket(crate::FIRMWARE)?;
    let mut get = bucket.get(&fw.r2_key);
    if let engine::RangeAnswer::Partial { start, end } = answer {
        get = get.range(worker::Range::OffsetWithLength {
            offset: start,
            length: end - start + 1,
        });
    }
    let object = get.execute().await?;
    let Some(body) = object.as_ref().and_then(|o| o.body()) else {
        // A row without its blob: nothing to serve, and nothing a client can tell apart.
        worker::console_error!("firmware row without R2 object");
        return error::not_found();
    };
    headers.set("Content-Type", "application/octet-stream")?;
    headers.set("Content-Length", &answer.len(size).to_string())?;
    let status = if matches!(answer, engine::RangeAnswer::Partial { .. }) {
        206
    } else {
        200
    };
    Ok(Response::from_body(body.response_body()?)?
        .with_status(status)
        .with_headers(headers))
}

/// JavaScript numbers hold integers exactly up to 2^53 - 1.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
