//! Templates, in two styles chosen per template:
//!
//! * **Placeholder** templates, compatible with MikoPBX's module: the tokens `{SIP_NUM}`,
//!   `{SIP_USER_NAME}`, `{SIP_PASS}`, `{PBX_HOST}` and `{FIRMWARE_URL}` are replaced at
//!   delivery time (plus `{SIP_DISPLAY_NAME}`, `{PBX_PORT}`, `{MAC}`, `{MODEL}`,
//!   `{PHONEBOOK_URL}`, `{NTP_SERVER}`), so a MikoPBX user can paste their templates
//!   unchanged. In XML outputs the substituted values are XML-escaped.
//! * **Jinja** templates through minijinja: strict undefined (a typo is an error, not an
//!   empty string), a fuel limit (no template can loop forever), auto-escaping for XML
//!   outputs. The context is documented on [`Renderer`].
//!
//! A template either **overlays** the vendor's default config (its output, in the vendor's
//! syntax, is merged over the generated config: the MikoPBX semantics, where an empty
//! template yields the default config) or **replaces** it (its output is the whole file).
//! Additional Parameters are merged on top in both cases.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::inputs::Profile;
use crate::vendors::{ConfigSyntax, Vendor};
use crate::xml;

/// How a template is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateStyle {
    /// MikoPBX-style `{PLACEHOLDER}` tokens.
    #[default]
    Placeholder,
    /// Jinja syntax, rendered by minijinja.
    Jinja,
}

/// How a template's output combines with the vendor's default config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Composition {
    /// Merged over the default config (settings override in place, new ones are added).
    #[default]
    Overlay,
    /// The whole file; the default config is not used.
    Replace,
}

/// A template as an administrator saved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Unique name.
    pub name: String,
    /// The vendor whose config syntax the template produces.
    pub vendor: Vendor,
    /// Placeholder or Jinja.
    #[serde(default)]
    pub style: TemplateStyle,
    /// Overlay or replace.
    #[serde(default)]
    pub composition: Composition,
    /// The template text.
    pub source: String,
}

/// The longest template accepted, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 256 * 1024;
/// Fuel (VM instructions) a single Jinja render may use.
pub(crate) const FUEL: u64 = 2_000_000;
const XML_ESCAPE: &str = "xml";

/// Compiles, validates and renders templates. Compiled Jinja templates are cached, so a
/// render costs only the template's execution.
///
/// # Jinja context
/// | name | value |
/// |---|---|
/// | `device` | `vendor`, `model`, `mac` (`001565aabbcc`), `mac_upper`, `mac_colon` |
/// | `user` | the first line (see `lines`), or none for an unbound phone |
/// | `lines` | list of `index` (1-based), `extension`, `auth_name`, `password`, `display_name`, `label` (falls back to the display name), `server_host`, `server_port`, `transport` (`udp`/`tcp`/`tls`), `voicemail` |
/// | `pbx` | `host`, `port`, `transport` of the first line, or none |
/// | `blf` | list of `index` (1-based), `extension`, `label` (falls back to the extension), `line`, `pickup_prefix` |
/// | `settings` | `ntp_server`, `timezone` (IANA name), `utc_offset` (`+1`, `+5:30`), `utc_offset_minutes`, `posix_tz`, `language` (ISO code), `language_name`, `poll_interval_minutes`, `provisioning_url`; absent values are none |
/// | `firmware_url`, `phonebook_url` | strings, or none |
pub struct Renderer {
    env: Environment<'static>,
    templates: HashMap<String, Stored>,
}

/// A saved template and the name it is compiled under in the environment (computed once,
/// not per render).
struct Stored {
    template: Template,
    env_name: String,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    /// An empty renderer.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        crate::template_bound::install(&mut env);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".xml") {
                AutoEscape::Custom(XML_ESCAPE)
            } else {
                AutoEscape::None
            }
        });
        // Every value a template prints is made safe for the output's syntax: XML-escaped
        // for XML, control characters blanked for line-based files, so a display name
        // such as "Eve\naccount.1.sip_server_host = evil" stays one inert value. `|safe`
        // opts out (the template author's own text).
        env.set_formatter(|out, state, value| {
            // Every printed value is charged to the render's budget: output captured by a
            // macro or block never reaches the output cap.
            crate::template_bound::charge_printed(value)?;
            if value.is_safe() {
                return minijinja::escape_formatter(out, state, value);
            }
            let xml_out = state.auto_escape() == AutoEscape::Custom(XML_ESCAPE);
            // Values that need no change (the common case) are written without a copy.
            let written = match (value.as_str(), xml_out) {
                (Some(v), true) if !xml::needs_escape(v) => out.write_str(v),
                (Some(v), true) => {
                    let mut s = String::with_capacity(v.len() + 16);
                    xml::escape_into(v, &mut s);
                    out.write_str(&s)
                }
                (None, true) => {
                    let mut s = String::new();
                    xml::escape_into(&value.to_string(), &mut s);
                    out.write_str(&s)
                }
                (Some(v), false) => out.write_str(&crate::vendors::line_safe(v)),
                (None, false) => return minijinja::escape_formatter(out, state, value),
            };
            written.map_err(minijinja::Error::from)
        });
        Self {
            env,
            templates: HashMap::new(),
        }
    }

    /// Validates `template` (see [`validate_template`]) and stores it, replacing any
    /// template of the same name. On error nothing changes: the previous version keeps
    /// serving.
    pub fn set_template(&mut self, template: Template) -> Result<()> {
        validate_template(&template)?;
        self.load_saved(template)
    }

    /// Stores a template that passed [`validate_template`] when it was saved (a shell
    /// loading it back from storage): compiles it, without rendering the sample again. A
    /// syntax error is still refused, and nothing changes.
    pub fn load_saved(&mut self, template: Template) -> Result<()> {
        // A template stored before the size limit (an old snapshot) is refused as at save.
        check_size(&template)?;
        let env_name = env_name(&template);
        if template.style == TemplateStyle::Jinja {
            // A template saved before the bounds existed, or arriving in a snapshot, is
            // refused here rather than run.
            crate::template_bound::check(&template.source)?;
            self.env
                .add_template_owned(env_name.clone(), template.source.clone())
                .map_err(|e| {
                    jinja_error(
                        &e,
                        &template.source,
                        ErrorKind::TemplateSyntax,
                        Detail::Full,
                    )
                })?;
        }
        self.templates
            .insert(template.name.clone(), Stored { template, env_name });
        Ok(())
    }

    /// Removes a template; returns whether it existed.
    pub fn remove_template(&mut self, name: &str) -> bool {
        match self.templates.remove(name) {
            Some(t) => {
                if t.template.style == TemplateStyle::Jinja {
                    self.env.remove_template(&t.env_name);
                }
                true
            }
            None => false,
        }
    }

    /// The stored template called `name`.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.get(name).map(|s| &s.template)
    }

    /// Renders template `name` for `profile` (its raw output, before any merge).
    pub fn render_template(&self, name: &str, profile: &Arc<Profile>) -> Result<String> {
        let t = self.templates.get(name).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("no template named {name:?}"),
            )
        })?;
        self.render_stored(&t.template, &t.env_name, profile, Detail::Redacted)
    }

    /// The stored template `name` and its compiled name.
    pub(crate) fn stored(&self, name: &str) -> Option<(&Template, &str)> {
        self.templates
            .get(name)
            .map(|s| (&s.template, s.env_name.as_str()))
    }

    /// Renders a stored template's raw output. `detail` says whether errors may quote what
    /// the template engine reports (sample data at save time) or only kind and position
    /// (real data, whose secrets must not reach an error).
    pub(crate) fn render_stored(
        &self,
        t: &Template,
        env_name: &str,
        profile: &Arc<Profile>,
        detail: Detail,
    ) -> Result<String> {
        match t.style {
            TemplateStyle::Placeholder => Ok(substitute(&t.source, profile, is_xml(t))),
            TemplateStyle::Jinja => {
                let tpl = self
                    .env
                    .get_template(env_name)
                    .map_err(|e| jinja_error(&e, &t.source, ErrorKind::TemplateRender, detail))?;
                crate::template_bound::check_profile(profile)?;
                let hint = minijinja::machinery::get_compiled_template(&tpl).buffer_size_hint;
                let mut out = crate::template_bound::CappedOutput(Vec::with_capacity(hint));
                crate::template_bound::begin();
                tpl.render_captured_to(context(profile), &mut out)
                    .map_err(|e| match crate::template_bound::stopped() {
                        Some(why) => located_as(
                            jinja_error(&e, &t.source, ErrorKind::TemplateRender, Detail::Redacted),
                            why,
                        ),
                        None => jinja_error(&e, &t.source, ErrorKind::TemplateRender, detail),
                    })?;
                String::from_utf8(out.0).map_err(|_| {
                    Error::new(
                        ErrorKind::TemplateRender,
                        "the template's output is not UTF-8",
                    )
                })
            }
        }
    }
}

fn env_name(t: &Template) -> String {
    let ext = if is_xml(t) { "xml" } else { "txt" };
    format!("{}.{ext}", t.name)
}

/// `true` when the template is written in XML: its vendor's syntax, or for a vendor whose
/// phones read two (Htek), the one its source is written in.
fn is_xml(t: &Template) -> bool {
    t.vendor
        .syntax_of(&t.source)
        .is_ok_and(ConfigSyntax::is_xml)
}

/// Refuses a template longer than [`MAX_TEMPLATE_BYTES`] (at save and at load).
fn check_size(t: &Template) -> Result<()> {
    if t.source.len() > MAX_TEMPLATE_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "the template is {} KiB; the limit is {} KiB",
                t.source.len() / 1024,
                MAX_TEMPLATE_BYTES / 1024
            ),
        )
        .with_name("source"));
    }
    Ok(())
}

/// Checks a template before it is saved: size, name, syntax (errors carry line and column),
/// a render against sample data (so undefined variables and runtime errors surface now,
/// not on a phone), well-formed XML output for XML vendors, and, for overlays, that the
/// output merges into the vendor's default config.
pub fn validate_template(t: &Template) -> Result<()> {
    if t.name.trim().is_empty() || t.name.len() > 100 || t.name.chars().any(char::is_control) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "a template name must be 1-100 printable characters",
        )
        .with_name("name"));
    }
    check_size(t)?;
    let module = t.vendor.module()?;
    let sample = Arc::new(crate::sample::profile(t.vendor));
    let output = match t.style {
        TemplateStyle::Placeholder => {
            check_placeholders(&t.source)?;
            substitute(&t.source, &sample, is_xml(t))
        }
        TemplateStyle::Jinja => {
            crate::template_bound::check(&t.source)?;
            let mut r = Renderer::new();
            let name = env_name(t);
            r.env
                .add_template_owned(name.clone(), t.source.clone())
                .map_err(|e| jinja_error(&e, &t.source, ErrorKind::TemplateSyntax, Detail::Full))?;
            r.render_stored(t, &name, &sample, Detail::Full)?
        }
    };
    let located = |e: Error| {
        let d = format!("with sample data the output is not valid: {}", e.detail());
        let mut out = Error::new(e.kind(), d).with_name("source");
        if let Some(l) = e.line() {
            out = out.at(l, e.col());
        }
        out
    };
    match t.composition {
        Composition::Replace => {
            if is_xml(t) {
                xml::check_well_formed(&output).map_err(located)?;
            }
        }
        Composition::Overlay => {
            let mut base = String::with_capacity(4096);
            module.write_config_as(&sample, module.syntax_of(&t.source), &mut base);
            module.overlay(&base, &output).map_err(located)?;
        }
    }
    Ok(())
}

/// The example templates the console's "Load examples" adds: one per configured vendor,
/// each from its vendor's home, in placeholder style, overlaying the vendor's default
/// config. Named as MikoPBX's module names the five it seeds (`Yealink (example)`:
/// mikopbx/ModuleAutoprovision `Lib/TemplateSeeder.php`), so a MikoPBX user knows them.
pub fn template_examples() -> Vec<Template> {
    Vendor::PROVISIONED
        .into_iter()
        .filter_map(|v| {
            Some(Template {
                name: format!("{} (example)", v.display_name()),
                vendor: v,
                style: TemplateStyle::Placeholder,
                composition: Composition::Overlay,
                source: v.example_template()?.to_owned(),
            })
        })
        .collect()
}

/// The placeholders a placeholder template may use.
pub const PLACEHOLDERS: [&str; 11] = [
    "SIP_NUM",
    "SIP_USER_NAME",
    "SIP_PASS",
    "SIP_DISPLAY_NAME",
    "PBX_HOST",
    "PBX_PORT",
    "FIRMWARE_URL",
    "PHONEBOOK_URL",
    "NTP_SERVER",
    "MAC",
    "MODEL",
];

/// An `{UPPER_CASE}` token that is not a known placeholder is almost certainly a typo
/// (`{SIP_PASSWORD}`), which would otherwise reach the phone literally.
pub(crate) fn check_placeholders(src: &str) -> Result<()> {
    let mut rest = src;
    let mut offset = 0;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        if let Some(end) = after.find('}') {
            let name = &after[..end];
            let looks_like = !name.is_empty()
                && name.len() <= 40
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
                && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
            if looks_like && !PLACEHOLDERS.contains(&name) {
                let (line, col) = xml::line_col(src, offset + i);
                return Err(Error::new(
                    ErrorKind::TemplateSyntax,
                    format!(
                        "unknown placeholder {{{name}}}; known: {}",
                        PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                    ),
                )
                .at(line, Some(col))
                .with_name("source"));
            }
        }
        offset += i + 1;
        rest = after;
    }
    Ok(())
}

fn substitute(src: &str, p: &Profile, xml_out: bool) -> String {
    let mut out = String::with_capacity(src.len() + 64);
    let mut rest = src;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let value = after
            .find('}')
            .and_then(|end| placeholder_value(&after[..end], p).map(|v| (end, v)));
        match value {
            Some((end, v)) => {
                if xml_out {
                    xml::escape_into(&v, &mut out);
                } else {
                    out.push_str(&crate::vendors::line_safe(&v));
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn placeholder_value(name: &str, p: &Profile) -> Option<String> {
    let line = p.primary();
    let s = |f: fn(&crate::inputs::Line) -> &str| line.map(f).unwrap_or_default().to_owned();
    Some(match name {
        "SIP_NUM" => s(|l| &l.extension),
        "SIP_USER_NAME" => s(|l| &l.auth_name),
        "SIP_PASS" => s(|l| l.password.expose()),
        "SIP_DISPLAY_NAME" => s(|l| &l.display_name),
        "PBX_HOST" => s(|l| &l.server_host),
        "PBX_PORT" => line.map(|l| l.server_port.to_string()).unwrap_or_default(),
        "FIRMWARE_URL" => p.firmware_url.clone().unwrap_or_default(),
        "PHONEBOOK_URL" => p.phonebook_url.clone().unwrap_or_default(),
        "NTP_SERVER" => p.ntp_server.clone().unwrap_or_default(),
        "MAC" => p.device.mac.to_lower_hex(),
        "MODEL" => p.device.model.clone(),
        _ => return None,
    })
}

/// How much of an error's text may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Everything: the data is sample data or the template source itself.
    Full,
    /// Kind and position only: the data is a real phone's, secrets included.
    Redacted,
}

/// `e`'s kind and position with the text `detail` (a bound's fixed explanation).
fn located_as(e: Error, detail: &str) -> Error {
    let mut out = Error::new(e.kind(), detail).with_name("source");
    if let Some(line) = e.line() {
        out = out.at(line, e.col());
    }
    out
}

fn jinja_error(e: &minijinja::Error, src: &str, kind: ErrorKind, detail: Detail) -> Error {
    // minijinja's kind names ("undefined value", "invalid operation") never quote data;
    // its detail text can (e.g. the name of a missing included template).
    let detail = match (detail, e.detail()) {
        (Detail::Full, Some(d)) => d.to_owned(),
        _ => e.kind().to_string(),
    };
    let mut out = Error::new(kind, detail).with_name("source");
    #[cfg(feature = "template-columns")]
    let range = e.range();
    // Without minijinja's debug info an error knows its line only.
    #[cfg(not(feature = "template-columns"))]
    let range: Option<std::ops::Range<usize>> = None;
    if let Some(r) = range {
        let (line, col) = xml::line_col(src, r.start);
        out = out.at(line, Some(col));
    } else if let Some(line) = e.line() {
        out = out.at(line, None);
    }
    out
}

// ---- the Jinja context: lazy objects over the profile, so a render reads only the
// values its template uses (no up-front serialisation of the whole profile).

fn context(p: &Arc<Profile>) -> Value {
    Value::from_object(Ctx {
        profile: Arc::clone(p),
        cache: Default::default(),
    })
}

/// The top-level names, in the order of [`Ctx::cache`].
pub(crate) const CTX_NAMES: [&str; 8] = [
    "device",
    "user",
    "lines",
    "blf",
    "pbx",
    "settings",
    "firmware_url",
    "phonebook_url",
];

/// The root of the context. Each top-level value is built on first use and then shared:
/// a template that writes `{{ user.extension }}` five times builds `user` once.
#[derive(Debug)]
struct Ctx {
    profile: Arc<Profile>,
    cache: [OnceLock<Value>; 8],
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::from(()), Value::from)
}

impl Ctx {
    fn build(&self, i: usize) -> Value {
        let p = &self.profile;
        match i {
            0 => Value::from_object(DeviceObj(Arc::clone(p))),
            1 if !p.lines.is_empty() => Value::from_object(LineObj(Arc::clone(p), 0)),
            2 => Value::from_object(Lines(Arc::clone(p))),
            3 => Value::from_object(Blfs(Arc::clone(p))),
            4 if !p.lines.is_empty() => Value::from_object(PbxObj(Arc::clone(p))),
            5 => Value::from_object(SettingsObj(Arc::clone(p))),
            6 => opt(p.firmware_url.as_deref()),
            7 => opt(p.phonebook_url.as_deref()),
            _ => Value::from(()),
        }
    }
}

impl Object for Ctx {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let i = CTX_NAMES.iter().position(|n| *n == key)?;
        Some(self.cache.get(i)?.get_or_init(|| self.build(i)).clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&CTX_NAMES)
    }
}

#[derive(Debug)]
struct DeviceObj(Arc<Profile>);

impl Object for DeviceObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let d = &self.0.device;
        Some(match key.as_str()? {
            "vendor" => Value::from(d.vendor.as_str()),
            "model" => Value::from(d.model.as_str()),
            "mac" => Value::from(d.mac.to_lower_hex()),
            "mac_upper" => Value::from(d.mac.to_upper_hex()),
            "mac_colon" => Value::from(d.mac.to_colon_lower()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["vendor", "model", "mac", "mac_upper", "mac_colon"])
    }
}

#[derive(Debug)]
struct LineObj(Arc<Profile>, usize);

impl Object for LineObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let l = self.0.lines.get(self.1)?;
        Some(match key.as_str()? {
            "index" => Value::from(self.1 + 1),
            "extension" => Value::from(l.extension.as_str()),
            "auth_name" => Value::from(l.auth_name.as_str()),
            "password" => Value::from(l.password.expose().as_str()),
            "display_name" => Value::from(l.display_name.as_str()),
            "label" => Value::from(l.effective_label()),
            "server_host" => Value::from(l.server_host.as_str()),
            "server_port" => Value::from(l.server_port),
            "transport" => Value::from(l.transport.as_str()),
            "voicemail" => Value::from(l.voicemail.as_str()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "index",
            "extension",
            "auth_name",
            "password",
            "display_name",
            "label",
            "server_host",
            "server_port",
            "transport",
            "voicemail",
        ])
    }
}

#[derive(Debug)]
struct Lines(Arc<Profile>);

impl Object for Lines {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = key.as_usize()?;
        (i < self.0.lines.len()).then(|| Value::from_object(LineObj(Arc::clone(&self.0), i)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.lines.len())
    }
}

#[derive(Debug)]
struct PbxObj(Arc<Profile>);

impl Object for PbxObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let l = self.0.lines.first()?;
        Some(match key.as_str()? {
            "host" => Value::from(l.server_host.as_str()),
            "port" => Value::from(l.server_port),
            "transport" => Value::from(l.transport.as_str()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["host", "port", "transport"])
    }
}

#[derive(Debug)]
struct BlfObj(Arc<Profile>, usize);

impl Object for BlfObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let b = self.0.blf.get(self.1)?;
        Some(match key.as_str()? {
            "index" => Value::from(self.1 + 1),
            "extension" => Value::from(b.extension.as_str()),
            "label" => Value::from(b.effective_label()),
            "line" => Value::from(b.line),
            "pickup_prefix" => Value::from(b.pickup_prefix.as_str()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["index", "extension", "label", "line", "pickup_prefix"])
    }
}

#[derive(Debug)]
struct Blfs(Arc<Profile>);

impl Object for Blfs {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = key.as_usize()?;
        (i < self.0.blf.len()).then(|| Value::from_object(BlfObj(Arc::clone(&self.0), i)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.blf.len())
    }
}

#[derive(Debug)]
struct SettingsObj(Arc<Profile>);

impl Object for SettingsObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let p = &self.0;
        let tz = p.timezone.as_ref();
        Some(match key.as_str()? {
            "ntp_server" => opt(p.ntp_server.as_deref()),
            "timezone" => opt(tz.map(|t| t.name())),
            "utc_offset" => tz.map_or(Value::from(()), |t| Value::from(t.offset_hours_string())),
            "utc_offset_minutes" => tz.map_or(Value::from(()), |t| Value::from(t.offset_minutes())),
            "posix_tz" => opt(tz.map(|t| t.posix())),
            "language" => opt(p.language.map(|l| l.code())),
            "language_name" => opt(p.language.map(|l| l.english_name())),
            "poll_interval_minutes" => Value::from(p.poll_interval_minutes),
            "provisioning_url" => opt(p.provisioning_url.as_deref()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "ntp_server",
            "timezone",
            "utc_offset",
            "utc_offset_minutes",
            "posix_tz",
            "language",
            "language_name",
            "poll_interval_minutes",
            "provisioning_url",
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::AdditionalParams;
    use crate::sample;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn tpl(
        vendor: Vendor,
        style: TemplateStyle,
        composition: Composition,
        source: &str,
    ) -> Template {
        Template {
            name: "t".into(),
            vendor,
            style,
            composition,
            source: source.into(),
        }
    }

    #[test]
    fn examples_validate_and_render_for_a_sample_phone() {
        let examples = template_examples();
        assert_eq!(examples.len(), Vendor::PROVISIONED.len());
        for t in examples {
            // The save-time check any template passes.
            validate_template(&t).unwrap_or_else(|e| panic!("{}: {e}", t.name));
            assert_eq!(t.style, TemplateStyle::Placeholder, "{}", t.name);
            check_placeholders(&t.source).unwrap();
            assert!(t.source.contains("{SIP_NUM}") && t.source.contains("{SIP_PASS}"));
            // Rendered for a sample phone: its own account, no placeholder or comment left.
            let mut r = Renderer::new();
            r.set_template(t.clone()).unwrap();
            let p = Arc::new(sample::sample_profile(t.vendor));
            let out = r
                .render_config(&p, Some(&t.name), &AdditionalParams::default())
                .unwrap_or_else(|e| panic!("{}: {e}", t.name));
            let line = p.primary().unwrap();
            assert!(out.contains(line.password.expose().as_str()), "{}", t.name);
            assert!(out.contains(&line.extension), "{}", t.name);
            assert!(!out.contains("{SIP_"), "{}: {out}", t.name);
            assert!(
                !out.contains("example template"),
                "{}: a comment reached the phone",
                t.name
            );
            // The example changes nothing the site decides: on a line with its own label and
            // TLS, every default line that carries them is still there.
            let mut p = sample::sample_profile(t.vendor);
            if let Some(l) = p.lines.first_mut() {
                l.label = "Front desk".into();
                l.transport = crate::inputs::Transport::Tls;
                l.server_port = 5070;
            }
            let p = Arc::new(p);
            let default = crate::render::default_config(&p).unwrap();
            let out = r
                .render_config(&p, Some(&t.name), &AdditionalParams::default())
                .unwrap();
            for l in default.lines() {
                let site_decides = ["Front desk", "ransport", "P130", "user_outbound", "5070"]
                    .iter()
                    .any(|k| l.contains(k));
                if site_decides {
                    assert!(out.contains(l), "{}: {l:?} is overridden", t.name);
                }
            }
        }
    }

    #[test]
    fn placeholders_are_substituted_and_escaped_for_xml() {
        let mut p = sample::sample_profile(Vendor::Snom);
        p.lines[0].password = crate::secret::Secret::from("a&b<c");
        let out = substitute(
            "<p>{SIP_NUM}/{SIP_USER_NAME}/{SIP_PASS}@{PBX_HOST} {FIRMWARE_URL} {x} {</p>",
            &p,
            true,
        );
        assert!(
            out.starts_with("<p>204/204/a&amp;b&lt;c@172.16.156.223 https://"),
            "{out}"
        );
        assert!(out.ends_with(" {x} {</p>"), "{out}");
        let kv = substitute(
            "account.1.label = {SIP_DISPLAY_NAME}",
            &sample::reference_profile(Vendor::Yealink),
            false,
        );
        assert_eq!(kv, "account.1.label = Irina Smirnova");
        // An unbound phone gets empty values, not the placeholder.
        let mut unbound = sample::reference_profile(Vendor::Yealink);
        unbound.lines.clear();
        assert_eq!(substitute("x={SIP_PASS};", &unbound, false), "x=;");
    }

    #[test]
    fn placeholder_values_cannot_inject_lines() {
        let mut p = sample::reference_profile(Vendor::Yealink);
        p.lines[0].display_name = "Eve\naccount.1.sip_server_host = evil".into();
        let out = substitute("account.1.display_name = {SIP_DISPLAY_NAME}\n", &p, false);
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn unknown_placeholder_is_reported_with_position() {
        let t = tpl(
            Vendor::Yealink,
            TemplateStyle::Placeholder,
            Composition::Replace,
            "a = 1\nb = {SIP_PASSWORD}\n",
        );
        let e = validate_template(&t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateSyntax);
        assert_eq!((e.line(), e.col()), (Some(2), Some(5)));
        assert!(e.detail().contains("{SIP_PASSWORD}"));
    }

    #[test]
    fn jinja_syntax_errors_carry_line_and_column() {
        let t = tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "a = 1\nb = {{ user.extension }\n",
        );
        let e = validate_template(&t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateSyntax, "{e}");
        assert_eq!(e.line(), Some(2), "{e}");
        assert!(e.col().is_some());
        let t = tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "{% for k in blf %}\nx\n",
        );
        let e = validate_template(&t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateSyntax, "{e}");
    }

    #[test]
    fn strict_undefined_and_fuel() {
        let t = tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "a = 1\nb = {{ user.extention }}\n",
        );
        let e = validate_template(&t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateRender, "{e}");
        assert_eq!(e.line(), Some(2), "{e}");
        let t = tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        );
        let e = validate_template(&t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateRender, "{e}");
        assert!(e.detail().contains("fuel"), "{e}");
    }

    #[test]
    fn xml_outputs_are_escaped_and_checked() {
        let mut r = Renderer::new();
        let src = "<?xml version=\"1.0\"?>\n<settings><n>{{ lines[1].display_name }}</n><p>{{ user.password }}</p></settings>\n";
        r.set_template(tpl(
            Vendor::Snom,
            TemplateStyle::Jinja,
            Composition::Replace,
            src,
        ))
        .unwrap();
        let mut p = sample::sample_profile(Vendor::Snom);
        p.lines[0].password = crate::secret::Secret::from("p&<'\"");
        let out = r.render_template("t", &Arc::new(p)).unwrap();
        assert!(
            out.contains("<n>Reception &amp; Co &lt;Front&gt;</n>"),
            "{out}"
        );
        assert!(out.contains("<p>p&amp;&lt;&apos;&quot;</p>"), "{out}");
        xml::check_well_formed(&out).unwrap();
        // Output that cannot be XML is refused at save time, with the position.
        let bad = tpl(
            Vendor::Snom,
            TemplateStyle::Jinja,
            Composition::Replace,
            "<settings>\n<a>{{ user.extension }}</b>\n</settings>",
        );
        let e = validate_template(&bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidXml, "{e}");
        assert_eq!(e.line(), Some(2), "{e}");
    }

    #[test]
    fn context_exposes_the_documented_names() {
        let mut r = Renderer::new();
        let src = "{{ device.vendor }} {{ device.model }} {{ device.mac }} {{ device.mac_upper }} {{ device.mac_colon }}\n\
{{ user.extension }} {{ user.auth_name }} {{ user.label }} {{ pbx.host }}:{{ pbx.port }}/{{ pbx.transport }}\n\
{% for l in lines %}{{ l.index }}={{ l.extension }}@{{ l.server_host }}:{{ l.server_port }};{{ l.transport }};{{ l.voicemail }};{{ l.label }} {% endfor %}\n\
{{ blf|length }} {{ blf[0].index }} {{ blf[0].extension }} {{ blf[0].label }} {{ blf[0].line }} {{ blf[0].pickup_prefix }}\n\
{{ settings.ntp_server }} {{ settings.timezone }} {{ settings.utc_offset }} {{ settings.utc_offset_minutes }} {{ settings.posix_tz }} {{ settings.language }} {{ settings.language_name }} {{ settings.poll_interval_minutes }} {{ settings.provisioning_url }}\n\
{{ firmware_url is string }} {{ phonebook_url is string }}";
        r.set_template(tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            src,
        ))
        .unwrap();
        let out = r
            .render_template("t", &Arc::new(sample::sample_profile(Vendor::Yealink)))
            .unwrap();
        let expected = "yealink T46S 001565123456 001565123456 00:15:65:12:34:56\n\
204 204 Irina Smirnova 172.16.156.223:5060/udp\n\
1=204@172.16.156.223:5060;udp;*001;Irina Smirnova 2=299@172.16.156.223:5060;tcp;*001;Front desk \n\
10 1 200 User 0 1 *8\n\
pool.ntp.org Europe/Berlin +1 60 CET-1CEST,M3.5.0,M10.5.0/3 de German 1440 https://prov.example.com/p/tok123\n\
True True";
        assert_eq!(out, expected);
        // Unbound phone: `user` is none, and using it is an error rather than empty output.
        let mut p = sample::sample_profile(Vendor::Yealink);
        p.lines.clear();
        let e = r.render_template("t", &Arc::new(p)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateRender);
    }

    #[test]
    fn jinja_values_cannot_inject_lines_into_key_value_configs() {
        let mut r = Renderer::new();
        let src = "#!version:1.0.0.1\naccount.1.label = {{ user.display_name }}\n";
        r.set_template(tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Overlay,
            src,
        ))
        .unwrap();
        let mut p = sample::reference_profile(Vendor::Yealink);
        p.lines[0].display_name = "Eve\naccount.1.sip_server_host = evil\r".into();
        let out = r
            .render_config(&Arc::new(p), Some("t"), &AdditionalParams::default())
            .unwrap();
        assert!(
            out.contains("account.1.label = Eve account.1.sip_server_host = evil\n"),
            "{out}"
        );
        assert!(
            !out.lines()
                .any(|l| l.starts_with("account.1.sip_server_host = evil")),
            "{out}"
        );
    }

    #[test]
    fn render_time_errors_never_quote_the_phones_data() {
        let secret = "TOPSECRET";
        let with_secret = |v: Vendor| {
            let mut p = sample::sample_profile(v);
            p.lines[0].extension = "777".into();
            p.lines[0].password = crate::secret::Secret::from(secret);
            Arc::new(p)
        };
        let none = AdditionalParams::default();
        // Valid for the sample (the branch is not taken), fails for the real phone.
        let cases = [
            (
                Vendor::Yealink,
                Composition::Replace,
                "{% if user.extension != '204' %}{{ (user.password ~ 'x')|int }}{% endif %}",
            ),
            (
                Vendor::Fanvil,
                Composition::Overlay,
                "{% if user.extension != '204' %}{{ user.password }}{% endif %}\n",
            ),
            (
                Vendor::Snom,
                Composition::Replace,
                "<a>{% if user.extension != '204' %}<{{ user.password|safe }}>{% endif %}</a>",
            ),
            (
                Vendor::Grandstream,
                Composition::Overlay,
                "{% if user.extension != '204' %}{{ user.password }}{% endif %}",
            ),
        ];
        for (v, c, src) in cases {
            let mut r = Renderer::new();
            r.set_template(tpl(v, TemplateStyle::Jinja, c, src))
                .unwrap_or_else(|e| panic!("{v}: {e}"));
            let e = r
                .render_config(&with_secret(v), Some("t"), &none)
                .unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(!text.contains(secret), "{v}: {text}");
            assert!(e.line().is_some(), "{v}: {text}");
        }
    }

    #[test]
    fn load_saved_compiles_without_rendering_the_sample() {
        let mut r = Renderer::new();
        // Uses a name the sample lacks: validation would refuse it, loading does not render.
        let t = tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "x = {{ user.extension }}",
        );
        r.load_saved(t).unwrap();
        let p = Arc::new(sample::reference_profile(Vendor::Yealink));
        assert_eq!(r.render_template("t", &p).unwrap(), "x = 204");
        let broken = tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "x = {{ user.extension ",
        );
        assert_eq!(
            r.load_saved(broken).unwrap_err().kind(),
            ErrorKind::TemplateSyntax
        );
        assert_eq!(
            r.render_template("t", &p).unwrap(),
            "x = 204",
            "the old version stays"
        );
    }

    #[test]
    fn load_saved_refuses_an_oversized_template() {
        // A template stored before the limit (an old snapshot) is refused at load as at
        // save, in both styles; the version already loaded keeps serving.
        let mut r = Renderer::new();
        let small = "x = {{ user.extension }}\n";
        r.load_saved(tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            small,
        ))
        .unwrap();
        let big = small.repeat(MAX_TEMPLATE_BYTES / small.len() + 1);
        assert!(big.len() > MAX_TEMPLATE_BYTES);
        for style in [TemplateStyle::Jinja, TemplateStyle::Placeholder] {
            let e = r
                .load_saved(tpl(Vendor::Yealink, style, Composition::Replace, &big))
                .unwrap_err();
            assert_eq!(e.name(), Some("source"), "{e}");
            assert!(e.detail().contains("the limit is 256 KiB"), "{e}");
        }
        let p = Arc::new(sample::reference_profile(Vendor::Yealink));
        assert_eq!(r.render_template("t", &p).unwrap(), "x = 204");
        // At the limit it loads.
        let at_limit = "x".repeat(MAX_TEMPLATE_BYTES);
        r.load_saved(tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            &at_limit,
        ))
        .unwrap();
    }

    #[test]
    fn failed_save_keeps_the_previous_version() {
        let mut r = Renderer::new();
        r.set_template(tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "v1 {{ user.extension }}",
        ))
        .unwrap();
        let bad = tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "v2 {{ user.extension ",
        );
        assert!(r.set_template(bad).is_err());
        let p = Arc::new(sample::sample_profile(Vendor::Yealink));
        assert_eq!(r.render_template("t", &p).unwrap(), "v1 204");
        assert!(r.remove_template("t"));
        assert!(r.render_template("t", &p).is_err());
    }

    #[test]
    fn render_errors_return_no_output() {
        let mut r = Renderer::new();
        // Valid for the sample (two lines), fails for a phone with one line.
        r.set_template(tpl(
            Vendor::Yealink,
            TemplateStyle::Jinja,
            Composition::Replace,
            "a = {{ user.extension }}\nb = {{ lines[1].extension }}\n",
        ))
        .unwrap();
        let p = Arc::new(sample::reference_profile(Vendor::Yealink));
        let e = r
            .render_config(&p, Some("t"), &AdditionalParams::default())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TemplateRender);
        assert_eq!(e.line(), Some(2));
    }

    #[test]
    fn template_vendor_must_match_phone() {
        let mut r = Renderer::new();
        r.set_template(tpl(
            Vendor::Yealink,
            TemplateStyle::Placeholder,
            Composition::Replace,
            "#!version:1.0.0.1\n",
        ))
        .unwrap();
        let p = Arc::new(sample::reference_profile(Vendor::Htek));
        let e = r
            .render_config(&p, Some("t"), &AdditionalParams::default())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(r
            .render_config(&p, Some("missing"), &AdditionalParams::default())
            .is_err());
    }

    #[test]
    fn bad_names_and_sizes() {
        let mut t = tpl(
            Vendor::Yealink,
            TemplateStyle::Placeholder,
            Composition::Replace,
            "x",
        );
        t.name = " ".into();
        assert_eq!(validate_template(&t).unwrap_err().name(), Some("name"));
        t.name = "ok".into();
        t.source = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert_eq!(validate_template(&t).unwrap_err().name(), Some("source"));
        t.vendor = Vendor::Ale;
        t.source = "x".into();
        assert_eq!(
            validate_template(&t).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }
}
