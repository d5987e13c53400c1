//! API Gateway's template variables: `$input`, `$util`, `$context` (with its
//! settable `requestOverride` / `responseOverride`) and `$stageVariables`.
//!
//! - The body is parsed as JSON once per render, on first use, and shared:
//!   `#set($b = $input.path('$'))#set($b.x = 1)` is seen by a later
//!   `$input.json('$')`, as on AWS. A body that is not JSON is taken as one
//!   JSON string (json-smart's permissive mode), which is why
//!   `$input.path('$').split('&')` works on form posts. An empty body is `{}`.
//! - `$input.path` gives values (maps print `{k=v}`, arrays print as JSON);
//!   a path that matches nothing gives null. `$input.json` gives JSON text;
//!   for no match, `null`.
//! - `$input.params('x')`: path, then query string, then header (header
//!   names compared without case); `""` when absent.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::error::{ErrorKind, VtlError};
use super::jsonpath::Path;
use super::render::Renderer;
use super::value::{Args, Entries, Text};
use super::value::{Value, from_serde, parse_json};
use super::{ContextSource, Overrides};

fn invalid(message: impl Into<String>) -> VtlError {
    VtlError::new(ErrorKind::InvalidInput, message, None)
}

/// The one argument as text (a string is shared, not copied).
fn text_arg(args: &[Value]) -> Result<Option<Text>, VtlError> {
    match args {
        [Value::Null] => Ok(None),
        [Value::Str(s)] => Ok(Some(s.clone())),
        [other] => other.display().map(|d| Some(Text::from(d))),
        _ => Ok(None),
    }
}

fn body_doc(r: &mut Renderer<'_, '_>) -> Result<Value, VtlError> {
    if let Some(b) = &r.body {
        return Ok(b.clone());
    }
    let body = r.vars.body;
    r.tick(body.len() as u64 / 64)?;
    let doc = if let Some(read) = r.read_body.take() {
        read
    } else if body.trim().is_empty() {
        Value::new_map(Entries::default())
    } else {
        parse_json(body).unwrap_or_else(|_| Value::str(body))
    };
    r.body = Some(doc.clone());
    Ok(doc)
}

/// What `compiled` selects from the body (read as JSON once per render).
fn select(r: &mut Renderer<'_, '_>, compiled: &Path) -> Result<Option<Value>, VtlError> {
    let doc = body_doc(r)?;
    r.tick(16)?;
    let found = compiled.evaluate(&doc)?;
    if let Some(v @ (Value::List(_) | Value::Map(_))) = &found {
        r.track(v.clone())?;
    }
    Ok(found)
}

pub(crate) fn input_method(r: &mut Renderer<'_, '_>, name: &str, args: Args) -> Result<Value, VtlError> {
    match (name, args.len()) {
        ("json" | "path" | "params", 1) => match text_arg(&args)? {
            Some(text) => input_method_on(r, name, &text),
            None if name == "params" => Ok(Value::str("")),
            None => input_method_on(r, name, "$"),
        },
        ("json", 0) => input_method_on(r, name, "$"),
        ("params", 0) => params(r),
        ("getBody", 0) | ("body", 0) => {
            let body = r.vars.body;
            Ok(Value::str(if body.is_empty() { "{}" } else { body }))
        }
        _ => Ok(Value::Null),
    }
}

/// `$input.json(text)`, `$input.path(text)`, `$input.params(text)`: the
/// one-argument methods, also called straight with a template's literal
/// (`$input.path('$.x')`) without making a value of it first.
pub(crate) fn input_method_on(r: &mut Renderer<'_, '_>, name: &str, text: &str) -> Result<Value, VtlError> {
    match name {
        "json" | "path" => {
            let compiled = r.paths.get(text)?;
            input_path_method(r, name == "json", &compiled)
        }
        "params" => {
            let vars = r.vars;
            let found = last(vars.path, |k| k == text)
                .or_else(|| last(vars.querystring, |k| k == text))
                .or_else(|| last(vars.header, |k| k.eq_ignore_ascii_case(text)));
            Ok(Value::str(found.unwrap_or("")))
        }
        _ => Ok(Value::Null),
    }
}

/// `$input.json(path)` (`json`) or `$input.path(path)` with `path` compiled.
pub(crate) fn input_path_method(
    r: &mut Renderer<'_, '_>,
    json: bool,
    path: &Path,
) -> Result<Value, VtlError> {
    let found = select(r, path)?;
    if json {
        let json = match found {
            Some(v) => v.to_json()?,
            None => "null".into(),
        };
        r.built(json)
    } else {
        Ok(found.unwrap_or(Value::Null))
    }
}

fn last<'a>(pairs: &[(&str, &'a str)], matches: impl Fn(&str) -> bool) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| matches(k)).map(|&(_, v)| v)
}

/// What `$input.params().<kind>.get(name)` gives, read from the request:
/// the last value of that exact name, as the map would hold it. `None` for
/// a kind `$input.params()` has no map of.
pub(crate) fn one_param(vars: &super::Variables<'_>, kind: &str, name: &str) -> Option<Value> {
    let pairs = match kind {
        "path" => vars.path,
        "querystring" => vars.querystring,
        "header" => vars.header,
        _ => return None,
    };
    Some(last(pairs, |k| k == name).map_or(Value::Null, Value::str))
}

fn string_map(pairs: &[(&str, &str)]) -> Value {
    let mut m = Entries::with_capacity_and_hasher(pairs.len(), Default::default());
    for (k, v) in pairs {
        m.insert(Text::from(*k), Value::str(*v));
    }
    Value::new_map(m)
}

fn params(r: &mut Renderer<'_, '_>) -> Result<Value, VtlError> {
    if let Some(p) = &r.params {
        return Ok(p.clone());
    }
    let vars = r.vars;
    r.tick((vars.path.len() + vars.querystring.len() + vars.header.len()) as u64)?;
    let mut m = Entries::default();
    m.insert(Text::from("path"), string_map(vars.path));
    m.insert(Text::from("querystring"), string_map(vars.querystring));
    m.insert(Text::from("header"), string_map(vars.header));
    let v = Value::new_map(m);
    r.params = Some(v.clone());
    Ok(v)
}

/// The one-argument `$util` functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UtilFn {
    EscapeJavaScript,
    ParseJson,
    UrlEncode,
    UrlDecode,
    Base64Encode,
    Base64Decode,
}

impl UtilFn {
    pub(crate) fn named(name: &str) -> Option<UtilFn> {
        Some(match name {
            "escapeJavaScript" => UtilFn::EscapeJavaScript,
            "parseJson" => UtilFn::ParseJson,
            "urlEncode" => UtilFn::UrlEncode,
            "urlDecode" => UtilFn::UrlDecode,
            "base64Encode" => UtilFn::Base64Encode,
            "base64Decode" => UtilFn::Base64Decode,
            _ => return None,
        })
    }
}

/// `$util.name(args)`: null for a name or a number of arguments `$util`
/// has no function for.
pub(crate) fn util_method(r: &mut Renderer<'_, '_>, name: &str, args: Args) -> Result<Value, VtlError> {
    match (UtilFn::named(name), args.as_slice()) {
        (Some(func), [arg]) => util_call(r, func, arg),
        // No such function: null, the argument read (and charged) all the same.
        (None, [_]) => {
            if let Some(s) = text_arg(&args)? {
                r.tick(s.len() as u64 / 64)?;
            }
            Ok(Value::Null)
        }
        _ => Ok(Value::Null),
    }
}

/// `func` applied to `arg`: null for a null argument; anything else is
/// taken as its text.
pub(crate) fn util_call(r: &mut Renderer<'_, '_>, func: UtilFn, arg: &Value) -> Result<Value, VtlError> {
    let Some(s) = text_arg(std::slice::from_ref(arg))? else {
        return Ok(Value::Null);
    };
    r.tick(s.len() as u64 / 64)?;
    match func {
        // Most arguments have nothing to escape: they are their own answer.
        UtilFn::EscapeJavaScript if !s.bytes().any(needs_javascript_escape) => Ok(Value::Str(s)),
        UtilFn::EscapeJavaScript => r.built(escape_javascript(&s)),
        UtilFn::ParseJson => {
            let v = parse_json(&s).map_err(|e| invalid(format!("$util.parseJson: {e}")))?;
            r.track(v)
        }
        UtilFn::UrlEncode => r.built(url_encode(&s)),
        UtilFn::UrlDecode => r.built(url_decode(&s)?),
        UtilFn::Base64Encode => r.built(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
        UtilFn::Base64Decode => {
            let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            )
            .decode(cleaned.as_bytes())
            .map_err(|e| invalid(format!("$util.base64Decode: {e}")))?;
            r.built(String::from_utf8_lossy(&bytes).into_owned())
        }
    }
}

/// Whether [`escape_javascript`] changes this byte (every byte of a
/// non-ASCII character does).
fn needs_javascript_escape(b: u8) -> bool {
    !(0x20..0x80).contains(&b) || matches!(b, b'\'' | b'"' | b'\\' | b'/')
}

/// commons-lang `StringEscapeUtils.escapeJavaScript`: quotes, backslash and
/// `/` escaped, control characters as `\b \n \t \f \r` or `\u00XX`, anything
/// past ASCII as `\uXXXX` (UTF-16 units, upper-case hex).
pub(crate) fn escape_javascript(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 8);
    for unit in s.encode_utf16() {
        match unit {
            0x80.. => {
                let _ = write!(out, "\\u{unit:04X}");
            }
            0x08 => out.push_str("\\b"),
            0x0a => out.push_str("\\n"),
            0x09 => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            ..0x20 => {
                let _ = write!(out, "\\u{unit:04X}");
            }
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            u => out.push(u as u8 as char),
        }
    }
    out
}

/// `java.net.URLEncoder.encode(s, "UTF-8")`.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `java.net.URLDecoder.decode(s, "UTF-8")`.
pub(crate) fn url_decode(s: &str) -> Result<String, VtlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) if bytes[i + 1] != b'+' && bytes[i + 1] != b'-' => out.push(v),
                    _ => return Err(invalid(format!("$util.urlDecode: bad escape at index {i}"))),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The `$context` fields a template `#set`s to change the integration
/// request or the method response, with the maps inside them that are
/// ready for `#set` (`requestOverride.header.X = ...`).
const OVERRIDES: [(&str, &[&str]); 2] = [
    ("requestOverride", &["header", "querystring", "path"]),
    ("responseOverride", &["header"]),
];

/// One top-level `$context` field, on first use: an override map, or what
/// the caller has for `name` (null if nothing).
pub(crate) fn context_field(source: &dyn ContextSource, name: &str) -> Value {
    if let Some((_, inner)) = OVERRIDES.iter().find(|(k, _)| *k == name) {
        let maps = empty_maps(inner);
        if let Some(prior) = source.prior_overrides() {
            seed(&maps, name, prior);
        }
        return maps;
    }
    source.field(name).map_or(Value::Null, |v| from_serde(&v, 0))
}

/// Fills the override maps of `name` with what an earlier template set (a
/// repeated name becomes a list, as it was set).
fn seed(maps: &Value, name: &str, prior: &Overrides) {
    let Value::Map(m) = maps else { return };
    let lists: &[(&str, &[(String, String)])] = if name == "requestOverride" {
        &[
            ("header", &prior.header),
            ("querystring", &prior.querystring),
            ("path", &prior.path),
        ]
    } else {
        &[("header", &prior.response_header)]
    };
    let mut m = m.borrow_mut();
    for (field, pairs) in lists {
        let Some(Value::Map(target)) = m.entries_mut().get(*field) else {
            continue;
        };
        let mut target = target.borrow_mut();
        for (k, v) in pairs.iter() {
            let key: Text = Text::from(k.as_str());
            let value = Value::Str(Text::from(v.as_str()));
            match target.entries_mut().get(&key).cloned() {
                None => {
                    target.entries_mut().insert(key, value);
                }
                Some(Value::List(l)) => l.borrow_mut().items.push(value),
                Some(first) => {
                    target
                        .entries_mut()
                        .insert(key, Value::new_list(vec![first, value], false));
                }
            }
        }
    }
    if name == "responseOverride"
        && let Some(status) = prior.status
    {
        m.entries_mut()
            .insert(Text::from("status"), Value::Int(i64::from(status)));
    }
}

fn empty_maps(names: &[&str]) -> Value {
    Value::new_map(
        names
            .iter()
            .map(|n| (Text::from(*n), Value::new_map(Entries::default())))
            .collect(),
    )
}

/// `$context` as one map: the caller's tree as Java maps, then the override
/// maps; fields already handed out (`fetched`) keep their identity, so what
/// a template `#set` in them stays.
pub(crate) fn context_value(source: &dyn ContextSource, fetched: &Entries) -> Value {
    let mut entries = match from_serde(&source.tree(), 0) {
        Value::Map(m) => std::mem::take(m.borrow_mut().entries_mut()),
        _ => Entries::default(),
    };
    for (key, inner) in OVERRIDES {
        match entries.get(key) {
            Some(Value::Map(m)) => {
                let mut m = m.borrow_mut();
                for n in inner {
                    if !matches!(m.entries_mut().get(*n), Some(Value::Map(_))) {
                        m.entries_mut()
                            .insert(Text::from(*n), Value::new_map(Entries::default()));
                    }
                }
            }
            _ => {
                let maps = empty_maps(inner);
                if let Some(prior) = source.prior_overrides() {
                    seed(&maps, key, prior);
                }
                entries.insert(Text::from(key), maps);
            }
        }
    }
    for (k, v) in fetched {
        entries.insert(k.clone(), v.clone());
    }
    Value::new_map(entries)
}

pub(crate) fn stage_variables_value(vars: &BTreeMap<String, String>) -> Value {
    Value::new_map(
        vars.iter()
            .map(|(k, v)| (Text::from(k.as_str()), Value::str(v.as_str())))
            .collect(),
    )
}

fn get(v: &Value, key: &str) -> Value {
    match v {
        Value::Map(m) => m.borrow().get(key).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn collect(map: &Value, into: &mut Vec<(String, String)>) {
    let Value::Map(m) = map else { return };
    for (k, v) in m.borrow().entries().iter() {
        match v {
            Value::Null => {}
            Value::List(l) => {
                for item in l.borrow().items.iter().filter(|i| !i.is_null()) {
                    if let Ok(s) = item.display() {
                        into.push((k.to_string(), s));
                    }
                }
            }
            other => {
                if let Ok(s) = other.display() {
                    into.push((k.to_string(), s));
                }
            }
        }
    }
}

/// What the template `#set` under `$context.requestOverride` and
/// `$context.responseOverride`; `field` gives a top-level `$context` field.
pub(crate) fn overrides(field: impl Fn(&str) -> Value) -> Overrides {
    let mut o = Overrides::default();
    let request = field("requestOverride");
    collect(&get(&request, "header"), &mut o.header);
    collect(&get(&request, "querystring"), &mut o.querystring);
    collect(&get(&request, "path"), &mut o.path);
    let response = field("responseOverride");
    collect(&get(&response, "header"), &mut o.response_header);
    o.status = match get(&response, "status") {
        Value::Int(i) => u16::try_from(i).ok(),
        Value::Str(s) => s.trim().parse::<u16>().ok(),
        _ => None,
    }
    .filter(|s| (100..=599).contains(s));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut for arguments with nothing to escape is taken exactly
    /// when escaping would change nothing.
    #[test]
    fn nothing_to_escape_means_unchanged() {
        let mut samples: Vec<String> = [
            "",
            "plain",
            "a b-c_d.e",
            "x'y",
            "x\"y",
            "a/b",
            "a\\b",
            "tab\there",
            "é",
            "漢字",
            "🦀",
            "\u{7f}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        samples.extend((0u8..0x80).map(|b| format!("a{}b", b as char)));
        for s in samples {
            let unchanged = !s.bytes().any(needs_javascript_escape);
            assert_eq!(unchanged, escape_javascript(&s) == s, "{s:?}");
        }
    }
}
