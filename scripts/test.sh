#!/usr/bin/env bash
# The whole test suite, as CI runs it: unit and integration tests (the real
# server, real wasm), the guest SDK's and the example functions' tests, and the AWS CLI / boto3 checks.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test-clients
scripts/build-functions.sh

echo "== cargo test (portico)"
cargo test --all-targets 2>&1 | tee /tmp/portico-cargo-test.log
echo "== cargo test (guest-sdk, host target)"
(cd guest-sdk && cargo test --quiet)
echo "== cargo test (example functions, host target)"
(cd functions && cargo test --quiet)
echo "== AWS CLI and boto3 against a real server"
cargo build --quiet --bin portico
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python tests/aws/aws_clients.py
