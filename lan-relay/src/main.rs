//! `lan-relay`: the on-site provisioning daemon (see the library's docs). This binary only
//! reads the command line and the configuration, binds the sockets and calls
//! [`lan_relay::run`]; `lan-relay template ...` checks, renders and diffs templates
//! (`check.rs`).

mod check;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Provisions the office's phones over the LAN: SIP multicast PnP, TFTP and HTTP, from the
/// edge's inventory (synced) or a local inventory file.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The configuration file (TOML; every key optional).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// A local inventory file (TOML) instead of the configured one or the built-in demo.
    #[arg(long)]
    inventory: Option<PathBuf>,
    /// HTTP listen address (default 0.0.0.0:8480).
    #[arg(long)]
    http_listen: Option<SocketAddr>,
    /// The URL phones reach this relay at.
    #[arg(long)]
    public_url: Option<String>,
    /// TFTP listen address (default 0.0.0.0:69).
    #[arg(long)]
    tftp_listen: Option<SocketAddr>,
    /// Never serve TFTP, whatever the site says (by default TFTP is off unless the site's
    /// `tftp_enabled` or the configuration's `[tftp] enabled` turns it on).
    #[arg(long)]
    no_tftp: bool,
    /// Do not answer SIP multicast PnP.
    #[arg(long)]
    no_pnp: bool,
    /// The state directory (snapshot, firmware cache).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Check the configuration and the inventory, then exit (warning of HTTP and TFTP
    /// listening beyond the LAN).
    #[arg(long)]
    check: bool,
    /// Send one re-provision NOTIFY (`Event: check-sync`) to the phone at this address
    /// (`IP` or `IP:PORT`, port 5060 by default), print its answer, and exit.
    #[arg(long, value_name = "ADDR", requires = "vendor")]
    notify: Option<String>,
    /// The vendor of the phone `--notify` addresses (yealink, snom, fanvil, grandstream, htek).
    #[arg(long)]
    vendor: Option<String>,
    /// With `--notify`: the reboot variant.
    #[arg(long, requires = "notify")]
    reboot: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, render or diff templates and Additional Parameters (the web page's checks).
    #[command(subcommand)]
    Template(check::TemplateCmd),
}

/// The tokio runtime (one for every mode that needs one).
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("lan-relay: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

/// `--notify`: one check-sync NOTIFY, its outcome on stdout.
fn notify(addr: &str, vendor: &str, reboot: bool) -> ExitCode {
    let phone: SocketAddr = match addr.parse().or_else(|_| {
        addr.parse::<std::net::IpAddr>()
            .map(|ip| SocketAddr::new(ip, 5060))
    }) {
        Ok(a) => a,
        Err(_) => {
            eprintln!("lan-relay: --notify {addr}: not an IP address or IP:PORT");
            return ExitCode::from(2);
        }
    };
    let vendor: engine::Vendor = match vendor.parse() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("lan-relay: --vendor {vendor}: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let socket = match tokio::net::UdpSocket::bind("0.0.0.0:0").await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("lan-relay: {e}");
                return ExitCode::FAILURE;
            }
        };
        let opts = lan_relay::sip::notify::CheckSyncOptions {
            user: None,
            advertise: None,
            timers: lan_relay::sip::Timers::RFC3261,
        };
        match lan_relay::sip::notify::send_check_sync(&socket, phone, vendor, reboot, &opts).await {
            Ok(lan_relay::sip::notify::Outcome::Accepted(code)) => {
                println!("{phone}: accepted ({code})");
                ExitCode::SUCCESS
            }
            Ok(other) => {
                println!("{phone}: {other:?}");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("lan-relay: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // Colours only on a terminal: the journal and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    if let Some(Command::Template(cmd)) = cli.command {
        return check::run(cmd);
    }
    if let (Some(addr), Some(vendor)) = (&cli.notify, &cli.vendor) {
        return notify(addr, vendor, cli.reboot);
    }
    let mut config = match &cli.config {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| lan_relay::config::Config::from_toml(&t))
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("lan-relay: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => lan_relay::config::Config::default(),
    };
    if let Some(i) = cli.inventory {
        config.inventory = Some(i);
    }
    if let Some(a) = cli.http_listen {
        config.http.listen = a;
    }
    if let Some(u) = cli.public_url {
        config.http.public_url = Some(u);
    }
    if let Some(a) = cli.tftp_listen {
        config.tftp.listen = a;
    }
    if cli.no_tftp {
        config.tftp.enabled = Some(false);
    }
    if cli.no_pnp {
        config.pnp.enabled = false;
    }
    if let Some(d) = cli.state_dir {
        config.state_dir = d;
    }
    let site = match lan_relay::initial_site(&config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lan-relay: {e}");
            return ExitCode::from(2);
        }
    };
    let exposure = config.exposure(&lan_relay::config::host_addresses());
    if cli.check {
        println!(
            "TFTP: {}",
            match config.tftp.enabled {
                Some(true) => "on ([tftp] enabled = true)",
                Some(false) => "off ([tftp] enabled = false)",
                None => "off unless the site turns it on (tftp_enabled)",
            }
        );
        for w in &exposure {
            eprintln!("lan-relay: warning: {w}");
        }
        match &site.0 {
            Some(s) => println!(
                "configuration and inventory are valid ({} phones)",
                s.inventory().phones.len()
            ),
            None => println!("configuration is valid; no inventory until the first sync"),
        }
        return ExitCode::SUCCESS;
    }
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    for w in &exposure {
        tracing::warn!("{w}");
    }
    runtime.block_on(async move {
        let sockets = match lan_relay::Sockets::bind(&config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("lan-relay: {e}");
                return ExitCode::FAILURE;
            }
        };
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return shutdown.await,
                };
            tokio::select! {
                () = shutdown => {}
                _ = term.recv() => {}
            }
        };
        lan_relay::run(sockets, config, site, shutdown).await;
        ExitCode::SUCCESS
    })
}
