//! What the site turns on and off in a running relay (`lan_relay::switches`): the verbose
//! PnP log (`[debug] verbose = 1` in its Additional Parameters) with real SUBSCRIBEs over
//! UDP and the log captured, and TFTP, off by default, with the built binary and the real
//! `atftp` client.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use lan_relay::discovery::Discovery;
use lan_relay::metrics::Metrics;
use lan_relay::provision::Provisioner;
use lan_relay::sip::pnp::{self, Budget, PnpConfig};
use lan_relay::sip::Timers;
use lan_relay::switches::Switches;

use common::{recv_within, shutdown, subscribe, udp_local, TempDir};

/// Everything logged at `info` and above in this test binary.
fn log() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        let sink = Arc::clone(&buf);
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .init();
        buf
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured lines that name `mac`.
fn lines_naming(mac: &str) -> Vec<String> {
    String::from_utf8_lossy(&log().lock().unwrap())
        .lines()
        .filter(|l| l.contains(mac))
        .map(str::to_owned)
        .collect()
}

const DENIED: &str = "001565dddddd";

/// A site whose Additional Parameters say `[debug] verbose = {verbose}`; it denies
/// [`DENIED`].
fn site(verbose: u8) -> engine::Site {
    lan_relay::config::load_inventory(&format!(
        "[site]\npbx_host = \"pbx\"\ndeny_macs = \"{DENIED}\"\n\
         additional_params = \"[debug]\\nverbose = {verbose}\\n\"\n"
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sites_verbose_switch_logs_every_pnp_packet_mac_and_decision_without_a_restart() {
    log();
    let dir = TempDir::new("switches");
    std::fs::write(
        dir.path().join("arp"),
        "IP address HW type Flags HW address Mask Device\n",
    )
    .unwrap();
    let metrics = Arc::new(Metrics::default());
    // Wired as `lan_relay::run` wires it: one switch for the PnP server, its decisions
    // and the registrar, set by each site the provisioner takes.
    let provisioner = Arc::new(
        Provisioner::new("http://192.0.2.10:8480", dir.path(), Arc::clone(&metrics))
            .with_arp_table(lan_relay::arp::ArpTable::new(dir.path().join("arp")))
            .with_switches(Switches::new(false, None)),
    );
    provisioner.set_site(site(0));
    let discovery = Arc::new(
        Discovery::new(
            provisioner.seen(),
            Arc::clone(&provisioner),
            Arc::clone(&metrics),
        )
        .with_debug(provisioner.switches().verbose()),
    );
    let config = PnpConfig {
        timers: Timers::scaled(Duration::from_millis(20)),
        debug: provisioner.switches().verbose(),
        per_source: Budget {
            burst: 100,
            every: Duration::from_millis(1),
        },
        ..PnpConfig::default()
    };
    let (socket, port) = udp_local().await;
    let relay = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let (_stop, stopped) = shutdown();
    tokio::spawn(pnp::serve(socket, discovery, config, stopped));
    let (phone, phone_port) = udp_local().await;
    // One boot: the SUBSCRIBE, then the NOTIFY with the URL (the last step of a decision).
    let boot = |mac: &'static str, cid: &'static str| {
        let phone = &phone;
        async move {
            phone
                .send_to(subscribe(phone_port, mac, cid).as_bytes(), relay)
                .await
                .unwrap();
            loop {
                let (bytes, _) = recv_within(phone, Duration::from_secs(10))
                    .await
                    .expect("the relay answers");
                // This boot's (the earlier ones' are resent while unanswered).
                let msg = String::from_utf8_lossy(&bytes);
                if msg.starts_with("NOTIFY") && msg.contains(&format!("Call-ID: {cid}\r\n")) {
                    break;
                }
            }
        }
    };

    // verbose = 0: the phone is answered, and nothing of it is logged at info.
    boot("001565000a01", "quiet1").await;
    assert_eq!(lines_naming("001565000a01"), Vec::<String>::new());

    // The site says verbose = 1: the packet, its MAC and the decision, at once.
    provisioner.set_site(site(1));
    boot("001565000a02", "loud1").await;
    let lines = lines_naming("001565000a02").join("\n");
    for what in [
        "PnP: SUBSCRIBE ua-profile",
        "call_id=loud1",
        "model=T53W",
        "PnP: provisioning URL chosen",
        "target=\"relay\"",
        "decision=\"provision\"",
    ] {
        assert!(lines.contains(what), "{what} in:\n{lines}");
    }
    assert!(
        !lines.contains("192.0.2.10:8480"),
        "never the URL:\n{lines}"
    );
    // A denied MAC: the packet and the decision to stay silent.
    phone
        .send_to(subscribe(phone_port, DENIED, "denied1").as_bytes(), relay)
        .await
        .unwrap();
    let mut waited = 0;
    while !lines_naming(DENIED)
        .iter()
        .any(|l| l.contains("decision=\"ignore\""))
    {
        assert!(
            waited < 200,
            "the denial is logged: {:?}",
            lines_naming(DENIED)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }

    // Back to verbose = 0: quiet again, still without a restart.
    provisioner.set_site(site(0));
    boot("001565000a03", "quiet2").await;
    assert_eq!(lines_naming("001565000a03"), Vec::<String>::new());
    let all = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
    assert!(all.contains("verbose logging on"), "{all}");
    assert!(all.contains("verbose logging off"), "{all}");
}

/// What the real `atftp` client gets from 127.0.0.1:`port` when nothing answers: nothing,
/// after its retries (1 s apart rather than its default 5 s).
fn atftp_get_nothing(port: u16) -> String {
    let dir = TempDir::new("atftp-none");
    let local = dir.path().join("got");
    let out = Command::new("atftp")
        .args(["--tftp-timeout", "1", "-g", "-r", "001565000001.cfg", "-l"])
        .arg(&local)
        .args(["127.0.0.1", &port.to_string()])
        .output()
        .expect("atftp is installed");
    assert!(!out.status.success(), "atftp failed");
    let got = std::fs::read_to_string(&local).unwrap_or_default();
    assert!(got.is_empty(), "nothing served: {got}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The relay binary, its log (stdout) read line by line.
struct Relay {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    _dir: TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    /// The first log line containing `what` (waiting for the relay as long as it takes to
    /// start on a busy machine).
    fn line(&self, what: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("the relay logs {what:?}"));
            if line.contains(what) {
                return line;
            }
        }
    }
}

/// A free UDP port on 127.0.0.1 (bound, then let go).
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The relay with the demo inventory (plus `site` in its `[site]`) and `tftp` in its
/// `[tftp]`, TFTP's address on `port`.
fn relay(site: &str, tftp: &str, port: u16) -> Relay {
    let dir = TempDir::new("switches-bin");
    let inventory =
        lan_relay::config::DEMO_INVENTORY.replacen("[site]\n", &format!("[site]\n{site}"), 1);
    std::fs::write(dir.path().join("inventory.toml"), inventory).unwrap();
    std::fs::write(
        dir.path().join("arp"),
        "IP address HW type Flags HW address Mask Device\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("relay.toml"),
        format!(
            "state_dir = {:?}\ninventory = {:?}\narp_table = {:?}\n\
             [http]\nlisten = \"127.0.0.1:0\"\n\
             [tftp]\n{tftp}listen = \"127.0.0.1:{port}\"\n\
             [starcode]\nenabled = false\n[pnp]\nenabled = false\n",
            dir.path(),
            dir.path().join("inventory.toml"),
            dir.path().join("arp"),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lan-relay"))
        .arg("--config")
        .arg(dir.path().join("relay.toml"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    Relay {
        child,
        lines,
        _dir: dir,
    }
}

/// The demo's Yealink phone's SIP password: in its config, so the config was served.
const SECRET: &str = "demo-Vq9-kL2m-Zt7x";

#[test]
fn tftp_is_off_by_default_and_on_when_the_site_or_the_relay_turns_it_on() {
    // A default relay: nothing listens on TFTP's port, atftp gets nothing.
    let port = free_udp_port();
    let r = relay("", "", port);
    r.line("HTTP provisioning");
    let how = atftp_get_nothing(port);
    assert!(how.contains("timeout"), "TFTP is off: {how}");
    assert!(
        std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok(),
        "its port is free"
    );
    drop(r);

    // The site turns it on (`tftp_enabled`): served, and the log says what it exposes.
    let port = free_udp_port();
    let r = relay("tftp_enabled = true\n", "", port);
    r.line("TFTP on: the site turned it on");
    r.line("TFTP addr=");
    let (got, how) = common::atftp_get(port, "001565000001.cfg");
    assert!(got.contains(SECRET), "TFTP is on: {how}");
    drop(r);

    // The relay's configuration decides over the site, either way.
    let port = free_udp_port();
    let r = relay("tftp_enabled = true\n", "enabled = false\n", port);
    r.line("keeps it off ([tftp] enabled = false)");
    atftp_get_nothing(port);
    drop(r);
    let port = free_udp_port();
    let r = relay("", "enabled = true\n", port);
    r.line("TFTP addr=");
    let (got, how) = common::atftp_get(port, "001565000001.cfg");
    assert!(got.contains(SECRET), "forced on: {how}");
}
