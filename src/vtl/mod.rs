//! The Velocity Template Language engine behind API Gateway mapping
//! templates: parse a template once at deployment ([`Template::parse`]),
//! render it per request ([`Template::render`]) against what a mapping
//! template can see ([`Variables`]: `$input`, `$context`, `$stageVariables`,
//! and `$util`), and hand back the output with any `$context.requestOverride`
//! / `$context.responseOverride` the template set ([`Overrides`]).
//!
//! It owns the VTL language (parser, evaluator, Java-style values and
//! methods), API Gateway's bindings of it, and [`jsonpath`], which other
//! parameter mappings use too. It knows nothing of HTTP or of where
//! templates are stored.
//!
//! Behaviour is Apache Velocity 1.7's as API Gateway runs it, differentially
//! checked against the real engine (see `tests.rs`), with API Gateway's
//! departures: a null reference renders as nothing, `#foreach` stops after
//! 1,000 iterations. Renders are bounded (output size, work, nesting) and
//! never panic.

mod apigw;
mod ast;
mod error;
pub mod jsonpath;
mod methods;
mod parser;
mod quick_json;
mod render;
mod text;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use error::{Details, ErrorKind, Position, VtlError};
pub use render::{NullReferences, RenderOptions};

/// A parsed mapping template, ready to render any number of times (and from
/// any thread).
#[derive(Debug, Clone)]
pub struct Template {
    block: ast::Block,
    /// Bytes of literal text at the top level: where the output's buffer
    /// starts, so that a typical render does not regrow it.
    text_len: usize,
    /// How many variables the template names (see [`ast::Slot`]).
    slots: usize,
    /// Whether the source calls a `path(` or `json(` method: whether a
    /// render may read the body as JSON (see [`Template::reads_body_as_json`]).
    reads_json: bool,
}

impl Template {
    /// Parse once (at deploy time). Errors carry line/column.
    pub fn parse(source: &str) -> Result<Template, VtlError> {
        let (block, slots) = parser::parse(source)?;
        let text_len = block
            .iter()
            .map(|node| match node {
                ast::Node::Text(t) => t.len(),
                _ => 0,
            })
            .sum();
        let reads_json = source.contains(".path(") || source.contains(".json(");
        Ok(Template {
            block,
            text_len,
            slots,
            reads_json,
        })
    }

    /// Whether a render may read the body as JSON (`$input.path(...)`,
    /// `$input.json(...)`), so that a caller holding the body can read it
    /// ahead ([`JsonBody::read`]) and check it as JSON in the same step.
    /// A hint from the source text, not a promise: `true` for a template
    /// that only looks as if it does, `false` for one that reaches the
    /// methods in a way the text does not show; either way the render's
    /// output is the same.
    pub fn reads_body_as_json(&self) -> bool {
        self.reads_json
    }

    /// [`Template::render`] with the body already read into values (it
    /// must be `vars.body`'s reading).
    pub fn render_read(&self, vars: &Variables<'_>, body: Option<&JsonBody>) -> Result<Rendered, VtlError> {
        render::render_read(
            &self.block,
            self.text_len,
            self.slots,
            vars,
            &RenderOptions::default(),
            body.map(|b| b.value.clone()),
        )
    }

    /// Render against one request's variables, as API Gateway does. Never panics.
    pub fn render(&self, vars: &Variables<'_>) -> Result<Rendered, VtlError> {
        self.render_with(vars, &RenderOptions::default())
    }

    /// Render with other limits, or with stock Velocity's printing of null
    /// references.
    pub fn render_with(&self, vars: &Variables<'_>, options: &RenderOptions) -> Result<Rendered, VtlError> {
        render::render_read(&self.block, self.text_len, self.slots, vars, options, None)
    }
}

/// A JSON body read into template values once, ahead of the render that
/// uses it: reading it is also proof that it is JSON, so a caller that
/// must check a body anyway checks it this way for free. Not `Send`: it
/// lives within one request.
pub struct JsonBody {
    value: value::Value,
    /// The text read (shared with the strings read from it).
    text: std::rc::Rc<str>,
}

impl JsonBody {
    /// `text` read into values if it is JSON of the shapes the quick reader
    /// takes (see `quick_json`); `None` means "not known to be JSON", to be
    /// decided by a full check.
    pub fn read(text: &str) -> Option<JsonBody> {
        let text = std::rc::Rc::<str>::from(text);
        let value = quick_json::parse_shared(&text)?;
        Some(JsonBody { value, text })
    }

    /// The text that was read (already known to be UTF-8: no need to check
    /// the bytes again).
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// What a mapping template can see.
#[derive(Clone, Copy)]
pub struct Variables<'a> {
    /// `$input.body`: the payload as text (base64 text for binary payloads). Empty → `{}` as AWS does.
    pub body: &'a str,
    /// `$input.params()`: path parameters, query string (last value wins), headers (last value wins), in arrival order.
    pub path: &'a [(&'a str, &'a str)],
    pub querystring: &'a [(&'a str, &'a str)],
    pub header: &'a [(&'a str, &'a str)],
    /// `$context`: requestId, stage, identity.{sourceIp,...},
    /// authorizer.{...}, error.{...}, ..., asked for field by field.
    pub context: &'a dyn ContextSource,
    /// `$stageVariables`.
    pub stage_variables: &'a BTreeMap<String, String>,
}

/// Where `$context` comes from. A template that reads `$context.requestId`
/// asks for that field alone; the whole tree is built only when a template
/// uses `$context` itself as a value (prints it, iterates it, calls a
/// method on it, sets a new top-level field).
pub trait ContextSource {
    /// One top-level field (`requestId`, `identity`, ...), `None` if there
    /// is none by that name.
    fn field(&self, name: &str) -> Option<serde_json::Value>;
    /// Every field, as one JSON object.
    fn tree(&self) -> serde_json::Value;
    /// One key of an object field (`identity.sourceIp`) without building
    /// the whole object: `Some(None)` when the object has no such key,
    /// `None` when this source does not answer piecewise for `name` (then
    /// `field(name)` is asked). Must agree with `field(name)`.
    fn subfield(&self, name: &str, key: &str) -> Option<Option<serde_json::Value>> {
        let _ = (name, key);
        None
    }
    /// Overrides an earlier template of the same request set (the request
    /// template's, seen by the response template).
    fn prior_overrides(&self) -> Option<&Overrides> {
        None
    }
}

/// A ready-made tree (what tests and one-off renders have).
impl ContextSource for serde_json::Value {
    fn field(&self, name: &str) -> Option<serde_json::Value> {
        self.get(name).cloned()
    }

    fn tree(&self) -> serde_json::Value {
        self.clone()
    }
}

/// The result of one render.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub output: String,
    /// From `#set($context.requestOverride.header.X = ...)`, `.querystring.X`, `.path.X`, and `#set($context.responseOverride.status = N)` / `.header.X`.
    pub overrides: Overrides,
}

/// Request/response overrides a template set. A list value gives one entry
/// per item (a multi-value header or query string). The request side
/// (`requestOverride.*`) changes the integration request; the response side
/// (`responseOverride.*`) the method response. Both sides set in a request
/// template stay visible to (and, for the response side, take effect
/// through) the response template.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Overrides {
    /// `responseOverride.status`, only when an integer in 100..=599.
    pub status: Option<u16>,
    /// `requestOverride.header`.
    pub header: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub path: Vec<(String, String)>,
    /// `responseOverride.header`.
    pub response_header: Vec<(String, String)>,
}
