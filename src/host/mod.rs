//! The function host: runs the functions the store describes.
//!
//! It mirrors each stored [`FunctionRecord`] as an immutable
//! [`FunctionRuntime`] (versions with their instance pools, aliases) that the
//! invoke path reads without touching the database; the management API calls
//! [`Host::sync`] after every committed change. Invocation: resolve the
//! qualifier, take a concurrency permit, run in a [`pool::VersionPool`],
//! write the Lambda-style log (START / output / END / REPORT).

pub mod engine;
pub mod instance;
pub mod module;
pub mod output;
pub mod pool;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use dashmap::DashMap;

use crate::function::{Alias, FunctionRecord, Version};
use instance::GuestFailure;
use module::Modules;
use pool::{Run, VersionPool};

/// Host-wide settings.
#[derive(Debug, Clone)]
pub struct HostSettings {
    pub region: String,
    pub account: String,
    /// Concurrent executions across all functions (Lambda's account limit).
    pub account_concurrency: u32,
    /// How long an idle warm instance is kept.
    pub keep_alive: Duration,
}

/// Concurrency that Lambda always leaves unreserved.
pub const MIN_UNRESERVED: u32 = 100;

/// One function as the invoke path sees it.
pub struct FunctionRuntime {
    versions: HashMap<Version, Arc<VersionPool>>,
    aliases: HashMap<String, Alias>,
    reserved: Option<u32>,
    /// In-flight invocations of this function; survives re-syncs.
    in_flight: Arc<AtomicU32>,
}

/// An invocation request, already parsed from the wire.
pub struct InvokeRequest<'a> {
    pub function: &'a str,
    pub qualifier: Option<&'a str>,
    pub payload: &'a [u8],
    pub client_context: Option<serde_json::Value>,
    pub request_id: String,
    /// Render the Lambda-style log text (for `X-Amz-Log-Type: Tail`).
    pub want_log: bool,
}

/// A completed invocation (successful or a function error).
pub struct Invocation {
    pub request_id: String,
    pub executed_version: Version,
    pub result: Result<Vec<u8>, GuestFailure>,
    /// START ... REPORT, as Lambda's log tail shows it; rendered only when
    /// asked for (or when debug logging is on), since it costs time.
    pub log: Option<String>,
}

/// Why an invocation did not run.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeError {
    /// The function, version or alias does not exist; holds the ARN asked for.
    NotFound(String),
    /// Concurrency limit reached; `reserved` tells which limit.
    Throttled { reserved: bool },
}

pub struct Host {
    pub modules: Modules,
    settings: HostSettings,
    functions: DashMap<String, Arc<FunctionRuntime>>,
    unreserved_in_flight: AtomicU32,
    total_reserved: AtomicU32,
}

/// Holds a concurrency slot until dropped.
struct Permit<'a>(&'a AtomicU32);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn try_acquire(counter: &AtomicU32, limit: u32) -> Option<Permit<'_>> {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < limit).then_some(n + 1)
        })
        .ok()
        .map(|_| Permit(counter))
}

impl Host {
    pub fn new(modules: Modules, settings: HostSettings) -> Host {
        Host {
            modules,
            settings,
            functions: DashMap::new(),
            unreserved_in_flight: AtomicU32::new(0),
            total_reserved: AtomicU32::new(0),
        }
    }

    pub fn settings(&self) -> &HostSettings {
        &self.settings
    }

    pub fn function_arn(&self, name: &str, qualifier: Option<&str>) -> String {
        let base = format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.settings.region, self.settings.account
        );
        match qualifier {
            Some(q) => format!("{base}:{q}"),
            None => base,
        }
    }

    /// Mirrors a committed record. Pools whose configuration did not change
    /// keep their warm instances. Loads modules (from the artifact cache).
    pub fn sync(&self, record: &FunctionRecord) -> Result<(), module::ModuleError> {
        let name = &record.latest.name;
        let old = self.functions.get(name).map(|r| r.clone());
        let mut versions = HashMap::new();
        let configs = std::iter::once(&record.latest).chain(record.versions.values());
        for config in configs {
            let reused = old
                .as_ref()
                .and_then(|o| o.versions.get(&config.version))
                .filter(|p| p.config == *config)
                .cloned();
            let pool = match reused {
                Some(p) => p,
                None => {
                    let prepared = self.modules.load(&config.code.wasm_sha256)?;
                    Arc::new(VersionPool::new(config.clone(), prepared, &self.settings.region))
                }
            };
            versions.insert(config.version, pool);
        }
        let runtime = FunctionRuntime {
            versions,
            aliases: record.aliases.clone().into_iter().collect(),
            reserved: record.reserved_concurrency,
            in_flight: old.map(|o| o.in_flight.clone()).unwrap_or_default(),
        };
        self.functions.insert(name.clone(), Arc::new(runtime));
        self.recount_reserved();
        Ok(())
    }

    pub fn remove(&self, name: &str) {
        self.functions.remove(name);
        self.recount_reserved();
    }

    fn recount_reserved(&self) {
        let total = self.functions.iter().filter_map(|f| f.reserved).sum();
        self.total_reserved.store(total, Ordering::Release);
    }

    /// Sum of reserved concurrency over all functions except `except`.
    pub fn reserved_elsewhere(&self, except: &str) -> u32 {
        self.functions
            .iter()
            .filter(|f| f.key() != except)
            .filter_map(|f| f.reserved)
            .sum()
    }

    /// Resolves a qualifier to the pool that will run, following aliases
    /// (with weighted routing).
    pub fn resolve(&self, function: &str, qualifier: Option<&str>) -> Result<Arc<VersionPool>, InvokeError> {
        self.resolve_runtime(function, qualifier).map(|(_, pool)| pool)
    }

    fn resolve_runtime(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<FunctionRuntime>, Arc<VersionPool>), InvokeError> {
        let not_found = || InvokeError::NotFound(self.function_arn(function, qualifier));
        let runtime = self.functions.get(function).ok_or_else(not_found)?.clone();
        let version = match qualifier {
            None => Version::Latest,
            Some(q) => match Version::parse(q) {
                Some(v) => v,
                None => pick_weighted(runtime.aliases.get(q).ok_or_else(not_found)?),
            },
        };
        let pool = runtime.versions.get(&version).cloned().ok_or_else(not_found)?;
        Ok((runtime, pool))
    }

    /// Runs an invocation to completion.
    pub async fn invoke(&self, req: InvokeRequest<'_>) -> Result<Invocation, InvokeError> {
        let (runtime, pool) = self.resolve_runtime(req.function, req.qualifier)?;
        let _permit = match runtime.reserved {
            Some(limit) => {
                try_acquire(&runtime.in_flight, limit).ok_or(InvokeError::Throttled { reserved: true })?
            }
            None => {
                let limit = self
                    .settings
                    .account_concurrency
                    .saturating_sub(self.total_reserved.load(Ordering::Acquire));
                try_acquire(&self.unreserved_in_flight, limit)
                    .ok_or(InvokeError::Throttled { reserved: false })?
            }
        };
        let config = &pool.config;
        let invoked_arn = self.function_arn(req.function, req.qualifier);
        let deadline_ms = chrono::Utc::now().timestamp_millis() + i64::from(config.timeout_s) * 1000;
        let context = serde_json::json!({
            "requestId": req.request_id,
            "functionName": config.name,
            "functionVersion": config.version.to_string(),
            "invokedFunctionArn": invoked_arn,
            "memoryLimitInMB": config.memory_mb,
            "deadlineMs": deadline_ms,
            "clientContext": req.client_context,
        });
        let context = serde_json::to_vec(&context).unwrap_or_default();
        let run = pool
            .run(req.payload, &context, &req.request_id, || self.evict_all_idle())
            .await;
        emit_output(&req.request_id, config, &run);
        let debug = tracing::enabled!(target: "portico::function", tracing::Level::DEBUG);
        let log = (req.want_log || debug).then(|| render_log(&req.request_id, config, &run));
        if debug && let Some(log) = &log {
            tracing::debug!(target: "portico::function", function = %config.name, "{}", log.trim_end());
        }
        Ok(Invocation {
            request_id: req.request_id,
            executed_version: config.version,
            result: run.result,
            log,
        })
    }

    /// Drops every idle instance (frees instance slots).
    pub fn evict_all_idle(&self) {
        for f in self.functions.iter() {
            for p in f.versions.values() {
                p.reap(Duration::ZERO);
            }
        }
    }

    /// Drops idle instances older than the keep-alive; returns how many.
    pub fn reap_idle(&self) -> usize {
        let keep = self.settings.keep_alive;
        self.functions
            .iter()
            .map(|f| f.versions.values().map(|p| p.reap(keep)).sum::<usize>())
            .sum()
    }

    /// Warm idle instances of one version (for tests and stats).
    pub fn idle_instances(&self, function: &str, version: Version) -> usize {
        self.functions
            .get(function)
            .and_then(|f| f.versions.get(&version).map(|p| p.idle_count()))
            .unwrap_or(0)
    }
}

fn pick_weighted(alias: &Alias) -> Version {
    if alias.additional_weights.is_empty() {
        return alias.version;
    }
    let roll = (uuid::Uuid::new_v4().as_u128() >> 64) as f64 / u64::MAX as f64;
    let mut acc = 0.0;
    for (v, w) in &alias.additional_weights {
        acc += w;
        if roll < acc
            && let Some(v) = Version::parse(v)
        {
            return v;
        }
    }
    alias.version
}

/// Sends the function's own output and any failure to the host log.
fn emit_output(request_id: &str, config: &crate::function::FunctionConfig, run: &Run) {
    if !run.logs.data.is_empty() {
        for line in String::from_utf8_lossy(&run.logs.data).lines() {
            tracing::info!(target: "portico::function", function = %config.name, request_id, "{line}");
        }
    }
    if let Err(f) = &run.result {
        tracing::info!(target: "portico::function", function = %config.name, request_id, error_type = %f.error_type, "{}", f.message);
    }
}

/// Lambda's text log for one invocation: START, the function's own lines
/// tagged with timestamp and request id, END and REPORT.
fn render_log(request_id: &str, config: &crate::function::FunctionConfig, run: &Run) -> String {
    use std::fmt::Write;
    let mut log = format!("START RequestId: {request_id} Version: {}\n", config.version);
    if !run.logs.data.is_empty() {
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        for line in String::from_utf8_lossy(&run.logs.data).lines() {
            let _ = writeln!(log, "{ts}\t{request_id}\t{line}");
        }
        if run.logs.dropped > 0 {
            let _ = writeln!(
                log,
                "{ts}\t{request_id}\t[portico] {} bytes of log output dropped (limit {} bytes per invocation)",
                run.logs.dropped,
                instance::LOG_LIMIT
            );
        }
    }
    let ms = run.duration.as_secs_f64() * 1000.0;
    let _ = write!(
        log,
        "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        ms.ceil().max(1.0) as u64,
        config.memory_mb,
        run.peak_memory.div_ceil(1 << 20),
    );
    if let Some(init) = run.init {
        let _ = write!(log, "Init Duration: {:.2} ms\t", init.as_secs_f64() * 1000.0);
    }
    log.push('\n');
    log
}
