//! `portico api …`: REST APIs over API Gateway's management API (REST-JSON,
//! 2015-07-09): create, list, import an OpenAPI document, inspect the
//! resource tree, deploy to stages and switch a stage between deployments.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use ureq::http::Method;

use super::client::{ApiError, Client, Payload, encode, normalize_endpoint};
use super::function::Common;
use super::output::{out, out_json, s, table};

/// Where `portico serve` serves deployed APIs by default.
pub const DEFAULT_FRONT: &str = "http://127.0.0.1:8080";
/// Largest page asked for when listing (`limit`).
const PAGE_LIMIT: &str = "500";
/// Guards against a server that keeps answering with the same position.
const MAX_PAGES: usize = 100_000;

/// `--front` of the commands that print invoke URLs.
#[derive(Debug, Clone, clap::Args)]
pub struct Front {
    /// Front door of the running `portico serve` (only used to print invoke URLs).
    #[arg(long, env = "PORTICO_FRONT", default_value = DEFAULT_FRONT, value_name = "URL")]
    pub front: String,
}

/// `--mode` of `portico api put`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PutMode {
    /// Keep what the document does not mention.
    Merge,
    /// Replace the resource tree with the document's.
    Overwrite,
}

impl PutMode {
    fn wire(self) -> &'static str {
        match self {
            PutMode::Merge => "merge",
            PutMode::Overwrite => "overwrite",
        }
    }
}

/// Manage REST APIs on a running gateway.
#[derive(Debug, clap::Subcommand)]
pub enum ApiCommand {
    /// Create an empty REST API.
    Create {
        /// API name.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List REST APIs.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Show a REST API.
    Get {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        #[command(flatten)]
        common: Common,
    },
    /// Delete a REST API with its stages and deployments.
    Delete {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        #[command(flatten)]
        common: Common,
    },
    /// Show the resource tree with methods and integrations.
    Resources {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        #[command(flatten)]
        common: Common,
    },
    /// Create a REST API from an OpenAPI (JSON or YAML) document.
    Import {
        /// The OpenAPI document.
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        /// Reject the document if importing it gives warnings.
        #[arg(long)]
        fail_on_warnings: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Update a REST API from an OpenAPI (JSON or YAML) document.
    Put {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        /// The OpenAPI document.
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        /// merge keeps what the document does not mention; overwrite replaces the API.
        #[arg(long, value_enum, default_value_t = PutMode::Merge)]
        mode: PutMode,
        /// Reject the document if importing it gives warnings.
        #[arg(long)]
        fail_on_warnings: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Snapshot the API into a deployment and point a stage at it.
    Deploy {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        /// Stage to create or update.
        #[arg(long, value_name = "NAME")]
        stage: String,
        /// Deployment description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        front: Front,
        #[command(flatten)]
        common: Common,
    },
    /// List a REST API's stages.
    Stages {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        #[command(flatten)]
        front: Front,
        #[command(flatten)]
        common: Common,
    },
    /// Add the REST CORS pattern to a resource (OPTIONS + MOCK preflight,
    /// Allow-Origin on its methods and on DEFAULT_4XX/5XX), as the console's
    /// "Enable CORS" does. Deploy afterwards.
    EnableCors {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        /// Resource path (e.g. /users) or id.
        #[arg(long, value_name = "PATH")]
        resource: String,
        /// Access-Control-Allow-Origin.
        #[arg(long, default_value = "*", value_name = "ORIGIN")]
        allow_origin: String,
        /// Access-Control-Allow-Headers.
        #[arg(long, default_value = super::method::DEFAULT_ALLOW_HEADERS, value_name = "LIST")]
        allow_headers: String,
        /// Access-Control-Allow-Methods (default: the resource's methods and OPTIONS).
        #[arg(long, value_name = "LIST")]
        allow_methods: Option<String>,
        /// Leave the DEFAULT_4XX / DEFAULT_5XX gateway responses alone.
        #[arg(long)]
        no_gateway_responses: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Run a method of the API as it stands (not as deployed) and show the
    /// response and, with --log, the execution log (TestInvokeMethod).
    TestInvoke {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        /// Resource path (e.g. /users/{id}) or id.
        #[arg(long, value_name = "PATH")]
        resource: String,
        /// HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// Request path and query, e.g. /users/7?verbose=1 (default: the resource path).
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
        /// Request body.
        #[arg(long)]
        body: Option<String>,
        /// Request header NAME=VALUE (repeatable).
        #[arg(long = "header", value_name = "NAME=VALUE", value_parser = key_value)]
        headers: Vec<(String, String)>,
        /// Stage variable NAME=VALUE (repeatable).
        #[arg(long = "stage-variable", value_name = "NAME=VALUE", value_parser = key_value)]
        stage_variables: Vec<(String, String)>,
        /// Print the execution log too.
        #[arg(long)]
        log: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Point a stage at another deployment (e.g. to roll back).
    StageSwitch {
        /// REST API id.
        #[arg(long, value_name = "ID")]
        api: String,
        /// Stage name.
        #[arg(long, value_name = "NAME")]
        stage: String,
        /// Deployment id.
        #[arg(long, value_name = "ID")]
        deployment: String,
        #[command(flatten)]
        front: Front,
        #[command(flatten)]
        common: Common,
    },
}

/// Runs one `portico api` subcommand against the management API.
pub fn run_api(cmd: ApiCommand) -> ExitCode {
    match run(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s}"))
}

fn run(cmd: ApiCommand) -> Result<()> {
    match cmd {
        ApiCommand::EnableCors {
            api,
            resource,
            allow_origin,
            allow_headers,
            allow_methods,
            no_gateway_responses,
            common,
        } => {
            let client = Client::new(&common.endpoint)?;
            let cors = super::method::CorsSettings {
                allow_origin: &allow_origin,
                allow_headers: &allow_headers,
                allow_methods: allow_methods.as_deref(),
                gateway_responses: !no_gateway_responses,
            };
            super::method::enable_cors(&client, &api, &resource, &cors, common.json)?;
        }

        ApiCommand::TestInvoke {
            api,
            resource,
            method,
            path,
            body,
            headers,
            stage_variables,
            log,
            common,
        } => {
            let client = Client::new(&common.endpoint)?;
            let call = super::method::TestCall {
                method: &method.to_ascii_uppercase(),
                path_with_query: path.as_deref(),
                body: body.as_deref(),
                headers: &headers,
                stage_variables: &stage_variables,
            };
            super::method::test_invoke(&client, &api, &resource, &call, log, common.json)?;
        }

        ApiCommand::Create {
            name,
            description,
            common,
        } => {
            let mut body = json!({ "name": name });
            if let Some(d) = description {
                body["description"] = d.into();
            }
            let client = Client::new(&common.endpoint)?;
            let api = client.post_json("/restapis", body)?.json()?;
            if common.json {
                out_json(&api);
            } else {
                out(&format!(
                    "created REST API {} ({}), root resource {}",
                    s(&api, "id"),
                    s(&api, "name"),
                    s(&api, "rootResourceId")
                ));
            }
        }

        ApiCommand::List { common } => {
            let client = Client::new(&common.endpoint)?;
            let apis = list_items(&client, "/restapis", &[])?;
            if common.json {
                out_json(&json!({ "item": apis }));
            } else if apis.is_empty() {
                out(
                    "no REST APIs (create one: portico api create --name NAME, or portico api import --file openapi.json)",
                );
            } else {
                let rows: Vec<Vec<String>> = apis
                    .iter()
                    .map(|a| {
                        vec![
                            s(a, "id").to_string(),
                            s(a, "name").to_string(),
                            date(a, "createdDate"),
                            s(a, "description").to_string(),
                        ]
                    })
                    .collect();
                out(&table(&["ID", "NAME", "CREATED", "DESCRIPTION"], &rows));
            }
        }

        ApiCommand::Get { api, common } => {
            let client = Client::new(&common.endpoint)?;
            let got = client.get(&api_path(&api, ""), &[])?.json()?;
            if common.json {
                out_json(&got);
            } else {
                out(&describe_api(&got));
            }
        }

        ApiCommand::Delete { api, common } => {
            let client = Client::new(&common.endpoint)?;
            let reply = client.delete(&api_path(&api, ""), &[])?;
            if common.json {
                out_json(&reply.json()?);
            } else {
                out(&format!("deleted REST API {api}"));
            }
        }

        ApiCommand::Resources { api, common } => {
            let client = Client::new(&common.endpoint)?;
            let mut resources = list_items(&client, &api_path(&api, "/resources"), &[("embed", "methods")])?;
            resources.sort_by(|a, b| s(a, "path").cmp(s(b, "path")));
            if common.json {
                out_json(&json!({ "item": resources }));
            } else {
                out(&resources_table(&resources));
            }
        }

        ApiCommand::Import {
            file,
            fail_on_warnings,
            common,
        } => {
            let body = read_document(&file)?;
            let client = Client::new(&common.endpoint)?;
            let api = import_rest_api(&client, body, fail_on_warnings)?;
            if common.json {
                out_json(&api);
            } else {
                out(&format!(
                    "imported REST API {} ({})",
                    s(&api, "id"),
                    s(&api, "name")
                ));
                print_warnings(&api);
            }
        }

        ApiCommand::Put {
            api,
            file,
            mode,
            fail_on_warnings,
            common,
        } => {
            let body = read_document(&file)?;
            let client = Client::new(&common.endpoint)?;
            let got = put_rest_api(&client, &api, body, mode, fail_on_warnings)?;
            if common.json {
                out_json(&got);
            } else {
                out(&format!(
                    "updated REST API {} ({}) from {} ({})",
                    s(&got, "id"),
                    s(&got, "name"),
                    file.display(),
                    mode.wire()
                ));
                print_warnings(&got);
                out(&format!(
                    "deploy it: portico api deploy --api {} --stage NAME",
                    s(&got, "id")
                ));
            }
        }

        ApiCommand::Deploy {
            api,
            stage,
            description,
            front,
            common,
        } => {
            let client = Client::new(&common.endpoint)?;
            let d = create_deployment(&client, &api, &stage, description.as_deref())?;
            if common.json {
                out_json(&d);
            } else {
                out(&format!(
                    "deployed REST API {api} to stage {stage}: deployment {}",
                    s(&d, "id")
                ));
                for url in invoke_urls(&front.front, &api, &stage)? {
                    out(&format!("  {url}"));
                }
            }
        }

        ApiCommand::Stages { api, front, common } => {
            let client = Client::new(&common.endpoint)?;
            let got = client.get(&api_path(&api, "/stages"), &[])?.json()?;
            if common.json {
                out_json(&got);
            } else {
                let mut stages: Vec<Value> = items(&got);
                stages.sort_by(|a, b| s(a, "stageName").cmp(s(b, "stageName")));
                if stages.is_empty() {
                    out(&format!(
                        "REST API {api} has no stages (deploy it: portico api deploy --api {api} --stage NAME)"
                    ));
                } else {
                    let mut rows = Vec::new();
                    for st in &stages {
                        let [_, path_url] = invoke_urls(&front.front, &api, s(st, "stageName"))?;
                        rows.push(vec![
                            s(st, "stageName").to_string(),
                            s(st, "deploymentId").to_string(),
                            date(st, "lastUpdatedDate"),
                            path_url,
                        ]);
                    }
                    out(&table(&["NAME", "DEPLOYMENT", "UPDATED", "URL"], &rows));
                }
            }
        }

        ApiCommand::StageSwitch {
            api,
            stage,
            deployment,
            front,
            common,
        } => {
            let client = Client::new(&common.endpoint)?;
            let body = json!({ "patchOperations": [
                { "op": "replace", "path": "/deploymentId", "value": deployment }
            ]});
            let got = client
                .call(
                    Method::PATCH,
                    &api_path(&api, &format!("/stages/{}", encode(&stage))),
                    &[],
                    &[],
                    Payload::Json(body),
                )?
                .json()?;
            if common.json {
                out_json(&got);
            } else {
                out(&format!(
                    "stage {stage} of REST API {api} now serves deployment {}",
                    non_empty(s(&got, "deploymentId"), &deployment)
                ));
                for url in invoke_urls(&front.front, &api, &stage)? {
                    out(&format!("  {url}"));
                }
            }
        }
    }
    Ok(())
}

/// `/restapis/{id}{suffix}` with the id percent-encoded.
pub(crate) fn api_path(api: &str, suffix: &str) -> String {
    format!("/restapis/{}{suffix}", encode(api))
}

/// Collects every page of an `{item, position}` listing.
pub(crate) fn list_items(client: &Client, path: &str, extra: &[(&str, &str)]) -> Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut position: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query: Vec<(&str, &str)> = extra.to_vec();
        query.push(("limit", PAGE_LIMIT));
        if let Some(p) = &position {
            query.push(("position", p.as_str()));
        }
        let page = client.get(path, &query)?.json()?;
        all.extend(items(&page));
        match page.get("position").and_then(Value::as_str) {
            Some(next) if !next.is_empty() && position.as_deref() != Some(next) => {
                position = Some(next.to_string());
            }
            _ => return Ok(all),
        }
    }
    Ok(all)
}

/// The `item` array of a listing (absent when empty).
pub(crate) fn items(page: &Value) -> Vec<Value> {
    page.get("item")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Whether an error is the API's "not found" answer (status 404).
pub(crate) fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<ApiError>().is_some_and(|e| e.status == 404)
}

/// Reads an OpenAPI document, refusing an empty file before anything is sent.
pub(crate) fn read_document(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!(
            "{} is empty (expected an OpenAPI document, JSON or YAML)",
            path.display()
        );
    }
    Ok(bytes)
}

fn warnings_query(fail_on_warnings: bool) -> Vec<(&'static str, &'static str)> {
    if fail_on_warnings {
        vec![("failonwarnings", "true")]
    } else {
        Vec::new()
    }
}

/// ImportRestApi: `POST /restapis?mode=import` with the raw document.
pub(crate) fn import_rest_api(client: &Client, document: Vec<u8>, fail_on_warnings: bool) -> Result<Value> {
    let mut query = vec![("mode", "import")];
    query.extend(warnings_query(fail_on_warnings));
    client
        .call(Method::POST, "/restapis", &query, &[], Payload::Raw(document))?
        .json()
}

/// PutRestApi: `PUT /restapis/{id}?mode=…` with the raw document.
pub(crate) fn put_rest_api(
    client: &Client,
    api: &str,
    document: Vec<u8>,
    mode: PutMode,
    fail_on_warnings: bool,
) -> Result<Value> {
    let mut query = vec![("mode", mode.wire())];
    query.extend(warnings_query(fail_on_warnings));
    client
        .call(
            Method::PUT,
            &api_path(api, ""),
            &query,
            &[],
            Payload::Raw(document),
        )?
        .json()
}

/// CreateDeployment with a stage.
pub(crate) fn create_deployment(
    client: &Client,
    api: &str,
    stage: &str,
    description: Option<&str>,
) -> Result<Value> {
    let mut body = json!({ "stageName": stage });
    if let Some(d) = description {
        body["description"] = d.into();
    }
    client.post_json(&api_path(api, "/deployments"), body)?.json()
}

/// The import warnings of an ImportRestApi / PutRestApi answer.
pub(crate) fn warnings(api: &Value) -> Vec<String> {
    api.get("warnings")
        .and_then(Value::as_array)
        .map(|w| w.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn print_warnings(api: &Value) {
    let list = warnings(api);
    if list.is_empty() {
        return;
    }
    out(&format!(
        "{} warning{}:",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    ));
    for w in list {
        out(&format!("  {w}"));
    }
}

/// The two invoke URLs of a stage: the execute-api host form and the
/// path form that needs no special host name.
pub(crate) fn invoke_urls(front: &str, api: &str, stage: &str) -> Result<[String; 2]> {
    let front = normalize_endpoint(front).context("--front")?;
    let (scheme, rest) = front.split_once("://").unwrap_or(("http", front.as_str()));
    let authority = rest.split('/').next().unwrap_or(rest);
    let port = authority
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host_form = match port {
        Some(p) => format!("{scheme}://{api}.execute-api.localhost:{p}/{stage}/"),
        None => format!("{scheme}://{api}.execute-api.localhost/{stage}/"),
    };
    let path_form = format!("{front}/restapis/{api}/{stage}/_user_request_/");
    Ok([host_form, path_form])
}

/// The function a Lambda integration URI points at
/// (`arn:aws:apigateway:R:lambda:path/2015-03-31/functions/ARN/invocations`):
/// its name, with `:qualifier` when there is one.
pub(crate) fn lambda_function(uri: &str) -> Option<String> {
    let (_, rest) = uri.split_once(":lambda:path/")?;
    let (_, rest) = rest.split_once("/functions/")?;
    let target = rest.strip_suffix("/invocations").unwrap_or(rest);
    if target.is_empty() {
        return None;
    }
    if let Some(arn) = target.strip_prefix("arn:") {
        // aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        let parts: Vec<&str> = arn.split(':').collect();
        return match parts.as_slice() {
            [_, "lambda", _, _, "function", name] => Some(name.to_string()),
            [_, "lambda", _, _, "function", name, qualifier] => Some(format!("{name}:{qualifier}")),
            _ => Some(target.to_string()),
        };
    }
    Some(target.to_string())
}

/// `AWS_PROXY hello`, `MOCK`, `HTTP_PROXY https://…`, or `(none)`.
fn integration_summary(method: &Value) -> String {
    let Some(i) = method.get("methodIntegration") else {
        return "(none)".to_string();
    };
    let kind = non_empty(s(i, "type"), "?");
    let uri = s(i, "uri");
    match lambda_function(uri) {
        Some(f) => format!("{kind} {f}"),
        None if uri.is_empty() => kind.to_string(),
        None => format!("{kind} {uri}"),
    }
}

/// PATH, ID, METHODS, INTEGRATION: one row per method (a resource without
/// methods gets one row with `-`).
fn resources_table(resources: &[Value]) -> String {
    let mut rows = Vec::new();
    for r in resources {
        let path = s(r, "path").to_string();
        let id = s(r, "id").to_string();
        let methods = r.get("resourceMethods").and_then(Value::as_object);
        match methods {
            Some(m) if !m.is_empty() => {
                for (name, method) in m {
                    rows.push(vec![
                        path.clone(),
                        id.clone(),
                        name.clone(),
                        integration_summary(method),
                    ]);
                }
            }
            _ => rows.push(vec![path, id, "-".into(), "-".into()]),
        }
    }
    table(&["PATH", "ID", "METHODS", "INTEGRATION"], &rows)
}

fn describe_api(api: &Value) -> String {
    let mut rows: Vec<(&str, String)> = vec![
        ("id", s(api, "id").to_string()),
        ("name", s(api, "name").to_string()),
        ("description", s(api, "description").to_string()),
        ("version", s(api, "version").to_string()),
        ("created", date(api, "createdDate")),
        ("root resource", s(api, "rootResourceId").to_string()),
    ];
    if let Some(types) = api.get("binaryMediaTypes").and_then(Value::as_array) {
        let list: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        rows.push(("binary media types", list.join(", ")));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An epoch-seconds date field as `2024-05-01 12:00:00Z`, or `-`.
pub(crate) fn date(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_f64)
        .and_then(|secs| chrono::DateTime::from_timestamp(secs as i64, 0))
        .map_or_else(|| "-".to_string(), |d| d.format("%Y-%m-%d %H:%M:%SZ").to_string())
}

fn non_empty<'a>(a: &'a str, fallback: &'a str) -> &'a str {
    if a.is_empty() { fallback } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_urls_of_a_stage() {
        let [host, path] = invoke_urls("http://127.0.0.1:8080/", "abc123defg", "prod").unwrap();
        assert_eq!(host, "http://abc123defg.execute-api.localhost:8080/prod/");
        assert_eq!(
            path,
            "http://127.0.0.1:8080/restapis/abc123defg/prod/_user_request_/"
        );
        let [host, _] = invoke_urls("gw.example", "a", "v1").unwrap();
        assert_eq!(host, "http://a.execute-api.localhost/v1/");
        let [host, _] = invoke_urls("http://[::1]:9000", "a", "v1").unwrap();
        assert_eq!(host, "http://a.execute-api.localhost:9000/v1/");
        assert!(invoke_urls(" ", "a", "v1").is_err());
    }

    #[test]
    fn lambda_uris() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello/invocations";
        assert_eq!(lambda_function(uri).as_deref(), Some("hello"));
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello:live/invocations";
        assert_eq!(lambda_function(uri).as_deref(), Some("hello:live"));
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}/invocations";
        assert_eq!(lambda_function(uri).as_deref(), Some("${stageVariables.fn}"));
        assert_eq!(lambda_function("https://example.com/x"), None);
        assert_eq!(lambda_function(""), None);
    }

    #[test]
    fn resource_rows() {
        let resources = vec![
            json!({"id": "r0", "path": "/"}),
            json!({"id": "r1", "path": "/hello", "resourceMethods": {
                "GET": {"httpMethod": "GET", "methodIntegration": {"type": "AWS_PROXY",
                    "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:hello/invocations"}},
                "OPTIONS": {"httpMethod": "OPTIONS", "methodIntegration": {"type": "MOCK"}},
                "PUT": {"httpMethod": "PUT"}
            }}),
        ];
        assert_eq!(
            resources_table(&resources),
            "PATH    ID  METHODS  INTEGRATION\n\
             /       r0  -        -\n\
             /hello  r1  GET      AWS_PROXY hello\n\
             /hello  r1  OPTIONS  MOCK\n\
             /hello  r1  PUT      (none)"
        );
    }

    #[test]
    fn dates_and_warnings() {
        assert_eq!(date(&json!({"d": 0}), "d"), "1970-01-01 00:00:00Z");
        assert_eq!(date(&json!({}), "d"), "-");
        assert_eq!(warnings(&json!({"warnings": ["a", "b"]})), vec!["a", "b"]);
        assert!(warnings(&json!({})).is_empty());
    }

    #[test]
    fn not_found_errors() {
        let e: anyhow::Error = super::super::client::parse_api_error(
            404,
            Some("NotFoundException"),
            br#"{"message":"Invalid API identifier specified"}"#,
        )
        .into();
        assert!(is_not_found(&e));
        assert!(!is_not_found(&anyhow::anyhow!("other")));
    }

    #[test]
    fn clap_definitions_are_valid() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            api: ApiCommand,
        }
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "portico",
            "put",
            "--api",
            "abc",
            "--file",
            "x.yaml",
            "--mode",
            "overwrite",
        ])
        .unwrap();
        assert!(matches!(
            cli.api,
            ApiCommand::Put {
                mode: PutMode::Overwrite,
                ..
            }
        ));
        let cli = Cli::try_parse_from(["portico", "put", "--api", "abc", "--file", "x.yaml"]).unwrap();
        assert!(matches!(
            cli.api,
            ApiCommand::Put {
                mode: PutMode::Merge,
                ..
            }
        ));
        assert!(Cli::try_parse_from(["portico", "stage-switch", "--api", "a", "--stage", "s"]).is_err());

        #[derive(Parser)]
        struct DeployCli {
            #[command(flatten)]
            args: super::super::deploy::DeployArgs,
        }
        DeployCli::command().debug_assert();
        let d = DeployCli::try_parse_from(["portico", "api.yaml", "--stage", "prod"]).unwrap();
        assert_eq!(d.args.stage, "prod");
        assert!(d.args.functions.is_none());
    }
}
