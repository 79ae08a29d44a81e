#!/usr/bin/env bash
# Builds every plugin crate under plugins/ as a wasm32-wasip2 component and copies it to
# dist/plugins/<name>.wasm (only when it changed, so a running `ava serve` reloads only what
# really changed).
#
# One cargo invocation per plugin: each enables a different ava-sdk feature (its world), and
# cargo would unify the features of plugins built together into one component type.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi

target_dir="${CARGO_TARGET_DIR:-target}"
out="dist/plugins"
mkdir -p "$out"

for manifest in plugins/*/Cargo.toml; do
  name="$(basename "$(dirname "$manifest")")"
  cargo build --profile plugin --target wasm32-wasip2 -p "$name" --quiet
  built="$target_dir/wasm32-wasip2/plugin/${name//-/_}.wasm"
  if ! cmp -s "$built" "$out/$name.wasm"; then
    cp "$built" "$out/$name.wasm.tmp"
    mv "$out/$name.wasm.tmp" "$out/$name.wasm"
    echo "plugin $name -> $out/$name.wasm ($(stat -c %s "$out/$name.wasm") bytes)"
  fi
done

# The version fixture's twin: the same persona built against contract 0.2.0, which the
# plugin_call benchmark compares the 0.1.0 build with.
cargo build --profile plugin --target wasm32-wasip2 -p contract-v0-1 --features contract-0-2 --quiet
built="$target_dir/wasm32-wasip2/plugin/contract_v0_1.wasm"
if ! cmp -s "$built" "$out/contract-v0-1-twin.wasm"; then
  cp "$built" "$out/contract-v0-1-twin.wasm.tmp"
  mv "$out/contract-v0-1-twin.wasm.tmp" "$out/contract-v0-1-twin.wasm"
  echo "plugin contract-v0-1 (contract 0.2.0) -> $out/contract-v0-1-twin.wasm"
fi
