//! The front door's listener. One [`Dispatcher`] accepts TCP connections
//! and hands each to the front-door thread with the fewest open connections
//! (each thread runs its own single-threaded runtime; see
//! `server::spawn_front_door`). Every connection also records the header
//! names of each request exactly as the client wrote them: hyper keeps
//! names lower-cased only, while API Gateway passes the client's casing to
//! Lambda (`tEsT-HEADeR` stays `tEsT-HEADeR`).
//!
//! Each connection's bytes go through a small HTTP/1.1 framing scanner as
//! hyper reads them: a request head's names are queued, its body is skipped
//! (Content-Length or chunked), and the next head follows. The request
//! handler takes one entry per request ([`ClientConn::take_names`]), which
//! hyper can only have read after the scanner saw it. The names are used
//! only where they match the request's headers case-insensitively, so a
//! scanner that lost track affects casing, never content; on anything it
//! does not understand it stops, and names stay lower case.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Largest request head the scanner keeps (hyper refuses larger ones).
const MAX_HEAD: usize = 512 * 1024;
/// Most headers the scanner reads in one head.
const MAX_HEADERS: usize = 256;

/// Hands each accepted connection to one of the front-door threads: the
/// one with the fewest open connections, so that keep-alive clients spread
/// evenly (a shared accept lets whichever thread wakes first take a whole
/// burst of new connections).
pub struct Dispatcher {
    listener: TcpListener,
    threads: Vec<ThreadSlot>,
}

struct ThreadSlot {
    handoff: mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>,
    open: Arc<AtomicUsize>,
}

impl Dispatcher {
    /// A dispatcher for `listener` and the listeners of `threads` threads.
    pub fn new(listener: TcpListener, threads: usize) -> (Dispatcher, Vec<ThreadListener>) {
        let local = listener.local_addr();
        let (slots, listeners) = (0..threads.max(1))
            .map(|_| {
                let (handoff, incoming) = mpsc::unbounded_channel();
                let open = Arc::new(AtomicUsize::new(0));
                let listener = ThreadListener {
                    incoming,
                    open: open.clone(),
                    local: local.as_ref().ok().copied(),
                };
                (ThreadSlot { handoff, open }, listener)
            })
            .unzip();
        (
            Dispatcher {
                listener,
                threads: slots,
            },
            listeners,
        )
    }

    /// Accepts connections until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = &mut stop => return,
            };
            let (stream, addr) = match accepted {
                Ok(a) => a,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: as axum's own
                    // listener does, wait a moment rather than spin.
                    tracing::error!(error = %e, "front door: accept failed");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let Ok(stream) = stream.into_std() else {
                continue;
            };
            // A thread whose server has ended (it could not start) takes
            // nothing more.
            let Some(slot) = self
                .threads
                .iter()
                .filter(|t| !t.handoff.is_closed())
                .min_by_key(|t| t.open.load(Ordering::Relaxed))
            else {
                tracing::error!("front door: no thread left to serve connections");
                return;
            };
            slot.open.fetch_add(1, Ordering::Relaxed);
            if slot.handoff.send((stream, addr)).is_err() {
                slot.open.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// One front-door thread's listener: the connections the [`Dispatcher`]
/// hands it, registered with that thread's runtime. Their streams record
/// header-name casing.
pub struct ThreadListener {
    incoming: mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    open: Arc<AtomicUsize>,
    local: Option<SocketAddr>,
}

impl Listener for ThreadListener {
    type Io = CasingStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CasingStream, SocketAddr) {
        loop {
            let Some((stream, addr)) = self.incoming.recv().await else {
                // The dispatcher has stopped: nothing more arrives.
                return std::future::pending().await;
            };
            let open = OpenConnection(self.open.clone());
            match TcpStream::from_std(stream) {
                Ok(inner) => {
                    let stream = CasingStream {
                        inner,
                        scanner: Scanner::new(Arc::default()),
                        stall: None,
                        _open: open,
                    };
                    return (stream, addr);
                }
                Err(e) => tracing::error!(error = %e, "front door: cannot register a connection"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.local
            .ok_or_else(|| io::Error::other("the front door's address is unknown"))
    }
}

/// Counts a connection as open on its thread until dropped.
struct OpenConnection(Arc<AtomicUsize>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The header names of one request head, in arrival order.
type Names = Vec<String>;

/// A connection whose reads feed the scanner.
pub struct CasingStream {
    inner: TcpStream,
    scanner: Scanner,
    /// Armed while a request's head or body is waiting for bytes.
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
    _open: OpenConnection,
}

/// How long a request may wait for its next bytes, mid-head or mid-body,
/// before its connection is dropped: a client that never finishes a
/// request (slowloris) does not hold a connection forever. An idle
/// keep-alive connection between requests has no such limit.
/// (Unit tests use a short one rather than paused time, which would need
/// tokio's `test-util` in every build that includes dev-dependencies.)
const STALL_TIMEOUT: std::time::Duration = if cfg!(test) {
    std::time::Duration::from_millis(200)
} else {
    std::time::Duration::from_secs(30)
};

impl AsyncRead for CasingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        match &poll {
            Poll::Ready(Ok(())) => {
                this.scanner.feed(&buf.filled()[before..]);
                this.stall = None;
            }
            Poll::Pending if this.scanner.mid_request() => {
                let stall = this
                    .stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(STALL_TIMEOUT)));
                if stall.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request stalled before it was complete",
                    )));
                }
            }
            _ => {}
        }
        poll
    }
}

impl AsyncWrite for CasingStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What the request handler knows of its connection.
pub struct ClientConn {
    pub peer: SocketAddr,
    /// The peer's address as text (`sourceIp`), formatted once per
    /// connection rather than once per request.
    pub source_ip: Arc<str>,
    names: Arc<Mutex<VecDeque<Names>>>,
}

impl ClientConn {
    /// The next request's header names as the client wrote them.
    pub fn take_names(&self) -> Option<Names> {
        self.names.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }
}

impl ClientConn {
    /// What the handler needs to know of a newly accepted connection.
    pub fn of(stream: &IncomingStream<'_, ThreadListener>) -> ClientConn {
        let peer = *stream.remote_addr();
        ClientConn {
            peer,
            source_ip: peer.ip().to_string().into(),
            names: stream.io().scanner.names.clone(),
        }
    }
}

/// Where the scanner is in the byte stream of one connection.
enum State {
    /// Collecting a request head (bytes so far).
    Head(Vec<u8>),
    /// Skipping this many body bytes.
    Body(u64),
    /// A chunk-size line (bytes so far).
    ChunkSize(Vec<u8>),
    /// Skipping chunk data, then its CRLF.
    ChunkData(u64),
    /// The CRLF after chunk data: skip to the end of the line.
    ChunkEnd,
    /// Trailer lines after the last chunk; true when the line so far is empty.
    Trailers { line_empty: bool },
    /// Lost track: record nothing more on this connection.
    Off,
}

/// The HTTP/1.1 request framing scanner.
struct Scanner {
    state: State,
    names: Arc<Mutex<VecDeque<Names>>>,
}

impl Scanner {
    fn new(names: Arc<Mutex<VecDeque<Names>>>) -> Scanner {
        Scanner {
            state: State::Head(Vec::new()),
            names,
        }
    }

    /// Whether a request has begun and not yet been read whole.
    fn mid_request(&self) -> bool {
        match &self.state {
            State::Head(head) => !head.is_empty(),
            State::Off => false,
            State::Body(_)
            | State::ChunkSize(_)
            | State::ChunkData(_)
            | State::ChunkEnd
            | State::Trailers { .. } => true,
        }
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            bytes = match &mut self.state {
                State::Off => return,
                State::Head(head) => {
                    if head.is_empty() {
                        let start = bytes
                            .iter()
                            .position(|b| *b != b'\r' && *b != b'\n')
                            .unwrap_or(bytes.len());
                        bytes = &bytes[start..];
                        if bytes.is_empty() {
                            return;
                        }
                        // The usual case: the whole head arrived in one read,
                        // and is read where it lies.
                        if let Some(end) = find_head_end(bytes, 0) {
                            self.state = self.head_done(&bytes[..end]);
                            bytes = &bytes[end..];
                            continue;
                        }
                    }
                    let seen = head.len();
                    head.extend_from_slice(bytes);
                    match find_head_end(head, seen.saturating_sub(3)) {
                        Some(end) => {
                            let rest = head.len() - end;
                            let head = std::mem::take(head);
                            self.state = self.head_done(&head[..end]);
                            &bytes[bytes.len() - rest..]
                        }
                        None if head.len() > MAX_HEAD => {
                            self.state = State::Off;
                            return;
                        }
                        None => return,
                    }
                }
                State::Body(left) => {
                    let n = (*left).min(bytes.len() as u64) as usize;
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::Head(Vec::new());
                    }
                    &bytes[n..]
                }
                State::ChunkSize(line) => match bytes.iter().position(|b| *b == b'\n') {
                    None => {
                        line.extend_from_slice(bytes);
                        if line.len() > 1024 {
                            self.state = State::Off;
                        }
                        return;
                    }
                    Some(i) => {
                        line.extend_from_slice(&bytes[..i]);
                        self.state = match chunk_size(line) {
                            Some(0) => State::Trailers { line_empty: true },
                            Some(n) => State::ChunkData(n),
                            None => State::Off,
                        };
                        &bytes[i + 1..]
                    }
                },
                State::ChunkData(left) => {
                    let n = (*left).min(bytes.len() as u64) as usize;
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::ChunkEnd;
                    }
                    &bytes[n..]
                }
                State::ChunkEnd => match bytes.iter().position(|b| *b == b'\n') {
                    None => return,
                    Some(i) => {
                        self.state = State::ChunkSize(Vec::new());
                        &bytes[i + 1..]
                    }
                },
                State::Trailers { line_empty } => {
                    let mut i = 0;
                    let mut done = false;
                    while i < bytes.len() {
                        match bytes[i] {
                            b'\n' if *line_empty => {
                                done = true;
                                i += 1;
                                break;
                            }
                            b'\n' => *line_empty = true,
                            b'\r' => {}
                            _ => *line_empty = false,
                        }
                        i += 1;
                    }
                    if done {
                        self.state = State::Head(Vec::new());
                    }
                    &bytes[i..]
                }
            };
        }
    }

    /// Parses the head held in `State::Head` (its first `end` bytes),
    /// queues its names and says how its body is framed.
    fn head_done(&self, head: &[u8]) -> State {
        let mut headers = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        match req.parse_with_uninit_headers(head, &mut headers) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return State::Off,
        }
        let mut names = Vec::with_capacity(req.headers.len());
        let mut chunked = false;
        let mut length: Option<u64> = None;
        for h in req.headers.iter() {
            names.push(h.name.to_owned());
            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.rsplit(',').next())
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            } else if h.name.eq_ignore_ascii_case("content-length") {
                match std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                {
                    Some(n) => length = Some(n),
                    None => return State::Off,
                }
            }
        }
        self.names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(names);
        match (chunked, length) {
            (true, _) => State::ChunkSize(Vec::new()),
            (false, Some(n)) if n > 0 => State::Body(n),
            _ => State::Head(Vec::new()),
        }
    }
}

/// The end of a request head (just past its blank line), searching from `from`.
fn find_head_end(head: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(at) = head.get(i..).and_then(|rest| memchr::memchr(b'\n', rest)) {
        i += at;
        if head[i + 1..].starts_with(b"\r\n") {
            return Some(i + 3);
        }
        if head[i + 1..].starts_with(b"\n") {
            return Some(i + 2);
        }
        i += 1;
    }
    None
}

fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?;
    let size = text.split(';').next()?.trim();
    u64::from_str_radix(size, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(pieces: &[&[u8]]) -> Vec<Names> {
        let names = Arc::new(Mutex::new(VecDeque::new()));
        let mut s = Scanner::new(names.clone());
        for p in pieces {
            s.feed(p);
        }
        names.lock().unwrap().drain(..).collect()
    }

    #[test]
    fn names_keep_the_clients_casing() {
        let got = scan(&[b"GET /prod/x HTTP/1.1\r\nHost: a\r\ntEsT-HEADeR: v\r\naccept: */*\r\n\r\n"]);
        assert_eq!(got, vec![vec!["Host", "tEsT-HEADeR", "accept"]]);
    }

    #[test]
    fn bodies_are_skipped_between_keep_alive_requests() {
        let stream = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n\r\nGET /c HTTP/1.1\r\nX-Last: 1\r\n\r\n";
        let whole = scan(&[stream]);
        assert_eq!(
            whole,
            vec![
                vec!["Host", "Content-Length"],
                vec!["Host", "Transfer-Encoding"],
                vec!["X-Last"],
            ]
        );
        // Byte by byte gives the same.
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(scan(&bytes), whole);
        // And in uneven pieces.
        let pieces: Vec<&[u8]> = stream.chunks(7).collect();
        assert_eq!(scan(&pieces), whole);
    }

    #[tokio::test]
    async fn connections_go_to_the_thread_with_the_fewest_open() {
        use std::time::Duration;
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let (dispatcher, threads) = Dispatcher::new(tcp, 2);
        let [mut first, mut second]: [ThreadListener; 2] = threads.try_into().ok().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let dispatching = tokio::spawn(dispatcher.run(async {
            let _ = stopped.await;
        }));
        let mut clients = Vec::new();
        let (mut on_first, mut on_second) = (Vec::new(), Vec::new());
        for _ in 0..4 {
            clients.push(TcpStream::connect(addr).await.unwrap());
            let got = tokio::time::timeout(Duration::from_secs(5), async {
                tokio::select! {
                    (s, _) = first.accept() => (true, s),
                    (s, _) = second.accept() => (false, s),
                }
            })
            .await
            .expect("a thread receives the connection");
            if got.0 {
                on_first.push(got.1)
            } else {
                on_second.push(got.1)
            }
        }
        assert_eq!((on_first.len(), on_second.len()), (2, 2));
        // Closed connections no longer count: the next two go to the thread
        // whose connections ended.
        on_first.clear();
        for _ in 0..2 {
            clients.push(TcpStream::connect(addr).await.unwrap());
            let (s, _) = tokio::time::timeout(Duration::from_secs(5), first.accept())
                .await
                .expect("the emptier thread receives it");
            on_first.push(s);
        }
        let _ = stop.send(());
        dispatching.await.unwrap();
    }

    /// One accepted connection's stream and its client.
    async fn connection() -> (CasingStream, TcpStream) {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let (dispatcher, threads) = Dispatcher::new(tcp, 1);
        let [mut thread]: [ThreadListener; 1] = threads.try_into().ok().unwrap();
        tokio::spawn(dispatcher.run(std::future::pending()));
        let client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = thread.accept().await;
        (stream, client)
    }

    #[tokio::test]
    async fn a_request_that_stalls_mid_head_is_dropped() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut stream, mut client) = connection().await;
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        assert!(stream.read(&mut buf).await.unwrap() > 0);
        let err = tokio::time::timeout(STALL_TIMEOUT * 2, stream.read(&mut buf))
            .await
            .expect("the stall timer fires first")
            .expect_err("a stalled head times out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn an_idle_connection_between_requests_is_kept() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut stream, mut client) = connection().await;
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        assert!(stream.read(&mut buf).await.unwrap() > 0);
        let idle = tokio::time::timeout(STALL_TIMEOUT * 5, stream.read(&mut buf)).await;
        assert!(idle.is_err(), "still waiting for the next request: {idle:?}");
    }

    #[test]
    fn a_head_it_cannot_read_stops_the_scanner() {
        let got = scan(&[b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\nGET / HTTP/1.1\r\nA: b\r\n\r\n"]);
        assert!(got.is_empty());
        let got = scan(&[b"\x00\x01 garbage\r\n\r\nGET / HTTP/1.1\r\nA: b\r\n\r\n"]);
        assert!(got.is_empty());
    }
}
