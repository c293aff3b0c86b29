//! Fuzzes the SIP parser and everything the PnP server does with a parsed datagram: the PnP
//! fields, the 400 for an unparsable request, the 200 OK and the NOTIFY built from it. None
//! may panic; a built message must parse back.
#![no_main]

use lan_relay::sip::codec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match codec::parse(data) {
        Ok(msg) => {
            let _ = msg.pnp_info();
            let _ = msg.event_package();
            let _ = msg.top_branch();
            if msg.method().is_some() {
                let ok = codec::response(&msg, 200, "OK", "fuzztag", &[("Expires", "0")]);
                assert!(codec::parse(&ok).is_ok(), "200 OK does not parse back");
                let ids = codec::Ids::from_random(&[3; 24]);
                if let Ok(n) = codec::pnp_notify(&codec::PnpNotify {
                    subscribe: &msg,
                    local: "192.0.2.1:5060".parse().unwrap(),
                    target: "sip:192.0.2.2:5060",
                    tag: &ids.tag,
                    branch: &ids.branch,
                    cseq: 1,
                    url: "http://192.0.2.1:8480/p",
                }) {
                    assert!(codec::parse(&n).is_ok(), "NOTIFY does not parse back");
                }
            }
        }
        Err(e) => {
            let _ = codec::bad_request(data, &e, "fuzztag");
        }
    }
});
