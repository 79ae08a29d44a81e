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
