#!/usr/bin/env bash
# Builds the release `portico` binary the benchmarks run, and prints its
# path. With the profile in pgo/ (see scripts/pgo-train.sh) and a rustc
# whose LLVM is as new as the one that recorded it, the build is profile-guided
# (-Cprofile-use, in target/pgo so that the plain release build in target/
# stays as it is): on the benchmark routes it executes ~15 % fewer
# instructions a request. Without them it is the plain `cargo build
# --release`, with a note on stderr. A profile recorded from older code
# still applies to every function that has not changed since; LLVM skips
# the rest.
# Usage: scripts/build-release.sh [--plain]
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=pgo/portico.profdata.xz
plain() {
  cargo build --release --quiet --bin portico
  echo target/release/portico
}

[ "${1:-}" = "--plain" ] && { plain; exit; }
if [ ! -f "$PROFILE" ]; then
  echo "build-release: no $PROFILE: a plain release build" >&2
  plain
  exit
fi
# LLVM reads the indexed profiles of its own and older versions.
llvm=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
recorded=$(sed -n 's/^\([0-9]*\).*/\1/p' pgo/llvm-version 2>/dev/null || true)
if [ -z "$llvm" ] || [ -z "$recorded" ] || [ "$llvm" -lt "$recorded" ]; then
  echo "build-release: the profile is from LLVM ${recorded:-?}, this rustc has LLVM ${llvm:-?}: a plain release build (scripts/pgo-train.sh records a new one)" >&2
  plain
  exit
fi
mkdir -p target/pgo
# Named by the profile's hash: a new profile changes RUSTFLAGS, so cargo
# rebuilds every crate with it rather than keeping ones built with the old.
sum=$(sha256sum "$PROFILE" | cut -c1-16)
UNPACKED="$PWD/target/pgo/portico-$sum.profdata"
if [ ! -f "$UNPACKED" ]; then
  python3 -c 'import lzma, shutil, sys
with lzma.open(sys.argv[1]) as src, open(sys.argv[2] + ".tmp", "wb") as dst:
    shutil.copyfileobj(src, dst)' "$PROFILE" "$UNPACKED"
  mv "$UNPACKED.tmp" "$UNPACKED"
fi
RUSTFLAGS="-Cprofile-use=$UNPACKED" CARGO_TARGET_DIR=target/pgo cargo build --release --quiet --bin portico
echo target/pgo/release/portico
