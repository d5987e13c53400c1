//! TestInvokeMethod on the data-plane side: runs one method of an API as it
//! stands now (not as deployed) on a made-up request, with no access
//! control (as AWS's test calls skip authorizers, keys and throttles), and
//! returns what a client would get plus the step-by-step execution log.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::to_bytes;
use axum::http::HeaderMap;
use bytes::Bytes;

use super::FrontDoor;
use super::compile::{Scope, compile_deployment, compile_stage};
use super::integrate::{self, ExecutionLog, log_pairs};
use super::proxy::CallerIdentity;
use super::respond::ResponseContext;
use super::validate;
use crate::apigw::model::{Deployment, Stage};

/// The stage name AWS reports in test calls.
pub const TEST_STAGE: &str = "test-invoke-stage";

/// The made-up request.
pub struct TestRequest {
    pub api_id: String,
    pub http_method: String,
    pub resource_id: String,
    /// `/pets/7?kind=cat`; the path is matched against the resource's template.
    pub path_with_query_string: String,
    pub headers: HeaderMap,
    /// The header names as the caller wrote them (a HeaderMap lower-cases).
    pub header_names: Vec<String>,
    pub body: Bytes,
    pub stage_variables: BTreeMap<String, String>,
}

/// What the client would have got.
pub struct TestOutcome {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub log: String,
    pub latency_ms: u64,
}

/// Why the method cannot be tested.
#[derive(Debug)]
pub enum TestInvokeError {
    /// The resource has no such method.
    NoMethod,
    /// The API cannot be compiled (a broken resource tree).
    Broken(String),
}

pub async fn test_invoke(
    fd: &FrontDoor,
    deployment: &Deployment,
    req: TestRequest,
) -> Result<TestOutcome, TestInvokeError> {
    let started = Instant::now();
    let scope = Scope {
        region: &fd.access.region,
        account: &fd.access.account,
        api_id: &req.api_id,
    };
    let compiled =
        std::sync::Arc::new(compile_deployment(deployment, &scope).map_err(TestInvokeError::Broken)?);
    let stage = compile_stage(
        &Stage {
            stage_name: TEST_STAGE.to_string(),
            deployment_id: deployment.id.clone(),
            description: None,
            variables: req.stage_variables.clone(),
            created_date: 0,
            last_updated_date: 0,
            tracing_enabled: false,
            cache_cluster_enabled: false,
            cache_cluster_size: None,
            method_settings: BTreeMap::new(),
            tags: BTreeMap::new(),
            documentation_version: None,
            client_certificate_id: None,
            access_log_settings: None,
            canary_settings: None,
        },
        compiled.clone(),
    );
    // A method the resource lacks runs its ANY method, as a call would.
    let plan = stage
        .method(&req.resource_id, &req.http_method)
        .or_else(|| stage.method(&req.resource_id, "ANY"))
        .ok_or(TestInvokeError::NoMethod)?;
    let (path, query) = match req.path_with_query_string.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path_with_query_string.as_str(), None),
    };
    let path = if path.is_empty() { "/" } else { path };
    let matched = compiled
        .routes
        .lookup(&req.http_method, path)
        .filter(|m| m.resource_id == req.resource_id);
    let resource_path = compiled.resource_path(&req.resource_id).unwrap_or_default();
    let path_params = matched.map(|m| m.path_params).unwrap_or_default();
    let request_id = uuid::Uuid::new_v4().to_string();
    let ctx = ResponseContext {
        headers: &req.headers,
        raw_query: query,
        path_params: &path_params,
        stage_variables: &stage.variables,
        request_id: &request_id,
        extended_request_id: "test-invoke-extendedRequestId",
        api_id: &req.api_id,
        stage: TEST_STAGE,
        resource_path: &resource_path,
        resource_id: &req.resource_id,
        path,
        http_method: &req.http_method,
        source_ip: "test-invoke-source-ip",
        account_id: &fd.access.account,
        domain_name: "testPrefix.testDomainName",
        trace_id: "",
        authorizer: None,
        validation_error_string: None,
        is_canary: false,
    };
    let headers = integrate::header_pairs_as_sent(&req.headers, Some(&req.header_names));
    let view = integrate::RequestView {
        ctx: &ctx,
        body: &req.body,
        headers: &headers,
        deployment_id: &deployment.id,
        request_time_epoch_ms: chrono::Utc::now().timestamp_millis(),
        binary_media_types: &compiled.binary_media_types,
        identity: CallerIdentity::default(),
        authorizer_event: None,
        lazy: integrate::Lazy::default(),
    };
    let mut log = ExecutionLog::on();
    log.step(|| format!("Starting execution for request: {request_id}"));
    // AWS logs the path the test asked for here, not the resource's template.
    log.step(|| format!("HTTP Method: {}, Resource Path: {path}", req.http_method));
    log.step(|| {
        let params: Vec<(String, String)> = path_params
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        format!("Method request path: {}", log_pairs(&params))
    });
    log.step(|| format!("Method request query string: {}", log_pairs(view.query())));
    log.step(|| format!("Method request headers: {}", log_pairs(&headers)));
    log.step(|| {
        format!(
            "Method request body before transformations: {}",
            String::from_utf8_lossy(&req.body)
        )
    });
    let rejected = plan.validation.as_ref().and_then(|v| {
        v.check(&validate::Request {
            headers: &req.headers,
            raw_query: query,
            path_params: &path_params,
            body: &req.body,
        })
        .err()
    });
    let response = match rejected {
        Some(rejected) => {
            log.step(|| format!("Request validation failed: {}", rejected.message()));
            let ctx = ResponseContext {
                validation_error_string: Some(rejected.validation_error_string()),
                ..ctx
            };
            compiled
                .responses
                .render(rejected.response_type(), Some(rejected.message()), &ctx)
        }
        None => integrate::run(fd, &plan.target, &view, &compiled.responses, &mut log).await,
    };
    let (mut parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let status = parts.status.as_u16();
    if log.failed() {
        // AWS's log goes from the failure straight to the method's status,
        // and its answer carries only the error type.
        parts.headers.remove(axum::http::header::CONTENT_TYPE);
    } else {
        // An integration response step has logged the body already; proxy
        // integrations and gateway responses have not.
        if !log
            .lines()
            .iter()
            .any(|l| l.contains(" : Method response body after transformations: "))
        {
            log.step(|| {
                format!(
                    "Method response body after transformations: {}",
                    String::from_utf8_lossy(&body)
                )
            });
        }
        log.step(|| {
            let pairs: Vec<_> = integrate::header_pairs(&parts.headers)
                .into_iter()
                .map(|(k, v)| (title_case(k), v))
                .collect();
            format!("Method response headers: {}", log_pairs(&pairs))
        });
    }
    if status < 400 {
        log.step(|| "Successfully completed execution".to_string());
    }
    log.step(|| format!("Method completed with status: {status}"));
    let mut text = format!("Execution log for request {request_id}\n");
    for line in log.lines() {
        text.push_str(line);
        text.push('\n');
    }
    Ok(TestOutcome {
        status,
        headers: parts.headers,
        body,
        log: text,
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// `content-type` → `Content-Type`, as AWS writes header names in a test
/// call's log and answer.
pub fn title_case(name: &str) -> String {
    // AWS's own headers keep AWS's spelling.
    if name.eq_ignore_ascii_case("x-amzn-errortype") {
        return "x-amzn-ErrorType".to_string();
    }
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
