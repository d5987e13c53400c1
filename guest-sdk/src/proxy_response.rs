//! The Lambda proxy response written as JSON by hand. Most functions behind
//! API Gateway return [`ApiGatewayProxyResponse`], and serde's path for it
//! (two header maps through generic map serializers, every string escaped
//! a byte at a time) was a third of a small function's instructions. The
//! bytes are exactly what `serde_json::to_writer` writes; anything this
//! writer does not cover (a binary body, a header value that is not UTF-8,
//! or `aws_lambda_events` built with its `catch-all-fields` feature) is
//! left to serde.

use std::sync::OnceLock;

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::http::HeaderMap;

use crate::scan::first_special;

/// Appends `r` as serde would; `false` (with `out` unchanged) when the
/// response needs serde.
pub(crate) fn write(out: &mut Vec<u8>, r: &ApiGatewayProxyResponse) -> bool {
    let start = out.len();
    if !covered() || !write_fields(out, r) {
        out.truncate(start);
        return false;
    }
    true
}

fn write_fields(out: &mut Vec<u8>, r: &ApiGatewayProxyResponse) -> bool {
    out.extend_from_slice(b"{\"statusCode\":");
    out.extend_from_slice(itoa::Buffer::new().format(r.status_code).as_bytes());
    out.extend_from_slice(b",\"headers\":");
    if !write_headers(out, &r.headers, false) {
        return false;
    }
    out.extend_from_slice(b",\"multiValueHeaders\":");
    if !write_headers(out, &r.multi_value_headers, true) {
        return false;
    }
    match &r.body {
        None => {}
        Some(Body::Empty) => out.extend_from_slice(b",\"body\":null"),
        Some(Body::Text(text)) => {
            out.extend_from_slice(b",\"body\":");
            push_str(out, text);
        }
        Some(_) => return false,
    }
    out.extend_from_slice(if r.is_base64_encoded {
        b",\"isBase64Encoded\":true}"
    } else {
        b",\"isBase64Encoded\":false}"
    });
    true
}

/// `{"name":"value"}` (the first value of each name, as serde's
/// `headers[key]` reads it) or `{"name":["value",...]}`.
fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap, multi: bool) -> bool {
    out.push(b'{');
    for (i, name) in headers.keys().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, name.as_str());
        out.push(b':');
        let mut values = headers.get_all(name).iter();
        if multi {
            out.push(b'[');
            for (j, value) in values.enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
                    return false;
                };
                push_str(out, text);
            }
            out.push(b']');
        } else {
            let Some(Ok(text)) = values.next().map(|v| std::str::from_utf8(v.as_bytes())) else {
                return false;
            };
            push_str(out, text);
        }
    }
    out.push(b'}');
    true
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes (`"`, `\`
/// and control characters, nothing else). Each run with nothing to escape
/// is found a word at a time and copied in one piece.
fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    loop {
        let end = start + first_special(&bytes[start..], false);
        out.extend_from_slice(&bytes[start..end]);
        let Some(&b) = bytes.get(end) else { break };
        push_escape(out, b);
        start = end + 1;
    }
    out.push(b'"');
}

fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0d => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

/// Whether the response type has only the fields written above: with
/// `aws_lambda_events`' `catch-all-fields` feature (which another crate of
/// the function may turn on) it carries extra keys that serde flattens in.
/// Checked once, by seeing whether an unknown key survives a round trip.
fn covered() -> bool {
    static COVERED: OnceLock<bool> = OnceLock::new();
    *COVERED.get_or_init(|| {
        serde_json::from_str::<ApiGatewayProxyResponse>(r#"{"statusCode":200,"portico-probe":1}"#)
            .ok()
            .and_then(|r| serde_json::to_string(&r).ok())
            .is_some_and(|text| !text.contains("portico-probe"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::http::header::{HeaderName, HeaderValue};

    fn serde_bytes(r: &ApiGatewayProxyResponse) -> Vec<u8> {
        serde_json::to_vec(r).unwrap()
    }

    fn response(
        status: i64,
        headers: &[(&str, &[u8])],
        multi: &[(&str, &[u8])],
        body: Option<Body>,
        b64: bool,
    ) -> ApiGatewayProxyResponse {
        let map = |pairs: &[(&str, &[u8])]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.append(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_bytes(v).unwrap(),
                );
            }
            m
        };
        let mut r = ApiGatewayProxyResponse::default();
        r.status_code = status;
        r.headers = map(headers);
        r.multi_value_headers = map(multi);
        r.body = body;
        r.is_base64_encoded = b64;
        r
    }

    #[test]
    fn writes_what_serde_writes() {
        let texts = [
            "",
            "plain",
            r#"{"message":"Hello from Portico"}"#,
            "quote \" backslash \\ slash / tab \t newline \n cr \r bell \u{7} nul \0 del \u{7f}",
            "é 漢字 🎉 and \u{1f} at the end\u{1}",
            "exactly8",
            "sixteen bytes ok",
            "seventeen \"bytes\"",
        ];
        let headers: &[&[(&str, &[u8])]] = &[
            &[],
            &[("content-type", b"application/json")],
            &[
                ("x-a", b"1"),
                ("x-b", b"two words"),
                ("x-a", b"3"),
                ("set-cookie", b"a=1; Path=/"),
            ],
            &[("x-obs", "é \t x".as_bytes())],
        ];
        for (i, text) in texts.iter().enumerate() {
            for (j, h) in headers.iter().enumerate() {
                for body in [None, Some(Body::Empty), Some(Body::Text((*text).to_string()))] {
                    let r = response(
                        [200, -1, 0, 599, i64::MAX][(i + j) % 5],
                        h,
                        headers[(j + 1) % headers.len()],
                        body,
                        i % 2 == 0,
                    );
                    let mut out = b"prefix".to_vec();
                    assert!(write(&mut out, &r), "{r:?}");
                    assert_eq!(
                        String::from_utf8_lossy(&out[6..]),
                        String::from_utf8_lossy(&serde_bytes(&r)),
                        "{r:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn leaves_the_rest_to_serde() {
        let binary = response(200, &[], &[], Some(Body::Binary(vec![0, 159, 146, 150])), true);
        let not_utf8 = response(200, &[("x-raw", &[0xff, 0xfe])], &[], None, false);
        let not_utf8_multi = response(200, &[], &[("x-raw", &[b'a', 0xff])], None, false);
        for r in [binary, not_utf8, not_utf8_multi] {
            let mut out = b"kept".to_vec();
            assert!(!write(&mut out, &r));
            assert_eq!(out, b"kept");
        }
    }

    #[test]
    fn the_response_type_has_no_catch_all_here() {
        assert!(covered());
    }
}
