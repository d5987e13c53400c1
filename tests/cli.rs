//! `portico function ...` against the real server, and the guest SDK
//! README's example (which is `functions/hello`), built and run.

mod common;

use std::process::Command;

use common::Server;

fn portico(server: &Server, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(args)
        .env("PORTICO_ENDPOINT", &server.admin)
        .output()
        .expect("run portico");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn function_commands_round_trip() {
    let s = Server::start();
    let counter = common::wasm_dir().join("counter.wasm");
    let counter = counter.to_str().unwrap();
    let (ok, out, err) = portico(
        &s,
        &[
            "function", "create", "--name", "counter", "--code", counter, "--env", "MODE=1",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("counter"), "{out}");

    let (ok, out, _) = portico(
        &s,
        &["function", "invoke", "--name", "counter", "--payload", "{}"],
    );
    assert!(ok);
    assert!(out.contains("\\\"count\\\":1"), "{out}");

    let (ok, out, _) = portico(&s, &["function", "list"]);
    assert!(ok);
    assert!(out.contains("counter"), "{out}");

    let (ok, out, _) = portico(&s, &["function", "get", "--name", "counter", "--json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(v["Configuration"]["Environment"]["Variables"]["MODE"], "1");

    let (ok, _, err) = portico(
        &s,
        &[
            "function",
            "update-config",
            "--name",
            "counter",
            "--memory",
            "512",
            "--timeout",
            "9",
        ],
    );
    assert!(ok, "{err}");
    let (ok, out, _) = portico(&s, &["function", "publish", "--name", "counter"]);
    assert!(ok, "{out}");
    let (ok, out, err) = portico(
        &s,
        &[
            "function",
            "alias",
            "create",
            "--name",
            "counter",
            "--alias",
            "live",
            "--version",
            "1",
        ],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, _) = portico(
        &s,
        &[
            "function",
            "invoke",
            "--name",
            "counter",
            "--qualifier",
            "live",
            "--payload",
            "{}",
        ],
    );
    assert!(ok, "{out}");
    let (ok, _, err) = portico(
        &s,
        &[
            "function",
            "concurrency",
            "put",
            "--name",
            "counter",
            "--reserved",
            "2",
        ],
    );
    assert!(ok, "{err}");

    // A function error exits non-zero and says why.
    let faults = common::wasm_dir().join("faults.wasm");
    portico(
        &s,
        &[
            "function",
            "create",
            "--name",
            "faults",
            "--code",
            faults.to_str().unwrap(),
        ],
    );
    let (ok, _, err) = portico(
        &s,
        &[
            "function",
            "invoke",
            "--name",
            "faults",
            "--payload",
            r#"{"fault":"error"}"#,
        ],
    );
    assert!(!ok);
    assert!(err.contains("CustomError"), "{err}");

    // AWS errors are shown with their code.
    let (ok, _, err) = portico(&s, &["function", "get", "--name", "missing"]);
    assert!(!ok);
    assert!(err.contains("ResourceNotFoundException"), "{err}");

    let (ok, _, _) = portico(&s, &["function", "delete", "--name", "counter"]);
    assert!(ok);
    let (ok, _, _) = portico(&s, &["function", "get", "--name", "counter"]);
    assert!(!ok);
}

#[test]
fn unreachable_endpoint_is_explained() {
    let out = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(["function", "list", "--endpoint", "http://127.0.0.1:9"])
        .output()
        .expect("run portico");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("portico serve"), "{err}");
}

/// The guest SDK README shows `functions/hello/src/lib.rs` verbatim; this
/// keeps them equal and runs the function.
#[test]
fn guest_sdk_readme_example_runs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("guest-sdk/README.md")).unwrap();
    let source = std::fs::read_to_string(root.join("functions/hello/src/lib.rs")).unwrap();
    let block = readme
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README has a rust block");
    assert_eq!(
        block.trim(),
        source.trim(),
        "README example and functions/hello differ"
    );
    let s = Server::start();
    s.deploy("hello", "hello");
    let r = s.invoke("hello", serde_json::json!({}));
    assert_eq!(common::proxy_body(&r)["message"], "Hello from Portico");
}
