#!/usr/bin/env bash
# Runs the gateway with the example functions deployed (embedded store in
# ./.portico, nothing else to install) and prints how to call them.
# Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

LISTEN="${PORTICO_LISTEN:-127.0.0.1:8080}"
ADMIN="${PORTICO_ADMIN_LISTEN:-127.0.0.1:8081}"
export PORTICO_ENDPOINT="http://$ADMIN"

scripts/setup.sh
echo "demo: building the example functions and portico (first build takes a few minutes)"
scripts/build-functions.sh
cargo build --quiet --bin portico
PORTICO=target/debug/portico

"$PORTICO" serve --listen "$LISTEN" --admin-listen "$ADMIN" --data-dir ./.portico &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 100); do
  "$PORTICO" function list >/dev/null 2>&1 && break
  sleep 0.1
done

WASM=functions/target/wasm32-wasip1/release
# Functions from the folder (created, updated or left alone), then the demo
# API from its OpenAPI file, deployed to stage "prod" — idempotently.
"$PORTICO" deploy demo/api.yaml --stage prod --functions "$WASM" --front "http://$LISTEN"
API=$("$PORTICO" api list --json | python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin)["item"] if a["name"]=="portico-demo"][0])')
BASE="http://$LISTEN/restapis/$API/prod/_user_request_"

cat <<MSG

Portico is running: front door http://$LISTEN, management API http://$ADMIN
Demo API $API on stage prod (GET /hello, GET+POST /users, ANY /echo/{proxy+}):

  curl -s $BASE/hello
  curl -s -X POST $BASE/users -H 'Content-Type: application/json' -d '{"name":"ann"}'
  curl -s "$BASE/echo/any/path?x=1"
  curl -s -H "Host: $API.execute-api.localhost:${LISTEN##*:}" http://$LISTEN/prod/hello

Functions: $PORTICO function list; invoke one directly:
  $PORTICO function invoke --name counter        # run it again: the warm instance counts up
  $PORTICO function invoke --name faults --payload '{"fault":"panic"}' --log
The real AWS CLI works too:
  aws apigateway get-rest-apis --endpoint-url http://$ADMIN
  aws lambda list-functions --endpoint-url http://$ADMIN

Ctrl-C stops the gateway; state stays in ./.portico.
MSG
echo "demo: sample call: curl -s $BASE/hello"
curl -s "$BASE/hello"; echo
wait $SERVER
