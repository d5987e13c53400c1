//! Whether bytes are JSON, answered without building anything: Lambda takes
//! only JSON payloads and must return JSON results, so every invocation
//! checks one or both.
//!
//! A quick scan ([`surely_json`]) recognises one JSON value with whitespace
//! around it. It only ever vouches for text that `serde_json` also accepts;
//! anything it cannot vouch for (deep nesting, or text that is not JSON)
//! goes to `serde_json`, whose verdict and error message are the answer. The
//! scan reads strings eight bytes at a time and keeps no state beyond a bit
//! per open container, several times cheaper than `serde_json`'s
//! `IgnoredAny`, which goes through its deserializer for every token.

use crate::json_out::skip_plain;

/// Containers the quick scan follows before it leaves the text to
/// `serde_json` (one bit each in a `u64`).
const MAX_DEPTH: u32 = 64;

/// `Ok` if `bytes` is one JSON value, else `serde_json`'s error for it.
pub fn check(bytes: &[u8]) -> Result<(), serde_json::Error> {
    if surely_json(bytes) {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map(|_| ())
}

/// True only if `bytes` is one JSON value with optional whitespace around
/// it. False means "ask `serde_json`", not "invalid".
fn surely_json(b: &[u8]) -> bool {
    let mut i = skip_ws(b, 0);
    // One bit per open container, 1 for an object, innermost lowest.
    let mut stack: u64 = 0;
    let mut depth: u32 = 0;
    loop {
        // A value starts at `i` (whitespace already skipped).
        let Some(&first) = b.get(i) else { return false };
        let end = match first {
            b'{' | b'[' => {
                let object = first == b'{';
                let close = if object { b'}' } else { b']' };
                i = skip_ws(b, i + 1);
                if b.get(i) == Some(&close) {
                    Some(i + 1)
                } else {
                    if depth == MAX_DEPTH {
                        return false;
                    }
                    stack = stack << 1 | u64::from(object);
                    depth += 1;
                    if object {
                        match key(b, i) {
                            Some(value) => i = value,
                            None => return false,
                        }
                    }
                    continue;
                }
            }
            b'"' => string_end(b, i + 1),
            b't' => literal_end(b, i, b"true"),
            b'f' => literal_end(b, i, b"false"),
            b'n' => literal_end(b, i, b"null"),
            b'-' | b'0'..=b'9' => number_end(b, i),
            _ => None,
        };
        let Some(end) = end else { return false };
        i = end;
        // After a value: close what ends here, then a comma and the next
        // value (a key first in an object), or the end of the text.
        loop {
            i = skip_ws(b, i);
            if depth == 0 {
                return i == b.len();
            }
            let object = stack & 1 == 1;
            match b.get(i) {
                Some(b',') => {
                    i = skip_ws(b, i + 1);
                    if object {
                        match key(b, i) {
                            Some(value) => i = value,
                            None => return false,
                        }
                    }
                    break;
                }
                Some(b'}') if object => {}
                Some(b']') if !object => {}
                _ => return false,
            }
            stack >>= 1;
            depth -= 1;
            i += 1;
        }
    }
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// A key at `i` (its opening quote), then `:`: where the value starts.
#[inline(always)]
fn key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(b, string_end(b, i + 1)?);
    (b.get(i) == Some(&b':')).then(|| skip_ws(b, i + 1))
}

/// Just past the closing quote of a string whose contents start at `i`.
/// Any byte from 0x20 up stands for itself, as `serde_json` reads it.
#[inline(always)]
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        // Runs with nothing to look at (the usual case) a word at a time.
        i = skip_plain(b, i);
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => {
                i += match *b.get(i + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                    b'u' if b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => 6,
                    _ => return None,
                }
            }
            0x00..=0x1f => return None,
            _ => i += 1,
        }
    }
}

#[inline(always)]
fn literal_end(b: &[u8], i: usize, literal: &[u8]) -> Option<usize> {
    b[i..].starts_with(literal).then_some(i + literal.len())
}

/// Just past a number at `i`:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
#[inline(always)]
fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |b: &[u8], i: usize| i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(b, i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_accepts(b: &[u8]) -> bool {
        serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
    }

    /// Texts the quick scan must vouch for: the documents invocations carry.
    const VALID: &[&str] = &[
        "{}",
        "[]",
        " {\"a\" : [1, -2.5e+3, 0, 0.0, 1E9, true, false, null, \"x\"] }\n",
        "\"plain\"",
        "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"",
        "\"caf\u{e9} \u{1f600}\"",
        "-0",
        "123456789012345678901234567890",
        "[[[[[[[[[[]]]]]]]]]]",
        "{\"a\":{\"b\":{\"c\":[{\"d\":{}}]}}}",
        "{\"resource\":\"/hello\",\"headers\":{\"Host\":\"127.0.0.1:8080\"},\"multiValueHeaders\":{\"Host\":[\"127.0.0.1:8080\"]},\"body\":null,\"isBase64Encoded\":false}",
        "\t[ 1 ,2 , 3 ]\r\n",
    ];

    const INVALID: &[&str] = &[
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":}",
        "[1 2]",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "tru",
        "nul",
        "truex",
        "\"unterminated",
        "\"bad \\x escape\"",
        "\"short \\u12\"",
        "\"tab\tinside\"",
        "{} {}",
        "[1]]",
        "[}",
        "{]",
        "NaN",
        "'single'",
    ];

    #[test]
    fn the_quick_scan_vouches_for_ordinary_json() {
        for text in VALID {
            assert!(serde_accepts(text.as_bytes()), "serde_json rejects {text:?}");
            assert!(surely_json(text.as_bytes()), "quick scan rejects {text:?}");
            assert!(check(text.as_bytes()).is_ok());
        }
    }

    #[test]
    fn what_serde_json_rejects_is_rejected_with_its_error() {
        for text in INVALID {
            assert!(!surely_json(text.as_bytes()), "quick scan accepts {text:?}");
            let ours = check(text.as_bytes()).map_err(|e| e.to_string());
            let theirs =
                serde_json::from_slice::<serde::de::IgnoredAny>(text.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(ours.err(), theirs.err(), "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_serde_json() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(!surely_json(deep.as_bytes()));
        assert_eq!(check(deep.as_bytes()).is_ok(), serde_accepts(deep.as_bytes()));
        let at_limit = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(surely_json(at_limit.as_bytes()));
    }

    /// Mutations of valid documents (a byte replaced, inserted or removed,
    /// or the text cut short): whenever the quick scan accepts one,
    /// serde_json must too, and `check` always agrees with serde_json.
    #[test]
    fn the_quick_scan_never_accepts_what_serde_json_rejects() {
        const ALPHABET: &[u8] = b"{}[]\",:\\ \t\n-+.0123456789eEtrufalsn/bx\x01\x7f\xc3\xa9";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut accepted, mut rejected) = (0, 0);
        for _ in 0..60_000 {
            let base = VALID[next() as usize % VALID.len()].as_bytes();
            let mut text = base.to_vec();
            for _ in 0..1 + next() % 3 {
                let at = next() as usize % (text.len() + 1);
                let byte = ALPHABET[next() as usize % ALPHABET.len()];
                match next() % 4 {
                    0 if at < text.len() => text[at] = byte,
                    1 => text.insert(at, byte),
                    2 if at < text.len() => {
                        text.remove(at);
                    }
                    _ => text.truncate(at),
                }
            }
            let serde_ok = serde_accepts(&text);
            if surely_json(&text) {
                assert!(
                    serde_ok,
                    "quick scan accepts what serde_json rejects: {:?}",
                    String::from_utf8_lossy(&text)
                );
                accepted += 1;
            } else {
                rejected += 1;
            }
            assert_eq!(check(&text).is_ok(), serde_ok);
        }
        // Both verdicts were exercised.
        assert!(
            accepted > 1_000 && rejected > 1_000,
            "{accepted} accepted, {rejected} rejected"
        );
    }
}
