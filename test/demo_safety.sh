#!/usr/bin/env bash
# [demo] tools/demo.sh is safe to run and to interrupt:
#   - names in use are refused: with a namespace lkm-ns-a that is not the
#     demo's (a decoy, or a real one), the demo on its default names exits 2
#     naming it, and the namespace survives;
#   - the first Ctrl-C (SIGINT to its process group), sent while an iperf3
#     client runs that ignores SIGINT and never ends, ends the demo (exit
#     130) within 10 s, with the table of what was measured and no Python
#     traceback, leaving none of its namespaces, interfaces or processes;
#   - a failing step (an iperf3 that fails, first on PATH) still prints the
#     table: ping measured, each iperf3 row (the steered one too)
#     "failed: reason", exit 1.
# The demo runs with NETNS_PREFIX=lkmd and LINKEM_SETUP_NO_BUILD=1. Its
# processes are recognised by an environment variable they all inherit.
# Prints "[linkem-case] PASS|FAIL|SKIP name" per check (tools/test_summary.py
# counts them); without root or a tool the demo needs, one SKIP line.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo=$top/tools/demo.sh
export LINKEM_BUILD_DIR=${LINKEM_BUILD_DIR:-$top/build}
export LINKEM_SETUP_NO_BUILD=1
NETNS_PREFIX=lkmd
source "$top/tools/netns.sh"

missing=$(netns_missing)
if [ -n "$missing" ]; then
    echo "[linkem-case] SKIP demo safety (needs $missing)"
    echo "[linkem-skip] demo safety: needs $missing"
    exit 0
fi

work=$(mktemp -d)
tag=linkem-demo-safety-$$-$RANDOM
decoy=lkm-ns-a
decoy_created=
if ! ip netns list | awk '{print $1}' | grep -qxF "$decoy"; then
    ip netns add "$decoy" && decoy_created=1
fi

own_processes() {  # pids of processes the demo runs started (they carry $tag)
    grep -lzxF "LINKEM_DEMO_SAFETY_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}
leftovers() {  # PREFIX: namespaces, interfaces and processes of a demo run still there
    local i
    ip netns list | awk '{print $1}' | grep -E "^$1-" | sed 's/^/namespace /'
    ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$1-" | sed 's/^/interface /'
    for i in $(seq 1 20); do [ -z "$(own_processes)" ] && break; sleep 0.1; done
    own_processes | sed 's/^/process /'
}
cleanup() {
    own_processes | xargs -r kill -KILL 2>/dev/null
    ip netns del lkmd-ns-a 2>/dev/null; ip netns del lkmd-ns-b 2>/dev/null
    ip link del lkmd-a 2>/dev/null; ip link del lkmd-b 2>/dev/null
    [ -z "$decoy_created" ] || ip netns del "$decoy" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
verdict() {  # verdict NAME CONDITION-EXIT-STATUS DETAIL
    if [ "$2" -eq 0 ]; then
        echo "[linkem-case] PASS $1 ($3)"
    else
        echo "[linkem-case] FAIL $1 ($3)"
        failures=$((failures + 1))
    fi
}

# As from a terminal: the demo leads its own process group, which a Ctrl-C
# signals as a whole, and its SIGINT is at the default (a background job of
# a script starts with SIGINT ignored, and bash cannot trap a signal ignored
# on entry).
start_demo() {  # start_demo OUTPUT [VAR=VALUE...]: the demo in the background; sets demo_pid
    local output=$1
    shift
    python3 -c 'import os, signal, sys; os.setpgid(0, 0); signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
        env LINKEM_DEMO_SAFETY_TAG="$tag" "$@" "$demo" > "$output" 2>&1 &
    demo_pid=$!
}
wait_demo() {  # wait_demo SECONDS: waits for the demo to end; its status, or 124 (then killed)
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        kill -0 "$demo_pid" 2>/dev/null || { wait "$demo_pid"; return; }
        sleep 0.1
    done
    kill -KILL "$demo_pid" 2>/dev/null; wait "$demo_pid" 2>/dev/null
    return 124
}
show() {  # show OUTPUT: the demo's output, indented
    echo "--- $1"; sed 's/^/    /' "$1"
}
decoy_there() { ip netns list | awk '{print $1}' | grep -qxF "$decoy"; }
no_traceback() { ! grep -q 'Traceback' "$1"; }

# 1. Default names, one of them in use: refused, the decoy untouched.
start_demo "$work/refused.txt" NETNS_PREFIX=
wait_demo 60; status=$?
show "$work/refused.txt"
[ "$status" -eq 2 ] && grep -q "namespace $decoy already exists" "$work/refused.txt"
verdict "a namespace in use is refused (exit 2, named)" $? "exit $status"
decoy_there
verdict "a namespace the demo did not create survives it" $? "$decoy"

# 2. The first Ctrl-C while iperf3 runs, with a client that does not end on
#    it (as in the report of a client hanging 70 s): the server is iperf3,
#    the client ignores SIGINT and never finishes on its own.
mkdir -p "$work/hang"
real_iperf3=$(command -v iperf3)
cat > "$work/hang/iperf3" <<SH
#!/bin/sh
case " \$* " in
    *" -c "*) trap '' INT; sleep 600 ;;
    *) exec "$real_iperf3" "\$@" ;;
esac
SH
chmod +x "$work/hang/iperf3"
start_demo "$work/interrupted.txt" NETNS_PREFIX=lkmd PATH="$work/hang:$PATH"
for i in $(seq 1 300); do grep -q '^== iperf3' "$work/interrupted.txt" && break; sleep 0.1; done
reached=$(grep -c '^== iperf3' "$work/interrupted.txt")
sleep 1
start=$(date +%s.%N)
kill -INT -- "-$demo_pid"  # a Ctrl-C: to the demo's process group
wait_demo 30; status=$?
seconds=$(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $start}")
show "$work/interrupted.txt"
left=$(leftovers lkmd)
[ "$reached" -eq 1 ]
verdict "the demo reached iperf3 before the Ctrl-C" $? "$reached"
[ "$status" -eq 130 ] && awk "BEGIN {exit !($seconds <= 10)}"
verdict "the first Ctrl-C ends the demo within 10 s (exit 130)" $? "exit $status after $seconds s"
[ -z "$left" ]
verdict "an interrupted demo leaves no namespace, interface or process" $? "${left:-nothing left}"
no_traceback "$work/interrupted.txt" && grep -q '^== configured vs measured' "$work/interrupted.txt" &&
    grep -qE '^ping RTT .* [0-9.]+ ms$' "$work/interrupted.txt"
verdict "an interrupted demo prints what it measured, no traceback" $? "$(grep '^ping RTT' "$work/interrupted.txt")"
decoy_there
verdict "the decoy survives an interrupted demo" $? "$decoy"

# 3. A step fails: an iperf3 first on PATH that fails at once.
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "iperf3: error - broken on purpose by test/demo_safety.sh" >&2\nexit 1\n' > "$work/bin/iperf3"
chmod +x "$work/bin/iperf3"
start_demo "$work/failed.txt" NETNS_PREFIX=lkmd PATH="$work/bin:$PATH"
wait_demo 60; status=$?
show "$work/failed.txt"
left=$(leftovers lkmd)
[ "$status" -eq 1 ] && no_traceback "$work/failed.txt" &&
    grep -qE '^ping RTT .* [0-9.]+ ms$' "$work/failed.txt" &&
    grep -qE '^TCP goodput .* failed: .*broken on purpose' "$work/failed.txt" &&
    grep -qE '^UDP payload rate .* failed: .*broken on purpose' "$work/failed.txt" &&
    grep -qE '^steered TCP, s 1-5 .* failed: iperf3 client' "$work/failed.txt"
verdict "a failed step still prints the table (ping measured, iperf3 failed: reason), exit 1" $? "exit $status"
[ -z "$left" ]
verdict "a demo with a failed step leaves no namespace, interface or process" $? "${left:-nothing left}"

echo "demo safety: $failures failed check(s)"
[ "$failures" -eq 0 ]
