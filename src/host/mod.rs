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

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use dashmap::DashMap;

use crate::function::{Alias, FunctionRecord, Version};
use instance::GuestFailure;
pub use instance::ResultCheck;
use module::Modules;
pub use pool::within;
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
    versions: foldhash::HashMap<Version, Arc<VersionPool>>,
    aliases: foldhash::HashMap<String, Alias>,
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
    /// Whether the host checks that the result is JSON.
    pub result_check: ResultCheck,
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
    functions: DashMap<String, Arc<FunctionRuntime>, foldhash::fast::RandomState>,
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
            functions: DashMap::default(),
            unreserved_in_flight: AtomicU32::new(0),
            total_reserved: AtomicU32::new(0),
        }
    }

    pub fn settings(&self) -> &HostSettings {
        &self.settings
    }

    /// The region functions run in (their ARNs name it).
    pub fn region(&self) -> &str {
        &self.settings.region
    }

    pub fn function_arn(&self, name: &str, qualifier: Option<&str>) -> String {
        FunctionArn {
            settings: &self.settings,
            name,
            qualifier,
        }
        .to_string()
    }

    /// Mirrors a committed record. Pools whose configuration did not change
    /// keep their warm instances. Loads modules (from the artifact cache).
    pub fn sync(&self, record: &FunctionRecord) -> Result<(), module::ModuleError> {
        let name = &record.latest.name;
        let old = self.functions.get(name).map(|r| r.clone());
        let mut versions = foldhash::HashMap::default();
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
                    let head = context_head(&self.settings, config);
                    Arc::new(VersionPool::new(
                        config.clone(),
                        prepared,
                        &self.settings.region,
                        head,
                    ))
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
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            + u64::from(config.timeout_s) * 1000;
        let context = context_json(&pool.context_head, &req, config.memory_mb, deadline_ms);
        let run = pool
            .run(
                pool::Call {
                    event: req.payload,
                    context: &context,
                    request_id: &req.request_id,
                    check: req.result_check,
                },
                || self.evict_all_idle(),
            )
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

/// A function's ARN (qualified when invoked with a version or alias).
struct FunctionArn<'a> {
    settings: &'a HostSettings,
    name: &'a str,
    qualifier: Option<&'a str>,
}

impl std::fmt::Display for FunctionArn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let HostSettings { region, account, .. } = self.settings;
        write!(f, "arn:aws:lambda:{region}:{account}:function:{}", self.name)?;
        match self.qualifier {
            Some(q) => write!(f, ":{q}"),
            None => Ok(()),
        }
    }
}

/// The context JSON of an SDK invocation (`guest-sdk/ABI.md`):
/// `{"requestId", "functionName", "functionVersion", "invokedFunctionArn",
/// "memoryLimitInMB", "deadlineMs", "clientContext"}`, written straight
/// into a buffer around the version's pre-rendered middle
/// ([`context_head`]), which ends inside the unqualified ARN.
fn context_json(head: &str, req: &InvokeRequest<'_>, memory_mb: u32, deadline_ms: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + 160);
    out.extend_from_slice(b"{\"requestId\":\"");
    crate::json_out::push_str_contents(&mut out, &req.request_id);
    out.extend_from_slice(head.as_bytes());
    if let Some(q) = req.qualifier {
        out.push(b':');
        crate::json_out::push_str_contents(&mut out, q);
    }
    out.extend_from_slice(b"\",\"memoryLimitInMB\":");
    crate::json_out::push_int(&mut out, memory_mb);
    out.extend_from_slice(b",\"deadlineMs\":");
    crate::json_out::push_int(&mut out, deadline_ms);
    out.extend_from_slice(b",\"clientContext\":");
    match &req.client_context {
        None => out.extend_from_slice(b"null"),
        // A Value always serialises.
        Some(context) => {
            let _ = serde_json::to_writer(&mut out, context);
        }
    }
    out.push(b'}');
    out
}

/// `","functionName":"…","functionVersion":"…","invokedFunctionArn":"arn:…:function:…`
/// for one version: the part of its context JSON that never changes.
fn context_head(settings: &HostSettings, config: &crate::function::FunctionConfig) -> String {
    let arn = FunctionArn {
        settings,
        name: &config.name,
        qualifier: None,
    };
    let mut out = Vec::new();
    out.extend_from_slice(b"\",\"functionName\":\"");
    crate::json_out::push_str_contents(&mut out, &config.name);
    out.extend_from_slice(b"\",\"functionVersion\":\"");
    crate::json_out::push_str_contents(&mut out, &config.version.to_string());
    out.extend_from_slice(b"\",\"invokedFunctionArn\":\"");
    crate::json_out::push_str_contents(&mut out, &arn.to_string());
    String::from_utf8(out).unwrap_or_default()
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
    crate::logging::function_output(&config.name, request_id, &run.logs.data);
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

/// Runs an `Event` invocation. Throttled events are retried with backoff
/// for up to six minutes, as Lambda's async queue would; other outcomes are
/// only logged.
pub async fn run_event(
    host: Arc<Host>,
    name: String,
    qualifier: Option<String>,
    payload: bytes::Bytes,
    client_context: Option<serde_json::Value>,
    request_id: String,
) {
    let mut delay = std::time::Duration::from_millis(100);
    let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(360);
    loop {
        let outcome = host
            .invoke(InvokeRequest {
                function: &name,
                qualifier: qualifier.as_deref(),
                payload: &payload,
                client_context: client_context.clone(),
                request_id: request_id.clone(),
                want_log: false,
                result_check: crate::host::ResultCheck::Json,
            })
            .await;
        match outcome {
            Err(InvokeError::Throttled { .. }) if tokio::time::Instant::now() < give_up => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
            Err(e) => {
                tracing::warn!(function = %name, request_id, error = ?e, "asynchronous invocation dropped");
                return;
            }
            Ok(inv) => {
                if let Err(f) = inv.result {
                    tracing::info!(function = %name, request_id, error_type = %f.error_type, "asynchronous invocation failed");
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::function::{CodeRef, FunctionConfig};
    use crate::store::blobs::CodeStore;

    /// An SDK module in WAT that answers `[event, context]`, built after the
    /// two buffers. `version` picks the ABI; the other version's buffer
    /// export traps, so a test fails if the host uses the wrong protocol.
    /// Its `portico_input` refuses more than 100,000 bytes.
    fn sdk_module(version: u8) -> String {
        let (marker, input, alloc) = match version {
            2 => (r#"(func (export "portico_abi_v2"))"#, "", "unreachable"),
            _ => ("", "unreachable", ""),
        };
        format!(
            r#"(module
              (memory (export "memory") 4)
              (global $next (mut i32) (i32.const 1024))
              {marker}
              (func (export "portico_input") (param $len i32) (result i32)
                {input}
                (select (i32.const 0) (i32.const 1024) (i32.gt_u (local.get $len) (i32.const 100000))))
              (func (export "portico_alloc") (param $len i32) (result i32)
                (local $p i32)
                {alloc}
                (local.set $p (global.get $next))
                (global.set $next (i32.add (global.get $next) (local.get $len)))
                (local.get $p))
              (func (export "portico_invoke") (param $ep i32) (param $el i32) (param $cp i32) (param $cl i32) (result i64)
                (local $r i32) (local $o i32)
                (local.set $r (i32.add (local.get $cp) (local.get $cl)))
                (i32.store8 (local.get $r) (i32.const 0))
                (i32.store8 offset=1 (local.get $r) (i32.const 91))
                (memory.copy (i32.add (local.get $r) (i32.const 2)) (local.get $ep) (local.get $el))
                (local.set $o (i32.add (i32.add (local.get $r) (i32.const 2)) (local.get $el)))
                (i32.store8 (local.get $o) (i32.const 44))
                (memory.copy (i32.add (local.get $o) (i32.const 1)) (local.get $cp) (local.get $cl))
                (local.set $o (i32.add (i32.add (local.get $o) (i32.const 1)) (local.get $cl)))
                (i32.store8 (local.get $o) (i32.const 93))
                (i64.or
                  (i64.shl (i64.extend_i32_u (local.get $r)) (i64.const 32))
                  (i64.extend_i32_u (i32.sub (i32.add (local.get $o) (i32.const 1)) (local.get $r))))))"#
        )
    }

    fn host_with(dir: &std::path::Path, name: &str, wasm: &[u8]) -> Host {
        let engine = engine::build_engine(engine::EngineSettings { max_instances: 8 }).unwrap();
        let modules = Modules::new(engine, CodeStore::new(dir), dir).unwrap();
        let host = Host::new(
            modules,
            HostSettings {
                region: "eu-west-1".into(),
                account: "123456789012".into(),
                account_concurrency: 10,
                keep_alive: Duration::from_secs(60),
            },
        );
        let (sha, prepared) = host.modules.compile(wasm).unwrap();
        let config = FunctionConfig {
            name: name.into(),
            version: Version::Latest,
            description: String::new(),
            role: "arn:aws:iam::123456789012:role/test".into(),
            runtime: None,
            handler: None,
            memory_mb: 128,
            timeout_s: 3,
            environment: BTreeMap::new(),
            architectures: vec!["x86_64".into()],
            ephemeral_storage_mb: 512,
            code: CodeRef {
                wasm_sha256: sha,
                package_sha256: String::new(),
                package_size: wasm.len() as u64,
                shape: prepared.shape,
            },
            last_modified: String::new(),
            revision_id: String::new(),
        };
        let record = FunctionRecord {
            latest: config,
            versions: BTreeMap::new(),
            aliases: BTreeMap::new(),
            next_version: 1,
            reserved_concurrency: None,
            policies: BTreeMap::new(),
            tags: BTreeMap::new(),
        };
        host.sync(&record).unwrap();
        host
    }

    async fn invoke(
        host: &Host,
        payload: &[u8],
        client_context: Option<Value>,
    ) -> Result<Vec<u8>, GuestFailure> {
        host.invoke(InvokeRequest {
            function: "abi",
            qualifier: None,
            payload,
            client_context,
            request_id: "req-1".into(),
            want_log: false,
            result_check: crate::host::ResultCheck::Json,
        })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .result
    }

    #[tokio::test]
    async fn both_abi_versions_receive_event_and_context() {
        for version in [1, 2] {
            let dir = tempfile::tempdir().unwrap();
            let host = host_with(dir.path(), "abi", sdk_module(version).as_bytes());
            let small = json!({"n": 1}).to_string();
            // Larger than the first input buffer: ABI 2 asks for a bigger one.
            let large = json!({"pad": "x".repeat(40_000)}).to_string();
            for (event, cc) in [
                (&small, None),
                (&large, Some(json!({"custom": {"k": "v"}}))),
                (&small, None),
            ] {
                let before = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as u64;
                let out = invoke(&host, event.as_bytes(), cc.clone()).await;
                let out: Value = serde_json::from_slice(&out.unwrap()).unwrap();
                assert_eq!(out[0].to_string(), *event, "ABI {version}");
                let ctx = &out[1];
                assert_eq!(ctx["requestId"], "req-1");
                assert_eq!(ctx["functionName"], "abi");
                assert_eq!(ctx["functionVersion"], "$LATEST");
                assert_eq!(
                    ctx["invokedFunctionArn"],
                    "arn:aws:lambda:eu-west-1:123456789012:function:abi"
                );
                assert_eq!(ctx["memoryLimitInMB"], 128);
                assert_eq!(ctx["clientContext"], cc.unwrap_or(Value::Null));
                let deadline = ctx["deadlineMs"].as_u64().unwrap();
                assert!(
                    (before + 3000..before + 4000).contains(&deadline),
                    "{deadline} vs {before}"
                );
            }
            assert_eq!(host.idle_instances("abi", Version::Latest), 1, "ABI {version}");
        }
    }

    #[tokio::test]
    async fn refused_input_buffer_fails_the_invocation() {
        let dir = tempfile::tempdir().unwrap();
        let host = host_with(dir.path(), "abi", sdk_module(2).as_bytes());
        let huge = json!({"pad": "x".repeat(120_000)}).to_string();
        let failure = invoke(&host, huge.as_bytes(), None).await.unwrap_err();
        assert_eq!(failure.error_type, "Runtime.Unknown");
        assert!(
            failure.message.contains("portico_input returned null"),
            "{}",
            failure.message
        );
        assert_eq!(host.idle_instances("abi", Version::Latest), 0);
        // A fresh instance serves the next invocation.
        assert!(invoke(&host, b"{}", None).await.is_ok());
    }

    #[tokio::test]
    async fn qualified_arn_in_context() {
        let dir = tempfile::tempdir().unwrap();
        let host = host_with(dir.path(), "abi", sdk_module(2).as_bytes());
        let inv = host
            .invoke(InvokeRequest {
                function: "abi",
                qualifier: Some("$LATEST"),
                payload: b"null",
                client_context: None,
                request_id: "req-\"2\"".into(),
                want_log: false,
                result_check: crate::host::ResultCheck::Json,
            })
            .await
            .unwrap();
        let out: Value = serde_json::from_slice(&inv.result.unwrap()).unwrap();
        assert_eq!(
            out[1]["invokedFunctionArn"],
            "arn:aws:lambda:eu-west-1:123456789012:function:abi:$LATEST"
        );
        assert_eq!(out[1]["requestId"], "req-\"2\"");
    }
}
