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
