//! The `portico` command-line client of a running gateway's management API.
//!
//! This module owns everything behind `portico function …`: the clap
//! definitions of the subcommands ([`FunctionCommand`]), the blocking HTTP
//! client that speaks AWS Lambda's REST-JSON wire format (2015-03-31) to the
//! management listener, and the human / `--json` output. It never touches the
//! store or the host directly; it is a plain API client, exactly like
//! `aws lambda … --endpoint-url`.
//!
//! - [`client`]: URL building (percent-encoded labels), one request, and the
//!   mapping of connection failures and `x-amzn-ErrorType` answers to errors.
//! - [`function`]: the subcommands and what they print.
//! - [`output`]: small formatting helpers (sizes, tables, JSON).

mod client;
mod function;
mod output;

pub use function::{AliasCommand, Common, ConcurrencyCommand, FunctionCommand, InvocationType, run_function};
