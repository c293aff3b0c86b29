//! Helpers the relay's integration tests share: temporary directories, the runtime and the
//! shutdown signal a server under test runs with, and UDP sockets on 127.0.0.1.
//!
//! Each test file includes this module (`mod common;`) and uses part of it.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::oneshot;

/// A fresh directory under the system's temporary directory, removed with its contents on
/// drop; `what` names it (`lan-relay-<what>-<pid>-<n>`).
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(what: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "lan-relay-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The runtime a server under test runs on when the test itself is synchronous (it drives
/// real client programs): multi-threaded, two workers, I/O and time enabled.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A shutdown signal for a server's `serve(.., shutdown)`: the future completes when the
/// sender is used or dropped (so a test's server stops when the test's handle goes).
pub(crate) fn shutdown() -> (
    oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (stop, stopped) = oneshot::channel::<()>();
    (stop, async {
        let _ = stopped.await;
    })
}

/// A UDP socket on 127.0.0.1 with a port of its own (a phone, a client), and that port.
pub(crate) async fn udp_local() -> (UdpSocket, u16) {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = s.local_addr().unwrap().port();
    (s, port)
}

/// A Yealink boot SUBSCRIBE naming `mac`, whose answers go to `port` on 127.0.0.1 (its Via
/// without `rport`, and its Contact), whatever port it is sent from.
pub(crate) fn subscribe(port: u16, mac: &str, call_id: &str) -> String {
    format!(
        "SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}\r\n\
From: <sip:MAC%3a{mac}@224.0.1.75>;tag=77aa\r\n\
To: <sip:MAC%3a{mac}@224.0.1.75>\r\n\
Call-ID: {call_id}\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n\
User-Agent: Yealink SIP-T53W 96.87.0.16\r\nExpires: 0\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Yealink\";model=\"T53W\";version=\"96.87.0.16\"\r\n\
Accept: application/url\r\nContent-Length: 0\r\n\r\n"
    )
}

/// The next datagram on `sock` and its source, or `None` after `wait`.
pub(crate) async fn recv_within(sock: &UdpSocket, wait: Duration) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = vec![0u8; 16 * 1024];
    let (n, from) = tokio::time::timeout(wait, sock.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    buf.truncate(n);
    Some((buf, from))
}

/// The file `name` fetched by the real `atftp` client from the TFTP server at
/// 127.0.0.1:`port` (empty when refused), with atftp's status and stderr for messages.
#[allow(dead_code)] // not every test file fetches by TFTP
pub(crate) fn atftp_get(port: u16, name: &str) -> (String, String) {
    let dir = TempDir::new("atftp-get");
    let local = dir.path().join("got");
    let out = std::process::Command::new("atftp")
        .args(["-g", "-r", name, "-l"])
        .arg(&local)
        .args(["127.0.0.1", &port.to_string()])
        .output()
        .expect("atftp is installed");
    let got = std::fs::read_to_string(&local).unwrap_or_default();
    (
        got,
        format!("{} {}", out.status, String::from_utf8_lossy(&out.stderr)),
    )
}

// ------------------------------------------------ a URI mapping on the LAN (issue 16, item 2)

/// The path an administrator maps in MikoPBX's example: an old Yealink asks for its model's
/// common file (`y000000000028.cfg`) and gets its own config from a template.
pub(crate) const MAPPED: &str = "y000000000028.cfg";
/// An old Yealink's User-Agent without a MAC: the example of antirek/sip-device-detector's
/// README ("Yealink SIP-T28P 2.71.14.4").
pub(crate) const OLD_YEALINK_UA: &str = "Yealink SIP-T28P 2.71.14.4";
/// The demo Yealink (201) and its password; a second Yealink (206) added here, and its.
pub(crate) const FIRST_MAC: &str = "00:15:65:00:00:01";
pub(crate) const FIRST_SECRET: &str = "demo-Vq9-kL2m-Zt7x";
pub(crate) const SECOND_MAC: &str = "00:15:65:00:00:07";
pub(crate) const SECOND_SECRET: &str = "second-Jx4-rT6w-Bn3q";
/// The demo Snom: a Yealink template is no file for it.
pub(crate) const SNOM_MAC: &str = "00:04:13:00:00:02";

/// The demo inventory with [`MAPPED`] mapped to the demo's Yealink template and a second
/// Yealink phone bound to a user of its own.
pub(crate) fn mapped_inventory() -> String {
    format!(
        "{}\n[[uri_mappings]]\npath = \"{MAPPED}\"\ntemplate = \"Yealink desk\"\n\
         [[users]]\nextension = \"206\"\nsip_password = \"{SECOND_SECRET}\"\n\
         [[phones]]\nmac = \"{}\"\nvendor = \"yealink\"\nmodel = \"T28P\"\nuser_extension = \"206\"\n",
        lan_relay::config::DEMO_INVENTORY,
        SECOND_MAC.replace(':', ""),
    )
}

/// Writes an ARP table (`/proc/net/arp`'s format) that holds `mac` for 127.0.0.1, or
/// nothing.
pub(crate) fn write_arp(path: &Path, mac: Option<&str>) {
    let mut t = "IP address       HW type     Flags       HW address            Mask     Device\n"
        .to_owned();
    if let Some(mac) = mac {
        t.push_str(&format!(
            "127.0.0.1        0x1         0x2         {mac}     *        lo\n"
        ));
    }
    std::fs::write(path, t).unwrap();
}

/// The relay's HTTP and TFTP servers on 127.0.0.1 serving `inventory`, confirming MACs with
/// the ARP table in the file `arp` (read at each request, so a test may rewrite it).
pub(crate) struct LanRelay {
    pub(crate) http: SocketAddr,
    pub(crate) tftp: SocketAddr,
    _stop: Vec<oneshot::Sender<()>>,
    _rt: tokio::runtime::Runtime,
}

impl LanRelay {
    pub(crate) fn start(inventory: &str, arp: &Path, state: &Path) -> Self {
        use std::sync::Arc;
        let rt = runtime();
        let (http, tftp) = rt.block_on(async {
            (
                tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
                UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            )
        });
        let (http_addr, tftp_addr) = (http.local_addr().unwrap(), tftp.local_addr().unwrap());
        let metrics = Arc::new(lan_relay::metrics::Metrics::default());
        let p = Arc::new(
            lan_relay::provision::Provisioner::new(
                &format!("http://{http_addr}"),
                state.join("firmware"),
                Arc::clone(&metrics),
            )
            .with_arp_table(lan_relay::arp::ArpTable::new(arp)),
        );
        p.set_site(lan_relay::config::load_inventory(inventory).unwrap());
        let (stop_http, stopped_http) = shutdown();
        let (stop_tftp, stopped_tftp) = shutdown();
        rt.spawn(lan_relay::http::serve(
            http,
            Arc::clone(&p),
            Arc::clone(&metrics),
            stopped_http,
        ));
        rt.spawn(lan_relay::tftp::serve(
            tftp,
            p,
            lan_relay::tftp::TftpConfig::default(),
            Arc::clone(&metrics.tftp),
            stopped_tftp,
        ));
        Self {
            http: http_addr,
            tftp: tftp_addr,
            _stop: vec![stop_http, stop_tftp],
            _rt: rt,
        }
    }
}

/// A [`LanRelay`] serving [`mapped_inventory`], with its ARP table file (holding
/// [`FIRST_MAC`] at 127.0.0.1 to begin with) in the directory returned with it.
pub(crate) fn mapped_relay(what: &str) -> (LanRelay, PathBuf, TempDir) {
    let dir = TempDir::new(what);
    let arp = dir.path().join("arp");
    write_arp(&arp, Some(FIRST_MAC));
    let relay = LanRelay::start(&mapped_inventory(), &arp, dir.path());
    (relay, arp, dir)
}

/// The one scenario of a mapped path asked for without a MAC (over HTTP or TFTP: `fetch`
/// gives the body, or `None` for a refusal): it is for the phone the ARP table in `arp`
/// holds at 127.0.0.1; another MAC there gets that phone's config, or nothing (the Snom: a
/// Yealink template is no file for it), never the first one's; no entry gets nothing.
pub(crate) fn mapped_path_follows_the_arp_table(arp: &Path, fetch: impl Fn() -> Option<String>) {
    let body = fetch().expect("served for the phone ARP holds at the address");
    assert!(body.contains(FIRST_SECRET), "{body}");
    assert!(
        body.contains("account.1.label = 201 Irina Smirnova"),
        "the mapped template: {body}"
    );
    write_arp(arp, Some(SECOND_MAC));
    let body = fetch().expect("served for the other phone");
    assert!(
        body.contains(SECOND_SECRET) && !body.contains(FIRST_SECRET),
        "{body}"
    );
    write_arp(arp, Some(SNOM_MAC));
    assert_eq!(fetch(), None, "the Snom at the address");
    write_arp(arp, None);
    assert_eq!(fetch(), None, "no ARP entry");
}
