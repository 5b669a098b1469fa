#!/usr/bin/env bash
# [plugin] The researcher's path, as docs/PLUGINS.md tells it: build
# plugins/template/sawtooth.c out of the tree with the one-line command (and
# with pkg-config), load it by path from a configuration, and check in
# linkem-sim that it does what its header says:
#   delay = min + (max - min) * (exit mod period) / period.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sim=${LINKEM_SIM_BIN:-$top/build/app/linkem-sim}
command -v cc >/dev/null || { echo "skipped: needs a C compiler (cc)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
check() {  # check NAME STATUS DETAIL
    if [ "$2" -eq 0 ]; then echo "[linkem-case] PASS $1 ($3)"; else echo "[linkem-case] FAIL $1 ($3)"; failures=$((failures + 1)); fi
}

cp "$top/plugins/template/sawtooth.c" "$work/"
cd "$work"
cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I"$top/plugins/include" sawtooth.c -o sawtooth.so -lm
exported=$(nm -D --defined-only sawtooth.so 2>/dev/null | awk '{print $3}' | tr '\n' ' ')
[ "$exported" = "lkm_entry " ]
check "the template builds out of the tree with one command and exports only lkm_entry" $? "exports: $exported"

if [ -n "${LINKEM_UNINSTALLED_PC:-}" ] && command -v pkg-config >/dev/null; then
    cflags=$(PKG_CONFIG_PATH=$LINKEM_UNINSTALLED_PC pkg-config --cflags linkem-plugin)
    cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden $cflags sawtooth.c -o sawtooth_pc.so -lm
    check "the template builds with pkg-config --cflags linkem-plugin" $? "cflags: $cflags"
fi

cat > sawtooth.yaml <<'YAML'
ports: {a: {device: net_null0}, b: {device: net_null1}}
links:
  - {name: ab, from: a, to: b, delay: {plugin: ./sawtooth.so, min: 1ms, max: 3ms, period: 10ms}}
YAML
# 100 packets at 1428 per second (about one every 0.7 ms) from t = 0; with no
# bandwidth model each exits when it arrives.
"$sim" sawtooth.yaml --synthetic rate=1428pps,size=100,count=100 --out out.pcap > sim.log 2>&1
python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]
data = open(f"{work}/out.pcap", "rb").read()
times, at = [], 24
while at + 16 <= len(data):
    s, ns, l, _ = struct.unpack("<IIII", data[at:at + 16]); times.append(s * 10**9 + ns); at += 16 + l
# The synthetic input's arrivals, as linkem-sim computes them: i * 1e9 / rate, in whole ns.
rate = 1428
arrivals = [i * 10**9 // rate for i in range(len(times))]
# Release times never decrease (order keep): the expected release is the running maximum.
bad, last = [], 0
for i, (a, t) in enumerate(zip(arrivals, times)):
    last = max(last, a + 1_000_000 + (2_000_000 * (a % 10_000_000)) // 10_000_000)
    if t != last: bad.append((i, a, t, last))
ok = len(times) == 100 and not bad
print(f"[linkem-case] {'PASS' if ok else 'FAIL'} the template model loads by path and delays as its formula says "
      f"({len(times)} packets, {len(bad)} mismatches{': ' + str(bad[:3]) if bad else ''})")
sys.exit(0 if ok else 1)
PY
[ $? -eq 0 ] || failures=$((failures + 1))
[ "$failures" -eq 0 ] || cat sim.log
exit "$failures"
