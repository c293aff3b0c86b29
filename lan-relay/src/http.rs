//! HTTP on the LAN (port 8480 by default): the same files as TFTP, for phones that
//! provision over HTTP, plus `GET /healthz` and `GET /metrics` (Prometheus).
//!
//! Only `GET` and `HEAD`. Every refusal is the same `404 Not Found` with the same body, as
//! on the edge. Firmware honours one `Range` (the engine's rule). Request heads are limited
//! by hyper (and bodies are never read).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

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
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::net::TcpListener;

use crate::files::{FileBody, FileRequest, FileSource, Transport};
use crate::metrics::Metrics;

type Body = BoxBody<Bytes, std::io::Error>;

/// The body every refusal gets.
pub const NOT_FOUND_BODY: &str = "Not Found\n";

/// Serves HTTP on `listener` until `shutdown` completes; connections in flight are finished.
pub async fn serve<S: FileSource>(
    listener: TcpListener,
    source: Arc<S>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let source = Arc::clone(&source);
                let metrics = Arc::clone(&metrics);
                let service = service_fn(move |req| {
                    let source = Arc::clone(&source);
                    let metrics = Arc::clone(&metrics);
                    async move { Ok::<_, Infallible>(handle(req, peer, &*source, &metrics).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
    graceful.shutdown().await;
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
