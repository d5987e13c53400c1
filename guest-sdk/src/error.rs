use serde::{Deserialize, Serialize};

/// A function error, reported to the caller as
/// `{"errorMessage": ..., "errorType": ...}`.
///
/// Like `anyhow::Error`, this type deliberately does **not** implement
/// `std::error::Error` or `Display`, so that any `E: std::error::Error`
/// converts into it and `?` works in handlers. The converted error's
/// `errorType` is the type's name without its module path (e.g.
/// `ParseIntError`) and its `errorMessage` is the error's `Display` text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    /// Human-readable message (`errorMessage`).
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// Error type (`errorType`), e.g. `Unauthorized` or `Runtime.UnmarshalError`.
    #[serde(rename = "errorType")]
    pub error_type: String,
}

impl Error {
    /// An error with the given `errorType` and `errorMessage`.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Error {
            error_message: error_message.into(),
            error_type: error_type.into(),
        }
    }

    /// An error with `errorType` `"Error"` and the given message.
    pub fn msg(message: impl std::fmt::Display) -> Self {
        Error::new("Error", message.to_string())
    }

    /// The error as its JSON bytes (`{"errorMessage":..,"errorType":..}`).
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising two strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(e: E) -> Self {
        Error::new(short_type_name(std::any::type_name::<E>()), e.to_string())
    }
}

/// `core::num::error::ParseIntError` -> `ParseIntError`,
/// `a::b::Wrapper<c::D>` -> `Wrapper`.
pub(crate) fn short_type_name(full: &str) -> &str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Generic<T>(T);
    impl<T: std::fmt::Debug> std::fmt::Display for Generic<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "generic {:?}", self.0)
        }
    }
    impl<T: std::fmt::Debug> std::error::Error for Generic<T> {}

    #[test]
    fn serialises_like_lambda() {
        let e = Error::new("CustomError", "something went wrong");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"errorMessage":"something went wrong","errorType":"CustomError"}"#
        );
        assert_eq!(e.to_json(), serde_json::to_vec(&e).unwrap());
    }

    #[test]
    fn converts_std_errors() {
        let e: Error = "x".parse::<i32>().unwrap_err().into();
        assert_eq!(e.error_type, "ParseIntError");
        assert_eq!(e.error_message, "invalid digit found in string");

        let e: Error = serde_json::from_str::<i32>("nope").unwrap_err().into();
        assert_eq!(e.error_type, "Error");

        let e: Error = Generic(std::collections::HashMap::<u8, u8>::new()).into();
        assert_eq!(e.error_type, "Generic");
        assert_eq!(e.error_message, "generic {}");
    }

    #[test]
    fn question_mark_works() {
        fn parse(s: &str) -> Result<i32, Error> {
            let n: i32 = s.parse()?;
            if n < 0 {
                return Err(Error::msg(format_args!("negative: {n}")));
            }
            Ok(n)
        }
        assert_eq!(parse("5"), Ok(5));
        assert_eq!(parse("z").unwrap_err().error_type, "ParseIntError");
        assert_eq!(parse("-1"), Err(Error::new("Error", "negative: -1")));
    }

    #[test]
    fn short_names() {
        assert_eq!(short_type_name("a::b::C"), "C");
        assert_eq!(short_type_name("C"), "C");
        assert_eq!(short_type_name("a::W<b::X<c::Y>>"), "W");
    }
}
