#!/usr/bin/env bash
# Runs Ava on the embedded default: SQLite, the in-process queue, the offline plugins.
# Installs what it needs (the wasm32-wasip2 target), builds the plugins, then serves on
# http://localhost:8080 (AVA_ADDR to change). Extra arguments go to `ava`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ava-target}"

./scripts/build-plugins.sh
exec cargo run -p ava-host --bin ava -- "${@:-serve}"
