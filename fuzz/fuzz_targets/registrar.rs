//! Fuzzes what the star-code registrar reads from a phone beyond the SIP codec: the digest
//! credentials of every `Authorization`/`Proxy-Authorization` header, the dialled star code
//! (extension and PIN) of the Request-URI under both forms of the site's pattern (`*123*`,
//! MikoPBX's `*123*XXX`), the pattern's own parser (the input as a setting), and the ARP
//! table parser (the input as a table). None may panic.
#![no_main]

use lan_relay::arp;
use lan_relay::sip::{codec, digest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = digest::digest_params(&text);
    let _ = arp::lookup(&text, std::net::Ipv4Addr::LOCALHOST);
    let _ = codec::dialled_code(&text, "*123*");
    if let Ok(p) = engine::StarCodePattern::parse(&text) {
        assert!(p.prefix().starts_with(['*', '#']));
        let _ = p.code(&text);
    }
    if let Ok(msg) = codec::parse(data) {
        for h in ["Authorization", "Proxy-Authorization"] {
            for v in msg.headers_named(h) {
                let _ = digest::digest_params(v);
            }
        }
        if let Some(uri) = msg.uri() {
            if let Some(code) = codec::dialled_code(uri, "*123*XXX") {
                assert_eq!(code.extension.len(), 3);
                assert!(code.extension.bytes().all(|b| b.is_ascii_digit()));
            }
            if let Some(code) = codec::dialled_code(uri, "*123*") {
                let ext = &code.extension;
                assert!((1..=32).contains(&ext.len()));
                assert!(ext.bytes().all(|b| b.is_ascii_alphanumeric()));
                if let Some(pin) = &code.pin {
                    let pin = pin.expose();
                    assert!((1..=16).contains(&pin.len()));
                    assert!(pin.bytes().all(|b| b.is_ascii_digit()));
                }
            }
        }
    }
});
