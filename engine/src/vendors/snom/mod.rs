//! Snom: User-Agent, file names, the XML settings format, merges, the remote and the local
//! phonebook, and the M-series DECT bases.
//!
//! What the phones send and ask for:
//! - User-Agent `Mozilla/4.0 (compatible; snom<model>-SIP <fw> <build> <MAC> ...)`, e.g.
//!   `... snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)`; firmware
//!   before 8.7.5 leaves the MAC out (`snom320-SIP 8.4.18 1.1.3-s`), firmware 6 sends
//!   `snom lid 3605` (wazo-platform/wazo-provd-plugins `plugins/wazo_snom/common/common.py`,
//!   its list of sample User-Agents).
//! - M-series DECT bases send `Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)`
//!   over HTTP (wazo-provd-plugins `plugins/wazo_snom/common_dect/common.py`, `_UA_REGEX_MAC`
//!   `[sS]nom\s?M[0-9]{3} <version> <MAC>`) and `snomM700/03.23.0005 (MAC=<MAC>; SER= 00000;
//!   HW=255)` in SIP, e.g. in their PnP SUBSCRIBE (Snom *Provisioning Guide M700, M300*,
//!   PNP).
//! - With `setting_server` pointing at a directory (ending in `/`), the phone first fetches
//!   the general file `snom<model>.htm`, then the phone-specific `snom<model>-<MAC>.htm`
//!   (uppercase MAC). Each may be a `<setting-files>` list of further URLs or a `<settings>`
//!   document itself: the phone detects XML content (Snom wiki *Mass Deployment/Setting
//!   Files*; Wazo serves `snom<model>.htm` -> `snom-general.xml`, `snom<model>.xml` ->
//!   `snom<model>-firmware.xml`, and `snom<model>-<MAC>.htm` -> `<MAC>.xml`).
//! - `setting_server` may contain `{mac}`, which the phone replaces with its MAC (Snom FAQ
//!   *Configuring snom phones for Mass Deployment*); Snom 3xx puts colons in it
//!   (amooma/GS4#5), which is why this module points phones at a directory instead.
//!
//! How this module maps them: `snom<model>-<MAC>.htm` and `<MAC>.xml` are the device config
//! (the full `<settings>` document is served at both); `snom<model>.htm` (a `<setting-files>`
//! list naming `snom<model>.xml`), `snom<model>.xml`, `snom<model>-firmware.xml` and
//! `snom-general.xml` are common files without secrets. [`Snom::device_file_name`] is
//! `<MAC>.xml`, the only name that does not need the model.
//!
//! DECT bases (M300, M400, M700, M900) read the same names as the desk phones: the device
//! files `snom<model>-<MAC>.htm` and `<MAC>.xml` (wazo `common_dect/common.py`
//! `_dev_specific_filenames`, identical to the desk plugin's) and the common
//! `snom<model>.htm`, `snom<model>.xml`, `snom<model>-firmware.xml` and `snom-general.xml`,
//! plus `snom<model>-firmware.htm` on firmware 07.40 (`_common_templates`,
//! `snom-model-new.htm.tpl.btpl`). Their settings differ: see [`write_base_accounts`].
//!
//! The settings format: `<settings><phone-settings>` holding one element per setting, with
//! `perm` (`R` read-only for the user, `RW` user-changeable, overwritten by provisioning) and,
//! for per-identity settings, `idx` (1-based identity); then `<functionKeys>` with
//! `<fkey idx="K" context="N|active" label=".." perm="..">type value</fkey>` (idx 0-based).
//! Sources: the MikoPBX reference body (PROTOCOLS.md), Wazo `templates/base.tpl` and
//! `var/tftpboot/snom-general.xml`, FusionPBX `resources/templates/provision/snom/D785/{$mac}.xml`,
//! Snom *D7 User Manual* (fkey syntax, `context` = identity number or `active`).
//!
//! Settings written and where they come from:
//! - identity N: `user_pname` (auth name), `user_name`, `user_realname`, `user_pass`,
//!   `user_host`, `user_srtp`, `user_mailbox` (the MikoPBX reference), plus `user_active`,
//!   `user_idle_text` and, for TCP/TLS, `user_outbound host:port;transport=..` (Wazo, FusionPBX).
//!   The model's identities past the ones in use get `user_active` `off` and these keys
//!   emptied, so a removed line stops registering (Wazo's `snom-general.xml`); a DECT base's
//!   unused accounts likewise, see [`write_base_accounts`].
//! - `time_24_format`: the reference puts it directly under `<settings>`, but Snom reads
//!   settings from `<phone-settings>` (Wazo `snom-general.xml` sets it there), so it is
//!   written there.
//! - `language`/`web_language` (Snom's own language names), `ntp_server`, `timezone` (Snom's
//!   codes such as `GER+1`, `USA-5`: a country prefix that selects the DST rule, then the
//!   standard offset; list from the Snom web UI as copied in provisioner templates, and
//!   `snom_tz` below).
//! - `firmware` (URL of the image; with `update_policy` `auto_update` the phone installs it
//!   without asking: FusionPBX D785 template, Wazo `snom-general.xml`), `setting_server`,
//!   `settings_refresh_timer` (seconds, 0 = off; FusionPBX default 3600).
//! - remote phonebook: `dkey_directory` = `url <URL>` makes the directory key open the URL in
//!   the XML minibrowser (Wazo `base.tpl`), so the phonebook is a `<SnomIPPhoneDirectory>`.
//! - local phonebook: the site directory (`Profile::contacts`) as `<tbook>` inside
//!   `<settings>`, which the phone takes either there or as a setting file of its own (Snom
//!   wiki *`<tbook>`, `<phone-book>` tag*); inside the settings it needs no route of its own
//!   ([`write_tbook`]). Caller names resolve from it.
//! - PnP: the NOTIFY body is the `setting_server` URL, given as a folder ending in `/`
//!   (see `FACTS.pnp_url`).
//! - SIP NOTIFY `Event: check-sync;reboot=false` re-provisions without reboot and is accepted
//!   by default; Snom has no switch to turn on (wazo-provd-plugins PR #146, Snom wiki "How to
//!   trigger the phone to reset or synchronize its settings").

pub(crate) mod account;
mod models;
pub(crate) mod rps;

use crate::detect::{PathMatch, UaInfo};
use crate::error::{Error, ErrorKind, Result};
use crate::inputs::{Contact, Language, Line, Profile, Transport};
use crate::mac::Mac;
use crate::params::{Param, Section};
use crate::tz::TimeZone;
use crate::vendors::{
    line_safe, CheckSyncEvents, CommonContext, ConfigSyntax, Facts, ParamSection, PnpUrlForm,
    RpsApi, RpsCode, VendorModule,
};
use crate::xml::{Document, Element, Node};

/// Snom's facts. OUI from the IEEE registry. Check-sync: `check-sync;reboot=false` re-reads
/// the settings without a restart, `check-sync;reboot=true` restarts (Snom wiki;
/// wazo-provd's Snom plugin; FreePBX `snom-check-cfg`/`reboot-snom`). RPS: SRAPS (RPS.md).
pub(crate) const FACTS: Facts = Facts {
    name: "snom",
    display_name: "Snom",
    ouis: &[[0x00, 0x04, 0x13]],
    sample_model: "D785",
    param_sections: &[
        ParamSection {
            section: Section::Snom,
            name: "snom",
        },
        ParamSection {
            section: Section::SnomPhoneSettings,
            name: "snom-phone-settings",
        },
    ],
    rps: RpsApi::Full,
    rps_site_url_note: None,
    rps_manual_note: None,
    redirect_only: None,
    check_sync: Some(CheckSyncEvents {
        resync: "check-sync;reboot=false",
        reboot: "check-sync;reboot=true",
    }),
    models: models::MODELS,
    // The NOTIFY body is the phone's `setting_server` URL (Snom wiki *SIP Plug & Play
    // (PnP)*: "a SIP NOTIFY message containing the Auto Provisioning Server URL
    // (setting_server URL)"). A file URL is fetched as it is; a folder URL must end in `/`
    // for the phone to append `snom<model>.htm` and `snom<model>-<MAC>.htm` to it, the form
    // Wazo writes (`plugins/wazo_snom/common/templates/base.tpl`, `<setting_server>` =
    // `{{ XX_server_url }}/`) and FusionPBX documents (`…/app/provision/`). Without the
    // `/` the phone would fetch the bare base as its settings.
    pnp_url: PnpUrlForm::Folder,
    local_directory: true,
    rps_desk_codes: false,
};

/// Snom's redirection-service code: its PortSIP section.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: None,
};

/// Snom's module.
pub(crate) struct Snom;

const DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
const ROOT: &str = "settings";
const PHONE_SETTINGS: &str = "phone-settings";
const FUNCTION_KEYS: &str = "functionKeys";

impl VendorModule for Snom {
    fn syntax(&self) -> ConfigSyntax {
        ConfigSyntax::Xml
    }

    fn parse_user_agent(&self, ua: &str) -> Option<UaInfo> {
        parse_ua(ua)
    }

    fn classify_file(&self, file: &str) -> Option<PathMatch> {
        classify(file)
    }

    fn device_file_name(&self, mac: &Mac) -> String {
        let mut s = mac.to_upper_hex();
        s.push_str(".xml");
        s
    }

    fn write_config(&self, profile: &Profile, out: &mut String) {
        write_settings(profile, out);
    }

    fn write_common(&self, file: &str, common: &CommonContext<'_>, out: &mut String) {
        write_common_file(file, common, out);
    }

    fn overlay(&self, config: &str, overlay: &str) -> Result<String> {
        let mut doc = parse_config(config)?;
        let (items, is_doc) = parse_overlay(overlay, ROOT)?;
        for el in items {
            merge_element(&mut doc.root, el, is_doc);
        }
        Ok(doc.to_xml())
    }

    fn apply_params(&self, config: &str, params: &[&Param]) -> Result<String> {
        let mut doc = parse_config(config)?;
        for p in params {
            let into_root = match p.section {
                Section::Snom => true,
                Section::SnomPhoneSettings => false,
                _ => continue,
            };
            let el = param_element(p)?;
            if into_root {
                upsert_keyed(&mut doc.root, el);
            } else {
                upsert_keyed(doc.root.child_or_insert(PHONE_SETTINGS), el);
            }
        }
        Ok(doc.to_xml())
    }

    fn write_phonebook(&self, title: &str, contacts: &[Contact], out: &mut String) {
        out.push_str(DECL);
        out.push_str("<SnomIPPhoneDirectory>\n");
        leaf(out, 1, "Title", None, None, title);
        for c in contacts {
            out.push_str("  <DirectoryEntry>\n");
            leaf(out, 2, "Name", None, None, &c.name);
            leaf(out, 2, "Telephone", None, None, &c.number);
            out.push_str("  </DirectoryEntry>\n");
        }
        out.push_str("</SnomIPPhoneDirectory>\n");
    }

    fn read_phonebook(&self, root: &crate::xml::Element) -> Option<Vec<Contact>> {
        // The shape `write_phonebook` writes (see the module docs: Wazo `base.tpl`).
        (root.name == "SnomIPPhoneDirectory")
            .then(|| crate::phonebook_source::directory_entries(root))
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        // Desk phones: `snom<model>-<ver>-SIP-r.bin`; M-series bases:
        // `<model>_v<ver>_b<build>.fwu` (wazo-provd-plugins `plugins/wazo_snom/*/pkgs/pkgs.db`).
        &[".bin", ".fw", ".fwu"]
    }

    fn example_template(&self) -> &'static str {
        include_str!("example.xml")
    }
}

// ---------------------------------------------------------------------------------------
// Detection

fn parse_ua(ua: &str) -> Option<UaInfo> {
    // The product token starts with `snom` (any case) at a word start; what follows decides
    // the form. The first such token decides: a UA naming Snom in any other way is not
    // a Snom phone's.
    let bytes = ua.as_bytes();
    let mut from = 0;
    let rest = loop {
        let at = from
            + bytes
                .get(from..)?
                .windows(4)
                .position(|w| w.eq_ignore_ascii_case(b"snom"))?;
        let boundary = at == 0 || matches!(bytes.get(at - 1), Some(b' ' | b'(' | b';'));
        if boundary {
            // `snom` is ASCII, so `at + 4` is a character boundary.
            break ua.get(at + 4..)?;
        }
        from = at + 4;
    };
    if rest.starts_with(" lid") {
        // Firmware 6: `snom lid 3605`, no model.
        return Some(UaInfo::default());
    }
    if let Some((model, after)) = rest.split_once("-SIP ") {
        // Desk phones: `snom<model>-SIP <fw> <build> [<MAC>] ...`.
        if !valid_model(model) {
            return None;
        }
        return ua_tail(model, after, "");
    }
    if let Some((model, after)) = rest.split_once('/') {
        // M-series bases in SIP: `snomM700/03.23.0005 (MAC=000413xxxxxx; SER= 00000; HW=255)`
        // (Snom *Provisioning Guide M700, M300*, PNP: the SUBSCRIBE's User-Agent).
        if valid_model(model) && model.starts_with('M') {
            return ua_tail(model, after, "MAC=");
        }
    }
    // M-series bases in HTTP: `Snom M900 05.20.0001 000413b60680` (wazo-provd-plugins
    // `plugins/wazo_snom/common_dect/common.py`, `_UA_REGEX_MAC`: `[sS]nom\s?M[0-9]{3}`).
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (model, after) = rest.split_once(' ')?;
    if model.len() == 4 && model.starts_with('M') && valid_model(model) {
        return ua_tail(model, after, "");
    }
    None
}

/// The firmware (first token, digits and dots) and the MAC (one of the next tokens, after
/// `mac_prefix`) that follow a model in a User-Agent.
fn ua_tail(model: &str, after: &str, mac_prefix: &str) -> Option<UaInfo> {
    let mut tokens = after.split([' ', ';', ')', '(']).filter(|t| !t.is_empty());
    let fw = tokens.next()?;
    if fw.len() > 32
        || !fw.starts_with(|c: char| c.is_ascii_digit())
        || !fw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    let mac = tokens
        .take(8)
        .find_map(|t| t.strip_prefix(mac_prefix).and_then(Mac::from_hex12));
    Some(UaInfo {
        model: Some(model.to_owned()),
        firmware: Some(fw.to_owned()),
        mac,
    })
}

/// A Snom model as it appears in file names and User-Agents: `D785`, `320`, `M900`, `PA1`.
fn valid_model(model: &str) -> bool {
    (1..=16).contains(&model.len()) && model.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn classify(file: &str) -> Option<PathMatch> {
    if let Some(stem) = file.strip_suffix(".xml") {
        if let Some(mac) = Mac::from_hex12(stem) {
            return Some(PathMatch::DeviceConfig { mac });
        }
        if stem == "snom-general" {
            return Some(PathMatch::Common { model: None });
        }
        let rest = stem.strip_prefix("snom")?;
        let model = rest.strip_suffix("-firmware").unwrap_or(rest);
        return valid_model(model).then(|| PathMatch::Common {
            model: Some(model.to_owned()),
        });
    }
    let rest = file.strip_suffix(".htm")?.strip_prefix("snom")?;
    match rest.split_once('-') {
        Some((model, mac)) => {
            if !valid_model(model) {
                return None;
            }
            if mac == "firmware" {
                // M-series bases on firmware 07.40 list `snom<model>-firmware.htm` in their
                // common file (wazo-provd-plugins `plugins/wazo_snom/common_dect/common.py`,
                // `_common_templates`; `templates/common/snom-model-new.htm.tpl.btpl`).
                return Some(PathMatch::Common {
                    model: Some(model.to_owned()),
                });
            }
            Mac::from_hex12(mac).map(|mac| PathMatch::DeviceConfig { mac })
        }
        None => valid_model(rest).then(|| PathMatch::Common {
            model: Some(rest.to_owned()),
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Writing (canonical layout of crate::xml: two spaces per level, text-only elements on one
// line, empty elements self-closed).

pub(super) fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

pub(super) fn push_num(out: &mut String, n: u64) {
    super::push_decimal(out, n);
}

/// Appends a value for text or an attribute: XML-escaped, control characters blanked.
pub(super) fn push_value(out: &mut String, v: &str) {
    crate::xml::escape_into(v, out);
}

/// `<name idx="N" perm="P">text</name>` (attributes optional), self-closed when text is empty.
fn leaf(
    out: &mut String,
    depth: usize,
    name: &str,
    idx: Option<u64>,
    perm: Option<&str>,
    text: &str,
) {
    indent(out, depth);
    out.push('<');
    out.push_str(name);
    if let Some(i) = idx {
        out.push_str(" idx=\"");
        push_num(out, i);
        out.push('"');
    }
    if let Some(p) = perm {
        out.push_str(" perm=\"");
        out.push_str(p);
        out.push('"');
    }
    if text.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    push_value(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// A phone setting (depth 2, inside `<phone-settings>`).
fn setting(out: &mut String, name: &str, idx: Option<u64>, text: &str) {
    leaf(out, 2, name, idx, Some("RW"), text);
}

/// The model row of `model`, if the table has it.
fn model_row(model: &str) -> Option<&'static crate::vendors::Model> {
    models::MODELS
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(model.trim()))
}

/// `true` when `model` is an M-series DECT base.
fn is_dect_base(model: &str) -> bool {
    model_row(model).is_some_and(|m| m.is_dect_base())
}

fn write_settings(p: &Profile, out: &mut String) {
    let base = is_dect_base(&p.device.model);
    out.push_str(DECL);
    out.push_str("<settings>\n  <phone-settings>\n");
    // The reference has time_24_format with perm R; Snom's default is 24 h.
    leaf(out, 2, "time_24_format", None, Some("R"), "on");
    let row = model_row(&p.device.model);
    if base {
        let accounts = row.map_or(0, |m| usize::from(m.accounts));
        write_base_accounts(out, &p.lines, accounts);
    } else {
        for (i, line) in p.lines.iter().enumerate() {
            write_identity(out, i as u64 + 1, line);
        }
        // The identities the model has beyond the ones in use are switched off and emptied,
        // so a line removed from the phone stops registering and its credentials leave it.
        // Wazo's general file, which every Snom desk phone it provisions reads before its
        // own, switches off identities 1..12 the same way (`user_active` `off`:
        // wazo-platform/wazo-provd-plugins `plugins/wazo_snom/common/var/tftpboot/
        // snom-general.xml`); the emptied keys are the ones `write_identity` writes
        // (`plugins/wazo_snom/common/templates/base.tpl`). An unknown model has no count:
        // nothing past its lines is written.
        let accounts = row.map_or(0, |m| u64::from(m.accounts));
        for n in p.lines.len() as u64 + 1..=accounts {
            write_identity_off(out, n);
        }
    }
    if let Some(lang) = p.language {
        let name = language_name(lang);
        setting(out, "language", None, name);
        setting(out, "web_language", None, name);
    }
    if let Some(ntp) = &p.ntp_server {
        setting(out, "ntp_server", None, ntp);
    }
    if let Some(code) = p.timezone.as_ref().and_then(snom_tz) {
        setting(out, "timezone", None, code);
    }
    // A base takes its firmware as a folder URL plus version numbers
    // (`common_dect/templates/common/snom-model-firmware.xml.tpl.btpl`), not an image URL:
    // none is written for it.
    let firmware = if base {
        None
    } else {
        p.firmware_url.as_deref()
    };
    write_provisioning(
        out,
        p.provisioning_url.as_deref(),
        firmware,
        p.poll_interval_minutes,
    );
    // A base has no directory key (its phonebook is `phonebook_location`, which Wazo's
    // 05.20 plugin notes is too short for a phonebook URL: `v05_20_0001/limitations.md`).
    if let Some(url) = p
        .phonebook_url
        .as_deref()
        .filter(|u| !u.is_empty() && !base)
    {
        indent(out, 2);
        out.push_str("<dkey_directory perm=\"RW\">url ");
        push_value(out, url);
        out.push_str("</dkey_directory>\n");
    }
    out.push_str("  </phone-settings>\n");
    if !base && (!p.lines.is_empty() || !p.blf.is_empty()) {
        write_function_keys(p, out);
    }
    if !base {
        write_tbook(out, &p.device.model, &p.contacts);
    }
    out.push_str("</settings>\n");
}

/// The accounts of an M-series DECT base (wazo-provd-plugins
/// `plugins/wazo_snom/common_dect/templates/base.tpl` and `base-new.tpl`): the SIP server
/// is its own indexed setting (`user_host`, `srv_sip_server_alias` with the *server*
/// index, at most 10 servers), and account N carries `user_*` with `idx="N"`, the server
/// it registers at (`subscr_sip_ua_data_server_id`), the handset it rings and calls from
/// (`subscr_sip_hs_idx`) and the line name shown on that handset (`subscr_sip_line_name`:
/// the extension, as `base-new.tpl` writes it). An account with no handset gets no
/// `subscr_sip_hs_idx`: the base keeps its own assignment (Wazo's `snom-general.xml.tpl`
/// presets account N to handset N). The transport is not written: Wazo's DECT templates
/// have none, and the base's key for it is not in the sources at hand.
///
/// Every account past the ones in use, up to `accounts` (the model row's count, capped at
/// [`BASE_RESET_CAP`]), is written too: switched off, emptied and taken off its handset
/// (see [`write_base_account_off`]), so a handset unbound or a user deleted stops
/// registering and ringing.
fn write_base_accounts(out: &mut String, lines: &[Line], accounts: usize) {
    const MAX_SERVERS: usize = 10;
    let mut servers: Vec<(&str, u16)> = Vec::new();
    let mut server_of = Vec::with_capacity(lines.len());
    for line in lines {
        let key = (line.server_host.as_str(), line.server_port);
        let id = match servers.iter().position(|s| *s == key) {
            Some(i) => i + 1,
            None if servers.len() < MAX_SERVERS => {
                servers.push(key);
                servers.len()
            }
            // Past ten servers the account shares the last one (Wazo logs the same limit).
            None => MAX_SERVERS,
        };
        server_of.push(id as u64);
    }
    for (i, (host, port)) in servers.iter().enumerate() {
        let idx = Some(i as u64 + 1);
        let mut alias = String::from("PBX ");
        push_num(&mut alias, i as u64 + 1);
        setting(out, "srv_sip_server_alias", idx, &alias);
        let mut hostport = (*host).to_owned();
        if *port != 5060 {
            hostport.push(':');
            push_num(&mut hostport, u64::from(*port));
        }
        setting(out, "user_host", idx, &hostport);
    }
    for (i, line) in lines.iter().enumerate() {
        let n = i as u64 + 1;
        let idx = Some(n);
        setting(out, "user_active", idx, "on");
        setting(out, "user_name", idx, &line.extension);
        setting(out, "user_pname", idx, &line.auth_name);
        setting(out, "user_pass", idx, line.password.expose());
        setting(out, "user_realname", idx, &line.display_name);
        setting(out, "user_mailbox", idx, &line.voicemail);
        setting(out, "subscr_sip_line_name", idx, &line.extension);
        if let Some(hs) = line.handset.filter(|h| *h > 0) {
            let mut v = String::new();
            push_num(&mut v, u64::from(hs));
            setting(out, "subscr_sip_hs_idx", idx, &v);
        }
        let mut v = String::new();
        push_num(&mut v, server_of.get(i).copied().unwrap_or(1));
        setting(out, "subscr_sip_ua_data_server_id", idx, &v);
    }
    for n in lines.len() + 1..=accounts.min(BASE_RESET_CAP) {
        write_base_account_off(out, n as u64);
    }
}

/// The highest base account this module switches off and empties. The M700 and M900 take
/// 1000 accounts (`plugins/wazo_snom/v05_20_0001/plugin-info` and `v07_40_0104/plugin-info`,
/// `"lines": 1000`); Wazo's general file switches off accounts 1..999 on every base
/// (`plugins/wazo_snom/common_dect/templates/common/snom-general.xml.tpl`,
/// `range(1, 1000)`, about 200 kB, served to every base it provisions). This module never
/// writes an account above 255: the model rows cap M700/M900 there (`models.rs`) and the
/// inventory binds at most a row's `accounts` lines to a base (`inventory.rs`). So 255
/// covers every account this system can have configured, at about 340 bytes each (85 kB
/// for an M700 with three handsets, `tests/fixtures/snom/dect-m700.expected.xml`; an M300
/// or M400 stops at its 20). The risk: accounts 256..1000 that someone else configured on the base (by
/// hand, or another provisioning system before this one) keep registering; clear them
/// once in the base's web interface, or reset the base, when taking it over.
const BASE_RESET_CAP: usize = 255;

/// An unused base account: `user_active` `off` (so it does not register, the value Wazo's
/// `common_dect/templates/common/snom-general.xml.tpl` gives every account), its identity
/// and credentials emptied (the keys `base.tpl`/`base-new.tpl` fill for an account in use:
/// `user_name`, `user_pname`, `user_pass`, `user_realname`, `user_mailbox`,
/// `subscr_sip_line_name`), and `subscr_sip_hs_idx` empty, taking it off the handset it
/// rang. No source at hand names a "no handset" value for `subscr_sip_hs_idx` (Wazo's
/// general file presets account N to handset N instead): the empty value is this module's
/// choice. Should a firmware ignore it, the account still stays off and holds no
/// credentials, so it neither registers nor rings.
fn write_base_account_off(out: &mut String, n: u64) {
    let idx = Some(n);
    setting(out, "user_active", idx, "off");
    for name in [
        "user_name",
        "user_pname",
        "user_pass",
        "user_realname",
        "user_mailbox",
        "subscr_sip_line_name",
        "subscr_sip_hs_idx",
    ] {
        setting(out, name, idx, "");
    }
}

/// Entries a model's local phonebook holds: snom300/320/360 take indexes 0..99, snom370
/// 0..249 (Snom wiki *Features/Mass Deployment/Setting Files/XML/Directory*). For the
/// other models no stored source gives the figure: 1000 is this module's setting (a
/// larger site directory is still complete in the remote phonebook behind the directory
/// key).
fn tbook_capacity(model: &str) -> usize {
    match model {
        "300" | "320" | "360" => 100,
        "370" => 250,
        _ => 1000,
    }
}

/// The local phonebook (Snom's `<tbook>`, Snom wiki *`<tbook>`, `<phone-book>` tag*): inside
/// `<settings>`, so it arrives with the settings and needs no file of its own. The phone
/// resolves caller names from it. `complete="true"` (firmware 8.2 and later) makes the
/// list replace the phone's previous one, so a user removed from the site leaves the
/// phone too (and so do entries added on the phone by hand). Each `<item>` has the
/// `context` identity it calls from (`active`: the identity in use), a `type` category
/// (`none`, as in the wiki's example) and its unique `index`. Nothing is written without
/// contacts, so a shell that does not load the directory leaves the phone's book alone.
fn write_tbook(out: &mut String, model: &str, contacts: &[Contact]) {
    if contacts.is_empty() {
        return;
    }
    out.push_str("  <tbook complete=\"true\">\n");
    for (i, c) in contacts.iter().take(tbook_capacity(model)).enumerate() {
        out.push_str("    <item context=\"active\" type=\"none\" index=\"");
        push_num(out, i as u64);
        out.push_str("\">\n");
        leaf(out, 3, "name", None, None, &line_safe(&c.name));
        leaf(out, 3, "number", None, None, &line_safe(&c.number));
        out.push_str("    </item>\n");
    }
    out.push_str("  </tbook>\n");
}

fn write_identity(out: &mut String, n: u64, line: &Line) {
    let idx = Some(n);
    setting(out, "user_pname", idx, &line.auth_name);
    setting(out, "user_name", idx, &line.extension);
    setting(out, "user_realname", idx, &line.display_name);
    setting(out, "user_pass", idx, line.password.expose());
    // user_host takes host[:port]; the default port is left out so DNS SRV still works.
    indent(out, 2);
    out.push_str("<user_host idx=\"");
    push_num(out, n);
    out.push_str("\" perm=\"RW\">");
    push_value(out, &line.server_host);
    if line.server_port != 5060 {
        out.push(':');
        push_num(out, u64::from(line.server_port));
    }
    out.push_str("</user_host>\n");
    setting(out, "user_srtp", idx, "off");
    setting(out, "user_mailbox", idx, &line.voicemail);
    setting(out, "user_active", idx, "on");
    setting(out, "user_idle_text", idx, line.effective_label());
    if line.transport != Transport::Udp {
        // The transport is chosen through the outbound proxy (Wazo base.tpl, FusionPBX).
        indent(out, 2);
        out.push_str("<user_outbound idx=\"");
        push_num(out, n);
        out.push_str("\" perm=\"RW\">");
        push_value(out, &line.server_host);
        out.push(':');
        push_num(out, u64::from(line.server_port));
        out.push_str(";transport=");
        out.push_str(line.transport.as_str());
        out.push_str("</user_outbound>\n");
    }
}

/// An identity past the ones in use: `user_active` `off` and the keys [`write_identity`]
/// writes emptied (`user_srtp` keeps its default; `user_outbound` is emptied as a line on
/// TCP/TLS leaves one behind).
fn write_identity_off(out: &mut String, n: u64) {
    let idx = Some(n);
    setting(out, "user_active", idx, "off");
    for name in [
        "user_pname",
        "user_name",
        "user_realname",
        "user_pass",
        "user_host",
        "user_mailbox",
        "user_idle_text",
        "user_outbound",
    ] {
        setting(out, name, idx, "");
    }
}

/// Provisioning and firmware settings, shared by the device config and the common files.
fn write_provisioning(
    out: &mut String,
    server: Option<&str>,
    firmware: Option<&str>,
    poll_minutes: u32,
) {
    setting(out, "update_policy", None, "auto_update");
    if let Some(url) = server.filter(|u| !u.is_empty()) {
        // A directory URL: the phone appends snom<model>.htm and snom<model>-<MAC>.htm.
        indent(out, 2);
        out.push_str("<setting_server perm=\"RW\">");
        push_value(out, url);
        if !url.ends_with('/') {
            out.push('/');
        }
        out.push_str("</setting_server>\n");
    }
    indent(out, 2);
    out.push_str("<settings_refresh_timer perm=\"RW\">");
    push_num(out, u64::from(poll_minutes) * 60);
    out.push_str("</settings_refresh_timer>\n");
    if let Some(fw) = firmware.filter(|u| !u.is_empty()) {
        setting(out, "firmware", None, fw);
    }
}

fn write_function_keys(p: &Profile, out: &mut String) {
    out.push_str("  <functionKeys>\n");
    let mut k: u64 = 0;
    for (i, line) in p.lines.iter().enumerate() {
        fkey_open(
            out,
            k,
            FkeyContext::Identity(i as u64 + 1),
            line.effective_label(),
        );
        out.push_str("line</fkey>\n");
        k += 1;
    }
    for b in &p.blf {
        let line_no = usize::from(b.line);
        let account = line_no.checked_sub(1).and_then(|i| p.lines.get(i));
        let context = match account {
            Some(_) => FkeyContext::Identity(u64::from(b.line)),
            None => FkeyContext::Active,
        };
        fkey_open(out, k, context, b.effective_label());
        out.push_str("blf ");
        // A full URI when the account's host is known; the phone completes a bare number
        // with the identity's domain otherwise.
        match account.or_else(|| p.lines.first()) {
            Some(l) => {
                out.push_str("sip:");
                push_value(out, &b.extension);
                out.push('@');
                push_value(out, &l.server_host);
            }
            None => push_value(out, &b.extension),
        }
        if !b.pickup_prefix.is_empty() {
            // `blf <uri>|<pickup code>`: the phone dials the code followed by the watched
            // extension to pick up (wazo-provd-plugins `plugins/wazo_snom/common/common.py`,
            // `_add_fkeys`: suffix `|{exten_pickup_call}`, Wazo's `*8`-style prefix).
            out.push('|');
            push_value(out, &b.pickup_prefix);
        }
        out.push_str("</fkey>\n");
        k += 1;
    }
    // The phone keeps a function key the file does not name, so a BLF key deleted here
    // would stay live watching its old extension: the model's other keys are set to
    // `none`, the value Snom's firmware takes for a key with no function (wazo-provd-plugins
    // `plugins/wazo-snom/common/templates/300.tpl`: `<fkey idx="3" context="active">none`).
    // Up to the phone's own keys (`models.rs`); expansion-module keys are not touched (no
    // source gives their idx numbering). An unknown model: only the keys written.
    let own = model_row(&p.device.model).map_or(0, |m| u64::from(m.line_keys));
    while k < own {
        fkey_open(out, k, FkeyContext::Active, "");
        out.push_str("none</fkey>\n");
        k += 1;
    }
    out.push_str("  </functionKeys>\n");
}

enum FkeyContext {
    Identity(u64),
    Active,
}

fn fkey_open(out: &mut String, idx: u64, context: FkeyContext, label: &str) {
    out.push_str("    <fkey idx=\"");
    push_num(out, idx);
    out.push_str("\" context=\"");
    match context {
        FkeyContext::Identity(n) => push_num(out, n),
        FkeyContext::Active => out.push_str("active"),
    }
    out.push_str("\" label=\"");
    push_value(out, label);
    out.push_str("\" perm=\"RW\">");
}

/// Snom's names for the user interface languages.
// Sources: wazo-provd-plugins `plugins/wazo_snom/common_dect/common.py` `_LOCALE`
// (`Deutsch`, `English`, `Espanol`, `Francais`, `Italiano`), the desk plugin's
// `common/common.py` `_LOCALE` (`Nederlands`; it spells French `Français`) and its
// `templates/common/gui_lang.xml.tpl` (`Deutsch`, `English`, `Espanol`, `Francais`,
// `Dutch`). Dutch is `Nederlands` here, as the desk plugin sets `language`; the DECT plugin
// and the language list say `Dutch`, so which name a given firmware takes is not settled.
// `Portugues`, `Russian`, `Polski` and `Turkce` follow the names of Snom's language files,
// for which no provisioning source was found. A site whose phones show another name sets
// `language` and `web_language` in `[snom-phone-settings]`.
fn language_name(lang: Language) -> &'static str {
    match lang {
        Language::De => "Deutsch",
        Language::Fr => "Francais",
        Language::It => "Italiano",
        Language::Es => "Espanol",
        Language::Nl => "Nederlands",
        Language::Pt => "Portugues",
        Language::Ru => "Russian",
        Language::Pl => "Polski",
        Language::Tr => "Turkce",
        _ => "English",
    }
}

/// Snom's time-zone code for the zones of the built-in table; `None` (no `timezone` written,
/// the phone keeps its own) where Snom has no code with the right offset and DST rule.
fn snom_tz(tz: &TimeZone) -> Option<&'static str> {
    Some(match tz.name() {
        "Europe/London" => "GBR-0",
        "Europe/Dublin" => "IRL-0",
        "Europe/Lisbon" => "PRT-0",
        "Europe/Paris" => "FRA+1",
        "Europe/Berlin" => "GER+1",
        "Europe/Amsterdam" => "NLD+1",
        "Europe/Brussels" => "BEL+1",
        "Europe/Madrid" => "ESP+1",
        "Europe/Rome" => "ITA+1",
        "Europe/Vienna" => "AUT+1",
        "Europe/Zurich" => "CHE+1",
        "Europe/Stockholm" => "SWE+1",
        "Europe/Oslo" => "NOR+1",
        "Europe/Copenhagen" => "DNK+1",
        "Europe/Warsaw" => "POL+1",
        "Europe/Prague" => "CZE+1",
        "Europe/Budapest" => "HUN+1",
        "Europe/Athens" => "GRC+2",
        "Europe/Helsinki" => "FIN+2",
        "Europe/Kyiv" => "UKR+2",
        "Europe/Bucharest" => "ROU+2",
        // Snom's TUR+2 predates Turkey's move to +3 all year; EAT+3 (East Africa Time) is
        // the code with +3 and no DST. A site that wants another code sets `timezone` in
        // `[snom-phone-settings]`.
        "Europe/Istanbul" | "Africa/Nairobi" => "EAT+3",
        // RUS+3 is Snom's Moscow code; firmware older than Russia's 2011 change may still
        // apply DST with it (then `timezone` = `EAT+3` in `[snom-phone-settings]` keeps +3).
        "Europe/Moscow" => "RUS+3",
        "Asia/Dubai" => "UAE+4",
        "Asia/Karachi" => "PAK+5",
        "Asia/Kolkata" => "IND+5.5",
        "Asia/Dhaka" => "KAZ+6",
        "Asia/Bangkok" | "Asia/Jakarta" => "THA+7",
        "Asia/Shanghai" => "CHN+8",
        "Asia/Hong_Kong" | "Asia/Singapore" => "SGP+8",
        "Asia/Tokyo" => "JPN+9",
        "Asia/Seoul" => "KOR+9",
        "Australia/Adelaide" => "AUS+9.5",
        "Australia/Brisbane" => "AUS2+10",
        "Australia/Sydney" => "AUS+10",
        "Pacific/Auckland" => "NZL+12",
        "Atlantic/Azores" => "PRT-1",
        "America/Sao_Paulo" => "BRA2-3",
        "America/Argentina/Buenos_Aires" => "ARG-3",
        "America/St_Johns" => "CAN-3.5",
        "America/Halifax" => "CAN-4",
        "America/New_York" => "USA-5",
        "America/Toronto" => "CAN-5",
        "America/Bogota" => "COL-5",
        "America/Chicago" => "USA-6",
        // MEX-6: Snom's Mexico code. Mexico dropped DST in 2022; firmware with the old rule
        // shifts an hour in summer (a site then sets, in `[snom-phone-settings]`, a -6 code
        // without DST that it checked on its phones).
        "America/Mexico_City" => "MEX-6",
        "America/Denver" => "USA-7",
        "America/Phoenix" => "USA2-7",
        "America/Los_Angeles" => "USA-8",
        "America/Anchorage" => "USA-9",
        "Pacific/Honolulu" => "USA-10",
        "Africa/Johannesburg" => "CAT+2",
        "Africa/Cairo" => "EGY+2",
        "Africa/Lagos" => "WAT+1",
        // UTC and Asia/Kathmandu: Snom lists no +0 zone without DST and no +5:45 zone.
        _ => return None,
    })
}

fn write_common_file(file: &str, common: &CommonContext<'_>, out: &mut String) {
    let model = match classify(file) {
        Some(PathMatch::Common { model }) => model,
        _ => None,
    };
    let model = model.as_deref().or(common.model);
    if file.ends_with("-firmware.xml") || file.ends_with("-firmware.htm") {
        out.push_str(DECL);
        // A base takes a folder URL and version numbers, not an image URL
        // (`common_dect/templates/common/snom-model-firmware.xml.tpl.btpl`): it gets none.
        let fw = common
            .firmware_url
            .filter(|u| !u.is_empty() && !model.is_some_and(is_dect_base));
        match fw {
            Some(fw) => {
                out.push_str("<firmware-settings>\n");
                leaf(out, 1, "firmware", None, Some("RW"), fw);
                out.push_str("</firmware-settings>\n");
            }
            None => out.push_str("<firmware-settings/>\n"),
        }
        return;
    }
    if file.ends_with(".htm") {
        if let (Some(base), Some(model)) = (common.base_url, model) {
            out.push_str(DECL);
            out.push_str("<setting-files>\n  <file url=\"");
            push_value(out, base.trim_end_matches('/'));
            out.push_str("/snom");
            push_value(out, model);
            out.push_str(".xml\"/>\n</setting-files>\n");
            return;
        }
        // Without an absolute base the settings are served inline: the phone detects XML
        // settings in a .htm file as well.
    }
    out.push_str(DECL);
    out.push_str("<settings>\n  <phone-settings>\n");
    let firmware = common
        .firmware_url
        .filter(|_| !model.is_some_and(is_dect_base));
    write_provisioning(out, common.base_url, firmware, common.poll_interval_minutes);
    out.push_str("  </phone-settings>\n</settings>\n");
}

// ---------------------------------------------------------------------------------------
// Merging

fn parse_config(config: &str) -> Result<Document> {
    let doc = Document::parse(config)?;
    if doc.root.name != ROOT {
        return Err(Error::new(
            ErrorKind::InvalidXml,
            format!(
                "a Snom config must have <{ROOT}> as its root, not <{}>",
                doc.root.name
            ),
        ));
    }
    Ok(doc)
}

const WRAPPER: &str = "overlay-root";

/// Parses a template's output: a whole document with root `root` (with or without
/// declaration), or bare elements. Returns the elements and whether they are children of the
/// root. Shared with the Grandstream module.
/// Errors carry the overlay's own line numbers.
pub(super) fn parse_overlay(overlay: &str, root: &str) -> Result<(Vec<Element>, bool)> {
    if overlay.trim_start().starts_with("<?xml") {
        let doc = Document::parse(overlay)?;
        if doc.root.name != root {
            return Err(Error::new(
                ErrorKind::InvalidXml,
                format!(
                    "expected <{root}> as the overlay's root, found <{}>",
                    doc.root.name
                ),
            ));
        }
        return Ok((elements(doc.root), true));
    }
    let wrapper = parse_wrapped(overlay)?;
    let only_root = {
        let mut els = wrapper.elements();
        matches!((els.next(), els.next()), (Some(e), None) if e.name == root)
    };
    let mut items = elements(wrapper);
    if only_root {
        if let Some(root) = items.pop() {
            return Ok((elements(root), true));
        }
    }
    Ok((items, false))
}

/// Parses bare elements inside a wrapper element without shifting line numbers; text
/// outside any element is refused with its position.
fn parse_wrapped(overlay: &str) -> Result<Element> {
    let mut wrapped = String::with_capacity(overlay.len() + 2 * WRAPPER.len() + 5);
    wrapped.push('<');
    wrapped.push_str(WRAPPER);
    wrapped.push('>');
    wrapped.push_str(overlay);
    wrapped.push_str("</");
    wrapped.push_str(WRAPPER);
    wrapped.push('>');
    let doc = Document::parse(&wrapped).map_err(|e| {
        let line = e.line().unwrap_or(1);
        let col = e.col().map(|c| {
            if line == 1 {
                c.saturating_sub(WRAPPER.len() + 2).max(1)
            } else {
                c
            }
        });
        Error::new(e.kind(), e.detail().to_owned()).at(line, col)
    })?;
    for c in &doc.root.children {
        if let Node::Text(t) = c {
            let t = t.trim();
            if !t.is_empty() {
                let snippet: String = t.chars().take(40).collect();
                let pos = overlay.find(snippet.as_str()).unwrap_or(0);
                let (line, col) = crate::xml::line_col(overlay, pos);
                return Err(Error::new(
                    ErrorKind::InvalidXml,
                    format!("text outside any element: {snippet:?}"),
                )
                .at(line, Some(col)));
            }
        }
    }
    Ok(doc.root)
}

pub(super) fn elements(el: Element) -> Vec<Element> {
    el.children
        .into_iter()
        .filter_map(|c| match c {
            Node::Element(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// Replaces the child with the same name and `idx` (in place) or appends `el`.
fn upsert_keyed(parent: &mut Element, el: Element) {
    let name = el.name.clone();
    let idx = el.attr("idx").map(str::to_owned);
    parent.upsert(el, |e| e.name == name && e.attr("idx") == idx.as_deref());
}

fn merge_element(root: &mut Element, el: Element, under_root: bool) {
    match el.name.as_str() {
        PHONE_SETTINGS | FUNCTION_KEYS => {
            let target = root.child_or_insert(&el.name);
            for c in elements(el) {
                upsert_keyed(target, c);
            }
        }
        "fkey" if !under_root => upsert_keyed(root.child_or_insert(FUNCTION_KEYS), el),
        _ if under_root => upsert_keyed(root, el),
        _ => upsert_keyed(root.child_or_insert(PHONE_SETTINGS), el),
    }
}

fn param_element(p: &Param) -> Result<Element> {
    if p.raw_xml.is_none() && !crate::xml::is_name(&p.key) {
        return Err(Error::new(
            ErrorKind::InvalidParams,
            format!(
                "{:?} is not a valid Snom setting name",
                crate::error::clip(&p.key)
            ),
        )
        .at(p.line, None));
    }
    // Without attributes, a setting the user may change on the phone (`perm="RW"`).
    crate::vendors::param_element(p, &[("perm", "RW")])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::inputs::BlfKey;
    use crate::secret::Secret;
    use crate::vendors::testing;
    use crate::vendors::Vendor;
    use crate::xml::check_well_formed;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn mac() -> Mac {
        Mac::parse("000413922D24").unwrap()
    }

    fn line(ext: &str, name: &str) -> Line {
        Line {
            password: Secret::from("s3cr&t<"),
            ..testing::line(ext, name)
        }
    }

    fn profile() -> Profile {
        testing::profile(
            Vendor::Snom,
            "D785",
            "000413922D24",
            vec![line("203", "Irina Smirnova")],
        )
    }

    fn render(p: &Profile) -> String {
        testing::render(p)
    }

    fn assert_canonical(s: &str) {
        check_well_formed(s).unwrap();
        assert_eq!(Document::parse(s).unwrap().to_xml(), s);
    }

    #[test]
    fn push_value_is_line_safe_then_escape() {
        for v in [
            "",
            "plain",
            "a<b>&\"'c",
            "x\ny\rz\t\0\u{7f}",
            "c1 \u{80}\u{85}\u{9f} nbsp \u{a0} é ü € 😀",
            "\u{c2}",
            "tail\u{9f}",
        ] {
            let mut got = String::new();
            push_value(&mut got, v);
            let mut want = String::new();
            crate::xml::escape_into(&line_safe(v), &mut want);
            assert_eq!(got, want, "{v:?}");
        }
        let mut s = String::new();
        for n in [0, 7, 10, 99, 5060, 86_400, u64::MAX] {
            s.clear();
            push_num(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn user_agents() {
        let ua = |s: &str| Snom.parse_user_agent(s);
        let i = ua("Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)").unwrap();
        assert_eq!(i.model.as_deref(), Some("D785"));
        assert_eq!(i.firmware.as_deref(), Some("10.1.33.33"));
        assert_eq!(i.mac, Some(mac()));
        let i =
            ua("Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)")
                .unwrap();
        assert_eq!(
            (i.model.as_deref(), i.mac),
            (Some("710"), Mac::from_hex12("000413741767"))
        );
        let i = ua("Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref(), i.mac),
            (Some("320"), Some("8.4.18"), None)
        );
        let i = ua(
            "Mozilla/4.0 (compatible; snom320-SIP 6.5.20; snom320 jffs2 v3.36; snom320 linux 3.38)",
        )
        .unwrap();
        assert_eq!(i.firmware.as_deref(), Some("6.5.20"));
        assert_eq!(
            ua("Mozilla/4.0 (compatible; snomM900-SIP 05.20.0001 ...)")
                .unwrap()
                .model
                .as_deref(),
            Some("M900")
        );
        assert_eq!(
            ua("Mozilla/4.0 (compatible; snom lid 3605)"),
            Some(UaInfo::default())
        );
        for bad in [
            "",
            "snom",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc",
            "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872",
            "Fanvil X4 2.10.2.6887 0c383e07e16c",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
            "notsnomD785-SIP 10.1.33.33",
            "Mozilla/4.0 (compatible; snomD7<85-SIP 10.1)",
            "Mozilla/4.0 (compatible; snomD785-SIP abc)",
        ] {
            assert_eq!(ua(bad), None, "{bad}");
        }
        let long = "snom".repeat(100_000);
        assert_eq!(ua(&long), None);
        let long = format!(
            "Mozilla/4.0 (compatible; snomD785-SIP 10.1 {})",
            "x ".repeat(100_000)
        );
        assert_eq!(ua(&long).unwrap().mac, None);
    }

    #[test]
    fn dect_base_user_agents() {
        let ua = |s: &str| Snom.parse_user_agent(s);
        // HTTP, as wazo's common_dect/common.py documents it.
        let i = ua("Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref(), i.mac),
            (
                Some("M900"),
                Some("05.20.0001"),
                Mac::from_hex12("000413b60680")
            )
        );
        let i = ua("Mozilla/4.0 (compatible; SnomM700 07.40.0104 000413B60681)").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.mac),
            (Some("M700"), Mac::from_hex12("000413b60681"))
        );
        // SIP (the PnP SUBSCRIBE), Snom's Provisioning Guide M700, M300.
        let i = ua("snomM700/03.23.0005 (MAC=000413922D24; SER= 00000; HW=255)").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref(), i.mac),
            (Some("M700"), Some("03.23.0005"), Some(mac()))
        );
        for bad in [
            "Mozilla/4.0 (compatible; Snom technology AG 1.0)",
            "Mozilla/4.0 (compatible; Snom M900 beta 000413b60680)",
            "Mozilla/4.0 (compatible; Snom D785 10.1 000413b60680)",
            "snomD785/10.1.33.33 (MAC=000413922D24)",
            "snomM700/ (MAC=000413922D24)",
        ] {
            assert_eq!(ua(bad), None, "{bad}");
        }
        // The model in the UA matches the model table's row.
        let m = ua("Mozilla/4.0 (compatible; Snom M300 05.20.0001 000413b60680)")
            .and_then(|i| i.model)
            .unwrap();
        assert!(is_dect_base(&m));
    }

    fn contacts(n: usize) -> Vec<Contact> {
        (0..n)
            .map(|i| Contact {
                name: format!("Person {i}"),
                number: format!("{}", 300 + i),
            })
            .collect()
    }

    #[test]
    fn local_phonebook_rides_in_the_settings() {
        let mut p = profile();
        p.contacts = vec![
            Contact {
                name: "Bob <&> \"B\"".into(),
                number: "202".into(),
            },
            Contact {
                name: "Carol".into(),
                number: "203".into(),
            },
        ];
        let s = render(&p);
        assert_canonical(&s);
        let doc = Document::parse(&s).unwrap();
        let tbook = doc.root.child("tbook").unwrap();
        assert_eq!(tbook.attr("complete"), Some("true"));
        let items: Vec<&Element> = tbook.elements().collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].attr("index"), Some("0"));
        assert_eq!(items[1].attr("index"), Some("1"));
        assert_eq!(items[0].attr("context"), Some("active"));
        assert_eq!(items[0].child("name").unwrap().text(), "Bob <&> \"B\"");
        assert_eq!(items[1].child("number").unwrap().text(), "203");
        // No contacts: no tbook (the phone's book is left alone).
        p.contacts.clear();
        assert!(!render(&p).contains("<tbook"));
        // Capacity: 100 entries on a snom320, 1000 on a D785.
        p.contacts = contacts(1200);
        let count = |s: &str| s.matches("<item ").count();
        assert_eq!(count(&render(&p)), 1000);
        p.device.model = "320".into();
        assert_eq!(count(&render(&p)), 100);
        // Hostile values stay inside their elements.
        p.contacts = vec![Contact {
            name: "x</name><user_pass idx=\"1\">y".into(),
            number: "1\n2".into(),
        }];
        let s = render(&p);
        assert_canonical(&s);
        let doc = Document::parse(&s).unwrap();
        let item = doc.root.child("tbook").unwrap().child("item").unwrap();
        assert_eq!(item.child("number").unwrap().text(), "1 2");
        assert_eq!(item.elements().count(), 2);
    }

    #[test]
    fn dect_base_assigns_accounts_to_handsets() {
        let mut lines = Vec::new();
        for (ext, name, hs) in [("201", "Alice", 1), ("202", "Bob", 2), ("203", "Carol", 3)] {
            let mut l = line(ext, name);
            l.handset = Some(hs);
            lines.push(l);
        }
        let mut p = testing::profile(Vendor::Snom, "M700", "000413922D24", lines);
        p.lines[2].server_host = "pbx2.example.com".into();
        p.lines[2].server_port = 5080;
        p.lines[1].handset = Some(7);
        p.blf = vec![BlfKey {
            extension: "204".into(),
            label: String::new(),
            line: 1,
            pickup_prefix: String::new(),
        }];
        p.contacts = contacts(3);
        p.phonebook_url = Some("http://p.example.com/phonebook/000413922d24.xml".into());
        p.firmware_url = Some("http://p.example.com/firmware/snom/M700.fwu".into());
        let s = render(&p);
        assert_canonical(&s);
        let doc = Document::parse(&s).unwrap();
        let ps = doc.root.child(PHONE_SETTINGS).unwrap();
        let get = |name: &str, idx: &str| {
            ps.elements()
                .find(|e| e.name == name && e.attr("idx") == Some(idx))
                .map(|e| e.text())
        };
        for (n, ext, hs, server) in [
            ("1", "201", "1", "1"),
            ("2", "202", "7", "1"),
            ("3", "203", "3", "2"),
        ] {
            assert_eq!(get("user_name", n).as_deref(), Some(ext), "{n}");
            assert_eq!(get("user_pname", n).as_deref(), Some(ext), "{n}");
            assert_eq!(get("subscr_sip_hs_idx", n).as_deref(), Some(hs), "{n}");
            assert_eq!(get("subscr_sip_line_name", n).as_deref(), Some(ext), "{n}");
            assert_eq!(
                get("subscr_sip_ua_data_server_id", n).as_deref(),
                Some(server),
                "{n}"
            );
            assert_eq!(get("user_active", n).as_deref(), Some("on"), "{n}");
        }
        assert_eq!(get("user_realname", "3").as_deref(), Some("Carol"));
        // Servers are indexed on their own: two distinct PBXes.
        assert_eq!(get("user_host", "1").as_deref(), Some("pbx.example.com"));
        assert_eq!(
            get("user_host", "2").as_deref(),
            Some("pbx2.example.com:5080")
        );
        assert_eq!(get("user_host", "3"), None);
        // No desk-phone parts on a base.
        for absent in [
            "<functionKeys",
            "<tbook",
            "dkey_directory",
            "<firmware",
            "user_idle_text",
        ] {
            assert!(!s.contains(absent), "{absent} in\n{s}");
        }
        // An account without a handset keeps the base's own assignment.
        p.lines[0].handset = None;
        let s = render(&p);
        assert!(!s.contains("<subscr_sip_hs_idx idx=\"1\""));
        assert!(s.contains("<subscr_sip_hs_idx idx=\"2\" perm=\"RW\">7</subscr_sip_hs_idx>"));
        // More than ten servers: the rest share the tenth.
        let mut many = Vec::new();
        for i in 0..12u16 {
            let mut l = line(&format!("{}", 300 + i), "X");
            l.server_host = format!("pbx{i}.example.com");
            l.handset = u8::try_from(i + 1).ok();
            many.push(l);
        }
        let s = render(&testing::profile(
            Vendor::Snom,
            "M900",
            "000413922D24",
            many,
        ));
        assert_canonical(&s);
        assert_eq!(s.matches("<user_host ").count(), 10);
        assert!(s.contains("<subscr_sip_ua_data_server_id idx=\"12\" perm=\"RW\">10</subscr_sip_ua_data_server_id>"));
    }

    #[test]
    fn pnp_url_is_a_folder() {
        assert_eq!(
            Vendor::Snom.pnp_url("http://192.0.2.10:8480"),
            "http://192.0.2.10:8480/"
        );
        assert_eq!(
            Vendor::Snom.pnp_url("https://e.example/p/tok/"),
            "https://e.example/p/tok/"
        );
    }

    #[test]
    fn file_names() {
        let dev = Some(PathMatch::DeviceConfig { mac: mac() });
        let common = |m: &str| {
            Some(PathMatch::Common {
                model: Some(m.into()),
            })
        };
        assert_eq!(Snom.classify_file("snomD785-000413922D24.htm"), dev);
        assert_eq!(Snom.classify_file("snomD785-000413922d24.htm"), dev);
        assert_eq!(Snom.classify_file("000413922D24.xml"), dev);
        assert_eq!(Snom.classify_file("snomD785.htm"), common("D785"));
        assert_eq!(Snom.classify_file("snom320.htm"), common("320"));
        assert_eq!(Snom.classify_file("snomD785.xml"), common("D785"));
        assert_eq!(Snom.classify_file("snomD785-firmware.xml"), common("D785"));
        assert_eq!(
            Snom.classify_file("snom-general.xml"),
            Some(PathMatch::Common { model: None })
        );
        for bad in [
            "",
            "snom.htm",
            "snomD785-000413922D2.htm",
            "snomD785-000413922D24.xml",
            "000413922D2.xml",
            "000413922D24.cfg",
            "000413922D24.htm",
            "SNOMD785.HTM",
            "snomD785.cfg",
            "snomD7 85.htm",
            "001565aabbcc.cfg",
            "cfg000b82aabbcc.xml",
            "y000000000028.cfg",
            "gui_lang.xml",
        ] {
            assert_eq!(Snom.classify_file(bad), None, "{bad}");
        }
        assert_eq!(
            Snom.classify_file("snomM400-firmware.htm"),
            Some(PathMatch::Common {
                model: Some("M400".into())
            })
        );
        assert_eq!(Snom.device_file_name(&mac()), "000413922D24.xml");
        assert_eq!(Snom.classify_file(&Snom.device_file_name(&mac())), dev);
    }

    #[test]
    fn reference_body() {
        let s = render(&profile());
        assert_canonical(&s);
        assert!(s.starts_with(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<settings>\n  <phone-settings>\n"
        ));
        for needle in [
            "<time_24_format perm=\"R\">on</time_24_format>",
            "<user_pname idx=\"1\" perm=\"RW\">203</user_pname>",
            "<user_name idx=\"1\" perm=\"RW\">203</user_name>",
            "<user_realname idx=\"1\" perm=\"RW\">Irina Smirnova</user_realname>",
            "<user_pass idx=\"1\" perm=\"RW\">s3cr&amp;t&lt;</user_pass>",
            "<user_host idx=\"1\" perm=\"RW\">pbx.example.com</user_host>",
            "<user_srtp idx=\"1\" perm=\"RW\">off</user_srtp>",
            "<user_mailbox idx=\"1\" perm=\"RW\">*001</user_mailbox>",
            "<user_active idx=\"1\" perm=\"RW\">on</user_active>",
            "<settings_refresh_timer perm=\"RW\">86400</settings_refresh_timer>",
            "<fkey idx=\"0\" context=\"1\" label=\"Irina Smirnova\" perm=\"RW\">line</fkey>",
        ] {
            assert!(s.contains(needle), "{needle} missing in\n{s}");
        }
        assert!(
            !s.contains("<firmware"),
            "no firmware when none is assigned"
        );
        assert_eq!(s, render(&profile()), "deterministic");
    }

    #[test]
    fn full_profile() {
        let mut p = profile();
        let mut l2 = line("204", "Second");
        l2.server_port = 5080;
        l2.transport = Transport::Tls;
        l2.label = "Sales".into();
        p.lines.push(l2);
        p.blf = vec![
            BlfKey {
                extension: "301".into(),
                label: "Anna".into(),
                line: 1,
                pickup_prefix: "*8".into(),
            },
            BlfKey {
                extension: "302".into(),
                label: String::new(),
                line: 2,
                pickup_prefix: String::new(),
            },
            BlfKey {
                extension: "303".into(),
                label: String::new(),
                line: 9,
                pickup_prefix: String::new(),
            },
        ];
        p.ntp_server = Some("pool.ntp.org".into());
        p.timezone = Some(TimeZone::from_name("Europe/Berlin").unwrap());
        p.language = Some(Language::De);
        p.phonebook_url = Some("https://p.example.com/phonebook/000413922d24.xml?a=1&b=2".into());
        p.firmware_url = Some("https://p.example.com/firmware/snom/snomD785-10.1.bin".into());
        p.provisioning_url = Some("https://p.example.com/t/abc".into());
        p.poll_interval_minutes = 60;
        let s = render(&p);
        assert_canonical(&s);
        for needle in [
            "<user_name idx=\"2\" perm=\"RW\">204</user_name>",
            "<user_host idx=\"2\" perm=\"RW\">pbx.example.com:5080</user_host>",
            "<user_outbound idx=\"2\" perm=\"RW\">pbx.example.com:5080;transport=tls</user_outbound>",
            "<user_idle_text idx=\"2\" perm=\"RW\">Sales</user_idle_text>",
            "<language perm=\"RW\">Deutsch</language>",
            "<web_language perm=\"RW\">Deutsch</web_language>",
            "<ntp_server perm=\"RW\">pool.ntp.org</ntp_server>",
            "<timezone perm=\"RW\">GER+1</timezone>",
            "<update_policy perm=\"RW\">auto_update</update_policy>",
            "<setting_server perm=\"RW\">https://p.example.com/t/abc/</setting_server>",
            "<settings_refresh_timer perm=\"RW\">3600</settings_refresh_timer>",
            "<firmware perm=\"RW\">https://p.example.com/firmware/snom/snomD785-10.1.bin</firmware>",
            "<dkey_directory perm=\"RW\">url https://p.example.com/phonebook/000413922d24.xml?a=1&amp;b=2</dkey_directory>",
            "<fkey idx=\"1\" context=\"2\" label=\"Sales\" perm=\"RW\">line</fkey>",
            "<fkey idx=\"2\" context=\"1\" label=\"Anna\" perm=\"RW\">blf sip:301@pbx.example.com|*8</fkey>",
            "<fkey idx=\"3\" context=\"2\" label=\"302\" perm=\"RW\">blf sip:302@pbx.example.com</fkey>",
            "<fkey idx=\"4\" context=\"active\" label=\"303\" perm=\"RW\">blf sip:303@pbx.example.com</fkey>",
        ] {
            assert!(s.contains(needle), "{needle} missing in\n{s}");
        }
        assert!(!s.contains("user_outbound idx=\"1\""));
        // Time zones without a Snom code are left out rather than guessed.
        p.timezone = Some(TimeZone::from_name("UTC").unwrap());
        assert!(!render(&p).contains("<timezone"));
        for name in TimeZone::names() {
            let tz = TimeZone::from_name(name).unwrap();
            if let Some(code) = snom_tz(&tz) {
                let hours = tz
                    .offset_hours_string()
                    .replace(":30", ".5")
                    .replace(":45", ".75");
                let want = if hours == "0" { "-0".to_owned() } else { hours };
                assert!(code.ends_with(&want), "{name}: {code} vs {want}");
            }
        }
    }

    #[test]
    fn no_lines_is_valid() {
        let mut p = profile();
        p.lines.clear();
        let s = render(&p);
        assert_canonical(&s);
        // Every identity of the D785 (12) is switched off, none carries a value.
        let doc = Document::parse(&s).unwrap();
        let ps = doc.root.child(PHONE_SETTINGS).unwrap();
        let user: Vec<&Element> = ps
            .elements()
            .filter(|e| e.name.starts_with("user_"))
            .collect();
        assert_eq!(user.iter().filter(|e| e.name == "user_active").count(), 12);
        assert!(user
            .iter()
            .all(|e| e.text() == if e.name == "user_active" { "off" } else { "" }));
        assert!(!s.contains("functionKeys"));
        p.poll_interval_minutes = 0;
        assert!(
            render(&p).contains("<settings_refresh_timer perm=\"RW\">0</settings_refresh_timer>")
        );
    }

    #[test]
    fn hostile_values_stay_inert() {
        let mut p = profile();
        p.lines[0].display_name = "A\n<b>&\"'</user_realname><user_pass idx=\"1\">x".into();
        p.lines[0].extension = "20\r\n3".into();
        p.blf = vec![BlfKey {
            extension: "1\"><x/>".into(),
            label: "<l\">".into(),
            line: 1,
            pickup_prefix: "*8</fkey>".into(),
        }];
        let s = render(&p);
        assert_canonical(&s);
        let doc = Document::parse(&s).unwrap();
        let ps = doc.root.child(PHONE_SETTINGS).unwrap();
        // One password, identity 1's; the model's other 11 identities are off and empty.
        let pass: Vec<String> = ps
            .elements()
            .filter(|e| e.name == "user_pass")
            .map(|e| e.text())
            .collect();
        assert_eq!(pass.len(), 12);
        assert_eq!(pass.iter().filter(|t| !t.is_empty()).count(), 1);
        assert_eq!(
            ps.child("user_realname").unwrap().text(),
            "A <b>&\"'</user_realname><user_pass idx=\"1\">x"
        );
        assert_eq!(ps.child("user_name").unwrap().text(), "20  3");
        let fk = doc.root.child(FUNCTION_KEYS).unwrap();
        // The D785's 24 keys: the two written, the rest reset to `none`.
        assert_eq!(fk.elements().count(), 24);
        assert_eq!(fk.elements().filter(|e| e.text() == "none").count(), 22);
        assert!(fk.elements().all(|e| !e.has_element_children()));
    }

    #[test]
    fn overlay_merges_in_place() {
        let base = render(&profile());
        // A whole document: overrides in place, adds a new setting, a new fkey and a root child.
        let over = "<?xml version=\"1.0\"?>\n<settings>\n  <phone-settings>\n    <user_realname idx=\"1\" perm=\"R\">Boss</user_realname>\n    <language perm=\"RW\">English</language>\n  </phone-settings>\n  <functionKeys>\n    <fkey idx=\"7\" context=\"active\" perm=\"RW\">speed 100</fkey>\n  </functionKeys>\n  <tbook complete=\"true\"/>\n</settings>\n";
        let out = Snom.overlay(&base, over).unwrap();
        assert_canonical(&out);
        let doc = Document::parse(&out).unwrap();
        let ps = doc.root.child(PHONE_SETTINGS).unwrap();
        let names: Vec<&str> = ps.elements().map(|e| e.name.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(
            pos("user_realname") < pos("user_pass"),
            "overridden in place"
        );
        assert_eq!(ps.child("user_realname").unwrap().text(), "Boss");
        assert_eq!(ps.child("user_realname").unwrap().attr("perm"), Some("R"));
        assert_eq!(*names.last().unwrap(), "language");
        // The overlay's key 7 replaces the reset one in place: still the D785's 24 keys.
        let fk = doc.root.child(FUNCTION_KEYS).unwrap();
        assert_eq!(fk.elements().count(), 24);
        let seventh = fk.elements().find(|e| e.attr("idx") == Some("7")).unwrap();
        assert_eq!(seventh.text(), "speed 100");
        assert!(doc.root.child("tbook").is_some());
        // Same document without a declaration, then bare lines.
        let over2 = over.split_once('\n').unwrap().1;
        assert_eq!(Snom.overlay(&base, over2).unwrap(), out);
        let bare = "<user_realname idx=\"1\" perm=\"R\">Boss</user_realname>\n<user_name idx=\"2\" perm=\"RW\">999</user_name>\n<fkey idx=\"0\" context=\"1\" perm=\"RW\">blf 5</fkey>\n";
        let out = Snom.overlay(&base, bare).unwrap();
        let doc = Document::parse(&out).unwrap();
        let ps = doc.root.child(PHONE_SETTINGS).unwrap();
        assert_eq!(ps.child("user_realname").unwrap().text(), "Boss");
        // Identity 2 (off and empty in the base config) is overridden in place.
        let name2: Vec<String> = ps
            .elements()
            .filter(|e| e.name == "user_name" && e.attr("idx") == Some("2"))
            .map(|e| e.text())
            .collect();
        assert_eq!(name2, ["999"]);
        assert_eq!(ps.elements().filter(|e| e.name == "user_name").count(), 12);
        let fk = doc.root.child(FUNCTION_KEYS).unwrap();
        assert_eq!(fk.elements().count(), 24);
        assert_eq!(fk.child("fkey").unwrap().text(), "blf 5");
        // Empty overlay changes nothing.
        assert_eq!(Snom.overlay(&base, "  \n").unwrap(), base);
    }

    #[test]
    fn overlay_errors_carry_the_line() {
        let base = render(&profile());
        for (over, line) in [
            ("<a>1</a>\n<b>2</c>\n", 2),
            ("<a>1</a>\n\njunk here\n", 3),
            ("<?xml version=\"1.0\"?>\n<settings>\n<x>\n</settings>\n", 4),
            ("<a x=>1</a>", 1),
        ] {
            let e = Snom.overlay(&base, over).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidXml, "{over}");
            assert_eq!(e.line(), Some(line), "{over}: {e}");
        }
        assert!(Snom
            .overlay(&base, "<?xml version=\"1.0\"?><other/>")
            .is_err());
        assert!(Snom.overlay("<other/>", "<a/>").is_err());
        assert!(Snom.overlay("not xml", "<a/>").is_err());
    }

    #[test]
    fn params_merge() {
        let base = render(&profile());
        let parsed = crate::params::AdditionalParams::parse(
            "[snom-phone-settings]\n<user_realname idx=\"1\" perm=\"R\">Boss</user_realname>\nhttp_user = admin\n[snom]\n<functionKeys><fkey idx=\"9\" context=\"active\" perm=\"\">speed 5</fkey></functionKeys>\nextra = 1\n",
        )
        .unwrap();
        let params = parsed.for_vendor(Vendor::Snom);
        let out = Snom.apply_params(&base, &params).unwrap();
        assert_canonical(&out);
        let doc = Document::parse(&out).unwrap();
        let ps = doc.root.child(PHONE_SETTINGS).unwrap();
        assert_eq!(ps.child("user_realname").unwrap().text(), "Boss");
        assert_eq!(ps.child("user_realname").unwrap().attr("perm"), Some("R"));
        assert_eq!(ps.child("http_user").unwrap().attr("perm"), Some("RW"));
        assert_eq!(ps.child("http_user").unwrap().text(), "admin");
        let fk = doc.root.child(FUNCTION_KEYS).unwrap();
        assert_eq!(
            fk.elements().count(),
            1,
            "the [snom] functionKeys element replaced ours"
        );
        assert_eq!(doc.root.child("extra").unwrap().text(), "1");
        // A bad parameter fails the whole merge.
        let bad = Param {
            section: Section::SnomPhoneSettings,
            line: 7,
            key: "bad name".into(),
            value: String::new(),
            attrs: Vec::new(),
            raw_xml: None,
        };
        let e = Snom.apply_params(&base, &[params[0], &bad]).unwrap_err();
        assert_eq!((e.kind(), e.line()), (ErrorKind::InvalidParams, Some(7)));
        let raw = Param {
            key: "x".into(),
            raw_xml: Some("<x><y></x>".into()),
            ..bad.clone()
        };
        assert_eq!(
            Snom.apply_params(&base, &[&raw]).unwrap_err().line(),
            Some(7)
        );
    }

    #[test]
    fn common_files() {
        let ctx = CommonContext {
            model: None,
            base_url: Some("https://p.example.com/t/abc"),
            firmware_url: Some("https://p.example.com/firmware/snom/D785.bin"),
            poll_interval_minutes: 30,
            mac: None,
        };
        let w = |f: &str, c: &CommonContext<'_>| {
            let mut s = String::new();
            Snom.write_common(f, c, &mut s);
            assert_canonical(&s);
            s
        };
        let htm = w("snomD785.htm", &ctx);
        assert!(
            htm.contains("<file url=\"https://p.example.com/t/abc/snomD785.xml\"/>"),
            "{htm}"
        );
        let xml = w("snomD785.xml", &ctx);
        assert!(xml.contains(
            "<firmware perm=\"RW\">https://p.example.com/firmware/snom/D785.bin</firmware>"
        ));
        assert!(xml
            .contains("<setting_server perm=\"RW\">https://p.example.com/t/abc/</setting_server>"));
        assert!(xml.contains("<settings_refresh_timer perm=\"RW\">1800</settings_refresh_timer>"));
        let fw = w("snomD785-firmware.xml", &ctx);
        assert!(fw.contains(
            "<firmware perm=\"RW\">https://p.example.com/firmware/snom/D785.bin</firmware>"
        ));
        let none = CommonContext::default();
        assert!(w("snomD785-firmware.xml", &none).contains("<firmware-settings/>"));
        let inline = w("snomD785.htm", &none);
        assert!(inline.contains("<settings>"));
        // A DECT base takes no image URL (it reads a folder and version numbers).
        let base_fw = w("snomM700-firmware.htm", &ctx);
        assert!(base_fw.contains("<firmware-settings/>"), "{base_fw}");
        assert!(w("snomM700-firmware.xml", &ctx).contains("<firmware-settings/>"));
        assert!(!w("snomM700.xml", &ctx).contains("<firmware"));
        assert!(w("snomD785-firmware.htm", &ctx).contains("<firmware perm=\"RW\">"));
        for s in [htm, xml, fw, inline, w("snom-general.xml", &ctx)] {
            assert!(!s.contains("user_pass"));
        }
    }

    #[test]
    fn phonebook() {
        let contacts = vec![
            Contact {
                name: "Zed <&>".into(),
                number: "200".into(),
            },
            Contact {
                name: "Anna \"A\"".into(),
                number: "100\n<x>".into(),
            },
        ];
        let mut s = String::new();
        Snom.write_phonebook("Company & Co", &contacts, &mut s);
        assert_canonical(&s);
        let doc = Document::parse(&s).unwrap();
        assert_eq!(doc.root.name, "SnomIPPhoneDirectory");
        assert_eq!(doc.root.child("Title").unwrap().text(), "Company & Co");
        let names: Vec<String> = doc
            .root
            .elements()
            .filter(|e| e.name == "DirectoryEntry")
            .map(|e| e.child("Name").unwrap().text())
            .collect();
        assert_eq!(names, ["Zed <&>", "Anna \"A\""]);
        let mut empty = String::new();
        Snom.write_phonebook("", &[], &mut empty);
        assert_canonical(&empty);
        assert_eq!(Snom.firmware_extensions(), [".bin", ".fw", ".fwu"]);
    }
}
