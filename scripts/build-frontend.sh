#!/usr/bin/env bash
# Builds the dashboard (frontend/dist) with Trunk, installing what is missing and
# skipping what is present:
#   - the wasm32 standard library: rustup's `wasm32-unknown-unknown` target when
#     installed (the normal path: `rustup target add wasm32-unknown-unknown`);
#     otherwise, where rustup cannot download it, Debian's rustc-web toolchain
#     with `-Z build-std` (see docs/wasm-toolchain.md);
#   - trunk 0.21.14 and wasm-bindgen-cli matching Cargo.lock (cargo install);
#   - wasm-opt 132 from the npm package binaryen (optional: skipped without npm).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
TRUNK_VERSION=0.21.14

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

mode=""
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  mode=rustup
elif command -v apt-get >/dev/null && apt-cache show rust-web-src >/dev/null 2>&1; then
  mode=debian
  missing=()
  for p in rustc-web cargo-web rust-web-src lld-22; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}…"
    as_root apt-get update -qq && as_root apt-get install -y -qq "${missing[@]}"
  fi
  rustup toolchain list | grep -q '^debian' || rustup toolchain link debian /usr
else
  rustup target add wasm32-unknown-unknown
  mode=rustup
fi

if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  cargo install trunk --locked --version "$TRUNK_VERSION"
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  # Not --locked: its lockfile pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features
fi
if ! "$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version 132"; then
  if command -v npm >/dev/null; then
    npm install --silent --prefix "$TOOLS" binaryen@132.0.0
  fi
fi
export PATH="$TOOLS/node_modules/.bin:$PATH"
# Trunk runs cargo offline: make sure every crate is downloaded, including the
# standard library's own dependencies when -Z build-std compiles it.
cargo fetch --locked >/dev/null
if [ "$mode" = debian ]; then
  sysroot=$(RUSTUP_TOOLCHAIN=debian rustc --print sysroot)
  RUSTUP_TOOLCHAIN=debian cargo fetch --locked --manifest-path "$sysroot/lib/rustlib/src/rust/library/Cargo.toml" >/dev/null
fi

args=(build --release)
if ! command -v wasm-opt >/dev/null || ! wasm-opt --version | grep -q "version 132"; then
  echo "note: wasm-opt 132 not available; building without it" >&2
  args+=(--no-minification)
  export TRUNK_TOOLS_WASM_OPT=""
fi
if [ "$mode" = debian ]; then
  RUSTUP_TOOLCHAIN=debian RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort RUST_BACKTRACE=0 trunk "${args[@]}"
else
  trunk "${args[@]}"
fi
echo "dashboard built into frontend/dist"
