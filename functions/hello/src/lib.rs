//! `hello`: the example function of the guest SDK README.
//! Returns an API Gateway proxy response with a fixed JSON body.

use portico_guest::events::apigw::ApiGatewayProxyResponse;
use portico_guest::events::encodings::Body;
use portico_guest::events::http::header::{CONTENT_TYPE, HeaderValue};
use portico_guest::serde::de::IgnoredAny;
use portico_guest::{Context, Error, handler, info};

// The event is not needed, so it is skipped (`IgnoredAny`) rather than
// parsed: the cheapest way to accept any event. The response is the typed
// proxy response, which serialises without building a JSON tree.
fn hello(_event: IgnoredAny, ctx: Context) -> Result<ApiGatewayProxyResponse, Error> {
    info(format_args!("hello invoked as {}", ctx.function_name));
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.body = Some(Body::Text(r#"{"message":"Hello from Portico"}"#.into()));
    Ok(response)
}

handler!(hello);
