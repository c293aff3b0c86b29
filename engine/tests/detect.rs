//! Request detection across vendors: real request paths and User-Agents, the `<mac>.cfg`
//! ambiguity between vendors, MAC agreement between path and User-Agent, and PnP.
#![allow(clippy::unwrap_used, clippy::type_complexity)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use engine::{detect, Mac, PhoneRequest, PnpInfo, Resource, UriMapping, Vendor};

fn mac(s: &str) -> Mac {
    Mac::parse(s).unwrap()
}

fn req<'a>(path: &'a str, ua: Option<&'a str>) -> PhoneRequest<'a> {
    PhoneRequest {
        path,
        user_agent: ua,
        pnp: None,
        lan_mac: None,
    }
}

#[test]
fn device_configs_of_every_vendor() {
    let cases: &[(&str, Option<&str>, Vendor, Option<&str>, Option<&str>, &str)] = &[
        // path, User-Agent, vendor, model, firmware, MAC
        (
            "/001565aabbcc.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"),
            Vendor::Yealink,
            Some("T46S"),
            Some("66.86.0.15"),
            "001565aabbcc",
        ),
        (
            "/001565f429a4.cfg",
            Some("Yealink SIP-T56A 58.80.0.25 001565f429a4"),
            Vendor::Yealink,
            Some("T56A"),
            Some("58.80.0.25"),
            "001565f429a4",
        ),
        (
            "/805ec0d9c744.cfg",
            Some("Yealink W90DM 130.87.0.10 80:5e:c0:d9:c7:44"),
            Vendor::Yealink,
            Some("W90DM"),
            Some("130.87.0.10"),
            "805ec0d9c744",
        ),
        (
            "/Fanvil/0c383e07e16c.cfg",
            Some("Fanvil X4 2.10.2.6887 0c383e07e16c"),
            Vendor::Fanvil,
            Some("X4"),
            Some("2.10.2.6887"),
            "0c383e07e16c",
        ),
        (
            "/0c383e2cd782.cfg",
            Some("Fanvil X6U Pro 0.0.10 0c383e2cd782"),
            Vendor::Fanvil,
            Some("X6U-Pro"),
            Some("0.0.10"),
            "0c383e2cd782",
        ),
        (
            "/001fc11c22a9.cfg",
            Some("Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9"),
            Vendor::Htek,
            Some("UC903"),
            Some("2.0.4.2"),
            "001fc11c22a9",
        ),
    ];
    for &(path, ua, vendor, model, fw, m) in cases {
        let d = detect(&req(path, ua), &[]);
        assert_eq!(d.vendor, Some(vendor), "{path}");
        assert_eq!(d.model.as_deref(), model, "{path}");
        assert_eq!(d.firmware_version.as_deref(), fw, "{path}");
        assert_eq!(d.resource, Resource::DeviceConfig { mac: mac(m) }, "{path}");
        assert_eq!(d.ua_mac, Some(mac(m)), "{path}");
        assert!(d.ua_mac_matches(), "{path}");
    }
}

#[test]
fn mac_dot_cfg_without_user_agent_goes_to_the_macs_maker() {
    // TFTP has no User-Agent: `<mac>.cfg` is asked by Yealink, Fanvil and Htek alike.
    for (path, vendor) in [
        ("001565aabbcc.cfg", Vendor::Yealink),
        ("0c383e07e16c.cfg", Vendor::Fanvil),
        ("001fc11c22a9.cfg", Vendor::Htek),
    ] {
        let d = detect(&req(path, None), &[]);
        assert_eq!(d.vendor, Some(vendor), "{path}");
        assert!(
            matches!(d.resource, Resource::DeviceConfig { .. }),
            "{path}"
        );
        assert_eq!(d.ua_mac, None);
    }
}

#[test]
fn a_phone_asking_for_another_phones_file_is_flagged() {
    let d = detect(
        &req(
            "/001565000001.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"),
        ),
        &[],
    );
    assert_eq!(
        d.resource,
        Resource::DeviceConfig {
            mac: mac("001565000001")
        }
    );
    assert!(!d.ua_mac_matches());
    assert_eq!(d.mac(), Some(mac("001565000001")));
}

#[test]
fn common_files() {
    let d = detect(
        &req(
            "/y000000000066.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc"),
        ),
        &[],
    );
    assert!(
        matches!(d.resource, Resource::CommonConfig { ref model, .. } if model.as_deref() == Some("T46S")),
        "{d:?}"
    );
    let d = detect(&req("y000000000028.cfg", None), &[]);
    assert_eq!(d.vendor, Some(Vendor::Yealink));
    assert!(
        matches!(d.resource, Resource::CommonConfig { ref model, .. } if model.as_deref() == Some("T46G")),
        "{d:?}"
    );
}

#[test]
fn nothing_we_serve() {
    for path in [
        "/",
        "",
        "/index.html",
        "/000000000000.cfg",
        "/../001565aabbcc.cfg",
        "/001565aabbcc.cfg%00",
        "/etc/passwd",
        "/001565aabbc.cfg",
    ] {
        let d = detect(&req(path, Some("curl/8.0")), &[]);
        assert_eq!(d.resource, Resource::NotServed, "{path}");
        assert_eq!(d.vendor, None, "{path}");
    }
}

#[test]
fn pnp_parameters_identify_the_phone() {
    let pnp = PnpInfo {
        vendor: "Yealink".into(),
        model: "SIP-T46S".into(),
        version: "66.86.0.15".into(),
        mac: Some(mac("001565aabbcc")),
    };
    let d = detect(
        &PhoneRequest {
            path: "001565aabbcc.cfg",
            user_agent: None,
            pnp: Some(&pnp),
            lan_mac: None,
        },
        &[],
    );
    assert_eq!(d.vendor, Some(Vendor::Yealink));
    assert_eq!(d.ua_mac, Some(mac("001565aabbcc")));
    assert!(d.ua_mac_matches());
}

#[test]
fn uri_mappings_come_first() {
    let maps = [UriMapping::new("/custom/boot.cfg", "boot").unwrap()];
    let d = detect(&req("/custom/boot.cfg?x=1", None), &maps);
    assert_eq!(
        d.resource,
        Resource::Mapped {
            path: "custom/boot.cfg".into(),
            template: "boot".into()
        }
    );
}

#[test]
fn hostile_user_agents_do_not_panic() {
    let long = "Yealink SIP-".to_owned() + &"A".repeat(100_000);
    for ua in [
        "",
        " ",
        "Yealink",
        "Yealink SIP-",
        "Fanvil",
        "Htek ",
        "\u{0}\u{1}",
        "Grandstream Model HW",
        long.as_str(),
        "Mozilla/4.0 (compatible; snom",
    ] {
        let _ = detect(&req("/001565aabbcc.cfg", Some(ua)), &[]);
    }
}

#[test]
fn a_mac_written_with_colons_or_dashes_in_a_file_name_is_the_same_phone() {
    // A DHCP option or a hand-typed URL may spell the MAC with separators; the phone's
    // file is the same one.
    for path in [
        "/00:15:65:aa:bb:cc.cfg",
        "/00-15-65-AA-BB-CC.cfg",
        "/00%3A15%3A65%3Aaa%3Abb%3Acc.cfg",
        "/001565aabbcc.cfg",
    ] {
        let d = detect(&req(path, None), &[]);
        assert_eq!(d.vendor, Some(Vendor::Yealink), "{path}");
        assert_eq!(
            d.resource,
            Resource::DeviceConfig {
                mac: mac("001565aabbcc")
            },
            "{path}"
        );
    }
    let d = detect(&req("/phonebook/00-15-65-aa-bb-cc.xml", None), &[]);
    assert_eq!(
        d.resource,
        Resource::Phonebook {
            mac: mac("001565aabbcc")
        }
    );
    // Mixed separators, a seventh pair or a short one are not a MAC.
    for path in [
        "/00:15:65-aa:bb:cc.cfg",
        "/00-15-65-aa-bb-cc-dd.cfg",
        "/aa-bb-cc-dd-ee-ff-01.cfg",
        "/01-00-15-65-aa-bb-cc.cfg",
        "/01:00:15:65:aa:bb:cc.cfg",
        "/100-15-65-aa-bb-cc.cfg",
        "/00:15:65:aa:bb.cfg",
    ] {
        let d = detect(&req(path, None), &[]);
        assert_eq!(d.resource, Resource::NotServed, "{path}");
    }
}

#[test]
fn a_phonebook_folder_takes_only_the_declared_file_and_joins_the_macs_separators() {
    let gs = mac("000b828aa872");
    let book = Resource::Phonebook { mac: gs };
    // The folder form a Grandstream phone asks for (P331 + `phonebook.xml`), its MAC bare
    // or written with separators, as a hand-typed P331 may spell it.
    assert_eq!(
        Vendor::Grandstream.phonebook_path(&gs),
        "phonebook/000b828aa872/phonebook.xml"
    );
    for path in [
        "/phonebook/000b828aa872/phonebook.xml",
        "/phonebook/000B828AA872/phonebook.xml",
        "/phonebook/00:0b:82:8a:a8:72/phonebook.xml",
        "/phonebook/00%3A0b%3A82%3A8a%3Aa8%3A72/phonebook.xml",
        "/phonebook/00-0B-82-8A-A8-72/phonebook.xml",
    ] {
        assert_eq!(detect(&req(path, None), &[]).resource, book, "{path}");
        let ua = "Grandstream Model HW GXP2170 SW 1.0.11.23 DevId 000b828aa872";
        assert_eq!(detect(&req(path, Some(ua)), &[]).resource, book, "{path}");
    }
    // Only the file name a vendor declares for its folder: no other name, no other case,
    // no MAC file under the folder; and a MAC segment must be a whole MAC.
    for path in [
        "/phonebook/000b828aa872/other.xml",
        "/phonebook/000b828aa872/Phonebook.xml",
        "/phonebook/000b828aa872/phonebook.XML",
        "/phonebook/000b828aa872/phonebook",
        "/phonebook/00:0b:82-8a:a8:72/phonebook.xml",
        "/phonebook/00:0b:82:8a:a8/phonebook.xml",
        "/phonebook/x00-0b-82-8a-a8-72/phonebook.xml",
        "/phonebook/00-0b-82-8a-a8-72.xml/phonebook.xml",
    ] {
        assert_eq!(
            detect(&req(path, None), &[]).resource,
            Resource::NotServed,
            "{path}"
        );
    }
    // A phone's own file under the folder is that file (directories are the caller's to
    // strip), never its phonebook.
    for path in [
        "/phonebook/000b828aa872/000b828aa872.xml",
        "/phonebook/000b828aa872/cfg000b828aa872.xml",
    ] {
        let r = detect(&req(path, None), &[]).resource;
        assert!(!matches!(r, Resource::Phonebook { .. }), "{path}: {r:?}");
    }
}
