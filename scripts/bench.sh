#!/usr/bin/env bash
# Benchmarks beside their peers, in one run, pinned to one core (see ../shared/bench/).
#  1. wall time: Python Jinja2 (the peer), the criterion suite, Python Jinja2 again;
#  2. instruction counts (callgrind; repeatable on a noisy machine) per render of the
#     Yealink template with 10 BLF keys: Jinja2, raw minijinja, the engine.
set -euo pipefail
cd "$(dirname "$0")/.."
peer=../shared/bench/jinja2_yealink.py
python3 -c 'import jinja2' 2>/dev/null || pip install -q jinja2
taskset -c 0 python3 "$peer"
taskset -c 0 cargo bench -q -p engine --bench render -- --warm-up-time 1 --measurement-time 4 \
  2>&1 | grep -E '^[a-z_0-9]+/[a-z_0-9]+|thrpt:  \[[0-9]'
taskset -c 0 python3 "$peer"

command -v valgrind >/dev/null || { echo "valgrind not installed: skipping instruction counts"; exit 0; }
n=2000
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*Collected : //p'; }
cargo build -q --profile bench -p engine --example jinja_cost
bin=target/release/examples/jinja_cost
base=$(count "$bin" none "$n")
for m in raw rawctx engine default; do
  echo "$m: $(( ($(count "$bin" "$m" "$n") - base) / n )) instructions per render"
done
py=$(python3 -c 'import sys; print(sys.executable)')
script=$(mktemp --suffix .py)
trap 'rm -f "$script"' EXIT
sed '/^for n_blf in/,$d' "$peer" > "$script"
printf 'import sys\nc = dict(ctx)\nfor _ in range(int(sys.argv[1])): t.render(**c)\n' >> "$script"
echo "jinja2: $(( ($(count "$py" "$script" "$n") - $(count "$py" "$script" 0)) / n )) instructions per render"
