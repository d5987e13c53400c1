//! `counter`: counts invocations served by this instance, so tests can see
//! warm reuse. Body: `{"count": N, "instance": "<random id>"}`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use portico_guest::serde_json::{Value, json};
use portico_guest::{Context, Error, handler};

static COUNT: AtomicU64 = AtomicU64::new(0);
static INSTANCE: OnceLock<String> = OnceLock::new();

/// 16 hex digits from WASI `random_get` (std seeds `RandomState` with it).
fn random_id() -> String {
    format!("{:016x}", RandomState::new().hash_one(0x5eed_u64))
}

fn counter(_event: Value, _ctx: Context) -> Result<Value, Error> {
    let instance = INSTANCE.get_or_init(random_id);
    let count = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    Ok(json!({
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json!({"count": count, "instance": instance}).to_string(),
    }))
}

handler!(counter);
