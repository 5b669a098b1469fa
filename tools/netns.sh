# Two network namespaces joined through linkem: sourced by tools/demo.sh and
# test/e2e_netns.sh. Topology (PREFIX defaults to "lkm"):
#
#   netns PREFIX-ns-a             host (linkem, net_af_packet)             netns PREFIX-ns-b
#   PREFIX-a-ns 10.77.0.1/24 <-veth-> PREFIX-a ==linkem== PREFIX-b <-veth-> PREFIX-b-ns 10.77.0.2/24
#
# Traffic stays inside namespaces this script creates. veth leaves checksums
# for the NIC to finish, and nothing finishes them on the way through linkem,
# so tx checksumming is turned off on the namespace ends.

netns_prefix=${NETNS_PREFIX:-lkm}
ns_a=$netns_prefix-ns-a
ns_b=$netns_prefix-ns-b
if_a=$netns_prefix-a
if_b=$netns_prefix-b
ip_a=10.77.0.1
ip_b=10.77.0.2

# Prints what is missing to run the namespaces, or nothing.
netns_missing() {
    [ "$(id -u)" -eq 0 ] || { echo "root"; return; }
    for tool in ip ethtool ping iperf3; do command -v "$tool" >/dev/null || { echo "$tool"; return; }; done
    ip netns add "$netns_prefix-probe" 2>/dev/null || { echo "network namespaces (ip netns add failed)"; return; }
    ip netns del "$netns_prefix-probe"
}

netns_down() {
    ip netns del "$ns_a" 2>/dev/null || true
    ip netns del "$ns_b" 2>/dev/null || true
    ip link del "$if_a" 2>/dev/null || true
    ip link del "$if_b" 2>/dev/null || true
}

# Stops a linkem still running (SIGINT, then waits), ends what runs in the
# namespaces, and removes them: for EXIT traps. netns_clean_up [LINKEM-PID]
netns_clean_up() {
    if [ -n "${1:-}" ] && kill -INT "$1" 2>/dev/null; then wait "$1" 2>/dev/null; fi
    ip netns pids "$ns_a" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns pids "$ns_b" 2>/dev/null | xargs -r kill 2>/dev/null
    netns_down
}

netns_up() {
    netns_down
    local side ns host peer addr
    for side in a b; do
        if [ "$side" = a ]; then ns=$ns_a host=$if_a addr=$ip_a; else ns=$ns_b host=$if_b addr=$ip_b; fi
        peer=$host-ns
        ip netns add "$ns"
        ip link add "$host" type veth peer name "$peer"
        ip link set "$peer" netns "$ns"
        sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" 2>/dev/null || true
        ip link set "$host" up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
        ip netns exec "$ns" ip addr add "$addr/24" dev "$peer"
        ip netns exec "$ns" ip link set "$peer" up
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" ethtool -K "$peer" tx off >/dev/null 2>&1 || true
    done
}

# Owned set-up, for tools/demo.sh: creates only names that do not exist yet
# and records each name it created in netns_created ("netns NAME" or "link
# NAME"), so that netns_remove_created deletes exactly those and nothing else.
netns_created=()

# Prints the first of the names netns_create would create that already
# exists ("namespace NAME" or "interface NAME"), or nothing.
netns_existing() {
    local name
    for name in "$ns_a" "$ns_b"; do
        ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF "$name" && { echo "namespace $name"; return; }
    done
    for name in "$if_a" "$if_b" "$if_a-ns" "$if_b-ns"; do
        ip link show dev "$name" >/dev/null 2>&1 && { echo "interface $name"; return; }
    done
}

# Like netns_up, but refuses (status 1, message on stderr) when a name it
# would create exists, and records what it created. Fails at the first
# command that fails; what was created until then stays recorded.
netns_create() {
    local existing side ns host peer addr
    existing=$(netns_existing)
    if [ -n "$existing" ]; then
        echo "$existing already exists and was not created by this run; it is left alone." \
            "Remove it, or choose other names with NETNS_PREFIX=..." >&2
        return 1
    fi
    for side in a b; do
        if [ "$side" = a ]; then ns=$ns_a host=$if_a addr=$ip_a; else ns=$ns_b host=$if_b addr=$ip_b; fi
        peer=$host-ns
        ip netns add "$ns" || return 1
        netns_created+=("netns $ns")
        ip link add "$host" type veth peer name "$peer" || return 1
        netns_created+=("link $host")
        ip link set "$peer" netns "$ns" || return 1
        sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" 2>/dev/null || true
        ip link set "$host" up || return 1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
        ip netns exec "$ns" ip addr add "$addr/24" dev "$peer" || return 1
        ip netns exec "$ns" ip link set "$peer" up || return 1
        ip netns exec "$ns" ip link set lo up || return 1
        ip netns exec "$ns" ethtool -K "$peer" tx off >/dev/null 2>&1 || true
    done
}

# Kills what still runs in the namespaces netns_create created, then deletes
# the namespaces and interfaces it created (last first), and only those.
netns_remove_created() {
    local i kind name
    for ((i = ${#netns_created[@]} - 1; i >= 0; i--)); do
        read -r kind name <<< "${netns_created[i]}"
        [ "$kind" = netns ] && ip netns pids "$name" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    done
    for ((i = ${#netns_created[@]} - 1; i >= 0; i--)); do
        read -r kind name <<< "${netns_created[i]}"
        if [ "$kind" = netns ]; then
            ip netns del "$name" 2>/dev/null
        else  # a veth whose other end went with its namespace is gone already
            ! ip link show dev "$name" >/dev/null 2>&1 || ip link del "$name" 2>/dev/null
        fi
    done
    netns_created=()
}

# A linkem configuration joining the namespaces: netns_config FILE DELAY RATE QUEUE
netns_config() {
    cat > "$1" <<YAML
ports:
  a: { device: "net_af_packet0,iface=$if_a" }
  b: { device: "net_af_packet1,iface=$if_b" }
links:
  - { name: a-to-b, from: a, to: b, bandwidth: $3, overhead: ethernet, queue: "$4", delay: $2 }
  - { name: b-to-a, from: b, to: a, bandwidth: $3, overhead: ethernet, queue: "$4", delay: $2 }
YAML
}

# Waits until linkem's log says it runs: netns_wait_running LOG PID
netns_wait_running() {
    local i
    for i in $(seq 1 200); do
        grep -q "linkem: running" "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
