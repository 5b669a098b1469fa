#!/usr/bin/env bash
# [e2e] tools/wire.sh on veth pairs of namespaces this test creates
# (tools/netns.sh's netns_create, removed again by netns_remove_created):
#   - `check` reports what `up` would change and changes nothing;
#   - `up` refuses an interface that does not exist, the same interface twice,
#     one with the host's address, one the SSH session runs over, one that
#     carries the default route, and a configuration naming another
#     interface, each with status 2 and nothing changed;
#   - `up` turns GRO/GSO/TSO off, promiscuous mode and IPv6 as it says,
#     records the previous state, writes a configuration linkem runs: ping
#     crosses linkem (RTT at least the 2 x 10 ms the configuration adds);
#   - `down` restores exactly the previous state, also after two `up`s.
# Prints "[linkem-case] PASS|FAIL name" per check; exits 77 (skipped) when
# root, namespaces or a tool is missing.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
linkem=${LINKEM_BIN:-$top/build/app/linkem}
wire=$top/tools/wire.sh
NETNS_PREFIX=lkmw
source "$top/tools/netns.sh"

missing=$(netns_missing)
if [ -n "$missing" ]; then
    echo "skipped: needs $missing"
    exit 77
fi

work=$(mktemp -d)
export LINKEM_WIRE_STATE_DIR=$work/state LINKEM_BIN=$linkem
unset SSH_CONNECTION
linkem_pid=
cleanup() {
    if [ -n "$linkem_pid" ] && kill -INT "$linkem_pid" 2>/dev/null; then wait "$linkem_pid" 2>/dev/null; fi
    "$wire" down > /dev/null 2>&1
    netns_remove_created
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
verdict() {  # verdict NAME STATUS [DETAIL]
    if [ "$2" -eq 0 ]; then echo "[linkem-case] PASS $1${3:+ ($3)}"; else
        echo "[linkem-case] FAIL $1${3:+ ($3)}"
        failures=$((failures + 1))
    fi
}

if ! netns_create; then
    echo "could not create the namespaces"
    exit 1
fi

# The state of an interface as the checks compare it: offloads, promiscuity, IPv6, link.
snapshot() {  # snapshot IFACE [NETNS]
    local run=()
    [ -z "${2:-}" ] || run=(ip netns exec "$2")
    "${run[@]}" ethtool -k "$1" | grep -E '^(generic-receive-offload|generic-segmentation-offload|tcp-segmentation-offload|rx-vlan-offload):'
    "${run[@]}" ip -o link show dev "$1" | grep -o '<[^>]*>'
    "${run[@]}" cat "/proc/sys/net/ipv6/conf/$1/disable_ipv6"
}
feature() { ethtool -k "$1" | sed -n "s/^$2: \([a-z]*\).*/\1/p"; }

# A state that differs from what `up` sets on every count: GRO on (veth's
# default is off), IPv6 on for one side (netns.sh turned it off).
ethtool -K "$if_a" gro on > /dev/null 2>&1
sysctl -qw "net.ipv6.conf.$if_b.disable_ipv6=0"
before_a=$(snapshot "$if_a")
before_b=$(snapshot "$if_b")
[ "$(feature "$if_a" generic-receive-offload)" = on ] && [ "$(feature "$if_a" generic-segmentation-offload)" = on ]
verdict "the test's starting state: GRO and GSO on on $if_a" $?

out=$("$wire" check "$if_a" "$if_b" 2>&1)
status=$?
echo "$out"
[ $status -eq 0 ] && grep -q "$if_a: .*promiscuous mode on.*generic-receive-offload off" <<< "$out" &&
    grep -q "$if_b: .*IPv6 off" <<< "$out" && [ "$(snapshot "$if_a")" = "$before_a" ]
verdict "check lists what up would change and changes nothing" $?

refused() {  # refused NAME PATTERN COMMAND...: status 2, PATTERN in the message
    local name=$1 pattern=$2 out status
    shift 2
    out=$("$@" 2>&1)
    status=$?
    echo "$out" | sed 's/^/    /'
    [ $status -eq 2 ] && grep -q "$pattern" <<< "$out"
    verdict "refused: $name" $?
}
refused "an interface that does not exist" "no interface lkmw-nope" "$wire" up "$if_a" lkmw-nope
refused "the same interface twice" "both sides" "$wire" up "$if_a" "$if_a"
refused "an interface with the host's address" "has the address(es) 10.77.0.2/24" \
    ip netns exec "$ns_b" "$wire" up "$if_b-ns" lo
refused "the interface the SSH session runs over" "carries this SSH session" \
    ip netns exec "$ns_a" env SSH_CONNECTION="10.77.0.2 50000 10.77.0.1 22" "$wire" up "$if_a-ns" lo
ip netns exec "$ns_a" ip route add default via 10.77.0.2 dev "$if_a-ns"
refused "the interface of the default route" "carries the default route" \
    ip netns exec "$ns_a" "$wire" up "$if_a-ns" lo
printf 'ports:\n  a: { device: "net_af_packet0,iface=%s" }\n  b: { device: "net_af_packet1,iface=eth9" }\nlinks:\n  - { name: x, from: a, to: b }\n' \
    "$if_a" > "$work/other.yaml"
refused "a configuration on another interface" "no net_af_packet port on $if_b" "$wire" up "$if_a" "$if_b" "$work/other.yaml"
[ "$(snapshot "$if_a")" = "$before_a" ] && [ "$(snapshot "$if_b")" = "$before_b" ] &&
    [ -z "$(ls -A "$work/state" 2>/dev/null)" ]
verdict "nothing changed or recorded by the refusals" $?

# Up.
"$wire" up "$if_a" "$if_b" "$work/wire.yaml"
status=$?
verdict "up $if_a $if_b exits 0" $status
for iface in "$if_a" "$if_b"; do
    off=1
    for f in generic-receive-offload generic-segmentation-offload tcp-segmentation-offload; do
        [ "$(feature "$iface" "$f")" = off ] || { off=0; echo "$iface: $f is $(feature "$iface" "$f")"; }
    done
    [ $off -eq 1 ] && ip -o link show dev "$iface" | grep -q "[<,]PROMISC[,>]" &&
        [ "$(cat "/proc/sys/net/ipv6/conf/$iface/disable_ipv6")" = 1 ]
    verdict "up: $iface has GRO, GSO and TSO off, promiscuous mode on, IPv6 off" $?
done
state_a=$(ls "$work"/state/*-"$if_a".state 2>/dev/null)
grep -qx "offload generic-receive-offload on" "$state_a" && grep -qx "promisc off" "$state_a" &&
    grep -qx "disable_ipv6 0" "$work"/state/*-"$if_b".state
verdict "up recorded the previous state (GRO on, promiscuous off, IPv6 on)" $? "$(paste -sd ';' "$state_a")"
grep -q "net_af_packet0,iface=$if_a" "$work/wire.yaml" && grep -q "net_af_packet1,iface=$if_b" "$work/wire.yaml" &&
    "$linkem" "$work/wire.yaml" --check > /dev/null
verdict "up wrote a configuration that linkem --check accepts" $?

# linkem in the wire: ping from one namespace to the other crosses it.
"$linkem" "$work/wire.yaml" --stats-interval 0 > "$work/linkem.log" 2>&1 &
linkem_pid=$!
if netns_wait_running "$work/linkem.log" "$linkem_pid"; then
    ip netns exec "$ns_a" ping -c 1 -W 3 "$ip_b" > /dev/null 2>&1
    rtt=$(ip netns exec "$ns_a" ping -c 5 -i 0.2 -W 2 "$ip_b" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n | sed -n 3p)
    python3 -c "import sys; sys.exit(0 if float('${rtt:-0}') >= 19.9 else 1)"
    verdict "ping crosses linkem between $if_a and $if_b" $? "median RTT ${rtt:-none} ms, the configuration adds 2 x 10 ms"
    kill -INT "$linkem_pid"
    wait "$linkem_pid"
    verdict "linkem exits 0 on SIGINT" $?
else
    cat "$work/linkem.log"
    verdict "linkem starts on the wire's configuration" 1
fi
linkem_pid=

# A second up keeps the first record; down returns to the state before the first.
"$wire" up "$if_a" "$if_b" "$work/wire.yaml" > /dev/null
verdict "a second up on the same interfaces (with the written configuration) exits 0" $?
"$wire" down
verdict "down exits 0" $?
after_a=$(snapshot "$if_a")
after_b=$(snapshot "$if_b")
[ "$after_a" = "$before_a" ]
verdict "down restored $if_a" $? "$(paste -sd ' ' <<< "$after_a")"
[ "$after_b" = "$before_b" ]
verdict "down restored $if_b" $? "$(paste -sd ' ' <<< "$after_b")"
[ -z "$(ls -A "$work/state"/*.state 2>/dev/null)" ]
verdict "down removed the records" $?

echo "wire: $failures failed check(s)"
[ "$failures" -eq 0 ]
