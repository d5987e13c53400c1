//! The API Gateway management API (service `apigateway`, 2015-07-09) on the
//! admin listener: REST APIs, the resource tree, methods, integrations,
//! deployments and stages, and OpenAPI import. Changes are committed to the
//! store, then the front door recompiles the API's stages.

pub mod error;
mod handlers;
pub mod import;
pub mod model;
pub mod openapi;
mod patch;
pub mod service;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};

use service::ApiGwService;

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
                .delete(delete_method),
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
        .route("/restapis/{api}/stages", post(create_stage).get(get_stages))
        .route(
            "/restapis/{api}/stages/{name}",
            get(get_stage).patch(update_stage).delete(delete_stage),
        )
        .route(
            "/tags/{*arn}",
            get(get_tags).put(tag_resource).delete(untag_resource),
        )
        .with_state(svc)
}
