#!/usr/bin/env bash
# CreateDeployment of a 300-resource API through the management API, end to
# end (HTTP, snapshot, SQLite commit with fsync, front-door recompile), the
# way `aws apigateway create-deployment` sees it: 50 deployments in a row to
# one stage, so a cost that grows with the deployment history shows. Prints
# p50 / p90 / max of the first 10 and of the last 10, and an UpdateRestApi
# after them (which must not pay for the history either). Target: <= 50 ms.
# Usage: benches/deploy.sh [deployments]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-50}"
cargo build --release --quiet --bin portico
DATA=$(mktemp -d)
target/release/portico serve --listen 127.0.0.1:18280 --admin-listen 127.0.0.1:18281 --data-dir "$DATA" 2>"$DATA/log" &
P=$!
trap 'kill $P 2>/dev/null; rm -rf "$DATA"' EXIT
sleep 1
python3 - "$N" <<'EOF'
import json, sys, time, urllib.request

ADMIN = "http://127.0.0.1:18281"
n = int(sys.argv[1])
mock = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200"}}}
paths = {f"/r{i}": {"get": {"responses": {"200": {"description": "ok"}},
                            "x-amazon-apigateway-integration": mock}} for i in range(300)}
doc = {"openapi": "3.0.1", "info": {"title": "deploy-bench", "version": "1"}, "paths": paths}

def call(method, path, body):
    req = urllib.request.Request(ADMIN + path, data=json.dumps(body).encode(), method=method)
    started = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        out = json.load(r)
    return out, (time.perf_counter() - started) * 1000

api, _ = call("POST", "/restapis?mode=import", doc)
times = [call("POST", f"/restapis/{api['id']}/deployments", {"stageName": "prod"})[1] for _ in range(n)]
_, update = call("PATCH", f"/restapis/{api['id']}",
                 {"patchOperations": [{"op": "replace", "path": "/description", "value": "x"}]})

def summary(ts):
    ts = sorted(ts)
    return f"p50 {ts[len(ts) // 2]:.1f} ms, p90 {ts[int(len(ts) * 0.9)]:.1f} ms, max {ts[-1]:.1f} ms"

print(f"CreateDeployment, 300 resources: deployments 1-10: {summary(times[:10])}; "
      f"{n - 9}-{n}: {summary(times[-10:])} (target <= 50 ms)")
print(f"UpdateRestApi after {n} deployments: {update:.1f} ms")
EOF
