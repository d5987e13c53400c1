//! Baseline for load tests: bare axum answering with the same bodies the
//! gateway returns in `benches/load.sh` — `GET /hello` (what the `hello`
//! function's proxy response carries) and `POST /echo` (what Invoke of
//! `echo` returns for the script's event). Usage: `bare_axum 127.0.0.1:9090`.

use axum::Router;
use axum::routing::{get, post};

const HELLO: &str = r#"{"message":"Hello from Portico"}"#;
const ECHO: &str =
    r#"{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"hello\":\"world\"}"}"#;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9090".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    let app = Router::new()
        .route(
            "/hello",
            get(|| async { ([("content-type", "application/json")], HELLO) }),
        )
        .route(
            "/echo",
            post(|| async { ([("content-type", "application/json")], ECHO) }),
        );
    axum::serve(listener, app).await.expect("serve");
}
