//! Non-proxy integrations end to end: `AWS` (Lambda through mapping
//! templates), `HTTP` (a local upstream through mapping templates) and
//! `MOCK`, built with the management API, deployed, and
//! called over HTTP — request templates by Content-Type, passthrough
//! behaviours, parameter mappings, integration responses selected by
//! `errorMessage` / status, response templates and overrides, binary
//! conversions.

mod common;

use common::Server;
use common::rest_api::{RestApi, lambda_uri, merged};
use common::upstream::Upstream;
use serde_json::{Value, json};

/// An API of non-proxy methods on stage `test`.
struct Api<'a>(RestApi<'a>);

impl<'a> std::ops::Deref for Api<'a> {
    type Target = RestApi<'a>;
    fn deref(&self) -> &RestApi<'a> {
        &self.0
    }
}

impl<'a> Api<'a> {
    fn create(s: &'a Server, extra: Value) -> Api<'a> {
        Api(RestApi::create(s, merged(json!({ "name": "non-proxy" }), extra)))
    }

    /// An unauthenticated method with `integration`, and for each
    /// `(status, integration response)` a method response and the
    /// integration response. The method request parameters and method
    /// response headers the mappings use are declared, as AWS requires.
    fn method(&self, rid: &str, method: &str, integration: Value, responses: &[(&str, Value)]) {
        let sources = integration["requestParameters"].as_object().into_iter().flatten();
        let declared: serde_json::Map<String, Value> = sources
            .filter_map(|(_, v)| v.as_str().filter(|v| v.starts_with("method.request.")))
            .map(|v| (v.to_string(), Value::Bool(false)))
            .collect();
        self.0.method(
            rid,
            method,
            json!({ "authorizationType": "NONE", "requestParameters": declared }),
            integration,
        );
        let base = format!("/resources/{rid}/methods/{method}");
        for (code, ir) in responses {
            let headers: serde_json::Map<String, Value> = ir["responseParameters"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| (k.clone(), Value::Bool(false)))
                .collect();
            self.ok(
                "PUT",
                &format!("{base}/responses/{code}"),
                json!({ "responseParameters": headers }),
                201,
            );
            self.ok(
                "PUT",
                &format!("{base}/integration/responses/{code}"),
                ir.clone(),
                201,
            );
        }
    }

    fn deploy(&self, stage: &str, variables: Value) {
        self.deploy_with(stage, variables);
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> common::Reply {
        self.0.call(method, "test", path, headers, body)
    }
}

fn lambda(extra: Value) -> Value {
    merged(
        json!({ "type": "AWS", "httpMethod": "POST", "uri": lambda_uri("mirror") }),
        extra,
    )
}

#[test]
fn lambda_with_request_and_response_templates_and_selection_patterns() {
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({}));
    let pets = api.resource(&api.root, "pets");
    let pet = api.resource(&pets, "{id}");
    let request_template = r##"#set($body = $input.path('$'))
{
  "id": "$input.params('id')",
  "kind": "$input.params('kind')",
  "agent": "$input.params().header.get('x-agent')",
  "name": "$util.escapeJavaScript($body.name)",
  "tags": $input.json('$.tags'),
  "count": $body.tags.size(),
  "stage": "$context.stage",
  "requestId": "$context.requestId",
  "env": "$stageVariables.env"#if($body.fail),
  "fail": "$body.fail"#end
}"##;
    api.method(
        &pet,
        "POST",
        lambda(json!({ "requestTemplates": { "application/json": request_template } })),
        &[
            (
                "200",
                json!({
                    "selectionPattern": "",
                    "responseParameters": {
                        "method.response.header.X-Pet-Id": "integration.response.body.$.id",
                        // AWS's documented form leaves out the `$.`.
                        "method.response.header.X-Count": "integration.response.body.count",
                        "method.response.header.X-Served-By": "'portico'",
                        "method.response.header.X-Stage": "context.stage",
                    },
                    "responseTemplates": {
                        "application/json": "#set($r = $input.path('$'))\n{\"pet\": \"$r.id\", \"tags\": $input.json('$.tags'), \"n\": $r.count}"
                    }
                }),
            ),
            (
                "400",
                json!({
                    "selectionPattern": "BadRequest:.*",
                    "responseTemplates": {
                        "application/json": "{\"error\": \"$input.path('$.errorMessage')\", \"type\": \"$input.path('$.errorType')\"}"
                    }
                }),
            ),
        ],
    );
    api.deploy("test", json!({ "env": "qa" }));

    let r = api.call(
        "POST",
        "/pets/7?kind=cat&kind=dog",
        &[
            ("Content-Type", "application/json"),
            ("X-Agent", "t1"),
            ("X-Amzn-Trace-Id", "Root=1-5f84c3a8-91f49e7a5d1f2a3c4b5e6d7f"),
        ],
        Some(br#"{"name":"Rex \"the\" dog","tags":["a","b"]}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // A Root-only trace id comes back with a Parent segment added, as AWS
    // answers it.
    let trace = r.header("x-amzn-trace-id").unwrap_or_default();
    assert!(
        trace.starts_with("Root=1-5f84c3a8-91f49e7a5d1f2a3c4b5e6d7f;Parent=")
            && trace.ends_with(";Sampled=0"),
        "{trace}"
    );
    assert_eq!(r.json(), json!({ "pet": "7", "tags": ["a", "b"], "n": 2 }));
    assert_eq!(r.header("x-pet-id"), Some("7"));
    assert_eq!(r.header("x-count"), Some("2"));
    assert_eq!(r.header("x-served-by"), Some("portico"));
    assert_eq!(r.header("x-stage"), Some("test"));
    assert_eq!(r.header("content-type"), Some("application/json"));

    // A function error whose message matches the 400 pattern.
    let r = api.call(
        "POST",
        "/pets/8",
        &[("Content-Type", "application/json")],
        Some(br#"{"name":"x","tags":[],"fail":"BadRequest: no such pet"}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({ "error": "BadRequest: no such pet", "type": "Error" })
    );

    // An error that matches nothing takes the default response (200), as AWS does.
    let r = api.call(
        "POST",
        "/pets/9",
        &[("Content-Type", "application/json")],
        Some(br#"{"name":"x","tags":[],"fail":"Something else"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// A response template that reads the result as JSON reads it before the
/// integration response is chosen, and that reading is the check that the
/// result is JSON: a result that is not JSON is still a function error
/// (`Runtime.InvalidResponse`, selected by its message), and JSON the
/// quick reader leaves to `serde_json` still reads as JSON.
#[test]
fn a_result_read_ahead_as_json_is_checked_as_before() {
    let s = Server::start();
    s.deploy("faults", "faults");
    let api = Api::create(&s, json!({}));
    let results = api.resource(&api.root, "results");
    let request_template = r#"#if($input.params('kind') == 'bad')
{"fault": "bad-json"}
#else
{"fault": "respond", "response": {"n": 1.5, "s": "caf\u00e9", "list": [1, 2]}}
#end"#;
    api.method(
        &results,
        "POST",
        merged(
            lambda(json!({ "requestTemplates": { "application/json": request_template } })),
            json!({ "uri": lambda_uri("faults") }),
        ),
        &[
            (
                "200",
                json!({
                    "responseTemplates": {
                        "application/json": "#set($r = $input.path('$'))\n{\"n\": $input.json('$.n'), \"s\": \"$r.s\", \"size\": $r.list.size()}"
                    }
                }),
            ),
            (
                "502",
                json!({
                    "selectionPattern": ".*not JSON.*",
                    "responseTemplates": {
                        "application/json": "{\"type\": \"$input.path('$.errorType')\"}"
                    }
                }),
            ),
        ],
    );
    api.deploy("test", json!({}));

    let r = api.call(
        "POST",
        "/results?kind=good",
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "n": 1.5, "s": "caf\u{e9}", "size": 2 }));

    let r = api.call(
        "POST",
        "/results?kind=bad",
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.json(), json!({ "type": "Runtime.InvalidResponse" }));
}

#[test]
fn lambda_sees_the_rendered_payload() {
    // With no response template the function's result (the rendered
    // request, mirrored) is the body: the request template is observable.
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({}));
    let r1 = api.resource(&api.root, "render");
    let template = r#"{"body": $input.json('$'), "raw": "$util.escapeJavaScript($input.body)", "q": "$input.params('q')", "ip": "$context.identity.sourceIp", "method": "$context.httpMethod", "path": "$context.resourcePath", "all": "$input.params().querystring"}"#;
    api.method(
        &r1,
        "POST",
        lambda(json!({ "requestTemplates": { "application/json": template } })),
        &[("200", json!({}))],
    );
    api.deploy("test", json!({}));
    let r = api.call(
        "POST",
        "/render?q=a+b",
        &[("Content-Type", "application/json; charset=utf-8")],
        Some(br#"{"k":[1,2]}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["body"], json!({ "k": [1, 2] }));
    assert_eq!(v["raw"], r#"{"k":[1,2]}"#);
    assert_eq!(v["q"], "a b");
    assert_eq!(v["ip"], "127.0.0.1");
    assert_eq!(v["method"], "POST");
    assert_eq!(v["path"], "/render");
    assert_eq!(v["all"], "{q=a b}");

    // An empty body is `{}` to `$input.json('$')`.
    let r = api.call("POST", "/render", &[("Content-Type", "application/json")], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["body"], json!({}));
}

#[test]
fn passthrough_behaviours() {
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({}));
    let templates = json!({ "application/json": "{\"templated\": true}" });
    for (part, behaviour) in [
        ("match", "WHEN_NO_MATCH"),
        ("templates", "WHEN_NO_TEMPLATES"),
        ("never", "NEVER"),
    ] {
        let rid = api.resource(&api.root, part);
        api.method(
            &rid,
            "POST",
            lambda(json!({ "requestTemplates": templates, "passthroughBehavior": behaviour })),
            &[("200", json!({}))],
        );
    }
    let bare = api.resource(&api.root, "bare");
    api.method(
        &bare,
        "POST",
        lambda(json!({ "passthroughBehavior": "WHEN_NO_TEMPLATES" })),
        &[("200", json!({}))],
    );
    let never_bare = api.resource(&api.root, "neverbare");
    api.method(
        &never_bare,
        "POST",
        lambda(json!({ "passthroughBehavior": "NEVER" })),
        &[("200", json!({}))],
    );
    api.deploy("test", json!({}));

    let json_ct = [("Content-Type", "application/json")];
    let other_ct = [("Content-Type", "application/vnd.custom+json")];
    let body = Some(&br#"{"raw":1}"#[..]);
    for path in ["/match", "/templates", "/never"] {
        let r = api.call("POST", path, &json_ct, body);
        assert_eq!(r.json(), json!({ "templated": true }), "{path}");
    }
    // Unmatched type: passed through only under WHEN_NO_MATCH.
    let r = api.call("POST", "/match", &other_ct, body);
    assert_eq!(r.json(), json!({ "raw": 1 }));
    for path in ["/templates", "/never"] {
        let r = api.call("POST", path, &other_ct, body);
        assert_eq!(r.status, 415, "{path}: {}", r.text());
        assert_eq!(r.json(), json!({ "message": "Unsupported Media Type" }));
        assert_eq!(r.header("x-amzn-ErrorType"), Some("BadRequestException"));
    }
    // No templates at all: WHEN_NO_TEMPLATES passes through, NEVER refuses.
    assert_eq!(
        api.call("POST", "/bare", &other_ct, body).json(),
        json!({ "raw": 1 })
    );
    assert_eq!(api.call("POST", "/neverbare", &json_ct, body).status, 415);
    // A passed-through body that is not JSON cannot be a Lambda payload: 500.
    let r = api.call(
        "POST",
        "/match",
        &[("Content-Type", "text/plain")],
        Some(b"hello"),
    );
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
}

#[test]
fn request_parameters_overrides_and_asynchronous_invocation() {
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({}));
    let rid = api.resource(&api.root, "override");
    api.method(
        &rid,
        "POST",
        lambda(json!({
            "requestTemplates": {
                "application/json": "#set($context.responseOverride.status = 201)\n#set($context.responseOverride.header.X-Why = \"override\")\n{}"
            }
        })),
        &[(
            "200",
            json!({ "responseTemplates": { "application/json": "#set($context.responseOverride.status = 202)\n#set($context.responseOverride.header.X-Final = \"yes\")\n{\"done\": true}" } }),
        )],
    );
    let fire = api.resource(&api.root, "fire");
    api.method(
        &fire,
        "POST",
        lambda(json!({
            "requestParameters": { "integration.request.header.X-Amz-Invocation-Type": "'Event'" },
        })),
        &[(
            "200",
            json!({ "responseTemplates": { "application/json": "{\"queued\": true}" } }),
        )],
    );
    api.deploy("test", json!({}));

    let r = api.call(
        "POST",
        "/override",
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 202, "response override wins: {}", r.text());
    assert_eq!(r.header("x-final"), Some("yes"));
    assert_eq!(r.json(), json!({ "done": true }));

    let r = api.call(
        "POST",
        "/fire",
        &[("Content-Type", "application/json")],
        Some(br#"{"fail":"never seen by the caller"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "queued": true }));
}

#[test]
fn mock_selects_by_status_and_renders_templates() {
    let s = Server::start();
    let api = Api::create(&s, json!({}));
    let rid = api.resource(&api.root, "mock");
    api.method(
        &rid,
        "GET",
        json!({
            "type": "MOCK",
            "requestTemplates": { "application/json": "{\"statusCode\": $input.params('code')}" },
        }),
        &[
            (
                "200",
                json!({ "responseTemplates": { "application/json": "{\"ok\": true, \"id\": \"$context.requestId\", \"xid\": \"$context.extendedRequestId\", \"path\": \"$context.path\", \"domain\": \"$context.domainName\"}" } }),
            ),
            (
                "404",
                json!({
                    "selectionPattern": "404",
                    "responseParameters": { "method.response.header.X-Reason": "'missing'" },
                    "responseTemplates": { "application/json": "{\"message\": \"not here\"}" }
                }),
            ),
        ],
    );
    api.deploy("test", json!({}));
    let r = api.call("GET", "/mock?code=200", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-amzn-trace-id"), None, "MOCK reaches no backend");
    let v = r.json();
    assert_eq!(v["id"].as_str(), r.header("x-amzn-RequestId"));
    // `$context.path` carries the stage; the domain is the Host header as
    // sent, the same as the proxy event's `requestContext.domainName`.
    assert_eq!(v["path"], "/test/mock");
    assert_eq!(v["domain"], s.front.trim_start_matches("http://"));
    // Extended ids are shaped like AWS's, `LV7fzho-PHcEJPw=`.
    let xid = v["xid"].as_str().unwrap_or_default();
    assert_eq!(Some(xid), r.header("x-amz-apigw-id"));
    assert!(
        xid.len() == 16 && xid.ends_with('=') && !xid.ends_with("=="),
        "{xid}"
    );
    let r = api.call("GET", "/mock?code=404", &[], None);
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-reason"), Some("missing"));
    assert_eq!(r.json(), json!({ "message": "not here" }));
    // An unmatched status falls to the default response.
    assert_eq!(api.call("GET", "/mock?code=503", &[], None).status, 200);
    // A statusCode that is not an integer is a 500.
    let r = api.call("GET", "/mock?code=abc", &[], None);
    assert_eq!(r.status, 500, "{}", r.text());
}

/// What a request template sets under `$context.requestOverride` /
/// `responseOverride` is seen by the response template, and the response
/// half takes effect on the answer (LocalStack PRs #11799 and #12628, from
/// AWS-validated tests). Neither half leaks to the other side.
#[test]
fn overrides_set_in_the_request_template_reach_the_response() {
    let s = Server::start();
    let api = Api::create(&s, json!({}));
    let rid = api.resource(&api.root, "ovr");
    api.method(
        &rid,
        "GET",
        json!({
            "type": "MOCK",
            "requestTemplates": { "application/json": "#set($context.requestOverride.header.foo = \"bar\")\
        #set($context.requestOverride.querystring.qq = \"v\")#set($context.responseOverride.status = 418)\
        #set($context.responseOverride.header.X-A = \"1\"){\"statusCode\": 200}" },
        }),
        &[(
            "200",
            json!({ "responseTemplates": { "application/json": "[$context.requestOverride.header.foo]\
[$context.requestOverride.querystring.qq][$context.responseOverride.status]\
#set($context.requestOverride.header.X-Req = \"no\")#set($context.responseOverride.header.X-B = \"2\")" } }),
        )],
    );
    api.deploy("test", json!({}));
    let r = api.call("GET", "/ovr", &[], None);
    assert_eq!(r.status, 418, "{}", r.text());
    assert_eq!(r.text(), "[bar][v][418]");
    assert_eq!(r.header("x-a"), Some("1"));
    assert_eq!(r.header("x-b"), Some("2"));
    // requestOverride belongs to the integration request, never the answer.
    assert_eq!(r.header("x-req"), None);
    assert_eq!(r.header("foo"), None);

    // A response template that never reads the overrides keeps them too,
    // and so does a template that takes `$context` whole.
    for (path, template) in [
        ("plain", "plain"),
        ("whole", "#set($c = $context)$c.responseOverride.status"),
    ] {
        let rid = api.resource(&api.root, path);
        api.method(
            &rid,
            "GET",
            json!({
                "type": "MOCK",
                "requestTemplates": { "application/json": "#set($context.responseOverride.status = 418)\
            #set($context.responseOverride.header.X-A = \"1\"){\"statusCode\": 200}" },
            }),
            &[(
                "200",
                json!({ "responseTemplates": { "application/json": template } }),
            )],
        );
    }
    api.deploy("test", json!({}));
    for (path, body) in [("/plain", "plain"), ("/whole", "418")] {
        let r = api.call("GET", path, &[], None);
        assert_eq!((r.status, r.text().as_str()), (418, body), "{path}");
        assert_eq!(r.header("x-a"), Some("1"), "{path}");
    }
}

#[test]
fn templates_see_header_names_as_the_client_wrote_them() {
    let s = Server::start();
    let api = Api::create(&s, json!({}));
    let rid = api.resource(&api.root, "names");
    let template = "{\"exact\": \"$input.params().header.get('X-Agent')\", \"lower\": \"$input.params().header.get('x-agent')\", \"param\": \"$input.params('x-agent')\", \"xff\": \"$input.params('X-Forwarded-For')\", \"names\": \"#foreach($n in $input.params().header.keySet())$n #end\"}";
    api.method(
        &rid,
        "GET",
        json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
        &[(
            "200",
            json!({ "responseTemplates": { "application/json": template } }),
        )],
    );
    api.deploy("test", json!({}));
    // A raw request: HTTP client libraries lower-case names on the wire.
    let addr = s.front.trim_start_matches("http://");
    let request = format!(
        "GET /restapis/{}/test/_user_request_/names HTTP/1.1\r\nHost: {addr}\r\nX-Agent: t1\r\nConnection: close\r\n\r\n",
        api.id
    );
    let raw = common::raw_exchange(&s.front, request.as_bytes());
    let raw = String::from_utf8_lossy(&raw);
    let (_, body) = raw.split_once("\r\n\r\n").unwrap();
    let v: Value = serde_json::from_str(body).unwrap();
    // The header map is a case-sensitive map keyed as sent; the one-name
    // lookup finds a header whatever the case.
    assert_eq!(v["exact"], "t1", "{v}");
    assert_eq!(v["lower"], "", "{v}");
    assert_eq!(v["param"], "t1", "{v}");
    let names: Vec<&str> = v["names"].as_str().unwrap().split_whitespace().collect();
    // The same headers a proxy event shows: framing ones dropped, the
    // X-Forwarded-* and X-Amzn-Trace-Id that API Gateway adds.
    assert_eq!(
        names,
        [
            "Host",
            "X-Agent",
            "X-Forwarded-For",
            "X-Forwarded-Proto",
            "X-Forwarded-Port",
            "X-Amzn-Trace-Id"
        ]
    );
    assert_eq!(v["xff"], "127.0.0.1", "{v}");
}

#[test]
fn an_empty_template_is_echoed_as_null_and_renders_an_empty_body() {
    let s = Server::start();
    let api = Api::create(&s, json!({}));
    let rid = api.resource(&api.root, "empty");
    api.method(
        &rid,
        "OPTIONS",
        json!({ "type": "MOCK", "requestTemplates": { "application/json": "{\"statusCode\": 200}" } }),
        &[],
    );
    let base = format!("/restapis/{}/resources/{rid}/methods/OPTIONS", api.id);
    let r = s.admin("PUT", &format!("{base}/responses/200"), Some(json!({})));
    assert_eq!(r.status, 201, "{}", r.text());
    // "" (what the console and the CLI send) and null (what AWS answers,
    // so what a client copying that answer sends) are both taken.
    for sent in [json!(""), Value::Null] {
        let r = s.admin(
            "PUT",
            &format!("{base}/integration/responses/200"),
            Some(json!({ "responseTemplates": { "application/json": sent } })),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["responseTemplates"], json!({ "application/json": null }));
    }
    let r = s.admin("GET", &format!("{base}/integration"), None);
    assert_eq!(
        r.json()["integrationResponses"]["200"]["responseTemplates"],
        json!({ "application/json": null })
    );
    api.deploy("test", json!({}));
    let r = api.call("OPTIONS", "/empty", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "");
}

#[test]
fn binary_through_a_non_proxy_integration() {
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({ "binaryMediaTypes": ["image/png"] }));
    let rid = api.resource(&api.root, "image");
    let png: Vec<u8> = (0u8..=255).chain([0x89, b'P', b'N', b'G', 0, 0xff]).collect();
    // The request image arrives base64 in `$input.body`; the function
    // returns it inside JSON; the response template extracts it and
    // CONVERT_TO_BINARY turns it back into bytes.
    api.method(
        &rid,
        "POST",
        lambda(json!({ "requestTemplates": { "image/png": "{\"image\": \"$input.body\"}" } })),
        &[(
            "200",
            json!({
                "contentHandling": "CONVERT_TO_BINARY",
                "responseTemplates": { "image/png": "$input.path('$.image')" }
            }),
        )],
    );
    api.deploy("test", json!({}));
    let r = api.call(
        "POST",
        "/image",
        &[("Content-Type", "image/png"), ("Accept", "image/png")],
        Some(&png),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, png);
    assert_eq!(r.header("content-type"), Some("image/png"));
}

#[test]
fn a_template_that_fails_is_a_500_and_the_server_lives_on() {
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({}));
    let rid = api.resource(&api.root, "broken");
    api.method(
        &rid,
        "POST",
        lambda(json!({ "requestTemplates": { "application/json": "#if($x\n{\"unclosed\": " } })),
        &[("200", json!({}))],
    );
    let parse = api.resource(&api.root, "parse");
    api.method(
        &parse,
        "POST",
        lambda(
            json!({ "requestTemplates": { "application/json": "{\"a\": $util.parseJson($input.body).a}" } }),
        ),
        &[("200", json!({}))],
    );
    api.deploy("test", json!({}));
    let r = api.call(
        "POST",
        "/broken",
        &[("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
    let r = api.call(
        "POST",
        "/parse",
        &[("Content-Type", "application/json")],
        Some(b"not json"),
    );
    assert_eq!(r.status, 500, "{}", r.text());
    let r = api.call(
        "POST",
        "/parse",
        &[("Content-Type", "application/json")],
        Some(br#"{"a": 5}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn test_invoke_method_runs_the_undeployed_api_and_logs_each_step() {
    let s = Server::start();
    s.deploy("mirror", "mirror");
    let api = Api::create(&s, json!({}));
    let items = api.resource(&api.root, "items");
    let item = api.resource(&items, "{id}");
    api.method(
        &item,
        "POST",
        lambda(json!({
            "requestTemplates": { "application/json": "{\"id\": \"$input.params('id')\", \"q\": \"$input.params('q')\", \"env\": \"$stageVariables.env\", \"h\": \"$input.params('x-h')\"}" }
        })),
        &[("200", json!({ "responseTemplates": { "application/json": "{\"got\": $input.json('$')}" } }))],
    );
    // Not deployed: TestInvokeMethod runs the API as it stands.
    let r = s.admin(
        "POST",
        &format!("/restapis/{}/resources/{item}/methods/POST", api.id),
        Some(json!({
            "pathWithQueryString": "/items/42?q=z",
            "body": "{}",
            "headers": { "Content-Type": "application/json", "X-H": "hv" },
            "stageVariables": { "env": "dev" },
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], 200, "{v}");
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "got": { "id": "42", "q": "z", "env": "dev", "h": "hv" } })
    );
    assert_eq!(v["headers"]["Content-Type"], "application/json");
    let log = v["log"].as_str().unwrap();
    for step in [
        "Execution log for request ",
        // The path asked for, not the template (recorded against AWS).
        "HTTP Method: POST, Resource Path: /items/42",
        "Method request path: {id=42}",
        "Method request query string: {q=z}",
        // Names as the caller wrote them.
        "Method request headers: {Content-Type=application/json, X-H=hv}",
        "Endpoint request body after transformations: {\"id\": \"42\"",
        "Endpoint response body before transformations: {\"id\": \"42\"",
        "Method response body after transformations: {\"got\": ",
        "Method completed with status: 200",
    ] {
        assert!(log.contains(step), "missing {step:?} in\n{log}");
    }
    // The Lambda call in AWS's words and order.
    let at = |step: &str| {
        log.find(step)
            .unwrap_or_else(|| panic!("missing {step:?} in\n{log}"))
    };
    let steps = [
        "Endpoint request URI: https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn:aws:lambda:us-east-1:",
        "Endpoint request headers: {x-amzn-lambda-integration-tag=",
        "Endpoint request body after transformations: ",
        "Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/",
        "Received response. Status: 200, Integration latency: ",
        "Endpoint response headers: {Date=",
        "Endpoint response body before transformations: ",
    ];
    for pair in steps.windows(2) {
        assert!(
            at(pair[0]) < at(pair[1]),
            "{:?} before {:?} in\n{log}",
            pair[0],
            pair[1]
        );
    }
    assert!(log.contains(":function:mirror/invocations"), "{log}");
    assert!(v["latency"].as_u64().is_some());

    // Unknown method: 404 in AWS's words.
    let r = s.admin(
        "POST",
        &format!("/restapis/{}/resources/{item}/methods/GET", api.id),
        Some(json!({})),
    );
    r.assert_error(404, "NotFoundException");
}

#[test]
fn http_integration_maps_parameters_templates_and_selects_by_status() {
    let up = Upstream::start();
    let s = Server::start();
    let api = Api::create(&s, json!({}));
    let orders = api.resource(&api.root, "orders");
    let order = api.resource(&orders, "{id}");
    let echo_template = "#set($e = $input.path('$'))\n{\"method\": \"$e.method\", \"path\": \"$e.path\", \"query\": \"$e.query\", \"sent\": $util.base64Decode($e.body_b64)}";
    api.method(
        &order,
        "POST",
        json!({
            "type": "HTTP",
            "httpMethod": "PUT",
            "uri": format!("{}/backend/{{oid}}?src=gw", up.url()),
            "requestParameters": {
                "integration.request.path.oid": "method.request.path.id",
                "integration.request.querystring.who": "method.request.header.x-who",
                "integration.request.header.X-Lit": "'literal'",
            },
            "requestTemplates": { "application/json": "{\"order\": $input.json('$'), \"id\": \"$input.params('id')\"}" },
        }),
        &[(
            "200",
            json!({
                "responseParameters": { "method.response.header.X-Up-Type": "integration.response.header.Content-Type" },
                "responseTemplates": { "application/json": echo_template },
            }),
        )],
    );
    let hidden = api.resource(&api.root, "hidden");
    api.method(
        &hidden,
        "GET",
        json!({ "type": "HTTP", "httpMethod": "GET", "uri": format!("{}/status/404", up.url()) }),
        &[("200", json!({}))],
    );
    let mapped = api.resource(&api.root, "mapped");
    api.method(
        &mapped,
        "GET",
        json!({ "type": "HTTP", "httpMethod": "GET", "uri": format!("{}/status/404", up.url()) }),
        &[
            ("200", json!({})),
            ("404", json!({ "selectionPattern": "4\\d{2}", "responseTemplates": { "application/json": "{\"missing\": true}" } })),
        ],
    );
    let slow = api.resource(&api.root, "slow");
    api.method(
        &slow,
        "GET",
        json!({ "type": "HTTP", "httpMethod": "GET", "uri": format!("{}/sleep/3000", up.url()), "timeoutInMillis": 200 }),
        &[("200", json!({}))],
    );
    api.deploy("test", json!({}));

    let r = api.call(
        "POST",
        "/orders/77?ignored=1",
        &[("Content-Type", "application/json"), ("X-Who", "ann")],
        Some(br#"{"a":1}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({
            "method": "PUT",
            "path": "/backend/77",
            "query": "src=gw&who=ann",
            "sent": { "order": { "a": 1 }, "id": "77" },
        })
    );
    assert_eq!(r.header("x-up-type"), Some("application/json"));
    assert_eq!(r.header("content-type"), Some("application/json"));

    // The backend's 404 with only a default mapping: the client sees 200.
    let r = api.call("GET", "/hidden", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "status 404");
    let r = api.call("GET", "/mapped", &[], None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json(), json!({ "missing": true }));

    let r = api.call("GET", "/slow", &[], None);
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": "Endpoint request timed out" }));
}

/// Header mappings as AWS carries them out (LocalStack's
/// `TestApiGatewayHeaderRemapping` snapshots, recorded against AWS): an
/// `HTTP` integration sends mapped headers as mapped (User-Agent, Host,
/// Max-Forwards, Upgrade ... included) but not hop-by-hop ones; method
/// response headers API Gateway sets itself come back as
/// `x-amzn-Remapped-*` and Transfer-Encoding is dropped; a mapping to
/// Content-Length deploys, and the method then fails with 500.
#[test]
fn header_mappings_reach_backend_and_client_as_on_aws() {
    let up = Upstream::start();
    let s = Server::start();
    let api = Api::create(&s, json!({}));
    let full = api.resource(&api.root, "full");
    api.method(
        &full,
        "POST",
        json!({
            "type": "HTTP",
            "httpMethod": "POST",
            "uri": format!("{}/echo", up.url()),
            "requestParameters": {
                "integration.request.header.User-Agent": "'Override-Agent'",
                "integration.request.header.Max-Forwards": "'2'",
                "integration.request.header.Upgrade": "'HTTP/2.0'",
                "integration.request.header.Server": "'srv'",
                "integration.request.header.Accept": "'text/html'",
                "integration.request.header.Connection": "'close'",
                "integration.request.header.TE": "'trailers'",
            },
        }),
        &[(
            "200",
            json!({ "responseParameters": {
                "method.response.header.Server": "'response_param_Server'",
                "method.response.header.Content-Length": "'99'",
                "method.response.header.Transfer-Encoding": "'chunked'",
                "method.response.header.WWW-Authenticate": "'Basic'",
                "method.response.header.Pragma": "'response_param_Pragma'",
            } }),
        )],
    );
    let refused = api.resource(&api.root, "content-length");
    api.method(
        &refused,
        "GET",
        json!({
            "type": "MOCK",
            "requestTemplates": { "application/json": "{\"statusCode\": 200}" },
            "requestParameters": { "integration.request.header.Content-Length": "'5'" },
        }),
        &[("200", json!({}))],
    );
    api.deploy("test", json!({}));

    let r = api.call("POST", "/full", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    let sent = r.json();
    let header = |name: &str| common::upstream::echoed_headers(&sent, name);
    assert_eq!(header("user-agent"), ["Override-Agent"]);
    assert_eq!(header("max-forwards"), ["2"]);
    assert_eq!(header("upgrade"), ["HTTP/2.0"]);
    assert_eq!(header("server"), ["srv"]);
    assert_eq!(header("accept"), ["text/html"]);
    assert_eq!(header("content-length"), ["0"], "an empty POST says so");
    assert!(header("te").is_empty() && !header("connection").contains(&"close".to_string()));
    assert_eq!(r.header("x-amzn-Remapped-Server"), Some("response_param_Server"));
    assert_eq!(r.header("x-amzn-Remapped-Content-Length"), Some("99"));
    assert_eq!(r.header("x-amzn-Remapped-WWW-Authenticate"), Some("Basic"));
    assert_eq!(r.header("Pragma"), Some("response_param_Pragma"));
    assert_eq!(r.header("Transfer-Encoding"), None);
    assert!(
        r.header("x-amzn-trace-id").is_some(),
        "HTTP responses carry the trace id"
    );

    let r = api.call("GET", "/content-length", &[], None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": "Internal server error" }));
    assert_eq!(r.header("x-amzn-ErrorType"), Some("InternalServerErrorException"));
}
