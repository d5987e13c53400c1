//! The one error type of the template engine: what went wrong, where.

use std::fmt;

/// Where in the template source something happened (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// What kind of failure a [`VtlError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template does not parse (deploy-time error).
    Parse,
    /// A method threw, as a Java method would (index out of range, bad regex, ...).
    MethodInvocation,
    /// A JSONPath expression does not parse or cannot be evaluated.
    JsonPath,
    /// `$util.parseJson` (or another decoder) was given malformed input.
    InvalidInput,
    /// The render went past a resource limit (output size, work, nesting).
    Limit,
}

/// A parse or render failure of a mapping template: its [`Details`] behind
/// one pointer, so that the `Result<Value, VtlError>` every evaluation step
/// returns stays two words wide (renders fail rarely and return often).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VtlError(Box<Details>);

/// What a [`VtlError`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub kind: ErrorKind,
    pub message: String,
    /// `None` when the failure is not tied to one place in the template.
    pub position: Option<Position>,
}

impl std::ops::Deref for VtlError {
    type Target = Details;

    fn deref(&self) -> &Details {
        &self.0
    }
}

impl VtlError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>, position: Option<Position>) -> Self {
        VtlError(Box::new(Details {
            kind,
            message: message.into(),
            position,
        }))
    }

    pub(crate) fn parse(message: impl Into<String>, position: Position) -> Self {
        Self::new(ErrorKind::Parse, message, Some(position))
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Limit, message, None)
    }

    pub(crate) fn jsonpath(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::JsonPath, message, None)
    }

    /// The same error, placed at `position` unless it already has a place.
    pub(crate) fn at(mut self, position: Position) -> Self {
        if self.0.position.is_none() {
            self.0.position = Some(position);
        }
        self
    }
}

impl fmt::Display for VtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Parse => "template parse error",
            ErrorKind::MethodInvocation => "method invocation failed",
            ErrorKind::JsonPath => "invalid JSONPath",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Limit => "template limit exceeded",
        };
        match self.position {
            Some(p) => write!(
                f,
                "{kind} at line {}, column {}: {}",
                p.line, p.column, self.message
            ),
            None => write!(f, "{kind}: {}", self.message),
        }
    }
}

impl std::error::Error for VtlError {}
