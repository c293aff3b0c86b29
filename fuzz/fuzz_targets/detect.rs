//! Detection: any path and User-Agent give an answer, never a panic, and a device-config
//! answer always names a real MAC.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, ua) = text.split_once('\n').unwrap_or((text, ""));
    let maps = [engine::UriMapping::new("/y000000000028.cfg", "old").expect("valid mapping")];
    for user_agent in [None, Some(ua)] {
        let d = engine::detect(&engine::PhoneRequest { path, user_agent, pnp: None }, &maps);
        if let engine::Resource::DeviceConfig { mac } = d.resource {
            assert!(!mac.is_placeholder());
        }
        let _ = d.ua_mac_matches();
    }
    let _ = engine::Mac::parse(path);
});
