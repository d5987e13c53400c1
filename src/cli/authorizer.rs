//! `portico authorizer …`: a REST API's Lambda authorizers — list them, and
//! test one (TestInvokeAuthorizer) with made-up headers, query string and
//! stage variables, printing what a client would get and the policy.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};

use super::client::{Client, encode};
use super::function::Common;
use super::output::{out, out_json, s, table};

/// Work with a REST API's authorizers on a running gateway.
#[derive(Debug, clap::Subcommand)]
pub enum AuthorizerCommand {
    /// List the authorizers of a REST API.
    List {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        #[command(flatten)]
        common: Common,
    },
    /// Run an authorizer against a made-up request (TestInvokeAuthorizer).
    Test {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        /// Authorizer id.
        #[arg(long, value_name = "ID")]
        authorizer: String,
        /// A request header, `Name=value` (repeatable).
        #[arg(long = "header", value_name = "NAME=VALUE")]
        headers: Vec<String>,
        /// Path and query string of the made-up request, e.g. `/pets?QueryString1=x`.
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
        /// A stage variable, `name=value` (repeatable).
        #[arg(long = "stage-variable", value_name = "NAME=VALUE")]
        stage_variables: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

pub fn run_authorizer(cmd: AuthorizerCommand) -> ExitCode {
    match run(cmd) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn pairs(items: &[String], what: &str) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .with_context(|| format!("{what} {item:?} is not NAME=VALUE"))?;
        m.insert(k.to_string(), Value::from(v));
    }
    Ok(m)
}

fn run(cmd: AuthorizerCommand) -> Result<ExitCode> {
    match cmd {
        AuthorizerCommand::List { api, common } => {
            let client = Client::new(&common.endpoint)?;
            let list = client
                .get(
                    &format!("/restapis/{}/authorizers", encode(&api)),
                    &[("limit", "500")],
                )?
                .json()?;
            if common.json {
                out_json(&list);
            } else {
                let rows: Vec<Vec<String>> = list["item"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        vec![
                            s(a, "id").to_string(),
                            s(a, "name").to_string(),
                            s(a, "type").to_string(),
                            s(a, "identitySource").to_string(),
                            a["authorizerResultTtlInSeconds"].to_string(),
                        ]
                    })
                    .collect();
                out(&table(&["ID", "NAME", "TYPE", "IDENTITY SOURCE", "TTL"], &rows));
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthorizerCommand::Test {
            api,
            authorizer,
            headers,
            path,
            stage_variables,
            common,
        } => {
            let mut body = json!({
                "headers": pairs(&headers, "--header")?,
                "stageVariables": pairs(&stage_variables, "--stage-variable")?,
            });
            if let Some(p) = path {
                body["pathWithQueryString"] = Value::from(p);
            }
            let client = Client::new(&common.endpoint)?;
            let result = client
                .post_json(
                    &format!("/restapis/{}/authorizers/{}", encode(&api), encode(&authorizer)),
                    body,
                )?
                .json()?;
            let status = result["clientStatus"].as_u64().unwrap_or(500);
            if common.json {
                out_json(&result);
            } else if status == 0 {
                out(&format!(
                    "authorized by the function (principalId {}) in {} ms\npolicy: {}",
                    s(&result, "principalId"),
                    result["latency"],
                    s(&result, "policy")
                ));
            } else {
                out(&format!(
                    "a client would get HTTP {status}: {}",
                    s(&result, "log")
                ));
            }
            if status == 0 {
                Ok(ExitCode::SUCCESS)
            } else if common.json {
                Ok(ExitCode::from(3))
            } else {
                bail!("not authorized (HTTP {status})")
            }
        }
    }
}
