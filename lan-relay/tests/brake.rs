//! Finding 6 of issue 15, as an attacker performs it, with real sockets and real clients
//! (atftp, curl): the relay's brake on MAC guessing can no longer be aimed at a phone by
//! spoofing its address, and guesses through a URI-mapped path are braked like any other.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use lan_relay::tftp::codec::{self, Mode, Opcode, Request};

use common::{TempDir, MAPPED};

/// The demo's Yealink (201) and its password; the demo's Snom (202) and its password.
const PHONE: &str = "001565000001";
const PHONE_UA: &str = "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01";
const SECRET: &str = "demo-Vq9-kL2m-Zt7x";
const OTHER: &str = "000413000002.xml";
const OTHER_SECRET: &str = "demo-Kp3-wQ8y-Nn5u";
struct Relay {
    http: SocketAddr,
    tftp: SocketAddr,
    _relay: common::LanRelay,
    _dir: TempDir,
}

/// The relay's HTTP and TFTP servers on 127.0.0.1, with the demo inventory plus a URI
/// mapping, and an ARP table that holds the demo Yealink's MAC for 127.0.0.1.
fn start() -> Relay {
    let (relay, _, dir) = common::mapped_relay("brake");
    Relay {
        http: relay.http,
        tftp: relay.tftp,
        _relay: relay,
        _dir: dir,
    }
}

/// A TFTP read request for `name` sent from `source` (as a spoofing host sends it: one
/// datagram); `true` if the relay began sending the file (the transfer is then aborted).
fn rrq_from(relay: &Relay, source: Ipv4Addr, name: &str) -> bool {
    let sock = UdpSocket::bind((source, 0)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = Vec::new();
    codec::encode_request(
        Opcode::Rrq,
        &Request {
            filename: name,
            mode: Mode::Octet,
            options: Vec::new(),
        },
        &mut out,
    );
    sock.send_to(&out, relay.tftp).unwrap();
    let mut buf = [0u8; 2048];
    let (n, from) = sock.recv_from(&mut buf).expect("the relay answers");
    let data = buf[..n].starts_with(&[0, 3]);
    if data {
        out.clear();
        codec::encode_error(codec::ErrorCode::NotDefined, "done", &mut out);
        let _ = sock.send_to(&out, from);
    }
    data
}

/// A MAC no phone of the demo has (the attacker's guesses), as 12 hex digits.
fn guess(i: u32) -> String {
    format!("001565{:06x}", 0x0a_0000 + i)
}

/// curl from `source` with `ua`: the status and the body.
fn curl_from(relay: &Relay, source: &str, ua: &str, path: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(["--interface", source, "-A", ua])
        .arg(format!("http://{}/{path}", relay.http))
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), body.to_owned())
}

#[test]
fn spoofed_requests_do_not_lock_a_phone_out() {
    let relay = start();
    let phone_ip = Ipv4Addr::LOCALHOST;
    // The attacker sends guesses carrying the phone's source address.
    for i in 0..25 {
        assert!(!rrq_from(&relay, phone_ip, &format!("{}.cfg", guess(i))));
    }
    // The phone itself (its MAC confirmed at its address) still gets its config, by TFTP...
    let (got, how) = common::atftp_get(relay.tftp.port(), &format!("{PHONE}.cfg"));
    assert!(got.contains(SECRET), "atftp: {how}");
    // ... and by HTTP, its common file too.
    let (code, body) = curl_from(&relay, "127.0.0.1", PHONE_UA, &format!("{PHONE}.cfg"));
    assert_eq!(code, 200);
    assert!(body.contains(SECRET), "{body}");
    let (code, _) = curl_from(&relay, "127.0.0.1", PHONE_UA, "y000000000066.cfg");
    assert_eq!(code, 200);
    // The address is braked all the same: another phone's config is refused from it...
    assert!(!rrq_from(&relay, phone_ip, OTHER));
    let (code, body) = curl_from(&relay, "127.0.0.1", "", OTHER);
    assert_eq!(code, 404);
    assert!(!body.contains(OTHER_SECRET));
    // ... though it is served to an address that made no guesses (so the refusal above is
    // the brake's).
    assert!(rrq_from(&relay, Ipv4Addr::new(127, 0, 0, 2), OTHER));
}

#[test]
fn guesses_through_a_mapped_path_are_braked() {
    let relay = start();
    let attacker = "127.0.0.3";
    for i in 0..25 {
        let mac = guess(i);
        let ua = format!(
            "Yealink SIP-T46S 66.86.0.15 {}",
            mac.as_bytes()
                .chunks(2)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(":")
        );
        let (code, _) = curl_from(&relay, attacker, &ua, MAPPED);
        assert_eq!(code, 404, "guess {i}");
    }
    // The guess that is right comes too late: the address is braked.
    let (code, body) = curl_from(&relay, attacker, PHONE_UA, MAPPED);
    assert_eq!(code, 404, "{body}");
    assert!(!body.contains(SECRET));
    // Through its own path as well.
    let (code, _) = curl_from(&relay, attacker, PHONE_UA, &format!("{PHONE}.cfg"));
    assert_eq!(code, 404);
    // The mapped path serves the phone from an address that made no guesses.
    let (code, body) = curl_from(&relay, "127.0.0.4", PHONE_UA, MAPPED);
    assert_eq!(code, 200);
    assert!(body.contains(SECRET), "{body}");
}
