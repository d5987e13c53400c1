//! The Java methods templates call on values: `String`, `List`, `Map`,
//! `Map.Entry`, numbers, booleans and the `$foreach` scope.
//!
//! An unknown method, or arguments of the wrong Java type, give null (Velocity
//! finds no method and the reference stays unrendered). A method that would
//! throw in Java (`substring` out of range, `get` past the end, a bad regex)
//! is an error. String positions count UTF-16 units, as Java's do.

use std::rc::Rc;

use super::error::{ErrorKind, VtlError};
use super::render::{MAX_ITEMS, Renderer};
use super::value::{Args, Builtin, LoopProperty, Value, java_equals};
use super::value::{Entries, Text};

fn thrown(message: impl Into<String>) -> VtlError {
    VtlError::new(ErrorKind::MethodInvocation, message, None)
}

pub(crate) fn call(
    r: &mut Renderer<'_, '_>,
    target: &Value,
    name: &str,
    args: Args,
) -> Result<Value, VtlError> {
    // Methods every Java object has.
    match (name, args.as_slice()) {
        ("toString", []) => {
            return match target {
                Value::Str(_) => Ok(target.clone()),
                _ => r.built(target.display()?),
            };
        }
        ("equals", [other]) => return Ok(Value::Bool(java_equals(target, other, 0))),
        _ => {}
    }
    match target {
        Value::Str(s) => string_method(r, s, name, &args),
        Value::List(_) => list_method(r, target, name, args),
        Value::Map(_) => map_method(r, target, name, args),
        Value::Int(_) | Value::Double(_) => Ok(number_method(target, name, &args)),
        Value::Bool(b) => Ok(match (name, args.as_slice()) {
            ("booleanValue", []) => Value::Bool(*b),
            _ => Value::Null,
        }),
        Value::Entry(e) => Ok(match (name, args.as_slice()) {
            ("getKey", []) => Value::Str(e.0.clone()),
            ("getValue", []) => e.1.clone(),
            _ => Value::Null,
        }),
        Value::Object(Builtin::Foreach(s)) => {
            // The getters of the properties `$foreach.index` etc. read.
            let property = match (name, args.as_slice()) {
                ("hasNext", []) => Some(LoopProperty::HasNext),
                ("getIndex", []) => Some(LoopProperty::Index),
                ("getCount", []) => Some(LoopProperty::Count),
                ("isFirst", []) => Some(LoopProperty::First),
                ("isLast", []) => Some(LoopProperty::Last),
                ("getParent", []) => Some(LoopProperty::Parent),
                _ => None,
            };
            Ok(property.map_or(Value::Null, |p| p.of(&s.borrow())))
        }
        _ => Ok(Value::Null),
    }
}

// ---- strings ----------------------------------------------------------------

fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Byte offset of UTF-16 position `i` (clamped to the string).
fn byte_at(s: &str, i: usize) -> usize {
    if s.is_ascii() {
        return i.min(s.len());
    }
    let mut units = 0;
    for (b, c) in s.char_indices() {
        if units >= i {
            return b;
        }
        units += c.len_utf16();
    }
    s.len()
}

/// UTF-16 position of byte offset `b`.
fn unit_at(s: &str, b: usize) -> usize {
    if s.is_ascii() {
        b
    } else {
        s[..b].encode_utf16().count()
    }
}

fn substring(s: &str, begin: i64, end: i64) -> Result<String, VtlError> {
    let len = utf16_len(s) as i64;
    if begin < 0 || end > len || begin > end {
        return Err(thrown(format!(
            "StringIndexOutOfBoundsException: begin {begin}, end {end}, length {len}"
        )));
    }
    if s.is_ascii() {
        return Ok(s[begin as usize..end as usize].to_string());
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    Ok(String::from_utf16_lossy(&units[begin as usize..end as usize]))
}

fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn java_hash(s: &str) -> i64 {
    let mut h: i32 = 0;
    for u in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(u as i32);
    }
    h as i64
}

fn string_method(r: &mut Renderer<'_, '_>, s: &Text, name: &str, args: &[Value]) -> Result<Value, VtlError> {
    use Value::{Int, Str};
    Ok(match (name, args) {
        ("length", []) => Int(utf16_len(s) as i64),
        ("isEmpty", []) => Value::Bool(s.is_empty()),
        ("contains", [Str(x)]) => Value::Bool(s.contains(&**x)),
        ("startsWith", [Str(x)]) => Value::Bool(s.starts_with(&**x)),
        ("startsWith", [Str(x), Int(from)]) => {
            Value::Bool(*from >= 0 && s[byte_at(s, *from as usize)..].starts_with(&**x))
        }
        ("endsWith", [Str(x)]) => Value::Bool(s.ends_with(&**x)),
        ("indexOf", [Str(x)]) => Int(s.find(&**x).map_or(-1, |b| unit_at(s, b) as i64)),
        ("indexOf", [Str(x), Int(from)]) => {
            let start = byte_at(s, (*from).max(0) as usize);
            Int(s[start..].find(&**x).map_or(-1, |b| unit_at(s, start + b) as i64))
        }
        ("lastIndexOf", [Str(x)]) => Int(s.rfind(&**x).map_or(-1, |b| unit_at(s, b) as i64)),
        ("lastIndexOf", [Str(x), Int(from)]) => {
            if *from < 0 {
                Int(-1)
            } else {
                let end = byte_at(s, *from as usize).saturating_add(x.len()).min(s.len());
                let end = (0..=end).rev().find(|&e| s.is_char_boundary(e)).unwrap_or(0);
                Int(s[..end].rfind(&**x).map_or(-1, |b| unit_at(s, b) as i64))
            }
        }
        ("substring", [Int(a)]) => r.built(substring(s, *a, utf16_len(s) as i64)?)?,
        ("substring", [Int(a), Int(b)]) => r.built(substring(s, *a, *b)?)?,
        ("subSequence", [Int(a), Int(b)]) => r.built(substring(s, *a, *b)?)?,
        ("charAt", [Int(i)]) => {
            let len = utf16_len(s) as i64;
            if *i < 0 || *i >= len {
                return Err(thrown(format!(
                    "StringIndexOutOfBoundsException: index {i}, length {len}"
                )));
            }
            Value::str(substring(s, *i, i + 1)?)
        }
        ("replace", [a, b]) if !a.is_null() && !b.is_null() => {
            let (a, b) = (a.display()?, b.display()?);
            r.tick(s.len() as u64 / 64)?;
            if a.is_empty() {
                // Java inserts the replacement around every char.
                let mut out = b.clone();
                for c in s.chars() {
                    out.push(c);
                    out.push_str(&b);
                    if out.len() > super::render::MAX_STRING {
                        break;
                    }
                }
                r.built(out)?
            } else {
                r.built(s.replace(&a, &b))?
            }
        }
        ("replaceAll", [Str(re), Str(rep)]) => {
            let regex = regex(r, re)?;
            let rep = java_replacement(rep, regex.captures_len() - 1)?;
            r.tick(s.len() as u64 / 64)?;
            r.built(regex.replace_all(s, rep.as_str()).into_owned())?
        }
        ("replaceFirst", [Str(re), Str(rep)]) => {
            let regex = regex(r, re)?;
            let rep = java_replacement(rep, regex.captures_len() - 1)?;
            r.built(regex.replace(s, rep.as_str()).into_owned())?
        }
        ("matches", [Str(re)]) => {
            let regex = regex(r, &format!("^(?:{re})$"))?;
            Value::Bool(regex.is_match(s))
        }
        ("split", [Str(re)]) => split(r, s, re, 0)?,
        ("split", [Str(re), Int(limit)]) => split(r, s, re, *limit)?,
        ("toLowerCase", []) => r.built(s.to_lowercase())?,
        ("toUpperCase", []) => r.built(s.to_uppercase())?,
        ("trim", []) => Value::str(java_trim(s)),
        ("strip", []) => Value::str(s.trim()),
        ("equalsIgnoreCase", [Str(x)]) => Value::Bool(
            s.chars().count() == x.chars().count()
                && s.chars().zip(x.chars()).all(|(a, b)| {
                    a == b || a.to_uppercase().eq(b.to_uppercase()) || a.to_lowercase().eq(b.to_lowercase())
                }),
        ),
        ("equalsIgnoreCase", [_]) => Value::Bool(false),
        ("concat", [Str(x)]) => r.built(format!("{s}{x}"))?,
        ("compareTo", [Str(x)]) => {
            let (a, b): (Vec<u16>, Vec<u16>) = (s.encode_utf16().collect(), x.encode_utf16().collect());
            match a.iter().zip(&b).find(|(p, q)| p != q) {
                Some((p, q)) => Int(*p as i64 - *q as i64),
                None => Int(a.len() as i64 - b.len() as i64),
            }
        }
        ("hashCode", []) => Int(java_hash(s)),
        ("getBytes", []) => {
            let items = s.bytes().map(|b| Int(b as i8 as i64)).collect();
            r.track(Value::new_list(items, false))?
        }
        _ => Value::Null,
    })
}

/// A Java regex, compiled with the Rust engine (same syntax for the common
/// subset; look-around and back-references are rejected as a bad pattern).
fn regex(r: &mut Renderer<'_, '_>, pattern: &str) -> Result<Rc<regex::Regex>, VtlError> {
    if let Some(re) = r.regexes.get(pattern) {
        return Ok(re.clone());
    }
    r.tick(pattern.len() as u64 + 16)?;
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| thrown(format!("PatternSyntaxException: {e}")))?;
    let re = Rc::new(re);
    if r.regexes.len() < 64 {
        r.regexes.insert(pattern.to_string(), re.clone());
    }
    Ok(re)
}

/// Java's replacement syntax (`$1`, `${name}`, `\$`) in the regex crate's.
fn java_replacement(rep: &str, groups: usize) -> Result<String, VtlError> {
    let mut out = String::with_capacity(rep.len());
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(n) => out.push(n),
                None => {
                    return Err(thrown(
                        "IllegalArgumentException: character to be escaped is missing",
                    ));
                }
            },
            '$' => match chars.peek() {
                Some('{') => {
                    chars.next();
                    let mut name = String::new();
                    for n in chars.by_ref() {
                        if n == '}' {
                            break;
                        }
                        name.push(n);
                    }
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut n = d.to_digit(10).unwrap_or(0) as usize;
                    chars.next();
                    while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                        let next = n * 10 + d as usize;
                        if next > groups {
                            break;
                        }
                        n = next;
                        chars.next();
                    }
                    if n > groups {
                        return Err(thrown(format!("IndexOutOfBoundsException: No group {n}")));
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                _ => return Err(thrown("IllegalArgumentException: Illegal group reference")),
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `String.split(regex, limit)` with Java's rules: no leading empty piece
/// from a zero-width match at 0, trailing empty pieces dropped when limit
/// is 0, at most `limit` pieces when positive.
fn split(r: &mut Renderer<'_, '_>, s: &str, pattern: &str, limit: i64) -> Result<Value, VtlError> {
    let re = regex(r, pattern)?;
    r.tick(s.len() as u64 / 16)?;
    let mut pieces: Vec<&str> = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if limit > 0 && pieces.len() as i64 >= limit - 1 {
            break;
        }
        if m.end() == 0 {
            continue;
        }
        if m.start() == m.end() && m.start() >= s.len() {
            break;
        }
        pieces.push(&s[last..m.start()]);
        last = m.end();
        if pieces.len() > MAX_ITEMS {
            return Err(VtlError::limit(format!(
                "split into more than {MAX_ITEMS} pieces"
            )));
        }
    }
    if pieces.is_empty() && last == 0 {
        pieces.push(s);
    } else {
        pieces.push(&s[last..]);
    }
    if limit == 0 {
        while pieces.len() > 1 && pieces.last().is_some_and(|p| p.is_empty()) {
            pieces.pop();
        }
        if pieces.len() == 1 && pieces[0].is_empty() && !s.is_empty() {
            pieces.pop();
        }
    }
    let items = pieces.into_iter().map(Value::str).collect();
    r.track(Value::new_list(items, false))
}

// ---- numbers ------------------------------------------------------------------

fn number_method(n: &Value, name: &str, args: &[Value]) -> Value {
    let as_int = |d: f64| -> i64 {
        // Java's (int) cast saturates and maps NaN to 0.
        if d.is_nan() {
            0
        } else {
            d.clamp(i32::MIN as f64, i32::MAX as f64) as i64
        }
    };
    match (name, args, n) {
        ("intValue", [], Value::Int(i)) => Value::Int(*i as i32 as i64),
        ("intValue", [], Value::Double(d)) => Value::Int(as_int(*d)),
        ("longValue", [], Value::Int(i)) => Value::Int(*i),
        ("longValue", [], Value::Double(d)) => Value::Int(if d.is_nan() { 0 } else { *d as i64 }),
        ("doubleValue", [], _) => n.as_f64().map_or(Value::Null, Value::Double),
        ("floatValue", [], _) => n.as_f64().map_or(Value::Null, |d| Value::Double(d as f32 as f64)),
        ("compareTo", [other], _) => match (n.as_f64(), other.as_f64()) {
            (Some(a), Some(b)) if std::mem::discriminant(n) == std::mem::discriminant(other) => {
                Value::Int(a.partial_cmp(&b).map_or(0, |o| o as i64))
            }
            _ => Value::Null,
        },
        ("isNaN", [], Value::Double(d)) => Value::Bool(d.is_nan()),
        ("isInfinite", [], Value::Double(d)) => Value::Bool(d.is_infinite()),
        _ => Value::Null,
    }
}

// ---- lists --------------------------------------------------------------------

fn list_method(r: &mut Renderer<'_, '_>, target: &Value, name: &str, args: Args) -> Result<Value, VtlError> {
    let Value::List(list) = target else {
        return Ok(Value::Null);
    };
    let len = list.borrow().items.len() as i64;
    let bounds = |i: i64, len: i64| {
        thrown(format!(
            "IndexOutOfBoundsException: Index {i} out of bounds for length {len}"
        ))
    };
    let mut args = args;
    Ok(match (name, args.as_mut_slice()) {
        ("size", []) => Value::Int(len),
        ("isEmpty", []) => Value::Bool(len == 0),
        ("get", [Value::Int(i)]) => {
            if *i < 0 || *i >= len {
                return Err(bounds(*i, len));
            }
            list.borrow().items[*i as usize].clone()
        }
        ("contains", [x]) => Value::Bool(list.borrow().items.iter().any(|y| java_equals(x, y, 0))),
        ("indexOf", [x]) => Value::Int(
            list.borrow()
                .items
                .iter()
                .position(|y| java_equals(x, y, 0))
                .map_or(-1, |p| p as i64),
        ),
        ("lastIndexOf", [x]) => Value::Int(
            list.borrow()
                .items
                .iter()
                .rposition(|y| java_equals(x, y, 0))
                .map_or(-1, |p| p as i64),
        ),
        ("add", [x]) => {
            if len as usize >= MAX_ITEMS {
                return Err(VtlError::limit(format!("list longer than {MAX_ITEMS} items")));
            }
            list.borrow_mut().items.push(std::mem::replace(x, Value::Null));
            r.track(target.clone())?;
            Value::Bool(true)
        }
        ("add", [Value::Int(i), x]) => {
            if *i < 0 || *i > len {
                return Err(bounds(*i, len));
            }
            if len as usize >= MAX_ITEMS {
                return Err(VtlError::limit(format!("list longer than {MAX_ITEMS} items")));
            }
            list.borrow_mut()
                .items
                .insert(*i as usize, std::mem::replace(x, Value::Null));
            r.track(target.clone())?;
            Value::Null
        }
        ("addAll", [Value::List(other)]) => {
            let extra: Vec<Value> = other.borrow().items.clone();
            if len as usize + extra.len() > MAX_ITEMS {
                return Err(VtlError::limit(format!("list longer than {MAX_ITEMS} items")));
            }
            r.tick(extra.len() as u64)?;
            let changed = !extra.is_empty();
            list.borrow_mut().items.extend(extra);
            r.track(target.clone())?;
            Value::Bool(changed)
        }
        ("set", [Value::Int(i), x]) => {
            if *i < 0 || *i >= len {
                return Err(bounds(*i, len));
            }
            let old = std::mem::replace(
                &mut list.borrow_mut().items[*i as usize],
                std::mem::replace(x, Value::Null),
            );
            r.track(target.clone())?;
            old
        }
        ("remove", [Value::Int(i)]) => {
            if *i < 0 || *i >= len {
                return Err(bounds(*i, len));
            }
            list.borrow_mut().items.remove(*i as usize)
        }
        ("remove", [x]) => {
            let pos = list.borrow().items.iter().position(|y| java_equals(x, y, 0));
            match pos {
                Some(p) => {
                    list.borrow_mut().items.remove(p);
                    Value::Bool(true)
                }
                None => Value::Bool(false),
            }
        }
        ("clear", []) => {
            list.borrow_mut().items.clear();
            Value::Null
        }
        ("subList", [Value::Int(a), Value::Int(b)]) => {
            if *a < 0 || *b > len || a > b {
                return Err(thrown(format!(
                    "IndexOutOfBoundsException: fromIndex {a}, toIndex {b}, size {len}"
                )));
            }
            let l = list.borrow();
            let items = l.items[*a as usize..*b as usize].to_vec();
            let json = l.json;
            drop(l);
            r.track(Value::new_list(items, json))?
        }
        _ => Value::Null,
    })
}

// ---- maps ---------------------------------------------------------------------

fn key_of(k: &Value) -> Option<Text> {
    match k {
        Value::Str(s) => Some(s.clone()),
        Value::Null => None,
        other => other.display().ok().map(Text::from),
    }
}

fn map_method(r: &mut Renderer<'_, '_>, target: &Value, name: &str, args: Args) -> Result<Value, VtlError> {
    let Value::Map(map) = target else {
        return Ok(Value::Null);
    };
    let mut args = args;
    Ok(match (name, args.as_mut_slice()) {
        ("get", [k]) => match key_of(k) {
            Some(k) => map.borrow().get(&k).unwrap_or(Value::Null),
            None => Value::Null,
        },
        ("getOrDefault", [k, d]) => match key_of(k).and_then(|k| map.borrow().get(&k)) {
            Some(v) => v,
            None => d.clone(),
        },
        ("containsKey", [k]) => Value::Bool(key_of(k).is_some_and(|k| map.borrow().get(&k).is_some())),
        ("containsValue", [v]) => Value::Bool(map.borrow().entries().values().any(|x| java_equals(v, x, 0))),
        ("size", []) => Value::Int(map.borrow().entries().len() as i64),
        ("isEmpty", []) => Value::Bool(map.borrow().entries().is_empty()),
        ("keySet", []) => {
            let items = map
                .borrow()
                .entries()
                .keys()
                .map(|k| Value::Str(k.clone()))
                .collect();
            r.track(Value::new_list(items, false))?
        }
        ("values", []) => {
            let items = map.borrow().entries().values().cloned().collect();
            r.track(Value::new_list(items, false))?
        }
        ("entrySet", []) => {
            let items = map
                .borrow()
                .entries()
                .iter()
                .map(|(k, v)| Value::Entry(Rc::new((k.clone(), v.clone()))))
                .collect();
            r.track(Value::new_list(items, false))?
        }
        ("put", [k, v]) => {
            let Some(k) = key_of(k) else {
                return Ok(Value::Null);
            };
            if map.borrow().entries().len() >= MAX_ITEMS {
                return Err(VtlError::limit(format!("map larger than {MAX_ITEMS} entries")));
            }
            let old = map
                .borrow_mut()
                .entries_mut()
                .insert(k, std::mem::replace(v, Value::Null));
            r.track(target.clone())?;
            old.unwrap_or(Value::Null)
        }
        ("putAll", [Value::Map(other)]) => {
            let extra: Entries = other.borrow().entries().clone();
            if map.borrow().entries().len() + extra.len() > MAX_ITEMS {
                return Err(VtlError::limit(format!("map larger than {MAX_ITEMS} entries")));
            }
            r.tick(extra.len() as u64)?;
            map.borrow_mut().entries_mut().extend(extra);
            r.track(target.clone())?;
            Value::Null
        }
        ("remove", [k]) => match key_of(k) {
            Some(k) => map
                .borrow_mut()
                .entries_mut()
                .shift_remove(&k)
                .unwrap_or(Value::Null),
            None => Value::Null,
        },
        ("clear", []) => {
            map.borrow_mut().entries_mut().clear();
            Value::Null
        }
        _ => Value::Null,
    })
}
