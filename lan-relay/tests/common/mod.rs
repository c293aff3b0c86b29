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
