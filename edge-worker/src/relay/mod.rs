//! The relay sync API, `/relay/v1/...`: the contract a site's LAN relay is written against.
//!
//! # Authentication
//! Every endpoint wants `Authorization: Bearer <relay token>`: the token
//! `POST /api/sites/<site>/relay-token` showed once (only its SHA-256 is stored; a new one
//! retires the old one). A missing, malformed or unknown token gets `401` with the plain-text
//! body `Unauthorized\n`, whatever the path or method, before anything else is looked at. The
//! token names the site: a relay only ever reads or writes its own site's data.
//!
//! # Errors
//! - `400` `{"error": "...", "field": "..."}` (JSON) for a body that is not accepted; `field`
//!   names the offending field as a path, e.g. `phones[3].via` or `results[0].id`. A refused
//!   body changes nothing: every body is validated whole before anything is written, and the
//!   writes of one request go through one D1 batch (all or nothing).
//! - `404` `Not Found\n` for another path, `405` `Method Not Allowed\n` (with `Allow`) for
//!   another method on a known path.
//! - `500` `Internal Server Error\n`: try again later (every write is safe to repeat).
//!
//! Bodies are JSON (UTF-8, at most 256 KiB), objects with no other fields than those listed.
//! Times are seconds since the Unix epoch.
//!
//! # `GET /relay/v1/firmware/<vendor>/<file>`
//! A firmware image of the site (a row of the snapshot's `firmware`), for the relay's cache:
//! `200` with the bytes (or `206` for a `Range`), `404` for an image the site does not have.
//! The relay checks it against the row's size and SHA-256.
//!
//! # `GET /relay/v1/snapshot`
//! The site's inventory, everything the relay needs to render configs offline:
//! `{"site", "users", "phones", "blf_keys", "templates", "uri_mappings", "firmware",
//! "phonebook", "phonebook_fetch"}` (the last only when the site has phonebook sources on a
//! LAN host, which the relay fetches: see `POST /relay/v1/phonebook`). `200` with a strong `ETag` (the SHA-256 of the body, quoted); a request
//! with `If-None-Match: <that ETag>` gets `304` with no body while nothing changed, so an
//! idle site costs one tiny round trip per poll. Phones the relay reported (below) are in
//! `phones` with `user_extension: null` once added, so the ETag changes when one is.
//!
//! It is a secret document: it holds the users' SIP passwords and, in edge mode, the
//! phones' steady-state URLs (below), each as good as the phone's token. The relay keeps it
//! as such and never logs it.
//!
//! `site.pnp_url` is the site's setting for SIP PnP (`"relay"` or `"edge"`, see
//! `engine::Site::pnp_url_for`). When it is `"edge"`, each phone the edge serves its config
//! to right now also has `edge_url`: `<origin>/p/<steady-state token>`, its base URL here
//! exactly as a served config writes it, where `<origin>` is the one the relay reached this
//! edge at (the same public origin the phones use). The relay sends it in its PnP NOTIFY;
//! the phone fetches `<edge_url>/<its file>`. "Serves right now" means: bound to a user, of
//! a maker this system configures, no HTTP Basic credentials (a phone fresh out of the box
//! has none to answer a challenge with) and its provisioning window open (or its secrets
//! fetched before). A phone without `edge_url` gets the relay's own URL. Rotating a phone's
//! token, binding or unbinding it, a window closing unused and a change of the setting all
//! change the snapshot, and so its ETag. In `"relay"` mode no phone has `edge_url`.
//!
//! `site.tftp_enabled` (off by default) turns the relay's TFTP on, and `[debug] verbose = 1`
//! in `site.additional_params` its verbose PnP log: a running relay follows both.
//!
//! # `POST /relay/v1/discovered`
//! The phones the relay saw on the LAN (SIP PnP SUBSCRIBE, TFTP or HTTP requests):
//! ```json
//! {"phones": [{"mac": "00:15:65:aa:bb:cc", "vendor": "yealink", "model": "T46S",
//!              "firmware": "66.86.0.15", "ip": "192.0.2.10",
//!              "user_agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc", "via": "pnp",
//!              "confirmed": true}]}
//! ```
//! - `phones`: at most [`MAX_DISCOVERED`] entries, each MAC at most once.
//! - `mac` (required): any spelling `engine::Mac::parse` takes.
//! - `via` (required): `"pnp"`, `"tftp"` or `"http"`: how the relay saw it.
//! - `vendor` (optional): `yealink`, `snom`, `fanvil`, `grandstream`, `htek` or `ale`; when
//!   absent (or empty), the maker of the MAC's OUI.
//! - `model` (≤ 40 characters), `firmware` (≤ 64), `user_agent` (≤ 256): optional printable
//!   text; `ip` optional, an IPv4 or IPv6 address. Absent, `null` and `""` all mean "not
//!   known" and never erase what is stored.
//! - `confirmed` (optional, default `false`): the relay's ARP table held this MAC at `ip`.
//!   Anyone on the LAN can put any MAC in a request, so only a confirmed entry adds a phone
//!   or changes what is known of one.
//!
//! What happens to each entry:
//! - a MAC no site has, of a maker this system configures, `confirmed`: added to the relay's site as an
//!   unbound phone (no user, no template), `found_by` = `via` in the admin phones view. It gets
//!   no config from the edge until an admin binds it to a user (the phone route answers 404).
//!   A site holds at most `discovered::MAX_UNBOUND` (300) such phones not yet bound or
//!   removed: past it, new MACs are not added, counted as `ignored` and in `refused`;
//! - a MAC of a phone of the relay's site, `confirmed`: its last-seen fields (IP, User-Agent,
//!   firmware, time, and the LAN address handed out with its actions) are updated, and its
//!   model filled in if it had none; never its user, template, vendor or tokens;
//! - anything else (a MAC of another site, an unconfirmed one, an all-zero or
//!   broadcast MAC, an Alcatel-Lucent Enterprise phone, a maker we do not know) is left
//!   alone and counted as `ignored`, without saying why.
//!
//! Answer `200` `{"added": n, "updated": n, "ignored": n}` (they add up to the number of
//! entries), with `"refused": n` when new phones were refused for lack of room. Reporting
//! the same phones again is harmless: it only refreshes last-seen.
//!
//! # `POST /relay/v1/bind`
//! A phone its user bound on site by dialling the site's star code (e.g. `*123*200`):
//! `{"mac": "001565aabbcc", "extension": "200", "pin": true}` (`pin`: whether the relay
//! checked the user's voicemail PIN; absent means no). The phone must be a phone of the site
//! (report it first with `POST /relay/v1/discovered`) and the extension a user of the site
//! (`400` naming `mac` or `extension` otherwise). The relay has checked what the site's
//! `star_code_mode` wants (the PIN, the MAC confirmed at its LAN address). When the mode is
//! `"pin"` and the relay checked none (its snapshot predates the change), `409` naming `pin`,
//! nothing bound. When it is `"approval"`, the binding is not made: it waits for an administrator (one request per
//! phone, a later one replacing it) and the answer is `202` `{"mac", "extension", "status":
//! "awaiting_approval"}`. Otherwise binding is a new assignment: the phone's provisioning
//! window opens again; answer `200` `{"mac", "extension", "status": "bound"}`. Audited.
//! A phone already bound to another extension is bound again (hot-desking: the phone row
//! changes user, the old user keeps no phone there) only when the site's `hot_desking` is
//! on; otherwise `409` naming `mac`, nothing changed. The audit row names the old user.
//!
//! # `POST /relay/v1/phonebook`
//! What the relay fetched for a phonebook source of the snapshot's `phonebook_fetch` (a URL
//! on a LAN host, which only the relay fetches): `{"source": "<id>", "url": "<the URL
//! fetched>", "format": "yealink-xml", "entries": [{"name", "number"}]}` (`format` as `engine::SourceFormat::name` writes it;
//! at most `engine::MAX_PHONEBOOK_ENTRIES` entries, each passing `engine::check_contact`;
//! the body at most 4 MiB), or `{"source": "<id>", "url": "<the URL>", "error": "..."}` (≤ 200 printable
//! characters) when the fetch failed. Entries replace the source's; an error is recorded and
//! the last good entries stay. `source` must be a source of the site the relay fetches
//! (`400` naming `source` otherwise); a `url` the source no longer has is `409` naming `url`.
//! Answer `200` `{"entries": n}`.
//!
//! # `GET /relay/v1/actions`
//! Collects the re-provision and reboot requests the admin queued for the site
//! (`POST /api/sites/<site>/actions`), oldest first, at most [`COLLECT_LIMIT`] per call (when
//! the answer is full, collect again):
//! ```json
//! {"actions": [{"id": "act-...", "action": "reprovision", "mac": "001565aabbcc",
//!               "vendor": "yealink", "model": "T46S", "ip": "192.0.2.10", "delivery": 1}],
//!  "ack_within_secs": 300}
//! ```
//! `action` is `"reprovision"` (make the phone fetch its config now: SIP NOTIFY
//! `Event: check-sync`) or `"reboot"` (NOTIFY `check-sync;reboot=true`). `ip` is the phone's
//! LAN address as a relay of the site last reported it (`POST /relay/v1/discovered`), `null`
//! if never reported: never the address the edge saw a fetch come from, which is usually
//! the site's public NAT address. A relay with a fresher address of its own may prefer it.
//! `delivery` counts the times this action was handed out (1 the first time).
//!
//! Collecting marks the actions `collected`. Delivery is **at least once**: an action that is
//! not acknowledged within `ack_within_secs` ([`REDELIVER_AFTER_SECS`]) of being collected is
//! handed out again by a later collect, so the relay must tolerate an action it has already
//! carried out (a second NOTIFY is harmless). After [`MAX_DELIVERIES`] deliveries without an
//! acknowledgement, the action is given up: `failed` with a detail saying so.
//!
//! # `POST /relay/v1/actions/ack`
//! The outcome of collected actions:
//! ```json
//! {"results": [{"id": "act-...", "ok": true}, {"id": "act-...", "ok": false, "detail": "no answer to NOTIFY"}]}
//! ```
//! At most [`MAX_ACK`] results, each id at most once (≤ 64 characters); `detail` optional,
//! ≤ 200 printable characters, shown to the admin. `ok: true` marks the action `done`,
//! `false` `failed`. Only actions of the relay's site that are `collected` are changed; other
//! ids (unknown, another site's, already acknowledged, given up) are ignored, so a repeated
//! acknowledgement is harmless. Answer `200` `{"acknowledged": n, "ignored": n}`.

mod actions;
mod bind;
mod discovered;
mod phonebook;

use serde::Deserialize;
use worker::{D1Database, Date, Env, Headers, Method, Request, Response, Result};

use crate::error;
use edge_shared::api::{ApiError, ApiResult};
use edge_shared::site::{Site, SITE_COLUMNS};

/// The most phones one discovery report may hold.
pub(crate) const MAX_DISCOVERED: usize = 500;
/// The most actions one collect hands out.
pub(crate) const COLLECT_LIMIT: usize = 100;
/// A collected action not acknowledged within this many seconds is handed out again.
pub(crate) const REDELIVER_AFTER_SECS: u64 = 300;
/// A collected action is handed out at most this many times, then given up (`failed`).
pub(crate) const MAX_DELIVERIES: u32 = 5;
/// The most results one acknowledgement may hold.
pub(crate) const MAX_ACK: usize = 500;
/// The largest body a relay may send.
const MAX_BODY: usize = 256 * 1024;

/// Answers `/relay/v1/<path>`.
pub(crate) async fn handle(mut req: Request, env: &Env, path: &str) -> Result<Response> {
    let db = env.d1(crate::DB)?;
    let Some(site) = authenticate(&req, &db).await? else {
        return error::plain(401, "Unauthorized\n");
    };
    let now = Date::now().as_millis() / 1000;
    let method = req.method();
    let result = match (&method, path) {
        (Method::Get, "snapshot") => return snapshot(&req, env, &db, site, now).await,
        (Method::Post, "discovered") => match body(&mut req).await? {
            Ok(b) => discovered::report(env, &db, &site.id, now, &b).await,
            Err(e) => Err(e),
        },
        (Method::Get, "actions") => actions::collect(&db, &site.id, now).await,
        (Method::Post, "bind") => match body(&mut req).await? {
            Ok(b) => bind::bind(&db, &site.id, now, &b).await,
            Err(e) => Err(e),
        },
        (Method::Get, p) if p.starts_with("firmware/") => {
            // firmware/<vendor>/<file>: the image for the relay's cache.
            let mut parts = p.splitn(3, '/').skip(1);
            let (Some(Ok(vendor)), Some(file)) =
                (parts.next().map(str::parse::<engine::Vendor>), parts.next())
            else {
                return error::not_found();
            };
            return match crate::store::firmware_file(&db, &site.id, vendor, file).await? {
                Some(fw) => crate::phone::stream_firmware(&req, env, &fw).await,
                None => error::not_found(),
            };
        }
        (Method::Post, "phonebook") => match body_up_to(&mut req, phonebook::MAX_BODY).await? {
            Ok(b) => phonebook::report(&db, &site.id, now, &b).await,
            Err(e) => Err(e),
        },
        (Method::Post, "actions/ack") => match body(&mut req).await? {
            Ok(b) => actions::ack(&db, &site.id, now, &b).await,
            Err(e) => Err(e),
        },
        (_, "snapshot" | "actions") => return not_allowed("GET"),
        (_, "discovered" | "actions/ack" | "bind" | "phonebook") => return not_allowed("POST"),
        _ => return error::not_found(),
    };
    edge_shared::api::respond(result)
}

/// The site whose relay token the request carries (`Authorization: Bearer <token>`), or
/// `None`: every relay endpoint starts here.
pub(crate) async fn authenticate(req: &Request, db: &D1Database) -> Result<Option<Site>> {
    let header = req.headers().get("Authorization")?.unwrap_or_default();
    let token = header.strip_prefix("Bearer ").unwrap_or_default().trim();
    if !engine::is_token_shaped(token) {
        return Ok(None);
    }
    // The token is looked up by its SHA-256: the comparison never touches the secret itself.
    db.prepare(format!(
        "SELECT {SITE_COLUMNS} FROM sites WHERE relay_token_hash = ?1"
    ))
    .bind(&[engine::token_hash(token).into()])?
    .first::<Site>(None)
    .await
}

/// The request's body as text, or a refusal if it is too large or not UTF-8.
async fn body(req: &mut Request) -> Result<ApiResult<String>> {
    body_up_to(req, MAX_BODY).await
}

/// [`body`] with a limit of `max` bytes.
async fn body_up_to(req: &mut Request, max: usize) -> Result<ApiResult<String>> {
    let bytes = req.bytes().await?;
    if bytes.len() > max {
        return Ok(Err(ApiError::bad(
            "body",
            format!("the body is larger than {} KiB", max / 1024),
        )));
    }
    Ok(String::from_utf8(bytes).map_err(|_| ApiError::bad("body", "the body is not UTF-8")))
}

/// Optional printable text of at most `max` characters; `""` counts as absent.
pub(crate) fn text(
    field: impl FnOnce() -> String,
    v: Option<&str>,
    max: usize,
) -> ApiResult<Option<&str>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() <= max && !s.chars().any(char::is_control) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad(
            &field(),
            format!("at most {max} printable characters"),
        )),
    }
}

/// The audit-log row of a relay's write to its site.
pub(crate) fn audit(
    db: &D1Database,
    now: u64,
    site_id: &str,
    action: &str,
    detail: &str,
) -> Result<worker::D1PreparedStatement> {
    let entry = edge_shared::audit::Entry {
        detail,
        ..edge_shared::audit::Entry::new(action, "site", site_id)
    };
    edge_shared::audit::log(db, now, edge_shared::audit::Actor::Relay, &[entry], None)
}

fn not_allowed(allow: &str) -> Result<Response> {
    let r = error::plain(405, "Method Not Allowed\n")?;
    r.headers().set("Allow", allow)?;
    Ok(r)
}

/// A DECT base's handset slot for the snapshot.
#[derive(Deserialize)]
struct SnapshotHandsetRow {
    phone_id: String,
    slot: f64,
    user_extension: String,
}

/// A phone's row for the snapshot: what it carries, and what its `edge_url` depends on.
#[derive(Deserialize)]
struct SnapshotPhoneRow {
    id: String,
    mac: engine::Mac,
    vendor: engine::Vendor,
    model: String,
    user_extension: Option<String>,
    template: Option<String>,
    token_generation: f64,
    assigned_at: f64,
    first_fetch_at: Option<f64>,
    http_user: Option<String>,
    window_secs: f64,
}

impl SnapshotPhoneRow {
    /// Whether the phone route (`crate::phone`) serves this phone's config at its steady
    /// URL now, to a phone that knows nothing but that URL: bound, of a maker this system
    /// configures, no HTTP Basic challenge, the window open (the MAC lists are the site's,
    /// which the relay applies itself).
    fn edge_serves(&self, now: u64) -> bool {
        self.user_extension.is_some()
            && self.vendor.is_provisioned()
            && self.http_user.is_none()
            && engine::window_open(
                self.assigned_at as u64,
                self.first_fetch_at.map(|t| t as u64),
                now,
                self.window_secs as u64,
            )
    }
}

/// The site's phones; in edge mode with the `edge_url` of each one the edge serves, under
/// `origin`.
async fn snapshot_phones(
    env: &Env,
    db: &D1Database,
    site: &Site,
    origin: &str,
    now: u64,
) -> Result<Vec<engine::PhoneEntry>> {
    let rows: Vec<SnapshotPhoneRow> = site_rows(
        db,
        &site.id,
        "SELECT p.id, p.mac, p.vendor, p.model, u.extension AS user_extension, t.name AS template, \
         p.token_generation, p.assigned_at, p.first_fetch_at, p.http_user, s.window_secs \
         FROM phones p JOIN sites s ON s.id = p.site_id LEFT JOIN users u ON u.id = p.user_id \
         LEFT JOIN templates t ON t.id = p.template_id WHERE p.site_id = ?1 ORDER BY p.mac",
    )
    .await?;
    // DECT bases' handset slots after the first, with their users' extensions.
    let handset_rows: Vec<SnapshotHandsetRow> = site_rows(
        db,
        &site.id,
        "SELECT h.phone_id, h.slot, u.extension AS user_extension FROM phone_handsets h \
         JOIN phones p ON p.id = h.phone_id JOIN users u ON u.id = h.user_id \
         WHERE p.site_id = ?1 ORDER BY h.phone_id, h.slot",
    )
    .await?;
    let key = match site.pnp_url() {
        engine::PnpUrl::Edge => Some(env.secret(crate::TOKEN_KEY)?.to_string()),
        engine::PnpUrl::Relay => None,
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let edge_url = key.as_ref().filter(|_| r.edge_serves(now)).map(|k| {
                let steady = engine::steady_token(k.as_bytes(), &r.id, r.token_generation as u32);
                engine::Secret::new(edge_shared::inputs::base_url(origin, &steady))
            });
            let handsets = handset_rows
                .iter()
                .filter(|h| h.phone_id == r.id)
                .map(|h| engine::HandsetEntry {
                    slot: h.slot as u8,
                    user_extension: h.user_extension.clone(),
                })
                .collect();
            engine::PhoneEntry {
                mac: r.mac,
                vendor: r.vendor,
                model: r.model,
                user_extension: r.user_extension,
                template: r.template,
                edge_url,
                handsets,
            }
        })
        .collect())
}

/// The rows of `sql`, whose one parameter `?1` is the site's id.
async fn site_rows<T: serde::de::DeserializeOwned>(
    db: &D1Database,
    site_id: &str,
    sql: &str,
) -> Result<Vec<T>> {
    db.prepare(sql)
        .bind(&[site_id.into()])?
        .all()
        .await?
        .results()
}

/// `GET /relay/v1/snapshot` for the authenticated `site`: the relay's own wire type,
/// [`engine::Inventory`], so the compiler holds both ends to one contract.
async fn snapshot(
    req: &Request,
    env: &Env,
    db: &D1Database,
    site: Site,
    now: u64,
) -> Result<Response> {
    let id = site.id.as_str();
    let snap = engine::Inventory {
        users: site_rows(
            db,
            id,
            "SELECT extension, auth_name, sip_password, display_name, voicemail_pin FROM users \
             WHERE site_id = ?1 ORDER BY extension",
        )
        .await?,
        phones: snapshot_phones(env, db, &site, &crate::origin(req), now).await?,
        blf_keys: site_rows(
            db,
            id,
            "SELECT p.mac, b.position, b.extension, b.label, b.line, b.pickup_prefix FROM blf_keys b \
             JOIN phones p ON p.id = b.phone_id WHERE p.site_id = ?1 ORDER BY p.mac, b.position",
        )
        .await?,
        templates: site_rows(
            db,
            id,
            "SELECT name, vendor, style, composition, source FROM templates WHERE site_id = ?1 \
             ORDER BY name",
        )
        .await?,
        uri_mappings: crate::store::uri_mappings(db, id).await?,
        firmware: site_rows(
            db,
            id,
            &format!(
                "SELECT {} FROM firmware WHERE site_id = ?1 ORDER BY vendor, model, file_name",
                crate::store::FIRMWARE_ROW_COLUMNS
            ),
        )
        .await?,
        phonebook: site_rows(
            db,
            id,
            "SELECT s.name AS source, e.name, e.number FROM phonebook_entries e \
             JOIN phonebook_sources s ON s.id = e.source_id \
             WHERE s.site_id = ?1 ORDER BY s.priority, s.id, e.position",
        )
        .await?,
        phonebook_fetch: site_rows(
            db,
            id,
            "SELECT id, url, fetch_minutes, fetch_requested_at AS requested_at \
             FROM phonebook_sources WHERE site_id = ?1 AND fetched_by = 'relay' \
             AND url IS NOT NULL ORDER BY id",
        )
        .await?,
        site: site.into(),
    };
    let body = serde_json::to_string(&snap).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let etag = format!("\"{}\"", engine::token_hash(&body));
    let headers = Headers::new();
    headers.set("ETag", &etag)?;
    headers.set("Cache-Control", "no-store")?;
    let matches = req
        .headers()
        .get("If-None-Match")?
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    headers.set("Content-Type", "application/json")?;
    Ok(Response::ok(body)?.with_headers(headers))
}
