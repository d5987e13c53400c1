//! API keys and usage plans over the management API: keys (given and
//! generated values, includeValue, name queries, updates), plans tied to
//! real API stages, plan keys and the one-plan-per-stage rule, usage and
//! UpdateUsage, and everything surviving a restart.

mod common;

use common::Server;
use serde_json::{Value, json};

/// An API whose root `GET` is a MOCK method with `apiKeyRequired`,
/// deployed to each of `stages`.
fn mock_api(s: &Server, name: &str, stages: &[&str]) -> String {
    let r = s.admin("POST", "/restapis", Some(json!({ "name": name })));
    assert_eq!(r.status, 201, "{}", r.text());
    let api = r.json();
    let id = api["id"].as_str().unwrap().to_string();
    let root = api["rootResourceId"].as_str().unwrap();
    let base = format!("/restapis/{id}/resources/{root}/methods/GET");
    let r = s.admin(
        "PUT",
        &base,
        Some(json!({"authorizationType": "NONE", "apiKeyRequired": true})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = s.admin(
        "PUT",
        &format!("{base}/integration"),
        Some(json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    s.admin("PUT", &format!("{base}/responses/200"), Some(json!({})));
    let r = s.admin(
        "PUT",
        &format!("{base}/integration/responses/200"),
        Some(json!({"responseTemplates": {"application/json": "{\"ok\": true}"}})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    for stage in stages {
        let r = s.admin(
            "POST",
            &format!("/restapis/{id}/deployments"),
            Some(json!({ "stageName": stage })),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    id
}

fn create_key(s: &Server, body: Value) -> Value {
    let r = s.admin("POST", "/apikeys", Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn create_plan(s: &Server, body: Value) -> Value {
    let r = s.admin("POST", "/usageplans", Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn add_key(s: &Server, plan: &str, key: &str) -> common::Reply {
    s.admin(
        "POST",
        &format!("/usageplans/{plan}/keys"),
        Some(json!({"keyId": key, "keyType": "API_KEY"})),
    )
}

fn patch(s: &Server, path: &str, ops: Value) -> common::Reply {
    s.admin("PATCH", path, Some(json!({ "patchOperations": ops })))
}

fn today() -> String {
    portico::usage::period::format_date(portico::usage::period::today())
}

#[test]
fn api_keys_lifecycle() {
    let s = Server::start();
    let given = "0123456789abcdefghijKLMNOP";
    let k = create_key(
        &s,
        json!({"name": "alpha-key", "description": "first", "value": given, "customerId": "cust-1", "tags": {"team": "a"}}),
    );
    assert_eq!(k["value"], given);
    assert_eq!(k["enabled"], false, "AWS creates keys disabled unless asked");
    assert_eq!(k["name"], "alpha-key");
    assert_eq!(k["customerId"], "cust-1");
    assert_eq!(k["stageKeys"], json!([]));
    assert_eq!(k["tags"], json!({"team": "a"}));
    assert!(k["createdDate"].is_i64() && k["lastUpdatedDate"].is_i64(), "{k}");
    let id = k["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 10);

    let g = create_key(&s, json!({"name": "beta-key", "enabled": true}));
    let generated = g["value"].as_str().unwrap();
    assert_eq!(generated.len(), 40);
    assert!(
        generated.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{generated}"
    );
    assert_eq!(g["enabled"], true);

    let r = s.admin("POST", "/apikeys", Some(json!({"value": "too-short"})));
    r.assert_error(400, "BadRequestException");
    assert_eq!(
        r.json()["message"],
        "API Key value should be at least 20 characters"
    );
    let r = s.admin("POST", "/apikeys", Some(json!({"name": "dup", "value": given})));
    r.assert_error(409, "ConflictException");
    assert_eq!(r.json()["message"], "API Key already exists");

    let got = s.admin("GET", &format!("/apikeys/{id}"), None).json();
    assert!(got.get("value").is_none(), "{got}");
    assert_eq!(got["description"], "first");
    let got = s
        .admin("GET", &format!("/apikeys/{id}?includeValue=true"), None)
        .json();
    assert_eq!(got["value"], given);

    let list = s.admin("GET", "/apikeys?name=alp", None).json();
    let items = list["item"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], id.as_str());
    assert!(items[0].get("value").is_none());
    let list = s
        .admin("GET", "/apikeys?includeValues=true&customerId=cust-1", None)
        .json();
    assert_eq!(list["item"][0]["value"], given);
    assert_eq!(list["item"].as_array().unwrap().len(), 1);
    let page = s.admin("GET", "/apikeys?limit=1", None).json();
    assert_eq!(page["item"].as_array().unwrap().len(), 1);
    let rest = s
        .admin(
            "GET",
            &format!("/apikeys?limit=1&position={}", page["position"].as_str().unwrap()),
            None,
        )
        .json();
    assert_eq!(rest["item"].as_array().unwrap().len(), 1);
    assert!(rest.get("position").is_none(), "{rest}");

    let r = patch(
        &s,
        &format!("/apikeys/{id}"),
        json!([
            {"op": "replace", "path": "/enabled", "value": "true"},
            {"op": "replace", "path": "/name", "value": "alpha-renamed"},
            {"op": "replace", "path": "/description", "value": "second"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["enabled"].clone(), v["name"].clone()),
        (json!(true), json!("alpha-renamed"))
    );
    assert!(v.get("value").is_none());
    patch(
        &s,
        &format!("/apikeys/{id}"),
        json!([{"op": "replace", "path": "/enabled", "value": "maybe"}]),
    )
    .assert_error(400, "BadRequestException");
    patch(
        &s,
        &format!("/apikeys/{id}"),
        json!([{"op": "add", "path": "/stages", "value": "nope/prod"}]),
    )
    .assert_error(404, "NotFoundException");
    patch(
        &s,
        &format!("/apikeys/{id}"),
        json!([{"op": "replace", "path": "/value", "value": "x"}]),
    )
    .assert_error(400, "BadRequestException");

    assert_eq!(s.admin("DELETE", &format!("/apikeys/{id}"), None).status, 202);
    s.admin("GET", &format!("/apikeys/{id}"), None)
        .assert_error(404, "NotFoundException");
    s.admin("DELETE", &format!("/apikeys/{id}"), None)
        .assert_error(404, "NotFoundException");
}

#[test]
fn usage_plans_stages_keys_and_usage() {
    let s = Server::start();
    let api = mock_api(&s, "metered", &["prod", "beta"]);

    let r = s.admin(
        "POST",
        "/usageplans",
        Some(json!({"name": "bad", "apiStages": [{"apiId": api, "stage": "nope"}]})),
    );
    r.assert_error(400, "BadRequestException");
    assert_eq!(r.json()["message"], format!("API Stage not found: {api}:nope"));
    s.admin(
        "POST",
        "/usageplans",
        Some(json!({"name": "bad", "apiStages": [{"apiId": "missing123", "stage": "prod"}]})),
    )
    .assert_error(404, "NotFoundException");
    s.admin(
        "POST",
        "/usageplans",
        Some(json!({"name": "bad", "quota": {"limit": 5, "period": "YEAR"}})),
    )
    .assert_error(400, "ValidationException");
    s.admin(
        "POST",
        "/usageplans",
        Some(json!({"name": "bad", "apiStages": [{"apiId": api, "stage": "prod", "throttle": {"pets": {"rateLimit": 1}}}]})),
    )
    .assert_error(400, "BadRequestException");

    let gold = create_plan(
        &s,
        json!({
            "name": "gold",
            "description": "the best",
            "apiStages": [{"apiId": api, "stage": "prod", "throttle": {"//GET": {"burstLimit": 5, "rateLimit": 2.5}}}],
            "throttle": {"burstLimit": 10, "rateLimit": 5},
            "quota": {"limit": 100, "offset": 0, "period": "DAY"},
            "tags": {"tier": "gold"},
        }),
    );
    let gold_id = gold["id"].as_str().unwrap().to_string();
    assert_eq!(gold_id.len(), 6);
    assert_eq!(
        gold["apiStages"],
        json!([{"apiId": api, "stage": "prod", "throttle": {"//GET": {"burstLimit": 5, "rateLimit": 2.5}}}])
    );
    assert_eq!(gold["throttle"], json!({"burstLimit": 10, "rateLimit": 5.0}));
    assert_eq!(gold["quota"], json!({"limit": 100, "offset": 0, "period": "DAY"}));
    assert_eq!(
        s.admin("GET", &format!("/usageplans/{gold_id}"), None).json(),
        gold
    );
    s.admin("GET", "/usageplans/nope00", None)
        .assert_error(404, "NotFoundException");

    let key = create_key(&s, json!({"name": "client-a", "enabled": true}));
    let key_id = key["id"].as_str().unwrap().to_string();
    let r = add_key(&s, &gold_id, &key_id);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"id": key_id, "type": "API_KEY", "value": key["value"], "name": "client-a"})
    );
    add_key(&s, &gold_id, &key_id).assert_error(409, "ConflictException");
    add_key(&s, &gold_id, "nokey00000").assert_error(404, "NotFoundException");
    let r = s.admin(
        "POST",
        &format!("/usageplans/{gold_id}/keys"),
        Some(json!({"keyId": key_id, "keyType": "COGNITO"})),
    );
    r.assert_error(400, "BadRequestException");

    // One plan per key and stage.
    let silver = create_plan(
        &s,
        json!({"name": "silver", "apiStages": [{"apiId": api, "stage": "prod"}]}),
    );
    let silver_id = silver["id"].as_str().unwrap().to_string();
    let r = add_key(&s, &silver_id, &key_id);
    r.assert_error(400, "BadRequestException");
    assert!(
        r.text()
            .contains("cannot reference multiple Usage Plans with the same API Stage"),
        "{}",
        r.text()
    );
    let bronze = create_plan(
        &s,
        json!({"name": "bronze", "apiStages": [{"apiId": api, "stage": "beta"}]}),
    );
    let bronze_id = bronze["id"].as_str().unwrap().to_string();
    assert_eq!(add_key(&s, &bronze_id, &key_id).status, 201);
    // ...which also holds when a stage is added to a plan that has the key.
    patch(
        &s,
        &format!("/usageplans/{bronze_id}"),
        json!([{"op": "add", "path": "/apiStages", "value": format!("{api}:prod")}]),
    )
    .assert_error(400, "BadRequestException");

    let keys = s
        .admin("GET", &format!("/usageplans/{gold_id}/keys"), None)
        .json();
    assert_eq!(keys["item"].as_array().unwrap().len(), 1);
    assert_eq!(keys["item"][0]["id"], key_id.as_str());
    let none = s
        .admin("GET", &format!("/usageplans/{gold_id}/keys?name=zzz"), None)
        .json();
    assert_eq!(none["item"], json!([]));
    let one = s
        .admin("GET", &format!("/usageplans/{gold_id}/keys/{key_id}"), None)
        .json();
    assert_eq!(one["value"], key["value"]);
    s.admin("GET", &format!("/usageplans/{silver_id}/keys/{key_id}"), None)
        .assert_error(404, "NotFoundException");
    let plans = s
        .admin("GET", &format!("/usageplans?keyId={key_id}"), None)
        .json();
    let mut names: Vec<&str> = plans["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["bronze", "gold"]);
    assert_eq!(
        s.admin("GET", "/usageplans", None).json()["item"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let r = patch(
        &s,
        &format!("/usageplans/{gold_id}"),
        json!([
            {"op": "replace", "path": "/throttle/rateLimit", "value": "50"},
            {"op": "replace", "path": "/quota/limit", "value": "500"},
            {"op": "replace", "path": "/quota/period", "value": "MONTH"},
            {"op": "replace", "path": format!("/apiStages/{api}:prod/throttle/~1pets/GET/rateLimit"), "value": "1"},
            {"op": "remove", "path": format!("/apiStages/{api}:prod/throttle///GET")},
            {"op": "replace", "path": "/description", "value": "better"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["throttle"], json!({"burstLimit": 10, "rateLimit": 50.0}));
    assert_eq!(v["quota"], json!({"limit": 500, "offset": 0, "period": "MONTH"}));
    assert_eq!(
        v["apiStages"][0]["throttle"],
        json!({"/pets/GET": {"burstLimit": 0, "rateLimit": 1.0}})
    );
    assert_eq!(v["description"], "better");
    patch(
        &s,
        &format!("/usageplans/{gold_id}"),
        json!([{"op": "replace", "path": "/quota/period", "value": "HOUR"}]),
    )
    .assert_error(400, "ValidationException");
    patch(
        &s,
        &format!("/usageplans/{gold_id}"),
        json!([{"op": "replace", "path": "/bogus", "value": "1"}]),
    )
    .assert_error(400, "BadRequestException");
    patch(
        &s,
        &format!("/usageplans/{silver_id}"),
        json!([{"op": "remove", "path": "/apiStages", "value": format!("{api}:beta")}]),
    )
    .assert_error(404, "NotFoundException");
    let v = patch(
        &s,
        &format!("/usageplans/{silver_id}"),
        json!([
            {"op": "add", "path": "/apiStages", "value": format!("{api}:beta")},
            {"op": "remove", "path": "/apiStages", "value": format!("{api}:prod")},
        ]),
    )
    .json();
    assert_eq!(v["apiStages"], json!([{"apiId": api, "stage": "beta"}]));

    // Usage: one [used, remaining] pair per day, and UpdateUsage.
    let day = today();
    let usage = s
        .admin(
            "GET",
            &format!("/usageplans/{gold_id}/usage?startDate={day}&endDate={day}"),
            None,
        )
        .json();
    assert_eq!(usage["usagePlanId"], gold_id.as_str());
    assert_eq!(usage["startDate"], day.as_str());
    assert_eq!(usage["values"][&key_id], json!([[0, 500]]));
    let r = patch(
        &s,
        &format!("/usageplans/{gold_id}/keys/{key_id}/usage"),
        json!([{"op": "replace", "path": "/remaining", "value": "42"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["values"][&key_id].as_array().unwrap().last(),
        Some(&json!([0, 42]))
    );
    let usage = s
        .admin(
            "GET",
            &format!("/usageplans/{gold_id}/usage?startDate={day}&endDate={day}&keyId={key_id}"),
            None,
        )
        .json();
    assert_eq!(usage["values"], json!({ key_id.as_str(): [[0, 42]] }));
    s.admin(
        "GET",
        &format!("/usageplans/{gold_id}/usage?startDate=2024-02-30&endDate={day}"),
        None,
    )
    .assert_error(400, "BadRequestException");
    s.admin(
        "GET",
        &format!("/usageplans/{gold_id}/usage?startDate={day}&endDate=2000-01-01"),
        None,
    )
    .assert_error(400, "BadRequestException");

    // Removing keys and plans.
    assert_eq!(
        s.admin("DELETE", &format!("/usageplans/{gold_id}/keys/{key_id}"), None)
            .status,
        202
    );
    s.admin("DELETE", &format!("/usageplans/{gold_id}/keys/{key_id}"), None)
        .assert_error(404, "NotFoundException");
    assert_eq!(
        add_key(&s, &silver_id, &key_id).status,
        400,
        "still in bronze for beta"
    );
    assert_eq!(s.admin("DELETE", &format!("/apikeys/{key_id}"), None).status, 202);
    let bronze_keys = s
        .admin("GET", &format!("/usageplans/{bronze_id}/keys"), None)
        .json();
    assert_eq!(
        bronze_keys["item"],
        json!([]),
        "deleting a key removes it from its plans"
    );
    assert_eq!(
        s.admin("DELETE", &format!("/usageplans/{gold_id}"), None).status,
        202
    );
    s.admin("GET", &format!("/usageplans/{gold_id}"), None)
        .assert_error(404, "NotFoundException");
}

#[test]
fn keys_plans_and_usage_survive_restart() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut s = Server::start_in(tmp.path(), &[]);
    let api = mock_api(&s, "durable", &["prod"]);
    let key = create_key(
        &s,
        json!({"name": "kept", "enabled": true, "value": "durable-key-value-0000000001"}),
    );
    let key_id = key["id"].as_str().unwrap().to_string();
    let plan = create_plan(
        &s,
        json!({"name": "kept", "apiStages": [{"apiId": api, "stage": "prod"}], "quota": {"limit": 10, "period": "WEEK"}}),
    );
    let plan_id = plan["id"].as_str().unwrap().to_string();
    assert_eq!(add_key(&s, &plan_id, &key_id).status, 201);
    let r = patch(
        &s,
        &format!("/usageplans/{plan_id}/keys/{key_id}/usage"),
        json!([{"op": "replace", "path": "/remaining", "value": "7"}]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let url = format!("{}/restapis/{api}/prod/_user_request_/", s.front);
    let call = |s: &Server| {
        let url = format!("{}/restapis/{api}/prod/_user_request_/", s.front);
        common::request(
            "GET",
            &url,
            &[("x-api-key", "durable-key-value-0000000001")],
            None,
        )
        .status
    };
    assert_eq!(common::request("GET", &url, &[], None).status, 403);
    assert_eq!((call(&s), call(&s)), (200, 200));
    // SIGTERM: the counts are written on the way out.
    s.stop();

    let s = Server::start_in(tmp.path(), &[]);
    let got = s
        .admin("GET", &format!("/apikeys/{key_id}?includeValue=true"), None)
        .json();
    assert_eq!(got["value"], "durable-key-value-0000000001");
    assert_eq!(got["enabled"], true);
    // GetUsagePlan answers `tags` even when empty (CreateUsagePlan does not).
    let mut expected = plan.clone();
    expected["tags"] = json!({});
    assert_eq!(
        s.admin("GET", &format!("/usageplans/{plan_id}"), None).json(),
        expected
    );
    let keys = s
        .admin("GET", &format!("/usageplans/{plan_id}/keys"), None)
        .json();
    assert_eq!(keys["item"][0]["id"], key_id.as_str());
    let day = today();
    let usage = s
        .admin(
            "GET",
            &format!("/usageplans/{plan_id}/usage?startDate={day}&endDate={day}"),
            None,
        )
        .json();
    assert_eq!(usage["values"][&key_id], json!([[2, 5]]));
    let statuses: Vec<u16> = (0..6).map(|_| call(&s)).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    // A crash (SIGKILL) loses at most the last second: counts older than a
    // flush interval are on disk.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(s);
    let s = Server::start_in(tmp.path(), &[]);
    let usage = s
        .admin(
            "GET",
            &format!("/usageplans/{plan_id}/usage?startDate={day}&endDate={day}"),
            None,
        )
        .json();
    assert_eq!(usage["values"][&key_id], json!([[7, 0]]));
    assert_eq!(call(&s), 429);
}

#[test]
fn front_door_meters_requests() {
    let s = Server::start();
    let api = mock_api(&s, "gated", &["prod"]);
    let value = "front-door-key-value-000001";
    let key = create_key(&s, json!({"name": "fd", "enabled": true, "value": value}));
    let key_id = key["id"].as_str().unwrap().to_string();
    let plan = create_plan(
        &s,
        json!({"name": "fd", "apiStages": [{"apiId": api, "stage": "prod"}], "quota": {"limit": 3, "period": "DAY"}}),
    );
    let plan_id = plan["id"].as_str().unwrap().to_string();
    assert_eq!(add_key(&s, &plan_id, &key_id).status, 201);
    let url = format!("{}/restapis/{api}/prod/_user_request_/", s.front);
    let call = |headers: &[(&str, &str)]| common::request("GET", &url, headers, None);
    let r = call(&[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["message"], "Forbidden");
    assert_eq!(call(&[("x-api-key", "wrong-key-value-000000000")]).status, 403);
    for _ in 0..3 {
        let r = call(&[("x-api-key", value)]);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = call(&[("x-api-key", value)]);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["message"], "Limit Exceeded");
    let day = today();
    let usage = s
        .admin(
            "GET",
            &format!("/usageplans/{plan_id}/usage?startDate={day}&endDate={day}"),
            None,
        )
        .json();
    assert_eq!(usage["values"][&key_id], json!([[3, 0]]));
    // A throttled request is refused before it reaches the quota.
    let slow = "front-door-key-value-000002";
    let k2 = create_key(&s, json!({"name": "slow", "enabled": true, "value": slow}));
    let p2 = create_plan(
        &s,
        json!({"name": "slow", "apiStages": [{"apiId": api, "stage": "prod"}], "throttle": {"burstLimit": 1, "rateLimit": 0.001}}),
    );
    assert_eq!(
        add_key(&s, p2["id"].as_str().unwrap(), k2["id"].as_str().unwrap()).status,
        201
    );
    assert_eq!(call(&[("x-api-key", slow)]).status, 200);
    let r = call(&[("x-api-key", slow)]);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["message"], "Too Many Requests");
    // Disabling the key takes effect at once.
    patch(
        &s,
        &format!("/apikeys/{key_id}"),
        json!([{"op": "replace", "path": "/enabled", "value": "false"}]),
    );
    assert_eq!(call(&[("x-api-key", value)]).status, 403);
}
