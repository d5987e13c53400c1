//! A function's resource-based policy (AddPermission, GetPolicy,
//! RemovePermission) and its tags (TagResource, UntagResource, ListTags).
//!
//! Statements are kept per qualifier (the function itself, a version or an
//! alias) and rendered as Lambda renders them. Portico does not evaluate
//! them: the gateway may invoke any function, as if every API had been
//! granted `lambda:InvokeFunction`, so a deployment script that calls
//! `add-permission` works unchanged and one that does not still runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::{LambdaError, LambdaResult};
use super::functions::check_revision;
use super::{LambdaService, parse_body};
use crate::function::validate::constraint;
use crate::function::{FunctionRecord, PolicyStatement, Version, new_revision_id};

type Svc = State<Arc<LambdaService>>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermissionInput {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    principal_org_id: Option<String>,
    event_source_token: Option<String>,
    function_url_auth_type: Option<String>,
    revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyQuery {
    #[serde(rename = "Qualifier")]
    qualifier: Option<String>,
    #[serde(rename = "RevisionId")]
    revision_id: Option<String>,
}

/// AddPermission: `POST /2015-03-31/functions/{name}/policy` → 201 `{"Statement": "<json>"}`.
pub async fn add(
    State(svc): Svc,
    Path(raw): Path<String>,
    Query(q): Query<PolicyQuery>,
    body: Bytes,
) -> LambdaResult<(StatusCode, Json<Value>)> {
    let input: AddPermissionInput = parse_body(&body)?;
    let revision_id = input.revision_id.clone();
    let statement = statement_of(input)?;
    let fref = svc.function_ref(&raw, q.qualifier.as_deref())?;
    let qualifier = fref.qualifier.clone();
    let resource = svc.host.function_arn(&fref.name, qualifier.as_deref());
    let rendered = render_statement(&statement, &resource);
    svc.edit(&fref.name, |record| {
        let revision = target_revision(record, qualifier.as_deref())
            .ok_or_else(|| LambdaError::function_not_found(&resource))?;
        check_revision(revision_id.as_deref(), revision)?;
        let statements = record.policies.entry(qualifier.clone().unwrap_or_default()).or_default();
        if statements.iter().any(|s| s.sid == statement.sid) {
            return Err(LambdaError::conflict(format!(
                "The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.",
                statement.sid
            )));
        }
        statements.push(statement);
        bump_revision(record, qualifier.as_deref());
        Ok(())
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "Statement": rendered }))))
}

/// GetPolicy: `GET /2015-03-31/functions/{name}/policy` → `{"Policy": "<json>", "RevisionId"}`.
pub async fn get(
    State(svc): Svc,
    Path(raw): Path<String>,
    Query(q): Query<PolicyQuery>,
) -> LambdaResult<Json<Value>> {
    let fref = svc.function_ref(&raw, q.qualifier.as_deref())?;
    let qualifier = fref.qualifier.as_deref();
    let resource = svc.host.function_arn(&fref.name, qualifier);
    let record = svc.record(&fref.name, qualifier)?;
    let revision =
        target_revision(&record, qualifier).ok_or_else(|| LambdaError::function_not_found(&resource))?;
    let statements = record
        .policies
        .get(qualifier.unwrap_or_default())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| LambdaError::not_found("The resource you requested does not exist."))?;
    let rendered: Vec<String> = statements
        .iter()
        .map(|s| render_statement(s, &resource))
        .collect();
    let policy = format!(
        "{{\"Version\":\"2012-10-17\",\"Id\":\"default\",\"Statement\":[{}]}}",
        rendered.join(",")
    );
    Ok(Json(json!({ "Policy": policy, "RevisionId": revision })))
}

/// RemovePermission: `DELETE /2015-03-31/functions/{name}/policy/{sid}` → 204.
pub async fn remove(
    State(svc): Svc,
    Path((raw, sid)): Path<(String, String)>,
    Query(q): Query<PolicyQuery>,
) -> LambdaResult<StatusCode> {
    let fref = svc.function_ref(&raw, q.qualifier.as_deref())?;
    let qualifier = fref.qualifier.clone();
    let resource = svc.host.function_arn(&fref.name, qualifier.as_deref());
    svc.edit(&fref.name, |record| {
        let revision = target_revision(record, qualifier.as_deref())
            .ok_or_else(|| LambdaError::function_not_found(&resource))?;
        check_revision(q.revision_id.as_deref(), revision)?;
        let key = qualifier.clone().unwrap_or_default();
        let Some(statements) = record.policies.get_mut(&key).filter(|s| !s.is_empty()) else {
            return Err(LambdaError::not_found(
                "No policy is associated with the given resource.",
            ));
        };
        let Some(at) = statements.iter().position(|s| s.sid == sid) else {
            return Err(LambdaError::not_found(format!(
                "Statement {sid} is not found in resource policy."
            )));
        };
        statements.remove(at);
        if statements.is_empty() {
            record.policies.remove(&key);
        }
        bump_revision(record, qualifier.as_deref());
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks AddPermission's members against the service model's constraints.
fn statement_of(f: AddPermissionInput) -> LambdaResult<PolicyStatement> {
    let required = |v: Option<String>, member: &str| {
        v.ok_or_else(|| LambdaError::invalid(format!("{member} is required")))
    };
    let sid = required(f.statement_id, "StatementId")?;
    let action = required(f.action, "Action")?;
    let principal = required(f.principal, "Principal")?;
    let sid_ok = (1..=100).contains(&sid.len())
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !sid_ok {
        return Err(constraint(
            &sid,
            "statementId",
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)",
        )
        .into());
    }
    let action_ok = action == "*"
        || action.strip_prefix("lambda:").is_some_and(|rest| {
            rest == "*" || (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphabetic()))
        });
    if !action_ok {
        return Err(constraint(
            &action,
            "action",
            "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
        )
        .into());
    }
    if principal.is_empty() || principal.chars().any(char::is_whitespace) {
        return Err(constraint(
            &principal,
            "principal",
            "Member must satisfy regular expression pattern: [^\\s]+",
        )
        .into());
    }
    if let Some(account) = &f.source_account
        && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(constraint(
            account,
            "sourceAccount",
            "Member must satisfy regular expression pattern: \\d{12}",
        )
        .into());
    }
    Ok(PolicyStatement {
        sid,
        action,
        principal,
        source_arn: f.source_arn,
        source_account: f.source_account,
        principal_org_id: f.principal_org_id,
        event_source_token: f.event_source_token,
        function_url_auth_type: f.function_url_auth_type,
    })
}

/// A statement as Lambda prints it:
/// `{"Sid","Effect":"Allow","Principal","Action","Resource"[,"Condition"]}`.
fn render_statement(s: &PolicyStatement, resource: &str) -> String {
    let text = |v: &str| Value::from(v).to_string();
    let principal = if s.principal == "*" {
        text("*")
    } else if s.principal.len() == 12 && s.principal.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "{{\"AWS\":{}}}",
            text(&format!("arn:aws:iam::{}:root", s.principal))
        )
    } else if s.principal.starts_with("arn:") {
        format!("{{\"AWS\":{}}}", text(&s.principal))
    } else {
        format!("{{\"Service\":{}}}", text(&s.principal))
    };
    let mut equals = Vec::new();
    for (key, value) in [
        ("AWS:SourceAccount", &s.source_account),
        ("aws:PrincipalOrgID", &s.principal_org_id),
        ("lambda:EventSourceToken", &s.event_source_token),
        ("lambda:FunctionUrlAuthType", &s.function_url_auth_type),
    ] {
        if let Some(v) = value {
            equals.push(format!("{}:{}", text(key), text(v)));
        }
    }
    let mut conditions = Vec::new();
    if !equals.is_empty() {
        conditions.push(format!("\"StringEquals\":{{{}}}", equals.join(",")));
    }
    if let Some(arn) = &s.source_arn {
        conditions.push(format!("\"ArnLike\":{{\"AWS:SourceArn\":{}}}", text(arn)));
    }
    let condition = if conditions.is_empty() {
        String::new()
    } else {
        format!(",\"Condition\":{{{}}}", conditions.join(","))
    };
    format!(
        "{{\"Sid\":{},\"Effect\":\"Allow\",\"Principal\":{principal},\"Action\":{},\"Resource\":{}{condition}}}",
        text(&s.sid),
        text(&s.action),
        text(resource),
    )
}

/// The revision id of what `qualifier` names (the function, a version or an
/// alias), if it exists.
fn target_revision<'a>(record: &'a FunctionRecord, qualifier: Option<&str>) -> Option<&'a str> {
    match qualifier {
        None => Some(&record.latest.revision_id),
        Some(q) => match Version::parse(q) {
            Some(v) => record.config(v).map(|c| c.revision_id.as_str()),
            None => record.aliases.get(q).map(|a| a.revision_id.as_str()),
        },
    }
}

/// A policy change gives what it applies to a new revision id.
fn bump_revision(record: &mut FunctionRecord, qualifier: Option<&str>) {
    let revision = match qualifier {
        None => Some(&mut record.latest.revision_id),
        Some(q) => match Version::parse(q) {
            Some(Version::Latest) => Some(&mut record.latest.revision_id),
            Some(Version::Published(n)) => record.versions.get_mut(&n).map(|c| &mut c.revision_id),
            None => record.aliases.get_mut(q).map(|a| &mut a.revision_id),
        },
    };
    if let Some(r) = revision {
        *r = new_revision_id();
    }
}

// ------------------------------------------------------------------ tags

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    tags: Option<BTreeMap<String, String>>,
}

/// The function a tagging ARN names; tags belong to functions, not to
/// versions or aliases.
fn tagged_function(svc: &LambdaService, arn: &str) -> LambdaResult<String> {
    let fref = svc.function_ref(arn, None)?;
    if fref.qualifier.is_some() {
        return Err(LambdaError::invalid(
            "Tags are not supported on function versions or aliases. Specify the unqualified function ARN.",
        ));
    }
    Ok(fref.name)
}

/// Lambda's tag limits: keys 1–128 characters (not starting `aws:`),
/// values up to 256, at most 50 tags on a function.
pub fn validate_tags(tags: &BTreeMap<String, String>) -> LambdaResult<()> {
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") {
            return Err(LambdaError::invalid(format!("Invalid tag key: {k}")));
        }
        if v.chars().count() > 256 {
            return Err(LambdaError::invalid(format!("Invalid tag value for key: {k}")));
        }
    }
    Ok(())
}

const MAX_TAGS: usize = 50;

fn too_many_tags() -> LambdaError {
    LambdaError::invalid(format!("A function can have at most {MAX_TAGS} tags."))
}

/// ListTags: `GET /2017-03-31/tags/{arn}` → `{"Tags": {...}}`.
pub async fn list_tags(State(svc): Svc, Path(arn): Path<String>) -> LambdaResult<Json<Value>> {
    let name = tagged_function(&svc, &arn)?;
    let record = svc.record(&name, None)?;
    Ok(Json(json!({ "Tags": record.tags })))
}

/// TagResource: `POST /2017-03-31/tags/{arn}` with `{"Tags": {...}}` → 204.
pub async fn tag(State(svc): Svc, Path(arn): Path<String>, body: Bytes) -> LambdaResult<StatusCode> {
    let name = tagged_function(&svc, &arn)?;
    let input: TagInput = parse_body(&body)?;
    let tags = input
        .tags
        .ok_or_else(|| LambdaError::invalid("Tags is required"))?;
    validate_tags(&tags)?;
    svc.edit(&name, |record| {
        let mut merged = record.tags.clone();
        merged.extend(tags);
        if merged.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        record.tags = merged;
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// UntagResource: `DELETE /2017-03-31/tags/{arn}?tagKeys=a&tagKeys=b` → 204.
pub async fn untag(
    State(svc): Svc,
    Path(arn): Path<String>,
    RawQuery(query): RawQuery,
) -> LambdaResult<StatusCode> {
    let name = tagged_function(&svc, &arn)?;
    let keys: Vec<String> = query_values(query.as_deref().unwrap_or_default(), "tagKeys");
    svc.edit(&name, |record| {
        for k in &keys {
            record.tags.remove(k);
        }
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every value of `name` in a query string (`a=1&a=2`), percent-decoded.
fn query_values(query: &str, name: &str) -> Vec<String> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(k, _)| decode(k) == name)
        .map(|(_, v)| decode(v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(principal: &str) -> PolicyStatement {
        PolicyStatement {
            sid: "apigw".into(),
            action: "lambda:InvokeFunction".into(),
            principal: principal.into(),
            source_arn: Some("arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/users".into()),
            source_account: None,
            principal_org_id: None,
            event_source_token: None,
            function_url_auth_type: None,
        }
    }

    #[test]
    fn statements_print_as_lambda_prints_them() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:echo";
        assert_eq!(
            render_statement(&statement("apigateway.amazonaws.com"), arn),
            "{\"Sid\":\"apigw\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"apigateway.amazonaws.com\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:us-east-1:123456789012:function:echo\",\"Condition\":{\"ArnLike\":{\"AWS:SourceArn\":\"arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/users\"}}}"
        );
        let mut s = statement("210987654321");
        s.source_arn = None;
        s.source_account = Some("210987654321".into());
        let v: Value = serde_json::from_str(&render_statement(&s, arn)).unwrap();
        assert_eq!(v["Principal"], json!({"AWS": "arn:aws:iam::210987654321:root"}));
        assert_eq!(
            v["Condition"],
            json!({"StringEquals": {"AWS:SourceAccount": "210987654321"}})
        );
        s.source_account = None;
        let v: Value = serde_json::from_str(&render_statement(&s, arn)).unwrap();
        assert!(v.get("Condition").is_none());
    }

    #[test]
    fn members_are_checked_against_the_model() {
        let fields = |sid: &str, action: &str, principal: &str| AddPermissionInput {
            statement_id: Some(sid.into()),
            action: Some(action.into()),
            principal: Some(principal.into()),
            ..AddPermissionInput::default()
        };
        assert!(statement_of(fields("a-b_c.1", "lambda:InvokeFunction", "s3.amazonaws.com")).is_ok());
        assert!(statement_of(fields("x", "*", "*")).is_ok());
        assert!(statement_of(fields("x", "lambda:*", "*")).is_ok());
        for (sid, action, principal) in [
            ("a b", "lambda:InvokeFunction", "p"),
            ("", "lambda:InvokeFunction", "p"),
            ("x", "s3:GetObject", "p"),
            ("x", "lambda:Invoke1", "p"),
            ("x", "lambda:InvokeFunction", "a b"),
        ] {
            let e = statement_of(fields(sid, action, principal)).unwrap_err();
            assert_eq!(
                e.code,
                super::super::error::ErrorCode::Validation,
                "{sid} {action} {principal}"
            );
        }
    }

    #[test]
    fn repeated_query_values_are_all_read() {
        assert_eq!(
            query_values("tagKeys=a&tagKeys=b%20c&other=x&tagKeys=", "tagKeys"),
            vec!["a", "b c", ""]
        );
    }
}
