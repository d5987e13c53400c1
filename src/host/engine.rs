//! The wasmtime engine: pooling allocation, epoch interruption and the epoch
//! ticker. Nothing here knows about functions, HTTP or storage.
//!
//! Settings follow `shared/reference/wasmtime-performance.md`: the pooling
//! allocator with `*_keep_resident` and `pagemap_scan` cut the cost of a fresh
//! instance about 4x; epochs (not fuel) bound guest run time at near-zero cost.

use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances. A running guest yields to the async runtime
/// at every tick, so a looping guest cannot starve other requests for longer.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Largest wasm stack a guest may use before it traps with a stack overflow.
const MAX_WASM_STACK: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Live instances (warm, idle or running) the pool can hold at once.
    pub max_instances: u32,
}

pub fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(settings.max_instances)
        .total_memories(settings.max_instances)
        .total_tables(settings.max_instances)
        .total_stacks(settings.max_instances)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        // wasm32 cannot address more than 4 GiB; MemorySize is enforced per
        // store by the resource limiter below this ceiling.
        .max_memory_size(4 << 30)
        .linear_memory_keep_resident(2 << 20)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(128 << 10)
        .pagemap_scan(Enabled::Auto);

    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK)
        .async_stack_size(MAX_WASM_STACK + (1 << 20))
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // `PORTICO_PERFMAP=1`: name guest code in `perf` profiles (/tmp/perf-PID.map).
    if std::env::var_os("PORTICO_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a dedicated thread for
/// the life of the process.
pub fn start_epoch_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("portico-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .ok();
}
