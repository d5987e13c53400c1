//! A REST API built through the management API, for front-door tests: the
//! steps every test repeats (create the API, add resources, methods and
//! integrations, deploy a stage), each checked for AWS's status code, and
//! calls to its path-based invoke URL.

use serde_json::{Value, json};

use super::{Reply, Server};

/// The Lambda integration URI of `function` (AWS_PROXY and AWS).
pub fn lambda_uri(function: &str) -> String {
    format!(
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{function}/invocations"
    )
}

/// `base` with the top-level keys of `extra` added or replaced.
pub fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

pub struct RestApi<'a> {
    pub s: &'a Server,
    pub id: String,
    /// The root resource (`/`).
    pub root: String,
}

impl<'a> RestApi<'a> {
    /// CreateRestApi with `body` (at least a `name`).
    pub fn create(s: &'a Server, body: Value) -> RestApi<'a> {
        let r = s.admin("POST", "/restapis", Some(body));
        assert_eq!(r.status, 201, "{}", r.text());
        let v = r.json();
        let id = v["id"].as_str().expect("id").to_string();
        assert_eq!(id.len(), 10, "API ids are 10 characters: {id}");
        RestApi {
            s,
            id,
            root: v["rootResourceId"].as_str().expect("rootResourceId").to_string(),
        }
    }

    /// A management call under `/restapis/{id}`.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.s
            .admin(method, &format!("/restapis/{}{path}", self.id), body)
    }

    /// A management call that must answer `status`; its JSON (null when empty).
    pub fn ok(&self, method: &str, path: &str, body: Value, status: u16) -> Value {
        let r = self.admin(method, path, Some(body));
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
        if r.body.is_empty() { Value::Null } else { r.json() }
    }

    /// CreateResource `part` under `parent`; the new resource's id.
    pub fn resource(&self, parent: &str, part: &str) -> String {
        let v = self.ok(
            "POST",
            &format!("/resources/{parent}"),
            json!({ "pathPart": part }),
            201,
        );
        v["id"].as_str().expect("resource id").to_string()
    }

    /// PutMethod with `settings`, then PutIntegration with `integration`.
    pub fn method(&self, rid: &str, verb: &str, settings: Value, integration: Value) {
        let base = format!("/resources/{rid}/methods/{verb}");
        self.ok("PUT", &base, settings, 201);
        self.ok("PUT", &format!("{base}/integration"), integration, 201);
    }

    /// An unauthenticated `verb` on `rid` backed by `function` through AWS_PROXY.
    pub fn lambda_method(&self, rid: &str, verb: &str, function: &str) {
        self.method(
            rid,
            verb,
            json!({ "authorizationType": "NONE" }),
            json!({ "type": "AWS_PROXY", "httpMethod": "POST", "uri": lambda_uri(function) }),
        );
    }

    /// CreateDeployment onto `stage` with stage `variables`; the deployment id.
    pub fn deploy_with(&self, stage: &str, variables: Value) -> String {
        let v = self.ok(
            "POST",
            "/deployments",
            json!({ "stageName": stage, "variables": variables }),
            201,
        );
        v["id"].as_str().expect("deployment id").to_string()
    }

    /// CreateDeployment onto `stage`; the deployment id.
    pub fn deploy(&self, stage: &str) -> String {
        let v = self.ok("POST", "/deployments", json!({ "stageName": stage }), 201);
        v["id"].as_str().expect("deployment id").to_string()
    }

    /// The path-based invoke URL of `path` on `stage`.
    pub fn url(&self, stage: &str, path: &str) -> String {
        format!(
            "{}/restapis/{}/{stage}/_user_request_{path}",
            self.s.front, self.id
        )
    }

    /// Calls `path` on `stage` over HTTP.
    pub fn call(
        &self,
        method: &str,
        stage: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        super::request(method, &self.url(stage, path), headers, body)
    }
}
