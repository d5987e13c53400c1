//! IAM API errors and their one mapping to AWS's query-protocol wire shape:
//! status, `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

use super::xml;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NoSuchEntity,
    EntityAlreadyExists,
    DeleteConflict,
    LimitExceeded,
    MalformedPolicyDocument,
    ValidationError,
    InvalidAction,
    ServiceFailure,
}

impl ErrorCode {
    fn wire(self) -> (StatusCode, &'static str, &'static str) {
        use ErrorCode::*;
        match self {
            NoSuchEntity => (StatusCode::NOT_FOUND, "NoSuchEntity", "Sender"),
            EntityAlreadyExists => (StatusCode::CONFLICT, "EntityAlreadyExists", "Sender"),
            DeleteConflict => (StatusCode::CONFLICT, "DeleteConflict", "Sender"),
            LimitExceeded => (StatusCode::CONFLICT, "LimitExceeded", "Sender"),
            MalformedPolicyDocument => (StatusCode::BAD_REQUEST, "MalformedPolicyDocument", "Sender"),
            ValidationError => (StatusCode::BAD_REQUEST, "ValidationError", "Sender"),
            InvalidAction => (StatusCode::BAD_REQUEST, "InvalidAction", "Sender"),
            ServiceFailure => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceFailure", "Receiver"),
        }
    }
}

/// An error answer from the IAM API.
#[derive(Debug, Clone)]
pub struct IamError {
    pub code: ErrorCode,
    pub message: String,
}

pub type IamResult<T> = Result<T, IamError>;

impl IamError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> IamError {
        IamError {
            code,
            message: message.into(),
        }
    }

    pub fn no_such_user(name: &str) -> IamError {
        IamError::new(
            ErrorCode::NoSuchEntity,
            format!("The user with name {name} cannot be found."),
        )
    }

    pub fn validation(message: impl Into<String>) -> IamError {
        IamError::new(ErrorCode::ValidationError, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> IamError {
        tracing::error!(error = %e, "IAM request failed");
        IamError::new(ErrorCode::ServiceFailure, "An internal error occurred.")
    }
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> IamError {
        IamError::internal(e)
    }
}

/// Writes an `ErrorResponse` document with any query-protocol code (also
/// used for authentication failures on `POST /`).
pub fn error_response(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut body = String::with_capacity(256 + message.len());
    body.push_str("<ErrorResponse xmlns=\"");
    body.push_str(xml::NAMESPACE);
    body.push_str("\"><Error>");
    xml::element(&mut body, "Type", kind);
    xml::element(&mut body, "Code", code);
    xml::element(&mut body, "Message", message);
    body.push_str("</Error>");
    xml::element(&mut body, "RequestId", &request_id);
    body.push_str("</ErrorResponse>");
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-RequestId", v);
    }
    resp
}

impl IntoResponse for IamError {
    fn into_response(self) -> Response {
        let (status, code, kind) = self.code.wire();
        error_response(status, kind, code, &self.message)
    }
}
