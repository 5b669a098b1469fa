#!/usr/bin/env bash
# How faithful linkem is, measured from outside the process and inside it.
#
#   tools/fidelity.sh SCENARIO [--seed N] [--no-baseline] [--out DIR]
#   SCENARIO: constant, jitter, bernoulli, gilbert, rate, trace, perflow, internal, bufferbloat, or all (all but bufferbloat)
#
# Each scenario but `internal` and `bufferbloat` runs linkem between two network namespaces
# (veth + net_af_packet), sends a paced UDP probe stream (and, for rate and
# trace, a saturating stream), captures both ends with kernel timestamps,
# and prints a table: one-way delay against the model's for the same packets
# (linkem-sim on the capture of what entered linkem), loss with its 99%
# confidence interval and burst lengths, reordering, the achieved rate, and
# linkem's own figures; a baseline pass through dpdk-testpmd shows what the
# kernel path adds without emulation. Plots (PNG) go to build/fidelity/SCENARIO/.
# `perflow` makes the link a per-flow template (keyed by UDP destination port)
# and sends the probes and two saturating streams at once: per flow, its own
# instance in linkem's stats, its rate, delay and losses against linkem-sim on
# that flow's packets alone, and all flows together beside one link's rate.
# `internal` measures lateness at 1 Mpps on net_null ports beside the host's
# own floor (linkem-host-gaps). `bufferbloat` (about a minute, left out of
# `all`) runs TCP cubic (iperf3) and a ping through 10 Mbit/s and 20 ms each
# way, one linkem run per forward queue (tail drop, CoDel, FQ-CoDel), and
# prints the ping's RTT under load, the goodput and linkem's drops.
# Needs root; see docs/ARCHITECTURE.md "Fidelity".
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/tools/setup.sh" >/dev/null || { echo "fidelity: set-up failed (run tools/setup.sh)"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    echo "fidelity: needs root (DPDK's EAL and network namespaces)"
    exit 1
fi
if [ $# -lt 1 ]; then
    sed -n '4,5p' "$0" | sed 's/^# //'
    exit 2
fi
# Namespaces left by an interrupted run go first; so do they on exit.
cleanup() { (NETNS_PREFIX=lkf; source "$top/tools/netns.sh"; netns_clean_up) 2>/dev/null; }
cleanup
trap cleanup EXIT
trap 'echo; echo "fidelity: interrupted"; exit 130' INT TERM
# The Debian interpreter: python3-matplotlib (tools/setup.sh) belongs to it.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" "$top/tools/fidelity.py" run "$@"
