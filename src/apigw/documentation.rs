//! API documentation: DocumentationParts (a JSON `properties` document
//! attached to a location in the API: the API, a resource, a method, a
//! parameter, a response, ...) and DocumentationVersions (named snapshots a
//! stage can point at with `documentationVersion`). Create, get, list,
//! update by patchOperations and delete, in AWS's wire shapes. Portico
//! stores and returns them; nothing at the front door reads them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{ApiGwError, ApiGwResult, ErrorCode};
use super::handlers::{created, page, parse};
use super::model::{new_id, now_epoch};
use super::patch::PatchBody;
use super::service::ApiGwService;

type Svc = State<Arc<ApiGwService>>;

/// The kinds of location a part documents, in AWS's enum order.
const LOCATION_TYPES: [&str; 12] = [
    "API",
    "AUTHORIZER",
    "MODEL",
    "RESOURCE",
    "METHOD",
    "PATH_PARAMETER",
    "QUERY_PARAMETER",
    "REQUEST_HEADER",
    "REQUEST_BODY",
    "RESPONSE",
    "RESPONSE_HEADER",
    "RESPONSE_BODY",
];

/// Where a documentation part applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DocumentationLocation {
    #[serde(rename = "type")]
    pub location_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl DocumentationLocation {
    /// The location as AWS stores it: only the fields its type uses, with
    /// AWS's defaults (`/` for the path, `*` for any method or status).
    fn normalized(self) -> ApiGwResult<DocumentationLocation> {
        let t = self.location_type.as_str();
        if !LOCATION_TYPES.contains(&t) {
            return Err(ApiGwError::enum_value(
                t,
                "createDocumentationPartInput.location.type",
                &LOCATION_TYPES,
            ));
        }
        let has_path = !matches!(t, "API" | "AUTHORIZER" | "MODEL");
        let has_method = has_path && t != "RESOURCE";
        let has_status = matches!(t, "RESPONSE" | "RESPONSE_HEADER" | "RESPONSE_BODY");
        let has_name = matches!(
            t,
            "AUTHORIZER"
                | "MODEL"
                | "PATH_PARAMETER"
                | "QUERY_PARAMETER"
                | "REQUEST_HEADER"
                | "RESPONSE_HEADER"
        );
        let name = self.name.filter(|_| has_name);
        if has_name && name.as_deref().is_none_or(str::is_empty) {
            return Err(ApiGwError::bad_request(format!(
                "Invalid documentation location specified: name must be specified for {t}"
            )));
        }
        Ok(DocumentationLocation {
            path: has_path.then(|| self.path.unwrap_or_else(|| "/".to_string())),
            method: has_method.then(|| self.method.unwrap_or_else(|| "*".to_string())),
            status_code: has_status.then(|| self.status_code.unwrap_or_else(|| "*".to_string())),
            name,
            location_type: self.location_type,
        })
    }
}

/// One documentation part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentationPart {
    pub id: String,
    pub location: DocumentationLocation,
    /// A JSON document, kept as the caller wrote it.
    pub properties: String,
}

/// One published documentation snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentationVersion {
    pub version: String,
    pub created_date: i64,
    pub description: Option<String>,
}

fn part_json(p: &DocumentationPart) -> Value {
    json!({ "id": p.id, "location": p.location, "properties": p.properties })
}

fn version_json(v: &DocumentationVersion) -> Value {
    let mut m = Map::new();
    m.insert("version".into(), v.version.clone().into());
    m.insert("createdDate".into(), v.created_date.into());
    if let Some(d) = &v.description {
        m.insert("description".into(), d.clone().into());
    }
    Value::Object(m)
}

fn part_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Documentation part identifier specified")
}

fn version_not_found() -> ApiGwError {
    ApiGwError::not_found("Invalid Documentation version identifier specified")
}

/// `properties` must be a JSON document.
fn check_properties(properties: Option<String>) -> ApiGwResult<String> {
    let properties = properties
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiGwError::bad_request("Documentation part properties must not be empty"))?;
    serde_json::from_str::<Value>(&properties).map_err(|_| {
        ApiGwError::bad_request("Invalid documentation content specified: properties must be valid JSON")
    })?;
    Ok(properties)
}

/// One part of an imported `x-amazon-apigateway-documentation`: added, or
/// replacing the part at the same location.
pub fn import_part(api: &mut super::model::RestApi, location: &Value, properties: &Value) -> ApiGwResult<()> {
    let location: DocumentationLocation = serde_json::from_value(location.clone()).map_err(|e| {
        ApiGwError::bad_request(format!("Invalid documentation part location in the import: {e}"))
    })?;
    let location = location.normalized()?;
    let properties = match properties {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let id = api
        .documentation_parts
        .values()
        .find(|p| p.location == location)
        .map_or_else(|| new_id(6), |p| p.id.clone());
    api.documentation_parts.insert(
        id.clone(),
        DocumentationPart {
            id,
            location,
            properties: check_properties(Some(properties))?,
        },
    );
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreatePartInput {
    location: Option<DocumentationLocation>,
    properties: Option<String>,
}

pub async fn create_documentation_part(
    State(svc): Svc,
    Path(api): Path<String>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let input: CreatePartInput = parse(&body)?;
    let location = input
        .location
        .ok_or_else(|| {
            ApiGwError::new(
                ErrorCode::Validation,
                "1 validation error detected: Value null at 'createDocumentationPartInput.location' failed to satisfy constraint: Member must not be null",
            )
        })?
        .normalized()?;
    let properties = check_properties(input.properties)?;
    let out = svc
        .edit(&api, |a| {
            if a.documentation_parts.values().any(|p| p.location == location) {
                return Err(ApiGwError::conflict(
                    "Documentation part already exists for this location",
                ));
            }
            let part = DocumentationPart {
                id: new_id(6),
                location,
                properties,
            };
            let v = part_json(&part);
            a.documentation_parts.insert(part.id.clone(), part);
            Ok(v)
        })
        .await?;
    Ok(created(out))
}

pub async fn get_documentation_parts(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let mut parts: Vec<&DocumentationPart> = a
        .documentation_parts
        .values()
        .filter(|p| q.get("type").is_none_or(|t| *t == p.location.location_type))
        .filter(|p| q.get("path").is_none_or(|x| p.location.path.as_ref() == Some(x)))
        .filter(|p| {
            q.get("nameQuery").is_none_or(|n| {
                p.location
                    .name
                    .as_deref()
                    .is_some_and(|name| name.contains(n.as_str()))
            })
        })
        .collect();
    parts.sort_by(|x, y| x.location.cmp(&y.location).then(x.id.cmp(&y.id)));
    Ok(Json(page(parts.into_iter().map(part_json).collect(), &q)?))
}

pub async fn get_documentation_part(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let p = a.documentation_parts.get(&id).ok_or_else(part_not_found)?;
    Ok(Json(part_json(p)))
}

pub async fn update_documentation_part(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateDocumentationPartInput")?;
    let out = svc
        .edit(&api, |a| {
            let p = a.documentation_parts.get_mut(&id).ok_or_else(part_not_found)?;
            for op in &patch.patch_operations {
                match (op.op.as_str(), op.path.as_str()) {
                    ("replace", "/properties") => p.properties = check_properties(op.value.clone())?,
                    _ => return Err(op.unsupported()),
                }
            }
            Ok(part_json(p))
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_documentation_part(
    State(svc): Svc,
    Path((api, id)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        a.documentation_parts
            .remove(&id)
            .map(|_| ())
            .ok_or_else(part_not_found)
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateVersionInput {
    documentation_version: Option<String>,
    description: Option<String>,
    stage_name: Option<String>,
}

pub async fn create_documentation_version(
    State(svc): Svc,
    Path(api): Path<String>,
    body: Bytes,
) -> ApiGwResult<Response> {
    let input: CreateVersionInput = parse(&body)?;
    let version = input
        .documentation_version
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiGwError::bad_request("Documentation version must not be empty"))?;
    let out = svc
        .edit(&api, |a| {
            if a.documentation_versions.contains_key(&version) {
                return Err(ApiGwError::conflict(format!(
                    "Documentation version {version} already exists"
                )));
            }
            // With a stage, the stage is pointed at the new version.
            if let Some(stage) = &input.stage_name {
                let s = a
                    .stages
                    .get_mut(stage)
                    .ok_or_else(|| ApiGwError::not_found("Invalid Stage identifier specified"))?;
                s.documentation_version = Some(version.clone());
            }
            let v = DocumentationVersion {
                version: version.clone(),
                created_date: now_epoch(),
                description: input.description.clone(),
            };
            let out = version_json(&v);
            a.documentation_versions.insert(version.clone(), v);
            Ok(out)
        })
        .await?;
    Ok(created(out))
}

pub async fn get_documentation_versions(
    State(svc): Svc,
    Path(api): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let items = a.documentation_versions.values().map(version_json).collect();
    Ok(Json(page(items, &q)?))
}

pub async fn get_documentation_version(
    State(svc): Svc,
    Path((api, version)): Path<(String, String)>,
) -> ApiGwResult<Json<Value>> {
    let a = svc.get(&api)?;
    let v = a
        .documentation_versions
        .get(&version)
        .ok_or_else(version_not_found)?;
    Ok(Json(version_json(v)))
}

pub async fn update_documentation_version(
    State(svc): Svc,
    Path((api, version)): Path<(String, String)>,
    body: Bytes,
) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateDocumentationVersionInput")?;
    let out = svc
        .edit(&api, |a| {
            let v = a
                .documentation_versions
                .get_mut(&version)
                .ok_or_else(version_not_found)?;
            for op in &patch.patch_operations {
                match (op.op.as_str(), op.path.as_str()) {
                    ("replace", "/description") => v.description = op.value.clone(),
                    _ => return Err(op.unsupported()),
                }
            }
            Ok(version_json(v))
        })
        .await?;
    Ok(Json(out))
}

pub async fn delete_documentation_version(
    State(svc): Svc,
    Path((api, version)): Path<(String, String)>,
) -> ApiGwResult<StatusCode> {
    svc.edit(&api, |a| {
        a.documentation_versions
            .remove(&version)
            .map(|_| ())
            .ok_or_else(version_not_found)
    })
    .await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DocumentationLocation {
        DocumentationLocation {
            location_type: t.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn locations_keep_only_their_fields_with_aws_defaults() {
        let api = at("API").normalized().unwrap_or_default();
        assert_eq!(serde_json::to_value(&api).ok(), Some(json!({"type": "API"})));
        let method = at("METHOD").normalized().unwrap_or_default();
        assert_eq!(
            serde_json::to_value(&method).ok(),
            Some(json!({"type": "METHOD", "path": "/", "method": "*"}))
        );
        let header = DocumentationLocation {
            name: Some("X-Id".into()),
            status_code: Some("200".into()),
            ..at("RESPONSE_HEADER")
        }
        .normalized()
        .unwrap_or_default();
        assert_eq!(
            serde_json::to_value(&header).ok(),
            Some(
                json!({"type": "RESPONSE_HEADER", "path": "/", "method": "*", "statusCode": "200", "name": "X-Id"})
            )
        );
        assert!(
            at("QUERY_PARAMETER").normalized().is_err(),
            "a parameter needs its name"
        );
        assert!(at("NOPE").normalized().is_err());
    }
}
