//! The Lambda management API against the real server: every operation and
//! its errors, versions, aliases, concurrency settings, and restarts.

mod common;

use common::{ROLE, Server, b64, wasm};
use serde_json::json;

#[test]
fn create_get_list_update_delete() {
    let s = Server::start();
    let created = s.deploy("hello", "hello");
    assert_eq!(created["FunctionName"], "hello");
    assert_eq!(
        created["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:hello"
    );
    assert_eq!(created["Version"], "$LATEST");
    assert_eq!(created["MemorySize"], 128);
    assert_eq!(created["Timeout"], 3);
    // Lambda answers a create before the function settles; read back, it is Active.
    assert_eq!(created["State"], "Pending");
    assert_eq!(created["StateReasonCode"], "Creating");
    assert!(created.get("LastUpdateStatus").is_none(), "{created}");
    assert_eq!(created["PackageType"], "Zip");
    assert_eq!(created["CodeSize"], wasm("hello").len());
    let sha = created["CodeSha256"].as_str().unwrap();
    assert_eq!(sha.len(), 44, "base64 SHA-256: {sha}");
    assert!(created["LastModified"].as_str().unwrap().ends_with("+0000"));

    let got = s.admin("GET", "/2015-03-31/functions/hello", None);
    assert_eq!(got.status, 200);
    let got = got.json();
    assert_eq!(got["Configuration"]["CodeSha256"], sha);
    assert_eq!(got["Code"]["RepositoryType"], "S3");
    let location = got["Code"]["Location"].as_str().unwrap();
    let code = common::request("GET", location, &[], None);
    assert_eq!(code.body, wasm("hello"), "Code.Location serves the module");

    assert_eq!(got["Configuration"]["State"], "Active");
    assert_eq!(got["Configuration"]["LastUpdateStatus"], "Successful");
    let conf = s
        .admin("GET", "/2015-03-31/functions/hello/configuration", None)
        .json();
    assert_eq!(conf["FunctionName"], "hello");

    // Full and partial ARNs name the same function.
    let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Ahello";
    assert_eq!(
        s.admin("GET", &format!("/2015-03-31/functions/{arn}"), None)
            .status,
        200
    );

    let updated = s.admin(
        "PUT",
        "/2015-03-31/functions/hello/configuration",
        Some(json!({"MemorySize": 256, "Timeout": 10, "Description": "hi", "Environment": {"Variables": {"GREETING": "hey"}}})),
    );
    assert_eq!(updated.status, 200, "{}", updated.text());
    let updated = updated.json();
    assert_eq!(updated["MemorySize"], 256);
    assert_eq!(updated["Timeout"], 10);
    assert_eq!(updated["Description"], "hi");
    assert_eq!(updated["Environment"]["Variables"]["GREETING"], "hey");
    assert_ne!(updated["RevisionId"], created["RevisionId"]);
    assert_eq!(updated["LastUpdateStatus"], "InProgress");
    assert_eq!(updated["LastUpdateStatusReasonCode"], "Creating");

    let code = s.admin(
        "PUT",
        "/2015-03-31/functions/hello/code",
        Some(json!({"ZipFile": b64(&wasm("echo"))})),
    );
    assert_eq!(code.status, 200, "{}", code.text());
    assert_ne!(code.json()["CodeSha256"], sha);
    // The new code runs: echo returns the event in its body.
    let out = common::proxy_body(&s.invoke("hello", json!({"x": 1})));
    assert_eq!(out["x"], 1);

    s.deploy("counter", "counter");
    let list = s.admin("GET", "/2015-03-31/functions", None).json();
    let names: Vec<&str> = list["Functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["FunctionName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["counter", "hello"]);
    // ListFunctions leaves the state fields to GetFunction.
    assert!(list["Functions"][0].get("State").is_none(), "{list}");

    let del = s.admin("DELETE", "/2015-03-31/functions/hello", None);
    assert_eq!(del.status, 204);
    s.admin("GET", "/2015-03-31/functions/hello", None)
        .assert_error(404, "ResourceNotFoundException");
    s.admin("DELETE", "/2015-03-31/functions/hello", None)
        .assert_error(404, "ResourceNotFoundException");
    s.invoke("hello", json!({}))
        .assert_error(404, "ResourceNotFoundException");
}

#[test]
fn list_functions_paginates() {
    let s = Server::start();
    for i in 0..5 {
        s.deploy(&format!("f{i}"), "hello");
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let path = match &marker {
            Some(m) => format!("/2015-03-31/functions?MaxItems=2&Marker={m}"),
            None => "/2015-03-31/functions?MaxItems=2".to_string(),
        };
        let page = s.admin("GET", &path, None).json();
        let items = page["Functions"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|f| f["FunctionName"].as_str().unwrap().to_string()),
        );
        match page["NextMarker"].as_str() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["f0", "f1", "f2", "f3", "f4"]);
    s.admin("GET", "/2015-03-31/functions?MaxItems=0", None)
        .assert_error(400, "ValidationException");
}

#[test]
fn create_errors_match_aws() {
    let s = Server::start();
    s.deploy("dup", "hello");
    s.create_function("dup", "hello", json!({}))
        .assert_error(409, "ResourceConflictException");

    let bad_name = s.create_function("bad name!", "hello", json!({}));
    bad_name.assert_error(400, "ValidationException");
    assert!(
        bad_name.json()["message"]
            .as_str()
            .unwrap()
            .contains("functionName")
    );

    s.create_function("m", "hello", json!({"MemorySize": 64}))
        .assert_error(400, "ValidationException");
    s.create_function("m", "hello", json!({"MemorySize": 20000}))
        .assert_error(400, "InvalidParameterValueException");
    s.create_function("t", "hello", json!({"Timeout": 0}))
        .assert_error(400, "ValidationException");
    s.create_function("t", "hello", json!({"Timeout": 901}))
        .assert_error(400, "InvalidParameterValueException");
    s.create_function("r", "hello", json!({"Role": "nope"}))
        .assert_error(400, "ValidationException");
    s.create_function(
        "e",
        "hello",
        json!({"Environment": {"Variables": {"AWS_REGION": "x"}}}),
    )
    .assert_error(400, "InvalidParameterValueException");

    // Not wasm at all.
    let garbage = s.admin(
        "POST",
        "/2015-03-31/functions",
        Some(json!({"FunctionName": "g", "Role": ROLE, "Code": {"ZipFile": b64(b"hello world")}})),
    );
    garbage.assert_error(400, "InvalidParameterValueException");
    // Wasm magic but invalid module.
    let broken = s.admin(
        "POST",
        "/2015-03-31/functions",
        Some(json!({"FunctionName": "g", "Role": ROLE, "Code": {"ZipFile": b64(b"\0asm\x01\0\0\0\x05garbage")}})),
    );
    broken.assert_error(400, "InvalidParameterValueException");
    // A module importing something that is not WASI preview1 is refused by name.
    let env_import = wat_module(r#"(module (import "env" "host_secret" (func)) (func (export "_start")))"#);
    let r = s.admin(
        "POST",
        "/2015-03-31/functions",
        Some(json!({"FunctionName": "imp", "Role": ROLE, "Code": {"ZipFile": b64(&env_import)}})),
    );
    r.assert_error(400, "InvalidParameterValueException");
    assert!(r.text().contains("env::host_secret"), "{}", r.text());
    // S3 code is not supported here.
    let s3 = s.admin(
        "POST",
        "/2015-03-31/functions",
        Some(json!({"FunctionName": "s3", "Role": ROLE, "Code": {"S3Bucket": "b", "S3Key": "k"}})),
    );
    s3.assert_error(400, "InvalidParameterValueException");
    // Malformed JSON body.
    let r = common::request(
        "POST",
        &format!("{}/2015-03-31/functions", s.admin),
        &[],
        Some(b"{not json"),
    );
    assert_eq!(r.status, 400);
    // None of this created anything.
    let list = s.admin("GET", "/2015-03-31/functions", None).json();
    assert_eq!(list["Functions"].as_array().unwrap().len(), 1);
}

/// A tiny module in the binary format (no `wat` dependency): `_start` and
/// optional imports, hand-assembled.
fn wat_module(_wat: &str) -> Vec<u8> {
    // (module (import "env" "host_secret" (func)) (func (export "_start")))
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // type section: 1 type, func () -> ()
    m.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]);
    // import section: env.host_secret func type 0
    let mut imp = vec![0x01, 0x03];
    imp.extend_from_slice(b"env");
    imp.push(11);
    imp.extend_from_slice(b"host_secret");
    imp.extend_from_slice(&[0x00, 0x00]);
    m.push(0x02);
    m.push(imp.len() as u8);
    m.extend_from_slice(&imp);
    // function section: 1 func of type 0
    m.extend_from_slice(&[0x03, 0x02, 0x01, 0x00]);
    // export section: "_start" func index 1
    let mut exp = vec![0x01, 6];
    exp.extend_from_slice(b"_start");
    exp.extend_from_slice(&[0x00, 0x01]);
    m.push(0x07);
    m.push(exp.len() as u8);
    m.extend_from_slice(&exp);
    // code section: 1 body, empty
    m.extend_from_slice(&[0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
    m
}

#[test]
fn zip_packages_are_unpacked() {
    use std::io::Write;
    let s = Server::start();
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("bootstrap.wasm", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(&wasm("hello")).unwrap();
        z.finish().unwrap();
    }
    let zip = buf.into_inner();
    let r = s.admin(
        "POST",
        "/2015-03-31/functions",
        Some(json!({"FunctionName": "zipped", "Role": ROLE, "Code": {"ZipFile": b64(&zip)}})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["CodeSize"], zip.len());
    assert_eq!(s.invoke("zipped", json!({})).status, 200);
}

#[test]
fn versions_and_aliases() {
    let s = Server::start();
    s.deploy("fn", "hello");
    let v1 = s.admin(
        "POST",
        "/2015-03-31/functions/fn/versions",
        Some(json!({"Description": "first"})),
    );
    assert_eq!(v1.status, 201, "{}", v1.text());
    let v1 = v1.json();
    assert_eq!(v1["Version"], "1");
    assert_eq!(
        v1["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:fn:1"
    );
    // Publishing again without a change returns the same version.
    let again = s
        .admin("POST", "/2015-03-31/functions/fn/versions", Some(json!({})))
        .json();
    assert_eq!(again["Version"], "1");
    // Change the code, publish 2.
    let r = s.admin(
        "PUT",
        "/2015-03-31/functions/fn/code",
        Some(json!({"ZipFile": b64(&wasm("echo")), "Publish": true})),
    );
    assert_eq!(r.json()["Version"], "2");
    let versions = s.admin("GET", "/2015-03-31/functions/fn/versions", None).json();
    let vs: Vec<&str> = versions["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Version"].as_str().unwrap())
        .collect();
    assert_eq!(vs, ["$LATEST", "1", "2"]);
    // A wrong CodeSha256 is refused.
    s.admin(
        "POST",
        "/2015-03-31/functions/fn/versions",
        Some(json!({"CodeSha256": "nope"})),
    )
    .assert_error(400, "InvalidParameterValueException");

    // Version 1 is still hello; version 2 and $LATEST are echo.
    let r = s.invoke_with("fn", b"{\"k\":1}", &[]);
    assert_eq!(common::proxy_body(&r)["k"], 1);
    let r = common::request(
        "POST",
        &format!("{}/2015-03-31/functions/fn/invocations?Qualifier=1", s.admin),
        &[],
        Some(b"{}"),
    );
    assert_eq!(r.header("x-amz-executed-version"), Some("1"));
    assert_eq!(common::proxy_body(&r)["message"], "Hello from Portico");
    let r = s.invoke("fn:1", json!({}));
    assert_eq!(common::proxy_body(&r)["message"], "Hello from Portico");

    let alias = s.admin(
        "POST",
        "/2015-03-31/functions/fn/aliases",
        Some(json!({"Name": "prod", "FunctionVersion": "1", "Description": "live"})),
    );
    assert_eq!(alias.status, 201, "{}", alias.text());
    let alias = alias.json();
    assert_eq!(
        alias["AliasArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:fn:prod"
    );
    assert_eq!(alias["FunctionVersion"], "1");
    s.admin(
        "POST",
        "/2015-03-31/functions/fn/aliases",
        Some(json!({"Name": "prod", "FunctionVersion": "1"})),
    )
    .assert_error(409, "ResourceConflictException");
    s.admin(
        "POST",
        "/2015-03-31/functions/fn/aliases",
        Some(json!({"Name": "x", "FunctionVersion": "9"})),
    )
    .assert_error(404, "ResourceNotFoundException");
    s.admin(
        "POST",
        "/2015-03-31/functions/fn/aliases",
        Some(json!({"Name": "123", "FunctionVersion": "1"})),
    )
    .assert_error(400, "ValidationException");

    let r = s.invoke("fn:prod", json!({}));
    assert_eq!(r.header("x-amz-executed-version"), Some("1"));
    // Move the alias to version 2.
    let up = s.admin(
        "PUT",
        "/2015-03-31/functions/fn/aliases/prod",
        Some(json!({"FunctionVersion": "2"})),
    );
    assert_eq!(up.status, 200, "{}", up.text());
    assert_eq!(up.json()["FunctionVersion"], "2");
    let r = s.invoke("fn:prod", json!({}));
    assert_eq!(r.header("x-amz-executed-version"), Some("2"));

    let got = s
        .admin("GET", "/2015-03-31/functions/fn/aliases/prod", None)
        .json();
    assert_eq!(got["FunctionVersion"], "2");
    let list = s.admin("GET", "/2015-03-31/functions/fn/aliases", None).json();
    assert_eq!(list["Aliases"].as_array().unwrap().len(), 1);
    // A version an alias uses cannot be deleted.
    s.admin("DELETE", "/2015-03-31/functions/fn?Qualifier=2", None)
        .assert_error(409, "ResourceConflictException");
    assert_eq!(
        s.admin("DELETE", "/2015-03-31/functions/fn?Qualifier=1", None)
            .status,
        204
    );
    s.invoke("fn:1", json!({}))
        .assert_error(404, "ResourceNotFoundException");
    assert_eq!(
        s.admin("DELETE", "/2015-03-31/functions/fn/aliases/prod", None)
            .status,
        204
    );
    s.admin("GET", "/2015-03-31/functions/fn/aliases/prod", None)
        .assert_error(404, "ResourceNotFoundException");
    s.invoke("fn:prod", json!({}))
        .assert_error(404, "ResourceNotFoundException");
    s.admin("DELETE", "/2015-03-31/functions/fn?Qualifier=$LATEST", None)
        .assert_error(400, "InvalidParameterValueException");
}

#[test]
fn concurrency_settings() {
    let s = Server::start();
    s.deploy("c", "hello");
    let empty = s.admin("GET", "/2019-09-30/functions/c/concurrency", None);
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json(), json!({}));
    let put = s.admin(
        "PUT",
        "/2017-10-31/functions/c/concurrency",
        Some(json!({"ReservedConcurrentExecutions": 5})),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.json()["ReservedConcurrentExecutions"], 5);
    assert_eq!(
        s.admin("GET", "/2019-09-30/functions/c/concurrency", None).json()["ReservedConcurrentExecutions"],
        5
    );
    assert_eq!(
        s.admin("GET", "/2015-03-31/functions/c", None).json()["Concurrency"]["ReservedConcurrentExecutions"],
        5
    );
    s.admin(
        "PUT",
        "/2017-10-31/functions/c/concurrency",
        Some(json!({"ReservedConcurrentExecutions": 950})),
    )
    .assert_error(400, "InvalidParameterValueException");
    s.admin(
        "PUT",
        "/2017-10-31/functions/c/concurrency",
        Some(json!({"ReservedConcurrentExecutions": -1})),
    )
    .assert_error(400, "ValidationException");
    assert_eq!(
        s.admin("DELETE", "/2017-10-31/functions/c/concurrency", None)
            .status,
        204
    );
    assert_eq!(
        s.admin("GET", "/2019-09-30/functions/c/concurrency", None).json(),
        json!({})
    );
    s.admin(
        "PUT",
        "/2017-10-31/functions/nope/concurrency",
        Some(json!({"ReservedConcurrentExecutions": 1})),
    )
    .assert_error(404, "ResourceNotFoundException");
}

#[test]
fn restart_keeps_everything_and_does_not_recompile() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(dir.path(), &[]);
    s.deploy("counter", "counter");
    s.deploy("cmd", "command_echo");
    s.admin("POST", "/2015-03-31/functions/counter/versions", Some(json!({})));
    s.admin(
        "POST",
        "/2015-03-31/functions/counter/aliases",
        Some(json!({"Name": "live", "FunctionVersion": "1"})),
    );
    s.admin(
        "PUT",
        "/2017-10-31/functions/counter/concurrency",
        Some(json!({"ReservedConcurrentExecutions": 3})),
    );
    assert_eq!(s.stats()["compiles"], 2);
    s.stop();
    assert!(s.log().contains("shutting down"), "graceful shutdown logged");

    let s2 = Server::start_in(dir.path(), &[]);
    let stats = s2.stats();
    assert_eq!(stats["compiles"], 0, "restart must not recompile: {stats}");
    assert_eq!(stats["artifactLoads"], 2, "{stats}");
    let alias = s2.admin("GET", "/2015-03-31/functions/counter/aliases/live", None);
    assert_eq!(alias.status, 200);
    assert_eq!(
        s2.admin("GET", "/2019-09-30/functions/counter/concurrency", None)
            .json()["ReservedConcurrentExecutions"],
        3
    );
    let r = s2.invoke("counter:live", json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(common::proxy_body(&r)["count"], 1);
    let r = s2.invoke("cmd", json!({"a": 1}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s2.stats()["compiles"], 0);
}

#[test]
fn unknown_routes_and_request_ids() {
    let s = Server::start();
    let r = s.admin("GET", "/2015-03-31/nothing-here", None);
    assert_eq!(r.status, 404);
    assert!(r.header("x-amzn-RequestId").is_some());
    let r = s.admin("GET", "/2015-03-31/functions", None);
    assert!(r.header("x-amzn-RequestId").is_some());
    // The front door answers misses as API Gateway does.
    let r = common::request("GET", &format!("{}/anything", s.front), &[], None);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["message"], "Missing Authentication Token");
}

#[test]
fn arns_use_configured_region_and_account() {
    let s = Server::start_with(&[
        "--region",
        "eu-west-1",
        "--account-id",
        "123456789012",
        "--log-format",
        "json",
    ]);
    let created = s.deploy("hello", "hello");
    assert_eq!(
        created["FunctionArn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:hello"
    );
    let r = s.invoke_with("hello", b"{}", &[("X-Amz-Log-Type", "Tail")]);
    assert_eq!(r.status, 200);
    // A full ARN in this region names the function; one in another region
    // is refused as Lambda refuses it.
    let here = "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Ahello";
    assert_eq!(
        s.admin("GET", &format!("/2015-03-31/functions/{here}"), None)
            .status,
        200
    );
    let elsewhere = "arn%3Aaws%3Alambda%3Aus-west-2%3A123456789012%3Afunction%3Ahello";
    let r = s.admin(
        "POST",
        &format!("/2015-03-31/functions/{elsewhere}/invocations"),
        Some(serde_json::json!({})),
    );
    r.assert_error(404, "ResourceNotFoundException");
    assert!(
        r.text()
            .contains("Functions from 'us-west-2' are not reachable in this region ('eu-west-1')"),
        "{}",
        r.text()
    );
    let log_line = s
        .log()
        .lines()
        .find(|l| l.contains("function created"))
        .map(str::to_string)
        .unwrap_or_default();
    let parsed: serde_json::Value =
        serde_json::from_str(&log_line).expect("--log-format json writes JSON lines");
    assert_eq!(parsed["fields"]["function"], "hello");
}

#[test]
fn permissions_and_tags() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start_in(dir.path(), &[]);
    let created = s.admin(
        "POST",
        "/2015-03-31/functions",
        Some(json!({"FunctionName": "echo", "Role": ROLE, "Code": {"ZipFile": b64(&wasm("echo"))}, "Tags": {"team": "api"}})),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:echo";

    // No policy yet.
    s.admin("GET", "/2015-03-31/functions/echo/policy", None)
        .assert_error(404, "ResourceNotFoundException");
    let grant = json!({
        "StatementId": "apigw",
        "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
        "SourceArn": "arn:aws:execute-api:us-east-1:000000000000:abc123/*/POST/users",
    });
    let added = s.admin("POST", "/2015-03-31/functions/echo/policy", Some(grant.clone()));
    assert_eq!(added.status, 201, "{}", added.text());
    let statement: serde_json::Value =
        serde_json::from_str(added.json()["Statement"].as_str().unwrap()).unwrap();
    assert_eq!(
        statement,
        json!({
            "Sid": "apigw",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": arn,
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:000000000000:abc123/*/POST/users"}},
        })
    );
    let again = s.admin("POST", "/2015-03-31/functions/echo/policy", Some(grant));
    again.assert_error(409, "ResourceConflictException");
    assert!(
        again
            .text()
            .contains("The statement id (apigw) provided already exists"),
        "{}",
        again.text()
    );
    s.admin(
        "POST",
        "/2015-03-31/functions/echo/policy",
        Some(json!({"StatementId": "bad id", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"})),
    )
    .assert_error(400, "ValidationException");
    s.admin(
        "POST",
        "/2015-03-31/functions/nope/policy",
        Some(json!({"StatementId": "x", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"})),
    )
    .assert_error(404, "ResourceNotFoundException");

    // Tags given at creation, added and removed; GetFunction shows them.
    let tags_path = format!("/2017-03-31/tags/{}", arn.replace(':', "%3A"));
    assert_eq!(
        s.admin("GET", &tags_path, None).json()["Tags"],
        json!({"team": "api"})
    );
    let tagged = s.admin(
        "POST",
        &tags_path,
        Some(json!({"Tags": {"env": "dev", "team": "edge"}})),
    );
    assert_eq!(tagged.status, 204, "{}", tagged.text());
    let untagged = s.admin("DELETE", &format!("{tags_path}?tagKeys=env&tagKeys=absent"), None);
    assert_eq!(untagged.status, 204, "{}", untagged.text());
    assert_eq!(
        s.admin("GET", "/2015-03-31/functions/echo", None).json()["Tags"],
        json!({"team": "edge"})
    );

    // Both survive a restart; the function still runs (the policy is not enforced).
    s.stop();
    let s = Server::start_in(dir.path(), &[]);
    let policy = s.admin("GET", "/2015-03-31/functions/echo/policy", None);
    assert_eq!(policy.status, 200, "{}", policy.text());
    let policy = policy.json();
    let document: serde_json::Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(document["Version"], "2012-10-17");
    assert_eq!(document["Statement"][0]["Sid"], "apigw");
    let function = s.admin("GET", "/2015-03-31/functions/echo", None).json();
    assert_eq!(policy["RevisionId"], function["Configuration"]["RevisionId"]);
    assert_eq!(function["Tags"], json!({"team": "edge"}));
    assert_eq!(s.invoke("echo", json!({"a": 1})).status, 200);

    // A stale revision id is refused; removing the statement removes the policy.
    s.admin(
        "DELETE",
        "/2015-03-31/functions/echo/policy/apigw?RevisionId=stale",
        None,
    )
    .assert_error(412, "PreconditionFailedException");
    let missing = s.admin("DELETE", "/2015-03-31/functions/echo/policy/other", None);
    missing.assert_error(404, "ResourceNotFoundException");
    assert!(
        missing
            .text()
            .contains("Statement other is not found in resource policy."),
        "{}",
        missing.text()
    );
    assert_eq!(
        s.admin("DELETE", "/2015-03-31/functions/echo/policy/apigw", None)
            .status,
        204
    );
    s.admin("GET", "/2015-03-31/functions/echo/policy", None)
        .assert_error(404, "ResourceNotFoundException");
    let none = s.admin("DELETE", "/2015-03-31/functions/echo/policy/apigw", None);
    none.assert_error(404, "ResourceNotFoundException");
    assert!(
        none.text()
            .contains("No policy is associated with the given resource."),
        "{}",
        none.text()
    );
}
