//! Authorizer management: CreateAuthorizer, GetAuthorizer(s),
//! UpdateAuthorizer, DeleteAuthorizer, with AWS's checks on types, URIs,
//! identity sources and caching; and the rules methods and deployments
//! apply to the authorizers they name. (TestInvokeAuthorizer lives with the
//! authorizer runtime.)

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiGwError, ApiGwResult, ErrorCode};
use super::handlers::{created, page, parse};
use super::model::{Authorizer, AuthorizerType, RestApi, new_id};
use super::patch::{PatchBody, PatchOperation, strs};
use super::service::ApiGwService;
use super::wire;
use crate::frontdoor::compile::lambda_function_of;
use crate::function::name::FunctionRef;

type Svc = State<Arc<ApiGwService>>;

/// Authorizers per REST API (AWS quota).
pub const MAX_AUTHORIZERS: usize = 10;
/// Largest `authorizerResultTtlInSeconds`.
const MAX_TTL: i64 = 3600;
/// What AWS applies when `authorizerResultTtlInSeconds` is not set.
pub const DEFAULT_TTL: u32 = 300;

const TYPES: &[&str] = &["TOKEN", "REQUEST", "COGNITO_USER_POOLS", "JWT"];

pub fn authorizer_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Authorizer identifier specified")
}

/// Can a method with `authorization_type` use an authorizer of type `t`?
/// CUSTOM ↔ TOKEN / REQUEST, COGNITO_USER_POOLS ↔ COGNITO_USER_POOLS.
pub fn fits(authorization_type: &str, t: AuthorizerType) -> bool {
    match authorization_type {
        "CUSTOM" => matches!(t, AuthorizerType::Token | AuthorizerType::Request),
        "COGNITO_USER_POOLS" => t == AuthorizerType::CognitoUserPools,
        _ => false,
    }
}

/// CreateAuthorizer's body; also the shape of an OpenAPI
/// `x-amazon-apigateway-authorizer` object (whose `type` is lower case).
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerInput {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub authorizer_type: Option<String>,
    #[serde(rename = "providerARNs")]
    pub provider_arns: Option<Vec<String>>,
    pub auth_type: Option<String>,
    pub authorizer_uri: Option<String>,
    pub authorizer_credentials: Option<String>,
    pub identity_source: Option<String>,
    pub identity_validation_expression: Option<String>,
    /// A number (or, from YAML, a numeric string).
    pub authorizer_result_ttl_in_seconds: Option<Value>,
}

fn parse_type(s: &str) -> ApiGwResult<AuthorizerType> {
    if s == "JWT" {
        return Err(ApiGwError::bad_request(
            "JWT authorizers are not supported by Portico",
        ));
    }
    AuthorizerType::parse(s).ok_or_else(|| ApiGwError::enum_value(s, "createAuthorizerInput.type", TYPES))
}

fn parse_ttl(v: &Value) -> ApiGwResult<Option<u32>> {
    let n = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    check_ttl(n)
}

fn check_ttl(n: Option<i64>) -> ApiGwResult<Option<u32>> {
    match n {
        Some(n) if (0..=MAX_TTL).contains(&n) => Ok(Some(n as u32)),
        _ => Err(ApiGwError::bad_request(format!(
            "Invalid authorizer result TTL specified: authorizerResultTtlInSeconds must be between 0 and {MAX_TTL}"
        ))),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Builds an authorizer from create (or import) input, with every check.
pub fn build(input: AuthorizerInput, id: String) -> ApiGwResult<Authorizer> {
    let name =
        non_empty(input.name).ok_or_else(|| ApiGwError::bad_request("Invalid authorizer name specified"))?;
    let type_ = input
        .authorizer_type
        .ok_or_else(|| ApiGwError::bad_request("Invalid authorizer type specified"))?;
    let a = Authorizer {
        id,
        name,
        authorizer_type: parse_type(&type_)?,
        provider_arns: input.provider_arns.unwrap_or_default(),
        auth_type: non_empty(input.auth_type),
        authorizer_uri: non_empty(input.authorizer_uri),
        authorizer_credentials: non_empty(input.authorizer_credentials),
        identity_source: non_empty(input.identity_source),
        identity_validation_expression: non_empty(input.identity_validation_expression),
        authorizer_result_ttl_in_seconds: match &input.authorizer_result_ttl_in_seconds {
            None => None,
            Some(v) => parse_ttl(v)?,
        },
    };
    check(&a)?;
    Ok(a)
}

fn token_source_error(s: &str) -> ApiGwError {
    ApiGwError::bad_request(format!(
        "Invalid token source expression: {s}. The source must be a method request header, matching 'method.request.header.[a-zA-Z0-9._-]+'."
    ))
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// One identity source of a REQUEST authorizer.
fn check_request_source(s: &str) -> ApiGwResult<()> {
    let ok = [
        "method.request.header.",
        "method.request.querystring.",
        "stageVariables.",
        "context.",
    ]
    .iter()
    .any(|p| s.strip_prefix(p).is_some_and(is_name));
    if ok {
        Ok(())
    } else {
        Err(ApiGwError::bad_request(format!(
            "Invalid identity source expression: {s}. Identity sources must be method.request.header.X, method.request.querystring.X, stageVariables.X or context.X."
        )))
    }
}

/// AWS's rules for an authorizer as a whole (after create or update).
pub fn check(a: &Authorizer) -> ApiGwResult<()> {
    let lambda = matches!(a.authorizer_type, AuthorizerType::Token | AuthorizerType::Request);
    if lambda {
        let uri = a.authorizer_uri.as_deref().ok_or_else(|| {
            ApiGwError::bad_request(format!(
                "Authorizer URI is required for authorizers of type {}",
                a.authorizer_type.as_str()
            ))
        })?;
        if lambda_function_of(uri).is_none() {
            return Err(ApiGwError::bad_request(format!(
                "Invalid Authorizer URI: {uri}. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation."
            )));
        }
    } else if a.provider_arns.is_empty() {
        return Err(ApiGwError::bad_request(
            "Provider ARNs are required for authorizers of type COGNITO_USER_POOLS",
        ));
    }
    match a.authorizer_type {
        AuthorizerType::Token | AuthorizerType::CognitoUserPools => {
            let source = a.identity_source.as_deref().unwrap_or_default();
            if !source.strip_prefix("method.request.header.").is_some_and(is_name) {
                return Err(token_source_error(source));
            }
        }
        AuthorizerType::Request => {
            let sources: Vec<&str> = a
                .identity_source
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            for s in &sources {
                check_request_source(s)?;
            }
            let ttl = a.authorizer_result_ttl_in_seconds.unwrap_or(DEFAULT_TTL);
            if ttl > 0 && sources.is_empty() {
                return Err(ApiGwError::bad_request(
                    "Identity source must be set if authorizer caching is enabled (authorizerResultTtlInSeconds is greater than 0)",
                ));
            }
        }
    }
    if let Some(expr) = &a.identity_validation_expression
        && a.authorizer_type != AuthorizerType::Request
        && let Err(e) = regex::Regex::new(expr)
    {
        return Err(ApiGwError::bad_request(format!(
            "Invalid identity validation expression specified: {expr} ({e})"
        )));
    }
    Ok(())
}

/// Deploy-time check: can Portico enforce this authorizer? A deployment
/// that cannot must fail rather than let requests through unchecked.
pub fn check_deployable(a: &Authorizer) -> Result<(), String> {
    match a.authorizer_type {
        AuthorizerType::CognitoUserPools => {
            Err("Cognito user pool authorizers are not supported by Portico".to_string())
        }
        AuthorizerType::Token | AuthorizerType::Request => {
            let uri = a.authorizer_uri.as_deref().unwrap_or_default();
            let arn = lambda_function_of(uri).ok_or_else(|| {
                format!(
                    "Authorizer {} ({}) has URI {uri}, which is not a Lambda function invocation URI: expected arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{functionArn}}/invocations",
                    a.name, a.id
                )
            })?;
            if !arn.contains("${stageVariables.") && FunctionRef::parse(arn).is_err() {
                return Err(format!(
                    "Authorizer {} ({}) names an invalid function ARN: {arn}",
                    a.name, a.id
                ));
            }
            Ok(())
        }
    }
}

/// The first method (as `GET:/path`) that uses authorizer `id`.
fn referenced_by(api: &RestApi, id: &str) -> Option<String> {
    let mut uses: Vec<String> = api
        .resources
        .values()
        .flat_map(|r| {
            r.methods
                .values()
                .filter(|m| {
                    matches!(m.authorization_type.as_str(), "CUSTOM" | "COGNITO_USER_POOLS")
                        && m.authorizer_id.as_deref() == Some(id)
                })
                .map(|m| {
                    format!(
                        "{}:{}",
                        m.http_method,
                        RestApi::path_of(&api.resources, &r.id).unwrap_or_default()
                    )
                })
        })
        .collect();
    uses.sort();
    uses.into_iter().next()
}

fn limit_exceeded() -> ApiGwError {
    // Carried as TooManyRequests inside the edit and answered as AWS's
    // LimitExceededException (429) by `limit_response`.
    ApiGwError::new(
        ErrorCode::TooManyRequests,
        format!("The maximum number of authorizers ({MAX_AUTHORIZERS}) for this REST API has been reached"),
    )
}

fn limit_response(e: ApiGwError) -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(serde_json::json!({ "message": e.message })),
    )
        .into_response();
    resp.headers_mut().insert(
        "x-amzn-ErrorType",
        HeaderValue::from_static("LimitExceededException"),
    );
    resp
}

/// Adds an authorizer to an API, refusing past the quota.
pub fn add(api: &mut RestApi, a: Authorizer) -> ApiGwResult<()> {
    if api.authorizers.len() >= MAX_AUTHORIZERS {
        return Err(limit_exceeded());
    }
    api.authorizers.insert(a.id.clone(), a);
    Ok(())
}

/// Maps the quota error of [`add`] to its wire form.
pub fn with_limit<T: IntoResponse>(r: ApiGwResult<T>) -> Response {
    match r {
        Ok(v) => v.into_response(),
        Err(e) if e.code == ErrorCode::TooManyRequests => limit_response(e),
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------- Handlers

pub async fn create_authorizer(State(svc): Svc, Path(api): Path<String>, body: Bytes) -> Response {
    let result = async {
        let input: AuthorizerInput = parse(&body)?;
        let a = build(input, new_id(6))?;
        let out = svc
            .edit(&api, |api| {
                let v = wire::authorizer(&a);
                add(api, a)?;
                Ok(v)
            })
            .await
            .map_err(|e| {
                // What AWS answers (recorded) for an API that does not exist.
                e.when_unknown_api(|| {
                    ApiGwError::conflict(
                        "Unable to complete operation due to concurrent modification. Please try again later.",
                    )
                })
            })?;
        tracing::info!(api = %api, authorizer = %out["id"], "authorizer created");
        Ok(created(out))
    }
    .await;
    with_limit(result)
}

pub async fn get_authorizers(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let mut list: Vec<&Authorizer> = a.authorizers.values().collect();
    list.sort_by(|x, y| x.name.cmp(&y.name).then(x.id.cmp(&y.id)));
    Ok(Json(page(list.into_iter().map(wire::authorizer).collect(), &q)?))
}

pub async fn get_authorizer(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let az = a.authorizers.get(&id).ok_or_else(authorizer_not_found)?;
    Ok(Json(wire::authorizer(az)))
}

fn opt_value(op: &PatchOperation) -> Option<String> {
    non_empty(op.value.clone())
}

/// Applies one patch operation to an authorizer (checked as a whole after).
fn apply(a: &mut Authorizer, op: &PatchOperation) -> ApiGwResult<()> {
    let seg = op.segments();
    match (op.op.as_str(), strs(&seg).as_slice()) {
        ("replace", ["name"]) => {
            a.name =
                opt_value(op).ok_or_else(|| ApiGwError::bad_request("Invalid authorizer name specified"))?
        }
        ("replace", ["type"]) => a.authorizer_type = parse_type(op.value()?)?,
        ("replace", ["authorizerUri"]) => a.authorizer_uri = opt_value(op),
        ("replace", ["identitySource"]) => a.identity_source = opt_value(op),
        ("replace", ["identityValidationExpression"]) => a.identity_validation_expression = opt_value(op),
        ("replace", ["authType"]) => a.auth_type = opt_value(op),
        ("replace", ["authorizerCredentials"]) => a.authorizer_credentials = opt_value(op),
        ("replace", ["authorizerResultTtlInSeconds"]) => {
            a.authorizer_result_ttl_in_seconds = match opt_value(op) {
                None => None,
                Some(v) => check_ttl(v.trim().parse::<i64>().ok())?,
            }
        }
        ("add", ["providerARNs", rest @ ..]) => {
            let arn = if rest.is_empty() {
                op.value()?.to_string()
            } else {
                rest.join("/")
            };
            if !a.provider_arns.contains(&arn) {
                a.provider_arns.push(arn);
            }
        }
        ("remove", ["providerARNs", rest @ ..]) => {
            let arn = if rest.is_empty() {
                op.value()?.to_string()
            } else {
                rest.join("/")
            };
            a.provider_arns.retain(|x| *x != arn);
        }
        _ => return Err(op.unsupported()),
    }
    Ok(())
}

pub async fn update_authorizer(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateAuthorizerInput")?;
    let out = svc
        .edit(&api, |a| {
            let az = a.authorizers.get_mut(&id).ok_or_else(authorizer_not_found)?;
            for op in &patch.patch_operations {
                apply(az, op)?;
            }
            check(az)?;
            Ok(wire::authorizer(az))
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_authorizer(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        let az = a.authorizers.get(&id).ok_or_else(authorizer_not_found)?;
        if let Some(method) = referenced_by(a, &id) {
            return Err(ApiGwError::conflict(format!(
                "Cannot delete authorizer '{}', is referenced in method: {method}",
                az.name
            )));
        }
        a.authorizers.remove(&id);
        Ok(())
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations";

    fn input(v: Value) -> AuthorizerInput {
        serde_json::from_value(v).unwrap_or_default()
    }

    fn build_json(v: Value) -> ApiGwResult<Authorizer> {
        build(input(v), "abc123".into())
    }

    fn err(v: Value) -> String {
        match build_json(v) {
            Ok(a) => panic!("accepted: {a:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn token_authorizer_defaults() {
        let a = build_json(json!({"name": "t", "type": "TOKEN", "authorizerUri": URI,
            "identitySource": "method.request.header.Authorization"}))
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(a.authorizer_result_ttl_in_seconds, None);
        let w = wire::authorizer(&a);
        // AWS echoes no TTL it was not given (the default still applies).
        assert!(w.get("authorizerResultTtlInSeconds").is_none());
        assert_eq!(w["authType"], "custom");
        assert_eq!(w["type"], "TOKEN");
        assert!(w.get("providerARNs").is_none());
    }

    #[test]
    fn type_is_checked() {
        let e = build_json(json!({"name": "t", "type": "OAUTH"}))
            .err()
            .map(|e| e.code);
        assert_eq!(e, Some(ErrorCode::Validation));
        assert!(
            err(json!({"name": "t", "type": "OAUTH"})).contains("[TOKEN, REQUEST, COGNITO_USER_POOLS, JWT]")
        );
        assert!(err(json!({"name": "t", "type": "JWT"})).contains("not supported by Portico"));
        assert!(err(json!({"type": "TOKEN"})).contains("name"));
    }

    #[test]
    fn uri_rules() {
        assert!(
            err(json!({"name": "t", "type": "TOKEN", "identitySource": "method.request.header.A"}))
                .starts_with("Authorizer URI is required")
        );
        assert!(
            err(
                json!({"name": "t", "type": "REQUEST", "authorizerUri": "arn:aws:s3:::x",
                "authorizerResultTtlInSeconds": 0})
            )
            .starts_with("Invalid Authorizer URI: arn:aws:s3:::x.")
        );
    }

    #[test]
    fn token_identity_source_must_be_one_header() {
        for bad in [
            "method.request.querystring.key",
            "method.request.header.",
            "method.request.header.a,method.request.header.b",
            "Authorization",
        ] {
            let m = err(json!({"name": "t", "type": "TOKEN", "authorizerUri": URI, "identitySource": bad}));
            assert!(m.starts_with("Invalid token source expression"), "{bad}: {m}");
        }
        assert!(
            err(json!({"name": "t", "type": "TOKEN", "authorizerUri": URI}))
                .starts_with("Invalid token source")
        );
    }

    #[test]
    fn request_identity_sources() {
        let ok = build_json(json!({"name": "r", "type": "REQUEST", "authorizerUri": URI,
            "identitySource": "method.request.header.Auth, method.request.querystring.q,stageVariables.s,context.accountId"}));
        assert!(ok.is_ok());
        let m = err(json!({"name": "r", "type": "REQUEST", "authorizerUri": URI,
            "identitySource": "method.request.header.Auth,method.request.path.id"}));
        assert!(m.contains("method.request.path.id"), "{m}");
        // Caching on (default TTL 300) needs a source; caching off does not.
        let m = err(json!({"name": "r", "type": "REQUEST", "authorizerUri": URI}));
        assert!(m.contains("caching"), "{m}");
        assert!(
            build_json(json!({"name": "r", "type": "REQUEST", "authorizerUri": URI, "authorizerResultTtlInSeconds": 0}))
                .is_ok()
        );
    }

    #[test]
    fn ttl_and_validation_expression() {
        let base = |extra: Value| {
            let mut v = json!({"name": "t", "type": "TOKEN", "authorizerUri": URI,
                "identitySource": "method.request.header.A"});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            v
        };
        assert!(err(base(json!({"authorizerResultTtlInSeconds": 3601}))).contains("between 0 and 3600"));
        assert!(err(base(json!({"authorizerResultTtlInSeconds": -1}))).contains("between 0 and 3600"));
        let a = build_json(base(json!({"authorizerResultTtlInSeconds": "60"}))).ok();
        assert_eq!(a.and_then(|a| a.authorizer_result_ttl_in_seconds), Some(60));
        assert!(
            err(base(json!({"identityValidationExpression": "Bearer ("}))).contains("validation expression")
        );
        assert!(
            build_json(base(
                json!({"identityValidationExpression": "^Bearer [-0-9a-zA-Z._]*$"})
            ))
            .is_ok()
        );
    }

    #[test]
    fn cognito_needs_provider_arns() {
        let m = err(json!({"name": "c", "type": "COGNITO_USER_POOLS",
            "identitySource": "method.request.header.Authorization"}));
        assert!(m.contains("Provider ARNs"), "{m}");
        let a = build_json(
            json!({"name": "c", "type": "COGNITO_USER_POOLS", "providerARNs": ["arn:pool"],
            "identitySource": "method.request.header.Authorization"}),
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        let w = wire::authorizer(&a);
        assert_eq!(w["authType"], "cognito_user_pools");
        assert_eq!(w["providerARNs"], json!(["arn:pool"]));
        assert!(w.get("authorizerResultTtlInSeconds").is_none());
        assert_eq!(
            check_deployable(&a),
            Err("Cognito user pool authorizers are not supported by Portico".to_string())
        );
    }

    #[test]
    fn patch_then_check() {
        let mut a = build_json(json!({"name": "t", "type": "TOKEN", "authorizerUri": URI,
            "identitySource": "method.request.header.A"}))
        .unwrap_or_else(|e| panic!("{}", e.message));
        let op = |op: &str, path: &str, value: Option<&str>| PatchOperation {
            op: op.into(),
            path: path.into(),
            value: value.map(str::to_string),
            from: None,
        };
        apply(&mut a, &op("replace", "/name", Some("renamed"))).ok();
        apply(&mut a, &op("replace", "/authorizerResultTtlInSeconds", Some("0"))).ok();
        apply(&mut a, &op("replace", "/type", Some("REQUEST"))).ok();
        apply(&mut a, &op("replace", "/identitySource", Some(""))).ok();
        assert!(check(&a).is_ok(), "REQUEST without sources and caching off");
        assert_eq!(
            (a.name.as_str(), a.authorizer_type),
            ("renamed", AuthorizerType::Request)
        );
        apply(
            &mut a,
            &op("replace", "/authorizerResultTtlInSeconds", Some("10")),
        )
        .ok();
        assert!(check(&a).is_err());
        assert!(apply(&mut a, &op("replace", "/authorizerResultTtlInSeconds", Some("x"))).is_err());
        assert!(apply(&mut a, &op("replace", "/type", Some("BAD"))).is_err());
        assert!(apply(&mut a, &op("replace", "/nope", Some("x"))).is_err());
        apply(&mut a, &op("add", "/providerARNs", Some("arn:a"))).ok();
        apply(&mut a, &op("add", "/providerARNs/arn:b~1c", None)).ok();
        assert_eq!(a.provider_arns, vec!["arn:a".to_string(), "arn:b/c".to_string()]);
        apply(&mut a, &op("remove", "/providerARNs", Some("arn:a"))).ok();
        assert_eq!(a.provider_arns, vec!["arn:b/c".to_string()]);
    }

    #[test]
    fn deployable_lambda_uris() {
        let mut a = build_json(json!({"name": "t", "type": "TOKEN", "authorizerUri": URI,
            "identitySource": "method.request.header.A"}))
        .unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(check_deployable(&a), Ok(()));
        a.authorizer_uri = Some(URI.replace("function:auth", "function:${stageVariables.fn}"));
        assert_eq!(check_deployable(&a), Ok(()));
        a.authorizer_uri = Some("arn:aws:apigateway:us-east-1:s3:path/x".into());
        assert!(check_deployable(&a).is_err_and(|e| e.contains("not a Lambda function invocation URI")));
    }

    #[test]
    fn fits_matches_kinds() {
        assert!(fits("CUSTOM", AuthorizerType::Token));
        assert!(fits("CUSTOM", AuthorizerType::Request));
        assert!(!fits("CUSTOM", AuthorizerType::CognitoUserPools));
        assert!(fits("COGNITO_USER_POOLS", AuthorizerType::CognitoUserPools));
        assert!(!fits("COGNITO_USER_POOLS", AuthorizerType::Token));
        assert!(!fits("NONE", AuthorizerType::Token));
    }
}
