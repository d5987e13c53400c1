//! Mapping-template benchmarks (criterion): render the request and response
//! templates of `benches/nonproxy.json` (what `benches/load.sh` drives
//! through a non-proxy Lambda integration) against the same request, so
//! the engine's share of that route can be measured on its own.
//!
//! Run: `cargo bench --bench vtl`

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use portico::vtl::{Template, Variables};

fn templates() -> (String, String) {
    let api: serde_json::Value =
        serde_json::from_str(include_str!("nonproxy.json")).expect("benches/nonproxy.json is JSON");
    let integration = &api["paths"]["/transform/{id}"]["post"]["x-amazon-apigateway-integration"];
    let request = integration["requestTemplates"]["application/json"]
        .as_str()
        .expect("request template");
    let response = integration["responses"]["default"]["responseTemplates"]["application/json"]
        .as_str()
        .expect("response template");
    (request.to_string(), response.to_string())
}

fn context() -> serde_json::Value {
    serde_json::json!({
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "stage": "prod",
        "resourcePath": "/transform/{id}",
        "httpMethod": "POST",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "wrk"},
    })
}

fn render(c: &mut Criterion) {
    let (request_src, response_src) = templates();
    let request = Template::parse(&request_src).expect("request template parses");
    let response = Template::parse(&response_src).expect("response template parses");
    let path = [("id", "42")];
    let querystring = [("q", "x")];
    let header = [
        ("Host", "127.0.0.1:8080"),
        ("User-Agent", "wrk"),
        ("Content-Type", "application/json"),
    ];
    let context = context();
    let stage_variables = BTreeMap::new();
    let request_vars = Variables {
        body: r#"{"hello":"world"}"#,
        path: &path,
        querystring: &querystring,
        header: &header,
        context: &context,
        stage_variables: &stage_variables,
    };
    let event = request
        .render(&request_vars)
        .expect("request template renders")
        .output;
    let response_vars = Variables {
        body: &event,
        ..request_vars
    };
    c.bench_function("request template (1 KB out)", |b| {
        b.iter(|| request.render(&request_vars).map(|r| r.output.len()))
    });
    c.bench_function("response template (1 KB in)", |b| {
        b.iter(|| response.render(&response_vars).map(|r| r.output.len()))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
