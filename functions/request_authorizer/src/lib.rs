//! `request_authorizer`: the AWS REQUEST authorizer blueprint, using a
//! header and a query parameter as the identity.
//!
//! Allow (every method and path of the stage) when the `HeaderAuth1` header
//! is `headerValue1` and the `QueryString1` query parameter is `queryValue1`;
//! an explicit Deny when the header is `deny`; otherwise the error
//! `Unauthorized` (API Gateway answers 401). The principal is the header's
//! value; a `x-usage-key` header becomes the `usageIdentifierKey` (for APIs
//! whose `apiKeySource` is `AUTHORIZER`).

use portico_guest::events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use portico_guest::{AuthorizerResponse, Context, Error, handler, method_arn_wildcard};

fn authorize(event: ApiGatewayCustomAuthorizerRequestTypeRequest, _ctx: Context) -> Result<AuthorizerResponse, Error> {
    let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let query = event
        .query_string_parameters
        .first("QueryString1")
        .unwrap_or_default();
    let method_arn = method_arn_wildcard(event.method_arn.as_deref().unwrap_or_default());
    let principal = header("headerauth1");
    let mut response = match (principal, query) {
        ("headerValue1", "queryValue1") => AuthorizerResponse::allow(principal, method_arn),
        ("deny", _) => AuthorizerResponse::deny(principal, method_arn),
        _ => return Err(Error::new("Unauthorized", "Unauthorized")),
    };
    response = response
        .with_context("path", event.path.unwrap_or_default())
        .with_context("query", query);
    let usage_key = header("x-usage-key");
    if !usage_key.is_empty() {
        response = response.with_usage_identifier_key(usage_key);
    }
    Ok(response)
}

handler!(authorize);
