//! Lambda API errors and their one mapping to AWS's wire shape: status,
//! `x-amzn-ErrorType`, `x-amzn-RequestId`, JSON body with `Type` and message.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::function::validate::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ResourceNotFound,
    ResourceConflict,
    InvalidParameterValue,
    Validation,
    InvalidRequestContent,
    PreconditionFailed,
    TooManyRequests,
    RequestTooLarge,
    Service,
    UnknownOperation,
}

impl ErrorCode {
    fn wire(self) -> (StatusCode, &'static str, &'static str) {
        use ErrorCode::*;
        match self {
            ResourceNotFound => (StatusCode::NOT_FOUND, "ResourceNotFoundException", "User"),
            ResourceConflict => (StatusCode::CONFLICT, "ResourceConflictException", "User"),
            InvalidParameterValue => (StatusCode::BAD_REQUEST, "InvalidParameterValueException", "User"),
            Validation => (StatusCode::BAD_REQUEST, "ValidationException", "User"),
            InvalidRequestContent => (StatusCode::BAD_REQUEST, "InvalidRequestContentException", "User"),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailedException",
                "User",
            ),
            TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException", "User"),
            RequestTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLargeException",
                "User",
            ),
            Service => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", "Service"),
            UnknownOperation => (StatusCode::NOT_FOUND, "UnknownOperationException", "User"),
        }
    }
}

/// An error answer from the Lambda API.
#[derive(Debug, Clone)]
pub struct LambdaError {
    pub code: ErrorCode,
    pub message: String,
    /// `Reason` for throttling errors.
    pub reason: Option<&'static str>,
}

pub type LambdaResult<T> = Result<T, LambdaError>;

impl LambdaError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> LambdaError {
        LambdaError {
            code,
            message: message.into(),
            reason: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> LambdaError {
        LambdaError::new(ErrorCode::ResourceNotFound, message)
    }

    pub fn function_not_found(arn: &str) -> LambdaError {
        LambdaError::not_found(format!("Function not found: {arn}"))
    }

    pub fn invalid(message: impl Into<String>) -> LambdaError {
        LambdaError::new(ErrorCode::InvalidParameterValue, message)
    }

    pub fn conflict(message: impl Into<String>) -> LambdaError {
        LambdaError::new(ErrorCode::ResourceConflict, message)
    }

    pub fn internal(message: impl std::fmt::Display) -> LambdaError {
        tracing::error!(error = %message, "internal error in Lambda API");
        LambdaError::new(ErrorCode::Service, "An internal error occurred.")
    }

    pub fn throttled(reserved: bool) -> LambdaError {
        LambdaError {
            code: ErrorCode::TooManyRequests,
            message: "Rate Exceeded.".into(),
            reason: Some(if reserved {
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            } else {
                "ConcurrentInvocationLimitExceeded"
            }),
        }
    }
}

impl From<Invalid> for LambdaError {
    fn from(i: Invalid) -> LambdaError {
        match i {
            Invalid::Constraint(m) => LambdaError::new(ErrorCode::Validation, m),
            Invalid::Parameter(m) => LambdaError::invalid(m),
        }
    }
}

impl From<crate::store::StoreError> for LambdaError {
    fn from(e: crate::store::StoreError) -> LambdaError {
        LambdaError::internal(e)
    }
}

impl IntoResponse for LambdaError {
    fn into_response(self) -> Response {
        let (status, code, kind) = self.code.wire();
        // Lambda spells the message key `Message` for ResourceNotFound and
        // `message` for the others; botocore reads either.
        let key = if self.code == ErrorCode::ResourceNotFound {
            "Message"
        } else {
            "message"
        };
        let mut body = serde_json::json!({ "Type": kind, key: self.message });
        if let Some(reason) = self.reason {
            body["Reason"] = reason.into();
        }
        let mut resp = (status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(code));
        if self.code == ErrorCode::TooManyRequests {
            headers.insert("Retry-After", HeaderValue::from_static("1"));
        }
        resp
    }
}
