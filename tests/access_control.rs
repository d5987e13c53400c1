//! Access control end to end over HTTP with real wasm authorizers: Lambda
//! TOKEN and REQUEST authorizers (every outcome, the result cache and its
//! TTL), API keys and usage plans (throttle, quota, restart), resource
//! policies, IAM SigV4 on a method, customised gateway responses, and a
//! suite of crafted requests that must never reach the integration.

mod common;

use std::time::Duration;

use common::Server;
use common::rest_api::{RestApi, lambda_uri as uri};
use serde_json::{Value, json};

/// An API of methods backed by `echo`, called on stage `prod`.
struct Api<'a>(RestApi<'a>);

impl<'a> std::ops::Deref for Api<'a> {
    type Target = RestApi<'a>;
    fn deref(&self) -> &RestApi<'a> {
        &self.0
    }
}

impl<'a> Api<'a> {
    fn create(s: &'a Server, body: Value) -> Api<'a> {
        Api(RestApi::create(s, body))
    }

    /// A management call under this API, always with a body.
    fn admin(&self, method: &str, path: &str, body: Value) -> common::Reply {
        self.0.admin(method, path, Some(body))
    }

    fn authorizer(&self, body: Value) -> String {
        let v = self.ok("POST", "/authorizers", body, 201);
        v["id"].as_str().unwrap_or_default().to_string()
    }

    /// A method backed by `echo`, with the given method settings.
    fn method(&self, rid: &str, method: &str, settings: Value) {
        self.0.method(
            rid,
            method,
            settings,
            json!({ "type": "AWS_PROXY", "httpMethod": "POST", "uri": uri("echo") }),
        );
    }

    fn deploy(&self, stage: &str) {
        self.0.deploy(stage);
    }

    fn url(&self, path: &str) -> String {
        self.0.url("prod", path)
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> common::Reply {
        common::request("GET", &self.url(path), headers, None)
    }
}

fn authorizer_invocations(s: &Server) -> u64 {
    s.stats()["authorizerInvocations"]
        .as_u64()
        .expect("authorizerInvocations in stats")
}

fn message(r: &common::Reply) -> Value {
    r.json()["message"].clone()
}

fn deploy_functions(s: &Server) {
    for f in ["echo", "token_authorizer", "request_authorizer"] {
        s.deploy(f, f);
    }
}

/// `/secret` (TOKEN, cached 300 s), `/secret/{proxy+}` (same authorizer),
/// `/short` (TOKEN, cached 1 s), `/nocache` (TOKEN, no cache, token must
/// look like `allow...`), `/req` (REQUEST), `/public` (no auth).
fn protected_api(s: &Server) -> Api<'_> {
    let api = Api::create(s, json!({ "name": "guarded" }));
    let token = api.authorizer(json!({
        "name": "token", "type": "TOKEN", "authorizerUri": uri("token_authorizer"),
        "identitySource": "method.request.header.Authorization",
    }));
    let short = api.authorizer(json!({
        "name": "short", "type": "TOKEN", "authorizerUri": uri("token_authorizer"),
        "identitySource": "method.request.header.Authorization", "authorizerResultTtlInSeconds": 1,
    }));
    let nocache = api.authorizer(json!({
        "name": "nocache", "type": "TOKEN", "authorizerUri": uri("token_authorizer"),
        "identitySource": "method.request.header.Authorization", "authorizerResultTtlInSeconds": 0,
        "identityValidationExpression": "(allow|deny|unauthorized|oops)[a-z-]*",
    }));
    let request = api.authorizer(json!({
        "name": "request", "type": "REQUEST", "authorizerUri": uri("request_authorizer"),
        "identitySource": "method.request.header.HeaderAuth1, method.request.querystring.QueryString1",
        "authorizerResultTtlInSeconds": 300,
    }));
    let custom = |id: &str| json!({ "authorizationType": "CUSTOM", "authorizerId": id });
    let secret = api.resource(&api.root, "secret");
    api.method(&secret, "GET", custom(&token));
    let proxy = api.resource(&secret, "{proxy+}");
    api.method(&proxy, "ANY", custom(&token));
    let r = api.resource(&api.root, "short");
    api.method(&r, "GET", custom(&short));
    let r = api.resource(&api.root, "nocache");
    api.method(&r, "GET", custom(&nocache));
    let r = api.resource(&api.root, "req");
    api.method(&r, "GET", custom(&request));
    let r = api.resource(&api.root, "public");
    api.method(&r, "GET", json!({ "authorizationType": "NONE" }));
    api.deploy("prod");
    api
}

#[test]
fn token_authorizer_outcomes() {
    let s = Server::start();
    deploy_functions(&s);
    let api = protected_api(&s);

    // No identity: 401 without invoking the authorizer.
    let before = authorizer_invocations(&s);
    let r = api.get("/secret", &[]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(message(&r), "Unauthorized");
    assert_eq!(r.header("x-amzn-errortype"), Some("UnauthorizedException"));
    let r = api.get("/secret", &[("Authorization", "")]);
    assert_eq!(r.status, 401);
    // Fails identityValidationExpression: 401 without invoking.
    let r = api.get("/nocache", &[("Authorization", "Bearer nope")]);
    assert_eq!(r.status, 401);
    assert_eq!(authorizer_invocations(&s), before);

    // Allow: the integration sees principalId and the stringified context.
    let r = api.get("/secret", &[("Authorization", "allow")]);
    assert_eq!(r.status, 200, "{}", r.text());
    let event = r.json();
    let a = &event["requestContext"]["authorizer"];
    assert_eq!(a["principalId"], "user|a1b2c3d4");
    assert_eq!(a["stringKey"], "value");
    assert_eq!(a["numberKey"], "123");
    assert_eq!(a["booleanKey"], "true");
    assert!(a["integrationLatency"].is_u64(), "{a}");

    // The function's "Unauthorized" error: 401.
    let r = api.get("/nocache", &[("Authorization", "unauthorized")]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(message(&r), "Unauthorized");
    // Explicit deny: 403 with the explicit-deny wording.
    let r = api.get("/nocache", &[("Authorization", "deny")]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        message(&r),
        "User is not authorized to access this resource with an explicit deny"
    );
    assert_eq!(r.header("x-amzn-errortype"), Some("AccessDeniedException"));
    // Any other failure: 500 {"message": null}.
    let r = api.get("/nocache", &[("Authorization", "oops")]);
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": null }));
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("AuthorizerConfigurationException")
    );
    // The public method needs nothing.
    assert_eq!(api.get("/public", &[]).status, 200);
}

#[test]
fn cached_policy_is_judged_per_path_and_expires() {
    let s = Server::start();
    deploy_functions(&s);
    let api = protected_api(&s);

    let n0 = authorizer_invocations(&s);
    assert_eq!(api.get("/secret", &[("Authorization", "allow")]).status, 200);
    assert_eq!(authorizer_invocations(&s), n0 + 1);
    // A hit does not invoke again.
    assert_eq!(api.get("/secret", &[("Authorization", "allow")]).status, 200);
    assert_eq!(authorizer_invocations(&s), n0 + 1);
    // The cached policy allows only the first methodArn: another path under
    // the same authorizer is denied without a new invocation.
    let r = api.get("/secret/other", &[("Authorization", "allow")]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(message(&r), "User is not authorized to access this resource");
    assert_eq!(authorizer_invocations(&s), n0 + 1);
    // A stage-wide policy opens every path.
    assert_eq!(
        api.get("/secret/a/b", &[("Authorization", "allow-stage")]).status,
        200
    );
    assert_eq!(
        api.get("/secret", &[("Authorization", "allow-stage")]).status,
        200
    );
    assert_eq!(authorizer_invocations(&s), n0 + 2);

    // TTL 1 s: re-invoked once it has expired.
    assert_eq!(api.get("/short", &[("Authorization", "allow")]).status, 200);
    assert_eq!(api.get("/short", &[("Authorization", "allow")]).status, 200);
    assert_eq!(authorizer_invocations(&s), n0 + 3);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(api.get("/short", &[("Authorization", "allow")]).status, 200);
    assert_eq!(authorizer_invocations(&s), n0 + 4);
    // TTL 0: every call invokes.
    api.get("/nocache", &[("Authorization", "allow")]);
    api.get("/nocache", &[("Authorization", "allow")]);
    assert_eq!(authorizer_invocations(&s), n0 + 6);
}

#[test]
fn request_authorizer_uses_headers_and_query() {
    let s = Server::start();
    deploy_functions(&s);
    let api = protected_api(&s);
    let n0 = authorizer_invocations(&s);
    // A missing source: 401 without invoking.
    let r = api.get("/req", &[("HeaderAuth1", "headerValue1")]);
    assert_eq!(r.status, 401, "{}", r.text());
    let r = api.get("/req?QueryString1=queryValue1", &[]);
    assert_eq!(r.status, 401);
    assert_eq!(authorizer_invocations(&s), n0);
    let r = api.get(
        "/req?QueryString1=queryValue1",
        &[("HeaderAuth1", "headerValue1")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let a = &r.json()["requestContext"]["authorizer"];
    assert_eq!(a["principalId"], "headerValue1");
    assert_eq!(a["path"], "/req");
    let r = api.get("/req?QueryString1=x", &[("HeaderAuth1", "headerValue1")]);
    assert_eq!(r.status, 401, "{}", r.text());
    let r = api.get("/req?QueryString1=x", &[("HeaderAuth1", "deny")]);
    assert_eq!(r.status, 403, "{}", r.text());
}

fn api_key(s: &Server, value: &str) -> String {
    let r = s.admin(
        "POST",
        "/apikeys",
        Some(json!({ "name": format!("k-{value}"), "enabled": true, "value": value })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

fn usage_plan(s: &Server, api: &str, throttle: Value, quota: Value, keys: &[&str]) -> String {
    let r = s.admin(
        "POST",
        "/usageplans",
        Some(
            json!({ "name": "plan", "apiStages": [{ "apiId": api, "stage": "prod" }],
                     "throttle": throttle, "quota": quota }),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let plan = r.json()["id"].as_str().unwrap().to_string();
    for k in keys {
        let r = s.admin(
            "POST",
            &format!("/usageplans/{plan}/keys"),
            Some(json!({ "keyId": k, "keyType": "API_KEY" })),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    plan
}

#[test]
fn api_keys_usage_plans_quota_and_throttle() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(dir.path(), &[]);
    deploy_functions(&s);
    let api = Api::create(&s, json!({ "name": "metered" }));
    let r = api.resource(&api.root, "keyed");
    api.method(
        &r,
        "GET",
        json!({ "authorizationType": "NONE", "apiKeyRequired": true }),
    );
    let r = api.resource(&api.root, "burst");
    api.method(
        &r,
        "GET",
        json!({ "authorizationType": "NONE", "apiKeyRequired": true }),
    );
    api.deploy("prod");

    let quota_key = "quotaKey0123456789abcdef";
    let quota_id = api_key(&s, quota_key);
    let throttle_key = "throttleKey0123456789abcdef";
    api_key(&s, throttle_key);
    let orphan_key = "orphanKey0123456789abcdef";
    api_key(&s, orphan_key);
    usage_plan(
        &s,
        &api.id,
        json!({ "rateLimit": 1000.0, "burstLimit": 1000 }),
        json!({ "limit": 3, "period": "DAY" }),
        &[&quota_id],
    );

    // Missing, unknown, or not in a plan for this stage: 403 Forbidden.
    for headers in [
        vec![],
        vec![("x-api-key", "nope-nope-nope-nope-nope")],
        vec![("x-api-key", orphan_key)],
    ] {
        let r = api.get("/keyed", &headers);
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(message(&r), "Forbidden");
        assert_eq!(r.header("x-amzn-errortype"), Some("ForbiddenException"));
    }
    // Within quota: the event names the key.
    for _ in 0..2 {
        let r = api.get("/keyed", &[("x-api-key", quota_key)]);
        assert_eq!(r.status, 200, "{}", r.text());
        let identity = &r.json()["requestContext"]["identity"];
        assert_eq!(identity["apiKey"], quota_key);
        assert_eq!(identity["apiKeyId"], quota_id.as_str());
    }
    // A restart keeps what was consumed: one call left, then Limit Exceeded.
    let (api_id, api_root) = (api.id.clone(), api.root.clone());
    drop(api);
    s.stop();
    let s = Server::start_in(dir.path(), &[]);
    let api = Api(RestApi {
        s: &s,
        id: api_id,
        root: api_root,
    });
    assert_eq!(api.get("/keyed", &[("x-api-key", quota_key)]).status, 200);
    let r = api.get("/keyed", &[("x-api-key", quota_key)]);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(message(&r), "Limit Exceeded");
    assert_eq!(r.header("x-amzn-errortype"), Some("LimitExceededException"));

    // A plan with rate 1/s and burst 1: a quick second call is throttled.
    let throttle_id = s.admin("GET", "/apikeys?includeValues=true", None).json()["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["value"] == throttle_key)
        .map(|k| k["id"].as_str().unwrap().to_string())
        .unwrap();
    usage_plan(
        &s,
        &api.id,
        json!({ "rateLimit": 1.0, "burstLimit": 1 }),
        json!({ "limit": 1000, "period": "DAY" }),
        &[&throttle_id],
    );
    let codes: Vec<u16> = (0..4)
        .map(|_| api.get("/burst", &[("x-api-key", throttle_key)]).status)
        .collect();
    assert_eq!(codes[0], 200, "{codes:?}");
    assert!(codes.contains(&429), "{codes:?}");
    let r = api.get("/burst", &[("x-api-key", throttle_key)]);
    if r.status == 429 {
        assert_eq!(message(&r), "Too Many Requests");
    }
}

#[test]
fn resource_policy_source_ip() {
    let s = Server::start();
    deploy_functions(&s);
    let policy = |effect: &str, cond: &str, cidr: &str| {
        json!({ "Version": "2012-10-17", "Statement": [
            { "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*" },
            { "Effect": effect, "Principal": "*", "Action": "execute-api:Invoke",
              "Resource": "arn:aws:execute-api:*:*:*/*/GET/*", "Condition": { cond: { "aws:SourceIp": cidr } } }
        ]})
        .to_string()
    };
    let allow_only = |cidr: &str| {
        json!({ "Version": "2012-10-17", "Statement": [
            { "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
              "Resource": "arn:aws:execute-api:*:*:*", "Condition": { "IpAddress": { "aws:SourceIp": [cidr] } } }
        ]})
        .to_string()
    };
    let cases = [
        (policy("Deny", "IpAddress", "127.0.0.0/8"), 403, true),
        (policy("Deny", "NotIpAddress", "127.0.0.0/8"), 200, false),
        (allow_only("10.0.0.0/8"), 403, false),
        (allow_only("127.0.0.1/32"), 200, false),
    ];
    for (policy, status, explicit) in cases {
        let api = Api::create(&s, json!({ "name": "ip", "policy": policy }));
        let r = api.resource(&api.root, "open");
        api.method(&r, "GET", json!({ "authorizationType": "NONE" }));
        api.deploy("prod");
        let r = api.get("/open", &[]);
        assert_eq!(r.status, status, "{policy}: {}", r.text());
        if status == 403 {
            let m = r.json()["Message"].as_str().unwrap().to_string();
            assert!(m.starts_with("User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:"), "{m}");
            assert_eq!(m.ends_with("with an explicit deny"), explicit, "{m}");
        }
    }
}

#[test]
fn customised_gateway_responses() {
    let s = Server::start();
    deploy_functions(&s);
    let api = protected_api(&s);
    let r = api.admin(
        "PUT",
        "/gatewayresponses/UNAUTHORIZED",
        json!({ "statusCode": "401",
                "responseParameters": { "gatewayresponse.header.WWW-Authenticate": "'Bearer'",
                                        "gatewayresponse.header.x-stage": "context.stage" },
                "responseTemplates": { "application/json": "{\"error\":$context.error.messageString,\"id\":\"$context.requestId\"}" } }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = api.admin(
        "PUT",
        "/gatewayresponses/DEFAULT_4XX",
        json!({ "statusCode": "418" }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // Applied only once deployed.
    assert_eq!(api.get("/secret", &[]).header("www-authenticate"), None);
    api.deploy("prod");
    let r = api.get("/secret", &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(r.header("x-stage"), Some("prod"));
    let body = r.json();
    assert_eq!(body["error"], "Unauthorized");
    assert_eq!(body["id"].as_str(), r.header("x-amzn-requestid"));
    // DEFAULT_4XX's status applies to 4XX types not customised themselves.
    let r = api.get("/nowhere", &[]);
    assert_eq!(r.status, 418, "{}", r.text());
    assert_eq!(message(&r), "Missing Authentication Token");
}

/// Sends one raw HTTP/1.1 request (no client-side path normalisation).
fn raw(front: &str, request_line_target: &str, method: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let addr = front.trim_start_matches("http://");
    let mut req = format!("{method} {request_line_target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let out = common::raw_exchange(front, req.as_bytes());
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[test]
fn crafted_requests_never_bypass_authorization() {
    let s = Server::start();
    deploy_functions(&s);
    let api = protected_api(&s);
    let base = format!("/restapis/{}/prod/_user_request_", api.id);
    let long = "a".repeat(8000);
    let paths = [
        "/secret",
        "/secret/",
        "//secret",
        "/secret//",
        "/public/../secret",
        "/public/%2e%2e/secret",
        "/public/%2E%2E/secret",
        "/public/.%2e/secret",
        "/./secret",
        "/public/./../secret",
        "/public/..%2Fsecret",
        "/public%2F..%2Fsecret",
        "/public%2f..%2fsecret",
        "/public/%2e%2e%2fsecret",
        "/%73ecret",
        "/secre%74",
        "/SECRET",
        "/Secret",
        "/secret.",
        "/secret..",
        "/secret%00",
        "/secret%20",
        "/secret;x",
        "/secret?x=1",
        "/secret#frag",
        "/secret/x",
        "/secret/x/../../secret",
        "/ѕecret",
        "/secret/%2e%2e",
        "/secret/..",
        "/../prod/secret",
        "/public/../../prod/secret",
    ];
    let mut checked = 0;
    for p in paths {
        for headers in [
            vec![],
            vec![("Authorization", "deny")],
            vec![("X-HTTP-Method-Override", "GET")],
        ] {
            let (status, text) = raw(&s.front, &format!("{base}{p}"), "GET", &headers);
            assert!(
                status == 401 || status == 403 || status == 400 || status == 404,
                "GET {p} {headers:?} reached the integration: {text}"
            );
            assert!(!text.contains("requestContext"), "GET {p} {headers:?}: {text}");
            checked += 1;
        }
    }
    // Stage case, host-based URL, method tricks, header tricks.
    let host = format!("{}.execute-api.localhost", api.id);
    type Crafted<'a> = (&'a str, String, Vec<(&'a str, String)>);
    let extra: Vec<Crafted> = vec![
        (
            "GET",
            format!("/restapis/{}/PROD/_user_request_/secret", api.id),
            vec![("Authorization", "allow".into())],
        ),
        (
            "GET",
            format!("/restapis/{}/Prod/_user_request_/secret", api.id),
            vec![],
        ),
        ("HEAD", format!("{base}/secret"), vec![]),
        (
            "POST",
            format!("{base}/secret"),
            vec![("X-HTTP-Method-Override", "GET".into())],
        ),
        (
            "GET",
            format!("{base}/secret"),
            vec![
                ("Authorization", "deny".into()),
                ("Authorization", "allow".into()),
            ],
        ),
        (
            "GET",
            format!("{base}/secret"),
            vec![
                ("Authorization", "allow".into()),
                ("Authorization", "deny".into()),
            ],
        ),
        (
            "GET",
            format!("{base}/secret"),
            vec![("Authorization", long.clone())],
        ),
        (
            "GET",
            format!("{base}/secret"),
            vec![("authorization", "Allow".into())],
        ),
        (
            "GET",
            format!("{base}/secret"),
            vec![
                ("Authorization", "ALLOW".into()),
                ("X-Forwarded-For", "10.0.0.1".into()),
            ],
        ),
        (
            "GET",
            format!("{base}/secret"),
            vec![("Authorization", "Bearer allow".into())],
        ),
        ("GET", "/prod/secret".to_string(), vec![("Host", host.clone())]),
        (
            "GET",
            "/PROD/secret".to_string(),
            vec![("Host", host.clone()), ("Authorization", "allow".into())],
        ),
        (
            "GET",
            "/prod/public/../secret".to_string(),
            vec![("Host", host.clone())],
        ),
    ];
    for (method, target, headers) in &extra {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, text) = raw(&s.front, target, method, &hs);
        let reached = text.contains("requestContext");
        // "allow" on the exact path is a legitimate pass; everything listed
        // here is crafted so that it must not be.
        assert!(
            !reached,
            "{method} {target} {headers:?} reached the integration: {text}"
        );
        assert!(status >= 400, "{method} {target}: {status}");
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} crafted requests");
    // The control: the same server lets the right request through.
    let (status, text) = raw(
        &s.front,
        &format!("{base}/secret"),
        "GET",
        &[("Authorization", "allow")],
    );
    assert_eq!(status, 200, "{text}");
}

/// A front-door request signed for `execute-api` with `key`, at `time`.
fn signed_call(
    s: &Server,
    api: &Api<'_>,
    path: &str,
    key: (&str, &str),
    time: chrono::DateTime<chrono::Utc>,
) -> common::Reply {
    use portico::iam::sigv4;
    let host = s.front.trim_start_matches("http://").to_string();
    let raw_path = format!("/restapis/{}/prod/_user_request_{path}", api.id);
    let added = sigv4::sign(
        &sigv4::UnsignedRequest {
            method: "GET",
            raw_path: &raw_path,
            raw_query: None,
            headers: &[("host", host.as_str())],
            body: b"",
        },
        &sigv4::SigningParams {
            access_key_id: key.0,
            secret_access_key: key.1,
            session_token: None,
            region: "us-east-1",
            service: "execute-api",
            time,
        },
    );
    let headers: Vec<(&str, &str)> = added.iter().map(|(k, v)| (*k, v.as_str())).collect();
    common::request("GET", &format!("{}{raw_path}", s.front), &headers, None)
}

fn xml_field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|i| i + open.len()).expect(tag);
    let end = xml[start..].find(&format!("</{tag}>")).expect(tag) + start;
    xml[start..end].to_string()
}

fn iam_call(s: &Server, form: &str) -> String {
    let r = common::request(
        "POST",
        &format!("{}/", s.admin),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(form.as_bytes()),
    );
    assert_eq!(r.status, 200, "{form}: {}", r.text());
    r.text()
}

#[test]
fn iam_auth_on_a_method() {
    const ADMIN: (&str, &str) = (
        "AKIAPORTICOADMIN0001",
        "bootstrap-secret-for-tests-only-0123456789",
    );
    let s = Server::start_with(&[
        "--admin-access-key-id",
        ADMIN.0,
        "--admin-secret-access-key",
        ADMIN.1,
    ]);
    deploy_functions(&s);
    let api = Api::create(&s, json!({ "name": "iam" }));
    let r = api.resource(&api.root, "private");
    api.method(&r, "GET", json!({ "authorizationType": "AWS_IAM" }));
    let r = api.resource(&api.root, "other");
    api.method(&r, "GET", json!({ "authorizationType": "AWS_IAM" }));
    api.deploy("prod");

    // A user allowed only GET /private.
    iam_call(&s, "Action=CreateUser&Version=2010-05-08&UserName=alice");
    let policy = json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
        "Action": "execute-api:Invoke", "Resource": format!("arn:aws:execute-api:us-east-1:000000000000:{}/prod/GET/private", api.id) }] })
    .to_string();
    let form = format!(
        "Action=PutUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=p&PolicyDocument={}",
        percent_encoding::utf8_percent_encode(&policy, percent_encoding::NON_ALPHANUMERIC)
    );
    iam_call(&s, &form);
    let xml = iam_call(&s, "Action=CreateAccessKey&Version=2010-05-08&UserName=alice");
    let (alice_id, alice_secret) = (xml_field(&xml, "AccessKeyId"), xml_field(&xml, "SecretAccessKey"));
    let alice = (alice_id.as_str(), alice_secret.as_str());
    let now = chrono::Utc::now();

    let r = api.get("/private", &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(message(&r), "Missing Authentication Token");

    let r = signed_call(&s, &api, "/private", alice, now);
    assert_eq!(r.status, 200, "{}", r.text());
    let identity = &r.json()["requestContext"]["identity"];
    assert_eq!(identity["userArn"], "arn:aws:iam::000000000000:user/alice");
    assert_eq!(identity["accessKey"], alice_id.as_str());
    assert_eq!(identity["accountId"], "000000000000");

    // Alice's policy does not cover /other: 403 with AWS's capitalised Message.
    let r = signed_call(&s, &api, "/other", alice, now);
    assert_eq!(r.status, 403, "{}", r.text());
    let m = r.json()["Message"].as_str().unwrap_or_default().to_string();
    assert!(
        m.starts_with("User: arn:aws:iam::000000000000:user/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:"),
        "{m}"
    );
    // The administrator's allow-all policy covers it.
    assert_eq!(signed_call(&s, &api, "/other", ADMIN, now).status, 200);

    // Wrong secret, unknown key, skewed clock.
    let r = signed_call(&s, &api, "/private", (alice.0, "not-the-secret"), now);
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-amzn-errortype"), Some("InvalidSignatureException"));
    assert!(
        message(&r)
            .as_str()
            .unwrap_or_default()
            .starts_with("The request signature we calculated does not match")
    );
    let r = signed_call(&s, &api, "/private", ("AKIAUNKNOWNUNKNOWN00", "x"), now);
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-amzn-errortype"), Some("UnrecognizedClientException"));
    let r = signed_call(&s, &api, "/private", alice, now - chrono::Duration::minutes(6));
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        message(&r)
            .as_str()
            .unwrap_or_default()
            .starts_with("Signature expired"),
        "{}",
        r.text()
    );
}

#[test]
fn test_invoke_authorizer() {
    let s = Server::start();
    deploy_functions(&s);
    let api = protected_api(&s);
    let list = s
        .admin("GET", &format!("/restapis/{}/authorizers", api.id), None)
        .json();
    let id_of = |name: &str| {
        list["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .map(|a| a["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    let token = id_of("token");
    let r = api.admin(
        "POST",
        &format!("/authorizers/{token}"),
        json!({ "headers": { "Authorization": "allow" } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["clientStatus"], 0);
    assert_eq!(v["principalId"], "user|a1b2c3d4");
    let policy: Value = serde_json::from_str(v["policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    let r = api.admin("POST", &format!("/authorizers/{token}"), json!({ "headers": {} }));
    assert_eq!(r.json()["clientStatus"], 401);
    let r = api.admin(
        "POST",
        &format!("/authorizers/{token}"),
        json!({ "headers": { "Authorization": "oops" } }),
    );
    assert_eq!(r.json()["clientStatus"], 500);
    let request = id_of("request");
    let r = api.admin(
        "POST",
        &format!("/authorizers/{request}"),
        json!({ "headers": { "HeaderAuth1": "headerValue1" }, "pathWithQueryString": "/req?QueryString1=queryValue1" }),
    );
    assert_eq!(r.json()["clientStatus"], 0, "{}", r.text());
    let r = api.admin("POST", "/authorizers/nope00", json!({}));
    assert_eq!(r.status, 404);
}

#[test]
fn stage_method_throttling() {
    let s = Server::start();
    deploy_functions(&s);
    let api = Api::create(&s, json!({ "name": "throttled" }));
    let r = api.resource(&api.root, "slow");
    api.method(&r, "GET", json!({ "authorizationType": "NONE" }));
    let r = api.resource(&api.root, "fast");
    api.method(&r, "GET", json!({ "authorizationType": "NONE" }));
    api.deploy("prod");
    let r = api.admin(
        "PATCH",
        "/stages/prod",
        json!({ "patchOperations": [
            { "op": "replace", "path": "/~1slow/GET/throttling/rateLimit", "value": "1" },
            { "op": "replace", "path": "/~1slow/GET/throttling/burstLimit", "value": "1" },
        ] }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Keyed by the path as written, as AWS does (`~1resourceName/GET` in
    // the AWS CLI's update-stage example); loggingLevel only once set.
    let setting = &r.json()["methodSettings"]["~1slow/GET"];
    assert_eq!(setting["throttlingRateLimit"], 1.0);
    assert_eq!(setting["throttlingBurstLimit"], 1);
    assert_eq!(setting["cacheTtlInSeconds"], 300);
    assert!(setting.get("loggingLevel").is_none(), "{setting}");
    let bad = api.admin(
        "PATCH",
        "/stages/prod",
        json!({ "patchOperations": [{ "op": "replace", "path": "/*/*/throttling/nope", "value": "1" }] }),
    );
    assert_eq!(bad.status, 400, "{}", bad.text());

    let codes: Vec<u16> = (0..4).map(|_| api.get("/slow", &[]).status).collect();
    assert_eq!(codes[0], 200, "{codes:?}");
    assert!(codes.contains(&429), "{codes:?}");
    // Other methods keep their own (unset) limits.
    for _ in 0..4 {
        assert_eq!(api.get("/fast", &[]).status, 200);
    }
}
