//! What a user declares about a REST API: the resource tree, methods,
//! integrations and their responses, deployments (immutable snapshots of the
//! tree) and stages. Stored as one document per API plus one row per
//! deployment; the data plane never reads this, only the compiled form built
//! by `frontdoor::compile`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestApi {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_date: i64,
    pub version: Option<String>,
    pub binary_media_types: Vec<String>,
    pub minimum_compression_size: Option<i64>,
    pub api_key_source: String,
    pub endpoint_types: Vec<String>,
    /// `endpointConfiguration.ipAddressType` when set; else the type's
    /// default (see [`RestApi::ip_address_type`]).
    #[serde(default)]
    pub ip_address_type: Option<String>,
    /// Documentation parts by id and versions by name.
    #[serde(default)]
    pub documentation_parts: BTreeMap<String, super::documentation::DocumentationPart>,
    #[serde(default)]
    pub documentation_versions: BTreeMap<String, super::documentation::DocumentationVersion>,
    pub policy: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub disable_execute_api_endpoint: bool,
    pub root_resource_id: String,
    pub resources: BTreeMap<String, Resource>,
    /// Snapshots, shared (never edited in place): copying the document for
    /// an edit does not copy them, and the store writes each one once
    /// (`Store::put_rest_api`), not with every change to the API. Read from
    /// the document only when it is a legacy one that still holds them.
    #[serde(default, skip_serializing)]
    pub deployments: BTreeMap<String, Arc<Deployment>>,
    pub stages: BTreeMap<String, Stage>,
    /// `x-amazon-apigateway-*` extensions imported but not yet applied.
    #[serde(default)]
    pub extensions: Vec<(String, String, serde_json::Value)>,
    /// Lambda authorizers by id.
    #[serde(default)]
    pub authorizers: BTreeMap<String, Authorizer>,
    /// Customised gateway responses by type (`UNAUTHORIZED`, `DEFAULT_4XX`, ...).
    #[serde(default)]
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    /// Models (JSON schemas for bodies) by name, the key AWS addresses
    /// them by.
    #[serde(default)]
    pub models: BTreeMap<String, Model>,
    /// Request validators by id.
    #[serde(default)]
    pub request_validators: BTreeMap<String, RequestValidator>,
}

/// A model: the JSON schema (draft 4) of a request or response body, for
/// one content type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    /// Alphanumeric; unique in its API.
    pub name: String,
    pub description: Option<String>,
    /// The schema as the user wrote it (AWS echoes it verbatim).
    pub schema: Option<String>,
    pub content_type: String,
}

/// What a method's request validator checks before the integration runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestValidator {
    pub id: String,
    pub name: Option<String>,
    pub validate_request_body: bool,
    pub validate_request_parameters: bool,
}

/// The `$ref` URL of a model: `https://apigateway.amazonaws.com/restapis/{api}/models/{name}`.
pub fn model_url(api_id: &str, name: &str) -> String {
    format!("{MODEL_URL_PREFIX}{api_id}/models/{name}")
}

/// Where every model URL starts.
pub const MODEL_URL_PREFIX: &str = "https://apigateway.amazonaws.com/restapis/";

/// The (API id, model name) a model URL names.
pub fn parse_model_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix(MODEL_URL_PREFIX)?;
    let (api, name) = rest.split_once("/models/")?;
    let name = name.split('#').next().unwrap_or(name);
    (!api.is_empty() && !name.is_empty() && !name.contains('/')).then_some((api, name))
}

/// The kinds of authorizer API Gateway knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizerType {
    Token,
    Request,
    CognitoUserPools,
}

impl AuthorizerType {
    pub fn parse(s: &str) -> Option<AuthorizerType> {
        Some(match s {
            "TOKEN" => AuthorizerType::Token,
            "REQUEST" => AuthorizerType::Request,
            "COGNITO_USER_POOLS" => AuthorizerType::CognitoUserPools,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizerType::Token => "TOKEN",
            AuthorizerType::Request => "REQUEST",
            AuthorizerType::CognitoUserPools => "COGNITO_USER_POOLS",
        }
    }
}

/// A Lambda (or Cognito) authorizer as declared on a RestApi.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    pub authorizer_type: AuthorizerType,
    pub provider_arns: Vec<String>,
    pub auth_type: Option<String>,
    pub authorizer_uri: Option<String>,
    pub authorizer_credentials: Option<String>,
    /// TOKEN: `method.request.header.X`; REQUEST: a comma list of sources.
    pub identity_source: Option<String>,
    pub identity_validation_expression: Option<String>,
    /// None = AWS's default (300 s); 0 turns caching off.
    pub authorizer_result_ttl_in_seconds: Option<u32>,
}

/// A customised gateway response (PutGatewayResponse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayResponse {
    pub response_type: String,
    pub status_code: Option<String>,
    pub response_parameters: BTreeMap<String, String>,
    pub response_templates: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    /// None for the root resource.
    pub parent_id: Option<String>,
    /// None for the root resource.
    pub path_part: Option<String>,
    pub methods: BTreeMap<String, Method>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    pub http_method: String,
    pub authorization_type: String,
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    pub operation_name: Option<String>,
    pub request_parameters: BTreeMap<String, bool>,
    pub request_models: BTreeMap<String, String>,
    pub request_validator_id: Option<String>,
    pub authorization_scopes: Vec<String>,
    pub method_responses: BTreeMap<String, MethodResponse>,
    pub integration: Option<Integration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodResponse {
    pub status_code: String,
    pub response_parameters: BTreeMap<String, bool>,
    pub response_models: BTreeMap<String, String>,
    /// The maps (wire names) the caller sent explicitly empty: AWS echoes
    /// those as `{}` until a patch changes them.
    #[serde(default)]
    pub sent_empty: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntegrationType {
    Aws,
    AwsProxy,
    Http,
    HttpProxy,
    Mock,
}

impl IntegrationType {
    pub fn parse(s: &str) -> Option<IntegrationType> {
        Some(match s {
            "AWS" => IntegrationType::Aws,
            "AWS_PROXY" => IntegrationType::AwsProxy,
            "HTTP" => IntegrationType::Http,
            "HTTP_PROXY" => IntegrationType::HttpProxy,
            "MOCK" => IntegrationType::Mock,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationType::Aws => "AWS",
            IntegrationType::AwsProxy => "AWS_PROXY",
            IntegrationType::Http => "HTTP",
            IntegrationType::HttpProxy => "HTTP_PROXY",
            IntegrationType::Mock => "MOCK",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub integration_type: IntegrationType,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    pub connection_type: Option<String>,
    pub connection_id: Option<String>,
    pub credentials: Option<String>,
    pub request_parameters: BTreeMap<String, String>,
    pub request_templates: BTreeMap<String, String>,
    pub passthrough_behavior: Option<String>,
    pub content_handling: Option<String>,
    pub timeout_in_millis: u32,
    pub cache_namespace: Option<String>,
    pub cache_key_parameters: Vec<String>,
    pub integration_responses: BTreeMap<String, IntegrationResponse>,
    /// `tlsConfig.insecureSkipVerification`: stored and returned (HTTPS
    /// upstreams are always verified).
    #[serde(default)]
    pub tls_insecure_skip_verification: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationResponse {
    pub status_code: String,
    pub selection_pattern: Option<String>,
    pub response_parameters: BTreeMap<String, String>,
    pub response_templates: BTreeMap<String, String>,
    pub content_handling: Option<String>,
    /// As [`MethodResponse::sent_empty`].
    #[serde(default)]
    pub sent_empty: Vec<String>,
}

/// The names of the maps a create request sent as `{}`.
pub fn sent_empty<const N: usize>(maps: [(&str, bool); N]) -> Vec<String> {
    maps.iter()
        .filter(|(_, empty)| *empty)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// An immutable snapshot of the API as it was when deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub description: Option<String>,
    pub created_date: i64,
    pub resources: BTreeMap<String, Resource>,
    pub binary_media_types: Vec<String>,
    /// Access control as deployed: authorizers, gateway responses, the
    /// resource policy and where API keys come from. (AWS applies changes
    /// to these only on the next deployment.)
    #[serde(default)]
    pub authorizers: BTreeMap<String, Authorizer>,
    #[serde(default)]
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    #[serde(default)]
    pub policy: Option<String>,
    #[serde(default = "default_api_key_source")]
    pub api_key_source: String,
    /// Models and request validators as deployed: requests are validated
    /// against these, not against later edits.
    #[serde(default)]
    pub models: BTreeMap<String, Model>,
    #[serde(default)]
    pub request_validators: BTreeMap<String, RequestValidator>,
}

fn default_api_key_source() -> String {
    "HEADER".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub stage_name: String,
    pub deployment_id: String,
    pub description: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub created_date: i64,
    pub last_updated_date: i64,
    pub tracing_enabled: bool,
    pub cache_cluster_enabled: bool,
    pub cache_cluster_size: Option<String>,
    pub method_settings: BTreeMap<String, serde_json::Value>,
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub documentation_version: Option<String>,
    #[serde(default)]
    pub client_certificate_id: Option<String>,
    /// Where and how access logs would go (stored and returned; Portico
    /// writes no access logs).
    #[serde(default)]
    pub access_log_settings: Option<AccessLogSettings>,
    /// A canary release: a share of the stage's traffic goes to another
    /// deployment, with some stage variables overridden.
    #[serde(default)]
    pub canary_settings: Option<CanarySettings>,
}

/// A stage's canary release (`Stage.canarySettings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanarySettings {
    pub deployment_id: String,
    /// Share of requests, 0.0 to 100.0, served by the canary.
    pub percent_traffic: f64,
    /// Merged over (and may add to) the stage's variables for canary requests.
    pub stage_variable_overrides: BTreeMap<String, String>,
    pub use_stage_cache: bool,
}

impl CanarySettings {
    /// A canary of `deployment_id` that takes no traffic yet.
    pub fn new(deployment_id: &str) -> CanarySettings {
        CanarySettings {
            deployment_id: deployment_id.to_string(),
            percent_traffic: 0.0,
            stage_variable_overrides: BTreeMap::new(),
            use_stage_cache: false,
        }
    }

    /// The stage variables a canary request sees.
    pub fn variables(&self, stage: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut merged = stage.clone();
        merged.extend(
            self.stage_variable_overrides
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        merged
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessLogSettings {
    pub format: Option<String>,
    pub destination_arn: Option<String>,
}

impl RestApi {
    /// `ipv4` for EDGE and REGIONAL APIs, `dualstack` (the only choice) for
    /// PRIVATE ones, unless set.
    pub fn ip_address_type(&self) -> &str {
        match &self.ip_address_type {
            Some(t) => t,
            None if self.endpoint_types.iter().any(|t| t == "PRIVATE") => "dualstack",
            None => "ipv4",
        }
    }

    /// Most levels of resources below the root (CreateResource and import
    /// refuse deeper ones), so that walking up a tree always ends.
    pub const MAX_RESOURCE_DEPTH: usize = 1000;

    /// The full path of a resource ("/", "/users/{id}") in a resource map.
    pub fn path_of(resources: &BTreeMap<String, Resource>, id: &str) -> Option<String> {
        let mut parts = Vec::new();
        let mut cur = resources.get(id)?;
        while let Some(part) = &cur.path_part {
            parts.push(part.as_str());
            if parts.len() > Self::MAX_RESOURCE_DEPTH {
                return None;
            }
            cur = resources.get(cur.parent_id.as_deref()?)?;
        }
        parts.reverse();
        Some(format!("/{}", parts.join("/")))
    }

    /// Ids of a resource and all its descendants.
    pub fn subtree(resources: &BTreeMap<String, Resource>, id: &str) -> Vec<String> {
        let mut out = vec![id.to_string()];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i].clone();
            out.extend(
                resources
                    .values()
                    .filter(|r| r.parent_id.as_deref() == Some(parent.as_str()))
                    .map(|r| r.id.clone()),
            );
            i += 1;
        }
        out
    }
}

/// Ids as AWS shapes them: 10 chars `[a-z0-9]` for APIs, 6 for children.
pub fn new_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bits = uuid::Uuid::new_v4().as_u128();
    (0..len)
        .map(|_| {
            let c = ALPHABET[(bits % 36) as usize] as char;
            bits /= 36;
            c
        })
        .collect()
}

pub fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}
