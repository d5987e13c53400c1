#!/usr/bin/env bash
# Builds the example functions in functions/ once (cargo makes repeats no-ops).
set -euo pipefail
cd "$(dirname "$0")/../functions"
cargo build --release --quiet --target wasm32-wasip1
