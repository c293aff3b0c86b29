//! The native peer of `scripts/bench-wasm.mjs`: the same export (`engine_wasm::api::preview`, then
//! `engine_wasm::api::diff`), the same request, the same loop, timed natively.
//! `cargo run -p engine-wasm --release --example bench_native -- [iterations]`
#![allow(missing_docs)]

use std::time::Instant;

fn main() {
    let req = include_str!("../../tests/fixtures/yealink/preview40.json");
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    // The answer read as the page reads it (JSON.parse there, a typed serde read here: a
    // `serde_json::Value` tree would cost native several times what V8's parser costs).
    #[derive(serde::Deserialize, Default)]
    struct Answer {
        preview: Preview,
    }
    #[derive(serde::Deserialize, Default)]
    struct Preview {
        config: String,
        default_config: String,
    }
    let run = || {
        let out = engine_wasm::api::preview(req);
        let a: Answer = serde_json::from_str(&out).unwrap_or_default();
        engine_wasm::api::diff(&a.preview.default_config, &a.preview.config)
    };
    for _ in 0..n / 10 {
        std::hint::black_box(engine_wasm::api::preview(req));
    }
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(engine_wasm::api::preview(req));
    }
    let preview_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(run());
    }
    let keystroke_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{{\"preview_us\": {preview_us:.1}, \"keystroke_us\": {keystroke_us:.1}, \"iterations\": {n}}}");
}
