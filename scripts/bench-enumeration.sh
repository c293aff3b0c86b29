#!/usr/bin/env bash
# MAC, token and password enumeration as a benchmark (issue 15): COUNT guesses from one
# address, from a /24 and from an IPv6 /64, and what they got: configs served (must be 0; the
# run fails otherwise), requests until braked, and the cost of a refused request.
#   scripts/bench-enumeration.sh [all|edge|relay]  COUNT=100000 CONCURRENCY=16 by default
#   COUNT=10000 scripts/bench-enumeration.sh edge  a shorter run of one half
# Edge half: tests/load/enum-edge.mjs, the built phone worker under plain Miniflare (one
# workerd, in-memory D1); scripts/build-edge.sh builds it if absent. Relay half:
# tests/load/enum-relay.sh (HTTP and TFTP against the release binary). The figures are for
# the note, never a test: read them beside the peers measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export COUNT=${COUNT:-100000} CONCURRENCY=${CONCURRENCY:-16}

edge() {
  [ -f edge-worker/build/index.js ] && [ -f edge-worker/build/index_bg.wasm ] || scripts/build-edge.sh
  echo "== edge (the phone worker): $COUNT guesses per attacker at concurrency $CONCURRENCY"
  node tests/load/enum-edge.mjs "$COUNT"
}

relay() {
  echo "== relay (the LAN relay): $COUNT guesses per attacker"
  tests/load/enum-relay.sh "$COUNT"
}

case "${1:-all}" in
  edge) edge ;;
  relay) relay ;;
  all) edge; relay ;;
  *) echo "usage: $0 [all|edge|relay]" >&2; exit 2 ;;
esac
