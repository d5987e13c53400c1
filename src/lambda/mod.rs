//! The Lambda management API (service `lambda`, 2015-03-31) on the admin
//! listener: the routes, the shared service state, and request helpers.
//! Each operation family lives in its own module; every change is committed
//! to the store first and then mirrored into the host with [`Host::sync`].

mod aliases;
pub mod code;
mod concurrency;
pub mod error;
mod functions;
mod invoke;
mod permissions;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post, put};
use serde::de::DeserializeOwned;

use crate::function::name::{FunctionRef, NAME_PATTERN};
use crate::function::validate::constraint;
use crate::function::{FunctionRecord, Version};
use crate::host::Host;
use crate::store::Store;
use crate::store::blobs::CodeStore;
use error::{ErrorCode, LambdaError, LambdaResult};

/// State shared by the Lambda API handlers.
pub struct LambdaService {
    pub store: Arc<Store>,
    pub code: CodeStore,
    pub host: Arc<Host>,
    /// Serialises management writes so the host mirrors commits in order.
    write_lock: tokio::sync::Mutex<()>,
}

impl LambdaService {
    pub fn new(store: Arc<Store>, code: CodeStore, host: Arc<Host>) -> LambdaService {
        LambdaService {
            store,
            code,
            host,
            write_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn arn(&self, name: &str) -> String {
        self.host.function_arn(name, None)
    }

    fn record(&self, name: &str, qualifier: Option<&str>) -> LambdaResult<FunctionRecord> {
        self.store
            .get_function(name)?
            .ok_or_else(|| LambdaError::function_not_found(&self.host.function_arn(name, qualifier)))
    }

    /// Parses a `FunctionName` label as [`function_ref`] does, and refuses a
    /// full ARN naming another region, as Lambda does.
    fn function_ref(&self, raw: &str, qualifier: Option<&str>) -> LambdaResult<FunctionRef> {
        let fref = function_ref(raw, qualifier)?;
        let here = self.host.region();
        match raw.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(2)) {
            Some(region) if region != here => Err(LambdaError::not_found(format!(
                "Functions from '{region}' are not reachable in this region ('{here}')"
            ))),
            _ => Ok(fref),
        }
    }

    /// Commits an edit of an existing function and mirrors it into the host.
    async fn edit<T>(
        &self,
        name: &str,
        edit: impl FnOnce(&mut FunctionRecord) -> LambdaResult<T>,
    ) -> LambdaResult<T> {
        let _guard = self.write_lock.lock().await;
        let mut committed = None;
        let result = self
            .store
            .update_function(name, |r| {
                let out = edit(r)?;
                committed = Some(r.clone());
                Ok::<T, LambdaError>(out)
            })?
            .ok_or_else(|| LambdaError::function_not_found(&self.arn(name)))??;
        if let Some(record) = committed {
            self.host.sync(&record).map_err(LambdaError::internal)?;
        }
        Ok(result)
    }
}

/// Parses a `FunctionName` path label, merging a `Qualifier` query value.
pub fn function_ref(raw: &str, qualifier: Option<&str>) -> LambdaResult<FunctionRef> {
    let mut r = FunctionRef::parse(raw).map_err(|_| {
        LambdaError::from(constraint(
            raw,
            "functionName",
            &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
        ))
    })?;
    if let Some(q) = qualifier {
        if q.is_empty() || q.len() > 128 {
            return Err(constraint(q, "qualifier", "Member must have length between 1 and 128").into());
        }
        match &r.qualifier {
            Some(existing) if existing != q => {
                return Err(LambdaError::invalid(
                    "The derived qualifier from the function name does not match the specified qualifier.",
                ));
            }
            _ => r.qualifier = Some(q.to_string()),
        }
    }
    Ok(r)
}

/// Resolves a qualifier (version number, `$LATEST` or alias) to a version.
pub fn resolve_version(record: &FunctionRecord, qualifier: Option<&str>) -> Option<Version> {
    let v = match qualifier {
        None => Version::Latest,
        Some(q) => match Version::parse(q) {
            Some(v) => v,
            None => record.aliases.get(q)?.version,
        },
    };
    record.config(v).map(|_| v)
}

/// Parses a JSON body; an empty body is an empty object.
pub fn parse_body<T: DeserializeOwned + Default>(body: &[u8]) -> LambdaResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        LambdaError::new(
            ErrorCode::InvalidRequestContent,
            format!("Could not parse request body into json: {e}"),
        )
    })
}

/// The Lambda API routes.
pub fn router(service: Arc<LambdaService>) -> Router {
    Router::new()
        .route(
            "/2015-03-31/functions",
            post(functions::create).get(functions::list),
        )
        .route(
            "/2015-03-31/functions/",
            post(functions::create).get(functions::list),
        )
        .route(
            "/2015-03-31/functions/{name}",
            get(functions::get).delete(functions::delete),
        )
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(functions::get_configuration).put(functions::update_configuration),
        )
        .route("/2015-03-31/functions/{name}/code", put(functions::update_code))
        .route(
            "/2015-03-31/functions/{name}/versions",
            post(functions::publish_version).get(functions::list_versions),
        )
        .route("/2015-03-31/functions/{name}/invocations", post(invoke::invoke))
        .route(
            "/2015-03-31/functions/{name}/aliases",
            post(aliases::create).get(aliases::list),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(aliases::get).put(aliases::update).delete(aliases::delete),
        )
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            put(concurrency::put).delete(concurrency::delete),
        )
        .route("/2019-09-30/functions/{name}/concurrency", get(concurrency::get))
        .route(
            "/2015-03-31/functions/{name}/policy",
            post(permissions::add).get(permissions::get),
        )
        .route(
            "/2015-03-31/functions/{name}/policy/{sid}",
            delete(permissions::remove),
        )
        .route(
            "/2017-03-31/tags/{arn}",
            get(permissions::list_tags)
                .post(permissions::tag)
                .delete(permissions::untag),
        )
        .route("/_portico/code/{sha}", get(code::download))
        .with_state(service)
}
