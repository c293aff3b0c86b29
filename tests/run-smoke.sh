#!/usr/bin/env bash
# The README's run command works: scripts/run.sh comes up, and every printed curl command
# (one phone of each vendor, with its real User-Agent, from the edge and through the LAN
# relay synced from it) gets that phone's config (the Yealink and Snom ones through the
# demo templates).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8799}
log=$(mktemp)
PORT=$port setsid scripts/run.sh > "$log" 2>&1 < /dev/null &
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null || true; rm -f "$log"' EXIT
started=$(date +%s)
until grep -q 'Ready on' "$log" && grep -q 'new inventory from the edge' "$log"; do
  if ! kill -0 "$pid" 2>/dev/null || [ $(( $(date +%s) - started )) -gt 300 ]; then
    cat "$log"; echo "run.sh did not come up" >&2; exit 1
  fi
  sleep 1
done
echo "run.sh ready after $(( $(date +%s) - started ))s"
n=0
bodies=$(mktemp)
trap 'kill -TERM -- -$pid 2>/dev/null || true; rm -f "$log" "$bodies"' EXIT
while read -r cmd; do
  body=$(eval "$cmd")
  case "$body" in
    *'#!version:1.0.0.1'*|*'<<VOIP CONFIG FILE>>'*|*'<gs_provision'*|*'<hl_provision'*|*'<settings>'*) n=$((n + 1)) ;;
    *) echo "unexpected answer to: $cmd"; echo "$body" | head -5; exit 1 ;;
  esac
  printf '%s\n' "$body" >> "$bodies"
done < <(grep '^curl -s -A ' "$log")
[ "$n" -eq 10 ] || { echo "expected 5 phones from the edge and 5 through the relay, served $n" >&2; exit 1; }
for line in 'account.1.label = 201 Irina Smirnova' 'features.intercom.allow = 1' \
  '<user_realname idx="1" perm="RW">202 Jonas Weber</user_realname>'; do
  grep -qF "$line" "$bodies" || { echo "no demo template line: $line" >&2; exit 1; }
done
echo "all 5 demo phones got their configs, from the edge and through the relay"
# A LAN phone without HTTP: its config by TFTP from the relay, the same bytes as by HTTP.
tftp_cfg=$(curl -s --max-time 10 "tftp://${RELAY_TFTP:-127.0.0.1:6969}/001565000001.cfg")
http_cfg=$(curl -s --max-time 10 "http://${RELAY_HTTP:-127.0.0.1:8480}/001565000001.cfg")
case "$tftp_cfg" in *'account.1.label = 201 Irina Smirnova'*) ;; *) echo "no config by TFTP: $tftp_cfg" >&2; exit 1 ;; esac
[ "$tftp_cfg" = "$http_cfg" ] || { echo "TFTP and HTTP configs differ" >&2; exit 1; }
echo "the Yealink demo phone got the same config by TFTP"
# The printed admin command lists the demo phones, now with what they told us.
view=$(eval "$(grep "^curl -s -H 'Authorization" "$log")")
seen=$(printf '%s' "$view" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(v.filter(p=>p.last_seen_at).length)})')
[ "$seen" -eq 5 ] || { echo "admin phones view shows $seen phones seen, expected 5: $view" >&2; exit 1; }
echo "the admin phones view shows all 5 phones as seen"
