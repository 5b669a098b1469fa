#!/usr/bin/env bash
# Replay timing: linkem's replay port beside tcpreplay and a spinning sender
# (tools/replay_compare.py says what is measured and how). As root:
#
#   tools/replay_compare.sh [--seconds 2] [--traces bursts-50x10ms,...] [--senders linkem,spinning,two-lcores,tcpreplay,floor]
#
# It makes a veth pair, PREFIX-tx (here) and PREFIX-rx (in network namespace
# PREFIX-ns), PREFIX from REPLAY_PREFIX (default lkmrc); names that exist are
# refused, never reused or removed; on exit it removes exactly what it made.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${REPLAY_PREFIX:-lkmrc}
ns=$prefix-ns tx=$prefix-tx rx=$prefix-rx
[ "$(id -u)" -eq 0 ] || { echo "replay_compare: needs root (DPDK, a veth pair, a network namespace)" >&2; exit 2; }
for tool in tcpreplay tcpdump ip; do
    command -v "$tool" >/dev/null || { echo "replay_compare: needs $tool (tools/setup.sh installs it)" >&2; exit 2; }
done
[ -x "$top/build/app/linkem" ] || { echo "replay_compare: build linkem first (tools/setup.sh)" >&2; exit 2; }
if ip netns list | grep -qw "$ns" || ip link show "$tx" >/dev/null 2>&1; then
    echo "replay_compare: $ns or $tx exists already: not touching it (REPLAY_PREFIX=other picks other names)" >&2
    exit 2
fi
made_ns=0 made_link=0
clean_up() {
    if [ "$made_ns" = 1 ]; then
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    fi
    if [ "$made_link" = 1 ]; then ip link del "$tx" 2>/dev/null || true; fi
}
trap clean_up EXIT
ip netns add "$ns" && made_ns=1
ip link add "$tx" type veth peer name "$rx" && made_link=1
ip link set "$rx" netns "$ns"
sysctl -qw "net.ipv6.conf.$tx.disable_ipv6=1"
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$rx.disable_ipv6=1"
ip link set "$tx" up
ip netns exec "$ns" ip link set "$rx" up
python3 "$top/tools/replay_compare.py" --send-iface "$tx" --capture-ns "$ns" --capture-iface "$rx" "$@"
