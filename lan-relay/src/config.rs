//! The relay's configuration: a TOML file (`--config`), every key optional, with command-line
//! overrides for the common ones. Unknown keys are refused, so a typo is an error at start-up
//! rather than a setting silently ignored.
//!
//! ```toml
//! state_dir = "/var/lib/lan-relay"      # snapshot of the edge's inventory, firmware cache
//! inventory = "/etc/lan-relay/inventory.toml"   # local inventory (no edge); default: the demo
//! arp_table = "/proc/net/arp"           # what confirms a phone's MAC at its LAN address
//!
//! [http]
//! listen = "0.0.0.0:8480"
//! public_url = "http://192.0.2.10:8480"   # where phones reach this relay
//! header_timeout_secs = 10               # a request head must arrive within this
//! idle_timeout_secs = 60                 # a connection moving no byte this long is closed
//! max_connections = 256                  # also at most a quarter of the descriptor limit
//! max_connections_per_address = 16
//!
//! [tftp]                                 # no authentication, no encryption: trusted LANs only
//! # enabled = true                       # unset: the site's tftp_enabled decides (off by
//!                                        # default); true/false: this relay decides
//! listen = "0.0.0.0:69"                  # better the LAN address: `--check` warns of others
//!
//! [starcode]                             # self-binding: phones register here until bound
//! enabled = true
//! listen = "0.0.0.0:5062"
//!
//! [edge]                                 # sync the inventory from the edge
//! url = "https://provisioning.example.com"
//! token_file = "/etc/lan-relay/relay-token"
//! poll_secs = 60
//!
//! [pnp]
//! enabled = true
//! interface = "0.0.0.0"                  # the LAN interface's address for the multicast join
//! port = 5060
//! debug = false                          # log every PnP packet and decision (as the
//!                                        # site's [debug] verbose = 1 does while it is set)
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the relay keeps its state (inventory snapshot, firmware cache).
    #[serde(default = "state_dir")]
    pub state_dir: PathBuf,
    /// A local inventory file (TOML); without one and without an edge, the built-in demo.
    #[serde(default)]
    pub inventory: Option<PathBuf>,
    /// HTTP.
    #[serde(default)]
    pub http: Http,
    /// TFTP.
    #[serde(default)]
    pub tftp: Tftp,
    /// SIP multicast PnP.
    #[serde(default)]
    pub pnp: Pnp,
    /// The edge to sync the inventory from (none: the local inventory).
    #[serde(default)]
    pub edge: Option<crate::edge::Edge>,
    /// Star-code self-binding (the site's `star_code_pattern` turns it on).
    #[serde(default)]
    pub starcode: StarCode,
    /// The ARP table that confirms a phone's MAC at its address ([`crate::arp`]).
    #[serde(default = "arp_table")]
    pub arp_table: PathBuf,
}

fn arp_table() -> PathBuf {
    PathBuf::from(crate::arp::PROC_NET_ARP)
}

/// The relay's registrar for star-code self-binding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarCode {
    /// Whether to run the registrar (it answers only when the site has a star code).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where it listens.
    #[serde(default = "registrar_listen")]
    pub listen: SocketAddr,
}

fn registrar_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 5062))
}

impl Default for StarCode {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: registrar_listen(),
        }
    }
}

fn state_dir() -> PathBuf {
    PathBuf::from("/var/lib/lan-relay")
}

impl Default for Config {
    fn default() -> Self {
        Self {
            state_dir: state_dir(),
            inventory: None,
            http: Http::default(),
            tftp: Tftp::default(),
            pnp: Pnp::default(),
            edge: None,
            starcode: StarCode::default(),
            arp_table: arp_table(),
        }
    }
}

/// The HTTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Address and port to listen on.
    #[serde(default = "http_listen")]
    pub listen: SocketAddr,
    /// The URL phones reach the relay at (written into their configs). Default: the listen
    /// address, if it is a specific one.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Seconds a client has to send a request head.
    #[serde(default = "header_timeout_secs")]
    pub header_timeout_secs: u64,
    /// Seconds a connection may move no byte before it is closed.
    #[serde(default = "idle_timeout_secs")]
    pub idle_timeout_secs: u64,
    /// The most connections open at once.
    #[serde(default = "max_connections")]
    pub max_connections: usize,
    /// The most connections open at once from one client address.
    #[serde(default = "max_connections_per_address")]
    pub max_connections_per_address: usize,
}

fn header_timeout_secs() -> u64 {
    crate::http::Limits::default().header_read_timeout.as_secs()
}

fn idle_timeout_secs() -> u64 {
    crate::http::Limits::default().idle_timeout.as_secs()
}

fn max_connections() -> usize {
    crate::http::Limits::default().max_connections
}

fn max_connections_per_address() -> usize {
    crate::http::Limits::default().max_per_address
}

impl Http {
    /// The HTTP server's limits (none of them 0: a 0 becomes 1).
    pub fn limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            max_per_address: self.max_connections_per_address.max(1),
        }
    }
}

fn http_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8480))
}

impl Default for Http {
    fn default() -> Self {
        Self {
            listen: http_listen(),
            public_url: None,
            header_timeout_secs: header_timeout_secs(),
            idle_timeout_secs: idle_timeout_secs(),
            max_connections: max_connections(),
            max_connections_per_address: max_connections_per_address(),
        }
    }
}

/// The TFTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tftp {
    /// Whether to serve TFTP: `None` (the default) follows the site's `tftp_enabled`, itself
    /// off by default, switching while the relay runs; `true` or `false` decides here.
    /// TFTP has no authentication and no encryption (MikoPBX's module, too, keeps it
    /// optional and for trusted LANs).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Address and port to listen on.
    #[serde(default = "tftp_listen")]
    pub listen: SocketAddr,
}

fn yes() -> bool {
    true
}

fn tftp_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 69))
}

impl Default for Tftp {
    fn default() -> Self {
        Self {
            enabled: None,
            listen: tftp_listen(),
        }
    }
}

/// SIP multicast plug-and-play.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pnp {
    /// Whether to answer PnP SUBSCRIBEs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The address of the LAN interface: 224.0.1.75 is joined there, and answers go out from
    /// it (0.0.0.0: the default route's interface, answers from any address).
    #[serde(default = "any")]
    pub interface: Ipv4Addr,
    /// The SIP port.
    #[serde(default = "sip_port")]
    pub port: u16,
    /// Log every PnP packet, the matched MAC and the allow/deny decision.
    #[serde(default)]
    pub debug: bool,
}

fn any() -> Ipv4Addr {
    Ipv4Addr::UNSPECIFIED
}

fn sip_port() -> u16 {
    5060
}

impl Default for Pnp {
    fn default() -> Self {
        Self {
            enabled: true,
            interface: any(),
            port: sip_port(),
            debug: false,
        }
    }
}

impl Config {
    /// Parses a TOML configuration; the error names the key and line.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The host phones reach the relay at (from [`Self::public_url`]): a name, an IPv4
    /// address or a bracketed IPv6 address, without the port.
    pub fn public_host(&self) -> String {
        let url = self.public_url();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or(rest);
        if let Some(end) = authority.find(']') {
            return authority.get(..=end).unwrap_or(authority).to_owned();
        }
        match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host.to_owned(),
            _ => authority.to_owned(),
        }
    }

    /// The URL phones reach the relay at.
    pub fn public_url(&self) -> String {
        match &self.http.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None if self.http.listen.ip().is_unspecified() => {
                format!("http://127.0.0.1:{}", self.http.listen.port())
            }
            None => format!("http://{}", self.http.listen),
        }
    }
}

/// Whether `ip` is reachable only on a LAN: loopback, private (RFC 1918, IPv6 unique
/// local), link-local, shared (RFC 6598, a carrier's NAT). Any other address may be reached
/// from the internet unless a firewall stops it.
pub fn is_lan(ip: std::net::IpAddr) -> bool {
    // The engine's one rule for LAN addresses (the one that says which phonebook sources
    // the relay fetches).
    engine::classify_ip(ip) == Ok(engine::Fetcher::Relay)
}

impl Config {
    /// Warnings for the file servers that listen beyond the LAN: on a public address, or
    /// on every address (`0.0.0.0`, `[::]`) of a host that has one among `host` (its
    /// interfaces' addresses). TFTP has no authentication at all and the relay's HTTP serves
    /// configs by MAC, so either is meant for the LAN only.
    pub fn exposure(&self, host: &[std::net::IpAddr]) -> Vec<String> {
        let tftp = match self.tftp.enabled {
            Some(false) => None,
            Some(true) => Some("TFTP"),
            None => Some("TFTP (while the site turns it on)"),
        };
        let servers = [
            (Some("HTTP"), self.http.listen, "[http] listen", "its configs are served by MAC, braked but not authenticated"),
            (tftp, self.tftp.listen, "[tftp] listen", "TFTP has no authentication and no encryption: anyone who reaches it and guesses a MAC's file name gets that phone's config"),
        ];
        let mut out = Vec::new();
        for (name, listen, key, why) in servers {
            let Some(name) = name else { continue };
            let ip = listen.ip();
            let public: Vec<String> = if ip.is_unspecified() {
                host.iter()
                    .filter(|h| !is_lan(**h) && (h.is_ipv4() == ip.is_ipv4() || ip.is_ipv6()))
                    .map(ToString::to_string)
                    .collect()
            } else if is_lan(ip) {
                Vec::new()
            } else {
                vec![ip.to_string()]
            };
            if public.is_empty() {
                continue;
            }
            let on = if ip.is_unspecified() {
                format!(
                    "every address of this host ({listen}), among them the public {}",
                    public.join(", ")
                )
            } else {
                format!("the public address {listen}")
            };
            out.push(format!(
                "{name} listens beyond the LAN, on {on}: {why}. Set {key} to the LAN address, or block port {} from outside (docs/troubleshooting.md, firewall)",
                listen.port()
            ));
        }
        out
    }
}

/// The addresses of this host's interfaces (none where they cannot be read).
pub fn host_addresses() -> Vec<std::net::IpAddr> {
    #[cfg(target_os = "linux")]
    {
        let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
            return Vec::new();
        };
        addrs
            .filter_map(|a| {
                let a = a.address?;
                a.as_sockaddr_in()
                    .map(|v4| std::net::IpAddr::V4(v4.ip()))
                    .or_else(|| a.as_sockaddr_in6().map(|v6| std::net::IpAddr::V6(v6.ip())))
            })
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    Vec::new()
}

/// The demo inventory a first-time user runs (one phone of each vendor).
pub const DEMO_INVENTORY: &str = include_str!("../inventory.example.toml");

/// Reads and compiles an inventory (TOML). The error says what is wrong and where.
pub fn load_inventory(text: &str) -> Result<engine::Site, String> {
    let inv: engine::Inventory = toml::from_str(text).map_err(|e| e.to_string())?;
    engine::Site::new(inv).map_err(|e| {
        let mut msg = e.to_string();
        if let Some(n) = e.name() {
            msg = format!("{n}: {msg}");
        }
        msg
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_typos() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.http.listen.port(), 8480);
        assert_eq!(c.public_url(), "http://127.0.0.1:8480");
        let c = Config::from_toml("[http]\nlisten = \"192.0.2.10:8000\"\n").unwrap();
        assert_eq!(c.public_url(), "http://192.0.2.10:8000");
        assert_eq!(c.public_host(), "192.0.2.10");
        let c = Config::from_toml("[http]\npublic_url = \"http://[2001:db8::1]:8480/\"\n").unwrap();
        assert_eq!(c.public_host(), "[2001:db8::1]");
        let c = Config::from_toml("[http]\npublic_url = \"http://relay.office.lan\"\n").unwrap();
        assert_eq!(c.public_host(), "relay.office.lan");
        let e = Config::from_toml("[http]\nlisen = \"0.0.0.0:1\"\n").unwrap_err();
        assert!(e.contains("lisen"), "{e}");
        assert!(Config::from_toml("[tftp]\nlisten = \"nope\"\n").is_err());
        assert_eq!(c.http.limits(), crate::http::Limits::default());
        let c = Config::from_toml("[http]\nidle_timeout_secs = 0\nmax_connections = 8\n").unwrap();
        assert_eq!(
            c.http.limits().idle_timeout,
            std::time::Duration::from_secs(1)
        );
        assert_eq!(c.http.limits().max_connections, 8);
    }

    #[test]
    fn check_warns_of_file_servers_listening_beyond_the_lan() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let lan_host = [
            ip("127.0.0.1"),
            ip("192.168.1.10"),
            ip("fe80::1"),
            ip("fd00::10"),
        ];
        let public_host = [ip("192.168.1.10"), ip("203.0.113.7"), ip("2001:db8::7")];
        // The defaults (every address) on a LAN-only host: nothing to say.
        let c = Config::default();
        assert!(c.exposure(&lan_host).is_empty());
        // ... on a host with a public address: HTTP, and TFTP for when the site turns it on.
        let w = c.exposure(&public_host);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with("HTTP listens beyond the LAN") && w[0].contains("203.0.113.7"),
            "{w:?}"
        );
        assert!(!w[0].contains("2001:db8::7"), "0.0.0.0 is IPv4 only: {w:?}");
        assert!(
            w[1].starts_with("TFTP (while the site turns it on)")
                && w[1].contains("no authentication"),
            "{w:?}"
        );
        // Bound to the LAN address: quiet; to a public one: warned, whatever the host has.
        let c = Config::from_toml("[http]\nlisten = \"192.168.1.10:8480\"\n[tftp]\nenabled = true\nlisten = \"203.0.113.7:69\"\n").unwrap();
        let w = c.exposure(&[]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("TFTP listens beyond the LAN, on the public address 203.0.113.7:69"),
            "{w:?}"
        );
        // TFTP turned off for good: not warned about.
        let c =
            Config::from_toml("[tftp]\nenabled = false\n[http]\nlisten = \"[::]:8480\"\n").unwrap();
        let w = c.exposure(&public_host);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("2001:db8::7") && w[0].contains("203.0.113.7"),
            "[::] takes both: {w:?}"
        );
        for (a, lan) in [
            ("10.1.2.3", true),
            ("100.64.0.1", true),
            ("169.254.1.1", true),
            ("8.8.8.8", false),
            ("::ffff:192.168.0.1", true),
            ("fe80::2", true),
            ("2a00::1", false),
        ] {
            assert_eq!(is_lan(ip(a)), lan, "{a}");
        }
    }

    #[test]
    fn the_demo_inventory_compiles() {
        let site = load_inventory(DEMO_INVENTORY).unwrap();
        assert_eq!(site.inventory().phones.len(), 5);
        assert!(load_inventory("[site]\npbx_host = \"pbx\"\ndeny_macs = \"zz\"\n").is_err());
        assert!(load_inventory("site = 1").is_err());
    }

    #[test]
    fn a_local_inventory_binds_users_to_a_dect_bases_handsets() {
        // The example file's commented base, uncommented.
        let base = DEMO_INVENTORY
            .split("# A DECT base")
            .nth(1)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .skip_while(|l| !l.starts_with("[[phones]]"))
            .collect::<Vec<_>>()
            .join("\n");
        let site = load_inventory(&format!("{DEMO_INVENTORY}\n{base}\n")).unwrap();
        let mac = engine::Mac::parse("001565000010").unwrap();
        let phone = site.phone(&mac).unwrap();
        assert_eq!(phone.handsets.len(), 2);
        let req = engine::PhoneRequest {
            path: "/001565000010.cfg",
            user_agent: Some("Yealink W60B 77.85.0.20 00:15:65:00:00:10"),
            pnp: None,
            lan_mac: None,
        };
        let Ok(engine::Answer::File { body, .. }) = site.answer(&req, "http://192.0.2.10:8480")
        else {
            panic!("the base's config")
        };
        for ext in ["203", "204", "205"] {
            assert!(
                body.contains(&format!("user_name = {ext}")),
                "{ext}: {body}"
            );
        }
        assert!(body.contains("handset.3.incoming_lines = 3"), "{body}");
    }

    #[test]
    fn a_local_inventory_sets_pnp_url_and_edge_urls() {
        let demo = load_inventory(DEMO_INVENTORY).unwrap();
        assert_eq!(demo.inventory().site.pnp_url, engine::PnpUrl::Relay);
        let mac = engine::Mac::parse("001565000001").unwrap();
        let relay = "http://192.0.2.10:8480";
        let inv = |pnp: &str, edge_url: &str| {
            format!(
                "[site]\npbx_host = \"pbx\"\n{pnp}\n[[users]]\nextension = \"201\"\nsip_password = \"pw\"\n\
                 [[phones]]\nmac = \"001565000001\"\nvendor = \"yealink\"\nuser_extension = \"201\"\n{edge_url}\n"
            )
        };
        let edge = "edge_url = \"https://edge.example.com/p/0123456789abcdef0123456789abcdef\"";
        let site = load_inventory(&inv("pnp_url = \"edge\"", edge)).unwrap();
        let c = site.pnp_url_for(&mac, None, relay, true).unwrap();
        assert_eq!(c.target, engine::PnpUrl::Edge);
        assert_eq!(
            c.url,
            "https://edge.example.com/p/0123456789abcdef0123456789abcdef"
        );
        // Edge mode without an edge URL (the usual local inventory): the relay's own.
        let site = load_inventory(&inv("pnp_url = \"edge\"", "")).unwrap();
        let c = site.pnp_url_for(&mac, None, relay, true).unwrap();
        assert_eq!((c.target, c.url.as_ref()), (engine::PnpUrl::Relay, relay));
        let site = load_inventory(&inv("pnp_url = \"relay\"", edge)).unwrap();
        assert_eq!(
            site.pnp_url_for(&mac, None, relay, true).map(|c| c.target),
            Some(engine::PnpUrl::Relay)
        );
        // A bad value: the key, the line, and what it may be.
        let e = load_inventory(&inv("pnp_url = \"https\"", "")).unwrap_err();
        assert!(e.contains("pnp_url") || e.contains("line 3"), "{e}");
        assert!(
            e.contains("unknown variant") && e.contains("`relay`") && e.contains("`edge`"),
            "{e}"
        );
        // A malformed edge URL names the field and the phone, never the URL.
        let e = load_inventory(&inv(
            "pnp_url = \"edge\"",
            "edge_url = \"edge.example.com/p/secret-token\"",
        ))
        .unwrap_err();
        assert!(
            e.starts_with("edge_url: ") && e.contains("001565000001"),
            "{e}"
        );
        assert!(!e.contains("secret-token"), "{e}");
    }
}
