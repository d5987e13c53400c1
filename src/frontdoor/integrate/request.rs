//! The integration request of the non-proxy integrations (`AWS`, `HTTP`,
//! `MOCK`): parameter mappings, the mapping template chosen by the request's
//! Content-Type, `passthroughBehavior`, and `contentHandling` — what the
//! backend receives.

use std::sync::Arc;

use base64::Engine as _;

use super::mapping::{MappingError, RequestMapping};
use super::{ContentHandling, ExecutionLog, RequestView};
use crate::apigw::model::Integration;
use crate::frontdoor::proxy;
use crate::vtl::{Template, Variables};

/// `passthroughBehavior`: what happens when no template matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

impl Passthrough {
    fn parse(s: Option<&str>) -> Passthrough {
        match s {
            Some("WHEN_NO_TEMPLATES") => Passthrough::WhenNoTemplates,
            Some("NEVER") => Passthrough::Never,
            _ => Passthrough::WhenNoMatch,
        }
    }
}

/// A mapping template, parsed at deploy time. A template that does not
/// parse fails its requests with 500, as AWS's "Unable to transform
/// request" does.
pub type CompiledTemplate = Result<Arc<Template>, String>;

pub fn compile_templates(
    templates: &std::collections::BTreeMap<String, String>,
) -> Vec<(String, CompiledTemplate)> {
    templates
        .iter()
        .map(|(ct, src)| {
            let compiled = Template::parse(src).map(Arc::new).map_err(|e| e.to_string());
            (ct.to_ascii_lowercase(), compiled)
        })
        .collect()
}

/// An integration's request side, compiled.
pub struct IntegrationRequest {
    pub mapping: RequestMapping,
    templates: Vec<(String, CompiledTemplate)>,
    passthrough: Passthrough,
    content_handling: Option<ContentHandling>,
}

/// What the backend receives.
#[derive(Debug, Default)]
pub struct Prepared {
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub path: Vec<(String, String)>,
}

impl Prepared {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why the request never reached the backend.
#[derive(Debug, PartialEq)]
pub enum RequestFailure {
    /// No template for the Content-Type and passthrough not allowed: 415.
    UnsupportedMediaType,
    /// A template or conversion failed: 500 Internal server error.
    Configuration(String),
}

/// The `$input.params()` view of one request: path parameters, and the
/// method request's headers as the proxy event shows them (names as the
/// client wrote them). Query strings come from [`RequestView::query`].
pub struct TemplateInputs<'a> {
    pub path: Vec<(&'a str, &'a str)>,
    pub header: Vec<(&'a str, &'a str)>,
}

impl<'a> TemplateInputs<'a> {
    pub fn of(view: &RequestView<'a>) -> TemplateInputs<'a> {
        TemplateInputs {
            path: view
                .ctx
                .path_params
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect(),
            header: crate::frontdoor::proxy::method_request_headers(
                view.headers,
                view.ctx.source_ip,
                view.ctx.domain_name,
                view.ctx.trace_id,
            ),
        }
    }
}

/// The media type a request's Content-Type selects templates by (no
/// Content-Type means `application/json`).
pub fn media_type(content_type: Option<&str>) -> String {
    content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "application/json".to_string())
}

impl IntegrationRequest {
    /// `lambda` applies the stricter header-mapping rules of `AWS`.
    pub fn compile(i: &Integration, lambda: bool) -> Result<IntegrationRequest, MappingError> {
        Ok(IntegrationRequest {
            mapping: RequestMapping::compile(&i.request_parameters, lambda)?,
            templates: compile_templates(&i.request_templates),
            passthrough: Passthrough::parse(i.passthrough_behavior.as_deref()),
            content_handling: ContentHandling::parse(i.content_handling.as_deref()),
        })
    }

    /// Whether the integration has any request template (MOCK without one
    /// answers with its default response).
    pub fn has_templates(&self) -> bool {
        !self.templates.is_empty()
    }

    /// Maps parameters, renders the template (or passes the body through)
    /// and converts the payload as `contentHandling` says.
    pub fn prepare(
        &self,
        view: &RequestView<'_>,
        binary_media_types: &[String],
        log: &mut ExecutionLog,
    ) -> Result<Prepared, RequestFailure> {
        let mapped = self
            .mapping
            .apply(view)
            .map_err(|e| RequestFailure::Configuration(e.0))?;
        let content_type = view.known_header_value(&axum::http::header::CONTENT_TYPE);
        let binary = content_type.is_some_and(|ct| proxy::is_binary(ct, binary_media_types));
        let wanted = media_type(content_type);
        let chosen = self
            .templates
            .iter()
            .find(|(ct, _)| *ct == wanted)
            .or_else(|| self.templates.iter().find(|(ct, _)| ct == "$default"));
        let mut prepared = Prepared {
            body: Vec::new(),
            headers: mapped.headers,
            query: mapped.query,
            path: mapped.path,
        };
        match chosen {
            Some((_, template)) => {
                let template = template.as_ref().map_err(|e| {
                    RequestFailure::Configuration(format!("Unable to parse request template: {e}"))
                })?;
                let text_body = if binary {
                    std::borrow::Cow::Owned(base64::engine::general_purpose::STANDARD.encode(view.body))
                } else {
                    super::text_of(view.body)
                };
                let body: &str = &text_body;
                let inputs = view.template_inputs();
                let query = view.query_pairs();
                let rendered = template
                    .render(&Variables {
                        body,
                        path: &inputs.path,
                        querystring: &query,
                        header: &inputs.header,
                        context: view,
                        stage_variables: view.ctx.stage_variables,
                    })
                    .map_err(|e| {
                        RequestFailure::Configuration(format!("Unable to transform request: {e}"))
                    })?;
                // Seen by the response template (its `responseOverride`
                // half takes effect there).
                let _ = view.lazy.request_overrides.set(rendered.overrides.clone());
                // `$context.requestOverride.*` wins over parameter mappings.
                for (k, v) in rendered.overrides.header {
                    prepared.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&k));
                    prepared.headers.push((k, v));
                }
                for (k, v) in rendered.overrides.querystring {
                    prepared.query.retain(|(n, _)| *n != k);
                    prepared.query.push((k, v));
                }
                for (k, v) in rendered.overrides.path {
                    prepared.path.retain(|(n, _)| *n != k);
                    prepared.path.push((k, v));
                }
                prepared.body = rendered.output.into_bytes();
                if self.content_handling == Some(ContentHandling::ConvertToBinary) {
                    prepared.body = decode(&prepared.body)?;
                }
            }
            None => {
                let allowed = match self.passthrough {
                    Passthrough::WhenNoMatch => true,
                    Passthrough::WhenNoTemplates => self.templates.is_empty(),
                    Passthrough::Never => false,
                };
                if !allowed {
                    log.step(|| {
                        format!("Execution failed: no template for content type {wanted} and passthrough is not allowed")
                    });
                    return Err(RequestFailure::UnsupportedMediaType);
                }
                prepared.body = match (binary, self.content_handling) {
                    (true, Some(ContentHandling::ConvertToText)) => base64::engine::general_purpose::STANDARD
                        .encode(view.body)
                        .into_bytes(),
                    (false, Some(ContentHandling::ConvertToBinary)) => decode(view.body)?,
                    _ => view.body.to_vec(),
                };
            }
        }
        Ok(prepared)
    }
}

/// CONVERT_TO_BINARY of a text payload: base64-decoded, or a 500.
fn decode(text: &[u8]) -> Result<Vec<u8>, RequestFailure> {
    let text = std::str::from_utf8(text)
        .map_err(|_| RequestFailure::Configuration("payload is not base64 text".to_string()))?;
    proxy::decode_base64(text).map_err(|e| RequestFailure::Configuration(e.0))
}
