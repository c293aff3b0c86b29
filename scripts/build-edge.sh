#!/usr/bin/env bash
# Builds the edge worker into edge-worker/build/ (index.js + index_bg.wasm) with worker-build,
# using the pinned local tools instead of downloads, then shrinks the wasm with wasm-opt -Oz.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
for t in "$WASM_BINDGEN_BIN" "$ESBUILD_BIN" "$WASM_OPT_BIN"; do
  [ -x "$t" ] || { echo "missing $t (run scripts/test.sh once, or npm ci)" >&2; exit 1; }
done
cd edge-worker
worker-build --release
wasm=build/index_bg.wasm
"$WASM_OPT_BIN" "$wasm" -Oz --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
  -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
printf 'edge worker wasm: %s bytes, %s bytes gzipped\n' "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
