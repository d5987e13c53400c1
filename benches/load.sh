#!/usr/bin/env bash
# Load test: the real server invoking `echo` (warm instances) through the
# Lambda Invoke API, side by side with bare axum returning the same body, in
# one run on this machine. Prints requests/s and the ratio to bare axum.
# Usage: benches/load.sh [seconds]   (needs wrk; installs it from Debian)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-15}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
scripts/setup.sh
scripts/build-functions.sh
cargo build --release --quiet --bin portico --example bare_axum

DATA=$(mktemp -d)
target/release/portico serve --listen 127.0.0.1:18180 --admin-listen 127.0.0.1:18181 --data-dir "$DATA" 2>"$DATA/log" &
P=$!
target/release/examples/bare_axum 127.0.0.1:18190 &
B=$!
trap 'kill $P $B 2>/dev/null; rm -rf "$DATA"' EXIT
sleep 1
export PORTICO_ENDPOINT=http://127.0.0.1:18181
target/release/portico function create --name echo --code functions/target/wasm32-wasip1/release/echo.wasm >/dev/null

LUA="$DATA/post.lua"
printf 'wrk.method = "POST"\nwrk.body = "{\\"hello\\":\\"world\\"}"\n' > "$LUA"
run() { wrk -t2 -c64 -d"${DUR}s" --latency -s "$LUA" "$1" | tee /dev/stderr | awk '/Requests\/sec/ {print $2}'; }

echo "== bare axum" >&2
BASE=$(run http://127.0.0.1:18190/)
echo "== portico invoke echo (warm)" >&2
PORT=$(run http://127.0.0.1:18181/2015-03-31/functions/echo/invocations)
echo "== bare axum again" >&2
BASE2=$(run http://127.0.0.1:18190/)
python3 - "$BASE" "$PORT" "$BASE2" <<'PY'
import sys
b1, p, b2 = map(float, sys.argv[1:])
base = (b1 + b2) / 2
print(f"bare axum: {b1:.0f} / {b2:.0f} req/s; portico invoke echo: {p:.0f} req/s; ratio {p / base:.2f}")
PY
