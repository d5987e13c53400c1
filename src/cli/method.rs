//! `portico api enable-cors` and `portico api test-invoke`: one method-level
//! step each, done through the management API as the console does it.
//!
//! enable-cors adds the REST CORS pattern to a resource: an `OPTIONS`
//! method with a MOCK integration (`{"statusCode": 200}`) whose 200
//! response declares and sets `Access-Control-Allow-Headers/-Methods/-Origin`;
//! `Access-Control-Allow-Origin` on the 200 response of every other
//! non-proxy method; and (unless told not to) the same header on the
//! DEFAULT_4XX and DEFAULT_5XX gateway responses, so errors carry it too.

use anyhow::{Result, bail};
use serde_json::{Value, json};
use ureq::http::Method;

use super::api::{api_path, list_items};
use super::client::{Client, Payload, encode};
use super::output::{out, out_json, s};

/// The headers the console allows by default.
pub const DEFAULT_ALLOW_HEADERS: &str =
    "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token";

/// What `enable-cors` sets.
pub struct CorsSettings<'a> {
    pub allow_origin: &'a str,
    pub allow_headers: &'a str,
    /// Methods to allow; None = every method of the resource, plus OPTIONS.
    pub allow_methods: Option<&'a str>,
    pub gateway_responses: bool,
}

/// Finds a resource by path (`/users/{id}`) or id.
fn resource(client: &Client, api: &str, wanted: &str) -> Result<Value> {
    let all = list_items(client, &api_path(api, "/resources"), &[("embed", "methods")])?;
    match all
        .into_iter()
        .find(|r| s(r, "path") == wanted || s(r, "id") == wanted)
    {
        Some(r) => Ok(r),
        None => bail!("REST API {api} has no resource {wanted} (give its path, e.g. /users, or its id)"),
    }
}

fn patch(client: &Client, path: &str, ops: Vec<Value>) -> Result<()> {
    client.call(
        Method::PATCH,
        path,
        &[],
        &[],
        Payload::Json(json!({ "patchOperations": ops })),
    )?;
    Ok(())
}

fn quoted(v: &str) -> String {
    format!("'{v}'")
}

pub fn enable_cors(
    client: &Client,
    api: &str,
    wanted: &str,
    cors: &CorsSettings<'_>,
    as_json: bool,
) -> Result<()> {
    let r = resource(client, api, wanted)?;
    let rid = s(&r, "id").to_string();
    let methods: Vec<String> = r
        .get("resourceMethods")
        .and_then(Value::as_object)
        .map(|m| m.keys().filter(|k| *k != "OPTIONS").cloned().collect())
        .unwrap_or_default();
    let allow_methods = match cors.allow_methods {
        Some(m) => m.to_string(),
        None => {
            let mut all: Vec<&str> = methods.iter().map(String::as_str).collect();
            if all.contains(&"ANY") {
                all = vec!["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"];
            }
            all.push("OPTIONS");
            all.join(",")
        }
    };
    let base = |m: &str| api_path(api, &format!("/resources/{}/methods/{}", encode(&rid), m));
    let header = |h: &str| format!("method.response.header.Access-Control-Allow-{h}");

    // The preflight: OPTIONS + MOCK.
    let options = base("OPTIONS");
    match client.get(&options, &[]) {
        Ok(_) => {}
        Err(e) if super::api::is_not_found(&e) => {
            client.put_json(&options, json!({ "authorizationType": "NONE" }))?;
        }
        Err(e) => return Err(e),
    }
    client.put_json(
        &format!("{options}/integration"),
        json!({
            "type": "MOCK",
            "requestTemplates": { "application/json": "{\"statusCode\": 200}" },
            "passthroughBehavior": "WHEN_NO_MATCH",
        }),
    )?;
    client.put_json(
        &format!("{options}/responses/200"),
        json!({
            "responseParameters": {
                header("Headers"): false,
                header("Methods"): false,
                header("Origin"): false,
            },
            "responseModels": { "application/json": "Empty" },
        }),
    )?;
    client.put_json(
        &format!("{options}/integration/responses/200"),
        json!({
            "responseParameters": {
                header("Headers"): quoted(cors.allow_headers),
                header("Methods"): quoted(&allow_methods),
                header("Origin"): quoted(cors.allow_origin),
            },
            "responseTemplates": { "application/json": "" },
        }),
    )?;

    // Allow-Origin on the real methods' 200 responses (non-proxy only:
    // a proxy integration's backend sends its own headers).
    let mut updated = Vec::new();
    for m in &methods {
        let method = r["resourceMethods"][m].clone();
        let kind = method["methodIntegration"]["type"].as_str().unwrap_or_default();
        if kind.ends_with("_PROXY") || kind.is_empty() {
            continue;
        }
        let path = base(m);
        let name = header("Origin");
        let escaped = name.replace('~', "~0").replace('/', "~1");
        match client.get(&format!("{path}/responses/200"), &[]) {
            Ok(_) => patch(
                client,
                &format!("{path}/responses/200"),
                vec![
                    json!({ "op": "add", "path": format!("/responseParameters/{escaped}"), "value": "false" }),
                ],
            )?,
            Err(e) if super::api::is_not_found(&e) => {
                client.put_json(
                    &format!("{path}/responses/200"),
                    json!({ "responseParameters": { name.clone(): false } }),
                )?;
            }
            Err(e) => return Err(e),
        }
        match client.get(&format!("{path}/integration/responses/200"), &[]) {
            Ok(_) => patch(
                client,
                &format!("{path}/integration/responses/200"),
                vec![
                    json!({ "op": "add", "path": format!("/responseParameters/{escaped}"), "value": quoted(cors.allow_origin) }),
                ],
            )?,
            Err(e) if super::api::is_not_found(&e) => {
                client.put_json(
                    &format!("{path}/integration/responses/200"),
                    json!({ "responseParameters": { name.clone(): quoted(cors.allow_origin) } }),
                )?;
            }
            Err(e) => return Err(e),
        }
        updated.push(m.clone());
    }

    if cors.gateway_responses {
        for kind in ["DEFAULT_4XX", "DEFAULT_5XX"] {
            client.put_json(
                &api_path(api, &format!("/gatewayresponses/{kind}")),
                json!({
                    "responseParameters": {
                        "gatewayresponse.header.Access-Control-Allow-Origin": quoted(cors.allow_origin),
                        "gatewayresponse.header.Access-Control-Allow-Headers": quoted(cors.allow_headers),
                        "gatewayresponse.header.Access-Control-Allow-Methods": quoted(&allow_methods),
                    },
                }),
            )?;
        }
    }
    if as_json {
        out_json(&json!({
            "resourceId": rid,
            "allowMethods": allow_methods,
            "allowHeaders": cors.allow_headers,
            "allowOrigin": cors.allow_origin,
            "updatedMethods": updated,
            "gatewayResponses": cors.gateway_responses,
        }));
    } else {
        out(&format!(
            "CORS enabled on {} ({rid}): OPTIONS answers Allow-Methods {allow_methods}, Allow-Origin {}",
            s(&r, "path"),
            cors.allow_origin
        ));
        if !updated.is_empty() {
            out(&format!(
                "  Access-Control-Allow-Origin added to: {}",
                updated.join(", ")
            ));
        }
        if cors.gateway_responses {
            out("  and to the DEFAULT_4XX / DEFAULT_5XX gateway responses");
        }
        out(&format!(
            "deploy to apply: portico api deploy --api {api} --stage NAME"
        ));
    }
    Ok(())
}

/// What `test-invoke` sends.
pub struct TestCall<'a> {
    pub method: &'a str,
    pub path_with_query: Option<&'a str>,
    pub body: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub stage_variables: &'a [(String, String)],
}

pub fn test_invoke(
    client: &Client,
    api: &str,
    wanted: &str,
    call: &TestCall<'_>,
    show_log: bool,
    as_json: bool,
) -> Result<()> {
    let r = resource(client, api, wanted)?;
    let mut body = json!({
        "headers": call.headers.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
        "stageVariables": call.stage_variables.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
    });
    if let Some(p) = call.path_with_query {
        body["pathWithQueryString"] = p.into();
    }
    if let Some(b) = call.body {
        body["body"] = b.into();
    }
    let path = api_path(
        api,
        &format!("/resources/{}/methods/{}", encode(s(&r, "id")), call.method),
    );
    let got = client.post_json(&path, body)?.json()?;
    if as_json {
        out_json(&got);
        return Ok(());
    }
    out(&format!(
        "status: {}  latency: {} ms",
        got["status"], got["latency"]
    ));
    if let Some(h) = got["headers"].as_object() {
        for (k, v) in h {
            out(&format!("{k}: {}", v.as_str().unwrap_or_default()));
        }
    }
    out("");
    out(got["body"].as_str().unwrap_or_default());
    if show_log {
        out("");
        out(got["log"].as_str().unwrap_or_default());
    }
    Ok(())
}
