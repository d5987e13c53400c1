//! Values a template computes with, modelled on the Java objects API Gateway's
//! Velocity sees: `Integer`/`Long`, `Double`, `String`, `Boolean`,
//! `ArrayList`, `LinkedHashMap`, json-smart's `JSONArray` (a list that prints
//! as JSON), `Map.Entry`, and the gateway's own `$input`/`$util` objects.
//!
//! Printing follows Java's `toString()`: `{k=v, k2=v2}` for maps, `[a, b]` for
//! lists, `1.0` / `1.0E10` for doubles — except lists that came from JSON,
//! which print as compact JSON, as API Gateway's do.

use std::cell::{OnceCell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;

use indexmap::IndexMap;

/// A VTL map: insertion-ordered, hashed with foldhash (several times
/// cheaper than SipHash for the short keys templates use, and seeded).
pub(crate) type Entries = IndexMap<Text, Value, foldhash::fast::RandomState>;

use super::error::VtlError;
pub(crate) use super::text::Text;

/// How deep printing, JSON conversion and comparison follow nested values.
pub(crate) const MAX_VALUE_DEPTH: usize = 200;

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(Text),
    List(ListRef),
    Map(MapRef),
    Entry(Rc<(Text, Value)>),
    Object(Builtin),
}

pub(crate) type ListRef = Rc<RefCell<List>>;

/// A method call's arguments: inline for up to two, the usual count, so a
/// call does not allocate.
pub(crate) type Args = smallvec::SmallVec<[Value; 2]>;
pub(crate) type MapRef = Rc<RefCell<Map>>;

#[derive(Debug, Default)]
pub(crate) struct List {
    pub items: Vec<Value>,
    /// A json-smart `JSONArray`: prints as JSON.
    pub json: bool,
}

/// A VTL map. One read from JSON text keeps its entries as read (text
/// order, a repeated key repeated) until something needs the index: a
/// lookup in a small map scans them instead, so a document whose maps are
/// read a few keys each never hashes its keys.
#[derive(Debug, Default)]
pub(crate) struct Map {
    /// Entries read from JSON and not yet indexed. Of a repeated key the
    /// last value counts, in the first one's place (as indexing keeps it).
    read: RefCell<Vec<(Text, Value)>>,
    /// Lookups answered by scanning `read`.
    scans: std::cell::Cell<u32>,
    indexed: OnceCell<Entries>,
}

/// A map read from JSON answers this many lookups by scanning its entries
/// if it has at most [`SCANNED_MAP_LEN`], before it builds its index: a
/// few lookups in a small map cost less than hashing every key (and one of
/// at most [`ALWAYS_SCANNED_MAP_LEN`] is scanned for every lookup).
const SCANNED_LOOKUPS: u32 = 8;
const SCANNED_MAP_LEN: usize = 32;
/// A map this small is scanned for every lookup: comparing a few keys
/// costs less than hashing one.
const ALWAYS_SCANNED_MAP_LEN: usize = 4;

impl Map {
    pub(crate) fn from_read(read: Vec<(Text, Value)>) -> Map {
        Map {
            read: RefCell::new(read),
            scans: std::cell::Cell::new(0),
            indexed: OnceCell::new(),
        }
    }

    /// The entries, indexed.
    pub(crate) fn entries(&self) -> &Entries {
        self.indexed
            .get_or_init(|| self.read.take().into_iter().collect())
    }

    pub(crate) fn entries_mut(&mut self) -> &mut Entries {
        if self.indexed.get().is_none() {
            let read = std::mem::take(self.read.get_mut());
            self.indexed = OnceCell::from(read.into_iter().collect::<Entries>());
        }
        match self.indexed.get_mut() {
            Some(entries) => entries,
            None => unreachable!("indexed just above"),
        }
    }

    /// The value under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Value> {
        if let Some(entries) = self.indexed.get() {
            return entries.get(key).cloned();
        }
        let read = self.read.borrow();
        if read.len() <= ALWAYS_SCANNED_MAP_LEN
            || (self.scans.get() < SCANNED_LOOKUPS && read.len() <= SCANNED_MAP_LEN)
        {
            self.scans.set(self.scans.get() + 1);
            return read
                .iter()
                .rev()
                .find(|(k, _)| k.byte_len() == key.len() && k.as_str() == key)
                .map(|(_, v)| v.clone());
        }
        drop(read);
        self.entries().get(key).cloned()
    }
}

/// The gateway objects and loop state a template can reach.
#[derive(Debug, Clone)]
pub(crate) enum Builtin {
    Input,
    Util,
    Foreach(Rc<RefCell<LoopState>>),
}

#[derive(Debug, Default)]
pub(crate) struct LoopState {
    pub index: usize,
    pub has_next: bool,
    pub parent: Option<Value>,
}

/// The properties of `$foreach`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoopProperty {
    Index,
    Count,
    HasNext,
    First,
    Last,
    Parent,
}

impl LoopProperty {
    pub(crate) fn named(name: &str) -> Option<LoopProperty> {
        Some(match name {
            "index" => LoopProperty::Index,
            "count" => LoopProperty::Count,
            "hasNext" => LoopProperty::HasNext,
            "first" => LoopProperty::First,
            "last" => LoopProperty::Last,
            "parent" => LoopProperty::Parent,
            _ => return None,
        })
    }

    /// This property of the loop in `state`.
    pub(crate) fn of(self, state: &LoopState) -> Value {
        match self {
            LoopProperty::Index => Value::Int(state.index as i64),
            LoopProperty::Count => Value::Int(state.index as i64 + 1),
            LoopProperty::HasNext => Value::Bool(state.has_next),
            LoopProperty::First => Value::Bool(state.index == 0),
            LoopProperty::Last => Value::Bool(!state.has_next),
            LoopProperty::Parent => state.parent.clone().unwrap_or(Value::Null),
        }
    }
}

impl Value {
    pub(crate) fn str(s: impl Into<Text>) -> Value {
        Value::Str(s.into())
    }

    pub(crate) fn new_list(items: Vec<Value>, json: bool) -> Value {
        Value::List(Rc::new(RefCell::new(List { items, json })))
    }

    pub(crate) fn new_map(entries: Entries) -> Value {
        Value::Map(Rc::new(RefCell::new(Map {
            read: RefCell::default(),
            scans: std::cell::Cell::new(0),
            indexed: OnceCell::from(entries),
        })))
    }

    /// A map of entries read from JSON text (see [`Map`]).
    pub(crate) fn read_map(read: Vec<(Text, Value)>) -> Value {
        Value::Map(Rc::new(RefCell::new(Map::from_read(read))))
    }

    /// A list, map or entry: a value that holds other values.
    pub(crate) fn is_container(&self) -> bool {
        matches!(self, Value::List(_) | Value::Map(_) | Value::Entry(_))
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Double(_))
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// Java's `toString()` of this value.
    pub(crate) fn display(&self) -> Result<String, VtlError> {
        let mut out = String::new();
        write_display(&mut out, self, 0)?;
        Ok(out)
    }

    /// Compact JSON text, as json-smart writes it.
    pub(crate) fn to_json(&self) -> Result<String, VtlError> {
        // Room for a typical small document, so that it is not regrown
        // string by string.
        let mut out = String::with_capacity(256);
        write_json(&mut out, self, 0)?;
        Ok(out)
    }
}

fn too_deep() -> VtlError {
    VtlError::limit(format!(
        "value nested deeper than {MAX_VALUE_DEPTH} levels (or contains itself)"
    ))
}

fn write_display(out: &mut String, v: &Value, depth: usize) -> Result<(), VtlError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Double(d) => out.push_str(&java_double(*d)),
        Value::Str(s) => out.push_str(s),
        Value::List(l) => {
            let l = l.borrow();
            if l.json {
                return write_json_list(out, &l.items, depth);
            }
            out.push('[');
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_display(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.borrow().entries().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_display(out, item, depth + 1)?;
            }
            out.push('}');
        }
        Value::Entry(e) => {
            out.push_str(&e.0);
            out.push('=');
            write_display(out, &e.1, depth + 1)?;
        }
        Value::Object(Builtin::Input) => out.push_str("$input"),
        Value::Object(Builtin::Util) => out.push_str("$util"),
        Value::Object(Builtin::Foreach(_)) => out.push_str("$foreach"),
    }
    Ok(())
}

fn write_json_list(out: &mut String, items: &[Value], depth: usize) -> Result<(), VtlError> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json(out, item, depth + 1)?;
    }
    out.push(']');
    Ok(())
}

fn write_json(out: &mut String, v: &Value, depth: usize) -> Result<(), VtlError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Double(d) if d.is_finite() => out.push_str(&java_double(*d)),
        Value::Double(_) => out.push_str("null"),
        Value::Str(s) => json_string(out, s),
        Value::List(l) => write_json_list(out, &l.borrow().items, depth)?,
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.borrow().entries().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, k);
                out.push(':');
                write_json(out, item, depth + 1)?;
            }
            out.push('}');
        }
        Value::Entry(e) => {
            out.push('{');
            json_string(out, &e.0);
            out.push(':');
            write_json(out, &e.1, depth + 1)?;
            out.push('}');
        }
        Value::Object(_) => json_string(out, &v.display()?),
    }
    Ok(())
}

/// A JSON string literal with json-smart's default escaping (which also
/// escapes `/`, as `\/`).
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    // Runs of printable ASCII other than `"`, `\` and `/` (most strings
    // are one run) are copied whole; the character after a run is looked
    // at on its own.
    while let Some(run) = rest
        .bytes()
        .position(|b| !matches!(b, b' '..=b'~') || matches!(b, b'"' | b'\\' | b'/'))
    {
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        json_char(out, c);
    }
    out.push_str(rest);
    out.push('"');
}

/// One character of a JSON string, escaped as json-smart escapes it.
fn json_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '/' => out.push_str("\\/"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c if (c as u32) < 0x20
            || (0x7f..=0x9f).contains(&(c as u32))
            || (0x2000..=0x20ff).contains(&(c as u32)) =>
        {
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
        c => out.push(c),
    }
}

/// Java's `Double.toString`: plain notation for 1e-3 <= |d| < 1e7 (always
/// with a fraction digit), `d.dddE±n` outside it.
pub(crate) fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        if s.contains('.') { s } else { s + ".0" }
    } else {
        let s = format!("{d:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// Java `equals` between two values (numbers of one kind compare by value;
/// a list equals a list with equal items; a map a map with equal entries).
pub(crate) fn java_equals(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Double(x), Value::Double(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.items.len() == y.items.len()
                && x.items
                    .iter()
                    .zip(&y.items)
                    .all(|(p, q)| java_equals(p, q, depth + 1))
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            let (x, y) = (x.entries(), y.entries());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| java_equals(v, w, depth + 1)))
        }
        (Value::Entry(x), Value::Entry(y)) => x.0 == y.0 && java_equals(&x.1, &y.1, depth + 1),
        _ => false,
    }
}

// ---- JSON in ------------------------------------------------------------

/// Builds values from JSON text keeping object key order (objects become
/// Java-style maps, arrays JSON-printing lists), as Jayway/json-smart does.
struct JsonSeed;

impl<'de> serde::de::DeserializeSeed<'de> for JsonSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Double(u as f64), Value::Int))
    }
    fn visit_f64<E>(self, d: f64) -> Result<Value, E> {
        Ok(Value::Double(d))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(JsonSeed)? {
            items.push(v);
        }
        Ok(Value::new_list(items, true))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Entries::default();
        while let Some(k) = map.next_key_seed(KeySeed)? {
            let v = map.next_value_seed(JsonSeed)?;
            entries.insert(k, v);
        }
        Ok(Value::new_map(entries))
    }
}

/// An object key straight into the shared string a map keeps (one
/// allocation, not a `String` and then a copy).
struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Text;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeySeed {
    type Value = Text;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, s: &str) -> Result<Text, E> {
        Ok(Text::from(s))
    }
}

/// Parse JSON text into template values: the common shapes on the quick
/// path ([`super::quick_json`]), anything else through `serde_json`.
pub(crate) fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    match super::quick_json::parse(text) {
        Some(value) => Ok(value),
        None => parse_json_slowly(text),
    }
}

/// [`parse_json`] through `serde_json` alone: strict JSON, then what
/// json-smart's permissive reading also takes.
pub(crate) fn parse_json_slowly(text: &str) -> Result<Value, serde_json::Error> {
    parse_strict(text).or_else(|e| match relax(text) {
        Some(relaxed) => parse_strict(&relaxed).map_err(|_| e),
        None => Err(e),
    })
}

fn parse_strict(text: &str) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed as _;
    let mut de = serde_json::Deserializer::from_str(text);
    let v = JsonSeed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// What API Gateway's permissive JSON parser (json-smart) also reads,
/// rewritten as strict JSON: trailing commas, single-quoted strings and
/// unquoted keys and words (`{a: 'b', c: d,}` is `{"a":"b","c":"d"}`). None
/// when there is nothing to rewrite. AWS's own example bodies carry
/// trailing commas (`{"id": 1, "type": "dog", "Age": 11, }`).
fn relax(text: &str) -> Option<String> {
    // Every byte that matters is ASCII, so runs are cut at char boundaries;
    // bytes of multi-byte characters count as word bytes.
    fn word_byte(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b >= 0x80 || matches!(b, b'_' | b'$' | b'-' | b'+' | b'.')
    }
    let bytes = text.as_bytes();
    let next_significant = |from: usize| bytes[from..].iter().copied().find(|b| !b.is_ascii_whitespace());
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                let end = i.min(bytes.len());
                out.push_str(&text[start..end]);
            }
            b'\'' => {
                changed = true;
                out.push('"');
                i += 1;
                let mut run = i;
                while i < bytes.len() && bytes[i] != b'\'' {
                    match bytes[i] {
                        b'\\' if bytes.get(i + 1) == Some(&b'\'') => {
                            out.push_str(&text[run..i]);
                            out.push('\'');
                            i += 2;
                            run = i;
                        }
                        b'\\' => i += 2,
                        b'"' => {
                            out.push_str(&text[run..i]);
                            out.push_str("\\\"");
                            i += 1;
                            run = i;
                        }
                        _ => i += 1,
                    }
                }
                let end = i.min(bytes.len());
                out.push_str(&text[run.min(end)..end]);
                out.push('"');
                i += 1;
            }
            b',' if matches!(next_significant(i + 1), Some(b'}' | b']')) => {
                changed = true;
                i += 1;
            }
            b if word_byte(b) => {
                let start = i;
                while i < bytes.len() && word_byte(bytes[i]) {
                    i += 1;
                }
                let word = &text[start..i];
                let is_key = next_significant(i) == Some(b':');
                let literal = matches!(word, "true" | "false" | "null")
                    || serde_json::from_str::<serde_json::Number>(word).is_ok();
                if is_key || !literal {
                    changed = true;
                    out.push('"');
                    out.push_str(word);
                    out.push('"');
                } else {
                    out.push_str(word);
                }
            }
            _ => {
                // One ASCII byte (structural or whitespace).
                out.push_str(&text[i..i + 1]);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

/// A `serde_json::Value` as template values (JSON-printing lists, Java maps).
pub(crate) fn from_serde(v: &serde_json::Value, depth: usize) -> Value {
    if depth > MAX_VALUE_DEPTH {
        return Value::Null;
    }
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::str(s.as_str()),
        serde_json::Value::Array(a) => {
            Value::new_list(a.iter().map(|x| from_serde(x, depth + 1)).collect(), true)
        }
        serde_json::Value::Object(o) => Value::new_map(
            o.iter()
                .map(|(k, x)| (Text::from(k.as_str()), from_serde(x, depth + 1)))
                .collect(),
        ),
    }
}

/// Template values back to `serde_json` (non-JSON values become strings).
pub(crate) fn to_serde(v: &Value, depth: usize) -> Result<serde_json::Value, VtlError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Double(d) => {
            serde_json::Number::from_f64(*d).map_or(serde_json::Value::Null, serde_json::Value::Number)
        }
        Value::Str(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(
            l.borrow()
                .items
                .iter()
                .map(|x| to_serde(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, x) in m.borrow().entries().iter() {
                o.insert(k.to_string(), to_serde(x, depth + 1)?);
            }
            serde_json::Value::Object(o)
        }
        Value::Entry(e) => {
            let mut o = serde_json::Map::new();
            o.insert(e.0.to_string(), to_serde(&e.1, depth + 1)?);
            serde_json::Value::Object(o)
        }
        Value::Object(_) => serde_json::Value::String(v.display()?),
    })
}

/// Empties every container reachable from `roots` without recursion, so that
/// reference cycles (`$list.add($list)`) are broken and very deep nesting is
/// dropped without exhausting the stack.
pub(crate) fn teardown(roots: Vec<Value>) {
    let mut work = roots;
    while let Some(v) = work.pop() {
        match v {
            Value::List(l) => {
                if let Ok(mut l) = l.try_borrow_mut() {
                    work.append(&mut l.items);
                }
            }
            Value::Map(m) => {
                if let Ok(mut m) = m.try_borrow_mut() {
                    work.extend(m.read.get_mut().drain(..).map(|(_, v)| v));
                    if let Some(entries) = m.indexed.get_mut() {
                        work.extend(entries.drain(..).map(|(_, v)| v));
                    }
                }
            }
            Value::Entry(e) => {
                if let Ok(e) = Rc::try_unwrap(e) {
                    work.push(e.1);
                }
            }
            Value::Object(Builtin::Foreach(f)) => {
                if let Ok(mut f) = f.try_borrow_mut()
                    && let Some(p) = f.parent.take()
                {
                    work.push(p);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map read from JSON answers lookups by scanning, then by its index,
    /// and both see a repeated key's last value in its first place.
    #[test]
    fn a_read_map_answers_the_same_scanned_or_indexed() {
        let Ok(Value::Map(m)) = parse_json(r#"{"a":1,"b":2,"a":3}"#) else {
            panic!("a map");
        };
        let m = m.borrow();
        for _ in 0..=SCANNED_LOOKUPS + 1 {
            assert!(matches!(m.get("a"), Some(Value::Int(3))));
            assert!(m.get("c").is_none());
        }
        let keys: Vec<&str> = m.entries().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert!(matches!(m.get("b"), Some(Value::Int(2))));
    }

    /// Copying plain runs whole escapes exactly what escaping each
    /// character does.
    #[test]
    fn json_string_escapes_as_each_character_would() {
        let samples = [
            "",
            "plain ascii, longer than one word",
            "a/b \"q\" back\\slash",
            "\u{0}\u{1f} tab\t nl\n cr\r bs\u{8} ff\u{c}",
            "del\u{7f} c1\u{80}\u{9f} past\u{a0}",
            "caf\u{e9} \u{2000}\u{2028}\u{20ff}\u{2100} \u{1f600}",
            "/",
            "~ and } and {",
        ];
        for s in samples {
            let mut each = String::from("\"");
            s.chars().for_each(|c| json_char(&mut each, c));
            each.push('"');
            let mut runs = String::new();
            json_string(&mut runs, s);
            assert_eq!(runs, each, "for {s:?}");
        }
    }
}
