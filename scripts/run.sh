#!/usr/bin/env bash
# Runs the system locally: builds the edge worker, applies the D1 migrations to wrangler's
# local state, seeds a demo site (one phone of each vendor), and serves it with
# `wrangler dev` (workerd, local D1 and R2) on http://127.0.0.1:8787. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
port=${PORT:-8787}

scripts/setup.sh
scripts/build-edge.sh
# The key that derives steady-state tokens; a Worker secret in production.
[ -f .dev.vars ] || node -e 'console.log("TOKEN_KEY=" + require("crypto").randomBytes(32).toString("hex"))' > .dev.vars
node_modules/.bin/wrangler d1 migrations apply DB --local
node scripts/seed-demo.mjs "http://127.0.0.1:$port"
echo
echo "Serving on http://127.0.0.1:$port (Ctrl-C to stop)."
exec node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$port" --show-interactive-dev-session=false
