//! API keys and usage plans: the management API (`apigateway` 2015-07-09:
//! ApiKeys, UsagePlans, UsagePlanKeys, Usage) on the admin listener, and the
//! data-plane check the front door runs for methods with `apiKeyRequired`
//! ([`UsageService::admit`]: key → plan for the stage → throttle → quota).
//!
//! - [`model`]: what users declare (keys, plans, throttles, quotas).
//! - [`handlers`] + [`wire`]: the operations and their JSON.
//! - [`service`]: the catalog, commits, and the write-behind of counts.
//! - [`gate`]: the immutable per-request index; [`throttle`] its token
//!   buckets, [`meter`] its exact lock-free counters, [`period`] the UTC
//!   calendar they count in.

pub mod gate;
mod handlers;
pub mod meter;
pub mod model;
pub mod period;
pub mod service;
pub mod throttle;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, patch, post};

pub use gate::{ApiKeyIdentity, UsageRejection};
pub use service::{StageDirectory, UsageService};

pub fn router(svc: Arc<UsageService>) -> Router {
    use handlers::*;
    Router::new()
        .route("/apikeys", post(create_api_key).get(get_api_keys))
        .route(
            "/apikeys/{id}",
            get(get_api_key).patch(update_api_key).delete(delete_api_key),
        )
        .route("/usageplans", post(create_usage_plan).get(get_usage_plans))
        .route(
            "/usageplans/{plan}",
            get(get_usage_plan)
                .patch(update_usage_plan)
                .delete(delete_usage_plan),
        )
        .route(
            "/usageplans/{plan}/keys",
            post(create_usage_plan_key).get(get_usage_plan_keys),
        )
        .route(
            "/usageplans/{plan}/keys/{key}",
            get(get_usage_plan_key).delete(delete_usage_plan_key),
        )
        .route("/usageplans/{plan}/keys/{key}/usage", patch(update_usage))
        .route("/usageplans/{plan}/usage", get(get_usage))
        .with_state(svc)
}
