//! Snom through a whole site (`Site::answer`, as the relay answers): the settings carry the
//! site directory as the local phonebook, and an M700 base bound to three users gives each
//! its handset. The lead's runner (`conformance.rs`) replays `tests/conformance/snom.json`;
//! these cases need a site it does not build.
#![allow(clippy::unwrap_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use engine::{Answer, Inventory, PhoneRequest, Site};

const BASE: &str = "http://192.0.2.10:8480";

fn site(model: &str, handsets: &str) -> Site {
    let inv = format!(
        r#"{{
          "site": {{"id": "s1", "name": "Office", "pbx_host": "pbx.example.com", "pbx_port": 5060,
                   "allow_macs": "", "deny_macs": "", "additional_params": "",
                   "poll_interval_minutes": 1440, "star_code_pattern": "*123*", "ntp_server": "",
                   "timezone": null, "language": null, "window_secs": 604800}},
          "users": [{{"extension": "201", "auth_name": "201", "sip_password": "s3cret-Pass-201", "display_name": "Alice Example", "voicemail_pin": ""}},
                    {{"extension": "202", "auth_name": "202", "sip_password": "x-Pass-202-x", "display_name": "Bob", "voicemail_pin": ""}},
                    {{"extension": "203", "auth_name": "203", "sip_password": "x-Pass-203-x", "display_name": "Carol", "voicemail_pin": ""}}],
          "phones": [{{"mac": "000413aabbcc", "vendor": "snom", "model": "{model}", "user_extension": "201", "template": null, "handsets": {handsets}}}],
          "blf_keys": [], "templates": [], "uri_mappings": [], "firmware": [],
          "phonebook": [{{"source": "HQ", "name": "Reception", "number": "+49 30 1"}}]
        }}"#
    );
    let inv: Inventory = serde_json::from_str(&inv).unwrap();
    Site::new(inv).unwrap()
}

fn config(site: &Site, file: &str) -> String {
    let answer = site
        .answer(
            &PhoneRequest {
                path: file,
                user_agent: None,
                pnp: None,
            },
            BASE,
        )
        .unwrap();
    match answer {
        Answer::File { body, .. } => body,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_settings_carry_the_site_directory_as_the_local_phonebook() {
    let body = config(&site("D785", "[]"), "/snomD785-000413AABBCC.htm");
    assert!(body.contains("<tbook complete=\"true\">"), "{body}");
    for (name, number) in [
        ("Alice Example", "201"),
        ("Bob", "202"),
        ("Carol", "203"),
        ("Reception", "+49 30 1"),
    ] {
        assert!(
            body.contains(&format!(
                "<name>{name}</name>\n      <number>{number}</number>"
            )),
            "{name} missing in\n{body}"
        );
    }
    // The remote directory stays behind the directory key.
    assert!(body.contains(
        "<dkey_directory perm=\"RW\">url http://192.0.2.10:8480/phonebook/000413aabbcc.xml</dkey_directory>"
    ));
}

#[test]
fn an_m700_gives_each_bound_user_its_handset() {
    let site = site(
        "M700",
        r#"[{"slot": 3, "user_extension": "203"}, {"slot": 2, "user_extension": "202"}]"#,
    );
    let body = config(&site, "/snomM700-000413AABBCC.htm");
    for (n, ext, pass) in [
        (1, "201", "s3cret-Pass-201"),
        (2, "202", "x-Pass-202-x"),
        (3, "203", "x-Pass-203-x"),
    ] {
        for needle in [
            format!("<user_name idx=\"{n}\" perm=\"RW\">{ext}</user_name>"),
            format!("<user_pass idx=\"{n}\" perm=\"RW\">{pass}</user_pass>"),
            format!("<subscr_sip_hs_idx idx=\"{n}\" perm=\"RW\">{n}</subscr_sip_hs_idx>"),
            format!("<subscr_sip_ua_data_server_id idx=\"{n}\" perm=\"RW\">1</subscr_sip_ua_data_server_id>"),
        ] {
            assert!(body.contains(&needle), "{needle} missing in\n{body}");
        }
    }
    assert!(body.contains("<user_host idx=\"1\" perm=\"RW\">pbx.example.com</user_host>"));
    assert!(!body.contains("<user_host idx=\"2\""));
    assert!(!body.contains("<functionKeys") && !body.contains("<tbook"));
    // The base reads the same device file names as a desk phone.
    assert_eq!(config(&site, "/000413AABBCC.xml"), body);
}
