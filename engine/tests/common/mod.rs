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

/// The vendor's reference profile on a DECT base `model`: its account on handset `own`, and
/// Bob (202) and Carol (203) on the handsets `others` names.
pub(crate) fn dect_base(
    vendor: engine::Vendor,
    model: &str,
    own: u8,
    others: [u8; 2],
) -> engine::Profile {
    let mut p = engine::reference_profile(vendor);
    p.device.model = model.into();
    let first = p.lines[0].clone();
    p.lines[0].handset = Some(own);
    for ((ext, name), hs) in [("202", "Bob"), ("203", "Carol")].into_iter().zip(others) {
        let mut l = first.clone();
        l.extension = ext.into();
        l.auth_name = ext.into();
        l.display_name = name.into();
        l.handset = Some(hs);
        p.lines.push(l);
    }
    p
}
