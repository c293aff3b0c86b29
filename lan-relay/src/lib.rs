//! The LAN relay: the on-site daemon that provisions the office's phones over the LAN.
//!
//! Structured like mini-redis: the logic lives in this library, the binary (`main.rs`) only
//! parses the command line, binds the sockets and calls [`run`]. Protocol codecs are pure
//! bytes-in/bytes-out modules ([`tftp::codec`], [`sip::codec`]); the servers around them own
//! the sockets. Which bytes a phone receives is decided behind one contract,
//! [`files::FileSource`], from the engine's rules.
//!
//! # Layout
//!
//! ```text
//! main.rs            the binary: command line, tracing, bind, run (+ check.rs: `lan-relay template`)
//! lib.rs             Sockets::bind, initial_site, run: wires the servers below together
//! config.rs          the TOML configuration, the demo inventory
//! provision.rs       the current site and what a phone gets from it (rendered files, firmware)
//! files.rs           FileSource: the one contract between the file servers and the provisioner
//! http.rs            HTTP on :8480: files, /healthz, /metrics
//! tftp/codec.rs      TFTP packets, options, netascii; pure
//! tftp/server.rs     the TFTP server: one socket per transfer, a semaphore caps them
//! switches.rs        what the site turns on and off while the relay runs: verbose logging, TFTP
//! sip/codec.rs       SIP messages, URIs, SDP, the responses and requests the relay builds; pure
//! sip/digest.rs      digest authentication and the registrar's nonces, clock passed in; pure
//! sip/transaction.rs server transactions, retransmission timers (RFC 3261 §17); pure
//! sip/endpoint.rs    the one receive loop both SIP servers run
//! sip/pnp.rs         the multicast PnP server (SUBSCRIBE ua-profile, NOTIFY with the URL)
//! sip/registrar.rs   the star-code registrar: REGISTER, INVITE, BYE, then the reboot NOTIFY
//! sip/notify.rs      the check-sync NOTIFY to one phone, waiting for its answer
//! starcode.rs        the registrar's Binder: provisioning accounts, PIN checks, binding
//! arp.rs             the ARP table: what confirms a phone's MAC at its LAN address
//! discovery.rs       phones seen on the LAN, the PnP decisions
//! edge.rs            the [edge] section and EdgeClient: every call to the edge goes through it
//! sync.rs            the poll loop: snapshot in, sightings out, actions carried out; saved snapshot
//! firmware.rs        the firmware cache, filled from the edge, checked by size and SHA-256
//! phonebook.rs       phonebook sources on LAN hosts: fetched here on their schedule, sent to the edge
//! metrics.rs         the counters, in the Prometheus text format
//! ```
#![forbid(unsafe_code)]

pub mod arp;
pub mod config;
pub mod discovery;
pub mod edge;
pub mod files;
pub mod firmware;
pub mod http;
pub mod metrics;
pub mod phonebook;
pub mod provision;
pub mod sip;
pub mod starcode;
pub mod switches;
pub mod sync;
#[cfg(test)]
mod testing;
pub mod tftp;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::provision::Provisioner;

/// The sockets the relay serves on, bound by the caller (the binary, or a test on port 0).
#[derive(Debug)]
pub struct Sockets {
    /// HTTP.
    pub http: TcpListener,
    /// SIP multicast PnP (the group socket joined to 224.0.1.75, the unicast one), if enabled.
    pub pnp: Option<sip::pnp::PnpSockets>,
    /// TFTP, if the configuration turns it on for good (`[tftp] enabled = true`); otherwise
    /// [`run`] binds it while the site turns TFTP on.
    pub tftp: Option<tokio::net::UdpSocket>,
    /// The star-code registrar, if enabled.
    pub registrar: Option<tokio::net::UdpSocket>,
}

impl Sockets {
    /// Binds what `config` asks for; the error names the address.
    pub async fn bind(config: &Config) -> Result<Self, String> {
        let http = TcpListener::bind(config.http.listen)
            .await
            .map_err(|e| format!("HTTP on {}: {e}", config.http.listen))?;
        let pnp = if config.pnp.enabled {
            Some(
                sip::pnp::bind_multicast(config.pnp.interface, config.pnp.port).map_err(|e| {
                    format!(
                        "SIP PnP on {}:{}: {e}",
                        config.pnp.interface, config.pnp.port
                    )
                })?,
            )
        } else {
            None
        };
        let tftp = if config.tftp.enabled == Some(true) {
            Some(
                tokio::net::UdpSocket::bind(config.tftp.listen)
                    .await
                    .map_err(|e| format!("TFTP on {}: {e}", config.tftp.listen))?,
            )
        } else {
            None
        };
        let registrar = if config.starcode.enabled {
            Some(
                tokio::net::UdpSocket::bind(config.starcode.listen)
                    .await
                    .map_err(|e| format!("registrar on {}: {e}", config.starcode.listen))?,
            )
        } else {
            None
        };
        Ok(Self {
            http,
            pnp,
            tftp,
            registrar,
        })
    }
}

/// The inventory to start with, and the snapshot's ETag: the configured local file; with
/// an edge, the last snapshot saved (or nothing until the first sync); else the demo.
pub fn initial_site(config: &Config) -> Result<(Option<engine::Site>, String), String> {
    match (&config.inventory, &config.edge) {
        (Some(path), _) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let site =
                config::load_inventory(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((Some(site), String::new()))
        }
        (None, Some(_)) => Ok(match sync::load_saved(&config.state_dir) {
            Some((site, etag)) => (Some(site), etag),
            None => (None, String::new()),
        }),
        (None, None) => Ok((
            Some(config::load_inventory(config::DEMO_INVENTORY)?),
            String::new(),
        )),
    }
}

/// Runs the relay on `sockets` until `shutdown` completes, then stops accepting and lets
/// the transfers in flight finish.
pub async fn run(
    sockets: Sockets,
    config: Config,
    (site, etag): (Option<engine::Site>, String),
    shutdown: impl Future<Output = ()>,
) {
    let metrics = Arc::new(Metrics::default());
    let mut provisioner = Provisioner::new(
        &config.public_url(),
        config.state_dir.join("firmware"),
        Arc::clone(&metrics),
    )
    .with_arp_table(arp::ArpTable::new(&config.arp_table))
    .with_switches(switches::Switches::new(
        config.pnp.debug,
        config.tftp.enabled,
    ));
    // Star-code binding: phones register at the registrar's port on this relay's host.
    let key = match (
        &sockets.registrar,
        starcode::load_or_create_key(&config.state_dir),
    ) {
        (Some(socket), Ok(key)) => {
            let port = socket
                .local_addr()
                .map_or(config.starcode.listen.port(), |a| a.port());
            provisioner = provisioner.with_star_code(provision::StarCode {
                key: key.clone(),
                host: config.public_host(),
                port,
            });
            Some(key)
        }
        (Some(_), Err(e)) => {
            tracing::error!(error = %e, "no relay key: star-code binding is off");
            None
        }
        (None, _) => None,
    };
    let provisioner = Arc::new(provisioner);
    if let Some(site) = site {
        provisioner.set_site(site);
        metrics.inventory_taken();
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    if let Ok(addr) = sockets.http.local_addr() {
        tracing::info!(%addr, public_url = %config.public_url(), "HTTP provisioning");
    }
    let http = tokio::spawn(http::serve_with(
        sockets.http,
        Arc::clone(&provisioner),
        Arc::clone(&metrics),
        config.http.limits(),
        stopped(stop_rx.clone()),
    ));
    let tftp = Some(tokio::spawn(tftp_while_on(
        sockets.tftp,
        config.tftp.listen,
        provisioner.switches().tftp(),
        Arc::clone(&provisioner),
        Arc::clone(&metrics.tftp),
        stop_rx.clone(),
    )));
    let registrar = match (sockets.registrar, key) {
        (Some(socket), Some(key)) => {
            if let Ok(addr) = socket.local_addr() {
                tracing::info!(%addr, "star-code registrar");
            }
            // The relay's key signs the nonces too (its other use, the provisioning
            // passwords, hashes a different message).
            let mut nonce_key = [0u8; 32];
            for (d, s) in nonce_key.iter_mut().zip(&key) {
                *d = *s;
            }
            let mut rc = sip::registrar::RegistrarConfig::new("", "lan-relay", nonce_key);
            rc.debug = provisioner.switches().verbose();
            rc.arp = provisioner.arp().clone();
            let binder = Arc::new(starcode::RelayBinder::new(
                Arc::clone(&provisioner),
                config.edge.clone(),
            ));
            Some(tokio::spawn(sip::registrar::serve(
                socket,
                binder,
                rc,
                stopped(stop_rx.clone()),
            )))
        }
        _ => None,
    };
    let seen = provisioner.seen();
    let discovery = Arc::new(
        discovery::Discovery::new(
            Arc::clone(&seen),
            Arc::clone(&provisioner),
            Arc::clone(&metrics),
        )
        .with_debug(provisioner.switches().verbose()),
    );
    let pnp = sockets.pnp.map(|socket| {
        tracing::info!(interface = %config.pnp.interface, port = config.pnp.port, "SIP multicast PnP");
        let pnp_config = sip::pnp::PnpConfig {
            debug: provisioner.switches().verbose(),
            ..sip::pnp::PnpConfig::default()
        };
        tokio::spawn(sip::pnp::serve(socket, Arc::clone(&discovery), pnp_config, stopped(stop_rx.clone())))
    });
    let sync = config.edge.clone().map(|edge| {
        tokio::spawn(sync::run(
            edge,
            config.state_dir.clone(),
            etag,
            Arc::clone(&provisioner),
            Arc::clone(&seen),
            Arc::clone(&metrics),
            stopped(stop_rx.clone()),
        ))
    });
    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = http.await;
    for task in [sync, pnp, tftp, registrar].into_iter().flatten() {
        let _ = task.await;
    }
}

/// Serves TFTP while `on` says so, until `stop`: on `bound` (the socket bound at start when
/// the configuration turns TFTP on for good), else on `listen`, bound each time TFTP turns
/// on and closed when it turns off (the transfers in flight finish). Off, nothing listens:
/// a request gets the kernel's "port unreachable", and nobody learns a relay is there.
async fn tftp_while_on(
    mut bound: Option<tokio::net::UdpSocket>,
    listen: std::net::SocketAddr,
    mut on: tokio::sync::watch::Receiver<bool>,
    provisioner: Arc<Provisioner>,
    metrics: Arc<tftp::Metrics>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = on.wait_for(|on| *on) => if r.is_err() { return },
            _ = stop.wait_for(|s| *s) => return,
        }
        let socket = match bound.take() {
            Some(s) => s,
            None => match tokio::net::UdpSocket::bind(listen).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(%listen, error = %e, "TFTP cannot listen; tried again when the setting next changes");
                    tokio::select! {
                        _ = on.wait_for(|on| !*on) => continue,
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            },
        };
        if let Ok(addr) = socket.local_addr() {
            tracing::info!(%addr, "TFTP");
        }
        let off = {
            let (mut on, mut stop) = (on.clone(), stop.clone());
            async move {
                tokio::select! {
                    _ = on.wait_for(|on| !*on) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
        };
        let source = Arc::clone(&provisioner);
        let m = Arc::clone(&metrics);
        if let Err(e) = tftp::serve(socket, source, tftp::TftpConfig::default(), m, off).await {
            tracing::error!(error = %e, "TFTP stopped");
        }
        if *stop.borrow() {
            return;
        }
        tracing::info!("TFTP closed: nothing listens on its port");
    }
}
