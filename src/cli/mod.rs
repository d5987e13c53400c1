//! The `portico` command-line client of a running gateway's management API.
//!
//! This module owns everything behind `portico function …`, `portico api …`
//! and `portico deploy`: the clap definitions of the subcommands
//! ([`FunctionCommand`], [`ApiCommand`], [`DeployArgs`]), the blocking HTTP
//! client that speaks AWS Lambda's (2015-03-31) and API Gateway's
//! (2015-07-09) REST-JSON wire formats to the management listener, and the
//! human / `--json` output. It never touches the store or the host directly;
//! it is a plain API client, exactly like `aws lambda|apigateway …
//! --endpoint-url`.
//!
//! - [`client`]: URL building (percent-encoded labels), one request, and the
//!   mapping of connection failures and `x-amzn-ErrorType` answers to errors.
//! - [`function`]: the `function` subcommands and what they print.
//! - [`api`]: the `api` subcommands (REST APIs, resources, deployments,
//!   stages) and what they print.
//! - [`authorizer`]: list a REST API's authorizers and test one.
//! - [`method`]: enable CORS on a resource; test-invoke a method.
//! - [`deploy`]: the declarative, idempotent `deploy` of functions plus an
//!   OpenAPI document to a stage.
//! - [`output`]: small formatting helpers (sizes, tables, JSON).

mod api;
mod authorizer;
mod client;
mod deploy;
mod function;
mod method;
mod output;

pub use api::{ApiCommand, Front, PutMode, run_api};
pub use authorizer::{AuthorizerCommand, run_authorizer};
pub use deploy::{DeployArgs, run_deploy};
pub use function::{AliasCommand, Common, ConcurrencyCommand, FunctionCommand, InvocationType, run_function};
