//! Detection: any path and User-Agent give an answer, never a panic, and a device-config
//! answer always names a real MAC.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\n');
    let path = parts.next().unwrap_or_default();
    let ua = parts.next().unwrap_or_default();
    let pnp_text = parts.next().unwrap_or_default();
    let pnp = engine::PnpInfo {
        vendor: pnp_text.to_owned(),
        model: ua.to_owned(),
        version: pnp_text.to_owned(),
        mac: engine::Mac::parse(pnp_text).ok(),
    };
    let maps = [engine::UriMapping::new("/y000000000028.cfg", "old").expect("valid mapping")];
    for (user_agent, pnp) in [(None, None), (Some(ua), None), (None, Some(&pnp)), (Some(ua), Some(&pnp))] {
        let lan_mac = pnp.and_then(|p| p.mac);
        let d = engine::detect(&engine::PhoneRequest { path, user_agent, pnp, lan_mac }, &maps);
        if let engine::Resource::DeviceConfig { mac } = d.resource {
            assert!(!mac.is_placeholder());
        }
        let _ = (d.ua_mac_matches(), d.mac(), d.needs_lan_mac());
    }
    let _ = engine::Mac::parse(path);
});
