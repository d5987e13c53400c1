//! The parsed form of a template: what `Template::parse` builds once and
//! every render walks. Plain owned data (no `Rc`), so a template can be
//! shared between threads.

use std::sync::Arc;

use super::apigw::UtilFn;
use super::error::Position;
use super::jsonpath::Path;
use super::value::LoopProperty;

/// A run of template content.
pub(crate) type Block = Vec<Node>;

/// A template variable's place in a render's table of variables: the
/// parser gives every distinct `$name` a template mentions its own, so a
/// render finds a variable by index, not by hashing its name.
pub(crate) type Slot = u32;

/// Slots every template has, whether or not it names them: the names API
/// Gateway and Velocity give a value when the template has not set them,
/// and the one `#foreach` sets (so a render asks about them by number).
pub(crate) const CONTEXT_SLOT: Slot = 0;
pub(crate) const INPUT_SLOT: Slot = 1;
pub(crate) const FOREACH_SLOT: Slot = 2;
pub(crate) const UTIL_SLOT: Slot = 3;
pub(crate) const STAGE_VARIABLES_SLOT: Slot = 4;
pub(crate) const VELOCITY_COUNT_SLOT: Slot = 5;
pub(crate) const VELOCITY_HAS_NEXT_SLOT: Slot = 6;
pub(crate) const FIXED_SLOTS: [&str; 7] = [
    "context",
    "input",
    "foreach",
    "util",
    "stageVariables",
    "velocityCount",
    "velocityHasNext",
];

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(Box<str>),
    Ref(Box<Reference>),
    Set {
        target: Box<Reference>,
        value: Expr,
        at: Position,
    },
    If {
        branches: Vec<(Expr, Block)>,
        otherwise: Option<Block>,
    },
    Foreach {
        var: Slot,
        iterable: Expr,
        body: Block,
        at: Position,
    },
    Break,
    Stop,
}

/// `$name.prop.method(args)[index]`, with its quiet/escape markers and the
/// source text Velocity prints when the value is null.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub quiet: bool,
    /// Backslashes written right before the `$`.
    pub escapes: u32,
    pub root: Box<str>,
    /// `root`'s slot.
    pub slot: Slot,
    pub chain: Vec<Accessor>,
    /// The chain as one step, when it is one of the forms templates use
    /// most (see [`Direct`]).
    pub direct: Option<Direct>,
    pub source: Box<str>,
    pub at: Position,
}

/// A reference of a form templates use over and over, recognised once at
/// parse time: a render evaluates it in one step rather than walking the
/// chain accessor by accessor, as long as the root is what API Gateway or
/// `#foreach` put there (if the template set it itself, the chain is walked
/// as written).
#[derive(Debug, Clone)]
pub(crate) enum Direct {
    /// `$input.path('literal')` or `$input.json('literal')`, the path
    /// compiled.
    InputPath { json: bool, path: Arc<Path> },
    /// `$util.escapeJavaScript(arg)` and the other one-argument `$util`
    /// functions, with (a copy of) the argument.
    Util(UtilFn, Box<Expr>),
    /// `$foreach.hasNext` and the loop's other properties.
    Loop(LoopProperty),
}

impl Direct {
    /// The one-step form of `$root...` (in `slot`) with `chain`, if it has one.
    pub(crate) fn of(slot: Slot, chain: &[Accessor]) -> Option<Direct> {
        match (slot, chain) {
            (INPUT_SLOT, [Accessor::Method(name, args, Some(path))])
                if matches!(args.as_slice(), [Expr::Str(_)]) && matches!(&**name, "path" | "json") =>
            {
                Some(Direct::InputPath {
                    json: &**name == "json",
                    path: path.clone(),
                })
            }
            (FOREACH_SLOT, [Accessor::Property(name)]) => LoopProperty::named(name).map(Direct::Loop),
            (UTIL_SLOT, [Accessor::Method(name, args, _)]) => match args.as_slice() {
                [arg] => UtilFn::named(name).map(|func| Direct::Util(func, Box::new(arg.clone()))),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Accessor {
    Property(Box<str>),
    /// `.name(args)`, with the JSONPath compiled at parse time when the
    /// method is `path` or `json` and its one argument a literal path
    /// (`$input.path('$.x')`: compiled once per deployment).
    Method(Box<str>, Vec<Expr>, Option<Arc<Path>>),
    Index(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    /// A single-quoted string, or a double-quoted one with nothing to interpolate.
    Str(Box<str>),
    /// A double-quoted string containing references or directives.
    Interpolated(Block),
    Ref(Box<Reference>),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Paren(Box<Expr>),
}
