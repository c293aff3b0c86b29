#!/usr/bin/env bash
# The preview's wasm/native ratio: the same request (tests/fixtures/yealink/preview40.json,
# 40 BLF keys, Jinja) through the same export, natively (engine-wasm/examples/bench_native.rs), as
# wasm in node and as wasm in headless Chromium (scripts/bench-wasm.mjs), one after the other
# in the same run; then the size the page transfers. Targets: wasm no more than 2x native,
# under 300 KB gzipped. Nothing is pinned by default: the wasm engines run their GC and
# optimising compiler on other threads, which pinning to one core makes share the core with
# the code measured (native code has none); PIN=1 pins everything to core 0.
#   [PIN=1] scripts/bench-wasm.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
n=${1:-2000}
pin=""; [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null && pin="taskset -c 0"
size=$(scripts/build-wasm.sh | tail -n 1)
cargo build -p engine-wasm --release --example bench_native --locked 2>/dev/null
native=$($pin "${CARGO_TARGET_DIR:-target}/release/examples/bench_native" "$n")
node=$($pin node scripts/bench-wasm.mjs "$n")
chromium=$($pin node scripts/bench-wasm.mjs "$n" --chromium)
echo "native:          $native"
echo "wasm (node):     $node"
echo "wasm (Chromium): $chromium"
node -e '
const [n, w, c] = process.argv.slice(1).map((s) => JSON.parse(s));
for (const k of ["preview_us", "keystroke_us"])
  console.log(`${k}: native ${n[k]} us, Chromium ${c[k]} us: wasm/native = ${(c[k] / n[k]).toFixed(2)}x (node: ${w[k]} us, ${(w[k] / n[k]).toFixed(2)}x)`);
' "$native" "$node" "$chromium"
echo "$size"
