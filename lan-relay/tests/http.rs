//! HTTP on the LAN with real sockets and curl, with real phones' User-Agent strings: every
//! vendor's config, common file and phonebook; firmware from the cache with ranges; the
//! same 404 for every refusal; health and metrics.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use lan_relay::config::{load_inventory, DEMO_INVENTORY};
use lan_relay::metrics::Metrics;
use lan_relay::provision::Provisioner;

use common::TempDir;

const PHONES: [(&str, &str, &str); 5] = [
    ("001565000001.cfg", "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01", "account.1.password = demo-Vq9-kL2m-Zt7x"),
    ("000413000002.xml", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413000002 SXM:0 UXM:0)", ">demo-Kp3-wQ8y-Nn5u<"),
    ("0c383e000003.cfg", "Fanvil X4U 2.12.1 0c383e000003", "demo-Hq2-vP9x-Lm4t"),
    ("cfg000b82000004.xml", "Grandstream Model HW GXP2170 SW 1.0.11.23 DevId 000b82000004", "demo-Zr8w-Xs7v-Pw4r"),
    ("001fc1000005.cfg", "Htek UC926 2.0.4.4.66 00:1f:c1:00:00:05", "demo-Lm4t-Nn5u-Vq9k"),
];

struct Relay {
    addr: SocketAddr,
    _state: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    rt: tokio::runtime::Runtime,
}

fn start(inventory: &str) -> Relay {
    let state = TempDir::new("http");
    let fw_dir = state.path().join("firmware/yealink");
    std::fs::create_dir_all(&fw_dir).unwrap();
    let image: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(fw_dir.join("T46S-66.86.0.15.rom"), &image).unwrap();
    let rt = common::runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::default());
    let p = Arc::new(Provisioner::new(
        &format!("http://{addr}"),
        state.path().join("firmware"),
        Arc::clone(&metrics),
    ));
    p.set_site(load_inventory(inventory).unwrap());
    let (tx, rx) = common::shutdown();
    rt.spawn(lan_relay::http::serve(listener, p, metrics, rx));
    Relay {
        addr,
        _state: state,
        stop: Some(tx),
        rt,
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = &self.rt;
    }
}

/// curl's status line, headers and body.
fn curl(args: &[&str]) -> (u16, String, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-S", "-D", "-", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&out.stdout[..split]).to_string();
    let body = out.stdout[split + 4..].to_vec();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, body)
}

#[test]
fn every_vendor_gets_its_config_common_file_and_phonebook() {
    let r = start(DEMO_INVENTORY);
    for (file, ua, secret) in PHONES {
        let (status, head, body) = curl(&["-A", ua, &format!("http://{}/{file}", r.addr)]);
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{file}: {body}");
        assert!(body.contains(secret), "{file}: {body}");
        assert!(head
            .to_ascii_lowercase()
            .contains("cache-control: no-store"));
        let mac = file
            .trim_start_matches("cfg")
            .split('.')
            .next()
            .unwrap()
            .to_ascii_lowercase();
        let (status, _, book) =
            curl(&["-A", ua, &format!("http://{}/phonebook/{mac}.xml", r.addr)]);
        assert_eq!(status, 200, "{mac} phonebook");
        let book = String::from_utf8(book).unwrap();
        assert!(
            book.contains("Head office reception") && book.contains("Irina Smirnova"),
            "{book}"
        );
    }
    let (status, _, common) = curl(&[
        "-A",
        PHONES[0].1,
        &format!("http://{}/y000000000066.cfg", r.addr),
    ]);
    assert_eq!(status, 200);
    assert!(String::from_utf8(common)
        .unwrap()
        .contains(&format!("http://{}", r.addr)));
    // The Yealink template and the site's Additional Parameters reach the config.
    let (_, _, y) = curl(&[
        "-A",
        PHONES[0].1,
        &format!("http://{}/001565000001.cfg", r.addr),
    ]);
    let y = String::from_utf8(y).unwrap();
    assert!(
        y.contains("account.1.label = 201 Irina Smirnova\n")
            && y.contains("phone_setting.backlight_time = 60\n"),
        "{y}"
    );
}

#[test]
fn every_refusal_is_the_same_404() {
    let r = start(DEMO_INVENTORY);
    let base = format!("http://{}", r.addr);
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{base}/001565000001.cfg"),
            "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:99",
        ),
        (
            format!("{base}/001565999999.cfg"),
            "Yealink SIP-T46S 66.86.0.15 00:15:65:99:99:99",
        ),
        (format!("{base}/001565000001.cfg"), PHONES[1].1),
        (format!("{base}/../../etc/passwd"), ""),
        (format!("{base}/%2e%2e/%2e%2e/etc/passwd"), ""),
        (
            format!("{base}/firmware/yealink/..%2f..%2fetc%2fpasswd"),
            "",
        ),
        (format!("{base}/firmware/yealink/nope.rom"), ""),
        (format!("{base}/index.html"), ""),
    ];
    for (url, ua) in cases {
        let (status, _, body) = curl(&["--path-as-is", "-A", ua, &url]);
        assert_eq!(status, 404, "{url}");
        assert_eq!(body, b"Not Found\n", "{url}");
    }
    let (status, head, _) = curl(&["-X", "POST", "-d", "x", &format!("{base}/001565000001.cfg")]);
    assert_eq!(status, 405);
    assert!(head.to_ascii_lowercase().contains("allow: get, head"));
}

#[test]
fn firmware_streams_from_the_cache_with_ranges() {
    let r = start(&format!(
        "{DEMO_INVENTORY}\n[[firmware]]\nvendor = \"yealink\"\nmodel = \"T46S\"\nversion = \"66.86.0.15\"\nfile_name = \"T46S-66.86.0.15.rom\"\nsize = 300000\n"
    ));
    let image: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + 3) as u8).collect();
    let url = format!("http://{}/firmware/yealink/T46S-66.86.0.15.rom", r.addr);
    let (status, head, body) = curl(&["-A", PHONES[0].1, &url]);
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase().contains("content-length: 300000"),
        "{head}"
    );
    assert_eq!(body, image);
    let (status, head, body) = curl(&["-r", "1000-1999", &url]);
    assert_eq!(status, 206);
    assert!(head.contains("bytes 1000-1999/300000"), "{head}");
    assert_eq!(body, image[1000..2000]);
    let (status, _, _) = curl(&["-r", "400000-", &url]);
    assert_eq!(status, 416);
    // The config points at the image on this relay.
    let (_, _, cfg) = curl(&[
        "-A",
        PHONES[0].1,
        &format!("http://{}/001565000001.cfg", r.addr),
    ]);
    assert!(String::from_utf8(cfg).unwrap().contains(&url));
}

#[test]
fn health_and_metrics() {
    let r = start(DEMO_INVENTORY);
    let (status, _, body) = curl(&[&format!("http://{}/healthz", r.addr)]);
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]));
    curl(&[
        "-A",
        PHONES[0].1,
        &format!("http://{}/001565000001.cfg", r.addr),
    ]);
    curl(&[&format!("http://{}/nope.cfg", r.addr)]);
    let (_, _, m) = curl(&[&format!("http://{}/metrics", r.addr)]);
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains(
            "relay_file_requests_total{transport=\"http\",vendor=\"yealink\",result=\"served\"} 1"
        ),
        "{m}"
    );
    assert!(m.contains("result=\"not_found\"} 1"), "{m}");
    assert!(m.contains("relay_inventory_age_seconds"), "{m}");
}

#[test]
fn guessing_macs_locks_the_guesser_out() {
    let r = start(DEMO_INVENTORY);
    let base = format!("http://{}", r.addr);
    let valid = format!("{base}/001565000001.cfg");
    assert_eq!(curl(&["-A", PHONES[0].1, &valid]).0, 200);
    // 20 guesses (unknown MACs, each with a matching User-Agent) within the window...
    for i in 0..20 {
        let mac = format!("0015650100{i:02x}");
        let ua = format!("Yealink SIP-T46S 66.86.0.15 00:15:65:01:00:{i:02x}");
        assert_eq!(curl(&["-A", &ua, &format!("{base}/{mac}.cfg")]).0, 404);
    }
    // ...and this address gets nothing, not even a real phone's config, the same 404.
    let (status, _, body) = curl(&["-A", PHONES[0].1, &valid]);
    assert_eq!((status, body.as_slice()), (404, &b"Not Found\n"[..]));
    // Requests for files that are not a phone's config do not count (a booting phone asks
    // for several optional files).
    let r2 = start(DEMO_INVENTORY);
    for _ in 0..30 {
        curl(&[&format!("http://{}/y000000000000.boot", r2.addr)]);
    }
    assert_eq!(
        curl(&[
            "-A",
            PHONES[0].1,
            &format!("http://{}/001565000001.cfg", r2.addr)
        ])
        .0,
        200
    );
}

/// Issue 16, item 2: a URI-mapped path asked for with an old Yealink's User-Agent, which
/// carries no MAC, is for the phone the ARP table holds at the client's address; another
/// MAC there gets that phone's config (or the 404), never the first one's; no entry is the
/// 404, counted in /metrics.
#[test]
fn a_mapped_path_without_a_mac_in_the_user_agent_is_for_the_phone_arp_holds_there() {
    let (relay, arp, _dir) = common::mapped_relay("http-mapped");
    let url = format!("http://{}/{}", relay.http, common::MAPPED);
    common::mapped_path_follows_the_arp_table(&arp, || {
        let (status, _, body) = curl(&["-A", common::OLD_YEALINK_UA, &url]);
        let body = String::from_utf8(body).unwrap();
        match status {
            200 => Some(body),
            404 => {
                assert!(!body.contains(common::FIRST_SECRET), "{body}");
                None
            }
            other => panic!("{other}: {body}"),
        }
    });
    let (_, _, m) = curl(&[&format!("http://{}/metrics", relay.http)]);
    let m = String::from_utf8(m).unwrap();
    assert!(
        m.contains("relay_mapped_requests_total{by=\"arp\"} 3\n"),
        "{m}"
    );
    assert!(
        m.contains("relay_mapped_requests_total{by=\"none\"} 1\n"),
        "{m}"
    );
}
