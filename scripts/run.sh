#!/usr/bin/env bash
# Runs the system locally: builds both Workers (the phone worker and the admin worker), the
# console's wasm package and the LAN relay, applies the D1 migrations to wrangler's local
# state, seeds a demo site (one phone of each vendor), serves both Workers in one
# `wrangler dev` (workerd, local D1 and R2 shared by both) on http://127.0.0.1:8787 (the
# admin worker, which hands the phone routes to the phone worker), and runs the LAN relay
# synced from it (HTTP on 127.0.0.1:8480, TFTP on 127.0.0.1:6969). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
port=${PORT:-8787}
relay_http=${RELAY_HTTP:-127.0.0.1:8480}
relay_tftp=${RELAY_TFTP:-127.0.0.1:6969}
relay_pnp_port=${RELAY_PNP_PORT:-15060}
relay_registrar_port=${RELAY_REGISTRAR_PORT:-15062}

scripts/setup.sh
scripts/build-edge.sh
# The console's template preview runs the engine in the page: its wasm package, served
# from console/pkg/ with the console.
scripts/build-wasm.sh
cargo build -p lan-relay --locked
# Local stand-ins for the Worker secrets (`wrangler secret put` in production): the admin
# worker's .dev.vars holds the key that derives steady-state tokens, the admin API's bearer
# token and the key that seals RPS accounts; the phone worker's (edge-worker/.dev.vars, next
# to its config) holds only the first, the same value.
touch .dev.vars
for name in TOKEN_KEY ADMIN_TOKEN RPS_KEY; do
  grep -q "^$name=" .dev.vars || node -e "console.log('$name=' + require('crypto').randomBytes(32).toString('hex'))" >> .dev.vars
done
(umask 077 && grep '^TOKEN_KEY=' .dev.vars > edge-worker/.dev.vars)
node_modules/.bin/wrangler d1 migrations apply DB --local
node scripts/seed-demo.mjs "http://127.0.0.1:$port" "http://$relay_http"
cat > .relay/relay.toml <<EOF
# The demo relay: synced from the local edge (the token is the demo site's relay token).
state_dir = ".relay/state"
[http]
listen = "$relay_http"
[tftp]
# Off unless turned on (here for the demo, or by the site's tftp_enabled): TFTP has no
# authentication or encryption, for trusted LANs only.
enabled = true
listen = "$relay_tftp"
[pnp]
# Phones send PnP to 224.0.1.75:5060; the demo listens on loopback, port $relay_pnp_port.
interface = "127.0.0.1"
port = $relay_pnp_port
[starcode]
listen = "127.0.0.1:$relay_registrar_port"
[edge]
url = "http://127.0.0.1:$port"
token_file = ".relay/token"
poll_secs = 5
EOF
admin=$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)
echo
echo "Admin API (phones view of the demo site):"
echo "curl -s -H 'Authorization: Bearer $admin' http://127.0.0.1:$port/api/sites/demo/phones"
echo
echo "Serving on http://127.0.0.1:$port, the relay on http://$relay_http and tftp://$relay_tftp (Ctrl-C to stop)."
trap 'kill 0' EXIT
# Both Workers in one session: the admin worker (wrangler.toml) is the primary on $port;
# both configs name the same D1 database and R2 bucket, kept in .wrangler/state.
node_modules/.bin/wrangler dev -c wrangler.toml -c edge-worker/wrangler.toml --local --ip 127.0.0.1 --port "$port" \
  --show-interactive-dev-session=false &
target/debug/lan-relay --config .relay/relay.toml &
wait
