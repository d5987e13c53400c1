//! Model management: CreateModel, GetModel (with `flatten`), GetModels,
//! UpdateModel, DeleteModel and GetModelTemplate. A model is a draft-4 JSON
//! schema that may `$ref` other models of the same API by their
//! `https://apigateway.amazonaws.com/restapis/{api}/models/{Name}` URL;
//! this module owns the rules that keep those references resolvable (a
//! model cannot name a model that does not exist, nor be deleted while a
//! method, a method response or another model uses it). The front door
//! validates bodies against the deployed models ([`crate::frontdoor::validate`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{ApiGwError, ApiGwResult};
use super::handlers::{created, page, parse};
use super::model::{Model, RestApi, new_id, parse_model_url};
use super::patch::PatchBody;
use super::service::ApiGwService;
use super::wire;

type Svc = State<Arc<ApiGwService>>;

/// The schema API Gateway gives the built-in `Empty` model.
pub const EMPTY_SCHEMA: &str = "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}";
/// The schema API Gateway gives the built-in `Error` model.
pub const ERROR_SCHEMA: &str = "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}";

/// The name of the model a body is checked against when a method declares
/// no request models at all.
pub const EMPTY_MODEL: &str = "Empty";

/// Deepest chain of model references followed when flattening or
/// generating a template.
const MAX_DEPTH: usize = 32;

/// The models every REST API created by CreateRestApi starts with.
pub fn builtin_models() -> BTreeMap<String, Model> {
    let model = |name: &str, description: &str, schema: &str| Model {
        id: new_id(6),
        name: name.to_string(),
        description: Some(description.to_string()),
        schema: Some(schema.to_string()),
        content_type: "application/json".to_string(),
    };
    [
        model(EMPTY_MODEL, "This is a default empty schema model", EMPTY_SCHEMA),
        model("Error", "This is a default error schema model", ERROR_SCHEMA),
    ]
    .into_iter()
    .map(|m| (m.name.clone(), m))
    .collect()
}

pub fn model_not_found(name: &str) -> ApiGwError {
    ApiGwError::not_found(format!("Invalid model name specified: {name}"))
}

fn invalid_schema() -> ApiGwError {
    ApiGwError::bad_request(
        "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]",
    )
}

/// A model name: non-empty and alphanumeric.
pub fn check_name(name: &str) -> ApiGwResult<()> {
    if name.is_empty() {
        return Err(ApiGwError::bad_request("Model name must be non-empty"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiGwError::bad_request(format!(
            "Model name must be alphanumeric: {name}"
        )));
    }
    Ok(())
}

/// Every `$ref` string in a schema, in document order.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    // `enum` and `default` hold data, not schemas.
                    ("enum" | "default", _) => {}
                    _ => refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
        _ => {}
    }
}

/// Checks a schema as CreateModel / UpdateModel do: JSON, a valid draft-4
/// schema, and every reference either local (`#...`) or to a model of
/// `api` (other than `own`, which is being created and cannot name itself
/// before it exists). Returns the parsed schema.
pub fn check_schema(api: &RestApi, own: Option<&str>, text: Option<&str>) -> ApiGwResult<Value> {
    let text = text.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
        ApiGwError::bad_request("Model schema must have at least 1 property or array items defined")
    })?;
    let schema: Value = serde_json::from_str(text).map_err(|_| invalid_schema())?;
    if !schema.is_object() || jsonschema::draft4::meta::validate(&schema).is_err() {
        return Err(invalid_schema());
    }
    let mut found = Vec::new();
    refs(&schema, &mut found);
    let mut bad: Vec<String> = Vec::new();
    for r in found {
        if r.starts_with('#') {
            continue;
        }
        let known = parse_model_url(&r)
            .is_some_and(|(id, name)| id == api.id && (api.models.contains_key(name) || own == Some(name)));
        if !known {
            let shown = parse_model_url(&r).map_or(r.clone(), |(_, name)| name.to_string());
            if !bad.contains(&shown) {
                bad.push(shown);
            }
        }
    }
    if !bad.is_empty() {
        let errors: Vec<String> = bad
            .iter()
            .map(|n| format!("Invalid model specified: {n}"))
            .collect();
        return Err(ApiGwError::bad_request(format!(
            "Invalid model specified: Validation Result: warnings : [], errors : [{}]",
            errors.join(", ")
        )));
    }
    Ok(schema)
}

/// Does `schema` reference the model `name` of API `api_id`?
fn schema_references(schema: Option<&str>, api_id: &str, name: &str) -> bool {
    let Some(v) = schema.and_then(|s| serde_json::from_str::<Value>(s).ok()) else {
        return false;
    };
    let mut found = Vec::new();
    refs(&v, &mut found);
    found.iter().any(|r| parse_model_url(r) == Some((api_id, name)))
}

/// Why model `name` cannot be deleted, if something uses it: a method's
/// request models, a method response's response models, or another model.
fn in_use(api: &RestApi, name: &str) -> Option<String> {
    let mut uses: Vec<String> = Vec::new();
    for r in api.resources.values() {
        let path = RestApi::path_of(&api.resources, &r.id).unwrap_or_default();
        for m in r.methods.values() {
            if m.request_models.values().any(|x| x == name) {
                uses.push(format!("method request: {path}/{}", m.http_method));
            }
            if m.method_responses
                .values()
                .any(|resp| resp.response_models.values().any(|x| x == name))
            {
                uses.push(format!("method response: {path}/{}", m.http_method));
            }
        }
    }
    uses.sort();
    if let Some(u) = uses.into_iter().next() {
        return Some(u);
    }
    api.models
        .values()
        .filter(|m| m.name != name)
        .find(|m| schema_references(m.schema.as_deref(), &api.id, name))
        .map(|m| format!("model: {}", m.name))
}

/// Points model references at another API (CreateRestApi `cloneFrom`).
pub fn rebase(models: &mut BTreeMap<String, Model>, from_api: &str, to_api: &str) {
    let from = format!("/restapis/{from_api}/models/");
    let to = format!("/restapis/{to_api}/models/");
    for m in models.values_mut() {
        m.id = new_id(6);
        if let Some(s) = &mut m.schema {
            *s = s.replace(&from, &to);
        }
    }
}

/// A model's schema with every reference to another model replaced by that
/// model's (flattened) schema; cycles keep their `$ref`.
pub fn flatten(api: &RestApi, name: &str) -> Option<Value> {
    let model = api.models.get(name)?;
    let mut schema: Value = serde_json::from_str(model.schema.as_deref()?).ok()?;
    let mut stack = vec![name.to_string()];
    inline_refs(api, &mut schema, &mut stack);
    Some(schema)
}

fn inline_refs(api: &RestApi, v: &mut Value, stack: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let target = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(parse_model_url)
                .filter(|(id, _)| *id == api.id)
                .map(|(_, name)| name.to_string());
            if let Some(name) = target
                && !stack.contains(&name)
                && stack.len() < MAX_DEPTH
                && let Some(mut inner) = api
                    .models
                    .get(&name)
                    .and_then(|t| t.schema.as_deref())
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
            {
                if let Some(o) = inner.as_object_mut() {
                    o.remove("$schema");
                }
                stack.push(name);
                inline_refs(api, &mut inner, stack);
                stack.pop();
                *v = inner;
                return;
            }
            for (k, child) in m.iter_mut() {
                if k != "enum" && k != "default" {
                    inline_refs(api, child, stack);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| inline_refs(api, i, stack)),
        _ => {}
    }
}

// ---------------------------------------------------------------- Templates

/// A mapping template that rebuilds a body of the model's shape from the
/// input (what GetModelTemplate answers): objects property by property,
/// arrays with `#foreach`, strings quoted.
pub fn template(api: &RestApi, name: &str) -> Option<String> {
    let schema = flatten(api, name)?;
    let mut out = String::from("#set($inputRoot = $input.path('$'))\n");
    render(&schema, "$inputRoot", 0, &mut out);
    out.push('\n');
    Some(out)
}

fn is_type(schema: &Value, t: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|x| x == t),
        None => t == "object" && schema.get("properties").is_some(),
        _ => false,
    }
}

fn render(schema: &Value, expr: &str, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    let close = "  ".repeat(depth);
    if depth < MAX_DEPTH
        && is_type(schema, "object")
        && let Some(props) = schema.get("properties").and_then(Value::as_object)
    {
        out.push_str("{\n");
        let n = props.len();
        for (i, (k, sub)) in props.iter().enumerate() {
            out.push_str(&format!("{pad}\"{k}\" : "));
            render(sub, &format!("{expr}.{k}"), depth + 1, out);
            out.push_str(if i + 1 < n { ",\n" } else { "\n" });
        }
        out.push_str(&close);
        out.push('}');
    } else if depth < MAX_DEPTH && is_type(schema, "array") {
        let elem = format!(
            "$elem{}",
            if depth == 0 {
                String::new()
            } else {
                depth.to_string()
            }
        );
        let items = schema.get("items").cloned().unwrap_or(Value::Null);
        out.push_str(&format!("[\n#foreach({elem} in {expr})\n{pad}"));
        render(&items, &elem, depth + 1, out);
        out.push_str(&format!("#if($foreach.hasNext),#end\n#end\n{close}]"));
    } else if is_type(schema, "string") {
        out.push_str(&format!("\"{expr}\""));
    } else {
        out.push_str(expr);
    }
}

// ---------------------------------------------------------------- Handlers

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateModelInput {
    name: Option<String>,
    description: Option<String>,
    schema: Option<String>,
    content_type: Option<String>,
}

/// Builds a model for `api` from create (or import) input, with every check.
pub fn build(
    api: &RestApi,
    name: &str,
    description: Option<String>,
    schema: Option<String>,
    content_type: Option<String>,
) -> ApiGwResult<Model> {
    check_name(name)?;
    if api.models.contains_key(name) {
        return Err(ApiGwError::conflict(
            "Model name already exists for this REST API",
        ));
    }
    let content_type = content_type
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ApiGwError::bad_request("Content type must be non-empty"))?;
    check_schema(api, Some(name), schema.as_deref())?;
    Ok(Model {
        id: new_id(6),
        name: name.to_string(),
        description: description.filter(|d| !d.is_empty()),
        schema,
        content_type,
    })
}

pub async fn create_model(State(svc): Svc, Path(api): Path<String>, body: Bytes) -> ApiGwResult<Response> {
    let input: CreateModelInput = parse(&body)?;
    let name = input.name.unwrap_or_default();
    let out = svc
        .edit(&api, |a| {
            let m = build(a, &name, input.description, input.schema, input.content_type)?;
            let v = wire::model(&m, None);
            a.models.insert(m.name.clone(), m);
            Ok(v)
        })
        .await?;
    tracing::info!(api = %api, model = %name, "model created");
    Ok(created(out))
}

pub async fn get_models(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let items = a.models.values().map(|m| wire::model(m, None)).collect();
    Ok(Json(page(items, &q)?))
}

pub async fn get_model(
    State(svc): Svc,
    Path((api, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc
        .get(&api)
        .map_err(|e| e.when_unknown_api(|| model_not_found(&name)))?;
    let m = a.models.get(&name).ok_or_else(|| model_not_found(&name))?;
    let flat = q
        .get("flatten")
        .is_some_and(|f| f.eq_ignore_ascii_case("true"))
        .then(|| flatten(&a, &name))
        .flatten()
        .map(|v| v.to_string());
    Ok(Json(wire::model(m, flat.as_deref())))
}

pub async fn get_model_template(
    State(svc): Svc,
    Path((api, name)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    if !a.models.contains_key(&name) {
        return Err(model_not_found(&name));
    }
    let value = template(&a, &name)
        .unwrap_or_else(|| "#set($inputRoot = $input.path('$'))\n$input.json('$')\n".into());
    Ok(Json(json!({ "value": value })))
}

pub async fn update_model(
    State(svc): Svc,
    Path((api, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateModelInput")?;
    let out = svc
        .edit(&api, |a| {
            let mut m = a.models.get(&name).cloned().ok_or_else(|| model_not_found(&name))?;
            for op in &patch.patch_operations {
                if op.op != "replace" {
                    return Err(ApiGwError::bad_request(format!(
                        "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
                        op.path, op.op
                    )));
                }
                match op.path.as_str() {
                    "/schema" => {
                        check_schema(a, Some(&name), op.value.as_deref())?;
                        m.schema = op.value.clone();
                    }
                    "/description" => m.description = op.value.clone().filter(|d| !d.is_empty()),
                    other => {
                        return Err(ApiGwError::bad_request(format!(
                            "Invalid patch path  '{other}' specified for op 'replace'. Must be one of: [/description, /schema]"
                        )));
                    }
                }
            }
            let v = wire::model(&m, None);
            a.models.insert(name.clone(), m);
            Ok(v)
        })
        .await
        // Model operations on an API that does not exist name the model, as
        // AWS's recorded answers do.
        .map_err(|e| e.when_unknown_api(|| model_not_found(&name)))?;
    Ok(Json(out))
}

pub async fn delete_model(
    State(svc): Svc,
    Path((api, name)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        if !a.models.contains_key(&name) {
            return Err(model_not_found(&name));
        }
        if let Some(place) = in_use(a, &name) {
            return Err(ApiGwError::conflict(format!(
                "Cannot delete model '{name}', is referenced in {place}"
            )));
        }
        a.models.remove(&name);
        Ok(())
    })
    .await
    // Model operations on an API that does not exist name the model, as
    // AWS's recorded answers do.
    .map_err(|e| e.when_unknown_api(|| model_not_found(&name)))?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apigw::handlers::new_rest_api;
    use crate::apigw::model::{Method, MethodResponse, model_url};

    /// The `$ref` a model's schema uses for model `name` of `api_id`.
    fn reference(api_id: &str, name: &str) -> Value {
        json!({ "$ref": model_url(api_id, name) })
    }

    fn api() -> RestApi {
        let mut a = new_rest_api("t".into());
        a.id = "abc123".into();
        a
    }

    fn err(r: ApiGwResult<impl std::fmt::Debug>) -> String {
        match r {
            Ok(v) => panic!("accepted: {v:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn new_apis_have_empty_and_error() {
        let a = api();
        let names: Vec<&str> = a.models.keys().map(String::as_str).collect();
        assert_eq!(names, ["Empty", "Error"]);
        for m in a.models.values() {
            assert_eq!(m.content_type, "application/json");
            assert!(check_schema(&a, None, m.schema.as_deref()).is_ok());
        }
        let w = wire::model(&a.models["Error"], None);
        assert_eq!(w["description"], "This is a default error schema model");
    }

    #[test]
    fn names_and_schemas_are_checked() {
        let a = api();
        let ok = Some(r#"{"type":"object"}"#.to_string());
        let json = Some("application/json".to_string());
        assert_eq!(
            err(build(&a, "a_b", None, ok.clone(), json.clone())),
            "Model name must be alphanumeric: a_b"
        );
        assert_eq!(
            err(build(&a, "", None, ok.clone(), json.clone())),
            "Model name must be non-empty"
        );
        assert_eq!(
            err(build(&a, "Empty", None, ok.clone(), json.clone())),
            "Model name already exists for this REST API"
        );
        let invalid = "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]";
        for bad in [r#"{"type":"#, r#"{"type":"objekt"}"#, r#"{"required":[]}"#, "[1]"] {
            assert_eq!(
                err(build(&a, "M", None, Some(bad.into()), json.clone())),
                invalid,
                "{bad}"
            );
        }
        assert!(err(build(&a, "M", None, None, json.clone())).starts_with("Model schema must have"));
        assert!(build(&a, "M", None, ok, json).is_ok());
    }

    #[test]
    fn references_must_name_existing_models_of_the_api() {
        let mut a = api();
        let schema =
            |url: &str| Some(json!({"type": "object", "properties": {"p": {"$ref": url}}}).to_string());
        let json = Some("application/json".to_string());
        let m = build(
            &a,
            "Pet",
            None,
            schema(&model_url("abc123", "Error")),
            json.clone(),
        );
        assert!(m.is_ok());
        let e = err(build(
            &a,
            "Pet",
            None,
            schema(&model_url("abc123", "Nope")),
            json.clone(),
        ));
        assert_eq!(
            e,
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model specified: Nope]"
        );
        assert!(
            build(
                &a,
                "Pet",
                None,
                schema(&model_url("other1", "Error")),
                json.clone()
            )
            .is_err()
        );
        assert!(build(&a, "Pet", None, schema("#/definitions/x"), json.clone()).is_ok());
        // A model may refer to itself.
        assert!(build(&a, "Tree", None, schema(&model_url("abc123", "Tree")), json).is_ok());
        a.models.clear();
        assert!(check_schema(&a, None, Some(r#"{"$ref":"http://example.com/x"}"#)).is_err());
    }

    #[test]
    fn in_use_names_aws_places() {
        let mut a = api();
        let root = a.root_resource_id.clone();
        let method = Method {
            http_method: "POST".into(),
            authorization_type: "NONE".into(),
            authorizer_id: None,
            api_key_required: false,
            operation_name: None,
            request_parameters: BTreeMap::new(),
            request_models: [("application/json".to_string(), "Error".to_string())].into(),
            request_validator_id: None,
            authorization_scopes: vec![],
            method_responses: [(
                "200".to_string(),
                MethodResponse {
                    status_code: "200".into(),
                    response_parameters: BTreeMap::new(),
                    response_models: [("application/json".to_string(), "Empty".to_string())].into(),
                    sent_empty: Vec::new(),
                },
            )]
            .into(),
            integration: None,
        };
        if let Some(r) = a.resources.get_mut(&root) {
            r.methods.insert("POST".into(), method);
        }
        assert_eq!(in_use(&a, "Error").as_deref(), Some("method request: //POST"));
        assert_eq!(in_use(&a, "Empty").as_deref(), Some("method response: //POST"));
        let pet = build(
            &a,
            "Pet",
            None,
            Some(reference("abc123", "Owner").to_string()),
            Some("application/json".into()),
        );
        assert!(pet.is_err(), "Owner does not exist yet");
        a.models.insert(
            "Owner".into(),
            Model {
                id: "o".into(),
                name: "Owner".into(),
                description: None,
                schema: Some(r#"{"type":"object"}"#.into()),
                content_type: "application/json".into(),
            },
        );
        let pet = build(
            &a,
            "Pet",
            None,
            Some(reference("abc123", "Owner").to_string()),
            Some("application/json".into()),
        );
        let pet = pet.unwrap_or_else(|e| panic!("{}", e.message));
        a.models.insert("Pet".into(), pet);
        assert_eq!(in_use(&a, "Owner").as_deref(), Some("model: Pet"));
        assert_eq!(in_use(&a, "Pet"), None);
    }

    #[test]
    fn flatten_inlines_model_references_and_stops_at_cycles() {
        let mut a = api();
        let add = |a: &mut RestApi, name: &str, schema: Value| {
            a.models.insert(
                name.into(),
                Model {
                    id: name.to_lowercase(),
                    name: name.into(),
                    description: None,
                    schema: Some(schema.to_string()),
                    content_type: "application/json".into(),
                },
            );
        };
        add(
            &mut a,
            "Owner",
            json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "properties": {"name": {"type": "string"}}}),
        );
        add(
            &mut a,
            "Pet",
            json!({"type": "object", "properties": {"owner": reference("abc123", "Owner"), "self": reference("abc123", "Pet")}}),
        );
        let flat = flatten(&a, "Pet").unwrap_or_default();
        assert_eq!(
            flat,
            json!({"type": "object", "properties": {
                "owner": {"type": "object", "properties": {"name": {"type": "string"}}},
                "self": reference("abc123", "Pet")
            }})
        );
        let t = template(&a, "Pet").unwrap_or_default();
        assert!(t.starts_with("#set($inputRoot = $input.path('$'))\n{\n"), "{t}");
        assert!(t.contains("\"name\" : \"$inputRoot.owner.name\""), "{t}");
    }

    #[test]
    fn templates_quote_strings_and_loop_over_arrays() {
        let mut a = api();
        a.models.insert(
            "L".into(),
            Model {
                id: "l".into(),
                name: "L".into(),
                description: None,
                schema: Some(
                    json!({"type": "object", "properties": {"n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}}})
                        .to_string(),
                ),
                content_type: "application/json".into(),
            },
        );
        let t = template(&a, "L").unwrap_or_default();
        assert!(t.contains("\"n\" : $inputRoot.n,"), "{t}");
        assert!(t.contains("#foreach($elem1 in $inputRoot.tags)"), "{t}");
        assert!(t.contains("\"$elem1\"#if($foreach.hasNext),#end"), "{t}");
    }
}
