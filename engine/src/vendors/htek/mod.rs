//! Htek (Hanlong Technology) UC8xx/UC9xx phones, and phones Htek makes for others.
//!
//! # What the phones send and request
//! - User-Agent `Htek <model> <firmware> <mac with colons>`, e.g. `Htek UC903 2.0.4.2
//!   00:1f:c1:1c:22:a9` (wazo-platform/wazo-provd-plugins `plugins/wazo_htek/common/common.py`,
//!   `_UA_REGEX_LIST` and its sample) or `Htek UC926 2.0.4.2 00:1f:c1:00:00:00`
//!   (fusionpbx/fusionpbx `app/provision/index.php`, which reads the MAC from the last 17
//!   characters). A phone Htek makes under another brand keeps Htek's OUI `00:1f:c1`
//!   (Hanlong, IEEE registry; wazo's DHCP match): a User-Agent of the same shape,
//!   `<brand> <model> <firmware> <mac>`, whose MAC has that OUI is read as Htek's.
//! - At boot, one by one: `factory000x.bin` (Htek's factory use only), the per-model
//!   `cfg00NN.xml`, `<mac>.cfg`, `cfg<mac>` (a proprietary encrypted binary) and
//!   `cfg<mac>.xml`, MAC in lowercase (Htek wiki, htekdesk.atlassian.net, "Htek RPS Work
//!   Process" for the five names in order; "UC900 Series IP Phones Provisioning" section
//!   2.1 for `cfgDeviceCode.xml` -> `cfgMAC` -> `cfgMAC.xml`).
//!
//! # The first file found ends the sequence: what we serve, in order
//! The provisioning guide's current revision adds: "If the phone retrieved a configuration
//! file successfully, it will not continue to get the next one", e.g. a phone that gets
//! `cfg0010.xml` does not ask for `cfgMAC` and `cfgMAC.xml` (the page's version history,
//! diff 437354547 -> 437354575). wazo serves both `cfg00NN.xml` (only web passwords,
//! firmware and config paths: `templates/common/model.tpl`) and `cfg<mac>.xml`, which can
//! only work if the phone goes on; FusionPBX serves no common file at all, and its nginx
//! rules answer every device name (`<mac>.cfg`, `cfg<mac>`, `cfg<mac>.cfg`,
//! `cfg<mac>.xml`) with the one device template, whose file is `htek/<model>/{$mac}.cfg`
//! and holds the `<hl_provision>` XML (since 2018). We take the vendor's word, which is
//! also the reading under which nothing can go wrong:
//!
//! | asked          | answer                                                          |
//! |----------------|-----------------------------------------------------------------|
//! | factory000x.bin| 404 (Htek: never provision it)                                  |
//! | cfg00NN.xml    | 404: a 200 here would end the sequence before any account       |
//! | `<mac>`.cfg    | the device config (as FusionPBX answers it)                     |
//! | cfg`<mac>`     | 404 (binary; the phone moves on)                                |
//! | cfg`<mac>`.xml | the device config (Htek's own name; wazo's only device file)    |
//! | cfg`<mac>`.cfg | the device config (the name MikoPBX's module writes)            |
//!
//! The device config carries what the common file would (provisioning and firmware
//! paths), so nothing is lost by not serving `cfg00NN.xml`; [`Htek::write_common`] writes
//! that secret-free file should a shell choose to serve it.
//!
//! # Two syntaxes, chosen by the template's own text
//! The default is Htek's XML, `<hl_provision version="1"><config version="1">` with one
//! `<Pnnn para="Name">value</Pnnn>` per setting. MikoPBX's module writes Htek a
//! `key = value` file instead (mikopbx/ModuleAutoprovision `Lib/AutoprovisionHtek.php`), and a
//! template pasted from it must keep working. So a phone's syntax is its template's:
//! [`Htek::syntax_of`] reads a text as XML when it starts with `<` (after blank space and
//! Jinja tags), else as `key = value`. A phone with no template, or an XML one, gets the
//! XML default (the template merged over it by P-code); a phone whose template is written
//! in `key = value` gets the MikoPBX-style default with the template merged over it by key.
//! The body is the same at every device name above: the phone's template, not the name it
//! asks for, says what it reads (a renderer does not know the name, and a phone on
//! MikoPBX's syntax stops at `<mac>.cfg` anyway). Additional Parameters in `[htek]` apply
//! by their key: a P-code (`P30 = pool.ntp.org`) to an XML config, any other key
//! (`lang.gui = German`) to a `key = value` config; a parameter of the other syntax is
//! skipped.
//!
//! # P-codes written (XML), each from its source
//! - Accounts 1-6 (table [`ACCOUNTS`]): active, label, SIP user ID, authenticate ID,
//!   password, display name, voicemail, profile: wazo `v2_0_4_4_58/templates/base.tpl`
//!   (`Account1_Active` P271 ... `Account6_*`). Server `host:port` and transport (0 UDP,
//!   1 TCP, 2 TLS) for accounts 1-4: P47/P747/P502/P602 and P130/P830/P930/P1030
//!   (fusionpbx `resources/templates/provision/htek/uc926/{$mac}.cfg`, `AccountN.Sipserver`,
//!   `AccountN.SipTransport` with its comment on the codes; wazo names P47 and P130
//!   `Profile1_*`). Current firmware gives each account a server profile
//!   (`AccountN_Profile`, 0 = profile 1, wazo): account N of 1-4 is given profile N, so
//!   the server written at its P-code is its own under both namings; accounts 5 and 6 use
//!   profile 1 (account 1's server: no source gives profiles 5 and 6's P-codes). wazo's
//!   P-codes for accounts 7-16 are not used: its `Active` (24090+i) and `Profile`
//!   (24088+i) bands overlap, so at least one is wrong.
//! - Codecs, accounts 1-4: choices 1-3 = PCMU (0), PCMA (8), G.722 (9): P57-P59 (wazo and
//!   fusionpbx), P757-P759, P551-P553, P651-P653 (fusionpbx).
//! - Line and BLF keys ([`key_code`]): keys 1-4 at P41200+k-1 (+100 per field), keys 5-36
//!   at P20200+5(k-5)+field, keys 37 on at P23000+5(k-37)+field, fields type, value,
//!   label, account, pickup code (wazo `common.py` `_gen_param_num`; fusionpbx `LineKeyN.*`
//!   names the fifth field `PickupCode`). Type 1 = line, 3 = BLF, 0 = none (wazo
//!   `fkey_type_assoc`). The account is 0-based (nethesis' Sangoma S-series generator, an
//!   Htek-made phone, gives its first account's keys `line => 0`). The accounts sit on the
//!   first keys (type 1), then the BLF keys; every further key the model has (model table)
//!   is reset to type 0, as wazo writes all of them, so a deleted BLF key does not stay.
//! - Phonebook: `RemotePhoneBook1_Url` P4401 and `_Name` P3316 (wazo, fusionpbx), the URL of
//!   our Htek phonebook XML (`<PhoneDirectory>`, fusionpbx `htek/uc926/phonebook.xml`).
//! - Time: NTP server P30, time zone P64 (a code per UTC offset: wazo `_TZ_INFO`; fusionpbx
//!   `app/htek/app_config.php`: 18 EST, 14 CST, 6 PST), DST P75 (0 off, 1 on, 2 auto:
//!   fusionpbx `app_config.php`; 2 when the zone has DST, as wazo writes), DHCP time P143 = 0.
//! - Language: P8621 (LCD) and P2525 (web) = 0 for English (both templates' default). No
//!   source gives the codes of other languages, so another language writes nothing (set
//!   it with an Additional Parameter `P8621 = n`).
//! - Firmware: `FirmwareServerPath` P192 is a folder (wazo: `<server>/firmware`): the
//!   folder of the assigned image's URL; upgrade mode P212 = 1 for http (wazo), 3 for https
//!   (fusionpbx with its https server); other schemes write no mode.
//! - Auto-provision: `ConfigServerPath` P237 (wazo, fusionpbx), check every N minutes
//!   P194 = 1 and P193 = N (fusionpbx `AutoUpgrade`, `CheckUpgradeTimes` 10080), or P194 = 0
//!   when polling is off.
//! - Check-sync: `RemoteControl.Sipnotify` P24012 = 1 (the phone acts on a SIP NOTIFY) and
//!   `Preference.CheckSyncWithAuth` P20983 = 0 (fusionpbx), since most PBXes cannot
//!   challenge their own NOTIFY.
//!
//! # Keys written (`key = value`, the MikoPBX syntax)
//! The account block and features of MikoPBX's Htek generator (`account.N.active`,
//! `.label`, `.display_name`, `.auth_name`, `.user_name`, `.password`,
//! `.sip_server.host/.port`, `.transport`, `.voice_mail.number`, `.codec.1.*`,
//! `auto_provision.dhcp_option.enable`, `features.intercom.*`, `features.dtmf.transfer`)
//! and `auto_image_url` (MikoPBX module documentation). Nothing else: no source shows
//! that Htek firmware reads any other `key = value` name (BLF keys, time, phonebook), so
//! a MikoPBX template carries those itself, as it did there.
//!
//! # Phonebook
//! Htek's remote phonebook XML `<PhoneDirectory>` with
//! `<DirectoryEntry><Name/><Telephone/></DirectoryEntry>` (fusionpbx
//! `htek/uc926/phonebook.xml`); the format has no title element.

pub(crate) mod account;
mod models;
pub(crate) mod rps;

use crate::detect::{PathMatch, UaInfo};
use crate::error::Result;
use crate::inputs::{Contact, Language, Line, Profile, Transport};
use crate::mac::Mac;
use crate::params::{Param, Section};
use crate::tz::TimeZone;
use crate::vendors::yealink::{is_model_name, push_n, push_n_u32, push_xml_text, transport_code};
use crate::vendors::{
    is_pcode, kv, push_decimal, pvalue, CheckSyncEvents, CommonContext, ConfigSyntax, Facts, Model,
    ParamSection, PnpUrlForm, RpsApi, RpsCode, Vendor, VendorModule,
};
use crate::xml::escape_into;

/// Htek's facts. OUI: Hanlong Technology, the maker of Htek phones (IEEE registry; wazo
/// matches it in DHCP). Check-sync: a plain SIP NOTIFY `check-sync` re-provisions (wazo's
/// Htek plugin uses provd's `standard_sip_synchronize`, which sends `Event: check-sync`);
/// the `;reboot=false`/`;reboot=true` forms are the ones every vendor here shares (a test
/// in `vendors/mod.rs` holds this) and are not confirmed for Htek by any source: a phone
/// that ignores the parameter still re-provisions. RPS: no API; registration is manual in
/// Htek's portal (RPS.md). PnP URL: the base as it is, no trailing `/` needed: the phone
/// appends its file names to a config server path written either way (fusionpbx's P237
/// `https://<domain>/app/provision`, wazo's `<server>/`); no Htek PnP capture was found.
pub(crate) const FACTS: Facts = Facts {
    name: "htek",
    display_name: "Htek",
    ouis: &[[0x00, 0x1f, 0xc1]],
    sample_model: "UC926",
    param_sections: &[ParamSection {
        section: Section::Htek,
        name: "htek",
    }],
    rps: RpsApi::Manual,
    rps_site_url_note: None,
    rps_manual_note: Some(
        "Htek registration is manual: Htek publishes no registration API. A factory-fresh \
               Htek phone asks https://rps.htek.com/index.php/fn/g/cfg<mac>; enter each phone's URL \
               in Htek's RPS portal (the CSV export lists them).",
    ),
    redirect_only: None,
    check_sync: Some(CheckSyncEvents {
        resync: "check-sync;reboot=false",
        reboot: "check-sync;reboot=true",
    }),
    models: models::MODELS,
    pnp_url: PnpUrlForm::Base,
    local_directory: false,
    rps_desk_codes: false,
};

/// Htek's redirection-service code: its PortSIP section, and the steps to register a phone
/// by hand in Htek's portal.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: Some(rps::htek_instructions),
};

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const ROOT: &str = "hl_provision";
/// The vendor's name in merge errors.
const VENDOR: &str = "Htek";

/// Htek's module.
pub(crate) struct Htek;

impl VendorModule for Htek {
    fn syntax(&self) -> ConfigSyntax {
        ConfigSyntax::Xml
    }

    fn syntax_of(&self, text: &str) -> ConfigSyntax {
        if skip_jinja_tags(text).starts_with('<') {
            ConfigSyntax::Xml
        } else {
            ConfigSyntax::KeyValue
        }
    }

    fn parse_user_agent(&self, ua: &str) -> Option<UaInfo> {
        parse_ua(ua)
    }

    fn classify_file(&self, file: &str) -> Option<PathMatch> {
        // See the module docs for the order and why `cfg00NN.xml`, `cfg<mac>` and
        // `factory000x.bin` get a 404.
        let id = if let Some(stem) = file.strip_suffix(".xml") {
            stem.strip_prefix("cfg")?
        } else {
            let stem = file.strip_suffix(".cfg")?;
            stem.strip_prefix("cfg").unwrap_or(stem)
        };
        Mac::from_hex12(id).map(|mac| PathMatch::DeviceConfig { mac })
    }

    fn device_file_name(&self, mac: &Mac) -> String {
        // wazo `_dev_specific_filename`: `cfg<mac>.xml`, lowercase.
        let mut s = String::from("cfg");
        s.push_str(&mac.to_lower_hex());
        s.push_str(".xml");
        s
    }

    fn write_config(&self, profile: &Profile, out: &mut String) {
        write_xml(profile, out);
    }

    fn write_config_as(&self, profile: &Profile, syntax: ConfigSyntax, out: &mut String) {
        match syntax {
            ConfigSyntax::KeyValue => write_kv(profile, out),
            _ => write_xml(profile, out),
        }
    }

    fn write_common(&self, _file: &str, _common: &CommonContext<'_>, _out: &mut String) {
        // Htek's per-model `cfg00NN.xml` is a 404 (module docs: the phone stops at the first
        // file it gets), so `classify_file` names no common file and nothing is written
        // here; an empty body is the shell's 404. The provisioning and firmware paths ride
        // in the device config instead.
    }

    fn overlay(&self, config: &str, overlay: &str) -> Result<String> {
        match self.syntax_of(config) {
            ConfigSyntax::KeyValue => kv::overlay(config, overlay, Section::Htek),
            _ => pvalue::overlay(config, overlay, ROOT, VENDOR),
        }
    }

    fn apply_params(&self, config: &str, params: &[&Param]) -> Result<String> {
        let xml = self.syntax_of(config).is_xml();
        let mine: Vec<&Param> = params
            .iter()
            .copied()
            .filter(|p| is_pcode(&p.key) == xml)
            .collect();
        if xml {
            pvalue::apply_params(config, &mine, Section::Htek, ROOT, VENDOR)
        } else {
            Ok(kv::apply_params(config, &mine))
        }
    }

    fn write_phonebook(&self, _title: &str, contacts: &[Contact], out: &mut String) {
        out.push_str(DECL);
        out.push_str("<PhoneDirectory>\n");
        for c in contacts {
            out.push_str("  <DirectoryEntry>\n");
            push_xml_text(out, "    ", "Name", &c.name);
            push_xml_text(out, "    ", "Telephone", &c.number);
            out.push_str("  </DirectoryEntry>\n");
        }
        out.push_str("</PhoneDirectory>\n");
    }

    fn read_phonebook(&self, root: &crate::xml::Element) -> Option<Vec<Contact>> {
        // The shape `write_phonebook` writes (FusionPBX `htek/uc926/phonebook.xml`).
        (root.name == "PhoneDirectory").then(|| crate::phonebook_source::directory_entries(root))
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[".rom", ".bin"]
    }

    fn example_template(&self) -> &'static str {
        include_str!("example.xml")
    }
}

/// `text` after leading blank space and Jinja statements/comments (`{% .. %}`, `{# .. #}`).
fn skip_jinja_tags(text: &str) -> &str {
    let mut rest = text.trim_start();
    loop {
        let end = if rest.starts_with("{%") {
            "%}"
        } else if rest.starts_with("{#") {
            "#}"
        } else {
            return rest;
        };
        match rest.get(2..).and_then(|r| r.find(end)) {
            Some(i) => rest = rest.get(i + 4..).unwrap_or_default().trim_start(),
            None => return rest,
        }
    }
}

// ---------------------------------------------------------------------------------------
// User-Agent

/// A firmware version: digits and dots (`2.0.4.6.41`, wazo), letters allowed after the
/// first digit: current firmware reads e.g. `2.42.6.5.45R14` (a UC902G's status page in a
/// public test fixture, `HTEKAdapter.parse_status_page`).
fn is_firmware(f: &str) -> bool {
    f.len() <= 32
        && f.starts_with(|c: char| c.is_ascii_digit())
        && f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
}

fn parse_ua(ua: &str) -> Option<UaInfo> {
    if ua.len() > 256 {
        return None;
    }
    let tokens: Vec<&str> = ua.split_whitespace().collect();
    let (brand, rest) = tokens.split_first()?;
    let mac_of = |t: Option<&&str>| {
        t.filter(|t| t.len() == 12 || t.len() == 17)
            .and_then(|t| Mac::parse(t).ok())
    };
    if brand.eq_ignore_ascii_case("htek") {
        let model = rest.first().filter(|m| is_model_name(m))?;
        let fw = rest.get(1).filter(|f| is_firmware(f))?;
        return Some(UaInfo {
            model: Some((*model).to_owned()),
            firmware: Some((*fw).to_owned()),
            mac: mac_of(rest.get(2)),
        });
    }
    // An Htek-made phone under another brand: `<brand> <model> <fw> <mac>` with Htek's OUI.
    let mac = mac_of(tokens.last()).filter(|m| m.vendor() == Some(Vendor::Htek))?;
    let (model, fw) = match rest {
        [model, fw, _mac] if is_model_name(model) && is_firmware(fw.trim_start_matches('V')) => {
            (Some((*model).to_owned()), Some((*fw).to_owned()))
        }
        _ => (None, None),
    };
    Some(UaInfo {
        model,
        firmware: fw,
        mac: Some(mac),
    })
}

// ---------------------------------------------------------------------------------------
// Htek XML

/// One account's P-codes: active, label, user ID, authenticate ID, password, display name,
/// voicemail, profile (wazo `v2_0_4_4_58/templates/base.tpl`, `AccountN_*`).
struct AccountCodes {
    active: u32,
    label: u32,
    user: u32,
    auth: u32,
    password: u32,
    display: u32,
    voicemail: u32,
    profile: u32,
    /// Server, transport and the first three codec choices (fusionpbx `uc926/{$mac}.cfg`),
    /// for accounts 1-4, whose profile is their own.
    server: Option<(u32, u32, [u32; 3])>,
}

const fn acc(codes: [u32; 8], server: Option<(u32, u32, [u32; 3])>) -> AccountCodes {
    AccountCodes {
        active: codes[0],
        label: codes[1],
        user: codes[2],
        auth: codes[3],
        password: codes[4],
        display: codes[5],
        voicemail: codes[6],
        profile: codes[7],
        server,
    }
}

/// Accounts 1-6.
const ACCOUNTS: [AccountCodes; 6] = [
    acc(
        [271, 20000, 35, 36, 34, 3, 33, 24082],
        Some((47, 130, [57, 58, 59])),
    ),
    acc(
        [401, 20001, 735, 736, 734, 703, 426, 24083],
        Some((747, 830, [757, 758, 759])),
    ),
    acc(
        [501, 20002, 504, 505, 506, 507, 526, 24084],
        Some((502, 930, [551, 552, 553])),
    ),
    acc(
        [601, 20003, 604, 605, 606, 607, 626, 24085],
        Some((602, 1030, [651, 652, 653])),
    ),
    acc([20360, 20378, 1704, 1705, 1706, 1707, 1726, 24086], None),
    acc([20361, 20379, 1804, 1805, 1806, 1807, 1826, 24087], None),
];

/// Codec choices 1-3: PCMU, PCMA, G.722 (payload types; wazo and fusionpbx write these
/// first).
const CODECS: [&str; 3] = ["0", "8", "9"];

/// The P-code of field `field` (0 type, 1 value, 2 label, 3 account, 4 pickup code) of line
/// key `key` (1-based): wazo `common.py` `_gen_param_num`.
pub(crate) fn key_code(key: u32, field: u32) -> u32 {
    match key {
        0..=4 => 41200 + key.saturating_sub(1) + 100 * field,
        5..=36 => 20200 + field + 5 * (key - 5),
        _ => 23000 + field + 5 * (key - 37),
    }
}

/// The most keys written, whatever the model: beyond the UC926's 36, the third band.
const MAX_KEYS: u32 = 100;

fn open_xml(out: &mut String) {
    out.push_str(DECL);
    out.push_str("<hl_provision version=\"1\">\n  <config version=\"1\">\n");
}

fn close_xml(out: &mut String) {
    out.push_str("  </config>\n</hl_provision>\n");
}

/// `<Pcode para="name">value</Pcode>`, self-closed when the value is empty; `n` numbers
/// the name (`Account1_Active`) when given.
fn pv(out: &mut String, code: u32, name: &str, n: Option<u32>, value: &str) {
    out.push_str("    <P");
    push_decimal(out, u64::from(code));
    out.push_str(" para=\"");
    let (pre, post) = name.split_once('#').unwrap_or((name, ""));
    out.push_str(pre);
    if let Some(n) = n {
        push_decimal(out, u64::from(n));
    }
    out.push_str(post);
    out.push('"');
    if value.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    escape_into(value, out);
    out.push_str("</P");
    push_decimal(out, u64::from(code));
    out.push_str(">\n");
}

fn pv_num(out: &mut String, code: u32, name: &str, n: Option<u32>, value: u64) {
    let mut s = String::new();
    push_decimal(&mut s, value);
    pv(out, code, name, n, &s);
}

fn transport(t: Transport) -> &'static str {
    // fusionpbx `AccountN.SipTransport`: 0 UDP, 1 TCP, 2 TLS; wazo `_SIP_TRANSPORT`.
    match t {
        Transport::Udp => "0",
        Transport::Tcp => "1",
        Transport::Tls => "2",
    }
}

fn write_xml(p: &Profile, out: &mut String) {
    open_xml(out);
    for (i, (line, codes)) in p.lines.iter().zip(ACCOUNTS.iter()).enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        write_account(out, n, line, codes);
    }
    write_keys(p, out);
    if let Some(url) = p.phonebook_url.as_deref().filter(|u| !u.is_empty()) {
        pv(out, 4401, "RemotePhoneBook1_Url", None, url);
        pv(out, 3316, "RemotePhoneBook1_Name", None, "Directory");
    }
    if let Some(ntp) = p.ntp_server.as_deref().filter(|s| !s.is_empty()) {
        pv(out, 30, "NTP_Server", None, ntp);
    }
    if let Some(tz) = &p.timezone {
        write_time_zone(out, tz);
    }
    if p.language == Some(Language::En) {
        pv(out, 8621, "Preference_LcdLanguage", None, "0");
        pv(out, 2525, "Preference_WebLanguage", None, "0");
    }
    write_provisioning(
        out,
        p.provisioning_url.as_deref(),
        p.firmware_url.as_deref(),
        p.poll_interval_minutes,
    );
    pv(out, 24012, "RemoteControl_Sipnotify", None, "1");
    pv(out, 20983, "Preference_CheckSyncWithAuth", None, "0");
    close_xml(out);
}

fn write_account(out: &mut String, n: u32, l: &Line, c: &AccountCodes) {
    let a = Some(n);
    pv(out, c.active, "Account#_Active", a, "1");
    pv(out, c.label, "Account#_Label", a, l.effective_label());
    pv(out, c.user, "Account#_SipUserId", a, &l.extension);
    pv(out, c.auth, "Account#_AuthenticateID", a, &l.auth_name);
    pv(
        out,
        c.password,
        "Account#_AuthenticatePassword",
        a,
        l.password.expose(),
    );
    pv(out, c.display, "Account#_DisplayName", a, &l.display_name);
    pv(out, c.voicemail, "Account#_VoiceMailId", a, &l.voicemail);
    match c.server {
        Some((server, tr, codecs)) => {
            // Profile N for account N (0-based).
            pv_num(out, c.profile, "Account#_Profile", a, u64::from(n - 1));
            let mut hp = String::with_capacity(l.server_host.len() + 6);
            hp.push_str(&l.server_host);
            hp.push(':');
            push_decimal(&mut hp, u64::from(l.server_port));
            pv(out, server, "Account#_Sipserver", a, &hp);
            pv(out, tr, "Account#_SipTransport", a, transport(l.transport));
            for (i, (code, value)) in codecs.iter().zip(CODECS).enumerate() {
                let name = ["Account#_Choice1", "Account#_Choice2", "Account#_Choice3"];
                pv(
                    out,
                    *code,
                    name.get(i).copied().unwrap_or_default(),
                    a,
                    value,
                );
            }
        }
        // Profile 1, account 1's server (module docs).
        None => pv(out, c.profile, "Account#_Profile", a, "0"),
    }
}

fn write_key(
    out: &mut String,
    k: u32,
    kind: &str,
    value: &str,
    label: &str,
    account: u32,
    pickup: &str,
) {
    let key = Some(k);
    pv(out, key_code(k, 0), "LineKey#_Type", key, kind);
    pv(out, key_code(k, 1), "LineKey#_Value", key, value);
    pv(out, key_code(k, 2), "LineKey#_Label", key, label);
    pv_num(
        out,
        key_code(k, 3),
        "LineKey#_Account",
        key,
        u64::from(account),
    );
    pv(out, key_code(k, 4), "LineKey#_PickupCode", key, pickup);
}

fn write_keys(p: &Profile, out: &mut String) {
    let model: Option<&Model> = Vendor::Htek.model(&p.device.model);
    let accounts = p.lines.len().min(ACCOUNTS.len());
    let mut k: u32 = 0;
    for (i, l) in p.lines.iter().take(accounts).enumerate() {
        k += 1;
        let acct = u32::try_from(i).unwrap_or(0);
        write_key(out, k, "1", "", &l.extension, acct, "");
    }
    for b in &p.blf {
        if k >= MAX_KEYS {
            break;
        }
        k += 1;
        let acct = u32::from(b.line.max(1)) - 1;
        write_key(
            out,
            k,
            "3",
            &b.extension,
            b.effective_label(),
            acct,
            &b.pickup_prefix,
        );
    }
    // Reset the model's further keys (type 0, empty value and label).
    let total = model.map_or(0, |m| u32::from(m.line_keys)).min(MAX_KEYS);
    while k < total {
        k += 1;
        write_key(out, k, "0", "", "", 0, "");
    }
}

/// The time-zone code for a standard offset (minutes east of UTC): wazo `common.py`
/// `_TZ_INFO`, keyed there by (hours, minutes).
fn tz_code(offset_minutes: i16) -> Option<u32> {
    const TABLE: [(i16, u32); 32] = [
        (-660, 105),
        (-600, 2),
        (-540, 3),
        (-480, 6),
        (-420, 10),
        (-360, 14),
        (-300, 18),
        (-270, 19),
        (-240, 20),
        (-210, 26),
        (-180, 30),
        (-120, 31),
        (-60, 32),
        (0, 33),
        (60, 49),
        (120, 57),
        (180, 73),
        (210, 74),
        (240, 77),
        (300, 83),
        (330, 84),
        (360, 85),
        (420, 88),
        (480, 89),
        (540, 93),
        (570, 94),
        (600, 96),
        (630, 100),
        (660, 101),
        (720, 102),
        (765, 103),
        (780, 104),
    ];
    TABLE
        .iter()
        .find(|(m, _)| *m == offset_minutes)
        .map(|(_, c)| *c)
}

fn write_time_zone(out: &mut String, tz: &TimeZone) {
    if let Some(code) = tz_code(tz.offset_minutes()) {
        pv_num(out, 64, "Preference_TimeZone", None, u64::from(code));
    }
    pv(
        out,
        75,
        "Preference_DaylightSavingTime",
        None,
        if tz.has_dst() { "2" } else { "0" },
    );
    pv(out, 143, "Preference_DHCPTime", None, "0");
}

/// The upgrade mode for a URL's scheme: 1 http (wazo), 3 https (fusionpbx).
fn upgrade_mode(url: &str) -> Option<&'static str> {
    let (scheme, _) = url.trim().split_once("://")?;
    if scheme.eq_ignore_ascii_case("http") {
        Some("1")
    } else if scheme.eq_ignore_ascii_case("https") {
        Some("3")
    } else {
        None
    }
}

/// The folder a firmware image URL points into.
fn firmware_dir(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    match path.rsplit_once('/') {
        Some((dir, last)) if last.contains('.') && !dir.ends_with('/') => dir,
        _ => path.trim_end_matches('/'),
    }
}

fn write_provisioning(out: &mut String, base: Option<&str>, firmware: Option<&str>, poll: u32) {
    let base = base.map(str::trim).filter(|u| !u.is_empty());
    let firmware = firmware.map(str::trim).filter(|u| !u.is_empty());
    if let Some(mode) = base.or(firmware).and_then(upgrade_mode) {
        pv(out, 212, "FirmwareUpGrade_UpgradeMode", None, mode);
    }
    if let Some(fw) = firmware {
        pv(
            out,
            192,
            "FirmwareUpGrade_FirmwareServerPath",
            None,
            firmware_dir(fw),
        );
    }
    if let Some(url) = base {
        let mut u = url.trim_end_matches('/').to_owned();
        u.push('/');
        pv(out, 237, "FirmwareUpGrade_ConfigServerPath", None, &u);
    }
    pv(
        out,
        194,
        "FirmwareUpGrade_AutoUpgrade",
        None,
        if poll > 0 { "1" } else { "0" },
    );
    if poll > 0 {
        pv_num(
            out,
            193,
            "FirmwareUpGrade_CheckUpgradeTimes",
            None,
            u64::from(poll),
        );
    }
}

// ---------------------------------------------------------------------------------------
// key = value (MikoPBX)

fn write_kv(p: &Profile, out: &mut String) {
    out.push_str("#!version:1.0.0.1\n");
    for (i, line) in p.lines.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        write_kv_account(out, n, line);
    }
    out.push_str(
        "auto_provision.dhcp_option.enable = 0\n\
         features.intercom.allow = 1\n\
         features.intercom.mute = 0\n\
         features.intercom.tone = 1\n\
         features.dtmf.transfer = ##\n",
    );
    if let Some(fw) = p.firmware_url.as_deref().filter(|u| !u.is_empty()) {
        kv::push(out, "auto_image_url", fw);
    }
}

fn write_kv_account(out: &mut String, n: u32, l: &Line) {
    const A: &str = "account.";
    push_n(out, A, n, ".active", "1");
    push_n(out, A, n, ".label", l.effective_label());
    push_n(out, A, n, ".display_name", &l.display_name);
    push_n(out, A, n, ".auth_name", &l.auth_name);
    push_n(out, A, n, ".user_name", &l.extension);
    push_n(out, A, n, ".password", l.password.expose());
    push_n(out, A, n, ".sip_server.host", &l.server_host);
    push_n_u32(out, A, n, ".sip_server.port", u32::from(l.server_port));
    push_n(out, A, n, ".transport", transport_code(l.transport));
    push_n(out, A, n, ".voice_mail.number", &l.voicemail);
    push_n(out, A, n, ".codec.1.enable", "1");
    push_n(out, A, n, ".codec.1.payload_type", "PCMU");
    push_n(out, A, n, ".codec.1.priority", "1");
}

#[cfg(test)]
mod tests;
