//! Function names as Lambda accepts them: a plain name, `name:qualifier`, a
//! partial ARN (`123456789012:function:name`) or a full ARN, each with an
//! optional version or alias qualifier.

/// A parsed `FunctionName` path parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
}

/// Why a `FunctionName` was refused; the caller turns it into AWS's
/// ValidationException text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFunctionName;

pub const NAME_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

pub fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_qualifier(s: &str) -> bool {
    s == "$LATEST"
        || (!s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

impl FunctionRef {
    /// Parses any of the accepted spellings.
    pub fn parse(input: &str) -> Result<FunctionRef, BadFunctionName> {
        if input.is_empty() || input.len() > 170 {
            return Err(BadFunctionName);
        }
        let parts: Vec<&str> = input.split(':').collect();
        let (name, qualifier) = match parts.as_slice() {
            [name] => (*name, None),
            [name, q] => (*name, Some(*q)),
            // 123456789012:function:name[:qualifier]
            [acct, "function", name] if is_account(acct) => (*name, None),
            [acct, "function", name, q] if is_account(acct) => (*name, Some(*q)),
            // arn:aws:lambda:region:account:function:name[:qualifier]
            ["arn", partition, "lambda", region, acct, "function", rest @ ..]
                if partition.starts_with("aws") && !region.is_empty() && is_account(acct) =>
            {
                match rest {
                    [name] => (*name, None),
                    [name, q] => (*name, Some(*q)),
                    _ => return Err(BadFunctionName),
                }
            }
            _ => return Err(BadFunctionName),
        };
        if !is_plain_name(name) {
            return Err(BadFunctionName);
        }
        if let Some(q) = qualifier
            && !is_qualifier(q)
        {
            return Err(BadFunctionName);
        }
        Ok(FunctionRef {
            name: name.to_string(),
            qualifier: qualifier.map(str::to_string),
        })
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_qualified_names() {
        assert_eq!(
            FunctionRef::parse("hello").unwrap(),
            FunctionRef {
                name: "hello".into(),
                qualifier: None
            }
        );
        let r = FunctionRef::parse("hello:prod").unwrap();
        assert_eq!(r.qualifier.as_deref(), Some("prod"));
        let r = FunctionRef::parse("hello:$LATEST").unwrap();
        assert_eq!(r.qualifier.as_deref(), Some("$LATEST"));
    }

    #[test]
    fn arns() {
        let r = FunctionRef::parse("arn:aws:lambda:us-east-1:000000000000:function:hello:3").unwrap();
        assert_eq!(r.name, "hello");
        assert_eq!(r.qualifier.as_deref(), Some("3"));
        let r = FunctionRef::parse("000000000000:function:hello").unwrap();
        assert_eq!(r.name, "hello");
        assert!(r.qualifier.is_none());
    }

    #[test]
    fn rejects_bad_names() {
        for bad in ["", "a b", "x/y", "a:b:c", "arn:aws:s3:::bucket", &"x".repeat(65)] {
            assert!(FunctionRef::parse(bad).is_err(), "{bad}");
        }
    }
}
