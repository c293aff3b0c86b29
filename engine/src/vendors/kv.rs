//! The `key = value` config syntax shared by Yealink and Htek: merge a list of settings into
//! a config, overriding keys in place and appending new ones.

use crate::error::Result;
use crate::params::{AdditionalParams, Param, Section};

/// Merges `(key, value)` pairs into `config`. A key already present is rewritten in place
/// (every occurrence); a new key is appended at the end, in the order given. Lines that are
/// not settings (the `#!version` header, comments) are kept as they are.
pub(crate) fn merge<'a>(
    config: &str,
    settings: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut lines: Vec<String> = config.lines().map(str::to_owned).collect();
    let mut appended: Vec<String> = Vec::new();
    for (key, value) in settings {
        let mut found = false;
        for l in &mut lines {
            if line_key(l) == Some(key) {
                *l = format!("{key} = {value}");
                found = true;
            }
        }
        if !found {
            match appended.iter_mut().find(|l| line_key(l) == Some(key)) {
                Some(l) => *l = format!("{key} = {value}"),
                None => appended.push(format!("{key} = {value}")),
            }
        }
    }
    let mut out = String::with_capacity(config.len() + appended.len() * 40);
    for l in lines.iter().chain(appended.iter()) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Merges Additional Parameters lines into `config`.
pub(crate) fn apply_params(config: &str, params: &[&Param]) -> String {
    merge(
        config,
        params.iter().map(|p| (p.key.as_str(), p.value.as_str())),
    )
}

/// Merges a template's output, itself `key = value` lines, into `config`. The `#!version`
/// header and comments of the overlay are ignored; any other line must be a setting.
pub(crate) fn overlay(config: &str, overlay: &str, section: Section) -> Result<String> {
    let params = AdditionalParams::parse_section_body(section, overlay)?;
    let refs: Vec<&Param> = params.iter().collect();
    Ok(apply_params(config, &refs))
}

/// The key of a `key = value` line, `None` for comments and other lines.
pub(crate) fn line_key(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    let (k, _) = t.split_once('=')?;
    let k = k.trim_end();
    (!k.is_empty()).then_some(k)
}

/// Appends `key = value\n` with the value made [`line_safe`](super::line_safe).
pub(crate) fn push(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    out.push_str(&super::line_safe(value));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn overrides_in_place_and_appends() {
        let cfg = "#!version:1.0.0.1\na.b = 1\n# note\nc.d = 2\n";
        let out = merge(
            cfg,
            [("c.d", "3"), ("e.f", "4"), ("a.b", "5"), ("e.f", "6")],
        );
        assert_eq!(
            out,
            "#!version:1.0.0.1\na.b = 5\n# note\nc.d = 3\ne.f = 6\n"
        );
    }

    #[test]
    fn overlay_skips_header_and_refuses_junk() {
        let cfg = "#!version:1.0.0.1\na = 1\n";
        let out = overlay(cfg, "#!version:1.0.0.1\na = 2\n", Section::Yealink).unwrap();
        assert_eq!(out, "#!version:1.0.0.1\na = 2\n");
        let e = overlay(cfg, "a = 2\njunk\n", Section::Yealink).unwrap_err();
        assert_eq!(e.line(), Some(2));
    }
}
