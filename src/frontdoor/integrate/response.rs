//! The integration response of the non-proxy integrations: which
//! integration response answers (`selectionPattern` against a Lambda
//! `errorMessage` or an HTTP status, else the default one), its
//! `responseParameters`, the response template chosen by `Accept`,
//! `$context.responseOverride.*`, and the binary conversions of
//! `contentHandling` — what the client receives.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;

use super::mapping::{BackendAnswer, MappingError, ResponseMapping};
use super::request::{CompiledTemplate, compile_templates};
use super::{ContentHandling, ExecutionLog, RequestView};
use crate::apigw::model::IntegrationResponse;
use crate::frontdoor::proxy;
use crate::frontdoor::respond::{GatewayResponseType, GatewayResponses};
use crate::vtl::{JsonBody, Variables};

/// One integration response, compiled.
struct Compiled {
    status: u16,
    /// Anchored at both ends (Java's `matches`); None = the default response.
    pattern: Option<regex::Regex>,
    mapping: ResponseMapping,
    templates: Vec<(String, CompiledTemplate)>,
    content_handling: Option<ContentHandling>,
}

impl Compiled {
    /// The response template for an `Accept` header: its first type's, else
    /// `application/json`'s, else the first.
    fn template_for(&self, accept: Option<&str>) -> Option<&(String, CompiledTemplate)> {
        let first_accept = accept
            .and_then(|a| a.split(',').next())
            .map(|a| a.split(';').next().unwrap_or(a).trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty() && a != "*/*");
        first_accept
            .as_deref()
            .and_then(|a| self.templates.iter().find(|(ct, _)| ct == a))
            .or_else(|| self.templates.iter().find(|(ct, _)| ct == "application/json"))
            .or_else(|| self.templates.first())
    }
}

/// A method's integration responses.
#[derive(Default)]
pub struct IntegrationResponses {
    entries: Vec<Compiled>,
}

/// What a backend answered.
pub struct Answer<'a> {
    /// Matched against `selectionPattern`s: a Lambda error's `errorMessage`
    /// (None for a successful call, which takes the default response), or
    /// an HTTP/MOCK status code.
    pub selector: Option<&'a str>,
    pub headers: &'a [super::HeaderPair<'a>],
    pub body: &'a [u8],
    /// `body` already read as JSON, for the response template (see
    /// [`IntegrationResponses::reads_result_as_json`]).
    pub read_body: Option<&'a JsonBody>,
    /// The payload is binary (its Content-Type is one of binaryMediaTypes).
    pub binary: bool,
}

impl<'a> Answer<'a> {
    /// An answer with no headers and a text body (Lambda's, MOCK's).
    pub fn text(selector: Option<&'a str>, body: &'a [u8], read_body: Option<&'a JsonBody>) -> Answer<'a> {
        Answer {
            selector,
            headers: &[],
            body,
            read_body,
            binary: false,
        }
    }
}

/// No integration response matches and none is the default.
#[derive(Debug, PartialEq)]
pub struct NoMatch;

impl IntegrationResponses {
    pub fn compile(
        map: &BTreeMap<String, IntegrationResponse>,
    ) -> Result<IntegrationResponses, MappingError> {
        let mut entries = Vec::with_capacity(map.len());
        for r in map.values() {
            let status = r
                .status_code
                .parse::<u16>()
                .ok()
                .filter(|s| (100..=599).contains(s))
                .ok_or_else(|| MappingError(format!("Invalid status code {}", r.status_code)))?;
            let pattern = match r.selection_pattern.as_deref().filter(|p| !p.is_empty()) {
                None => None,
                Some(p) => Some(
                    regex::Regex::new(&format!("^(?:{p})$"))
                        .map_err(|e| MappingError(format!("Invalid selection pattern {p}: {e}")))?,
                ),
            };
            entries.push(Compiled {
                status,
                pattern,
                mapping: ResponseMapping::compile(&r.response_parameters)?,
                templates: compile_templates(&r.response_templates),
                content_handling: ContentHandling::parse(r.content_handling.as_deref()),
            });
        }
        Ok(IntegrationResponses { entries })
    }

    /// The integration response for a selector: the first pattern that
    /// matches the whole text, else the default.
    fn select(&self, selector: Option<&str>) -> Option<&Compiled> {
        selector
            .and_then(|s| {
                self.entries
                    .iter()
                    .find(|e| e.pattern.as_ref().is_some_and(|p| p.is_match(s)))
            })
            .or_else(|| self.entries.iter().find(|e| e.pattern.is_none()))
    }

    /// Whether a successful result's response template (the default
    /// response's, for this request's `Accept`) may read the result as
    /// JSON: then the caller reads it ahead, which also checks it is JSON.
    pub fn reads_result_as_json(&self, view: &RequestView<'_>) -> bool {
        self.select(None)
            .and_then(|chosen| chosen.template_for(view.known_header_value(&axum::http::header::ACCEPT)))
            .is_some_and(|(_, t)| t.as_ref().is_ok_and(|t| t.reads_body_as_json()))
    }

    /// Builds the method response.
    pub fn respond(
        &self,
        answer: &Answer<'_>,
        view: &RequestView<'_>,
        binary_media_types: &[String],
        log: &mut ExecutionLog,
    ) -> Result<Response, NoMatch> {
        let Some(chosen) = self.select(answer.selector) else {
            log.step(|| {
                format!(
                    "Execution failed due to configuration error: No match for output mapping and no default output mapping configured. Endpoint Response Status Code: {}",
                    answer.selector.unwrap_or("200")
                )
            });
            return Err(NoMatch);
        };
        let mut status = chosen.status;
        let mut headers = chosen.mapping.apply(
            &BackendAnswer {
                headers: answer.headers,
                body: answer.body,
            },
            view,
        );
        let accept = view.known_header_value(&axum::http::header::ACCEPT);
        let template = chosen.template_for(accept);
        let mut content_type = "application/json".to_string();
        let (payload, binary) = match template {
            Some((ct, compiled)) => {
                let Ok(t) = compiled else {
                    return Ok(crate::frontdoor::internal_error());
                };
                content_type = ct.clone();
                let body = if answer.binary {
                    std::borrow::Cow::Owned(base64::engine::general_purpose::STANDARD.encode(answer.body))
                } else if let Some(read) = answer.read_body {
                    // The same bytes, read (and so checked as UTF-8) already.
                    std::borrow::Cow::Borrowed(read.text())
                } else {
                    super::text_of(answer.body)
                };
                let inputs = view.template_inputs();
                let query = view.query_pairs();
                let vars = Variables {
                    body: &body,
                    path: &inputs.path,
                    querystring: &query,
                    header: &inputs.header,
                    context: view,
                    stage_variables: view.ctx.stage_variables,
                };
                // A body read ahead is this text's reading only when it was
                // not re-encoded as base64 text.
                let read_body = answer.read_body.filter(|_| !answer.binary);
                match t.render_read(&vars, read_body) {
                    Ok(rendered) => {
                        // The request template's `responseOverride` holds
                        // unless this template overrides it again (a
                        // template that reads it gets it seeded, so its
                        // own list already repeats it).
                        if let Some(prior) = view.lazy.request_overrides.get() {
                            apply_response_overrides(prior, &mut status, &mut headers);
                        }
                        apply_response_overrides(&rendered.overrides, &mut status, &mut headers);
                        (rendered.output.into_bytes(), false)
                    }
                    Err(e) => {
                        log.step(|| format!("Execution failed due to configuration error: Unable to transform response: {e}"));
                        return Ok(crate::frontdoor::internal_error());
                    }
                }
            }
            None => {
                // The request template's `responseOverride` still applies.
                if let Some(prior) = view.lazy.request_overrides.get() {
                    apply_response_overrides(prior, &mut status, &mut headers);
                }
                (answer.body.to_vec(), answer.binary)
            }
        };
        log.step(|| {
            format!(
                "Method response body after transformations: {}",
                String::from_utf8_lossy(&payload)
            )
        });
        let body = match convert(
            payload,
            binary,
            accept,
            binary_media_types,
            chosen.content_handling,
        ) {
            Ok(b) => b,
            Err(why) => {
                log.step(|| format!("Execution failed due to configuration error: {why}"));
                return Ok(crate::frontdoor::internal_error());
            }
        };
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&content_type) {
            h.insert("content-type", v);
        }
        for (k, v) in &headers {
            let Some(k) = method_response_header_name(k) else {
                continue;
            };
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                h.insert(name, value);
            }
        }
        Ok(resp)
    }
}

/// Method response headers API Gateway sends under another name,
/// `x-amzn-Remapped-<name>`, because it sets them itself (recorded against
/// AWS for `AWS` and `HTTP` integrations: LocalStack's
/// `TestApiGatewayHeaderRemapping` snapshots).
const REMAPPED_IN_METHOD_RESPONSE: &[&str] = &[
    "authorization",
    "connection",
    "content-length",
    "content-md5",
    "date",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "trailer",
    "upgrade",
    "user-agent",
    "www-authenticate",
];

/// The name a mapped method response header goes out under: its own, its
/// `x-amzn-Remapped-` form, or none (`Transfer-Encoding` is dropped).
fn method_response_header_name(name: &str) -> Option<std::borrow::Cow<'_, str>> {
    let lower = name.to_ascii_lowercase();
    if lower == "transfer-encoding" {
        None
    } else if REMAPPED_IN_METHOD_RESPONSE.contains(&lower.as_str()) {
        Some(format!("x-amzn-Remapped-{name}").into())
    } else {
        Some(name.into())
    }
}

/// Through the integration responses; no match and no default is AWS's
/// API_CONFIGURATION_ERROR.
pub fn answer(
    integration_responses: &IntegrationResponses,
    answer: &Answer<'_>,
    view: &RequestView<'_>,
    binary_media_types: &[String],
    responses: &GatewayResponses,
    log: &mut ExecutionLog,
) -> Response {
    match integration_responses.respond(answer, view, binary_media_types, log) {
        Ok(r) => r,
        Err(NoMatch) => responses.render(GatewayResponseType::ApiConfigurationError, None, view.ctx),
    }
}

/// The response side of AWS's conversion table: only the first `Accept`
/// type counts; with no binaryMediaTypes everything is text.
fn convert(
    payload: Vec<u8>,
    binary: bool,
    accept: Option<&str>,
    binary_media_types: &[String],
    handling: Option<ContentHandling>,
) -> Result<Vec<u8>, String> {
    let accepts_binary = proxy::accepts_binary(accept, binary_media_types);
    let encode = |p: &[u8]| base64::engine::general_purpose::STANDARD.encode(p).into_bytes();
    let decode = |p: &[u8]| -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(p).map_err(|_| "Unable to base64-decode the response".to_string())?;
        proxy::decode_base64(text).map_err(|e| format!("Unable to base64-decode the response: {}", e.0))
    };
    match (binary, accepts_binary, handling) {
        (true, true, Some(ContentHandling::ConvertToText)) => Ok(encode(&payload)),
        (true, true, _) => Ok(payload),
        (true, false, Some(ContentHandling::ConvertToBinary)) => Ok(payload),
        (true, false, _) => Ok(encode(&payload)),
        (false, true, Some(ContentHandling::ConvertToText)) => Ok(payload),
        (false, true, _) => decode(&payload),
        (false, false, Some(ContentHandling::ConvertToBinary)) => decode(&payload),
        (false, false, _) => Ok(payload),
    }
}

/// `$context.responseOverride.status` / `.header.X` on the method response.
fn apply_response_overrides(
    o: &crate::vtl::Overrides,
    status: &mut u16,
    headers: &mut Vec<(String, String)>,
) {
    if let Some(s) = o.status {
        *status = s;
    }
    for (k, v) in &o.response_header {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
        headers.push((k.clone(), v.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn responses(entries: &[(&str, Option<&str>)]) -> IntegrationResponses {
        let map = entries
            .iter()
            .map(|(code, pattern)| {
                (
                    code.to_string(),
                    IntegrationResponse {
                        status_code: code.to_string(),
                        selection_pattern: pattern.map(str::to_string),
                        response_parameters: BTreeMap::new(),
                        response_templates: BTreeMap::new(),
                        content_handling: None,
                        sent_empty: Vec::new(),
                    },
                )
            })
            .collect();
        IntegrationResponses::compile(&map).unwrap()
    }

    fn chosen(r: &IntegrationResponses, selector: Option<&str>) -> Option<u16> {
        r.select(selector).map(|c| c.status)
    }

    #[test]
    fn selection_pattern_matches_the_whole_text() {
        let r = responses(&[("200", None), ("400", Some("Bad.*")), ("500", Some(".*Error.*"))]);
        assert_eq!(chosen(&r, None), Some(200));
        assert_eq!(chosen(&r, Some("Bad input")), Some(400));
        assert_eq!(
            chosen(&r, Some("Very Bad input")),
            Some(200),
            "anchored at the start"
        );
        assert_eq!(chosen(&r, Some("Some Error here")), Some(500));
        let http = responses(&[
            ("200", Some("2\\d{2}")),
            ("404", Some("404")),
            ("500", Some("5\\d{2}")),
        ]);
        assert_eq!(chosen(&http, Some("201")), Some(200));
        assert_eq!(
            chosen(&http, Some("4040")),
            None,
            "anchored at the end; no default"
        );
        assert_eq!(chosen(&http, Some("503")), Some(500));
    }

    #[test]
    fn empty_pattern_is_the_default() {
        let r = responses(&[("200", Some("")), ("400", Some("4\\d{2}"))]);
        assert_eq!(chosen(&r, Some("302")), Some(200));
    }

    #[test]
    fn bad_pattern_is_a_configuration_error() {
        let map = [(
            "400".to_string(),
            IntegrationResponse {
                status_code: "400".into(),
                selection_pattern: Some("(".into()),
                response_parameters: BTreeMap::new(),
                response_templates: BTreeMap::new(),
                content_handling: None,
                sent_empty: Vec::new(),
            },
        )]
        .into_iter()
        .collect();
        assert!(IntegrationResponses::compile(&map).is_err());
    }

    #[test]
    fn conversion_table() {
        let bmt = vec!["image/png".to_string()];
        let png = Some("image/png");
        let json = Some("application/json");
        let b64 = b"aGk=".to_vec();
        let raw = b"hi".to_vec();
        // Binary payload.
        assert_eq!(convert(raw.clone(), true, png, &bmt, None).unwrap(), raw);
        assert_eq!(
            convert(raw.clone(), true, png, &bmt, Some(ContentHandling::ConvertToText)).unwrap(),
            b64
        );
        assert_eq!(convert(raw.clone(), true, json, &bmt, None).unwrap(), b64);
        assert_eq!(
            convert(
                raw.clone(),
                true,
                json,
                &bmt,
                Some(ContentHandling::ConvertToBinary)
            )
            .unwrap(),
            raw
        );
        // Text payload.
        assert_eq!(convert(b64.clone(), false, png, &bmt, None).unwrap(), raw);
        assert_eq!(
            convert(
                b64.clone(),
                false,
                png,
                &bmt,
                Some(ContentHandling::ConvertToText)
            )
            .unwrap(),
            b64
        );
        assert_eq!(convert(b64.clone(), false, json, &bmt, None).unwrap(), b64);
        assert_eq!(
            convert(
                b64.clone(),
                false,
                json,
                &bmt,
                Some(ContentHandling::ConvertToBinary)
            )
            .unwrap(),
            raw
        );
        // Not base64 when a decode is due: a configuration error.
        assert!(convert(b"{not base64}".to_vec(), false, png, &bmt, None).is_err());
        // No binaryMediaTypes: text throughout.
        assert_eq!(convert(b64.clone(), false, png, &[], None).unwrap(), b64);
    }
}
