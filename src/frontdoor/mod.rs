//! The front door: the listener for API traffic (`--listen`). REST API
//! routing, authorizers and integrations plug in here; until a stage is
//! deployed every request is a miss, answered exactly as API Gateway answers
//! one: 403 `{"message":"Missing Authentication Token"}`.

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// API Gateway's answer to a request that matches no route.
pub async fn missing_authentication_token() -> Response {
    let mut resp = (
        StatusCode::FORBIDDEN,
        [("content-type", "application/json")],
        r#"{"message":"Missing Authentication Token"}"#,
    )
        .into_response();
    resp.headers_mut().insert(
        "x-amzn-ErrorType",
        HeaderValue::from_static("MissingAuthenticationTokenException"),
    );
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert("x-amzn-RequestId", v);
    }
    resp
}

pub fn router() -> Router {
    Router::new().fallback(missing_authentication_token)
}
