//! Walks a parsed template against one request's variables, with Velocity
//! 1.7's semantics (checked against the real engine) and API Gateway's limits.
//!
//! Velocity rules kept here:
//! - `#set` with a null right-hand side leaves the target unchanged;
//! - `#if` is true for a reference that is non-null and not `false` (an empty
//!   string or `0` is true), for `true`, and for comparisons that hold; a bare
//!   literal other than `true` (`#if("x")`, `#if(1)`, `#if([])`) is false;
//! - `==` compares numbers by value, same-kind values with `equals`, and
//!   anything else by `toString()` (`5 == "5"` holds);
//! - `+` adds numbers or, when either side is a string, concatenates; other
//!   arithmetic on non-numbers, and division by zero, give null;
//! - `#foreach` restores the loop variable afterwards, offers `$foreach`
//!   (`index count hasNext first last parent`) and `$velocityCount`, and
//!   stops silently after 1,000 iterations (API Gateway's cap);
//! - a null reference prints nothing in API Gateway (its Velocity prints
//!   `""` for null) — [`NullReferences::Literal`] prints the source text as
//!   stock Velocity does.

use std::collections::HashMap;
use std::rc::Rc;

use super::ast::{
    Accessor, BinOp, Block, CONTEXT_SLOT, Direct, Expr, FOREACH_SLOT, INPUT_SLOT, Node, Reference,
    STAGE_VARIABLES_SLOT, Slot, UTIL_SLOT, VELOCITY_COUNT_SLOT, VELOCITY_HAS_NEXT_SLOT,
};
use super::error::{ErrorKind, VtlError};
use super::jsonpath::PathCache;
use super::value::{Args, Builtin, LoopProperty, LoopState, Value, from_serde, java_equals};
use super::value::{Entries, Text};
use super::{Overrides, Rendered, Variables, apigw, methods};

/// What a null or undefined reference prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullReferences {
    /// Nothing — API Gateway's behaviour (the default).
    #[default]
    Empty,
    /// The reference as written (`$foo`), as stock Velocity 1.7 does.
    Literal,
}

/// Knobs of one render. The defaults are API Gateway's.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub null_references: NullReferences,
    /// Largest rendered output, in bytes.
    pub max_output: usize,
    /// Iterations of one `#foreach` before it stops (API Gateway: 1,000).
    pub max_iterations: usize,
    /// Work units (nodes, calls, iterations, bytes/64 built) before the
    /// render is abandoned; guards nested loops and runaway growth.
    pub max_work: u64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            null_references: NullReferences::Empty,
            max_output: 10 * 1024 * 1024,
            max_iterations: 1000,
            max_work: 2_000_000,
        }
    }
}

/// Largest string or list a template may build.
pub(crate) const MAX_STRING: usize = 10 * 1024 * 1024;
pub(crate) const MAX_ITEMS: usize = 1_000_000;

/// List and map methods that change nothing (anything else might, and
/// makes the render tear its values down at the end).
const READ_ONLY_METHODS: &[&str] = &[
    "size",
    "isEmpty",
    "get",
    "getOrDefault",
    "contains",
    "containsKey",
    "containsValue",
    "indexOf",
    "lastIndexOf",
    "keySet",
    "values",
    "entrySet",
    "subList",
    "toString",
    "equals",
    "hashCode",
];

enum Flow {
    Normal,
    Break,
    Stop,
}

pub(crate) struct Renderer<'a, 'v> {
    pub(crate) vars: &'a Variables<'v>,
    opts: &'a RenderOptions,
    /// Template variables by slot ([`Slot`]): `None` for one not set.
    /// Inline for the few variables most templates name.
    globals: smallvec::SmallVec<[Option<Value>; 8]>,
    loop_state: Option<Rc<std::cell::RefCell<LoopState>>>,
    pub(crate) body: Option<Value>,
    /// The body as the caller read it ahead, for the first use of `body`.
    pub(crate) read_body: Option<Value>,
    pub(crate) params: Option<Value>,
    pub(crate) paths: PathCache,
    /// Top-level `$context` fields fetched so far, while `$context` as a
    /// whole has not been needed (then it is a global like any other).
    context_fields: Entries,
    pub(crate) regexes: HashMap<String, Rc<regex::Regex>>,
    work: u64,
    /// `opts.max_work`, kept beside `work` (every node checks it).
    max_work: u64,
    created: Vec<Value>,
    /// Whether the template changed a list or map (`#set($m.k = ...)`,
    /// `$l.add(...)`) or put one inside a list or map literal (`[$a]`):
    /// only then can values form a cycle, or nest deeper than parsing
    /// allows, and need [`Renderer::teardown`] rather than a plain drop.
    needs_teardown: bool,
    /// The `$context.requestOverride` / `responseOverride` parameters this
    /// render has set: each may be set once ("Overrides are final").
    overridden: std::collections::HashSet<String>,
}

/// Renders `block` (which uses `slots` variable slots), with `vars.body`
/// already read into values or not.
pub(crate) fn render_read(
    block: &Block,
    text_len: usize,
    slots: usize,
    vars: &Variables<'_>,
    opts: &RenderOptions,
    read_body: Option<Value>,
) -> Result<Rendered, VtlError> {
    let mut r = Renderer {
        vars,
        opts,
        globals: std::iter::repeat_with(|| None).take(slots).collect(),
        loop_state: None,
        body: None,
        read_body,
        params: None,
        paths: PathCache,
        context_fields: Entries::default(),
        regexes: HashMap::new(),
        work: 0,
        max_work: opts.max_work,
        created: Vec::with_capacity(4),
        needs_teardown: false,
        overridden: std::collections::HashSet::new(),
    };
    let mut out = String::with_capacity((text_len + text_len / 2 + 64).min(opts.max_output));
    let result = r.block(block, &mut out, true);
    let overrides = if result.is_ok() {
        r.overrides()
    } else {
        Overrides::default()
    };
    if r.needs_teardown {
        r.teardown();
    }
    result?;
    Ok(Rendered {
        output: out,
        overrides,
    })
}

impl Renderer<'_, '_> {
    fn teardown(&mut self) {
        let mut roots = std::mem::take(&mut self.created);
        roots.extend(self.globals.drain(..).flatten());
        roots.extend(self.body.take());
        roots.extend(self.read_body.take());
        roots.extend(self.params.take());
        roots.extend(self.context_fields.drain(..).map(|(_, v)| v));
        super::value::teardown(roots);
    }

    /// Count `units` of work against the budget.
    #[inline]
    pub(crate) fn tick(&mut self, units: u64) -> Result<(), VtlError> {
        self.work += units;
        if self.work > self.max_work {
            return Err(self.over_budget());
        }
        Ok(())
    }

    #[cold]
    fn over_budget(&self) -> VtlError {
        VtlError::limit(format!(
            "template did more than {} units of work (nested loops?)",
            self.opts.max_work
        ))
    }

    /// A string the template built: checked against the size cap and charged.
    pub(crate) fn built(&mut self, s: String) -> Result<Value, VtlError> {
        if s.len() > MAX_STRING {
            return Err(VtlError::limit(format!("string longer than {MAX_STRING} bytes")));
        }
        self.tick(s.len() as u64 / 64)?;
        Ok(Value::str(s))
    }

    /// A container the template made: kept for teardown at the end.
    pub(crate) fn track(&mut self, v: Value) -> Result<Value, VtlError> {
        if let Value::List(l) = &v
            && l.borrow().items.len() > MAX_ITEMS
        {
            return Err(VtlError::limit(format!("list longer than {MAX_ITEMS} items")));
        }
        self.tick(1)?;
        self.created.push(v.clone());
        Ok(v)
    }

    #[inline]
    fn emit(&self, out: &mut String, s: &str, top: bool) -> Result<(), VtlError> {
        out.push_str(s);
        let cap = if top { self.opts.max_output } else { MAX_STRING };
        if out.len() > cap {
            return Err(too_long(cap));
        }
        Ok(())
    }

    fn block(&mut self, block: &Block, out: &mut String, top: bool) -> Result<Flow, VtlError> {
        for node in block {
            self.tick(1)?;
            match node {
                Node::Text(t) => self.emit(out, t, top)?,
                Node::Ref(r) => self.print_ref(r, out, top)?,
                Node::Set { target, value, at } => {
                    let v = self.eval(value).map_err(|e| e.at(*at))?;
                    if !v.is_null() {
                        self.assign(target, v).map_err(|e| e.at(*at))?;
                    }
                }
                Node::If { branches, otherwise } => {
                    let mut chosen = otherwise.as_ref();
                    for (cond, body) in branches {
                        if self.truthy(cond)? {
                            chosen = Some(body);
                            break;
                        }
                    }
                    if let Some(body) = chosen {
                        match self.block(body, out, top)? {
                            Flow::Normal => {}
                            flow => return Ok(flow),
                        }
                    }
                }
                Node::Foreach {
                    var,
                    iterable,
                    body,
                    at,
                } => {
                    if let Flow::Stop = self
                        .foreach(*var, iterable, body, out, top)
                        .map_err(|e| e.at(*at))?
                    {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Stop => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Normal)
    }

    fn print_ref(&mut self, r: &Reference, out: &mut String, top: bool) -> Result<(), VtlError> {
        let v = self.eval_ref(r)?;
        if r.escapes > 0 {
            let slashes = if v.is_null() { r.escapes } else { r.escapes / 2 };
            let text = "\\".repeat(slashes as usize);
            self.emit(out, &text, top)?;
            if v.is_null() || r.escapes % 2 == 1 {
                return self.emit(out, &r.source, top);
            }
        }
        match v {
            Value::Null => {
                if !r.quiet && self.opts.null_references == NullReferences::Literal {
                    self.emit(out, &r.source, top)?;
                }
                Ok(())
            }
            Value::Str(s) => self.emit(out, &s, top),
            Value::Int(i) => self.emit(out, itoa::Buffer::new().format(i), top),
            v => {
                let s = v.display().map_err(|e| e.at(r.at))?;
                self.emit(out, &s, top)
            }
        }
    }

    fn foreach(
        &mut self,
        var: Slot,
        iterable: &Expr,
        body: &Block,
        out: &mut String,
        top: bool,
    ) -> Result<Flow, VtlError> {
        let cap = self.opts.max_iterations;
        // (items to visit, total length of the underlying collection)
        let (items, total): (Vec<Value>, usize) = match iterable {
            Expr::Range(a, b) => match self.range_bounds(a, b)? {
                Some((from, to)) => {
                    let total = (from.abs_diff(to) as usize).saturating_add(1);
                    let step = if to >= from { 1 } else { -1 };
                    let items = (0..total.min(cap))
                        .map(|i| Value::Int(from + step * i as i64))
                        .collect();
                    (items, total)
                }
                None => (Vec::new(), 0),
            },
            _ => match self.eval(iterable)? {
                Value::List(l) => {
                    let l = l.borrow();
                    (l.items.iter().take(cap).cloned().collect(), l.items.len())
                }
                // Velocity iterates a map's values.
                Value::Map(m) => {
                    let m = m.borrow();
                    let entries = m.entries();
                    (entries.values().take(cap).cloned().collect(), entries.len())
                }
                _ => (Vec::new(), 0),
            },
        };
        let saved_var = self.set_var(var, None);
        let saved_foreach = self.set_var(FOREACH_SLOT, None);
        let parent = saved_foreach.clone();
        let state = Rc::new(std::cell::RefCell::new(LoopState {
            index: 0,
            has_next: false,
            parent,
        }));
        let saved_state = self.loop_state.replace(state.clone());
        self.set_var(FOREACH_SLOT, Some(Value::Object(Builtin::Foreach(state.clone()))));
        let mut flow = Flow::Normal;
        for (i, item) in items.into_iter().enumerate() {
            self.tick(1)?;
            {
                let mut s = state.borrow_mut();
                s.index = i;
                s.has_next = i + 1 < total;
            }
            self.set_var(var, Some(item));
            match self.block(body, out, top)? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        self.loop_state = saved_state;
        self.set_var(var, saved_var);
        self.set_var(FOREACH_SLOT, saved_foreach);
        Ok(flow)
    }

    fn range_bounds(&mut self, a: &Expr, b: &Expr) -> Result<Option<(i64, i64)>, VtlError> {
        let from = self.eval(a)?;
        let to = self.eval(b)?;
        Ok(match (from.as_int(), to.as_int()) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => None,
        })
    }

    // ---- references --------------------------------------------------

    /// The template variable in `slot`, if the template set it.
    fn var(&self, slot: Slot) -> Option<&Value> {
        self.globals.get(slot as usize).and_then(Option::as_ref)
    }

    /// Sets (or with `None` unsets) the variable in `slot`; returns what it
    /// held.
    fn set_var(&mut self, slot: Slot, value: Option<Value>) -> Option<Value> {
        let i = slot as usize;
        if i >= self.globals.len() {
            // Not for slots the parser gave out (the table is sized for
            // them), but a slot must never be out of reach.
            self.globals.resize(i + 1, None);
        }
        std::mem::replace(&mut self.globals[i], value)
    }

    /// `$name` (in `slot`): the template's own variable, else what API
    /// Gateway provides under that name.
    fn lookup(&mut self, slot: Slot) -> Result<Value, VtlError> {
        if let Some(v) = self.var(slot) {
            return Ok(v.clone());
        }
        let loop_value = |f: fn(&LoopState) -> Value, s: &Option<Rc<std::cell::RefCell<LoopState>>>| {
            s.as_ref().map_or(Value::Null, |s| f(&s.borrow()))
        };
        // The names with a value of their own have fixed slots.
        Ok(match slot {
            INPUT_SLOT => Value::Object(Builtin::Input),
            UTIL_SLOT => Value::Object(Builtin::Util),
            CONTEXT_SLOT => {
                let v = apigw::context_value(self.vars.context, &self.context_fields);
                self.context_fields.clear();
                self.set_var(slot, Some(v.clone()));
                v
            }
            STAGE_VARIABLES_SLOT => {
                let v = apigw::stage_variables_value(self.vars.stage_variables);
                self.set_var(slot, Some(v.clone()));
                v
            }
            VELOCITY_COUNT_SLOT => loop_value(|s| Value::Int(s.index as i64 + 1), &self.loop_state),
            VELOCITY_HAS_NEXT_SLOT => loop_value(|s| Value::Bool(s.has_next), &self.loop_state),
            _ => Value::Null,
        })
    }

    fn eval_ref(&mut self, r: &Reference) -> Result<Value, VtlError> {
        match &r.direct {
            Some(direct) => self.eval_direct(r, direct),
            None if r.chain.is_empty() => self.lookup(r.slot),
            None => self.eval_chain(r, r.chain.len()),
        }
    }

    /// `r` in one step: what [`Renderer::eval_chain`] gives for it while
    /// `$input` / `$util` are API Gateway's own and `$foreach` is the
    /// loop's (else the chain is walked).
    fn eval_direct(&mut self, r: &Reference, direct: &Direct) -> Result<Value, VtlError> {
        match direct {
            Direct::Loop(property) => {
                if let Some(Value::Object(Builtin::Foreach(state))) = self.var(r.slot) {
                    let v = property.of(&state.borrow());
                    self.tick(1)?;
                    return Ok(v);
                }
            }
            _ if self.var(r.slot).is_some() => {}
            // Charged as the walk charges: a unit for the accessor, and one
            // more for the literal path.
            Direct::InputPath { json, path } => {
                self.tick(2)?;
                return apigw::input_path_method(self, *json, path).map_err(|e| e.at(r.at));
            }
            Direct::Util(func, arg) => {
                self.tick(1)?;
                let arg = self.eval(arg)?;
                return apigw::util_call(self, *func, &arg).map_err(|e| e.at(r.at));
            }
        }
        self.eval_chain(r, r.chain.len())
    }

    /// The value of `r`'s root and its first `n` accessors.
    fn eval_chain(&mut self, r: &Reference, n: usize) -> Result<Value, VtlError> {
        let (mut v, from) = match (r.slot, r.chain[..n].first()) {
            (CONTEXT_SLOT, Some(Accessor::Property(field))) if self.var(CONTEXT_SLOT).is_none() => {
                self.tick(1)?;
                // `$context.identity.sourceIp`: one key, unless the template
                // already holds (and may have changed) the whole object.
                let piecewise = match r.chain[..n].get(1) {
                    Some(Accessor::Property(key)) if !self.context_fields.contains_key(&**field) => {
                        self.vars.context.subfield(field, key)
                    }
                    _ => None,
                };
                match piecewise {
                    Some(found) => {
                        self.tick(1)?;
                        (found.map_or(Value::Null, |v| from_serde(&v, 0)), 2)
                    }
                    None => (self.context_field(field), 1),
                }
            }
            _ => match self.one_param(r, n) {
                Some(found) => {
                    self.tick(3)?;
                    (found, 3)
                }
                None => (self.lookup(r.slot)?, 0),
            },
        };
        for acc in &r.chain[from..n] {
            if v.is_null() {
                return Ok(Value::Null);
            }
            self.tick(1)?;
            v = match acc {
                Accessor::Property(name) => self.property(&v, name).map_err(|e| e.at(r.at))?,
                Accessor::Method(name, args, literal_path) => match (&v, args.as_slice()) {
                    // `$input.path('$.x')` and the like: the literal is used
                    // as is (a path as compiled at parse time, if it compiled).
                    (Value::Object(Builtin::Input), [Expr::Str(text)])
                        if matches!(&**name, "json" | "path" | "params") =>
                    {
                        self.tick(1)?;
                        match literal_path {
                            Some(path) => apigw::input_path_method(self, &**name == "json", path),
                            None => apigw::input_method_on(self, name, text),
                        }
                        .map_err(|e| e.at(r.at))?
                    }
                    _ => {
                        let mut values = Args::with_capacity(args.len());
                        for a in args {
                            values.push(self.eval(a)?);
                        }
                        self.call(&v, name, values).map_err(|e| e.at(r.at))?
                    }
                },
                Accessor::Index(e) => {
                    let k = self.eval(e)?;
                    index(&v, &k).map_err(|e| e.at(r.at))?
                }
            };
        }
        Ok(v)
    }

    /// `$input.params().header.get('X')` (or `.path` / `.querystring`), the
    /// usual way to read one parameter: its value straight from the request,
    /// without building the three maps of `$input.params()`. Only while
    /// the template has not built them (and so cannot have changed them)
    /// and has not set `$input` itself; otherwise `None`.
    fn one_param(&self, r: &Reference, n: usize) -> Option<Value> {
        let [
            Accessor::Method(params, none, _),
            Accessor::Property(kind),
            Accessor::Method(get, key, _),
            ..,
        ] = &r.chain[..n]
        else {
            return None;
        };
        let [Expr::Str(key)] = key.as_slice() else {
            return None;
        };
        let shortcut = r.slot == INPUT_SLOT && &**params == "params" && none.is_empty() && &**get == "get";
        if !shortcut || self.params.is_some() || self.var(INPUT_SLOT).is_some() {
            return None;
        }
        apigw::one_param(self.vars, kind, key)
    }

    /// `$context.name` before `$context` as a whole was needed.
    fn context_field(&mut self, name: &str) -> Value {
        if let Some(v) = self.context_fields.get(name) {
            return v.clone();
        }
        let v = apigw::context_field(self.vars.context, name);
        self.context_fields.insert(Text::from(name), v.clone());
        v
    }

    pub(crate) fn call(&mut self, target: &Value, name: &str, args: Args) -> Result<Value, VtlError> {
        if matches!(target, Value::List(_) | Value::Map(_)) && !READ_ONLY_METHODS.contains(&name) {
            self.needs_teardown = true;
        }
        match target {
            Value::Object(Builtin::Input) => apigw::input_method(self, name, args),
            Value::Object(Builtin::Util) => apigw::util_method(self, name, args),
            _ => methods::call(self, target, name, args),
        }
    }

    fn property(&mut self, target: &Value, name: &str) -> Result<Value, VtlError> {
        match target {
            Value::Map(m) => return Ok(m.borrow().get(name).unwrap_or(Value::Null)),
            Value::Entry(e) => match name {
                "key" => return Ok(Value::Str(e.0.clone())),
                "value" => return Ok(e.1.clone()),
                _ => {}
            },
            Value::Object(Builtin::Input) if name == "body" => {
                let body = self.vars.body;
                return Ok(Value::str(if body.is_empty() { "{}" } else { body }));
            }
            Value::Object(Builtin::Foreach(s)) => {
                return Ok(LoopProperty::named(name).map_or(Value::Null, |p| p.of(&s.borrow())));
            }
            _ => {}
        }
        // Velocity's property lookup: getFoo(), then isFoo().
        let mut chars = name.chars();
        let Some(first) = chars.next() else {
            return Ok(Value::Null);
        };
        let cap: String = first.to_uppercase().chain(chars).collect();
        let v = self.call(target, &format!("get{cap}"), Args::new())?;
        if !v.is_null() {
            return Ok(v);
        }
        self.call(target, &format!("is{cap}"), Args::new())
    }

    /// `requestOverride.header.X`-style name of the override parameter a
    /// `#set` targets, if it targets one.
    fn override_parameter(&mut self, target: &Reference) -> Result<Option<String>, VtlError> {
        let side = match target.chain.first() {
            Some(Accessor::Property(p)) if matches!(&**p, "requestOverride" | "responseOverride") => p,
            _ => return Ok(None),
        };
        if &*target.root != "context" {
            return Ok(None);
        }
        let mut names = vec![side.to_string()];
        for accessor in &target.chain[1..] {
            match accessor {
                Accessor::Property(name) => names.push(name.to_string()),
                Accessor::Index(e) => {
                    let k = self.eval(e)?;
                    names.push(k.display()?);
                }
                Accessor::Method(..) => return Ok(None),
            }
        }
        let parameter = match names.as_slice() {
            [side, status] if side == "responseOverride" && status == "status" => true,
            [_, _, _] => true,
            _ => false,
        };
        Ok(parameter.then(|| names.join(".")))
    }

    fn assign(&mut self, target: &Reference, value: Value) -> Result<(), VtlError> {
        // AWS: "Overrides are final ... Trying to override the same parameter
        // multiple times will result in 5XX responses."
        if let Some(parameter) = self.override_parameter(target)?
            && !self.overridden.insert(parameter.clone())
        {
            return Err(VtlError::new(
                ErrorKind::MethodInvocation,
                format!("$context.{parameter} is overridden more than once; overrides are final"),
                None,
            ));
        }
        let Some(last) = target.chain.last() else {
            self.set_var(target.slot, Some(value));
            return Ok(());
        };
        let base = self.eval_chain(target, target.chain.len() - 1)?;
        if matches!(base, Value::List(_) | Value::Map(_)) {
            self.needs_teardown = true;
        }
        match (last, &base) {
            (Accessor::Property(name), Value::Map(m)) => {
                m.borrow_mut().entries_mut().insert(Text::from(&**name), value);
                self.track(base.clone())?;
            }
            (Accessor::Index(e), _) => {
                let k = self.eval(e)?;
                match (&base, &k) {
                    (Value::Map(m), _) if !k.is_null() => {
                        let key = k.display()?;
                        m.borrow_mut().entries_mut().insert(Text::from(key), value);
                        self.track(base.clone())?;
                    }
                    (Value::List(l), Value::Int(i)) => {
                        let mut l = l.borrow_mut();
                        let len = l.items.len() as i64;
                        let at = if *i < 0 { len + i } else { *i };
                        if !(0..len).contains(&at) {
                            return Err(index_error(*i, len));
                        }
                        l.items[at as usize] = value;
                        drop(l);
                        self.track(base.clone())?;
                    }
                    _ => {}
                }
            }
            // Velocity ignores a set on something without that property.
            _ => {}
        }
        Ok(())
    }

    // ---- expressions -------------------------------------------------

    /// Velocity's truth of an expression *node* (not just its value).
    fn truthy(&mut self, e: &Expr) -> Result<bool, VtlError> {
        Ok(match e {
            Expr::Bool(b) => *b,
            Expr::Ref(r) => {
                let v = self.eval_ref(r)?;
                !v.is_null() && !matches!(v, Value::Bool(false))
            }
            Expr::Paren(inner) => self.truthy(inner)?,
            Expr::Not(inner) => !self.truthy(inner)?,
            Expr::Binary(
                BinOp::Or
                | BinOp::And
                | BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge,
                ..,
            ) => matches!(self.eval(e)?, Value::Bool(true)),
            _ => false,
        })
    }

    pub(crate) fn eval(&mut self, e: &Expr) -> Result<Value, VtlError> {
        self.tick(1)?;
        Ok(match e {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Double(d) => Value::Double(*d),
            Expr::Str(s) => Value::str(&**s),
            Expr::Interpolated(block) => {
                let mut s = String::new();
                self.block(block, &mut s, false)?;
                self.built(s)?
            }
            Expr::Ref(r) => self.eval_ref(r)?,
            Expr::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for i in items {
                    values.push(self.eval(i)?);
                }
                self.needs_teardown |= values.iter().any(Value::is_container);
                self.track(Value::new_list(values, false))?
            }
            Expr::Range(a, b) => match self.range_bounds(a, b)? {
                Some((from, to)) => {
                    let total = from.abs_diff(to).saturating_add(1);
                    if total > MAX_ITEMS as u64 {
                        return Err(VtlError::limit(format!(
                            "range of {total} items (at most {MAX_ITEMS})"
                        )));
                    }
                    self.tick(total / 64)?;
                    let values: Vec<Value> = if to >= from {
                        (from..=to).map(Value::Int).collect()
                    } else {
                        (to..=from).rev().map(Value::Int).collect()
                    };
                    self.track(Value::new_list(values, false))?
                }
                None => Value::Null,
            },
            Expr::Map(entries) => {
                let mut map = Entries::with_capacity_and_hasher(entries.len(), Default::default());
                for (k, v) in entries {
                    let k = self.eval(k)?;
                    let v = self.eval(v)?;
                    self.needs_teardown |= v.is_container();
                    map.insert(Text::from(k.display()?), v);
                }
                self.track(Value::new_map(map))?
            }
            Expr::Not(inner) => Value::Bool(!self.truthy(inner)?),
            Expr::Paren(inner) => self.eval(inner)?,
            Expr::Binary(op, l, r) => match op {
                BinOp::Or => Value::Bool(self.truthy(l)? || self.truthy(r)?),
                BinOp::And => Value::Bool(self.truthy(l)? && self.truthy(r)?),
                _ => {
                    let lv = self.eval(l)?;
                    let rv = self.eval(r)?;
                    self.binary(*op, lv, rv)?
                }
            },
        })
    }

    fn binary(&mut self, op: BinOp, l: Value, r: Value) -> Result<Value, VtlError> {
        Ok(match op {
            BinOp::Eq => Value::Bool(velocity_eq(&l, &r)?),
            BinOp::Ne => Value::Bool(!velocity_eq(&l, &r)?),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ord = match (&l, &r) {
                    (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
                    _ => match (l.as_f64(), r.as_f64()) {
                        (Some(a), Some(b)) => a.partial_cmp(&b),
                        _ => None,
                    },
                };
                Value::Bool(match ord {
                    None => false,
                    Some(o) => match op {
                        BinOp::Lt => o.is_lt(),
                        BinOp::Le => o.is_le(),
                        BinOp::Gt => o.is_gt(),
                        _ => o.is_ge(),
                    },
                })
            }
            BinOp::Add if !(l.is_number() && r.is_number()) => {
                if l.is_null() || r.is_null() || !(matches!(l, Value::Str(_)) || matches!(r, Value::Str(_))) {
                    Value::Null
                } else {
                    let mut s = l.display()?;
                    s.push_str(&r.display()?);
                    self.built(s)?
                }
            }
            _ => arithmetic(op, &l, &r),
        })
    }

    fn overrides(&self) -> Overrides {
        // A template that never reached either override object set nothing
        // (the usual case: no lookups, no empty lists to gather).
        let reached =
            |field: &str| !self.context_fields.is_empty() && self.context_fields.contains_key(field);
        if self.var(CONTEXT_SLOT).is_none() && !reached("requestOverride") && !reached("responseOverride") {
            return Overrides::default();
        }
        let field = |k: &str| match self.var(CONTEXT_SLOT) {
            Some(Value::Map(m)) => m.borrow().get(k),
            Some(_) => None,
            None => self.context_fields.get(k).cloned(),
        };
        apigw::overrides(|k| field(k).unwrap_or(Value::Null))
    }
}

#[cold]
fn too_long(cap: usize) -> VtlError {
    VtlError::limit(format!("rendered output larger than {cap} bytes"))
}

fn index_error(i: i64, len: i64) -> VtlError {
    VtlError::new(
        ErrorKind::MethodInvocation,
        format!("IndexOutOfBoundsException: Index {i} out of bounds for length {len}"),
        None,
    )
}

/// `$x[i]`: list position (negative counts from the end) or map key.
fn index(target: &Value, k: &Value) -> Result<Value, VtlError> {
    match (target, k) {
        (Value::List(l), Value::Int(i)) => {
            let l = l.borrow();
            let len = l.items.len() as i64;
            let at = if *i < 0 { len + i } else { *i };
            if !(0..len).contains(&at) {
                return Err(index_error(*i, len));
            }
            Ok(l.items[at as usize].clone())
        }
        (Value::Map(m), Value::Str(s)) => Ok(m.borrow().get(s).unwrap_or(Value::Null)),
        _ => Ok(Value::Null),
    }
}

/// Velocity 1.7's `==`.
fn velocity_eq(l: &Value, r: &Value) -> Result<bool, VtlError> {
    Ok(match (l, r) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Int(a), Value::Int(b)) => a == b,
        _ if l.is_number() && r.is_number() => l.as_f64() == r.as_f64(),
        (Value::Bool(_), Value::Bool(_))
        | (Value::Str(_), Value::Str(_))
        | (Value::List(_), Value::List(_))
        | (Value::Map(_), Value::Map(_))
        | (Value::Entry(_), Value::Entry(_)) => java_equals(l, r, 0),
        _ => l.display()? == r.display()?,
    })
}

/// Number arithmetic as Velocity's MathUtils does it: integers stay integers
/// (truncating division), a double anywhere makes a double, division by
/// zero and non-numbers give null.
fn arithmetic(op: BinOp, l: &Value, r: &Value) -> Value {
    if let (Value::Int(a), Value::Int(b)) = (l, r) {
        let (a, b) = (*a, *b);
        let exact = match op {
            BinOp::Add => a.checked_add(b),
            BinOp::Sub => a.checked_sub(b),
            BinOp::Mul => a.checked_mul(b),
            BinOp::Div if b == 0 => return Value::Null,
            BinOp::Div => a.checked_div(b),
            BinOp::Mod if b == 0 => return Value::Null,
            BinOp::Mod => a.checked_rem(b),
            _ => return Value::Null,
        };
        if let Some(v) = exact {
            return Value::Int(v);
        }
    }
    let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
        return Value::Null;
    };
    match op {
        BinOp::Add => Value::Double(a + b),
        BinOp::Sub => Value::Double(a - b),
        BinOp::Mul => Value::Double(a * b),
        BinOp::Div if b == 0.0 => Value::Null,
        BinOp::Div => Value::Double(a / b),
        BinOp::Mod if b == 0.0 => Value::Null,
        BinOp::Mod => Value::Double(a % b),
        _ => Value::Null,
    }
}
