//! `patchOperations` as API Gateway takes them: JSON-pointer-like paths with
//! `~1` for `/`, values always strings.

use serde::Deserialize;

use super::error::{ApiGwError, ApiGwResult};

#[derive(Debug, Clone, Deserialize)]
pub struct PatchOperation {
    pub op: String,
    /// `null` when the request left it out (AWS then says `Invalid patch
    /// path null`).
    #[serde(default = "absent_path")]
    pub path: String,
    pub value: Option<String>,
    /// The source of a `copy` (or `move`) op.
    #[serde(default)]
    pub from: Option<String>,
}

fn absent_path() -> String {
    "null".to_string()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchBody {
    #[serde(default)]
    pub patch_operations: Vec<PatchOperation>,
}

impl PatchBody {
    /// Refuses ops outside JSON Patch's set (see [`check_ops`]).
    pub fn checked(self, input: &str) -> ApiGwResult<PatchBody> {
        check_ops(self.patch_operations.iter().map(|o| o.op.as_str()), input)?;
        Ok(self)
    }
}

/// Refuses ops outside JSON Patch's set, all of them at once, as AWS's
/// request validation words it (`input`: the operation's input shape, e.g.
/// `updateStageInput`; indexes count from 1).
pub fn check_ops<'a>(ops: impl IntoIterator<Item = &'a str>, input: &str) -> ApiGwResult<()> {
    const OPS: [&str; 6] = ["add", "remove", "move", "test", "replace", "copy"];
    let errors: Vec<String> = ops
        .into_iter()
        .enumerate()
        .filter(|(_, op)| !OPS.contains(op))
        .map(|(i, op)| {
            format!(
                "Value '{op}' at '{input}.patchOperations.{}.member.op' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                i + 1,
                OPS.join(", ")
            )
        })
        .collect();
    match errors.len() {
        0 => Ok(()),
        n => Err(ApiGwError::new(
            super::error::ErrorCode::Validation,
            format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                errors.join("; ")
            ),
        )),
    }
}

/// Decodes one pointer segment (`~1` → `/`, `~0` → `~`).
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

impl PatchOperation {
    /// Path segments after the leading `/`, unescaped.
    pub fn segments(&self) -> Vec<String> {
        self.path
            .trim_start_matches('/')
            .split('/')
            .map(unescape)
            .collect()
    }

    pub fn value(&self) -> ApiGwResult<&str> {
        self.value
            .as_deref()
            .ok_or_else(|| ApiGwError::bad_request(format!("Invalid patch operation specified. Must be one of: [add, remove, replace] with a value for {}", self.path)))
    }

    pub fn bool_value(&self) -> ApiGwResult<bool> {
        match self.value()? {
            "true" => Ok(true),
            "false" => Ok(false),
            v => Err(ApiGwError::bad_request(format!(
                "Invalid boolean value '{v}' for {}",
                self.path
            ))),
        }
    }

    /// AWS's answer to a path the resource does not have.
    pub fn invalid_path(&self) -> ApiGwError {
        ApiGwError::bad_request(format!("Invalid patch path {}", self.path))
    }

    /// AWS's answer to `add`/`remove`/... on a field that is only replaced.
    pub fn replace_only(&self) -> ApiGwError {
        ApiGwError::bad_request("Invalid patch operation specified. Must be one of: [replace]")
    }

    pub fn unsupported(&self) -> ApiGwError {
        ApiGwError::bad_request(format!(
            "Invalid patch path '{}' specified for op '{}'. Must be one of: [add, remove, replace] on a supported path",
            self.path, self.op
        ))
    }
}

/// Applies an add/replace/remove to a string map addressed by the op's key.
pub fn apply_to_map<V>(
    map: &mut std::collections::BTreeMap<String, V>,
    op: &PatchOperation,
    key: String,
    parse: impl Fn(&str) -> ApiGwResult<V>,
) -> ApiGwResult<()> {
    match op.op.as_str() {
        "add" | "replace" => {
            map.insert(key, parse(op.value()?)?);
            Ok(())
        }
        "remove" => {
            map.remove(&key);
            Ok(())
        }
        _ => Err(op.unsupported()),
    }
}

/// Borrows a path's segments for slice-pattern matching.
pub fn strs(segments: &[String]) -> Vec<&str> {
    segments.iter().map(String::as_str).collect()
}
