//! A plain TFTP server over one directory, for benchmarks and manual tests:
//!
//! ```text
//! cargo run --release -p lan-relay --example tftp_root -- --root DIR --listen 127.0.0.1:6969
//! ```
//!
//! Serves the files of `--root` (plain names, checked by the engine, see
//! `lan_relay::files::DirSource`) until Ctrl-C. `RUST_LOG=debug` shows each transfer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use lan_relay::files::DirSource;
use lan_relay::tftp::{self, codec::Limits, Metrics, TftpConfig};

/// Serves a directory over TFTP.
#[derive(Parser)]
struct Args {
    /// The directory to serve.
    #[arg(long)]
    root: PathBuf,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:6969")]
    listen: SocketAddr,
    /// The largest blksize granted.
    #[arg(long, default_value_t = tftp::codec::DEFAULT_MAX_BLKSIZE)]
    max_blksize: u16,
    /// The largest windowsize granted.
    #[arg(long, default_value_t = tftp::codec::DEFAULT_MAX_WINDOWSIZE)]
    max_windowsize: u16,
    /// Retransmission timeout in milliseconds when the client sets none.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
    /// The most transfers at once.
    #[arg(long, default_value_t = 64)]
    max_transfers: usize,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let socket = tokio::net::UdpSocket::bind(args.listen).await?;
    let config = TftpConfig {
        limits: Limits {
            max_blksize: args.max_blksize,
            max_windowsize: args.max_windowsize,
        },
        timeout: Duration::from_millis(args.timeout_ms),
        max_transfers: args.max_transfers,
        ..TftpConfig::default()
    };
    let metrics = Arc::new(Metrics::default());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tftp::serve(
        socket,
        Arc::new(DirSource::new(args.root)),
        config,
        Arc::clone(&metrics),
        shutdown,
    )
    .await?;
    eprintln!("{metrics:?}");
    Ok(())
}
