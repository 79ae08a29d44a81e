#!/usr/bin/env bash
# The whole test suite: formatting, lints, the SDK, every plugin, the host's unit and
# integration tests against real plugins, the SPA's lint, types and component tests, and the
# browser journeys in real Chromium against a real `ava serve`. Installs what it needs
# (the wasm32-wasip2 target, npm packages from the lockfile, Debian's chromium) and starts
# the local services the tests use when they are stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ava-target}"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "system packages (chromium for the browser tests, nginx for the topology tests, promtool for /metrics)"
if ! command -v chromium >/dev/null || ! command -v nginx >/dev/null || ! command -v promtool >/dev/null; then
  apt-get install -y --no-install-recommends chromium nginx prometheus >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium nginx prometheus >/dev/null; }
fi

step "services (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379)"
# The API suite runs against a real PostgreSQL (AVA_TEST_POSTGRES_URL); start the local
# cluster when it is stopped, as on a machine just booted.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${AVA_TEST_POSTGRES_URL:-}" ] && ! port_open 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! port_open 6379 && command -v redis-server >/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
for _ in $(seq 50); do port_open 5432 && break; sleep 0.2; done

step "plugins (wasm32-wasip2)"
./scripts/build-plugins.sh

step "frontend: install, lint, format, types, API types, component tests, build"
(
  cd frontend
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent lint
  npm run --silent format:check
  npm run --silent typecheck
  npm run --silent check:api
  npm test --silent
  npm run --silent build
)

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy -p ava-host -p ava-sdk --all-targets -- -D warnings
cargo clippy -p ava-sdk --all-features --tests -- -D warnings
for manifest in plugins/*/Cargo.toml; do
  name="$(basename "$(dirname "$manifest")")"
  cargo clippy -p "$name" --target wasm32-wasip2 --quiet -- -D warnings
  cargo clippy -p "$name" --tests --quiet -- -D warnings
done

step "sdk"
cargo test -p ava-sdk --all-features --quiet

step "plugins (native, through the SDK's test harness)"
for manifest in plugins/*/Cargo.toml; do
  name="$(basename "$(dirname "$manifest")")"
  cargo test -p "$name" --quiet
done

step "host"
cargo test -p ava-host --quiet

step "browser journeys (Chromium against ava serve)"
cargo build -p ava-host --bin ava --quiet
(cd frontend && AVA_BIN="$CARGO_TARGET_DIR/debug/ava" npm run --silent e2e)

step "all tests passed"
