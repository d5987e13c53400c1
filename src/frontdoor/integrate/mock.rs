//! `MOCK`: no backend; the request template's `statusCode` picks the
//! integration response.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::frontdoor::internal_error;

/// MOCK: the status from the request template picks the integration
/// response (exact status, else the default one); its templates and literal
/// header mappings shape the answer. (Full VTL arrives with non-proxy
/// integrations.)
pub fn respond(
    status: Option<u16>,
    responses: &std::collections::BTreeMap<String, crate::apigw::model::IntegrationResponse>,
) -> Response {
    let status = status.unwrap_or(200);
    let chosen = responses.get(&status.to_string()).or_else(|| {
        responses
            .values()
            .find(|r| r.selection_pattern.as_deref().is_none_or(str::is_empty))
    });
    let Some(chosen) = chosen else {
        return internal_error();
    };
    let code = chosen.status_code.parse::<u16>().unwrap_or(200);
    let body = chosen
        .response_templates
        .get("application/json")
        .or_else(|| chosen.response_templates.values().next())
        .cloned()
        .unwrap_or_default();
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    for (k, v) in &chosen.response_parameters {
        let Some(name) = k.strip_prefix("method.response.header.") else {
            continue;
        };
        let Some(literal) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) else {
            continue;
        };
        if let (Ok(n), Ok(val)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(literal),
        ) {
            h.insert(n, val);
        }
    }
    resp
}
