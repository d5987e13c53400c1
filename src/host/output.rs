//! Bounded in-memory capture of a guest's stdout/stderr.
//!
//! Writes never fail: bytes past the limit are counted and dropped, so a
//! guest that writes 100 MB of logs costs the host at most `limit` bytes of
//! memory. For a command module's stdout (its result) the caller checks
//! [`Captured::overflowed`] and fails the invocation as Lambda does for an
//! oversized response.
//!
//! [`fd_write`] is the guest's `wasi_snapshot_preview1::fd_write`: a plain
//! synchronous host function that appends to these captures, instead of
//! WASI's asynchronous one (which suspends the guest's fiber on every log
//! line, though a capture never blocks).

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

    pub(super) fn append(&self, bytes: &[u8]) {
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

/// Where a guest's file descriptors 1 and 2 write.
pub struct GuestOutput {
    pub stdout: Capture,
    pub stderr: Capture,
}

/// WASI errno values `fd_write` answers with.
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FAULT: i32 = 21;

/// `fd_write(fd, iovs, iovs_len, nwritten) -> errno` for a guest whose only
/// writable descriptors are stdout and stderr (functions get no files and no
/// sockets). Every pointer is checked against the guest's memory; a bad one
/// is `EFAULT`, any other descriptor `EBADF`, as WASI answers.
pub fn fd_write(
    memory: &mut [u8],
    output: &GuestOutput,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    nwritten: i32,
) -> i32 {
    let capture = match fd {
        1 => &output.stdout,
        2 => &output.stderr,
        _ => return ERRNO_BADF,
    };
    let (iovs, count) = (iovs as u32 as usize, iovs_len as u32 as usize);
    let Some(table) = count
        .checked_mul(8)
        .and_then(|n| iovs.checked_add(n))
        .and_then(|end| memory.get(iovs..end))
    else {
        return ERRNO_FAULT;
    };
    let at = nwritten as u32 as usize;
    if at.checked_add(4).is_none_or(|end| end > memory.len()) {
        return ERRNO_FAULT;
    }
    let mut total: u32 = 0;
    for iov in table.chunks_exact(8) {
        let word = |at: usize| u32::from_le_bytes([iov[at], iov[at + 1], iov[at + 2], iov[at + 3]]);
        let (ptr, len) = (word(0) as usize, word(4));
        let Some(bytes) = ptr.checked_add(len as usize).and_then(|end| memory.get(ptr..end)) else {
            return ERRNO_FAULT;
        };
        capture.append(bytes);
        total = total.wrapping_add(len);
    }
    match at.checked_add(4).and_then(|end| memory.get_mut(at..end)) {
        Some(slot) => {
            slot.copy_from_slice(&total.to_le_bytes());
            ERRNO_SUCCESS
        }
        None => ERRNO_FAULT,
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

    #[test]
    fn fd_write_gathers_and_checks_pointers() {
        let out = GuestOutput {
            stdout: Capture::new(100),
            stderr: Capture::new(100),
        };
        let mut mem = vec![0u8; 64];
        mem[32..37].copy_from_slice(b"hello");
        mem[40..42].copy_from_slice(b", ");
        // Two iovecs at 0: (32, 5) and (40, 2); nwritten at 16.
        for (i, v) in [32u32, 5, 40, 2].iter().enumerate() {
            mem[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        assert_eq!(fd_write(&mut mem, &out, 2, 0, 2, 16), ERRNO_SUCCESS);
        assert_eq!(out.stderr.take().data, b"hello, ");
        assert_eq!(u32::from_le_bytes(mem[16..20].try_into().unwrap()), 7);
        assert_eq!(fd_write(&mut mem, &out, 1, 0, 1, 16), ERRNO_SUCCESS);
        assert_eq!(out.stdout.take().data, b"hello");
        // Other descriptors, an iovec table or buffer outside memory, a bad
        // nwritten pointer, and a huge count.
        assert_eq!(fd_write(&mut mem, &out, 3, 0, 1, 16), ERRNO_BADF);
        assert_eq!(fd_write(&mut mem, &out, 0, 0, 1, 16), ERRNO_BADF);
        assert_eq!(fd_write(&mut mem, &out, 1, 60, 1, 16), ERRNO_FAULT);
        assert_eq!(fd_write(&mut mem, &out, 1, 0, -1, 16), ERRNO_FAULT);
        assert_eq!(fd_write(&mut mem, &out, 1, 0, 1, 62), ERRNO_FAULT);
        mem[0..4].copy_from_slice(&60u32.to_le_bytes());
        assert_eq!(fd_write(&mut mem, &out, 1, 0, 1, 16), ERRNO_FAULT);
        assert!(out.stdout.take().data.is_empty());
    }
}
