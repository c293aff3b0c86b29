//! Rendering a phone's files: the vendor's default config, a template over or instead of
//! it, then the site's Additional Parameters. All or nothing: any failure returns an error
//! and no partial output.

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::inputs::Profile;
use crate::params::AdditionalParams;
use crate::template::{Composition, Detail, Renderer};
use crate::vendors::{CommonContext, Vendor};
use crate::xml;

/// Renders the built-in default config of `profile`'s vendor (no template, no
/// parameters): the fast path, a compiled Rust writer.
pub fn default_config(profile: &Profile) -> Result<String> {
    let m = profile.device.vendor.module()?;
    let mut out = String::with_capacity(2048 + 256 * profile.blf.len());
    m.write_config(profile, &mut out);
    Ok(out)
}

/// [`default_config`] in `syntax`, one the vendor's templates can be written in (`None`:
/// the vendor's own): the config a template in that syntax is merged over.
pub(crate) fn default_config_in(
    profile: &Profile,
    syntax: Option<crate::vendors::ConfigSyntax>,
) -> Result<String> {
    let m = profile.device.vendor.module()?;
    match syntax {
        Some(s) if s != m.syntax() => {
            let mut out = String::with_capacity(2048 + 256 * profile.blf.len());
            m.write_config_as(profile, s, &mut out);
            Ok(out)
        }
        _ => default_config(profile),
    }
}

/// Renders a vendor's common (non-secret) file, e.g. Yealink's `y000000000066.cfg`. Fails
/// (`Unsupported`: answer 404) for a file the vendor writes only for a known phone when
/// [`CommonContext::mac`] is `None`.
pub fn render_common(vendor: Vendor, file: &str, common: &CommonContext<'_>) -> Result<String> {
    let m = vendor.module()?;
    let mut out = String::with_capacity(1024);
    m.write_common(file, common, &mut out);
    if out.is_empty() {
        // The module cannot write this file for this request (it needs the phone's MAC):
        // the phone gets a 404 and moves on to its next name.
        return Err(crate::error::Error::new(
            crate::error::ErrorKind::Unsupported,
            "this common file needs the asking phone's MAC",
        ));
    }
    Ok(out)
}

/// The stage of a render that failed: the template itself, its output (not well-formed, or
/// not mergeable into the default config), or the Additional Parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Template,
    Output,
    Params,
}

impl Renderer {
    /// Renders the config `profile`'s phone receives: the vendor default, the template
    /// `template` (if any) merged over it or replacing it, then the Additional Parameters
    /// for the vendor.
    pub fn render_config(
        &self,
        profile: &Arc<Profile>,
        template: Option<&str>,
        params: &AdditionalParams,
    ) -> Result<String> {
        self.render_staged(profile, template, params, Detail::Redacted)
            .map_err(|(stage, e)| match stage {
                Stage::Output if e.kind() == ErrorKind::InvalidXml => {
                    redact(e, "is not well-formed XML")
                }
                Stage::Output => redact(e, "does not merge into the default config"),
                Stage::Template | Stage::Params => e,
            })
    }

    /// [`Self::render_config`] with the failing stage, and errors as detailed as `detail`
    /// allows (the preview shows them in full: its data is sample data or masked).
    pub(crate) fn render_staged(
        &self,
        profile: &Arc<Profile>,
        template: Option<&str>,
        params: &AdditionalParams,
        detail: Detail,
    ) -> std::result::Result<String, (Stage, Error)> {
        let vendor = profile.device.vendor;
        let m = vendor.module().map_err(|e| (Stage::Template, e))?;
        let tpl = match template {
            Some(name) => Some(self.stored(name).ok_or_else(|| {
                (
                    Stage::Template,
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("no template named {name:?}"),
                    ),
                )
            })?),
            None => None,
        };
        if let Some((t, _)) = tpl {
            if t.vendor != vendor {
                return Err((
                    Stage::Template,
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "template {:?} is for {} phones, this phone is a {vendor}",
                            t.name, t.vendor
                        ),
                    ),
                ));
            }
        }
        // The template's own syntax picks the default it is merged over (a vendor whose
        // phones read two syntaxes, Htek, has a default in each).
        let syntax = tpl.map_or(m.syntax(), |(t, _)| m.syntax_of(&t.source));
        let mut config = match tpl {
            Some((t, env_name)) if t.composition == Composition::Replace => {
                let out = self
                    .render_stored(t, env_name, profile, detail)
                    .map_err(|e| (Stage::Template, e))?;
                if syntax.is_xml() {
                    xml::check_well_formed(&out).map_err(|e| (Stage::Output, e))?;
                }
                out
            }
            _ => default_config_in(profile, Some(syntax)).map_err(|e| (Stage::Template, e))?,
        };
        if let Some((t, env_name)) = tpl.filter(|(t, _)| t.composition == Composition::Overlay) {
            let overlay = self
                .render_stored(t, env_name, profile, detail)
                .map_err(|e| (Stage::Template, e))?;
            config = m
                .overlay(&config, &overlay)
                .map_err(|e| (Stage::Output, e))?;
        }
        if !params.is_empty_for(vendor) {
            config = m
                .apply_params(&config, &params.for_vendor(vendor))
                .map_err(|e| (Stage::Params, e))?;
        }
        Ok(config)
    }
}

/// An error about a real phone's rendered output, stripped of any quoted text (the output
/// holds the phone's secrets): kind, position and a fixed explanation remain.
fn redact(e: Error, what: &str) -> Error {
    let mut out = Error::new(
        e.kind(),
        format!("for this phone the template's output {what}; check the template with its preview"),
    )
    .with_name("source");
    if let Some(line) = e.line() {
        out = out.at(line, e.col());
    }
    out
}
