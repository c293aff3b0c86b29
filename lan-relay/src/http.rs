//! HTTP on the LAN (port 8480 by default): the same files as TFTP, for phones that
//! provision over HTTP, plus `GET /healthz` and `GET /metrics` (Prometheus).
//!
//! Only `GET` and `HEAD`. Every refusal is the same `404 Not Found` with the same body, as
//! on the edge. Firmware honours one `Range` (the engine's rule). Request heads are limited
//! by hyper (and bodies are never read).
//!
//! Any host on the LAN can open connections and send nothing, so what a connection may hold
//! is bounded ([`Limits`]): the request head must arrive within
//! [`Limits::header_read_timeout`]; a connection that moves no byte for
//! [`Limits::idle_timeout`] is closed (idle, not total: a firmware download may take
//! minutes); at most [`Limits::max_connections`] are open (also at most a quarter of the
//! process's descriptor limit, so TFTP and the rest keep theirs), and at most
//! [`Limits::max_per_address`] per client address. A new connection past either cap
//! closes the connection that has been silent longest among those not sending a response
//! (half-sent requests, idle keep-alives): the newcomer is served, the stalled one goes. If
//! every connection is sending a response, the server waits for one to end (it never
//! spins). Failed accepts (out of descriptors) back off, up to a second, and are logged
//! once per burst.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{
    HeaderValue, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
    USER_AGENT,
};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use crate::files::{FileBody, FileRequest, FileSource, Transport};
use crate::metrics::Metrics;

type Body = BoxBody<Bytes, std::io::Error>;

/// The body every refusal gets.
pub const NOT_FOUND_BODY: &str = "Not Found\n";

/// What one connection may hold (config `[http]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole request head must arrive within this.
    pub header_read_timeout: Duration,
    /// A connection that moves no byte in or out for this long is closed.
    pub idle_timeout: Duration,
    /// The most connections open at once (further capped by [`descriptor_share`]).
    pub max_connections: usize,
    /// The most connections open at once from one client address.
    pub max_per_address: usize,
}

impl Default for Limits {
    /// 10 s for a request head, 60 s idle, 256 connections, 16 per address.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
            max_per_address: 16,
        }
    }
}

/// `n` capped at `1/divisor` of the process's open-file limit (the soft `RLIMIT_NOFILE`),
/// at least 1: how the HTTP and TFTP servers share descriptors, so neither can take what
/// the other (and the registrar, the edge sync, ARP reads) needs.
pub fn descriptor_share(n: usize, divisor: u64) -> usize {
    #[cfg(target_os = "linux")]
    if let Ok((soft, _)) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    {
        let share = usize::try_from(soft / divisor.max(1)).unwrap_or(usize::MAX);
        return n.min(share).max(1);
    }
    n.max(1)
}

/// Serves HTTP on `listener` with the default [`Limits`] until `shutdown` completes.
pub async fn serve<S: FileSource>(
    listener: TcpListener,
    source: Arc<S>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, source, metrics, Limits::default(), shutdown).await;
}

/// Serves HTTP on `listener` until `shutdown` completes; connections in flight are finished.
pub async fn serve_with<S: FileSource>(
    listener: TcpListener,
    source: Arc<S>,
    metrics: Arc<Metrics>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let max = descriptor_share(limits.max_connections, 4);
    let slots = Arc::new(Semaphore::new(max));
    let conns = Arc::new(Registry::default());
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut failures = 0u32;
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors (EMFILE, ENFILE) the pending connection stays queued
                // and every accept fails at once: wait instead of spinning.
                metrics.http.accept_errors.fetch_add(1, Ordering::Relaxed);
                if failures == 0 {
                    tracing::warn!(error = %e, "HTTP accept failed: backing off");
                }
                failures = failures.saturating_add(1);
                let pause =
                    Duration::from_millis(10u64 << failures.min(7)).min(Duration::from_secs(1));
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        };
        if failures > 0 {
            tracing::info!(failures, "HTTP accepting again");
            failures = 0;
        }
        // One address past its share: its own stalest connection makes room, else the
        // newcomer is closed.
        if conns.open_from(peer.ip()) >= limits.max_per_address.max(1) {
            if conns.evict_stalest(Some(peer.ip())) {
                metrics.http.evicted.fetch_add(1, Ordering::Relaxed);
            } else {
                metrics.http.refused.fetch_add(1, Ordering::Relaxed);
                drop(stream);
                continue;
            }
        }
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if conns.evict_stalest(None) {
                    metrics.http.evicted.fetch_add(1, Ordering::Relaxed);
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    p = Arc::clone(&slots).acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let (id, conn) = conns.add(peer.ip());
        let io = TokioIo::new(Tracked {
            inner: stream,
            conn: Arc::clone(&conn),
        });
        let source = Arc::clone(&source);
        let m = Arc::clone(&metrics);
        let c = Arc::clone(&conn);
        let service = service_fn(move |req| {
            let source = Arc::clone(&source);
            let metrics = Arc::clone(&m);
            let busy = Busy::new(Arc::clone(&c));
            async move {
                let resp = handle(req, peer, &*source, &metrics).await;
                // Busy until hyper drops the body: it has been sent, or the connection ended.
                Ok::<_, Infallible>(resp.map(|inner| BusyBody { inner, _busy: busy }.boxed()))
            }
        });
        let served = graceful.watch(builder.serve_connection(io, service));
        let (conns, metrics, idle) = (
            Arc::clone(&conns),
            Arc::clone(&metrics),
            limits.idle_timeout,
        );
        metrics.http.open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            tokio::select! {
                r = served => if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                },
                () = conn.evict.notified() => tracing::debug!(peer = %engine::Pii(peer), "connection closed for a newer one"),
                () = conn.idle(idle) => {
                    metrics.http.idle_closed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(peer = %engine::Pii(peer), "idle connection closed");
                }
            }
            conns.remove(id);
            metrics.http.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    graceful.shutdown().await;
}

/// One open connection, as the accept loop sees it.
#[derive(Debug)]
struct Conn {
    peer: IpAddr,
    /// When the connection last moved a byte, in milliseconds after `epoch`.
    last: AtomicU64,
    epoch: Instant,
    /// Responses being sent.
    busy: AtomicUsize,
    /// Set when chosen to make room, so it is not chosen (or counted) twice.
    evicted: AtomicBool,
    evict: Notify,
}

impl Conn {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    /// Completes once the connection has moved no byte for `idle`.
    async fn idle(&self, idle: Duration) {
        loop {
            let last = self.last.load(Ordering::Relaxed);
            tokio::time::sleep_until(self.epoch + Duration::from_millis(last) + idle).await;
            if self.last.load(Ordering::Relaxed) == last {
                return;
            }
        }
    }
}

/// The open connections.
#[derive(Debug, Default)]
struct Registry {
    conns: Mutex<(u64, HashMap<u64, Arc<Conn>>)>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<u64, Arc<Conn>>)> {
        match self.conns.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn add(&self, peer: IpAddr) -> (u64, Arc<Conn>) {
        let conn = Arc::new(Conn {
            peer,
            last: AtomicU64::new(0),
            epoch: Instant::now(),
            busy: AtomicUsize::new(0),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        let mut g = self.lock();
        g.0 = g.0.wrapping_add(1);
        let id = g.0;
        g.1.insert(id, Arc::clone(&conn));
        (id, conn)
    }

    fn remove(&self, id: u64) {
        self.lock().1.remove(&id);
    }

    fn open_from(&self, ip: IpAddr) -> usize {
        self.lock()
            .1
            .values()
            .filter(|c| c.peer == ip && !c.evicted.load(Ordering::Relaxed))
            .count()
    }

    /// Closes the connection (from `ip`, if given) silent longest among those not sending
    /// a response; `false` if there is none.
    fn evict_stalest(&self, ip: Option<IpAddr>) -> bool {
        let g = self.lock();
        let stalest = g
            .1
            .values()
            .filter(|c| ip.is_none_or(|ip| c.peer == ip))
            .filter(|c| !c.evicted.load(Ordering::Relaxed) && c.busy.load(Ordering::Relaxed) == 0)
            .min_by_key(|c| c.epoch + Duration::from_millis(c.last.load(Ordering::Relaxed)));
        let Some(c) = stalest else {
            return false;
        };
        c.evicted.store(true, Ordering::Relaxed);
        c.evict.notify_one();
        true
    }
}

/// Marks a connection busy while it exists (a response being sent).
struct Busy(Arc<Conn>);

impl Busy {
    fn new(conn: Arc<Conn>) -> Self {
        conn.busy.fetch_add(1, Ordering::Relaxed);
        Self(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its connection busy until hyper drops it; its length is
/// the inner body's (so `Content-Length` is still sent, never chunked).
struct BusyBody {
    inner: Body,
    _busy: Busy,
}

impl hyper::body::Body for BusyBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP stream that records when it last moved a byte.
struct Tracked {
    inner: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.conn.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.conn.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(full(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn full(b: Bytes) -> Body {
    Full::new(b).map_err(|never| match never {}).boxed()
}

/// Answers one request.
pub async fn handle<S: FileSource>(
    req: Request<Incoming>,
    peer: SocketAddr,
    source: &S,
    metrics: &Metrics,
) -> Response<Body> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
        r.headers_mut()
            .insert("allow", HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let path = req.uri().path();
    match path {
        "/healthz" => return text(StatusCode::OK, "ok\n"),
        "/metrics" => {
            let mut r = Response::new(full(Bytes::from(metrics.render())));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            return r;
        }
        _ => {}
    }
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let range = req
        .headers()
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let served = source
        .open(FileRequest {
            path: path.to_owned(),
            user_agent,
            peer,
            transport: Transport::Http,
        })
        .await;
    let Ok(served) = served else {
        return text(StatusCode::NOT_FOUND, NOT_FOUND_BODY);
    };
    let len = served.body.len();
    let mut status = StatusCode::OK;
    let mut resp_headers = Vec::new();
    let body = match served.body {
        FileBody::Memory(b) => full(if head { Bytes::new() } else { b }),
        FileBody::Disk { mut file, len } => {
            resp_headers.push((ACCEPT_RANGES, HeaderValue::from_static("bytes")));
            let answer = engine::answer_range(range.as_deref(), len);
            if let Some(cr) = answer
                .content_range(len)
                .and_then(|v| HeaderValue::from_str(&v).ok())
            {
                resp_headers.push((CONTENT_RANGE, cr));
            }
            let (start, count) = match answer {
                engine::RangeAnswer::Full => (0, len),
                engine::RangeAnswer::Partial { start, end } => {
                    status = StatusCode::PARTIAL_CONTENT;
                    (start, end - start + 1)
                }
                engine::RangeAnswer::Unsatisfiable => {
                    let mut r = text(StatusCode::RANGE_NOT_SATISFIABLE, "Range Not Satisfiable\n");
                    r.headers_mut().extend(resp_headers);
                    return r;
                }
            };
            resp_headers.push((CONTENT_LENGTH, HeaderValue::from(count)));
            if head {
                full(Bytes::new())
            } else {
                if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
                    return text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n");
                }
                // Streamed in 64 KiB reads: an 80 MB image never sits in memory.
                let stream =
                    tokio_util::io::ReaderStream::with_capacity(file.take(count), 64 * 1024)
                        .map(|chunk| chunk.map(Frame::data));
                BodyExt::boxed(StreamBody::new(stream))
            }
        }
    };
    if head {
        resp_headers.push((CONTENT_LENGTH, HeaderValue::from(len)));
    }
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(served.content_type));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().extend(resp_headers);
    r
}
