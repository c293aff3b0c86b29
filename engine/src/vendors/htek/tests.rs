use std::sync::Arc;

use super::*;
use crate::inputs::BlfKey;
use crate::params::AdditionalParams;
use crate::template::{Composition, Renderer, Template, TemplateStyle};
use crate::vendors::testing;
use crate::xml::Document;
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

/// The text of `<Pcode>` in an Htek XML config.
fn p(cfg: &str, code: u32) -> Option<String> {
    let doc = Document::parse(cfg).unwrap();
    assert_eq!(doc.root.name, "hl_provision");
    let name = format!("P{code}");
    let found = doc
        .root
        .child("config")?
        .elements()
        .find(|e| e.name == name)
        .map(|e| e.text());
    found
}

fn kv_value<'a>(cfg: &'a str, key: &str) -> Option<&'a str> {
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
        .parse_user_agent("Htek UC926 2.0.4.2 00:1f:c1:00:00:00")
        .unwrap();
    assert_eq!(
        (i.model.as_deref(), i.mac),
        (Some("UC926"), Some(mac("001fc1000000")))
    );
    // Current firmware versions carry letters (2.42.6.5.45R14, a UC902G's status page).
    let i = Htek
        .parse_user_agent("Htek UC902G 2.42.6.5.45R14 00:1f:c1:21:cf:23")
        .unwrap();
    assert_eq!(
        (i.model.as_deref(), i.firmware.as_deref()),
        (Some("UC902G"), Some("2.42.6.5.45R14"))
    );
    let i = Htek.parse_user_agent("Htek UC912G 2.0.4.4.58").unwrap();
    assert_eq!(i.mac, None);
    // An Htek-made phone under another brand: recognised by Htek's OUI.
    let i = Htek
        .parse_user_agent("Acme S505 2.0.4.6.41 00:1f:c1:aa:bb:cc")
        .unwrap();
    assert_eq!(
        (i.model.as_deref(), i.firmware.as_deref(), i.mac),
        (Some("S505"), Some("2.0.4.6.41"), Some(mac("001fc1aabbcc")))
    );
    let i = Htek.parse_user_agent("VoIP Phone 001fc1aabbcc").unwrap();
    assert_eq!((i.model, i.mac), (None, Some(mac("001fc1aabbcc"))));
    let long = format!("Htek UC903 {}", "1".repeat(5000));
    for bad in [
        "",
        "Htek",
        "Htek UC903",
        "Htek UC903 beta 00:1f:c1:1c:22:a9",
        "Htek UC903 .2 00:1f:c1:1c:22:a9",
        "Htekk UC903 2.0.4.2",
        "Acme S505 2.0.4.6.41 00:15:65:aa:bb:cc",
        "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc",
        "Fanvil X4U 2.12.1 0c383e112233",
        "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82aabbcc",
        long.as_str(),
    ] {
        assert_eq!(Htek.parse_user_agent(bad), None, "{bad:?}");
    }
}

#[test]
fn file_names_in_the_phones_order() {
    let c = |f: &str| Htek.classify_file(f);
    let dev = Some(PathMatch::DeviceConfig {
        mac: mac("001fc11c22a9"),
    });
    // factory000x.bin, cfg00NN.xml, <mac>.cfg, cfg<mac>, cfg<mac>.xml (+ MikoPBX's name).
    let sequence = [
        ("factory0001.bin", None),
        ("cfg0010.xml", None),
        ("001fc11c22a9.cfg", dev.clone()),
        ("cfg001fc11c22a9", None),
        ("cfg001fc11c22a9.xml", dev.clone()),
        ("cfg001fc11c22a9.cfg", dev.clone()),
    ];
    for (name, want) in sequence {
        assert_eq!(c(name), want, "{name}");
    }
    for bad in [
        "cfg0016.xml",
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
        "cfg001fc11c22a9.xml"
    );
    // Every model's common file is a 404 (the first file found ends the sequence).
    for m in Vendor::Htek.models() {
        let name = format!("cfg{}.xml", m.file_code.unwrap());
        assert_eq!(c(&name), None, "{name}");
    }
}

#[test]
fn key_codes_follow_the_three_bands() {
    // wazo `_gen_param_num`, checked against fusionpbx's `LineKeyN.*` P-codes.
    assert_eq!(
        (1..=5).map(|f| key_code(1, f - 1)).collect::<Vec<_>>(),
        [41200, 41300, 41400, 41500, 41600]
    );
    assert_eq!(key_code(4, 0), 41203);
    assert_eq!(key_code(5, 0), 20200);
    assert_eq!(key_code(6, 4), 20209);
    assert_eq!(key_code(36, 0), 20355);
    assert_eq!(key_code(37, 0), 23000);
    assert_eq!(key_code(38, 2), 23007);
}

#[test]
fn xml_config() {
    let mut p = profile();
    p.lines.push(Line {
        transport: Transport::Tls,
        server_port: 5061,
        ..line("205", "Two")
    });
    p.blf.push(BlfKey {
        extension: "301".into(),
        label: "Anna".into(),
        line: 2,
        pickup_prefix: "*8".into(),
    });
    p.ntp_server = Some("pool.ntp.org".into());
    p.timezone = Some(TimeZone::from_name("America/New_York").unwrap());
    p.language = Some(Language::En);
    p.phonebook_url = Some("http://pbx/phonebook/001fc11c22a9.xml".into());
    p.firmware_url = Some("http://pbx/firmware/htek/uc926.rom".into());
    p.provisioning_url = Some("http://pbx/p".into());
    let cfg = render(&p);
    crate::xml::check_well_formed(&cfg).unwrap();
    assert!(cfg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hl_provision version=\"1\">\n  <config version=\"1\">\n"));
    let v = |c: u32| p_of(&cfg, c);
    for (code, want) in [
        (271, "1"),
        (20000, "Irina"),
        (35, "204"),
        (36, "204"),
        (34, "pw"),
        (3, "Irina"),
        (33, "*001"),
        (24082, "0"),
        (47, "10.0.0.1:5060"),
        (130, "0"),
        (57, "0"),
        (58, "8"),
        (59, "9"),
        (401, "1"),
        (735, "205"),
        (24083, "1"),
        (747, "10.0.0.1:5061"),
        (830, "2"),
        // Keys: the two accounts, then the BLF on account 2, then resets.
        (41200, "1"),
        (41400, "204"),
        (41500, "0"),
        (41201, "1"),
        (41501, "1"),
        (41202, "3"),
        (41302, "301"),
        (41402, "Anna"),
        (41502, "1"),
        (41602, "*8"),
        (41203, "0"),
        (20355, "0"),
        (4401, "http://pbx/phonebook/001fc11c22a9.xml"),
        (30, "pool.ntp.org"),
        (64, "18"),
        (75, "2"),
        (8621, "0"),
        (212, "1"),
        (192, "http://pbx/firmware/htek"),
        (237, "http://pbx/p/"),
        (194, "1"),
        (193, "1440"),
        (24012, "1"),
        (20983, "0"),
    ] {
        assert_eq!(v(code).as_deref(), Some(want), "P{code}\n{cfg}");
    }
    // The UC926 has 36 keys: none beyond.
    assert_eq!(v(23000), None);
    assert_eq!(cfg, render(&p));
    let mut empty = profile();
    empty.lines.clear();
    empty.device.model = "NOPE".into();
    let e = render(&empty);
    assert_eq!(p_of(&e, 271), None);
    assert_eq!(p_of(&e, 41200), None);
    assert!(!e.contains("pw"));
}

fn p_of(cfg: &str, code: u32) -> Option<String> {
    p(cfg, code)
}

#[test]
fn only_six_accounts_and_the_right_zone_codes() {
    let mut p = profile();
    p.lines = (0..8).map(|i| line(&format!("20{i}"), "X")).collect();
    let cfg = render(&p);
    assert_eq!(p_of(&cfg, 20361).as_deref(), Some("1"));
    assert_eq!(p_of(&cfg, 1804).as_deref(), Some("205"));
    assert_eq!(p_of(&cfg, 24087).as_deref(), Some("0"));
    assert!(!cfg.contains(">207<"), "account 8 is not written");
    for (zone, code) in [
        ("UTC", Some(33)),
        ("Europe/Berlin", Some(49)),
        ("America/Los_Angeles", Some(6)),
        ("Asia/Kolkata", Some(84)),
    ] {
        let tz = TimeZone::from_name(zone).unwrap();
        assert_eq!(tz_code(tz.offset_minutes()), code, "{zone}");
    }
    assert_eq!(tz_code(17), None);
}

#[test]
fn hostile_values_stay_inert() {
    let mut p = profile();
    if let Some(l) = p.lines.first_mut() {
        l.display_name = "A</P3><P237>http://evil/</P237>".into();
    }
    let cfg = render(&p);
    crate::xml::check_well_formed(&cfg).unwrap();
    assert_eq!(p_of(&cfg, 237), None);
    let kv = {
        let mut s = String::new();
        Htek.write_config_as(&p, ConfigSyntax::KeyValue, &mut s);
        s
    };
    let mut p2 = profile();
    p2.lines[0].display_name = "A\nauto_image_url = http://evil/".into();
    let mut s = String::new();
    Htek.write_config_as(&p2, ConfigSyntax::KeyValue, &mut s);
    assert_eq!(kv_value(&s, "auto_image_url"), None);
    assert!(s.lines().skip(1).all(|l| kv::line_key(l).is_some()));
    assert!(kv.starts_with("#!version:1.0.0.1\n"));
}

#[test]
fn syntax_is_the_texts_own() {
    for xml in [
        "<P3>x</P3>",
        "  \n<?xml version=\"1.0\"?><hl_provision/>",
        "{# c #}\n{% if x %}<P3>y</P3>{% endif %}",
    ] {
        assert_eq!(Htek.syntax_of(xml), ConfigSyntax::Xml, "{xml}");
    }
    for text in [
        "#!version:1.0.0.1\naccount.1.label = x\n",
        "account.1.label = {SIP_NUM}",
        "{% for l in lines %}account.{{ l.index }}.active = 1\n{% endfor %}",
        "{% unclosed",
        "",
    ] {
        assert_eq!(Htek.syntax_of(text), ConfigSyntax::KeyValue, "{text}");
    }
}

#[test]
fn overlay_and_params_by_syntax() {
    let cfg = render(&profile());
    let out = Htek
        .overlay(
            &cfg,
            "<P20000 para=\"Account1_Label\">Desk</P20000>\n<P99>1</P99>",
        )
        .unwrap();
    assert_eq!(p_of(&out, 20000).as_deref(), Some("Desk"));
    assert_eq!(p_of(&out, 99).as_deref(), Some("1"));
    assert!(Htek.overlay(&cfg, "<P3>unclosed").is_err());
    let params = AdditionalParams::parse(
        "[htek]\nP30 = ntp.example.org\nlang.gui = German\n[grandstream]\nP30 = other\n",
    )
    .unwrap();
    let mine = params.for_vendor(Vendor::Htek);
    let out = Htek.apply_params(&cfg, &mine).unwrap();
    assert_eq!(p_of(&out, 30).as_deref(), Some("ntp.example.org"));
    assert!(!out.contains("German"));
    // The same parameters on a key = value config: the P-code is skipped.
    let mut kv_cfg = String::new();
    Htek.write_config_as(&profile(), ConfigSyntax::KeyValue, &mut kv_cfg);
    let out = Htek.apply_params(&kv_cfg, &mine).unwrap();
    assert_eq!(kv_value(&out, "lang.gui"), Some("German"));
    assert_eq!(kv_value(&out, "P30"), None);
    let out = Htek
        .overlay(&kv_cfg, "account.1.label = Desk\nx.y = 1\n")
        .unwrap();
    assert_eq!(kv_value(&out, "account.1.label"), Some("Desk"));
    assert_eq!(
        Htek.overlay(&kv_cfg, "ok = 1\nbroken\n")
            .unwrap_err()
            .line(),
        Some(2)
    );
}

fn renderer(source: &str, style: TemplateStyle, composition: Composition) -> Renderer {
    let mut r = Renderer::new();
    r.set_template(Template {
        name: "t".into(),
        vendor: Vendor::Htek,
        style,
        composition,
        source: source.into(),
    })
    .unwrap();
    r
}

#[test]
fn a_template_pasted_from_mikopbx_keeps_working() {
    // MikoPBX's Htek account block, as a placeholder overlay.
    let r = renderer(
        "#!version:1.0.0.1\naccount.1.label = {SIP_NUM}\naccount.1.password = {SIP_PASS}\nfeatures.dnd.enable = 1\n",
        TemplateStyle::Placeholder,
        Composition::Overlay,
    );
    let p = Arc::new(profile());
    let params = AdditionalParams::parse("[htek]\nlang.gui = German\nP30 = x\n").unwrap();
    let out = r.render_config(&p, Some("t"), &params).unwrap();
    assert!(out.starts_with("#!version:1.0.0.1\n"), "{out}");
    for (k, want) in [
        ("account.1.label", "204"),
        ("account.1.password", "pw"),
        ("account.1.user_name", "204"),
        ("account.1.sip_server.host", "10.0.0.1"),
        ("features.dnd.enable", "1"),
        ("lang.gui", "German"),
    ] {
        assert_eq!(kv_value(&out, k), Some(want), "{k}\n{out}");
    }
    assert!(!out.contains('<') && !out.contains("P30"));
}

#[test]
fn an_xml_template_merges_over_the_xml_default() {
    let r = renderer(
        "<P20000 para=\"Account1_Label\">{{ lines[0].display_name }}</P20000>",
        TemplateStyle::Jinja,
        Composition::Overlay,
    );
    let mut pr = profile();
    pr.lines[0].display_name = "A & B".into();
    let out = r
        .render_config(&Arc::new(pr), Some("t"), &AdditionalParams::default())
        .unwrap();
    assert_eq!(p_of(&out, 20000).as_deref(), Some("A & B"));
    assert_eq!(p_of(&out, 34).as_deref(), Some("pw"));
    // A replacing XML template must be well-formed.
    let mut bad = Renderer::new();
    assert!(bad
        .set_template(Template {
            name: "b".into(),
            vendor: Vendor::Htek,
            style: TemplateStyle::Placeholder,
            composition: Composition::Replace,
            source: "<hl_provision><config>".into(),
        })
        .is_err());
}

#[test]
fn no_common_file_is_written() {
    // `cfg00NN.xml` is never classified as a common file, and the module writes none: the
    // shell answers an empty body with a 404.
    let ctx = CommonContext {
        base_url: Some("https://pbx:8443/p"),
        poll_interval_minutes: 60,
        ..Default::default()
    };
    assert!(crate::render::render_common(Vendor::Htek, "cfg0010.xml", &ctx).is_err());
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
    assert_eq!(Document::parse(&s).unwrap().to_xml(), s);
    assert!(s.contains("<Name>B &lt;&amp;&gt;</Name>"));
    assert!(s.find("B &lt;").unwrap() < s.find("<Name>A").unwrap());
    assert_eq!(Htek.firmware_extensions(), [".rom", ".bin"]);
}

#[test]
fn model_table_codes() {
    let code = |m: &str| Vendor::Htek.model(m).and_then(|m| m.file_code);
    assert_eq!(code("UC926"), Some("0010"));
    assert_eq!(code("uc912g"), Some("0019"));
    assert_eq!(code("UC802T"), Some("0007"));
    let m = Vendor::Htek.model("UC926").unwrap();
    assert_eq!((m.line_keys, m.accounts, m.dect_handsets), (36, 16, 0));
}
