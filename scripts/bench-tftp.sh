#!/usr/bin/env bash
# The relay's TFTP server beside Debian's tftpd-hpa and atftpd in one run: an 80 MB file on
# loopback fetched by the atftp client with blksize 1428, lock-step and windowsize 16, three
# rounds, each transfer checked with cmp. The measuring is ../shared/bench/tftp_peers.sh (beside
# the repo); this script builds our server (examples/tftp_root.rs) and brings the peers.
#
# atftpd and tftpd-hpa replace each other in apt (atftpd even ships an in.tftpd link), so only
# atftpd is installed; tftpd-hpa's
# in.tftpd is unpacked from its .deb (apt-get download + dpkg -x, nothing installed) into a
# temp dir put first on PATH, so all three servers run in the same run. As root the script
# installs what is missing (atftp atftpd bc); otherwise install them first:
#   apt-get install -y atftp atftpd bc
# Our build uses opt-level 3 (the workspace's release profile is tuned for wasm size).
# The peers' script runs three rounds; RUNS=N runs it N times (default 3: nine rounds) and
# prints each label's median and our ratio to each peer (below 1: ours is faster), since one
# round on a shared 2-core box can be off by half.
# Usage: scripts/bench-tftp.sh     (TASKSET="taskset -c 0" to pin the whole run to one core)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
peers="$repo/../shared/bench/tftp_peers.sh"
[ -f "$peers" ] || { echo "bench-tftp: $peers not found (shared/ must sit beside the repo)" >&2; exit 1; }

missing=()
for c in atftp:atftp atftpd:atftpd bc:bc; do command -v "${c%%:*}" >/dev/null || missing+=("${c#*:}"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench-tftp: missing ${missing[*]}: apt-get install -y ${missing[*]}" >&2; exit 1
  fi
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# atftpd's package also installs /usr/sbin/in.tftpd (a link to atftpd): put tftpd-hpa's first.
if ! in.tftpd -V 2>&1 | grep -q tftp-hpa; then
  (cd "$tmp" && apt-get download tftpd-hpa >/dev/null 2>&1 && dpkg -x tftpd-hpa_*.deb hpa) \
    || echo "bench-tftp: could not unpack tftpd-hpa; running without it" >&2
  [ -x "$tmp/hpa/usr/sbin/in.tftpd" ] && export PATH="$tmp/hpa/usr/sbin:$PATH"
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
(cd "$repo" && CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=thin \
  cargo build --quiet --release -p lan-relay --example tftp_root)
bin="$CARGO_TARGET_DIR/release/examples/tftp_root"
echo "peers: $(in.tftpd -V 2>&1 | head -1); $(atftpd --version 2>&1 | head -1); client $(atftp --version 2>&1 | head -1)"
log="$tmp/rounds.txt"
for _ in $(seq "${RUNS:-3}"); do
  OURS="$bin --root {dir} --listen 127.0.0.1:{port}" ${TASKSET:-} bash "$peers" | tee -a "$log"
done
python3 - "$log" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    name, _, rest = line.rstrip().rpartition("  ")
    name = name.strip()
    if rest.endswith(" s"):
        times.setdefault(name, []).append(float(rest[:-2]))
    elif "FAILED" in line:
        print("FAILED:", line.strip())
med = {k: statistics.median(v) for k, v in times.items()}
print("\nmedians over %d rounds" % max(len(v) for v in times.values()))
for k, v in sorted(med.items()):
    print("  %-24s %.3f s" % (k, v))
for ours, peer in [("ours lock-step", "tftpd-hpa lock-step"), ("ours lock-step", "atftpd lock-step"),
                   ("ours windowsize 16", "atftpd windowsize 16")]:
    if ours in med and peer in med:
        print("  %-20s / %-22s = %.2f" % (ours, peer, med[ours] / med[peer]))
PY
