//! Access control for one routed request, in API Gateway's order
//! (apigateway-authorization-flow): the resource policy's explicit denials,
//! then the method's authorization (IAM SigV4 + identity policies, or a
//! Lambda authorizer's policy evaluated against this request's methodArn),
//! then the resource policy's allow rules where the flow needs one, then the
//! API key and its usage plan (throttle, quota). The outcome is either what
//! the integration learns about the caller ([`Granted`]) or the gateway
//! response to send ([`Denied`]).
//!
//! The methodArn is built from the path the router matched (dot segments
//! already removed, leading and trailing slashes collapsed, each segment
//! percent-decoded as the router compares it, `/` inside a segment kept as
//! `%2F`), so a policy is always judged against the resource that will run.

pub mod lambda;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::host::{Host, InvokeError, InvokeRequest};
use crate::iam::IamService;
use crate::iam::policy::{AuthzRequest, Decision, PolicyDocument};
use crate::usage::{ApiKeyIdentity, UsageRejection, UsageService};
use lambda::{AuthorizerResult, IdentityInputs, ResultCache, StageAuthorizer};

use super::respond::GatewayResponseType;

/// A method's access rules as deployed.
#[derive(Debug, Clone)]
pub enum Authorization {
    None,
    Iam,
    Custom(Arc<StageAuthorizer>),
    /// Cannot be honoured (e.g. an authorizer id that no longer exists):
    /// every request is refused with 500, never let through.
    Broken(String),
}

#[derive(Debug, Clone)]
pub struct MethodAccess {
    pub authorization: Authorization,
    pub api_key_required: bool,
}

/// What access control shares across requests.
pub struct AccessControl {
    pub host: Arc<Host>,
    pub iam: Arc<IamService>,
    /// Set once at start-up (the usage service is built after the front door).
    pub usage: std::sync::OnceLock<Arc<UsageService>>,
    pub cache: ResultCache,
    pub region: String,
    pub account: String,
    /// Authorizer function invocations (cache misses), for `/_portico/stats`.
    pub authorizer_invocations: AtomicU64,
}

/// The facts about a request that access control reads.
pub struct RequestFacts<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    pub method: &'a str,
    /// Path after the stage as the router saw it (dot segments removed).
    pub path: &'a str,
    /// Resource template and the method entry that matched (`GET`, or
    /// `ANY`), for usage-plan method throttles.
    pub resource_path: &'a str,
    pub route_method: &'a str,
    /// The request line's path and query as received (what SigV4 signs).
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: IpAddr,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub request_id: &'a str,
    pub api_key_source_authorizer: bool,
    pub resource_policy: Option<&'a PolicyDocument>,
}

/// The IAM caller established by SigV4.
#[derive(Debug, Clone)]
pub struct IamCaller {
    pub access_key: String,
    pub user_arn: String,
    pub user: String,
    /// The user's identity policies.
    pub policies: Arc<[Arc<PolicyDocument>]>,
}

/// Access granted: what the integration learns about the caller.
#[derive(Default)]
pub struct Granted {
    /// The Lambda authorizer's result and how long the call took (0 when
    /// it came from the cache).
    pub authorizer: Option<(Arc<AuthorizerResult>, u64)>,
    pub caller: Option<IamCaller>,
    pub api_key: Option<ApiKeyIdentity>,
}

/// Access refused: the gateway response to send.
#[derive(Debug, PartialEq)]
pub struct Denied {
    pub kind: GatewayResponseType,
    /// None = the type's default message.
    pub message: Option<String>,
    /// IAM and resource-policy denials are worded `{"Message": ...}`.
    pub capitalised: bool,
    /// Replaces the type's `x-amzn-ErrorType` (SigV4 failures name their own).
    pub error_type: Option<&'static str>,
}

impl Granted {
    /// `requestContext.authorizer` for the proxy event (borrowed from the
    /// cached result when nothing was invoked).
    pub fn authorizer_event(&self) -> Option<std::borrow::Cow<'_, Value>> {
        let (result, latency) = self.authorizer.as_ref()?;
        Some(match latency {
            0 => std::borrow::Cow::Borrowed(&result.cached_event),
            n => std::borrow::Cow::Owned(result.event_value(*n)),
        })
    }

    /// `$context.authorizer.*` for gateway responses and templates.
    pub fn authorizer_context(&self) -> Option<&BTreeMap<String, String>> {
        self.authorizer.as_ref().map(|(r, _)| &r.template_context)
    }
}

impl Denied {
    fn of(kind: GatewayResponseType) -> Denied {
        Denied {
            kind,
            message: None,
            capitalised: false,
            error_type: None,
        }
    }
    fn with(kind: GatewayResponseType, message: impl Into<String>) -> Denied {
        Denied {
            kind,
            message: Some(message.into()),
            capitalised: false,
            error_type: None,
        }
    }
    fn policy(message: String) -> Denied {
        Denied {
            kind: GatewayResponseType::AccessDenied,
            message: Some(message),
            capitalised: true,
            error_type: None,
        }
    }
}

pub const EXPLICIT_DENY: &str = "User is not authorized to access this resource with an explicit deny";
pub const IMPLICIT_DENY: &str = "User is not authorized to access this resource";

/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`
/// with `path` in the canonical form described in the module doc.
pub fn method_arn(
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    let mut arn = format!("arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/");
    let trimmed = path.trim_matches('/');
    for (i, segment) in trimmed.split('/').enumerate() {
        if i > 0 {
            arn.push('/');
        }
        match percent_encoding::percent_decode_str(segment).decode_utf8() {
            Ok(decoded) => {
                for c in decoded.chars() {
                    match c {
                        '/' => arn.push_str("%2F"),
                        c => arn.push(c),
                    }
                }
            }
            Err(_) => arn.push_str(segment),
        }
    }
    arn
}

/// The account id as AWS prints it in denial messages: all but the last
/// four digits masked.
fn masked(arn: &str, account: &str) -> String {
    if account.len() <= 4 {
        return arn.to_string();
    }
    let mask = format!(
        "{}{}",
        "*".repeat(account.len() - 4),
        &account[account.len() - 4..]
    );
    arn.replacen(&format!(":{account}:"), &format!(":{mask}:"), 1)
}

fn policy_denial(who: &str, arn: &str, account: &str, explicit: bool) -> Denied {
    Denied::policy(format!(
        "User: {who} is not authorized to perform: execute-api:Invoke on resource: {}{}",
        masked(arn, account),
        if explicit { " with an explicit deny" } else { "" }
    ))
}

/// An open method: no authorization, no resource policy, no API key;
/// nothing to decide.
pub fn is_open(access: &MethodAccess, facts: &RequestFacts<'_>) -> bool {
    matches!(access.authorization, Authorization::None)
        && facts.resource_policy.is_none()
        && !access.api_key_required
}

impl AccessControl {
    /// Runs access control; `request_event` builds the REQUEST authorizer's
    /// event (the proxy event without its body) when one is needed.
    pub async fn check(
        &self,
        access: &MethodAccess,
        facts: &RequestFacts<'_>,
        request_event: impl FnOnce() -> Vec<u8>,
    ) -> Result<Granted, Denied> {
        if is_open(access, facts) {
            return Ok(Granted::default());
        }
        let arn = method_arn(
            &self.region,
            &self.account,
            facts.api_id,
            facts.stage,
            facts.method,
            facts.path,
        );
        let mut granted = Granted::default();
        match &access.authorization {
            Authorization::Broken(why) => {
                tracing::warn!(api = facts.api_id, error = %why, "method authorization cannot be honoured");
                return Err(Denied::of(GatewayResponseType::AuthorizerConfigurationError));
            }
            Authorization::None => {
                if let Some(policy) = facts.resource_policy {
                    match self.evaluate(policy, &arn, None, facts) {
                        Decision::Allow => {}
                        d => {
                            return Err(policy_denial(
                                "anonymous",
                                &arn,
                                &self.account,
                                d == Decision::ExplicitDeny,
                            ));
                        }
                    }
                }
            }
            Authorization::Iam => {
                let caller = self.verify_signature(facts)?;
                let req = AuthzRequest {
                    action: "execute-api:Invoke",
                    resource: &arn,
                    source_ip: Some(facts.source_ip),
                    principal: Some(&caller.user_arn),
                    context: &[],
                };
                let by_identity =
                    crate::iam::policy::evaluate_all(caller.policies.iter().map(|p| &**p), &req);
                let by_resource = facts
                    .resource_policy
                    .map(|p| self.evaluate(p, &arn, Some(&caller.user_arn), facts))
                    .unwrap_or(Decision::NoMatch);
                let explicit = by_identity == Decision::ExplicitDeny || by_resource == Decision::ExplicitDeny;
                if explicit || (by_identity != Decision::Allow && by_resource != Decision::Allow) {
                    return Err(policy_denial(&caller.user_arn, &arn, &self.account, explicit));
                }
                granted.caller = Some(caller);
            }
            Authorization::Custom(authorizer) => {
                if let Some(policy) = facts.resource_policy
                    && self.evaluate(policy, &arn, None, facts) == Decision::ExplicitDeny
                {
                    return Err(policy_denial("anonymous", &arn, &self.account, true));
                }
                let (result, latency_ms) = self
                    .run_authorizer(authorizer, facts, &arn, request_event)
                    .await?;
                let req = AuthzRequest {
                    action: "execute-api:Invoke",
                    resource: &arn,
                    source_ip: Some(facts.source_ip),
                    principal: None,
                    context: &[],
                };
                match result.policy.evaluate(&req) {
                    Decision::Allow => {}
                    Decision::ExplicitDeny => {
                        return Err(Denied::with(GatewayResponseType::AccessDenied, EXPLICIT_DENY));
                    }
                    Decision::NoMatch => {
                        return Err(Denied::with(GatewayResponseType::AccessDenied, IMPLICIT_DENY));
                    }
                }
                if access.api_key_required && facts.api_key_source_authorizer {
                    granted.api_key = Some(self.admit(result.usage_identifier_key.as_deref(), facts)?);
                }
                granted.authorizer = Some((result, latency_ms));
            }
        }
        if access.api_key_required && granted.api_key.is_none() {
            let key = if facts.api_key_source_authorizer {
                // Only a Lambda authorizer can supply the key.
                None
            } else {
                facts.headers.get("x-api-key").and_then(|v| v.to_str().ok())
            };
            granted.api_key = Some(self.admit(key, facts)?);
        }
        Ok(granted)
    }

    fn evaluate(
        &self,
        policy: &PolicyDocument,
        arn: &str,
        principal: Option<&str>,
        facts: &RequestFacts<'_>,
    ) -> Decision {
        policy.evaluate(&AuthzRequest {
            action: "execute-api:Invoke",
            resource: arn,
            source_ip: Some(facts.source_ip),
            principal,
            context: &[],
        })
    }

    fn admit(&self, key: Option<&str>, facts: &RequestFacts<'_>) -> Result<ApiKeyIdentity, Denied> {
        let Some(usage) = self.usage.get() else {
            return Err(Denied::of(GatewayResponseType::InvalidApiKey));
        };
        usage
            .admit(
                key,
                facts.api_id,
                facts.stage,
                facts.resource_path,
                facts.route_method,
            )
            .map_err(|r| match r {
                UsageRejection::InvalidApiKey => Denied::of(GatewayResponseType::InvalidApiKey),
                UsageRejection::Throttled => Denied::of(GatewayResponseType::Throttled),
                UsageRejection::QuotaExceeded => Denied::of(GatewayResponseType::QuotaExceeded),
            })
    }

    fn verify_signature(&self, facts: &RequestFacts<'_>) -> Result<IamCaller, Denied> {
        use crate::iam::sigv4;
        let signed = sigv4::SignedRequest {
            method: facts.method,
            raw_path: facts.raw_path,
            raw_query: facts.raw_query,
            headers: facts.headers,
            body: facts.body,
        };
        let verified = sigv4::verify(&signed, Some("execute-api"), chrono::Utc::now(), |akid| {
            self.iam.credential(akid)
        })
        .map_err(|e| {
            let kind = match e.error_type() {
                "MissingAuthenticationTokenException" => GatewayResponseType::MissingAuthenticationToken,
                _ => GatewayResponseType::InvalidSignature,
            };
            Denied {
                kind,
                message: Some(e.message()),
                capitalised: false,
                error_type: Some(e.error_type()),
            }
        })?;
        let credential = verified.credential;
        Ok(IamCaller {
            access_key: verified.access_key_id,
            user_arn: credential.user_arn.clone(),
            user: credential.user_name.clone(),
            policies: credential.policies.clone(),
        })
    }

    /// The authorizer's result for this request: from the cache, or by
    /// invoking the function. Returns it with the invocation latency (0 on a
    /// cache hit).
    async fn run_authorizer(
        &self,
        authorizer: &StageAuthorizer,
        facts: &RequestFacts<'_>,
        arn: &str,
        request_event: impl FnOnce() -> Vec<u8>,
    ) -> Result<(Arc<AuthorizerResult>, u64), Denied> {
        let context = |name: &str| -> Option<String> {
            Some(match name {
                "requestId" => facts.request_id.to_string(),
                "stage" => facts.stage.to_string(),
                "apiId" => facts.api_id.to_string(),
                "httpMethod" => facts.method.to_string(),
                "resourcePath" => facts.resource_path.to_string(),
                "path" => format!("/{}{}", facts.stage, facts.path),
                "identity.sourceIp" => facts.source_ip.to_string(),
                "identity.userAgent" => facts.headers.get("user-agent")?.to_str().ok()?.to_string(),
                _ => return None,
            })
        };
        let identity = lambda::read_identity(
            &authorizer.identity,
            &IdentityInputs {
                headers: facts.headers,
                raw_query: facts.raw_query,
                stage_variables: facts.stage_variables,
                context: &context,
            },
        )
        .map_err(|_| Denied::of(GatewayResponseType::Unauthorized))?;
        let cacheable = !authorizer.ttl.is_zero()
            && !(matches!(authorizer.identity, lambda::IdentitySpec::Request { ref sources } if sources.is_empty()));
        let key = ResultCache::key(facts.api_id, facts.stage, &authorizer.id, &identity.cache_key);
        if cacheable && let Some(hit) = self.cache.get(&key) {
            return Ok((hit, 0));
        }
        let event = match &identity.token {
            Some(token) => lambda::token_event(token, arn),
            None => lambda::request_event(&request_event(), arn),
        };
        let (result, latency_ms) = self.invoke_authorizer(authorizer, &event).await?;
        let result = Arc::new(result);
        if cacheable {
            self.cache.insert(key, result.clone(), authorizer.ttl);
        }
        Ok((result, latency_ms))
    }

    /// Invokes an authorizer function and checks its answer; the
    /// invocation latency comes back with the result.
    pub async fn invoke_authorizer(
        &self,
        authorizer: &StageAuthorizer,
        event: &[u8],
    ) -> Result<(AuthorizerResult, u64), Denied> {
        let (function, qualifier) = authorizer.function.as_ref().map_err(|why| {
            tracing::warn!(authorizer = %authorizer.name, error = %why, "authorizer misconfigured");
            Denied::of(GatewayResponseType::AuthorizerConfigurationError)
        })?;
        self.authorizer_invocations.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = self
            .host
            .invoke(InvokeRequest {
                function,
                qualifier: qualifier.as_deref(),
                payload: event,
                client_context: None,
                request_id: uuid::Uuid::new_v4().to_string(),
                want_log: false,
                result_check: crate::host::ResultCheck::Json,
            })
            .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let invocation = match outcome {
            Ok(inv) => inv,
            Err(InvokeError::NotFound(arn)) => {
                tracing::warn!(function = %arn, "authorizer function does not exist");
                return Err(Denied::of(GatewayResponseType::AuthorizerConfigurationError));
            }
            Err(InvokeError::Throttled { .. }) => {
                return Err(Denied::of(GatewayResponseType::AuthorizerFailure));
            }
        };
        let bytes = match invocation.result {
            Ok(bytes) => bytes,
            Err(failure) => {
                if failure.message == "Unauthorized" {
                    return Err(Denied::of(GatewayResponseType::Unauthorized));
                }
                tracing::info!(authorizer = %authorizer.name, error_type = %failure.error_type, "Execution failed due to configuration error: authorizer error");
                return Err(Denied::of(GatewayResponseType::AuthorizerConfigurationError));
            }
        };
        let result = lambda::parse_result(&bytes).map_err(|e| {
            tracing::info!(authorizer = %authorizer.name, "Execution failed due to configuration error: {}", e.0);
            Denied::of(GatewayResponseType::AuthorizerConfigurationError)
        })?;
        Ok((result, latency_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_arn_is_canonical() {
        let a = |p: &str| method_arn("us-east-1", "123456789012", "api", "prod", "GET", p);
        assert_eq!(a("/"), "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/");
        assert_eq!(a(""), "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/");
        assert_eq!(
            a("/pets/1"),
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets/1"
        );
        assert_eq!(
            a("/pets/1/"),
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets/1"
        );
        assert_eq!(
            a("//pets"),
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets"
        );
        // Decoded as the router compares literals, so %61dmin is judged as admin...
        assert_eq!(
            a("/%61dmin"),
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/admin"
        );
        // ...but an encoded slash never becomes a separator.
        assert_eq!(
            a("/public%2F..%2Fadmin"),
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/public%2F..%2Fadmin"
        );
    }

    #[test]
    fn masked_account() {
        assert_eq!(
            masked(
                "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/",
                "123456789012"
            ),
            "arn:aws:execute-api:us-east-1:********9012:api/prod/GET/"
        );
    }
}
