//! JSONPath as API Gateway evaluates it (Jayway JsonPath): for `$input.path`,
//! `$input.json`, and parameter mappings such as
//! `integration.response.body.a.b` or `method.request.body.x` (AWS's form,
//! without the `$.`; `integration.response.body.$.a.b` works too).
//!
//! Jayway's rules kept here: a path not starting with `$` gets `$.` in
//! front; dot names may hold any character but `.`, `[`, `(`, `)`, blanks
//! and filter operators (`$.user-agent` works); a *definite* path (only
//! names and single indexes) yields the value itself, any other (wildcard,
//! `..`, filter, slice, several indexes or names) yields a JSON array of the
//! matches, `[]` when none; filters take `==  != < <= > >= =~ in nin empty
//! size`, `&&`, `||`, `!`; trailing functions `length() size() min() max()
//! sum() avg() keys() first() last()`.
//!
//! Written here rather than taken from a crate: it walks the template's own
//! values, so `#set($body = $input.path('$'))#set($body.x = 1)` shows up in a
//! later `$input.json('$')` as on AWS, keeps object key order without
//! switching serde_json to `preserve_order` for the whole gateway, and
//! accepts Jayway's syntax (`=~`, `in`, unquoted dashed names, `.length()`)
//! that RFC 9535 implementations reject.

use std::rc::Rc;

use super::error::VtlError;
use super::value::{MAX_VALUE_DEPTH, Value, from_serde, java_equals, to_serde};

/// Evaluate `path` against `doc`. `None`: a definite path matched nothing.
/// Definite paths give the value itself; the others a JSON array of matches.
pub fn select(doc: &serde_json::Value, path: &str) -> Result<Option<serde_json::Value>, VtlError> {
    let compiled = compile(path)?;
    let root = from_serde(doc, 0);
    let found = compiled.evaluate(&root)?;
    let out = match found {
        Some(v) => Some(to_serde(&v, 0)?),
        None => None,
    };
    super::value::teardown(vec![root]);
    Ok(out)
}

#[derive(Debug)]
pub(crate) struct Path {
    segments: Vec<Segment>,
    function: Option<Function>,
}

#[derive(Debug)]
enum Segment {
    Names(Vec<String>),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Wildcard,
    Filter(Filter),
    Descendant(Box<Segment>),
}

#[derive(Debug, Clone, Copy)]
enum Function {
    Length,
    Min,
    Max,
    Sum,
    Avg,
    Keys,
    First,
    Last,
}

#[derive(Debug)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Compare(Operand, CmpOp, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    In,
    Nin,
    Empty,
    Size,
}

#[derive(Debug)]
enum Operand {
    Relative(Path),
    Absolute(Path),
    Literal(serde_json::Value),
    Regex(regex::Regex),
}

const MAX_PATH_LEN: usize = 4096;
const MAX_FILTER_DEPTH: u32 = 32;

pub(crate) fn compile(path: &str) -> Result<Path, VtlError> {
    let trimmed = path.trim();
    if trimmed.len() > MAX_PATH_LEN {
        return Err(VtlError::jsonpath("path too long"));
    }
    let owned;
    let text = if trimmed.is_empty() {
        "$"
    } else if trimmed.starts_with('$') || trimmed.starts_with('@') {
        trimmed
    } else {
        owned = format!("$.{trimmed}");
        &owned
    };
    let mut c = Cursor {
        s: text,
        b: text.as_bytes(),
        pos: 1,
        depth: 0,
    };
    let p = c.path(false)?;
    c.skip_ws();
    if c.pos < c.b.len() {
        return Err(c.error("unexpected character"));
    }
    Ok(p)
}

struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: u32,
}

fn name_stop(c: u8) -> bool {
    matches!(
        c,
        b'.' | b'['
            | b'('
            | b')'
            | b' '
            | b'\t'
            | b'\n'
            | b'\r'
            | b'='
            | b'!'
            | b'<'
            | b'>'
            | b'&'
            | b'|'
            | b','
            | b']'
    )
}

impl Cursor<'_> {
    fn error(&self, what: &str) -> VtlError {
        VtlError::jsonpath(format!("{what} at offset {} in '{}'", self.pos, self.s))
    }

    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    fn peek_at(&self, i: usize) -> u8 {
        self.b.get(self.pos + i).copied().unwrap_or(0)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    /// Segments after the root marker. In a filter, stops at what cannot
    /// continue a path.
    fn path(&mut self, in_filter: bool) -> Result<Path, VtlError> {
        let mut segments = Vec::new();
        let mut function = None;
        loop {
            match self.peek() {
                b'.' if self.peek_at(1) == b'.' => {
                    self.pos += 2;
                    let inner = match self.peek() {
                        b'[' => self.bracket()?,
                        b'*' => {
                            self.pos += 1;
                            Segment::Wildcard
                        }
                        _ => Segment::Names(vec![self.dot_name()?]),
                    };
                    segments.push(Segment::Descendant(Box::new(inner)));
                }
                b'.' => {
                    self.pos += 1;
                    match self.peek() {
                        b'[' => segments.push(self.bracket()?),
                        b'*' => {
                            self.pos += 1;
                            segments.push(Segment::Wildcard);
                        }
                        _ => {
                            let name = self.dot_name()?;
                            if self.peek() == b'(' && self.peek_at(1) == b')' {
                                self.pos += 2;
                                function = Some(match name.as_str() {
                                    "length" | "size" => Function::Length,
                                    "min" => Function::Min,
                                    "max" => Function::Max,
                                    "sum" => Function::Sum,
                                    "avg" => Function::Avg,
                                    "keys" => Function::Keys,
                                    "first" => Function::First,
                                    "last" => Function::Last,
                                    _ => return Err(self.error("unknown function")),
                                });
                                return Ok(Path { segments, function });
                            }
                            segments.push(Segment::Names(vec![name]));
                        }
                    }
                }
                b'[' => segments.push(self.bracket()?),
                0 => return Ok(Path { segments, function }),
                _ if in_filter => return Ok(Path { segments, function }),
                _ => return Err(self.error("expected '.' or '['")),
            }
        }
    }

    fn dot_name(&mut self) -> Result<String, VtlError> {
        let start = self.pos;
        while self.pos < self.b.len() && !name_stop(self.b[self.pos]) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.error("expected a property name"));
        }
        Ok(self.s[start..self.pos].to_string())
    }

    fn quoted(&mut self) -> Result<String, VtlError> {
        let q = self.peek();
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.s[self.pos..].chars().next() else {
                return Err(self.error("unterminated string"));
            };
            self.pos += c.len_utf8();
            if c as u32 == q as u32 {
                return Ok(out);
            }
            if c == '\\' {
                let Some(n) = self.s[self.pos..].chars().next() else {
                    return Err(self.error("unterminated string"));
                };
                self.pos += n.len_utf8();
                out.push(match n {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            } else {
                out.push(c);
            }
        }
    }

    fn int(&mut self) -> Result<i64, VtlError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == b'-' {
            self.pos += 1;
        }
        while self.peek().is_ascii_digit() {
            self.pos += 1;
        }
        self.s[start..self.pos]
            .parse()
            .map_err(|_| self.error("expected an integer"))
    }

    fn bracket(&mut self) -> Result<Segment, VtlError> {
        self.pos += 1; // '['
        self.skip_ws();
        let seg = match self.peek() {
            b'?' => {
                self.pos += 1;
                self.skip_ws();
                let f = self.filter()?;
                Segment::Filter(f)
            }
            b'*' => {
                self.pos += 1;
                Segment::Wildcard
            }
            b'\'' | b'"' => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_ws();
                    if self.peek() != b',' {
                        break;
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if !matches!(self.peek(), b'\'' | b'"') {
                        return Err(self.error("expected a quoted name"));
                    }
                    names.push(self.quoted()?);
                }
                Segment::Names(names)
            }
            b':' => self.slice(None)?,
            c if c.is_ascii_digit() || c == b'-' => {
                let first = self.int()?;
                self.skip_ws();
                if self.peek() == b':' {
                    self.slice(Some(first))?
                } else {
                    let mut idx = vec![first];
                    while self.peek() == b',' {
                        self.pos += 1;
                        idx.push(self.int()?);
                        self.skip_ws();
                    }
                    Segment::Indexes(idx)
                }
            }
            _ => return Err(self.error("unexpected character in brackets")),
        };
        self.skip_ws();
        if self.peek() != b']' {
            return Err(self.error("expected ']'"));
        }
        self.pos += 1;
        Ok(seg)
    }

    fn slice(&mut self, start: Option<i64>) -> Result<Segment, VtlError> {
        let mut parts = [start, None, None];
        for part in parts.iter_mut().skip(1) {
            self.skip_ws();
            if self.peek() != b':' {
                break;
            }
            self.pos += 1;
            self.skip_ws();
            if self.peek().is_ascii_digit() || self.peek() == b'-' {
                *part = Some(self.int()?);
            }
        }
        Ok(Segment::Slice(parts[0], parts[1], parts[2]))
    }

    fn filter(&mut self) -> Result<Filter, VtlError> {
        // Jayway writes `[?(...)]`; RFC 9535 allows the parentheses to go.
        self.filter_or()
    }

    fn nest(&mut self) -> Result<(), VtlError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            Err(self.error("filter nested too deeply"))
        } else {
            Ok(())
        }
    }

    fn filter_or(&mut self) -> Result<Filter, VtlError> {
        self.nest()?;
        let mut l = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.s[self.pos..].starts_with("||") {
                self.pos += 2;
                let r = self.filter_and()?;
                l = Filter::Or(Box::new(l), Box::new(r));
            } else {
                self.depth -= 1;
                return Ok(l);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, VtlError> {
        let mut l = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.s[self.pos..].starts_with("&&") {
                self.pos += 2;
                let r = self.filter_unary()?;
                l = Filter::And(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, VtlError> {
        self.skip_ws();
        if self.peek() == b'!' && self.peek_at(1) != b'=' {
            self.pos += 1;
            self.nest()?;
            let inner = self.filter_unary()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == b'(' {
            self.pos += 1;
            let inner = self.filter_or()?;
            self.skip_ws();
            if self.peek() != b')' {
                return Err(self.error("expected ')' in filter"));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let left = self.operand()?;
        self.skip_ws();
        let rest = &self.s[self.pos..];
        let ops: [(&str, CmpOp); 11] = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("=~", CmpOp::Matches),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
            ("nin ", CmpOp::Nin),
            ("in ", CmpOp::In),
            ("empty ", CmpOp::Empty),
            ("size ", CmpOp::Size),
        ];
        let Some((sym, op)) = ops.iter().find(|(sym, _)| rest.starts_with(sym)) else {
            return Ok(Filter::Exists(left));
        };
        self.pos += sym.len();
        let right = self.operand()?;
        Ok(Filter::Compare(left, *op, right))
    }

    fn operand(&mut self) -> Result<Operand, VtlError> {
        self.skip_ws();
        match self.peek() {
            b'@' | b'$' => {
                let absolute = self.peek() == b'$';
                self.pos += 1;
                self.nest()?;
                let p = self.path(true)?;
                self.depth -= 1;
                Ok(if absolute {
                    Operand::Absolute(p)
                } else {
                    Operand::Relative(p)
                })
            }
            b'\'' | b'"' => Ok(Operand::Literal(serde_json::Value::String(self.quoted()?))),
            b'/' => {
                self.pos += 1;
                let start = self.pos;
                while self.pos < self.b.len() && self.b[self.pos] != b'/' {
                    if self.b[self.pos] == b'\\' {
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                if self.pos >= self.b.len() {
                    return Err(self.error("unterminated regex"));
                }
                let pattern = &self.s[start..self.pos];
                self.pos += 1;
                let mut flags = String::new();
                while self.peek().is_ascii_alphabetic() {
                    if self.peek() == b'i' {
                        flags.push('i');
                    }
                    self.pos += 1;
                }
                let full = if flags.is_empty() {
                    format!("^(?:{pattern})$")
                } else {
                    format!("(?i)^(?:{pattern})$")
                };
                regex::RegexBuilder::new(&full)
                    .size_limit(1 << 20)
                    .build()
                    .map(Operand::Regex)
                    .map_err(|e| self.error(&format!("bad regex: {e}")))
            }
            b'[' | b'{' => {
                // A JSON literal: find its end by bracket matching.
                let start = self.pos;
                let (open, close) = if self.peek() == b'[' {
                    (b'[', b']')
                } else {
                    (b'{', b'}')
                };
                let mut level = 0usize;
                let mut in_str: u8 = 0;
                while self.pos < self.b.len() {
                    let c = self.b[self.pos];
                    if in_str != 0 {
                        if c == b'\\' {
                            self.pos += 1;
                        } else if c == in_str {
                            in_str = 0;
                        }
                    } else if c == b'"' || c == b'\'' {
                        in_str = c;
                    } else if c == open {
                        level += 1;
                    } else if c == close {
                        level -= 1;
                        if level == 0 {
                            self.pos += 1;
                            break;
                        }
                    }
                    self.pos += 1;
                }
                let text = self.s[start..self.pos.min(self.s.len())].replace('\'', "\"");
                serde_json::from_str(&text)
                    .map(Operand::Literal)
                    .map_err(|_| self.error("bad literal"))
            }
            _ => {
                let start = self.pos;
                while self.pos < self.b.len() && !name_stop(self.b[self.pos]) {
                    self.pos += 1;
                }
                let word = &self.s[start..self.pos];
                match word {
                    "true" => Ok(Operand::Literal(serde_json::Value::Bool(true))),
                    "false" => Ok(Operand::Literal(serde_json::Value::Bool(false))),
                    "null" => Ok(Operand::Literal(serde_json::Value::Null)),
                    _ => word
                        .parse::<serde_json::Number>()
                        .map(|n| Operand::Literal(serde_json::Value::Number(n)))
                        .map_err(|_| self.error("expected a filter operand")),
                }
            }
        }
    }
}

impl Path {
    fn definite(&self) -> bool {
        self.segments.iter().all(|s| match s {
            Segment::Names(n) => n.len() == 1,
            Segment::Indexes(i) => i.len() == 1,
            _ => false,
        })
    }

    /// The matches of this path under `root`.
    fn matches(&self, root: &Value, at: &Value) -> Result<Vec<Value>, VtlError> {
        let mut current = vec![at.clone()];
        for seg in &self.segments {
            let mut next = Vec::new();
            for node in &current {
                apply(seg, node, root, &mut next)?;
            }
            current = next;
        }
        Ok(current)
    }

    /// The one match of a definite path (single names and indexes only),
    /// found without collecting match lists: what `matches` gives for it.
    fn walk(&self, root: &Value) -> Option<Value> {
        let step = |seg: &Segment, at: &Value| match (seg, at) {
            (Segment::Names(names), Value::Map(m)) => m.borrow().get(names.first()?.as_str()),
            (Segment::Indexes(idx), Value::List(l)) => {
                let l = l.borrow();
                let len = l.items.len() as i64;
                let i = *idx.first()?;
                let i = if i < 0 { len + i } else { i };
                if !(0..len).contains(&i) {
                    return None;
                }
                Some(l.items[i as usize].clone())
            }
            _ => None,
        };
        // Stepped from `root` itself, not from a copy of it.
        let Some((first, rest)) = self.segments.split_first() else {
            return Some(root.clone());
        };
        let mut at = step(first, root)?;
        for seg in rest {
            at = step(seg, &at)?;
        }
        Some(at)
    }

    /// Jayway's answer: the value for a definite path (`None` if missing), a
    /// JSON array of matches otherwise; a trailing function applied last.
    pub(crate) fn evaluate(&self, root: &Value) -> Result<Option<Value>, VtlError> {
        let result = if self.definite() {
            match self.walk(root) {
                Some(v) => v,
                None => return Ok(None),
            }
        } else {
            Value::new_list(self.matches(root, root)?, true)
        };
        match self.function {
            None => Ok(Some(result)),
            Some(f) => Ok(apply_function(f, &result)),
        }
    }
}

fn apply_function(f: Function, v: &Value) -> Option<Value> {
    let numbers = || -> Option<Vec<f64>> {
        match v {
            Value::List(l) => l.borrow().items.iter().map(Value::as_f64).collect(),
            _ => None,
        }
    };
    match f {
        Function::Length => match v {
            Value::List(l) => Some(Value::Int(l.borrow().items.len() as i64)),
            Value::Map(m) => Some(Value::Int(m.borrow().entries().len() as i64)),
            Value::Str(s) => Some(Value::Int(s.encode_utf16().count() as i64)),
            _ => None,
        },
        Function::Min => numbers()
            .and_then(|n| n.into_iter().reduce(f64::min))
            .map(Value::Double),
        Function::Max => numbers()
            .and_then(|n| n.into_iter().reduce(f64::max))
            .map(Value::Double),
        Function::Sum => numbers().map(|n| Value::Double(n.iter().sum())),
        Function::Avg => numbers()
            .filter(|n| !n.is_empty())
            .map(|n| Value::Double(n.iter().sum::<f64>() / n.len() as f64)),
        Function::Keys => match v {
            Value::Map(m) => Some(Value::new_list(
                m.borrow()
                    .entries()
                    .keys()
                    .map(|k| Value::Str(k.clone()))
                    .collect(),
                true,
            )),
            _ => None,
        },
        Function::First => match v {
            Value::List(l) => l.borrow().items.first().cloned(),
            _ => None,
        },
        Function::Last => match v {
            Value::List(l) => l.borrow().items.last().cloned(),
            _ => None,
        },
    }
}

fn apply(seg: &Segment, node: &Value, root: &Value, out: &mut Vec<Value>) -> Result<(), VtlError> {
    match seg {
        Segment::Names(names) => {
            if let Value::Map(m) = node {
                let m = m.borrow();
                for n in names {
                    if let Some(v) = m.get(n.as_str()) {
                        out.push(v);
                    }
                }
            }
        }
        Segment::Indexes(idx) => {
            if let Value::List(l) = node {
                let l = l.borrow();
                let len = l.items.len() as i64;
                for &i in idx {
                    let i = if i < 0 { len + i } else { i };
                    if (0..len).contains(&i) {
                        out.push(l.items[i as usize].clone());
                    }
                }
            }
        }
        Segment::Slice(start, end, step) => {
            if let Value::List(l) = node {
                let l = l.borrow();
                let len = l.items.len() as i64;
                let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
                let s = start.map_or(0, norm);
                let e = end.map_or(len, norm);
                let step = step.unwrap_or(1).max(1) as usize;
                let mut i = s;
                while i < e {
                    out.push(l.items[i as usize].clone());
                    i += step as i64;
                }
            }
        }
        Segment::Wildcard => match node {
            Value::List(l) => out.extend(l.borrow().items.iter().cloned()),
            Value::Map(m) => out.extend(m.borrow().entries().values().cloned()),
            _ => {}
        },
        Segment::Filter(f) => match node {
            Value::List(l) => {
                let items = l.borrow().items.clone();
                for item in items {
                    if test(f, &item, root)? {
                        out.push(item);
                    }
                }
            }
            Value::Map(_) if test(f, node, root)? => out.push(node.clone()),
            _ => {}
        },
        Segment::Descendant(inner) => {
            let mut stack = vec![(node.clone(), 0usize)];
            while let Some((n, depth)) = stack.pop() {
                if depth > MAX_VALUE_DEPTH {
                    return Err(VtlError::jsonpath("document too deep for '..'"));
                }
                apply(inner, &n, root, out)?;
                let children: Vec<Value> = match &n {
                    Value::List(l) => l.borrow().items.clone(),
                    Value::Map(m) => m.borrow().entries().values().cloned().collect(),
                    _ => Vec::new(),
                };
                for c in children.into_iter().rev() {
                    if matches!(c, Value::List(_) | Value::Map(_)) {
                        stack.push((c, depth + 1));
                    }
                }
            }
        }
    }
    Ok(())
}

fn operand_value(o: &Operand, at: &Value, root: &Value) -> Result<Option<Value>, VtlError> {
    match o {
        Operand::Relative(p) | Operand::Absolute(p) => {
            let base = if matches!(o, Operand::Relative(_)) {
                at
            } else {
                root
            };
            let found = p.matches(root, base)?;
            let v = if p.definite() {
                match found.into_iter().next() {
                    Some(v) => v,
                    None => return Ok(None),
                }
            } else {
                Value::new_list(found, true)
            };
            Ok(match p.function {
                Some(f) => apply_function(f, &v),
                None => Some(v),
            })
        }
        Operand::Literal(j) => Ok(Some(from_serde(j, 0))),
        Operand::Regex(_) => Ok(None),
    }
}

fn test(f: &Filter, at: &Value, root: &Value) -> Result<bool, VtlError> {
    Ok(match f {
        Filter::Or(a, b) => test(a, at, root)? || test(b, at, root)?,
        Filter::And(a, b) => test(a, at, root)? && test(b, at, root)?,
        Filter::Not(a) => !test(a, at, root)?,
        Filter::Exists(o) => match operand_value(o, at, root)? {
            Some(Value::Bool(b)) if matches!(o, Operand::Literal(_)) => b,
            Some(_) => true,
            None => false,
        },
        Filter::Compare(l, op, r) => {
            let lv = operand_value(l, at, root)?;
            if let (CmpOp::Matches, Operand::Regex(re)) = (op, r) {
                return Ok(matches!(lv, Some(Value::Str(s)) if re.is_match(&s)));
            }
            let rv = operand_value(r, at, root)?;
            let (Some(lv), Some(rv)) = (lv, rv) else {
                return Ok(matches!(op, CmpOp::Ne));
            };
            compare(&lv, *op, &rv)
        }
    })
}

fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    let eq = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => java_equals(a, b, 0),
    };
    match op {
        CmpOp::Eq => eq(l, r),
        CmpOp::Ne => !eq(l, r),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = match (l, r) {
                (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
                _ => match (l.as_f64(), r.as_f64()) {
                    (Some(x), Some(y)) => x.partial_cmp(&y),
                    _ => None,
                },
            };
            match ord {
                None => false,
                Some(o) => match op {
                    CmpOp::Lt => o.is_lt(),
                    CmpOp::Le => o.is_le(),
                    CmpOp::Gt => o.is_gt(),
                    _ => o.is_ge(),
                },
            }
        }
        CmpOp::In | CmpOp::Nin => {
            let found = match r {
                Value::List(list) => list.borrow().items.iter().any(|x| eq(l, x)),
                _ => false,
            };
            found == (op == CmpOp::In)
        }
        CmpOp::Empty => {
            let empty = match l {
                Value::Str(s) => s.is_empty(),
                Value::List(x) => x.borrow().items.is_empty(),
                Value::Map(m) => m.borrow().entries().is_empty(),
                _ => return false,
            };
            matches!(r, Value::Bool(b) if *b == empty)
        }
        CmpOp::Size => {
            let size = match l {
                Value::Str(s) => s.encode_utf16().count(),
                Value::List(x) => x.borrow().items.len(),
                Value::Map(m) => m.borrow().entries().len(),
                _ => return false,
            };
            r.as_int() == Some(size as i64)
        }
        CmpOp::Matches => false,
    }
}

/// A render's way to compiled paths (a `#foreach` asking the same path a
/// thousand times compiles it once, and so does every later render on the
/// same thread).
#[derive(Default)]
pub(crate) struct PathCache;

/// Compiled paths, kept per thread across renders: a template's
/// `$input.path('$.x')` compiles once, not on every request. Bounded; a
/// full cache starts over.
type Compiled = std::collections::HashMap<Box<str>, Rc<Path>, foldhash::fast::RandomState>;

thread_local! {
    static COMPILED: std::cell::RefCell<Compiled> = std::cell::RefCell::new(Compiled::default());
}

const MAX_CACHED_PATHS: usize = 1024;

impl PathCache {
    pub(crate) fn get(&mut self, path: &str) -> Result<Rc<Path>, VtlError> {
        if let Some(p) = COMPILED.with_borrow(|c| c.get(path).cloned()) {
            return Ok(p);
        }
        let p = Rc::new(compile(path)?);
        COMPILED.with_borrow_mut(|c| {
            if c.len() >= MAX_CACHED_PATHS {
                c.clear();
            }
            c.insert(path.into(), p.clone());
        });
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vtl::value::parse_json;

    /// A definite path's shortcut finds what the general matcher finds.
    #[test]
    fn walking_a_definite_path_finds_what_matching_does() {
        let doc = parse_json(r#"{"a":{"b":[10,{"c":"x"},[1,2]]},"s":"t","n":null,"e":{}}"#).expect("JSON");
        for path in [
            "$",
            "$.a",
            "$.a.b",
            "$.a.b[0]",
            "$.a.b[1].c",
            "$.a.b[-1]",
            "$.a.b[-1][1]",
            "$.a.b[3]",
            "$.a.b[-4]",
            "$.missing",
            "$.s.x",
            "$.s[0]",
            "$.n",
            "$.n.x",
            "$.e",
            "$['a']['b'][2][0]",
            "$.a[0]",
            "$.a.b.c",
        ] {
            let compiled = compile(path).expect("path compiles");
            assert!(compiled.definite(), "{path}");
            let walked = compiled.walk(&doc).map(|v| v.to_json().expect("JSON"));
            let matched = compiled
                .matches(&doc, &doc)
                .expect("matches")
                .into_iter()
                .next()
                .map(|v| v.to_json().expect("JSON"));
            assert_eq!(walked, matched, "{path}");
        }
    }
}
