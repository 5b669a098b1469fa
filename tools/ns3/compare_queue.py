#!/usr/bin/env python3
"""Compare a linkem queue-discipline plugin with ns-3's queue disc on the
three arrival sequences of tools/aqm_compare.py (mix, onoff, heavy; 30 s,
10 Mbit/s, limit 1000 packets), packet by packet.

    python3 tools/ns3/compare_queue.py DISC [KEY VALUE]...
    python3 tools/ns3/compare_queue.py codel mtu 1499 arithmetic linux

DISC is codel, pie or red; KEY VALUE pairs are the plugin's parameters
(durations in ns, sizes in bytes). Builds tools/ns3/queue_reference.cc and
tools/ns3/queue_plugin_host.cc (needs libns3-dev) into a temporary
directory and runs the plugin from build/plugins/. Prints per scenario the
drops, the sojourn p50 and p99 of each side, and how many packets had the
same fate and transmission start on both.
"""
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import aqm_compare  # noqa: E402  (its scenarios)


def build(d):
    ns3 = ["-lns3-traffic-control", "-lns3-network", "-lns3-core"]
    ref, host = os.path.join(d, "queue_reference"), os.path.join(d, "queue_plugin_host")
    subprocess.run(["g++", "-O2", "-std=c++17", "-o", ref, os.path.join(ROOT, "tools/ns3/queue_reference.cc")] + ns3, check=True)
    subprocess.run(["g++", "-O2", "-std=c++17", "-I" + os.path.join(ROOT, "plugins/include"), "-o", host,
                    os.path.join(ROOT, "tools/ns3/queue_plugin_host.cc"), "-ldl"], check=True)
    return ref, host


def percentile(v, q):
    v = sorted(v)
    return v[int(q * (len(v) - 1))] if v else 0


def main():
    disc, extra = sys.argv[1], sys.argv[2:]
    plugin = os.path.join(ROOT, "build/plugins", f"lkm_queue_{disc}.so")
    with tempfile.TemporaryDirectory() as d:
        ref, host = build(d)
        for name in ["mix", "onoff", "heavy"]:
            arrivals = aqm_compare.scenario(name, 30, random.Random(1))
            csv = "".join(f"{i},{t},{s},{f},0\n" for i, t, s, f in arrivals)

            def run(cmd):
                out = subprocess.run(cmd, input=csv, capture_output=True, text=True, check=True).stdout
                return {int(a): (b, int(c)) for a, b, c in (line.split(",") for line in out.splitlines())}

            ns3 = run([ref, "--disc", disc, "--limit-packets", "1000", "--rate-bps", "10000000"])
            lk = run([host, plugin, "10000000", "1000"] + extra)
            at = {a[0]: a[1] for a in arrivals}

            def summary(f):
                waits = [(s - at[i]) / 1e6 for i, (k, s) in f.items() if k != "drop"]
                return sum(1 for k, _ in f.values() if k == "drop"), percentile(waits, .5), percentile(waits, .99)

            same = sum(1 for i in at if ns3[i][0] == lk[i][0] and (ns3[i][0] == "drop" or ns3[i][1] == lk[i][1]))
            a, b = summary(ns3), summary(lk)
            print(f"{disc} {name}: {len(arrivals)} arrivals; ns-3 drops {a[0]}, p50 {a[1]:.2f} ms, p99 {a[2]:.2f} ms; "
                  f"linkem drops {b[0]}, p50 {b[1]:.2f} ms, p99 {b[2]:.2f} ms; same fate and start: {same}")


if __name__ == "__main__":
    main()
