//! The IAM management API on the admin listener, wire-compatible with the
//! AWS CLI and boto3 (`aws iam … --endpoint-url http://127.0.0.1:8081`):
//! the query protocol — `POST /`, form body `Action=…&Version=2010-05-08&…`
//! — answered with XML in the `2010-05-08` namespace.
//!
//! Operations: CreateUser, GetUser, ListUsers, DeleteUser, CreateAccessKey,
//! ListAccessKeys, UpdateAccessKey, DeleteAccessKey, PutUserPolicy,
//! GetUserPolicy, ListUserPolicies, DeleteUserPolicy. Where AWS lets
//! `UserName` default to the caller, it defaults to the authenticated
//! caller ([`Caller`], set by `--admin-auth sigv4`).
//!
//! A `POST /` that is not a form with an `Action` is not ours: it gets the
//! admin listener's usual unknown-operation answer.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

use super::error::{ErrorCode, IamError, IamResult};
use super::{AccessKeyRecord, Caller, Credential, IamService, KeyStatus, UserRecord, xml};

/// Largest IAM request body (a policy is at most 128 KiB, URL-encoded ×3).
const MAX_BODY: usize = 1024 * 1024;

/// RFC 3986 unreserved characters stay: how IAM encodes `PolicyDocument`.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The IAM API routes (only `POST /`).
pub fn router(svc: Arc<IamService>) -> Router {
    Router::new().route("/", post(handle)).with_state(svc)
}

/// Whether a request is a query-protocol (form) call.
pub fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

async fn handle(State(svc): State<Arc<IamService>>, req: Request) -> Response {
    let not_ours = || {
        crate::lambda::error::LambdaError::new(
            crate::lambda::error::ErrorCode::UnknownOperation,
            "Unknown operation",
        )
        .into_response()
    };
    if !is_form(req.headers()) {
        return not_ours();
    }
    let caller = req.extensions().get::<Caller>().map(|c| c.0.clone());
    let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_BODY).await else {
        return IamError::validation(format!("Request body must be at most {MAX_BODY} bytes"))
            .into_response();
    };
    let params = Params::parse(&body);
    let Some(action) = params.get("Action").map(str::to_string) else {
        return not_ours();
    };
    match dispatch(&svc, &action, &params, caller.as_deref()) {
        Ok(result) => respond(&action, result),
        Err(e) => e.into_response(),
    }
}

/// The decoded form parameters, in order.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(body: &[u8]) -> Params {
        let decode = |s: &[u8]| {
            let spaced: Vec<u8> = s.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
            percent_decode(&spaced).decode_utf8_lossy().into_owned()
        };
        Params(
            body.split(|&b| b == b'&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.iter().position(|&b| b == b'=') {
                    Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A required parameter; `field` is its camelCase name in messages.
    fn required(&self, key: &str, field: &str) -> IamResult<&str> {
        self.get(key).ok_or_else(|| {
            IamError::validation(format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: \
                 Member must not be null"
            ))
        })
    }
}

/// `[\w+=,.@-]+` with a length limit: user and policy names.
fn check_name<'a>(value: &'a str, field: &str, max: usize) -> IamResult<&'a str> {
    let len = value.chars().count();
    if len == 0 || len > max {
        let bound = if len == 0 {
            "greater than or equal to 1".to_string()
        } else {
            format!("less than or equal to {max}")
        };
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: \
             Member must have length {bound}"
        )));
    }
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )));
    }
    Ok(value)
}

/// `/` or `/…/` of printable ASCII, at most 512 characters.
fn check_path(value: &str) -> IamResult<&str> {
    let ok = value.len() <= 512
        && (value == "/"
            || (value.len() >= 2
                && value.starts_with('/')
                && value.ends_with('/')
                && value.bytes().all(|b| (0x21..=0x7E).contains(&b))));
    if !ok {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{value}' at 'path' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )));
    }
    Ok(value)
}

fn user_name(params: &Params) -> IamResult<&str> {
    check_name(params.required("UserName", "userName")?, "userName", 64)
}

fn existing_user_name(params: &Params) -> IamResult<&str> {
    check_name(params.required("UserName", "userName")?, "userName", 128)
}

fn policy_name(params: &Params) -> IamResult<&str> {
    check_name(params.required("PolicyName", "policyName")?, "policyName", 128)
}

const NOT_A_USER: &str = "Must specify userName when calling with non-User credentials";

/// `UserName`, or the calling user when it is omitted.
fn target_user(params: &Params, caller: Option<&Credential>) -> IamResult<String> {
    if params.get("UserName").is_some() {
        return existing_user_name(params).map(str::to_string);
    }
    match caller {
        Some(c) if !c.bootstrap => Ok(c.user_name.clone()),
        _ => Err(IamError::validation(NOT_A_USER)),
    }
}

/// For calls naming an access key: `UserName`, else the caller, else (for
/// the bootstrap administrator, which owns no stored keys) the key's owner.
fn key_user(
    svc: &IamService,
    params: &Params,
    caller: Option<&Credential>,
    key_id: &str,
) -> IamResult<String> {
    if params.get("UserName").is_some() || caller.is_some_and(|c| !c.bootstrap) {
        return target_user(params, caller);
    }
    svc.key_owner(key_id).ok_or_else(|| {
        IamError::new(
            ErrorCode::NoSuchEntity,
            format!("The Access Key with id {key_id} cannot be found."),
        )
    })
}

fn access_key_id(params: &Params) -> IamResult<&str> {
    let id = params.required("AccessKeyId", "accessKeyId")?;
    if id.len() < 16 || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{id}' at 'accessKeyId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w]+"
        )));
    }
    Ok(id)
}

fn max_items(params: &Params) -> IamResult<usize> {
    match params.get("MaxItems") {
        None => Ok(100),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(IamError::validation(format!(
                "1 validation error detected: Value '{v}' at 'maxItems' failed to satisfy constraint: \
                 Member must have value less than or equal to 1000"
            ))),
        },
    }
}

/// One page of `items` (sorted by their marker key) after `marker`.
/// Returns the page and the marker of the next one.
fn paginate<T>(items: Vec<(String, T)>, marker: Option<&str>, max: usize) -> (Vec<T>, Option<String>) {
    let mut rest = items
        .into_iter()
        .skip_while(|(k, _)| marker.is_some_and(|m| k.as_str() < m));
    let page: Vec<T> = rest.by_ref().take(max).map(|(_, t)| t).collect();
    let next = rest.next().map(|(k, _)| k);
    (page, next)
}

fn push_pagination(out: &mut String, next: Option<String>) {
    xml::element(out, "IsTruncated", if next.is_some() { "true" } else { "false" });
    if let Some(m) = next {
        xml::element(out, "Marker", &m);
    }
}

fn push_user(out: &mut String, tag: &str, u: &UserRecord) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    xml::element(out, "Path", &u.path);
    xml::element(out, "UserName", &u.user_name);
    xml::element(out, "UserId", &u.user_id);
    xml::element(out, "Arn", &u.arn);
    xml::element(out, "CreateDate", &u.create_date);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn push_key(out: &mut String, tag: &str, user: &str, k: &AccessKeyRecord, with_secret: bool) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    xml::element(out, "UserName", user);
    xml::element(out, "AccessKeyId", &k.access_key_id);
    xml::element(out, "Status", k.status.as_str());
    if with_secret {
        xml::element(out, "SecretAccessKey", &k.secret_access_key);
    }
    xml::element(out, "CreateDate", &k.create_date);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// Runs one action; `Some(xml)` is the content of `<{Action}Result>`,
/// `None` an action without a result element.
fn dispatch(
    svc: &IamService,
    action: &str,
    params: &Params,
    caller: Option<&Credential>,
) -> IamResult<Option<String>> {
    let mut out = String::new();
    match action {
        "CreateUser" => {
            let name = user_name(params)?;
            let path = check_path(params.get("Path").unwrap_or("/"))?;
            let user = svc.create_user(name, path)?;
            push_user(&mut out, "User", &user);
        }
        "GetUser" => {
            let user = match (params.get("UserName"), caller) {
                (Some(_), _) => svc.user(existing_user_name(params)?)?.record.clone(),
                (None, Some(c)) if !c.bootstrap => svc.user(&c.user_name)?.record.clone(),
                (None, Some(_)) => svc
                    .bootstrap_user()
                    .ok_or_else(|| IamError::validation(NOT_A_USER))?,
                (None, None) => return Err(IamError::validation(NOT_A_USER)),
            };
            push_user(&mut out, "User", &user);
        }
        "ListUsers" => {
            let prefix = params.get("PathPrefix").unwrap_or("/");
            let snapshot = svc.snapshot();
            let users = snapshot
                .users
                .iter()
                .filter(|(_, u)| u.record.path.starts_with(prefix))
                .map(|(k, u)| (k.clone(), u.clone()))
                .collect();
            let (page, next) = paginate(users, params.get("Marker"), max_items(params)?);
            out.push_str("<Users>");
            for u in page {
                push_user(&mut out, "member", &u.record);
            }
            out.push_str("</Users>");
            push_pagination(&mut out, next);
        }
        "DeleteUser" => {
            svc.delete_user(existing_user_name(params)?)?;
            return Ok(None);
        }
        "CreateAccessKey" => {
            let name = target_user(params, caller)?;
            let key = svc.create_access_key(&name)?;
            let user = svc.user(&name)?;
            push_key(&mut out, "AccessKey", &user.record.user_name, &key, true);
        }
        "ListAccessKeys" => {
            let name = target_user(params, caller)?;
            let user = svc.user(&name)?;
            let keys = user
                .record
                .access_keys
                .iter()
                .map(|k| (k.access_key_id.clone(), k))
                .collect();
            let (page, next) = paginate(keys, params.get("Marker"), max_items(params)?);
            out.push_str("<AccessKeyMetadata>");
            for k in page {
                push_key(&mut out, "member", &user.record.user_name, k, false);
            }
            out.push_str("</AccessKeyMetadata>");
            push_pagination(&mut out, next);
        }
        "UpdateAccessKey" => {
            let id = access_key_id(params)?;
            let status = match params.required("Status", "status")? {
                "Active" => KeyStatus::Active,
                "Inactive" => KeyStatus::Inactive,
                other => {
                    return Err(IamError::validation(format!(
                        "1 validation error detected: Value '{other}' at 'status' failed to satisfy \
                         constraint: Member must satisfy enum value set: [Active, Inactive]"
                    )));
                }
            };
            let name = key_user(svc, params, caller, id)?;
            svc.update_access_key(&name, id, status)?;
            return Ok(None);
        }
        "DeleteAccessKey" => {
            let id = access_key_id(params)?;
            let name = key_user(svc, params, caller, id)?;
            svc.delete_access_key(&name, id)?;
            return Ok(None);
        }
        "PutUserPolicy" => {
            let name = existing_user_name(params)?;
            let policy = policy_name(params)?;
            let document = params.required("PolicyDocument", "policyDocument")?;
            // The user must exist before the document is judged (AWS order).
            svc.user(name)?;
            svc.put_user_policy(name, policy, document)?;
            return Ok(None);
        }
        "GetUserPolicy" => {
            let name = existing_user_name(params)?;
            let policy = policy_name(params)?;
            let document = svc.get_user_policy(name, policy)?;
            let user = svc.user(name)?;
            xml::element(&mut out, "UserName", &user.record.user_name);
            xml::element(&mut out, "PolicyName", policy);
            let encoded = utf8_percent_encode(&document, STRICT).to_string();
            xml::element(&mut out, "PolicyDocument", &encoded);
        }
        "ListUserPolicies" => {
            let user = svc.user(existing_user_name(params)?)?;
            let names = user
                .record
                .policies
                .keys()
                .map(|n| (n.clone(), n.clone()))
                .collect();
            let (page, next) = paginate(names, params.get("Marker"), max_items(params)?);
            out.push_str("<PolicyNames>");
            for n in page {
                xml::element(&mut out, "member", &n);
            }
            out.push_str("</PolicyNames>");
            push_pagination(&mut out, next);
        }
        "DeleteUserPolicy" => {
            let name = existing_user_name(params)?;
            let policy = policy_name(params)?;
            svc.delete_user_policy(name, policy)?;
            return Ok(None);
        }
        _ => {
            return Err(IamError::new(
                ErrorCode::InvalidAction,
                "The action or operation requested is invalid. Verify that the action is typed correctly.",
            ));
        }
    }
    Ok(Some(out))
}

/// `<{Action}Response><{Action}Result>…</{Action}Result><ResponseMetadata>…`.
fn respond(action: &str, result: Option<String>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut body = String::with_capacity(256 + result.as_ref().map_or(0, String::len));
    body.push('<');
    body.push_str(action);
    body.push_str("Response xmlns=\"");
    body.push_str(xml::NAMESPACE);
    body.push_str("\">");
    if let Some(result) = result {
        body.push('<');
        body.push_str(action);
        body.push_str("Result>");
        body.push_str(&result);
        body.push_str("</");
        body.push_str(action);
        body.push_str("Result>");
    }
    body.push_str("<ResponseMetadata>");
    xml::element(&mut body, "RequestId", &request_id);
    body.push_str("</ResponseMetadata></");
    body.push_str(action);
    body.push_str("Response>");
    let mut resp = (StatusCode::OK, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-RequestId", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use axum::body::Body;

    type App = Arc<IamService>;

    async fn call(app: &App, body: &str) -> (u16, String) {
        let req = Request::builder()
            .method("POST")
            .uri("/")
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = handle(State(app.clone()), req).await;
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn app(dir: &std::path::Path) -> App {
        let store = Arc::new(Store::open(dir).unwrap());
        Arc::new(IamService::load(store, "000000000000", None).unwrap())
    }

    #[tokio::test]
    async fn user_lifecycle_over_the_wire() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path());
        let (s, b) = call(&app, "Action=CreateUser&Version=2010-05-08&UserName=ann").await;
        assert_eq!(s, 200, "{b}");
        assert!(b.starts_with(
            "<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateUserResult><User><Path>/</Path><UserName>ann</UserName><UserId>AIDA"
        ), "{b}");
        assert!(b.contains("<Arn>arn:aws:iam::000000000000:user/ann</Arn>"), "{b}");
        assert!(
            b.ends_with("</RequestId></ResponseMetadata></CreateUserResponse>"),
            "{b}"
        );

        let (s, b) = call(&app, "Action=CreateUser&UserName=ann").await;
        assert_eq!(s, 409);
        assert!(
            b.contains(
                "<Code>EntityAlreadyExists</Code><Message>User with name ann already exists.</Message>"
            ),
            "{b}"
        );

        let (s, b) = call(&app, "Action=GetUser&UserName=nobody").await;
        assert_eq!(s, 404);
        assert!(b.contains("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name nobody cannot be found.</Message></Error><RequestId>"), "{b}");

        let (s, b) = call(&app, "Action=CreateAccessKey&UserName=ann").await;
        assert_eq!(s, 200, "{b}");
        assert!(b.contains("<SecretAccessKey>"), "{b}");
        let id = b
            .split("<AccessKeyId>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string();
        let (_, b) = call(&app, "Action=ListAccessKeys&UserName=ann").await;
        assert!(b.contains(&format!("<AccessKeyMetadata><member><UserName>ann</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status>")), "{b}");
        assert!(!b.contains("SecretAccessKey"), "{b}");
        let (s, _) = call(
            &app,
            &format!("Action=UpdateAccessKey&UserName=ann&AccessKeyId={id}&Status=Inactive"),
        )
        .await;
        assert_eq!(s, 200);
        let (_, b) = call(&app, "Action=ListAccessKeys&UserName=ann").await;
        assert!(b.contains("<Status>Inactive</Status>"), "{b}");

        // A policy with characters that need escaping both ways.
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"a<b&c","Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:abc/*"}]}"#;
        let form = format!(
            "Action=PutUserPolicy&UserName=ann&PolicyName=invoke&PolicyDocument={}",
            utf8_percent_encode(policy, STRICT)
        );
        let (s, b) = call(&app, &form).await;
        assert_eq!(s, 200, "{b}");
        assert!(b.starts_with("<PutUserPolicyResponse"), "{b}");
        let (_, b) = call(&app, "Action=GetUserPolicy&UserName=ann&PolicyName=invoke").await;
        let encoded = b
            .split("<PolicyDocument>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap();
        assert_eq!(percent_decode(encoded.as_bytes()).decode_utf8().unwrap(), policy);
        let (_, b) = call(&app, "Action=ListUserPolicies&UserName=ann").await;
        assert!(
            b.contains("<PolicyNames><member>invoke</member></PolicyNames><IsTruncated>false</IsTruncated>"),
            "{b}"
        );

        let (s, b) = call(
            &app,
            "Action=PutUserPolicy&UserName=ann&PolicyName=bad&PolicyDocument=%7B%7D",
        )
        .await;
        assert_eq!(s, 400);
        assert!(b.contains("<Code>MalformedPolicyDocument</Code>"), "{b}");

        let (s, b) = call(&app, "Action=DeleteUser&UserName=ann").await;
        assert_eq!(s, 409);
        assert!(b.contains("<Code>DeleteConflict</Code>"), "{b}");
        call(
            &app,
            &format!("Action=DeleteAccessKey&UserName=ann&AccessKeyId={id}"),
        )
        .await;
        call(&app, "Action=DeleteUserPolicy&UserName=ann&PolicyName=invoke").await;
        let (s, b) = call(&app, "Action=DeleteUser&UserName=ann").await;
        assert_eq!(s, 200, "{b}");
        assert!(
            b.starts_with("<DeleteUserResponse") && !b.contains("DeleteUserResult"),
            "{b}"
        );
    }

    #[tokio::test]
    async fn validation_pagination_and_unknown_actions() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path());
        let (s, b) = call(&app, "Action=CreateUser&UserName=bad%20name").await;
        assert_eq!(s, 400);
        assert!(
            b.contains("<Code>ValidationError</Code>") && b.contains("regular expression pattern"),
            "{b}"
        );
        let (s, b) = call(&app, "Action=CreateUser").await;
        assert_eq!(s, 400);
        assert!(b.contains("Value null at &apos;userName&apos;"), "{b}");
        let (s, b) = call(&app, "Action=GetUser").await;
        assert_eq!(s, 400);
        assert!(b.contains(NOT_A_USER), "{b}");
        let (s, b) = call(&app, "Action=Frobnicate").await;
        assert_eq!(s, 400);
        assert!(b.contains("<Code>InvalidAction</Code>"), "{b}");

        for name in ["c", "a", "B", "d"] {
            call(
                &app,
                &format!("Action=CreateUser&UserName={name}&Path=%2Fteam%2F"),
            )
            .await;
        }
        let (_, b) = call(&app, "Action=ListUsers&MaxItems=2").await;
        assert!(
            b.contains("<UserName>a</UserName>") && b.contains("<UserName>B</UserName>"),
            "{b}"
        );
        assert!(
            b.contains("<IsTruncated>true</IsTruncated><Marker>c</Marker>"),
            "{b}"
        );
        let (_, b) = call(&app, "Action=ListUsers&MaxItems=2&Marker=c").await;
        assert!(
            b.contains("<UserName>c</UserName>") && b.contains("<UserName>d</UserName>"),
            "{b}"
        );
        assert!(b.contains("<IsTruncated>false</IsTruncated>"), "{b}");
        let (_, b) = call(&app, "Action=ListUsers&PathPrefix=%2Fother%2F").await;
        assert!(b.contains("<Users></Users>"), "{b}");
        let (_, b) = call(&app, "Action=GetUser&UserName=A").await;
        assert!(
            b.contains("<Arn>arn:aws:iam::000000000000:user/team/a</Arn>"),
            "{b}"
        );

        // Not a form, or no Action: not an IAM call.
        let req = Request::builder()
            .method("POST")
            .uri("/")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let resp = handle(State(app.clone()), req).await;
        assert_eq!(resp.status().as_u16(), 404);
        let (s, _) = call(&app, "Foo=bar").await;
        assert_eq!(s, 404);
    }

    #[test]
    fn form_decoding() {
        let p = Params::parse(b"A=x+y%2Bz&B=&C&D=%E2%82%AC");
        assert_eq!(p.get("A"), Some("x y+z"));
        assert_eq!(p.get("B"), Some(""));
        assert_eq!(p.get("C"), Some(""));
        assert_eq!(p.get("D"), Some("€"));
        assert_eq!(p.get("E"), None);
    }
}
