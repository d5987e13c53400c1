//! Hand-written JSON output for the request path: strings escaped exactly as
//! `serde_json` escapes them (`"`, `\`, control characters; nothing else),
//! appended straight to a byte buffer. The proxy event and the invoke
//! context are written with these instead of through `Serialize`, which
//! costs several times more per field.

/// Appends `s` as a JSON string, quotes included.
#[inline]
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    push_str_contents(out, s);
    out.push(b'"');
}

/// Appends `s` escaped as the inside of a JSON string. Each run with
/// nothing to escape (the usual case: header values, paths, ids: the whole
/// string) is found a word at a time and copied in one piece. Inlined, up
/// to the first byte to escape: the event writes a few dozen short strings,
/// and a call cost as much as scanning one.
#[inline]
pub fn push_str_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let plain = first_to_escape(bytes);
    out.extend_from_slice(&bytes[..plain]);
    if plain < bytes.len() {
        push_escaped_from(out, bytes, plain);
    }
}

/// The rest of [`push_str_contents`], from `at`, the first byte to escape.
#[inline(never)]
fn push_escaped_from(out: &mut Vec<u8>, bytes: &[u8], mut at: usize) {
    while let Some(escaped) = bytes.get(at).and_then(|&b| escape(b)) {
        out.extend_from_slice(escaped.as_bytes());
        let start = at + 1;
        at = start + first_to_escape(&bytes[start..]);
        out.extend_from_slice(&bytes[start..at]);
    }
}

/// The index of the first byte of `bytes` that is `"`, `\` or below 0x20,
/// `bytes.len()` if none is. The last bytes short of a word are read as the
/// last eight bytes (those before them already passed), or, in a string
/// shorter than a word, gathered into one.
#[inline(always)]
fn first_to_escape(bytes: &[u8]) -> usize {
    let i = skip_plain(bytes, 0);
    if i + 8 <= bytes.len() {
        return i;
    }
    let (at, word) = match bytes.last_chunk::<8>() {
        Some(last) => (bytes.len() - 8, u64::from_le_bytes(*last)),
        None => {
            // Padded above with `a`s, which need no escaping.
            let mut word = u64::from_le_bytes([b'a'; 8]);
            for (k, &b) in bytes.iter().enumerate() {
                word = (word & !(0xff << (8 * k))) | (u64::from(b) << (8 * k));
            }
            (0, word)
        }
    };
    let mask = escape_mask(word);
    if mask == 0 {
        bytes.len()
    } else {
        at + (mask.trailing_zeros() / 8) as usize
    }
}

/// From `i`, the index of the first byte that is `"`, `\\` or below 0x20,
/// found a word at a time; where fewer than eight bytes are left unread,
/// the index of the first of them (the caller reads those one by one).
#[inline(always)]
pub(crate) fn skip_plain(bytes: &[u8], mut i: usize) -> usize {
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let mask = escape_mask(u64::from_le_bytes(*word));
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// The high bit of each byte of `w` that is `"`, `\` or below 0x20, by the
/// classic "has zero byte" / "has byte less than" tests. A byte above a
/// flagged one may be flagged falsely, never one below, so the lowest flag
/// is exact: with `w` read little-endian, `trailing_zeros() / 8` is the index
/// of the first such byte.
const fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let quote = w ^ (ONES * b'"' as u64);
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = w ^ (ONES * b'\\' as u64);
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGH
}

/// How `serde_json` writes byte `b` inside a string, if not as itself.
fn escape(b: u8) -> Option<&'static str> {
    const CONTROL: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007", "\\b", "\\t",
        "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011", "\\u0012", "\\u0013",
        "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c",
        "\\u001d", "\\u001e", "\\u001f",
    ];
    match b {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        0x00..=0x1f => Some(CONTROL[usize::from(b)]),
        _ => None,
    }
}

/// Appends `"key":` (the key is a literal without characters to escape).
pub fn push_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends a string or `null`.
pub fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends an integer.
pub fn push_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_flag_of_escape_mask_is_the_first_byte_to_escape() {
        let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..200_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Bytes drawn mostly from around the boundaries the tests use.
            const NEAR: [u8; 12] = [
                0x00, 0x01, 0x1f, 0x20, 0x21, b'"', b'!', b'#', b'\\', b'[', b']', 0x80,
            ];
            let word: [u8; 8] = std::array::from_fn(|k| {
                let r = (state >> (8 * k)) as u8;
                if round % 2 == 0 {
                    NEAR[usize::from(r) % NEAR.len()]
                } else {
                    r
                }
            });
            let mask = escape_mask(u64::from_le_bytes(word));
            let first = word.iter().position(|&b| special(b));
            let flagged = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
            assert_eq!(flagged, first, "{word:?}");
        }
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        let mut samples: Vec<String> = vec![
            String::new(),
            "plain".into(),
            "quote \" backslash \\ slash / tab \t nl \n cr \r".into(),
            "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f} é 漢字 🦀 \u{2028}".into(),
        ];
        samples.extend((0u8..=0x7f).map(|b| format!("a{}b", b as char)));
        // Every position inside and across the eight-byte words.
        for len in 1..20 {
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{1}', '\u{1f}', ' ', '\u{7f}', 'é'] {
                    let mut s: String = "abcdefghijklmnopqrstu".chars().take(len).collect();
                    s.replace_range(at..=at, &c.to_string());
                    samples.push(s);
                }
            }
        }
        for s in samples {
            let mut out = Vec::new();
            push_str(&mut out, &s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
        let mut out = Vec::new();
        push_int(&mut out, -42i64);
        push_opt_str(&mut out, None);
        assert_eq!(out, b"-42null");
    }
}
