//! Grandstream: User-Agent, file names, the P-code XML format, merges and the phonebook.
//!
//! What the phones send and ask for:
//! - User-Agent `Grandstream Model HW <model>[ V<hw rev>] SW <fw> DevId <mac>` (MAC in
//!   lowercase hex), e.g. `Grandstream Model HW GXP2170 V2.4B SW 1.0.11.23 DevId c074ad123456`;
//!   the GXP2000 sends `Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId
//!   000b822726c8` (wazo-platform/wazo-provd-plugins `plugins/wazo_grandstream/common/common.py`,
//!   its sample User-Agents). The MAC after `DevId` also comes with colons
//!   (`DevId EC:74:D7:89:1A:76`, as PHP provisioning servers note for the GRP2601W).
//!   The short form `Grandstream <model> <fw>` (no MAC) is the SIP User-Agent of current
//!   firmware, e.g. `Grandstream GRP2612W 1.0.5.67` in a GRP2612W's PnP SUBSCRIBE
//!   (brucemwalker/gs_tools `plugnplay/gspnp_responder.py/fake_grp2612.py`) and `Grandstream
//!   GXP2200 1.0.3.27` in SIP traces; it gives model and firmware, and the path gives the MAC.
//!   The DP750 base uses the `Model HW` form too: FusionPBX picks its template by the
//!   User-Agent substring `HW DP750` (`app/provision/resources/classes/provision.php`).
//! - Files, from the config server path (`P237`), often under `/Grandstream/` (the caller
//!   strips directories): the legacy binary `cfg<mac>`, then `cfg<mac>.xml`, then the
//!   model-specific `cfg<model>.xml`, then the generic `cfg.xml` (Grandstream *SIP Device
//!   Provisioning Guide*, via PEERS.md 2.5). The model file is the model in lowercase: a
//!   GRP2612W asks for `cfg<mac>.xml`, `cfggrp2612w.xml`, `cfg.xml` (and, the note says
//!   "double-check this", `dev<mac>.cfg`, which is not served) (brucemwalker/gs_tools
//!   `provisioning/Notes.txt`); FusionPBX rewrites `cfg<mac>` with and without `.xml` to
//!   the phone's file ("Grandstream looks for {$mac}, then cfg{$mac}.xml", `grandstream/
//!   custom/AcustomGXP2135/README.txt`). `cfg<mac>` is binary,
//!   which this module cannot produce, so `classify_file` refuses it: the phone then moves on
//!   to `cfg<mac>.xml`. `cfg<model>.xml` and `cfg.xml` are common files holding only the
//!   provisioning and firmware P-codes. [`Grandstream::device_file_name`] is `cfg<mac>.xml`
//!   in lowercase (Wazo `_dev_specific_filename`).
//!
//! The format: `<gs_provision version="1">`, an optional `<mac>` that the phone checks
//! against its own (Grandstream *XML Provisioning Guide*), and `<config version="1">` with
//! one `<Pnnn>` element per setting (FusionPBX `resources/templates/provision/grandstream/
//! gxp21xx/{$mac}.xml` and `gxp16xx/{$mac}.xml`, which document each P-code).
//!
//! P-codes written:
//! - accounts 1..6 (table `ACCOUNTS`, from the FusionPBX gxp21xx template): active, account
//!   name, SIP server (`host` or `host:port`), user ID, authenticate ID, password, display
//!   name, voicemail, transport (0 UDP, 1 TCP, 2 TLS); "Allow SIP Reset" so that a SIP NOTIFY
//!   `check-sync` re-provisions: `P26015` for account 1 (Wazo `base.tpl`) and `P26115`,
//!   `P26215`, ... for the next ones, following the per-account `P26<n-1>xx` band of the
//!   FusionPBX gxp16xx template (Wazo's `P26<n+2>15` does not follow it). `P4428` = 1
//!   disables digest authentication of SIP NOTIFY (gxp16xx template), because most PBXes
//!   cannot answer a challenge to a NOTIFY they send; a NOTIFY can only make the phone fetch
//!   its config from the configured server.
//! - `P30` NTP server; `P64` = `customize` with `P246` the POSIX TZ string ("Self-Defined
//!   Time Zone", gxp16xx template; Wazo writes POSIX strings in `P64`); `P1362` language
//!   (ISO codes `en`, `de`, ...: gxp16xx template).
//! - firmware: `P192` firmware server path (`host/path`, no scheme; the phone appends its
//!   own file name such as `gxp2170fw.bin`, so an uploaded image must carry that name),
//!   `P6767` firmware upgrade via (GXP16xx) and `P212` upgrade via (0 TFTP, 1 HTTP, 2 HTTPS;
//!   GXP21xx, where it covers config and firmware), `P238` = 0 (always check for new
//!   firmware at boot). The MikoPBX note pairs `P192` with `<P237>1</P237>`, but `P237` is
//!   the config server path in every template read; it is written as such.
//! - provisioning: `P237` config server path, `P194` automatic upgrade (0 no, 1 every `P193`
//!   minutes, range 60..86400), which re-fetches the config as well.
//! - phonebook: `P330` XML phonebook download (0 no, 1 HTTP, 2 TFTP, 3 HTTPS), `P331` its
//!   folder (`host/path/`: the phone appends `phonebook.xml`, so the phonebook is served at
//!   `phonebook/<mac>/phonebook.xml`, [`Grandstream::phonebook_file`]), `P332` download
//!   interval in minutes (0 or 5..720) (FusionPBX gxp16xx and dp750 templates).
//! - BLF: on the GXP213x..2170, the virtual multi-purpose keys (VPKs) after the accounts'
//!   own line keys, every VPK of the model written in sequence and the unused ones reset
//!   (mode/account/description/value from `P1363`/`P1364`/`P1465`/`P1466` for VPKs 1..6,
//!   groups of four from `P23800` for 7..48; BLF = 11 on a fixed VPK, 1 on a dynamic one:
//!   FusionPBX's version-1 gxp2170 template, firmware 1.0.9.127), then their physical
//!   MPKs; elsewhere the multi-purpose key triplets (type `P323`.., account `P301`.., name
//!   `P302`.., value `P303`.. for keys 1..7; `P353`.. quadruplets for keys 8..18; type 1 =
//!   BLF; gxp21xx template). `P1347` is the BLF call-pickup prefix (Wazo `base.tpl`).
//!
//! Phonebook: `<AddressBook><Contact><FirstName/><LastName/><Phone type="Work">
//! <phonenumber/><accountindex/></Phone></Contact>` (FusionPBX `gxp2170/phonebook.xml`).

pub(crate) mod account;
mod models;
pub(crate) mod rps;

use super::pvalue;
use super::snom::{indent, push_num, push_value};
use crate::detect::{PathMatch, UaInfo};
use crate::error::Result;
use crate::inputs::{BlfKey, Contact, Line, Profile, Transport};
use crate::mac::Mac;
use crate::params::{Param, Section};
use crate::vendors::{
    CheckSyncEvents, CommonContext, ConfigSyntax, Facts, Model, ParamSection, PnpUrlForm, RpsApi,
    RpsCode, Vendor, VendorModule,
};
use crate::xml::escape_into;

/// Grandstream's facts. OUIs from the IEEE registry. Check-sync: plain `check-sync`
/// re-provisions (FreePBX `grandstream-check-cfg`; wazo's plugin sends the standard
/// `check-sync` NOTIFY, `synchronize.standard_sip_synchronize` in
/// `plugins/wazo_grandstream/common/common.py`, with "Allow SIP Reset" `P26015` = 1 in
/// `base.tpl`); the phone reboots by itself when the new config requires it. For an
/// explicit reboot `check-sync;reboot=true`, the event every vendor here shares (PBX
/// vendors' notify tables list it for Grandstream); no Grandstream document read says
/// whether firmware honours `reboot=true` or treats it as a plain resync, which is then
/// what the phone does. RPS: GDMS, which publishes no call to remove a device (RPS.md).
pub(crate) const FACTS: Facts = Facts {
    name: "grandstream",
    display_name: "Grandstream",
    ouis: &[[0x00, 0x0b, 0x82], [0xc0, 0x74, 0xad], [0xec, 0x74, 0xd7]],
    sample_model: "GXP2170",
    param_sections: &[ParamSection {
        section: Section::Grandstream,
        name: "grandstream",
    }],
    rps: RpsApi::NoRemoval,
    rps_site_url_note: Some(
        "GDMS takes no URL per phone: it sends every phone of a GDMS site to the provisioning \
         server set on that GDMS site. Set this URL there. It names no phone, so each Grandstream \
         phone is served under it only with the HTTP user and password set for it here; give the \
         phone the same credentials in GDMS. GDMS has no public call to remove a device: \
         deleting a Grandstream phone here does not remove it from GDMS; remove it in the GDMS \
         console.",
    ),
    rps_manual_note: None,
    redirect_only: None,
    check_sync: Some(CheckSyncEvents {
        resync: "check-sync",
        reboot: "check-sync;reboot=true",
    }),
    models: models::MODELS,
    // The SIP PnP NOTIFY body must be a folder URL ending in `/`: the phone appends its own
    // file names (`cfg<mac>.xml`, ...) and ignores a URL of any other shape (Grandstream
    // *Plug & Play Mechanism*, GXP21xx/17xx/16xx, and *GRP26xx Auto-configuration "Plug and
    // Play" Guide*, documentation.grandstream.com, step 3 "NOTIFY"; Bruce Walker's
    // `gspnp_responder.py` (2021), written against a GRP2612W: "this format is mandatory!
    // Must be a path ending in a slash (folder)", e.g. `http://192.168.2.4/tftp/xyzzy/`).
    pnp_url: PnpUrlForm::Folder,
    local_directory: false,
    rps_desk_codes: false,
};

/// Grandstream's redirection-service code: its PortSIP section.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: None,
};

/// Grandstream's module.
pub(crate) struct Grandstream;

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const ROOT: &str = "gs_provision";
/// The vendor's name in merge errors.
const VENDOR: &str = "Grandstream";

/// P-codes per account: active, account name, SIP server, user ID, authenticate ID,
/// password, display name, voicemail, transport, allow SIP reset.
const ACCOUNTS: [[&str; 10]; 6] = [
    [
        "P271", "P270", "P47", "P35", "P36", "P34", "P3", "P33", "P130", "P26015",
    ],
    [
        "P401", "P417", "P402", "P404", "P405", "P406", "P407", "P426", "P448", "P26115",
    ],
    [
        "P501", "P517", "P502", "P504", "P505", "P506", "P507", "P526", "P548", "P26215",
    ],
    [
        "P601", "P617", "P602", "P604", "P605", "P606", "P607", "P626", "P648", "P26315",
    ],
    [
        "P1701", "P1717", "P1702", "P1704", "P1705", "P1706", "P1707", "P1726", "P1748", "P26415",
    ],
    [
        "P1801", "P1817", "P1802", "P1804", "P1805", "P1806", "P1807", "P1826", "P1848", "P26515",
    ],
];

impl VendorModule for Grandstream {
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
        let mut s = String::with_capacity(19);
        s.push_str("cfg");
        s.push_str(&mac.to_lower_hex());
        s.push_str(".xml");
        s
    }

    fn write_config(&self, profile: &Profile, out: &mut String) {
        write_device(profile, out);
    }

    fn write_common(&self, _file: &str, common: &CommonContext<'_>, out: &mut String) {
        out.push_str(DECL);
        out.push_str("<gs_provision version=\"1\">\n  <config version=\"1\">\n");
        write_provisioning(
            out,
            common.base_url,
            common.firmware_url,
            common.poll_interval_minutes,
        );
        out.push_str("  </config>\n</gs_provision>\n");
    }

    fn overlay(&self, config: &str, overlay: &str) -> Result<String> {
        pvalue::overlay(config, overlay, ROOT, VENDOR)
    }

    fn apply_params(&self, config: &str, params: &[&Param]) -> Result<String> {
        pvalue::apply_params(config, params, Section::Grandstream, ROOT, VENDOR)
    }

    fn write_phonebook(&self, _title: &str, contacts: &[Contact], out: &mut String) {
        // The format has no title element.
        out.push_str(DECL);
        if contacts.is_empty() {
            out.push_str("<AddressBook/>\n");
            return;
        }
        out.push_str("<AddressBook>\n");
        for c in contacts {
            out.push_str("  <Contact>\n");
            text_leaf(out, 2, "FirstName", &c.name);
            out.push_str("    <LastName/>\n    <Phone type=\"Work\">\n");
            text_leaf(out, 3, "phonenumber", &c.number);
            // 0 = account 1: "From 0 to 5 for account 1 to account 6" (Grandstream *XML
            // Based Downloadable Phonebook Guide*, GXP16xx/17xx/21xx, Table 4 <Phone>).
            out.push_str("      <accountindex>0</accountindex>\n    </Phone>\n  </Contact>\n");
        }
        out.push_str("</AddressBook>\n");
    }

    fn read_phonebook(&self, root: &crate::xml::Element) -> Option<Vec<Contact>> {
        // The shape `write_phonebook` writes (FusionPBX `gxp2170/phonebook.xml`; the
        // *XML Based Downloadable Phonebook Guide*): each `Phone` of a `Contact` is an entry
        // named "FirstName LastName".
        if root.name != "AddressBook" {
            return None;
        }
        let mut out = Vec::new();
        'contacts: for contact in root.elements().filter(|e| e.name == "Contact") {
            let part = |n: &str| {
                contact
                    .elements()
                    .find(|e| e.name == n)
                    .map(|e| e.text().trim().to_owned())
                    .unwrap_or_default()
            };
            let name = [part("FirstName"), part("LastName")]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            for phone in contact.elements().filter(|e| e.name == "Phone") {
                if crate::phonebook_source::reader_full(&out) {
                    break 'contacts;
                }
                let number = phone
                    .elements()
                    .find(|e| e.name == "phonenumber")
                    .map(crate::xml::Element::text)
                    .unwrap_or_default();
                out.push(Contact {
                    name: name.clone(),
                    number,
                });
            }
        }
        Some(out)
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[".bin"]
    }

    fn example_template(&self) -> &'static str {
        include_str!("example.xml")
    }

    fn phonebook_file(&self) -> Option<&'static str> {
        // P331 names a folder and the phone fetches `phonebook.xml` in it: FusionPBX writes
        // `<P331>{path}{$mac}/</P331>` (`resources/templates/provision/grandstream/gxp16xx/
        // {$mac}.xml`) and routes `pb/<mac>/phonebook.xml` to the phone's phonebook
        // (`grandstream/gxp2170/README.txt`, its nginx rewrite `^.*/provision/pb/
        // ([A-Fa-f0-9]{12})/phonebook\.xml$`, the folder being `.../app/provision/pb/`
        // with the MAC added by the template; `app/grandstream/
        // app_config.php`, `grandstream_phonebook_xml_server_path`: "template adds MAC on
        // the end ... requires nginx rewrite rules for phonebook.xml").
        Some(PHONEBOOK_FILE)
    }
}

/// The file name a Grandstream phone appends to its phonebook folder (P331).
const PHONEBOOK_FILE: &str = "phonebook.xml";

// ---------------------------------------------------------------------------------------
// Detection

fn valid_model(m: &str) -> bool {
    (2..=24).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn valid_version(v: &str) -> bool {
    (1..=32).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

fn parse_ua(ua: &str) -> Option<UaInfo> {
    let rest = ua.strip_prefix("Grandstream ")?;
    let modern = rest.strip_prefix("Model HW ");
    let mut tokens = modern.unwrap_or(rest).split_ascii_whitespace().take(24);
    let model = tokens.next().filter(|m| valid_model(m))?;
    let mut info = UaInfo {
        model: Some(model.to_owned()),
        ..UaInfo::default()
    };
    if modern.is_none() {
        // `Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId ...`
        info.firmware = rest
            .split_once('(')
            .and_then(|(_, r)| r.split([')', '/']).next())
            .and_then(|first| first.rsplit_once(':'))
            .map(|(_, v)| v)
            .filter(|v| valid_version(v))
            .map(str::to_owned);
        if info.firmware.is_none() {
            // `Grandstream GRP2612W 1.0.5.67`: model and version, no MAC (the SIP
            // User-Agent of current firmware, which some fetch with as well).
            let mut short = rest.split_ascii_whitespace().skip(1);
            info.firmware = short.next().filter(|v| valid_version(v)).map(str::to_owned);
        }
    }
    while let Some(t) = tokens.next() {
        match t {
            "SW" if modern.is_some() => {
                info.firmware = tokens
                    .next()
                    .filter(|v| valid_version(v))
                    .map(str::to_owned);
            }
            "DevId" => info.mac = tokens.next().and_then(|m| Mac::parse(m).ok()),
            _ => {}
        }
    }
    // The modern form always names its firmware; the old one at least a MAC or a version.
    let known = if modern.is_some() {
        info.firmware.is_some()
    } else {
        info.firmware.is_some() || info.mac.is_some()
    };
    known.then_some(info)
}

fn classify(file: &str) -> Option<PathMatch> {
    // `cfg<mac>` without `.xml` is the legacy binary format: not served.
    let stem = file.strip_prefix("cfg")?.strip_suffix(".xml")?;
    if stem.is_empty() {
        return Some(PathMatch::Common { model: None });
    }
    if let Some(mac) = Mac::from_hex12(stem) {
        return Some(PathMatch::DeviceConfig { mac });
    }
    // A model file such as cfggxp2170.xml: a letter first, a digit somewhere, and a
    // character that is not hex, so that a mistyped MAC is never taken for a model.
    let is_model = (3..=16).contains(&stem.len())
        && stem.starts_with(|c: char| c.is_ascii_alphabetic())
        && stem.bytes().all(|b| b.is_ascii_alphanumeric())
        && stem.bytes().any(|b| b.is_ascii_digit())
        && stem.bytes().any(|b| !b.is_ascii_hexdigit());
    is_model.then(|| PathMatch::Common {
        model: Some(stem.to_ascii_uppercase()),
    })
}

// ---------------------------------------------------------------------------------------
// Writing

/// `<name>text</name>` at `depth`, self-closed when empty.
fn text_leaf(out: &mut String, depth: usize, name: &str, text: &str) {
    indent(out, depth);
    out.push('<');
    out.push_str(name);
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

/// `<code>text</code>` inside `<config>`, self-closed when empty.
fn p(out: &mut String, code: &str, text: &str) {
    out.push_str("    <");
    out.push_str(code);
    if text.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    push_value(out, text);
    p_close(out, code);
}

fn p_open(out: &mut String, code: &str) {
    out.push_str("    <");
    out.push_str(code);
    out.push('>');
}

fn p_close(out: &mut String, code: &str) {
    out.push_str("</");
    out.push_str(code);
    out.push_str(">\n");
}

fn p_num(out: &mut String, code: &str, n: u64) {
    p_open(out, code);
    push_num(out, n);
    p_close(out, code);
}

fn write_device(pr: &Profile, out: &mut String) {
    out.push_str(DECL);
    out.push_str("<gs_provision version=\"1\">\n  <mac>");
    for b in pr.device.mac.octets() {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out.push_str("</mac>\n  <config version=\"1\">\n");
    let base = Vendor::Grandstream
        .model(&pr.device.model)
        .filter(|m| m.is_dect_base());
    if let Some(base) = base {
        write_dect_base(out, pr, base);
    } else {
        // Six accounts: the P-code bands of the FusionPBX gxp21xx template (the most any
        // GXP21xx takes, wazo plugin-info `lines` 6). A model with more (the GXV33xx's 16)
        // has no version-1 P-codes for accounts 7+ in the sources read (FusionPBX writes
        // them as version-2 `account.N.*` items, which cannot share a version-1 file):
        // lines beyond the sixth are not written, a documented limit.
        for (codes, line) in ACCOUNTS.iter().zip(&pr.lines) {
            write_account(out, codes, line);
        }
        if !pr.lines.is_empty() {
            // Accept SIP NOTIFY (check-sync) without digest authentication.
            p_num(out, "P4428", 1);
        }
    }
    if let Some(ntp) = &pr.ntp_server {
        p(out, "P30", ntp);
    }
    if let Some(tz) = &pr.timezone {
        p(out, "P64", "customize");
        p_open(out, "P246");
        push_posix(out, tz.posix());
        p_close(out, "P246");
    }
    if let Some(lang) = pr.language {
        p(out, "P1362", lang.code());
    }
    write_provisioning(
        out,
        pr.provisioning_url.as_deref(),
        pr.firmware_url.as_deref(),
        pr.poll_interval_minutes,
    );
    if let Some(url) = pr.phonebook_url.as_deref().filter(|u| !u.is_empty()) {
        let (scheme, path) = split_scheme(url);
        let mode = match scheme {
            Some(Scheme::Https) => 3,
            Some(Scheme::Tftp) => 2,
            _ => 1,
        };
        p_num(out, "P330", mode);
        p(out, "P331", phonebook_folder(path));
        let interval = match pr.poll_interval_minutes {
            0 => 0,
            m => m.clamp(5, 720),
        };
        p_num(out, "P332", u64::from(interval));
    }
    if base.is_none() {
        write_blf(pr, out);
    }
    out.push_str("  </config>\n</gs_provision>\n");
}

fn write_account(out: &mut String, c: &[&str; 10], line: &Line) {
    let [active, name, server, user, auth, password, display, voicemail, transport, reset] = *c;
    p_num(out, active, 1);
    p(out, name, line.effective_label());
    // The server takes host[:port]; the default port is left out so DNS SRV still works.
    p_open(out, server);
    push_value(out, &line.server_host);
    if line.server_port != 5060 {
        out.push(':');
        push_num(out, u64::from(line.server_port));
    }
    p_close(out, server);
    p(out, user, &line.extension);
    p(out, auth, &line.auth_name);
    p(out, password, line.password.expose());
    p(out, display, &line.display_name);
    p(out, voicemail, &line.voicemail);
    p_num(out, transport, transport_code(line.transport));
    p_num(out, reset, 1);
}

/// `<Pn>value</Pn>` for a P-code given by number.
fn p_at(out: &mut String, code: u32, text: &str) {
    let mut name = String::with_capacity(8);
    name.push('P');
    push_num(&mut name, u64::from(code));
    p(out, &name, text);
}

fn p_num_at(out: &mut String, code: u32, n: u64) {
    let mut s = String::with_capacity(4);
    push_num(&mut s, n);
    p_at(out, code, &s);
}

// DP75x DECT base P-codes (FusionPBX `resources/templates/provision/grandstream/dp750/
// {$mac}.xml`, DP750 firmware 1.0.2.16), per SIP account N = 1..10 at `base + N - 1`:
/// "SIP User ID for SIP account 1 - 10".
const DECT_USER_ID: u32 = 4060;
/// "Authenticate ID for SIP account 1 - 10".
const DECT_AUTH_ID: u32 = 4090;
/// "Password for SIP account 1 - 10".
const DECT_PASSWORD: u32 = 4120;
/// "Profile Settings for SIP account 1 - 10" (0 = profile 1, whose server is P47).
const DECT_PROFILE: u32 = 4150;
/// "SIP Name for SIP account 1 - 10" (the caller name).
const DECT_NAME: u32 = 4180;
/// "Active ... 0 - Disabled, 1 - Active".
const DECT_ACTIVE: u32 = 4595;
/// "HS Mode": 1..5 = rings only handset 1..5 ("non-hanging group mode"); 101 Circular
/// (the default), 102 Linear, 103 Parallel, 104 Shared hunting over the handsets.
const DECT_HS_MODE: u32 = 27080;
/// The default HS mode: the account rings the handsets in turn.
const DECT_HS_MODE_DEFAULT: u64 = 101;
/// "Handset name. Displaying in handset screen", handsets 1..5; "maximum 10 characters".
const DECT_HS_NAME: u32 = 27020;
const DECT_HS_NAME_MAX: usize = 10;
/// A handset line holding no account: "0 - 10, according with None and account 1 - 10 ...
/// other line have default is 0 - NULL" (same template, "HS 1 Line Settings").
const DECT_LINE_NONE: u64 = 0;
/// "HS h Line Settings": the accounts (0 = none, 1..10) on lines 1..10 of handset h, the
/// first line being its outgoing line. The codes are not one band: HS4 starts at P4250,
/// P4251 and goes on at P21320 (the template's own numbering).
const DECT_HS_LINES: [[u32; 10]; 5] = [
    [4300, 4301, 4302, 4303, 4304, 4305, 4306, 4307, 4308, 4309],
    [4310, 4311, 4312, 4313, 4314, 4315, 4316, 4317, 4318, 4319],
    [4320, 4321, 4322, 4323, 4324, 4325, 4326, 4327, 4328, 4329],
    [
        4250, 4251, 21320, 21321, 21322, 21323, 21324, 21325, 21326, 21327,
    ],
    [
        21328, 21329, 21330, 21331, 21332, 21333, 21334, 21335, 21336, 21337,
    ],
];

/// A DP75x base: its SIP server on profile 1 (`P271`, `P47`, `P130`, as on a desk phone's
/// account 1), each line as one of its SIP accounts, and each account assigned to the
/// handset `line.handset` names: incoming (HS mode = that handset) and outgoing (the
/// handset's lines list its accounts, the first one being its default line), the handset
/// named after its first account. An account with no handset (or one the base does not
/// have) rings the handsets in turn (HS mode 101, the default). Lines past the base's
/// accounts are not written. All accounts register at the first line's server: a base
/// with accounts on several PBXes would need profiles 2..4, whose codes the template
/// does not give consistently. The desk phones' check-sync switches (`P26015` "Allow SIP
/// Reset", `P4428`) are not in the DP750 template and are not written: whether a base
/// re-provisions on a `check-sync` NOTIFY is not known from the sources read.
///
/// Every account slot (1..=10, at most the model's) and every handset (1..=the model's) is
/// written, used or not, as the FusionPBX dp750 template writes all ten `P4060`..`P4069`
/// and all five handsets' line lists (a user left out renders empty there): an account no
/// line holds is set inactive ("Active ... 0 - Disabled", `P4595`+n) with its user ID,
/// authenticate ID, password and name emptied, and a handset no account is assigned to
/// gets no line ("0 - 10, according with None and account 1 - 10", "0 - NULL") and an
/// empty name. A user removed here (or moved off a handset) so stops registering on the
/// base and ringing its handset; writing only the accounts in use would leave the base's
/// previous values in place. With no line at all, profile 1 is set inactive (`P271` 0, as
/// the template does when account 1 has no password).
fn write_dect_base(out: &mut String, pr: &Profile, base: &Model) {
    let slots = usize::from(base.accounts).min(10);
    let lines: Vec<&Line> = pr.lines.iter().take(slots).collect();
    match lines.first() {
        Some(first) => {
            p_num(out, "P271", 1);
            p_open(out, "P47");
            push_value(out, &first.server_host);
            if first.server_port != 5060 {
                out.push(':');
                push_num(out, u64::from(first.server_port));
            }
            p_close(out, "P47");
            p_num(out, "P130", transport_code(first.transport));
        }
        None => p_num(out, "P271", 0),
    }
    let handsets = base.dect_handsets.min(5);
    let slot = |l: &Line| l.handset.filter(|h| (1..=handsets).contains(h));
    for n in (0u32..).take(slots) {
        let line = usize::try_from(n).ok().and_then(|i| lines.get(i).copied());
        p_num_at(out, DECT_ACTIVE + n, u64::from(line.is_some()));
        p_at(out, DECT_USER_ID + n, line.map_or("", |l| &l.extension));
        p_at(out, DECT_AUTH_ID + n, line.map_or("", |l| &l.auth_name));
        p_at(
            out,
            DECT_PASSWORD + n,
            line.map_or("", |l| l.password.expose()),
        );
        p_at(out, DECT_NAME + n, line.map_or("", |l| &l.display_name));
        p_num_at(out, DECT_PROFILE + n, 0);
        let mode = line.and_then(slot).map_or(DECT_HS_MODE_DEFAULT, u64::from);
        p_num_at(out, DECT_HS_MODE + n, mode);
    }
    for (h, codes) in (1u8..=handsets).zip(DECT_HS_LINES.iter()) {
        let accounts: Vec<(u64, &Line)> = (1u64..)
            .zip(lines.iter().copied())
            .filter(|(_, l)| slot(l) == Some(h))
            .collect();
        let name: String = accounts.first().map_or_else(String::new, |(_, named)| {
            named
                .effective_label()
                .chars()
                .take(DECT_HS_NAME_MAX)
                .collect()
        });
        p_at(out, DECT_HS_NAME + u32::from(h) - 1, &name);
        for (i, code) in codes.iter().enumerate() {
            let account = accounts.get(i).map_or(DECT_LINE_NONE, |(n, _)| *n);
            p_num_at(out, *code, account);
        }
    }
}

fn transport_code(t: Transport) -> u64 {
    match t {
        Transport::Udp => 0,
        Transport::Tcp => 1,
        Transport::Tls => 2,
    }
}

fn write_blf(pr: &Profile, out: &mut String) {
    if let Some(prefix) = pr
        .blf
        .iter()
        .map(|b| b.pickup_prefix.as_str())
        .find(|s| !s.is_empty())
    {
        p(out, "P1347", prefix);
    }
    let mut blf = pr.blf.iter();
    // MPKs 19..24 are the GXP2160's only: other models take at most 18 (the model table
    // counts no more, so a layout saved fits what is written here).
    let mut mpks = usize::from(models::PLAIN_MPKS);
    if let Some(vpk) = models::vpk_layout(&pr.device.model) {
        let lines = u32::try_from(pr.lines.len().min(ACCOUNTS.len())).unwrap_or(0);
        write_vpks(out, vpk, lines, &mut blf);
        mpks = MPKS.len().min(usize::from(vpk_mpks(&pr.device.model)));
    }
    // The keys left go on the multi-purpose keys (after the VPKs, as wazo orders them). On
    // a VPK model, whose MPK count is known, the MPKs left are reset as its VPKs are (the
    // template's "-1 - None", account 0, no name or value); elsewhere they are not written.
    let reset = models::vpk_layout(&pr.device.model).is_some();
    for [kind, account, label, value] in MPKS.iter().take(mpks).copied() {
        if let Some(b) = blf.next() {
            p_num(out, kind, 1);
            p_num(out, account, blf_account(b));
            p(out, label, b.effective_label());
            p(out, value, &b.extension);
        } else if reset {
            p(out, kind, VPK_NONE);
            p_num(out, account, 0);
            p(out, label, "");
            p(out, value, "");
        } else {
            break;
        }
    }
    // Then the expansion modules' keys, every one written: used, or reset to None.
    let ext = Vendor::Grandstream.model(&pr.device.model).map_or(0, |m| {
        if models::vpk_layout(m.name).is_some() {
            u32::from(m.expansion_keys) * u32::from(m.expansion_modules)
        } else {
            0
        }
    });
    for n in 0..ext.min(EXT_KEYS_MAX) {
        let code = EXT_START + 5 * n;
        match blf.next() {
            Some(b) => {
                p_num_at(out, code, 1);
                p_num_at(out, code + 1, blf_account(b));
                p_at(out, code + 2, b.effective_label());
                p_at(out, code + 3, &b.extension);
            }
            None => p_at(out, code, VPK_NONE),
        }
    }
}

/// Expansion-module keys of a GXP2140/2170 ("Settings/Extension Boards - GXP2140/GXP2170
/// only"): EXT MPK n (1..160) is key mode (-1 None, 1 BLF), account, description, value at
/// `P23000 + 5(n-1)` .. `+3` (FusionPBX version-1 gxp2170 template, commit 0e86cc4d89,
/// `{for $exp=1 to 160}`; wazo `_add_mpk` uses the same band). The GXV3350's modules take
/// keys through codes no source read gives: its model row lists no modules.
const EXT_START: u32 = 23000;
/// The EXT MPKs the template numbers: 4 modules of 40.
const EXT_KEYS_MAX: u32 = 160;

/// A BLF key's account index (0 = account 1).
fn blf_account(b: &BlfKey) -> u64 {
    u64::from(b.line.saturating_sub(1).min(5))
}

/// The physical MPKs of a VPK model (wazo `MODEL_FKEYS` `mpk`), which follow its VPKs.
fn vpk_mpks(model: &str) -> u16 {
    let (Some(row), Some(vpk)) = (Vendor::Grandstream.model(model), models::vpk_layout(model))
    else {
        return 0;
    };
    row.line_keys.saturating_sub(u16::from(vpk.count))
}

/// The version-1 P-codes of VPK `k` (1-based): key mode, account, description, value.
/// VPKs 1..6 interleave mode/account from P1363 and description/value from P1465; VPKs
/// 7..48 are groups of four from P23800 (FusionPBX gxp2170 template for GXP2130/2135/
/// 2140/2160/2170 firmware 1.0.9.127, commit 0e86cc4d89: `$start_id=1363`, `+102`/`+103`;
/// "line 7 to 48 are sequential starting at 23800 in groups of 4").
fn vpk_codes(k: u32) -> [u32; 4] {
    if k <= 6 {
        let d = 2 * (k - 1);
        [1363 + d, 1364 + d, 1465 + d, 1466 + d]
    } else {
        let b = 23800 + 4 * (k - 7);
        [b, b + 1, b + 2, b + 3]
    }
}

/// Key modes (same template): a fixed VPK takes -1 None, 0 Default (its line), 11 BLF; a
/// dynamic VPK -1 None, 1 BLF.
const VPK_FIXED_LINE: &str = "0";
const VPK_FIXED_BLF: u64 = 11;
const VPK_DYNAMIC_BLF: u64 = 1;
const VPK_NONE: &str = "-1";
/// "Description. Max length allowed is 32 characters."
const VPK_DESCRIPTION_MAX: usize = 32;

/// Every VPK of the model, in sequence ("Even if a Dynamic VPK has mode set to None, it
/// should be added in sequence. Skipping one will remove everything after that VPK"): the
/// accounts' own line keys first, then the BLF keys, then the rest reset, so a BLF key
/// deleted here does not stay live on the phone. A fixed VPK not used resets to its line
/// (Default, on account k-1) up to the sixth and to None after it, as the template does.
fn write_vpks<'a>(
    out: &mut String,
    vpk: models::Vpk,
    lines: u32,
    blf: &mut impl Iterator<Item = &'a BlfKey>,
) {
    for k in 1..=u32::from(vpk.count) {
        let [mode, account, description, value] = vpk_codes(k);
        let fixed = k <= u32::from(vpk.fixed);
        let b = if k > lines { blf.next() } else { None };
        if let Some(b) = b {
            p_num_at(
                out,
                mode,
                if fixed {
                    VPK_FIXED_BLF
                } else {
                    VPK_DYNAMIC_BLF
                },
            );
            p_num_at(out, account, blf_account(b));
            let label: String = b
                .effective_label()
                .chars()
                .take(VPK_DESCRIPTION_MAX)
                .collect();
            p_at(out, description, &label);
            p_at(out, value, &b.extension);
        } else if fixed && (k <= lines || k <= 6) {
            p_at(out, mode, VPK_FIXED_LINE);
            p_num_at(out, account, u64::from(k - 1).min(5));
            p_at(out, description, "");
            p_at(out, value, "");
        } else if fixed {
            p_at(out, mode, VPK_NONE);
            p_num_at(out, account, 0);
            p_at(out, description, "");
            p_at(out, value, "");
        } else {
            p_at(out, mode, VPK_NONE);
        }
    }
}

/// Multi-purpose keys 1..24: type, account, name, value P-codes (FusionPBX gxp21xx
/// template: keys 1..7 in the P301..P329 band, keys 8..18 from P353 on; wazo's `base.tpl`
/// writes keys 1..7 with the same codes, `_add_fkeys` in `common/common.py`).
///
/// The GXP213x..2170 write their BLF keys on their VPKs first ([`write_vpks`]), then
/// here on their MPKs. A documented limit: the GRP261x's keys are virtual too (wazo
/// `MODEL_FKEYS`), and the sources read give their VPKs only as version-2 items
/// (`pks.vpk.<n>.*`, wazo `base_v2.tpl`, FusionPBX grp261x template), which a version-1
/// file cannot hold; on them these MPK codes set the physical MPKs where the model has
/// some (GRP2614/2616) and nothing visible where it has none (GRP2612/2613/2615), so the
/// model table gives those three no keys and a layout with a BLF key is refused at save.
const MPKS: [[&str; 4]; 24] = [
    ["P323", "P301", "P302", "P303"],
    ["P324", "P304", "P305", "P306"],
    ["P325", "P307", "P308", "P309"],
    ["P326", "P310", "P311", "P312"],
    ["P327", "P313", "P314", "P315"],
    ["P328", "P316", "P317", "P318"],
    ["P329", "P319", "P320", "P321"],
    ["P353", "P354", "P355", "P356"],
    ["P357", "P358", "P359", "P360"],
    ["P361", "P362", "P363", "P364"],
    ["P365", "P366", "P367", "P368"],
    ["P369", "P370", "P371", "P372"],
    ["P373", "P374", "P375", "P376"],
    ["P377", "P378", "P379", "P380"],
    ["P381", "P382", "P383", "P384"],
    ["P385", "P386", "P387", "P388"],
    ["P389", "P390", "P391", "P392"],
    ["P393", "P394", "P395", "P396"],
    // MPK 19..24 ("MPK 9 - MPK 24 - GXP2160 only"): groups of four from P1440 (FusionPBX
    // version-1 gxp2170 template, commit 0e86cc4d89, `{$start_id=1440}{for $mem=19 to 24}`).
    ["P1440", "P1441", "P1442", "P1443"],
    ["P1444", "P1445", "P1446", "P1447"],
    ["P1448", "P1449", "P1450", "P1451"],
    ["P1452", "P1453", "P1454", "P1455"],
    ["P1456", "P1457", "P1458", "P1459"],
    ["P1460", "P1461", "P1462", "P1463"],
];

/// Writes a POSIX TZ string for P246; quoted names such as `<+03>` become `UTC`, since the
/// phone's parser is not known to take the quoted form.
fn push_posix(out: &mut String, posix: &str) {
    let mut rest = posix;
    while let Some(i) = rest.find('<') {
        escape_into(rest.get(..i).unwrap_or_default(), out);
        out.push_str("UTC");
        rest = match rest.get(i..).and_then(|r| r.find('>')) {
            Some(j) => rest.get(i + j + 1..).unwrap_or_default(),
            None => "",
        };
    }
    escape_into(rest, out);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Tftp,
    Http,
    Https,
}

impl Scheme {
    fn code(self) -> u64 {
        match self {
            Self::Tftp => 0,
            Self::Http => 1,
            Self::Https => 2,
        }
    }
}

/// Splits `scheme://host/path` into the scheme and `host/path` (Grandstream paths carry no
/// scheme; the protocol is a P-code of its own).
fn split_scheme(url: &str) -> (Option<Scheme>, &str) {
    let url = url.trim();
    match url.split_once("://") {
        Some((s, rest)) => {
            let scheme = if s.eq_ignore_ascii_case("https") {
                Some(Scheme::Https)
            } else if s.eq_ignore_ascii_case("http") {
                Some(Scheme::Http)
            } else if s.eq_ignore_ascii_case("tftp") {
                Some(Scheme::Tftp)
            } else {
                None
            };
            (scheme, rest)
        }
        None => (None, url),
    }
}

/// P331 from the phonebook's `host/path`: the folder the phone appends `phonebook.xml` to,
/// with its trailing `/` (FusionPBX gxp16xx template). A path naming another file is
/// written as given: the phone cannot be made to fetch another name.
fn phonebook_folder(path: &str) -> &str {
    match path.strip_suffix(PHONEBOOK_FILE) {
        Some(dir) if dir.ends_with('/') => dir,
        _ => path,
    }
}

/// The directory a firmware image URL points into: the phone asks for its own file name
/// there.
fn firmware_dir(path: &str) -> &str {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    match path.rsplit_once('/') {
        Some((dir, last)) if last.contains('.') => dir,
        _ => path.trim_end_matches('/'),
    }
}

/// The provisioning and firmware P-codes. `P237` "Config Server Path" and `P192`
/// "Firmware Server Path" are `host[:port]/path` without a scheme and without a file name:
/// the phone appends `cfg<mac>.xml` (and its firmware image's own name) to the folder, and
/// takes the protocol from `P212` "Config Upgrade Via. 0 - TFTP Upgrade, 1 - HTTP Upgrade,
/// 2 - HTTPS Upgrade" and `P6767` "Firmware Upgrade Via" (same values); `P238` 0 "Always
/// Check for New Firmware"; `P194` 0 no / 1 every `P193` minutes ("Number: 60-86400")
/// (FusionPBX `grandstream/gxp16xx/{$mac}.xml`, whose `P237` is
/// `{$domain_name}{$project_path}/app/provision`, and `dp750/{$mac}.xml`).
fn write_provisioning(
    out: &mut String,
    server: Option<&str>,
    firmware: Option<&str>,
    poll_minutes: u32,
) {
    let server = server.filter(|u| !u.is_empty()).map(split_scheme);
    let firmware = firmware.filter(|u| !u.is_empty()).map(split_scheme);
    if let Some((_, path)) = server {
        p(out, "P237", path.trim_end_matches('/'));
    }
    // P212 is "upgrade via" for config and firmware on GXP21xx; the config server decides.
    let via = server
        .and_then(|(s, _)| s)
        .or_else(|| firmware.and_then(|(s, _)| s));
    if let Some(s) = via {
        p_num(out, "P212", s.code());
    }
    if let Some((scheme, path)) = firmware {
        p(out, "P192", firmware_dir(path));
        if let Some(s) = scheme {
            p_num(out, "P6767", s.code());
        }
        p_num(out, "P238", 0);
    }
    if poll_minutes == 0 {
        p_num(out, "P194", 0);
    } else {
        p_num(out, "P194", 1);
        p_num(out, "P193", u64::from(poll_minutes.clamp(60, 86_400)));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::pvalue::CONFIG;
    use super::*;
    use crate::error::ErrorKind;
    use crate::inputs::{BlfKey, Language};
    use crate::secret::Secret;
    use crate::tz::TimeZone;
    use crate::vendors::testing;
    use crate::vendors::Vendor;
    use crate::xml::check_well_formed;
    use crate::xml::{Document, Element};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn mac() -> Mac {
        Mac::parse("000b828aa872").unwrap()
    }

    fn line(ext: &str, name: &str) -> Line {
        Line {
            auth_name: format!("a{ext}"),
            password: Secret::from("pw&<x>"),
            ..testing::line(ext, name)
        }
    }

    fn profile() -> Profile {
        testing::profile(
            Vendor::Grandstream,
            "GXP2135",
            "000b828aa872",
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

    fn config_value(s: &str, code: &str) -> Option<String> {
        let doc = Document::parse(s).unwrap();
        doc.root.child(CONFIG)?.child(code).map(Element::text)
    }

    #[test]
    fn user_agents() {
        let ua = |s: &str| Grandstream.parse_user_agent(s);
        let i = ua("Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref(), i.mac),
            (Some("GXP2135"), Some("1.0.7.97"), Some(mac()))
        );
        let i = ua("Grandstream Model HW GXP2170 V2.4B SW 1.0.11.23 DevId c074ad123456").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref()),
            (Some("GXP2170"), Some("1.0.11.23"))
        );
        assert_eq!(i.mac, Mac::from_hex12("c074ad123456"));
        let i = ua("Grandstream Model HW GXV3350  V1.3A SW 1.0.1.8 DevId c074ad150b88").unwrap();
        assert_eq!(i.model.as_deref(), Some("GXV3350"));
        let i =
            ua("Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8")
                .unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref(), i.mac),
            (
                Some("GXP2000"),
                Some("1.2.5.3"),
                Mac::from_hex12("000b822726c8")
            )
        );
        let i = ua("Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10").unwrap();
        assert_eq!(i.model.as_deref(), Some("HT801"));
        let i = ua("Grandstream Model HW GRP2614 SW 1.0.5.15 DevId c074ad0b63ee").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref(), i.mac),
            (
                Some("GRP2614"),
                Some("1.0.5.15"),
                Mac::from_hex12("c074ad0b63ee")
            )
        );
        let i = ua("Grandstream Model HW GRP2601W SW 1.0.7.32 DevId EC:74:D7:89:1A:76").unwrap();
        assert_eq!(i.mac, Mac::from_hex12("ec74d7891a76"));
        // The short (SIP) form: model and firmware, no MAC.
        let i = ua("Grandstream GRP2612W 1.0.5.67").unwrap();
        assert_eq!(
            (i.model.as_deref(), i.firmware.as_deref(), i.mac),
            (Some("GRP2612W"), Some("1.0.5.67"), None)
        );
        let i = ua("Grandstream GXP2170 1.0.11.3").unwrap();
        assert_eq!(i.model.as_deref(), Some("GXP2170"));
        for bad in [
            "",
            "Grandstream",
            "Grandstream ",
            "Grandstream Model HW",
            "Grandstream Model HW GXP<2135 SW 1.0 DevId 000b828aa872",
            "Grandstream Model HW GXP2135 DevId 000b828aa872",
            "grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc",
            "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)",
            "Htek UC926 2.0.4.4.46 00:1f:c1:1c:22:d6",
            "Grandstream Wave",
            "Grandstream GXP2170",
            "Grandstream GXP2170 v1.0",
            "Grandstream GXP2170 SW",
        ] {
            assert_eq!(ua(bad), None, "{bad}");
        }
        let i = ua("Grandstream Model HW GXP2135 SW 1.0.7.97 DevId zz").unwrap();
        assert_eq!(i.mac, None);
        let long = format!(
            "Grandstream Model HW GXP2135 SW 1.0 {} DevId 000b828aa872",
            "x ".repeat(100_000)
        );
        assert_eq!(ua(&long).unwrap().mac, None);
    }

    #[test]
    fn pnp_url_is_a_folder() {
        let v = Vendor::Grandstream;
        assert_eq!(
            v.pnp_url("http://192.0.2.10:8480"),
            "http://192.0.2.10:8480/"
        );
        assert_eq!(
            v.pnp_url("https://edge.example.com/p/tok123"),
            "https://edge.example.com/p/tok123/"
        );
        // Already a folder: unchanged, no double slash.
        assert_eq!(
            v.pnp_url("http://192.0.2.10:8480/"),
            "http://192.0.2.10:8480/"
        );
        // The folder plus the phone's own file name is a path served as its config.
        let folder = v.pnp_url("https://edge.example.com/p/tok123");
        let path = format!(
            "{}{}",
            folder.trim_start_matches("https://edge.example.com"),
            Grandstream.device_file_name(&mac())
        );
        let d = crate::detect::detect(
            &crate::detect::PhoneRequest {
                path: &path,
                ..Default::default()
            },
            &[],
        );
        assert_eq!(
            d.resource,
            crate::detect::Resource::DeviceConfig { mac: mac() }
        );
    }

    #[test]
    fn phonebook_url_round_trips() {
        use crate::detect::{detect, PhoneRequest, Resource};
        let path = Vendor::Grandstream.phonebook_path(&mac());
        assert_eq!(path, "phonebook/000b828aa872/phonebook.xml");
        let mut p = profile();
        p.phonebook_url = Some(format!("http://192.0.2.10:8480/t/abc/{path}"));
        let s = render(&p);
        assert_eq!(config_value(&s, "P330").as_deref(), Some("1"));
        let folder = config_value(&s, "P331").unwrap();
        assert_eq!(folder, "192.0.2.10:8480/t/abc/phonebook/000b828aa872/");
        // What the phone asks for: its folder plus `phonebook.xml`, under the server's root.
        let asked = format!("{folder}{PHONEBOOK_FILE}");
        let asked = asked.strip_prefix("192.0.2.10:8480/t/abc").unwrap();
        let ask = |path: &str| {
            detect(
                &PhoneRequest {
                    path,
                    ..Default::default()
                },
                &[],
            )
            .resource
        };
        assert_eq!(ask(asked), Resource::Phonebook { mac: mac() });
        // A firmware that adds its own `/` (the DP750 template's P331 has none) still lands.
        assert_eq!(
            ask("/phonebook/000b828aa872//phonebook.xml"),
            Resource::Phonebook { mac: mac() }
        );
        // Only the vendors' own file names, under a MAC, are phonebooks.
        for bad in [
            "/phonebook/000b828aa872/other.xml",
            "/phonebook/zz/phonebook.xml",
            "/phonebook/000b828aa872/phonebook.xml/x",
        ] {
            assert_eq!(ask(bad), Resource::NotServed, "{bad}");
        }
        // The other vendors keep the file form.
        assert_eq!(
            Vendor::Yealink.phonebook_path(&mac()),
            crate::detect::phonebook_path(&mac())
        );
        // A path naming some other file is left as it is.
        assert_eq!(phonebook_folder("h/x/book.xml"), "h/x/book.xml");
        assert_eq!(phonebook_folder("h/x/"), "h/x/");
    }

    #[test]
    fn dect_base_assigns_each_account_to_its_handset() {
        let mut p = testing::profile(Vendor::Grandstream, "DP750", "000b828aa872", vec![]);
        // Accounts 1..4: handsets 2, 1, 3 and none; account 5 asks for a handset the base
        // does not have.
        for (ext, name, hs) in [
            ("201", "Alice Example", Some(2)),
            ("202", "Bob", Some(1)),
            ("203", "Carol", Some(3)),
            ("204", "Dan", None),
            ("205", "Eve", Some(9)),
        ] {
            p.lines.push(Line {
                handset: hs,
                ..line(ext, name)
            });
        }
        p.lines[2].server_port = 5080; // only the first line's server is used
        p.blf = vec![BlfKey {
            extension: "300".into(),
            label: String::new(),
            line: 1,
            pickup_prefix: String::new(),
        }];
        let s = render(&p);
        assert_canonical(&s);
        let v = |code: &str| config_value(&s, code);
        // Profile 1 carries the server; no desk-phone account codes, no MPK.
        assert_eq!(v("P271").as_deref(), Some("1"));
        assert_eq!(v("P47").as_deref(), Some("pbx.example.com"));
        assert_eq!(v("P130").as_deref(), Some("0"));
        for absent in ["P35", "P34", "P401", "P323", "P4428"] {
            assert_eq!(v(absent), None, "{absent}");
        }
        // The accounts, in order.
        for (n, ext) in ["201", "202", "203", "204", "205"].iter().enumerate() {
            let at = |base: u32| v(&format!("P{}", base + n as u32));
            assert_eq!(at(4060).as_deref(), Some(*ext));
            assert_eq!(at(4090).as_deref(), Some(&*format!("a{ext}")));
            assert_eq!(at(4120).as_deref(), Some("pw&<x>"));
            assert_eq!(at(4150).as_deref(), Some("0"));
            assert_eq!(at(4595).as_deref(), Some("1"));
        }
        assert_eq!(v("P4180").as_deref(), Some("Alice Example"));
        // Incoming: account N rings only its handset; unassigned ones hunt (101).
        let modes: Vec<String> = (27080..27085)
            .map(|c| v(&format!("P{c}")).unwrap())
            .collect();
        assert_eq!(modes, ["2", "1", "3", "101", "101"]);
        // Outgoing: each handset's first line is its account, the other lines cleared.
        assert_eq!(v("P4300").as_deref(), Some("2"), "HS1 line 1 = account 2");
        assert_eq!(v("P4310").as_deref(), Some("1"), "HS2 line 1 = account 1");
        assert_eq!(v("P4320").as_deref(), Some("3"), "HS3 line 1 = account 3");
        for cleared in ["P4301", "P4309", "P4311", "P4329"] {
            assert_eq!(v(cleared).as_deref(), Some("0"), "{cleared}");
        }
        // Handsets 4 and 5 have no account: no line, no name (not left as they were).
        for none in ["P4250", "P4251", "P21320", "P21327", "P21328", "P21337"] {
            assert_eq!(v(none).as_deref(), Some("0"), "{none}");
        }
        for unnamed in ["P27023", "P27024"] {
            assert_eq!(v(unnamed).as_deref(), Some(""), "{unnamed}");
        }
        // Accounts 6..10 hold no line: inactive and emptied, hunting by default.
        for n in 5u32..10 {
            let at = |base: u32| v(&format!("P{}", base + n));
            assert_eq!(at(4595).as_deref(), Some("0"), "account {}", n + 1);
            for base in [4060, 4090, 4120, 4180] {
                assert_eq!(at(base).as_deref(), Some(""), "P{}", base + n);
            }
            assert_eq!(at(27080).as_deref(), Some("101"));
        }
        assert_eq!(v("P4605"), None, "no 11th account");
        // Handset names: their account's label, at most 10 characters.
        assert_eq!(v("P27020").as_deref(), Some("Bob"));
        assert_eq!(v("P27021").as_deref(), Some("Alice Exam"));
        assert_eq!(v("P27022").as_deref(), Some("Carol"));

        // Two accounts on one handset: both on its lines, in account order.
        p.lines[3].handset = Some(1);
        let s = render(&p);
        assert_eq!(config_value(&s, "P4300").as_deref(), Some("2"));
        assert_eq!(config_value(&s, "P4301").as_deref(), Some("4"));
        assert_eq!(config_value(&s, "P27083").as_deref(), Some("1"));

        // Past the base's 10 accounts nothing is written; no lines, no accounts.
        p.lines = (0..12).map(|i| line(&format!("3{i:02}"), "x")).collect();
        let s = render(&p);
        assert_eq!(config_value(&s, "P4069").as_deref(), Some("309"));
        assert!(!s.contains(">310<") && !s.contains(">311<"));
        p.lines.clear();
        let s = render(&p);
        assert_canonical(&s);
        // No line: profile 1 off, every account off and emptied, every handset lineless.
        assert_eq!(config_value(&s, "P271").as_deref(), Some("0"));
        assert_eq!(config_value(&s, "P47"), None);
        for n in 0u32..10 {
            let at = |base: u32| config_value(&s, &format!("P{}", base + n));
            assert_eq!(at(4595).as_deref(), Some("0"));
            assert_eq!(at(4060).as_deref(), Some(""));
            assert_eq!(at(4120).as_deref(), Some(""));
        }
        for code in DECT_HS_LINES.iter().flatten() {
            assert_eq!(config_value(&s, &format!("P{code}")).as_deref(), Some("0"));
        }
    }

    #[test]
    fn dect_base_unbinding_a_handset_takes_its_account_and_line_away() {
        let mut p = testing::profile(Vendor::Grandstream, "DP750", "000b828aa872", vec![]);
        for (ext, hs) in [("201", 1), ("202", 2), ("203", 3)] {
            p.lines.push(Line {
                handset: Some(hs),
                ..line(ext, &format!("User {ext}"))
            });
        }
        let three = render(&p);
        let v3 = |code: &str| config_value(&three, code);
        assert_eq!(v3("P4597").as_deref(), Some("1"), "account 3 on");
        assert_eq!(v3("P4062").as_deref(), Some("203"));
        assert_eq!(v3("P4320").as_deref(), Some("3"), "handset 3 on account 3");
        // The administrator unbinds handset 3 (its user deleted): two lines left.
        p.lines.truncate(2);
        let two = render(&p);
        assert_canonical(&two);
        let v = |code: &str| config_value(&two, code);
        assert_eq!(v("P4597").as_deref(), Some("0"), "account 3 off");
        for (code, what) in [
            ("P4062", "user ID"),
            ("P4092", "auth ID"),
            ("P4122", "password"),
            ("P4182", "name"),
            ("P27022", "handset 3 name"),
        ] {
            assert_eq!(v(code).as_deref(), Some(""), "{what} emptied");
        }
        assert_eq!(
            v("P27082").as_deref(),
            Some("101"),
            "account 3 rings no handset"
        );
        for code in DECT_HS_LINES[2] {
            assert_eq!(
                v(&format!("P{code}")).as_deref(),
                Some("0"),
                "handset 3: no line"
            );
        }
        assert!(
            !two.contains(">203<"),
            "nothing of the removed user is left"
        );
        // Handsets 1 and 2 keep their accounts.
        assert_eq!(v("P4300").as_deref(), Some("1"));
        assert_eq!(v("P4310").as_deref(), Some("2"));
        assert_eq!(v("P4596").as_deref(), Some("1"));
        // A line left without a handset: its handset gets no line, the account hunts.
        p.lines[1].handset = None;
        let s = render(&p);
        assert_eq!(config_value(&s, "P4310").as_deref(), Some("0"));
        assert_eq!(config_value(&s, "P27081").as_deref(), Some("101"));
        assert_eq!(config_value(&s, "P4596").as_deref(), Some("1"));
    }

    #[test]
    fn every_model_gets_every_key_its_row_counts_and_no_more_is_saved() {
        for m in Vendor::Grandstream.models() {
            let capacity = usize::try_from(m.key_capacity()).unwrap();
            let fits = capacity.saturating_sub(1);
            let keys = |n: usize| -> Vec<BlfKey> {
                (0..n)
                    .map(|i| BlfKey {
                        extension: format!("7{i:03}"),
                        label: format!("K{i}"),
                        line: 1,
                        pickup_prefix: String::new(),
                    })
                    .collect()
            };
            let mut p = profile();
            p.device.model = m.name.into();
            p.blf = keys(fits);
            crate::vendors::check_blf_layout(Vendor::Grandstream, m.name, 1, &p.blf)
                .unwrap_or_else(|e| panic!("{}: {e}", m.name));
            let s = render(&p);
            assert_canonical(&s);
            let doc = Document::parse(&s).unwrap();
            let texts: Vec<String> = doc
                .root
                .child(CONFIG)
                .unwrap()
                .elements()
                .map(Element::text)
                .collect();
            for b in &p.blf {
                assert!(
                    texts.contains(&b.extension),
                    "{}: BLF {} of {fits} is not written",
                    m.name,
                    b.extension
                );
            }
            let e =
                crate::vendors::check_blf_layout(Vendor::Grandstream, m.name, 1, &keys(fits + 1))
                    .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", m.name);
        }
        // The rows the generator bounds: 18 MPKs at most without VPKs, none on the GRPs
        // without physical MPKs, no modules but the GXP2140/2170's.
        let cap = |n: &str| Vendor::Grandstream.model(n).unwrap().key_capacity();
        for (name, keys) in [
            ("GXV3350", 18),
            ("GXV3370", 18),
            ("GXV3380", 18),
            ("GRP2612", 0),
            ("GRP2613", 0),
            ("GRP2615", 0),
            ("GRP2614", 18),
            ("GRP2616", 18),
            ("GXP2140", 16 + 160),
            ("GXP2170", 48 + 160),
            ("GXP2160", 48),
            ("GXP2130", 20),
        ] {
            assert_eq!(cap(name), keys, "{name}");
        }
    }

    #[test]
    fn vpk_models_get_blf_on_their_virtual_keys_and_the_rest_reset() {
        let mut p = profile();
        p.device.model = "GXP2170".into();
        p.blf = [("202", "Bob"), ("203", "Carol")]
            .iter()
            .map(|(ext, label)| BlfKey {
                extension: (*ext).into(),
                label: (*label).into(),
                line: 1,
                pickup_prefix: String::new(),
            })
            .collect();
        let s = render(&p);
        assert_canonical(&s);
        let v = |code: u32| config_value(&s, &format!("P{code}"));
        // VPK 1: account 1's line key.
        assert_eq!((v(1363), v(1364)), (Some("0".into()), Some("0".into())));
        // VPKs 2 and 3 (fixed on a GXP2170): BLF mode 11 on account 1.
        assert_eq!(v(1365).as_deref(), Some("11"));
        assert_eq!(v(1366).as_deref(), Some("0"));
        assert_eq!(v(1467).as_deref(), Some("Bob"));
        assert_eq!(v(1468).as_deref(), Some("202"));
        assert_eq!(v(1367).as_deref(), Some("11"));
        assert_eq!(v(1469).as_deref(), Some("Carol"));
        assert_eq!(v(1470).as_deref(), Some("203"));
        // VPKs 4..6 reset to their line (Default), 7..12 (fixed) to None, 13..48 (dynamic)
        // to None: every one written, in sequence.
        assert_eq!((v(1369), v(1370)), (Some("0".into()), Some("3".into())));
        assert_eq!(v(1373).as_deref(), Some("0"));
        assert_eq!((v(23800), v(23801)), (Some("-1".into()), Some("0".into())));
        assert_eq!(v(23820).as_deref(), Some("-1"), "VPK 12");
        assert_eq!(v(23824).as_deref(), Some("-1"), "VPK 13, dynamic");
        assert_eq!(
            v(23825),
            None,
            "a dynamic VPK set to None carries nothing else"
        );
        assert_eq!(v(23964).as_deref(), Some("-1"), "VPK 48");
        assert_eq!(v(23968), None, "no VPK 49");
        // No MPK codes on a model without MPKs.
        assert_eq!(v(323), None);
        assert_eq!(v(301), None);
        // Its 160 expansion-module keys are all reset to None.
        assert_eq!(v(23000).as_deref(), Some("-1"));
        assert_eq!(v(23795).as_deref(), Some("-1"), "EXT MPK 160");
        assert_eq!(v(23001), None);

        // 50 keys: 47 on VPKs 2..48, then 3 on the expansion module.
        p.blf = testing::blf_keys(50, 400, 2);
        let s = render(&p);
        let v = |code: u32| config_value(&s, &format!("P{code}"));
        assert_eq!(v(23967).as_deref(), Some("446"), "VPK 48 holds key 47");
        assert_eq!(v(23000).as_deref(), Some("1"), "EXT MPK 1: BLF");
        assert_eq!(v(23001).as_deref(), Some("1"), "on account 2");
        assert_eq!(v(23003).as_deref(), Some("447"));
        assert_eq!(v(23013).as_deref(), Some("449"), "EXT MPK 3");
        assert_eq!(v(23015).as_deref(), Some("-1"), "EXT MPK 4 reset");

        // A dynamic VPK takes BLF as 1; past the VPKs, a GXP2160's keys go on its MPKs.
        p.device.model = "GXP2160".into();
        p.blf = testing::blf_keys(30, 300, 1);
        let s = render(&p);
        let v = |code: u32| config_value(&s, &format!("P{code}"));
        assert_eq!(v(1373).as_deref(), Some("11"), "VPK 6 is fixed");
        assert_eq!(v(23800).as_deref(), Some("1"), "VPK 7 is dynamic");
        assert_eq!(v(23803).as_deref(), Some("305"));
        // VPK 24 holds key 23 (index 22); key 24 is the first MPK.
        assert_eq!(v(23800 + 4 * 17 + 3).as_deref(), Some("322"));
        assert_eq!(v(323).as_deref(), Some("1"));
        assert_eq!(v(303).as_deref(), Some("323"));
        assert_eq!(v(321).as_deref(), Some("329"), "MPK 7");
        // The MPKs left are reset, up to the GXP2160's 24th.
        assert_eq!(v(353).as_deref(), Some("-1"), "MPK 8");
        assert_eq!(v(1460).as_deref(), Some("-1"), "MPK 24");
        assert_eq!(v(1461).as_deref(), Some("0"));
        // 47 keys fill its 23 free VPKs and all 24 MPKs.
        p.blf = testing::blf_keys(47, 300, 1);
        let s47 = render(&p);
        assert_eq!(config_value(&s47, "P1463").as_deref(), Some("346"));
        assert_eq!(config_value(&s47, "P1460").as_deref(), Some("1"));
        // A GXP2130 has 8 MPKs: more keys than VPKs + MPKs are dropped, not misplaced.
        p.device.model = "GXP2130".into();
        let s = render(&p);
        let v = |code: u32| config_value(&s, &format!("P{code}"));
        assert_eq!(v(353).as_deref(), Some("1"), "MPK 8");
        assert_eq!(
            v(356).as_deref(),
            Some("318"),
            "11 keys on VPKs 2..12, 8 on MPKs"
        );
        assert_eq!(v(357), None, "a GXP2130 has no MPK 9");
    }

    #[test]
    fn provisioning_paths_carry_no_scheme_and_no_file() {
        let mut p = profile();
        for (url, path, via) in [
            (
                "https://edge.example.com/p/tok123",
                "edge.example.com/p/tok123",
                "2",
            ),
            ("http://192.0.2.10:8480/", "192.0.2.10:8480", "1"),
            ("tftp://192.0.2.10", "192.0.2.10", "0"),
        ] {
            p.provisioning_url = Some(url.into());
            let s = render(&p);
            assert_eq!(config_value(&s, "P237").as_deref(), Some(path), "{url}");
            assert_eq!(config_value(&s, "P212").as_deref(), Some(via), "{url}");
            // The phone's request, folder + its own file name, is its config.
            let asked = format!(
                "{}/{}",
                path.split_once('/').map_or("", |(_, rest)| rest),
                Grandstream.device_file_name(&mac())
            );
            let d = crate::detect::detect(
                &crate::detect::PhoneRequest {
                    path: &asked,
                    ..Default::default()
                },
                &[],
            );
            assert_eq!(
                d.resource,
                crate::detect::Resource::DeviceConfig { mac: mac() },
                "{asked}"
            );
        }
        p.firmware_url = Some("https://p.example.com/firmware/grandstream/gxp2135fw.bin".into());
        let s = render(&p);
        assert_eq!(
            config_value(&s, "P192").as_deref(),
            Some("p.example.com/firmware/grandstream")
        );
        assert_eq!(config_value(&s, "P6767").as_deref(), Some("2"));
    }

    #[test]
    fn mpk_table() {
        for (i, codes) in MPKS.iter().enumerate() {
            let k = i as u32 + 1;
            let want = if k <= 7 {
                let base = 301 + 3 * (k - 1);
                [322 + k, base, base + 1, base + 2]
            } else if k <= 18 {
                let base = 353 + 4 * (k - 8);
                [base, base + 1, base + 2, base + 3]
            } else {
                let base = 1440 + 4 * (k - 19);
                [base, base + 1, base + 2, base + 3]
            };
            assert_eq!(
                codes.map(|c| c.to_owned()),
                want.map(|n| format!("P{n}")),
                "key {k}"
            );
        }
        for row in ACCOUNTS {
            assert!(row.iter().all(|c| crate::vendors::is_pcode(c)));
        }
    }

    #[test]
    fn file_names() {
        let dev = Some(PathMatch::DeviceConfig { mac: mac() });
        assert_eq!(Grandstream.classify_file("cfg000b828aa872.xml"), dev);
        assert_eq!(Grandstream.classify_file("cfg000B828AA872.xml"), dev);
        assert_eq!(
            Grandstream.classify_file("cfg.xml"),
            Some(PathMatch::Common { model: None })
        );
        assert_eq!(
            Grandstream.classify_file("cfggxp2170.xml"),
            Some(PathMatch::Common {
                model: Some("GXP2170".into())
            })
        );
        for bad in [
            "",
            "cfg000b828aa872",
            "cfg",
            "cfg000b828aa87.xml",
            "cfg000b828aa8721.xml",
            "cfgabcdef12345.xml",
            "CFG000b828aa872.xml",
            "cfg000b828aa872.cfg",
            "cfg000b828aa872.XML",
            "000b828aa872.xml",
            "001565aabbcc.cfg",
            "snomD785.htm",
            "cfg0001.xml",
            "cfg gxp.xml",
        ] {
            assert_eq!(Grandstream.classify_file(bad), None, "{bad}");
        }
        // A MAC written with separators is the same phone's file (detect joins them).
        for asked in ["cfg00:0b:82:8a:a8:72.xml", "cfg00-0B-82-8A-A8-72.xml"] {
            let d = crate::detect::detect(
                &crate::detect::PhoneRequest {
                    path: asked,
                    ..Default::default()
                },
                &[],
            );
            assert_eq!(
                d.resource,
                crate::detect::Resource::DeviceConfig { mac: mac() },
                "{asked}"
            );
        }
        assert_eq!(Grandstream.device_file_name(&mac()), "cfg000b828aa872.xml");
        assert_eq!(
            Grandstream.classify_file(&Grandstream.device_file_name(&mac())),
            dev
        );
    }

    #[test]
    fn reference_body() {
        let s = render(&profile());
        assert_canonical(&s);
        assert!(s.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n  <mac>000b828aa872</mac>\n  <config version=\"1\">\n"
        ));
        for (code, want) in [
            ("P271", "1"),
            ("P270", "Irina Smirnova"),
            ("P47", "pbx.example.com"),
            ("P35", "203"),
            ("P36", "a203"),
            ("P34", "pw&<x>"),
            ("P3", "Irina Smirnova"),
            ("P33", "*001"),
            ("P130", "0"),
            ("P26015", "1"),
            ("P4428", "1"),
            ("P194", "1"),
            ("P193", "1440"),
        ] {
            assert_eq!(config_value(&s, code).as_deref(), Some(want), "{code}");
        }
        assert!(s.contains("<P34>pw&amp;&lt;x&gt;</P34>"));
        assert_eq!(
            config_value(&s, "P192"),
            None,
            "no firmware when none is assigned"
        );
        assert_eq!(s, render(&profile()));
    }

    #[test]
    fn full_profile() {
        let mut p = profile();
        // A model whose keys are multi-purpose keys (the VPK models have their own test).
        p.device.model = "GXP1630".into();
        let mut l2 = line("204", "Second");
        l2.server_port = 5080;
        l2.transport = Transport::Tls;
        l2.label = "Sales".into();
        p.lines.push(l2);
        p.blf = (0..20)
            .map(|i| BlfKey {
                extension: format!("3{i:02}"),
                label: if i == 0 { "Anna".into() } else { String::new() },
                line: if i == 1 { 2 } else { 1 },
                pickup_prefix: "*8".into(),
            })
            .collect();
        p.ntp_server = Some("pool.ntp.org".into());
        p.timezone = Some(TimeZone::from_name("Europe/Istanbul").unwrap());
        p.language = Some(Language::De);
        p.phonebook_url = Some(format!(
            "https://p.example.com/{}",
            Vendor::Grandstream.phonebook_path(&mac())
        ));
        p.firmware_url = Some("https://p.example.com/firmware/grandstream/gxp2135fw.bin".into());
        p.provisioning_url = Some("https://p.example.com/t/abc/".into());
        p.poll_interval_minutes = 30;
        let s = render(&p);
        assert_canonical(&s);
        for (code, want) in [
            ("P401", "1"),
            ("P417", "Sales"),
            ("P402", "pbx.example.com:5080"),
            ("P404", "204"),
            ("P405", "a204"),
            ("P406", "pw&<x>"),
            ("P407", "Second"),
            ("P426", "*001"),
            ("P448", "2"),
            ("P26115", "1"),
            ("P30", "pool.ntp.org"),
            ("P64", "customize"),
            ("P246", "UTC-3"),
            ("P1362", "de"),
            ("P237", "p.example.com/t/abc"),
            ("P212", "2"),
            ("P192", "p.example.com/firmware/grandstream"),
            ("P6767", "2"),
            ("P238", "0"),
            ("P194", "1"),
            ("P193", "60"),
            ("P330", "3"),
            ("P331", "p.example.com/phonebook/000b828aa872/"),
            ("P332", "30"),
            ("P1347", "*8"),
            ("P323", "1"),
            ("P301", "0"),
            ("P302", "Anna"),
            ("P303", "300"),
            ("P324", "1"),
            ("P304", "1"),
            ("P305", "301"),
            ("P306", "301"),
            ("P329", "1"),
            ("P321", "306"),
            ("P353", "1"),
            ("P356", "307"),
            ("P396", "317"),
        ] {
            assert_eq!(config_value(&s, code).as_deref(), Some(want), "{code}\n{s}");
        }
        // Keys past the 18th have no P-codes.
        assert!(!s.contains(">318<"));
        p.timezone = Some(TimeZone::from_name("Europe/Berlin").unwrap());
        assert_eq!(
            config_value(&render(&p), "P246").as_deref(),
            Some("CET-1CEST,M3.5.0,M10.5.0/3")
        );
        p.timezone = Some(TimeZone::from_name("Atlantic/Azores").unwrap());
        assert_eq!(
            config_value(&render(&p), "P246").as_deref(),
            Some("UTC1UTC,M3.5.0/0,M10.5.0/1")
        );
        // Seven lines: the seventh has no P-codes and is left out.
        p.lines = (0..7).map(|i| line(&format!("2{i}"), "x")).collect();
        let s = render(&p);
        assert_eq!(config_value(&s, "P1804").as_deref(), Some("25"));
        assert!(!s.contains(">26<"));
    }

    #[test]
    fn no_lines_is_valid() {
        let mut p = profile();
        p.lines.clear();
        p.poll_interval_minutes = 0;
        let s = render(&p);
        assert_canonical(&s);
        assert_eq!(config_value(&s, "P271"), None);
        assert_eq!(config_value(&s, "P194").as_deref(), Some("0"));
    }

    #[test]
    fn hostile_values_stay_inert() {
        let mut p = profile();
        p.device.model = "GXP1630".into();
        p.lines[0].display_name = "A\n</P3><P34>x</P34>&'\"".into();
        p.blf = vec![BlfKey {
            extension: "<P2>admin</P2>".into(),
            label: "\r\n".into(),
            line: 0,
            pickup_prefix: String::new(),
        }];
        let s = render(&p);
        assert_canonical(&s);
        let doc = Document::parse(&s).unwrap();
        let cfg = doc.root.child(CONFIG).unwrap();
        assert_eq!(cfg.elements().filter(|e| e.name == "P34").count(), 1);
        assert!(cfg.child("P2").is_none());
        assert_eq!(cfg.child("P3").unwrap().text(), "A </P3><P34>x</P34>&'\"");
        assert_eq!(cfg.child("P301").unwrap().text(), "0");
    }

    #[test]
    fn overlay_merges_in_place() {
        let base = render(&profile());
        let doc_over = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n  <config version=\"1\">\n    <P3>Boss</P3>\n    <P8>1</P8>\n  </config>\n</gs_provision>\n";
        let out = Grandstream.overlay(&base, doc_over).unwrap();
        assert_canonical(&out);
        let doc = Document::parse(&out).unwrap();
        let cfg = doc.root.child(CONFIG).unwrap();
        let names: Vec<&str> = cfg.elements().map(|e| e.name.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(pos("P3") < pos("P33"), "overridden in place");
        assert_eq!(*names.last().unwrap(), "P8");
        assert_eq!(cfg.child("P3").unwrap().text(), "Boss");
        assert_eq!(
            Grandstream
                .overlay(&base, doc_over.split_once('\n').unwrap().1)
                .unwrap(),
            out
        );
        let bare = Grandstream
            .overlay(&base, "<P3>Boss</P3>\n<P8>1</P8>\n")
            .unwrap();
        assert_eq!(bare, out);
        // Version-2 items are keyed by their name attribute.
        let v2 = Grandstream
            .overlay(&base, "<item name=\"a.b\">1</item>\n<item name=\"a.c\">2</item>\n<item name=\"a.b\">3</item>")
            .unwrap();
        let doc = Document::parse(&v2).unwrap();
        let items: Vec<String> = doc
            .root
            .child(CONFIG)
            .unwrap()
            .elements()
            .filter(|e| e.name == "item")
            .map(Element::text)
            .collect();
        assert_eq!(items, ["3", "2"]);
    }

    #[test]
    fn overlay_errors_carry_the_line() {
        let base = render(&profile());
        for (over, line) in [
            ("<P3>a</P3>\n<P4>b</P5>\n", 2),
            ("<P3>a</P3>\nP4 = 1\n", 2),
            ("\n\n<P3 x=>a</P3>", 3),
        ] {
            let e = Grandstream.overlay(&base, over).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidXml, "{over}");
            assert_eq!(e.line(), Some(line), "{over}: {e}");
        }
        assert!(Grandstream
            .overlay(&base, "<?xml version=\"1.0\"?><settings/>")
            .is_err());
        assert!(Grandstream.overlay("<settings/>", "<P3>a</P3>").is_err());
    }

    #[test]
    fn params_merge() {
        let base = render(&profile());
        let parsed = crate::params::AdditionalParams::parse(
            "[grandstream]\n<P3>caller</P3>\nP30 = ntp.example.com\n",
        )
        .unwrap();
        let params = parsed.for_vendor(Vendor::Grandstream);
        let out = Grandstream.apply_params(&base, &params).unwrap();
        assert_canonical(&out);
        assert_eq!(config_value(&out, "P3").as_deref(), Some("caller"));
        assert_eq!(
            config_value(&out, "P30").as_deref(),
            Some("ntp.example.com")
        );
        let bad = Param {
            section: Section::Grandstream,
            line: 4,
            key: "foo".into(),
            value: "1".into(),
            attrs: Vec::new(),
            raw_xml: None,
        };
        let e = Grandstream
            .apply_params(&base, &[params[0], &bad])
            .unwrap_err();
        assert_eq!((e.kind(), e.line()), (ErrorKind::InvalidParams, Some(4)));
        let raw = Param {
            key: "P3".into(),
            raw_xml: Some("<P3><x></P3>".into()),
            ..bad.clone()
        };
        assert_eq!(
            Grandstream.apply_params(&base, &[&raw]).unwrap_err().line(),
            Some(4)
        );
    }

    #[test]
    fn common_file() {
        let ctx = CommonContext {
            model: Some("GXP2170"),
            base_url: Some("http://p.example.com/t/abc"),
            firmware_url: Some("http://p.example.com/firmware/grandstream/gxp2170fw.bin"),
            poll_interval_minutes: 1440,
            mac: None,
        };
        let mut s = String::new();
        Grandstream.write_common("cfg.xml", &ctx, &mut s);
        assert_canonical(&s);
        assert_eq!(
            config_value(&s, "P237").as_deref(),
            Some("p.example.com/t/abc")
        );
        assert_eq!(config_value(&s, "P212").as_deref(), Some("1"));
        assert_eq!(
            config_value(&s, "P192").as_deref(),
            Some("p.example.com/firmware/grandstream")
        );
        assert!(!s.contains("P34") && !s.contains("<mac>"));
        let mut e = String::new();
        Grandstream.write_common("cfg.xml", &CommonContext::default(), &mut e);
        assert_canonical(&e);
    }

    #[test]
    fn phonebook() {
        let contacts = vec![
            Contact {
                name: "Zed <&>".into(),
                number: "200".into(),
            },
            Contact {
                name: "Anna".into(),
                number: "100\"".into(),
            },
        ];
        let mut s = String::new();
        Grandstream.write_phonebook("Co", &contacts, &mut s);
        assert_canonical(&s);
        let doc = Document::parse(&s).unwrap();
        let names: Vec<String> = doc
            .root
            .elements()
            .map(|c| c.child("FirstName").unwrap().text())
            .collect();
        assert_eq!(names, ["Zed <&>", "Anna"]);
        let phone = doc.root.elements().nth(1).unwrap().child("Phone").unwrap();
        assert_eq!(phone.child("phonenumber").unwrap().text(), "100\"");
        let mut e = String::new();
        Grandstream.write_phonebook("", &[], &mut e);
        assert_canonical(&e);
        assert_eq!(Grandstream.firmware_extensions(), [".bin"]);
    }
}
