//! JSON text read straight into template values, for the shapes request and
//! response bodies usually have, without going through `serde_json`'s
//! visitor for every token. It is a fast path, not a second parser of
//! record: it answers only where its answer is the one `serde_json` (the
//! [`super::value::JsonSeed`] path) gives, and says "don't know" (`None`)
//! for anything else, which then goes to `serde_json`:
//!
//! - numbers other than integers of up to 18 digits (fractions, exponents,
//!   `-0` and larger integers take `serde_json`'s own rounding and range
//!   rules);
//! - `\u` escapes (surrogate pairs and their errors);
//! - anything that is not JSON, and nesting deeper than [`MAX_DEPTH`].
//!
//! Containers are gathered on one scratch stack shared by every level and
//! moved into an allocation of the exact size when they close, and strings
//! and keys without escapes are slices of one shared copy of the text
//! ([`Text`]), so a document costs one allocation per list and map, and
//! nothing regrows.

use std::rc::Rc;

use super::value::{Text, Value};
use crate::json_out::skip_plain;

/// Containers followed before the text is left to `serde_json` (whose own
/// limit is 128).
const MAX_DEPTH: usize = 100;

/// Scratch capacity a thread keeps between parses (items, entries, bytes):
/// what one request or result of ordinary size needs, not what the
/// largest body ever read did.
const KEPT_SCRATCH: usize = 4096;

thread_local! {
    /// The scratch of the last parse on this thread, so that the next one
    /// does not grow its stacks from empty (a few reallocations for every
    /// document with more than a handful of keys).
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    /// Items of the lists still open, innermost last.
    items: Vec<Value>,
    /// Entries of the maps still open, innermost last.
    entries: Vec<(Text, Value)>,
    /// Where a string with escapes is decoded.
    unescaped: String,
}

/// The value of `text` if it is one JSON value of the shapes above, with
/// optional whitespace around it.
pub(crate) fn parse(text: &str) -> Option<Value> {
    parse_shared(&Rc::from(text))
}

/// [`parse`] of a text already shared: its strings are slices of it.
pub(crate) fn parse_shared(shared: &Rc<str>) -> Option<Value> {
    let text: &str = shared;
    let mut reader = Reader {
        text,
        shared: shared.clone(),
        bytes: text.as_bytes(),
        at: 0,
        scratch: SCRATCH.take(),
    };
    let value = reader.value(0).and_then(|value| {
        reader.skip_ws();
        (reader.at == reader.bytes.len()).then_some(value)
    });
    let mut scratch = reader.scratch;
    if scratch.items.capacity() <= KEPT_SCRATCH
        && scratch.entries.capacity() <= KEPT_SCRATCH
        && scratch.unescaped.capacity() <= KEPT_SCRATCH
    {
        // Empty after a complete read; what a declined one left is cleared.
        scratch.items.clear();
        scratch.entries.clear();
        SCRATCH.set(scratch);
    }
    value
}

struct Reader<'t> {
    text: &'t str,
    /// `text`, shared by every unescaped string and key read from it.
    shared: Rc<str>,
    bytes: &'t [u8],
    at: usize,
    scratch: Scratch,
}

impl Reader<'_> {
    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// The value at the cursor (whitespace before it is skipped).
    fn value(&mut self, depth: usize) -> Option<Value> {
        self.skip_ws();
        let first = *self.bytes.get(self.at)?;
        match first {
            b'"' => {
                self.at += 1;
                self.string().map(Value::Str)
            }
            b'{' => self.map(depth + 1),
            b'[' => self.list(depth + 1),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Option<Value> {
        self.bytes[self.at..].starts_with(word).then(|| {
            self.at += word.len();
            value
        })
    }

    /// An integer `serde_json` would also give as an `i64`: up to 18
    /// digits, no leading zero, not `-0`, no fraction or exponent.
    fn integer(&mut self) -> Option<Value> {
        let negative = self.bytes[self.at] == b'-';
        let start = self.at + usize::from(negative);
        let digits = self.bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 18 || (digits > 1 && self.bytes[start] == b'0') {
            return None;
        }
        let end = start + digits;
        if let Some(b'.' | b'e' | b'E') = self.bytes.get(end) {
            return None;
        }
        let magnitude = self.bytes[start..end]
            .iter()
            .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        if negative && magnitude == 0 {
            return None;
        }
        self.at = end;
        Some(Value::Int(if negative { -magnitude } else { magnitude }))
    }

    /// A string's contents from the cursor (just past its opening quote)
    /// through its closing quote.
    fn string(&mut self) -> Option<Text> {
        let start = self.at;
        let mut i = skip_plain(self.bytes, start);
        loop {
            match *self.bytes.get(i)? {
                b'"' => {
                    self.at = i + 1;
                    return Some(Text::slice(&self.shared, start, i));
                }
                b'\\' => return self.escaped_string(start, i),
                0x00..=0x1f => return None,
                _ => i = skip_plain(self.bytes, i + 1),
            }
        }
    }

    /// The rest of a string that has an escape at `i`.
    fn escaped_string(&mut self, start: usize, mut i: usize) -> Option<Text> {
        let mut out = std::mem::take(&mut self.scratch.unescaped);
        out.clear();
        let mut run = start;
        let found = loop {
            match *self.bytes.get(i)? {
                b'"' => {
                    out.push_str(&self.text[run..i]);
                    break Some(i + 1);
                }
                b'\\' => {
                    out.push_str(&self.text[run..i]);
                    out.push(match *self.bytes.get(i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        _ => break None,
                    });
                    i += 2;
                    run = i;
                }
                0x00..=0x1f => break None,
                _ => i = skip_plain(self.bytes, i + 1),
            }
        };
        let value = found.map(|end| {
            self.at = end;
            Text::from(out.as_str())
        });
        self.scratch.unescaped = out;
        value
    }

    fn list(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.skip_ws();
        let base = self.scratch.items.len();
        if self.bytes.get(self.at) != Some(&b']') {
            loop {
                let item = self.value(depth)?;
                self.scratch.items.push(item);
                self.skip_ws();
                match self.bytes.get(self.at)? {
                    b',' => self.at += 1,
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.at += 1;
        Some(Value::new_list(self.scratch.items.drain(base..).collect(), true))
    }

    fn map(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.skip_ws();
        let base = self.scratch.entries.len();
        if self.bytes.get(self.at) != Some(&b'}') {
            loop {
                if self.bytes.get(self.at) != Some(&b'"') {
                    return None;
                }
                self.at += 1;
                let key = self.string()?;
                self.skip_ws();
                if self.bytes.get(self.at) != Some(&b':') {
                    return None;
                }
                self.at += 1;
                let value = self.value(depth)?;
                self.scratch.entries.push((key, value));
                self.skip_ws();
                match self.bytes.get(self.at)? {
                    b',' => {
                        self.at += 1;
                        self.skip_ws();
                    }
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        self.at += 1;
        // Kept as read: the map indexes (or scans) them when asked, and a
        // repeated key then keeps its first place and its last value, as
        // `serde_json` feeding an insertion-ordered map does.
        Some(Value::read_map(self.scratch.entries.drain(base..).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::parse_json_slowly;
    use super::*;

    /// Both readings, printed as JSON with the list/map kinds visible.
    fn agree(text: &str) -> Option<String> {
        let quick = parse(text)?;
        let slow = parse_json_slowly(text).expect("serde_json reads what the quick path reads");
        let (quick, slow) = (shape(&quick), shape(&slow));
        assert_eq!(quick, slow, "quick and serde_json readings differ for {text:?}");
        Some(quick)
    }

    /// Display, JSON and the value kinds at every level.
    fn shape(v: &Value) -> String {
        fn kinds(v: &Value, out: &mut String) {
            match v {
                Value::Null => out.push('n'),
                Value::Bool(b) => out.push_str(if *b { "T" } else { "F" }),
                Value::Int(i) => out.push_str(&format!("i{i}")),
                Value::Double(d) => out.push_str(&format!("d{:?}", d.to_bits())),
                Value::Str(s) => out.push_str(&format!("s{s:?}")),
                Value::List(l) => {
                    let l = l.borrow();
                    out.push_str(if l.json { "J[" } else { "[" });
                    l.items.iter().for_each(|x| kinds(x, out));
                    out.push(']');
                }
                Value::Map(m) => {
                    out.push('{');
                    for (k, x) in m.borrow().entries().iter() {
                        out.push_str(&format!("{k:?}:"));
                        kinds(x, out);
                    }
                    out.push('}');
                }
                other => out.push_str(&format!("{other:?}")),
            }
        }
        let mut out = String::new();
        kinds(v, &mut out);
        out.push_str(&format!(" | {:?} | {:?}", v.display().ok(), v.to_json().ok()));
        out
    }

    #[test]
    fn reads_what_bodies_usually_hold_as_serde_json_does() {
        for text in [
            "{}",
            "[]",
            " { \"a\" : [ 1 , -2 , 0 , true , false , null , \"x\" ] } \n",
            "\"plain\"",
            "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end\"",
            "\"caf\u{e9} \u{1f600} and more than eight bytes\"",
            "{\"a\":{\"b\":{\"c\":[{\"d\":{}}]}}}",
            "{\"k\":1,\"k\":2,\"j\":3}",
            "999999999999999999",
            "-999999999999999999",
            "[[[[[[[[[[]]]]]]]]]]",
            "{\"hello\":\"world\",\"items\":[\"item-1\",\"item-2\"],\"n\":42}",
        ] {
            assert!(agree(text).is_some(), "quick path declined {text:?}");
        }
    }

    #[test]
    fn leaves_the_rest_to_serde_json() {
        for text in [
            "1.5",
            "1e3",
            "-0",
            "1234567890123456789",
            "\"\\u00e9\"",
            "\"\\uD83D\\uDE00\"",
            "01",
            "{\"a\":1,}",
            "[1,]",
            "{'a':1}",
            "{a:1}",
            "\"tab\there\"",
            "\"bad \\x escape\"",
            "[1] 2",
            "",
            "  ",
            "tru",
            "nul",
            "\"open",
            "{\"a\"",
            "{\"a\":",
            "[1",
        ] {
            assert!(parse(text).is_none(), "quick path answered {text:?}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_none());
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(agree(&fine).is_some());
    }

    /// Many generated documents, valid and broken: wherever the quick path
    /// answers, `serde_json`'s reading is the same value.
    #[test]
    fn agrees_with_serde_json_on_generated_documents() {
        const PIECES: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\"a\"",
            "\"key\"",
            "\"x\\ny\"",
            "\"\\\"\"",
            "\"é\"",
            "\"\\u0041\"",
            "0",
            "7",
            "-3",
            "12",
            "1.5",
            "-0",
            "true",
            "false",
            "null",
            "\"\t\"",
            "\\",
            "\"long string value with plenty of bytes\"",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut answered = 0;
        for _ in 0..20_000 {
            let len = 1 + (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            if agree(&text).is_some() {
                answered += 1;
            }
        }
        // Well-formed documents from structured generation, so that the
        // comparison covers nested containers, not only scalars.
        fn document(next: &mut dyn FnMut() -> u64, depth: usize) -> String {
            match next() % if depth > 4 { 4 } else { 6 } {
                0 => "\"s\\tq\"".to_string(),
                1 => format!("{}", (next() % 2000) as i64 - 1000),
                2 => ["true", "false", "null"][(next() % 3) as usize].to_string(),
                3 => "\"plain text\"".to_string(),
                4 => {
                    let n = next() % 4;
                    let items: Vec<String> = (0..n).map(|_| document(next, depth + 1)).collect();
                    format!("[{}]", items.join(", "))
                }
                _ => {
                    let n = next() % 4;
                    let fields: Vec<String> = (0..n)
                        .map(|_| format!("\"k{}\" : {}", next() % 3, document(next, depth + 1)))
                        .collect();
                    format!("{{{}}}", fields.join(","))
                }
            }
        }
        for _ in 0..5_000 {
            let text = document(&mut next, 0);
            assert!(agree(&text).is_some(), "quick path declined {text:?}");
        }
        assert!(
            answered > 100,
            "only {answered} generated texts were read by the quick path"
        );
    }
}
