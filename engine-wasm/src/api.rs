//! The exports' JSON in and out, as plain Rust (the wasm exports wrap these one to one).

use engine::{Diagnostic, DiagnosticSource, PreviewRequest, TemplateDraft, Vendor};
use serde::Serialize;

// The answers are written as typed structs straight to text (no `serde_json::Value` in the
// page's wasm: it costs a second serializer and a map type). The two a keystroke makes (a
// preview, its diff) are written by hand below, the same bytes as serde_json's, in a third
// of its time: every field through serde_json is a handful of small writes.

/// `preview(request)`: see the crate docs.
pub fn preview(request: &str) -> String {
    match serde_json::from_str::<PreviewRequest>(request) {
        Ok(req) => match engine::preview(&req) {
            Ok(p) => preview_json(&p),
            Err(d) => failed(&d),
        },
        Err(e) => failed(&[bad_json("request", &e)]),
    }
}

/// `{ok, preview?, diagnostics?, sample?}`.
#[derive(Serialize)]
struct Answer<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<&'a engine::Preview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostics: Option<&'a [Diagnostic]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample: Option<&'a Sample>,
}

/// The sample data as [`PreviewRequest`] fields.
#[derive(Serialize)]
struct Sample {
    vendor: Vendor,
    model: String,
    mac: engine::Mac,
    site: Option<SampleSite>,
    user: Option<SampleUser>,
    blf: Vec<engine::BlfKey>,
    base_url: Option<String>,
}

#[derive(Serialize)]
struct SampleSite {
    pbx_host: String,
    pbx_port: u16,
    ntp_server: Option<String>,
    timezone: Option<String>,
    language: Option<String>,
    poll_interval_minutes: u32,
    additional_params: String,
}

#[derive(Serialize)]
struct SampleUser {
    extension: String,
    auth_name: String,
    sip_password: String,
    display_name: String,
}

/// `checkTemplate(template)`: see the crate docs.
pub fn check_template(template: &str) -> String {
    // The vendor is required: a draft without one is refused as the text missing it.
    let d = match serde_json::from_str::<TemplateDraft>(template) {
        Ok(t) => match t.into_template(Some("draft"), None) {
            Ok(t) => engine::check_template(&t),
            Err(e) => vec![input("template", e.detail())],
        },
        Err(e) => vec![bad_json("template", &e)],
    };
    to_json(&d)
}

/// `checkParams(text, vendor)`: see the crate docs.
pub fn check_params(text: &str, vendor: Option<&str>) -> String {
    let vendor = match vendor.map(str::parse::<Vendor>).transpose() {
        Ok(v) => v,
        Err(e) => return to_json(&[input("vendor", e.detail())]),
    };
    to_json(&engine::check_params(text, vendor))
}

/// `diff(old, new)`: see the crate docs.
pub fn diff(old: &str, new: &str) -> String {
    diff_json(&engine::diff_lines(old, new))
}

/// `{"ok":true,"preview":{...}}`, as serde_json writes [`Answer`] with a preview.
fn preview_json(p: &engine::Preview) -> String {
    let engine::Preview {
        file,
        content_type,
        config,
        default_config,
    } = p;
    let mut out =
        String::with_capacity(96 + (file.len() + config.len() + default_config.len()) * 9 / 8);
    out.push_str(r#"{"ok":true,"preview":{"file":"#);
    push_str_json(&mut out, file);
    out.push_str(r#","content_type":"#);
    push_str_json(&mut out, content_type);
    out.push_str(r#","config":"#);
    push_str_json(&mut out, config);
    out.push_str(r#","default_config":"#);
    push_str_json(&mut out, default_config);
    out.push_str("}}");
    out
}

/// The rows as serde_json writes a `Vec<DiffRow>`.
fn diff_json(rows: &[engine::DiffRow]) -> String {
    let text: usize = rows
        .iter()
        .map(|r| r.old.as_deref().map_or(0, str::len) + r.new.as_deref().map_or(0, str::len))
        .sum();
    let mut out = String::with_capacity(2 + rows.len() * 64 + text * 9 / 8);
    out.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(match r.kind {
            engine::DiffKind::Same => r#"{"kind":"same","old_line":"#,
            engine::DiffKind::Added => r#"{"kind":"added","old_line":"#,
            engine::DiffKind::Removed => r#"{"kind":"removed","old_line":"#,
            engine::DiffKind::Changed => r#"{"kind":"changed","old_line":"#,
        });
        push_opt_usize(&mut out, r.old_line);
        out.push_str(r#","new_line":"#);
        push_opt_usize(&mut out, r.new_line);
        out.push_str(r#","old":"#);
        push_opt_str(&mut out, r.old.as_deref());
        out.push_str(r#","new":"#);
        push_opt_str(&mut out, r.new.as_deref());
        out.push('}');
    }
    out.push(']');
    out
}

fn push_opt_usize(out: &mut String, n: Option<usize>) {
    match n {
        Some(mut n) => {
            let mut digits = [0u8; 20];
            let mut i = digits.len();
            loop {
                i -= 1;
                // `n % 10` is a single digit.
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            digits[i..].iter().for_each(|&d| out.push(char::from(d)));
        }
        None => out.push_str("null"),
    }
}

fn push_opt_str(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_str_json(out, s),
        None => out.push_str("null"),
    }
}

/// `s` as a JSON string, escaped as serde_json escapes it: `"`, `\\`, and the control
/// characters below U+0020 (`\n`, `\t`, ... or `\u00XX`); everything else as it is.
fn push_str_json(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    // A plain index loop: the page's wasm is built for size, where iterator adapters are
    // calls, and this runs once a byte.
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // Every byte escaped is ASCII: a char boundary on both sides.
        out.push_str(&s[start..i - 1]);
        start = i;
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
                continue;
            }
        };
        out.push_str(esc);
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `vendors()`: see the crate docs.
pub fn vendors() -> String {
    to_json(&engine::vendors())
}

/// `starCodePattern(text)`: how the site's star-code setting is understood
/// ([`engine::StarCodePattern`]): `{ok: true, understood}` or `{ok: false, diagnostics}` (the
/// field's error, as saving would give it). Empty is `{ok: true}`: off.
pub fn star_code_pattern(text: &str) -> String {
    #[derive(Serialize)]
    struct Understood {
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        understood: Option<String>,
    }
    if text.is_empty() {
        return to_json(&Understood {
            ok: true,
            understood: None,
        });
    }
    match engine::StarCodePattern::parse(text) {
        Ok(p) => to_json(&Understood {
            ok: true,
            understood: Some(p.understood()),
        }),
        Err(e) => failed(&[input("star_code_pattern", e.detail())]),
    }
}

/// `sample(vendor)`: `{ok: true, sample: {...}}`, the sample data as request fields.
pub fn sample(vendor: &str) -> String {
    let vendor = match vendor.parse::<Vendor>() {
        Ok(v) if v.is_provisioned() => v,
        Ok(_) => return failed(&[input("vendor", "this vendor's configs are not rendered")]),
        Err(e) => return failed(&[input("vendor", e.detail())]),
    };
    let p = engine::sample_profile(vendor);
    let site = p.lines.first().map(|l| SampleSite {
        pbx_host: l.server_host.clone(),
        pbx_port: l.server_port,
        ntp_server: p.ntp_server.clone(),
        timezone: p.timezone.as_ref().map(|t| t.name().to_owned()),
        language: p.language.map(|l| l.code().to_owned()),
        poll_interval_minutes: p.poll_interval_minutes,
        additional_params: String::new(),
    });
    let user = p.lines.first().map(|l| SampleUser {
        extension: l.extension.clone(),
        auth_name: l.auth_name.clone(),
        sip_password: l.password.expose().clone(),
        display_name: l.display_name.clone(),
    });
    let sample = Sample {
        vendor,
        model: p.device.model.clone(),
        mac: p.device.mac,
        site,
        user,
        blf: p.blf.clone(),
        base_url: p.provisioning_url.clone(),
    };
    to_json(&Answer {
        ok: true,
        preview: None,
        diagnostics: None,
        sample: Some(&sample),
    })
}

fn failed(d: &[Diagnostic]) -> String {
    to_json(&Answer {
        ok: false,
        preview: None,
        diagnostics: Some(d),
        sample: None,
    })
}

fn input(field: &'static str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        source: DiagnosticSource::Input,
        line: None,
        column: None,
        message: message.into(),
        field: Some(field),
    }
}

/// A request that is not the JSON expected: where serde_json stopped, in the request text.
fn bad_json(field: &'static str, e: &serde_json::Error) -> Diagnostic {
    Diagnostic {
        line: Some(e.line()).filter(|l| *l > 0),
        column: Some(e.column()).filter(|c| *c > 0),
        ..input(field, e.to_string())
    }
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> String {
    // Serialising these plain types (strings, numbers, options) cannot fail; an empty
    // list keeps the contract should it ever.
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn the_star_code_setting_is_said_as_understood_or_refused_at_its_field() {
        assert_eq!(
            parse(&star_code_pattern("*123*XXX")),
            json!({"ok": true, "understood": "*123* followed by a 3-digit extension"})
        );
        assert_eq!(
            parse(&star_code_pattern("*123*")),
            json!({"ok": true, "understood": "any extension after *123*"})
        );
        assert_eq!(parse(&star_code_pattern("")), json!({"ok": true}));
        let bad = parse(&star_code_pattern("*123*2a"));
        assert_eq!(bad["ok"], json!(false));
        assert_eq!(bad["diagnostics"][0]["field"], json!("star_code_pattern"));
    }

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn preview_round_trip_and_diagnostics() {
        let ok = parse(&preview(
            r#"{"vendor": "yealink", "template": {"style": "jinja", "source": "account.1.label = {{ user.extension }}!\n"}}"#,
        ));
        assert_eq!(ok["ok"], true, "{ok}");
        let cfg = ok["preview"]["config"].as_str().unwrap();
        assert!(cfg.contains("account.1.label = 204!\n"), "{cfg}");
        assert_eq!(ok["preview"]["file"], "001565123456.cfg");
        let bad = parse(&preview(
            r#"{"vendor": "yealink", "template": {"style": "jinja", "source": "a = 1\nb = 2\nc = {% if %}\n"}}"#,
        ));
        assert_eq!(bad["ok"], false);
        let d = &bad["diagnostics"][0];
        assert_eq!(
            (d["source"].as_str(), d["line"].as_u64()),
            (Some("template"), Some(3))
        );
        assert!(d["column"].as_u64().is_some());
        let garbled = parse(&preview("{\"vendor\": \"yealink\",\n \"nope\": 1}"));
        assert_eq!(garbled["diagnostics"][0]["field"], "request");
        assert_eq!(garbled["diagnostics"][0]["line"], 2);
    }

    #[test]
    fn sample_feeds_back_into_preview() {
        for v in Vendor::PROVISIONED {
            let s = parse(&sample(v.as_str()));
            let mut req = s["sample"].clone();
            req["reveal_secrets"] = json!(true);
            let out = parse(&preview(&req.to_string()));
            assert_eq!(out["ok"], true, "{v}: {out}");
        }
        assert_eq!(parse(&sample("ale"))["ok"], false);
    }

    #[test]
    fn hand_written_json_is_serde_jsons() {
        let tricky = "a\"b\\c\nd\r\te\u{8}\u{c}\u{1}\u{1f}\u{7f} é ☎ </x>\n";
        let p = engine::Preview {
            file: "001565123456.cfg".to_owned(),
            content_type: "text/plain",
            config: format!("{tricky}x = 1\n"),
            default_config: tricky.to_owned(),
        };
        let answer = Answer {
            ok: true,
            preview: Some(&p),
            diagnostics: None,
            sample: None,
        };
        assert_eq!(preview_json(&p), serde_json::to_string(&answer).unwrap());
        let old = format!("same\n{tricky}gone\nx\n");
        let new = format!("same\nnew {tricky}y\nz\n\n");
        let rows = engine::diff_lines(&old, &new);
        assert!(rows.len() > 4);
        assert_eq!(diff_json(&rows), serde_json::to_string(&rows).unwrap());
        assert_eq!(diff_json(&[]), "[]");
        let req = include_str!("../../tests/fixtures/yealink/preview40.json");
        let out = parse(&preview(req));
        let (a, b) = (
            out["preview"]["default_config"].as_str().unwrap(),
            out["preview"]["config"].as_str().unwrap(),
        );
        let rows = engine::diff_lines(a, b);
        assert_eq!(diff_json(&rows), serde_json::to_string(&rows).unwrap());
        assert_eq!(
            push_opt_usize_str(Some(0))
                + &push_opt_usize_str(Some(1_234_567))
                + &push_opt_usize_str(None),
            "01234567null"
        );
    }

    fn push_opt_usize_str(n: Option<usize>) -> String {
        let mut s = String::new();
        push_opt_usize(&mut s, n);
        s
    }

    #[test]
    fn checks_diff_and_vendors() {
        let d = parse(&check_template(
            r#"{"vendor": "snom", "style": "jinja", "composition": "replace", "source": "<a>\n</b>"}"#,
        ));
        assert_eq!(d[0]["source"], "output");
        assert_eq!(d[0]["line"], 2);
        // The vendor is required, any case; the name defaults to `draft`.
        let d = parse(&check_template(r#"{"source": "a = 1\n"}"#));
        assert_eq!(
            (&d[0]["field"], &d[0]["message"]),
            (&json!("template"), &json!("missing field `vendor`"))
        );
        assert_eq!(
            parse(&check_template(
                r#"{"vendor": "Yealink", "source": "a = 1\n"}"#
            )),
            json!([])
        );
        let d = parse(&check_template(r#"{"vendor": "acme", "source": ""}"#));
        assert!(
            d[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("unknown vendor \"acme\""),
            "{d}"
        );
        assert_eq!(
            parse(&check_params("[yealink]\nx = 1\n", Some("yealink"))),
            json!([])
        );
        assert_eq!(parse(&check_params("[yealink]\nx\n", None))[0]["line"], 2);
        assert_eq!(parse(&check_params("", Some("acme")))[0]["field"], "vendor");
        let rows = parse(&diff("a\nb\n", "a\nc\n"));
        assert_eq!(rows[1]["kind"], "changed");
        assert_eq!(parse(&vendors())[4]["vendor"], "htek");
    }
}
