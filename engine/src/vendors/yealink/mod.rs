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
//! - Boot files first (`<mac>.boot`, then `y000000000000.boot`), then, when no boot file is
//!   found, the common `y0000000000NN.cfg` (NN = the model's code) and `<mac>.cfg` in
//!   lowercase hex (Yealink Administrator's Guide for T2/T4/T5, "Boot Files"; FusionPBX
//!   `resources/templates/provision/yealink/<model>/`). The model codes below are the
//!   file names of the FusionPBX template directories.
//! - Boot files are deliberately not recognised: a boot file replaces the default request
//!   sequence, and the common one cannot name the device's own `<mac>.cfg` without the MAC
//!   (which a common file does not have). Answering 404 makes the phone fall back to the
//!   common `.cfg` and `<mac>.cfg`, the documented behaviour. `<mac>-local.cfg` (the phone's
//!   own saved changes) and `<mac>-contact.xml` are phone-side files and not served either.
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
    kv, line_safe, CheckSyncEvents, CommonContext, ConfigSyntax, Facts, ParamSection, PnpUrlForm,
    RpsApi, RpsCode, VendorModule,
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
};

/// Yealink's redirection-service code: its PortSIP section.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: None,
};

/// Yealink's module.
pub(crate) struct Yealink;

/// Model -> common-file code (`y0000000000NN.cfg`), from the FusionPBX template directories
/// (`resources/templates/provision/yealink/<model>/y<code>.cfg`). Where several models
/// share a code, the first listed is the one a bare file name maps to.
const MODEL_CODES: &[(&str, u16)] = &[
    ("T28P", 0),
    ("T26P", 4),
    ("T22P", 5),
    ("T20P", 7),
    ("VP530", 23),
    ("W52P", 25),
    ("W56P", 25),
    ("T46G", 28),
    ("T42G", 29),
    ("T32G", 32),
    ("T48G", 35),
    ("T41P", 36),
    ("CP860", 37),
    ("T38G", 38),
    ("T23G", 44),
    ("T23P", 44),
    ("T27P", 45),
    ("T29G", 46),
    ("T49G", 51),
    ("T21P", 52),
    ("T19P", 53),
    ("T40P", 54),
    ("T56A", 56),
    ("T58", 58),
    ("T58A", 58),
    ("T58V", 58),
    ("T48S", 65),
    ("T46S", 66),
    ("T42S", 67),
    ("T41S", 68),
    ("T27G", 69),
    ("T54S", 70),
    ("CP960", 73),
    ("T52S", 74),
    ("T40G", 76),
    ("W60B", 77),
    ("CP920", 78),
    ("VP59", 91),
    ("T53W", 95),
    ("T53", 95),
    ("T54W", 96),
    ("T57W", 97),
    ("T43U", 107),
    ("T46U", 108),
    ("T48U", 109),
    ("T42U", 116),
    ("T31G", 123),
    ("T33G", 124),
    ("CP965", 143),
    ("W70B", 146),
    ("CP925", 148),
    ("T58W", 150),
    ("T34W", 171),
    ("T31W", 172),
    ("T44W", 174),
    ("AX83H", 180),
    ("AX86R", 182),
    ("T73W", 183),
    ("T74W", 184),
    ("T73U", 186),
    ("T74U", 187),
    ("T77U", 188),
    ("T88V", 192),
    ("T88W", 192),
    ("T85W", 196),
    ("T87W", 197),
];

fn model_for_code(code: u64) -> Option<&'static str> {
    MODEL_CODES
        .iter()
        .find(|(_, c)| u64::from(*c) == code)
        .map(|(m, _)| *m)
}

/// The common-file code of a model (`T46S` -> 66), case-insensitive; the `_E2` suffix of
/// T19P/T21P E2 is accepted. For shells that build `y0000000000NN.cfg` names (URI
/// mappings, TFTP pre-seeding); not used by the engine itself yet.
#[allow(dead_code)]
pub(crate) fn code_for_model(model: &str) -> Option<u16> {
    let m = model.trim();
    let m = m
        .strip_suffix("_E2")
        .or_else(|| m.strip_suffix("_e2"))
        .unwrap_or(m);
    MODEL_CODES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(m))
        .map(|(_, c)| *c)
}

impl VendorModule for Yealink {
    fn syntax(&self) -> ConfigSyntax {
        ConfigSyntax::KeyValue
    }

    fn parse_user_agent(&self, ua: &str) -> Option<UaInfo> {
        parse_ua(ua)
    }

    fn classify_file(&self, file: &str) -> Option<PathMatch> {
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

    fn write_common(&self, _file: &str, common: &CommonContext<'_>, out: &mut String) {
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

    fn write_phonebook(&self, title: &str, contacts: &[Contact], out: &mut String) {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        if title.is_empty() && contacts.is_empty() {
            out.push_str("<YealinkIPPhoneDirectory/>\n");
            return;
        }
        out.push_str("<YealinkIPPhoneDirectory>\n");
        // verify: <Title> comes from the Cisco-style XML browser object; phones that only
        // read DirectoryEntry ignore it.
        if !title.is_empty() {
            push_xml_text(out, "  ", "Title", title);
        }
        for c in contacts {
            out.push_str("  <DirectoryEntry>\n");
            push_xml_text(out, "    ", "Name", &c.name);
            push_xml_text(out, "    ", "Telephone", &c.number);
            out.push_str("  </DirectoryEntry>\n");
        }
        out.push_str("</YealinkIPPhoneDirectory>\n");
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[".rom", ".bin"]
    }
}

fn parse_ua(ua: &str) -> Option<UaInfo> {
    if ua.len() > 256 {
        return None;
    }
    let ua = ua.trim();
    let head = ua.get(..7)?;
    if !head.eq_ignore_ascii_case("yealink") {
        return None;
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
    let fw = tokens.next()?;
    if fw.is_empty()
        || fw.len() > 32
        || !fw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || !fw.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
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

fn write_yealink_config(p: &Profile, out: &mut String) {
    out.push_str("#!version:1.0.0.1\n");
    for (i, line) in p.lines.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        write_account(out, n, line);
    }
    out.push_str(
        "phone_setting.lcd_logo.mode = 0\n\
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
    for (i, line) in p.lines.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let pre = Prefix::new("linekey.", n);
        let k = pre.as_str();
        push_lit(out, k, ".type = 15\n");
        push_val(out, k, ".line = ", pre.num());
        push_val(out, k, ".label = ", line.effective_label());
    }
    let first = u32::try_from(p.lines.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    for (i, b) in p.blf.iter().enumerate() {
        let k = first.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        write_blf(out, k, b);
    }
    if let Some(url) = p.phonebook_url.as_deref().filter(|u| !u.is_empty()) {
        kv::push(out, "remote_phonebook.data.1.url", url);
        out.push_str(
            "remote_phonebook.data.1.name = Phonebook\nfeatures.remote_phonebook.enable = 1\n",
        );
    }
    if let Some(ntp) = p.ntp_server.as_deref().filter(|s| !s.is_empty()) {
        kv::push(out, "local_time.ntp_server1", ntp);
    }
    if let Some(tz) = &p.timezone {
        write_time_zone(out, tz, yealink_zone_name(tz.name()));
    }
    if let Some(lang) = p.language {
        let name = language_name(lang);
        kv::push(out, "lang.gui", name);
        kv::push(out, "lang.wui", name);
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
    push_safe(out, l.effective_label());
    out.push_str(a.display);
    push_safe(out, &l.display_name);
    out.push_str(a.auth);
    push_safe(out, &l.auth_name);
    out.push_str(a.user);
    push_safe(out, &l.extension);
    out.push_str(a.password);
    push_safe(out, l.password.expose());
    out.push_str(a.host);
    push_safe(out, &l.server_host);
    out.push_str(a.port);
    push_u32(out, port);
    out.push_str(a.transport);
    out.push_str(transport);
    out.push_str(a.address);
    push_safe(out, &l.server_host);
    out.push_str(a.port2);
    push_u32(out, port);
    out.push_str(a.transport_type);
    out.push_str(transport);
    out.push_str(a.tail);
    push_safe(out, &l.voicemail);
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
    push_safe(out, &l.voicemail);
    out.push('\n');
}

fn write_blf(out: &mut String, k: u32, b: &BlfKey) {
    let pre = Prefix::new("linekey.", k);
    let p = pre.as_str();
    push_lit(out, p, ".type = 16\n");
    push_num(out, p, ".line = ", u32::from(b.line.max(1)));
    push_val(out, p, ".value = ", &b.extension);
    push_val(out, p, ".label = ", b.effective_label());
    if !b.pickup_prefix.is_empty() {
        push_val(out, p, ".extension = ", &b.pickup_prefix);
        push_val(out, p, ".pickup_value = ", &b.pickup_prefix);
    }
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
    push_safe(out, value);
    out.push('\n');
}

/// `<pre><post><v>\n`.
fn push_num(out: &mut String, pre: &str, post: &str, v: u32) {
    out.push_str(pre);
    out.push_str(post);
    push_u32(out, v);
    out.push('\n');
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
// verify: Yealink documents the URL with a trailing slash; whether every firmware adds a
// missing one is not stated, so we always write it.
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
// verify: Dutch is listed in v8x language packs but not in older firmware's lang.gui list.
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
        // verify: Yealink's hour field is 0..23; POSIX allows -167..167 (e.g. Cairo's
        // `/24`), clamped here at the cost of an hour's error at that transition.
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
            "y000000000000.boot",
            "001565aabbcc.boot",
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
        for (m, code) in MODEL_CODES {
            let name = format!("y{code:012}.cfg");
            let Some(PathMatch::Common { model: Some(back) }) = c(&name) else {
                panic!("{name}")
            };
            assert_eq!(code_for_model(&back), Some(*code), "{m}");
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
        // Nothing optional leaks in when unset.
        for k in [
            "static.firmware.url",
            "firmware.url",
            "local_time.ntp_server1",
            "lang.gui",
            "remote_phonebook.data.1.url",
        ] {
            assert_eq!(value(&cfg, k), None, "{k}");
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
        assert_eq!(v("linekey.4.extension"), None);
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
        assert!(!cfg.contains("account."));
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
        assert!(s.contains("<Title>Office &amp; Co</Title>"));
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
}
