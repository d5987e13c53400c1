//! `hello`: the example function of the guest SDK README.
//! Returns an API Gateway proxy response with a fixed JSON body.

use portico_guest::serde::de::IgnoredAny;
use portico_guest::serde_json::{Value, json};
use portico_guest::{Context, Error, handler, info};

// The event is not needed, so it is skipped (`IgnoredAny`) rather than
// parsed into a tree: the cheapest way to accept any event.
fn hello(_event: IgnoredAny, ctx: Context) -> Result<Value, Error> {
    info(format_args!("hello invoked as {}", ctx.function_name));
    Ok(json!({
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json!({"message": "Hello from Portico"}).to_string(),
    }))
}

handler!(hello);
