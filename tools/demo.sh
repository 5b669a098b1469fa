#!/usr/bin/env bash
# The main job on an embedded default: one of the README's two commands.
#
# Creates two network namespaces, joins each to linkem through a veth pair
# bound with net_af_packet, runs linkem with config/demo.yaml (50 Mbit/s and
# 20 ms each way), pings and runs iperf3 from one namespace to the other
# through it, prints what was configured beside what was measured, then
# linkem's own summary. Cleans up its namespaces and processes on exit and on
# Ctrl-C. Needs root.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LINKEM_BUILD_DIR:-$top/build}
config=$top/config/demo.yaml
"$top/tools/setup.sh" || exit 1

NETNS_PREFIX=lkm  # config/demo.yaml names the interfaces lkm-a and lkm-b
source "$top/tools/netns.sh"
missing=$(netns_missing)
if [ -n "$missing" ]; then
    echo "demo: needs $missing; run it as root on a machine with network namespaces"
    exit 1
fi

work=$(mktemp -d)
linkem_pid=
cleanup() {
    netns_clean_up "$linkem_pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

echo "== two namespaces: $ns_a ($ip_a) <-> linkem <-> $ns_b ($ip_b)"
netns_up
"$build_dir/app/linkem" "$config" --stats-interval 0 --stats-json "$work/stats.json" > "$work/linkem.log" 2>&1 &
linkem_pid=$!
if ! netns_wait_running "$work/linkem.log" "$linkem_pid"; then
    echo "demo: linkem did not start:"; cat "$work/linkem.log"; exit 1
fi
grep '^linkem: ' "$work/linkem.log"

echo; echo "== ping $ip_b from $ns_a (20 pings)"
ip netns exec "$ns_a" ping -c 1 -W 2 "$ip_b" > /dev/null  # resolve ARP first
ping_out=$(ip netns exec "$ns_a" ping -c 20 -i 0.1 "$ip_b")
echo "$ping_out" | tail -n 2
rtt=$(echo "$ping_out" | awk -F/ '/^rtt/ {print $5}')

iperf() {  # iperf NAME ARGS...: prints the bit/s the server received
    local report=$work/$1.json
    shift
    ip netns exec "$ns_b" iperf3 -s -1 -J > "$report" 2>&1 &
    local server=$!
    sleep 0.5
    ip netns exec "$ns_a" iperf3 -c "$ip_b" "$@" > /dev/null 2>&1
    wait "$server"
    python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' "$report" ||
        { echo "demo: iperf3 gave no report: $(head -c 300 "$report")" >&2; echo 0; }
}
echo; echo "== iperf3: TCP for 5 s, then UDP at 80 Mbit/s (1400-byte datagrams) for 5 s"
tcp_bps=$(iperf tcp -t 5)
udp_bps=$(iperf udp -u -b 80M -l 1400 -t 5)

kill -INT "$linkem_pid"; wait "$linkem_pid"; linkem_status=$?; linkem_pid=

udp_expected=$(( 50000000 * 1400 / (1400 + 8 + 20 + 14 + 24) ))
echo
echo "== configured vs measured"
printf '%-36s %-22s %s\n' "" "configured" "measured"
printf '%-36s %-22s %s ms\n' "ping RTT (2 x one-way delay)" "40 ms" "${rtt:-?}"
printf '%-36s %-22s %.1f Mbit/s\n' "UDP payload rate (link 50 Mbit/s)" "$(awk "BEGIN {printf \"%.1f Mbit/s\", $udp_expected / 1e6}")" "$(awk "BEGIN {print $udp_bps / 1e6}")"
printf '%-36s %-22s %.1f Mbit/s\n' "TCP goodput (link 50 Mbit/s)" "below 47.7 Mbit/s" "$(awk "BEGIN {print $tcp_bps / 1e6}")"
echo
echo "== linkem's summary (exit status $linkem_status)"
sed -n '/^linkem: ran/,$p' "$work/linkem.log"
