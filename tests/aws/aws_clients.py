#!/usr/bin/env python3
"""Drives a real `portico serve` with the real AWS CLI and boto3 (from PyPI).

Started by scripts/test.sh with the virtualenv's `aws` on PATH. Prints one
line per check and closes with 'N passed, N failed'; exits non-zero on any
failure. AWS_CLIENTS_ONLY=<text> runs only the checks whose name contains it.
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
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WASM = os.path.join(ROOT, "functions", "target", "wasm32-wasip1", "release")
PORTICO = os.path.join(ROOT, "target", "debug", "portico")
ROLE = "arn:aws:iam::000000000000:role/portico"

passed = 0
failed = 0
ONLY = os.environ.get("AWS_CLIENTS_ONLY", "").lower()


def check(name, fn):
    global passed, failed
    if ONLY and ONLY not in name.lower():
        return
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception:  # noqa: BLE001 - report every failure and go on
        failed += 1
        print(f"FAIL {name}")
        traceback.print_exc()


class Server:
    def __init__(self, extra_args=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="portico-aws-")
        ready = os.path.join(self.dir, "ready.json")
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen(
            [PORTICO, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
             "--data-dir", os.path.join(self.dir, "data"), "--ready-file", ready, *extra_args],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            env=dict(os.environ, **(env or {})),
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


def aws(server, *args, expect_ok=True, env=None):
    cmd = ["aws", "--endpoint-url", server.endpoint, "--output", "json", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env or ENV, timeout=120)
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

        def cli_permissions_and_tags():
            # The API Gateway tutorial's grant: the real CLI's AddPermission,
            # GetPolicy and RemovePermission, then the tagging calls.
            source = "arn:aws:execute-api:us-east-1:000000000000:abc1234567/*/POST/users"
            out = json.loads(aws(server, "lambda", "add-permission", "--function-name", "hello",
                                 "--statement-id", "apigateway-post", "--action", "lambda:InvokeFunction",
                                 "--principal", "apigateway.amazonaws.com", "--source-arn", source).stdout)
            statement = json.loads(out["Statement"])
            assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}, statement
            assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": source}}, statement
            r = aws(server, "lambda", "add-permission", "--function-name", "hello", "--statement-id",
                    "apigateway-post", "--action", "lambda:InvokeFunction", "--principal",
                    "apigateway.amazonaws.com", expect_ok=False)
            assert "ResourceConflictException" in r.stderr, r.stderr
            policy = json.loads(aws(server, "lambda", "get-policy", "--function-name", "hello").stdout)
            assert json.loads(policy["Policy"])["Statement"][0]["Sid"] == "apigateway-post", policy
            assert policy["RevisionId"], policy
            aws(server, "lambda", "remove-permission", "--function-name", "hello", "--statement-id", "apigateway-post")
            r = aws(server, "lambda", "get-policy", "--function-name", "hello", expect_ok=False)
            assert "ResourceNotFoundException" in r.stderr, r.stderr
            arn = "arn:aws:lambda:us-east-1:000000000000:function:hello"
            aws(server, "lambda", "tag-resource", "--resource", arn, "--tags", "team=api,env=dev")
            aws(server, "lambda", "untag-resource", "--resource", arn, "--tag-keys", "env")
            tags = json.loads(aws(server, "lambda", "list-tags", "--resource", arn).stdout)
            assert tags["Tags"] == {"team": "api"}, tags

        def cli_delete_function():
            aws(server, "lambda", "delete-function", "--function-name", "hello")
            r = aws(server, "lambda", "get-function", "--function-name", "hello", expect_ok=False)
            assert "ResourceNotFoundException" in r.stderr, r.stderr

        check("aws lambda create-function", cli_create)
        check("aws lambda invoke (with log tail)", cli_invoke)
        check("aws lambda get-function", cli_get_function)
        check("aws lambda publish-version and create-alias", cli_publish_version)
        check("aws lambda errors", cli_errors)
        check("aws lambda add-permission, get-policy, remove-permission, tags", cli_permissions_and_tags)
        check("aws lambda delete-function", cli_delete_function)

        import boto3
        from botocore.config import Config
        from botocore.exceptions import ClientError

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
            # TestInvokeMethod logs the Lambda call in AWS's words and order.
            out = json.loads(aws(server, "apigateway", "test-invoke-method", "--rest-api-id", api_id,
                                 "--resource-id", users["id"], "--http-method", "POST",
                                 "--path-with-query-string", "/users", "--body", '{"name":"bo"}').stdout)
            assert out["status"] == 200 and json.loads(out["body"])["body"] == '{"name":"bo"}', out
            log = out["log"]
            steps = ["Endpoint request URI: https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/"
                     "arn:aws:lambda:us-east-1:000000000000:function:echo/invocations",
                     "Endpoint request headers: {", "Endpoint request body after transformations: {",
                     "Sending request to https://lambda.us-east-1.amazonaws.com/", "Received response. Status: 200",
                     "Endpoint response headers: {", "Endpoint response body before transformations: {",
                     "Method response body after transformations: ", "Method completed with status: 200"]
            at = [log.find(step) for step in steps]
            assert -1 not in at and at == sorted(at), (at, log)
            stages = json.loads(aws(server, "apigateway", "get-stages", "--rest-api-id", api_id).stdout)
            assert [s["stageName"] for s in stages["item"]] == ["prod"], stages
            upd = json.loads(aws(server, "apigateway", "update-stage", "--rest-api-id", api_id, "--stage-name", "prod",
                                 "--patch-operations", "op=replace,path=/variables/color,value=blue").stdout)
            assert upd["variables"] == {"color": "blue"}, upd
            r = aws(server, "apigateway", "get-rest-api", "--rest-api-id", "nope", expect_ok=False)
            assert "NotFoundException" in r.stderr, r.stderr
            aws(server, "apigateway", "delete-rest-api", "--rest-api-id", api_id)

        def boto_export():
            # LocalStack's AWS-recorded test_export_*_openapi[TEST_IMPORT_PETS]:
            # the document imported, deployed, then exported back.
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            base = "http://petstore-demo-endpoint.execute-api.com/petstore/pets"
            doc = {
                "swagger": "2.0",
                "info": {"title": "Simple PetStore (Swagger)", "version": "1.0.0"},
                "paths": {
                    "/pets": {"get": {
                        "responses": {"200": {"description": "200 response"}},
                        "x-amazon-apigateway-integration": {
                            "type": "http", "httpMethod": "GET", "uri": base,
                            "responses": {"default": {"statusCode": "200"}}}}},
                    "/pets/{petId}": {"get": {
                        "parameters": [{"name": "petId", "in": "path", "required": True, "type": "string"}],
                        "responses": {"200": {"description": "200 response"}},
                        "x-amazon-apigateway-integration": {
                            "type": "http", "httpMethod": "GET", "uri": base + "/{id}",
                            "responses": {"default": {"statusCode": "200"}},
                            "requestParameters": {"integration.request.path.id": "method.request.path.petId"}}}},
                },
            }
            api = apigw.import_rest_api(failOnWarnings=True, body=json.dumps(doc))
            assert "warnings" not in api, api
            api_id = api["id"]
            apigw.create_deployment(restApiId=api_id, stageName="local")
            out = apigw.get_export(restApiId=api_id, stageName="local", exportType="swagger")
            assert out["contentType"] == "application/octet-stream", out
            assert out["contentDisposition"] == 'attachment; filename="swagger_1.0.0.json"', out
            pet_id = [{"name": "petId", "in": "path", "required": True, "type": "string"}]
            ok = {"200": {"description": "200 response"}}
            assert json.loads(out["body"].read()) == {
                "swagger": "2.0", "info": {"version": "1.0.0", "title": "Simple PetStore (Swagger)"},
                "host": f"{api_id}.execute-api.us-east-1.amazonaws.com", "basePath": "/local",
                "schemes": ["https"],
                "paths": {"/pets": {"get": {"responses": ok}},
                          "/pets/{petId}": {"get": {"parameters": pet_id, "responses": ok}}}}
            out = apigw.get_export(restApiId=api_id, stageName="local", exportType="swagger",
                                   parameters={"extensions": "apigateway"})
            paths = json.loads(out["body"].read())["paths"]
            assert paths["/pets/{petId}"]["get"]["x-amazon-apigateway-integration"] == {
                "httpMethod": "GET", "uri": base + "/{id}", "responses": {"default": {"statusCode": "200"}},
                "requestParameters": {"integration.request.path.id": "method.request.path.petId"},
                "passthroughBehavior": "when_no_match", "type": "http"}, paths
            out = apigw.get_export(restApiId=api_id, stageName="local", exportType="oas30")
            assert out["contentDisposition"] == 'attachment; filename="oas30_1.0.0.json"', out
            oas = json.loads(out["body"].read())
            assert oas["openapi"] == "3.0.1" and oas["servers"] == [{
                "url": f"https://{api_id}.execute-api.us-east-1.amazonaws.com/{{basePath}}",
                "variables": {"basePath": {"default": "local"}}}], oas
            assert oas["paths"]["/pets/{petId}"]["get"]["parameters"] == [
                {"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}], oas
            try:
                apigw.get_export(restApiId=api_id, stageName="nope", exportType="swagger")
                raise AssertionError("exported a missing stage")
            except apigw.exceptions.NotFoundException:
                pass
            apigw.delete_rest_api(restApiId=api_id)

            # Export with the extensions, then import: authorizers, validators,
            # API keys and gateway responses come back as they were.
            auth_uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                        "arn:aws:lambda:us-east-1:000000000000:function:tok/invocations")
            source = {
                "openapi": "3.0.1", "info": {"title": "guarded", "version": "2"},
                "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": True,
                                                                   "validateRequestParameters": True}},
                "x-amazon-apigateway-gateway-responses": {"UNAUTHORIZED": {"statusCode": "401",
                    "responseTemplates": {"application/json": '{"who": "nobody"}'}}},
                "components": {"securitySchemes": {"tok": {
                    "type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": auth_uri,
                                                       "authorizerResultTtlInSeconds": 60}}}},
                "paths": {"/secret": {"get": {
                    "security": [{"tok": []}],
                    "x-amazon-apigateway-request-validator": "all",
                    "x-amazon-apigateway-integration": {"type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 200}'}}},
                    "post": {"security": [{"api_key": []}],
                             "x-amazon-apigateway-integration": {"type": "mock"}}}},
            }
            source["components"]["securitySchemes"]["api_key"] = {"type": "apiKey", "name": "x-api-key",
                                                                  "in": "header"}
            first = apigw.import_rest_api(body=json.dumps(source))["id"]
            apigw.create_deployment(restApiId=first, stageName="s")

            def shape(api):
                resources = apigw.get_resources(restApiId=api, embed=["methods"])["items"]
                secret = [r for r in resources if r["path"] == "/secret"][0]["resourceMethods"]
                auths = {a["id"]: a for a in apigw.get_authorizers(restApiId=api)["items"]}
                validators = {v["id"]: v["name"] for v in apigw.get_request_validators(restApiId=api)["items"]}
                get = secret["GET"]
                a = auths[get["authorizerId"]]
                return {
                    "get": (get["authorizationType"], a["name"], a["type"], a["identitySource"],
                            a.get("authorizerResultTtlInSeconds"), validators.get(get.get("requestValidatorId"))),
                    "post": (secret["POST"]["authorizationType"], secret["POST"]["apiKeyRequired"]),
                    "unauthorized": apigw.get_gateway_response(restApiId=api, responseType="UNAUTHORIZED")[
                        "responseTemplates"],
                }
            for export_type in ("oas30", "swagger"):
                out = apigw.get_export(restApiId=first, stageName="s", exportType=export_type,
                                       parameters={"extensions": "apigateway"})
                second = apigw.import_rest_api(body=out["body"].read())["id"]
                assert shape(second) == shape(first) == {
                    "get": ("CUSTOM", "tok", "TOKEN", "method.request.header.Authorization", 60, "all"),
                    "post": ("NONE", True),
                    "unauthorized": {"application/json": '{"who": "nobody"}'},
                }, (export_type, shape(second), shape(first))
                apigw.delete_rest_api(restApiId=second)
            apigw.delete_rest_api(restApiId=first)

        def boto_documentation():
            # LocalStack's AWS-validated TestDocumentations, then parts that
            # arrive with an imported document.
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            api_id = apigw.create_rest_api(name="documented")["id"]
            part = apigw.create_documentation_part(restApiId=api_id, location={"type": "API"},
                                                   properties=json.dumps({"foo": "bar"}))
            assert part["location"] == {"type": "API"} and json.loads(part["properties"]) == {"foo": "bar"}, part
            assert [p["id"] for p in apigw.get_documentation_parts(restApiId=api_id)["items"]] == [part["id"]]
            v = apigw.create_documentation_version(restApiId=api_id, documentationVersion="v123")
            assert v["version"] == "v123" and "createdDate" in v and "description" not in v, v
            v = apigw.update_documentation_version(restApiId=api_id, documentationVersion="v123", patchOperations=[
                {"op": "replace", "path": "/description", "value": "doc version new"}])
            assert v["description"] == "doc version new", v
            assert apigw.get_documentation_version(restApiId=api_id, documentationVersion="v123")["description"] \
                == "doc version new"
            m = apigw.create_documentation_part(restApiId=api_id, location={"type": "METHOD", "path": "/pets"},
                                                properties='{"summary": "list"}')
            assert m["location"] == {"type": "METHOD", "path": "/pets", "method": "*"}, m
            try:
                apigw.create_documentation_part(restApiId=api_id, location={"type": "API"}, properties="{}")
                raise AssertionError("two parts at one location")
            except apigw.exceptions.ConflictException:
                pass
            apigw.delete_documentation_part(restApiId=api_id, documentationPartId=m["id"])
            apigw.delete_rest_api(restApiId=api_id)
            doc = {"swagger": "2.0", "info": {"title": "with docs", "version": "1"},
                   "paths": {"/pets": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}}},
                   "x-amazon-apigateway-documentation": {"version": "v2.1", "documentationParts": [
                       {"location": {"type": "API"}, "properties": {"info": {"description": "pets"}}},
                       {"location": {"type": "QUERY_PARAMETER", "path": "/pets", "method": "GET", "name": "page"},
                        "properties": {"description": "Page number"}}]}}
            api_id = apigw.import_rest_api(failOnWarnings=True, body=json.dumps(doc))["id"]
            parts = apigw.get_documentation_parts(restApiId=api_id)["items"]
            assert sorted(p["location"]["type"] for p in parts) == ["API", "QUERY_PARAMETER"], parts
            assert {json.dumps(json.loads(p["properties"]), sort_keys=True) for p in parts} == {
                '{"info": {"description": "pets"}}', '{"description": "Page number"}'}, parts
            apigw.delete_rest_api(restApiId=api_id)

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

        def boto_authorizers():
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            api_id = apigw.create_rest_api(name="authz")["id"]
            auth_uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                        "arn:aws:lambda:us-east-1:000000000000:function:echo/invocations")
            a = apigw.create_authorizer(restApiId=api_id, name="tok", type="TOKEN", authorizerUri=auth_uri,
                                        identitySource="method.request.header.Authorization")
            # As AWS recorded (LocalStack's test_apigateway_basic): no TTL echoed when none was given.
            assert "authorizerResultTtlInSeconds" not in a and a["authType"] == "custom", a
            # ... and (test_authorizer_crud_no_api) a conflict for an API that does not exist.
            try:
                apigw.create_authorizer(restApiId="test-fake-rest-id", name="x", type="TOKEN", authorizerUri=auth_uri,
                                        identitySource="method.request.header.Authorization")
                raise AssertionError("created an authorizer on no API")
            except apigw.exceptions.ConflictException as e:
                assert e.response["Error"]["Message"] == ("Unable to complete operation due to concurrent "
                                                          "modification. Please try again later."), e
            apigw.create_authorizer(restApiId=api_id, name="req", type="REQUEST", authorizerUri=auth_uri,
                                    identitySource="method.request.querystring.key",
                                    authorizerResultTtlInSeconds=60)
            items = apigw.get_authorizers(restApiId=api_id)["items"]
            assert sorted(i["name"] for i in items) == ["req", "tok"], items
            pages = list(apigw.get_paginator("get_authorizers").paginate(restApiId=api_id,
                                                                         PaginationConfig={"PageSize": 1}))
            assert sum(len(p["items"]) for p in pages) == 2, pages
            u = apigw.update_authorizer(restApiId=api_id, authorizerId=a["id"], patchOperations=[
                {"op": "replace", "path": "/name", "value": "token"},
                {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"}])
            assert u["name"] == "token" and u["authorizerResultTtlInSeconds"] == 0, u
            try:
                apigw.create_authorizer(restApiId=api_id, name="bad", type="TOKEN", authorizerUri=auth_uri,
                                        identitySource="method.request.querystring.key")
                raise AssertionError("expected an error")
            except apigw.exceptions.BadRequestException as e:
                assert "Invalid token source expression" in str(e), e
            try:
                apigw.get_authorizer(restApiId=api_id, authorizerId="nope00")
                raise AssertionError("expected an error")
            except apigw.exceptions.NotFoundException:
                pass
            root = [r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/"][0]["id"]
            m = apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="CUSTOM",
                                 authorizerId=a["id"])
            assert m["authorizerId"] == a["id"], m
            try:
                apigw.delete_authorizer(restApiId=api_id, authorizerId=a["id"])
                raise AssertionError("expected an error")
            except apigw.exceptions.ConflictException:
                pass

        def boto_gateway_responses():
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            api_id = apigw.create_rest_api(name="responses")["id"]
            all_ = apigw.get_gateway_responses(restApiId=api_id)["items"]
            assert len(all_) == 21 and all(i["defaultResponse"] for i in all_), all_
            r = apigw.put_gateway_response(
                restApiId=api_id, responseType="UNAUTHORIZED", statusCode="401",
                responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
                responseTemplates={"application/json": '{"error":$context.error.messageString}'})
            assert r["defaultResponse"] is False and r["statusCode"] == "401", r
            got = apigw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")
            assert got["responseParameters"] == {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}, got
            u = apigw.update_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED", patchOperations=[
                {"op": "replace", "path": "/statusCode", "value": "403"}])
            assert u["statusCode"] == "403", u
            all_ = apigw.get_gateway_responses(restApiId=api_id)["items"]
            assert [i["responseType"] for i in all_ if not i["defaultResponse"]] == ["UNAUTHORIZED"], all_
            apigw.delete_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")
            assert apigw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")["defaultResponse"]
            out = json.loads(aws(server, "apigateway", "get-gateway-responses", "--rest-api-id", api_id).stdout)
            assert len(out["items"]) == 21, out
            r = aws(server, "apigateway", "put-gateway-response", "--rest-api-id", api_id,
                    "--response-type", "NOPE", expect_ok=False)
            assert r.returncode != 0 and "ValidationException" in r.stderr, r.stderr

        def boto_usage_plans():
            import datetime
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            api_id = apigw.create_rest_api(name="metered")["id"]
            root = [r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/"][0]["id"]
            apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE",
                             apiKeyRequired=True)
            apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK",
                                  requestTemplates={"application/json": '{"statusCode": 200}'})
            apigw.put_method_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200")
            apigw.put_integration_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200",
                                           responseTemplates={"application/json": '{"ok": true}'})
            apigw.create_deployment(restApiId=api_id, stageName="prod")

            key = apigw.create_api_key(name="boto-key", enabled=True, value="boto3-api-key-value-0001",
                                       customerId="c-1")
            assert key["value"] == "boto3-api-key-value-0001" and key["enabled"] is True, key
            generated = apigw.create_api_key(name="other-key")
            assert len(generated["value"]) == 40 and generated["enabled"] is False, generated
            try:
                apigw.create_api_key(name="short", value="short")
                raise AssertionError("expected an error")
            except apigw.exceptions.BadRequestException as e:
                assert "at least 20 characters" in str(e), e
            try:
                apigw.create_api_key(name="dup", value="boto3-api-key-value-0001")
                raise AssertionError("expected an error")
            except apigw.exceptions.ConflictException:
                pass
            listed = apigw.get_api_keys(nameQuery="boto", includeValues=True)["items"]
            assert [k["id"] for k in listed] == [key["id"]] and listed[0]["value"] == key["value"], listed
            assert "value" not in apigw.get_api_key(apiKey=key["id"])
            assert apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]
            pages = list(apigw.get_paginator("get_api_keys").paginate(PaginationConfig={"PageSize": 1}))
            assert sum(len(p["items"]) for p in pages) == 2, pages

            plan = apigw.create_usage_plan(
                name="gold", description="metered",
                apiStages=[{"apiId": api_id, "stage": "prod",
                            "throttle": {"//GET": {"burstLimit": 50, "rateLimit": 100.0}}}],
                throttle={"burstLimit": 10, "rateLimit": 5.0},
                quota={"limit": 100, "offset": 0, "period": "DAY"})
            assert plan["quota"] == {"limit": 100, "offset": 0, "period": "DAY"}, plan
            assert plan["apiStages"][0]["throttle"]["//GET"] == {"burstLimit": 50, "rateLimit": 100.0}, plan
            try:
                apigw.create_usage_plan(name="bad", apiStages=[{"apiId": api_id, "stage": "nope"}])
                raise AssertionError("expected an error")
            except apigw.exceptions.BadRequestException as e:
                assert "API Stage not found" in str(e), e
            pk = apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
            assert pk["id"] == key["id"] and pk["type"] == "API_KEY" and pk["value"] == key["value"], pk
            assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]
            assert [p["id"] for p in apigw.get_usage_plans(keyId=key["id"])["items"]] == [plan["id"]]

            url = f"http://{server.front}/restapis/{api_id}/prod/_user_request_/"
            status, _, _ = http("GET", url)
            assert status == 403, status
            for _ in range(2):
                status, _, body = http("GET", url, headers={"x-api-key": key["value"]})
                assert status == 200, (status, body)

            today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
            usage = apigw.get_usage(usagePlanId=plan["id"], keyId=key["id"], startDate=today, endDate=today)
            assert usage["items"] == {key["id"]: [[2, 98]]}, usage
            upd = apigw.update_usage(usagePlanId=plan["id"], keyId=key["id"],
                                     patchOperations=[{"op": "replace", "path": "/remaining", "value": "1"}])
            assert upd["items"][key["id"]][-1] == [2, 1], upd
            status, _, _ = http("GET", url, headers={"x-api-key": key["value"]})
            assert status == 200, status
            status, _, body = http("GET", url, headers={"x-api-key": key["value"]})
            assert status == 429 and json.loads(body)["message"] == "Limit Exceeded", (status, body)

            p2 = apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
                {"op": "replace", "path": "/throttle/rateLimit", "value": "20"},
                {"op": "replace", "path": "/quota/limit", "value": "1000"}])
            assert p2["throttle"]["rateLimit"] == 20.0 and p2["quota"]["limit"] == 1000, p2
            # As AWS recorded them (LocalStack's validated TestUsagePlans and
            # TestApigatewayApiKeysCrud): Get/Update answer `tags` even when
            # empty, Create and lists do not; a bad plan id lists no keys; a
            # malformed stage reference is refused in AWS's words.
            assert p2["tags"] == {} and "tags" not in plan, (p2, plan)
            assert apigw.get_usage_plan(usagePlanId=plan["id"])["tags"] == {}
            assert "tags" not in apigw.get_usage_plans()["items"][0]
            assert apigw.get_usage_plan_keys(usagePlanId="bad-id")["items"] == []
            for op in ({"op": "remove", "path": "/apiStages"},
                       {"op": "remove", "path": "/apiStages", "value": "fakevalue"}):
                try:
                    apigw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[op])
                    raise AssertionError(f"accepted {op}")
                except apigw.exceptions.BadRequestException as e:
                    assert e.response["Error"]["Message"] == "Invalid API Stage specified", e
            out = json.loads(aws(server, "apigateway", "get-usage", "--usage-plan-id", plan["id"],
                                 "--start-date", today, "--end-date", today).stdout)
            assert out["items"][key["id"]][0][0] == 3, out
            cli_plan = json.loads(aws(server, "apigateway", "create-usage-plan", "--name", "cli",
                                      "--throttle", "burstLimit=10,rateLimit=5",
                                      "--quota", "limit=500,offset=0,period=MONTH").stdout)
            assert cli_plan["quota"]["period"] == "MONTH" and cli_plan["apiStages"] == [], cli_plan

            apigw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
            assert apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"] == []
            apigw.delete_usage_plan(usagePlanId=plan["id"])
            try:
                apigw.get_usage_plan(usagePlanId=plan["id"])
                raise AssertionError("expected an error")
            except apigw.exceptions.NotFoundException:
                pass
            apigw.delete_api_key(apiKey=key["id"])
            try:
                apigw.get_api_key(apiKey=key["id"])
                raise AssertionError("expected an error")
            except apigw.exceptions.NotFoundException:
                pass

        def cli_token_authorizer_flow():
            # echo exists from the seed flow; the authorizer is deployed here.
            with open(os.path.join(WASM, "token_authorizer.wasm"), "rb") as f:
                client.create_function(FunctionName="tokauth", Runtime="provided.al2023", Role=ROLE,
                                       Handler="tokauth", Code={"ZipFile": f.read()})
            lam = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" \
                  "arn:aws:lambda:us-east-1:000000000000:function:{}/invocations"
            api_id = json.loads(aws(server, "apigateway", "create-rest-api", "--name", "guarded").stdout)["id"]
            res = json.loads(aws(server, "apigateway", "get-resources", "--rest-api-id", api_id).stdout)
            root = [r for r in res["items"] if r["path"] == "/"][0]["id"]
            auth = json.loads(aws(server, "apigateway", "create-authorizer", "--rest-api-id", api_id,
                                  "--name", "tok", "--type", "TOKEN", "--authorizer-uri", lam.format("tokauth"),
                                  "--identity-source", "method.request.header.Authorization",
                                  "--authorizer-result-ttl-in-seconds", "300").stdout)
            pets = json.loads(aws(server, "apigateway", "create-resource", "--rest-api-id", api_id,
                                  "--parent-id", root, "--path-part", "pets").stdout)
            aws(server, "apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", pets["id"],
                "--http-method", "GET", "--authorization-type", "CUSTOM", "--authorizer-id", auth["id"])
            aws(server, "apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", pets["id"],
                "--http-method", "GET", "--type", "AWS_PROXY", "--integration-http-method", "POST",
                "--uri", lam.format("echo"))
            aws(server, "apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
            url = f"http://{server.front}/restapis/{api_id}/prod/_user_request_/pets"
            status, headers, body = http("GET", url)
            assert status == 401 and json.loads(body) == {"message": "Unauthorized"}, (status, body)
            assert headers.get("x-amzn-errortype") == "UnauthorizedException", headers
            status, _, body = http("GET", url, headers={"Authorization": "deny"})
            assert status == 403, (status, body)
            assert json.loads(body)["message"] == \
                "User is not authorized to access this resource with an explicit deny", body
            status, _, body = http("GET", url, headers={"Authorization": "allow"})
            assert status == 200, (status, body)
            event = json.loads(body)
            assert event["requestContext"]["authorizer"]["principalId"] == "user|a1b2c3d4", event
            status, headers, body = http("GET", url, headers={"Authorization": "bad"})
            assert status == 500 and json.loads(body) == {"message": None}, (status, body)
            assert headers.get("x-amzn-errortype") == "AuthorizerConfigurationException", headers
            out = json.loads(aws(server, "apigateway", "test-invoke-authorizer", "--rest-api-id", api_id,
                                 "--authorizer-id", auth["id"], "--headers", "Authorization=allow").stdout)
            assert out["clientStatus"] == 0 and out["principalId"] == "user|a1b2c3d4", out
            assert json.loads(out["policy"])["Statement"][0]["Effect"] == "Allow", out

        def botocore_signed_execute_api():
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            api_id = json.loads(aws(server, "apigateway", "create-rest-api", "--name", "iam").stdout)["id"]
            res = json.loads(aws(server, "apigateway", "get-resources", "--rest-api-id", api_id).stdout)
            root = [r for r in res["items"] if r["path"] == "/"][0]["id"]
            aws(server, "apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", root,
                "--http-method", "GET", "--authorization-type", "AWS_IAM")
            aws(server, "apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", root,
                "--http-method", "GET", "--type", "AWS_PROXY", "--integration-http-method", "POST",
                "--uri", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                         "arn:aws:lambda:us-east-1:000000000000:function:echo/invocations")
            aws(server, "apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
            r = aws(server, "iam", "create-user", "--user-name", "caller")
            key = json.loads(aws(server, "iam", "create-access-key", "--user-name", "caller").stdout)["AccessKey"]
            policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                 "Action": "execute-api:Invoke", "Resource": f"arn:aws:execute-api:*:*:{api_id}/*"}]})
            aws(server, "iam", "put-user-policy", "--user-name", "caller", "--policy-name", "invoke",
                "--policy-document", policy)
            url = f"http://{server.front}/restapis/{api_id}/prod/_user_request_/?q=1"
            status, _, body = http("GET", url)
            assert status == 403 and json.loads(body)["message"] == "Missing Authentication Token", (status, body)
            for secret, want in ((key["SecretAccessKey"], 200), ("wrong-secret", 403)):
                req = AWSRequest(method="GET", url=url)
                SigV4Auth(Credentials(key["AccessKeyId"], secret), "execute-api", "us-east-1").add_auth(req)
                status, headers, body = http("GET", url, headers=dict(req.headers.items()))
                assert status == want, (status, body)
                if want == 200:
                    ident = json.loads(body)["requestContext"]["identity"]
                    assert ident["userArn"] == "arn:aws:iam::000000000000:user/caller", ident
                else:
                    assert headers.get("x-amzn-errortype") == "InvalidSignatureException", headers

        def models_and_validators():
            try:
                client.get_function(FunctionName="echo")
            except client.exceptions.ResourceNotFoundException:
                with open(os.path.join(WASM, "echo.wasm"), "rb") as f:
                    client.create_function(FunctionName="echo", Runtime="provided.al2023", Role=ROLE,
                                           Handler="echo", Code={"ZipFile": f.read()})
            api_id = json.loads(aws(server, "apigateway", "create-rest-api", "--name", "models").stdout)["id"]
            out = json.loads(aws(server, "apigateway", "get-models", "--rest-api-id", api_id).stdout)
            assert sorted(m["name"] for m in out["items"]) == ["Empty", "Error"], out
            owner = json.dumps({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}})
            aws(server, "apigateway", "create-model", "--rest-api-id", api_id, "--name", "Owner",
                "--content-type", "application/json", "--schema", owner)
            pet = json.dumps({"type": "object", "required": ["owner"], "properties": {"owner": {
                "$ref": f"https://apigateway.amazonaws.com/restapis/{api_id}/models/Owner"}}})
            m = json.loads(aws(server, "apigateway", "create-model", "--rest-api-id", api_id, "--name", "Pet",
                               "--content-type", "application/json", "--schema", pet).stdout)
            assert m["name"] == "Pet" and m["schema"] == pet and m["contentType"] == "application/json", m
            r = aws(server, "apigateway", "create-model", "--rest-api-id", api_id, "--name", "Pet",
                    "--content-type", "application/json", "--schema", pet, expect_ok=False)
            assert "ConflictException" in r.stderr and "Model name already exists" in r.stderr, r.stderr
            r = aws(server, "apigateway", "create-model", "--rest-api-id", api_id, "--name", "Bad",
                    "--content-type", "application/json", "--schema", "{nope", expect_ok=False)
            assert "BadRequestException" in r.stderr and "Invalid model schema specified" in r.stderr, r.stderr
            v = json.loads(aws(server, "apigateway", "create-request-validator", "--rest-api-id", api_id,
                               "--name", "all", "--validate-request-body",
                               "--validate-request-parameters").stdout)
            assert v["validateRequestBody"] is True and v["validateRequestParameters"] is True, v
            res = json.loads(aws(server, "apigateway", "get-resources", "--rest-api-id", api_id).stdout)
            root = res["items"][0]["id"]
            pets = json.loads(aws(server, "apigateway", "create-resource", "--rest-api-id", api_id,
                                  "--parent-id", root, "--path-part", "pets").stdout)["id"]
            r = aws(server, "apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", pets,
                    "--http-method", "POST", "--authorization-type", "NONE", "--request-validator-id", "nope00",
                    expect_ok=False)
            assert "Invalid Request Validator identifier specified" in r.stderr, r.stderr
            method = json.loads(aws(server, "apigateway", "put-method", "--rest-api-id", api_id,
                                    "--resource-id", pets, "--http-method", "POST", "--authorization-type", "NONE",
                                    "--request-validator-id", v["id"], "--request-models", "application/json=Pet",
                                    "--request-parameters", "method.request.header.x-tenant=true").stdout)
            assert method["requestModels"] == {"application/json": "Pet"}, method
            assert method["requestValidatorId"] == v["id"], method
            uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                   "arn:aws:lambda:us-east-1:000000000000:function:echo/invocations")
            aws(server, "apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id", pets,
                "--http-method", "POST", "--type", "AWS_PROXY", "--integration-http-method", "POST", "--uri", uri)
            aws(server, "apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
            url = f"http://{server.front}/restapis/{api_id}/prod/_user_request_/pets"
            status, headers, body = http("POST", url, b'{"owner":{"name":"ann"}}')
            assert status == 400 and headers.get("x-amzn-errortype") == "BadRequestException", (status, body)
            assert json.loads(body) == {"message": "Missing required request parameters: [x-tenant]"}, body
            # urllib's default Content-Type (a form) has no model: sent as JSON, the body is checked.
            status, _, body = http("POST", url, b'{"owner":{}}',
                                   {"x-tenant": "t", "Content-Type": "application/json"})
            assert status == 400 and json.loads(body) == {"message": "Invalid request body"}, (status, body)
            status, _, body = http("POST", url, b'{"owner":{"name":"ann"}}',
                                   {"x-tenant": "t", "Content-Type": "application/json"})
            assert status == 200 and json.loads(body)["body"] == '{"owner":{"name":"ann"}}', (status, body)
            u = json.loads(aws(server, "apigateway", "update-model", "--rest-api-id", api_id, "--model-name", "Pet",
                               "--patch-operations", "op=replace,path=/description,value=pets").stdout)
            assert u["description"] == "pets", u
            r = aws(server, "apigateway", "delete-model", "--rest-api-id", api_id, "--model-name", "Pet",
                    expect_ok=False)
            assert "ConflictException" in r.stderr, r.stderr
            assert "Cannot delete model 'Pet', is referenced in method request: /pets/POST" in r.stderr, r.stderr

            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            pages = list(apigw.get_paginator("get_models").paginate(restApiId=api_id,
                                                                    PaginationConfig={"PageSize": 1}))
            assert [m["name"] for p in pages for m in p["items"]] == ["Empty", "Error", "Owner", "Pet"], pages
            flat = json.loads(apigw.get_model(restApiId=api_id, modelName="Pet", flatten=True)["schema"])
            assert flat["properties"]["owner"]["required"] == ["name"], flat
            template = apigw.get_model_template(restApiId=api_id, modelName="Pet")["value"]
            assert "$inputRoot.owner.name" in template, template
            try:
                apigw.get_model(restApiId=api_id, modelName="Nope")
                raise AssertionError("expected an error")
            except apigw.exceptions.NotFoundException as e:
                assert "Invalid model name specified: Nope" in str(e), e
            u = apigw.update_request_validator(restApiId=api_id, requestValidatorId=v["id"], patchOperations=[
                {"op": "replace", "path": "/validateRequestBody", "value": "false"}])
            assert u["validateRequestBody"] is False, u
            assert [x["name"] for x in apigw.get_request_validators(restApiId=api_id)["items"]] == ["all"]
            try:
                apigw.delete_request_validator(restApiId=api_id, requestValidatorId=v["id"])
                raise AssertionError("expected an error")
            except apigw.exceptions.ConflictException:
                pass
            apigw.update_method(restApiId=api_id, resourceId=pets, httpMethod="POST", patchOperations=[
                {"op": "replace", "path": "/requestValidatorId", "value": ""},
                {"op": "remove", "path": "/requestModels/application~1json"}])
            apigw.delete_request_validator(restApiId=api_id, requestValidatorId=v["id"])
            apigw.delete_model(restApiId=api_id, modelName="Pet")
            names = [m["name"] for m in apigw.get_models(restApiId=api_id)["items"]]
            assert names == ["Empty", "Error", "Owner"], names

        def boto_validation_errors():
            # Messages as AWS gives them (recorded against AWS in LocalStack's
            # snapshots and in issue threads quoting AWS).
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))

            def refused(fn, code, message, **kw):
                try:
                    fn(**kw)
                except ClientError as e:
                    err = e.response["Error"]
                    if message is None:  # AWS's long list of paths: its start is enough
                        assert err["Code"] == code and err["Message"].startswith(
                            "Invalid method setting path: /documentation_version. Must be one of: [/deploymentId, "), err
                        return
                    assert (err["Code"], err["Message"]) == (code, message), err
                    return
                raise AssertionError(f"{fn.__name__} accepted {kw}")

            refused(apigw.create_rest_api, "BadRequestException", "Description cannot be an empty string",
                    name="x", description="")
            # endpointConfiguration, as LocalStack's AWS-validated
            # test_create_rest_api_with_endpoint_configuration answers.
            refused(apigw.create_rest_api, "BadRequestException",
                    "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.",
                    name="x", endpointConfiguration={"types": []})
            refused(apigw.create_rest_api, "BadRequestException", "Cannot create an api with multiple Endpoint Types.",
                    name="x", endpointConfiguration={"types": ["EDGE", "REGIONAL"]})
            refused(apigw.create_rest_api, "ValidationException",
                    "2 validation errors detected: Value '[wrong]' at 'createRestApiInput.endpointConfiguration.types' "
                    "failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value "
                    "set: [PRIVATE, EDGE, REGIONAL]]; Value 'bad' at 'createRestApiInput.endpointConfiguration."
                    "ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]",
                    name="x", description="", endpointConfiguration={"types": ["wrong"], "ipAddressType": "bad"})
            refused(apigw.create_rest_api, "BadRequestException",
                    "Only dualstack ipAddressType is supported for Private APIs.",
                    name="x", endpointConfiguration={"types": ["PRIVATE"], "ipAddressType": "ipv4"})
            priv = apigw.create_rest_api(name="p", endpointConfiguration={"types": ["PRIVATE"]})
            assert priv["endpointConfiguration"] == {"types": ["PRIVATE"], "ipAddressType": "dualstack"}, priv
            dual = apigw.create_rest_api(name="d", endpointConfiguration={"types": ["EDGE"], "ipAddressType": "dualstack"})
            assert dual["endpointConfiguration"]["ipAddressType"] == "dualstack", dual
            refused(apigw.update_rest_api, "BadRequestException",
                    "Only dualstack ipAddressType is supported for Private APIs.", restApiId=priv["id"],
                    patchOperations=[{"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv4"}])
            refused(apigw.update_rest_api, "BadRequestException",
                    "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE", restApiId=dual["id"],
                    patchOperations=[{"op": "replace", "path": "/endpointConfiguration/types/EDGE", "value": "wrong"}])
            up = apigw.update_rest_api(restApiId=dual["id"], patchOperations=[
                {"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv4"}])
            assert up["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}, up
            up = apigw.update_rest_api(restApiId=dual["id"], patchOperations=[
                {"op": "replace", "path": "/endpointConfiguration/types/EDGE", "value": "PRIVATE"}])
            assert up["endpointConfiguration"] == {"types": ["PRIVATE"], "ipAddressType": "dualstack"}, up
            for api in (priv, dual):
                apigw.delete_rest_api(restApiId=api["id"])
            refused(apigw.create_rest_api, "BadRequestException",
                    "Invalid minimum compression size, must be between 0 and 10485760",
                    name="x", minimumCompressionSize=10485761)
            api_id = apigw.create_rest_api(name="checks")["id"]
            root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
            refused(apigw.update_rest_api, "BadRequestException",
                    "Invalid patch operation specified. Must be one of: [replace]",
                    restApiId=api_id, patchOperations=[{"op": "add", "path": "/minimumCompressionSize", "value": "1"}])
            res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="things")["id"]
            refused(apigw.update_resource, "BadRequestException",
                    "Invalid patch path  '/invalid' specified for op 'replace'. Must be one of: [/parentId, /pathPart]",
                    restApiId=api_id, resourceId=res, patchOperations=[{"op": "replace", "path": "/invalid", "value": "x"}])
            refused(apigw.put_method, "BadRequestException",
                    "Parameter names must be unique across querystring, header and path",
                    restApiId=api_id, resourceId=res, httpMethod="GET", authorizationType="NONE",
                    requestParameters={"method.request.header.a": True, "method.request.querystring.a": False})
            refused(apigw.put_method, "NotFoundException", "Invalid Resource identifier specified",
                    restApiId="nope", resourceId=res, httpMethod="GET", authorizationType="NONE")
            apigw.put_method(restApiId=api_id, resourceId=res, httpMethod="GET", authorizationType="NONE",
                             requestParameters={"method.request.querystring.q": False})
            m = apigw.update_method(restApiId=api_id, resourceId=res, httpMethod="GET", patchOperations=[
                {"op": "replace", "path": "/apiKeyRequired", "value": "whatever"},
                {"op": "replace", "path": "/authorizerId", "value": "xyz"}])
            assert m["apiKeyRequired"] is False and "authorizerId" not in m, m
            refused(apigw.update_method, "BadRequestException", "Invalid patch path /httpMethod",
                    restApiId=api_id, resourceId=res, httpMethod="GET",
                    patchOperations=[{"op": "add", "path": "/httpMethod", "value": "PUT"}])
            put = dict(restApiId=api_id, resourceId=res, httpMethod="GET", integrationHttpMethod="POST")
            refused(apigw.put_integration, "BadRequestException", "Invalid ARN specified in the request",
                    type="AWS_PROXY", uri="non-valid-arn", **put)
            refused(apigw.put_integration, "BadRequestException", "AWS ARN for integration must contain path or action",
                    type="AWS_PROXY", uri="arn:aws:iam::0000000000:role/service-role/asdf", **put)
            refused(apigw.put_integration, "BadRequestException",
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                    "[Invalid mapping expression parameter specified: method.request.path.undeclared]",
                    type="HTTP", uri="http://example.com/",
                    requestParameters={"integration.request.header.X": "method.request.path.undeclared"}, **put)
            apigw.put_integration(type="HTTP", uri="http://example.com/",
                                  requestParameters={"integration.request.querystring.q": "method.request.querystring.q"},
                                  **put)
            i = apigw.update_integration(restApiId=api_id, resourceId=res, httpMethod="GET", patchOperations=[
                {"op": "add", "path": "/cacheKeyParameters/method.request.querystring.q"},
                {"op": "replace", "path": "/cacheNamespace", "value": "ns"},
                {"op": "replace", "path": "/tlsConfig/insecureSkipVerification", "value": "true"}])
            assert i["cacheKeyParameters"] == ["method.request.querystring.q"] and i["cacheNamespace"] == "ns", i
            assert i["tlsConfig"] == {"insecureSkipVerification": True}, i
            # AWS takes an integration response before its method response
            # (LocalStack's AWS-validated test_lambda_aws_integration) ...
            r = apigw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="500")
            assert r["statusCode"] == "500", r
            apigw.delete_integration_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="500")
            # ... but not header mappings the method response does not declare.
            refused(apigw.put_integration_response, "BadRequestException",
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                    "[No method response exists for method.]",
                    restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="500",
                    responseParameters={"method.response.header.X-B": "'v'"})
            apigw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200",
                                      responseParameters={"method.response.header.X-A": False})
            refused(apigw.put_integration_response, "BadRequestException",
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                    "[Invalid mapping expression parameter specified: method.response.header.X-B]",
                    restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200",
                    responseParameters={"method.response.header.X-B": "'v'"})
            # Stages, as LocalStack's AWS-recorded TestStages snapshot and the
            # AWS CLI's update-stage examples show them.
            apigw.put_integration(restApiId=api_id, resourceId=res, httpMethod="GET", type="MOCK",
                                  requestTemplates={"application/json": '{"statusCode": 200}'})
            dep = apigw.create_deployment(restApiId=api_id)["id"]
            st = apigw.create_stage(restApiId=api_id, stageName="s1", deploymentId=dep, description="my stage",
                                    documentationVersion="v123")
            assert st["documentationVersion"] == "v123", st
            refused(apigw.update_stage, "BadRequestException", None,
                    restApiId=api_id, stageName="s1",
                    patchOperations=[{"op": "replace", "path": "/documentation_version", "value": "1"}])
            try:
                apigw.update_stage(restApiId=api_id, stageName="s1",
                                   patchOperations=[{"op": "replace", "path": "/tags/tag1", "value": "value1"}])
                raise AssertionError("accepted /tags/tag1")
            except apigw.exceptions.BadRequestException as e:
                assert e.response["Error"]["Message"].startswith(
                    "Invalid method setting path: /tags/tag1. Must be one of: [/deploymentId, "), e
            st = apigw.update_stage(restApiId=api_id, stageName="s1", patchOperations=[
                {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "123"},
                {"op": "replace", "path": "/test/GET/throttling/burstLimit", "value": "124"},
                {"op": "replace", "path": "/~1things/GET/logging/dataTrace", "value": "false"}])
            ms = st["methodSettings"]
            assert ms["*/*"]["throttlingBurstLimit"] == 123 and "loggingLevel" not in ms["*/*"], ms
            assert ms["test/GET"]["cachingEnabled"] is True and ms["test/GET"]["throttlingBurstLimit"] == 124, ms
            assert ms["~1things/GET"]["dataTraceEnabled"] is False, ms
            refused(apigw.update_stage, "BadRequestException",
                    "Cannot remove method setting x/POST because there is no method setting for this method ",
                    restApiId=api_id, stageName="s1", patchOperations=[{"op": "remove", "path": "/x/POST"}])
            # Resources, methods and responses, as LocalStack's AWS-recorded
            # test_apigateway_api snapshots answer.
            refused(apigw.update_resource, "BadRequestException", "Root resource cannot update its pathPart.",
                    restApiId=api_id, resourceId=root,
                    patchOperations=[{"op": "replace", "path": "/pathPart", "value": "x"}])
            refused(apigw.get_integration, "NotFoundException", "Invalid Resource identifier specified",
                    restApiId="wrong-api", resourceId=res, httpMethod="GET")
            refused(apigw.put_method, "NotFoundException", "Invalid Resource identifier specified",
                    restApiId=api_id, resourceId="fake-resource-id", httpMethod="WRONG", authorizationType="NONE")
            m = apigw.put_method(restApiId=api_id, resourceId=res, httpMethod="PUT", authorizationType="none")
            assert m["authorizationType"] == "NONE", m
            refused(apigw.put_integration, "ValidationException",
                    "1 validation error detected: Value 'HTTPS_PROXY' at 'putIntegrationInput.type' failed to "
                    "satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]",
                    restApiId=api_id, resourceId=res, httpMethod="PUT", type="HTTPS_PROXY")
            refused(apigw.get_integration_response, "ValidationException",
                    "1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: "
                    "Member must satisfy regular expression pattern: [1-5]\\d\\d",
                    restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="wrong")
            refused(apigw.update_method_response, "NotFoundException", "Invalid parameter name specified",
                    restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200",
                    patchOperations=[{"op": "remove", "path": "/responseParameters/method.response.header.nope"}])
            refused(apigw.update_method_response, "BadRequestException",
                    "Invalid patch path /wrong/method.response.header.my-header",
                    restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200",
                    patchOperations=[{"op": "remove", "path": "/wrong/method.response.header.my-header"}])
            refused(apigw.update_method_response, "ValidationException",
                    "2 validation errors detected: Value 'wrong_op' at "
                    "'updateMethodResponseInput.patchOperations.1.member.op' failed to satisfy constraint: Member "
                    "must satisfy enum value set: [add, remove, move, test, replace, copy]; Value 'bad' at "
                    "'updateMethodResponseInput.patchOperations.3.member.op' failed to satisfy constraint: Member "
                    "must satisfy enum value set: [add, remove, move, test, replace, copy]",
                    restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200",
                    patchOperations=[{"op": "wrong_op", "path": "/x"}, {"op": "add", "path": "/y"},
                                     {"op": "bad", "path": "/z"}])
            refused(apigw.put_method, "BadRequestException",
                    "Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                    "[Invalid mapping expression specified: true]",
                    restApiId=api_id, resourceId=res, httpMethod="POST", authorizationType="NONE",
                    requestParameters={"true": True})
            refused(apigw.put_integration_response, "BadRequestException",
                    "Validation Result: warnings : [], errors : [Invalid content type specified: 123]",
                    restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200",
                    responseTemplates={"123": "{}"})
            # Maps sent explicitly empty are echoed as {} (LS test_lifecycle_method_response,
            # test_put_integration_responses), until a patch changes them.
            mr = apigw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="PUT", statusCode="200",
                                           responseParameters={}, responseModels={})
            assert mr["responseParameters"] == {} and mr["responseModels"] == {}, mr
            mr = apigw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="PUT", statusCode="201")
            assert "responseParameters" not in mr and "responseModels" not in mr, mr
            apigw.put_integration(restApiId=api_id, resourceId=res, httpMethod="PUT", type="MOCK")
            ir = apigw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="PUT",
                                                statusCode="200", selectionPattern="2\\d{2}", responseTemplates={})
            assert ir["responseTemplates"] == {}, ir
            got = apigw.get_method(restApiId=api_id, resourceId=res, httpMethod="PUT")
            assert got["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"] == {}, got
            mr = apigw.update_method_response(restApiId=api_id, resourceId=res, httpMethod="PUT", statusCode="200",
                                              patchOperations=[{"op": "add", "path": "/responseParameters/method.response.header.a", "value": "true"},
                                                               {"op": "remove", "path": "/responseParameters/method.response.header.a"}])
            assert "responseParameters" not in mr, mr
            # UpdateRestApi (LS TestApiGatewayApiRestApi::test_update_rest_api_operation_add_remove).
            apigw.update_rest_api(restApiId=api_id, patchOperations=[
                {"op": "replace", "path": "/description", "value": "this is my api"},
                {"op": "add", "path": "/binaryMediaTypes/image~1png"},
                {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"}])
            u = apigw.update_rest_api(restApiId=api_id, patchOperations=[
                {"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"}])
            assert u["binaryMediaTypes"] == ["image/jpeg", "image/gif"] and u["tags"] == {}, u
            u = apigw.update_rest_api(restApiId=api_id, patchOperations=[
                {"op": "remove", "path": "/binaryMediaTypes/image~1gif"}, {"op": "remove", "path": "/description"}])
            assert u["binaryMediaTypes"] == ["image/jpeg"] and "description" not in u, u
            # Gateway responses, models and validators (LS test_apigateway_api snapshots).
            refused(apigw.delete_gateway_response, "NotFoundException", "Gateway response type not defined on api",
                    restApiId=api_id, responseType="DEFAULT_4XX")
            gr = apigw.put_gateway_response(restApiId=api_id, responseType="MISSING_AUTHENTICATION_TOKEN",
                                            statusCode="404")
            assert gr["responseTemplates"] == {"application/json": '{"message":$context.error.messageString}'}, gr
            gr = apigw.put_gateway_response(restApiId=api_id, responseType="AUTHORIZER_FAILURE",
                                            responseParameters={"gatewayresponse.header.x-a": "'a'"})
            assert gr["statusCode"] == "500", gr
            apigw.put_gateway_response(restApiId=api_id, responseType="DEFAULT_5XX", statusCode="599",
                                       responseParameters={"gatewayresponse.header.x-b": "'b'"},
                                       responseTemplates={"application/json": '{"five": 1}'})
            listed = {g["responseType"]: g for g in apigw.get_gateway_responses(restApiId=api_id)["items"]}
            timeout = listed["INTEGRATION_TIMEOUT"]
            assert timeout["statusCode"] == "599" and timeout["defaultResponse"] is True, timeout
            assert timeout["responseParameters"] == {"gatewayresponse.header.x-b": "'b'"}, timeout
            assert listed["AUTHORIZER_FAILURE"]["statusCode"] == "500", listed["AUTHORIZER_FAILURE"]
            refused(apigw.update_gateway_response, "NotFoundException", "Invalid parameter name specified",
                    restApiId=api_id, responseType="DEFAULT_4XX",
                    patchOperations=[{"op": "replace", "value": "'x'",
                                      "path": "/responseParameters/gatewayresponse.header.Access-Control-Allow-Origin"}])
            refused(apigw.update_gateway_response, "BadRequestException", "Invalid patch path /statusCode",
                    restApiId=api_id, responseType="DEFAULT_4XX",
                    patchOperations=[{"op": "add", "path": "/statusCode", "value": "401"}])
            refused(apigw.get_model, "NotFoundException", "Invalid model name specified: MySchema",
                    restApiId="abcde0", modelName="MySchema")
            refused(apigw.create_request_validator, "BadRequestException", "Invalid REST API identifier specified",
                    restApiId="abcde0", name="v")
            refused(apigw.get_request_validator, "NotFoundException", "Invalid Request Validator identifier specified",
                    restApiId="abcde0", requestValidatorId="x")
            # A boolean where a string belongs (boto3 validates types, so raw HTTP).
            bad = urllib.request.Request(
                f"{server.endpoint}/restapis/{api_id}/resources/{res}/methods/GET/integration",
                method="PUT", data=json.dumps({"type": "MOCK", "requestParameters": {
                    "integration.request.header.X": True}}).encode())
            try:
                urllib.request.urlopen(bad)
                raise AssertionError("a boolean mapping source was accepted")
            except urllib.error.HTTPError as e:
                assert e.code == 400 and e.headers["x-amzn-ErrorType"] == "SerializationException", e.headers
                assert json.load(e)["message"] == "class java.lang.Boolean can not be converted to an String"
            apigw.delete_rest_api(restApiId=api_id)

        def account_settings():
            out = json.loads(aws(server, "apigateway", "get-account").stdout)
            assert out == {"throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
                           "features": ["UsagePlans"], "apiKeyVersion": "4"}, out
            role = "arn:aws:iam::000000000000:role/apigw-logs"
            out = json.loads(aws(server, "apigateway", "update-account", "--patch-operations",
                                 f"op=replace,path=/cloudwatchRoleArn,value={role}").stdout)
            assert out["cloudwatchRoleArn"] == role, out
            r = aws(server, "apigateway", "update-account", "--patch-operations",
                    "op=replace,path=/cloudwatchRoleArn,value=apigw-logs", expect_ok=False)
            assert "BadRequestException" in r.stderr, r.stderr
            apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                                 aws_access_key_id="test", aws_secret_access_key="test",
                                 config=Config(retries={"max_attempts": 1}))
            got = apigw.get_account()
            assert got["cloudwatchRoleArn"] == role and got["throttleSettings"]["rateLimit"] == 10000.0, got
            try:
                apigw.update_account(patchOperations=[{"op": "replace", "path": "/features", "value": "x"}])
                raise AssertionError("expected an error")
            except apigw.exceptions.BadRequestException:
                pass

        check("aws + boto3 apigateway get-account / update-account (CloudWatch role ARN)", account_settings)
        check("boto3 apigateway validation errors with AWS's messages", boto_validation_errors)
        check("boto3 lambda lifecycle", boto_lifecycle)
        check("boto3 lambda errors", boto_errors)
        check("boto3 function error", boto_function_error)
        check("aws apigateway seed flow (create-rest-api ... create-deployment, then POST /prod/users)",
              cli_rest_api_seed_flow)
        check("boto3 apigateway import_rest_api and call", boto_import_rest_api)
        check("boto3 apigateway get_export (swagger, oas30, extensions) as AWS recorded", boto_export)
        check("boto3 apigateway documentation parts and versions (and from an import)", boto_documentation)
        check("boto3 apigateway authorizers (create/get/update/delete-while-used)", boto_authorizers)
        check("boto3 + aws apigateway gateway responses", boto_gateway_responses)
        check("aws apigateway TOKEN authorizer end to end (401/403/200/500, test-invoke-authorizer)",
              cli_token_authorizer_flow)
        check("botocore SigV4 (execute-api) on an AWS_IAM method with a key from aws iam",
              botocore_signed_execute_api)
        check("boto3 + aws apigateway api keys, usage plans, usage (and the front door check)",
              boto_usage_plans)
        check("aws + boto3 apigateway models and request validators (and the front door check)",
              models_and_validators)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if not ONLY or "iam" in ONLY:
        iam_checks()
    if not ONLY or "http" in ONLY:
        http_proxy_checks()
    if not ONLY or "non-proxy" in ONLY:
        non_proxy_checks()
    print(f"aws-clients: {passed} passed, {failed} failed")
    return 1 if failed else 0


ADMIN_KEY_ID = "AKIAPORTICOAWSCLIENTS"
ADMIN_SECRET = "aws/clients+bootstrap/secret"


def iam_checks():
    """A second server with --admin-auth sigv4: the bootstrap key (given to
    the server through its environment) signs the AWS CLI's calls."""
    server = Server(["--admin-auth", "sigv4"], env={
        "PORTICO_ADMIN_ACCESS_KEY_ID": ADMIN_KEY_ID,
        "PORTICO_ADMIN_SECRET_ACCESS_KEY": ADMIN_SECRET,
    })
    admin_env = dict(ENV, AWS_ACCESS_KEY_ID=ADMIN_KEY_ID, AWS_SECRET_ACCESS_KEY=ADMIN_SECRET)
    new_key = {}
    try:
        def cli_iam_users_and_keys():
            out = json.loads(aws(server, "iam", "create-user", "--user-name", "deployer", env=admin_env).stdout)
            assert out["User"]["Arn"] == "arn:aws:iam::000000000000:user/deployer", out
            assert out["User"]["UserId"].startswith("AIDA"), out
            out = json.loads(aws(server, "iam", "create-access-key", "--user-name", "deployer", env=admin_env).stdout)
            key = out["AccessKey"]
            assert key["Status"] == "Active" and key["AccessKeyId"].startswith("AKIA"), out
            assert len(key["SecretAccessKey"]) == 40, out
            new_key.update(id=key["AccessKeyId"], secret=key["SecretAccessKey"])
            policy = {"Version": "2012-10-17",
                      "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}
            aws(server, "iam", "put-user-policy", "--user-name", "deployer", "--policy-name", "lambda",
                "--policy-document", json.dumps(policy), env=admin_env)
            out = json.loads(aws(server, "iam", "get-user-policy", "--user-name", "deployer",
                                 "--policy-name", "lambda", env=admin_env).stdout)
            assert out["PolicyDocument"] == policy, out
            out = json.loads(aws(server, "iam", "list-users", env=admin_env).stdout)
            assert [u["UserName"] for u in out["Users"]] == ["deployer"], out
            out = json.loads(aws(server, "iam", "list-access-keys", "--user-name", "deployer", env=admin_env).stdout)
            assert [k["AccessKeyId"] for k in out["AccessKeyMetadata"]] == [new_key["id"]], out
            r = aws(server, "iam", "get-user", "--user-name", "nobody", expect_ok=False, env=admin_env)
            assert "NoSuchEntity" in r.stderr, r.stderr
            r = aws(server, "iam", "delete-user", "--user-name", "deployer", expect_ok=False, env=admin_env)
            assert "DeleteConflict" in r.stderr, r.stderr
            r = aws(server, "iam", "put-user-policy", "--user-name", "deployer", "--policy-name", "bad",
                    "--policy-document", '{"Statement":{"Effect":"Allow"}}', expect_ok=False, env=admin_env)
            assert "MalformedPolicyDocument" in r.stderr, r.stderr

        def cli_lambda_with_new_key():
            env = dict(ENV, AWS_ACCESS_KEY_ID=new_key["id"], AWS_SECRET_ACCESS_KEY=new_key["secret"])
            out = json.loads(aws(server, "lambda", "list-functions", env=env).stdout)
            assert out["Functions"] == [], out
            out = json.loads(aws(server, "iam", "get-user", env=env).stdout)
            assert out["User"]["UserName"] == "deployer", out
            bogus = dict(ENV, AWS_ACCESS_KEY_ID="AKIABOGUSBOGUSBOGUS0", AWS_SECRET_ACCESS_KEY="nope")
            r = aws(server, "lambda", "list-functions", expect_ok=False, env=bogus)
            assert r.returncode != 0 and "UnrecognizedClientException" in r.stderr, r.stderr
            wrong = dict(env, AWS_SECRET_ACCESS_KEY="wrong")
            r = aws(server, "lambda", "list-functions", expect_ok=False, env=wrong)
            assert "InvalidSignatureException" in r.stderr, r.stderr
            r = aws(server, "lambda", "list-functions", "--no-sign-request", expect_ok=False, env=env)
            assert "MissingAuthenticationTokenException" in r.stderr, r.stderr
            r = aws(server, "iam", "list-users", expect_ok=False, env=bogus)
            assert "InvalidClientTokenId" in r.stderr, r.stderr

        def boto_iam():
            import boto3
            from botocore.config import Config
            iam = boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1",
                               aws_access_key_id=ADMIN_KEY_ID, aws_secret_access_key=ADMIN_SECRET,
                               config=Config(retries={"max_attempts": 1}))
            for name in ["b-user", "a-user", "c-user"]:
                iam.create_user(UserName=name, Path="/team/")
            pages = list(iam.get_paginator("list_users").paginate(
                PathPrefix="/team/", PaginationConfig={"PageSize": 2}))
            names = [u["UserName"] for p in pages for u in p["Users"]]
            assert names == ["a-user", "b-user", "c-user"], names
            assert len(pages) == 2, pages
            try:
                iam.get_user(UserName="missing")
                raise AssertionError("expected an error")
            except iam.exceptions.NoSuchEntityException as e:
                assert "cannot be found" in str(e), e
            key = iam.create_access_key(UserName="a-user")["AccessKey"]
            iam.update_access_key(UserName="a-user", AccessKeyId=key["AccessKeyId"], Status="Inactive")
            lam = boto3.client("lambda", endpoint_url=server.endpoint, region_name="us-east-1",
                               aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                               config=Config(retries={"max_attempts": 1}))
            try:
                lam.list_functions()
                raise AssertionError("an inactive key must be refused")
            except lam.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "UnrecognizedClientException", e.response
            iam.delete_access_key(UserName="a-user", AccessKeyId=key["AccessKeyId"])
            iam.delete_user(UserName="a-user")
            assert iam.list_user_policies(UserName="b-user")["PolicyNames"] == []

        check("aws iam create-user, create-access-key, put-user-policy, list-users (--admin-auth sigv4)",
              cli_iam_users_and_keys)
        check("aws lambda list-functions signed with a new IAM key; bogus keys refused", cli_lambda_with_new_key)
        check("boto3 iam: paginated list_users, errors, inactive keys", boto_iam)
    finally:
        server.stop()


def http_proxy_checks():
    """HTTP_PROXY built with the AWS CLI: a greedy /{proxy+} ANY method whose
    integration maps the path into http://127.0.0.1:PORT/{proxy} of a local
    echo server, deployed and called through the front door."""
    import http.server
    import threading
    import urllib.error
    import urllib.request

    class Echo(http.server.BaseHTTPRequestHandler):
        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.dumps({
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length).decode("latin-1"),
            }).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Upstream", "echo")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

        def log_message(self, *args):
            pass

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = upstream.server_address[1]
    server = Server()
    try:
        def cli_http_proxy():
            api_id = json.loads(aws(server, "apigateway", "create-rest-api", "--name", "proxy").stdout)["id"]
            res = json.loads(aws(server, "apigateway", "get-resources", "--rest-api-id", api_id).stdout)
            root = [r for r in res["items"] if r["path"] == "/"][0]["id"]
            proxy = json.loads(aws(server, "apigateway", "create-resource", "--rest-api-id", api_id,
                                   "--parent-id", root, "--path-part", "{proxy+}").stdout)
            aws(server, "apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", proxy["id"],
                "--http-method", "ANY", "--authorization-type", "NONE",
                "--request-parameters", "method.request.path.proxy=true")
            integ = json.loads(aws(server, "apigateway", "put-integration", "--rest-api-id", api_id,
                                   "--resource-id", proxy["id"], "--http-method", "ANY", "--type", "HTTP_PROXY",
                                   "--integration-http-method", "ANY",
                                   "--uri", f"http://127.0.0.1:{port}/{{proxy}}",
                                   "--request-parameters",
                                   "integration.request.path.proxy=method.request.path.proxy").stdout)
            assert integ["type"] == "HTTP_PROXY" and integ["connectionType"] == "INTERNET", integ
            assert integ["requestParameters"] == {
                "integration.request.path.proxy": "method.request.path.proxy"}, integ
            aws(server, "apigateway", "create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
            url = f"http://{server.front}/restapis/{api_id}/prod/_user_request_/orders/42?expand=items"
            req = urllib.request.Request(url, data=b'{"qty":2}', method="PUT",
                                         headers={"Content-Type": "application/json", "X-Trace": "t1"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    status, headers, body = r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
            except urllib.error.HTTPError as e:
                status, headers, body = e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
            assert status == 201, (status, body)
            assert headers.get("x-upstream") == "echo", headers
            assert headers.get("x-amzn-remapped-server", "").startswith("BaseHTTP"), headers
            echo = json.loads(body)
            assert echo["method"] == "PUT" and echo["path"] == "/orders/42?expand=items", echo
            assert echo["body"] == '{"qty":2}', echo
            assert echo["headers"]["x-trace"] == "t1", echo
            assert echo["headers"]["host"] == f"127.0.0.1:{port}", echo
            assert echo["headers"]["x-forwarded-for"] == "127.0.0.1", echo
            assert echo["headers"]["x-amzn-apigateway-api-id"] == api_id, echo

        check("aws apigateway put-integration --type HTTP_PROXY (greedy {proxy} to a local server), deploy, call",
              cli_http_proxy)
    finally:
        server.stop()
        upstream.shutdown()


LAMBDA_URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
              "arn:aws:lambda:us-east-1:000000000000:function:{}/invocations")


def http_call(method, url, body=None, headers=None):
    """One plain HTTP call through the front door: (status, lower-cased headers, body bytes)."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def non_proxy_checks():
    """Non-proxy integrations (AWS Lambda with mapping templates, MOCK, CORS,
    binary) built with the AWS CLI and boto3 as AWS's docs build them, then
    called through the front door and through TestInvokeMethod."""
    import zipfile

    import boto3
    from botocore.config import Config

    server = Server()
    tmp = tempfile.mkdtemp()
    apigw = boto3.client("apigateway", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test",
                         config=Config(retries={"max_attempts": 1}))
    state = {}

    def cli(*args):
        return json.loads(aws(server, "apigateway", *args).stdout or "{}")

    def new_api(name, *extra):
        api = cli("create-rest-api", "--name", name, *extra)
        return api, api["rootResourceId"]

    def url(api_id, stage, path):
        return f"http://{server.front}/restapis/{api_id}/{stage}/_user_request_{path}"

    try:
        def cli_aws_integration():
            mirror = os.path.join(tmp, "mirror.zip")
            with zipfile.ZipFile(mirror, "w") as z:
                z.write(os.path.join(WASM, "mirror.wasm"), "mirror.wasm")
            aws(server, "lambda", "create-function", "--function-name", "mirror", "--runtime", "provided.al2023",
                "--handler", "mirror", "--role", ROLE, "--zip-file", f"fileb://{mirror}")
            api, root = new_api("non-proxy")
            api_id = api["id"]
            x = cli("create-resource", "--rest-api-id", api_id, "--parent-id", root, "--path-part", "x")["id"]
            rid = cli("create-resource", "--rest-api-id", api_id, "--parent-id", x, "--path-part", "{id}")["id"]
            state.update(api_id=api_id, rid=rid)
            base = ["--rest-api-id", api_id, "--resource-id", rid, "--http-method", "POST"]
            cli("put-method", *base, "--authorization-type", "NONE")
            request_template = ('{"id": "$input.params(\'id\')", "q": "$input.params(\'q\')", '
                                '"env": "$stageVariables.env", "body": $input.json(\'$.data\'), '
                                '"fail": $input.json(\'$.fail\')}')
            uri = LAMBDA_URI.format("mirror")
            integ = cli("put-integration", *base, "--type", "AWS", "--integration-http-method", "POST",
                        "--uri", uri, "--request-templates", json.dumps({"application/json": request_template}),
                        "--passthrough-behavior", "WHEN_NO_TEMPLATES")
            want = {
                "type": "AWS", "httpMethod": "POST", "uri": uri,
                "requestTemplates": {"application/json": request_template},
                "passthroughBehavior": "WHEN_NO_TEMPLATES", "timeoutInMillis": 29000,
                "cacheNamespace": rid, "cacheKeyParameters": [],
            }
            assert integ == want, integ
            for code in ("200", "400"):
                mr = cli("put-method-response", *base, "--status-code", code,
                         "--response-parameters", "method.response.header.X-Id=false")
                assert mr == {"statusCode": code,
                              "responseParameters": {"method.response.header.X-Id": False}}, mr
            ok_templates = {"application/json": '{"echo": $input.json(\'$\'), "via": "template"}'}
            ok_params = {"method.response.header.X-Id": "integration.response.body.id"}
            ir = cli("put-integration-response", *base, "--status-code", "200", "--selection-pattern", "",
                     "--response-templates", json.dumps(ok_templates),
                     "--response-parameters", json.dumps(ok_params))
            want_200 = {"statusCode": "200", "selectionPattern": "", "responseParameters": ok_params,
                        "responseTemplates": ok_templates}
            assert ir == want_200, ir
            bad_templates = {"application/json": '{"error": "$input.path(\'$.errorMessage\')"}'}
            bad_params = {"method.response.header.X-Id": "'failed'"}
            ir = cli("put-integration-response", *base, "--status-code", "400", "--selection-pattern",
                     "BadRequest.*", "--response-templates", json.dumps(bad_templates),
                     "--response-parameters", json.dumps(bad_params))
            want_400 = {"statusCode": "400", "selectionPattern": "BadRequest.*", "responseParameters": bad_params,
                        "responseTemplates": bad_templates}
            assert ir == want_400, ir
            got = cli("get-integration", *base)
            assert got == dict(want, integrationResponses={"200": want_200, "400": want_400}), got
            got = cli("get-integration-response", *base, "--status-code", "400")
            assert got == want_400, got
            method = cli("get-method", *base)
            assert method["methodIntegration"]["integrationResponses"]["200"] == want_200, method
            assert method["methodResponses"]["400"]["responseParameters"] == {
                "method.response.header.X-Id": False}, method

            cli("create-deployment", "--rest-api-id", api_id, "--stage-name", "dev", "--variables", "env=dev")
            json_ct = {"Content-Type": "application/json"}
            status, headers, body = http_call("POST", url(api_id, "dev", "/x/7?q=2"),
                                              b'{"data": {"name": "ann"}}', json_ct)
            assert status == 200, (status, body)
            assert json.loads(body) == {"echo": {"id": "7", "q": "2", "env": "dev", "body": {"name": "ann"},
                                                 "fail": None}, "via": "template"}, body
            assert headers.get("x-id") == "7", headers
            assert headers.get("content-type") == "application/json", headers
            status, headers, body = http_call("POST", url(api_id, "dev", "/x/8"),
                                              b'{"fail": "BadRequest: no name"}', json_ct)
            assert status == 400, (status, body)
            assert json.loads(body) == {"error": "BadRequest: no name"}, body
            assert headers.get("x-id") == "failed", headers
            # An error no pattern selects takes the default (200) response, error JSON and all.
            status, _, body = http_call("POST", url(api_id, "dev", "/x/9"), b'{"fail": "Boom"}', json_ct)
            assert status == 200, (status, body)
            assert json.loads(body)["echo"]["errorMessage"] == "Boom", body
            # WHEN_NO_TEMPLATES with a template defined: an unmatched Content-Type is refused.
            status, headers, body = http_call("POST", url(api_id, "dev", "/x/7"), b"plain",
                                              {"Content-Type": "text/plain"})
            assert status == 415, (status, body)
            assert json.loads(body) == {"message": "Unsupported Media Type"}, body

        def cli_test_invoke_method():
            api_id, rid = state["api_id"], state["rid"]
            out = cli("test-invoke-method", "--rest-api-id", api_id, "--resource-id", rid, "--http-method", "POST",
                      "--path-with-query-string", "/x/1?q=2", "--body", '{"data": [1, 2]}',
                      "--headers", "Content-Type=application/json", "--stage-variables", "env=dev")
            assert out["status"] == 200, out
            assert json.loads(out["body"]) == {"echo": {"id": "1", "q": "2", "env": "dev", "body": [1, 2],
                                                        "fail": None}, "via": "template"}, out
            assert isinstance(out["headers"], dict) and all(isinstance(v, str) for v in out["headers"].values()), out
            assert all(isinstance(v, list) and all(isinstance(i, str) for i in v)
                       for v in out["multiValueHeaders"].values()), out
            # AWS names them as sent (Content-Type, X-Id as declared); Portico's are
            # lower-cased, so compare without case.
            headers = {k.lower(): v for k, v in out["headers"].items()}
            assert headers.get("x-id") == "1" and headers.get("content-type") == "application/json", out
            assert {k.lower(): v for k, v in out["multiValueHeaders"].items()}.get("x-id") == ["1"], out
            assert "Method completed with status: 200" in out["log"], out["log"]
            assert "Endpoint request body after transformations: " in out["log"], out["log"]
            assert isinstance(out["latency"], int) and out["latency"] >= 0, out
            # boto3 parses the same answer into the model's types.
            r = apigw.test_invoke_method(restApiId=api_id, resourceId=rid, httpMethod="POST",
                                         pathWithQueryString="/x/5", body='{"fail": "BadRequest: x"}',
                                         headers={"Content-Type": "application/json"},
                                         stageVariables={"env": "dev"})
            assert r["status"] == 400 and json.loads(r["body"]) == {"error": "BadRequest: x"}, r
            assert {k.lower(): v for k, v in r["headers"].items()}.get("x-id") == "failed", r
            assert "Method completed with status: 400" in r["log"], r["log"]
            assert isinstance(r["latency"], int), r
            try:
                apigw.test_invoke_method(restApiId=api_id, resourceId=rid, httpMethod="GET")
                raise AssertionError("expected an error")
            except apigw.exceptions.NotFoundException as e:
                assert "Invalid Method identifier specified" in str(e), e
            # As AWS recorded them (LocalStack's test_invoke_test_method and
            # test_failed_invoke_test_method): an unknown API names the
            # resource; an endpoint that a missing stage variable leaves
            # empty fails in two log lines, with only the error type.
            try:
                apigw.test_invoke_method(restApiId="invalid_api", resourceId="invalid_res", httpMethod="POST")
                raise AssertionError("expected an error")
            except apigw.exceptions.NotFoundException as e:
                assert e.response["Error"]["Message"] == "Invalid Resource identifier specified", e
            root = apigw.get_rest_api(restApiId=api_id)["rootResourceId"]
            apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
            apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="HTTP_PROXY",
                                  integrationHttpMethod="GET", uri="https://${stageVariables.testHost}")
            r = apigw.test_invoke_method(restApiId=api_id, resourceId=root, httpMethod="GET")
            assert r["status"] == 500 and json.loads(r["body"]) == {"message": "Internal server error"}, r
            assert r["headers"] == {"x-amzn-ErrorType": "InternalServerErrorException"}, r
            lines = [line.split(" : ", 1)[-1] for line in r["log"].splitlines()]
            assert lines[-2:] == ["Execution failed due to configuration error: Invalid endpoint address",
                                  "Method completed with status: 500"], r["log"]

        def boto_mock():
            api_id = apigw.create_rest_api(name="mock")["id"]
            root = apigw.get_rest_api(restApiId=api_id)["rootResourceId"]
            rid = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="mock")["id"]
            base = dict(restApiId=api_id, resourceId=rid, httpMethod="GET")
            apigw.put_method(**base, authorizationType="NONE",
                             requestParameters={"method.request.querystring.code": False})
            i = apigw.put_integration(**base, type="MOCK",
                                      requestTemplates={"application/json": '{"statusCode": $input.params(\'code\')}'})
            assert i["type"] == "MOCK" and i["passthroughBehavior"] == "WHEN_NO_MATCH", i
            assert i["timeoutInMillis"] == 29000 and i["cacheNamespace"] == rid and i["cacheKeyParameters"] == [], i
            assert "httpMethod" not in i and "uri" not in i and "connectionType" not in i, i
            for code in ("200", "404"):
                apigw.put_method_response(**base, statusCode=code, responseModels={"application/json": "Empty"})
            r = apigw.put_integration_response(**base, statusCode="200",
                                               responseTemplates={"application/json": '{"found": true}'})
            assert r["statusCode"] == "200" and "selectionPattern" not in r, r
            apigw.put_integration_response(**base, statusCode="404", selectionPattern="404",
                                           responseTemplates={"application/json": '{"found": false}'})
            got = apigw.get_integration(**base)
            assert sorted(got["integrationResponses"]) == ["200", "404"], got
            assert got["integrationResponses"]["404"]["selectionPattern"] == "404", got
            apigw.create_deployment(restApiId=api_id, stageName="prod")
            status, headers, body = http_call("GET", url(api_id, "prod", "/mock?code=404"))
            assert status == 404 and json.loads(body) == {"found": False}, (status, body)
            assert headers.get("content-type") == "application/json", headers
            status, _, body = http_call("GET", url(api_id, "prod", "/mock?code=200"))
            assert status == 200 and json.loads(body) == {"found": True}, (status, body)
            r = apigw.test_invoke_method(**base, pathWithQueryString="/mock?code=404")
            assert r["status"] == 404 and json.loads(r["body"]) == {"found": False}, r

        def cli_cors():
            api, root = new_api("cors")
            api_id = api["id"]
            rid = cli("create-resource", "--rest-api-id", api_id, "--parent-id", root, "--path-part", "items")["id"]
            base = ["--rest-api-id", api_id, "--resource-id", rid, "--http-method", "OPTIONS"]
            cli("put-method", *base, "--authorization-type", "NONE", "--no-api-key-required")
            cli("put-integration", *base, "--type", "MOCK",
                "--request-templates", '{"application/json": "{\\"statusCode\\": 200}"}')
            mr = cli("put-method-response", *base, "--status-code", "200",
                     "--response-parameters",
                     "method.response.header.Access-Control-Allow-Headers=false,"
                     "method.response.header.Access-Control-Allow-Methods=false,"
                     "method.response.header.Access-Control-Allow-Origin=false",
                     "--response-models", "application/json=Empty")
            assert mr["responseModels"] == {"application/json": "Empty"}, mr
            allow = {
                "method.response.header.Access-Control-Allow-Headers":
                    "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'",
                "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
                "method.response.header.Access-Control-Allow-Origin": "'*'",
            }
            ir = cli("put-integration-response", *base, "--status-code", "200",
                     "--response-parameters", json.dumps(allow),
                     "--response-templates", '{"application/json": ""}')
            assert ir["responseParameters"] == allow, ir
            # AWS keeps an empty template as null, and echoes it so.
            assert ir["responseTemplates"] == {"application/json": None}, ir
            got = cli("get-integration", *base)
            assert got["integrationResponses"]["200"]["responseTemplates"] == {"application/json": None}, got
            gr = cli("put-gateway-response", "--rest-api-id", api_id, "--response-type", "DEFAULT_4XX",
                     "--response-parameters", "gatewayresponse.header.Access-Control-Allow-Origin=\"'*'\"")
            assert gr["responseParameters"] == {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}, gr
            assert gr["responseType"] == "DEFAULT_4XX" and gr["defaultResponse"] is False, gr
            cli("create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
            status, headers, body = http_call("OPTIONS", url(api_id, "prod", "/items"), headers={
                "Origin": "https://example.com", "Access-Control-Request-Method": "GET"})
            assert status == 200, (status, body)
            assert headers.get("access-control-allow-origin") == "*", headers
            assert headers.get("access-control-allow-methods") == "GET,OPTIONS", headers
            assert headers.get("access-control-allow-headers") == \
                "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token", headers
            assert body == b"", body
            # A miss (no such method) is a 403 gateway response; DEFAULT_4XX adds the CORS header.
            status, headers, body = http_call("GET", url(api_id, "prod", "/nothing"))
            assert status == 403, (status, body)
            assert json.loads(body) == {"message": "Missing Authentication Token"}, body
            assert headers.get("access-control-allow-origin") == "*", headers

        def cli_binary():
            api, root = new_api("binary", "--binary-media-types", "image/png")
            api_id = api["id"]
            assert api["binaryMediaTypes"] == ["image/png"], api
            upd = cli("update-rest-api", "--rest-api-id", api_id,
                      "--patch-operations", "op=add,path=/binaryMediaTypes/image~1jpeg")
            assert sorted(upd["binaryMediaTypes"]) == ["image/jpeg", "image/png"], upd
            assert sorted(cli("get-rest-api", "--rest-api-id", api_id)["binaryMediaTypes"]) == \
                ["image/jpeg", "image/png"]
            rid = cli("create-resource", "--rest-api-id", api_id, "--parent-id", root, "--path-part", "img")["id"]
            base = ["--rest-api-id", api_id, "--resource-id", rid, "--http-method", "POST"]
            cli("put-method", *base, "--authorization-type", "NONE")
            to_lambda = '{"image": "$input.body"}'
            integ = cli("put-integration", *base, "--type", "AWS", "--integration-http-method", "POST",
                        "--uri", LAMBDA_URI.format("mirror"), "--content-handling", "CONVERT_TO_TEXT",
                        "--request-templates", json.dumps({"image/png": to_lambda, "image/jpeg": to_lambda}))
            assert integ["contentHandling"] == "CONVERT_TO_TEXT", integ
            cli("put-method-response", *base, "--status-code", "200")
            from_lambda = "$input.path('$.image')"
            ir = cli("put-integration-response", *base, "--status-code", "200", "--selection-pattern", "",
                     "--content-handling", "CONVERT_TO_BINARY",
                     "--response-templates", json.dumps({"image/png": from_lambda, "image/jpeg": from_lambda}))
            assert ir["contentHandling"] == "CONVERT_TO_BINARY", ir
            got = cli("get-integration", *base)
            assert got["contentHandling"] == "CONVERT_TO_TEXT", got
            assert got["integrationResponses"]["200"]["contentHandling"] == "CONVERT_TO_BINARY", got
            cli("create-deployment", "--rest-api-id", api_id, "--stage-name", "prod")
            image = bytes(range(256)) + b"\x89PNG\r\n\x1a\n\x00\xff"
            for ct in ("image/png", "image/jpeg"):
                status, headers, body = http_call("POST", url(api_id, "prod", "/img"), image,
                                                  {"Content-Type": ct, "Accept": ct})
                assert status == 200, (ct, status, body)
                assert body == image, (ct, body)
                assert headers.get("content-type") == ct, headers

        def boto_canary():
            # As AWS answered LocalStack's recorded test_apigateway_canary.
            api_id = apigw.create_rest_api(name="canary")["id"]
            root = apigw.get_rest_api(restApiId=api_id)["rootResourceId"]
            base = dict(restApiId=api_id, resourceId=root, httpMethod="GET")
            apigw.put_method(**base, authorizationType="NONE")
            apigw.put_method_response(**base, statusCode="200")
            apigw.put_integration(**base, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})

            def template(message):
                return json.dumps({"message": message, "variable": "$stageVariables.testVar",
                                   "nonExistingDefault": "$stageVariables.noStageVar",
                                   "nonOverridden": "$stageVariables.defaultVar",
                                   "isCanary": "$context.isCanaryRequest"})
            apigw.put_integration_response(**base, statusCode="200", selectionPattern="",
                                           responseTemplates={"application/json": template("default deployment")})

            def refused(fn, message, **kw):
                try:
                    fn(**kw)
                except apigw.exceptions.BadRequestException as e:
                    assert e.response["Error"]["Message"] == message, e.response["Error"]
                    return
                raise AssertionError(f"{fn.__name__} accepted {kw}")
            canary = {"percentTraffic": 50, "stageVariableOverrides": {"testVar": "canary"}}
            refused(apigw.create_deployment, "Invalid deployment content specified.Non null and non empty stageName "
                    "must be provided for canary deployment. Provided value is null",
                    restApiId=api_id, canarySettings=canary)
            refused(apigw.create_deployment, "Invalid deployment content specified.Stage non-existing must already "
                    "be created before making a canary release deployment",
                    restApiId=api_id, stageName="non-existing", canarySettings=canary)
            d1 = apigw.create_deployment(restApiId=api_id, stageName="dev",
                                         variables={"testVar": "default", "defaultVar": "default"})
            assert set(d1) - {"ResponseMetadata"} == {"id", "createdDate"}, d1
            apigw.update_integration_response(**base, statusCode="200", patchOperations=[
                {"op": "replace", "path": "/responseTemplates/application~1json", "value": template("canary deployment")}])
            d2 = apigw.create_deployment(restApiId=api_id, stageName="dev", canarySettings={
                "percentTraffic": 0, "stageVariableOverrides": {"testVar": "canary", "noStageVar": "canary"}})
            st = apigw.get_stage(restApiId=api_id, stageName="dev")
            assert st["deploymentId"] == d1["id"], st
            assert st["canarySettings"] == {"deploymentId": d2["id"], "percentTraffic": 0.0, "useStageCache": False,
                                            "stageVariableOverrides": {"testVar": "canary", "noStageVar": "canary"}}, st
            status, _, body = http_call("GET", url(api_id, "dev", "/"))
            assert status == 200 and json.loads(body) == {
                "message": "default deployment", "variable": "default", "nonExistingDefault": "",
                "nonOverridden": "default", "isCanary": "false"}, (status, body)
            st = apigw.update_stage(restApiId=api_id, stageName="dev", patchOperations=[
                {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "100.0"}])
            assert st["canarySettings"]["percentTraffic"] == 100.0, st
            status, _, body = http_call("GET", url(api_id, "dev", "/"))
            assert status == 200 and json.loads(body) == {
                "message": "canary deployment", "variable": "canary", "nonExistingDefault": "canary",
                "nonOverridden": "default", "isCanary": "true"}, (status, body)
            # A split sends some requests each way.
            apigw.update_stage(restApiId=api_id, stageName="dev", patchOperations=[
                {"op": "replace", "path": "/canarySettings/percentTraffic", "value": "50"}])
            seen = {json.loads(http_call("GET", url(api_id, "dev", "/"))[2])["isCanary"] for _ in range(60)}
            assert seen == {"true", "false"}, seen
            # UpdateStage's canary paths and their errors.
            for op, message in [
                ({"op": "remove", "path": "/canarySettings/stageVariableOverrides"},
                 "Cannot remove method setting canarySettings/stageVariableOverrides because there is no method "
                 "setting for this method "),
                ({"op": "add", "path": "/canarySettings/deploymentId", "value": d1["id"]},
                 "Invalid add operation with path: /canarySettings/deploymentId"),
                ({"op": "replace", "path": "/canarySettings/deploymentId", "value": "deploy"},
                 "Deployment id does not exist"),
                ({"op": "copy", "path": "/canarySettings/stageVariableOverrides", "from": "/variables"},
                 "Invalid copy operation with path: /canarySettings/stageVariableOverrides and from /variables. "
                 "Valid copy:path are [/deploymentId, /variables] and valid copy:from are "
                 "[/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]"),
            ]:
                refused(apigw.update_stage, message, restApiId=api_id, stageName="dev", patchOperations=[op])
            try:
                apigw.update_stage(restApiId=api_id, stageName="dev", patchOperations=[
                    {"op": "replace", "path": "/canarySettings/badPath", "value": "x"}])
                raise AssertionError("bad canary path accepted")
            except apigw.exceptions.BadRequestException as e:
                assert e.response["Error"]["Message"].startswith(
                    "Invalid method setting path: /canarySettings/badPath. Must be one of: [/deploymentId, "), e
            try:
                apigw.delete_deployment(restApiId=api_id, deploymentId=d2["id"])
                raise AssertionError("deleted the canary's deployment")
            except apigw.exceptions.BadRequestException:
                pass
            # Promotion: the canary's deployment and overrides become the stage's.
            st = apigw.update_stage(restApiId=api_id, stageName="dev", patchOperations=[
                {"op": "replace", "value": "0.0", "path": "/canarySettings/percentTraffic"},
                {"op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId"},
                {"op": "copy", "from": "/canarySettings/stageVariableOverrides", "path": "/variables"}])
            assert st["deploymentId"] == d2["id"] and st["canarySettings"]["percentTraffic"] == 0.0, st
            assert st["variables"] == {"testVar": "canary", "noStageVar": "canary", "defaultVar": "default"}, st
            status, _, body = http_call("GET", url(api_id, "dev", "/"))
            assert json.loads(body)["message"] == "canary deployment" and json.loads(body)["isCanary"] == "false", body
            st = apigw.update_stage(restApiId=api_id, stageName="dev",
                                    patchOperations=[{"op": "remove", "path": "/canarySettings"}])
            assert "canarySettings" not in st, st
            refused(apigw.update_stage, "Promotion not available. Canary does not exist.",
                    restApiId=api_id, stageName="dev",
                    patchOperations=[{"op": "copy", "from": "/canarySettings/deploymentId", "path": "/deploymentId"}])
            # A canary set on a new stage, and one made by UpdateStage.
            st = apigw.create_stage(restApiId=api_id, stageName="dev2", deploymentId=d1["id"], canarySettings={
                "deploymentId": d2["id"], "percentTraffic": 40, "stageVariableOverrides": {"testVar": "c1"}})
            assert st["canarySettings"] == {"deploymentId": d2["id"], "percentTraffic": 40.0, "useStageCache": False,
                                            "stageVariableOverrides": {"testVar": "c1"}}, st
            refused(apigw.create_stage, "Deployment id does not exist", restApiId=api_id, stageName="dev3",
                    deploymentId=d1["id"], canarySettings={"deploymentId": "deploy"})
            apigw.create_stage(restApiId=api_id, stageName="dev3", deploymentId=d1["id"])
            st = apigw.update_stage(restApiId=api_id, stageName="dev3", patchOperations=[
                {"op": "replace", "path": "/canarySettings/deploymentId", "value": d2["id"]}])
            assert st["canarySettings"] == {"deploymentId": d2["id"], "percentTraffic": 0.0,
                                            "useStageCache": False}, st

        check("non-proxy: aws apigateway put-integration --type AWS (Lambda) with templates, integration "
              "responses, get-integration round trip, deploy, call (template, header, 400, 415)",
              cli_aws_integration)
        check("non-proxy: aws + boto3 apigateway test-invoke-method (status, body, headers, log, latency)",
              cli_test_invoke_method)
        check("non-proxy: boto3 apigateway MOCK integration selected by statusCode (200 / 404)", boto_mock)
        check("non-proxy: boto3 apigateway canary release: create/update/promote/remove, traffic split, isCanaryRequest",
              boto_canary)
        check("non-proxy: aws apigateway CORS (OPTIONS + MOCK + '*' literals) and a DEFAULT_4XX gateway response",
              cli_cors)
        check("non-proxy: aws apigateway binaryMediaTypes (create/update-rest-api), CONVERT_TO_TEXT / "
              "CONVERT_TO_BINARY, bytes round trip", cli_binary)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
