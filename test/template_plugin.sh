#!/usr/bin/env bash
# [plugin] The researcher's path, as docs/PLUGINS.md tells it: build
# plugins/template/sawtooth.c out of the tree with the one-line command (and
# with pkg-config), load it by path from a configuration, and check in
# linkem-sim that it does what its header says:
#   delay = min + (max - min) * (exit mod period) / period.
# Then the same for the queue-discipline template,
# plugins/template/sojourn_cap_aqm.c ("Queue disciplines"): built the same
# way, loaded by path as `queue: {discipline: ./sojourn_cap_aqm.so, cap: ...}`
# on an overloaded 10 Mbit/s link, it drops (aqm_drop > 0), no packet leaves
# with a sojourn above cap + one transmission time, rx = tx + drops, a cap of
# 10s drops nothing, and a missing cap is a positioned error (exit 2).
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

# The queue-discipline template (docs/PLUGINS.md "Queue disciplines"): the
# same one-line build, loaded by path as an AQM on a 10 Mbit/s link, fed
# 1000-byte frames at 2000 per second (16 Mbit/s: overload). A 1000-byte
# frame takes 800 us on the link (overhead 0): the sojourn's tolerance.
cp "$top/plugins/template/sojourn_cap_aqm.c" "$work/"
cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I"$top/plugins/include" sojourn_cap_aqm.c -o sojourn_cap_aqm.so -lm
exported=$(nm -D --defined-only sojourn_cap_aqm.so 2>/dev/null | awk '{print $3}' | tr '\n' ' ')
[ "$exported" = "lkm_entry " ]
check "the AQM template builds out of the tree with one command and exports only lkm_entry" $? "exports: $exported"
if [ -n "${LINKEM_UNINSTALLED_PC:-}" ] && command -v pkg-config >/dev/null; then
    cflags=$(PKG_CONFIG_PATH=$LINKEM_UNINSTALLED_PC pkg-config --cflags linkem-plugin)
    cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden $cflags sojourn_cap_aqm.c -o sojourn_cap_aqm_pc.so -lm
    check "the AQM template builds with pkg-config --cflags linkem-plugin" $? "cflags: $cflags"
fi

aqm_config() {  # aqm_config FILE QUEUE
    printf '%s\n' 'ports: {a: {device: net_null0}, b: {device: net_null1}}' 'links:' \
        "  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, queue: $2}" > "$1"
}
aqm_config aqm.yaml '{discipline: ./sojourn_cap_aqm.so, cap: 5ms, limit: 1000 packets}'
aqm_config aqm_wide.yaml '{discipline: ./sojourn_cap_aqm.so, cap: 10s, limit: 1000 packets}'
synthetic=rate=2kpps,size=1000,count=2000
"$sim" aqm.yaml --synthetic "$synthetic" --out aqm.pcap --stats-json aqm.json >> sim.log 2>&1
check "linkem-sim runs the AQM template (cap 5ms)" $? "exit status"
"$sim" aqm_wide.yaml --synthetic "$synthetic" --out aqm_wide.pcap --stats-json aqm_wide.json >> sim.log 2>&1
check "linkem-sim runs the AQM template (cap 10s)" $? "exit status"
python3 - "$work" <<'PY'
import json, struct, sys
work = sys.argv[1]
rate_pps, count, tx_ns, cap_ns = 2000, 2000, 1000 * 8 * 10**9 // 10_000_000, 5_000_000
failures = 0
def case(name, ok, detail):
    global failures
    print(f"[linkem-case] {'PASS' if ok else 'FAIL'} {name} ({detail})")
    failures += not ok
def released(path):  # {sequence number: release time}; the synthetic frames carry it at offset 14
    data, at, out = open(path, "rb").read(), 24, {}
    while at + 16 <= len(data):
        s, ns, l, _ = struct.unpack("<IIII", data[at:at + 16])
        out[struct.unpack("<Q", data[at + 30:at + 38])[0]] = s * 10**9 + ns
        at += 16 + l
    return out
for tag, what in (("", "cap 5ms"), ("_wide", "cap 10s")):
    try:
        l, rel = json.load(open(f"{work}/aqm{tag}.json"))["links"][0], released(f"{work}/aqm{tag}.pcap")
    except (OSError, ValueError, KeyError, IndexError, struct.error) as e:
        case(f"the AQM run ({what}) wrote its JSON and capture", False, repr(e))
        continue
    d = l["drops"]
    dropped = sum(d.values())
    # Sojourn = transmission start - arrival = release - transmission time - arrival (no delay model);
    # synthetic packet i arrives at i * 1e9 / rate ns.
    soj = {i: t - tx_ns - i * 10**9 // rate_pps for i, t in rel.items()}
    worst = max(soj.values(), default=0)
    case(f"the AQM's accounting balances, rx = tx + drops ({what})",
         l["rx_packets"] == count and l["rx_packets"] == l["tx_packets"] + dropped and l["in_flight"] == 0
         and l["balanced"] and len(rel) == l["tx_packets"],
         f"rx={l['rx_packets']} tx={l['tx_packets']} drops={dropped} in_flight={l['in_flight']} captured={len(rel)}")
    if not tag:
        case("the AQM drops under overload (aqm_drop > 0, no overload drop)", d["aqm_drop"] > 0 and d["queue"] == 0,
             f"aqm_drop={d['aqm_drop']} queue={d['queue']}")
        jmax = l["queue_discipline"]["sojourn_ns"]["max"]
        case("no packet released with a sojourn above cap + one transmission time (800 us)",
             len(rel) > 0 and worst <= cap_ns + tx_ns and jmax <= cap_ns + tx_ns,
             f"worst sojourn in the capture {worst} ns, JSON sojourn max {jmax} ns, cap {cap_ns} ns, "
             f"{sum(s > cap_ns + tx_ns for s in soj.values())} over")
    else:
        case("with a cap large enough, no aqm_drop (though packets waited more than 5ms)",
             d["aqm_drop"] == 0 and dropped == 0 and worst > cap_ns,
             f"aqm_drop={d['aqm_drop']} drops={dropped} worst sojourn {worst} ns")
sys.exit(1 if failures else 0)
PY
failures=$((failures + $?))

# A missing cap: the plugin's own error, positioned at the queue mapping, exit 2.
aqm_config aqm_nocap.yaml '{discipline: ./sojourn_cap_aqm.so, limit: 1000 packets}'
"$sim" aqm_nocap.yaml --synthetic "$synthetic" > nocap.log 2>&1
status=$?
line=$(grep -m1 'links\[0\]\.queue\.cap' nocap.log)
[ $status -eq 2 ] && [[ "$line" =~ ^aqm_nocap\.yaml:3:[0-9]+:\ links\[0\]\.queue\.cap:\ missing ]]
check "a missing cap is a positioned error naming file:line:column and the key path, exit 2" $? "exit $status: ${line:-$(head -c 300 nocap.log)}"

[ "$failures" -eq 0 ] || cat sim.log nocap.log
exit "$failures"
