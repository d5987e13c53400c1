//! Bounded in-memory capture of a guest's stdout/stderr.
//!
//! Writes never fail: bytes past the limit are counted and dropped, so a
//! guest that writes 100 MB of logs costs the host at most `limit` bytes of
//! memory. For a command module's stdout (its result) the caller checks
//! [`Captured::overflowed`] and fails the invocation as Lambda does for an
//! oversized response.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// A shareable capture buffer; clones write to the same buffer.
#[derive(Clone)]
pub struct Capture {
    inner: Arc<Mutex<Buffer>>,
}

struct Buffer {
    data: Vec<u8>,
    limit: usize,
    dropped: u64,
}

/// What was captured since the last [`Capture::take`].
pub struct Captured {
    pub data: Vec<u8>,
    pub dropped: u64,
}

impl Captured {
    pub fn overflowed(&self) -> bool {
        self.dropped > 0
    }
}

impl Capture {
    pub fn new(limit: usize) -> Capture {
        Capture {
            inner: Arc::new(Mutex::new(Buffer {
                data: Vec::new(),
                limit,
                dropped: 0,
            })),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Buffer) -> R) -> R {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    fn append(&self, bytes: &[u8]) {
        self.with(|b| {
            let room = b.limit.saturating_sub(b.data.len());
            let keep = bytes.len().min(room);
            b.data.extend_from_slice(&bytes[..keep]);
            b.dropped += (bytes.len() - keep) as u64;
        })
    }

    /// Takes everything captured so far and resets the buffer.
    pub fn take(&self) -> Captured {
        self.with(|b| Captured {
            data: std::mem::take(&mut b.data),
            dropped: std::mem::take(&mut b.dropped),
        })
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.append(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
    /// What every WASI p1 `fd_write` to stdout/stderr calls. The default
    /// polls readiness twice (two boxed futures each) around the write; a
    /// capture is always ready, so this just appends.
    async fn blocking_write_and_flush(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.append(&bytes);
        Ok(())
    }
}

impl AsyncWrite for Capture {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_resettable() {
        let c = Capture::new(4);
        c.append(b"abcdef");
        let got = c.take();
        assert_eq!(got.data, b"abcd");
        assert_eq!(got.dropped, 2);
        assert!(got.overflowed());
        c.append(b"xy");
        let got = c.take();
        assert_eq!(got.data, b"xy");
        assert!(!got.overflowed());
    }
}
