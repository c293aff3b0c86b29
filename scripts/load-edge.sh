#!/usr/bin/env bash
# Local load benchmark of the edge (the phone worker, behind the admin worker as run.sh serves
# it, and alone): a config fetch beside its peer, /healthz (no D1, no render), on the same
# server in the same run, reported as ratios (the machine is noisy).
#  1. Fresh wrangler state in a temp dir: migrations, then the demo site (scripts/seed-demo.mjs).
#  2. `wrangler dev` of both Workers (as scripts/run.sh serves them: the admin worker on the
#     port hands /p/ and /healthz to the phone worker): cold start = spawn to the first 200 of a
#     demo phone's config; then N config fetches (the five demo phones, their real
#     User-Agents, steady-state URLs) and N /healthz, alternating in rounds, at CONCURRENCY.
#     Latency (mean, p50, p99), req/s, and CPU ms per request of each process wrangler started
#     (utime+stime from /proc/<pid>/stat, before and after each phase).
#  3. The same load on plain Miniflare over the same state (one workerd, no wrangler proxy or
#     inspector relay), both Workers as in 2: what they cost, without wrangler dev's tooling.
#  4. The same load on plain Miniflare serving the phone worker alone, as in production on its
#     own hostname: what a phone's fetch costs the phone worker.
# Uses the built Workers (edge-worker/build/, edge-admin/build/; scripts/build-edge.sh builds
# them if absent).
#   scripts/load-edge.sh               N=2000 CONCURRENCY=8 ROUNDS=3 by default (~4 min on
#                                      2 busy cores, most of it the configs under wrangler dev)
#   N=3000 CONCURRENCY=16 scripts/load-edge.sh
# The figures are speed figures, never a test: read them beside their peer. The run fails only
# when an answer is wrong (non-200, or a body that differs from the phone's first fetch).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
n=${N:-2000} conc=${CONCURRENCY:-8} rounds=${ROUNDS:-3}

for crate in edge-worker edge-admin; do
  [ -f $crate/build/index.js ] && [ -f $crate/build/index_bg.wasm ] || { scripts/build-edge.sh; break; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/load-edge.XXXXXX")
# wrangler's debug log (it writes one always) stays in the temp dir, not ~/.config/.wrangler.
export WRANGLER_LOG_PATH="$tmp/logs"
server=
stop_server() {
  [ -n "$server" ] || return 0
  kill -TERM -- "-$server" 2>/dev/null || true
  for _ in $(seq 50); do pgrep -g "$server" >/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$server" 2>/dev/null || true
  server=
}
cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The project as wrangler sees it, in the temp dir: both configs with absolute paths (so the
# default local state, which seed-demo.mjs writes to, is $tmp/.wrangler/state), fresh secrets
# (the phone worker's, TOKEN_KEY alone, beside its config, where wrangler reads them).
absolute() { # config, its directory, the copy
  sed -e "s|^main = \"|main = \"$2/|" -e "s|^migrations_dir = \"|migrations_dir = \"$2/|" \
    -e "s|^directory = \"|directory = \"$2/|" "$1" > "$3"
  [ "$(grep -c "= \"$2/" "$3")" -ge 2 ] || { echo "$1: main/migrations_dir not found" >&2; exit 1; }
}
mkdir "$tmp/phones"
absolute wrangler.toml "$root" "$tmp/wrangler.toml"
absolute edge-worker/wrangler.toml "$root/edge-worker" "$tmp/phones/wrangler.toml"
ln -s "$root/node_modules" "$tmp/node_modules"
for name in TOKEN_KEY ADMIN_TOKEN RPS_KEY; do
  echo "$name=$(node -e "console.log(require('crypto').randomBytes(32).toString('hex'))")"
done > "$tmp/.dev.vars"
grep '^TOKEN_KEY=' "$tmp/.dev.vars" > "$tmp/phones/.dev.vars"
state="$tmp/.wrangler/state"
wrangler="$root/node_modules/.bin/wrangler"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port) inspector=$(free_port)
base="http://127.0.0.1:$port"

cd "$tmp"
# seed-demo.mjs has no --persist-to: it runs `wrangler d1 execute --local` in the working
# directory, so it writes to this dir's default state, the one passed below as --persist-to.
# TMPDIR keeps its SQL file (it holds SIP passwords) inside the temp dir, deleted at exit.
seed() { TMPDIR="$tmp" node "$root/scripts/seed-demo.mjs" "$base" > "$tmp/seed.txt"; }
"$wrangler" d1 migrations apply DB --local --persist-to "$state" > "$tmp/migrate.log" 2>&1 \
  || { cat "$tmp/migrate.log" >&2; exit 1; }
seed

load() { # label, then the load generator's output goes to $tmp/<label>.out
  node "$root/tests/load/edge-load.mjs" --base "$base" --seed "$tmp/seed.txt" --pgid "$server" \
    --t0-ms "$t0" --n "$n" --concurrency "$conc" --rounds "$rounds" --label "$1" > "$tmp/$2.out" \
    || { grep -hv '^RESULT ' "$tmp"/*.out; echo "--- server log:"; tail -20 "$tmp/$2.log"; exit 1; }
}

echo "wrangler dev: $n config fetches and $n /healthz at concurrency $conc ..." >&2
t0=$(date +%s%3N)
setsid "$wrangler" dev -c "$tmp/wrangler.toml" -c "$tmp/phones/wrangler.toml" --local --ip 127.0.0.1 --port "$port" --inspector-port "$inspector" \
  --persist-to "$state" --show-interactive-dev-session=false > "$tmp/wrangler.log" 2>&1 < /dev/null &
server=$!
load "wrangler dev, both Workers (workerd proxy + workerd workers + node)" wrangler
logbytes=$(cat "$tmp"/logs/*.log 2>/dev/null | wc -c)
stop_server

miniflare() { # both|phones, label, name: plain Miniflare over the same state, the same load
  # The first-access tokens were used up by the phase before: seed again (new tokens, same phones).
  seed
  echo "miniflare ($1): the same load ..." >&2
  t0=$(date +%s%3N)
  setsid node "$root/tests/load/serve-miniflare.mjs" "$port" "$state" "$1" > "$tmp/$3.log" 2>&1 < /dev/null &
  server=$!
  load "$2" "$3"
  stop_server
}
miniflare both "plain Miniflare, admin worker -> phone worker (one workerd, no inspector)" miniflare
miniflare phones "plain Miniflare, the phone worker alone (as on its own hostname)" phones

echo
grep -hv '^RESULT ' "$tmp/wrangler.out"
echo "(wrangler's debug log grew by $logbytes bytes during the run: every inspector event of every D1 query is relayed to node)"
echo
grep -hv '^RESULT ' "$tmp/miniflare.out"
echo
grep -hv '^RESULT ' "$tmp/phones.out"
echo
grep -h '^RESULT ' "$tmp/wrangler.out" "$tmp/miniflare.out" "$tmp/phones.out"
