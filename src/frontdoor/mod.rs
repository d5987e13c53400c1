//! The front door: the listener for API traffic (`--listen`). A request
//! travels top to bottom: resolve the API and stage from the invoke URL
//! ([`resolve_target`], after removing dot segments), route it in the
//! stage's compiled deployment ([`route`]), decide who may call it
//! ([`authorize`]: resource policy, IAM, Lambda authorizers, API keys and
//! usage plans), check the request against the method's validator and
//! models ([`validate`]), run the integration ([`integrate`]: Lambda proxy
//! or non-proxy through the function host, HTTP_PROXY through the pooled
//! HTTP client, or MOCK) and map the response. Every refusal is one of the
//! deployment's gateway responses ([`respond`]); a miss is 403
//! `{"message":"Missing Authentication Token"}`.
//!
//! The hot path reads the compiled stages through one atomic pointer
//! ([`FrontDoor::apis`]); the management side swaps in a new map after each
//! change, so a stage moves to another deployment for the next request
//! without locks and without failing requests in flight.

pub mod authorize;
pub mod compile;
pub mod integrate;
pub mod listener;
pub mod proxy;
pub mod respond;
pub mod route;
pub mod test_invoke;
pub mod validate;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;

use crate::apigw::model::RestApi;
use crate::host::Host;
use crate::iam::IamService;
use crate::usage::UsageService;
use authorize::AccessControl;
use compile::{CompiledDeployment, CompiledStage};
use respond::{GatewayResponseType, GatewayResponses, ResponseContext};

/// Largest request body API Gateway accepts.
const MAX_BODY: usize = 10 * 1024 * 1024;

/// One API's deployed stages.
pub struct ApiRuntime {
    stages: foldhash::HashMap<String, DeployedStage>,
}

/// What one stage serves: its deployment, and a canary release's share of
/// the traffic when it has one.
struct DeployedStage {
    main: Arc<CompiledStage>,
    canary: Option<Canary>,
}

struct Canary {
    /// Share of requests the canary takes, 0.0 to 100.0.
    percent_traffic: f64,
    stage: Arc<CompiledStage>,
}

impl DeployedStage {
    /// The side that serves this request: the canary for its share of
    /// requests, chosen at random per request as API Gateway does.
    fn pick(&self) -> &Arc<CompiledStage> {
        match &self.canary {
            Some(c) if c.percent_traffic >= 100.0 => &c.stage,
            Some(c) if c.percent_traffic > 0.0 => {
                // The top 53 bits of a v4 UUID (the version nibble among
                // them: plenty of randomness for a traffic split) as a
                // fraction in [0, 1).
                let draw = (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64;
                if draw * 100.0 < c.percent_traffic {
                    &c.stage
                } else {
                    &self.main
                }
            }
            _ => &self.main,
        }
    }
}

/// The data plane's view of every deployed API.
pub struct FrontDoor {
    apis: ArcSwap<foldhash::HashMap<String, Arc<ApiRuntime>>>,
    host: Arc<Host>,
    pub access: AccessControl,
    /// The one pooled client for HTTP backends.
    pub http: integrate::http::HttpBackend,
}

impl FrontDoor {
    pub fn new(host: Arc<Host>, region: &str, account: &str, iam: Arc<IamService>) -> FrontDoor {
        FrontDoor {
            apis: ArcSwap::from_pointee(foldhash::HashMap::default()),
            access: AccessControl {
                host: host.clone(),
                iam,
                usage: Default::default(),
                cache: Default::default(),
                region: region.to_string(),
                account: account.to_string(),
                authorizer_invocations: Default::default(),
            },
            host,
            http: integrate::http::HttpBackend::new(),
        }
    }

    /// Compiles every stage of `api` and publishes them. Deployments already
    /// compiled for this API are reused.
    pub fn install(&self, api: &RestApi) {
        let mut compiled: HashMap<&str, Arc<CompiledDeployment>> = HashMap::new();
        let scope = compile::Scope {
            region: &self.access.region,
            account: &self.access.account,
            api_id: &api.id,
        };
        let mut compile = |deployment_id: &str| -> Option<Arc<CompiledDeployment>> {
            let d = api.deployments.get(deployment_id)?;
            if let Some(c) = compiled.get(d.id.as_str()) {
                return Some(c.clone());
            }
            match compile::compile_deployment(d, &scope) {
                Ok(c) => {
                    let c = Arc::new(c);
                    compiled.insert(d.id.as_str(), c.clone());
                    Some(c)
                }
                Err(e) => {
                    tracing::error!(api = %api.id, deployment = %d.id, error = %e, "deployment cannot be compiled");
                    None
                }
            }
        };
        let mut stages = foldhash::HashMap::default();
        for stage in api.stages.values() {
            let Some(dep) = compile(&stage.deployment_id) else {
                continue;
            };
            let canary = stage.canary_settings.as_ref().and_then(|c| {
                Some(Canary {
                    percent_traffic: c.percent_traffic,
                    stage: Arc::new(compile::compile_canary(stage, compile(&c.deployment_id)?)),
                })
            });
            stages.insert(
                stage.stage_name.clone(),
                DeployedStage {
                    main: Arc::new(compile::compile_stage(stage, dep)),
                    canary,
                },
            );
        }
        let runtime = Arc::new(ApiRuntime { stages });
        self.apis.rcu(|current| {
            let mut next = foldhash::HashMap::clone(current);
            next.insert(api.id.clone(), runtime.clone());
            next
        });
    }

    pub fn remove(&self, api_id: &str) {
        self.apis.rcu(|current| {
            let mut next = foldhash::HashMap::clone(current);
            next.remove(api_id);
            next
        });
    }

    /// Connects the usage plans (built after the front door, since they
    /// validate API stages through the management side).
    pub fn set_usage(&self, usage: Arc<UsageService>) {
        let _ = self.access.usage.set(usage);
    }

    fn stage(&self, api_id: &str, stage: &str) -> Option<Arc<CompiledStage>> {
        self.apis
            .load()
            .get(api_id)?
            .stages
            .get(stage)
            .map(|s| s.pick().clone())
    }
}

/// Where a request is going: API, stage and the path after the stage.
#[derive(Debug, PartialEq)]
pub struct InvokeTarget<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    pub path: &'a str,
}

/// Resolves both invoke URL forms: `{apiId}.execute-api.localhost/{stage}/{path}`
/// and `/restapis/{apiId}/{stage}/_user_request_/{path}`.
pub fn resolve_target<'a>(host: Option<&'a str>, raw_path: &'a str) -> Option<InvokeTarget<'a>> {
    if let Some(rest) = raw_path.strip_prefix("/restapis/") {
        let (api_id, rest) = split_at_slash(rest)?;
        let (stage, rest) = split_at_slash(rest)?;
        let path = rest.strip_prefix("_user_request_")?;
        let path = if path.is_empty() { "/" } else { path };
        if !path.starts_with('/') {
            return None;
        }
        return Some(InvokeTarget { api_id, stage, path });
    }
    let host = host?.split(':').next()?;
    let api_id = host.strip_suffix(".execute-api.localhost")?;
    if api_id.is_empty() || api_id.contains('.') {
        return None;
    }
    // `//stage/...` reaches the stage as AWS's front end collapses the
    // slashes before it.
    let rest = raw_path.strip_prefix('/')?.trim_start_matches('/');
    let (stage, path) = match rest.bytes().position(|b| b == b'/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if stage.is_empty() {
        return None;
    }
    Some(InvokeTarget { api_id, stage, path })
}

/// `s` split around its first `/`. A byte loop: these are a few short
/// segments, which `split_once`'s searcher costs more to set up for.
fn split_at_slash(s: &str) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == b'/')?;
    // `/` is ASCII, so both sides are on character boundaries.
    Some((&s[..i], &s[i + 1..]))
}

/// API Gateway's answer to a request that matches no API, stage or route
/// (before any deployment's gateway responses apply).
pub fn missing_authentication_token() -> Response {
    GatewayResponses::default().render(
        GatewayResponseType::MissingAuthenticationToken,
        None,
        &ResponseContext::default(),
    )
}

fn extended_request_id() -> String {
    // Eleven random bytes in the URL-safe alphabet: fifteen characters and
    // one `=`, the shape of AWS's ids (`LV7fzho-PHcEJPw=`).
    extended_id_of(uuid::Uuid::new_v4().as_u128() >> 40)
}

/// The low 88 bits of `bits` (eleven bytes) as unpadded-then-`=` URL-safe
/// base64, as `base64`'s URL_SAFE engine writes them; by hand, as the
/// engine's setup cost more than the sixteen characters.
fn extended_id_of(bits: u128) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // 88 bits and two zero bits: fifteen sextets.
    let bits = (bits & ((1 << 88) - 1)) << 2;
    let mut text = [b'='; 16];
    for (i, c) in text[..15].iter_mut().enumerate() {
        *c = ALPHABET[((bits >> (6 * (14 - i))) & 63) as usize];
    }
    // Base64 is ASCII.
    String::from_utf8(text.to_vec()).unwrap_or_default()
}

/// Removes `.` and `..` segments (RFC 3986 §5.2.4), also when written
/// `%2e`, so that routing and authorization see the path a browser or a
/// CDN would: `/prod/public/../admin` is `/prod/admin`. `..` never climbs
/// above the root.
pub fn remove_dot_segments(path: &str) -> std::borrow::Cow<'_, str> {
    fn is_dot(seg: &str) -> bool {
        seg == "." || seg.eq_ignore_ascii_case("%2e")
    }
    fn is_dot_dot(seg: &str) -> bool {
        ["..", ".%2e", "%2e.", "%2e%2e"]
            .iter()
            .any(|d| seg.eq_ignore_ascii_case(d))
    }
    // Most paths have no `.` or `%` at all: no segment to look at.
    if memchr::memchr2(b'.', b'%', path.as_bytes()).is_none()
        || !path.split('/').any(|s| is_dot(s) || is_dot_dot(s))
    {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        if is_dot(seg) {
            if i == last {
                out.push("");
            }
        } else if is_dot_dot(seg) {
            out.pop();
            if i == last {
                out.push("");
            }
        } else {
            out.push(seg);
        }
    }
    std::borrow::Cow::Owned(format!("/{}", out.join("/")))
}

/// The front door as `axum::serve` takes it: a [`ConnectionService`] for
/// each accepted connection. There is no `Router` in front of [`handle`]:
/// every path is the front door's, and a router's per-request work (the
/// original URI and the connect info copied into the request's extensions,
/// a boxed service cloned, the route looked up) came to about 5 % of a
/// warm Lambda proxy request's instructions.
#[derive(Clone)]
pub struct FrontDoorService(Arc<FrontDoor>);

impl FrontDoorService {
    pub fn new(fd: Arc<FrontDoor>) -> FrontDoorService {
        FrontDoorService(fd)
    }
}

impl<'a> tower_service::Service<IncomingStream<'a, listener::ThreadListener>> for FrontDoorService {
    type Response = ConnectionService;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<ConnectionService, std::convert::Infallible>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, stream: IncomingStream<'a, listener::ThreadListener>) -> Self::Future {
        std::future::ready(Ok(ConnectionService {
            fd: self.0.clone(),
            conn: Arc::new(listener::ClientConn::of(&stream)),
        }))
    }
}

/// Serves the requests of one connection.
#[derive(Clone)]
pub struct ConnectionService {
    fd: Arc<FrontDoor>,
    conn: Arc<listener::ClientConn>,
}

impl tower_service::Service<Request> for ConnectionService {
    type Response = Response;
    type Error = std::convert::Infallible;
    // Boxed: the request's whole state machine is large, and the layers
    // above would otherwise move it by value.
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        Box::pin(handle(self.fd.clone(), self.conn.clone(), req))
    }
}

/// The front door's request handler. It owns its arguments and answers
/// the service's `Result` itself: a wrapping `async` block would keep a
/// second copy of the request in the future, which is copied whole into its
/// box for every request.
async fn handle(
    fd: Arc<FrontDoor>,
    conn: Arc<listener::ClientConn>,
    req: Request,
) -> Result<Response, std::convert::Infallible> {
    // Taken for every request, answered or not, to stay in step with the
    // connection's requests.
    let names = conn.take_names();
    static REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
    static EXTENDED_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");
    let request_id = String::from(
        uuid::Uuid::new_v4()
            .hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer()),
    );
    let extended_id = extended_request_id();
    let mut resp = serve(
        &fd,
        conn.peer,
        &conn.source_ip,
        names.as_deref(),
        req,
        &request_id,
        &extended_id,
    )
    .await;
    let h = resp.headers_mut();
    // The ids become the header values without a copy (each is exactly as
    // long as its allocation, so `Bytes` takes it over as it is).
    if let Ok(v) = HeaderValue::from_maybe_shared(bytes::Bytes::from(request_id)) {
        h.insert(REQUEST_ID.clone(), v);
    }
    if let Ok(v) = HeaderValue::from_maybe_shared(bytes::Bytes::from(extended_id)) {
        h.insert(EXTENDED_ID.clone(), v);
    }
    Ok(resp)
}

async fn serve(
    fd: &FrontDoor,
    peer: SocketAddr,
    source_ip: &str,
    names_as_sent: Option<&[String]>,
    req: Request,
    request_id: &str,
    extended_id: &str,
) -> Response {
    let (parts, body) = req.into_parts();
    let host_header = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let raw_path = parts.uri.path();
    let path = remove_dot_segments(raw_path);
    let Some(target) = resolve_target(host_header, &path) else {
        return missing_authentication_token();
    };
    let Some(stage) = fd.stage(target.api_id, target.stage) else {
        return missing_authentication_token();
    };
    let method = parts.method.as_str();
    let domain = host_header.unwrap_or_default();
    // X-Ray: the client's trace id when it sent one, else a new one; the
    // method request carries it, and so does a backend's response.
    static TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");
    let request_time_epoch_ms = chrono::Utc::now().timestamp_millis();
    let trace_id = integrate::http::request_trace_id(
        parts.headers.get(&TRACE_ID).and_then(|v| v.to_str().ok()),
        request_time_epoch_ms.div_euclid(1000),
    );
    let matched = stage.deployment.routes.lookup(method, target.path);
    let path_params = matched
        .as_ref()
        .map(|m| m.path_params.as_slice())
        .unwrap_or_default();
    let mut ctx = ResponseContext {
        headers: &parts.headers,
        raw_query: parts.uri.query(),
        path_params,
        stage_variables: &stage.variables,
        request_id,
        extended_request_id: extended_id,
        api_id: target.api_id,
        stage: target.stage,
        resource_path: matched.as_ref().map_or("", |m| m.resource_path),
        resource_id: matched.as_ref().map_or("", |m| m.resource_id),
        path: target.path,
        http_method: method,
        source_ip,
        account_id: &fd.access.account,
        domain_name: domain,
        trace_id: &trace_id,
        authorizer: None,
        validation_error_string: None,
        is_canary: stage.is_canary,
    };
    let responses = &stage.deployment.responses;
    let Some(matched) = matched.as_ref() else {
        return responses.render(GatewayResponseType::MissingAuthenticationToken, None, &ctx);
    };
    let Some(plan) = stage.method(matched.resource_id, matched.method) else {
        return responses.render(GatewayResponseType::ApiConfigurationError, None, &ctx);
    };
    // Most requests (every GET) have no body: nothing to collect.
    let body = if axum::body::HttpBody::is_end_stream(&body) {
        Ok(bytes::Bytes::new())
    } else {
        to_bytes(body, MAX_BODY).await
    };
    let body = match body {
        Ok(b) => b,
        Err(e) if is_length_limit(&e) => {
            return responses.render(
                GatewayResponseType::RequestTooLarge,
                Some("HTTP content length exceeded 10485760 bytes."),
                &ctx,
            );
        }
        // Broken framing (a bad chunk size, a body shorter than its
        // Content-Length before the client went away): the client's fault,
        // and the connection is closed after this answer.
        Err(_) => return gateway_error(StatusCode::BAD_REQUEST, "BadRequestException", "Bad Request"),
    };
    let headers = integrate::header_pairs_as_sent(&parts.headers, names_as_sent);
    // Access control, in a block of its own: what it reads is dead before
    // the integration runs, so the request's future (copied whole into its
    // box for every request) does not carry it there.
    let granted = {
        let facts = authorize::RequestFacts {
            api_id: target.api_id,
            stage: target.stage,
            method,
            path: target.path,
            resource_path: matched.resource_path,
            route_method: matched.method,
            raw_path,
            raw_query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
            source_ip: peer.ip(),
            stage_variables: &stage.variables,
            request_id,
            api_key_source_authorizer: stage.deployment.api_key_source_authorizer,
            resource_policy: stage.deployment.policy.as_ref(),
        };
        if authorize::is_open(&plan.access, &facts) {
            authorize::Granted::default()
        } else {
            // The REQUEST authorizer's event: the proxy event without a body.
            let request_event = || {
                proxy::build_event(&proxy::ProxyRequest {
                    method,
                    raw_path: target.path,
                    raw_query: parts.uri.query(),
                    headers: &headers,
                    body: &body,
                    source_ip,
                    resource_id: matched.resource_id,
                    resource_path: matched.resource_path,
                    path_params: &matched.path_params,
                    stage: target.stage,
                    stage_variables: &stage.variables,
                    deployment_id: &stage.deployment.id,
                    api_id: target.api_id,
                    account_id: &fd.access.account,
                    request_id,
                    extended_request_id: extended_id,
                    domain_name: domain,
                    trace_id: &trace_id,
                    request_time_epoch_ms,
                    binary_media_types: &stage.deployment.binary_media_types,
                    authorizer: None,
                    identity: proxy::CallerIdentity::default(),
                    parts: None,
                })
            };
            // Boxed, and only when there is something to decide: a Lambda
            // authorizer's invocation is a large state machine, which open
            // methods should not carry (and copy) with every request.
            match Box::pin(fd.access.check(&plan.access, &facts, request_event)).await {
                Ok(g) => g,
                Err(denied) => return deny(responses, &denied, &ctx),
            }
        }
    };
    ctx.authorizer = granted.authorizer_context();
    if let Some(limiter) = &plan.throttle
        && limiter.check().is_err()
    {
        return responses.render(GatewayResponseType::Throttled, None, &ctx);
    }
    if let Some(validation) = &plan.validation
        && let Err(rejected) = validation.check(&validate::Request {
            headers: &parts.headers,
            raw_query: parts.uri.query(),
            path_params: &matched.path_params,
            body: &body,
        })
    {
        let ctx = ResponseContext {
            validation_error_string: Some(rejected.validation_error_string()),
            ..ctx
        };
        return responses.render(rejected.response_type(), Some(rejected.message()), &ctx);
    }
    let identity = proxy::CallerIdentity {
        account_id: granted.caller.as_ref().map(|_| fd.access.account.as_str()),
        caller: granted.caller.as_ref().map(|c| c.user.as_str()),
        access_key: granted.caller.as_ref().map(|c| c.access_key.as_str()),
        user_arn: granted.caller.as_ref().map(|c| c.user_arn.as_str()),
        user: granted.caller.as_ref().map(|c| c.user.as_str()),
        api_key: granted.api_key.as_ref().map(|k| k.value.as_str()),
        api_key_id: granted.api_key.as_ref().map(|k| k.id.as_str()),
    };
    let authorizer_event = granted.authorizer_event();
    let view = integrate::RequestView {
        ctx: &ctx,
        body: &body,
        headers: &headers,
        deployment_id: &stage.deployment.id,
        request_time_epoch_ms,
        binary_media_types: &stage.deployment.binary_media_types,
        identity,
        authorizer_event: authorizer_event.as_deref(),
        lazy: integrate::Lazy::default(),
    };
    integrate::run(
        fd,
        &plan.target,
        &view,
        responses,
        &mut integrate::ExecutionLog::off(),
    )
    .await
}

/// Whether reading a body failed on the size limit (rather than on its framing).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Renders an access-control refusal.
fn deny(responses: &GatewayResponses, denied: &authorize::Denied, ctx: &ResponseContext<'_>) -> Response {
    if denied.capitalised && !responses.is_customised(denied.kind) {
        // IAM and resource-policy denials: `{"Message": ...}`.
        let body =
            serde_json::json!({ "Message": denied.message.as_deref().unwrap_or_default() }).to_string();
        let mut resp = (
            StatusCode::FORBIDDEN,
            [("content-type", "application/json")],
            body,
        )
            .into_response();
        resp.headers_mut().insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static("AccessDeniedException"),
        );
        return resp;
    }
    let mut resp = responses.render(denied.kind, denied.message.as_deref(), ctx);
    if let Some(t) = denied.error_type {
        resp.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(t));
    }
    resp
}

/// An API Gateway error outside the gateway-response types (integration
/// faults answered as Lambda proxy answers them).
pub(crate) fn gateway_error(status: StatusCode, error_type: &'static str, message: &str) -> Response {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut resp = (status, [("content-type", "application/json")], body).into_response();
    resp.headers_mut()
        .insert("x-amzn-ErrorType", HeaderValue::from_static(error_type));
    resp
}

pub(crate) fn internal_error() -> Response {
    gateway_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerErrorException",
        "Internal server error",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn extended_ids_are_url_safe_base64_of_eleven_bytes() {
        use base64::Engine;
        let mut bits: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        for _ in 0..2000 {
            let bytes = (bits & ((1 << 88) - 1)).to_be_bytes();
            let want = base64::engine::general_purpose::URL_SAFE.encode(&bytes[5..]);
            assert_eq!(extended_id_of(bits), want);
            bits = bits.wrapping_mul(0x2545_f491_4f6c_dd1d).wrapping_add(0x9e37_79b9);
        }
        assert_eq!(extended_id_of(u128::MAX), "______________8=");
        assert_eq!(extended_request_id().len(), 16);
    }

    use super::*;

    #[test]
    fn host_based_and_path_based_urls() {
        assert_eq!(
            resolve_target(Some("abc123.execute-api.localhost:8080"), "/prod/users/1"),
            Some(InvokeTarget {
                api_id: "abc123",
                stage: "prod",
                path: "/users/1"
            })
        );
        assert_eq!(
            resolve_target(Some("abc123.execute-api.localhost"), "/prod"),
            Some(InvokeTarget {
                api_id: "abc123",
                stage: "prod",
                path: "/"
            })
        );
        assert_eq!(
            resolve_target(
                Some("127.0.0.1:8080"),
                "/restapis/abc123/prod/_user_request_/users"
            ),
            Some(InvokeTarget {
                api_id: "abc123",
                stage: "prod",
                path: "/users"
            })
        );
        assert_eq!(
            resolve_target(None, "/restapis/abc123/prod/_user_request_"),
            Some(InvokeTarget {
                api_id: "abc123",
                stage: "prod",
                path: "/"
            })
        );
        assert_eq!(resolve_target(Some("127.0.0.1:8080"), "/prod/users"), None);
        assert_eq!(
            resolve_target(Some("x.y.execute-api.localhost"), "/prod/users"),
            None
        );
        assert_eq!(resolve_target(Some("abc.execute-api.localhost"), "/"), None);
        assert_eq!(resolve_target(Some("abc.execute-api.localhost"), "//"), None);
        assert_eq!(
            resolve_target(Some("abc.execute-api.localhost"), "//prod/x"),
            Some(InvokeTarget {
                api_id: "abc",
                stage: "prod",
                path: "/x"
            })
        );
    }
}
