#!/usr/bin/env bash
# Runs Ava on the embedded default: SQLite, the in-process queue, the offline plugins.
# Installs what it needs (the wasm32-wasip2 target, the SPA's npm packages), builds the
# plugins and the SPA, then serves both on http://localhost:8080 (AVA_ADDR to change).
# Extra arguments go to `ava`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ava-target}"

./scripts/build-plugins.sh
(
  cd frontend
  # npm ci starts from an empty node_modules: only when the lockfile changed since.
  [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
)
exec cargo run -p ava-host --bin ava -- "${@:-serve}"
