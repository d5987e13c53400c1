//! A local HTTP server for integration tests that need an external
//! endpoint (HTTP_PROXY, HTTP): runs on its own thread and tokio runtime on
//! a free loopback port, stops on drop.
//!
//! Routes:
//! - `/sleep/{ms}`: answers `slept` after `ms` milliseconds;
//! - `/bytes/{n}`: `n` bytes (`0123456789` repeated), with Content-Length;
//! - `/chunked/{chunks}/{size}`: `chunks` pieces of `size` bytes, 20 ms
//!   apart, chunked (no Content-Length);
//! - `/status/{code}`: that status, body `status {code}` (text/plain); each
//!   query parameter `h=Name:Value` adds a response header (repeatable);
//! - `/no-content-type`: a body without Content-Type;
//! - anything else echoes the request as JSON: `method`, `path` and `query`
//!   exactly as received, `headers` as `[name, value]` pairs in arrival
//!   order, `body_b64`, `body_len`.
//!
//! Also: [`refused_address`] (nothing listens there) and [`garbage_server`]
//! (answers any connection with bytes that are not HTTP).

use std::convert::Infallible;
use std::future::Future as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use serde_json::json;

/// A running upstream; stopped when dropped.
pub struct Upstream {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Upstream {
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let addr = listener.local_addr().expect("upstream address");
        listener.set_nonblocking(true).expect("nonblocking");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("upstream runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let _ = axum::serve(listener, app())
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Upstream {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn app() -> Router {
    Router::new()
        .route("/sleep/{ms}", any(sleep))
        .route("/bytes/{n}", any(bytes))
        .route("/chunked/{chunks}/{size}", any(chunked))
        .route("/status/{code}", any(status))
        .route(
            "/no-content-type",
            any(|| async { Response::new(Body::from("no type")) }),
        )
        .fallback(echo)
}

async fn echo(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let headers: Vec<[String; 2]> = parts
        .headers
        .iter()
        .map(|(k, v)| [k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()])
        .collect();
    let out = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body_b64": base64::engine::general_purpose::STANDARD.encode(&body),
        "body_len": body.len(),
    });
    ([("content-type", "application/json")], out.to_string()).into_response()
}

async fn sleep(Path(ms): Path<u64>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "slept"
}

/// `0123456789` repeated to `n` bytes.
/// Every value of header `name` (any case) in what the echo route reports
/// it received (`{"headers": [[name, value], ...]}`), in order.
pub fn echoed_headers(echo: &serde_json::Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .filter_map(|h| h[1].as_str().map(str::to_string))
        .collect()
}

pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'0' + (i % 10) as u8).collect()
}

async fn bytes(Path(n): Path<usize>) -> Response {
    ([("content-type", "application/octet-stream")], pattern(n)).into_response()
}

/// A body that yields `left` chunks of `size` bytes, `gap` apart.
struct Trickle {
    left: usize,
    size: usize,
    gap: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for Trickle {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        if self.timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let next = tokio::time::Instant::now() + self.gap;
        self.timer.as_mut().reset(next);
        self.left -= 1;
        let chunk = Bytes::from(pattern(self.size));
        Poll::Ready(Some(Ok(hyper::body::Frame::data(chunk))))
    }
}

async fn chunked(Path((chunks, size)): Path<(usize, usize)>) -> Response {
    let gap = Duration::from_millis(20);
    let body = Trickle {
        left: chunks,
        size,
        gap,
        timer: Box::pin(tokio::time::sleep(gap)),
    };
    let mut resp = Response::new(Body::new(body));
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/octet-stream"),
    );
    resp
}

async fn status(Path(code): Path<u16>, req: Request) -> Response {
    let mut resp = Response::new(Body::from(format!("status {code}")));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("text/plain"));
    for (k, v) in url_pairs(req.uri().query().unwrap_or_default()) {
        if k != "h" {
            continue;
        }
        if let Some((name, value)) = v.split_once(':')
            && let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            )
        {
            h.append(n, v);
        }
    }
    resp
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let d = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (d(k), d(v))
        })
        .collect()
}

/// An address nothing listens on (a port just released).
pub fn refused_address() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("address");
    drop(l);
    addr
}

/// Answers every connection with a line that is not an HTTP response, then
/// closes it. Runs until the process ends.
pub fn garbage_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("address");
    std::thread::spawn(move || {
        for mut conn in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"THIS IS NOT HTTP\r\n\r\n");
        }
    });
    addr
}
