//! Template validation: any source, in either style, for any vendor, is accepted or refused
//! with an error, never a panic; an accepted template renders or errors cleanly.
#![no_main]
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(source) = std::str::from_utf8(rest) else { return };
    let vendor = engine::Vendor::PROVISIONED[usize::from(sel % 5)];
    let style = if sel & 0x10 == 0 { engine::TemplateStyle::Jinja } else { engine::TemplateStyle::Placeholder };
    let composition = if sel & 0x20 == 0 { engine::Composition::Replace } else { engine::Composition::Overlay };
    let t = engine::Template { name: "fuzz".into(), vendor, style, composition, source: source.into() };
    let mut r = engine::Renderer::new();
    if r.set_template(t).is_ok() {
        let p = Arc::new(engine::reference_profile(vendor));
        let _ = r.render_config(&p, Some("fuzz"), &engine::AdditionalParams::default());
    }
});
