//! Additional Parameters: parsing never panics, and whatever parses merges into every
//! vendor's config without panicking.
#![no_main]
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(params) = engine::AdditionalParams::parse(text) else { return };
    let r = engine::Renderer::new();
    for v in engine::Vendor::PROVISIONED {
        let p = Arc::new(engine::reference_profile(v));
        let _ = r.render_config(&p, None, &params);
    }
});
