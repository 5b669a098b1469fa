#!/usr/bin/env bash
# linkem's throughput benchmark, beside dpdk-testpmd on the same kind of ports
# (README, "Performance"). Sets up and builds first; needs root (DPDK's EAL).
#   tools/bench.sh [--seconds S] [--warmup W] [--repeats R] [--rows b,h] [--cpu-seconds C] [--idle-samples N] [--cpu-only]
#   tools/bench.sh --smoke      # 1 repeat of 2 s, 2 pings per idle row: keeps the benchmark working in CI
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/tools/setup.sh" >/dev/null
if [ "${1:-}" = "--smoke" ]; then
    exec python3 "$top/tools/bench.py" --seconds 2 --warmup 0 --repeats 1 --cpu-seconds 2 --idle-samples 2
fi
exec python3 "$top/tools/bench.py" "$@"
