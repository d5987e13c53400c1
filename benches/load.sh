#!/usr/bin/env bash
# Load test, side by side with bare axum returning the same body, in one run
# on this machine: (1) GET /hello through the front door (REST API stage,
# Lambda proxy, warm `hello` instances), (2) the same behind a cached TOKEN
# authorizer + API key + usage plan (limits high, nothing throttles;
# benches/guarded.yaml), (3) `echo` through the Lambda Invoke API, (4) GET
# /hello through an HTTP_PROXY integration to the bare axum server itself
# (benches/http_proxy.yaml), at 64 connections for the rate and at one
# connection for the latency it adds, (5) POST /transform/{id} through a
# non-proxy Lambda integration (`mirror`) with a ~1 KB request template and
# a response template (benches/nonproxy.json). Prints requests/s, p50/p99
# and the ratio to bare axum.
# Usage: benches/load.sh [seconds]   (needs wrk; installs it from Debian)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-15}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
scripts/setup.sh
scripts/build-functions.sh
cargo build --release --quiet --example bare_axum
# Profile-guided when pgo/ has a profile for this toolchain (see
# scripts/build-release.sh); PORTICO_BIN runs another build instead.
PORTICO="${PORTICO_BIN:-$(scripts/build-release.sh)}"
echo "portico binary: $PORTICO" >&2

DATA=$(mktemp -d)
"$PORTICO" serve --listen 127.0.0.1:18180 --admin-listen 127.0.0.1:18181 --data-dir "$DATA" 2>"$DATA/log" &
P=$!
target/release/examples/bare_axum 127.0.0.1:18190 &
B=$!
trap 'kill $P $B 2>/dev/null; rm -rf "$DATA"' EXIT
sleep 1
export PORTICO_ENDPOINT=http://127.0.0.1:18181
"$PORTICO" function create --name echo --code functions/target/wasm32-wasip1/release/echo.wasm >/dev/null
"$PORTICO" function create --name hello --code functions/target/wasm32-wasip1/release/hello.wasm >/dev/null
"$PORTICO" function create --name mirror --code functions/target/wasm32-wasip1/release/mirror.wasm >/dev/null
"$PORTICO" function create --name token_authorizer --code functions/target/wasm32-wasip1/release/token_authorizer.wasm >/dev/null
API=$("$PORTICO" api import --file demo/api.yaml --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$PORTICO" api deploy --api "$API" --stage prod >/dev/null
HELLO_BODY=$(curl -s "http://127.0.0.1:18180/restapis/$API/prod/_user_request_/hello")
GUARDED=$("$PORTICO" api import --file benches/guarded.yaml --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$PORTICO" api deploy --api "$GUARDED" --stage prod >/dev/null
APIKEY=bench-api-key-0123456789
KEY_ID=$(curl -sf -XPOST http://127.0.0.1:18181/apikeys -d "{\"name\":\"bench\",\"enabled\":true,\"value\":\"$APIKEY\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
PLAN_ID=$(curl -sf -XPOST http://127.0.0.1:18181/usageplans -d "{\"name\":\"bench\",\"apiStages\":[{\"apiId\":\"$GUARDED\",\"stage\":\"prod\"}],\"throttle\":{\"rateLimit\":10000000,\"burstLimit\":10000000},\"quota\":{\"limit\":1000000000,\"period\":\"DAY\"}}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -XPOST "http://127.0.0.1:18181/usageplans/$PLAN_ID/keys" -d "{\"keyId\":\"$KEY_ID\",\"keyType\":\"API_KEY\"}" >/dev/null
GUARDED_URL="http://127.0.0.1:18180/restapis/$GUARDED/prod/_user_request_/hello"
GUARDED_BODY=$(curl -s -H 'Authorization: allow-stage' -H "x-api-key: $APIKEY" "$GUARDED_URL")
echo "guarded GET /hello answers: $GUARDED_BODY" >&2
GUARDED_LUA="$DATA/guarded.lua"
HTTP_PROXY_API=$("$PORTICO" api import --file benches/http_proxy.yaml --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -XPOST "http://127.0.0.1:18181/restapis/$HTTP_PROXY_API/deployments" -d '{"stageName":"prod","variables":{"upstream":"127.0.0.1:18190"}}' >/dev/null
HTTP_PROXY_URL="http://127.0.0.1:18180/restapis/$HTTP_PROXY_API/prod/_user_request_/hello"
echo "HTTP_PROXY GET /hello answers: $(curl -s "$HTTP_PROXY_URL")" >&2
NON_PROXY_API=$("$PORTICO" api import --file benches/nonproxy.json --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$PORTICO" api deploy --api "$NON_PROXY_API" --stage prod >/dev/null
NON_PROXY_URL="http://127.0.0.1:18180/restapis/$NON_PROXY_API/prod/_user_request_/transform/42?q=x"
echo "non-proxy POST /transform/42 answers: $(curl -s -XPOST -H 'Content-Type: application/json' -d '{"hello":"world"}' "$NON_PROXY_URL")" >&2
printf 'wrk.headers["Authorization"] = "allow-stage"\nwrk.headers["x-api-key"] = "%s"\n' "$APIKEY" > "$GUARDED_LUA"
echo "GET /hello answers: $HELLO_BODY" >&2

LUA="$DATA/post.lua"
printf 'wrk.method = "POST"\nwrk.body = "{\\"hello\\":\\"world\\"}"\n' > "$LUA"
JSON_LUA="$DATA/post-json.lua"
printf 'wrk.method = "POST"\nwrk.body = "{\\"hello\\":\\"world\\"}"\nwrk.headers["Content-Type"] = "application/json"\n' > "$JSON_LUA"
run() { # URL [lua] -> "req/s p50 p99"   (CONNS=1 for a latency run)
  local out conns="${CONNS:-64}" threads=2
  [ "$conns" -lt 2 ] && threads=1
  out=$(wrk -t"$threads" -c"$conns" -d"${DUR}s" --latency ${2:+-s "$2"} "$1")
  echo "$out" >&2
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="50%" {print $2}') $(echo "$out" | awk '$1=="99%" {print $2}')"
}
ratio() { python3 -c "import sys; b1,p,b2=map(float,sys.argv[1:]); print(f'{p/((b1+b2)/2):.2f}')" "$@"; }
added() { # P50_WITH P50_WITHOUT (wrk units) -> difference in ms
  python3 -c "
import sys
def ms(v):
    for unit, f in (('us', 1e-3), ('ms', 1.0), ('s', 1e3)):
        if v.endswith(unit): return float(v[:-len(unit)]) * f
    return float(v)
print(f'{ms(sys.argv[1]) - ms(sys.argv[2]):+.3f} ms')" "$@"; }

echo "== bare axum (GET)" >&2;                 read -r B1 B1P50 B1P99 <<<"$(run http://127.0.0.1:18190/hello)"
echo "== portico GET /hello (front door)" >&2; read -r F FP50 FP99 <<<"$(run "http://127.0.0.1:18180/restapis/$API/prod/_user_request_/hello")"
echo "== bare axum (GET) again" >&2;           read -r B2 B2P50 B2P99 <<<"$(run http://127.0.0.1:18190/hello)"
echo "== portico GET /hello, authorizer + API key" >&2; read -r G GP50 GP99 <<<"$(run "$GUARDED_URL" "$GUARDED_LUA")"
echo "== bare axum (GET) third" >&2;           read -r B4 B4P50 B4P99 <<<"$(run http://127.0.0.1:18190/hello)"
echo "== portico Invoke echo (Lambda API)" >&2; read -r L LP50 LP99 <<<"$(run http://127.0.0.1:18181/2015-03-31/functions/echo/invocations "$LUA")"
echo "== bare axum (POST)" >&2;                read -r B3 B3P50 B3P99 <<<"$(run http://127.0.0.1:18190/echo "$LUA")"
echo "== bare axum (GET), before HTTP_PROXY" >&2; read -r B5 B5P50 B5P99 <<<"$(run http://127.0.0.1:18190/hello)"
echo "== portico GET /hello, HTTP_PROXY to bare axum" >&2; read -r H HP50 HP99 <<<"$(run "$HTTP_PROXY_URL")"
echo "== bare axum (GET), after HTTP_PROXY" >&2;  read -r B6 B6P50 B6P99 <<<"$(run http://127.0.0.1:18190/hello)"
echo "== portico POST /transform/42, non-proxy + templates" >&2; read -r N NP50 NP99 <<<"$(run "$NON_PROXY_URL" "$JSON_LUA")"
echo "== bare axum (POST), after non-proxy" >&2;  read -r B7 B7P50 B7P99 <<<"$(run http://127.0.0.1:18190/echo "$JSON_LUA")"
echo "== bare axum (GET), 1 connection" >&2;     read -r D1 D1P50 D1P99 <<<"$(CONNS=1 run http://127.0.0.1:18190/hello)"
echo "== portico HTTP_PROXY, 1 connection" >&2;  read -r H1 H1P50 H1P99 <<<"$(CONNS=1 run "$HTTP_PROXY_URL")"

echo
echo "bare axum:            ${B1} / ${B2} / ${B3} req/s (p50 ${B1P50}, p99 ${B1P99})"
echo "front door GET /hello: ${F} req/s (p50 ${FP50}, p99 ${FP99}), ratio to bare axum $(ratio "$B1" "$F" "$B2")"
echo "GET /hello + authorizer + API key: ${G} req/s (p50 ${GP50}, p99 ${GP99}), ratio to bare axum $(ratio "$B2" "$G" "$B4")"
echo "Lambda Invoke echo:    ${L} req/s (p50 ${LP50}, p99 ${LP99}), ratio to bare axum $(ratio "$B2" "$L" "$B3")"
echo "HTTP_PROXY GET /hello: ${H} req/s (p50 ${HP50}, p99 ${HP99}), bare axum ${B5} / ${B6} req/s (p50 ${B5P50} / ${B6P50}), ratio to bare axum $(ratio "$B5" "$H" "$B6")"
echo "HTTP_PROXY, 1 connection: p50 ${H1P50} vs ${D1P50} direct: added p50 $(added "$H1P50" "$D1P50") (target <= 0.3 ms); ${H1} vs ${D1} req/s"
echo "non-proxy POST (1 KB request template + response template): ${N} req/s (p50 ${NP50}, p99 ${NP99}), bare axum POST ${B7} req/s, bare axum POST before ${B3}, ratio to bare axum $(ratio "$B3" "$N" "$B7") (target >= 0.5)"
