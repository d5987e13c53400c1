//! Template source -> [`Block`]: a hand-written lexer and recursive-descent
//! parser for the Velocity 1.7 subset API Gateway templates use.
//!
//! Whitespace follows Velocity 1.7's lexer (checked against the real engine):
//! - `#set(...)`, `#if(...)`, `#elseif(...)`, `#foreach(...)`, `#else` and
//!   `#end` swallow trailing spaces/tabs and one newline, if a newline follows;
//! - spaces/tabs right before `#set` are dropped when nothing but that
//!   whitespace stands between `#set` and the previous token (start of the
//!   template, a reference, a directive, a comment) — so an indented `#set`
//!   inside `#foreach` leaves no trace, but `a  #set(...)` keeps `a  `;
//! - `## ...` eats its newline; `#* ... *#` eats nothing around it.

use std::collections::HashMap;
use std::sync::Arc;

use super::ast::{Accessor, BinOp, Block, Direct, Expr, FIXED_SLOTS, Node, Reference, Slot};
use super::error::{Position, VtlError};

/// Deepest nesting of blocks, expressions and interpolated strings accepted.
pub(crate) const MAX_DEPTH: u32 = 48;

/// Line starts of the original source, to turn byte offsets into positions.
pub(crate) struct LineIndex<'s> {
    src: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        let mut starts = vec![0];
        for (i, b) in src.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex { src, starts }
    }

    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.src.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = self
            .src
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Position {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }
}

#[derive(Clone, Copy)]
enum Origin {
    /// The parsed text is the original source from this byte offset on.
    At(usize),
    /// The parsed text was rewritten (a string literal with doubled quotes):
    /// every position is the string's.
    Fixed(Position),
}

enum Terminator {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

/// The template's nodes, and how many variable slots they use.
pub(crate) fn parse(src: &str) -> Result<(Block, usize), VtlError> {
    let lines = LineIndex::new(src);
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        depth: 0,
        lines: &lines,
        origin: Origin::At(0),
        terminator_at: 0,
        slots: Slots::default(),
    };
    let (block, term) = p.block()?;
    match term {
        Terminator::Eof => Ok((block, p.slots.count())),
        // `block` only returns these when it met them; at top level they are strays.
        _ => Err(p.error(
            "unexpected #end, #else or #elseif with no open block",
            p.terminator_at,
        )),
    }
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    depth: u32,
    lines: &'s LineIndex<'s>,
    origin: Origin,
    /// Where the last `#end`/`#else`/`#elseif` seen started.
    terminator_at: usize,
    slots: Slots,
}

/// The variable names met so far, each with its slot.
struct Slots(HashMap<Box<str>, Slot>);

impl Default for Slots {
    fn default() -> Slots {
        Slots(
            FIXED_SLOTS
                .iter()
                .zip(0..)
                .map(|(name, slot)| (Box::from(*name), slot))
                .collect(),
        )
    }
}

impl Slots {
    fn of(&mut self, name: &str) -> Slot {
        if let Some(&slot) = self.0.get(name) {
            return slot;
        }
        // A template has far fewer names than it has bytes (< 4 GiB).
        let slot = Slot::try_from(self.0.len()).unwrap_or(Slot::MAX);
        self.0.insert(name.into(), slot);
        slot
    }

    fn count(&self) -> usize {
        self.0.len()
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

const DIRECTIVES: &[&str] = &[
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "macro", "define", "include", "parse",
    "evaluate",
];

impl<'s> Parser<'s> {
    fn position(&self, offset: usize) -> Position {
        match self.origin {
            Origin::At(base) => self.lines.position(base + offset),
            Origin::Fixed(p) => p,
        }
    }

    fn error(&self, message: impl Into<String>, offset: usize) -> VtlError {
        VtlError::parse(message, self.position(offset))
    }

    fn peek(&self, at: usize) -> u8 {
        self.b.get(at).copied().unwrap_or(0)
    }

    fn enter(&mut self) -> Result<(), VtlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("template nested too deeply", self.pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Content up to the next `#end`/`#else`/`#elseif` or the end of input.
    fn block(&mut self) -> Result<(Block, Terminator), VtlError> {
        self.enter()?;
        let result = self.block_inner();
        self.leave();
        result
    }

    fn block_inner(&mut self) -> Result<(Block, Terminator), VtlError> {
        let mut nodes: Block = Vec::new();
        let mut text = String::new();
        fn flush(nodes: &mut Block, text: &mut String) {
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(text).into_boxed_str()));
            }
        }
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                flush(&mut nodes, &mut text);
                return Ok((nodes, Terminator::Eof));
            };
            match c {
                b'\\' => {
                    let start = self.pos;
                    let mut after = start;
                    while self.peek(after) == b'\\' {
                        after += 1;
                    }
                    let n = (after - start) as u32;
                    match self.peek(after) {
                        b'$' => {
                            if let Some(mut r) = self.reference(after)? {
                                flush(&mut nodes, &mut text);
                                r.escapes = n;
                                nodes.push(Node::Ref(Box::new(r)));
                            } else {
                                text.push_str(&self.src[start..after]);
                                self.pos = after;
                            }
                        }
                        b'#' => match self.directive_name(after) {
                            Some((_, name_end)) => {
                                for _ in 0..n / 2 {
                                    text.push('\\');
                                }
                                if n % 2 == 1 {
                                    text.push_str(&self.src[after..name_end]);
                                    self.pos = name_end;
                                } else {
                                    self.pos = after;
                                }
                            }
                            None => {
                                text.push_str(&self.src[start..after]);
                                self.pos = after;
                            }
                        },
                        _ => {
                            text.push_str(&self.src[start..after]);
                            self.pos = after;
                        }
                    }
                }
                b'$' => match self.reference(self.pos)? {
                    Some(r) => {
                        flush(&mut nodes, &mut text);
                        nodes.push(Node::Ref(Box::new(r)));
                    }
                    None => {
                        text.push('$');
                        self.pos += 1;
                    }
                },
                b'#' => {
                    let next = self.peek(self.pos + 1);
                    if next == b'#' {
                        flush(&mut nodes, &mut text);
                        self.line_comment();
                        continue;
                    }
                    if next == b'*' {
                        flush(&mut nodes, &mut text);
                        match self.src[self.pos + 2..].find("*#") {
                            Some(i) => self.pos = self.pos + 2 + i + 2,
                            None => return Err(self.error("unterminated #* comment", self.pos)),
                        }
                        continue;
                    }
                    if next == b'[' && self.peek(self.pos + 2) == b'[' {
                        match self.src[self.pos + 3..].find("]]#") {
                            Some(i) => {
                                text.push_str(&self.src[self.pos + 3..self.pos + 3 + i]);
                                self.pos = self.pos + 3 + i + 3;
                            }
                            None => return Err(self.error("unterminated #[[ block", self.pos)),
                        }
                        continue;
                    }
                    let Some((name, name_end)) = self.directive_name(self.pos) else {
                        text.push('#');
                        self.pos += 1;
                        continue;
                    };
                    let at = self.pos;
                    if matches!(name, "elseif" | "else" | "end") {
                        self.terminator_at = at;
                    }
                    match name {
                        "set" => {
                            if text.bytes().all(|c| c == b' ' || c == b'\t') {
                                text.clear();
                            }
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            nodes.push(self.set_directive(at)?);
                        }
                        "if" => {
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            nodes.push(self.if_directive(at)?);
                        }
                        "foreach" => {
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            nodes.push(self.foreach_directive(at)?);
                        }
                        "elseif" => {
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            let cond = self.paren_condition("#elseif")?;
                            self.eat_line_end();
                            return Ok((nodes, Terminator::ElseIf(cond)));
                        }
                        "else" => {
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            self.eat_line_end();
                            return Ok((nodes, Terminator::Else));
                        }
                        "end" => {
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            self.eat_line_end();
                            return Ok((nodes, Terminator::End));
                        }
                        "break" => {
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            nodes.push(Node::Break);
                        }
                        "stop" => {
                            flush(&mut nodes, &mut text);
                            self.pos = name_end;
                            nodes.push(Node::Stop);
                        }
                        other => {
                            return Err(
                                self.error(format!("#{other} is not supported in mapping templates"), at)
                            );
                        }
                    }
                }
                _ => {
                    let start = self.pos;
                    let mut end = start;
                    while end < self.b.len() && !matches!(self.b[end], b'\\' | b'$' | b'#') {
                        end += 1;
                    }
                    text.push_str(&self.src[start..end]);
                    self.pos = end;
                }
            }
        }
    }

    /// `#name` or `#{name}` at `at` naming a directive: (name, end offset).
    fn directive_name(&self, at: usize) -> Option<(&'static str, usize)> {
        let mut p = at + 1;
        let braced = self.peek(p) == b'{';
        if braced {
            p += 1;
        }
        let start = p;
        while self.peek(p).is_ascii_alphabetic() {
            p += 1;
        }
        let word = &self.src[start..p];
        let name = DIRECTIVES.iter().copied().find(|d| *d == word)?;
        if braced {
            if self.peek(p) != b'}' {
                return None;
            }
            p += 1;
        }
        Some((name, p))
    }

    fn line_comment(&mut self) {
        match self.src[self.pos..].find('\n') {
            Some(i) => self.pos += i + 1,
            None => self.pos = self.b.len(),
        }
    }

    /// After a directive: spaces/tabs and one newline go, if a newline follows.
    fn eat_line_end(&mut self) {
        let mut q = self.pos;
        while matches!(self.peek(q), b' ' | b'\t') {
            q += 1;
        }
        match self.peek(q) {
            b'\n' => self.pos = q + 1,
            b'\r' => self.pos = if self.peek(q + 1) == b'\n' { q + 2 } else { q + 1 },
            _ => {}
        }
    }

    fn skip_inline_space(&mut self) {
        while matches!(self.peek(self.pos), b' ' | b'\t') {
            self.pos += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), VtlError> {
        self.skip_ws();
        if self.peek(self.pos) == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected '{}' {what}", c as char), self.pos))
        }
    }

    fn paren_condition(&mut self, directive: &str) -> Result<Expr, VtlError> {
        self.skip_inline_space();
        if self.peek(self.pos) != b'(' {
            return Err(self.error(format!("expected '(' after {directive}"), self.pos));
        }
        self.pos += 1;
        let cond = self.expr()?;
        self.expect(b')', &format!("to close {directive}"))?;
        Ok(cond)
    }

    fn set_directive(&mut self, at: usize) -> Result<Node, VtlError> {
        self.skip_inline_space();
        if self.peek(self.pos) != b'(' {
            return Err(self.error("expected '(' after #set", self.pos));
        }
        self.pos += 1;
        self.skip_ws();
        let target = match self.reference(self.pos)? {
            Some(r) if !matches!(r.chain.last(), Some(Accessor::Method(..))) => r,
            _ => return Err(self.error("#set needs a reference on the left of '='", self.pos)),
        };
        self.expect(b'=', "in #set")?;
        let value = self.expr()?;
        self.expect(b')', "to close #set")?;
        self.eat_line_end();
        Ok(Node::Set {
            target: Box::new(target),
            value,
            at: self.position(at),
        })
    }

    fn if_directive(&mut self, at: usize) -> Result<Node, VtlError> {
        let mut cond = self.paren_condition("#if")?;
        self.eat_line_end();
        let mut branches = Vec::new();
        loop {
            let (body, term) = self.block()?;
            branches.push((cond, body));
            match term {
                Terminator::End => {
                    return Ok(Node::If {
                        branches,
                        otherwise: None,
                    });
                }
                Terminator::ElseIf(c) => cond = c,
                Terminator::Else => {
                    let (body, term) = self.block()?;
                    return match term {
                        Terminator::End => Ok(Node::If {
                            branches,
                            otherwise: Some(body),
                        }),
                        _ => Err(self.error("#else must be followed by #end", self.terminator_at)),
                    };
                }
                Terminator::Eof => return Err(self.error("#if without a matching #end", at)),
            }
        }
    }

    fn foreach_directive(&mut self, at: usize) -> Result<Node, VtlError> {
        self.skip_inline_space();
        if self.peek(self.pos) != b'(' {
            return Err(self.error("expected '(' after #foreach", self.pos));
        }
        self.pos += 1;
        self.skip_ws();
        let var = match self.reference(self.pos)? {
            Some(r) if r.chain.is_empty() => r.slot,
            _ => return Err(self.error("#foreach needs a loop variable like $item", self.pos)),
        };
        self.skip_ws();
        if !self.src[self.pos..].starts_with("in") || is_ident_char(self.peek(self.pos + 2)) {
            return Err(self.error("expected 'in' in #foreach", self.pos));
        }
        self.pos += 2;
        let iterable = self.expr()?;
        self.expect(b')', "to close #foreach")?;
        self.eat_line_end();
        let (body, term) = self.block()?;
        match term {
            Terminator::End => Ok(Node::Foreach {
                var,
                iterable,
                body,
                at: self.position(at),
            }),
            Terminator::Eof => Err(self.error("#foreach without a matching #end", at)),
            _ => Err(self.error("#else/#elseif inside #foreach without #if", self.terminator_at)),
        }
    }

    fn ident(&mut self) -> &'s str {
        let start = self.pos;
        while is_ident_char(self.peek(self.pos)) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// A reference starting at `at` (a `$`), or `None` if the text there is
    /// not one (it is then plain text). Positions `self.pos` after it.
    fn reference(&mut self, at: usize) -> Result<Option<Reference>, VtlError> {
        let mut p = at + 1;
        let quiet = self.peek(p) == b'!';
        if quiet {
            p += 1;
        }
        let braced = self.peek(p) == b'{';
        if braced {
            p += 1;
        }
        if !is_ident_start(self.peek(p)) {
            return Ok(None);
        }
        let saved = self.pos;
        self.pos = p;
        let root = self.ident();
        self.enter()?;
        let chain = self.chain();
        self.leave();
        let chain = chain?;
        if braced {
            if self.peek(self.pos) != b'}' {
                self.pos = saved;
                return Ok(None);
            }
            self.pos += 1;
        }
        let slot = self.slots.of(root);
        Ok(Some(Reference {
            quiet,
            escapes: 0,
            root: root.into(),
            slot,
            direct: Direct::of(slot, &chain),
            chain,
            source: self.src[at..self.pos].into(),
            at: self.position(at),
        }))
    }

    fn chain(&mut self) -> Result<Vec<Accessor>, VtlError> {
        let mut chain = Vec::new();
        loop {
            let c = self.peek(self.pos);
            if c == b'.' && is_ident_start(self.peek(self.pos + 1)) {
                self.pos += 1;
                let name = self.ident();
                if self.peek(self.pos) == b'(' {
                    self.pos += 1;
                    let args = self.args()?;
                    let literal_path = match args.as_slice() {
                        [Expr::Str(path)] if matches!(name, "path" | "json") => {
                            super::jsonpath::compile(path).ok().map(Arc::new)
                        }
                        _ => None,
                    };
                    chain.push(Accessor::Method(name.into(), args, literal_path));
                } else {
                    chain.push(Accessor::Property(name.into()));
                }
            } else if c == b'[' {
                let before = self.pos;
                self.pos += 1;
                let index = match self.expr() {
                    Ok(e) if self.expect(b']', "to close an index").is_ok() => Some(e),
                    _ => None,
                };
                match index {
                    Some(e) => chain.push(Accessor::Index(e)),
                    None => {
                        self.pos = before;
                        return Ok(chain);
                    }
                }
            } else {
                return Ok(chain);
            }
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, VtlError> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek(self.pos) == b')' {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.skip_ws();
            match self.peek(self.pos) {
                b',' => self.pos += 1,
                b')' => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => return Err(self.error("expected ',' or ')' in method arguments", self.pos)),
            }
        }
    }

    // ---- expressions -------------------------------------------------

    fn expr(&mut self) -> Result<Expr, VtlError> {
        self.enter()?;
        let e = self.or_expr();
        self.leave();
        e
    }

    /// An operator at the cursor (symbol or word form), consumed if present.
    fn operator(&mut self, symbols: &[&str], words: &[&str]) -> Option<usize> {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        for (i, s) in symbols.iter().enumerate() {
            if !s.is_empty() && rest.starts_with(s) {
                self.pos += s.len();
                return Some(i);
            }
        }
        for (i, w) in words.iter().enumerate() {
            if !w.is_empty() && rest.starts_with(w) && !is_ident_char(self.peek(self.pos + w.len())) {
                self.pos += w.len();
                return Some(i);
            }
        }
        None
    }

    fn or_expr(&mut self) -> Result<Expr, VtlError> {
        let mut l = self.and_expr()?;
        while self.operator(&["||"], &["or"]).is_some() {
            let r = self.and_expr()?;
            l = Expr::Binary(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and_expr(&mut self) -> Result<Expr, VtlError> {
        let mut l = self.eq_expr()?;
        while self.operator(&["&&"], &["and"]).is_some() {
            let r = self.eq_expr()?;
            l = Expr::Binary(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn eq_expr(&mut self) -> Result<Expr, VtlError> {
        let mut l = self.rel_expr()?;
        while let Some(i) = self.operator(&["==", "!="], &["eq", "ne"]) {
            let op = if i == 0 { BinOp::Eq } else { BinOp::Ne };
            let r = self.rel_expr()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn rel_expr(&mut self) -> Result<Expr, VtlError> {
        let mut l = self.add_expr()?;
        while let Some(i) = self.operator(&["<=", ">=", "<", ">"], &["le", "ge", "lt", "gt"]) {
            let op = [BinOp::Le, BinOp::Ge, BinOp::Lt, BinOp::Gt][i];
            let r = self.add_expr()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn add_expr(&mut self) -> Result<Expr, VtlError> {
        let mut l = self.mul_expr()?;
        while let Some(i) = self.operator(&["+", "-"], &[]) {
            let op = if i == 0 { BinOp::Add } else { BinOp::Sub };
            let r = self.mul_expr()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn mul_expr(&mut self) -> Result<Expr, VtlError> {
        let mut l = self.unary_expr()?;
        while let Some(i) = self.operator(&["*", "/", "%"], &[]) {
            let op = [BinOp::Mul, BinOp::Div, BinOp::Mod][i];
            let r = self.unary_expr()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn unary_expr(&mut self) -> Result<Expr, VtlError> {
        self.skip_ws();
        // `!=` is not a negation.
        if (self.peek(self.pos) == b'!' && self.peek(self.pos + 1) != b'=')
            || self.operator(&[], &["not"]).is_some()
        {
            if self.peek(self.pos) == b'!' {
                self.pos += 1;
            }
            self.enter()?;
            let inner = self.unary_expr();
            self.leave();
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, VtlError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek(self.pos) {
            b'(' => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(b')', "to close '('")?;
                Ok(Expr::Paren(Box::new(e)))
            }
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek(self.pos) == b']' {
                    self.pos += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expr()?;
                self.skip_ws();
                if self.src[self.pos..].starts_with("..") {
                    self.pos += 2;
                    let last = self.expr()?;
                    self.expect(b']', "to close a range")?;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                loop {
                    self.skip_ws();
                    match self.peek(self.pos) {
                        b',' => {
                            self.pos += 1;
                            items.push(self.expr()?);
                        }
                        b']' => {
                            self.pos += 1;
                            return Ok(Expr::List(items));
                        }
                        _ => return Err(self.error("expected ',' or ']' in a list", self.pos)),
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek(self.pos) == b'}' {
                    self.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let k = self.expr()?;
                    self.expect(b':', "in a map literal")?;
                    let v = self.expr()?;
                    entries.push((k, v));
                    self.skip_ws();
                    match self.peek(self.pos) {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Ok(Expr::Map(entries));
                        }
                        _ => return Err(self.error("expected ',' or '}' in a map literal", self.pos)),
                    }
                }
            }
            b'"' | b'\'' => self.string_literal(),
            b'$' => match self.reference(self.pos)? {
                Some(r) => Ok(Expr::Ref(Box::new(r))),
                None => Err(self.error("expected a reference after '$'", start)),
            },
            c if c.is_ascii_digit() || (c == b'-' && self.peek(self.pos + 1).is_ascii_digit()) => {
                Ok(self.number())
            }
            c if c.is_ascii_alphabetic() => {
                let word = self.ident();
                match word {
                    "true" => Ok(Expr::Bool(true)),
                    "false" => Ok(Expr::Bool(false)),
                    "null" => Ok(Expr::Null),
                    _ => Err(self.error(format!("unexpected word '{word}' in an expression"), start)),
                }
            }
            0 if self.pos >= self.b.len() => {
                Err(self.error("unexpected end of template in an expression", start))
            }
            c => Err(self.error(format!("unexpected '{}' in an expression", c as char), start)),
        }
    }

    fn number(&mut self) -> Expr {
        let start = self.pos;
        if self.peek(self.pos) == b'-' {
            self.pos += 1;
        }
        while self.peek(self.pos).is_ascii_digit() {
            self.pos += 1;
        }
        let mut float = false;
        if self.peek(self.pos) == b'.' && self.peek(self.pos + 1).is_ascii_digit() {
            float = true;
            self.pos += 1;
            while self.peek(self.pos).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if matches!(self.peek(self.pos), b'e' | b'E') {
            let mut q = self.pos + 1;
            if matches!(self.peek(q), b'+' | b'-') {
                q += 1;
            }
            if self.peek(q).is_ascii_digit() {
                float = true;
                while self.peek(q).is_ascii_digit() {
                    q += 1;
                }
                self.pos = q;
            }
        }
        let text = &self.src[start..self.pos];
        if !float && let Ok(i) = text.parse::<i64>() {
            return Expr::Int(i);
        }
        Expr::Double(text.parse::<f64>().unwrap_or(f64::NAN))
    }

    fn string_literal(&mut self) -> Result<Expr, VtlError> {
        let quote = self.peek(self.pos);
        let start = self.pos;
        let mut p = start + 1;
        let mut doubled = false;
        loop {
            match self.b.get(p) {
                None => return Err(self.error("unterminated string literal", start)),
                Some(&c) if c == quote => {
                    if self.peek(p + 1) == quote {
                        doubled = true;
                        p += 2;
                    } else {
                        break;
                    }
                }
                Some(_) => p += 1,
            }
        }
        let raw = &self.src[start + 1..p];
        self.pos = p + 1;
        let q = quote as char;
        let content: std::borrow::Cow<'_, str> = if doubled {
            raw.replace(&format!("{q}{q}"), &q.to_string()).into()
        } else {
            raw.into()
        };
        if quote == b'\'' || !content.contains(['$', '#']) {
            return Ok(Expr::Str(content.into()));
        }
        let origin = match (doubled, self.origin) {
            (false, Origin::At(base)) => Origin::At(base + start + 1),
            _ => Origin::Fixed(self.position(start)),
        };
        let mut nested = Parser {
            src: &content,
            b: content.as_bytes(),
            pos: 0,
            depth: self.depth,
            lines: self.lines,
            origin,
            terminator_at: 0,
            slots: std::mem::take(&mut self.slots),
        };
        let parsed = nested.block();
        self.slots = std::mem::take(&mut nested.slots);
        let (block, term) = parsed?;
        if !matches!(term, Terminator::Eof) {
            return Err(self.error("unbalanced #end/#else inside a string literal", start));
        }
        match block.as_slice() {
            [] => Ok(Expr::Str("".into())),
            [Node::Text(t)] => Ok(Expr::Str(t.clone())),
            _ => Ok(Expr::Interpolated(block)),
        }
    }
}
