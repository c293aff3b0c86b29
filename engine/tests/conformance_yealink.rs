//! Yealink's conformance data (`tests/conformance/yealink.json`, built from the sources it
//! cites) checked against the engine: every User-Agent is recognised as stated, every
//! request of every firmware generation's sequence gets the stated answer for the test
//! phone (extension 201, BLF keys 202 "Bob" and 203 "Carol"), and the PnP URL is the one
//! stated for the base.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use engine::{detect, Answer, Inventory, Mac, PhoneRequest, Refusal, Site, Vendor};
use serde_json::Value;

const DATA: &str = include_str!("../../tests/conformance/yealink.json");
const BASE: &str = "http://192.0.2.10:8480";

fn data() -> Value {
    serde_json::from_str(DATA).unwrap()
}

fn site(d: &Value) -> Site {
    let mac = d["mac"].as_str().unwrap();
    let model = d["model"].as_str().unwrap();
    let inv: Inventory = serde_json::from_value(serde_json::json!({
        "site": {"id": "s1", "name": "Test", "pbx_host": "pbx.example.com", "pbx_port": 5060},
        "users": [{"extension": "201", "auth_name": "201", "sip_password": "s3cret-Pass-201",
                   "display_name": "Alice Example"}],
        "phones": [{"mac": mac, "vendor": "yealink", "model": model, "user_extension": "201"}],
        "blf_keys": [
            {"mac": mac, "position": 1, "extension": "202", "label": "Bob", "line": 1, "pickup_prefix": ""},
            {"mac": mac, "position": 2, "extension": "203", "label": "Carol", "line": 1, "pickup_prefix": ""}
        ]
    }))
    .unwrap();
    Site::new(inv).unwrap()
}

fn source_known(d: &Value, key: &str) {
    assert!(
        d["sources"][key].as_str().is_some_and(|s| !s.is_empty()),
        "source {key:?} is cited"
    );
}

#[test]
fn user_agents_are_recognised_as_stated() {
    let d = data();
    let uas = d["user_agents"].as_array().unwrap();
    assert!(uas.len() >= 10);
    for u in uas {
        let ua = u["ua"].as_str().unwrap();
        source_known(&d, u["source"].as_str().unwrap());
        let det = detect(
            &PhoneRequest {
                path: "/y000000000066.cfg",
                user_agent: Some(ua),
                pnp: None,
            },
            &[],
        );
        assert_eq!(det.vendor, Some(Vendor::Yealink), "{ua}");
        assert_eq!(det.model.as_deref(), u["model"].as_str(), "{ua}");
        assert_eq!(
            det.firmware_version.as_deref(),
            u["firmware"].as_str(),
            "{ua}"
        );
        let mac = u["mac"].as_str().map(|m| Mac::parse(m).unwrap());
        assert_eq!(det.ua_mac, mac, "{ua}");
    }
}

#[test]
fn every_sequence_gets_the_stated_answers() {
    let d = data();
    let site = site(&d);
    let seqs = d["sequences"].as_array().unwrap();
    assert!(!seqs.is_empty());
    for s in seqs {
        let name = s["name"].as_str().unwrap();
        source_known(&d, s["source"].as_str().unwrap());
        let ua = s["ua"].as_str();
        for r in s["requests"].as_array().unwrap() {
            let file = r["file"].as_str().unwrap();
            let path = format!("/{file}");
            let answer = site.answer(
                &PhoneRequest {
                    path: &path,
                    user_agent: ua,
                    pnp: None,
                },
                BASE,
            );
            let expect = r["expect"].as_str().unwrap();
            if expect == "absent" {
                assert!(
                    matches!(answer, Err(Refusal::NotFound)),
                    "{name}: {file} must be 404"
                );
                continue;
            }
            let body = match answer {
                Ok(Answer::File { body, vendor, .. }) => {
                    assert_eq!(vendor, Vendor::Yealink, "{name}: {file}");
                    body
                }
                other => panic!("{name}: {file}: {other:?}"),
            };
            let secret = body.contains("s3cret-Pass-201");
            match expect {
                "device" => assert!(secret, "{name}: {file} is the device config"),
                "common" => assert!(!secret, "{name}: {file} holds no secret"),
                other => panic!("{name}: unknown expectation {other}"),
            }
            if let Some(start) = r["body_starts"].as_str() {
                assert!(body.starts_with(start), "{name}: {file}:\n{body}");
            }
            for c in r["body_contains"].as_array().into_iter().flatten() {
                let c = c.as_str().unwrap();
                assert!(body.contains(c), "{name}: {file} lacks {c:?}:\n{body}");
            }
        }
    }
}

#[test]
fn pnp_url_is_the_base() {
    let d = data();
    let p = &d["pnp"];
    source_known(&d, p["source"].as_str().unwrap());
    let sub = p["subscribe"].as_str().unwrap();
    assert!(sub.starts_with("SUBSCRIBE sip:MAC001565aabbcc@224.0.1.75 SIP/2.0\n"));
    assert!(sub.contains("vendor=\"Yealink\""));
    assert_eq!(
        Vendor::Yealink.pnp_url(p["base"].as_str().unwrap()),
        p["url"].as_str().unwrap()
    );
}
