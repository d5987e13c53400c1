//! Baseline for load tests: bare axum answering with the same bodies the
//! gateway returns in `benches/load.sh` — `GET /hello` (what the `hello`
//! function's proxy response carries) and `POST /echo` (what Invoke of
//! `echo` returns for the script's event). Usage: `bare_axum 127.0.0.1:9090
//! [--aws-headers]`; with `--aws-headers`, `GET /hello` also carries the
//! three headers API Gateway adds to every Lambda proxy response
//! (`x-amzn-RequestId`, `x-amz-apigw-id`, `X-Amzn-Trace-Id`, values of the
//! same length), to measure what those bytes cost a server and its client.

use axum::Router;
use axum::routing::{get, post};

const HELLO: &str = r#"{"message":"Hello from Portico"}"#;
const ECHO: &str =
    r#"{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"hello\":\"world\"}"}"#;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9090".into());
    let aws_headers = std::env::args().any(|a| a == "--aws-headers");
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    let app = Router::new()
        .route(
            "/hello",
            if aws_headers {
                get(|| async {
                    (
                        [
                            ("content-type", "application/json"),
                            (
                                "x-amzn-trace-id",
                                "Root=1-6b15ee31-b25c9cc4bcbc4cf597273bbc;Parent=9c3b97577e35b592;Sampled=0",
                            ),
                            ("x-amzn-requestid", "575f6b08-8d97-4b85-a27c-55b613ef8504"),
                            ("x-amz-apigw-id", "IlNdaRzjT2iqnOI="),
                        ],
                        HELLO,
                    )
                })
            } else {
                get(|| async { ([("content-type", "application/json")], HELLO) })
            },
        )
        .route(
            "/echo",
            post(|| async { ([("content-type", "application/json")], ECHO) }),
        );
    axum::serve(listener, app).await.expect("serve");
}
