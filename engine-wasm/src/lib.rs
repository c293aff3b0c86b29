//! The engine in the browser: the template editor's live preview, its checks and its diff,
//! through wasm-bindgen. The page and the edge and the relay call the same engine functions
//! ([`engine::preview`], [`engine::check_template`], [`engine::check_params`],
//! [`engine::diff_lines`]), so a preview cannot differ from what a phone receives.
//!
//! Every export takes and returns JSON strings (smaller than `serde-wasm-bindgen` here and
//! the same on both sides of the boundary) and never throws: a bad request is a diagnostic
//! like any other. The JSON logic lives in [`api`] (plain Rust, tested natively); the
//! `#[wasm_bindgen]` exports are thin wrappers, compiled only for wasm.
//!
//! | export | takes | returns |
//! |---|---|---|
//! | `preview(request)` | an [`engine::PreviewRequest`] as JSON | `{"ok": true, "preview": {file, content_type, config, default_config}}` or `{"ok": false, "diagnostics": [...]}` |
//! | `checkTemplate(template)` | `{name?, vendor, style?, composition?, source}` | `[diagnostic, ...]` (empty: it would be saved) |
//! | `checkParams(text, vendor?)` | the Additional Parameters, a vendor name or none | `[diagnostic, ...]` |
//! | `diff(old, new)` | two texts | `[{kind, old_line, new_line, old, new}, ...]` |
//! | `vendors()` | | `[{vendor, display_name, configured, redirect_only, rps, syntax, content_type, models, config_file, firmware_extensions, param_sections}, ...]`, every vendor |
//! | `sample(vendor)` | a vendor name | the sample data as request fields (`site`, `user`, `blf`, ...) |
//! | `starCodePattern(text)` | a site's `star_code_pattern` | `{"ok": true, "understood"?}` (none: off) or `{"ok": false, "diagnostics": [...]}` |
//!
//! A diagnostic is `{source: "template"|"params"|"output"|"input", line, column, message,
//! field?}`.
#![forbid(unsafe_code)]

pub mod api;

/// The `#[wasm_bindgen]` exports (wasm only).
#[cfg(target_family = "wasm")]
pub mod bindings {
    use wasm_bindgen::prelude::wasm_bindgen;

    /// Renders a preview: request JSON in, `{ok, preview | diagnostics}` JSON out.
    #[wasm_bindgen]
    pub fn preview(request: &str) -> String {
        crate::api::preview(request)
    }

    /// Checks a template as saving it would; the diagnostics as JSON.
    #[wasm_bindgen(js_name = checkTemplate)]
    pub fn check_template(template: &str) -> String {
        crate::api::check_template(template)
    }

    /// Checks Additional Parameters (and, with a vendor, their merge); diagnostics as JSON.
    #[wasm_bindgen(js_name = checkParams)]
    pub fn check_params(text: &str, vendor: Option<String>) -> String {
        crate::api::check_params(text, vendor.as_deref())
    }

    /// Side-by-side diff rows from `old` to `new`, as JSON.
    #[wasm_bindgen]
    pub fn diff(old: &str, new: &str) -> String {
        crate::api::diff(old, new)
    }

    /// The vendors, their models and config file names, as JSON.
    #[wasm_bindgen]
    pub fn vendors() -> String {
        crate::api::vendors()
    }

    /// How the site's star-code setting is understood, or its error, as JSON.
    #[wasm_bindgen(js_name = starCodePattern)]
    pub fn star_code_pattern(text: &str) -> String {
        crate::api::star_code_pattern(text)
    }

    /// The sample data for `vendor`, as request fields, as JSON.
    #[wasm_bindgen]
    pub fn sample(vendor: &str) -> String {
        crate::api::sample(vendor)
    }
}
