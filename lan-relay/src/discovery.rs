//! Phones the relay saw on the LAN, and what PnP answers them.
//!
//! [`Discovery`] is the relay's [`PnpHandler`]: every new PnP SUBSCRIBE is recorded in the
//! [`Queue`] (as are unknown phones asking for their config by TFTP or HTTP) (MAC,
//! vendor, model, firmware, address, whether the ARP table confirmed the MAC there) for the
//! next report to the edge (`POST /relay/v1/discovered`, see [`crate::sync`]), and answered
//! with the provisioning URL the engine picks ([`engine::Site::pnp_url_for`]): the phone's
//! HTTPS URL on the edge when the site's `pnp_url` setting is `edge` and the phone has one,
//! this relay's own URL otherwise. A MAC the site's allow/deny lists refuse, or a SUBSCRIBE
//! without one, gets silence. Each decision is logged (at `info` while the verbose switch is
//! on: `[pnp] debug = true` or the site's `[debug] verbose = 1`, see [`crate::switches`];
//! else `debug`) with `target = "edge"|"relay"` and the reason, never the URL: an edge URL
//! holds the phone's token.
//!
//! Anyone on the LAN can name any MAC in a SUBSCRIBE, and an edge URL works from anywhere
//! for as long as the phone's token does. So the edge URL goes only to the device the ARP
//! table holds with that MAC at the source address ([`crate::arp`]); anyone else, a real
//! phone on another subnet included, gets the relay's own URL (which serves it on the LAN as
//! well) and a miss against its address (the provisioner's brake on MAC guessing). The ARP
//! entry exists only once the relay's unicast `200 OK` went to the phone (a multicast
//! SUBSCRIBE resolves nothing), which is why the URL is chosen in [`PnpHandler::url`], after
//! it, waiting up to [`ARP_WAIT`] for the kernel to resolve the address.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::Mac;

use serde::Serialize;

use crate::arp::{ArpTable, Neighbour};
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
    /// Whether the ARP table held this MAC at `ip` (the edge updates a known phone's LAN
    /// facts only from a confirmed sighting: anyone can write any MAC into a request).
    pub confirmed: bool,
}

/// How long PnP waits, after its `200 OK`, for the ARP table to confirm a phone's MAC (on a
/// LAN the kernel resolves an address in a few milliseconds).
pub const ARP_WAIT: Duration = Duration::from_millis(250);
/// How often the ARP table is read while waiting.
const ARP_POLL: Duration = Duration::from_millis(25);

/// Whether `arp` holds `mac` at `ip`, read again every [`ARP_POLL`] for up to `wait` while it
/// does not (the entry of an address just sent to appears when its ARP reply comes in).
pub async fn confirm(arp: &ArpTable, ip: IpAddr, mac: Mac, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if arp.check(ip, mac).await == Neighbour::Confirmed {
            return true;
        }
        if tokio::time::Instant::now() + ARP_POLL > deadline {
            return false;
        }
        tokio::time::sleep(ARP_POLL).await;
    }
}

/// At most this many phones wait for the next report (a flood cannot grow memory).
const MAX_PENDING: usize = 500;

/// How long a confirmed PnP sighting still names the device at its address, in seconds,
/// for a URI-mapped path that names no phone ([`Queue::pnp_mac_at`]). A phone asks for its
/// files within seconds of its PnP answer; after a while the address may belong to another
/// device (DHCP).
pub const PNP_SIGHTING_SECS: u64 = 600;
/// At most this many addresses' PnP sightings are kept.
const MAX_PNP_ADDRESSES: usize = 4096;

/// Phones seen since the last report to the edge, and the confirmed PnP sightings of the
/// last [`PNP_SIGHTING_SECS`] by address.
#[derive(Debug, Default)]
pub struct Queue {
    pending: Mutex<BTreeMap<String, Seen>>,
    /// Address -> (MAC, Unix time) of PnP SUBSCRIBEs the ARP table confirmed.
    pnp: Mutex<HashMap<IpAddr, (Mac, u64)>>,
}

impl Queue {
    /// Records a phone (the latest sighting of a MAC wins, except that an unconfirmed one
    /// never hides a confirmed one: anyone can name a MAC). A confirmed PnP sighting also
    /// names the device at its address for a while ([`Self::pnp_mac_at`]).
    pub fn record(&self, seen: Seen) {
        if seen.confirmed && seen.via == "pnp" {
            self.pnp_confirmed(&seen, crate::metrics::unix_now());
        }
        let mut p = match self.pending.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        if !seen.confirmed && p.get(&seen.mac).is_some_and(|s| s.confirmed) {
            return;
        }
        if p.len() < MAX_PENDING || p.contains_key(&seen.mac) {
            p.insert(seen.mac.clone(), seen);
        }
    }

    /// Keeps a confirmed PnP sighting by its address (a newer one at the address wins).
    fn pnp_confirmed(&self, seen: &Seen, now: u64) {
        let (Ok(ip), Ok(mac)) = (seen.ip.parse::<IpAddr>(), Mac::parse(&seen.mac)) else {
            return;
        };
        let mut m = match self.pnp.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        if m.len() >= MAX_PNP_ADDRESSES {
            m.retain(|_, (_, at)| now.saturating_sub(*at) <= PNP_SIGHTING_SECS);
        }
        if m.len() < MAX_PNP_ADDRESSES || m.contains_key(&ip.to_canonical()) {
            m.insert(ip.to_canonical(), (mac, now));
        }
    }

    /// The MAC a PnP SUBSCRIBE from `ip` was confirmed for (by the ARP table, when it was
    /// answered) in the last [`PNP_SIGHTING_SECS`] before `now`, if any.
    pub fn pnp_mac_at(&self, ip: IpAddr, now: u64) -> Option<Mac> {
        let m = match self.pnp.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        m.get(&ip.to_canonical())
            .filter(|(_, at)| now.saturating_sub(*at) <= PNP_SIGHTING_SECS)
            .map(|(mac, _)| *mac)
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
    debug: crate::switches::Verbose,
}

impl Discovery {
    /// Answers PnP for `provisioner`'s site, recording sightings in `queue`.
    pub fn new(queue: Arc<Queue>, provisioner: Arc<Provisioner>, metrics: Arc<Metrics>) -> Self {
        Self {
            queue,
            provisioner,
            metrics,
            debug: crate::switches::Verbose::default(),
        }
    }

    /// Logs each decision at `info` rather than `debug` while `debug` is on.
    #[must_use]
    pub fn with_debug(mut self, debug: crate::switches::Verbose) -> Self {
        self.debug = debug;
        self
    }

    /// Records a PnP sighting of `mac` for the next report.
    fn record(&self, req: &PnpRequest, mac: Mac, confirmed: bool) {
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
            confirmed,
        });
    }
}

impl PnpHandler for Discovery {
    async fn subscribe(&self, req: PnpRequest) -> bool {
        self.metrics.pnp_packets.fetch_add(1, Ordering::Relaxed);
        let Some(mac) = req.info.mac else {
            return false;
        };
        let allowed = self
            .provisioner
            .site()
            .is_some_and(|site| site.allows(&mac));
        if !allowed {
            // Silence, and no 200 to resolve the address: what the table holds already.
            let confirmed = self.provisioner.arp().confirms(req.peer.ip(), mac).await;
            self.record(&req, mac, confirmed);
        }
        allowed
    }

    async fn url(&self, req: PnpRequest) -> Option<String> {
        let mac = req.info.mac?;
        let ip = req.peer.ip();
        let confirmed = confirm(self.provisioner.arp(), ip, mac, ARP_WAIT).await;
        self.record(&req, mac, confirmed);
        let site = self.provisioner.site()?;
        let base = self.provisioner.base_url();
        // `None`: the site's lists refuse the MAC (changed since the 200); silence.
        let choice = site.pnp_url_for(&mac, req.info.vendor_guess(), base, confirmed)?;
        if choice.reason == engine::PnpReason::Unconfirmed {
            // Someone named a phone that has an edge URL without being that phone: counted
            // and logged, not braked: a SUBSCRIBE's source address can be forged, so a brake
            // here could be aimed at a real phone's address (it got no secret: the relay's
            // URL is what anyone on the LAN gets).
            self.metrics.pnp_unconfirmed.fetch_add(1, Ordering::Relaxed);
            // Logged as every PnP line (info only while verbose): forged ones could flood it.
            crate::sip::sip_log!(self.debug, %mac, %ip, "PnP: a phone's edge URL asked for from an address not confirmed for its MAC");
        }
        let (target, reason) = (choice.target.as_str(), choice.reason.as_str());
        let url = choice.url.into_owned();
        // Never the URL itself: an edge URL holds the phone's token.
        crate::sip::sip_log!(self.debug, %mac, target, reason, %ip, confirmed, "PnP: provisioning URL chosen");
        self.metrics.pnp_answered.fetch_add(1, Ordering::Relaxed);
        Some(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ip: &str, confirmed: bool) -> Seen {
        Seen {
            mac: "001565000001".to_owned(),
            vendor: None,
            model: None,
            firmware: None,
            ip: ip.to_owned(),
            user_agent: None,
            via: "pnp",
            confirmed,
        }
    }

    #[test]
    fn an_unconfirmed_sighting_never_hides_a_confirmed_one() {
        let q = Queue::default();
        q.record(seen("192.0.2.10", true));
        q.record(seen("192.0.2.66", false));
        let got = q.take();
        assert_eq!((got.len(), got[0].ip.as_str()), (1, "192.0.2.10"));
        // The other way round, the confirmed one wins too.
        q.record(seen("192.0.2.66", false));
        q.record(seen("192.0.2.11", true));
        assert_eq!(q.take()[0].ip, "192.0.2.11");
    }

    #[test]
    fn a_confirmed_pnp_sighting_names_its_address_for_a_while() {
        let q = Queue::default();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let now = crate::metrics::unix_now();
        q.record(seen("192.0.2.10", true));
        q.record(seen("192.0.2.66", false));
        q.record(Seen {
            via: "tftp",
            ..seen("192.0.2.12", true)
        });
        let phone = Mac::parse("001565000001").ok();
        assert_eq!(q.pnp_mac_at(ip("192.0.2.10"), now), phone);
        assert_eq!(q.pnp_mac_at(ip("::ffff:192.0.2.10"), now), phone);
        // Unconfirmed, or not PnP, or another address: nothing.
        assert_eq!(q.pnp_mac_at(ip("192.0.2.66"), now), None);
        assert_eq!(q.pnp_mac_at(ip("192.0.2.12"), now), None);
        assert_eq!(q.pnp_mac_at(ip("192.0.2.11"), now), None);
        // Taking the report keeps it; age ends it.
        q.take();
        assert_eq!(q.pnp_mac_at(ip("192.0.2.10"), now), phone);
        assert_eq!(
            q.pnp_mac_at(ip("192.0.2.10"), now + PNP_SIGHTING_SECS + 2),
            None
        );
    }
}
