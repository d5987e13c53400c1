//! Gateway response management: PutGatewayResponse, GetGatewayResponse(s),
//! UpdateGatewayResponse, DeleteGatewayResponse. A type never customised
//! reads as API Gateway's built-in default (`defaultResponse: true`);
//! deleting a customisation restores it. The front door renders them through
//! [`crate::frontdoor::respond`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiGwError, ApiGwResult};
use super::handlers::{created, page, parse};
use super::model::GatewayResponse;
use super::patch::{PatchBody, apply_to_map, strs};
use super::service::ApiGwService;
use super::wire;
use crate::frontdoor::respond::{DEFAULT_TEMPLATE, GatewayResponseType, check_parameter};

type Svc = State<Arc<ApiGwService>>;

/// The type named in a path, or AWS's enum error (its values in AWS's
/// order, as recorded).
pub fn response_type(s: &str) -> ApiGwResult<GatewayResponseType> {
    GatewayResponseType::parse(s).ok_or_else(|| {
        ApiGwError::enum_value(
            s,
            "responseType",
            &[
                "REQUEST_TOO_LARGE",
                "RESOURCE_NOT_FOUND",
                "AUTHORIZER_CONFIGURATION_ERROR",
                "MISSING_AUTHENTICATION_TOKEN",
                "BAD_REQUEST_BODY",
                "INVALID_SIGNATURE",
                "INVALID_API_KEY",
                "BAD_REQUEST_PARAMETERS",
                "AUTHORIZER_FAILURE",
                "UNAUTHORIZED",
                "INTEGRATION_TIMEOUT",
                "ACCESS_DENIED",
                "DEFAULT_4XX",
                "DEFAULT_5XX",
                "WAF_FILTERED",
                "QUOTA_EXCEEDED",
                "THROTTLED",
                "API_CONFIGURATION_ERROR",
                "UNSUPPORTED_MEDIA_TYPE",
                "INTEGRATION_FAILURE",
                "EXPIRED_TOKEN",
            ],
        )
    })
}

/// API Gateway's built-in definition of a type.
pub fn default_response(t: GatewayResponseType) -> GatewayResponse {
    GatewayResponse {
        response_type: t.as_str().to_string(),
        status_code: t.default_status().map(|s| s.to_string()),
        response_parameters: BTreeMap::new(),
        response_templates: [("application/json".to_string(), DEFAULT_TEMPLATE.to_string())].into(),
    }
}

fn check_status(code: &str) -> ApiGwResult<()> {
    if super::handlers::is_status_code(code) {
        Ok(())
    } else {
        Err(ApiGwError::bad_request(format!(
            "Invalid status code specified: {code}. It must match [1-5]\\d\\d"
        )))
    }
}

fn check_parameters(params: &BTreeMap<String, String>) -> ApiGwResult<()> {
    for (name, source) in params {
        check_parameter(name, source).map_err(|bad| {
            ApiGwError::bad_request(format!(
                "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {bad}]"
            ))
        })?;
    }
    Ok(())
}

/// Checks a customisation as a whole (PutGatewayResponse, updates, import).
pub fn check(r: &GatewayResponse) -> ApiGwResult<()> {
    response_type(&r.response_type)?;
    if let Some(code) = &r.status_code {
        check_status(code)?;
    }
    check_parameters(&r.response_parameters)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PutGatewayResponseInput {
    status_code: Option<String>,
    response_parameters: Option<BTreeMap<String, String>>,
    response_templates: Option<BTreeMap<String, String>>,
}

pub async fn put_gateway_response(
    State(svc): Svc,
    Path((api, kind)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let t = response_type(&kind)?;
    let input: PutGatewayResponseInput = parse(&body)?;
    // What the request leaves out is the type's built-in definition.
    let builtin = default_response(t);
    let r = GatewayResponse {
        response_type: t.as_str().to_string(),
        status_code: input
            .status_code
            .filter(|s| !s.is_empty())
            .or(builtin.status_code),
        response_parameters: input.response_parameters.unwrap_or_default(),
        response_templates: input.response_templates.unwrap_or(builtin.response_templates),
    };
    check(&r)?;
    let out = svc
        .edit(&api, |a| {
            let v = wire::gateway_response(&r, false);
            a.gateway_responses.insert(r.response_type.clone(), r);
            Ok(v)
        })
        .await?;
    Ok(created(out))
}

/// A type as the API answers with it: its own customisation; else, still a
/// default response, its class default's (DEFAULT_4XX / DEFAULT_5XX)
/// customisation under its own name; else the built-in definition.
fn render(responses: &BTreeMap<String, GatewayResponse>, t: GatewayResponseType) -> Value {
    if let Some(r) = responses.get(t.as_str()) {
        return wire::gateway_response(r, false);
    }
    let class = t.class_default();
    match responses.get(class.as_str()).filter(|_| class != t) {
        Some(inherited) => {
            let r = GatewayResponse {
                response_type: t.as_str().to_string(),
                status_code: inherited
                    .status_code
                    .clone()
                    .or_else(|| t.default_status().map(|s| s.to_string())),
                ..inherited.clone()
            };
            wire::gateway_response(&r, true)
        }
        None => wire::gateway_response(&default_response(t), true),
    }
}

pub async fn get_gateway_response(
    State(svc): Svc,
    Path((api, kind)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let t = response_type(&kind)?;
    let a = svc.get(&api)?;
    Ok(Json(render(&a.gateway_responses, t)))
}

pub async fn get_gateway_responses(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let items = GatewayResponseType::ALL
        .iter()
        .map(|t| render(&a.gateway_responses, *t))
        .collect();
    Ok(Json(page(items, &q)?))
}

pub async fn update_gateway_response(
    State(svc): Svc,
    Path((api, kind)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let t = response_type(&kind)?;
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateGatewayResponseInput")?;
    let out = svc
        .edit(&api, |a| {
            // Updating a default response customises it, starting from the
            // built-in definition.
            let mut r = a
                .gateway_responses
                .get(t.as_str())
                .cloned()
                .unwrap_or_else(|| default_response(t));
            for op in &patch.patch_operations {
                let seg = op.segments();
                // AWS's words for a replace without a value.
                let needs_value = |map: &str| {
                    if op.op == "replace" && op.value.as_deref().is_none_or(str::is_empty) {
                        Err(ApiGwError::bad_request(format!(
                            "Invalid null or empty value in {map}"
                        )))
                    } else {
                        Ok(())
                    }
                };
                match (op.op.as_str(), strs(&seg).as_slice()) {
                    ("replace", ["statusCode"]) => r.status_code = op.value.clone().filter(|s| !s.is_empty()),
                    (_, ["responseParameters", p]) => {
                        needs_value("responseParameters")?;
                        if op.op == "replace" && !r.response_parameters.contains_key(*p) {
                            return Err(ApiGwError::not_found("Invalid parameter name specified"));
                        }
                        apply_to_map(&mut r.response_parameters, op, p.to_string(), |v| {
                            Ok(v.to_string())
                        })?
                    }
                    (_, ["responseTemplates", ct]) => {
                        needs_value("responseTemplates")?;
                        apply_to_map(&mut r.response_templates, op, ct.to_string(), |v| {
                            Ok(v.to_string())
                        })?
                    }
                    _ => return Err(op.invalid_path()),
                }
            }
            check(&r)?;
            let v = wire::gateway_response(&r, false);
            a.gateway_responses.insert(t.as_str().to_string(), r);
            Ok(v)
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_gateway_response(
    State(svc): Svc,
    Path((api, kind)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    let t = response_type(&kind)?;
    svc.edit(&api, |a| match a.gateway_responses.remove(t.as_str()) {
        Some(_) => Ok(()),
        None => Err(ApiGwError::not_found("Gateway response type not defined on api")),
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_type_is_a_validation_error() {
        let e = response_type("NOPE").err().map(|e| (e.code, e.message));
        let (code, message) = e.unwrap_or_else(|| panic!("accepted"));
        assert_eq!(code, super::super::error::ErrorCode::Validation);
        assert!(message.contains("Value 'NOPE' at 'responseType'"), "{message}");
        // AWS's order (LocalStack's AWS-recorded snapshot).
        assert!(
            message.contains(
                "enum value set: [REQUEST_TOO_LARGE, RESOURCE_NOT_FOUND, AUTHORIZER_CONFIGURATION_ERROR,"
            ),
            "{message}"
        );
        // Every type is listed once.
        for t in GatewayResponseType::ALL {
            assert_eq!(
                message.matches(&format!(" {},", t.as_str())).count()
                    + message.matches(&format!(" {}]", t.as_str())).count()
                    + message.matches(&format!("[{},", t.as_str())).count(),
                1,
                "{t:?} in {message}"
            );
        }
        assert!(response_type("UNAUTHORIZED").is_ok());
    }

    #[test]
    fn defaults_render_as_aws_does() {
        let v = render(&BTreeMap::new(), GatewayResponseType::Unauthorized);
        assert_eq!(
            v,
            serde_json::json!({
                "responseType": "UNAUTHORIZED", "statusCode": "401", "responseParameters": {},
                "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"},
                "defaultResponse": true
            })
        );
        let v = render(&BTreeMap::new(), GatewayResponseType::Default4xx);
        assert!(v.get("statusCode").is_none());
    }

    #[test]
    fn checks() {
        let mut r = default_response(GatewayResponseType::Throttled);
        assert!(check(&r).is_ok());
        r.status_code = Some("600".into());
        assert!(check(&r).is_err());
        r.status_code = Some("503".into());
        r.response_parameters
            .insert("gatewayresponse.header.x".into(), "nonsense".into());
        let e = check(&r).err().map(|e| e.message).unwrap_or_default();
        assert!(
            e.contains("Invalid mapping expression specified: nonsense"),
            "{e}"
        );
    }
}
