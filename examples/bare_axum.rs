//! Baseline for load tests: bare axum answering POST with the same body the
//! `echo` function returns for the load script's event, on the same runtime
//! settings as `portico serve`. Usage: `bare_axum 127.0.0.1:9090`.

use axum::Router;
use axum::routing::post;

const BODY: &str =
    r#"{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"hello\":\"world\"}"}"#;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9090".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    let app = Router::new().fallback(post(|| async { ([("content-type", "application/json")], BODY) }));
    axum::serve(listener, app).await.expect("serve");
}
