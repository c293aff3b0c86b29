//! Snom through a whole site (`Site::answer`, as the relay answers): the settings carry the
//! site directory as the local phonebook, and an M700 base bound to three users gives each
//! its handset, one unbound leaves its account off and empty, and the accounts a model has
//! past the ones in use are switched off (M300, M700, D785). The lead's runner (`conformance.rs`) replays `tests/conformance/snom.json`;
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
                lan_mac: None,
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

/// The value of `<name idx="n" ...>` in `body`: `Some("")` when self-closed, `None` when
/// absent.
fn value<'a>(body: &'a str, name: &str, n: u32) -> Option<&'a str> {
    let open = format!("<{name} idx=\"{n}\" perm=\"RW\"");
    let rest = &body[body.find(&open)? + open.len()..];
    if rest.starts_with("/>") {
        return Some("");
    }
    let rest = rest.strip_prefix('>')?;
    rest.find(&format!("</{name}>")).map(|end| &rest[..end])
}

#[test]
fn a_handset_unbound_from_an_m700_leaves_its_account_off_and_empty() {
    let three = r#"[{"slot": 2, "user_extension": "202"}, {"slot": 3, "user_extension": "203"}]"#;
    let before = config(&site("M700", three), "/snomM700-000413AABBCC.htm");
    assert_eq!(value(&before, "user_active", 3), Some("on"));
    assert_eq!(value(&before, "subscr_sip_hs_idx", 3), Some("3"));
    // The administrator unbinds Carol's handset: the base is left with two.
    let two = r#"[{"slot": 2, "user_extension": "202"}]"#;
    let after = config(&site("M700", two), "/snomM700-000413AABBCC.htm");
    for n in [1, 2] {
        assert_eq!(value(&after, "user_active", n), Some("on"), "{n}");
        assert_eq!(value(&after, "subscr_sip_hs_idx", n), Some(&*n.to_string()));
    }
    // Account 3 is off, holds none of Carol's identity, and rings no handset.
    assert_eq!(value(&after, "user_active", 3), Some("off"), "{after}");
    for name in [
        "user_name",
        "user_pname",
        "user_pass",
        "user_realname",
        "user_mailbox",
        "subscr_sip_line_name",
        "subscr_sip_hs_idx",
    ] {
        assert_eq!(value(&after, name, 3), Some(""), "{name}");
    }
    assert!(!after.contains("x-Pass-203-x") && !after.contains("Carol"));
    // So is every account up to the base's 255 (the model row's count), and none past it.
    assert_eq!(value(&after, "user_active", 255), Some("off"));
    assert_eq!(value(&after, "subscr_sip_hs_idx", 255), Some(""));
    assert_eq!(value(&after, "user_active", 256), None);
    assert_eq!(after.matches("<user_active ").count(), 255);
}

#[test]
fn an_m300_resets_its_twenty_accounts() {
    let body = config(&site("M300", "[]"), "/snomM300-000413AABBCC.htm");
    assert_eq!(value(&body, "user_active", 1), Some("on"));
    for n in 2..=20 {
        assert_eq!(value(&body, "user_active", n), Some("off"), "{n}");
        assert_eq!(value(&body, "user_pass", n), Some(""), "{n}");
    }
    assert_eq!(body.matches("<user_active ").count(), 20);
}

#[test]
fn a_desk_phone_switches_off_the_identities_past_its_lines() {
    let body = config(&site("D785", "[]"), "/snomD785-000413AABBCC.htm");
    assert_eq!(value(&body, "user_active", 1), Some("on"));
    assert_eq!(value(&body, "user_pass", 1), Some("s3cret-Pass-201"));
    // The D785 has 12 identities (its model row): 2..12 off and emptied.
    for n in 2..=12 {
        assert_eq!(value(&body, "user_active", n), Some("off"), "{n}");
        for name in [
            "user_name",
            "user_pname",
            "user_pass",
            "user_realname",
            "user_host",
            "user_outbound",
        ] {
            assert_eq!(value(&body, name, n), Some(""), "{name} {n}");
        }
    }
    assert_eq!(value(&body, "user_active", 13), None);
}
