//! Function lifecycle operations: CreateFunction, GetFunction(Configuration),
//! ListFunctions, UpdateFunctionCode/Configuration, DeleteFunction,
//! PublishVersion, ListVersionsByFunction.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::error::{LambdaError, LambdaResult};
use super::wire::{self, CreateFunctionInput, PublishVersionInput, UpdateCodeInput, UpdateConfigInput};
use super::{LambdaService, code, parse_body, resolve_version};
use crate::function::validate::{self, constraint};
use crate::function::{
    DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, FunctionConfig, FunctionRecord, Version, name, new_revision_id,
    now_timestamp,
};
use crate::store::StoreError;

type Svc = State<Arc<LambdaService>>;

pub(super) fn check_revision(expected: Option<&str>, actual: &str) -> LambdaResult<()> {
    match expected {
        Some(r) if r != actual => Err(LambdaError::new(
            super::error::ErrorCode::PreconditionFailed,
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

fn architectures(a: Option<Vec<String>>) -> LambdaResult<Vec<String>> {
    match a {
        None => Ok(vec!["x86_64".into()]),
        Some(v) if v.len() == 1 && (v[0] == "x86_64" || v[0] == "arm64") => Ok(v),
        Some(v) => Err(constraint(
            &format!("{v:?}"),
            "architectures",
            "Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]",
        )
        .into()),
    }
}

fn ephemeral(size: Option<i64>) -> LambdaResult<u32> {
    match size {
        None => Ok(512),
        Some(s) if (512..=10_240).contains(&s) => Ok(s as u32),
        Some(s) => Err(constraint(
            &s.to_string(),
            "ephemeralStorage.size",
            "Member must have value between 512 and 10240",
        )
        .into()),
    }
}

/// Publishes `$LATEST` as a new version unless the newest version already
/// has the same code and configuration (then that version is returned).
fn publish(record: &mut FunctionRecord, description: Option<String>) -> Version {
    if let Some((n, last)) = record.versions.iter().next_back() {
        let same = last.code == record.latest.code
            && last.memory_mb == record.latest.memory_mb
            && last.timeout_s == record.latest.timeout_s
            && last.environment == record.latest.environment
            && last.role == record.latest.role
            && last.handler == record.latest.handler;
        if same {
            return Version::Published(*n);
        }
    }
    let n = record.next_version;
    record.next_version += 1;
    let mut config = record.latest.clone();
    config.version = Version::Published(n);
    config.revision_id = new_revision_id();
    config.last_modified = now_timestamp();
    if let Some(d) = description {
        config.description = d;
    }
    record.versions.insert(n, config);
    Version::Published(n)
}

pub async fn create(State(svc): Svc, body: Bytes) -> LambdaResult<Response> {
    let input: CreateFunctionInput = parse_body(&body)?;
    let Some(fname) = input.function_name else {
        return Err(LambdaError::invalid("FunctionName is required"));
    };
    // CreateFunction takes a plain name (or an ARN naming one) without a qualifier.
    let fref = svc.function_ref(&fname, None)?;
    if fref.qualifier.is_some() || !name::is_plain_name(&fref.name) {
        return Err(constraint(&fname, "functionName", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)").into());
    }
    let role = input
        .role
        .ok_or_else(|| LambdaError::invalid("Role is required"))?;
    validate::role(&role)?;
    if let Some(p) = &input.package_type
        && p != "Zip"
    {
        return Err(LambdaError::invalid(
            "Portico runs Zip packages only (PackageType Zip)",
        ));
    }
    let memory_mb = input
        .memory_size
        .map(validate::memory_size)
        .transpose()?
        .unwrap_or(DEFAULT_MEMORY_MB);
    let timeout_s = input
        .timeout
        .map(validate::timeout)
        .transpose()?
        .unwrap_or(DEFAULT_TIMEOUT_S);
    let description = input.description.unwrap_or_default();
    validate::description(&description)?;
    let environment = input.environment.and_then(|e| e.variables).unwrap_or_default();
    validate::environment(&environment)?;
    let architectures = architectures(input.architectures)?;
    let ephemeral_storage_mb = ephemeral(input.ephemeral_storage.and_then(|e| e.size))?;
    let tags = input.tags.unwrap_or_default();
    super::permissions::validate_tags(&tags)?;
    if svc.store.get_function(&fref.name)?.is_some() {
        return Err(LambdaError::conflict(format!(
            "Function already exist: {}",
            fref.name
        )));
    }
    let code_input = input.code.unwrap_or_default();
    if code_input.s3_bucket.is_some() || code_input.image_uri.is_some() {
        return Err(LambdaError::invalid(
            "Portico takes function code as Code.ZipFile only (S3 and container images are not supported)",
        ));
    }
    let code = code::ingest(&svc, code_input.zip_file.as_deref(), input.handler.as_deref()).await?;
    let latest = FunctionConfig {
        name: fref.name.clone(),
        version: Version::Latest,
        description,
        role,
        runtime: input.runtime,
        handler: input.handler,
        memory_mb,
        timeout_s,
        environment,
        architectures,
        ephemeral_storage_mb,
        code,
        last_modified: now_timestamp(),
        revision_id: new_revision_id(),
    };
    let mut record = FunctionRecord {
        latest,
        versions: BTreeMap::new(),
        aliases: BTreeMap::new(),
        next_version: 1,
        reserved_concurrency: None,
        policies: BTreeMap::new(),
        tags,
    };
    let shown = if input.publish == Some(true) {
        publish(&mut record, None)
    } else {
        Version::Latest
    };
    {
        let _guard = svc.write_lock.lock().await;
        match svc.store.create_function(&record) {
            Err(StoreError::Conflict) => {
                return Err(LambdaError::conflict(format!(
                    "Function already exist: {}",
                    fref.name
                )));
            }
            other => other?,
        }
        if let Err(e) = svc.host.sync(&record) {
            // Keep store and host consistent: a function the host cannot
            // load must not stay registered.
            let _ = svc.store.delete_function(&fref.name);
            return Err(LambdaError::internal(e));
        }
    }
    tracing::info!(function = %fref.name, shape = ?record.latest.code.shape, "function created");
    let config = record.config(shown).unwrap_or(&record.latest);
    Ok((
        StatusCode::CREATED,
        Json(wire::function_configuration(
            config,
            &svc.arn(&fref.name),
            false,
            wire::Shown::Created,
        )),
    )
        .into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct QualifierQuery {
    #[serde(rename = "Qualifier")]
    qualifier: Option<String>,
}

impl QualifierQuery {
    pub fn qualifier(&self) -> Option<&str> {
        self.qualifier.as_deref()
    }
}

fn config_of<'a>(
    svc: &LambdaService,
    record: &'a FunctionRecord,
    name: &str,
    q: Option<&str>,
) -> LambdaResult<&'a FunctionConfig> {
    resolve_version(record, q)
        .and_then(|v| record.config(v))
        .ok_or_else(|| LambdaError::function_not_found(&svc.host.function_arn(name, q)))
}

pub async fn get(
    State(svc): Svc,
    Path(raw): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, q.qualifier.as_deref())?;
    let qual = fref.qualifier.as_deref();
    let record = svc.record(&fref.name, qual)?;
    let config = config_of(&svc, &record, &fref.name, qual)?;
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8081");
    let mut out = json!({
        "Configuration": wire::function_configuration(config, &svc.arn(&fref.name), false, wire::Shown::Settled),
        "Code": {
            "RepositoryType": "S3",
            "Location": format!("http://{host}/_portico/code/{}", config.code.wasm_sha256),
        },
    });
    if let Some(n) = record.reserved_concurrency {
        out["Concurrency"] = json!({ "ReservedConcurrentExecutions": n });
    }
    if !record.tags.is_empty() {
        out["Tags"] = json!(record.tags);
    }
    Ok(Json(out))
}

pub async fn get_configuration(
    State(svc): Svc,
    Path(raw): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, q.qualifier.as_deref())?;
    let qual = fref.qualifier.as_deref();
    let record = svc.record(&fref.name, qual)?;
    let config = config_of(&svc, &record, &fref.name, qual)?;
    Ok(Json(wire::function_configuration(
        config,
        &svc.arn(&fref.name),
        false,
        wire::Shown::Settled,
    )))
}

/// `Marker` / `MaxItems` pagination over a sorted list.
fn paginate<T>(
    items: Vec<T>,
    params: &HashMap<String, String>,
    max: usize,
) -> LambdaResult<(Vec<T>, Option<String>)> {
    let start = match params.get("Marker") {
        None => 0,
        Some(m) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(m)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| LambdaError::invalid("Invalid marker"))?,
    };
    let limit = match params.get("MaxItems") {
        None => max,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=10_000).contains(&n) => (n as usize).min(max),
            _ => {
                return Err(constraint(s, "maxItems", "Member must have value between 1 and 10000").into());
            }
        },
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + page.len() < total)
        .then(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode((start + page.len()).to_string()));
    Ok((page, next))
}

pub async fn list(
    State(svc): Svc,
    Query(params): Query<HashMap<String, String>>,
) -> LambdaResult<Json<Value>> {
    let all_versions = params.get("FunctionVersion").is_some_and(|v| v == "ALL");
    if let Some(v) = params.get("FunctionVersion")
        && v != "ALL"
    {
        return Err(constraint(v, "functionVersion", "Member must satisfy enum value set: [ALL]").into());
    }
    let mut items = Vec::new();
    for record in svc.store.all_functions()? {
        let arn = svc.arn(&record.latest.name);
        items.push(wire::function_configuration(
            &record.latest,
            &arn,
            all_versions,
            wire::Shown::Listed,
        ));
        if all_versions {
            for c in record.versions.values() {
                items.push(wire::function_configuration(c, &arn, true, wire::Shown::Listed));
            }
        }
    }
    let (page, next) = paginate(items, &params, 50)?;
    let mut out = json!({ "Functions": page });
    if let Some(m) = next {
        out["NextMarker"] = m.into();
    }
    Ok(Json(out))
}

pub async fn list_versions(
    State(svc): Svc,
    Path(raw): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    let record = svc.record(&fref.name, None)?;
    let arn = svc.arn(&fref.name);
    let items: Vec<Value> = std::iter::once(&record.latest)
        .chain(record.versions.values())
        .map(|c| wire::function_configuration(c, &arn, true, wire::Shown::Settled))
        .collect();
    let (page, next) = paginate(items, &params, 50)?;
    let mut out = json!({ "Versions": page });
    if let Some(m) = next {
        out["NextMarker"] = m.into();
    }
    Ok(Json(out))
}

pub async fn update_configuration(
    State(svc): Svc,
    Path(raw): Path<String>,
    body: Bytes,
) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    if fref.qualifier.is_some() {
        return Err(LambdaError::invalid(
            "Only $LATEST can be updated; remove the qualifier.",
        ));
    }
    let input: UpdateConfigInput = parse_body(&body)?;
    let memory = input.memory_size.map(validate::memory_size).transpose()?;
    let timeout = input.timeout.map(validate::timeout).transpose()?;
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    if let Some(r) = &input.role {
        validate::role(r)?;
    }
    let env = input.environment.map(|e| e.variables.unwrap_or_default());
    if let Some(e) = &env {
        validate::environment(e)?;
    }
    let storage = input.ephemeral_storage.map(|e| ephemeral(e.size)).transpose()?;
    let config = svc
        .edit(&fref.name, |record| {
            check_revision(input.revision_id.as_deref(), &record.latest.revision_id)?;
            let c = &mut record.latest;
            if let Some(m) = memory {
                c.memory_mb = m;
            }
            if let Some(t) = timeout {
                c.timeout_s = t;
            }
            if let Some(d) = input.description {
                c.description = d;
            }
            if let Some(r) = input.role {
                c.role = r;
            }
            if let Some(e) = env {
                c.environment = e;
            }
            if let Some(s) = storage {
                c.ephemeral_storage_mb = s;
            }
            if input.handler.is_some() {
                c.handler = input.handler;
            }
            if input.runtime.is_some() {
                c.runtime = input.runtime;
            }
            c.last_modified = now_timestamp();
            c.revision_id = new_revision_id();
            Ok(c.clone())
        })
        .await?;
    Ok(Json(wire::function_configuration(
        &config,
        &svc.arn(&fref.name),
        false,
        wire::Shown::Updated,
    )))
}

pub async fn update_code(State(svc): Svc, Path(raw): Path<String>, body: Bytes) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    if fref.qualifier.is_some() {
        return Err(LambdaError::invalid(
            "Only $LATEST can be updated; remove the qualifier.",
        ));
    }
    let input: UpdateCodeInput = parse_body(&body)?;
    if input.s3_bucket.is_some() || input.image_uri.is_some() {
        return Err(LambdaError::invalid(
            "Portico takes function code as ZipFile only (S3 and container images are not supported)",
        ));
    }
    let current = svc.record(&fref.name, None)?;
    check_revision(input.revision_id.as_deref(), &current.latest.revision_id)?;
    architectures(input.architectures)?;
    let code = code::ingest(&svc, input.zip_file.as_deref(), current.latest.handler.as_deref()).await?;
    if input.dry_run == Some(true) {
        let mut c = current.latest.clone();
        c.code = code;
        return Ok(Json(wire::function_configuration(
            &c,
            &svc.arn(&fref.name),
            false,
            wire::Shown::Updated,
        )));
    }
    let config = svc
        .edit(&fref.name, |record| {
            check_revision(input.revision_id.as_deref(), &record.latest.revision_id)?;
            record.latest.code = code;
            record.latest.last_modified = now_timestamp();
            record.latest.revision_id = new_revision_id();
            let shown = if input.publish == Some(true) {
                publish(record, None)
            } else {
                Version::Latest
            };
            Ok(record
                .config(shown)
                .cloned()
                .unwrap_or_else(|| record.latest.clone()))
        })
        .await?;
    tracing::info!(function = %fref.name, "function code updated");
    Ok(Json(wire::function_configuration(
        &config,
        &svc.arn(&fref.name),
        false,
        wire::Shown::Updated,
    )))
}

pub async fn delete(
    State(svc): Svc,
    Path(raw): Path<String>,
    Query(q): Query<QualifierQuery>,
) -> LambdaResult<StatusCode> {
    let fref = svc.function_ref(&raw, q.qualifier.as_deref())?;
    match fref.qualifier.as_deref() {
        None => {
            let _guard = svc.write_lock.lock().await;
            if !svc.store.delete_function(&fref.name)? {
                return Err(LambdaError::function_not_found(&svc.arn(&fref.name)));
            }
            svc.host.remove(&fref.name);
            tracing::info!(function = %fref.name, "function deleted");
        }
        Some("$LATEST") => {
            return Err(LambdaError::invalid(
                "$LATEST version cannot be deleted without deleting the function.",
            ));
        }
        Some(q) => {
            let Some(Version::Published(n)) = Version::parse(q) else {
                return Err(LambdaError::invalid(
                    "Deletion of aliases is not supported by DeleteFunction; use DeleteAlias.",
                ));
            };
            let arn = svc.host.function_arn(&fref.name, Some(q));
            svc.edit(&fref.name, |record| {
                let users: Vec<String> = record
                    .aliases
                    .values()
                    .filter(|a| a.version == Version::Published(n) || a.additional_weights.contains_key(q))
                    .map(|a| a.name.clone())
                    .collect();
                if !users.is_empty() {
                    return Err(LambdaError::conflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        users.join(", ")
                    )));
                }
                record
                    .versions
                    .remove(&n)
                    .map(|_| ())
                    .ok_or_else(|| LambdaError::function_not_found(&arn))
            })
            .await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn publish_version(
    State(svc): Svc,
    Path(raw): Path<String>,
    body: Bytes,
) -> LambdaResult<Response> {
    let fref = svc.function_ref(&raw, None)?;
    let input: PublishVersionInput = parse_body(&body)?;
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    let config = svc
        .edit(&fref.name, |record| {
            check_revision(input.revision_id.as_deref(), &record.latest.revision_id)?;
            if let Some(sha) = &input.code_sha256
                && *sha != record.latest.code.package_sha256
            {
                return Err(LambdaError::invalid(format!(
                    "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                    record.latest.code.package_sha256
                )));
            }
            let v = publish(record, input.description);
            Ok(record.config(v).cloned().unwrap_or_else(|| record.latest.clone()))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(wire::function_configuration(
            &config,
            &svc.arn(&fref.name),
            false,
            wire::Shown::Created,
        )),
    )
        .into_response())
}
