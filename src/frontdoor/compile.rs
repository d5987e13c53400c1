//! From a stored Deployment to what the data plane executes: the routing
//! table, each method's request validation (models compiled to schema
//! validators), and, per stage, each method's resolved integration target
//! (stage variables substituted, Lambda URI parsed into a function and
//! qualifier).
//! Built once per change on the management side; read-only afterwards.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::authorize::lambda::StageAuthorizer;
use super::authorize::{Authorization, MethodAccess};
use super::integrate::http::{HttpIntegration, HttpProxyTarget};
use super::integrate::lambda::LambdaIntegration;
use super::integrate::mapping::RequestMapping;
use super::integrate::mock::MockIntegration;
use super::integrate::request::IntegrationRequest;
use super::integrate::response::IntegrationResponses;
use super::respond::GatewayResponses;
use super::route::{RouteSpec, RouteTable};
use super::validate::{ModelSchemas, RequestValidation};
use crate::apigw::model::{Authorizer, Deployment, Integration, IntegrationType, Method, RestApi, Stage};
use crate::function::name::FunctionRef;
use crate::iam::policy::PolicyDocument;

/// A deployment's routes and method definitions, shared by every stage
/// that points at it.
pub struct CompiledDeployment {
    pub id: String,
    pub routes: RouteTable,
    pub binary_media_types: Vec<String>,
    /// The resource policy; an unparsable one denies everything.
    pub policy: Option<PolicyDocument>,
    /// `apiKeySource` is AUTHORIZER (else HEADER).
    pub api_key_source_authorizer: bool,
    /// How refusals and errors are answered.
    pub responses: GatewayResponses,
    authorizers: BTreeMap<String, Authorizer>,
    methods: HashMap<(String, String), MethodDef>,
}

impl CompiledDeployment {
    /// The path template of a resource that has methods.
    pub fn resource_path(&self, resource_id: &str) -> Option<String> {
        self.methods
            .iter()
            .find(|((r, _), _)| r == resource_id)
            .map(|(_, d)| d.path.clone())
    }
}

/// What a stage needs of one method.
struct MethodDef {
    path: String,
    integration: Integration,
    authorization_type: String,
    authorizer_id: Option<String>,
    api_key_required: bool,
    /// Shared by every stage: validation does not depend on stage variables.
    validation: Option<Arc<RequestValidation>>,
}

/// What a method does when called, with stage variables resolved.
#[derive(Clone)]
pub enum Target {
    LambdaProxy {
        function: String,
        qualifier: Option<String>,
        timeout: Duration,
        /// Integration `httpMethod` must be POST for Lambda; anything else
        /// is a 500 at call time, as AWS does.
        post: bool,
        /// The event's fixed fields for this method on this stage (set by
        /// the stage's compilation, which knows them).
        event: Option<Arc<crate::frontdoor::proxy::EventParts>>,
    },
    /// `AWS` to a Lambda function, through mapping templates.
    Lambda(Arc<LambdaIntegration>),
    Mock(Arc<MockIntegration>),
    /// `HTTP_PROXY` to an external endpoint (stage variables substituted,
    /// `{name}` placeholders filled per request).
    HttpProxy(Arc<HttpProxyTarget>),
    /// `HTTP` to an external endpoint, through mapping templates.
    Http(Arc<HttpIntegration>),
    /// Resolvable only at call time into an error (e.g. a stage variable
    /// that is not set): answered with 500 Internal server error.
    Misconfigured(String),
}

/// One stage: its deployment plus resolved targets.
pub struct CompiledStage {
    pub name: String,
    pub deployment: Arc<CompiledDeployment>,
    pub variables: BTreeMap<String, String>,
    /// This is the stage's canary release (`$context.isCanaryRequest`).
    pub is_canary: bool,
    /// Resource id → HTTP method → plan (two levels, so that a lookup
    /// borrows the request's strings).
    methods: foldhash::HashMap<String, foldhash::HashMap<String, MethodPlan>>,
}

/// One method as a stage runs it: who may call it, how fast, and what it runs.
pub struct MethodPlan {
    pub access: MethodAccess,
    /// The stage's throttle for this method (`methodSettings`
    /// `throttlingRateLimit` / `throttlingBurstLimit`, by `path/METHOD` or
    /// `*/*`); None when the stage sets none.
    pub throttle: Option<governor::DefaultDirectRateLimiter>,
    /// What the method's request validator checks; None = nothing.
    pub validation: Option<Arc<RequestValidation>>,
    pub target: Target,
}

/// The stage throttle of one method: its own settings, else the stage's
/// `*/*`. A method's settings are keyed by its path as the patch wrote it:
/// escaped (`~1pets~1{id}/GET`, what AWS's examples use) or plain
/// (`pets/{id}/GET`, Terraform's `method_path`).
fn stage_throttle(stage: &Stage, path: &str, method: &str) -> Option<governor::DefaultDirectRateLimiter> {
    let escaped = format!("{}/{method}", path.replace('/', "~1"));
    let plain = format!("{}/{method}", path.trim_start_matches('/'));
    let setting = stage
        .method_settings
        .get(&escaped)
        .or_else(|| stage.method_settings.get(&plain))
        .or_else(|| stage.method_settings.get("*/*"))?;
    let rate = setting.get("throttlingRateLimit")?.as_f64()?;
    let burst = setting.get("throttlingBurstLimit")?.as_i64()?;
    let quota = crate::usage::throttle::quota(&crate::usage::model::Throttle {
        burst_limit: burst,
        rate_limit: rate,
    });
    match quota {
        Some(q) => Some(governor::RateLimiter::direct(q)),
        // A zero rate stops every call (AWS answers 429 to all).
        None => governor::Quota::with_period(std::time::Duration::from_secs(u64::from(u32::MAX))).map(|q| {
            let limiter = governor::RateLimiter::direct(q.allow_burst(std::num::NonZeroU32::MIN));
            let _ = limiter.check();
            limiter
        }),
    }
}

impl CompiledStage {
    pub fn method(&self, resource_id: &str, method: &str) -> Option<&MethodPlan> {
        self.methods.get(resource_id)?.get(method)
    }
}

/// A resource policy that cannot be parsed denies every request.
const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// Where a deployment runs: fills in `execute-api:/...` resource shorthands.
pub struct Scope<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub api_id: &'a str,
}

fn compile_policy(api: &str, text: Option<&str>, scope: &Scope<'_>) -> Option<PolicyDocument> {
    let text = text.filter(|t| !t.trim().is_empty())?;
    // AWS expands `execute-api:/stage/METHOD/path` to the API's full ARN.
    let text = text.replace(
        "\"execute-api:/",
        &format!(
            "\"arn:aws:execute-api:{}:{}:{}/",
            scope.region, scope.account, scope.api_id
        ),
    );
    match PolicyDocument::parse(&text) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::error!(deployment = api, error = %e, "resource policy cannot be parsed; denying every request");
            PolicyDocument::parse(DENY_ALL).ok()
        }
    }
}

/// Extracts the function ARN from a Lambda invocation URI.
pub fn lambda_function_of(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("arn:")?;
    let (_, path) = rest.split_once(":lambda:path/")?;
    // AWS takes `path//2015-03-31/...` too.
    let arn = path
        .trim_start_matches('/')
        .strip_prefix("2015-03-31/functions/")?;
    arn.strip_suffix("/invocations")
}

/// Deploy-time check: can Portico run this integration?
pub fn check_integration(i: &Integration) -> Result<(), String> {
    match i.integration_type {
        IntegrationType::AwsProxy | IntegrationType::Aws => {
            let uri = i.uri.as_deref().unwrap_or_default();
            let arn = lambda_function_of(uri).ok_or_else(|| {
                format!("Integration URI {uri} is not supported: Portico runs Lambda integrations, expected arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{functionArn}}/invocations")
            })?;
            if !arn.contains("${stageVariables.") && FunctionRef::parse(arn).is_err() {
                return Err(format!("Invalid function ARN in integration URI: {arn}"));
            }
            Ok(())
        }
        IntegrationType::Mock => Ok(()),
        IntegrationType::HttpProxy | IntegrationType::Http => check_http_integration(i),
    }
}

/// Deploy-time check of an `HTTP`/`HTTP_PROXY` integration: an
/// `http(s)://` URI and parameter mappings Portico can evaluate. (A URI that
/// depends on stage variables is checked per stage, at call time.)
pub fn check_http_integration(i: &Integration) -> Result<(), String> {
    let uri = i.uri.as_deref().unwrap_or_default();
    let lower = uri.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!("Invalid HTTP endpoint specified for URI {uri}"));
    }
    RequestMapping::compile(&i.request_parameters, false).map_err(|e| e.0)?;
    Ok(())
}

pub fn compile_deployment(d: &Deployment, scope: &Scope<'_>) -> Result<CompiledDeployment, String> {
    let mut specs = Vec::new();
    let mut methods = HashMap::new();
    let mut models = ModelSchemas::new(scope.api_id, &d.models);
    for r in d.resources.values() {
        if r.methods.is_empty() {
            continue;
        }
        let path = RestApi::path_of(&d.resources, &r.id).ok_or("broken resource tree")?;
        for (m, method) in &r.methods {
            if let Some(i) = &method.integration {
                let validation = RequestValidation::compile(method, &d.request_validators, &mut models);
                let mut def = method_def(&path, method, i);
                def.validation = validation.map(Arc::new);
                methods.insert((r.id.clone(), m.clone()), def);
            }
        }
        specs.push(RouteSpec {
            resource_id: r.id.clone(),
            path,
            methods: r.methods.keys().cloned().collect(),
        });
    }
    let routes = RouteTable::build(specs).map_err(|e| format!("{e:?}"))?;
    Ok(CompiledDeployment {
        id: d.id.clone(),
        routes,
        binary_media_types: d.binary_media_types.clone(),
        policy: compile_policy(&d.id, d.policy.as_deref(), scope),
        api_key_source_authorizer: d.api_key_source == "AUTHORIZER",
        responses: GatewayResponses::compile(&d.gateway_responses),
        authorizers: d.authorizers.clone(),
        methods,
    })
}

fn method_def(path: &str, m: &Method, i: &Integration) -> MethodDef {
    MethodDef {
        path: path.to_string(),
        integration: i.clone(),
        authorization_type: m.authorization_type.clone(),
        authorizer_id: m.authorizer_id.clone(),
        api_key_required: m.api_key_required,
        validation: None,
    }
}

/// Substitutes `${stageVariables.name}`; None if a variable is unset.
pub fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${stageVariables.".len()..];
        let end = after.find('}')?;
        out.push_str(vars.get(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn target_of(i: &Integration, vars: &BTreeMap<String, String>) -> Target {
    match i.integration_type {
        IntegrationType::AwsProxy => {
            let uri = i.uri.as_deref().unwrap_or_default();
            let Some(uri) = substitute(uri, vars) else {
                return Target::Misconfigured(format!("stage variable in {uri} is not set"));
            };
            match lambda_function_of(&uri).map(FunctionRef::parse) {
                Some(Ok(f)) => Target::LambdaProxy {
                    function: f.name,
                    qualifier: f.qualifier,
                    timeout: Duration::from_millis(u64::from(i.timeout_in_millis)),
                    post: i.http_method.as_deref() == Some("POST"),
                    event: None,
                },
                _ => Target::Misconfigured(format!("invalid Lambda URI {uri}")),
            }
        }
        IntegrationType::Aws => {
            let uri = i.uri.as_deref().unwrap_or_default();
            let Some(uri) = substitute(uri, vars) else {
                return Target::Misconfigured(format!("stage variable in {uri} is not set"));
            };
            let Some(Ok(f)) = lambda_function_of(&uri).map(FunctionRef::parse) else {
                return Target::Misconfigured(format!("invalid Lambda URI {uri}"));
            };
            if i.http_method.as_deref() != Some("POST") {
                return Target::Misconfigured(
                    "AWS integration httpMethod must be POST for Lambda".to_string(),
                );
            }
            match non_proxy(i, true) {
                Ok((request, responses)) => Target::Lambda(Arc::new(LambdaIntegration {
                    function: f.name,
                    qualifier: f.qualifier,
                    timeout: Duration::from_millis(u64::from(i.timeout_in_millis)),
                    request,
                    responses,
                })),
                Err(why) => Target::Misconfigured(why),
            }
        }
        IntegrationType::Mock => match non_proxy(i, false) {
            Ok((request, responses)) => Target::Mock(Arc::new(MockIntegration { request, responses })),
            Err(why) => Target::Misconfigured(why),
        },
        IntegrationType::Http => match HttpIntegration::compile(i, vars) {
            Ok(t) => Target::Http(Arc::new(t)),
            Err(why) => Target::Misconfigured(why),
        },
        IntegrationType::HttpProxy => match HttpProxyTarget::compile(i, vars) {
            Ok(t) => Target::HttpProxy(Arc::new(t)),
            Err(why) => Target::Misconfigured(why),
        },
    }
}

/// The request and response sides of a non-proxy integration.
fn non_proxy(i: &Integration, lambda: bool) -> Result<(IntegrationRequest, IntegrationResponses), String> {
    let request = IntegrationRequest::compile(i, lambda).map_err(|e| e.0)?;
    let responses = IntegrationResponses::compile(&i.integration_responses).map_err(|e| e.0)?;
    Ok((request, responses))
}

fn access_of(def: &MethodDef, authorizers: &HashMap<&str, Arc<StageAuthorizer>>) -> MethodAccess {
    let authorization = match def.authorization_type.as_str() {
        "NONE" => Authorization::None,
        "AWS_IAM" => Authorization::Iam,
        "CUSTOM" => match def.authorizer_id.as_deref().and_then(|id| authorizers.get(id)) {
            Some(a) => Authorization::Custom(a.clone()),
            None => Authorization::Broken(format!(
                "authorizer {} is not part of this deployment",
                def.authorizer_id.as_deref().unwrap_or("(none)")
            )),
        },
        other => Authorization::Broken(format!("authorization type {other} is not supported")),
    };
    MethodAccess {
        authorization,
        api_key_required: def.api_key_required,
    }
}

/// Compiles what `stage` serves from `deployment` with its own variables.
pub fn compile_stage(stage: &Stage, deployment: Arc<CompiledDeployment>) -> CompiledStage {
    compile_stage_with(stage, &stage.variables, false, deployment)
}

/// The canary side of `stage`, compiled as a stage of its own: the
/// canary's deployment, and the stage's variables with the canary's
/// overrides merged over them.
pub fn compile_canary(stage: &Stage, deployment: Arc<CompiledDeployment>) -> CompiledStage {
    let variables = stage
        .canary_settings
        .as_ref()
        .map_or_else(|| stage.variables.clone(), |c| c.variables(&stage.variables));
    compile_stage_with(stage, &variables, true, deployment)
}

fn compile_stage_with(
    stage: &Stage,
    variables: &BTreeMap<String, String>,
    is_canary: bool,
    deployment: Arc<CompiledDeployment>,
) -> CompiledStage {
    let authorizers: HashMap<&str, Arc<StageAuthorizer>> = deployment
        .authorizers
        .values()
        .map(|a| (a.id.as_str(), Arc::new(StageAuthorizer::compile(a, variables))))
        .collect();
    let mut methods: foldhash::HashMap<String, foldhash::HashMap<String, MethodPlan>> =
        foldhash::HashMap::default();
    for ((resource_id, method), def) in &deployment.methods {
        let mut target = target_of(&def.integration, variables);
        if let Target::LambdaProxy { event, .. } = &mut target {
            *event = Some(Arc::new(crate::frontdoor::proxy::EventParts::new(
                &crate::frontdoor::proxy::FixedFields {
                    method,
                    resource_id,
                    resource_path: &def.path,
                    stage: &stage.stage_name,
                    stage_variables: variables,
                    deployment_id: &deployment.id,
                },
            )));
        }
        let plan = MethodPlan {
            access: access_of(def, &authorizers),
            throttle: stage_throttle(stage, &def.path, method),
            validation: def.validation.clone(),
            target,
        };
        methods
            .entry(resource_id.clone())
            .or_default()
            .insert(method.clone(), plan);
    }
    CompiledStage {
        name: stage.stage_name.clone(),
        deployment,
        variables: variables.clone(),
        is_canary,
        methods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_uri() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:echo/invocations";
        assert_eq!(
            lambda_function_of(uri),
            Some("arn:aws:lambda:us-east-1:000000000000:function:echo")
        );
        assert_eq!(lambda_function_of("arn:aws:apigateway:us-east-1:s3:path/x"), None);
    }

    #[test]
    fn stage_variables() {
        let mut vars = BTreeMap::new();
        vars.insert("fn".to_string(), "echo".to_string());
        assert_eq!(
            substitute("a:${stageVariables.fn}:b", &vars).as_deref(),
            Some("a:echo:b")
        );
        assert_eq!(substitute("${stageVariables.nope}", &vars), None);
    }
}
