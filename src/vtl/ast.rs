//! The parsed form of a template: what `Template::parse` builds once and
//! every render walks. Plain owned data (no `Rc`), so a template can be
//! shared between threads.

use super::error::Position;

/// A run of template content.
pub(crate) type Block = Vec<Node>;

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
        var: Box<str>,
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
    pub chain: Vec<Accessor>,
    pub source: Box<str>,
    pub at: Position,
}

#[derive(Debug, Clone)]
pub(crate) enum Accessor {
    Property(Box<str>),
    Method(Box<str>, Vec<Expr>),
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
