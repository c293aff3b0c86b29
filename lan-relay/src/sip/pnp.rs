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
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
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

struct Server<H> {
    ep: Endpoint<Asking>,
    handler: Arc<H>,
    config: PnpConfig,
    /// The NOTIFYs waiting for the phone's answer.
    pending: Vec<ClientTransaction>,
    results: mpsc::Sender<(Key, Option<String>)>,
}

/// Runs the PnP server on `socket` until `shutdown` completes; see the module docs for what
/// it answers. Errors on individual datagrams are logged and never end the loop.
pub async fn serve<H: PnpHandler>(
    socket: UdpSocket,
    handler: Arc<H>,
    config: PnpConfig,
    shutdown: impl Future<Output = ()>,
) {
    let (tx, rx) = mpsc::channel(64);
    // Decided transactions make room for new ones: a boot storm of 10,000 phones stalled at
    // 1,024 before they did.
    let txns = TransactionTable::new(config.max_transactions, config.timers.timeout);
    let server = Server {
        ep: Endpoint::new("PnP", socket, txns, config.debug),
        handler,
        config,
        pending: Vec::new(),
        results: tx,
    };
    endpoint::serve(server, rx, shutdown).await;
}

impl<H: PnpHandler> Server<H> {
    /// Asks the handler, off the loop, about a new PnP SUBSCRIBE announcing `info`; the
    /// transaction waits for its decision.
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
        let k = key.clone();
        tokio::spawn(async move {
            let url = tokio::time::timeout(limit, handler.subscribe(asked))
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
        self.ep.txns.begin(key, asking, None, now, limit);
    }
}

impl<H: PnpHandler> SipServer for Server<H> {
    type Pending = Asking;
    type Decision = (Key, Option<String>);

    fn endpoint(&self) -> &Endpoint<Asking> {
        &self.ep
    }

    fn endpoint_mut(&mut self) -> &mut Endpoint<Asking> {
        &mut self.ep
    }

    fn wake(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.timer.wake()).min()
    }

    fn on_response(&mut self, msg: &Message, code: u16, peer: SocketAddr, now: Instant) {
        let found = self.pending.iter().position(|p| p.answered_by(msg));
        sip_log!(self.config.debug, %peer, code, call_id = msg.call_id().unwrap_or_default(), matched = found.is_some(), "PnP: response");
        let Some(i) = found else { return };
        if code >= 200 {
            self.pending.swap_remove(i);
        } else if let Some(p) = self.pending.get_mut(i) {
            p.timer.provisional(now);
        }
    }

    async fn on_request(&mut self, req: NewRequest) -> Option<Vec<u8>> {
        let debug = self.config.debug;
        if req.method == "SUBSCRIBE" {
            if let Some(info) = req.msg.pnp_info() {
                self.ask(req, info);
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

    async fn on_decision(&mut self, (key, url): (Key, Option<String>), now: Instant) {
        let debug = self.config.debug;
        let Some(Asking { sub, dest, tag }) = self.ep.txns.decide(&key, now) else {
            return;
        };
        let mac = sub
            .pnp_info()
            .and_then(|i| i.mac)
            .map(|m| m.to_string())
            .unwrap_or_default();
        let Some(url) = url else {
            sip_log!(debug, call_id = %key.call_id, %mac, decision = "ignore", "PnP: decision: no answer (denied or unknown)");
            return;
        };
        let peer = dest;
        let local = self.ep.local(self.config.advertise, peer);
        let contact = format!("<sip:{}>", codec::host_port(local));
        let ok = codec::response(
            &sub,
            200,
            "OK",
            &tag,
            &[("Expires", "0"), ("Contact", &contact)],
        );
        self.ep.send(&ok, peer).await;
        self.ep.txns.complete(key.clone(), ok, now);
        if self.pending.len() >= self.config.max_transactions {
            tracing::warn!("PnP: too many NOTIFYs pending; this one is not sent");
            return;
        }
        let (target, notify_dest) = codec::contact_target(sub.header("Contact"), peer);
        let ids = self.ep.rng.ids();
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
        sip_log!(debug, call_id = %key.call_id, %mac, decision = "provision", %notify_dest, "PnP: decision: 200 OK and NOTIFY with the provisioning URL");
        self.ep.send(&bytes, notify_dest).await;
        self.pending.push(ClientTransaction::new(
            bytes,
            notify_dest,
            ("NOTIFY", key.call_id, ids.branch),
            now,
            self.config.timers,
        ));
    }

    async fn on_timer(&mut self, now: Instant) {
        let debug = self.config.debug;
        let mut resend = Vec::new();
        self.pending.retain_mut(|p| match p.timer.poll(now) {
            Due::GiveUp => {
                sip_log!(debug, call_id = %p.call_id, dest = %p.dest, "PnP: NOTIFY unanswered; giving up");
                false
            }
            Due::Resend => {
                resend.push((p.bytes.clone(), p.dest));
                true
            }
            Due::Wait => true,
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
