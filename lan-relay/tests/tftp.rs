//! The TFTP server with real sockets on 127.0.0.1 and real Debian clients: `atftp`, `tftp`
//! (tftp-hpa) and curl's `tftp://`, plus a raw UDP client for what the clients cannot do
//! (malformed packets, stopping mid-transfer, windows and block number wrap-around).
//!
//! A missing client binary fails the test, so CI notices a missing install; with
//! `TFTP_CLIENTS_OPTIONAL=1` the test prints that it is skipped instead.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lan_relay::files::{DirSource, FileBody, FileRequest, FileSource, Refusal, Served, Transport};
use lan_relay::tftp::codec::{self, ErrorCode, Mode, Opcode, Packet, Request};
use lan_relay::tftp::{serve, Metrics, TftpConfig};

use common::TempDir;

// ---------------------------------------------------------------- fixtures

/// File names as each vendor's phones request them.
const VENDOR_FILES: &[&str] = &[
    "001565aabbcc.cfg",    // Yealink, per MAC
    "y000000000066.cfg",   // Yealink, common per model
    "000413AABBCC.xml",    // Snom, per MAC
    "snomD785.htm",        // Snom, per model
    "cfg000b82aabbcc.xml", // Grandstream, per MAC
    "f0X4hw1.100.cfg",     // Fanvil, per model and hardware
    "0c383eaabbcc.cfg",    // Fanvil, per MAC
    "cfg001fc1aabbcc.xml", // Htek, per MAC
    "phonebook.xml",       // a phonebook
];
const FIRMWARE: &str = "fw.rom";
const FIRMWARE_LEN: usize = 3 * 1024 * 1024;
const TEXT: &str = "lines.txt";
const TEXT_BODY: &[u8] = b"#!version:1.0.0.1\naccount.1.enable = 1\r\nbare\rcr\n\nend";

/// Deterministic bytes (an LCG), different per seed.
fn bytes_for(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as u8
        })
        .collect()
}

/// A served directory with every vendor's files, the firmware and the text file.
fn served_dir() -> TempDir {
    let d = TempDir::new("tftp");
    for (i, name) in VENDOR_FILES.iter().enumerate() {
        // Sizes around block boundaries: an exact multiple of 512 must end with an empty block.
        let len = [0, 1, 511, 512, 513, 1024, 1428, 2856, 5000][i % 9];
        std::fs::write(d.path().join(name), bytes_for(i as u64, len)).unwrap();
    }
    std::fs::write(d.path().join(FIRMWARE), bytes_for(99, FIRMWARE_LEN)).unwrap();
    std::fs::write(d.path().join(TEXT), TEXT_BODY).unwrap();
    d
}

fn netascii(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    codec::NetasciiEncoder::new().encode(b, &mut out);
    out
}

// ---------------------------------------------------------------- the server

struct Server {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start<S: FileSource>(source: S, config: TftpConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        let m = Arc::clone(&metrics);
        let (stop, stopped) = common::shutdown();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            common::runtime().block_on(async move {
                let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                tx.send(sock.local_addr().unwrap()).unwrap();
                serve(sock, Arc::new(source), config, m, stopped)
                    .await
                    .unwrap();
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Self {
            addr,
            metrics,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn dir(dir: &TempDir) -> Self {
        Self::start(DirSource::new(dir.path()), TftpConfig::default())
    }

    fn port(&self) -> String {
        self.addr.port().to_string()
    }

    fn count(&self, f: impl Fn(&Metrics) -> &std::sync::atomic::AtomicU64) -> u64 {
        f(&self.metrics).load(Ordering::Relaxed)
    }

    /// Waits (up to 5 s) for a counter to reach `n`: the server counts a transfer once it
    /// has the last ACK, which may be after the client is done.
    fn wait_count(&self, f: impl Fn(&Metrics) -> &std::sync::atomic::AtomicU64, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.count(&f) != n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.count(&f), n);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

// ---------------------------------------------------------------- real clients

/// `true` if `bin` is installed; if not, fails unless `TFTP_CLIENTS_OPTIONAL=1`.
fn have(bin: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var("TFTP_CLIENTS_OPTIONAL").as_deref() == Ok("1"),
            "the TFTP client `{bin}` is not installed (apt-get install atftp tftp-hpa curl), \
             or set TFTP_CLIENTS_OPTIONAL=1 to skip"
        );
        eprintln!("SKIPPED: `{bin}` is not installed and TFTP_CLIENTS_OPTIONAL=1");
    }
    found
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    eprintln!(
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn atftp(s: &Server, name: &str, local: &Path, options: &[&str]) -> Output {
    let mut c = Command::new("atftp");
    for o in options {
        c.args(["--option", o]);
    }
    c.args(["-g", "-r", name, "-l"])
        .arg(local)
        .args(["127.0.0.1", &s.port()]);
    run(&mut c)
}

fn tftp_hpa(s: &Server, name: &str, local: &Path, mode: &str) -> Output {
    run(Command::new("tftp")
        .args(["-v", "-m", mode, "127.0.0.1", &s.port(), "-c", "get", name])
        .arg(local))
}

fn curl(s: &Server, name: &str, local: &Path, extra: &[&str]) -> Output {
    run(Command::new("curl")
        .args(["-sS", "--path-as-is", "--max-time", "30"])
        .args(extra)
        .arg(format!("tftp://127.0.0.1:{}/{name}", s.port()))
        .arg("-o")
        .arg(local))
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

#[test]
fn atftp_fetches_every_vendor_file_lock_step_blksize_tsize_and_windowed() {
    if !have("atftp") {
        return;
    }
    let dir = served_dir();
    let s = Server::dir(&dir);
    let out = TempDir::new("tftp");
    let variants: &[&[&str]] = &[
        &[],
        &["blksize 1428"],
        &["tsize 0"],
        &["blksize 1428", "tsize 0"],
        &["blksize 1428", "windowsize 16"],
        &["windowsize 16", "tsize 0"],
    ];
    let mut expected_done = 0;
    for name in VENDOR_FILES.iter().chain([&FIRMWARE]) {
        let want = read(&dir.path().join(name));
        for (i, opts) in variants.iter().enumerate() {
            let local = out.path().join(format!("{name}.{i}"));
            let o = atftp(&s, name, &local, opts);
            assert!(o.status.success(), "{name} {opts:?}");
            assert!(read(&local) == want, "{name} {opts:?}: bytes differ");
            expected_done += 1;
        }
    }
    s.wait_count(|m| &m.completed, expected_done);
    assert_eq!(s.count(|m| &m.failed), 0);
}

#[test]
fn atftp_sees_the_negotiated_tsize_and_a_clamped_blksize() {
    if !have("atftp") {
        return;
    }
    let dir = served_dir();
    let s = Server::dir(&dir);
    let out = TempDir::new("tftp");
    let local = out.path().join("fw");
    // atftp prints the OACK with --trace.
    let o = run(Command::new("atftp")
        .args([
            "--trace",
            "--option",
            "tsize 0",
            "--option",
            "blksize 9000",
            "-g",
            "-r",
            FIRMWARE,
            "-l",
        ])
        .arg(&local)
        .args(["127.0.0.1", &s.port()]));
    assert!(o.status.success());
    assert!(read(&local) == read(&dir.path().join(FIRMWARE)));
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    // (atftp ends the list with ", " and two backspaces.)
    let oack = format!("received OACK <tsize: {FIRMWARE_LEN}, blksize: 1468,");
    assert!(text.contains(&oack), "expected {oack:?} in {text}");
}

#[test]
fn tftp_hpa_fetches_binary_and_ascii() {
    if !have("tftp") {
        return;
    }
    let dir = served_dir();
    let s = Server::dir(&dir);
    let out = TempDir::new("tftp");
    for name in VENDOR_FILES.iter().chain([&FIRMWARE, &TEXT]) {
        let local = out.path().join(name);
        let o = tftp_hpa(&s, name, &local, "binary");
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("Error"),
            "{name}"
        );
        let want = read(&dir.path().join(name));
        if !want.is_empty() {
            let said = format!("Received {} bytes", want.len());
            assert!(String::from_utf8_lossy(&o.stdout).contains(&said), "{name}");
        }
        assert!(
            read(&local) == read(&dir.path().join(name)),
            "{name}: bytes differ"
        );
    }
    // Netascii: the client turns CR LF back into LF and CR NUL into CR, so it gets the file.
    let local = out.path().join("ascii.txt");
    tftp_hpa(&s, TEXT, &local, "ascii");
    assert_eq!(read(&local), TEXT_BODY);
}

#[test]
fn curl_fetches_with_default_blksize_1428_and_tsize() {
    if !have("curl") {
        return;
    }
    let dir = served_dir();
    let s = Server::dir(&dir);
    let out = TempDir::new("tftp");
    // curl sends tsize on its own; --tftp-no-options sends a bare RFC 1350 request.
    let variants: &[&[&str]] = &[&[], &["--tftp-blksize", "1428"], &["--tftp-no-options"]];
    for name in VENDOR_FILES.iter().chain([&FIRMWARE]) {
        for (i, extra) in variants.iter().enumerate() {
            let local = out.path().join(format!("{name}.{i}"));
            let o = curl(&s, name, &local, extra);
            assert!(o.status.success(), "{name} {extra:?}");
            assert!(
                read(&local) == read(&dir.path().join(name)),
                "{name} {extra:?}: bytes differ"
            );
        }
    }
}

#[test]
fn refusals_look_alike_and_leave_no_file() {
    let dir = served_dir();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/ok.cfg"), b"nested").unwrap();
    let s = Server::dir(&dir);
    let bad = [
        "missing.cfg",
        "../etc/passwd",
        "/etc/passwd",
        "a/../../b",
        "..",
        "sub",
        "sub/../fw.rom",
        ".hidden",
        "C:\\boot.ini",
    ];
    for name in bad {
        let (pkt, _) = exchange(&s, &rrq(name, Mode::Octet, &[]));
        assert_eq!(
            pkt,
            Packet::Error {
                code: ErrorCode::FileNotFound,
                message: "File not found".into()
            },
            "{name}"
        );
    }
    assert_eq!(s.count(|m| &m.refused), bad.len() as u64);
    // A nested plain name is fine.
    let (pkt, _) = exchange(&s, &rrq("sub/ok.cfg", Mode::Octet, &[]));
    assert_eq!(
        pkt,
        Packet::Data {
            block: 1,
            data: b"nested"
        }
    );

    let out = TempDir::new("tftp");
    if have("curl") {
        for name in ["../etc/passwd", "a/../../b", "missing.cfg"] {
            let local = out.path().join("c");
            let o = curl(&s, name, &local, &[]);
            assert_eq!(
                o.status.code(),
                Some(68),
                "curl exit code for TFTP file not found: {name}"
            );
            assert!(read(&local).is_empty());
        }
    }
    if have("atftp") {
        let local = out.path().join("a");
        let o = atftp(&s, "../../../../etc/passwd", &local, &[]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("File not found"));
        assert!(read(&local).is_empty());
    }
    if have("tftp") {
        let local = out.path().join("t");
        let o = tftp_hpa(&s, "/etc/passwd", &local, "binary");
        assert!(String::from_utf8_lossy(&o.stdout).contains("Error code 1: File not found"));
        assert!(read(&local).is_empty());
    }
}

/// A source like the relay's: configs rendered in memory; some phones denied.
struct Rendered;

impl FileSource for Rendered {
    async fn open(&self, req: FileRequest) -> Result<Served, Refusal> {
        assert_eq!(req.transport, Transport::Tftp);
        assert!(req.user_agent.is_none());
        assert!(req.peer.ip().is_loopback());
        match req.path.as_str() {
            "001565aabbcc.cfg" => Ok(Served {
                body: FileBody::Memory(Bytes::from_static(TEXT_BODY)),
                content_type: "text/plain",
                vendor: Some(engine::Vendor::Yealink),
            }),
            "001565000000.cfg" => Err(Refusal::Denied),
            "boom.cfg" => Err(Refusal::Internal),
            _ => Err(Refusal::NotFound),
        }
    }
}

#[test]
fn memory_bodies_in_octet_and_netascii_with_tsize_and_refusals_alike() {
    let s = Server::start(Rendered, TftpConfig::default());
    let got = fetch_raw(
        &s,
        "001565aabbcc.cfg",
        Mode::Octet,
        &[("blksize", "16"), ("tsize", "0")],
    );
    assert_eq!(
        got.oack,
        [
            ("blksize".into(), "16".into()),
            ("tsize".into(), TEXT_BODY.len().to_string())
        ]
    );
    assert_eq!(got.data, TEXT_BODY);
    // Netascii on the wire: LF -> CR LF, CR -> CR NUL; tsize is the converted length.
    let wire = netascii(TEXT_BODY);
    let got = fetch_raw(
        &s,
        "001565aabbcc.cfg",
        Mode::Netascii,
        &[("tsize", "0"), ("windowsize", "3"), ("blksize", "8")],
    );
    assert_eq!(got.oack[0], ("tsize".into(), wire.len().to_string()));
    assert_eq!(got.data, wire);
    // Every refusal kind gets the same answer.
    for name in ["001565000000.cfg", "boom.cfg", "nope.cfg"] {
        let (pkt, _) = exchange(&s, &rrq(name, Mode::Octet, &[]));
        assert_eq!(
            pkt,
            Packet::Error {
                code: ErrorCode::FileNotFound,
                message: "File not found".into()
            }
        );
    }
    if have("tftp") {
        let out = TempDir::new("tftp");
        let local = out.path().join("a");
        tftp_hpa(&s, "001565aabbcc.cfg", &local, "ascii");
        assert_eq!(read(&local), TEXT_BODY);
    }
}

#[test]
fn write_requests_are_refused() {
    let dir = served_dir();
    let s = Server::dir(&dir);
    let mut w = Vec::new();
    codec::encode_request(
        Opcode::Wrq,
        &Request {
            filename: "new.cfg",
            mode: Mode::Octet,
            options: vec![],
        },
        &mut w,
    );
    let (pkt, from) = exchange(&s, &w);
    assert_eq!(
        pkt,
        Packet::Error {
            code: ErrorCode::AccessViolation,
            message: "write requests are refused".into()
        }
    );
    assert_eq!(from, s.addr);
    if have("atftp") {
        let src = TempDir::new("tftp");
        std::fs::write(src.path().join("up"), b"upload").unwrap();
        let o = run(Command::new("atftp")
            .args(["-p", "-l"])
            .arg(src.path().join("up"))
            .args(["-r", "up.cfg", "127.0.0.1", &s.port()]));
        assert!(!o.status.success());
    }
    assert!(!dir.path().join("new.cfg").exists());
    assert!(!dir.path().join("up.cfg").exists());
}

// ---------------------------------------------------------------- raw UDP

fn udp() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn rrq(name: &str, mode: Mode, options: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    codec::encode_request(
        Opcode::Rrq,
        &Request {
            filename: name,
            mode,
            options: options.to_vec(),
        },
        &mut b,
    );
    b
}

fn recv(sock: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = vec![0u8; 65536];
    let (n, from) = sock.recv_from(&mut buf).ok()?;
    buf.truncate(n);
    Some((buf, from))
}

fn parsed(b: &[u8]) -> Packet<'_> {
    codec::parse(b).unwrap()
}

/// Sends `datagram` to the server's port and returns the one answer, parsed (owned).
fn exchange(s: &Server, datagram: &[u8]) -> (Packet<'static>, SocketAddr) {
    let sock = udp();
    sock.send_to(datagram, s.addr).unwrap();
    let (b, from) = recv(&sock).expect("an answer");
    let b: &'static [u8] = Box::leak(b.into_boxed_slice());
    (parsed(b), from)
}

struct Fetched {
    oack: Vec<(String, String)>,
    data: Vec<u8>,
}

/// A minimal RFC 7440 client: ACKs the last block of each window (or each block without
/// windowsize), follows block numbers across the 65535 -> 0 wrap.
fn fetch_raw(s: &Server, name: &str, mode: Mode, options: &[(&str, &str)]) -> Fetched {
    let sock = udp();
    sock.send_to(&rrq(name, mode, options), s.addr).unwrap();
    let mut oack = Vec::new();
    let mut blksize = 512;
    let mut window = 1u64;
    let mut data = Vec::new();
    let mut expect: u16 = 1;
    let mut in_window = 0;
    loop {
        let (b, from) = recv(&sock).expect("a packet before the timeout");
        assert_ne!(from, s.addr, "the transfer must come from its own port");
        match parsed(&b) {
            Packet::Oack { options } => {
                for (k, v) in options {
                    match k {
                        "blksize" => blksize = v.parse().unwrap(),
                        "windowsize" => window = v.parse().unwrap(),
                        _ => {}
                    }
                    oack.push((k.to_owned(), v.to_owned()));
                }
                sock.send_to(&[0, 4, 0, 0], from).unwrap();
            }
            Packet::Data { block, data: d } => {
                assert_eq!(block, expect, "blocks in order on loopback");
                data.extend_from_slice(d);
                in_window += 1;
                expect = expect.wrapping_add(1);
                let last = d.len() < blksize;
                if last || in_window == window {
                    let mut ack = Vec::new();
                    codec::encode_ack(block, &mut ack);
                    sock.send_to(&ack, from).unwrap();
                    in_window = 0;
                }
                if last {
                    return Fetched { oack, data };
                }
            }
            p => panic!("unexpected {p:?}"),
        }
    }
}

#[test]
fn block_numbers_wrap_past_65535() {
    let dir = TempDir::new("tftp");
    // 16-byte blocks: 70,001 blocks, past 65,535.
    let body = bytes_for(7, 16 * 70_000 + 5);
    std::fs::write(dir.path().join("big.bin"), &body).unwrap();
    let s = Server::dir(&dir);
    let got = fetch_raw(
        &s,
        "big.bin",
        Mode::Octet,
        &[("blksize", "16"), ("windowsize", "64")],
    );
    assert!(got.data == body, "bytes differ across the wrap");
    s.wait_count(|m| &m.completed, 1);
}

#[test]
fn malformed_packets_get_an_error_or_silence_and_the_server_goes_on() {
    let dir = served_dir();
    let s = Server::dir(&dir);
    let mut giant = b"\0\x01fw.rom\0octet\0".to_vec();
    for i in 0..2000 {
        giant.extend_from_slice(format!("option{i}\0{i}\0").as_bytes());
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one byte", vec![1]),
        ("unknown opcode", b"\0\x09hello\0".to_vec()),
        ("opcode 0", vec![0, 0, 0, 0]),
        ("RRQ without NULs", b"\0\x01fw.romoctet".to_vec()),
        ("RRQ without mode", b"\0\x01fw.rom\0".to_vec()),
        ("RRQ empty name", b"\0\x01\0octet\0".to_vec()),
        ("RRQ bad mode", b"\0\x01fw.rom\0binary\0".to_vec()),
        ("RRQ mail", b"\0\x01fw.rom\0mail\0".to_vec()),
        (
            "RRQ option without value",
            b"\0\x01fw.rom\0octet\0blksize\0".to_vec(),
        ),
        ("RRQ not UTF-8", b"\0\x01\xff\xfe\0octet\0".to_vec()),
        ("giant option list", giant),
        ("DATA to port 69", b"\0\x03\0\x01payload".to_vec()),
        ("ACK to port 69", vec![0, 4, 0, 1]),
        ("OACK to port 69", b"\0\x06blksize\x00512\0".to_vec()),
        ("ERROR to port 69", b"\0\x05\0\x01x\0".to_vec()),
        ("short ERROR", vec![0, 5]),
    ];
    let n = cases.len() as u64;
    for (what, datagram) in cases {
        let sock = udp();
        sock.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        sock.send_to(&datagram, s.addr).unwrap();
        match recv(&sock) {
            None => assert!(what.contains("ERROR"), "{what}: expected an ERROR packet"),
            Some((b, from)) => {
                assert!(
                    !what.contains("ERROR"),
                    "{what}: never answer an error with an error"
                );
                assert_eq!(from, s.addr, "{what}");
                assert!(
                    matches!(parsed(&b), Packet::Error { .. }),
                    "{what}: {:?}",
                    parsed(&b)
                );
            }
        }
    }
    assert_eq!(s.count(|m| &m.bad_requests), n);
    assert_eq!(s.count(|m| &m.started), 0);
    // Still serving.
    let got = fetch_raw(
        &s,
        FIRMWARE,
        Mode::Octet,
        &[("blksize", "1428"), ("windowsize", "16")],
    );
    assert!(got.data == read(&dir.path().join(FIRMWARE)));
}

#[test]
fn the_concurrency_cap_turns_requests_away_until_a_slot_frees() {
    let dir = served_dir();
    let s = Server::start(
        DirSource::new(dir.path()),
        TftpConfig {
            max_transfers: 1,
            ..TftpConfig::default()
        },
    );
    // A holds the only slot (it never ACKs DATA 1 for now).
    let a = udp();
    a.send_to(&rrq(FIRMWARE, Mode::Octet, &[]), s.addr).unwrap();
    let (b, a_tid) = recv(&a).unwrap();
    assert!(matches!(parsed(&b), Packet::Data { block: 1, .. }));
    // B is turned away by the listening port.
    let (pkt, from) = exchange(&s, &rrq("snomD785.htm", Mode::Octet, &[]));
    assert_eq!(from, s.addr);
    match pkt {
        Packet::Error { code, message } => {
            assert_eq!(code, ErrorCode::NotDefined);
            assert!(message.contains("busy"), "{message}");
        }
        p => panic!("{p:?}"),
    }
    assert_eq!(s.count(|m| &m.busy), 1);
    // A aborts; the slot frees and the next request is served.
    a.send_to(b"\0\x05\0\x00stop\0", a_tid).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (pkt, _) = exchange(&s, &rrq("snomD785.htm", Mode::Octet, &[]));
        if matches!(pkt, Packet::Data { block: 1, .. }) {
            break;
        }
        assert!(Instant::now() < deadline, "the slot never freed: {pkt:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.wait_count(|m| &m.failed, 1);
}

#[test]
fn a_client_that_stops_acking_is_given_up_after_the_retries() {
    let dir = served_dir();
    let s = Server::start(
        DirSource::new(dir.path()),
        TftpConfig {
            retries: 2,
            ..TftpConfig::default()
        },
    );
    let sock = udp();
    let start = Instant::now();
    sock.send_to(&rrq(FIRMWARE, Mode::Octet, &[("timeout", "1")]), s.addr)
        .unwrap();
    let mut oacks = 0;
    let end = loop {
        let (b, _) = recv(&sock).expect("the server ends with an ERROR");
        match parsed(&b) {
            Packet::Oack { options } => {
                assert_eq!(options, [("timeout", "1")]);
                oacks += 1;
            }
            Packet::Error { code, message } => break (code, message),
            p => panic!("{p:?}"),
        }
    };
    // One OACK and two retransmissions, a second apart, then an ERROR.
    assert_eq!(oacks, 3);
    assert_eq!(end.0, ErrorCode::NotDefined);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    sock.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    assert!(recv(&sock).is_none(), "nothing after the ERROR");
    assert_eq!(s.count(|m| &m.failed), 1);
    assert_eq!(s.count(|m| &m.retransmits), 2);
}

#[test]
fn lock_step_retransmits_on_timeout_and_ignores_duplicate_acks() {
    let dir = served_dir();
    let s = Server::dir(&dir);
    let sock = udp();
    sock.send_to(&rrq(FIRMWARE, Mode::Octet, &[("timeout", "1")]), s.addr)
        .unwrap();
    let (b, tid) = recv(&sock).unwrap();
    assert!(matches!(parsed(&b), Packet::Oack { .. }));
    sock.send_to(&[0, 4, 0, 0], tid).unwrap();
    let (b, _) = recv(&sock).unwrap();
    assert!(matches!(parsed(&b), Packet::Data { block: 1, .. }));
    // No ACK: DATA 1 again after the 1 s timeout.
    let t = Instant::now();
    let (b, _) = recv(&sock).unwrap();
    assert!(matches!(parsed(&b), Packet::Data { block: 1, .. }));
    assert!(t.elapsed() >= Duration::from_millis(800));
    // ACK 1 twice: one DATA 2 only (no sorcerer's apprentice doubling).
    sock.send_to(&[0, 4, 0, 1], tid).unwrap();
    sock.send_to(&[0, 4, 0, 1], tid).unwrap();
    let (b, _) = recv(&sock).unwrap();
    assert!(matches!(parsed(&b), Packet::Data { block: 2, .. }));
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(
        recv(&sock).is_none(),
        "a duplicate ACK made the server send again"
    );
    // A stray packet from another port neither ends nor steers the transfer.
    let stray = udp();
    stray.send_to(b"\0\x05\0\x00go away\0", tid).unwrap();
    stray.send_to(&[0, 4, 0, 2], tid).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(&[0, 4, 0, 2], tid).unwrap();
    let (b, _) = recv(&sock).unwrap();
    assert!(
        matches!(parsed(&b), Packet::Data { block: 3, .. }),
        "{:?}",
        parsed(&b)
    );
    sock.send_to(b"\0\x05\0\x00done\0", tid).unwrap();
}

#[test]
fn a_window_restarts_after_an_earlier_ack_and_resends_after_a_timeout() {
    let dir = served_dir();
    let s = Server::dir(&dir);
    let sock = udp();
    let opts = [("windowsize", "4"), ("timeout", "1")];
    sock.send_to(&rrq(FIRMWARE, Mode::Octet, &opts), s.addr)
        .unwrap();
    let (_, tid) = recv(&sock).unwrap();
    sock.send_to(&[0, 4, 0, 0], tid).unwrap();
    let blocks = |n: usize| -> Vec<u16> {
        (0..n)
            .map(|_| match parsed(&recv(&sock).unwrap().0) {
                Packet::Data { block, .. } => block,
                p => panic!("{p:?}"),
            })
            .collect()
    };
    assert_eq!(blocks(4), [1, 2, 3, 4]);
    // Block 3 "lost": ACK 2, and the window starts again at 3.
    sock.send_to(&[0, 4, 0, 2], tid).unwrap();
    assert_eq!(blocks(4), [3, 4, 5, 6]);
    // No ACK: the same window again after the timeout.
    assert_eq!(blocks(4), [3, 4, 5, 6]);
    sock.send_to(&[0, 4, 0, 6], tid).unwrap();
    assert_eq!(blocks(4), [7, 8, 9, 10]);
    sock.send_to(b"\0\x05\0\x00done\0", tid).unwrap();
}

#[test]
fn a_repeated_request_does_not_start_a_second_transfer() {
    let dir = served_dir();
    let s = Server::dir(&dir);
    let sock = udp();
    let req = rrq(FIRMWARE, Mode::Octet, &[]);
    sock.send_to(&req, s.addr).unwrap();
    let (b, tid) = recv(&sock).unwrap();
    assert!(matches!(parsed(&b), Packet::Data { block: 1, .. }));
    sock.send_to(&req, s.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(recv(&sock).is_none(), "a second transfer answered");
    assert_eq!(s.count(|m| &m.started), 1);
    sock.send_to(b"\0\x05\0\x00done\0", tid).unwrap();
}

#[test]
fn shutdown_ends_serve() {
    let dir = served_dir();
    let s = Server::dir(&dir);
    let t = Instant::now();
    drop(s); // sends the shutdown and joins the server's thread
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn shutdown_stops_a_transfer_in_flight() {
    let dir = served_dir();
    let s = Server::dir(&dir);
    let metrics = Arc::clone(&s.metrics);
    let sock = udp();
    sock.send_to(&rrq(FIRMWARE, Mode::Octet, &[]), s.addr)
        .unwrap();
    let (b, _tid) = recv(&sock).unwrap();
    assert!(matches!(parsed(&b), Packet::Data { block: 1, .. }));
    // No ACK: left alone, the transfer would wait 2 s per try for 6 tries.
    let t = Instant::now();
    drop(s); // the runtime's drop waits for the transfer's thread
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "shutdown waited {:?} for a silent transfer",
        t.elapsed()
    );
    assert_eq!(metrics.failed.load(Ordering::Relaxed), 1);
    assert_eq!(metrics.completed.load(Ordering::Relaxed), 0);
}

/// Issue 16, item 2, over TFTP (which carries no User-Agent) with the real `atftp`: a
/// URI-mapped name is for the phone the relay's ARP table holds at the client's address;
/// another MAC there gets that phone's config (or File not found), never the first one's;
/// no entry gets File not found.
#[test]
fn a_mapped_name_is_for_the_phone_arp_holds_at_the_address() {
    if !have("atftp") {
        return;
    }
    let (relay, arp, _dir) = common::mapped_relay("tftp-mapped");
    common::mapped_path_follows_the_arp_table(&arp, || {
        let (got, how) = common::atftp_get(relay.tftp.port(), common::MAPPED);
        if got.is_empty() {
            assert!(how.contains("File not found"), "atftp: {how}");
            return None;
        }
        Some(got)
    });
}
