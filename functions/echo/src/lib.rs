//! `echo`: returns the whole event it received, as a JSON string, as the
//! body of an API Gateway proxy response. It works on the raw event bytes,
//! so the body is exactly the JSON the host delivered (same key order, same
//! spelling), and it costs little beyond copying them.

use portico_guest::{Context, Error, raw_handler};

fn echo(event: &[u8], _ctx: Context) -> Result<Vec<u8>, Error> {
    let text = std::str::from_utf8(event).map_err(Error::from)?;
    let body = portico_guest::serde_json::to_string(text).map_err(Error::from)?;
    let mut out = Vec::with_capacity(body.len() + 80);
    out.extend_from_slice(br#"{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"#);
    out.extend_from_slice(body.as_bytes());
    out.push(b'}');
    Ok(out)
}

raw_handler!(echo);
