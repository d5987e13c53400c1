//! From a stored Deployment to what the data plane executes: the routing
//! table and, per stage, each method's resolved integration target (stage
//! variables substituted, Lambda URI parsed into a function and qualifier).
//! Built once per change on the management side; read-only afterwards.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::route::{RouteSpec, RouteTable};
use crate::apigw::model::{Deployment, Integration, IntegrationResponse, IntegrationType, RestApi, Stage};
use crate::function::name::FunctionRef;

/// A deployment's routes and method definitions, shared by every stage
/// that points at it.
pub struct CompiledDeployment {
    pub id: String,
    pub routes: RouteTable,
    pub binary_media_types: Vec<String>,
    methods: HashMap<(String, String), Integration>,
}

/// What a method does when called, with stage variables resolved.
#[derive(Debug, Clone)]
pub enum Target {
    LambdaProxy {
        function: String,
        qualifier: Option<String>,
        timeout: Duration,
        /// Integration `httpMethod` must be POST for Lambda; anything else
        /// is a 500 at call time, as AWS does.
        post: bool,
    },
    Mock {
        status: Option<u16>,
        responses: BTreeMap<String, IntegrationResponse>,
    },
    /// Resolvable only at call time into an error (e.g. a stage variable
    /// that is not set): answered with 500 Internal server error.
    Misconfigured(String),
}

/// One stage: its deployment plus resolved targets.
pub struct CompiledStage {
    pub name: String,
    pub deployment: Arc<CompiledDeployment>,
    pub variables: BTreeMap<String, String>,
    targets: HashMap<(String, String), Target>,
}

impl CompiledStage {
    pub fn target(&self, resource_id: &str, method: &str) -> Option<&Target> {
        // The key is owned; a small allocation avoided by a two-level map
        // would matter only at far higher rates than a wasm call allows.
        self.targets.get(&(resource_id.to_string(), method.to_string()))
    }
}

/// Extracts the function ARN from a Lambda invocation URI.
pub fn lambda_function_of(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("arn:")?;
    let (_, path) = rest.split_once(":lambda:path/")?;
    let arn = path.strip_prefix("2015-03-31/functions/")?;
    arn.strip_suffix("/invocations")
}

/// Deploy-time check: can Portico run this integration?
pub fn check_integration(i: &Integration) -> Result<(), String> {
    match i.integration_type {
        IntegrationType::AwsProxy => {
            let uri = i.uri.as_deref().unwrap_or_default();
            let arn = lambda_function_of(uri).ok_or_else(|| {
                format!("Invalid Lambda integration URI {uri}: expected arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{functionArn}}/invocations")
            })?;
            if !arn.contains("${stageVariables.") && FunctionRef::parse(arn).is_err() {
                return Err(format!("Invalid function ARN in integration URI: {arn}"));
            }
            Ok(())
        }
        IntegrationType::Mock => Ok(()),
        other => Err(format!(
            "Integration type {} is not supported yet by Portico (supported: AWS_PROXY, MOCK)",
            other.as_str()
        )),
    }
}

pub fn compile_deployment(d: &Deployment) -> Result<CompiledDeployment, String> {
    let mut specs = Vec::new();
    let mut methods = HashMap::new();
    for r in d.resources.values() {
        if r.methods.is_empty() {
            continue;
        }
        let path = RestApi::path_of(&d.resources, &r.id).ok_or("broken resource tree")?;
        specs.push(RouteSpec {
            resource_id: r.id.clone(),
            path,
            methods: r.methods.keys().cloned().collect(),
        });
        for (m, method) in &r.methods {
            if let Some(i) = &method.integration {
                methods.insert((r.id.clone(), m.clone()), i.clone());
            }
        }
    }
    let routes = RouteTable::build(specs).map_err(|e| format!("{e:?}"))?;
    Ok(CompiledDeployment {
        id: d.id.clone(),
        routes,
        binary_media_types: d.binary_media_types.clone(),
        methods,
    })
}

/// Substitutes `${stageVariables.name}`; None if a variable is unset.
fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Option<String> {
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
                },
                _ => Target::Misconfigured(format!("invalid Lambda URI {uri}")),
            }
        }
        IntegrationType::Mock => {
            let template = i
                .request_templates
                .get("application/json")
                .or_else(|| i.request_templates.values().next());
            let status = template.and_then(|t| {
                let v: serde_json::Value = serde_json::from_str(t).ok()?;
                let code = v.get("statusCode")?;
                code.as_u64()
                    .or_else(|| code.as_str().and_then(|s| s.parse().ok()))
                    .and_then(|n| u16::try_from(n).ok())
            });
            Target::Mock {
                status,
                responses: i.integration_responses.clone(),
            }
        }
        other => Target::Misconfigured(format!("integration type {} is not supported", other.as_str())),
    }
}

pub fn compile_stage(stage: &Stage, deployment: Arc<CompiledDeployment>) -> CompiledStage {
    let targets = deployment
        .methods
        .iter()
        .map(|(k, i)| (k.clone(), target_of(i, &stage.variables)))
        .collect();
    CompiledStage {
        name: stage.stage_name.clone(),
        deployment,
        variables: stage.variables.clone(),
        targets,
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
