use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::scan::first_special;

/// Invocation context, handed to every handler call.
///
/// Decoded from the context JSON the host passes to `portico_invoke`
/// (`{"requestId", "functionName", "functionVersion", "invokedFunctionArn",
/// "memoryLimitInMB", "deadlineMs", "clientContext"}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Context {
    /// The invocation's request id (AWS: `awsRequestId`).
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// Name of the function being invoked.
    #[serde(rename = "functionName")]
    pub function_name: String,
    /// Version being invoked, e.g. `$LATEST`.
    #[serde(rename = "functionVersion")]
    pub function_version: String,
    /// ARN the function was invoked with.
    #[serde(rename = "invokedFunctionArn")]
    pub invoked_function_arn: String,
    /// Configured memory size in MB.
    #[serde(rename = "memoryLimitInMB")]
    pub memory_limit_in_mb: u32,
    /// Deadline of this invocation in milliseconds since the Unix epoch.
    #[serde(rename = "deadlineMs")]
    pub deadline: u64,
    /// Client context passed by the caller (`X-Amz-Client-Context`), if any.
    #[serde(rename = "clientContext")]
    pub client_context: Option<serde_json::Value>,
}

impl Context {
    /// Decodes the context JSON the host passes. The host always writes the
    /// same keys in the same order with plain values; that shape is read in
    /// one pass (serde's field matching and escape handling were most of a
    /// small function's own time), and any other JSON goes through
    /// `serde_json` with the same result.
    pub(crate) fn from_host_json(bytes: &[u8]) -> serde_json::Result<Context> {
        match read_host_shape(bytes) {
            Some(ctx) => Ok(ctx),
            None => serde_json::from_slice(bytes),
        }
    }

    /// Time left before the deadline, measured with the WASI wall clock.
    /// Zero once the deadline has passed.
    pub fn remaining_time(&self) -> Duration {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Duration::from_millis(self.deadline.saturating_sub(now_ms))
    }
}

/// `{"requestId":"…","functionName":"…","functionVersion":"…",
/// "invokedFunctionArn":"…","memoryLimitInMB":N,"deadlineMs":N,
/// "clientContext":null}` exactly, strings without escapes; `None` for
/// anything else.
fn read_host_shape(bytes: &[u8]) -> Option<Context> {
    let mut r = Reader { rest: bytes };
    r.literal(b"{\"requestId\":")?;
    let request_id = r.string()?;
    r.literal(b",\"functionName\":")?;
    let function_name = r.string()?;
    r.literal(b",\"functionVersion\":")?;
    let function_version = r.string()?;
    r.literal(b",\"invokedFunctionArn\":")?;
    let invoked_function_arn = r.string()?;
    r.literal(b",\"memoryLimitInMB\":")?;
    let memory_limit_in_mb = u32::try_from(r.unsigned()?).ok()?;
    r.literal(b",\"deadlineMs\":")?;
    let deadline = r.unsigned()?;
    r.literal(b",\"clientContext\":null}")?;
    r.rest.is_empty().then_some(Context {
        request_id,
        function_name,
        function_version,
        invoked_function_arn,
        memory_limit_in_mb,
        deadline,
        client_context: None,
    })
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn literal(&mut self, text: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(text)?;
        Some(())
    }

    /// A string without escapes or control characters. Its end is found
    /// a word at a time while it is ASCII (the usual case: ids, names,
    /// ARNs); from its first non-ASCII byte on, the rest is checked as UTF-8.
    fn string(&mut self) -> Option<String> {
        let body = self.rest.strip_prefix(b"\"")?;
        let ascii = first_special(body, true);
        let text = if body.get(ascii) == Some(&b'"') {
            // SAFETY: `body[..ascii]` is ASCII: `first_special(_, true)`
            // stops at the first byte ≥ 0x80.
            unsafe { std::str::from_utf8_unchecked(&body[..ascii]) }
        } else {
            let end = ascii + first_special(body.get(ascii..)?, false);
            if body.get(end) != Some(&b'"') {
                return None;
            }
            std::str::from_utf8(&body[..end]).ok()?
        };
        self.rest = &body[text.len() + 1..];
        Some(text.to_owned())
    }

    /// A JSON integer ≥ 0 that fits a u64 (no sign, no leading zero).
    /// Eight digits at a time while eight are left (a deadline in
    /// milliseconds has thirteen), then one at a time.
    fn unsigned(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        let mut digits = 0;
        // Nineteen digits always fit a u64, so only a twentieth is
        // checked (on wasm32 a checked 64-bit multiply is a 128-bit libcall).
        while digits + 8 <= 19
            && let Some(chunk) = self.rest.get(digits..).and_then(<[u8]>::first_chunk::<8>)
            && let Some(eight) = eight_digits(u64::from_le_bytes(*chunk))
        {
            value = value * 100_000_000 + eight;
            digits += 8;
        }
        while let Some(&d) = self.rest.get(digits)
            && d.is_ascii_digit()
        {
            let d = u64::from(d - b'0');
            value = if digits < 19 {
                value * 10 + d
            } else {
                value.checked_mul(10)?.checked_add(d)?
            };
            digits += 1;
        }
        if digits == 0 || (digits > 1 && self.rest[0] == b'0') {
            return None;
        }
        self.rest = &self.rest[digits..];
        Some(value)
    }
}

/// The value of eight ASCII digits read little-endian (the first digit in
/// the lowest byte), `None` if any byte is not a digit. The SWAR method of
/// Lemire's "Fast numerical parsing" (simdjson): three multiplications
/// instead of eight.
fn eight_digits(word: u64) -> Option<u64> {
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    let all_digits = (word & HIGH_NIBBLES) | ((word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) >> 4)
        == 0x3333_3333_3333_3333;
    if !all_digits {
        return None;
    }
    let v = word - 0x3030_3030_3030_3030;
    // Pairs of digits, then fours, then the eight.
    let v = (v * 10) + (v >> 8);
    let v = (((v & 0x0000_00ff_0000_00ff).wrapping_mul(100 + (1_000_000 << 32)))
        .wrapping_add(((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_host_context() {
        let ctx: Context = serde_json::from_str(
            r#"{"requestId":"r-1","functionName":"hello","functionVersion":"$LATEST",
                "invokedFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:hello",
                "memoryLimitInMB":128,"deadlineMs":1700000000000,"clientContext":null}"#,
        )
        .unwrap();
        assert_eq!(ctx.request_id, "r-1");
        assert_eq!(ctx.function_name, "hello");
        assert_eq!(ctx.function_version, "$LATEST");
        assert_eq!(ctx.memory_limit_in_mb, 128);
        assert_eq!(ctx.deadline, 1_700_000_000_000);
        assert_eq!(ctx.client_context, None);
        // the deadline is in the past
        assert_eq!(ctx.remaining_time(), Duration::ZERO);
    }

    #[test]
    fn remaining_time_counts_down() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let ctx = Context {
            deadline: now.as_millis() as u64 + 10_000,
            ..Context::default()
        };
        let left = ctx.remaining_time();
        assert!(left <= Duration::from_secs(10) && left > Duration::from_secs(8));
    }

    #[test]
    fn host_shaped_contexts_read_as_serde_reads_them() {
        let host = |id: &str, client: &str| {
            format!(
                r#"{{"requestId":"{id}","functionName":"hello","functionVersion":"$LATEST","invokedFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:hello:live","memoryLimitInMB":128,"deadlineMs":1700000000000,"clientContext":{client}}}"#
            )
        };
        let cases = [
            host("r-1", "null"),
            host("", "null"),
            host("é 漢字", "null"),
            // Escapes, a client context, other shapes: serde's way.
            host("a\\\"b", "null"),
            // Past the first words of eight: escapes and non-ASCII late in a string.
            host(&format!("{}\\\"y", "x".repeat(20)), "null"),
            host(&format!("{}\\u0041", "z".repeat(15)), "null"),
            host(&format!("{}é{}", "w".repeat(16), "v".repeat(9)), "null"),
            host(&"0123456789abcdef".repeat(3), "null"),
            host("r-1", r#"{"a":1}"#),
            host("r-1", "null").replace(":128,", ":0128,"),
            host("r-1", "null").replace(":128,", ":99999999999,"),
            host("r-1", "null").replace("1700000000000", "99999999999999999999"),
            host("r-1", "null").replace("1700000000000", "18446744073709551615"),
            host("r-1", "null").replace("1700000000000", "18446744073709551616"),
            host("r-1", "null").replace("1700000000000", "9999999999999999999"),
            host("r-1", "null") + " ",
            host("r-1", "null").replace(",\"functionName", ", \"functionName"),
            r#"{"functionName":"f","requestId":"r"}"#.to_string(),
            r#"{"clientContext":{"a":1}}"#.to_string(),
        ];
        for text in cases {
            let fast = Context::from_host_json(text.as_bytes());
            let slow = serde_json::from_str::<Context>(&text);
            match (fast, slow) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{text}: {a:?} vs {b:?}"),
            }
        }
        let ctx = read_host_shape(host("r-1", "null").as_bytes()).expect("host shape");
        assert_eq!(
            ctx.invoked_function_arn,
            "arn:aws:lambda:us-east-1:000000000000:function:hello:live"
        );
        assert_eq!(ctx.deadline, 1_700_000_000_000);
        assert!(read_host_shape(host("r-1", r#"{"a":1}"#).as_bytes()).is_none());
    }

    #[test]
    fn eight_digits_at_a_time() {
        for n in [
            0u64,
            1,
            7,
            12_345_678,
            99_999_999,
            10_000_000,
            1_700_000_000_000,
            u64::MAX,
        ] {
            let text = n.to_string();
            let mut padded = text.clone().into_bytes();
            padded.extend_from_slice(b",x");
            let mut r = Reader { rest: &padded };
            assert_eq!(r.unsigned(), Some(n), "{text}");
            assert_eq!(r.rest, b",x");
        }
        for word in [
            *b"1234567a",
            *b"/2345678",
            *b":2345678",
            *b"1234 678",
            *b"12345678",
        ] {
            let expected = word
                .iter()
                .all(u8::is_ascii_digit)
                .then(|| std::str::from_utf8(&word).unwrap().parse::<u64>().unwrap());
            assert_eq!(eight_digits(u64::from_le_bytes(word)), expected, "{word:?}");
        }
        for bad in ["", "x", "012", "18446744073709551616", "99999999999999999999"] {
            assert_eq!(Reader { rest: bad.as_bytes() }.unsigned(), None, "{bad}");
        }
        assert_eq!(Reader { rest: b"0" }.unsigned(), Some(0));
    }

    #[test]
    fn missing_fields_default() {
        let ctx: Context = serde_json::from_str(r#"{"clientContext":{"a":1}}"#).unwrap();
        assert_eq!(ctx.request_id, "");
        assert_eq!(ctx.client_context, Some(serde_json::json!({"a": 1})));
    }
}
