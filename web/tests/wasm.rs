//! The bindings on wasm32 (`wasm-bindgen-test-runner`, in node): the exports as the page
//! calls them, on the engine compiled to wasm.
#![cfg(target_family = "wasm")]
#![allow(clippy::unwrap_used, missing_docs)]

use serde_json::{json, Value};
use wasm_bindgen_test::wasm_bindgen_test as test;
use web::bindings::{check_params, check_template, diff, preview, sample, vendors};

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn preview_renders_and_reports_positions() {
    let ok = parse(&preview(
        r#"{"vendor": "snom", "template": {"style": "jinja", "source": "<settings><phone-settings><x>{{ user.extension }}</x></phone-settings></settings>"}}"#,
    ));
    assert_eq!(ok["ok"], true, "{ok}");
    let p = &ok["preview"];
    assert_eq!(p["content_type"], "application/xml");
    assert!(p["config"].as_str().unwrap().contains("<x>204</x>"));
    assert!(
        !p["config"].as_str().unwrap().contains("1c9709222690713dd"),
        "masked"
    );
    let bad = parse(&preview(
        r#"{"vendor": "yealink", "template": {"style": "jinja", "source": "a = 1\nb = 2\nc = {{ user.extension }\n"}}"#,
    ));
    let d = &bad["diagnostics"][0];
    assert_eq!(d["source"], "template");
    assert_eq!(d["line"], 3);
    assert!(d["column"].as_u64().unwrap() >= 1);
}

#[test]
fn forty_blf_keys_same_as_native() {
    let blf: Vec<Value> = (0..40)
        .map(|i| json!({"extension": (200 + i).to_string(), "label": format!("User {i}")}))
        .collect();
    let req = json!({
        "vendor": "yealink",
        "blf": blf,
        "template": {"style": "jinja", "composition": "replace", "source": include_str!("../../tests/fixtures/yealink/blf10.j2")},
    });
    let out = parse(&preview(&req.to_string()));
    let cfg = out["preview"]["config"].as_str().unwrap();
    assert_eq!(cfg.matches(".type = 16").count(), 40);
    // The same request rendered by the engine directly (same crate, same target) agrees.
    let native: engine::PreviewRequest = serde_json::from_value(req).unwrap();
    assert_eq!(cfg, engine::preview(&native).unwrap().config);
}

#[test]
fn checks_diff_vendors_sample() {
    assert_eq!(
        parse(&check_template(
            r#"{"vendor": "yealink", "source": "a = {SIP_NUM}"}"#
        )),
        json!([])
    );
    let d = parse(&check_params(
        "[yealink]\n\nbroken\n",
        Some("yealink".into()),
    ));
    assert_eq!(
        (d[0]["line"].as_u64(), d[0]["column"].as_u64()),
        (Some(3), Some(1))
    );
    let rows = parse(&diff("a\nb\n", "a\nB\nc\n"));
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert_eq!(rows[2]["kind"], "added");
    assert_eq!(parse(&vendors()).as_array().unwrap().len(), 6);
    let s = parse(&sample("fanvil"));
    assert_eq!(s["sample"]["model"], "X4U");
}
