#!/usr/bin/env bash
# Formats every Rust file of the repository (--check: reports, changes nothing).
# `cargo fmt` alone reaches only the files that `mod` lines declare, and the
# migrations and aggregates are declared by build scripts instead
# (migration/build.rs, backend/etl/build.rs), so every file is also given to
# rustfmt by name.
set -euo pipefail
cd "$(dirname "$0")/.."
check=()
if [ "${1:-}" = "--check" ]; then
  check=(--check)
fi
cargo fmt --all -- "${check[@]}"
git ls-files -z --cached --others --exclude-standard -- '*.rs' | xargs -0 rustfmt --edition 2021 "${check[@]}"
