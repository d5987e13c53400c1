//! `portico deploy` and `portico api ...` against the real server: the
//! declarative deploy is idempotent, redeploys when the document changes,
//! and the API it builds serves requests through the front door.

mod common;

use std::path::Path;
use std::process::Command;

use common::Server;
use common::rest_api::lambda_uri;
use serde_json::{Value, json};

fn integration(f: &str) -> Value {
    json!({ "type": "aws_proxy", "httpMethod": "POST", "uri": lambda_uri(f) })
}

fn portico(server: &Server, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args(args)
        .env("PORTICO_ENDPOINT", &server.admin)
        .env_remove("PORTICO_FRONT")
        .output()
        .expect("run portico");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn openapi(extra_path: bool) -> Value {
    let mut doc = json!({
        "openapi": "3.0.1",
        "info": { "title": "cli-deploy-api", "version": "1" },
        "paths": {
            "/hello": {
                "get": { "x-amazon-apigateway-integration": integration("hello") }
            },
            "/echo/{proxy+}": {
                "x-amazon-apigateway-any-method": {
                    "parameters": [{ "name": "proxy", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "x-amazon-apigateway-integration": integration("echo")
                }
            }
        }
    });
    if extra_path {
        doc["paths"]["/greet"] =
            json!({ "get": { "x-amazon-apigateway-integration": integration("hello") } });
    }
    doc
}

fn write_doc(path: &Path, doc: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
}

fn function_state(s: &Server, name: &str) -> (String, usize) {
    let got = s.admin("GET", &format!("/2015-03-31/functions/{name}"), None);
    assert_eq!(got.status, 200, "{}", got.text());
    let revision = got.json()["Configuration"]["RevisionId"]
        .as_str()
        .unwrap()
        .to_string();
    let versions = s.admin("GET", &format!("/2015-03-31/functions/{name}/versions"), None);
    assert_eq!(versions.status, 200, "{}", versions.text());
    (revision, versions.json()["Versions"].as_array().unwrap().len())
}

fn deployment_count(s: &Server, api: &str) -> usize {
    let r = s.admin("GET", &format!("/restapis/{api}/deployments"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["item"].as_array().map_or(0, Vec::len)
}

#[test]
fn declarative_deploy_is_idempotent() {
    let s = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let functions = tmp.path().join("functions");
    std::fs::create_dir(&functions).unwrap();
    for f in ["hello", "echo"] {
        std::fs::copy(
            common::wasm_dir().join(format!("{f}.wasm")),
            functions.join(format!("{f}.wasm")),
        )
        .unwrap();
    }
    let doc = tmp.path().join("openapi.json");
    write_doc(&doc, &openapi(false));
    let deploy_args = [
        "deploy",
        doc.to_str().unwrap(),
        "--stage",
        "prod",
        "--functions",
        functions.to_str().unwrap(),
        "--front",
        &s.front,
    ];

    // First run: everything is created.
    let (ok, out, err) = portico(&s, &deploy_args);
    assert!(ok, "{out}{err}");
    assert!(out.contains("function echo: created"), "{out}");
    assert!(out.contains("function hello: created"), "{out}");
    assert!(out.contains("imported"), "{out}");
    let apis = s.admin("GET", "/restapis", None).json();
    let items = apis["item"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{apis}");
    assert_eq!(items[0]["name"], "cli-deploy-api");
    let id = items[0]["id"].as_str().unwrap().to_string();
    assert!(
        out.contains(&format!("{}/restapis/{id}/prod/_user_request_/", s.front)),
        "{out}"
    );
    let port = s.front.rsplit(':').next().unwrap();
    assert!(
        out.contains(&format!("http://{id}.execute-api.localhost:{port}/prod/")),
        "{out}"
    );

    let base = format!("{}/restapis/{id}/prod/_user_request_", s.front);
    let r = common::request("GET", &format!("{base}/hello"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": "Hello from Portico" }));
    let r = common::request("POST", &format!("{base}/echo/a/b"), &[], Some(b"{}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["pathParameters"]["proxy"], "a/b");

    assert_eq!(deployment_count(&s, &id), 1);
    let hello_before = function_state(&s, "hello");
    let echo_before = function_state(&s, "echo");

    // Second run: nothing changes.
    let (ok, out, err) = portico(&s, &deploy_args);
    assert!(ok, "{out}{err}");
    assert!(out.contains("function echo: unchanged"), "{out}");
    assert!(out.contains("function hello: unchanged"), "{out}");
    assert!(out.contains("up to date"), "{out}");
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(deployment_count(&s, &id), 1);
    assert_eq!(function_state(&s, "hello"), hello_before);
    assert_eq!(function_state(&s, "echo"), echo_before);
    assert_eq!(
        s.admin("GET", "/restapis", None).json()["item"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // --json reports the same, machine-readably.
    let mut json_args = deploy_args.to_vec();
    json_args.push("--json");
    let (ok, out, err) = portico(&s, &json_args);
    assert!(ok, "{out}{err}");
    let v: Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(v["upToDate"], true);
    assert_eq!(v["api"]["id"], id.as_str());
    assert_eq!(v["deployment"]["action"], "unchanged");
    assert_eq!(deployment_count(&s, &id), 1);

    // A changed document: same API, a second deployment, the new path served.
    write_doc(&doc, &openapi(true));
    let (ok, out, err) = portico(&s, &deploy_args);
    assert!(ok, "{out}{err}");
    assert!(out.contains("updated"), "{out}");
    assert!(out.contains("created"), "{out}");
    assert_eq!(deployment_count(&s, &id), 2);
    assert_eq!(
        s.admin("GET", "/restapis", None).json()["item"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = common::request("GET", &format!("{base}/greet"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "Hello from Portico");
    assert_eq!(function_state(&s, "hello"), hello_before);

    // Changed code is updated (and redeployed).
    std::fs::copy(
        common::wasm_dir().join("counter.wasm"),
        functions.join("hello.wasm"),
    )
    .unwrap();
    let (ok, out, err) = portico(&s, &deploy_args);
    assert!(ok, "{out}{err}");
    assert!(out.contains("function hello: updated"), "{out}");
    assert!(out.contains("function echo: unchanged"), "{out}");
    assert_ne!(function_state(&s, "hello").0, hello_before.0);
    assert_eq!(deployment_count(&s, &id), 3);
}

#[test]
fn api_commands_happy_path_and_errors() {
    let s = Server::start();
    s.deploy("hello", "hello");

    let (ok, out, err) = portico(&s, &["api", "create", "--name", "by-hand", "--json"]);
    assert!(ok, "{out}{err}");
    let api: Value = serde_json::from_str(&out).unwrap();
    let id = api["id"].as_str().unwrap().to_string();
    let root = api["rootResourceId"].as_str().unwrap().to_string();

    // Build /hello GET -> hello through the management API.
    let r = s.admin(
        "POST",
        &format!("/restapis/{id}/resources/{root}"),
        Some(json!({ "pathPart": "hello" })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let rid = r.json()["id"].as_str().unwrap().to_string();
    let r = s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{rid}/methods/GET"),
        Some(json!({ "authorizationType": "NONE" })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{rid}/methods/GET/integration"),
        Some(json!({ "type": "AWS_PROXY", "httpMethod": "POST", "uri": lambda_uri("hello") })),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    let (ok, out, err) = portico(&s, &["api", "list"]);
    assert!(ok, "{err}");
    assert!(out.contains(&id) && out.contains("by-hand"), "{out}");

    let (ok, out, err) = portico(&s, &["api", "resources", "--api", &id]);
    assert!(ok, "{err}");
    assert!(out.starts_with("PATH"), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("/hello"))
        .expect("a /hello row");
    assert!(line.contains(&rid), "{out}");
    assert!(line.contains("GET"), "{out}");
    assert!(line.contains("AWS_PROXY hello"), "{out}");

    let (ok, out, err) = portico(
        &s,
        &[
            "api", "deploy", "--api", &id, "--stage", "v1", "--front", &s.front,
        ],
    );
    assert!(ok, "{out}{err}");
    let url = format!("{}/restapis/{id}/v1/_user_request_/", s.front);
    assert!(out.contains(&url), "{out}");
    let first = s.admin("GET", &format!("/restapis/{id}/stages/v1"), None).json()["deploymentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(out.contains(&first), "{out}");
    let r = common::request("GET", &format!("{url}hello"), &[], None);
    assert_eq!(r.json()["message"], "Hello from Portico");

    let (ok, out, err) = portico(&s, &["api", "stages", "--api", &id, "--front", &s.front]);
    assert!(ok, "{err}");
    assert!(out.starts_with("NAME"), "{out}");
    let row = out.lines().find(|l| l.starts_with("v1")).expect("a v1 row");
    assert!(row.contains(&first) && row.contains(&url), "{out}");

    // Deploy again and switch the stage back to the first deployment.
    let (ok, _, err) = portico(&s, &["api", "deploy", "--api", &id, "--stage", "v1"]);
    assert!(ok, "{err}");
    assert_eq!(deployment_count(&s, &id), 2);
    let (ok, out, err) = portico(
        &s,
        &[
            "api",
            "stage-switch",
            "--api",
            &id,
            "--stage",
            "v1",
            "--deployment",
            &first,
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains(&first), "{out}");
    let now = s.admin("GET", &format!("/restapis/{id}/stages/v1"), None).json();
    assert_eq!(now["deploymentId"], first.as_str());

    // Errors carry the AWS error code and exit non-zero.
    let (ok, _, err) = portico(&s, &["api", "resources", "--api", "nope000000"]);
    assert!(!ok);
    assert!(err.contains("NotFoundException"), "{err}");
    let (ok, _, err) = portico(&s, &["api", "get", "--api", "nope000000"]);
    assert!(!ok);
    assert!(err.contains("NotFoundException"), "{err}");

    let (ok, _, err) = portico(&s, &["api", "delete", "--api", &id]);
    assert!(ok, "{err}");
    let (ok, _, _) = portico(&s, &["api", "get", "--api", &id]);
    assert!(!ok);
}

#[test]
fn enable_cors_then_preflight_and_test_invoke_from_the_cli() {
    let s = Server::start();
    let r = s.admin("POST", "/restapis", Some(json!({ "name": "cors" })));
    let api = r.json()["id"].as_str().unwrap().to_string();
    let root = r.json()["rootResourceId"].as_str().unwrap().to_string();
    let r = s.admin(
        "POST",
        &format!("/restapis/{api}/resources/{root}"),
        Some(json!({ "pathPart": "items" })),
    );
    let items = r.json()["id"].as_str().unwrap().to_string();
    let m = format!("/restapis/{api}/resources/{items}/methods/GET");
    assert_eq!(
        s.admin("PUT", &m, Some(json!({ "authorizationType": "NONE" })))
            .status,
        201
    );
    let r = s.admin(
        "PUT",
        &format!("{m}/integration"),
        Some(json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        s.admin("PUT", &format!("{m}/responses/200"), Some(json!({})))
            .status,
        201
    );
    let r = s.admin(
        "PUT",
        &format!("{m}/integration/responses/200"),
        Some(json!({ "responseTemplates": { "application/json": "{\"items\": []}" } })),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    let (ok, out, err) = portico(&s, &["api", "enable-cors", "--api", &api, "--resource", "/items"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("GET,OPTIONS"), "{out}");

    let (ok, out, err) = portico(
        &s,
        &[
            "api",
            "test-invoke",
            "--api",
            &api,
            "--resource",
            "/items",
            "--method",
            "OPTIONS",
            "--log",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("status: 200"), "{out}");
    assert!(out.contains("Access-Control-Allow-Methods: GET,OPTIONS"), "{out}");
    assert!(out.contains("Method completed with status: 200"), "{out}");

    let r = s.admin(
        "POST",
        &format!("/restapis/{api}/deployments"),
        Some(json!({ "stageName": "v1" })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let url = |path: &str| format!("{}/restapis/{api}/v1/_user_request_{path}", s.front);
    let pre = common::request(
        "OPTIONS",
        &url("/items"),
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
        None,
    );
    assert_eq!(pre.status, 200, "{}", pre.text());
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert_eq!(pre.header("access-control-allow-methods"), Some("GET,OPTIONS"));
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token")
    );
    let get = common::request("GET", &url("/items"), &[("Origin", "https://app.example")], None);
    assert_eq!(get.status, 200);
    assert_eq!(get.header("access-control-allow-origin"), Some("*"));
    assert_eq!(get.json(), json!({ "items": [] }));
    // Errors carry the header too (DEFAULT_4XX).
    let miss = common::request("GET", &url("/nothing-here"), &[], None);
    assert_eq!(miss.status, 403);
    assert_eq!(miss.header("access-control-allow-origin"), Some("*"));
}
