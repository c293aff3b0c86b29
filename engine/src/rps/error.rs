//! How an op fails ([`RpsError`], with the vendor's [`Detail`] scrubbed of secrets) and
//! when the shell tries again ([`RetryPolicy`]).

use std::fmt;

/// What the vendor said about a failure: the HTTP status, its code and message, clipped and
/// scrubbed of every secret the op knew.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detail {
    /// The vendor (`yealink`, `ale`, `grandstream`, `fanvil`, `snom`, `htek`).
    pub vendor: &'static str,
    /// The HTTP status of the reply, if there was one.
    pub status: Option<u16>,
    /// The vendor's error code (`device.mac.existed`, `retCode` 40003, ...), if any.
    pub code: Option<String>,
    /// The vendor's message, if any.
    pub message: Option<String>,
}

impl Detail {
    pub(crate) fn new(vendor: &'static str) -> Self {
        Self {
            vendor,
            ..Self::default()
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.vendor)?;
        if let Some(s) = self.status {
            write!(f, ", HTTP {s}")?;
        }
        if let Some(c) = &self.code {
            write!(f, ", code {c}")?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

/// Why an RPS operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RpsError {
    /// The vendor refused the account's credentials or signature.
    BadCredentials(Detail),
    /// The MAC (or server name) belongs to another customer of the vendor.
    OwnedByAnotherAccount(Detail),
    /// The vendor refused the MAC address.
    InvalidMac(Detail),
    /// The vendor refused the provisioning URL.
    InvalidUrl(Detail),
    /// The thing asked for does not exist (a site, a setting, a device being read).
    NotFound(Detail),
    /// Too many requests; retry after `retry_after` seconds when the vendor said.
    RateLimited {
        /// What the vendor said.
        detail: Detail,
        /// Seconds to wait, from `Retry-After`.
        retry_after: Option<u64>,
    },
    /// The vendor's server failed (HTTP 5xx).
    ServerError(Detail),
    /// A reply this client does not understand, or a refusal it cannot classify.
    UnexpectedReply(Detail),
    /// The vendor refused this phone in a reply that was otherwise understood, for a reason
    /// it gave only as its own code or words, which fit none of the kinds above (GDMS's
    /// per-device `errorMsg` in a batch reply). The vendor has decided about this phone: a
    /// person must read the reason and act, so it is not retried.
    Refused(Detail),
    /// The account or the inputs cannot make this request (nothing was sent).
    InvalidInput(String),
    /// The vendor has no API for this operation.
    Unsupported(String),
}

impl RpsError {
    /// The vendor's detail, for the kinds that have one.
    pub fn detail(&self) -> Option<&Detail> {
        match self {
            Self::BadCredentials(d)
            | Self::OwnedByAnotherAccount(d)
            | Self::InvalidMac(d)
            | Self::InvalidUrl(d)
            | Self::NotFound(d)
            | Self::RateLimited { detail: d, .. }
            | Self::ServerError(d)
            | Self::UnexpectedReply(d)
            | Self::Refused(d) => Some(d),
            Self::InvalidInput(_) | Self::Unsupported(_) => None,
        }
    }

    /// Seconds the vendor asked us to wait, for [`RpsError::RateLimited`].
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl RpsError {
    /// A stable name for the kind, for APIs and storage: `bad_credentials`,
    /// `owned_by_another_account`, `invalid_mac`, `invalid_url`, `not_found`, `rate_limited`,
    /// `server_error`, `unexpected_reply`, `refused`, `invalid_input`, `unsupported`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadCredentials(_) => "bad_credentials",
            Self::OwnedByAnotherAccount(_) => "owned_by_another_account",
            Self::InvalidMac(_) => "invalid_mac",
            Self::InvalidUrl(_) => "invalid_url",
            Self::NotFound(_) => "not_found",
            Self::RateLimited { .. } => "rate_limited",
            Self::ServerError(_) => "server_error",
            Self::UnexpectedReply(_) => "unexpected_reply",
            Self::Refused(_) => "refused",
            Self::InvalidInput(_) => "invalid_input",
            Self::Unsupported(_) => "unsupported",
        }
    }

    /// Whether the same call may succeed later with nothing changed: rate limits, the
    /// vendor's server errors and replies this client could not read (a proxy's error page
    /// looks like that). Everything else needs a person to change something first.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::ServerError(_) | Self::UnexpectedReply(_)
        )
    }
}

/// Why an attempt failed, for [`RetryPolicy::delay`].
#[derive(Debug, Clone, Copy)]
pub enum Failure<'a> {
    /// The request never got an HTTP reply (DNS, connection, TLS, timeout).
    Transport,
    /// The op ended with this error.
    Vendor(&'a RpsError),
}

/// When to try a failed operation again: exponential backoff from `base_secs`, capped at
/// `max_secs`, with ±10 % jitter; a vendor's `Retry-After` wins; after `max_attempts`
/// failures, or on an error that is not transient, never (a person must act).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first retry's delay, in seconds.
    pub base_secs: u64,
    /// The longest delay, in seconds.
    pub max_secs: u64,
    /// The failures after which the op is given up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// One minute, doubling to six hours, given up after ten failures (about 17 hours).
    fn default() -> Self {
        Self {
            base_secs: 60,
            max_secs: 6 * 3600,
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// Seconds to wait before the next attempt after the `attempts`-th failure (1-based),
    /// or `None` to give up. `jitter` is a random byte.
    pub fn delay(&self, failure: Failure<'_>, attempts: u32, jitter: u8) -> Option<u64> {
        if let Failure::Vendor(e) = failure {
            if !e.is_transient() {
                return None;
            }
        }
        if attempts >= self.max_attempts {
            return None;
        }
        let max = self.max_secs.max(1);
        if let Some(after) = match failure {
            Failure::Vendor(e) => e.retry_after(),
            Failure::Transport => None,
        } {
            // The vendor said when: no jitter, but at least a second and at most our cap.
            return Some(after.clamp(1, max));
        }
        let exp = attempts.saturating_sub(1).min(40);
        let d = self.base_secs.max(1).saturating_mul(1u64 << exp).min(max);
        // ±10 %: jitter 0..=255 maps to -10 %..+10 %.
        let spread = d / 10;
        let offset = spread.saturating_mul(u64::from(jitter)) / 255 * 2;
        Some((d - spread + offset).clamp(1, max))
    }
}

impl fmt::Display for RpsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, d) = match self {
            Self::BadCredentials(d) => ("bad credentials", d),
            Self::OwnedByAnotherAccount(d) => ("owned by another account", d),
            Self::InvalidMac(d) => ("invalid MAC address", d),
            Self::InvalidUrl(d) => ("invalid provisioning URL", d),
            Self::NotFound(d) => ("not found", d),
            Self::RateLimited { detail, .. } => ("rate limited", detail),
            Self::ServerError(d) => ("vendor server error", d),
            Self::UnexpectedReply(d) => ("unexpected reply", d),
            Self::Refused(d) => ("refused by the vendor", d),
            Self::InvalidInput(m) => return write!(f, "invalid input: {m}"),
            Self::Unsupported(m) => return write!(f, "unsupported: {m}"),
        };
        write!(f, "{what} ({d})")
    }
}

impl std::error::Error for RpsError {}
