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
//! - `SUBSCRIBE` + `Event: ua-profile`, a new transaction, within the source's and the
//!   server's answer budgets ([`PnpConfig::per_source`], [`PnpConfig::global`]; past them:
//!   silence, the handler is not asked): the [`PnpHandler`] is asked whether to answer, off
//!   the receive loop. Yes: `200 OK` (Vias, From, To with our tag, Call-ID, CSeq echoed;
//!   `Expires: 0`; our Contact) to the Via address (RFC 3581 `rport`: the source port); then
//!   the handler is asked for the URL, and the `NOTIFY` carrying it goes to the phone's
//!   Contact (only when its host is the source IP, so a forged Contact cannot aim our NOTIFY
//!   elsewhere; otherwise to the source), resent per [`Timers`] until the phone answers it,
//!   at most [`PnpConfig::notify_sends`] times while it says nothing. No (a denied or
//!   unknown MAC): **no answer at all**, so the phone stays free to take another server's
//!   offer (or its vendor's redirect service) and learns nothing about our lists.
//! - The same transaction again (Call-ID, CSeq, method, Via branch) (the phone retransmits
//!   every 500 ms until answered): the cached answer is resent (or nothing, while the handler
//!   runs or after a `None`); the handler is not called again and no second NOTIFY goes out.
//!   Entries live 64·T1 (see `sip/transaction.rs`, the table shared with the registrar).
//! - `SUBSCRIBE` for another event: `489 Bad Event` with `Allow-Events: ua-profile`.
//!   `OPTIONS`: `200 OK`. `ACK`: nothing. Any other method: `405` with `Allow`.
//! - A response: matched to our pending NOTIFY by Call-ID and branch (a final one stops the
//!   retransmissions; a provisional one slows them to T2); any other is ignored.
//! - A datagram that does not parse: `400 Bad Request` saying why when it is a request with a
//!   Via (see [`codec::bad_request`]), otherwise dropped. Nothing panics.
//!
//! Why the URL is asked for after the `200 OK`: the kernel holds an ARP entry for a phone
//! only once traffic with it was resolved. A multicast SUBSCRIBE creates none; our unicast
//! `200 OK` to the phone does. So what needs the phone's MAC confirmed at its address (the
//! edge URL, see [`crate::discovery`]) is decided then.
//!
//! Amplification (issue 15, finding 10): anyone on the LAN can send a SUBSCRIBE with a
//! forged source, and each answered one sends a 200 and NOTIFYs there. Hence the answer
//! budgets, the cap on unanswered NOTIFYs, and [`bind_multicast`]'s two sockets: requests
//! are taken only from the one bound to the group on the LAN interface.
//!
//! While [`PnpConfig::debug`] is on (see [`crate::switches`]) every packet is logged at
//! `info` (source, method, Call-ID, the MAC found, the decision); otherwise the same lines
//! go to `debug`. SIP PnP carries no
//! secrets; the URL is logged only as "url" present or not (it may hold a token).

use std::collections::HashMap;
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
use super::endpoint::{self, Endpoint, NewRequest, SipServer};
use super::transaction::{ClientTransaction, Due, Key, TransactionTable};
use super::{sip_log, Timers};

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

/// Decides what a phone that asked by PnP gets, in two steps around our `200 OK` (see the
/// module docs for why). Both run off the server's receive loop, each cut off after
/// [`PnpConfig::handler_timeout`] (which counts as no answer).
pub trait PnpHandler: Send + Sync + 'static {
    /// Once per new PnP SUBSCRIBE (never for its retransmissions): whether to answer it.
    /// `false` (a MAC the allow/deny lists refuse, no MAC, no inventory): silence.
    fn subscribe(&self, req: PnpRequest) -> impl Future<Output = bool> + Send;

    /// Once our `200 OK` went to the phone: the provisioning URL for the NOTIFY (the relay's
    /// HTTP URL or the edge's HTTPS URL), or `None` to send none. This call is also the
    /// discovery report of an answered phone (the ARP table can confirm it by now).
    fn url(&self, req: PnpRequest) -> impl Future<Output = Option<String>> + Send;
}

/// An answer budget: `burst` answers at once, then one more per `every` (a token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Answers that may go out at once.
    pub burst: u32,
    /// One more answer is earned per this long.
    pub every: Duration,
}

impl Budget {
    /// Takes one answer from the bucket whose next answer is due at `due` (its theoretical
    /// arrival time); `false` (and nothing taken) when the bucket is empty.
    fn take(self, due: &mut Instant, now: Instant) -> bool {
        let next = (*due).max(now) + self.every;
        if next.saturating_duration_since(now) > self.every.saturating_mul(self.burst) {
            return false;
        }
        *due = next;
        true
    }
}

/// How the PnP server behaves.
#[derive(Debug, Clone)]
pub struct PnpConfig {
    /// The address phones reach us at, for our Via and Contact. `None`: the socket's address,
    /// or for a socket bound to `0.0.0.0` the source address routing picks per phone.
    pub advertise: Option<SocketAddr>,
    /// NOTIFY retransmission timers; transaction entries live `timers.timeout`.
    pub timers: Timers,
    /// Log every packet, the MAC found and the decision at `info` while on (the relay's
    /// `[pnp] debug`, or the site's `[debug] verbose = 1` as in MikoPBX).
    pub debug: crate::switches::Verbose,
    /// How long each handler step may take before its answer counts as `None`.
    pub handler_timeout: Duration,
    /// The most SUBSCRIBE transactions remembered (and NOTIFYs pending) at once (bounded
    /// memory under floods); when full, expired and already-decided entries make room, and
    /// only when every entry is still being decided is a new SUBSCRIBE dropped.
    pub max_transactions: usize,
    /// New SUBSCRIBEs answered per source IP. A phone sends one at boot (and repeats it
    /// only when unanswered), so a few are plenty; past it the source gets silence.
    pub per_source: Budget,
    /// New SUBSCRIBEs answered in all (spoofed sources are many): a boot storm is served at
    /// this pace, the phones repeating theirs until answered.
    pub global: Budget,
    /// The most times a NOTIFY is sent while the phone says nothing back (RFC 3261's timers
    /// alone would send it up to eleven times in 32 s to an address that never asked). A
    /// phone answers at once; an answer, even provisional, lifts the cap.
    pub notify_sends: u32,
}

impl Default for PnpConfig {
    fn default() -> Self {
        Self {
            advertise: None,
            timers: Timers::RFC3261,
            debug: crate::switches::Verbose::default(),
            handler_timeout: Duration::from_secs(3),
            max_transactions: 16_384,
            per_source: Budget {
                burst: 4,
                every: Duration::from_secs(5),
            },
            global: Budget {
                burst: 200,
                every: Duration::from_millis(10),
            },
            notify_sends: 3,
        }
    }
}

/// Most sources whose answer budget is remembered; past it, those with a full budget again
/// are forgotten, and while it is still full new sources get silence.
const MAX_SOURCES: usize = 4096;

/// The PnP server's sockets: `unicast` sends every answer and takes the phones' answers to
/// our NOTIFYs; requests come from `group` when there is one (the production setup, see
/// [`bind_multicast`]), else from `unicast` (tests on 127.0.0.1).
#[derive(Debug)]
pub struct PnpSockets {
    /// Our address: answers go out from it, NOTIFY answers come back to it.
    pub unicast: UdpSocket,
    /// The socket bound to [`PNP_GROUP`], if any: the only one requests are taken from.
    pub group: Option<UdpSocket>,
}

impl From<UdpSocket> for PnpSockets {
    fn from(unicast: UdpSocket) -> Self {
        Self {
            unicast,
            group: None,
        }
    }
}

/// Binds the PnP sockets (must be called within a tokio runtime), both UDP on `port` with
/// `SO_REUSEADDR` (so they can share the port with a PBX on the same host):
/// - the group socket, bound to [`PNP_GROUP`] itself and joined to it on the interface with
///   address `interface`: it receives only datagrams sent to the group (a unicast SUBSCRIBE
///   from another network, or one to another address of the host, never reaches it) and,
///   with `IP_MULTICAST_ALL` off, only from that interface;
/// - the unicast socket on `interface:port`, our address in Via and Contact: it sends the
///   answers and receives the phones' answers to our NOTIFYs; requests arriving on it are
///   dropped. It is also the interface for outgoing multicast (`IP_MULTICAST_IF`).
pub fn bind_multicast(interface: Ipv4Addr, port: u16) -> io::Result<PnpSockets> {
    use socket2::{Domain, Protocol, Socket, Type};
    let udp = || -> io::Result<Socket> {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_reuse_address(true)?;
        #[cfg(target_os = "linux")]
        s.set_multicast_all_v4(false)?;
        s.set_nonblocking(true)?;
        Ok(s)
    };
    let group = udp()?;
    group.bind(&SocketAddrV4::new(PNP_GROUP, port).into())?;
    group.join_multicast_v4(&PNP_GROUP, &interface)?;
    let unicast = udp()?;
    unicast.bind(&SocketAddrV4::new(interface, port).into())?;
    unicast.set_multicast_if_v4(&interface)?;
    Ok(PnpSockets {
        unicast: UdpSocket::from_std(unicast.into())?,
        group: Some(UdpSocket::from_std(group.into())?),
    })
}

/// A SUBSCRIBE being answered: what the 200 OK and the NOTIFY need.
#[derive(Debug)]
struct Asking {
    sub: Box<Message>,
    req: PnpRequest,
    dest: SocketAddr,
    tag: String,
}

/// What the handler's steps report back to the loop.
enum Step {
    /// Whether to answer the SUBSCRIBE of transaction `Key`.
    Answer(Key, bool),
    /// The URL for the NOTIFY of an answered SUBSCRIBE.
    Url(Key, Box<Asking>, Option<String>),
}

/// A NOTIFY waiting for the phone's answer.
struct Pending {
    txn: ClientTransaction,
    /// Sends left while the phone says nothing (see [`PnpConfig::notify_sends`]).
    sends_left: u32,
    /// The phone answered (provisionally): RFC 3261's timers alone apply.
    heard: bool,
}

struct Server<H> {
    ep: Endpoint<Asking>,
    handler: Arc<H>,
    config: PnpConfig,
    pending: Vec<Pending>,
    /// Answered SUBSCRIBEs whose URL the handler is deciding.
    notifying: usize,
    /// When each source's and everyone's next answer is due ([`Budget::take`]).
    sources: HashMap<IpAddr, Instant>,
    global: Instant,
    results: mpsc::Sender<Step>,
}

/// Runs the PnP server on `sockets` (one socket, or [`bind_multicast`]'s pair) until
/// `shutdown` completes; see the module docs for what it answers. Errors on individual
/// datagrams are logged and never end the loop.
pub async fn serve<H: PnpHandler>(
    sockets: impl Into<PnpSockets>,
    handler: Arc<H>,
    config: PnpConfig,
    shutdown: impl Future<Output = ()>,
) {
    let PnpSockets { unicast, group } = sockets.into();
    let (tx, rx) = mpsc::channel(64);
    // Decided transactions make room for new ones: a boot storm of 10,000 phones stalled at
    // 1,024 before they did.
    let txns = TransactionTable::new(config.max_transactions, config.timers.timeout);
    let mut ep = Endpoint::new("PnP", unicast, txns, config.debug.clone());
    if let Some(group) = group {
        ep = ep.with_listener(group);
    }
    let server = Server {
        ep,
        handler,
        config,
        pending: Vec::new(),
        notifying: 0,
        sources: HashMap::new(),
        global: Instant::now(),
        results: tx,
    };
    endpoint::serve(server, rx, shutdown).await;
}

impl<H: PnpHandler> Server<H> {
    /// Whether a new SUBSCRIBE from `ip` may be answered `now` (takes from the source's
    /// budget, then from everyone's).
    fn admit(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            self.sources.retain(|_, due| *due > now);
            if self.sources.len() >= MAX_SOURCES {
                return false;
            }
        }
        let due = self.sources.entry(ip).or_insert(now);
        self.config.per_source.take(due, now) && self.config.global.take(&mut self.global, now)
    }

    /// Asks the handler, off the loop, whether to answer a new PnP SUBSCRIBE announcing
    /// `info`; the transaction waits for its decision.
    fn ask(&mut self, req: NewRequest, info: PnpInfo) {
        let NewRequest {
            msg,
            key,
            peer,
            dest,
            tag,
            now,
            ..
        } = req;
        sip_log!(self.config.debug, %peer, call_id = %key.call_id, vendor = %info.vendor, model = %info.model,
            version = %info.version,
            mac = %info.mac.map(|m| m.to_string()).unwrap_or_default(),
            "PnP: SUBSCRIBE ua-profile");
        let asked = PnpRequest {
            info,
            peer,
            user_agent: msg.header("User-Agent").map(str::to_owned),
        };
        let handler = Arc::clone(&self.handler);
        let results = self.results.clone();
        let limit = self.config.handler_timeout;
        let (k, r) = (key.clone(), asked.clone());
        tokio::spawn(async move {
            let yes = tokio::time::timeout(limit, handler.subscribe(r))
                .await
                .unwrap_or_else(|_| {
                    tracing::warn!("PnP handler timed out; treated as no answer");
                    false
                });
            let _ = results.send(Step::Answer(k, yes)).await;
        });
        let asking = Asking {
            sub: Box::new(msg),
            req: asked,
            dest,
            tag,
        };
        self.ep.txns.begin(key, asking, None, now, limit);
    }

    /// Answers the SUBSCRIBE of `key` with `200 OK`, then asks the handler for the URL.
    async fn answer(&mut self, key: Key, asking: Asking, now: Instant) {
        let peer = asking.dest;
        let local = self.ep.local(self.config.advertise, peer);
        let contact = format!("<sip:{}>", codec::host_port(local));
        let ok = codec::response(
            &asking.sub,
            200,
            "OK",
            &asking.tag,
            &[("Expires", "0"), ("Contact", &contact)],
        );
        self.ep.send(&ok, peer).await;
        self.ep.txns.complete(key.clone(), ok, now);
        if self.pending.len() + self.notifying >= self.config.max_transactions {
            tracing::warn!("PnP: too many NOTIFYs pending; this one is not sent");
            return;
        }
        self.notifying += 1;
        let handler = Arc::clone(&self.handler);
        let results = self.results.clone();
        let limit = self.config.handler_timeout;
        tokio::spawn(async move {
            let url = tokio::time::timeout(limit, handler.url(asking.req.clone()))
                .await
                .unwrap_or_else(|_| {
                    tracing::warn!("PnP handler timed out; no NOTIFY");
                    None
                });
            let _ = results.send(Step::Url(key, Box::new(asking), url)).await;
        });
    }

    /// Sends the NOTIFY carrying `url` for the answered SUBSCRIBE of `key`.
    async fn notify(&mut self, key: Key, asking: &Asking, url: Option<String>, now: Instant) {
        let debug = self.config.debug.on();
        let Asking { sub, dest, tag, .. } = asking;
        let mac = asking
            .req
            .info
            .mac
            .map(|m| m.to_string())
            .unwrap_or_default();
        let Some(url) = url else {
            sip_log!(debug, call_id = %key.call_id, %mac, decision = "no-url", "PnP: no URL for the NOTIFY");
            return;
        };
        let peer = *dest;
        let local = self.ep.local(self.config.advertise, peer);
        let (target, notify_dest) = codec::contact_target(sub.header("Contact"), peer);
        let ids = self.ep.rng.ids();
        let built = codec::pnp_notify(&codec::PnpNotify {
            subscribe: sub,
            local,
            target: &target,
            tag,
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
        sip_log!(debug, call_id = %key.call_id, %mac, decision = "provision", %notify_dest, "PnP: decision: NOTIFY with the provisioning URL");
        self.ep.send(&bytes, notify_dest).await;
        self.pending.push(Pending {
            txn: ClientTransaction::new(
                bytes,
                notify_dest,
                ("NOTIFY", key.call_id, ids.branch),
                now,
                self.config.timers,
            ),
            sends_left: self.config.notify_sends.saturating_sub(1),
            heard: false,
        });
    }
}

impl<H: PnpHandler> SipServer for Server<H> {
    type Pending = Asking;
    type Decision = Step;

    fn endpoint(&self) -> &Endpoint<Asking> {
        &self.ep
    }

    fn endpoint_mut(&mut self) -> &mut Endpoint<Asking> {
        &mut self.ep
    }

    fn wake(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.txn.timer.wake()).min()
    }

    fn on_response(&mut self, msg: &Message, code: u16, peer: SocketAddr, now: Instant) {
        let found = self.pending.iter().position(|p| p.txn.answered_by(msg));
        sip_log!(self.config.debug, %peer, code, call_id = msg.call_id().unwrap_or_default(), matched = found.is_some(), "PnP: response");
        let Some(i) = found else { return };
        if code >= 200 {
            self.pending.swap_remove(i);
        } else if let Some(p) = self.pending.get_mut(i) {
            p.heard = true;
            p.txn.timer.provisional(now);
        }
    }

    async fn on_request(&mut self, req: NewRequest) -> Option<Vec<u8>> {
        let debug = self.config.debug.on();
        if req.method == "SUBSCRIBE" {
            if let Some(info) = req.msg.pnp_info() {
                if self.admit(req.peer.ip(), req.now) {
                    self.ask(req, info);
                } else {
                    sip_log!(debug, peer = %req.peer, call_id = %req.key.call_id, "PnP: answer budget spent; silence");
                }
                return None;
            }
        }
        let (msg, peer, call_id) = (&req.msg, req.peer, req.key.call_id.as_str());
        Some(match req.method.as_str() {
            "SUBSCRIBE" => {
                sip_log!(debug, %peer, call_id, event = msg.event_package().unwrap_or_default(), "PnP: SUBSCRIBE for another event: 489");
                codec::response(
                    msg,
                    489,
                    "Bad Event",
                    &req.tag,
                    &[("Allow-Events", "ua-profile")],
                )
            }
            "OPTIONS" => {
                sip_log!(debug, %peer, call_id, "PnP: OPTIONS: 200");
                codec::response(
                    msg,
                    200,
                    "OK",
                    &req.tag,
                    &[
                        ("Allow", "SUBSCRIBE, OPTIONS"),
                        ("Accept", "application/url"),
                    ],
                )
            }
            m => {
                sip_log!(debug, %peer, call_id, method = m, "PnP: method not allowed: 405");
                codec::response(
                    msg,
                    405,
                    "Method Not Allowed",
                    &req.tag,
                    &[("Allow", "SUBSCRIBE, OPTIONS")],
                )
            }
        })
    }

    async fn on_decision(&mut self, step: Step, now: Instant) {
        match step {
            Step::Answer(key, yes) => {
                let Some(asking) = self.ep.txns.decide(&key, now) else {
                    return;
                };
                if yes {
                    self.answer(key, asking, now).await;
                } else {
                    let mac = asking.req.info.mac.map(|m| m.to_string());
                    sip_log!(self.config.debug, call_id = %key.call_id, mac = mac.unwrap_or_default(), decision = "ignore", "PnP: decision: no answer (denied or unknown)");
                }
            }
            Step::Url(key, asking, url) => {
                self.notifying = self.notifying.saturating_sub(1);
                self.notify(key, &asking, url, now).await;
            }
        }
    }

    async fn on_timer(&mut self, now: Instant) {
        let debug = self.config.debug.on();
        let mut resend = Vec::new();
        self.pending.retain_mut(|p| match p.txn.timer.poll(now) {
            Due::Resend if p.heard || p.sends_left > 0 => {
                p.sends_left = p.sends_left.saturating_sub(1);
                resend.push((p.txn.bytes.clone(), p.txn.dest));
                true
            }
            Due::Wait => true,
            Due::GiveUp | Due::Resend => {
                sip_log!(debug, call_id = %p.txn.call_id, dest = %p.txn.dest, "PnP: NOTIFY unanswered; giving up");
                false
            }
        });
        for (bytes, dest) in resend {
            self.ep.send(&bytes, dest).await;
        }
        self.ep.txns.purge(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::response_dest;

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
    fn a_budget_gives_its_burst_then_one_per_interval() {
        let b = Budget {
            burst: 3,
            every: Duration::from_secs(5),
        };
        let t0 = Instant::now();
        let mut due = t0;
        assert_eq!((0..10).filter(|_| b.take(&mut due, t0)).count(), 3);
        assert!(!b.take(&mut due, t0 + Duration::from_secs(4)));
        assert!(b.take(&mut due, t0 + Duration::from_secs(5)));
        assert!(!b.take(&mut due, t0 + Duration::from_secs(5)));
        // Idle long enough: the whole burst again, never more.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| b.take(&mut due, later)).count(), 3);
        let none = Budget { burst: 0, ..b };
        let mut d = t0;
        assert!(!none.take(&mut d, t0));
    }

    fn notify_target(m: &Message, peer: SocketAddr) -> (String, SocketAddr) {
        codec::contact_target(m.header("Contact"), peer)
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
