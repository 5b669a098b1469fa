#!/usr/bin/env bash
# [bench] tools/bench.py for 2 seconds per row, once: it must run every row
# and print both tables (throughput: 9 rows, and row (g)'s replay line; CPU use at low load: linkem idle
# without and with the idle back-off, at 10 kpps, the first ping after 3 s
# idle with and without the back-off and pings 0.2 s apart (2 each), testpmd
# idle: 7 rows, or one saying why they were skipped). Speed is not judged here (benchmarks, not timed tests).
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root for DPDK's EAL"; exit 77; }
command -v dpdk-testpmd >/dev/null || { echo "skipped: needs dpdk-testpmd (Debian package dpdk)"; exit 77; }
out=$(python3 "$top/tools/bench.py" --seconds 2 --warmup 0 --repeats 1 --cpu-seconds 2 --idle-samples 2 2>&1)
status=$?
echo "$out"
rows=$(echo "$out" | grep -cE '^\| (testpmd io, |\([a-g]\))')
replay_lines=$(echo "$out" | grep -cE '^\(g\) .*: the replay stage admitted [0-9.]+ Mpps')
cpu_rows=$(echo "$out" | grep -cE '^\| (linkem idle, no back-off|linkem idle, backed off|linkem at 10 kpps|testpmd io idle)|^\| CPU use \| +\| skipped: ')
ping_rows=$(echo "$out" | grep -cE '^\| linkem, (first ping after 3 s idle|pings 0\.2 s apart) .*\| RTT - 20 ms: median ')
[ "$status" -eq 0 ] && [ "$rows" -eq 9 ] && [ "$replay_lines" -eq 1 ] && { { [ "$cpu_rows" -eq 4 ] && [ "$ping_rows" -eq 3 ]; } || [ "$cpu_rows" -eq 1 ]; }
