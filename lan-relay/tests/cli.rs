//! `lan-relay template ...` and `--check` as a user runs them: the built binary, real files,
//! exit status, stderr positions, and output equal to the engine's own render.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lan-relay"))
}

/// A scratch directory of its own per test (tests run in parallel).
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lan-relay-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

const GOOD: &str = "account.1.label = {{ user.display_name }} ({{ user.extension }})\n{% for k in blf %}linekey.{{ loop.index + 1 }}.value = {{ k.extension }}\n{% endfor %}";

#[test]
fn a_good_template_passes() {
    let d = dir("good");
    let good = write(&d, "desk.j2", GOOD);
    let placeholder = write(&d, "desk.cfg", "account.1.label = {SIP_NUM}\n");
    let (code, out, err) = run(bin()
        .args(["template", "check", "--vendor", "yealink"])
        .arg(&good)
        .arg(&placeholder));
    assert_eq!(code, 0, "{err}");
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
}

#[test]
fn a_broken_jinja_template_fails_at_its_position() {
    let d = dir("broken");
    // Line 3, column 23: the `}` that should be `}}`.
    let bad = write(&d, "bad.j2", "a = 1\nb = 2\nc = {{ user.extension }\n");
    let good = write(&d, "good.j2", GOOD);
    let (code, _, err) = run(bin()
        .args(["template", "check", "--vendor", "yealink"])
        .arg(&good)
        .arg(&bad));
    assert_eq!(code, 1);
    let prefix = format!(
        "{}:3:23: template syntax error: unexpected `}}`",
        bad.display()
    );
    assert!(err.starts_with(&prefix), "{err}");
    assert_eq!(err.lines().count(), 1, "only the broken file: {err}");
    // The column is the engine's, exactly.
    let t = engine::Template {
        name: "bad.j2".into(),
        vendor: engine::Vendor::Yealink,
        style: engine::TemplateStyle::Jinja,
        composition: engine::Composition::Overlay,
        source: std::fs::read_to_string(&bad).unwrap(),
    };
    let diag = &engine::check_template(&t)[0];
    assert_eq!(
        err.trim_end(),
        format!(
            "{}:{}:{}: {}",
            bad.display(),
            diag.line.unwrap(),
            diag.column.unwrap(),
            diag.message
        )
    );
    // XML that is not well-formed, for an XML vendor.
    let xml = write(
        &d,
        "snom.xml.j2",
        "<settings>\n  <a>{{ user.extension }}</b>\n</settings>\n",
    );
    let (code, _, err) = run(bin()
        .args([
            "template",
            "check",
            "--vendor",
            "snom",
            "--composition",
            "replace",
        ])
        .arg(&xml));
    assert_eq!(code, 1);
    assert!(err.starts_with(&format!("{}:2:", xml.display())), "{err}");
}

#[test]
fn a_bad_ini_parameter_fails_at_its_line() {
    let d = dir("params");
    let ini = write(
        &d,
        "site.ini",
        "[yealink]\nphone_setting.backlight_time = 60\n\n  this is not a parameter\n",
    );
    let (code, _, err) = run(bin()
        .args(["template", "check", "--vendor", "yealink", "--params"])
        .arg(&ini));
    assert_eq!(code, 1);
    assert_eq!(
        err.trim_end(),
        format!(
            "{}:4:3: invalid additional parameters: expected key = value",
            ini.display()
        )
    );
    let ok = write(
        &d,
        "ok.ini",
        "[yealink]\nphone_setting.backlight_time = 60\n",
    );
    let (code, _, err) = run(bin().args(["template", "check", "--params"]).arg(&ok));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn render_prints_what_the_engine_renders_and_diff_the_changes() {
    let d = dir("render");
    let tpl = write(&d, "desk.j2", GOOD);
    let ini = write(
        &d,
        "site.ini",
        "[yealink]\nphone_setting.backlight_time = 60\n",
    );
    let (code, out, err) = run(bin()
        .args([
            "template", "render", "--vendor", "yealink", "--model", "T54W",
        ])
        .arg(&tpl)
        .arg("--params")
        .arg(&ini));
    assert_eq!(code, 0, "{err}");
    let mut req = engine::PreviewRequest::sample(engine::Vendor::Yealink);
    req.model = Some("T54W".into());
    req.additional_params = Some(std::fs::read_to_string(&ini).unwrap());
    req.template = Some(engine::TemplateDraft {
        name: None,
        vendor: None,
        style: engine::TemplateStyle::Jinja,
        composition: engine::Composition::Overlay,
        source: GOOD.into(),
    });
    let expected = engine::preview(&req).unwrap();
    assert_eq!(out, expected.config);
    assert!(out.contains("account.1.label = Irina Smirnova (204)\n"));
    assert!(out.contains("account.1.password = ********\n"), "masked");

    let (code, out, _) = run(bin()
        .args(["template", "diff", "--vendor", "yealink", "--model", "T54W"])
        .arg(&tpl)
        .arg("--params")
        .arg(&ini));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        engine::unified_diff(
            &expected.default_config,
            &expected.config,
            "default/001565123456.cfg",
            &format!("{}/001565123456.cfg", tpl.display())
        )
    );
    assert!(
        out.contains("\n+phone_setting.backlight_time = 60\n"),
        "{out}"
    );

    // With the demo inventory: its user, its site.
    let inv = concat!(env!("CARGO_MANIFEST_DIR"), "/inventory.example.toml");
    let (code, out, err) = run(bin()
        .args([
            "template",
            "render",
            "--vendor",
            "yealink",
            "--inventory",
            inv,
            "--user-extension",
            "202",
            "--reveal-secrets",
        ])
        .arg(&tpl));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("account.1.label = Jonas Weber (202)\n"),
        "{out}"
    );
    assert!(out.contains("demo-Kp3-wQ8y-Nn5u"), "revealed");
    assert!(out.contains("pbx.demo.example"));

    // A template that fails at render time: the template's position, exit 1.
    let bad = write(&d, "bad.j2", "a = 1\nb = {{ user.nope }}\n");
    let (code, out, err) = run(bin()
        .args(["template", "render", "--vendor", "yealink"])
        .arg(&bad));
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with(&format!("{}:2:", bad.display())), "{err}");
}

#[test]
fn check_warns_when_tftp_or_http_listen_beyond_the_lan() {
    let d = dir("check-exposure");
    // TFTP on for good, on a public address; HTTP on the LAN address.
    let public = write(
        &d,
        "public.toml",
        "[http]\nlisten = \"192.168.1.10:8480\"\n[tftp]\nenabled = true\nlisten = \"203.0.113.7:69\"\n",
    );
    let (code, out, err) = run(bin().arg("--check").arg("--config").arg(&public));
    assert_eq!(code, 0, "a warning, not an error: {err}");
    assert!(out.contains("TFTP: on ([tftp] enabled = true)"), "{out}");
    assert!(
        err.contains("warning: TFTP listens beyond the LAN, on the public address 203.0.113.7:69")
            && err.contains("no authentication"),
        "{err}"
    );
    assert!(!err.contains("HTTP listens"), "HTTP is on the LAN: {err}");
    // HTTP on a public address too; TFTP left to the site (off by default) is still warned
    // about, for when the site turns it on.
    let both = write(
        &d,
        "both.toml",
        "[http]\nlisten = \"198.51.100.20:8480\"\n[tftp]\nlisten = \"198.51.100.20:69\"\n",
    );
    let (code, out, err) = run(bin().arg("--check").arg("--config").arg(&both));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("TFTP: off unless the site turns it on"),
        "{out}"
    );
    assert!(
        err.contains(
            "warning: HTTP listens beyond the LAN, on the public address 198.51.100.20:8480"
        ),
        "{err}"
    );
    assert!(
        err.contains("warning: TFTP (while the site turns it on) listens beyond the LAN"),
        "{err}"
    );
    // Both on the LAN: nothing to warn of.
    let lan = write(
        &d,
        "lan.toml",
        "[http]\nlisten = \"127.0.0.1:8480\"\n[tftp]\nenabled = true\nlisten = \"10.0.0.5:69\"\n",
    );
    let (code, _, err) = run(bin().arg("--check").arg("--config").arg(&lan));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
}
