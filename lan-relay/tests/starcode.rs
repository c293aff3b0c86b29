//! Star-code self-binding over real UDP sockets on 127.0.0.1, with a scripted phone (sipp is
//! not packaged for this machine): REGISTER with digest auth (401, 200, 403, stale nonce),
//! the `*123*200` INVITE (407, 100, 200 with SDP, ACK, BYE, reboot NOTIFY) and the binder
//! called once, numbers that are not star codes, an ARP table naming another MAC, a failing
//! binder, and malformed packets. With the relay's own binder (issue 16): both forms of the
//! star code (`*123*`, MikoPBX's `*123*XXX`) and hot-desking. The digest is computed here from the RFC's formulas, not
//! with the registrar's code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::{Mac, Secret, Vendor};
use lan_relay::sip::codec::{self, tag_of, Message};
use lan_relay::sip::registrar::{self, Binder, Binding, RegistrarConfig};
use lan_relay::sip::Timers;
use md5::{Digest, Md5};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::time::Instant;

use common::{recv_within, shutdown, udp_local, TempDir};

const USER: &str = "001565aabbcc";
const PASS: &str = "s3cret-per-phone";
const REALM: &str = "relay.test";
const UA: &str = "Yealink SIP-T46S 66.86.0.15";

#[derive(Default)]
struct TestBinder {
    binds: Mutex<Vec<(Mac, String, Option<Vendor>)>>,
    fail: bool,
    delay: Duration,
    awaiting: bool,
}

impl Binder for TestBinder {
    fn account(&self, user: &str) -> Option<(Mac, Secret<String>)> {
        (user == USER).then(|| (Mac::parse(USER).unwrap(), Secret::from(PASS)))
    }

    async fn bind(
        &self,
        mac: Mac,
        code: &engine::StarCode,
        vendor: Option<Vendor>,
        source: std::net::IpAddr,
    ) -> Result<Binding, String> {
        assert_eq!(source, std::net::IpAddr::from(Ipv4Addr::LOCALHOST));
        self.binds
            .lock()
            .unwrap()
            .push((mac, code.extension.clone(), vendor));
        tokio::time::sleep(self.delay).await;
        if self.fail {
            Err("edge unreachable".to_owned())
        } else if self.awaiting {
            Ok(Binding::AwaitingApproval)
        } else {
            Ok(Binding::Made)
        }
    }
}

struct Relay {
    addr: SocketAddr,
    binder: Arc<TestBinder>,
    _arp: TempDir,
    _stop: oneshot::Sender<()>,
}

/// A directory holding an ARP table, `arp`, in `/proc/net/arp`'s format.
fn arp_file(mac_for_localhost: Option<&str>) -> TempDir {
    let dir = TempDir::new("starcode-arp");
    let mut t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.168.1.9      0x1         0x2         00:04:13:99:99:99     *        eth0\n"
        .to_owned();
    if let Some(m) = mac_for_localhost {
        t.push_str(&format!(
            "127.0.0.1        0x1         0x2         {m}     *        lo\n"
        ));
    }
    std::fs::write(dir.path().join("arp"), t).unwrap();
    dir
}

async fn start_with(arp: Option<&str>, fail: bool, nonce_lifetime: Duration) -> Relay {
    start_slow(arp, fail, nonce_lifetime, Duration::ZERO).await
}

async fn start_slow(
    arp: Option<&str>,
    fail: bool,
    nonce_lifetime: Duration,
    delay: Duration,
) -> Relay {
    let (socket, port) = udp_local().await;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let binder = Arc::new(TestBinder {
        fail,
        delay,
        ..TestBinder::default()
    });
    let arp = arp_file(arp);
    let mut config = RegistrarConfig::new("*123*", REALM, [42; 32]);
    config.timers = Timers::scaled(Duration::from_millis(20));
    config.debug = lan_relay::switches::Verbose::forced(true);
    config.nonce_lifetime = nonce_lifetime;
    config.arp = lan_relay::arp::ArpTable::new(arp.path().join("arp"));
    let (stop, stopped) = shutdown();
    tokio::spawn(registrar::serve(
        socket,
        Arc::clone(&binder),
        config,
        stopped,
    ));
    Relay {
        addr,
        binder,
        _arp: arp,
        _stop: stop,
    }
}

/// What the ARP table holds for the test phone's address (127.0.0.1): its own MAC.
const PHONE_ARP: Option<&str> = Some("00:15:65:aa:bb:cc");

async fn start() -> Relay {
    start_with(PHONE_ARP, false, Duration::from_secs(300)).await
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// RFC 2617 §3.2.2.1 with qop=auth.
fn digest(user: &str, pass: &str, method: &str, uri: &str, nonce: &str, cnonce: &str) -> String {
    let ha1 = md5_hex(&format!("{user}:{REALM}:{pass}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    md5_hex(&format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"))
}

fn credentials(user: &str, pass: &str, method: &str, uri: &str, nonce: &str) -> String {
    let cnonce = "0a4f113b";
    let resp = digest(user, pass, method, uri, nonce, cnonce);
    format!(
        "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
         response=\"{resp}\", algorithm=MD5, cnonce=\"{cnonce}\", qop=auth, nc=00000001"
    )
}

/// The `param="value"` (or unquoted) of a challenge.
fn param(challenge: &str, name: &str) -> Option<String> {
    challenge
        .trim_start_matches("Digest ")
        .split(',')
        .find_map(|p| p.trim().strip_prefix(&format!("{name}=")))
        .map(|v| v.trim_matches('"').to_owned())
}

struct Phone {
    sock: UdpSocket,
    port: u16,
    relay: SocketAddr,
    seq: u32,
}

impl Phone {
    async fn new(relay: SocketAddr) -> Self {
        let (sock, port) = udp_local().await;
        Self {
            sock,
            port,
            relay,
            seq: 0,
        }
    }

    fn branch(&mut self) -> String {
        self.seq += 1;
        format!("z9hG4bKphone{}", self.seq)
    }

    async fn send(&self, raw: &str) {
        self.sock.send_to(raw.as_bytes(), self.relay).await.unwrap();
    }

    /// The next SIP message (from anyone), or None after `wait`.
    async fn recv_within(&self, wait: Duration) -> Option<(Message, SocketAddr)> {
        let (bytes, from) = recv_within(&self.sock, wait).await?;
        Some((
            codec::parse(&bytes).expect("the relay sends valid SIP"),
            from,
        ))
    }

    async fn recv(&self) -> (Message, SocketAddr) {
        self.recv_within(Duration::from_secs(3))
            .await
            .expect("an answer from the relay")
    }

    /// The next message for which `pred` holds (others, such as retransmissions, skipped).
    async fn recv_until(&self, pred: impl Fn(&Message) -> bool) -> (Message, SocketAddr) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (m, from) = self
                .recv_within(left)
                .await
                .expect("the expected message before the deadline");
            if pred(&m) {
                return (m, from);
            }
        }
    }

    fn register(
        &mut self,
        user: &str,
        call_id: &str,
        cseq: u32,
        expires: u32,
        auth: Option<&str>,
    ) -> String {
        let branch = self.branch();
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:{relay} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{user}@{relay}>;tag=ph1\r\n\
             To: <sip:{user}@{relay}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <sip:{user}@127.0.0.1:{port}>\r\n\
             Expires: {expires}\r\n\
             User-Agent: {UA}\r\n\
             {auth}Content-Length: 0\r\n\r\n",
            relay = self.relay,
            port = self.port,
        )
    }

    fn register_uri(&self) -> String {
        format!("sip:{}", self.relay)
    }

    /// An INVITE to `number` with an SDP offer; `branch` given so a test can retransmit.
    fn invite(
        &self,
        number: &str,
        call_id: &str,
        cseq: u32,
        branch: &str,
        auth: Option<&str>,
    ) -> String {
        let sdp = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
        let auth = auth
            .map(|a| format!("Proxy-Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "INVITE {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: \"Phone\" <sip:{USER}@{relay}>;tag=inv1\r\n\
             To: <{uri}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} INVITE\r\n\
             Contact: <sip:{USER}@127.0.0.1:{port}>\r\n\
             User-Agent: {UA}\r\n\
             {auth}Content-Type: application/sdp\r\n\
             Content-Length: {len}\r\n\r\n{sdp}",
            uri = self.invite_uri(number),
            relay = self.relay,
            port = self.port,
            len = sdp.len(),
        )
    }

    fn invite_uri(&self, number: &str) -> String {
        format!("sip:{number}@{}", self.relay)
    }

    fn ack(
        &mut self,
        number: &str,
        call_id: &str,
        cseq: u32,
        branch: Option<&str>,
        to: &str,
    ) -> String {
        let branch = branch.map_or_else(|| self.branch(), str::to_owned);
        format!(
            "ACK {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: \"Phone\" <sip:{USER}@{relay}>;tag=inv1\r\n\
             To: {to}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} ACK\r\n\
             Content-Length: 0\r\n\r\n",
            uri = self.invite_uri(number),
            relay = self.relay,
            port = self.port,
        )
    }

    /// Registers with the right password; returns nothing, asserts the 200.
    async fn register_ok(&mut self) {
        let r = self.register(USER, "reg-1", 1, 3600, None);
        self.send(&r).await;
        let (m, _) = self.recv().await;
        assert_eq!(m.status(), Some(401));
        let nonce = param(m.header("WWW-Authenticate").unwrap(), "nonce").unwrap();
        let creds = credentials(USER, PASS, "REGISTER", &self.register_uri(), &nonce);
        let r = self.register(USER, "reg-1", 2, 3600, Some(&creds));
        self.send(&r).await;
        let (m, _) = self.recv().await;
        assert_eq!(m.status(), Some(200));
    }

    /// INVITE `number` without credentials, and from the `407`'s nonce the INVITE (CSeq 2, a
    /// new branch) with `pass`'s credentials, not sent yet; with its branch.
    async fn challenged_invite(
        &mut self,
        number: &str,
        call_id: &str,
        pass: &str,
    ) -> (String, String) {
        let b = self.branch();
        let inv = self.invite(number, call_id, 1, &b, None);
        self.send(&inv).await;
        let (m, _) = self.recv().await;
        let nonce = param(m.header("Proxy-Authenticate").unwrap(), "nonce").unwrap();
        let creds = credentials(USER, pass, "INVITE", &self.invite_uri(number), &nonce);
        let b = self.branch();
        (self.invite(number, call_id, 2, &b, Some(&creds)), b)
    }

    /// INVITE, 407, ACK, INVITE with credentials; returns the final answer (after any
    /// `100 Trying`) and the authenticated INVITE as sent.
    async fn call(&mut self, number: &str, call_id: &str) -> (Message, String) {
        let b1 = self.branch();
        let inv = self.invite(number, call_id, 1, &b1, None);
        self.send(&inv).await;
        let (m, _) = self.recv().await;
        assert_eq!(m.status(), Some(407), "INVITE without credentials");
        let ch = m.header("Proxy-Authenticate").unwrap().to_owned();
        assert_eq!(param(&ch, "realm").as_deref(), Some(REALM));
        assert_eq!(param(&ch, "qop").as_deref(), Some("auth"));
        let to = m.header("To").unwrap().to_owned();
        let ack = self.ack(number, call_id, 1, Some(&b1), &to);
        self.send(&ack).await;
        let nonce = param(&ch, "nonce").unwrap();
        let uri = self.invite_uri(number);
        let creds = credentials(USER, PASS, "INVITE", &uri, &nonce);
        let b2 = self.branch();
        let inv = self.invite(number, call_id, 2, &b2, Some(&creds));
        self.send(&inv).await;
        let (m, _) = self.recv_until(|m| m.status() != Some(100)).await;
        (m, inv)
    }
}

#[tokio::test]
async fn register_digest_auth() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;

    // No credentials: 401 with a fresh nonce, qop auth, MD5.
    let r = phone.register(USER, "reg-a", 1, 3600, None);
    phone.send(&r).await;
    let (m, _) = phone.recv().await;
    assert_eq!(m.status(), Some(401));
    assert!(tag_of(m.header("To").unwrap()).is_some());
    let ch = m.header("WWW-Authenticate").unwrap().to_owned();
    assert!(ch.starts_with("Digest "), "{ch}");
    assert_eq!(param(&ch, "realm").as_deref(), Some(REALM));
    assert_eq!(param(&ch, "qop").as_deref(), Some("auth"));
    assert_eq!(param(&ch, "algorithm").as_deref(), Some("MD5"));
    assert_eq!(param(&ch, "stale"), None);
    let nonce = param(&ch, "nonce").unwrap();
    assert!(nonce.len() >= 16);

    // The right password: 200 with the Contact and Expires.
    let uri = phone.register_uri();
    let creds = credentials(USER, PASS, "REGISTER", &uri, &nonce);
    let r = phone.register(USER, "reg-a", 2, 600, Some(&creds));
    phone.send(&r).await;
    let (m, _) = phone.recv().await;
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.header("Expires"), Some("600"));
    let contact = m.header("Contact").unwrap();
    assert!(
        contact.contains(&format!("sip:{USER}@127.0.0.1:{}", phone.port))
            && contact.contains("expires=600"),
        "{contact}"
    );

    // The same request again (a retransmission): the same answer.
    phone.send(&r).await;
    let (again, _) = phone.recv().await;
    assert_eq!(again, m);

    // A wrong password: 403.
    let creds = credentials(USER, "guess", "REGISTER", &uri, &nonce);
    let r = phone.register(USER, "reg-a", 3, 600, Some(&creds));
    phone.send(&r).await;
    assert_eq!(phone.recv().await.0.status(), Some(403));

    // An unknown account (right format, any password): 403 as well.
    let creds = credentials("0015650000ff", PASS, "REGISTER", &uri, &nonce);
    let r = phone.register("0015650000ff", "reg-b", 1, 600, Some(&creds));
    phone.send(&r).await;
    assert_eq!(phone.recv().await.0.status(), Some(403));

    // A nonce the relay did not issue: a fresh challenge.
    let creds = credentials(
        USER,
        PASS,
        "REGISTER",
        &uri,
        "00000000000000000000000000000000000000000000",
    );
    let r = phone.register(USER, "reg-a", 4, 600, Some(&creds));
    phone.send(&r).await;
    let (m, _) = phone.recv().await;
    assert_eq!(m.status(), Some(401));
    assert_eq!(param(m.header("WWW-Authenticate").unwrap(), "stale"), None);

    // A digest over another URI: 403.
    let creds = credentials(USER, PASS, "REGISTER", "sip:elsewhere", &nonce);
    let r = phone.register(USER, "reg-a", 5, 600, Some(&creds));
    phone.send(&r).await;
    assert_eq!(phone.recv().await.0.status(), Some(403));

    // Expires 0 unregisters: 200 with Expires 0.
    let creds = credentials(USER, PASS, "REGISTER", &uri, &nonce);
    let r = phone.register(USER, "reg-a", 6, 0, Some(&creds));
    phone.send(&r).await;
    let (m, _) = phone.recv().await;
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.header("Expires"), Some("0"));
    assert!(relay.binder.binds.lock().unwrap().is_empty());
}

#[tokio::test]
async fn stale_nonce_gets_stale_true() {
    let relay = start_with(PHONE_ARP, false, Duration::from_millis(300)).await;
    let mut phone = Phone::new(relay.addr).await;
    let r = phone.register(USER, "reg-s", 1, 3600, None);
    phone.send(&r).await;
    let (m, _) = phone.recv().await;
    let nonce = param(m.header("WWW-Authenticate").unwrap(), "nonce").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let uri = phone.register_uri();
    let creds = credentials(USER, PASS, "REGISTER", &uri, &nonce);
    let r = phone.register(USER, "reg-s", 2, 3600, Some(&creds));
    phone.send(&r).await;
    let (m, _) = phone.recv().await;
    assert_eq!(m.status(), Some(401));
    let ch = m.header("WWW-Authenticate").unwrap();
    assert_eq!(param(ch, "stale").as_deref(), Some("true"), "{ch}");
    let fresh = param(ch, "nonce").unwrap();
    assert_ne!(fresh, nonce);
    // A wrong password with the expired nonce is still a 403, not a stale hint.
    let creds = credentials(USER, "guess", "REGISTER", &uri, &nonce);
    let r = phone.register(USER, "reg-s", 3, 3600, Some(&creds));
    phone.send(&r).await;
    assert_eq!(phone.recv().await.0.status(), Some(403));
    // The fresh nonce works.
    let creds = credentials(USER, PASS, "REGISTER", &uri, &fresh);
    let r = phone.register(USER, "reg-s", 4, 3600, Some(&creds));
    phone.send(&r).await;
    assert_eq!(phone.recv().await.0.status(), Some(200));
}

#[tokio::test]
async fn star_code_binds_answers_hangs_up_and_reboots() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;
    phone.register_ok().await;

    let number = "*123*200";
    let (ok, _) = phone.call(number, "call-1").await;
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    assert_eq!(ok.cseq(), Some((2, "INVITE")));
    assert_eq!(ok.header("Content-Type"), Some("application/sdp"));
    let sdp = String::from_utf8(ok.body().to_vec()).unwrap();
    assert!(sdp.starts_with("v=0\r\n"), "{sdp}");
    assert!(sdp.contains("c=IN IP4 127.0.0.1\r\n"), "{sdp}");
    assert!(sdp.contains("m=audio 9 RTP/AVP 8\r\n"), "{sdp}");
    assert!(sdp.contains("a=inactive"), "{sdp}");
    assert!(ok.header("Contact").is_some());
    let to = ok.header("To").unwrap().to_owned();
    let relay_tag = tag_of(&to).unwrap().to_owned();

    // The relay retransmits the 200 until the ACK (timer G).
    let (again, _) = phone.recv_until(|m| m.status() == Some(200)).await;
    assert_eq!(again.cseq(), Some((2, "INVITE")));

    let ack = phone.ack(number, "call-1", 2, None, &to);
    phone.send(&ack).await;

    // The BYE, in the dialog: From has the relay's tag, To ours.
    let (bye, from) = phone.recv_until(|m| m.method().is_some()).await;
    assert_eq!(bye.method(), Some("BYE"));
    assert_eq!(from, relay.addr);
    assert_eq!(bye.call_id(), Some("call-1"));
    assert_eq!(
        tag_of(bye.header("From").unwrap()),
        Some(relay_tag.as_str())
    );
    assert_eq!(tag_of(bye.header("To").unwrap()), Some("inv1"));
    assert_eq!(
        bye.uri(),
        Some(format!("sip:{USER}@127.0.0.1:{}", phone.port).as_str())
    );
    phone
        .sock
        .send_to(&codec::response(&bye, 200, "OK", "inv1", &[]), from)
        .await
        .unwrap();

    // The reboot NOTIFY, to the registered contact.
    let (notify, from) = phone.recv_until(|m| m.method() == Some("NOTIFY")).await;
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=true"));
    assert_eq!(
        notify.uri(),
        Some(format!("sip:{USER}@127.0.0.1:{}", phone.port).as_str())
    );
    phone
        .sock
        .send_to(&codec::response(&notify, 200, "OK", "n1", &[]), from)
        .await
        .unwrap();

    let binds = relay.binder.binds.lock().unwrap().clone();
    assert_eq!(
        binds,
        vec![(
            Mac::parse(USER).unwrap(),
            "200".to_owned(),
            Some(Vendor::Yealink)
        )]
    );
}

#[tokio::test]
async fn retransmitted_invite_binds_once_and_percent_encoding_is_decoded() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;
    let number = "%2A123%2A201";
    let (ok, inv) = phone.call(number, "call-2").await;
    assert_eq!(ok.status(), Some(200));
    // The authenticated INVITE again, same branch: the same 200, no second bind.
    phone.send(&inv).await;
    phone.send(&inv).await;
    let (again, _) = phone
        .recv_until(|m| m.status().is_some_and(|s| s >= 200))
        .await;
    assert_eq!(again.status(), Some(200));
    assert_eq!(again.cseq(), Some((2, "INVITE")));
    let to = ok.header("To").unwrap().to_owned();
    let ack = phone.ack(number, "call-2", 2, None, &to);
    phone.send(&ack).await;
    let (bye, from) = phone.recv_until(|m| m.method() == Some("BYE")).await;
    phone
        .sock
        .send_to(&codec::response(&bye, 200, "OK", "inv1", &[]), from)
        .await
        .unwrap();
    let (notify, _) = phone.recv_until(|m| m.method() == Some("NOTIFY")).await;
    // Not registered: the NOTIFY goes to the INVITE's Contact.
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=true"));
    let binds = relay.binder.binds.lock().unwrap().clone();
    assert_eq!(binds.len(), 1, "{binds:?}");
    assert_eq!(binds[0].1, "201");
}

#[tokio::test]
async fn other_numbers_are_not_found() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;
    for (i, number) in ["*123*", "555", "*123*20%200", "*124*200"]
        .into_iter()
        .enumerate()
    {
        let (m, _) = phone.call(number, &format!("nf-{i}")).await;
        assert_eq!(m.status(), Some(404), "{number}");
    }
    assert!(relay.binder.binds.lock().unwrap().is_empty());
}

#[tokio::test]
async fn arp_naming_another_mac_is_refused() {
    let relay = start_with(Some("00:04:13:11:22:33"), false, Duration::from_secs(300)).await;
    let mut phone = Phone::new(relay.addr).await;
    let (m, _) = phone.call("*123*200", "arp-1").await;
    assert_eq!(m.status(), Some(403));
    assert!(relay.binder.binds.lock().unwrap().is_empty());
    // Without an ARP entry for the source (a host on another subnet, or on IPv6), the
    // account's MAC cannot be confirmed: refused too (issue 15, finding 1).
    let relay = start_with(None, false, Duration::from_secs(300)).await;
    let mut phone = Phone::new(relay.addr).await;
    let (m, _) = phone.call("*123*200", "arp-2").await;
    assert_eq!(m.status(), Some(403));
    assert!(relay.binder.binds.lock().unwrap().is_empty());
    // The phone's own MAC at its address binds.
    let relay = start_with(PHONE_ARP, false, Duration::from_secs(300)).await;
    let mut phone = Phone::new(relay.addr).await;
    let (m, _) = phone.call("*123*200", "arp-3").await;
    assert_eq!(m.status(), Some(200));
    assert_eq!(relay.binder.binds.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_binding_awaiting_approval_is_480_with_its_reason_and_no_reboot() {
    let (socket, port) = udp_local().await;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let binder = Arc::new(TestBinder {
        awaiting: true,
        ..TestBinder::default()
    });
    let arp = arp_file(PHONE_ARP);
    let mut config = RegistrarConfig::new("*123*", REALM, [42; 32]);
    config.timers = Timers::scaled(Duration::from_millis(20));
    config.arp = lan_relay::arp::ArpTable::new(arp.path().join("arp"));
    let (_stop, stopped) = shutdown();
    tokio::spawn(registrar::serve(
        socket,
        Arc::clone(&binder),
        config,
        stopped,
    ));
    let mut phone = Phone::new(addr).await;
    let (m, _) = phone.call("*123*200", "approval-1").await;
    assert_eq!(m.status(), Some(480));
    assert!(
        matches!(m.start(), codec::StartLine::Response { reason, .. } if reason == "Awaiting Approval"),
        "{:?}",
        m.start()
    );
    assert_eq!(binder.binds.lock().unwrap().len(), 1);
    assert!(phone
        .recv_within(Duration::from_millis(300))
        .await
        .is_none());
}

#[tokio::test]
async fn failed_binding_is_480() {
    let relay = start_with(PHONE_ARP, true, Duration::from_secs(300)).await;
    let mut phone = Phone::new(relay.addr).await;
    let (m, _) = phone.call("*123*200", "fail-1").await;
    assert_eq!(m.status(), Some(480));
    assert_eq!(relay.binder.binds.lock().unwrap().len(), 1);
    // No BYE or NOTIFY follows.
    assert!(phone
        .recv_within(Duration::from_millis(300))
        .await
        .is_none());
}

#[tokio::test]
async fn invite_with_wrong_password_is_403() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;
    let (inv, _) = phone.challenged_invite("*123*200", "wp-1", "guess").await;
    phone.send(&inv).await;
    assert_eq!(phone.recv().await.0.status(), Some(403));
    assert!(relay.binder.binds.lock().unwrap().is_empty());
}

#[tokio::test]
async fn malformed_packets_and_other_methods() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;
    // Garbage and an oversize datagram: dropped.
    phone
        .sock
        .send_to(b"\x00\x01garbage", relay.addr)
        .await
        .unwrap();
    phone
        .sock
        .send_to(&vec![b'A'; 9000], relay.addr)
        .await
        .unwrap();
    phone.sock.send_to(b"\r\n\r\n", relay.addr).await.unwrap();
    assert!(phone
        .recv_within(Duration::from_millis(200))
        .await
        .is_none());
    // A request without a Call-ID: 400.
    let r = phone
        .register(USER, "x", 1, 60, None)
        .replace("Call-ID: x\r\n", "");
    phone.send(&r).await;
    let (bytes, _) = recv_within(&phone.sock, Duration::from_secs(3))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("SIP/2.0 400 Bad Request\r\n"), "{text}");
    assert!(text.contains("missing Call-ID"), "{text}");
    // Broken credentials: a challenge, never a crash.
    for bad in [
        "Digest",
        "Digest username=\"a",
        "Digest ,,,=,",
        "Basic Zm9vOmJhcg==",
    ] {
        let r = phone.register(USER, "bad", 1, 60, Some(bad));
        phone.send(&r).await;
        assert_eq!(phone.recv().await.0.status(), Some(401), "{bad}");
    }
    // Other methods.
    let port = phone.port;
    let other = |method: &str, b: &str| {
        format!(
            "{method} sip:{relay} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch={b};rport\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:{relay}>\r\nCall-ID: m-{b}\r\nCSeq: 1 {method}\r\n\
             Content-Length: 0\r\n\r\n",
            relay = relay.addr,
        )
    };
    for (method, want) in [
        ("OPTIONS", 200),
        ("BYE", 481),
        ("CANCEL", 481),
        ("SUBSCRIBE", 405),
    ] {
        let b = phone.branch();
        phone.send(&other(method, &b)).await;
        assert_eq!(phone.recv().await.0.status(), Some(want), "{method}");
    }
    // Still registering fine afterwards.
    phone.register_ok().await;
}

#[tokio::test]
async fn retransmissions_while_binding_get_100_trying() {
    let relay = start_slow(
        PHONE_ARP,
        false,
        Duration::from_secs(300),
        Duration::from_millis(300),
    )
    .await;
    let mut phone = Phone::new(relay.addr).await;
    let (inv, _) = phone.challenged_invite("*123*300", "slow-1", PASS).await;
    phone.send(&inv).await;
    assert_eq!(phone.recv().await.0.status(), Some(100));
    tokio::time::sleep(Duration::from_millis(50)).await;
    phone.send(&inv).await;
    assert_eq!(phone.recv().await.0.status(), Some(100));
    let (ok, _) = phone.recv_until(|m| m.status() == Some(200)).await;
    assert_eq!(ok.cseq(), Some((2, "INVITE")));
    assert_eq!(relay.binder.binds.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn phone_hanging_up_first_still_gets_the_notify() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;
    let (ok, _) = phone.call("*123*200", "hang-1").await;
    assert_eq!(ok.status(), Some(200));
    let to = ok.header("To").unwrap().to_owned();
    let b = phone.branch();
    let bye = format!(
        "BYE sip:{relay} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch={b};rport\r\n\
         From: \"Phone\" <sip:{USER}@{relay}>;tag=inv1\r\nTo: {to}\r\nCall-ID: hang-1\r\n\
         CSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
        relay = relay.addr,
        port = phone.port
    );
    phone.send(&bye).await;
    let (m, _) = phone
        .recv_until(|m| m.cseq().is_some_and(|(_, m)| m == "BYE"))
        .await;
    assert_eq!(m.status(), Some(200));
    let (notify, _) = phone.recv_until(|m| m.method().is_some()).await;
    assert_eq!(
        notify.method(),
        Some("NOTIFY"),
        "no BYE from the relay after ours"
    );
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=true"));
}

#[tokio::test]
async fn cancel_while_binding_is_487_and_still_reboots() {
    let relay = start_slow(
        PHONE_ARP,
        false,
        Duration::from_secs(300),
        Duration::from_millis(200),
    )
    .await;
    let mut phone = Phone::new(relay.addr).await;
    let (inv, b) = phone.challenged_invite("*123*400", "cancel-1", PASS).await;
    phone.send(&inv).await;
    assert_eq!(phone.recv().await.0.status(), Some(100));
    let cancel = format!(
        "CANCEL {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch={b};rport\r\n\
         From: \"Phone\" <sip:{USER}@{relay}>;tag=inv1\r\nTo: <{uri}>\r\nCall-ID: cancel-1\r\n\
         CSeq: 2 CANCEL\r\nContent-Length: 0\r\n\r\n",
        uri = phone.invite_uri("*123*400"),
        relay = relay.addr,
        port = phone.port
    );
    phone.send(&cancel).await;
    let (m, _) = phone.recv().await;
    assert_eq!((m.status(), m.cseq()), (Some(200), Some((2, "CANCEL"))));
    let (m, _) = phone.recv().await;
    assert_eq!((m.status(), m.cseq()), (Some(487), Some((2, "INVITE"))));
    let (notify, _) = phone.recv_until(|m| m.method().is_some()).await;
    assert_eq!(notify.method(), Some("NOTIFY"));
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=true"));
    assert_eq!(relay.binder.binds.lock().unwrap().len(), 1);
}

/// A nonce fetched at one address (a host the ARP check would refuse) does not work in an
/// INVITE whose source is another (a forged LAN address whose ARP entry holds the account's
/// MAC): the request is challenged again and binds nothing (issue 15, finding 1; found by
/// review).
#[tokio::test]
async fn a_nonce_fetched_elsewhere_does_not_bind_from_a_forged_source() {
    let relay = start().await;
    let mut phone = Phone::new(relay.addr).await;
    let attacker = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let aport = attacker.local_addr().unwrap().port();
    let b = phone.branch();
    let inv = phone.invite("*123*200", "spoof-1", 1, &b, None).replace(
        &format!("127.0.0.1:{}", phone.port),
        &format!("127.0.0.2:{aport}"),
    );
    attacker.send_to(inv.as_bytes(), relay.addr).await.unwrap();
    let (bytes, _) = recv_within(&attacker, Duration::from_secs(2))
        .await
        .expect("407 to the attacker");
    let m = codec::parse(&bytes).unwrap();
    assert_eq!(m.status(), Some(407));
    let nonce = param(m.header("Proxy-Authenticate").unwrap(), "nonce").unwrap();
    let creds = credentials(USER, PASS, "INVITE", &phone.invite_uri("*123*200"), &nonce);
    let b = phone.branch();
    // Sent "from" 127.0.0.1, the address the ARP table places the account's MAC at.
    let inv = phone.invite("*123*200", "spoof-1", 2, &b, Some(&creds));
    phone.send(&inv).await;
    let (m, _) = phone.recv().await;
    assert_eq!(
        m.status(),
        Some(407),
        "challenged again: the nonce is not its own"
    );
    assert!(
        relay.binder.binds.lock().unwrap().is_empty(),
        "bound on a nonce another address fetched"
    );
}

/// The relay's own binder (a local inventory, no edge) behind the registrar: the demo site
/// with the test phone (`USER`), bound to `bound_to` or not yet, the star code `pattern`, and
/// `hot_desking`. The phone's password is the one the relay derives from its key.
struct LocalRelay {
    addr: SocketAddr,
    provisioner: Arc<lan_relay::provision::Provisioner>,
    pass: String,
    _arp: TempDir,
    _stop: oneshot::Sender<()>,
}

async fn start_local(pattern: &str, bound_to: Option<&str>, hot_desking: bool) -> LocalRelay {
    use lan_relay::provision::{Provisioner, StarCode};
    let key = vec![7u8; 32];
    let mut text = lan_relay::config::DEMO_INVENTORY.replace(
        "star_code_pattern = \"*123*\"",
        &format!("star_code_pattern = \"{pattern}\"\nhot_desking = {hot_desking}"),
    );
    text.push_str(&format!(
        "\n[[phones]]\nmac = \"{USER}\"\nvendor = \"yealink\"\n{}\n",
        bound_to.map_or(String::new(), |e| format!("user_extension = \"{e}\""))
    ));
    let site = lan_relay::config::load_inventory(&text).unwrap();
    assert_eq!(site.hot_desking(), hot_desking);
    let (socket, port) = udp_local().await;
    let p = Provisioner::new("http://127.0.0.1:1", "/nonexistent", Arc::default()).with_star_code(
        StarCode {
            key: key.clone(),
            host: "127.0.0.1".to_owned(),
            port,
        },
    );
    p.set_site(site);
    let provisioner = Arc::new(p);
    let binder = Arc::new(lan_relay::starcode::RelayBinder::new(
        Arc::clone(&provisioner),
        None,
    ));
    let arp = arp_file(PHONE_ARP);
    // The configured pattern is a fallback only: the relay's binder gives the site's.
    let mut config = RegistrarConfig::new("*999*", REALM, [42; 32]);
    config.timers = Timers::scaled(Duration::from_millis(20));
    config.arp = lan_relay::arp::ArpTable::new(arp.path().join("arp"));
    let (stop, stopped) = shutdown();
    tokio::spawn(registrar::serve(socket, binder, config, stopped));
    LocalRelay {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        provisioner,
        pass: engine::provisioning_password(&key, &Mac::parse(USER).unwrap()),
        _arp: arp,
        _stop: stop,
    }
}

impl LocalRelay {
    /// The phone dials `number` with its provisioning account; the final answer's status.
    async fn dial(&self, number: &str, call_id: &str) -> Option<u16> {
        let mut phone = Phone::new(self.addr).await;
        let (inv, _) = phone.challenged_invite(number, call_id, &self.pass).await;
        phone.send(&inv).await;
        let (m, _) = phone.recv_until(|m| m.status() != Some(100)).await;
        m.status()
    }

    /// The config the relay serves the phone now.
    fn config(&self) -> String {
        let req = engine::PhoneRequest {
            path: &format!("{USER}.cfg"),
            user_agent: Some(UA),
            pnp: None,
            lan_mac: None,
        };
        match self
            .provisioner
            .site()
            .unwrap()
            .answer(&req, "http://127.0.0.1:1")
        {
            Ok(engine::Answer::File { body, .. }) => body,
            other => panic!("{other:?}"),
        }
    }

    fn bound_to(&self) -> Option<String> {
        let site = self.provisioner.site()?;
        site.phone(&Mac::parse(USER).unwrap())?
            .user_extension
            .clone()
    }
}

#[tokio::test]
async fn both_forms_of_the_star_code_bind_and_a_mikopbx_pattern_wants_its_length() {
    // Issue 16: this project's prefix and MikoPBX's Extension Template, with the PIN
    // (the demo site's mode).
    for pattern in ["*123*", "*123*XXX", "*123*200"] {
        let relay = start_local(pattern, None, false).await;
        if pattern != "*123*" {
            // MikoPBX's pattern: a 3-digit extension, no more and no less.
            for (n, wrong) in ["*123*2010*1201", "*123*20*1201", "*123*XXX*1201"]
                .into_iter()
                .enumerate()
            {
                assert_eq!(
                    relay.dial(wrong, &format!("len-{n}")).await,
                    Some(404),
                    "{pattern}: {wrong}"
                );
            }
            assert_eq!(relay.bound_to(), None, "{pattern}");
        }
        assert_eq!(
            relay.dial("*123*201*1201", &format!("{pattern}-ok")).await,
            Some(200),
            "{pattern}"
        );
        assert_eq!(relay.bound_to().as_deref(), Some("201"), "{pattern}");
    }
}

#[tokio::test]
async fn a_bound_phone_is_refused_unless_the_site_allows_hot_desking() {
    // Off (the default): the bound phone's account is refused outright, nothing moves.
    let relay = start_local("*123*XXX", Some("201"), false).await;
    assert!(
        !relay.config().contains(&relay.pass),
        "a hot-desking line while off"
    );
    assert_eq!(relay.dial("*123*202*1202", "desk-off").await, Some(403));
    assert_eq!(relay.bound_to().as_deref(), Some("201"));

    // On, PIN mode: the wrong PIN moves nothing; the right one re-binds the phone.
    let relay = start_local("*123*XXX", Some("201"), true).await;
    // The bound phone reaches the registrar by the extra line its config carries.
    let config = relay.config();
    assert!(
        config.contains(&relay.pass) && config.contains("account.2.user_name = 001565aabbcc"),
        "{config}"
    );
    assert_eq!(relay.dial("*123*202*0000", "desk-wrong").await, Some(480));
    assert_eq!(relay.dial("*123*202", "desk-no-pin").await, Some(480));
    assert_eq!(relay.bound_to().as_deref(), Some("201"));
    assert_eq!(relay.dial("*123*202*1202", "desk-on").await, Some(200));
    assert_eq!(relay.bound_to().as_deref(), Some("202"), "re-bound");
}
