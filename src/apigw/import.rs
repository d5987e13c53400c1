//! ImportRestApi and PutRestApi: an OpenAPI document (parsed by
//! [`super::openapi`]) becomes the API's resource tree, methods and
//! integrations, models (from `definitions` / `components.schemas`, their
//! `#/...` references rewritten to model URLs) and request validators, as
//! AWS builds them.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::authorizers::{self, AuthorizerInput, MAX_AUTHORIZERS};
use super::error::{ApiGwError, ApiGwResult};
use super::gateway_responses;
use super::handlers::{add_child, build_integration, check_http_method, new_rest_api};
use super::model::{
    GatewayResponse, IntegrationResponse, Method, MethodResponse, Model, RequestValidator, Resource, RestApi,
    model_url, new_id,
};
use super::models;
use super::openapi::{self, ImportedApi, ImportedModelRef, definition_name};
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

/// Rewrites `#/definitions/X` and `#/components/schemas/X` references to
/// the model URLs of `api_id`.
fn rebase_refs(v: &mut Value, api_id: &str) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = definition_name(r) {
                            *r = model_url(api_id, &name);
                        }
                    }
                    ("enum" | "default", _) => {}
                    (_, child) => rebase_refs(child, api_id),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rebase_refs(i, api_id)),
        _ => {}
    }
}

fn import_errors(errors: Vec<String>) -> ApiGwResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiGwError::bad_request(format!(
            "Errors found during import:\n\t{}",
            errors.join("\n\t")
        )))
    }
}

/// Adds (or replaces, by name) one model with a schema that is checked once
/// every model of the document is in place.
fn put_model(api: &mut RestApi, name: &str, mut schema: Value) -> Result<(), String> {
    models::check_name(name).map_err(|e| format!("Unable to create model for '{name}': {}", e.message))?;
    rebase_refs(&mut schema, &api.id);
    let id = api.models.get(name).map_or_else(|| new_id(6), |m| m.id.clone());
    api.models.insert(
        name.to_string(),
        Model {
            id,
            name: name.to_string(),
            description: None,
            schema: Some(schema.to_string()),
            content_type: "application/json".to_string(),
        },
    );
    Ok(())
}

/// A model name for a body schema written in place: the operation's name
/// (else its method and path), alphanumeric, made unique.
fn inline_model_name(
    api: &RestApi,
    method: &openapi::ImportedMethod,
    path: &str,
    content_type: &str,
) -> String {
    let source = match &method.operation_name {
        Some(op) => op.clone(),
        None => format!("{}{path}", method.http_method.to_ascii_lowercase()),
    };
    let mut base: String = source.chars().filter(char::is_ascii_alphanumeric).collect();
    if content_type != "application/json" {
        base.extend(content_type.chars().filter(char::is_ascii_alphanumeric));
    }
    base.push_str("Body");
    let mut name = base.clone();
    let mut n = 2;
    while api.models.contains_key(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

/// Creates the document's models (definitions first, then body schemas
/// written in place) and checks their schemas; returns, per resource and
/// method, the request models to set.
fn apply_models(api: &mut RestApi, doc: &ImportedApi) -> ApiGwResult<Vec<Vec<BTreeMap<String, String>>>> {
    let mut errors = Vec::new();
    let mut imported: Vec<String> = Vec::new();
    for (name, schema) in &doc.models {
        match put_model(api, name, schema.clone()) {
            Ok(()) => imported.push(name.clone()),
            Err(e) => errors.push(e),
        }
    }
    let mut per_resource = Vec::new();
    for res in &doc.resources {
        let mut per_method = Vec::new();
        for m in &res.methods {
            let mut request_models = BTreeMap::new();
            for (content_type, model) in &m.request_models {
                let name = match model {
                    ImportedModelRef::Named(name) => name.clone(),
                    ImportedModelRef::Inline(schema) => {
                        let name = inline_model_name(api, m, &res.path, content_type);
                        match put_model(api, &name, schema.clone()) {
                            Ok(()) => imported.push(name.clone()),
                            Err(e) => errors.push(e),
                        }
                        name
                    }
                };
                request_models.insert(content_type.clone(), name);
            }
            per_method.push(request_models);
        }
        per_resource.push(per_method);
    }
    for name in &imported {
        let schema = api.models.get(name).and_then(|m| m.schema.clone());
        if let Err(e) = models::check_schema(api, Some(name), schema.as_deref()) {
            errors.push(format!("Unable to create model for '{name}': {}", e.message));
        }
    }
    import_errors(errors)?;
    Ok(per_resource)
}

/// Creates (or, by name, updates) the document's request validators;
/// returns name → id for every validator of the API.
fn apply_request_validators(api: &mut RestApi, doc: &ImportedApi) -> HashMap<String, String> {
    for v in &doc.request_validators {
        let existing = api
            .request_validators
            .values()
            .find(|x| x.name.as_deref() == Some(v.name.as_str()))
            .map(|x| x.id.clone());
        let id = existing.unwrap_or_else(|| new_id(6));
        api.request_validators.insert(
            id.clone(),
            RequestValidator {
                id,
                name: Some(v.name.clone()),
                validate_request_body: v.validate_request_body,
                validate_request_parameters: v.validate_request_parameters,
            },
        );
    }
    api.request_validators
        .values()
        .filter_map(|v| Some((v.name.clone()?, v.id.clone())))
        .collect()
}

/// Applies a document to an API (merge keeps what the document does not
/// mention; overwrite replaces the resource tree, authorizers, gateway
/// responses, models and request validators).
fn apply(api: &mut RestApi, doc: &ImportedApi, overwrite: bool) -> ApiGwResult<()> {
    if overwrite {
        api.authorizers.clear();
        api.gateway_responses.clear();
        api.models.clear();
        api.request_validators.clear();
        let root = api.root_resource_id.clone();
        api.resources.retain(|id, _| *id == root);
        if let Some(r) = api.resources.get_mut(&root) {
            r.methods.clear();
        }
        api.binary_media_types.clear();
        api.documentation_parts.clear();
    }
    for (location, properties) in &doc.documentation_parts {
        super::documentation::import_part(api, location, properties)?;
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
    if let Some(d) = doc.disable_execute_api_endpoint {
        api.disable_execute_api_endpoint = d;
    }
    if let Some(size) = doc.minimum_compression_size {
        api.minimum_compression_size = Some(super::handlers::check_compression_size(size)?);
    }
    let authorizer_ids = apply_authorizers(api, doc)?;
    apply_gateway_responses(api, doc)?;
    let request_models = apply_models(api, doc)?;
    let validator_ids = apply_request_validators(api, doc);
    let root = api.root_resource_id.clone();
    for (res, res_models) in doc.resources.iter().zip(request_models) {
        let rid = ensure_path(&mut api.resources, &root, &res.path)?;
        for (m, request_models) in res.methods.iter().zip(res_models) {
            check_http_method(&m.http_method)?;
            let request_validator_id = match m.request_validator.as_ref().or(doc.request_validator.as_ref()) {
                None => None,
                Some(name) => Some(validator_ids.get(name).cloned().ok_or_else(|| {
                    ApiGwError::bad_request(format!(
                        "Errors found during import:\n\tInvalid request validator '{name}' for {} {}: it is not defined in x-amazon-apigateway-request-validators",
                        m.http_method, res.path
                    ))
                })?),
            };
            if let Some(name) = request_models.values().find(|n| !api.models.contains_key(*n)) {
                return Err(ApiGwError::bad_request(format!(
                    "Errors found during import:\n\tInvalid model identifier specified: {name} (request body of {} {})",
                    m.http_method, res.path
                )));
            }
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
                                sent_empty: Vec::new(),
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
                            response_models: m
                                .response_models
                                .get(code)
                                .map(|models| {
                                    models
                                        .iter()
                                        .filter(|(_, name)| api.models.contains_key(*name))
                                        .map(|(t, name)| (t.clone(), name.clone()))
                                        .collect()
                                })
                                .unwrap_or_default(),
                            sent_empty: Vec::new(),
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
                request_models,
                request_validator_id,
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

/// `basepath=prepend|split`: the document's base path (all of it, or all
/// but its first part) goes in front of every path; `ignore`, the default,
/// leaves the paths as written.
fn apply_base_path(doc: &mut ImportedApi, q: &HashMap<String, String>) {
    let Some(base) = doc.base_path.as_deref() else {
        return;
    };
    let prefix = match q.get("basepath").map(String::as_str) {
        Some("prepend") => base.to_string(),
        Some("split") => base
            .trim_start_matches('/')
            .split_once('/')
            .map_or(String::new(), |(_, rest)| format!("/{rest}")),
        _ => return,
    };
    if prefix.is_empty() {
        return;
    }
    for res in &mut doc.resources {
        res.path = match res.path.trim_end_matches('/') {
            "" => prefix.clone(),
            p if p.starts_with('/') => format!("{prefix}{p}"),
            p => format!("{prefix}/{p}"),
        };
    }
}

pub async fn import_rest_api(
    svc: &ApiGwService,
    q: &HashMap<String, String>,
    body: &[u8],
) -> ApiGwResult<Value> {
    let mut doc = parse_doc(body)?;
    apply_base_path(&mut doc, q);
    fail_on_warnings(q, &doc)?;
    let mut api = new_rest_api(doc.title.clone().unwrap_or_else(|| "imported".into()));
    if let Some(t) = q.get("endpointConfigurationTypes") {
        if !["EDGE", "REGIONAL", "PRIVATE"].contains(&t.as_str()) {
            return Err(ApiGwError::enum_value(
                t,
                "importRestApiInput.endpointConfigurationTypes",
                &["REGIONAL", "EDGE", "PRIVATE"],
            ));
        }
        api.endpoint_types = vec![t.clone()];
    }
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
    let mut doc = parse_doc(body)?;
    apply_base_path(&mut doc, q);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn imported(doc: &str) -> ApiGwResult<RestApi> {
        let parsed = parse_doc(doc.as_bytes())?;
        let mut api = new_rest_api("x".into());
        api.id = "api123".into();
        apply(&mut api, &parsed, true)?;
        Ok(api)
    }

    const DOC: &str = r##"{
      "swagger": "2.0",
      "info": {"title": "M", "version": "1"},
      "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": true, "validateRequestParameters": true}},
      "x-amazon-apigateway-request-validator": "all",
      "definitions": {
        "Pet": {"type": "object", "required": ["owner"], "properties": {"owner": {"$ref": "#/definitions/Owner"}}},
        "Owner": {"type": "object", "properties": {"name": {"type": "string"}}}
      },
      "paths": {
        "/pets/{id}": {
          "post": {
            "operationId": "addPet",
            "parameters": [
              {"name": "id", "in": "path", "required": true, "type": "string"},
              {"name": "pet", "in": "body", "schema": {"$ref": "#/definitions/Pet"}}
            ],
            "x-amazon-apigateway-integration": {"type": "mock"}
          },
          "put": {
            "operationId": "put-pet",
            "parameters": [{"name": "pet", "in": "body", "schema": {"type": "object", "required": ["a"]}}],
            "x-amazon-apigateway-integration": {"type": "mock"}
          }
        }
      }
    }"##;

    fn method<'a>(api: &'a RestApi, verb: &str) -> &'a Method {
        let r = api
            .resources
            .values()
            .find(|r| r.methods.contains_key(verb))
            .unwrap_or_else(|| panic!("no {verb}"));
        &r.methods[verb]
    }

    #[test]
    fn definitions_become_models_with_model_url_references() {
        let api = imported(DOC).unwrap_or_else(|e| panic!("{}", e.message));
        let names: Vec<&str> = api.models.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["Owner", "Pet", "putpetBody"],
            "imports get no Empty/Error"
        );
        let pet: Value =
            serde_json::from_str(api.models["Pet"].schema.as_deref().unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            pet["properties"]["owner"],
            json!({"$ref": "https://apigateway.amazonaws.com/restapis/api123/models/Owner"})
        );
        let v = api.request_validators.values().next().cloned();
        let v = v.unwrap_or_else(|| panic!("no validator"));
        assert_eq!(v.name.as_deref(), Some("all"));
        let post = method(&api, "POST");
        assert_eq!(post.request_validator_id.as_deref(), Some(v.id.as_str()));
        assert_eq!(post.request_models["application/json"], "Pet");
        assert_eq!(post.request_parameters.get("method.request.path.id"), Some(&true));
        assert_eq!(
            method(&api, "PUT").request_models["application/json"],
            "putpetBody"
        );
    }

    #[test]
    fn merge_keeps_model_ids_and_validators_by_name() {
        let parsed = parse_doc(DOC.as_bytes()).unwrap_or_else(|e| panic!("{}", e.message));
        let mut api = imported(DOC).unwrap_or_else(|e| panic!("{}", e.message));
        let (pet_id, validators) = (api.models["Pet"].id.clone(), api.request_validators.clone());
        apply(&mut api, &parsed, false).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(api.models["Pet"].id, pet_id);
        assert_eq!(api.request_validators, validators);
    }

    #[test]
    fn import_errors_in_aws_words() {
        let e = imported(&DOC.replace("\"Owner\": {\"type\"", "\"Own_er\": {\"type\""))
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(
            e.starts_with("Errors found during import:\n\tUnable to create model for 'Own_er': Model name must be alphanumeric: Own_er"),
            "{e}"
        );
        assert!(
            e.contains("Unable to create model for 'Pet': Invalid model specified: Validation Result: warnings : [], errors : [Invalid model specified: Owner]"),
            "{e}"
        );
        let e = imported(&DOC.replace(
            "\"x-amazon-apigateway-request-validator\": \"all\"",
            "\"x-amazon-apigateway-request-validator\": \"none\"",
        ))
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
        assert!(e.contains("Invalid request validator 'none'"), "{e}");
        let e = imported(&DOC.replace("#/definitions/Pet\"}}", "#/definitions/Nope\"}}"))
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(e.contains("Invalid model identifier specified: Nope"), "{e}");
    }

    fn paths(api: &RestApi) -> Vec<String> {
        let mut p: Vec<String> = api
            .resources
            .keys()
            .filter_map(|id| RestApi::path_of(&api.resources, id))
            .collect();
        p.sort();
        p
    }

    /// The developer guide's example: basePath /a/b/c, paths /e and /f.
    #[test]
    fn base_path_ignored_prepended_or_split() {
        let doc = r#"{"swagger": "2.0", "info": {"title": "B", "version": "1"}, "basePath": "/a/b/c",
          "paths": {"/e": {"get": {}}, "/f": {"get": {}}}}"#;
        let with = |mode: Option<&str>| {
            let mut parsed = parse_doc(doc.as_bytes()).expect("parses");
            let q: HashMap<String, String> = mode
                .map(|m| ("basepath".to_string(), m.to_string()))
                .into_iter()
                .collect();
            apply_base_path(&mut parsed, &q);
            let mut api = new_rest_api("x".into());
            apply(&mut api, &parsed, true).expect("applies");
            paths(&api)
        };
        assert_eq!(with(None), ["/", "/e", "/f"]);
        assert_eq!(with(Some("ignore")), ["/", "/e", "/f"]);
        assert_eq!(
            with(Some("prepend")),
            ["/", "/a", "/a/b", "/a/b/c", "/a/b/c/e", "/a/b/c/f"]
        );
        assert_eq!(with(Some("split")), ["/", "/b", "/b/c", "/b/c/e", "/b/c/f"]);
        // OpenAPI 3: the basePath server variable, else the server URL's path.
        let oas3 = |servers: &str| {
            let doc = format!(
                r#"{{"openapi": "3.0.1", "info": {{"title": "B", "version": "1"}}, "servers": {servers}, "paths": {{"/e": {{"get": {{}}}}}}}}"#
            );
            parse_doc(doc.as_bytes()).expect("parses").base_path
        };
        assert_eq!(
            oas3(r#"[{"url": "https://x/{basePath}", "variables": {"basePath": {"default": "v1"}}}]"#)
                .as_deref(),
            Some("/v1")
        );
        assert_eq!(
            oas3(r#"[{"url": "https://example.com/api/v2/"}]"#).as_deref(),
            Some("/api/v2")
        );
        assert_eq!(oas3(r#"[{"url": "https://example.com"}]"#), None);
    }

    #[test]
    fn response_models_from_schema_references() {
        let api = imported(
            r##"{"swagger": "2.0", "info": {"title": "P", "version": "1"},
              "definitions": {"Pets": {"type": "array", "items": {"type": "string"}}},
              "paths": {"/pets": {"get": {
                "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pets"}},
                              "500": {"description": "inline", "schema": {"type": "string"}}},
                "x-amazon-apigateway-integration": {"type": "mock"}}}}}"##,
        )
        .expect("imports");
        let get = method_of(&api, "/pets", "GET");
        assert_eq!(
            get.method_responses["200"].response_models,
            BTreeMap::from([("application/json".to_string(), "Pets".to_string())])
        );
        assert!(get.method_responses["500"].response_models.is_empty());
    }

    fn method_of<'a>(api: &'a RestApi, path: &str, verb: &str) -> &'a Method {
        let id = api
            .resources
            .keys()
            .find(|id| RestApi::path_of(&api.resources, id).as_deref() == Some(path))
            .expect("resource");
        &api.resources[id].methods[verb]
    }
}
