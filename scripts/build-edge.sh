#!/usr/bin/env bash
# Builds both Workers with worker-build, using the pinned local tools instead of downloads,
# then shrinks each wasm with wasm-opt -Oz, and prints each one's raw and gzip -9 size:
#   edge-worker/build/  the phone worker (phones and relays; wrangler config edge-worker/wrangler.toml)
#   edge-admin/build/   the admin worker (console, admin API, RPS outbox; wrangler.toml)
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
sizes=()
for crate in edge-worker edge-admin; do
  (cd "$crate" && worker-build --release)
  wasm=$crate/build/index_bg.wasm
  "$WASM_OPT_BIN" "$wasm" -Oz --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
    -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
  sizes+=("$(printf '%-12s %s: %s bytes, %s bytes gzipped' "$crate" "$wasm" "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)")")
done
printf '%s\n' "${sizes[@]}"
