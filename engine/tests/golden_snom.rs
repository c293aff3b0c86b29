//! Snom goldens beyond the shared set in `golden.rs`: an M700 DECT base whose three accounts
//! go to three handsets (its other accounts, up to 255, off and emptied), and a D785 whose settings carry the local phonebook (`<tbook>`).
//! Checked byte for byte against `tests/fixtures/snom/*.expected.xml`; regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p engine --test golden_snom` and review the diff.
#![allow(clippy::unwrap_used)]

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use engine::{default_config, reference_profile, sample_profile, Contact, Vendor};

fn contacts() -> Vec<Contact> {
    vec![
        Contact {
            name: "Bob".into(),
            number: "202".into(),
        },
        Contact {
            name: "Carol".into(),
            number: "203".into(),
        },
        Contact {
            name: "O'Brien \"Reception\" & Co".into(),
            number: "+49 30 1234567".into(),
        },
    ]
}

/// An M700 base: the reference account on handset 1, two more users on handsets 2 and 3.
fn m700() -> String {
    let mut p = common::dect_base(Vendor::Snom, "M700", 1, [2, 3]);
    p.contacts = contacts();
    default_config(&p).unwrap()
}

/// The full D785 sample with the site directory as its local phonebook.
fn tbook() -> String {
    let mut p = sample_profile(Vendor::Snom);
    p.contacts = contacts();
    default_config(&p).unwrap()
}

#[test]
fn snom_goldens() {
    let cases = [
        (
            "dect-m700",
            m700(),
            include_str!("../../tests/fixtures/snom/dect-m700.expected.xml"),
        ),
        (
            "tbook",
            tbook(),
            include_str!("../../tests/fixtures/snom/tbook.expected.xml"),
        ),
    ];
    common::compare("snom", "xml", true, &cases);
}

#[test]
fn the_base_assigns_each_account_to_its_handset() {
    let s = m700();
    for (n, hs) in [(1, 1), (2, 2), (3, 3)] {
        assert!(
            s.contains(&format!(
                "<subscr_sip_hs_idx idx=\"{n}\" perm=\"RW\">{hs}</subscr_sip_hs_idx>"
            )),
            "{s}"
        );
    }
    assert!(!s.contains("<functionKeys"));
}

#[test]
fn a_base_that_loses_a_handset_switches_its_account_off() {
    let three = m700();
    assert!(three.contains("<user_active idx=\"3\" perm=\"RW\">on</user_active>"));
    // The same base with Carol's handset unbound: two accounts in use.
    let mut p = reference_profile(Vendor::Snom);
    p.device.model = "M700".into();
    p.lines[0].handset = Some(1);
    let mut bob = p.lines[0].clone();
    bob.extension = "202".into();
    bob.auth_name = "202".into();
    bob.display_name = "Bob".into();
    bob.handset = Some(2);
    p.lines.push(bob);
    let two = default_config(&p).unwrap();
    engine::check_well_formed(&two).unwrap();
    for needle in [
        "<user_active idx=\"3\" perm=\"RW\">off</user_active>",
        "<user_name idx=\"3\" perm=\"RW\"/>",
        "<user_pname idx=\"3\" perm=\"RW\"/>",
        "<user_pass idx=\"3\" perm=\"RW\"/>",
        "<user_realname idx=\"3\" perm=\"RW\"/>",
        "<subscr_sip_line_name idx=\"3\" perm=\"RW\"/>",
        "<subscr_sip_hs_idx idx=\"3\" perm=\"RW\"/>",
    ] {
        assert!(two.contains(needle), "{needle} missing in\n{two}");
    }
    assert!(!two.contains("Carol") && !two.contains(">203<"));
    assert!(!two.contains("<subscr_sip_ua_data_server_id idx=\"3\""));
    // Both write every account of the base, up to 255.
    assert_eq!(two.matches("<user_active ").count(), 255);
    assert_eq!(three.matches("<user_active ").count(), 255);
}
