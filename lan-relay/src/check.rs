//! `lan-relay template ...`: the web page's checks from the command line, through the same
//! engine calls ([`engine::check_template`], [`engine::check_params`], [`engine::preview`],
//! [`engine::unified_diff`]).
//!
//! * `check <files...>`: validates templates as saving them would, and `--params` an
//!   Additional Parameters file; each problem on stderr as `file:line:col: message`, exit
//!   status 1 if there is any.
//! * `render <file>`: the config a phone would receive from the template, on stdout.
//! * `diff <file>`: the unified diff from the vendor's default config to that config.
//!
//! The data rendered is the engine's sample data unless `--inventory` names a local
//! inventory (TOML, as the relay serves): then its site (PBX, time, Additional Parameters),
//! its firmware, and `--user-extension`'s user. A template's style follows its extension
//! (`.j2`, `.jinja`: Jinja) unless `--style` says.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use engine::{Composition, Diagnostic, PreviewRequest, Template, TemplateDraft, TemplateStyle};

/// The `template` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TemplateCmd {
    /// Validate template files (as saving them would) and Additional Parameters; exit status
    /// 1 on any error, each as `file:line:col: message` on stderr.
    Check {
        /// Template files.
        files: Vec<PathBuf>,
        #[command(flatten)]
        template: TemplateOpts,
        /// An Additional Parameters file (INI) to check too (with `--vendor`: also that the
        /// vendor's parameters merge into its default config).
        #[arg(long)]
        params: Option<PathBuf>,
    },
    /// Render the config a phone would receive from a template, to stdout.
    Render(RenderArgs),
    /// Show the unified diff from the vendor's default config to the rendered one.
    Diff(RenderArgs),
}

/// How the template files are written.
#[derive(Debug, Args)]
pub(crate) struct TemplateOpts {
    /// The vendor the templates are for (yealink, snom, fanvil, grandstream, htek).
    #[arg(long)]
    vendor: Option<String>,
    /// Template style; default: `jinja` for `.j2`/`.jinja` files, else `placeholder`.
    #[arg(long, value_enum)]
    style: Option<Style>,
    /// Whether the template overlays the vendor's default config or replaces it.
    #[arg(long, value_enum, default_value = "overlay")]
    composition: Comp,
}

/// `render` and `diff`.
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// The template file.
    file: PathBuf,
    #[command(flatten)]
    template: TemplateOpts,
    /// The phone's model (default: the vendor's typical model).
    #[arg(long)]
    model: Option<String>,
    /// The phone's MAC (default: a sample MAC).
    #[arg(long)]
    mac: Option<String>,
    /// A local inventory (TOML): its site settings, firmware and users.
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// The inventory's user to render for (default: the sample users).
    #[arg(long, requires = "inventory")]
    user_extension: Option<String>,
    /// Additional Parameters (INI file) in place of the site's.
    #[arg(long)]
    params: Option<PathBuf>,
    /// Show SIP passwords (masked by default).
    #[arg(long)]
    reveal_secrets: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Style {
    Jinja,
    Placeholder,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Comp {
    Overlay,
    Replace,
}

/// Runs a `template` subcommand.
pub(crate) fn run(cmd: TemplateCmd) -> ExitCode {
    match cmd {
        TemplateCmd::Check {
            files,
            template,
            params,
        } => check(&files, &template, params.as_deref()),
        TemplateCmd::Render(args) => render(&args, false),
        TemplateCmd::Diff(args) => render(&args, true),
    }
}

/// A usage problem: the message on stderr, exit status 2.
fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("lan-relay template: {msg}");
    ExitCode::from(2)
}

fn read(path: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))
}

fn vendor(opts: &TemplateOpts) -> Result<Option<engine::Vendor>, ExitCode> {
    opts.vendor
        .as_deref()
        .map(str::parse::<engine::Vendor>)
        .transpose()
        .map_err(|e| usage(format!("--vendor: {}", e.detail())))
}

fn style(opts: &TemplateOpts, path: &Path) -> TemplateStyle {
    match opts.style {
        Some(Style::Jinja) => TemplateStyle::Jinja,
        Some(Style::Placeholder) => TemplateStyle::Placeholder,
        None => match path.extension().and_then(|e| e.to_str()) {
            Some("j2" | "jinja") => TemplateStyle::Jinja,
            _ => TemplateStyle::Placeholder,
        },
    }
}

fn composition(opts: &TemplateOpts) -> Composition {
    match opts.composition {
        Comp::Overlay => Composition::Overlay,
        Comp::Replace => Composition::Replace,
    }
}

/// Prints `d` as `file:line:col: message` (`file: message` without a position).
fn report(file: &Path, d: &Diagnostic) {
    let file = file.display();
    let field = d.field.map(|f| format!("{f}: ")).unwrap_or_default();
    match d.line {
        Some(l) => eprintln!("{file}:{l}:{}: {field}{}", d.column.unwrap_or(1), d.message),
        None => eprintln!("{file}: {field}{}", d.message),
    }
}

fn check(files: &[PathBuf], opts: &TemplateOpts, params: Option<&Path>) -> ExitCode {
    if files.is_empty() && params.is_none() {
        return usage("check: give template files, --params FILE, or both");
    }
    let vendor = match vendor(opts) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let mut failed = false;
    if !files.is_empty() {
        let Some(vendor) = vendor else {
            return usage("check: templates need --vendor");
        };
        for path in files {
            let source = match read(path) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let name = path.file_name().map_or_else(
                || "template".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
            let t = Template {
                name,
                vendor,
                style: style(opts, path),
                composition: composition(opts),
                source,
            };
            for d in engine::check_template(&t) {
                report(path, &d);
                failed = true;
            }
        }
    }
    if let Some(path) = params {
        let text = match read(path) {
            Ok(s) => s,
            Err(code) => return code,
        };
        for d in engine::check_params(&text, vendor) {
            report(path, &d);
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn render(args: &RenderArgs, diff: bool) -> ExitCode {
    match request(args) {
        Ok(req) => match engine::preview(&req) {
            Ok(p) if diff => {
                print!(
                    "{}",
                    engine::unified_diff(
                        &p.default_config,
                        &p.config,
                        &format!("default/{}", p.file),
                        &format!("{}/{}", args.file.display(), p.file),
                    )
                );
                ExitCode::SUCCESS
            }
            Ok(p) => {
                print!("{}", p.config);
                ExitCode::SUCCESS
            }
            Err(diags) => {
                for d in &diags {
                    let file = match d.source {
                        engine::DiagnosticSource::Params => args
                            .params
                            .clone()
                            .or_else(|| args.inventory.clone())
                            .unwrap_or_else(|| PathBuf::from("additional_params")),
                        _ => args.file.clone(),
                    };
                    report(&file, d);
                }
                ExitCode::FAILURE
            }
        },
        Err(code) => code,
    }
}

/// The preview request `args` describe.
fn request(args: &RenderArgs) -> Result<PreviewRequest, ExitCode> {
    let Some(vendor) = vendor(&args.template)? else {
        return Err(usage("render: --vendor is required"));
    };
    let source = read(&args.file)?;
    let mut req = PreviewRequest::sample(vendor);
    req.model.clone_from(&args.model);
    if let Some(mac) = &args.mac {
        req.mac =
            Some(engine::Mac::parse(mac).map_err(|e| usage(format!("--mac: {}", e.detail())))?);
    }
    if let Some(path) = &args.inventory {
        let inv: engine::Inventory =
            toml::from_str(&read(path)?).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        if let Some(ext) = &args.user_extension {
            let user = inv
                .users
                .iter()
                .find(|u| &u.extension == ext)
                .ok_or_else(|| {
                    usage(format!("{}: no user with extension {ext}", path.display()))
                })?;
            req.user = Some(user.clone());
            // That user's keys on the phone with this MAC, if the inventory has it.
            if let Some(mac) = req.mac {
                let mut keys: Vec<&engine::BlfEntry> =
                    inv.blf_keys.iter().filter(|b| b.mac == mac).collect();
                keys.sort_by_key(|b| b.position);
                req.blf = Some(keys.into_iter().map(|b| b.key.clone()).collect());
            }
        }
        req.firmware = Some(inv.firmware.clone());
        req.site = Some(inv.site);
    }
    if let Some(path) = &args.params {
        req.additional_params = Some(read(path)?);
    }
    req.template = Some(TemplateDraft {
        name: None,
        vendor: Some(vendor),
        style: style(&args.template, &args.file),
        composition: composition(&args.template),
        source,
    });
    req.reveal_secrets = args.reveal_secrets;
    Ok(req)
}
