//! HTTP_PROXY integrations end to end: APIs built over the management API
//! (and imported from OpenAPI) proxy to a local upstream started by the
//! test (`common::upstream`), which echoes what it receives or answers
//! slowly, largely, in chunks or with any status and headers.

mod common;

use common::rest_api::{RestApi, merged};
use common::upstream::{self, Upstream};
use common::{Reply, Server};
use serde_json::{Value, json};

/// An API of HTTP_PROXY methods, called on stage `prod`.
struct Api<'a>(RestApi<'a>);

impl<'a> std::ops::Deref for Api<'a> {
    type Target = RestApi<'a>;
    fn deref(&self) -> &RestApi<'a> {
        &self.0
    }
}

impl<'a> Api<'a> {
    fn create(s: &'a Server) -> Api<'a> {
        Api(RestApi::create(s, json!({ "name": "http-proxy" })))
    }

    /// `method` on `rid` with an HTTP_PROXY integration described by `integration`.
    fn proxy_method(&self, rid: &str, method: &str, integration: Value) {
        self.method(
            rid,
            method,
            json!({
                "authorizationType": "NONE",
                "requestParameters": { "method.request.path.proxy": true }
            }),
            merged(json!({ "type": "HTTP_PROXY" }), integration),
        );
    }

    /// `/{proxy+}` with ANY, proxying to `uri` (`{proxy}` mapped from the path).
    fn greedy(&self, uri: &str, extra: Value) -> String {
        let rid = self.resource(&self.root, "{proxy+}");
        let mut integration = json!({
            "httpMethod": "ANY",
            "uri": uri,
            "requestParameters": { "integration.request.path.proxy": "method.request.path.proxy" },
        });
        if let (Some(i), Some(extra)) = (integration.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if k == "requestParameters" {
                    if let (Some(p), Some(more)) = (
                        i.get_mut("requestParameters").and_then(Value::as_object_mut),
                        v.as_object(),
                    ) {
                        p.extend(more.clone());
                    }
                } else {
                    i.insert(k.clone(), v.clone());
                }
            }
        }
        self.proxy_method(&rid, "ANY", integration);
        rid
    }

    fn deploy(&self, stage: &str, variables: Value) -> String {
        self.deploy_with(stage, variables)
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        self.0.call(method, "prod", path, headers, body)
    }
}

/// What the upstream's echo route received.
struct Echo(Value);

impl Echo {
    fn of(r: &Reply) -> Echo {
        assert_eq!(r.status, 200, "{}", r.text());
        Echo(r.json())
    }
    fn method(&self) -> &str {
        self.0["method"].as_str().unwrap_or_default()
    }
    fn path(&self) -> &str {
        self.0["path"].as_str().unwrap_or_default()
    }
    fn query(&self) -> Option<&str> {
        self.0["query"].as_str()
    }
    fn headers(&self, name: &str) -> Vec<String> {
        upstream::echoed_headers(&self.0, name)
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers(name).pop()
    }
    fn body(&self) -> Vec<u8> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(self.0["body_b64"].as_str().unwrap_or_default())
            .unwrap_or_default()
    }
}

fn all_bytes() -> Vec<u8> {
    (0..=255u8).chain((0..=255u8).rev()).collect()
}

#[test]
fn greedy_proxy_passes_method_path_query_headers_and_body() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy(&format!("{}/base/{{proxy}}", up.url()), json!({}));
    api.deploy("prod", json!({}));

    let body = all_bytes();
    let r = api.call(
        "POST",
        "/a/b/c?x=1&x=2&y=z%20w",
        &[
            ("Content-Type", "application/octet-stream"),
            ("X-Custom", "one"),
            ("X-Custom", "two"),
            ("Authorization", "Bearer secret"),
            ("X-Forwarded-For", "10.0.0.1"),
            ("X-Forwarded-For", "10.0.0.2"),
        ],
        Some(&body),
    );
    let rid = r.header("x-amzn-RequestId").unwrap_or_default().to_string();
    // HTTP_PROXY adds no trace id of its own to the response (recorded
    // against AWS); the backend got one.
    assert_eq!(r.header("x-amzn-trace-id"), None);
    let e = Echo::of(&r);
    assert_eq!(e.method(), "POST");
    assert_eq!(e.path(), "/base/a/b/c");
    assert_eq!(e.query(), Some("x=1&x=2&y=z%20w"));
    assert_eq!(e.headers("x-custom"), ["one", "two"]);
    assert_eq!(
        e.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(e.header("authorization").as_deref(), Some("Bearer secret"));
    assert_eq!(e.header("host"), Some(up.addr.to_string()));
    assert_eq!(
        e.headers("x-forwarded-for"),
        ["10.0.0.1, 10.0.0.2, 127.0.0.1"],
        "the client's list, then the client's address"
    );
    assert_eq!(e.header("x-amzn-apigateway-api-id"), Some(api.id.clone()));
    assert!(
        e.header("x-amzn-trace-id")
            .is_some_and(|t| t.starts_with("Root=1-"))
    );
    assert_eq!(e.header("content-length"), Some(body.len().to_string()));
    assert_eq!(e.body(), body, "binary body unchanged");
    assert_ne!(rid, "", "API Gateway's request id");

    // ANY: the client's method goes through.
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let e = Echo::of(&api.call(method, "/m", &[], None));
        assert_eq!(e.method(), method);
        assert_eq!(e.path(), "/base/m");
        assert_eq!(e.query(), None);
        assert!(e.header("x-forwarded-for").is_some_and(|f| f == "127.0.0.1"));
    }
    // HEAD: status and headers only.
    let r = api.call("HEAD", "/m", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

#[test]
fn mapped_path_values_keep_slashes_and_are_encoded_once() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy(&format!("{}/{{proxy}}", up.url()), json!({}));
    api.deploy("prod", json!({}));

    let e = Echo::of(&api.call("GET", "/files/a%20b/caf%C3%A9/x%2Fy", &[], None));
    assert_eq!(e.path(), "/files/a%20b/caf%C3%A9/x/y");
    let e = Echo::of(&api.call("GET", "/p/1+2/~user/a;b=c", &[], None));
    assert_eq!(e.path(), "/p/1+2/~user/a;b=c");
}

#[test]
fn fixed_integration_method_and_mapped_parameters() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    let items = api.resource(&api.root, "items");
    let item = api.resource(&items, "{id}");
    // Mapping sources must be declared on the method, as AWS requires.
    let r = s.admin(
        "PUT",
        &format!("/restapis/{}/resources/{item}/methods/GET", api.id),
        Some(json!({ "authorizationType": "NONE", "requestParameters": {
            "method.request.path.id": true,
            "method.request.header.X-In": false,
            "method.request.header.X-Forwarded-For": false,
        } })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.admin(
        "PUT",
        &format!("/restapis/{}/resources/{item}/methods/GET/integration", api.id),
        Some(json!({
            "type": "HTTP_PROXY",
            "httpMethod": "POST",
            "uri": format!("{}/things/{{thing}}?fixed=yes", up.url()),
            "requestParameters": {
                "integration.request.path.thing": "method.request.path.id",
                "integration.request.header.X-Mapped": "'literal value'",
                "integration.request.header.X-Override": "method.request.header.X-In",
                "integration.request.querystring.extra": "method.request.header.X-In",
                "integration.request.querystring.page": "'9'",
                "integration.request.header.X-Stage": "stageVariables.color",
                // Not sent by the client: the value API Gateway adds.
                "integration.request.header.X-Client-Ip": "method.request.header.X-Forwarded-For",
            }
        })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    api.deploy("prod", json!({ "color": "blue" }));

    let e = Echo::of(&api.call(
        "GET",
        "/items/42?page=1",
        &[("X-In", "a b&c"), ("X-Override", "client")],
        None,
    ));
    assert_eq!(e.method(), "POST", "the integration's httpMethod");
    assert_eq!(e.path(), "/things/42");
    assert_eq!(
        e.query(),
        Some("fixed=yes&page=1&extra=a%20b%26c&page=9"),
        "client query kept, mapped values appended"
    );
    assert_eq!(e.header("x-mapped").as_deref(), Some("literal value"));
    assert_eq!(
        e.headers("x-override"),
        ["a b&c"],
        "a mapped header replaces the client's"
    );
    assert_eq!(e.header("x-stage").as_deref(), Some("blue"));
    assert_eq!(e.header("x-client-ip").as_deref(), Some("127.0.0.1"));
}

#[test]
fn upstream_status_headers_and_body_come_back_unchanged() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy(&format!("{}/{{proxy}}", up.url()), json!({}));
    api.deploy("prod", json!({}));

    // (No 3xx: the test client would follow the redirect.)
    for code in [200u16, 201, 404, 418, 500, 503] {
        let r = api.call(
            "GET",
            &format!("/status/{code}?h=X-Up:1&h=Set-Cookie:a=1&h=Set-Cookie:b=2&h=Location:/elsewhere"),
            &[],
            None,
        );
        assert_eq!(r.status, code, "{}", r.text());
        assert_eq!(r.text(), format!("status {code}"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("x-up"), Some("1"));
        assert_eq!(r.header("location"), Some("/elsewhere"));
        let cookies: Vec<&str> = r
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert!(r.header("x-amzn-ErrorType").is_none(), "not a gateway error");
    }

    // Headers API Gateway sets itself come back remapped.
    let r = api.call(
        "GET",
        "/status/401?h=Server:upstream/1.0&h=WWW-Authenticate:Basic&h=x-amzn-RequestId:upstream-id",
        &[],
        None,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.header("x-amzn-Remapped-Server"), Some("upstream/1.0"));
    assert_eq!(r.header("x-amzn-Remapped-WWW-Authenticate"), Some("Basic"));
    assert_eq!(r.header("x-amzn-Remapped-x-amzn-RequestId"), Some("upstream-id"));
    assert!(r.header("x-amzn-Remapped-Date").is_some(), "the upstream's Date");
    assert!(r.header("x-amzn-Remapped-Content-Length").is_some());
    assert!(r.header("server").is_none() && r.header("www-authenticate").is_none());
    assert_ne!(r.header("x-amzn-RequestId"), Some("upstream-id"));
    assert!(r.header("date").is_some(), "the gateway's own Date");

    // Every integration response has a Content-Type.
    let r = api.call("GET", "/no-content-type", &[], None);
    assert_eq!(r.text(), "no type");
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[test]
fn stage_variables_in_the_uri() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy("http://${stageVariables.upstream}/v/{proxy}", json!({}));
    let deployment = api.deploy("prod", json!({ "upstream": up.addr.to_string() }));
    let e = Echo::of(&api.call("GET", "/x", &[], None));
    assert_eq!(e.path(), "/v/x");

    // Same deployment, a stage without the variable: 500 at call time.
    let r = s.admin(
        "POST",
        &format!("/restapis/{}/stages", api.id),
        Some(json!({ "stageName": "bare", "deploymentId": deployment })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = api.0.call("GET", "bare", "/x", &[], None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
}

#[test]
fn timeout_is_504_endpoint_request_timed_out() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy(
        &format!("{}/{{proxy}}", up.url()),
        json!({ "timeoutInMillis": 300 }),
    );
    api.deploy("prod", json!({}));

    let started = std::time::Instant::now();
    let r = api.call("GET", "/sleep/3000", &[], None);
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Endpoint request timed out"}"#);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("x-amzn-RequestId").is_some());
    assert!(took < std::time::Duration::from_millis(2500), "{took:?}");

    // The body counts too: 30 chunks 20 ms apart take 600 ms.
    let r = api.call("GET", "/chunked/30/10", &[], None);
    assert_eq!(r.status, 504, "{}", r.text());

    // Within the timeout all is well.
    assert_eq!(api.call("GET", "/sleep/10", &[], None).text(), "slept");
}

#[test]
fn unreachable_or_broken_upstreams_are_500() {
    let s = Server::start();
    let api = Api::create(&s);
    let refused = api.resource(&api.root, "refused");
    api.proxy_method(
        &refused,
        "GET",
        json!({ "httpMethod": "GET", "uri": format!("http://{}/x", upstream::refused_address()) }),
    );
    let garbage = api.resource(&api.root, "garbage");
    api.proxy_method(
        &garbage,
        "GET",
        json!({ "httpMethod": "GET", "uri": format!("http://{}/x", upstream::garbage_server()) }),
    );
    let nowhere = api.resource(&api.root, "nowhere");
    api.proxy_method(
        &nowhere,
        "GET",
        json!({ "httpMethod": "GET", "uri": "http://no-such-host.invalid/x" }),
    );
    api.deploy("prod", json!({}));

    for path in ["/refused", "/garbage", "/nowhere"] {
        let r = api.call("GET", path, &[], None);
        assert_eq!(r.status, 500, "{path}: {}", r.text());
        assert_eq!(r.json(), json!({ "message": "Internal server error" }), "{path}");
    }
}

#[test]
fn five_megabyte_bodies_and_the_ten_megabyte_limit() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy(&format!("{}/{{proxy}}", up.url()), json!({}));
    api.deploy("prod", json!({}));

    let five = 5 * 1024 * 1024;
    let big: Vec<u8> = (0..five).map(|i| (i * 7 % 251) as u8).collect();
    let e = Echo::of(&api.call(
        "PUT",
        "/upload",
        &[("Content-Type", "application/octet-stream")],
        Some(&big),
    ));
    assert_eq!(e.0["body_len"], five);
    assert!(e.body() == big, "5 MB request body unchanged");

    let r = api.call("GET", &format!("/bytes/{five}"), &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body == upstream::pattern(five), "5 MB response body unchanged");
    assert_eq!(r.header("content-length"), Some(five.to_string().as_str()));

    let limit = 10 * 1024 * 1024;
    assert_eq!(api.call("GET", &format!("/bytes/{limit}"), &[], None).status, 200);
    let r = api.call("GET", &format!("/bytes/{}", limit + 1), &[], None);
    assert_eq!(r.status, 500, "over 10 MB");
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
}

#[test]
fn chunked_upstream_response_is_returned_whole() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy(&format!("{}/{{proxy}}", up.url()), json!({}));
    api.deploy("prod", json!({}));

    let r = api.call("GET", "/chunked/8/1000", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let mut want = Vec::new();
    for _ in 0..8 {
        want.extend(upstream::pattern(1000));
    }
    assert!(r.body == want);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        r.header("content-length"),
        Some("8000"),
        "buffered, as REST APIs do"
    );
}

#[test]
fn hop_by_hop_headers_are_not_forwarded() {
    let s = Server::start();
    let up = Upstream::start();
    let api = Api::create(&s);
    api.greedy(&format!("{}/{{proxy}}", up.url()), json!({}));
    api.deploy("prod", json!({}));

    let e = Echo::of(&api.call(
        "POST",
        "/hop",
        &[
            ("Connection", "keep-alive, X-Private"),
            ("X-Private", "secret"),
            ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"),
            ("Proxy-Authorization", "Basic abc"),
            ("Expect", "100-continue"),
            ("Via", "1.1 cdn"),
            ("Max-Forwards", "3"),
            ("Content-Encoding", "identity"),
            ("X-Kept", "yes"),
        ],
        Some(b"hello"),
    ));
    for gone in [
        "x-private",
        "keep-alive",
        "te",
        "proxy-authorization",
        "expect",
        "via",
        "max-forwards",
        "content-encoding",
        "transfer-encoding",
    ] {
        assert_eq!(e.header(gone), None, "{gone} must not reach the upstream");
    }
    assert_ne!(e.header("connection").as_deref(), Some("keep-alive, X-Private"));
    assert_eq!(e.header("x-kept").as_deref(), Some("yes"));
    assert_eq!(e.body(), b"hello");
}

#[test]
fn openapi_import_of_an_http_proxy_integration() {
    let s = Server::start();
    let up = Upstream::start();
    let doc = json!({
        "openapi": "3.0.1",
        "info": { "title": "imported-proxy", "version": "1" },
        "paths": {
            "/svc/{proxy+}": {
                "x-amazon-apigateway-any-method": {
                    "parameters": [{ "name": "proxy", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy",
                        "httpMethod": "ANY",
                        "uri": format!("{}/{{proxy}}", up.url()),
                        "requestParameters": {
                            "integration.request.path.proxy": "method.request.path.proxy",
                            "integration.request.header.X-From": "'import'"
                        },
                        "timeoutInMillis": 400,
                        "passthroughBehavior": "when_no_match"
                    }
                }
            }
        }
    });
    let body = serde_json::to_vec(&doc).unwrap_or_default();
    let r = common::request(
        "POST",
        &format!("{}/restapis?mode=import&failonwarnings=true", s.admin),
        &[],
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap_or_default().to_string();
    let r = s.admin(
        "POST",
        &format!("/restapis/{id}/deployments"),
        Some(json!({ "stageName": "prod" })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let api = Api(RestApi {
        s: &s,
        id,
        root: String::new(),
    });
    let e = Echo::of(&api.call("DELETE", "/svc/a/b?q=1", &[], None));
    assert_eq!(e.method(), "DELETE");
    assert_eq!(e.path(), "/a/b");
    assert_eq!(e.query(), Some("q=1"));
    assert_eq!(e.header("x-from").as_deref(), Some("import"));
    let r = api.call("GET", "/svc/sleep/2000", &[], None);
    assert_eq!(r.status, 504, "timeoutInMillis imported: {}", r.text());
}
