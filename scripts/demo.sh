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
for f in hello echo counter token_authorizer faults inspect command_echo; do
  if "$PORTICO" function get --name "$f" >/dev/null 2>&1; then
    "$PORTICO" function update-code --name "$f" --code "$WASM/$f.wasm" >/dev/null
  else
    "$PORTICO" function create --name "$f" --code "$WASM/$f.wasm" >/dev/null
  fi
done

cat <<MSG

Portico is running: front door http://$LISTEN, management API http://$ADMIN
Deployed functions: hello echo counter token_authorizer faults inspect command_echo

Try:
  $PORTICO function invoke --name hello --payload '{}'
  $PORTICO function invoke --name counter        # run it again: the warm instance counts up
  $PORTICO function invoke --name faults --payload '{"fault":"panic"}' --log
  curl -s -X POST http://$ADMIN/2015-03-31/functions/echo/invocations -d '{"hello":"world"}'
  aws lambda list-functions --endpoint-url http://$ADMIN      # the real AWS CLI works too

Ctrl-C stops the gateway; state stays in ./.portico.
MSG
echo "demo: sample call:"
"$PORTICO" function invoke --name hello --payload '{}'
wait $SERVER
