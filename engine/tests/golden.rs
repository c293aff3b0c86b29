//! Golden tests: for every vendor, the default config, the full sample (two lines, ten BLF
//! keys, every setting), a placeholder template, a Jinja template with ten BLF keys, and
//! Additional Parameters overrides, each checked byte for byte against a file under
//! `tests/fixtures/<vendor>/`. Inputs (`*.tpl`, `*.j2`, `params.ini`) live beside the
//! expected outputs (`*.expected.*`).
//!
//! After a deliberate change, regenerate with `UPDATE_GOLDEN=1 cargo test -p engine --test
//! golden` and review the diff.
//!
//! Fixtures are compiled in with `include_str!`, so the same test runs on wasm32 (no file
//! system there); updating needs the native run.
#![allow(clippy::unwrap_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::sync::Arc;

use engine::{
    default_config, reference_profile, render_phonebook, sample_profile, AdditionalParams,
    Composition, Contact, Renderer, Template, TemplateStyle, Vendor,
};

struct Case {
    vendor: Vendor,
    ext: &'static str,
    placeholder: &'static str,
    jinja: &'static str,
    params: &'static str,
    expected: [(&'static str, &'static str); 6],
}

macro_rules! case {
    ($vendor:expr, $dir:literal, $ext:literal) => {
        Case {
            vendor: $vendor,
            ext: $ext,
            placeholder: include_str!(concat!("../../tests/fixtures/", $dir, "/placeholder.tpl")),
            jinja: include_str!(concat!("../../tests/fixtures/", $dir, "/blf10.j2")),
            params: include_str!(concat!("../../tests/fixtures/", $dir, "/params.ini")),
            expected: [
                (
                    "default",
                    include_str!(concat!(
                        "../../tests/fixtures/",
                        $dir,
                        "/default.expected.",
                        $ext
                    )),
                ),
                (
                    "full",
                    include_str!(concat!(
                        "../../tests/fixtures/",
                        $dir,
                        "/full.expected.",
                        $ext
                    )),
                ),
                (
                    "placeholder",
                    include_str!(concat!(
                        "../../tests/fixtures/",
                        $dir,
                        "/placeholder.expected.",
                        $ext
                    )),
                ),
                (
                    "blf10",
                    include_str!(concat!(
                        "../../tests/fixtures/",
                        $dir,
                        "/blf10.expected.",
                        $ext
                    )),
                ),
                (
                    "params",
                    include_str!(concat!(
                        "../../tests/fixtures/",
                        $dir,
                        "/params.expected.",
                        $ext
                    )),
                ),
                (
                    "phonebook",
                    include_str!(concat!(
                        "../../tests/fixtures/",
                        $dir,
                        "/phonebook.expected.xml"
                    )),
                ),
            ],
        }
    };
}

fn cases() -> Vec<Case> {
    vec![
        case!(Vendor::Yealink, "yealink", "cfg"),
        case!(Vendor::Snom, "snom", "xml"),
        case!(Vendor::Fanvil, "fanvil", "cfg"),
        case!(Vendor::Grandstream, "grandstream", "xml"),
        case!(Vendor::Htek, "htek", "xml"),
    ]
}

fn render_all(c: &Case) -> Vec<(&'static str, String)> {
    let v = c.vendor;
    let full = Arc::new(sample_profile(v));
    let none = AdditionalParams::default();
    let mut r = Renderer::new();
    let save = |r: &mut Renderer, name: &str, style, source: &str| {
        r.set_template(Template {
            name: name.into(),
            vendor: v,
            style,
            composition: if style == TemplateStyle::Jinja {
                Composition::Replace
            } else {
                Composition::Overlay
            },
            source: source.into(),
        })
        .unwrap_or_else(|e| panic!("{v} {name}: {e}"));
    };
    save(
        &mut r,
        "placeholder",
        TemplateStyle::Placeholder,
        c.placeholder,
    );
    save(&mut r, "blf10", TemplateStyle::Jinja, c.jinja);
    let params =
        AdditionalParams::parse(c.params).unwrap_or_else(|e| panic!("{v} params.ini: {e}"));
    let contacts = [
        Contact {
            name: "Irina Smirnova".into(),
            number: "204".into(),
        },
        Contact {
            name: "Reception & Co <Front>".into(),
            number: "299".into(),
        },
        Contact {
            name: "O'Brien \"Bob\"".into(),
            number: "+49 30 1234567".into(),
        },
    ];
    vec![
        ("default", default_config(&reference_profile(v)).unwrap()),
        ("full", default_config(&full).unwrap()),
        (
            "placeholder",
            r.render_config(&full, Some("placeholder"), &none).unwrap(),
        ),
        (
            "blf10",
            r.render_config(&full, Some("blf10"), &none).unwrap(),
        ),
        ("params", r.render_config(&full, None, &params).unwrap()),
        (
            "phonebook",
            render_phonebook(v, "Demo office", &contacts).unwrap(),
        ),
    ]
}

#[test]
fn golden_outputs() {
    let update = cfg!(not(target_arch = "wasm32")) && std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for c in cases() {
        for ((name, got), (ename, expected)) in render_all(&c).into_iter().zip(c.expected) {
            assert_eq!(name, ename);
            if got == expected {
                continue;
            }
            if update {
                #[cfg(not(target_arch = "wasm32"))]
                {
                    let ext = if name == "phonebook" { "xml" } else { c.ext };
                    let path = format!(
                        "{}/../tests/fixtures/{}/{name}.expected.{ext}",
                        env!("CARGO_MANIFEST_DIR"),
                        c.vendor
                    );
                    std::fs::write(&path, &got).unwrap();
                }
            } else {
                failures.push(format!(
                    "--- {} {name}: got\n{got}\n--- expected\n{expected}",
                    c.vendor
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn xml_outputs_are_well_formed() {
    for c in cases() {
        for (name, out) in render_all(&c) {
            if c.vendor.config_syntax().unwrap().is_xml() || name == "phonebook" {
                engine::check_well_formed(&out)
                    .unwrap_or_else(|e| panic!("{} {name}: {e}", c.vendor));
            }
        }
    }
}

#[test]
fn every_config_carries_the_first_lines_password() {
    for c in cases() {
        for (name, out) in render_all(&c) {
            if name != "phonebook" {
                assert!(
                    out.contains("1c9709222690713dd"),
                    "{} {name} lacks line 1's password",
                    c.vendor
                );
            }
        }
    }
}

#[test]
fn phonebooks_escape_names_and_keep_numbers() {
    for c in cases() {
        let (_, pb) = render_all(&c).pop().unwrap();
        assert!(
            pb.contains("Reception &amp; Co &lt;Front&gt;"),
            "{}: {pb}",
            c.vendor
        );
        assert!(
            pb.contains("O&apos;Brien &quot;Bob&quot;"),
            "{}: {pb}",
            c.vendor
        );
        assert!(pb.contains("+49 30 1234567"), "{}: {pb}", c.vendor);
        assert!(!pb.contains("1c9709222690713dd"), "{}", c.vendor);
    }
}
