//! Request validation: the step after access control and the stage throttle
//! and before the integration, driven by the method's request validator and
//! the deployment's models, as API Gateway runs it:
//!
//! 1. `validateRequestParameters`: every `method.request.{header|path|querystring}.X`
//!    declared `true` must be present and not blank, else 400
//!    `Missing required request parameters: [a, b]` (BAD_REQUEST_PARAMETERS),
//!    the names listed in the order of their declarations' keys — headers,
//!    then path, then query string parameters, each by name;
//! 2. `validateRequestBody`: the body is checked against the model declared
//!    for the request's Content-Type (none given: `application/json`), else
//!    the `$default` one; a method with no request models at all checks
//!    JSON bodies against `Empty`; a content type with no model is not
//!    checked. An empty body counts as `{}`; a body that is not JSON or does
//!    not match is 400 `Invalid request body` (BAD_REQUEST_BODY).
//!
//! Everything is compiled when the deployment is: schemas become
//! [`jsonschema`] draft-4 validators whose `$ref`s to other models
//! (`https://apigateway.amazonaws.com/restapis/{api}/models/{Name}`) are
//! served from the deployment's own models, never fetched. A model that
//! cannot be compiled rejects every body it is asked to check (logged once
//! at deploy time) rather than letting unchecked bodies through.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::http::HeaderMap;
use serde_json::Value;

use super::respond::GatewayResponseType;
use crate::apigw::model::{Method, Model, RequestValidator, model_url, parse_model_url};
use crate::apigw::models::EMPTY_MODEL;

/// What one method's validator makes the front door check.
#[derive(Debug)]
pub struct RequestValidation {
    /// Required parameters in the order AWS reports them; empty when the
    /// validator does not check parameters.
    required: Vec<Required>,
    /// None when the validator does not check bodies.
    body: Option<BodyCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Header,
    Path,
    QueryString,
}

#[derive(Debug)]
struct Required {
    location: Location,
    name: String,
}

#[derive(Debug)]
struct BodyCheck {
    /// Media type (lower case) → schema.
    by_type: Vec<(String, Arc<BodySchema>)>,
    /// The `$default` model's schema.
    default: Option<Arc<BodySchema>>,
    /// The method declares no request models: JSON bodies meet `Empty`.
    empty: Option<Arc<BodySchema>>,
}

/// One model, compiled.
enum BodySchema {
    Usable(jsonschema::Validator),
    /// The model is missing or its schema cannot be compiled.
    Unusable {
        model: String,
        why: String,
    },
}

impl std::fmt::Debug for BodySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodySchema::Usable(_) => f.write_str("Usable"),
            BodySchema::Unusable { model, why } => write!(f, "Unusable({model}: {why})"),
        }
    }
}

/// Why a request was refused, ready for the gateway responses.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// BAD_REQUEST_PARAMETERS; the message names the missing parameters.
    Parameters { message: String },
    /// BAD_REQUEST_BODY; `detail` is `$context.error.validationErrorString`.
    Body { detail: String },
}

impl Rejection {
    pub fn response_type(&self) -> GatewayResponseType {
        match self {
            Rejection::Parameters { .. } => GatewayResponseType::BadRequestParameters,
            Rejection::Body { .. } => GatewayResponseType::BadRequestBody,
        }
    }

    /// `$context.error.message`.
    pub fn message(&self) -> &str {
        match self {
            Rejection::Parameters { message } => message,
            Rejection::Body { .. } => "Invalid request body",
        }
    }

    /// `$context.error.validationErrorString`.
    pub fn validation_error_string(&self) -> &str {
        match self {
            Rejection::Parameters { message } => message,
            Rejection::Body { detail } => detail,
        }
    }
}

/// What validation reads of a request.
pub struct Request<'a> {
    pub headers: &'a HeaderMap,
    /// The raw query string, without `?`.
    pub raw_query: Option<&'a str>,
    pub path_params: &'a [(&'a str, String)],
    pub body: &'a [u8],
}

/// A deployment's models, compiled on demand and shared by every method
/// that uses them.
pub struct ModelSchemas {
    api_id: String,
    sources: Arc<HashMap<String, Value>>,
    problems: HashMap<String, String>,
    compiled: HashMap<String, Arc<BodySchema>>,
}

/// Serves `$ref`s to the deployment's models; refuses everything else (no
/// network, no files).
struct ModelRetriever {
    api_id: String,
    sources: Arc<HashMap<String, Value>>,
}

impl jsonschema::Retrieve for ModelRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let url = uri.as_str();
        match parse_model_url(url) {
            Some((api, name)) if api == self.api_id => self
                .sources
                .get(name)
                .cloned()
                .ok_or_else(|| format!("model {name} is not part of this deployment").into()),
            _ => Err(format!("{url} is not a model of this API").into()),
        }
    }
}

/// The schema of the built-in `Empty` model, for deployments that deleted it.
const EMPTY_SCHEMA: &str = r#"{"type":"object"}"#;

impl ModelSchemas {
    pub fn new(api_id: &str, models: &BTreeMap<String, Model>) -> ModelSchemas {
        let mut sources = HashMap::new();
        let mut problems = HashMap::new();
        for m in models.values() {
            match m.schema.as_deref().map(serde_json::from_str::<Value>) {
                Some(Ok(v)) => {
                    sources.insert(m.name.clone(), v);
                }
                Some(Err(e)) => {
                    problems.insert(m.name.clone(), format!("schema is not JSON: {e}"));
                }
                None => {
                    problems.insert(m.name.clone(), "model has no schema".to_string());
                }
            }
        }
        ModelSchemas {
            api_id: api_id.to_string(),
            sources: Arc::new(sources),
            problems,
            compiled: HashMap::new(),
        }
    }

    fn schema(&mut self, name: &str) -> Arc<BodySchema> {
        if let Some(s) = self.compiled.get(name) {
            return s.clone();
        }
        let built = self.build(name);
        if let BodySchema::Unusable { model, why } = &built {
            tracing::error!(api = %self.api_id, model = %model, error = %why, "model cannot be used to validate request bodies; every body checked against it is refused");
        }
        let built = Arc::new(built);
        self.compiled.insert(name.to_string(), built.clone());
        built
    }

    fn build(&self, name: &str) -> BodySchema {
        let unusable = |why: String| BodySchema::Unusable {
            model: name.to_string(),
            why,
        };
        let schema = match self.sources.get(name) {
            Some(s) => s.clone(),
            None if name == EMPTY_MODEL => serde_json::from_str(EMPTY_SCHEMA).unwrap_or_default(),
            None => {
                return unusable(
                    self.problems
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| "model is not part of this deployment".to_string()),
                );
            }
        };
        let retriever = ModelRetriever {
            api_id: self.api_id.clone(),
            sources: self.sources.clone(),
        };
        jsonschema::draft4::options()
            .with_base_uri(model_url(&self.api_id, name))
            .with_retriever(retriever)
            .build(&schema)
            .map(BodySchema::Usable)
            .unwrap_or_else(|e| unusable(e.to_string()))
    }
}

impl RequestValidation {
    /// What the method's validator (if it has one) checks; None when it
    /// checks nothing.
    pub fn compile(
        method: &Method,
        validators: &BTreeMap<String, RequestValidator>,
        models: &mut ModelSchemas,
    ) -> Option<RequestValidation> {
        let v = validators.get(method.request_validator_id.as_deref()?)?;
        let required = if v.validate_request_parameters {
            required_parameters(&method.request_parameters)
        } else {
            Vec::new()
        };
        let body = v.validate_request_body.then(|| {
            let mut check = BodyCheck {
                by_type: Vec::new(),
                default: None,
                empty: None,
            };
            if method.request_models.is_empty() {
                check.empty = Some(models.schema(EMPTY_MODEL));
            }
            for (content_type, model) in &method.request_models {
                let schema = models.schema(model);
                if content_type == "$default" {
                    check.default = Some(schema);
                } else {
                    check
                        .by_type
                        .push((content_type.trim().to_ascii_lowercase(), schema));
                }
            }
            check
        });
        if required.is_empty() && body.is_none() {
            return None;
        }
        Some(RequestValidation { required, body })
    }

    /// Checks a request: parameters first, then the body.
    pub fn check(&self, req: &Request<'_>) -> Result<(), Rejection> {
        let missing: Vec<&str> = self
            .required
            .iter()
            .filter(|p| !present(p, req))
            .map(|p| p.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Rejection::Parameters {
                message: format!("Missing required request parameters: [{}]", missing.join(", ")),
            });
        }
        match &self.body {
            Some(body) => body.check(req),
            None => Ok(()),
        }
    }
}

/// The required `method.request.*` parameters, in the order of their keys
/// (`header` < `multivalueheader` < `multivaluequerystring` < `path` < `querystring`).
fn required_parameters(params: &BTreeMap<String, bool>) -> Vec<Required> {
    params
        .iter()
        .filter(|(_, required)| **required)
        .filter_map(|(key, _)| {
            let rest = key.strip_prefix("method.request.")?;
            let (kind, name) = rest.split_once('.')?;
            let location = match kind {
                "header" | "multivalueheader" => Location::Header,
                "path" => Location::Path,
                "querystring" | "multivaluequerystring" => Location::QueryString,
                _ => return None,
            };
            Some(Required {
                location,
                name: name.to_string(),
            })
        })
        .collect()
}

fn not_blank(s: &str) -> bool {
    !s.trim().is_empty()
}

fn present(p: &Required, req: &Request<'_>) -> bool {
    match p.location {
        Location::Header => req
            .headers
            .get_all(p.name.as_str())
            .iter()
            .any(|v| not_blank(&String::from_utf8_lossy(v.as_bytes()))),
        Location::Path => req.path_params.iter().any(|(k, v)| *k == p.name && not_blank(v)),
        Location::QueryString => req.raw_query.is_some_and(|q| {
            q.split('#')
                .next()
                .unwrap_or_default()
                .split('&')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (form_decode(k) == p.name).then(|| form_decode(v))
                })
                .any(|v| not_blank(&v))
        }),
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space).
fn form_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The media type of a request: Content-Type without parameters, lower
/// case; `application/json` when there is none.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| ct.split(';').next().unwrap_or(ct).trim().to_ascii_lowercase())
        .filter(|ct| !ct.is_empty())
        .unwrap_or_else(|| "application/json".to_string())
}

impl BodyCheck {
    fn check(&self, req: &Request<'_>) -> Result<(), Rejection> {
        let media = media_type(req.headers);
        let schema = self
            .by_type
            .iter()
            .find(|(t, _)| *t == media)
            .map(|(_, s)| s)
            .or(self.default.as_ref())
            .or_else(|| self.empty.as_ref().filter(|_| media == "application/json"));
        let Some(schema) = schema else {
            return Ok(());
        };
        let validator = match schema.as_ref() {
            BodySchema::Usable(v) => v,
            BodySchema::Unusable { model, why } => {
                return Err(Rejection::Body {
                    detail: format!("[Model {model} cannot be used for validation: {why}]"),
                });
            }
        };
        let instance: Value = if req.body.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(req.body).map_err(|e| Rejection::Body {
                detail: format!("[Invalid JSON in request body: {e}]"),
            })?
        };
        let errors = describe(validator, &instance);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Rejection::Body {
                detail: format!("[{}]", errors.join(", ")),
            })
        }
    }
}

/// Validation failures worded as API Gateway words them (its validator's
/// messages), missing required properties grouped per object.
fn describe(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    use jsonschema::error::ValidationErrorKind as K;
    /// A message, or the index of a group of missing properties.
    enum Entry {
        Text(String),
        Missing(usize),
    }
    let mut out: Vec<Entry> = Vec::new();
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    for e in validator.iter_errors(instance) {
        let found = e.instance();
        let text = match e.kind() {
            K::Required { property } => {
                let at = e.instance_path().to_string();
                match missing.iter().position(|(p, _)| *p == at) {
                    Some(i) => missing[i].1.push(property.to_string()),
                    None => {
                        out.push(Entry::Missing(missing.len()));
                        missing.push((at, vec![property.to_string()]));
                    }
                }
                continue;
            }
            K::Type { kind } => {
                let allowed: Vec<String> = match kind {
                    jsonschema::error::TypeKind::Single(t) => vec![format!("\"{t}\"")],
                    jsonschema::error::TypeKind::Multiple(set) => {
                        set.iter().map(|t| format!("\"{t}\"")).collect()
                    }
                };
                format!(
                    "instance type ({}) does not match any allowed primitive type (allowed: [{}])",
                    type_name(found),
                    allowed.join(",")
                )
            }
            K::Enum { options } => {
                format!("instance value ({found}) not found in enum (possible values: {options})")
            }
            K::Minimum { limit } => format!(
                "numeric instance is lower than the required minimum (minimum: {limit}, found: {found})"
            ),
            K::Maximum { limit } => format!(
                "numeric instance is greater than the required maximum (maximum: {limit}, found: {found})"
            ),
            K::MinLength { limit } => format!(
                "string {found} is too short (length: {}, required minimum: {limit})",
                found.as_str().map_or(0, |s| s.chars().count())
            ),
            K::MaxLength { limit } => format!(
                "string {found} is too long (length: {}, required maximum: {limit})",
                found.as_str().map_or(0, |s| s.chars().count())
            ),
            K::Pattern { pattern } => {
                format!("ECMA 262 regex \"{pattern}\" does not match input string {found}")
            }
            K::AdditionalProperties { unexpected } => format!(
                "object instance has properties which are not allowed by the schema: {}",
                serde_json::to_string(unexpected).unwrap_or_default()
            ),
            _ => e.to_string(),
        };
        out.push(Entry::Text(text));
    }
    out.into_iter()
        .map(|entry| match entry {
            Entry::Text(t) => t,
            Entry::Missing(i) => format!(
                "object has missing required properties ([{}])",
                missing[i].1.join(",")
            ),
        })
        .collect()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const API: &str = "api123";

    fn model(name: &str, schema: Value) -> (String, Model) {
        (
            name.to_string(),
            Model {
                id: name.to_lowercase(),
                name: name.to_string(),
                description: None,
                schema: Some(schema.to_string()),
                content_type: "application/json".into(),
            },
        )
    }

    fn validators(body: bool, params: bool) -> BTreeMap<String, RequestValidator> {
        [(
            "v".to_string(),
            RequestValidator {
                id: "v".into(),
                name: Some("v".into()),
                validate_request_body: body,
                validate_request_parameters: params,
            },
        )]
        .into()
    }

    fn method(params: &[&str], models: &[(&str, &str)]) -> Method {
        Method {
            http_method: "POST".into(),
            authorization_type: "NONE".into(),
            authorizer_id: None,
            api_key_required: false,
            operation_name: None,
            request_parameters: params.iter().map(|p| (p.to_string(), true)).collect(),
            request_models: models
                .iter()
                .map(|(ct, m)| (ct.to_string(), m.to_string()))
                .collect(),
            request_validator_id: Some("v".into()),
            authorization_scopes: vec![],
            method_responses: BTreeMap::new(),
            integration: None,
        }
    }

    fn pet_models() -> BTreeMap<String, Model> {
        [
            model(
                "Owner",
                json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}),
            ),
            model(
                "Pet",
                json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                "required": ["kind", "owner"],
                "properties": {
                    "kind": {"enum": ["dog", "cat"]},
                    "age": {"type": "integer", "minimum": 0},
                    "owner": {"$ref": model_url(API, "Owner")}
                }}),
            ),
            model("Broken", json!({"$ref": model_url(API, "Missing")})),
            model("Elsewhere", json!({"$ref": "https://example.com/schema.json"})),
        ]
        .into()
    }

    fn compile(m: &Method, body: bool, params: bool) -> RequestValidation {
        let mut schemas = ModelSchemas::new(API, &pet_models());
        RequestValidation::compile(m, &validators(body, params), &mut schemas)
            .unwrap_or_else(|| panic!("nothing to validate"))
    }

    struct Req {
        headers: HeaderMap,
        query: Option<String>,
        path: Vec<(&'static str, String)>,
        body: Vec<u8>,
    }

    fn req(headers: &[(&'static str, &str)], query: Option<&str>, body: &str) -> Req {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            if let Ok(v) = axum::http::HeaderValue::from_str(v) {
                h.append(*k, v);
            }
        }
        Req {
            headers: h,
            query: query.map(str::to_string),
            path: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    fn run(v: &RequestValidation, r: &Req) -> Result<(), Rejection> {
        v.check(&Request {
            headers: &r.headers,
            raw_query: r.query.as_deref(),
            path_params: &r.path,
            body: &r.body,
        })
    }

    fn message(r: Result<(), Rejection>) -> String {
        match r {
            Ok(()) => panic!("accepted"),
            Err(e) => e.message().to_string(),
        }
    }

    #[test]
    fn no_validator_or_nothing_to_check_compiles_to_none() {
        let mut schemas = ModelSchemas::new(API, &pet_models());
        let mut m = method(&["method.request.header.x"], &[]);
        assert!(RequestValidation::compile(&m, &validators(false, false), &mut schemas).is_none());
        m.request_validator_id = None;
        assert!(RequestValidation::compile(&m, &validators(true, true), &mut schemas).is_none());
        m.request_validator_id = Some("gone".into());
        assert!(RequestValidation::compile(&m, &validators(true, true), &mut schemas).is_none());
    }

    #[test]
    fn missing_parameters_are_listed_header_path_querystring_by_name() {
        let m = method(
            &[
                "method.request.querystring.qs1",
                "method.request.path.issuer",
                "method.request.header.x-header-param",
                "method.request.header.a-first",
            ],
            &[],
        );
        let v = compile(&m, false, true);
        let mut r = req(&[], None, "");
        r.path = vec![("other", "1".into())];
        assert_eq!(
            message(run(&v, &r)),
            "Missing required request parameters: [a-first, x-header-param, issuer, qs1]"
        );
        let e = run(&v, &r).err();
        assert_eq!(
            e.as_ref().map(Rejection::response_type),
            Some(GatewayResponseType::BadRequestParameters)
        );
        let mut ok = req(
            &[("A-First", "1"), ("x-header-param", "y")],
            Some("qs1=%20x&z"),
            "",
        );
        ok.path = vec![("issuer", "acme".into())];
        assert_eq!(run(&v, &ok), Ok(()));
    }

    #[test]
    fn blank_counts_as_missing() {
        let v = compile(
            &method(&["method.request.header.h", "method.request.querystring.q"], &[]),
            false,
            true,
        );
        for (headers, query) in [
            (vec![("h", "  ")], Some("q=")),
            (vec![("h", "")], Some("q")),
            (vec![("h", "")], Some("q=+")),
            (vec![], Some("other=1")),
        ] {
            assert_eq!(
                message(run(&v, &req(&headers, query, ""))),
                "Missing required request parameters: [h, q]",
                "{headers:?} {query:?}"
            );
        }
        assert_eq!(run(&v, &req(&[("h", "x")], Some("q=a+b"), "")), Ok(()));
        // Only declared-required parameters count.
        let mut m = method(&[], &[]);
        m.request_parameters
            .insert("method.request.header.opt".into(), false);
        let mut schemas = ModelSchemas::new(API, &pet_models());
        assert!(RequestValidation::compile(&m, &validators(false, true), &mut schemas).is_none());
    }

    #[test]
    fn parameters_are_checked_before_the_body() {
        let v = compile(
            &method(&["method.request.header.h"], &[("application/json", "Pet")]),
            true,
            true,
        );
        assert!(message(run(&v, &req(&[], None, "nope"))).starts_with("Missing required"));
        assert_eq!(
            message(run(&v, &req(&[("h", "1")], None, "nope"))),
            "Invalid request body"
        );
    }

    #[test]
    fn body_against_the_model_and_its_references() {
        let v = compile(&method(&[], &[("application/json", "Pet")]), true, false);
        let good = r#"{"kind":"dog","age":3,"owner":{"name":"ann"}}"#;
        assert_eq!(run(&v, &req(&[], None, good)), Ok(()));
        assert_eq!(
            run(
                &v,
                &req(&[("content-type", "application/json; charset=utf-8")], None, good)
            ),
            Ok(())
        );
        let bad_owner = r#"{"kind":"dog","owner":{}}"#;
        let e = run(&v, &req(&[], None, bad_owner)).err();
        assert_eq!(
            e.as_ref().map(Rejection::validation_error_string),
            Some(r#"[object has missing required properties (["name"])]"#)
        );
        assert_eq!(
            e.as_ref().map(Rejection::response_type),
            Some(GatewayResponseType::BadRequestBody)
        );
        let e = run(
            &v,
            &req(&[], None, r#"{"kind":"fish","age":-1,"owner":{"name":"a"}}"#),
        )
        .err();
        let detail = e
            .map(|e| e.validation_error_string().to_string())
            .unwrap_or_default();
        assert!(
            detail.contains(r#"instance value ("fish") not found in enum"#),
            "{detail}"
        );
        assert!(
            detail.contains("lower than the required minimum (minimum: 0, found: -1)"),
            "{detail}"
        );
        // Empty body = {}: both required properties are missing, one message.
        let e = run(&v, &req(&[], None, "")).err();
        let detail = e
            .map(|e| e.validation_error_string().to_string())
            .unwrap_or_default();
        assert_eq!(
            detail,
            r#"[object has missing required properties (["kind","owner"])]"#
        );
        // Not JSON.
        assert_eq!(message(run(&v, &req(&[], None, "{oops"))), "Invalid request body");
        let e = run(&v, &req(&[], None, r#""a string""#)).err();
        let detail = e
            .map(|e| e.validation_error_string().to_string())
            .unwrap_or_default();
        assert!(
            detail.contains(
                "instance type (string) does not match any allowed primitive type (allowed: [\"object\"])"
            ),
            "{detail}"
        );
    }

    #[test]
    fn models_are_chosen_by_content_type_then_default() {
        let v = compile(
            &method(&[], &[("application/json", "Pet"), ("$default", "Owner")]),
            true,
            false,
        );
        // application/xml falls back to $default (Owner needs a name).
        let xml = [("content-type", "application/xml")];
        assert_eq!(
            message(run(&v, &req(&xml, None, r#"{"kind":"dog"}"#))),
            "Invalid request body"
        );
        assert_eq!(run(&v, &req(&xml, None, r#"{"name":"x"}"#)), Ok(()));
        // A content type with no model and no $default is not checked.
        let v = compile(&method(&[], &[("application/json", "Pet")]), true, false);
        assert_eq!(
            run(&v, &req(&[("content-type", "text/plain")], None, "hello")),
            Ok(())
        );
        // No request models at all: JSON bodies meet Empty (an object).
        let v = compile(&method(&[], &[]), true, false);
        assert_eq!(run(&v, &req(&[], None, "")), Ok(()));
        assert_eq!(run(&v, &req(&[], None, r#"{"any":1}"#)), Ok(()));
        assert_eq!(message(run(&v, &req(&[], None, "[1]"))), "Invalid request body");
        assert_eq!(
            run(&v, &req(&[("content-type", "text/plain")], None, "hi")),
            Ok(())
        );
    }

    #[test]
    fn unresolvable_models_refuse_bodies_without_crashing() {
        for name in ["Broken", "Elsewhere", "NotThere"] {
            let v = compile(&method(&[], &[("application/json", name)]), true, false);
            let e = run(&v, &req(&[], None, "{}")).err();
            let detail = e
                .map(|e| e.validation_error_string().to_string())
                .unwrap_or_default();
            assert!(
                detail.starts_with(&format!("[Model {name} cannot be used")),
                "{detail}"
            );
        }
    }
}
