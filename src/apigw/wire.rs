//! API Gateway's JSON shapes (camelCase, empty maps omitted as AWS omits
//! them), rendered from the model in [`super::model`].

use serde_json::{Map, Value, json};

use super::model::{
    Authorizer, AuthorizerType, Deployment, GatewayResponse, Integration, IntegrationResponse, Method,
    MethodResponse, Model, RequestValidator, Resource, RestApi, Stage,
};

fn put_opt(m: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(key.into(), v.clone().into());
    }
}

fn put_map<V: serde::Serialize>(
    m: &mut Map<String, Value>,
    key: &str,
    v: &std::collections::BTreeMap<String, V>,
) {
    if !v.is_empty() {
        m.insert(key.into(), json!(v));
    }
}

/// Mapping templates: AWS keeps an empty template as no template text and
/// echoes it as `null` (`--response-templates '{"application/json": ""}'`
/// answers `{"application/json": null}`).
fn put_templates(m: &mut Map<String, Value>, key: &str, v: &std::collections::BTreeMap<String, String>) {
    if !v.is_empty() {
        let t: Map<String, Value> = v
            .iter()
            .map(|(ct, t)| (ct.clone(), Some(t.as_str()).filter(|t| !t.is_empty()).into()))
            .collect();
        m.insert(key.into(), Value::Object(t));
    }
}

pub fn rest_api(a: &RestApi) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), a.id.clone().into());
    m.insert("name".into(), a.name.clone().into());
    put_opt(&mut m, "description", &a.description);
    m.insert("createdDate".into(), a.created_date.into());
    put_opt(&mut m, "version", &a.version);
    if !a.binary_media_types.is_empty() {
        m.insert("binaryMediaTypes".into(), json!(a.binary_media_types));
    }
    if let Some(n) = a.minimum_compression_size {
        m.insert("minimumCompressionSize".into(), n.into());
    }
    m.insert("apiKeySource".into(), a.api_key_source.clone().into());
    m.insert(
        "endpointConfiguration".into(),
        json!({ "types": a.endpoint_types, "ipAddressType": a.ip_address_type() }),
    );
    put_opt(&mut m, "policy", &a.policy);
    put_map(&mut m, "tags", &a.tags);
    m.insert(
        "disableExecuteApiEndpoint".into(),
        a.disable_execute_api_endpoint.into(),
    );
    m.insert("rootResourceId".into(), a.root_resource_id.clone().into());
    Value::Object(m)
}

pub fn resource(
    resources: &std::collections::BTreeMap<String, Resource>,
    r: &Resource,
    embed: bool,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), r.id.clone().into());
    put_opt(&mut m, "parentId", &r.parent_id);
    put_opt(&mut m, "pathPart", &r.path_part);
    m.insert(
        "path".into(),
        RestApi::path_of(resources, &r.id).unwrap_or_default().into(),
    );
    if !r.methods.is_empty() {
        let methods: Map<String, Value> = r
            .methods
            .iter()
            .map(|(k, meth)| (k.clone(), if embed { method(meth) } else { json!({}) }))
            .collect();
        m.insert("resourceMethods".into(), Value::Object(methods));
    }
    Value::Object(m)
}

pub fn method(x: &Method) -> Value {
    let mut m = Map::new();
    m.insert("httpMethod".into(), x.http_method.clone().into());
    m.insert("authorizationType".into(), x.authorization_type.clone().into());
    put_opt(&mut m, "authorizerId", &x.authorizer_id);
    m.insert("apiKeyRequired".into(), x.api_key_required.into());
    put_opt(&mut m, "requestValidatorId", &x.request_validator_id);
    put_opt(&mut m, "operationName", &x.operation_name);
    put_map(&mut m, "requestParameters", &x.request_parameters);
    put_map(&mut m, "requestModels", &x.request_models);
    if !x.method_responses.is_empty() {
        let r: Map<String, Value> = x
            .method_responses
            .iter()
            .map(|(k, v)| (k.clone(), method_response(v)))
            .collect();
        m.insert("methodResponses".into(), Value::Object(r));
    }
    if let Some(i) = &x.integration {
        m.insert("methodIntegration".into(), integration(i));
    }
    if !x.authorization_scopes.is_empty() {
        m.insert("authorizationScopes".into(), json!(x.authorization_scopes));
    }
    Value::Object(m)
}

pub fn method_response(r: &MethodResponse) -> Value {
    let mut m = Map::new();
    m.insert("statusCode".into(), r.status_code.clone().into());
    put_map(&mut m, "responseParameters", &r.response_parameters);
    put_map(&mut m, "responseModels", &r.response_models);
    put_sent_empty(&mut m, &r.sent_empty);
    Value::Object(m)
}

/// `{}` for the maps a caller sent explicitly empty (AWS echoes them).
fn put_sent_empty(m: &mut Map<String, Value>, names: &[String]) {
    for name in names {
        m.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()));
    }
}

pub fn integration(i: &Integration) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), i.integration_type.as_str().into());
    put_opt(&mut m, "httpMethod", &i.http_method);
    // AWS keeps no endpoint for a MOCK integration.
    if i.integration_type != super::model::IntegrationType::Mock {
        put_opt(&mut m, "uri", &i.uri);
    }
    put_opt(&mut m, "connectionType", &i.connection_type);
    put_opt(&mut m, "connectionId", &i.connection_id);
    put_opt(&mut m, "credentials", &i.credentials);
    put_map(&mut m, "requestParameters", &i.request_parameters);
    put_templates(&mut m, "requestTemplates", &i.request_templates);
    m.insert(
        "passthroughBehavior".into(),
        i.passthrough_behavior
            .clone()
            .unwrap_or_else(|| "WHEN_NO_MATCH".into())
            .into(),
    );
    put_opt(&mut m, "contentHandling", &i.content_handling);
    m.insert("timeoutInMillis".into(), i.timeout_in_millis.into());
    put_opt(&mut m, "cacheNamespace", &i.cache_namespace);
    m.insert("cacheKeyParameters".into(), json!(i.cache_key_parameters));
    if let Some(skip) = i.tls_insecure_skip_verification {
        m.insert("tlsConfig".into(), json!({ "insecureSkipVerification": skip }));
    }
    if !i.integration_responses.is_empty() {
        let r: Map<String, Value> = i
            .integration_responses
            .iter()
            .map(|(k, v)| (k.clone(), integration_response(v)))
            .collect();
        m.insert("integrationResponses".into(), Value::Object(r));
    }
    Value::Object(m)
}

pub fn integration_response(r: &IntegrationResponse) -> Value {
    let mut m = Map::new();
    m.insert("statusCode".into(), r.status_code.clone().into());
    put_opt(&mut m, "selectionPattern", &r.selection_pattern);
    put_map(&mut m, "responseParameters", &r.response_parameters);
    put_templates(&mut m, "responseTemplates", &r.response_templates);
    put_opt(&mut m, "contentHandling", &r.content_handling);
    put_sent_empty(&mut m, &r.sent_empty);
    Value::Object(m)
}

pub fn deployment(d: &Deployment, with_summary: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), d.id.clone().into());
    put_opt(&mut m, "description", &d.description);
    m.insert("createdDate".into(), d.created_date.into());
    if with_summary {
        let mut summary = Map::new();
        for r in d.resources.values() {
            if r.methods.is_empty() {
                continue;
            }
            let path = RestApi::path_of(&d.resources, &r.id).unwrap_or_default();
            let methods: Map<String, Value> = r
                .methods
                .values()
                .map(|x| {
                    (
                        x.http_method.clone(),
                        json!({"authorizationType": x.authorization_type, "apiKeyRequired": x.api_key_required}),
                    )
                })
                .collect();
            summary.insert(path, Value::Object(methods));
        }
        m.insert("apiSummary".into(), Value::Object(summary));
    }
    Value::Object(m)
}

pub fn stage(s: &Stage) -> Value {
    let mut m = Map::new();
    m.insert("deploymentId".into(), s.deployment_id.clone().into());
    m.insert("stageName".into(), s.stage_name.clone().into());
    put_opt(&mut m, "description", &s.description);
    m.insert("cacheClusterEnabled".into(), s.cache_cluster_enabled.into());
    put_opt(&mut m, "cacheClusterSize", &s.cache_cluster_size);
    m.insert("cacheClusterStatus".into(), "NOT_AVAILABLE".into());
    m.insert("methodSettings".into(), json!(s.method_settings));
    put_map(&mut m, "variables", &s.variables);
    m.insert("tracingEnabled".into(), s.tracing_enabled.into());
    put_map(&mut m, "tags", &s.tags);
    put_opt(&mut m, "documentationVersion", &s.documentation_version);
    put_opt(&mut m, "clientCertificateId", &s.client_certificate_id);
    if let Some(a) = &s.access_log_settings {
        let mut log = Map::new();
        put_opt(&mut log, "format", &a.format);
        put_opt(&mut log, "destinationArn", &a.destination_arn);
        m.insert("accessLogSettings".into(), Value::Object(log));
    }
    if let Some(c) = &s.canary_settings {
        let mut canary = Map::new();
        canary.insert("deploymentId".into(), c.deployment_id.clone().into());
        canary.insert("percentTraffic".into(), c.percent_traffic.into());
        put_map(&mut canary, "stageVariableOverrides", &c.stage_variable_overrides);
        canary.insert("useStageCache".into(), c.use_stage_cache.into());
        m.insert("canarySettings".into(), Value::Object(canary));
    }
    m.insert("createdDate".into(), s.created_date.into());
    m.insert("lastUpdatedDate".into(), s.last_updated_date.into());
    Value::Object(m)
}

pub fn authorizer(a: &Authorizer) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), a.id.clone().into());
    m.insert("name".into(), a.name.clone().into());
    m.insert("type".into(), a.authorizer_type.as_str().into());
    if !a.provider_arns.is_empty() {
        m.insert("providerARNs".into(), json!(a.provider_arns));
    }
    let lambda = a.authorizer_type != AuthorizerType::CognitoUserPools;
    // AWS echoes "custom" / "cognito_user_pools" when authType is not set.
    let auth_type = match (&a.auth_type, lambda) {
        (Some(t), _) => t.as_str(),
        (None, true) => "custom",
        (None, false) => "cognito_user_pools",
    };
    m.insert("authType".into(), auth_type.into());
    put_opt(&mut m, "authorizerUri", &a.authorizer_uri);
    put_opt(&mut m, "authorizerCredentials", &a.authorizer_credentials);
    put_opt(&mut m, "identitySource", &a.identity_source);
    put_opt(
        &mut m,
        "identityValidationExpression",
        &a.identity_validation_expression,
    );
    // Only a TTL that was set is echoed (AWS recorded none for a new TOKEN
    // authorizer); an unset one still caches for the default 300 s.
    if let Some(t) = a.authorizer_result_ttl_in_seconds {
        m.insert("authorizerResultTtlInSeconds".into(), t.into());
    }
    Value::Object(m)
}

/// A gateway response; `default` marks one API Gateway generated itself.
pub fn gateway_response(r: &GatewayResponse, default: bool) -> Value {
    let mut m = Map::new();
    m.insert("responseType".into(), r.response_type.clone().into());
    put_opt(&mut m, "statusCode", &r.status_code);
    m.insert("responseParameters".into(), json!(r.response_parameters));
    m.insert("responseTemplates".into(), json!(r.response_templates));
    m.insert("defaultResponse".into(), default.into());
    Value::Object(m)
}

/// A model; `schema` replaces the stored text (GetModel with `flatten`).
pub fn model(x: &Model, schema: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), x.id.clone().into());
    m.insert("name".into(), x.name.clone().into());
    put_opt(&mut m, "description", &x.description);
    if let Some(s) = schema.or(x.schema.as_deref()) {
        m.insert("schema".into(), s.into());
    }
    m.insert("contentType".into(), x.content_type.clone().into());
    Value::Object(m)
}

pub fn request_validator(v: &RequestValidator) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), v.id.clone().into());
    put_opt(&mut m, "name", &v.name);
    m.insert("validateRequestBody".into(), v.validate_request_body.into());
    m.insert(
        "validateRequestParameters".into(),
        v.validate_request_parameters.into(),
    );
    Value::Object(m)
}
