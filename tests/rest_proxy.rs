//! REST APIs end to end: build an API with the management API, deploy it to
//! a stage, call it through the front door (both invoke URL forms), and
//! check the Lambda proxy event and response rules.

mod common;

use common::Server;
use common::rest_api::{RestApi as Api, lambda_uri as uri};
use serde_json::{Value, json};

fn event_of(r: &common::Reply) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    // echo's proxy response carries the event as its body, which the front
    // door sends as the HTTP body.
    r.json()
}

#[test]
fn seed_flow_post_users_with_echo() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = Api::create(&s, json!({ "name": "users-api" }));
    let users = api.resource(&api.root, "users");
    api.lambda_method(&users, "POST", "echo");
    let deployment = api.deploy("prod");

    let r = api.call(
        "POST",
        "prod",
        "/users?name=ann",
        &[("Content-Type", "application/json")],
        Some(br#"{"name":"ann"}"#),
    );
    let rid = r.header("x-amzn-RequestId").unwrap().to_string();
    assert!(r.header("x-amz-apigw-id").is_some());
    assert!(
        r.header("x-amzn-trace-id")
            .is_some_and(|t| t.starts_with("Root=1-")),
        "a Lambda proxy answer carries X-Amzn-Trace-Id"
    );
    let ev = event_of(&r);
    // API Gateway adds the trace id to the method request, as it answers.
    assert_eq!(
        ev["headers"]["X-Amzn-Trace-Id"].as_str(),
        r.header("x-amzn-trace-id")
    );
    assert_eq!(ev["resource"], "/users");
    assert_eq!(ev["path"], "/users");
    assert_eq!(ev["httpMethod"], "POST");
    assert_eq!(ev["body"], r#"{"name":"ann"}"#);
    assert_eq!(ev["isBase64Encoded"], false);
    assert_eq!(ev["queryStringParameters"]["name"], "ann");
    assert_eq!(ev["pathParameters"], Value::Null);
    assert_eq!(ev["stageVariables"], Value::Null);
    let ctx = &ev["requestContext"];
    assert_eq!(ctx["requestId"], rid.as_str());
    assert_eq!(ctx["stage"], "prod");
    assert_eq!(ctx["deploymentId"], deployment.as_str());
    assert_eq!(ctx["apiId"], api.id.as_str());
    assert_eq!(ctx["resourceId"], users.as_str());
    assert_eq!(ctx["resourcePath"], "/users");
    assert_eq!(ctx["path"], "/prod/users");
    assert_eq!(ctx["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(ctx["protocol"], "HTTP/1.1");
    assert!(ctx["requestTimeEpoch"].is_i64());

    // Misses are 403 Missing Authentication Token: path, method, stage.
    for (m, stage, path) in [
        ("GET", "prod", "/users"),
        ("POST", "prod", "/nothing"),
        ("POST", "dev", "/users"),
    ] {
        let r = api.call(m, stage, path, &[], None);
        assert_eq!(r.status, 403, "{m} {stage} {path}");
        assert_eq!(r.json()["message"], "Missing Authentication Token");
        assert_eq!(
            r.header("x-amzn-ErrorType"),
            Some("MissingAuthenticationTokenException")
        );
    }
}

#[test]
fn host_based_invoke_url() {
    let s = Server::start();
    s.deploy("hello", "hello");
    let api = Api::create(&s, json!({ "name": "hello-api" }));
    let hello = api.resource(&api.root, "hello");
    api.lambda_method(&hello, "GET", "hello");
    api.deploy("prod");
    let port = s.front.rsplit(':').next().unwrap();
    let host = format!("{}.execute-api.localhost:{port}", api.id);
    let r = common::request(
        "GET",
        &format!("{}/prod/hello", s.front),
        &[("Host", &host)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "Hello from Portico");
    assert_eq!(r.header("content-type"), Some("application/json"));
}

/// What a function prints reaches the server's log once per invocation:
/// the front door batches these lines, and neither a batch left waiting nor
/// the one pending at shutdown may be lost.
#[test]
fn function_output_reaches_the_log_for_every_invocation() {
    let mut s = Server::start();
    s.deploy("hello", "hello");
    let url = {
        let api = Api::create(&s, json!({ "name": "logs" }));
        let hello = api.resource(&api.root, "hello");
        api.lambda_method(&hello, "GET", "hello");
        api.deploy("prod");
        api.url("prod", "/hello")
    };
    let call = || {
        let r = common::request("GET", &url, &[], None);
        assert_eq!(r.status, 200, "{}", r.text());
    };
    // Each line carries the invocation's Lambda request id.
    let lambda_ids = |log: &str| {
        log.lines()
            .filter(|l| l.contains("INFO portico::function:") && l.contains("hello invoked as hello"))
            .filter_map(|l| l.split("request_id=").nth(1).map(str::to_string))
            .collect::<Vec<_>>()
    };
    let calls = 200;
    (0..calls).for_each(|_| call());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while lambda_ids(&s.log()).len() < calls && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ids = lambda_ids(&s.log());
    assert_eq!(ids.len(), calls, "{}", s.log());
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), calls, "one line per invocation");
    call();
    s.stop();
    assert_eq!(
        lambda_ids(&s.log()).len(),
        calls + 1,
        "flushed at shutdown:\n{}",
        s.log()
    );
}

#[test]
fn routing_precedence_and_greedy_paths() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = Api::create(&s, json!({ "name": "routes" }));
    let users = api.resource(&api.root, "users");
    let user = api.resource(&users, "{id}");
    let me = api.resource(&users, "me");
    let files = api.resource(&api.root, "files");
    let proxy = api.resource(&files, "{proxy+}");
    api.lambda_method(&users, "ANY", "echo");
    api.lambda_method(&users, "GET", "echo");
    api.lambda_method(&user, "GET", "echo");
    api.lambda_method(&me, "GET", "echo");
    api.lambda_method(&proxy, "ANY", "echo");
    api.deploy("v1");

    let ev = event_of(&api.call("GET", "v1", "/users/me", &[], None));
    assert_eq!(ev["resource"], "/users/me");
    let ev = event_of(&api.call("GET", "v1", "/users/42", &[], None));
    assert_eq!(ev["resource"], "/users/{id}");
    assert_eq!(ev["pathParameters"]["id"], "42");
    let ev = event_of(&api.call("DELETE", "v1", "/users", &[], None));
    assert_eq!(ev["resource"], "/users");
    assert_eq!(ev["httpMethod"], "DELETE");
    let ev = event_of(&api.call("GET", "v1", "/users/", &[], None));
    assert_eq!(ev["path"], "/users/", "trailing slash kept in path");
    let ev = event_of(&api.call("PUT", "v1", "/files/a/b%2Bc/", &[], None));
    assert_eq!(ev["resource"], "/files/{proxy+}");
    assert_eq!(ev["pathParameters"]["proxy"], "a/b%2Bc");
    assert_eq!(
        api.call("GET", "v1", "/files", &[], None).status,
        403,
        "greedy needs one segment"
    );
    assert_eq!(
        api.call("POST", "v1", "/users/42", &[], None).status,
        403,
        "method miss"
    );
}

#[test]
fn query_headers_and_binary_body() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = Api::create(&s, json!({ "name": "bin" }));
    s.admin(
        "PATCH",
        &format!("/restapis/{}", api.id),
        Some(json!({"patchOperations": [{"op": "add", "path": "/binaryMediaTypes/image~1png"}]})),
    );
    let r = api.resource(&api.root, "up");
    api.lambda_method(&r, "POST", "echo");
    api.deploy("prod");
    let ev = event_of(&api.call(
        "POST",
        "prod",
        "/up?a=1&a=2&b=x+y",
        &[
            ("Content-Type", "image/png"),
            ("X-Multi", "one"),
            ("X-Multi", "two"),
        ],
        Some(&[0u8, 159, 146, 150]),
    ));
    assert_eq!(ev["queryStringParameters"]["a"], "2");
    assert_eq!(ev["multiValueQueryStringParameters"]["a"], json!(["1", "2"]));
    assert_eq!(ev["queryStringParameters"]["b"], "x y");
    assert_eq!(ev["isBase64Encoded"], true);
    assert_eq!(ev["body"], "AJ+Slg==");
    let multi = ev["multiValueHeaders"].as_object().unwrap();
    let key = multi.keys().find(|k| k.eq_ignore_ascii_case("x-multi")).unwrap();
    assert_eq!(multi[key], json!(["one", "two"]));
    assert_eq!(ev["headers"][key], "two");
}

#[test]
fn binary_image_round_trip_through_a_proxy_integration() {
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({ "name": "img" }));
    s.admin(
        "PATCH",
        &format!("/restapis/{}", api.id),
        Some(json!({"patchOperations": [{"op": "add", "path": "/binaryMediaTypes/image~1png"}]})),
    );
    let r = api.resource(&api.root, "image");
    api.lambda_method(&r, "POST", "mirror");
    api.deploy("prod");
    let png: Vec<u8> = [0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]
        .into_iter()
        .chain(0u8..=255)
        .collect();
    // Binary in (base64 in the event), base64 out decoded because the first
    // Accept type is binary.
    let r = api.call(
        "POST",
        "prod",
        "/image",
        &[("Content-Type", "image/png"), ("Accept", "image/png, */*")],
        Some(&png),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, png);
    assert_eq!(r.header("content-type"), Some("image/png"));
    // A text first Accept type gets the base64 text, as AWS sends it.
    let r = api.call(
        "POST",
        "prod",
        "/image",
        &[("Content-Type", "image/png"), ("Accept", "application/json")],
        Some(&png),
    );
    use base64::Engine as _;
    assert_eq!(r.text(), base64::engine::general_purpose::STANDARD.encode(&png));
}

#[test]
fn function_errors_and_malformed_responses_are_502() {
    let s = Server::start();
    s.deploy("faults", "faults");
    s.deploy("cmd", "command_echo");
    let api = Api::create(&s, json!({ "name": "bad" }));
    let f = api.resource(&api.root, "f");
    api.lambda_method(&f, "POST", "faults");
    let c = api.resource(&api.root, "c");
    api.lambda_method(&c, "POST", "cmd");
    let missing = api.resource(&api.root, "missing");
    api.lambda_method(&missing, "GET", "no-such-function");
    api.deploy("prod");
    for body in [
        &br#"{"fault":"panic"}"#[..],
        br#"{"fault":"bad-json"}"#,
        br#"{"fault":"error"}"#,
    ] {
        let r = api.call("POST", "prod", "/f", &[], Some(body));
        assert_eq!(r.status, 502, "{}", String::from_utf8_lossy(body));
        assert_eq!(r.json()["message"], "Internal server error");
    }
    // {"ok":true} is JSON but has a key a proxy response may not have.
    let r = api.call("POST", "prod", "/f", &[], Some(b"{}"));
    assert_eq!(r.status, 502);
    // command_echo returns {"statusCode":200,"body":...}: a valid response.
    let r = api.call("POST", "prod", "/c", &[], Some(b"{}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = api.call("GET", "prod", "/missing", &[], None);
    assert_eq!(r.status, 500);
}

#[test]
fn proxy_responses_cannot_set_the_connections_framing() {
    let s = Server::start();
    s.deploy("faults", "faults");
    let api = Api::create(&s, json!({ "name": "framing" }));
    let f = api.resource(&api.root, "f");
    api.lambda_method(&f, "POST", "faults");
    api.deploy("prod");
    let respond = |response: Value| {
        let body = json!({ "fault": "respond", "response": response }).to_string();
        api.call("POST", "prod", "/f", &[], Some(body.as_bytes()))
    };
    // As from an HTTP backend: framing and hop-by-hop headers come back
    // remapped or dropped, never as the client's own framing.
    let r = respond(json!({
        "statusCode": 200,
        "headers": {"Content-Length": "1", "Transfer-Encoding": "chunked", "Connection": "upgrade",
                    "Upgrade": "websocket", "Date": "yesterday", "X-Kept": "yes"},
        "multiValueHeaders": {"content-length": ["7"]},
        "body": "xyz"
    }));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "xyz");
    assert_eq!(r.header("content-length"), Some("3"));
    assert_eq!(r.header("x-amzn-remapped-content-length"), Some("7, 1"));
    assert_eq!(r.header("x-amzn-remapped-connection"), Some("upgrade"));
    assert_eq!(r.header("x-amzn-remapped-date"), Some("yesterday"));
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("upgrade"), None);
    assert_eq!(r.header("x-kept"), Some("yes"));
    // A 1xx is not a final answer.
    for status in [100, 101] {
        let r = respond(json!({ "statusCode": status, "body": "x" }));
        assert_eq!(r.status, 502, "statusCode {status}");
        assert_eq!(r.json()["message"], "Internal server error");
    }
}

#[test]
fn bodies_over_10_mb_are_413_and_broken_framing_is_400() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = Api::create(&s, json!({ "name": "limits" }));
    let r = api.resource(&api.root, "r");
    api.lambda_method(&r, "POST", "echo");
    api.deploy("prod");
    let over = vec![b'x'; 10 * 1024 * 1024 + 1];
    let r = api.call("POST", "prod", "/r", &[], Some(&over));
    assert_eq!(r.status, 413);
    assert_eq!(
        r.json()["message"],
        "HTTP content length exceeded 10485760 bytes."
    );

    // A chunk size that is not hex: not a size problem.
    let addr = s.front.trim_start_matches("http://");
    let request = format!(
        "POST /restapis/{}/prod/_user_request_/r HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        api.id
    );
    let raw = common::raw_exchange(&s.front, request.as_bytes());
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("{\"message\":\"Bad Request\"}"), "{text}");
}

#[test]
fn management_rejections_have_aws_shape() {
    let s = Server::start();
    s.deploy("echo", "echo");
    // A path parameter that is not UTF-8, in each dialect.
    let r = s.admin("GET", "/restapis/%FF", None);
    r.assert_error(400, "BadRequestException");
    assert!(r.json()["message"].is_string(), "{}", r.text());
    let r = s.admin("GET", "/2015-03-31/functions/%FF", None);
    r.assert_error(400, "InvalidParameterValueException");
    assert_eq!(r.json()["Type"], "User");
    // A query that does not parse.
    s.admin("GET", "/2015-03-31/functions/echo?Qualifier=1&Qualifier=2", None)
        .assert_error(400, "InvalidParameterValueException");
    // Another method on a known path is an unknown operation.
    s.admin("PATCH", "/restapis", None)
        .assert_error(404, "UnknownOperationException");
    s.admin("GET", "/2015-03-31/functions/echo/invocations", None)
        .assert_error(404, "UnknownOperationException");
}

#[test]
fn resource_trees_are_at_most_1000_levels_deep() {
    let s = Server::start();
    let import = |depth: usize| {
        let path = "/a".repeat(depth);
        let doc = json!({
            "openapi": "3.0.1",
            "info": {"title": "deep", "version": "1"},
            "paths": {
                path.clone(): {"get": {"x-amazon-apigateway-integration": {
                    "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                    "responses": {"default": {"statusCode": "200"}}}}},
                "/ok": {"get": {"x-amazon-apigateway-integration": {
                    "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                    "responses": {"default": {"statusCode": "200"}}}}}
            }
        });
        let r = s.admin("POST", "/restapis?mode=import", Some(doc));
        (r, path)
    };
    // The deepest tree allowed imports, deploys and routes.
    let (r, path) = import(1000);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let dep = s.admin(
        "POST",
        &format!("/restapis/{id}/deployments"),
        Some(json!({"stageName": "prod"})),
    );
    assert_eq!(dep.status, 201, "{}", dep.text());
    for route in [path.as_str(), "/ok"] {
        let url = format!("{}/restapis/{id}/prod/_user_request_{route}", s.front);
        assert_eq!(
            common::request("GET", &url, &[], None).status,
            200,
            "{}",
            &route[..10.min(route.len())]
        );
    }
    // One level more is refused, before anything is stored.
    let (r, _) = import(1001);
    r.assert_error(400, "BadRequestException");
    assert!(r.text().contains("too deep"), "{}", r.text());
    // Nor can a move make a tree deeper: /b/b under the deepest /a.
    let mut items = Vec::new();
    let mut position = String::new();
    loop {
        let page = s
            .admin(
                "GET",
                &format!("/restapis/{id}/resources?limit=500{position}"),
                None,
            )
            .json();
        items.extend(page["item"].as_array().unwrap().iter().cloned());
        match page["position"].as_str() {
            Some(p) => position = format!("&position={p}"),
            None => break,
        }
    }
    let deepest = items
        .iter()
        .find(|r| r["path"] == path.as_str())
        .expect("deepest");
    let root = items.iter().find(|r| r["path"] == "/").expect("root");
    let b = s.admin(
        "POST",
        &format!("/restapis/{id}/resources/{}", root["id"].as_str().unwrap()),
        Some(json!({"pathPart": "b"})),
    );
    assert_eq!(b.status, 201, "{}", b.text());
    let b_id = b.json()["id"].as_str().unwrap().to_string();
    let r = s.admin(
        "PATCH",
        &format!("/restapis/{id}/resources/{b_id}"),
        Some(json!({"patchOperations": [{"op": "replace", "path": "/parentId", "value": deepest["id"]}]})),
    );
    r.assert_error(400, "BadRequestException");
}

#[test]
fn stages_switch_deployments_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(dir.path(), &[]);
    s.deploy("hello", "hello");
    s.deploy("echo", "echo");
    let api = Api::create(&s, json!({ "name": "switch" }));
    let r = api.resource(&api.root, "x");
    api.lambda_method(&r, "GET", "hello");
    let d1 = api.deploy("prod");
    assert_eq!(
        api.call("GET", "prod", "/x", &[], None).json()["message"],
        "Hello from Portico"
    );
    // Point the integration at echo and deploy to a second stage: prod is unchanged.
    s.admin(
        "PATCH",
        &format!("/restapis/{}/resources/{r}/methods/GET/integration", api.id),
        Some(json!({"patchOperations": [{"op": "replace", "path": "/uri", "value": uri("echo")}]})),
    );
    let d2 = api.deploy("beta");
    assert_eq!(
        api.call("GET", "prod", "/x", &[], None).json()["message"],
        "Hello from Portico"
    );
    assert_eq!(
        event_of(&api.call("GET", "beta", "/x", &[], None))["requestContext"]["deploymentId"],
        d2.as_str()
    );
    // Roll prod forward.
    let up = s.admin(
        "PATCH",
        &format!("/restapis/{}/stages/prod", api.id),
        Some(json!({"patchOperations": [{"op": "replace", "path": "/deploymentId", "value": d2}]})),
    );
    assert_eq!(up.status, 200, "{}", up.text());
    assert_eq!(
        event_of(&api.call("GET", "prod", "/x", &[], None))["requestContext"]["stage"],
        "prod"
    );
    // A deployment in use cannot be deleted; an unused one can.
    let r = s.admin("DELETE", &format!("/restapis/{}/deployments/{d2}", api.id), None);
    r.assert_error(400, "BadRequestException");
    assert_eq!(
        s.admin("DELETE", &format!("/restapis/{}/deployments/{d1}", api.id), None)
            .status,
        202
    );

    let (api_id, root) = (api.id.clone(), api.root.clone());
    drop(api);
    s.stop();
    let s2 = Server::start_in(dir.path(), &[]);
    let api = Api {
        s: &s2,
        id: api_id,
        root,
    };
    let api2 = &api;
    assert_eq!(
        event_of(&api2.call("GET", "prod", "/x", &[], None))["requestContext"]["deploymentId"],
        d2.as_str()
    );
    let stages = s2
        .admin("GET", &format!("/restapis/{}/stages", api.id), None)
        .json();
    assert_eq!(stages["item"].as_array().unwrap().len(), 2);
}

#[test]
fn management_errors_match_aws() {
    let s = Server::start();
    let api = Api::create(&s, json!({ "name": "errs" }));
    let id = &api.id;
    s.admin("GET", "/restapis/nope", None)
        .assert_error(404, "NotFoundException");
    let users = api.resource(&api.root, "users");
    s.admin(
        "POST",
        &format!("/restapis/{id}/resources/{}", api.root),
        Some(json!({"pathPart": "users"})),
    )
    .assert_error(409, "ConflictException");
    let greedy = api.resource(&api.root, "{proxy+}");
    let r = s.admin(
        "POST",
        &format!("/restapis/{id}/resources/{greedy}"),
        Some(json!({"pathPart": "x"})),
    );
    r.assert_error(400, "BadRequestException");
    assert!(r.text().contains("greedy path variable"));
    s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{users}/methods/FETCH"),
        Some(json!({"authorizationType": "NONE"})),
    )
    .assert_error(400, "BadRequestException");
    s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{users}/methods/GET/integration"),
        Some(json!({"type": "MOCK"})),
    )
    .assert_error(404, "NotFoundException");
    let r = s.admin(
        "POST",
        &format!("/restapis/{id}/deployments"),
        Some(json!({"stageName": "prod"})),
    );
    r.assert_error(400, "BadRequestException");
    assert!(r.text().contains("doesn't contain any methods"));
    s.admin("GET", &format!("/restapis/{id}/stages/nope"), None)
        .assert_error(404, "NotFoundException");
    s.admin("GET", &format!("/restapis/{id}/resources/nope"), None)
        .assert_error(404, "NotFoundException");
    assert_eq!(s.admin("DELETE", &format!("/restapis/{id}"), None).status, 202);
    s.admin("GET", &format!("/restapis/{id}"), None)
        .assert_error(404, "NotFoundException");
}

#[test]
fn mock_integration() {
    let s = Server::start();
    let api = Api::create(&s, json!({ "name": "mock" }));
    let id = &api.id;
    let r = api.resource(&api.root, "ping");
    s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{r}/methods/GET"),
        Some(json!({"authorizationType": "NONE"})),
    );
    let put = s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{r}/methods/GET/integration"),
        Some(json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}})),
    );
    assert_eq!(put.status, 201, "{}", put.text());
    s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{r}/methods/GET/responses/200"),
        Some(json!({"responseParameters": {"method.response.header.X-Mock": false}})),
    );
    let ir = s.admin(
        "PUT",
        &format!("/restapis/{id}/resources/{r}/methods/GET/integration/responses/200"),
        Some(json!({"responseTemplates": {"application/json": "{\"pong\": true}"}, "responseParameters": {"method.response.header.X-Mock": "'yes'"}})),
    );
    assert_eq!(ir.status, 201, "{}", ir.text());
    api.deploy("prod");
    let r = api.call("GET", "prod", "/ping", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["pong"], true);
    assert_eq!(r.header("x-mock"), Some("yes"));
}

#[test]
fn stage_switch_under_load_fails_no_request() {
    let s = Server::start();
    s.deploy("hello", "hello");
    s.deploy("echo", "echo");
    let api = Api::create(&s, json!({ "name": "flip" }));
    let r = api.resource(&api.root, "x");
    api.lambda_method(&r, "GET", "hello");
    let d1 = api.deploy("prod");
    s.admin(
        "PATCH",
        &format!("/restapis/{}/resources/{r}/methods/GET/integration", api.id),
        Some(json!({"patchOperations": [{"op": "replace", "path": "/uri", "value": uri("echo")}]})),
    );
    let d2 = api.deploy("other");
    let url = api.url("prod", "/x");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop) = (url.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut ok, mut failed) = (0u32, 0u32);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if common::request("GET", &url, &[], None).status == 200 {
                        ok += 1;
                    } else {
                        failed += 1;
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    for i in 0..20 {
        let d = if i % 2 == 0 { &d2 } else { &d1 };
        let r = s.admin(
            "PATCH",
            &format!("/restapis/{}/stages/prod", api.id),
            Some(json!({"patchOperations": [{"op": "replace", "path": "/deploymentId", "value": d}]})),
        );
        assert_eq!(r.status, 200);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed) = (0, 0);
    for w in workers {
        let (o, f) = w.join().unwrap();
        ok += o;
        failed += f;
    }
    assert_eq!(failed, 0, "{ok} ok, {failed} failed");
    assert!(ok > 20, "load actually ran: {ok}");
}

#[test]
fn openapi_import_then_calls() {
    let s = Server::start();
    s.deploy("hello", "hello");
    s.deploy("echo", "echo");
    let yaml = format!(
        r#"swagger: "2.0"
info: {{title: petstore, version: "1"}}
x-amazon-apigateway-request-validators: {{all: {{validateRequestBody: true}}}}
x-amazon-apigateway-documentation: {{version: "1"}}
paths:
  /hello:
    get:
      x-amazon-apigateway-integration: {{type: aws_proxy, httpMethod: POST, uri: "{hello}"}}
  /pets/{{petId}}:
    get:
      parameters: [{{name: petId, in: path, required: true, type: string}}]
      x-amazon-apigateway-integration: {{type: aws_proxy, httpMethod: POST, uri: "{echo}"}}
    delete:
      x-amazon-apigateway-integration: {{type: aws_proxy, httpMethod: POST, uri: "{echo}"}}
"#,
        hello = uri("hello"),
        echo = uri("echo")
    );
    let r = common::request(
        "POST",
        &format!("{}/restapis?mode=import", s.admin),
        &[],
        Some(yaml.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["name"], "petstore");
    // Extensions Portico does not apply yet are kept and logged on the
    // server; the caller gets no warning, as from AWS (which imports
    // x-amazon-apigateway-documentation with failOnWarnings=true).
    assert!(v.get("warnings").is_none(), "{v}");
    let dep = s.admin(
        "POST",
        &format!("/restapis/{id}/deployments"),
        Some(json!({"stageName": "live"})),
    );
    assert_eq!(dep.status, 201, "{}", dep.text());
    let base = format!("{}/restapis/{id}/live/_user_request_", s.front);
    let r = common::request("GET", &format!("{base}/hello"), &[], None);
    assert_eq!(r.json()["message"], "Hello from Portico");
    let r = common::request("DELETE", &format!("{base}/pets/9"), &[], None);
    assert_eq!(r.json()["pathParameters"]["petId"], "9");
    assert_eq!(r.json()["httpMethod"], "DELETE");
    // Overwrite with a document lacking /hello: the next deployment drops it.
    let smaller = yaml
        .split("  /pets/")
        .next()
        .unwrap()
        .replace("  /hello:", "  /bye:");
    let r = common::request(
        "PUT",
        &format!("{}/restapis/{id}?mode=overwrite", s.admin),
        &[],
        Some(smaller.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    s.admin(
        "POST",
        &format!("/restapis/{id}/deployments"),
        Some(json!({"stageName": "live"})),
    );
    assert_eq!(
        common::request("GET", &format!("{base}/hello"), &[], None).status,
        403
    );
    assert_eq!(
        common::request("GET", &format!("{base}/bye"), &[], None).status,
        200
    );
    // A malformed document is a 400.
    let r = common::request(
        "POST",
        &format!("{}/restapis?mode=import", s.admin),
        &[],
        Some(b"openapi: [nope"),
    );
    r.assert_error(400, "BadRequestException");
}

#[test]
fn tags_on_apis_and_stages() {
    let s = Server::start();
    let api = Api::create(&s, json!({ "name": "tagged" }));
    let arn = format!("arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2F{}", api.id);
    let r = s.admin(
        "PUT",
        &format!("/tags/{arn}"),
        Some(json!({"tags": {"team": "web", "env": "dev"}})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        s.admin("GET", &format!("/tags/{arn}"), None).json()["tags"]["team"],
        "web"
    );
    assert_eq!(
        s.admin("GET", &format!("/restapis/{}", api.id), None).json()["tags"]["env"],
        "dev"
    );
    let r = s.admin("DELETE", &format!("/tags/{arn}?tagKeys=team"), None);
    assert_eq!(r.status, 204);
    assert_eq!(
        s.admin("GET", &format!("/tags/{arn}"), None).json()["tags"],
        json!({"env": "dev"})
    );
    s.admin("GET", "/tags/arn%3Aaws%3As3%3A%3A%3Abucket", None)
        .assert_error(400, "BadRequestException");
}

/// Splits HTTP/1.1 responses read from one connection (each with a
/// Content-Length) into their JSON bodies.
fn json_bodies(mut raw: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("content-length");
        let body = &raw[end + 4..end + 4 + len];
        out.push(serde_json::from_slice(body).expect("JSON body"));
        raw = &raw[end + 4 + len..];
    }
    out
}

#[test]
fn event_headers_keep_the_clients_casing_across_keep_alive_requests() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = Api::create(&s, json!({ "name": "casing" }));
    let any = api.resource(&api.root, "{proxy+}");
    api.lambda_method(&any, "ANY", "echo");
    api.deploy("prod");

    // Three requests on one connection: a Content-Length body, a chunked
    // body with a trailer, and no body; names in the client's own casing.
    let addr = s.front.trim_start_matches("http://");
    let base = format!("/restapis/{}/prod/_user_request_", api.id);
    let requests = format!(
        "POST {base}/one HTTP/1.1\r\nHost: {addr}\r\ntEsT-HEADeR: a\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{{\"n\": 1}}\
         POST {base}/two HTTP/1.1\r\nHost: {addr}\r\nX-Second: b\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\nX-Trailer: t\r\n\r\n\
         GET {base}/three HTTP/1.1\r\nhost: {addr}\r\nACCEPT: */*\r\nuser-agent: raw/1\r\nConnection: close\r\n\r\n"
    );
    let raw = common::raw_exchange(&s.front, requests.as_bytes());
    let events = json_bodies(&raw);
    assert_eq!(events.len(), 3, "{}", String::from_utf8_lossy(&raw));

    let names = |e: &Value| -> Vec<String> { e["headers"].as_object().unwrap().keys().cloned().collect() };
    let one = names(&events[0]);
    assert_eq!(events[0]["path"], "/one");
    for n in ["Host", "tEsT-HEADeR", "Content-Type"] {
        assert!(one.iter().any(|k| k == n), "{n} in {one:?}");
    }
    assert_eq!(events[0]["headers"]["tEsT-HEADeR"], "a");
    assert_eq!(events[0]["multiValueHeaders"]["tEsT-HEADeR"], json!(["a"]));
    let two = names(&events[1]);
    assert_eq!(events[1]["path"], "/two");
    assert_eq!(events[1]["body"], "abcd");
    assert!(two.iter().any(|k| k == "X-Second"), "{two:?}");
    let three = names(&events[2]);
    assert_eq!(events[2]["path"], "/three");
    // `User-Agent` is always title-cased, as on AWS; the rest as sent.
    for n in ["host", "ACCEPT", "User-Agent"] {
        assert!(three.iter().any(|k| k == n), "{n} in {three:?}");
    }
}

#[test]
fn account_settings_update_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(dir.path(), &[]);
    let fresh = s.admin("GET", "/account", None);
    assert_eq!(fresh.status, 200, "{}", fresh.text());
    assert_eq!(
        fresh.json(),
        json!({
            "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
            "features": ["UsagePlans"],
            "apiKeyVersion": "4",
        })
    );
    let role = "arn:aws:iam::000000000000:role/apigw-logs";
    let set = s.admin(
        "PATCH",
        "/account",
        Some(json!({"patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]})),
    );
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(set.json()["cloudwatchRoleArn"], role);
    // Nothing else can change, and a refused patch changes nothing.
    for refused in [
        json!([{"op": "replace", "path": "/cloudwatchRoleArn", "value": "apigw-logs"}]),
        json!([{"op": "replace", "path": "/throttleSettings/rateLimit", "value": "5"}]),
        json!([{"op": "remove", "path": "/cloudwatchRoleArn"}]),
    ] {
        s.admin("PATCH", "/account", Some(json!({ "patchOperations": refused })))
            .assert_error(400, "BadRequestException");
    }
    s.stop();
    let s2 = Server::start_in(dir.path(), &[]);
    let after = s2.admin("GET", "/account", None).json();
    assert_eq!(after["cloudwatchRoleArn"], role);
    assert_eq!(after["throttleSettings"]["burstLimit"], 5000);
}
