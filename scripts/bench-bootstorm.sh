#!/usr/bin/env bash
# Boot storm: N phones boot at once against one lan-relay: each sends its vendor's SIP PnP
# SUBSCRIBE, takes the 200 OK and the NOTIFY (answering it), then fetches its device config by
# TFTP and by HTTP (tests/load/bootstorm.py, 200 phones in flight, each phone on its own
# 127.1.x.y address). Reported per N: wall time, per-stage p50/p99, failures by stage and
# vendor, the relay's peak RSS (VmHWM) and CPU time (utime+stime, start-up excluded), and
# what the relay logged at WARN or above.
#
# The phones behave as real ones do: the SUBSCRIBE is retransmitted (0.5 s doubling) and
# given up after 5 s without a 200 OK (--pnp-wait); a phone without a PnP answer still fetches
# its config (option 66 / a typed URL), so the file stages are measured for all N; a TFTP
# ERROR 0 "server busy" is retried after 0.1-0.2 s (counted). Loopback, 2 cores: the Python
# load generator is usually the bottleneck of the wall time (its CPU time is printed), so the
# server's CPU time per phone is the figure to compare.
#
# The peer, same load generator, same N, same run: the bytes the relay rendered, saved as
# pre-rendered files, served by Debian's atftpd (C, threaded; TFTP) and a Node http static
# server (libuv; HTTP/1.1 keep-alive, a file read per request), with a stateless Python PnP
# responder (bootstorm.py peer-pnp: 200 OK + one NOTIFY, no transaction state, no
# retransmission). No Debian package does PnP + TFTP + HTTP provisioning, so this peer is a
# floor: static files, no rendering, no per-phone rules. Ratios are relay / peer.
#
# Usage: scripts/bench-bootstorm.sh [N ...]        (default: 1000 10000)
#   CONCURRENCY=200  phones in flight;   PEER=0  skip the peer;   KEEP=1  keep the temp dir
#   RUST_LOG         the relay's log level (default info, as deployed)
# Needs python3, curl, node (the HTTP peer), atftpd (the TFTP peer: apt-get install atftpd).
# Our build uses opt-level 3 (the workspace's release profile is tuned for wasm size).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
gen="$repo/tests/load/bootstorm.py"
sizes=${*:-1000 10000}
conc=${CONCURRENCY:-200}
peer=${PEER:-1}

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
(cd "$repo" && CARGO_PROFILE_RELEASE_OPT_LEVEL=3 cargo build --quiet --release -p lan-relay --bin lan-relay)
relay_bin="$CARGO_TARGET_DIR/release/lan-relay"

if [ "$peer" = 1 ]; then
  for c in atftpd node; do
    command -v "$c" >/dev/null || { echo "bench-bootstorm: $c not found (PEER=0 to skip the peer)" >&2; exit 1; }
  done
fi

tmp=$(mktemp -d /tmp/bootstorm.XXXXXX)
pids=()
stop() {  # stop our children by pid and forget them
  local p keep=()
  for p in "$@"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}
cleanup() {
  [ ${#pids[@]} -gt 0 ] && stop "${pids[@]}"
  [ "${KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n 65536 2>/dev/null || true
tck=$(getconf CLK_TCK)

# Free loopback ports: one TCP, then UDP ones (PnP binds 0.0.0.0, so checked there).
free_ports() {
  python3 - "$@" <<'EOF'
import socket, sys
out, keep = [], []
for kind in sys.argv[1:]:
    t = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, t)
    s.bind(("0.0.0.0" if kind == "udp-any" else "127.0.0.1", 0))
    keep.append(s)
    out.append(str(s.getsockname()[1]))
print(" ".join(out))
EOF
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
wait_http() {
  for _ in $(seq 1 600); do curl -sS -o /dev/null "http://127.0.0.1:$1/$2" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench-bootstorm: nothing answers on 127.0.0.1:$1" >&2; return 1
}

cat > "$tmp/http-peer.mjs" <<'EOF'
// The HTTP peer: static files from a directory, HTTP/1.1 keep-alive, one read per request.
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
const [dir, port] = process.argv.slice(2);
http.createServer(async (req, res) => {
  const name = path.basename(decodeURIComponent(req.url.split("?")[0]));
  try {
    const body = await readFile(path.join(dir, name));
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  } catch {
    res.writeHead(404, { "content-length": 10 });
    res.end("Not Found\n");
  }
}).listen(Number(port), "127.0.0.1");
EOF

summary="$tmp/summary.jsonl"
: > "$summary"
for n in $sizes; do
  d="$tmp/n$n"; mkdir -p "$d/state" "$d/files"
  python3 "$gen" gen --n "$n" --inventory "$d/inventory.toml" --phones "$d/phones.json"
  read -r http_port tftp_port pnp_port <<<"$(free_ports tcp udp udp-any)"
  cat > "$d/relay.toml" <<EOF
state_dir = "$d/state"
inventory = "$d/inventory.toml"
[http]
listen = "127.0.0.1:$http_port"
[tftp]
enabled = true
listen = "127.0.0.1:$tftp_port"
[pnp]
interface = "127.0.0.1"
port = $pnp_port
debug = false
EOF
  t_start=$(date +%s%N)
  RUST_LOG=${RUST_LOG:-info} "$relay_bin" --config "$d/relay.toml" > "$d/relay.log" 2>&1 &
  relay=$!; pids+=("$relay")
  wait_http "$http_port" healthz
  startup=$(( ($(date +%s%N) - t_start) / 1000000 ))
  cpu0=$(cpu_ticks "$relay")
  echo "== N=$n: relay pid $relay (HTTP $http_port, TFTP $tftp_port, PnP $pnp_port), up in $startup ms"
  python3 "$gen" run --label "relay N=$n" --phones "$d/phones.json" --concurrency "$conc" \
    --pnp "127.0.0.1:$pnp_port" --tftp "127.0.0.1:$tftp_port" --http "127.0.0.1:$http_port" \
    --url "http://127.0.0.1:$http_port" --save "$d/files" | tee "$d/relay.out"
  cpu1=$(cpu_ticks "$relay"); hwm=$(hwm_kb "$relay")
  stop "$relay"
  sed -i -E 's/\x1b\[[0-9;]*m//g' "$d/relay.log"
  warns=$(grep -cE ' (WARN|ERROR) ' "$d/relay.log" || true)
  warn_kinds=$(grep -E ' (WARN|ERROR) ' "$d/relay.log" \
    | sed -E 's/^[^ ]+ +//; s/(peer|ip|dest)=[^ ]+//g' | sort | uniq -c | sort -rn | head -5 || true)
  python3 - "$d/relay.out" "$cpu0" "$cpu1" "$hwm" "$tck" "$warns" "$startup" >> "$summary" <<'EOF'
import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith("RESULT ")][-1][7:])
r.update(kind="relay", server_cpu_s=(int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[5]),
         server_hwm_kb=int(sys.argv[4]), warn_lines=int(sys.argv[6]), startup_s=int(sys.argv[7]) / 1000)
print(json.dumps(r))
EOF
  [ "$warns" -gt 0 ] && { echo "  relay logged $warns WARN/ERROR lines; most frequent:"; echo "$warn_kinds" | sed 's/^/    /'; }

  if [ "$peer" = 1 ]; then
    read -r p_http p_tftp p_pnp <<<"$(free_ports tcp udp udp)"
    chmod 777 "$d/files"; chmod 644 "$d/files"/* 2>/dev/null || true; chmod 755 "$d" "$tmp"
    atftpd --daemon --no-fork --bind-address 127.0.0.1 --port "$p_tftp" --logfile /dev/null \
      "$d/files" & a=$!; pids+=("$a")
    node "$tmp/http-peer.mjs" "$d/files" "$p_http" & h=$!; pids+=("$h")
    python3 "$gen" peer-pnp --port "$p_pnp" --url "http://127.0.0.1:$p_http" & s=$!; pids+=("$s")
    wait_http "$p_http" healthz; sleep 0.3
    p0=$(( $(cpu_ticks "$a") + $(cpu_ticks "$h") + $(cpu_ticks "$s") ))
    echo "== N=$n: peer (atftpd $a, node http $h, python PnP $s)"
    python3 "$gen" run --label "peer N=$n" --phones "$d/phones.json" --concurrency "$conc" \
      --pnp "127.0.0.1:$p_pnp" --tftp "127.0.0.1:$p_tftp" --http "127.0.0.1:$p_http" \
      --url "http://127.0.0.1:$p_http" | tee "$d/peer.out"
    p1=$(( $(cpu_ticks "$a") + $(cpu_ticks "$h") + $(cpu_ticks "$s") ))
    phwm=$(( $(hwm_kb "$a") + $(hwm_kb "$h") + $(hwm_kb "$s") ))
    stop "$a" "$h" "$s"
    python3 - "$d/peer.out" "$p0" "$p1" "$phwm" "$tck" >> "$summary" <<'EOF'
import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith("RESULT ")][-1][7:])
r.update(kind="peer", server_cpu_s=(int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[5]),
         server_hwm_kb=int(sys.argv[4]))
print(json.dumps(r))
EOF
  fi
  rm -rf "$d/files"
done

echo
echo "== boot storm summary ($(nproc) cores, $conc phones in flight; times in ms, p50/p99)"
python3 - "$summary" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def f(x): return "-" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")
print(f"{'run':<14}{'wall s':>8}{'srv CPU s':>10}{'µs/phone':>9}{'srv RSS MB':>11}{'client CPU s':>13}{'fail':>6}  "
      f"{'PnP 200':>13}{'NOTIFY':>13}{'TFTP':>13}{'HTTP':>13}")
by = {}
for r in rows:
    s = r["stages"]
    st = lambda k: f"{f(s[k]['p50_ms'])}/{f(s[k]['p99_ms'])}"
    fails = sum(sum(v.values()) for v in r["failures"].values())
    print(f"{r['label']:<14}{r['wall_s']:>8.1f}{r['server_cpu_s']:>10.2f}{r['server_cpu_s'] * 1e6 / r['n']:>9.0f}"
          f"{r['server_hwm_kb']/1024:>11.1f}{r['client_cpu_s']:>13.1f}"
          f"{fails:>6}  {st('pnp_200'):>13}{st('pnp_notify'):>13}{st('tftp'):>13}{st('http'):>13}")
    by.setdefault(r["n"], {})[r["kind"]] = r
for n, k in by.items():
    r = k.get("relay")
    if r:
        fails = {st: v for st, v in r["failures"].items()}
        extra = f", TFTP busy answers {r['tftp_busy']}" if r["tftp_busy"] else ""
        print(f"N={n}: relay start-up {r['startup_s']:.2f} s, {r['warn_lines']} WARN/ERROR log lines, "
              f"failures {json.dumps(fails) if fails else 'none'}{extra}")
    if r and "peer" in k:
        p = k["peer"]
        ratio = lambda a, b: "-" if not b else f"{a / b:.2f}"
        tf = lambda x, st: x["stages"][st]["p50_ms"]
        print(f"N={n}: relay/peer: wall {ratio(r['wall_s'], p['wall_s'])}, server CPU "
              f"{ratio(r['server_cpu_s'], p['server_cpu_s'])}, RSS {ratio(r['server_hwm_kb'], p['server_hwm_kb'])}, "
              f"TFTP p50 {ratio(tf(r, 'tftp') or 0, tf(p, 'tftp'))}, HTTP p50 {ratio(tf(r, 'http') or 0, tf(p, 'http'))}")
EOF
