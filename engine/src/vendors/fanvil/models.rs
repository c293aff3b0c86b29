//! Fanvil's models: every model wazo-platform/wazo-provd-plugins' Fanvil plugins provision
//! (`plugins/wazo_fanvil/{serie_x,serie_v,serie_i,serie_h,serie_w,v2_3}`), one row each.
//!
//! Where each column comes from (all paths in wazo-platform/wazo-provd-plugins):
//! - `file_code`: the coded common file the model's firmware asks for first, the whole file
//!   name (three naming schemes exist, `f0X4hw1.100.cfg`, `f0C00580000.cfg`,
//!   `F0V00X300000.cfg`, so neither a prefix nor a case can be derived): the keys of
//!   `COMMON_FILES` in the series' `entry.py` that end in `.cfg`. `None` where wazo lists only
//!   the newer `fanvil_<model>_hw<hw>.txt` name (read by `model_from_txt` in `mod.rs`, which
//!   needs no table) or nothing at all (X4U, X5U, X6U, X7, X7C, X210i: their files are named
//!   by the `.txt` scheme). This column is the one place a coded name is written: the file
//!   classifier reads it (`mod.rs`, `common_file_model`).
//! - `accounts` and `line_keys`: the `lines` and `function_keys` of the model's
//!   `capabilities` entry in the series' `plugin-info` (`function_keys` is every programmable
//!   DSS key over all pages, which wazo fills from `funckeys`). Where a model is in two
//!   plugins (X2, X3, X3S, X4, X5, X5S, X6 are also in `v2_3`, the 2.3 firmware line) the
//!   current `serie_x` entry is used.
//! - `key_pages`: `function_keys` divided by the keys per page of `FUNCTION_KEYS_PER_PAGE`
//!   (after the `TOP_FUNCTION_KEYS` line keys where `serie_x` has them), rounded up; 1 where
//!   the plugin pages nothing.
//! - `expansion_keys`/`expansion_modules`: 0. Every `plugin-info` entry says
//!   `"expansion_modules": 0`; Fanvil's EXT modules are not provisioned by any source read, so
//!   a BLF layout is checked against the phone's own keys only.
//! - `dect_handsets`: 0. No Fanvil DECT base is provisioned by the sources read: the W-series
//!   (`serie_w/plugin-info`: "Plugin for Fanvil Linkvil W series") are single-user Wi-Fi
//!   phones, one account set per config, and `base-w-series.tpl` holds no handset assignment.
//! - `firmware_family`: the image a model runs, by the name prefix of its file in
//!   `MODEL_FIRMWARE_MAPPING` (else in `COMMON_FILES`): models sharing a prefix share the image
//!   (`x4upro-fanvil-release-...` for X4U, X4U-V2 and X4U-Pro).
//!
//! Names are as the User-Agent gives them with a space written `-` (wazo `common.py`
//! `_extract_from_ua`: `model.replace(' ', '-')`), so `X4U-Pro`. Wazo's V-series lists spell
//! `V62Pro`/`V66Pro`; the rows here are `V62-Pro`/`V66-Pro`, the form the `.txt` name
//! `fanvil_v62_pro_hwv1_0.txt` and the UA rule give (FusionPBX names its template folder
//! `resources/templates/provision/fanvil/v62-pro/` the same way), and `mod.rs` reads `V62Pro`
//! as the same row (`canonical_model`).

use crate::vendors::Model;

/// A row: `name`, common file, accounts, keys, pages, firmware family.
const fn row(
    name: &'static str,
    file: Option<&'static str>,
    accounts: u8,
    line_keys: u16,
    key_pages: u8,
    firmware_family: &'static str,
) -> Model {
    Model {
        file_code: file,
        line_keys,
        key_pages,
        accounts,
        firmware_family,
        ..Model::desk(name)
    }
}

/// The models this system configures.
pub(crate) const MODELS: &[Model] = &[
    // serie_x/entry.py MODELS, COMMON_FILES, FUNCTION_KEYS_PER_PAGE, LINE_KEYS_PER_PAGE,
    // TOP_FUNCTION_KEYS, MODEL_FIRMWARE_MAPPING; serie_x/plugin-info capabilities.
    // X4U: 12 lines, 30 keys: 3 line keys + 27 DSS keys at 6 a page.
    row("X4U", None, 12, 30, 5, "x4upro"),
    // "X4U V2 & Pro": 12 lines, 30 keys: 10 line keys + 20 at 6 a page.
    row("X4U-V2", None, 12, 30, 4, "x4upro"),
    row("X4U-Pro", None, 12, 30, 4, "x4upro"),
    // "X5U", "X5U-V2", "X5U Pro": 16 lines, 34 keys: 4 line keys + 30 at 6 a page.
    row("X5U", None, 16, 34, 5, "x5upro"),
    row("X5U-V2", Some("F0V5UV200000.cfg"), 16, 34, 5, "x5upro"),
    row("X5U-Pro", None, 16, 34, 5, "x5upro"),
    // "X6U", "X6U Pro": 20 lines, 72 keys: 5 line keys + 67 at 12 a page.
    row("X6U", None, 20, 72, 6, "x6upro"),
    row("X6U-Pro", None, 20, 72, 6, "x6upro"),
    // "X7", "X7 Pro": 20 lines, 127 keys; "X7C" 12 keys, "X7C Pro" 72 keys; not paged by wazo.
    row("X7", None, 20, 127, 1, "x7cpro"),
    row("X7-Pro", None, 20, 127, 1, "x7cpro"),
    row("X7C", None, 20, 12, 1, "x7cpro"),
    row("X7C-Pro", None, 20, 72, 1, "x7cpro"),
    // "X210": 20 lines, 116 keys: 10 line keys + 106 at 32 a page; "X210 V2 & Pro": 106 keys.
    row("X210", Some("F0V00X200000.cfg"), 20, 116, 4, "x210"),
    row("X210i", None, 20, 116, 4, "x210i"),
    row("X210-V2", None, 20, 106, 4, "x210pro"),
    row("X210-Pro", None, 20, 106, 4, "x210pro"),
    // "X210i Pro": 20 lines, 116 keys, not paged by wazo.
    row("X210i-Pro", None, 20, 116, 1, "x210ipro"),
    // Older X models, not paged by wazo: "X2" 2 lines, no DSS key; "X3" 2, 0;
    // "X3S/X3SP/G" 2, 0; "X3SG" 2, 0; "X4/G" 4, 30; "X5" 16, 40; "X5S" 16, 40; "X6" and
    // "X6V2" 20, 60.
    row("X2", Some("f0X2hw1.100.cfg"), 2, 0, 1, "x2"),
    row("X3", Some("F0V00X300000.cfg"), 2, 0, 1, "x3"),
    row("X3S", Some("f0X3shw1.100.cfg"), 2, 0, 1, "x3s"),
    row("X3SG", Some("f0X3sghw1.100.cfg"), 2, 0, 1, "x3sg"),
    row("X4", Some("f0X4hw1.100.cfg"), 4, 30, 1, "x4"),
    row("X5", Some("f0X5hw1.100.cfg"), 16, 40, 1, "x5"),
    row("X5S", Some("F0V00X5S0000.cfg"), 16, 40, 1, "x5s"),
    // Two images: `x6-6904-...` (X6) and `x6-6914-...` (X6V2).
    row("X6", Some("F0V00X600000.cfg"), 20, 60, 1, "x6-6904"),
    row("X6V2", Some("F0000X600000.cfg"), 20, 60, 1, "x6-6914"),
    // v2_3/entry.py COMMON_FILES and v2_3/plugin-info: "C58" 2 lines, 2 keys; "C62" 4, 8.
    row("C58", Some("f0C00580000.cfg"), 2, 2, 1, "C58"),
    row("C62", Some("f0C00620000.cfg"), 4, 8, 1, "C62"),
    // serie_v/entry.py and serie_v/plugin-info; pages from FUNCTION_KEYS_PER_PAGE.
    // "V61G", "V61W": 4 lines, 12 keys at 4 a page.
    row("V61G", Some("F0VV61G00000.cfg"), 4, 12, 3, "v6x-unified"),
    row("V61W", Some("F0VV61W00000.cfg"), 4, 12, 3, "v6x-unified"),
    // "V62": 6 lines, 15 keys at 5 a page.
    row("V62", Some("F0VV6200000.cfg"), 6, 15, 3, "v62"),
    // "V62G", "V62W", "V62Pro": 12 lines, 21 keys at 7 a page.
    row("V62G", Some("F0VV62G00000.cfg"), 12, 21, 3, "v6x-unified"),
    row("V62W", Some("F0VV62W00000.cfg"), 12, 21, 3, "v6x-unified"),
    row(
        "V62-Pro",
        Some("F0V0V6210000.cfg"),
        12,
        21,
        3,
        "v6x-unified",
    ),
    // "V63": 6 lines, 21 keys at 7 a page; "V64": 12 lines, 21 keys at 7 a page.
    row("V63", Some("F0V0V6300000.cfg"), 6, 21, 3, "v6x-unified"),
    row("V64", Some("F0V0V6400000.cfg"), 12, 21, 3, "v6x-unified"),
    // "V65": 20 lines, 45 keys at 9 a page.
    row("V65", Some("F0V0V6500000.cfg"), 20, 45, 5, "v65"),
    // "V66", "V66Pro", "V67": 20 lines, 116 keys at 29 a page.
    row("V66", Some("F0V0V6600000.cfg"), 20, 116, 4, "v66pro"),
    row("V66-Pro", Some("F0V0V6610000.cfg"), 20, 116, 4, "v66pro"),
    row("V67", Some("F0V0V6700000.cfg"), 20, 116, 4, "v67"),
    // serie_h/entry.py and serie_h/plugin-info: "H2U-V2" 2 lines, 11 keys at 10 a page.
    row("H2U-V2", Some("F0V2UV200000.cfg"), 2, 11, 2, "h2u-v2"),
    // serie_w/entry.py and serie_w/plugin-info: "W610W", "W611W" 4 lines, "W620W" 8 lines;
    // 16 keys each at 8 a page.
    row("W610W", Some("F0V610W00000.cfg"), 4, 16, 2, "w600-unified"),
    row("W611W", Some("F0V611W00000.cfg"), 4, 16, 2, "w611"),
    row("W620W", Some("F0V620W00000.cfg"), 8, 16, 2, "w620w"),
    // serie_i/entry.py and serie_i/plugin-info: door phones, each with its own image;
    // keys = FUNCTION_KEYS_PER_PAGE, one page.
    row("i10S", Some("F0V10S00000.cfg"), 2, 1, 1, "i10S"),
    row("i10SV", Some("F0V10SV00000.cfg"), 2, 1, 1, "i10SV"),
    row("i10SD", Some("F0V10SD00000.cfg"), 2, 2, 1, "i10SD"),
    row("i16S", Some("F0V16S00000.cfg"), 2, 1, 1, "i16S"),
    row("i16SV", Some("F0V16SV00000.cfg"), 2, 1, 1, "i16SV"),
    row("i51W", Some("F0Vi51W00000.cfg"), 4, 3, 1, "i51W"),
    row("i52W", Some("F0Vi52W00000.cfg"), 4, 3, 1, "i52W"),
    row("i53W", Some("F0Vi53W00000.cfg"), 6, 3, 1, "i53W"),
    row("i61", Some("F0V0i6100000.cfg"), 2, 1, 1, "i61"),
    row("i62", Some("F0V0i6200000.cfg"), 2, 1, 1, "i62"),
    row("i63", Some("F0V0i6300000.cfg"), 2, 5, 1, "i63"),
    row("i64", Some("F0V0i6400000.cfg"), 2, 4, 1, "i64"),
];

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_coded_common_file_names_one_model() {
        let files: Vec<&str> = MODELS.iter().filter_map(|m| m.file_code).collect();
        for (i, f) in files.iter().enumerate() {
            assert!(
                files[..i].iter().all(|o| !o.eq_ignore_ascii_case(f)),
                "{f} twice"
            );
            assert!(
                f.len() > 6 && (f.starts_with("f0") || f.starts_with("F0")) && f.ends_with(".cfg"),
                "{f}"
            );
        }
        // The wazo plugins' 41 coded `.cfg` names, one per model that has one.
        assert_eq!(files.len(), 41);
    }

    #[test]
    fn no_dect_base_and_no_expansion_module() {
        assert!(MODELS
            .iter()
            .all(|m| !m.is_dect_base() && m.expansion_modules == 0));
        // Keys fit the pages they are shown on.
        for m in MODELS {
            assert!(
                m.line_keys == 0 || u16::from(m.key_pages) <= m.line_keys,
                "{}",
                m.name
            );
        }
    }
}
