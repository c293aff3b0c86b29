//! The one receive loop both SIP servers ([`super::pnp`], [`super::registrar`]) run: the
//! socket, the server transaction table and the rules every request meets before a server
//! sees it. A server says only what is its own (what a new request gets, what a response or
//! a decision made off the loop changes, what its timers send) through [`SipServer`].
//!
//! What happens to each datagram, for every server:
//! - empty (keep-alive CRLFs, RFC 5626 §3.5.1): nothing;
//! - malformed: the `400` when it can be addressed (see [`codec::bad_request`]), else dropped;
//! - a response: [`SipServer::on_response`];
//! - `ACK`: [`SipServer::on_ack`], never a transaction of its own (RFC 3261 §17.2.1);
//! - a retransmitted request: the stored answer again, nothing else (§17.2.1, §17.2.2);
//! - a new request, with room for its transaction: [`SipServer::on_request`]; an answer it
//!   returns goes to the Via address (§18.2.2, see [`response_dest`]) and is stored for the
//!   retransmissions. With the table full of transactions still being decided the request is
//!   dropped unanswered (the phone retransmits later).
//!
//! A server may take requests from a socket of their own ([`Endpoint::with_listener`]: PnP's
//! socket bound to its multicast group); its main socket then takes only responses, and a
//! request (or a malformed datagram) arriving there is dropped.
//!
//! The loop reads the clock and passes `now` in; it also waits for the decisions the server
//! has sent off the loop and for the server's next timer ([`SipServer::wake`]).

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::codec::{self, Message, ParseError, StartLine};
use super::transaction::{response_dest, Key, TransactionTable};
use super::{local_for, sip_log, IdRng};

/// A SIP server's socket and server transactions.
#[derive(Debug)]
pub(crate) struct Endpoint<P> {
    socket: UdpSocket,
    /// Where requests come from, when not `socket`.
    listener: Option<UdpSocket>,
    /// Branches, tags and Call-IDs.
    pub(crate) rng: IdRng,
    /// The server transactions; `P` is what a transaction being decided holds.
    pub(crate) txns: TransactionTable<P>,
    /// Log every packet at `info` rather than `debug`.
    pub(crate) debug: crate::switches::Verbose,
    /// The server's name in the log (`PnP`, `registrar`).
    name: &'static str,
}

impl<P> Endpoint<P> {
    /// The server `name` on `socket` with its transaction table.
    pub(crate) fn new(
        name: &'static str,
        socket: UdpSocket,
        txns: TransactionTable<P>,
        debug: crate::switches::Verbose,
    ) -> Self {
        Self {
            socket,
            listener: None,
            rng: IdRng::new(),
            txns,
            debug,
            name,
        }
    }

    /// Takes requests only from `listener` from now on (answers still go out from the main
    /// socket, which keeps taking responses).
    pub(crate) fn with_listener(mut self, listener: UdpSocket) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Sends `bytes` to `dest`; a failure is logged (a datagram lost, like any other).
    pub(crate) async fn send(&self, bytes: &[u8], dest: SocketAddr) {
        if let Err(e) = self.socket.send_to(bytes, dest).await {
            tracing::warn!(error = %e, %dest, "{} send failed", self.name);
        }
    }

    /// Our address for Via and Contact in messages to `peer` (see [`local_for`]).
    pub(crate) fn local(&self, advertise: Option<SocketAddr>, peer: SocketAddr) -> SocketAddr {
        local_for(advertise, self.socket.local_addr().ok(), peer)
    }
}

/// A new request: not an `ACK`, not a retransmission, with room for its transaction.
#[derive(Debug)]
pub(crate) struct NewRequest {
    /// The request.
    pub(crate) msg: Message,
    /// Its method.
    pub(crate) method: String,
    /// Its transaction.
    pub(crate) key: Key,
    /// The datagram's source.
    pub(crate) peer: SocketAddr,
    /// Where its responses go.
    pub(crate) dest: SocketAddr,
    /// Our To tag for its responses.
    pub(crate) tag: String,
    /// When it arrived.
    pub(crate) now: Instant,
}

/// What one SIP server decides; [`serve`] does the rest.
pub(crate) trait SipServer {
    /// What a transaction being decided off the loop holds.
    type Pending;
    /// What the work sent off the loop reports back.
    type Decision: Send;

    /// The server's socket and transactions.
    fn endpoint(&self) -> &Endpoint<Self::Pending>;
    /// The same, to change.
    fn endpoint_mut(&mut self) -> &mut Endpoint<Self::Pending>;
    /// When [`Self::on_timer`] is next due; `None`: nothing to wait for.
    fn wake(&self) -> Option<Instant>;
    /// Drops what expired by `now` (the transactions at least); called before each request.
    fn purge(&mut self, now: Instant) {
        self.endpoint_mut().txns.purge(now);
    }
    /// An `ACK` (of transaction `key`'s INVITE) arrived `now`.
    fn on_ack(&mut self, _key: &Key, _now: Instant) {}
    /// Answers a new request: `Some` is sent and stored as the transaction's final answer;
    /// `None` when the server answers later (it has begun the transaction) or not at all.
    fn on_request(&mut self, req: NewRequest) -> impl Future<Output = Option<Vec<u8>>> + Send;
    /// A response with status `code` from `peer` arrived `now`.
    fn on_response(&mut self, msg: &Message, code: u16, peer: SocketAddr, now: Instant);
    /// A decision made off the loop arrived `now`.
    fn on_decision(
        &mut self,
        decision: Self::Decision,
        now: Instant,
    ) -> impl Future<Output = ()> + Send;
    /// The time given by [`Self::wake`] has come (`now`).
    fn on_timer(&mut self, now: Instant) -> impl Future<Output = ()> + Send;
}

/// Runs `server` until `shutdown` completes: every datagram, every decision from
/// `decisions`, every timer. Errors on single datagrams are logged and never end the loop.
pub(crate) async fn serve<S: SipServer>(
    mut server: S,
    mut decisions: mpsc::Receiver<S::Decision>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // One byte more than the codec accepts, so an oversize datagram is seen as such.
    let mut buf = vec![0u8; codec::MAX_MESSAGE + 1];
    let mut requests = vec![0u8; codec::MAX_MESSAGE + 1];
    loop {
        let wake = server.wake();
        tokio::select! {
            () = &mut shutdown => break,
            r = server.endpoint().socket.recv_from(&mut buf) => match r {
                Ok((n, peer)) => {
                    let data = buf.get(..n).unwrap_or_default();
                    let requests_here = server.endpoint().listener.is_none();
                    on_datagram(&mut server, data, peer, requests_here).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "{} socket receive failed", server.endpoint().name);
                }
            },
            r = recv_opt(server.endpoint().listener.as_ref(), &mut requests) => match r {
                Ok((n, peer)) => {
                    let data = requests.get(..n).unwrap_or_default();
                    on_datagram(&mut server, data, peer, true).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "{} listener receive failed", server.endpoint().name);
                }
            },
            Some(d) = decisions.recv() => server.on_decision(d, Instant::now()).await,
            () = sleep_until_opt(wake) => server.on_timer(Instant::now()).await,
        }
    }
}

/// A datagram from `socket`, or never when there is none.
async fn recv_opt(
    socket: Option<&UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Handles one datagram from `peer`; `requests` says whether requests are taken from the
/// socket it came in on.
async fn on_datagram<S: SipServer>(server: &mut S, data: &[u8], peer: SocketAddr, requests: bool) {
    let ep = server.endpoint_mut();
    let parsed = codec::parse(data);
    if !requests && !matches!(&parsed, Ok(m) if matches!(m.start(), StartLine::Response { .. })) {
        sip_log!(ep.debug, %peer, len = data.len(), "{}: not a response on the answer socket; dropped", ep.name);
        return;
    }
    match parsed {
        Err(ParseError::Empty) => {}
        Err(error) => {
            let answer = codec::bad_request(data, &error, &ep.rng.ids().tag);
            sip_log!(ep.debug, %peer, len = data.len(), %error, answered = answer.is_some(), "{}: malformed packet", ep.name);
            if let Some(bytes) = answer {
                ep.send(&bytes, peer).await;
            }
        }
        Ok(msg) => match msg.start() {
            StartLine::Response { code, .. } => {
                let code = *code;
                server.on_response(&msg, code, peer, Instant::now());
            }
            StartLine::Request { method, .. } => {
                let method = method.clone();
                on_request(server, msg, method, peer).await;
            }
        },
    }
}

async fn on_request<S: SipServer>(server: &mut S, msg: Message, method: String, peer: SocketAddr) {
    let now = Instant::now();
    server.purge(now);
    let Some(key) = Key::of(&msg) else {
        return;
    };
    let dest = response_dest(&msg, peer);
    if method == "ACK" {
        server.on_ack(&key, now);
        return;
    }
    let ep = server.endpoint_mut();
    if let Some(again) = ep.txns.retransmission(&key) {
        sip_log!(ep.debug, %peer, method, call_id = %key.call_id, "{}: retransmission", ep.name);
        if let Some(bytes) = again.resend {
            ep.send(bytes, dest).await;
        }
        return;
    }
    if !ep.txns.make_room(now) {
        tracing::warn!(%peer, "{}: too many transactions being decided at once; request dropped", ep.name);
        return;
    }
    let tag = ep.rng.ids().tag;
    let req = NewRequest {
        msg,
        method,
        key: key.clone(),
        peer,
        dest,
        tag,
        now,
    };
    if let Some(answer) = server.on_request(req).await {
        let ep = server.endpoint_mut();
        ep.send(&answer, dest).await;
        ep.txns.complete(key, answer, now);
    }
}
