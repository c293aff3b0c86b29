//! Renders a demo site: for each vendor, a phone's real first request, what the engine
//! detects, and the files it would be served. `cargo run -p engine --example demo`.

use std::sync::Arc;

use engine::{
    detect, device_config_path, render_phonebook, sample_profile, AdditionalParams, Contact,
    PhoneRequest, Renderer, Vendor,
};

fn main() {
    let renderer = Renderer::new();
    let params = AdditionalParams::parse(
        "[yealink]\nphone_setting.backlight_time = 60\n[debug]\nverbose = 0\n",
    )
    .expect("the demo parameters are valid");
    let ua = |v: Vendor, mac: &engine::Mac| {
        match v {
        Vendor::Yealink => format!("Yealink SIP-T46S 66.86.0.15 {}", mac.to_colon_lower()),
        Vendor::Snom => format!("Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 {} SXM:0 UXM:0)", mac.to_upper_hex()),
        Vendor::Fanvil => format!("Fanvil X4U 2.12.1 {mac}"),
        Vendor::Grandstream => format!("Grandstream Model HW GXP2170 SW 1.0.11.23 DevId {mac}"),
        Vendor::Htek => format!("Htek UC926 2.0.4.4.66 {}", mac.to_colon_lower()),
        Vendor::Ale => String::new(),
    }
    };
    let contacts = [
        Contact {
            name: "Irina Smirnova".into(),
            number: "204".into(),
        },
        Contact {
            name: "Front desk".into(),
            number: "299".into(),
        },
    ];
    for v in Vendor::PROVISIONED {
        let profile = Arc::new(sample_profile(v));
        let mac = profile.device.mac;
        let path = device_config_path(v, &mac).unwrap_or_default();
        let agent = ua(v, &mac);
        let d = detect(
            &PhoneRequest {
                path: &path,
                user_agent: Some(&agent),
                pnp: None,
                lan_mac: None,
            },
            &[],
        );
        println!("==== {v}: GET /{path}  (User-Agent: {agent})");
        println!(
            "detected: vendor={:?} model={:?} firmware={:?} resource={:?} ua_mac_matches={}",
            d.vendor,
            d.model,
            d.firmware_version,
            d.resource,
            d.ua_mac_matches()
        );
        match renderer.render_config(&profile, None, &params) {
            Ok(cfg) => println!("{cfg}"),
            Err(e) => println!("error: {e}"),
        }
        match render_phonebook(v, "Demo office", &contacts) {
            Ok(pb) => println!("---- phonebook\n{pb}"),
            Err(e) => println!("error: {e}"),
        }
    }
}
