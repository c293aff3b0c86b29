//! The host's ARP table: what the relay trusts about which device is at a LAN address.
//!
//! A MAC is the only thing that names a phone on the LAN, and anyone can write any MAC into
//! a request. The kernel's neighbour table is the one fact an attacker elsewhere cannot
//! forge by sending a packet: the relay's own traffic to an address resolved it. So what
//! hands out a secret on a MAC's word (star-code binding, PnP's edge URL, LAN facts
//! reported to the edge, the brake's exception for a phone) asks [`ArpTable::confirms`]
//! first. An address the table does not hold (another subnet behind a router, IPv6, a
//! host that has not talked to the relay yet) is **not** confirmed.
//!
//! The parser is pure ([`lookup`], text in, MAC out); [`read`] is the one read of the
//! file, bounded.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use engine::Mac;

/// The longest ARP table read, in bytes.
const MAX_ARP: u64 = 1 << 20;

/// The MAC the ARP table (Linux `/proc/net/arp`: a header line, then `IP address  HW type
/// Flags  HW address  Mask  Device`) holds for `ip`; incomplete entries (flags `0x0`, or an
/// all-zero address) and malformed lines are skipped.
pub fn lookup(table: &str, ip: Ipv4Addr) -> Option<Mac> {
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace();
        let (a, _hw, flags, mac) = (cols.next()?, cols.next()?, cols.next()?, cols.next()?);
        if a.parse::<Ipv4Addr>().ok()? != ip {
            return None;
        }
        let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
        if flags & 0x2 == 0 {
            return None;
        }
        Mac::parse(mac)
            .ok()
            .filter(|m| *m != Mac::from_octets([0; 6]))
    })
}

/// The ARP table at `path` (at most its first MiB); `None` when it cannot be read.
pub(crate) async fn read(path: &Path) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let f = tokio::fs::File::open(path).await.ok()?;
    let mut s = String::new();
    f.take(MAX_ARP).read_to_string(&mut s).await.ok()?;
    Some(s)
}

/// Linux's ARP table.
pub const PROC_NET_ARP: &str = "/proc/net/arp";

/// The host's ARP table, read when asked (it changes under the relay).
#[derive(Debug, Clone)]
pub struct ArpTable {
    path: PathBuf,
}

impl Default for ArpTable {
    fn default() -> Self {
        Self::new(PROC_NET_ARP)
    }
}

/// What the ARP table says of a client address and the MAC it claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Neighbour {
    /// The table holds this MAC for the address.
    Confirmed,
    /// The table holds another MAC for the address (a spoofed MAC, or a host behind a
    /// router).
    Other(Mac),
    /// The table holds nothing for the address (IPv6, not resolved yet, unreadable table).
    Unknown,
}

impl ArpTable {
    /// The table in `path` (`/proc/net/arp`'s format).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The MAC the table holds for `ip` (IPv4 only: Linux lists IPv6 neighbours only
    /// through netlink).
    pub async fn mac_of(&self, ip: IpAddr) -> Option<Mac> {
        let ip = match ip {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => v6.to_ipv4_mapped()?,
        };
        lookup(&read(&self.path).await?, ip)
    }

    /// Whether the device at `ip` is the one with `mac`.
    pub async fn check(&self, ip: IpAddr, mac: Mac) -> Neighbour {
        match self.mac_of(ip).await {
            Some(m) if m == mac => Neighbour::Confirmed,
            Some(m) => Neighbour::Other(m),
            None => Neighbour::Unknown,
        }
    }

    /// Whether the table confirms that `mac` is at `ip`.
    pub async fn confirms(&self, ip: IpAddr, mac: Mac) -> bool {
        self.check(ip, mac).await == Neighbour::Confirmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arp_table() {
        let t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.168.1.20     0x1         0x2         00:15:65:aa:bb:cc     *        eth0\n\
                 192.168.1.21     0x1         0x0         00:00:00:00:00:00     *        eth0\n\
                 garbage\n\
                 192.168.1.22     0x1         0x6         00:04:13:11:22:33     *        eth0\n";
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(
            lookup(t, ip("192.168.1.20")),
            Some(Mac::parse("001565aabbcc").unwrap())
        );
        assert_eq!(lookup(t, ip("192.168.1.21")), None);
        assert_eq!(
            lookup(t, ip("192.168.1.22")),
            Some(Mac::parse("000413112233").unwrap())
        );
        assert_eq!(lookup(t, ip("10.0.0.1")), None);
        assert_eq!(lookup("", ip("10.0.0.1")), None);
    }

    #[tokio::test]
    async fn confirmation_needs_the_same_mac_at_the_address() {
        let dir = std::env::temp_dir().join(format!("arp-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("arp");
        std::fs::write(
            &path,
            "IP address HW type Flags HW address Mask Device\n\
             192.168.1.20 0x1 0x2 00:15:65:aa:bb:cc * eth0\n",
        )
        .unwrap();
        let t = ArpTable::new(&path);
        let phone = Mac::parse("001565aabbcc").unwrap();
        let other = Mac::parse("001565aabbcd").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(t.confirms(ip("192.168.1.20"), phone).await);
        assert_eq!(
            t.check(ip("192.168.1.20"), other).await,
            Neighbour::Other(phone)
        );
        assert!(t.confirms(ip("::ffff:192.168.1.20"), phone).await);
        // Not in the table: another subnet, IPv6, a host the relay never answered.
        assert_eq!(t.check(ip("192.168.1.21"), phone).await, Neighbour::Unknown);
        assert_eq!(t.check(ip("fe80::1"), phone).await, Neighbour::Unknown);
        assert_eq!(
            ArpTable::new(dir.join("missing"))
                .check(ip("192.168.1.20"), phone)
                .await,
            Neighbour::Unknown
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hostile_tables_never_panic() {
        let raw = "IP address HW type Flags HW address Mask Device\n127.0.0.1 0x1 0x2 00:15:65:aa:bb:cc * lo\n";
        for m in crate::testing::mutations(raw.as_bytes()) {
            let _ = lookup(&String::from_utf8_lossy(&m), Ipv4Addr::LOCALHOST);
        }
    }
}
