//! `command_echo`: a plain WASI preview1 command (no SDK).
//!
//! Reads the event JSON from stdin, then:
//! - `{"fail": {"errorMessage": m, "errorType": t}}` -> prints that object, exits 1;
//! - `{"exitCode": n}` -> prints nothing, exits n;
//! - otherwise prints `{"statusCode":200,"body":"<event as JSON string>"}`, exits 0.

use std::io::{Read, Write};
use std::process::ExitCode;

use serde_json::{Value, json};

fn main() -> ExitCode {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("command_echo: cannot read stdin: {e}");
        return ExitCode::from(2);
    }
    eprintln!("command_echo: read {} bytes of event", input.len());

    let event: Value = match serde_json::from_slice(&input) {
        Ok(v) => v,
        Err(e) => {
            let err =
                json!({"errorMessage": format!("invalid event JSON: {e}"), "errorType": "InvalidEvent"});
            print_json(&err);
            return ExitCode::FAILURE;
        }
    };

    if let Some(fail) = event.get("fail") {
        print_json(fail);
        return ExitCode::FAILURE;
    }
    if let Some(code) = event.get("exitCode").and_then(Value::as_i64) {
        std::process::exit(code as i32);
    }
    print_json(&json!({"statusCode": 200, "body": event.to_string()}));
    ExitCode::SUCCESS
}

fn print_json(value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(value.to_string().as_bytes());
    let _ = out.flush();
}
