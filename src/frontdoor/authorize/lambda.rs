//! Lambda authorizers (TOKEN and REQUEST) on the data plane: the identity
//! read from the request, the event sent to the authorizer function, the
//! checks on what it returns, and the result cache.
//!
//! A cached result is a policy, not a verdict: it is evaluated against the
//! methodArn of every request that hits it, so a policy written for one path
//! never opens another (data-plane.md §4.3).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::{Map, Value};

use crate::apigw::model::{Authorizer, AuthorizerType};
use crate::frontdoor::compile::{lambda_function_of, substitute};
use crate::function::name::FunctionRef;
use crate::iam::policy::PolicyDocument;

/// AWS's default `authorizerResultTtlInSeconds`.
const DEFAULT_TTL_SECS: u32 = 300;

/// Where one REQUEST identity value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum IdentitySource {
    /// `method.request.header.X` (stored lower case: header names are case-insensitive).
    Header(String),
    /// `method.request.querystring.X`
    Query(String),
    /// `stageVariables.X`
    StageVariable(String),
    /// `context.X`
    Context(String),
}

impl IdentitySource {
    pub fn parse(s: &str) -> Option<IdentitySource> {
        let s = s.trim();
        if let Some(h) = s.strip_prefix("method.request.header.") {
            return (!h.is_empty()).then(|| IdentitySource::Header(h.to_ascii_lowercase()));
        }
        if let Some(q) = s.strip_prefix("method.request.querystring.") {
            return (!q.is_empty()).then(|| IdentitySource::Query(q.to_string()));
        }
        if let Some(v) = s.strip_prefix("stageVariables.") {
            return (!v.is_empty()).then(|| IdentitySource::StageVariable(v.to_string()));
        }
        if let Some(c) = s.strip_prefix("context.") {
            return (!c.is_empty()).then(|| IdentitySource::Context(c.to_string()));
        }
        None
    }
}

/// How an authorizer reads the caller's identity.
#[derive(Debug)]
pub enum IdentitySpec {
    /// One header; the regex (if any) must match the whole value.
    Token {
        header: String,
        validation: Option<Regex>,
    },
    Request {
        sources: Vec<IdentitySource>,
    },
}

/// One authorizer as a stage runs it (stage variables in its URI resolved).
#[derive(Debug)]
pub struct StageAuthorizer {
    pub id: String,
    pub name: String,
    pub identity: IdentitySpec,
    /// The function and qualifier, or why the URI cannot be used (a 500 at call time).
    pub function: Result<(String, Option<String>), String>,
    /// Zero turns the cache off.
    pub ttl: Duration,
}

impl StageAuthorizer {
    pub fn compile(a: &Authorizer, stage_variables: &BTreeMap<String, String>) -> StageAuthorizer {
        let identity = match a.authorizer_type {
            AuthorizerType::Token => {
                let header = a
                    .identity_source
                    .as_deref()
                    .and_then(IdentitySource::parse)
                    .and_then(|s| match s {
                        IdentitySource::Header(h) => Some(h),
                        _ => None,
                    })
                    .unwrap_or_else(|| "authorization".to_string());
                let validation = a
                    .identity_validation_expression
                    .as_deref()
                    .filter(|e| !e.is_empty())
                    // Anchored: the expression must match the whole token.
                    .and_then(|e| Regex::new(&format!("^(?:{e})$")).ok());
                IdentitySpec::Token { header, validation }
            }
            _ => IdentitySpec::Request {
                sources: a
                    .identity_source
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .filter_map(IdentitySource::parse)
                    .collect(),
            },
        };
        let function = match a.authorizer_type {
            AuthorizerType::CognitoUserPools => {
                Err("Cognito user pool authorizers are not supported".to_string())
            }
            _ => {
                let uri = a.authorizer_uri.as_deref().unwrap_or_default();
                match substitute(uri, stage_variables) {
                    None => Err(format!("stage variable in authorizer URI {uri} is not set")),
                    Some(uri) => match lambda_function_of(&uri).map(FunctionRef::parse) {
                        Some(Ok(f)) => Ok((f.name, f.qualifier)),
                        _ => Err(format!("invalid authorizer URI {uri}")),
                    },
                }
            }
        };
        StageAuthorizer {
            id: a.id.clone(),
            name: a.name.clone(),
            identity,
            function,
            ttl: Duration::from_secs(u64::from(
                a.authorizer_result_ttl_in_seconds.unwrap_or(DEFAULT_TTL_SECS),
            )),
        }
    }
}

/// What a request offers as identity values.
pub struct IdentityInputs<'a> {
    pub headers: &'a axum::http::HeaderMap,
    pub raw_query: Option<&'a str>,
    pub stage_variables: &'a BTreeMap<String, String>,
    /// `context.X` lookups (requestId, stage, httpMethod, ...).
    pub context: &'a dyn Fn(&str) -> Option<String>,
}

/// The identity read from a request: the token (TOKEN) and the cache key.
#[derive(Debug, PartialEq)]
pub struct Identity {
    pub token: Option<String>,
    pub cache_key: String,
}

/// Why no identity could be read: 401 Unauthorized without invoking.
#[derive(Debug, PartialEq)]
pub struct MissingIdentity;

/// A header used as identity must be sent exactly once: with two values the
/// authorizer and the integration could each read a different one.
fn header_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    let v = values.next()?;
    if values.next().is_some() {
        return None;
    }
    Some(String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// A query parameter's decoded value (last one wins).
pub fn query_value(raw_query: Option<&str>, name: &str) -> Option<String> {
    let mut found = None;
    for pair in raw_query?.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        if k == name {
            found = Some(
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
    }
    found
}

pub fn read_identity(spec: &IdentitySpec, inputs: &IdentityInputs<'_>) -> Result<Identity, MissingIdentity> {
    match spec {
        IdentitySpec::Token { header, validation } => {
            let token = header_value(inputs.headers, header)
                .filter(|t| !t.is_empty())
                .ok_or(MissingIdentity)?;
            if let Some(re) = validation
                && !re.is_match(&token)
            {
                return Err(MissingIdentity);
            }
            Ok(Identity {
                cache_key: token.clone(),
                token: Some(token),
            })
        }
        IdentitySpec::Request { sources } => {
            let mut key = String::new();
            for source in sources {
                let value = match source {
                    IdentitySource::Header(h) => header_value(inputs.headers, h),
                    IdentitySource::Query(q) => query_value(inputs.raw_query, q),
                    IdentitySource::StageVariable(v) => inputs.stage_variables.get(v).cloned(),
                    IdentitySource::Context(c) => (inputs.context)(c),
                };
                let value = value.filter(|v| !v.is_empty()).ok_or(MissingIdentity)?;
                // Length-prefixed so that ("a,b", "c") and ("a", "b,c") differ.
                key.push_str(&value.len().to_string());
                key.push(':');
                key.push_str(&value);
            }
            Ok(Identity {
                token: None,
                cache_key: key,
            })
        }
    }
}

/// What an authorizer function returned, checked.
#[derive(Debug)]
pub struct AuthorizerResult {
    pub principal_id: String,
    pub policy: PolicyDocument,
    /// The policy document as returned (for TestInvokeAuthorizer).
    pub policy_text: String,
    /// Context values, stringified as API Gateway delivers them.
    pub context: BTreeMap<String, String>,
    pub usage_identifier_key: Option<String>,
    /// `requestContext.authorizer` as a cache hit delivers it
    /// (`integrationLatency` 0), built once per result.
    pub cached_event: Value,
    /// `$context.authorizer.*`: the context plus `principalId`.
    pub template_context: BTreeMap<String, String>,
}

/// A function result that is not a valid authorizer response (500).
#[derive(Debug, PartialEq)]
pub struct MalformedResult(pub String);

pub fn parse_result(bytes: &[u8]) -> Result<AuthorizerResult, MalformedResult> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| MalformedResult(format!("not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| MalformedResult("the result is not a JSON object".into()))?;
    let principal_id = match obj.get("principalId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(MalformedResult("principalId is missing or not a string".into())),
    };
    let policy_value = obj
        .get("policyDocument")
        .filter(|p| p.is_object())
        .ok_or_else(|| MalformedResult("policyDocument is missing or not an object".into()))?;
    let policy = PolicyDocument::from_value(policy_value)
        .map_err(|e| MalformedResult(format!("invalid policyDocument: {e}")))?;
    let mut context = BTreeMap::new();
    match obj.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => continue,
                    _ => {
                        return Err(MalformedResult(format!(
                            "context value {k} is an object or array; only strings, numbers and booleans are allowed"
                        )));
                    }
                };
                context.insert(k.clone(), s);
            }
        }
        Some(_) => return Err(MalformedResult("context is not an object".into())),
    }
    let usage_identifier_key = match obj.get("usageIdentifierKey") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let mut template_context = context.clone();
    template_context.insert("principalId".into(), principal_id.clone());
    let mut result = AuthorizerResult {
        principal_id,
        policy_text: policy_value.to_string(),
        policy,
        context,
        usage_identifier_key,
        cached_event: Value::Null,
        template_context,
    };
    result.cached_event = result.event_value(0);
    Ok(result)
}

impl AuthorizerResult {
    /// `requestContext.authorizer` for the proxy event.
    pub fn event_value(&self, integration_latency_ms: u64) -> Value {
        let mut m = Map::new();
        for (k, v) in &self.context {
            m.insert(k.clone(), Value::String(v.clone()));
        }
        m.insert("principalId".into(), Value::String(self.principal_id.clone()));
        m.insert("integrationLatency".into(), Value::from(integration_latency_ms));
        Value::Object(m)
    }
}

/// The TOKEN event.
pub fn token_event(token: &str, method_arn: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "TOKEN",
        "methodArn": method_arn,
        "authorizationToken": token,
    }))
    .unwrap_or_default()
}

/// The REQUEST event: the proxy event's request fields without the body,
/// plus `type` and `methodArn`.
pub fn request_event(proxy_event: &[u8], method_arn: &str) -> Vec<u8> {
    let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(proxy_event) else {
        return Vec::new();
    };
    m.remove("body");
    m.remove("isBase64Encoded");
    let mut out = Map::new();
    out.insert("type".into(), Value::from("REQUEST"));
    out.insert("methodArn".into(), Value::from(method_arn));
    out.extend(m);
    serde_json::to_vec(&Value::Object(out)).unwrap_or_default()
}

struct Cached {
    result: Arc<AuthorizerResult>,
    expires: Instant,
}

/// Authorizer results by (api, stage, authorizer, identity), each kept for
/// its authorizer's TTL (bounded in count; least recently used go first).
pub struct ResultCache {
    entries: moka::sync::Cache<String, Arc<Cached>>,
}

impl Default for ResultCache {
    fn default() -> Self {
        ResultCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }
}

impl ResultCache {
    pub fn key(api_id: &str, stage: &str, authorizer_id: &str, identity: &str) -> String {
        let mut k =
            String::with_capacity(api_id.len() + stage.len() + authorizer_id.len() + identity.len() + 3);
        for part in [api_id, stage, authorizer_id] {
            k.push_str(part);
            k.push('\u{0}');
        }
        k.push_str(identity);
        k
    }

    pub fn get(&self, key: &str) -> Option<Arc<AuthorizerResult>> {
        let hit = self.entries.get(key)?;
        if Instant::now() < hit.expires {
            Some(hit.result.clone())
        } else {
            self.entries.invalidate(key);
            None
        }
    }

    pub fn insert(&self, key: String, result: Arc<AuthorizerResult>, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        self.entries.insert(
            key,
            Arc::new(Cached {
                result,
                expires: Instant::now() + ttl,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn inputs<'a>(
        headers: &'a HeaderMap,
        q: Option<&'a str>,
        vars: &'a BTreeMap<String, String>,
        ctx: &'a dyn Fn(&str) -> Option<String>,
    ) -> IdentityInputs<'a> {
        IdentityInputs {
            headers,
            raw_query: q,
            stage_variables: vars,
            context: ctx,
        }
    }

    #[test]
    fn token_identity_and_validation() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer abc".parse().unwrap());
        let vars = BTreeMap::new();
        let ctx = |_: &str| None;
        let spec = IdentitySpec::Token {
            header: "authorization".into(),
            validation: Some(Regex::new("^(?:Bearer [a-z]+)$").unwrap()),
        };
        let id = read_identity(&spec, &inputs(&h, None, &vars, &ctx)).unwrap();
        assert_eq!(id.token.as_deref(), Some("Bearer abc"));
        h.insert("authorization", "Bearer ABC".parse().unwrap());
        assert_eq!(
            read_identity(&spec, &inputs(&h, None, &vars, &ctx)),
            Err(MissingIdentity)
        );
        h.insert("authorization", "".parse().unwrap());
        assert_eq!(
            read_identity(&spec, &inputs(&h, None, &vars, &ctx)),
            Err(MissingIdentity)
        );
        let empty = HeaderMap::new();
        assert_eq!(
            read_identity(&spec, &inputs(&empty, None, &vars, &ctx)),
            Err(MissingIdentity)
        );
        let mut twice = HeaderMap::new();
        twice.append("authorization", "Bearer abc".parse().unwrap());
        twice.append("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(
            read_identity(&spec, &inputs(&twice, None, &vars, &ctx)),
            Err(MissingIdentity)
        );
    }

    #[test]
    fn request_identity_needs_every_source() {
        let mut h = HeaderMap::new();
        h.insert("headerauth1", "v1".parse().unwrap());
        let mut vars = BTreeMap::new();
        vars.insert("sv".to_string(), "s".to_string());
        let ctx = |k: &str| (k == "stage").then(|| "prod".to_string());
        let spec = IdentitySpec::Request {
            sources: "method.request.header.HeaderAuth1, method.request.querystring.q,stageVariables.sv,context.stage"
                .split(',')
                .filter_map(IdentitySource::parse)
                .collect(),
        };
        let a = read_identity(&spec, &inputs(&h, Some("q=1&q=a%20b"), &vars, &ctx)).unwrap();
        assert_eq!(a.cache_key, "2:v13:a b1:s4:prod");
        assert_eq!(
            read_identity(&spec, &inputs(&h, Some("x=1"), &vars, &ctx)),
            Err(MissingIdentity)
        );
        assert_eq!(
            read_identity(&spec, &inputs(&h, Some("q="), &vars, &ctx)),
            Err(MissingIdentity)
        );
    }

    #[test]
    fn results_are_checked() {
        let ok = br#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"s":"x","n":1,"b":true},"usageIdentifierKey":"k"}"#;
        let r = parse_result(ok).unwrap();
        assert_eq!(r.principal_id, "u");
        assert_eq!(r.context.get("n").map(String::as_str), Some("1"));
        assert_eq!(r.context.get("b").map(String::as_str), Some("true"));
        assert_eq!(r.usage_identifier_key.as_deref(), Some("k"));
        let v = r.event_value(7);
        assert_eq!(v["principalId"], "u");
        assert_eq!(v["n"], "1");
        assert_eq!(v["integrationLatency"], 7);

        for bad in [
            &b"null"[..],
            b"not json",
            b"[]",
            br#"{"policyDocument":{"Statement":[]}}"#,
            br#"{"principalId":"u"}"#,
            br#"{"principalId":"u","policyDocument":"x"}"#,
            br#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[]},"context":{"o":{"a":1}}}"#,
            br#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[]},"context":{"a":[1]}}"#,
        ] {
            assert!(parse_result(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn request_event_drops_the_body() {
        let e = request_event(
            br#"{"resource":"/x","body":"secret","isBase64Encoded":false,"headers":null}"#,
            "arn",
        );
        let v: Value = serde_json::from_slice(&e).unwrap();
        assert_eq!(v["type"], "REQUEST");
        assert_eq!(v["methodArn"], "arn");
        assert_eq!(v["resource"], "/x");
        assert!(v.get("body").is_none());
        assert!(v.get("isBase64Encoded").is_none());
    }

    #[test]
    fn cache_respects_ttl_and_zero() {
        let c = ResultCache::default();
        let r = Arc::new(
            parse_result(br#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[]}}"#)
                .unwrap(),
        );
        let k = ResultCache::key("a", "s", "z", "tok");
        c.insert(k.clone(), r.clone(), Duration::ZERO);
        assert!(c.get(&k).is_none());
        c.insert(k.clone(), r.clone(), Duration::from_millis(30));
        assert!(c.get(&k).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.get(&k).is_none());
    }
}
