#!/usr/bin/env python3
"""Drives a real `portico serve` with the real AWS CLI and boto3 (from PyPI).

Started by scripts/test.sh with the virtualenv's `aws` on PATH. Prints one
line per check and closes with 'N passed, N failed'; exits non-zero on any
failure.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WASM = os.path.join(ROOT, "functions", "target", "wasm32-wasip1", "release")
PORTICO = os.path.join(ROOT, "target", "debug", "portico")
ROLE = "arn:aws:iam::000000000000:role/portico"

passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception:  # noqa: BLE001 - report every failure and go on
        failed += 1
        print(f"FAIL {name}")
        traceback.print_exc()


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="portico-aws-")
        ready = os.path.join(self.dir, "ready.json")
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            [PORTICO, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
             "--data-dir", os.path.join(self.dir, "data"), "--ready-file", ready],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        for _ in range(600):
            if os.path.exists(ready):
                with open(ready) as f:
                    addrs = json.load(f)
                self.admin, self.front = addrs["admin"], addrs["front"]
                return
            if self.proc.poll() is not None:
                raise RuntimeError("portico exited")
            time.sleep(0.05)
        raise RuntimeError("portico did not start")

    @property
    def endpoint(self):
        return f"http://{self.admin}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


ENV = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="test",
    AWS_SECRET_ACCESS_KEY="test",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_PAGER="",
    AWS_MAX_ATTEMPTS="1",
)


def aws(server, *args, expect_ok=True):
    cmd = ["aws", "--endpoint-url", server.endpoint, "--output", "json", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=120)
    if expect_ok and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def main():
    server = Server()
    tmp = tempfile.mkdtemp()
    try:
        # The AWS CLI insists that --zip-file is a zip, so package the module.
        import zipfile
        hello = os.path.join(tmp, "hello.zip")
        with zipfile.ZipFile(hello, "w") as z:
            z.write(os.path.join(WASM, "hello.wasm"), "hello.wasm")
        counter = os.path.join(WASM, "counter.wasm")

        def cli_create():
            r = aws(server, "lambda", "create-function", "--function-name", "hello", "--runtime", "provided.al2023",
                    "--handler", "hello", "--role", ROLE, "--zip-file", f"fileb://{hello}")
            out = json.loads(r.stdout)
            assert out["FunctionName"] == "hello", out
            assert out["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:hello", out
            assert out["Version"] == "$LATEST"
            # The CLI's waiter-style check: the function is usable immediately.
            aws(server, "lambda", "wait", "function-active-v2", "--function-name", "hello")

        def cli_invoke():
            out_file = os.path.join(tmp, "out.json")
            r = aws(server, "lambda", "invoke", "--function-name", "hello",
                    "--payload", '{"k":"v"}', "--log-type", "Tail", out_file)
            meta = json.loads(r.stdout)
            assert meta["StatusCode"] == 200, meta
            assert meta["ExecutedVersion"] == "$LATEST", meta
            assert "FunctionError" not in meta, meta
            log = base64.b64decode(meta["LogResult"]).decode()
            assert "START RequestId:" in log and "REPORT RequestId:" in log, log
            with open(out_file) as f:
                body = json.load(f)
            assert json.loads(body["body"])["message"] == "Hello from Portico", body

        def cli_get_function():
            out = json.loads(aws(server, "lambda", "get-function", "--function-name", "hello").stdout)
            assert out["Configuration"]["State"] == "Active", out
            assert out["Code"]["RepositoryType"] == "S3", out

        def cli_publish_version():
            out = json.loads(aws(server, "lambda", "publish-version", "--function-name", "hello").stdout)
            assert out["Version"] == "1", out
            out = json.loads(aws(server, "lambda", "create-alias", "--function-name", "hello", "--name", "live",
                                 "--function-version", "1").stdout)
            assert out["AliasArn"].endswith(":function:hello:live"), out

        def cli_errors():
            r = aws(server, "lambda", "get-function", "--function-name", "missing", expect_ok=False)
            assert r.returncode != 0
            assert "ResourceNotFoundException" in r.stderr, r.stderr
            r = aws(server, "lambda", "create-function", "--function-name", "hello", "--runtime", "provided.al2023",
                    "--handler", "hello", "--role", ROLE, "--zip-file", f"fileb://{hello}", expect_ok=False)
            assert "ResourceConflictException" in r.stderr, r.stderr
            r = aws(server, "lambda", "update-function-configuration", "--function-name", "hello", "--timeout", "1000",
                    expect_ok=False)
            assert "InvalidParameterValueException" in r.stderr, r.stderr

        def cli_delete_function():
            aws(server, "lambda", "delete-function", "--function-name", "hello")
            r = aws(server, "lambda", "get-function", "--function-name", "hello", expect_ok=False)
            assert "ResourceNotFoundException" in r.stderr, r.stderr

        check("aws lambda create-function", cli_create)
        check("aws lambda invoke (with log tail)", cli_invoke)
        check("aws lambda get-function", cli_get_function)
        check("aws lambda publish-version and create-alias", cli_publish_version)
        check("aws lambda errors", cli_errors)
        check("aws lambda delete-function", cli_delete_function)

        import boto3
        from botocore.config import Config

        client = boto3.client("lambda", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(retries={"max_attempts": 1}))

        def boto_lifecycle():
            with open(counter, "rb") as f:
                code = f.read()
            out = client.create_function(FunctionName="counter", Runtime="provided.al2023", Role=ROLE,
                                         Handler="counter", Code={"ZipFile": code}, MemorySize=256, Timeout=5,
                                         Environment={"Variables": {"MODE": "boto"}})
            assert out["MemorySize"] == 256 and out["Timeout"] == 5, out
            counts = []
            for _ in range(3):
                r = client.invoke(FunctionName="counter", Payload=b"{}")
                assert r["StatusCode"] == 200
                counts.append(json.loads(json.loads(r["Payload"].read())["body"])["count"])
            assert counts == [1, 2, 3], counts
            conf = client.update_function_configuration(FunctionName="counter", Description="updated")
            assert conf["Description"] == "updated"
            v = client.publish_version(FunctionName="counter")
            assert v["Version"] == "1"
            client.put_function_concurrency(FunctionName="counter", ReservedConcurrentExecutions=4)
            assert client.get_function_concurrency(FunctionName="counter")["ReservedConcurrentExecutions"] == 4
            client.delete_function_concurrency(FunctionName="counter")
            fns = client.list_functions()["Functions"]
            assert [f["FunctionName"] for f in fns] == ["counter"], fns
            pages = list(client.get_paginator("list_functions").paginate())
            assert sum(len(p["Functions"]) for p in pages) == 1
            aliases = client.list_aliases(FunctionName="counter")["Aliases"]
            assert aliases == [], aliases

        def boto_errors():
            try:
                client.get_function(FunctionName="nope")
                raise AssertionError("expected an error")
            except client.exceptions.ResourceNotFoundException as e:
                assert "Function not found" in str(e), e
            try:
                client.invoke(FunctionName="counter", Payload=b"{not json")
                raise AssertionError("expected an error")
            except client.exceptions.InvalidRequestContentException:
                pass

        def boto_function_error():
            with open(os.path.join(WASM, "faults.wasm"), "rb") as f:
                client.create_function(FunctionName="faults", Runtime="provided.al2023", Role=ROLE,
                                       Handler="faults", Code={"ZipFile": f.read()})
            r = client.invoke(FunctionName="faults", Payload=json.dumps({"fault": "panic"}).encode())
            assert r["FunctionError"] == "Unhandled", r
            err = json.loads(r["Payload"].read())
            assert err["errorType"] == "Runtime.Panic", err

        import urllib.request

        def http(method, url, body=None, headers=None):
            req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
            except urllib.error.HTTPError as e:
                return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()

        def cli_rest_api_seed_flow():
            with open(os.path.join(WASM, "echo.wasm"), "rb") as f:
                client.create_function(FunctionName="echo", Runtime="provided.al2023", Role=ROLE,
                                       Handler="echo", Code={"ZipFile": f.read()})
            api = json.loads(aws(server, "apigateway", "create-rest-api", "--name", "seed").stdout)
            api_id = api["id"]
            res = json.loads(aws(server, "apigateway", "get-resources", "--rest-api-id", api_id).stdout)
            root = [r for r in res["items"] if r["path"] == "/"][0]["id"]
            users = json.loads(aws(server, "apigateway", "create-resource", "--rest-api-id", api_id,
                                   "--parent-id", root, "--path-part", "users").stdout)
            assert users["path"] == "/users", users
            aws(server, "apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", users["id"],
                "--http-method", "POST", "--authorization-type", "NONE")
            uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                   "arn:aws:lambda:us-east-1:000000000000:function:echo/invocations")
            integ = json.loads(aws(server, "apigateway", "put-integration", "--rest-api-id", api_id,
                                   "--resource-id", users["id"], "--http-method", "POST", "--type", "AWS_PROXY",
                                   "--integration-http-method", "POST", "--uri", uri).stdout)
            assert integ["type"] == "AWS_PROXY" and integ["timeoutInMillis"] == 29000, integ
            dep = json.loads(aws(server, "apigateway", "create-deployment", "--rest-api-id", api_id,
                                 "--stage-name", "prod").stdout)
            status, headers, body = http("POST", f"http://{server.front}/restapis/{api_id}/prod/_user_request_/users",
                                         b'{"name":"ann"}', {"Content-Type": "application/json"})
            assert status == 200, (status, body)
            event = json.loads(body)
            assert event["resource"] == "/users" and event["httpMethod"] == "POST", event
            assert event["body"] == '{"name":"ann"}', event
            assert event["requestContext"]["deploymentId"] == dep["id"], event
            assert event["requestContext"]["requestId"] == headers.get("x-amzn-requestid"), (event, headers)
            stages = json.loads(aws(server, "apigateway", "get-stages", "--rest-api-id", api_id).stdout)
            assert [s["stageName"] for s in stages["item"]] == ["prod"], stages
            upd = json.loads(aws(server, "apigateway", "update-stage", "--rest-api-id", api_id, "--stage-name", "prod",
                                 "--patch-operations", "op=replace,path=/variables/color,value=blue").stdout)
            assert upd["variables"] == {"color": "blue"}, upd
            r = aws(server, "apigateway", "get-rest-api", "--rest-api-id", "nope", expect_ok=False)
            assert "NotFoundException" in r.stderr, r.stderr
            aws(server, "apigateway", "delete-rest-api", "--rest-api-id", api_id)

        def boto_import_rest_api():
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                   "arn:aws:lambda:us-east-1:000000000000:function:echo/invocations")
            doc = {
                "openapi": "3.0.1",
                "info": {"title": "imported", "version": "1"},
                "paths": {
                    "/items": {"get": {"x-amazon-apigateway-integration": {
                        "type": "aws_proxy", "httpMethod": "POST", "uri": uri}}},
                    "/items/{id}": {"put": {"x-amazon-apigateway-integration": {
                        "type": "aws_proxy", "httpMethod": "POST", "uri": uri}}},
                },
            }
            api = apigw.import_rest_api(body=json.dumps(doc).encode())
            api_id = api["id"]
            paths = sorted(r["path"] for r in apigw.get_resources(restApiId=api_id)["items"])
            assert paths == ["/", "/items", "/items/{id}"], paths
            apigw.create_deployment(restApiId=api_id, stageName="v1")
            status, _, body = http("PUT", f"http://{server.front}/restapis/{api_id}/v1/_user_request_/items/7", b"{}")
            assert status == 200, (status, body)
            assert json.loads(body)["pathParameters"] == {"id": "7"}, body
            pages = list(apigw.get_paginator("get_resources").paginate(restApiId=api_id, limit=1))
            assert sum(len(p["items"]) for p in pages) == 3, pages

        check("boto3 lambda lifecycle", boto_lifecycle)
        check("boto3 lambda errors", boto_errors)
        check("boto3 function error", boto_function_error)
        check("aws apigateway seed flow (create-rest-api ... create-deployment, then POST /prod/users)",
              cli_rest_api_seed_flow)
        check("boto3 apigateway import_rest_api and call", boto_import_rest_api)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"aws-clients: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
