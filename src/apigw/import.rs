//! ImportRestApi and PutRestApi: an OpenAPI document (parsed by
//! [`super::openapi`]) becomes the API's resource tree, methods and
//! integrations, as AWS builds them.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::authorizers::{self, AuthorizerInput, MAX_AUTHORIZERS};
use super::error::{ApiGwError, ApiGwResult};
use super::gateway_responses;
use super::handlers::{add_child, build_integration, check_http_method, new_rest_api};
use super::model::{GatewayResponse, IntegrationResponse, Method, MethodResponse, Resource, RestApi, new_id};
use super::openapi::{self, ImportedApi};
use super::service::ApiGwService;
use super::wire;

fn parse_doc(body: &[u8]) -> ApiGwResult<ImportedApi> {
    openapi::parse(body).map_err(|e| ApiGwError::bad_request(e.0))
}

fn fail_on_warnings(q: &HashMap<String, String>, doc: &ImportedApi) -> ApiGwResult<()> {
    if q.get("failonwarnings").is_some_and(|v| v == "true") && !doc.warnings.is_empty() {
        return Err(ApiGwError::bad_request(format!(
            "Warnings found during import:\n{}",
            doc.warnings.join("\n")
        )));
    }
    Ok(())
}

/// Finds or creates the resource for a full path, returning its id.
fn ensure_path(resources: &mut BTreeMap<String, Resource>, root: &str, path: &str) -> ApiGwResult<String> {
    let mut current = root.to_string();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let existing = resources
            .values()
            .find(|r| {
                r.parent_id.as_deref() == Some(current.as_str()) && r.path_part.as_deref() == Some(part)
            })
            .map(|r| r.id.clone());
        current = match existing {
            Some(id) => id,
            None => add_child(resources, &current, part)?,
        };
    }
    Ok(current)
}

/// The authorizer a security scheme's `x-amazon-apigateway-authorizer`
/// declares (`type` is lower case in OpenAPI; a TOKEN or Cognito scheme
/// `in: header` names the identity header when `identitySource` is absent).
fn imported_authorizer(
    scheme: &str,
    value: &Value,
    header: Option<&str>,
    id: String,
) -> ApiGwResult<super::model::Authorizer> {
    let bad = |message: &str| {
        ApiGwError::bad_request(format!(
            "Invalid authorizer definition for security scheme '{scheme}': {message}"
        ))
    };
    let mut input: AuthorizerInput =
        serde_json::from_value(value.clone()).map_err(|e| bad(&e.to_string()))?;
    input.name = Some(scheme.to_string());
    let kind = input
        .authorizer_type
        .as_deref()
        .unwrap_or("token")
        .to_ascii_uppercase();
    if input.identity_source.is_none()
        && (kind == "TOKEN" || kind == "COGNITO_USER_POOLS")
        && let Some(h) = header
    {
        input.identity_source = Some(format!("method.request.header.{h}"));
    }
    input.authorizer_type = Some(kind);
    authorizers::build(input, id).map_err(|e| bad(&e.message))
}

/// Creates (or, by name, updates) the document's authorizers; returns
/// scheme name → authorizer id.
fn apply_authorizers(api: &mut RestApi, doc: &ImportedApi) -> ApiGwResult<HashMap<String, String>> {
    let mut ids = HashMap::new();
    for (scheme, value, header) in &doc.authorizers {
        let existing = api
            .authorizers
            .values()
            .find(|a| a.name == *scheme)
            .map(|a| a.id.clone());
        let id = match existing {
            Some(id) => id,
            None if api.authorizers.len() >= MAX_AUTHORIZERS => {
                return Err(ApiGwError::bad_request(format!(
                    "Cannot import authorizer '{scheme}': the maximum number of authorizers ({MAX_AUTHORIZERS}) for this REST API has been reached"
                )));
            }
            None => new_id(6),
        };
        let a = imported_authorizer(scheme, value, header.as_deref(), id.clone())?;
        api.authorizers.insert(id.clone(), a);
        ids.insert(scheme.clone(), id);
    }
    Ok(ids)
}

fn apply_gateway_responses(api: &mut RestApi, doc: &ImportedApi) -> ApiGwResult<()> {
    for (kind, r) in &doc.gateway_responses {
        let t = gateway_responses::response_type(kind).map_err(|e| {
            ApiGwError::bad_request(format!(
                "Invalid gateway response in x-amazon-apigateway-gateway-responses: {}",
                e.message
            ))
        })?;
        let response = GatewayResponse {
            response_type: t.as_str().to_string(),
            status_code: r.status_code.clone(),
            response_parameters: r.response_parameters.clone(),
            response_templates: r.response_templates.clone(),
        };
        gateway_responses::check(&response).map_err(|e| {
            ApiGwError::bad_request(format!("Invalid gateway response {kind}: {}", e.message))
        })?;
        api.gateway_responses
            .insert(response.response_type.clone(), response);
    }
    Ok(())
}

/// Applies a document to an API (merge keeps what the document does not
/// mention; overwrite replaces the resource tree, authorizers and gateway
/// responses).
fn apply(api: &mut RestApi, doc: &ImportedApi, overwrite: bool) -> ApiGwResult<()> {
    if overwrite {
        api.authorizers.clear();
        api.gateway_responses.clear();
        let root = api.root_resource_id.clone();
        api.resources.retain(|id, _| *id == root);
        if let Some(r) = api.resources.get_mut(&root) {
            r.methods.clear();
        }
        api.binary_media_types.clear();
    }
    if let Some(t) = &doc.title {
        api.name = t.clone();
    }
    if doc.description.is_some() {
        api.description = doc.description.clone();
    }
    if doc.version.is_some() {
        api.version = doc.version.clone();
    }
    for t in &doc.binary_media_types {
        if !api.binary_media_types.contains(t) {
            api.binary_media_types.push(t.clone());
        }
    }
    if let Some(s) = &doc.api_key_source {
        api.api_key_source = s.clone();
    }
    if let Some(p) = &doc.policy {
        api.policy = Some(p.to_string());
    }
    let authorizer_ids = apply_authorizers(api, doc)?;
    apply_gateway_responses(api, doc)?;
    let root = api.root_resource_id.clone();
    for res in &doc.resources {
        let rid = ensure_path(&mut api.resources, &root, &res.path)?;
        for m in &res.methods {
            check_http_method(&m.http_method)?;
            let authorizer_id = match &m.authorizer_name {
                None => None,
                Some(name) => Some(authorizer_ids.get(name).cloned().ok_or_else(|| {
                    ApiGwError::bad_request(format!(
                        "Security scheme '{name}' on {} {} has no x-amazon-apigateway-authorizer",
                        m.http_method, res.path
                    ))
                })?),
            };
            let integration = match &m.integration {
                None => None,
                Some(i) => {
                    let mut built =
                        build_integration(&i.integration_type, i.http_method.clone(), i.uri.clone(), &rid)
                            .map_err(|e| {
                                ApiGwError::bad_request(format!(
                                    "{} (at {} {})",
                                    e.message, m.http_method, res.path
                                ))
                            })?;
                    if i.passthrough_behavior.is_some() {
                        built.passthrough_behavior = i.passthrough_behavior.clone();
                    }
                    built.content_handling = i.content_handling.clone();
                    if let Some(t) = i.timeout_in_millis {
                        built.timeout_in_millis = t.clamp(50, 29_000);
                    }
                    built.request_parameters = i.request_parameters.clone();
                    built.request_templates = i.request_templates.clone();
                    built.cache_key_parameters = i.cache_key_parameters.clone();
                    if i.cache_namespace.is_some() {
                        built.cache_namespace = i.cache_namespace.clone();
                    }
                    built.credentials = i.credentials.clone();
                    for (pattern, r) in &i.responses {
                        built.integration_responses.insert(
                            r.status_code.clone(),
                            IntegrationResponse {
                                status_code: r.status_code.clone(),
                                selection_pattern: (pattern != "default").then(|| pattern.clone()),
                                response_parameters: r.response_parameters.clone(),
                                response_templates: r.response_templates.clone(),
                                content_handling: r.content_handling.clone(),
                            },
                        );
                    }
                    Some(built)
                }
            };
            let method_responses = m
                .method_responses
                .iter()
                .map(|(code, params)| {
                    (
                        code.clone(),
                        MethodResponse {
                            status_code: code.clone(),
                            response_parameters: params.clone(),
                            response_models: BTreeMap::new(),
                        },
                    )
                })
                .collect();
            let method = Method {
                http_method: m.http_method.clone(),
                authorization_type: m.authorization_type.clone(),
                authorizer_id,
                api_key_required: m.api_key_required,
                operation_name: m.operation_name.clone(),
                request_parameters: m.request_parameters.clone(),
                request_models: BTreeMap::new(),
                request_validator_id: None,
                authorization_scopes: Vec::new(),
                method_responses,
                integration,
            };
            if let Some(r) = api.resources.get_mut(&rid) {
                r.methods.insert(m.http_method.clone(), method);
            }
        }
    }
    for (loc, name, value) in &doc.extensions {
        tracing::warn!(api = %api.id, location = %loc, extension = %name, "OpenAPI extension stored but not yet applied");
        api.extensions.retain(|(l, n, _)| !(l == loc && n == name));
        api.extensions.push((loc.clone(), name.clone(), value.clone()));
    }
    Ok(())
}

fn with_warnings(mut v: Value, doc: &ImportedApi) -> Value {
    if !doc.warnings.is_empty() {
        v["warnings"] = serde_json::json!(doc.warnings);
    }
    v
}

pub async fn import_rest_api(
    svc: &ApiGwService,
    q: &HashMap<String, String>,
    body: &[u8],
) -> ApiGwResult<Value> {
    let doc = parse_doc(body)?;
    fail_on_warnings(q, &doc)?;
    let mut api = new_rest_api(doc.title.clone().unwrap_or_else(|| "imported".into()));
    apply(&mut api, &doc, true)?;
    let api = svc.create(api).await?;
    tracing::info!(api = %api.id, warnings = doc.warnings.len(), "rest api imported");
    Ok(with_warnings(wire::rest_api(&api), &doc))
}

pub async fn put_rest_api(
    svc: &ApiGwService,
    id: &str,
    q: &HashMap<String, String>,
    body: &[u8],
) -> ApiGwResult<Value> {
    let doc = parse_doc(body)?;
    fail_on_warnings(q, &doc)?;
    let overwrite = match q.get("mode").map(String::as_str) {
        None | Some("merge") => false,
        Some("overwrite") => true,
        Some(other) => {
            return Err(ApiGwError::enum_value(
                other,
                "putRestApiInput.mode",
                &["merge", "overwrite"],
            ));
        }
    };
    let v = svc
        .edit(id, |api| {
            apply(api, &doc, overwrite)?;
            Ok(wire::rest_api(api))
        })
        .await?;
    Ok(with_warnings(v, &doc))
}
