#!/usr/bin/env bash
# MAC enumeration against the LAN relay (the relay half of scripts/bench-enumeration.sh):
# COUNT guesses (default 100000) of random MACs with real phones' User-Agents, by HTTP and
# by TFTP, from one address, from a /24 (127.0.1.1-254: loopback, no root needed) and from
# a /64 (1000 random addresses of 2001:db8:1::/64 routed to the loopback; needs root for
# `ip -6 route add local`, else skipped and said so). Each run gets a fresh relay (the
# release binary, demo inventory) so the brake starts clean.
#
# Per run it prints: configs served (must be 0), refusals, requests that got no answer,
# the misses counted before the brake engaged per source address (the relay's
# not_found results / addresses), the refusals by the brake (denied), and the relay's CPU
# time per request (user + system of the relay process / COUNT). Exits 1 if any config
# was served.
#
# Usage: tests/load/enum-relay.sh [COUNT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
count=${1:-${COUNT:-100000}}

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
(cd "$repo" && CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=thin \
  cargo build --quiet --release -p lan-relay --bin lan-relay --example enum_relay)
relay_bin="$CARGO_TARGET_DIR/release/lan-relay"
client="$CARGO_TARGET_DIR/release/examples/enum_relay"

tmp=$(mktemp -d)
pid=
v6route=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$v6route" ] && ip -6 route del local 2001:db8:1::/64 dev lo 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

printf 'IP address HW type Flags HW address Mask Device\n' >"$tmp/arp"
cat >"$tmp/relay.toml" <<EOF
state_dir = "$tmp"
arp_table = "$tmp/arp"
[http]
listen = "[::]:0"
[tftp]
enabled = true
listen = "[::]:0"
[starcode]
enabled = false
[pnp]
enabled = false
EOF

start_relay() {
  : >"$tmp/log"
  RUST_LOG=info "$relay_bin" --config "$tmp/relay.toml" >"$tmp/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    http=$(sed -n 's/.*HTTP provisioning addr=\[::\]:\([0-9]*\).*/\1/p' "$tmp/log")
    tftp=$(sed -n 's/.*TFTP addr=\[::\]:\([0-9]*\).*/\1/p' "$tmp/log")
    [ -n "$http" ] && [ -n "$tftp" ] && return
    sleep 0.1
  done
  echo "enum-relay: the relay did not start:" >&2; cat "$tmp/log" >&2; exit 1
}

stop_relay() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

metric() { # result label -> count of file requests with that result
  curl -s "http://127.0.0.1:$http/metrics" |
    awk -v r="result=\"$1\"" 'index($0, "relay_file_requests_total{") == 1 && index($0, r) { n += $2 } END { print n + 0 }'
}

status=0
run() { # proto label sources naddr
  local proto=$1 label=$2 sources=$3 naddr=$4 target out before after
  start_relay
  if [ "$proto" = http ]; then target=$http; else target=$tftp; fi
  case "$sources" in *:*) target="[::1]:$target" ;; *) target="127.0.0.1:$target" ;; esac
  before=$(cpu_ticks "$pid")
  out=$("$client" --proto "$proto" --target "$target" --count "$count" --sources "$sources")
  after=$(cpu_ticks "$pid")
  local misses denied
  misses=$(metric not_found)
  denied=$(metric denied)
  stop_relay
  awk -v p="$proto" -v l="$label" -v o="$out" -v m="$misses" -v d="$denied" -v n="$naddr" \
      -v t="$((after - before))" -v c="$count" 'BEGIN {
    printf "%-4s %-11s %s misses_before_brake/addr=%.1f braked_refusals=%d relay_cpu_us/request=%.1f\n",
      p, l, o, m / n, d, t * 10000 / c
  }'
  case "$out" in served=0\ *) ;; *) status=1 ;; esac
}

echo "relay enumeration: $count guesses per run"
for proto in http tftp; do
  run "$proto" "one-address" 127.0.1.1 1
  run "$proto" "/24" 127.0.1.0/24 254
done
if ip -6 route add local 2001:db8:1::/64 dev lo 2>/dev/null; then
  v6route=1
  for proto in http tftp; do
    run "$proto" "/64" 2001:db8:1::/64:1000 1000
  done
else
  echo "/64: skipped (ip -6 route add local 2001:db8:1::/64 dev lo needs root)"
fi
exit $status
