//! `mirror`: a plain (non-proxy) Lambda function for mapping-template
//! integrations. It returns the event it received unchanged; an event with
//! `"fail": "<message>"` fails with that `errorMessage` (error type from
//! `"errorType"`, default `Error`), which integration responses select on.
//! Called through a Lambda proxy integration (an event with
//! `requestContext`), it mirrors the request body instead: same bytes,
//! same Content-Type, same `isBase64Encoded`.

use portico_guest::serde_json::{Value, json};
use portico_guest::{Context, Error, raw_handler};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// The keys `mirror` looks at. Reading the event into this skips every
/// other value without building it, so mirroring a large event costs one
/// scan of it, not a JSON tree.
#[derive(Deserialize)]
#[serde(crate = "portico_guest::serde")]
struct Probe {
    #[serde(default)]
    fail: Option<Value>,
    #[serde(default, rename = "errorType")]
    error_type: Option<Value>,
    #[serde(default, rename = "requestContext")]
    request_context: Option<IgnoredAny>,
    #[serde(default, rename = "httpMethod")]
    http_method: Option<IgnoredAny>,
}

fn mirror(event: &[u8], _ctx: Context) -> Result<Vec<u8>, Error> {
    if !may_name_a_probed_key(event) {
        return Ok(event.to_vec());
    }
    // Only an object is probed (serde would also read an array as a struct).
    let is_object = event.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let Some(probe) = is_object
        .then(|| portico_guest::serde_json::from_slice::<Probe>(event).ok())
        .flatten()
    else {
        return Ok(event.to_vec());
    };
    if let Some(message) = probe.fail.as_ref().and_then(Value::as_str) {
        let kind = probe.error_type.as_ref().and_then(Value::as_str).unwrap_or("Error");
        return Err(Error::new(kind, message));
    }
    if probe.request_context.is_some() && probe.http_method.is_some() {
        return proxy_reply(event);
    }
    Ok(event.to_vec())
}

/// Whether the event's text could hold a key `mirror` acts on: `"fail"` or
/// `"requestContext"` written out, or any `\u` escape (a key can be spelt
/// with them). Most events hold none, and are mirrored without a parse.
///
/// The bytes are read eight at a time, together with the eight that follow
/// each one by a byte: only a quote followed by `f` or `r`, or a backslash
/// followed by `u`, is looked at closer. An event is mostly quotes (every
/// key and string has two), so looking at each quote would cost more than
/// the rest of the scan.
fn may_name_a_probed_key(event: &[u8]) -> bool {
    let found_at = |at: usize| {
        let rest = &event[at + 1..];
        match event[at] {
            b'"' => rest.starts_with(b"fail\"") || rest.starts_with(b"requestContext\""),
            b'\\' => rest.first() == Some(&b'u'),
            _ => false,
        }
    };
    let mut at = 0;
    // Words at `at` and `at + 1` both inside the event.
    while let (Some(here), Some(next)) = (
        event[at..].first_chunk::<8>(),
        event.get(at + 1..).and_then(|rest| rest.first_chunk::<8>()),
    ) {
        let (here, next) = (u64::from_le_bytes(*here), u64::from_le_bytes(*next));
        let mut candidates = (bytes_equal(here, b'"') & (bytes_equal(next, b'f') | bytes_equal(next, b'r')))
            | (bytes_equal(here, b'\\') & bytes_equal(next, b'u'));
        while candidates != 0 {
            if found_at(at + (candidates.trailing_zeros() / 8) as usize) {
                return true;
            }
            candidates &= candidates - 1;
        }
        at += 8;
    }
    (at..event.len()).any(found_at)
}

/// The high bit of each byte of `word` that equals `byte` (the classic
/// "has zero byte" test on `word` xor the byte repeated). Every such byte is
/// flagged; a byte above a flagged one may be flagged falsely, so callers
/// check what a flag points at.
fn bytes_equal(word: u64, byte: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The proxy response that mirrors a proxy event's body.
fn proxy_reply(event: &[u8]) -> Result<Vec<u8>, Error> {
    let map = match portico_guest::serde_json::from_slice::<Value>(event)? {
        Value::Object(map) => map,
        _ => return Ok(event.to_vec()),
    };
    let content_type = map
        .get("headers")
        .and_then(|h| h.as_object())
        .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("application/octet-stream");
    let reply = json!({
        "statusCode": 200,
        "headers": { "Content-Type": content_type },
        "body": map.get("body").cloned().unwrap_or(Value::Null),
        "isBase64Encoded": map.get("isBase64Encoded").cloned().unwrap_or(Value::Bool(false)),
    });
    portico_guest::serde_json::to_vec(&reply).map_err(Error::from)
}

raw_handler!(mirror);

#[cfg(test)]
mod tests {
    use super::may_name_a_probed_key;

    /// What the word-at-a-time scan must answer: a quote followed by a
    /// probed key's name and its closing quote, or a backslash followed by `u`.
    fn by_bytes(event: &[u8]) -> bool {
        (0..event.len()).any(|at| {
            let rest = &event[at + 1..];
            match event[at] {
                b'"' => rest.starts_with(b"fail\"") || rest.starts_with(b"requestContext\""),
                b'\\' => rest.first() == Some(&b'u'),
                _ => false,
            }
        })
    }

    #[test]
    fn the_word_scan_finds_what_a_byte_scan_finds() {
        let pieces: [&[u8]; 12] = [
            b"\"fail\"", b"\"requestContext\"", b"\\u0041", b"\\\\", b"\"", b"f", b"r",
            b"\"fai", b"\"requestContex", b"abcdefgh", b" ", b"\"rr\"",
        ];
        // Every sequence of up to four pieces, at every offset, so each
        // piece lands on every position in a word and across word edges.
        let mut seq = vec![0usize];
        let mut checked = 0;
        loop {
            for pad in 0..9 {
                let mut event = b"{".repeat(pad);
                for &i in &seq {
                    event.extend_from_slice(pieces[i]);
                }
                assert_eq!(
                    may_name_a_probed_key(&event),
                    by_bytes(&event),
                    "{:?}",
                    String::from_utf8_lossy(&event)
                );
                checked += 1;
            }
            // Next sequence (counting in base `pieces.len()`, up to four digits).
            let mut i = 0;
            loop {
                if i == seq.len() {
                    if seq.len() == 4 {
                        assert!(checked > 100_000);
                        return;
                    }
                    seq.push(0);
                    break;
                }
                seq[i] += 1;
                if seq[i] < pieces.len() {
                    break;
                }
                seq[i] = 0;
                i += 1;
            }
        }
    }
}
