//! Conformance over real sockets: every vendor's cases in `tests/conformance/<vendor>.json`
//! (see its README) replayed against the relay: each firmware generation's request
//! sequence over HTTP with curl and the phone's User-Agent, the same names over TFTP with
//! atftp (no User-Agent there: the name alone must do), and the vendor's real PnP SUBSCRIBE
//! over UDP, whose NOTIFY must carry the URL shaped as the vendor takes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use lan_relay::discovery::{Discovery, Queue};
use lan_relay::metrics::Metrics;
use lan_relay::provision::Provisioner;
use lan_relay::sip::codec;
use lan_relay::sip::pnp::{self, PnpConfig};
use serde::Deserialize;

use common::{recv_within, TempDir};

const PASSWORD: &str = "s3cret-Pass-201";
/// The base URL the cases' expected bodies are written for (the engine runner's).
const CASE_BASE: &str = "http://192.0.2.10:8480";

#[derive(Deserialize)]
struct Case {
    vendor: String,
    mac: String,
    model: String,
    sequences: Vec<Sequence>,
    pnp: Option<Pnp>,
}

#[derive(Deserialize)]
struct Sequence {
    name: String,
    ua: Option<String>,
    requests: Vec<Request>,
}

#[derive(Deserialize)]
struct Request {
    file: String,
    expect: String,
    /// What TFTP (no User-Agent) gets when it differs from `expect`.
    #[serde(default)]
    expect_tftp: Option<String>,
    #[serde(default)]
    body_starts: Option<String>,
    #[serde(default)]
    body_contains: Vec<String>,
    #[serde(default)]
    body_lacks: Vec<String>,
}

#[derive(Deserialize)]
struct Pnp {
    subscribe: String,
    base: String,
    url: String,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance")
}

fn cases() -> Vec<(String, Case)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, case)
        })
        .collect()
}

/// The conformance site (`_site.json`) with the case's phone.
fn site(case: &Case) -> engine::Site {
    let text = std::fs::read_to_string(dir().join("_site.json"))
        .unwrap()
        .replace("{mac}", &case.mac)
        .replace("{vendor}", &case.vendor)
        .replace("{model}", &case.model);
    let inv: engine::Inventory = serde_json::from_str(&text).unwrap();
    engine::Site::new(inv).unwrap()
}

struct Relay {
    http: SocketAddr,
    tftp: SocketAddr,
    pnp: SocketAddr,
    _state: TempDir,
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
    rt: tokio::runtime::Runtime,
}

fn start(case: &Case) -> Relay {
    let state = TempDir::new("conformance");
    let rt = common::runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let http = listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::default());
    let p = Arc::new(Provisioner::new(
        &format!("http://{http}"),
        state.path().join("firmware"),
        Arc::clone(&metrics),
    ));
    p.set_site(site(case));
    let mut stops = Vec::new();
    let (tx, rx) = common::shutdown();
    stops.push(tx);
    rt.spawn(lan_relay::http::serve(
        listener,
        Arc::clone(&p),
        Arc::clone(&metrics),
        rx,
    ));
    let tftp_sock = rt
        .block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))
        .unwrap();
    let tftp = tftp_sock.local_addr().unwrap();
    let (tx, rx) = common::shutdown();
    stops.push(tx);
    rt.spawn(lan_relay::tftp::serve(
        tftp_sock,
        Arc::clone(&p),
        lan_relay::tftp::TftpConfig::default(),
        Arc::new(lan_relay::tftp::Metrics::default()),
        rx,
    ));
    let pnp_sock = rt
        .block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))
        .unwrap();
    let pnp_addr = pnp_sock.local_addr().unwrap();
    let handler = Arc::new(Discovery::new(
        Arc::new(Queue::default()),
        Arc::clone(&p),
        Arc::clone(&metrics),
    ));
    let (tx, rx) = common::shutdown();
    stops.push(tx);
    rt.spawn(pnp::serve(pnp_sock, handler, PnpConfig::default(), rx));
    Relay {
        http,
        tftp,
        pnp: pnp_addr,
        _state: state,
        _stop: stops,
        rt,
    }
}

/// `GET /<file>` with curl and the User-Agent: status and body.
fn http_get(relay: &Relay, file: &str, ua: Option<&str>) -> (u16, String) {
    let url = format!("http://{}/{}", relay.http, file.trim_start_matches('/'));
    let mut c = Command::new("curl");
    c.args(["-s", "-S", "--max-time", "10", "-w", "\n%{http_code}"]);
    if let Some(ua) = ua {
        c.args(["-A", ua]);
    }
    let out = c.arg(&url).output().expect("curl is installed");
    assert!(out.status.success(), "curl {url}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_owned())
}

/// A TFTP read with atftp: the body, or `None` when the relay answers an error.
fn tftp_get(relay: &Relay, file: &str, local: &std::path::Path) -> Option<String> {
    let _ = std::fs::remove_file(local);
    let out = Command::new("atftp")
        .args(["--get", "--remote-file", file, "--local-file"])
        .arg(local)
        .args(["127.0.0.1", &relay.tftp.port().to_string()])
        .output()
        .expect("atftp is installed");
    let body = std::fs::read_to_string(local).ok();
    (out.status.success() && body.is_some()).then(|| body.unwrap_or_default())
}

#[test]
fn every_vendors_sequences_over_http_and_tftp() {
    for (name, case) in cases() {
        let relay = start(&case);
        let tmp = TempDir::new("conformance-tftp");
        let local = tmp.path().join("got");
        for s in &case.sequences {
            for r in &s.requests {
                let what = format!("{name}: {} -> {}", s.name, r.file);
                let (code, body) = http_get(&relay, &r.file, s.ua.as_deref());
                if r.expect == "absent" {
                    assert_eq!(code, 404, "{what} over HTTP");
                } else {
                    assert_eq!(code, 200, "{what} over HTTP: {body}");
                    assert_eq!(body.contains(PASSWORD), r.expect == "device", "{what}");
                    if let Some(start) = &r.body_starts {
                        assert!(body.starts_with(start.as_str()), "{what}: starts wrong");
                    }
                    for unwanted in &r.body_lacks {
                        assert!(
                            !body.contains(unwanted.as_str()),
                            "{what}: has {unwanted:?}"
                        );
                    }
                    for want in &r.body_contains {
                        // The cases write URLs under the engine runner's base.
                        let want = want.replace(CASE_BASE, &format!("http://{}", relay.http));
                        assert!(body.contains(&want), "{what}: lacks {want:?}");
                    }
                }
                // TFTP: a bare name (no folder), and no User-Agent to say who asks.
                if r.file.contains('/') {
                    continue;
                }
                let got = tftp_get(&relay, &r.file, &local);
                let expect = r.expect_tftp.as_deref().unwrap_or(&r.expect);
                if expect == "absent" {
                    assert!(got.is_none(), "{what} over TFTP: served");
                } else {
                    let got = got.unwrap_or_else(|| panic!("{what} over TFTP: refused"));
                    assert_eq!(got.contains(PASSWORD), expect == "device", "{what} (TFTP)");
                }
            }
        }
        drop(relay);
    }
}

/// The SUBSCRIBE as a phone at `127.0.0.1:port` sends it: the source's Via sent-by and
/// Contact host become the test socket's, line ends become CRLF.
fn localise(subscribe: &str, port: u16) -> String {
    let here = format!("127.0.0.1:{port}");
    let mut out = String::new();
    for line in subscribe.lines() {
        let lower = line.to_ascii_lowercase();
        let line = if lower.starts_with("via:") || lower.starts_with("v:") {
            // `Via: SIP/2.0/UDP <host[:port]>;params`
            match line.find("UDP ").or_else(|| line.find("udp ")) {
                Some(i) => {
                    let rest = &line[i + 4..];
                    let end = rest.find(';').unwrap_or(rest.len());
                    format!("{}{here}{}", &line[..i + 4], &rest[end..])
                }
                None => line.to_owned(),
            }
        } else if lower.starts_with("contact:") || lower.starts_with("m:") {
            let name = line.split(':').next().unwrap();
            format!("{name}: <sip:{here}>")
        } else if lower.starts_with("content-length:") || lower.starts_with("l:") {
            continue;
        } else {
            line.to_owned()
        };
        out.push_str(&line);
        out.push_str("\r\n");
    }
    let out = out.trim_end().to_owned();
    format!("{out}\r\nContent-Length: 0\r\n\r\n")
}

#[test]
fn every_vendors_pnp_subscribe_gets_its_url_shape() {
    for (name, case) in cases() {
        let Some(p) = &case.pnp else { continue };
        let relay = start(&case);
        let got = relay.rt.block_on(async {
            let (sock, port) = common::udp_local().await;
            let raw = localise(&p.subscribe, port);
            sock.send_to(
                raw.as_bytes(),
                SocketAddr::from((Ipv4Addr::LOCALHOST, relay.pnp.port())),
            )
            .await
            .unwrap();
            // The 200 OK, then the NOTIFY.
            let mut body = None;
            for _ in 0..2 {
                let Some((bytes, _)) = recv_within(&sock, Duration::from_secs(3)).await else {
                    break;
                };
                let m = codec::parse(&bytes).unwrap();
                if m.method() == Some("NOTIFY") {
                    body = Some(String::from_utf8_lossy(m.body()).into_owned());
                }
            }
            body
        });
        let want = p.url.replace(&p.base, &format!("http://{}", relay.http));
        assert_eq!(
            got.as_deref(),
            Some(want.as_str()),
            "{name}: PnP NOTIFY body"
        );
    }
}
