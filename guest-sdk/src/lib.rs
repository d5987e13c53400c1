//! # portico-guest
//!
//! Guest SDK for Portico functions: WebAssembly modules
//! (`wasm32-wasip1`) that play the part of AWS Lambda functions behind a
//! self-hosted API Gateway.
//!
//! A function is an ordinary Rust function registered with [`handler!`]
//! (typed JSON in and out) or [`raw_handler!`] (bytes in and out). The macro
//! generates the exports of the Portico SDK ABI (see `ABI.md`), so the crate
//! must be built as a `cdylib` for `wasm32-wasip1`.
//!
//! ```no_run
//! use portico_guest::{handler, serde_json::{json, Value}, Context, Error};
//!
//! fn hello(_event: Value, _ctx: Context) -> Result<Value, Error> {
//!     Ok(json!({"statusCode": 200, "body": "hi"}))
//! }
//!
//! handler!(hello);
//! ```

#[doc(hidden)]
pub mod __private;
// Used only where it is installed (below) and by its tests.
#[cfg_attr(
    not(all(
        feature = "allocator",
        target_arch = "wasm32",
        not(target_feature = "atomics")
    )),
    allow(dead_code)
)]
mod alloc;
mod authorizer;
mod context;
mod error;
mod log;
mod macros;
mod proxy_response;
mod scan;

pub use authorizer::{AuthorizerResponse, ContextValue, Effect, method_arn_wildcard};
pub use context::Context;
pub use error::Error;
pub use log::{Level, debug, error, info, log, warn};

/// AWS event types (`aws_lambda_events`, feature `apigw`): API Gateway proxy
/// v1 ([`events::apigw::ApiGatewayProxyRequest`] /
/// [`events::apigw::ApiGatewayProxyResponse`]), HTTP API v2
/// ([`events::apigw::ApiGatewayV2httpRequest`] /
/// [`events::apigw::ApiGatewayV2httpResponse`]), custom authorizer TOKEN and
/// REQUEST events ([`events::apigw::ApiGatewayCustomAuthorizerRequest`],
/// [`events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest`]) and the
/// policy response types ([`events::apigw::ApiGatewayCustomAuthorizerResponse`],
/// [`events::iam::IamPolicyStatement`], ...).
pub use aws_lambda_events as events;
pub use serde;
pub use serde_json;

/// Small blocks recycled in front of dlmalloc (see `alloc.rs`). Only where
/// wasm has a single thread: the allocator's lists are not synchronised.
#[cfg(all(
    feature = "allocator",
    target_arch = "wasm32",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator::new();
