//! Fanvil phones.
//!
//! What the phones send and request (sources: wazo-platform/wazo-provd-plugins
//! `plugins/wazo_fanvil/common/common.py` and `plugins/wazo_fanvil/serie_*/entry.py`):
//! - User-Agent `Fanvil <model> <firmware> <mac>`, the MAC as 12 lowercase hex digits, e.g.
//!   `Fanvil X4 2.10.2.6887 0c383e07e16c`, `Fanvil X6U Pro 0.0.10 0c383e2cd782` (a model with a
//!   space is written with `-`: `X6U-Pro`), `Fanvil i10SV 2.12.10.1 0c383e2397f4`.
//! - First a per-model common file whose name identifies the model. Three naming schemes appear
//!   in `COMMON_FILES`: old `f0<model>hw<hw version>.cfg` (`f0X4hw1.100.cfg`), coded
//!   `F0<code>.cfg` (`F0V00X300000.cfg` = X3, `F0V5UV200000.cfg` = X5U-V2; the code cannot be
//!   derived from the model, hence a table), and newer `fanvil_<model>_hw<hw>.txt`
//!   (`fanvil_x5u_v2_hwv2_0.txt` = X5U-V2). Then `<mac>.cfg` (lowercase), often under
//!   `/Fanvil/` (DHCP hands out `<uri>/Fanvil/$mac.cfg`).
//! - The newer `.txt` common file holds `Version=`, `Firmware=<url>`, `BuildTime=`,
//!   `Info=TXT|XML`, `<model>_<version>`, `Fanvil` (wazo `common/templates/common/model-x-v2.tpl`).
//!
//! Config format written here: the old text format (MikoPBX reference body in PROTOCOLS.md; real
//! files in xrobau/elastix `VOPTech_reference.tpl` and public PHP/Smarty provisioning templates):
//! first line `<<VOIP CONFIG FILE>>Version:2.0002`, then modules opened by `<NAME CONFIG MODULE>`
//! and never closed, lines `Key<spaces to column 19>:value`, last line `<<END OF FILE>>`. Key
//! names are the old XML format's element names with `_` read as space (wazo `base.tpl`:
//! `<AUTOUPDATE_CONFIG_MODULE><Download_Server_IP>` is `Download Server IP` here).
//!
//! Merging model ([`Doc`]): a header, lines before any module (kept, rarely present) and modules,
//! each an ordered list of key/value entries. Keys compare ASCII case-insensitively (real files
//! spell `Download password` and `Download Password`). An overlay line before any module header
//! overrides the key wherever the config already has it (first module holding it), else it goes
//! into `<GLOBAL CONFIG MODULE>`, the module Fanvil's own exports open with.
//!
//! Phonebook: `<FanvilIPPhoneDirectory>` with `<DirectoryEntry><Name/><Telephone/>` (Fanvil's XML
//! phonebook spec, as used by public phonebook generators), referenced from the config by
//! `XML-PBook1 Name`/`XML-PBook1 Addr` in `<PHONE CONFIG MODULE>`.

pub(crate) mod account;
mod models;
pub(crate) mod rps;

use crate::detect::{PathMatch, UaInfo};
use crate::error::{Error, ErrorKind, Result};
use crate::inputs::{Contact, Language, Line, Profile, Transport};
use crate::mac::Mac;
use crate::params::{Param, Section};
use crate::vendors::{
    line_safe, CheckSyncEvents, CommonContext, ConfigSyntax, Facts, ParamSection, PnpUrlForm,
    RpsApi, RpsCode, VendorModule,
};

/// Fanvil's facts. OUI from the IEEE registry. Check-sync: plain `check-sync` re-provisions
/// (FreePBX `fanvil-check-cfg`); for an explicit reboot `check-sync;reboot=true` (honoured
/// by current firmware per PBX vendors' notify tables). verify: Fanvil docs. RPS: FDPS
/// (XML-RPC, RPS.md).
pub(crate) const FACTS: Facts = Facts {
    name: "fanvil",
    display_name: "Fanvil",
    ouis: &[[0x0c, 0x38, 0x3e]],
    sample_model: "X4U",
    param_sections: &[
        ParamSection {
            section: Section::Fanvil,
            name: "fanvil",
        },
        ParamSection {
            section: Section::FanvilSip,
            name: "fanvil-sip",
        },
        ParamSection {
            section: Section::FanvilTele,
            name: "fanvil-tele",
        },
        ParamSection {
            section: Section::FanvilAutoupdate,
            name: "fanvil-autoupdate",
        },
    ],
    rps: RpsApi::Full,
    rps_site_url_note: None,
    rps_manual_note: None,
    redirect_only: None,
    check_sync: Some(CheckSyncEvents {
        resync: "check-sync",
        reboot: "check-sync;reboot=true",
    }),
    models: models::MODELS,
    pnp_url: PnpUrlForm::Base,
};

/// Fanvil's redirection-service code: its PortSIP section.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: None,
};

/// Fanvil's module.
pub(crate) struct Fanvil;

/// The first line of every config; the version is the one MikoPBX and Wazo write.
// verify: manuals say a config is applied only when its version is higher than the running one
// (unless the phone compares by digest); Wazo and MikoPBX ship a constant version and re-provision.
const HEADER_PREFIX: &str = "<<VOIP CONFIG FILE>>";
const HEADER: &str = "<<VOIP CONFIG FILE>>Version:2.0002";
const END: &str = "<<END OF FILE>>";
/// Keys are padded with spaces to this column, then `:` (all real files seen use 19).
const KEY_WIDTH: usize = 19;

const GLOBAL: &str = "GLOBAL CONFIG MODULE";
const TELE: &str = "TELE CONFIG MODULE";
const SIP: &str = "SIP CONFIG MODULE";
const PHONE: &str = "PHONE CONFIG MODULE";
const AUTOUPDATE: &str = "AUTOUPDATE CONFIG MODULE";

/// The order modules appear in Fanvil's own exports (elastix `VOPTech_reference.tpl`, a full
/// PHP-generated file); a module an overlay adds is placed by it.
const MODULE_ORDER: &[&str] = &[
    GLOBAL,
    "LAN CONFIG MODULE",
    TELE,
    "DSP CONFIG MODULE",
    SIP,
    "IAX2 CONFIG MODULE",
    "MMI CONFIG MODULE",
    "QOS CONFIG MODULE",
    "DHCP CONFIG MODULE",
    "NAT CONFIG MODULE",
    PHONE,
    "DSS KEY CONFIG MODULE",
    AUTOUPDATE,
];

/// Known coded common-file names (wazo `serie_*/entry.py` COMMON_FILES), model as the
/// User-Agent spells it.
const COMMON_FILES: &[(&str, &str)] = &[
    ("f0X2hw1.100.cfg", "X2"),
    ("f0X3shw1.100.cfg", "X3S"),
    ("f0X3sghw1.100.cfg", "X3SG"),
    ("f0X4hw1.100.cfg", "X4"),
    ("f0X5hw1.100.cfg", "X5"),
    ("f0C00580000.cfg", "C58"),
    ("f0C00620000.cfg", "C62"),
    ("F0V00X200000.cfg", "X210"),
    ("F0V00X300000.cfg", "X3"),
    ("F0V5UV200000.cfg", "X5U-V2"),
    ("F0V00X5S0000.cfg", "X5S"),
    ("F0V00X600000.cfg", "X6"),
    ("F0000X600000.cfg", "X6V2"),
    ("F0V2UV200000.cfg", "H2U-V2"),
    ("F0V10S00000.cfg", "i10S"),
    ("F0V10SV00000.cfg", "i10SV"),
    ("F0V10SD00000.cfg", "i10SD"),
    ("F0Vi51W00000.cfg", "i51W"),
    ("F0Vi52W00000.cfg", "i52W"),
    ("F0Vi53W00000.cfg", "i53W"),
    ("F0V16S00000.cfg", "i16S"),
    ("F0V16SV00000.cfg", "i16SV"),
    ("F0V0i6100000.cfg", "i61"),
    ("F0V0i6200000.cfg", "i62"),
    ("F0V0i6300000.cfg", "i63"),
    ("F0V0i6400000.cfg", "i64"),
    ("F0V0V6700000.cfg", "V67"),
    ("F0VV61G00000.cfg", "V61G"),
    ("F0VV61W00000.cfg", "V61W"),
    ("F0VV6200000.cfg", "V62"),
    // verify: Wazo names these V62Pro/V66Pro; the User-Agent rule (space -> `-`) gives V62-Pro.
    ("F0V0V6210000.cfg", "V62-Pro"),
    ("F0VV62G00000.cfg", "V62G"),
    ("F0VV62W00000.cfg", "V62W"),
    ("F0V0V6300000.cfg", "V63"),
    ("F0V0V6400000.cfg", "V64"),
    ("F0V0V6500000.cfg", "V65"),
    ("F0V0V6600000.cfg", "V66"),
    ("F0V0V6610000.cfg", "V66-Pro"),
    ("F0V610W00000.cfg", "W610W"),
    ("F0V611W00000.cfg", "W611W"),
    ("F0V620W00000.cfg", "W620W"),
];

// ---------------------------------------------------------------------------------------------
// Document model

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: String,
    value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Module {
    name: String,
    entries: Vec<Entry>,
}

impl Module {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            entries: Vec::new(),
        }
    }

    fn find(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// Parsing: a repeated key overrides the earlier one, a new key goes last (file order).
    fn set_or_push(&mut self, key: &str, value: &str) {
        match self.find(key).and_then(|i| self.entries.get_mut(i)) {
            Some(e) => e.value = value.to_owned(),
            None => self.entries.push(Entry {
                key: key.to_owned(),
                value: value.to_owned(),
            }),
        }
    }

    /// Overrides `key` in place, or adds it after the last key of the same group (the first
    /// word, e.g. `SIP2`, `Fkey3`), else at the end.
    fn upsert(&mut self, key: &str, value: &str) {
        if let Some(i) = self.find(key) {
            if let Some(e) = self.entries.get_mut(i) {
                e.value = value.to_owned();
            }
            return;
        }
        let entry = Entry {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        let group = first_word(key);
        let pos = if group.len() < key.len() {
            self.entries
                .iter()
                .rposition(|e| first_word(&e.key).eq_ignore_ascii_case(group))
                .map(|i| i + 1)
        } else {
            None
        };
        match pos {
            Some(i) if i <= self.entries.len() => self.entries.insert(i, entry),
            _ => self.entries.push(entry),
        }
    }
}

fn first_word(key: &str) -> &str {
    key.split(' ').next().unwrap_or(key)
}

/// A parsed Fanvil config or overlay.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Doc {
    /// The `<<VOIP CONFIG FILE>>` line, if present.
    header: Option<String>,
    /// Entries before any module header, with their 1-based line numbers.
    pre: Vec<(usize, Entry)>,
    modules: Vec<Module>,
}

/// One classified line.
enum Parsed<'a> {
    Blank,
    Header(&'a str),
    End,
    Module(&'a str),
    Kv(&'a str, &'a str),
}

fn invalid(detail: impl Into<String>, line: usize) -> Error {
    Error::new(ErrorKind::InvalidParams, detail).at(line, None)
}

fn parse_line(raw: &str, n: usize) -> Result<Parsed<'_>> {
    let line = raw.trim();
    if line.is_empty() {
        return Ok(Parsed::Blank);
    }
    if line.starts_with(HEADER_PREFIX) {
        return Ok(Parsed::Header(line));
    }
    if line.eq_ignore_ascii_case(END) {
        return Ok(Parsed::End);
    }
    if let Some(inner) = line.strip_prefix('<') {
        let name = inner
            .strip_suffix('>')
            .map(str::trim)
            .filter(|n| !n.is_empty() && !n.contains(['<', '>']) && !n.contains(char::is_control))
            .ok_or_else(|| invalid(format!("malformed module header {:.60}", line), n))?;
        return Ok(Parsed::Module(name));
    }
    let Some((key, value)) = line.split_once(':') else {
        return Err(invalid(
            format!("expected `Key :value` or `<MODULE>`, got {:.60}", line),
            n,
        ));
    };
    let key = key.trim();
    if key.is_empty() || key.contains(char::is_control) || key.starts_with('<') {
        return Err(invalid("empty or invalid key before `:`", n));
    }
    if value.contains(char::is_control) {
        return Err(invalid("control character in value", n));
    }
    Ok(Parsed::Kv(key, value.trim()))
}

impl Doc {
    fn parse(text: &str) -> Result<Self> {
        let mut doc = Self::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            match parse_line(raw, n)? {
                Parsed::Blank => {}
                Parsed::Header(h) => {
                    if doc.header.is_some() || !doc.modules.is_empty() || !doc.pre.is_empty() {
                        return Err(invalid("the <<VOIP CONFIG FILE>> line must come first", n));
                    }
                    doc.header = Some(h.to_owned());
                }
                // The phone stops reading here.
                Parsed::End => break,
                Parsed::Module(name) => {
                    if !doc
                        .modules
                        .iter()
                        .any(|m| m.name.eq_ignore_ascii_case(name))
                    {
                        doc.modules.push(Module::new(name));
                    } else {
                        // A repeated module header continues that module: move it last so that
                        // following lines land in it.
                        if let Some(i) = doc
                            .modules
                            .iter()
                            .position(|m| m.name.eq_ignore_ascii_case(name))
                        {
                            let m = doc.modules.remove(i);
                            doc.modules.push(m);
                        }
                    }
                }
                Parsed::Kv(key, value) => match doc.modules.last_mut() {
                    Some(m) => m.set_or_push(key, value),
                    None => doc.pre.push((
                        n,
                        Entry {
                            key: key.to_owned(),
                            value: value.to_owned(),
                        },
                    )),
                },
            }
        }
        Ok(doc)
    }

    fn module_mut(&mut self, name: &str) -> &mut Module {
        let idx = match self
            .modules
            .iter()
            .position(|m| m.name.eq_ignore_ascii_case(name))
        {
            Some(i) => i,
            None => {
                let rank = |n: &str| {
                    MODULE_ORDER
                        .iter()
                        .position(|o| o.eq_ignore_ascii_case(n))
                        .unwrap_or(MODULE_ORDER.len())
                };
                let r = rank(name);
                let at = self
                    .modules
                    .iter()
                    .position(|m| rank(&m.name) > r)
                    .unwrap_or(self.modules.len());
                self.modules.insert(at, Module::new(name));
                at
            }
        };
        let len = self.modules.len();
        // `idx < len` always holds; the fallback keeps this free of panics.
        if idx < len {
            &mut self.modules[idx]
        } else {
            self.modules.push(Module::new(name));
            let last = self.modules.len() - 1;
            &mut self.modules[last]
        }
    }

    /// Merges `over` into `self`.
    fn merge(&mut self, over: Self) {
        if let Some(h) = over.header {
            self.header = Some(h);
        }
        for (_, e) in over.pre {
            let existing = self.modules.iter_mut().find(|m| m.find(&e.key).is_some());
            match existing {
                Some(m) => m.upsert(&e.key, &e.value),
                None => self.module_mut(GLOBAL).upsert(&e.key, &e.value),
            }
        }
        for m in over.modules {
            let target = self.module_mut(&m.name);
            for e in m.entries {
                target.upsert(&e.key, &e.value);
            }
        }
    }

    /// Writes the canonical layout (the one [`Fanvil::write_config`] produces).
    fn write(&self, out: &mut String) {
        out.push_str(&line_safe(self.header.as_deref().unwrap_or(HEADER)));
        out.push('\n');
        for (_, e) in &self.pre {
            kv(out, &e.key, &e.value);
        }
        for m in &self.modules {
            out.push('\n');
            module(out, &m.name);
            for e in &m.entries {
                kv(out, &e.key, &e.value);
            }
        }
        out.push('\n');
        out.push_str(END);
        out.push('\n');
    }

    fn to_text(&self) -> String {
        let mut s = String::with_capacity(4096);
        self.write(&mut s);
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Writers

fn module(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str(">\n");
}

const SPACES: &str = "                   ";

/// `Key<padding>:value`; the value is made line-safe.
fn kv(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    if let Some(pad) = SPACES.get(..KEY_WIDTH.saturating_sub(key.len())) {
        out.push_str(pad);
    }
    out.push(':');
    out.push_str(&line_safe(value));
    out.push('\n');
}

/// `SIP<n> <suffix>` keys without allocating.
fn kv_n(out: &mut String, prefix: &str, n: usize, suffix: &str, value: &str) {
    let start = out.len();
    out.push_str(prefix);
    push_num(out, n as u64);
    out.push(' ');
    out.push_str(suffix);
    let klen = out.len() - start;
    if let Some(pad) = SPACES.get(..KEY_WIDTH.saturating_sub(klen)) {
        out.push_str(pad);
    }
    out.push(':');
    out.push_str(&line_safe(value));
    out.push('\n');
}

fn push_num(out: &mut String, n: u64) {
    super::push_decimal(out, n);
}

fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_num(out, n.unsigned_abs());
}

/// Fanvil's SIP transport codes (wazo `common.py` `_SIP_TRANSPORT`: udp 0, tcp 1, tls 3).
fn transport_code(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "0",
        Transport::Tcp => "1",
        Transport::Tls => "3",
    }
}

/// `true` for models whose firmware takes language codes (wazo `_NEW_MODEL_REGEX`
/// `^X([4-9][UC]|(210i?)|7)([- ](Pro|V2))?$`).
fn is_new_model(model: &str) -> bool {
    let Some(rest) = model.strip_prefix('X') else {
        return false;
    };
    let (base, tail) = match rest.find(['-', ' ']) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let base_ok = match base.as_bytes() {
        [d, s] => (b'4'..=b'9').contains(d) && matches!(s, b'U' | b'C'),
        [b'7'] => true,
        [b'2', b'1', b'0'] | [b'2', b'1', b'0', b'i'] => true,
        _ => false,
    };
    base_ok && matches!(tail, "" | "Pro" | "V2")
}

/// The `Language` value for `model`, if Fanvil's firmware for it has one.
/// Sources: wazo `common.py` `_NEW_SUPPORTED_LANGUAGES` (new models: codes) and
/// `serie_x`/`serie_v` `entry.py` `_LOCALE` (older models: numbers).
fn language_value(model: &str, lang: Language) -> Option<&'static str> {
    if is_new_model(model) {
        return Some(match lang {
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::It => "it",
            Language::Es => "es",
            Language::Nl => "nl",
            Language::Pt => "pt",
            Language::Ru => "ru",
            Language::Pl => "pl",
            Language::Tr => "tr",
        });
    }
    let v_series = model.starts_with('V');
    // verify: numeric codes exist in the sources only for these languages.
    match lang {
        Language::En => Some("0"),
        Language::De => Some("16"),
        Language::It => Some("7"),
        Language::Nl => Some("3"),
        Language::Fr => Some(if v_series { "5" } else { "4" }),
        Language::Es => Some(if v_series { "6" } else { "10" }),
        _ => None,
    }
}

/// DST rule `Mm.w.d[/h]` of a POSIX TZ string: (month, week, weekday, hour).
fn posix_rule(rule: &str) -> Option<(u8, u8, u8, u8)> {
    let rule = rule.strip_prefix('M')?;
    let (date, time) = match rule.split_once('/') {
        Some((d, t)) => (d, Some(t)),
        None => (rule, None),
    };
    let mut it = date.split('.');
    let m: u8 = it.next()?.parse().ok()?;
    let w: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    let h: u8 = match time {
        Some(t) => t.split(':').next()?.parse().ok()?,
        None => 2,
    };
    ((1..=12).contains(&m) && (1..=5).contains(&w) && d <= 6 && h <= 23).then_some((m, w, d, h))
}

fn write_dst(out: &mut String, which: &str, (m, w, d, h): (u8, u8, u8, u8)) {
    let mut key = String::with_capacity(16);
    for (suffix, v) in [
        ("Mon", m as i64),
        ("Week", w as i64),
        ("Wday", d as i64),
        ("Hour", h as i64),
    ] {
        key.clear();
        key.push_str("DST ");
        key.push_str(which);
        key.push(' ');
        key.push_str(suffix);
        // wazo `_extract_dst_change`: week 5 ("last") is written as -1.
        let v = if suffix == "Week" && v == 5 { -1 } else { v };
        let mut s = String::with_capacity(3);
        push_int(&mut s, v);
        kv(out, &key, &s);
    }
}

fn write_global(profile: &Profile, out: &mut String) {
    out.push('\n');
    module(out, GLOBAL);
    // Keys from wazo `base.tpl` <GLOBAL_CONFIG_MODULE>.
    match profile.ntp_server.as_deref().filter(|s| !s.is_empty()) {
        Some(ntp) => {
            kv(out, "SNTP Server", ntp);
            kv(out, "Enable SNTP", "1");
            kv(out, "SNTP Timeout", "60");
        }
        None => kv(out, "Enable SNTP", "0"),
    }
    if let Some(tz) = &profile.timezone {
        let minutes = tz.offset_minutes() as i64;
        // Quarter hours east of UTC (wazo `_TZ_INFO`: UTC+1 -> 4).
        let mut v = String::with_capacity(4);
        push_int(&mut v, minutes / 15);
        kv(out, "Time Zone", &v);
        if minutes % 60 == 0 {
            let h = minutes / 60;
            v.clear();
            // wazo spells the names `UCT`, `UTC+1`, `UTC-01`.
            match h {
                0 => v.push_str("UCT"),
                h if h > 0 => {
                    v.push_str("UTC+");
                    push_num(&mut v, h as u64);
                }
                h => {
                    v.push_str("UTC-");
                    if h > -10 {
                        v.push('0');
                    }
                    push_num(&mut v, h.unsigned_abs());
                }
            }
            kv(out, "Time Zone Name", &v);
        }
        let mut rules = tz.posix().split(',').skip(1);
        match (
            rules.next().and_then(posix_rule),
            rules.next().and_then(posix_rule),
        ) {
            (Some(start), Some(end)) => {
                // verify: wazo writes 2 for "DST on" and caps the shift at 60 minutes.
                kv(out, "Enable DST", "2");
                kv(out, "DST Min Offset", "60");
                write_dst(out, "Start", start);
                write_dst(out, "End", end);
            }
            _ => kv(out, "Enable DST", "0"),
        }
    }
    if let Some(value) = profile
        .language
        .and_then(|l| language_value(&profile.device.model, l))
    {
        kv(out, "Language", value);
    }
}

fn write_tele(profile: &Profile, out: &mut String) {
    out.push('\n');
    module(out, TELE);
    // MikoPBX reference: caller id from PAI/RPID/From (4) and intercom behaviour.
    for n in 1..=profile.lines.len() {
        kv_n(out, "SIP", n, "Caller Id Type", "4");
    }
    kv(out, "P1 Enable Intercom", "1");
    kv(out, "P1 Intercom Mute", "0");
    kv(out, "P1 Intercom Tone", "1");
    kv(out, "P1 Intercom Barge", "1");
}

fn write_line(out: &mut String, n: usize, line: &Line) {
    let mut port = String::with_capacity(5);
    push_num(&mut port, line.server_port as u64);
    kv_n(out, "SIP", n, "Enable Reg", "1");
    kv_n(out, "SIP", n, "Phone Number", &line.extension);
    kv_n(out, "SIP", n, "Display Name", &line.display_name);
    kv_n(out, "SIP", n, "Sip Name", line.effective_label());
    kv_n(out, "SIP", n, "Register Addr", &line.server_host);
    kv_n(out, "SIP", n, "Register Port", &port);
    kv_n(out, "SIP", n, "Register User", &line.auth_name);
    kv_n(out, "SIP", n, "Register Pswd", line.password.expose());
    kv_n(out, "SIP", n, "Transport", transport_code(line.transport));
    kv_n(out, "SIP", n, "MWI Num", &line.voicemail);
    kv_n(out, "SIP", n, "Proxy Addr", "");
    kv_n(out, "SIP", n, "Proxy User", "");
    kv_n(out, "SIP", n, "Proxy Pswd", "");
}

fn write_sip(profile: &Profile, out: &mut String) {
    out.push('\n');
    module(out, SIP);
    kv(out, "--SIP Line List--", "");
    for (i, line) in profile.lines.iter().enumerate() {
        write_line(out, i + 1, line);
    }
}

fn write_phone(profile: &Profile, out: &mut String) {
    if profile.blf.is_empty() && profile.phonebook_url.is_none() {
        return;
    }
    out.push('\n');
    module(out, PHONE);
    // Function keys: `Fkey<n> Type/Value/Title` (full PHP-generated export; wazo `base.tpl`
    // <PHONE_CONFIG_MODULE><Function_Key>). BLF is type 1 with `<ext>@<line>/ba[<pickup><ext>]`
    // (wazo `common.py` `_format_funckey_blf`).
    let mut value = String::with_capacity(48);
    for (i, key) in profile.blf.iter().enumerate() {
        value.clear();
        value.push_str(&key.extension);
        value.push('@');
        push_num(&mut value, key.line.max(1) as u64);
        value.push_str("/ba");
        if !key.pickup_prefix.is_empty() {
            value.push_str(&key.pickup_prefix);
            value.push_str(&key.extension);
        }
        kv_n(out, "Fkey", i + 1, "Type", "1");
        kv_n(out, "Fkey", i + 1, "Value", &value);
        kv_n(out, "Fkey", i + 1, "Title", key.effective_label());
    }
    if let Some(url) = &profile.phonebook_url {
        // Remote XML phonebook (public elastix-style Fanvil template).
        kv(out, "--Xml PhoneBook--", "");
        kv(out, "XML-PBook1 Name", "Phonebook");
        kv(out, "XML-PBook1 Addr", url);
    }
}

/// `Download Interval`, in hours. verify: unit assumed hours (Wazo writes 1).
fn interval_hours(minutes: u32) -> u32 {
    minutes.div_ceil(60).max(1)
}

fn write_autoupdate(
    out: &mut String,
    server: Option<&str>,
    firmware_url: Option<&str>,
    poll_minutes: u32,
) {
    out.push('\n');
    module(out, AUTOUPDATE);
    // Keys: wazo `common/templates/common/model.tpl` and `base.tpl` <AUTOUPDATE_CONFIG_MODULE>.
    if let Some(server) = server.filter(|s| !s.is_empty()) {
        kv(out, "Download Server IP", server);
        // `$mac` is expanded by the phone (Wazo writes `Fanvil/$mac.cfg`).
        kv(out, "Config File Name", "$mac.cfg");
        // verify: 2 is what Wazo writes next to an http(s) URL; the URL scheme decides.
        kv(out, "Download Protocol", "2");
    }
    // verify: 1 = at power-on, 2 = also every `Download Interval`.
    if poll_minutes == 0 {
        kv(out, "Download Mode", "1");
    } else {
        kv(out, "Download Mode", "2");
        let mut v = String::with_capacity(6);
        push_num(&mut v, interval_hours(poll_minutes) as u64);
        kv(out, "Download Interval", &v);
    }
    kv(out, "PNP Enable", "0");
    // Firmware: `App URL` per the MikoPBX module (the issue); `Auto Image URL` per wazo's XML
    // `Auto_Image_URL`. verify: which of the two each firmware reads.
    let fw = firmware_url.unwrap_or("");
    kv(out, "App URL", fw);
    kv(out, "Auto Image URL", fw);
    // Check-sync: Wazo re-provisions Fanvil with a plain SIP NOTIFY `Event: check-sync`
    // (`synchronize.standard_sip_synchronize`) and sets no switch; the phones accept it by
    // default. verify: no old-format key for it is documented in the sources read.
}

// ---------------------------------------------------------------------------------------------
// File names

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `fanvil_<model>_hw<ver>.txt` -> model, e.g. `fanvil_x5u_v2_hwv2_0.txt` -> `X5U-V2`.
fn model_from_txt(file: &str) -> Option<String> {
    let n = file.len();
    if n < 4 || !file.get(n - 4..)?.eq_ignore_ascii_case(".txt") {
        return None;
    }
    let stem = file.get(..n - 4)?;
    if !stem.get(..7)?.eq_ignore_ascii_case("fanvil_") {
        return None;
    }
    let rest = stem.get(7..)?;
    let hw = rest.to_ascii_lowercase().rfind("_hw")?;
    let model = rest.get(..hw)?;
    let hw_part = rest.get(hw + 3..)?;
    if model.is_empty()
        || model.len() > 24
        || hw_part.is_empty()
        || !hw_part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || !model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return None;
    }
    let mut out = String::with_capacity(model.len());
    for (i, part) in model.split('_').enumerate() {
        if part.is_empty() {
            return None;
        }
        if i > 0 {
            out.push('-');
        }
        if part.eq_ignore_ascii_case("pro") {
            out.push_str("Pro");
        } else if i == 0 && part.starts_with(['i', 'I']) {
            // The i-series keeps its lowercase `i` (`i10SV`, `i53W`).
            out.push('i');
            out.push_str(&part[1..].to_ascii_uppercase());
        } else {
            out.push_str(&part.to_ascii_uppercase());
        }
    }
    Some(out)
}

/// `f0<model>hw<ver>.cfg` -> model, e.g. `f0X3sghw1.100.cfg` -> `X3SG`.
fn model_from_f0hw(stem: &str) -> Option<String> {
    let rest = stem
        .strip_prefix("f0")
        .or_else(|| stem.strip_prefix("F0"))?;
    let hw = rest.to_ascii_lowercase().rfind("hw")?;
    let model = rest.get(..hw)?;
    let ver = rest.get(hw + 2..)?;
    (!model.is_empty()
        && model.len() <= 12
        && model.bytes().all(|b| b.is_ascii_alphanumeric())
        && model.starts_with(|c: char| c.is_ascii_alphabetic())
        && !ver.is_empty()
        && ver.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    .then(|| model.to_ascii_uppercase())
}

/// The model part of a User-Agent (`X6U Pro` -> `X6U-Pro`), if it looks like a Fanvil model.
fn normalise_model(words: &[&str]) -> Option<String> {
    if words.is_empty() || words.len() > 3 {
        return None;
    }
    let model = words.join("-");
    (model.len() <= 32
        && model.starts_with(|c: char| c.is_ascii_alphabetic())
        && model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then_some(model)
}

// ---------------------------------------------------------------------------------------------

impl VendorModule for Fanvil {
    fn syntax(&self) -> ConfigSyntax {
        ConfigSyntax::FanvilModules
    }

    fn parse_user_agent(&self, ua: &str) -> Option<UaInfo> {
        if ua.len() > 256 {
            return None;
        }
        let rest = ua.trim().strip_prefix("Fanvil ")?;
        let words: Vec<&str> = rest.split_ascii_whitespace().collect();
        let (mac, words) = words.split_last()?;
        let (fw, model) = words.split_last()?;
        let mac = (mac.len() == 12 && is_hex(mac))
            .then(|| Mac::from_hex12(mac))
            .flatten()?;
        let fw_ok = !fw.is_empty()
            && fw.len() <= 64
            && fw.starts_with(|c: char| c.is_ascii_digit())
            && fw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !fw_ok {
            return None;
        }
        Some(UaInfo {
            model: Some(normalise_model(model)?),
            firmware: Some((*fw).to_owned()),
            mac: Some(mac),
        })
    }

    fn classify_file(&self, file: &str) -> Option<PathMatch> {
        if file.len() > 64 {
            return None;
        }
        if let Some((_, model)) = COMMON_FILES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(file))
        {
            return Some(PathMatch::Common {
                model: Some((*model).to_owned()),
            });
        }
        if let Some(model) = model_from_txt(file) {
            return Some(PathMatch::Common { model: Some(model) });
        }
        let ext_ok = file
            .get(file.len().checked_sub(4)?..)
            .is_some_and(|e| e.eq_ignore_ascii_case(".cfg"));
        if !ext_ok {
            return None;
        }
        let stem = file.get(..file.len() - 4)?;
        if stem.len() == 12 && is_hex(stem) {
            return Mac::from_hex12(stem).map(|mac| PathMatch::DeviceConfig { mac });
        }
        if let Some(model) = model_from_f0hw(stem) {
            return Some(PathMatch::Common { model: Some(model) });
        }
        // Coded names of models not in the table: `F0` and 9-10 letters/digits.
        // verify: the code's scheme is undocumented; the model stays unknown.
        let coded = stem
            .strip_prefix("F0")
            .or_else(|| stem.strip_prefix("f0"))
            .is_some_and(|c| {
                (9..=10).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        coded.then_some(PathMatch::Common { model: None })
    }

    fn device_file_name(&self, mac: &Mac) -> String {
        format!("{mac}.cfg")
    }

    fn write_config(&self, profile: &Profile, out: &mut String) {
        out.push_str(HEADER);
        out.push('\n');
        write_global(profile, out);
        write_tele(profile, out);
        write_sip(profile, out);
        write_phone(profile, out);
        write_autoupdate(
            out,
            profile.provisioning_url.as_deref(),
            profile.firmware_url.as_deref(),
            profile.poll_interval_minutes,
        );
        out.push('\n');
        out.push_str(END);
        out.push('\n');
    }

    fn write_common(&self, file: &str, common: &CommonContext<'_>, out: &mut String) {
        let is_txt = file
            .get(file.len().saturating_sub(4)..)
            .is_some_and(|e| e.eq_ignore_ascii_case(".txt"));
        if is_txt {
            // wazo `model-x-v2.tpl`: `Version=`, `Firmware=`, `BuildTime=`, `Info=TXT|XML`,
            // `<model>_<version>`, `Fanvil`. No firmware version is known here, so the
            // version lines stay empty. verify: how firmware treats an empty `Version=`.
            out.push_str("Version=\n");
            out.push_str("Firmware=");
            out.push_str(&line_safe(common.firmware_url.unwrap_or("")));
            out.push('\n');
            out.push_str("Info=TXT|XML\n");
            out.push_str(&line_safe(common.model.unwrap_or("")));
            out.push_str("_\nFanvil\n");
            return;
        }
        // The old common `.cfg`: provisioning settings only, no account (wazo `model.tpl`).
        out.push_str(HEADER);
        out.push('\n');
        write_autoupdate(
            out,
            common.base_url,
            common.firmware_url,
            common.poll_interval_minutes,
        );
        out.push('\n');
        out.push_str(END);
        out.push('\n');
    }

    fn overlay(&self, config: &str, overlay: &str) -> Result<String> {
        let over = Doc::parse(overlay)?;
        let mut doc = Doc::parse(config)?;
        doc.merge(over);
        Ok(doc.to_text())
    }

    fn apply_params(&self, config: &str, params: &[&Param]) -> Result<String> {
        let mut doc = Doc::parse(config)?;
        for p in params {
            let module = match p.section {
                Section::Fanvil => GLOBAL,
                Section::FanvilSip => SIP,
                Section::FanvilTele => TELE,
                Section::FanvilAutoupdate => AUTOUPDATE,
                _ => continue,
            };
            let key = p.key.trim();
            if key.is_empty()
                || key.contains(':')
                || key.starts_with('<')
                || key.contains(char::is_control)
            {
                return Err(invalid(
                    format!("not a Fanvil key name: {:.60}", p.key),
                    p.line,
                ));
            }
            doc.module_mut(module)
                .upsert(key, line_safe(p.value.trim()).as_ref());
        }
        Ok(doc.to_text())
    }

    fn write_phonebook(&self, title: &str, contacts: &[Contact], out: &mut String) {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str("<FanvilIPPhoneDirectory clearlight=\"true\">\n");
        out.push_str("  <Title>");
        crate::xml::escape_into(title, out);
        out.push_str("</Title>\n");
        for c in contacts {
            out.push_str("  <DirectoryEntry>\n    <Name>");
            crate::xml::escape_into(&line_safe(&c.name), out);
            out.push_str("</Name>\n    <Telephone>");
            crate::xml::escape_into(&line_safe(&c.number), out);
            out.push_str("</Telephone>\n  </DirectoryEntry>\n");
        }
        out.push_str("</FanvilIPPhoneDirectory>\n");
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[".z", ".bin"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{BlfKey, Device};
    use crate::secret::Secret;
    use crate::tz::TimeZone;
    use crate::vendors::testing;
    use crate::vendors::Vendor;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn mac() -> Mac {
        Mac::from_hex12("0c383e07e16c").unwrap()
    }

    fn line(ext: &str, name: &str) -> Line {
        Line {
            password: Secret::from("s3cret"),
            ..testing::line(ext, name)
        }
    }

    fn profile() -> Profile {
        let mut p = Profile::new(Device {
            vendor: Vendor::Fanvil,
            model: "X4U".into(),
            mac: mac(),
        });
        p.lines = vec![line("203", "Irina Smirnova"), line("204", "Second")];
        p.blf = vec![
            BlfKey {
                extension: "205".into(),
                label: "Reception".into(),
                line: 1,
                pickup_prefix: "*8".into(),
            },
            BlfKey {
                extension: "206".into(),
                label: String::new(),
                line: 2,
                pickup_prefix: String::new(),
            },
        ];
        p.ntp_server = Some("pool.ntp.org".into());
        p.timezone = TimeZone::from_name("Europe/Berlin").ok();
        p.language = Some(Language::De);
        p.phonebook_url = Some("http://pbx/phonebook/0c383e07e16c.xml".into());
        p.firmware_url = Some("http://pbx/firmware/fanvil/x4u.z".into());
        p.provisioning_url = Some("http://pbx:8480".into());
        p
    }

    fn render(p: &Profile) -> String {
        testing::render(p)
    }

    fn param(section: Section, line: usize, key: &str, value: &str) -> Param {
        Param {
            section,
            line,
            key: key.into(),
            value: value.into(),
            attrs: Vec::new(),
            raw_xml: None,
        }
    }

    #[test]
    fn user_agents() {
        let ua = Fanvil
            .parse_user_agent("Fanvil X4 2.10.2.6887 0c383e07e16c")
            .unwrap();
        assert_eq!(ua.model.as_deref(), Some("X4"));
        assert_eq!(ua.firmware.as_deref(), Some("2.10.2.6887"));
        assert_eq!(ua.mac, Some(mac()));
        let ua = Fanvil
            .parse_user_agent("Fanvil X6U Pro 0.0.10 0c383e2cd782")
            .unwrap();
        assert_eq!(ua.model.as_deref(), Some("X6U-Pro"));
        for (s, model) in [
            ("Fanvil V67 2.6.6.187 0c383e2b29e6", "V67"),
            ("Fanvil i10SV 2.12.10.1 0c383e2397f4", "i10SV"),
            ("Fanvil H2U-V2 2.12.0 0c383e32342e", "H2U-V2"),
            ("Fanvil W620W 2.16.10 0c383e7dd216", "W620W"),
            ("Fanvil X5U-V2 2.12.16.17 0c383e557eb1", "X5U-V2"),
        ] {
            assert_eq!(
                Fanvil.parse_user_agent(s).unwrap().model.as_deref(),
                Some(model),
                "{s}"
            );
        }
        let long = format!("Fanvil {} 1.0 0c383e07e16c", "X".repeat(5000));
        for bad in [
            "",
            "Fanvil",
            "Fanvil X4",
            "Fanvil X4 2.10 0c383e07e16",
            "Fanvil X4 2.10 0c383e07e16z",
            "Fanvil  0c383e07e16c",
            "Yealink SIP-T46S 66.86.0.15 80:5e:c0:11:22:33",
            "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872",
            "Htek UC926 2.0.4.4.46 00:1f:c1:1c:22:33",
            "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 000413aabbcc)",
            long.as_str(),
        ] {
            assert_eq!(Fanvil.parse_user_agent(bad), None, "{bad:.80}");
        }
    }

    #[test]
    fn file_names() {
        let common = |f: &str| match Fanvil.classify_file(f) {
            Some(PathMatch::Common { model }) => model,
            other => panic!("{f}: {other:?}"),
        };
        assert_eq!(common("f0X4hw1.100.cfg").as_deref(), Some("X4"));
        assert_eq!(common("F0V00X300000.cfg").as_deref(), Some("X3"));
        assert_eq!(common("F0V5UV200000.cfg").as_deref(), Some("X5U-V2"));
        assert_eq!(
            common("fanvil_x5u_v2_hwv2_0.txt").as_deref(),
            Some("X5U-V2")
        );
        assert_eq!(
            common("fanvil_x4u_pro_hwv2_0.txt").as_deref(),
            Some("X4U-Pro")
        );
        assert_eq!(common("fanvil_i10sv_hwv1_0.txt").as_deref(), Some("i10SV"));
        assert_eq!(common("fanvil_v67_hw1_1.txt").as_deref(), Some("V67"));
        assert_eq!(common("f0C00580000.cfg").as_deref(), Some("C58"));
        assert_eq!(common("f0X7hw1.100.cfg").as_deref(), Some("X7"));
        assert_eq!(common("F0V00X9Z0000.cfg"), None);
        assert_eq!(
            Fanvil.classify_file("0c383e07e16c.cfg"),
            Some(PathMatch::DeviceConfig { mac: mac() })
        );
        assert_eq!(
            Fanvil.classify_file("0C383E07E16C.cfg"),
            Some(PathMatch::DeviceConfig { mac: mac() })
        );
        for bad in [
            "",
            ".cfg",
            "0c383e07e16.cfg",
            "0c383e07e16c0.cfg",
            "0c383e07e16c.xml",
            "0c383e07e16c.cfg.bak",
            "cfg0c383e07e16c.xml",
            "y000000000028.cfg",
            "snomD785.htm",
            "cfg0001.xml",
            "fanvil_.txt",
            "fanvil_x4u.txt",
            "fanvil_x4u_hw.txt",
            "f0hw1.cfg",
            "F0ab.cfg",
            "\u{0}\u{ffff}.cfg",
        ] {
            assert_eq!(Fanvil.classify_file(bad), None, "{bad}");
        }
        assert_eq!(Fanvil.device_file_name(&mac()), "0c383e07e16c.cfg");
    }

    #[test]
    fn config_has_reference_keys_and_more() {
        let s = render(&profile());
        assert!(s.starts_with("<<VOIP CONFIG FILE>>Version:2.0002\n"));
        assert!(s.ends_with("<<END OF FILE>>\n"));
        for want in [
            "PNP Enable         :0\n",
            "<SIP CONFIG MODULE>\n",
            "SIP1 Enable Reg    :1\n",
            "SIP1 Phone Number  :203\n",
            "SIP1 Display Name  :Irina Smirnova\n",
            "SIP1 Register Addr :pbx.example.com\n",
            "SIP1 Register Port :5060\n",
            "SIP1 Register User :203\n",
            "SIP1 Register Pswd :s3cret\n",
            "SIP1 MWI Num       :*001\n",
            "SIP1 Transport     :0\n",
            "SIP2 Phone Number  :204\n",
            "Fkey1 Type         :1\n",
            "Fkey1 Value        :205@1/ba*8205\n",
            "Fkey1 Title        :Reception\n",
            "Fkey2 Value        :206@2/ba\n",
            "Fkey2 Title        :206\n",
            "XML-PBook1 Addr    :http://pbx/phonebook/0c383e07e16c.xml\n",
            "SNTP Server        :pool.ntp.org\n",
            "Time Zone          :4\n",
            "Time Zone Name     :UTC+1\n",
            "Enable DST         :2\n",
            "DST Start Mon      :3\n",
            "DST Start Week     :-1\n",
            "DST End Mon        :10\n",
            "Language           :de\n",
            "App URL            :http://pbx/firmware/fanvil/x4u.z\n",
            "Download Server IP :http://pbx:8480\n",
            "Config File Name   :$mac.cfg\n",
            "Download Mode      :2\n",
            "Download Interval  :24\n",
            "<AUTOUPDATE CONFIG MODULE>\n",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
        // The padded column: every key line has `:` at column 19 unless the key is longer.
        for l in s.lines().filter(|l| !l.starts_with('<') && !l.is_empty()) {
            let i = l.find(':').unwrap();
            assert!(i >= KEY_WIDTH, "{l}");
        }
        // Deterministic, and a fixed point of parse + write.
        assert_eq!(s, render(&profile()));
        assert_eq!(Doc::parse(&s).unwrap().to_text(), s);
    }

    #[test]
    fn config_without_lines_and_old_model_language() {
        let mut p = Profile::new(Device {
            vendor: Vendor::Fanvil,
            model: "X4".into(),
            mac: mac(),
        });
        p.language = Some(Language::De);
        p.poll_interval_minutes = 0;
        let s = render(&p);
        assert!(!s.contains("SIP1"));
        assert!(s.contains("Language           :16\n"));
        assert!(s.contains("Download Mode      :1\n"));
        assert!(s.contains("App URL            :\n"));
        assert_eq!(Doc::parse(&s).unwrap().to_text(), s);
    }

    #[test]
    fn hostile_values_stay_inert() {
        let mut p = profile();
        p.lines[0].display_name = "A\nSIP1 Register Addr :evil\r\n<SIP CONFIG MODULE>".into();
        p.blf[0].label = "x\n<<END OF FILE>>".into();
        let s = render(&p);
        let starts = |p: &str| s.lines().filter(|l| l.starts_with(p)).count();
        assert_eq!(starts("SIP1 Register Addr"), 1);
        assert_eq!(starts("<SIP CONFIG MODULE>"), 1);
        assert_eq!(starts("<<END OF FILE>>"), 1);
        assert!(s.contains("SIP1 Display Name  :A SIP1 Register Addr :evil  <SIP CONFIG MODULE>\n"));
        assert_eq!(Doc::parse(&s).unwrap().to_text(), s);
    }

    #[test]
    fn overlay_overrides_in_place_and_adds() {
        let base = render(&profile());
        let over = "<<VOIP CONFIG FILE>>Version:2.0003\nSNTP Server :ntp.local\nBrand New :7\n\n<SIP CONFIG MODULE>\nSIP1 Register Port : 5070\nSIP1 Register TTL :300\n<LAN CONFIG MODULE>\nLAN IP :10.0.0.1\n";
        let out = Fanvil.overlay(&base, over).unwrap();
        assert!(out.starts_with("<<VOIP CONFIG FILE>>Version:2.0003\n"));
        assert!(out.contains("SNTP Server        :ntp.local\n"));
        assert!(!out.contains("pool.ntp.org"));
        assert!(out.contains("SIP1 Register Port :5070\n"));
        // New SIP1 key lands with the other SIP1 keys, before SIP2.
        let ttl = out.find("SIP1 Register TTL").unwrap();
        assert!(ttl < out.find("SIP2 Enable Reg").unwrap());
        assert!(ttl > out.find("SIP1 Proxy Pswd").unwrap());
        // Pre-module key not in the config goes to GLOBAL.
        let g = out.find("<GLOBAL CONFIG MODULE>").unwrap();
        let t = out.find("<TELE CONFIG MODULE>").unwrap();
        let b = out.find("Brand New").unwrap();
        assert!(g < b && b < t);
        // A new module is placed by Fanvil's order: LAN after GLOBAL, before TELE.
        let lan = out.find("<LAN CONFIG MODULE>").unwrap();
        assert!(g < lan && lan < t);
        // Fixed point.
        assert_eq!(Doc::parse(&out).unwrap().to_text(), out);
    }

    #[test]
    fn overlay_errors_carry_line_numbers() {
        let base = render(&profile());
        let err = Fanvil
            .overlay(
                &base,
                "<SIP CONFIG MODULE>\nSIP1 Phone Number :1\nno colon here\n",
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParams);
        assert_eq!(err.line(), Some(3));
        assert_eq!(
            Fanvil
                .overlay(&base, "<SIP CONFIG MODULE\n")
                .unwrap_err()
                .line(),
            Some(1)
        );
        assert_eq!(
            Fanvil.overlay(&base, "\n :x\n").unwrap_err().line(),
            Some(2)
        );
        assert_eq!(Fanvil.overlay(&base, "<>\n").unwrap_err().line(), Some(1));
        assert!(Fanvil.overlay(&base, "").is_ok());
    }

    #[test]
    fn apply_params_sections() {
        let base = render(&profile());
        let params = [
            param(Section::Fanvil, 1, "SNTP Server", "10.1.1.1"),
            param(Section::FanvilSip, 2, "SIP1 Register TTL", "120"),
            param(Section::FanvilTele, 3, "P1 Intercom Mute", "1"),
            param(Section::FanvilAutoupdate, 4, "Download Username", "prov"),
            param(Section::Yealink, 5, "account.1.enable", "0"),
            param(
                Section::FanvilSip,
                6,
                "SIP2 Display Name",
                "B\nSIP2 Register Addr :x",
            ),
        ];
        let refs: Vec<&Param> = params.iter().collect();
        let out = Fanvil.apply_params(&base, &refs).unwrap();
        assert!(out.contains("SNTP Server        :10.1.1.1\n"));
        assert!(out.contains("P1 Intercom Mute   :1\n"));
        assert!(out.contains("SIP2 Display Name  :B SIP2 Register Addr :x\n"));
        assert_eq!(
            out.lines()
                .filter(|l| l.starts_with("SIP2 Register Addr"))
                .count(),
            1
        );
        assert!(!out.contains("account.1"));
        let sip = out.find("<SIP CONFIG MODULE>").unwrap();
        let au = out.find("<AUTOUPDATE CONFIG MODULE>").unwrap();
        let ttl = out.find("SIP1 Register TTL").unwrap();
        assert!(sip < ttl && ttl < au);
        assert!(out.find("Download Username").unwrap() > au);

        // A module missing from the config is created.
        let out = Fanvil
            .apply_params("<<VOIP CONFIG FILE>>Version:2.0002\n", &refs[..1])
            .unwrap();
        assert!(out.contains("<GLOBAL CONFIG MODULE>\nSNTP Server        :10.1.1.1\n"));

        // A bad key fails with its line and nothing is returned.
        let bad = [
            param(Section::Fanvil, 1, "SNTP Server", "x"),
            param(Section::FanvilSip, 9, "SIP1 :oops", "1"),
        ];
        let refs: Vec<&Param> = bad.iter().collect();
        let err = Fanvil.apply_params(&base, &refs).unwrap_err();
        assert_eq!(err.line(), Some(9));
    }

    #[test]
    fn common_files() {
        let ctx = CommonContext {
            model: Some("X4"),
            base_url: Some("http://pbx:8480"),
            firmware_url: Some("http://pbx/fw/x4.z"),
            poll_interval_minutes: 60,
        };
        let mut s = String::new();
        Fanvil.write_common("f0X4hw1.100.cfg", &ctx, &mut s);
        assert!(s.starts_with(HEADER));
        assert!(s.contains("App URL            :http://pbx/fw/x4.z\n"));
        assert!(s.contains("Download Interval  :1\n"));
        assert!(!s.contains("Pswd"));
        assert_eq!(Doc::parse(&s).unwrap().to_text(), s);
        let mut t = String::new();
        Fanvil.write_common("fanvil_x5u_v2_hwv2_0.txt", &ctx, &mut t);
        assert!(t.contains("Firmware=http://pbx/fw/x4.z\n"));
    }

    #[test]
    fn phonebook() {
        let contacts = vec![
            Contact {
                name: "Zed <b>&".into(),
                number: "100".into(),
            },
            Contact {
                name: "Anna \"Q\"".into(),
                number: "101".into(),
            },
        ];
        let mut s = String::new();
        Fanvil.write_phonebook("Firm & Co", &contacts, &mut s);
        crate::xml::check_well_formed(&s).unwrap();
        assert!(s.contains("<Name>Zed &lt;b&gt;&amp;</Name>"));
        assert!(s.contains("<Title>Firm &amp; Co</Title>"));
        assert!(s.find("Zed").unwrap() < s.find("Anna").unwrap());
        assert!(s.contains("<FanvilIPPhoneDirectory"));
    }

    #[test]
    fn no_panic_on_garbage() {
        for s in [
            "<",
            ">",
            ":",
            "<<",
            "<<END OF FILE>>",
            "\u{feff}<A>\nk:v",
            "é:é\n<é>\né:\u{0}",
        ] {
            let _ = Fanvil.overlay(s, s);
            let _ = Fanvil.classify_file(s);
            let _ = Fanvil.parse_user_agent(s);
        }
        assert_eq!(Fanvil.firmware_extensions(), &[".z", ".bin"]);
    }
}
