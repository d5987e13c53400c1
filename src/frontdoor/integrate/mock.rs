//! `MOCK`: no backend. The request template renders `{"statusCode": N}`;
//! N selects the integration response (by `selectionPattern`, else the
//! default), whose mappings and template shape the answer.

use axum::response::Response;

use super::request::{IntegrationRequest, RequestFailure};
use super::response::IntegrationResponses;
use super::response::{Answer, answer};
use super::{ExecutionLog, RequestView};
use crate::frontdoor::internal_error;
use crate::frontdoor::respond::{GatewayResponseType, GatewayResponses};

/// A `MOCK` integration, compiled.
pub struct MockIntegration {
    pub request: IntegrationRequest,
    pub responses: IntegrationResponses,
}

pub fn respond(
    target: &MockIntegration,
    view: &RequestView<'_>,
    responses: &GatewayResponses,
    binary_media_types: &[String],
    log: &mut ExecutionLog,
) -> Response {
    let status = if target.request.has_templates() {
        // A MOCK has no endpoint: AWS's execution log shows no endpoint
        // request or response lines for it.
        let prepared = match target
            .request
            .prepare(view, binary_media_types, &mut ExecutionLog::off())
        {
            Ok(p) => p,
            Err(RequestFailure::UnsupportedMediaType) => {
                return responses.render(GatewayResponseType::UnsupportedMediaType, None, view.ctx);
            }
            Err(RequestFailure::Configuration(why)) => {
                tracing::warn!(api = view.ctx.api_id, error = %why, "MOCK request template failed");
                return internal_error();
            }
        };
        match status_of(&prepared.body) {
            Some(s) => Some(s.to_string()),
            None if prepared.body.iter().all(u8::is_ascii_whitespace) => None,
            None => {
                log.step(|| "Execution failed due to configuration error: statusCode should be an integer which defined in request template".to_string());
                return internal_error();
            }
        }
    } else {
        None
    };
    answer(
        &target.responses,
        &Answer::text(Some(status.as_deref().unwrap_or("200")), b"", None),
        view,
        binary_media_types,
        responses,
        log,
    )
}

/// `statusCode` of a rendered MOCK request template.
fn status_of(body: &[u8]) -> Option<u16> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("statusCode")?;
    code.as_u64()
        .or_else(|| code.as_str().and_then(|s| s.trim().parse().ok()))
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (100..=599).contains(n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_of_a_rendered_template() {
        assert_eq!(super::status_of(br#"{"statusCode": 200}"#), Some(200));
        assert_eq!(super::status_of(br#"{"statusCode": "404"}"#), Some(404));
        assert_eq!(super::status_of(br#"{"statusCode": "abc"}"#), None);
        assert_eq!(super::status_of(br#"{"statusCode": 99}"#), None);
        assert_eq!(super::status_of(b"not json"), None);
    }
}
