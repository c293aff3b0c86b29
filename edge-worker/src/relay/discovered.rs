//! `POST /relay/v1/discovered`: phones the relay saw on the LAN (see the module docs of
//! [`super`] for the contract).
//!
//! What a relay reports is what a LAN host put in a packet: a SUBSCRIBE or a config request
//! can name any MAC and come from any address. So a known phone's LAN facts (address,
//! User-Agent, firmware, which re-provision NOTIFYs and the console's web-interface link
//! use) change only with a sighting the relay's ARP table confirmed (`confirmed`); only such
//! a sighting adds a new phone, and the unbound phones a site's relay can add are capped
//! ([`MAX_UNBOUND`]): made-up MACs in forged packets add nothing, and a host that takes MAC
//! after MAC cannot grow the site without limit.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{D1Database, Env, Response};

use super::{text, MAX_DISCOVERED};
use edge_shared::api::{json, parse_body, ApiError, ApiResult};
use edge_shared::audit;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    phones: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    mac: String,
    /// `""` counts as absent.
    #[serde(default, deserialize_with = "vendor_or_empty")]
    vendor: Option<engine::Vendor>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    firmware: Option<String>,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
    via: Via,
    /// The relay's ARP table held this MAC at `ip`; absent (an older relay): not confirmed.
    #[serde(default)]
    confirmed: bool,
}

/// The most unbound phones the relays of a site may have added (and not yet bound or
/// removed): past it, new MACs are refused (counted in `refused`), known phones still update.
pub(crate) const MAX_UNBOUND: usize = 300;

/// A vendor, or none for `null` or `""` (a relay that does not know it).
fn vendor_or_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<engine::Vendor>, D::Error> {
    match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
        Some(s) if !s.is_empty() => s
            .parse()
            .map(Some)
            .map_err(|e: engine::Error| serde::de::Error::custom(e.detail())),
        _ => Ok(None),
    }
}

/// How the relay saw the phone; stored as the phone's `discovered_via` (`found_by`).
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Via {
    Pnp,
    Tftp,
    Http,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pnp => "pnp",
            Self::Tftp => "tftp",
            Self::Http => "http",
        }
    }
}

/// The answer.
#[derive(Serialize)]
struct Counts {
    added: usize,
    updated: usize,
    ignored: usize,
    /// New phones not added because the site has [`MAX_UNBOUND`] unbound ones (also in
    /// `ignored`); only when some were.
    #[serde(skip_serializing_if = "is_zero")]
    refused: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One validated entry.
struct Checked<'a> {
    mac: engine::Mac,
    /// The maker, when known (given, or from the OUI).
    vendor: Option<engine::Vendor>,
    model: Option<&'a str>,
    firmware: Option<&'a str>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    via: Via,
    confirmed: bool,
}

fn check(i: usize, e: &Entry) -> ApiResult<Checked<'_>> {
    let f = |name: &str| format!("phones[{i}].{name}");
    let mac = engine::Mac::parse(&e.mac).map_err(|err| ApiError::bad(&f("mac"), err.detail()))?;
    let vendor = e.vendor.or_else(|| mac.vendor());
    let ip = text(|| f("ip"), e.ip.as_deref(), 45)?;
    if let Some(ip) = ip {
        ip.parse::<std::net::IpAddr>()
            .map_err(|_| ApiError::bad(&f("ip"), "an IPv4 or IPv6 address"))?;
    }
    Ok(Checked {
        mac,
        vendor,
        model: text(|| f("model"), e.model.as_deref(), 40)?,
        firmware: text(|| f("firmware"), e.firmware.as_deref(), 64)?,
        user_agent: text(|| f("user_agent"), e.user_agent.as_deref(), 256)?,
        ip,
        via: e.via,
        confirmed: e.confirmed,
    })
}

pub(super) async fn report(
    env: &Env,
    db: &D1Database,
    site: &str,
    now: u64,
    body: &str,
) -> ApiResult<Response> {
    let r: Report = parse_body(Some(body))?;
    if r.phones.len() > MAX_DISCOVERED {
        return Err(ApiError::bad(
            "phones",
            format!("at most {MAX_DISCOVERED} phones per report"),
        ));
    }
    let mut checked = Vec::with_capacity(r.phones.len());
    let mut seen = HashSet::new();
    for (i, e) in r.phones.iter().enumerate() {
        let c = check(i, e)?;
        if !seen.insert(c.mac) {
            return Err(ApiError::bad(
                &format!("phones[{i}].mac"),
                "this MAC is listed twice",
            ));
        }
        checked.push(c);
    }

    // A confirmed entry with a real MAC may update a phone of this site, or add one of a
    // configurable maker while the site has room. Neither statement can
    // touch another site's phone: the update is limited to this site, the insert skips a MAC
    // that exists.
    let key = env.secret(crate::TOKEN_KEY)?.to_string();
    let mut updates = Vec::new();
    let mut inserts = Vec::new();
    let mut added_ids: Vec<(String, &str)> = Vec::new();
    for c in checked.iter().filter(|c| !c.mac.is_placeholder()) {
        let mac = c.mac.to_string();
        if c.confirmed {
            updates.push(json!({
                "mac": mac, "model": c.model, "firmware": c.firmware, "ip": c.ip, "ua": c.user_agent,
            }));
        }
        // A phone is added only from a sighting the relay confirmed: a forged SUBSCRIBE
        // naming made-up MACs must not fill the site's room for unbound phones.
        if let Some(vendor) = c.vendor.filter(|v| v.is_provisioned() && c.confirmed) {
            let id = edge_shared::ids::new_id("phone")?;
            // No first-access token: only an admin hands a phone's URL out. The steady-state
            // token is derived as for any phone, so binding it later needs nothing more.
            let token2 = engine::steady_token(key.as_bytes(), &id, 0);
            added_ids.push((id.clone(), c.via.as_str()));
            inserts.push(json!({
                "id": id, "mac": mac, "vendor": vendor.as_str(), "model": c.model.unwrap_or_default(),
                "firmware": c.firmware, "ip": c.ip, "ua": c.user_agent, "via": c.via.as_str(),
                "token2_hash": engine::token_hash(&token2),
            }));
        }
    }
    let mut stmts = Vec::new();
    if !updates.is_empty() {
        stmts.push(db
            .prepare(
                "UPDATE phones SET last_seen_at = ?2, \
                 last_ip = COALESCE(j.ip, phones.last_ip), lan_ip = COALESCE(j.ip, phones.lan_ip), lan_seen_at = ?2, \
                 last_user_agent = COALESCE(j.ua, phones.last_user_agent), \
                 last_firmware = COALESCE(j.firmware, phones.last_firmware), \
                 model = CASE WHEN phones.model = '' AND j.model IS NOT NULL THEN j.model ELSE phones.model END \
                 FROM (SELECT json_extract(value, '$.mac') AS mac, json_extract(value, '$.model') AS model, \
                 json_extract(value, '$.firmware') AS firmware, json_extract(value, '$.ip') AS ip, \
                 json_extract(value, '$.ua') AS ua FROM json_each(?1)) AS j \
                 WHERE phones.mac = j.mac AND phones.site_id = ?3 RETURNING id",
            )
            .bind(&[
                serde_json::Value::Array(updates).to_string().into(),
                (now as f64).into(),
                site.into(),
            ])?);
    }
    let updating = !stmts.is_empty();
    // New MACs only, at most as many as the site has room for: counted and limited in the
    // one statement, so parallel reports cannot pass the cap together.
    let inserting = !inserts.is_empty();
    if inserting {
        let inserts = serde_json::Value::Array(inserts).to_string();
        // How many are new, for the count of those refused for lack of room.
        stmts.push(
            db.prepare(
                "SELECT COUNT(*) AS n FROM json_each(?1) \
                 WHERE NOT EXISTS (SELECT 1 FROM phones AS p WHERE p.mac = json_extract(value, '$.mac'))",
            )
            .bind(&[inserts.as_str().into()])?,
        );
        stmts.push(
            db.prepare(
                "INSERT INTO phones (id, site_id, mac, vendor, model, user_id, template_id, token1_hash, \
                 token2_hash, assigned_at, discovered_via, last_ip, last_user_agent, last_firmware, last_seen_at, \
                 lan_ip, lan_seen_at) \
                 SELECT json_extract(value, '$.id'), ?2, json_extract(value, '$.mac'), \
                 json_extract(value, '$.vendor'), json_extract(value, '$.model'), NULL, NULL, NULL, \
                 json_extract(value, '$.token2_hash'), ?3, json_extract(value, '$.via'), \
                 json_extract(value, '$.ip'), json_extract(value, '$.ua'), json_extract(value, '$.firmware'), ?3, \
                 json_extract(value, '$.ip'), ?3 \
                 FROM json_each(?1) \
                 WHERE NOT EXISTS (SELECT 1 FROM phones AS p WHERE p.mac = json_extract(value, '$.mac')) \
                 LIMIT max(0, ?4 - (SELECT COUNT(*) FROM phones AS u WHERE u.site_id = ?2 \
                 AND u.user_id IS NULL AND u.discovered_via <> 'admin')) \
                 ON CONFLICT (mac) DO NOTHING RETURNING id",
            )
            .bind(&[
                inserts.as_str().into(),
                site.into(),
                (now as f64).into(),
                (MAX_UNBOUND as f64).into(),
            ])?,
        );
        // One audit row per phone added (the ids are new, so exactly those inserted).
        let entries: Vec<audit::Entry<'_>> = added_ids
            .iter()
            .map(|(id, via)| audit::Entry {
                detail: via,
                ..audit::Entry::new("discover", "phone", id)
            })
            .collect();
        stmts.push(audit::log(
            db,
            now,
            audit::Actor::Relay,
            &entries,
            Some("phones"),
        )?);
    }
    let (mut added, mut updated, mut fresh) = (0, 0, 0);
    if !stmts.is_empty() {
        let results = db.batch(stmts).await?;
        let rows = |i: usize| -> worker::Result<Vec<serde_json::Value>> {
            Ok(results
                .get(i)
                .map(|r| r.results::<serde_json::Value>())
                .transpose()?
                .unwrap_or_default())
        };
        if updating {
            updated = rows(0)?.len();
        }
        if inserting {
            let first = usize::from(updating);
            fresh = rows(first)?
                .first()
                .and_then(|r| r.get("n"))
                .and_then(serde_json::Value::as_u64)
                .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
            added = rows(first + 1)?.len();
        }
    }
    // New MACs the insert left out: the site had no room for them.
    let refused = fresh.saturating_sub(added);
    if refused > 0 {
        worker::console_warn!(
            "discovery report: {refused} new phones refused, the site has {MAX_UNBOUND} unbound phones"
        );
    }
    json(
        200,
        &Counts {
            added,
            updated,
            ignored: checked.len().saturating_sub(added + updated),
            refused,
        },
    )
}
