//! Test calls of the management API. TestInvokeMethod runs a method of the
//! API as it stands (see [`crate::frontdoor::test_invoke`]).
//!
//! TestInvokeAuthorizer (`POST /restapis/{api}/authorizers/{id}`): runs an
//! authorizer as currently defined (not as deployed) against a request made
//! up from the call's headers, query string and stage variables, with the
//! methodArn AWS uses for test calls (`.../ESTestInvoke-stage/GET/`). The
//! answer says what a client would get (`clientStatus` 0 = authorized by
//! the function) and what the function returned.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiGwError, ApiGwResult};
use super::handlers::parse;
use super::model::RestApi;
use super::service::ApiGwService;
use crate::frontdoor::authorize::lambda::{self, IdentityInputs, StageAuthorizer};

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestInvokeAuthorizerInput {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    path_with_query_string: Option<String>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
}

const TEST_STAGE: &str = "ESTestInvoke-stage";

pub async fn test_invoke_authorizer(
    State(svc): State<Arc<ApiGwService>>,
    Path((api_id, authorizer_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let input: TestInvokeAuthorizerInput = parse(&body)?;
    let api = svc.get(&api_id)?;
    let authorizer = api
        .authorizers
        .get(&authorizer_id)
        .ok_or_else(|| ApiGwError::not_found("Invalid Authorizer identifier specified"))?;
    let compiled = StageAuthorizer::compile(authorizer, &input.stage_variables);

    let headers = header_map(&input.headers, &input.multi_value_headers);
    let path_and_query = input.path_with_query_string.as_deref().unwrap_or("/");
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let access = &svc.frontdoor.access;
    let method_arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{TEST_STAGE}/GET/{}",
        access.region,
        access.account,
        api.id,
        path.trim_start_matches('/')
    );
    let no_context = |_: &str| None;
    let started = Instant::now();
    let identity = lambda::read_identity(
        &compiled.identity,
        &IdentityInputs {
            headers: &headers,
            raw_query: query,
            stage_variables: &input.stage_variables,
            context: &no_context,
        },
    );
    let identity = match identity {
        Ok(i) => i,
        Err(_) => {
            return Ok(Json(json!({
                "clientStatus": 401,
                "log": "Unauthorized request: the identity source is missing or does not match identityValidationExpression",
                "latency": 0,
            })));
        }
    };
    let event = match &identity.token {
        Some(token) => lambda::token_event(token, &method_arn),
        None => request_event(
            &method_arn,
            path,
            query,
            &headers,
            &input.stage_variables,
            &api.id,
        ),
    };
    let outcome = access.invoke_authorizer(&compiled, &event).await;
    let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(Json(match outcome {
        Ok((result, _)) => json!({
            "clientStatus": 0,
            "log": format!("Execution of authorizer {} succeeded; principalId {}", authorizer.name, result.principal_id),
            "latency": latency,
            "principalId": result.principal_id,
            "policy": result.policy_text,
            "authorization": {},
            "claims": {},
        }),
        Err(denied) => {
            let status = denied.kind.default_status().unwrap_or(500);
            json!({
                "clientStatus": status,
                "log": format!("Execution of authorizer {} failed: {}", authorizer.name, denied.kind.as_str()),
                "latency": latency,
            })
        }
    }))
}

/// A REQUEST event for a test call (no real request behind it).
fn request_event(
    method_arn: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    stage_variables: &BTreeMap<String, String>,
    api_id: &str,
) -> Vec<u8> {
    let mut single = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    for (k, v) in headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        single.insert(k.as_str().to_string(), Value::from(v.clone()));
        if let Some(Value::Array(a)) = multi.get_mut(k.as_str()) {
            a.push(Value::from(v));
        } else {
            multi.insert(k.as_str().to_string(), json!([v]));
        }
    }
    let mut qs = serde_json::Map::new();
    let mut mqs = serde_json::Map::new();
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_encoding::percent_decode_str(k)
            .decode_utf8_lossy()
            .into_owned();
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        qs.insert(k.clone(), Value::from(v.clone()));
        if let Some(Value::Array(a)) = mqs.get_mut(&k) {
            a.push(Value::from(v));
        } else {
            mqs.insert(k, json!([v]));
        }
    }
    let nullable = |m: serde_json::Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    let event = json!({
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": nullable(single),
        "multiValueHeaders": nullable(multi),
        "queryStringParameters": nullable(qs),
        "multiValueQueryStringParameters": nullable(mqs),
        "pathParameters": {},
        "stageVariables": stage_variables,
        "requestContext": {
            "path": path,
            "stage": TEST_STAGE,
            "resourcePath": path,
            "httpMethod": "GET",
            "apiId": api_id,
            "requestId": uuid::Uuid::new_v4().to_string(),
        },
    });
    serde_json::to_vec(&event).unwrap_or_default()
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestInvokeMethodInput {
    path_with_query_string: Option<String>,
    body: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
}

/// TestInvokeMethod (`POST /restapis/{api}/resources/{rid}/methods/{m}`):
/// runs the method as the API stands now and answers `{status, body,
/// headers, multiValueHeaders, log, latency}`.
pub async fn test_invoke_method(
    State(svc): State<Arc<ApiGwService>>,
    Path((api_id, resource_id, http_method)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    use crate::frontdoor::test_invoke::{TestInvokeError, TestRequest, test_invoke};
    let input: TestInvokeMethodInput = parse(&body)?;
    let resource_not_found = || ApiGwError::not_found("Invalid Resource identifier specified");
    // AWS names the resource, not the API, when the API does not exist.
    let api = svc
        .get(&api_id)
        .map_err(|e| e.when_unknown_api(resource_not_found))?;
    let resource = api.resources.get(&resource_id).ok_or_else(resource_not_found)?;
    let method = resource
        .methods
        .get(&http_method)
        .or_else(|| resource.methods.get("ANY"))
        .ok_or_else(|| ApiGwError::not_found("Invalid Method identifier specified"))?;
    if method.integration.is_none() {
        return Err(ApiGwError::bad_request("No integration defined for method"));
    }
    let headers = header_map(&input.headers, &input.multi_value_headers);
    let default_path = RestApi::path_of(&api.resources, &resource_id).unwrap_or_else(|| "/".to_string());
    let deployment = super::handlers::draft(&api, None);
    let outcome = test_invoke(
        &svc.frontdoor,
        &deployment,
        TestRequest {
            api_id: api.id.clone(),
            http_method: http_method.clone(),
            resource_id,
            path_with_query_string: input.path_with_query_string.unwrap_or(default_path),
            headers,
            header_names: input
                .headers
                .keys()
                .chain(input.multi_value_headers.keys())
                .cloned()
                .collect(),
            body: Bytes::from(input.body.unwrap_or_default()),
            stage_variables: input.stage_variables,
        },
    )
    .await
    .map_err(|e| match e {
        TestInvokeError::NoMethod => ApiGwError::not_found("Invalid Method identifier specified"),
        TestInvokeError::Broken(why) => ApiGwError::bad_request(why),
    })?;
    let mut single = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    for (k, v) in &outcome.headers {
        // HTTP/1.1 names are case-insensitive and ours are stored lower
        // case; AWS's JSON shows them capitalised (`Content-Type`, `X-Id`).
        let name = crate::frontdoor::test_invoke::title_case(k.as_str());
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        single.insert(name.clone(), Value::from(v.clone()));
        match multi.get_mut(&name) {
            Some(Value::Array(a)) => a.push(Value::from(v)),
            _ => {
                multi.insert(name, json!([v]));
            }
        }
    }
    Ok(Json(json!({
        "status": outcome.status,
        "body": String::from_utf8_lossy(&outcome.body),
        "headers": single,
        "multiValueHeaders": multi,
        "log": outcome.log,
        "latency": outcome.latency_ms,
    })))
}

/// A test call's `headers` and `multiValueHeaders` as one header map.
fn header_map(single: &BTreeMap<String, String>, multi: &BTreeMap<String, Vec<String>>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let pairs = single
        .iter()
        .chain(multi.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k, v))));
    for (k, v) in pairs {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            headers.append(name, value);
        }
    }
    headers
}
