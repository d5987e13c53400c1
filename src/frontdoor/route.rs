//! REST API (v1) request routing: compiles the resources of one deployment into an immutable
//! routing table (a trie keyed by path segment) and resolves `(method, path)` to the resource, the
//! method entry (`GET`, ..., or `ANY`) and the path parameters, following API Gateway's rules.
//!
//! Precedence and slash handling reproduce recorded real-AWS behaviour:
//!
//! - At each level a literal segment beats `{param}`, which beats `{greedy+}`.
//! - Matching *commits*: once a request segment matches a literal child, the lookup never
//!   backtracks to a `{param}` or `{greedy+}` sibling, and once it takes a `{param}` child it never
//!   backtracks to a `{greedy+}` sibling. (The AWS docs: a proxy resource does not cover
//!   `/parent/*` once `/parent` exists.) A path that falls off the tree has no route.
//! - Leading slashes are collapsed, trailing slashes are ignored, the empty path is `/`. An
//!   empty inner segment (`a//b`) matches nothing unless a greedy parameter swallows it.
//! - Literals are compared against the percent-decoded request segment; `%2F` never splits a
//!   segment. Parameter values are returned raw (still percent-encoded).
//! - The exact method entry beats `ANY`; `ANY` covers DELETE GET HEAD OPTIONS PATCH POST PUT;
//!   HEAD is not derived from GET.
//! - A resource without the method (or a level that is only a prefix of longer resources) yields
//!   to a greedy resource the walk passed, deepest first: with POST on `/test` and OPTIONS on
//!   `/{proxy+}`, `OPTIONS /test` is served by `/{proxy+}` (recorded against AWS). The order
//!   among several greedy resources and the prefix-only case follow from that rule (in API
//!   Gateway every prefix is a resource); they are not separately recorded.
//!
//! Lookup cost depends on the number of request segments, not on the number of routes, and a
//! lookup allocates only the returned parameter vector (plus a decode buffer for segments that
//! contain `%` when the level has literal children).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use percent_encoding::percent_decode_str;

/// One resource of the deployment with the methods defined on it.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub resource_id: String,
    /// The resource's full path template: "/", "/users", "/users/{id}", "/files/{proxy+}".
    pub path: String,
    /// Methods defined on the resource, upper case: GET PUT POST DELETE PATCH OPTIONS HEAD ANY.
    pub methods: Vec<String>,
}

/// The compiled, immutable routing table of one deployment.
#[derive(Debug)]
pub struct RouteTable {
    root: Node,
    resources: Vec<Resource>,
}

/// The result of a successful lookup.
#[derive(Debug, PartialEq)]
pub struct RouteMatch<'a> {
    pub resource_id: &'a str,
    /// The template, e.g. "/users/{id}".
    pub resource_path: &'a str,
    /// The method entry that matched: the request's method, or "ANY".
    pub method: &'a str,
    /// (param name without braces/plus, raw value).
    pub path_params: Vec<(&'a str, String)>,
}

#[derive(Debug, PartialEq)]
pub enum RouteError {
    InvalidTemplate(String),
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::InvalidTemplate(msg) => write!(f, "invalid resource path template: {msg}"),
        }
    }
}

impl std::error::Error for RouteError {}

/// The methods an `ANY` entry stands for.
const ANY_COVERS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
const ANY: &str = "ANY";

/// Where a walk down the trie ended.
enum Walk {
    /// At a resource (which may still lack the method).
    Resource(usize),
    /// At a level that is a prefix of longer resources: in API Gateway a
    /// resource without methods.
    NoMethods,
    /// Off the tree: no resource covers the path.
    Miss,
}

#[derive(Debug, Default)]
struct Node {
    /// Index into `RouteTable::resources` of the resource ending exactly here.
    resource: Option<usize>,
    /// Literal children keyed by the template's segment text.
    literals: HashMap<String, Node>,
    /// The `{param}` child (whatever its name; names live on the resource).
    param: Option<Box<Node>>,
    /// The resource whose template ends with a greedy `{name+}` segment at this level.
    greedy: Option<usize>,
}

#[derive(Debug)]
struct Resource {
    id: String,
    path: String,
    methods: Vec<String>,
    /// The template's parameters in order.
    params: Vec<ParamSlot>,
}

#[derive(Debug)]
struct ParamSlot {
    /// Index of the template segment (0 = first segment after the leading `/`).
    segment: usize,
    name: String,
    greedy: bool,
}

enum TemplateSegment<'t> {
    Literal(&'t str),
    Param(&'t str),
    Greedy(&'t str),
}

fn invalid(path: &str, why: &str) -> RouteError {
    RouteError::InvalidTemplate(format!("{path:?}: {why}"))
}

/// Splits and validates a template. `"/"` yields no segments.
fn parse_template(path: &str) -> Result<Vec<TemplateSegment<'_>>, RouteError> {
    let Some(body) = path.strip_prefix('/') else {
        return Err(invalid(path, "must start with '/'"));
    };
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for seg in body.split('/') {
        if let Some(TemplateSegment::Greedy(_)) = out.last() {
            return Err(invalid(path, "a greedy path variable must be the last segment"));
        }
        if seg.is_empty() {
            return Err(invalid(path, "empty path segment"));
        }
        if !seg.contains(['{', '}']) {
            out.push(TemplateSegment::Literal(seg));
            continue;
        }
        let name = seg
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .ok_or_else(|| invalid(path, "braces must span a whole segment"))?;
        if name.contains(['{', '}']) {
            return Err(invalid(path, "braces must span a whole segment"));
        }
        let (name, greedy) = match name.strip_suffix('+') {
            Some(base) => (base, true),
            None => (name, false),
        };
        if name.is_empty() {
            return Err(invalid(path, "empty path variable name"));
        }
        if name.contains('+') {
            return Err(invalid(
                path,
                "'+' is only allowed at the end of a greedy path variable",
            ));
        }
        out.push(if greedy {
            TemplateSegment::Greedy(name)
        } else {
            TemplateSegment::Param(name)
        });
    }
    Ok(out)
}

/// Strips leading slashes (so `//x` is `/x`) and trailing slashes (so `/x/` is `/x`); the result
/// has no leading or trailing `/`, and the empty string stands for the root.
fn normalize(path: &str) -> &str {
    path.trim_start_matches('/').trim_end_matches('/')
}

/// Splits off the first segment of a normalized (sub)path: `(segment, rest after the '/')`.
fn split_first(path: &str) -> (&str, Option<&str>) {
    // A byte loop: segments are short, and `find`'s searcher costs more to
    // set up than scanning one. `/` is ASCII, so the cuts are on boundaries.
    match path.bytes().position(|b| b == b'/') {
        Some(i) => (&path[..i], Some(&path[i + 1..])),
        None => (path, None),
    }
}

impl Node {
    fn literal_child(&self, seg: &str) -> Option<&Node> {
        if self.literals.is_empty() || seg.is_empty() {
            return None;
        }
        if !seg.as_bytes().contains(&b'%') {
            return self.literals.get(seg);
        }
        // Decode the request segment; `%2F` decodes to '/', which no literal contains, so it can
        // never act as a separator. Invalid UTF-8 after decoding cannot equal a template literal.
        match percent_decode_str(seg).decode_utf8() {
            Ok(Cow::Borrowed(s)) => self.literals.get(s),
            Ok(Cow::Owned(s)) => self.literals.get(s.as_str()),
            Err(_) => None,
        }
    }
}

impl RouteTable {
    pub fn build(routes: Vec<RouteSpec>) -> Result<RouteTable, RouteError> {
        let mut root = Node::default();
        let mut resources = Vec::with_capacity(routes.len());
        for spec in routes {
            let index = resources.len();
            let segments = parse_template(&spec.path)?;
            let mut params = Vec::new();
            let mut node = &mut root;
            let mut slot: Option<&mut Option<usize>> = None;
            for (i, seg) in segments.iter().enumerate() {
                match *seg {
                    TemplateSegment::Literal(lit) => {
                        node = node.literals.entry(lit.to_owned()).or_default();
                    }
                    TemplateSegment::Param(name) => {
                        params.push(ParamSlot {
                            segment: i,
                            name: name.to_owned(),
                            greedy: false,
                        });
                        node = node.param.get_or_insert_with(Box::default);
                    }
                    TemplateSegment::Greedy(name) => {
                        // parse_template guarantees this is the last segment.
                        params.push(ParamSlot {
                            segment: i,
                            name: name.to_owned(),
                            greedy: true,
                        });
                        slot = Some(&mut node.greedy);
                        break;
                    }
                }
            }
            let slot = match slot {
                Some(s) => s,
                None => &mut node.resource,
            };
            if let Some(existing) = *slot {
                let other: &Resource = &resources[existing];
                return Err(invalid(
                    &spec.path,
                    &format!("conflicts with resource {:?} ({})", other.path, other.id),
                ));
            }
            *slot = Some(index);
            let methods = spec.methods.iter().map(|m| m.to_ascii_uppercase()).collect();
            resources.push(Resource {
                id: spec.resource_id,
                path: spec.path,
                methods,
                params,
            });
        }
        Ok(RouteTable { root, resources })
    }

    /// `path` is the request path after the stage, exactly as received (percent-encoded, may have
    /// `//` or a trailing `/`), without the query string; `method` is the request method.
    pub fn lookup(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let path = normalize(path);
        let reached = match self.walk(path, |_| {}) {
            Walk::Resource(index) => {
                if let Some(found) = self.method_entry(index, method, path) {
                    return Some(found);
                }
                Some(index)
            }
            Walk::NoMethods => None,
            Walk::Miss => return None,
        };
        // The resource lacks the method: a greedy resource the walk passed
        // takes the request, deepest first (recorded against AWS: with POST
        // on `/test` and OPTIONS on `/{proxy+}`, `OPTIONS /test` is served
        // by `/{proxy+}`). A path no resource covers has no fallback.
        let mut passed = Vec::new();
        self.walk(path, |g| passed.push(g));
        passed
            .into_iter()
            .rev()
            .filter(|&g| Some(g) != reached)
            .find_map(|g| self.method_entry(g, method, path))
    }

    /// The method entry of resource `index` for `method`: the exact entry
    /// beats ANY; ANY only stands for the methods API Gateway supports.
    fn method_entry(&self, index: usize, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let res = &self.resources[index];
        let entry = res
            .methods
            .iter()
            .find(|m| m.as_str() != ANY && m.as_str() == method)
            .or_else(|| {
                if ANY_COVERS.contains(&method) {
                    res.methods.iter().find(|m| m.as_str() == ANY)
                } else {
                    None
                }
            })?;
        Some(RouteMatch {
            resource_id: &res.id,
            resource_path: &res.path,
            method: entry,
            path_params: extract_params(&res.params, path),
        })
    }

    /// Walks the trie over a normalized path, never backtracking; `passed`
    /// sees the greedy resource of every level the walk descends past.
    fn walk(&self, path: &str, mut passed: impl FnMut(usize)) -> Walk {
        let found = |resource: Option<usize>| resource.map_or(Walk::NoMethods, Walk::Resource);
        let mut node = &self.root;
        if path.is_empty() {
            return found(node.resource);
        }
        let mut rest = path;
        loop {
            let (seg, next) = split_first(rest);
            let child = node
                .literal_child(seg)
                .or_else(|| node.param.as_deref().filter(|_| !seg.is_empty()));
            let Some(child) = child else {
                // Greedy swallows this segment and everything after it (one or more segments).
                return node.greedy.map_or(Walk::Miss, Walk::Resource);
            };
            if let Some(g) = node.greedy {
                passed(g);
            }
            node = child;
            match next {
                Some(n) => rest = n,
                None => return found(node.resource),
            }
        }
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// Second pass over a path already known to match the resource: template segment `i` lines up
/// with request segment `i`, and a greedy slot takes the rest.
fn extract_params<'a>(slots: &'a [ParamSlot], path: &str) -> Vec<(&'a str, String)> {
    let mut out = Vec::with_capacity(slots.len());
    let mut slots = slots.iter().peekable();
    let mut rest = path;
    let mut i = 0;
    while let Some(slot) = slots.peek() {
        if slot.segment == i {
            if slot.greedy {
                // The rest of the path without leading or trailing slash (trailing already gone).
                out.push((slot.name.as_str(), rest.trim_start_matches('/').to_owned()));
                break;
            }
            let (seg, _) = split_first(rest);
            out.push((slot.name.as_str(), seg.to_owned()));
            slots.next();
        }
        match rest.find('/') {
            Some(j) => rest = &rest[j + 1..],
            None => break,
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str, methods: &[&str]) -> RouteSpec {
        RouteSpec {
            resource_id: format!("id:{path}"),
            path: path.to_owned(),
            methods: methods.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn table(routes: &[(&str, &[&str])]) -> RouteTable {
        match RouteTable::build(routes.iter().map(|(p, m)| spec(p, m)).collect()) {
            Ok(t) => t,
            Err(e) => panic!("build failed: {e}"),
        }
    }

    type Expected = Option<(
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    )>;

    struct Case {
        name: &'static str,
        routes: &'static [(&'static str, &'static [&'static str])],
        method: &'static str,
        path: &'static str,
        expect: Expected,
    }

    const G: &[&str] = &["GET"];
    const ANY_M: &[&str] = &["ANY"];
    const GA: &[&str] = &["GET", "ANY"];
    const NONE: &[&str] = &[];

    const SIBLING: &[(&str, &[&str])] = &[
        ("/test", &["POST"]),
        ("/test/any", ANY_M),
        ("/{proxy+}", &["OPTIONS"]),
    ];

    const LEVELS: &[(&str, &[&str])] = &[
        ("/users", G),
        ("/users/me", G),
        ("/users/{id}", G),
        ("/users/{proxy+}", G),
    ];

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        // literal vs param vs greedy at the same level
        Case { name: "literal beats param", routes: LEVELS, method: "GET", path: "/users/me",
               expect: Some(("/users/me", "GET", &[])) },
        Case { name: "param beats greedy", routes: LEVELS, method: "GET", path: "/users/42",
               expect: Some(("/users/{id}", "GET", &[("id", "42")])) },
        Case { name: "param commits, no fallback to greedy", routes: LEVELS, method: "GET",
               path: "/users/42/posts", expect: None },
        Case { name: "greedy when no param sibling", routes: &[("/users/me", G), ("/users/{proxy+}", G)],
               method: "GET", path: "/users/42/posts", expect: Some(("/users/{proxy+}", "GET", &[("proxy", "42/posts")])) },
        Case { name: "greedy single segment", routes: &[("/users/{proxy+}", G)], method: "GET",
               path: "/users/42", expect: Some(("/users/{proxy+}", "GET", &[("proxy", "42")])) },
        Case { name: "greedy needs one segment", routes: &[("/users/{proxy+}", G)], method: "GET",
               path: "/users", expect: None },
        Case { name: "literal commits, no fallback to greedy", routes: &[("/users/me", G), ("/users/{proxy+}", G)],
               method: "GET", path: "/users/me/x", expect: None },
        Case { name: "multiple params", routes: &[("/a/{x}/b/{y}", G)], method: "GET", path: "/a/1/b/2",
               expect: Some(("/a/{x}/b/{y}", "GET", &[("x", "1"), ("y", "2")])) },
        Case { name: "params then greedy", routes: &[("/a/{x}/{rest+}", G)], method: "GET", path: "/a/1/2/3",
               expect: Some(("/a/{x}/{rest+}", "GET", &[("x", "1"), ("rest", "2/3")])) },
        Case { name: "sibling param names per resource", routes: &[("/u/{id}", G), ("/u/{uid}/posts", G)],
               method: "GET", path: "/u/7/posts", expect: Some(("/u/{uid}/posts", "GET", &[("uid", "7")])) },
        // commit-to-literal at the root
        Case { name: "/parent blocks root greedy", routes: &[("/parent", G), ("/{proxy+}", G)], method: "GET",
               path: "/parent/x", expect: None },
        Case { name: "root greedy still covers others", routes: &[("/parent", G), ("/{proxy+}", G)],
               method: "GET", path: "/other/x", expect: Some(("/{proxy+}", "GET", &[("proxy", "other/x")])) },
        // A level that is only a prefix is a resource without methods in
        // API Gateway: the greedy sibling takes the request.
        Case { name: "intermediate literal node without resource", routes: &[("/a/b/c", G), ("/a/{proxy+}", G)],
               method: "GET", path: "/a/b", expect: Some(("/a/{proxy+}", "GET", &[("proxy", "b")])) },
        // method vs ANY
        Case { name: "exact method beats ANY", routes: &[("/r", GA)], method: "GET", path: "/r",
               expect: Some(("/r", "GET", &[])) },
        Case { name: "ANY covers POST", routes: &[("/r", GA)], method: "POST", path: "/r",
               expect: Some(("/r", "ANY", &[])) },
        Case { name: "ANY covers HEAD", routes: &[("/r", ANY_M)], method: "HEAD", path: "/r",
               expect: Some(("/r", "ANY", &[])) },
        Case { name: "ANY does not cover TRACE", routes: &[("/r", ANY_M)], method: "TRACE", path: "/r",
               expect: None },
        // A resource without the method yields to a greedy resource the
        // walk passed (LocalStack's AWS-validated
        // test_proxy_routing_with_hardcoded_resource_sibling).
        Case { name: "method missing, greedy sibling takes it", routes: &[("/r", &["POST"]), ("/{proxy+}", ANY_M)],
               method: "GET", path: "/r", expect: Some(("/{proxy+}", "ANY", &[("proxy", "r")])) },
        Case { name: "method missing on param resource", routes: &[("/u/{id}", &["POST"]), ("/u/{p+}", G)],
               method: "GET", path: "/u/1", expect: Some(("/u/{p+}", "GET", &[("p", "1")])) },
        Case { name: "OPTIONS /test to the root greedy", routes: SIBLING, method: "OPTIONS", path: "/test",
               expect: Some(("/{proxy+}", "OPTIONS", &[("proxy", "test")])) },
        Case { name: "POST /test stays", routes: SIBLING, method: "POST", path: "/test",
               expect: Some(("/test", "POST", &[])) },
        Case { name: "ANY below beats the root greedy", routes: SIBLING, method: "OPTIONS", path: "/test/any",
               expect: Some(("/test/any", "ANY", &[])) },
        Case { name: "no one has the method", routes: SIBLING, method: "GET", path: "/test", expect: None },
        Case { name: "deepest greedy first", routes: &[("/a/b", &["POST"]), ("/a/{p+}", G), ("/{q+}", G)],
               method: "GET", path: "/a/b", expect: Some(("/a/{p+}", "GET", &[("p", "b")])) },
        Case { name: "greedy without the method yields to a shallower one",
               routes: &[("/a/{p+}", &["POST"]), ("/{q+}", G)],
               method: "GET", path: "/a/b", expect: Some(("/{q+}", "GET", &[("q", "a/b")])) },
        Case { name: "lower-case method is not GET", routes: &[("/r", G)], method: "get", path: "/r",
               expect: None },
        // HEAD not derived from GET
        Case { name: "HEAD not from GET", routes: &[("/r", G)], method: "HEAD", path: "/r", expect: None },
        Case { name: "HEAD explicit", routes: &[("/r", &["GET", "HEAD"])], method: "HEAD", path: "/r",
               expect: Some(("/r", "HEAD", &[])) },
        // trailing slash
        Case { name: "trailing slash literal", routes: &[("/users", G)], method: "GET", path: "/users/",
               expect: Some(("/users", "GET", &[])) },
        Case { name: "trailing slash param", routes: &[("/users/{id}", G)], method: "GET", path: "/users/7/",
               expect: Some(("/users/{id}", "GET", &[("id", "7")])) },
        // leading //
        Case { name: "leading // collapsed", routes: &[("/hardcoded", G)], method: "GET", path: "//hardcoded",
               expect: Some(("/hardcoded", "GET", &[])) },
        // inner //
        Case { name: "inner // no route", routes: &[("/a/b", G)], method: "GET", path: "/a//b", expect: None },
        Case { name: "inner // does not match param", routes: &[("/a/{x}/b", G)], method: "GET", path: "/a//b",
               expect: None },
        Case { name: "greedy swallows empty segment", routes: &[("/a/b", G), ("/a/{p+}", G)], method: "GET",
               path: "/a//b", expect: Some(("/a/{p+}", "GET", &[("p", "b")])) },
        // greedy with trailing slash and with // inside
        Case { name: "greedy trailing slash", routes: &[("/{proxy+}", G)], method: "GET", path: "/proxy-value/",
               expect: Some(("/{proxy+}", "GET", &[("proxy", "proxy-value")])) },
        Case { name: "greedy inner //", routes: &[("/files/{proxy+}", G)], method: "GET", path: "/files/a//b/c/",
               expect: Some(("/files/{proxy+}", "GET", &[("proxy", "a//b/c")])) },
        Case { name: "greedy under leading //", routes: &[("/{proxy+}", G)], method: "GET", path: "//a/b",
               expect: Some(("/{proxy+}", "GET", &[("proxy", "a/b")])) },
        Case { name: "greedy not decoded", routes: &[("/f/{p+}", G)], method: "GET", path: "/f/a%20b/c%2Fd",
               expect: Some(("/f/{p+}", "GET", &[("p", "a%20b/c%2Fd")])) },
        // %2F inside a param
        Case { name: "%2F stays in param", routes: &[("/users/{id}", G)], method: "GET", path: "/users/a%2Fb",
               expect: Some(("/users/{id}", "GET", &[("id", "a%2Fb")])) },
        Case { name: "%2F is not a separator for literals", routes: &[("/a/b", G)], method: "GET", path: "/a%2Fb",
               expect: None },
        // percent-encoded literal
        Case { name: "percent-encoded literal", routes: &[("/users", G)], method: "GET", path: "/us%65rs",
               expect: Some(("/users", "GET", &[])) },
        Case { name: "percent-encoded literal beats param", routes: &[("/a b", G), ("/{x}", G)], method: "GET",
               path: "/a%20b", expect: Some(("/a b", "GET", &[])) },
        Case { name: "undecodable segment goes to param raw", routes: &[("/users", G), ("/{x}", G)],
               method: "GET", path: "/%FF", expect: Some(("/{x}", "GET", &[("x", "%FF")])) },
        Case { name: "literals are case-sensitive", routes: &[("/users", G)], method: "GET", path: "/Users",
               expect: None },
        // root with and without methods
        Case { name: "root with GET", routes: &[("/", G)], method: "GET", path: "/", expect: Some(("/", "GET", &[])) },
        Case { name: "empty path is root", routes: &[("/", G)], method: "GET", path: "", expect: Some(("/", "GET", &[])) },
        Case { name: "// is root", routes: &[("/", G)], method: "GET", path: "//", expect: Some(("/", "GET", &[])) },
        Case { name: "root without methods", routes: &[("/", NONE), ("/a", G)], method: "GET", path: "/",
               expect: None },
        Case { name: "root absent", routes: &[("/a", G)], method: "GET", path: "/", expect: None },
        // /{proxy+} does not match /
        Case { name: "root greedy not /", routes: &[("/{proxy+}", ANY_M)], method: "GET", path: "/", expect: None },
        Case { name: "root greedy not empty", routes: &[("/{proxy+}", ANY_M)], method: "GET", path: "", expect: None },
        Case { name: "root greedy + root method", routes: &[("/", G), ("/{proxy+}", ANY_M)], method: "GET",
               path: "/", expect: Some(("/", "GET", &[])) },
        Case { name: "no route", routes: &[("/a", G)], method: "GET", path: "/b", expect: None },
    ];

    #[test]
    fn routing_precedence_table() {
        for case in CASES {
            let t = table(case.routes);
            let got = t.lookup(case.method, case.path);
            let want = case.expect.map(|(tpl, m, params)| RouteMatch {
                resource_id: Box::leak(format!("id:{tpl}").into_boxed_str()),
                resource_path: tpl,
                method: m,
                path_params: params.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            });
            assert_eq!(got, want, "case {:?}: {} {}", case.name, case.method, case.path);
        }
    }

    #[test]
    fn invalid_templates_rejected() {
        let bad = [
            "",
            "users",
            "/users/",
            "//users",
            "/a//b",
            "/{}",
            "/{+}",
            "/a{id}",
            "/{id}b",
            "/{id",
            "/id}",
            "/{{id}}",
            "/{a}{b}",
            "/{proxy+}/more",
            "/{proxy+}/{id}",
            "/{a+b}",
            "/{a++}",
        ];
        for path in bad {
            let res = RouteTable::build(vec![spec(path, G)]);
            assert!(
                matches!(res, Err(RouteError::InvalidTemplate(_))),
                "{path:?} accepted"
            );
        }
        // Two resources on the same node (same shape) conflict.
        for pair in [["/u/{id}", "/u/{name}"], ["/{proxy+}", "/{path+}"], ["/a", "/a"]] {
            let res = RouteTable::build(vec![spec(pair[0], G), spec(pair[1], G)]);
            assert!(
                matches!(res, Err(RouteError::InvalidTemplate(_))),
                "{pair:?} accepted"
            );
        }
        let good = ["/", "/a", "/{id}", "/{proxy+}", "/a/{b}/c/{d+}", "/a+b", "/a:b"];
        for path in good {
            assert!(
                RouteTable::build(vec![spec(path, G)]).is_ok(),
                "{path:?} rejected"
            );
        }
    }

    #[test]
    fn len_counts_resources() {
        let t = table(&[("/", G), ("/a", G), ("/a/{b}", NONE)]);
        assert_eq!(t.len(), 3);
        assert!(!t.is_empty());
        assert!(table(&[]).is_empty());
        assert_eq!(table(&[]).lookup("GET", "/"), None);
    }

    #[test]
    fn ten_thousand_routes() {
        let mut routes = Vec::with_capacity(10_000);
        for i in 0..2_500 {
            routes.push(spec(&format!("/svc{i}"), &["GET"]));
            routes.push(spec(&format!("/svc{i}/items"), &["POST"]));
            routes.push(spec(&format!("/svc{i}/items/{{id}}"), &["GET", "ANY"]));
            routes.push(spec(&format!("/svc{i}/files/{{path+}}"), &["ANY"]));
        }
        let t = match RouteTable::build(routes) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(t.len(), 10_000);
        for i in (0..2_500).step_by(97).chain([0, 2_499]) {
            let m = t.lookup("GET", &format!("/svc{i}")).map(|m| m.resource_path);
            assert_eq!(m, Some(format!("/svc{i}").as_str()));

            let m = t
                .lookup("POST", &format!("/svc{i}/items/"))
                .map(|m| m.resource_path);
            assert_eq!(m, Some(format!("/svc{i}/items").as_str()));

            let m = t.lookup("DELETE", &format!("/svc{i}/items/x{i}"));
            let m = m.map(|m| (m.resource_path, m.method, m.path_params));
            let want_path = format!("/svc{i}/items/{{id}}");
            assert_eq!(
                m,
                Some((want_path.as_str(), "ANY", vec![("id", format!("x{i}"))]))
            );

            let m = t
                .lookup("PUT", &format!("/svc{i}/files/a/b"))
                .map(|m| m.path_params);
            assert_eq!(m, Some(vec![("path", "a/b".to_owned())]));

            assert_eq!(t.lookup("GET", &format!("/svc{i}/items")), None);
            assert_eq!(t.lookup("GET", &format!("/svc{i}/nope")), None);
        }
        assert_eq!(t.lookup("GET", "/svc2500"), None);
    }
}
