//! API Gateway management errors and their one mapping to AWS's wire shape:
//! status, `x-amzn-ErrorType`, body `{"message": ...}`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    NotFound,
    Conflict,
    TooManyRequests,
    Validation,
    /// A JSON value of the wrong type (AWS's Java deserializer speaking).
    Serialization,
    Internal,
}

#[derive(Debug, Clone)]
pub struct ApiGwError {
    pub code: ErrorCode,
    pub message: String,
}

pub type ApiGwResult<T> = Result<T, ApiGwError>;

/// How the message of an API that does not exist starts (see
/// `ApiGwService`).
pub const UNKNOWN_API: &str = "Invalid API identifier specified";

impl ApiGwError {
    /// This error; or, when it says the API does not exist, `answer`:
    /// several operations word that case their own way on AWS.
    pub fn when_unknown_api(self, answer: impl FnOnce() -> ApiGwError) -> ApiGwError {
        if self.message.starts_with(UNKNOWN_API) {
            answer()
        } else {
            self
        }
    }

    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiGwError {
        ApiGwError {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> ApiGwError {
        ApiGwError::new(ErrorCode::BadRequest, message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiGwError {
        ApiGwError::new(ErrorCode::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> ApiGwError {
        ApiGwError::new(ErrorCode::Conflict, message)
    }
    pub fn internal(e: impl std::fmt::Display) -> ApiGwError {
        tracing::error!(error = %e, "internal error in API Gateway API");
        ApiGwError::new(ErrorCode::Internal, "Internal server error")
    }
    /// A model enum constraint failure, worded as AWS words it.
    pub fn enum_value(value: &str, field: &str, allowed: &[&str]) -> ApiGwError {
        ApiGwError::new(
            ErrorCode::Validation,
            format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        )
    }
}

impl From<crate::store::StoreError> for ApiGwError {
    fn from(e: crate::store::StoreError) -> ApiGwError {
        ApiGwError::internal(e)
    }
}

impl IntoResponse for ApiGwError {
    fn into_response(self) -> Response {
        let (status, code) = match self.code {
            ErrorCode::BadRequest => (StatusCode::BAD_REQUEST, "BadRequestException"),
            ErrorCode::NotFound => (StatusCode::NOT_FOUND, "NotFoundException"),
            ErrorCode::Conflict => (StatusCode::CONFLICT, "ConflictException"),
            ErrorCode::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException"),
            ErrorCode::Validation => (StatusCode::BAD_REQUEST, "ValidationException"),
            ErrorCode::Serialization => (StatusCode::BAD_REQUEST, "SerializationException"),
            ErrorCode::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerErrorException"),
        };
        let mut resp = (status, axum::Json(serde_json::json!({ "message": self.message }))).into_response();
        resp.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(code));
        resp
    }
}
