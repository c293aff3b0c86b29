//! The SIP plug-and-play server: phones that boot without a provisioning server multicast a
//! `SUBSCRIBE` for the `ua-profile` event (RFC 6080) to `224.0.1.75:5060`; whoever answers
//! with `200 OK` and then a `NOTIFY` whose body is a URL becomes their provisioning server.
//!
//! Sources: RFC 6080 (the event package), RFC 3261 (transactions, responses), Snom's "PnP
//! config" wiki trace, AudioCodes 400HD and Panasonic KX-HDV admin manuals, Grandstream's
//! "Plug & Play mechanism" guide (the phone sends the SUBSCRIBE up to 5 times and stops on
//! 200 or 500), public captures of Yealink, Grandstream and Fanvil SUBSCRIBEs (shapes in the
//! codec's tests). Every vendor here takes `Content-Type: application/url` with the URL as
//! the whole body.
//!
//! What the server does with each datagram:
//! - `SUBSCRIBE` + `Event: ua-profile`, a new transaction: the [`PnpHandler`] is asked once,
//!   off the receive loop. A URL: `200 OK` (Vias, From, To with our tag, Call-ID, CSeq echoed;
//!   `Expires: 0`; our Contact) to the Via address (RFC 3581 `rport`: the source port), then
//!   the `NOTIFY` to the phone's Contact (only when its host is the source IP, so a forged
//!   Contact cannot aim our NOTIFY elsewhere; otherwise to the source), retransmitted per
//!   [`Timers`] until the phone answers it or the timeout passes. `None` (a denied or
//!   unknown MAC): **no answer at all**, so the phone stays free to take another server's
//!   offer (or its vendor's redirect service) and learns nothing about our lists.
//! - The same transaction again (Call-ID, CSeq, method, Via branch) (the phone retransmits every 500 ms until answered): the
//!   cached answer is resent (or nothing, while the handler runs or after a `None`); the
//!   handler is not called again and no second NOTIFY goes out. Entries live 64·T1 (see
//!   `sip/transaction.rs`, the table shared with the registrar).
//! - `SUBSCRIBE` for another event: `489 Bad Event` with `Allow-Events: ua-profile`.
//!   `OPTIONS`: `200 OK`. `ACK`: nothing. Any other method: `405` with `Allow`.
//! - A response: matched to our pending NOTIFY by Call-ID and branch (a final one stops the
//!   retransmissions; a provisional one slows them to T2); any other is ignored.
//! - A datagram that does not parse: `400 Bad Request` saying why when it is a request with a
//!   Via (see [`codec::bad_request`]), otherwise dropped. Nothing panics.
//!
//! With [`PnpConfig::debug`] every packet is logged at `info` (source, method, Call-ID, the
//! MAC found, the decision); otherwise the same lines go to `debug`. SIP PnP carries no
//! secrets; the URL is logged only as "url" present or not (it may hold a token).

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use engine::PnpInfo;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::codec::{self, Message};
use super::transaction::{response_dest, Key, TransactionTable};
use super::{local_for, receive, sleep_until_opt, IdRng, Incoming, Timers};

/// The multicast group SIP PnP phones send to (IANA "SIP", RFC 3261 §18.1.1).
pub const PNP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 1, 75);
/// The port SIP PnP phones send to.
pub const PNP_PORT: u16 = 5060;

/// A phone's PnP request, as given to the [`PnpHandler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PnpRequest {
    /// What the SUBSCRIBE announced (vendor, model, version, MAC if found).
    pub info: PnpInfo,
    /// The datagram's source address: the phone.
    pub peer: SocketAddr,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
}

/// Decides what a phone that asked by PnP gets.
pub trait PnpHandler: Send + Sync + 'static {
    /// Called once per new PnP SUBSCRIBE (never for its retransmissions), off the server's
    /// receive loop (and cut off after [`PnpConfig::handler_timeout`], which counts as
    /// `None`).
    ///
    /// This one call is also the discovery report: record the phone as discovered (and queue
    /// its report to the edge) whatever the decision. Return the provisioning URL to send (the
    /// relay's HTTP URL or the edge's HTTPS URL, per site setting), or `None` to stay silent:
    /// a MAC the allow/deny lists refuse, no MAC, or an unknown phone.
    fn subscribe(&self, req: PnpRequest) -> impl Future<Output = Option<String>> + Send;
}

/// How the PnP server behaves.
#[derive(Debug, Clone)]
pub struct PnpConfig {
    /// The address phones reach us at, for our Via and Contact. `None`: the socket's address,
    /// or for a socket bound to `0.0.0.0` the source address routing picks per phone.
    pub advertise: Option<SocketAddr>,
    /// NOTIFY retransmission timers; transaction entries live `timers.timeout`.
    pub timers: Timers,
    /// Log every packet, the MAC found and the decision at `info` (MikoPBX's
    /// `[debug] verbose = 1`).
    pub debug: bool,
    /// How long the handler may take before its answer counts as `None`.
    pub handler_timeout: Duration,
    /// The most SUBSCRIBE transactions remembered (and NOTIFYs pending) at once (bounded
    /// memory under floods); when full, expired and already-decided entries make room, and
    /// only when every entry is still being decided is a new SUBSCRIBE dropped.
    pub max_transactions: usize,
}

impl Default for PnpConfig {
    fn default() -> Self {
        Self {
            advertise: None,
            timers: Timers::RFC3261,
            debug: false,
            handler_timeout: Duration::from_secs(3),
            max_transactions: 16_384,
        }
    }
}

/// Binds the PnP socket: UDP on `0.0.0.0:port` with `SO_REUSEADDR` (so it can share the port
/// with a PBX on the same host for the multicast group), joined to [`PNP_GROUP`] on the
/// interface with address `interface`, which is also the interface used for outgoing
/// multicast. Bound to the unspecified address so the same socket receives the group's
/// datagrams and the phones' unicast answers to our NOTIFYs, and sends unicast. Must be called
/// within a tokio runtime.
pub fn bind_multicast(interface: Ipv4Addr, port: u16) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into())?;
    s.join_multicast_v4(&PNP_GROUP, &interface)?;
    s.set_multicast_if_v4(&interface)?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s.into())
}

/// A SUBSCRIBE the handler is deciding on: what answering it needs.
#[derive(Debug)]
struct Asking {
    sub: Box<Message>,
    dest: SocketAddr,
    tag: String,
}

/// A NOTIFY waiting for the phone's answer.
#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    dest: SocketAddr,
    call_id: String,
    branch: String,
    next: Instant,
    interval: Duration,
    deadline: Instant,
}

struct Server<H> {
    socket: UdpSocket,
    handler: Arc<H>,
    config: PnpConfig,
    rng: IdRng,
    txns: TransactionTable<Asking>,
    pending: Vec<Pending>,
    results: mpsc::Sender<(Key, Option<String>)>,
}

macro_rules! plog {
    ($debug:expr, $($arg:tt)+) => {
        if $debug {
            tracing::info!(target: "lan_relay::sip::pnp", $($arg)+);
        } else {
            tracing::debug!(target: "lan_relay::sip::pnp", $($arg)+);
        }
    };
}

/// Runs the PnP server on `socket` until `shutdown` completes; see the module docs for what
/// it answers. Errors on individual datagrams are logged and never end the loop.
pub async fn serve<H: PnpHandler>(
    socket: UdpSocket,
    handler: Arc<H>,
    config: PnpConfig,
    shutdown: impl Future<Output = ()>,
) {
    let (tx, mut rx) = mpsc::channel(64);
    // Decided transactions make room for new ones: a boot storm of 10,000 phones stalled at
    // 1,024 before they did.
    let txns = TransactionTable::new(config.max_transactions, config.timers.timeout);
    let mut server = Server {
        socket,
        handler,
        config,
        rng: IdRng::new(),
        txns,
        pending: Vec::new(),
        results: tx,
    };
    tokio::pin!(shutdown);
    // One byte more than the codec accepts, so an oversize datagram is seen as such.
    let mut buf = vec![0u8; codec::MAX_MESSAGE + 1];
    loop {
        let wake = server.pending.iter().map(|p| p.next.min(p.deadline)).min();
        tokio::select! {
            () = &mut shutdown => break,
            r = server.socket.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let data = buf.get(..n).unwrap_or_default();
                    server.on_datagram(data, peer).await;
                }
                Err(e) => tracing::warn!(error = %e, "PnP socket receive failed"),
            },
            Some((key, url)) = rx.recv() => server.on_decision(key, url).await,
            () = sleep_until_opt(wake) => server.on_timer().await,
        }
    }
}

/// The NOTIFY's Request-URI and destination: the Contact when it is `sip:[user@]ip[:port]`
/// with the source IP; otherwise `sip:<source>` sent to the source.
fn notify_target(msg: &Message, peer: SocketAddr) -> (String, SocketAddr) {
    let fallback = || {
        let uri = match peer.ip() {
            IpAddr::V4(ip) => format!("sip:{ip}:{}", peer.port()),
            IpAddr::V6(ip) => format!("sip:[{ip}]:{}", peer.port()),
        };
        (uri, peer)
    };
    let Some(contact) = msg.header("Contact") else {
        return fallback();
    };
    let uri = contact
        .split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map_or(contact, |(u, _)| u)
        .trim();
    let Some(rest) = uri.strip_prefix("sip:") else {
        return fallback();
    };
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = hostport.split(';').next().unwrap_or_default();
    let addr = hostport.parse::<SocketAddr>().ok().or_else(|| {
        hostport
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 5060))
    });
    match addr {
        Some(a)
            if a.ip() == peer.ip()
                && a.port() != 0
                && uri.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            (uri.to_owned(), a)
        }
        _ => fallback(),
    }
}

impl<H: PnpHandler> Server<H> {
    async fn send(&self, bytes: &[u8], dest: SocketAddr) {
        if let Err(e) = self.socket.send_to(bytes, dest).await {
            tracing::warn!(error = %e, %dest, "PnP send failed");
        }
    }

    async fn on_datagram(&mut self, data: &[u8], peer: SocketAddr) {
        match receive(data, &mut self.rng) {
            Incoming::Nothing => {}
            Incoming::Malformed { error, answer } => {
                plog!(self.config.debug, %peer, len = data.len(), %error, answered = answer.is_some(), "PnP: malformed packet");
                if let Some(bytes) = answer {
                    self.send(&bytes, peer).await;
                }
            }
            Incoming::Response(msg, code) => self.on_response(&msg, code, peer),
            Incoming::Request(msg, method) => self.on_request(msg, &method, peer).await,
        }
    }

    fn on_response(&mut self, msg: &Message, code: u16, peer: SocketAddr) {
        let debug = self.config.debug;
        let is_notify = msg.cseq().is_some_and(|(_, m)| m == "NOTIFY");
        let (call_id, branch) = (msg.call_id(), msg.top_branch());
        let found = self.pending.iter().position(|p| {
            is_notify && Some(p.call_id.as_str()) == call_id && Some(p.branch.as_str()) == branch
        });
        plog!(debug, %peer, code, call_id = call_id.unwrap_or_default(), matched = found.is_some(), "PnP: response");
        let Some(i) = found else { return };
        if code >= 200 {
            self.pending.swap_remove(i);
        } else if let Some(p) = self.pending.get_mut(i) {
            // §17.1.2.2: after a provisional response, retransmit every T2.
            p.interval = self.config.timers.t2;
            p.next = Instant::now() + p.interval;
        }
    }

    async fn on_request(&mut self, msg: Message, method: &str, peer: SocketAddr) {
        let debug = self.config.debug;
        let now = Instant::now();
        self.txns.purge(now);
        let Some(key) = Key::of(&msg) else {
            return;
        };
        let call_id = key.call_id.as_str();
        let dest = response_dest(&msg, peer);
        if method == "ACK" {
            return;
        }
        if let Some(again) = self.txns.retransmission(&key) {
            plog!(debug, %peer, method, call_id, "PnP: retransmission");
            if let Some(bytes) = again.resend {
                self.send(bytes, dest).await;
            }
            return;
        }
        if !self.txns.make_room(now) {
            tracing::warn!(%peer, "PnP: too many SUBSCRIBEs being decided at once; request dropped");
            return;
        }
        let tag = self.rng.ids().tag;
        let info = msg.pnp_info();
        let answer = match (method, &info) {
            ("SUBSCRIBE", Some(info)) => {
                plog!(debug, %peer, call_id, vendor = %info.vendor, model = %info.model,
                    version = %info.version,
                    mac = %info.mac.map(|m| m.to_string()).unwrap_or_default(),
                    "PnP: SUBSCRIBE ua-profile");
                let req = PnpRequest {
                    info: info.clone(),
                    peer,
                    user_agent: msg.header("User-Agent").map(str::to_owned),
                };
                let handler = Arc::clone(&self.handler);
                let results = self.results.clone();
                let limit = self.config.handler_timeout;
                let k = key.clone();
                tokio::spawn(async move {
                    let url = tokio::time::timeout(limit, handler.subscribe(req))
                        .await
                        .unwrap_or_else(|_| {
                            tracing::warn!("PnP handler timed out; treated as no answer");
                            None
                        });
                    let _ = results.send((k, url)).await;
                });
                let asking = Asking {
                    sub: Box::new(msg),
                    dest,
                    tag,
                };
                self.txns
                    .begin(key, asking, None, now, self.config.handler_timeout);
                return;
            }
            ("SUBSCRIBE", None) => {
                plog!(debug, %peer, call_id, event = msg.event_package().unwrap_or_default(), "PnP: SUBSCRIBE for another event: 489");
                codec::response(
                    &msg,
                    489,
                    "Bad Event",
                    &tag,
                    &[("Allow-Events", "ua-profile")],
                )
            }
            ("OPTIONS", _) => {
                plog!(debug, %peer, call_id, "PnP: OPTIONS: 200");
                codec::response(
                    &msg,
                    200,
                    "OK",
                    &tag,
                    &[
                        ("Allow", "SUBSCRIBE, OPTIONS"),
                        ("Accept", "application/url"),
                    ],
                )
            }
            (m, _) => {
                plog!(debug, %peer, call_id, method = m, "PnP: method not allowed: 405");
                codec::response(
                    &msg,
                    405,
                    "Method Not Allowed",
                    &tag,
                    &[("Allow", "SUBSCRIBE, OPTIONS")],
                )
            }
        };
        self.send(&answer, dest).await;
        self.txns.complete(key, answer, now);
    }

    async fn on_decision(&mut self, key: Key, url: Option<String>) {
        let debug = self.config.debug;
        let now = Instant::now();
        let Some(Asking { sub, dest, tag }) = self.txns.decide(&key, now) else {
            return;
        };
        let mac = sub
            .pnp_info()
            .and_then(|i| i.mac)
            .map(|m| m.to_string())
            .unwrap_or_default();
        let Some(url) = url else {
            plog!(debug, call_id = %key.call_id, %mac, decision = "ignore", "PnP: decision: no answer (denied or unknown)");
            return;
        };
        let peer = dest;
        let local = local_for(self.config.advertise, self.socket.local_addr().ok(), peer);
        let contact = match local.ip() {
            IpAddr::V4(ip) => format!("<sip:{ip}:{}>", local.port()),
            IpAddr::V6(ip) => format!("<sip:[{ip}]:{}>", local.port()),
        };
        let ok = codec::response(
            &sub,
            200,
            "OK",
            &tag,
            &[("Expires", "0"), ("Contact", &contact)],
        );
        self.send(&ok, peer).await;
        self.txns.complete(key.clone(), ok, now);
        if self.pending.len() >= self.config.max_transactions {
            tracing::warn!("PnP: too many NOTIFYs pending; this one is not sent");
            return;
        }
        let (target, notify_dest) = notify_target(&sub, SocketAddr::new(peer.ip(), peer.port()));
        let ids = self.rng.ids();
        let built = codec::pnp_notify(&codec::PnpNotify {
            subscribe: &sub,
            local,
            target: &target,
            tag: &tag,
            branch: &ids.branch,
            cseq: 1,
            url: &url,
        });
        let bytes = match built {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, %mac, "PnP: the handler's URL cannot be sent; no NOTIFY");
                return;
            }
        };
        plog!(debug, call_id = %key.call_id, %mac, decision = "provision", %notify_dest, "PnP: decision: 200 OK and NOTIFY with the provisioning URL");
        self.send(&bytes, notify_dest).await;
        let t1 = self.config.timers.t1;
        self.pending.push(Pending {
            bytes,
            dest: notify_dest,
            call_id: key.call_id,
            branch: ids.branch,
            next: now + t1,
            interval: t1,
            deadline: now + self.config.timers.timeout,
        });
    }

    async fn on_timer(&mut self) {
        let debug = self.config.debug;
        let now = Instant::now();
        let timers = self.config.timers;
        let mut resend = Vec::new();
        self.pending.retain_mut(|p| {
            if now >= p.deadline {
                plog!(debug, call_id = %p.call_id, dest = %p.dest, "PnP: NOTIFY unanswered; giving up");
                return false;
            }
            if now >= p.next {
                resend.push((p.bytes.clone(), p.dest));
                p.interval = timers.next_interval(p.interval);
                p.next = now + p.interval;
            }
            true
        });
        for (bytes, dest) in resend {
            self.send(&bytes, dest).await;
        }
        self.txns.purge(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(via: &str, contact: &str) -> Message {
        let raw = format!(
            "SUBSCRIBE sip:x SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\n\
             Call-ID: c\r\nCSeq: 1 SUBSCRIBE\r\nContact: {contact}\r\n\r\n"
        );
        codec::parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn responses_follow_via_and_rport() {
        let peer: SocketAddr = "10.0.0.5:40000".parse().unwrap();
        let m = msg(
            "SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKa;rport",
            "<sip:10.0.0.5:5080>",
        );
        assert_eq!(response_dest(&m, peer), peer);
        let m = msg(
            "SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKa",
            "<sip:10.0.0.5:5080>",
        );
        assert_eq!(response_dest(&m, peer), "10.0.0.5:5080".parse().unwrap());
        let m = msg("SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKa", "<sip:10.0.0.5>");
        assert_eq!(response_dest(&m, peer), "10.0.0.5:5060".parse().unwrap());
    }

    #[test]
    fn notify_goes_to_contact_only_on_the_source_ip() {
        let peer: SocketAddr = "10.0.0.5:40000".parse().unwrap();
        let m = msg(
            "SIP/2.0/UDP 10.0.0.5",
            "<sip:MAC001565f4f9e1@10.0.0.5:5059>",
        );
        assert_eq!(
            notify_target(&m, peer),
            (
                "sip:MAC001565f4f9e1@10.0.0.5:5059".to_owned(),
                "10.0.0.5:5059".parse().unwrap()
            )
        );
        let m = msg("SIP/2.0/UDP 10.0.0.5", "<sip:10.0.0.99:5060>");
        assert_eq!(
            notify_target(&m, peer),
            ("sip:10.0.0.5:40000".to_owned(), peer)
        );
        let m = msg("SIP/2.0/UDP 10.0.0.5", "<sip:phone.example:5060>");
        assert_eq!(notify_target(&m, peer).1, peer);
    }
}
