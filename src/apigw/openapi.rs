//! OpenAPI import for REST APIs: owns parsing an OpenAPI 3.0 or Swagger 2.0 document (JSON or YAML)
//! with the AWS API Gateway `x-amazon-apigateway-*` extensions into a neutral [`ImportedApi`], which
//! the REST API model maps onto resources, methods and integrations (as AWS `ImportRestApi` /
//! `PutRestApi` do).
//!
//! The parser only reads the document; it does not validate URIs, ARNs or mapping expressions (the
//! model does that when the import is applied). Structural problems (not JSON/YAML, wrong version,
//! `paths` not an object, a malformed integration, ...) are [`ImportError`]s naming the location;
//! everything AWS would accept with a warning is accepted with a human-readable warning in
//! [`ImportedApi::warnings`]. Extensions that are not modelled here are kept verbatim in
//! [`ImportedApi::extensions`] with their JSON-pointer location.
//!
//! Both JSON and YAML are read into an order-preserving YAML value tree, so resources and methods
//! keep document order (serde_json's map is sorted) and YAML's non-string keys (`200:`) work.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

const EXT_PREFIX: &str = "x-amazon-apigateway-";
const EXT_ANY_METHOD: &str = "x-amazon-apigateway-any-method";
const EXT_INTEGRATION: &str = "x-amazon-apigateway-integration";
const EXT_BINARY_MEDIA_TYPES: &str = "x-amazon-apigateway-binary-media-types";
const EXT_API_KEY_SOURCE: &str = "x-amazon-apigateway-api-key-source";
const EXT_POLICY: &str = "x-amazon-apigateway-policy";
const EXT_AUTHORIZER: &str = "x-amazon-apigateway-authorizer";
const EXT_AUTHTYPE: &str = "x-amazon-apigateway-authtype";
const EXT_GATEWAY_RESPONSES: &str = "x-amazon-apigateway-gateway-responses";
const EXT_REQUEST_VALIDATORS: &str = "x-amazon-apigateway-request-validators";
const EXT_REQUEST_VALIDATOR: &str = "x-amazon-apigateway-request-validator";
const EXT_ENDPOINT_CONFIGURATION: &str = "x-amazon-apigateway-endpoint-configuration";
const EXT_MINIMUM_COMPRESSION_SIZE: &str = "x-amazon-apigateway-minimum-compression-size";
const EXT_DOCUMENTATION: &str = "x-amazon-apigateway-documentation";

/// Operation keys of a path item that API Gateway supports (besides the any-method extension).
const HTTP_METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "options", "head"];
/// Maximum number of `$ref` hops followed before giving up (guards against reference cycles).
const MAX_REF_HOPS: usize = 32;

/// The API described by an imported document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedApi {
    /// `info.title` → RestApi name.
    pub title: Option<String>,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.version`.
    pub version: Option<String>,
    /// `x-amazon-apigateway-binary-media-types`, verbatim (OpenAPI uses plain `/`, never `~1`),
    /// duplicates removed, document order kept.
    pub binary_media_types: Vec<String>,
    /// `x-amazon-apigateway-api-key-source` (`HEADER` | `AUTHORIZER`), upper-cased.
    pub api_key_source: Option<String>,
    /// `x-amazon-apigateway-policy`, verbatim.
    pub policy: Option<serde_json::Value>,
    /// One entry per path in `paths`, in document order; methods in document order.
    pub resources: Vec<ImportedResource>,
    /// Every security scheme carrying `x-amazon-apigateway-authorizer`, in definition order:
    /// (scheme name, the authorizer object verbatim, the scheme's `name` when `in: header`).
    pub authorizers: Vec<(String, serde_json::Value, Option<String>)>,
    /// `x-amazon-apigateway-gateway-responses`, in document order: response type (as written) →
    /// customisation.
    pub gateway_responses: Vec<(String, ImportedGatewayResponse)>,
    /// Swagger 2 `definitions` / OpenAPI 3 `components.schemas`, in document order: model name →
    /// schema verbatim (references to other definitions still in their `#/...` form).
    pub models: Vec<(String, serde_json::Value)>,
    /// `x-amazon-apigateway-request-validators`, in document order.
    pub request_validators: Vec<ImportedRequestValidator>,
    /// `x-amazon-apigateway-documentation`'s `documentationParts`: each
    /// part's `location` and `properties` as written.
    pub documentation_parts: Vec<(serde_json::Value, serde_json::Value)>,
    /// The document-level `x-amazon-apigateway-request-validator`: the validator of every method
    /// that names none of its own.
    pub request_validator: Option<String>,
    /// Swagger 2's `basePath`; in OpenAPI 3 the first `basePath` server
    /// variable's default, else the path of the first server's `url`. Used
    /// only when the import asks for `basepath=prepend|split`.
    pub base_path: Option<String>,
    /// `x-amazon-apigateway-endpoint-configuration.disableExecuteApiEndpoint`
    /// (at the root in Swagger 2, on a server in OpenAPI 3).
    pub disable_execute_api_endpoint: Option<bool>,
    /// `x-amazon-apigateway-minimum-compression-size`.
    pub minimum_compression_size: Option<i64>,
    /// Human-readable warnings (AWS-style) about what the import ignored or could not use.
    pub warnings: Vec<String>,
    /// Every x-amazon-apigateway-* extension not modelled above, kept verbatim with its JSON pointer
    /// location (`""` for the document root), for later features:
    /// (location like "/paths/~1users/get", extension name, value). AWS imports these without a
    /// warning, so they are logged on the server, not reported to the caller.
    pub extensions: Vec<(String, String, serde_json::Value)>,
}

/// One entry of `paths`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedResource {
    /// The path key, e.g. "/users/{id}".
    pub path: String,
    /// The operations of the path item, in document order.
    pub methods: Vec<ImportedMethod>,
}

/// One operation of a path item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedMethod {
    /// Upper case; `x-amazon-apigateway-any-method` → "ANY".
    pub http_method: String,
    /// `operationId`.
    pub operation_name: Option<String>,
    /// "NONE" by default; "CUSTOM" when security names a scheme with an x-amazon-apigateway-authorizer
    /// ("COGNITO_USER_POOLS" when that authorizer's type is `cognito_user_pools`); "AWS_IAM" when the
    /// security scheme has x-amazon-apigateway-authtype "awsSigv4".
    pub authorization_type: String,
    /// The security scheme name when CUSTOM / COGNITO_USER_POOLS.
    pub authorizer_name: Option<String>,
    /// Security includes a scheme of type apiKey named in header x-api-key (the usual `api_key` scheme).
    pub api_key_required: bool,
    /// From `parameters` (path-level then operation-level; in: path|query|header) →
    /// "method.request.path.id" / "method.request.querystring.q" / "method.request.header.h": required.
    pub request_parameters: BTreeMap<String, bool>,
    /// Method responses from the operation's `responses`, in document order: status code →
    /// declared headers as "method.response.header.X": false.
    pub method_responses: Vec<(String, BTreeMap<String, bool>)>,
    /// `x-amazon-apigateway-integration`.
    pub integration: Option<ImportedIntegration>,
    /// The operation's `x-amazon-apigateway-request-validator` (a name from
    /// `x-amazon-apigateway-request-validators`).
    pub request_validator: Option<String>,
    /// The request body's schema per content type: Swagger 2's `in: body` parameter (for each of
    /// the operation's `consumes`, else the document's, else `application/json`) or OpenAPI 3's
    /// `requestBody.content`.
    pub request_models: Vec<(String, ImportedModelRef)>,
    /// Status code → content type → model, from responses whose schema is a
    /// `$ref` to a definition (Swagger 2's `schema`, for each `produces`
    /// type, else `application/json`; OpenAPI 3's `content.{type}.schema`).
    pub response_models: BTreeMap<String, BTreeMap<String, String>>,
}

/// The schema a request body refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportedModelRef {
    /// A `$ref` to a definition (`#/definitions/X`, `#/components/schemas/X`): its name.
    Named(String),
    /// A schema written in place.
    Inline(serde_json::Value),
}

/// One entry of `x-amazon-apigateway-request-validators`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedRequestValidator {
    pub name: String,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

/// An `x-amazon-apigateway-integration` object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedIntegration {
    /// `type` upper-cased: AWS_PROXY, AWS, HTTP, HTTP_PROXY, MOCK.
    pub integration_type: String,
    /// `httpMethod`, upper-cased.
    pub http_method: Option<String>,
    pub uri: Option<String>,
    /// Lower-case in OAS (when_no_match) → upper-case WHEN_NO_MATCH.
    pub passthrough_behavior: Option<String>,
    /// Upper-cased (CONVERT_TO_TEXT | CONVERT_TO_BINARY).
    pub content_handling: Option<String>,
    pub timeout_in_millis: Option<u32>,
    pub request_parameters: BTreeMap<String, String>,
    pub request_templates: BTreeMap<String, String>,
    pub cache_key_parameters: Vec<String>,
    pub cache_namespace: Option<String>,
    pub credentials: Option<String>,
    /// Upper-cased (INTERNET | VPC_LINK).
    pub connection_type: Option<String>,
    /// `responses`: map of selection pattern (or "default") → response, in document order.
    pub responses: Vec<(String, ImportedIntegrationResponse)>,
}

/// One entry of an integration's `responses`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedIntegrationResponse {
    pub status_code: String,
    pub response_parameters: BTreeMap<String, String>,
    pub response_templates: BTreeMap<String, String>,
    pub content_handling: Option<String>,
}

/// One entry of `x-amazon-apigateway-gateway-responses`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedGatewayResponse {
    /// `statusCode` (a number or a string in the document).
    pub status_code: Option<String>,
    pub response_parameters: BTreeMap<String, String>,
    pub response_templates: BTreeMap<String, String>,
}

/// Why a document cannot be imported; the message is AWS-like and names the location.
#[derive(Debug, PartialEq)]
pub struct ImportError(pub String);

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

/// Parses an OpenAPI 3.x or Swagger 2.0 document (JSON when the first non-whitespace byte is `{`,
/// YAML otherwise).
pub fn parse(document: &[u8]) -> Result<ImportedApi, ImportError> {
    let root = load(document)?;
    let root_map = as_map(&root).ok_or_else(|| invalid("The document must be a JSON or YAML object."))?;
    let dialect = detect_dialect(root_map)?;
    let mut api = ImportedApi::default();

    read_info(root_map, &mut api)?;
    read_root_extensions(root_map, &mut api)?;
    api.base_path = base_path(root_map, dialect);
    read_endpoint_configuration(root_map, dialect, &mut api)?;
    let schemes = read_security_schemes(&root, root_map, dialect, &mut api)?;
    read_models(root_map, dialect, &mut api)?;
    let consumes = get(root_map, "consumes").map(string_list).unwrap_or_default();
    let produces = get(root_map, "produces").map(string_list).unwrap_or_default();
    let doc = Doc {
        root: &root,
        schemes,
        dialect,
        consumes,
        produces,
    };
    let top_security = get(root_map, "security").filter(|v| !is_null(v));

    match get(root_map, "paths") {
        None => {}
        Some(v) if is_null(v) => {}
        Some(v) => {
            let paths = as_map(v).ok_or_else(|| {
                malformed(
                    "paths object",
                    "/paths",
                    "Expected an object keyed by resource path.",
                )
            })?;
            for (path, item) in entries(paths) {
                if path.starts_with("x-") {
                    continue; // specification extension on the Paths object (scanned below)
                }
                if !path.starts_with('/') {
                    return Err(malformed(
                        "resource",
                        &format!("path {path}"),
                        "Resource paths must start with '/'.",
                    ));
                }
                let resource = parse_path_item(&doc, &path, item, top_security, &mut api.warnings)?;
                api.resources.push(resource);
            }
        }
    }

    let mut tokens = Vec::new();
    scan_extensions(&root, dialect, &mut tokens, &mut api);
    Ok(api)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dialect {
    OpenApi3,
    Swagger2,
}

/// What the rest of the parse needs from the document.
struct Doc<'a> {
    root: &'a Yaml,
    schemes: Vec<(String, &'a Mapping)>,
    dialect: Dialect,
    /// Swagger 2's document-level `consumes`.
    consumes: Vec<String>,
    /// Swagger 2's document-level `produces`.
    produces: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Loading and errors

fn invalid(detail: &str) -> ImportError {
    ImportError(format!("Invalid OpenAPI input. {detail}"))
}

fn malformed(what: &str, location: &str, detail: &str) -> ImportError {
    ImportError(format!(
        "Unable to parse API definition because of a malformed {what} at {location}. {detail}"
    ))
}

fn load(document: &[u8]) -> Result<Yaml, ImportError> {
    let body = document.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(document);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(invalid("The document is empty.")),
        Some(b'{') => serde_json::from_slice::<Yaml>(body)
            .map_err(|e| invalid(&format!("The document is not valid JSON: {e}."))),
        Some(_) => {
            let mut value: Yaml = serde_yaml::from_slice(body)
                .map_err(|e| invalid(&format!("The document is not valid JSON or YAML: {e}.")))?;
            value
                .apply_merge()
                .map_err(|e| invalid(&format!("The YAML document is invalid: {e}.")))?;
            if is_null(&value) {
                return Err(invalid("The document is empty."));
            }
            Ok(value)
        }
    }
}

fn detect_dialect(root: &Mapping) -> Result<Dialect, ImportError> {
    if let Some(v) = get(root, "openapi") {
        let version = scalar(v).unwrap_or_default();
        if version.starts_with("3.") {
            return Ok(Dialect::OpenApi3);
        }
        return Err(invalid(&format!(
            "Unsupported OpenAPI version '{version}'; expected 3.x.y."
        )));
    }
    if let Some(v) = get(root, "swagger") {
        let version = scalar(v).unwrap_or_default();
        if version == "2.0" || version == "2" {
            return Ok(Dialect::Swagger2);
        }
        return Err(invalid(&format!(
            "Unsupported Swagger version '{version}'; expected \"2.0\"."
        )));
    }
    Err(invalid(
        "The document declares neither `openapi: 3.x.y` nor `swagger: \"2.0\"`.",
    ))
}

// ---------------------------------------------------------------------------------------------
// Value helpers

fn untag(mut v: &Yaml) -> &Yaml {
    while let Yaml::Tagged(t) = v {
        v = &t.value;
    }
    v
}

fn is_null(v: &Yaml) -> bool {
    matches!(untag(v), Yaml::Null)
}

fn as_map(v: &Yaml) -> Option<&Mapping> {
    match untag(v) {
        Yaml::Mapping(m) => Some(m),
        _ => None,
    }
}

fn as_seq(v: &Yaml) -> Option<&Vec<Yaml>> {
    match untag(v) {
        Yaml::Sequence(s) => Some(s),
        _ => None,
    }
}

/// A scalar as a string (strings, numbers, booleans); `None` for null and collections.
fn scalar(v: &Yaml) -> Option<String> {
    match untag(v) {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A mapping key as a string; YAML allows non-string keys (`200:`, `true:`, `~:`).
fn key_string(key: &Yaml) -> String {
    match untag(key) {
        Yaml::Null => "null".to_string(),
        other => scalar(other).unwrap_or_else(|| {
            serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim_end()
                .to_string()
        }),
    }
}

fn entries(m: &Mapping) -> impl Iterator<Item = (String, &Yaml)> {
    m.iter().map(|(k, v)| (key_string(k), v))
}

fn get<'a>(m: &'a Mapping, key: &str) -> Option<&'a Yaml> {
    m.get(key)
        .or_else(|| m.iter().find(|(k, _)| key_string(k) == key).map(|(_, v)| v))
}

fn to_json(v: &Yaml) -> Json {
    match untag(v) {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Json::Null, Json::Number)
            }
        }
        Yaml::String(s) => Json::String(s.clone()),
        Yaml::Sequence(s) => Json::Array(s.iter().map(to_json).collect()),
        Yaml::Mapping(m) => Json::Object(m.iter().map(|(k, v)| (key_string(k), to_json(v))).collect()),
        Yaml::Tagged(_) => Json::Null, // unreachable: untag removed every tag
    }
}

/// Escapes one JSON-pointer reference token.
fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn pointer(tokens: &[String]) -> String {
    tokens.iter().map(|t| format!("/{}", escape_token(t))).collect()
}

/// Looks up a local JSON pointer ("#/components/parameters/Id") in the document.
fn lookup<'a>(root: &'a Yaml, reference: &str) -> Option<&'a Yaml> {
    let path = reference.strip_prefix('#')?;
    if path.is_empty() {
        return Some(root);
    }
    let mut node = root;
    for raw in path.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        node = match untag(node) {
            Yaml::Mapping(m) => get(m, &token)?,
            Yaml::Sequence(s) => s.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Follows local `$ref`s. `Ok(None)` for an external reference (not followed).
fn resolve<'a>(root: &'a Yaml, value: &'a Yaml, location: &str) -> Result<Option<&'a Yaml>, ImportError> {
    let mut node = value;
    for _ in 0..MAX_REF_HOPS {
        let Some(reference) = as_map(node).and_then(|m| get(m, "$ref")) else {
            return Ok(Some(node));
        };
        let reference = scalar(reference).unwrap_or_default();
        if !reference.starts_with('#') {
            return Ok(None);
        }
        node = lookup(root, &reference).ok_or_else(|| {
            ImportError(format!(
                "Unable to parse API definition because of an unresolvable reference '{reference}' at {location}."
            ))
        })?;
    }
    Err(ImportError(format!(
        "Unable to parse API definition because of a circular reference at {location}."
    )))
}

// ---------------------------------------------------------------------------------------------
// Document-level pieces

fn read_info(root: &Mapping, api: &mut ImportedApi) -> Result<(), ImportError> {
    let Some(info) = get(root, "info").filter(|v| !is_null(v)) else {
        return Ok(());
    };
    let info = as_map(info).ok_or_else(|| malformed("info object", "/info", "Expected an object."))?;
    api.title = get(info, "title").and_then(scalar);
    api.description = get(info, "description").and_then(scalar);
    api.version = get(info, "version").and_then(scalar);
    Ok(())
}

/// The document's base path, as API Gateway's import finds it (see
/// [`ImportedApi::base_path`]); None when there is none beyond `/`.
fn base_path(root: &Mapping, dialect: Dialect) -> Option<String> {
    let path = match dialect {
        Dialect::Swagger2 => get(root, "basePath").and_then(scalar)?,
        Dialect::OpenApi3 => {
            let servers = get(root, "servers")
                .and_then(as_seq)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let variable = servers.iter().find_map(|server| {
                let vars = as_map(server)
                    .and_then(|s| get(s, "variables"))
                    .and_then(as_map)?;
                let base = get(vars, "basePath").and_then(as_map)?;
                get(base, "default").and_then(scalar)
            });
            match variable {
                Some(v) => v,
                None => {
                    let url = servers
                        .first()
                        .and_then(as_map)
                        .and_then(|s| get(s, "url"))
                        .and_then(scalar)?;
                    let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
                    let path = if url.contains("://") {
                        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
                    } else {
                        after_scheme
                    };
                    path.to_string()
                }
            }
        }
    };
    let trimmed = path.trim_matches('/');
    (!trimmed.is_empty()).then(|| format!("/{trimmed}"))
}

/// `x-amazon-apigateway-endpoint-configuration` (`disableExecuteApiEndpoint`;
/// `vpcEndpointIds` only matter to private APIs, which Portico has not)
/// and `x-amazon-apigateway-minimum-compression-size`.
fn read_endpoint_configuration(
    root: &Mapping,
    dialect: Dialect,
    api: &mut ImportedApi,
) -> Result<(), ImportError> {
    let configurations: Vec<(String, &Yaml)> = match dialect {
        Dialect::Swagger2 => get(root, EXT_ENDPOINT_CONFIGURATION)
            .map(|c| (format!("/{EXT_ENDPOINT_CONFIGURATION}"), c))
            .into_iter()
            .collect(),
        Dialect::OpenApi3 => get(root, "servers")
            .and_then(as_seq)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, server)| {
                let c = as_map(server).and_then(|s| get(s, EXT_ENDPOINT_CONFIGURATION))?;
                Some((format!("/servers/{i}/{EXT_ENDPOINT_CONFIGURATION}"), c))
            })
            .collect(),
    };
    for (location, configuration) in configurations {
        let Some(c) = as_map(configuration) else {
            return Err(malformed("extension", &location, "Expected an object."));
        };
        match get(c, "disableExecuteApiEndpoint").map(untag) {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Bool(b)) => api.disable_execute_api_endpoint = Some(*b),
            Some(_) => {
                return Err(malformed(
                    "extension",
                    &location,
                    "disableExecuteApiEndpoint must be a boolean.",
                ));
            }
        }
        if get(c, "vpcEndpointIds").is_some_and(|v| !is_null(v)) {
            api.warnings.push(format!(
                "vpcEndpointIds at {location} ignored: they apply to private APIs only"
            ));
        }
    }
    if let Some(v) = get(root, EXT_MINIMUM_COMPRESSION_SIZE).filter(|v| !is_null(v)) {
        let size = scalar(v).and_then(|s| s.parse::<i64>().ok()).ok_or_else(|| {
            malformed(
                "extension",
                &format!("/{EXT_MINIMUM_COMPRESSION_SIZE}"),
                "Expected a whole number of bytes.",
            )
        })?;
        api.minimum_compression_size = Some(size);
    }
    Ok(())
}

fn read_root_extensions(root: &Mapping, api: &mut ImportedApi) -> Result<(), ImportError> {
    if let Some(doc) = get(root, EXT_DOCUMENTATION).filter(|v| !is_null(v)) {
        let at = format!("/{EXT_DOCUMENTATION}");
        let parts = as_map(doc)
            .ok_or_else(|| malformed("extension", &at, "Expected an object."))?
            .get("documentationParts")
            .filter(|v| !is_null(v));
        if let Some(parts) = parts {
            let parts = as_seq(parts)
                .ok_or_else(|| malformed("extension", &at, "documentationParts must be a list."))?;
            for part in parts {
                let part = to_json(part);
                let location = part.get("location").cloned().unwrap_or(Json::Null);
                let properties = part.get("properties").cloned().unwrap_or(Json::Null);
                api.documentation_parts.push((location, properties));
            }
        }
    }
    if let Some(v) = get(root, EXT_BINARY_MEDIA_TYPES).filter(|v| !is_null(v)) {
        let types: Vec<String> = match (scalar(v), as_seq(v)) {
            (Some(one), _) => vec![one],
            (None, Some(list)) => list
                .iter()
                .map(|item| {
                    scalar(item).ok_or_else(|| {
                        malformed(
                            "extension",
                            &format!("/{EXT_BINARY_MEDIA_TYPES}"),
                            "Binary media types must be strings.",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            (None, None) => {
                return Err(malformed(
                    "extension",
                    &format!("/{EXT_BINARY_MEDIA_TYPES}"),
                    "Expected a list of media types.",
                ));
            }
        };
        for t in types {
            if !api.binary_media_types.contains(&t) {
                api.binary_media_types.push(t);
            }
        }
    }
    if let Some(v) = get(root, EXT_API_KEY_SOURCE).filter(|v| !is_null(v)) {
        let source = scalar(v).unwrap_or_default().to_ascii_uppercase();
        if source != "HEADER" && source != "AUTHORIZER" {
            return Err(malformed(
                "extension",
                &format!("/{EXT_API_KEY_SOURCE}"),
                "The API key source must be HEADER or AUTHORIZER.",
            ));
        }
        api.api_key_source = Some(source);
    }
    if let Some(v) = get(root, EXT_POLICY).filter(|v| !is_null(v)) {
        api.policy = Some(to_json(v));
    }
    if let Some(v) = get(root, EXT_GATEWAY_RESPONSES).filter(|v| !is_null(v)) {
        api.gateway_responses = parse_gateway_responses(v, &mut api.warnings)?;
    }
    if let Some(v) = get(root, EXT_REQUEST_VALIDATORS).filter(|v| !is_null(v)) {
        api.request_validators = parse_request_validators(v)?;
    }
    if let Some(v) = get(root, EXT_REQUEST_VALIDATOR).filter(|v| !is_null(v)) {
        api.request_validator = Some(scalar(v).ok_or_else(|| {
            malformed(
                "extension",
                &format!("/{EXT_REQUEST_VALIDATOR}"),
                "The request validator must be the name of one in x-amazon-apigateway-request-validators.",
            )
        })?);
    }
    Ok(())
}

fn parse_request_validators(value: &Yaml) -> Result<Vec<ImportedRequestValidator>, ImportError> {
    let location = format!("/{EXT_REQUEST_VALIDATORS}");
    let bad = |detail: &str| malformed("request validators", &location, detail);
    let m = as_map(value).ok_or_else(|| bad("Expected an object keyed by validator name."))?;
    let mut out = Vec::new();
    for (name, v) in entries(m) {
        let flags = as_map(v).ok_or_else(|| bad(&format!("The validator '{name}' must be an object.")))?;
        let flag = |key: &str| get(flags, key).is_some_and(|f| scalar(f).is_some_and(|t| t == "true"));
        out.push(ImportedRequestValidator {
            validate_request_body: flag("validateRequestBody"),
            validate_request_parameters: flag("validateRequestParameters"),
            name,
        });
    }
    Ok(out)
}

/// A string or a list of strings.
fn string_list(v: &Yaml) -> Vec<String> {
    match (scalar(v), as_seq(v)) {
        (Some(one), _) => vec![one],
        (None, Some(list)) => list.iter().filter_map(scalar).collect(),
        _ => Vec::new(),
    }
}

/// Collects the document's reusable schemas: Swagger 2 `definitions`, OpenAPI 3
/// `components.schemas`.
fn read_models(root: &Mapping, dialect: Dialect, api: &mut ImportedApi) -> Result<(), ImportError> {
    let (container, location) = match dialect {
        Dialect::OpenApi3 => (
            get(root, "components")
                .and_then(as_map)
                .and_then(|c| get(c, "schemas")),
            "/components/schemas",
        ),
        Dialect::Swagger2 => (get(root, "definitions"), "/definitions"),
    };
    let Some(container) = container.filter(|v| !is_null(v)) else {
        return Ok(());
    };
    let container = as_map(container).ok_or_else(|| {
        malformed(
            "schema definitions",
            location,
            "Expected an object keyed by name.",
        )
    })?;
    for (name, schema) in entries(container) {
        if name.starts_with("x-") {
            continue;
        }
        api.models.push((name, to_json(schema)));
    }
    Ok(())
}

/// The definition a local `$ref` names (`#/definitions/X`, `#/components/schemas/X`).
pub fn definition_name(reference: &str) -> Option<String> {
    let name = reference
        .strip_prefix("#/definitions/")
        .or_else(|| reference.strip_prefix("#/components/schemas/"))?;
    (!name.is_empty() && !name.contains('/')).then(|| name.replace("~1", "/").replace("~0", "~"))
}

fn parse_gateway_responses(
    value: &Yaml,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, ImportedGatewayResponse)>, ImportError> {
    let location = format!("/{EXT_GATEWAY_RESPONSES}");
    let bad = |detail: &str| malformed("gateway responses", &location, detail);
    let m = as_map(value).ok_or_else(|| bad("Expected an object keyed by response type."))?;
    let mut out = Vec::new();
    for (kind, response) in entries(m) {
        if is_null(response) {
            continue;
        }
        let r = as_map(response)
            .ok_or_else(|| bad(&format!("The gateway response '{kind}' must be an object.")))?;
        let mut imported = ImportedGatewayResponse::default();
        for (key, v) in entries(r) {
            if is_null(v) {
                continue;
            }
            match key.as_str() {
                "statusCode" => {
                    imported.status_code = Some(
                        scalar(v).ok_or_else(|| bad("The `statusCode` property must be a string."))?,
                    )
                }
                "responseParameters" => imported.response_parameters = string_map(v, &key, &bad)?,
                "responseTemplates" => imported.response_templates = string_map(v, &key, &bad)?,
                other => warnings.push(format!(
                    "Gateway response property '{other}' of '{kind}' at {location} is not supported and was ignored"
                )),
            }
        }
        out.push((kind, imported));
    }
    Ok(out)
}

/// Collects the security scheme definitions and records the authorizers they carry.
fn read_security_schemes<'a>(
    root: &'a Yaml,
    root_map: &'a Mapping,
    dialect: Dialect,
    api: &mut ImportedApi,
) -> Result<Vec<(String, &'a Mapping)>, ImportError> {
    let (container, location) = match dialect {
        Dialect::OpenApi3 => (
            get(root_map, "components")
                .and_then(as_map)
                .and_then(|c| get(c, "securitySchemes")),
            "/components/securitySchemes",
        ),
        Dialect::Swagger2 => (get(root_map, "securityDefinitions"), "/securityDefinitions"),
    };
    let Some(container) = container.filter(|v| !is_null(v)) else {
        return Ok(Vec::new());
    };
    let container = as_map(container)
        .ok_or_else(|| malformed("security scheme definitions", location, "Expected an object."))?;
    let mut schemes = Vec::new();
    for (name, value) in entries(container) {
        if name.starts_with("x-") {
            continue;
        }
        let at = format!("{location}/{}", escape_token(&name));
        let Some(def) = resolve(root, value, &at)? else {
            api.warnings.push(format!(
                "External reference for security scheme '{name}' is not followed"
            ));
            continue;
        };
        let def = as_map(def).ok_or_else(|| malformed("security scheme", &at, "Expected an object."))?;
        if let Some(authorizer) = get(def, EXT_AUTHORIZER).filter(|v| !is_null(v)) {
            if as_map(authorizer).is_none() {
                return Err(malformed("authorizer", &at, "Expected an object."));
            }
            let in_header = get(def, "in")
                .and_then(scalar)
                .is_some_and(|location| location.eq_ignore_ascii_case("header"));
            let header = if in_header {
                get(def, "name").and_then(scalar)
            } else {
                None
            };
            api.authorizers.push((name.clone(), to_json(authorizer), header));
        }
        schemes.push((name, def));
    }
    Ok(schemes)
}

// ---------------------------------------------------------------------------------------------
// Paths and operations

fn method_for_key(key: &str) -> Option<String> {
    if key == EXT_ANY_METHOD {
        Some("ANY".to_string())
    } else if HTTP_METHODS.contains(&key) {
        Some(key.to_ascii_uppercase())
    } else {
        None
    }
}

fn parse_path_item(
    doc: &Doc<'_>,
    path: &str,
    item: &Yaml,
    top_security: Option<&Yaml>,
    warnings: &mut Vec<String>,
) -> Result<ImportedResource, ImportError> {
    let mut resource = ImportedResource {
        path: path.to_string(),
        methods: Vec::new(),
    };
    if is_null(item) {
        return Ok(resource);
    }
    let item = as_map(item).ok_or_else(|| {
        malformed(
            "resource",
            &format!("path {path}"),
            "Expected a path item object.",
        )
    })?;
    let path_params = get(item, "parameters").filter(|v| !is_null(v));
    for (key, operation) in entries(item) {
        if let Some(http_method) = method_for_key(&key) {
            let method = parse_operation(
                doc,
                path,
                http_method,
                operation,
                path_params,
                top_security,
                warnings,
            )?;
            resource.methods.push(method);
            continue;
        }
        match key.as_str() {
            "summary" | "description" | "servers" | "parameters" => {}
            "$ref" => warnings.push(format!(
                "Reference in the path item at path '{path}' is not followed"
            )),
            "trace" => warnings.push(format!(
                "Method 'TRACE' at path '{path}' is not supported by API Gateway and was ignored"
            )),
            other if other.starts_with("x-") => {}
            other => warnings.push(format!("Unknown key '{other}' at path '{path}' was ignored")),
        }
    }
    Ok(resource)
}

fn parse_operation(
    doc: &Doc<'_>,
    path: &str,
    http_method: String,
    operation: &Yaml,
    path_params: Option<&Yaml>,
    top_security: Option<&Yaml>,
    warnings: &mut Vec<String>,
) -> Result<ImportedMethod, ImportError> {
    let location = format!("path {path} ({http_method})");
    let op =
        as_map(operation).ok_or_else(|| malformed("method", &location, "Expected an operation object."))?;
    let mut method = ImportedMethod {
        operation_name: get(op, "operationId").and_then(scalar),
        authorization_type: "NONE".to_string(),
        http_method,
        ..ImportedMethod::default()
    };

    for params in [path_params, get(op, "parameters").filter(|v| !is_null(v))]
        .into_iter()
        .flatten()
    {
        collect_parameters(
            doc.root,
            params,
            &location,
            &mut method.request_parameters,
            warnings,
        )?;
    }
    if let Some(security) = get(op, "security").filter(|v| !is_null(v)).or(top_security) {
        apply_security(doc, security, &location, &mut method, warnings)?;
    }
    if let Some(responses) = get(op, "responses").filter(|v| !is_null(v)) {
        method.method_responses = collect_method_responses(doc.root, responses, &location, warnings)?;
        method.response_models = response_models(doc, op, responses, &location)?;
    }
    if let Some(v) = get(op, EXT_REQUEST_VALIDATOR).filter(|v| !is_null(v)) {
        method.request_validator = Some(scalar(v).ok_or_else(|| {
            malformed(
                "extension",
                &location,
                "The request validator must be the name of one in x-amazon-apigateway-request-validators.",
            )
        })?);
    }
    method.request_models = match doc.dialect {
        Dialect::Swagger2 => swagger_body_models(doc, op, path_params, &location, warnings)?,
        Dialect::OpenApi3 => openapi_body_models(doc, op, &location, warnings)?,
    };
    match get(op, EXT_INTEGRATION) {
        Some(integration) => method.integration = Some(parse_integration(integration, &location, warnings)?),
        None => warnings.push(format!(
            "No integration defined for method '{}' at path '{path}'",
            method.http_method
        )),
    }
    Ok(method)
}

/// A schema as a model reference: a local definition by name, or the schema itself.
fn model_ref(schema: &Yaml, location: &str, warnings: &mut Vec<String>) -> Option<ImportedModelRef> {
    let reference = as_map(schema).and_then(|m| get(m, "$ref")).and_then(scalar);
    match reference {
        None => Some(ImportedModelRef::Inline(to_json(schema))),
        Some(r) => match definition_name(&r) {
            Some(name) => Some(ImportedModelRef::Named(name)),
            None => {
                warnings.push(format!(
                    "Request body schema reference '{r}' at {location} is not a local definition and was ignored"
                ));
                None
            }
        },
    }
}

/// Swagger 2: the `in: body` parameter's schema, once per consumed content type.
fn swagger_body_models(
    doc: &Doc<'_>,
    op: &Mapping,
    path_params: Option<&Yaml>,
    location: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, ImportedModelRef)>, ImportError> {
    let mut body = None;
    for params in [path_params, get(op, "parameters").filter(|v| !is_null(v))]
        .into_iter()
        .flatten()
    {
        for param in as_seq(params).into_iter().flatten() {
            let Some(param) = resolve(doc.root, param, location)?.and_then(as_map) else {
                continue;
            };
            if get(param, "in").and_then(scalar).as_deref() == Some("body")
                && let Some(schema) = get(param, "schema").filter(|v| !is_null(v))
            {
                body = Some(schema);
            }
        }
    }
    let Some(schema) = body else {
        return Ok(Vec::new());
    };
    let Some(model) = model_ref(schema, location, warnings) else {
        return Ok(Vec::new());
    };
    let mut types = get(op, "consumes").map(string_list).unwrap_or_default();
    if types.is_empty() {
        types = doc.consumes.clone();
    }
    if types.is_empty() {
        types.push("application/json".to_string());
    }
    Ok(types.into_iter().map(|t| (t, model.clone())).collect())
}

/// OpenAPI 3: `requestBody.content.{type}.schema` (the request body may be a `$ref`).
fn openapi_body_models(
    doc: &Doc<'_>,
    op: &Mapping,
    location: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, ImportedModelRef)>, ImportError> {
    let Some(body) = get(op, "requestBody").filter(|v| !is_null(v)) else {
        return Ok(Vec::new());
    };
    let Some(body) = resolve(doc.root, body, location)? else {
        warnings.push(format!(
            "External request body reference at {location} is not followed"
        ));
        return Ok(Vec::new());
    };
    let content = as_map(body)
        .and_then(|b| get(b, "content"))
        .filter(|v| !is_null(v))
        .and_then(as_map);
    let mut out = Vec::new();
    for (content_type, media) in content.into_iter().flat_map(entries) {
        let schema = as_map(media)
            .and_then(|m| get(m, "schema"))
            .filter(|v| !is_null(v));
        if let Some(model) = schema.and_then(|s| model_ref(s, location, warnings)) {
            out.push((content_type, model));
        }
    }
    Ok(out)
}

fn collect_parameters(
    root: &Yaml,
    params: &Yaml,
    location: &str,
    out: &mut BTreeMap<String, bool>,
    warnings: &mut Vec<String>,
) -> Result<(), ImportError> {
    let list =
        as_seq(params).ok_or_else(|| malformed("parameters", location, "Expected a list of parameters."))?;
    for param in list {
        let Some(param) = resolve(root, param, location)? else {
            warnings.push(format!(
                "External parameter reference at {location} is not followed"
            ));
            continue;
        };
        let param = as_map(param).ok_or_else(|| malformed("parameter", location, "Expected an object."))?;
        let (Some(name), Some(place)) = (
            get(param, "name").and_then(scalar),
            get(param, "in").and_then(scalar),
        ) else {
            return Err(malformed(
                "parameter",
                location,
                "Parameters need `name` and `in`.",
            ));
        };
        let required = get(param, "required").is_some_and(|r| matches!(untag(r), Yaml::Bool(true)));
        let (kind, required) = match place.as_str() {
            "path" => ("path", true),
            "query" => ("querystring", required),
            "header" => ("header", required),
            "body" | "formData" => continue, // Swagger 2 payload descriptions, not request parameters
            other => {
                warnings.push(format!(
                    "Parameter '{name}' in '{other}' at {location} is not supported by API Gateway and was ignored"
                ));
                continue;
            }
        };
        out.insert(format!("method.request.{kind}.{name}"), required);
    }
    Ok(())
}

/// Status code → "method.response.header.X": required, in document order.
type MethodResponses = Vec<(String, BTreeMap<String, bool>)>;

fn collect_method_responses(
    root: &Yaml,
    responses: &Yaml,
    location: &str,
    warnings: &mut Vec<String>,
) -> Result<MethodResponses, ImportError> {
    let map = as_map(responses)
        .ok_or_else(|| malformed("responses", location, "Expected an object keyed by status code."))?;
    let mut out = Vec::new();
    for (status, response) in entries(map) {
        if status.starts_with("x-") {
            continue;
        }
        let valid = status.len() == 3
            && status.bytes().all(|b| b.is_ascii_digit())
            && matches!(status.as_bytes()[0], b'1'..=b'5');
        if !valid {
            warnings.push(format!(
                "Response '{status}' at {location} is not a status code supported by API Gateway and was ignored"
            ));
            continue;
        }
        let mut headers = BTreeMap::new();
        if let Some(response) = resolve(root, response, location)?
            && let Some(declared) = as_map(response).and_then(|r| get(r, "headers")).and_then(as_map)
        {
            for (header, _) in entries(declared) {
                headers.insert(format!("method.response.header.{header}"), false);
            }
        }
        out.push((status, headers));
    }
    Ok(out)
}

/// The models the operation's responses name: a response schema that is
/// a `$ref` to a definition becomes the method response's model (a schema
/// written in place gets none).
fn response_models(
    doc: &Doc<'_>,
    op: &Mapping,
    responses: &Yaml,
    location: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ImportError> {
    let named = |schema: Option<&Yaml>| {
        schema
            .and_then(as_map)
            .and_then(|m| get(m, "$ref"))
            .and_then(scalar)
            .and_then(|r| definition_name(&r))
    };
    let mut out = BTreeMap::new();
    for (status, response) in as_map(responses).into_iter().flat_map(entries) {
        let Some(response) = resolve(doc.root, response, location)?.and_then(as_map) else {
            continue;
        };
        let mut models = BTreeMap::new();
        match doc.dialect {
            Dialect::Swagger2 => {
                if let Some(name) = named(get(response, "schema")) {
                    let mut types = get(op, "produces").map(string_list).unwrap_or_default();
                    if types.is_empty() {
                        types = doc.produces.clone();
                    }
                    if types.is_empty() {
                        types.push("application/json".to_string());
                    }
                    models.extend(types.into_iter().map(|t| (t, name.clone())));
                }
            }
            Dialect::OpenApi3 => {
                let content = get(response, "content").and_then(as_map);
                for (content_type, media) in content.into_iter().flat_map(entries) {
                    if let Some(name) = named(as_map(media).and_then(|m| get(m, "schema"))) {
                        models.insert(content_type, name);
                    }
                }
            }
        }
        if !models.is_empty() {
            out.insert(status, models);
        }
    }
    Ok(out)
}

fn apply_security(
    doc: &Doc<'_>,
    security: &Yaml,
    location: &str,
    method: &mut ImportedMethod,
    warnings: &mut Vec<String>,
) -> Result<(), ImportError> {
    let requirements = as_seq(security).ok_or_else(|| {
        malformed(
            "security requirement",
            location,
            "Expected a list of requirements.",
        )
    })?;
    for requirement in requirements {
        if is_null(requirement) {
            continue;
        }
        let requirement = as_map(requirement)
            .ok_or_else(|| malformed("security requirement", location, "Expected an object."))?;
        for (name, _scopes) in entries(requirement) {
            let Some((_, scheme)) = doc.schemes.iter().find(|(n, _)| *n == name) else {
                warnings.push(format!(
                    "Security scheme '{name}' used at {location} is not defined; ignored"
                ));
                continue;
            };
            let text = |key: &str| get(scheme, key).and_then(scalar);
            if let Some(authorizer) = get(scheme, EXT_AUTHORIZER).and_then(as_map) {
                if let Some(existing) = &method.authorizer_name {
                    if *existing != name {
                        warnings.push(format!(
                            "Multiple authorizers at {location}; using '{existing}' and ignoring '{name}'"
                        ));
                    }
                    continue;
                }
                let cognito = get(authorizer, "type")
                    .and_then(scalar)
                    .is_some_and(|t| t.eq_ignore_ascii_case("cognito_user_pools"));
                method.authorization_type = if cognito { "COGNITO_USER_POOLS" } else { "CUSTOM" }.to_string();
                method.authorizer_name = Some(name);
            } else if text(EXT_AUTHTYPE).is_some_and(|t| t.eq_ignore_ascii_case("awsSigv4")) {
                if method.authorizer_name.is_some() {
                    warnings.push(format!(
                        "Security scheme '{name}' (AWS_IAM) at {location} conflicts with an authorizer; ignored"
                    ));
                } else {
                    method.authorization_type = "AWS_IAM".to_string();
                }
            } else if text("type").is_some_and(|t| t == "apiKey")
                && text("in").is_some_and(|t| t.eq_ignore_ascii_case("header"))
                && text("name").is_some_and(|t| t.eq_ignore_ascii_case("x-api-key"))
            {
                method.api_key_required = true;
            } else {
                warnings.push(format!(
                    "Security scheme '{name}' used at {location} is not supported by API Gateway; ignored"
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Integrations

fn parse_integration(
    value: &Yaml,
    location: &str,
    warnings: &mut Vec<String>,
) -> Result<ImportedIntegration, ImportError> {
    let bad = |detail: &str| malformed("integration", location, detail);
    let m = as_map(value).ok_or_else(|| bad("Expected an object."))?;
    let integration_type = get(m, "type")
        .and_then(scalar)
        .ok_or_else(|| bad("The `type` property is missing."))?
        .to_ascii_uppercase();
    if !matches!(
        integration_type.as_str(),
        "AWS" | "AWS_PROXY" | "HTTP" | "HTTP_PROXY" | "MOCK"
    ) {
        return Err(bad(&format!(
            "Unsupported integration type '{integration_type}'."
        )));
    }
    let mut out = ImportedIntegration {
        integration_type,
        ..ImportedIntegration::default()
    };
    for (key, v) in entries(m) {
        if key == "type" || is_null(v) {
            continue;
        }
        let text = || scalar(v).ok_or_else(|| bad(&format!("The `{key}` property must be a string.")));
        match key.as_str() {
            "httpMethod" => out.http_method = Some(text()?.to_ascii_uppercase()),
            "uri" => out.uri = Some(text()?),
            "passthroughBehavior" => out.passthrough_behavior = Some(text()?.to_ascii_uppercase()),
            "contentHandling" => out.content_handling = Some(text()?.to_ascii_uppercase()),
            "cacheNamespace" => out.cache_namespace = Some(text()?),
            "credentials" => out.credentials = Some(text()?),
            "connectionType" => out.connection_type = Some(text()?.to_ascii_uppercase()),
            "timeoutInMillis" => {
                let timeout = text()?.parse::<u32>().map_err(|_| {
                    bad("The `timeoutInMillis` property must be a non-negative integer of milliseconds.")
                })?;
                out.timeout_in_millis = Some(timeout);
            }
            "requestParameters" => out.request_parameters = string_map(v, &key, &bad)?,
            "requestTemplates" => out.request_templates = string_map(v, &key, &bad)?,
            "cacheKeyParameters" => {
                let list =
                    as_seq(v).ok_or_else(|| bad("The `cacheKeyParameters` property must be a list."))?;
                out.cache_key_parameters = list
                    .iter()
                    .map(|p| scalar(p).ok_or_else(|| bad("Cache key parameters must be strings.")))
                    .collect::<Result<_, _>>()?;
            }
            "responses" => out.responses = parse_integration_responses(v, location, warnings)?,
            other => warnings.push(format!(
                "Integration property '{other}' at {location} is not supported and was ignored"
            )),
        }
    }
    Ok(out)
}

fn string_map(
    value: &Yaml,
    key: &str,
    bad: &dyn Fn(&str) -> ImportError,
) -> Result<BTreeMap<String, String>, ImportError> {
    let m = as_map(value).ok_or_else(|| bad(&format!("The `{key}` property must be an object.")))?;
    entries(m)
        .map(|(k, v)| {
            let text = if is_null(v) {
                Some(String::new())
            } else {
                scalar(v)
            };
            text.map(|t| (k, t))
                .ok_or_else(|| bad(&format!("The values of `{key}` must be strings.")))
        })
        .collect()
}

fn parse_integration_responses(
    value: &Yaml,
    location: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, ImportedIntegrationResponse)>, ImportError> {
    let bad = |detail: &str| malformed("integration response", location, detail);
    let m = as_map(value).ok_or_else(|| bad("The `responses` property must be an object."))?;
    let mut out = Vec::new();
    for (pattern, response) in entries(m) {
        let r = as_map(response).ok_or_else(|| {
            bad(&format!(
                "The response for pattern '{pattern}' must be an object."
            ))
        })?;
        let status_code = get(r, "statusCode").and_then(scalar).ok_or_else(|| {
            bad(&format!(
                "The response for pattern '{pattern}' has no `statusCode`."
            ))
        })?;
        let mut response = ImportedIntegrationResponse {
            status_code,
            ..Default::default()
        };
        for (key, v) in entries(r) {
            if is_null(v) {
                continue;
            }
            match key.as_str() {
                "statusCode" => {}
                "responseParameters" => response.response_parameters = string_map(v, &key, &bad)?,
                "responseTemplates" => response.response_templates = string_map(v, &key, &bad)?,
                "contentHandling" => {
                    let text =
                        scalar(v).ok_or_else(|| bad("The `contentHandling` property must be a string."))?;
                    response.content_handling = Some(text.to_ascii_uppercase());
                }
                other => warnings.push(format!(
                    "Integration response property '{other}' for pattern '{pattern}' at {location} is not supported and was ignored"
                )),
            }
        }
        out.push((pattern, response));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Extension inventory

enum Handling {
    /// Modelled by the parser: not recorded, not descended into.
    Consumed,
    /// Modelled container (the any-method operation): descended into.
    Container,
    /// Not modelled: recorded verbatim in `extensions` with a warning.
    Stored,
}

fn classify(tokens: &[String], dialect: Dialect, key: &str) -> Handling {
    let t: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match (t.as_slice(), key) {
        (
            [],
            EXT_BINARY_MEDIA_TYPES
            | EXT_API_KEY_SOURCE
            | EXT_POLICY
            | EXT_GATEWAY_RESPONSES
            | EXT_REQUEST_VALIDATORS
            | EXT_REQUEST_VALIDATOR
            | EXT_MINIMUM_COMPRESSION_SIZE
            | EXT_DOCUMENTATION,
        ) => Handling::Consumed,
        ([], EXT_ENDPOINT_CONFIGURATION) if dialect == Dialect::Swagger2 => Handling::Consumed,
        (["servers", _], EXT_ENDPOINT_CONFIGURATION) if dialect == Dialect::OpenApi3 => Handling::Consumed,
        (["paths", _], EXT_ANY_METHOD) => Handling::Container,
        (["paths", _, m], EXT_INTEGRATION | EXT_REQUEST_VALIDATOR) if method_for_key(m).is_some() => {
            Handling::Consumed
        }
        (["components", "securitySchemes", _], EXT_AUTHORIZER | EXT_AUTHTYPE)
            if dialect == Dialect::OpenApi3 =>
        {
            Handling::Consumed
        }
        (["securityDefinitions", _], EXT_AUTHORIZER | EXT_AUTHTYPE) if dialect == Dialect::Swagger2 => {
            Handling::Consumed
        }
        _ => Handling::Stored,
    }
}

/// Walks the document in order, recording every x-amazon-apigateway-* extension the parser does not
/// model. Values of specification extensions (`x-...`) are not descended into.
fn scan_extensions(value: &Yaml, dialect: Dialect, tokens: &mut Vec<String>, api: &mut ImportedApi) {
    match untag(value) {
        Yaml::Mapping(m) => {
            for (key, child) in entries(m) {
                if key.starts_with(EXT_PREFIX) {
                    match classify(tokens, dialect, &key) {
                        Handling::Consumed => {}
                        Handling::Container => {
                            tokens.push(key);
                            scan_extensions(child, dialect, tokens, api);
                            tokens.pop();
                        }
                        Handling::Stored => {
                            api.extensions.push((pointer(tokens), key, to_json(child)));
                        }
                    }
                } else if !key.starts_with("x-") {
                    tokens.push(key);
                    scan_extensions(child, dialect, tokens, api);
                    tokens.pop();
                }
            }
        }
        Yaml::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                tokens.push(i.to_string());
                scan_extensions(child, dialect, tokens, api);
                tokens.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(doc: &str) -> ImportedApi {
        parse(doc.as_bytes()).expect("document should parse")
    }

    fn err(doc: &str) -> String {
        parse(doc.as_bytes()).expect_err("document should be rejected").0
    }

    fn method<'a>(api: &'a ImportedApi, path: &str, http_method: &str) -> &'a ImportedMethod {
        api.resources
            .iter()
            .find(|r| r.path == path)
            .and_then(|r| r.methods.iter().find(|m| m.http_method == http_method))
            .expect("method present")
    }

    const LAMBDA_URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:users/invocations";

    fn oas3_json() -> String {
        let integration = format!(r#"{{"type": "aws_proxy", "httpMethod": "POST", "uri": "{LAMBDA_URI}"}}"#);
        r##"{
          "openapi": "3.0.1",
          "info": {"title": "Users", "description": "User service", "version": "2024-01-01"},
          "paths": {
            "/users": {
              "get": {
                "operationId": "listUsers",
                "responses": {"200": {"description": "ok", "headers": {"X-Total": {"schema": {"type": "integer"}}}}},
                "x-amazon-apigateway-integration": INTEGRATION
              },
              "post": {
                "operationId": "createUser",
                "responses": {"201": {"description": "created"}},
                "x-amazon-apigateway-integration": INTEGRATION
              }
            },
            "/users/{id}": {
              "get": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": INTEGRATION
              }
            },
            "/echo/{proxy+}": {
              "x-amazon-apigateway-any-method": {
                "parameters": [{"name": "proxy", "in": "path", "required": true, "schema": {"type": "string"}}],
                "x-amazon-apigateway-integration": INTEGRATION
              }
            },
            "/hello": {"get": {"x-amazon-apigateway-integration": INTEGRATION}}
          }
        }"##
        .replace("INTEGRATION", &integration)
    }

    const SWAGGER2_YAML: &str = r#"
swagger: "2.0"
info:
  title: Users
  description: User service
  version: "2024-01-01"
basePath: /prod
paths:
  /users:
    get:
      operationId: listUsers
      responses:
        200:
          description: ok
          headers:
            X-Total:
              type: integer
      x-amazon-apigateway-integration: &lambda
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:users/invocations
    post:
      operationId: createUser
      responses:
        "201":
          description: created
      x-amazon-apigateway-integration: *lambda
  /users/{id}:
    get:
      parameters:
        - name: id
          in: path
          required: true
          type: string
      responses:
        "200":
          description: ok
      x-amazon-apigateway-integration: *lambda
  /echo/{proxy+}:
    x-amazon-apigateway-any-method:
      parameters:
        - {name: proxy, in: path, required: true, type: string}
      x-amazon-apigateway-integration: *lambda
  /hello:
    get:
      x-amazon-apigateway-integration: *lambda
"#;

    #[test]
    fn openapi3_json_paths_methods_and_proxy_integrations() {
        let api = ok(&oas3_json());
        assert_eq!(api.title.as_deref(), Some("Users"));
        assert_eq!(api.description.as_deref(), Some("User service"));
        assert_eq!(api.version.as_deref(), Some("2024-01-01"));
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
        assert!(api.extensions.is_empty());

        let paths: Vec<&str> = api.resources.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/users", "/users/{id}", "/echo/{proxy+}", "/hello"]);
        let users: Vec<&str> = api.resources[0]
            .methods
            .iter()
            .map(|m| m.http_method.as_str())
            .collect();
        assert_eq!(users, ["GET", "POST"]);

        let list = method(&api, "/users", "GET");
        assert_eq!(list.operation_name.as_deref(), Some("listUsers"));
        assert_eq!(list.authorization_type, "NONE");
        assert!(!list.api_key_required);
        assert_eq!(
            list.method_responses,
            vec![(
                "200".to_string(),
                BTreeMap::from([("method.response.header.X-Total".to_string(), false)])
            )]
        );
        let integration = list.integration.as_ref().expect("integration");
        assert_eq!(integration.integration_type, "AWS_PROXY");
        assert_eq!(integration.http_method.as_deref(), Some("POST"));
        assert_eq!(integration.uri.as_deref(), Some(LAMBDA_URI));

        let by_id = method(&api, "/users/{id}", "GET");
        assert_eq!(
            by_id.request_parameters,
            BTreeMap::from([("method.request.path.id".to_string(), true)])
        );
        let any = method(&api, "/echo/{proxy+}", "ANY");
        assert_eq!(
            any.request_parameters,
            BTreeMap::from([("method.request.path.proxy".to_string(), true)])
        );
        assert!(any.method_responses.is_empty());
        assert!(method(&api, "/hello", "GET").integration.is_some());
    }

    #[test]
    fn swagger2_yaml_matches_openapi3_json() {
        let json_api = ok(&oas3_json());
        let mut yaml_api = ok(SWAGGER2_YAML);
        // Only Swagger 2 has a base path here (used by `basepath=prepend|split`).
        assert_eq!(yaml_api.base_path.take().as_deref(), Some("/prod"));
        assert_eq!(yaml_api, json_api);
    }

    #[test]
    fn mock_integration_with_templates_and_responses() {
        let api = ok(r#"
openapi: 3.0.0
info: {title: Mock, version: 1.0}
paths:
  /mock:
    get:
      x-amazon-apigateway-integration:
        type: mock
        passthroughBehavior: when_no_match
        contentHandling: convert_to_text
        timeoutInMillis: 5000
        requestParameters:
          integration.request.header.X-Id: method.request.header.X-Id
        requestTemplates:
          application/json: '{"statusCode": 200}'
          text/plain:
        cacheKeyParameters: [method.request.header.X-Id]
        cacheNamespace: ns1
        credentials: arn:aws:iam::123456789012:role/apigw
        connectionType: internet
        tlsConfig: {insecureSkipVerification: true}
        responses:
          default:
            statusCode: 200
            responseParameters:
              method.response.header.X-Mock: "'yes'"
            responseTemplates:
              application/json: '{"ok": true}'
          "4\\d{2}":
            statusCode: "400"
            contentHandling: CONVERT_TO_BINARY
"#);
        assert_eq!(api.version.as_deref(), Some("1.0"));
        let m = method(&api, "/mock", "GET");
        let i = m.integration.as_ref().expect("integration");
        assert_eq!(i.integration_type, "MOCK");
        assert_eq!(i.http_method, None);
        assert_eq!(i.uri, None);
        assert_eq!(i.passthrough_behavior.as_deref(), Some("WHEN_NO_MATCH"));
        assert_eq!(i.content_handling.as_deref(), Some("CONVERT_TO_TEXT"));
        assert_eq!(i.timeout_in_millis, Some(5000));
        assert_eq!(
            i.request_parameters,
            BTreeMap::from([(
                "integration.request.header.X-Id".to_string(),
                "method.request.header.X-Id".to_string()
            )])
        );
        assert_eq!(
            i.request_templates,
            BTreeMap::from([
                (
                    "application/json".to_string(),
                    r#"{"statusCode": 200}"#.to_string()
                ),
                ("text/plain".to_string(), String::new()),
            ])
        );
        assert_eq!(i.cache_key_parameters, ["method.request.header.X-Id"]);
        assert_eq!(i.cache_namespace.as_deref(), Some("ns1"));
        assert_eq!(
            i.credentials.as_deref(),
            Some("arn:aws:iam::123456789012:role/apigw")
        );
        assert_eq!(i.connection_type.as_deref(), Some("INTERNET"));
        assert_eq!(
            i.responses,
            vec![
                (
                    "default".to_string(),
                    ImportedIntegrationResponse {
                        status_code: "200".to_string(),
                        response_parameters: BTreeMap::from([(
                            "method.response.header.X-Mock".to_string(),
                            "'yes'".to_string()
                        )]),
                        response_templates: BTreeMap::from([(
                            "application/json".to_string(),
                            r#"{"ok": true}"#.to_string()
                        )]),
                        content_handling: None,
                    }
                ),
                (
                    r"4\d{2}".to_string(),
                    ImportedIntegrationResponse {
                        status_code: "400".to_string(),
                        content_handling: Some("CONVERT_TO_BINARY".to_string()),
                        ..Default::default()
                    }
                ),
            ]
        );
        assert_eq!(api.warnings.len(), 1, "{:?}", api.warnings);
        assert!(api.warnings[0].contains("'tlsConfig'"));
    }

    #[test]
    fn parameters_path_level_operation_level_and_refs_openapi3() {
        let api = ok(r##"{
          "openapi": "3.0.3",
          "info": {"title": "P", "version": "1"},
          "components": {"parameters": {
            "Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
            "Trace": {"name": "X-Trace", "in": "header", "required": true},
            "Alias": {"$ref": "#/components/parameters/Trace"}
          }},
          "paths": {"/items/{id}": {
            "parameters": [
              {"$ref": "#/components/parameters/Id"},
              {"name": "q", "in": "query", "required": true}
            ],
            "get": {
              "parameters": [
                {"name": "q", "in": "query"},
                {"name": "limit", "in": "query", "required": true},
                {"$ref": "#/components/parameters/Alias"},
                {"name": "session", "in": "cookie"}
              ],
              "x-amazon-apigateway-integration": {"type": "MOCK"}
            },
            "delete": {"x-amazon-apigateway-integration": {"type": "MOCK"}}
          }}
        }"##);
        let get = method(&api, "/items/{id}", "GET");
        assert_eq!(
            get.request_parameters,
            BTreeMap::from([
                ("method.request.path.id".to_string(), true),
                ("method.request.querystring.q".to_string(), false),
                ("method.request.querystring.limit".to_string(), true),
                ("method.request.header.X-Trace".to_string(), true),
            ])
        );
        let delete = method(&api, "/items/{id}", "DELETE");
        assert_eq!(
            delete.request_parameters,
            BTreeMap::from([
                ("method.request.path.id".to_string(), true),
                ("method.request.querystring.q".to_string(), true),
            ])
        );
        assert_eq!(api.warnings.len(), 1, "{:?}", api.warnings);
        assert!(api.warnings[0].contains("'session'") && api.warnings[0].contains("cookie"));
    }

    #[test]
    fn parameters_refs_swagger2_and_body_ignored() {
        let api = ok(r#"
swagger: "2.0"
info: {title: P, version: "1"}
parameters:
  Id: {name: id, in: path, required: true, type: string}
paths:
  /items/{id}:
    parameters:
      - $ref: '#/parameters/Id'
    put:
      parameters:
        - {name: body, in: body, schema: {type: object}}
        - {name: If-Match, in: header}
      x-amazon-apigateway-integration: {type: http_proxy, httpMethod: put, uri: "http://example.com/{id}"}
"#);
        let put = method(&api, "/items/{id}", "PUT");
        assert_eq!(
            put.request_parameters,
            BTreeMap::from([
                ("method.request.path.id".to_string(), true),
                ("method.request.header.If-Match".to_string(), false),
            ])
        );
        let i = put.integration.as_ref().expect("integration");
        assert_eq!(i.integration_type, "HTTP_PROXY");
        assert_eq!(i.http_method.as_deref(), Some("PUT"));
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
    }

    #[test]
    fn security_custom_authorizer_api_key_and_sigv4_openapi3() {
        let api = ok(r##"{
          "openapi": "3.0.1",
          "info": {"title": "S", "version": "1"},
          "security": [{"api_key": []}, {"lambdaAuth": []}],
          "components": {"securitySchemes": {
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
            "lambdaAuth": {
              "type": "apiKey", "name": "Authorization", "in": "header",
              "x-amazon-apigateway-authtype": "custom",
              "x-amazon-apigateway-authorizer": {
                "type": "token",
                "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
                "authorizerResultTtlInSeconds": 300
              }
            },
            "sigv4": {
              "type": "apiKey", "name": "Authorization", "in": "header",
              "x-amazon-apigateway-authtype": "awsSigv4"
            },
            "cognito": {
              "type": "apiKey", "name": "Authorization", "in": "header",
              "x-amazon-apigateway-authtype": "cognito_user_pools",
              "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": ["arn:pool"]}
            },
            "oauth": {"type": "oauth2", "flows": {}}
          }},
          "paths": {
            "/inherit": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}},
            "/open": {"get": {"security": [], "x-amazon-apigateway-integration": {"type": "mock"}}},
            "/iam": {"get": {"security": [{"sigv4": []}], "x-amazon-apigateway-integration": {"type": "mock"}}},
            "/pool": {"get": {"security": [{"cognito": ["email"]}], "x-amazon-apigateway-integration": {"type": "mock"}}},
            "/odd": {"get": {"security": [{"oauth": [], "nope": []}], "x-amazon-apigateway-integration": {"type": "mock"}}}
          }
        }"##);

        let inherit = method(&api, "/inherit", "GET");
        assert_eq!(inherit.authorization_type, "CUSTOM");
        assert_eq!(inherit.authorizer_name.as_deref(), Some("lambdaAuth"));
        assert!(inherit.api_key_required);

        let open = method(&api, "/open", "GET");
        assert_eq!(
            (open.authorization_type.as_str(), open.api_key_required),
            ("NONE", false)
        );
        assert_eq!(open.authorizer_name, None);

        let iam = method(&api, "/iam", "GET");
        assert_eq!(
            (iam.authorization_type.as_str(), iam.api_key_required),
            ("AWS_IAM", false)
        );

        let pool = method(&api, "/pool", "GET");
        assert_eq!(pool.authorization_type, "COGNITO_USER_POOLS");
        assert_eq!(pool.authorizer_name.as_deref(), Some("cognito"));

        assert_eq!(method(&api, "/odd", "GET").authorization_type, "NONE");
        assert_eq!(api.warnings.len(), 2, "{:?}", api.warnings);
        assert!(api.warnings[0].contains("'oauth'"));
        assert!(api.warnings[1].contains("'nope'") && api.warnings[1].contains("not defined"));

        assert_eq!(
            api.authorizers,
            vec![
                (
                    "lambdaAuth".to_string(),
                    json!({
                        "type": "token",
                        "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
                        "authorizerResultTtlInSeconds": 300
                    }),
                    Some("Authorization".to_string())
                ),
                (
                    "cognito".to_string(),
                    json!({"type": "cognito_user_pools", "providerARNs": ["arn:pool"]}),
                    Some("Authorization".to_string())
                ),
            ]
        );
        // Modelled authorizer extensions are not duplicated in `extensions`.
        assert!(api.extensions.is_empty(), "{:?}", api.extensions);
    }

    #[test]
    fn security_swagger2_definitions() {
        let api = ok(r#"
swagger: "2.0"
info: {title: S}
securityDefinitions:
  api_key: {type: apiKey, name: x-api-key, in: header}
  tokenAuth:
    type: apiKey
    name: auth
    in: query
    x-amazon-apigateway-authtype: custom
    x-amazon-apigateway-authorizer:
      type: request
      identitySource: method.request.querystring.auth
paths:
  /pets:
    get:
      security:
        - api_key: []
          tokenAuth: []
      x-amazon-apigateway-integration: {type: mock}
"#);
        let get = method(&api, "/pets", "GET");
        assert_eq!(get.authorization_type, "CUSTOM");
        assert_eq!(get.authorizer_name.as_deref(), Some("tokenAuth"));
        assert!(get.api_key_required);
        assert_eq!(api.authorizers.len(), 1);
        assert_eq!(api.authorizers[0].0, "tokenAuth");
        assert_eq!(api.authorizers[0].2, None, "header name only for in: header");
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
    }

    #[test]
    fn root_extensions_modelled_and_unknown_extensions_kept() {
        let api = ok(r##"{
          "openapi": "3.0.1",
          "info": {"title": "E", "version": "1"},
          "servers": [{"url": "https://x", "x-amazon-apigateway-endpoint-configuration": {"disableExecuteApiEndpoint": true}}],
          "x-amazon-apigateway-binary-media-types": ["image/png", "*/*", "image/png"],
          "x-amazon-apigateway-api-key-source": "authorizer",
          "x-amazon-apigateway-policy": {"Version": "2012-10-17", "Statement": []},
          "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": true, "validateRequestParameters": true}},
          "x-amazon-apigateway-gateway-responses": {"DEFAULT_4XX": {"statusCode": 400}},
          "x-amazon-apigateway-minimum-compression-size": 1024,
          "x-company-owner": {"x-amazon-apigateway-ignored-inside-other-extension": 1},
          "paths": {
            "/users": {
              "x-amazon-apigateway-cors": {"allowOrigins": ["*"]},
              "get": {
                "x-amazon-apigateway-request-validator": "all",
                "x-amazon-apigateway-integration": {"type": "mock"}
              },
              "x-amazon-apigateway-any-method": {
                "x-amazon-apigateway-documentation": {"summary": "any"},
                "x-amazon-apigateway-integration": {"type": "mock"}
              }
            }
          }
        }"##);
        assert_eq!(api.binary_media_types, ["image/png", "*/*"]);
        assert_eq!(api.api_key_source.as_deref(), Some("AUTHORIZER"));
        assert_eq!(
            api.policy,
            Some(json!({"Version": "2012-10-17", "Statement": []}))
        );

        let found: Vec<(&str, &str)> = api
            .extensions
            .iter()
            .map(|(at, name, _)| (at.as_str(), name.as_str()))
            .collect();
        // Document order is kept for JSON input too.
        assert_eq!(
            found,
            [
                ("/paths/~1users", "x-amazon-apigateway-cors"),
                (
                    "/paths/~1users/x-amazon-apigateway-any-method",
                    "x-amazon-apigateway-documentation"
                ),
            ]
        );
        // The endpoint configuration and compression size are modelled.
        assert_eq!(api.disable_execute_api_endpoint, Some(true));
        assert_eq!(api.minimum_compression_size, Some(1024));
        // Kept extensions are no warnings to the caller (AWS gives none).
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
        // Request validators are modelled, not stored.
        assert_eq!(
            api.request_validators,
            [ImportedRequestValidator {
                name: "all".into(),
                validate_request_body: true,
                validate_request_parameters: true
            }]
        );
        assert_eq!(
            method(&api, "/users", "GET").request_validator.as_deref(),
            Some("all")
        );
        // Gateway responses are modelled, not stored.
        assert_eq!(
            api.gateway_responses,
            [(
                "DEFAULT_4XX".to_string(),
                ImportedGatewayResponse {
                    status_code: Some("400".into()),
                    ..Default::default()
                }
            )]
        );
        // Kept for later, without a warning to the caller (AWS gives none).
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
        assert!(
            api.extensions
                .iter()
                .any(|(at, name, _)| at == "/paths/~1users" && name == "x-amazon-apigateway-cors")
        );
        let methods: Vec<&str> = api.resources[0]
            .methods
            .iter()
            .map(|m| m.http_method.as_str())
            .collect();
        assert_eq!(methods, ["GET", "ANY"]);
    }

    #[test]
    fn gateway_responses_yaml() {
        let api = ok(r#"
swagger: "2.0"
info: {title: G, version: "1"}
paths: {}
x-amazon-apigateway-gateway-responses:
  UNAUTHORIZED:
    statusCode: "401"
    responseParameters:
      gatewayresponse.header.Access-Control-Allow-Origin: "'*'"
    responseTemplates:
      application/json: '{"error":$context.error.messageString}'
    unknownKey: 1
  ACCESS_DENIED:
    statusCode: 403
"#);
        assert_eq!(api.gateway_responses.len(), 2);
        let (kind, r) = &api.gateway_responses[0];
        assert_eq!(kind, "UNAUTHORIZED");
        assert_eq!(r.status_code.as_deref(), Some("401"));
        assert_eq!(
            r.response_parameters
                .get("gatewayresponse.header.Access-Control-Allow-Origin")
                .map(String::as_str),
            Some("'*'")
        );
        assert_eq!(
            r.response_templates.get("application/json").map(String::as_str),
            Some(r#"{"error":$context.error.messageString}"#)
        );
        assert_eq!(api.gateway_responses[1].1.status_code.as_deref(), Some("403"));
        assert!(api.extensions.is_empty(), "{:?}", api.extensions);
        assert_eq!(api.warnings.len(), 1, "{:?}", api.warnings);
        assert!(api.warnings[0].contains("'unknownKey'"));
        assert!(
            parse(
                br#"{"openapi":"3.0.1","info":{"title":"x","version":"1"},"paths":{},
            "x-amazon-apigateway-gateway-responses":["nope"]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn binary_media_types_single_string() {
        let api = ok(
            "openapi: 3.0.0\ninfo: {title: B}\nx-amazon-apigateway-binary-media-types: application/octet-stream\n",
        );
        assert_eq!(api.binary_media_types, ["application/octet-stream"]);
        assert!(api.resources.is_empty());
    }

    #[test]
    fn missing_integration_and_ignored_keys_warn() {
        let api = ok(r#"
openapi: 3.0.0
info: {title: W}
paths:
  /a:
    summary: s
    description: d
    servers: []
    GET: {}
    trace: {}
    options:
      responses:
        default: {description: d}
        2XX: {description: d}
        "204": {description: d}
"#);
        let options = method(&api, "/a", "OPTIONS");
        assert!(options.integration.is_none());
        assert_eq!(
            options.method_responses,
            vec![("204".to_string(), BTreeMap::new())]
        );
        assert_eq!(api.resources[0].methods.len(), 1);
        assert_eq!(api.warnings.len(), 5, "{:?}", api.warnings);
        assert!(
            api.warnings
                .contains(&"No integration defined for method 'OPTIONS' at path '/a'".to_string())
        );
        assert!(
            api.warnings
                .iter()
                .any(|w| w.contains("'GET'") && w.contains("ignored"))
        );
        assert!(api.warnings.iter().any(|w| w.contains("'TRACE'")));
        assert!(api.warnings.iter().any(|w| w.contains("'default'")));
        assert!(api.warnings.iter().any(|w| w.contains("'2XX'")));
    }

    #[test]
    fn yaml_version_numbers_bom_and_empty_paths() {
        let api = ok("swagger: 2.0\ninfo:\n  title: T\n  version: 1\n");
        assert_eq!(api.version.as_deref(), Some("1"));
        assert!(api.resources.is_empty());
        let api =
            ok("\u{feff}  {\"openapi\": \"3.0.0\", \"info\": {\"title\": \"J\"}, \"paths\": {\"/x\": null}}");
        assert_eq!(api.title.as_deref(), Some("J"));
        assert_eq!(
            api.resources,
            vec![ImportedResource {
                path: "/x".to_string(),
                methods: vec![]
            }]
        );
    }

    #[test]
    fn errors_for_unparseable_or_non_openapi_documents() {
        assert!(err("").starts_with("Invalid OpenAPI input."));
        assert!(err("   \n").contains("empty"));
        assert!(err("{\"openapi\": \"3.0.0\",").contains("not valid JSON"));
        assert!(err("openapi: [unclosed").contains("not valid JSON or YAML"));
        assert!(err("[1, 2]").contains("must be a JSON or YAML object"));
        assert!(err("just a string").contains("must be a JSON or YAML object"));
        assert!(err("{\"info\": {\"title\": \"x\"}}").contains("neither"));
        assert!(err("openapi: 2.0.0\n").contains("Unsupported OpenAPI version '2.0.0'"));
        assert!(err("swagger: \"1.2\"\n").contains("Unsupported Swagger version '1.2'"));
        assert!(err("{\"openapi\": \"3.0.0\", \"paths\": {}, \"paths\": {}}").contains("not valid JSON"));
        assert!(err("openapi: 3.0.0\ninfo: nope\n").contains("malformed info object at /info"));
    }

    #[test]
    fn errors_for_malformed_structure() {
        let e = err("openapi: 3.0.0\npaths: [a]\n");
        assert_eq!(
            e,
            "Unable to parse API definition because of a malformed paths object at /paths. Expected an object keyed by resource path."
        );
        assert!(err("openapi: 3.0.0\npaths:\n  users: {}\n").contains("malformed resource at path users"));
        assert!(err("openapi: 3.0.0\npaths:\n  /users: 3\n").contains("malformed resource at path /users"));
        assert!(
            err("openapi: 3.0.0\npaths:\n  /users:\n    get: 7\n")
                .contains("malformed method at path /users (GET)")
        );
        assert!(
            err("openapi: 3.0.0\npaths:\n  /u:\n    get:\n      parameters: {a: 1}\n")
                .contains("malformed parameters at path /u (GET)")
        );
        assert!(
            err("openapi: 3.0.0\npaths:\n  /u:\n    get:\n      parameters: [{in: query}]\n")
                .contains("malformed parameter at path /u (GET)")
        );
        assert!(
            err("openapi: 3.0.0\npaths:\n  /u:\n    get:\n      security: {a: []}\n")
                .contains("malformed security requirement")
        );
        assert!(
            err("openapi: 3.0.0\npaths:\n  /u:\n    get:\n      responses: [1]\n")
                .contains("malformed responses at path /u (GET)")
        );
        assert!(
            err("openapi: 3.0.0\ncomponents:\n  securitySchemes:\n    a:\n      type: apiKey\n      x-amazon-apigateway-authorizer: text\n")
                .contains("malformed authorizer at /components/securitySchemes/a")
        );
        assert!(
            err("openapi: 3.0.0\nx-amazon-apigateway-api-key-source: BODY\n")
                .contains("HEADER or AUTHORIZER")
        );
        assert!(
            err("openapi: 3.0.0\nx-amazon-apigateway-binary-media-types: {a: 1}\n")
                .contains("malformed extension at /x-amazon-apigateway-binary-media-types")
        );
    }

    #[test]
    fn errors_for_unresolvable_references() {
        let e = err(
            "openapi: 3.0.0\npaths:\n  /u:\n    parameters:\n      - $ref: '#/components/parameters/Nope'\n    get: {}\n",
        );
        assert_eq!(
            e,
            "Unable to parse API definition because of an unresolvable reference '#/components/parameters/Nope' at path /u (GET)."
        );
        let e = err(
            "openapi: 3.0.0\ncomponents:\n  parameters:\n    A: {$ref: '#/components/parameters/B'}\n    B: {$ref: '#/components/parameters/A'}\npaths:\n  /u:\n    get:\n      parameters: [{$ref: '#/components/parameters/A'}]\n",
        );
        assert!(e.contains("circular reference"), "{e}");
    }

    #[test]
    fn errors_for_malformed_integrations() {
        let doc = |integration: &str| {
            format!(
                "openapi: 3.0.0\npaths:\n  /users:\n    get:\n      x-amazon-apigateway-integration: {integration}\n"
            )
        };
        assert_eq!(
            err(&doc("aws_proxy")),
            "Unable to parse API definition because of a malformed integration at path /users (GET). Expected an object."
        );
        assert_eq!(
            err(&doc("{uri: 'http://x'}")),
            "Unable to parse API definition because of a malformed integration at path /users (GET). The `type` property is missing."
        );
        assert!(
            err(&doc("")).contains("Expected an object."),
            "null integration is not an object"
        );
        assert!(err(&doc("{type: vpc_link}")).contains("Unsupported integration type 'VPC_LINK'"));
        assert!(err(&doc("{type: mock, timeoutInMillis: soon}")).contains("timeoutInMillis"));
        assert!(err(&doc("{type: mock, timeoutInMillis: -1}")).contains("timeoutInMillis"));
        assert!(
            err(&doc("{type: http, uri: {Fn::Sub: x}}")).contains("The `uri` property must be a string.")
        );
        assert!(
            err(&doc("{type: mock, requestTemplates: [a]}"))
                .contains("`requestTemplates` property must be an object")
        );
        assert!(
            err(&doc("{type: mock, requestParameters: {a: {b: c}}}"))
                .contains("values of `requestParameters`")
        );
        assert!(err(&doc("{type: mock, cacheKeyParameters: a}")).contains("must be a list"));
        assert!(err(&doc("{type: mock, responses: [a]}")).contains("malformed integration response"));
        assert!(
            err(&doc(
                "{type: mock, responses: {default: {responseTemplates: {}}}}"
            ))
            .contains("pattern 'default' has no `statusCode`")
        );
        assert!(err(&doc("{type: mock, responses: {default: 200}}")).contains("must be an object"));
    }

    #[test]
    fn swagger2_definitions_body_models_and_validators() {
        let api = ok(r##"
swagger: "2.0"
info: {title: M, version: "1"}
consumes: [application/json]
x-amazon-apigateway-request-validators:
  body: {validateRequestBody: true, validateRequestParameters: false}
  params: {validateRequestParameters: true}
x-amazon-apigateway-request-validator: params
definitions:
  Pet:
    type: object
    required: [name]
    properties:
      name: {type: string}
      owner: {$ref: '#/definitions/Owner'}
  Owner: {type: object}
parameters:
  PetBody: {name: pet, in: body, required: true, schema: {$ref: '#/parameters/Nope'}}
paths:
  /pets:
    post:
      x-amazon-apigateway-request-validator: body
      consumes: [application/json, application/xml]
      parameters:
        - {name: pet, in: body, schema: {$ref: '#/definitions/Pet'}}
        - {name: trace, in: header, required: true, type: string}
      x-amazon-apigateway-integration: {type: mock}
    put:
      operationId: replacePets
      parameters:
        - {name: pets, in: body, schema: {type: array, items: {$ref: '#/definitions/Pet'}}}
      x-amazon-apigateway-integration: {type: mock}
"##);
        let names: Vec<&str> = api.models.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Pet", "Owner"]);
        assert_eq!(
            api.models[0].1["properties"]["owner"],
            json!({"$ref": "#/definitions/Owner"})
        );
        assert_eq!(api.request_validator.as_deref(), Some("params"));
        assert_eq!(api.request_validators.len(), 2);
        assert!(!api.request_validators[1].validate_request_body);
        let post = method(&api, "/pets", "POST");
        assert_eq!(post.request_validator.as_deref(), Some("body"));
        assert_eq!(
            post.request_models,
            [
                (
                    "application/json".to_string(),
                    ImportedModelRef::Named("Pet".into())
                ),
                (
                    "application/xml".to_string(),
                    ImportedModelRef::Named("Pet".into())
                ),
            ]
        );
        assert_eq!(
            post.request_parameters.get("method.request.header.trace"),
            Some(&true)
        );
        let put = method(&api, "/pets", "PUT");
        assert_eq!(
            put.request_validator, None,
            "the document default applies at import"
        );
        assert_eq!(
            put.request_models,
            [(
                "application/json".to_string(),
                ImportedModelRef::Inline(json!({"type": "array", "items": {"$ref": "#/definitions/Pet"}}))
            )]
        );
        assert!(api.warnings.is_empty(), "{:?}", api.warnings);
        assert!(api.extensions.is_empty(), "{:?}", api.extensions);
    }

    #[test]
    fn openapi3_components_schemas_and_request_bodies() {
        let api = ok(r##"{
          "openapi": "3.0.1",
          "info": {"title": "M", "version": "1"},
          "components": {
            "schemas": {"Pet": {"type": "object", "properties": {"tag": {"$ref": "#/components/schemas/Tag"}}}, "Tag": {"type": "string"}},
            "requestBodies": {"PetBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}
          },
          "paths": {
            "/pets": {
              "post": {"requestBody": {"$ref": "#/components/requestBodies/PetBody"},
                       "x-amazon-apigateway-integration": {"type": "mock"}},
              "put": {"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}, "application/json": {"schema": {"$ref": "https://example.com/x.json"}}}},
                      "x-amazon-apigateway-integration": {"type": "mock"}}
            }
          }
        }"##);
        let names: Vec<&str> = api.models.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Pet", "Tag"]);
        assert_eq!(
            method(&api, "/pets", "POST").request_models,
            [(
                "application/json".to_string(),
                ImportedModelRef::Named("Pet".into())
            )]
        );
        assert_eq!(
            method(&api, "/pets", "PUT").request_models,
            [(
                "text/plain".to_string(),
                ImportedModelRef::Inline(json!({"type": "string"}))
            )]
        );
        assert_eq!(api.warnings.len(), 1, "{:?}", api.warnings);
        assert!(api.warnings[0].contains("https://example.com/x.json"));
        assert_eq!(
            definition_name("#/components/schemas/A~1B").as_deref(),
            Some("A/B")
        );
        assert_eq!(definition_name("#/definitions/A/properties/x"), None);
    }
}
