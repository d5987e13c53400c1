//! Lambda integrations: `AWS_PROXY` (the payload-1.0 event in, the proxy
//! response rules of [`crate::frontdoor::proxy`] out) and `AWS` (a Lambda
//! call whose payload and result go through mapping templates).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;

use super::request::{IntegrationRequest, RequestFailure};
use super::response::{Answer, IntegrationResponses, answer};
use super::{ExecutionLog, RequestView};
use crate::frontdoor::proxy;
use crate::frontdoor::respond::{GatewayResponseType, GatewayResponses, ResponseContext};
use crate::frontdoor::{gateway_error, internal_error};
use crate::host::{Host, InvokeError, InvokeRequest, ResultCheck};

/// One function call for an integration.
pub struct LambdaCall<'a> {
    pub function: &'a str,
    pub qualifier: Option<&'a str>,
    pub payload: &'a [u8],
    /// The integration's `timeoutInMillis`.
    pub timeout: Duration,
    pub request_id: &'a str,
    /// `ByCaller` for a proxy integration, which parses the result itself.
    pub result_check: ResultCheck,
}

/// One `AWS_PROXY` call.
pub struct ProxyCall<'a> {
    /// Its payload is the payload-1.0 event.
    pub call: LambdaCall<'a>,
    /// The request's `Accept` (decides whether a base64 body is decoded).
    pub accept: Option<&'a str>,
    pub binary_media_types: &'a [String],
}

/// What became of a Lambda call, before any response mapping.
pub enum LambdaOutcome {
    /// The function's result.
    Result(Vec<u8>),
    /// The function failed: `{errorMessage, errorType, ...}` as Lambda reports it.
    FunctionError {
        error_type: String,
        /// `errorMessage`: what integration responses' `selectionPattern` matches.
        message: String,
        payload: Vec<u8>,
    },
    /// Answered already (timeout, throttle, unknown function).
    Refused(Response),
}

/// Invokes a function for an integration with the integration's timeout.
pub async fn invoke(
    host: &Host,
    call: &LambdaCall<'_>,
    responses: &GatewayResponses,
    ctx: &ResponseContext<'_>,
) -> LambdaOutcome {
    let invocation = std::pin::pin!(host.invoke(InvokeRequest {
        function: call.function,
        qualifier: call.qualifier,
        payload: call.payload,
        client_context: None,
        request_id: call.request_id.to_string(),
        want_log: false,
        result_check: call.result_check,
    }));
    // The integration timer exists only if the function is still running
    // after its first poll (a warm invocation usually is not).
    let deadline = std::time::Instant::now() + call.timeout;
    let outcome = match crate::host::within(deadline, invocation).await {
        None => {
            return LambdaOutcome::Refused(responses.render(
                GatewayResponseType::IntegrationTimeout,
                None,
                ctx,
            ));
        }
        Some(o) => o,
    };
    let inv = match outcome {
        Ok(inv) => inv,
        Err(InvokeError::NotFound(arn)) => {
            tracing::warn!(function = %arn, "integration names a function that does not exist");
            return LambdaOutcome::Refused(internal_error());
        }
        Err(InvokeError::Throttled { .. }) => {
            return LambdaOutcome::Refused(responses.render(GatewayResponseType::Throttled, None, ctx));
        }
    };
    match inv.result {
        Ok(bytes) => LambdaOutcome::Result(bytes),
        Err(failure) => LambdaOutcome::FunctionError {
            payload: failure.payload(),
            error_type: failure.error_type,
            message: failure.message,
        },
    }
}

/// `AWS_PROXY`: invoke, then validate and map the proxy response; a
/// function error or a malformed answer is 502.
pub async fn proxy(
    host: &Host,
    call: ProxyCall<'_>,
    responses: &GatewayResponses,
    view: &RequestView<'_>,
    log: &mut ExecutionLog,
) -> Response {
    let ctx = view.ctx;
    let function = call.call.function;
    let started = log.is_on().then(std::time::Instant::now);
    let outcome = invoke(host, &call.call, responses, ctx).await;
    if let (Some(started), LambdaOutcome::Result(body) | LambdaOutcome::FunctionError { payload: body, .. }) =
        (started, &outcome)
    {
        log.step(|| {
            format!(
                "Received response. Status: 200, Integration latency: {} ms",
                started.elapsed().as_millis()
            )
        });
        let failed = matches!(outcome, LambdaOutcome::FunctionError { .. });
        log_endpoint_response(log, view, body.len(), failed);
        log.step(|| {
            format!(
                "Endpoint response body before transformations: {}",
                String::from_utf8_lossy(body)
            )
        });
    }
    let result = match outcome {
        LambdaOutcome::Result(bytes) => bytes,
        LambdaOutcome::FunctionError {
            error_type, message, ..
        } => {
            tracing::info!(function = %function, error_type = %error_type, "Lambda function failed: Internal server error");
            log.step(|| {
                format!(
                    "Lambda execution failed with status 200 due to customer function error: {message}. Lambda request id: {}",
                    ctx.request_id
                )
            });
            return bad_gateway();
        }
        LambdaOutcome::Refused(r) => return r,
    };
    match proxy::map_response(&result, call.accept, call.binary_media_types) {
        Ok(r) => {
            let mut resp = into_response(r);
            super::stamp_trace_id(&mut resp, ctx);
            resp
        }
        Err(why) => {
            tracing::info!(function = %function, "Malformed Lambda proxy response: {}", why.0);
            log.step(|| {
                "Execution failed due to configuration error: Malformed Lambda proxy response".to_string()
            });
            bad_gateway()
        }
    }
}

/// The Lambda Invoke URL API Gateway calls, as its execution log names it.
pub fn endpoint_uri(host: &Host, function: &str, qualifier: Option<&str>) -> String {
    format!(
        "https://lambda.{}.amazonaws.com/2015-03-31/functions/{}/invocations",
        host.settings().region,
        host.function_arn(function, qualifier)
    )
}

/// The execution log's lines for the request to Lambda: its URI, the
/// headers API Gateway sends (signing headers left out), and the payload.
pub fn log_endpoint_request(
    log: &mut ExecutionLog,
    endpoint: &str,
    view: &RequestView<'_>,
    mapped: &[(String, String)],
    payload: &[u8],
) {
    if !log.is_on() {
        return;
    }
    log.step(|| format!("Endpoint request URI: {endpoint}"));
    log.step(|| {
        let api = view.ctx.api_id;
        let mut headers = vec![
            (
                "x-amzn-lambda-integration-tag".to_string(),
                view.ctx.request_id.to_string(),
            ),
            ("x-amzn-apigateway-api-id".to_string(), api.to_string()),
            ("Accept".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), format!("AmazonAPIGateway_{api}")),
        ];
        headers.extend(mapped.iter().cloned());
        format!("Endpoint request headers: {}", super::log_pairs(&headers))
    });
    log.step(|| {
        format!(
            "Endpoint request body after transformations: {}",
            String::from_utf8_lossy(payload)
        )
    });
}

/// The execution log's line for Lambda's response headers.
pub fn log_endpoint_response(log: &mut ExecutionLog, view: &RequestView<'_>, length: usize, failed: bool) {
    log.step(|| {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
        let error = if failed { ", X-Amz-Function-Error=Unhandled" } else { "" };
        format!(
            "Endpoint response headers: {{Date={date}, Content-Type=application/json, Content-Length={length}, \
Connection=keep-alive, x-amzn-RequestId={}{error}, X-Amz-Executed-Version=$LATEST}}",
            view.ctx.request_id
        )
    });
}

fn bad_gateway() -> Response {
    gateway_error(
        StatusCode::BAD_GATEWAY,
        "InternalServerErrorException",
        "Internal server error",
    )
}

pub fn into_response(r: proxy::ProxyResponse) -> Response {
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    // Room for the request id, extended id and trace id added on the way out.
    *resp.headers_mut() = super::http::lambda_proxy_headers(r.headers, 3);
    resp
}

/// An `AWS` (non-proxy) Lambda integration, compiled for a stage.
pub struct LambdaIntegration {
    pub function: String,
    pub qualifier: Option<String>,
    pub timeout: Duration,
    pub request: IntegrationRequest,
    pub responses: IntegrationResponses,
}

/// `AWS` to Lambda: the integration request becomes the invocation
/// payload; the result (or the function error, matched by its
/// `errorMessage`) goes through the integration responses.
/// `integration.request.header.X-Amz-Invocation-Type: 'Event'` invokes
/// asynchronously and answers with the default response at once.
pub async fn aws(
    host: &Arc<Host>,
    target: &LambdaIntegration,
    view: &RequestView<'_>,
    responses: &GatewayResponses,
    binary_media_types: &[String],
    log: &mut ExecutionLog,
) -> Response {
    let prepared = match target.request.prepare(view, binary_media_types, log) {
        Ok(p) => p,
        Err(RequestFailure::UnsupportedMediaType) => {
            return responses.render(GatewayResponseType::UnsupportedMediaType, None, view.ctx);
        }
        Err(RequestFailure::Configuration(why)) => {
            tracing::warn!(api = view.ctx.api_id, error = %why, "integration request failed");
            return internal_error();
        }
    };
    // Lambda takes JSON only (an empty payload is `{}`); anything else is
    // its InvalidRequestContentException, a 500 here.
    let payload: &[u8] = if prepared.body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &prepared.body
    };
    let endpoint = log
        .is_on()
        .then(|| endpoint_uri(host, &target.function, target.qualifier.as_deref()));
    let endpoint = endpoint.as_deref().unwrap_or_default();
    log_endpoint_request(log, endpoint, view, &prepared.headers, payload);
    if crate::json_check::check(payload).is_err() {
        log.step(|| {
            "Execution failed due to configuration error: Could not parse request body into json".to_string()
        });
        return internal_error();
    }
    log.step(|| format!("Sending request to {endpoint}"));
    if prepared
        .header("X-Amz-Invocation-Type")
        .is_some_and(|t| t.eq_ignore_ascii_case("Event"))
    {
        tokio::spawn(crate::host::run_event(
            host.clone(),
            target.function.clone(),
            target.qualifier.clone(),
            bytes::Bytes::copy_from_slice(payload),
            None,
            view.ctx.request_id.to_string(),
        ));
        log.step(|| "Received response. Status: 202".to_string());
        let mut resp = answer(
            &target.responses,
            &Answer::text(None, b"", None),
            view,
            binary_media_types,
            responses,
            log,
        );
        super::stamp_trace_id(&mut resp, view.ctx);
        return resp;
    }
    let started = std::time::Instant::now();
    // A response template that reads the result as JSON reads it here, and
    // the reading is the check that it is JSON.
    let reads_ahead = target.responses.reads_result_as_json(view);
    let call = LambdaCall {
        function: &target.function,
        qualifier: target.qualifier.as_deref(),
        payload,
        timeout: target.timeout,
        request_id: view.ctx.request_id,
        result_check: if reads_ahead {
            ResultCheck::ByCaller
        } else {
            ResultCheck::Json
        },
    };
    let mut outcome = invoke(host, &call, responses, view.ctx).await;
    let mut read_result = None;
    if let (true, LambdaOutcome::Result(body)) = (reads_ahead, &outcome) {
        read_result = std::str::from_utf8(body)
            .ok()
            .and_then(crate::vtl::JsonBody::read);
        if read_result.is_none()
            && let Err(e) = crate::json_check::check(body)
        {
            let failure = crate::host::instance::not_json(view.ctx.request_id, &e);
            // As the host logs a failure it finds itself.
            tracing::info!(target: "portico::function", function = %target.function, request_id = view.ctx.request_id, error_type = %failure.error_type, "{}", failure.message);
            outcome = LambdaOutcome::FunctionError {
                payload: failure.payload(),
                error_type: failure.error_type,
                message: failure.message,
            };
        }
    }
    let mut resp = match outcome {
        LambdaOutcome::Refused(r) => return r,
        LambdaOutcome::Result(body) => {
            log.step(|| {
                format!(
                    "Received response. Status: 200, Integration latency: {} ms",
                    started.elapsed().as_millis()
                )
            });
            log_endpoint_response(log, view, body.len(), false);
            log.step(|| {
                format!(
                    "Endpoint response body before transformations: {}",
                    String::from_utf8_lossy(&body)
                )
            });
            answer(
                &target.responses,
                &Answer::text(None, &body, read_result.as_ref()),
                view,
                binary_media_types,
                responses,
                log,
            )
        }
        LambdaOutcome::FunctionError { message, payload, .. } => {
            log.step(|| {
                format!(
                    "Received response. Status: 200, Integration latency: {} ms",
                    started.elapsed().as_millis()
                )
            });
            log_endpoint_response(log, view, payload.len(), true);
            log.step(|| {
                format!(
                    "Endpoint response body before transformations: {}",
                    String::from_utf8_lossy(&payload)
                )
            });
            answer(
                &target.responses,
                &Answer::text(Some(&message), &payload, None),
                view,
                binary_media_types,
                responses,
                log,
            )
        }
    };
    super::stamp_trace_id(&mut resp, view.ctx);
    resp
}
