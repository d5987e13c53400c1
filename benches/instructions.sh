#!/usr/bin/env bash
# Instructions per request, counted by valgrind (callgrind) in the server
# process over a wrk run: bare axum (GET /hello, POST /echo), and Portico's
# GET /hello (Lambda proxy) and POST /transform/{id} (non-proxy, the two
# templates of benches/nonproxy.json). Unlike requests/s, the count does not
# move with other load on a shared machine, so it shows what a change saved
# even where load.sh's ratios are lost in the noise. User-space instructions
# only (kernel time is left out); guest code is counted with the host's.
# Usage: benches/instructions.sh [seconds]   (installs valgrind and wrk from Debian)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-10}"

for tool in valgrind wrk; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
scripts/setup.sh
scripts/build-functions.sh
cargo build --release --quiet --example bare_axum
# The binary load.sh measures (profile-guided when pgo/ has a profile for
# this toolchain); PORTICO_BIN counts another build, e.g.
# PORTICO_BIN=$(scripts/build-release.sh --plain).
PORTICO="${PORTICO_BIN:-$(scripts/build-release.sh)}"
echo "portico binary: $PORTICO" >&2
WASM=functions/target/wasm32-wasip1/release

WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
POST="$WORK/post.lua"
printf 'wrk.method = "POST"\nwrk.body = "{\\"hello\\":\\"world\\"}"\nwrk.headers["Content-Type"] = "application/json"\n' > "$POST"

wait_up() { # URL
  for _ in $(seq 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done
  echo "server did not come up: $1" >&2; exit 1
}

count() { # PID NAME URL [lua] -> "NAME: N Ir per request"
  local pid=$1 name=$2 url=$3 lua=${4:-} out n total file
  wrk -t1 -c4 -d2s ${lua:+-s "$lua"} "$url" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  out=$(wrk -t1 -c4 -d"${DUR}s" ${lua:+-s "$lua"} "$url")
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  file=$(ls -t "$WORK"/cg.$pid.out* | head -1)
  total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "$name: $((total / n)) instructions per request ($n requests)"
}

valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.%p.out" \
  target/release/examples/bare_axum 127.0.0.1:18490 2>/dev/null &
PIDS+=($!)
BARE=$!
wait_up http://127.0.0.1:18490/hello
count "$BARE" "bare axum GET /hello" http://127.0.0.1:18490/hello
count "$BARE" "bare axum POST /echo" http://127.0.0.1:18490/echo "$POST"

# The pooling allocator's reservation does not fit under valgrind at the
# default 1000 instances; two are enough for four connections on one thread.
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.%p.out" \
  "$PORTICO" serve --front-threads 1 --max-instances 2 \
  --listen 127.0.0.1:18480 --admin-listen 127.0.0.1:18481 --data-dir "$WORK/data" 2>"$WORK/log" &
PIDS+=($!)
SERVER=$!
wait_up http://127.0.0.1:18481/restapis
export PORTICO_ENDPOINT=http://127.0.0.1:18481
for f in hello echo mirror; do "$PORTICO" function create --name $f --code $WASM/$f.wasm >/dev/null; done
api_of() { "$PORTICO" api import --file "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
DEMO=$(api_of demo/api.yaml)
"$PORTICO" api deploy --api "$DEMO" --stage prod >/dev/null
NON_PROXY=$(api_of benches/nonproxy.json)
"$PORTICO" api deploy --api "$NON_PROXY" --stage prod >/dev/null
count "$SERVER" "portico GET /hello (Lambda proxy)" "http://127.0.0.1:18480/restapis/$DEMO/prod/_user_request_/hello"
count "$SERVER" "portico POST /transform/42 (non-proxy, templates)" \
  "http://127.0.0.1:18480/restapis/$NON_PROXY/prod/_user_request_/transform/42?q=x" "$POST"
