//! Builder for API Gateway Lambda authorizer (TOKEN / REQUEST) responses.

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};
use serde_json::{Map, Number, Value};

use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};

/// IAM policy language version used in the policy document.
pub const POLICY_VERSION: &str = "2012-10-17";
/// The action every statement grants or denies.
pub const INVOKE_ACTION: &str = "execute-api:Invoke";

/// Effect of a policy statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A value of the authorizer `context` map: API Gateway only accepts
/// strings, numbers and booleans there.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    String(String),
    Number(Number),
    Bool(bool),
}

impl From<ContextValue> for Value {
    fn from(v: ContextValue) -> Value {
        match v {
            ContextValue::String(s) => Value::String(s),
            ContextValue::Number(n) => Value::Number(n),
            ContextValue::Bool(b) => Value::Bool(b),
        }
    }
}

impl From<&str> for ContextValue {
    fn from(s: &str) -> Self {
        ContextValue::String(s.to_owned())
    }
}

impl From<String> for ContextValue {
    fn from(s: String) -> Self {
        ContextValue::String(s)
    }
}

impl From<bool> for ContextValue {
    fn from(b: bool) -> Self {
        ContextValue::Bool(b)
    }
}

macro_rules! int_context_value {
    ($($t:ty),*) => {$(
        impl From<$t> for ContextValue {
            fn from(n: $t) -> Self {
                ContextValue::Number(Number::from(n))
            }
        }
    )*};
}
int_context_value!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl From<f64> for ContextValue {
    /// Non-finite numbers (NaN, infinities) have no JSON form and become `0`.
    fn from(n: f64) -> Self {
        ContextValue::Number(Number::from_f64(n).unwrap_or_else(|| Number::from(0)))
    }
}

impl From<f32> for ContextValue {
    fn from(n: f32) -> Self {
        ContextValue::from(n as f64)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    effect: Effect,
    resources: Vec<String>,
}

/// An API Gateway Lambda authorizer response (IAM policy form).
///
/// ```
/// use portico_guest::AuthorizerResponse;
///
/// let resp = AuthorizerResponse::allow("user|a1b2c3d4", "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/")
///     .with_context("stringKey", "value")
///     .with_context("numberKey", 123)
///     .with_context("booleanKey", true);
/// let json = portico_guest::serde_json::to_value(&resp).unwrap();
/// assert_eq!(json["policyDocument"]["Statement"][0]["Effect"], "Allow");
/// ```
///
/// Serialises to
/// `{"principalId": .., "policyDocument": {"Version": "2012-10-17", "Statement":
/// [{"Action": "execute-api:Invoke", "Effect": "Allow"|"Deny", "Resource": [..]}]},
/// "context": {..}}` plus `"usageIdentifierKey"` when set. Resources with the
/// same effect share one statement; statements keep the order in which their
/// effect first appeared.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizerResponse {
    principal_id: String,
    statements: Vec<Statement>,
    context: Map<String, Value>,
    usage_identifier_key: Option<String>,
}

impl AuthorizerResponse {
    /// A response with no statements (API Gateway treats that as a deny).
    pub fn new(principal_id: impl Into<String>) -> Self {
        AuthorizerResponse {
            principal_id: principal_id.into(),
            statements: Vec::new(),
            context: Map::new(),
            usage_identifier_key: None,
        }
    }

    /// A policy allowing `execute-api:Invoke` on `resource` (usually the
    /// event's `methodArn`).
    pub fn allow(principal_id: impl Into<String>, resource: impl Into<String>) -> Self {
        Self::new(principal_id).allow_resource(resource)
    }

    /// A policy denying `execute-api:Invoke` on `resource`.
    pub fn deny(principal_id: impl Into<String>, resource: impl Into<String>) -> Self {
        Self::new(principal_id).deny_resource(resource)
    }

    /// Adds `resource` to the Allow statement.
    pub fn allow_resource(self, resource: impl Into<String>) -> Self {
        self.with_resource(Effect::Allow, resource)
    }

    /// Adds `resource` to the Deny statement.
    pub fn deny_resource(self, resource: impl Into<String>) -> Self {
        self.with_resource(Effect::Deny, resource)
    }

    /// Adds `resource` to the statement with the given effect.
    pub fn with_resource(mut self, effect: Effect, resource: impl Into<String>) -> Self {
        let resource = resource.into();
        match self.statements.iter_mut().find(|s| s.effect == effect) {
            Some(s) => {
                if !s.resources.contains(&resource) {
                    s.resources.push(resource)
                }
            }
            None => self.statements.push(Statement {
                effect,
                resources: vec![resource],
            }),
        }
        self
    }

    /// Sets a `context` entry (string, number or boolean), passed on to the
    /// integration as `requestContext.authorizer.<key>`.
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<ContextValue>) -> Self {
        self.context.insert(key.into(), value.into().into());
        self
    }

    /// Sets `usageIdentifierKey` (the API key for usage plans).
    pub fn with_usage_identifier_key(mut self, key: impl Into<String>) -> Self {
        self.usage_identifier_key = Some(key.into());
        self
    }

    /// The principal id.
    pub fn principal_id(&self) -> &str {
        &self.principal_id
    }

    /// The context map.
    pub fn context(&self) -> &Map<String, Value> {
        &self.context
    }

    /// Resources of the statement with the given effect.
    pub fn resources(&self, effect: Effect) -> &[String] {
        self.statements
            .iter()
            .find(|s| s.effect == effect)
            .map(|s| s.resources.as_slice())
            .unwrap_or(&[])
    }

    /// The response as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

struct PolicyDocument<'a>(&'a [Statement]);
struct StatementRef<'a>(&'a Statement);

impl Serialize for StatementRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Statement", 3)?;
        st.serialize_field("Action", INVOKE_ACTION)?;
        st.serialize_field("Effect", self.0.effect.as_str())?;
        st.serialize_field("Resource", &self.0.resources)?;
        st.end()
    }
}

impl Serialize for PolicyDocument<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PolicyDocument", 2)?;
        st.serialize_field("Version", POLICY_VERSION)?;
        let statements: Vec<StatementRef<'_>> = self.0.iter().map(StatementRef).collect();
        st.serialize_field("Statement", &statements)?;
        st.end()
    }
}

impl Serialize for AuthorizerResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("principalId", &self.principal_id)?;
        map.serialize_entry("policyDocument", &PolicyDocument(&self.statements))?;
        map.serialize_entry("context", &self.context)?;
        if let Some(key) = &self.usage_identifier_key {
            map.serialize_entry("usageIdentifierKey", key)?;
        }
        map.end()
    }
}

impl From<AuthorizerResponse> for ApiGatewayCustomAuthorizerResponse {
    fn from(r: AuthorizerResponse) -> Self {
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some(POLICY_VERSION.to_owned());
        policy.statement = r
            .statements
            .into_iter()
            .map(|s| {
                let mut st = IamPolicyStatement::default();
                st.action = vec![INVOKE_ACTION.to_owned()];
                st.effect = match s.effect {
                    Effect::Allow => IamPolicyEffect::Allow,
                    Effect::Deny => IamPolicyEffect::Deny,
                };
                st.resource = s.resources;
                st
            })
            .collect();
        let mut out = ApiGatewayCustomAuthorizerResponse::default();
        out.principal_id = Some(r.principal_id);
        out.policy_document = policy;
        out.context = Value::Object(r.context);
        out.usage_identifier_key = r.usage_identifier_key;
        out
    }
}

/// Turns a method ARN (`arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`)
/// into one covering every method and path of the same API stage
/// (`arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/*`), useful when
/// the authorizer's result is cached across routes. Input that does not look
/// like a method ARN is returned unchanged.
pub fn method_arn_wildcard(method_arn: &str) -> String {
    let Some(colon) = method_arn.rfind(':') else {
        return method_arn.to_owned();
    };
    let (prefix, resource) = method_arn.split_at(colon + 1);
    let mut parts = resource.splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(api), Some(stage)) if !api.is_empty() && !stage.is_empty() => {
            format!("{prefix}{api}/{stage}/*")
        }
        _ => method_arn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/pets/1";

    #[test]
    fn allow_blueprint() {
        let r = AuthorizerResponse::allow("user|a1b2c3d4", ARN)
            .with_context("stringKey", "value")
            .with_context("numberKey", 123)
            .with_context("booleanKey", true);
        assert_eq!(
            r.to_value(),
            json!({
                "principalId": "user|a1b2c3d4",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": [ARN]
                    }]
                },
                "context": {"stringKey": "value", "numberKey": 123, "booleanKey": true}
            })
        );
        // key order is stable and usageIdentifierKey is absent
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.starts_with(r#"{"principalId":"user|a1b2c3d4","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["#));
        assert!(!text.contains("usageIdentifierKey"));
    }

    #[test]
    fn deny_and_empty_context() {
        let r = AuthorizerResponse::deny("me", ARN);
        assert_eq!(
            r.to_value(),
            json!({
                "principalId": "me",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [ARN]}
                ]},
                "context": {}
            })
        );
    }

    #[test]
    fn several_resources_and_effects() {
        let r = AuthorizerResponse::allow("p", "a")
            .allow_resource("b")
            .allow_resource("a")
            .deny_resource("c")
            .with_usage_identifier_key("key-1")
            .with_context("ratio", 0.5)
            .with_context("n", u64::MAX)
            .with_context("name", String::from("x"))
            .with_context("name", "y");
        assert_eq!(r.resources(Effect::Allow), ["a", "b"]);
        assert_eq!(r.resources(Effect::Deny), ["c"]);
        let v = r.to_value();
        assert_eq!(
            v["policyDocument"]["Statement"],
            json!([
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["a", "b"]},
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["c"]}
            ])
        );
        assert_eq!(v["usageIdentifierKey"], "key-1");
        assert_eq!(v["context"], json!({"ratio": 0.5, "n": u64::MAX, "name": "y"}));
        assert_eq!(ContextValue::from(f64::NAN), ContextValue::Number(0.into()));
    }

    #[test]
    fn no_statements() {
        let v = AuthorizerResponse::new("p").to_value();
        assert_eq!(v["policyDocument"]["Statement"], json!([]));
    }

    #[test]
    fn converts_to_event_type() {
        let r = AuthorizerResponse::allow("p", ARN).with_context("k", 1);
        let ev: ApiGatewayCustomAuthorizerResponse = r.clone().into();
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["principalId"], "p");
        // aws_lambda_events writes Action as a list; otherwise the same policy
        let st = &v["policyDocument"]["Statement"][0];
        assert_eq!(v["policyDocument"]["Version"], "2012-10-17");
        assert_eq!(st["Action"], json!(["execute-api:Invoke"]));
        assert_eq!(st["Effect"], "Allow");
        assert_eq!(st["Resource"], json!([ARN]));
        assert_eq!(v["context"], json!({"k": 1}));
    }

    #[test]
    fn wildcard() {
        assert_eq!(
            method_arn_wildcard(ARN),
            "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*"
        );
        assert_eq!(
            method_arn_wildcard("arn:aws:execute-api:r:1:api/prod/GET/"),
            "arn:aws:execute-api:r:1:api/prod/*"
        );
        assert_eq!(method_arn_wildcard("garbage"), "garbage");
        assert_eq!(method_arn_wildcard("a:b:api"), "a:b:api");
    }
}
