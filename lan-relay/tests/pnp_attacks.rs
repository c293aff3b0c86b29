//! Issue 15's attacks on SIP PnP, over real UDP on 127.0.0.1 with the relay's own PnP handler
//! ([`Discovery`]) and an ARP table the test writes:
//! - finding 4: a LAN host names a bound phone's MAC in a SUBSCRIBE to get the phone's edge
//!   URL (its token, usable from anywhere later);
//! - finding 7: the sighting reported to the edge says whether the MAC was confirmed, so a
//!   spoofed one cannot rewrite what the edge knows of a phone;
//! - finding 10: a burst of SUBSCRIBEs naming a victim's address; what reaches the victim.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use lan_relay::discovery::Discovery;
use lan_relay::metrics::Metrics;
use lan_relay::provision::Provisioner;
use lan_relay::sip::codec;
use lan_relay::sip::pnp::{self, PnpConfig};
use lan_relay::sip::Timers;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use common::{recv_within, shutdown, subscribe, udp_local, TempDir};

const PHONE_MAC: &str = "001565000001";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const RELAY_URL: &str = "http://192.0.2.10:8480";

/// An edge-mode site whose phone `PHONE_MAC` is bound and has an edge URL.
fn edge_site() -> engine::Site {
    lan_relay::config::load_inventory(&format!(
        "[site]\npbx_host = \"pbx\"\npnp_url = \"edge\"\n\
         [[users]]\nextension = \"201\"\nsip_password = \"pw\"\n\
         [[phones]]\nmac = \"{PHONE_MAC}\"\nvendor = \"yealink\"\nuser_extension = \"201\"\n\
         edge_url = \"https://edge.example.com/p/{TOKEN}\"\n"
    ))
    .unwrap()
}

/// An ARP table holding `mac` for 127.0.0.1 (none: no entry) and another host.
fn arp_file(dir: &TempDir, mac_for_localhost: Option<&str>) -> std::path::PathBuf {
    let mut t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.168.1.9      0x1         0x2         00:15:65:00:00:01     *        eth0\n"
        .to_owned();
    if let Some(m) = mac_for_localhost {
        t.push_str(&format!(
            "127.0.0.1        0x1         0x2         {m}     *        lo\n"
        ));
    }
    let path = dir.path().join("arp");
    std::fs::write(&path, t).unwrap();
    path
}

struct Relay {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    provisioner: Arc<Provisioner>,
    _dir: TempDir,
    _stop: oneshot::Sender<()>,
}

async fn start(arp: Option<&str>, config: PnpConfig) -> Relay {
    let dir = TempDir::new("pnp-attacks");
    let metrics = Arc::new(Metrics::default());
    let provisioner = Arc::new(
        Provisioner::new(RELAY_URL, dir.path().join("fw"), Arc::clone(&metrics))
            .with_arp_table(lan_relay::arp::ArpTable::new(arp_file(&dir, arp))),
    );
    provisioner.set_site(edge_site());
    let handler = Arc::new(Discovery::new(
        provisioner.seen(),
        Arc::clone(&provisioner),
        Arc::clone(&metrics),
    ));
    let (socket, port) = udp_local().await;
    let (stop, stopped) = shutdown();
    tokio::spawn(pnp::serve(socket, handler, config, stopped));
    Relay {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        metrics,
        provisioner,
        _dir: dir,
        _stop: stop,
    }
}

fn scaled() -> PnpConfig {
    PnpConfig {
        timers: Timers::scaled(Duration::from_millis(20)),
        ..PnpConfig::default()
    }
}

/// Sends one SUBSCRIBE naming `mac` and returns the NOTIFY's body (the phone answers it).
async fn notify_body(relay: &Relay, ph: &UdpSocket, port: u16, mac: &str, cid: &str) -> String {
    ph.send_to(subscribe(port, mac, cid).as_bytes(), relay.addr)
        .await
        .unwrap();
    loop {
        let (bytes, from) = recv_within(ph, Duration::from_secs(5))
            .await
            .expect("an answer from the relay");
        let m = codec::parse(&bytes).unwrap();
        if m.method() == Some("NOTIFY") {
            ph.send_to(&codec::response(&m, 200, "OK", "ph", &[]), from)
                .await
                .unwrap();
            return String::from_utf8(m.body().to_vec()).unwrap();
        }
        assert_eq!(m.status(), Some(200));
    }
}

#[tokio::test]
async fn pnp_hands_the_edge_url_only_to_the_mac_the_arp_table_confirms() {
    // The attacker at 127.0.0.1 is not the phone: the ARP table names another MAC for it,
    // or nothing (another subnet, not resolved).
    for arp in [Some("00:15:65:aa:bb:cc"), None] {
        let relay = start(arp, scaled()).await;
        let (ph, port) = udp_local().await;
        let body = notify_body(&relay, &ph, port, PHONE_MAC, "steal@127.0.0.1").await;
        assert!(!body.contains(TOKEN), "arp {arp:?}: the edge URL leaked");
        assert!(!body.contains("edge.example.com"), "arp {arp:?}: {body}");
        assert!(body.starts_with(RELAY_URL), "arp {arp:?}: {body}");
        assert_eq!(
            relay
                .metrics
                .pnp_unconfirmed
                .load(std::sync::atomic::Ordering::Relaxed),
            1,
            "counted"
        );
    }

    // Counted, not braked: a SUBSCRIBE's source can be forged, so 25 of them naming the
    // phone from an address (here the phone's own) must not lock that address out.
    // (The answer budget per source is lifted here: a patient attacker gets there too.)
    let relay = start(
        Some("00:15:65:aa:bb:cc"),
        PnpConfig {
            per_source: pnp::Budget {
                burst: 100,
                every: Duration::from_millis(1),
            },
            ..scaled()
        },
    )
    .await;
    for i in 0..25 {
        let (ph, port) = udp_local().await;
        let _ = notify_body(
            &relay,
            &ph,
            port,
            PHONE_MAC,
            &format!("forged-{i}@127.0.0.1"),
        )
        .await;
    }
    let served = lan_relay::files::FileSource::open(
        &*relay.provisioner,
        lan_relay::files::FileRequest {
            path: format!("{PHONE_MAC}.cfg"),
            user_agent: Some("Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01".to_owned()),
            peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 40000)),
            transport: lan_relay::files::Transport::Http,
        },
    )
    .await;
    assert!(
        served.is_ok(),
        "the address was braked by forged PnP requests"
    );
    // The phone itself: the ARP table holds its MAC at its address.
    let relay = start(Some("00:15:65:00:00:01"), scaled()).await;
    let (ph, port) = udp_local().await;
    let body = notify_body(&relay, &ph, port, PHONE_MAC, "phone@127.0.0.1").await;
    assert_eq!(body, format!("https://edge.example.com/p/{TOKEN}"));
}

#[tokio::test]
async fn a_pnp_sighting_says_whether_the_arp_table_confirmed_the_mac() {
    for (arp, confirmed) in [
        (Some("00:15:65:00:00:01"), true),
        (Some("00:15:65:aa:bb:cc"), false),
        (None, false),
    ] {
        let relay = start(arp, scaled()).await;
        let (ph, port) = udp_local().await;
        let _ = notify_body(&relay, &ph, port, PHONE_MAC, "seen@127.0.0.1").await;
        let seen = relay.provisioner.seen().take();
        assert_eq!(seen.len(), 1, "arp {arp:?}");
        // As the edge receives it.
        let json = serde_json::to_value(&seen[0]).unwrap();
        assert_eq!(json["mac"], PHONE_MAC, "{json}");
        assert_eq!(json["ip"], "127.0.0.1", "{json}");
        assert_eq!(
            json["confirmed"],
            serde_json::Value::Bool(confirmed),
            "arp {arp:?}: {json}"
        );
    }
}

#[tokio::test]
async fn a_burst_of_subscribes_naming_a_victim_gets_bounded_answers() {
    let config = scaled();
    let relay = start(None, config.clone()).await;
    // The victim never answers; the attacker's SUBSCRIBEs name its address (as a spoofed
    // source would), each a new transaction, some sent twice.
    let (victim, victim_port) = udp_local().await;
    let (attacker, _) = udp_local().await;
    let sent = 200;
    let mut bytes_in = 0;
    for i in 0..sent {
        let mac = format!("0015650100{:02x}", i % 256);
        let raw = subscribe(victim_port, &mac, &format!("flood-{i}@127.0.0.1"));
        for _ in 0..(1 + i % 2) {
            attacker.send_to(raw.as_bytes(), relay.addr).await.unwrap();
            bytes_in += raw.len();
        }
    }
    let (mut packets, mut bytes_out) = (0usize, 0usize);
    while let Some((b, _)) = recv_within(&victim, Duration::from_secs(2)).await {
        packets += 1;
        bytes_out += b.len();
    }
    let sends = usize::try_from(
        config.per_source.burst * (1 + config.notify_sends) + config.per_source.burst,
    )
    .unwrap();
    eprintln!(
        "flood: {} SUBSCRIBEs ({bytes_in} bytes) in, {packets} packets ({bytes_out} bytes) to the victim, ratio {:.3}",
        sent + sent / 2,
        bytes_out as f64 / bytes_in as f64
    );
    // At most `burst` answered transactions: each a 200 OK (and its copies for the
    // retransmitted SUBSCRIBE) and a NOTIFY sent at most `notify_sends` times.
    assert!(packets <= sends, "{packets} packets to the victim");
    assert!(packets > 0, "the first SUBSCRIBEs are answered");
}
