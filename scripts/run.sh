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
# Local stand-ins for the Worker secrets: the key that derives steady-state tokens and the
# admin API's bearer token (`wrangler secret put` in production).
touch .dev.vars
for name in TOKEN_KEY ADMIN_TOKEN; do
  grep -q "^$name=" .dev.vars || node -e "console.log('$name=' + require('crypto').randomBytes(32).toString('hex'))" >> .dev.vars
done
node_modules/.bin/wrangler d1 migrations apply DB --local
node scripts/seed-demo.mjs "http://127.0.0.1:$port"
admin=$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)
echo
echo "Admin API (phones view of the demo site):"
echo "curl -s -H 'Authorization: Bearer $admin' http://127.0.0.1:$port/api/sites/demo/phones"
echo
echo "Serving on http://127.0.0.1:$port (Ctrl-C to stop)."
exec node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$port" --show-interactive-dev-session=false
