//! The relay's counters, exported in the Prometheus text format on `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::files::{Refusal, Transport};

/// Counters shared by every server of the relay.
#[derive(Debug, Default)]
pub struct Metrics {
    files: Mutex<BTreeMap<(&'static str, &'static str, &'static str), u64>>,
    /// SIP PnP packets received.
    pub pnp_packets: AtomicU64,
    /// PnP NOTIFYs sent (one per phone answered).
    pub pnp_answered: AtomicU64,
    /// PnP requests naming a phone with an edge URL from an address the ARP table does not
    /// confirm for that MAC (given the relay's URL instead).
    pub pnp_unconfirmed: AtomicU64,
    /// The TFTP server's counters.
    pub tftp: std::sync::Arc<crate::tftp::Metrics>,
    /// The HTTP server's connection counters.
    pub http: HttpMetrics,
    /// Unix time of the last inventory taken (from the edge or the local file); 0: none.
    pub inventory_at: AtomicU64,
    /// Requests for a URI-mapped path, by what named their phone.
    pub mapped: MappedMetrics,
}

/// The HTTP server's connections. Relaxed atomics: each is a plain tally.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// Connections open now.
    pub open: AtomicU64,
    /// Accepts that failed (out of descriptors, mostly).
    pub accept_errors: AtomicU64,
    /// Connections closed to make room for a newer one (a connection cap reached).
    pub evicted: AtomicU64,
    /// New connections closed at once: their address had its share, all sending.
    pub refused: AtomicU64,
    /// Connections closed after moving no byte for the idle timeout.
    pub idle_closed: AtomicU64,
}

/// What named the phone a request for a URI-mapped path is for (its path names none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappedBy {
    /// The MAC in the User-Agent.
    UserAgent = 0,
    /// The ARP table's entry for the source address.
    Arp,
    /// A PnP SUBSCRIBE from the address, confirmed, a short while ago.
    Pnp,
    /// Nothing: the request is refused with the usual 404.
    Unresolved,
}

impl MappedBy {
    /// The metric's label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserAgent => "user_agent",
            Self::Arp => "arp",
            Self::Pnp => "pnp",
            Self::Unresolved => "none",
        }
    }
}

/// Requests for URI-mapped paths, by [`MappedBy`].
#[derive(Debug, Default)]
pub struct MappedMetrics([AtomicU64; 4]);

impl MappedMetrics {
    const ALL: [MappedBy; 4] = [
        MappedBy::UserAgent,
        MappedBy::Arp,
        MappedBy::Pnp,
        MappedBy::Unresolved,
    ];

    /// Counts one request.
    pub fn count(&self, by: MappedBy) {
        self.0[by as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The count for `by`.
    pub fn get(&self, by: MappedBy) -> u64 {
        self.0[by as usize].load(Ordering::Relaxed)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Metrics {
    /// Counts a file request by transport, vendor and result.
    pub fn file_request(
        &self,
        transport: Transport,
        vendor: Option<engine::Vendor>,
        refusal: Option<Refusal>,
    ) {
        let transport = match transport {
            Transport::Tftp => "tftp",
            Transport::Http => "http",
        };
        let vendor = vendor.map_or("unknown", engine::Vendor::as_str);
        let result = match refusal {
            None => "served",
            Some(Refusal::NotFound) => "not_found",
            Some(Refusal::Denied) => "denied",
            Some(Refusal::Internal) => "error",
        };
        let mut files = match self.files.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *files.entry((transport, vendor, result)).or_default() += 1;
    }

    /// Records that an inventory was just taken.
    pub fn inventory_taken(&self) {
        self.inventory_at.store(unix_now(), Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP relay_file_requests_total Files asked for by phones, by transport, vendor and result.\n");
        out.push_str("# TYPE relay_file_requests_total counter\n");
        let files = match self.files.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        for ((transport, vendor, result), n) in files {
            let _ = writeln!(
                out,
                "relay_file_requests_total{{transport=\"{transport}\",vendor=\"{vendor}\",result=\"{result}\"}} {n}"
            );
        }
        out.push_str("# HELP relay_mapped_requests_total Requests for a URI-mapped path, by what named the phone (none: refused).\n");
        out.push_str("# TYPE relay_mapped_requests_total counter\n");
        for by in MappedMetrics::ALL {
            let _ = writeln!(
                out,
                "relay_mapped_requests_total{{by=\"{}\"}} {}",
                by.as_str(),
                self.mapped.get(by)
            );
        }
        let counters = [
            (
                "relay_pnp_packets_total",
                "SIP PnP packets received.",
                &self.pnp_packets,
            ),
            (
                "relay_pnp_answered_total",
                "Phones sent their provisioning URL by PnP.",
                &self.pnp_answered,
            ),
            (
                "relay_pnp_unconfirmed_total",
                "PnP requests for a phone's edge URL from an address not confirmed for its MAC.",
                &self.pnp_unconfirmed,
            ),
            (
                "relay_tftp_transfers_started_total",
                "TFTP transfers begun.",
                &self.tftp.started,
            ),
            (
                "relay_tftp_transfers_completed_total",
                "TFTP transfers completed.",
                &self.tftp.completed,
            ),
            (
                "relay_tftp_transfers_failed_total",
                "TFTP transfers that ended early.",
                &self.tftp.failed,
            ),
            (
                "relay_tftp_refused_total",
                "TFTP read requests answered File not found.",
                &self.tftp.refused,
            ),
            (
                "relay_tftp_busy_total",
                "TFTP requests turned away: every slot taken.",
                &self.tftp.busy,
            ),
            (
                "relay_tftp_bad_requests_total",
                "TFTP datagrams that were not valid requests.",
                &self.tftp.bad_requests,
            ),
            (
                "relay_tftp_retransmits_total",
                "TFTP packets sent again.",
                &self.tftp.retransmits,
            ),
            (
                "relay_tftp_bytes_sent_total",
                "TFTP file bytes sent.",
                &self.tftp.bytes_sent,
            ),
            (
                "relay_http_accept_errors_total",
                "HTTP accepts that failed (out of descriptors, mostly).",
                &self.http.accept_errors,
            ),
            (
                "relay_http_evicted_total",
                "HTTP connections closed to make room for a newer one.",
                &self.http.evicted,
            ),
            (
                "relay_http_refused_total",
                "HTTP connections closed at once: their address had its share.",
                &self.http.refused,
            ),
            (
                "relay_http_idle_closed_total",
                "HTTP connections closed after the idle timeout.",
                &self.http.idle_closed,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP relay_http_connections HTTP connections open.\n# TYPE relay_http_connections gauge\nrelay_http_connections {}",
            self.http.open.load(Ordering::Relaxed)
        );
        let at = self.inventory_at.load(Ordering::Relaxed);
        out.push_str("# HELP relay_inventory_age_seconds Seconds since the inventory was last taken (-1: never).\n");
        out.push_str("# TYPE relay_inventory_age_seconds gauge\n");
        let age = if at == 0 {
            -1
        } else {
            unix_now().saturating_sub(at) as i64
        };
        let _ = writeln!(out, "relay_inventory_age_seconds {age}");
        out
    }
}
