//! `portico function …`: the subcommands, the Lambda API calls behind them
//! and what they print (a short human summary, or the response with `--json`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use ureq::http::Method;

use super::client::{Client, DEFAULT_ENDPOINT, Payload, function_path};
use super::output::{human_size, n, out, out_bytes, out_json, s, shell_word, table};

const API: &str = "2015-03-31";
const DEFAULT_ROLE: &str = "arn:aws:iam::000000000000:role/portico";
const DEFAULT_RUNTIME: &str = "provided.al2023";
/// Guards against a server that keeps answering with the same marker.
const MAX_PAGES: usize = 100_000;

/// Flags every `portico function` subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Management API of a running `portico serve`.
    #[arg(long, env = "PORTICO_ENDPOINT", default_value = DEFAULT_ENDPOINT, value_name = "URL")]
    pub endpoint: String,
    /// Print the raw JSON response (pretty) instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// `--type` of `portico function invoke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InvocationType {
    /// Wait for the result (X-Amz-Invocation-Type: RequestResponse).
    RequestResponse,
    /// Queue the invocation and return at once (202).
    Event,
    /// Only check that the function exists and may be invoked (204).
    DryRun,
}

impl InvocationType {
    fn wire(self) -> &'static str {
        match self {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
            InvocationType::DryRun => "DryRun",
        }
    }
}

/// Manage and invoke functions on a running gateway.
#[derive(Debug, clap::Subcommand)]
pub enum FunctionCommand {
    /// Create a function from a .wasm module or a zip holding one.
    Create {
        /// Function name.
        #[arg(long)]
        name: String,
        /// The code: a .wasm file, or a .zip holding the .wasm.
        #[arg(long, value_name = "PATH")]
        code: PathBuf,
        /// Memory in MB.
        #[arg(long, value_name = "MB")]
        memory: Option<u32>,
        /// Timeout in seconds.
        #[arg(long, value_name = "S")]
        timeout: Option<u32>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Environment variable (repeatable).
        #[arg(long, value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Execution role ARN (recorded, not enforced).
        #[arg(long, value_name = "ARN", default_value = DEFAULT_ROLE)]
        role: String,
        /// Runtime recorded in the configuration.
        #[arg(long, default_value = DEFAULT_RUNTIME)]
        runtime: String,
        /// Handler [default: the code file's stem].
        #[arg(long)]
        handler: Option<String>,
        /// Also publish version 1.
        #[arg(long)]
        publish: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Replace the code of $LATEST.
    UpdateCode {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// The code: a .wasm file, or a .zip holding the .wasm.
        #[arg(long, value_name = "PATH")]
        code: PathBuf,
        /// Also publish a new version.
        #[arg(long)]
        publish: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Change the configuration of $LATEST (only the flags given).
    UpdateConfig {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// Memory in MB.
        #[arg(long, value_name = "MB")]
        memory: Option<u32>,
        /// Timeout in seconds.
        #[arg(long, value_name = "S")]
        timeout: Option<u32>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Environment variable (repeatable); replaces the whole set.
        #[arg(long, value_name = "KEY=VALUE", conflicts_with = "clear_env")]
        env: Vec<String>,
        /// Remove all environment variables.
        #[arg(long)]
        clear_env: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Invoke a function and print its result.
    Invoke {
        /// Function name, name:qualifier or ARN.
        #[arg(long)]
        name: String,
        /// Version or alias.
        #[arg(long)]
        qualifier: Option<String>,
        /// The event, as JSON.
        #[arg(long, value_name = "JSON", conflicts_with = "payload_file")]
        payload: Option<String>,
        /// Read the event from a file (`-` for stdin).
        #[arg(long, value_name = "PATH")]
        payload_file: Option<PathBuf>,
        #[arg(long = "type", value_enum, default_value_t = InvocationType::RequestResponse)]
        invocation_type: InvocationType,
        /// Print the tail of the function's log to stderr.
        #[arg(long)]
        log: bool,
        #[command(flatten)]
        common: Common,
    },
    /// List functions.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Show a function's configuration.
    Get {
        /// Function name, name:qualifier or ARN.
        #[arg(long)]
        name: String,
        /// Version or alias.
        #[arg(long)]
        qualifier: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Delete a function (or, with --qualifier, one version).
    Delete {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// Version to delete.
        #[arg(long)]
        qualifier: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Publish $LATEST as a new version.
    Publish {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List a function's versions.
    Versions {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// Manage aliases.
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Manage reserved concurrency.
    #[command(subcommand)]
    Concurrency(ConcurrencyCommand),
}

/// `portico function alias …`.
#[derive(Debug, clap::Subcommand)]
pub enum AliasCommand {
    /// Create an alias pointing at a version.
    Create {
        /// Function name.
        #[arg(long)]
        name: String,
        /// Alias name.
        #[arg(long)]
        alias: String,
        /// Version the alias points at.
        #[arg(long)]
        version: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Show an alias.
    Get {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// Alias name.
        #[arg(long)]
        alias: String,
        #[command(flatten)]
        common: Common,
    },
    /// Repoint an alias or change its description.
    Update {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// Alias name.
        #[arg(long)]
        alias: String,
        /// New version the alias points at.
        #[arg(long)]
        version: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Delete an alias.
    Delete {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// Alias name.
        #[arg(long)]
        alias: String,
        #[command(flatten)]
        common: Common,
    },
    /// List a function's aliases.
    List {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

/// `portico function concurrency …`.
#[derive(Debug, clap::Subcommand)]
pub enum ConcurrencyCommand {
    /// Reserve concurrency for a function.
    Put {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        /// Reserved concurrent executions (0 disables invocations).
        #[arg(long, value_name = "N")]
        reserved: u32,
        #[command(flatten)]
        common: Common,
    },
    /// Show a function's reserved concurrency.
    Get {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// Remove a function's reserved concurrency.
    Delete {
        /// Function name (or ARN).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

/// Runs one `portico function` subcommand against the management API.
pub fn run_function(cmd: FunctionCommand) -> ExitCode {
    match run(cmd) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: FunctionCommand) -> Result<ExitCode> {
    match cmd {
        FunctionCommand::Create {
            name,
            code,
            memory,
            timeout,
            description,
            env,
            role,
            runtime,
            handler,
            publish,
            common,
        } => {
            let vars = parse_env(&env)?;
            let bytes = read_code(&code)?;
            let handler = match handler {
                Some(h) => h,
                None => default_handler(&code)?,
            };
            let mut body = json!({
                "FunctionName": name,
                "Role": role,
                "Runtime": runtime,
                "Handler": handler,
                "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(&bytes) },
                "Publish": publish,
            });
            if let Some(d) = description {
                body["Description"] = d.into();
            }
            if let Some(t) = timeout {
                body["Timeout"] = t.into();
            }
            if let Some(m) = memory {
                body["MemorySize"] = m.into();
            }
            if !vars.is_empty() {
                body["Environment"] = json!({ "Variables": vars });
            }
            let client = Client::new(&common.endpoint)?;
            let cfg = client.post_json(&format!("/{API}/functions"), body)?.json()?;
            if common.json {
                out_json(&cfg);
            } else {
                let fname = non_empty(s(&cfg, "FunctionName"), &name);
                out(&format!("created function {}", config_summary(&cfg, fname)));
                out(&format!(
                    "invoke: portico function invoke --name {} --payload '{{}}'",
                    shell_word(fname)
                ));
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::UpdateCode {
            name,
            code,
            publish,
            common,
        } => {
            let bytes = read_code(&code)?;
            let body = json!({
                "ZipFile": base64::engine::general_purpose::STANDARD.encode(&bytes),
                "Publish": publish,
            });
            let client = Client::new(&common.endpoint)?;
            let cfg = client
                .put_json(&function_path(API, &name, "/code"), body)?
                .json()?;
            if common.json {
                out_json(&cfg);
            } else {
                let fname = non_empty(s(&cfg, "FunctionName"), &name);
                out(&format!("updated code of {}", config_summary(&cfg, fname)));
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::UpdateConfig {
            name,
            memory,
            timeout,
            description,
            env,
            clear_env,
            common,
        } => {
            let vars = parse_env(&env)?;
            let mut body = Map::new();
            if let Some(m) = memory {
                body.insert("MemorySize".into(), m.into());
            }
            if let Some(t) = timeout {
                body.insert("Timeout".into(), t.into());
            }
            if let Some(d) = description {
                body.insert("Description".into(), d.into());
            }
            if clear_env || !vars.is_empty() {
                body.insert("Environment".into(), json!({ "Variables": vars }));
            }
            if body.is_empty() {
                bail!(
                    "nothing to update: give --memory, --timeout, --description, --env KEY=VALUE or --clear-env"
                );
            }
            let client = Client::new(&common.endpoint)?;
            let cfg = client
                .put_json(&function_path(API, &name, "/configuration"), Value::Object(body))?
                .json()?;
            if common.json {
                out_json(&cfg);
            } else {
                let fname = non_empty(s(&cfg, "FunctionName"), &name);
                let env_count = cfg
                    .pointer("/Environment/Variables")
                    .and_then(Value::as_object)
                    .map_or(0, Map::len);
                out(&format!(
                    "updated configuration of {fname}: memory {} MB, timeout {} s, {} environment variable{}",
                    n(&cfg, "MemorySize"),
                    n(&cfg, "Timeout"),
                    env_count,
                    if env_count == 1 { "" } else { "s" }
                ));
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::Invoke {
            name,
            qualifier,
            payload,
            payload_file,
            invocation_type,
            log,
            common,
        } => invoke(
            &name,
            qualifier.as_deref(),
            load_payload(payload.as_deref(), payload_file.as_deref())?,
            invocation_type,
            log,
            &common,
        ),

        FunctionCommand::List { common } => {
            let client = Client::new(&common.endpoint)?;
            let functions = list_all(&client, &format!("/{API}/functions"), "Functions")?;
            if common.json {
                out_json(&json!({ "Functions": functions }));
            } else if functions.is_empty() {
                out("no functions (create one: portico function create --name NAME --code PATH.wasm)");
            } else {
                let rows: Vec<Vec<String>> = functions
                    .iter()
                    .map(|f| {
                        vec![
                            s(f, "FunctionName").to_string(),
                            s(f, "Version").to_string(),
                            format!("{} MB", n(f, "MemorySize")),
                            format!("{} s", n(f, "Timeout")),
                            s(f, "LastModified").to_string(),
                        ]
                    })
                    .collect();
                out(&table(
                    &["NAME", "VERSION", "MEMORY", "TIMEOUT", "LAST MODIFIED"],
                    &rows,
                ));
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::Get {
            name,
            qualifier,
            common,
        } => {
            let client = Client::new(&common.endpoint)?;
            let query = qualifier_query(qualifier.as_deref());
            let got = client.get(&function_path(API, &name, ""), &query)?.json()?;
            if common.json {
                out_json(&got);
            } else {
                out(&describe_function(&got));
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::Delete {
            name,
            qualifier,
            common,
        } => {
            let client = Client::new(&common.endpoint)?;
            let query = qualifier_query(qualifier.as_deref());
            let reply = client.delete(&function_path(API, &name, ""), &query)?;
            if common.json {
                if !reply.body.is_empty() {
                    out_json(&reply.json()?);
                }
            } else {
                match qualifier {
                    Some(q) => out(&format!("deleted version {q} of {name}")),
                    None => out(&format!(
                        "deleted function {name} (with its versions and aliases)"
                    )),
                }
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::Publish {
            name,
            description,
            common,
        } => {
            let mut body = Map::new();
            if let Some(d) = description {
                body.insert("Description".into(), d.into());
            }
            let client = Client::new(&common.endpoint)?;
            let cfg = client
                .post_json(&function_path(API, &name, "/versions"), Value::Object(body))?
                .json()?;
            if common.json {
                out_json(&cfg);
            } else {
                let fname = non_empty(s(&cfg, "FunctionName"), &name);
                let version = s(&cfg, "Version");
                out(&format!(
                    "published {fname} version {version}, {}, sha256 {}",
                    code_size(&cfg),
                    s(&cfg, "CodeSha256")
                ));
                out(&format!(
                    "invoke: portico function invoke --name {} --qualifier {} --payload '{{}}'",
                    shell_word(fname),
                    shell_word(version)
                ));
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::Versions { name, common } => {
            let client = Client::new(&common.endpoint)?;
            let versions = list_all(&client, &function_path(API, &name, "/versions"), "Versions")?;
            if common.json {
                out_json(&json!({ "Versions": versions }));
            } else {
                let rows: Vec<Vec<String>> = versions
                    .iter()
                    .map(|v| {
                        vec![
                            s(v, "Version").to_string(),
                            code_size(v),
                            s(v, "CodeSha256").to_string(),
                            s(v, "LastModified").to_string(),
                            s(v, "Description").to_string(),
                        ]
                    })
                    .collect();
                out(&table(
                    &["VERSION", "SIZE", "SHA256", "LAST MODIFIED", "DESCRIPTION"],
                    &rows,
                ));
            }
            Ok(ExitCode::SUCCESS)
        }

        FunctionCommand::Alias(cmd) => run_alias(cmd),
        FunctionCommand::Concurrency(cmd) => run_concurrency(cmd),
    }
}

fn run_alias(cmd: AliasCommand) -> Result<ExitCode> {
    let aliases = |name: &str| function_path(API, name, "/aliases");
    let one = |name: &str, alias: &str| format!("{}/{}", aliases(name), super::client::encode(alias));
    match cmd {
        AliasCommand::Create {
            name,
            alias,
            version,
            description,
            common,
        } => {
            let mut body = json!({ "Name": alias, "FunctionVersion": version });
            if let Some(d) = description {
                body["Description"] = d.into();
            }
            let client = Client::new(&common.endpoint)?;
            let got = client.post_json(&aliases(&name), body)?.json()?;
            show_alias(&got, &common, "created alias", &name);
        }
        AliasCommand::Get { name, alias, common } => {
            let client = Client::new(&common.endpoint)?;
            let got = client.get(&one(&name, &alias), &[])?.json()?;
            show_alias(&got, &common, "alias", &name);
        }
        AliasCommand::Update {
            name,
            alias,
            version,
            description,
            common,
        } => {
            let mut body = Map::new();
            if let Some(v) = version {
                body.insert("FunctionVersion".into(), v.into());
            }
            if let Some(d) = description {
                body.insert("Description".into(), d.into());
            }
            if body.is_empty() {
                bail!("nothing to update: give --version or --description");
            }
            let client = Client::new(&common.endpoint)?;
            let got = client
                .put_json(&one(&name, &alias), Value::Object(body))?
                .json()?;
            show_alias(&got, &common, "updated alias", &name);
        }
        AliasCommand::Delete { name, alias, common } => {
            let client = Client::new(&common.endpoint)?;
            let reply = client.delete(&one(&name, &alias), &[])?;
            if common.json {
                if !reply.body.is_empty() {
                    out_json(&reply.json()?);
                }
            } else {
                out(&format!("deleted alias {alias} of {name}"));
            }
        }
        AliasCommand::List { name, common } => {
            let client = Client::new(&common.endpoint)?;
            let list = list_all(&client, &aliases(&name), "Aliases")?;
            if common.json {
                out_json(&json!({ "Aliases": list }));
            } else if list.is_empty() {
                out(&format!("no aliases for {name}"));
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|a| {
                        vec![
                            s(a, "Name").to_string(),
                            s(a, "FunctionVersion").to_string(),
                            s(a, "Description").to_string(),
                        ]
                    })
                    .collect();
                out(&table(&["NAME", "VERSION", "DESCRIPTION"], &rows));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_alias(alias: &Value, common: &Common, verb: &str, function: &str) {
    if common.json {
        out_json(alias);
        return;
    }
    let mut line = format!(
        "{verb} {} → {function} version {}",
        s(alias, "Name"),
        s(alias, "FunctionVersion")
    );
    let description = s(alias, "Description");
    if !description.is_empty() {
        line.push_str(&format!(" ({description})"));
    }
    out(&line);
    let arn = s(alias, "AliasArn");
    if !arn.is_empty() {
        out(&format!("arn: {arn}"));
    }
}

fn run_concurrency(cmd: ConcurrencyCommand) -> Result<ExitCode> {
    match cmd {
        ConcurrencyCommand::Put {
            name,
            reserved,
            common,
        } => {
            let client = Client::new(&common.endpoint)?;
            let got = client
                .put_json(
                    &function_path("2017-10-31", &name, "/concurrency"),
                    json!({ "ReservedConcurrentExecutions": reserved }),
                )?
                .json()?;
            if common.json {
                out_json(&got);
            } else {
                out(&format!(
                    "reserved concurrency of {name}: {}",
                    n(&got, "ReservedConcurrentExecutions")
                ));
            }
        }
        ConcurrencyCommand::Get { name, common } => {
            let client = Client::new(&common.endpoint)?;
            let got = client
                .get(&function_path("2019-09-30", &name, "/concurrency"), &[])?
                .json()?;
            if common.json {
                out_json(&got);
            } else if got.get("ReservedConcurrentExecutions").is_some() {
                out(&format!(
                    "reserved concurrency of {name}: {}",
                    n(&got, "ReservedConcurrentExecutions")
                ));
            } else {
                out(&format!(
                    "{name} has no reserved concurrency (it uses the unreserved pool)"
                ));
            }
        }
        ConcurrencyCommand::Delete { name, common } => {
            let client = Client::new(&common.endpoint)?;
            let reply = client.delete(&function_path("2017-10-31", &name, "/concurrency"), &[])?;
            if common.json {
                if !reply.body.is_empty() {
                    out_json(&reply.json()?);
                }
            } else {
                out(&format!("removed the reserved concurrency of {name}"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn invoke(
    name: &str,
    qualifier: Option<&str>,
    payload: Option<Vec<u8>>,
    invocation_type: InvocationType,
    log: bool,
    common: &Common,
) -> Result<ExitCode> {
    let client = Client::new(&common.endpoint)?;
    let mut headers = vec![("X-Amz-Invocation-Type", invocation_type.wire())];
    if log {
        headers.push(("X-Amz-Log-Type", "Tail"));
    }
    let reply = client.call(
        Method::POST,
        &function_path(API, name, "/invocations"),
        &qualifier_query(qualifier),
        &headers,
        payload.map_or(Payload::None, Payload::Raw),
    )?;
    let function_error = reply.header("x-amz-function-error").map(str::to_string);
    let log_result = reply.header("x-amz-log-result");
    if log && let Some(b64) = log_result {
        let text = decode_log(b64);
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        if !text.is_empty() && !text.ends_with('\n') {
            let _ = stderr.write_all(b"\n");
        }
    }
    if common.json {
        let mut v = json!({ "StatusCode": reply.status });
        if let Some(fe) = &function_error {
            v["FunctionError"] = fe.as_str().into();
        }
        if let Some(l) = log_result {
            v["LogResult"] = l.into();
        }
        if let Some(ver) = reply.header("x-amz-executed-version") {
            v["ExecutedVersion"] = ver.into();
        }
        if !reply.body.is_empty() {
            v["Payload"] = serde_json::from_slice(&reply.body)
                .unwrap_or_else(|_| String::from_utf8_lossy(&reply.body).into_owned().into());
        }
        out_json(&v);
    } else {
        match reply.status {
            202 => out(&format!(
                "queued an asynchronous invocation of {name} (202 Accepted)"
            )),
            204 => out(&format!(
                "dry run: {name} exists and may be invoked (204 No Content)"
            )),
            _ => out_bytes(&reply.body),
        }
    }
    match function_error {
        None => Ok(ExitCode::SUCCESS),
        Some(kind) => {
            let detail = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .map(|b| {
                    let (t, m) = (s(&b, "errorType"), s(&b, "errorMessage"));
                    match (t.is_empty(), m.is_empty()) {
                        (false, false) => format!(": {t}: {m}"),
                        (true, false) => format!(": {m}"),
                        (false, true) => format!(": {t}"),
                        (true, true) => String::new(),
                    }
                })
                .unwrap_or_default();
            let _ = writeln!(
                std::io::stderr(),
                "error: function {name} failed ({kind}){detail}"
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Collects every page of a listing by following `NextMarker`.
fn list_all(client: &Client, path: &str, key: &str) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let query: Vec<(&str, &str)> = marker.iter().map(|m| ("Marker", m.as_str())).collect();
        let page = client.get(path, &query)?.json()?;
        if let Some(list) = page.get(key).and_then(Value::as_array) {
            items.extend(list.iter().cloned());
        }
        match page.get("NextMarker").and_then(Value::as_str) {
            Some(next) if !next.is_empty() && marker.as_deref() != Some(next) => {
                marker = Some(next.to_string());
            }
            _ => return Ok(items),
        }
    }
    Ok(items)
}

fn qualifier_query(qualifier: Option<&str>) -> Vec<(&'static str, &str)> {
    qualifier.map(|q| ("Qualifier", q)).into_iter().collect()
}

/// Parses repeated `--env KEY=VALUE` flags (later keys win).
pub(crate) fn parse_env(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    for item in items {
        match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                vars.insert(k.trim().to_string(), v.to_string());
            }
            _ => bail!("--env expects KEY=VALUE, got {item:?}"),
        }
    }
    Ok(vars)
}

/// Reads a code file and checks it is a wasm module or a zip.
fn read_code(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    check_code(path, &bytes)?;
    Ok(bytes)
}

fn check_code(path: &Path, bytes: &[u8]) -> Result<()> {
    if bytes.starts_with(b"\0asm") || bytes.starts_with(b"PK\x03\x04") {
        return Ok(());
    }
    if bytes.is_empty() {
        bail!("{} is empty", path.display());
    }
    let text_format = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'(' || b == b';');
    if text_format {
        bail!(
            "{} looks like WebAssembly text (.wat); compile it to a binary .wasm first (e.g. wat2wasm)",
            path.display()
        );
    }
    bail!(
        "{} is neither a WebAssembly module (.wasm) nor a zip file",
        path.display()
    )
}

/// The handler defaults to the code file's stem (`hello.wasm` → `hello`).
fn default_handler(code: &Path) -> Result<String> {
    code.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .with_context(|| format!("cannot derive a handler from {}; pass --handler", code.display()))
}

/// Reads and validates the invoke payload before anything is sent.
fn load_payload(inline: Option<&str>, file: Option<&Path>) -> Result<Option<Vec<u8>>> {
    let (bytes, origin) = match (inline, file) {
        (Some(p), _) => (p.as_bytes().to_vec(), "--payload".to_string()),
        (None, Some(path)) if path == Path::new("-") => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .context("cannot read the payload from stdin")?;
            (buf, "the payload on stdin".to_string())
        }
        (None, Some(path)) => (
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            path.display().to_string(),
        ),
        (None, None) => return Ok(None),
    };
    check_payload(&bytes, &origin)?;
    Ok(Some(bytes))
}

fn check_payload(bytes: &[u8], origin: &str) -> Result<()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .with_context(|| {
            format!("{origin} is not valid JSON (the event must be a JSON document, e.g. '{{\"key\": \"value\"}}')")
        })
}

fn decode_log(b64: &str) -> String {
    match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => b64.to_string(),
    }
}

fn non_empty<'a>(a: &'a str, fallback: &'a str) -> &'a str {
    if a.is_empty() { fallback } else { a }
}

fn code_size(cfg: &Value) -> String {
    cfg.get("CodeSize")
        .and_then(Value::as_u64)
        .map_or_else(|| "-".to_string(), human_size)
}

/// `hello ($LATEST), 12.3 KB, sha256 …, memory 128 MB, timeout 3 s`.
fn config_summary(cfg: &Value, name: &str) -> String {
    let version = match s(cfg, "Version") {
        "" | "$LATEST" => "($LATEST)".to_string(),
        v => format!("(version {v})"),
    };
    format!(
        "{name} {version}, {}, sha256 {}, memory {} MB, timeout {} s",
        code_size(cfg),
        s(cfg, "CodeSha256"),
        n(cfg, "MemorySize"),
        n(cfg, "Timeout"),
    )
}

/// The key fields of a GetFunction answer, one per line.
fn describe_function(got: &Value) -> String {
    let cfg = got.get("Configuration").unwrap_or(got);
    let mut rows: Vec<(&str, String)> = vec![
        ("name", s(cfg, "FunctionName").to_string()),
        ("arn", s(cfg, "FunctionArn").to_string()),
        ("version", s(cfg, "Version").to_string()),
        ("state", s(cfg, "State").to_string()),
        ("runtime", s(cfg, "Runtime").to_string()),
        ("handler", s(cfg, "Handler").to_string()),
        ("memory", format!("{} MB", n(cfg, "MemorySize"))),
        ("timeout", format!("{} s", n(cfg, "Timeout"))),
        (
            "code",
            format!("{}, sha256 {}", code_size(cfg), s(cfg, "CodeSha256")),
        ),
    ];
    let description = s(cfg, "Description");
    if !description.is_empty() {
        rows.push(("description", description.to_string()));
    }
    let env = cfg
        .pointer("/Environment/Variables")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| "(none)".to_string());
    rows.push(("environment", env));
    if let Some(c) = got.pointer("/Concurrency/ReservedConcurrentExecutions") {
        rows.push(("reserved concurrency", c.to_string()));
    }
    rows.push(("last modified", s(cfg, "LastModified").to_string()));
    if let Some(loc) = got.pointer("/Code/Location").and_then(Value::as_str) {
        rows.push(("code location", loc.to_string()));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn env_pairs() {
        let vars = parse_env(&strings(&["A=1", "B=x=y", "C=", "A=2"])).unwrap();
        assert_eq!(vars.get("A").map(String::as_str), Some("2"));
        assert_eq!(vars.get("B").map(String::as_str), Some("x=y"));
        assert_eq!(vars.get("C").map(String::as_str), Some(""));
        assert_eq!(vars.len(), 3);
        assert!(parse_env(&[]).unwrap().is_empty());
    }

    #[test]
    fn env_errors() {
        let e = parse_env(&strings(&["NOVALUE"])).unwrap_err();
        assert_eq!(e.to_string(), "--env expects KEY=VALUE, got \"NOVALUE\"");
        assert!(parse_env(&strings(&["=v"])).is_err());
    }

    #[test]
    fn code_checks() {
        let p = Path::new("f.wasm");
        assert!(check_code(p, b"\0asm\x01\0\0\0").is_ok());
        assert!(check_code(p, b"PK\x03\x04rest").is_ok());
        assert!(check_code(p, b"").is_err());
        let e = check_code(p, b"(module)").unwrap_err().to_string();
        assert!(e.contains(".wat"), "{e}");
        assert!(check_code(p, b"hello").is_err());
    }

    #[test]
    fn handler_from_stem() {
        assert_eq!(default_handler(Path::new("dir/hello.wasm")).unwrap(), "hello");
        assert_eq!(default_handler(Path::new("pkg.zip")).unwrap(), "pkg");
        assert!(default_handler(Path::new("/")).is_err());
    }

    #[test]
    fn payload_checks() {
        assert!(check_payload(b"{\"a\": 1}", "--payload").is_ok());
        assert!(check_payload(b"  ", "--payload").is_ok());
        assert!(check_payload(b"42", "--payload").is_ok());
        let e = check_payload(b"{a:1}", "--payload").unwrap_err();
        assert!(format!("{e:#}").starts_with("--payload is not valid JSON"));
        assert_eq!(load_payload(None, None).unwrap(), None);
        assert_eq!(load_payload(Some("{}"), None).unwrap(), Some(b"{}".to_vec()));
        let e = load_payload(None, Some(Path::new("/nonexistent/ev.json"))).unwrap_err();
        assert!(format!("{e:#}").starts_with("cannot read /nonexistent/ev.json: "));
    }

    #[test]
    fn qualifier_queries() {
        assert!(qualifier_query(None).is_empty());
        assert_eq!(qualifier_query(Some("live")), vec![("Qualifier", "live")]);
    }

    #[test]
    fn summaries() {
        let cfg = json!({
            "FunctionName": "hello", "Version": "$LATEST", "CodeSize": 12_595,
            "CodeSha256": "abc=", "MemorySize": 128, "Timeout": 3
        });
        assert_eq!(
            config_summary(&cfg, "hello"),
            "hello ($LATEST), 12.3 KB, sha256 abc=, memory 128 MB, timeout 3 s"
        );
        let text = describe_function(&json!({
            "Configuration": cfg,
            "Concurrency": { "ReservedConcurrentExecutions": 5 }
        }));
        assert!(text.contains("reserved concurrency  5"), "{text}");
        assert!(text.contains("environment           (none)"), "{text}");
    }

    #[test]
    fn log_decoding() {
        assert_eq!(decode_log("aGVsbG8K"), "hello\n");
        assert_eq!(decode_log("not base64!"), "not base64!");
    }

    #[test]
    fn clap_definitions_are_valid() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        #[command(version)]
        struct Cli {
            #[command(subcommand)]
            function: FunctionCommand,
        }
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "portico",
            "alias",
            "create",
            "--name",
            "hello",
            "--alias",
            "live",
            "--version",
            "1",
        ])
        .unwrap();
        assert!(matches!(
            cli.function,
            FunctionCommand::Alias(AliasCommand::Create { .. })
        ));
        assert!(
            Cli::try_parse_from([
                "portico",
                "update-config",
                "--name",
                "f",
                "--env",
                "A=1",
                "--clear-env"
            ])
            .is_err()
        );
    }
}
