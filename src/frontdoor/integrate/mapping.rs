//! Parameter mappings: `requestParameters` of an integration
//! (`integration.request.{header|querystring|path}.N` ← `method.request.*`,
//! `stageVariables.N`, `context.N`, `'literal'`) and `responseParameters` of
//! an integration response (`method.response.header.X` ←
//! `integration.response.{header|multivalueheader}.Y`,
//! `integration.response.body[.JSONPath]`, `stageVariables.N`, `context.N`,
//! `'literal'`). Parsed once per deployment; applied per request.

use std::collections::BTreeMap;

use super::RequestView;

/// Where a request-side value comes from.
#[derive(Debug, Clone, PartialEq)]
enum RequestSource {
    Path(String),
    Query(String),
    MultiQuery(String),
    Header(String),
    MultiHeader(String),
    Body,
    BodyPath(String),
    StageVariable(String),
    Context(String),
    Literal(String),
}

/// Where a mapped request value goes.
#[derive(Debug, Clone, PartialEq)]
enum RequestTarget {
    Header(String),
    Query(String),
    Path(String),
}

/// The values a request mapping produced, in declaration order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MappedRequest {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub path: Vec<(String, String)>,
}

impl MappedRequest {
    pub fn path_value(&self, name: &str) -> Option<&str> {
        self.path
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An integration's `requestParameters`, compiled.
#[derive(Debug, Clone, Default)]
pub struct RequestMapping {
    entries: Vec<(RequestTarget, RequestSource)>,
    /// A header API Gateway will not send mapped: the API deploys, and
    /// every call of the method fails with 500 (recorded against AWS).
    unmappable: Option<String>,
}

/// Headers API Gateway will not map for any integration type.
const NEVER_MAPPED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "x-amzn-trace-id",
    "x-amzn-apigateway-api-id",
];
/// Further headers it will not map for Lambda (`AWS`, `AWS_PROXY`) integrations.
const NEVER_MAPPED_FOR_LAMBDA: &[&str] = &[
    "authorization",
    "connection",
    "expect",
    "proxy-authenticate",
    "te",
];

fn literal(s: &str) -> Option<&str> {
    s.strip_prefix('\'').and_then(|l| l.strip_suffix('\''))
}

fn parse_request_source(s: &str) -> Option<RequestSource> {
    let s = s.trim();
    if let Some(l) = literal(s) {
        return Some(RequestSource::Literal(l.to_string()));
    }
    let named = |prefix: &str| {
        s.strip_prefix(prefix)
            .filter(|rest| !rest.is_empty())
            .map(str::to_string)
    };
    if s == "method.request.body" {
        return Some(RequestSource::Body);
    }
    // AWS's syntax leaves out the `$.` (`method.request.body.pet.name`);
    // the JSONPath compiler puts it back, and `$.pet.name` works too.
    if let Some(p) = s.strip_prefix("method.request.body.") {
        return (!p.is_empty()).then(|| RequestSource::BodyPath(p.to_string()));
    }
    None.or_else(|| named("method.request.path.").map(RequestSource::Path))
        .or_else(|| named("method.request.querystring.").map(RequestSource::Query))
        .or_else(|| named("method.request.multivaluequerystring.").map(RequestSource::MultiQuery))
        .or_else(|| named("method.request.header.").map(RequestSource::Header))
        .or_else(|| named("method.request.multivalueheader.").map(RequestSource::MultiHeader))
        .or_else(|| named("stageVariables.").map(RequestSource::StageVariable))
        .or_else(|| named("context.").map(RequestSource::Context))
}

fn parse_request_target(s: &str) -> Option<RequestTarget> {
    let named = |prefix: &str| {
        s.strip_prefix(prefix)
            .filter(|rest| !rest.is_empty())
            .map(str::to_string)
    };
    named("integration.request.header.")
        .map(RequestTarget::Header)
        .or_else(|| named("integration.request.querystring.").map(RequestTarget::Query))
        .or_else(|| named("integration.request.path.").map(RequestTarget::Path))
}

/// A mapping that cannot run: the request fails with 500, as AWS does.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingError(pub String);

impl RequestMapping {
    /// `lambda` applies the stricter header rules of `AWS`/`AWS_PROXY`.
    pub fn compile(params: &BTreeMap<String, String>, lambda: bool) -> Result<RequestMapping, MappingError> {
        let mut entries = Vec::with_capacity(params.len());
        let mut unmappable = None;
        for (name, source) in params {
            let target = parse_request_target(name)
                .ok_or_else(|| MappingError(format!("Invalid mapping expression specified: {name}")))?;
            if let RequestTarget::Header(h) = &target {
                let lower = h.to_ascii_lowercase();
                if NEVER_MAPPED.contains(&lower.as_str())
                    || (lambda && NEVER_MAPPED_FOR_LAMBDA.contains(&lower.as_str()))
                {
                    unmappable.get_or_insert_with(|| h.clone());
                }
            }
            let source = parse_request_source(source)
                .ok_or_else(|| MappingError(format!("Invalid mapping expression specified: {source}")))?;
            entries.push((target, source));
        }
        Ok(RequestMapping { entries, unmappable })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Evaluates every mapping against one request. A source with no
    /// value (an absent header, say) maps nothing. Fails when a mapping
    /// targets a header API Gateway will not map.
    pub fn apply(&self, view: &RequestView<'_>) -> Result<MappedRequest, MappingError> {
        if let Some(h) = &self.unmappable {
            return Err(MappingError(format!("Header {h} cannot be mapped")));
        }
        let mut out = MappedRequest::default();
        for (target, source) in &self.entries {
            let values: Vec<String> = match source {
                RequestSource::Literal(l) => vec![l.clone()],
                RequestSource::Path(p) => view.path_param(p).map(str::to_string).into_iter().collect(),
                RequestSource::Query(q) => view.query_value(q).map(str::to_string).into_iter().collect(),
                RequestSource::MultiQuery(q) => match target {
                    RequestTarget::Query(_) => view.query_values(q).into_iter().map(str::to_string).collect(),
                    _ => join(view.query_values(q)),
                },
                RequestSource::Header(h) => view.header_value(h).map(str::to_string).into_iter().collect(),
                RequestSource::MultiHeader(h) => match target {
                    RequestTarget::Query(_) => {
                        view.header_values(h).into_iter().map(str::to_string).collect()
                    }
                    _ => join(view.header_values(h)),
                },
                RequestSource::Body => vec![String::from_utf8_lossy(view.body).into_owned()],
                RequestSource::BodyPath(p) => body_path(view.body, p).into_iter().collect(),
                RequestSource::StageVariable(v) => {
                    view.ctx.stage_variables.get(v).cloned().into_iter().collect()
                }
                RequestSource::Context(c) => view.context_value(c).into_iter().collect(),
            };
            let (dest, name) = match target {
                RequestTarget::Header(n) => (&mut out.headers, n),
                RequestTarget::Query(n) => (&mut out.query, n),
                RequestTarget::Path(n) => (&mut out.path, n),
            };
            dest.extend(values.into_iter().map(|v| (name.clone(), v)));
        }
        Ok(out)
    }
}

fn join(values: Vec<&str>) -> Vec<String> {
    if values.is_empty() {
        Vec::new()
    } else {
        vec![values.join(",")]
    }
}

/// A JSONPath into a JSON body, as a string (objects and arrays as JSON
/// text); None when the body is not JSON or nothing matches.
pub fn body_path(body: &[u8], path: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let found = crate::vtl::jsonpath::select(&doc, path).ok()??;
    Some(match found {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// Where a method response header's value comes from.
#[derive(Debug, Clone, PartialEq)]
enum ResponseSource {
    Header(String),
    MultiHeader(String),
    Body,
    BodyPath(String),
    StageVariable(String),
    Context(String),
    Literal(String),
}

/// What the backend answered, as response mappings see it.
pub struct BackendAnswer<'a> {
    pub headers: &'a [super::HeaderPair<'a>],
    pub body: &'a [u8],
}

/// An integration response's `responseParameters`, compiled.
#[derive(Debug, Clone, Default)]
pub struct ResponseMapping {
    entries: Vec<(String, ResponseSource)>,
}

impl ResponseMapping {
    pub fn compile(params: &BTreeMap<String, String>) -> Result<ResponseMapping, MappingError> {
        let mut entries = Vec::with_capacity(params.len());
        for (name, source) in params {
            let header = name
                .strip_prefix("method.response.header.")
                .filter(|h| !h.is_empty())
                .ok_or_else(|| MappingError(format!("Invalid mapping expression specified: {name}")))?;
            let s = source.trim();
            let named = |prefix: &str| {
                s.strip_prefix(prefix)
                    .filter(|rest| !rest.is_empty())
                    .map(str::to_string)
            };
            let parsed = if let Some(l) = literal(s) {
                Some(ResponseSource::Literal(l.to_string()))
            } else if s == "integration.response.body" {
                Some(ResponseSource::Body)
            } else if let Some(p) = s.strip_prefix("integration.response.body.") {
                // `integration.response.body.id` (AWS's form, no `$.`) or `...body.$.id`.
                (!p.is_empty()).then(|| ResponseSource::BodyPath(p.to_string()))
            } else {
                named("integration.response.header.")
                    .map(ResponseSource::Header)
                    .or_else(|| {
                        named("integration.response.multivalueheader.").map(ResponseSource::MultiHeader)
                    })
                    .or_else(|| named("stageVariables.").map(ResponseSource::StageVariable))
                    .or_else(|| named("context.").map(ResponseSource::Context))
            };
            let parsed = parsed
                .ok_or_else(|| MappingError(format!("Invalid mapping expression specified: {source}")))?;
            entries.push((header.to_string(), parsed));
        }
        Ok(ResponseMapping { entries })
    }

    /// The method response headers, in declaration order; a source with no
    /// value sets nothing.
    pub fn apply(&self, answer: &BackendAnswer<'_>, view: &RequestView<'_>) -> Vec<(String, String)> {
        let header_values = |name: &str| -> Vec<&str> {
            answer
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_ref())
                .collect()
        };
        let mut out = Vec::with_capacity(self.entries.len());
        for (header, source) in &self.entries {
            let value = match source {
                ResponseSource::Literal(l) => Some(l.clone()),
                ResponseSource::Header(h) => header_values(h).last().map(|v| v.to_string()),
                ResponseSource::MultiHeader(h) => {
                    let all = header_values(h);
                    (!all.is_empty()).then(|| all.join(","))
                }
                ResponseSource::Body => Some(String::from_utf8_lossy(answer.body).into_owned()),
                ResponseSource::BodyPath(p) => body_path(answer.body, p),
                ResponseSource::StageVariable(v) => view.ctx.stage_variables.get(v).cloned(),
                ResponseSource::Context(c) => view.context_value(c),
            };
            if let Some(v) = value {
                out.push((header.clone(), v));
            }
        }
        out
    }
}
