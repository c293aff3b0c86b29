//! The attacker's side of the relay's MAC-enumeration benchmark (`tests/load/enum-relay.sh`
//! runs it against the relay binary): `--count` guesses of random MACs in a real vendor's
//! OUI, each with that phone's real User-Agent, by HTTP (keep-alive, one connection per
//! source address) or TFTP (one read request per guess), from the source addresses given,
//! taken in turn. Prints one line: `served=<configs served> refused=<404 or TFTP error>
//! failed=<no answer> secs=<wall time>`.
//!
//! Usage: `enum_relay --proto http|tftp --target ADDR --count N --sources A,B,...` or
//! `--sources 127.0.1.0/24` (every host of a /24) or `--sources 2001:db8:1::/64:N` (N
//! random addresses of a /64).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// A small xorshift generator: the guesses need not be unpredictable, only varied.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A vendor's per-MAC file name and User-Agent for `mac` (24 bits after the OUI).
fn guess(i: u64, low: u64) -> (String, String) {
    let low = low & 0xff_ffff;
    let b = [(low >> 16) as u8, (low >> 8) as u8, low as u8];
    match i % 3 {
        0 => (
            format!("001565{:02x}{:02x}{:02x}.cfg", b[0], b[1], b[2]),
            format!(
                "Yealink SIP-T46S 66.86.0.15 00:15:65:{:02x}:{:02x}:{:02x}",
                b[0], b[1], b[2]
            ),
        ),
        1 => (
            format!("000413{:02X}{:02X}{:02X}.xml", b[0], b[1], b[2]),
            format!(
                "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413{:02X}{:02X}{:02X} SXM:0 UXM:0)",
                b[0], b[1], b[2]
            ),
        ),
        _ => (
            format!("cfg000b82{:02x}{:02x}{:02x}.xml", b[0], b[1], b[2]),
            format!(
                "Grandstream Model HW GXP2170 SW 1.0.11.23 DevId 000b82{:02x}{:02x}{:02x}",
                b[0], b[1], b[2]
            ),
        ),
    }
}

fn sources(spec: &str, rng: &mut Rng) -> Vec<IpAddr> {
    if let Some(net) = spec.strip_suffix("/24") {
        let base: Ipv4Addr = net.parse().expect("an IPv4 network");
        let o = base.octets();
        return (1..=254)
            .map(|h| IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], h)))
            .collect();
    }
    if let Some((net, n)) = spec.split_once("/64:") {
        let base: Ipv6Addr = net.parse().expect("an IPv6 network");
        let prefix = u128::from(base) & !((1u128 << 64) - 1);
        let n: usize = n.parse().expect("a count of addresses");
        return (0..n)
            .map(|_| IpAddr::V6(Ipv6Addr::from(prefix | u128::from(rng.next() | 1))))
            .collect();
    }
    spec.split(',')
        .map(|s| s.parse().expect("an address"))
        .collect()
}

/// Lets `s` bind an address that is routed to this host but not configured on it.
fn freebind(s: &socket2::Socket) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    nix::sys::socket::setsockopt(s, nix::sys::socket::sockopt::IpFreebind, &true)
        .map_err(std::io::Error::from)?;
    #[cfg(not(target_os = "linux"))]
    let _ = s;
    Ok(())
}

fn bind_tcp(source: IpAddr, target: SocketAddr) -> std::io::Result<TcpStream> {
    let domain = if target.is_ipv4() {
        socket2::Domain::IPV4
    } else {
        socket2::Domain::IPV6
    };
    let s = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
    if source.is_ipv6() {
        // A /64 routed to the loopback (`ip -6 route add local <net>/64 dev lo`) has no
        // addresses configured: freebind lets the socket take any of them.
        freebind(&s)?;
    }
    s.bind(&SocketAddr::new(source, 0).into())?;
    s.connect_timeout(&target.into(), Duration::from_secs(5))?;
    s.set_tcp_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(s.into())
}

/// One HTTP request on a keep-alive connection; the status, or `None` if the connection
/// failed (it is then dropped and opened again).
fn http_get(
    conn: &mut Option<BufReader<TcpStream>>,
    source: IpAddr,
    target: SocketAddr,
    path: &str,
    ua: &str,
) -> Option<u16> {
    if conn.is_none() {
        *conn = Some(BufReader::new(bind_tcp(source, target).ok()?));
    }
    let r = conn.as_mut()?;
    let req = format!("GET /{path} HTTP/1.1\r\nHost: relay\r\nUser-Agent: {ua}\r\n\r\n");
    let status = (|| -> Option<u16> {
        r.get_mut().write_all(req.as_bytes()).ok()?;
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let status = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut len = 0usize;
        loop {
            line.clear();
            r.read_line(&mut line).ok()?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().ok()?;
                }
            }
        }
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).ok()?;
        Some(status)
    })();
    if status.is_none() {
        *conn = None;
    }
    status
}

/// One TFTP read request from `source`: `Some(true)` if DATA came back (the transfer is
/// then aborted), `Some(false)` for an ERROR, `None` for no answer.
fn tftp_get(source: IpAddr, target: SocketAddr, name: &str) -> Option<bool> {
    let domain = if target.is_ipv4() {
        socket2::Domain::IPV4
    } else {
        socket2::Domain::IPV6
    };
    let s = socket2::Socket::new(domain, socket2::Type::DGRAM, None).ok()?;
    if source.is_ipv6() {
        freebind(&s).ok()?;
    }
    s.bind(&SocketAddr::new(source, 0).into()).ok()?;
    let sock: UdpSocket = s.into();
    sock.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut rrq = vec![0u8, 1];
    rrq.extend_from_slice(name.as_bytes());
    rrq.extend_from_slice(b"\0octet\0");
    sock.send_to(&rrq, target).ok()?;
    let mut buf = [0u8; 1600];
    let (n, from) = sock.recv_from(&mut buf).ok()?;
    let data = buf.get(..2)? == [0, 3];
    if data {
        let _ = sock.send_to(b"\0\x05\0\0done\0", from);
    }
    let _ = n;
    Some(data)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| -> String {
        let i = args
            .iter()
            .position(|a| a == name)
            .unwrap_or_else(|| panic!("{name} is required"));
        args.get(i + 1)
            .cloned()
            .unwrap_or_else(|| panic!("{name} needs a value"))
    };
    let proto = arg("--proto");
    let target: SocketAddr = arg("--target").parse().expect("--target ADDR:PORT");
    let count: u64 = arg("--count").parse().expect("--count N");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let srcs = sources(&arg("--sources"), &mut rng);
    let mut conns: Vec<Option<BufReader<TcpStream>>> = srcs.iter().map(|_| None).collect();
    let (mut served, mut refused, mut failed) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    for i in 0..count {
        let k = (i % srcs.len() as u64) as usize;
        let (file, ua) = guess(i, rng.next());
        let answer = match proto.as_str() {
            // A kept-alive connection the relay closed (idle, or room for others past its
            // connection cap) is opened again once, as a browser would.
            "http" => http_get(&mut conns[k], srcs[k], target, &file, &ua)
                .or_else(|| http_get(&mut conns[k], srcs[k], target, &file, &ua))
                .map(|s| s == 200),
            "tftp" => tftp_get(srcs[k], target, &file),
            _ => panic!("--proto http or tftp"),
        };
        match answer {
            Some(true) => served += 1,
            Some(false) => refused += 1,
            None => failed += 1,
        }
    }
    println!(
        "served={served} refused={refused} failed={failed} secs={:.2}",
        start.elapsed().as_secs_f64()
    );
}
