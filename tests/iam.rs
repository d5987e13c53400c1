//! `--admin-auth sigv4` and the IAM API against the real server: unsigned,
//! signed, wrongly signed and stale requests; users and access keys made
//! through the IAM query API, used, and still there after a restart; the
//! `portico` CLI signing from `AWS_*` variables.

mod common;

use std::process::Command;

use chrono::{DateTime, TimeDelta, Utc};
use common::{Reply, Server};
use portico::iam::sigv4;

const ADMIN_ID: &str = "AKIAPORTICOTESTADMIN";
const ADMIN_SECRET: &str = "portico/test+admin/secret";

fn sigv4_args() -> Vec<&'static str> {
    vec![
        "--admin-auth",
        "sigv4",
        "--admin-access-key-id",
        ADMIN_ID,
        "--admin-secret-access-key",
        ADMIN_SECRET,
    ]
}

/// Sends a request to the admin listener signed as botocore would sign it.
fn signed_at(
    s: &Server,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    content_type: Option<&str>,
    (id, secret): (&str, &str),
    time: DateTime<Utc>,
) -> Reply {
    let host = s.admin.trim_start_matches("http://");
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let mut headers: Vec<(&str, &str)> = vec![("host", host)];
    if let Some(ct) = content_type {
        headers.push(("content-type", ct));
    }
    let service = if path.starts_with("/2015-03-31/") {
        "lambda"
    } else {
        "iam"
    };
    let added = sigv4::sign(
        &sigv4::UnsignedRequest {
            method,
            raw_path: path,
            raw_query: query,
            headers: &headers,
            body,
        },
        &sigv4::SigningParams {
            access_key_id: id,
            secret_access_key: secret,
            session_token: None,
            region: "us-east-1",
            service,
            time,
        },
    );
    let mut all: Vec<(&str, &str)> = headers.into_iter().filter(|(k, _)| *k != "host").collect();
    all.extend(added.iter().map(|(k, v)| (*k, v.as_str())));
    common::request(
        method,
        &format!("{}{path_and_query}", s.admin),
        &all,
        (!body.is_empty() || method == "POST").then_some(body),
    )
}

fn signed(s: &Server, method: &str, path: &str, body: &[u8], key: (&str, &str)) -> Reply {
    let ct = (!body.is_empty()).then_some("application/json");
    signed_at(s, method, path, body, ct, key, Utc::now())
}

/// One IAM query-protocol call, signed with `key`.
fn iam(s: &Server, key: (&str, &str), form: &str) -> Reply {
    signed_at(
        s,
        "POST",
        "/",
        format!("{form}&Version=2010-05-08").as_bytes(),
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        key,
        Utc::now(),
    )
}

/// The text of the first `<tag>` element.
fn xml_field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    xml.split(&open)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        .to_string()
}

const ADMIN: (&str, &str) = (ADMIN_ID, ADMIN_SECRET);

#[test]
fn admin_api_requires_a_valid_signature() {
    let s = Server::start_with(&sigv4_args());

    let r = common::request("GET", &format!("{}/2015-03-31/functions", s.admin), &[], None);
    r.assert_error(403, "MissingAuthenticationTokenException");
    assert_eq!(r.json()["message"], "Missing Authentication Token");
    // Every admin path is behind the gate, unknown ones included.
    common::request("GET", &format!("{}/_portico/stats", s.admin), &[], None)
        .assert_error(403, "MissingAuthenticationTokenException");
    common::request("GET", &format!("{}/restapis", s.admin), &[], None)
        .assert_error(403, "MissingAuthenticationTokenException");

    let r = signed(&s, "GET", "/2015-03-31/functions", b"", ADMIN);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Functions"], serde_json::json!([]));
    let r = signed(&s, "GET", "/restapis?limit=5", b"", ADMIN);
    assert_eq!(r.status, 200, "{}", r.text());

    let r = signed(&s, "GET", "/2015-03-31/functions", b"", (ADMIN_ID, "wrong"));
    r.assert_error(403, "InvalidSignatureException");
    let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(
        msg.starts_with("The request signature we calculated does not match"),
        "{msg}"
    );
    assert!(!msg.contains(ADMIN_SECRET));

    let r = signed(
        &s,
        "GET",
        "/2015-03-31/functions",
        b"",
        ("AKIANOSUCHKEY0000000", "x"),
    );
    r.assert_error(403, "UnrecognizedClientException");
    assert_eq!(
        r.json()["message"],
        "The security token included in the request is invalid."
    );

    let stale = Utc::now() - TimeDelta::minutes(10);
    let r = signed_at(&s, "GET", "/2015-03-31/functions", b"", None, ADMIN, stale);
    r.assert_error(403, "InvalidSignatureException");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Signature expired: ")
    );
    let future = Utc::now() + TimeDelta::minutes(10);
    let r = signed_at(&s, "GET", "/2015-03-31/functions", b"", None, ADMIN, future);
    r.assert_error(403, "InvalidSignatureException");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Signature not yet current: ")
    );

    let r = common::request(
        "GET",
        &format!("{}/2015-03-31/functions", s.admin),
        &[("authorization", "Bearer abc")],
        None,
    );
    r.assert_error(403, "IncompleteSignatureException");

    // A large signed body reaches the handler unchanged.
    let body = serde_json::to_vec(&serde_json::json!({
        "FunctionName": "hello",
        "Role": common::ROLE,
        "Runtime": "provided.al2023",
        "Handler": "hello",
        "Code": { "ZipFile": common::b64(&common::wasm("hello")) },
    }))
    .unwrap();
    let r = signed(&s, "POST", "/2015-03-31/functions", &body, ADMIN);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = signed(
        &s,
        "POST",
        "/2015-03-31/functions/hello/invocations",
        b"{}",
        ADMIN,
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // IAM calls that fail authentication answer in IAM's XML shape.
    let r = iam(&s, (ADMIN_ID, "wrong"), "Action=ListUsers");
    assert_eq!(r.status, 403);
    assert!(
        r.text().contains("<Code>SignatureDoesNotMatch</Code>"),
        "{}",
        r.text()
    );
}

#[test]
fn users_and_keys_made_through_iam_work_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let args = sigv4_args();
    let mut s = Server::start_in(dir.path(), &args);

    let r = iam(&s, ADMIN, "Action=CreateUser&UserName=ci-bot");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        xml_field(&r.text(), "Arn"),
        "arn:aws:iam::000000000000:user/ci-bot"
    );
    let r = iam(&s, ADMIN, "Action=CreateUser&UserName=ci-bot");
    assert_eq!(r.status, 409);
    assert!(
        r.text().contains("<Code>EntityAlreadyExists</Code>"),
        "{}",
        r.text()
    );

    let r = iam(&s, ADMIN, "Action=CreateAccessKey&UserName=ci-bot");
    assert_eq!(r.status, 200, "{}", r.text());
    let id = xml_field(&r.text(), "AccessKeyId");
    let secret = xml_field(&r.text(), "SecretAccessKey");
    assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    assert_eq!(secret.len(), 40);
    let key = (id.as_str(), secret.as_str());

    let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%7D";
    let r = iam(
        &s,
        ADMIN,
        &format!("Action=PutUserPolicy&UserName=ci-bot&PolicyName=all&PolicyDocument={policy}"),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // The new key signs admin calls; GetUser without a name is the caller.
    let r = signed(&s, "GET", "/2015-03-31/functions", b"", key);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = iam(&s, key, "Action=GetUser");
    assert_eq!(xml_field(&r.text(), "UserName"), "ci-bot");

    // An inactive key is refused; reactivated, it works again.
    let r = iam(
        &s,
        ADMIN,
        &format!("Action=UpdateAccessKey&UserName=ci-bot&AccessKeyId={id}&Status=Inactive"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    signed(&s, "GET", "/2015-03-31/functions", b"", key).assert_error(403, "UnrecognizedClientException");
    iam(
        &s,
        ADMIN,
        &format!("Action=UpdateAccessKey&UserName=ci-bot&AccessKeyId={id}&Status=Active"),
    );

    s.stop();
    let s = Server::start_in(dir.path(), &args);
    let r = signed(&s, "GET", "/2015-03-31/functions", b"", key);
    assert_eq!(r.status, 200, "after restart: {}", r.text());
    let r = iam(&s, key, "Action=ListUsers");
    assert!(r.text().contains("<UserName>ci-bot</UserName>"), "{}", r.text());
    let r = iam(&s, key, "Action=GetUserPolicy&UserName=ci-bot&PolicyName=all");
    assert_eq!(xml_field(&r.text(), "PolicyDocument"), policy.replace('*', "%2A"));

    // Nothing about the bootstrap key was stored.
    let db = std::fs::read(dir.path().join("portico.db")).unwrap_or_default();
    let wal = std::fs::read(dir.path().join("portico.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(ADMIN_SECRET) && !text.contains(ADMIN_ID));
    }
    assert!(!s.log().contains(ADMIN_SECRET));
}

#[test]
fn the_cli_signs_with_aws_credentials_from_the_environment() {
    let s = Server::start_with(&sigv4_args());
    let run = |id: Option<&str>, secret: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portico"));
        cmd.args(["function", "list"])
            .env("PORTICO_ENDPOINT", &s.admin)
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "eu-west-1");
        match id {
            Some(id) => cmd.env("AWS_ACCESS_KEY_ID", id),
            None => cmd.env_remove("AWS_ACCESS_KEY_ID"),
        };
        let out = cmd.output().expect("run portico");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = run(Some(ADMIN_ID), ADMIN_SECRET);
    assert!(ok, "{out}");
    let (ok, out) = run(Some(ADMIN_ID), "wrong");
    assert!(!ok && out.contains("InvalidSignatureException"), "{out}");
    let (ok, out) = run(None, ADMIN_SECRET);
    assert!(
        !ok && out.contains("MissingAuthenticationTokenException"),
        "{out}"
    );
}

#[test]
fn without_admin_auth_the_iam_api_is_open_and_sigv4_needs_a_key() {
    let s = Server::start();
    let r = common::request(
        "POST",
        &format!("{}/", s.admin),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(b"Action=CreateUser&UserName=ann"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/xml"));
    let r = common::request(
        "POST",
        &format!("{}/", s.admin),
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(b"Action=GetUser"),
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("<Code>ValidationError</Code>"), "{}", r.text());

    // sigv4 with no key at all would lock everyone out: refuse to start.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_portico"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--admin-auth",
            "sigv4",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("PORTICO_ADMIN_ACCESS_KEY_ID")
        .env_remove("PORTICO_ADMIN_SECRET_ACCESS_KEY")
        .output()
        .expect("run portico");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--admin-access-key-id"));
}
