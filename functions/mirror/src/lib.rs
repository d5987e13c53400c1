//! `mirror`: a plain (non-proxy) Lambda function for mapping-template
//! integrations. It returns the event it received unchanged; an event with
//! `"fail": "<message>"` fails with that `errorMessage` (error type from
//! `"errorType"`, default `Error`), which integration responses select on.

use portico_guest::serde_json::Value;
use portico_guest::{Context, Error, raw_handler};

fn mirror(event: &[u8], _ctx: Context) -> Result<Vec<u8>, Error> {
    if let Ok(Value::Object(map)) = portico_guest::serde_json::from_slice::<Value>(event)
        && let Some(message) = map.get("fail").and_then(Value::as_str)
    {
        let kind = map.get("errorType").and_then(Value::as_str).unwrap_or("Error");
        return Err(Error::new(kind, message));
    }
    Ok(event.to_vec())
}

raw_handler!(mirror);
