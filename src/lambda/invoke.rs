//! Invoke: RequestResponse (200, result or function error), Event (202, runs
//! in the background), DryRun (204), with `X-Amz-Log-Type: Tail`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;

use super::LambdaService;
use super::error::{ErrorCode, LambdaError, LambdaResult};
use super::functions::QualifierQuery;
use crate::function::validate::constraint;
use crate::function::{MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD};
use crate::host::{InvokeError, InvokeRequest};

/// Bytes of log returned by `X-Amz-Log-Type: Tail`.
const TAIL_BYTES: usize = 4096;

#[derive(PartialEq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl From<InvokeError> for LambdaError {
    fn from(e: InvokeError) -> LambdaError {
        match e {
            InvokeError::NotFound(arn) => LambdaError::function_not_found(&arn),
            InvokeError::Throttled { reserved } => LambdaError::throttled(reserved),
        }
    }
}

pub async fn invoke(
    State(svc): State<Arc<LambdaService>>,
    Path(raw): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> LambdaResult<Response> {
    let fref = svc.function_ref(&raw, q.qualifier())?;
    let kind = match header(&headers, "x-amz-invocation-type") {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(constraint(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )
            .into());
        }
    };
    let tail = match header(&headers, "x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(constraint(
                other,
                "logType",
                "Member must satisfy enum value set: [None, Tail]",
            )
            .into());
        }
    };
    let limit = if kind == InvocationType::Event {
        MAX_ASYNC_PAYLOAD
    } else {
        MAX_SYNC_PAYLOAD
    };
    if body.len() > limit {
        return Err(LambdaError::new(
            ErrorCode::RequestTooLarge,
            format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        ));
    }
    let payload: Bytes = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        if let Err(e) = crate::json_check::check(&body) {
            return Err(LambdaError::new(
                ErrorCode::InvalidRequestContent,
                format!("Could not parse request body into json: Could not parse payload into json: {e}"),
            ));
        }
        body
    };
    let client_context = match header(&headers, "x-amz-client-context") {
        None => None,
        Some(b64) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .ok()
                .filter(|d| d.len() <= 3583)
                .and_then(|d| serde_json::from_slice(&d).ok())
                .ok_or_else(|| {
                    LambdaError::new(
                        ErrorCode::InvalidRequestContent,
                        "Client context must be a valid Base64-encoded JSON object.",
                    )
                })?;
            Some(decoded)
        }
    };
    let host = svc.host.clone();
    let qualifier = fref.qualifier.clone();
    // Resolve first: a missing function is a 404 for every invocation type.
    host.resolve(&fref.name, qualifier.as_deref())?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = match kind {
        InvocationType::DryRun => empty(StatusCode::NO_CONTENT),
        InvocationType::Event => {
            let (name, rid) = (fref.name.clone(), request_id.clone());
            tokio::spawn(async move {
                crate::host::run_event(host, name, qualifier, payload, client_context, rid).await
            });
            empty(StatusCode::ACCEPTED)
        }
        InvocationType::RequestResponse => {
            let inv = host
                .invoke(InvokeRequest {
                    function: &fref.name,
                    qualifier: qualifier.as_deref(),
                    payload: &payload,
                    client_context,
                    request_id: request_id.clone(),
                    want_log: tail,
                    result_check: crate::host::ResultCheck::Json,
                })
                .await?;
            let (body, failed) = match inv.result {
                Ok(bytes) => (bytes, false),
                Err(f) => (f.payload(), true),
            };
            let mut resp = Response::new(Body::from(body));
            let h = resp.headers_mut();
            h.insert("content-type", HeaderValue::from_static("application/json"));
            if let Ok(v) = HeaderValue::from_str(&inv.executed_version.to_string()) {
                h.insert("x-amz-executed-version", v);
            }
            if failed {
                h.insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
            }
            if let Some(log) = inv.log.as_deref().filter(|_| tail) {
                let log = log.as_bytes();
                let start = log.len().saturating_sub(TAIL_BYTES);
                let b64 = base64::engine::general_purpose::STANDARD.encode(&log[start..]);
                if let Ok(v) = HeaderValue::from_str(&b64) {
                    h.insert("x-amz-log-result", v);
                }
            }
            resp
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    Ok(resp)
}

fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}
