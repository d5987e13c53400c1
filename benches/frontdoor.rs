//! Front door benchmarks (criterion): route lookup with 10 vs 10,000 routes
//! (the cost must not grow with the table), and compiling a 300-resource
//! deployment (what CreateDeployment does before a stage can serve it).
//!
//! Run: `cargo bench --bench frontdoor`

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use portico::apigw::model::{Deployment, Integration, IntegrationType, Method, Resource};
use portico::frontdoor::compile::compile_deployment;
use portico::frontdoor::route::{RouteSpec, RouteTable};

fn table(n: usize) -> RouteTable {
    let mut routes = Vec::with_capacity(n + 1);
    for i in 0..n {
        routes.push(RouteSpec {
            resource_id: format!("r{i}"),
            path: format!("/svc{}/items{}/{{id}}", i % 100, i / 100),
            methods: vec!["GET".into()],
        });
    }
    routes.push(RouteSpec {
        resource_id: "target".into(),
        path: "/users/{id}/orders".into(),
        methods: vec!["GET".into(), "POST".into()],
    });
    RouteTable::build(routes).expect("valid routes")
}

fn deployment(resources: usize) -> Deployment {
    let mut map = BTreeMap::new();
    map.insert(
        "root".to_string(),
        Resource {
            id: "root".into(),
            parent_id: None,
            path_part: None,
            methods: BTreeMap::new(),
        },
    );
    let integration = Integration {
        integration_type: IntegrationType::AwsProxy,
        http_method: Some("POST".into()),
        uri: Some("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations".into()),
        connection_type: None,
        connection_id: None,
        credentials: None,
        request_parameters: BTreeMap::new(),
        request_templates: BTreeMap::new(),
        passthrough_behavior: None,
        content_handling: None,
        timeout_in_millis: 29_000,
        cache_namespace: None,
        cache_key_parameters: Vec::new(),
        integration_responses: BTreeMap::new(),
        tls_insecure_skip_verification: None,
    };
    for i in 0..resources {
        let parent = if i < 30 {
            "root".to_string()
        } else {
            format!("r{}", i % 30)
        };
        let part = if i < 30 {
            format!("svc{i}")
        } else {
            format!("item{i}")
        };
        let mut methods = BTreeMap::new();
        for m in ["GET", "POST"] {
            methods.insert(
                m.to_string(),
                Method {
                    http_method: m.into(),
                    authorization_type: "NONE".into(),
                    authorizer_id: None,
                    api_key_required: false,
                    operation_name: None,
                    request_parameters: BTreeMap::new(),
                    request_models: BTreeMap::new(),
                    request_validator_id: None,
                    authorization_scopes: Vec::new(),
                    method_responses: BTreeMap::new(),
                    integration: Some(integration.clone()),
                },
            );
        }
        map.insert(
            format!("r{i}"),
            Resource {
                id: format!("r{i}"),
                parent_id: Some(parent),
                path_part: Some(part),
                methods,
            },
        );
    }
    Deployment {
        id: "d1".into(),
        description: None,
        created_date: 0,
        resources: map,
        binary_media_types: vec![],
        authorizers: Default::default(),
        gateway_responses: Default::default(),
        policy: None,
        api_key_source: "HEADER".into(),
        models: Default::default(),
        request_validators: Default::default(),
    }
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("route_lookup");
    for n in [10usize, 10_000] {
        let t = table(n);
        g.bench_function(format!("{n}_routes"), |b| {
            b.iter(|| {
                t.lookup("GET", std::hint::black_box("/users/42/orders"))
                    .expect("match")
            })
        });
    }
    g.finish();
    let d = deployment(300);
    c.bench_function("compile_deployment_300_resources", |b| {
        let scope = portico::frontdoor::compile::Scope {
            region: "us-east-1",
            account: "000000000000",
            api_id: "benchapi01",
        };
        b.iter(|| compile_deployment(&d, &scope).expect("compiles"))
    });
}

criterion_group!(frontdoor, benches);
criterion_main!(frontdoor);
