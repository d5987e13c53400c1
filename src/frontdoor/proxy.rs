//! The Lambda proxy integration (`AWS_PROXY`, payload format 1.0) of REST APIs: this module owns the
//! translation between HTTP and the function, in both directions, and nothing else.
//!
//! * [`build_event`] turns a routed request ([`ProxyRequest`]) into the JSON event API Gateway sends to
//!   the function (data-plane reference §1.1, §9).
//! * [`map_response`] validates the function's JSON result and turns it into the HTTP response, or says
//!   why it is malformed, which the caller answers with 502 (§1.2).
//! * [`is_binary`] matches a media type against the API's `binaryMediaTypes` (§9).
//!
//! Choices where the reference is silent (each pinned by a test):
//! * Header names are grouped case-insensitively; a group keeps the casing of its first occurrence
//!   (`Authorization`/`User-Agent` are always title-cased). `headers`/`multiValueHeaders` are `null`
//!   only when the client sent no header at all; otherwise `X-Forwarded-For/Proto/Port` are added
//!   when the client did not send them.
//! * A request without `Content-Type` (and a response decision without `Accept`) is matched against
//!   `binaryMediaTypes` as `application/json`, as template selection does (§5.1).
//! * A body that is neither binary nor valid UTF-8 is passed as lossy UTF-8 text.
//! * Response: `statusCode: null` means 200; `isBase64Encoded` may be a boolean, `null`, or the strings
//!   `"true"`/`"false"`; booleans are accepted inside `multiValueHeaders` lists like in `headers`.
//!   Base64 is decoded leniently (padding optional, ASCII whitespace ignored).
//! * Merged multi-value headers are sent as one `, `-joined header, except `Set-Cookie`, which cannot
//!   be folded (RFC 6265) and is sent as one header line per value.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use base64::Engine as _;

use crate::frontdoor::integrate::HeaderPair;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use smallvec::SmallVec;

use crate::json_out as json;

/// Everything the Lambda proxy (payload 1.0) event is built from.
pub struct ProxyRequest<'a> {
    pub method: &'a str,
    /// Path after the stage exactly as received (percent-encoded; may have `//`, trailing `/`).
    pub raw_path: &'a str,
    /// Raw query string without `?`, None when the URL had no `?` (Some("") when it had a bare `?`).
    pub raw_query: Option<&'a str>,
    /// Headers in arrival order with the client's casing.
    pub headers: &'a [HeaderPair<'a>],
    pub body: &'a [u8],
    pub source_ip: &'a str,
    pub resource_id: &'a str,
    /// Resource template, e.g. `/users/{id}`.
    pub resource_path: &'a str,
    /// From the router (values raw, not percent-decoded).
    pub path_params: &'a [(&'a str, String)],
    pub stage: &'a str,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub deployment_id: &'a str,
    pub api_id: &'a str,
    pub account_id: &'a str,
    pub request_id: &'a str,
    pub extended_request_id: &'a str,
    /// Host header value, kept as sent (a port is ignored only for `domainPrefix`).
    pub domain_name: &'a str,
    /// The request's X-Ray trace id (`Root=1-...`), added to the headers
    /// when the client sent none.
    pub trace_id: &'a str,
    pub request_time_epoch_ms: i64,
    pub binary_media_types: &'a [String],
    /// `requestContext.authorizer`, emitted only when `Some` (the key is absent without an authorizer).
    pub authorizer: Option<&'a serde_json::Value>,
    /// Who called, as access control established it.
    pub identity: CallerIdentity<'a>,
    /// The event's fixed fields, written when the stage was compiled; used
    /// only if written for this request's method, resource and stage.
    pub parts: Option<&'a EventParts>,
}

/// The caller as access control established it: IAM fields after a SigV4
/// check, the API key after a usage-plan check; all None for anonymous calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallerIdentity<'a> {
    pub account_id: Option<&'a str>,
    pub caller: Option<&'a str>,
    pub access_key: Option<&'a str>,
    pub user_arn: Option<&'a str>,
    pub user: Option<&'a str>,
    pub api_key: Option<&'a str>,
    pub api_key_id: Option<&'a str>,
}

/// An HTTP response to send to the client.
#[derive(Debug, PartialEq)]
pub struct ProxyResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a function result is not a valid proxy response (for the log: "Malformed Lambda proxy
/// response: ..."); the caller answers 502.
#[derive(Debug, PartialEq)]
pub struct MalformedResponse(pub String);

impl fmt::Display for MalformedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Malformed Lambda proxy response: {}", self.0)
    }
}

impl std::error::Error for MalformedResponse {}

/// Media type assumed when the request has no `Content-Type` (or no `Accept`).
const DEFAULT_MEDIA_TYPE: &str = "application/json";

/// Request headers API Gateway never passes to the function (compared case-insensitively).
const DROPPED_HEADERS: [&str; 12] = [
    "connection",
    "content-length",
    "content-md5",
    "expect",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "www-authenticate",
];

// ---------------------------------------------------------------------------------------------------
// Request event
// ---------------------------------------------------------------------------------------------------

/// The method request's headers as API Gateway shows them to a function
/// (the proxy event) and to mapping templates (`$input.params().header`):
/// the client's, in arrival order and casing, without the ones AWS drops,
/// `Authorization` and `User-Agent` title-cased, then the
/// `X-Forwarded-For/Proto/Port` and `X-Amzn-Trace-Id` it adds when the
/// client sent none.
pub fn method_request_headers<'a>(
    headers: &'a [HeaderPair<'a>],
    source_ip: &'a str,
    domain_name: &'a str,
    trace_id: &'a str,
) -> Vec<(&'a str, &'a str)> {
    method_request_headers_inline(headers, source_ip, domain_name, trace_id).into_vec()
}

/// [`method_request_headers`] kept inline for a request's usual few
/// headers (the proxy event writes them and drops them).
fn method_request_headers_inline<'a>(
    headers: &'a [HeaderPair<'a>],
    source_ip: &'a str,
    domain_name: &'a str,
    trace_id: &'a str,
) -> SmallVec<[(&'a str, &'a str); 16]> {
    let mut pairs = SmallVec::with_capacity(headers.len() + ADDED_HEADERS.len());
    let mut host = None;
    let mut sent = [false; ADDED_HEADERS.len()];
    for (name, value) in headers {
        let (name, value) = (*name, value.as_ref());
        if name.eq_ignore_ascii_case("host") {
            host = Some(value);
        } else if let Some(i) = ADDED_HEADERS.iter().position(|a| name.eq_ignore_ascii_case(a)) {
            sent[i] = true;
        }
        if !DROPPED_HEADERS.iter().any(|d| name.eq_ignore_ascii_case(d)) {
            pairs.push((canonical_header_name(name), value));
        }
    }
    let added = AddedHeaders {
        source_ip,
        host: host.unwrap_or(domain_name),
        trace_id,
    };
    for (i, (name, sent)) in ADDED_HEADERS.into_iter().zip(sent).enumerate() {
        if !sent && let Some(value) = added.value_at(i) {
            pairs.push((name, value));
        }
    }
    pairs
}

/// The headers API Gateway adds to a method request that came without
/// them, in the order it adds them.
const ADDED_HEADERS: [&str; 4] = [
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Amzn-Trace-Id",
];

/// What API Gateway puts in the headers it adds (see [`ADDED_HEADERS`]).
pub struct AddedHeaders<'a> {
    pub source_ip: &'a str,
    /// The Host header, or the domain name.
    pub host: &'a str,
    /// The request's trace id; empty when it has none (then none is added).
    pub trace_id: &'a str,
}

impl<'a> AddedHeaders<'a> {
    /// Where `name` (any case) is among the added headers; None for others.
    pub fn index_of(name: &str) -> Option<usize> {
        ADDED_HEADERS.iter().position(|a| name.eq_ignore_ascii_case(a))
    }

    /// The value of the added header at `i` (see [`AddedHeaders::index_of`]).
    pub fn value_at(&self, i: usize) -> Option<&'a str> {
        match i {
            0 => Some(self.source_ip),
            1 => Some("http"),
            2 => Some(split_host_port(self.host).1.unwrap_or("80")),
            3 => Some(self.trace_id).filter(|t| !t.is_empty()),
            _ => None,
        }
    }
}

/// The fields of a payload-1.0 event that every call of one method on one
/// stage shares (the resource, the method, the stage, its variables, the
/// deployment), escaped and joined once when the stage is compiled: a
/// request copies seven runs of bytes instead of escaping a dozen strings
/// between the literals around them.
#[derive(Debug)]
pub struct EventParts {
    method: String,
    resource_id: String,
    resource_path: String,
    stage: String,
    deployment_id: String,
    text: Vec<u8>,
    /// Where each [`Part`] ends in `text` (each starts where the one
    /// before it ends).
    ends: [usize; Part::COUNT],
}

/// The fixed runs of an event, in the order they appear.
#[derive(Clone, Copy)]
enum Part {
    /// `{"resource":"/r","path":`
    Head,
    /// `,"httpMethod":"GET","headers":`
    Method,
    /// `,"stageVariables":{…},"requestContext":{"resourceId":"id"`
    Context,
    /// `,"resourcePath":"/r","httpMethod":"GET","extendedRequestId":`
    ContextMethod,
    /// `","path":"/stage` (the request's path follows)
    ContextPath,
    /// `,"protocol":"HTTP/1.1","stage":"prod","domainPrefix":`
    ContextStage,
    /// `,"deploymentId":"d1","apiId":`
    Deployment,
}

impl Part {
    const COUNT: usize = 7;
    const ALL: [Part; Part::COUNT] = [
        Part::Head,
        Part::Method,
        Part::Context,
        Part::ContextMethod,
        Part::ContextPath,
        Part::ContextStage,
        Part::Deployment,
    ];
}

/// What the fixed runs are written from.
pub struct FixedFields<'a> {
    pub method: &'a str,
    pub resource_id: &'a str,
    /// Resource template, e.g. `/users/{id}`.
    pub resource_path: &'a str,
    pub stage: &'a str,
    pub stage_variables: &'a BTreeMap<String, String>,
    pub deployment_id: &'a str,
}

impl FixedFields<'_> {
    /// Writes one fixed run: the one writer of these bytes, whether they
    /// are kept in [`EventParts`] or written straight into an event.
    fn write(&self, part: Part, o: &mut Vec<u8>) {
        match part {
            Part::Head => {
                o.extend_from_slice(b"{\"resource\":");
                json::push_str(o, self.resource_path);
                o.extend_from_slice(b",\"path\":");
            }
            Part::Method => {
                o.extend_from_slice(b",\"httpMethod\":");
                json::push_str(o, self.method);
                o.extend_from_slice(b",\"headers\":");
            }
            Part::Context => {
                o.extend_from_slice(b",\"stageVariables\":");
                write_map(
                    o,
                    self.stage_variables.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                );
                o.extend_from_slice(b",\"requestContext\":{\"resourceId\":");
                json::push_str(o, self.resource_id);
            }
            Part::ContextMethod => {
                o.extend_from_slice(b",\"resourcePath\":");
                json::push_str(o, self.resource_path);
                o.extend_from_slice(b",\"httpMethod\":");
                json::push_str(o, self.method);
                o.extend_from_slice(b",\"extendedRequestId\":");
            }
            Part::ContextPath => {
                o.extend_from_slice(b"\",\"path\":\"/");
                json::push_str_contents(o, self.stage);
            }
            Part::ContextStage => {
                o.extend_from_slice(b",\"protocol\":\"HTTP/1.1\",\"stage\":");
                json::push_str(o, self.stage);
                o.extend_from_slice(b",\"domainPrefix\":");
            }
            Part::Deployment => {
                o.extend_from_slice(b",\"deploymentId\":");
                json::push_str(o, self.deployment_id);
                o.extend_from_slice(b",\"apiId\":");
            }
        }
    }
}

impl EventParts {
    pub fn new(fixed: &FixedFields<'_>) -> EventParts {
        let mut text = Vec::new();
        let mut ends = [0; Part::COUNT];
        for (end, part) in ends.iter_mut().zip(Part::ALL) {
            fixed.write(part, &mut text);
            *end = text.len();
        }
        EventParts {
            method: fixed.method.to_string(),
            resource_id: fixed.resource_id.to_string(),
            resource_path: fixed.resource_path.to_string(),
            stage: fixed.stage.to_string(),
            deployment_id: fixed.deployment_id.to_string(),
            text,
            ends,
        }
    }

    fn get(&self, part: Part) -> &[u8] {
        let i = part as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Whether these are the runs of `fixed` (the stage variables go with
    /// the stage: a stage's plans and its variables are compiled together).
    fn written_for(&self, fixed: &FixedFields<'_>) -> bool {
        self.method == fixed.method
            && self.resource_id == fixed.resource_id
            && self.resource_path == fixed.resource_path
            && self.stage == fixed.stage
            && self.deployment_id == fixed.deployment_id
    }
}

/// Serialises the AWS_PROXY payload-1.0 event to JSON bytes.
pub fn build_event(req: &ProxyRequest<'_>) -> Vec<u8> {
    // One pass over the client's headers for the values the event needs besides the maps.
    let mut content_type = None;
    let mut user_agent = None;
    for (name, value) in req.headers {
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.as_ref());
        } else if name.eq_ignore_ascii_case("user-agent") {
            user_agent = Some(value.as_ref());
        }
    }

    let headers = if req.headers.is_empty() {
        None
    } else {
        Some(method_request_headers_inline(
            req.headers,
            req.source_ip,
            req.domain_name,
            req.trace_id,
        ))
    };

    let query = req
        .raw_query
        .map(|q| Grouped::new(parse_query(q), false))
        .filter(|g| !g.is_empty());

    let headers_len: usize = req.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    // The fixed part of an event is ~1.2 KB with the headers API Gateway
    // adds (X-Forwarded-*, the trace id); the client's headers appear twice.
    let estimate = 1536 + 3 * headers_len + 2 * req.raw_query.map_or(0, str::len) + req.body.len() / 3 * 4;
    let mut out = Vec::with_capacity(estimate);
    let o = &mut out;
    let fixed = FixedFields {
        method: req.method,
        resource_id: req.resource_id,
        resource_path: req.resource_path,
        stage: req.stage,
        stage_variables: req.stage_variables,
        deployment_id: req.deployment_id,
    };
    let parts = req.parts.filter(|p| p.written_for(&fixed));
    let fixed_part = |o: &mut Vec<u8>, part: Part| match parts {
        Some(p) => o.extend_from_slice(p.get(part)),
        None => fixed.write(part, o),
    };
    // Fields in the order of AWS's sample events.
    fixed_part(o, Part::Head);
    json::push_str(o, &event_path(req.raw_path));
    fixed_part(o, Part::Method);
    write_headers(o, headers.as_deref(), b",\"multiValueHeaders\":");
    o.extend_from_slice(b",\"queryStringParameters\":");
    write_grouped(o, query.as_ref(), b",\"multiValueQueryStringParameters\":");
    o.extend_from_slice(b",\"pathParameters\":");
    write_map(o, req.path_params.iter().map(|(k, v)| (*k, v.as_str())));
    fixed_part(o, Part::Context);
    if let Some(authorizer) = req.authorizer {
        o.extend_from_slice(b",\"authorizer\":");
        // A Value always serialises.
        let _ = serde_json::to_writer(&mut *o, authorizer);
    }
    fixed_part(o, Part::ContextMethod);
    json::push_str(o, req.extended_request_id);
    o.extend_from_slice(b",\"requestTime\":\"");
    match clf_time(req.request_time_epoch_ms) {
        Some(buf) => o.extend_from_slice(&buf),
        // Years outside 0..=9999 (never a real request time) go the slow way.
        None => {
            let time = chrono::DateTime::from_timestamp_millis(req.request_time_epoch_ms).unwrap_or_default();
            o.extend_from_slice(time.format("%d/%b/%Y:%H:%M:%S +0000").to_string().as_bytes());
        }
    }
    fixed_part(o, Part::ContextPath);
    json::push_str_contents(o, req.raw_path);
    o.extend_from_slice(b"\",\"accountId\":");
    json::push_str(o, req.account_id);
    fixed_part(o, Part::ContextStage);
    json::push_str(o, domain_prefix(req.domain_name));
    o.extend_from_slice(b",\"requestTimeEpoch\":");
    json::push_int(o, req.request_time_epoch_ms);
    o.extend_from_slice(b",\"requestId\":");
    json::push_str(o, req.request_id);
    // `identity`: every key always present, `null` when unknown (the API key
    // fields only after a usage-plan check).
    let id = &req.identity;
    o.extend_from_slice(b",\"identity\":{\"cognitoIdentityPoolId\":null,\"accountId\":");
    json::push_opt_str(o, id.account_id);
    o.extend_from_slice(b",\"cognitoIdentityId\":null,\"caller\":");
    json::push_opt_str(o, id.caller);
    if let Some(key) = id.api_key {
        o.extend_from_slice(b",\"apiKey\":");
        json::push_str(o, key);
    }
    if let Some(key_id) = id.api_key_id {
        o.extend_from_slice(b",\"apiKeyId\":");
        json::push_str(o, key_id);
    }
    o.extend_from_slice(b",\"sourceIp\":");
    json::push_str(o, req.source_ip);
    o.extend_from_slice(b",\"principalOrgId\":null,\"accessKey\":");
    json::push_opt_str(o, id.access_key);
    o.extend_from_slice(
        b",\"cognitoAuthenticationType\":null,\"cognitoAuthenticationProvider\":null,\"userArn\":",
    );
    json::push_opt_str(o, id.user_arn);
    o.extend_from_slice(b",\"userAgent\":");
    json::push_opt_str(o, user_agent);
    o.extend_from_slice(b",\"user\":");
    json::push_opt_str(o, id.user);
    o.extend_from_slice(b"},\"domainName\":");
    json::push_str(o, req.domain_name);
    fixed_part(o, Part::Deployment);
    json::push_str(o, req.api_id);
    o.extend_from_slice(b"},\"body\":");
    if req.body.is_empty() {
        o.extend_from_slice(b"null,\"isBase64Encoded\":false}");
    } else if is_binary(content_type.unwrap_or(DEFAULT_MEDIA_TYPE), req.binary_media_types) {
        o.push(b'"');
        let at = o.len();
        o.resize(at + req.body.len().div_ceil(3) * 4, 0);
        let written = STANDARD.encode_slice(req.body, &mut o[at..]).unwrap_or(0);
        o.truncate(at + written);
        o.extend_from_slice(b"\",\"isBase64Encoded\":true}");
    } else {
        json::push_str(o, &String::from_utf8_lossy(req.body));
        o.extend_from_slice(b",\"isBase64Encoded\":false}");
    }
    out
}

/// A `{key: value}` object of strings, `null` when empty.
fn write_map<'a>(out: &mut Vec<u8>, entries: impl ExactSizeIterator<Item = (&'a str, &'a str)>) {
    if entries.len() == 0 {
        out.extend_from_slice(b"null");
        return;
    }
    out.push(b'{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::push_str(out, k);
        out.push(b':');
        json::push_str(out, v);
    }
    out.push(b'}');
}

/// Writes the method request's headers as [`write_grouped`] does. Names
/// are rarely repeated: then each header is its own group, and is written
/// straight from the list, without grouping.
fn write_headers(out: &mut Vec<u8>, headers: Option<&[(&str, &str)]>, between: &[u8]) {
    let Some(headers) = headers.filter(|h| !has_repeated_name(h)) else {
        let grouped = headers.map(|h| {
            let pairs = h
                .iter()
                .map(|&(key, value)| Pair {
                    key: Cow::Borrowed(key),
                    value: Cow::Borrowed(value),
                })
                .collect();
            Grouped::new(pairs, true)
        });
        return write_grouped(out, grouped.as_ref(), between);
    };
    // Where each header's escaped name ends and its escaped value ends.
    let mut ends: SmallVec<[(usize, usize); 16]> = SmallVec::with_capacity(headers.len());
    out.push(b'{');
    let first = out.len();
    for (name, value) in headers {
        if out.len() > first {
            out.push(b',');
        }
        json::push_str(out, name);
        let name_end = out.len();
        out.push(b':');
        json::push_str(out, value);
        ends.push((name_end, out.len()));
    }
    out.push(b'}');
    out.extend_from_slice(between);
    out.push(b'{');
    let mut start = first;
    for (i, &(name_end, value_end)) in ends.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_within(start..name_end);
        out.extend_from_slice(b":[");
        out.extend_from_within(name_end + 1..value_end);
        out.push(b']');
        // The next name starts after the comma.
        start = value_end + 1;
    }
    out.push(b'}');
}

/// Whether two of `headers` have the same name (any case). Pairwise: a
/// request has at most hyper's 100 headers, and names of different lengths
/// (most pairs) are told apart by their lengths.
fn has_repeated_name(headers: &[(&str, &str)]) -> bool {
    headers.iter().enumerate().any(|(i, (name, _))| {
        headers[..i]
            .iter()
            .any(|(other, _)| other.len() == name.len() && other.eq_ignore_ascii_case(name))
    })
}

/// Writes `grouped` twice: as the single-value object (`{"k":"last
/// value"}`), then `between`, then as the multi-value one (`{"k":["v1",
/// "v2"]}`); `null` twice when there is nothing. A name, and the value of a
/// name given once (the usual case), are escaped once and their bytes
/// copied into the second object.
fn write_grouped(out: &mut Vec<u8>, grouped: Option<&Grouped<'_>>, between: &[u8]) {
    let Some(Grouped { pairs, order, groups }) = grouped else {
        out.extend_from_slice(b"null");
        out.extend_from_slice(between);
        out.extend_from_slice(b"null");
        return;
    };
    // Where each group's escaped name and last value were written.
    let mut written: SmallVec<[(Range<usize>, Range<usize>); 8]> = SmallVec::with_capacity(groups.len());
    out.push(b'{');
    for &(start, end) in groups {
        // Groups are never empty by construction.
        let (Some(&first), Some(&last)) = (order[start..end].first(), order[start..end].last()) else {
            continue;
        };
        if !written.is_empty() {
            out.push(b',');
        }
        let name_at = out.len();
        json::push_str(out, &pairs[first].key);
        let name = name_at..out.len();
        out.push(b':');
        let value_at = out.len();
        json::push_str(out, &pairs[last].value);
        written.push((name, value_at..out.len()));
    }
    out.push(b'}');
    out.extend_from_slice(between);
    out.push(b'{');
    let non_empty = groups.iter().filter(|&&(start, end)| start < end);
    for (i, (&(start, end), (name, value))) in non_empty.zip(&written).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_within(name.clone());
        out.extend_from_slice(b":[");
        let members = &order[start..end];
        if members.len() == 1 {
            out.extend_from_within(value.clone());
        } else {
            for (j, &m) in members.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                json::push_str(out, &pairs[m].value);
            }
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// `dd/Mon/yyyy:HH:MM:SS +0000` for a time in years 0..=9999, formatted by hand: this runs for
/// every request, and chrono's `format` parses its pattern each time.
pub(crate) fn clf_time(epoch_ms: i64) -> Option<[u8; 26]> {
    // The last second formatted on this thread: requests come many a second.
    thread_local! {
        static LAST: std::cell::Cell<(i64, [u8; 26])> = const { std::cell::Cell::new((i64::MIN, [0; 26])) };
    }
    let secs = epoch_ms.div_euclid(1000);
    let (at, text) = LAST.get();
    if at == secs {
        return Some(text);
    }
    let text = clf_time_of(secs)?;
    LAST.set((secs, text));
    Some(text)
}

/// [`clf_time`] of `secs` since the epoch, worked out.
fn clf_time_of(secs: i64) -> Option<[u8; 26]> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut out = *b"00/Jan/0000:00:00:00 +0000";
    let mut two = |at: usize, v: i64| {
        out[at] = b'0' + (v / 10) as u8;
        out[at + 1] = b'0' + (v % 10) as u8;
    };
    two(0, day);
    two(7, year / 100);
    two(9, year % 100);
    two(12, secs_of_day / 3600);
    two(15, secs_of_day / 60 % 60);
    two(18, secs_of_day % 60);
    out[3..6].copy_from_slice(MONTHS[(month - 1) as usize]);
    Some(out)
}

/// One header or query parameter.
struct Pair<'a> {
    key: Cow<'a, str>,
    value: Cow<'a, str>,
}

/// Pairs grouped by key without a hash map: `order` is the pair indices stably sorted by key (so
/// arrival order within a key), `groups` are ranges of `order`, sorted by first arrival.
struct Grouped<'a> {
    pairs: Vec<Pair<'a>>,
    // Inline up to a request's usual few dozen pairs: no allocation.
    order: SmallVec<[usize; GROUP_BY_SCAN]>,
    groups: SmallVec<[(usize, usize); GROUP_BY_SCAN]>,
}

/// Up to this many pairs are grouped by comparing each with those after it
/// (a request's few headers: cheaper than sorting); more are sorted, so that
/// thousands of query parameters cost n log n, not n².
const GROUP_BY_SCAN: usize = 24;

impl<'a> Grouped<'a> {
    fn new(pairs: Vec<Pair<'a>>, ignore_case: bool) -> Self {
        if pairs.len() <= GROUP_BY_SCAN {
            Self::by_scan(pairs, ignore_case)
        } else {
            Self::by_sort(pairs, ignore_case)
        }
    }

    fn by_scan(pairs: Vec<Pair<'a>>, ignore_case: bool) -> Self {
        let same = |a: &str, b: &str| {
            if ignore_case {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let mut taken = [false; GROUP_BY_SCAN];
        let mut order = SmallVec::new();
        let mut groups = SmallVec::new();
        for i in 0..pairs.len() {
            if taken[i] {
                continue;
            }
            let start = order.len();
            for j in i..pairs.len() {
                if !taken[j] && same(&pairs[i].key, &pairs[j].key) {
                    taken[j] = true;
                    order.push(j);
                }
            }
            groups.push((start, order.len()));
        }
        Grouped { pairs, order, groups }
    }

    fn by_sort(pairs: Vec<Pair<'a>>, ignore_case: bool) -> Self {
        let cmp = |a: &str, b: &str| {
            if ignore_case {
                a.bytes()
                    .map(|c| c.to_ascii_lowercase())
                    .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
            } else {
                a.cmp(b)
            }
        };
        let mut order: SmallVec<[usize; GROUP_BY_SCAN]> = (0..pairs.len()).collect();
        order.sort_by(|&a, &b| cmp(&pairs[a].key, &pairs[b].key)); // stable
        let mut groups = SmallVec::new();
        let mut start = 0;
        for i in 1..=order.len() {
            if i == order.len() || cmp(&pairs[order[start]].key, &pairs[order[i]].key) != Ordering::Equal {
                groups.push((start, i));
                start = i;
            }
        }
        groups.sort_unstable_by_key(|&(start, _)| order[start]);
        Grouped { pairs, order, groups }
    }

    fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

fn canonical_header_name(name: &str) -> &str {
    if name.eq_ignore_ascii_case("authorization") {
        "Authorization"
    } else if name.eq_ignore_ascii_case("user-agent") {
        "User-Agent"
    } else {
        name
    }
}

/// The event's `path`: leading slashes collapsed to one, the rest as received.
fn event_path(raw: &str) -> Cow<'_, str> {
    let rest = raw.trim_start_matches('/');
    if rest.len() < raw.len() {
        Cow::Borrowed(&raw[raw.len() - rest.len() - 1..])
    } else {
        Cow::Owned(format!("/{raw}"))
    }
}

/// Splits `host[:port]` (IPv6 in brackets); the port only if it is all digits.
fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    // Bytes, not chars: the usual host needs no trimming, and `[`, `]`, `:` are ASCII.
    let bytes = authority.as_bytes();
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
    let authority = if plain(bytes.first()) && plain(bytes.last()) {
        authority
    } else {
        authority.trim()
    };
    let bytes = authority.as_bytes();
    let (host, rest) = if bytes.first() == Some(&b'[') {
        match bytes.iter().position(|&b| b == b']') {
            Some(end) => authority.split_at(end + 1),
            None => (authority, ""),
        }
    } else {
        match bytes.iter().rposition(|&b| b == b':') {
            Some(colon) => authority.split_at(colon),
            None => (authority, ""),
        }
    };
    let port = rest
        .strip_prefix(':')
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (host, port)
}

/// `requestContext.domainPrefix`: the first label of the host name.
pub(crate) fn domain_prefix(domain_name: &str) -> &str {
    let host = split_host_port(domain_name).0;
    match host.as_bytes().iter().position(|&b| b == b'.') {
        Some(dot) => &host[..dot],
        None => host,
    }
}

/// `a=1&b&c=x+y%2B` → pairs, form-decoded; empty segments are skipped.
fn parse_query(query: &str) -> Vec<Pair<'_>> {
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
            Pair {
                key: form_decode(key),
                value: form_decode(value),
            }
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space), lossy UTF-8; borrows when unchanged.
fn form_decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Cow::Borrowed(s);
    }
    let spaced: Vec<u8> = s.bytes().map(|b| if b == b'+' { b' ' } else { b }).collect();
    Cow::Owned(
        percent_encoding::percent_decode(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

// ---------------------------------------------------------------------------------------------------
// Binary media types
// ---------------------------------------------------------------------------------------------------

/// True if a media type (e.g. Content-Type or an Accept entry, parameters ignored) matches one of the
/// binaryMediaTypes entries (which may be `*/*`, `image/*`, or exact; case-insensitive).
///
/// Wildcards count only on the `binaryMediaTypes` side: `Accept: */*` does not match `image/png`.
pub fn is_binary(media_type: &str, binary_media_types: &[String]) -> bool {
    // Most APIs declare no binary types: nothing to parse.
    if binary_media_types.is_empty() {
        return false;
    }
    let Some((kind, subtype)) = split_media_type(media_type) else {
        return false;
    };
    binary_media_types.iter().any(|entry| {
        split_media_type(entry).is_some_and(|(k, s)| {
            (k == "*" || k.eq_ignore_ascii_case(kind)) && (s == "*" || s.eq_ignore_ascii_case(subtype))
        })
    })
}

/// `type/subtype; params` → (`type`, `subtype`).
fn split_media_type(media_type: &str) -> Option<(&str, &str)> {
    let essence = media_type.split(';').next().unwrap_or(media_type);
    let (kind, subtype) = essence.split_once('/')?;
    let (kind, subtype) = (kind.trim(), subtype.trim());
    (!kind.is_empty() && !subtype.is_empty()).then_some((kind, subtype))
}

// ---------------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------------

/// Maps the function's JSON result to the HTTP response, or says why it is malformed (→ the caller
/// answers 502).
pub fn map_response(
    result: &[u8],
    request_accept: Option<&str>,
    binary_media_types: &[String],
) -> Result<ProxyResponse, MalformedResponse> {
    // serde would also accept a struct written as a JSON array; only an object is a proxy response.
    if result.trim_ascii_start().first() != Some(&b'{') {
        return Err(MalformedResponse(
            "the function result is not a JSON object".to_owned(),
        ));
    }
    let wire: WireResponse = match read_sdk_shape(result) {
        Some(wire) => wire,
        None => serde_json::from_slice(result).map_err(|e| MalformedResponse(e.to_string()))?,
    };

    let headers = merge_headers(
        wire.headers.map(|h| h.0).unwrap_or_default(),
        wire.multi_value_headers.map(|h| h.0).unwrap_or_default(),
    );
    let body = match wire.body {
        None => Vec::new(),
        Some(text) if wire.is_base64_encoded && accepts_binary(request_accept, binary_media_types) => {
            decode_base64(&text)?
        }
        Some(text) => text.into_bytes(),
    };
    Ok(ProxyResponse {
        status: wire.status_code.unwrap_or(200),
        headers,
        body,
    })
}

/// Whether the first type of the request's `Accept` header is a binary media type.
pub(crate) fn accepts_binary(accept: Option<&str>, binary_media_types: &[String]) -> bool {
    let first = accept
        .and_then(|a| a.split(',').next())
        .map(str::trim)
        .filter(|a| !a.is_empty());
    is_binary(first.unwrap_or(DEFAULT_MEDIA_TYPE), binary_media_types)
}

/// Standard alphabet; padding optional (like Java's decoder).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, MalformedResponse> {
    let decoded = if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        LENIENT_BASE64.decode(compact)
    } else {
        LENIENT_BASE64.decode(text)
    };
    decoded.map_err(|e| MalformedResponse(format!("body is not valid base64: {e}")))
}

/// Multi values first, then the single value, as one `, `-joined header named as in
/// `multiValueHeaders` (names matched case-insensitively); `Set-Cookie` stays one line per value.
/// Adds `Content-Type: application/json` when the function set none.
fn merge_headers(
    mut single: Vec<(String, String)>,
    multi: Vec<(String, Vec<String>)>,
) -> Vec<(String, String)> {
    let mut merged = vec![false; single.len()];
    let mut out = Vec::with_capacity(single.len() + multi.len() + 1);
    for (name, mut values) in multi {
        for (i, (single_name, single_value)) in single.iter_mut().enumerate() {
            if !merged[i] && single_name.eq_ignore_ascii_case(&name) {
                merged[i] = true;
                // A pair given in both maps appears once (AWS's docs: "only
                // the values from multiValueHeaders").
                if !values.contains(single_value) {
                    values.push(std::mem::take(single_value));
                }
            }
        }
        if name.eq_ignore_ascii_case("set-cookie") {
            out.extend(values.into_iter().map(|v| (name.clone(), v)));
        } else if !values.is_empty() {
            out.push((name, values.join(", ")));
        }
    }
    out.extend(single.into_iter().zip(merged).filter(|(_, m)| !m).map(|(h, _)| h));
    if !out
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        out.push(("Content-Type".to_owned(), DEFAULT_MEDIA_TYPE.to_owned()));
    }
    out
}

/// The function's result as sent on the wire; unknown keys are an error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireResponse {
    #[serde(default, deserialize_with = "status_code")]
    status_code: Option<u16>,
    headers: Option<SingleHeaders>,
    multi_value_headers: Option<MultiHeaders>,
    body: Option<String>,
    #[serde(default, deserialize_with = "base64_flag")]
    is_base64_encoded: bool,
}

/// Reads a result written exactly as the guest SDK writes a proxy response
/// (`{"statusCode":N,"headers":{..},"multiValueHeaders":{..},"body":..,
/// "isBase64Encoded":B}`, no spaces, every header value a string, `body`
/// optional): one pass, where serde's derived reader matches every key and
/// builds every string through its visitors. Anything else, including
/// what serde would refuse, is `None`, and serde reads it (the same
/// response, or the same error).
fn read_sdk_shape(bytes: &[u8]) -> Option<WireResponse> {
    let mut r = ShapeReader { rest: bytes };
    r.literal(b"{\"statusCode\":")?;
    let status = r.digits()?;
    let status_code = Some(u16::try_from(status).ok().filter(|c| (200..=599).contains(c))?);
    r.literal(b",\"headers\":{")?;
    let mut headers = Vec::new();
    if !r.eat(b'}') {
        loop {
            let name = r.string()?;
            r.literal(b":")?;
            headers.push((name, r.string()?));
            if r.eat(b'}') {
                break;
            }
            r.literal(b",")?;
        }
    }
    r.literal(b",\"multiValueHeaders\":{")?;
    let mut multi = Vec::new();
    if !r.eat(b'}') {
        loop {
            let name = r.string()?;
            r.literal(b":[")?;
            let mut values = Vec::new();
            if !r.eat(b']') {
                loop {
                    values.push(r.string()?);
                    if r.eat(b']') {
                        break;
                    }
                    r.literal(b",")?;
                }
            }
            multi.push((name, values));
            if r.eat(b'}') {
                break;
            }
            r.literal(b",")?;
        }
    }
    let body = if r.rest.starts_with(b",\"body\":null") {
        r.literal(b",\"body\":null")?;
        None
    } else if r.rest.starts_with(b",\"body\":") {
        r.literal(b",\"body\":")?;
        Some(r.string()?)
    } else {
        None
    };
    let is_base64_encoded = if r.rest == b",\"isBase64Encoded\":false}" {
        false
    } else if r.rest == b",\"isBase64Encoded\":true}" {
        true
    } else {
        return None;
    };
    Some(WireResponse {
        status_code,
        headers: Some(SingleHeaders(headers)),
        multi_value_headers: Some(MultiHeaders(multi)),
        body,
        is_base64_encoded,
    })
}

struct ShapeReader<'a> {
    rest: &'a [u8],
}

impl ShapeReader<'_> {
    fn literal(&mut self, text: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(text)?;
        Some(())
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.literal(&[byte]).is_some()
    }

    /// A JSON integer ≥ 0 of at most four digits, no leading zero.
    fn digits(&mut self) -> Option<u64> {
        let n = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 4 || (n > 1 && self.rest[0] == b'0') {
            return None;
        }
        let (digits, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(digits.iter().fold(0, |v, d| v * 10 + u64::from(d - b'0')))
    }

    /// A JSON string, decoded in one pass: each plain run is found a word
    /// at a time and copied, two-character escapes (`\"`, `\\`, `\/`, `\b`,
    /// `\f`, `\n`, `\r`, `\t`: a JSON body in a string) are decoded on the
    /// way; a string with a `\u` escape is left to serde_json.
    fn string(&mut self) -> Option<String> {
        let body = self.rest.strip_prefix(b"\"")?;
        let mut out = Vec::new();
        let (mut start, mut i) = (0, 0);
        loop {
            i = crate::json_out::skip_plain(body, i);
            match *body.get(i)? {
                b'"' => break,
                b'\\' => {
                    let decoded = match *body.get(i + 1)? {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        _ => return self.string_by_serde(),
                    };
                    if out.capacity() == 0 {
                        out = Vec::with_capacity(body.len().min(4096));
                    }
                    out.extend_from_slice(&body[start..i]);
                    out.push(decoded);
                    i += 2;
                    start = i;
                }
                b if b < 0x20 => return None,
                _ => i += 1,
            }
        }
        // Without an escape (a header, usually), allocated at its size.
        let out = if start == 0 {
            body[..i].to_vec()
        } else {
            out.extend_from_slice(&body[start..i]);
            out
        };
        self.rest = &body[i + 1..];
        String::from_utf8(out).ok()
    }

    /// A string with a `\u` escape, through serde_json (its end found by
    /// skipping each escaped byte).
    fn string_by_serde(&mut self) -> Option<String> {
        let body = self.rest.strip_prefix(b"\"")?;
        let mut i = 0;
        loop {
            i = crate::json_out::skip_plain(body, i);
            match *body.get(i)? {
                b'"' => break,
                b'\\' => i += 2,
                b if b < 0x20 => return None,
                _ => i += 1,
            }
        }
        let text = serde_json::from_slice::<String>(&self.rest[..i + 2]).ok()?;
        self.rest = &body[i + 1..];
        Some(text)
    }
}

/// An integer or numeric string in 200–599; `null` means absent.
fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    struct StatusVisitor;
    impl StatusVisitor {
        fn check<E: de::Error>(code: u64) -> Result<Option<u16>, E> {
            // 1xx are not final answers: sent as one, they would break the
            // client's connection.
            match u16::try_from(code) {
                Ok(code @ 200..=599) => Ok(Some(code)),
                _ => Err(E::custom(format_args!(
                    "statusCode {code} is not between 200 and 599"
                ))),
            }
        }
    }
    impl<'de> Visitor<'de> for StatusVisitor {
        type Value = Option<u16>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or numeric string statusCode")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Self::check(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map_err(|_| E::custom(format_args!("statusCode {v} is not between 200 and 599")))
                .and_then(Self::check)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.parse::<u64>() {
                Ok(code) if v.bytes().all(|b| b.is_ascii_digit()) => Self::check(code),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(StatusVisitor)
}

/// `true`/`false`, `"true"`/`"false"`, or `null` (false).
fn base64_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct FlagVisitor;
    impl<'de> Visitor<'de> for FlagVisitor {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean isBase64Encoded")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v {
                _ if v.eq_ignore_ascii_case("true") => Ok(true),
                _ if v.eq_ignore_ascii_case("false") => Ok(false),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(FlagVisitor)
}

/// A header value: a string, or a boolean rendered as `"true"`/`"false"`.
struct HeaderValue(String);

impl<'de> Deserialize<'de> for HeaderValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = HeaderValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or boolean header value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderValue, E> {
                Ok(HeaderValue(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<HeaderValue, E> {
                Ok(HeaderValue(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<HeaderValue, E> {
                Ok(HeaderValue(if v { "true" } else { "false" }.to_owned()))
            }
        }
        d.deserialize_any(ValueVisitor)
    }
}

/// `headers`, in the function's order.
struct SingleHeaders(Vec<(String, String)>);

impl<'de> Deserialize<'de> for SingleHeaders {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = SingleHeaders;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a headers object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SingleHeaders, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, HeaderValue(value))) = map.next_entry::<String, HeaderValue>()? {
                    out.push((name, value));
                }
                Ok(SingleHeaders(out))
            }
        }
        d.deserialize_map(MapVisitor)
    }
}

/// `multiValueHeaders`, in the function's order; every value must be a list.
struct MultiHeaders(Vec<(String, Vec<String>)>);

impl<'de> Deserialize<'de> for MultiHeaders {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of header values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(HeaderValue(value)) = seq.next_element()? {
                    out.push(value);
                }
                Ok(out)
            }
        }
        struct List(Vec<String>);
        impl<'de> Deserialize<'de> for List {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_seq(ListVisitor).map(List)
            }
        }
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = MultiHeaders;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a multiValueHeaders object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MultiHeaders, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, List(values))) = map.next_entry::<String, List>()? {
                    out.push((name, values));
                }
                Ok(MultiHeaders(out))
            }
        }
        d.deserialize_map(MapVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_shape_reads_as_serde_reads_it() {
        type Flat = (
            Option<u16>,
            Option<Vec<(String, String)>>,
            Option<Vec<(String, Vec<String>)>>,
            Option<String>,
            bool,
        );
        let flat = |w: WireResponse| -> Flat {
            (
                w.status_code,
                w.headers.map(|h| h.0),
                w.multi_value_headers.map(|h| h.0),
                w.body,
                w.is_base64_encoded,
            )
        };
        let sdk = |status: &str, headers: &str, multi: &str, body: &str, b64: &str| {
            format!(
                r#"{{"statusCode":{status},"headers":{{{headers}}},"multiValueHeaders":{{{multi}}}{body},"isBase64Encoded":{b64}}}"#
            )
        };
        let mut cases = Vec::new();
        for status in [
            "200", "404", "599", "600", "199", "0200", "-1", "20000", "\"200\"", "null",
        ] {
            for headers in [
                r#""#,
                r#""content-type":"application/json""#,
                r#""a":"1","A":"2","a":"3""#,
                r#""x":"tab\tq\"é""#,
                r#""x":true"#,
            ] {
                for multi in [
                    r#""#,
                    r#""set-cookie":["a=1","b=2"]"#,
                    r#""x":[]"#,
                    r#""x":["\u00e9\\"],"y":["1"]"#,
                    r#""x":"not a list""#,
                ] {
                    for body in [
                        r#""#,
                        r#","body":null"#,
                        r#","body":"plain""#,
                        r#","body":"{\"message\":\"Hello from Portico\"}""#,
                        r#","body":"\\""#,
                        r#","body":"é 漢字 \ud83e\udd80""#,
                        r#","body":"a\/b\bc\fd\ne\rf\tg\\h\"i""#,
                        r#","body":"bad \x escape""#,
                        r#","body":"\u0041\n""#,
                        r#","body":"x\"y\u0041z\\""#,
                        r#","body":"x\ny\u0001""#,
                    ] {
                        for b64 in ["false", "true", "\"true\"", "null"] {
                            cases.push(sdk(status, headers, multi, body, b64));
                        }
                    }
                }
            }
        }
        cases.push(
            r#"{"statusCode":200,"headers":{},"multiValueHeaders":{},"isBase64Encoded":false} "#.to_string(),
        );
        cases.push(
            r#"{"statusCode":200,"headers":{},"multiValueHeaders":{},"isBase64Encoded":false,"other":1}"#
                .to_string(),
        );
        cases.push(
            r#"{"statusCode":200,"headers":{"a":"b\u0001"},"multiValueHeaders":{},"isBase64Encoded":false}"#
                .to_string(),
        );
        let mut fast_count = 0;
        for text in &cases {
            let slow = serde_json::from_str::<WireResponse>(text).ok().map(flat);
            if let Some(fast) = read_sdk_shape(text.as_bytes()) {
                fast_count += 1;
                assert_eq!(Some(flat(fast)), slow, "{text}");
            }
        }
        // The shape the SDK writes is read the fast way.
        assert!(fast_count >= 500, "{fast_count} of {}", cases.len());
        let hello = r#"{"statusCode":200,"headers":{"content-type":"application/json"},"multiValueHeaders":{},"body":"{\"message\":\"Hello from Portico\"}","isBase64Encoded":false}"#;
        assert!(read_sdk_shape(hello.as_bytes()).is_some());
    }

    #[test]
    fn grouping_by_scan_and_by_sort_agree() {
        let keys = ["a", "A", "b", "Accept", "accept", "x-y", "X-Y", "c"];
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..500 {
            let n = next() % (GROUP_BY_SCAN + 1);
            let pairs = || -> Vec<Pair<'static>> {
                (0..n)
                    .map(|i| Pair {
                        key: Cow::Borrowed(keys[(i * 7 + n) % keys.len()]),
                        value: Cow::Owned(i.to_string()),
                    })
                    .collect()
            };
            for ignore_case in [true, false] {
                let members = |g: Grouped<'_>| -> Vec<Vec<usize>> {
                    g.groups
                        .iter()
                        .map(|&(start, end)| g.order[start..end].to_vec())
                        .collect()
                };
                let (scan, sort) = (
                    Grouped::by_scan(pairs(), ignore_case),
                    Grouped::by_sort(pairs(), ignore_case),
                );
                assert_eq!(members(scan), members(sort), "n={n} ignore_case={ignore_case}");
            }
            let _ = next();
        }
    }

    #[test]
    fn host_and_port_split_as_by_chars() {
        fn by_chars(authority: &str) -> (&str, Option<&str>, &str) {
            let authority = authority.trim();
            let (host, rest) = if authority.starts_with('[') {
                match authority.find(']') {
                    Some(end) => authority.split_at(end + 1),
                    None => (authority, ""),
                }
            } else {
                match authority.rfind(':') {
                    Some(colon) => authority.split_at(colon),
                    None => (authority, ""),
                }
            };
            let port = rest
                .strip_prefix(':')
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            (host, port, host.split('.').next().unwrap_or(host))
        }
        for authority in [
            "",
            "a",
            "api.example.com",
            "abc123.execute-api.localhost:8080",
            "127.0.0.1:18480",
            "[::1]:8080",
            "[::1]",
            "[::1",
            " host:1 ",
            "\thost\t",
            "host:",
            "host:8a",
            ":80",
            "é.x:1",
            "\u{a0}h.i:1\u{a0}",
            "x.é",
        ] {
            let (host, port) = split_host_port(authority);
            assert_eq!(
                (host, port, domain_prefix(authority)),
                by_chars(authority),
                "{authority:?}"
            );
        }
    }

    #[test]
    fn headers_without_repeats_are_written_as_grouped_ones() {
        let lists: [&[(&str, &str)]; 6] = [
            &[],
            &[("Host", "h")],
            &[
                ("Host", "h"),
                ("X-Forwarded-For", "1.2.3.4"),
                ("X-Amzn-Trace-Id", "Root=1-a"),
            ],
            &[("a", "q\"uote"), ("b", "back\\slash\u{1}"), ("é", "漢字")],
            // Repeated names, in any case, go through the grouping.
            &[("a", "1"), ("B", "2"), ("A", "3")],
            &[("x-y", "1"), ("X-Y", "2"), ("x-y", "3"), ("z", "4")],
        ];
        for list in lists {
            let grouped = Grouped::new(
                list.iter()
                    .map(|&(k, v)| Pair {
                        key: Cow::Borrowed(k),
                        value: Cow::Borrowed(v),
                    })
                    .collect(),
                true,
            );
            let mut expected = Vec::new();
            write_grouped(&mut expected, Some(&grouped), b",between:");
            let mut written = Vec::new();
            write_headers(&mut written, Some(list), b",between:");
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected)
            );
        }
        let mut written = Vec::new();
        write_headers(&mut written, None, b",");
        assert_eq!(written, b"null,null");
    }
    use serde_json::{Value, json};

    // -------------------------------------------------------------------------------- event helpers

    fn hdrs<'a>(list: &[(&'a str, &'a str)]) -> Vec<HeaderPair<'a>> {
        list.iter().map(|&(n, v)| (n, Cow::Borrowed(v))).collect()
    }

    fn no_vars() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// A request with every field filled; tests override what they exercise.
    fn request<'a>(
        headers: &'a [HeaderPair<'a>],
        stage_variables: &'a BTreeMap<String, String>,
        binary_media_types: &'a [String],
    ) -> ProxyRequest<'a> {
        ProxyRequest {
            method: "GET",
            raw_path: "/users/123",
            raw_query: None,
            headers,
            body: b"",
            source_ip: "203.0.113.7",
            resource_id: "r3s0urc3",
            resource_path: "/users/{id}",
            path_params: &[],
            stage: "prod",
            stage_variables,
            deployment_id: "d3pl0y",
            api_id: "abc123defg",
            account_id: "000000000000",
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            extended_request_id: "LV7fzho-PHcEJPw=",
            domain_name: "abc123defg.execute-api.localhost",
            trace_id: "",
            request_time_epoch_ms: 1_589_522_469_000,
            binary_media_types,
            authorizer: None,
            identity: CallerIdentity::default(),
            parts: None,
        }
    }

    /// The fixed fields of `req`, as a stage's plan would write them.
    fn parts_of(req: &ProxyRequest<'_>) -> EventParts {
        EventParts::new(&FixedFields {
            method: req.method,
            resource_id: req.resource_id,
            resource_path: req.resource_path,
            stage: req.stage,
            stage_variables: req.stage_variables,
            deployment_id: req.deployment_id,
        })
    }

    /// The event of `req`, which must be the same bytes whether its fixed
    /// fields are written on the spot or copied from a plan's parts.
    fn event(req: &ProxyRequest<'_>) -> Value {
        let bytes = build_event(req);
        let parts = parts_of(req);
        let from_parts = build_event(&ProxyRequest {
            parts: Some(&parts),
            ..*req
        });
        assert_eq!(
            String::from_utf8_lossy(&from_parts),
            String::from_utf8_lossy(&bytes),
            "an event from a plan's parts differs"
        );
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => panic!("event is not JSON ({e}): {}", String::from_utf8_lossy(&bytes)),
        }
    }

    #[test]
    fn parts_written_for_another_method_resource_or_stage_are_not_used() {
        let h = hdrs(&[("Host", "example.com")]);
        let vars = BTreeMap::from([("v".to_string(), "needs \"escaping\"".to_string())]);
        let req = request(&h, &vars, &[]);
        let own = build_event(&req);
        let others = [
            ProxyRequest {
                method: "POST",
                ..request(&h, &vars, &[])
            },
            ProxyRequest {
                resource_id: "other",
                ..request(&h, &vars, &[])
            },
            ProxyRequest {
                resource_path: "/other",
                ..request(&h, &vars, &[])
            },
            ProxyRequest {
                stage: "dev",
                ..request(&h, &vars, &[])
            },
            ProxyRequest {
                deployment_id: "other",
                ..request(&h, &vars, &[])
            },
        ];
        for other in &others {
            let parts = parts_of(other);
            assert_eq!(
                build_event(&ProxyRequest {
                    parts: Some(&parts),
                    ..request(&h, &vars, &[])
                }),
                own
            );
        }
        let parts = parts_of(&req);
        let with = build_event(&ProxyRequest {
            parts: Some(&parts),
            ..request(&h, &vars, &[])
        });
        assert_eq!(with, own);
        let e = event(&req);
        assert_eq!(e["stageVariables"]["v"], "needs \"escaping\"");
        assert_eq!(e["requestContext"]["path"], "/prod/users/123");
    }

    /// Object keys in document order, recursively (serde_json::Value sorts them).
    #[derive(Debug)]
    enum Node {
        Object(Vec<(String, Node)>),
        Other,
    }

    impl<'de> Deserialize<'de> for Node {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct NodeVisitor;
            impl<'de> Visitor<'de> for NodeVisitor {
                type Value = Node;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("JSON")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(entry) = map.next_entry::<String, Node>()? {
                        keys.push(entry);
                    }
                    Ok(Node::Object(keys))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                    while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                    Ok(Node::Other)
                }
                fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_unit<E>(self) -> Result<Node, E> {
                    Ok(Node::Other)
                }
            }
            d.deserialize_any(NodeVisitor)
        }
    }

    fn keys_of<'n>(node: &'n Node, path: &[&str]) -> Vec<&'n str> {
        let Node::Object(entries) = node else {
            panic!("not an object")
        };
        match path.split_first() {
            None => entries.iter().map(|(k, _)| k.as_str()).collect(),
            Some((first, rest)) => match entries.iter().find(|(k, _)| k == first) {
                Some((_, child)) => keys_of(child, rest),
                None => panic!("no key {first}"),
            },
        }
    }

    // -------------------------------------------------------------------------------- event tests

    #[test]
    fn golden_event_for_a_simple_get() {
        let headers = hdrs(&[
            ("Host", "abc123defg.execute-api.localhost"),
            ("user-agent", "curl/8.5.0"),
            ("Accept", "*/*"),
        ]);
        let vars = no_vars();
        let params = [("id", "123".to_string())];
        let req = ProxyRequest {
            path_params: &params,
            ..request(&headers, &vars, &[])
        };
        assert_eq!(
            event(&req),
            json!({
                "resource": "/users/{id}",
                "path": "/users/123",
                "httpMethod": "GET",
                "headers": {
                    "Host": "abc123defg.execute-api.localhost",
                    "User-Agent": "curl/8.5.0",
                    "Accept": "*/*",
                    "X-Forwarded-For": "203.0.113.7",
                    "X-Forwarded-Proto": "http",
                    "X-Forwarded-Port": "80"
                },
                "multiValueHeaders": {
                    "Host": ["abc123defg.execute-api.localhost"],
                    "User-Agent": ["curl/8.5.0"],
                    "Accept": ["*/*"],
                    "X-Forwarded-For": ["203.0.113.7"],
                    "X-Forwarded-Proto": ["http"],
                    "X-Forwarded-Port": ["80"]
                },
                "queryStringParameters": null,
                "multiValueQueryStringParameters": null,
                "pathParameters": {"id": "123"},
                "stageVariables": null,
                "requestContext": {
                    "resourceId": "r3s0urc3",
                    "resourcePath": "/users/{id}",
                    "httpMethod": "GET",
                    "extendedRequestId": "LV7fzho-PHcEJPw=",
                    "requestTime": "15/May/2020:06:01:09 +0000",
                    "path": "/prod/users/123",
                    "accountId": "000000000000",
                    "protocol": "HTTP/1.1",
                    "stage": "prod",
                    "domainPrefix": "abc123defg",
                    "requestTimeEpoch": 1_589_522_469_000_i64,
                    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                    "identity": {
                        "cognitoIdentityPoolId": null,
                        "accountId": null,
                        "cognitoIdentityId": null,
                        "caller": null,
                        "sourceIp": "203.0.113.7",
                        "principalOrgId": null,
                        "accessKey": null,
                        "cognitoAuthenticationType": null,
                        "cognitoAuthenticationProvider": null,
                        "userArn": null,
                        "userAgent": "curl/8.5.0",
                        "user": null
                    },
                    "domainName": "abc123defg.execute-api.localhost",
                    "deploymentId": "d3pl0y",
                    "apiId": "abc123defg"
                },
                "body": null,
                "isBase64Encoded": false
            })
        );
    }

    #[test]
    fn keys_follow_the_aws_sample_order() {
        let headers = hdrs(&[("Zeta", "1"), ("Alpha", "2")]);
        let vars = no_vars();
        let authorizer = json!({"principalId": "user"});
        let req = ProxyRequest {
            authorizer: Some(&authorizer),
            ..request(&headers, &vars, &[])
        };
        let node: Node = match serde_json::from_slice(&build_event(&req)) {
            Ok(n) => n,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            keys_of(&node, &[]),
            [
                "resource",
                "path",
                "httpMethod",
                "headers",
                "multiValueHeaders",
                "queryStringParameters",
                "multiValueQueryStringParameters",
                "pathParameters",
                "stageVariables",
                "requestContext",
                "body",
                "isBase64Encoded"
            ]
        );
        assert_eq!(
            keys_of(&node, &["requestContext"]),
            [
                "resourceId",
                "authorizer",
                "resourcePath",
                "httpMethod",
                "extendedRequestId",
                "requestTime",
                "path",
                "accountId",
                "protocol",
                "stage",
                "domainPrefix",
                "requestTimeEpoch",
                "requestId",
                "identity",
                "domainName",
                "deploymentId",
                "apiId"
            ]
        );
        assert_eq!(
            keys_of(&node, &["requestContext", "identity"]),
            [
                "cognitoIdentityPoolId",
                "accountId",
                "cognitoIdentityId",
                "caller",
                "sourceIp",
                "principalOrgId",
                "accessKey",
                "cognitoAuthenticationType",
                "cognitoAuthenticationProvider",
                "userArn",
                "userAgent",
                "user"
            ]
        );
        // Headers keep arrival order, the added X-Forwarded-* come last.
        assert_eq!(
            keys_of(&node, &["headers"]),
            [
                "Zeta",
                "Alpha",
                "X-Forwarded-For",
                "X-Forwarded-Proto",
                "X-Forwarded-Port"
            ]
        );
    }

    #[test]
    fn no_query_or_empty_query_gives_nulls() {
        let vars = no_vars();
        for raw_query in [None, Some(""), Some("&&")] {
            let e = event(&ProxyRequest {
                raw_query,
                ..request(&[], &vars, &[])
            });
            assert_eq!(e["queryStringParameters"], Value::Null, "{raw_query:?}");
            assert_eq!(e["multiValueQueryStringParameters"], Value::Null, "{raw_query:?}");
        }
    }

    #[test]
    fn repeated_query_keys_last_value_wins_and_lists_keep_order() {
        let vars = no_vars();
        let req = ProxyRequest {
            raw_query: Some("price=10&type=a&price=20&price=30"),
            ..request(&[], &vars, &[])
        };
        let e = event(&req);
        assert_eq!(e["queryStringParameters"], json!({"price": "30", "type": "a"}));
        assert_eq!(
            e["multiValueQueryStringParameters"],
            json!({"price": ["10", "20", "30"], "type": ["a"]})
        );
    }

    #[test]
    fn query_is_form_decoded_and_bare_keys_have_empty_values() {
        let vars = no_vars();
        let req = ProxyRequest {
            raw_query: Some("q=a+b%2Bc&flag&empty=&na%20me=%E2%9C%93&bad=%ZZ&eq=a=b"),
            ..request(&[], &vars, &[])
        };
        assert_eq!(
            event(&req)["queryStringParameters"],
            json!({"q": "a b+c", "flag": "", "empty": "", "na me": "✓", "bad": "%ZZ", "eq": "a=b"})
        );
    }

    #[test]
    fn repeated_headers_last_value_wins_case_insensitively() {
        let headers = hdrs(&[
            ("X-Dup", "one"),
            ("Accept", "a"),
            ("x-dup", "two"),
            ("X-DUP", "three"),
        ]);
        let vars = no_vars();
        let e = event(&request(&headers, &vars, &[]));
        assert_eq!(e["headers"]["X-Dup"], "three");
        assert_eq!(e["multiValueHeaders"]["X-Dup"], json!(["one", "two", "three"]));
        assert!(e["headers"].get("x-dup").is_none());
        assert_eq!(e["headers"]["Accept"], "a");
    }

    #[test]
    fn authorization_and_user_agent_are_title_cased_others_keep_client_casing() {
        let headers = hdrs(&[
            ("authorization", "Bearer x"),
            ("USER-AGENT", "agent/1"),
            ("tEsT-HEADeR", "v"),
        ]);
        let vars = no_vars();
        let e = event(&request(&headers, &vars, &[]));
        assert_eq!(e["headers"]["Authorization"], "Bearer x");
        assert_eq!(e["headers"]["User-Agent"], "agent/1");
        assert_eq!(e["headers"]["tEsT-HEADeR"], "v");
        assert_eq!(e["multiValueHeaders"]["Authorization"], json!(["Bearer x"]));
        assert_eq!(e["requestContext"]["identity"]["userAgent"], "agent/1");
        assert!(e["headers"].get("authorization").is_none());
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let headers = hdrs(&[
            ("Connection", "keep-alive"),
            ("content-length", "0"),
            ("Content-MD5", "x"),
            ("Expect", "100-continue"),
            ("Max-Forwards", "3"),
            ("Proxy-Authenticate", "Basic"),
            ("Server", "x"),
            ("te", "trailers"),
            ("Trailer", "x"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"),
            ("WWW-Authenticate", "Basic"),
            ("Keep", "me"),
        ]);
        let vars = no_vars();
        let e = event(&request(&headers, &vars, &[]));
        let expected = json!({
            "Keep": "me",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Port": "80"
        });
        assert_eq!(e["headers"], expected);
        assert_eq!(e["multiValueHeaders"].as_object().map(|m| m.len()), Some(4));
    }

    #[test]
    fn forwarded_headers_use_the_host_port_and_never_override_the_client() {
        let vars = no_vars();
        let headers = hdrs(&[("host", "localhost:8080")]);
        let e = event(&request(&headers, &vars, &[]));
        assert_eq!(e["headers"]["X-Forwarded-Port"], "8080");

        let headers = hdrs(&[("Host", "[::1]:9000")]);
        assert_eq!(
            event(&request(&headers, &vars, &[]))["headers"]["X-Forwarded-Port"],
            "9000"
        );

        let headers = hdrs(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "443"),
        ]);
        let e = event(&request(&headers, &vars, &[]));
        assert_eq!(
            e["headers"],
            json!({"x-forwarded-for": "198.51.100.1", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"})
        );
        assert_eq!(e["requestContext"]["identity"]["sourceIp"], "203.0.113.7");
    }

    #[test]
    fn no_headers_at_all_gives_null_maps() {
        let vars = no_vars();
        let e = event(&request(&[], &vars, &[]));
        assert_eq!(e["headers"], Value::Null);
        assert_eq!(e["multiValueHeaders"], Value::Null);
        assert_eq!(e["requestContext"]["identity"]["userAgent"], Value::Null);
    }

    #[test]
    fn greedy_path_keeps_trailing_and_inner_slashes_and_collapses_the_leading_one() {
        let vars = no_vars();
        let params = [("proxy", "proxy-value".to_string())];
        let req = ProxyRequest {
            raw_path: "//proxy-value/",
            resource_path: "/{proxy+}",
            path_params: &params,
            ..request(&[], &vars, &[])
        };
        let e = event(&req);
        assert_eq!(e["resource"], "/{proxy+}");
        assert_eq!(e["path"], "/proxy-value/");
        assert_eq!(e["requestContext"]["path"], "/prod//proxy-value/");
        assert_eq!(e["requestContext"]["resourcePath"], "/{proxy+}");
        assert_eq!(e["pathParameters"], json!({"proxy": "proxy-value"}));

        let params = [("proxy", "a//b".to_string())];
        let req = ProxyRequest {
            raw_path: "/a//b/",
            resource_path: "/{proxy+}",
            path_params: &params,
            ..request(&[], &vars, &[])
        };
        let e = event(&req);
        assert_eq!(e["path"], "/a//b/");
        assert_eq!(e["requestContext"]["path"], "/prod/a//b/");
        assert_eq!(e["pathParameters"], json!({"proxy": "a//b"}));

        let req = ProxyRequest {
            raw_path: "//hardcoded",
            ..request(&[], &vars, &[])
        };
        assert_eq!(event(&req)["path"], "/hardcoded");
        let req = ProxyRequest {
            raw_path: "",
            ..request(&[], &vars, &[])
        };
        let e = event(&req);
        assert_eq!(e["path"], "/");
        assert_eq!(e["requestContext"]["path"], "/prod");
    }

    #[test]
    fn encoded_characters_stay_in_path_and_params_but_query_is_decoded() {
        let vars = no_vars();
        let params = [("alias", "test%2Balias".to_string())];
        let req = ProxyRequest {
            raw_path: "/test%2Balias",
            raw_query: Some("q=test%2Balias&s=a%20b"),
            resource_path: "/{alias}",
            path_params: &params,
            ..request(&[], &vars, &[])
        };
        let e = event(&req);
        assert_eq!(e["path"], "/test%2Balias");
        assert_eq!(e["requestContext"]["path"], "/prod/test%2Balias");
        assert_eq!(e["pathParameters"], json!({"alias": "test%2Balias"}));
        assert_eq!(e["queryStringParameters"], json!({"q": "test+alias", "s": "a b"}));
    }

    #[test]
    fn path_parameters_are_null_when_none() {
        let vars = no_vars();
        assert_eq!(event(&request(&[], &vars, &[]))["pathParameters"], Value::Null);
    }

    #[test]
    fn binary_body_is_base64_under_binary_media_types() {
        let vars = no_vars();
        let body = [0x89u8, b'P', b'N', b'G', 0, 0xff];
        for (content_type, types) in [
            ("image/png", vec!["image/png".to_string()]),
            ("Image/PNG; charset=binary", vec!["image/png".to_string()]),
            ("image/png", vec!["image/*".to_string()]),
            ("application/octet-stream", vec!["*/*".to_string()]),
        ] {
            let headers = hdrs(&[("Content-Type", content_type)]);
            let e = event(&ProxyRequest {
                body: &body,
                method: "POST",
                ..request(&headers, &vars, &types)
            });
            assert_eq!(e["body"], STANDARD.encode(body), "{content_type} {types:?}");
            assert_eq!(e["isBase64Encoded"], true, "{content_type} {types:?}");
        }
    }

    #[test]
    fn text_body_is_passed_as_text_when_not_a_binary_media_type() {
        let vars = no_vars();
        let types = ["image/png".to_string()];
        let headers = hdrs(&[("Content-Type", "application/json")]);
        let body = r#"{"name":"caf\u00e9","q":"\"x\""} é"#.as_bytes();
        let e = event(&ProxyRequest {
            body,
            ..request(&headers, &vars, &types)
        });
        assert_eq!(e["body"], String::from_utf8_lossy(body).as_ref());
        assert_eq!(e["isBase64Encoded"], false);

        // Not valid UTF-8 and not binary: lossy text (documented choice).
        let e = event(&ProxyRequest {
            body: b"a\xffb",
            ..request(&headers, &vars, &types)
        });
        assert_eq!(e["body"], "a\u{fffd}b");
        assert_eq!(e["isBase64Encoded"], false);

        // No binaryMediaTypes at all: everything is text.
        let headers = hdrs(&[("Content-Type", "image/png")]);
        let e = event(&ProxyRequest {
            body: b"png",
            ..request(&headers, &vars, &[])
        });
        assert_eq!(e["body"], "png");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn missing_content_type_counts_as_application_json() {
        let vars = no_vars();
        let all = ["*/*".to_string()];
        let e = event(&ProxyRequest {
            body: b"hi",
            ..request(&[], &vars, &all)
        });
        assert_eq!(e["body"], "aGk=");
        assert_eq!(e["isBase64Encoded"], true);
        let png = ["image/png".to_string()];
        let e = event(&ProxyRequest {
            body: b"hi",
            ..request(&[], &vars, &png)
        });
        assert_eq!(e["body"], "hi");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn empty_body_is_null_even_for_binary_types() {
        let vars = no_vars();
        let types = ["*/*".to_string()];
        let headers = hdrs(&[("Content-Type", "image/png")]);
        let e = event(&request(&headers, &vars, &types));
        assert_eq!(e["body"], Value::Null);
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn stage_variables_are_null_when_empty_and_a_map_otherwise() {
        let empty = no_vars();
        assert_eq!(event(&request(&[], &empty, &[]))["stageVariables"], Value::Null);
        let vars: BTreeMap<String, String> = [
            ("host".to_string(), "example.com".to_string()),
            ("alias".to_string(), "live".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            event(&request(&[], &vars, &[]))["stageVariables"],
            json!({"host": "example.com", "alias": "live"})
        );
    }

    #[test]
    fn request_time_is_common_log_format_utc() {
        let vars = no_vars();
        let e = event(&ProxyRequest {
            request_time_epoch_ms: 1_589_522_469_123,
            ..request(&[], &vars, &[])
        });
        assert_eq!(e["requestContext"]["requestTime"], "15/May/2020:06:01:09 +0000");
        assert_eq!(e["requestContext"]["requestTimeEpoch"], 1_589_522_469_123_i64);
        let e = event(&ProxyRequest {
            request_time_epoch_ms: 1_704_067_200_000,
            ..request(&[], &vars, &[])
        });
        assert_eq!(e["requestContext"]["requestTime"], "01/Jan/2024:00:00:00 +0000");
    }

    #[test]
    fn authorizer_is_absent_unless_given() {
        let vars = no_vars();
        let e = event(&request(&[], &vars, &[]));
        assert!(e["requestContext"].get("authorizer").is_none());
        let ctx = json!({"principalId": "me", "integrationLatency": 0});
        let e = event(&ProxyRequest {
            authorizer: Some(&ctx),
            ..request(&[], &vars, &[])
        });
        assert_eq!(e["requestContext"]["authorizer"], ctx);
    }

    #[test]
    fn domain_prefix_is_the_first_label_without_port() {
        let vars = no_vars();
        let e = event(&ProxyRequest {
            domain_name: "abc123defg.execute-api.localhost:8080",
            ..request(&[], &vars, &[])
        });
        assert_eq!(e["requestContext"]["domainPrefix"], "abc123defg");
        assert_eq!(
            e["requestContext"]["domainName"],
            "abc123defg.execute-api.localhost:8080"
        );
        let e = event(&ProxyRequest {
            domain_name: "localhost:3000",
            ..request(&[], &vars, &[])
        });
        assert_eq!(e["requestContext"]["domainPrefix"], "localhost");
    }

    #[test]
    fn the_real_method_is_passed_and_strings_are_escaped() {
        let headers = hdrs(&[("X-Weird", "quote\" back\\slash \t tab ✓")]);
        let vars = no_vars();
        let e = event(&ProxyRequest {
            method: "PATCH",
            ..request(&headers, &vars, &[])
        });
        assert_eq!(e["httpMethod"], "PATCH");
        assert_eq!(e["requestContext"]["httpMethod"], "PATCH");
        assert_eq!(e["headers"]["X-Weird"], "quote\" back\\slash \t tab ✓");
    }

    // -------------------------------------------------------------------------------- is_binary

    #[test]
    fn binary_media_type_matching() {
        let types = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_binary("image/png", &types(&["image/png"])));
        assert!(is_binary("IMAGE/PNG", &types(&["image/png"])));
        assert!(is_binary("image/png", &types(&["Image/Png"])));
        assert!(is_binary("image/png; q=0.9", &types(&["image/png"])));
        assert!(is_binary("image/jpeg", &types(&["text/plain", "image/*"])));
        assert!(is_binary("anything/else", &types(&["*/*"])));
        assert!(!is_binary("image/png", &types(&["image/jpeg"])));
        assert!(!is_binary("text/png", &types(&["image/*"])));
        assert!(!is_binary("image/png", &[]));
        assert!(!is_binary("", &types(&["*/*"])));
        assert!(!is_binary("garbage", &types(&["*/*"])));
        // Wildcards only count on the binaryMediaTypes side.
        assert!(!is_binary("*/*", &types(&["image/png"])));
        assert!(!is_binary("image/*", &types(&["image/png"])));
    }

    // -------------------------------------------------------------------------------- response tests

    fn ok(result: &str) -> ProxyResponse {
        match map_response(result.as_bytes(), None, &[]) {
            Ok(r) => r,
            Err(e) => panic!("{result}: {e}"),
        }
    }

    fn header<'r>(resp: &'r ProxyResponse, name: &str) -> Vec<&'r str> {
        resp.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn json_ct() -> (String, String) {
        ("Content-Type".to_string(), "application/json".to_string())
    }

    #[test]
    fn a_full_response_maps_to_http() {
        let resp =
            ok(r#"{"statusCode":201,"headers":{"Content-Type":"text/plain","X-A":"1"},"body":"created"}"#);
        assert_eq!(
            resp,
            ProxyResponse {
                status: 201,
                headers: vec![
                    ("Content-Type".to_string(), "text/plain".to_string()),
                    ("X-A".to_string(), "1".to_string())
                ],
                body: b"created".to_vec()
            }
        );
    }

    #[test]
    fn empty_object_is_200_with_empty_json_response() {
        assert_eq!(
            ok("{}"),
            ProxyResponse {
                status: 200,
                headers: vec![json_ct()],
                body: Vec::new()
            }
        );
        assert_eq!(ok(" \n{\"statusCode\": null}").status, 200);
    }

    #[test]
    fn non_objects_are_malformed() {
        for result in [
            "\"hello\"",
            "123",
            "[200]",
            "[]",
            "null",
            "true",
            "",
            "not json",
            "{\"body\":\"x\"",
            "{} {}",
        ] {
            assert!(
                map_response(result.as_bytes(), None, &[]).is_err(),
                "{result:?} should be malformed"
            );
        }
        assert!(map_response(b"\xff{}", None, &[]).is_err());
    }

    #[test]
    fn unknown_top_level_keys_are_malformed() {
        for result in [
            r#"{"statusCode":200,"body":"x","extra":1}"#,
            r#"{"StatusCode":200}"#,
            r#"{"errorMessage":"boom","errorType":"Error"}"#,
        ] {
            let err = map_response(result.as_bytes(), None, &[]);
            assert!(err.is_err(), "{result} should be malformed");
        }
        let Err(MalformedResponse(why)) = map_response(br#"{"extra":1}"#, None, &[]) else {
            panic!("accepted an unknown key")
        };
        assert!(why.contains("extra"), "{why}");
    }

    #[test]
    fn status_code_accepts_integers_and_numeric_strings_only() {
        assert_eq!(ok(r#"{"statusCode":404}"#).status, 404);
        assert_eq!(ok(r#"{"statusCode":"201"}"#).status, 201);
        assert_eq!(ok(r#"{"statusCode":200}"#).status, 200);
        assert_eq!(ok(r#"{"statusCode":"599"}"#).status, 599);
        // 1xx are not final answers (101 would switch the client's
        // connection to another protocol).
        for bad in [
            "\"abc\"", "\"\"", "\"20 1\"", "\"+201\"", "200.5", "200.0", "true", "{}", "[200]", "99", "100",
            "101", "\"199\"", "600", "-200", "70000", "\"700\"",
        ] {
            let result = format!(r#"{{"statusCode":{bad}}}"#);
            assert!(
                map_response(result.as_bytes(), None, &[]).is_err(),
                "statusCode {bad} accepted"
            );
        }
    }

    #[test]
    fn headers_must_be_strings_or_booleans() {
        let resp = ok(r#"{"headers":null}"#);
        assert_eq!(resp.headers, vec![json_ct()]);
        let resp = ok(r#"{"headers":{"X-True":true,"X-False":false}}"#);
        assert_eq!(header(&resp, "X-True"), ["true"]);
        assert_eq!(header(&resp, "X-False"), ["false"]);
        for bad in [
            r#"{"headers":{"X-N":1}}"#,
            r#"{"headers":{"X-N":null}}"#,
            r#"{"headers":{"X-N":["a"]}}"#,
            r#"{"headers":{"X-N":{"a":"b"}}}"#,
            r#"{"headers":"X-N: 1"}"#,
            r#"{"headers":[]}"#,
        ] {
            assert!(map_response(bad.as_bytes(), None, &[]).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn multi_value_headers_must_be_lists_of_strings() {
        let resp = ok(r#"{"multiValueHeaders":null}"#);
        assert_eq!(resp.headers, vec![json_ct()]);
        let resp = ok(r#"{"multiValueHeaders":{"X-B":[true,"x"]}}"#);
        assert_eq!(header(&resp, "X-B"), ["true, x"]);
        for bad in [
            r#"{"multiValueHeaders":{"X-M":"a"}}"#,
            r#"{"multiValueHeaders":{"X-M":null}}"#,
            r#"{"multiValueHeaders":{"X-M":[1]}}"#,
            r#"{"multiValueHeaders":{"X-M":[["a"]]}}"#,
            r#"{"multiValueHeaders":["X-M"]}"#,
        ] {
            assert!(map_response(bad.as_bytes(), None, &[]).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn multi_and_single_headers_merge_into_one_header() {
        let resp = ok(r#"{
            "headers": {"x-multi": "c", "X-Single": "s", "content-type": "text/html"},
            "multiValueHeaders": {"X-Multi": ["a", "b"], "X-Only-Multi": ["m"], "X-Empty": []}
        }"#);
        assert_eq!(
            resp.headers,
            vec![
                ("X-Multi".to_string(), "a, b, c".to_string()),
                ("X-Only-Multi".to_string(), "m".to_string()),
                ("X-Single".to_string(), "s".to_string()),
                ("content-type".to_string(), "text/html".to_string()),
            ]
        );
    }

    #[test]
    fn a_pair_in_both_maps_appears_once() {
        // What lambda_http sends: the same Content-Type in both maps.
        let resp = ok(r#"{
            "headers": {"content-type": "text/html", "x-a": "2"},
            "multiValueHeaders": {"content-type": ["text/html"], "X-A": ["1", "2"]}
        }"#);
        assert_eq!(header(&resp, "content-type"), ["text/html"]);
        assert_eq!(header(&resp, "X-A"), ["1, 2"]);
    }

    #[test]
    fn set_cookie_is_never_folded() {
        let resp = ok(r#"{
            "headers": {"Set-Cookie": "c=3"},
            "multiValueHeaders": {"set-cookie": ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT"]}
        }"#);
        assert_eq!(
            header(&resp, "set-cookie"),
            ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "c=3"]
        );
        assert!(header(&resp, "Set-Cookie").is_empty());
    }

    #[test]
    fn content_type_is_added_only_when_missing() {
        assert_eq!(
            header(&ok(r#"{"body":"{}"}"#), "Content-Type"),
            ["application/json"]
        );
        let resp = ok(r#"{"headers":{"CONTENT-TYPE":"text/plain"}}"#);
        assert_eq!(
            resp.headers,
            vec![("CONTENT-TYPE".to_string(), "text/plain".to_string())]
        );
        let resp = ok(r#"{"multiValueHeaders":{"content-type":["text/csv"]}}"#);
        assert_eq!(
            resp.headers,
            vec![("content-type".to_string(), "text/csv".to_string())]
        );
    }

    #[test]
    fn body_must_be_a_string_or_null() {
        assert_eq!(ok(r#"{"body":null}"#).body, b"");
        assert_eq!(ok(r#"{"statusCode":204}"#).body, b"");
        assert_eq!(ok(r#"{"body":"caf\u00e9 \"q\""}"#).body, "café \"q\"".as_bytes());
        for bad in [
            r#"{"body":{"a":1}}"#,
            r#"{"body":["a"]}"#,
            r#"{"body":42}"#,
            r#"{"body":true}"#,
        ] {
            assert!(map_response(bad.as_bytes(), None, &[]).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn base64_body_is_decoded_only_for_a_binary_first_accept_type() {
        let types = ["image/*".to_string()];
        let result =
            br#"{"isBase64Encoded":true,"headers":{"Content-Type":"image/png"},"body":"iVBORw0KGgo="}"#;
        let png = b"\x89PNG\r\n\x1a\n".to_vec();

        let decode = |accept: Option<&str>, types: &[String]| match map_response(result, accept, types) {
            Ok(r) => r.body,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(decode(Some("image/png"), &types), png);
        assert_eq!(decode(Some("image/webp;q=0.9, text/html"), &types), png);
        // Only the first Accept type counts.
        assert_eq!(decode(Some("text/html, image/png"), &types), b"iVBORw0KGgo=");
        // No binaryMediaTypes: the base64 text is sent as-is.
        assert_eq!(decode(Some("image/png"), &[]), b"iVBORw0KGgo=");
        // A missing Accept counts as application/json (documented choice).
        assert_eq!(decode(None, &types), b"iVBORw0KGgo=");
        assert_eq!(decode(None, &["*/*".to_string()]), png);
    }

    #[test]
    fn base64_decoding_is_lenient_about_padding_and_whitespace_but_rejects_garbage() {
        let types = ["*/*".to_string()];
        let body = |result: &str| map_response(result.as_bytes(), Some("*/*"), &types).map(|r| r.body);
        assert_eq!(
            body(r#"{"isBase64Encoded":true,"body":"aGk"}"#),
            Ok(b"hi".to_vec())
        );
        assert_eq!(
            body(r#"{"isBase64Encoded":true,"body":"aGVs\nbG8="}"#),
            Ok(b"hello".to_vec())
        );
        assert_eq!(
            body(r#"{"isBase64Encoded":"true","body":"aGk="}"#),
            Ok(b"hi".to_vec())
        );
        assert_eq!(
            body(r#"{"isBase64Encoded":false,"body":"aGk="}"#),
            Ok(b"aGk=".to_vec())
        );
        assert_eq!(
            body(r#"{"isBase64Encoded":null,"body":"aGk="}"#),
            Ok(b"aGk=".to_vec())
        );
        assert!(body(r#"{"isBase64Encoded":true,"body":"not base64!"}"#).is_err());
        assert!(body(r#"{"isBase64Encoded":"yes","body":"aGk="}"#).is_err());
        assert!(body(r#"{"isBase64Encoded":1,"body":"aGk="}"#).is_err());
        // Not decoded, so not validated, when the Accept type is text.
        let images = ["image/*".to_string()];
        assert_eq!(
            map_response(
                br#"{"isBase64Encoded":true,"body":"not base64!"}"#,
                Some("text/html"),
                &images
            )
            .map(|r| r.body),
            Ok(b"not base64!".to_vec())
        );
    }

    #[test]
    fn malformed_message_reads_well_in_the_log() {
        let Err(err) = map_response(b"[]", None, &[]) else {
            panic!("accepted an array")
        };
        assert_eq!(
            err.to_string(),
            "Malformed Lambda proxy response: the function result is not a JSON object"
        );
    }

    #[test]
    fn request_time_matches_chrono() {
        let mut t: i64 = -62_167_219_200_000; // 0000-01-01
        while t < 253_402_300_800_000 {
            // 9999-12-31 and beyond
            let chrono = chrono::DateTime::from_timestamp_millis(t)
                .unwrap()
                .format("%d/%b/%Y:%H:%M:%S +0000")
                .to_string();
            let fast = clf_time(t).map(|b| String::from_utf8(b.to_vec()).unwrap());
            assert_eq!(fast.as_deref(), Some(chrono.as_str()), "at {t}");
            t += 86_399_999 * 29 + 12_345; // walks through every day of the month, hour and month
        }
        assert_eq!(clf_time(-62_167_219_200_001), None);
        assert_eq!(clf_time(253_402_300_800_000), None);
        assert_eq!(
            clf_time(1_589_522_469_000).unwrap(),
            *b"15/May/2020:06:01:09 +0000"
        );
        // The last second is remembered, and only for that second.
        let second = |ms| clf_time(ms).map(|b| String::from_utf8(b.to_vec()).unwrap());
        assert_eq!(second(1_589_522_469_999).unwrap(), "15/May/2020:06:01:09 +0000");
        assert_eq!(second(1_589_522_470_000).unwrap(), "15/May/2020:06:01:10 +0000");
        assert_eq!(second(1_589_522_469_500).unwrap(), "15/May/2020:06:01:09 +0000");
        assert_eq!(second(-1).unwrap(), "31/Dec/1969:23:59:59 +0000");
    }
}
