//! Criterion benchmarks. Report each figure beside its peer from the same run (see
//! `../shared/bench/`): `python3 ../shared/bench/jinja2_yealink.py` renders the same
//! Yealink template with Python Jinja2. Run pinned to one core:
//! `taskset -c 0 cargo bench -p engine --bench render`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use engine::{
    default_config, detect, merge_contacts, reference_profile, render_phonebook,
    sample_profile_with, AdditionalParams, BlfKey, Composition, Contact, PhoneRequest, Renderer,
    Template, TemplateStyle, Vendor,
};

/// The peer's template (shared/bench/jinja2_yealink.py) in this engine's context names; the
/// golden test checks its output too.
const YEALINK_JINJA: &str = include_str!("../../tests/fixtures/yealink/blf10.j2");

fn profile_with_blf(n: usize) -> Arc<engine::Profile> {
    let mut p = reference_profile(Vendor::Yealink);
    p.blf = (0..n)
        .map(|i| BlfKey {
            extension: (200 + i).to_string(),
            label: format!("User {i}"),
            line: 1,
            pickup_prefix: String::new(),
        })
        .collect();
    Arc::new(p)
}

fn defaults(c: &mut Criterion) {
    let mut g = c.benchmark_group("default_config");
    g.throughput(Throughput::Elements(1));
    for v in Vendor::PROVISIONED {
        let p = reference_profile(v);
        g.bench_function(v.as_str(), |b| {
            b.iter(|| default_config(black_box(&p)).unwrap())
        });
    }
    g.finish();
}

fn jinja(c: &mut Criterion) {
    let mut r = Renderer::new();
    r.set_template(Template {
        name: "bench".into(),
        vendor: Vendor::Yealink,
        style: TemplateStyle::Jinja,
        composition: Composition::Replace,
        source: YEALINK_JINJA.into(),
    })
    .unwrap();
    let none = AdditionalParams::default();
    let mut g = c.benchmark_group("jinja_yealink");
    g.throughput(Throughput::Elements(1));
    for n in [0, 10, 40] {
        let p = profile_with_blf(n);
        g.bench_function(format!("blf{n}"), |b| {
            b.iter(|| {
                r.render_config(black_box(&p), Some("bench"), &none)
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn full_pipeline(c: &mut Criterion) {
    // Default config + Additional Parameters merge, the common case for a site with params.
    let params = AdditionalParams::parse(
        "[yealink]\nlocal_time.ntp_server1 = ntp.example.com\nfeatures.new_key = 1\n",
    )
    .unwrap();
    let r = Renderer::new();
    let p = Arc::new(sample_profile_with(Vendor::Yealink, 10));
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(1));
    g.bench_function("yealink_full_with_params", |b| {
        b.iter(|| r.render_config(black_box(&p), None, &params).unwrap())
    });
    g.finish();
}

fn detection(c: &mut Criterion) {
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(1));
    let req = PhoneRequest {
        path: "/p/001565aabbcc.cfg",
        user_agent: Some("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"),
        pnp: None,
        lan_mac: None,
    };
    g.bench_function("yealink_device_config", |b| {
        b.iter(|| detect(black_box(&req), &[]))
    });
    let req = PhoneRequest {
        path: "/Grandstream/cfg000b828aa872.xml",
        user_agent: Some("Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872"),
        pnp: None,
        lan_mac: None,
    };
    g.bench_function("grandstream_device_config", |b| {
        b.iter(|| detect(black_box(&req), &[]))
    });
    g.finish();
}

fn phonebook(c: &mut Criterion) {
    let users: Vec<Contact> = (0..1000)
        .map(|i| Contact {
            name: format!("User {i} & Co"),
            number: format!("{}", 1000 + i),
        })
        .collect();
    let mut g = c.benchmark_group("phonebook_1000");
    g.throughput(Throughput::Elements(1));
    g.bench_function("merge", |b| {
        b.iter(|| merge_contacts([black_box(&users[..])]))
    });
    let merged = merge_contacts([&users[..]]);
    for v in Vendor::PROVISIONED {
        g.bench_function(v.as_str(), |b| {
            b.iter(|| render_phonebook(v, "Office", black_box(&merged)).unwrap())
        });
    }
    g.finish();
}

/// The web page's keystroke: a whole preview of the 40-BLF-key Yealink Jinja template
/// (compile, render, default config), then the diff against the default. The wasm figure
/// for the same request: `scripts/bench-wasm.sh`.
fn preview(c: &mut Criterion) {
    let req: engine::PreviewRequest =
        serde_json::from_str(include_str!("../../tests/fixtures/yealink/preview40.json")).unwrap();
    let mut g = c.benchmark_group("preview");
    g.throughput(Throughput::Elements(1));
    g.bench_function("yealink_jinja_blf40", |b| {
        b.iter(|| engine::preview(black_box(&req)).unwrap())
    });
    let p = engine::preview(&req).unwrap();
    g.bench_function("diff_blf40_vs_default", |b| {
        b.iter(|| engine::diff_lines(black_box(&p.default_config), black_box(&p.config)))
    });
    g.finish();
}

criterion_group!(
    benches,
    defaults,
    jinja,
    full_pipeline,
    detection,
    phonebook,
    preview
);
criterion_main!(benches);
