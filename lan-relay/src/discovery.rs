//! Phones the relay saw on the LAN, and what PnP answers them.
//!
//! [`Discovery`] is the relay's [`PnpHandler`]: every new PnP SUBSCRIBE is recorded in the
//! [`Queue`] (as are unknown phones asking for their config by TFTP or HTTP) (MAC,
//! vendor, model, firmware, address) for the next report to the edge
//! (`POST /relay/v1/discovered`, see [`crate::sync`]), then answered with the provisioning
//! URL the engine picks ([`engine::Site::pnp_url_for`]): the phone's HTTPS URL on the edge
//! when the site's `pnp_url` setting is `edge` and the phone has one, this relay's own URL
//! otherwise. A MAC the site's allow/deny lists refuse, or a SUBSCRIBE without one, gets
//! silence. Each decision is logged (at `info` with `[pnp] debug = true`, else `debug`)
//! with `target = "edge"|"relay"` and the reason, never the URL: an edge URL holds the
//! phone's token.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::metrics::Metrics;
use crate::provision::Provisioner;
use crate::sip::pnp::{PnpHandler, PnpRequest};

/// A phone seen, as the edge's discovery report takes it.
#[derive(Debug, Clone, Serialize)]
pub struct Seen {
    /// The MAC (canonical).
    pub mac: String,
    /// The vendor, if known from the MAC's OUI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The model it announced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The firmware it announced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// Its LAN address.
    pub ip: String,
    /// Its User-Agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// How it was seen (`pnp`, `tftp`, `http`).
    pub via: &'static str,
}

/// At most this many phones wait for the next report (a flood cannot grow memory).
const MAX_PENDING: usize = 500;

/// Phones seen since the last report to the edge.
#[derive(Debug, Default)]
pub struct Queue {
    pending: Mutex<BTreeMap<String, Seen>>,
}

impl Queue {
    /// Records a phone (the latest sighting of a MAC wins).
    pub fn record(&self, seen: Seen) {
        let mut p = match self.pending.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        if p.len() < MAX_PENDING || p.contains_key(&seen.mac) {
            p.insert(seen.mac.clone(), seen);
        }
    }

    /// Takes everything recorded since the last call.
    pub fn take(&self) -> Vec<Seen> {
        let mut p = match self.pending.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        std::mem::take(&mut *p).into_values().collect()
    }

    /// Puts back a report that could not be delivered (newer sightings win).
    pub fn restore(&self, seen: Vec<Seen>) {
        let mut p = match self.pending.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        for s in seen {
            if p.len() < MAX_PENDING {
                p.entry(s.mac.clone()).or_insert(s);
            }
        }
    }
}

/// A printable value of at most `max` characters, if any.
pub fn clip(s: &str, max: usize) -> Option<String> {
    let s: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    (!s.is_empty()).then_some(s)
}

/// The PnP decisions (and PnP's sightings).
#[derive(Debug)]
pub struct Discovery {
    queue: Arc<Queue>,
    provisioner: Arc<Provisioner>,
    metrics: Arc<Metrics>,
    debug: bool,
}

impl Discovery {
    /// Answers PnP for `provisioner`'s site, recording sightings in `queue`.
    pub fn new(queue: Arc<Queue>, provisioner: Arc<Provisioner>, metrics: Arc<Metrics>) -> Self {
        Self {
            queue,
            provisioner,
            metrics,
            debug: false,
        }
    }

    /// Logs each decision at `info` rather than `debug` (`[pnp] debug = true`).
    #[must_use]
    pub fn with_debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }
}

impl PnpHandler for Discovery {
    async fn subscribe(&self, req: PnpRequest) -> Option<String> {
        self.metrics.pnp_packets.fetch_add(1, Ordering::Relaxed);
        let mac = req.info.mac?;
        self.queue.record(Seen {
            mac: mac.to_string(),
            vendor: mac
                .vendor()
                .filter(|v| v.is_provisioned())
                .map(|v| v.as_str().to_owned()),
            model: clip(&req.info.model, 40),
            firmware: clip(&req.info.version, 64),
            ip: req.peer.ip().to_string(),
            user_agent: req.user_agent.as_deref().and_then(|u| clip(u, 256)),
            via: "pnp",
        });
        let site = self.provisioner.site()?;
        // `None`: the site's lists refuse the MAC; silence.
        let choice =
            site.pnp_url_for(&mac, req.info.vendor_guess(), self.provisioner.base_url())?;
        // Never the URL itself: an edge URL holds the phone's token.
        let (target, reason) = (choice.target.as_str(), choice.reason.as_str());
        if self.debug {
            tracing::info!(%mac, target, reason, "PnP: provisioning URL chosen");
        } else {
            tracing::debug!(%mac, target, reason, "PnP: provisioning URL chosen");
        }
        self.metrics.pnp_answered.fetch_add(1, Ordering::Relaxed);
        Some(choice.url.into_owned())
    }
}
