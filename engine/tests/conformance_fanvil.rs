//! Fanvil's conformance data (`tests/conformance/fanvil.json`) read through the engine: each
//! User-Agent is detected as the data says, and each request of each firmware generation's
//! sequence gets what the data expects from a site with the common test phone bound to the
//! common test user (extension 201, two BLF keys). The lead's runner for every vendor
//! replaces this file; it checks the data against the engine until then.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use engine::{detect, Answer, Inventory, Mac, PhoneRequest, Refusal, Site, Vendor};
use serde_json::Value;

const DATA: &str = include_str!("../../tests/conformance/fanvil.json");
const BASE: &str = "http://192.0.2.10:8480";

fn site(data: &Value) -> Site {
    let mac = data["mac"].as_str().unwrap();
    let model = data["model"].as_str().unwrap();
    let vendor = data["vendor"].as_str().unwrap();
    let inv = serde_json::json!({
        "site": {"id": "s1", "name": "Office", "pbx_host": "pbx.example.com", "pbx_port": 5060,
                 "allow_macs": "", "deny_macs": "", "additional_params": "",
                 "poll_interval_minutes": 1440, "star_code_pattern": "", "ntp_server": "pool.ntp.org",
                 "timezone": "Europe/Berlin", "language": "en", "window_secs": 604800},
        "users": [{"extension": "201", "auth_name": "201", "sip_password": "s3cret-Pass-201",
                   "display_name": "Alice Example", "voicemail_pin": ""},
                  {"extension": "202", "auth_name": "202", "sip_password": "Kp3-wQ8y-202",
                   "display_name": "Bob", "voicemail_pin": ""},
                  {"extension": "203", "auth_name": "203", "sip_password": "Kp3-wQ8y-203",
                   "display_name": "Carol", "voicemail_pin": ""}],
        "phones": [{"mac": mac, "vendor": vendor, "model": model, "user_extension": "201", "template": null}],
        "blf_keys": [{"mac": mac, "position": 1, "extension": "202", "label": "Bob", "line": 1, "pickup_prefix": ""},
                     {"mac": mac, "position": 2, "extension": "203", "label": "Carol", "line": 1, "pickup_prefix": ""}],
        "templates": [], "uri_mappings": [], "firmware": [], "phonebook": []
    });
    let inv: Inventory = serde_json::from_value(inv).unwrap();
    Site::new(inv).unwrap()
}

#[test]
fn user_agents_are_detected_as_the_data_says() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let uas = data["user_agents"].as_array().unwrap();
    assert!(!uas.is_empty());
    for u in uas {
        let ua = u["ua"].as_str().unwrap();
        assert!(
            data["sources"][u["source"].as_str().unwrap()].is_string(),
            "{ua}"
        );
        let d = detect(
            &PhoneRequest {
                path: "/x",
                user_agent: Some(ua),
                pnp: None,
            },
            &[],
        );
        assert_eq!(d.vendor, Some(Vendor::Fanvil), "{ua}");
        assert_eq!(d.model.as_deref(), u["model"].as_str(), "{ua}");
        assert_eq!(
            d.firmware_version.as_deref(),
            u["firmware"].as_str(),
            "{ua}"
        );
        assert_eq!(
            d.ua_mac,
            u["mac"].as_str().map(|m| Mac::parse(m).unwrap()),
            "{ua}"
        );
    }
}

#[test]
fn each_firmware_sequence_gets_what_the_data_expects() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let site = site(&data);
    let seqs = data["sequences"].as_array().unwrap();
    assert!(seqs.len() >= 4);
    for s in seqs {
        let name = s["name"].as_str().unwrap();
        assert!(
            data["sources"][s["source"].as_str().unwrap()].is_string(),
            "{name}"
        );
        let ua = s["ua"].as_str();
        for r in s["requests"].as_array().unwrap() {
            let file = r["file"].as_str().unwrap();
            let path = format!("/{file}");
            let got = site.answer(
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
                    matches!(got, Err(Refusal::NotFound)),
                    "{name}: {file}: {got:?}"
                );
                continue;
            }
            let body = match got {
                Ok(Answer::File { body, vendor, .. }) => {
                    assert_eq!(vendor, Vendor::Fanvil);
                    body
                }
                other => panic!("{name}: {file}: {other:?}"),
            };
            if let Some(start) = r["body_starts"].as_str() {
                assert!(body.starts_with(start), "{name}: {file}:\n{body}");
            }
            for want in r["body_contains"].as_array().into_iter().flatten() {
                let want = want.as_str().unwrap();
                assert!(
                    body.contains(want),
                    "{name}: {file}: missing {want:?} in\n{body}"
                );
            }
            match expect {
                "device" => assert!(body.contains("s3cret-Pass-201"), "{name}: {file}"),
                "common" | "phonebook" => {
                    assert!(
                        !body.contains("s3cret-Pass-201"),
                        "{name}: {file}: a secret"
                    )
                }
                other => panic!("{name}: {file}: expect {other}"),
            }
        }
    }
}

#[test]
fn pnp_is_null_with_the_reason_given() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    assert!(data["pnp"].is_null());
    assert!(data["sources"]["pnp_not_found"].is_string());
    // The NOTIFY body a Fanvil phone gets: the base URL as it is.
    assert_eq!(Vendor::Fanvil.pnp_url(BASE), BASE);
}
