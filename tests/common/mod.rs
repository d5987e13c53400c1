//! Shared test helpers: build the example functions (once per run, cargo
//! makes repeat builds no-ops), start the real `portico` binary on free
//! loopback ports, and talk to it over HTTP; [`upstream`] is a local HTTP
//! server for integrations that call external endpoints.

#![allow(dead_code)]

pub mod rest_api;
pub mod upstream;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

pub const ROLE: &str = "arn:aws:iam::000000000000:role/portico-test";

/// Directory holding the built example functions.
pub fn wasm_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let functions = root.join("functions");
        let status = Command::new("cargo")
            .args(["build", "--release", "--quiet", "--target", "wasm32-wasip1"])
            .current_dir(&functions)
            .status()
            .expect("run cargo to build functions/");
        assert!(status.success(), "building functions/ failed");
        functions.join("target/wasm32-wasip1/release")
    })
}

pub fn wasm(name: &str) -> Vec<u8> {
    let path = wasm_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A running `portico serve`, killed on drop.
pub struct Server {
    child: Option<Child>,
    pub front: String,
    pub admin: String,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    log_path: PathBuf,
}

/// An HTTP response, whatever its status.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Asserts an AWS error: status and `x-amzn-ErrorType`.
    pub fn assert_error(&self, status: u16, code: &str) -> &Reply {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(
            self.header("x-amzn-ErrorType"),
            Some(code),
            "error type; body: {}",
            self.text()
        );
        self
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Writes `bytes` to `front` (`http://host:port`) on a new connection as
/// they are (no client-side normalisation or header casing) and returns
/// everything read until the server closes it (10 s at most).
pub fn raw_exchange(front: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let addr = front.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("read timeout");
    stream.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(body.map(<[u8]>::to_vec).unwrap_or_default())
        .expect("request");
    let mut resp = agent().run(req).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

impl Server {
    pub fn start() -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&dir, &[]);
        s._tmp = Some(tmp);
        s
    }

    pub fn start_with(args: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&dir, args);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server on an existing data directory (for restart tests).
    /// It listens on port 0 and reports its addresses through `--ready-file`,
    /// so parallel tests never race for ports.
    pub fn start_in(data_dir: &Path, args: &[&str]) -> Server {
        let stamp = uuid::Uuid::new_v4();
        let log_path = std::env::temp_dir().join(format!("portico-test-{stamp}.log"));
        let ready = std::env::temp_dir().join(format!("portico-test-{stamp}.ready"));
        let log = std::fs::File::create(&log_path).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_portico"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--ready-file")
            .arg(&ready)
            .args(args)
            .env("RUST_LOG", "info,portico::function=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start portico");
        let mut server = Server {
            child: Some(child),
            front: String::new(),
            admin: String::new(),
            data_dir: data_dir.to_path_buf(),
            _tmp: None,
            log_path,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Ok(v) = serde_json::from_str::<Value>(&text)
            {
                let _ = std::fs::remove_file(&ready);
                server.front = format!("http://{}", v["front"].as_str().unwrap_or_default());
                server.admin = format!("http://{}", v["admin"].as_str().unwrap_or_default());
                return server;
            }
            if let Some(child) = server.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("portico exited with {status}; log:\n{}", server.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("portico did not start; log:\n{}", server.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("json"));
        request(method, &format!("{}{path}", self.admin), &[], bytes.as_deref())
    }

    pub fn create_function(&self, name: &str, wasm_name: &str, extra: Value) -> Reply {
        let mut body = json!({
            "FunctionName": name,
            "Role": ROLE,
            "Runtime": "provided.al2023",
            "Handler": wasm_name,
            "Code": { "ZipFile": b64(&wasm(wasm_name)) },
        });
        if let (Some(obj), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        self.admin("POST", "/2015-03-31/functions", Some(body))
    }

    /// Creates a function and asserts 201.
    pub fn deploy(&self, name: &str, wasm_name: &str) -> Value {
        let r = self.create_function(name, wasm_name, json!({}));
        assert_eq!(r.status, 201, "create {name}: {}", r.text());
        r.json()
    }

    pub fn invoke_with(&self, name: &str, payload: &[u8], headers: &[(&str, &str)]) -> Reply {
        let path = format!("{}/2015-03-31/functions/{name}/invocations", self.admin);
        request("POST", &path, headers, Some(payload))
    }

    pub fn invoke(&self, name: &str, payload: Value) -> Reply {
        self.invoke_with(name, &serde_json::to_vec(&payload).expect("json"), &[])
    }

    pub fn stats(&self) -> Value {
        self.admin("GET", "/_portico/stats", None).json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// The JSON body of a proxy response's `body` string.
pub fn proxy_body(reply: &Reply) -> Value {
    let outer = reply.json();
    let body = outer["body"]
        .as_str()
        .unwrap_or_else(|| panic!("no body in {outer}"));
    serde_json::from_str(body).expect("body is JSON")
}
