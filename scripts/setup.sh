#!/usr/bin/env bash
# Installs what Portico's build and tests need on a fresh machine: the
# wasm32-wasip1 Rust target and (with --test-clients) the AWS CLI and boto3
# from PyPI in ./.venv. Idempotent; quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  echo "setup: adding the wasm32-wasip1 Rust target"
  rustup target add wasm32-wasip1
fi

if [ "${1:-}" = "--test-clients" ]; then
  if [ ! -x .venv/bin/aws ] || ! .venv/bin/python -c 'import boto3' 2>/dev/null; then
    echo "setup: installing the AWS CLI and boto3 into .venv (PyPI)"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check awscli boto3
  fi
fi
