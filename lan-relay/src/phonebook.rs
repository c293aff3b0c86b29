//! Phonebook sources on a LAN host (the snapshot's `phonebook_fetch`): the edge cannot reach
//! them, so the relay fetches each on its schedule and posts the entries (or the error) to
//! the edge (`POST /relay/v1/phonebook`), which merges them into the site's phonebook.
//!
//! Only LAN addresses are fetched here (`engine::SourceUrl` says so of the URL as written; a
//! name is resolved once and every address it gives must be a LAN one, by the engine's
//! `classify_ip`: the fetch connects to those addresses only, [`Pinned`]), only the saved URL (no redirect is followed), within [`TIMEOUT`] and
//! [`engine::MAX_SOURCE_BYTES`], never through a proxy. The document is read by the engine
//! (`parse_source`).

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::time::{Duration, Instant};

use engine::PhonebookFetch;

/// How long one fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// When each source was last fetched, and the "fetch now" request and the URL seen then.
#[derive(Debug, Default)]
pub struct Schedule {
    last: HashMap<String, (Instant, u64, String)>,
}

impl Schedule {
    /// The sources to fetch now: never fetched by this process, their interval over, a new
    /// "fetch now" request, or a new URL (the edge dropped the old URL's entries, and takes
    /// the new one's at once). Marks them fetched at `now`.
    pub fn due(&mut self, sources: &[PhonebookFetch], now: Instant) -> Vec<PhonebookFetch> {
        self.last
            .retain(|id, _| sources.iter().any(|s| &s.id == id));
        let mut out = Vec::new();
        for s in sources {
            let every =
                Duration::from_secs(u64::from(s.fetch_minutes.max(engine::MIN_FETCH_MINUTES)) * 60);
            let due = match self.last.get(&s.id) {
                None => true,
                Some((at, requested, url)) => {
                    now.duration_since(*at) >= every
                        || *requested != s.requested_at
                        || *url != s.url
                }
            };
            if due {
                self.last
                    .insert(s.id.clone(), (now, s.requested_at, s.url.clone()));
                out.push(s.clone());
            }
        }
        out
    }

    /// Forgets source `id`, so the next [`Self::due`] fetches it again.
    pub fn forget(&mut self, id: &str) {
        self.last.remove(id);
    }
}

/// Fetches source `s` (blocking) and posts what it brought to the edge; `false` when the
/// edge did not take it (the schedule then tries again at the next poll).
pub fn fetch_and_report(client: &crate::edge::EdgeClient, s: &PhonebookFetch) -> bool {
    let outcome = fetch(&s.url);
    match &outcome {
        Ok(p) => {
            tracing::info!(source = %s.id, entries = p.entries.len(), format = %p.format.name(), "phonebook source fetched")
        }
        Err(e) => {
            tracing::warn!(source = %s.id, error = %e, "phonebook source not fetched; the last good entries stay")
        }
    }
    match client.phonebook(&s.id, &s.url, &outcome) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(source = %s.id, error = %e, "phonebook source result not sent; retrying at the next poll");
            false
        }
    }
}

/// Fetches `url` (blocking) and reads it; the error is for the administrator and names the
/// host, never the path or query.
pub fn fetch(url: &str) -> Result<engine::ParsedSource, String> {
    fetch_via(url, |host, port| {
        (host, port).to_socket_addrs().map(Iterator::collect)
    })
}

/// [`fetch`], the URL's host resolved by `resolve` (once: see [`Pinned`]).
pub fn fetch_via(
    url: &str,
    resolve: impl FnOnce(&str, u16) -> std::io::Result<Vec<SocketAddr>>,
) -> Result<engine::ParsedSource, String> {
    let parsed = engine::SourceUrl::parse(url).map_err(|e| e.detail().to_owned())?;
    let host = parsed.authority();
    if parsed.fetcher != engine::Fetcher::Relay {
        return Err(format!("{host} is a public address: the edge fetches it"));
    }
    let port = parsed
        .port
        .unwrap_or(if parsed.url.to_ascii_lowercase().starts_with("https:") {
            443
        } else {
            80
        });
    let addrs = resolve(parsed.host.as_str(), port).map_err(|e| format!("{host}: {e}"))?;
    if addrs.is_empty()
        || addrs
            .iter()
            .any(|a| engine::classify_ip(a.ip()) != Ok(engine::Fetcher::Relay))
    {
        return Err(format!("{host} does not resolve to LAN addresses only"));
    }
    // No proxy, whatever the environment says (ureq reads `HTTP_PROXY` and the like by
    // default): the address checked above is the one connected to, and a LAN URL never
    // leaves the LAN (`tests/phonebook_proxy.rs`).
    let config = ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(concat!("lan-relay/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        Pinned(addrs),
    );
    let mut resp = agent
        .get(&parsed.url)
        .call()
        .map_err(|e| format!("no answer from {host}: {}", kind(&e)))?;
    engine::check_fetch_status(&host, resp.status().as_u16())?;
    let body = resp
        .body_mut()
        .with_config()
        .limit(engine::MAX_SOURCE_BYTES as u64)
        .read_to_vec()
        .map_err(|e| format!("{host}: {}", kind(&e)))?;
    engine::parse_source(&body).map_err(|e| e.detail().to_owned())
}

/// The addresses a source's host was resolved to and checked as LAN ones: the only ones
/// the fetch connects to. ureq would otherwise resolve the name again, and a DNS answer
/// that changed in between (rebinding) would take the fetch off the LAN.
#[derive(Debug)]
struct Pinned(Vec<SocketAddr>);

impl ureq::unversioned::resolver::Resolver for Pinned {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let mut out = self.empty();
        for a in &self.0 {
            if out.try_push(*a).is_err() {
                break;
            }
        }
        Ok(out)
    }
}

/// What went wrong, without the URL ureq's messages may carry.
fn kind(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
        ureq::Error::BodyExceedsLimit(_) => format!(
            "the document is larger than {} KiB",
            engine::MAX_SOURCE_BYTES / 1024
        ),
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        _ => "the request failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: &str, minutes: u32, requested_at: u64) -> PhonebookFetch {
        PhonebookFetch {
            id: id.into(),
            url: "http://192.168.1.2/pb.xml".into(),
            fetch_minutes: minutes,
            requested_at,
        }
    }

    #[test]
    fn schedule_fetches_new_due_and_requested_sources() {
        let mut s = Schedule::default();
        let t0 = Instant::now();
        let a = [source("a", 15, 0), source("b", 60, 0)];
        assert_eq!(s.due(&a, t0).len(), 2, "new sources at once");
        assert!(s.due(&a, t0 + Duration::from_secs(60)).is_empty());
        let due = s.due(&a, t0 + Duration::from_secs(15 * 60));
        assert_eq!(due.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["a"]);
        let asked = [source("a", 15, 0), source("b", 60, 99)];
        let due = s.due(&asked, t0 + Duration::from_secs(16 * 60));
        assert_eq!(due.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["b"]);
        // A source whose URL changed is fetched at once, not at the old URL's next time.
        let moved = [
            source("a", 15, 0),
            PhonebookFetch {
                url: "http://192.168.1.3/other.xml".into(),
                ..source("b", 60, 99)
            },
        ];
        let due = s.due(&moved, t0 + Duration::from_secs(17 * 60));
        assert_eq!(due.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["b"]);
    }

    /// Attack: the LAN's DNS answers a name with a LAN address when it is checked and with
    /// another (a public host) when the fetch connects (rebinding). The name is resolved
    /// once: the fetch connects to the address checked, which no later answer changes.
    #[test]
    fn the_address_checked_is_the_one_connected_to() {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port");
        let addr = listener.local_addr().expect("its address");
        std::thread::spawn(move || {
            if let Some(Ok(mut conn)) = listener.incoming().next() {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let csv = "name,number\nLAN directory,201\n";
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{csv}",
                    csv.len()
                );
            }
        });
        // `directory.lan` is in no DNS here: only the address checked can be reached.
        let got = fetch_via(
            &format!("http://directory.lan:{}/pb.csv", addr.port()),
            |_, _| Ok(vec![addr]),
        )
        .expect("fetched from the address checked");
        assert_eq!(got.entries[0].name, "LAN directory");
        let public = "192.0.2.1:80".parse().expect("an address");
        let e = fetch_via("http://directory.lan/pb.csv", |_, _| Ok(vec![addr, public]))
            .expect_err("a public address among the answers");
        assert!(e.contains("LAN addresses only"), "{e}");
    }

    #[test]
    fn public_and_unresolvable_hosts_are_not_fetched() {
        let e = fetch("https://pbx.example.com/pb.xml").unwrap_err();
        assert!(e.contains("the edge fetches it"), "{e}");
        let e = fetch("http://user:pw@192.168.1.2/").unwrap_err();
        assert!(e.contains("credentials") && !e.contains("pw@"), "{e}");
    }
}
