//! From wasm bytes to something ready to instantiate: validation (WASI
//! preview1 imports only, one of the two guest shapes), Cranelift compilation
//! at upload time, and the on-disk artifact cache keyed by (code SHA-256,
//! engine compatibility hash) so a restart deserializes instead of compiling.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use wasmtime::{Engine, ExternType, InstancePre, Linker, Module, ModuleExport, ValType};

use super::instance::InstanceState;
use crate::function::GuestShape;
use crate::store::blobs::{CodeStore, sha256_hex, write_atomic};

const WASI_P1: &str = "wasi_snapshot_preview1";

#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The user's module is unacceptable; the message says why.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

/// A module ready to instantiate, with its imports already resolved.
#[derive(Clone)]
pub struct Prepared {
    pub pre: InstancePre<InstanceState>,
    pub shape: GuestShape,
    pub exports: SdkExports,
}

/// Where the SDK ABI's exports are in the module, resolved once so a cold
/// start finds them without name lookups. `None` for what the module lacks.
#[derive(Clone, Copy, Default)]
pub struct SdkExports {
    pub memory: Option<ModuleExport>,
    /// `portico_input` of an ABI version 2 module (`portico_abi_v2`); for
    /// version 1, `None` and `alloc` is set.
    pub input: Option<ModuleExport>,
    pub alloc: Option<ModuleExport>,
    pub invoke: Option<ModuleExport>,
    pub panic_message: Option<ModuleExport>,
    pub initialize: Option<ModuleExport>,
}

impl SdkExports {
    fn of(module: &Module) -> SdkExports {
        let at = |name: &str| module.get_export_index(name);
        let v2 = module.get_export("portico_abi_v2").is_some();
        SdkExports {
            memory: at("memory"),
            input: if v2 { at("portico_input") } else { None },
            alloc: if v2 { None } else { at("portico_alloc") },
            invoke: at("portico_invoke"),
            panic_message: at("portico_panic_message"),
            initialize: at("_initialize"),
        }
    }
}

/// Compiled modules, in memory and on disk.
pub struct Modules {
    engine: Engine,
    linker: Linker<InstanceState>,
    code: CodeStore,
    artifacts_dir: PathBuf,
    compat: String,
    loaded: DashMap<String, Prepared>,
    /// Cranelift compilations since start (observable: a restart must not add any).
    pub compiles: AtomicU64,
    /// Artifacts deserialized from disk since start.
    pub artifact_loads: AtomicU64,
}

impl Modules {
    pub fn new(engine: Engine, code: CodeStore, data_dir: &std::path::Path) -> wasmtime::Result<Modules> {
        let mut linker: Linker<InstanceState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut InstanceState| &mut s.wasi)?;
        // Guest output never waits, so its `fd_write` is synchronous.
        linker.allow_shadowing(true);
        linker.func_wrap(
            "wasi_snapshot_preview1",
            "fd_write",
            |mut caller: wasmtime::Caller<'_, InstanceState>,
             fd: i32,
             iovs: i32,
             iovs_len: i32,
             nwritten: i32| {
                let memory = caller
                    .data()
                    .memory
                    .or_else(|| caller.get_export("memory").and_then(|e| e.into_memory()));
                let Some(memory) = memory else {
                    return 21; // EFAULT: no memory to read from
                };
                let (data, state) = memory.data_and_store_mut(&mut caller);
                super::output::fd_write(data, &state.output, fd, iovs, iovs_len, nwritten)
            },
        )?;
        linker.allow_shadowing(false);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Modules {
            compat: format!("{:016x}", hasher.finish()),
            artifacts_dir: data_dir.join("artifacts"),
            engine,
            linker,
            code,
            loaded: DashMap::new(),
            compiles: AtomicU64::new(0),
            artifact_loads: AtomicU64::new(0),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn artifact_path(&self, sha: &str) -> PathBuf {
        self.artifacts_dir.join(format!("{sha}-{}.cwasm", self.compat))
    }

    /// Validates and compiles uploaded wasm, writing the artifact to disk.
    /// CPU-heavy: call from a blocking thread.
    pub fn compile(&self, wasm: &[u8]) -> Result<(String, Prepared), ModuleError> {
        let sha = sha256_hex(wasm);
        if let Some(p) = self.loaded.get(&sha) {
            return Ok((sha, p.clone()));
        }
        let module = Module::new(&self.engine, wasm)
            .map_err(|e| ModuleError::Invalid(format!("The module is not valid WebAssembly: {e:#}")))?;
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let prepared = self.prepare(&module)?;
        let bytes = module
            .serialize()
            .map_err(|e| ModuleError::Internal(format!("serialize: {e}")))?;
        write_atomic(&self.artifact_path(&sha), &bytes)
            .map_err(|e| ModuleError::Internal(format!("write artifact: {e}")))?;
        self.loaded.insert(sha.clone(), prepared.clone());
        Ok((sha, prepared))
    }

    /// Returns the prepared module for stored code: from memory, from the
    /// artifact cache, or (only if the artifact is missing or stale) by
    /// compiling the stored code again.
    pub fn load(&self, sha: &str) -> Result<Prepared, ModuleError> {
        if let Some(p) = self.loaded.get(sha) {
            return Ok(p.clone());
        }
        let path = self.artifact_path(sha);
        if path.exists() {
            // SAFETY: artifacts are written only by `compile` above, into our
            // own data directory, and are keyed by the engine's compatibility
            // hash; wasmtime also checks the header before using one.
            match unsafe { Module::deserialize_file(&self.engine, &path) } {
                Ok(module) => {
                    self.artifact_loads.fetch_add(1, Ordering::Relaxed);
                    let prepared = self.prepare(&module)?;
                    self.loaded.insert(sha.to_string(), prepared.clone());
                    return Ok(prepared);
                }
                Err(e) => tracing::warn!(sha, error = %e, "stale artifact; recompiling"),
            }
        }
        let wasm = self
            .code
            .get(sha)
            .map_err(|e| ModuleError::Internal(format!("code {sha} unreadable: {e}")))?;
        self.compile(&wasm).map(|(_, p)| p)
    }

    /// Checks imports and exports and resolves imports against WASI.
    fn prepare(&self, module: &Module) -> Result<Prepared, ModuleError> {
        for import in module.imports() {
            if import.module() != WASI_P1 {
                return Err(ModuleError::Invalid(format!(
                    "Unsupported import {}::{}: functions may import only WASI preview1 ({WASI_P1})",
                    import.module(),
                    import.name()
                )));
            }
        }
        let shape = shape_of(module)?;
        let pre = self.linker.instantiate_pre(module).map_err(|e| {
            ModuleError::Invalid(format!(
                "Unsupported import: {e:#} (only WASI preview1 is provided)"
            ))
        })?;
        let exports = match shape {
            GuestShape::Sdk => SdkExports::of(module),
            GuestShape::Command => SdkExports::default(),
        };
        Ok(Prepared { pre, shape, exports })
    }
}

fn func_sig(module: &Module, name: &str) -> Option<(Vec<ValType>, Vec<ValType>)> {
    match module.get_export(name)? {
        ExternType::Func(f) => Some((f.params().collect(), f.results().collect())),
        _ => None,
    }
}

fn is_sig(sig: &Option<(Vec<ValType>, Vec<ValType>)>, params: &[ValType], results: &[ValType]) -> bool {
    sig.as_ref().is_some_and(|(p, r)| {
        p.len() == params.len()
            && r.len() == results.len()
            && p.iter().zip(params).all(|(a, b)| ValType::eq(a, b))
            && r.iter().zip(results).all(|(a, b)| ValType::eq(a, b))
    })
}

/// Which guest ABI the module implements (see `guest-sdk/ABI.md`).
fn shape_of(module: &Module) -> Result<GuestShape, ModuleError> {
    use ValType::{I32, I64};
    let invoke = func_sig(module, "portico_invoke");
    if invoke.is_some() {
        if !is_sig(&invoke, &[I32, I32, I32, I32], &[I64]) {
            return Err(ModuleError::Invalid(
                "Export portico_invoke must have type (i32, i32, i32, i32) -> i64".into(),
            ));
        }
        // ABI version 2 takes its input in one reused buffer; version 1
        // allocates one per invocation.
        let (buffer, version) = if module.get_export("portico_abi_v2").is_some() {
            ("portico_input", 2)
        } else {
            ("portico_alloc", 1)
        };
        if !is_sig(&func_sig(module, buffer), &[I32], &[I32]) {
            return Err(ModuleError::Invalid(format!(
                "SDK modules of ABI version {version} must export {buffer}: (i32) -> i32"
            )));
        }
        if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
            return Err(ModuleError::Invalid(
                "SDK modules must export their memory as \"memory\"".into(),
            ));
        }
        return Ok(GuestShape::Sdk);
    }
    if is_sig(&func_sig(module, "_start"), &[], &[]) {
        return Ok(GuestShape::Command);
    }
    Err(ModuleError::Invalid(
        "The module exports neither portico_invoke (SDK shape) nor _start (WASI command shape)".into(),
    ))
}
