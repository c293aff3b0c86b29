//! Peak memory of rendering the worst templates the bounds let through (issue 15, finding
//! 8): the process's peak resident size (VmHWM, reset through /proc/self/clear_refs) around
//! one render. The workspace forbids `unsafe`, so no counting allocator; the figure is
//! printed (run with `--nocapture`, one test thread); the assertion is the bound.
#![allow(clippy::unwrap_used, missing_docs)]
#![cfg(target_os = "linux")]

use std::sync::Arc;

use engine::{
    reference_profile, validate_template, Composition, Renderer, Template, TemplateStyle, Vendor,
};

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn jinja(source: String) -> Template {
    Template {
        name: "t".into(),
        vendor: Vendor::Yealink,
        style: TemplateStyle::Jinja,
        composition: Composition::Replace,
        source,
    }
}

/// Renders case `i` of [`cases`] in this process and prints its peak resident size.
fn child(i: usize) {
    let (_, src) = cases().swap_remove(i);
    let mut r = Renderer::new();
    r.load_saved(jinja(src)).unwrap();
    let p = Arc::new(reference_profile(Vendor::Yealink));
    let base = status_kib("VmHWM:");
    let ok = r.render_template("t", &p).is_ok();
    println!("PEAK {} {} {ok}", base, status_kib("VmHWM:"));
}

fn cases() -> Vec<(&'static str, String)> {
    let lit = "y".repeat(200_000);
    let rep = "'x' * 60000";
    let joined = vec!["user.display_name|replace('', 'abcdefgh' * 100)"; 64].join(" ~ ");
    vec![
        // Literal text up to the output cap.
        ("raw text in a loop", format!("{{% for i in range(100) %}}{lit}{{% endfor %}}")),
        // Printed values up to the budget.
        ("printed values", format!("{{% for i in range(100000) %}}{{{{ {rep} }}}}{{% endfor %}}")),
        // Growing filters, each within the budget, in a loop.
        (
            "growing filters",
            format!("{{% for i in range(100000) %}}{{% set a = ({rep})|replace('x', 'abcdefghijklmno') %}}{{% endfor %}}"),
        ),
        // The longest chain of joins the check allows, of filter results.
        ("joined filter results", format!("{{% for i in range(1000) %}}{{% set a = {joined} %}}{{% endfor %}}")),
        // Sequences built by filters.
        (
            "lists",
            "{% for i in range(100000) %}{% set a = ('x' * 30000)|list %}{% endfor %}".to_owned(),
        ),
        // Sequence filters whose count, not their input, sets the size.
        ("batch count", "{{ [1]|batch(20000000, 'x')|length }}".to_owned()),
        ("slice count", "{{ []|slice(20000000)|length }}".to_owned()),
        // A macro printing up to the budget into its captured output.
        (
            "macro capture",
            format!("{{% macro m() %}}{{% for i in range(100000) -%}}{{{{ {rep} }}}}{{%- endfor %}}{{% endmacro %}}{{{{ m() }}}}"),
        ),
    ]
}

#[test]
fn the_worst_accepted_templates_stay_within_tens_of_mib() {
    if let Ok(i) = std::env::var("TEMPLATE_MEMORY_CASE") {
        return child(i.parse().unwrap());
    }
    let mut worst = 0;
    for (i, (name, src)) in cases().into_iter().enumerate() {
        // Each passes the save-time check (a render error is allowed: it is the bound).
        if let Err(e) = validate_template(&jinja(src)) {
            assert_eq!(e.kind(), engine::ErrorKind::TemplateRender, "{name}: {e}");
        }
        // A fresh process per case: its peak resident size is this render's.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "the_worst_accepted_templates_stay_within_tens_of_mib",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TEMPLATE_MEMORY_CASE", i.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: the render process died: {out:?}"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find_map(|l| l.split("PEAK ").nth(1)).unwrap();
        let f: Vec<&str> = line.split(' ').collect();
        let (base, peak): (usize, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let grew = peak.saturating_sub(base) * 1024;
        println!(
            "{name}: peak resident +{} KiB during the render (render ok: {})",
            grew / 1024,
            f[2]
        );
        worst = worst.max(grew);
    }
    println!("worst: {} KiB", worst / 1024);
    assert!(worst < 64 << 20, "peak {worst} bytes");
}
