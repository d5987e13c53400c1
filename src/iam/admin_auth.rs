//! `--admin-auth sigv4`: every admin-listener request (Lambda, API Gateway,
//! IAM, `/_portico/*`) must carry a valid SigV4 signature from an active
//! key — a stored user's or the bootstrap key. Any service name in the
//! credential scope is accepted, since the AWS CLI signs `lambda`,
//! `apigateway` and `iam` against the same endpoint. This authenticates
//! only; user policies are not (yet) consulted for management calls.
//!
//! The body is buffered to hash it (admin bodies are bounded by the admin
//! body limit) and handed on unchanged, with the caller as a [`Caller`]
//! request extension. Failures are 403s in AWS's shape: `x-amzn-ErrorType`
//! and `{"message": …}` for the REST APIs, an XML `ErrorResponse` for
//! IAM's `POST /` form calls.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::sigv4::{self, SigV4Error, SignedRequest};
use super::{Caller, IamService};

#[derive(Clone)]
struct Gate {
    iam: Arc<IamService>,
    body_limit: usize,
}

/// Wraps `router` so that every request must be SigV4-signed.
pub fn require_sigv4(router: Router, iam: Arc<IamService>, body_limit: usize) -> Router {
    router.layer(middleware::from_fn_with_state(Gate { iam, body_limit }, check))
}

async fn check(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    // Refuse an unsigned request before reading its body.
    let presigned = parts.uri.query().is_some_and(|q| q.contains("X-Amz-"));
    if !parts.headers.contains_key(axum::http::header::AUTHORIZATION) && !presigned {
        let iam_call = parts.uri.path() == "/" && super::api::is_form(&parts.headers);
        return refusal(&SigV4Error::MissingAuthenticationToken, iam_call);
    }
    let Ok(bytes) = axum::body::to_bytes(body, gate.body_limit).await else {
        let mut resp = (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({
                "message": format!("Request must be smaller than {} bytes", gate.body_limit)
            })),
        )
            .into_response();
        resp.headers_mut().insert(
            "x-amzn-ErrorType",
            HeaderValue::from_static("RequestEntityTooLargeException"),
        );
        return resp;
    };
    let signed = SignedRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
    };
    let verified = sigv4::verify(&signed, None, chrono::Utc::now(), |id| gate.iam.credential(id));
    match verified {
        Ok(v) => {
            let mut req = Request::from_parts(parts, Body::from(bytes));
            req.extensions_mut().insert(Caller(v.credential));
            next.run(req).await
        }
        Err(e) => {
            tracing::debug!(
                method = %parts.method,
                path = %parts.uri.path(),
                error = e.error_type(),
                "admin request refused"
            );
            let iam_call = parts.uri.path() == "/" && super::api::is_form(&parts.headers);
            refusal(&e, iam_call)
        }
    }
}

/// The 403 answer: JSON for REST paths, query-protocol XML for IAM calls.
pub fn refusal(e: &SigV4Error, xml: bool) -> Response {
    if xml {
        return super::error::error_response(e.status(), "Sender", e.query_code(), &e.message());
    }
    let mut resp = (
        e.status(),
        axum::Json(serde_json::json!({ "message": e.message() })),
    )
        .into_response();
    resp.headers_mut()
        .insert("x-amzn-ErrorType", HeaderValue::from_static(e.error_type()));
    resp
}
