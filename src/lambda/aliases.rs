//! Alias operations: CreateAlias, GetAlias, UpdateAlias, DeleteAlias,
//! ListAliases.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::{ErrorCode, LambdaError, LambdaResult};
use super::wire::{self, AliasInput};
use super::{LambdaService, parse_body};
use crate::function::validate::{self, constraint};
use crate::function::{Alias, FunctionRecord, Version, new_revision_id};

type Svc = State<Arc<LambdaService>>;

fn parse_version(record: &FunctionRecord, raw: &str, arn_base: &str) -> LambdaResult<Version> {
    let v = Version::parse(raw).ok_or_else(|| {
        LambdaError::from(constraint(
            raw,
            "functionVersion",
            "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
        ))
    })?;
    record
        .config(v)
        .map(|_| v)
        .ok_or_else(|| LambdaError::function_not_found(&format!("{arn_base}:{raw}")))
}

fn weights(
    record: &FunctionRecord,
    input: Option<&super::wire::RoutingConfigInput>,
    primary: Version,
    arn_base: &str,
) -> LambdaResult<BTreeMap<String, f64>> {
    let w = input
        .and_then(|r| r.additional_version_weights.clone())
        .unwrap_or_default();
    if w.len() > 1 {
        return Err(LambdaError::invalid(
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ));
    }
    for (v, weight) in &w {
        if !(0.0..=1.0).contains(weight) || weight.is_nan() {
            return Err(constraint(&weight.to_string(), "routingConfig.additionalVersionWeights", "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]").into());
        }
        let ver = parse_version(record, v, arn_base)?;
        if ver == Version::Latest || primary == Version::Latest {
            return Err(LambdaError::invalid(
                "$LATEST is not supported for an alias pointing to more than 1 version",
            ));
        }
        if ver == primary {
            return Err(LambdaError::invalid(format!(
                "Invalid function version {v}. Function version {v} is already included in routing configuration."
            )));
        }
    }
    Ok(w)
}

fn find<'a>(record: &'a FunctionRecord, alias: &str, arn_base: &str) -> LambdaResult<&'a Alias> {
    record
        .aliases
        .get(alias)
        .ok_or_else(|| LambdaError::not_found(format!("Alias not found: {arn_base}:{alias}")))
}

pub async fn create(State(svc): Svc, Path(raw): Path<String>, body: Bytes) -> LambdaResult<Response> {
    let fref = svc.function_ref(&raw, None)?;
    let input: AliasInput = parse_body(&body)?;
    let name = input
        .name
        .clone()
        .ok_or_else(|| LambdaError::invalid("Name is required"))?;
    validate::alias_name(&name)?;
    let raw_version = input
        .function_version
        .clone()
        .ok_or_else(|| LambdaError::invalid("FunctionVersion is required"))?;
    let description = input.description.clone().unwrap_or_default();
    validate::description(&description)?;
    let arn_base = svc.arn(&fref.name);
    let alias = svc
        .edit(&fref.name, |record| {
            let version = parse_version(record, &raw_version, &arn_base)?;
            if record.aliases.contains_key(&name) {
                return Err(LambdaError::conflict(format!(
                    "Alias already exists: {arn_base}:{name}"
                )));
            }
            let alias = Alias {
                function: fref.name.clone(),
                name: name.clone(),
                version,
                description,
                additional_weights: weights(record, input.routing_config.as_ref(), version, &arn_base)?,
                revision_id: new_revision_id(),
            };
            record.aliases.insert(name.clone(), alias.clone());
            Ok(alias)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(wire::alias_configuration(&alias, &arn_base)),
    )
        .into_response())
}

pub async fn get(State(svc): Svc, Path((raw, alias)): Path<(String, String)>) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    let arn_base = svc.arn(&fref.name);
    let record = svc.record(&fref.name, None)?;
    Ok(Json(wire::alias_configuration(
        find(&record, &alias, &arn_base)?,
        &arn_base,
    )))
}

pub async fn list(
    State(svc): Svc,
    Path(raw): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    let arn_base = svc.arn(&fref.name);
    let record = svc.record(&fref.name, None)?;
    let filter = params.get("FunctionVersion").map(|v| Version::parse(v));
    let aliases: Vec<Value> = record
        .aliases
        .values()
        .filter(|a| filter.is_none_or(|f| f == Some(a.version)))
        .map(|a| wire::alias_configuration(a, &arn_base))
        .collect();
    Ok(Json(json!({ "Aliases": aliases })))
}

pub async fn update(
    State(svc): Svc,
    Path((raw, alias)): Path<(String, String)>,
    body: Bytes,
) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    let input: AliasInput = parse_body(&body)?;
    if let Some(d) = &input.description {
        validate::description(d)?;
    }
    let arn_base = svc.arn(&fref.name);
    let updated = svc
        .edit(&fref.name, |record| {
            let current = find(record, &alias, &arn_base)?.clone();
            if let Some(r) = &input.revision_id
                && *r != current.revision_id
            {
                return Err(LambdaError::new(ErrorCode::PreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"));
            }
            let mut next = current;
            if let Some(v) = &input.function_version {
                next.version = parse_version(record, v, &arn_base)?;
            }
            if let Some(d) = input.description.clone() {
                next.description = d;
            }
            if input.routing_config.is_some() {
                next.additional_weights = weights(record, input.routing_config.as_ref(), next.version, &arn_base)?;
            }
            next.revision_id = new_revision_id();
            record.aliases.insert(alias.clone(), next.clone());
            Ok(next)
        })
        .await?;
    Ok(Json(wire::alias_configuration(&updated, &arn_base)))
}

pub async fn delete(State(svc): Svc, Path((raw, alias)): Path<(String, String)>) -> LambdaResult<StatusCode> {
    let fref = svc.function_ref(&raw, None)?;
    // Lambda answers 204 whether or not the alias existed.
    svc.edit(&fref.name, |record| {
        record.aliases.remove(&alias);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
