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
/// The bytes are read eight at a time; only quotes and backslashes are
/// looked at closer.
fn may_name_a_probed_key(event: &[u8]) -> bool {
    let mut at = 0;
    while at < event.len() {
        let next = event[at..]
            .first_chunk::<8>()
            .map(|word| quote_or_backslash(u64::from_le_bytes(*word)));
        match next {
            Some(0) => {
                at += 8;
                continue;
            }
            Some(mask) => at += (mask.trailing_zeros() / 8) as usize,
            None => {}
        }
        let rest = &event[at + 1..];
        let found = match event[at] {
            b'"' => rest.starts_with(b"fail\"") || rest.starts_with(b"requestContext\""),
            b'\\' => rest.first() == Some(&b'u'),
            _ => false,
        };
        if found {
            return true;
        }
        at += 1;
    }
    false
}

/// The high bit of each byte of `word` that is `"` or `\` (the classic
/// "has zero byte" test on `word` xor the byte repeated). A byte above a
/// flagged one may be flagged falsely, never one below, so the lowest flag
/// is exact.
fn quote_or_backslash(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    ((quote.wrapping_sub(ONES) & !quote) | (backslash.wrapping_sub(ONES) & !backslash)) & HIGH
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
