//! Lambda's JSON shapes (PascalCase, as botocore sends and expects them),
//! kept apart from the domain types in [`crate::function`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::function::{Alias, FunctionConfig, Version};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeInput {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    pub image_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentInput {
    pub variables: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorageInput {
    pub size: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFunctionInput {
    pub function_name: Option<String>,
    pub role: Option<String>,
    pub code: Option<CodeInput>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub publish: Option<bool>,
    pub environment: Option<EnvironmentInput>,
    pub architectures: Option<Vec<String>>,
    pub ephemeral_storage: Option<EphemeralStorageInput>,
    pub package_type: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateCodeInput {
    pub zip_file: Option<String>,
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Option<String>,
    pub image_uri: Option<String>,
    pub publish: Option<bool>,
    pub dry_run: Option<bool>,
    pub revision_id: Option<String>,
    pub architectures: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConfigInput {
    pub role: Option<String>,
    pub handler: Option<String>,
    pub runtime: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub environment: Option<EnvironmentInput>,
    pub ephemeral_storage: Option<EphemeralStorageInput>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishVersionInput {
    pub code_sha256: Option<String>,
    pub description: Option<String>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingConfigInput {
    pub additional_version_weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasInput {
    pub name: Option<String>,
    pub function_version: Option<String>,
    pub description: Option<String>,
    pub routing_config: Option<RoutingConfigInput>,
    pub revision_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConcurrencyInput {
    pub reserved_concurrent_executions: Option<i64>,
}

/// When a `FunctionConfiguration` is shown, which decides its state fields.
/// Portico is ready as soon as a change is committed, but Lambda answers a
/// change before it settles, and clients (and recorded sessions) expect that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Answering CreateFunction or PublishVersion: `State: Pending`.
    Created,
    /// Answering UpdateFunctionCode/Configuration: `LastUpdateStatus: InProgress`.
    Updated,
    /// Read back (GetFunction, versions): `Active`, `Successful`.
    Settled,
    /// In ListFunctions, which leaves the state fields out.
    Listed,
}

/// `FunctionConfiguration`. `qualified_latest` asks for `…:$LATEST` in the
/// ARN, as version listings show it.
pub fn function_configuration(
    c: &FunctionConfig,
    arn_base: &str,
    qualified_latest: bool,
    shown: Shown,
) -> Value {
    let arn = match c.version {
        Version::Latest if !qualified_latest => arn_base.to_string(),
        v => format!("{arn_base}:{v}"),
    };
    let mut v = json!({
        "FunctionName": c.name,
        "FunctionArn": arn,
        "Role": c.role,
        "CodeSize": c.code.package_size,
        "Description": c.description,
        "Timeout": c.timeout_s,
        "MemorySize": c.memory_mb,
        "LastModified": c.last_modified,
        "CodeSha256": c.code.package_sha256,
        "Version": c.version.to_string(),
        "Environment": { "Variables": c.environment },
        "TracingConfig": { "Mode": "PassThrough" },
        "RevisionId": c.revision_id,
        "PackageType": "Zip",
        "Architectures": c.architectures,
        "EphemeralStorage": { "Size": c.ephemeral_storage_mb },
        "SnapStart": { "ApplyOn": "None", "OptimizationStatus": "Off" },
        "LoggingConfig": { "LogFormat": "Text", "LogGroup": format!("/aws/lambda/{}", c.name) },
    });
    const REASON: &str = "The function is being created.";
    match shown {
        Shown::Created => {
            v["State"] = "Pending".into();
            v["StateReason"] = REASON.into();
            v["StateReasonCode"] = "Creating".into();
        }
        Shown::Updated => {
            v["State"] = "Active".into();
            v["LastUpdateStatus"] = "InProgress".into();
            v["LastUpdateStatusReason"] = REASON.into();
            v["LastUpdateStatusReasonCode"] = "Creating".into();
        }
        Shown::Settled => {
            v["State"] = "Active".into();
            v["LastUpdateStatus"] = "Successful".into();
        }
        Shown::Listed => {}
    }
    if let Some(r) = &c.runtime {
        v["Runtime"] = r.clone().into();
    }
    if let Some(h) = &c.handler {
        v["Handler"] = h.clone().into();
    }
    v
}

pub fn alias_configuration(a: &Alias, arn_base: &str) -> Value {
    let mut v = json!({
        "AliasArn": format!("{arn_base}:{}", a.name),
        "Name": a.name,
        "FunctionVersion": a.version.to_string(),
        "Description": a.description,
        "RevisionId": a.revision_id,
    });
    if !a.additional_weights.is_empty() {
        v["RoutingConfig"] = json!({ "AdditionalVersionWeights": a.additional_weights });
    }
    v
}
