//! Fanvil phones.
//!
//! What the phones send and request (sources: wazo-platform/wazo-provd-plugins
//! `plugins/wazo_fanvil/common/common.py` and `plugins/wazo_fanvil/serie_*/entry.py`):
//! - User-Agent `Fanvil <model> <firmware> <mac>`, the MAC as 12 lowercase hex digits, e.g.
//!   `Fanvil X4 2.10.2.6887 0c383e07e16c`, `Fanvil X6U Pro 0.0.10 0c383e2cd782` (a model with a
//!   space is written with `-`: `X6U-Pro`), `Fanvil i10SV 2.12.10.1 0c383e2397f4`.
//! - First a per-model common file whose name identifies the model. Three naming schemes appear
//!   in wazo's `COMMON_FILES` (here the model table's `file_code`, `models.rs`): old
//!   `f0<model>hw<hw version>.cfg` (`f0X4hw1.100.cfg`), coded
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
//! DECT: no Fanvil DECT base is covered by the sources read (`models.rs`: every row has 0
//! handsets), so `Line::handset` is not read here: account N is `SIP<N>` on the one device.
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
    line_safe, CheckSyncEvents, CommonContext, ConfigSyntax, Facts, Model, ParamSection,
    PnpUrlForm, RpsApi, RpsCode, VendorModule,
};

/// Fanvil's facts. OUI from the IEEE registry. Check-sync: plain `check-sync` re-provisions
/// (FreePBX `fanvil-check-cfg`; wazo-platform/wazo-provd-plugins `plugins/wazo_fanvil/
/// common/common.py` `synchronize` sends `synchronize.standard_sip_synchronize`, an
/// `Event: check-sync` NOTIFY). The reboot form `check-sync;reboot=true` is the one PBX
/// vendors' notify tables list for Fanvil; no Fanvil document read states it, so it is a
/// setting that can fail silently on a firmware that ignores the parameter (the phone then
/// re-provisions without a reboot, as for the plain event). RPS: FDPS (XML-RPC, RPS.md).
///
/// PnP URL: `Base`, the base URL with no trailing `/`. A Fanvil phone keeps its provisioning
/// server and its config file name apart and joins them: wazo writes the server as
/// `Download_Server_IP`/`FlashServerIP` = `{{ XX_server_url }}` (the base URL, no trailing
/// `/`) next to `Config_File_Name`/`FlashFileName` = `Fanvil/$mac.cfg` (`common/templates/
/// base.tpl`, `base-w-series.tpl`), and a PnP server is one of the places the phone takes
/// that server address from ("DHCP option, PnP server, Phone Flash", Fanvil C56 user
/// manual 4.3.6 Maintenance > Auto Provision). The phone then asks the base for its common
/// file and `<mac>.cfg`, both served at the root and under `/Fanvil/`. No public source read
/// shows the NOTIFY body a Fanvil phone accepts; a firmware that wanted a folder URL would
/// still find a base URL joined with `/` and a file name.
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
    local_directory: false,
    rps_desk_codes: false,
};

/// Fanvil's redirection-service code: its PortSIP section.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: None,
};

/// Fanvil's module.
pub(crate) struct Fanvil;

/// The first line of every config; the version is the one MikoPBX and Wazo write
/// (wazo `base.tpl` `<version>2.0002</version>`). Fanvil's manual says a downloaded config is
/// applied when its version is higher than the running one, or, when the phone checks by
/// digest, when it differs from the running config (Fanvil C56 user manual 4.3.6, "Current
/// Config Version"); Wazo and MikoPBX ship this constant version and their phones take each
/// change, so the phones they serve check by digest. A phone set to compare versions would
/// apply only the first file: a documented limit, not a value this module can derive.
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

/// The model whose coded common file (`f0X4hw1.100.cfg`, `F0V00X300000.cfg`) is `file`: the
/// model table's `file_code` column (`models.rs`, from wazo `serie_*/entry.py` COMMON_FILES).
fn common_file_model(file: &str) -> Option<&'static str> {
    models::MODELS
        .iter()
        .find(|m| m.file_code.is_some_and(|f| f.eq_ignore_ascii_case(file)))
        .map(|m| m.name)
}

/// The model table's spelling of `model` (`x4u` -> `X4U`, `i10sv` -> `i10SV`), reading the
/// `<model>Pro` form wazo's V-series lists use (`V62Pro`, serie_v `MODELS`; its UA regex
/// `(\s?Pro)?` takes the space as optional) as the row `V62-Pro`.
fn canonical_model(model: &str) -> Option<&'static str> {
    let find = |name: &str| {
        models::MODELS
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
            .map(|m| m.name)
    };
    find(model).or_else(|| {
        let n = model.len();
        let base = model.get(..n.checked_sub(3)?)?;
        let pro = model.get(n - 3..)?;
        (pro.eq_ignore_ascii_case("pro") && !base.is_empty() && !base.ends_with('-'))
            .then(|| find(&format!("{base}-Pro")))
            .flatten()
    })
}

/// `model` as the table spells it, else as given.
fn canonical_or(model: String) -> String {
    canonical_model(&model).map_or(model, str::to_owned)
}

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
    // A `#` line is a template's comment (MikoPBX's Fanvil example writes them,
    // mikopbx/ModuleAutoprovision `Setup/templates/fanvil-example.txt`): dropped, so it
    // never reaches the phone.
    if line.is_empty() || line.starts_with('#') {
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
///
/// Sources, all wazo-platform/wazo-provd-plugins `plugins/wazo_fanvil/`: new X models take
/// language codes (`common/common.py` `_NEW_MODEL_REGEX`, `_NEW_SUPPORTED_LANGUAGES`), and so
/// do C58/C62 on the 2.3 line (`v2_3/entry.py` `_LOCALE`: `de`, `es`, `fr`, `it`, `nl`, `en`);
/// the other X models take numbers with French 4 and Spanish 10 (`serie_x/entry.py`
/// `_LOCALE`); the V, H, W and i series take numbers with French 5 and Spanish 6
/// (`serie_v`, `serie_h`, `serie_w`, `serie_i` `entry.py` `_LOCALE`). A language outside a
/// model's table is not written, so the phone keeps the language it has (those tables are
/// the only values a source gives; a guessed number could select another language).
fn language_value(model: &str, lang: Language) -> Option<&'static str> {
    let code = match lang {
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
    };
    if is_new_model(model) {
        return Some(code);
    }
    if model.eq_ignore_ascii_case("C58") || model.eq_ignore_ascii_case("C62") {
        return matches!(
            lang,
            Language::En | Language::De | Language::Fr | Language::It | Language::Es | Language::Nl
        )
        .then_some(code);
    }
    let x_series = model.starts_with(['X', 'x']);
    match lang {
        Language::En => Some("0"),
        Language::De => Some("16"),
        Language::It => Some("7"),
        Language::Nl => Some("3"),
        Language::Fr => Some(if x_series { "4" } else { "5" }),
        Language::Es => Some(if x_series { "10" } else { "6" }),
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
                // wazo's templates write `<EnableDST>2</EnableDST>` for DST on and
                // `_extract_tzinfo` caps the shift at 60 minutes (`common.py`).
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

/// The model table's row for the profile's model, if the model is known.
fn model_row(model: &str) -> Option<&'static Model> {
    let name = canonical_model(model)?;
    models::MODELS.iter().find(|m| m.name == name)
}

/// An account the phone holds but no line of the profile uses, switched off and emptied.
/// Fanvil keeps every setting a file does not name (a config only changes what it lists), so
/// an account left out would stay registered as its last user: wazo writes such a line with
/// `Enable_Reg` 0 and empty `Phone_Number`, `Display_Name`, `Register_Addr`, `Register_User`,
/// `Register_Pswd` (wazo-platform/wazo-provd-plugins `plugins/xivo-fanvil/common/templates/
/// base.tpl` before 8100ddbf, the old format's `<SIP_Line_List_Entry>` else branch; today's
/// `plugins/wazo_fanvil/common/templates/base-w-series.tpl` `<line>` else branch). An empty
/// value is how Fanvil clears a setting: wazo writes `<MWINum></MWINum>` for a line without
/// voicemail and `<BackupAddr></BackupAddr>` without a backup proxy (`base-V-series.tpl`);
/// Fanvil has no `%NULL%` marker as Yealink does.
fn write_unused_line(out: &mut String, n: usize) {
    kv_n(out, "SIP", n, "Enable Reg", "0");
    for suffix in [
        "Phone Number",
        "Display Name",
        "Register Addr",
        "Register User",
        "Register Pswd",
    ] {
        kv_n(out, "SIP", n, suffix, "");
    }
}

fn write_sip(profile: &Profile, out: &mut String) {
    out.push('\n');
    module(out, SIP);
    kv(out, "--SIP Line List--", "");
    for (i, line) in profile.lines.iter().enumerate() {
        write_line(out, i + 1, line);
    }
    if let Some(m) = model_row(&profile.device.model) {
        for n in profile.lines.len() + 1..=usize::from(m.accounts) {
            write_unused_line(out, n);
        }
    }
}

/// `true` for Fanvil's door phones (wazo `serie_i/plugin-info`: `"type": "doorphone"`, the
/// i-series), whose keys are call buttons, not line keys.
fn is_door_phone(m: &Model) -> bool {
    m.name.starts_with('i')
}

fn write_fkey(out: &mut String, k: usize, kind: &str, value: &str, title: &str) {
    kv_n(out, "Fkey", k, "Type", kind);
    kv_n(out, "Fkey", k, "Value", value);
    kv_n(out, "Fkey", k, "Title", title);
}

fn write_phone(profile: &Profile, out: &mut String) {
    let known = model_row(&profile.device.model);
    let door = known.is_some_and(is_door_phone);
    // The model whose keys are laid out and reset here: a known desk phone with keys.
    let row = known.filter(|m| m.line_keys > 0 && !door);
    if profile.blf.is_empty() && profile.phonebook_url.is_none() && row.is_none() {
        return;
    }
    out.push('\n');
    module(out, PHONE);
    // Function keys: `Fkey<n> Type/Value/Title` (full PHP-generated export; wazo `base.tpl`
    // <PHONE_CONFIG_MODULE><Function_Key>, `<ID>Fkey{{ fkey['id'] }}</ID>`).
    //
    // The accounts take the first keys, as `check_blf_layout` counts them: type 2 with value
    // `SIP<n>` is a line key (wazo `base-new.tpl` writes `<Type>2</Type><Value>SIP{{ index }}`
    // on a key whose position is a SIP line; the old `plugins/xivo-fanvil` `base.tpl` has
    // `fkey1` type 2 `sip1`). Door phones keep their call buttons, set on the door phone
    // itself (wazo's `base-i-series.tpl` writes their keys from function keys only): no
    // line key and no reset there.
    let mut k = 0;
    if !door {
        let cap = row.map_or(usize::MAX, |m| usize::from(m.line_keys));
        let mut value = String::with_capacity(6);
        for n in 1..=profile.lines.len().min(cap) {
            value.clear();
            value.push_str("SIP");
            push_num(&mut value, n as u64);
            k += 1;
            write_fkey(out, k, "2", &value, "");
        }
    }
    // BLF is type 1 with `<ext>@<line>/ba[<pickup><ext>]` (wazo `common.py`
    // `_format_funckey_blf`).
    let mut value = String::with_capacity(48);
    for key in &profile.blf {
        value.clear();
        value.push_str(&key.extension);
        value.push('@');
        push_num(&mut value, key.line.max(1) as u64);
        value.push_str("/ba");
        if !key.pickup_prefix.is_empty() {
            value.push_str(&key.pickup_prefix);
            value.push_str(&key.extension);
        }
        k += 1;
        write_fkey(out, k, "1", &value, key.effective_label());
    }
    // Every other key of the model is reset to type 0 with empty value and title, the form
    // wazo gives a key without a function (`common.py` `_format_fkey`: type 0; `_format_fkeys`
    // fills each unused position up to the last one used). Fanvil keeps a key the file does
    // not name, so without this a BLF deleted here would stay live on the phone, watching
    // its old extension; the reset runs up to the model's key count (`models.rs`).
    if let Some(m) = row {
        while k < usize::from(m.line_keys) {
            k += 1;
            write_fkey(out, k, "0", "", "");
        }
    }
    if let Some(url) = &profile.phonebook_url {
        // Remote XML phonebook (public elastix-style Fanvil template).
        kv(out, "--Xml PhoneBook--", "");
        kv(out, "XML-PBook1 Name", "Phonebook");
        kv(out, "XML-PBook1 Addr", url);
    }
}

/// `Download Interval`, in hours. The unit is not stated in a source read: wazo writes 1
/// (`base.tpl`, `Download_Interval`) and its new-format `AutoUpgradeInterval` 24 is in hours
/// (`base-w-series.tpl`), so hours is the documented assumption; an administrator who needs
/// another value sets `Download Interval` in the `[fanvil-autoupdate]` parameters.
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
        // 2 is what wazo writes next to its http(s) server URL (`base.tpl`
        // `Download_Protocol`); the URL's own scheme names the protocol, so the value is a
        // default the `[fanvil-autoupdate]` parameters can override.
        kv(out, "Download Protocol", "2");
    }
    // `Download Mode`: wazo writes 1 (`base.tpl`), checked at power-on; 2 is taken here as
    // "also every `Download Interval`". No source read lists the mode values, so the
    // periodic form is a documented setting: a firmware that reads 2 otherwise still
    // provisions at power-on and on check-sync.
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
    // `Auto_Image_URL` (`base.tpl`). Both are written with the same URL, so a firmware reading
    // either one finds it; which firmware reads which is not stated by a source read.
    let fw = firmware_url.unwrap_or("");
    kv(out, "App URL", fw);
    kv(out, "Auto Image URL", fw);
    // Check-sync: Wazo re-provisions Fanvil with a plain SIP NOTIFY `Event: check-sync`
    // (`synchronize.standard_sip_synchronize`) and sets no switch; the phones accept it by
    // default. No old-format key switching it off or on appears in a source read, so none is
    // written.
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
        // FusionPBX `app/provision/index.php` quotes a Fanvil User-Agent ending in `)`
        // (`Fanvil X5U-V2 2.12.1 0c3800000000)`) and reads the MAC from the last 13
        // characters, dropping what is not hex: the `)` is taken off here the same way.
        let mac = mac.strip_suffix(')').unwrap_or(mac);
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
            model: Some(canonical_or(normalise_model(model)?)),
            firmware: Some((*fw).to_owned()),
            mac: Some(mac),
        })
    }

    fn classify_file(&self, file: &str) -> Option<PathMatch> {
        if file.len() > 64 {
            return None;
        }
        if let Some(model) = common_file_model(file) {
            return Some(PathMatch::Common {
                model: Some(model.to_owned()),
            });
        }
        if let Some(model) = model_from_txt(file) {
            return Some(PathMatch::Common {
                model: Some(canonical_or(model)),
            });
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
            return Some(PathMatch::Common {
                model: Some(canonical_or(model)),
            });
        }
        // Coded names of models not in the table: `F0` and 9-10 letters/digits, the shape of
        // every coded name in wazo's COMMON_FILES. Fanvil publishes no scheme from which a
        // model could be read out of the code, so the model stays unknown (the User-Agent
        // still names it) and the common file is served without model-specific values.
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
            // version lines stay empty. How a firmware treats an empty `Version=` is not
            // stated by a source read; wazo fills it only where its entry.py knows the
            // version (`XX_model_fw_version`), as here none is known.
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

    fn read_phonebook(&self, root: &crate::xml::Element) -> Option<Vec<Contact>> {
        // The shape `write_phonebook` writes (see the module docs; Fanvil's XML phonebook spec,
        // fanvil.com `.../20191226/5e0454ec2e7f0.pdf` pp. 8-9).
        (root.name == "FanvilIPPhoneDirectory")
            .then(|| crate::phonebook_source::directory_entries(root))
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[".z", ".bin"]
    }

    fn example_template(&self) -> &'static str {
        include_str!("example.txt")
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
        // FusionPBX's quoted form, with a `)` after the MAC.
        let ua = Fanvil
            .parse_user_agent("Fanvil X5U-V2 2.12.1 0c3800000000)")
            .unwrap();
        assert_eq!(ua.model.as_deref(), Some("X5U-V2"));
        assert_eq!(ua.firmware.as_deref(), Some("2.12.1"));
        assert_eq!(ua.mac, Mac::from_hex12("0c3800000000"));
        let long = format!("Fanvil {} 1.0 0c383e07e16c", "X".repeat(5000));
        for bad in [
            "",
            "Fanvil",
            "Fanvil X4",
            "Fanvil X4 2.10 0c383e07e16",
            "Fanvil X4 2.10 0c383e07e16z",
            "Fanvil X4 2.10 0c383e07e16c))",
            "Fanvil X4 2.10 )",
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
            "Fkey1 Type         :2\n",
            "Fkey1 Value        :SIP1\n",
            "Fkey2 Value        :SIP2\n",
            "Fkey3 Type         :1\n",
            "Fkey3 Value        :205@1/ba*8205\n",
            "Fkey3 Title        :Reception\n",
            "Fkey4 Value        :206@2/ba\n",
            "Fkey4 Title        :206\n",
            // The X4U's other 26 keys and 10 accounts are reset.
            "Fkey5 Type         :0\nFkey5 Value        :\nFkey5 Title        :\n",
            "Fkey30 Type        :0\n",
            "SIP3 Enable Reg    :0\nSIP3 Phone Number  :\nSIP3 Display Name  :\n",
            "SIP12 Register Pswd:\n",
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
    fn the_model_table_names_the_common_files_and_the_user_agents() {
        let common = |f: &str| match Fanvil.classify_file(f) {
            Some(PathMatch::Common { model }) => model,
            other => panic!("{f}: {other:?}"),
        };
        // Every coded name of the table is read back as its row.
        for m in models::MODELS {
            if let Some(f) = m.file_code {
                assert_eq!(common(f).as_deref(), Some(m.name), "{f}");
                assert_eq!(common(&f.to_ascii_lowercase()).as_deref(), Some(m.name));
            }
        }
        // Every `.txt` name wazo's plugins list (serie_*/entry.py COMMON_FILES) is a row.
        for f in [
            "fanvil_x210_v2_hwv2_0.txt",
            "fanvil_x210_pro_hwv2_0.txt",
            "fanvil_x4u_v2_hwv2_0.txt",
            "fanvil_x4u_pro_hwv2_0.txt",
            "fanvil_x5u_v2_hwv2_0.txt",
            "fanvil_v67_hw1_1.txt",
            "fanvil_v61g_hwv1_0.txt",
            "fanvil_v61w_hwv1_0.txt",
            "fanvil_v62_hwv1_0.txt",
            "fanvil_v62_pro_hwv1_0.txt",
            "fanvil_v62g_hwv1_0.txt",
            "fanvil_v62w_hwv1_0.txt",
            "fanvil_v63_hwv1_0.txt",
            "fanvil_v64_hwv1_0.txt",
            "fanvil_v65_hwv1_0.txt",
            "fanvil_v66_hwv1_0.txt",
            "fanvil_v66_pro_hwv1_0.txt",
            "fanvil_h2u_v2_hwv1_0.txt",
            "fanvil_w610w_hwv1_0.txt",
            "fanvil_w611w_hwv1_0.txt",
            "fanvil_w620w_hwv1_0.txt",
            "fanvil_i10s_hwv1_0.txt",
            "fanvil_i10sv_hwv1_0.txt",
            "fanvil_i10sd_hwv1_0.txt",
            "fanvil_i51w_hwv1_0.txt",
            "fanvil_i52w_hwv1_0.txt",
            "fanvil_i53w_hwv1_0.txt",
            "fanvil_i16s_hwv1_0.txt",
            "fanvil_i16sv_hwv1_0.txt",
            "fanvil_i61_hwv1_0.txt",
            "fanvil_i62_hwv1_0.txt",
            "fanvil_i63_hwv1_0.txt",
            "fanvil_i64_hwv1_0.txt",
        ] {
            let model = common(f).unwrap();
            assert!(
                models::MODELS.iter().any(|m| m.name == model),
                "{f}: {model} not a row"
            );
        }
        // V62 Pro: wazo's `V62Pro` and the UA rule's `V62-Pro` are one row.
        for ua in [
            "Fanvil V62Pro 2.12.20.3 0c383e07e16c",
            "Fanvil V62 Pro 2.12.20.3 0c383e07e16c",
            "Fanvil V62-Pro 2.12.20.3 0c383e07e16c",
        ] {
            let info = Fanvil.parse_user_agent(ua).unwrap();
            assert_eq!(info.model.as_deref(), Some("V62-Pro"), "{ua}");
        }
        assert_eq!(
            Fanvil
                .parse_user_agent("Fanvil V66Pro 2.12.18.16 0c383e07e16c")
                .unwrap()
                .model
                .as_deref(),
            Some("V66-Pro")
        );
        // A model not in the table is still recognised, as sent.
        assert_eq!(
            Fanvil
                .parse_user_agent("Fanvil X303 2.12.18.9 0c383e63963b")
                .unwrap()
                .model
                .as_deref(),
            Some("X303")
        );
        assert_eq!(canonical_model("Pro"), None);
        assert_eq!(canonical_model("X9Pro"), None);
        assert_eq!(canonical_model("x4u-pro"), Some("X4U-Pro"));
    }

    /// The values of `Fkey<n> Type` in a render, in key order.
    fn key_types(s: &str) -> Vec<(usize, String)> {
        s.lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("Fkey")?;
                let (n, tail) = rest.split_once(' ')?;
                let v = tail.strip_prefix("Type")?.trim_start().strip_prefix(':')?;
                Some((n.parse().ok()?, v.to_owned()))
            })
            .collect()
    }

    #[test]
    fn a_deleted_blf_key_is_reset_not_left_live() {
        let mut p = profile();
        p.blf.push(BlfKey {
            extension: "207".into(),
            label: "Old".into(),
            line: 1,
            pickup_prefix: String::new(),
        });
        let before = render(&p);
        assert!(before.contains("Fkey5 Value        :207@1/ba\n"));
        p.blf.truncate(1);
        let after = render(&p);
        assert!(!after.contains("207@"));
        let types = key_types(&after);
        // Every key of the X4U (30) is written once: 2 lines, 1 BLF, 27 reset.
        assert_eq!(types.len(), 30);
        assert!(types.iter().enumerate().all(|(i, (n, _))| *n == i + 1));
        let kinds: Vec<&str> = types.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(&kinds[..3], ["2", "2", "1"]);
        assert!(kinds[3..].iter().all(|t| *t == "0"));
        assert!(
            after.contains("Fkey4 Type         :0\nFkey4 Value        :\nFkey4 Title        :\n")
        );
    }

    #[test]
    fn keys_and_accounts_follow_the_model() {
        let with = |model: &str| {
            let mut p = profile();
            p.device.model = model.into();
            render(&p)
        };
        // V65: 20 accounts, 45 keys.
        let s = with("V65");
        assert_eq!(key_types(&s).len(), 45);
        assert!(s.contains("SIP20 Enable Reg   :0\n") && !s.contains("SIP21"));
        // A door phone keeps its call buttons: no line key, no reset.
        let s = with("i10SD");
        assert_eq!(
            key_types(&s),
            vec![(1, "1".to_owned()), (2, "1".to_owned())]
        );
        // A model the table does not know: the profile's keys only, no account reset.
        let s = with("X9000");
        assert_eq!(key_types(&s).len(), 4);
        assert!(!s.contains("SIP3"));
        // The UA's spelling of a row is the row.
        let s = with("v62pro");
        assert_eq!(key_types(&s).len(), 21);
    }

    #[test]
    fn a_handset_slot_changes_nothing_on_a_phone_that_is_no_base() {
        let plain = render(&profile());
        let mut p = profile();
        p.lines[0].handset = Some(2);
        p.lines[1].handset = Some(1);
        assert_eq!(render(&p), plain);
        assert!(models::MODELS.iter().all(|m| m.dect_handsets == 0));
    }

    #[test]
    fn language_values_per_series() {
        for (model, lang, want) in [
            ("X4", Language::Fr, Some("4")),
            ("X4", Language::Es, Some("10")),
            ("X4U", Language::Fr, Some("fr")),
            ("X210i-Pro", Language::Pt, Some("pt")),
            ("V65", Language::Fr, Some("5")),
            ("H2U-V2", Language::Es, Some("6")),
            ("W610W", Language::De, Some("16")),
            ("i10S", Language::It, Some("7")),
            ("C58", Language::De, Some("de")),
            ("C62", Language::Pt, None),
            ("V65", Language::Ru, None),
        ] {
            assert_eq!(language_value(model, lang), want, "{model} {lang:?}");
        }
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
        // No line: the X4's 4 accounts are switched off and emptied, its 30 keys reset.
        assert!(s.contains("SIP1 Enable Reg    :0\n"));
        assert!(s.contains("SIP4 Register User :\n"));
        assert!(!s.contains("SIP5") && !s.contains("Enable Reg    :1"));
        assert!(s.contains("Fkey1 Type         :0\n") && s.contains("Fkey30 Type        :0\n"));
        assert!(!s.contains("Fkey31"));
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
            mac: None,
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
