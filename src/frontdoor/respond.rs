//! Gateway responses: how the front door answers when it, not the
//! integration, ends a request (no route, unauthorized, throttled, timed
//! out, ...). [`GatewayResponses`] is compiled once per deployment from
//! `Deployment::gateway_responses` and renders any of the 21 response types
//! with the API's customisations applied, as API Gateway does:
//!
//! - lookup: the type's own customised entry → a customised `DEFAULT_4XX` /
//!   `DEFAULT_5XX` (by the class of the type's default status) → the
//!   built-in default;
//! - `responseParameters` set `gatewayresponse.header.X` from `'literal'`,
//!   `method.request.{header|querystring|path}.Y`, `stageVariables.N` or
//!   `context.N` (a missing value omits the header);
//! - `responseTemplates` are plain `$variable` substitution, not VTL: the
//!   `application/json` template (else the first) is rendered, unknown
//!   variables become empty.
//!
//! The built-in default for a type costs one static string: no JSON tree.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use crate::apigw::model::GatewayResponse;

/// The 21 gateway response types API Gateway knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatewayResponseType {
    Default4xx,
    Default5xx,
    ResourceNotFound,
    Unauthorized,
    InvalidApiKey,
    AccessDenied,
    AuthorizerFailure,
    AuthorizerConfigurationError,
    InvalidSignature,
    ExpiredToken,
    MissingAuthenticationToken,
    IntegrationFailure,
    IntegrationTimeout,
    ApiConfigurationError,
    UnsupportedMediaType,
    BadRequestParameters,
    BadRequestBody,
    RequestTooLarge,
    Throttled,
    QuotaExceeded,
    WafFiltered,
}

use GatewayResponseType as T;

impl GatewayResponseType {
    /// Every type, in the order of the service model's enum.
    pub const ALL: [GatewayResponseType; 21] = [
        T::Default4xx,
        T::Default5xx,
        T::ResourceNotFound,
        T::Unauthorized,
        T::InvalidApiKey,
        T::AccessDenied,
        T::AuthorizerFailure,
        T::AuthorizerConfigurationError,
        T::InvalidSignature,
        T::ExpiredToken,
        T::MissingAuthenticationToken,
        T::IntegrationFailure,
        T::IntegrationTimeout,
        T::ApiConfigurationError,
        T::UnsupportedMediaType,
        T::BadRequestParameters,
        T::BadRequestBody,
        T::RequestTooLarge,
        T::Throttled,
        T::QuotaExceeded,
        T::WafFiltered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            T::Default4xx => "DEFAULT_4XX",
            T::Default5xx => "DEFAULT_5XX",
            T::ResourceNotFound => "RESOURCE_NOT_FOUND",
            T::Unauthorized => "UNAUTHORIZED",
            T::InvalidApiKey => "INVALID_API_KEY",
            T::AccessDenied => "ACCESS_DENIED",
            T::AuthorizerFailure => "AUTHORIZER_FAILURE",
            T::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            T::InvalidSignature => "INVALID_SIGNATURE",
            T::ExpiredToken => "EXPIRED_TOKEN",
            T::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            T::IntegrationFailure => "INTEGRATION_FAILURE",
            T::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            T::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            T::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            T::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            T::BadRequestBody => "BAD_REQUEST_BODY",
            T::RequestTooLarge => "REQUEST_TOO_LARGE",
            T::Throttled => "THROTTLED",
            T::QuotaExceeded => "QUOTA_EXCEEDED",
            T::WafFiltered => "WAF_FILTERED",
        }
    }

    pub fn parse(s: &str) -> Option<GatewayResponseType> {
        T::ALL.into_iter().find(|t| t.as_str() == s)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The built-in status; None for DEFAULT_4XX / DEFAULT_5XX, which have
    /// none of their own.
    pub fn default_status(self) -> Option<u16> {
        Some(match self {
            T::Default4xx | T::Default5xx => return None,
            T::ResourceNotFound => 404,
            T::Unauthorized => 401,
            T::InvalidApiKey
            | T::AccessDenied
            | T::InvalidSignature
            | T::ExpiredToken
            | T::MissingAuthenticationToken
            | T::WafFiltered => 403,
            T::AuthorizerFailure | T::AuthorizerConfigurationError | T::ApiConfigurationError => 500,
            T::IntegrationFailure | T::IntegrationTimeout => 504,
            T::UnsupportedMediaType => 415,
            T::BadRequestParameters | T::BadRequestBody => 400,
            T::RequestTooLarge => 413,
            T::Throttled | T::QuotaExceeded => 429,
        })
    }

    /// The status used when neither the type nor its class default is
    /// customised with a `statusCode`: the built-in one, else 400 / 500.
    fn fallback_status(self) -> u16 {
        match self {
            T::Default4xx => 400,
            T::Default5xx => 500,
            other => other.default_status().unwrap_or(500),
        }
    }

    /// DEFAULT_5XX for types whose status is 5xx, DEFAULT_4XX otherwise.
    pub fn class_default(self) -> GatewayResponseType {
        if self.fallback_status() >= 500 {
            T::Default5xx
        } else {
            T::Default4xx
        }
    }

    /// `x-amzn-ErrorType` as API Gateway sends it; None where unknown
    /// (the header is then omitted).
    pub fn error_type(self) -> Option<&'static str> {
        Some(match self {
            T::AccessDenied => "AccessDeniedException",
            T::AuthorizerConfigurationError => "AuthorizerConfigurationException",
            // API Gateway labels a 415 as a bad request, and a 504 as an
            // internal error (as recorded against AWS by LocalStack).
            T::BadRequestParameters | T::BadRequestBody | T::UnsupportedMediaType => "BadRequestException",
            // API_CONFIGURATION_ERROR: recorded for a method whose mapping
            // targets a header API Gateway will not map.
            T::IntegrationFailure | T::IntegrationTimeout | T::ApiConfigurationError => {
                "InternalServerErrorException"
            }
            T::InvalidApiKey => "ForbiddenException",
            T::InvalidSignature => "InvalidSignatureException",
            T::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            T::QuotaExceeded => "LimitExceededException",
            T::Throttled => "TooManyRequestsException",
            T::Unauthorized => "UnauthorizedException",
            _ => return None,
        })
    }

    /// The built-in message; None renders as JSON `null`.
    pub fn default_message(self) -> Option<&'static str> {
        Some(match self {
            T::Default4xx | T::AuthorizerFailure | T::AuthorizerConfigurationError => return None,
            T::Default5xx | T::ApiConfigurationError | T::IntegrationFailure => "Internal server error",
            T::ResourceNotFound => "Not Found",
            T::Unauthorized => "Unauthorized",
            T::InvalidApiKey | T::WafFiltered => "Forbidden",
            T::AccessDenied => "User is not authorized to access this resource",
            T::InvalidSignature => {
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            }
            T::ExpiredToken => "The security token included in the request is expired",
            T::MissingAuthenticationToken => "Missing Authentication Token",
            T::IntegrationTimeout => "Endpoint request timed out",
            T::UnsupportedMediaType => "Unsupported Media Type",
            T::BadRequestParameters => "Invalid request parameters",
            T::BadRequestBody => "Invalid request body",
            T::RequestTooLarge => "Request Too Long",
            T::Throttled => "Too Many Requests",
            T::QuotaExceeded => "Limit Exceeded",
        })
    }

    /// The built-in body, `{"message":<default message>}`, as a static string.
    fn default_body(self) -> &'static str {
        match self {
            T::Default4xx | T::AuthorizerFailure | T::AuthorizerConfigurationError => r#"{"message":null}"#,
            T::Default5xx | T::ApiConfigurationError | T::IntegrationFailure => {
                r#"{"message":"Internal server error"}"#
            }
            T::ResourceNotFound => r#"{"message":"Not Found"}"#,
            T::Unauthorized => r#"{"message":"Unauthorized"}"#,
            T::InvalidApiKey | T::WafFiltered => r#"{"message":"Forbidden"}"#,
            T::AccessDenied => r#"{"message":"User is not authorized to access this resource"}"#,
            T::InvalidSignature => {
                r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#
            }
            T::ExpiredToken => r#"{"message":"The security token included in the request is expired"}"#,
            T::MissingAuthenticationToken => r#"{"message":"Missing Authentication Token"}"#,
            T::IntegrationTimeout => r#"{"message":"Endpoint request timed out"}"#,
            T::UnsupportedMediaType => r#"{"message":"Unsupported Media Type"}"#,
            T::BadRequestParameters => r#"{"message":"Invalid request parameters"}"#,
            T::BadRequestBody => r#"{"message":"Invalid request body"}"#,
            T::RequestTooLarge => r#"{"message":"Request Too Long"}"#,
            T::Throttled => r#"{"message":"Too Many Requests"}"#,
            T::QuotaExceeded => r#"{"message":"Limit Exceeded"}"#,
        }
    }
}

/// The default response template of every type.
pub const DEFAULT_TEMPLATE: &str = r#"{"message":$context.error.messageString}"#;

/// What a gateway response's parameters and templates may reference about
/// the request being answered. `$context.error.message` is the `message`
/// given to [`GatewayResponses::render`] (or the type's default).
pub struct ResponseContext<'a> {
    pub headers: &'a HeaderMap,
    /// The raw query string, without `?`.
    pub raw_query: Option<&'a str>,
    pub path_params: &'a [(&'a str, String)],
    pub stage_variables: &'a BTreeMap<String, String>,
    pub request_id: &'a str,
    pub extended_request_id: &'a str,
    pub api_id: &'a str,
    pub stage: &'a str,
    /// The resource template, e.g. `/users/{id}`.
    pub resource_path: &'a str,
    pub resource_id: &'a str,
    /// The request path after the stage, e.g. `/users/7` (`$context.path`
    /// puts the stage in front: `/prod/users/7`).
    pub path: &'a str,
    pub http_method: &'a str,
    pub source_ip: &'a str,
    pub account_id: &'a str,
    pub domain_name: &'a str,
    /// The request's X-Ray trace id (`Root=1-...`); empty where none was
    /// given (a new one is made when needed).
    pub trace_id: &'a str,
    /// The authorizer's context (stringified), including `principalId`.
    pub authorizer: Option<&'a BTreeMap<String, String>>,
    /// `$context.error.validationErrorString`: what request validation
    /// found wrong (None outside validation failures).
    pub validation_error_string: Option<&'a str>,
    /// The request went to the stage's canary release.
    pub is_canary: bool,
}

static EMPTY_HEADERS: LazyLock<HeaderMap> = LazyLock::new(HeaderMap::new);
static EMPTY_MAP: BTreeMap<String, String> = BTreeMap::new();

impl Default for ResponseContext<'_> {
    fn default() -> Self {
        ResponseContext {
            headers: &EMPTY_HEADERS,
            raw_query: None,
            path_params: &[],
            stage_variables: &EMPTY_MAP,
            request_id: "",
            extended_request_id: "",
            api_id: "",
            stage: "",
            resource_path: "",
            resource_id: "",
            path: "",
            http_method: "",
            source_ip: "",
            account_id: "",
            domain_name: "",
            trace_id: "",
            authorizer: None,
            validation_error_string: None,
            is_canary: false,
        }
    }
}

/// A `$context...` / `$stageVariables...` reference, resolved at compile time.
#[derive(Debug, Clone, PartialEq)]
enum Var {
    RequestId,
    ExtendedRequestId,
    ApiId,
    Stage,
    ResourcePath,
    ResourceId,
    Path,
    HttpMethod,
    SourceIp,
    UserAgent,
    AccountId,
    DomainName,
    ErrorMessage,
    ErrorMessageString,
    ErrorResponseType,
    ErrorValidationErrorString,
    Authorizer(String),
    StageVariable(String),
    IsCanaryRequest,
    /// Known syntax, unknown name: renders empty.
    Unknown,
}

impl Var {
    /// `name` without the leading `$`, e.g. `context.requestId`.
    fn parse(name: &str) -> Var {
        if let Some(v) = name.strip_prefix("stageVariables.") {
            return Var::StageVariable(v.to_string());
        }
        let Some(c) = name.strip_prefix("context.") else {
            return Var::Unknown;
        };
        if let Some(k) = c.strip_prefix("authorizer.") {
            return Var::Authorizer(k.to_string());
        }
        match c {
            "requestId" => Var::RequestId,
            "extendedRequestId" => Var::ExtendedRequestId,
            "apiId" => Var::ApiId,
            "stage" => Var::Stage,
            "resourcePath" => Var::ResourcePath,
            "resourceId" => Var::ResourceId,
            "path" => Var::Path,
            "httpMethod" => Var::HttpMethod,
            "identity.sourceIp" => Var::SourceIp,
            "identity.userAgent" => Var::UserAgent,
            "accountId" | "identity.accountId" => Var::AccountId,
            "domainName" => Var::DomainName,
            "isCanaryRequest" => Var::IsCanaryRequest,
            "error.message" => Var::ErrorMessage,
            "error.messageString" => Var::ErrorMessageString,
            "error.responseType" => Var::ErrorResponseType,
            "error.validationErrorString" => Var::ErrorValidationErrorString,
            _ => Var::Unknown,
        }
    }

    /// Appends the value; false when there is none (a missing header source).
    fn write(&self, out: &mut String, ctx: &ResponseContext<'_>, err: &ErrorInfo<'_>) -> bool {
        let v: Option<&str> = match self {
            Var::RequestId => Some(ctx.request_id),
            Var::ExtendedRequestId => Some(ctx.extended_request_id),
            Var::ApiId => Some(ctx.api_id),
            Var::Stage => Some(ctx.stage),
            Var::ResourcePath => Some(ctx.resource_path),
            Var::ResourceId => Some(ctx.resource_id),
            Var::IsCanaryRequest => Some(if ctx.is_canary { "true" } else { "false" }),
            Var::Path => {
                // `/{stage}/...`, as the client addressed it.
                out.push('/');
                out.push_str(ctx.stage);
                out.push_str(ctx.path);
                return true;
            }
            Var::HttpMethod => Some(ctx.http_method),
            Var::SourceIp => Some(ctx.source_ip),
            Var::UserAgent => ctx
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
            Var::AccountId => Some(ctx.account_id),
            Var::DomainName => Some(ctx.domain_name),
            Var::ErrorMessage => Some(err.message.unwrap_or_default()),
            Var::ErrorMessageString => {
                match err.message {
                    Some(m) => push_json_string(out, m),
                    None => out.push_str("null"),
                }
                return true;
            }
            Var::ErrorResponseType => Some(err.kind.as_str()),
            Var::ErrorValidationErrorString => ctx.validation_error_string,
            Var::Authorizer(k) => ctx.authorizer.and_then(|a| a.get(k)).map(String::as_str),
            Var::StageVariable(k) => ctx.stage_variables.get(k).map(String::as_str),
            Var::Unknown => None,
        };
        match v {
            Some(v) => {
                out.push_str(v);
                true
            }
            None => false,
        }
    }
}

struct ErrorInfo<'a> {
    kind: GatewayResponseType,
    message: Option<&'a str>,
}

fn push_json_string(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Var(Var),
}

/// Splits a template into literal text and `$a.b.c` references. A `$` not
/// followed by a name stays literal; a trailing `.` is not part of a name.
fn compile_template(t: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('$') {
        lit.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (braced, body) = match after.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, after),
        };
        let len = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .count();
        let mut name = &body[..len];
        if braced {
            if len == 0 || !body[len..].starts_with('}') {
                lit.push('$');
                rest = after;
                continue;
            }
            rest = &body[len + 1..];
        } else {
            name = name.trim_end_matches('.');
            if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() {
                lit.push('$');
                rest = after;
                continue;
            }
            rest = &body[name.len()..];
        }
        if !lit.is_empty() {
            out.push(Segment::Literal(std::mem::take(&mut lit)));
        }
        out.push(Segment::Var(Var::parse(name)));
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Segment::Literal(lit));
    }
    out
}

/// Where a `gatewayresponse.header.X` value comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Literal(HeaderValue),
    Header(String),
    Query(String),
    Path(String),
    Context(Var),
}

impl Source {
    fn parse(s: &str) -> Option<Source> {
        let s = s.trim();
        if let Some(l) = s.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
            return HeaderValue::from_str(l).ok().map(Source::Literal);
        }
        if let Some(h) = s.strip_prefix("method.request.header.") {
            return Some(Source::Header(h.to_string()));
        }
        if let Some(q) = s.strip_prefix("method.request.querystring.") {
            return Some(Source::Query(q.to_string()));
        }
        if let Some(p) = s.strip_prefix("method.request.path.") {
            return Some(Source::Path(p.to_string()));
        }
        if s.starts_with("stageVariables.") || s.starts_with("context.") {
            return Some(Source::Context(Var::parse(s)));
        }
        None
    }

    fn value(&self, ctx: &ResponseContext<'_>, err: &ErrorInfo<'_>) -> Option<HeaderValue> {
        let text = match self {
            Source::Literal(v) => return Some(v.clone()),
            Source::Header(h) => return ctx.headers.get(h.as_str()).cloned(),
            Source::Query(q) => query_value(ctx.raw_query?, q)?,
            Source::Path(p) => ctx
                .path_params
                .iter()
                .find(|(k, _)| k == p)
                .map(|(_, v)| v.clone())?,
            Source::Context(var) => {
                let mut s = String::new();
                if !var.write(&mut s, ctx, err) {
                    return None;
                }
                s
            }
        };
        HeaderValue::from_str(&text).ok()
    }
}

/// Checks one `responseParameters` entry of a gateway response: the name
/// must be `gatewayresponse.header.{header}`, the source `'literal'`,
/// `method.request.{header|querystring|path}.Y`, `stageVariables.N` or
/// `context.N`. The error names the offending expression.
pub fn check_parameter(name: &str, source: &str) -> Result<(), String> {
    let header_ok = name
        .strip_prefix("gatewayresponse.header.")
        .is_some_and(|h| !h.is_empty() && HeaderName::from_bytes(h.as_bytes()).is_ok());
    if !header_ok {
        return Err(name.to_string());
    }
    let named = |prefix: &str| {
        source
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
    };
    let source_ok = match Source::parse(source) {
        Some(Source::Literal(_)) => true,
        Some(_) => [
            "method.request.header.",
            "method.request.querystring.",
            "method.request.path.",
            "stageVariables.",
            "context.",
        ]
        .iter()
        .any(|p| named(p)),
        None => false,
    };
    if source_ok {
        Ok(())
    } else {
        Err(source.to_string())
    }
}

/// The last value of `name` in a raw query string, percent-decoded.
fn query_value(raw: &str, name: &str) -> Option<String> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .rev()
        .find(|(k, _)| decode(k) == name)
        .map(|(_, v)| decode(v))
}

/// A customised entry, ready to render.
#[derive(Debug, Clone)]
struct Custom {
    status: Option<u16>,
    headers: Vec<(HeaderName, Source)>,
    /// (content type, template); None = the default template.
    template: Option<(HeaderValue, Vec<Segment>)>,
}

impl Custom {
    fn compile(r: &GatewayResponse) -> Custom {
        let status = r
            .status_code
            .as_deref()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..=599).contains(s));
        let headers = r
            .response_parameters
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("gatewayresponse.header.")?;
                Some((HeaderName::from_bytes(name.as_bytes()).ok()?, Source::parse(v)?))
            })
            .collect();
        let chosen = r
            .response_templates
            .get_key_value("application/json")
            .or_else(|| r.response_templates.iter().next());
        let template =
            chosen.and_then(|(ct, t)| Some((HeaderValue::from_str(ct).ok()?, compile_template(t))));
        Custom {
            status,
            headers,
            template,
        }
    }
}

/// How one type is answered in this deployment.
#[derive(Debug, Clone)]
enum Plan {
    /// Not customised at all: the static default.
    Builtin,
    /// From a customised entry (the type's own or its class default's).
    Custom(std::sync::Arc<Custom>),
}

/// Every type's resolved gateway response for one deployment.
#[derive(Debug, Clone)]
pub struct GatewayResponses {
    plans: [Plan; 21],
}

impl Default for GatewayResponses {
    fn default() -> Self {
        GatewayResponses {
            plans: std::array::from_fn(|_| Plan::Builtin),
        }
    }
}

impl GatewayResponses {
    /// Compiles a deployment's customisations (keys are response types;
    /// unknown keys are ignored).
    pub fn compile(map: &BTreeMap<String, GatewayResponse>) -> GatewayResponses {
        let mut own: [Option<std::sync::Arc<Custom>>; 21] = std::array::from_fn(|_| None);
        for (k, r) in map {
            if let Some(t) = GatewayResponseType::parse(k) {
                own[t.index()] = Some(std::sync::Arc::new(Custom::compile(r)));
            }
        }
        let plans = std::array::from_fn(|i| {
            let t = T::ALL[i];
            match own[i].clone().or_else(|| own[t.class_default().index()].clone()) {
                Some(c) => Plan::Custom(c),
                None => Plan::Builtin,
            }
        });
        GatewayResponses { plans }
    }

    /// Whether `kind` is answered from a customised entry (its own or its
    /// class default's) rather than the built-in one.
    pub fn is_customised(&self, kind: GatewayResponseType) -> bool {
        matches!(self.plans[kind.index()], Plan::Custom(_))
    }

    /// The status `kind` is answered with in this deployment.
    pub fn status(&self, kind: GatewayResponseType) -> u16 {
        self.status_with(kind, kind.fallback_status())
    }

    fn status_with(&self, kind: GatewayResponseType, fallback: u16) -> u16 {
        match &self.plans[kind.index()] {
            Plan::Custom(c) => c.status.unwrap_or(fallback),
            Plan::Builtin => fallback,
        }
    }

    /// Renders `kind`. `message` replaces the type's default message (e.g.
    /// the explicit-deny wording of ACCESS_DENIED).
    pub fn render(
        &self,
        kind: GatewayResponseType,
        message: Option<&str>,
        ctx: &ResponseContext<'_>,
    ) -> Response {
        self.render_with_status(kind, kind.fallback_status(), message, ctx)
    }

    /// As [`render`](Self::render), with the status to use when no
    /// customised `statusCode` applies (e.g. 502 for a malformed Lambda
    /// proxy answer rendered as DEFAULT_5XX).
    pub fn render_with_status(
        &self,
        kind: GatewayResponseType,
        status: u16,
        message: Option<&str>,
        ctx: &ResponseContext<'_>,
    ) -> Response {
        let status = self.status_with(kind, status);
        let message = message.or(kind.default_message());
        let err = ErrorInfo { kind, message };
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(e) = kind.error_type() {
            headers.insert("x-amzn-ErrorType", HeaderValue::from_static(e));
        }
        let body = match &self.plans[kind.index()] {
            Plan::Builtin => default_body(kind, message),
            Plan::Custom(c) => {
                let body = match &c.template {
                    Some((content_type, segments)) => {
                        headers.insert(axum::http::header::CONTENT_TYPE, content_type.clone());
                        let mut out = String::new();
                        for s in segments {
                            match s {
                                Segment::Literal(l) => out.push_str(l),
                                Segment::Var(v) => {
                                    v.write(&mut out, ctx, &err);
                                }
                            }
                        }
                        Body::from(out)
                    }
                    None => default_body(kind, message),
                };
                for (name, source) in &c.headers {
                    if let Some(v) = source.value(ctx, &err) {
                        headers.insert(name.clone(), v);
                    }
                }
                body
            }
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        *resp.headers_mut() = headers;
        resp
    }
}

/// `{"message":<messageString>}`: static unless the message was overridden.
fn default_body(kind: GatewayResponseType, message: Option<&str>) -> Body {
    if message == kind.default_message() {
        return Body::from(kind.default_body());
    }
    let mut out = String::from(r#"{"message":"#);
    match message {
        Some(m) => push_json_string(&mut out, m),
        None => out.push_str("null"),
    }
    out.push('}');
    Body::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gr(
        t: &str,
        status: Option<&str>,
        params: &[(&str, &str)],
        templates: &[(&str, &str)],
    ) -> (String, GatewayResponse) {
        (
            t.to_string(),
            GatewayResponse {
                response_type: t.to_string(),
                status_code: status.map(str::to_string),
                response_parameters: params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                response_templates: templates
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
        )
    }

    fn compile(entries: Vec<(String, GatewayResponse)>) -> GatewayResponses {
        GatewayResponses::compile(&entries.into_iter().collect())
    }

    async fn body(r: Response) -> (u16, HeaderMap, String) {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn render(
        g: &GatewayResponses,
        kind: GatewayResponseType,
        msg: Option<&str>,
        ctx: &ResponseContext<'_>,
    ) -> (u16, HeaderMap, String) {
        futures_block(body(g.render(kind, msg, ctx)))
    }

    fn futures_block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn all_types_parse_round_trip_and_static_bodies_match_the_template() {
        assert_eq!(GatewayResponseType::ALL.len(), 21);
        for (i, t) in GatewayResponseType::ALL.into_iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(GatewayResponseType::parse(t.as_str()), Some(t));
            let expected = match t.default_message() {
                Some(m) => serde_json::json!({ "message": m }).to_string(),
                None => r#"{"message":null}"#.to_string(),
            };
            assert_eq!(t.default_body(), expected, "{t:?}");
            // The static body is what the default template renders.
            let custom = compile(vec![gr(
                t.as_str(),
                None,
                &[],
                &[("application/json", DEFAULT_TEMPLATE)],
            )]);
            let (_, _, b) = render(&custom, t, None, &ResponseContext::default());
            assert_eq!(b, expected, "{t:?}");
        }
        assert_eq!(GatewayResponseType::parse("NOPE"), None);
    }

    #[test]
    fn builtin_defaults() {
        let g = GatewayResponses::default();
        let ctx = ResponseContext::default();
        let (s, h, b) = render(&g, T::MissingAuthenticationToken, None, &ctx);
        assert_eq!(s, 403);
        assert_eq!(b, r#"{"message":"Missing Authentication Token"}"#);
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["x-amzn-ErrorType"], "MissingAuthenticationTokenException");
        let (s, h, b) = render(&g, T::AuthorizerConfigurationError, None, &ctx);
        assert_eq!((s, b.as_str()), (500, r#"{"message":null}"#));
        assert_eq!(h["x-amzn-ErrorType"], "AuthorizerConfigurationException");
        let (s, h, _) = render(&g, T::IntegrationTimeout, None, &ctx);
        assert_eq!(s, 504);
        assert_eq!(h["x-amzn-ErrorType"], "InternalServerErrorException");
        let (s, h, _) = render(&g, T::UnsupportedMediaType, None, &ctx);
        assert_eq!(s, 415);
        assert_eq!(h["x-amzn-ErrorType"], "BadRequestException");
        let (s, h, _) = render(&g, T::ApiConfigurationError, None, &ctx);
        assert_eq!(s, 500);
        assert_eq!(h["x-amzn-ErrorType"], "InternalServerErrorException");
        // Unknown error type → header omitted.
        let (s, h, _) = render(&g, T::Default5xx, None, &ctx);
        assert_eq!(s, 500);
        assert!(h.get("x-amzn-ErrorType").is_none());
        assert_eq!(render(&g, T::Default4xx, None, &ctx).0, 400);
        assert_eq!(render(&g, T::Default5xx, None, &ctx).0, 500);
    }

    #[test]
    fn message_override_is_json_quoted() {
        let g = GatewayResponses::default();
        let (s, _, b) = render(
            &g,
            T::AccessDenied,
            Some("User is not authorized to access this resource with an explicit deny"),
            &ResponseContext::default(),
        );
        assert_eq!(s, 403);
        assert_eq!(
            b,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#
        );
        let (_, _, b) = render(
            &g,
            T::BadRequestBody,
            Some("bad \"x\"\n"),
            &ResponseContext::default(),
        );
        assert_eq!(b, r#"{"message":"bad \"x\"\n"}"#);
    }

    #[test]
    fn own_entry_wins_over_class_default() {
        let g = compile(vec![
            gr(
                "UNAUTHORIZED",
                Some("418"),
                &[],
                &[("application/json", r#"{"own":$context.error.messageString}"#)],
            ),
            gr(
                "DEFAULT_4XX",
                Some("499"),
                &[],
                &[("application/json", r#"{"class":true}"#)],
            ),
        ]);
        let ctx = ResponseContext::default();
        let (s, h, b) = render(&g, T::Unauthorized, None, &ctx);
        assert_eq!((s, b.as_str()), (418, r#"{"own":"Unauthorized"}"#));
        assert_eq!(h["x-amzn-ErrorType"], "UnauthorizedException");
        // Other 4XX types take DEFAULT_4XX: its status, its template.
        let (s, _, b) = render(&g, T::AccessDenied, None, &ctx);
        assert_eq!((s, b.as_str()), (499, r#"{"class":true}"#));
        let (s, _, b) = render(&g, T::Throttled, None, &ctx);
        assert_eq!((s, b.as_str()), (499, r#"{"class":true}"#));
        // 5XX types are untouched.
        let (s, _, b) = render(&g, T::IntegrationTimeout, None, &ctx);
        assert_eq!(
            (s, b.as_str()),
            (504, r#"{"message":"Endpoint request timed out"}"#)
        );
    }

    #[test]
    fn class_default_without_status_keeps_each_types_status() {
        let g = compile(vec![gr(
            "DEFAULT_5XX",
            None,
            &[("gatewayresponse.header.x-five", "'yes'")],
            &[],
        )]);
        let ctx = ResponseContext::default();
        let (s, h, b) = render(&g, T::IntegrationTimeout, None, &ctx);
        assert_eq!(
            (s, b.as_str()),
            (504, r#"{"message":"Endpoint request timed out"}"#)
        );
        assert_eq!(h["x-five"], "yes");
        let (s, h, _) = render(&g, T::AuthorizerConfigurationError, None, &ctx);
        assert_eq!(s, 500);
        assert_eq!(h["x-five"], "yes");
        // 4XX types are untouched.
        let (_, h, _) = render(&g, T::Unauthorized, None, &ctx);
        assert!(h.get("x-five").is_none());
        assert_eq!(g.status(T::Unauthorized), 401);
    }

    #[test]
    fn render_with_status_applies_only_without_a_custom_status() {
        let ctx = ResponseContext::default();
        let g = GatewayResponses::default();
        let r = futures_block(body(g.render_with_status(T::Default5xx, 502, None, &ctx)));
        assert_eq!(
            (r.0, r.2.as_str()),
            (502, r#"{"message":"Internal server error"}"#)
        );
        let g = compile(vec![gr("DEFAULT_5XX", Some("503"), &[], &[])]);
        let r = futures_block(body(g.render_with_status(T::Default5xx, 502, None, &ctx)));
        assert_eq!(r.0, 503);
    }

    #[test]
    fn own_entry_without_status_keeps_the_default_status() {
        let g = compile(vec![
            gr("DEFAULT_4XX", Some("400"), &[], &[]),
            gr("UNAUTHORIZED", None, &[], &[("text/plain", "nope")]),
        ]);
        let (s, h, b) = render(&g, T::Unauthorized, None, &ResponseContext::default());
        assert_eq!((s, b.as_str()), (401, "nope"));
        assert_eq!(h["content-type"], "text/plain");
    }

    #[test]
    fn application_json_template_preferred_else_first() {
        let g = compile(vec![gr(
            "THROTTLED",
            None,
            &[],
            &[
                ("text/html", "<p>slow</p>"),
                ("application/json", "{}"),
                ("a/b", "first"),
            ],
        )]);
        assert_eq!(
            render(&g, T::Throttled, None, &ResponseContext::default()).2,
            "{}"
        );
        let g = compile(vec![gr(
            "THROTTLED",
            None,
            &[],
            &[("text/html", "<p>slow</p>"), ("a/b", "first")],
        )]);
        let (_, h, b) = render(&g, T::Throttled, None, &ResponseContext::default());
        assert_eq!(
            (b.as_str(), h["content-type"].to_str().unwrap_or_default()),
            ("first", "a/b")
        );
    }

    fn sample_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("origin", HeaderValue::from_static("https://example.com"));
        h.insert("user-agent", HeaderValue::from_static("curl/8"));
        h
    }

    #[test]
    fn response_parameters_from_every_source() {
        let headers = sample_headers();
        let vars: BTreeMap<String, String> = [("color".to_string(), "blue".to_string())].into();
        let auth: BTreeMap<String, String> = [("principalId".to_string(), "ann".to_string())].into();
        let params = [("id", "7".to_string())];
        let ctx = ResponseContext {
            headers: &headers,
            raw_query: Some("a=1&q=x%20y&q=last+one"),
            path_params: &params,
            stage_variables: &vars,
            request_id: "req-1",
            authorizer: Some(&auth),
            ..Default::default()
        };
        let g = compile(vec![gr(
            "ACCESS_DENIED",
            None,
            &[
                ("gatewayresponse.header.Access-Control-Allow-Origin", "'*'"),
                ("gatewayresponse.header.x-origin", "method.request.header.Origin"),
                ("gatewayresponse.header.x-q", "method.request.querystring.q"),
                ("gatewayresponse.header.x-id", "method.request.path.id"),
                ("gatewayresponse.header.x-color", "stageVariables.color"),
                ("gatewayresponse.header.x-req", "context.requestId"),
                ("gatewayresponse.header.x-who", "context.authorizer.principalId"),
                ("gatewayresponse.header.x-missing", "method.request.header.nope"),
                ("gatewayresponse.header.x-nostage", "stageVariables.nope"),
                ("gatewayresponse.header.x-unknown", "context.nope"),
                ("gatewayresponse.header.x-type", "context.error.responseType"),
                ("method.response.header.ignored", "'x'"),
            ],
            &[],
        )]);
        let (s, h, b) = render(&g, T::AccessDenied, None, &ctx);
        assert_eq!(s, 403);
        assert_eq!(
            b,
            r#"{"message":"User is not authorized to access this resource"}"#
        );
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(h["x-origin"], "https://example.com");
        assert_eq!(h["x-q"], "last one");
        assert_eq!(h["x-id"], "7");
        assert_eq!(h["x-color"], "blue");
        assert_eq!(h["x-req"], "req-1");
        assert_eq!(h["x-who"], "ann");
        assert_eq!(h["x-type"], "ACCESS_DENIED");
        assert!(h.get("x-missing").is_none());
        assert!(h.get("x-nostage").is_none());
        assert!(h.get("x-unknown").is_none());
        assert!(h.get("ignored").is_none());
        assert_eq!(h["x-amzn-ErrorType"], "AccessDeniedException");
    }

    #[test]
    fn template_substitution() {
        let headers = sample_headers();
        let vars: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
        let auth: BTreeMap<String, String> = [
            ("principalId".to_string(), "ann".to_string()),
            ("tier".to_string(), "gold".to_string()),
        ]
        .into();
        let ctx = ResponseContext {
            headers: &headers,
            stage_variables: &vars,
            request_id: "r1",
            extended_request_id: "e1=",
            api_id: "abc",
            stage: "prod",
            resource_path: "/users/{id}",
            http_method: "GET",
            source_ip: "10.0.0.1",
            authorizer: Some(&auth),
            ..Default::default()
        };
        let template = "{\"id\":\"$context.requestId\",\"x\":\"${context.extendedRequestId}\",\"api\":\"$context.apiId/$context.stage\",\
            \"r\":\"$context.httpMethod $context.resourcePath\",\"ip\":\"$context.identity.sourceIp\",\
            \"ua\":\"$context.identity.userAgent\",\"who\":\"$context.authorizer.principalId/$context.authorizer.tier\",\
            \"env\":\"$stageVariables.env\",\"t\":\"$context.error.responseType\",\"m\":\"$context.error.message\",\
            \"ms\":$context.error.messageString,\"unknown\":\"$context.nope$stageVariables.nope$input.body\",\
            \"cost\":\"$5 and $ alone.\",\"end\":\"$context.stage.\"}";
        let g = compile(vec![gr(
            "UNAUTHORIZED",
            None,
            &[],
            &[("application/json", template)],
        )]);
        let (_, _, b) = render(&g, T::Unauthorized, Some("say hi"), &ctx);
        let v: serde_json::Value = serde_json::from_str(&b).unwrap_or_else(|e| panic!("{e}: {b}"));
        assert_eq!(
            v,
            serde_json::json!({
                "id": "r1", "x": "e1=", "api": "abc/prod", "r": "GET /users/{id}", "ip": "10.0.0.1",
                "ua": "curl/8", "who": "ann/gold", "env": "prod", "t": "UNAUTHORIZED",
                "m": "say hi", "ms": "say hi", "unknown": "", "cost": "$5 and $ alone.", "end": "prod."
            })
        );
    }

    #[test]
    fn null_message_string_and_empty_message() {
        let g = compile(vec![gr(
            "AUTHORIZER_CONFIGURATION_ERROR",
            None,
            &[],
            &[(
                "application/json",
                r#"{"m":$context.error.messageString,"raw":"$context.error.message"}"#,
            )],
        )]);
        let (s, _, b) = render(
            &g,
            T::AuthorizerConfigurationError,
            None,
            &ResponseContext::default(),
        );
        assert_eq!((s, b.as_str()), (500, r#"{"m":null,"raw":""}"#));
    }

    #[test]
    fn parameter_check() {
        assert_eq!(
            check_parameter("gatewayresponse.header.Access-Control-Allow-Origin", "'*'"),
            Ok(())
        );
        for src in [
            "method.request.header.Origin",
            "method.request.querystring.q",
            "method.request.path.id",
            "stageVariables.v",
            "context.requestId",
        ] {
            assert_eq!(check_parameter("gatewayresponse.header.x", src), Ok(()), "{src}");
        }
        assert!(check_parameter("method.response.header.x", "'*'").is_err());
        assert!(check_parameter("gatewayresponse.header.", "'*'").is_err());
        assert!(check_parameter("gatewayresponse.header.bad name", "'*'").is_err());
        assert!(check_parameter("gatewayresponse.header.x", "*").is_err());
        assert!(check_parameter("gatewayresponse.header.x", "method.request.body").is_err());
        assert!(check_parameter("gatewayresponse.header.x", "'bad\nvalue'").is_err());
        assert!(check_parameter("gatewayresponse.header.x", "context.").is_err());
    }

    #[test]
    fn invalid_entries_are_ignored_safely() {
        let g = compile(vec![
            gr("NOT_A_TYPE", Some("200"), &[], &[]),
            gr(
                "THROTTLED",
                Some("abc"),
                &[
                    ("gatewayresponse.header.bad header", "'x'"),
                    ("gatewayresponse.header.x-ok", "'bad\nvalue'"),
                ],
                &[],
            ),
        ]);
        let (s, h, _) = render(&g, T::Throttled, None, &ResponseContext::default());
        assert_eq!(s, 429);
        assert!(h.get("x-ok").is_none());
        assert_eq!(
            render(&g, T::Unauthorized, None, &ResponseContext::default()).0,
            401
        );
    }

    #[test]
    fn validation_error_string_in_templates() {
        let g = compile(vec![gr(
            "BAD_REQUEST_BODY",
            Some("422"),
            &[(
                "gatewayresponse.header.x-why",
                "context.error.validationErrorString",
            )],
            &[(
                "application/json",
                "{\"message\":$context.error.messageString,\"details\":\"$context.error.validationErrorString\"}",
            )],
        )]);
        let ctx = ResponseContext {
            validation_error_string: Some("[instance failed]"),
            ..Default::default()
        };
        let (s, h, b) = render(&g, T::BadRequestBody, Some("Invalid request body"), &ctx);
        assert_eq!(s, 422);
        assert_eq!(
            b,
            r#"{"message":"Invalid request body","details":"[instance failed]"}"#
        );
        assert_eq!(h["x-why"], "[instance failed]");
        // Outside validation failures it is empty.
        let (_, _, b) = render(&g, T::BadRequestBody, None, &ResponseContext::default());
        assert_eq!(b, r#"{"message":"Invalid request body","details":""}"#);
    }
}
