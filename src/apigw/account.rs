//! The API Gateway `Account` resource (GetAccount, UpdateAccount): what API
//! Gateway keeps for the whole account rather than for one API. Of it only
//! the CloudWatch role ARN can be changed, and is stored; the rest is fixed
//! as AWS reports it for an account with default quotas: throttle limits of
//! 10,000 requests a second with a burst of 5,000, usage plans enabled,
//! API key version 4.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiGwError, ApiGwResult};
use super::handlers::parse;
use super::patch::{PatchBody, PatchOperation, strs};
use super::service::ApiGwService;

/// The store setting the account is kept under.
pub const SETTING: &str = "apigateway-account";

/// The account's settings that UpdateAccount can change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_role_arn: Option<String>,
}

/// The `Account` shape GetAccount and UpdateAccount answer with.
pub fn wire(account: &Account) -> Value {
    let mut out = json!({
        "throttleSettings": { "burstLimit": 5000, "rateLimit": 10000.0 },
        "features": ["UsagePlans"],
        "apiKeyVersion": "4",
    });
    if let Some(arn) = &account.cloudwatch_role_arn {
        out["cloudwatchRoleArn"] = Value::from(arn.as_str());
    }
    out
}

/// `GET /account`.
pub async fn get_account(State(svc): State<Arc<ApiGwService>>) -> ApiGwResult<Json<Value>> {
    Ok(Json(wire(&svc.account_settings()?)))
}

/// `PATCH /account`.
pub async fn update_account(State(svc): State<Arc<ApiGwService>>, body: Bytes) -> ApiGwResult<Json<Value>> {
    let patch: PatchBody = parse::<PatchBody>(&body)?.checked("updateAccountInput")?;
    let account = svc
        .edit_account(|account| {
            for op in &patch.patch_operations {
                apply(account, op)?;
            }
            Ok(())
        })
        .await?;
    Ok(Json(wire(&account)))
}

fn apply(account: &mut Account, op: &PatchOperation) -> ApiGwResult<()> {
    let segments = op.segments();
    match (op.op.as_str(), strs(&segments).as_slice()) {
        ("replace", ["cloudwatchRoleArn"]) => {
            account.cloudwatch_role_arn = match op.value.as_deref() {
                None | Some("") => None,
                Some(arn) if is_role_arn(arn) => Some(arn.to_string()),
                Some(_) => return Err(ApiGwError::bad_request("The role ARN is not well formed")),
            };
            Ok(())
        }
        (_, ["cloudwatchRoleArn"]) => Err(op.replace_only()),
        // Usage plans are always enabled: enabling them again changes nothing.
        ("add", ["features"]) if op.value.as_deref() == Some("UsagePlans") => Ok(()),
        (_, ["features"]) => Err(op.unsupported()),
        _ => Err(op.invalid_path()),
    }
}

/// `arn:<partition>:iam::<12-digit account>:role/<path and name>`.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::super::error::ErrorCode;
    use super::*;

    fn op(op: &str, path: &str, value: Option<&str>) -> PatchOperation {
        PatchOperation {
            op: op.into(),
            path: path.into(),
            value: value.map(Into::into),
            from: None,
        }
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/apigw-logs"));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/service/apigw"));
        for bad in [
            "",
            "apigw-logs",
            "arn:aws:iam::123456789012:user/ann",
            "arn:aws:iam::1234:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:s3::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }

    #[test]
    fn only_the_role_arn_changes() {
        let mut account = Account::default();
        let arn = "arn:aws:iam::123456789012:role/apigw-logs";
        apply(&mut account, &op("replace", "/cloudwatchRoleArn", Some(arn))).unwrap();
        assert_eq!(account.cloudwatch_role_arn.as_deref(), Some(arn));
        assert_eq!(wire(&account)["cloudwatchRoleArn"], arn);
        apply(&mut account, &op("add", "/features", Some("UsagePlans"))).unwrap();
        for refused in [
            op("replace", "/cloudwatchRoleArn", Some("not-an-arn")),
            op("remove", "/cloudwatchRoleArn", None),
            op("replace", "/throttleSettings/rateLimit", Some("5")),
            op("remove", "/features", Some("UsagePlans")),
        ] {
            let e = apply(&mut account, &refused).unwrap_err();
            assert!(matches!(e.code, ErrorCode::BadRequest), "{refused:?}");
        }
        assert_eq!(account.cloudwatch_role_arn.as_deref(), Some(arn));
        apply(&mut account, &op("replace", "/cloudwatchRoleArn", Some(""))).unwrap();
        assert_eq!(account, Account::default());
        assert!(wire(&account).get("cloudwatchRoleArn").is_none());
    }
}
