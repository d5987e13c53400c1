#!/usr/bin/env bash
# Records the profile that scripts/build-release.sh optimises the release
# binary with: builds an instrumented portico (-Cprofile-generate, in
# target/pgo-gen), runs benches/load.sh against it for a few seconds a
# route (so the profile is of the routes the benchmarks measure: Lambda
# proxy, authorizer + API key, Invoke, HTTP_PROXY, non-proxy templates),
# merges what it counted and writes pgo/portico.profdata.xz and the LLVM
# version that wrote it (pgo/llvm-version). Run it again after changing
# the hot paths: a function changed since the profile gets no profile.
# Needs llvm-profdata (the llvm-tools rustup component, added here).
# Usage: scripts/pgo-train.sh [seconds per route]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-3}"

rustup component add llvm-tools >/dev/null 2>&1 || true
sysroot=$(rustc --print sysroot)
host=$(rustc -vV | sed -n 's/^host: //p')
PROFDATA="$sysroot/lib/rustlib/$host/bin/llvm-profdata"
[ -x "$PROFDATA" ] || { echo "pgo-train: no llvm-profdata at $PROFDATA (rustup component add llvm-tools)" >&2; exit 1; }

RAW="$PWD/target/pgo-gen/raw"
echo "pgo-train: building the instrumented binary (target/pgo-gen)" >&2
RUSTFLAGS="-Cprofile-generate=$RAW" CARGO_TARGET_DIR=target/pgo-gen \
  cargo build --release --quiet --bin portico
# Build scripts and proc macros, instrumented too, wrote counts while they
# ran: only the server's are wanted.
rm -rf "$RAW"
# The server writes its counts when it exits (load.sh stops it with TERM).
PORTICO_BIN=target/pgo-gen/release/portico benches/load.sh "$DUR" >/dev/null
for _ in $(seq 100); do
  pgrep -f target/pgo-gen/release/portico >/dev/null || break
  sleep 0.2
done
mkdir -p pgo
"$PROFDATA" merge --sparse -o target/pgo-gen/portico.profdata "$RAW"
python3 -c 'import lzma, shutil, sys
with open(sys.argv[1], "rb") as src, lzma.open(sys.argv[2], "wb", preset=9) as dst:
    shutil.copyfileobj(src, dst)' target/pgo-gen/portico.profdata pgo/portico.profdata.xz
rustc -vV | sed -n 's/^LLVM version: //p' > pgo/llvm-version
echo "pgo-train: wrote pgo/portico.profdata.xz ($(wc -c < pgo/portico.profdata.xz) bytes) for LLVM $(cat pgo/llvm-version)" >&2
