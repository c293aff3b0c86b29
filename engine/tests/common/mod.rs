//! What the golden tests share: comparing rendered files with `tests/fixtures/<dir>/`.
#![allow(dead_code, clippy::unwrap_used)]

/// Compares each `(name, got, expected)` with `tests/fixtures/<dir>/<name>.expected.<ext>`
/// (the expected text compiled in with `include_str!`), after checking `got` is well-formed
/// XML when `xml`. With `UPDATE_GOLDEN` set (native only) a mismatch rewrites the file
/// instead; otherwise every mismatch is reported at once.
pub(crate) fn compare(dir: &str, ext: &str, xml: bool, cases: &[(&str, String, &str)]) {
    let update = cfg!(not(target_arch = "wasm32")) && std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for (name, got, expected) in cases {
        if xml {
            engine::check_well_formed(got).unwrap();
        }
        if got == expected {
            continue;
        }
        if update {
            #[cfg(not(target_arch = "wasm32"))]
            std::fs::write(
                format!(
                    "{}/../tests/fixtures/{dir}/{name}.expected.{ext}",
                    env!("CARGO_MANIFEST_DIR")
                ),
                got,
            )
            .unwrap();
        } else {
            failures.push(format!(
                "--- {dir} {name}: got\n{got}\n--- expected\n{expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
