#!/usr/bin/env bash
# [e2e] linkem between two network namespaces (veth + net_af_packet):
#   - ping RTT within 1 ms of twice the one-way delay;
#   - a UDP stream below the rate arrives without loss, and linkem drops nothing;
#   - a saturating UDP stream arrives at the configured rate (within 5%,
#     counting the overhead of UDP/IP/Ethernet headers and framing);
#   - linkem's counters balance exactly with nothing in flight at the end.
# Prints "[linkem-case] PASS|FAIL name" per check (tools/test_summary.py counts
# them); exits 77 (skipped) when root, namespaces or a tool is missing.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
linkem=${LINKEM_BIN:-$top/build/app/linkem}
NETNS_PREFIX=lkmt
source "$top/tools/netns.sh"

missing=$(netns_missing)
if [ -n "$missing" ]; then
    echo "skipped: needs $missing"
    exit 77
fi

work=$(mktemp -d)
linkem_pid=
cleanup() {
    [ -n "$linkem_pid" ] && kill "$linkem_pid" 2>/dev/null
    ip netns pids "$ns_b" 2>/dev/null | xargs -r kill 2>/dev/null
    netns_down
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
verdict() {  # verdict NAME CONDITION-EXIT-STATUS DETAIL
    if [ "$2" -eq 0 ]; then echo "[linkem-case] PASS $1 ($3)"; else echo "[linkem-case] FAIL $1 ($3)"; failures=$((failures + 1)); fi
}

start_linkem() {  # start_linkem NAME
    "$linkem" "$work/e2e.yaml" --stats-interval 0 --stats-json "$work/$1.json" > "$work/$1.log" 2>&1 &
    linkem_pid=$!
    if ! netns_wait_running "$work/$1.log" "$linkem_pid"; then
        echo "linkem did not start:"; cat "$work/$1.log"
        exit 1
    fi
}

stop_linkem() {  # stop_linkem NAME: SIGINT, wait, then check the accounting
    kill -INT "$linkem_pid"
    wait "$linkem_pid"
    local status=$?
    linkem_pid=
    tail -n 14 "$work/$1.log"
    python3 - "$work/$1.json" "$status" "$1" <<'PY'
import json, sys
stats, status, run = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
ok = status == 0 and stats["mbufs"]["pool"] == stats["mbufs"]["returned"]
for l in stats["links"]:
    ok = ok and l["in_flight"] == 0 and l["rx_packets"] == l["tx_packets"] + sum(l["drops"].values())
print(f"[linkem-case] {'PASS' if ok else 'FAIL'} {run}: linkem exits 0, counters balance, nothing in flight, every mbuf back")
sys.exit(0 if ok else 1)
PY
    [ $? -eq 0 ] || failures=$((failures + 1))
}

udp() {  # udp RATE SECONDS: prints received bit/s and lost datagrams
    ip netns exec "$ns_b" iperf3 -s -1 -J > "$work/server.json" 2>&1 &
    local server=$!
    sleep 0.5
    ip netns exec "$ns_a" iperf3 -c "$ip_b" -u -b "$1" -l 1400 -t "$2" > /dev/null 2>&1
    wait "$server"
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["end"]["sum_received"]; print(int(s["bits_per_second"]), s["lost_packets"])' \
        "$work/server.json"
}

netns_up
delay_ms=20
rate_bps=50000000
netns_config "$work/e2e.yaml" "${delay_ms}ms" 50Mbit/s "1000 packets"

# Run 1: latency and a stream below the rate.
start_linkem quiet
ip netns exec "$ns_a" ping -c 1 -W 2 "$ip_b" > /dev/null  # resolve ARP first
rtt_avg=$(ip netns exec "$ns_a" ping -c 20 -i 0.1 "$ip_b" | awk -F/ '/^rtt/ {print $5}')
python3 -c "import sys; sys.exit(0 if abs(float('${rtt_avg:-0}') - 2 * $delay_ms) <= 1.0 else 1)"
verdict "ping RTT within 1 ms of 2 x ${delay_ms} ms" $? "measured avg ${rtt_avg:-none} ms"
read -r slow_bps slow_lost < <(udp 20M 3)
[ "${slow_lost:-1}" -eq 0 ]
verdict "UDP at 20 Mbit/s through a 50 Mbit/s link loses nothing" $? "lost ${slow_lost:-?}, received ${slow_bps:-?} bit/s"
stop_linkem quiet
python3 -c 'import json,sys; sys.exit(0 if all(sum(l["drops"].values()) == 0 for l in json.load(open(sys.argv[1]))["links"]) else 1)' "$work/quiet.json"
verdict "linkem dropped nothing below the rate" $? "$(python3 -c 'import json,sys; print([l["drops"] for l in json.load(open(sys.argv[1]))["links"]])' "$work/quiet.json")"

# Run 2: a saturating stream is shaped to the rate. Goodput of 1400-byte UDP
# payloads: each frame carries 1400 + 8 + 20 + 14 bytes plus 24 of Ethernet framing.
start_linkem saturated
read -r fast_bps fast_lost < <(udp 80M 4)
expected_bps=$(( rate_bps * 1400 / (1400 + 8 + 20 + 14 + 24) ))
python3 -c "import sys; sys.exit(0 if abs(${fast_bps:-0} - $expected_bps) <= 0.05 * $expected_bps else 1)"
verdict "saturating UDP arrives at the configured rate (within 5%)" $? "received ${fast_bps:-?} bit/s of payload, expected $expected_bps"
stop_linkem saturated

echo "e2e: $failures failed check(s)"
[ "$failures" -eq 0 ]
