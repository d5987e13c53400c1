//! Reserved concurrency: PutFunctionConcurrency, GetFunctionConcurrency,
//! DeleteFunctionConcurrency.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::{LambdaError, LambdaResult};
use super::wire::ConcurrencyInput;
use super::{LambdaService, parse_body};
use crate::function::validate::constraint;
use crate::host::MIN_UNRESERVED;

type Svc = State<Arc<LambdaService>>;

pub async fn put(State(svc): Svc, Path(raw): Path<String>, body: Bytes) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    let input: ConcurrencyInput = parse_body(&body)?;
    let n = input
        .reserved_concurrent_executions
        .ok_or_else(|| LambdaError::invalid("ReservedConcurrentExecutions is required"))?;
    if n < 0 {
        return Err(constraint(
            &n.to_string(),
            "reservedConcurrentExecutions",
            "Member must have value greater than or equal to 0",
        )
        .into());
    }
    let account = svc.host.settings().account_concurrency;
    let elsewhere = svc.host.reserved_elsewhere(&fref.name);
    if u64::from(elsewhere) + n as u64 + u64::from(MIN_UNRESERVED) > u64::from(account) {
        return Err(LambdaError::invalid(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
        )));
    }
    let n = n as u32;
    svc.edit(&fref.name, |record| {
        record.reserved_concurrency = Some(n);
        Ok(())
    })
    .await?;
    Ok(Json(json!({ "ReservedConcurrentExecutions": n })))
}

pub async fn get(State(svc): Svc, Path(raw): Path<String>) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, None)?;
    let record = svc.record(&fref.name, None)?;
    Ok(Json(match record.reserved_concurrency {
        Some(n) => json!({ "ReservedConcurrentExecutions": n }),
        None => json!({}),
    }))
}

pub async fn delete(State(svc): Svc, Path(raw): Path<String>) -> LambdaResult<StatusCode> {
    let fref = svc.function_ref(&raw, None)?;
    svc.edit(&fref.name, |record| {
        record.reserved_concurrency = None;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
