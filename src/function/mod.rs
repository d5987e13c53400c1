//! The function model: what a user declared about a Lambda-style function
//! (configuration, published versions, aliases), independent of how it is
//! stored or executed. Validation of user input against AWS's constraints
//! lives here so every entry point (wire API, CLI, import) gets the same rules.

pub mod name;
pub mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which guest ABI a module implements (see `guest-sdk/ABI.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuestShape {
    /// A plain WASI preview1 command: event on stdin, result on stdout,
    /// a fresh instance per invocation.
    Command,
    /// An SDK (reactor) module exporting `portico_invoke`: instances stay warm.
    Sdk,
}

/// A version selector: the mutable `$LATEST` or an immutable published number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Version {
    Latest,
    Published(u64),
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        if s == "$LATEST" {
            return Some(Version::Latest);
        }
        if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().ok().filter(|n| *n > 0).map(Version::Published);
        }
        None
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Version::Latest => f.write_str("$LATEST"),
            Version::Published(n) => write!(f, "{n}"),
        }
    }
}

/// The code behind a version: the wasm bytes are stored content-addressed by
/// their SHA-256 (hex); `package_sha256` is AWS's `CodeSha256`, the base64
/// SHA-256 of what the user uploaded (a zip or the raw wasm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRef {
    pub wasm_sha256: String,
    pub package_sha256: String,
    pub package_size: u64,
    pub shape: GuestShape,
}

/// The configuration of one version of a function (`$LATEST` or published).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionConfig {
    pub name: String,
    pub version: Version,
    pub description: String,
    pub role: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub environment: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub ephemeral_storage_mb: u32,
    pub code: CodeRef,
    /// `2019-08-14T22:26:11.234+0000`, as Lambda prints it.
    pub last_modified: String,
    pub revision_id: String,
}

/// An alias: a named pointer to a version, with optional weighted routing to
/// a second version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    pub function: String,
    pub name: String,
    pub version: Version,
    pub description: String,
    pub additional_weights: BTreeMap<String, f64>,
    pub revision_id: String,
}

/// Everything stored about one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRecord {
    pub latest: FunctionConfig,
    pub versions: BTreeMap<u64, FunctionConfig>,
    pub aliases: BTreeMap<String, Alias>,
    pub next_version: u64,
    pub reserved_concurrency: Option<u32>,
    /// Resource-based policy statements (AddPermission), per qualifier
    /// (`""` for the function itself), in the order they were added.
    #[serde(default)]
    pub policies: BTreeMap<String, Vec<PolicyStatement>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// One statement of a function's resource-based policy, as AddPermission
/// took it. Stored, listed and removed; invocations are not checked
/// against it (the gateway and the Lambda API share one trust domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyStatement {
    pub sid: String,
    pub action: String,
    pub principal: String,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
    pub principal_org_id: Option<String>,
    pub event_source_token: Option<String>,
    pub function_url_auth_type: Option<String>,
}

impl FunctionRecord {
    pub fn config(&self, v: Version) -> Option<&FunctionConfig> {
        match v {
            Version::Latest => Some(&self.latest),
            Version::Published(n) => self.versions.get(&n),
        }
    }
}

pub const DEFAULT_MEMORY_MB: u32 = 128;
pub const DEFAULT_TIMEOUT_S: u32 = 3;
/// Synchronous payload limit, each way.
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Asynchronous (`Event`) payload limit.
pub const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;
/// The response limit Lambda reports (6 MB plus framing).
pub const MAX_RESPONSE_PAYLOAD: usize = 6_291_556;

/// Lambda's `LastModified` timestamp format.
pub fn now_timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

pub fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
