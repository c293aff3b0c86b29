//! Snom's models: every model of wazo-platform/wazo-provd-plugins' Snom plugins
//! (`plugins/wazo_snom/v*/entry.py` `MODELS`), desk phones (3xx, 7xx, 8xx, D1xx..D8xx), the
//! MP conference phone, the PA1 paging amplifier and the M-series DECT bases.
//!
//! Sources, per column:
//! - `accounts` (identities) and `line_keys` (programmable function keys, all pages
//!   together): the `lines` and `function_keys` of the model's newest plugin
//!   (`plugins/wazo_snom/<version>/plugin-info`, `capabilities`); the version is named in
//!   each row's comment.
//! - `expansion_modules`: the same plugin-info's `expansion_modules` (3 for the models that
//!   take the D7/D7C or D3 modules, 0 where the newest plugin lists none).
//! - `expansion_keys`: 18 keys per module. Snom publishes the D7 module (7xx, D7xx, D3xx via
//!   USB) and the D3 module as 18 self-labelling keys each; the stored sources above give
//!   only the module count, so this per-module figure is the table's stated assumption: a
//!   layout beyond `line_keys` + 3 x 18 is refused, one within it is not checked further.
//! - `key_pages`: 1 everywhere. The plugin-info key counts already include every page, and
//!   the pages themselves (which decide only where a key shows, not whether it exists) are
//!   not in the sources at hand.
//! - `firmware_family`: the image the model runs, from the plugin's `pkgs/pkgs.db`
//!   download URLs: desk phones one image each, `snom<model>-<version>-SIP-<r|f>.bin`
//!   (e.g. `fw/10.1.215.13/bin/snomD785-10.1.215.13-SIP-r.bin`), DECT bases
//!   `<model>_v<ver>_b<build>.fwu` (`v05_20_0001`: `M700/M700_v0520_b0001.fwu`).
//! - `dect_handsets`: the M-series bases hold one account per handset: `lines` is 20 for
//!   M300/M400 and 1000 for M700/M900 (`v05_20_0001`, `v07_40_0104` plugin-info, where
//!   `"type": "dect"`); the base template assigns account N to handset N
//!   (`common_dect/templates/base.tpl`, `subscr_sip_hs_idx`). The row type holds at most
//!   255, so M700/M900 are capped there (the multicell systems take 1000).

use crate::vendors::Model;

/// A desk phone row: `accounts` identities, `keys` function keys, `modules` expansion
/// modules of 18 keys.
const fn desk(name: &'static str, accounts: u8, keys: u16, modules: u8) -> Model {
    Model {
        line_keys: keys,
        expansion_keys: if modules > 0 { 18 } else { 0 },
        expansion_modules: modules,
        accounts,
        ..Model::desk(name)
    }
}

/// A DECT base row: `handsets` handsets, one account each, no keys of its own.
const fn base(name: &'static str, family: &'static str, handsets: u8) -> Model {
    Model {
        accounts: handsets,
        dect_handsets: handsets,
        firmware_family: family,
        ..Model::desk(name)
    }
}

/// A desk phone row with its firmware image family `snom<model>`.
macro_rules! snom {
    ($name:literal, $accounts:expr, $keys:expr, $modules:expr) => {
        Model {
            firmware_family: concat!("snom", $name),
            ..desk($name, $accounts, $keys, $modules)
        }
    };
}

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    // D7xx/D3xx/D1xx/D8xx on firmware 10 (plugin v10_1_215_13 unless noted).
    snom!("D785", 12, 24, 3),
    snom!("D735", 12, 32, 3),
    snom!("D717", 6, 3, 3),
    snom!("D713", 6, 4, 0),
    snom!("D712", 4, 5, 0),   // v10_1_184_15
    snom!("D745", 12, 32, 3), // v10_1_54_13
    snom!("D765", 12, 16, 0), // v10_1_54_13
    snom!("D385", 12, 48, 3),
    snom!("D375", 12, 12, 3), // v10_1_54_13
    snom!("D345", 12, 48, 3), // v10_1_175_16
    snom!("D335", 12, 32, 3),
    snom!("D315", 4, 5, 3), // v10_1_198_19
    snom!("D305", 4, 5, 0), // v10_1_54_13
    snom!("D150", 2, 2, 0),
    snom!("D140", 2, 2, 0),
    snom!("D120", 2, 0, 0), // v10_1_54_13
    snom!("D810", 12, 16, 3),
    snom!("D812", 12, 32, 3),
    snom!("D815", 12, 40, 3),
    snom!("D862", 8, 32, 3),
    snom!("D865", 12, 40, 3),
    snom!("D892", 12, 40, 3),
    // 7xx: 715 on firmware 10 (v10_1_215_13), 725 (v10_1_175_16), 710/720/760 on 8.9
    // (v8_9_3_80).
    snom!("715", 4, 3, 3),
    snom!("725", 12, 18, 3),
    snom!("710", 4, 5, 0),
    snom!("720", 12, 18, 0),
    snom!("760", 12, 16, 0),
    // 3xx, 8xx, MP and PA1 on firmware 8.7.5.35 (v8_7_5_35).
    snom!("300", 12, 6, 3),
    snom!("320", 12, 12, 3),
    snom!("370", 12, 12, 3),
    snom!("820", 12, 16, 0),
    snom!("821", 12, 12, 0),
    snom!("870", 12, 15, 0),
    snom!("MP", 12, 0, 0),
    snom!("PA1", 1, 0, 0),
    // M-series DECT bases (common_dect): M300/M700/M900 on 05.20.0001, M400/M900 on
    // 07.40.0104. M700 and M900 are multicell systems of 1000 handsets, capped at 255.
    base("M300", "M300", 20),
    base("M400", "M400", 20),
    base("M700", "M700", 255),
    base("M900", "M900", 255),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::Vendor;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_wazo_model_is_in_the_table() {
        // plugins/wazo_snom/*/entry.py MODELS, all versions together.
        for name in [
            "300", "320", "370", "710", "715", "720", "725", "760", "820", "821", "870", "D120",
            "D140", "D150", "D305", "D315", "D335", "D345", "D375", "D385", "D712", "D713", "D717",
            "D735", "D745", "D765", "D785", "D810", "D812", "D815", "D862", "D865", "D892", "M300",
            "M400", "M700", "M900", "MP", "PA1",
        ] {
            assert!(Vendor::Snom.model(name).is_some(), "{name}");
        }
        assert_eq!(MODELS.len(), 39);
    }

    #[test]
    fn rows_hold_the_sources_figures() {
        let m = |n: &str| Vendor::Snom.model(n).unwrap();
        assert_eq!((m("D785").line_keys, m("D785").accounts), (24, 12));
        assert_eq!(m("D785").key_capacity(), 24 + 3 * 18);
        assert_eq!(m("D785").firmware_family, "snomD785");
        assert_eq!(m("D713").key_capacity(), 4);
        assert!(m("M700").is_dect_base() && !m("D785").is_dect_base());
        assert_eq!(m("M300").dect_handsets, 20);
        assert_eq!(m("M700").firmware_family, "M700");
        for row in MODELS {
            assert_eq!(
                row.is_dect_base(),
                row.name.starts_with('M') && row.name != "MP"
            );
            if row.is_dect_base() {
                assert_eq!(row.line_keys, 0, "{}", row.name);
                assert_eq!(row.accounts, row.dect_handsets, "{}", row.name);
            }
        }
    }
}
