#!/usr/bin/env bash
# The preview's wasm/native ratio: the same request (tests/fixtures/yealink/preview40.json,
# 40 BLF keys, Jinja) through the same export, natively (web/examples/bench_native.rs) and
# as wasm in node (scripts/bench-web.mjs), one after the other on one core; then the size the
# page transfers. Target: wasm no more than 2x native, under 300 KB gzipped.
#   scripts/bench-web.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
n=${1:-2000}
pin=""; command -v taskset >/dev/null && pin="taskset -c 0"
scripts/build-web.sh | tail -n 1 > /tmp/bench-web-size.txt
cargo build -p web --release --example bench_native --locked 2>/dev/null
native=$($pin "${CARGO_TARGET_DIR:-target}/release/examples/bench_native" "$n")
wasm=$($pin node scripts/bench-web.mjs "$n")
echo "native: $native"
echo "wasm:   $wasm"
node -e '
const [n, w] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])];
for (const k of ["preview_us", "keystroke_us"]) console.log(`${k}: wasm/native = ${(w[k] / n[k]).toFixed(2)}x`);
' "$native" "$wasm"
cat /tmp/bench-web-size.txt
