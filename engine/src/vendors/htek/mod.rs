//! Htek (Hanlong) UC8xx/UC9xx phones.
//!
//! What the phones send and request:
//! - User-Agent `Htek <model> <firmware> <mac with colons>`, e.g. `Htek UC903 2.0.4.2
//!   00:1f:c1:1c:22:a9` (wazo-provd-plugins `plugins/wazo_htek/common/common.py`).
//! - At boot, in this order, stopping at the first file found: `factory000x.bin` (Htek's
//!   factory use only), the per-model `cfg00NN.xml`, `<mac>.cfg`, `cfg<mac>` (a proprietary
//!   encrypted binary) and `cfg<mac>.xml` (Htek wiki "UC900 Series IP Phones Provisioning"
//!   and "Htek RPS Work Process", htekdesk.atlassian.net). MAC lowercase. Device codes:
//!   0010 UC926, 0012 UC924, 0013 UC923, 0016 UC903, 0017 UC902, 0019 UC912/UC912G/UC912E
//!   (wazo `v2_0_4_6_41/entry.py`).
//! - The XML files are `<hl_provision version="1"><config version="1"><Pnnn para=...>`
//!   P-codes (wazo `templates/*.tpl`, FusionPBX `resources/templates/provision/htek/`).
//!
//! What we serve: the `key = value` syntax the issue asks for (first line
//! `#!version:1.0.0.1`, Yealink-style keys), under `<mac>.cfg`, the name in the phone's own
//! request sequence that is not XML, and `cfg<mac>.cfg` (the name MikoPBX's module writes).
//! The XML names (`cfg00NN.xml`, `cfg<mac>.xml`), `cfg<mac>` (binary) and
//! `factory000x.bin` are not served: a 404 moves the phone on to the next name, and an
//! XML-only firmware could not parse this syntax anyway.
//!
//! Keys: the account block follows MikoPBX's Htek generator (mikopbx/ModuleAutoprovision
//! `Lib/AutoprovisionHtek.php`: `account.N.active`, `.sip_server.host/.port`,
//! `.transport`, `.voice_mail.number`, `.codec.1.*`, `auto_provision.dhcp_option.enable`,
//! `features.intercom.*`, `features.dtmf.transfer`); the firmware line is
//! `auto_image_url` (MikoPBX module documentation). No public Htek reference for the
//! key = value names of BLF keys, time, language, phonebook, polling and check-sync was
//! found: those use the Yealink names and are marked `verify:`.
//!
//! Phonebook: Htek's remote phonebook XML `<PhoneDirectory>` with
//! `<DirectoryEntry><Name/><Telephone/></DirectoryEntry>` (FusionPBX
//! `htek/uc926/phonebook.xml`); the format has no title element, so the title is not
//! written.

pub(crate) mod account;
mod models;
pub(crate) mod rps;

use crate::detect::{PathMatch, UaInfo};
use crate::error::Result;
use crate::inputs::{Contact, Line, Profile};
use crate::mac::Mac;
use crate::params::{Param, Section};
use crate::vendors::yealink::{
    is_model_name, language_name, push_n, push_n_u32, push_poll, push_server_url, push_u32,
    push_xml_text, transport_code, write_time_zone,
};
use crate::vendors::{
    kv, CheckSyncEvents, CommonContext, ConfigSyntax, Facts, ParamSection, PnpUrlForm, RpsApi,
    RpsCode, VendorModule,
};

/// Htek's facts. OUI: Hanlong Technology, the maker of Htek phones (IEEE registry).
/// Check-sync: the Yealink pair (Htek's firmware follows Yealink's here). verify: Htek
/// docs. RPS: no API; registration is manual in Htek's portal (RPS.md).
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
};

/// Htek's redirection-service code: its PortSIP section, and the steps to register a phone
/// by hand in Htek's portal.
pub(crate) const RPS_CODE: RpsCode = RpsCode {
    ini: account::INI,
    manual_instructions: Some(rps::htek_instructions),
};

/// Htek's module.
pub(crate) struct Htek;

impl VendorModule for Htek {
    fn syntax(&self) -> ConfigSyntax {
        ConfigSyntax::KeyValue
    }

    fn parse_user_agent(&self, ua: &str) -> Option<UaInfo> {
        parse_ua(ua)
    }

    fn classify_file(&self, file: &str) -> Option<PathMatch> {
        // Only the key = value names. The XML names (`cfg00NN.xml`, `cfg<mac>.xml`) need
        // P-code XML, which is not this syntax; and one version of Htek's wiki says the
        // phone stops at the first file it finds, so answering `cfg00NN.xml` could keep it
        // from ever asking for `<mac>.cfg`. A 404 moves it on to the next name.
        let stem = file.strip_suffix(".cfg")?;
        let id = stem.strip_prefix("cfg").unwrap_or(stem);
        Mac::from_hex12(id).map(|mac| PathMatch::DeviceConfig { mac })
    }

    fn device_file_name(&self, mac: &Mac) -> String {
        let mut s = mac.to_lower_hex();
        s.push_str(".cfg");
        s
    }

    fn write_config(&self, profile: &Profile, out: &mut String) {
        write_htek_config(profile, out);
    }

    fn write_common(&self, _file: &str, common: &CommonContext<'_>, out: &mut String) {
        // No Htek name is classified as common (see `classify_file`); should one be, it
        // gets the site-wide, secret-free part of the config in the same syntax.
        out.push_str("#!version:1.0.0.1\n");
        if let Some(fw) = common.firmware_url.filter(|u| !u.is_empty()) {
            kv::push(out, "auto_image_url", fw);
        }
        if let Some(base) = common.base_url.filter(|u| !u.is_empty()) {
            push_server_url(out, "auto_provision.server.url", base);
        }
        push_poll(out, "auto_provision.repeat", common.poll_interval_minutes);
    }

    fn overlay(&self, config: &str, overlay: &str) -> Result<String> {
        kv::overlay(config, overlay, Section::Htek)
    }

    fn apply_params(&self, config: &str, params: &[&Param]) -> Result<String> {
        Ok(kv::apply_params(config, params))
    }

    fn write_phonebook(&self, _title: &str, contacts: &[Contact], out: &mut String) {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PhoneDirectory>\n");
        for c in contacts {
            out.push_str("  <DirectoryEntry>\n");
            push_xml_text(out, "    ", "Name", &c.name);
            push_xml_text(out, "    ", "Telephone", &c.number);
            out.push_str("  </DirectoryEntry>\n");
        }
        out.push_str("</PhoneDirectory>\n");
    }

    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[".rom", ".bin"]
    }
}

fn parse_ua(ua: &str) -> Option<UaInfo> {
    if ua.len() > 256 {
        return None;
    }
    let mut tokens = ua.split_whitespace();
    if !tokens.next()?.eq_ignore_ascii_case("htek") {
        return None;
    }
    let model = tokens.next().filter(|m| is_model_name(m))?;
    let fw = tokens.next().filter(|f| {
        f.len() <= 32
            && f.bytes().any(|b| b.is_ascii_digit())
            && f.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    })?;
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

fn write_htek_config(p: &Profile, out: &mut String) {
    out.push_str("#!version:1.0.0.1\n");
    for (i, line) in p.lines.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        write_account(out, n, line);
    }
    out.push_str(
        "auto_provision.dhcp_option.enable = 0\n\
         features.intercom.allow = 1\n\
         features.intercom.mute = 0\n\
         features.intercom.tone = 1\n\
         features.dtmf.transfer = ##\n",
    );
    // verify: the Yealink check-sync switch; no Htek key = value reference found.
    out.push_str("sip.notify_reboot_enable = 0\n");
    // verify: BLF keys with Yealink's linekey names and type code 16.
    let first = u32::try_from(p.lines.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    for (i, b) in p.blf.iter().enumerate() {
        let k = first.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        push_n(out, "linekey.", k, ".type", "16");
        push_n_u32(out, "linekey.", k, ".line", u32::from(b.line.max(1)));
        push_n(out, "linekey.", k, ".value", &b.extension);
        push_n(out, "linekey.", k, ".label", b.effective_label());
        if !b.pickup_prefix.is_empty() {
            push_n(out, "linekey.", k, ".pickup_value", &b.pickup_prefix);
        }
    }
    // verify: phonebook, time and language use the Yealink names.
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
        write_time_zone(out, tz, None);
    }
    if let Some(lang) = p.language {
        let name = language_name(lang);
        kv::push(out, "lang.gui", name);
        kv::push(out, "lang.wui", name);
    }
    if let Some(fw) = p.firmware_url.as_deref().filter(|u| !u.is_empty()) {
        kv::push(out, "auto_image_url", fw);
    }
    // verify: provisioning server and poll with Yealink's names, without `static.`.
    if let Some(url) = p.provisioning_url.as_deref().filter(|u| !u.is_empty()) {
        push_server_url(out, "auto_provision.server.url", url);
    }
    push_poll(out, "auto_provision.repeat", p.poll_interval_minutes);
}

fn write_account(out: &mut String, n: u32, l: &Line) {
    const A: &str = "account.";
    push_n(out, A, n, ".active", "1");
    push_n(out, A, n, ".label", l.effective_label());
    push_n(out, A, n, ".display_name", &l.display_name);
    push_n(out, A, n, ".auth_name", &l.auth_name);
    push_n(out, A, n, ".user_name", &l.extension);
    push_n(out, A, n, ".password", l.password.expose());
    push_n(out, A, n, ".sip_server.host", &l.server_host);
    out.push_str(A);
    push_u32(out, n);
    out.push_str(".sip_server.port = ");
    push_u32(out, u32::from(l.server_port));
    out.push('\n');
    push_n(out, A, n, ".transport", transport_code(l.transport));
    push_n(out, A, n, ".voice_mail.number", &l.voicemail);
    push_n(out, A, n, ".codec.1.enable", "1");
    push_n(out, A, n, ".codec.1.payload_type", "PCMU");
    push_n(out, A, n, ".codec.1.priority", "1");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{BlfKey, Language};
    use crate::params::AdditionalParams;
    use crate::tz::TimeZone;
    use crate::vendors::testing;
    use crate::vendors::Vendor;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn mac(s: &str) -> Mac {
        Mac::parse(s).unwrap()
    }

    fn line(ext: &str, name: &str) -> Line {
        Line {
            password: crate::secret::Secret::from("pw"),
            server_host: "10.0.0.1".into(),
            ..testing::line(ext, name)
        }
    }

    fn profile() -> Profile {
        testing::profile(
            Vendor::Htek,
            "UC926",
            "001fc11c22a9",
            vec![line("204", "Irina")],
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
        let i = Htek
            .parse_user_agent("Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9")
            .unwrap();
        assert_eq!(i.model.as_deref(), Some("UC903"));
        assert_eq!(i.firmware.as_deref(), Some("2.0.4.2"));
        assert_eq!(i.mac, Some(mac("001fc11c22a9")));
        let i = Htek
            .parse_user_agent("Htek UC926 2.0.4.6.41 001fc1aabbcc")
            .unwrap();
        assert_eq!(
            (i.model.as_deref(), i.mac),
            (Some("UC926"), Some(mac("001fc1aabbcc")))
        );
        let i = Htek.parse_user_agent("Htek UC912G 2.0.4.4.58").unwrap();
        assert_eq!(i.mac, None);
        let long = format!("Htek UC903 {}", "1".repeat(5000));
        for bad in [
            "",
            "Htek",
            "Htek UC903",
            "Htek UC903 beta 00:1f:c1:1c:22:a9",
            "Htekk UC903 2.0.4.2",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc",
            "Fanvil X4U 2.12.1 0c383e112233",
            "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82aabbcc",
            long.as_str(),
        ] {
            assert_eq!(Htek.parse_user_agent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn file_names() {
        let c = |f: &str| Htek.classify_file(f);
        let dev = Some(PathMatch::DeviceConfig {
            mac: mac("001fc11c22a9"),
        });
        for name in [
            "001fc11c22a9.cfg",
            "cfg001fc11c22a9.cfg",
            "001FC11C22A9.cfg",
        ] {
            assert_eq!(c(name), dev, "{name}");
        }
        for bad in [
            "cfg001fc11c22a9.xml",
            "cfg0010.xml",
            "cfg0016.xml",
            "cfg001fc11c22a9",
            "factory0001.bin",
            "cfg001.xml",
            "cfg00100.xml",
            "cfg001fc11c22a.xml",
            "cfg001fc11c22a9.XML",
            "001fc11c22a9.xml",
            "y000000000066.cfg",
            "cfgy00000000006.cfg",
            "snom320.htm",
            "",
        ] {
            assert_eq!(c(bad), None, "{bad:?}");
        }
        assert_eq!(
            Htek.device_file_name(&mac("00:1F:C1:1C:22:A9")),
            "001fc11c22a9.cfg"
        );
    }

    #[test]
    fn config() {
        let mut p = profile();
        p.lines.push(line("205", "Two"));
        p.blf.push(BlfKey {
            extension: "301".into(),
            label: "Anna".into(),
            line: 2,
            pickup_prefix: "*8".into(),
        });
        p.ntp_server = Some("pool.ntp.org".into());
        p.timezone = Some(TimeZone::from_name("Europe/Moscow").unwrap());
        p.language = Some(Language::Ru);
        p.phonebook_url = Some("http://pbx/phonebook/001fc11c22a9.xml".into());
        p.firmware_url = Some("http://pbx/firmware/htek/uc926.rom".into());
        p.provisioning_url = Some("http://pbx/p/".into());
        let cfg = render(&p);
        assert!(cfg.starts_with("#!version:1.0.0.1\n"));
        let v = |k: &str| value(&cfg, k);
        for (k, want) in [
            ("account.1.active", "1"),
            ("account.1.label", "Irina"),
            ("account.1.display_name", "Irina"),
            ("account.1.auth_name", "204"),
            ("account.1.user_name", "204"),
            ("account.1.password", "pw"),
            ("account.1.sip_server.host", "10.0.0.1"),
            ("account.1.sip_server.port", "5060"),
            ("account.1.transport", "0"),
            ("account.1.voice_mail.number", "*001"),
            ("account.1.codec.1.payload_type", "PCMU"),
            ("account.2.user_name", "205"),
            ("auto_provision.dhcp_option.enable", "0"),
            ("features.intercom.allow", "1"),
            ("sip.notify_reboot_enable", "0"),
            ("linekey.3.type", "16"),
            ("linekey.3.line", "2"),
            ("linekey.3.value", "301"),
            ("linekey.3.pickup_value", "*8"),
            ("local_time.ntp_server1", "pool.ntp.org"),
            ("local_time.time_zone", "+3"),
            ("local_time.summer_time", "0"),
            ("lang.gui", "Russian"),
            (
                "remote_phonebook.data.1.url",
                "http://pbx/phonebook/001fc11c22a9.xml",
            ),
            ("auto_image_url", "http://pbx/firmware/htek/uc926.rom"),
            ("auto_provision.server.url", "http://pbx/p/"),
            ("auto_provision.repeat.enable", "1"),
            ("auto_provision.repeat.minutes", "1440"),
        ] {
            assert_eq!(v(k), Some(want), "{k}\n{cfg}");
        }
        assert_eq!(cfg, render(&p));
        let mut empty = profile();
        empty.lines.clear();
        let e = render(&empty);
        assert!(!e.contains("account.") && !e.contains("auto_image_url"));
        assert!(e.lines().skip(1).all(|l| kv::line_key(l).is_some()));
    }

    #[test]
    fn hostile_values_stay_inert() {
        let mut p = profile();
        if let Some(l) = p.lines.first_mut() {
            l.display_name = "A\nauto_image_url = http://evil/".into();
        }
        let cfg = render(&p);
        assert_eq!(value(&cfg, "auto_image_url"), None);
        assert!(cfg.lines().skip(1).all(|l| kv::line_key(l).is_some()));
    }

    #[test]
    fn overlay_and_params() {
        let cfg = render(&profile());
        let out = Htek
            .overlay(&cfg, "account.1.label = Desk\nx.y = 1\n")
            .unwrap();
        assert_eq!(value(&out, "account.1.label"), Some("Desk"));
        assert!(out.ends_with("x.y = 1\n"));
        assert_eq!(
            Htek.overlay(&cfg, "ok = 1\nbroken\n").unwrap_err().line(),
            Some(2)
        );
        let params =
            AdditionalParams::parse("[htek]\nlang.gui = German\n[yealink]\nlang.gui = French\n")
                .unwrap();
        let out = Htek
            .apply_params(&cfg, &params.for_vendor(Vendor::Htek))
            .unwrap();
        assert_eq!(value(&out, "lang.gui"), Some("German"));
    }

    #[test]
    fn common_file() {
        let ctx = CommonContext {
            base_url: Some("http://pbx:8480/p"),
            firmware_url: Some("http://pbx:8480/fw/uc926.rom"),
            poll_interval_minutes: 60,
            ..Default::default()
        };
        let mut s = String::new();
        Htek.write_common("x", &ctx, &mut s);
        assert!(s.starts_with("#!version:1.0.0.1\n"), "{s}");
        assert!(
            s.contains("auto_image_url = http://pbx:8480/fw/uc926.rom\n"),
            "{s}"
        );
        assert!(
            s.contains("auto_provision.server.url = http://pbx:8480/p/\n"),
            "{s}"
        );
        assert!(!s.contains("password"), "{s}");
    }

    #[test]
    fn phonebook() {
        let contacts = [
            Contact {
                name: "B <&>".into(),
                number: "2".into(),
            },
            Contact {
                name: "A\u{1}".into(),
                number: "1".into(),
            },
        ];
        let mut s = String::new();
        Htek.write_phonebook("T", &contacts, &mut s);
        crate::xml::check_well_formed(&s).unwrap();
        assert_eq!(crate::xml::Document::parse(&s).unwrap().to_xml(), s);
        assert!(s.contains("<Name>B &lt;&amp;&gt;</Name>"));
        assert!(s.find("B &lt;").unwrap() < s.find("<Name>A").unwrap());
        assert_eq!(Htek.firmware_extensions(), [".rom", ".bin"]);
    }
}
