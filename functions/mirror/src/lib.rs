//! `mirror`: a plain (non-proxy) Lambda function for mapping-template
//! integrations. It returns the event it received unchanged; an event with
//! `"fail": "<message>"` fails with that `errorMessage` (error type from
//! `"errorType"`, default `Error`), which integration responses select on.
//! Called through a Lambda proxy integration (an event with
//! `requestContext`), it mirrors the request body instead: same bytes,
//! same Content-Type, same `isBase64Encoded`.

use portico_guest::serde_json::{Value, json};
use portico_guest::{Context, Error, raw_handler};

fn mirror(event: &[u8], _ctx: Context) -> Result<Vec<u8>, Error> {
    if let Ok(Value::Object(map)) = portico_guest::serde_json::from_slice::<Value>(event) {
        if let Some(message) = map.get("fail").and_then(Value::as_str) {
            let kind = map.get("errorType").and_then(Value::as_str).unwrap_or("Error");
            return Err(Error::new(kind, message));
        }
        if map.contains_key("requestContext") && map.contains_key("httpMethod") {
            let content_type = map
                .get("headers")
                .and_then(|h| h.as_object())
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or("application/octet-stream");
            let reply = json!({
                "statusCode": 200,
                "headers": { "Content-Type": content_type },
                "body": map.get("body").cloned().unwrap_or(Value::Null),
                "isBase64Encoded": map.get("isBase64Encoded").cloned().unwrap_or(Value::Bool(false)),
            });
            return portico_guest::serde_json::to_vec(&reply).map_err(Error::from);
        }
    }
    Ok(event.to_vec())
}

raw_handler!(mirror);
