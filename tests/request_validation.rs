//! Models and request validators end to end: managed through the API
//! Gateway API of a real server (AWS's status codes and wordings), then
//! enforced by the front door over HTTP before the `echo` function runs —
//! required parameters (missing, blank, reported order), bodies against
//! models with `$ref`s between them, parameters-only and body-only
//! validators, no validator, a customised BAD_REQUEST_BODY showing
//! `$context.error.validationErrorString`, and deployments keeping the
//! models they were made with. Also OpenAPI import of models and validators.

mod common;

use common::rest_api::{RestApi, lambda_uri, merged};
use common::{Reply, Server};
use serde_json::{Value, json};

/// An API of methods backed by `echo`, deployed to and called on `prod`.
struct Api<'a>(RestApi<'a>);

impl<'a> std::ops::Deref for Api<'a> {
    type Target = RestApi<'a>;
    fn deref(&self) -> &RestApi<'a> {
        &self.0
    }
}

impl<'a> Api<'a> {
    fn create(s: &'a Server, name: &str) -> Api<'a> {
        Api(RestApi::create(s, json!({ "name": name })))
    }

    fn model(&self, name: &str, schema: Value) {
        self.ok(
            "POST",
            "/models",
            json!({ "name": name, "contentType": "application/json", "schema": schema.to_string() }),
            201,
        );
    }

    fn model_url(&self, name: &str) -> String {
        format!(
            "https://apigateway.amazonaws.com/restapis/{}/models/{name}",
            self.id
        )
    }

    fn validator(&self, name: &str, body: bool, params: bool) -> String {
        let v = self.ok(
            "POST",
            "/requestvalidators",
            json!({ "name": name, "validateRequestBody": body, "validateRequestParameters": params }),
            201,
        );
        v["id"].as_str().unwrap_or_default().to_string()
    }

    /// A method backed by `echo` with the given PutMethod settings.
    fn method(&self, rid: &str, verb: &str, settings: Value) {
        self.0.method(
            rid,
            verb,
            merged(json!({ "authorizationType": "NONE" }), settings),
            json!({ "type": "AWS_PROXY", "httpMethod": "POST", "uri": lambda_uri("echo") }),
        );
    }

    fn deploy(&self) {
        self.0.deploy("prod");
    }

    fn call(&self, verb: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
        self.0.call(verb, "prod", path, headers, body.map(str::as_bytes))
    }
}

fn params(names: &[&str]) -> Value {
    Value::Object(names.iter().map(|n| (n.to_string(), Value::Bool(true))).collect())
}

/// Asserts a 400 BadRequestException with this message.
fn refused(r: &Reply, message: &str) {
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.header("x-amzn-ErrorType"), Some("BadRequestException"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), json!({ "message": message }));
}

/// Asserts the request reached `echo` and returns the event it saw.
fn reached(r: &Reply) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The API most tests call: models Owner and Pet (Pet `$ref`s Owner) and
/// three validators on a handful of resources.
fn pets_api(s: &Server) -> Api<'_> {
    let api = Api::create(s, "pets");
    api.model(
        "Owner",
        json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
               "required": ["name"], "properties": {"name": {"type": "string"}}}),
    );
    api.model(
        "Pet",
        json!({"type": "object", "required": ["kind", "owner"],
               "properties": {"kind": {"enum": ["dog", "cat"]}, "owner": {"$ref": api.model_url("Owner")}}}),
    );
    let all = api.validator("all", true, true);
    let only_params = api.validator("params", false, true);
    let only_body = api.validator("body", true, false);

    // /pets/{petId}: everything.
    let pets = api.resource(&api.root, "pets");
    let pet = api.resource(&pets, "{petId}");
    let mut p = params(&[
        "method.request.header.x-trace",
        "method.request.path.petId",
        "method.request.querystring.q",
    ]);
    p["method.request.querystring.optional"] = json!(false);
    api.method(
        &pet,
        "POST",
        json!({ "requestValidatorId": all, "requestParameters": p,
                "requestModels": { "application/json": "Pet" } }),
    );
    // /order/{id}: the reported order (a required path parameter the route
    // never has is always missing).
    let order = api.resource(&api.root, "order");
    let order_id = api.resource(&order, "{id}");
    api.method(
        &order_id,
        "GET",
        json!({ "requestValidatorId": only_params, "requestParameters": params(&[
            "method.request.querystring.qs1", "method.request.path.ghost", "method.request.path.id",
            "method.request.header.x-b", "method.request.header.x-a"]) }),
    );
    // /params: parameters only (the model is not checked).
    let r = api.resource(&api.root, "params");
    api.method(
        &r,
        "POST",
        json!({ "requestValidatorId": only_params,
                "requestParameters": params(&["method.request.header.h", "method.request.querystring.a", "method.request.querystring.b"]),
                "requestModels": { "application/json": "Pet" } }),
    );
    // /body: body only (the required header is not checked).
    let r = api.resource(&api.root, "body");
    api.method(
        &r,
        "POST",
        json!({ "requestValidatorId": only_body, "requestParameters": params(&["method.request.header.h"]),
                "requestModels": { "application/json": "Pet" } }),
    );
    // /free: no validator at all.
    let r = api.resource(&api.root, "free");
    api.method(
        &r,
        "POST",
        json!({ "requestParameters": params(&["method.request.header.h"]),
                "requestModels": { "application/json": "Pet" } }),
    );
    // /empty: body validation without request models (the Empty model).
    let r = api.resource(&api.root, "empty");
    api.method(&r, "POST", json!({ "requestValidatorId": only_body }));
    api.deploy();
    api
}

const DOG: &str = r#"{"kind":"dog","owner":{"name":"ann"}}"#;

#[test]
fn required_parameters() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = pets_api(&s);

    // Missing, in AWS's order: headers, path, query string, each by name.
    let r = api.call("GET", "/order/7", &[], None);
    refused(&r, "Missing required request parameters: [x-a, x-b, ghost, qs1]");
    let r = api.call("GET", "/order/7", &[("X-A", "1"), ("x-b", "2")], Some("")); // header names are case-insensitive
    refused(&r, "Missing required request parameters: [ghost, qs1]");

    // Blank counts as missing.
    let r = api.call("POST", "/params?a=1&b=", &[("h", " ")], Some(DOG));
    refused(&r, "Missing required request parameters: [h, b]");
    let r = api.call("POST", "/params?b&a=%20", &[("h", "x")], Some(DOG));
    refused(&r, "Missing required request parameters: [a, b]");
    let r = api.call("POST", "/params", &[], Some(DOG));
    refused(&r, "Missing required request parameters: [h, a, b]");

    // Present: the parameters-only validator lets any body through.
    let event = reached(&api.call("POST", "/params?a=1&b=2", &[("h", "x")], Some("not json")));
    assert_eq!(event["body"], "not json");

    // Parameters are checked before the body.
    let r = api.call("POST", "/pets/7", &[], Some("not json"));
    refused(&r, "Missing required request parameters: [x-trace, q]");
    // The optional one is not required; the path parameter is there.
    let event = reached(&api.call("POST", "/pets/7?q=1", &[("x-trace", "t")], Some(DOG)));
    assert_eq!(event["pathParameters"], json!({ "petId": "7" }));
    assert_eq!(event["body"], DOG);
}

#[test]
fn bodies_against_models() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = pets_api(&s);
    let h = [("x-trace", "t"), ("content-type", "application/json")];
    let call = |body: &str| api.call("POST", "/pets/1?q=1", &h, Some(body));

    reached(&call(DOG));
    for bad in [
        r#"{"kind":"fish","owner":{"name":"ann"}}"#, // not in the enum
        r#"{"kind":"dog","owner":{}}"#,              // the referenced Owner needs a name
        r#"{"kind":"dog"}"#,                         // owner missing
        r#"[1,2]"#,                                  // not an object
        "{oops",                                     // not JSON
        "",                                          // checked as {}
    ] {
        refused(&call(bad), "Invalid request body");
    }
    // Without a Content-Type the body counts as application/json.
    let r = api.call("POST", "/pets/1?q=1", &[("x-trace", "t")], Some("{}"));
    refused(&r, "Invalid request body");
    // A content type with no model (and no $default) is not checked.
    let r = api.call("POST", "/body", &[("content-type", "text/plain")], Some("hello"));
    assert_eq!(reached(&r)["body"], "hello");

    // Body-only validator: required parameters are not checked.
    reached(&api.call("POST", "/body", &[], Some(DOG)));
    refused(
        &api.call("POST", "/body", &[], Some("{}")),
        "Invalid request body",
    );

    // No validator: nothing is checked.
    reached(&api.call("POST", "/free", &[], Some("nonsense")));

    // No request models: JSON bodies must meet Empty (an object).
    reached(&api.call("POST", "/empty", &[], None));
    reached(&api.call("POST", "/empty", &[], Some(r#"{"anything":[1]}"#)));
    refused(
        &api.call("POST", "/empty", &[], Some("[1]")),
        "Invalid request body",
    );
}

#[test]
fn customised_bad_request_body_shows_the_validation_errors() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = pets_api(&s);
    api.ok(
        "PUT",
        "/gatewayresponses/BAD_REQUEST_BODY",
        json!({
            "statusCode": "422",
            "responseParameters": { "gatewayresponse.header.x-error-type": "context.error.responseType" },
            "responseTemplates": { "application/json":
                "{\"message\":$context.error.messageString,\"errors\":\"$context.error.validationErrorString\"}" }
        }),
        201,
    );
    api.ok(
        "PUT",
        "/gatewayresponses/BAD_REQUEST_PARAMETERS",
        json!({ "responseTemplates": { "application/json": "{\"why\":\"$context.error.validationErrorString\"}" } }),
        201,
    );
    // Gateway responses apply from the next deployment.
    refused(
        &api.call("POST", "/body", &[], Some("{}")),
        "Invalid request body",
    );
    api.deploy();

    let r = api.call("POST", "/body", &[], Some(r#"{"kind":"dog","owner":{}}"#));
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.header("x-error-type"), Some("BAD_REQUEST_BODY"));
    assert_eq!(
        r.text(),
        r#"{"message":"Invalid request body","errors":"[object has missing required properties (["name"])]"}"#
    );
    let r = api.call(
        "POST",
        "/body",
        &[],
        Some(r#"{"kind":"cow","owner":{"name":"x"}}"#),
    );
    assert!(
        r.text()
            .contains(r#"instance value ("cow") not found in enum (possible values: ["dog","cat"])"#),
        "{}",
        r.text()
    );

    let r = api.call("GET", "/order/1", &[], None);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        r#"{"why":"Missing required request parameters: [x-a, x-b, ghost, qs1]"}"#
    );
}

#[test]
fn deployments_keep_the_models_they_were_made_with() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let api = pets_api(&s);
    let strict = json!({"type": "object", "required": ["name", "age"]}).to_string();
    let r = api.admin(
        "PATCH",
        "/models/Owner",
        Some(json!({ "patchOperations": [{ "op": "replace", "path": "/schema", "value": strict }] })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["schema"], strict);
    // The stage still runs the old deployment.
    reached(&api.call("POST", "/body", &[], Some(DOG)));
    api.deploy();
    refused(&api.call("POST", "/body", &[], Some(DOG)), "Invalid request body");
    reached(&api.call(
        "POST",
        "/body",
        &[],
        Some(r#"{"kind":"dog","owner":{"name":"a","age":3}}"#),
    ));
}

#[test]
fn model_and_validator_management() {
    let s = Server::start();
    let api = Api::create(&s, "m");

    // New APIs come with Empty and Error.
    let r = api.admin("GET", "/models", None);
    assert_eq!(r.status, 200);
    let names: Vec<String> = r.json()["item"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["Empty", "Error"]);
    let r = api.admin("GET", "/models?limit=1", None);
    assert_eq!(r.json()["item"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.json()["position"], "1");

    // CreateModel's checks.
    let create = |name: &str, schema: &str| {
        api.admin(
            "POST",
            "/models",
            Some(json!({ "name": name, "contentType": "application/json", "schema": schema })),
        )
    };
    let r = create("a_b", "{}");
    r.assert_error(400, "BadRequestException");
    assert_eq!(r.json()["message"], "Model name must be alphanumeric: a_b");
    let r = create("Empty", r#"{"type":"object"}"#);
    r.assert_error(409, "ConflictException");
    assert_eq!(r.json()["message"], "Model name already exists for this REST API");
    for bad in ["{not json", r#"{"type":"objekt"}"#, r#"{"required":[]}"#] {
        let r = create("Bad", bad);
        r.assert_error(400, "BadRequestException");
        assert_eq!(
            r.json()["message"],
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
        );
    }
    let r = create("Bad", &json!({"$ref": api.model_url("Nope")}).to_string());
    assert_eq!(
        r.json()["message"],
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model specified: Nope]"
    );
    api.model(
        "Owner",
        json!({"type": "object", "properties": {"name": {"type": "string"}}}),
    );
    let pet = json!({"type": "object", "properties": {"owner": {"$ref": api.model_url("Owner")}}});
    let r = api.admin(
        "POST",
        "/models",
        Some(json!({ "name": "Pet", "description": "a pet", "contentType": "application/json", "schema": pet.to_string() })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["name"], "Pet");
    assert_eq!(created["description"], "a pet");
    assert_eq!(created["schema"], pet.to_string());
    assert_eq!(created["id"].as_str().map(str::len), Some(6));

    // GetModel, flatten, template, not found.
    let r = api.admin("GET", "/models/Pet?flatten=true", None);
    let flat: Value =
        serde_json::from_str(r.json()["schema"].as_str().unwrap_or_default()).unwrap_or_default();
    assert_eq!(
        flat["properties"]["owner"]["properties"]["name"]["type"],
        "string"
    );
    let r = api.admin("GET", "/models/Pet/default_template", None);
    assert_eq!(r.status, 200);
    let t = r.json()["value"].as_str().unwrap_or_default().to_string();
    assert!(t.contains("\"name\" : \"$inputRoot.owner.name\""), "{t}");
    let r = api.admin("GET", "/models/Nope", None);
    r.assert_error(404, "NotFoundException");
    assert_eq!(r.json()["message"], "Invalid model name specified: Nope");

    // Validators.
    let v = api.validator("both", true, true);
    let r = api.admin(
        "PATCH",
        &format!("/requestvalidators/{v}"),
        Some(json!({ "patchOperations": [{ "op": "replace", "path": "/validateRequestBody", "value": "false" }] })),
    );
    assert_eq!(
        r.json(),
        json!({ "id": v, "name": "both", "validateRequestBody": false, "validateRequestParameters": true })
    );
    let r = api.admin("GET", "/requestvalidators", None);
    assert_eq!(r.json()["item"].as_array().map(Vec::len), Some(1));
    let r = api.admin("GET", "/requestvalidators/nope00", None);
    r.assert_error(404, "NotFoundException");
    assert_eq!(
        r.json()["message"],
        "Invalid Request Validator identifier specified"
    );

    // Methods must name existing validators and models.
    let rid = api.resource(&api.root, "pets");
    let r = api.admin(
        "PUT",
        &format!("/resources/{rid}/methods/POST"),
        Some(json!({ "authorizationType": "NONE", "requestValidatorId": "nope00" })),
    );
    r.assert_error(400, "BadRequestException");
    assert_eq!(
        r.json()["message"],
        "Invalid Request Validator identifier specified"
    );
    let r = api.admin(
        "PUT",
        &format!("/resources/{rid}/methods/POST"),
        Some(json!({ "authorizationType": "NONE", "requestModels": { "application/json": "Nope" } })),
    );
    r.assert_error(400, "BadRequestException");
    assert_eq!(r.json()["message"], "Invalid model identifier specified: Nope");
    api.ok(
        "PUT",
        &format!("/resources/{rid}/methods/POST"),
        json!({ "authorizationType": "NONE" }),
        201,
    );
    let m = api.ok(
        "PATCH",
        &format!("/resources/{rid}/methods/POST"),
        json!({ "patchOperations": [
            { "op": "replace", "path": "/requestValidatorId", "value": v },
            { "op": "add", "path": "/requestModels/application~1json", "value": "Pet" }
        ] }),
        200,
    );
    assert_eq!(m["requestValidatorId"], v);
    assert_eq!(m["requestModels"], json!({ "application/json": "Pet" }));
    let r = api.admin(
        "PATCH",
        &format!("/resources/{rid}/methods/POST"),
        Some(json!({ "patchOperations": [{ "op": "replace", "path": "/requestModels/application~1json", "value": "Nope" }] })),
    );
    assert_eq!(r.json()["message"], "Invalid model identifier specified: Nope");

    // In use: neither can be deleted.
    let r = api.admin("DELETE", "/models/Pet", None);
    r.assert_error(409, "ConflictException");
    assert_eq!(
        r.json()["message"],
        "Cannot delete model 'Pet', is referenced in method request: /pets/POST"
    );
    let r = api.admin("DELETE", "/models/Owner", None);
    r.assert_error(409, "ConflictException");
    let r = api.admin("DELETE", &format!("/requestvalidators/{v}"), None);
    r.assert_error(409, "ConflictException");
    // Once unused they can.
    api.ok(
        "PATCH",
        &format!("/resources/{rid}/methods/POST"),
        json!({ "patchOperations": [
            { "op": "replace", "path": "/requestValidatorId", "value": "" },
            { "op": "remove", "path": "/requestModels/application~1json" }
        ] }),
        200,
    );
    assert_eq!(api.admin("DELETE", "/models/Pet", None).status, 202);
    assert_eq!(api.admin("DELETE", "/models/Owner", None).status, 202);
    assert_eq!(
        api.admin("DELETE", &format!("/requestvalidators/{v}"), None)
            .status,
        202
    );
    assert_eq!(api.admin("GET", "/models/Pet", None).status, 404);
}

#[test]
fn imported_models_and_validators_are_enforced() {
    let s = Server::start();
    s.deploy("echo", "echo");
    let doc = json!({
        "openapi": "3.0.1",
        "info": { "title": "imported", "version": "1" },
        "x-amazon-apigateway-request-validators": {
            "all": { "validateRequestBody": true, "validateRequestParameters": true }
        },
        "x-amazon-apigateway-request-validator": "all",
        "components": { "schemas": {
            "Owner": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } },
            "Pet": { "type": "object", "required": ["owner"], "properties": { "owner": { "$ref": "#/components/schemas/Owner" } } }
        } },
        "paths": { "/pets": { "post": {
            "parameters": [{ "name": "tenant", "in": "header", "required": true, "schema": { "type": "string" } }],
            "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Pet" } } } },
            "x-amazon-apigateway-integration": { "type": "aws_proxy", "httpMethod": "POST", "uri": lambda_uri("echo") }
        } } }
    });
    let r = common::request(
        "POST",
        &format!("{}/restapis?mode=import", s.admin),
        &[],
        Some(doc.to_string().as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.json().get("warnings").is_none(), "{}", r.text());
    let api = Api(RestApi {
        s: &s,
        id: r.json()["id"].as_str().unwrap_or_default().to_string(),
        root: String::new(),
    });
    let models = api.admin("GET", "/models", None).json();
    let names: Vec<&str> = models["item"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["Owner", "Pet"]);
    api.deploy();
    refused(
        &api.call("POST", "/pets", &[], Some("{}")),
        "Missing required request parameters: [tenant]",
    );
    refused(
        &api.call("POST", "/pets", &[("tenant", "t")], Some(r#"{"owner":{}}"#)),
        "Invalid request body",
    );
    reached(&api.call(
        "POST",
        "/pets",
        &[("tenant", "t")],
        Some(r#"{"owner":{"name":"ann"}}"#),
    ));
}
