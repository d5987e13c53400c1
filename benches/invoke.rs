//! Function host benchmarks (criterion): invoke `echo` with a 1 KB event
//! through the host API on a warm instance and on a fresh one, the command
//! shape, and the cold path (compile vs deserialize, cached artifact to
//! first result). `native_baseline` does the same JSON work without wasm, so
//! figures can be read as ratios measured in the same run. `proxy_hello` is
//! the front door's work for `GET /hello` (`benches/load.sh`) without HTTP:
//! build the proxy event, invoke the warm `hello`, map its response.
//!
//! Run: `scripts/build-functions.sh && cargo bench --bench invoke`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use portico::function::{CodeRef, FunctionConfig, FunctionRecord, Version};
use portico::host::engine::{EngineSettings, build_engine};
use portico::host::module::Modules;
use portico::host::{Host, HostSettings, InvokeRequest};
use portico::store::blobs::CodeStore;

fn wasm(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("functions/target/wasm32-wasip1/release/{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-functions.sh)", path.display()))
}

/// A ~1 KB API Gateway proxy event.
fn event() -> Vec<u8> {
    let body = "x".repeat(400);
    let e = serde_json::json!({
        "resource": "/users", "path": "/users", "httpMethod": "POST",
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.localhost", "user-agent": "bench"},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "queryStringParameters": {"page": "2"}, "pathParameters": null, "stageVariables": null,
        "requestContext": {"resourcePath": "/users", "httpMethod": "POST", "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "identity": {"sourceIp": "127.0.0.1"}},
        "body": body, "isBase64Encoded": false
    });
    let bytes = serde_json::to_vec(&e).unwrap();
    assert!(
        (900..1200).contains(&bytes.len()),
        "event is {} bytes",
        bytes.len()
    );
    bytes
}

struct Fixture {
    host: Arc<Host>,
    _dir: tempfile::TempDir,
}

fn host_in(dir: &Path) -> Host {
    let engine = build_engine(EngineSettings { max_instances: 64 }).unwrap();
    portico::host::engine::start_epoch_ticker(&engine);
    let modules = Modules::new(engine, CodeStore::new(dir), dir).unwrap();
    Host::new(
        modules,
        HostSettings {
            region: "us-east-1".into(),
            account: "000000000000".into(),
            account_concurrency: 1000,
            keep_alive: Duration::from_secs(300),
        },
    )
}

fn record(name: &str, code: CodeRef) -> FunctionRecord {
    FunctionRecord {
        latest: FunctionConfig {
            name: name.into(),
            version: Version::Latest,
            description: String::new(),
            role: "arn:aws:iam::000000000000:role/bench".into(),
            runtime: None,
            handler: None,
            memory_mb: 128,
            timeout_s: 3,
            environment: BTreeMap::new(),
            architectures: vec!["x86_64".into()],
            ephemeral_storage_mb: 512,
            code,
            last_modified: String::new(),
            revision_id: String::new(),
        },
        versions: BTreeMap::new(),
        aliases: BTreeMap::new(),
        next_version: 1,
        reserved_concurrency: None,
        policies: BTreeMap::new(),
        tags: BTreeMap::new(),
    }
}

fn deploy(host: &Host, code_dir: &Path, name: &str, wasm_name: &str) {
    let bytes = wasm(wasm_name);
    let (sha, prepared) = host.modules.compile(&bytes).unwrap();
    CodeStore::new(code_dir).put(&bytes).unwrap();
    let code = CodeRef {
        wasm_sha256: sha,
        package_sha256: String::new(),
        package_size: bytes.len() as u64,
        shape: prepared.shape,
    };
    host.sync(&record(name, code)).unwrap();
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let host = host_in(dir.path());
    deploy(&host, dir.path(), "echo", "echo");
    deploy(&host, dir.path(), "cmd", "command_echo");
    deploy(&host, dir.path(), "hello", "hello");
    Fixture {
        host: Arc::new(host),
        _dir: dir,
    }
}

async fn invoke_once(host: &Host, name: &str, payload: &[u8]) {
    let inv = host
        .invoke(InvokeRequest {
            function: name,
            qualifier: None,
            payload,
            client_context: None,
            request_id: "bench".into(),
            want_log: false,
            result_check: portico::host::ResultCheck::Json,
        })
        .await
        .unwrap();
    assert!(inv.result.is_ok(), "{:?}", inv.result.err());
}

fn invoke_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = fixture();
    let ev = event();
    let mut g = c.benchmark_group("invoke_echo_1k");
    // The same work as the `echo` guest (escape the event into a JSON string
    // and wrap it in a proxy response), natively, for ratios.
    g.bench_function("native_baseline", |b| {
        b.iter(|| {
            let text = std::str::from_utf8(&ev).unwrap();
            let body = serde_json::to_string(text).unwrap();
            let mut out = Vec::with_capacity(body.len() + 80);
            out.extend_from_slice(
                br#"{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"#,
            );
            out.extend_from_slice(body.as_bytes());
            out.push(b'}');
            out
        })
    });
    g.bench_function("warm_instance", |b| {
        b.to_async(&rt).iter(|| invoke_once(&f.host, "echo", &ev))
    });
    g.bench_function("fresh_sdk_instance", |b| {
        b.to_async(&rt).iter(|| async {
            f.host.evict_all_idle();
            invoke_once(&f.host, "echo", &ev).await
        })
    });
    g.bench_function("fresh_command_instance", |b| {
        b.to_async(&rt).iter(|| invoke_once(&f.host, "cmd", &ev))
    });
    g.finish();
}

fn cold_path_benches(c: &mut Criterion) {
    let bytes = wasm("echo");
    let engine = build_engine(EngineSettings { max_instances: 16 }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let artifact: PathBuf = dir.path().join("echo.cwasm");
    let module = wasmtime::Module::new(&engine, &bytes).unwrap();
    std::fs::write(&artifact, module.serialize().unwrap()).unwrap();

    let mut g = c.benchmark_group("cold_path");
    g.sample_size(10);
    g.bench_function("compile_module", |b| {
        b.iter(|| wasmtime::Module::new(&engine, &bytes).unwrap())
    });
    g.finish();
    let mut g = c.benchmark_group("cold_path");
    g.bench_function("deserialize_file", |b| {
        // SAFETY: the artifact was produced just above by the same engine.
        b.iter(|| unsafe { wasmtime::Module::deserialize_file(&engine, &artifact) }.unwrap())
    });
    // What a restart does per function: a new host loads the artifact from
    // disk, prepares the module and serves the first invocation.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ev = event();
    let data = tempfile::tempdir().unwrap();
    let warmup = host_in(data.path());
    deploy(&warmup, data.path(), "echo", "echo");
    let sha = portico::store::blobs::sha256_hex(&bytes);
    let rec = record(
        "echo",
        CodeRef {
            wasm_sha256: sha,
            package_sha256: String::new(),
            package_size: bytes.len() as u64,
            shape: portico::function::GuestShape::Sdk,
        },
    );
    let engine = build_engine(EngineSettings { max_instances: 16 }).unwrap();
    portico::host::engine::start_epoch_ticker(&engine);
    g.bench_function("cached_artifact_to_first_result", |b| {
        b.to_async(&rt).iter(|| async {
            let modules = Modules::new(engine.clone(), CodeStore::new(data.path()), data.path()).unwrap();
            let host = Host::new(
                modules,
                HostSettings {
                    region: "us-east-1".into(),
                    account: "000000000000".into(),
                    account_concurrency: 10,
                    keep_alive: Duration::from_secs(300),
                },
            );
            host.sync(&rec).unwrap();
            assert_eq!(
                host.modules.compiles.load(std::sync::atomic::Ordering::Relaxed),
                0
            );
            invoke_once(&host, "echo", &ev).await
        })
    });
    g.finish();
}

/// What the front door does for `GET /hello` from wrk, minus HTTP.
async fn proxy_hello(host: &Host, time_ms: i64) -> usize {
    use portico::frontdoor::proxy::{
        CallerIdentity, EventParts, FixedFields, ProxyRequest, build_event, map_response,
    };
    let headers = [("host", std::borrow::Cow::Borrowed("127.0.0.1:18180"))];
    let (vars, binary) = (BTreeMap::new(), Vec::new());
    // As the stage's plan holds them, written once.
    static PARTS: std::sync::OnceLock<EventParts> = std::sync::OnceLock::new();
    let parts = PARTS.get_or_init(|| {
        EventParts::new(&FixedFields {
            method: "GET",
            resource_id: "r3s0urc3",
            resource_path: "/hello",
            stage: "prod",
            stage_variables: &BTreeMap::new(),
            deployment_id: "d3pl0y",
        })
    });
    let event = build_event(&ProxyRequest {
        method: "GET",
        raw_path: "/hello",
        raw_query: None,
        headers: &headers,
        body: b"",
        source_ip: "127.0.0.1",
        resource_id: "r3s0urc3",
        resource_path: "/hello",
        path_params: &[],
        stage: "prod",
        stage_variables: &vars,
        deployment_id: "d3pl0y",
        api_id: "abc123defg",
        account_id: "000000000000",
        request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        extended_request_id: "LV7fzho-PHcEJPw=",
        domain_name: "127.0.0.1:18180",
        trace_id: "Root=1-67891233-abcdef012345678912345678",
        request_time_epoch_ms: time_ms,
        binary_media_types: &binary,
        authorizer: None,
        identity: CallerIdentity::default(),
        parts: Some(parts),
    });
    let inv = host
        .invoke(InvokeRequest {
            function: "hello",
            qualifier: None,
            payload: &event,
            client_context: None,
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into(),
            want_log: false,
            result_check: portico::host::ResultCheck::Json,
        })
        .await
        .unwrap();
    let result = inv.result.unwrap();
    map_response(&result, None, &binary).unwrap().body.len()
}

fn proxy_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = fixture();
    let mut time_ms = 1_700_000_000_000;
    c.bench_function("proxy_hello", |b| {
        b.to_async(&rt).iter(|| {
            time_ms += 1;
            proxy_hello(&f.host, time_ms)
        })
    });
}

criterion_group!(benches, invoke_benches, proxy_benches, cold_path_benches);
criterion_main!(benches);
