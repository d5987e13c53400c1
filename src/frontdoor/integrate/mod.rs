//! The integration step: what a method runs once the request is routed,
//! authorized, throttled and validated, and how the backend's answer becomes
//! the method response.
//!
//! - `lambda` runs `AWS_PROXY` (payload 1.0 event, response rules of
//!   [`super::proxy`]) and `AWS` (a Lambda call through mapping templates);
//! - `http` runs `HTTP_PROXY` and `HTTP` against an external endpoint;
//! - `mock` answers `MOCK`;
//! - `mapping` applies `requestParameters` (`method.request.*` →
//!   `integration.request.*`) and `responseParameters`.
//!
//! Every integration reads the request through one [`RequestView`], built once.

pub mod http;
pub mod lambda;
pub mod mapping;
pub mod mock;

use std::sync::OnceLock;

use bytes::Bytes;

use super::proxy::CallerIdentity;
use super::respond::ResponseContext;

/// One request as integrations see it: the routed request's facts plus the
/// parsed query string, shared by parameter mappings, templates and backends.
pub struct RequestView<'a> {
    pub ctx: &'a ResponseContext<'a>,
    pub body: &'a Bytes,
    pub deployment_id: &'a str,
    pub request_time_epoch_ms: i64,
    /// Who called, as access control established it.
    pub identity: CallerIdentity<'a>,
    /// The query string, form-decoded, in arrival order.
    pub query: Vec<(String, String)>,
    /// The `$context` tree, built on first use.
    context: OnceLock<serde_json::Value>,
}

impl<'a> RequestView<'a> {
    pub fn new(
        ctx: &'a ResponseContext<'a>,
        body: &'a Bytes,
        deployment_id: &'a str,
        request_time_epoch_ms: i64,
        identity: CallerIdentity<'a>,
    ) -> RequestView<'a> {
        RequestView {
            ctx,
            body,
            deployment_id,
            request_time_epoch_ms,
            identity,
            query: ctx.raw_query.map(parse_query).unwrap_or_default(),
            context: OnceLock::new(),
        }
    }

    /// The last value of a query string parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a query string parameter, in arrival order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The last value of a header (names are case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.ctx
            .headers
            .get_all(name)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
    }

    /// Every value of a header, in arrival order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.ctx
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.ctx
            .path_params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `$context` as templates and `context.X` mappings see it.
    pub fn context(&self) -> &serde_json::Value {
        self.context.get_or_init(|| context_tree(self))
    }

    /// `context.a.b` as a string (objects and arrays as JSON text).
    pub fn context_value(&self, dotted: &str) -> Option<String> {
        let mut v = self.context();
        for part in dotted.split('.') {
            v = v.get(part)?;
        }
        match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// The `$context` variables API Gateway documents, from one request.
pub fn context_tree(view: &RequestView<'_>) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let ctx = view.ctx;
    let id = &view.identity;
    let user_agent = ctx
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let identity = json!({
        "sourceIp": ctx.source_ip,
        "userAgent": user_agent,
        "accountId": id.account_id,
        "accessKey": id.access_key,
        "caller": id.caller,
        "user": id.user,
        "userArn": id.user_arn,
        "apiKey": id.api_key,
        "apiKeyId": id.api_key_id,
        "cognitoAuthenticationProvider": Value::Null,
        "cognitoAuthenticationType": Value::Null,
        "cognitoIdentityId": Value::Null,
        "cognitoIdentityPoolId": Value::Null,
        "principalOrgId": Value::Null,
    });
    let authorizer: Option<Map<String, Value>> = ctx.authorizer.map(|a| {
        a.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()
    });
    let (domain, _) = ctx.domain_name.split_once(':').unwrap_or((ctx.domain_name, ""));
    json!({
        "accountId": ctx.account_id,
        "apiId": ctx.api_id,
        "authorizer": authorizer,
        "deploymentId": view.deployment_id,
        "domainName": domain,
        "domainPrefix": domain.split('.').next().unwrap_or_default(),
        "extendedRequestId": ctx.extended_request_id,
        "httpMethod": ctx.http_method,
        "identity": identity,
        "isCanaryRequest": "false",
        "path": ctx.path,
        "protocol": "HTTP/1.1",
        "requestId": ctx.request_id,
        "requestTime": super::proxy::clf_time(view.request_time_epoch_ms)
            .map(|t| String::from_utf8_lossy(&t).into_owned()),
        "requestTimeEpoch": view.request_time_epoch_ms,
        "resourceId": ctx.resource_id,
        "resourcePath": ctx.resource_path,
        "stage": ctx.stage,
    })
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
