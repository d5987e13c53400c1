//! API Gateway management operations: RestApis, Resources, Methods,
//! MethodResponses, Integrations, IntegrationResponses, Deployments, Stages.
//! Status codes follow the model's mixed 201/202/204 rules.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::{ApiGwError, ApiGwResult, ErrorCode};
use super::model::{
    CanarySettings, Deployment, Integration, IntegrationResponse, IntegrationType, METHODS, Method,
    MethodResponse, Resource, RestApi, Stage, new_id, now_epoch,
};
use super::patch::{PatchBody, apply_to_map, strs};
use super::service::ApiGwService;
use super::wire;

type Svc = State<Arc<ApiGwService>>;

pub fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> ApiGwResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| match wrong_type(&e) {
        Some(message) => ApiGwError::new(ErrorCode::Serialization, message),
        None => ApiGwError::new(ErrorCode::BadRequest, format!("Invalid request body: {e}")),
    })
}

/// A boolean or a number where a string belongs: AWS answers with a
/// SerializationException in its Java deserializer's words (recorded for
/// requestParameters and responseTemplates values in LocalStack's
/// AWS-validated snapshots).
fn wrong_type(e: &serde_json::Error) -> Option<&'static str> {
    if e.classify() != serde_json::error::Category::Data {
        return None;
    }
    let text = e.to_string();
    let found = text.strip_prefix("invalid type: ")?;
    if !found.contains("expected a string") {
        return None;
    }
    if found.starts_with("boolean") {
        Some("class java.lang.Boolean can not be converted to an String")
    } else if found.starts_with("integer") || found.starts_with("floating point") {
        Some(
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
        )
    } else {
        None
    }
}

pub(super) fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// `{item, position}` pagination (limit default 25, max 500).
pub(super) fn page(items: Vec<Value>, q: &HashMap<String, String>) -> ApiGwResult<Value> {
    let (start, limit) = super::paging(q)?;
    let total = items.len();
    let slice: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let mut out = json!({ "item": slice });
    if start + slice_len(&out) < total {
        out["position"] = (start + slice_len(&out)).to_string().into();
    }
    Ok(out)
}

fn slice_len(v: &Value) -> usize {
    v["item"].as_array().map_or(0, Vec::len)
}

fn resource_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Resource identifier specified")
}
fn method_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Method identifier specified")
}
fn integration_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Integration identifier specified")
}
fn response_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Response status code specified")
}

// ---------------------------------------------------------------- RestApis

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateRestApiInput {
    name: Option<String>,
    description: Option<String>,
    version: Option<String>,
    binary_media_types: Option<Vec<String>>,
    minimum_compression_size: Option<i64>,
    api_key_source: Option<String>,
    endpoint_configuration: Option<EndpointConfiguration>,
    policy: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    disable_execute_api_endpoint: Option<bool>,
    clone_from: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct EndpointConfiguration {
    types: Option<Vec<String>>,
    ip_address_type: Option<String>,
}

impl EndpointConfiguration {
    /// CreateRestApi's checks, in AWS's order: one type, then the enum
    /// values (reported together), then `dualstack` for PRIVATE. Returns the
    /// type and the ipAddressType given, if any.
    fn checked(self, description: Option<&str>) -> ApiGwResult<(String, Option<String>)> {
        let types = self.types.unwrap_or_else(|| vec!["EDGE".to_string()]);
        let endpoint_type = match types.as_slice() {
            [] => {
                return Err(ApiGwError::bad_request(
                    "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.",
                ));
            }
            [one] => one.clone(),
            _ => {
                return Err(ApiGwError::bad_request(
                    "Cannot create an api with multiple Endpoint Types.",
                ));
            }
        };
        let mut errors = Vec::new();
        if !ENDPOINT_TYPES.contains(&endpoint_type.as_str()) {
            errors.push(format!(
                "Value '[{endpoint_type}]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]"
            ));
        }
        if let Some(t) = self
            .ip_address_type
            .as_deref()
            .filter(|t| !IP_ADDRESS_TYPES.contains(t))
        {
            errors.push(format!(
                "Value '{t}' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]"
            ));
        }
        if !errors.is_empty() {
            let n = errors.len();
            return Err(ApiGwError::new(
                super::error::ErrorCode::Validation,
                format!(
                    "{n} validation error{} detected: {}",
                    if n == 1 { "" } else { "s" },
                    errors.join("; ")
                ),
            ));
        }
        if description == Some("") {
            return Err(ApiGwError::bad_request("Description cannot be an empty string"));
        }
        if endpoint_type == "PRIVATE" && self.ip_address_type.as_deref() == Some("ipv4") {
            return Err(ApiGwError::bad_request(
                "Only dualstack ipAddressType is supported for Private APIs.",
            ));
        }
        Ok((endpoint_type, self.ip_address_type))
    }
}

const ENDPOINT_TYPES: [&str; 3] = ["REGIONAL", "EDGE", "PRIVATE"];
const IP_ADDRESS_TYPES: [&str; 2] = ["ipv4", "dualstack"];

fn check_api_key_source(s: &str) -> ApiGwResult<()> {
    if s == "HEADER" || s == "AUTHORIZER" {
        Ok(())
    } else {
        Err(ApiGwError::enum_value(
            s,
            "createRestApiInput.apiKeySource",
            &["HEADER", "AUTHORIZER"],
        ))
    }
}

/// `minimumCompressionSize` is 0 to 10 MiB.
pub(crate) fn check_compression_size(size: i64) -> ApiGwResult<i64> {
    if (0..=10_485_760).contains(&size) {
        Ok(size)
    } else {
        Err(ApiGwError::bad_request(
            "Invalid minimum compression size, must be between 0 and 10485760",
        ))
    }
}

/// A new, empty API with its root resource.
pub fn new_rest_api(name: String) -> RestApi {
    let root = new_id(10);
    let mut resources = BTreeMap::new();
    resources.insert(
        root.clone(),
        Resource {
            id: root.clone(),
            parent_id: None,
            path_part: None,
            methods: BTreeMap::new(),
        },
    );
    RestApi {
        id: new_id(10),
        name,
        description: None,
        created_date: now_epoch(),
        version: None,
        binary_media_types: Vec::new(),
        minimum_compression_size: None,
        api_key_source: "HEADER".into(),
        endpoint_types: vec!["EDGE".into()],
        ip_address_type: None,
        documentation_parts: BTreeMap::new(),
        documentation_versions: BTreeMap::new(),
        policy: None,
        tags: BTreeMap::new(),
        disable_execute_api_endpoint: false,
        root_resource_id: root,
        resources,
        deployments: BTreeMap::new(),
        stages: BTreeMap::new(),
        extensions: Vec::new(),
        authorizers: BTreeMap::new(),
        gateway_responses: BTreeMap::new(),
        models: super::models::builtin_models(),
        request_validators: BTreeMap::new(),
    }
}

pub async fn create_rest_api(
    State(svc): Svc,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiGwResult<Response> {
    if q.get("mode").map(String::as_str) == Some("import") {
        return super::import::import_rest_api(&svc, &q, &body).await.map(created);
    }
    let input: CreateRestApiInput = parse(&body)?;
    let name = input
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiGwError::bad_request("Invalid REST API name specified"))?;
    let (endpoint_type, ip_address_type) = input
        .endpoint_configuration
        .unwrap_or_default()
        .checked(input.description.as_deref())?;
    let mut api = new_rest_api(name);
    api.endpoint_types = vec![endpoint_type];
    api.ip_address_type = ip_address_type;
    if let Some(source_id) = &input.clone_from {
        let source = svc.get(source_id)?;
        api.resources = source.resources.clone();
        api.root_resource_id = source.root_resource_id.clone();
        api.binary_media_types = source.binary_media_types.clone();
        api.authorizers = source.authorizers.clone();
        api.gateway_responses = source.gateway_responses.clone();
        api.models = source.models.clone();
        super::models::rebase(&mut api.models, &source.id, &api.id);
        api.request_validators = source.request_validators.clone();
    }
    api.description = input.description;
    api.version = input.version;
    if let Some(b) = input.binary_media_types {
        api.binary_media_types = b;
    }
    if let Some(size) = input.minimum_compression_size {
        api.minimum_compression_size = Some(check_compression_size(size)?);
    }
    if let Some(s) = input.api_key_source {
        check_api_key_source(&s)?;
        api.api_key_source = s;
    }
    api.policy = input.policy;
    api.tags = input.tags.unwrap_or_default();
    api.disable_execute_api_endpoint = input.disable_execute_api_endpoint.unwrap_or(false);
    let api = svc.create(api).await?;
    tracing::info!(api = %api.id, name = %api.name, "rest api created");
    Ok(created(wire::rest_api(&api)))
}

pub async fn get_rest_apis(
    State(svc): Svc,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let mut apis = svc.list();
    apis.sort_by(|a, b| a.created_date.cmp(&b.created_date).then(a.id.cmp(&b.id)));
    Ok(Json(page(apis.iter().map(wire::rest_api).collect(), &q)?))
}

pub async fn get_rest_api(State(svc): Svc, Path(api): Path<String>) -> ApiGwResult<Json<Value>> {
    Ok(Json(wire::rest_api(&svc.get(&api)?)))
}

pub async fn update_rest_api(
    State(svc): Svc,
    Path(api): Path<String>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateRestApiInput")?;
    let out = svc
        .edit(&api, |a| {
            for op in &patch.patch_operations {
                let seg = op.segments();
                match (op.op.as_str(), strs(&seg).as_slice()) {
                    ("replace", ["name"]) => a.name = op.value()?.to_string(),
                    ("replace", ["description"]) => a.description = op.value.clone(),
                    ("replace", ["version"]) => a.version = op.value.clone(),
                    ("replace", ["apiKeySource"]) => {
                        check_api_key_source(op.value()?)?;
                        a.api_key_source = op.value()?.to_string();
                    }
                    ("replace", ["minimumCompressionSize"]) => {
                        a.minimum_compression_size = match op.value.as_deref() {
                            None | Some("") => None,
                            Some(v) => Some(check_compression_size(v.parse().map_err(|_| {
                                ApiGwError::bad_request(
                                    "Invalid minimum compression size, must be between 0 and 10485760",
                                )
                            })?)?),
                        }
                    }
                    ("replace", ["disableExecuteApiEndpoint"]) => {
                        a.disable_execute_api_endpoint = op.bool_value()?
                    }
                    ("replace", ["policy"]) => a.policy = op.value.clone(),
                    ("add", ["binaryMediaTypes", t]) => {
                        if !a.binary_media_types.iter().any(|x| x == t) {
                            a.binary_media_types.push(t.to_string());
                        }
                    }
                    ("remove", ["binaryMediaTypes", t]) => a.binary_media_types.retain(|x| x != t),
                    // A replaced type goes to the end, as AWS records it.
                    ("replace", ["binaryMediaTypes", t]) => {
                        let new = op.value()?.to_string();
                        if a.binary_media_types.iter().any(|x| x == t) {
                            a.binary_media_types.retain(|x| x != t && *x != new);
                            a.binary_media_types.push(new);
                        }
                    }
                    ("remove", ["description"]) => a.description = None,
                    ("replace", ["endpointConfiguration", "types", _]) => {
                        let t = op.value.as_deref().unwrap_or_default();
                        if !ENDPOINT_TYPES.contains(&t) {
                            return Err(ApiGwError::bad_request(
                                "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE",
                            ));
                        }
                        a.endpoint_types = vec![t.to_string()];
                        if t == "PRIVATE" {
                            a.ip_address_type = Some("dualstack".to_string());
                        }
                    }
                    (_, ["endpointConfiguration", "types", ..]) => {
                        return Err(ApiGwError::bad_request(
                            "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
                        ));
                    }
                    ("replace", ["endpointConfiguration", "ipAddressType"]) => {
                        let t = op.value.as_deref().unwrap_or_default();
                        if !IP_ADDRESS_TYPES.contains(&t) {
                            return Err(ApiGwError::bad_request(
                                "ipAddressType must be either ipv4 or dualstack.",
                            ));
                        }
                        if t == "ipv4" && a.endpoint_types.iter().any(|x| x == "PRIVATE") {
                            return Err(ApiGwError::bad_request(
                                "Only dualstack ipAddressType is supported for Private APIs.",
                            ));
                        }
                        a.ip_address_type = Some(t.to_string());
                    }
                    (_, ["endpointConfiguration", "ipAddressType"]) => {
                        return Err(ApiGwError::bad_request(
                            "Invalid patch operation specified. Must be one of: [replace]",
                        ));
                    }
                    (
                        _,
                        [
                            "name"
                            | "description"
                            | "version"
                            | "apiKeySource"
                            | "minimumCompressionSize"
                            | "disableExecuteApiEndpoint"
                            | "policy",
                        ],
                    ) => return Err(op.replace_only()),
                    _ => return Err(op.invalid_path()),
                }
            }
            let mut v = wire::rest_api(a);
            // UpdateRestApi's answer always carries `tags`, `{}` included
            // (recorded against AWS); create and get leave an empty map out.
            v["tags"] = serde_json::json!(a.tags);
            Ok(v)
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_rest_api(State(svc): Svc, Path(api): Path<String>) -> ApiGwResult<StatusCode> {
    svc.delete(&api).await?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn put_rest_api(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    super::import::put_rest_api(&svc, &api, &q, &body).await.map(Json)
}

// ---------------------------------------------------------------- Resources

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateResourceInput {
    path_part: Option<String>,
}

/// Checks a path part as API Gateway does: a literal, `{name}` or `{name+}`.
pub fn check_path_part(part: &str) -> ApiGwResult<()> {
    let literal = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:@".contains(&b))
    };
    let ok = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(inner) => literal(inner.strip_suffix('+').unwrap_or(inner)),
        None => literal(part),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiGwError::bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.",
        ))
    }
}

fn is_variable(part: &str) -> bool {
    part.starts_with('{')
}

fn is_greedy(part: &str) -> bool {
    part.starts_with('{') && part.ends_with("+}")
}

/// Adds a child resource after AWS's sibling and greedy checks.
pub fn add_child(
    resources: &mut BTreeMap<String, Resource>,
    parent_id: &str,
    part: &str,
) -> ApiGwResult<String> {
    check_path_part(part)?;
    let parent = resources.get(parent_id).ok_or_else(resource_not_found)?;
    // The new resource's depth: one more than its parent's path parts.
    let mut depth = 1;
    let mut cur = parent;
    while cur.path_part.is_some() {
        depth += 1;
        if depth > RestApi::MAX_RESOURCE_DEPTH {
            return Err(ApiGwError::bad_request(format!(
                "Resource path is too deep: at most {} levels are supported",
                RestApi::MAX_RESOURCE_DEPTH
            )));
        }
        match cur.parent_id.as_deref().and_then(|p| resources.get(p)) {
            Some(p) => cur = p,
            None => break,
        }
    }
    if let Some(pp) = &parent.path_part
        && is_greedy(pp)
    {
        return Err(ApiGwError::bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {pp}"
        )));
    }
    for sibling in resources
        .values()
        .filter(|r| r.parent_id.as_deref() == Some(parent_id))
    {
        let Some(sp) = &sibling.path_part else { continue };
        if sp == part {
            return Err(ApiGwError::conflict(format!(
                "Another resource with the same parent already has this name: {part}"
            )));
        }
        if is_variable(sp) && is_variable(part) {
            return Err(ApiGwError::bad_request(format!(
                "A sibling ({sp}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    let id = new_id(6);
    resources.insert(
        id.clone(),
        Resource {
            id: id.clone(),
            parent_id: Some(parent_id.to_string()),
            path_part: Some(part.to_string()),
            methods: BTreeMap::new(),
        },
    );
    Ok(id)
}

pub async fn get_resources(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let embed = q
        .get("embed")
        .is_some_and(|e| e.split(',').any(|x| x == "methods"));
    let mut items: Vec<(String, Value)> = a
        .resources
        .values()
        .map(|r| {
            (
                RestApi::path_of(&a.resources, &r.id).unwrap_or_default(),
                wire::resource(&a.resources, r, embed),
            )
        })
        .collect();
    items.sort_by(|x, y| x.0.cmp(&y.0));
    Ok(Json(page(items.into_iter().map(|(_, v)| v).collect(), &q)?))
}

pub async fn get_resource(
    State(svc): Svc,
    Path((api, rid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let r = a.resources.get(&rid).ok_or_else(resource_not_found)?;
    let embed = q
        .get("embed")
        .is_some_and(|e| e.split(',').any(|x| x == "methods"));
    Ok(Json(wire::resource(&a.resources, r, embed)))
}

pub async fn create_resource(
    State(svc): Svc,
    Path((api, parent)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let input: CreateResourceInput = parse(&body)?;
    let part = input
        .path_part
        .ok_or_else(|| ApiGwError::bad_request("Invalid path part specified"))?;
    let out = svc
        .edit(&api, |a| {
            let id = add_child(&mut a.resources, &parent, &part)?;
            let r = &a.resources[&id];
            Ok(wire::resource(&a.resources, r, false))
        })
        .await?;
    Ok(created(out))
}

pub async fn update_resource(
    State(svc): Svc,
    Path((api, rid)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateResourceInput")?;
    let out = svc
        .edit(&api, |a| {
            if !a.resources.contains_key(&rid) {
                return Err(resource_not_found());
            }
            for op in &patch.patch_operations {
                if rid == a.root_resource_id
                    && let Some(field) = op.path.strip_prefix('/').filter(|f| ["pathPart", "parentId"].contains(f))
                {
                    return Err(ApiGwError::bad_request(format!(
                        "Root resource cannot update its {field}."
                    )));
                }
                match (op.op.as_str(), op.path.as_str()) {
                    ("replace", "/pathPart") => {
                        let part = op.value()?.to_string();
                        let parent = a.resources[&rid].parent_id.clone().unwrap_or_default();
                        let mut probe = a.resources.clone();
                        probe.remove(&rid);
                        add_child(&mut probe, &parent, &part)?;
                        if let Some(r) = a.resources.get_mut(&rid) {
                            r.path_part = Some(part);
                        }
                    }
                    ("replace", "/parentId") => {
                        let new_parent = op.value()?.to_string();
                        if !a.resources.contains_key(&new_parent) {
                            return Err(resource_not_found());
                        }
                        if RestApi::subtree(&a.resources, &rid).contains(&new_parent) {
                            return Err(ApiGwError::bad_request("Resources cannot be cyclical."));
                        }
                        let part = a.resources[&rid].path_part.clone().unwrap_or_default();
                        let mut probe = a.resources.clone();
                        probe.remove(&rid);
                        add_child(&mut probe, &new_parent, &part)?;
                        let old_parent = a.resources.get_mut(&rid).and_then(|r| r.parent_id.replace(new_parent));
                        // The moved subtree's deepest resource must stay within the limit.
                        if RestApi::subtree(&a.resources, &rid)
                            .iter()
                            .any(|id| RestApi::path_of(&a.resources, id).is_none())
                        {
                            if let Some(r) = a.resources.get_mut(&rid) {
                                r.parent_id = old_parent;
                            }
                            return Err(ApiGwError::bad_request(format!(
                                "Resource path is too deep: at most {} levels are supported",
                                RestApi::MAX_RESOURCE_DEPTH
                            )));
                        }
                    }
                    // AWS's texts, two spaces included.
                    ("replace", path) => {
                        return Err(ApiGwError::bad_request(format!(
                            "Invalid patch path  '{path}' specified for op 'replace'. Must be one of: [/parentId, /pathPart]"
                        )));
                    }
                    (op_name, path) => {
                        return Err(ApiGwError::bad_request(format!(
                            "Invalid patch path  '{path}' specified for op '{op_name}'. Please choose supported operations"
                        )));
                    }
                }
            }
            Ok(wire::resource(&a.resources, &a.resources[&rid], false))
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_resource(
    State(svc): Svc,
    Path((api, rid)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        if !a.resources.contains_key(&rid) {
            return Err(resource_not_found());
        }
        if rid == a.root_resource_id {
            return Err(ApiGwError::bad_request("Cannot delete the root resource"));
        }
        for id in RestApi::subtree(&a.resources, &rid) {
            a.resources.remove(&id);
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

// ---------------------------------------------------------------- Methods

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PutMethodInput {
    authorization_type: Option<String>,
    authorizer_id: Option<String>,
    api_key_required: Option<bool>,
    operation_name: Option<String>,
    request_parameters: Option<BTreeMap<String, bool>>,
    request_models: Option<BTreeMap<String, String>>,
    request_validator_id: Option<String>,
    authorization_scopes: Option<Vec<String>>,
}

/// Whether `uri` is an `http(s)://` URL with a host once its `{param}`
/// and `${stageVariables.x}` placeholders are filled in (`http://[::1` or a
/// host with a space is not).
fn is_http_endpoint(uri: &str) -> bool {
    if !(uri.starts_with("http://") || uri.starts_with("https://")) {
        return false;
    }
    let mut filled = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return false;
        };
        let before = rest[..open].strip_suffix('$').unwrap_or(&rest[..open]);
        filled.push_str(before);
        filled.push('x');
        rest = &rest[open + close + 1..];
    }
    filled.push_str(rest);
    axum::http::Uri::try_from(filled.as_str())
        .ok()
        .and_then(|u| u.host().map(|h| !h.is_empty()))
        .unwrap_or(false)
}

pub fn check_http_method(m: &str) -> ApiGwResult<()> {
    if METHODS.contains(&m) {
        Ok(())
    } else {
        Err(ApiGwError::bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        ))
    }
}

/// CUSTOM needs a TOKEN / REQUEST authorizer of this API, COGNITO_USER_POOLS
/// a COGNITO_USER_POOLS one.
pub fn check_authorization(
    kind: &str,
    authorizer_id: Option<&str>,
    authorizers: &BTreeMap<String, super::model::Authorizer>,
) -> ApiGwResult<()> {
    match kind {
        "NONE" | "AWS_IAM" => Ok(()),
        "CUSTOM" | "COGNITO_USER_POOLS" => {
            let fits = authorizer_id
                .and_then(|id| authorizers.get(id))
                .is_some_and(|a| super::authorizers::fits(kind, a.authorizer_type));
            if fits {
                Ok(())
            } else {
                Err(ApiGwError::bad_request(
                    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.",
                ))
            }
        }
        other => Err(ApiGwError::enum_value(
            other,
            "putMethodInput.authorizationType",
            &["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"],
        )),
    }
}

fn check_request_parameter(name: &str) -> ApiGwResult<()> {
    let ok = [
        "method.request.path.",
        "method.request.querystring.",
        "method.request.header.",
        "method.request.multivaluequerystring.",
        "method.request.multivalueheader.",
    ]
    .iter()
    .any(|p| name.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    if ok {
        Ok(())
    } else if !name.starts_with("method.request.") {
        // Not a method request parameter at all (recorded against AWS for
        // the name `true`).
        Err(ApiGwError::bad_request(format!(
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: {name}]"
        )))
    } else {
        Err(ApiGwError::bad_request(format!(
            "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Parameter name should match the following regular expression: ^method\\.request\\.(path|querystring|header|multivaluequerystring|multivalueheader)\\.[a-zA-Z0-9._$-]+$ : {name}]"
        )))
    }
}

/// A method's `requestValidatorId` must name a validator of the API.
pub fn check_validator_id(
    validators: &BTreeMap<String, super::model::RequestValidator>,
    id: Option<&str>,
) -> ApiGwResult<()> {
    match id {
        Some(id) if !validators.contains_key(id) => Err(ApiGwError::bad_request(
            "Invalid Request Validator identifier specified",
        )),
        _ => Ok(()),
    }
}

/// `requestModels` / `responseModels` values must name models of the API.
pub fn check_model_names(
    known: &BTreeMap<String, super::model::Model>,
    models: &BTreeMap<String, String>,
) -> ApiGwResult<()> {
    match models.values().find(|name| !known.contains_key(*name)) {
        Some(name) => Err(ApiGwError::bad_request(format!(
            "Invalid model identifier specified: {name}"
        ))),
        None => Ok(()),
    }
}

fn find_method<'a>(a: &'a mut RestApi, rid: &str, m: &str) -> ApiGwResult<&'a mut Method> {
    a.resources
        .get_mut(rid)
        .ok_or_else(resource_not_found)?
        .methods
        .get_mut(m)
        .ok_or_else(method_not_found)
}

pub async fn put_method(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let input: PutMethodInput = parse(&body)?;
    // AWS takes the type in any case and stores it upper-cased.
    let auth = input
        .authorization_type
        .as_deref()
        .map(str::to_ascii_uppercase)
        .ok_or_else(|| ApiGwError::bad_request("Invalid authorization type specified"))?;
    let params = input.request_parameters.unwrap_or_default();
    for p in params.keys() {
        check_request_parameter(p)?;
    }
    check_unique_parameter_names(params.keys())?;
    let out = svc
        .edit(&api, |a| {
            // An unknown API or resource is answered before a bad method.
            if !a.resources.contains_key(&rid) {
                return Err(resource_not_found());
            }
            check_http_method(&m)?;
            check_authorization(&auth, input.authorizer_id.as_deref(), &a.authorizers)?;
            let validator = input.request_validator_id.filter(|v| !v.is_empty());
            check_validator_id(&a.request_validators, validator.as_deref())?;
            let request_models = input.request_models.unwrap_or_default();
            check_model_names(&a.models, &request_models)?;
            let r = a.resources.get_mut(&rid).ok_or_else(resource_not_found)?;
            if r.methods.contains_key(&m) {
                return Err(ApiGwError::conflict("Method already exists for this resource"));
            }
            let method = Method {
                http_method: m.clone(),
                authorization_type: auth,
                authorizer_id: input.authorizer_id,
                api_key_required: input.api_key_required.unwrap_or(false),
                operation_name: input.operation_name,
                request_parameters: params,
                request_models,
                request_validator_id: validator,
                authorization_scopes: input.authorization_scopes.unwrap_or_default(),
                method_responses: BTreeMap::new(),
                integration: None,
            };
            let v = wire::method(&method);
            r.methods.insert(m.clone(), method);
            Ok(v)
        })
        .await
        .map_err(unknown_api_as_resource)?;
    Ok(created(out))
}

/// Method operations on an API that does not exist answer as AWS does:
/// with the resource not found.
fn unknown_api_as_resource(e: ApiGwError) -> ApiGwError {
    e.when_unknown_api(resource_not_found)
}

/// `method.request.header.a` and `method.request.querystring.a` cannot both
/// be declared.
fn check_unique_parameter_names<'a>(params: impl Iterator<Item = &'a String>) -> ApiGwResult<()> {
    let mut seen = std::collections::HashSet::new();
    for p in params {
        let name = [
            "path.",
            "querystring.",
            "header.",
            "multivaluequerystring.",
            "multivalueheader.",
        ]
        .iter()
        .find_map(|loc| p.strip_prefix("method.request.")?.strip_prefix(loc));
        if let Some(name) = name
            && !seen.insert(name)
        {
            return Err(ApiGwError::bad_request(
                "Parameter names must be unique across querystring, header and path",
            ));
        }
    }
    Ok(())
}

pub async fn get_method(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
) -> ApiGwResult<Json<Value>> {
    let mut a = svc.get(&api)?;
    Ok(Json(wire::method(find_method(&mut a, &rid, &m)?)))
}

pub async fn update_method(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateMethodInput")?;
    let out = svc
        .edit(&api, |a| {
            let authorizers = a.authorizers.clone();
            let (models, validators) = (a.models.clone(), a.request_validators.clone());
            let method = find_method(a, &rid, &m)?;
            for op in &patch.patch_operations {
                let seg = op.segments();
                match (op.op.as_str(), strs(&seg).as_slice()) {
                    ("replace", ["authorizationType"]) => {
                        method.authorization_type = op.value()?.to_string();
                    }
                    ("replace", ["authorizerId"]) => method.authorizer_id = op.value.clone(),
                    // AWS reads anything but `true` as false.
                    ("replace", ["apiKeyRequired"]) => {
                        method.api_key_required = op.value.as_deref() == Some("true")
                    }
                    ("replace", ["operationName"]) => method.operation_name = op.value.clone(),
                    ("replace", ["requestValidatorId"]) => {
                        method.request_validator_id = op.value.clone().filter(|v| !v.is_empty())
                    }
                    (_, ["requestParameters", p]) => {
                        check_request_parameter(p)?;
                        apply_to_map(&mut method.request_parameters, op, p.to_string(), |v| {
                            Ok(v == "true")
                        })?
                    }
                    (_, ["requestModels", ct]) => {
                        apply_to_map(&mut method.request_models, op, ct.to_string(), |v| {
                            Ok(v.to_string())
                        })?
                    }
                    ("add", ["authorizationScopes"]) => {
                        method.authorization_scopes.push(op.value()?.to_string())
                    }
                    ("remove", ["authorizationScopes"]) => {
                        let v = op.value()?.to_string();
                        method.authorization_scopes.retain(|s| *s != v)
                    }
                    (
                        _,
                        [
                            "authorizationType" | "authorizerId" | "apiKeyRequired" | "operationName"
                            | "requestValidatorId",
                        ],
                    ) => return Err(op.replace_only()),
                    _ => return Err(op.invalid_path()),
                }
            }
            check_unique_parameter_names(method.request_parameters.keys())?;
            // An authorizer id means nothing to other authorization types;
            // AWS drops it rather than refusing it.
            if !matches!(
                method.authorization_type.as_str(),
                "CUSTOM" | "COGNITO_USER_POOLS"
            ) {
                method.authorizer_id = None;
            }
            // Checked once all operations applied: a patch may set the type
            // and the authorizer id in either order.
            check_authorization(
                &method.authorization_type,
                method.authorizer_id.as_deref(),
                &authorizers,
            )?;
            check_validator_id(&validators, method.request_validator_id.as_deref())?;
            check_model_names(&models, &method.request_models)?;
            Ok(wire::method(method))
        })
        .await
        .map_err(unknown_api_as_resource)?;
    Ok(Json(out))
}

pub async fn delete_method(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        let r = a.resources.get_mut(&rid).ok_or_else(resource_not_found)?;
        r.methods.remove(&m).map(|_| ()).ok_or_else(method_not_found)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- Method responses

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MethodResponseInput {
    response_parameters: Option<BTreeMap<String, bool>>,
    response_models: Option<BTreeMap<String, String>>,
}

/// `[1-5]\d\d`, the pattern AWS holds every status code to.
pub(crate) fn is_status_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit)
}

/// The `{status_code}` of a method or integration response route, checked
/// before anything is looked up (as AWS's request validation does).
fn check_status_code(code: &str) -> ApiGwResult<()> {
    if is_status_code(code) {
        Ok(())
    } else {
        Err(ApiGwError::new(
            super::error::ErrorCode::Validation,
            format!(
                "1 validation error detected: Value '{code}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d"
            ),
        ))
    }
}

pub async fn put_method_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Response> {
    check_status_code(&code)?;
    let input: MethodResponseInput = parse(&body)?;
    let out = svc
        .edit(&api, |a| {
            let input_models_sent = input.response_models.is_some();
            let response_models = input.response_models.unwrap_or_default();
            check_model_names(&a.models, &response_models)?;
            let method = find_method(a, &rid, &m)?;
            let sent_empty = super::model::sent_empty([
                (
                    "responseParameters",
                    input.response_parameters.as_ref().is_some_and(BTreeMap::is_empty),
                ),
                ("responseModels", response_models.is_empty() && input_models_sent),
            ]);
            let r = MethodResponse {
                status_code: code.clone(),
                response_parameters: input.response_parameters.unwrap_or_default(),
                response_models,
                sent_empty,
            };
            let v = wire::method_response(&r);
            method.method_responses.insert(code.clone(), r);
            Ok(v)
        })
        .await
        .map_err(unknown_api_as_resource)?;
    Ok(created(out))
}

pub async fn get_method_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
) -> ApiGwResult<Json<Value>> {
    check_status_code(&code)?;
    let mut a = svc.get(&api).map_err(unknown_api_as_resource)?;
    let method = find_method(&mut a, &rid, &m)?;
    let r = method
        .method_responses
        .get(&code)
        .ok_or_else(response_not_found)?;
    Ok(Json(wire::method_response(r)))
}

pub async fn update_method_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Response> {
    check_status_code(&code)?;
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateMethodResponseInput")?;
    let out = svc
        .edit(&api, |a| {
            let models = a.models.clone();
            let method = find_method(a, &rid, &m)?;
            let r = method
                .method_responses
                .get_mut(&code)
                .ok_or_else(response_not_found)?;
            // A patched map is echoed by its contents alone, as AWS does.
            r.sent_empty.clear();
            for op in &patch.patch_operations {
                let seg = op.segments();
                // Replacing or removing what is not there is a 404, with
                // AWS's words for each map.
                let existing = op.op == "replace" || op.op == "remove";
                match strs(&seg).as_slice() {
                    ["responseParameters", p] => {
                        if existing && !r.response_parameters.contains_key(*p) {
                            return Err(ApiGwError::not_found("Invalid parameter name specified"));
                        }
                        apply_to_map(&mut r.response_parameters, op, p.to_string(), |v| Ok(v == "true"))?
                    }
                    ["responseModels", ct] => {
                        if existing && !r.response_models.contains_key(*ct) {
                            return Err(ApiGwError::not_found("Content-Type specified was not found"));
                        }
                        apply_to_map(&mut r.response_models, op, ct.to_string(), |v| Ok(v.to_string()))?
                    }
                    _ => return Err(op.invalid_path()),
                }
            }
            check_model_names(&models, &r.response_models)?;
            Ok(wire::method_response(r))
        })
        .await
        .map_err(unknown_api_as_resource)?;
    // UpdateMethodResponse answers 201, as the model says.
    Ok(created(out))
}

pub async fn delete_method_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
) -> ApiGwResult<StatusCode> {
    check_status_code(&code)?;
    svc.edit(&api, |a| {
        let method = find_method(a, &rid, &m)?;
        method
            .method_responses
            .remove(&code)
            .map(|_| ())
            .ok_or_else(response_not_found)
    })
    .await
    .map_err(unknown_api_as_resource)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- Integrations

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationInput {
    #[serde(rename = "type")]
    integration_type: Option<String>,
    http_method: Option<String>,
    uri: Option<String>,
    connection_type: Option<String>,
    connection_id: Option<String>,
    credentials: Option<String>,
    request_parameters: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "templates")]
    request_templates: Option<BTreeMap<String, String>>,
    passthrough_behavior: Option<String>,
    content_handling: Option<String>,
    timeout_in_millis: Option<i64>,
    cache_namespace: Option<String>,
    cache_key_parameters: Option<Vec<String>>,
    tls_config: Option<TlsConfigInput>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TlsConfigInput {
    insecure_skip_verification: Option<bool>,
}

/// A template map in which a template may be `null` (what AWS answers for
/// an empty template, so what clients that copy its output send): kept as "".
fn templates<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let m: Option<BTreeMap<String, Option<String>>> = Deserialize::deserialize(d)?;
    Ok(m.map(|m| m.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()))
}

fn check_timeout(t: i64) -> ApiGwResult<u32> {
    if (50..=29_000).contains(&t) {
        Ok(t as u32)
    } else {
        Err(ApiGwError::bad_request(
            "Timeout should be between 50 ms and 29000 ms",
        ))
    }
}

fn check_passthrough(p: &str) -> ApiGwResult<()> {
    if ["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"].contains(&p) {
        Ok(())
    } else {
        Err(ApiGwError::bad_request(format!(
            "Invalid passthrough behavior specified: {p}. Valid values are WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER"
        )))
    }
}

fn check_content_handling(c: &str) -> ApiGwResult<()> {
    if ["CONVERT_TO_BINARY", "CONVERT_TO_TEXT"].contains(&c) {
        Ok(())
    } else {
        Err(ApiGwError::enum_value(
            c,
            "contentHandling",
            &["CONVERT_TO_BINARY", "CONVERT_TO_TEXT"],
        ))
    }
}

/// An AWS / AWS_PROXY integration URI is an API Gateway service ARN,
/// `arn:aws:apigateway:{region}:{service}:path|action/...`; AWS_PROXY
/// reaches Lambda (or Firehose) only. `${stageVariables.x}` may stand in
/// for any part after the service.
fn check_aws_integration_uri(kind: IntegrationType, uri: &str) -> ApiGwResult<()> {
    let parts: Vec<&str> = uri.splitn(6, ':').collect();
    let [arn, partition, service, region, target, rest] = parts.as_slice() else {
        return Err(ApiGwError::bad_request("Invalid ARN specified in the request"));
    };
    if *arn != "arn" || partition.is_empty() {
        return Err(ApiGwError::bad_request("Invalid ARN specified in the request"));
    }
    let path_or_action = rest.split_once('/').map(|(k, _)| k);
    if *service != "apigateway" || region.is_empty() || !matches!(path_or_action, Some("path" | "action")) {
        return Err(ApiGwError::bad_request(
            "AWS ARN for integration must contain path or action",
        ));
    }
    if kind == IntegrationType::AwsProxy && !matches!(*target, "lambda" | "firehose") {
        return Err(ApiGwError::bad_request(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
        ));
    }
    Ok(())
}

/// Mapping sources `method.request.{location}.{name}` must be declared in
/// the method's `requestParameters`.
fn check_mapped_method_parameters<'a>(
    declared: &BTreeMap<String, bool>,
    sources: impl Iterator<Item = &'a String>,
) -> ApiGwResult<()> {
    for source in sources {
        let Some(param) = source.strip_prefix("method.request.") else {
            continue;
        };
        if param == "body" || param.starts_with("body.") {
            continue;
        }
        // A multi-value source may read a parameter declared single-valued.
        let single = param
            .strip_prefix("multivalue")
            .map(|p| format!("method.request.{p}"));
        let is_declared =
            declared.contains_key(source.as_str()) || single.is_some_and(|s| declared.contains_key(&s));
        if !is_declared {
            return Err(invalid_mapping_parameter(source));
        }
    }
    Ok(())
}

fn invalid_mapping_parameter(expression: &str) -> ApiGwError {
    ApiGwError::bad_request(format!(
        "Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: {expression}]"
    ))
}

/// Builds an integration from PutIntegration-style input, with AWS's checks.
pub fn build_integration(
    type_: &str,
    http_method: Option<String>,
    uri: Option<String>,
    resource_id: &str,
) -> ApiGwResult<Integration> {
    let integration_type = IntegrationType::parse(type_).ok_or_else(|| {
        ApiGwError::enum_value(
            type_,
            "putIntegrationInput.type",
            &["HTTP", "MOCK", "AWS_PROXY", "HTTP_PROXY", "AWS"],
        )
    })?;
    if integration_type != IntegrationType::Mock {
        match &http_method {
            None => {
                return Err(ApiGwError::bad_request(
                    "Enumeration value for HttpMethod must be non-empty",
                ));
            }
            Some(m) => check_http_method(m)?,
        }
        if uri.as_deref().is_none_or(str::is_empty) {
            return Err(ApiGwError::bad_request("Invalid integration URI specified"));
        }
    }
    if matches!(
        integration_type,
        IntegrationType::Http | IntegrationType::HttpProxy
    ) && let Some(u) = &uri
        && !is_http_endpoint(u)
    {
        return Err(ApiGwError::bad_request("Invalid HTTP endpoint specified for URI"));
    }
    if matches!(integration_type, IntegrationType::Aws | IntegrationType::AwsProxy)
        && let Some(u) = &uri
    {
        check_aws_integration_uri(integration_type, u)?;
    }
    Ok(Integration {
        integration_type,
        http_method,
        uri,
        connection_type: matches!(
            integration_type,
            IntegrationType::Http | IntegrationType::HttpProxy
        )
        .then(|| "INTERNET".to_string()),
        connection_id: None,
        credentials: None,
        request_parameters: BTreeMap::new(),
        request_templates: BTreeMap::new(),
        passthrough_behavior: Some("WHEN_NO_MATCH".into()),
        content_handling: None,
        timeout_in_millis: 29_000,
        cache_namespace: Some(resource_id.to_string()),
        cache_key_parameters: Vec::new(),
        integration_responses: BTreeMap::new(),
        tls_insecure_skip_verification: None,
    })
}

pub async fn put_integration(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let input: PutIntegrationInput = parse(&body)?;
    let type_ = input
        .integration_type
        .clone()
        .ok_or_else(|| ApiGwError::bad_request("Enumeration value for IntegrationType must be non-empty"))?;
    let mut integration = build_integration(&type_, input.http_method.clone(), input.uri.clone(), &rid)?;
    if let Some(p) = &input.passthrough_behavior {
        check_passthrough(p)?;
        integration.passthrough_behavior = Some(p.clone());
    }
    if let Some(c) = &input.content_handling {
        check_content_handling(c)?;
        integration.content_handling = Some(c.clone());
    }
    if let Some(t) = input.timeout_in_millis {
        integration.timeout_in_millis = check_timeout(t)?;
    }
    if input.connection_type.is_some() {
        integration.connection_type = input.connection_type;
    }
    integration.connection_id = input.connection_id;
    integration.credentials = input.credentials;
    integration.request_parameters = input.request_parameters.unwrap_or_default();
    integration.request_templates = input.request_templates.unwrap_or_default();
    if input.cache_namespace.is_some() {
        integration.cache_namespace = input.cache_namespace;
    }
    integration.cache_key_parameters = input.cache_key_parameters.unwrap_or_default();
    integration.tls_insecure_skip_verification = input.tls_config.and_then(|t| t.insecure_skip_verification);
    let out = svc
        .edit(&api, |a| {
            let method = find_method(a, &rid, &m)?;
            check_mapped_method_parameters(
                &method.request_parameters,
                integration.request_parameters.values(),
            )?;
            let v = wire::integration(&integration);
            method.integration = Some(integration);
            Ok(v)
        })
        .await
        .map_err(unknown_api_as_resource)?;
    Ok(created(out))
}

fn find_integration<'a>(a: &'a mut RestApi, rid: &str, m: &str) -> ApiGwResult<&'a mut Integration> {
    find_method(a, rid, m)?
        .integration
        .as_mut()
        .ok_or_else(integration_not_found)
}

pub async fn get_integration(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
) -> ApiGwResult<Json<Value>> {
    let mut a = svc.get(&api).map_err(unknown_api_as_resource)?;
    Ok(Json(wire::integration(find_integration(&mut a, &rid, &m)?)))
}

pub async fn update_integration(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateIntegrationInput")?;
    let out = svc
        .edit(&api, |a| {
            let declared = find_method(a, &rid, &m)?.request_parameters.clone();
            let i = find_integration(a, &rid, &m)?;
            for op in &patch.patch_operations {
                let seg = op.segments();
                match (op.op.as_str(), strs(&seg).as_slice()) {
                    ("replace", ["uri"]) => i.uri = Some(op.value()?.to_string()),
                    ("replace", ["httpMethod"]) => {
                        check_http_method(op.value()?)?;
                        i.http_method = Some(op.value()?.to_string())
                    }
                    ("replace", ["timeoutInMillis"]) => {
                        i.timeout_in_millis = check_timeout(
                            op.value()?
                                .parse()
                                .map_err(|_| ApiGwError::bad_request("Invalid timeoutInMillis"))?,
                        )?
                    }
                    ("replace", ["passthroughBehavior"]) => {
                        check_passthrough(op.value()?)?;
                        i.passthrough_behavior = op.value.clone()
                    }
                    ("replace", ["contentHandling"]) => {
                        if let Some(c) = &op.value {
                            check_content_handling(c)?;
                        }
                        i.content_handling = op.value.clone()
                    }
                    ("replace", ["credentials"]) => i.credentials = op.value.clone(),
                    (_, ["requestTemplates", ct]) => apply_to_map(
                        &mut i.request_templates,
                        op,
                        ct.to_string(),
                        |v| Ok(v.to_string()),
                    )?,
                    (_, ["requestParameters", p]) => apply_to_map(
                        &mut i.request_parameters,
                        op,
                        p.to_string(),
                        |v| Ok(v.to_string()),
                    )?,
                    ("add", ["cacheKeyParameters", p]) => {
                        if !i.cache_key_parameters.iter().any(|k| k == p) {
                            i.cache_key_parameters.push(p.to_string());
                        }
                    }
                    ("remove", ["cacheKeyParameters", p]) => i.cache_key_parameters.retain(|k| k != p),
                    ("replace", ["cacheNamespace"]) => i.cache_namespace = op.value.clone(),
                    ("replace", ["connectionType"]) => {
                        let v = op.value()?;
                        if !["INTERNET", "VPC_LINK"].contains(&v) {
                            return Err(ApiGwError::enum_value(
                                v,
                                "updateIntegrationInput.connectionType",
                                &["INTERNET", "VPC_LINK"],
                            ));
                        }
                        i.connection_type = Some(v.to_string())
                    }
                    ("replace", ["connectionId"]) => i.connection_id = op.value.clone(),
                    ("replace", ["tlsConfig", "insecureSkipVerification"]) => {
                        i.tls_insecure_skip_verification = Some(op.value.as_deref() == Some("true"))
                    }
                    (
                        _,
                        [
                            "uri"
                            | "httpMethod"
                            | "timeoutInMillis"
                            | "passthroughBehavior"
                            | "contentHandling"
                            | "credentials"
                            | "cacheNamespace"
                            | "connectionType"
                            | "connectionId",
                        ],
                    ) => return Err(op.replace_only()),
                    _ => return Err(op.invalid_path()),
                }
            }
            check_mapped_method_parameters(&declared, i.request_parameters.values())?;
            Ok(wire::integration(i))
        })
        .await
        .map_err(unknown_api_as_resource)?;
    Ok(Json(out))
}

pub async fn delete_integration(
    State(svc): Svc,
    Path((api, rid, m)): Path<(String, String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        let method = find_method(a, &rid, &m)?;
        method
            .integration
            .take()
            .map(|_| ())
            .ok_or_else(integration_not_found)
    })
    .await
    .map_err(unknown_api_as_resource)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct IntegrationResponseInput {
    selection_pattern: Option<String>,
    response_parameters: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "templates")]
    response_templates: Option<BTreeMap<String, String>>,
    content_handling: Option<String>,
}

pub async fn put_integration_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Response> {
    check_status_code(&code)?;
    let input: IntegrationResponseInput = parse(&body)?;
    if let Some(c) = &input.content_handling {
        check_content_handling(c)?;
    }
    // A template is keyed by a media type, `type/subtype`.
    let bad_type = input
        .response_templates
        .iter()
        .flatten()
        .map(|(ct, _)| ct)
        .find(|ct| {
            !ct.split_once('/')
                .is_some_and(|(t, sub)| !t.trim().is_empty() && !sub.trim().is_empty())
        });
    if let Some(ct) = bad_type {
        return Err(ApiGwError::bad_request(format!(
            "Validation Result: warnings : [], errors : [Invalid content type specified: {ct}]"
        )));
    }
    let out = svc
        .edit(&api, |a| {
            find_integration(a, &rid, &m)?;
            // AWS takes an integration response before its method response;
            // only header mappings need the method response to declare them.
            if let Some(params) = input.response_parameters.as_ref().filter(|p| !p.is_empty()) {
                let declared = find_method(a, &rid, &m)?
                    .method_responses
                    .get(&code)
                    .map(|r| r.response_parameters.clone())
                    .ok_or_else(|| {
                        ApiGwError::bad_request(
                            "Invalid mapping expression specified: Validation Result: warnings : [], errors : [No method response exists for method.]",
                        )
                    })?;
                check_mapped_response_headers(&declared, params.keys())?;
            }
            let i = find_integration(a, &rid, &m)?;
            let sent_empty = super::model::sent_empty([
                (
                    "responseParameters",
                    input.response_parameters.as_ref().is_some_and(BTreeMap::is_empty),
                ),
                (
                    "responseTemplates",
                    input.response_templates.as_ref().is_some_and(BTreeMap::is_empty),
                ),
            ]);
            let r = IntegrationResponse {
                status_code: code.clone(),
                selection_pattern: input.selection_pattern,
                response_parameters: input.response_parameters.unwrap_or_default(),
                response_templates: input.response_templates.unwrap_or_default(),
                content_handling: input.content_handling,
                sent_empty,
            };
            let v = wire::integration_response(&r);
            i.integration_responses.insert(code.clone(), r);
            Ok(v)
        })
        .await
        .map_err(unknown_api_as_resource)?;
    Ok(created(out))
}

/// `method.response.header.X` targets must be declared by the method
/// response.
fn check_mapped_response_headers<'a>(
    declared: &BTreeMap<String, bool>,
    targets: impl Iterator<Item = &'a String>,
) -> ApiGwResult<()> {
    match targets.into_iter().find(|t| !declared.contains_key(t.as_str())) {
        Some(t) => Err(invalid_mapping_parameter(t)),
        None => Ok(()),
    }
}

pub async fn get_integration_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
) -> ApiGwResult<Json<Value>> {
    check_status_code(&code)?;
    let mut a = svc.get(&api).map_err(unknown_api_as_resource)?;
    let i = find_integration(&mut a, &rid, &m)?;
    Ok(Json(wire::integration_response(
        i.integration_responses
            .get(&code)
            .ok_or_else(response_not_found)?,
    )))
}

pub async fn update_integration_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    check_status_code(&code)?;
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateIntegrationResponseInput")?;
    let out = svc
        .edit(&api, |a| {
            let declared = find_method(a, &rid, &m)?
                .method_responses
                .get(&code)
                .map(|r| r.response_parameters.clone())
                .unwrap_or_default();
            let i = find_integration(a, &rid, &m)?;
            let r = i
                .integration_responses
                .get_mut(&code)
                .ok_or_else(response_not_found)?;
            let before = r.response_parameters.clone();
            // A patched map is echoed by its contents alone, as AWS does.
            r.sent_empty.clear();
            for op in &patch.patch_operations {
                let seg = op.segments();
                match (op.op.as_str(), strs(&seg).as_slice()) {
                    ("replace", ["selectionPattern"]) => r.selection_pattern = op.value.clone(),
                    ("replace", ["contentHandling"]) => r.content_handling = op.value.clone(),
                    (_, ["responseTemplates", ct]) => {
                        apply_to_map(&mut r.response_templates, op, ct.to_string(), |v| {
                            Ok(v.to_string())
                        })?
                    }
                    (_, ["responseParameters", p]) => {
                        apply_to_map(&mut r.response_parameters, op, p.to_string(), |v| {
                            Ok(v.to_string())
                        })?
                    }
                    _ => return Err(op.unsupported()),
                }
            }
            // Only targets this patch added must be declared: mappings
            // stored before a method response changed stay editable.
            check_mapped_response_headers(
                &declared,
                r.response_parameters.keys().filter(|k| !before.contains_key(*k)),
            )?;
            Ok(wire::integration_response(r))
        })
        .await
        .map_err(unknown_api_as_resource)?;
    Ok(Json(out))
}

pub async fn delete_integration_response(
    State(svc): Svc,
    Path((api, rid, m, code)): Path<(String, String, String, String)>,
) -> ApiGwResult<StatusCode> {
    check_status_code(&code)?;
    svc.edit(&api, |a| {
        let i = find_integration(a, &rid, &m)?;
        i.integration_responses
            .remove(&code)
            .map(|_| ())
            .ok_or_else(response_not_found)
    })
    .await
    .map_err(unknown_api_as_resource)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- Deployments

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateDeploymentInput {
    stage_name: Option<String>,
    stage_description: Option<String>,
    description: Option<String>,
    variables: Option<BTreeMap<String, String>>,
    tracing_enabled: Option<bool>,
    cache_cluster_enabled: Option<bool>,
    canary_settings: Option<CanarySettingsInput>,
}

/// `canarySettings` of CreateDeployment and CreateStage (CreateDeployment's
/// has no `deploymentId`: the new deployment is the canary).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CanarySettingsInput {
    deployment_id: Option<String>,
    percent_traffic: Option<f64>,
    stage_variable_overrides: Option<BTreeMap<String, String>>,
    use_stage_cache: Option<bool>,
}

impl CanarySettingsInput {
    /// The canary's settings, once checked; `deployment_id` when the input
    /// names none.
    fn settings(self, deployment_id: &str) -> ApiGwResult<CanarySettings> {
        let overrides = self.stage_variable_overrides.unwrap_or_default();
        check_variables(&overrides)?;
        Ok(CanarySettings {
            deployment_id: self.deployment_id.unwrap_or_else(|| deployment_id.to_string()),
            percent_traffic: check_percent_traffic(self.percent_traffic.unwrap_or(0.0))?,
            stage_variable_overrides: overrides,
            use_stage_cache: self.use_stage_cache.unwrap_or(false),
        })
    }
}

fn check_percent_traffic(p: f64) -> ApiGwResult<f64> {
    if (0.0..=100.0).contains(&p) {
        Ok(p)
    } else {
        Err(ApiGwError::bad_request(format!(
            "Invalid canary settings: percentTraffic {p} must be between 0.0 and 100.0"
        )))
    }
}

pub fn check_stage_name(name: &str) -> ApiGwResult<()> {
    if !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(ApiGwError::bad_request("Stage name only allows a-zA-Z0-9_"))
    }
}

pub fn check_variables(vars: &BTreeMap<String, String>) -> ApiGwResult<()> {
    for (k, v) in vars {
        let key_ok =
            !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let value_ok = v.len() <= 512
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#&=,".contains(&b));
        if !key_ok || !value_ok {
            return Err(ApiGwError::bad_request(format!(
                "Stage variable value {v} for key {k} is invalid. Stage variable names must be alphanumeric or underscore, and values must match [A-Za-z0-9-._~:/?#&=,]+"
            )));
        }
    }
    Ok(())
}

/// Snapshots the API into a deployment after checking it can run.
pub fn snapshot(a: &RestApi, description: Option<String>) -> ApiGwResult<Deployment> {
    let mut any = false;
    for r in a.resources.values() {
        for m in r.methods.values() {
            any = true;
            let path = RestApi::path_of(&a.resources, &r.id).unwrap_or_default();
            let Some(i) = &m.integration else {
                return Err(ApiGwError::bad_request("No integration defined for method"));
            };
            crate::frontdoor::compile::check_integration(i)
                .map_err(|e| ApiGwError::bad_request(format!("{e} ({} {path})", m.http_method)))?;
            if matches!(m.authorization_type.as_str(), "CUSTOM" | "COGNITO_USER_POOLS") {
                check_authorization(&m.authorization_type, m.authorizer_id.as_deref(), &a.authorizers)
                    .map_err(|e| {
                        ApiGwError::bad_request(format!("{} ({} {path})", e.message, m.http_method))
                    })?;
                if let Some(az) = m.authorizer_id.as_ref().and_then(|id| a.authorizers.get(id)) {
                    super::authorizers::check_deployable(az)
                        .map_err(|e| ApiGwError::bad_request(format!("{e} ({} {path})", m.http_method)))?;
                }
            }
        }
    }
    if !any {
        return Err(ApiGwError::bad_request(
            "The REST API doesn't contain any methods",
        ));
    }
    Ok(draft(a, description))
}

/// The API as it stands, as a deployment (unchecked: TestInvokeMethod runs
/// one method of an API whose other methods may be unfinished).
pub fn draft(a: &RestApi, description: Option<String>) -> Deployment {
    Deployment {
        id: new_id(6),
        description,
        created_date: now_epoch(),
        resources: a.resources.clone(),
        binary_media_types: a.binary_media_types.clone(),
        authorizers: a.authorizers.clone(),
        gateway_responses: a.gateway_responses.clone(),
        policy: a.policy.clone(),
        api_key_source: a.api_key_source.clone(),
        models: a.models.clone(),
        request_validators: a.request_validators.clone(),
    }
}

/// Points (or creates) a stage at a deployment.
pub fn upsert_stage(
    a: &mut RestApi,
    name: &str,
    deployment_id: &str,
    description: Option<String>,
    variables: Option<BTreeMap<String, String>>,
) {
    let now = now_epoch();
    match a.stages.get_mut(name) {
        Some(s) => {
            s.deployment_id = deployment_id.to_string();
            if let Some(v) = variables {
                s.variables.extend(v);
            }
            if description.is_some() {
                s.description = description;
            }
            s.last_updated_date = now;
        }
        None => {
            a.stages.insert(
                name.to_string(),
                Stage {
                    stage_name: name.to_string(),
                    deployment_id: deployment_id.to_string(),
                    description,
                    variables: variables.unwrap_or_default(),
                    created_date: now,
                    last_updated_date: now,
                    tracing_enabled: false,
                    cache_cluster_enabled: false,
                    cache_cluster_size: None,
                    method_settings: BTreeMap::new(),
                    tags: BTreeMap::new(),
                    documentation_version: None,
                    client_certificate_id: None,
                    access_log_settings: None,
                    canary_settings: None,
                },
            );
        }
    }
}

pub async fn create_deployment(
    State(svc): Svc,
    Path(api): Path<String>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let mut input: CreateDeploymentInput = parse(&body)?;
    let canary = input.canary_settings.take();
    if canary.is_some() {
        match input.stage_name.as_deref() {
            None | Some("") => {
                return Err(ApiGwError::bad_request(format!(
                    "Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is {}",
                    input.stage_name.as_deref().unwrap_or("null")
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(s) = &input.stage_name {
        check_stage_name(s)?;
    }
    if let Some(v) = &input.variables {
        check_variables(v)?;
    }
    let out = svc
        .edit(&api, |a| {
            if canary.is_some()
                && let Some(stage) = input.stage_name.as_deref()
                && !a.stages.contains_key(stage)
            {
                return Err(ApiGwError::bad_request(format!(
                    "Invalid deployment content specified.Stage {stage} must already be created before making a canary release deployment"
                )));
            }
            let d = snapshot(a, input.description.clone())?;
            let v = wire::deployment(&d, false);
            let id = d.id.clone();
            a.deployments.insert(id.clone(), std::sync::Arc::new(d));
            let Some(stage) = &input.stage_name else {
                return Ok(v);
            };
            match canary {
                // A canary release: the stage keeps serving its deployment,
                // and the new one takes the canary's share.
                Some(c) => {
                    let settings = c.settings(&id)?;
                    let s = a.stages.get_mut(stage).ok_or_else(stage_not_found)?;
                    s.canary_settings = Some(CanarySettings {
                        deployment_id: id.clone(),
                        ..settings
                    });
                    if let Some(vars) = input.variables.clone() {
                        s.variables.extend(vars);
                    }
                    if input.stage_description.is_some() {
                        s.description = input.stage_description.clone();
                    }
                    s.last_updated_date = now_epoch();
                }
                None => {
                    upsert_stage(
                        a,
                        stage,
                        &id,
                        input.stage_description.clone(),
                        input.variables.clone(),
                    );
                    if let Some(s) = a.stages.get_mut(stage) {
                        // A plain deployment ends a canary release.
                        s.canary_settings = None;
                    }
                }
            }
            if let Some(s) = a.stages.get_mut(stage) {
                s.tracing_enabled = input.tracing_enabled.unwrap_or(s.tracing_enabled);
                s.cache_cluster_enabled = input.cache_cluster_enabled.unwrap_or(s.cache_cluster_enabled);
            }
            Ok(v)
        })
        .await?;
    tracing::info!(api = %api, deployment = %out["id"], "deployment created");
    Ok(created(out))
}

fn deployment_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Deployment identifier specified")
}

pub async fn get_deployments(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let mut ds: Vec<&Deployment> = a.deployments.values().map(|d| &**d).collect();
    ds.sort_by(|x, y| x.created_date.cmp(&y.created_date).then(x.id.cmp(&y.id)));
    Ok(Json(page(
        ds.into_iter().map(|d| wire::deployment(d, false)).collect(),
        &q,
    )?))
}

pub async fn get_deployment(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let d = a.deployments.get(&id).ok_or_else(deployment_not_found)?;
    let summary = q.get("embed").is_some_and(|e| e.contains("apisummary"));
    Ok(Json(wire::deployment(d, summary)))
}

pub async fn update_deployment(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateDeploymentInput")?;
    let out = svc
        .edit(&api, |a| {
            // A new snapshot (the store rewrites only changed ones).
            let d = std::sync::Arc::make_mut(a.deployments.get_mut(&id).ok_or_else(deployment_not_found)?);
            for op in &patch.patch_operations {
                match (op.op.as_str(), op.path.as_str()) {
                    ("replace", "/description") => d.description = op.value.clone(),
                    _ => return Err(op.unsupported()),
                }
            }
            Ok(wire::deployment(d, false))
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_deployment(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        if !a.deployments.contains_key(&id) {
            return Err(deployment_not_found());
        }
        if a.stages.values().any(|s| {
            s.deployment_id == id || s.canary_settings.as_ref().is_some_and(|c| c.deployment_id == id)
        }) {
            return Err(ApiGwError::bad_request(
                "Active stages pointing to this deployment must be moved or deleted",
            ));
        }
        a.deployments.remove(&id);
        Ok(())
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

// ---------------------------------------------------------------- Stages

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateStageInput {
    stage_name: Option<String>,
    deployment_id: Option<String>,
    description: Option<String>,
    variables: Option<BTreeMap<String, String>>,
    tracing_enabled: Option<bool>,
    cache_cluster_enabled: Option<bool>,
    cache_cluster_size: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    documentation_version: Option<String>,
    canary_settings: Option<CanarySettingsInput>,
}

fn stage_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Stage identifier specified")
}

pub async fn create_stage(State(svc): Svc, Path(api): Path<String>, body: Bytes) -> ApiGwResult<Response> {
    let input: CreateStageInput = parse(&body)?;
    let name = input
        .stage_name
        .ok_or_else(|| ApiGwError::bad_request("Stage name only allows a-zA-Z0-9_"))?;
    check_stage_name(&name)?;
    let deployment = input
        .deployment_id
        .ok_or_else(|| ApiGwError::bad_request("Deployment id does not exist"))?;
    let variables = input.variables.unwrap_or_default();
    check_variables(&variables)?;
    let out = svc
        .edit(&api, |a| {
            if a.stages.contains_key(&name) {
                return Err(ApiGwError::conflict("Stage already exists"));
            }
            if !a.deployments.contains_key(&deployment) {
                return Err(deployment_not_found());
            }
            let canary = match input.canary_settings {
                Some(c) => {
                    let c = c.settings(&deployment)?;
                    if !a.deployments.contains_key(&c.deployment_id) {
                        return Err(ApiGwError::bad_request("Deployment id does not exist"));
                    }
                    Some(c)
                }
                None => None,
            };
            upsert_stage(a, &name, &deployment, input.description, Some(variables));
            let s = a.stages.get_mut(&name).ok_or_else(stage_not_found)?;
            s.tracing_enabled = input.tracing_enabled.unwrap_or(false);
            s.cache_cluster_enabled = input.cache_cluster_enabled.unwrap_or(false);
            s.cache_cluster_size = input.cache_cluster_size;
            s.tags = input.tags.unwrap_or_default();
            s.documentation_version = input.documentation_version;
            s.canary_settings = canary;
            Ok(wire::stage(s))
        })
        .await?;
    Ok(created(out))
}

pub async fn get_stages(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let items: Vec<Value> = a
        .stages
        .values()
        .filter(|s| q.get("deploymentId").is_none_or(|d| *d == s.deployment_id))
        .map(wire::stage)
        .collect();
    Ok(Json(json!({ "item": items })))
}

pub async fn get_stage(
    State(svc): Svc,
    Path((api, name)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    Ok(Json(wire::stage(
        a.stages.get(&name).ok_or_else(stage_not_found)?,
    )))
}

pub async fn update_stage(
    State(svc): Svc,
    Path((api, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateStageInput")?;
    let out = svc
        .edit(&api, |a| {
            let deployments: Vec<String> = a.deployments.keys().cloned().collect();
            let s = a.stages.get_mut(&name).ok_or_else(stage_not_found)?;
            for op in &patch.patch_operations {
                if op.op == "copy" {
                    promote_canary(s, op)?;
                    continue;
                }
                if op.path.starts_with("/canarySettings") {
                    apply_canary_op(s, op, &deployments)?;
                    continue;
                }
                let seg = op.segments();
                // A method setting's path names the method as written:
                // `/~1pets/GET/...` is stored under `~1pets/GET`, as AWS does.
                let raw: Vec<&str> = op.path.trim_start_matches('/').split('/').collect();
                match (op.op.as_str(), strs(&seg).as_slice()) {
                    ("replace", ["deploymentId"]) => {
                        let d = op.value()?;
                        if !deployments.iter().any(|x| x == d) {
                            return Err(deployment_not_found());
                        }
                        s.deployment_id = d.to_string();
                    }
                    ("replace", ["description"]) => s.description = op.value.clone(),
                    ("replace", ["tracingEnabled"]) => s.tracing_enabled = op.bool_value()?,
                    ("replace", ["cacheClusterEnabled"]) => s.cache_cluster_enabled = op.bool_value()?,
                    ("replace", ["cacheClusterSize"]) => s.cache_cluster_size = op.value.clone(),
                    ("replace", ["clientCertificateId"]) => s.client_certificate_id = op.value.clone(),
                    ("replace", ["accessLogSettings", field @ ("format" | "destinationArn")]) => {
                        let log = s.access_log_settings.get_or_insert_with(Default::default);
                        match *field {
                            "format" => log.format = op.value.clone(),
                            _ => log.destination_arn = op.value.clone(),
                        }
                    }
                    ("remove", ["accessLogSettings"]) => s.access_log_settings = None,
                    (_, ["variables", k]) => {
                        apply_to_map(&mut s.variables, op, k.to_string(), |v| Ok(v.to_string()))?;
                        check_variables(&s.variables)?;
                    }
                    (_, [_, _, ..])
                        if raw.len() == seg.len() && !matches!(raw[0], "variables" | "accessLogSettings") =>
                    {
                        let key = format!("{}/{}", raw[0], raw[1]);
                        let setting = raw[2..].join("/");
                        apply_method_setting(&mut s.method_settings, &key, &setting, op)?;
                    }
                    (_, [path, ..])
                        if matches!(
                            *path,
                            "deploymentId"
                                | "description"
                                | "tracingEnabled"
                                | "cacheClusterEnabled"
                                | "cacheClusterSize"
                                | "clientCertificateId"
                                | "accessLogSettings"
                        ) =>
                    {
                        return Err(op.unsupported());
                    }
                    _ => return Err(invalid_stage_path(&op.path)),
                }
            }
            s.last_updated_date = now_epoch();
            Ok(wire::stage(s))
        })
        .await?;
    Ok(Json(out))
}

/// A `copy` op of UpdateStage: the only ones AWS takes promote a canary,
/// copying its deployment or its variable overrides onto the stage.
fn promote_canary(s: &mut Stage, op: &super::patch::PatchOperation) -> ApiGwResult<()> {
    let from = op.from.as_deref().unwrap_or("null");
    let field = match (op.path.as_str(), from) {
        ("/deploymentId", "/canarySettings/deploymentId") => "deploymentId",
        ("/variables", "/canarySettings/stageVariableOverrides") => "variables",
        _ => {
            return Err(ApiGwError::bad_request(format!(
                "Invalid copy operation with path: {} and from {from}. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]",
                op.path
            )));
        }
    };
    let Some(canary) = &s.canary_settings else {
        return Err(ApiGwError::bad_request(
            "Promotion not available. Canary does not exist.",
        ));
    };
    match field {
        "deploymentId" => s.deployment_id = canary.deployment_id.clone(),
        _ => s.variables.extend(
            canary
                .stage_variable_overrides
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        ),
    }
    Ok(())
}

/// One UpdateStage op under `/canarySettings`. Only `replace` sets a field
/// (creating the canary, on the stage's own deployment, if there is none)
/// and only `remove /canarySettings` ends it, as AWS has it.
fn apply_canary_op(
    s: &mut Stage,
    op: &super::patch::PatchOperation,
    deployments: &[String],
) -> ApiGwResult<()> {
    let path = op.path.as_str();
    if path == "/canarySettings" && op.op == "remove" {
        s.canary_settings = None;
        return Ok(());
    }
    let field = path
        .strip_prefix("/canarySettings/")
        .map(|rest| rest.split_once('/').map_or((rest, None), |(f, k)| (f, Some(k))));
    let known = match field {
        Some(("percentTraffic" | "deploymentId" | "useStageCache", None)) => true,
        Some(("stageVariableOverrides", Some(k))) => !k.is_empty(),
        _ => false,
    };
    if op.op != "replace" {
        return Err(ApiGwError::bad_request(if known {
            format!("Invalid {} operation with path: {path}", op.op)
        } else {
            format!(
                "Cannot {} method setting {} because there is no method setting for this method ",
                op.op,
                path.trim_start_matches('/')
            )
        }));
    }
    let Some((field, key)) = field.filter(|_| known) else {
        return Err(invalid_stage_path(path));
    };
    let value = op.value()?;
    let stage_deployment = &s.deployment_id;
    let canary = s
        .canary_settings
        .get_or_insert_with(|| CanarySettings::new(stage_deployment));
    match (field, key) {
        ("percentTraffic", _) => {
            let p = value
                .parse::<f64>()
                .map_err(|_| ApiGwError::bad_request(format!("Invalid percentTraffic value: {value}")))?;
            canary.percent_traffic = check_percent_traffic(p)?;
        }
        ("deploymentId", _) => {
            if !deployments.iter().any(|d| d == value) {
                return Err(ApiGwError::bad_request("Deployment id does not exist"));
            }
            canary.deployment_id = value.to_string();
        }
        ("useStageCache", _) => canary.use_stage_cache = op.bool_value()?,
        (_, Some(name)) => {
            canary
                .stage_variable_overrides
                .insert(super::patch::unescape(name), value.to_string());
            check_variables(&canary.stage_variable_overrides)?;
        }
        _ => return Err(invalid_stage_path(path)),
    }
    Ok(())
}

/// AWS's answer to an UpdateStage path it does not know, with its list of
/// the paths it does (typos and missing commas included).
fn invalid_stage_path(path: &str) -> ApiGwError {
    ApiGwError::bad_request(format!(
        "Invalid method setting path: {path}. Must be one of: [/deploymentId, /description, /cacheClusterEnabled, \
/cacheClusterSize, /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, \
/accessLogSettings/format, /{{resourcePath}}/{{httpMethod}}/metrics/enabled, \
/{{resourcePath}}/{{httpMethod}}/logging/dataTrace, /{{resourcePath}}/{{httpMethod}}/logging/loglevel, \
/{{resourcePath}}/{{httpMethod}}/throttling/burstLimit/{{resourcePath}}/{{httpMethod}}/throttling/rateLimit\
/{{resourcePath}}/{{httpMethod}}/caching/ttlInSeconds, /{{resourcePath}}/{{httpMethod}}/caching/enabled, \
/{{resourcePath}}/{{httpMethod}}/caching/dataEncrypted, \
/{{resourcePath}}/{{httpMethod}}/caching/requireAuthorizationForCacheControl, \
/{{resourcePath}}/{{httpMethod}}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, \
/*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit \
/*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, \
/*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy, \
/variables/{{variable_name}}, /tracingEnabled]"
    ))
}

/// Every field of a method setting with AWS's defaults (what AWS echoes
/// once any setting of a method is patched); `loggingLevel` appears only
/// once set.
fn default_method_setting() -> Value {
    json!({
        "metricsEnabled": false,
        "dataTraceEnabled": false,
        "throttlingBurstLimit": 5000,
        "throttlingRateLimit": 10000.0,
        "cachingEnabled": false,
        "cacheTtlInSeconds": 300,
        "cacheDataEncrypted": false,
        "requireAuthorizationForCacheControl": true,
        "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
    })
}

/// Applies one `/{resourcePath}/{METHOD}/{setting}` patch operation.
fn apply_method_setting(
    settings: &mut BTreeMap<String, Value>,
    key: &str,
    setting: &str,
    op: &super::patch::PatchOperation,
) -> ApiGwResult<()> {
    if op.op == "remove" && setting.is_empty() {
        return match settings.remove(key) {
            Some(_) => Ok(()),
            None => Err(ApiGwError::bad_request(format!(
                "Cannot remove method setting {key} because there is no method setting for this method "
            ))),
        };
    }
    let invalid = || invalid_stage_path(&op.path);
    let raw = op.value.clone().unwrap_or_default();
    let boolean = || match raw.as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        _ => Err(ApiGwError::bad_request(format!("Invalid boolean value: {raw}"))),
    };
    let (field, value) = match setting {
        "metrics/enabled" => ("metricsEnabled", boolean()?),
        "logging/dataTrace" => ("dataTraceEnabled", boolean()?),
        "logging/loglevel" => match raw.as_str() {
            "OFF" | "ERROR" | "INFO" => ("loggingLevel", Value::from(raw.clone())),
            _ => return Err(ApiGwError::bad_request(format!("Invalid logging level: {raw}"))),
        },
        "throttling/burstLimit" => (
            "throttlingBurstLimit",
            Value::from(
                raw.parse::<i64>()
                    .map_err(|_| ApiGwError::bad_request(format!("Invalid throttling burst limit: {raw}")))?,
            ),
        ),
        "throttling/rateLimit" => (
            "throttlingRateLimit",
            Value::from(
                raw.parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r >= 0.0)
                    .ok_or_else(|| {
                        ApiGwError::bad_request(format!("Invalid throttling rate limit: {raw}"))
                    })?,
            ),
        ),
        "caching/enabled" => ("cachingEnabled", boolean()?),
        "caching/dataEncrypted" => ("cacheDataEncrypted", boolean()?),
        "caching/requireAuthorizationForCacheControl" => ("requireAuthorizationForCacheControl", boolean()?),
        "caching/ttlInSeconds" => (
            "cacheTtlInSeconds",
            Value::from(
                raw.parse::<i64>()
                    .ok()
                    .filter(|t| (0..=3600).contains(t))
                    .ok_or_else(|| ApiGwError::bad_request(format!("Invalid cache TTL: {raw}")))?,
            ),
        ),
        "caching/unauthorizedCacheControlHeaderStrategy" => match raw.as_str() {
            "FAIL_WITH_403" | "SUCCEED_WITH_RESPONSE_HEADER" | "SUCCEED_WITHOUT_RESPONSE_HEADER" => {
                ("unauthorizedCacheControlHeaderStrategy", Value::from(raw.clone()))
            }
            _ => return Err(invalid()),
        },
        _ => return Err(invalid()),
    };
    // A method's own settings start as a copy of the stage's `*/*` ones.
    let inherited = settings
        .get("*/*")
        .filter(|_| key != "*/*")
        .filter(|s| s.is_object())
        .cloned();
    let entry = settings
        .entry(key.to_string())
        .or_insert_with(|| inherited.unwrap_or_else(default_method_setting));
    if !entry.is_object() {
        *entry = default_method_setting();
    }
    if let Some(obj) = entry.as_object_mut() {
        obj.insert(field.to_string(), value);
    }
    Ok(())
}

pub async fn delete_stage(
    State(svc): Svc,
    Path((api, name)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        a.stages.remove(&name).map(|_| ()).ok_or_else(stage_not_found)
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

// ---------------------------------------------------------------- Tags

#[derive(Deserialize, Default)]
struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

enum Tagged {
    Api(String),
    Stage(String, String),
}

fn tagged(arn: &str) -> ApiGwResult<Tagged> {
    let bad = || ApiGwError::bad_request(format!("Invalid resource ARN specified: {arn}"));
    let path = arn
        .strip_prefix("arn:aws:apigateway:")
        .and_then(|rest| rest.split_once("::"))
        .map(|(_, p)| p)
        .ok_or_else(bad)?;
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["restapis", id] => Ok(Tagged::Api(id.to_string())),
        ["restapis", id, "stages", stage] => Ok(Tagged::Stage(id.to_string(), stage.to_string())),
        _ => Err(bad()),
    }
}

fn tags_mut<'a>(a: &'a mut RestApi, t: &Tagged) -> ApiGwResult<&'a mut BTreeMap<String, String>> {
    match t {
        Tagged::Api(_) => Ok(&mut a.tags),
        Tagged::Stage(_, s) => a
            .stages
            .get_mut(s)
            .map(|s| &mut s.tags)
            .ok_or_else(stage_not_found),
    }
}

fn api_of(t: &Tagged) -> &str {
    match t {
        Tagged::Api(id) | Tagged::Stage(id, _) => id,
    }
}

pub async fn get_tags(State(svc): Svc, Path(arn): Path<String>) -> ApiGwResult<Json<Value>> {
    let t = tagged(&arn)?;
    let mut a = svc.get(api_of(&t))?;
    Ok(Json(json!({ "tags": tags_mut(&mut a, &t)? })))
}

pub async fn tag_resource(State(svc): Svc, Path(arn): Path<String>, body: Bytes) -> ApiGwResult<StatusCode> {
    let t = tagged(&arn)?;
    let input: TagInput = parse(&body)?;
    svc.edit(api_of(&t), |a| {
        tags_mut(a, &t)?.extend(input.tags.unwrap_or_default());
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn untag_resource(
    State(svc): Svc,
    Path(arn): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> ApiGwResult<StatusCode> {
    let t = tagged(&arn)?;
    let keys: Vec<String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "tagKeys")
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    svc.edit(api_of(&t), |a| {
        let tags = tags_mut(a, &t)?;
        for k in &keys {
            tags.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod endpoint_tests {
    use super::is_http_endpoint;

    #[test]
    fn http_endpoints_must_be_urls_with_a_host() {
        for ok in [
            "http://example.com",
            "https://example.com:8443/a/b?q=1",
            "http://example.com/{proxy}",
            "http://${stageVariables.host}/pets/{id}",
            "https://${stageVariables.host}:${stageVariables.port}/",
            "http://[::1]:8080/x",
        ] {
            assert!(is_http_endpoint(ok), "{ok}");
        }
        for bad in [
            "ftp://example.com",
            "example.com",
            "http://[::1",
            "http://a b/",
            "http://",
            "http://example.com/{open",
        ] {
            assert!(!is_http_endpoint(bad), "{bad}");
        }
    }
}
