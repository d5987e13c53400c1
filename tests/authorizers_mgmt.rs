//! Authorizers and gateway responses through the management API: CRUD with
//! AWS's checks, methods bound to authorizers, what deployments refuse, and
//! OpenAPI import creating both.

mod common;

use common::{Reply, Server};
use serde_json::{Value, json};

const AUTH_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:token_authorizer/invocations";
const ECHO_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations";

fn ok(r: Reply, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    r.json()
}

fn create_api(s: &Server) -> (String, String) {
    let v = ok(s.admin("POST", "/restapis", Some(json!({"name": "auth"}))), 201);
    (
        v["id"].as_str().unwrap_or_default().to_string(),
        v["rootResourceId"].as_str().unwrap_or_default().to_string(),
    )
}

fn token_authorizer(name: &str) -> Value {
    json!({
        "name": name,
        "type": "TOKEN",
        "authorizerUri": AUTH_URI,
        "identitySource": "method.request.header.Authorization",
    })
}

fn patch(ops: Value) -> Option<Value> {
    Some(json!({ "patchOperations": ops }))
}

#[test]
fn authorizer_crud_method_binding_and_deployment_checks() {
    let s = Server::start();
    let (api, root) = create_api(&s);
    let base = format!("/restapis/{api}/authorizers");

    // Create: defaults echoed as AWS echoes them.
    let a = ok(s.admin("POST", &base, Some(token_authorizer("tok"))), 201);
    let token_id = a["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(token_id.len(), 6);
    assert_eq!(a["type"], "TOKEN");
    assert_eq!(a["authType"], "custom");
    assert!(a.get("authorizerResultTtlInSeconds").is_none(), "{a}");
    assert_eq!(a["identitySource"], "method.request.header.Authorization");

    // AWS's checks.
    let r = s.admin("POST", &base, Some(json!({"name": "x", "type": "OAUTH"})));
    r.assert_error(400, "ValidationException");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("enum value set")
    );
    let mut bad = token_authorizer("x");
    bad["identitySource"] = json!("method.request.querystring.key");
    let r = s.admin("POST", &base, Some(bad));
    r.assert_error(400, "BadRequestException");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Invalid token source expression")
    );
    let r = s.admin(
        "POST",
        &base,
        Some(json!({"name": "x", "type": "REQUEST", "authorizerUri": AUTH_URI})),
    );
    r.assert_error(400, "BadRequestException");
    let r = s.admin(
        "POST",
        &base,
        Some(json!({"name": "x", "type": "TOKEN",
        "identitySource": "method.request.header.A"})),
    );
    r.assert_error(400, "BadRequestException");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Authorizer URI is required")
    );

    let req = ok(
        s.admin(
            "POST",
            &base,
            Some(
                json!({"name": "req", "type": "REQUEST", "authorizerUri": AUTH_URI,
            "identitySource": "method.request.header.X-Key,method.request.querystring.k,context.accountId",
            "authorizerResultTtlInSeconds": 60}),
            ),
        ),
        201,
    );
    assert_eq!(req["authorizerResultTtlInSeconds"], 60);
    let cognito = ok(
        s.admin(
            "POST",
            &base,
            Some(json!({"name": "pool", "type": "COGNITO_USER_POOLS",
            "providerARNs": ["arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_x"],
            "identitySource": "method.request.header.Authorization"})),
        ),
        201,
    );
    let cognito_id = cognito["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(cognito["authType"], "cognito_user_pools");

    // Read: one, all, paginated.
    assert_eq!(
        ok(s.admin("GET", &format!("{base}/{token_id}"), None), 200)["name"],
        "tok"
    );
    let all = ok(s.admin("GET", &base, None), 200);
    assert_eq!(all["item"].as_array().map(Vec::len), Some(3));
    let first = ok(s.admin("GET", &format!("{base}?limit=2"), None), 200);
    assert_eq!(first["item"].as_array().map(Vec::len), Some(2));
    let pos = first["position"].as_str().unwrap_or_default().to_string();
    let rest = ok(
        s.admin("GET", &format!("{base}?limit=2&position={pos}"), None),
        200,
    );
    assert_eq!(rest["item"].as_array().map(Vec::len), Some(1));
    assert!(rest.get("position").is_none());
    let r = s.admin("GET", &format!("{base}/nope00"), None);
    r.assert_error(404, "NotFoundException");
    assert_eq!(r.json()["message"], "Invalid Authorizer identifier specified");

    // Update.
    let u = ok(
        s.admin(
            "PATCH",
            &format!("{base}/{token_id}"),
            patch(json!([
                {"op": "replace", "path": "/name", "value": "token"},
                {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"},
                {"op": "replace", "path": "/identityValidationExpression", "value": "^[a-z-]+$"},
            ])),
        ),
        200,
    );
    assert_eq!(
        (u["name"].clone(), u["authorizerResultTtlInSeconds"].clone()),
        (json!("token"), json!(0))
    );
    s.admin(
        "PATCH",
        &format!("{base}/{token_id}"),
        patch(json!([{"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "4000"}])),
    )
    .assert_error(400, "BadRequestException");
    s.admin(
        "PATCH",
        &format!("{base}/nope00"),
        patch(json!([{"op": "replace", "path": "/name", "value": "x"}])),
    )
    .assert_error(404, "NotFoundException");

    // Methods: CUSTOM needs a TOKEN/REQUEST authorizer of this API.
    let res = ok(
        s.admin(
            "POST",
            &format!("/restapis/{api}/resources/{root}"),
            Some(json!({"pathPart": "items"})),
        ),
        201,
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let method = format!("/restapis/{api}/resources/{res}/methods/GET");
    let invalid = "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.";
    for body in [
        json!({"authorizationType": "CUSTOM"}),
        json!({"authorizationType": "CUSTOM", "authorizerId": "nope00"}),
        json!({"authorizationType": "CUSTOM", "authorizerId": cognito_id}),
        json!({"authorizationType": "COGNITO_USER_POOLS", "authorizerId": token_id}),
    ] {
        let r = s.admin("PUT", &method, Some(body.clone()));
        r.assert_error(400, "BadRequestException");
        assert_eq!(r.json()["message"], invalid, "{body}");
    }
    let m = ok(
        s.admin(
            "PUT",
            &method,
            Some(json!({"authorizationType": "CUSTOM", "authorizerId": token_id})),
        ),
        201,
    );
    assert_eq!(m["authorizerId"], token_id.as_str());
    let r = s.admin(
        "PATCH",
        &method,
        patch(json!([{"op": "replace", "path": "/authorizerId", "value": cognito_id}])),
    );
    r.assert_error(400, "BadRequestException");
    let req_id = req["id"].as_str().unwrap_or_default();
    let m = ok(
        s.admin(
            "PATCH",
            &method,
            patch(json!([{"op": "replace", "path": "/authorizerId", "value": req_id}])),
        ),
        200,
    );
    assert_eq!(m["authorizerId"], req_id);
    // Type and id may change together, in either order.
    let m = ok(
        s.admin(
            "PATCH",
            &method,
            patch(json!([
                {"op": "replace", "path": "/authorizationType", "value": "COGNITO_USER_POOLS"},
                {"op": "replace", "path": "/authorizerId", "value": cognito_id},
            ])),
        ),
        200,
    );
    assert_eq!(m["authorizationType"], "COGNITO_USER_POOLS");
    ok(
        s.admin(
            "PUT",
            &format!("{method}/integration"),
            Some(json!({"type": "AWS_PROXY", "httpMethod": "POST", "uri": ECHO_URI})),
        ),
        201,
    );

    // Deployments refuse what Portico cannot enforce.
    let deploy = |s: &Server| {
        s.admin(
            "POST",
            &format!("/restapis/{api}/deployments"),
            Some(json!({"stageName": "prod"})),
        )
    };
    let r = deploy(&s);
    r.assert_error(400, "BadRequestException");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Cognito user pool authorizers are not supported by Portico"),
        "{}",
        r.text()
    );
    ok(
        s.admin(
            "PATCH",
            &method,
            patch(json!([
                {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
                {"op": "replace", "path": "/authorizerId", "value": token_id},
            ])),
        ),
        200,
    );
    ok(deploy(&s), 201);

    // An authorizer in use cannot be deleted.
    let r = s.admin("DELETE", &format!("{base}/{token_id}"), None);
    r.assert_error(409, "ConflictException");
    assert_eq!(
        r.json()["message"],
        "Cannot delete authorizer 'token', is referenced in method: GET:/items"
    );
    assert_eq!(
        s.admin("DELETE", &format!("{base}/{cognito_id}"), None).status,
        202
    );
    assert_eq!(s.admin("DELETE", &method, None).status, 204);
    assert_eq!(s.admin("DELETE", &format!("{base}/{token_id}"), None).status, 202);
    s.admin("GET", &format!("{base}/{token_id}"), None)
        .assert_error(404, "NotFoundException");
    s.admin("DELETE", &format!("{base}/{token_id}"), None)
        .assert_error(404, "NotFoundException");

    // At most 10 per API (one left: `req`).
    for i in 0..9 {
        ok(
            s.admin("POST", &base, Some(token_authorizer(&format!("a{i}")))),
            201,
        );
    }
    s.admin("POST", &base, Some(token_authorizer("eleventh")))
        .assert_error(429, "LimitExceededException");
}

#[test]
fn gateway_responses_crud() {
    let s = Server::start();
    let (api, _) = create_api(&s);
    let base = format!("/restapis/{api}/gatewayresponses");

    let all = ok(s.admin("GET", &base, None), 200);
    let items = all["item"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 21);
    assert!(items.iter().all(|i| i["defaultResponse"] == true));
    let unauthorized = ok(s.admin("GET", &format!("{base}/UNAUTHORIZED"), None), 200);
    assert_eq!(
        unauthorized,
        json!({"responseType": "UNAUTHORIZED", "statusCode": "401", "responseParameters": {},
            "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"},
            "defaultResponse": true})
    );
    let d4 = ok(s.admin("GET", &format!("{base}/DEFAULT_4XX"), None), 200);
    assert!(d4.get("statusCode").is_none());

    // Put.
    let put = ok(
        s.admin(
            "PUT",
            &format!("{base}/UNAUTHORIZED"),
            Some(json!({
                "statusCode": "418",
                "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
                "responseTemplates": {"application/json": "{\"error\":$context.error.messageString}"},
            })),
        ),
        201,
    );
    assert_eq!(put["defaultResponse"], false);
    assert_eq!(put["statusCode"], "418");
    let got = ok(s.admin("GET", &format!("{base}/UNAUTHORIZED"), None), 200);
    assert_eq!(got, put);
    let all = ok(s.admin("GET", &base, None), 200);
    let customised: Vec<&Value> = all["item"]
        .as_array()
        .map(|v| v.iter().filter(|i| i["defaultResponse"] == false).collect())
        .unwrap_or_default();
    assert_eq!(customised.len(), 1);
    assert_eq!(customised[0]["responseType"], "UNAUTHORIZED");

    // Update an entry, and a type never customised.
    let u = ok(
        s.admin(
            "PATCH",
            &format!("{base}/UNAUTHORIZED"),
            patch(json!([
                {"op": "replace", "path": "/statusCode", "value": "401"},
                {"op": "add", "path": "/responseParameters/gatewayresponse.header.x-request", "value": "context.requestId"},
                {"op": "remove", "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin"},
                {"op": "replace", "path": "/responseTemplates/application~1json", "value": "{}"},
            ])),
        ),
        200,
    );
    assert_eq!(u["statusCode"], "401");
    assert_eq!(
        u["responseParameters"],
        json!({"gatewayresponse.header.x-request": "context.requestId"})
    );
    assert_eq!(u["responseTemplates"], json!({"application/json": "{}"}));
    let d5 = ok(
        s.admin(
            "PATCH",
            &format!("{base}/DEFAULT_5XX"),
            patch(json!([{"op": "replace", "path": "/statusCode", "value": "503"}])),
        ),
        200,
    );
    assert_eq!(
        (d5["statusCode"].clone(), d5["defaultResponse"].clone()),
        (json!("503"), json!(false))
    );

    // Checks.
    let r = s.admin("PUT", &format!("{base}/NOT_A_TYPE"), Some(json!({})));
    r.assert_error(400, "ValidationException");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("'responseType'")
    );
    s.admin("GET", &format!("{base}/NOT_A_TYPE"), None)
        .assert_error(400, "ValidationException");
    s.admin(
        "PUT",
        &format!("{base}/THROTTLED"),
        Some(json!({"statusCode": "999"})),
    )
    .assert_error(400, "BadRequestException");
    s.admin(
        "PUT",
        &format!("{base}/THROTTLED"),
        Some(json!({"responseParameters": {"gatewayresponse.header.x": "method.request.body"}})),
    )
    .assert_error(400, "BadRequestException");

    // Delete resets to the default.
    assert_eq!(
        s.admin("DELETE", &format!("{base}/UNAUTHORIZED"), None).status,
        202
    );
    assert_eq!(
        ok(s.admin("GET", &format!("{base}/UNAUTHORIZED"), None), 200),
        unauthorized
    );
}

#[test]
fn openapi_import_creates_authorizers_and_gateway_responses() {
    let s = Server::start();
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "secured", "version": "1"},
        "components": {"securitySchemes": {"tokenAuth": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "token",
                "authorizerUri": AUTH_URI,
                "authorizerResultTtlInSeconds": 0,
                "identityValidationExpression": "^[a-z-]+$"
            }
        }}},
        "x-amazon-apigateway-gateway-responses": {
            "UNAUTHORIZED": {
                "statusCode": 401,
                "responseParameters": {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
                "responseTemplates": {"application/json": "{\"message\":$context.error.messageString}"}
            }
        },
        "paths": {
            "/items": {"get": {
                "security": [{"tokenAuth": []}],
                "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": ECHO_URI}
            }},
            "/open": {"get": {
                "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": ECHO_URI}
            }}
        }
    });
    let body = serde_json::to_vec(&doc).unwrap_or_default();
    let r = common::request(
        "POST",
        &format!("{}/restapis?mode=import&failonwarnings=true", s.admin),
        &[],
        Some(&body),
    );
    let imported = ok(r, 201);
    assert!(imported.get("warnings").is_none(), "{imported}");
    let api = imported["id"].as_str().unwrap_or_default().to_string();

    let list = ok(s.admin("GET", &format!("/restapis/{api}/authorizers"), None), 200);
    let items = list["item"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{list}");
    let a = &items[0];
    assert_eq!(a["name"], "tokenAuth");
    assert_eq!(a["type"], "TOKEN");
    assert_eq!(a["authorizerUri"], AUTH_URI);
    assert_eq!(a["identitySource"], "method.request.header.Authorization");
    assert_eq!(a["authorizerResultTtlInSeconds"], 0);
    assert_eq!(a["identityValidationExpression"], "^[a-z-]+$");
    let auth_id = a["id"].as_str().unwrap_or_default().to_string();

    let resources = ok(
        s.admin("GET", &format!("/restapis/{api}/resources?embed=methods"), None),
        200,
    );
    let method_of = |path: &str| -> Value {
        resources["item"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["path"] == path))
            .map(|r| r["resourceMethods"]["GET"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(method_of("/items")["authorizationType"], "CUSTOM");
    assert_eq!(method_of("/items")["authorizerId"], auth_id.as_str());
    assert_eq!(method_of("/open")["authorizationType"], "NONE");

    let gr = ok(
        s.admin(
            "GET",
            &format!("/restapis/{api}/gatewayresponses/UNAUTHORIZED"),
            None,
        ),
        200,
    );
    assert_eq!(gr["defaultResponse"], false);
    assert_eq!(gr["statusCode"], "401");
    assert_eq!(
        gr["responseParameters"]["gatewayresponse.header.WWW-Authenticate"],
        "'Bearer'"
    );

    ok(
        s.admin(
            "POST",
            &format!("/restapis/{api}/deployments"),
            Some(json!({"stageName": "v1"})),
        ),
        201,
    );

    // PutRestApi (merge) with the same document keeps the authorizer's id.
    let r = common::request("PUT", &format!("{}/restapis/{api}", s.admin), &[], Some(&body));
    ok(r, 200);
    let list = ok(s.admin("GET", &format!("/restapis/{api}/authorizers"), None), 200);
    assert_eq!(list["item"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["item"][0]["id"], auth_id.as_str());
}
