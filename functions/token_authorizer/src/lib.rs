//! `token_authorizer`: the AWS TOKEN authorizer blueprint.
//!
//! Token `allow` -> Allow policy for the methodArn only, `allow-stage` ->
//! Allow for every method and path of the stage, `deny` -> Deny policy,
//! `unauthorized` -> error "Unauthorized" (API Gateway answers 401),
//! anything else -> error "Error: Invalid token" (API Gateway answers 500).

use portico_guest::events::apigw::ApiGatewayCustomAuthorizerRequest;
use portico_guest::{AuthorizerResponse, Context, Error, handler, method_arn_wildcard};

const PRINCIPAL_ID: &str = "user|a1b2c3d4";

fn with_blueprint_context(response: AuthorizerResponse) -> AuthorizerResponse {
    response
        .with_context("stringKey", "value")
        .with_context("numberKey", 123)
        .with_context("booleanKey", true)
}

fn authorize(event: ApiGatewayCustomAuthorizerRequest, _ctx: Context) -> Result<AuthorizerResponse, Error> {
    let method_arn = event.method_arn.unwrap_or_default();
    match event.authorization_token.as_deref().unwrap_or_default() {
        "allow" => Ok(with_blueprint_context(AuthorizerResponse::allow(
            PRINCIPAL_ID,
            method_arn,
        ))),
        "allow-stage" => Ok(with_blueprint_context(AuthorizerResponse::allow(
            PRINCIPAL_ID,
            method_arn_wildcard(&method_arn),
        ))),
        "deny" => Ok(with_blueprint_context(AuthorizerResponse::deny(
            PRINCIPAL_ID,
            method_arn,
        ))),
        "unauthorized" => Err(Error::new("Unauthorized", "Unauthorized")),
        _ => Err(Error::new("Error", "Error: Invalid token")),
    }
}

handler!(authorize);
