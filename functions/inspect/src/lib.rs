//! `inspect`: reports what the sandbox lets a function see (environment,
//! arguments, files, directories, clock) and its invocation context.

use std::time::{SystemTime, UNIX_EPOCH};

use portico_guest::serde_json::{Map, Value, json};
use portico_guest::{Context, Error, handler};

fn read_dir(path: &str) -> Value {
    match std::fs::read_dir(path) {
        Ok(entries) => Value::Array(
            entries
                .map(|e| match e {
                    Ok(e) => Value::String(e.file_name().to_string_lossy().into_owned()),
                    Err(err) => Value::String(format!("error: {err}")),
                })
                .collect(),
        ),
        Err(err) => Value::String(err.to_string()),
    }
}

fn inspect(event: Value, ctx: Context) -> Result<Value, Error> {
    let env: Map<String, Value> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                Value::String(v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (file_read_ok, file_read) = match std::fs::read_to_string("/etc/passwd") {
        Ok(content) => (true, content),
        Err(err) => (false, err.to_string()),
    };
    let cwd = match std::env::current_dir() {
        Ok(p) => Value::String(p.to_string_lossy().into_owned()),
        Err(err) => Value::String(format!("error: {err}")),
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Ok(json!({
        "env": env,
        "args": args,
        "fileRead": file_read,
        "fileReadOk": file_read_ok,
        "dirRead": {"/": read_dir("/"), ".": read_dir(".")},
        "cwd": cwd,
        "nowMs": now_ms,
        "event": event,
        "context": {
            "requestId": ctx.request_id,
            "functionName": ctx.function_name,
            "functionVersion": ctx.function_version,
            "invokedFunctionArn": ctx.invoked_function_arn,
            "memoryLimitInMb": ctx.memory_limit_in_mb,
            "deadlineMs": ctx.deadline,
            "remainingMs": ctx.remaining_time().as_millis() as u64,
            "clientContext": ctx.client_context,
        },
    }))
}

handler!(inspect);
