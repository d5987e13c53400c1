//! GetExport (`GET /restapis/{api}/stages/{stage}/exports/{swagger|oas30}`):
//! the deployment a stage serves, written back as a Swagger 2.0 or OpenAPI
//! 3.0.1 document the way API Gateway writes it — paths from the resource
//! tree, parameters from `method.request.*`, bodies and responses from
//! models, and with `extensions=apigateway` (or `integrations`) each
//! method's `x-amazon-apigateway-integration`. Shapes follow AWS's recorded
//! exports (LocalStack's validated test_export_* snapshots).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::error::{ApiGwError, ApiGwResult};
use super::model::{
    Authorizer, AuthorizerType, Deployment, Integration, IntegrationType, Method, RestApi, parse_model_url,
};
use super::service::ApiGwService;

/// The two document dialects an export can be written in.
#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Swagger2,
    OpenApi3,
}

impl Dialect {
    fn parse(export_type: &str) -> Option<Dialect> {
        match export_type {
            "swagger" => Some(Dialect::Swagger2),
            "oas30" => Some(Dialect::OpenApi3),
            _ => None,
        }
    }

    /// Where a model is referenced from inside the document.
    fn model_ref(self, name: &str) -> String {
        match self {
            Dialect::Swagger2 => format!("#/definitions/{name}"),
            Dialect::OpenApi3 => format!("#/components/schemas/{name}"),
        }
    }
}

pub async fn get_export(
    State(svc): State<Arc<ApiGwService>>,
    Path((api_id, stage, export_type)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiGwResult<Response> {
    let api = svc.get(&api_id)?;
    let stage = api
        .stages
        .get(&stage)
        .ok_or_else(|| ApiGwError::not_found("Invalid Stage identifier specified"))?;
    let dialect = Dialect::parse(&export_type).ok_or_else(|| {
        ApiGwError::bad_request(format!(
            "Invalid export type specified: {export_type}. Valid options are [oas30, swagger]"
        ))
    })?;
    let deployment = api
        .deployments
        .get(&stage.deployment_id)
        .ok_or_else(|| ApiGwError::not_found("Invalid Deployment identifier specified"))?;
    let extensions = q.get("extensions").is_some_and(|e| {
        e.split(',')
            .any(|x| matches!(x.trim(), "apigateway" | "integrations"))
    });
    let doc = Export {
        api: &api,
        deployment,
        stage: &stage.stage_name,
        region: &svc.region,
        dialect,
        extensions,
    }
    .document();
    let version = doc["info"]["version"].as_str().unwrap_or_default().to_string();
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let yaml = accept.contains("application/yaml");
    let (body, content_type) = if yaml {
        let text = serde_yaml::to_string(&doc)
            .map_err(|e| ApiGwError::bad_request(format!("Cannot write the export as YAML: {e}")))?;
        (text.into_bytes(), "application/yaml")
    } else {
        // AWS answers JSON as octet-stream, even to `Accept: application/json`
        // (which botocore sends).
        let bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        (bytes, "application/octet-stream")
    };
    let filename = format!(
        "attachment; filename=\"{export_type}_{version}.{}\"",
        if yaml { "yaml" } else { "json" }
    );
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&filename) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// One export being written.
struct Export<'a> {
    api: &'a RestApi,
    deployment: &'a Deployment,
    stage: &'a str,
    region: &'a str,
    dialect: Dialect,
    extensions: bool,
}

impl Export<'_> {
    fn document(&self) -> Value {
        let a = self.api;
        let mut info = Map::new();
        info.insert("title".into(), a.name.clone().into());
        if let Some(d) = &a.description {
            info.insert("description".into(), d.clone().into());
        }
        // Without a version, AWS writes the deployment's date.
        let version = a.version.clone().unwrap_or_else(|| {
            chrono::DateTime::from_timestamp(self.deployment.created_date, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default()
        });
        info.insert("version".into(), version.into());
        let host = format!("{}.execute-api.{}.amazonaws.com", a.id, self.region);
        let mut doc = Map::new();
        match self.dialect {
            Dialect::Swagger2 => {
                doc.insert("swagger".into(), "2.0".into());
                doc.insert("info".into(), Value::Object(info));
                doc.insert("host".into(), host.into());
                doc.insert("basePath".into(), format!("/{}", self.stage).into());
                doc.insert("schemes".into(), json!(["https"]));
            }
            Dialect::OpenApi3 => {
                doc.insert("openapi".into(), "3.0.1".into());
                doc.insert("info".into(), Value::Object(info));
                doc.insert(
                    "servers".into(),
                    json!([{
                        "url": format!("https://{host}/{{basePath}}"),
                        "variables": {"basePath": {"default": self.stage}}
                    }]),
                );
            }
        }
        doc.insert("paths".into(), Value::Object(self.paths()));
        let schemas = self.schemas();
        let security = self.security_schemes();
        match self.dialect {
            Dialect::Swagger2 => {
                if !security.is_empty() {
                    doc.insert("securityDefinitions".into(), Value::Object(security));
                }
                if !schemas.is_empty() {
                    doc.insert("definitions".into(), Value::Object(schemas));
                }
            }
            Dialect::OpenApi3 => {
                let mut components = Map::new();
                if !schemas.is_empty() {
                    components.insert("schemas".into(), Value::Object(schemas));
                }
                if !security.is_empty() {
                    components.insert("securitySchemes".into(), Value::Object(security));
                }
                if !components.is_empty() {
                    doc.insert("components".into(), Value::Object(components));
                }
            }
        }
        if self.extensions {
            self.api_extensions(&mut doc);
        }
        Value::Object(doc)
    }

    fn methods(&self) -> impl Iterator<Item = &Method> {
        self.deployment
            .resources
            .values()
            .flat_map(|r| r.methods.values())
    }

    /// The API-wide extensions an import reads back: binary media types,
    /// where API keys come from, the resource policy, request validators
    /// and customised gateway responses.
    fn api_extensions(&self, doc: &mut Map<String, Value>) {
        let d = self.deployment;
        if !d.binary_media_types.is_empty() {
            doc.insert(
                "x-amazon-apigateway-binary-media-types".into(),
                json!(d.binary_media_types),
            );
        }
        if d.api_key_source != "HEADER" {
            doc.insert(
                "x-amazon-apigateway-api-key-source".into(),
                d.api_key_source.clone().into(),
            );
        }
        if let Some(policy) = d
            .policy
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
        {
            doc.insert("x-amazon-apigateway-policy".into(), policy);
        }
        let validators: Map<String, Value> = d
            .request_validators
            .values()
            .filter_map(|v| {
                Some((
                    v.name.clone()?,
                    json!({
                        "validateRequestBody": v.validate_request_body,
                        "validateRequestParameters": v.validate_request_parameters,
                    }),
                ))
            })
            .collect();
        if !validators.is_empty() {
            doc.insert(
                "x-amazon-apigateway-request-validators".into(),
                Value::Object(validators),
            );
        }
        let responses: Map<String, Value> = d
            .gateway_responses
            .values()
            .map(|r| {
                let mut out = Map::new();
                if let Some(code) = &r.status_code {
                    out.insert("statusCode".into(), code.clone().into());
                }
                if !r.response_parameters.is_empty() {
                    out.insert("responseParameters".into(), json!(r.response_parameters));
                }
                if !r.response_templates.is_empty() {
                    out.insert("responseTemplates".into(), json!(r.response_templates));
                }
                (r.response_type.clone(), Value::Object(out))
            })
            .collect();
        if !responses.is_empty() {
            doc.insert(
                "x-amazon-apigateway-gateway-responses".into(),
                Value::Object(responses),
            );
        }
    }

    /// `api_key`, `sigv4` and one scheme per authorizer the methods use;
    /// with the extensions, each authorizer's definition, so an import of
    /// the export restores it.
    fn security_schemes(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if self.methods().any(|m| m.api_key_required) {
            out.insert(
                "api_key".into(),
                json!({"type": "apiKey", "name": "x-api-key", "in": "header"}),
            );
        }
        if self.methods().any(|m| m.authorization_type == "AWS_IAM") {
            let mut sigv4 = json!({"type": "apiKey", "name": "Authorization", "in": "header"});
            if self.extensions {
                sigv4["x-amazon-apigateway-authtype"] = "awsSigv4".into();
            }
            out.insert("sigv4".into(), sigv4);
        }
        for a in self.used_authorizers() {
            out.insert(a.name.clone(), self.authorizer_scheme(a));
        }
        out
    }

    fn used_authorizers(&self) -> impl Iterator<Item = &Authorizer> {
        let used: BTreeSet<&str> = self
            .methods()
            .filter_map(|m| m.authorizer_id.as_deref())
            .collect();
        self.deployment
            .authorizers
            .values()
            .filter(move |a| used.contains(a.id.as_str()))
    }

    fn authorizer_scheme(&self, a: &Authorizer) -> Value {
        let header = a
            .identity_source
            .as_deref()
            .and_then(|s| s.strip_prefix("method.request.header."))
            .filter(|_| a.authorizer_type != AuthorizerType::Request);
        let mut scheme = json!({"type": "apiKey", "name": header.unwrap_or("Unused"), "in": "header"});
        if !self.extensions {
            return scheme;
        }
        let (kind, default_auth_type) = match a.authorizer_type {
            AuthorizerType::Token => ("token", "custom"),
            AuthorizerType::Request => ("request", "custom"),
            AuthorizerType::CognitoUserPools => ("cognito_user_pools", "cognito_user_pools"),
        };
        scheme["x-amazon-apigateway-authtype"] = a.auth_type.as_deref().unwrap_or(default_auth_type).into();
        let mut def = Map::new();
        def.insert("type".into(), kind.into());
        if !a.provider_arns.is_empty() {
            def.insert("providerARNs".into(), json!(a.provider_arns));
        }
        for (key, value) in [
            ("authorizerUri", &a.authorizer_uri),
            ("authorizerCredentials", &a.authorizer_credentials),
            ("identityValidationExpression", &a.identity_validation_expression),
        ] {
            if let Some(v) = value {
                def.insert(key.into(), v.clone().into());
            }
        }
        if a.authorizer_type == AuthorizerType::Request
            && let Some(source) = &a.identity_source
        {
            def.insert("identitySource".into(), source.clone().into());
        }
        if let Some(ttl) = a.authorizer_result_ttl_in_seconds {
            def.insert("authorizerResultTtlInSeconds".into(), ttl.into());
        }
        scheme["x-amazon-apigateway-authorizer"] = Value::Object(def);
        scheme
    }

    /// One path item per resource that has methods, by path.
    fn paths(&self) -> Map<String, Value> {
        let resources = &self.deployment.resources;
        let mut by_path: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        for r in resources.values().filter(|r| !r.methods.is_empty()) {
            let Some(path) = RestApi::path_of(resources, &r.id) else {
                continue;
            };
            let item = by_path.entry(path).or_default();
            for (verb, m) in &r.methods {
                let key = match verb.as_str() {
                    "ANY" => "x-amazon-apigateway-any-method".to_string(),
                    other => other.to_ascii_lowercase(),
                };
                item.insert(key, self.operation(m));
            }
        }
        by_path
            .into_iter()
            .map(|(path, item)| (path, Value::Object(item)))
            .collect()
    }

    fn operation(&self, m: &Method) -> Value {
        let d = self.dialect;
        let mut op = Map::new();
        if let Some(name) = &m.operation_name {
            op.insert("operationId".into(), name.clone().into());
        }
        let integration = m.integration.as_ref();
        if d == Dialect::Swagger2 {
            // The media types a method takes and gives: its models' and its
            // templates'.
            let consumes: BTreeSet<&String> = m
                .request_models
                .keys()
                .chain(integration.into_iter().flat_map(|i| i.request_templates.keys()))
                .collect();
            let produces: BTreeSet<&String> = m
                .method_responses
                .values()
                .flat_map(|r| r.response_models.keys())
                .chain(
                    integration
                        .into_iter()
                        .flat_map(|i| i.integration_responses.values())
                        .flat_map(|r| r.response_templates.keys()),
                )
                .collect();
            if !consumes.is_empty() {
                op.insert("consumes".into(), json!(consumes));
            }
            if !produces.is_empty() {
                op.insert("produces".into(), json!(produces));
            }
        }
        let mut parameters = self.parameters(m);
        if let Some((content_type, model)) = m.request_models.iter().next() {
            match d {
                Dialect::Swagger2 => parameters.push(json!({
                    "in": "body",
                    "name": model,
                    "required": true,
                    "schema": {"$ref": d.model_ref(model)}
                })),
                Dialect::OpenApi3 => {
                    op.insert(
                        "requestBody".into(),
                        json!({
                            "content": {content_type.as_str(): {"schema": {"$ref": d.model_ref(model)}}},
                            "required": true
                        }),
                    );
                }
            }
        }
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        op.insert("responses".into(), Value::Object(self.responses(m)));
        let security = self.security(m);
        if !security.is_empty() {
            op.insert("security".into(), Value::Array(security));
        }
        if self.extensions {
            if let Some(validator) = m
                .request_validator_id
                .as_deref()
                .and_then(|id| self.deployment.request_validators.get(id))
                .and_then(|v| v.name.clone())
            {
                op.insert("x-amazon-apigateway-request-validator".into(), validator.into());
            }
            if let Some(i) = integration {
                op.insert("x-amazon-apigateway-integration".into(), integration_extension(i));
            }
        }
        Value::Object(op)
    }

    /// One requirement per scheme the method needs (API key, IAM, its
    /// authorizer with its OAuth scopes), as AWS lists them.
    fn security(&self, m: &Method) -> Vec<Value> {
        let mut out = Vec::new();
        if m.api_key_required {
            out.push(json!({ "api_key": [] }));
        }
        match m.authorization_type.as_str() {
            "AWS_IAM" => out.push(json!({ "sigv4": [] })),
            "CUSTOM" | "COGNITO_USER_POOLS" => {
                if let Some(a) = m
                    .authorizer_id
                    .as_deref()
                    .and_then(|id| self.deployment.authorizers.get(id))
                {
                    out.push(json!({ a.name.clone(): m.authorization_scopes }));
                }
            }
            _ => {}
        }
        out
    }

    /// `method.request.{path|querystring|header}.name` as parameters, path
    /// ones first.
    fn parameters(&self, m: &Method) -> Vec<Value> {
        let mut out = Vec::new();
        for location in ["path", "querystring", "header"] {
            let prefix = format!("method.request.{location}.");
            for (expr, required) in &m.request_parameters {
                let Some(name) = expr.strip_prefix(&prefix) else {
                    continue;
                };
                let place = if location == "querystring" {
                    "query"
                } else {
                    location
                };
                let required = *required || location == "path";
                let mut p = Map::new();
                p.insert("name".into(), name.into());
                p.insert("in".into(), place.into());
                match self.dialect {
                    Dialect::Swagger2 => {
                        p.insert("required".into(), required.into());
                        p.insert("type".into(), "string".into());
                    }
                    Dialect::OpenApi3 => {
                        if required {
                            p.insert("required".into(), true.into());
                        }
                        p.insert("schema".into(), json!({"type": "string"}));
                    }
                }
                out.push(Value::Object(p));
            }
        }
        out
    }

    fn responses(&self, m: &Method) -> Map<String, Value> {
        let d = self.dialect;
        m.method_responses
            .values()
            .map(|r| {
                let mut out = Map::new();
                out.insert("description".into(), format!("{} response", r.status_code).into());
                let headers: Map<String, Value> = r
                    .response_parameters
                    .keys()
                    .filter_map(|p| p.strip_prefix("method.response.header."))
                    .map(|h| {
                        let schema = match d {
                            Dialect::Swagger2 => json!({"type": "string"}),
                            Dialect::OpenApi3 => json!({"schema": {"type": "string"}}),
                        };
                        (h.to_string(), schema)
                    })
                    .collect();
                match d {
                    Dialect::Swagger2 => {
                        if let Some(model) = r.response_models.values().next() {
                            out.insert("schema".into(), json!({"$ref": d.model_ref(model)}));
                        }
                        if !headers.is_empty() {
                            out.insert("headers".into(), Value::Object(headers));
                        }
                    }
                    Dialect::OpenApi3 => {
                        if !headers.is_empty() {
                            out.insert("headers".into(), Value::Object(headers));
                        }
                        let content: Map<String, Value> = r
                            .response_models
                            .iter()
                            .map(|(ct, model)| (ct.clone(), json!({"schema": {"$ref": d.model_ref(model)}})))
                            .collect();
                        out.insert("content".into(), Value::Object(content));
                    }
                }
                (r.status_code.clone(), Value::Object(out))
            })
            .collect()
    }

    /// Every deployed model's schema, with model URLs turned into local
    /// references and `$schema` left out, as AWS exports them.
    fn schemas(&self) -> Map<String, Value> {
        self.deployment
            .models
            .values()
            .map(|m| {
                let mut schema = m
                    .schema
                    .as_deref()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .unwrap_or_else(|| json!({}));
                if let Some(o) = schema.as_object_mut() {
                    o.remove("$schema");
                }
                localize_refs(&mut schema, self.dialect);
                (m.name.clone(), schema)
            })
            .collect()
    }
}

/// Model URLs (`https://apigateway.amazonaws.com/restapis/{api}/models/X`)
/// become `#/definitions/X` or `#/components/schemas/X`.
fn localize_refs(v: &mut Value, d: Dialect) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "$ref"
                    && let Some(url) = child.as_str()
                    && let Some((_, name)) = parse_model_url(url)
                {
                    *child = d.model_ref(name).into();
                } else {
                    localize_refs(child, d);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| localize_refs(x, d)),
        _ => {}
    }
}

/// `x-amazon-apigateway-integration` as AWS writes it: lower-case type and
/// passthrough behaviour, responses keyed by selection pattern (`default`
/// for none), the default timeout left out.
fn integration_extension(i: &Integration) -> Value {
    let mut x = Map::new();
    let kind = match i.integration_type {
        IntegrationType::Aws => "aws",
        IntegrationType::AwsProxy => "aws_proxy",
        IntegrationType::Http => "http",
        IntegrationType::HttpProxy => "http_proxy",
        IntegrationType::Mock => "mock",
    };
    if i.integration_type != IntegrationType::Mock {
        if let Some(m) = &i.http_method {
            x.insert("httpMethod".into(), m.clone().into());
        }
        if let Some(u) = &i.uri {
            x.insert("uri".into(), u.clone().into());
        }
    }
    if let Some(c) = &i.credentials {
        x.insert("credentials".into(), c.clone().into());
    }
    if !i.integration_responses.is_empty() {
        let responses: Map<String, Value> = i
            .integration_responses
            .values()
            .map(|r| {
                let mut out = Map::new();
                out.insert("statusCode".into(), r.status_code.clone().into());
                if !r.response_parameters.is_empty() {
                    out.insert("responseParameters".into(), json!(r.response_parameters));
                }
                if !r.response_templates.is_empty() {
                    out.insert("responseTemplates".into(), json!(r.response_templates));
                }
                if let Some(c) = &r.content_handling {
                    out.insert("contentHandling".into(), c.clone().into());
                }
                let key = r
                    .selection_pattern
                    .clone()
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "default".to_string());
                (key, Value::Object(out))
            })
            .collect();
        x.insert("responses".into(), Value::Object(responses));
    }
    if !i.request_parameters.is_empty() {
        x.insert("requestParameters".into(), json!(i.request_parameters));
    }
    if !i.request_templates.is_empty() {
        x.insert("requestTemplates".into(), json!(i.request_templates));
    }
    if let Some(p) = &i.passthrough_behavior {
        x.insert("passthroughBehavior".into(), p.to_ascii_lowercase().into());
    }
    if let Some(c) = &i.content_handling {
        x.insert("contentHandling".into(), c.clone().into());
    }
    if i.timeout_in_millis != 29_000 {
        x.insert("timeoutInMillis".into(), i.timeout_in_millis.into());
    }
    if !i.cache_key_parameters.is_empty() {
        x.insert("cacheKeyParameters".into(), json!(i.cache_key_parameters));
    }
    x.insert("type".into(), kind.into());
    Value::Object(x)
}
