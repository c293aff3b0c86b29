//! The native peer of `scripts/bench-web.mjs`: the same export (`web::api::preview`, then
//! `web::api::diff`), the same request, the same loop, timed natively.
//! `cargo run -p web --release --example bench_native -- [iterations]`
#![allow(missing_docs)]

use std::time::Instant;

fn main() {
    let req = include_str!("../../tests/fixtures/yealink/preview40.json");
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let run = || {
        let out = web::api::preview(req);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let p = &v["preview"];
        web::api::diff(
            p["default_config"].as_str().unwrap_or_default(),
            p["config"].as_str().unwrap_or_default(),
        )
    };
    for _ in 0..n / 10 {
        std::hint::black_box(web::api::preview(req));
    }
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(web::api::preview(req));
    }
    let preview_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(run());
    }
    let keystroke_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{{\"preview_us\": {preview_us:.1}, \"keystroke_us\": {keystroke_us:.1}, \"iterations\": {n}}}");
}
