//! `portico deploy`: the declarative, idempotent deploy of a directory of
//! functions and an OpenAPI document to a stage.
//!
//! 1. Every `NAME.wasm` in `--functions` becomes function `NAME`: created when
//!    missing, its code updated when `CodeSha256` differs from the file's,
//!    left alone otherwise.
//! 2. The REST API is found by name (`--api-name`, else `info.title`):
//!    imported when missing, else overwritten with the document.
//! 3. A deployment is made to the stage with the description
//!    `portico-deploy sha256:<hex of the document>`. When the stage already
//!    serves a deployment with that description and no function code
//!    changed, steps 2 and 3 are skipped: nothing new is created.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use ureq::http::Method;

use super::api::{
    Front, PutMode, api_path, create_deployment, import_rest_api, invoke_urls, is_not_found, list_items,
    put_rest_api, warnings,
};
use super::client::{Client, Payload, encode, function_path};
use super::function::Common;
use super::output::{out, out_json, s};

const LAMBDA_API: &str = "2015-03-31";
const ROLE: &str = "arn:aws:iam::000000000000:role/portico";
const RUNTIME: &str = "provided.al2023";
const FINGERPRINT_PREFIX: &str = "portico-deploy sha256:";

/// `portico deploy <openapi-file> --stage NAME …`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// The OpenAPI document (JSON or YAML) describing the REST API.
    #[arg(value_name = "OPENAPI_FILE")]
    pub file: PathBuf,
    /// Stage to deploy to (created when missing).
    #[arg(long, value_name = "NAME")]
    pub stage: String,
    /// Directory of NAME.wasm files; each becomes (or updates) function NAME.
    #[arg(long, value_name = "DIR")]
    pub functions: Option<PathBuf>,
    /// Name of the REST API to create or update [default: the document's info.title].
    #[arg(long, value_name = "NAME")]
    pub api_name: Option<String>,
    #[command(flatten)]
    pub front: Front,
    #[command(flatten)]
    pub common: Common,
}

/// Runs `portico deploy` against the management API.
pub fn run_deploy(args: DeployArgs) -> ExitCode {
    match deploy(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One `NAME.wasm` of the functions directory.
struct LocalFunction {
    name: String,
    bytes: Vec<u8>,
    /// base64 of the SHA-256 of the bytes, as Lambda's `CodeSha256`.
    sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FunctionAction {
    Created,
    Updated,
    Unchanged,
}

impl FunctionAction {
    fn as_str(self) -> &'static str {
        match self {
            FunctionAction::Created => "created",
            FunctionAction::Updated => "updated",
            FunctionAction::Unchanged => "unchanged",
        }
    }
}

fn deploy(args: &DeployArgs) -> Result<()> {
    let document = super::api::read_document(&args.file)?;
    let api_name = match &args.api_name {
        Some(n) if !n.trim().is_empty() => n.clone(),
        Some(_) => bail!("--api-name is empty"),
        None => document_title(&document).with_context(|| {
            format!(
                "{} has no info.title to name the REST API by; pass --api-name",
                args.file.display()
            )
        })?,
    };
    let locals = match &args.functions {
        Some(dir) => local_functions(dir)?,
        None => Vec::new(),
    };
    let fingerprint = fingerprint(&document);
    let client = Client::new(&args.common.endpoint)?;
    let human = !args.common.json;

    // 1. Functions.
    let mut function_report = Vec::new();
    let mut code_changed = false;
    for f in &locals {
        let action = sync_function(&client, f)?;
        code_changed |= action != FunctionAction::Unchanged;
        if human {
            out(&format!("function {}: {}", f.name, action.as_str()));
        }
        function_report.push(json!({ "name": f.name, "action": action.as_str(), "codeSha256": f.sha256 }));
    }
    if human && args.functions.is_some() && locals.is_empty() {
        out("no .wasm files in the functions directory");
    }

    // 2. The REST API, by name.
    let existing = find_api(&client, &api_name)?;
    let served = match &existing {
        Some(id) => served_deployment(&client, id, &args.stage)?,
        None => None,
    };
    let up_to_date = !code_changed
        && served
            .as_ref()
            .is_some_and(|d| s(d, "description") == fingerprint);

    let (api_id, api_action, import_warnings) = match (&existing, up_to_date) {
        (Some(id), true) => (id.clone(), "unchanged", Vec::new()),
        (Some(id), false) => {
            let got = put_rest_api(&client, id, document, PutMode::Overwrite, false)?;
            restore_name(&client, &got, &api_name)?;
            (id.clone(), "updated", warnings(&got))
        }
        (None, _) => {
            let got = import_rest_api(&client, document, false)?;
            let id = s(&got, "id").to_string();
            if id.is_empty() {
                bail!("ImportRestApi answered without an API id");
            }
            restore_name(&client, &got, &api_name)?;
            (id, "imported", warnings(&got))
        }
    };
    if human {
        if up_to_date {
            out(&format!("REST API {api_id} ({api_name}): up to date"));
        } else {
            out(&format!("REST API {api_id} ({api_name}): {api_action}"));
        }
        for w in &import_warnings {
            out(&format!("  warning: {w}"));
        }
    }

    // 3. The deployment.
    let (deployment_id, deployment_action) = match (up_to_date, &served) {
        (true, Some(d)) => (s(d, "id").to_string(), "unchanged"),
        _ => {
            let d = create_deployment(&client, &api_id, &args.stage, Some(&fingerprint))?;
            (s(&d, "id").to_string(), "created")
        }
    };
    let urls = invoke_urls(&args.front.front, &api_id, &args.stage)?;
    if human {
        out(&format!(
            "stage {}: deployment {deployment_id} {deployment_action}",
            args.stage
        ));
        for url in &urls {
            out(&format!("  {url}"));
        }
    } else {
        out_json(&json!({
            "functions": function_report,
            "api": { "id": api_id, "name": api_name, "action": api_action, "warnings": import_warnings },
            "deployment": { "id": deployment_id, "stage": args.stage, "action": deployment_action,
                            "description": fingerprint },
            "upToDate": up_to_date,
            "invokeUrls": urls,
        }));
    }
    Ok(())
}

/// `portico-deploy sha256:<hex>` of the document bytes.
fn fingerprint(document: &[u8]) -> String {
    format!("{FINGERPRINT_PREFIX}{}", hex::encode(Sha256::digest(document)))
}

/// `info.title` of a JSON or YAML document.
fn document_title(document: &[u8]) -> Option<String> {
    let title = match serde_json::from_slice::<Value>(document) {
        Ok(v) => v
            .pointer("/info/title")
            .and_then(Value::as_str)
            .map(str::to_string),
        Err(_) => {
            let v: serde_yaml::Value = serde_yaml::from_slice(document).ok()?;
            v.get("info")
                .and_then(|i| i.get("title"))
                .and_then(serde_yaml::Value::as_str)
                .map(str::to_string)
        }
    };
    title.filter(|t| !t.trim().is_empty())
}

/// The `NAME.wasm` files of a directory, sorted by name.
fn local_functions(dir: &Path) -> Result<Vec<LocalFunction>> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut functions = Vec::new();
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .with_context(|| format!("cannot name a function after {}", path.display()))?
            .to_string();
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if !bytes.starts_with(b"\0asm") {
            bail!("{} is not a WebAssembly module (.wasm)", path.display());
        }
        let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
        functions.push(LocalFunction { name, bytes, sha256 });
    }
    Ok(functions)
}

/// Creates the function, updates its code, or leaves it alone.
fn sync_function(client: &Client, f: &LocalFunction) -> Result<FunctionAction> {
    let zip_file = || base64::engine::general_purpose::STANDARD.encode(&f.bytes);
    let current = match client.get(&function_path(LAMBDA_API, &f.name, ""), &[]) {
        Ok(reply) => Some(reply.json()?),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(e.context(format!("GetFunction {}", f.name))),
    };
    match current {
        None => {
            let body = json!({
                "FunctionName": f.name,
                "Role": ROLE,
                "Runtime": RUNTIME,
                "Handler": f.name,
                "Code": { "ZipFile": zip_file() },
            });
            client
                .post_json(&format!("/{LAMBDA_API}/functions"), body)
                .with_context(|| format!("CreateFunction {}", f.name))?;
            Ok(FunctionAction::Created)
        }
        Some(got) => {
            let sha = got
                .pointer("/Configuration/CodeSha256")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if sha == f.sha256 {
                return Ok(FunctionAction::Unchanged);
            }
            client
                .put_json(
                    &function_path(LAMBDA_API, &f.name, "/code"),
                    json!({ "ZipFile": zip_file() }),
                )
                .with_context(|| format!("UpdateFunctionCode {}", f.name))?;
            Ok(FunctionAction::Updated)
        }
    }
}

/// The id of the one REST API named `name`, if any.
fn find_api(client: &Client, name: &str) -> Result<Option<String>> {
    let apis = list_items(client, "/restapis", &[])?;
    let ids: Vec<&str> = apis
        .iter()
        .filter(|a| s(a, "name") == name)
        .map(|a| s(a, "id"))
        .collect();
    match ids.as_slice() {
        [] => Ok(None),
        [id] => Ok(Some(id.to_string())),
        many => bail!(
            "{} REST APIs are named {name:?} ({}); delete the extra ones or pass another --api-name",
            many.len(),
            many.join(", ")
        ),
    }
}

/// The deployment a stage serves, or `None` when the stage does not exist.
fn served_deployment(client: &Client, api: &str, stage: &str) -> Result<Option<Value>> {
    let stage_path = api_path(api, &format!("/stages/{}", encode(stage)));
    let got = match client.get(&stage_path, &[]) {
        Ok(reply) => reply.json()?,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let deployment = s(&got, "deploymentId");
    if deployment.is_empty() {
        return Ok(None);
    }
    let path = api_path(api, &format!("/deployments/{}", encode(deployment)));
    match client.get(&path, &[]) {
        Ok(reply) => Ok(Some(reply.json()?)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Importing names the API after `info.title`; renames it to `--api-name`
/// when they differ, so the next run finds it again.
fn restore_name(client: &Client, api: &Value, name: &str) -> Result<()> {
    if s(api, "name") == name {
        return Ok(());
    }
    let body = json!({ "patchOperations": [{ "op": "replace", "path": "/name", "value": name }] });
    client
        .call(
            Method::PATCH,
            &api_path(s(api, "id"), ""),
            &[],
            &[],
            Payload::Json(body),
        )
        .context("renaming the REST API")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_json_and_yaml() {
        assert_eq!(
            document_title(br#"{"openapi":"3.0.1","info":{"title":"pets","version":"1"}}"#).as_deref(),
            Some("pets")
        );
        assert_eq!(
            document_title(b"openapi: 3.0.1\ninfo:\n  title: shop\n  version: '1'\npaths: {}\n").as_deref(),
            Some("shop")
        );
        assert_eq!(document_title(br#"{"info":{"title":"  "}}"#), None);
        assert_eq!(document_title(b"{not json: ["), None);
    }

    #[test]
    fn fingerprints() {
        assert_eq!(
            fingerprint(b""),
            "portico-deploy sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }

    #[test]
    fn functions_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.wasm"), b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(dir.path().join("a.wasm"), b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let found = local_functions(dir.path()).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(found[0].sha256, "k6RLu5bHUSGOTADUeeTBQ1gSKjiazKFiBbHk0NxflHY=");
        std::fs::write(dir.path().join("c.wasm"), b"(module)").unwrap();
        assert!(local_functions(dir.path()).is_err());
        assert!(local_functions(&dir.path().join("missing")).is_err());
    }
}
