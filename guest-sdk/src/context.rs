use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Invocation context, handed to every handler call.
///
/// Decoded from the context JSON the host passes to `portico_invoke`
/// (`{"requestId", "functionName", "functionVersion", "invokedFunctionArn",
/// "memoryLimitInMB", "deadlineMs", "clientContext"}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Context {
    /// The invocation's request id (AWS: `awsRequestId`).
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// Name of the function being invoked.
    #[serde(rename = "functionName")]
    pub function_name: String,
    /// Version being invoked, e.g. `$LATEST`.
    #[serde(rename = "functionVersion")]
    pub function_version: String,
    /// ARN the function was invoked with.
    #[serde(rename = "invokedFunctionArn")]
    pub invoked_function_arn: String,
    /// Configured memory size in MB.
    #[serde(rename = "memoryLimitInMB")]
    pub memory_limit_in_mb: u32,
    /// Deadline of this invocation in milliseconds since the Unix epoch.
    #[serde(rename = "deadlineMs")]
    pub deadline: u64,
    /// Client context passed by the caller (`X-Amz-Client-Context`), if any.
    #[serde(rename = "clientContext")]
    pub client_context: Option<serde_json::Value>,
}

impl Context {
    /// Time left before the deadline, measured with the WASI wall clock.
    /// Zero once the deadline has passed.
    pub fn remaining_time(&self) -> Duration {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Duration::from_millis(self.deadline.saturating_sub(now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_host_context() {
        let ctx: Context = serde_json::from_str(
            r#"{"requestId":"r-1","functionName":"hello","functionVersion":"$LATEST",
                "invokedFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:hello",
                "memoryLimitInMB":128,"deadlineMs":1700000000000,"clientContext":null}"#,
        )
        .unwrap();
        assert_eq!(ctx.request_id, "r-1");
        assert_eq!(ctx.function_name, "hello");
        assert_eq!(ctx.function_version, "$LATEST");
        assert_eq!(ctx.memory_limit_in_mb, 128);
        assert_eq!(ctx.deadline, 1_700_000_000_000);
        assert_eq!(ctx.client_context, None);
        // the deadline is in the past
        assert_eq!(ctx.remaining_time(), Duration::ZERO);
    }

    #[test]
    fn remaining_time_counts_down() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let ctx = Context {
            deadline: now.as_millis() as u64 + 10_000,
            ..Context::default()
        };
        let left = ctx.remaining_time();
        assert!(left <= Duration::from_secs(10) && left > Duration::from_secs(8));
    }

    #[test]
    fn missing_fields_default() {
        let ctx: Context = serde_json::from_str(r#"{"clientContext":{"a":1}}"#).unwrap();
        assert_eq!(ctx.request_id, "");
        assert_eq!(ctx.client_context, Some(serde_json::json!({"a": 1})));
    }
}
