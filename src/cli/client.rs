//! The blocking HTTP client of the management API: URL building with
//! percent-encoded labels, one request (SigV4-signed when AWS credentials
//! are in the environment), and turning connection failures and AWS-style
//! error answers (`x-amzn-ErrorType` + JSON body) into errors.

use std::fmt;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use ureq::http::{HeaderMap, Method, Request};

/// Where `portico serve` listens for management calls by default.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8081";

/// Largest response body read (invoke results are at most 6 MB in Lambda).
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// Everything but RFC 3986 unreserved characters is escaped in a path label
/// or query component, so `:` in ARNs and `$` in `$LATEST` travel safely.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path label or query component.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Trims the endpoint and defaults its scheme to `http://`.
pub fn normalize_endpoint(raw: &str) -> Result<String> {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        bail!("--endpoint is empty (expected something like {DEFAULT_ENDPOINT})");
    }
    if trimmed.contains("://") {
        Ok(trimmed.to_string())
    } else {
        Ok(format!("http://{trimmed}"))
    }
}

/// `endpoint` + `path` + `?k=v&…`. `path` must already have its labels
/// encoded (see [`function_path`]); query keys and values are encoded here.
pub fn build_url(endpoint: &str, path: &str, query: &[(&str, &str)]) -> String {
    let mut url = format!("{endpoint}{path}");
    for (i, (k, v)) in query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&encode(k));
        url.push('=');
        url.push_str(&encode(v));
    }
    url
}

/// `/{api_version}/functions/{name}{suffix}` with the name percent-encoded.
pub fn function_path(api_version: &str, name: &str, suffix: &str) -> String {
    format!("/{api_version}/functions/{}{suffix}", encode(name))
}

/// An error answer from the API (status >= 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// `x-amzn-ErrorType` without any `:…` suffix, or `HTTP <status>`.
    pub code: String,
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Reads an AWS-style error answer. The message key is `message` or
/// `Message`; throttling answers add a `Reason`.
pub fn parse_api_error(status: u16, error_type: Option<&str>, body: &[u8]) -> ApiError {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let field = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let header_code = error_type
        .map(|t| t.split(':').next().unwrap_or(t).trim().to_string())
        .filter(|t| !t.is_empty());
    let known = header_code.is_some();
    let code = header_code
        .or_else(|| field("__type").map(|t| t.rsplit('#').next().unwrap_or(&t).to_string()))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let mut message = field("message")
        .or_else(|| field("Message"))
        .or_else(|| field("errorMessage"))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                "empty response".to_string()
            } else {
                text.chars().take(500).collect()
            }
        });
    if let Some(reason) = field("Reason") {
        message = format!("{message} ({reason})");
    }
    if !known && json.is_none() {
        message.push_str(" — not an AWS-style error answer; is this the Portico management API?");
    }
    ApiError {
        status,
        code,
        message,
    }
}

/// What a request sends.
pub enum Payload {
    None,
    Json(Value),
    Raw(Vec<u8>),
}

/// A successful (status < 400) answer.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON; an empty body (204) is `{}`.
    pub fn json(&self) -> Result<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&self.body).context("the management API answered with invalid JSON")
    }
}

/// Credentials for SigV4, from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
/// and optionally `AWS_SESSION_TOKEN`; region from `AWS_REGION`,
/// `AWS_DEFAULT_REGION` or `us-east-1`.
struct Signer {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: String,
}

impl Signer {
    fn from_env() -> Option<Signer> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(Signer {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
            region: var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_string()),
        })
    }

    /// The headers that sign a request to `url` (`host` included): service
    /// `lambda` for `/2015-03-31/` API paths, else `apigateway`.
    fn sign(
        &self,
        method: &str,
        api_path: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>> {
        use crate::iam::sigv4;
        let rest = url
            .split_once("://")
            .map(|(_, r)| r)
            .ok_or_else(|| anyhow!("invalid request URL {url}"))?;
        let (authority, path_query) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (raw_path, raw_query) = match path_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_query, None),
        };
        let service = if api_path.starts_with("/2015-03-31/") {
            "lambda"
        } else {
            "apigateway"
        };
        let mut signed: Vec<(&str, &str)> = vec![("host", authority)];
        signed.extend_from_slice(headers);
        let added = sigv4::sign(
            &sigv4::UnsignedRequest {
                method,
                raw_path,
                raw_query,
                headers: &signed,
                body,
            },
            &sigv4::SigningParams {
                access_key_id: &self.access_key_id,
                secret_access_key: &self.secret_access_key,
                session_token: self.session_token.as_deref(),
                region: &self.region,
                service,
                time: chrono::Utc::now(),
            },
        );
        let mut out = vec![("host".to_string(), authority.to_string())];
        out.extend(added.into_iter().map(|(k, v)| (k.to_string(), v)));
        Ok(out)
    }
}

/// A client of one management endpoint. With AWS credentials in the
/// environment every request is SigV4-signed (for `--admin-auth sigv4`).
pub struct Client {
    endpoint: String,
    agent: ureq::Agent,
    signer: Option<Signer>,
}

impl Client {
    pub fn new(endpoint: &str) -> Result<Client> {
        let endpoint = normalize_endpoint(endpoint)?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .user_agent(concat!("portico-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            endpoint,
            agent: ureq::Agent::new_with_config(config),
            signer: Signer::from_env(),
        })
    }

    /// Sends one request; answers with status >= 400 become [`ApiError`].
    pub fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        payload: Payload,
    ) -> Result<Reply> {
        let url = build_url(&self.endpoint, path, query);
        let (body, content_type) = match payload {
            Payload::None => (None, None),
            Payload::Json(v) => (
                Some(serde_json::to_vec(&v).context("encoding the request")?),
                Some("application/json"),
            ),
            Payload::Raw(bytes) => (Some(bytes), None),
        };
        let mut all_headers = headers.to_vec();
        if let Some(ct) = content_type {
            all_headers.push(("content-type", ct));
        }
        let signature = match &self.signer {
            Some(s) => s.sign(
                method.as_str(),
                path,
                &url,
                &all_headers,
                body.as_deref().unwrap_or_default(),
            )?,
            None => Vec::new(),
        };
        let mut builder = Request::builder().method(method).uri(&url);
        for (k, v) in &all_headers {
            builder = builder.header(*k, *v);
        }
        for (k, v) in &signature {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let sent = match body {
            None => builder.body(()).map(|r| self.agent.run(r)),
            Some(bytes) => builder.body(bytes).map(|r| self.agent.run(r)),
        };
        let mut resp = sent
            .map_err(|e| anyhow!("invalid request URL {url}: {e}"))?
            .map_err(|e| self.transport_error(e))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| self.transport_error(e))?;
        let headers = resp.headers().clone();
        if status >= 400 {
            let error_type = headers.get("x-amzn-errortype").and_then(|v| v.to_str().ok());
            return Err(parse_api_error(status, error_type, &body).into());
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Reply> {
        self.call(Method::GET, path, query, &[], Payload::None)
    }

    pub fn delete(&self, path: &str, query: &[(&str, &str)]) -> Result<Reply> {
        self.call(Method::DELETE, path, query, &[], Payload::None)
    }

    pub fn post_json(&self, path: &str, body: Value) -> Result<Reply> {
        self.call(Method::POST, path, &[], &[], Payload::Json(body))
    }

    pub fn put_json(&self, path: &str, body: Value) -> Result<Reply> {
        self.call(Method::PUT, path, &[], &[], Payload::Json(body))
    }

    fn transport_error(&self, e: ureq::Error) -> anyhow::Error {
        let endpoint = &self.endpoint;
        match e {
            ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Timeout(_) => anyhow!(
                "cannot reach the Portico management API at {endpoint}: {e} — is `portico serve` running?"
            ),
            ureq::Error::BodyExceedsLimit(n) => {
                anyhow!("the answer from {endpoint} is larger than {n} bytes")
            }
            other if endpoint.starts_with("https://") => anyhow!(
                "cannot reach the Portico management API at {endpoint}: {other} \
                 (the portico CLI speaks plain HTTP; use an http:// endpoint)"
            ),
            other => anyhow!("request to the Portico management API at {endpoint} failed: {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_arns_and_latest() {
        assert_eq!(encode("hello"), "hello");
        assert_eq!(encode("my-fn_1.x~"), "my-fn_1.x~");
        assert_eq!(encode("hello:$LATEST"), "hello%3A%24LATEST");
        assert_eq!(
            encode("arn:aws:lambda:us-east-1:000000000000:function:hello"),
            "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Ahello"
        );
        assert_eq!(encode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn builds_paths_and_urls() {
        assert_eq!(
            function_path("2015-03-31", "hello:live", "/invocations"),
            "/2015-03-31/functions/hello%3Alive/invocations"
        );
        assert_eq!(
            build_url("http://h:1", "/2015-03-31/functions", &[]),
            "http://h:1/2015-03-31/functions"
        );
        assert_eq!(
            build_url("http://h:1", "/x", &[("Qualifier", "$LATEST"), ("Marker", "a=b")]),
            "http://h:1/x?Qualifier=%24LATEST&Marker=a%3Db"
        );
    }

    #[test]
    fn normalizes_endpoints() {
        assert_eq!(
            normalize_endpoint("http://127.0.0.1:8081/").unwrap(),
            "http://127.0.0.1:8081"
        );
        assert_eq!(
            normalize_endpoint(" localhost:9000 ").unwrap(),
            "http://localhost:9000"
        );
        assert!(normalize_endpoint("  ").is_err());
    }

    #[test]
    fn parses_error_answers() {
        let e = parse_api_error(
            404,
            Some("ResourceNotFoundException"),
            br#"{"Type":"User","Message":"Function not found: arn"}"#,
        );
        assert_eq!(
            e.to_string(),
            "ResourceNotFoundException: Function not found: arn"
        );
        let e = parse_api_error(
            400,
            Some("InvalidParameterValueException:http://internal.amazon.com/"),
            br#"{"Type":"User","message":"bad"}"#,
        );
        assert_eq!(e.to_string(), "InvalidParameterValueException: bad");
        let e = parse_api_error(
            429,
            Some("TooManyRequestsException"),
            br#"{"Type":"User","message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}"#,
        );
        assert_eq!(
            e.to_string(),
            "TooManyRequestsException: Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded)"
        );
        let e = parse_api_error(404, None, b"");
        assert_eq!(e.code, "HTTP 404");
        assert!(e.message.starts_with("empty response"));
    }
}
