#!/usr/bin/env bash
# Runs every test of the project on a fresh machine of this kind, installing what it needs
# first (the wasm target, wasm-bindgen-cli, worker-build and cargo-fuzz at pinned versions, and the
# npm packages from package-lock.json).
#   scripts/test.sh             everything
#   FUZZ_SECONDS=0 scripts/test.sh   skip the fuzz smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
# Keep wrangler/miniflare off the network (metrics, cf.json).
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "toolchain: pinned tools and npm packages (scripts/setup.sh)"
if [ "$FUZZ_SECONDS" != 0 ]; then scripts/setup.sh --fuzz; else scripts/setup.sh; fi

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The Workers and their shared library, as they are built: for wasm32.
cargo clippy -p edge-worker --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p edge-admin --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p edge-shared --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p engine-wasm --target wasm32-unknown-unknown --all-targets --locked -- -D warnings

step "native tests"
cargo test --workspace --locked

step "benchmarks build and run once each (test mode)"
cargo test -p engine --bench render --locked

step "the engine stays sans-IO: no I/O or JS crates in its normal dependency tree"
bad=$(cargo tree -p engine -e normal --locked --prefix none | grep -E -o '^(tokio|mio|worker|wasm-bindgen|js-sys|web-sys|getrandom|reqwest)( |$)' | sort -u || true)
if [ -n "$bad" ]; then
  echo "engine depends on: $bad" >&2
  exit 1
fi
echo "ok: $(cargo tree -p engine -e normal --locked --prefix none | sort -u | wc -l) crates, none of them I/O or JS"

step "the phone worker holds only what phones need: no admin crate in its tree, no admin secret in its code"
bad=$(cargo tree -p edge-worker -e normal --locked --prefix none | grep -E -o '^(edge-admin|aes-gcm)( |$)' | sort -u || true)
if [ -n "$bad" ]; then
  echo "edge-worker depends on: $bad" >&2
  exit 1
fi
if grep -rn --include='*.rs' -E 'ADMIN_TOKEN|RPS_KEY' edge-worker/src edge-shared/src | grep -v -E '^[^:]+:[0-9]+:\s*//'; then
  echo "the phone worker's code names an admin secret" >&2
  exit 1
fi
echo "ok: edge-worker's tree has no edge-admin, and its code never names ADMIN_TOKEN or RPS_KEY"

step "wasm32: the same engine tests under wasm-bindgen-test-runner (node)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p engine --target wasm32-unknown-unknown --locked

step "engine-wasm: the bindings under wasm-bindgen-test-runner in node, then in headless Chromium, then the built package as the page loads it"
# Each run must have run the tests (a runner that skips prints no count): 3 of engine-wasm/tests/wasm.rs.
wasm_tests() {
  local log
  log=$(CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner "$@" \
    cargo test -p engine-wasm --target wasm32-unknown-unknown --locked --test wasm 2>&1) || { echo "$log"; return 1; }
  echo "$log" | grep -E '^(Running|test result)'
  echo "$log" | grep -qE '^test result: ok\. [1-9][0-9]* passed' || { echo "$log"; echo "no engine-wasm tests ran" >&2; return 1; }
}
wasm_tests env
wasm_tests env CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_USE_BROWSER=1
scripts/build-wasm.sh
node --test engine-wasm/tests/

step "the vendors' RPS stand-ins (written from RPS.md, not from the engine) check themselves"
node --test tests/rps/

step "both Workers: build (worker-build + wasm-opt -Oz), then their tests under workerd (miniflare), RPS against the stand-ins"
scripts/build-edge.sh
node --test tests/edge/

step "the LAN relay against the edge under workerd: sync, changes, the edge down, a restart"
cargo build -p lan-relay --locked
node --test tests/relay/

step "the admin console in headless Chromium against wrangler dev (screenshots in tests/console/artifacts/)"
CONSOLE_PKG_PREBUILT=1 node --test tests/console/

step "the README's run command serves the demo phones"
tests/run-smoke.sh

if [ "$FUZZ_SECONDS" != 0 ]; then
  step "fuzz smoke run: ${FUZZ_SECONDS}s per target"
  for t in params detect template preview sip tftp registrar rps phonebook_source; do
    # Stable toolchain: RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z sanitizer flags.
    (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" -- -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 2>&1 | tail -n 3)
  done
fi

step "all tests passed in $(( $(date +%s) - started ))s"
