//! Re-provisioning and reboot by SIP: an out-of-dialog `NOTIFY` with `Event: check-sync`
//! (the vendor's variant, see [`codec::check_sync_event`]) sent to one phone, retransmitted
//! like any non-INVITE request over UDP (RFC 3261 §17.1.2.2, on the schedule every SIP
//! message the relay sends keeps, see `sip/transaction.rs`) until the phone answers or the
//! timeout passes.
//!
//! Phones honour it only when their config allows it (Yealink `sip.notify_reboot_enable`
//! and trusted-server checks, Grandstream `P26015`/`allowSipReset`; for Snom the sources
//! read name no switch, wazo's Snom `base.tpl` sets none, so the phone's default applies);
//! a phone that refuses answers `481`, `489`, `403`
//! or asks for authentication (`401`/`407`), all reported as an [`Outcome`].

use std::fmt;
use std::io;
use std::net::SocketAddr;

use engine::Vendor;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::codec::{self, BuildError, CheckSync};
use super::transaction::{Due, Retransmit};
use super::{local_for, IdRng, Timers};

/// What the phone answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `200` or `202`: it will re-provision (or reboot).
    Accepted(u16),
    /// `481 Subscription Does Not Exist`: it does not take unsolicited NOTIFYs (from us).
    NoSubscription,
    /// `489 Bad Event`: it does not know this event (or check-sync is disabled).
    BadEvent,
    /// `401`/`407`: it wants the NOTIFY authenticated (not supported here).
    AuthRequired(u16),
    /// Any other final status.
    Rejected(u16),
    /// No final answer before the timeout.
    Timeout,
}

/// Why the NOTIFY could not be sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum NotifyError {
    /// The request could not be built (unsupported vendor, bad user).
    Build(BuildError),
    /// The socket failed.
    Io(io::Error),
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Build(e) => write!(f, "cannot build check-sync NOTIFY: {e}"),
            Self::Io(e) => write!(f, "check-sync NOTIFY socket error: {e}"),
        }
    }
}

impl std::error::Error for NotifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Build(e) => Some(e),
            Self::Io(e) => Some(e),
        }
    }
}

impl From<BuildError> for NotifyError {
    fn from(e: BuildError) -> Self {
        Self::Build(e)
    }
}

impl From<io::Error> for NotifyError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Options of [`send_check_sync`].
#[derive(Debug, Clone, Default)]
pub struct CheckSyncOptions {
    /// The phone's SIP user for the Request-URI and To (`None`: `sip:<ip:port>`).
    pub user: Option<String>,
    /// Our address for Via/From/Contact (`None`: the socket's, or the routed source address
    /// when the socket is bound to `0.0.0.0`).
    pub advertise: Option<SocketAddr>,
    /// Retransmission timers.
    pub timers: Timers,
}

/// Sends the check-sync NOTIFY (with the reboot variant when `reboot`) to `phone` and waits
/// for its final response, retransmitting per `opts.timers`.
///
/// `socket` must not be read by anything else meanwhile (give it its own, e.g. bound to
/// `0.0.0.0:0`): every datagram received is examined here, and those that are not the
/// phone's answer (other sources, other Call-IDs or branches, garbage) are ignored.
pub async fn send_check_sync(
    socket: &UdpSocket,
    phone: SocketAddr,
    vendor: Vendor,
    reboot: bool,
    opts: &CheckSyncOptions,
) -> Result<Outcome, NotifyError> {
    let ids = IdRng::new().ids();
    let local = local_for(opts.advertise, socket.local_addr().ok(), phone);
    let bytes = codec::check_sync(&CheckSync {
        vendor,
        reboot,
        phone,
        user: opts.user.as_deref(),
        local,
        ids: &ids,
    })?;
    let mut timer = Retransmit::start(Instant::now(), opts.timers);
    socket.send_to(&bytes, phone).await?;
    tracing::info!(vendor = vendor.as_str(), reboot, "check-sync NOTIFY sent");
    let mut buf = vec![0u8; codec::MAX_MESSAGE + 1];
    loop {
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let (n, from) = r?;
                if from.ip() != phone.ip() {
                    continue;
                }
                let Ok(msg) = codec::parse(buf.get(..n).unwrap_or_default()) else { continue };
                let Some(code) = msg.status() else { continue };
                let ours = msg.call_id().is_some_and(|c| c.split('@').next() == Some(ids.call_id.as_str()))
                    && msg.top_branch() == Some(ids.branch.as_str())
                    && msg.cseq().is_some_and(|(_, m)| m == "NOTIFY");
                if !ours {
                    continue;
                }
                if code < 200 {
                    timer.provisional(Instant::now());
                    continue;
                }
                let outcome = match code {
                    200 | 202 => Outcome::Accepted(code),
                    481 => Outcome::NoSubscription,
                    489 => Outcome::BadEvent,
                    401 | 407 => Outcome::AuthRequired(code),
                    c => Outcome::Rejected(c),
                };
                tracing::info!(vendor = vendor.as_str(), code, "check-sync NOTIFY answered");
                return Ok(outcome);
            }
            () = tokio::time::sleep_until(timer.wake()) => match timer.poll(Instant::now()) {
                Due::GiveUp => {
                    tracing::info!(vendor = vendor.as_str(), "check-sync NOTIFY unanswered");
                    return Ok(Outcome::Timeout);
                }
                Due::Resend => socket.send_to(&bytes, phone).await.map(drop)?,
                Due::Wait => {}
            },
        }
    }
}
