//! The TFTP server: read requests only, each transfer on its own socket.
//!
//! [`serve`] reads requests from the listening socket (the caller binds it, so tests use
//! `127.0.0.1:0`). For each read request it:
//!
//! 1. takes a slot from a semaphore of [`TftpConfig::max_transfers`]; with none free the
//!    client gets ERROR 0 "server busy" from the listening socket;
//! 2. binds a new socket on the listening address's IP and an ephemeral port, and connects it
//!    to the client: the pair of ports is the transfer's TID (RFC 1350 section 4). The kernel
//!    then drops datagrams from any other address or port, so a stray packet can neither end
//!    nor steer the transfer;
//! 3. asks the [`FileSource`] for the name; any [`crate::files::Refusal`] becomes ERROR 1
//!    "File not found", whatever the reason;
//! 4. negotiates the options ([`codec::negotiate`]) and sends an OACK when any were accepted,
//!    waiting for ACK 0 (RFC 2347); otherwise it starts with DATA block 1;
//! 5. sends the file: `windowsize` blocks, then waits for the ACK of the last (RFC 7440;
//!    windowsize 1 is RFC 1350 lock-step). An ACK of an earlier block of the window restarts
//!    the window after it; an ACK of the block already acknowledged (a duplicate) is ignored,
//!    so a delayed ACK never doubles the traffic (the sorcerer's apprentice bug, RFC 1123
//!    4.2.3.1). With no ACK within the timeout (the client's `timeout` option, else
//!    [`TftpConfig::timeout`]) the window is sent again from the first unacknowledged block,
//!    at most [`TftpConfig::retries`] times in a row; then the transfer ends with ERROR 0.
//!    Block numbers wrap from 65535 to 0, as most clients expect.
//!
//! The data phase (step 4 on) runs on a thread of tokio's blocking pool with a blocking
//! socket, as tftpd-hpa and atftpd do in their forked processes: a DATA packet is one `send`,
//! and the ACK is one `recv` that the kernel completes when the datagram arrives. Through the
//! event loop, each lock-step block cost an extra `recv` that would block, an `epoll_wait`,
//! and a cross-thread wake-up (futex, eventfd) — three to four system calls more than the
//! peers, and a lock-step transfer was no faster than theirs. The open (step 3) stays async:
//! the source may render a config or fetch firmware from the edge. At most
//! [`TftpConfig::max_transfers`] threads are taken, which stays under tokio's pool (512).
//!
//! Disk files are streamed in chunks of [`CHUNK`] bytes; only the unacknowledged window and
//! one chunk are held in memory. A transfer keeps one reused buffer for the file's bytes and
//! one for the packets it sends. On Linux a window goes out with UDP GSO (`UDP_SEGMENT`): up
//! to 64 packets in one `send`, split by the kernel, which halves the server's CPU time per
//! windowed transfer; where the route cannot do it the transfer falls back to one packet per
//! `send`.
//!
//! A request from a client that already has a transfer running (same address and port: a
//! retransmitted RRQ) is ignored. Anything else that is not a read request gets an ERROR
//! (never an ERROR in answer to an ERROR). On shutdown the server stops reading requests and
//! stops the transfers in flight (phones retry): a transfer's thread looks at a shared flag
//! whenever its socket has been silent for [`CANCEL_SLICE`], so it ends within that time.

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use std::io::Read;
use std::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::codec::{self, ErrorCode, Limits, Mode, NetasciiEncoder, Packet};
use crate::files::{FileBody, FileRequest, FileSource, Transport};

/// How many bytes of a disk file are read at once.
pub const CHUNK: usize = 256 * 1024;

/// The largest datagram read (the UDP maximum).
const MAX_DATAGRAM: usize = 65536;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct TftpConfig {
    /// Caps on the negotiated `blksize` and `windowsize`.
    pub limits: Limits,
    /// The retransmission timeout when the client sends no `timeout` option.
    pub timeout: Duration,
    /// How many times in a row a packet is sent again before the transfer is given up.
    pub retries: u32,
    /// The most transfers at once; more requests get ERROR 0 "server busy".
    pub max_transfers: usize,
}

impl Default for TftpConfig {
    /// blksize up to 1468, windowsize up to 64, 2 s timeout, 5 retries, 256 transfers (at
    /// most an eighth of the descriptor limit: a transfer holds a socket and maybe a file).
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            timeout: Duration::from_secs(2),
            retries: 5,
            max_transfers: crate::http::descriptor_share(256, 8),
        }
    }
}

/// Counters for the relay to export. Relaxed atomics: each is a plain tally.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Transfers begun (the source found the file).
    pub started: AtomicU64,
    /// Transfers whose last block was acknowledged.
    pub completed: AtomicU64,
    /// Transfers that ended early (timeout, client error, socket error).
    pub failed: AtomicU64,
    /// Read requests answered "File not found".
    pub refused: AtomicU64,
    /// Read requests turned away because every transfer slot was taken.
    pub busy: AtomicU64,
    /// Datagrams on the listening socket that were not valid requests (incl. write requests).
    pub bad_requests: AtomicU64,
    /// DATA and OACK packets sent again after a timeout or a partial window.
    pub retransmits: AtomicU64,
    /// File bytes sent in DATA packets (counting retransmissions).
    pub bytes_sent: AtomicU64,
}

impl Metrics {
    fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves read requests arriving on `socket` from `source` until `shutdown` completes.
///
/// Returns once `shutdown` completes (transfers in flight are aborted). Errors reading the
/// listening socket are logged and the loop goes on; the only error returned is failing to
/// learn the socket's local address.
pub async fn serve<S: FileSource>(
    socket: UdpSocket,
    source: Arc<S>,
    config: TftpConfig,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let local_ip = socket.local_addr()?.ip();
    let slots = Arc::new(Semaphore::new(config.max_transfers));
    // Peers with a transfer running. A std Mutex: nothing awaits while holding it.
    let active: Arc<Mutex<HashSet<SocketAddr>>> = Arc::default();
    let config = Arc::new(config);
    let mut tasks = JoinSet::new();
    // Set on shutdown: the transfers' threads see it within `CANCEL_SLICE` and stop.
    let cancel = Arc::new(AtomicBool::new(false));
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut reply = Vec::with_capacity(128);
    tokio::pin!(shutdown);
    loop {
        let (n, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    warn!(error = %e, "tftp: reading the listening socket failed");
                    continue;
                }
            },
        };
        let datagram = buf.get(..n).unwrap_or_default();
        reply.clear();
        match codec::parse(datagram) {
            Ok(Packet::Rrq(req)) => {
                if req.mode == Mode::Mail {
                    Metrics::inc(&metrics.bad_requests);
                    codec::encode_error(
                        ErrorCode::IllegalOperation,
                        "mail mode is not supported",
                        &mut reply,
                    );
                } else if !lock(&active).insert(peer) {
                    debug!(peer = %engine::Pii(peer), "tftp: repeated request ignored");
                } else if let Ok(permit) = Arc::clone(&slots).try_acquire_owned() {
                    let t = Transfer {
                        peer,
                        local_ip,
                        filename: req.filename.to_owned(),
                        mode: req.mode,
                        options: req
                            .options
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                            .collect(),
                        config: Arc::clone(&config),
                        metrics: Arc::clone(&metrics),
                        cancel: Arc::clone(&cancel),
                        _guard: ActiveGuard {
                            active: Arc::clone(&active),
                            peer,
                            _permit: permit,
                        },
                    };
                    tasks.spawn(t.run(Arc::clone(&source)));
                } else {
                    lock(&active).remove(&peer);
                    Metrics::inc(&metrics.busy);
                    info!(peer = %engine::Pii(peer), "tftp: all transfer slots busy");
                    codec::encode_error(
                        ErrorCode::NotDefined,
                        "server busy, try again later",
                        &mut reply,
                    );
                }
            }
            Ok(Packet::Wrq(_)) => {
                Metrics::inc(&metrics.bad_requests);
                codec::encode_error(
                    ErrorCode::AccessViolation,
                    "write requests are refused",
                    &mut reply,
                );
            }
            Ok(Packet::Error { .. }) => Metrics::inc(&metrics.bad_requests),
            Ok(Packet::Data { .. } | Packet::Ack { .. } | Packet::Oack { .. }) => {
                Metrics::inc(&metrics.bad_requests);
                codec::encode_error(ErrorCode::UnknownTid, "unknown transfer ID", &mut reply);
            }
            Err(e) => {
                Metrics::inc(&metrics.bad_requests);
                debug!(peer = %engine::Pii(peer), error = %e, "tftp: malformed request");
                // Never answer what may be an error packet: two servers could ping-pong.
                if codec::opcode(datagram) != Some(5) {
                    codec::encode_error(ErrorCode::IllegalOperation, &e.to_string(), &mut reply);
                }
            }
        }
        if !reply.is_empty() {
            if let Err(e) = socket.send_to(&reply, peer).await {
                debug!(error = %e, "tftp: sending an error failed");
            }
        }
    }
    cancel.store(true, Ordering::Relaxed);
    tasks.abort_all();
    Ok(())
}

fn lock(m: &Mutex<HashSet<SocketAddr>>) -> std::sync::MutexGuard<'_, HashSet<SocketAddr>> {
    // A poisoned set is still a valid set: nothing panics while holding it anyway.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Frees the transfer slot and the peer's entry when a transfer ends, however it ends.
struct ActiveGuard {
    active: Arc<Mutex<HashSet<SocketAddr>>>,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        lock(&self.active).remove(&self.peer);
    }
}

/// Why a transfer ended early.
#[derive(Debug)]
enum TransferError {
    Io(io::Error),
    TimedOut,
    Peer(ErrorCode, String),
    /// The server is shutting down.
    Cancelled,
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "socket or file error: {e}"),
            Self::TimedOut => f.write_str("no answer from the client after the retries"),
            Self::Peer(code, msg) => write!(f, "client sent error {}: {msg:?}", code.code()),
            Self::Cancelled => f.write_str("the server is shutting down"),
        }
    }
}

impl From<io::Error> for TransferError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

struct Transfer {
    peer: SocketAddr,
    local_ip: IpAddr,
    filename: String,
    mode: Mode,
    options: Vec<(String, String)>,
    config: Arc<TftpConfig>,
    metrics: Arc<Metrics>,
    cancel: Arc<AtomicBool>,
    _guard: ActiveGuard,
}

impl Transfer {
    /// Opens the file (async: the source may render or fetch), then sends it from a thread
    /// of the blocking pool.
    async fn run<S: FileSource>(self, source: Arc<S>) {
        let peer = engine::Pii(self.peer);
        let sock = match self.connect() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "tftp: cannot open a transfer socket");
                return;
            }
        };
        let request = FileRequest {
            path: self.filename.clone(),
            user_agent: None,
            peer: self.peer,
            transport: Transport::Tftp,
        };
        let served = match source.open(request).await {
            Ok(s) => s,
            Err(refusal) => {
                Metrics::inc(&self.metrics.refused);
                info!(%peer, file = %self.filename, ?refusal, "tftp: refused");
                let mut b = Vec::with_capacity(32);
                codec::encode_error(ErrorCode::FileNotFound, "File not found", &mut b);
                let _ = sock.send(&b);
                return;
            }
        };
        Metrics::inc(&self.metrics.started);
        let size = match (&served.body, self.mode) {
            (body, Mode::Octet) => Some(body.len()),
            (FileBody::Memory(b), _) => Some(NetasciiEncoder::encoded_len(b)),
            // Unknown without reading the file twice; tsize is then left out.
            (FileBody::Disk { .. }, _) => None,
        };
        let options: Vec<(&str, &str)> = self
            .options
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let n = codec::negotiate(&options, self.config.limits, size);
        let timeout = n
            .timeout
            .map_or(self.config.timeout, |s| Duration::from_secs(s.into()));
        debug!(%peer, file = %self.filename, blksize = n.blksize, windowsize = n.windowsize, "tftp: transfer");
        let body = Body::new(served.body, self.mode == Mode::Netascii).await;
        let blocking = tokio::task::spawn_blocking(move || {
            let mut session = Session::new(sock, timeout, &self, &n);
            let result = session.send_file(&n, body);
            self.finish(&mut session, result);
        });
        if let Err(e) = blocking.await {
            warn!(error = %e, "tftp: the transfer's thread failed");
        }
    }

    /// Counts and logs how the transfer ended; tells a client that went silent.
    fn finish(&self, session: &mut Session<'_>, result: Result<u64, TransferError>) {
        let peer = engine::Pii(self.peer);
        match result {
            Ok(bytes) => {
                Metrics::inc(&self.metrics.completed);
                info!(%peer, file = %self.filename, bytes, "tftp: sent");
            }
            Err(TransferError::Cancelled) => {
                Metrics::inc(&self.metrics.failed);
                debug!(%peer, file = %self.filename, "tftp: transfer stopped by shutdown");
            }
            Err(e) => {
                Metrics::inc(&self.metrics.failed);
                info!(%peer, file = %self.filename, error = %e, "tftp: transfer failed");
                if matches!(e, TransferError::TimedOut) {
                    session.pkt.clear();
                    codec::encode_error(ErrorCode::NotDefined, "timed out", &mut session.pkt);
                    let _ = session.sock.send(&session.pkt);
                }
            }
        }
    }

    /// A blocking socket on an ephemeral port of the listening address, connected to the
    /// client (the transfer's TID).
    fn connect(&self) -> io::Result<std::net::UdpSocket> {
        let sock = std::net::UdpSocket::bind(SocketAddr::new(self.local_ip, 0))?;
        sock.connect(self.peer)?;
        Ok(sock)
    }
}

/// The file's bytes on the wire, produced chunk by chunk into a buffer that holds the
/// unacknowledged blocks: `buf[head..]` starts at the first unacknowledged block.
struct Body {
    source: Source,
    netascii: Option<(NetasciiEncoder, Vec<u8>)>,
    buf: Vec<u8>,
    head: usize,
    eof: bool,
}

enum Source {
    Memory(Bytes),
    Disk { file: std::fs::File, remaining: u64 },
}

impl Body {
    async fn new(body: FileBody, netascii: bool) -> Self {
        let source = match body {
            FileBody::Memory(b) => Source::Memory(b),
            FileBody::Disk { file, len } => Source::Disk {
                file: file.into_std().await,
                remaining: len,
            },
        };
        Self {
            source,
            netascii: netascii.then(|| (NetasciiEncoder::new(), Vec::new())),
            buf: Vec::new(),
            head: 0,
            eof: false,
        }
    }

    /// Bytes available from the first unacknowledged block on.
    fn available(&self) -> usize {
        self.buf.len().saturating_sub(self.head)
    }

    /// Makes at least `want` bytes available, or all that is left.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        if self.available() >= want || self.eof {
            return Ok(());
        }
        if self.head > 0 {
            self.buf.drain(..self.head.min(self.buf.len()));
            self.head = 0;
        }
        while self.buf.len() < want && !self.eof {
            let chunk = CHUNK.max(want - self.buf.len());
            match &mut self.netascii {
                None => {
                    let old = self.buf.len();
                    self.buf.resize(old + chunk, 0);
                    let dst = self.buf.get_mut(old..).unwrap_or_default();
                    let n = read_source(&mut self.source, dst);
                    self.buf.truncate(old + n.as_ref().map_or(0, |n| *n));
                    if n? == 0 {
                        self.eof = true;
                    }
                }
                Some((enc, raw)) => {
                    raw.resize(chunk, 0);
                    let n = read_source(&mut self.source, raw)?;
                    enc.encode(raw.get(..n).unwrap_or_default(), &mut self.buf);
                    if n == 0 {
                        self.eof = true;
                    }
                }
            }
        }
        Ok(())
    }

    /// Drops `blocks` acknowledged blocks of `bs` bytes.
    fn consume(&mut self, blocks: u64, bs: usize) {
        let bytes = usize::try_from(blocks)
            .unwrap_or(usize::MAX)
            .saturating_mul(bs);
        self.head = self.head.saturating_add(bytes).min(self.buf.len());
    }

    /// The bytes of the `i`-th unacknowledged block (0-based).
    fn block(&self, i: u64, bs: usize) -> &[u8] {
        let start = usize::try_from(i)
            .unwrap_or(usize::MAX)
            .saturating_mul(bs)
            .saturating_add(self.head);
        let end = start.saturating_add(bs).min(self.buf.len());
        self.buf.get(start..end).unwrap_or_default()
    }

    /// How many blocks are left from the first unacknowledged one, once the end is known.
    fn blocks_left(&self, bs: usize) -> Option<u64> {
        // A length that is a multiple of the block size ends with an empty block.
        self.eof.then(|| (self.available() / bs.max(1)) as u64 + 1)
    }
}

fn read_source(source: &mut Source, dst: &mut [u8]) -> io::Result<usize> {
    match source {
        Source::Memory(b) => {
            let n = dst.len().min(b.len());
            let src = b.split_to(n);
            if let Some(d) = dst.get_mut(..n) {
                d.copy_from_slice(&src);
            }
            Ok(n)
        }
        Source::Disk { file, remaining } => {
            let cap = usize::try_from(*remaining)
                .unwrap_or(usize::MAX)
                .min(dst.len());
            let Some(dst) = dst.get_mut(..cap) else {
                return Ok(0);
            };
            let mut filled = 0;
            // Fill the whole chunk: a read may return less.
            while filled < dst.len() {
                let n = file.read(dst.get_mut(filled..).unwrap_or_default())?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            *remaining -= filled as u64;
            Ok(filled)
        }
    }
}

/// The data phase of one transfer, on its own thread with a blocking socket: a packet sent
/// is one `send`, an ACK awaited is one `recv` that the kernel wakes when it arrives (no
/// event loop between the client's ACK and the next DATA).
struct Session<'a> {
    sock: std::net::UdpSocket,
    timeout: Duration,
    /// The socket's read timeout: how often a silent wait looks at `cancel`.
    slice: Duration,
    retries: u32,
    metrics: &'a Metrics,
    cancel: &'a AtomicBool,
    rbuf: Vec<u8>,
    pkt: Vec<u8>,
    /// Segments per send with UDP GSO (Linux `UDP_SEGMENT`); 1 without.
    gso_segments: usize,
}

/// What the client answered while we waited.
enum Answer {
    Ack(u16),
    TimedOut,
}

/// The longest a transfer's blocking wait goes without looking at the shutdown flag.
pub const CANCEL_SLICE: Duration = Duration::from_millis(100);

impl<'a> Session<'a> {
    fn new(
        sock: std::net::UdpSocket,
        timeout: Duration,
        t: &'a Transfer,
        n: &codec::Negotiated,
    ) -> Self {
        let slice = CANCEL_SLICE.min(timeout).max(Duration::from_millis(1));
        Self {
            sock,
            timeout,
            slice,
            retries: t.config.retries,
            metrics: &t.metrics,
            cancel: &t.cancel,
            rbuf: vec![0u8; MAX_DATAGRAM],
            pkt: Vec::with_capacity(
                (usize::from(n.blksize) + 4) * usize::from(n.windowsize.min(gso::MAX_SEGMENTS)),
            ),
            gso_segments: 1,
        }
    }

    /// Sends the OACK if any, then the file; the number of file bytes sent once.
    fn send_file(&mut self, n: &codec::Negotiated, mut body: Body) -> Result<u64, TransferError> {
        self.sock.set_read_timeout(Some(self.slice))?;
        if !n.oack.is_empty() {
            self.pkt.clear();
            codec::encode_oack(&n.oack, &mut self.pkt);
            let mut tries = 0;
            loop {
                self.sock.send(&self.pkt)?;
                match self.wait(Instant::now() + self.timeout)? {
                    Answer::Ack(0) => break,
                    Answer::Ack(_) => continue,
                    Answer::TimedOut => {
                        tries += 1;
                        if tries > self.retries {
                            return Err(TransferError::TimedOut);
                        }
                        Metrics::inc(&self.metrics.retransmits);
                    }
                }
            }
        }
        let bs = usize::from(n.blksize);
        let window = u64::from(n.windowsize);
        if n.windowsize > 1 {
            self.gso_segments = gso::enable(&self.sock, bs + 4);
        }
        let want = bs.saturating_mul(usize::from(n.windowsize));
        // Blocks are counted from 1 in a u64; the wire number is its low 16 bits.
        let mut acked: u64 = 0;
        let mut sent_bytes: u64 = 0;
        let mut tries = 0;
        let mut resend = false;
        loop {
            body.fill(want)?;
            let left = body.blocks_left(bs);
            let count = left.map_or(window, |l| l.min(window));
            self.send_window(&body, acked, count, bs)?;
            if resend {
                self.metrics.retransmits.fetch_add(count, Ordering::Relaxed);
            }
            let deadline = Instant::now() + self.timeout;
            loop {
                match self.wait(deadline)? {
                    Answer::TimedOut => {
                        tries += 1;
                        if tries > self.retries {
                            return Err(TransferError::TimedOut);
                        }
                        resend = true;
                        break;
                    }
                    Answer::Ack(block) => {
                        let k = u64::from(block.wrapping_sub(acked as u16));
                        // 0: a duplicate of what was already acknowledged; past the window:
                        // a stale ACK from before a wrap. Neither moves anything.
                        if k == 0 || k > count {
                            continue;
                        }
                        for i in 0..k {
                            sent_bytes += body.block(i, bs).len() as u64;
                        }
                        acked += k;
                        tries = 0;
                        if left == Some(k) {
                            return Ok(sent_bytes);
                        }
                        body.consume(k, bs);
                        // Fewer than the whole window: the rest is sent again from there.
                        resend = k < count;
                        break;
                    }
                }
            }
        }
    }

    /// Sends `count` blocks from the first unacknowledged one (block `acked + 1`): with GSO
    /// as few datagrams of up to `gso_segments` packets each, which the kernel splits (one
    /// system call and one trip through the stack per batch instead of per packet).
    fn send_window(&mut self, body: &Body, acked: u64, count: u64, bs: usize) -> io::Result<()> {
        let mut i = 0;
        while i < count {
            let batch = (count - i).min(self.gso_segments as u64);
            self.pkt.clear();
            let mut bytes = 0;
            for j in i..i + batch {
                let data = body.block(j, bs);
                self.pkt
                    .extend_from_slice(&codec::data_header((acked + j + 1) as u16));
                self.pkt.extend_from_slice(data);
                bytes += data.len() as u64;
            }
            match self.sock.send(&self.pkt) {
                Ok(_) => {}
                // The route's device cannot offload (EIO) or the kernel refuses the batch:
                // fall back to one packet per send for the rest of the transfer.
                Err(e) if batch > 1 => {
                    debug!(error = %e, "tftp: GSO send failed, sending packets one by one");
                    self.gso_segments = 1;
                    continue;
                }
                Err(e) => return Err(e),
            }
            self.metrics.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
            i += batch;
        }
        Ok(())
    }

    /// Waits for an ACK until `deadline`. Other packets from the client are ignored, except
    /// ERROR, which ends the transfer. The socket's read timeout is `slice`, so a silent
    /// client costs one wake-up per slice, each of which looks at the cancel flag.
    fn wait(&mut self, deadline: Instant) -> Result<Answer, TransferError> {
        let mut shortened = false;
        let answer = loop {
            let n = match self.sock.recv(&mut self.rbuf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.cancel.load(Ordering::Relaxed) {
                        return Err(TransferError::Cancelled);
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        break Answer::TimedOut;
                    }
                    let rest = deadline - now;
                    if rest < self.slice {
                        self.sock.set_read_timeout(Some(rest))?;
                        shortened = true;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match codec::parse(self.rbuf.get(..n).unwrap_or_default()) {
                Ok(Packet::Ack { block }) => break Answer::Ack(block),
                Ok(Packet::Error { code, message }) => {
                    return Err(TransferError::Peer(code, message));
                }
                _ => {}
            }
        };
        if shortened {
            self.sock.set_read_timeout(Some(self.slice))?;
        }
        Ok(answer)
    }
}

/// UDP generic segmentation offload: one `send` of several equal-size packets (the last may be
/// shorter) that the kernel splits into datagrams (Linux 4.18+, `UDP_SEGMENT`).
mod gso {
    /// The most segments per send (the kernel's `UDP_MAX_SEGMENTS` since 4.18).
    pub(super) const MAX_SEGMENTS: u16 = 64;
    /// A UDP payload's maximum with an IPv6 header (the stricter of v4 and v6).
    const MAX_PAYLOAD: usize = 65_527 - 40;

    /// Sets the segment size on `sock`; the segments per send, or 1 without GSO.
    #[cfg(target_os = "linux")]
    pub(super) fn enable(sock: &std::net::UdpSocket, packet: usize) -> usize {
        let segments = (MAX_PAYLOAD / packet.max(1)).min(usize::from(MAX_SEGMENTS));
        let Ok(size) = i32::try_from(packet) else {
            return 1;
        };
        if segments < 2 {
            return 1;
        }
        match nix::sys::socket::setsockopt(sock, nix::sys::socket::sockopt::UdpGsoSegment, &size) {
            Ok(()) => segments,
            Err(_) => 1,
        }
    }

    /// No GSO off Linux.
    #[cfg(not(target_os = "linux"))]
    pub(super) fn enable(_sock: &std::net::UdpSocket, _packet: usize) -> usize {
        1
    }
}
