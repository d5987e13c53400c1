//! The integration step: what a method runs once the request is routed,
//! authorized, throttled and validated, and how the backend's answer becomes
//! the method response.
//!
//! - `lambda` runs `AWS_PROXY` (payload 1.0 event, response rules of
//!   [`super::proxy`]) and `AWS` (a Lambda call through mapping templates);
//! - `http` runs `HTTP_PROXY` and `HTTP` against an external endpoint;
//! - `mock` answers `MOCK`;
//! - `mapping` applies `requestParameters` (`method.request.*` →
//!   `integration.request.*`) and `responseParameters`;
//! - `request` and `response` are the two halves every non-proxy type
//!   shares: the integration request (mappings, template by Content-Type,
//!   passthrough, contentHandling) and the integration response (selection
//!   by `selectionPattern`, mappings, template by Accept, binary table).
//!
//! Every integration reads the request through one [`RequestView`], built
//! once; [`run`] is the one entry point (the front door and TestInvokeMethod).

pub mod http;
pub mod lambda;
pub mod mapping;
pub mod mock;
pub mod request;
pub mod response;

use std::sync::OnceLock;

use bytes::Bytes;

use super::proxy::CallerIdentity;
use super::respond::ResponseContext;

/// One request as integrations see it: the routed request's facts plus what
/// access control established, shared by parameter mappings, templates and
/// backends. The parsed query string and the `$context` tree are built on
/// first use.
pub struct RequestView<'a> {
    pub ctx: &'a ResponseContext<'a>,
    pub body: &'a Bytes,
    /// Headers in arrival order (for the proxy event).
    pub headers: &'a [HeaderPair<'a>],
    pub deployment_id: &'a str,
    pub request_time_epoch_ms: i64,
    pub binary_media_types: &'a [String],
    /// Who called, as access control established it.
    pub identity: CallerIdentity<'a>,
    /// `requestContext.authorizer` of the proxy event, when an authorizer ran.
    pub authorizer_event: Option<&'a serde_json::Value>,
    pub lazy: Lazy<'a>,
}

/// Parts of a [`RequestView`] computed only when an integration needs them.
#[derive(Default)]
pub struct Lazy<'a> {
    query: OnceLock<Vec<(String, String)>>,
    template_inputs: OnceLock<request::TemplateInputs<'a>>,
    /// What the request template set under `$context.requestOverride` and
    /// `responseOverride`: the response template sees it.
    request_overrides: OnceLock<crate::vtl::Overrides>,
}

impl<'a> RequestView<'a> {
    /// The query string, form-decoded, in arrival order.
    pub fn query(&self) -> &[(String, String)] {
        self.lazy
            .query
            .get_or_init(|| self.ctx.raw_query.map(parse_query).unwrap_or_default())
    }

    /// [`RequestView::query`] as a template's variables take it.
    pub fn query_pairs(&self) -> Vec<(&str, &str)> {
        self.query()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// What `$input.params()` shows (shared by the request and the
    /// response template).
    pub fn template_inputs(&self) -> &request::TemplateInputs<'a> {
        self.lazy
            .template_inputs
            .get_or_init(|| request::TemplateInputs::of(self))
    }

    /// The payload-1.0 event of `AWS_PROXY` (`parts`: its fixed fields as
    /// the stage's plan wrote them, if it did).
    pub fn proxy_event(&self, parts: Option<&super::proxy::EventParts>) -> Vec<u8> {
        let c = self.ctx;
        super::proxy::build_event(&super::proxy::ProxyRequest {
            method: c.http_method,
            raw_path: c.path,
            raw_query: c.raw_query,
            headers: self.headers,
            body: self.body,
            source_ip: c.source_ip,
            resource_id: c.resource_id,
            resource_path: c.resource_path,
            path_params: c.path_params,
            stage: c.stage,
            stage_variables: c.stage_variables,
            deployment_id: self.deployment_id,
            api_id: c.api_id,
            account_id: c.account_id,
            request_id: c.request_id,
            extended_request_id: c.extended_request_id,
            domain_name: c.domain_name,
            trace_id: c.trace_id,
            request_time_epoch_ms: self.request_time_epoch_ms,
            binary_media_types: self.binary_media_types,
            authorizer: self.authorizer_event,
            identity: self.identity,
            parts,
        })
    }

    /// The last value of a query string parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query()
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a query string parameter, in arrival order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query()
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The last value of a header (names are case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.last_header_value(name, name)
    }

    /// [`RequestView::header_value`] of a header the code names (`Accept`,
    /// `Content-Type`): looked up without parsing the name first.
    pub fn known_header_value(&self, name: &axum::http::HeaderName) -> Option<&str> {
        self.last_header_value(name, name.as_str())
    }

    /// The last value of header `key` (named `name`), or the value API
    /// Gateway adds under that name.
    fn last_header_value<K: axum::http::header::AsHeaderName>(&self, key: K, name: &str) -> Option<&str> {
        self.ctx
            .headers
            .get_all(key)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .or_else(|| self.added_header(name))
    }

    /// Every value of a header, in arrival order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        let values: Vec<&str> = self
            .ctx
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return self.added_header(name).into_iter().collect();
        }
        values
    }

    /// The `X-Forwarded-*` and `X-Amzn-Trace-Id` headers API Gateway adds
    /// to a method request that came without them (see
    /// `proxy::method_request_headers`).
    fn added_header(&self, name: &str) -> Option<&str> {
        let added = super::proxy::AddedHeaders::index_of(name)?;
        let host = self
            .ctx
            .headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(self.ctx.domain_name);
        super::proxy::AddedHeaders {
            source_ip: self.ctx.source_ip,
            host,
            trace_id: self.ctx.trace_id,
        }
        .value_at(added)
    }

    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.ctx
            .path_params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `context.a.b` as a string (objects and arrays as JSON text).
    pub fn context_value(&self, dotted: &str) -> Option<String> {
        let mut parts = dotted.split('.');
        let top = context_field(self, parts.next()?)?;
        let mut v = &top;
        for part in parts {
            v = v.get(part)?;
        }
        match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// The top-level `$context` fields API Gateway documents, in the order the
/// whole tree lists them.
const CONTEXT_FIELDS: [&str; 18] = [
    "accountId",
    "apiId",
    "authorizer",
    "deploymentId",
    "domainName",
    "domainPrefix",
    "extendedRequestId",
    "httpMethod",
    "identity",
    "isCanaryRequest",
    "path",
    "protocol",
    "requestId",
    "requestTime",
    "requestTimeEpoch",
    "resourceId",
    "resourcePath",
    "stage",
];

/// The keys of `$context.identity`, in AWS's order.
const IDENTITY_KEYS: [&str; 14] = [
    "sourceIp",
    "userAgent",
    "accountId",
    "accessKey",
    "caller",
    "user",
    "userArn",
    "apiKey",
    "apiKeyId",
    "cognitoAuthenticationProvider",
    "cognitoAuthenticationType",
    "cognitoIdentityId",
    "cognitoIdentityPoolId",
    "principalOrgId",
];

/// `$context.identity.<key>`: `None` for a key identity does not have,
/// `Some(None)` for one that is null on this request.
fn identity_field<'a>(view: &'a RequestView<'_>, key: &str) -> Option<Option<&'a str>> {
    let id = &view.identity;
    Some(match key {
        "sourceIp" => Some(view.ctx.source_ip),
        "userAgent" => view
            .ctx
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        "accountId" => id.account_id,
        "accessKey" => id.access_key,
        "caller" => id.caller,
        "user" => id.user,
        "userArn" => id.user_arn,
        "apiKey" => id.api_key,
        "apiKeyId" => id.api_key_id,
        k if IDENTITY_KEYS.contains(&k) => None,
        _ => return None,
    })
}

/// One top-level `$context` field of one request (`None` for a name API
/// Gateway does not have). Templates and `context.X` mappings ask for the
/// fields they use, one by one; written field by field (the `json!` macro
/// would serialize each through serde's machinery).
pub fn context_field(view: &RequestView<'_>, name: &str) -> Option<serde_json::Value> {
    use serde_json::{Map, Value};
    fn text(s: &str) -> Value {
        Value::String(s.to_owned())
    }
    fn opt(s: Option<&str>) -> Value {
        s.map_or(Value::Null, text)
    }
    let ctx = view.ctx;
    Some(match name {
        "accountId" => text(ctx.account_id),
        "apiId" => text(ctx.api_id),
        "authorizer" => ctx.authorizer.map_or(Value::Null, |a| {
            Value::Object(a.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        }),
        "deploymentId" => text(view.deployment_id),
        "domainName" => text(ctx.domain_name),
        "domainPrefix" => text(super::proxy::domain_prefix(ctx.domain_name)),
        "extendedRequestId" => text(ctx.extended_request_id),
        "httpMethod" => text(ctx.http_method),
        "identity" => Value::Object(
            IDENTITY_KEYS
                .iter()
                .map(|k| ((*k).to_owned(), opt(identity_field(view, k).flatten())))
                .collect::<Map<String, Value>>(),
        ),
        "isCanaryRequest" => text(if ctx.is_canary { "true" } else { "false" }),
        "path" => Value::String(format!("/{}{}", ctx.stage, ctx.path)),
        "protocol" => text("HTTP/1.1"),
        "requestId" => text(ctx.request_id),
        "requestTime" => super::proxy::clf_time(view.request_time_epoch_ms).map_or(Value::Null, |t| {
            Value::String(String::from_utf8_lossy(&t).into_owned())
        }),
        "requestTimeEpoch" => view.request_time_epoch_ms.into(),
        "resourceId" => text(ctx.resource_id),
        "resourcePath" => text(ctx.resource_path),
        "stage" => text(ctx.stage),
        _ => return None,
    })
}

/// The whole `$context` tree of one request.
pub fn context_tree(view: &RequestView<'_>) -> serde_json::Value {
    serde_json::Value::Object(
        CONTEXT_FIELDS
            .iter()
            .filter_map(|&k| Some((k.to_owned(), context_field(view, k)?)))
            .collect(),
    )
}

impl crate::vtl::ContextSource for RequestView<'_> {
    fn field(&self, name: &str) -> Option<serde_json::Value> {
        context_field(self, name)
    }

    fn tree(&self) -> serde_json::Value {
        context_tree(self)
    }

    fn subfield(&self, name: &str, key: &str) -> Option<Option<serde_json::Value>> {
        let text = |s: &str| serde_json::Value::String(s.to_owned());
        match name {
            "identity" => Some(identity_field(self, key).map(|v| v.map_or(serde_json::Value::Null, text))),
            "authorizer" => Some(self.ctx.authorizer.and_then(|a| a.get(key)).map(|v| text(v))),
            _ => None,
        }
    }

    fn prior_overrides(&self) -> Option<&crate::vtl::Overrides> {
        self.lazy.request_overrides.get()
    }
}

/// `bytes` as text, invalid UTF-8 replaced: borrowed when already valid,
/// which the validator checks a good deal faster than `from_utf8_lossy`.
pub fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A raw query string as `(name, value)` pairs, form-decoded, in order.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `contentHandling` of an integration (request side) or integration
/// response (response side); None passes payloads through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentHandling {
    ConvertToBinary,
    ConvertToText,
}

impl ContentHandling {
    pub fn parse(s: Option<&str>) -> Option<ContentHandling> {
        match s? {
            "CONVERT_TO_BINARY" => Some(ContentHandling::ConvertToBinary),
            "CONVERT_TO_TEXT" => Some(ContentHandling::ConvertToText),
            _ => None,
        }
    }
}

/// The step-by-step log TestInvokeMethod returns; off (and free) on the
/// front door.
#[derive(Debug, Default)]
pub struct ExecutionLog {
    lines: Option<Vec<String>>,
    /// A step reported that the execution failed ("Execution failed ...").
    failed: bool,
}

impl ExecutionLog {
    pub fn off() -> ExecutionLog {
        ExecutionLog {
            lines: None,
            failed: false,
        }
    }

    pub fn on() -> ExecutionLog {
        ExecutionLog {
            lines: Some(Vec::new()),
            failed: false,
        }
    }

    /// Records a step, stamped as AWS stamps its execution log; the text is
    /// built only when the log is on.
    pub fn step(&mut self, line: impl FnOnce() -> String) {
        if let Some(lines) = &mut self.lines {
            let now = chrono::Utc::now().format("%a %b %d %H:%M:%S UTC %Y");
            let line = line();
            self.failed |= line.starts_with("Execution failed");
            lines.push(format!("{now} : {line}"));
        }
    }

    pub fn is_on(&self) -> bool {
        self.lines.is_some()
    }

    /// Whether a step reported the execution failed (AWS's log then goes
    /// straight to the method's status).
    pub fn failed(&self) -> bool {
        self.failed
    }

    pub fn lines(&self) -> &[String] {
        self.lines.as_deref().unwrap_or_default()
    }
}

/// The request's trace id: the one the front door gave it (the client's
/// `Root=...` or a new one), or, for a context made elsewhere, a new one.
pub fn trace_id_of<'a>(ctx: &ResponseContext<'a>) -> std::borrow::Cow<'a, str> {
    if ctx.trace_id.is_empty() {
        std::borrow::Cow::Owned(http::new_trace_id())
    } else {
        std::borrow::Cow::Borrowed(ctx.trace_id)
    }
}

/// Marks a response that came from its backend with `X-Amzn-Trace-Id`, as
/// API Gateway does for non-MOCK integrations: the client's trace id when
/// it sent one, else a new one.
pub fn stamp_trace_id(resp: &mut axum::response::Response, ctx: &ResponseContext<'_>) {
    static TRACE_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-amzn-trace-id");
    let id = trace_id_of(ctx);
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert(TRACE_ID.clone(), v);
    }
}

/// A header as integrations and events see it: its name, and its value as
/// text (borrowed from the header map; copied only to decode a value that
/// is not UTF-8, lossily).
pub type HeaderPair<'a> = (&'a str, std::borrow::Cow<'a, str>);

/// A header map as pairs in order.
pub fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<HeaderPair<'_>> {
    header_pairs_as_sent(headers, None)
}

/// [`header_pairs`] with each name spelled as the client sent it (the first
/// spelling among `names_as_sent` that matches without case; lower case
/// when none does).
pub fn header_pairs_as_sent<'a>(
    headers: &'a axum::http::HeaderMap,
    names_as_sent: Option<&'a [String]>,
) -> Vec<HeaderPair<'a>> {
    let names = names_as_sent.unwrap_or_default();
    headers
        .iter()
        .map(|(k, v)| {
            let name = names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(k.as_str()))
                .map_or(k.as_str(), String::as_str);
            (name, String::from_utf8_lossy(v.as_bytes()))
        })
        .collect()
}

/// Headers as `{name=value, ...}`, the way the execution log prints them:
/// credentials masked but their last six characters, as AWS masks them.
pub fn log_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let (k, v) = (k.as_ref(), v.as_ref());
            let secret = ["authorization", "x-amz-security-token", "x-api-key"]
                .iter()
                .any(|s| k.eq_ignore_ascii_case(s));
            if secret {
                let chars: Vec<char> = v.chars().collect();
                let keep = chars.len().saturating_sub(6);
                let masked: String = std::iter::repeat_n('*', keep)
                    .chain(chars[keep..].iter().copied())
                    .collect();
                format!("{k}={masked}")
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Runs a method's integration and returns the method response.
pub async fn run(
    fd: &super::FrontDoor,
    target: &super::compile::Target,
    view: &RequestView<'_>,
    responses: &super::respond::GatewayResponses,
    log: &mut ExecutionLog,
) -> axum::response::Response {
    use super::compile::Target;
    match target {
        Target::Misconfigured(why) => {
            tracing::warn!(api = view.ctx.api_id, stage = view.ctx.stage, error = %why, "integration misconfigured");
            log.step(|| format!("Execution failed due to configuration error: {why}"));
            super::internal_error()
        }
        Target::Mock(mock) => mock::respond(mock, view, responses, view.binary_media_types, log),
        // Boxed: each of these state machines is larger than the Lambda
        // proxy's, and every request's future would otherwise be as large
        // as the largest of them (and be copied that large).
        Target::HttpProxy(target) => Box::pin(http::proxy(&fd.http, target, view, responses)).await,
        Target::Http(target) => Box::pin(http::mapped(&fd.http, target, view, responses, log)).await,
        Target::Lambda(lambda) => {
            Box::pin(lambda::aws(
                &fd.host,
                lambda,
                view,
                responses,
                view.binary_media_types,
                log,
            ))
            .await
        }
        Target::LambdaProxy {
            function,
            qualifier,
            timeout,
            post,
            event: parts,
        } => {
            if !post {
                tracing::warn!(
                    api = view.ctx.api_id,
                    "AWS_PROXY integration httpMethod must be POST"
                );
                log.step(|| "Execution failed due to configuration error: AWS_PROXY integration httpMethod must be POST".to_string());
                return super::internal_error();
            }
            let event = view.proxy_event(parts.as_deref());
            if log.is_on() {
                let endpoint = lambda::endpoint_uri(&fd.host, function, qualifier.as_deref());
                lambda::log_endpoint_request(log, &endpoint, view, &[], &event);
                log.step(|| format!("Sending request to {endpoint}"));
            }
            let call = lambda::ProxyCall {
                call: lambda::LambdaCall {
                    function,
                    qualifier: qualifier.as_deref(),
                    payload: &event,
                    timeout: *timeout,
                    request_id: view.ctx.request_id,
                    result_check: crate::host::ResultCheck::ByCaller,
                },
                accept: view.known_header_value(&axum::http::header::ACCEPT),
                binary_media_types: view.binary_media_types,
            };
            lambda::proxy(&fd.host, call, responses, view, log).await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Lazy, RequestView, log_pairs};
    use crate::frontdoor::proxy::CallerIdentity;
    use crate::frontdoor::respond::ResponseContext;
    use crate::vtl::ContextSource;

    /// `$context.identity.x` / `$context.authorizer.x` read piecewise give
    /// what the whole object has under that key, for every key and for
    /// keys it does not have.
    #[test]
    fn context_subfields_agree_with_their_objects() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::USER_AGENT, "curl/8".parse().expect("header"));
        let authorizer = BTreeMap::from([
            ("principalId".to_string(), "user-1".to_string()),
            ("scope".to_string(), "read".to_string()),
        ]);
        let stage_variables = BTreeMap::new();
        for authorizer in [None, Some(&authorizer)] {
            let ctx = ResponseContext {
                headers: &headers,
                raw_query: None,
                path_params: &[],
                stage_variables: &stage_variables,
                request_id: "r",
                extended_request_id: "e",
                api_id: "a",
                stage: "prod",
                resource_path: "/",
                resource_id: "root",
                path: "/",
                http_method: "GET",
                source_ip: "192.0.2.1",
                account_id: "000000000000",
                domain_name: "a.execute-api.localhost",
                trace_id: "",
                authorizer,
                validation_error_string: None,
                is_canary: false,
            };
            let view = RequestView {
                ctx: &ctx,
                body: &bytes::Bytes::new(),
                headers: &[],
                deployment_id: "d",
                request_time_epoch_ms: 0,
                binary_media_types: &[],
                identity: CallerIdentity {
                    api_key: Some("key"),
                    caller: Some("caller"),
                    ..CallerIdentity::default()
                },
                authorizer_event: None,
                lazy: Lazy::default(),
            };
            for name in ["identity", "authorizer"] {
                let whole = view.field(name).expect("field exists");
                let mut keys: Vec<String> = whole
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                keys.extend([
                    "nope".to_string(),
                    "principalId".to_string(),
                    "sourceIp".to_string(),
                ]);
                for key in keys {
                    let piece = view.subfield(name, &key).expect("answers piecewise");
                    assert_eq!(
                        piece.unwrap_or_default(),
                        whole.get(&key).cloned().unwrap_or_default(),
                        "{name}.{key}"
                    );
                }
            }
            assert_eq!(view.subfield("requestId", "x"), None);
        }
    }

    #[test]
    fn logged_credentials_keep_only_their_last_six_characters() {
        let pairs = [
            (
                "Authorization".to_string(),
                "Bearer secret-token-123456".to_string(),
            ),
            ("x-api-key".to_string(), "abc".to_string()),
            ("Accept".to_string(), "application/json".to_string()),
        ];
        assert_eq!(
            log_pairs(&pairs),
            "{Authorization=********************123456, x-api-key=abc, Accept=application/json}"
        );
    }
}
