//! SIP PnP and check-sync over real UDP sockets on 127.0.0.1 (and, when the test can create
//! a network namespace, over real multicast on its loopback): each vendor's SUBSCRIBE, the
//! 200 OK and NOTIFY it gets, retransmissions both ways, a denied MAC, malformed packets, and
//! the check-sync NOTIFY per vendor with its outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::{Mac, Vendor};
use lan_relay::sip::codec::{self, tag_of, Message};
use lan_relay::sip::notify::{send_check_sync, CheckSyncOptions, Outcome};
use lan_relay::sip::pnp::{self, Budget, PnpConfig, PnpHandler, PnpRequest};
use lan_relay::sip::Timers;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::time::Instant;

use common::{recv_within, shutdown, udp_local};

/// Answers every MAC but the denied one with a URL naming vendor and MAC; records each call.
#[derive(Default)]
struct Handler {
    calls: Mutex<Vec<PnpRequest>>,
    deny: Option<Mac>,
}

impl PnpHandler for Handler {
    async fn subscribe(&self, req: PnpRequest) -> bool {
        let mac = req.info.mac;
        self.calls.lock().unwrap().push(req);
        mac.is_some() && mac != self.deny
    }

    async fn url(&self, req: PnpRequest) -> Option<String> {
        let mac = req.info.mac?;
        Some(format!(
            "http://127.0.0.1:8480/p/{}/{mac}",
            req.info.vendor.to_ascii_lowercase()
        ))
    }
}

struct Relay {
    addr: SocketAddr,
    handler: Arc<Handler>,
    _stop: oneshot::Sender<()>,
}

async fn start(t1_ms: u64, deny: Option<Mac>) -> Relay {
    start_with(t1_ms, deny, PnpConfig::default().max_transactions).await
}

async fn start_with(t1_ms: u64, deny: Option<Mac>, max_transactions: usize) -> Relay {
    let (socket, port) = udp_local().await;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let handler = Arc::new(Handler {
        deny,
        ..Handler::default()
    });
    let config = PnpConfig {
        timers: Timers::scaled(Duration::from_millis(t1_ms)),
        debug: lan_relay::switches::Verbose::forced(true),
        max_transactions,
        // Every phone here is 127.0.0.1; the budgets are tests/pnp_attacks.rs's subject.
        per_source: Budget {
            burst: 1000,
            every: ms(1),
        },
        ..PnpConfig::default()
    };
    let (stop, stopped) = shutdown();
    tokio::spawn(pnp::serve(socket, Arc::clone(&handler), config, stopped));
    Relay {
        addr,
        handler,
        _stop: stop,
    }
}

/// Each vendor's boot-time SUBSCRIBE, with the phone's address (`{port}`), MAC and Call-ID
/// filled in. Shapes from the vendors' manuals and public captures (see the codec's tests).
fn subscribe(vendor: &str, port: u16, mac: &str, call_id: &str) -> String {
    let t = match vendor {
        "yealink" => "SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK1234;rport\r\n\
From: <sip:MAC%3a{mac}@224.0.1.75>;tag=77aa\r\n\
To: <sip:MAC%3a{mac}@224.0.1.75>\r\n\
Call-ID: {cid}\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n\
User-Agent: Yealink SIP-T53W 96.87.0.16\r\nExpires: 0\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Yealink\";model=\"T53W\";version=\"96.87.0.16\"\r\n\
Accept: application/url\r\nContent-Length: 0\r\n\r\n",
        "snom" => "SUBSCRIBE sip:MAC%3a{MAC}@intern.snom.de SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:{port};rport\r\n\
From: <sip:MAC%3a{MAC}@intern.snom.de>;tag=658512961\r\n\
To: <sip:MAC%3a{MAC}@intern.snom.de>\r\n\
Call-ID: {cid}\r\nCSeq: 1 SUBSCRIBE\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"OEM\";model=\"OEM\";version=\"10.1.39.11\"\r\n\
Expires: 0\r\nAccept: application/url\r\nContact: <sip:127.0.0.1:{port}>\r\nContent-Length: 0\r\n\r\n",
        "grandstream" => "SUBSCRIBE sip:MAC%3A{MAC}@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK1611133778;rport\r\n\
From: <sip:MAC%3A{MAC}@224.0.1.75>;tag=395400190\r\n\
To: <sip:MAC%3A{MAC}@224.0.1.75>\r\n\
Call-ID: {cid}\r\nCSeq: 20000 SUBSCRIBE\r\nContact: <sip:127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n\
User-Agent: Grandstream GRP2612W 1.0.5.67\r\nExpires: 0\r\nSupported: replaces, path\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Grandstream\";model=\"GRP2612W\";version=\"1.0.5.67\"\r\n\
Accept: application/url\r\nContent-Length: 0\r\n\r\n",
        "fanvil" => "SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK2216497193;rport\r\n\
From: <sip:MAC%3a{mac}@224.0.1.75>;tag=1428369125\r\n\
To: <sip:MAC%3a{mac}@224.0.1.75>\r\n\
Call-ID: {cid}\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:127.0.0.1:{port}>\r\n\
User-Agent: Fanvil X4U 2.12.1.3 {mac}\r\nExpires: 0\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Fanvil\";model=\"VOIP PHONE\";version=\"2.12.1.3\"\r\n\
Accept: application/url\r\nContent-Length: 0\r\n\r\n",
        "htek" => "SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75 SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK889900\r\n\
f: <sip:MAC%3a{mac}@224.0.1.75>;tag=5151\r\n\
t: <sip:MAC%3a{mac}@224.0.1.75>\r\n\
i: {cid}\r\nCSeq: 1 SUBSCRIBE\r\nm: <sip:127.0.0.1:{port}>\r\n\
User-Agent: Htek UC926 2.0.4.6.41\r\nExpires: 0\r\n\
o: ua-profile;profile-type=\"device\";vendor=\"Htek\";model=\"UC926\";version=\"2.0.4.6.41\"\r\n\
Accept: application/url\r\nl: 0\r\n\r\n",
        other => panic!("no template for {other}"),
    };
    t.replace("{port}", &port.to_string())
        .replace("{mac}", mac)
        .replace("{MAC}", &mac.to_ascii_uppercase())
        .replace("{cid}", call_id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn recv_msg(sock: &UdpSocket) -> (Message, Vec<u8>, SocketAddr) {
    let (bytes, from) = recv_within(sock, ms(3000))
        .await
        .expect("an answer from the relay");
    (codec::parse(&bytes).unwrap(), bytes, from)
}

/// Checks the 200 OK and the NOTIFY the relay sends for `sub`; returns the NOTIFY.
async fn expect_ok_and_notify(
    ph: &UdpSocket,
    sub: &Message,
    url: &str,
) -> (Message, Vec<u8>, SocketAddr) {
    let (ok, ok_bytes, _) = recv_msg(ph).await;
    assert_eq!(
        ok.status(),
        Some(200),
        "{}",
        String::from_utf8_lossy(&ok_bytes)
    );
    assert_eq!(
        ok.headers_named("Via").collect::<Vec<_>>(),
        sub.headers_named("Via").collect::<Vec<_>>()
    );
    assert_eq!(ok.header("From"), sub.header("From"));
    let to = ok.header("To").unwrap();
    assert!(to.starts_with(sub.header("To").unwrap()));
    let our_tag = tag_of(to).expect("a To tag").to_owned();
    assert_eq!(ok.call_id(), sub.call_id());
    assert_eq!(ok.cseq(), sub.cseq());
    assert_eq!(ok.header("Expires"), Some("0"));
    assert!(ok.header("Contact").unwrap().contains("127.0.0.1"));

    let (n, n_bytes, from) = recv_msg(ph).await;
    assert_eq!(
        n.method(),
        Some("NOTIFY"),
        "{}",
        String::from_utf8_lossy(&n_bytes)
    );
    assert_eq!(n.event_package().as_deref(), Some("ua-profile"));
    assert_eq!(n.header("Event"), sub.header("Event"));
    assert_eq!(n.header("Content-Type"), Some("application/url"));
    assert_eq!(
        n.header("Subscription-State"),
        Some("terminated;reason=timeout")
    );
    assert_eq!(n.body(), url.as_bytes());
    assert_eq!(n.call_id(), sub.call_id());
    assert_eq!(n.header("To"), sub.header("From"));
    assert_eq!(tag_of(n.header("From").unwrap()), Some(our_tag.as_str()));
    assert!(n.uri().unwrap().contains("127.0.0.1"));
    (n, n_bytes, from)
}

#[tokio::test]
async fn each_vendor_gets_200_then_notify_with_its_url() {
    let relay = start(50, None).await;
    let vendors = [
        ("yealink", "805e0c4d796d", "Yealink"),
        ("snom", "000413a1b2c3", "OEM"),
        ("grandstream", "c074ad112233", "Grandstream"),
        ("fanvil", "0c383e0a0b0c", "Fanvil"),
        ("htek", "001fc1123456", "Htek"),
    ];
    for (i, (vendor, mac, announced)) in vendors.into_iter().enumerate() {
        let (ph, port) = udp_local().await;
        let raw = subscribe(vendor, port, mac, &format!("{vendor}-1@127.0.0.1"));
        let sub = codec::parse(raw.as_bytes()).unwrap();
        ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
        let url = format!(
            "http://127.0.0.1:8480/p/{}/{mac}",
            announced.to_ascii_lowercase()
        );
        let (n, _, from) = expect_ok_and_notify(&ph, &sub, &url).await;
        assert_eq!(from, relay.addr, "NOTIFY comes from the PnP socket");
        // The phone accepts the NOTIFY: no retransmission follows.
        let ok = codec::response(&n, 200, "OK", "phone", &[]);
        ph.send_to(&ok, from).await.unwrap();
        assert!(
            recv_within(&ph, ms(400)).await.is_none(),
            "{vendor}: nothing after the phone's 200"
        );
        let calls = relay.handler.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), i + 1, "{vendor}: handler called once");
        let call = calls.last().unwrap();
        assert_eq!(call.info.mac, Some(Mac::parse(mac).unwrap()));
        assert_eq!(call.info.vendor, announced);
        assert_eq!(call.peer.port(), port);
    }
}

#[tokio::test]
async fn answered_transactions_make_room_for_new_phones() {
    // A boot storm: far more phones than the transaction table holds, one after another.
    // Decided transactions are evicted for new ones instead of new phones being dropped.
    let relay = start_with(50, None, 4).await;
    for i in 0..12u8 {
        let (ph, port) = udp_local().await;
        let mac = format!("8050c0d0e0{i:02x}");
        let raw = subscribe("yealink", port, &mac, &format!("storm-{i}@127.0.0.1"));
        let sub = codec::parse(raw.as_bytes()).unwrap();
        ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
        let url = format!("http://127.0.0.1:8480/p/yealink/{mac}");
        let (n, _, from) = expect_ok_and_notify(&ph, &sub, &url).await;
        let ok = codec::response(&n, 200, "OK", "phone", &[]);
        ph.send_to(&ok, from).await.unwrap();
    }
    assert_eq!(relay.handler.calls.lock().unwrap().len(), 12);
}

#[tokio::test]
async fn retransmitted_subscribe_gets_the_same_ok_and_no_second_notify() {
    let relay = start(50, None).await;
    let (ph, port) = udp_local().await;
    let raw = subscribe("yealink", port, "001565aabbcc", "rtx@127.0.0.1");
    let sub = codec::parse(raw.as_bytes()).unwrap();
    ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
    let (first_ok, _) = recv_within(&ph, ms(3000)).await.unwrap();
    let (notify, from) = recv_within(&ph, ms(3000)).await.unwrap();
    let n = codec::parse(&notify).unwrap();
    assert_eq!(n.body(), b"http://127.0.0.1:8480/p/yealink/001565aabbcc");
    ph.send_to(&codec::response(&n, 200, "OK", "p", &[]), from)
        .await
        .unwrap();
    for _ in 0..3 {
        ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
        let (again, _) = recv_within(&ph, ms(3000)).await.unwrap();
        assert_eq!(again, first_ok, "the cached 200 OK, byte for byte");
    }
    assert!(
        recv_within(&ph, ms(400)).await.is_none(),
        "no second NOTIFY"
    );
    assert_eq!(relay.handler.calls.lock().unwrap().len(), 1);
    // A new CSeq is a new transaction.
    let next = raw.replace("CSeq: 1 SUBSCRIBE", "CSeq: 2 SUBSCRIBE");
    ph.send_to(next.as_bytes(), relay.addr).await.unwrap();
    let _ = expect_ok_and_notify(
        &ph,
        &codec::parse(next.as_bytes()).unwrap(),
        "http://127.0.0.1:8480/p/yealink/001565aabbcc",
    )
    .await;
    assert_eq!(relay.handler.calls.lock().unwrap().len(), 2);
    let _ = sub;
}

/// The NOTIFYs a phone that sends `raw` receives until the relay falls silent; `answer`
/// makes it answer the first one with `100 Trying`.
async fn notify_copies(relay: &Relay, ph: &UdpSocket, raw: &str, answer: bool) -> usize {
    ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
    let (ok, _) = recv_within(ph, ms(3000)).await.unwrap();
    assert_eq!(codec::parse(&ok).unwrap().status(), Some(200));
    let mut first: Option<Vec<u8>> = None;
    let mut copies = 0;
    while let Some((bytes, from)) = recv_within(ph, ms(1000)).await {
        copies += 1;
        match &first {
            None => {
                if answer {
                    let n = codec::parse(&bytes).unwrap();
                    ph.send_to(&codec::response(&n, 100, "Trying", "p", &[]), from)
                        .await
                        .unwrap();
                }
                first = Some(bytes);
            }
            Some(f) => assert_eq!(&bytes, f, "retransmissions are identical"),
        }
    }
    copies
}

#[tokio::test]
async fn unanswered_notify_is_sent_a_few_times_then_dropped() {
    // T1 = 40 ms, T2 = 320 ms, timeout 2.56 s: RFC 3261's timers alone send eleven copies.
    let relay = start(40, None).await;
    let (ph, port) = udp_local().await;
    let raw = subscribe("snom", port, "000413010203", "quiet@127.0.0.1");
    let copies = notify_copies(&relay, &ph, &raw, false).await;
    let cap = usize::try_from(PnpConfig::default().notify_sends).unwrap();
    assert_eq!(copies, cap, "a silent address gets the NOTIFY {cap} times");
    // A phone that answers provisionally is a phone: RFC 3261's timers alone apply, until
    // the timeout.
    let raw = subscribe("snom", port, "000413010204", "slow@127.0.0.1");
    let copies = notify_copies(&relay, &ph, &raw, true).await;
    assert!(copies > cap, "{copies} copies after a 100 Trying");
}

#[tokio::test]
async fn denied_mac_gets_silence_and_one_handler_call() {
    let denied = Mac::parse("000b82112233").unwrap();
    let relay = start(50, Some(denied)).await;
    let (ph, port) = udp_local().await;
    let raw = subscribe("grandstream", port, "000b82112233", "deny@127.0.0.1");
    for _ in 0..3 {
        ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
        assert!(
            recv_within(&ph, ms(300)).await.is_none(),
            "no 200, no NOTIFY"
        );
    }
    let calls = relay.handler.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].info.mac, Some(denied));
    // Another phone is still served.
    let raw = subscribe("grandstream", port, "000b82445566", "allow@127.0.0.1");
    ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
    let _ = expect_ok_and_notify(
        &ph,
        &codec::parse(raw.as_bytes()).unwrap(),
        "http://127.0.0.1:8480/p/grandstream/000b82445566",
    )
    .await;
}

#[tokio::test]
async fn malformed_and_foreign_packets_get_errors_or_silence_and_the_server_survives() {
    let relay = start(50, None).await;
    let (ph, port) = udp_local().await;
    let good = subscribe("fanvil", port, "0c383e0a0b0c", "m@127.0.0.1");
    // Silence: garbage, non-UTF-8, oversize, a response nobody asked for, an ACK,
    // keep-alives.
    let silent: Vec<Vec<u8>> = vec![
        b"hello".to_vec(),
        vec![0xff; 300],
        good.replacen("Expires: 0", &format!("X: {}", "a".repeat(9000)), 1)
            .into_bytes(),
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: zz\r\nCSeq: 1 NOTIFY\r\n\r\n".to_vec(),
        format!("ACK sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port}\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: a1\r\nCSeq: 1 ACK\r\n\r\n").into_bytes(),
        b"\r\n\r\n".to_vec(),
        good.replacen("SUBSCRIBE sip", "SUBSCRIBE  sip", 1).into_bytes(),
    ];
    for p in &silent {
        ph.send_to(p, relay.addr).await.unwrap();
        assert!(
            recv_within(&ph, ms(200)).await.is_none(),
            "silence for {:?}",
            String::from_utf8_lossy(p)
        );
    }
    // 400 with the reason: a request with a Via that fails to parse.
    let cases = [
        (
            good.replacen("Call-ID: m@127.0.0.1\r\n", "", 1),
            "missing Call-ID header",
        ),
        (
            good.replacen("Content-Length: 0", "Content-Length: 99", 1),
            "Content-Length 99 but only 0 body bytes",
        ),
        (
            good.replacen("CSeq: 1 SUBSCRIBE", "CSeq: 1 INVITE", 1),
            "invalid CSeq",
        ),
    ];
    for (raw, why) in cases {
        ph.send_to(raw.as_bytes(), relay.addr).await.unwrap();
        // Checked as text: the 400 for a missing Call-ID has none either.
        let (bytes, _) = recv_within(&ph, ms(3000)).await.expect("a 400");
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("SIP/2.0 400 Bad Request\r\n"), "{text}");
        assert!(
            text.contains(&format!("Warning: 399 lan-relay \"{why}\"")),
            "{text}"
        );
        assert!(
            text.contains(&format!("Via: SIP/2.0/UDP 127.0.0.1:{port}")),
            "{text}"
        );
    }
    // Proper errors for other events and methods.
    let other_event = good.replacen("o: ua-profile", "o: dialog", 1).replacen(
        "Event: ua-profile;profile-type=\"device\";vendor=\"Fanvil\";model=\"VOIP PHONE\";version=\"2.12.1.3\"",
        "Event: message-summary",
        1,
    );
    let other_event = other_event.replace("m@127.0.0.1", "ev@127.0.0.1");
    ph.send_to(other_event.as_bytes(), relay.addr)
        .await
        .unwrap();
    let (m, _, _) = recv_msg(&ph).await;
    assert_eq!(m.status(), Some(489));
    assert_eq!(m.header("Allow-Events"), Some("ua-profile"));
    let invite = good.replacen("SUBSCRIBE sip", "INVITE sip", 1).replacen(
        "CSeq: 1 SUBSCRIBE",
        "CSeq: 1 INVITE",
        1,
    );
    ph.send_to(invite.as_bytes(), relay.addr).await.unwrap();
    let (m, _, _) = recv_msg(&ph).await;
    assert_eq!(m.status(), Some(405));
    assert!(relay.handler.calls.lock().unwrap().is_empty());
    // The server still works.
    ph.send_to(good.as_bytes(), relay.addr).await.unwrap();
    let _ = expect_ok_and_notify(
        &ph,
        &codec::parse(good.as_bytes()).unwrap(),
        "http://127.0.0.1:8480/p/fanvil/0c383e0a0b0c",
    )
    .await;
}

async fn check_sync_against(
    vendor: Vendor,
    reboot: bool,
    answer: Option<u16>,
) -> (Outcome, Vec<Message>) {
    let (ph, _) = udp_local().await;
    let phone_addr = ph.local_addr().unwrap();
    let (relay, _) = udp_local().await;
    let opts = CheckSyncOptions {
        user: Some("201".to_owned()),
        timers: Timers::scaled(Duration::from_millis(20)),
        ..CheckSyncOptions::default()
    };
    let task = tokio::spawn(async move {
        send_check_sync(&relay, phone_addr, vendor, reboot, &opts)
            .await
            .unwrap()
    });
    let mut seen = Vec::new();
    while let Some((bytes, from)) = recv_within(&ph, ms(600)).await {
        let m = codec::parse(&bytes).unwrap();
        if let Some(code) = answer {
            // A provisional first, then the final answer.
            ph.send_to(&codec::response(&m, 100, "Trying", "ph", &[]), from)
                .await
                .unwrap();
            ph.send_to(&codec::response(&m, code, "Answer", "ph", &[]), from)
                .await
                .unwrap();
            seen.push(m);
            break;
        }
        seen.push(m);
    }
    (task.await.unwrap(), seen)
}

#[tokio::test]
async fn check_sync_is_sent_per_vendor_and_answers_are_typed() {
    let (out, seen) = check_sync_against(Vendor::Snom, true, Some(200)).await;
    assert_eq!(out, Outcome::Accepted(200));
    assert_eq!(seen.len(), 1);
    let n = &seen[0];
    assert_eq!(n.method(), Some("NOTIFY"));
    assert_eq!(n.header("Event"), Some("check-sync;reboot=true"));
    assert!(n.uri().unwrap().starts_with("sip:201@127.0.0.1:"));
    assert!(n.header("Via").unwrap().contains("127.0.0.1:"));

    let (out, seen) = check_sync_against(Vendor::Snom, false, Some(202)).await;
    assert_eq!(out, Outcome::Accepted(202));
    assert_eq!(seen[0].header("Event"), Some("check-sync;reboot=false"));

    let (out, seen) = check_sync_against(Vendor::Yealink, true, Some(489)).await;
    assert_eq!(out, Outcome::BadEvent);
    assert_eq!(seen[0].header("Event"), Some("check-sync;reboot=true"));

    let (out, seen) = check_sync_against(Vendor::Fanvil, false, Some(481)).await;
    assert_eq!(out, Outcome::NoSubscription);
    assert_eq!(seen[0].header("Event"), Some("check-sync"));

    let (out, seen) = check_sync_against(Vendor::Grandstream, false, Some(401)).await;
    assert_eq!(out, Outcome::AuthRequired(401));
    assert_eq!(seen[0].header("Event"), Some("check-sync"));

    let (out, seen) = check_sync_against(Vendor::Htek, false, Some(200)).await;
    assert_eq!(out, Outcome::Accepted(200));
    assert_eq!(seen[0].header("Event"), Some("check-sync;reboot=false"));
}

#[tokio::test]
async fn check_sync_to_a_silent_phone_times_out_after_retransmissions() {
    // T1 = 20 ms: timeout after 1.28 s.
    let started = Instant::now();
    let (out, seen) = check_sync_against(Vendor::Yealink, false, None).await;
    assert_eq!(out, Outcome::Timeout);
    assert!(seen.len() >= 5, "{} copies", seen.len());
    let branch = seen[0].top_branch().unwrap().to_owned();
    assert!(seen.iter().all(|m| m.top_branch() == Some(branch.as_str())));
    assert!(started.elapsed() >= Duration::from_millis(1200));
}

/// Multicast for real: in a fresh network namespace (created by re-running this test binary
/// under `unshare -n`, which needs root or user namespaces), loopback gets multicast and a
/// route for 224.0.0.0/4, the relay joins 224.0.1.75 on 127.0.0.1:5060 through
/// `bind_multicast`, and a phone socket multicasts its SUBSCRIBE to the group. Skipped, with
/// a message, where namespaces cannot be made.
#[test]
fn multicast_pnp_in_a_network_namespace() {
    let exe = std::env::current_exe().unwrap();
    let script = "ip link set lo up && ip link set lo multicast on && \
                  ip route add 224.0.0.0/4 dev lo && \
                  exec \"$0\" --exact multicast_inner --ignored --nocapture";
    let out = std::process::Command::new("unshare")
        .args(["-rn", "sh", "-c", script])
        .arg(&exe)
        .env("PNP_NETNS", "1")
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipped: cannot run unshare: {e}");
            return;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() && !text.contains("running 1 test") {
        eprintln!("skipped: no network namespace here: {text}");
        return;
    }
    assert!(out.status.success(), "{text}");
    assert!(text.contains("multicast_inner ... ok"), "{text}");
}

#[tokio::test]
#[ignore = "run by multicast_pnp_in_a_network_namespace inside its namespace"]
async fn multicast_inner() {
    if std::env::var_os("PNP_NETNS").is_none() {
        return;
    }
    let socket = pnp::bind_multicast(Ipv4Addr::LOCALHOST, pnp::PNP_PORT).unwrap();
    let handler = Arc::new(Handler::default());
    let config = PnpConfig {
        timers: Timers::scaled(Duration::from_millis(50)),
        ..PnpConfig::default()
    };
    let (_stop, stopped) = shutdown();
    tokio::spawn(pnp::serve(socket, Arc::clone(&handler), config, stopped));
    let (ph, port) = udp_local().await;
    let raw = subscribe("yealink", port, "805e0c4d796d", "mc@127.0.0.1");
    let group = SocketAddr::from((pnp::PNP_GROUP, pnp::PNP_PORT));
    ph.send_to(raw.as_bytes(), group).await.unwrap();
    let (n, _, from) = expect_ok_and_notify(
        &ph,
        &codec::parse(raw.as_bytes()).unwrap(),
        "http://127.0.0.1:8480/p/yealink/805e0c4d796d",
    )
    .await;
    assert_eq!(from.port(), pnp::PNP_PORT);
    ph.send_to(&codec::response(&n, 200, "OK", "p", &[]), from)
        .await
        .unwrap();
    assert!(recv_within(&ph, ms(300)).await.is_none());
    assert_eq!(handler.calls.lock().unwrap().len(), 1);
}
