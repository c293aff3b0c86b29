//! Firmware images: the stored rows, which row a phone gets, and what an upload must pass.
//!
//! **Picking** ([`pick_firmware`]): among the rows of the phone's vendor, a row whose model
//! equals the phone's model (ASCII case-insensitive, otherwise exact: `SIP-T46S` and `T46S`
//! are different models, because vendors name them inconsistently and guessing an alias
//! could flash the wrong image) wins over a vendor-wide row (empty model). Within the
//! winning level the highest version wins, versions being compared part by part on `.`:
//! two all-digit parts numerically (`66.86.0.15` > `66.86.0.9`), otherwise as strings, a
//! number ranking above a non-number (`1.0.1` > `1.0.rc1`) and a missing part below any
//! present one (`1.0` < `1.0.0`). Equal versions fall back to the file name, the smaller
//! name winning, so the pick never depends on row order.
//!
//! **Uploads** ([`check_upload`]) are refused unless the vendor is one this engine
//! provisions, the file name is a plain storage key (see [`crate::is_plain_file_name`]),
//! its extension is one the vendor's phones load (see [`allowed_extensions`]), and the
//! size is non-zero, within the per-file limit and within the total quota. Sizes in
//! messages are in MB of 1,048,576 bytes, rounded up to a tenth so that an over-limit
//! figure never prints as equal to the limit.
//!
//! **Edits** ([`validate_row`]) check the fields an admin can type: version, model, notes,
//! file name and checksum.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::detect::is_plain_file_name;
use crate::error::{Error, ErrorKind, Result};
use crate::vendors::Vendor;

/// One MiB, the unit of the "MB" figures shown to people.
const MB: u64 = 1024 * 1024;
/// Longest accepted version string, in characters.
const MAX_VERSION_CHARS: usize = 64;
/// Longest accepted model name, in characters.
const MAX_MODEL_CHARS: usize = 64;
/// Longest accepted notes text, in characters.
const MAX_NOTES_CHARS: usize = 2000;

/// A stored firmware image and what it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareRow {
    /// The vendor whose phones load the image.
    pub vendor: Vendor,
    /// The model the image is for; empty means every model of the vendor (fallback).
    #[serde(default)]
    pub model: String,
    /// The firmware version, as the vendor writes it (e.g. `66.86.0.15`).
    pub version: String,
    /// Free text for the admin (release notes, why this version).
    #[serde(default)]
    pub notes: String,
    /// The stored file name, as phones request it.
    pub file_name: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// SHA-256 of the file as 64 hex digits, if known.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Limits on firmware storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quota {
    /// Largest accepted single file, in bytes (default 80 MB).
    pub max_file_bytes: u64,
    /// Largest accepted total of all stored files, in bytes (default 300 MB).
    pub max_total_bytes: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            max_file_bytes: 80 * MB,
            max_total_bytes: 300 * MB,
        }
    }
}

/// Firmware file extensions (lowercase, with the dot) accepted for `vendor`; empty for a
/// vendor whose phones this engine does not provision.
///
/// The lists live in each vendor's module (vendor knowledge, one place).
pub(crate) fn allowed_extensions(vendor: Vendor) -> &'static [&'static str] {
    vendor.firmware_extensions()
}

/// Picks the firmware row for a phone: exact model first, then the vendor-wide row, the
/// highest version winning at each level (see the module docs).
pub fn pick_firmware<'a>(
    rows: &'a [FirmwareRow],
    vendor: Vendor,
    model: &str,
) -> Option<&'a FirmwareRow> {
    let model = model.trim();
    let best = |want_model: &str| {
        rows.iter()
            .filter(|r| r.vendor == vendor && r.model.trim().eq_ignore_ascii_case(want_model))
            .max_by(|a, b| {
                compare_versions(&a.version, &b.version)
                    // Reversed so that, among equal versions, the smaller file name is the max.
                    .then_with(|| b.file_name.cmp(&a.file_name))
            })
    };
    // An empty model would make the "exact" level the vendor-wide level; that is the
    // right answer for a phone whose model is unknown, so no special case is needed.
    best(model).or_else(|| best(""))
}

/// Compares two dotted versions part by part (see the module docs for the rule).
fn compare_versions(a: &str, b: &str) -> Ordering {
    let mut pa = a.trim().split('.');
    let mut pb = b.trim().split('.');
    loop {
        match (pa.next(), pb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = compare_parts(x, y);
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

fn compare_parts(x: &str, y: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (numeric(x), numeric(y)) {
        (true, true) => {
            // Compare as numbers without parsing, so a part longer than any integer type
            // cannot overflow: drop leading zeros, then the longer number is larger.
            let x = x.trim_start_matches('0');
            let y = y.trim_start_matches('0');
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => x.cmp(y),
    }
}

/// Checks a firmware upload before it is stored: vendor, file name, extension, size and
/// quota (`used_bytes` is what is already stored).
pub fn check_upload(
    vendor: Vendor,
    file_name: &str,
    size: u64,
    used_bytes: u64,
    quota: &Quota,
) -> Result<()> {
    check_vendor(vendor)?;
    check_file_name(vendor, file_name)?;
    check_size(size)?;
    if size > quota.max_file_bytes {
        return Err(rejected(
            "size",
            format!(
                "the file is {}; the limit is {} per file",
                mb(size),
                mb_limit(quota.max_file_bytes)
            ),
        ));
    }
    let total = used_bytes.saturating_add(size);
    if total > quota.max_total_bytes {
        return Err(rejected(
            "size",
            format!(
                "storing this {} file would use {} of the {} quota ({} already used); \
                 delete unused firmware first",
                mb(size),
                mb(total),
                mb_limit(quota.max_total_bytes),
                mb(used_bytes)
            ),
        ));
    }
    Ok(())
}

/// Checks a firmware row an admin edited: vendor, version, model, notes, file name, size
/// and checksum.
pub fn validate_row(row: &FirmwareRow) -> Result<()> {
    check_vendor(row.vendor)?;

    let version = row.version.as_str();
    if version.trim().is_empty() {
        return Err(invalid("version", "the version must not be empty"));
    }
    if version.chars().count() > MAX_VERSION_CHARS {
        return Err(invalid(
            "version",
            format!("the version must be at most {MAX_VERSION_CHARS} characters"),
        ));
    }
    if !version
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+' | b'~'))
    {
        return Err(invalid(
            "version",
            "the version may contain only ASCII letters, digits and . - _ + ~ (no spaces)",
        ));
    }

    let model = row.model.as_str();
    if model.chars().count() > MAX_MODEL_CHARS {
        return Err(invalid(
            "model",
            format!("the model must be at most {MAX_MODEL_CHARS} characters"),
        ));
    }
    if model.trim() != model {
        return Err(invalid(
            "model",
            "the model must not start or end with a space",
        ));
    }
    if !model.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b' ' | b'.' | b'-' | b'_' | b'+' | b'(' | b')')
    }) {
        return Err(invalid(
            "model",
            "the model may contain only ASCII letters, digits, spaces and . - _ + ( ); \
             leave it empty for a vendor-wide image",
        ));
    }

    if row.notes.chars().count() > MAX_NOTES_CHARS {
        return Err(invalid(
            "notes",
            format!("the notes must be at most {MAX_NOTES_CHARS} characters"),
        ));
    }
    // Line breaks and tabs are fine in notes; other control characters are not text.
    if row
        .notes
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid(
            "notes",
            "the notes must not contain control characters",
        ));
    }

    check_file_name(row.vendor, &row.file_name)?;
    check_size(row.size)?;

    if let Some(sha) = &row.sha256 {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                "sha256",
                "the SHA-256 checksum must be exactly 64 hex digits",
            ));
        }
    }
    Ok(())
}

fn check_vendor(vendor: Vendor) -> Result<()> {
    if vendor.is_provisioned() && !allowed_extensions(vendor).is_empty() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::FirmwareRejected,
            format!(
                "{} phones are not provisioned here, so no firmware can be stored for them",
                vendor.display_name()
            ),
        )
        .with_name("vendor"))
    }
}

fn check_file_name(vendor: Vendor, file_name: &str) -> Result<()> {
    if !is_plain_file_name(file_name) {
        return Err(rejected(
            "file",
            format!(
                "the file name {:?} is not accepted: use only ASCII letters, digits and . _ - +, \
                 do not start with a dot, and keep it to 128 characters at most",
                crate::error::clip(file_name)
            ),
        ));
    }
    let allowed = allowed_extensions(vendor);
    // `is_plain_file_name` guarantees ASCII, so lowercasing keeps byte offsets.
    let lower = file_name.to_ascii_lowercase();
    let ok = lower
        .rfind('.')
        .and_then(|i| lower.get(i..))
        .is_some_and(|ext| allowed.contains(&ext));
    if ok {
        Ok(())
    } else {
        Err(rejected(
            "file",
            format!(
                "{} firmware must end in {}",
                vendor.display_name(),
                join_or(allowed)
            ),
        ))
    }
}

fn check_size(size: u64) -> Result<()> {
    if size == 0 {
        Err(rejected("size", "the file is empty (0 bytes)"))
    } else {
        Ok(())
    }
}

fn rejected(field: &str, detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::FirmwareRejected, detail).with_name(field)
}

fn invalid(field: &str, detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, detail).with_name(field)
}

/// `.a`, `.a or .b`, `.a, .b or .c`.
fn join_or(items: &[&str]) -> String {
    match items.split_last() {
        None => String::from("(no accepted extension)"),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// A byte count in MB, rounded **up** to a tenth (`80 MB`, `80.1 MB`, `0.1 MB`).
fn mb(bytes: u64) -> String {
    // u128 so that ten times any u64 cannot overflow.
    let tenths = (u128::from(bytes) * 10).div_ceil(u128::from(MB));
    if tenths % 10 == 0 {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

/// A configured limit in MB: exact when it is a whole number of MB, otherwise rounded
/// **down** to a tenth, so a limit never prints larger than it is.
fn mb_limit(bytes: u64) -> String {
    let tenths = u128::from(bytes) * 10 / u128::from(MB);
    if tenths % 10 == 0 {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn row(vendor: Vendor, model: &str, version: &str, file: &str) -> FirmwareRow {
        FirmwareRow {
            vendor,
            model: model.to_owned(),
            version: version.to_owned(),
            notes: String::new(),
            file_name: file.to_owned(),
            size: 1000,
            sha256: None,
        }
    }

    #[test]
    fn extension_table() {
        assert_eq!(allowed_extensions(Vendor::Yealink), &[".rom", ".bin"]);
        assert_eq!(allowed_extensions(Vendor::Snom), &[".bin", ".fw", ".fwu"]);
        assert_eq!(allowed_extensions(Vendor::Fanvil), &[".z", ".bin"]);
        assert_eq!(allowed_extensions(Vendor::Grandstream), &[".bin"]);
        assert_eq!(allowed_extensions(Vendor::Htek), &[".rom", ".bin"]);
        assert!(allowed_extensions(Vendor::Ale).is_empty());
        for v in Vendor::PROVISIONED {
            assert!(!allowed_extensions(v).is_empty(), "{v}");
            for e in allowed_extensions(v) {
                assert!(e.starts_with('.') && e.to_ascii_lowercase() == *e, "{e}");
            }
        }
    }

    #[test]
    fn pick_prefers_exact_model_then_vendor_wide() {
        let rows = vec![
            row(Vendor::Yealink, "", "99.0.0.1", "generic.rom"),
            row(Vendor::Yealink, "T46S", "66.86.0.9", "t46s-old.rom"),
            row(Vendor::Yealink, "t46s", "66.86.0.15", "t46s-new.rom"),
            row(Vendor::Yealink, "SIP-T46S", "70.0.0.0", "alias.rom"),
            row(Vendor::Snom, "T46S", "100.0", "snom.bin"),
            row(Vendor::Snom, "", "10.1", "snom-generic.bin"),
        ];
        let pick = |v, m| pick_firmware(&rows, v, m).map(|r| r.file_name.as_str());
        // Exact model (case-insensitive), highest version numerically.
        assert_eq!(pick(Vendor::Yealink, "T46S"), Some("t46s-new.rom"));
        assert_eq!(pick(Vendor::Yealink, " t46s "), Some("t46s-new.rom"));
        // No alias matching: SIP-T46S is its own model.
        assert_eq!(pick(Vendor::Yealink, "SIP-T46S"), Some("alias.rom"));
        // Unknown model falls back to the vendor-wide row.
        assert_eq!(pick(Vendor::Yealink, "T54W"), Some("generic.rom"));
        assert_eq!(pick(Vendor::Yealink, ""), Some("generic.rom"));
        // Rows of other vendors never match.
        assert_eq!(pick(Vendor::Snom, "D785"), Some("snom-generic.bin"));
        assert_eq!(pick(Vendor::Fanvil, "X4U"), None);
        assert_eq!(pick_firmware(&[], Vendor::Yealink, "T46S"), None);
    }

    #[test]
    fn pick_without_fallback_row() {
        let rows = vec![row(Vendor::Htek, "UC926", "2.0.4.4", "uc926.rom")];
        assert_eq!(pick_firmware(&rows, Vendor::Htek, "UC912"), None);
        assert!(pick_firmware(&rows, Vendor::Htek, "uc926").is_some());
    }

    #[test]
    fn pick_is_independent_of_row_order() {
        let mut rows = vec![
            row(Vendor::Fanvil, "", "2.12.28", "b.z"),
            row(Vendor::Fanvil, "", "2.12.28", "a.z"),
            row(Vendor::Fanvil, "", "2.12.3", "c.z"),
        ];
        for _ in 0..3 {
            rows.rotate_left(1);
            let r = pick_firmware(&rows, Vendor::Fanvil, "X4U").unwrap();
            assert_eq!(r.file_name, "a.z");
        }
    }

    #[test]
    fn version_order() {
        use Ordering::*;
        let cases = [
            ("66.86.0.15", "66.86.0.9", Greater),
            ("66.86.0.9", "66.86.0.15", Less),
            ("1.0", "1.0.0", Less),
            ("1.0.1", "1.0.rc1", Greater),
            ("1.0.rc2", "1.0.rc1", Greater),
            ("010.2", "10.2", Equal),
            ("2.0", "10.0", Less),
            (
                "99999999999999999999999999.1",
                "99999999999999999999999998.9",
                Greater,
            ),
            ("", "0", Less),
            ("x", "x", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn upload_accepts_good_files() {
        let q = Quota::default();
        for (v, f) in [
            (Vendor::Yealink, "T46S-66.86.0.15.rom"),
            (Vendor::Yealink, "fw.BIN"),
            (Vendor::Snom, "snomD785-10.1.159.12-SIP-r.bin"),
            (Vendor::Snom, "d785.fw"),
            (Vendor::Fanvil, "x4u-2.12.z"),
            (Vendor::Grandstream, "gxp2170fw.bin"),
            (Vendor::Htek, "fw_uc926+1.rom"),
        ] {
            check_upload(v, f, 5 * MB, 0, &q).unwrap_or_else(|e| panic!("{v} {f}: {e}"));
        }
    }

    #[test]
    fn upload_refuses_ale() {
        let e = check_upload(Vendor::Ale, "fw.bin", 10, 0, &Quota::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FirmwareRejected);
        assert_eq!(e.name(), Some("vendor"));
        assert!(e.detail().contains("Alcatel-Lucent Enterprise"), "{e}");
    }

    #[test]
    fn upload_refuses_bad_names() {
        for f in [
            "",
            ".rom",
            "../x.rom",
            "a b.rom",
            "fw\u{e9}.rom",
            "a/b.rom",
            &"a".repeat(130),
        ] {
            let e = check_upload(Vendor::Yealink, f, 10, 0, &Quota::default()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::FirmwareRejected, "{f}");
            assert_eq!(e.name(), Some("file"), "{f}");
            assert!(
                e.detail().contains("ASCII letters, digits and . _ - +"),
                "{e}"
            );
        }
    }

    #[test]
    fn upload_refuses_wrong_extension_listing_the_accepted_ones() {
        let cases = [
            (
                Vendor::Yealink,
                "fw.z",
                "Yealink firmware must end in .rom or .bin",
            ),
            (
                Vendor::Yealink,
                "rom",
                "Yealink firmware must end in .rom or .bin",
            ),
            (
                Vendor::Yealink,
                "fw.rom.txt",
                "Yealink firmware must end in .rom or .bin",
            ),
            (
                Vendor::Snom,
                "fw.rom",
                "Snom firmware must end in .bin, .fw or .fwu",
            ),
            (
                Vendor::Fanvil,
                "fw.rom",
                "Fanvil firmware must end in .z or .bin",
            ),
            (
                Vendor::Grandstream,
                "fw.rom",
                "Grandstream firmware must end in .bin",
            ),
            (
                Vendor::Htek,
                "fw.fw",
                "Htek firmware must end in .rom or .bin",
            ),
        ];
        for (v, f, msg) in cases {
            let e = check_upload(v, f, 10, 0, &Quota::default()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::FirmwareRejected);
            assert_eq!(e.name(), Some("file"));
            assert_eq!(e.detail(), msg);
        }
    }

    #[test]
    fn upload_size_rules() {
        let q = Quota::default();
        assert_eq!(q.max_file_bytes, 80 * 1024 * 1024);
        assert_eq!(q.max_total_bytes, 300 * 1024 * 1024);

        let e = check_upload(Vendor::Yealink, "a.rom", 0, 0, &q).unwrap_err();
        assert_eq!(
            (e.kind(), e.name()),
            (ErrorKind::FirmwareRejected, Some("size"))
        );
        assert!(e.detail().contains("empty"), "{e}");

        // Exactly at the per-file limit is fine; one byte more is not.
        check_upload(Vendor::Yealink, "a.rom", 80 * MB, 0, &q).unwrap();
        let e = check_upload(Vendor::Yealink, "a.rom", 80 * MB + 1, 0, &q).unwrap_err();
        assert_eq!(e.name(), Some("size"));
        assert_eq!(
            e.detail(),
            "the file is 80.1 MB; the limit is 80 MB per file"
        );

        // Exactly filling the quota is fine; beyond it is not.
        check_upload(Vendor::Yealink, "a.rom", 50 * MB, 250 * MB, &q).unwrap();
        let e = check_upload(Vendor::Yealink, "a.rom", 50 * MB, 260 * MB + MB / 2, &q).unwrap_err();
        assert_eq!(e.name(), Some("size"));
        assert!(
            e.detail()
                .contains("would use 310.5 MB of the 300 MB quota (260.5 MB already used)"),
            "{e}"
        );

        // No overflow on absurd figures.
        let e = check_upload(Vendor::Yealink, "a.rom", 1, u64::MAX, &q).unwrap_err();
        assert_eq!(e.name(), Some("size"));
        let big = Quota {
            max_file_bytes: u64::MAX,
            max_total_bytes: u64::MAX,
        };
        check_upload(Vendor::Yealink, "a.rom", u64::MAX, 0, &big).unwrap();
    }

    #[test]
    fn mb_figures() {
        assert_eq!(mb(80 * MB), "80 MB");
        assert_eq!(mb(80 * MB + 1), "80.1 MB");
        assert_eq!(mb(1), "0.1 MB");
        assert_eq!(mb(0), "0 MB");
        assert_eq!(mb(MB / 2), "0.5 MB");
        assert_eq!(mb_limit(300 * MB), "300 MB");
        assert_eq!(mb_limit(300 * MB - 1), "299.9 MB");
        assert!(!mb(u64::MAX).is_empty());
    }

    #[test]
    fn quota_serde_defaults() {
        let q: Quota = serde_json::from_str("{}").unwrap();
        assert_eq!(q, Quota::default());
        let q: Quota = serde_json::from_str(r#"{"max_file_bytes": 10}"#).unwrap();
        assert_eq!(q.max_file_bytes, 10);
        assert_eq!(q.max_total_bytes, 300 * MB);
    }

    #[test]
    fn row_serde_round_trip() {
        let mut r = row(Vendor::Grandstream, "GXP2170", "1.0.11.10", "gxp2170fw.bin");
        r.sha256 = Some("ab".repeat(32));
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""vendor":"grandstream""#), "{json}");
        let back: FirmwareRow = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        let minimal: FirmwareRow = serde_json::from_str(
            r#"{"vendor":"htek","version":"2.0","file_name":"f.rom","size":5}"#,
        )
        .unwrap();
        assert!(minimal.model.is_empty() && minimal.sha256.is_none());
    }

    #[test]
    fn validate_row_accepts_a_good_row() {
        let mut r = row(
            Vendor::Yealink,
            "SIP-T46S",
            "66.86.0.15",
            "T46S-66.86.0.15.rom",
        );
        r.notes = "Fixes BLF.\nTested on 3 phones.".to_owned();
        r.sha256 =
            Some("0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789".to_owned());
        validate_row(&r).unwrap();
        r.model = String::new();
        r.sha256 = None;
        validate_row(&r).unwrap();
    }

    #[test]
    fn validate_row_rejects_each_bad_field() {
        let good = row(Vendor::Yealink, "T46S", "66.86.0.15", "fw.rom");
        type Edit = fn(&mut FirmwareRow);
        let cases: Vec<(&str, Edit)> = vec![
            ("vendor", |r| r.vendor = Vendor::Ale),
            ("version", |r| r.version = String::new()),
            ("version", |r| r.version = "  ".to_owned()),
            ("version", |r| r.version = "1".repeat(65)),
            ("version", |r| r.version = "1.0 beta".to_owned()),
            ("version", |r| r.version = "1.0<script>".to_owned()),
            ("model", |r| r.model = "T46S\n".to_owned()),
            ("model", |r| r.model = " T46S".to_owned()),
            ("model", |r| r.model = "T46S/../x".to_owned()),
            ("model", |r| r.model = "T".repeat(65)),
            ("notes", |r| r.notes = "n".repeat(2001)),
            ("notes", |r| r.notes = "bell\u{7}".to_owned()),
            ("file", |r| r.file_name = "fw.exe".to_owned()),
            ("file", |r| r.file_name = "../fw.rom".to_owned()),
            ("size", |r| r.size = 0),
            ("sha256", |r| r.sha256 = Some("abc".to_owned())),
            ("sha256", |r| r.sha256 = Some("g".repeat(64))),
            ("sha256", |r| r.sha256 = Some(String::new())),
        ];
        for (field, edit) in cases {
            let mut r = good.clone();
            edit(&mut r);
            let e = validate_row(&r).unwrap_err();
            assert_eq!(e.name(), Some(field), "{r:?}: {e}");
            assert!(!e.detail().is_empty());
        }
        // Limits are inclusive.
        let mut r = good.clone();
        r.version = "1".repeat(64);
        r.model = "T".repeat(64);
        r.notes = "n".repeat(2000);
        validate_row(&r).unwrap();
    }
}
