//! Transactions (RFC 3261 §17) as the relay's SIP code needs them, both sides: the server
//! transactions of its two servers, [`super::pnp`] and [`super::registrar`], and the
//! retransmission timers of what it sends until answered (theirs and
//! [`super::notify::send_check_sync`]'s). No I/O and no clock of its own: the caller passes
//! `now`.
//!
//! Server transactions: one table of the requests a server is deciding or has answered, so
//! that a retransmitted request (UDP phones resend every T1 until answered) gets the stored
//! answer again and never causes the work twice (a second handler or binder call, a second
//! NOTIFY). The rules, and where each comes from:
//! - A transaction is identified by Call-ID, CSeq number, method and top Via branch
//!   ([`Key`]; RFC 3261 §17.2.3 matches on the branch, plus the method; Call-ID and CSeq
//!   keep the RFC 2543 phones that send no `z9hG4bK` branch, or no branch at all as Snom's
//!   PnP SUBSCRIBE does, apart). `ACK` never starts one (§17.2.1): the servers handle it.
//! - A new transaction is [`Proceeding`](State::Proceeding) while its answer is being
//!   decided off the receive loop, holding what the decision needs and optionally a
//!   provisional response (`100 Trying`, §17.2.1) to resend; then
//!   [`Completed`](State::Completed) with the final response, resent on each
//!   retransmission (§17.2.1, §17.2.2); or [`Silent`](State::Silent) when the server chose
//!   not to answer at all (PnP's denied phones), and retransmissions are absorbed unanswered.
//! - Every entry has an expiry; the servers call [`TransactionTable::purge`] as they go.
//!   Decided entries live the table's `lifetime` from the decision (the servers use
//!   64·T1, the span of timer J in §17.2.2 and of the phone's own retransmissions).
//! - The table is bounded (memory under floods): at its `capacity` a new
//!   transaction is refused ([`TransactionTable::make_room`] says `false`, the request is
//!   dropped unanswered and the phone retransmits later), after expired entries and then
//!   decided entries have made room. A transaction still
//!   being decided is never evicted, so its decision always finds its entry.
//! - Responses go where RFC 3261 §18.2.2 with RFC 3581 says ([`response_dest`]).
//!
//! Retransmissions ([`Retransmit`]): a non-INVITE request over UDP is resent after T1, then
//! at doubling intervals up to T2, until answered or until the timeout (timers E and F,
//! §17.1.2.2); a provisional answer slows it to every T2. A `200 OK` to an INVITE waiting
//! for its ACK is resent on the same schedule (timers G and H, §13.3.1.4 and §17.2.1). A
//! request we send and match answers to is a [`ClientTransaction`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use super::codec::Message;
use super::Timers;

/// Identifies a server transaction: Call-ID, CSeq number, request method and top Via
/// branch (empty when the request's Via has none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    /// The `Call-ID`.
    pub(crate) call_id: String,
    /// The `CSeq` number.
    pub(crate) cseq: u32,
    /// The Request-Line's method (`CANCEL` and `ACK` are transactions of their own here).
    pub(crate) method: String,
    /// The top Via's `branch`, or empty.
    pub(crate) branch: String,
}

impl Key {
    /// The transaction request `msg` belongs to; `None` for a response, or a request without
    /// a `Call-ID` or `CSeq` (the codec refuses those, so only for hand-built messages).
    pub(crate) fn of(msg: &Message) -> Option<Self> {
        let (call_id, (cseq, _)) = msg.call_id().zip(msg.cseq())?;
        Some(Self {
            call_id: call_id.to_owned(),
            cseq,
            method: msg.method()?.to_owned(),
            branch: msg.top_branch().unwrap_or_default().to_owned(),
        })
    }

    /// The same Call-ID, CSeq number and branch with another method: the `INVITE` a
    /// `CANCEL` is for (RFC 3261 §9.2: a CANCEL repeats the INVITE's branch and CSeq number).
    pub(crate) fn with_method(&self, method: &str) -> Self {
        Self {
            method: method.to_owned(),
            ..self.clone()
        }
    }
}

/// Where a transaction stands.
#[derive(Debug)]
pub(crate) enum State<P> {
    /// The answer is being decided; `pending` holds what the decision needs. Retransmissions
    /// get `provisional` again, or nothing.
    Proceeding {
        /// What the server needs once the decision arrives (the request, its destination...).
        pending: P,
        /// A provisional response already sent (`100 Trying`), resent on retransmissions.
        provisional: Option<Vec<u8>>,
    },
    /// Answered with these bytes, resent on each retransmission.
    Completed(Vec<u8>),
    /// Decided, with no answer: retransmissions are absorbed in silence.
    Silent,
}

impl<P> State<P> {
    /// What a retransmission of the request gets: the last response sent, if any.
    fn last_response(&self) -> Option<&[u8]> {
        match self {
            Self::Proceeding { provisional, .. } => provisional.as_deref(),
            Self::Completed(bytes) => Some(bytes),
            Self::Silent => None,
        }
    }
}

#[derive(Debug)]
struct Entry<P> {
    state: State<P>,
    expires: Instant,
}

/// A bounded table of server transactions; see the module docs.
#[derive(Debug)]
pub(crate) struct TransactionTable<P> {
    entries: HashMap<Key, Entry<P>>,
    capacity: usize,
    lifetime: Duration,
}

/// A request seen before: what to resend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retransmission<'a> {
    /// The stored response to send again; `None` while it is being decided without a
    /// provisional response, or when the server decided on silence.
    pub(crate) resend: Option<&'a [u8]>,
}

impl<P> TransactionTable<P> {
    /// An empty table holding at most `capacity` transactions, each kept `lifetime` after
    /// its decision.
    pub(crate) fn new(capacity: usize, lifetime: Duration) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
            lifetime,
        }
    }

    /// How many transactions are held (expired ones included until [`Self::purge`]).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops the entries that expired by `now`, whatever their state.
    pub(crate) fn purge(&mut self, now: Instant) {
        self.entries.retain(|_, e| e.expires > now);
    }

    /// A retransmission of transaction `key`, if the table holds it: the caller resends
    /// `resend` (if any) and does nothing else.
    pub(crate) fn retransmission(&self, key: &Key) -> Option<Retransmission<'_>> {
        self.entries.get(key).map(|e| Retransmission {
            resend: e.state.last_response(),
        })
    }

    /// Makes room for one new transaction if the table is full: expired entries go, then
    /// decided ones (each only serves retransmissions; losing one costs at most a second
    /// decision for a phone that asks again, while refusing would let a flood — or a boot
    /// storm of thousands of phones — stall the server for a whole lifetime). `false`:
    /// still full, every entry is still being decided; refuse the request.
    pub(crate) fn make_room(&mut self, now: Instant) -> bool {
        if self.entries.len() >= self.capacity {
            self.purge(now);
        }
        if self.entries.len() >= self.capacity {
            self.entries
                .retain(|_, e| matches!(e.state, State::Proceeding { .. }));
        }
        self.entries.len() < self.capacity
    }

    /// Records a new transaction whose answer is being decided, with what the decision needs
    /// and the provisional response sent, if any. It expires `decision_limit` plus the
    /// lifetime after `now` unless decided first. Call [`Self::make_room`] first.
    pub(crate) fn begin(
        &mut self,
        key: Key,
        pending: P,
        provisional: Option<Vec<u8>>,
        now: Instant,
        decision_limit: Duration,
    ) {
        let expires = now + decision_limit + self.lifetime;
        let state = State::Proceeding {
            pending,
            provisional,
        };
        self.entries.insert(key, Entry { state, expires });
    }

    /// What a transaction still being decided holds, to change it (a CANCEL marks its
    /// INVITE); `None` if it is unknown or decided.
    pub(crate) fn pending_mut(&mut self, key: &Key) -> Option<&mut P> {
        match self.entries.get_mut(key).map(|e| &mut e.state) {
            Some(State::Proceeding { pending, .. }) => Some(pending),
            _ => None,
        }
    }

    /// The decision for `key` has arrived: hands back what [`Self::begin`] stored and leaves
    /// the transaction [`State::Silent`], expiring a lifetime after `now`; follow with
    /// [`Self::complete`] to answer. `None` (nothing to do) if it is unknown or decided.
    pub(crate) fn decide(&mut self, key: &Key, now: Instant) -> Option<P> {
        let lifetime = self.lifetime;
        let entry = self.entries.get_mut(key)?;
        if !matches!(entry.state, State::Proceeding { .. }) {
            return None;
        }
        entry.expires = now + lifetime;
        match std::mem::replace(&mut entry.state, State::Silent) {
            State::Proceeding { pending, .. } => Some(pending),
            State::Completed(_) | State::Silent => None,
        }
    }

    /// Records `response` as the final answer of `key` (sent by the caller), resent on each
    /// retransmission for a lifetime after `now`. A new transaction answered at once: call
    /// [`Self::make_room`] first.
    pub(crate) fn complete(&mut self, key: Key, response: Vec<u8>, now: Instant) {
        let entry = Entry {
            state: State::Completed(response),
            expires: now + self.lifetime,
        };
        self.entries.insert(key, entry);
    }
}

/// Where a response to `msg` goes (RFC 3261 §18.2.2 with RFC 3581): the source address
/// `peer` when the top Via has `rport`, else the source IP with the Via's port (default
/// 5060).
pub(crate) fn response_dest(msg: &Message, peer: SocketAddr) -> SocketAddr {
    let Some(via) = msg.header("Via") else {
        return peer;
    };
    let first = via.split(',').next().unwrap_or_default();
    let mut parts = first.split(';');
    let sent_by = parts.next().unwrap_or_default();
    if parts.any(|p| p.trim().eq_ignore_ascii_case("rport") || p.trim().starts_with("rport=")) {
        return peer;
    }
    let host_port = sent_by.split_whitespace().nth(1).unwrap_or_default();
    let port = host_port
        .rsplit_once(':')
        .filter(|(h, _)| !h.ends_with(']') || h.starts_with('['))
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .filter(|p| *p != 0)
        .unwrap_or(5060);
    SocketAddr::new(peer.ip(), port)
}

/// What a [`Retransmit`] timer says at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Due {
    /// Nothing yet; wake again at [`Retransmit::wake`].
    Wait,
    /// Send the message again now.
    Resend,
    /// The timeout passed unanswered: give up.
    GiveUp,
}

/// The retransmission schedule of one message (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retransmit {
    timers: Timers,
    next: Instant,
    interval: Duration,
    deadline: Instant,
}

impl Retransmit {
    /// The schedule of a message first sent `now`.
    pub(crate) fn start(now: Instant, timers: Timers) -> Self {
        Self {
            timers,
            next: now + timers.t1,
            interval: timers.t1,
            deadline: now + timers.timeout,
        }
    }

    /// When [`Self::poll`] has something to say next.
    pub(crate) fn wake(&self) -> Instant {
        self.next.min(self.deadline)
    }

    /// What to do `now`; a [`Due::Resend`] also schedules the next one.
    pub(crate) fn poll(&mut self, now: Instant) -> Due {
        if now >= self.deadline {
            Due::GiveUp
        } else if now >= self.next {
            self.interval = self.timers.next_interval(self.interval);
            self.next = now + self.interval;
            Due::Resend
        } else {
            Due::Wait
        }
    }

    /// A provisional answer arrived `now`: from then on, resend every T2 (§17.1.2.2).
    pub(crate) fn provisional(&mut self, now: Instant) {
        self.interval = self.timers.t2;
        self.next = now + self.interval;
    }
}

/// A request we sent, resent until answered: what to send where, and what identifies its
/// answers.
#[derive(Debug)]
pub(crate) struct ClientTransaction {
    /// The request.
    pub(crate) bytes: Vec<u8>,
    /// Where it goes.
    pub(crate) dest: SocketAddr,
    /// Its Call-ID.
    pub(crate) call_id: String,
    /// Its Via branch.
    branch: String,
    /// Its method (the CSeq method of its answers).
    method: &'static str,
    /// Its retransmissions.
    pub(crate) timer: Retransmit,
}

impl ClientTransaction {
    /// A `method` request with `call_id` and Via `branch`, first sent to `dest` `now`.
    pub(crate) fn new(
        bytes: Vec<u8>,
        dest: SocketAddr,
        (method, call_id, branch): (&'static str, String, String),
        now: Instant,
        timers: Timers,
    ) -> Self {
        Self {
            bytes,
            dest,
            call_id,
            branch,
            method,
            timer: Retransmit::start(now, timers),
        }
    }

    /// Whether the response `msg` answers this request (its Call-ID, top Via branch and
    /// CSeq method, §17.1.3).
    pub(crate) fn answered_by(&self, msg: &Message) -> bool {
        msg.cseq().is_some_and(|(_, m)| m == self.method)
            && msg.call_id() == Some(self.call_id.as_str())
            && msg.top_branch() == Some(self.branch.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> Key {
        Key {
            call_id: format!("c{n}@test"),
            cseq: 1,
            method: "SUBSCRIBE".to_owned(),
            branch: format!("z9hG4bK{n}"),
        }
    }

    const LIFE: Duration = Duration::from_secs(32);

    #[test]
    fn key_of_a_request_and_its_cancel() {
        let raw = "INVITE sip:*123*200@r SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKx\r\n\
                   From: <sip:a@r>;tag=1\r\nTo: <sip:b@r>\r\nCall-ID: k1\r\nCSeq: 7 INVITE\r\n\r\n";
        let msg = crate::sip::codec::parse(raw.as_bytes()).unwrap();
        let k = Key::of(&msg).unwrap();
        assert_eq!(
            k,
            Key {
                call_id: "k1".into(),
                cseq: 7,
                method: "INVITE".into(),
                branch: "z9hG4bKx".into()
            }
        );
        let cancel = raw
            .replace("INVITE sip", "CANCEL sip")
            .replace("7 INVITE", "7 CANCEL");
        let c = Key::of(&crate::sip::codec::parse(cancel.as_bytes()).unwrap()).unwrap();
        assert_ne!(c, k);
        assert_eq!(c.with_method("INVITE"), k);
        // No branch (Snom's PnP SUBSCRIBE): an empty one.
        let bare = raw.replace(";branch=z9hG4bKx", "");
        let b = Key::of(&crate::sip::codec::parse(bare.as_bytes()).unwrap()).unwrap();
        assert_eq!(b.branch, "");
        // A response has no transaction of ours.
        let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKx\r\n\
                    From: <sip:a@r>;tag=1\r\nTo: <sip:b@r>\r\nCall-ID: k1\r\nCSeq: 7 INVITE\r\n\r\n";
        assert!(Key::of(&crate::sip::codec::parse(resp.as_bytes()).unwrap()).is_none());
    }

    #[test]
    fn retransmissions_are_answered_from_the_table() {
        let now = Instant::now();
        let mut t = TransactionTable::<&str>::new(8, LIFE);
        assert_eq!(t.retransmission(&key(1)), None, "a new request");
        // Answered at once: the same bytes on every retransmission.
        t.complete(key(1), b"SIP/2.0 200 OK".to_vec(), now);
        for _ in 0..3 {
            assert_eq!(
                t.retransmission(&key(1)).unwrap().resend,
                Some(&b"SIP/2.0 200 OK"[..])
            );
        }
        // Being decided without a provisional: absorbed in silence.
        t.begin(key(2), "sub-2", None, now, Duration::from_secs(3));
        assert_eq!(t.retransmission(&key(2)).unwrap().resend, None);
        // With a 100 Trying: that, until the decision.
        t.begin(key(3), "inv-3", Some(b"100".to_vec()), now, Duration::ZERO);
        assert_eq!(t.retransmission(&key(3)).unwrap().resend, Some(&b"100"[..]));
        *t.pending_mut(&key(3)).unwrap() = "inv-3 cancelled";
        // The decision hands the pending data back once; the final answer replaces the 100.
        assert_eq!(t.decide(&key(3), now), Some("inv-3 cancelled"));
        assert_eq!(t.decide(&key(3), now), None, "decided once only");
        assert_eq!(t.pending_mut(&key(3)), None);
        assert_eq!(t.retransmission(&key(3)).unwrap().resend, None);
        t.complete(key(3), b"487".to_vec(), now);
        assert_eq!(t.retransmission(&key(3)).unwrap().resend, Some(&b"487"[..]));
        // A "no answer" decision: silence from then on.
        assert_eq!(t.decide(&key(2), now), Some("sub-2"));
        assert_eq!(t.retransmission(&key(2)).unwrap().resend, None);
        // Other CSeq, method or branch: another transaction.
        let mut other = key(1);
        other.cseq = 2;
        assert_eq!(t.retransmission(&other), None);
        assert_eq!(t.retransmission(&key(1).with_method("NOTIFY")), None);
        assert_eq!(t.decide(&key(9), now), None, "an unknown decision");
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn a_full_table_evicts_decided_transactions_first() {
        let now = Instant::now();
        let mut t = TransactionTable::new(4, LIFE);
        t.begin(key(1), 1, None, now, Duration::from_secs(3));
        t.begin(key(2), 2, None, now, Duration::from_secs(3));
        t.complete(key(3), b"200".to_vec(), now);
        t.begin(key(4), 4, None, now, Duration::from_secs(3));
        assert_eq!(t.decide(&key(4), now), Some(4));
        assert_eq!(t.len(), 4);
        // Full: the decided ones (3 answered, 4 silent) go; the undecided stay.
        assert!(t.make_room(now));
        assert_eq!(t.len(), 2);
        assert!(t.retransmission(&key(3)).is_none());
        assert!(t.retransmission(&key(4)).is_none());
        assert!(t.retransmission(&key(1)).is_some());
        assert!(t.retransmission(&key(2)).is_some());
        // Not full: nothing is evicted.
        t.complete(key(5), b"200".to_vec(), now);
        assert!(t.make_room(now));
        assert!(t.retransmission(&key(5)).is_some());
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn a_table_full_of_undecided_transactions_refuses() {
        let now = Instant::now();
        let mut t = TransactionTable::new(3, LIFE);
        for n in 1..=3 {
            assert!(t.make_room(now));
            t.begin(key(n), n, None, now, Duration::from_secs(3));
        }
        assert!(!t.make_room(now), "every entry still being decided");
        assert_eq!(t.len(), 3);
        for n in 1..=3 {
            assert_eq!(
                t.decide(&key(n), now),
                Some(n),
                "no decision lost its entry"
            );
        }
        assert!(t.make_room(now));
    }

    #[test]
    fn entries_expire_a_lifetime_after_their_decision() {
        let now = Instant::now();
        let limit = Duration::from_secs(3);
        let mut t = TransactionTable::new(8, LIFE);
        t.complete(key(1), b"200".to_vec(), now);
        t.begin(key(2), 2, None, now, limit);
        t.begin(key(3), 3, None, now, limit);
        // Answered entries live exactly the lifetime.
        t.purge(now + LIFE - Duration::from_millis(1));
        assert!(t.retransmission(&key(1)).is_some());
        t.purge(now + LIFE);
        assert!(t.retransmission(&key(1)).is_none());
        // Undecided ones get the decision limit on top; a decision restarts the clock.
        let later = now + Duration::from_secs(4);
        assert_eq!(t.decide(&key(2), later), Some(2));
        t.purge(now + LIFE + limit - Duration::from_millis(1));
        assert!(t.retransmission(&key(3)).is_some());
        t.purge(now + LIFE + limit);
        assert!(t.retransmission(&key(3)).is_none(), "never decided: gone");
        assert!(t.retransmission(&key(2)).is_some());
        t.purge(later + LIFE);
        assert_eq!(t.len(), 0);
        // A decision for an expired transaction finds nothing.
        assert_eq!(t.decide(&key(3), later + LIFE), None);
    }

    #[test]
    fn retransmissions_double_up_to_t2_and_give_up_at_the_timeout() {
        let t0 = Instant::now();
        let mut r = Retransmit::start(t0, Timers::RFC3261);
        // Driven on a virtual clock: each poll at the moment it asked to be woken.
        let mut resends = Vec::new();
        let gave_up = loop {
            let now = r.wake();
            match r.poll(now) {
                Due::Resend => resends.push((now - t0).as_millis()),
                Due::GiveUp => break (now - t0).as_millis(),
                Due::Wait => panic!("woken for nothing"),
            }
        };
        assert_eq!(
            resends,
            [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
        );
        assert_eq!(gave_up, 32_000);
        let mut r = Retransmit::start(t0, Timers::RFC3261);
        assert_eq!(r.poll(t0 + Duration::from_millis(499)), Due::Wait);
    }

    #[test]
    fn a_provisional_answer_slows_retransmissions_to_t2() {
        let t0 = Instant::now();
        let timers = Timers::scaled(Duration::from_millis(10));
        let mut r = Retransmit::start(t0, timers);
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(r.poll(at(10)), Due::Resend);
        r.provisional(at(15));
        assert_eq!(r.wake(), at(95));
        assert_eq!(r.poll(at(94)), Due::Wait);
        assert_eq!(r.poll(at(95)), Due::Resend);
        assert_eq!(r.wake(), at(175));
        assert_eq!(r.poll(at(640)), Due::GiveUp);
    }

    #[test]
    fn client_transactions_match_their_answers() {
        let now = Instant::now();
        let t = ClientTransaction::new(
            b"NOTIFY".to_vec(),
            "10.0.0.5:5060".parse().unwrap(),
            ("NOTIFY", "c1".to_owned(), "z9hG4bKn".to_owned()),
            now,
            Timers::RFC3261,
        );
        let answer = |call_id: &str, branch: &str, cseq: &str| {
            let raw = format!(
                "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch={branch}\r\n\
                 From: <sip:a>;tag=1\r\nTo: <sip:b>;tag=2\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n\r\n"
            );
            crate::sip::codec::parse(raw.as_bytes()).unwrap()
        };
        assert!(t.answered_by(&answer("c1", "z9hG4bKn", "1 NOTIFY")));
        assert!(!t.answered_by(&answer("c2", "z9hG4bKn", "1 NOTIFY")));
        assert!(!t.answered_by(&answer("c1", "z9hG4bKx", "1 NOTIFY")));
        assert!(!t.answered_by(&answer("c1", "z9hG4bKn", "1 BYE")));
        assert_eq!(t.timer.wake(), now + Duration::from_millis(500));
    }
}
