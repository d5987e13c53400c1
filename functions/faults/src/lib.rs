//! `faults`: misbehaves on request, to test the host's limits and error
//! handling. Event: `{"fault": "<name>", ...}`; see functions/README.md.

use std::hint::black_box;
use std::io::Write;

use portico_guest::serde_json::{self, Value, json};
use portico_guest::{Context, Error, raw_handler};

const OK: &[u8] = br#"{"ok":true}"#;

fn num(event: &Value, key: &str, default: u64) -> u64 {
    event.get(key).and_then(Value::as_u64).unwrap_or(default)
}

fn spin() -> ! {
    let mut i: u64 = 0;
    loop {
        i = black_box(i.wrapping_add(1));
    }
}

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

fn exhaust_memory() -> ! {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        // touch every page so the memory is really committed
        for page in chunk.chunks_mut(4096) {
            page[0] = 1;
        }
        chunks.push(black_box(chunk));
        black_box(&chunks);
    }
}

/// Unbounded, non-tail recursion the optimiser cannot turn into a loop.
/// Frames are kept small so the wasm call stack (not Rust's shadow stack in
/// linear memory) is what runs out: the engine's stack-overflow trap.
fn recurse(depth: u64) -> u64 {
    // never true, but opaque to the optimiser
    if black_box(depth) == u64::MAX {
        return 0;
    }
    let below = recurse(depth + 1);
    below ^ black_box(depth)
}

fn huge_output(total: u64) {
    const CHUNK: usize = 64 * 1024;
    let mut chunk = vec![b'x'; CHUNK];
    chunk[CHUNK - 1] = b'\n';
    let mut out = std::io::stdout().lock();
    let mut left = total as usize;
    while left > 0 {
        let n = left.min(CHUNK);
        if out.write_all(&chunk[CHUNK - n..]).is_err() {
            break;
        }
        left -= n;
    }
    let _ = out.flush();
}

fn big_result(total: u64) -> Vec<u8> {
    let total = (total as usize).max(2);
    let mut out = Vec::with_capacity(total);
    out.push(b'"');
    out.resize(total - 1, b'a');
    out.push(b'"');
    out
}

fn log_lines(lines: u64) {
    {
        let mut out = std::io::stdout().lock();
        for i in 1..=lines {
            let _ = writeln!(out, "stdout line {i}");
        }
        let _ = out.flush();
    }
    let mut err = std::io::stderr().lock();
    for i in 1..=lines {
        let _ = writeln!(err, "stderr line {i}");
    }
}

fn faults(event: &[u8], _ctx: Context) -> Result<Vec<u8>, Error> {
    let event: Value = serde_json::from_slice(event).unwrap_or(Value::Null);
    // Behind a Lambda proxy integration the instructions are the request body.
    let event = match event.get("body").and_then(Value::as_str) {
        Some(body) if event.get("fault").is_none() => serde_json::from_str(body).unwrap_or(Value::Null),
        _ => event,
    };
    let fault = event.get("fault").and_then(Value::as_str).unwrap_or("");
    match fault {
        "loop" => spin(),
        "trap" => trap(),
        "panic" => panic!("boom"),
        "oom" => exhaust_memory(),
        "stack" => {
            black_box(recurse(0));
            Ok(OK.to_vec())
        }
        "huge-output" => {
            huge_output(num(&event, "bytes", 100 * 1024 * 1024));
            Ok(OK.to_vec())
        }
        "bad-json" => Ok(b"not json{".to_vec()),
        "respond" => Ok(event.get("response").unwrap_or(&Value::Null).to_string().into_bytes()),
        "exit" => std::process::exit(num(&event, "code", 3) as i32),
        "error" => Err(Error::new("CustomError", "something went wrong")),
        "sleep" => {
            let ms = num(&event, "ms", 1000);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            Ok(json!({"slept": ms}).to_string().into_bytes())
        }
        "big-result" => Ok(big_result(num(&event, "bytes", 7 * 1024 * 1024))),
        "log" => {
            log_lines(num(&event, "lines", 10));
            Ok(OK.to_vec())
        }
        _ => Ok(OK.to_vec()),
    }
}

raw_handler!(faults);
