//! Yealink desk and DECT phones (T2x/T4x/T5x/T7x/T8x, CP, VP, W5x/W6x/W7x/W8x/W9x, AX).
//!
//! What the phones send and request:
//! - User-Agent `Yealink SIP-<model> <firmware> <mac>` with a colon MAC (`Yealink SIP-T46S
//!   66.86.0.15 00:15:65:aa:bb:cc`), DECT bases without `SIP-` (`Yealink W90DM 130.87.0.10
//!   80:5e:c0:d9:c7:44`), video phones `Yealink SIP VP-T49G ...`, old firmware
//!   `Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0` (no MAC) and T5x with a bare MAC
//!   (`Yealink SIP-T56A 58.80.0.25 001565f429a4`). Sources: wazo-provd-plugins
//!   `plugins/wazo_yealink/v87/common.py` (UA regexes and samples), FusionPBX
//!   `app/provision/index.php` (T5x form).
//!   Bare UAs without the vendor name (`VP530 23.70.0.41 00:15:65:3d:58:e3`, `W52P 25.30.0.2
//!   ...`) are recognised for the few models that send them (`BARE_UA_MODELS`).
//! - v81+ firmware asks for the MAC-oriented boot file `<mac>.boot` first, then the common
//!   `y000000000000.boot`, and without either the common `y0000000000NN.cfg` (NN = the model's
//!   code, `models.rs`) then `<mac>.cfg` in lowercase hex (Yealink Administrator's Guide for
//!   SIP-T2/T4/T5 Series, "Boot Files"; older firmware starts at the `.cfg` files). Once a boot
//!   file is found the phone fetches only the files it names (FusionPBX pull #2926: with a
//!   boot file "other .cfg files aren't requested").
//! - `<mac>.boot` is served (a common file, no secrets): it names the model's common file and
//!   `<mac>.cfg` with `include:config` and sets `overwrite_mode = 1` (see `write_boot`).
//! - `y000000000000.boot`, the common boot file, is written per phone, as FusionPBX does
//!   (`yealink/t46s/y000000000000.boot` renders `include:config "{$mac}.cfg"`, the MAC taken
//!   from the User-Agent by `app/provision/index.php`): the same body as `<mac>.boot` when the
//!   shell knows who asks (`CommonContext::mac`: the edge from the token's phone, the relay
//!   from the User-Agent's MAC). Without a MAC (TFTP, a User-Agent without one) it is a 404:
//!   a boot file replaces the phone's sequence, the guide documents no way for it to name
//!   the phone's own file (the `$mac` variable is documented for action URLs only, FusionPBX
//!   `yealink/cp860/y000000000037.cfg` comments), so served without the MAC it would cut the
//!   phone off from its account; the 404 keeps the documented `.cfg` fallback.
//! - `<mac>-local.cfg` (the phone's own saved changes) and `<mac>-contact.xml` are phone-side
//!   files and not served.
//! - Empty values are written `%NULL%` (a blank value is ignored by the phone, so nothing could
//!   be cleared), keys past the ones in use are reset up to the model's key count and
//!   accounts past the ones in use switched off (wazo `v87/common.py`, `base.tpl`), settings
//!   that survive a reset carry `static.` (v8x) beside their v7x names.
//! - A DECT base (`dect_handsets > 0` in `models.rs`) assigns each account to its handset
//!   slot (`handset.X.incoming_lines`, `dial_out_lines`, `dial_out_default_line`, `name`).
//!
//! File format: first line `#!version:1.0.0.1`, then `key = value` lines. Key facts and
//! sources:
//! - accounts: the MikoPBX reference keys (`account.N.sip_server_host`, `codec.1.*`, the
//!   v7x names) plus the v8x names `account.N.sip_server.1.address/port/transport_type`
//!   (wazo `v87/templates/base.tpl`), so both firmware generations register;
//! - BLF: `linekey.K.type = 16`, `.line`, `.value`, `.label`, and the directed-pickup code in
//!   both `.extension` (v8x) and `.pickup_value` (older) (wazo `common.py`
//!   `_format_funckey_blf`); account keys are `linekey.N.type = 15`;
//! - time: `local_time.ntp_server1`, `local_time.time_zone` (`+1`, `+5:30`: the offsets of
//!   Yealink's own AutoDST table, FusionPBX `app/yealink/resources/auto_dst.xml`),
//!   `local_time.time_zone_name` (names from the same table), `local_time.summer_time`
//!   (0 off, 1 manual rule, 2 automatic), `local_time.dst_time_type = 1` with
//!   `start_time`/`end_time` as `month/week/weekday/hour` (weekday 7 = Sunday, week 5 =
//!   last) and `offset_time` in minutes (wazo `common.py` `_format_tz_info`, AutoDST);
//! - language: `lang.gui`, `lang.wui` with English names (wazo `_LOCALE`);
//! - firmware: `static.firmware.url` (v80+, wazo v80..v87 `base.tpl`, FusionPBX) and
//!   `firmware.url` (v7x, wazo v73 `base.tpl` and MikoPBX), both written;
//! - provisioning: `static.auto_provision.server.url`, `static.auto_provision.repeat.enable`
//!   and `.minutes` (FusionPBX `t46s/y000000000066.cfg`);
//! - check-sync: `sip.notify_reboot_enable` (0: a NOTIFY `Event: check-sync` re-provisions,
//!   and reboots only with `;reboot=true`; 1: always reboots; 2: ignored; default 1), from
//!   the Yealink T5 Administrator's Guide, "Rebooting Issues". We set 0, as wazo and
//!   FusionPBX do.
//! - remote phonebook: `remote_phonebook.data.1.url/name`, `features.remote_phonebook.enable`
//!   (wazo `base.tpl`); its body is `<YealinkIPPhoneDirectory>` with
//!   `<DirectoryEntry><Name/><Telephone/></DirectoryEntry>` (FusionPBX
//!   `yealink/t46s/directory.xml`).

pub(crate) mod account;
mod models;
pub(crate) mod rps;

use crate::detect::{PathMatch, UaInfo};
use crate::error::Result;
use crate::inputs::{BlfKey, Contact, Language, Line, Profile, Transport};
use crate::mac::Mac;
use crate::params::{Param, Section};
use crate::tz::TimeZone;
use crate::vendors::{
    kv, line_safe, CheckSyncEvents, CommonContext, ConfigSyntax, Facts, Model, ParamSection,
    PnpUrlForm, RpsApi, RpsCode, VendorModule,
};

/// Yealink's facts. OUIs from the IEEE registry (`oui.csv`) and, for the newer blocks, the
/// prefixes wazo-provd's Yealink plugin recognises. Check-sync: `check-sync;reboot=false`
/// re-provisions without a restart, `check-sync;reboot=true` restarts (FreePBX/Asterisk
/// `sip_notify` `reboot-yealink`; Yealink admin guide, `sip.notify_reboot_enable`: 0 =
/// check-sync re-provisions without reboot). RPS: Yealink's signed JSON API (RPS.md).
pub(crate) const FACTS: Facts = Facts {
    name: "yealink",
    display_name: "Yealink",
    ouis: &[
        [0x00, 0x15, 0x65],
        [0x24, 0x9a, 0xd8],
        [0x80, 0x5e, 0x0c],
        [0x80, 0x5e, 0xc0],
        [0x44, 0xdb, 0xd2],
        [0xe4, 0x34, 0xd7],
        [0x34, 0x97, 0xd7],
        [0x64, 0x4f, 0x56],
        [0xb0, 0x61, 0xa9],
        [0xc4, 0xfc, 0x22],
        [0xec, 0x1d, 0xa9],
        [0xf0, 0x16, 0x53],
    ],
    sample_model: "T46S",
    param_sections: &[ParamSection {
        section: Section::Yealink,
        name: "yealink",
    }],
    rps: RpsApi::Full,
    rps_site_url_note: None,
    rps_manual_note: None,
    redirect_only: None,
    check_sync: Some(CheckSyncEvents {
        resync: "check-sync;reboot=false",
        reboot: "check-sync;reboot=true",
    }),
    models: models::MODELS,
    pnp_url: PnpUrlForm::Base,
    local_directory: false,
    // "RPS ing" (the serial number's last five digits) and "RPS pin" (issued by Yealink
    // per device) are Yealink's (PROTOCOLS.md, "Yealink RPS pin and RPS ing").
    rps_desk_codes: true,
};

/// Yealink's redirection-service code: its PortSIP section.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: None,
};

/// Yealink's module.
pub(crate) struct Yealink;

/// The first model of the table whose common file is `y0000000000NN.cfg` with `NN` = `code`
/// (the model table, `models.rs`, is the one place file codes live).
fn model_for_code(code: u64) -> Option<&'static str> {
    models::MODELS
        .iter()
        .find(|m| m.file_code.and_then(|c| c.parse::<u64>().ok()) == Some(code))
        .map(|m| m.name)
}

/// The common-file code of a model (`T46S` -> 66), case-insensitive; `T19P_E2`/`T21P_E2`
/// are rows of their own, and an unknown `_E2` name falls back to its bare model.
pub(crate) fn code_for_model(model: &str) -> Option<u16> {
    let code = |name: &str| model_row(name)?.file_code?.parse::<u16>().ok();
    let m = model.trim();
    code(m).or_else(|| {
        let bare = m.strip_suffix("_E2").or_else(|| m.strip_suffix("_e2"))?;
        code(bare)
    })
}

/// The name of the common file of `model` (`y000000000066.cfg`), if the table has its code.
fn common_file_name(model: &str) -> Option<String> {
    code_for_model(model).map(|c| format!("y{c:012}.cfg"))
}

impl VendorModule for Yealink {
    fn syntax(&self) -> ConfigSyntax {
        ConfigSyntax::KeyValue
    }

    fn parse_user_agent(&self, ua: &str) -> Option<UaInfo> {
        parse_ua(ua)
    }

    fn classify_file(&self, file: &str) -> Option<PathMatch> {
        if let Some(stem) = file.strip_suffix(".boot") {
            // `<mac>.boot`: the MAC-oriented boot file v81+ firmware asks for first. It holds
            // no secret (two file names), so it is a common file whose body names the MAC's
            // `.cfg`. `y000000000000.boot`, the common one, is written only for a phone the
            // shell knows (see the module docs).
            if stem == "y000000000000" {
                return Some(PathMatch::Common { model: None });
            }
            return Mac::from_hex12(stem)
                .filter(|m| !m.is_placeholder())
                .map(|_| PathMatch::Common { model: None });
        }
        let stem = file.strip_suffix(".cfg")?;
        if let Some(digits) = stem.strip_prefix('y') {
            if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let code: u64 = digits.parse().ok()?;
            return Some(PathMatch::Common {
                model: model_for_code(code).map(str::to_owned),
            });
        }
        // Phones send lowercase hex; uppercase is accepted (people copy MACs from labels).
        Mac::from_hex12(stem).map(|mac| PathMatch::DeviceConfig { mac })
    }

    fn device_file_name(&self, mac: &Mac) -> String {
        let mut s = mac.to_lower_hex();
        s.push_str(".cfg");
        s
    }

    fn write_config(&self, profile: &Profile, out: &mut String) {
        write_yealink_config(profile, out);
    }

    fn write_common(&self, file: &str, common: &CommonContext<'_>, out: &mut String) {
        if file == "y000000000000.boot" {
            // Only for a phone the shell knows: a common boot file that cannot name the
            // phone's own `.cfg` would cut it off from its account. Left empty otherwise,
            // which the shell answers with a 404 (the phone falls back to its `.cfg` files).
            if let Some(mac) = common.mac.filter(|m| !m.is_placeholder()) {
                write_boot(out, &mac, common.model);
            }
            return;
        }
        if let Some(mac) = file.strip_suffix(".boot").and_then(Mac::from_hex12) {
            write_boot(out, &mac, common.model);
            return;
        }
        out.push_str("#!version:1.0.0.1\n");
        if let Some(fw) = common.firmware_url.filter(|u| !u.is_empty()) {
            kv::push(out, "static.firmware.url", fw);
            kv::push(out, "firmware.url", fw);
        }
        if let Some(base) = common.base_url.filter(|u| !u.is_empty()) {
            push_server_url(out, "static.auto_provision.server.url", base);
        }
        push_poll(
            out,
            "static.auto_provision.repeat",
            common.poll_interval_minutes,
        );
        out.push_str("sip.notify_reboot_enable = 0\n");
    }

    fn overlay(&self, config: &str, overlay: &str) -> Result<String> {
        kv::overlay(config, overlay, Section::Yealink)
    }

    fn apply_params(&self, config: &str, params: &[&Param]) -> Result<String> {
        Ok(kv::apply_params(config, params))
    }

    fn write_phonebook(&self, _title: &str, contacts: &[Contact], out: &mut String) {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        if contacts.is_empty() {
            out.push_str("<YealinkIPPhoneDirectory/>\n");
            return;
        }
        out.push_str("<YealinkIPPhoneDirectory>\n");
        // No `<Title>`: the field-proven body has only `<DirectoryEntry>` elements (FusionPBX
        // `yealink/t46s/directory.xml`); the phone names the list from
        // `remote_phonebook.data.1.name`, which the device config sets.
        for c in contacts {
            out.push_str("  <DirectoryEntry>\n");
            push_xml_text(out, "    ", "Name", &c.name);
            push_xml_text(out, "    ", "Telephone", &c.number);
            out.push_str("  </DirectoryEntry>\n");
        }
        out.push_str("</YealinkIPPhoneDirectory>\n");
    }

    fn read_phonebook(&self, root: &crate::xml::Element) -> Option<Vec<Contact>> {
        // The shape `write_phonebook` writes (FusionPBX `yealink/t46s/directory.xml`).
        (root.name == "YealinkIPPhoneDirectory")
            .then(|| crate::phonebook_source::directory_entries(root))
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[".rom", ".bin"]
    }

    fn example_template(&self) -> &'static str {
        include_str!("example.cfg")
    }
}

/// Models whose firmware sends a User-Agent without the vendor name, `<model> <fw> <mac>`:
/// `VP530 23.70.0.41 00:15:65:3d:58:e3`, `VP530P 23.70.0.40 00:15:65:31:4b:c0`,
/// `W52P 25.30.0.2 00:15:65:44:b3:7c` (wazo-provd-plugins `plugins/wazo_yealink/common/
/// common.py`, `_extract_from_ua` samples) and `W60B` (its UA regex
/// `(VP530P?|W60B)\s+([\d.]+)\s+([\da-fA-F:]{17})$`, `v87/common.py`). Recognised only
/// with a colon MAC, as wazo does.
const BARE_UA_MODELS: &[&str] = &["VP530", "VP530P", "W52P", "W60B"];

fn parse_ua(ua: &str) -> Option<UaInfo> {
    if ua.len() > 256 {
        return None;
    }
    let ua = ua.trim();
    let head = ua.get(..7)?;
    if !head.eq_ignore_ascii_case("yealink") {
        return parse_bare_ua(ua);
    }
    let rest = ua.get(7..)?;
    let rest = match rest.strip_prefix('-') {
        Some(r) => r,
        None if rest.starts_with([' ', '\t']) => rest.trim_start(),
        None => return None,
    };
    let mut tokens = rest.split_whitespace();
    let mut model = tokens.next()?;
    if model.eq_ignore_ascii_case("SIP") {
        // `Yealink SIP VP-T49G ...`
        model = tokens.next()?;
        model = strip_prefix_ci(model, "VP-").unwrap_or(model);
    } else if let Some(m) = strip_prefix_ci(model, "SIP-") {
        model = m;
    }
    if !is_model_name(model) {
        return None;
    }
    let fw = tokens.next().filter(|f| is_firmware(f))?;
    let mac = tokens
        .next()
        .filter(|t| t.len() == 12 || t.len() == 17)
        .and_then(|t| Mac::parse(t).ok());
    Some(UaInfo {
        model: Some(model.to_owned()),
        firmware: Some(fw.to_owned()),
        mac,
    })
}

/// `<model> <fw> <mac>` for the [`BARE_UA_MODELS`].
fn parse_bare_ua(ua: &str) -> Option<UaInfo> {
    let mut tokens = ua.split_whitespace();
    let model = tokens.next()?;
    let model = BARE_UA_MODELS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(model))?;
    let fw = tokens.next().filter(|f| is_firmware(f))?;
    let mac = tokens
        .next()
        .filter(|t| t.len() == 17)
        .and_then(|t| Mac::parse(t).ok())?;
    if tokens.next().is_some() {
        return None;
    }
    Some(UaInfo {
        model: Some((*model).to_owned()),
        firmware: Some(fw.to_owned()),
        mac: Some(mac),
    })
}

/// A firmware version: digits and dots, at least one digit, at most 32 characters.
fn is_firmware(fw: &str) -> bool {
    !fw.is_empty()
        && fw.len() <= 32
        && fw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && fw.bytes().any(|b| b.is_ascii_digit())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

pub(crate) fn is_model_name(m: &str) -> bool {
    (2..=24).contains(&m.len())
        && m.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The MAC-oriented boot file `<mac>.boot`: the model's common file, then the phone's own
/// `<mac>.cfg` (the order of the phone's own sequence without a boot file), relative to the
/// boot file, and `overwrite_mode = 1`. Format: the `#!version:1.0.0.1` first line,
/// `include:config "<path>"` lines downloaded top to bottom, later files overriding earlier
/// ones, and `[$MODEL]` prefixes scoping a line to models (Yealink Administrator's Guide for
/// SIP-T2/T4/T5 Series, "Boot Files" and "Boot File Attributes"; FusionPBX
/// `yealink/t46s/{$mac}.boot` and `yealink/t4x/{$mac}.boot`). With the model unknown (no
/// User-Agent), every model's common file is listed behind its `[$MODEL]` prefix, so the
/// phone takes its own. `overwrite_mode = 1`: a blank or removed non-static setting goes back
/// to its factory default (guide, "Boot File Attributes"), so settings a previous config set
/// and ours no longer has do not linger.
fn write_boot(out: &mut String, mac: &Mac, model: Option<&str>) {
    out.push_str("#!version:1.0.0.1\n");
    match model.and_then(common_file_name) {
        Some(name) => {
            out.push_str("include:config \"");
            out.push_str(&name);
            out.push_str("\"\n");
        }
        None => {
            for m in models::MODELS {
                let Some(name) = common_file_name(m.name) else {
                    continue;
                };
                out.push('[');
                out.push_str(m.name);
                out.push_str("]include:config \"");
                out.push_str(&name);
                out.push_str("\"\n");
            }
        }
    }
    out.push_str("include:config \"");
    out.push_str(&mac.to_lower_hex());
    out.push_str(".cfg\"\noverwrite_mode = 1\n");
}

/// Line keys reset on a model the table does not know: 29, the most any T4x/T5x desk phone
/// has (T48S/T48U/T57W, wazo `v87/common.py` `_NB_LINEKEY`); no expansion-module keys. A phone
/// with fewer keys ignores the settings of keys it does not have; one with more (T7x/T8x)
/// keeps keys above 29 as they were. wazo itself configures no key on an unknown model.
pub(crate) const UNKNOWN_MODEL_RESET_KEYS: u16 = 29;

/// The model row for `name` (case-insensitive), `None` for a model the table lacks.
fn model_row(name: &str) -> Option<&'static Model> {
    let name = name.trim();
    models::MODELS
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name))
}

/// Where the `i`-th key (1-based, accounts first, then BLFs) sits: `linekey.i` on the phone,
/// then `expansion_module.M.key.K` on its expansion modules (the order wazo's
/// `BaseYealinkFunckeyPrefixIterator` walks, `v87/common.py`); `None` past the model's last
/// key (a layout that long is refused at save by `check_blf_layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeySlot {
    Line(u32),
    Expansion(u32, u32),
}

impl KeySlot {
    fn of(model: Option<&Model>, i: u32) -> Option<Self> {
        let Some(m) = model else {
            return Some(Self::Line(i));
        };
        let lk = u32::from(m.line_keys);
        if i <= lk {
            return Some(Self::Line(i));
        }
        let per = u32::from(m.expansion_keys);
        if per == 0 {
            return None;
        }
        let j = i - lk - 1;
        let module = j / per + 1;
        (module <= u32::from(m.expansion_modules)).then_some(Self::Expansion(module, j % per + 1))
    }

    /// `linekey.7` or `expansion_module.1.key.3`.
    fn prefix(self, out: &mut String) {
        match self {
            Self::Line(k) => {
                out.push_str("linekey.");
                push_u32(out, k);
            }
            Self::Expansion(m, k) => {
                out.push_str("expansion_module.");
                push_u32(out, m);
                out.push_str(".key.");
                push_u32(out, k);
            }
        }
    }

    fn push(self, out: &mut String, post: &str, value: &str) {
        self.prefix(out);
        out.push_str(post);
        push_v(out, value);
        out.push('\n');
    }

    /// A key not in use: type 0 (N/A) and its line, value and label `%NULL%`, so a deleted
    /// BLF does not stay live watching an old extension (wazo `v87/common.py`
    /// `_format_funckey_null`).
    fn reset(self, out: &mut String) {
        for post in [
            ".type = 0\n",
            ".line = %NULL%\n",
            ".value = %NULL%\n",
            ".label = %NULL%\n",
        ] {
            self.prefix(out);
            out.push_str(post);
        }
    }
}

fn write_yealink_config(p: &Profile, out: &mut String) {
    let model = model_row(&p.device.model);
    out.push_str("#!version:1.0.0.1\n");
    for (i, line) in p.lines.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        write_account(out, n, line);
    }
    // Accounts the model has beyond the ones in use are switched off and emptied, so a line
    // removed from the phone stops registering (wazo `v87/templates/base.tpl`, the `else`
    // branch of the account loop, up to `_NB_SIP_ACCOUNTS`).
    if let Some(m) = model {
        let used = u32::try_from(p.lines.len()).unwrap_or(u32::MAX);
        for n in used.saturating_add(1)..=u32::from(m.accounts) {
            write_account_off(out, n);
        }
    }
    if model.is_some_and(Model::is_dect_base) {
        write_handsets(out, p);
    }
    // `static.` settings survive a reset to factory (except a full reset) and are the only
    // names v8x firmware reads for them; v7x firmware reads the bare names (FusionPBX
    // `yealink/t46s/y000000000066.cfg` `static.auto_provision.dhcp_option.enable`, and
    // `yealink/t28p/y000000000000.cfg`, `yealink/t46g/y000000000028.cfg` without `static.`).
    out.push_str(
        "phone_setting.lcd_logo.mode = 0\n\
         static.auto_provision.dhcp_option.enable = 0\n\
         auto_provision.dhcp_option.enable = 0\n\
         features.intercom.allow = 1\n\
         features.intercom.mute = 0\n\
         features.intercom.tone = 1\n\
         features.intercom.barge = 1\n\
         features.dtmf.transfer = ##\n\
         features.dtmf.replace_tran = 1\n\
         features.headset_prior = 1\n\
         sip.notify_reboot_enable = 0\n",
    );
    let mut slot = 0u32;
    let next = |slot: &mut u32| {
        *slot = slot.saturating_add(1);
        KeySlot::of(model, *slot)
    };
    let line_keys = model.map_or(u32::MAX, |m| u32::from(m.line_keys));
    for (i, line) in p.lines.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if n > line_keys {
            // No key for the account (a DECT base, a conference phone): it is still
            // registered; its calls are on the handset or the phone's line.
            continue;
        }
        let Some(k) = next(&mut slot) else { break };
        k.prefix(out);
        out.push_str(".type = 15\n");
        let pre = Prefix::new("", n);
        k.push(out, ".line = ", pre.num());
        k.push(out, ".label = ", line.effective_label());
    }
    for b in &p.blf {
        let Some(k) = next(&mut slot) else { break };
        write_blf(out, k, b);
    }
    write_key_resets(out, model, slot);
    if let Some(url) = p.phonebook_url.as_deref().filter(|u| !u.is_empty()) {
        kv::push(out, "remote_phonebook.data.1.url", url);
        out.push_str(
            "remote_phonebook.data.1.name = Phonebook\nfeatures.remote_phonebook.enable = 1\n",
        );
    } else {
        // No phonebook: clear the one a previous config set (wazo `v87/templates/base.tpl`).
        out.push_str(
            "remote_phonebook.data.1.url = %NULL%\nremote_phonebook.data.1.name = %NULL%\n",
        );
    }
    if let Some(ntp) = p.ntp_server.as_deref().filter(|s| !s.is_empty()) {
        kv::push(out, "local_time.ntp_server1", ntp);
    }
    if let Some(tz) = &p.timezone {
        write_time_zone(out, tz, yealink_zone_name(tz.name()));
    } else {
        // No zone: back to the phone's default (wazo `v87/templates/base.tpl`).
        out.push_str(
            "local_time.time_zone = %NULL%\nlocal_time.time_zone_name = %NULL%\nlocal_time.summer_time = %NULL%\n",
        );
    }
    if let Some(lang) = p.language {
        let name = language_name(lang);
        // `lang.gui`/`lang.wui`: v82..v87 (wazo `v82..v87/templates/base.tpl`); v81 reads
        // the `static.` names (wazo `v81/templates/base.tpl`; FusionPBX `t46s` keeps
        // `static.lang.wui`). Each firmware ignores the names it does not know.
        kv::push(out, "lang.gui", name);
        kv::push(out, "lang.wui", name);
        kv::push(out, "static.lang.gui", name);
        kv::push(out, "static.lang.wui", name);
    }
    if let Some(fw) = p.firmware_url.as_deref().filter(|u| !u.is_empty()) {
        kv::push(out, "static.firmware.url", fw);
        kv::push(out, "firmware.url", fw);
    }
    if let Some(url) = p.provisioning_url.as_deref().filter(|u| !u.is_empty()) {
        push_server_url(out, "static.auto_provision.server.url", url);
    }
    push_poll(out, "static.auto_provision.repeat", p.poll_interval_minutes);
}

/// Resets every key after the first `used` ones: up to the model's line keys and all its
/// expansion-module keys (wazo resets them all, `v87/common.py`
/// `BaseYealinkFunckeyPrefixIterator`, EXP40/43/50/55 at their daisy-chain maximum); on an
/// unknown model up to [`UNKNOWN_MODEL_RESET_KEYS`] line keys.
fn write_key_resets(out: &mut String, model: Option<&Model>, used: u32) {
    let total = match model {
        Some(m) => m.key_capacity(),
        None => u32::from(UNKNOWN_MODEL_RESET_KEYS),
    };
    for i in used.saturating_add(1)..=total {
        if let Some(k) = KeySlot::of(model, i) {
            k.reset(out);
        }
    }
}

/// An account not in use: off, and its identity emptied (wazo `v87/templates/base.tpl`).
fn write_account_off(out: &mut String, n: u32) {
    let pre = Prefix::new("account.", n);
    let a = pre.as_str();
    push_lit(out, a, ".enable = 0\n");
    for post in [
        ".label = %NULL%\n",
        ".display_name = %NULL%\n",
        ".auth_name = %NULL%\n",
        ".user_name = %NULL%\n",
        ".password = %NULL%\n",
    ] {
        push_lit(out, a, post);
    }
    out.push_str("voice_mail.number.");
    out.push_str(pre.num());
    out.push_str(" = %NULL%\n");
}

/// A DECT base's handsets: each account with a handset slot is that handset's incoming line,
/// its only outgoing line and its default one, and names the handset; slots no account is
/// assigned to are emptied. Keys: FusionPBX `yealink/w60b/y000000000077.cfg` and
/// `yealink/w52p/y000000000025.cfg`, "Number Assignment" (`handset.X.incoming_lines`,
/// `handset.X.dial_out_lines`, `handset.X.dial_out_default_line`, `handset.X.name`; line lists
/// comma-separated account numbers).
fn write_handsets(out: &mut String, p: &Profile) {
    let slots = model_row(&p.device.model).map_or(0, |m| m.dect_handsets);
    for h in 1..=slots {
        let pre = Prefix::new("handset.", u32::from(h));
        let hs = pre.as_str();
        let lines: Vec<(u32, &Line)> = p
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.handset == Some(h))
            .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l))
            .collect();
        let Some((first, first_line)) = lines.first().copied() else {
            for post in [
                ".incoming_lines = %NULL%\n",
                ".dial_out_lines = %NULL%\n",
                ".dial_out_default_line = %NULL%\n",
                ".name = %NULL%\n",
            ] {
                push_lit(out, hs, post);
            }
            continue;
        };
        let mut list = String::new();
        for (i, (n, _)) in lines.iter().enumerate() {
            if i > 0 {
                list.push(',');
            }
            push_u32(&mut list, *n);
        }
        push_val(out, hs, ".incoming_lines = ", &list);
        push_val(out, hs, ".dial_out_lines = ", &list);
        push_num(out, hs, ".dial_out_default_line = ", first);
        push_val(out, hs, ".name = ", first_line.effective_label());
    }
}

/// The literal parts of one account's block, with the account number baked in, so the
/// hot path (the reference body) is one copy per literal run plus one per value.
struct AccountLits {
    head: &'static str,
    display: &'static str,
    auth: &'static str,
    user: &'static str,
    password: &'static str,
    host: &'static str,
    port: &'static str,
    transport: &'static str,
    address: &'static str,
    port2: &'static str,
    transport_type: &'static str,
    tail: &'static str,
}

macro_rules! account_lits {
    ($($n:literal)*) => {
        [$(AccountLits {
            head: concat!("account.", $n, ".enable = 1\naccount.", $n, ".label = "),
            display: concat!("\naccount.", $n, ".display_name = "),
            auth: concat!("\naccount.", $n, ".auth_name = "),
            user: concat!("\naccount.", $n, ".user_name = "),
            password: concat!("\naccount.", $n, ".password = "),
            host: concat!("\naccount.", $n, ".sip_server_host = "),
            port: concat!("\naccount.", $n, ".sip_server_port = "),
            transport: concat!("\naccount.", $n, ".transport = "),
            address: concat!("\naccount.", $n, ".sip_server.1.address = "),
            port2: concat!("\naccount.", $n, ".sip_server.1.port = "),
            transport_type: concat!("\naccount.", $n, ".sip_server.1.transport_type = "),
            tail: concat!(
                "\naccount.", $n, ".codec.1.enable = 1\n",
                "account.", $n, ".codec.1.payload_type = PCMU\n",
                "account.", $n, ".codec.1.priority = 1\n",
                "account.", $n, ".codec.1.rtpmap = 0\n",
                "account.", $n, ".cid_source = 4\n",
                "voice_mail.number.", $n, " = "
            ),
        },)*]
    };
}

/// Accounts 1..=16 (every Yealink desk phone has at most 16 lines).
const ACCOUNT_LITS: [AccountLits; 16] = account_lits!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

fn write_account(out: &mut String, n: u32, l: &Line) {
    let Some(a) = n.checked_sub(1).and_then(|i| ACCOUNT_LITS.get(i as usize)) else {
        return write_account_generic(out, n, l);
    };
    let port = u32::from(l.server_port);
    let transport = transport_code(l.transport);
    out.push_str(a.head);
    push_v(out, l.effective_label());
    out.push_str(a.display);
    push_v(out, &l.display_name);
    out.push_str(a.auth);
    push_v(out, &l.auth_name);
    out.push_str(a.user);
    push_v(out, &l.extension);
    out.push_str(a.password);
    push_v(out, l.password.expose());
    out.push_str(a.host);
    push_v(out, &l.server_host);
    out.push_str(a.port);
    push_u32(out, port);
    out.push_str(a.transport);
    out.push_str(transport);
    out.push_str(a.address);
    push_v(out, &l.server_host);
    out.push_str(a.port2);
    push_u32(out, port);
    out.push_str(a.transport_type);
    out.push_str(transport);
    out.push_str(a.tail);
    push_v(out, &l.voicemail);
    out.push('\n');
}

/// The same block as [`write_account`], for account numbers beyond the literal table.
fn write_account_generic(out: &mut String, n: u32, l: &Line) {
    let pre = Prefix::new("account.", n);
    let a = pre.as_str();
    push_lit(out, a, ".enable = 1\n");
    push_val(out, a, ".label = ", l.effective_label());
    push_val(out, a, ".display_name = ", &l.display_name);
    push_val(out, a, ".auth_name = ", &l.auth_name);
    push_val(out, a, ".user_name = ", &l.extension);
    push_val(out, a, ".password = ", l.password.expose());
    push_val(out, a, ".sip_server_host = ", &l.server_host);
    push_num(out, a, ".sip_server_port = ", u32::from(l.server_port));
    push_val(out, a, ".transport = ", transport_code(l.transport));
    // The v8x names of the same three settings; v7x firmware ignores them.
    push_val(out, a, ".sip_server.1.address = ", &l.server_host);
    push_num(out, a, ".sip_server.1.port = ", u32::from(l.server_port));
    push_val(
        out,
        a,
        ".sip_server.1.transport_type = ",
        transport_code(l.transport),
    );
    push_lit(out, a, ".codec.1.enable = 1\n");
    push_lit(out, a, ".codec.1.payload_type = PCMU\n");
    push_lit(out, a, ".codec.1.priority = 1\n");
    push_lit(out, a, ".codec.1.rtpmap = 0\n");
    push_lit(out, a, ".cid_source = 4\n");
    out.push_str("voice_mail.number.");
    out.push_str(pre.num());
    out.push_str(" = ");
    push_v(out, &l.voicemail);
    out.push('\n');
}

/// A BLF key (type 16) watching `b.extension` on account `b.line`, with the directed-pickup
/// code in both `.extension` (v8x) and `.pickup_value` (older), `%NULL%` when none so an old
/// code does not stay (wazo `common.py` `_format_funckey_blf`).
fn write_blf(out: &mut String, k: KeySlot, b: &BlfKey) {
    k.prefix(out);
    out.push_str(".type = 16\n");
    k.prefix(out);
    out.push_str(".line = ");
    push_u32(out, u32::from(b.line.max(1)));
    out.push('\n');
    k.push(out, ".value = ", &b.extension);
    k.push(out, ".label = ", b.effective_label());
    k.push(out, ".extension = ", &b.pickup_prefix);
    k.push(out, ".pickup_value = ", &b.pickup_prefix);
}

/// `<name><n>` formatted on the stack, e.g. `account.12`.
pub(crate) struct Prefix {
    buf: [u8; 32],
    len: usize,
    name_len: usize,
}

impl Prefix {
    /// `name` is a short ASCII literal such as `account.` (longer ones are cut).
    pub(crate) fn new(name: &str, n: u32) -> Self {
        let mut p = Self {
            buf: [0; 32],
            len: 0,
            name_len: 0,
        };
        for b in name.bytes().take(20).filter(u8::is_ascii) {
            p.put(b);
        }
        p.name_len = p.len;
        let mut digits = [0u8; 10];
        let mut d = 0;
        let mut v = n;
        for slot in digits.iter_mut() {
            // `v % 10` < 10, so the cast cannot truncate.
            *slot = b'0' + (v % 10) as u8;
            d += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for &c in digits.iter().take(d).rev() {
            p.put(c);
        }
        p
    }

    fn put(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// The whole prefix; only ASCII is ever stored, so this is always valid UTF-8.
    pub(crate) fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }

    /// The number part alone.
    pub(crate) fn num(&self) -> &str {
        self.as_str().get(self.name_len..).unwrap_or_default()
    }
}

/// `<pre><literal>`: `literal` carries ` = value\n`.
fn push_lit(out: &mut String, pre: &str, literal: &str) {
    out.push_str(pre);
    out.push_str(literal);
}

/// `<pre><post><value>\n`: `post` carries ` = `; the value is made line-safe.
fn push_val(out: &mut String, pre: &str, post: &str, value: &str) {
    out.push_str(pre);
    out.push_str(post);
    push_v(out, value);
    out.push('\n');
}

/// `<pre><post><v>\n`.
fn push_num(out: &mut String, pre: &str, post: &str, v: u32) {
    out.push_str(pre);
    out.push_str(post);
    push_u32(out, v);
    out.push('\n');
}

/// The value Yealink reads as "empty": a blank value is ignored (the phone keeps what it had,
/// so a cleared display name or BLF label would stay on the phone), while `%NULL%` sets the
/// setting to empty/its default. Sources: wazo-provd-plugins `plugins/wazo_yealink/v87/
/// templates/base.tpl` (every optional value `|d('%NULL%')`) and `v87/common.py`
/// `_format_funckey_null`; FusionPBX-era wazo `xivo-yealink/20.0/templates/common/model.tpl`.
pub(crate) const NULL: &str = "%NULL%";

/// Appends `value` made line-safe, or [`NULL`] when it is empty or only blanks (a blank
/// value is ignored by the phone; see [`NULL`]).
fn push_v(out: &mut String, value: &str) {
    if value.trim().is_empty() {
        out.push_str(NULL);
    } else {
        push_safe(out, value);
    }
}

/// Appends `value` made [`line_safe`], checking bytes first: control characters are ASCII
/// (< 0x20, 0x7f) or C1 (U+0080..U+009F, lead byte 0xC2), so values without those bytes
/// are copied as they are.
pub(crate) fn push_safe(out: &mut String, value: &str) {
    if value.bytes().all(|b| b >= 0x20 && b != 0x7f && b != 0xc2) {
        out.push_str(value);
    } else {
        out.push_str(&line_safe(value));
    }
}

pub(crate) fn transport_code(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "0",
        Transport::Tcp => "1",
        Transport::Tls => "2",
    }
}

/// Appends `<pre><n><post> = <value>\n`, the value made line-safe.
pub(crate) fn push_n(out: &mut String, pre: &str, n: u32, post: &str, value: &str) {
    out.push_str(pre);
    push_u32(out, n);
    out.push_str(post);
    out.push_str(" = ");
    push_safe(out, value);
    out.push('\n');
}

/// Appends `<pre><n><post> = <v>\n`.
pub(crate) fn push_n_u32(out: &mut String, pre: &str, n: u32, post: &str, v: u32) {
    out.push_str(pre);
    push_u32(out, n);
    out.push_str(post);
    out.push_str(" = ");
    push_u32(out, v);
    out.push('\n');
}

/// Appends the decimal digits of `n` without allocating.
pub(crate) fn push_u32(out: &mut String, n: u32) {
    super::push_decimal(out, u64::from(n));
}

/// `<prefix>.enable = 0|1` and, when on, `<prefix>.minutes = N` (Yealink allows 1..43200).
pub(crate) fn push_poll(out: &mut String, prefix: &str, minutes: u32) {
    out.push_str(prefix);
    if minutes == 0 {
        out.push_str(".enable = 0\n");
        return;
    }
    out.push_str(".enable = 1\n");
    out.push_str(prefix);
    out.push_str(".minutes = ");
    push_u32(out, minutes.min(43_200));
    out.push('\n');
}

/// The server URL with a trailing `/`: the phones append file names to it.
// Always written with the trailing `/`, as wazo does (`v87/templates/base.tpl`:
// `static.auto_provision.server.url = {{ XX_server_url }}/`) and Yealink's guide shows it.
pub(crate) fn push_server_url(out: &mut String, key: &str, url: &str) {
    out.push_str(key);
    out.push_str(" = ");
    out.push_str(&line_safe(url));
    if !url.ends_with('/') {
        out.push('/');
    }
    out.push('\n');
}

/// Yealink's GUI/web language names.
// The English names are the values wazo writes (`v87/common.py` `_LOCALE`: German, English,
// Spanish, French, Italian). Uncertain, stated: a language the phone's firmware or language
// pack lacks (Dutch on older firmware) is not applied and the phone keeps its current one.
pub(crate) fn language_name(l: Language) -> &'static str {
    l.english_name()
}

/// Writes the time-zone block: offset, optional zone name, and an explicit DST rule
/// computed from the zone's POSIX string (so the phone's built-in, possibly outdated DST
/// table is not relied on).
pub(crate) fn write_time_zone(out: &mut String, tz: &TimeZone, zone_name: Option<&str>) {
    out.push_str("local_time.time_zone = ");
    push_offset(out, i32::from(tz.offset_minutes()));
    out.push('\n');
    if let Some(name) = zone_name {
        kv::push(out, "local_time.time_zone_name", name);
    }
    if !tz.has_dst() {
        out.push_str("local_time.summer_time = 0\n");
        return;
    }
    let Some(dst) = Dst::from_posix(tz.posix()) else {
        // A rule we cannot express: let the phone's own table decide.
        out.push_str("local_time.summer_time = 2\n");
        return;
    };
    out.push_str(
        "local_time.summer_time = 1\nlocal_time.dst_time_type = 1\nlocal_time.start_time = ",
    );
    dst.start.push(out);
    out.push_str("\nlocal_time.end_time = ");
    dst.end.push(out);
    out.push_str("\nlocal_time.offset_time = ");
    push_u32(out, dst.save_minutes);
    out.push('\n');
}

/// `0`, `+1`, `-5`, `+5:30`, `-3:30`.
fn push_offset(out: &mut String, minutes: i32) {
    if minutes == 0 {
        out.push('0');
        return;
    }
    out.push(if minutes < 0 { '-' } else { '+' });
    let abs = minutes.unsigned_abs();
    push_u32(out, abs / 60);
    let m = abs % 60;
    if m != 0 {
        out.push(':');
        if m < 10 {
            out.push('0');
        }
        push_u32(out, m);
    }
}

/// A DST transition as Yealink writes it: `month/week/weekday/hour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DstRule {
    month: u32,
    week: u32,
    /// POSIX numbering (0 = Sunday .. 6 = Saturday).
    weekday: u32,
    hour: i32,
}

impl DstRule {
    fn push(&self, out: &mut String) {
        push_u32(out, self.month);
        out.push('/');
        push_u32(out, self.week);
        out.push('/');
        // Yealink numbers weekdays 1 = Monday .. 7 = Sunday.
        push_u32(out, if self.weekday == 0 { 7 } else { self.weekday });
        out.push('/');
        // Yealink's hour field takes 0..23 (the guide's `local_time.start_time` range); POSIX
        // allows -167..167 (Cairo's `/24`), so the hour is clamped, at the cost of an hour's
        // error at that transition (a documented limit; wazo's `_format_dst_change` writes
        // the hour unclamped).
        push_u32(out, self.hour.clamp(0, 23).unsigned_abs());
    }
}

/// Start and end of summer time and its offset, read from a POSIX TZ string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dst {
    start: DstRule,
    end: DstRule,
    save_minutes: u32,
}

impl Dst {
    /// Reads `STDoff[DST[off],Mm.w.d[/t],Mm.w.d[/t]]`; `None` for anything else (no DST,
    /// Julian-day rules, malformed). A "negative" DST such as Dublin's (`IST-1GMT0`, winter
    /// being the exception) is turned round so that summer is always the later offset.
    pub(crate) fn from_posix(posix: &str) -> Option<Self> {
        let mut s = posix;
        skip_name(&mut s)?;
        let std = parse_offset(&mut s)?;
        skip_name(&mut s)?;
        let dst = if s.starts_with(',') {
            std - 3600
        } else {
            parse_offset(&mut s)?
        };
        let s = s.strip_prefix(',')?;
        let (a, b) = s.split_once(',')?;
        let a = parse_rule(a)?;
        let b = parse_rule(b)?;
        // POSIX offsets are west-positive: summer is ahead when `dst < std`.
        let save = std - dst;
        let (start, end, save) = if save >= 0 {
            (a, b, save)
        } else {
            (b, a, -save)
        };
        let save_minutes = u32::try_from(save / 60)
            .ok()
            .filter(|m| *m > 0 && *m <= 180)?;
        Some(Self {
            start,
            end,
            save_minutes,
        })
    }
}

fn skip_name(s: &mut &str) -> Option<()> {
    if let Some(rest) = s.strip_prefix('<') {
        let end = rest.find('>')?;
        *s = rest.get(end + 1..)?;
        return Some(());
    }
    let n = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if n < 3 {
        return None;
    }
    *s = s.get(n..)?;
    Some(())
}

/// `[+-]h[:mm[:ss]]` in seconds.
fn parse_offset(s: &mut &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => (-1, s.get(1..)?),
        b'+' => (1, s.get(1..)?),
        _ => (1, *s),
    };
    let n = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b':')
        .count();
    let body = rest.get(..n)?;
    *s = rest.get(n..)?;
    let mut parts = body.split(':');
    let h: i32 = parts.next()?.parse().ok()?;
    let m: i32 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let sec: i32 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() || h > 167 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

/// `Mm.w.d[/h[:mm]]`; minutes are dropped (Yealink takes whole hours).
fn parse_rule(r: &str) -> Option<DstRule> {
    let r = r.strip_prefix('M')?;
    let (date, time) = match r.split_once('/') {
        Some((d, t)) => (d, Some(t)),
        None => (r, None),
    };
    let mut it = date.split('.');
    let month: u32 = it.next()?.parse().ok()?;
    let week: u32 = it.next()?.parse().ok()?;
    let weekday: u32 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1..=12).contains(&month) || !(1..=5).contains(&week) || weekday > 6
    {
        return None;
    }
    let hour = match time {
        Some(t) => {
            let mut t = t;
            let secs = parse_offset(&mut t)?;
            if !t.is_empty() {
                return None;
            }
            secs / 3600
        }
        None => 2,
    };
    Some(DstRule {
        month,
        week,
        weekday,
        hour,
    })
}

/// IANA zone -> the zone name in Yealink's AutoDST table (FusionPBX
/// `app/yealink/resources/auto_dst.xml`), only where the table's offset matches ours.
fn yealink_zone_name(iana: &str) -> Option<&'static str> {
    Some(match iana {
        "UTC" => "GMT",
        "Europe/London" => "United Kingdom(London)",
        "Europe/Dublin" => "Ireland(Dublin)",
        "Europe/Lisbon" => "Portugal(Lisboa,Porto,Funchal)",
        "Europe/Paris" => "France(Paris)",
        "Europe/Berlin" => "Germany(Berlin)",
        "Europe/Amsterdam" => "Netherlands(Amsterdam)",
        "Europe/Brussels" => "Belgium(Brussels)",
        "Europe/Rome" => "Italy(Rome)",
        "Europe/Vienna" => "Austria(Vienna)",
        "Europe/Stockholm" => "Sweden(Stockholm)",
        "Europe/Copenhagen" => "Denmark(Kopenhagen)",
        "Europe/Prague" => "Czech Republic(Prague)",
        "Europe/Budapest" => "Hungary(Budapest)",
        "Europe/Athens" => "Greece(Athens)",
        "Europe/Helsinki" => "Finland(Helsinki)",
        "Europe/Kyiv" => "Ukraine(Kyiv,Odessa)",
        "Europe/Bucharest" => "Romania(Bucharest)",
        "Asia/Kolkata" => "India(Calcutta)",
        "Asia/Bangkok" => "Thailand(Bangkok)",
        "Asia/Shanghai" => "China(Beijing)",
        "Asia/Singapore" => "Singapore(Singapore)",
        "Asia/Tokyo" => "Japan(Tokyo)",
        "Asia/Seoul" => "Korea(Seoul)",
        "Australia/Adelaide" => "Australia(Adelaide)",
        "Australia/Brisbane" => "Australia(Brisbane)",
        "Australia/Sydney" => "Australia(Sydney,Melbourne,Canberra)",
        "Pacific/Auckland" => "New Zealand(Wellington,Auckland)",
        "Atlantic/Azores" => "Portugal(Azores)",
        "America/Argentina/Buenos_Aires" => "Argentina(Buenos Aires)",
        "America/St_Johns" => "Canada-New Foundland(St.Johns)",
        "America/Halifax" => "Canada(Halifax,Saint John)",
        "America/New_York" => "United States-Eastern Time",
        "America/Toronto" => "Canada(Montreal,Ottawa,Quebec)",
        "America/Chicago" => "United States-Central Time",
        "America/Denver" => "United States-Mountain Time",
        "America/Phoenix" => "United States-MST no DST",
        "America/Los_Angeles" => "United States-Pacific Time",
        "America/Anchorage" => "United States-Alaska Time",
        "Pacific/Honolulu" => "United States-Hawaii-Aleutian",
        "Africa/Nairobi" => "East Africa Time",
        _ => return None,
    })
}

/// Appends `<indent><name>text</name>\n` (or `<name/>` when empty) in the canonical XML
/// layout, with control characters blanked and the text escaped.
pub(crate) fn push_xml_text(out: &mut String, indent: &str, name: &str, text: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    if text.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    crate::xml::escape_into(text, out);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::testing;

    #[test]
    fn account_literal_table_matches_the_generic_writer() {
        let p = crate::sample::sample_profile(crate::vendors::Vendor::Yealink);
        for n in 1..=16 {
            for l in &p.lines {
                let (mut fast, mut generic) = (String::new(), String::new());
                write_account(&mut fast, n, l);
                write_account_generic(&mut generic, n, l);
                assert_eq!(fast, generic, "account {n}");
            }
        }
        let mut out = String::new();
        write_account(&mut out, 17, &p.lines[0]);
        assert!(out.starts_with("account.17.enable = 1\n"));
    }
    use crate::inputs::Language;
    use crate::params::AdditionalParams;
    use crate::vendors::Vendor;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn mac(s: &str) -> Mac {
        Mac::parse(s).unwrap()
    }

    fn line(ext: &str, name: &str) -> Line {
        testing::line(ext, name)
    }

    fn profile() -> Profile {
        testing::profile(
            Vendor::Yealink,
            "T46S",
            "001565aabbcc",
            vec![line("204", "Irina Smirnova")],
        )
    }

    fn render(p: &Profile) -> String {
        testing::render(p)
    }

    fn value<'a>(cfg: &'a str, key: &str) -> Option<&'a str> {
        cfg.lines().find_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            (k == key).then_some(v)
        })
    }

    #[test]
    fn user_agents() {
        let ua = |s: &str| Yealink.parse_user_agent(s);
        let i = ua("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc").unwrap();
        assert_eq!(i.model.as_deref(), Some("T46S"));
        assert_eq!(i.firmware.as_deref(), Some("66.86.0.15"));
        assert_eq!(i.mac, Some(mac("001565aabbcc")));
        let i = ua("Yealink SIP-T77U 185.87.0.10 44:db:d2:bd:b5:69").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.mac),
            (Some("T77U"), Some(mac("44dbd2bdb569")))
        );
        let i = ua("Yealink W90DM 130.87.0.10 80:5e:c0:d9:c7:44").unwrap();
        assert_eq!(i.model.as_deref(), Some("W90DM"));
        let i = ua("yealink SIP-T28P 2.70.0.140 00:15:65:11:22:33").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref()),
            (Some("T28P"), Some("2.70.0.140"))
        );
        let i = ua("Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0").unwrap();
        assert_eq!((i.model.as_deref(), i.mac), (Some("T46G"), None));
        let i = ua("Yealink SIP-T56A 58.80.0.25 001565f429a4").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.mac),
            (Some("T56A"), Some(mac("001565f429a4")))
        );
        let i = ua("Yealink SIP VP-T49G 51.80.0.10 00:15:65:01:02:03").unwrap();
        assert_eq!(i.model.as_deref(), Some("T49G"));
        let long = format!("Yealink SIP-T46S {}", "1".repeat(10_000));
        for bad in [
            "",
            "Yealink",
            "Yealink ",
            "YealinkSIP-T46S 66.86.0.15",
            "Yealink SIP-T46S",
            "Yealink Meeting Server/1.0",
            "Yealink SIP-T46S vX 00:15:65:aa:bb:cc",
            "Yealink SIP-<b> 1.2 00:15:65:aa:bb:cc",
            "Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9",
            "Fanvil X4U 2.12.1 0c383e112233",
            "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82aabbcc",
            "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)",
            "Yealink\u{e9} SIP-T46S 66.86.0.15",
            long.as_str(),
        ] {
            assert_eq!(ua(bad), None, "{bad:?}");
        }
        // A malformed MAC is dropped, not fatal.
        let i = ua("Yealink SIP-T46S 66.86.0.15 zz:15:65:aa:bb:cc").unwrap();
        assert_eq!(i.mac, None);
    }

    #[test]
    fn file_names() {
        let c = |f: &str| Yealink.classify_file(f);
        let common = |m: Option<&str>| {
            Some(PathMatch::Common {
                model: m.map(str::to_owned),
            })
        };
        assert_eq!(c("y000000000066.cfg"), common(Some("T46S")));
        assert_eq!(c("y000000000096.cfg"), common(Some("T54W")));
        assert_eq!(c("y000000000028.cfg"), common(Some("T46G")));
        assert_eq!(c("y000000000188.cfg"), common(Some("T77U")));
        assert_eq!(c("y000000000025.cfg"), common(Some("W52P")));
        assert_eq!(c("y000000000000.cfg"), common(Some("T28P")));
        assert_eq!(c("y000000000999.cfg"), common(None));
        let dev = Some(PathMatch::DeviceConfig {
            mac: mac("001565aabbcc"),
        });
        assert_eq!(c("001565aabbcc.cfg"), dev);
        assert_eq!(c("001565AABBCC.cfg"), dev);
        for bad in [
            "001565aabbcc-local.cfg",
            "001565aabbcc-contact.xml",
            "y00000000066.cfg",
            "y0000000000066.cfg",
            "y00000000006a.cfg",
            "Y000000000066.cfg",
            "y000000000066.CFG",
            "001565aabbc.cfg",
            "001565aabbccd.cfg",
            "001565aabbcg.cfg",
            "00:15:65:aa:bb:cc.cfg",
            "001565aabbcc.xml",
            "cfg001565aabbcc.xml",
            "cfg0016.xml",
            "snomD785-000413922D24.htm",
            ".cfg",
            "",
        ] {
            assert_eq!(c(bad), None, "{bad:?}");
        }
        assert_eq!(
            Yealink.device_file_name(&mac("00:15:65:AA:BB:CC")),
            "001565aabbcc.cfg"
        );
        assert_eq!(code_for_model("t46s"), Some(66));
        assert_eq!(code_for_model("T21P_E2"), Some(52));
        // The table maps both ways for the first model of each code.
        for m in models::MODELS {
            let Some(code) = code_for_model(m.name) else {
                continue;
            };
            let name = format!("y{code:012}.cfg");
            let Some(PathMatch::Common { model: Some(back) }) = c(&name) else {
                panic!("{name}")
            };
            assert_eq!(code_for_model(&back), Some(code), "{}", m.name);
        }
        assert_eq!(c("y000000000095.cfg"), common(Some("T53W")));
        // Boot files are common files: `<mac>.boot`, and `y000000000000.boot` (written only
        // for a known phone, see `boot_files`).
        assert_eq!(c("001565aabbcc.boot"), common(None));
        assert_eq!(c("001565AABBCC.boot"), common(None));
        assert_eq!(c("y000000000000.boot"), common(None));
        for bad in [
            "y000000000001.boot",
            "000000000000.boot",
            "001565aabbc.boot",
            ".boot",
        ] {
            assert_eq!(c(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reference_keys() {
        let cfg = render(&profile());
        assert!(cfg.starts_with("#!version:1.0.0.1\n"));
        let expect = [
            ("account.1.enable", "1"),
            ("account.1.label", "Irina Smirnova"),
            ("account.1.display_name", "Irina Smirnova"),
            ("account.1.auth_name", "204"),
            ("account.1.user_name", "204"),
            ("account.1.password", "s3cr3t"),
            ("account.1.sip_server_host", "pbx.example.com"),
            ("account.1.sip_server_port", "5060"),
            ("account.1.transport", "0"),
            ("account.1.codec.1.enable", "1"),
            ("account.1.codec.1.payload_type", "PCMU"),
            ("account.1.codec.1.priority", "1"),
            ("account.1.codec.1.rtpmap", "0"),
            ("account.1.cid_source", "4"),
            ("voice_mail.number.1", "*001"),
            ("phone_setting.lcd_logo.mode", "0"),
            ("auto_provision.dhcp_option.enable", "0"),
            ("static.auto_provision.dhcp_option.enable", "0"),
            ("features.intercom.allow", "1"),
            ("features.intercom.mute", "0"),
            ("features.intercom.tone", "1"),
            ("features.intercom.barge", "1"),
            ("features.dtmf.transfer", "##"),
            ("features.dtmf.replace_tran", "1"),
            ("features.headset_prior", "1"),
            ("sip.notify_reboot_enable", "0"),
            ("static.auto_provision.repeat.enable", "1"),
            ("static.auto_provision.repeat.minutes", "1440"),
        ];
        for (k, v) in expect {
            assert_eq!(value(&cfg, k), Some(v), "{k}\n{cfg}");
        }
        // Nothing optional leaks in when unset; what a previous config may have set is
        // cleared with %NULL%.
        for k in [
            "static.firmware.url",
            "firmware.url",
            "local_time.ntp_server1",
            "lang.gui",
        ] {
            assert_eq!(value(&cfg, k), None, "{k}");
        }
        for k in [
            "remote_phonebook.data.1.url",
            "remote_phonebook.data.1.name",
            "local_time.time_zone",
        ] {
            assert_eq!(value(&cfg, k), Some("%NULL%"), "{k}");
        }
        assert_eq!(cfg, render(&profile()), "deterministic");
    }

    #[test]
    fn two_lines_blf_and_site_settings() {
        let mut p = profile();
        let mut l2 = line("205", "Second");
        l2.label = "Sales".into();
        l2.transport = Transport::Tls;
        l2.server_port = 5061;
        p.lines.push(l2);
        p.blf.push(BlfKey {
            extension: "301".into(),
            label: "Anna".into(),
            line: 1,
            pickup_prefix: "*8".into(),
        });
        p.blf.push(BlfKey {
            extension: "302".into(),
            label: String::new(),
            line: 2,
            pickup_prefix: String::new(),
        });
        p.phonebook_url = Some("http://pbx:8480/phonebook/001565aabbcc.xml".into());
        p.ntp_server = Some("pool.ntp.org".into());
        p.timezone = Some(TimeZone::from_name("Europe/Berlin").unwrap());
        p.language = Some(Language::De);
        p.firmware_url = Some("http://pbx:8480/firmware/yealink/T46S-66.86.0.15.rom".into());
        p.provisioning_url = Some("http://pbx:8480/prov".into());
        p.poll_interval_minutes = 0;
        let cfg = render(&p);
        let v = |k: &str| value(&cfg, k);
        assert_eq!(v("account.2.label"), Some("Sales"));
        assert_eq!(v("account.2.transport"), Some("2"));
        assert_eq!(v("account.2.sip_server_port"), Some("5061"));
        assert_eq!(v("account.2.sip_server.1.transport_type"), Some("2"));
        assert_eq!(v("voice_mail.number.2"), Some("*001"));
        assert_eq!(v("linekey.1.type"), Some("15"));
        assert_eq!(v("linekey.2.line"), Some("2"));
        assert_eq!(v("linekey.3.type"), Some("16"));
        assert_eq!(v("linekey.3.value"), Some("301"));
        assert_eq!(v("linekey.3.label"), Some("Anna"));
        assert_eq!(v("linekey.3.line"), Some("1"));
        assert_eq!(v("linekey.3.extension"), Some("*8"));
        assert_eq!(v("linekey.4.label"), Some("302"));
        assert_eq!(v("linekey.4.line"), Some("2"));
        assert_eq!(v("linekey.4.extension"), Some("%NULL%"));
        assert_eq!(v("linekey.4.pickup_value"), Some("%NULL%"));
        assert_eq!(
            v("remote_phonebook.data.1.url"),
            Some("http://pbx:8480/phonebook/001565aabbcc.xml")
        );
        assert_eq!(v("features.remote_phonebook.enable"), Some("1"));
        assert_eq!(v("local_time.ntp_server1"), Some("pool.ntp.org"));
        assert_eq!(v("local_time.time_zone"), Some("+1"));
        assert_eq!(v("local_time.time_zone_name"), Some("Germany(Berlin)"));
        assert_eq!(v("local_time.summer_time"), Some("1"));
        assert_eq!(v("local_time.start_time"), Some("3/5/7/2"));
        assert_eq!(v("local_time.end_time"), Some("10/5/7/3"));
        assert_eq!(v("local_time.offset_time"), Some("60"));
        assert_eq!(v("lang.gui"), Some("German"));
        assert_eq!(v("lang.wui"), Some("German"));
        assert_eq!(v("static.firmware.url"), p.firmware_url.as_deref());
        assert_eq!(v("firmware.url"), p.firmware_url.as_deref());
        assert_eq!(
            v("static.auto_provision.server.url"),
            Some("http://pbx:8480/prov/")
        );
        assert_eq!(v("static.auto_provision.repeat.enable"), Some("0"));
        assert_eq!(v("static.auto_provision.repeat.minutes"), None);
    }

    #[test]
    fn no_lines_is_still_valid() {
        let mut p = profile();
        p.lines.clear();
        p.blf.push(BlfKey {
            extension: "301".into(),
            label: String::new(),
            line: 0,
            pickup_prefix: String::new(),
        });
        let cfg = render(&p);
        assert!(cfg.starts_with("#!version:1.0.0.1\n"));
        // Every account of the T46S is switched off, none enabled.
        assert!(!cfg.contains(".enable = 1\naccount."));
        assert_eq!(value(&cfg, "account.1.enable"), Some("0"));
        assert_eq!(value(&cfg, "account.16.enable"), Some("0"));
        assert_eq!(value(&cfg, "account.17.enable"), None);
        assert_eq!(value(&cfg, "linekey.1.type"), Some("16"));
        assert_eq!(value(&cfg, "linekey.1.line"), Some("1"));
        for l in cfg.lines().skip(1) {
            assert!(kv::line_key(l).is_some(), "{l}");
        }
    }

    #[test]
    fn hostile_values_stay_inert() {
        let mut p = profile();
        if let Some(l) = p.lines.first_mut() {
            l.display_name = "A\nB = 1\r\naccount.1.password = x".into();
            l.password = "p\nq".into();
        }
        p.blf.push(BlfKey {
            extension: "1\n2".into(),
            label: "x\u{0}y".into(),
            line: 1,
            pickup_prefix: String::new(),
        });
        let cfg = render(&p);
        assert_eq!(value(&cfg, "B"), None);
        assert_eq!(
            cfg.lines()
                .filter(|l| l.starts_with("account.1.password"))
                .count(),
            1
        );
        assert_eq!(value(&cfg, "account.1.password"), Some("p q"));
        for l in cfg.lines().skip(1) {
            assert!(kv::line_key(l).is_some(), "{l:?}");
        }
    }

    #[test]
    fn time_zones() {
        let tz = |name: &str| {
            let mut s = String::new();
            write_time_zone(
                &mut s,
                &TimeZone::from_name(name).unwrap(),
                yealink_zone_name(name),
            );
            s
        };
        let s = tz("Europe/London");
        assert!(s.contains("local_time.time_zone = 0\n"), "{s}");
        assert!(
            s.contains("start_time = 3/5/7/1\n") && s.contains("end_time = 10/5/7/2\n"),
            "{s}"
        );
        // Dublin's POSIX rule is "negative" DST; it must come out like London's.
        let s = tz("Europe/Dublin");
        assert!(
            s.contains("start_time = 3/5/7/1\n") && s.contains("end_time = 10/5/7/2\n"),
            "{s}"
        );
        assert!(s.contains("offset_time = 60\n"), "{s}");
        let s = tz("America/New_York");
        assert!(
            s.contains("time_zone = -5\n") && s.contains("start_time = 3/2/7/2\n"),
            "{s}"
        );
        assert!(tz("Asia/Kolkata").contains("time_zone = +5:30\nlocal_time.time_zone_name = India(Calcutta)\nlocal_time.summer_time = 0\n"));
        assert!(tz("America/St_Johns").contains("time_zone = -3:30\n"));
        assert!(tz("Asia/Kathmandu").contains("time_zone = +5:45\nlocal_time.summer_time = 0\n"));
        // Cairo's end hour 24 is clamped.
        assert!(tz("Africa/Cairo").contains("end_time = 10/5/4/23\n"));
        for name in TimeZone::names() {
            let s = tz(name);
            assert!(s.lines().all(|l| kv::line_key(l).is_some()), "{name}: {s}");
        }
        assert_eq!(Dst::from_posix("EST5EDT,J60,J300"), None);
        assert_eq!(Dst::from_posix("UTC0"), None);
        assert_eq!(Dst::from_posix("<+03>-3"), None);
        assert_eq!(Dst::from_posix("X"), None);
        assert_eq!(Dst::from_posix(""), None);
        assert_eq!(Dst::from_posix("CET-1CEST,M13.5.0,M10.5.0/3"), None);
    }

    #[test]
    fn safe_values_and_prefix() {
        let safe = |v: &str| {
            let mut s = String::new();
            push_safe(&mut s, v);
            s
        };
        assert_eq!(safe("Jos\u{e9} M\u{fc}ller"), "Jos\u{e9} M\u{fc}ller");
        assert_eq!(safe("a\u{85}b\u{9f}c"), "a b c");
        assert_eq!(safe("nbsp\u{a0}x"), "nbsp\u{a0}x");
        assert_eq!(safe("t\tx\u{7f}"), "t x ");
        let p = Prefix::new("account.", 4_294_967_295);
        assert_eq!((p.as_str(), p.num()), ("account.4294967295", "4294967295"));
        let p = Prefix::new("linekey.", 0);
        assert_eq!((p.as_str(), p.num()), ("linekey.0", "0"));
        let long = Prefix::new(&"x".repeat(100), 12);
        assert_eq!(long.num(), "12");
    }

    #[test]
    fn itoa() {
        for n in [0, 7, 10, 99, 100, 4_294_967_295] {
            let mut s = String::new();
            push_u32(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn common_files() {
        let mut s = String::new();
        Yealink.write_common("y000000000066.cfg", &CommonContext::default(), &mut s);
        assert_eq!(s, "#!version:1.0.0.1\nstatic.auto_provision.repeat.enable = 0\nsip.notify_reboot_enable = 0\n");
        let mut s = String::new();
        let ctx = CommonContext {
            model: Some("T46S"),
            base_url: Some("http://pbx:8480/p"),
            firmware_url: Some("http://pbx:8480/firmware/yealink/x.rom"),
            poll_interval_minutes: 99_999,
            mac: None,
        };
        Yealink.write_common("y000000000066.cfg", &ctx, &mut s);
        assert_eq!(
            value(&s, "static.firmware.url"),
            Some("http://pbx:8480/firmware/yealink/x.rom")
        );
        assert_eq!(
            value(&s, "static.auto_provision.server.url"),
            Some("http://pbx:8480/p/")
        );
        assert_eq!(
            value(&s, "static.auto_provision.repeat.minutes"),
            Some("43200")
        );
        assert!(!s.contains("password"));
    }

    #[test]
    fn overlay_and_params() {
        let cfg = render(&profile());
        let out = Yealink
            .overlay(
                &cfg,
                "#!version:1.0.0.1\nfeatures.headset_prior = 0\nnew.key = v\n",
            )
            .unwrap();
        assert_eq!(value(&out, "features.headset_prior"), Some("0"));
        assert!(out.ends_with("new.key = v\n"));
        let pos = |s: &str, k: &str| s.find(k).unwrap();
        assert_eq!(
            pos(&out, "features.headset_prior"),
            pos(&cfg, "features.headset_prior")
        );
        let e = Yealink
            .overlay(&cfg, "a = 1\n\nnot a setting\n")
            .unwrap_err();
        assert_eq!(e.line(), Some(3));
        let params = AdditionalParams::parse(
            "[yealink]\naccount.1.label = Desk\nlocal_time.ntp_server1 = ntp.lan\n",
        )
        .unwrap();
        let refs = params.for_vendor(Vendor::Yealink);
        let out = Yealink.apply_params(&cfg, &refs).unwrap();
        assert_eq!(value(&out, "account.1.label"), Some("Desk"));
        assert!(out.ends_with("local_time.ntp_server1 = ntp.lan\n"));
        let bad = AdditionalParams::parse("[yealink]\nok = 1\nbad key = 2\n").unwrap_err();
        assert_eq!(bad.line(), Some(3));
    }

    #[test]
    fn phonebook() {
        let contacts = [
            Contact {
                name: "Zoe <b>&".into(),
                number: "101".into(),
            },
            Contact {
                name: "Adam \"A\" 'x'\n".into(),
                number: String::new(),
            },
        ];
        let mut s = String::new();
        Yealink.write_phonebook("Office & Co", &contacts, &mut s);
        crate::xml::check_well_formed(&s).unwrap();
        assert_eq!(crate::xml::Document::parse(&s).unwrap().to_xml(), s);
        assert!(
            !s.contains("<Title>"),
            "no Title: the field-proven body has none"
        );
        assert!(s.contains("<Name>Zoe &lt;b&gt;&amp;</Name>"));
        assert!(
            s.find("Zoe").unwrap() < s.find("Adam").unwrap(),
            "order kept"
        );
        assert!(s.contains("<Telephone/>"));
        let mut e = String::new();
        Yealink.write_phonebook("", &[], &mut e);
        crate::xml::check_well_formed(&e).unwrap();
        assert_eq!(crate::xml::Document::parse(&e).unwrap().to_xml(), e);
    }

    fn blf(ext: &str) -> BlfKey {
        BlfKey {
            extension: ext.into(),
            label: String::new(),
            line: 1,
            pickup_prefix: String::new(),
        }
    }

    #[test]
    fn empty_values_are_null() {
        let mut p = profile();
        p.lines[0].display_name = String::new();
        p.lines[0].voicemail = " ".into();
        let cfg = render(&p);
        assert_eq!(value(&cfg, "account.1.display_name"), Some("%NULL%"));
        assert_eq!(value(&cfg, "voice_mail.number.1"), Some("%NULL%"));
        assert_eq!(value(&cfg, "account.1.label"), Some("204"));
        for l in cfg.lines() {
            assert!(!l.ends_with("= "), "blank value: {l:?}");
        }
    }

    #[test]
    fn unused_keys_are_reset_up_to_the_models_count() {
        let mut p = profile();
        p.blf = vec![blf("202"), blf("203")];
        let cfg = render(&p);
        let v = |k: &str| value(&cfg, k);
        assert_eq!(v("linekey.1.type"), Some("15"));
        assert_eq!(v("linekey.3.type"), Some("16"));
        for k in [4, 27] {
            assert_eq!(v(&format!("linekey.{k}.type")), Some("0"), "{k}");
            assert_eq!(v(&format!("linekey.{k}.value")), Some("%NULL%"), "{k}");
            assert_eq!(v(&format!("linekey.{k}.label")), Some("%NULL%"), "{k}");
            assert_eq!(v(&format!("linekey.{k}.line")), Some("%NULL%"), "{k}");
        }
        assert_eq!(v("linekey.28.type"), None, "the T46S has 27");
        // EXP40 modules, 40 keys, up to 6 (wazo).
        assert_eq!(v("expansion_module.1.key.1.type"), Some("0"));
        assert_eq!(v("expansion_module.6.key.40.type"), Some("0"));
        assert_eq!(v("expansion_module.7.key.1.type"), None);
        assert_eq!(v("expansion_module.6.key.41.type"), None);
        // A model without expansion modules gets none; accounts past the model's are not written.
        p.device.model = "T41S".into();
        let cfg = render(&p);
        assert_eq!(value(&cfg, "linekey.15.type"), Some("0"));
        assert_eq!(value(&cfg, "linekey.16.type"), None);
        assert!(!cfg.contains("expansion_module."));
        assert_eq!(value(&cfg, "account.6.enable"), Some("0"));
        assert_eq!(value(&cfg, "account.7.enable"), None);
        // An unknown model: up to the documented default.
        p.device.model = "T99X".into();
        let cfg = render(&p);
        let last = format!("linekey.{UNKNOWN_MODEL_RESET_KEYS}.type");
        assert_eq!(value(&cfg, &last), Some("0"));
        let past = format!("linekey.{}.type", UNKNOWN_MODEL_RESET_KEYS + 1);
        assert_eq!(value(&cfg, &past), None);
        assert!(!cfg.contains("expansion_module."));
        assert_eq!(value(&cfg, "account.2.enable"), None);
    }

    #[test]
    fn keys_past_the_phone_go_to_its_expansion_modules() {
        let mut p = profile();
        p.blf = (0..30).map(|i| blf(&format!("{}", 300 + i))).collect();
        let cfg = render(&p);
        // 1 account + 26 BLFs fill the T46S's 27 keys; the other 4 BLFs go to module 1.
        assert_eq!(value(&cfg, "linekey.27.value"), Some("325"));
        assert_eq!(value(&cfg, "expansion_module.1.key.1.type"), Some("16"));
        assert_eq!(value(&cfg, "expansion_module.1.key.1.value"), Some("326"));
        assert_eq!(value(&cfg, "expansion_module.1.key.4.value"), Some("329"));
        assert_eq!(value(&cfg, "expansion_module.1.key.5.type"), Some("0"));
        assert_eq!(
            KeySlot::of(model_row("T46S"), 27 + 240),
            Some(KeySlot::Expansion(6, 40))
        );
        assert_eq!(KeySlot::of(model_row("T46S"), 27 + 241), None);
        assert_eq!(KeySlot::of(model_row("CP960"), 1), None);
        assert_eq!(KeySlot::of(None, 500), Some(KeySlot::Line(500)));
    }

    #[test]
    fn dect_base_assigns_accounts_to_handsets() {
        let mut lines = vec![
            line("201", "Alice Example"),
            line("202", "Bob"),
            line("203", ""),
            line("204", "Dan"),
        ];
        lines[0].handset = Some(1);
        lines[1].handset = Some(2);
        lines[2].handset = Some(3);
        lines[3].handset = Some(1);
        let p = testing::profile(Vendor::Yealink, "W60B", "805ec009abdc", lines);
        let cfg = render(&p);
        let v = |k: &str| value(&cfg, k);
        assert_eq!(v("handset.1.incoming_lines"), Some("1,4"));
        assert_eq!(v("handset.1.dial_out_lines"), Some("1,4"));
        assert_eq!(v("handset.1.dial_out_default_line"), Some("1"));
        assert_eq!(v("handset.1.name"), Some("Alice Example"));
        assert_eq!(v("handset.2.incoming_lines"), Some("2"));
        assert_eq!(v("handset.2.name"), Some("Bob"));
        assert_eq!(v("handset.3.dial_out_default_line"), Some("3"));
        assert_eq!(v("handset.3.name"), Some("203"));
        for h in 4..=8 {
            assert_eq!(
                v(&format!("handset.{h}.incoming_lines")),
                Some("%NULL%"),
                "{h}"
            );
            assert_eq!(v(&format!("handset.{h}.name")), Some("%NULL%"), "{h}");
        }
        assert_eq!(v("handset.9.name"), None, "the W60B serves 8");
        assert_eq!(v("account.4.user_name"), Some("204"));
        assert_eq!(v("account.5.enable"), Some("0"));
        assert_eq!(v("account.8.enable"), Some("0"));
        assert_eq!(v("account.9.enable"), None);
        assert!(!cfg.contains("linekey."), "a base has no line keys");
        // A desk phone gets no handset keys even when a line names a slot.
        let mut p = profile();
        p.lines[0].handset = Some(1);
        assert!(!render(&p).contains("handset."));
    }

    #[test]
    fn boot_files() {
        let boot = |file: &str, model: Option<&str>| {
            let mut s = String::new();
            let ctx = CommonContext {
                model,
                ..CommonContext::default()
            };
            Yealink.write_common(file, &ctx, &mut s);
            s
        };
        let s = boot("001565aabbcc.boot", Some("T46S"));
        assert_eq!(
            s,
            "#!version:1.0.0.1\ninclude:config \"y000000000066.cfg\"\ninclude:config \"001565aabbcc.cfg\"\noverwrite_mode = 1\n"
        );
        let s = boot("001565AABBCC.boot", Some("w60b"));
        assert!(
            s.contains(
                "include:config \"y000000000077.cfg\"\ninclude:config \"001565aabbcc.cfg\"\n"
            ),
            "{s}"
        );
        // Unknown model: every model's common file behind its [$MODEL] prefix, then the MAC's.
        let s = boot("001565aabbcc.boot", None);
        assert!(s.starts_with("#!version:1.0.0.1\n"));
        assert!(
            s.contains("[T46S]include:config \"y000000000066.cfg\"\n"),
            "{s}"
        );
        assert!(
            s.contains("[T54W]include:config \"y000000000096.cfg\"\n"),
            "{s}"
        );
        assert!(s.ends_with("include:config \"001565aabbcc.cfg\"\noverwrite_mode = 1\n"));
        assert!(!s.contains("password"));
        // The common boot file: the asking phone's own boot file when the shell knows its
        // MAC, nothing (a 404) when it does not.
        assert_eq!(boot("y000000000000.boot", Some("T46S")), "");
        let mut s = String::new();
        let ctx = CommonContext {
            model: Some("T46S"),
            mac: Some(mac("001565aabbcc")),
            ..CommonContext::default()
        };
        Yealink.write_common("y000000000000.boot", &ctx, &mut s);
        assert_eq!(s, boot("001565aabbcc.boot", Some("T46S")));
    }

    #[test]
    fn bare_and_dect_user_agents() {
        let ua = |s: &str| Yealink.parse_user_agent(s);
        for (s, model, fw, m) in [
            (
                "VP530 23.70.0.41 00:15:65:3d:58:e3",
                "VP530",
                "23.70.0.41",
                "0015653d58e3",
            ),
            (
                "VP530P 23.70.0.40 00:15:65:31:4b:c0",
                "VP530P",
                "23.70.0.40",
                "001565314bc0",
            ),
            (
                "W52P 25.30.0.2 00:15:65:44:b3:7c",
                "W52P",
                "25.30.0.2",
                "00156544b37c",
            ),
            (
                "Yealink W60B 77.81.0.35 80:5e:c0:09:ab:dc",
                "W60B",
                "77.81.0.35",
                "805ec009abdc",
            ),
            (
                "Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e",
                "W70B",
                "146.87.0.15",
                "805e0c1d654e",
            ),
            (
                "Yealink W80DM 103.87.0.10 24:9a:d8:d1:a6:31",
                "W80DM",
                "103.87.0.10",
                "249ad8d1a631",
            ),
            (
                "Yealink CP960 73.83.0.30 00:15:65:8a:37:86",
                "CP960",
                "73.83.0.30",
                "0015658a3786",
            ),
            (
                "Yealink SIP-T38G  38.70.0.125 00:15:65:2f:c3:5e",
                "T38G",
                "38.70.0.125",
                "0015652fc35e",
            ),
            (
                "Yealink SIP-T19P_E2 53.80.0.3 00:15:65:4c:4c:26",
                "T19P_E2",
                "53.80.0.3",
                "0015654c4c26",
            ),
        ] {
            let i = ua(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(i.model.as_deref(), Some(model), "{s}");
            assert_eq!(i.firmware.as_deref(), Some(fw), "{s}");
            assert_eq!(i.mac, Some(mac(m)), "{s}");
        }
        for bad in [
            "W52P 25.30.0.2",
            "W52P 25.30.0.2 001565aabbcc",
            "T46S 66.86.0.15 00:15:65:aa:bb:cc",
            "VP530 x 00:15:65:3d:58:e3",
            "W60B 77.81.0.35 80:5e:c0:09:ab:dc extra",
        ] {
            assert_eq!(ua(bad), None, "{bad:?}");
        }
    }
}
