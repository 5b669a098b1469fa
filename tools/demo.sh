#!/usr/bin/env bash
# The main job on an embedded default: one of the README's two commands.
#
# Creates two network namespaces, joins each to linkem through a veth pair
# bound with net_af_packet, runs linkem with config/demo.yaml (50 Mbit/s and
# 20 ms each way), pings and runs iperf3 from one namespace to the other
# through it, steers the running linkem with linkemctl (the a-to-b bandwidth
# drops to 5 Mbit/s for 5 s under TCP, iperf3's goodput printed per second),
# prints what was configured beside what was measured (or "failed: reason"
# for a step that failed), then linkem's own summary. Needs root.
#
# Names: NETNS_PREFIX (default lkm, 1 to 10 of [A-Za-z0-9_-]) names the
# namespaces PREFIX-ns-a/b and the interfaces PREFIX-a/b; linkem runs a copy
# of config/demo.yaml whose interfaces are renamed to match. A name that
# already exists is refused, never reused or deleted.
# Clean-up: every child runs in its own process group (setsid), iperf3 under
# timeout; on exit, on the first Ctrl-C and on SIGTERM every child is
# stopped and exactly the namespaces and interfaces this run created are
# deleted. Exit status: 0 all measured, 1 a step failed, 2 a bad
# NETNS_PREFIX or a name in use, 130 interrupted.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LINKEM_BUILD_DIR:-$top/build}
"$top/tools/setup.sh" || exit 1

NETNS_PREFIX=${NETNS_PREFIX:-lkm}
if ! [[ $NETNS_PREFIX =~ ^[A-Za-z0-9_-]{1,10}$ ]]; then
    echo "demo: NETNS_PREFIX='$NETNS_PREFIX' must be 1 to 10 letters, digits, '-' or '_'" \
        "(interface names PREFIX-a-ns have at most 15 characters)" >&2
    exit 2
fi
source "$top/tools/netns.sh"
missing=$(netns_missing)
if [ -n "$missing" ]; then
    echo "demo: needs $missing; run it as root on a machine with network namespaces"
    exit 1
fi

work=$(mktemp -d)
child_groups=()   # each child's pid, which is also its process group (setsid)
linkem_pid=
linkem_status=
rtt="not run" tcp="not run" udp="not run"
steered=("not run" "not run" "not run")  # TCP goodput at 50, 5 and 50 Mbit/s
instance=demo-$NETNS_PREFIX  # linkem --name: linkemctl addresses this run only

# spawn CMD...: runs CMD in the background in a process group of its own
# (so a Ctrl-C reaches only this script, which stops it); sets $spawned.
spawn() {
    setsid "$@" &
    spawned=$!
    child_groups+=("$spawned")
}

gone() {  # gone PID: the process has ended (or is a zombie)
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -z "$state" ] || [ "$state" = Z ]
}

# stop PID SIGNAL SECONDS: sends SIGNAL, waits up to SECONDS for the process
# to end, then kills its whole process group; returns its exit status.
stop() {
    local i
    kill -"$2" "$1" 2>/dev/null
    for ((i = 0; i < $3 * 10; i++)); do gone "$1" && break; sleep 0.1; done
    kill -KILL -- "-$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

stop_children() {  # linkem first with SIGINT (it prints its summary), then every group
    local group
    if [ -n "$linkem_pid" ]; then
        stop "$linkem_pid" INT 5; linkem_status=$?; linkem_pid=
    fi
    for group in "${child_groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null; done
    for group in "${child_groups[@]}"; do wait "$group" 2>/dev/null; done
    child_groups=()
}

udp_expected=$(( 50000000 * 1400 / (1400 + 8 + 20 + 14 + 24) ))
print_results() {
    echo
    echo "== configured vs measured"
    printf '%-36s %-22s %s\n' "" "configured" "measured"
    printf '%-36s %-22s %s\n' "ping RTT (2 x one-way delay)" "40 ms" "$rtt"
    printf '%-36s %-22s %s\n' "UDP payload rate (link 50 Mbit/s)" \
        "$(awk "BEGIN {printf \"%.1f Mbit/s\", $udp_expected / 1e6}")" "$udp"
    printf '%-36s %-22s %s\n' "TCP goodput (link 50 Mbit/s)" "below 47.7 Mbit/s" "$tcp"
    printf '%-36s %-22s %s\n' "steered TCP, s 1-5 (50 Mbit/s)" "below 47.7 Mbit/s" "${steered[0]}"
    printf '%-36s %-22s %s\n' "steered TCP, s 5-10 (set 5 Mbit/s)" "below 4.8 Mbit/s" "${steered[1]}"
    printf '%-36s %-22s %s\n' "steered TCP, s 12-15 (set 50 Mbit/s)" "below 47.7 Mbit/s" "${steered[2]}"
    if [ -s "$work/linkem.log" ] && [ -n "$linkem_status" ]; then
        echo
        echo "== linkem's summary (exit status $linkem_status)"
        sed -n '/^linkem: ran/,$p' "$work/linkem.log"
    fi
}

cleaned_up=
clean_up() {  # once: stop every child, delete what this run created
    [ -n "$cleaned_up" ] && return
    cleaned_up=1
    stop_children
    netns_remove_created
    rm -rf "$work"
}
on_signal() {
    trap '' INT TERM  # a second Ctrl-C does not cut the clean-up short
    echo
    echo "demo: interrupted; stopping everything and cleaning up"
    stop_children
    [ "$rtt" != "not run" ] || rtt="interrupted"
    [ "$tcp" != "not run" ] || tcp="interrupted"
    [ "$udp" != "not run" ] || udp="interrupted"
    [ "${steered[0]}" != "not run" ] || steered=(interrupted interrupted interrupted)
    print_results
    clean_up
    exit 130
}
trap clean_up EXIT
trap on_signal INT TERM

# The demo's configuration with this run's interface names.
config=$work/demo.yaml
sed -e "s/iface=lkm-a\"/iface=$if_a\"/" -e "s/iface=lkm-b\"/iface=$if_b\"/" "$top/config/demo.yaml" > "$config"
if ! grep -q "iface=$if_a\"" "$config" || ! grep -q "iface=$if_b\"" "$config"; then
    echo "demo: config/demo.yaml no longer names its interfaces iface=lkm-a and iface=lkm-b" >&2
    exit 1
fi

echo "== two namespaces: $ns_a ($ip_a) <-> linkem <-> $ns_b ($ip_b)"
if ! netns_create 2> "$work/netns.err"; then
    echo "demo: cannot create the namespaces: $(cat "$work/netns.err")" >&2
    grep -q "already exists" "$work/netns.err" && exit 2
    exit 1
fi
spawn "$build_dir/app/linkem" "$config" --name "$instance" --stats-interval 0 --stats-json "$work/stats.json" > "$work/linkem.log" 2>&1
linkem_pid=$spawned
if ! netns_wait_running "$work/linkem.log" "$linkem_pid"; then
    echo "demo: linkem did not start:"; cat "$work/linkem.log"; exit 1
fi
grep '^linkem: ' "$work/linkem.log"

run() {  # run OUTPUT CMD...: CMD as a child (interruptible), its output to OUTPUT; its status
    local output=$1
    shift
    spawn "$@" > "$output" 2>&1
    wait "$spawned"
}

echo; echo "== ping $ip_b from $ns_a (20 pings)"
run "$work/arp.txt" ip netns exec "$ns_a" ping -c 1 -W 2 "$ip_b"  # resolve ARP first
run "$work/ping.txt" ip netns exec "$ns_a" ping -c 20 -i 0.1 -w 10 "$ip_b"
tail -n 2 "$work/ping.txt"
rtt=$(awk -F/ '/^rtt/ {print $5 " ms"}' "$work/ping.txt")
[ -n "$rtt" ] || rtt="failed: $(grep -m1 'packet loss' "$work/ping.txt" || tail -n 1 "$work/ping.txt")"

# Prints the bit/s the server received, or "failed: reason".
report_rate() {  # report_rate SERVER-JSON
    python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1], errors="replace").read()
report = None
try:
    report = json.loads(text)
    print(int(report["end"]["sum_received"]["bits_per_second"]))
except (ValueError, KeyError, TypeError, AttributeError):
    reason = report.get("error") if isinstance(report, dict) else None
    lines = [l for l in text.splitlines() if l.strip()]
    print("failed: iperf3 server: " + (reason or (lines[-1][:200] if lines else "no report")))
PY
}

iperf() {  # iperf NAME SECONDS ARGS...: sets the variable NAME to the rate or "failed: reason"
    local name=$1 seconds=$2 rate status
    shift 2
    spawn timeout $((seconds + 15)) ip netns exec "$ns_b" iperf3 -s -1 -J > "$work/$name-server.json" 2>&1
    local server=$spawned
    sleep 0.5
    run "$work/$name-client.txt" timeout $((seconds + 10)) ip netns exec "$ns_a" iperf3 -c "$ip_b" -t "$seconds" "$@"
    status=$?
    if [ "$status" -eq 124 ]; then
        rate="failed: the iperf3 client did not finish within $((seconds + 10)) s"
    elif [ "$status" -ne 0 ]; then
        rate="failed: iperf3 client (exit $status): $(grep -v '^\s*$' "$work/$name-client.txt" | tail -n 1 | cut -c1-200)"
    fi
    if [ "$status" -ne 0 ]; then stop "$server" TERM 1; else wait "$server"; fi
    if [ "$status" -eq 0 ]; then
        rate=$(report_rate "$work/$name-server.json")
        [[ $rate == failed:* ]] || rate=$(awk "BEGIN {printf \"%.1f Mbit/s\", $rate / 1e6}")
    fi
    printf -v "$name" '%s' "$rate"
    echo "$name: $rate"
}
echo; echo "== iperf3: TCP for 5 s, then UDP at 80 Mbit/s (1400-byte datagrams) for 5 s"
iperf tcp 5
iperf udp 5 -u -b 80M -l 1400

# Steering: TCP for 15 s; at 5 s linkemctl lowers a-to-b to 5 Mbit/s, at 10 s
# it raises it back to 50 Mbit/s. Prints iperf3's goodput per second and sets
# steered[] to the mean goodput of seconds 1-5, 5-10 and 12-15, or "failed:
# reason". The low phase is taken whole: the step down overflows the queue,
# and data held at the receiver until its losses are repaired arrives in the
# next seconds, so one second of it can exceed the link's rate; over the
# phase the receiver gets what the link sent. The last phase leaves out the
# two seconds in which TCP repairs those losses at the low phase's RTT.
steer_report() {  # steer_report SERVER-JSON: a line per second, then "PHASES a b c" or "failed: reason"
    python3 - "$1" <<'PY'
import json, sys
try:
    intervals = json.load(open(sys.argv[1], errors="replace"))["intervals"]
    per_second = [(i["sum"]["start"], i["sum"]["end"], i["sum"]["bits_per_second"]) for i in intervals]
except (ValueError, KeyError, TypeError) as e:
    sys.exit(print(f"failed: iperf3 server report: {e}"))
for start, end, bps in per_second:
    print(f"  {start:4.1f}-{end:4.1f} s  {bps / 1e6:6.1f} Mbit/s")
def phase(first, last):  # seconds first..last (1-based), whole intervals only
    rates = [bps for start, end, bps in per_second if start >= first - 1 - 0.05 and end <= last + 0.05 and end - start > 0.5]
    return f"{sum(rates) / len(rates) / 1e6:.1f}" if rates else "none"
print("PHASES", phase(2, 5), phase(6, 10), phase(13, 15))
PY
}
steer() {
    local server client set_down set_up client_status phases
    spawn timeout 35 ip netns exec "$ns_b" iperf3 -s -1 -J > "$work/steer-server.json" 2>&1
    server=$spawned
    sleep 0.5
    spawn timeout 30 ip netns exec "$ns_a" iperf3 -c "$ip_b" -t 15 > "$work/steer-client.txt" 2>&1
    client=$spawned
    sleep 5
    "$build_dir/app/linkemctl" --name "$instance" set a-to-b bandwidth=5Mbit/s > "$work/steer-set.txt" 2>&1
    set_down=$?
    sleep 5
    "$build_dir/app/linkemctl" --name "$instance" set a-to-b bandwidth=50Mbit/s >> "$work/steer-set.txt" 2>&1
    set_up=$?
    wait "$client"; client_status=$?
    if [ "$client_status" -ne 0 ]; then stop "$server" TERM 1; else wait "$server"; fi
    sed 's/^/  linkemctl: /' "$work/steer-set.txt"
    if [ "$set_down" -ne 0 ] || [ "$set_up" -ne 0 ]; then
        steered=("failed: linkemctl set (exit $set_down, then $set_up)" "" "")
    elif [ "$client_status" -ne 0 ]; then
        steered=("failed: iperf3 client (exit $client_status): $(tail -n 1 "$work/steer-client.txt" | cut -c1-200)" "" "")
    else
        steer_report "$work/steer-server.json" > "$work/steer.txt"
        grep -v '^PHASES' "$work/steer.txt"
        phases=$(sed -n 's/^PHASES //p' "$work/steer.txt")
        if [ -n "$phases" ]; then
            read -r -a steered <<< "$phases"
            steered=("${steered[@]/%/ Mbit/s}")
            steered=("${steered[@]/#none Mbit\/s/failed: iperf3 reported no whole second in this phase}")
        else
            steered=("$(cat "$work/steer.txt")" "" "")
        fi
    fi
}
echo; echo "== steering: TCP for 15 s; at 5 s 'linkemctl set a-to-b bandwidth=5Mbit/s', at 10 s back to 50Mbit/s"
steer

stop "$linkem_pid" INT 10; linkem_status=$?; linkem_pid=
print_results
[ "$linkem_status" -eq 0 ] && [[ $rtt != failed* ]] && [[ $tcp != failed* ]] && [[ $udp != failed* ]] &&
    [[ ${steered[0]} != failed* ]] && [[ ${steered[1]} != failed* ]] && [[ ${steered[2]} != failed* ]] &&
    [[ ${steered[0]} != "not run" ]]
