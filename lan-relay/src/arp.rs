//! The host's ARP table, which the star-code registrar checks a phone's MAC against: the
//! parser is pure ([`lookup`], text in, MAC out); `read` is the one read of the file,
//! bounded.

use std::net::Ipv4Addr;
use std::path::Path;

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

    #[test]
    fn hostile_tables_never_panic() {
        let raw = "IP address HW type Flags HW address Mask Device\n127.0.0.1 0x1 0x2 00:15:65:aa:bb:cc * lo\n";
        for m in crate::testing::mutations(raw.as_bytes()) {
            let _ = lookup(&String::from_utf8_lossy(&m), Ipv4Addr::LOCALHOST);
        }
    }
}
