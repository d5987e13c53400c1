//! `echo`: returns the whole event, serialised as a JSON string, as the body
//! of an API Gateway proxy response.

use portico_guest::serde_json::{Value, json};
use portico_guest::{Context, Error, handler};

fn echo(event: Value, _ctx: Context) -> Result<Value, Error> {
    Ok(json!({
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": event.to_string(),
    }))
}

handler!(echo);
