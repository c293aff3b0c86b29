#!/usr/bin/env bash
# Builds the console page's wasm (the engine through the `engine-wasm` crate) into console/pkg/:
# cargo (release: opt-level z, LTO) -> wasm-bindgen --target web -> wasm-opt -Oz, then prints
# what the page transfers (wasm + JS glue, gzip -9).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$root/target}
wasm_opt="$root/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || { echo "missing $wasm_opt (run scripts/setup.sh, or npm ci)" >&2; exit 1; }
out=console/pkg

cargo build -p engine-wasm --target wasm32-unknown-unknown --release --locked
wasm-bindgen --target web --no-typescript --out-dir "$out" "$target_dir/wasm32-unknown-unknown/release/engine_wasm.wasm"
"$wasm_opt" "$out/engine_wasm_bg.wasm" -Oz --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types \
  -o "$out/engine_wasm_bg.wasm.opt"
mv "$out/engine_wasm_bg.wasm.opt" "$out/engine_wasm_bg.wasm"
# The glue is an ES module; say so for node (tests, benchmark), which would reparse it.
echo '{"type": "module"}' > "$out/package.json"

gz() { gzip -9 -c "$1" | wc -c; }
wasm_raw=$(stat -c %s "$out/engine_wasm_bg.wasm"); wasm_gz=$(gz "$out/engine_wasm_bg.wasm")
js_raw=$(stat -c %s "$out/engine_wasm.js"); js_gz=$(gz "$out/engine_wasm.js")
printf 'console wasm: %s bytes (%s gzipped); JS glue: %s bytes (%s gzipped); transferred: %s bytes gzipped\n' \
  "$wasm_raw" "$wasm_gz" "$js_raw" "$js_gz" "$((wasm_gz + js_gz))"
