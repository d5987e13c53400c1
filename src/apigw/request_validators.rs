//! Request validator management: CreateRequestValidator,
//! GetRequestValidator(s), UpdateRequestValidator, DeleteRequestValidator,
//! and the rule that a validator a method uses cannot be deleted. What a
//! validator makes the front door check lives in
//! [`crate::frontdoor::validate`].

use std::collections::HashMap;
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
use super::model::{RequestValidator, RestApi, new_id};
use super::patch::{PatchBody, PatchOperation};
use super::service::ApiGwService;
use super::wire;

type Svc = State<Arc<ApiGwService>>;

pub fn validator_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Request Validator identifier specified")
}

#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RequestValidatorInput {
    pub name: Option<String>,
    pub validate_request_body: Option<bool>,
    pub validate_request_parameters: Option<bool>,
}

/// Builds a validator from create (or import) input.
pub fn build(input: RequestValidatorInput, id: String) -> RequestValidator {
    RequestValidator {
        id,
        name: input.name.filter(|n| !n.is_empty()),
        validate_request_body: input.validate_request_body.unwrap_or(false),
        validate_request_parameters: input.validate_request_parameters.unwrap_or(false),
    }
}

/// The first method (as `/path/METHOD`) that uses validator `id`.
fn referenced_by(api: &RestApi, id: &str) -> Option<String> {
    let mut uses: Vec<String> = api
        .resources
        .values()
        .flat_map(|r| {
            r.methods
                .values()
                .filter(|m| m.request_validator_id.as_deref() == Some(id))
                .map(|m| {
                    format!(
                        "{}/{}",
                        RestApi::path_of(&api.resources, &r.id).unwrap_or_default(),
                        m.http_method
                    )
                })
        })
        .collect();
    uses.sort();
    uses.into_iter().next()
}

/// Applies one patch operation (only `replace` of the three fields).
fn apply(v: &mut RequestValidator, op: &PatchOperation) -> ApiGwResult<()> {
    if op.op != "replace" {
        return Err(ApiGwError::bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
            op.path, op.op
        )));
    }
    let flag = || {
        op.value
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    };
    match op.path.as_str() {
        "/name" => {
            let name = op.value.clone().filter(|n| !n.trim().is_empty());
            v.name =
                Some(name.ok_or_else(|| ApiGwError::bad_request("Request Validator name cannot be blank"))?);
        }
        "/validateRequestBody" => v.validate_request_body = flag(),
        "/validateRequestParameters" => v.validate_request_parameters = flag(),
        other => {
            return Err(ApiGwError::bad_request(format!(
                "Invalid patch path  '{other}' specified for op 'replace'. Must be one of: [/name, /validateRequestParameters, /validateRequestBody]"
            )));
        }
    }
    Ok(())
}

pub async fn create_request_validator(
    State(svc): Svc,
    Path(api): Path<String>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let input: RequestValidatorInput = parse(&body)?;
    let v = build(input, new_id(6));
    let out = svc
        .edit(&api, |a| {
            let w = wire::request_validator(&v);
            a.request_validators.insert(v.id.clone(), v);
            Ok(w)
        })
        .await
        // AWS's recorded answer for this one operation.
        .map_err(|e| {
            e.when_unknown_api(|| ApiGwError::bad_request("Invalid REST API identifier specified"))
        })?;
    tracing::info!(api = %api, validator = %out["id"], "request validator created");
    Ok(created(out))
}

pub async fn get_request_validators(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let mut list: Vec<&RequestValidator> = a.request_validators.values().collect();
    list.sort_by(|x, y| x.name.cmp(&y.name).then(x.id.cmp(&y.id)));
    Ok(Json(page(
        list.into_iter().map(wire::request_validator).collect(),
        &q,
    )?))
}

pub async fn get_request_validator(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let a = svc
        .get(&api)
        .map_err(|e| e.when_unknown_api(validator_not_found))?;
    let v = a.request_validators.get(&id).ok_or_else(validator_not_found)?;
    Ok(Json(wire::request_validator(v)))
}

pub async fn update_request_validator(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateRequestValidatorInput")?;
    let out = svc
        .edit(&api, |a| {
            let v = a
                .request_validators
                .get_mut(&id)
                .ok_or_else(validator_not_found)?;
            for op in &patch.patch_operations {
                apply(v, op)?;
            }
            Ok(wire::request_validator(v))
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_request_validator(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        let v = a.request_validators.get(&id).ok_or_else(validator_not_found)?;
        if let Some(method) = referenced_by(a, &id) {
            return Err(ApiGwError::conflict(format!(
                "Cannot delete request validator '{}', is referenced in method: {method}",
                v.name.as_deref().unwrap_or(&v.id)
            )));
        }
        a.request_validators.remove(&id);
        Ok(())
    })
    .await
    .map_err(|e| e.when_unknown_api(validator_not_found))?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(path: &str, value: &str) -> PatchOperation {
        PatchOperation {
            op: "replace".into(),
            path: path.into(),
            value: Some(value.into()),
            from: None,
        }
    }

    #[test]
    fn patch_paths_and_values() {
        let mut v = build(
            RequestValidatorInput {
                name: Some("all".into()),
                ..Default::default()
            },
            "v1".into(),
        );
        assert!(!v.validate_request_body && !v.validate_request_parameters);
        apply(&mut v, &op("/validateRequestBody", "TRUE")).ok();
        apply(&mut v, &op("/validateRequestParameters", "true")).ok();
        apply(&mut v, &op("/name", "both")).ok();
        assert_eq!(
            wire::request_validator(&v),
            serde_json::json!({"id": "v1", "name": "both", "validateRequestBody": true, "validateRequestParameters": true})
        );
        let e = apply(&mut v, &op("/name", " ")).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("Request Validator name cannot be blank"));
        let e = apply(&mut v, &op("/nope", "x"))
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(
            e.contains("Must be one of: [/name, /validateRequestParameters, /validateRequestBody]"),
            "{e}"
        );
        let add = PatchOperation {
            op: "add".into(),
            path: "/name".into(),
            value: Some("x".into()),
            from: None,
        };
        assert!(apply(&mut v, &add).is_err());
    }
}
