//! The relay's copy of its site's inventory from the edge (`GET /relay/v1/snapshot` with
//! the site's relay token; see `edge-worker/src/relay/mod.rs`).
//!
//! Every `poll_secs` the relay asks with `If-None-Match: <ETag>`; `304` costs nothing. A new
//! snapshot is checked and compiled by the engine ([`engine::Site::new`]) before it replaces
//! the one served, then written to `state_dir/snapshot.json` (with its ETag beside it)
//! atomically: a temporary file, fsync, rename. At start-up the relay serves that file, so a
//! restart while the edge is unreachable keeps the phones served. A snapshot the engine
//! refuses is logged and dropped; the previous one keeps serving. The token is read from a
//! file and never logged. Every call to the edge goes through [`crate::edge::EdgeClient`].

use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::discovery::Queue;
use crate::edge::{Action, Edge, EdgeClient, Fetched};
use crate::metrics::Metrics;
use crate::provision::Provisioner;

const SNAPSHOT: &str = "snapshot.json";
const ETAG: &str = "snapshot.etag";

/// The snapshot saved in `state_dir`, compiled, with its ETag; `None` if there is none or
/// it no longer compiles (logged).
pub fn load_saved(state_dir: &Path) -> Option<(engine::Site, String)> {
    let body = std::fs::read_to_string(state_dir.join(SNAPSHOT)).ok()?;
    let etag = std::fs::read_to_string(state_dir.join(ETAG)).unwrap_or_default();
    match compile(&body) {
        Ok(site) => Some((site, etag.trim().to_owned())),
        Err(e) => {
            tracing::warn!(error = %e, "the saved snapshot is not usable");
            None
        }
    }
}

/// Parses and compiles a snapshot body.
pub fn compile(body: &str) -> Result<engine::Site, String> {
    let inv: engine::Inventory =
        serde_json::from_str(body).map_err(|e| format!("snapshot: {e}"))?;
    engine::Site::new(inv).map_err(|e| format!("snapshot: {e}"))
}

/// Writes `body` and `etag` into `dir` so that a crash leaves either the old or the new
/// snapshot, never a torn one. The files are the relay's own (mode 0600): the snapshot holds
/// SIP passwords and the phones' edge URLs.
pub fn save(dir: &Path, body: &str, etag: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, data) in [(ETAG, etag), (SNAPSHOT, body)] {
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(data.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Carries out one action: the check-sync NOTIFY (reboot variant for `reboot`) to the
/// phone's SIP port `sip_port`. `(ok, detail)` for the acknowledgement.
pub async fn carry_out(
    socket: &tokio::net::UdpSocket,
    a: &Action,
    sip_port: u16,
) -> (bool, String) {
    let Ok(vendor) = a.vendor.parse::<engine::Vendor>() else {
        return (false, "unknown vendor".into());
    };
    let Some(ip) =
        a.ip.as_deref()
            .and_then(|i| i.parse::<std::net::IpAddr>().ok())
    else {
        return (false, "the phone was never seen on this LAN".into());
    };
    let reboot = a.action == "reboot";
    let opts = crate::sip::notify::CheckSyncOptions {
        user: None,
        advertise: None,
        timers: crate::sip::Timers::RFC3261,
    };
    let phone = std::net::SocketAddr::new(ip, sip_port);
    match crate::sip::notify::send_check_sync(socket, phone, vendor, reboot, &opts).await {
        Ok(crate::sip::notify::Outcome::Accepted(code)) => {
            (true, format!("the phone answered {code}"))
        }
        Ok(other) => (false, format!("{other:?}")),
        Err(e) => (false, e.to_string()),
    }
}

/// Polls the edge until `shutdown`: replaces the served site whenever a new snapshot
/// compiles, reports the phones seen on the LAN, carries out re-provision and reboot
/// requests, fetches the phonebook sources on LAN hosts that are due.
pub async fn run(
    edge: Edge,
    state_dir: PathBuf,
    mut etag: String,
    provisioner: Arc<Provisioner>,
    discovery: Arc<Queue>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // One agent for the whole run; each poll presents the token the file holds then.
    let agent = EdgeClient::new(&edge, String::new());
    let mut schedule = crate::phonebook::Schedule::default();
    loop {
        let token = match edge.read_token() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(file = %edge.token_file.display(), error = %e, "cannot read the relay token");
                String::new()
            }
        };
        let client = agent.with_token(token);
        let job = {
            let (c, etag) = (client.clone(), etag.clone());
            tokio::task::spawn_blocking(move || c.snapshot(&etag))
        };
        let outcome = tokio::select! {
            () = &mut shutdown => return,
            r = job => r.map_err(|e| e.to_string()).and_then(|r| r),
        };
        // While the edge is unreachable, LAN phonebook sources wait: a fetch it cannot take
        // would be due again at once, and fetched at every poll.
        let edge_ok = outcome.is_ok();
        match outcome {
            Ok(Fetched::NotModified) => {
                metrics.inventory_taken();
                tracing::debug!("inventory unchanged");
            }
            Ok(Fetched::New {
                body,
                etag: new_etag,
            }) => match compile(&body) {
                Ok(site) => {
                    let phones = site.inventory().phones.len();
                    // Images first, so the configs that name them are served with them.
                    let rows = site.inventory().firmware.clone();
                    let cache = state_dir.join("firmware");
                    let c = client.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        crate::firmware::refresh(
                            &c,
                            &cache,
                            &rows,
                            crate::firmware::DEFAULT_MAX_BYTES,
                        )
                    })
                    .await;
                    provisioner.set_site(site);
                    metrics.inventory_taken();
                    let dir = state_dir.clone();
                    let (b, e) = (body, new_etag.clone());
                    match tokio::task::spawn_blocking(move || save(&dir, &b, &e)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::error!(error = %e, "cannot save the snapshot"),
                        Err(e) => tracing::error!(error = %e, "cannot save the snapshot"),
                    }
                    etag = new_etag;
                    tracing::info!(phones, "new inventory from the edge");
                }
                Err(e) => {
                    tracing::error!(error = %e, "the edge's snapshot was refused; the previous one keeps serving")
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "the edge is unreachable; serving the last inventory")
            }
        }
        let seen = discovery.take();
        if !seen.is_empty() {
            let c = client.clone();
            let sent =
                tokio::task::spawn_blocking(move || c.report(&seen).map_err(|err| (err, seen)))
                    .await;
            match sent {
                Ok(Ok(())) => {}
                Ok(Err((err, seen))) => {
                    tracing::warn!(error = %err, "discovered phones not reported; retrying later");
                    discovery.restore(seen);
                }
                Err(err) => tracing::warn!(error = %err, "discovered phones not reported"),
            }
        }
        let c = client.clone();
        if let Ok(Ok(actions)) = tokio::task::spawn_blocking(move || c.actions()).await {
            if !actions.is_empty() {
                match tokio::net::UdpSocket::bind("0.0.0.0:0").await {
                    Ok(socket) => {
                        let mut results = Vec::new();
                        for a in &actions {
                            let (ok, detail) = carry_out(&socket, a, edge.phone_sip_port).await;
                            tracing::info!(mac = %a.mac, action = %a.action, ok, %detail, "re-provision request");
                            results.push((a.id.clone(), ok, detail));
                        }
                        let c = client.clone();
                        if let Ok(Err(err)) =
                            tokio::task::spawn_blocking(move || c.ack(&results)).await
                        {
                            tracing::warn!(error = %err, "actions not acknowledged (the edge hands them out again)");
                        }
                    }
                    Err(err) => tracing::error!(error = %err, "no socket for NOTIFY"),
                }
            }
        }

        if let Some(site) = provisioner.site().filter(|_| edge_ok) {
            for s in schedule.due(&site.inventory().phonebook_fetch, std::time::Instant::now()) {
                let c = client.clone();
                let id = s.id.clone();
                let sent =
                    tokio::task::spawn_blocking(move || crate::phonebook::fetch_and_report(&c, &s))
                        .await;
                if !matches!(sent, Ok(true)) {
                    schedule.forget(&id);
                }
            }
        }

        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(Duration::from_secs(edge.poll_secs.max(1))) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load_round_trips_and_a_bad_file_is_ignored() {
        let dir = std::env::temp_dir().join(format!("lan-relay-sync-{}", std::process::id()));
        let body = r#"{"site": {"pbx_host": "pbx.example.com"}, "users": [], "phones": [{"mac": "001565aabbcc", "vendor": "yealink"}]}"#;
        save(&dir, body, "\"abc\"").unwrap();
        let (site, etag) = load_saved(&dir).unwrap();
        assert_eq!(etag, "\"abc\"");
        assert_eq!(site.inventory().phones.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(SNAPSHOT))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "the snapshot holds secrets: owner only"
            );
        }
        std::fs::write(dir.join(SNAPSHOT), "{").unwrap();
        assert!(load_saved(&dir).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
