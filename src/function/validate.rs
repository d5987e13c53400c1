//! AWS's input constraints for function configuration, with AWS's messages.

use std::collections::BTreeMap;

/// A refused input, in the two shapes Lambda uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Model constraint (length, range, pattern): `ValidationException`.
    Constraint(String),
    /// Semantic check: `InvalidParameterValueException`.
    Parameter(String),
}

/// Builds the "1 validation error detected" message AWS sends for a model
/// constraint failure.
pub fn constraint(value: &str, field: &str, rule: &str) -> Invalid {
    Invalid::Constraint(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
    ))
}

pub const MIN_MEMORY_MB: i64 = 128;
pub const MAX_MEMORY_MB: i64 = 10_240;
pub const MAX_TIMEOUT_S: i64 = 900;
const MAX_ENV_BYTES: usize = 4096;

/// Environment keys the platform sets itself and users may not override.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

pub fn memory_size(v: i64) -> Result<u32, Invalid> {
    if v < MIN_MEMORY_MB {
        return Err(constraint(
            &v.to_string(),
            "memorySize",
            "Member must have value greater than or equal to 128",
        ));
    }
    if v > 32_768 {
        return Err(constraint(
            &v.to_string(),
            "memorySize",
            "Member must have value less than or equal to 32768",
        ));
    }
    if v > MAX_MEMORY_MB {
        return Err(Invalid::Parameter(
            "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 10240".into(),
        ));
    }
    Ok(v as u32)
}

pub fn timeout(v: i64) -> Result<u32, Invalid> {
    if v < 1 {
        return Err(constraint(
            &v.to_string(),
            "timeout",
            "Member must have value greater than or equal to 1",
        ));
    }
    if v > MAX_TIMEOUT_S {
        return Err(Invalid::Parameter(format!(
            "{v} is not a valid timeout value. Timeout must be between 1 and {MAX_TIMEOUT_S} seconds."
        )));
    }
    Ok(v as u32)
}

pub fn description(d: &str) -> Result<(), Invalid> {
    if d.chars().count() > 256 {
        return Err(constraint(
            d,
            "description",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(())
}

pub fn role(r: &str) -> Result<(), Invalid> {
    let ok = r
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":iam::"))
        .is_some_and(|(partition, tail)| {
            partition.starts_with("aws")
                && tail.len() > 18
                && tail.as_bytes()[..12].iter().all(u8::is_ascii_digit)
                && tail[12..].starts_with(":role/")
                && tail[18..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_/".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(constraint(
            r,
            "role",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        ))
    }
}

pub fn environment(vars: &BTreeMap<String, String>) -> Result<(), Invalid> {
    for key in vars.keys() {
        let mut bytes = key.bytes();
        let ok = key.len() >= 2
            && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            // Environment variables are sensitive: Lambda names the member,
            // not the value.
            return Err(Invalid::Constraint(
                "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]".into(),
            ));
        }
    }
    let reserved: Vec<&str> = vars
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(Invalid::Parameter(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let size: usize = vars.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_ENV_BYTES {
        return Err(Invalid::Parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit."
                .into(),
        ));
    }
    Ok(())
}

pub fn alias_name(name: &str) -> Result<(), Invalid> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !name.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(constraint(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_bounds() {
        assert!(matches!(memory_size(64), Err(Invalid::Constraint(_))));
        assert!(matches!(memory_size(20_000), Err(Invalid::Parameter(_))));
        assert_eq!(memory_size(256), Ok(256));
    }

    #[test]
    fn timeout_bounds() {
        assert!(matches!(timeout(0), Err(Invalid::Constraint(_))));
        assert!(matches!(timeout(901), Err(Invalid::Parameter(_))));
        assert_eq!(timeout(30), Ok(30));
    }

    #[test]
    fn roles() {
        assert!(role("arn:aws:iam::000000000000:role/lambda-role").is_ok());
        assert!(role("arn:aws:iam::0000:role/x").is_err());
        assert!(role("not-a-role").is_err());
    }

    #[test]
    fn env_rules() {
        let mut vars = BTreeMap::new();
        vars.insert("GOOD_KEY".to_string(), "v".to_string());
        assert!(environment(&vars).is_ok());
        vars.insert("AWS_REGION".to_string(), "x".to_string());
        assert!(matches!(environment(&vars), Err(Invalid::Parameter(_))));
        let mut vars = BTreeMap::new();
        vars.insert("1BAD".to_string(), "v".to_string());
        // Lambda's message for a bad key names the member, never the key.
        let Err(Invalid::Constraint(message)) = environment(&vars) else {
            panic!("a key starting with a digit is refused")
        };
        assert_eq!(
            message,
            "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
        );
        let mut vars = BTreeMap::new();
        vars.insert("A".to_string(), "v".to_string());
        assert!(matches!(environment(&vars), Err(Invalid::Constraint(_))));
        let mut vars = BTreeMap::new();
        vars.insert("BIG".to_string(), "x".repeat(5000));
        assert!(matches!(environment(&vars), Err(Invalid::Parameter(_))));
    }

    #[test]
    fn alias_names() {
        assert!(alias_name("prod").is_ok());
        assert!(alias_name("123").is_err());
        assert!(alias_name("a b").is_err());
    }
}
