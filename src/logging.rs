//! The process log: a `tracing` subscriber for the gateway's own events, and
//! a direct path for what functions print ([`function_output`]).
//!
//! Lines are formatted on the thread that logs them and written by a
//! background thread in batches (one `write` per batch, not per line).
//! Nothing is dropped: a full queue makes loggers wait. Colours only on a
//! terminal.
//!
//! Function output is logged for every invocation, so it skips `tracing`'s
//! generic event machinery: each invocation's lines are formatted by hand, in
//! exactly the shape the subscriber gives an event with `function` and
//! `request_id` fields (human or JSON), and queued with one send. The
//! `portico::function` filter of `RUST_LOG` still decides whether they
//! appear.
//!
//! On the front door's threads ([`batch_function_output`]) that send carries
//! many invocations: a thread collects its lines and hands them over once
//! [`BATCH_BYTES`] are waiting or [`BATCH_DELAY`] after the first of them,
//! whichever comes first. Under load this spares the writer thread a wake-up
//! and a `write` every few requests (it had taken 5 % of the gateway's CPU on
//! GET /hello); the price is that a function's lines may appear up to
//! [`BATCH_DELAY`] after the gateway's own lines about the same request.

use std::io::Write;
use std::sync::OnceLock;

use clap::ValueEnum;
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

use crate::json_out as json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Where function output goes once [`init`] ran.
struct FunctionSink {
    writer: NonBlocking,
    format: LogFormat,
}

static FUNCTION_SINK: OnceLock<FunctionSink> = OnceLock::new();

/// Installs the subscriber and the function-output path. The returned guard
/// flushes what is queued when dropped, at shutdown.
pub fn init(format: LogFormat) -> WorkerGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("portico-log")
        .finish(std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer.clone());
    let installed = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // With colours on, function lines go through `tracing` to be coloured
    // like the rest.
    if installed.is_ok() && !ansi {
        let _ = FUNCTION_SINK.set(FunctionSink { writer, format });
    }
    guard
}

/// Lines wait on a batching thread until this many bytes are queued...
pub const BATCH_BYTES: usize = 32 * 1024;
/// ...or until this long after the first of them.
pub const BATCH_DELAY: std::time::Duration = std::time::Duration::from_millis(20);

thread_local! {
    static LOCAL: std::cell::RefCell<LocalSink> = const {
        std::cell::RefCell::new(LocalSink {
            writer: None,
            out: Vec::new(),
            second: i64::MIN,
            stamp: String::new(),
            batching: false,
            flush_pending: false,
        })
    };
}

/// Makes this thread batch function output (see the module's doc). Only for
/// a thread that runs a current-thread tokio runtime for its whole life, so
/// that the delayed flush runs here; the thread calls
/// [`flush_function_output`] once its runtime has stopped.
pub fn batch_function_output() {
    LOCAL.with_borrow_mut(|local| local.batching = true);
}

/// Hands this thread's waiting function output to the writer.
pub fn flush_function_output() {
    LOCAL.with_borrow_mut(LocalSink::flush);
}

/// Logs what one invocation printed, line by line, at INFO under the
/// `portico::function` target with `function` and `request_id` fields.
pub fn function_output(function: &str, request_id: &str, output: &[u8]) {
    if output.is_empty() || !tracing::enabled!(target: "portico::function", tracing::Level::INFO) {
        return;
    }
    // Valid UTF-8 (nearly always) is checked by the fast path; only
    // invalid output pays for the lossy conversion.
    let text = match std::str::from_utf8(output) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(output),
    };
    let Some(sink) = FUNCTION_SINK.get() else {
        for line in text.lines() {
            tracing::info!(target: "portico::function", function, request_id, "{line}");
        }
        return;
    };
    let now = chrono::Utc::now();
    LOCAL.with_borrow_mut(|local| {
        set_timestamp(&mut local.second, &mut local.stamp, now);
        for line in text.lines() {
            match sink.format {
                LogFormat::Human => human_line(&mut local.out, &local.stamp, function, request_id, line),
                LogFormat::Json => json_line(&mut local.out, &local.stamp, function, request_id, line),
            }
        }
        if !local.batching || local.out.len() >= BATCH_BYTES {
            local.flush();
        } else if !local.flush_pending {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    local.flush_pending = true;
                    runtime.spawn(async {
                        tokio::time::sleep(BATCH_DELAY).await;
                        LOCAL.with_borrow_mut(|local| {
                            local.flush_pending = false;
                            local.flush();
                        });
                    });
                }
                Err(_) => local.flush(),
            }
        }
    });
}

/// What each thread keeps for function output.
struct LocalSink {
    /// This thread's handle on the sink's writer, cloned once: a clone per
    /// invocation moved two counters that every thread shares.
    writer: Option<NonBlocking>,
    /// Lines formatted and not yet handed to the writer (which queues a copy).
    out: Vec<u8>,
    /// The second `stamp` is in, and the last timestamp written.
    second: i64,
    stamp: String,
    /// Whether `out` collects a batch (see the module's doc) or is handed
    /// over after each invocation.
    batching: bool,
    /// A delayed flush is scheduled on this thread's runtime.
    flush_pending: bool,
}

impl LocalSink {
    fn flush(&mut self) {
        if self.out.is_empty() {
            return;
        }
        if let Some(sink) = FUNCTION_SINK.get() {
            let _ = self
                .writer
                .get_or_insert_with(|| sink.writer.clone())
                .write_all(&self.out);
        }
        self.out.clear();
        // A burst of output does not keep its memory.
        if self.out.capacity() > 2 * BATCH_BYTES {
            self.out = Vec::new();
        }
    }
}

impl Drop for LocalSink {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Sets `stamp` to `now` as the subscriber writes it,
/// `2026-11-23T19:25:32.009765Z`. The part up to the seconds is formatted
/// only when `second` changes; the microseconds are rewritten in place.
fn set_timestamp(second: &mut i64, stamp: &mut String, now: chrono::DateTime<chrono::Utc>) {
    if *second != now.timestamp() {
        *second = now.timestamp();
        *stamp = now.format("%Y-%m-%dT%H:%M:%S.").to_string();
        stamp.push_str("000000Z");
    }
    let micros = now.timestamp_subsec_micros().min(999_999);
    let mut digits = [b'0'; 7];
    for (d, place) in digits.iter_mut().zip([100_000, 10_000, 1_000, 100, 10, 1]) {
        *d = b'0' + (micros / place % 10) as u8;
    }
    digits[6] = b'Z';
    stamp.truncate(stamp.len() - digits.len());
    stamp.push_str(std::str::from_utf8(&digits).unwrap_or_default());
}

/// `2026-11-23T19:25:32.009765Z  INFO portico::function: {line} function={f} request_id="{id}"`,
/// control characters other than tab escaped (no terminal escapes from a guest).
fn human_line(out: &mut Vec<u8>, timestamp: &str, function: &str, request_id: &str, line: &str) {
    out.extend_from_slice(timestamp.as_bytes());
    out.extend_from_slice(b"  INFO portico::function: ");
    push_escaped(out, line);
    out.extend_from_slice(b" function=");
    push_escaped(out, function);
    out.extend_from_slice(b" request_id=\"");
    push_escaped(out, request_id);
    out.extend_from_slice(b"\"\n");
}

fn push_escaped(out: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for c in s.chars() {
        if c.is_ascii_control() && c != '\t' {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

/// Whether `bytes` has a control character other than tab, or DEL. Eight
/// bytes at a time: a line, a function name and a request id are a few
/// dozen bytes, shorter than the vectors a byte loop is compiled to, and
/// almost never have one; only a word that may is looked at byte by byte.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let escaped = |b: &u8| (*b < 0x20 && *b != b'\t') || *b == 0x7f;
    let mut rest = bytes;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        let w = u64::from_le_bytes(*word);
        // Some byte is below 0x20 ("has a byte less than"), or is 0x7f
        // ("has a zero byte" of w ^ 0x7f…); then the tab check decides.
        let del = w ^ (ONES * 0x7f);
        let maybe = ((w.wrapping_sub(ONES * 0x20) & !w) | (del.wrapping_sub(ONES) & !del)) & HIGH;
        if maybe != 0 && word.iter().any(escaped) {
            return true;
        }
        rest = tail;
    }
    rest.iter().any(escaped)
}

/// The subscriber's JSON shape: `{"timestamp","level","fields":{"message",
/// "function","request_id"},"target"}`.
fn json_line(out: &mut Vec<u8>, timestamp: &str, function: &str, request_id: &str, line: &str) {
    out.extend_from_slice(b"{\"timestamp\":");
    json::push_str(out, timestamp);
    out.extend_from_slice(b",\"level\":\"INFO\",\"fields\":{\"message\":");
    json::push_str(out, line);
    out.extend_from_slice(b",\"function\":");
    json::push_str(out, function);
    out.extend_from_slice(b",\"request_id\":");
    json::push_str(out, request_id);
    out.extend_from_slice(b"},\"target\":\"portico::function\"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_match_chrono() {
        use chrono::{SecondsFormat, TimeZone, Utc};
        let base = Utc.with_ymd_and_hms(2026, 11, 23, 19, 25, 32).unwrap();
        for (secs, nanos) in [
            (0, 9_765_000),
            (0, 9_765_999),
            (0, 0),
            (1, 999_999_000),
            (86_400 * 40, 123_000),
        ] {
            let t = base + chrono::Duration::seconds(secs) + chrono::Duration::nanoseconds(nanos);
            let expected = t.to_rfc3339_opts(SecondsFormat::Micros, true);
            // From a fresh state, and after another time (same or other second).
            let (mut second, mut stamp) = (i64::MIN, String::new());
            set_timestamp(&mut second, &mut stamp, t);
            assert_eq!(stamp, expected);
            set_timestamp(&mut second, &mut stamp, base);
            set_timestamp(&mut second, &mut stamp, t);
            assert_eq!(stamp, expected);
        }
    }

    #[test]
    fn human_lines_escape_control_characters() {
        let mut out = Vec::new();
        human_line(&mut out, "T", "hello", "r-1", "INFO\tsaid \u{1b}[31mred\r");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "T  INFO portico::function: INFO\tsaid \\u{1b}[31mred\\r function=hello request_id=\"r-1\"\n"
        );
        let mut out = Vec::new();
        human_line(
            &mut out,
            "T",
            "f",
            "r",
            "del\u{7f} and a long clean tail, long enough for vectors",
        );
        assert!(String::from_utf8(out).unwrap().contains("del\\u{7f} and"));
    }

    #[test]
    fn escapes_are_found_a_word_at_a_time_as_byte_by_byte() {
        let slow = |bytes: &[u8]| bytes.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f);
        let specials = [0x00, 0x01, 0x08, 0x0a, 0x1f, 0x7f];
        let plain = [b'a', b'\t', b' ', 0x20, 0x7e, 0x80, 0xff, 0x09];
        for len in 0..20 {
            for &p in &plain {
                let bytes = vec![p; len];
                assert_eq!(needs_escape(&bytes), slow(&bytes), "{bytes:?}");
                for at in 0..len {
                    for &s in &specials {
                        let mut bytes = bytes.clone();
                        bytes[at] = s;
                        assert_eq!(needs_escape(&bytes), slow(&bytes), "{bytes:?}");
                        // A tab below a control character must not hide it.
                        if at > 0 {
                            bytes[at - 1] = b'\t';
                            assert_eq!(needs_escape(&bytes), slow(&bytes), "{bytes:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn json_lines_are_the_subscribers_shape() {
        let mut out = Vec::new();
        json_line(&mut out, "T", "hello", "r-1", "a \"quoted\"\u{1} line");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "timestamp": "T",
                "level": "INFO",
                "fields": {"message": "a \"quoted\"\u{1} line", "function": "hello", "request_id": "r-1"},
                "target": "portico::function"
            })
        );
        assert!(out.ends_with(b"}\n"));
    }
}
