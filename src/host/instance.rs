//! One execution environment: a wasmtime store with its WASI context, memory
//! limiter and captured output, and the two ways to run an invocation in it
//! (SDK reactor call, or a WASI command's `_start`). Every way a guest can
//! fail is turned into a [`GuestFailure`] here; nothing a guest does can
//! escape as a host error.

use std::time::Instant;

use wasmtime::{Instance, Memory, ModuleExport, ResourceLimiter, Store, Trap, TypedFunc};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};

use super::module::Prepared;
use super::output::{Capture, GuestOutput};
use crate::function::MAX_RESPONSE_PAYLOAD;

/// Per-store host state.
pub struct InstanceState {
    pub wasi: WasiP1Ctx,
    pub limits: MemoryLimits,
    /// Where the guest's stdout and stderr go (see `output::fd_write`).
    pub output: GuestOutput,
    /// The guest's exported memory, once instantiated (saves `fd_write` a
    /// lookup by name on every call).
    pub memory: Option<Memory>,
}

/// Caps linear memory at the function's MemorySize and records the peak.
pub struct MemoryLimits {
    limit: usize,
    pub peak: usize,
    pub denied: bool,
}

impl ResourceLimiter for MemoryLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.denied = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// What a guest sees of the world: only its own environment.
pub struct Environment {
    pub vars: Vec<(String, String)>,
    pub program_name: String,
    pub memory_bytes: usize,
}

/// Most a guest may log per invocation before the rest is dropped.
pub const LOG_LIMIT: usize = 1024 * 1024;

fn new_store(
    prepared: &Prepared,
    env: &Environment,
    stdin: Option<Vec<u8>>,
    stdout: &Capture,
    stderr: &Capture,
) -> Store<InstanceState> {
    let mut builder = WasiCtxBuilder::new();
    builder
        .envs(&env.vars)
        .args(&[&env.program_name])
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    if let Some(input) = stdin {
        builder.stdin(MemoryInputPipe::new(input));
    }
    let state = InstanceState {
        wasi: builder.build_p1(),
        limits: MemoryLimits {
            limit: env.memory_bytes,
            peak: 0,
            denied: false,
        },
        output: GuestOutput {
            stdout: stdout.clone(),
            stderr: stderr.clone(),
        },
        memory: None,
    };
    let mut store = Store::new(prepared.pre.module().engine(), state);
    store.limiter(|s| &mut s.limits);
    // Yield to the async runtime at every epoch tick: a spinning guest shares
    // its thread, and the invocation timeout can fire.
    store.epoch_deadline_async_yield_and_update(1);
    store
}

/// A guest failure, in Lambda's `{errorType, errorMessage}` terms.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestFailure {
    pub error_type: String,
    pub message: String,
    /// The error object as the function reported it (Lambda hands it on
    /// whole, `stackTrace` and all); None for failures Portico describes.
    pub reported: Option<Vec<u8>>,
}

impl GuestFailure {
    pub fn new(error_type: &str, message: impl Into<String>) -> GuestFailure {
        GuestFailure {
            error_type: error_type.to_string(),
            message: message.into(),
            reported: None,
        }
    }

    /// The error payload Lambda returns: the function's own error object,
    /// else `{"errorMessage", "errorType"}`.
    pub fn payload(&self) -> Vec<u8> {
        if let Some(reported) = &self.reported {
            return reported.clone();
        }
        let mut err = serde_json::json!({ "errorMessage": self.message });
        if !self.error_type.is_empty() {
            err["errorType"] = self.error_type.as_str().into();
        }
        serde_json::to_vec(&err).unwrap_or_default()
    }
}

/// The error type of a failure that is the host's, not the guest's: every
/// instance slot is taken. The pool evicts idle instances and retries.
pub const POOL_EXHAUSTED: &str = "Portico.InstancePoolExhausted";

/// Maps a wasmtime error from a guest call to the failure Lambda would report.
fn classify(
    err: &wasmtime::Error,
    state: &MemoryLimits,
    panic: Option<String>,
    request_id: &str,
) -> GuestFailure {
    if err
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        return GuestFailure::new(POOL_EXHAUSTED, format!("{err}"));
    }
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        return GuestFailure::new(
            "Runtime.ExitError",
            format!(
                "RequestId: {request_id} Error: Runtime exited with error: exit status {}",
                exit.0
            ),
        );
    }
    if state.denied {
        return GuestFailure::new(
            "Runtime.OutOfMemory",
            format!(
                "RequestId: {request_id} Error: Runtime exited with error: out of memory (MemorySize {} MB exceeded)",
                state.limit >> 20
            ),
        );
    }
    if let Some(msg) = panic {
        return GuestFailure::new("Runtime.Panic", msg);
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => GuestFailure::new(
            "Runtime.StackOverflow",
            format!("RequestId: {request_id} Error: Runtime exited with error: call stack exhausted"),
        ),
        Some(trap) => GuestFailure::new(
            "Runtime.Trap",
            format!("RequestId: {request_id} Error: Runtime exited with error: {trap}"),
        ),
        None => GuestFailure::new(
            "Runtime.Unknown",
            format!("RequestId: {request_id} Error: Runtime exited with error: {err:#}"),
        ),
    }
}

/// The result of running one invocation inside an environment.
pub type RunResult = Result<Vec<u8>, GuestFailure>;

/// How an SDK instance receives each invocation's event and context
/// (`guest-sdk/ABI.md`).
enum Input {
    /// ABI version 2: one guest-owned buffer (from `portico_input`), reused
    /// while it is large enough, so an invocation is a single guest call.
    Lent {
        input: TypedFunc<i32, i32>,
        /// Start and size of the buffer the guest handed out, if any yet.
        buffer: Option<(usize, usize)>,
    },
    /// ABI version 1: a `portico_alloc` call per buffer; the guest takes
    /// ownership of both.
    Owned { alloc: TypedFunc<i32, i32> },
}

/// The smallest input buffer asked of an ABI version 2 guest: room for a
/// typical API Gateway event, so it is requested once per instance.
const MIN_INPUT_BUFFER: usize = 16 * 1024;

/// A warm SDK instance: initialised once, then invoked many times, one
/// invocation at a time.
pub struct SdkInstance {
    store: Store<InstanceState>,
    memory: Memory,
    input: Input,
    invoke: TypedFunc<(i32, i32, i32, i32), i64>,
    panic_message: Option<TypedFunc<(), i64>>,
    logs: Capture,
    pub last_used: Instant,
}

impl SdkInstance {
    /// Instantiates and runs `_initialize` (the cold start).
    pub async fn start(
        prepared: &Prepared,
        env: &Environment,
        request_id: &str,
    ) -> Result<SdkInstance, GuestFailure> {
        let logs = Capture::new(LOG_LIMIT);
        let mut store = new_store(prepared, env, None, &logs, &logs);
        let instance: Instance = match prepared.pre.instantiate_async(&mut store).await {
            Ok(i) => i,
            Err(e) => {
                let failure = classify(&e, &store.data().limits, None, request_id);
                return Err(if failure.error_type == "Runtime.Unknown" {
                    GuestFailure::new(
                        "Runtime.InitError",
                        format!("RequestId: {request_id} Error: instantiation failed: {e:#}"),
                    )
                } else {
                    failure
                });
            }
        };
        let bad = |what: &str| {
            GuestFailure::new(
                "Runtime.InvalidEntrypoint",
                format!("SDK module is missing {what}"),
            )
        };
        // Exports are looked up by the indices `module` resolved once per
        // module, not by name; a failed typed lookup would build an error
        // (and maybe a backtrace) on every cold start.
        let exports = &prepared.exports;
        let func = |store: &mut Store<InstanceState>, export: Option<&ModuleExport>| {
            export.and_then(|e| instance.get_module_export(&mut *store, e)?.into_func())
        };
        let memory = exports
            .memory
            .as_ref()
            .and_then(|e| instance.get_module_export(&mut store, e)?.into_memory())
            .ok_or_else(|| bad("memory"))?;
        store.data_mut().memory = Some(memory);
        let input = match func(&mut store, exports.input.as_ref()) {
            Some(f) => Input::Lent {
                input: f.typed(&store).map_err(|_| bad("portico_input"))?,
                buffer: None,
            },
            None => Input::Owned {
                alloc: func(&mut store, exports.alloc.as_ref())
                    .and_then(|f| f.typed(&store).ok())
                    .ok_or_else(|| bad("portico_alloc"))?,
            },
        };
        let invoke = func(&mut store, exports.invoke.as_ref())
            .and_then(|f| f.typed(&store).ok())
            .ok_or_else(|| bad("portico_invoke"))?;
        let panic_message =
            func(&mut store, exports.panic_message.as_ref()).and_then(|f| f.typed::<(), i64>(&store).ok());
        if let Some(init) = func(&mut store, exports.initialize.as_ref()) {
            let init = init
                .typed::<(), ()>(&store)
                .map_err(|_| bad("_initialize of type () -> ()"))?;
            if let Err(e) = init.call_async(&mut store, ()).await {
                return Err(classify(&e, &store.data().limits, None, request_id));
            }
        }
        Ok(SdkInstance {
            store,
            memory,
            input,
            invoke,
            panic_message,
            logs,
            last_used: Instant::now(),
        })
    }

    pub fn logs(&self) -> &Capture {
        &self.logs
    }

    pub fn peak_memory(&self) -> usize {
        self.store.data().limits.peak
    }

    /// ABI version 1: copies `bytes` into a fresh `portico_alloc` buffer.
    async fn write_owned(
        &mut self,
        alloc: &TypedFunc<i32, i32>,
        bytes: &[u8],
    ) -> wasmtime::Result<(i32, i32)> {
        let len = i32::try_from(bytes.len()).map_err(|_| wasmtime::Error::msg("payload too large"))?;
        let ptr = alloc.call_async(&mut self.store, len).await?;
        if ptr == 0 && len > 0 {
            return Err(wasmtime::Error::msg("portico_alloc returned null"));
        }
        self.memory
            .write(&mut self.store, ptr as u32 as usize, bytes)
            .map_err(|_| wasmtime::Error::msg("portico_alloc returned an out-of-bounds pointer"))?;
        Ok((ptr, len))
    }

    /// Copies the event and the context into guest memory and runs
    /// `portico_invoke`: one guest call for a warm ABI version 2 instance.
    async fn enter(&mut self, event: &[u8], context: &[u8]) -> wasmtime::Result<i64> {
        let too_large = || wasmtime::Error::msg("payload too large");
        let (event_len, ctx_len) = (
            i32::try_from(event.len()).map_err(|_| too_large())?,
            i32::try_from(context.len()).map_err(|_| too_large())?,
        );
        let args = match &mut self.input {
            Input::Lent { input, buffer } => {
                let need = event.len() + context.len();
                let start = match *buffer {
                    Some((start, size)) if size >= need => start,
                    _ => {
                        let size = need.max(MIN_INPUT_BUFFER);
                        let len = i32::try_from(size).map_err(|_| too_large())?;
                        let ptr = input.call_async(&mut self.store, len).await?;
                        if ptr == 0 {
                            return Err(wasmtime::Error::msg("portico_input returned null"));
                        }
                        *buffer = Some((ptr as u32 as usize, size));
                        ptr as u32 as usize
                    }
                };
                let region = start
                    .checked_add(need)
                    .and_then(|end| self.memory.data_mut(&mut self.store).get_mut(start..end))
                    .ok_or_else(|| wasmtime::Error::msg("portico_input returned an out-of-bounds buffer"))?;
                let (event_dst, ctx_dst) = region.split_at_mut(event.len());
                event_dst.copy_from_slice(event);
                ctx_dst.copy_from_slice(context);
                // In bounds of a 32-bit memory, so the offsets fit.
                let ctx_start = start + event.len();
                (start as u32 as i32, event_len, ctx_start as u32 as i32, ctx_len)
            }
            Input::Owned { alloc } => {
                let alloc = alloc.clone();
                let (ep, el) = self.write_owned(&alloc, event).await?;
                let (cp, cl) = self.write_owned(&alloc, context).await?;
                (ep, el, cp, cl)
            }
        };
        self.invoke.call_async(&mut self.store, args).await
    }

    /// Runs one invocation. After an `Err` the instance must be discarded.
    pub async fn call(
        &mut self,
        event: &[u8],
        context: &[u8],
        request_id: &str,
        check: ResultCheck,
    ) -> Result<RunResult, GuestFailure> {
        // An idle instance's epoch deadline passed long ago; without a fresh
        // one the guest would yield to the runtime on entry, every time.
        self.store.set_epoch_deadline(1);
        let packed = match self.enter(event, context).await {
            Ok(p) => p as u64,
            Err(e) => {
                let panic = self.panic_text().await;
                return Err(classify(&e, &self.store.data().limits, panic, request_id));
            }
        };
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        let invalid = |why: &str| {
            GuestFailure::new(
                "Runtime.InvalidResponse",
                format!("RequestId: {request_id} Error: {why}"),
            )
        };
        if len == 0 {
            return Err(invalid("portico_invoke returned an empty result"));
        }
        if len > MAX_RESPONSE_PAYLOAD + 1 {
            // Status byte plus the payload; checked before copying it out.
            return Ok(Err(GuestFailure::new(
                "Function.ResponseSizeTooLarge",
                format!(
                    "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_PAYLOAD} bytes).",
                    len - 1
                ),
            )));
        }
        let data = self.memory.data(&self.store);
        let Some(buf) = ptr.checked_add(len).and_then(|end| data.get(ptr..end)) else {
            return Err(invalid("portico_invoke returned an out-of-bounds result"));
        };
        let (status, body) = (buf[0], &buf[1..]);
        match status {
            0 => check_json(body, request_id, check).map(Ok),
            1 => Ok(Err(error_from_json(body).unwrap_or_else(|| {
                GuestFailure::new(
                    "Runtime.InvalidResponse",
                    "the function reported an error that is not {errorMessage, errorType} JSON",
                )
            }))),
            other => Err(invalid(&format!("unknown result status {other}"))),
        }
    }

    /// After a trap: the SDK's record of the last panic, if it keeps one.
    async fn panic_text(&mut self) -> Option<String> {
        let f = self.panic_message.clone()?;
        let packed = f.call_async(&mut self.store, ()).await.ok()? as u64;
        let (ptr, len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
        if len == 0 || len > 64 * 1024 {
            return None;
        }
        let bytes = self.memory.data(&self.store).get(ptr..ptr + len)?;
        Some(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// Whether the host checks that a successful result is JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultCheck {
    /// A result that is not JSON fails as `Runtime.InvalidResponse` (the
    /// Invoke API, authorizers, non-proxy integrations).
    Json,
    /// The caller parses the result itself and answers one that is not JSON
    /// on its own terms: a Lambda proxy integration, where it is a malformed
    /// proxy response (502), as API Gateway answers a custom runtime's
    /// non-JSON output. Checking here too would read every result twice.
    /// Also a non-proxy integration whose response template reads the
    /// result as JSON: reading it is the check (`not_json` if it fails).
    ByCaller,
}

/// A successful result must be JSON (an empty one reads as `null`), unless
/// the caller checks it. The check is syntactic only (nothing is built), and
/// the result is copied out once it passed.
fn check_json<B: AsRef<[u8]> + Into<Vec<u8>>>(body: B, request_id: &str, check: ResultCheck) -> RunResult {
    let bytes = body.as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(b"null".to_vec());
    }
    if check == ResultCheck::ByCaller {
        return Ok(body.into());
    }
    match crate::json_check::check(bytes) {
        Ok(_) => Ok(body.into()),
        Err(e) => Err(not_json(request_id, &e)),
    }
}

/// The failure of a function whose result is not JSON (what a caller that
/// checks the result itself reports too).
pub fn not_json(request_id: &str, error: &serde_json::Error) -> GuestFailure {
    GuestFailure::new(
        "Runtime.InvalidResponse",
        format!("RequestId: {request_id} Error: the function returned a result that is not JSON: {error}"),
    )
}

/// Parses `{"errorMessage": "...", "errorType": "..."}`.
pub fn error_from_json(bytes: &[u8]) -> Option<GuestFailure> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let obj = v.as_object()?;
    let message = obj.get("errorMessage")?.as_str()?.to_string();
    let error_type = match obj.get("errorType") {
        Some(serde_json::Value::String(t)) => t.clone(),
        None | Some(serde_json::Value::Null) => String::new(),
        Some(_) => return None,
    };
    Some(GuestFailure {
        error_type,
        message,
        reported: Some(bytes.to_vec()),
    })
}

/// Runs a WASI command module once: event on stdin, result on stdout.
/// Returns the run result, the captured logs and the peak memory.
pub async fn run_command(
    prepared: &Prepared,
    env: &Environment,
    event: &[u8],
    request_id: &str,
    check: ResultCheck,
) -> (RunResult, Capture, usize) {
    let stdout = Capture::new(MAX_RESPONSE_PAYLOAD);
    let logs = Capture::new(LOG_LIMIT);
    let mut store = new_store(prepared, env, Some(event.to_vec()), &stdout, &logs);
    let run = async {
        let instance = prepared.pre.instantiate_async(&mut store).await?;
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        start.call_async(&mut store, ()).await
    }
    .await;
    let out = stdout.take();
    let exit_code = match &run {
        Ok(()) => Some(0),
        Err(e) => e.downcast_ref::<I32Exit>().map(|x| x.0),
    };
    let result = match (exit_code, run) {
        (Some(0), _) if out.overflowed() => Err(GuestFailure::new(
            "Function.ResponseSizeTooLarge",
            format!(
                "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_PAYLOAD} bytes).",
                out.data.len() as u64 + out.dropped
            ),
        )),
        (Some(0), _) => check_json(out.data, request_id, check),
        (Some(code), _) => Err(error_from_json(&out.data).unwrap_or_else(|| {
            GuestFailure::new(
                "Runtime.ExitError",
                format!("RequestId: {request_id} Error: Runtime exited with error: exit status {code}"),
            )
        })),
        (None, Err(e)) => Err(classify(&e, &store.data().limits, None, request_id)),
        (None, Ok(())) => Err(GuestFailure::new("Runtime.Unknown", "unexpected command state")),
    };
    let peak = store.data().limits.peak;
    (result, logs, peak)
}
