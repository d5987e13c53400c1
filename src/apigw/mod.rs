//! The API Gateway management API (service `apigateway`, 2015-07-09) on the
//! admin listener: REST APIs, the resource tree, methods, integrations,
//! deployments and stages, authorizers, gateway responses, models and
//! request validators, documentation parts and versions, OpenAPI import and export. Changes are committed to the store, then the front door
//! recompiles the API's stages.

pub mod account;
pub mod authorizers;
pub mod documentation;
pub mod error;
mod export;
pub mod gateway_responses;
pub(crate) mod handlers;
pub mod import;
pub mod model;
pub mod models;
pub mod openapi;
pub(crate) mod patch;
pub mod request_validators;
pub mod service;
mod test_invoke;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};

use service::ApiGwService;

/// `position` / `limit` of a list call (limit default 25, at most 500):
/// the first index and the page size.
pub fn paging(q: &std::collections::HashMap<String, String>) -> error::ApiGwResult<(usize, usize)> {
    let limit = match q.get("limit") {
        None => 25,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                return Err(error::ApiGwError::bad_request(
                    "Invalid limit: must be between 1 and 500",
                ));
            }
        },
    };
    let position = match q.get("position") {
        None => 0,
        Some(p) => p
            .parse::<usize>()
            .map_err(|_| error::ApiGwError::bad_request("Invalid position specified"))?,
    };
    Ok((position, limit))
}

pub fn router(svc: Arc<ApiGwService>) -> Router {
    use handlers::*;
    Router::new()
        .route("/restapis", post(create_rest_api).get(get_rest_apis))
        .route(
            "/restapis/{api}",
            get(get_rest_api)
                .patch(update_rest_api)
                .delete(delete_rest_api)
                .put(put_rest_api),
        )
        .route("/restapis/{api}/resources", get(get_resources))
        .route(
            "/restapis/{api}/resources/{rid}",
            get(get_resource)
                .post(create_resource)
                .patch(update_resource)
                .delete(delete_resource),
        )
        .route(
            "/restapis/{api}/resources/{rid}/methods/{method}",
            put(put_method)
                .get(get_method)
                .patch(update_method)
                .delete(delete_method)
                .post(test_invoke::test_invoke_method),
        )
        .route(
            "/restapis/{api}/resources/{rid}/methods/{method}/responses/{code}",
            put(put_method_response)
                .get(get_method_response)
                .patch(update_method_response)
                .delete(delete_method_response),
        )
        .route(
            "/restapis/{api}/resources/{rid}/methods/{method}/integration",
            put(put_integration)
                .get(get_integration)
                .patch(update_integration)
                .delete(delete_integration),
        )
        .route(
            "/restapis/{api}/resources/{rid}/methods/{method}/integration/responses/{code}",
            put(put_integration_response)
                .get(get_integration_response)
                .patch(update_integration_response)
                .delete(delete_integration_response),
        )
        .route(
            "/restapis/{api}/deployments",
            post(create_deployment).get(get_deployments),
        )
        .route(
            "/restapis/{api}/deployments/{id}",
            get(get_deployment)
                .patch(update_deployment)
                .delete(delete_deployment),
        )
        .route(
            "/restapis/{api}/authorizers",
            post(authorizers::create_authorizer).get(authorizers::get_authorizers),
        )
        .route(
            "/restapis/{api}/authorizers/{id}",
            get(authorizers::get_authorizer)
                .post(test_invoke::test_invoke_authorizer)
                .patch(authorizers::update_authorizer)
                .delete(authorizers::delete_authorizer),
        )
        .route(
            "/restapis/{api}/gatewayresponses",
            get(gateway_responses::get_gateway_responses),
        )
        .route(
            "/restapis/{api}/gatewayresponses/{response_type}",
            put(gateway_responses::put_gateway_response)
                .get(gateway_responses::get_gateway_response)
                .patch(gateway_responses::update_gateway_response)
                .delete(gateway_responses::delete_gateway_response),
        )
        .route(
            "/restapis/{api}/models",
            post(models::create_model).get(models::get_models),
        )
        .route(
            "/restapis/{api}/models/{name}",
            get(models::get_model)
                .patch(models::update_model)
                .delete(models::delete_model),
        )
        .route(
            "/restapis/{api}/models/{name}/default_template",
            get(models::get_model_template),
        )
        .route(
            "/restapis/{api}/requestvalidators",
            post(request_validators::create_request_validator)
                .get(request_validators::get_request_validators),
        )
        .route(
            "/restapis/{api}/requestvalidators/{id}",
            get(request_validators::get_request_validator)
                .patch(request_validators::update_request_validator)
                .delete(request_validators::delete_request_validator),
        )
        .route("/restapis/{api}/stages", post(create_stage).get(get_stages))
        .route(
            "/restapis/{api}/stages/{name}",
            get(get_stage).patch(update_stage).delete(delete_stage),
        )
        .route(
            "/restapis/{api}/stages/{name}/exports/{export_type}",
            get(export::get_export),
        )
        .route(
            "/restapis/{api}/documentation/parts",
            post(documentation::create_documentation_part).get(documentation::get_documentation_parts),
        )
        .route(
            "/restapis/{api}/documentation/parts/{id}",
            get(documentation::get_documentation_part)
                .patch(documentation::update_documentation_part)
                .delete(documentation::delete_documentation_part),
        )
        .route(
            "/restapis/{api}/documentation/versions",
            post(documentation::create_documentation_version).get(documentation::get_documentation_versions),
        )
        .route(
            "/restapis/{api}/documentation/versions/{version}",
            get(documentation::get_documentation_version)
                .patch(documentation::update_documentation_version)
                .delete(documentation::delete_documentation_version),
        )
        .route(
            "/account",
            get(account::get_account).patch(account::update_account),
        )
        .route(
            "/tags/{*arn}",
            get(get_tags).put(tag_resource).delete(untag_resource),
        )
        .with_state(svc)
}
