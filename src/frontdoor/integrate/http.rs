//! HTTP backends: `HTTP_PROXY` end to end, and the client and header rules
//! the `HTTP` (non-proxy) integration shares.
//!
//! - [`HttpBackend`] is the front door's one pooled client (hyper 1 through
//!   hyper-util's legacy `Client`: keep-alive per host, `TCP_NODELAY`,
//!   rustls with compiled-in Mozilla roots for `https://`). [`HttpBackend::send`]
//!   runs one exchange under the integration's `timeoutInMillis` (connect,
//!   response headers and body together) and buffers the answer up to
//!   10 MB, as REST APIs do (they do not stream).
//! - [`HttpFailure`] says why an exchange failed; [`failure_response`] turns
//!   it into API Gateway's answer.
//! - [`sanitize_request_headers`] and [`remap_response_headers`] apply the
//!   header table of the API Gateway developer guide ("Amazon API Gateway
//!   important notes for REST APIs"): what is dropped, overwritten or
//!   renamed `x-amzn-Remapped-<name>` on the way to and from the backend.
//! - [`HttpProxyTarget`] is a compiled `HTTP_PROXY` integration and [`proxy`]
//!   runs it: the client's method (or the integration's), query string,
//!   headers and body go through, `requestParameters` add to them, and the
//!   upstream's status, headers and body come back.
//!
//! Failures, as API Gateway answers them:
//!
//! | What happened | Answer |
//! |---|---|
//! | `timeoutInMillis` elapsed (connect, headers or body) | 504 `{"message": "Endpoint request timed out"}`, INTEGRATION_TIMEOUT |
//! | No connection (refused, DNS, TLS handshake, invalid address) | 500 `Internal server error`, API_CONFIGURATION_ERROR ("Execution failed due to configuration error") |
//! | Connection reset, malformed response | 500 `Internal server error`, INTEGRATION_FAILURE (its status as the data plane answers it: 500) |
//! | Response body over 10 MB | 500 `Internal server error`, API_CONFIGURATION_ERROR |

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::mapping::{MappedRequest, RequestMapping};
use super::request::{IntegrationRequest, RequestFailure};
use super::response::{Answer, IntegrationResponses, NoMatch};
use super::{ExecutionLog, RequestView, log_pairs};
use crate::apigw::model::Integration;
use crate::frontdoor::compile::substitute;
use crate::frontdoor::respond::{GatewayResponseType, GatewayResponses, ResponseContext};

/// Largest response body API Gateway takes from an integration.
pub const MAX_RESPONSE_BODY: usize = 10 * 1024 * 1024;

/// How long an idle upstream connection stays in the pool.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// The front door's client for HTTP backends: one pool for every API.
pub struct HttpBackend {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// One request to a backend, fully built (method, absolute URL, headers, body).
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: Method,
    /// Absolute `http://` or `https://` URL, already percent-encoded.
    pub url: String,
    /// Sent as given, except `Content-Length`/`Transfer-Encoding` (the body
    /// decides them) and `Host` when absent (the URL's authority).
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A backend's complete answer (body buffered, at most [`MAX_RESPONSE_BODY`]).
#[derive(Debug, Clone)]
pub struct InboundResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why an exchange with a backend produced no usable answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpFailure {
    /// `timeoutInMillis` elapsed before the whole answer arrived.
    #[error("Endpoint request timed out")]
    Timeout,
    /// No connection: invalid address, DNS failure, refused, TLS handshake.
    #[error("endpoint unreachable: {0}")]
    Unreachable(String),
    /// Connected, but the exchange broke (reset, malformed response).
    #[error("network error communicating with endpoint: {0}")]
    BadResponse(String),
    /// The response body is larger than [`MAX_RESPONSE_BODY`].
    #[error("integration response is larger than {MAX_RESPONSE_BODY} bytes")]
    TooLarge,
}

impl Default for HttpBackend {
    fn default() -> Self {
        HttpBackend::new()
    }
}

impl HttpBackend {
    pub fn new() -> HttpBackend {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        // The HTTPS wrapper hands it https:// URIs too.
        tcp.enforce_http(false);
        // The integration timeout bounds the whole exchange, connect included.
        tcp.set_connect_timeout(None);
        // ring is the only rustls provider compiled in; its safe default
        // protocol versions always exist, so this cannot fail.
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("ring supports rustls' default protocol versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(tls);
        HttpBackend { client }
    }

    /// Runs one exchange; `timeout` covers connecting, the response headers
    /// and the whole body.
    pub async fn send(
        &self,
        req: OutboundRequest,
        timeout: Duration,
    ) -> Result<InboundResponse, HttpFailure> {
        let uri: Uri = req
            .url
            .parse()
            .map_err(|e| HttpFailure::Unreachable(format!("invalid endpoint address {}: {e}", req.url)))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(HttpFailure::Unreachable(format!(
                "invalid endpoint address {}",
                req.url
            )));
        }
        let empty = req.body.is_empty();
        let mut request = hyper::Request::new(Full::new(req.body));
        *request.method_mut() = req.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = req.headers;
        let sends_body = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH);
        let h = request.headers_mut();
        h.remove(header::CONTENT_LENGTH);
        h.remove(header::TRANSFER_ENCODING);
        // API Gateway says `Content-Length: 0` for an empty POST (hyper
        // would send no length at all).
        if empty && sends_body {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        let exchange = async {
            let resp = self.client.request(request).await.map_err(classify)?;
            let (parts, body) = resp.into_parts();
            let declared = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > MAX_RESPONSE_BODY as u64) {
                return Err(HttpFailure::TooLarge);
            }
            let body = Limited::new(body, MAX_RESPONSE_BODY)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                        HttpFailure::TooLarge
                    } else {
                        HttpFailure::BadResponse(error_chain(e.as_ref()))
                    }
                })?
                .to_bytes();
            Ok(InboundResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(HttpFailure::Timeout))
    }
}

fn classify(e: hyper_util::client::legacy::Error) -> HttpFailure {
    if e.is_connect() {
        HttpFailure::Unreachable(error_chain(&e))
    } else {
        HttpFailure::BadResponse(error_chain(&e))
    }
}

/// An error and its sources, for the log.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// API Gateway's answer to a failed exchange (see the module table).
pub fn failure_response(
    failure: &HttpFailure,
    responses: &GatewayResponses,
    ctx: &ResponseContext<'_>,
) -> Response {
    match failure {
        HttpFailure::Timeout => responses.render(GatewayResponseType::IntegrationTimeout, None, ctx),
        HttpFailure::Unreachable(why) => {
            tracing::warn!(api = ctx.api_id, request_id = ctx.request_id, error = %why, "Execution failed due to configuration error: endpoint unreachable");
            responses.render(GatewayResponseType::ApiConfigurationError, None, ctx)
        }
        HttpFailure::TooLarge => {
            tracing::warn!(
                api = ctx.api_id,
                request_id = ctx.request_id,
                "Execution failed due to configuration error: integration response larger than {MAX_RESPONSE_BODY} bytes"
            );
            responses.render(GatewayResponseType::ApiConfigurationError, None, ctx)
        }
        HttpFailure::BadResponse(why) => {
            tracing::warn!(api = ctx.api_id, request_id = ctx.request_id, error = %why, "Execution failed due to a network error communicating with endpoint");
            responses.render_with_status(GatewayResponseType::IntegrationFailure, 500, None, ctx)
        }
    }
}

// ------------------------------------------------------------------ headers

/// Which HTTP integration a header rule is for (the developer guide's table
/// has one column per type where they differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpIntegrationKind {
    Http,
    HttpProxy,
}

/// Hop-by-hop headers (RFC 9110 §7.6.1 and the RFC 2616 list proxies still
/// honour): never forwarded in either direction.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Request headers API Gateway drops before an HTTP backend (besides
/// hop-by-hop ones); `Host` becomes the upstream's.
const DROPPED_TO_BACKEND: &[&str] = &[
    "host",
    "content-length",
    "content-md5",
    "expect",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "via",
    "www-authenticate",
];

/// Mapped request headers an `HTTP` integration does not send (the
/// hop-by-hop ones, and what HTTP computes itself).
const MAPPED_BUT_NOT_SENT: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "expect",
    "proxy-authenticate",
    "content-length",
    "transfer-encoding",
];

/// Response headers API Gateway drops from an HTTP backend (besides
/// hop-by-hop ones).
const DROPPED_FROM_BACKEND: &[&str] = &["expect", "host", "proxy-authenticate"];

/// Response headers that come back as `x-amzn-Remapped-<name>`: the
/// developer guide's "Remapped" and "Remapped Overwritten" rows, plus
/// `Content-Length` and API Gateway's own `x-amzn-RequestId`, which a real
/// HTTP_PROXY call returns remapped (LocalStack's snapshot recorded on AWS).
const REMAPPED_FROM_BACKEND: &[&str] = &[
    "authorization",
    "connection",
    "content-length",
    "content-md5",
    "date",
    "max-forwards",
    "server",
    "user-agent",
    "www-authenticate",
    "x-amzn-requestid",
];

/// Names listed in `Connection` (they are hop-by-hop for this message).
fn connection_named(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Removes what API Gateway never sends to an HTTP backend: hop-by-hop
/// headers (and those named in `Connection`), `Host`, `Content-Length`
/// (recomputed from the body) and the developer guide's "Dropped" request
/// headers; for `HTTP_PROXY` also `Content-Encoding`. An `Authorization`
/// carrying a Signature Version 4 signature is dropped too (it was for API
/// Gateway, not the backend).
pub fn sanitize_request_headers(headers: &mut HeaderMap, kind: HttpIntegrationKind) {
    for name in connection_named(headers) {
        headers.remove(name.as_str());
    }
    for name in HOP_BY_HOP.iter().chain(DROPPED_TO_BACKEND) {
        headers.remove(*name);
    }
    if kind == HttpIntegrationKind::HttpProxy {
        headers.remove(header::CONTENT_ENCODING);
    }
    let sigv4 = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().starts_with(b"AWS4-HMAC-SHA256"));
    if sigv4 {
        headers.remove(header::AUTHORIZATION);
    }
}

/// A backend's response headers as the client sees them: hop-by-hop and
/// "Dropped" ones removed, the remapped ones renamed `x-amzn-Remapped-<name>`
/// (API Gateway sets its own `Date`, `Content-Length` and request id).
/// `HTTP` also drops `Accept`; `HTTP_PROXY` also drops `Via`.
pub fn remap_response_headers(headers: HeaderMap, kind: HttpIntegrationKind) -> HeaderMap {
    let also_dropped = match kind {
        HttpIntegrationKind::Http => "accept",
        HttpIntegrationKind::HttpProxy => "via",
    };
    remap_headers(headers, Some(also_dropped))
}

/// A Lambda proxy response's headers as the client sees them: the same
/// table as an HTTP backend's, so a function cannot set the framing of the
/// client's connection (`Content-Length: 1` comes back as
/// `x-amzn-Remapped-Content-Length`, `Transfer-Encoding` is dropped).
/// Built straight from the function's pairs (one map, not a map remapped
/// into another); pairs that are not a valid header are left out. `spare`
/// is room kept for the headers the gateway adds afterwards.
pub fn lambda_proxy_headers(pairs: Vec<(String, String)>, spare: usize) -> HeaderMap {
    let named: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k.eq_ignore_ascii_case("connection") && HeaderValue::from_str(v).is_ok())
        .flat_map(|(_, v)| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    let mut out = HeaderMap::with_capacity(pairs.len() + spare);
    for (k, v) in pairs {
        // What `HeaderValue::from_str` accepts (visible ASCII and tab), taken
        // over without a copy.
        let visible = v.bytes().all(|b| (b' '..0x7f).contains(&b) || b == b'\t');
        let value = visible.then(|| HeaderValue::from_maybe_shared(Bytes::from(v)));
        if let (Ok(name), Some(Ok(value))) = (HeaderName::from_bytes(k.as_bytes()), value) {
            append_remapped(&mut out, &name, value, &named, None);
        }
    }
    out
}

fn remap_headers(headers: HeaderMap, also_dropped: Option<&str>) -> HeaderMap {
    let named = connection_named(&headers);
    let mut out = HeaderMap::with_capacity(headers.len());
    let mut current: Option<HeaderName> = None;
    for (name, value) in headers {
        // `HeaderMap`'s iterator names only the first of repeated values.
        if let Some(n) = name {
            current = Some(n);
        }
        let Some(name) = current.as_ref() else { continue };
        append_remapped(&mut out, name, value, &named, also_dropped);
    }
    out
}

/// Appends one backend header to `out` under the name the client sees, or
/// not at all when it is dropped (`named`: the names listed in the
/// response's `Connection` header, lower case).
fn append_remapped(
    out: &mut HeaderMap,
    name: &HeaderName,
    value: HeaderValue,
    named: &[String],
    also_dropped: Option<&str>,
) {
    let n = name.as_str();
    if REMAPPED_FROM_BACKEND.contains(&n) {
        if let Ok(remapped) = HeaderName::from_bytes(format!("x-amzn-remapped-{n}").as_bytes()) {
            out.append(remapped, value);
        }
        return;
    }
    let dropped = HOP_BY_HOP.contains(&n)
        || DROPPED_FROM_BACKEND.contains(&n)
        || (named.iter().any(|c| c == n) && n != "connection")
        || also_dropped == Some(n);
    if !dropped {
        out.append(name.clone(), value);
    }
}

/// The trace id a request carries on: the client's, completed with a
/// `Parent` segment (and `Sampled=0`) when it has none, as AWS completes a
/// Root-only id (recorded: LocalStack's validated test_invocation_trace_id);
/// else a new one.
pub fn request_trace_id(sent: Option<&str>, epoch_secs: i64) -> std::borrow::Cow<'_, str> {
    let Some(s) = sent.filter(|s| s.starts_with("Root=")) else {
        return new_trace_id_at(epoch_secs).into();
    };
    let has = |field: &str| s.split(';').any(|f| f.trim_start().starts_with(field));
    if has("Parent=") {
        return s.into();
    }
    // Parent goes right after Root; a Sampled the client chose stays.
    let (root, rest) = s.split_once(';').unwrap_or((s, ""));
    let mut id = String::with_capacity(s.len() + 36);
    id.push_str(root);
    push_parent(&mut id, !has("Sampled="));
    for field in rest.split(';').filter(|f| !f.trim().is_empty()) {
        id.push(';');
        id.push_str(field);
    }
    id.into()
}

/// `;Parent=<16 hex digits>`, then `;Sampled=0` if asked.
fn push_parent(id: &mut String, sampled: bool) {
    push_parent_with(id, uuid::Uuid::new_v4().as_u128() as u64, sampled);
}

fn push_parent_with(id: &mut String, parent: u64, sampled: bool) {
    id.push_str(";Parent=");
    push_hex(id, parent, 16);
    if sampled {
        id.push_str(";Sampled=0");
    }
}

/// A new `X-Amzn-Trace-Id` value
/// (`Root=1-<epoch hex>-<24 random hex digits>;Parent=<16 hex digits>;Sampled=0`).
pub fn new_trace_id() -> String {
    new_trace_id_at(chrono::Utc::now().timestamp())
}

/// A new trace id for a request received at `epoch_secs`.
pub fn new_trace_id_at(epoch_secs: i64) -> String {
    let secs = u64::try_from(epoch_secs).unwrap_or(0);
    // The root's 96 random bits are a v4 UUID's top 96 (its fixed version
    // and variant bits among them; X-Ray asks only for 24 hex digits); the
    // parent's 64 come from a second one.
    let random = uuid::Uuid::new_v4().as_u128();
    let parent = uuid::Uuid::new_v4().as_u128() as u64;
    let mut id = *b"Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0";
    hex_into(&mut id[7..15], secs);
    hex_into(&mut id[16..24], (random >> 96) as u64);
    hex_into(&mut id[24..40], (random >> 32) as u64);
    hex_into(&mut id[48..64], parent);
    // Only ASCII was written.
    String::from_utf8(id.to_vec()).unwrap_or_default()
}

/// Appends the low `digits` (at most 16) hex digits of `value`, most
/// significant first.
pub fn push_hex(out: &mut String, value: u64, digits: u32) {
    let mut buf = [0u8; 16];
    hex_into(&mut buf, value);
    // Only ASCII hex digits were written.
    out.push_str(std::str::from_utf8(&buf[16 - digits.min(16) as usize..]).unwrap_or_default());
}

/// Fills `out` (at most 16 bytes) with the low lower-case hex digits of
/// `value`, most significant first.
fn hex_into(out: &mut [u8], value: u64) {
    let mut digits = [0u8; 16];
    digits[..8].copy_from_slice(&hex8((value >> 32) as u32));
    digits[8..].copy_from_slice(&hex8(value as u32));
    let n = out.len().min(16);
    out[..n].copy_from_slice(&digits[16 - n..]);
}

/// The eight hex digits of `v`, computed for all eight at once: each
/// nibble is spread into a byte of its own, then made ASCII.
fn hex8(v: u32) -> [u8; 8] {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte whose nibble is 10 or more (no carry crosses a byte).
    let letters = ((x + 6 * ONES) >> 4) & ONES;
    (x + u64::from(b'0') * ONES + letters * u64::from(b'a' - b'0' - 10)).to_be_bytes()
}

// --------------------------------------------------------------- HTTP_PROXY

/// Characters encoded in a value placed into the URL path: everything that
/// is not allowed there or would end it. `/` stays, as AWS keeps it for a
/// greedy `{proxy}` (an encoded `%2F` in the request reaches the backend as `/`).
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A query-string name or value: everything but unreserved characters.
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// AWS's whole description of an integration URI it cannot call (the
/// execution log's "Execution failed due to configuration error: ...").
const INVALID_ENDPOINT: &str = "Invalid endpoint address";

/// One piece of an integration URI.
#[derive(Debug, Clone, PartialEq)]
enum UriPart {
    Text(String),
    /// `{name}` in the path: filled from `integration.request.path.name`.
    PathParam(String),
    /// `{name}` after the `?`.
    QueryParam(String),
}

/// An integration URI with stage variables substituted and its `{name}`
/// placeholders located.
#[derive(Debug, Clone, PartialEq)]
struct UriTemplate {
    parts: Vec<UriPart>,
}

impl UriTemplate {
    fn parse(uri: &str) -> Result<UriTemplate, String> {
        let lower = uri.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(INVALID_ENDPOINT.to_string());
        }
        let mut parts = Vec::new();
        let mut rest = uri;
        let mut in_query = false;
        while let Some(open) = rest.find('{') {
            let Some(len) = rest[open..].find('}') else { break };
            let text = &rest[..open];
            in_query |= text.contains('?');
            if !text.is_empty() {
                parts.push(UriPart::Text(text.to_string()));
            }
            let name = rest[open + 1..open + len].trim_end_matches('+').to_string();
            parts.push(if in_query {
                UriPart::QueryParam(name)
            } else {
                UriPart::PathParam(name)
            });
            rest = &rest[open + len + 1..];
        }
        if !rest.is_empty() {
            parts.push(UriPart::Text(rest.to_string()));
        }
        let template = UriTemplate { parts };
        // Placeholders aside, the address must be a valid absolute URL.
        let probe = template.fill(|_| Some("x".to_string()))?;
        let parsed: Uri = probe.parse().map_err(|_| INVALID_ENDPOINT.to_string())?;
        if parsed.host().is_none_or(str::is_empty) {
            return Err(INVALID_ENDPOINT.to_string());
        }
        Ok(template)
    }

    fn fill(&self, value: impl Fn(&UriPart) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                UriPart::Text(t) => out.push_str(t),
                UriPart::PathParam(name) | UriPart::QueryParam(name) => out.push_str(
                    &value(part)
                        .ok_or_else(|| format!("no value mapped to {{{name}}} of the integration URI"))?,
                ),
            }
        }
        Ok(out)
    }

    /// The URI with each placeholder replaced by its mapped value (path
    /// values percent-decoded then re-encoded for a path, keeping `/`).
    fn render(&self, mapped: &MappedRequest) -> Result<String, String> {
        self.fill(|part| match part {
            UriPart::PathParam(name) => mapped.path_value(name).map(encode_path_value),
            UriPart::QueryParam(name) => mapped
                .path_value(name)
                .map(|v| utf8_percent_encode(v, QUERY_COMPONENT).to_string()),
            UriPart::Text(_) => None,
        })
    }
}

/// A mapped value placed in a URL path: decoded once (values from the
/// request path arrive percent-encoded), then encoded for a path with `/`
/// kept. `a%20b/c%2Fd` and `a b/c/d` both become `a%20b/c/d`.
pub fn encode_path_value(value: &str) -> String {
    let bytes: Vec<u8> = percent_decode_str(value).collect();
    percent_encoding::percent_encode(&bytes, PATH_VALUE).to_string()
}

/// A compiled `HTTP_PROXY` integration.
#[derive(Debug)]
pub struct HttpProxyTarget {
    uri: UriTemplate,
    /// None: `ANY`, the client's method.
    method: Option<Method>,
    mapping: RequestMapping,
    timeout: Duration,
}

impl HttpProxyTarget {
    /// From the stored integration and the stage's variables. An unset
    /// stage variable, an invalid address or mapping is an error: the
    /// method then answers 500.
    pub fn compile(i: &Integration, vars: &BTreeMap<String, String>) -> Result<HttpProxyTarget, String> {
        let raw = i.uri.as_deref().unwrap_or_default();
        let uri = substitute(raw, vars).ok_or_else(|| {
            // AWS substitutes nothing and finds no endpoint; its log says only this.
            tracing::debug!(uri = raw, "a stage variable of the integration URI is not set");
            INVALID_ENDPOINT.to_string()
        })?;
        let method = match i.http_method.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ANY") => None,
            Some(m) => Some(Method::from_bytes(m.as_bytes()).map_err(|_| format!("invalid httpMethod {m}"))?),
        };
        Ok(HttpProxyTarget {
            uri: UriTemplate::parse(&uri)?,
            method,
            mapping: RequestMapping::compile(&i.request_parameters, false).map_err(|e| e.0)?,
            timeout: Duration::from_millis(u64::from(i.timeout_in_millis.clamp(50, 29_000))),
        })
    }

    /// The request to send for one call: the integration's URL (placeholders
    /// filled) with the client's raw query string and mapped query
    /// parameters appended, the client's headers as API Gateway forwards
    /// them plus mapped ones, the body unchanged.
    pub fn outbound(&self, view: &RequestView<'_>, trace_id: &str) -> Result<OutboundRequest, String> {
        let mapped = self.mapping.apply(view).map_err(|e| e.0)?;
        let mut url = self.uri.render(&mapped)?;
        let mut query: Vec<String> = Vec::new();
        if let Some(q) = view.ctx.raw_query.filter(|q| !q.is_empty()) {
            query.push(q.to_string());
        }
        for (k, v) in &mapped.query {
            query.push(format!(
                "{}={}",
                utf8_percent_encode(k, QUERY_COMPONENT),
                utf8_percent_encode(v, QUERY_COMPONENT)
            ));
        }
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&query.join("&"));
        }
        let method = match &self.method {
            Some(m) => m.clone(),
            None => Method::from_bytes(view.ctx.http_method.as_bytes())
                .map_err(|_| format!("invalid method {}", view.ctx.http_method))?,
        };
        let mut headers = view.ctx.headers.clone();
        sanitize_request_headers(&mut headers, HttpIntegrationKind::HttpProxy);
        for name in ["x-amzn-trace-id", "x-amzn-apigateway-api-id"] {
            headers.remove(name);
        }
        // Mapped headers replace what the client sent under that name.
        for (name, _) in &mapped.headers {
            if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
                headers.remove(n);
            }
        }
        for (name, value) in &mapped.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(n, v);
            }
        }
        // The client's X-Forwarded-For (every line of it), then its address.
        let mut forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        forwarded.push(view.ctx.source_ip);
        let forwarded = forwarded.join(", ");
        for (name, value) in [
            ("x-forwarded-for", forwarded.as_str()),
            ("x-amzn-trace-id", trace_id),
            ("x-amzn-apigateway-api-id", view.ctx.api_id),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        Ok(OutboundRequest {
            method,
            url,
            headers,
            body: view.body.clone(),
        })
    }
}

/// `HTTP_PROXY`: one exchange with the upstream, whose status, headers
/// (remapped as API Gateway does) and body are the method response.
pub async fn proxy(
    backend: &HttpBackend,
    target: &Arc<HttpProxyTarget>,
    view: &RequestView<'_>,
    responses: &GatewayResponses,
) -> Response {
    let ctx = view.ctx;
    let trace_id = super::trace_id_of(ctx);
    let request = match target.outbound(view, &trace_id) {
        Ok(r) => r,
        Err(why) => {
            tracing::warn!(api = ctx.api_id, request_id = ctx.request_id, error = %why, "Execution failed due to configuration error");
            return responses.render(GatewayResponseType::ApiConfigurationError, None, ctx);
        }
    };
    match backend.send(request, target.timeout).await {
        Ok(answer) => into_response(answer, HttpIntegrationKind::HttpProxy),
        Err(failure) => failure_response(&failure, responses, ctx),
    }
}

/// A backend answer as the method response of a proxy integration.
fn into_response(answer: InboundResponse, kind: HttpIntegrationKind) -> Response {
    let mut headers = remap_response_headers(answer.headers, kind);
    // API Gateway gives every integration response a Content-Type.
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    // An HTTP_PROXY response carries the backend's headers only: no trace
    // id of API Gateway's own (recorded against AWS).
    let mut resp = Response::new(Body::from(answer.body));
    *resp.status_mut() = answer.status;
    *resp.headers_mut() = headers;
    resp
}

/// A compiled `HTTP` (non-proxy) integration: the request goes through
/// the integration request (mappings, template, passthrough) and the
/// answer through the integration responses, selected by status code.
pub struct HttpIntegration {
    uri: UriTemplate,
    /// None: `ANY`, the client's method.
    method: Option<Method>,
    pub request: IntegrationRequest,
    pub responses: IntegrationResponses,
    timeout: Duration,
}

impl HttpIntegration {
    pub fn compile(i: &Integration, vars: &BTreeMap<String, String>) -> Result<HttpIntegration, String> {
        let raw = i.uri.as_deref().unwrap_or_default();
        let uri = substitute(raw, vars).ok_or_else(|| {
            // AWS substitutes nothing and finds no endpoint; its log says only this.
            tracing::debug!(uri = raw, "a stage variable of the integration URI is not set");
            INVALID_ENDPOINT.to_string()
        })?;
        let method = match i.http_method.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ANY") => None,
            Some(m) => Some(Method::from_bytes(m.as_bytes()).map_err(|_| format!("invalid httpMethod {m}"))?),
        };
        Ok(HttpIntegration {
            uri: UriTemplate::parse(&uri)?,
            method,
            request: IntegrationRequest::compile(i, false).map_err(|e| e.0)?,
            responses: IntegrationResponses::compile(&i.integration_responses).map_err(|e| e.0)?,
            timeout: Duration::from_millis(u64::from(i.timeout_in_millis.clamp(50, 29_000))),
        })
    }
}

/// `HTTP`: only mapped parameters reach the backend (the client's query
/// string and headers do not), with the template's output as the body;
/// only mapped headers come back.
pub async fn mapped(
    backend: &HttpBackend,
    target: &HttpIntegration,
    view: &RequestView<'_>,
    responses: &GatewayResponses,
    log: &mut ExecutionLog,
) -> Response {
    let ctx = view.ctx;
    let prepared = match target.request.prepare(view, view.binary_media_types, log) {
        Ok(p) => p,
        Err(RequestFailure::UnsupportedMediaType) => {
            return responses.render(GatewayResponseType::UnsupportedMediaType, None, ctx);
        }
        Err(RequestFailure::Configuration(why)) => {
            tracing::warn!(api = ctx.api_id, error = %why, "integration request failed");
            return responses.render(GatewayResponseType::ApiConfigurationError, None, ctx);
        }
    };
    let mapped = MappedRequest {
        headers: Vec::new(),
        query: Vec::new(),
        path: prepared.path.clone(),
    };
    let mut url = match target.uri.render(&mapped) {
        Ok(u) => u,
        Err(why) => {
            tracing::warn!(api = ctx.api_id, error = %why, "Execution failed due to configuration error");
            log.step(|| format!("Execution failed due to configuration error: {why}"));
            return responses.render(GatewayResponseType::ApiConfigurationError, None, ctx);
        }
    };
    if !prepared.query.is_empty() {
        let query: Vec<String> = prepared
            .query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, QUERY_COMPONENT),
                    utf8_percent_encode(v, QUERY_COMPONENT)
                )
            })
            .collect();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.join("&"));
    }
    let method = match &target.method {
        Some(m) => m.clone(),
        None => match Method::from_bytes(ctx.http_method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return responses.render(GatewayResponseType::ApiConfigurationError, None, ctx),
        },
    };
    let trace_id = super::trace_id_of(ctx).into_owned();
    let mut headers = HeaderMap::new();
    for (name, value) in &prepared.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    // Only mapped headers are here, and API Gateway sends nearly all of
    // them as mapped (Host, User-Agent, Upgrade, ... included): recorded
    // against AWS in LocalStack's TestApiGatewayHeaderRemapping snapshot.
    for name in MAPPED_BUT_NOT_SENT {
        headers.remove(*name);
    }
    if !headers.contains_key(header::ACCEPT) {
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    }
    if !headers.contains_key(header::USER_AGENT)
        && let Ok(v) = HeaderValue::from_str(&format!("AmazonAPIGateway_{}", ctx.api_id))
    {
        headers.insert(header::USER_AGENT, v);
    }
    if !headers.contains_key(header::CONTENT_TYPE) && !prepared.body.is_empty() {
        let ct = view
            .known_header_value(&axum::http::header::CONTENT_TYPE)
            .unwrap_or("application/json");
        if let Ok(v) = HeaderValue::from_str(ct) {
            headers.insert(header::CONTENT_TYPE, v);
        }
    }
    for (name, value) in [
        ("x-amzn-trace-id", trace_id.clone()),
        ("x-amzn-apigateway-api-id", ctx.api_id.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    log.step(|| format!("Endpoint request URI: {url}"));
    log.step(|| {
        let pairs = super::header_pairs(&headers);
        format!("Endpoint request headers: {}", log_pairs(&pairs))
    });
    log.step(|| {
        format!(
            "Endpoint request body after transformations: {}",
            String::from_utf8_lossy(&prepared.body)
        )
    });
    log.step(|| format!("Sending request to {url}"));
    let started = std::time::Instant::now();
    let request = OutboundRequest {
        method,
        url,
        headers,
        body: Bytes::from(prepared.body),
    };
    let answer = match backend.send(request, target.timeout).await {
        Ok(a) => a,
        Err(failure) => {
            log.step(|| format!("Execution failed: {failure}"));
            return failure_response(&failure, responses, ctx);
        }
    };
    let status = answer.status.as_u16().to_string();
    log.step(|| {
        format!(
            "Received response. Status: {status}, Integration latency: {} ms",
            started.elapsed().as_millis()
        )
    });
    let pairs = super::header_pairs(&answer.headers);
    log.step(|| format!("Endpoint response headers: {}", log_pairs(&pairs)));
    log.step(|| {
        format!(
            "Endpoint response body before transformations: {}",
            String::from_utf8_lossy(&answer.body)
        )
    });
    let binary = answer
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| crate::frontdoor::proxy::is_binary(ct, view.binary_media_types));
    let reply = Answer {
        selector: Some(&status),
        headers: &pairs,
        body: &answer.body,
        read_body: None,
        binary,
    };
    match target
        .responses
        .respond(&reply, view, view.binary_media_types, log)
    {
        Ok(mut r) => {
            if let Ok(v) = HeaderValue::from_str(&trace_id) {
                r.headers_mut().insert("x-amzn-trace-id", v);
            }
            r
        }
        Err(NoMatch) => responses.render(GatewayResponseType::ApiConfigurationError, None, ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn names(h: &HeaderMap) -> Vec<String> {
        let mut n: Vec<String> = h.keys().map(|k| k.to_string()).collect();
        n.sort();
        n
    }

    #[test]
    fn request_headers_lose_hop_by_hop_and_dropped_ones() {
        let mut h = headers(&[
            ("host", "api.example"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", "h2c"),
            ("content-length", "3"),
            ("content-encoding", "gzip"),
            ("expect", "100-continue"),
            ("via", "1.1 cdn"),
            ("accept", "text/plain"),
            ("authorization", "Bearer t"),
            ("x-custom", "a"),
            ("x-custom", "b"),
        ]);
        sanitize_request_headers(&mut h, HttpIntegrationKind::HttpProxy);
        assert_eq!(names(&h), ["accept", "authorization", "x-custom"]);
        assert_eq!(h.get_all("x-custom").iter().count(), 2);

        let mut h = headers(&[
            ("content-encoding", "gzip"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=x"),
        ]);
        sanitize_request_headers(&mut h, HttpIntegrationKind::Http);
        assert_eq!(names(&h), ["content-encoding"]);
    }

    #[test]
    fn response_headers_are_remapped_or_dropped() {
        let h = headers(&[
            ("date", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("server", "nginx"),
            ("content-length", "12"),
            ("connection", "keep-alive"),
            ("www-authenticate", "Basic"),
            ("x-amzn-requestid", "upstream-id"),
            ("transfer-encoding", "chunked"),
            ("via", "1.1 x"),
            ("accept", "a/b"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
            ("content-type", "text/plain"),
        ]);
        let out = remap_response_headers(h.clone(), HttpIntegrationKind::HttpProxy);
        assert_eq!(
            names(&out),
            [
                "accept",
                "content-type",
                "set-cookie",
                "x-amzn-remapped-connection",
                "x-amzn-remapped-content-length",
                "x-amzn-remapped-date",
                "x-amzn-remapped-server",
                "x-amzn-remapped-www-authenticate",
                "x-amzn-remapped-x-amzn-requestid",
            ]
        );
        assert_eq!(out.get_all("set-cookie").iter().count(), 2);
        assert_eq!(out["x-amzn-remapped-server"], "nginx");
        let out = remap_response_headers(h, HttpIntegrationKind::Http);
        assert!(out.contains_key("via") && !out.contains_key("accept"));
    }

    #[test]
    fn path_values_keep_slashes_and_are_encoded_once() {
        assert_eq!(encode_path_value("a b/c"), "a%20b/c");
        assert_eq!(encode_path_value("a%20b/c%2Fd"), "a%20b/c/d");
        assert_eq!(encode_path_value("caf%C3%A9/x?y#z"), "caf%C3%A9/x%3Fy%23z");
        assert_eq!(encode_path_value("100%"), "100%25");
        assert_eq!(encode_path_value("%FF"), "%FF");
    }

    #[test]
    fn uri_templates() {
        let t = UriTemplate::parse("http://127.0.0.1:9/base/{proxy}?fixed=1&id={id}").unwrap();
        let mapped = MappedRequest {
            path: vec![("proxy".into(), "a%20b/c".into()), ("id".into(), "x y&z".into())],
            ..Default::default()
        };
        assert_eq!(
            t.render(&mapped).unwrap(),
            "http://127.0.0.1:9/base/a%20b/c?fixed=1&id=x%20y%26z"
        );
        assert!(t.render(&MappedRequest::default()).is_err());
        assert!(UriTemplate::parse("ftp://x/").is_err());
        assert!(UriTemplate::parse("http:///nohost").is_err());
        let t = UriTemplate::parse("https://example.com/{proxy+}").unwrap();
        assert_eq!(t.parts[1], UriPart::PathParam("proxy".into()));
    }

    #[test]
    fn trace_ids_look_like_aws() {
        let t = new_trace_id();
        let (root, rest) = t.split_once(';').unwrap();
        let (parent, sampled) = rest.split_once(';').unwrap();
        assert_eq!(sampled, "Sampled=0");
        let parent = parent.strip_prefix("Parent=").unwrap();
        assert!(
            parent.len() == 16 && parent.bytes().all(|b| b.is_ascii_hexdigit()),
            "{parent}"
        );
        let parts: Vec<&str> = root.trim_start_matches("Root=").split('-').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!((parts[0], parts[1].len(), parts[2].len()), ("1", 8, 24));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(u64::from_str_radix(parts[1], 16).unwrap()) < 5);
        assert!(
            parts[2]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(new_trace_id(), t);
        let mut hex = String::from("x");
        push_hex(&mut hex, 0xabc, 5);
        push_hex(&mut hex, u64::MAX, 16);
        push_hex(&mut hex, 0x1234_5678_9abc_def0, 8);
        assert_eq!(hex, format!("x00abc{}9abcdef0", "f".repeat(16)));
        let mut v: u64 = 0x0123_4567_89ab_cdef;
        for _ in 0..1000 {
            let mut hex = String::new();
            push_hex(&mut hex, v, 16);
            assert_eq!(hex, format!("{v:016x}"));
            v = v.wrapping_mul(0x2545_f491_4f6c_dd1d).wrapping_add(1);
        }
    }

    #[test]
    fn a_sent_trace_id_is_kept_and_completed() {
        let full = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1";
        assert_eq!(request_trace_id(Some(full), 0), full);
        let small = "Root=1-3152b799-8954dae64eda91bc9a23a7e8";
        let completed = request_trace_id(Some(small), 0);
        assert!(
            completed.starts_with("Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent="),
            "{completed}"
        );
        assert!(completed.ends_with(";Sampled=0"), "{completed}");
        let sampled = request_trace_id(Some("Root=1-3152b799-8954dae64eda91bc9a23a7e8;Sampled=1"), 0);
        assert!(
            sampled.ends_with(";Sampled=1") && sampled.matches("Sampled").count() == 1,
            "{sampled}"
        );
        assert!(sampled.contains(";Parent="), "{sampled}");
        let spaced = "Root=1-3152b799-8954dae64eda91bc9a23a7e8; Parent=7fa8c0f79203be72";
        assert_eq!(request_trace_id(Some(spaced), 0), spaced);
        assert!(request_trace_id(Some("garbage"), 0).starts_with("Root=1-"));
        assert!(request_trace_id(None, 0).contains(";Parent="));
    }
}
