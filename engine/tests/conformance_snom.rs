//! Runs `tests/conformance/snom.json` through the engine as a phone would meet it: each
//! User-Agent through `engine::detect`, each request sequence through `Site::answer` with
//! the test user bound to the test phone, and the PnP URL through `Vendor::pnp_url`. (The
//! lead's runner for every vendor's file replaces this one; it checks the same data.)
#![allow(clippy::unwrap_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use engine::{detect, Answer, Inventory, Mac, PhoneRequest, Site, Vendor};
use serde_json::Value;

const DATA: &str = include_str!("../../tests/conformance/snom.json");

fn data() -> Value {
    serde_json::from_str(DATA).unwrap()
}

fn site(d: &Value) -> Site {
    let mac = d["mac"].as_str().unwrap();
    let model = d["model"].as_str().unwrap();
    let inv = format!(
        r#"{{
          "site": {{"id": "s1", "name": "Office", "pbx_host": "pbx.example.com", "pbx_port": 5060,
                   "allow_macs": "", "deny_macs": "", "additional_params": "",
                   "poll_interval_minutes": 1440, "star_code_pattern": "*123*", "ntp_server": "",
                   "timezone": null, "language": null, "window_secs": 604800}},
          "users": [{{"extension": "201", "auth_name": "201", "sip_password": "s3cret-Pass-201", "display_name": "Alice Example", "voicemail_pin": ""}}],
          "phones": [{{"mac": "{mac}", "vendor": "snom", "model": "{model}", "user_extension": "201", "template": null}}],
          "blf_keys": [{{"mac": "{mac}", "position": 1, "extension": "202", "label": "Bob", "line": 1, "pickup_prefix": ""}},
                       {{"mac": "{mac}", "position": 2, "extension": "203", "label": "Carol", "line": 1, "pickup_prefix": ""}}],
          "templates": [], "uri_mappings": [], "firmware": [], "phonebook": []
        }}"#
    );
    let inv: Inventory = serde_json::from_str(&inv).unwrap();
    Site::new(inv).unwrap()
}

fn opt(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

#[test]
fn user_agents_are_recognised() {
    let d = data();
    let uas = d["user_agents"].as_array().unwrap();
    assert!(uas.len() >= 10);
    for u in uas {
        let ua = u["ua"].as_str().unwrap();
        assert!(
            d["sources"].get(u["source"].as_str().unwrap()).is_some(),
            "{ua}"
        );
        let got = detect(
            &PhoneRequest {
                path: "unknown-file",
                user_agent: Some(ua),
                pnp: None,
            },
            &[],
        );
        assert_eq!(got.vendor, Some(Vendor::Snom), "{ua}");
        assert_eq!(got.model, opt(&u["model"]), "{ua}");
        assert_eq!(got.firmware_version, opt(&u["firmware"]), "{ua}");
        assert_eq!(
            got.ua_mac,
            u["mac"].as_str().map(|m| Mac::parse(m).unwrap()),
            "{ua}"
        );
    }
}

#[test]
fn sequences_are_answered_as_listed() {
    let d = data();
    let site = site(&d);
    let base = d["pnp"]["base"].as_str().unwrap();
    for s in d["sequences"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        assert!(
            d["sources"].get(s["source"].as_str().unwrap()).is_some(),
            "{name}"
        );
        let ua = s["ua"].as_str();
        for r in s["requests"].as_array().unwrap() {
            let file = r["file"].as_str().unwrap();
            let answer = site.answer(
                &PhoneRequest {
                    path: &format!("/{file}"),
                    user_agent: ua,
                    pnp: None,
                },
                base,
            );
            let expect = r["expect"].as_str().unwrap();
            let body = match (expect, answer) {
                ("absent", Err(_)) => continue,
                ("absent", Ok(_)) => panic!("{name}: {file} must be a 404"),
                (_, Ok(Answer::File { body, .. })) => body,
                (_, other) => panic!("{name}: {file}: {other:?}"),
            };
            let secret = body.contains("s3cret-Pass-201");
            assert_eq!(secret, expect == "device", "{name}: {file}: secret\n{body}");
            if let Some(start) = r["body_starts"].as_str() {
                assert!(body.starts_with(start), "{name}: {file}\n{body}");
            }
            for needle in r["body_contains"].as_array().into_iter().flatten() {
                let needle = needle.as_str().unwrap();
                assert!(
                    body.contains(needle),
                    "{name}: {file}: {needle:?} missing in\n{body}"
                );
            }
            engine::check_well_formed(&body).unwrap();
        }
    }
}

#[test]
fn pnp_url_is_the_folder() {
    let d = data();
    let p = &d["pnp"];
    let sub = p["subscribe"].as_str().unwrap();
    assert!(sub.starts_with("SUBSCRIBE sip:MAC%3a"));
    assert!(sub.contains("\nAccept: application/url\n"));
    assert!(sub.contains("vendor=\"snom\""));
    assert_eq!(
        Vendor::Snom.pnp_url(p["base"].as_str().unwrap()),
        p["url"].as_str().unwrap()
    );
}

#[test]
fn the_relay_config_carries_the_site_directory_as_the_local_phonebook() {
    let d = data();
    let site = site(&d);
    let answer = site
        .answer(
            &PhoneRequest {
                path: "/snomD785-000413AABBCC.htm",
                user_agent: None,
                pnp: None,
            },
            "http://192.0.2.10:8480",
        )
        .unwrap();
    let Answer::File { body, .. } = answer else {
        panic!("{answer:?}")
    };
    assert!(body.contains("<tbook complete=\"true\">"), "{body}");
    assert!(
        body.contains("<name>Alice Example</name>\n      <number>201</number>"),
        "{body}"
    );
    // The remote directory stays behind the directory key.
    assert!(body.contains(
        "<dkey_directory perm=\"RW\">url http://192.0.2.10:8480/phonebook/000413aabbcc.xml</dkey_directory>"
    ));
}
