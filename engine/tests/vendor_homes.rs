//! One home per vendor: everything about a vendor lives in `engine/src/vendors/<vendor>/`,
//! and `engine/src/vendors/mod.rs` is the only registry that maps a vendor to its home.
//! This test reads the workspace's sources and fails when code outside the homes names a
//! vendor: a `Vendor::<Variant>` path, or a string literal that is a vendor's name
//! (`"yealink"`, `'htek'`, any case). Such code is dispatching on the vendor, and belongs
//! in the vendor's home, behind a question [`engine::Vendor`] answers.
//!
//! Test code (after a file's first `#[cfg(test)]`, and files under `tests/`) may name
//! vendors: tests are about vendors. Comments may too.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};

use engine::Vendor;

/// Source trees to read, relative to the workspace root, and the file extension.
const TREES: &[(&str, &str)] = &[
    ("engine/src", "rs"),
    ("edge-worker/src", "rs"),
    ("edge-shared/src", "rs"),
    ("edge-admin/src", "rs"),
    ("lan-relay/src", "rs"),
    ("engine-wasm/src", "rs"),
    ("console/js", "js"),
];

/// The vendors' homes and the registry.
const HOMES: &str = "engine/src/vendors";

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// Where `line` names a vendor: the vendor and what was found.
fn named_vendor(line: &str) -> Option<(Vendor, String)> {
    let code = line.split("//").next().unwrap_or_default();
    let lower = code.to_ascii_lowercase();
    for v in Vendor::ALL {
        let variant = format!("{v:?}");
        if code.contains(&format!("Vendor::{variant}")) {
            return Some((v, format!("Vendor::{variant}")));
        }
        for q in ['"', '\'', '`'] {
            let lit = format!("{q}{}{q}", v.as_str());
            if lower.contains(&lit) {
                return Some((v, lit));
            }
        }
    }
    None
}

#[test]
fn no_vendor_is_named_outside_its_home() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    let mut read = 0;
    for (tree, ext) in TREES {
        let mut list = Vec::new();
        files(&root.join(tree), ext, &mut list);
        for path in list {
            let rel = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if rel.starts_with(HOMES) {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            read += 1;
            for (n, line) in text.lines().enumerate() {
                let t = line.trim_start();
                if t.starts_with("#[cfg(test)]") {
                    break;
                }
                if t.starts_with("//") || t.starts_with('*') || t.starts_with("/*") {
                    continue;
                }
                if let Some((v, what)) = named_vendor(line) {
                    found.push(format!("{rel}:{}: {what} ({v})", n + 1));
                }
            }
        }
    }
    assert!(read > 50, "read only {read} source files: wrong root?");
    assert!(
        found.is_empty(),
        "vendors named outside engine/src/vendors/ (move the knowledge into the vendor's home and ask engine::Vendor):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_finds_what_it_must() {
    assert!(named_vendor("    Vendor::Yealink => 1,").is_some());
    assert!(named_vendor(r#"if v == "grandstream" {"#).is_some());
    assert!(named_vendor("x === 'htek'").is_some());
    assert!(named_vendor(r#"let n = "Yealink";"#).is_some());
    assert!(named_vendor("// Vendor::Snom in a comment").is_none());
    assert!(named_vendor("use crate::vendors::yealink::account;").is_none());
    assert!(named_vendor(r#"let s = "yealink phones";"#).is_none());
}
