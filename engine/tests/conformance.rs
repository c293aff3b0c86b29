//! Conformance: what each vendor's firmware asks for, in order, and what the engine answers,
//! from the cases in `tests/conformance/<vendor>.json` (built from the vendors' guides and
//! field-proven servers; each case names its source, see `tests/conformance/README.md`).
//!
//! For every vendor file: each real User-Agent is recognised as the model, firmware and
//! MAC it carries; each firmware generation's request sequence is answered as the case
//! expects (the device's own config with its account, a common file without secrets, the
//! phonebook, or a 404 that lets the phone move on); and the PnP URL has the vendor's
//! shape. The relay (`lan-relay/tests/conformance.rs`) and the edge
//! (`tests/edge/conformance.test.mjs`) replay the same files over real sockets.
//!
//! The files are read at run time (native only): `CONFORMANCE_DIR` overrides the folder.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use engine::{detect, Answer, Inventory, Mac, PhoneRequest, Refusal, Site, Vendor};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    vendor: Vendor,
    mac: String,
    model: String,
    sources: std::collections::BTreeMap<String, String>,
    user_agents: Vec<Ua>,
    sequences: Vec<Sequence>,
    pnp: Option<Pnp>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ua {
    ua: String,
    #[serde(default)]
    vendor: Option<Vendor>,
    model: Option<String>,
    firmware: Option<String>,
    mac: Option<String>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sequence {
    name: String,
    ua: Option<String>,
    source: String,
    requests: Vec<Request>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    file: String,
    expect: Expect,
    #[serde(default)]
    body_starts: Option<String>,
    #[serde(default)]
    body_contains: Vec<String>,
    #[serde(default)]
    body_lacks: Vec<String>,
    /// What TFTP (no User-Agent) gets when it differs (the relay's runner reads it).
    #[serde(default)]
    #[allow(dead_code)]
    expect_tftp: Option<Expect>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Device,
    Common,
    Phonebook,
    Absent,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pnp {
    subscribe: String,
    base: String,
    url: String,
    source: String,
}

/// The SIP password of the test user: it must reach the device config and nothing else.
const PASSWORD: &str = "s3cret-Pass-201";
const BASE: &str = "http://192.0.2.10:8480";

fn dir() -> PathBuf {
    std::env::var_os("CONFORMANCE_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance"),
        PathBuf::from,
    )
}

fn cases() -> Vec<(String, Case)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir()).unwrap_or_else(|e| panic!("{}: {e}", dir().display()));
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('_'))
        })
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let case: Case =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push((p.display().to_string(), case));
    }
    assert!(!out.is_empty(), "{}: no conformance cases", dir().display());
    out
}

/// The site every runner builds (`tests/conformance/_site.json`): user 201 bound to the
/// case's phone, two BLF keys.
fn site(case: &Case) -> Site {
    let text = std::fs::read_to_string(dir().join("_site.json"))
        .or_else(|_| {
            std::fs::read_to_string(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/_site.json"),
            )
        })
        .unwrap()
        .replace("{mac}", &case.mac)
        .replace("{vendor}", case.vendor.as_str())
        .replace("{model}", &case.model);
    let inv: Inventory = serde_json::from_str(&text).unwrap();
    Site::new(inv).unwrap()
}

#[test]
fn every_vendor_has_its_conformance_cases_and_each_cites_a_source() {
    let cases = cases();
    for (path, c) in &cases {
        assert!(!c.sources.is_empty(), "{path}: no sources");
        let cited = |key: &str, what: &str| {
            assert!(
                c.sources.contains_key(key),
                "{path}: {what} cites {key:?}, which is not in \"sources\""
            );
        };
        for u in &c.user_agents {
            cited(&u.source, &u.ua);
        }
        for s in &c.sequences {
            cited(&s.source, &s.name);
            for r in &s.requests {
                if let Some(src) = &r.source {
                    cited(src, &r.file);
                }
            }
        }
        if let Some(p) = &c.pnp {
            cited(&p.source, "pnp");
        }
        assert!(!c.user_agents.is_empty(), "{path}: no User-Agents");
        assert!(!c.sequences.is_empty(), "{path}: no request sequences");
        let _ = &c.notes;
    }
    if std::env::var_os("CONFORMANCE_DIR").is_none() {
        for v in Vendor::PROVISIONED {
            assert!(
                cases.iter().any(|(_, c)| c.vendor == v),
                "no tests/conformance file for {v}"
            );
        }
    }
}

#[test]
fn real_user_agents_are_recognised() {
    for (path, c) in cases() {
        for u in &c.user_agents {
            let d = detect(
                &PhoneRequest {
                    path: "/",
                    user_agent: Some(&u.ua),
                    pnp: None,
                    lan_mac: None,
                },
                &[],
            );
            let want_vendor = u.vendor.unwrap_or(c.vendor);
            assert_eq!(d.vendor, Some(want_vendor), "{path}: {:?}", u.ua);
            assert_eq!(d.model, u.model, "{path}: model of {:?}", u.ua);
            assert_eq!(
                d.firmware_version, u.firmware,
                "{path}: firmware of {:?}",
                u.ua
            );
            let mac = u.mac.as_deref().map(|m| Mac::parse(m).unwrap());
            assert_eq!(d.ua_mac, mac, "{path}: MAC of {:?}", u.ua);
        }
    }
}

#[test]
fn each_firmware_generation_gets_what_it_asks_for_in_order() {
    for (path, c) in cases() {
        let site = site(&c);
        for s in &c.sequences {
            for r in &s.requests {
                let file = format!("/{}", r.file.trim_start_matches('/'));
                let req = PhoneRequest {
                    path: &file,
                    user_agent: s.ua.as_deref(),
                    pnp: None,
                    lan_mac: None,
                };
                let what = format!("{path}: {} -> {}", s.name, r.file);
                let got = site.answer(&req, BASE);
                let body = match (r.expect, got) {
                    (Expect::Absent, Err(Refusal::NotFound)) => continue,
                    (Expect::Absent, other) => panic!("{what}: want 404, got {other:?}"),
                    (_, Ok(Answer::File { body, vendor, .. })) => {
                        assert_eq!(vendor, c.vendor, "{what}");
                        body
                    }
                    (_, other) => panic!("{what}: want {:?}, got {other:?}", r.expect),
                };
                let d = detect(&req, &[]);
                let kind_ok = match r.expect {
                    Expect::Device => matches!(d.resource, engine::Resource::DeviceConfig { .. }),
                    Expect::Common => matches!(d.resource, engine::Resource::CommonConfig { .. }),
                    Expect::Phonebook => matches!(d.resource, engine::Resource::Phonebook { .. }),
                    Expect::Absent => false,
                };
                assert!(kind_ok, "{what}: answered as {:?}", d.resource);
                // The password is in the device's own config and nowhere else.
                assert_eq!(
                    body.contains(PASSWORD),
                    r.expect == Expect::Device,
                    "{what}: the SIP password"
                );
                if let Some(start) = &r.body_starts {
                    assert!(
                        body.starts_with(start.as_str()),
                        "{what}: starts {:?}",
                        &body[..body.len().min(80)]
                    );
                }
                for want in &r.body_contains {
                    assert!(
                        body.contains(want.as_str()),
                        "{what}: lacks {want:?}\n{body}"
                    );
                }
                for unwanted in &r.body_lacks {
                    assert!(
                        !body.contains(unwanted.as_str()),
                        "{what}: has {unwanted:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_pnp_url_has_the_vendors_shape() {
    for (path, c) in cases() {
        let Some(p) = &c.pnp else { continue };
        assert_eq!(c.vendor.pnp_url(&p.base), p.url, "{path}");
        assert!(p.subscribe.starts_with("SUBSCRIBE "), "{path}: a SUBSCRIBE");
    }
}
