#!/usr/bin/env bash
# Puts linkem in the wire between two kernel interfaces (real NICs or veth),
# the way an operator prepares a testbed, and takes it out again.
#
#   tools/wire.sh check IFACE_A IFACE_B          report what `up` would refuse or change; change nothing
#   tools/wire.sh up IFACE_A IFACE_B [CONFIG]    check, fix what is safe, record the previous state,
#                                                write CONFIG (when it does not exist) or check it
#   tools/wire.sh down [IFACE ...]               restore what `up` changed (default: every interface
#                                                `up` recorded in this network namespace)
#
# Refused, never changed (exit status 2): an interface that does not exist, the
# loopback, one enslaved to a bridge or bond, one the default route leaves by,
# one the SSH session of this shell runs over, one with an IPv4 or global IPv6
# address (the host uses it: linkem would see, and the kernel answer, the same
# traffic), the same interface twice.
# Fixed, and recorded so that `down` restores it: the link brought up,
# promiscuous mode on (linkem forwards frames for every MAC address), IPv6
# off (no link-local address, router or neighbour solicitations of the host's
# own in the wire), and the offloads that break a bump in the wire turned off:
# GRO/LRO (the kernel would merge received frames into 64 KiB ones that
# linkem cannot send on) and GSO/TSO (frames larger than the MTU), VLAN
# stripping (the tag would be lost). Warned about: no carrier, MTUs that
# differ, an MTU above 2000 (frames larger than linkem's buffers do not cross).
#
# The previous state lives in $LINKEM_WIRE_STATE_DIR (default /run/linkem/wire),
# one file per interface and network namespace; a second `up` keeps the first
# record, so `down` always returns to the state before the first `up`.
# Needs root, ip (iproute2) and ethtool. Exit status: 0 done, 1 a command
# failed, 2 refused or bad usage. docs/DEPLOY.md tells the whole procedure.
# The .deb (tools/package.sh) installs it as /usr/sbin/linkem-wire.
set -uo pipefail

state_dir=${LINKEM_WIRE_STATE_DIR:-/run/linkem/wire}
netns_id=$(stat -L -c %i /proc/self/ns/net 2>/dev/null || echo unknown)
# ethtool -k names of the offloads turned off, in the order they are set.
offloads=(generic-receive-offload large-receive-offload rx-gro-hw rx-gro-list
    generic-segmentation-offload tcp-segmentation-offload rx-vlan-offload)

say() { printf 'wire: %s\n' "$*"; }
warn() { printf 'wire: warning: %s\n' "$*" >&2; }
refuse() { printf 'wire: refused: %s\n' "$*" >&2; exit 2; }
usage() {
    sed -n '5,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

state_file() { echo "$state_dir/$netns_id-$1.state"; }

# Prints why IFACE must not be put in the wire, or nothing.
unsafe_reason() {
    local iface=$1 line dev client
    if ! ip link show dev "$iface" >/dev/null 2>&1; then
        echo "there is no interface $iface in this network namespace (a NIC bound to vfio-pci has none: use its PCI address as the port's device, docs/DEPLOY.md)"
        return
    fi
    line=$(ip -o link show dev "$iface")
    case $line in *LOOPBACK*) echo "$iface is the loopback interface"; return ;; esac
    if [[ $line =~ \ master\ ([^ ]+) ]]; then
        echo "$iface is enslaved to ${BASH_REMATCH[1]} (a bridge or bond): the kernel forwards its traffic too; remove it from ${BASH_REMATCH[1]} first"
        return
    fi
    for dev in $( (ip -4 route show default; ip -6 route show default) 2>/dev/null |
        sed -n 's/.* dev \([^ ]*\).*/\1/p'); do
        if [ "$dev" = "$iface" ]; then
            echo "$iface carries the default route: putting linkem on it would cut this host off"
            return
        fi
    done
    client=${SSH_CONNECTION:-}
    client=${client%% *}
    if [ -n "$client" ]; then
        dev=$(ip route get "$client" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1)
        if [ "$dev" = "$iface" ]; then
            echo "$iface carries this SSH session (from $client): putting linkem on it would cut it"
            return
        fi
    fi
    line=$( (ip -o -4 addr show dev "$iface"; ip -o -6 addr show dev "$iface" scope global) 2>/dev/null |
        awk '{print $4}' | paste -sd ' ' -)
    if [ -n "$line" ]; then
        echo "$iface has the address(es) $line that this host uses; remove them (ip addr flush dev $iface) or choose another interface"
        return
    fi
}

flag_on() { ip -o link show dev "$1" | grep -q "[<,]$2[,>]"; }  # flag_on IFACE FLAG
feature() { ethtool -k "$1" 2>/dev/null | sed -n "s/^$2: \([a-z]*\).*/\1/p"; }  # on, off or nothing
feature_fixed() { ethtool -k "$1" 2>/dev/null | grep -q "^$2: [a-z]* \[fixed\]"; }
ipv6_disabled() { cat "/proc/sys/net/ipv6/conf/$1/disable_ipv6" 2>/dev/null || echo 1; }
mtu() { cat "/sys/class/net/$1/mtu"; }

# Prints "KEY VALUE" for each thing up would change on IFACE: its value now.
planned_changes() {
    local iface=$1 name value
    flag_on "$iface" UP || echo "link down"
    flag_on "$iface" PROMISC || echo "promisc off"
    [ "$(ipv6_disabled "$iface")" = 1 ] || echo "disable_ipv6 0"
    for name in "${offloads[@]}"; do
        value=$(feature "$iface" "$name")
        [ "$value" = on ] && ! feature_fixed "$iface" "$name" && echo "offload $name on"
    done
}

# Sets KEY on IFACE to the wire's value (up) or back to VALUE (down).
apply() {  # apply IFACE KEY VALUE
    case $2 in
        link) ip link set dev "$1" "$3" ;;
        promisc) ip link set dev "$1" promisc "$3" ;;
        disable_ipv6) sysctl -qw "net.ipv6.conf.$1.disable_ipv6=$3" ;;
        offload) local name=${3% *} value=${3#* }; ethtool -K "$1" "$name" "$value" ;;
        *) warn "unknown key '$2' in the state of $1"; return 1 ;;
    esac
}
wire_value() {  # the value `up` sets KEY to: wire_value KEY OLD
    case $1 in
        link) echo up ;; promisc) echo on ;; disable_ipv6) echo 1 ;;
        offload) echo "${2% *} off" ;;
    esac
}

warnings() {  # warnings IFACE_A IFACE_B
    local iface
    for iface in "$@"; do
        flag_on "$iface" UP && ! flag_on "$iface" LOWER_UP &&
            warn "$iface has no carrier (cable, peer or other end down): nothing will pass until it has"
        [ "$(mtu "$iface")" -gt 2000 ] &&
            warn "$iface's MTU is $(mtu "$iface"): linkem's packet buffers hold 2048 bytes and net_af_packet's frames about 2016, so larger frames do not cross (no jumbo frames)"
    done
    [ "$(mtu "$1")" = "$(mtu "$2")" ] ||
        warn "MTUs differ ($1: $(mtu "$1"), $2: $(mtu "$2")): frames larger than the smaller one are lost on its side"
}

needs_tools() {
    [ "$(id -u)" -eq 0 ] || refuse "run as root (it changes interface settings)"
    local tool
    for tool in ip ethtool sysctl; do command -v "$tool" >/dev/null || refuse "needs $tool (apt-get install iproute2 ethtool procps)"; done
}

# The interfaces a configuration's af_packet ports use, one per line.
config_ifaces() {
    grep -o 'net_af_packet[0-9]*,[^"}]*' "$1" | grep -o 'iface=[^,"} ]*' | cut -d= -f2
}

write_config() {  # write_config FILE IFACE_A IFACE_B
    mkdir -p "$(dirname "$1")"
    cat > "$1" <<YAML
# linkem between $2 and $3, written by tools/wire.sh up on $(date -u +%Y-%m-%dT%H:%MZ).
# Change the links (docs/CONFIG.md), then run: linkem $1
# Afterwards, tools/wire.sh down $2 $3 restores the interfaces.
ports:
  a: { device: "net_af_packet0,iface=$2" }
  b: { device: "net_af_packet1,iface=$3" }
links:
  - { name: a-to-b, from: a, to: b, delay: 10ms }
  - { name: b-to-a, from: b, to: a, delay: 10ms }
YAML
}

check_config() {  # check_config FILE IFACE_A IFACE_B
    local found iface linkem
    found=$(config_ifaces "$1" | sort -u | paste -sd ' ' -)
    for iface in "$2" "$3"; do
        config_ifaces "$1" | grep -qxF "$iface" ||
            refuse "$1 has no net_af_packet port on $iface (its af_packet interfaces: ${found:-none})"
    done
    for iface in $found; do
        [ "$iface" = "$2" ] || [ "$iface" = "$3" ] ||
            refuse "$1 puts a net_af_packet port on $iface, which is neither $2 nor $3"
    done
    linkem=${LINKEM_BIN:-$(command -v linkem || true)}
    [ -x "${linkem:-}" ] || linkem=$(dirname "${BASH_SOURCE[0]}")/../build/app/linkem
    if [ -x "$linkem" ]; then
        "$linkem" "$1" --check > /dev/null || refuse "linkem --check refused $1 (its messages above)"
    fi
}

cmd_check() {
    [ $# -eq 2 ] || usage
    needs_tools
    [ "$1" != "$2" ] || refuse "both sides are $1: give two interfaces"
    local iface reason status=0 changes
    for iface in "$@"; do
        reason=$(unsafe_reason "$iface") || reason="could not check $iface (the messages above)"
        if [ -n "$reason" ]; then
            printf 'wire: refused: %s\n' "$reason" >&2
            status=2
            continue
        fi
        changes=$(planned_changes "$iface" | sed 's/ on$//; s/^link down$/bring the link up/; s/^promisc off$/promiscuous mode on/;
            s/^disable_ipv6 0$/IPv6 off/; s/^offload \(.*\)/\1 off/' | paste -sd ',' - | sed 's/,/, /g')
        say "$iface: ${changes:-nothing to change}"
    done
    [ $status -eq 0 ] && warnings "$@"
    return $status
}

cmd_up() {
    [ $# -eq 2 ] || [ $# -eq 3 ] || usage
    needs_tools
    local a=$1 b=$2 config=${3:-} iface reason key value file record
    [ "$a" != "$b" ] || refuse "both sides are $a: give two interfaces"
    for iface in "$a" "$b"; do
        # A check that fails is a refusal, never a pass.
        reason=$(unsafe_reason "$iface") || reason="could not check $iface (the messages above)"
        [ -z "$reason" ] || refuse "$reason"
    done
    if [ -n "$config" ] && [ -e "$config" ]; then check_config "$config" "$a" "$b"; fi
    mkdir -p "$state_dir" || exit 1
    for iface in "$a" "$b"; do
        file=$(state_file "$iface")
        if [ ! -e "$file" ]; then
            { echo "# $iface before tools/wire.sh up ($(date -u +%Y-%m-%dT%H:%M:%SZ)); tools/wire.sh down restores it"
              echo "iface $iface"; } > "$file"
        fi
        while read -r key value; do
            # Keep the first record of a key: `down` returns to the state before the first `up`.
            record=$key; [ "$key" != offload ] || record="$key ${value% *}"
            grep -q "^$record\( \|$\)" "$file" || echo "$key $value" >> "$file"
            apply "$iface" "$key" "$(wire_value "$key" "$value")" || { warn "could not change $key on $iface"; exit 1; }
        done < <(planned_changes "$iface")
        while read -r key value; do
            warn "$iface: $key is still $value after up (the driver keeps it)"
        done < <(planned_changes "$iface")
        say "$iface: ready (previous state in $file)"
    done
    warnings "$a" "$b"
    if [ -z "$config" ]; then config=$state_dir/$netns_id-$a-$b.yaml; fi
    if [ ! -e "$config" ]; then
        write_config "$config" "$a" "$b" || exit 1
        say "configuration written: $config"
    else
        say "configuration checked: $config"
    fi
    say "run: linkem $config"
}

cmd_down() {
    local file iface key value lock failed status=0 files=()
    needs_tools
    if [ $# -eq 0 ]; then
        for file in "$state_dir/$netns_id-"*.state; do [ -e "$file" ] && files+=("$file"); done
        [ ${#files[@]} -gt 0 ] || { say "nothing recorded in $state_dir: nothing to restore"; return 0; }
    else
        for iface in "$@"; do
            file=$(state_file "$iface")
            [ -e "$file" ] || { warn "nothing recorded for $iface (in $state_dir)"; status=2; continue; }
            files+=("$file")
        done
    fi
    for file in "${files[@]}"; do
        iface=$(sed -n 's/^iface //p' "$file")
        if ! ip link show dev "$iface" >/dev/null 2>&1; then
            warn "$iface is gone; its record $file is removed"
            rm -f "$file"
            continue
        fi
        lock=/run/linkem/iface-$netns_id-$iface.lock
        if [ -e "$lock" ] && command -v flock >/dev/null && ! flock -n "$lock" true 2>/dev/null; then
            warn "a linkem still runs on $iface ($(cat "$lock" 2>/dev/null | head -n 1)); stop it first"
            status=1
            continue
        fi
        # Restore in reverse order: offloads first, the link state last.
        failed=0
        while read -r key value; do
            apply "$iface" "$key" "$value" || failed=1
        done < <(grep -v '^#\|^iface ' "$file" | tac)
        if [ $failed -eq 0 ]; then
            rm -f "$file"
            say "$iface: restored"
        else
            warn "$iface: not all of $file could be restored; the record stays"
            status=1
        fi
    done
    return $status
}

case ${1:-} in
    check) shift; cmd_check "$@" ;;
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down "$@" ;;
    *) usage ;;
esac
