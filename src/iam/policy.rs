//! IAM policy documents: the JSON grammar AWS uses for identity policies,
//! resource policies and Lambda-authorizer answers, compiled once at parse
//! time, and their evaluation for one request.
//!
//! What is understood:
//! - `Version` (`2012-10-17`, `2008-10-17` or absent), `Id`, `Statement`
//!   (one object or an array).
//! - Per statement: `Sid`, `Effect` (`Allow` | `Deny`), `Action` | `NotAction`,
//!   `Resource` | `NotResource` (string or array), `Principal` |
//!   `NotPrincipal` (`"*"` or `{"AWS": "*" | arn | account | [..]}`; other
//!   principal types parse but only `"*"` among them ever matches) and
//!   `Condition`.
//! - Condition operators: `String{Not}Equals{IgnoreCase}`, `String{Not}Like`,
//!   `Arn{Not}Equals` / `Arn{Not}Like` (matched as `String{Not}Like`),
//!   `{Not}IpAddress` (CIDR or single address, v4 and v6; an IPv4-mapped
//!   IPv6 caller compares as IPv4), `Numeric…`, `Bool`, `Null`, each with the
//!   `…IfExists` suffix and the `ForAnyValue:` / `ForAllValues:` set
//!   qualifiers. Condition keys are case-insensitive; `aws:SourceIp` reads
//!   [`AuthzRequest::source_ip`], every other key reads
//!   [`AuthzRequest::context`] (a key listed several times is multi-valued).
//!   A key absent from the request fails a positive operator and satisfies
//!   a negated one (`StringNotEquals`, `NotIpAddress`, …), as in AWS.
//! - Any other operator (`DateLessThan`, `BinaryEquals`, typos) is kept as
//!   *unsupported* and evaluated conservatively: it never holds in an
//!   `Allow` statement and always holds in a `Deny` statement, so an
//!   unknown operator can only take access away.
//!   [`PolicyDocument::validate_identity_policy`] rejects such documents
//!   outright, as IAM's `PutUserPolicy` does.
//! - Not supported: policy variables (`${aws:username}` is matched
//!   literally).
//!
//! Matching: `*` is any run of characters (including `/` and `:`), `?` is
//! exactly one character, over the whole string. Actions match
//! case-insensitively, resources and string conditions case-sensitively.
//! Every pattern is compiled at parse time; evaluation allocates nothing.
//! Evaluation follows IAM: an explicit `Deny` wins over any `Allow`, and no
//! matching statement is an implicit deny ([`Decision::NoMatch`]).

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value};

/// Why a policy document was refused; the message is AWS's
/// `MalformedPolicyDocument` wording where one exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    pub message: String,
}

impl PolicyError {
    fn new(message: impl Into<String>) -> PolicyError {
        PolicyError {
            message: message.into(),
        }
    }
}

fn syntax_error() -> PolicyError {
    PolicyError::new("Syntax errors in policy.")
}

/// The outcome of evaluating one or more policies for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A matching `Deny` statement: refuse whatever else allows.
    ExplicitDeny,
    /// At least one matching `Allow` statement and no matching `Deny`.
    Allow,
    /// Nothing matched: an implicit deny.
    NoMatch,
}

/// One request as policies see it.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// `service:Operation`, e.g. `execute-api:Invoke`.
    pub action: &'a str,
    /// The resource ARN, e.g. `arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/pets`.
    pub resource: &'a str,
    /// The caller's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// The caller's ARN, for `Principal`; `None` is an anonymous caller.
    pub principal: Option<&'a str>,
    /// Other condition keys and their values (keys compare case-insensitively).
    pub context: &'a [(&'a str, &'a str)],
}

impl<'a> AuthzRequest<'a> {
    /// A request with only an action and a resource.
    pub fn new(action: &'a str, resource: &'a str) -> AuthzRequest<'a> {
        AuthzRequest {
            action,
            resource,
            source_ip: None,
            principal: None,
            context: &[],
        }
    }
}

/// `glob_match` on the whole string, case-sensitive: `*` is any run of
/// characters including `/` and `:`, `?` exactly one character. Compiles
/// nothing and allocates nothing; for a pattern used many times prefer
/// [`Glob`].
pub fn glob_match(pattern: &str, text: &str) -> bool {
    wildcard(pattern.as_bytes(), text.as_bytes(), false)
}

/// A compiled IAM wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    kind: GlobKind,
    case_insensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum GlobKind {
    /// `*`
    Any,
    /// No wildcard at all.
    Exact(Box<str>),
    /// `literal*`
    Prefix(Box<str>),
    /// Anything else.
    Pattern(Box<str>),
}

impl Glob {
    /// A case-sensitive pattern (resources, string conditions).
    pub fn new(pattern: &str) -> Glob {
        Glob::build(pattern, false)
    }

    /// An ASCII-case-insensitive pattern (actions).
    pub fn case_insensitive(pattern: &str) -> Glob {
        Glob::build(&pattern.to_ascii_lowercase(), true)
    }

    fn build(pattern: &str, case_insensitive: bool) -> Glob {
        let wild = |c: char| c == '*' || c == '?';
        let kind = if pattern == "*" {
            GlobKind::Any
        } else if !pattern.contains(wild) {
            GlobKind::Exact(pattern.into())
        } else if let Some(prefix) = pattern.strip_suffix('*')
            && !prefix.contains(wild)
        {
            GlobKind::Prefix(prefix.into())
        } else {
            GlobKind::Pattern(pattern.into())
        };
        Glob {
            kind,
            case_insensitive,
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        let ci = self.case_insensitive;
        match &self.kind {
            GlobKind::Any => true,
            GlobKind::Exact(p) => {
                if ci {
                    p.eq_ignore_ascii_case(text)
                } else {
                    **p == *text
                }
            }
            GlobKind::Prefix(p) => {
                text.len() >= p.len()
                    && if ci {
                        p.as_bytes().eq_ignore_ascii_case(&text.as_bytes()[..p.len()])
                    } else {
                        text.as_bytes().starts_with(p.as_bytes())
                    }
            }
            GlobKind::Pattern(p) => wildcard(p.as_bytes(), text.as_bytes(), ci),
        }
    }
}

/// Length of the UTF-8 sequence starting with `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Iterative wildcard matching with single-star backtracking (linear
/// memory, no allocation). `text` comes from a `&str`, and every position
/// the loop stops at is a character boundary: `?` and star backtracking
/// advance one whole character, literals advance byte by byte through
/// whole characters of the (valid UTF-8) pattern. With `ci`, `pattern` is
/// already lower case.
fn wildcard(pattern: &[u8], text: &[u8], ci: bool) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern index after it, text index).
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            let c = pattern[p];
            if c == b'*' {
                p += 1;
                star = Some((p, t));
                continue;
            }
            if c == b'?' {
                p += 1;
                t += char_len(text[t]);
                continue;
            }
            let tc = if ci { text[t].to_ascii_lowercase() } else { text[t] };
            if c == tc {
                p += 1;
                t += 1;
                continue;
            }
        }
        match star {
            Some((sp, st)) => {
                let next = st + char_len(text[st]);
                star = Some((sp, next));
                p = sp;
                t = next;
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` / `Resource` (positive) or `NotAction` / `NotResource`.
#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    globs: Vec<Glob>,
}

impl Patterns {
    fn matches(&self, text: &str) -> bool {
        self.globs.iter().any(|g| g.matches(text)) != self.negated
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone)]
struct Principals {
    negated: bool,
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous included.
    anyone: bool,
    /// `AWS` principals: ARNs, or account ids (`123456789012` /
    /// `arn:aws:iam::123456789012:root`) meaning any identity of the account.
    aws: Vec<AwsPrincipal>,
}

#[derive(Debug, Clone)]
enum AwsPrincipal {
    Account(Box<str>),
    Arn(Box<str>),
}

impl Principals {
    fn matches(&self, caller: Option<&str>) -> bool {
        let listed = self.anyone
            || caller.is_some_and(|arn| {
                self.aws.iter().any(|p| match p {
                    AwsPrincipal::Arn(a) => **a == *arn,
                    AwsPrincipal::Account(acct) => arn.split(':').nth(4).is_some_and(|a| a == &**acct),
                })
            });
        listed != self.negated
    }
}

/// One condition operator applied to one key.
#[derive(Debug, Clone)]
struct Condition {
    op: Operator,
    qualifier: SetQualifier,
    if_exists: bool,
    /// Lower case (condition keys are case-insensitive).
    key: Box<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone)]
enum Operator {
    StringEquals {
        values: Vec<Box<str>>,
        ignore_case: bool,
        negated: bool,
    },
    StringLike {
        globs: Vec<Glob>,
        negated: bool,
    },
    IpAddress {
        nets: Vec<IpNet>,
        negated: bool,
    },
    Numeric {
        values: Vec<f64>,
        cmp: NumericCmp,
    },
    Bool {
        value: Vec<bool>,
    },
    Null {
        absent: Vec<bool>,
    },
    /// Anything we do not implement: fails closed.
    Unsupported(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumericCmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Operator {
    fn negated(&self) -> bool {
        match self {
            Operator::StringEquals { negated, .. }
            | Operator::StringLike { negated, .. }
            | Operator::IpAddress { negated, .. } => *negated,
            Operator::Numeric { cmp, .. } => *cmp == NumericCmp::Ne,
            _ => false,
        }
    }

    /// Whether one request value matches one of the policy values under the
    /// operator's positive form (`StringNotEquals` → `StringEquals`).
    fn positive_match(&self, value: &str, source_ip: Option<IpAddr>) -> bool {
        match self {
            Operator::StringEquals {
                values, ignore_case, ..
            } => values.iter().any(|v| {
                if *ignore_case {
                    v.eq_ignore_ascii_case(value)
                } else {
                    **v == *value
                }
            }),
            Operator::StringLike { globs, .. } => globs.iter().any(|g| g.matches(value)),
            Operator::IpAddress { nets, .. } => {
                let ip = source_ip.or_else(|| value.trim().parse::<IpAddr>().ok());
                ip.is_some_and(|ip| nets.iter().any(|n| net_contains(n, ip)))
            }
            Operator::Numeric { values, cmp } => {
                let Ok(x) = value.trim().parse::<f64>() else {
                    return false;
                };
                values.iter().any(|v| match cmp {
                    // `Ne` is the negation of `Eq`, applied by the caller.
                    NumericCmp::Eq | NumericCmp::Ne => x == *v,
                    NumericCmp::Lt => x < *v,
                    NumericCmp::Le => x <= *v,
                    NumericCmp::Gt => x > *v,
                    NumericCmp::Ge => x >= *v,
                })
            }
            Operator::Bool { value: bools } => {
                let b = if value.eq_ignore_ascii_case("true") {
                    true
                } else if value.eq_ignore_ascii_case("false") {
                    false
                } else {
                    return false;
                };
                bools.contains(&b)
            }
            Operator::Null { .. } | Operator::Unsupported(_) => false,
        }
    }
}

fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    net.contains(&ip)
}

const SOURCE_IP: &str = "aws:sourceip";

impl Condition {
    fn holds(&self, req: &AuthzRequest<'_>, effect: Effect) -> bool {
        if let Operator::Unsupported(_) = self.op {
            // Fail closed: never grants, always denies.
            return effect == Effect::Deny;
        }
        let is_ip = &*self.key == SOURCE_IP;
        let ip_op = matches!(self.op, Operator::IpAddress { .. });
        // The request's values for the key: the source address for
        // `aws:SourceIp` with an IP operator, else the context entries.
        let direct_ip = if is_ip && ip_op { req.source_ip } else { None };
        let context_values = || {
            req.context
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(&self.key))
                .map(|(_, v)| *v)
        };
        let present = direct_ip.is_some() || context_values().next().is_some();
        if let Operator::Null { absent } = &self.op {
            return absent.contains(&!present);
        }
        if !present {
            return self.if_exists || self.op.negated() || self.qualifier == SetQualifier::ForAllValues;
        }
        let negated = self.op.negated();
        let matches = |v: &str| self.op.positive_match(v, direct_ip);
        if direct_ip.is_some() {
            // A single value: the caller's address.
            return matches("") != negated;
        }
        match (self.qualifier, negated) {
            (SetQualifier::Single, false) | (SetQualifier::ForAnyValue, false) => {
                context_values().any(matches)
            }
            (SetQualifier::ForAnyValue, true) => context_values().any(|v| !matches(v)),
            (SetQualifier::ForAllValues, false) => context_values().all(matches),
            (SetQualifier::Single, true) | (SetQualifier::ForAllValues, true) => {
                context_values().all(|v| !matches(v))
            }
        }
    }
}

/// One statement, compiled.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    action: Patterns,
    resource: Patterns,
    principal: Option<Principals>,
    conditions: Vec<Condition>,
}

impl Statement {
    /// Whether the statement applies to the request (its effect aside).
    pub fn applies_to(&self, req: &AuthzRequest<'_>) -> bool {
        self.action.matches(req.action)
            && self.resource.matches(req.resource)
            && self.principal.as_ref().is_none_or(|p| p.matches(req.principal))
            && self.conditions.iter().all(|c| c.holds(req, self.effect))
    }

    /// Whether it names a `Principal` or `NotPrincipal`.
    pub fn has_principal(&self) -> bool {
        self.principal.is_some()
    }
}

/// A parsed, compiled policy document.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// The largest document accepted (IAM's limit for one policy).
pub const MAX_POLICY_LENGTH: usize = 131_072;

impl PolicyDocument {
    /// Parses a JSON policy document.
    pub fn parse(json: &str) -> Result<PolicyDocument, PolicyError> {
        if json.len() > MAX_POLICY_LENGTH {
            return Err(PolicyError::new(format!(
                "Cannot exceed quota for PolicySize: {MAX_POLICY_LENGTH}"
            )));
        }
        let value: Value =
            serde_json::from_str(json).map_err(|_| PolicyError::new("This policy contains invalid Json"))?;
        PolicyDocument::from_value(&value)
    }

    /// Parses an already-decoded JSON policy document (e.g. an
    /// authorizer's `policyDocument`).
    pub fn from_value(value: &Value) -> Result<PolicyDocument, PolicyError> {
        let obj = value
            .as_object()
            .ok_or_else(|| PolicyError::new("This policy contains invalid Json"))?;
        let mut version = None;
        let mut id = None;
        let mut statements = None;
        for (k, v) in obj {
            match k.as_str() {
                "Version" => {
                    let s = v.as_str().ok_or_else(syntax_error)?;
                    if s != "2012-10-17" && s != "2008-10-17" {
                        return Err(PolicyError::new("The policy must contain a valid version string"));
                    }
                    version = Some(s.to_string());
                }
                "Id" => id = Some(v.as_str().ok_or_else(syntax_error)?.to_string()),
                "Statement" => {
                    statements = Some(match v {
                        Value::Array(items) => {
                            items.iter().map(parse_statement).collect::<Result<Vec<_>, _>>()?
                        }
                        Value::Object(_) => vec![parse_statement(v)?],
                        _ => return Err(syntax_error()),
                    })
                }
                _ => return Err(syntax_error()),
            }
        }
        let statements =
            statements.ok_or_else(|| PolicyError::new("Policy document must contain a Statement."))?;
        Ok(PolicyDocument {
            version,
            id,
            statements,
        })
    }

    /// The extra rules IAM applies to an identity (user) policy: no
    /// principal, and only condition operators this module evaluates.
    pub fn validate_identity_policy(&self) -> Result<(), PolicyError> {
        for s in &self.statements {
            if s.has_principal() {
                return Err(PolicyError::new(
                    "Policy document should not specify a principal.",
                ));
            }
            for c in &s.conditions {
                if let Operator::Unsupported(name) = &c.op {
                    return Err(PolicyError::new(format!(
                        "Unsupported condition operator: {name}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Evaluates this document alone: an explicit deny wins over an allow.
    pub fn evaluate(&self, req: &AuthzRequest<'_>) -> Decision {
        let mut allowed = false;
        for s in &self.statements {
            // A Deny must be checked even after an Allow; an Allow need not
            // be checked once one has matched.
            if (s.effect == Effect::Deny || !allowed) && s.applies_to(req) {
                match s.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::NoMatch
        }
    }
}

impl AsRef<PolicyDocument> for PolicyDocument {
    fn as_ref(&self) -> &PolicyDocument {
        self
    }
}

/// Evaluates several documents together (a user's policies, or an identity
/// policy plus a resource policy): any explicit deny wins, then any allow.
/// Takes `&PolicyDocument`s or `&Arc<PolicyDocument>`s alike (e.g.
/// `evaluate_all(credential.policies.iter(), &req)`).
pub fn evaluate_all<D: AsRef<PolicyDocument>>(
    docs: impl IntoIterator<Item = D>,
    req: &AuthzRequest<'_>,
) -> Decision {
    let mut decision = Decision::NoMatch;
    for doc in docs {
        match doc.as_ref().evaluate(req) {
            Decision::ExplicitDeny => return Decision::ExplicitDeny,
            Decision::Allow => decision = Decision::Allow,
            Decision::NoMatch => {}
        }
    }
    decision
}

fn parse_statement(value: &Value) -> Result<Statement, PolicyError> {
    let obj = value.as_object().ok_or_else(syntax_error)?;
    let mut sid = None;
    let mut effect = None;
    let mut action = None;
    let mut resource = None;
    let mut principal = None;
    let mut conditions = Vec::new();
    fn once<T>(slot: &Option<T>) -> Result<(), PolicyError> {
        if slot.is_some() {
            Err(syntax_error())
        } else {
            Ok(())
        }
    }
    for (k, v) in obj {
        match k.as_str() {
            "Sid" => sid = Some(v.as_str().ok_or_else(syntax_error)?.to_string()),
            "Effect" => {
                effect = Some(match v.as_str() {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    _ => {
                        return Err(PolicyError::new(
                            "Invalid effect: the Effect must be Allow or Deny",
                        ));
                    }
                })
            }
            "Action" | "NotAction" => {
                once(&action)?;
                action = Some(parse_actions(v, k == "NotAction")?);
            }
            "Resource" | "NotResource" => {
                once(&resource)?;
                let globs = string_list(v)?.iter().map(|s| Glob::new(s)).collect();
                resource = Some(Patterns {
                    negated: k == "NotResource",
                    globs,
                });
            }
            "Principal" | "NotPrincipal" => {
                once(&principal)?;
                principal = Some(parse_principal(v, k == "NotPrincipal")?);
            }
            "Condition" => conditions = parse_conditions(v)?,
            _ => return Err(syntax_error()),
        }
    }
    let effect = effect.ok_or_else(|| PolicyError::new("Missing required field Effect"))?;
    let action = action.ok_or_else(|| PolicyError::new("Policy statement must contain actions."))?;
    let resource = resource.ok_or_else(|| PolicyError::new("Policy statement must contain resources."))?;
    Ok(Statement {
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

/// A string or a non-empty array of strings.
fn string_list(v: &Value) -> Result<Vec<&str>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().ok_or_else(syntax_error))
            .collect(),
        _ => Err(syntax_error()),
    }
}

fn parse_actions(v: &Value, negated: bool) -> Result<Patterns, PolicyError> {
    let list = string_list(v)?;
    for a in &list {
        if *a != "*" && !a.contains(':') {
            return Err(PolicyError::new(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
            ));
        }
    }
    Ok(Patterns {
        negated,
        globs: list.iter().map(|a| Glob::case_insensitive(a)).collect(),
    })
}

fn parse_principal(v: &Value, negated: bool) -> Result<Principals, PolicyError> {
    let mut out = Principals {
        negated,
        anyone: false,
        aws: Vec::new(),
    };
    match v {
        Value::String(s) if s == "*" => out.anyone = true,
        Value::Object(map) if !map.is_empty() => {
            for (kind, ids) in map {
                let ids = string_list(ids)?;
                match kind.as_str() {
                    "AWS" => {
                        for id in ids {
                            if id == "*" {
                                out.anyone = true;
                            } else if let Some(acct) = account_principal(id) {
                                out.aws.push(AwsPrincipal::Account(acct.into()));
                            } else {
                                out.aws.push(AwsPrincipal::Arn(id.into()));
                            }
                        }
                    }
                    // Parsed for completeness; no caller of ours is one.
                    "Service" | "Federated" | "CanonicalUser" => {}
                    _ => return Err(PolicyError::new("Invalid principal in policy")),
                }
            }
        }
        _ => return Err(PolicyError::new("Invalid principal in policy")),
    }
    Ok(out)
}

/// `123456789012` or `arn:aws:iam::123456789012:root` → the account id.
fn account_principal(id: &str) -> Option<&str> {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_account(id) {
        return Some(id);
    }
    let acct = id.strip_prefix("arn:aws:iam::")?.strip_suffix(":root")?;
    is_account(acct).then_some(acct)
}

fn parse_conditions(v: &Value) -> Result<Vec<Condition>, PolicyError> {
    let blocks: &Map<String, Value> = v.as_object().ok_or_else(syntax_error)?;
    let mut out = Vec::new();
    for (op_name, keys) in blocks {
        let keys = keys.as_object().ok_or_else(syntax_error)?;
        let (qualifier, rest) = if let Some(r) = op_name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, r)
        } else if let Some(r) = op_name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, r)
        } else {
            (SetQualifier::Single, op_name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        for (key, values) in keys {
            let values = condition_values(values)?;
            out.push(Condition {
                op: parse_operator(base, &values, op_name)?,
                qualifier,
                if_exists,
                key: key.to_ascii_lowercase().into(),
            });
        }
    }
    Ok(out)
}

/// Condition values: a scalar or an array of scalars, stringified.
fn condition_values(v: &Value) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(syntax_error()),
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn parse_operator(base: &str, values: &[String], full: &str) -> Result<Operator, PolicyError> {
    let strings = || values.iter().map(|s| s.as_str().into()).collect();
    let globs = || values.iter().map(|s| Glob::new(s)).collect();
    let numbers = |cmp| -> Result<Operator, PolicyError> {
        let values = values
            .iter()
            .map(|s| s.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| PolicyError::new(format!("Invalid number in condition {full}")))?;
        Ok(Operator::Numeric { values, cmp })
    };
    let bools = || -> Result<Vec<bool>, PolicyError> {
        values
            .iter()
            .map(|s| match s.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(PolicyError::new(format!("Invalid boolean in condition {full}"))),
            })
            .collect()
    };
    let string_equals = |ignore_case, negated| Operator::StringEquals {
        values: strings(),
        ignore_case,
        negated,
    };
    Ok(match base {
        "StringEquals" | "ArnEquals" => string_equals(false, false),
        "StringNotEquals" | "ArnNotEquals" => string_equals(false, true),
        "StringEqualsIgnoreCase" => string_equals(true, false),
        "StringNotEqualsIgnoreCase" => string_equals(true, true),
        "StringLike" | "ArnLike" => Operator::StringLike {
            globs: globs(),
            negated: false,
        },
        "StringNotLike" | "ArnNotLike" => Operator::StringLike {
            globs: globs(),
            negated: true,
        },
        "IpAddress" | "NotIpAddress" => Operator::IpAddress {
            nets: values.iter().map(|s| parse_net(s)).collect::<Result<_, _>>()?,
            negated: base == "NotIpAddress",
        },
        "NumericEquals" => numbers(NumericCmp::Eq)?,
        "NumericNotEquals" => numbers(NumericCmp::Ne)?,
        "NumericLessThan" => numbers(NumericCmp::Lt)?,
        "NumericLessThanEquals" => numbers(NumericCmp::Le)?,
        "NumericGreaterThan" => numbers(NumericCmp::Gt)?,
        "NumericGreaterThanEquals" => numbers(NumericCmp::Ge)?,
        "Bool" => Operator::Bool { value: bools()? },
        "Null" => Operator::Null { absent: bools()? },
        _ => Operator::Unsupported(full.into()),
    })
}

/// A CIDR block or a single address (as a /32 or /128).
fn parse_net(s: &str) -> Result<IpNet, PolicyError> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| PolicyError::new(format!("Invalid IP address or CIDR block: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "arn:aws:execute-api:us-east-1:000000000000:abc123/prod/GET/pets";

    fn doc(json: &str) -> PolicyDocument {
        PolicyDocument::parse(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    fn invoke(resource: &str) -> AuthzRequest<'_> {
        AuthzRequest::new("execute-api:Invoke", resource)
    }

    fn err(json: &str) -> String {
        match PolicyDocument::parse(json) {
            Ok(_) => panic!("accepted: {json}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn glob_matches_whole_strings() {
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "anything/at:all"));
        assert!(glob_match("abc", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(!glob_match("abc", "ab"));
        assert!(glob_match("a*c", "abbbc"));
        assert!(glob_match("a*c", "ac"));
        assert!(!glob_match("a*c", "acb"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*/GET/*", "abc/prod/GET/pets/1"));
        assert!(glob_match("arn:*:abc/*", "arn:aws:execute-api:x:abc/prod"));
        assert!(glob_match("a*b*c", "a_b_b_c"));
        assert!(glob_match("**", "x"));
        assert!(glob_match("a*", "a"));
        assert!(!glob_match("", "a"));
        assert!(glob_match("", ""));
        assert!(glob_match("*a", "aaaa"));
        assert!(!glob_match("*a", "aaab"));
        // Case-sensitive.
        assert!(!glob_match("ABC", "abc"));
        // `?` is one character, not one byte.
        assert!(glob_match("caf?", "café"));
        assert!(glob_match("?", "€"));
        assert!(!glob_match("??", "€"));
        assert!(glob_match("*é*", "aébé"));
        assert!(glob_match("*?", "é"));
    }

    #[test]
    fn compiled_globs_agree_with_glob_match() {
        let patterns = ["*", "abc", "ab*", "*bc", "a?c*", "a*b?c", "", "?*"];
        let texts = ["", "abc", "abcd", "ab", "xbc", "aXcY", "aab_c", "é"];
        for p in patterns {
            let g = Glob::new(p);
            for t in texts {
                assert_eq!(g.matches(t), glob_match(p, t), "{p} vs {t}");
            }
        }
    }

    #[test]
    fn actions_match_case_insensitively() {
        let g = Glob::case_insensitive("execute-api:Invoke");
        assert!(g.matches("execute-api:invoke"));
        assert!(g.matches("EXECUTE-API:INVOKE"));
        let g = Glob::case_insensitive("Execute-API:*");
        assert!(g.matches("execute-api:Invoke"));
        assert!(g.matches("execute-api:ManageConnections"));
        assert!(!g.matches("lambda:InvokeFunction"));
        let g = Glob::case_insensitive("execute-api:Inv?ke*");
        assert!(g.matches("EXECUTE-API:INVOKE"));
    }

    #[test]
    fn allow_deny_and_no_match() {
        let d = doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"{API}"}}}}"#
        ));
        assert_eq!(d.evaluate(&invoke(API)), Decision::Allow);
        assert_eq!(d.evaluate(&invoke(&format!("{API}/1"))), Decision::NoMatch);
        let other = AuthzRequest::new("execute-api:ManageConnections", API);
        assert_eq!(d.evaluate(&other), Decision::NoMatch);

        let d = doc(r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"*","Resource":"*"},
                {"Effect":"Deny","Action":"execute-api:*","Resource":"arn:aws:execute-api:*:*:abc123/*/DELETE/*"}]}"#);
        assert_eq!(d.evaluate(&invoke(API)), Decision::Allow);
        let del = "arn:aws:execute-api:us-east-1:000000000000:abc123/prod/DELETE/pets/1";
        assert_eq!(d.evaluate(&invoke(del)), Decision::ExplicitDeny);
    }

    #[test]
    fn resources_are_case_sensitive_and_arrays_work() {
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction","execute-api:Invoke"],
                "Resource":["arn:aws:execute-api:us-east-1:000000000000:abc123/prod/*","arn:x"]}]}"#,
        );
        assert_eq!(d.evaluate(&invoke(API)), Decision::Allow);
        let upper = API.replace("pets", "PETS");
        assert_eq!(d.evaluate(&invoke(&upper)), Decision::Allow);
        let other_api = API.replace("abc123", "ABC123");
        assert_eq!(d.evaluate(&invoke(&other_api)), Decision::NoMatch);
        assert_eq!(d.evaluate(&invoke("arn:x")), Decision::Allow);
        assert_eq!(d.evaluate(&invoke("arn:xy")), Decision::NoMatch);
    }

    #[test]
    fn not_action_and_not_resource() {
        let d = doc(r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:secret*"}]}"#);
        assert_eq!(d.evaluate(&invoke(API)), Decision::Allow);
        assert_eq!(
            d.evaluate(&AuthzRequest::new("IAM:CreateUser", API)),
            Decision::NoMatch
        );
        assert_eq!(d.evaluate(&invoke("arn:secret/1")), Decision::NoMatch);
    }

    #[test]
    fn principals() {
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/ann","444455556666"]},
                "Action":"execute-api:Invoke","Resource":"*"}]}"#,
        );
        let mut req = invoke(API);
        assert_eq!(d.evaluate(&req), Decision::NoMatch, "anonymous");
        req.principal = Some("arn:aws:iam::111122223333:user/ann");
        assert_eq!(d.evaluate(&req), Decision::Allow);
        req.principal = Some("arn:aws:iam::111122223333:user/bob");
        assert_eq!(d.evaluate(&req), Decision::NoMatch);
        req.principal = Some("arn:aws:iam::444455556666:user/anyone");
        assert_eq!(d.evaluate(&req), Decision::Allow);

        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"}]}"#,
        );
        assert_eq!(d.evaluate(&invoke(API)), Decision::Allow);
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"execute-api:Invoke","Resource":"*"}]}"#,
        );
        assert_eq!(d.evaluate(&invoke(API)), Decision::Allow);
        let d = doc(
            r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"*","Resource":"*"}]}"#,
        );
        assert_eq!(d.evaluate(&invoke(API)), Decision::ExplicitDeny);
        let mut req = invoke(API);
        req.principal = Some("arn:aws:iam::111122223333:user/ann");
        assert_eq!(d.evaluate(&req), Decision::NoMatch);
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"*","Resource":"*"}]}"#,
        );
        assert_eq!(d.evaluate(&req), Decision::NoMatch);
    }

    fn with_ip(d: &PolicyDocument, ip: &str) -> Decision {
        let mut req = invoke(API);
        req.source_ip = Some(ip.parse().unwrap());
        d.evaluate(&req)
    }

    #[test]
    fn ip_conditions() {
        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.5","2001:db8::/32"]}}}]}"#);
        assert_eq!(with_ip(&d, "10.1.2.3"), Decision::Allow);
        assert_eq!(with_ip(&d, "203.0.113.5"), Decision::Allow);
        assert_eq!(with_ip(&d, "203.0.113.6"), Decision::NoMatch);
        assert_eq!(with_ip(&d, "2001:db8::1"), Decision::Allow);
        assert_eq!(with_ip(&d, "2001:db9::1"), Decision::NoMatch);
        assert_eq!(with_ip(&d, "::ffff:10.9.9.9"), Decision::Allow, "v4-mapped");
        assert_eq!(d.evaluate(&invoke(API)), Decision::NoMatch, "no address");

        // Condition keys are case-insensitive; a deny by address.
        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
                {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"AWS:SOURCEIP":"192.168.0.0/16"}}}]}"#);
        assert_eq!(with_ip(&d, "192.168.1.1"), Decision::Allow);
        assert_eq!(with_ip(&d, "8.8.8.8"), Decision::ExplicitDeny);
        // Key absent: a negated operator holds.
        assert_eq!(d.evaluate(&invoke(API)), Decision::ExplicitDeny);

        assert!(err(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"nope"}}}]}"#)
            .contains("Invalid IP"));
    }

    fn with_ctx(d: &PolicyDocument, ctx: &[(&str, &str)]) -> Decision {
        let mut req = invoke(API);
        req.context = ctx;
        d.evaluate(&req)
    }

    #[test]
    fn string_conditions() {
        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"StringEquals":{"aws:PrincipalTag/team":["red","blue"]},
                             "StringLike":{"aws:UserAgent":"curl/*"}}}]}"#);
        assert_eq!(
            with_ctx(
                &d,
                &[("aws:principaltag/team", "red"), ("aws:useragent", "curl/8.0")]
            ),
            Decision::Allow
        );
        assert_eq!(
            with_ctx(
                &d,
                &[("aws:PrincipalTag/team", "RED"), ("aws:UserAgent", "curl/8.0")]
            ),
            Decision::NoMatch,
            "values are case-sensitive"
        );
        assert_eq!(
            with_ctx(&d, &[("aws:PrincipalTag/team", "red")]),
            Decision::NoMatch,
            "all operators must hold"
        );
        assert_eq!(
            with_ctx(
                &d,
                &[("aws:PrincipalTag/team", "blue"), ("aws:UserAgent", "wget")]
            ),
            Decision::NoMatch
        );

        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"StringNotEquals":{"stage":["prod","beta"]}}}]}"#);
        assert_eq!(with_ctx(&d, &[("stage", "dev")]), Decision::Allow);
        assert_eq!(with_ctx(&d, &[("stage", "prod")]), Decision::NoMatch);
        assert_eq!(with_ctx(&d, &[]), Decision::Allow, "absent key, negated op");

        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"StringNotLike":{"path":"/admin/*"},"StringEqualsIgnoreCase":{"m":"get"}}}]}"#);
        assert_eq!(with_ctx(&d, &[("path", "/pets"), ("m", "GET")]), Decision::Allow);
        assert_eq!(
            with_ctx(&d, &[("path", "/admin/x"), ("m", "GET")]),
            Decision::NoMatch
        );

        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"StringEqualsIfExists":{"k":"v"},"Null":{"gone":"true"},"Bool":{"aws:SecureTransport":false},
                             "NumericLessThan":{"n":10}}}]}"#);
        assert_eq!(
            with_ctx(&d, &[("aws:securetransport", "false"), ("n", "3")]),
            Decision::Allow
        );
        assert_eq!(
            with_ctx(&d, &[("aws:securetransport", "false"), ("n", "3"), ("k", "x")]),
            Decision::NoMatch
        );
        assert_eq!(
            with_ctx(&d, &[("aws:securetransport", "false"), ("n", "30")]),
            Decision::NoMatch
        );
        assert_eq!(
            with_ctx(&d, &[("aws:securetransport", "false"), ("n", "3"), ("gone", "1")]),
            Decision::NoMatch
        );
    }

    #[test]
    fn set_qualifiers() {
        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"ForAllValues:StringEquals":{"tag":["a","b"]}}}]}"#);
        assert_eq!(with_ctx(&d, &[("tag", "a"), ("tag", "b")]), Decision::Allow);
        assert_eq!(with_ctx(&d, &[("tag", "a"), ("tag", "c")]), Decision::NoMatch);
        assert_eq!(with_ctx(&d, &[]), Decision::Allow, "vacuously true");
        let d = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"ForAnyValue:StringLike":{"tag":["x*"]}}}]}"#);
        assert_eq!(with_ctx(&d, &[("tag", "a"), ("tag", "xy")]), Decision::Allow);
        assert_eq!(with_ctx(&d, &[("tag", "a")]), Decision::NoMatch);
    }

    #[test]
    fn unknown_operators_fail_closed() {
        let allow = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#);
        assert_eq!(allow.evaluate(&invoke(API)), Decision::NoMatch);
        assert!(allow.validate_identity_policy().is_err());
        let deny = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
                {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bogus":{"k":"v"}}}]}"#);
        assert_eq!(deny.evaluate(&invoke(API)), Decision::ExplicitDeny);
    }

    #[test]
    fn evaluate_all_combines() {
        let allow = doc(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        let deny = doc(r#"{"Statement":{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*"}}"#);
        let none = doc(r#"{"Statement":[]}"#);
        let req = invoke(API);
        assert_eq!(evaluate_all([&allow, &none], &req), Decision::Allow);
        assert_eq!(evaluate_all([&allow, &deny], &req), Decision::ExplicitDeny);
        assert_eq!(evaluate_all([&deny, &allow], &req), Decision::ExplicitDeny);
        assert_eq!(evaluate_all([&none], &req), Decision::NoMatch);
        assert_eq!(
            evaluate_all(std::iter::empty::<&PolicyDocument>(), &req),
            Decision::NoMatch
        );
        let arcs: std::sync::Arc<[std::sync::Arc<PolicyDocument>]> =
            std::sync::Arc::from(vec![std::sync::Arc::new(allow.clone())]);
        assert_eq!(evaluate_all(arcs.iter(), &req), Decision::Allow);
    }

    #[test]
    fn grammar_errors_use_iam_wording() {
        assert_eq!(err("{not json"), "This policy contains invalid Json");
        assert_eq!(err("[]"), "This policy contains invalid Json");
        assert_eq!(
            err(r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#),
            "Policy statement must contain resources."
        );
        assert_eq!(
            err(r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#),
            "Policy statement must contain actions."
        );
        assert_eq!(
            err(r#"{"Statement":{"Action":"*","Resource":"*"}}"#),
            "Missing required field Effect"
        );
        assert!(err(r#"{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#).contains("Effect"));
        assert_eq!(
            err(r#"{"Statement":{"Effect":"Allow","Action":"Invoke","Resource":"*"}}"#),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
        assert_eq!(
            err(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Bogus":1}}"#),
            "Syntax errors in policy."
        );
        assert_eq!(
            err(r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}"#),
            "Syntax errors in policy."
        );
        assert_eq!(
            err(r#"{"Version":"2020-01-01","Statement":[]}"#),
            "The policy must contain a valid version string"
        );
        assert_eq!(
            err(r#"{"Version":"2012-10-17"}"#),
            "Policy document must contain a Statement."
        );
        assert_eq!(
            err(r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#),
            "Syntax errors in policy."
        );
        let p = doc(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#);
        assert_eq!(
            p.validate_identity_policy().unwrap_err().message,
            "Policy document should not specify a principal."
        );
        let big = format!(
            "{{\"Statement\":[],\"Id\":\"{}\"}}",
            "x".repeat(MAX_POLICY_LENGTH)
        );
        assert!(err(&big).contains("PolicySize"));
    }

    #[test]
    fn authorizer_policy_from_value() {
        let v = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                           "Resource": "arn:aws:execute-api:us-east-1:000000000000:abc123/prod/*"}]
        });
        let d = PolicyDocument::from_value(&v).unwrap();
        assert_eq!(d.evaluate(&invoke(API)), Decision::Allow);
        assert_eq!(d.statements.len(), 1);
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let text = "a".repeat(10_000);
        let pattern = format!("{}b", "*a".repeat(50));
        let start = std::time::Instant::now();
        assert!(!glob_match(&pattern, &text));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
