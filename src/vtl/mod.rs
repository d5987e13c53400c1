//! Interim: only the JSONPath subset parameter mappings need (`$`, `$.a.b`,
//! `$.a[0]`). Replaced by the full VTL engine and its JSONPath evaluator.

pub mod jsonpath {
    /// A JSONPath that cannot be evaluated.
    #[derive(Debug)]
    pub struct VtlError(pub String);

    /// The value at a definite path; None when nothing matches.
    pub fn select(doc: &serde_json::Value, path: &str) -> Result<Option<serde_json::Value>, VtlError> {
        let rest = path
            .strip_prefix('$')
            .ok_or_else(|| VtlError(format!("invalid JSONPath {path}")))?;
        let mut cur = doc;
        for part in rest.split('.').filter(|p| !p.is_empty()) {
            let (name, index) = match part.split_once('[') {
                Some((n, i)) => (n, i.strip_suffix(']').and_then(|i| i.parse::<usize>().ok())),
                None => (part, None),
            };
            if !name.is_empty() {
                match cur.get(name) {
                    Some(v) => cur = v,
                    None => return Ok(None),
                }
            }
            if let Some(i) = index {
                match cur.get(i) {
                    Some(v) => cur = v,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(cur.clone()))
    }
}

use std::collections::BTreeMap;

/// Interim: the template source is printed as is.
pub struct Template {
    source: String,
}

#[derive(Debug)]
pub struct VtlError(pub String);

impl std::fmt::Display for VtlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VtlError {}

pub struct Variables<'a> {
    pub body: &'a str,
    pub path: &'a [(String, String)],
    pub querystring: &'a [(String, String)],
    pub header: &'a [(String, String)],
    pub context: &'a serde_json::Value,
    pub stage_variables: &'a BTreeMap<String, String>,
}

pub struct Rendered {
    pub output: String,
    pub overrides: Overrides,
}

#[derive(Default, Debug, Clone, PartialEq)]
pub struct Overrides {
    pub status: Option<u16>,
    pub header: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub path: Vec<(String, String)>,
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, VtlError> {
        Ok(Template {
            source: source.to_string(),
        })
    }

    pub fn render(&self, _vars: &Variables<'_>) -> Result<Rendered, VtlError> {
        Ok(Rendered {
            output: self.source.clone(),
            overrides: Overrides::default(),
        })
    }
}
