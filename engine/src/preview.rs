//! The preview: the exact config a chosen phone would receive from a draft template, with
//! every problem as a [`Diagnostic`] (source, line, column, message). The edge's preview
//! endpoint, the web page (through wasm) and the relay's `template` command all call
//! [`preview`], [`check_template`] and [`check_params`], so what they show cannot differ
//! from what a phone gets: the config is rendered by [`Renderer::render_config`]'s own code
//! from a profile built by [`crate::profile`], the rule the shells serve phones with.
//!
//! Every input a shell does not give is sample data (see [`crate::sample_profile`]): the
//! sample site (PBX 172.16.156.223, NTP, Berlin time, German), the two sample lines, ten
//! BLF keys, a firmware image for the vendor, the sample provisioning URL.
//!
//! Secrets: unless [`PreviewRequest::reveal_secrets`] is set, SIP passwords are replaced by
//! [`SECRET_MASK`] before rendering, so neither the config nor an error can show them. A
//! secret inside [`PreviewRequest::base_url`] (the edge's per-phone URL token) is the
//! shell's to mask: it passes the URL with [`SECRET_MASK`] in place of the token.

use std::fmt;
use std::sync::Arc;

use serde::de::value::{Error as ValueError, MapDeserializer};
use serde::{Deserialize, Serialize};

use crate::detect::device_config_path;
use crate::error::Error;
use crate::error::ErrorKind;
use crate::firmware::FirmwareRow;
use crate::inputs::{BlfKey, Device, Profile};
use crate::inventory::{config_content_type, profile, SiteSettings, User};
use crate::mac::Mac;
use crate::params::AdditionalParams;
use crate::render::Stage;
use crate::sample::{sample_firmware_file, sample_profile_with, SAMPLE_BASE_URL};
use crate::secret::Secret;
use crate::template::{
    check_placeholders, validate_template, Composition, Detail, Renderer, Template, TemplateStyle,
    MAX_TEMPLATE_BYTES,
};
use crate::vendors::{RpsApi, Vendor};
use crate::xml;

/// What stands in for a secret in a masked preview.
pub const SECRET_MASK: &str = "********";

/// The longest model name a preview accepts.
const MAX_MODEL_CHARS: usize = 40;

/// What to preview: the phone (vendor, model, MAC), whose data (site, user, BLF keys,
/// firmware rows, or sample data for each one left out) and which template.
///
/// Its JSON (`Serialize`) reads back through its own `Deserialize` to the same request: how
/// a shell hands a phone's inputs to another renderer (the edge to the web page's wasm), so
/// both render the same bytes. Secrets are written as they are (the user's SIP password and
/// voicemail PIN, see [`User`]); masking them first is the shell's job (the edge writes
/// [`SECRET_MASK`] unless the admin asked to see them).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The phone's maker.
    pub vendor: Vendor,
    /// Its model; none: the vendor's typical model. May be empty (a phone whose model is
    /// not known yet).
    #[serde(default)]
    pub model: Option<String>,
    /// Its MAC; none: a sample MAC in the vendor's OUI.
    #[serde(default)]
    pub mac: Option<Mac>,
    /// The site's settings (PBX, time, language, Additional Parameters); none: the sample
    /// site, without Additional Parameters.
    #[serde(default)]
    pub site: Option<SiteSettings>,
    /// Additional Parameters (INI) in place of the site's.
    #[serde(default)]
    pub additional_params: Option<String>,
    /// The user the phone is bound to; none: the two sample lines.
    #[serde(default)]
    pub user: Option<User>,
    /// The phone is bound to no user (its config has no account); `user` is ignored.
    #[serde(default)]
    pub unbound: bool,
    /// The phone's BLF keys, in order; none: ten sample keys.
    #[serde(default)]
    pub blf: Option<Vec<BlfKey>>,
    /// The site's firmware rows; none: one sample image for the vendor.
    #[serde(default)]
    pub firmware: Option<Vec<FirmwareRow>>,
    /// Where the phone fetches its files, without a trailing `/`; none: the sample URL.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The template; none: the vendor's default config (and the Additional Parameters).
    #[serde(default)]
    pub template: Option<TemplateDraft>,
    /// Show SIP passwords instead of [`SECRET_MASK`].
    #[serde(default)]
    pub reveal_secrets: bool,
    /// On a DECT base: the users on its handset slots after the first
    /// ([`crate::assign_handsets`]).
    #[serde(default)]
    pub handsets: Vec<crate::HandsetUser>,
    /// The site directory, for a vendor whose config carries it as a local phonebook
    /// ([`Vendor::config_holds_directory`]); none: no local phonebook.
    #[serde(default)]
    pub contacts: Option<Vec<crate::Contact>>,
}

impl PreviewRequest {
    /// Sample data for `vendor`, no template.
    pub fn sample(vendor: Vendor) -> Self {
        Self {
            vendor,
            model: None,
            mac: None,
            site: None,
            additional_params: None,
            user: None,
            unbound: false,
            blf: None,
            firmware: None,
            base_url: None,
            template: None,
            reveal_secrets: false,
            handsets: Vec::new(),
            contacts: None,
        }
    }
}

/// A template being edited (or a saved one): its text and how it is written and combined.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDraft {
    /// Its name (`draft` if none).
    #[serde(default)]
    pub name: Option<String>,
    /// The vendor it is written for; none: the request's. Another vendor is an error.
    #[serde(default)]
    pub vendor: Option<Vendor>,
    /// Placeholder or Jinja.
    #[serde(default)]
    pub style: TemplateStyle,
    /// Overlay or replace.
    #[serde(default)]
    pub composition: Composition,
    /// The template text.
    pub source: String,
}

impl TemplateDraft {
    /// The template the draft describes, not yet validated (see
    /// [`crate::validate_template`]): its name, else `default_name`; its vendor, else
    /// `default_vendor`. A field with neither is an error named after it (`name` or
    /// `vendor`) in serde's words (`` missing field `name` ``), so a shell that requires
    /// the field (a save) refuses the draft as if its own type required it.
    pub fn into_template(
        self,
        default_name: Option<&str>,
        default_vendor: Option<Vendor>,
    ) -> crate::Result<Template> {
        let missing = |field: &str| {
            Error::new(ErrorKind::InvalidInput, format!("missing field `{field}`")).with_name(field)
        };
        let name = self
            .name
            .or_else(|| default_name.map(str::to_owned))
            .ok_or_else(|| missing("name"))?;
        let vendor = self
            .vendor
            .or(default_vendor)
            .ok_or_else(|| missing("vendor"))?;
        Ok(Template {
            name,
            vendor,
            style: self.style,
            composition: self.composition,
            source: self.source,
        })
    }
}

impl From<Template> for TemplateDraft {
    fn from(t: Template) -> Self {
        Self {
            name: Some(t.name),
            vendor: Some(t.vendor),
            style: t.style,
            composition: t.composition,
            source: t.source,
        }
    }
}

/// A rendered preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct Preview {
    /// The file name the phone asks for its config under.
    pub file: String,
    /// The config's content type.
    pub content_type: &'static str,
    /// The config the phone would receive.
    pub config: String,
    /// The vendor's default config for the same data (no template, no parameters), to diff
    /// against.
    pub default_config: String,
}

/// Which input a diagnostic is about; its line and column count in that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticSource {
    /// The template's source.
    Template,
    /// The Additional Parameters (INI).
    Params,
    /// What the template rendered: XML that is not well-formed, or an overlay that does not
    /// merge into the default config (positions in the template's own output).
    Output,
    /// Another input of the request (`field` names it): vendor, model, template vendor.
    Input,
}

/// One problem found by [`preview`], [`check_template`] or [`check_params`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Which input.
    pub source: DiagnosticSource,
    /// The 1-based line, if the problem has a position.
    pub line: Option<usize>,
    /// The 1-based column (in characters), if known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// For [`DiagnosticSource::Input`], the request field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl Diagnostic {
    fn new(source: DiagnosticSource, e: &Error, text: &str) -> Self {
        let column = match (e.line(), e.col()) {
            (_, Some(c)) => Some(c),
            // A line-only position (INI lines, some template errors) points at the
            // line's first non-blank character, so every diagnostic has a column.
            (Some(l), None) => Some(first_column(text, l)),
            _ => None,
        };
        Self {
            source,
            line: e.line(),
            column,
            message: format!("{}: {}", e.kind().description(), e.detail()),
            field: None,
        }
    }

    fn input(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            source: DiagnosticSource::Input,
            line: None,
            column: None,
            message: message.into(),
            field: Some(field),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

fn first_column(text: &str, line: usize) -> usize {
    text.lines().nth(line.saturating_sub(1)).map_or(1, |l| {
        l.chars().take_while(|c| c.is_whitespace()).count() + 1
    })
}

/// Renders the config `req`'s phone would receive, or says why it cannot: every template
/// and Additional Parameters problem at once (each with its position), then render-time
/// problems (strict undefined, fuel, XML that is not well-formed, overlays that do not
/// merge, parameters that cannot be placed). Never panics, whatever the input.
pub fn preview(req: &PreviewRequest) -> Result<Preview, Vec<Diagnostic>> {
    let vendor = req.vendor;
    if let Err(e) = vendor.module() {
        return Err(vec![Diagnostic::input("vendor", e.detail())]);
    }
    let mut diags = Vec::new();
    let model = match &req.model {
        Some(m) if m.chars().count() > MAX_MODEL_CHARS || m.chars().any(char::is_control) => {
            diags.push(Diagnostic::input(
                "model",
                format!("a model is at most {MAX_MODEL_CHARS} printable characters"),
            ));
            String::new()
        }
        Some(m) => m.trim().to_owned(),
        None => vendor.sample_model().to_owned(),
    };
    let mut renderer = Renderer::new();
    let draft = req.template.as_ref();
    let template_name = match draft {
        Some(d) => load_draft(&mut renderer, vendor, d, &mut diags),
        None => None,
    };
    let params_text = match (&req.additional_params, &req.site) {
        (Some(p), _) => p.as_str(),
        (None, Some(s)) => s.additional_params.as_str(),
        (None, None) => "",
    };
    let params = AdditionalParams::parse(params_text).unwrap_or_else(|e| {
        diags.push(Diagnostic::new(DiagnosticSource::Params, &e, params_text));
        AdditionalParams::default()
    });
    if !diags.is_empty() {
        return Err(diags);
    }
    let profile = build_profile(req, model).map_err(|d| vec![d])?;
    let mac = profile.device.mac;
    // The default in the draft's own syntax (Htek has two): what the draft merges over.
    let syntax = draft.and_then(|d| vendor.syntax_of(&d.source).ok());
    let default = crate::render::default_config_in(&profile, syntax)
        .map_err(|e| vec![Diagnostic::input("vendor", e.detail())])?;
    let profile = Arc::new(profile);
    let config = renderer
        .render_staged(&profile, template_name.as_deref(), &params, Detail::Full)
        .map_err(|(stage, e)| {
            let (source, text) = match stage {
                Stage::Template => (
                    DiagnosticSource::Template,
                    draft.map_or("", |d| d.source.as_str()),
                ),
                Stage::Output => (DiagnosticSource::Output, ""),
                Stage::Params => (DiagnosticSource::Params, params_text),
            };
            vec![Diagnostic::new(source, &e, text)]
        })?;
    if vendor.syntax_of(&config).is_ok_and(|s| s.is_xml()) {
        // The merge and the parameters write well-formed XML; checked all the same, since
        // a phone given broken XML may keep none of it.
        xml::check_well_formed(&config)
            .map_err(|e| vec![Diagnostic::new(DiagnosticSource::Output, &e, &config)])?;
    }
    Ok(Preview {
        file: device_config_path(vendor, &mac).unwrap_or_default(),
        content_type: crate::content_type_of(vendor, &config),
        config,
        default_config: default,
    })
}

/// Compiles `d` into `renderer` (checking what can be checked without data: size, vendor,
/// placeholder names, Jinja syntax); its name there, or diagnostics.
fn load_draft(
    renderer: &mut Renderer,
    vendor: Vendor,
    d: &TemplateDraft,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    if let Some(v) = d.vendor.filter(|v| *v != vendor) {
        diags.push(Diagnostic::input(
            "template.vendor",
            format!("the template is for {v} phones, this phone is a {vendor}"),
        ));
        return None;
    }
    if d.source.len() > MAX_TEMPLATE_BYTES {
        diags.push(Diagnostic {
            source: DiagnosticSource::Template,
            line: None,
            column: None,
            message: format!(
                "the template is {} KiB; the limit is {} KiB",
                d.source.len() / 1024,
                MAX_TEMPLATE_BYTES / 1024
            ),
            field: None,
        });
        return None;
    }
    if d.style == TemplateStyle::Placeholder {
        if let Err(e) = check_placeholders(&d.source) {
            diags.push(Diagnostic::new(DiagnosticSource::Template, &e, &d.source));
            return None;
        }
    }
    let name = d
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "draft".to_owned());
    let t = Template {
        name: name.clone(),
        vendor,
        style: d.style,
        composition: d.composition,
        source: d.source.clone(),
    };
    match renderer.load_saved(t) {
        Ok(()) => Some(name),
        Err(e) => {
            diags.push(Diagnostic::new(DiagnosticSource::Template, &e, &d.source));
            None
        }
    }
}

/// The profile to render: [`crate::profile`] over the request's data, sample data for
/// what it leaves out, passwords masked unless revealed.
fn build_profile(req: &PreviewRequest, model: String) -> Result<Profile, Diagnostic> {
    let vendor = req.vendor;
    let sample = sample_profile_with(vendor, 10);
    let device = Device {
        vendor,
        model,
        mac: req.mac.unwrap_or(sample.device.mac),
    };
    let sample_site;
    let site = match &req.site {
        Some(s) => s,
        None => {
            sample_site = sample_site_settings(&sample)?;
            &sample_site
        }
    };
    let sample_user = sample.lines.first().map(|l| User {
        extension: l.extension.clone(),
        auth_name: l.auth_name.clone(),
        sip_password: l.password.clone(),
        display_name: l.display_name.clone(),
        voicemail_pin: Secret::default(),
    });
    let user = match (&req.user, req.unbound) {
        (_, true) => None,
        (Some(u), false) => Some(u),
        (None, false) => sample_user.as_ref(),
    };
    let firmware = match &req.firmware {
        Some(rows) => rows.clone(),
        None => vec![FirmwareRow {
            vendor,
            model: String::new(),
            version: "1.0".to_owned(),
            notes: String::new(),
            file_name: sample_firmware_file(vendor),
            size: 0,
            sha256: None,
        }],
    };
    let blf = req.blf.clone().unwrap_or_else(|| sample.blf.clone());
    let base_url = req.base_url.as_deref().unwrap_or(SAMPLE_BASE_URL);
    let mut p = profile(site, device, user, blf, &firmware, base_url);
    let handsets: Vec<(u8, &User)> = req.handsets.iter().map(|h| (h.slot, &h.user)).collect();
    crate::assign_handsets(&mut p, site, &handsets);
    if vendor.config_holds_directory() {
        p.contacts = req.contacts.clone().unwrap_or_default();
    }
    if req.user.is_none() && !req.unbound {
        // The sample's second line, on the site's PBX.
        for l in sample.lines.iter().skip(1) {
            let mut l = l.clone();
            l.server_host.clone_from(&site.pbx_host);
            l.server_port = site.pbx_port;
            p.lines.push(l);
        }
    }
    if !req.reveal_secrets {
        for l in &mut p.lines {
            l.password = Secret::from(SECRET_MASK);
        }
    }
    Ok(p)
}

/// The sample site: the sample profile's PBX, NTP server, time zone, language and polling.
/// Built through `SiteSettings`' own `Deserialize`, so fields added to it later take their
/// defaults here too.
fn sample_site_settings(sample: &Profile) -> Result<SiteSettings, Diagnostic> {
    let host = sample
        .lines
        .first()
        .map_or("172.16.156.223", |l| l.server_host.as_str());
    let pairs = [("pbx_host", host)];
    let mut s = SiteSettings::deserialize(MapDeserializer::<_, ValueError>::new(pairs.into_iter()))
        .map_err(|e| Diagnostic::input("site", e.to_string()))?;
    s.ntp_server.clone_from(&sample.ntp_server);
    s.timezone = sample.timezone.as_ref().map(|t| t.name().to_owned());
    s.language = sample.language.map(|l| l.code().to_owned());
    s.poll_interval_minutes = sample.poll_interval_minutes;
    Ok(s)
}

/// Checks a template as saving it would (see [`validate_template`]: size, name, syntax,
/// a render against sample data, well-formed XML, the overlay merge); no diagnostics means
/// it would be accepted.
#[must_use]
pub fn check_template(t: &Template) -> Vec<Diagnostic> {
    let Err(e) = validate_template(t) else {
        return Vec::new();
    };
    let d = match (e.kind(), e.name()) {
        (ErrorKind::Unsupported, _) => Diagnostic::input("vendor", e.detail()),
        (ErrorKind::InvalidInput, Some("name")) => Diagnostic::input("name", e.detail()),
        (ErrorKind::TemplateSyntax | ErrorKind::TemplateRender | ErrorKind::InvalidInput, _) => {
            Diagnostic::new(DiagnosticSource::Template, &e, &t.source)
        }
        _ => Diagnostic::new(DiagnosticSource::Output, &e, ""),
    };
    vec![d]
}

/// Checks Additional Parameters: the INI syntax and, with `vendor`, that the vendor's
/// parameters merge into its default config (sample data). No diagnostics means valid.
#[must_use]
pub fn check_params(text: &str, vendor: Option<Vendor>) -> Vec<Diagnostic> {
    let params = match AdditionalParams::parse(text) {
        Ok(p) => p,
        Err(e) => return vec![Diagnostic::new(DiagnosticSource::Params, &e, text)],
    };
    let Some(vendor) = vendor.filter(|v| v.is_provisioned()) else {
        return Vec::new();
    };
    let p = Arc::new(sample_profile_with(vendor, 10));
    match Renderer::new().render_staged(&p, None, &params, Detail::Full) {
        Ok(_) => Vec::new(),
        Err((_, e)) => vec![Diagnostic::new(DiagnosticSource::Params, &e, text)],
    }
}

/// A vendor as the console shows it: every list of vendors in the page comes from here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorInfo {
    /// The vendor.
    pub vendor: Vendor,
    /// Its name as people write it (`Alcatel-Lucent Enterprise`).
    pub display_name: &'static str,
    /// `true` when this system renders its phones' configs; `false` for a vendor whose
    /// phones are only redirected (ALE), which take no user, template or firmware.
    pub configured: bool,
    /// Why nothing that configures a phone applies to the vendor's phones, when it does
    /// not ([`Vendor::redirect_only`]).
    pub redirect_only: Option<&'static str>,
    /// Its redirection service: `full`, `no_removal` (registers, cannot remove) or
    /// `manual` (no API: registered by hand in the vendor's portal).
    pub rps: RpsApi,
    /// `true` when its phones may ask for an RPS code at first boot (Yealink's "RPS ing"
    /// and "RPS pin"): the console shows that guidance for them only.
    pub rps_desk_codes: bool,
    /// Its config syntax: `key_value`, `fanvil_modules` or `xml` (empty when not
    /// configured here).
    pub syntax: &'static str,
    /// Its configs' content type.
    pub content_type: &'static str,
    /// The models the engine knows by name, the typical one first.
    pub models: Vec<&'static str>,
    /// The model table: per model, its keys, expansion modules, accounts and DECT
    /// handsets.
    pub model_table: &'static [crate::Model],
    /// The file a phone asks for its config under, for the sample MAC (e.g.
    /// `001565123456.cfg`; empty when not configured here).
    pub config_file: String,
    /// Accepted firmware file extensions, lowercase with the dot.
    pub firmware_extensions: &'static [&'static str],
    /// The Additional Parameters sections that change its configs (`snom-phone-settings`).
    pub param_sections: Vec<&'static str>,
}

/// Every vendor, in [`Vendor::ALL`]'s order, as the console shows it.
#[must_use]
pub fn vendors() -> Vec<VendorInfo> {
    Vendor::ALL
        .into_iter()
        .map(|v| VendorInfo {
            vendor: v,
            display_name: v.display_name(),
            configured: v.is_provisioned(),
            redirect_only: v.redirect_only(),
            rps: v.rps_api(),
            rps_desk_codes: v.rps_desk_codes(),
            syntax: match v.config_syntax() {
                Ok(crate::vendors::ConfigSyntax::KeyValue) => "key_value",
                Ok(crate::vendors::ConfigSyntax::FanvilModules) => "fanvil_modules",
                Ok(crate::vendors::ConfigSyntax::Xml) => "xml",
                Err(_) => "",
            },
            content_type: config_content_type(v),
            models: v.known_models(),
            model_table: v.models(),
            config_file: device_config_path(v, &crate::sample::sample_mac(v)).unwrap_or_default(),
            firmware_extensions: v.firmware_extensions(),
            param_sections: v
                .param_sections()
                .map(crate::params::Section::name)
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::default_config;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn draft(style: TemplateStyle, composition: Composition, source: &str) -> TemplateDraft {
        TemplateDraft {
            name: None,
            vendor: None,
            style,
            composition,
            source: source.into(),
        }
    }

    fn with(vendor: Vendor, t: TemplateDraft) -> PreviewRequest {
        PreviewRequest {
            template: Some(t),
            ..PreviewRequest::sample(vendor)
        }
    }

    #[test]
    fn sample_preview_is_what_the_renderer_serves_for_the_sample() {
        let src = include_str!("../../tests/fixtures/yealink/blf10.j2");
        let mut req = with(
            Vendor::Yealink,
            draft(TemplateStyle::Jinja, Composition::Replace, src),
        );
        req.reveal_secrets = true;
        let p = preview(&req).unwrap();
        // Sample site + sample user + sample keys + sample firmware = the sample profile.
        let sample = Arc::new(sample_profile_with(Vendor::Yealink, 10));
        let mut r = Renderer::new();
        r.set_template(Template {
            name: "t".into(),
            vendor: Vendor::Yealink,
            style: TemplateStyle::Jinja,
            composition: Composition::Replace,
            source: src.into(),
        })
        .unwrap();
        let served = r
            .render_config(&sample, Some("t"), &AdditionalParams::default())
            .unwrap();
        assert_eq!(p.config, served);
        assert_eq!(p.default_config, default_config(&sample).unwrap());
        assert_eq!(p.file, "001565123456.cfg");
        assert_eq!(p.content_type, "text/plain; charset=utf-8");
    }

    #[test]
    fn passwords_are_masked_unless_revealed() {
        let mut req = PreviewRequest::sample(Vendor::Snom);
        let p = preview(&req).unwrap();
        assert!(!p.config.contains("1c9709222690713dd"));
        assert!(!p.default_config.contains("1c9709222690713dd"));
        assert!(p.config.contains(SECRET_MASK));
        req.reveal_secrets = true;
        assert!(preview(&req).unwrap().config.contains("1c9709222690713dd"));
    }

    #[test]
    fn a_real_phone_renders_through_the_shared_profile_rule() {
        let inv: crate::Inventory = serde_json::from_str(
            r#"{"site": {"pbx_host": "pbx.example.com", "pbx_port": 5070, "additional_params": "[yealink]\nphone_setting.backlight_time = 60\n", "timezone": "Europe/London"},
                "users": [{"extension": "201", "sip_password": "Vq9-kL2m-Zt7x", "display_name": "Ann"}]}"#,
        )
        .unwrap();
        let user = inv.users[0].clone();
        let mac = Mac::parse("001565aabbcc").unwrap();
        let req = PreviewRequest {
            model: Some("T54W".into()),
            mac: Some(mac),
            site: Some(inv.site.clone()),
            user: Some(user.clone()),
            blf: Some(vec![]),
            firmware: Some(vec![]),
            base_url: Some("https://edge/p/TOKEN".into()),
            template: Some(draft(
                TemplateStyle::Placeholder,
                Composition::Overlay,
                "account.1.label = {SIP_NUM}-{MODEL}\n",
            )),
            reveal_secrets: true,
            ..PreviewRequest::sample(Vendor::Yealink)
        };
        let p = preview(&req).unwrap();
        let device = Device {
            vendor: Vendor::Yealink,
            model: "T54W".into(),
            mac,
        };
        let prof = profile(
            &inv.site,
            device,
            Some(&user),
            vec![],
            &[],
            "https://edge/p/TOKEN",
        );
        let mut r = Renderer::new();
        r.load_saved(Template {
            name: "desk".into(),
            vendor: Vendor::Yealink,
            style: TemplateStyle::Placeholder,
            composition: Composition::Overlay,
            source: "account.1.label = {SIP_NUM}-{MODEL}\n".into(),
        })
        .unwrap();
        let params = AdditionalParams::parse(&inv.site.additional_params).unwrap();
        let served = r
            .render_config(&Arc::new(prof), Some("desk"), &params)
            .unwrap();
        assert_eq!(p.config, served);
        assert!(p.config.contains("account.1.label = 201-T54W\n"));
        assert!(p.config.contains("phone_setting.backlight_time = 60\n"));
        assert!(p.config.contains("Vq9-kL2m-Zt7x"));
        assert!(!p.default_config.contains("backlight_time"));
        // Unbound: no account at all.
        let p = preview(&PreviewRequest {
            unbound: true,
            template: None,
            ..req
        })
        .unwrap();
        assert!(!p.config.contains("201"), "{}", p.config);
    }

    #[test]
    fn template_and_params_errors_are_reported_together_with_positions() {
        let mut req = with(
            Vendor::Yealink,
            draft(
                TemplateStyle::Jinja,
                Composition::Overlay,
                "a = 1\nb = 2\nc = {{ user.extension }\n",
            ),
        );
        req.additional_params = Some("[yealink]\nok = 1\n  bad line\n".into());
        let d = preview(&req).unwrap_err();
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].source, DiagnosticSource::Template);
        assert_eq!(d[0].line, Some(3));
        assert!(d[0].column.is_some());
        assert!(d[0].message.starts_with("template syntax error"), "{d:?}");
        assert_eq!(d[1].source, DiagnosticSource::Params);
        assert_eq!((d[1].line, d[1].column), (Some(3), Some(3)));
        assert_eq!(
            d[1].to_string(),
            "line 3, column 3: invalid additional parameters: expected key = value"
        );
    }

    #[test]
    fn render_time_and_output_errors() {
        // Strict undefined: the template's line.
        let d = preview(&with(
            Vendor::Yealink,
            draft(
                TemplateStyle::Jinja,
                Composition::Replace,
                "x = 1\ny = {{ user.extention }}\n",
            ),
        ))
        .unwrap_err();
        assert_eq!(
            (d[0].source, d[0].line),
            (DiagnosticSource::Template, Some(2))
        );
        assert!(d[0].message.contains("undefined"), "{d:?}");
        // XML that is not well-formed: the output's line and column, in full.
        let d = preview(&with(
            Vendor::Snom,
            draft(
                TemplateStyle::Jinja,
                Composition::Replace,
                "<settings>\n<a>{{ user.extension }}</b>\n</settings>",
            ),
        ))
        .unwrap_err();
        assert_eq!(d[0].source, DiagnosticSource::Output);
        assert_eq!(d[0].line, Some(2));
        assert!(d[0].column.is_some());
        // An unknown placeholder.
        let d = preview(&with(
            Vendor::Htek,
            draft(
                TemplateStyle::Placeholder,
                Composition::Overlay,
                "a = {SIP_PASSWORD}",
            ),
        ))
        .unwrap_err();
        assert_eq!((d[0].line, d[0].column), (Some(1), Some(5)));
    }

    #[test]
    fn input_errors_name_their_field() {
        let mut req = with(
            Vendor::Yealink,
            TemplateDraft {
                vendor: Some(Vendor::Snom),
                ..draft(TemplateStyle::Placeholder, Composition::Overlay, "")
            },
        );
        assert_eq!(preview(&req).unwrap_err()[0].field, Some("template.vendor"));
        req.template = None;
        req.model = Some("x".repeat(41));
        assert_eq!(preview(&req).unwrap_err()[0].field, Some("model"));
        assert_eq!(
            preview(&PreviewRequest::sample(Vendor::Ale)).unwrap_err()[0].field,
            Some("vendor")
        );
    }

    #[test]
    fn user_and_model_overrides() {
        let user = User {
            extension: "555".into(),
            auth_name: String::new(),
            sip_password: Secret::from("pw-555-long-enough"),
            display_name: "Five".into(),
            voicemail_pin: Secret::default(),
        };
        let p = preview(&PreviewRequest {
            user: Some(user),
            model: Some("T48U".into()),
            template: Some(draft(
                TemplateStyle::Jinja,
                Composition::Replace,
                "{{ lines|length }} {{ user.extension }} {{ user.auth_name }} {{ device.model }} {{ user.password }}",
            )),
            ..PreviewRequest::sample(Vendor::Yealink)
        })
        .unwrap();
        assert_eq!(p.config, "1 555 555 T48U ********");
    }

    #[test]
    fn check_template_and_params() {
        let t = Template {
            name: "t".into(),
            vendor: Vendor::Yealink,
            style: TemplateStyle::Jinja,
            composition: Composition::Replace,
            source: "a = 1\nb = {{ user.extension }\n".into(),
        };
        let d = check_template(&t);
        assert_eq!(
            (d[0].source, d[0].line),
            (DiagnosticSource::Template, Some(2))
        );
        assert!(check_template(&Template {
            source: "a = {{ user.extension }}\n".into(),
            ..t.clone()
        })
        .is_empty());
        let d = check_template(&Template {
            name: " ".into(),
            ..t
        });
        assert_eq!(d[0].field, Some("name"));
        assert!(check_params("[yealink]\na.b = 1\n", Some(Vendor::Yealink)).is_empty());
        let d = check_params("[yealink]\n\n[acme]\n", None);
        assert_eq!((d[0].line, d[0].column), (Some(3), Some(1)));
        let d = check_params("[grandstream]\n<P3>x</P4>\n", Some(Vendor::Grandstream));
        assert_eq!(d[0].line, Some(2));
    }

    #[test]
    fn vendors_list_models_and_files() {
        let v = vendors();
        assert_eq!(v.len(), Vendor::ALL.len());
        assert_eq!(v[0].vendor, Vendor::Yealink);
        assert_eq!(v[0].display_name, "Yealink");
        assert_eq!(v[0].firmware_extensions, [".rom", ".bin"]);
        assert_eq!(v[0].models[0], "T46S");
        assert!(v[0].models.contains(&"T54W"));
        assert_eq!(v[0].config_file, "001565123456.cfg");
        assert_eq!(v[1].syntax, "xml");
        assert_eq!(v[1].content_type, "application/xml");
        let (configured, redirected): (Vec<_>, Vec<_>) = v.iter().partition(|i| i.configured);
        assert!(configured
            .iter()
            .all(|i| !i.models.is_empty() && !i.config_file.is_empty() && !i.syntax.is_empty()));
        assert_eq!(configured.len(), Vendor::PROVISIONED.len());
        assert!(redirected.iter().all(|i| i.redirect_only.is_some()
            && i.config_file.is_empty()
            && i.firmware_extensions.is_empty()));
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json[4]["rps"], "manual");
        assert_eq!(json[3]["rps"], "no_removal");
        assert_eq!(json[5]["configured"], false);
        assert_eq!(json[1]["param_sections"][1], "snom-phone-settings");
    }

    #[test]
    fn a_request_round_trips_through_json_and_renders_the_same() {
        let req: PreviewRequest = serde_json::from_str(
            r#"{"vendor": "yealink", "model": "T54W", "mac": "00:15:65:aa:bb:cc",
                "site": {"id": "s1", "name": "HQ", "pbx_host": "pbx.example.com", "pbx_port": 5070,
                         "allow_macs": "001565", "deny_macs": "001565000000", "additional_params": "[yealink]\na.b = 1\n",
                         "poll_interval_minutes": 60, "star_code_pattern": "*123*", "ntp_server": "ntp.example.com",
                         "timezone": "Europe/Berlin", "language": "de"},
                "additional_params": "[yealink]\nc.d = 2\n",
                "user": {"extension": "201", "auth_name": "a201", "sip_password": "Vq9-kL2m-Zt7x", "display_name": "Ann", "voicemail_pin": "8041"},
                "unbound": false,
                "blf": [{"extension": "202", "label": "Bob", "line": 1, "pickup_prefix": "*8"}],
                "firmware": [{"vendor": "yealink", "model": "T54W", "version": "96.86.0.1", "notes": "n", "file_name": "T54W.rom", "size": 10, "sha256": null}],
                "base_url": "https://edge.example.com/p/TOKEN",
                "template": {"name": "desk", "vendor": "yealink", "style": "jinja", "composition": "overlay", "source": "x.y = {{ user.password }}\n"},
                "reveal_secrets": true}"#,
        )
        .unwrap();
        let json = serde_json::to_string(&req).unwrap();
        let back: PreviewRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json, "lossless");
        let p = preview(&back).unwrap();
        assert_eq!(p, preview(&req).unwrap());
        assert!(p.config.contains("x.y = Vq9-kL2m-Zt7x\n"), "{}", p.config);
        assert!(json.contains(r#""voicemail_pin":"8041""#), "{json}");
        // What is left out stays out (sample data), and comes back as left out.
        let sample: PreviewRequest = serde_json::from_str(
            &serde_json::to_string(&PreviewRequest::sample(Vendor::Snom)).unwrap(),
        )
        .unwrap();
        assert_eq!(
            preview(&sample).unwrap(),
            preview(&PreviewRequest::sample(Vendor::Snom)).unwrap()
        );
    }

    #[test]
    fn a_draft_becomes_a_template_with_defaults_or_names_the_missing_field() {
        let draft: TemplateDraft = serde_json::from_str(r#"{"source": "x = 1\n"}"#).unwrap();
        let t = draft
            .clone()
            .into_template(Some("draft"), Some(Vendor::Snom))
            .unwrap();
        assert_eq!((t.name.as_str(), t.vendor), ("draft", Vendor::Snom));
        let e = draft
            .clone()
            .into_template(None, Some(Vendor::Snom))
            .unwrap_err();
        assert_eq!(
            (e.name(), e.detail()),
            (Some("name"), "missing field `name`")
        );
        let e = draft.into_template(Some("draft"), None).unwrap_err();
        assert_eq!(
            (e.name(), e.detail()),
            (Some("vendor"), "missing field `vendor`")
        );
        let own: TemplateDraft =
            serde_json::from_str(r#"{"name": "desk", "vendor": "YEALINK", "source": ""}"#).unwrap();
        let t = own
            .into_template(Some("draft"), Some(Vendor::Snom))
            .unwrap();
        assert_eq!((t.name.as_str(), t.vendor), ("desk", Vendor::Yealink));
        let e = serde_json::from_str::<TemplateDraft>(r#"{"vendor": "acme", "source": ""}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(r#"unknown vendor "acme"; expected yealink"#),
            "{e}"
        );
    }
}
