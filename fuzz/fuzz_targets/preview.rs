//! The preview (the web page's input, the CLI's files): any template and Additional
//! Parameters, in any style, composition and vendor, with or without a user, give a
//! preview or diagnostics, never a panic; the diff of any two texts too.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (source, params) = text.split_once('\u{0}').unwrap_or((text, ""));
    let vendor = engine::Vendor::ALL[usize::from(sel % 6)];
    let mut req = engine::PreviewRequest::sample(vendor);
    req.unbound = sel & 0x40 != 0;
    req.reveal_secrets = sel & 0x80 != 0;
    req.additional_params = Some(params.to_owned());
    req.template = Some(engine::TemplateDraft {
        name: None,
        vendor: None,
        style: if sel & 0x10 == 0 { engine::TemplateStyle::Jinja } else { engine::TemplateStyle::Placeholder },
        composition: if sel & 0x20 == 0 { engine::Composition::Replace } else { engine::Composition::Overlay },
        source: source.to_owned(),
    });
    if let Ok(p) = engine::preview(&req) {
        let _ = engine::diff_lines(&p.default_config, &p.config);
    }
    let _ = engine::check_params(params, Some(vendor));
    let _ = engine::diff_lines(source, params);
    let _ = engine::unified_diff(source, params, "a", "b");
});
