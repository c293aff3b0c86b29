#!/usr/bin/env bash
# Installs the pinned tools this project builds with, when missing: the wasm32 target,
# wasm-bindgen-cli, worker-build, (optionally) cargo-fuzz, the npm packages, and Debian's
# TFTP clients (atftp, tftp-hpa) and curl that the relay's tests drive, and Chromium and its
# chromedriver for the browser tests.
#   scripts/setup.sh          everything but cargo-fuzz
#   scripts/setup.sh --fuzz   also cargo-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen = "=..."` pin in Cargo.toml
WORKER_BUILD_VERSION=0.8.7     # must equal the `worker = "=..."` pin in Cargo.toml
CARGO_FUZZ_VERSION=0.13.2

# The relay's tests use real clients (Debian packages; needs root or sudo).
missing=()
command -v atftp >/dev/null || missing+=(atftp)
command -v tftp >/dev/null || missing+=(tftp-hpa)
command -v curl >/dev/null || missing+=(curl)
# The console's browser tests drive Debian's Chromium with playwright-core; the web
# package's wasm-bindgen tests drive it through chromedriver.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

rustup target add wasm32-unknown-unknown
if ! wasm-bindgen-test-runner --version 2>/dev/null | grep -qF "$WASM_BINDGEN_VERSION"; then
  # Not --locked: the lock file pins a webpki-roots release the registry does not offer.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! worker-build --version 2>/dev/null | grep -qF "$WORKER_BUILD_VERSION"; then
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi
if [ "${1:-}" = --fuzz ] && ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
