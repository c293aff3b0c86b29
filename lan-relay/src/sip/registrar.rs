//! Star-code self-binding: a minimal SIP registrar on the relay itself, for phones that are
//! not bound to an extension yet.
//!
//! A fresh phone is provisioned with an account on this registrar (SIP user = its MAC as 12
//! lowercase hex digits, a per-phone password the relay derives, see [`Binder::account`]).
//! Its user dials the site's pattern and the extension (`*123*200`); the relay binds the
//! phone's MAC to extension `200` (through the [`Binder`]: locally and at the edge), answers
//! the call, hangs up, and sends the reboot `NOTIFY` so the phone fetches its real config.
//! The PBX is not involved and not changed.
//!
//! What is answered, and the rules each comes from:
//! - `REGISTER`: HTTP digest authentication (RFC 3261 §22, RFC 2617 / RFC 7616 with MD5 and
//!   `qop="auth"`; the RFC 2069 form without `qop` is accepted too, some old firmware sends
//!   it). No or unusable credentials, or a nonce we did not issue: `401` with
//!   `WWW-Authenticate: Digest realm, nonce, qop="auth", algorithm=MD5`. A correct answer to
//!   an expired nonce: `401 ... stale=true` (RFC 2617 §3.2.1). An unknown user, a wrong
//!   password, a digest `uri` other than the Request-URI: `403` (one answer for all, so the
//!   registrar does not reveal which accounts exist). Success: `200 OK` with the Contact,
//!   its `expires` and `Expires` (RFC 3261 §10.3; `Expires: 0` unregisters; at most
//!   [`MAX_EXPIRES`]). Nonces are stateless (see [`super::digest`]): issue time plus an
//!   HMAC-SHA256 of it under [`RegistrarConfig::nonce_key`], valid for
//!   [`RegistrarConfig::nonce_lifetime`] (a nonce can be replayed within that window: `nc` is
//!   not tracked; a replay can only re-register the same contact or re-bind the same MAC to
//!   the same extension).
//! - `INVITE`: the same digest as a proxy challenge (`407 Proxy-Authenticate`, RFC 3261
//!   §22.3; credentials in `Proxy-Authorization`, or `Authorization` which some phones use).
//!   Then `100 Trying`. The dialled number is the Request-URI user, percent-decoded
//!   (`%2A123%2A200`). What [`RegistrarConfig::star_pattern`] matches
//!   ([`engine::StarCodePattern`]: a prefix and 1 to 32 letters or digits, or MikoPBX's
//!   `*123*XXX` and exactly that many digits) is a binding request; anything else is `404`. The MAC is the account's; unless
//!   the ARP table ([`RegistrarConfig::arp`], Linux `/proc/net/arp`) holds that MAC for the
//!   source IP, the call is refused with `403` and logged: another MAC there is someone
//!   else's credentials on this device, no entry is a device the relay cannot place on
//!   its LAN (another subnet, IPv6), and binding hands out an extension's password. The
//!   [`Binder`] is called once per INVITE transaction, off the receive loop (cut off after
//!   half of timer B, which counts as a failure): `Ok(Binding::AwaitingApproval)` (the
//!   site wants an administrator to approve) answers `480 Awaiting Approval`, the phrase
//!   phones show; `Ok(Binding::Made)` answers `200 OK` with an SDP answer whose audio stream is `inactive` (RFC 3264 §6.1; no
//!   media is ever sent), retransmitted until the `ACK` (RFC 3261 §13.3.1.4, timers G and
//!   H); 2·T1 after the ACK (or after timer H without one) the relay sends `BYE`
//!   (retransmitted per timers E/F) and then the reboot `NOTIFY` (`Event:
//!   check-sync;reboot=true`, see [`super::notify::send_check_sync`], from its own socket) to
//!   the phone's registered contact (or the INVITE's Contact, or its source). `Err`: `480
//!   Temporarily Unavailable`, logged. A non-2xx final answer is resent when the INVITE is;
//!   it is not retransmitted on its own (the phone's retransmissions cover a lost one).
//! - A retransmitted request (same Call-ID, CSeq, method and Via branch) gets the same
//!   answer again (`100 Trying` while the binder runs); the binder is never called twice
//!   for one transaction while the table remembers it (under a flood of more than
//!   [`MAX_TRANSACTIONS`] requests an answered one may be forgotten early; binding the same
//!   MAC to the same extension again changes nothing).
//! - `OPTIONS`: `200`. `BYE` in a call of ours: `200` (the phone hung up first; the NOTIFY
//!   still follows); `CANCEL` of an INVITE still being bound: `200`, and the INVITE gets
//!   `487` once the binder is done (the binding is not undone: a successful one still sends
//!   the reboot NOTIFY). `BYE`/`CANCEL` for anything else: `481`. `ACK`: absorbed. Other methods: `405`.
//! - A datagram that does not parse: `400` when it can be addressed (see
//!   [`codec::bad_request`]), else dropped. Nothing panics; memory is bounded
//!   ([`MAX_TRANSACTIONS`], [`MAX_REGISTRATIONS`]).
//!
//! Logs never hold the password, HA1 or the response hash; the nonce and user (a MAC) are
//! not secret. With [`RegistrarConfig::debug`] every packet is logged at `info`.
//!
//! This file is the shell: the state of registrations and calls, and the I/O (the socket,
//! through the receive loop both SIP servers share, the clock, the ARP table, the binder).
//! The rules are pure and tested on their own: digest and nonces in [`super::digest`], URIs,
//! SDP and the BYE in [`super::codec`], the ARP table in [`crate::arp`], timers and
//! transactions in `sip/transaction.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use engine::{Mac, Vendor};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::codec::{self, Message};
use super::digest::{Auth, Authority};
use super::endpoint::{self, Endpoint, NewRequest, SipServer};
use super::notify::{send_check_sync, CheckSyncOptions};
use super::transaction::{ClientTransaction, Due, Key, Retransmit, TransactionTable};
use super::{sip_log, Timers};

/// The most server transactions (and calls) remembered at once. When full, answered
/// transactions make room; with every one still being decided, requests are dropped.
pub const MAX_TRANSACTIONS: usize = 1024;
/// The most registrations remembered at once; new users beyond it get `503`.
pub const MAX_REGISTRATIONS: usize = 4096;
/// The longest registration granted, in seconds (and the default when the phone asks none).
pub const MAX_EXPIRES: u32 = 3600;

/// What a star code the binder accepted did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The phone is bound: it gets its real config after the reboot NOTIFY.
    Made,
    /// The site wants an administrator to approve it: nothing is bound yet.
    AwaitingApproval,
}

/// What the registrar needs from the relay.
pub trait Binder: Send + Sync + 'static {
    /// The provisioning account `user` (a MAC as 12 lowercase hex digits): its MAC and password, or None (unknown user: refuse).
    fn account(&self, user: &str) -> Option<(engine::Mac, engine::Secret<String>)>;
    /// Binds the phone to the user `code` names (checking its PIN and the brakes on
    /// attempts from `source`; locally and at the edge), or files the request for an
    /// administrator. The registrar has confirmed `mac` at `source` (ARP).
    /// Err: a message for the log (never the PIN); the call is refused.
    fn bind(
        &self,
        mac: engine::Mac,
        code: &engine::StarCode,
        vendor: Option<engine::Vendor>,
        source: std::net::IpAddr,
    ) -> impl std::future::Future<Output = Result<Binding, String>> + Send;
    /// The star code in force now, if it comes from elsewhere than the configuration (the
    /// relay's site, which a sync may change); `None`: [`RegistrarConfig::star_pattern`].
    fn star_pattern(&self) -> Option<String> {
        None
    }
}

/// How the registrar behaves.
#[derive(Clone)]
pub struct RegistrarConfig {
    /// The star-code setting, e.g. `*123*` or MikoPBX's `*123*XXX` ([`engine::StarCodePattern`]).
    pub star_pattern: String,
    /// The digest realm (shown by phones; e.g. the site's name or the relay's host).
    pub realm: String,
    /// The key nonces are signed with (random per relay, e.g. derived from its secret).
    pub nonce_key: [u8; 32],
    /// How long an issued nonce is valid (then `401 stale=true`).
    pub nonce_lifetime: Duration,
    /// SIP timers: T1/T2 for the 200 OK and BYE retransmissions, `timeout` for timers B/F/H
    /// and transaction lifetimes.
    pub timers: Timers,
    /// Log every packet and decision at `info` while on (the relay's `[pnp] debug` or the
    /// site's `[debug] verbose = 1`).
    pub debug: crate::switches::Verbose,
    /// The ARP table to cross-check the phone's MAC with (Linux: `/proc/net/arp`).
    pub arp: crate::arp::ArpTable,
}

impl RegistrarConfig {
    /// A configuration with `star_pattern`, `realm` and `nonce_key`, and the defaults:
    /// nonces valid 5 minutes, RFC 3261 timers, no debug, `/proc/net/arp`.
    pub fn new(star_pattern: &str, realm: &str, nonce_key: [u8; 32]) -> Self {
        Self {
            star_pattern: star_pattern.to_owned(),
            realm: realm.to_owned(),
            nonce_key,
            nonce_lifetime: Duration::from_secs(300),
            timers: Timers::RFC3261,
            debug: crate::switches::Verbose::default(),
            arp: crate::arp::ArpTable::default(),
        }
    }
}

impl std::fmt::Debug for RegistrarConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrarConfig")
            .field("star_pattern", &self.star_pattern)
            .field("realm", &self.realm)
            .field("nonce_key", &"***")
            .field("nonce_lifetime", &self.nonce_lifetime)
            .field("timers", &self.timers)
            .field("debug", &self.debug)
            .field("arp", &self.arp)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// What a REGISTER asks for

/// What a (successfully authenticated) `REGISTER` asks for (RFC 3261 §10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requested<'a> {
    /// No Contact: a query of the bindings.
    Query,
    /// `Expires: 0`, `expires=0` or `Contact: *`: remove the binding.
    Remove,
    /// Bind `contact` for `expires` seconds (at most [`MAX_EXPIRES`]).
    Bind {
        /// The first Contact value.
        contact: &'a str,
        /// Seconds granted.
        expires: u32,
    },
}

/// What `msg` asks for: its first Contact, and the time from that Contact's `expires`
/// parameter, else the `Expires` header, else [`MAX_EXPIRES`], at most [`MAX_EXPIRES`].
fn requested(msg: &Message) -> Requested<'_> {
    let Some(contact) = msg.headers_named("Contact").next() else {
        return Requested::Query;
    };
    if contact.trim() == "*" {
        return Requested::Remove;
    }
    let header_expires = msg
        .header("Expires")
        .and_then(|e| e.trim().parse::<u32>().ok());
    let expires = contact
        .rsplit_once('>')
        .map_or(contact, |(_, p)| p)
        .split(';')
        .find_map(|p| p.trim().strip_prefix("expires="))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .or(header_expires)
        .unwrap_or(MAX_EXPIRES)
        .min(MAX_EXPIRES);
    if expires == 0 {
        Requested::Remove
    } else {
        Requested::Bind { contact, expires }
    }
}

// ---------------------------------------------------------------------------------------
// The server

#[derive(Debug)]
struct Registration {
    contact: SocketAddr,
    expires: Instant,
}

#[derive(Debug)]
enum Phase {
    /// The 200 OK is retransmitted until the ACK (timers G and H).
    AwaitAck(Retransmit),
    /// The BYE goes out at this instant.
    ByeAt(Instant),
    /// The BYE is retransmitted until answered (timers E and F).
    ByeSent(ClientTransaction),
}

/// An answered star-code call.
#[derive(Debug)]
struct Call {
    call_id: String,
    invite_cseq: u32,
    ok: Vec<u8>,
    ok_dest: SocketAddr,
    /// The INVITE's Contact URI (our BYE's Request-URI) and where it points.
    remote_uri: String,
    remote: SocketAddr,
    /// Our From (the INVITE's To with our tag) and To (the INVITE's From) for the BYE.
    from: String,
    to: String,
    user: String,
    vendor: Option<Vendor>,
    notify_to: SocketAddr,
    phase: Phase,
}

impl Call {
    fn wake(&self) -> Instant {
        match &self.phase {
            Phase::AwaitAck(timer) => timer.wake(),
            Phase::ByeSent(bye) => bye.timer.wake(),
            Phase::ByeAt(at) => *at,
        }
    }
}

/// The binder's verdict on one INVITE transaction.
#[derive(Debug)]
struct Bound {
    key: Key,
    result: Result<Binding, String>,
}

/// What [`Server::on_decision`] needs to finish the call once the binder answers: the
/// INVITE transaction's pending data (retransmissions get its `100 Trying` meanwhile).
#[derive(Debug)]
struct PendingInvite {
    invite: Box<Message>,
    dest: SocketAddr,
    peer: SocketAddr,
    tag: String,
    user: String,
    mac: Mac,
    ext: String,
    vendor: Option<Vendor>,
    cancelled: bool,
}

struct Server<B> {
    ep: Endpoint<PendingInvite>,
    binder: Arc<B>,
    config: RegistrarConfig,
    registrations: HashMap<String, Registration>,
    calls: Vec<Call>,
    results: mpsc::Sender<Bound>,
}

/// Runs the registrar on `socket` until `shutdown` completes; see the module docs for what
/// it answers. Errors on single datagrams are logged and never end the loop.
pub async fn serve<B: Binder>(
    socket: UdpSocket,
    binder: Arc<B>,
    config: RegistrarConfig,
    shutdown: impl Future<Output = ()>,
) {
    let (tx, rx) = mpsc::channel(64);
    let txns = TransactionTable::new(MAX_TRANSACTIONS, config.timers.timeout);
    let server = Server {
        ep: Endpoint::new("registrar", socket, txns, config.debug.clone()),
        binder,
        config,
        registrations: HashMap::new(),
        calls: Vec::new(),
        results: tx,
    };
    endpoint::serve(server, rx, shutdown).await;
}

/// The SDP session id of an answer made `now`: its time in milliseconds.
fn session_id(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl<B: Binder> Server<B> {
    fn local(&self, peer: SocketAddr) -> SocketAddr {
        self.ep.local(None, peer)
    }

    /// The digest authority for requests from `client` (its nonces are good from there only).
    fn authority(&self, client: std::net::IpAddr) -> Authority<'_> {
        Authority {
            realm: &self.config.realm,
            key: &self.config.nonce_key,
            lifetime: self.config.nonce_lifetime,
            client,
        }
    }

    /// A digest challenge in `header`, with a nonce issued now to `client`.
    fn challenge(&self, header: &str, stale: bool, client: std::net::IpAddr) -> (String, String) {
        let value = self.authority(client).challenge(SystemTime::now(), stale);
        (header.to_owned(), value)
    }

    /// Checks the request's digest credentials (in any of `headers`) from `client`, now.
    fn authenticate(
        &self,
        msg: &Message,
        method: &str,
        headers: &[&str],
        client: std::net::IpAddr,
    ) -> Auth {
        let credentials = headers.iter().flat_map(|h| msg.headers_named(h));
        self.authority(client).authenticate(
            credentials,
            method,
            msg.uri(),
            SystemTime::now(),
            |user| self.binder.account(user),
        )
    }

    /// Sends the reboot NOTIFY to the phone of a finished call, from a socket of its own.
    fn notify(&self, call: Call) {
        self.reboot(call.user, call.vendor, call.notify_to);
    }

    /// Sends the reboot NOTIFY to `user`'s phone at `dest`, from a socket of its own.
    fn reboot(&self, user: String, vendor: Option<Vendor>, dest: SocketAddr) {
        let debug = self.config.debug.on();
        let local_ip = self.local(dest).ip();
        let timers = self.config.timers;
        let vendor = vendor.unwrap_or_else(Vendor::any_for_reboot);
        sip_log!(debug, %user, %dest, "registrar: sending the reboot NOTIFY");
        tokio::spawn(async move {
            let socket = match UdpSocket::bind(SocketAddr::new(local_ip, 0)).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "registrar: no socket for the reboot NOTIFY");
                    return;
                }
            };
            let opts = CheckSyncOptions {
                user: Some(user.clone()),
                advertise: None,
                timers,
            };
            match send_check_sync(&socket, dest, vendor, true, &opts).await {
                Ok(o) => {
                    tracing::info!(%user, outcome = ?o, "star-code: reboot NOTIFY answered")
                }
                Err(e) => {
                    tracing::warn!(%user, error = %e, "star-code: reboot NOTIFY failed")
                }
            }
        });
    }

    fn register(&mut self, msg: &Message, tag: &str, peer: SocketAddr, now: Instant) -> Vec<u8> {
        let debug = self.config.debug.on();
        let user = match self.authenticate(msg, "REGISTER", &["Authorization"], peer.ip()) {
            Auth::Ok { user, .. } => user,
            Auth::Challenge { stale } => {
                sip_log!(debug, %peer, stale, "registrar: REGISTER: 401 challenge");
                let (h, v) = self.challenge("WWW-Authenticate", stale, peer.ip());
                return codec::response(msg, 401, "Unauthorized", tag, &[(&h, &v)]);
            }
            Auth::Forbidden(why) => {
                tracing::info!(%peer, reason = why, "registrar: REGISTER refused: 403");
                return codec::response(msg, 403, "Forbidden", tag, &[]);
            }
        };
        let (contact, expires) = match requested(msg) {
            Requested::Query => return codec::response(msg, 200, "OK", tag, &[]),
            Requested::Remove => {
                self.registrations.remove(&user);
                sip_log!(debug, %peer, %user, "registrar: unregistered");
                return codec::response(msg, 200, "OK", tag, &[("Expires", "0")]);
            }
            Requested::Bind { contact, expires } => (contact, expires),
        };
        if !self.registrations.contains_key(&user) && self.registrations.len() >= MAX_REGISTRATIONS
        {
            tracing::warn!(%peer, "registrar: too many registrations");
            return codec::response(msg, 503, "Service Unavailable", tag, &[]);
        }
        let (_, target) = codec::contact_target(Some(contact), peer);
        self.registrations.insert(
            user.clone(),
            Registration {
                contact: target,
                expires: now + Duration::from_secs(u64::from(expires)),
            },
        );
        sip_log!(debug, %peer, %user, contact = %target, expires, "registrar: registered");
        let c = format!("<{}>;expires={expires}", codec::uri_of(contact));
        let e = expires.to_string();
        codec::response(msg, 200, "OK", tag, &[("Contact", &c), ("Expires", &e)])
    }

    /// Handles a new INVITE; `None` when the answer will come from the binder.
    async fn invite(&mut self, req: NewRequest) -> Option<Vec<u8>> {
        let debug = self.config.debug.on();
        let (msg, key, peer, dest) = (req.msg, req.key, req.peer, req.dest);
        let tag = req.tag.as_str();
        let (user, mac) = match self.authenticate(
            &msg,
            "INVITE",
            &["Proxy-Authorization", "Authorization"],
            peer.ip(),
        ) {
            Auth::Ok { user, mac } => (user, mac),
            Auth::Challenge { stale } => {
                sip_log!(debug, %peer, stale, "registrar: INVITE: 407 challenge");
                let (h, v) = self.challenge("Proxy-Authenticate", stale, peer.ip());
                return Some(codec::response(
                    &msg,
                    407,
                    "Proxy Authentication Required",
                    tag,
                    &[(&h, &v)],
                ));
            }
            Auth::Forbidden(why) => {
                tracing::info!(%peer, reason = why, "registrar: INVITE refused: 403");
                return Some(codec::response(&msg, 403, "Forbidden", tag, &[]));
            }
        };
        let pattern = self
            .binder
            .star_pattern()
            .unwrap_or_else(|| self.config.star_pattern.clone());
        let dialled = msg.uri().and_then(|u| codec::dialled_code(u, &pattern));
        let Some(code) = dialled else {
            sip_log!(debug, %peer, %user, "registrar: INVITE to a number that is not a star code: 404");
            return Some(codec::response(&msg, 404, "Not Found", tag, &[]));
        };
        // Binding hands the extension's password to the device with this MAC: only a device
        // the ARP table confirms at the source address may (issue 15, finding 1).
        match self.config.arp.check(peer.ip(), mac).await {
            crate::arp::Neighbour::Confirmed => {}
            crate::arp::Neighbour::Other(seen) => {
                tracing::warn!(%peer, account = %mac, arp = %seen,
                    "star-code: the ARP table has another MAC for this phone's address; refused");
                return Some(codec::response(&msg, 403, "Forbidden", tag, &[]));
            }
            crate::arp::Neighbour::Unknown => {
                tracing::warn!(%peer, account = %mac,
                    "star-code: the phone's MAC cannot be confirmed at its address (no ARP entry: another subnet, IPv6); refused");
                return Some(codec::response(&msg, 403, "Forbidden", tag, &[]));
            }
        }
        let vendor = msg
            .header("User-Agent")
            .and_then(|ua| {
                engine::detect(
                    &engine::PhoneRequest {
                        path: "",
                        user_agent: Some(ua),
                        pnp: None,
                        lan_mac: None,
                    },
                    &[],
                )
                .vendor
            })
            .or_else(|| mac.vendor().filter(|v| v.is_provisioned()));
        let trying = codec::response(&msg, 100, "Trying", tag, &[]);
        self.ep.send(&trying, dest).await;
        tracing::info!(%peer, %mac, extension = %code.extension, pin = code.pin.is_some(), vendor = vendor.map(|v| v.as_str()).unwrap_or_default(),
            "star-code: binding");
        let binder = Arc::clone(&self.binder);
        let results = self.results.clone();
        let limit = self.config.timers.timeout / 2;
        let k = key.clone();
        let ext = code.extension.clone();
        let invite = PendingInvite {
            invite: Box::new(msg),
            dest,
            peer,
            tag: tag.to_owned(),
            user,
            mac,
            ext,
            vendor,
            cancelled: false,
        };
        // The binder's limit, half of timer B, is well within the transaction's lifetime.
        self.ep
            .txns
            .begin(key, invite, Some(trying), Instant::now(), Duration::ZERO);
        tokio::spawn(async move {
            let result = tokio::time::timeout(limit, binder.bind(mac, &code, vendor, peer.ip()))
                .await
                .unwrap_or_else(|_| Err("the binding timed out".to_owned()));
            let _ = results.send(Bound { key: k, result }).await;
        });
        None
    }

    fn bye(&mut self, call: &Call) -> (Vec<u8>, String) {
        let ids = self.ep.rng.ids();
        let bytes = codec::bye(&codec::Bye {
            target: &call.remote_uri,
            local: self.local(call.remote),
            branch: &ids.branch,
            from: &call.from,
            to: &call.to,
            call_id: &call.call_id,
        });
        (bytes, ids.branch)
    }
}

impl<B: Binder> SipServer for Server<B> {
    type Pending = PendingInvite;
    type Decision = Bound;

    fn endpoint(&self) -> &Endpoint<PendingInvite> {
        &self.ep
    }

    fn endpoint_mut(&mut self) -> &mut Endpoint<PendingInvite> {
        &mut self.ep
    }

    fn wake(&self) -> Option<Instant> {
        self.calls.iter().map(Call::wake).min()
    }

    fn purge(&mut self, now: Instant) {
        self.ep.txns.purge(now);
        self.registrations.retain(|_, r| r.expires > now);
    }

    fn on_ack(&mut self, key: &Key, now: Instant) {
        let at = now + self.config.timers.t1.saturating_mul(2);
        for c in &mut self.calls {
            if c.call_id == key.call_id
                && c.invite_cseq == key.cseq
                && matches!(c.phase, Phase::AwaitAck(_))
            {
                sip_log!(self.config.debug, call_id = %key.call_id, "registrar: ACK; BYE follows");
                c.phase = Phase::ByeAt(at);
            }
        }
    }

    fn on_response(&mut self, msg: &Message, code: u16, peer: SocketAddr, now: Instant) {
        let found = self
            .calls
            .iter()
            .position(|c| matches!(&c.phase, Phase::ByeSent(bye) if bye.answered_by(msg)));
        sip_log!(self.config.debug, %peer, code, call_id = msg.call_id().unwrap_or_default(), matched = found.is_some(), "registrar: response");
        let Some(i) = found else { return };
        if code >= 200 {
            let call = self.calls.swap_remove(i);
            self.notify(call);
        } else if let Some(Phase::ByeSent(bye)) = self.calls.get_mut(i).map(|c| &mut c.phase) {
            bye.timer.provisional(now);
        }
    }

    async fn on_request(&mut self, req: NewRequest) -> Option<Vec<u8>> {
        let debug = self.config.debug.on();
        if req.method == "INVITE" {
            return self.invite(req).await;
        }
        let (msg, tag, peer) = (&req.msg, req.tag.as_str(), req.peer);
        let (key, call_id) = (&req.key, req.key.call_id.as_str());
        let allow = ("Allow", "REGISTER, INVITE, ACK, BYE, CANCEL, OPTIONS");
        Some(match req.method.as_str() {
            "REGISTER" => self.register(msg, tag, peer, req.now),
            "OPTIONS" => codec::response(msg, 200, "OK", tag, &[allow]),
            "BYE" => {
                if let Some(i) = self.calls.iter().position(|c| c.call_id == call_id) {
                    sip_log!(debug, %peer, call_id, "registrar: the phone hung up");
                    let call = self.calls.swap_remove(i);
                    self.notify(call);
                    codec::response(msg, 200, "OK", tag, &[])
                } else {
                    codec::response(msg, 481, "Call/Transaction Does Not Exist", tag, &[])
                }
            }
            "CANCEL" => {
                if let Some(p) = self.ep.txns.pending_mut(&key.with_method("INVITE")) {
                    p.cancelled = true;
                    codec::response(msg, 200, "OK", tag, &[])
                } else {
                    codec::response(msg, 481, "Call/Transaction Does Not Exist", tag, &[])
                }
            }
            m => {
                sip_log!(debug, %peer, call_id, method = m, "registrar: method not allowed: 405");
                codec::response(msg, 405, "Method Not Allowed", tag, &[allow])
            }
        })
    }

    async fn on_decision(&mut self, b: Bound, now: Instant) {
        let Some(p) = self.ep.txns.decide(&b.key, now) else {
            return;
        };
        let msg = &p.invite;
        let answer = match &b.result {
            Err(e) => {
                tracing::warn!(mac = %p.mac, extension = %p.ext, error = %e, "star-code: binding failed; 480");
                codec::response(msg, 480, "Temporarily Unavailable", &p.tag, &[])
            }
            Ok(Binding::AwaitingApproval) => {
                tracing::info!(mac = %p.mac, extension = %p.ext, "star-code: waiting for an administrator's approval; 480");
                // The reason phrase is what most phones show on their screen.
                codec::response(msg, 480, "Awaiting Approval", &p.tag, &[])
            }
            Ok(Binding::Made) if p.cancelled => {
                tracing::info!(mac = %p.mac, extension = %p.ext, "star-code: bound (call cancelled)");
                // Bound all the same: the phone should fetch its real config now.
                let dest = self.registrations.get(&p.user).map_or_else(
                    || codec::contact_target(msg.header("Contact"), p.peer).1,
                    |r| r.contact,
                );
                self.reboot(p.user.clone(), p.vendor, dest);
                codec::response(msg, 487, "Request Terminated", &p.tag, &[])
            }
            Ok(Binding::Made) => {
                tracing::info!(mac = %p.mac, extension = %p.ext, "star-code: bound; answering");
                let local = self.local(p.peer);
                let contact = format!("<sip:{}>", codec::host_port(local));
                let ok = codec::response(msg, 200, "OK", &p.tag, &[("Contact", &contact)]);
                let sdp = codec::sdp_answer(msg.body(), local.ip(), session_id(SystemTime::now()));
                let ok = codec::with_body(ok, "application/sdp", &sdp);
                if self.calls.len() < MAX_TRANSACTIONS {
                    let (remote_uri, remote) = codec::contact_target(msg.header("Contact"), p.peer);
                    let to = msg.header("To").unwrap_or_default();
                    let from = if codec::tag_of(to).is_some() {
                        to.to_owned()
                    } else {
                        format!("{to};tag={}", p.tag)
                    };
                    let notify_to = self
                        .registrations
                        .get(&p.user)
                        .map_or(remote, |r| r.contact);
                    self.calls.push(Call {
                        call_id: b.key.call_id.clone(),
                        invite_cseq: b.key.cseq,
                        ok: ok.clone(),
                        ok_dest: p.dest,
                        remote_uri,
                        remote,
                        from,
                        to: msg.header("From").unwrap_or_default().to_owned(),
                        user: p.user.clone(),
                        vendor: p.vendor,
                        notify_to,
                        phase: Phase::AwaitAck(Retransmit::start(now, self.config.timers)),
                    });
                }
                ok
            }
        };
        self.ep.send(&answer, p.dest).await;
        self.ep.txns.complete(b.key, answer, now);
    }

    async fn on_timer(&mut self, now: Instant) {
        let debug = self.config.debug.on();
        let timers = self.config.timers;
        let mut sends: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        let mut done = Vec::new();
        let mut calls = std::mem::take(&mut self.calls);
        for (i, c) in calls.iter_mut().enumerate() {
            match &mut c.phase {
                Phase::AwaitAck(timer) => match timer.poll(now) {
                    Due::GiveUp => {
                        // Timer H: no ACK; end the call anyway (§13.3.1.4).
                        sip_log!(debug, call_id = %c.call_id, "registrar: no ACK; sending BYE");
                        c.phase = Phase::ByeAt(now);
                    }
                    Due::Resend => sends.push((c.ok.clone(), c.ok_dest)),
                    Due::Wait => {}
                },
                Phase::ByeAt(at) => {
                    if now >= *at {
                        let (bytes, branch) = self.bye(c);
                        sip_log!(debug, call_id = %c.call_id, dest = %c.remote, "registrar: BYE");
                        sends.push((bytes.clone(), c.remote));
                        c.phase = Phase::ByeSent(ClientTransaction::new(
                            bytes,
                            c.remote,
                            ("BYE", c.call_id.clone(), branch),
                            now,
                            timers,
                        ));
                    }
                }
                Phase::ByeSent(bye) => match bye.timer.poll(now) {
                    Due::GiveUp => {
                        sip_log!(debug, call_id = %c.call_id, "registrar: BYE unanswered");
                        done.push(i);
                    }
                    Due::Resend => sends.push((bye.bytes.clone(), bye.dest)),
                    Due::Wait => {}
                },
            }
        }
        for i in done.into_iter().rev() {
            if i < calls.len() {
                let call = calls.swap_remove(i);
                self.notify(call);
            }
        }
        self.calls = calls;
        for (bytes, dest) in sends {
            self.ep.send(&bytes, dest).await;
        }
        self.purge(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register(contact: Option<&str>, expires: Option<&str>) -> Message {
        let mut raw = "REGISTER sip:relay.test SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKr\r\n\
                       From: <sip:001565aabbcc@relay.test>;tag=1\r\nTo: <sip:001565aabbcc@relay.test>\r\n\
                       Call-ID: r1\r\nCSeq: 1 REGISTER\r\n"
            .to_owned();
        if let Some(c) = contact {
            raw.push_str(&format!("Contact: {c}\r\n"));
        }
        if let Some(e) = expires {
            raw.push_str(&format!("Expires: {e}\r\n"));
        }
        raw.push_str("\r\n");
        codec::parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn what_a_register_asks_for() {
        let c = "<sip:001565aabbcc@10.0.0.5:5062>";
        let bind = |contact, expires| Requested::Bind { contact, expires };
        assert_eq!(requested(&register(None, Some("60"))), Requested::Query);
        assert_eq!(requested(&register(Some(c), None)), bind(c, MAX_EXPIRES));
        assert_eq!(requested(&register(Some(c), Some("60"))), bind(c, 60));
        let with_param = "<sip:001565aabbcc@10.0.0.5:5062>;expires=120";
        assert_eq!(
            requested(&register(Some(with_param), Some("60"))),
            bind(with_param, 120),
            "the Contact's expires wins"
        );
        assert_eq!(
            requested(&register(Some(c), Some("999999"))),
            bind(c, MAX_EXPIRES)
        );
        assert_eq!(requested(&register(Some(c), Some("0"))), Requested::Remove);
        assert_eq!(
            requested(&register(Some("*"), Some("0"))),
            Requested::Remove
        );
        assert_eq!(
            requested(&register(Some(c), Some("soon"))),
            bind(c, MAX_EXPIRES)
        );
    }
}
