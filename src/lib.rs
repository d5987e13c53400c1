//! Portico: a self-hosted Amazon API Gateway whose Lambda functions are
//! WebAssembly modules. See `docs/architecture.md` for the picture.
//!
//! - [`server`]: the process — two listeners, startup, graceful shutdown.
//! - [`frontdoor`]: the API traffic listener: REST API stages, routing, access control, integrations.
//! - [`lambda`]: the Lambda management API (AWS wire format).
//! - [`host`]: runs functions in wasmtime (pools, limits, logs).
//! - [`function`]: the function model and its validation rules.
//! - [`store`]: durable state (SQLite metadata, content-addressed code).
//! - [`cli`]: the `portico` command-line client of the management API.
//! - [`iam`]: users, access keys, IAM policies and SigV4 (`--admin-auth sigv4`).
//! - [`usage`]: API keys and usage plans (management API + the per-request check).
//! - [`vtl`]: the Velocity engine of mapping templates, and JSONPath.
//! - [`json_out`]: hand-written JSON output for the request path.
//! - [`logging`]: the process log, and the fast path for function output.

pub mod allocator;
pub mod apigw;
pub mod cli;
pub mod frontdoor;
pub mod function;
pub mod host;
pub mod iam;
pub mod json_check;
pub mod json_out;
pub mod lambda;
pub mod logging;
pub mod server;
pub mod store;
pub mod usage;
pub mod vtl;
