//! SIP for plug-and-play, re-provisioning and star-code binding: the codec, the multicast PnP
//! server, the check-sync NOTIFY sender and the star-code registrar.
//!
//! - [`codec`]: SIP messages as bytes in, bytes out (RFC 3261), with the URI, SDP and
//!   request builders the servers use; no I/O.
//! - [`digest`]: digest authentication and the registrar's stateless nonces, on a clock
//!   passed in; no I/O.
//! - [`pnp`]: answers the `SUBSCRIBE Event: ua-profile` phones multicast to `224.0.1.75:5060`
//!   at boot (RFC 6080) with `200 OK` and a `NOTIFY` carrying the provisioning URL.
//! - [`notify`]: sends `NOTIFY Event: check-sync` to one phone (re-provision, or reboot) and
//!   reports what it answered.
//! - [`registrar`]: the star-code registrar (digest REGISTER/INVITE, binding, BYE, reboot).
//! - `endpoint` (internal): the one receive loop both servers run (parse, `400`, `ACK`,
//!   retransmitted requests, new transactions, decisions, timers).
//! - `transaction` (internal): the server transaction table both servers answer
//!   retransmitted requests from (RFC 3261 §17.2), where responses go (§18.2.2), and the
//!   retransmission timers of what the relay sends (§17.1.2.2); no I/O, no clock.
//!
//! Everything the relay sends until answered (the PnP NOTIFY, the check-sync NOTIFY, the
//! registrar's `200 OK` to an INVITE and its BYE) is retransmitted on one schedule, that of
//! a non-INVITE client transaction over UDP (RFC 3261 §17.1.2.2, timers E and F): first
//! after T1, doubling up to T2, giving up after 64·T1; [`Timers`] holds the three values so
//! tests can shrink them.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

pub mod codec;
pub mod digest;
mod endpoint;
pub mod notify;
pub mod pnp;
pub mod registrar;
mod transaction;

/// Logs a server's packet or decision at `info` when its `debug` switch (a
/// [`crate::switches::Verbose`] or a `bool`) is on, else at `debug` (the target is the
/// calling module, as for any `tracing` call).
macro_rules! sip_log {
    ($debug:expr, $($arg:tt)+) => {
        if $crate::switches::LogSwitch::on(&$debug) {
            tracing::info!($($arg)+);
        } else {
            tracing::debug!($($arg)+);
        }
    };
}
pub(crate) use sip_log;

/// Retransmission timers of a non-INVITE client transaction (RFC 3261 §17.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// T1, the first retransmission interval (RFC 3261: 500 ms).
    pub t1: Duration,
    /// T2, the largest interval (RFC 3261: 4 s).
    pub t2: Duration,
    /// Timer F: give up after this long (RFC 3261: 64·T1 = 32 s).
    pub timeout: Duration,
}

impl Timers {
    /// The values of RFC 3261: T1 = 500 ms, T2 = 4 s, timeout 32 s.
    pub const RFC3261: Self = Self {
        t1: Duration::from_millis(500),
        t2: Duration::from_secs(4),
        timeout: Duration::from_secs(32),
    };

    /// The RFC's proportions around another T1: T2 = 8·T1, timeout = 64·T1.
    pub fn scaled(t1: Duration) -> Self {
        Self {
            t1,
            t2: t1.saturating_mul(8),
            timeout: t1.saturating_mul(64),
        }
    }

    /// The interval after `current`: doubled, at most T2.
    pub(crate) fn next_interval(&self, current: Duration) -> Duration {
        current.saturating_mul(2).min(self.t2)
    }
}

impl Default for Timers {
    fn default() -> Self {
        Self::RFC3261
    }
}

/// Random bytes for branches, tags and Call-IDs, without a dependency: SipHash keyed by
/// std's per-process random keys (drawn from the OS) over a counter. Unpredictable to a
/// peer and unique per process, which is what RFC 3261 asks of tags and branches; not meant
/// for secrets.
#[derive(Debug)]
pub(crate) struct IdRng {
    keys: RandomState,
    counter: u64,
}

impl IdRng {
    pub(crate) fn new() -> Self {
        Self {
            keys: RandomState::new(),
            counter: 0,
        }
    }

    pub(crate) fn bytes24(&mut self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
            self.counter = self.counter.wrapping_add(1);
            let word = self.keys.hash_one((self.counter, i));
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    pub(crate) fn ids(&mut self) -> codec::Ids {
        codec::Ids::from_random(&self.bytes24())
    }
}

/// The address to put in our Via and Contact for messages to `peer`: `advertise` if set, else
/// the socket's own address, else (a socket bound to the unspecified address, as the
/// multicast one is) the source address the kernel's routing picks towards `peer` (a UDP
/// `connect`, which sends nothing), with the socket's port.
pub(crate) fn local_for(
    advertise: Option<SocketAddr>,
    bound: Option<SocketAddr>,
    peer: SocketAddr,
) -> SocketAddr {
    if let Some(a) = advertise {
        return a;
    }
    let port = bound.map_or(5060, |b| b.port());
    if let Some(b) = bound.filter(|b| !b.ip().is_unspecified()) {
        return b;
    }
    let any: IpAddr = match peer {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let ip = std::net::UdpSocket::bind((any, 0))
        .and_then(|s| s.connect(peer).and_then(|()| s.local_addr()))
        .map_or(any, |a| a.ip());
    SocketAddr::new(ip, port)
}
