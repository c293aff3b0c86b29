//! Grandstream goldens beyond the shared set in `golden.rs`: a DP750 DECT base whose three
//! accounts go to three handsets. Checked byte for byte against
//! `tests/fixtures/grandstream/*.expected.xml`; regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p engine --test golden_grandstream` and review the diff.
#![allow(clippy::unwrap_used)]

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use engine::{default_config, Vendor};

/// A DP750 base: the reference account on handset 2, two more users on handsets 1 and 3.
fn dp750() -> String {
    let p = common::dect_base(Vendor::Grandstream, "DP750", 2, [1, 3]);
    default_config(&p).unwrap()
}

#[test]
fn grandstream_goldens() {
    let cases = [(
        "dect-dp750",
        dp750(),
        include_str!("../../tests/fixtures/grandstream/dect-dp750.expected.xml"),
    )];
    common::compare("grandstream", "xml", true, &cases);
}

#[test]
fn the_base_assigns_each_account_to_its_handset() {
    let s = dp750();
    // Incoming: HS mode of accounts 1..3 (P27080..) is handsets 2, 1, 3.
    for (code, hs) in [(27080, 2), (27081, 1), (27082, 3)] {
        assert!(s.contains(&format!("<P{code}>{hs}</P{code}>")), "{s}");
    }
    // Outgoing: each handset's first line (HS1 P4300, HS2 P4310, HS3 P4320) is its account.
    for (code, account) in [(4300, 2), (4310, 1), (4320, 3)] {
        assert!(s.contains(&format!("<P{code}>{account}</P{code}>")), "{s}");
    }
    // A base has no programmable keys: no MPK or VPK codes.
    assert!(!s.contains("<P323>") && !s.contains("<P1363>"));
}
