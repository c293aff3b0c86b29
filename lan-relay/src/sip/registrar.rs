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
//!   [`MAX_EXPIRES`]). Nonces are stateless: issue time plus an HMAC-SHA256 of it under
//!   [`RegistrarConfig::nonce_key`], valid for [`RegistrarConfig::nonce_lifetime`] (a nonce
//!   can be replayed within that window: `nc` is not tracked; a replay can only re-register
//!   the same contact or re-bind the same MAC to the same extension).
//! - `INVITE`: the same digest as a proxy challenge (`407 Proxy-Authenticate`, RFC 3261
//!   §22.3; credentials in `Proxy-Authorization`, or `Authorization` which some phones use).
//!   Then `100 Trying`. The dialled number is the Request-URI user, percent-decoded
//!   (`%2A123%2A200`). [`RegistrarConfig::star_pattern`] followed by 1 to 32 letters or
//!   digits is a binding request; anything else is `404`. The MAC is the account's; when the
//!   ARP table ([`RegistrarConfig::arp_path`], Linux `/proc/net/arp`) has an entry for the
//!   source IP with another MAC, the call is refused with `403` (someone else's credentials
//!   on this phone) and logged. The [`Binder`] is called once per INVITE transaction, off
//!   the receive loop (cut off after half of timer B, which counts as a failure): `Ok`
//!   answers `200 OK` with an SDP answer whose audio stream is `inactive` (RFC 3264 §6.1; no
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

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use engine::{Mac, Vendor};
use md5::{Digest as _, Md5};
use sha2::Sha256;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::codec::{self, Message};
use super::notify::{send_check_sync, CheckSyncOptions};
use super::transaction::{response_dest, Key, TransactionTable};
use super::{local_for, receive, sleep_until_opt, IdRng, Incoming, Timers};

/// The most server transactions (and calls) remembered at once. When full, answered
/// transactions make room; with every one still being decided, requests are dropped.
pub const MAX_TRANSACTIONS: usize = 1024;
/// The most registrations remembered at once; new users beyond it get `503`.
pub const MAX_REGISTRATIONS: usize = 4096;
/// The longest registration granted, in seconds (and the default when the phone asks none).
pub const MAX_EXPIRES: u32 = 3600;
/// The longest ARP table read, in bytes.
const MAX_ARP: u64 = 1 << 20;

/// What the registrar needs from the relay.
pub trait Binder: Send + Sync + 'static {
    /// The provisioning account `user` (a MAC as 12 lowercase hex digits): its MAC and password, or None (unknown user: refuse).
    fn account(&self, user: &str) -> Option<(engine::Mac, engine::Secret<String>)>;
    /// Binds the phone to the user `code` names (checking its PIN; locally and at the edge).
    /// Err: a message for the log (never the PIN); the call is refused.
    fn bind(
        &self,
        mac: engine::Mac,
        code: &engine::StarCode,
        vendor: Option<engine::Vendor>,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
    /// The star code in force now, if it comes from elsewhere than the configuration (the
    /// relay's site, which a sync may change); `None`: [`RegistrarConfig::star_pattern`].
    fn star_pattern(&self) -> Option<String> {
        None
    }
}

/// How the registrar behaves.
#[derive(Clone)]
pub struct RegistrarConfig {
    /// The dialled prefix before the extension, e.g. `*123*`.
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
    /// Log every packet and decision at `info`.
    pub debug: bool,
    /// The ARP table to cross-check the phone's MAC with (Linux: `/proc/net/arp`).
    pub arp_path: PathBuf,
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
            debug: false,
            arp_path: PathBuf::from("/proc/net/arp"),
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
            .field("arp_path", &self.arp_path)
            .finish()
    }
}

macro_rules! rlog {
    ($debug:expr, $($arg:tt)+) => {
        if $debug {
            tracing::info!(target: "lan_relay::sip::registrar", $($arg)+);
        } else {
            tracing::debug!(target: "lan_relay::sip::registrar", $($arg)+);
        }
    };
}

// ---------------------------------------------------------------------------------------
// Digest (RFC 2617 §3.2.2, MD5 and qop=auth)

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn md5_hex(parts: &[&str]) -> String {
    let mut h = Md5::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

/// The digest `response` (RFC 2617 §3.2.2.1): with `qop` = `auth`,
/// MD5(HA1:nonce:nc:cnonce:qop:HA2); without (RFC 2069), MD5(HA1:nonce:HA2); where
/// HA1 = MD5(user:realm:password), HA2 = MD5(method:uri).
#[allow(clippy::too_many_arguments)]
fn digest_response(
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str, &str)>,
) -> String {
    let ha1 = md5_hex(&[user, realm, password]);
    let ha2 = md5_hex(&[method, uri]);
    match qop {
        Some((nc, cnonce, qop)) => md5_hex(&[&ha1, nonce, nc, cnonce, qop, &ha2]),
        None => md5_hex(&[&ha1, nonce, &ha2]),
    }
}

/// Splits an `Authorization` value `Digest a=b, c="d,e"` into its parameters (names
/// lowercased, quotes and escapes removed); `None` when it is not a Digest credential, a
/// parameter has no `=`, a quote is not closed, or there are more than 32 parameters.
pub fn digest_params(value: &str) -> Option<HashMap<String, String>> {
    let (scheme, rest) = value.trim().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            name.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        chars.next_if_eq(&'=')?;
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.next_if_eq(&'"').is_some() {
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => val.push(chars.next()?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => val.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                val.push(c);
                chars.next();
            }
        }
        if name.is_empty() || out.len() >= 32 {
            return None;
        }
        out.insert(name.to_ascii_lowercase(), val);
    }
    Some(out)
}

fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(key) {
        *i ^= k;
        *o ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A nonce: the issue time (ms since the epoch, 12 hex digits) and 16 bytes of
/// HMAC-SHA256(key, time ":" realm), hex.
fn make_nonce(key: &[u8; 32], realm: &str, ms: u64) -> String {
    let t = format!("{ms:012x}");
    let mac = hmac_sha256(key, format!("{t}:{realm}").as_bytes());
    format!("{t}{}", hex(mac.get(..16).unwrap_or_default()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NonceState {
    Valid,
    Stale,
    Invalid,
}

fn check_nonce(key: &[u8; 32], realm: &str, nonce: &str, now: u64, life: Duration) -> NonceState {
    if nonce.len() != 44 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return NonceState::Invalid;
    }
    let Some(t) = nonce.get(..12) else {
        return NonceState::Invalid;
    };
    let Ok(ms) = u64::from_str_radix(t, 16) else {
        return NonceState::Invalid;
    };
    let want = make_nonce(key, realm, ms);
    if !engine::ct_eq(want.as_bytes(), nonce.to_ascii_lowercase().as_bytes()) {
        return NonceState::Invalid;
    }
    let life = u64::try_from(life.as_millis()).unwrap_or(u64::MAX);
    // A nonce from the future (clock stepped back) more than a second: not ours to trust.
    if ms > now.saturating_add(1000) {
        return NonceState::Invalid;
    }
    if now.saturating_sub(ms) > life {
        NonceState::Stale
    } else {
        NonceState::Valid
    }
}

// ---------------------------------------------------------------------------------------
// ARP, URIs, SDP

/// The MAC the ARP table (Linux `/proc/net/arp`: a header line, then `IP address  HW type
/// Flags  HW address  Mask  Device`) holds for `ip`; incomplete entries (flags `0x0`, or an
/// all-zero address) and malformed lines are skipped.
pub fn arp_lookup(table: &str, ip: Ipv4Addr) -> Option<Mac> {
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let (a, _hw, flags, mac) = (cols.next()?, cols.next()?, cols.next()?, cols.next()?);
        if a.parse::<Ipv4Addr>().ok()? != ip {
            return None;
        }
        let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
        if flags & 0x2 == 0 {
            return None;
        }
        Mac::parse(mac)
            .ok()
            .filter(|m| *m != Mac::from_octets([0; 6]))
    })
}

/// Decodes `%XX` escapes; `None` for a bad escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let h = b.get(i + 1..i + 3)?;
            let h = std::str::from_utf8(h).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The user part of a `sip:`/`sips:` Request-URI, percent-decoded.
fn dialled(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (user, _) = rest.split_once('@')?;
    let user = user.split(';').next().unwrap_or_default();
    percent_decode(user)
}

/// The star code a Request-URI `uri` dials after the site's `pattern` (the URI user,
/// percent-decoded: `pattern`, the extension, and `*PIN` when dialled; see
/// [`engine::StarCode::parse`]); `None` for anything else.
pub fn dialled_code(uri: &str, pattern: &str) -> Option<engine::StarCode> {
    engine::StarCode::parse(&dialled(uri)?, pattern)
}

/// The URI inside a Contact/From/To value (`"name" <uri>;params` or `uri;params`).
fn uri_in(v: &str) -> &str {
    match v.split_once('<').and_then(|(_, r)| r.split_once('>')) {
        Some((u, _)) => u.trim(),
        None => v.split(';').next().unwrap_or_default().trim(),
    }
}

/// The address a Contact URI `sip:[user@]ip[:port]` names, with its URI.
fn contact_addr(contact: &str) -> Option<(&str, SocketAddr)> {
    let uri = uri_in(contact);
    let rest = uri.strip_prefix("sip:")?;
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = hostport.split(';').next().unwrap_or_default();
    let addr = hostport.parse::<SocketAddr>().ok().or_else(|| {
        hostport
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 5060))
    })?;
    (addr.port() != 0 && uri.bytes().all(|b| b.is_ascii_graphic())).then_some((uri, addr))
}

/// Where a Contact points, with the URI to address it by: the Contact when it is on the
/// source IP (so a forged Contact cannot aim our requests elsewhere); else the source.
fn contact_target(contact: Option<&str>, peer: SocketAddr) -> (String, SocketAddr) {
    match contact.and_then(contact_addr) {
        Some((uri, a)) if a.ip() == peer.ip() => (uri.to_owned(), a),
        _ => (format!("sip:{}", host_port(peer)), peer),
    }
}

fn host_port(a: SocketAddr) -> String {
    match a.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", a.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", a.port()),
    }
}

/// The SDP answer (RFC 3264 §6): one audio stream, `inactive`, with the offer's first
/// static payload type (0, PCMU, when the offer has none).
fn sdp_answer(offer: &[u8], local: IpAddr, session: u64) -> String {
    let pt = std::str::from_utf8(offer)
        .ok()
        .and_then(|o| {
            o.lines()
                .find_map(|l| l.trim().strip_prefix("m=audio "))
                .and_then(|m| {
                    m.split_whitespace()
                        .skip(2)
                        .find(|p| p.parse::<u8>().is_ok_and(|n| n < 35))
                })
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "0".to_owned());
    let (net, ip) = match local {
        IpAddr::V4(ip) => ("IP4", ip.to_string()),
        IpAddr::V6(ip) => ("IP6", ip.to_string()),
    };
    format!(
        "v=0\r\no=lan-relay {session} 1 IN {net} {ip}\r\ns=star-code\r\nc=IN {net} {ip}\r\n\
         t=0 0\r\nm=audio 9 RTP/AVP {pt}\r\na=inactive\r\n"
    )
}

/// `resp` (built by [`codec::response`], ending in `Content-Length: 0` and the empty line)
/// with a body.
fn with_body(resp: Vec<u8>, content_type: &str, body: &str) -> Vec<u8> {
    let end = b"Content-Length: 0\r\n\r\n";
    let Some(head) = resp.strip_suffix(end.as_slice()) else {
        return resp;
    };
    let mut out = head.to_vec();
    out.extend_from_slice(
        format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    out
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
    AwaitAck {
        next: Instant,
        interval: Duration,
        deadline: Instant,
    },
    /// The BYE goes out at this instant.
    ByeAt(Instant),
    /// The BYE is retransmitted until answered (timers E and F).
    ByeSent {
        bytes: Vec<u8>,
        branch: String,
        next: Instant,
        interval: Duration,
        deadline: Instant,
    },
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
            Phase::AwaitAck { next, deadline, .. } | Phase::ByeSent { next, deadline, .. } => {
                (*next).min(*deadline)
            }
            Phase::ByeAt(at) => *at,
        }
    }
}

/// The binder's verdict on one INVITE transaction.
struct Bound {
    key: Key,
    result: Result<(), String>,
}

/// What [`Server::bound`] needs to finish the call once the binder answers: the INVITE
/// transaction's pending data (retransmissions get its `100 Trying` meanwhile).
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

enum Auth {
    Ok { user: String, mac: Mac },
    Challenge { stale: bool },
    Forbidden(&'static str),
}

struct Server<B> {
    socket: UdpSocket,
    binder: Arc<B>,
    config: RegistrarConfig,
    rng: IdRng,
    txns: TransactionTable<PendingInvite>,
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
    let (tx, mut rx) = mpsc::channel(64);
    let txns = TransactionTable::new(MAX_TRANSACTIONS, config.timers.timeout);
    let mut server = Server {
        socket,
        binder,
        config,
        rng: IdRng::new(),
        txns,
        registrations: HashMap::new(),
        calls: Vec::new(),
        results: tx,
    };
    tokio::pin!(shutdown);
    let mut buf = vec![0u8; codec::MAX_MESSAGE + 1];
    loop {
        let wake = server.calls.iter().map(Call::wake).min();
        tokio::select! {
            () = &mut shutdown => break,
            r = server.socket.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let data = buf.get(..n).unwrap_or_default();
                    server.on_datagram(data, peer).await;
                }
                Err(e) => tracing::warn!(error = %e, "registrar socket receive failed"),
            },
            Some(b) = rx.recv() => server.bound(b).await,
            () = sleep_until_opt(wake) => server.on_timer().await,
        }
    }
}

impl<B: Binder> Server<B> {
    async fn send(&self, bytes: &[u8], dest: SocketAddr) {
        if let Err(e) = self.socket.send_to(bytes, dest).await {
            tracing::warn!(error = %e, %dest, "registrar send failed");
        }
    }

    fn local(&self, peer: SocketAddr) -> SocketAddr {
        local_for(None, self.socket.local_addr().ok(), peer)
    }

    fn challenge(&self, header: &str, stale: bool) -> (String, String) {
        let nonce = make_nonce(&self.config.nonce_key, &self.config.realm, now_ms());
        let realm = self.config.realm.replace(['"', '\\'], "");
        let stale = if stale { ", stale=true" } else { "" };
        (
            header.to_owned(),
            format!(
                "Digest realm=\"{realm}\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5{stale}"
            ),
        )
    }

    /// Checks the request's digest credentials (in any of `headers`).
    fn authenticate(&self, msg: &Message, method: &str, headers: &[&str]) -> Auth {
        let realm = &self.config.realm;
        let creds = headers
            .iter()
            .flat_map(|h| msg.headers_named(h))
            .filter_map(digest_params)
            .find(|p| p.get("realm") == Some(realm));
        let Some(p) = creds else {
            return Auth::Challenge { stale: false };
        };
        let get = |k: &str| p.get(k).map(String::as_str);
        let (Some(user), Some(nonce), Some(uri), Some(resp)) =
            (get("username"), get("nonce"), get("uri"), get("response"))
        else {
            return Auth::Challenge { stale: false };
        };
        if get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return Auth::Challenge { stale: false };
        }
        let qop = match get("qop") {
            None => None,
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let (Some(nc), Some(cnonce)) = (get("nc"), get("cnonce")) else {
                    return Auth::Challenge { stale: false };
                };
                if nc.len() != 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Auth::Challenge { stale: false };
                }
                Some((nc, cnonce, q))
            }
            Some(_) => return Auth::Challenge { stale: false },
        };
        let state = check_nonce(
            &self.config.nonce_key,
            realm,
            nonce,
            now_ms(),
            self.config.nonce_lifetime,
        );
        if state == NonceState::Invalid {
            return Auth::Challenge { stale: false };
        }
        let Some((mac, password)) = self.binder.account(user) else {
            return Auth::Forbidden("unknown account");
        };
        if Some(uri) != msg.uri() {
            return Auth::Forbidden("digest uri is not the Request-URI");
        }
        let want = digest_response(user, realm, password.expose(), method, uri, nonce, qop);
        if !engine::ct_eq(want.as_bytes(), resp.to_ascii_lowercase().as_bytes()) {
            return Auth::Forbidden("wrong password");
        }
        if state == NonceState::Stale {
            return Auth::Challenge { stale: true };
        }
        Auth::Ok {
            user: user.to_owned(),
            mac,
        }
    }

    async fn on_datagram(&mut self, data: &[u8], peer: SocketAddr) {
        match receive(data, &mut self.rng) {
            Incoming::Nothing => {}
            Incoming::Malformed { error, answer } => {
                rlog!(self.config.debug, %peer, len = data.len(), %error, answered = answer.is_some(), "registrar: malformed packet");
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
        let is_bye = msg.cseq().is_some_and(|(_, m)| m == "BYE");
        let (call_id, branch) = (msg.call_id(), msg.top_branch());
        let found = self.calls.iter().position(|c| {
            is_bye
                && Some(c.call_id.as_str()) == call_id
                && matches!(&c.phase, Phase::ByeSent { branch: b, .. } if Some(b.as_str()) == branch)
        });
        rlog!(debug, %peer, code, call_id = call_id.unwrap_or_default(), matched = found.is_some(), "registrar: response");
        let Some(i) = found else { return };
        if code >= 200 {
            let call = self.calls.swap_remove(i);
            self.notify(call);
        } else if let Some(Phase::ByeSent { interval, next, .. }) =
            self.calls.get_mut(i).map(|c| &mut c.phase)
        {
            *interval = self.config.timers.t2;
            *next = Instant::now() + *interval;
        }
    }

    /// Sends the reboot NOTIFY to the phone of a finished call, from a socket of its own.
    fn notify(&self, call: Call) {
        self.reboot(call.user, call.vendor, call.notify_to);
    }

    /// Sends the reboot NOTIFY to `user`'s phone at `dest`, from a socket of its own.
    fn reboot(&self, user: String, vendor: Option<Vendor>, dest: SocketAddr) {
        let debug = self.config.debug;
        let local_ip = self.local(dest).ip();
        let timers = self.config.timers;
        // The reboot Event is the same for every vendor with a check-sync NOTIFY.
        let vendor = vendor.unwrap_or(Vendor::Yealink);
        rlog!(debug, %user, %dest, "registrar: sending the reboot NOTIFY");
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

    fn purge(&mut self, now: Instant) {
        self.txns.purge(now);
        self.registrations.retain(|_, r| r.expires > now);
    }

    async fn on_request(&mut self, msg: Message, method: &str, peer: SocketAddr) {
        let debug = self.config.debug;
        let now = Instant::now();
        self.purge(now);
        let Some(key) = Key::of(&msg) else {
            return;
        };
        let call_id = key.call_id.clone();
        let dest = response_dest(&msg, peer);
        if method == "ACK" {
            self.on_ack(&call_id, key.cseq);
            return;
        }
        if let Some(again) = self.txns.retransmission(&key) {
            rlog!(debug, %peer, method, %call_id, "registrar: retransmission");
            if let Some(bytes) = again.resend {
                self.send(bytes, dest).await;
            }
            return;
        }
        if !self.txns.make_room(now) {
            tracing::warn!(%peer, "registrar: too many transactions; request dropped");
            return;
        }
        let tag = self.rng.ids().tag;
        let answer = match method {
            "REGISTER" => self.register(&msg, &tag, peer),
            "INVITE" => match self.invite(msg, &key, &tag, dest, peer).await {
                Some(a) => a,
                None => return,
            },
            "OPTIONS" => codec::response(
                &msg,
                200,
                "OK",
                &tag,
                &[("Allow", "REGISTER, INVITE, ACK, BYE, CANCEL, OPTIONS")],
            ),
            "BYE" => {
                if let Some(i) = self.calls.iter().position(|c| c.call_id == call_id) {
                    rlog!(debug, %peer, %call_id, "registrar: the phone hung up");
                    let call = self.calls.swap_remove(i);
                    self.notify(call);
                    codec::response(&msg, 200, "OK", &tag, &[])
                } else {
                    codec::response(&msg, 481, "Call/Transaction Does Not Exist", &tag, &[])
                }
            }
            "CANCEL" => {
                if let Some(p) = self.txns.pending_mut(&key.with_method("INVITE")) {
                    p.cancelled = true;
                    codec::response(&msg, 200, "OK", &tag, &[])
                } else {
                    codec::response(&msg, 481, "Call/Transaction Does Not Exist", &tag, &[])
                }
            }
            m => {
                rlog!(debug, %peer, %call_id, method = m, "registrar: method not allowed: 405");
                codec::response(
                    &msg,
                    405,
                    "Method Not Allowed",
                    &tag,
                    &[("Allow", "REGISTER, INVITE, ACK, BYE, CANCEL, OPTIONS")],
                )
            }
        };
        self.send(&answer, dest).await;
        self.txns.complete(key, answer, now);
    }

    fn on_ack(&mut self, call_id: &str, cseq: u32) {
        let at = Instant::now() + self.config.timers.t1.saturating_mul(2);
        for c in &mut self.calls {
            if c.call_id == call_id
                && c.invite_cseq == cseq
                && matches!(c.phase, Phase::AwaitAck { .. })
            {
                rlog!(self.config.debug, %call_id, "registrar: ACK; BYE follows");
                c.phase = Phase::ByeAt(at);
            }
        }
    }

    fn register(&mut self, msg: &Message, tag: &str, peer: SocketAddr) -> Vec<u8> {
        let debug = self.config.debug;
        let (user, _mac) = match self.authenticate(msg, "REGISTER", &["Authorization"]) {
            Auth::Ok { user, mac } => (user, mac),
            Auth::Challenge { stale } => {
                rlog!(debug, %peer, stale, "registrar: REGISTER: 401 challenge");
                let (h, v) = self.challenge("WWW-Authenticate", stale);
                return codec::response(msg, 401, "Unauthorized", tag, &[(&h, &v)]);
            }
            Auth::Forbidden(why) => {
                tracing::info!(%peer, reason = why, "registrar: REGISTER refused: 403");
                return codec::response(msg, 403, "Forbidden", tag, &[]);
            }
        };
        let contacts: Vec<&str> = msg.headers_named("Contact").collect();
        let header_expires = msg
            .header("Expires")
            .and_then(|e| e.trim().parse::<u32>().ok());
        let contact = contacts.first().copied();
        let star = contact.is_some_and(|c| c.trim() == "*");
        let expires = contact
            .filter(|_| !star)
            .and_then(|c| {
                c.rsplit_once('>')
                    .map_or(c, |(_, p)| p)
                    .split(';')
                    .find_map(|p| p.trim().strip_prefix("expires="))
                    .and_then(|v| v.trim().parse::<u32>().ok())
            })
            .or(header_expires)
            .unwrap_or(MAX_EXPIRES)
            .min(MAX_EXPIRES);
        let Some(contact) = contact.filter(|_| !star && expires > 0) else {
            // A query (no Contact) or an unregistration (Expires 0, or `*`).
            if contact.is_some() {
                self.registrations.remove(&user);
                rlog!(debug, %peer, %user, "registrar: unregistered");
            }
            let e = if contact.is_some() { "0" } else { "" };
            let extra: Vec<(&str, &str)> = if e.is_empty() {
                vec![]
            } else {
                vec![("Expires", e)]
            };
            return codec::response(msg, 200, "OK", tag, &extra);
        };
        if !self.registrations.contains_key(&user) && self.registrations.len() >= MAX_REGISTRATIONS
        {
            tracing::warn!(%peer, "registrar: too many registrations");
            return codec::response(msg, 503, "Service Unavailable", tag, &[]);
        }
        let (_, target) = contact_target(Some(contact), peer);
        self.registrations.insert(
            user.clone(),
            Registration {
                contact: target,
                expires: Instant::now() + Duration::from_secs(u64::from(expires)),
            },
        );
        rlog!(debug, %peer, %user, contact = %target, expires, "registrar: registered");
        let uri = uri_in(contact);
        let c = format!("<{uri}>;expires={expires}");
        let e = expires.to_string();
        codec::response(msg, 200, "OK", tag, &[("Contact", &c), ("Expires", &e)])
    }

    /// Handles a new INVITE; `None` when the answer will come from the binder.
    async fn invite(
        &mut self,
        msg: Message,
        key: &Key,
        tag: &str,
        dest: SocketAddr,
        peer: SocketAddr,
    ) -> Option<Vec<u8>> {
        let debug = self.config.debug;
        let (user, mac) =
            match self.authenticate(&msg, "INVITE", &["Proxy-Authorization", "Authorization"]) {
                Auth::Ok { user, mac } => (user, mac),
                Auth::Challenge { stale } => {
                    rlog!(debug, %peer, stale, "registrar: INVITE: 407 challenge");
                    let (h, v) = self.challenge("Proxy-Authenticate", stale);
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
        let dialled = msg.uri().and_then(|u| dialled_code(u, &pattern));
        let Some(code) = dialled else {
            rlog!(debug, %peer, %user, "registrar: INVITE to a number that is not a star code: 404");
            return Some(codec::response(&msg, 404, "Not Found", tag, &[]));
        };
        if let IpAddr::V4(ip) = peer.ip() {
            let table = read_arp(&self.config.arp_path).await;
            if let Some(seen) = table.as_deref().and_then(|t| arp_lookup(t, ip)) {
                if seen != mac {
                    tracing::warn!(%peer, account = %mac, arp = %seen,
                        "star-code: the ARP table has another MAC for this phone's address; refused");
                    return Some(codec::response(&msg, 403, "Forbidden", tag, &[]));
                }
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
                    },
                    &[],
                )
                .vendor
            })
            .or_else(|| mac.vendor().filter(|v| v.is_provisioned()));
        let trying = codec::response(&msg, 100, "Trying", tag, &[]);
        self.send(&trying, dest).await;
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
        self.txns.begin(
            key.clone(),
            invite,
            Some(trying),
            Instant::now(),
            Duration::ZERO,
        );
        tokio::spawn(async move {
            let result = tokio::time::timeout(limit, binder.bind(mac, &code, vendor))
                .await
                .unwrap_or_else(|_| Err("the binding timed out".to_owned()));
            let _ = results.send(Bound { key: k, result }).await;
        });
        None
    }

    async fn bound(&mut self, b: Bound) {
        let now = Instant::now();
        let Some(p) = self.txns.decide(&b.key, now) else {
            return;
        };
        let msg = &p.invite;
        let answer = match &b.result {
            Err(e) => {
                tracing::warn!(mac = %p.mac, extension = %p.ext, error = %e, "star-code: binding failed; 480");
                codec::response(msg, 480, "Temporarily Unavailable", &p.tag, &[])
            }
            Ok(()) if p.cancelled => {
                tracing::info!(mac = %p.mac, extension = %p.ext, "star-code: bound (call cancelled)");
                // Bound all the same: the phone should fetch its real config now.
                let dest = self.registrations.get(&p.user).map_or_else(
                    || contact_target(msg.header("Contact"), p.peer).1,
                    |r| r.contact,
                );
                self.reboot(p.user.clone(), p.vendor, dest);
                codec::response(msg, 487, "Request Terminated", &p.tag, &[])
            }
            Ok(()) => {
                tracing::info!(mac = %p.mac, extension = %p.ext, "star-code: bound; answering");
                let local = self.local(p.peer);
                let contact = format!("<sip:{}>", host_port(local));
                let ok = codec::response(msg, 200, "OK", &p.tag, &[("Contact", &contact)]);
                let session = now_ms();
                let ok = with_body(
                    ok,
                    "application/sdp",
                    &sdp_answer(msg.body(), local.ip(), session),
                );
                if self.calls.len() < MAX_TRANSACTIONS {
                    let (remote_uri, remote) = contact_target(msg.header("Contact"), p.peer);
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
                    let t1 = self.config.timers.t1;
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
                        phase: Phase::AwaitAck {
                            next: now + t1,
                            interval: t1,
                            deadline: now + self.config.timers.timeout,
                        },
                    });
                }
                ok
            }
        };
        self.send(&answer, p.dest).await;
        self.txns.complete(b.key, answer, now);
    }

    fn bye(&mut self, call: &Call) -> (Vec<u8>, String) {
        let ids = self.rng.ids();
        let local = self.local(call.remote);
        let mut out = String::with_capacity(512);
        let _ = write!(out, "BYE {} SIP/2.0\r\n", call.remote_uri);
        let _ = write!(
            out,
            "Via: SIP/2.0/UDP {};branch={};rport\r\n",
            host_port(local),
            ids.branch
        );
        out.push_str("Max-Forwards: 70\r\n");
        let _ = write!(out, "From: {}\r\n", call.from);
        let _ = write!(out, "To: {}\r\n", call.to);
        let _ = write!(out, "Call-ID: {}\r\n", call.call_id);
        out.push_str("CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
        (out.into_bytes(), ids.branch)
    }

    async fn on_timer(&mut self) {
        let debug = self.config.debug;
        let now = Instant::now();
        let timers = self.config.timers;
        let mut sends: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        let mut done = Vec::new();
        let mut calls = std::mem::take(&mut self.calls);
        for (i, c) in calls.iter_mut().enumerate() {
            match &mut c.phase {
                Phase::AwaitAck {
                    next,
                    interval,
                    deadline,
                } => {
                    if now >= *deadline {
                        // Timer H: no ACK; end the call anyway (§13.3.1.4).
                        rlog!(debug, call_id = %c.call_id, "registrar: no ACK; sending BYE");
                        c.phase = Phase::ByeAt(now);
                    } else if now >= *next {
                        sends.push((c.ok.clone(), c.ok_dest));
                        *interval = timers.next_interval(*interval);
                        *next = now + *interval;
                    }
                }
                Phase::ByeAt(at) => {
                    if now >= *at {
                        let (bytes, branch) = self.bye(c);
                        rlog!(debug, call_id = %c.call_id, dest = %c.remote, "registrar: BYE");
                        sends.push((bytes.clone(), c.remote));
                        c.phase = Phase::ByeSent {
                            bytes,
                            branch,
                            next: now + timers.t1,
                            interval: timers.t1,
                            deadline: now + timers.timeout,
                        };
                    }
                }
                Phase::ByeSent {
                    bytes,
                    next,
                    interval,
                    deadline,
                    ..
                } => {
                    if now >= *deadline {
                        rlog!(debug, call_id = %c.call_id, "registrar: BYE unanswered");
                        done.push(i);
                    } else if now >= *next {
                        sends.push((bytes.clone(), c.remote));
                        *interval = timers.next_interval(*interval);
                        *next = now + *interval;
                    }
                }
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
            self.send(&bytes, dest).await;
        }
        self.purge(now);
    }
}

async fn read_arp(path: &std::path::Path) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let f = tokio::fs::File::open(path).await.ok()?;
    let mut s = String::new();
    f.take(MAX_ARP).read_to_string(&mut s).await.ok()?;
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_example() {
        let r = digest_response(
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(("00000001", "0a4f113b", "auth")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn digest_header_parsing() {
        let p = digest_params(
            r#"Digest username="Mufasa", realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth,
            nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1",
            opaque="5ccc069c403ebaf9f0171e9517f40e41", x="a\"b,c""#,
        )
        .unwrap();
        assert_eq!(p["username"], "Mufasa");
        assert_eq!(p["qop"], "auth");
        assert_eq!(p["nc"], "00000001");
        assert_eq!(p["x"], "a\"b,c");
        assert!(digest_params("Basic abc").is_none());
        assert!(digest_params("Digest a=\"open").is_none());
        assert!(digest_params("Digest a").is_none());
        assert!(digest_params("").is_none());
    }

    #[test]
    fn nonces_expire_and_are_signed() {
        let k = [7u8; 32];
        let n = make_nonce(&k, "r", 1_000_000);
        let life = Duration::from_secs(300);
        assert_eq!(check_nonce(&k, "r", &n, 1_000_500, life), NonceState::Valid);
        assert_eq!(
            check_nonce(&k, "r", &n, 1_000_000 + 300_001, life),
            NonceState::Stale
        );
        assert_eq!(
            check_nonce(&k, "other", &n, 1_000_500, life),
            NonceState::Invalid
        );
        assert_eq!(
            check_nonce(&[8; 32], "r", &n, 1_000_500, life),
            NonceState::Invalid
        );
        let mut forged = n.clone();
        forged.replace_range(0..12, &format!("{:012x}", 1_000_400u64));
        assert_eq!(
            check_nonce(&k, "r", &forged, 1_000_500, life),
            NonceState::Invalid
        );
        assert_eq!(check_nonce(&k, "r", "zz", 0, life), NonceState::Invalid);
        assert_eq!(check_nonce(&k, "r", &n, 0, life), NonceState::Invalid);
    }

    #[test]
    fn arp_table() {
        let t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.168.1.20     0x1         0x2         00:15:65:aa:bb:cc     *        eth0\n\
                 192.168.1.21     0x1         0x0         00:00:00:00:00:00     *        eth0\n\
                 garbage\n\
                 192.168.1.22     0x1         0x6         00:04:13:11:22:33     *        eth0\n";
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(
            arp_lookup(t, ip("192.168.1.20")),
            Some(Mac::parse("001565aabbcc").unwrap())
        );
        assert_eq!(arp_lookup(t, ip("192.168.1.21")), None);
        assert_eq!(
            arp_lookup(t, ip("192.168.1.22")),
            Some(Mac::parse("000413112233").unwrap())
        );
        assert_eq!(arp_lookup(t, ip("10.0.0.1")), None);
        assert_eq!(arp_lookup("", ip("10.0.0.1")), None);
    }

    #[test]
    fn dialled_numbers() {
        assert_eq!(
            dialled("sip:*123*200@10.0.0.1").as_deref(),
            Some("*123*200")
        );
        assert_eq!(
            dialled("sip:%2A123%2a200@10.0.0.1:5060;user=phone").as_deref(),
            Some("*123*200")
        );
        assert_eq!(dialled("sip:%2@x"), None);
        assert_eq!(dialled("tel:123"), None);
        // The code's own rules are the engine's (StarCode::parse); here the URI part.
        let ext = |uri: &str| dialled_code(uri, "*123*").map(|c| c.extension);
        assert_eq!(ext("sip:%2A123%2A200@10.0.0.1").as_deref(), Some("200"));
        assert_eq!(ext("sip:*123*200*4711@10.0.0.1").as_deref(), Some("200"));
        assert_eq!(ext("sip:*123*@10.0.0.1"), None);
        assert_eq!(ext("sip:555@10.0.0.1"), None);
        assert_eq!(dialled_code("sip:555@10.0.0.1", ""), None);
    }

    #[test]
    fn hostile_inputs_never_panic() {
        let samples = [
            r#"Digest username="001565aabbcc", realm="r", nonce="0123", uri="sip:x", response="ab", qop=auth, nc=00000001, cnonce="c\"d""#,
            "IP address HW type Flags HW address Mask Device\n127.0.0.1 0x1 0x2 00:15:65:aa:bb:cc * lo\n",
            "sip:%2A123%2A200@127.0.0.1:5060;user=phone",
            "v=0\r\nm=audio 4000 RTP/AVP 8 0 101\r\n",
        ];
        let k = [1u8; 32];
        let life = Duration::from_secs(300);
        for raw in samples {
            let b = raw.as_bytes();
            for i in 0..b.len() {
                for m in [b.get(..i).unwrap_or_default().to_vec(), {
                    let mut m = b.to_vec();
                    m[i] = m[i].wrapping_add(0x80);
                    m
                }] {
                    let s = String::from_utf8_lossy(&m);
                    let _ = digest_params(&s);
                    let _ = arp_lookup(&s, Ipv4Addr::LOCALHOST);
                    let _ = dialled(&s).map(|d| engine::StarCode::parse(&d, "*123*"));
                    let _ = check_nonce(&k, "r", &s, u64::MAX, life);
                    let _ = sdp_answer(&m, IpAddr::V4(Ipv4Addr::LOCALHOST), 1);
                    let _ = contact_target(Some(&s), "127.0.0.1:5060".parse().unwrap());
                    let _ = percent_decode(&s);
                }
            }
        }
    }

    #[test]
    fn sdp_answer_is_inactive_with_the_offered_codec() {
        let offer = b"v=0\r\nm=audio 4000 RTP/AVP 8 0 101\r\n";
        let a = sdp_answer(offer, "10.0.0.1".parse().unwrap(), 1);
        assert!(a.contains("c=IN IP4 10.0.0.1\r\n"));
        assert!(a.contains("m=audio 9 RTP/AVP 8\r\n"));
        assert!(a.contains("a=inactive"));
        assert!(sdp_answer(b"", "::1".parse().unwrap(), 1).contains("m=audio 9 RTP/AVP 0"));
    }
}
