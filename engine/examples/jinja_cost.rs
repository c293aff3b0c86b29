//! Render loops for instruction counting (`valgrind --tool=callgrind`), which unlike wall
//! time is repeatable on a noisy machine. Modes: `raw` (minijinja with a context built once),
//! `rawctx` (minijinja with the context built per render, as a server must), `engine` (the
//! engine's Jinja path, same template), `default` (the built-in Yealink writer, same 10 BLF
//! keys), `none`.
//! `scripts/bench.sh` runs them beside Python Jinja2.
#![allow(clippy::unwrap_used, missing_docs)]

use minijinja::{context, Environment};
use std::sync::Arc;
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let tpl_ours = include_str!("../../tests/fixtures/yealink/blf10.j2").to_owned();
    let tpl_raw = tpl_ours
        .replace("user.display_name", "user.name")
        .replace("user.extension", "user.ext")
        .replace("user.auth_name", "user.auth")
        .replace("k.extension", "k.ext");
    let mut env = Environment::new();
    env.set_fuel(Some(2_000_000));
    env.add_template("t", &tpl_raw).unwrap();
    let t = env.get_template("t").unwrap();
    let mk = || {
        let blf: Vec<_> = (0..10)
            .map(|i| context! {ext => (200+i).to_string(), label => format!("User {i}")})
            .collect();
        context! {user => context!{name => "Irina Smirnova", ext => "204", auth => "204", password => "1c9709222690713dd"}, pbx => context!{host => "172.16.156.223", port => 5060}, blf => blf}
    };
    let mut r = engine::Renderer::new();
    r.set_template(engine::Template {
        name: "b".into(),
        vendor: engine::Vendor::Yealink,
        style: engine::TemplateStyle::Jinja,
        composition: engine::Composition::Replace,
        source: tpl_ours,
    })
    .unwrap();
    let mut p = engine::reference_profile(engine::Vendor::Yealink);
    p.blf = (0..10)
        .map(|i| engine::BlfKey {
            extension: (200 + i).to_string(),
            label: format!("User {i}"),
            line: 1,
            pickup_prefix: String::new(),
        })
        .collect();
    let p = Arc::new(p);
    let none = engine::AdditionalParams::default();
    let ctx = mk();
    match mode.as_str() {
        "raw" => {
            for _ in 0..n {
                std::hint::black_box(t.render(&ctx).unwrap());
            }
        }
        "rawctx" => {
            for _ in 0..n {
                std::hint::black_box(t.render(mk()).unwrap());
            }
        }
        "engine" => {
            for _ in 0..n {
                std::hint::black_box(r.render_config(&p, Some("b"), &none).unwrap());
            }
        }
        "default" => {
            for _ in 0..n {
                std::hint::black_box(engine::default_config(&p).unwrap());
            }
        }
        _ => {}
    }
}
