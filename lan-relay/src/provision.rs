//! What a LAN phone gets: the engine's [`engine::Site`] answers every request; this module
//! holds the current site (swapped whole when a new inventory arrives) and turns an answer
//! into bytes: rendered files from memory, firmware images from the on-disk cache.
//!
//! A URI-mapped path (an old Yealink's `y000000000028.cfg`) names no phone; the engine
//! renders it for the phone the User-Agent names, else for the MAC the LAN ties to the
//! source address ([`Provisioner::lan_mac`]: the ARP table's entry, else a recent PnP
//! sighting the ARP table confirmed), the same over HTTP and TFTP. An address tied to no
//! MAC (another subnet behind a router, IPv6, no PnP) gets the 404 of every refusal; the
//! reason is logged (debug) and counted (`relay_mapped_requests_total{by="none"}`).
//!
//! On the LAN a phone is known by its MAC, so guessing MACs is the way to harvest SIP
//! passwords: requests for unknown or refused phones' configs and phonebooks, by their own
//! paths or through a URI-mapped path, are counted per client
//! address (the engine's [`engine::MissPolicy`]). Past the threshold the address is braked
//! for the cool-off: it gets no phone's files, valid guesses included, except those of the
//! phone whose MAC the ARP table confirms at that address ([`crate::arp`]), and the files
//! that carry no secret (common files, firmware), which anyone gets anyway. A UDP source is
//! forgeable, so spoofed TFTP requests can brake a phone's address; the exception keeps
//! the real phone served, and gives an attacker at its own address nothing, since the
//! table holds its own MAC there.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;

use crate::discovery::{clip, Queue, Seen};
use crate::files::{FileBody, FileRequest, FileSource, Refusal, Served, Transport};
use crate::metrics::{MappedBy, Metrics};

/// The relay's provisioning state.
#[derive(Debug)]
pub struct Provisioner {
    site: RwLock<Option<Arc<engine::Site>>>,
    base_url: String,
    firmware_dir: PathBuf,
    metrics: Arc<Metrics>,
    seen: Arc<Queue>,
    /// Miss counters by [`engine::client_key`] (an IPv6 address by its /64).
    misses: Mutex<HashMap<String, engine::MissCounter>>,
    star: Option<StarCode>,
    arp: crate::arp::ArpTable,
    switches: crate::switches::Switches,
}

/// Star-code self-binding: where the relay's registrar is, and the key provisioning
/// passwords derive from ([`engine::provisioning_password`]).
#[derive(Clone)]
pub struct StarCode {
    /// The key (kept in the state directory).
    pub key: Vec<u8>,
    /// The host phones register to (this relay's LAN address).
    pub host: String,
    /// The registrar's port.
    pub port: u16,
}

impl std::fmt::Debug for StarCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StarCode")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Most client addresses whose misses are remembered; past it, unlocked ones are forgotten.
const MAX_TRACKED: usize = 10_000;

impl Provisioner {
    /// A provisioner with no inventory yet (every request is refused until [`Self::set_site`]).
    /// `base_url` is where phones reach this relay's HTTP server (e.g.
    /// `http://192.0.2.10:8480`); firmware images are read from `firmware_dir/<vendor>/<file>`.
    pub fn new(base_url: &str, firmware_dir: impl Into<PathBuf>, metrics: Arc<Metrics>) -> Self {
        Self {
            site: RwLock::new(None),
            base_url: base_url.trim_end_matches('/').to_owned(),
            firmware_dir: firmware_dir.into(),
            metrics,
            seen: Arc::new(Queue::default()),
            misses: Mutex::new(HashMap::new()),
            star: None,
            arp: crate::arp::ArpTable::default(),
            switches: crate::switches::Switches::default(),
        }
    }

    /// Sets what the relay's configuration forces of the site's switches (default: the
    /// site decides both).
    #[must_use]
    pub fn with_switches(mut self, switches: crate::switches::Switches) -> Self {
        self.switches = switches;
        self
    }

    /// The switches each new site sets (verbose logging, TFTP).
    pub fn switches(&self) -> &crate::switches::Switches {
        &self.switches
    }

    /// Confirms phones' MACs at their addresses with the ARP table at `arp` (default:
    /// `/proc/net/arp`).
    #[must_use]
    pub fn with_arp_table(mut self, arp: crate::arp::ArpTable) -> Self {
        self.arp = arp;
        self
    }

    /// The ARP table that confirms a phone's MAC at its address.
    pub fn arp(&self) -> &crate::arp::ArpTable {
        &self.arp
    }

    /// Gives phones that are not bound yet a provisioning account on the relay's registrar
    /// (when the site has a star code).
    #[must_use]
    pub fn with_star_code(mut self, star: StarCode) -> Self {
        self.star = Some(star);
        self
    }

    /// The provisioning account of `mac` (user = the MAC, password derived), if star-code
    /// binding is on.
    pub fn account(&self, mac: &engine::Mac) -> Option<engine::User> {
        let star = self.star.as_ref()?;
        let site = self.site()?;
        let code = site.star_code_pattern()?;
        Some(engine::provisioning_account(
            &star.key,
            mac,
            format!("Dial {} + extension", code.prefix()),
        ))
    }

    /// The provisioning-account config for an unbound phone's request, if star-code
    /// binding is on and the request is a device config.
    fn provisioning_config(&self, site: &engine::Site, req: &FileRequest) -> Option<Served> {
        let star = self.star.as_ref()?;
        let d = detect(site, req, None);
        let engine::Resource::DeviceConfig { mac } = d.resource else {
            return None;
        };
        if !d.ua_mac_matches() {
            return None;
        }
        let vendor = site
            .phone(&mac)
            .map(|p| p.vendor)
            .or(d.vendor)
            .or_else(|| mac.vendor())
            .filter(|v| v.is_provisioned())?;
        let account = self.account(&mac)?;
        let device = engine::Device {
            vendor,
            model: d.model.clone().unwrap_or_default(),
            mac,
        };
        let body = site.provisioning_account_config(
            device,
            &account,
            &star.host,
            star.port,
            &self.base_url,
        )?;
        Some(Served {
            content_type: engine::content_type_of(vendor, &body),
            body: FileBody::Memory(Bytes::from(body)),
            vendor: Some(vendor),
        })
    }

    /// Whether `ip` is cooling off after too many misses.
    fn locked(&self, ip: IpAddr) -> bool {
        let now = crate::metrics::unix_now();
        let m = match self.misses.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        m.get(&engine::client_key(ip))
            .is_some_and(|c| c.is_locked(now))
    }

    /// Whether a request from an address that is braked is served all the same: a file
    /// with no secret, or the files of the phone the ARP table confirms at the address.
    async fn braked_but_served(
        &self,
        site: Option<&engine::Site>,
        req: &FileRequest,
        lan_mac: Option<engine::Mac>,
    ) -> bool {
        let Some(site) = site else {
            return false;
        };
        let d = detect(site, req, lan_mac);
        match d.resource {
            engine::Resource::CommonConfig { .. } | engine::Resource::Firmware { .. } => true,
            engine::Resource::DeviceConfig { .. }
            | engine::Resource::Phonebook { .. }
            | engine::Resource::Mapped { .. } => match d.mac() {
                Some(mac) => self.arp.confirms(req.peer.ip(), mac).await,
                None => false,
            },
            engine::Resource::NotServed => false,
        }
    }

    /// Counts a request for an unknown or refused phone's config against `ip` (the brake
    /// on MAC guessing, the engine's rule: 20 in 10 minutes, then 15 minutes of refusals;
    /// an IPv6 address counts by its /64, as at the edge).
    fn miss(&self, ip: IpAddr) {
        let now = crate::metrics::unix_now();
        let key = engine::client_key(ip);
        let mut m = match self.misses.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        if m.len() >= MAX_TRACKED && !m.contains_key(&key) {
            m.retain(|_, c| c.is_locked(now));
        }
        if m.entry(key)
            .or_default()
            .record_miss(now, &engine::MissPolicy::default())
        {
            tracing::warn!(%ip, "too many requests for unknown phones: cooling off");
        }
    }

    /// The queue of phones seen asking for a config they do not have yet (unknown MACs), for
    /// the next report to the edge.
    pub fn seen(&self) -> Arc<Queue> {
        Arc::clone(&self.seen)
    }

    /// Records a phone that asked for its config but is not in the inventory.
    async fn record_unknown(
        &self,
        site: &engine::Site,
        req: &FileRequest,
        lan_mac: Option<engine::Mac>,
    ) {
        let d = detect(site, req, lan_mac);
        let mac = match d.resource {
            engine::Resource::DeviceConfig { mac } | engine::Resource::Phonebook { mac } => mac,
            // A mapped path's phone, named by the User-Agent (a guess all the same) or the
            // LAN (a host that changes its MAC to guess is braked too).
            engine::Resource::Mapped { .. } => match d.mac() {
                Some(mac) => mac,
                None => return,
            },
            _ => return,
        };
        if site.phone(&mac).is_some() {
            return;
        }
        self.miss(req.peer.ip());
        if !site.allows(&mac)
            || !d.ua_mac_matches()
            || !matches!(d.resource, engine::Resource::DeviceConfig { .. })
        {
            return;
        }
        self.seen.record(Seen {
            mac: mac.to_string(),
            vendor: d
                .vendor
                .or_else(|| mac.vendor())
                .filter(|v| v.is_provisioned())
                .map(|v| v.as_str().to_owned()),
            model: d.model.as_deref().and_then(|m| clip(m, 40)),
            firmware: d.firmware_version.as_deref().and_then(|f| clip(f, 64)),
            ip: req.peer.ip().to_string(),
            user_agent: req.user_agent.as_deref().and_then(|u| clip(u, 256)),
            via: match req.transport {
                Transport::Tftp => "tftp",
                Transport::Http => "http",
            },
            // An HTTP request's address is real (TCP), and the kernel resolved it to answer;
            // a TFTP request's first packet may come before that (the phone asks again).
            confirmed: self.arp.confirms(req.peer.ip(), mac).await,
        });
    }

    /// Serves `site` from now on (requests in flight finish with the previous one). With
    /// star-code binding, a bound phone's config carries its hot-desking line when the site
    /// allows it ([`engine::Site::with_registrar`]).
    pub fn set_site(&self, site: engine::Site) {
        let site = match &self.star {
            Some(st) => site.with_registrar(&st.key, &st.host, st.port),
            None => site,
        };
        let star = |s: &engine::Site| s.star_code_pattern().map(|_| s.star_code_mode());
        let mode = star(&site);
        if mode == Some(engine::StarCodeMode::Open) && self.site().map(|s| star(&s)) != Some(mode) {
            tracing::warn!(
                "star-code binding is open: anyone on the LAN who dials the code can bind a phone to any extension and receive its SIP password; set star_code_mode to \"pin\" or \"approval\""
            );
        }
        let before = self.site();
        let unread = |s: &engine::Site| {
            s.star_code()
                .filter(|_| s.star_code_pattern().is_none())
                .map(str::to_owned)
        };
        if let Some(code) =
            unread(&site).filter(|c| before.as_deref().and_then(unread).as_ref() != Some(c))
        {
            tracing::warn!(code, "star_code_pattern is neither a prefix (*123*) nor MikoPBX's Extension Template (*123*XXX): star-code binding is off");
        }
        if site.hot_desking()
            && site.star_code_pattern().is_some()
            && !before.is_some_and(|s| s.hot_desking())
        {
            tracing::warn!(
                "hot-desking is on: a bound phone can be bound to another extension by star code"
            );
        }
        self.switches.follow(&site);
        let site = Arc::new(site);
        match self.site.write() {
            Ok(mut g) => *g = Some(site),
            Err(poisoned) => *poisoned.into_inner() = Some(site),
        }
    }

    /// The site being served.
    pub fn site(&self) -> Option<Arc<engine::Site>> {
        match self.site.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Where phones reach this relay.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The MAC the LAN ties to `req`'s source address, when the request is for a mapped
    /// path that names no phone itself ([`engine::Detection::needs_lan_mac`]; the engine
    /// decides which MAC wins): the ARP table's entry for the address (the kernel holds it
    /// because the relay talked to that device), else the MAC a PnP SUBSCRIBE from the
    /// address was confirmed for in the last [`crate::discovery::PNP_SIGHTING_SECS`]. Each
    /// mapped request is counted by what named its phone; one nothing names is logged.
    async fn lan_mac(&self, site: &engine::Site, req: &FileRequest) -> Option<engine::Mac> {
        let d = detect(site, req, None);
        if !matches!(d.resource, engine::Resource::Mapped { .. }) {
            return None;
        }
        let ip = req.peer.ip();
        let (mac, by) = if !d.needs_lan_mac() {
            (None, MappedBy::UserAgent)
        } else if let Some(mac) = self.arp.mac_of(ip).await {
            (Some(mac), MappedBy::Arp)
        } else if let Some(mac) = self.seen.pnp_mac_at(ip, crate::metrics::unix_now()) {
            (Some(mac), MappedBy::Pnp)
        } else {
            (None, MappedBy::Unresolved)
        };
        self.metrics.mapped.count(by);
        let path = req.path.chars().take(200).collect::<String>();
        match mac {
            Some(mac) => {
                tracing::debug!(%ip, %path, %mac, by = by.as_str(), "mapped path: the phone is the one the LAN ties to the address");
            }
            None if by == MappedBy::Unresolved => {
                tracing::debug!(%ip, %path, "mapped path not served: no MAC in the User-Agent, no ARP entry for the address (another subnet, IPv6) and no recent PnP sighting from it");
            }
            None => {}
        }
        mac
    }

    /// The cached image of `vendor`'s `file`, if present with the size the inventory says.
    async fn firmware(
        &self,
        vendor: engine::Vendor,
        row: &engine::FirmwareRow,
    ) -> Result<FileBody, Refusal> {
        let path = self.firmware_dir.join(vendor.as_str()).join(&row.file_name);
        let file = tokio::fs::File::open(&path).await.map_err(|_| {
            tracing::warn!(vendor = %vendor, file = %row.file_name, "firmware not in the cache");
            Refusal::NotFound
        })?;
        let len = file.metadata().await.map_err(|_| Refusal::Internal)?.len();
        if len != row.size {
            tracing::warn!(vendor = %vendor, file = %row.file_name, len, expected = row.size, "cached firmware has the wrong size");
            return Err(Refusal::NotFound);
        }
        Ok(FileBody::Disk { file, len })
    }
}

impl FileSource for Provisioner {
    async fn open(&self, req: FileRequest) -> Result<Served, Refusal> {
        let transport = req.transport;
        let site = self.site();
        let lan_mac = match &site {
            Some(site) => self.lan_mac(site, &req).await,
            None => None,
        };
        let braked = self.locked(req.peer.ip())
            && !self.braked_but_served(site.as_deref(), &req, lan_mac).await;
        let result = match site {
            _ if braked => Err(Refusal::Denied),
            None => Err(Refusal::NotFound),
            Some(site) => {
                let answer = site.answer(
                    &engine::PhoneRequest {
                        path: &req.path,
                        user_agent: req.user_agent.as_deref().filter(|u| !u.is_empty()),
                        pnp: None,
                        lan_mac,
                    },
                    &self.base_url,
                );
                match answer {
                    Ok(engine::Answer::File {
                        body,
                        content_type,
                        vendor,
                    }) => Ok(Served {
                        body: FileBody::Memory(Bytes::from(body)),
                        content_type,
                        vendor: Some(vendor),
                    }),
                    Ok(engine::Answer::Firmware { vendor, row }) => {
                        self.firmware(vendor, &row).await.map(|body| Served {
                            body,
                            content_type: "application/octet-stream",
                            vendor: Some(vendor),
                        })
                    }
                    Err(engine::Refusal::NotFound) => {
                        self.record_unknown(&site, &req, lan_mac).await;
                        self.provisioning_config(&site, &req)
                            .ok_or(Refusal::NotFound)
                    }
                    Err(engine::Refusal::Denied) => {
                        self.miss(req.peer.ip());
                        Err(Refusal::Denied)
                    }
                }
            }
        };
        self.metrics.file_request(
            transport,
            result.as_ref().ok().and_then(|s| s.vendor),
            result.as_ref().err().copied(),
        );
        tracing::debug!(peer = %req.peer, ?transport, path = %req.path.chars().take(200).collect::<String>(), outcome = ?result.as_ref().err(), "file request");
        result
    }
}

/// What the engine detects in a request (its path, User-Agent, the MAC the LAN ties to its
/// address and the site's URI mappings, as [`engine::Site::answer`] sees it).
fn detect(
    site: &engine::Site,
    req: &FileRequest,
    lan_mac: Option<engine::Mac>,
) -> engine::Detection {
    engine::detect(
        &engine::PhoneRequest {
            path: &req.path,
            user_agent: req.user_agent.as_deref().filter(|u| !u.is_empty()),
            pnp: None,
            lan_mac,
        },
        &site.inventory().uri_mappings,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_guesser_is_braked_by_its_64_not_per_address() {
        let p = Provisioner::new("http://192.0.2.1:8480", "/nonexistent", Arc::default());
        let addr = |n: u16| IpAddr::from([0x2001, 0xdb8, 1, 2, 0, 0, n, 1]);
        // Twenty addresses of one /64, one miss each: the whole /64 is braked.
        for n in 0..20 {
            p.miss(addr(n));
        }
        assert!(p.locked(addr(999)), "a fresh address of the same /64");
        assert!(
            !p.locked(IpAddr::from([0x2001, 0xdb8, 1, 3, 0, 0, 0, 1])),
            "another /64"
        );
        assert!(!p.locked(IpAddr::from([192, 0, 2, 7])));
    }

    /// A mapped path over TFTP (no User-Agent) from an address the ARP table does not hold:
    /// served for the MAC a PnP SUBSCRIBE from that address was confirmed for; the ARP
    /// table's entry, when there is one, comes first.
    #[tokio::test]
    async fn a_mapped_path_falls_back_on_a_confirmed_pnp_sighting() {
        let dir = std::env::temp_dir().join(format!("provision-pnp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let arp = dir.join("arp");
        std::fs::write(&arp, "IP address HW type Flags HW address Mask Device\n").unwrap();
        let metrics = Arc::new(Metrics::default());
        let p = Provisioner::new(
            "http://192.0.2.1:8480",
            "/nonexistent",
            Arc::clone(&metrics),
        )
        .with_arp_table(crate::arp::ArpTable::new(&arp));
        p.set_site(
            crate::config::load_inventory(&format!(
                "{}\n[[uri_mappings]]\npath = \"y000000000028.cfg\"\ntemplate = \"Yealink desk\"\n",
                crate::config::DEMO_INVENTORY
            ))
            .unwrap(),
        );
        let ask = || {
            p.open(FileRequest {
                path: "y000000000028.cfg".into(),
                user_agent: None,
                peer: "192.0.2.10:3000".parse().unwrap(),
                transport: Transport::Tftp,
            })
        };
        let body = |r: Result<Served, Refusal>| match r.unwrap().body {
            FileBody::Memory(b) => String::from_utf8(b.to_vec()).unwrap(),
            FileBody::Disk { .. } => panic!("a config from disk"),
        };
        assert_eq!(ask().await.unwrap_err(), Refusal::NotFound);
        assert_eq!(metrics.mapped.get(MappedBy::Unresolved), 1);
        let sighting = |mac: &str, confirmed| Seen {
            mac: mac.into(),
            vendor: None,
            model: None,
            firmware: None,
            ip: "192.0.2.10".into(),
            user_agent: None,
            via: "pnp",
            confirmed,
        };
        // An unconfirmed SUBSCRIBE (anyone can name any MAC) names nobody.
        p.seen().record(sighting("001565000001", false));
        assert_eq!(ask().await.unwrap_err(), Refusal::NotFound);
        p.seen().record(sighting("001565000001", true));
        assert!(body(ask().await).contains("demo-Vq9-kL2m-Zt7x"));
        assert_eq!(metrics.mapped.get(MappedBy::Pnp), 1);
        // The ARP table holds another device there now: it wins (the Snom gets no Yealink
        // template's file, and nobody gets the Yealink's).
        std::fs::write(
            &arp,
            "IP address HW type Flags HW address Mask Device\n\
             192.0.2.10 0x1 0x2 00:04:13:00:00:02 * eth0\n",
        )
        .unwrap();
        assert!(ask().await.is_err());
        assert_eq!(metrics.mapped.get(MappedBy::Arp), 1);
        assert!(metrics
            .render()
            .contains("relay_mapped_requests_total{by=\"none\"} 2\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
