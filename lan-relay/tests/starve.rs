//! Finding 5 of issue 15, as an attacker performs it: the relay binary runs under a low
//! descriptor limit (`prlimit --nofile=128`), and hosts on the LAN open far more TCP
//! connections than that to its HTTP port, each sending half a request and then nothing.
//! A phone must still get its config by HTTP (curl, a real phone's User-Agent) and by
//! TFTP (atftp), and the relay must not spin on accept errors while the sockets are held.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::TempDir;

const UA: &str = "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01";
const SECRET: &str = "demo-Vq9-kL2m-Zt7x";

/// The relay binary under `prlimit --nofile=<nofile>`, its HTTP and TFTP addresses read
/// from its log.
struct Relay {
    child: Child,
    http: SocketAddr,
    tftp: SocketAddr,
    _state: TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(nofile: u32) -> Relay {
    let state = TempDir::new("starve");
    std::fs::write(
        state.path().join("arp"),
        "IP address HW type Flags HW address Mask Device\n",
    )
    .unwrap();
    let config = state.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = {:?}\narp_table = {:?}\n\
             [http]\nlisten = \"127.0.0.1:0\"\n\
             [tftp]\nenabled = true\nlisten = \"127.0.0.1:0\"\n\
             [starcode]\nenabled = false\n\
             [pnp]\nenabled = false\n",
            state.path(),
            state.path().join("arp"),
        ),
    )
    .unwrap();
    let mut child = Command::new("prlimit")
        .arg(format!("--nofile={nofile}:{nofile}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_lan-relay"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("prlimit (util-linux) is installed");
    let out = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the log for good (a full pipe would block the relay).
    std::thread::spawn(move || {
        for line in out.lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let addr_in = |line: &str| -> Option<SocketAddr> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .and_then(|a| a.parse().ok())
    };
    let (mut http, mut tftp) = (None, None);
    while http.is_none() || tftp.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the relay logs its addresses");
        if line.contains("HTTP provisioning") {
            http = addr_in(&line);
        } else if line.contains("TFTP") {
            tftp = addr_in(&line);
        }
    }
    // The rest of the log is drained by the thread.
    std::thread::spawn(move || while rx.recv().is_ok() {});
    Relay {
        child,
        http: http.unwrap(),
        tftp: tftp.unwrap(),
        _state: state,
    }
}

/// CPU time (user + system) the process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// A TCP connection from `source` to `to` that sends half a request line and stalls.
fn half_open(source: Ipv4Addr, to: SocketAddr) -> Option<TcpStream> {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    s.bind(&SocketAddrV4::new(source, 0).into()).ok()?;
    s.connect_timeout(&to.into(), Duration::from_secs(2)).ok()?;
    let mut s: TcpStream = s.into();
    s.write_all(b"GET /001565000001.cfg HTTP/1.1\r\nHost: relay\r\nUser-Ag")
        .ok()?;
    Some(s)
}

#[test]
fn half_open_connections_beyond_the_descriptor_limit_do_not_starve_phones() {
    let relay = start(128);
    // 600 connections from ten LAN addresses: almost five times the relay's descriptors.
    // (A connection the kernel's backlog has no room for times out; two in a row end it.)
    let (mut held, mut failed) = (Vec::new(), 0);
    for i in 0..600u32 {
        let source = Ipv4Addr::new(127, 0, 0, 2 + (i % 10) as u8);
        match half_open(source, relay.http) {
            Some(s) => {
                held.push(s);
                failed = 0;
            }
            None if failed == 1 => break,
            None => failed += 1,
        }
    }
    assert!(held.len() > 128, "only {} connections opened", held.len());
    // While they are held, the relay sleeps: a spinning accept loop burns a core. Loose
    // bound (a quarter of the wall time), so a busy machine cannot make it flake.
    let before = cpu_ticks(relay.child.id());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(relay.child.id()) - before;
    let hz = 100; // USER_HZ on Linux
    assert!(
        used < 3 * hz / 4,
        "the relay used {used} ticks of CPU in 3 s while the connections were held"
    );
    // A phone gets its config by HTTP...
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-A", UA])
        .arg(format!("http://{}/001565000001.cfg", relay.http))
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && body.contains(SECRET),
        "HTTP: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // ... and by TFTP.
    let (got, how) = common::atftp_get(relay.tftp.port(), "001565000001.cfg");
    assert!(got.contains(SECRET), "TFTP: {how}");
    drop(held);
}

/// The library's HTTP server with `limits`, on 127.0.0.1, serving the demo.
fn serve_with(limits: lan_relay::http::Limits) -> (SocketAddr, tokio::runtime::Runtime, impl Drop) {
    use std::sync::Arc;
    let rt = common::runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(lan_relay::metrics::Metrics::default());
    let state = TempDir::new("starve-lib");
    let p = Arc::new(lan_relay::provision::Provisioner::new(
        &format!("http://{addr}"),
        state.path().join("firmware"),
        Arc::clone(&metrics),
    ));
    p.set_site(lan_relay::config::load_inventory(lan_relay::config::DEMO_INVENTORY).unwrap());
    let (stop, stopped) = common::shutdown();
    rt.spawn(lan_relay::http::serve_with(
        listener, p, metrics, limits, stopped,
    ));
    struct Guard {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        _state: TempDir,
    }
    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(s) = self.stop.take() {
                let _ = s.send(());
            }
        }
    }
    (
        addr,
        rt,
        Guard {
            stop: Some(stop),
            _state: state,
        },
    )
}

/// Reads until the server closes the connection (or 30 s pass: then `false`).
fn closed_by_server(s: &mut TcpStream) -> bool {
    use std::io::Read;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn stalled_and_idle_connections_are_closed_and_one_address_holds_its_share() {
    let limits = lan_relay::http::Limits {
        // Long: what closes the connections below is the idle timeout.
        header_read_timeout: Duration::from_secs(120),
        idle_timeout: Duration::from_secs(1),
        max_connections: 64,
        max_per_address: 2,
    };
    let (addr, _rt, _guard) = serve_with(limits);
    // Half a request head, then nothing: closed.
    let mut stalled = half_open(Ipv4Addr::new(127, 0, 0, 5), addr).unwrap();
    assert!(closed_by_server(&mut stalled));
    // A whole request answered, then silence on the kept-alive connection: closed.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        .unwrap();
    assert!(closed_by_server(&mut idle));
    // A third connection from one address closes that address's stalest.
    let (addr, _rt2, _guard2) = serve_with(lan_relay::http::Limits {
        idle_timeout: Duration::from_secs(120),
        ..limits
    });
    let source = Ipv4Addr::new(127, 0, 0, 6);
    let mut first = half_open(source, addr).unwrap();
    let mut second = half_open(source, addr).unwrap();
    let mut third = half_open(source, addr).unwrap();
    third.write_all(b"ent: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    use std::io::Read;
    third
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 512];
    let n = third.read(&mut buf).unwrap();
    answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Sent with its length, not chunked (phones' HTTP clients expect it).
    assert!(
        answer.to_ascii_lowercase().contains("content-length:"),
        "{answer}"
    );
    // One of the first two made room (either may have been silent longest by the server's
    // clock); no timeout closes them here.
    for s in [&mut first, &mut second] {
        s.set_nonblocking(true).unwrap();
    }
    let mut closed = |s: &mut TcpStream| match s.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    let mut made_room = false;
    for _ in 0..3000 {
        if closed(&mut first) || closed(&mut second) {
            made_room = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        made_room,
        "a connection past the address's share closes its stalest"
    );
}
