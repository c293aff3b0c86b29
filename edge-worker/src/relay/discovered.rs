//! `POST /relay/v1/discovered`: phones the relay saw on the LAN (see the module docs of
//! [`super`] for the contract).

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
}

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

    // Every entry with a real MAC may update a phone of this site; only a configurable
    // maker's MAC may be added. Neither statement can touch another site's phone: the
    // update is limited to this site, the insert does nothing on a MAC that exists.
    let key = env.secret(crate::TOKEN_KEY)?.to_string();
    let mut updates = Vec::new();
    let mut inserts = Vec::new();
    let mut added_ids: Vec<(String, &str)> = Vec::new();
    for c in checked.iter().filter(|c| !c.mac.is_placeholder()) {
        let mac = c.mac.to_string();
        updates.push(json!({
            "mac": mac, "model": c.model, "firmware": c.firmware, "ip": c.ip, "ua": c.user_agent,
        }));
        if let Some(vendor) = c.vendor.filter(|v| v.is_provisioned()) {
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
    let (mut added, mut updated) = (0, 0);
    if !updates.is_empty() {
        let mut stmts = vec![db
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
            ])?];
        if !inserts.is_empty() {
            let inserts = serde_json::Value::Array(inserts).to_string();
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
                     FROM json_each(?1) WHERE true ON CONFLICT (mac) DO NOTHING RETURNING id",
                )
                .bind(&[inserts.as_str().into(), site.into(), (now as f64).into()])?,
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
        let results = db.batch(stmts).await?;
        let count = |i: usize| -> worker::Result<usize> {
            Ok(results
                .get(i)
                .map(|r| r.results::<serde_json::Value>())
                .transpose()?
                .map_or(0, |v| v.len()))
        };
        updated = count(0)?;
        added = count(1)?;
    }
    json(
        200,
        &Counts {
            added,
            updated,
            ignored: checked.len().saturating_sub(added + updated),
        },
    )
}
