#!/usr/bin/env python3
"""linkem-sim's queue beside ns-3's queue discs on the same arrivals.

    tools/aqm_compare.py [--disc pfifo] [--limit 1000] [--seconds 60] [--seed 1]

For each scenario, writes one arrival sequence (time, size, flow) as a
capture for linkem-sim and as CSV for tools/ns3/queue_reference (built here
from tools/ns3/queue_reference.cc against Debian's libns3-dev, which
tools/setup.sh does not install: `apt-get install libns3-dev`), runs both
through a 10 Mbit/s link, and prints per scenario: packets, drops, CE marks,
the queueing delay (transmission start minus arrival) p50/p99, and how many
packets got a different fate on the two sides. Scenarios:

  mix:    12 Mbit/s of 1500-byte frames (one flow) and four Poisson flows of
          500-byte frames at 0.5 Mbit/s each (the one-data-path issue's case);
  onoff:  six flows, each on for 200 ms at 8 Mbit/s (500-1500 bytes) and
          off for 800 ms, at random phases (9.6 Mbit/s on average);
  heavy:  one flow at 15 Mbit/s of 1500-byte frames among ten Poisson flows of
          200-byte frames at 100 kbit/s each.

Fixed seeds (--seed for the arrivals, --linkem-seed for linkem-sim's
config, --ns3-run for ns-3's RngRun). With --check it is a test: it exits 1
unless every packet has the same fate and the same transmission start on
both sides, and 77 (skipped) when ns-3 cannot be built. `pfifo` is compared with linkem's tail drop. For
codel, pie and red, `--linkem` also runs linkem-sim with
`queue: {discipline: DISC, limit: N packets}` (it needs the plugin
lkm_queue_DISC.so and a data path that carries disciplines: issue 19; until
then linkem-sim refuses the configuration and this exits 1 saying so);
without it they print ns-3's figures alone.
"""
import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RATE_BPS = 10_000_000
CHECK = False


def poisson(rng, rate_bps, size, flow, seconds, sizes=None):
    t, out = rng.expovariate(rate_bps / (8 * size)), []
    while t < seconds:
        out.append((int(t * 1e9), sizes() if sizes else size, flow))
        t += rng.expovariate(rate_bps / (8 * size))
    return out


def cbr(rate_bps, size, flow, seconds):
    gap_ns = int(8 * size * 1e9 / rate_bps)
    return [(t, size, flow) for t in range(0, int(seconds * 1e9), gap_ns)]


def scenario(name, seconds, rng):
    if name == "mix":
        arrivals = cbr(12e6, 1500, 0, seconds)
        for f in range(1, 5):
            arrivals += poisson(rng, 0.5e6, 500, f, seconds)
    elif name == "onoff":
        arrivals = []
        for f in range(6):
            phase = rng.uniform(0, 1.0)
            on = phase
            while on < seconds:
                t = on
                while t < min(on + 0.2, seconds):
                    size = rng.randint(500, 1500)
                    arrivals.append((int(t * 1e9), size, f))
                    t += 8 * size / 8e6
                on += 1.0
    elif name == "heavy":
        arrivals = cbr(15e6, 1500, 0, seconds)
        for f in range(1, 11):
            arrivals += poisson(rng, 0.1e6, 200, f, seconds)
    else:
        raise ValueError(name)
    arrivals.sort(key=lambda a: (a[0], a[2]))
    # The first arrival at 0: linkem-sim counts time from its input's first
    # packet, ns-3 from 0, and a discipline that truncates times (CoDel's
    # 1024 ns units) decides on the absolute values: both must see the same.
    first = arrivals[0][0] if arrivals else 0
    return [(i, t - first, size, flow) for i, (t, size, flow) in enumerate(arrivals)]


def frame(packet_id, size, flow):
    """Ethernet, IPv4, UDP from port 10000 + flow; the id in the payload; `size` bytes in all."""
    payload = struct.pack("!Q", packet_id).ljust(size - 42, b"\0")
    udp = struct.pack("!HHHH", 10000 + flow, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip


def write_pcap(path, arrivals):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # nanosecond pcap, Ethernet
        for packet_id, t, size, flow in arrivals:
            data = frame(packet_id, size, flow)
            f.write(struct.pack("<IIII", t // 1_000_000_000, t % 1_000_000_000, len(data), len(data)) + data)


def read_pcap(path):
    """(id, time_ns) of every frame."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    scale = 1 if magic == 0xA1B23C4D else 1000
    at, out = 24, []
    while at + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack("<IIII", data[at:at + 16])
        body = data[at + 16:at + 16 + caplen]
        out.append((struct.unpack("!Q", body[42:50])[0], sec * 1_000_000_000 + frac * scale))
        at += 16 + caplen
    return out


def tx_ns(size):
    return (size * 8 * 1_000_000_000 + RATE_BPS - 1) // RATE_BPS


def percentile(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def linkem_queue(disc, limit, params=""):
    """The link's queue: key for a disc: tail drop for pfifo, else the discipline (a queue plugin) and its parameters."""
    if disc == "pfifo":
        return f"{limit} packets"
    return f"{{discipline: {disc}, limit: {limit} packets{', ' + params if params else ''}}}"


def run_linkem(arrivals, limit, d, tree=ROOT, disc="pfifo", params="", seed=1):
    write_pcap(os.path.join(d, "in.pcap"), arrivals)
    cfg = os.path.join(d, "aqm.yaml")
    open(cfg, "w").write("ports:\n  a: {device: net_null0}\n  b: {device: net_null1}\n"
                         f"links:\n  - {{name: a-to-b, from: a, to: b, bandwidth: 10Mbit/s, queue: {linkem_queue(disc, limit, params)}}}\n"
                         f"seed: {seed}\n")
    out = os.path.join(d, "out.pcap")
    sim = os.environ.get("LINKEM_SIM_BIN") or os.path.join(tree, "build/app/linkem-sim")
    run = subprocess.run([sim, cfg, "--in", "a=" + os.path.join(d, "in.pcap"), "--out", "b=" + out],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"aqm_compare: linkem-sim failed:\n{run.stdout}{run.stderr}")
    size_of = {a[0]: a[2] for a in arrivals}
    # With no delay, a packet is released when its transmission ends.
    return {pid: ("sent", release - tx_ns(size_of[pid])) for pid, release in read_pcap(out)}


def linkem_flow_queue(flow, flows=1024):
    """The queue linkem's fq scheduler gives flow's frames (pipeline.cpp QueueChoice::of): FlowTable::hash of
    the 5-tuple key (flow_table.hpp FlowKey: addresses, ports, protocol, IP version), modulo the flows."""
    key = bytes([10, 0, 0, 1]).ljust(16, b"\0") + bytes([10, 0, 0, 2]).ljust(16, b"\0")
    key += struct.pack("<HHBB2x", 10000 + flow, 9, 17, 4)
    h, mask = 0x9E3779B97F4A7C15, (1 << 64) - 1
    for (w,) in struct.iter_unpack("<Q", key):
        h = ((h ^ w) * 0xBF58476D1CE4E5B9) & mask
        h ^= h >> 29
    return h % flows


def run_ns3(arrivals, disc, limit, d, binary, ns3_run=1):
    # fq_codel: the reference's flow hash is the flow column, so both sides put each flow in the same queue.
    queue = (lambda flow: linkem_flow_queue(flow)) if disc == "fq_codel" else (lambda flow: flow)
    csv = "".join(f"{i},{t},{size},{queue(flow)},0\n" for i, t, size, flow in arrivals)
    run = subprocess.run([binary, "--disc", disc, "--limit-packets", str(limit), "--rate-bps", str(RATE_BPS)],
                         input=csv, capture_output=True, text=True, env=dict(os.environ, NS_GLOBAL_VALUE=f"RngRun={ns3_run}"))
    if run.returncode != 0:
        sys.exit(f"aqm_compare: queue_reference failed:\n{run.stderr}")
    fates = {}
    for line in run.stdout.splitlines():
        pid, what, start = line.split(",")
        fates[int(pid)] = (what, int(start))
    return fates


def summary(arrivals, fates):
    arrival = {a[0]: a[1] for a in arrivals}
    sent = {pid: start for pid, (what, start) in fates.items() if what in ("sent", "mark")}
    waits = [(sent[pid] - arrival[pid]) / 1e6 for pid in sent]
    marks = sum(1 for what, _ in fates.values() if what == "mark")
    return len(arrivals) - len(sent), marks, percentile(waits, 0.5), percentile(waits, 0.99)


def build_reference(d):
    binary = os.path.join(d, "queue_reference")
    src = os.path.join(ROOT, "tools/ns3/queue_reference.cc")
    run = subprocess.run(["g++", "-O2", "-std=c++17", "-I/usr/include", "-o", binary, src,
                          "-lns3-traffic-control", "-lns3-network", "-lns3-core"], capture_output=True, text=True)
    if run.returncode != 0:
        print("aqm_compare: cannot build tools/ns3/queue_reference.cc (is libns3-dev installed? tools/setup.sh installs it):\n"
              + run.stderr[-2000:], file=sys.stderr)
        sys.exit(77 if CHECK else 1)  # 77: the test is skipped
    return binary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--disc", default="pfifo", choices=["pfifo", "codel", "pie", "red", "fq_codel"])
    ap.add_argument("--limit", type=int, default=1000, help="the queue limit in packets (waiting, not counting the one on the wire)")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenarios", default="mix,onoff,heavy")
    ap.add_argument("--linkem-seed", type=int, default=1,
                    help="linkem-sim's seed (its config's seed:, which seeds PIE's and RED's random draws); the arrivals keep --seed")
    ap.add_argument("--ns3-run", type=int, default=1, help="ns-3's RngRun (its random streams: PIE's and RED's draws)")
    ap.add_argument("--check", action="store_true", help="exit 1 unless linkem and ns-3 agree packet by packet")
    ap.add_argument("--linkem", action="store_true",
                    help="with --disc codel, pie, red or fq_codel: also run linkem-sim with queue: {discipline: DISC}")
    ap.add_argument("--params", default="",
                    help="the discipline's parameters for linkem, as YAML, e.g. 'arithmetic: linux, mtu: 1499B' (docs/QUEUES.md)")
    ap.add_argument("--tree", default=ROOT, help="the linkem source tree whose build/app/linkem-sim runs (default: this one)")
    a = ap.parse_args()
    global CHECK
    CHECK = a.check
    if a.check and a.disc != "pfifo":
        sys.exit("aqm_compare: --check needs a linkem side: --disc pfifo")
    disagreements = 0
    with tempfile.TemporaryDirectory() as d:
        binary = build_reference(d)
        print(f"10 Mbit/s, {a.disc}{' (linkem: ' + a.params + ')' if a.params else ''}, limit {a.limit} packets, "
              f"{a.seconds:g} s per scenario, seed {a.seed}{', linkem seed ' + str(a.linkem_seed) if a.linkem_seed != 1 else ''}"
              f"{', ns-3 RngRun ' + str(a.ns3_run) if a.ns3_run != 1 else ''}\n")
        print("| scenario | packets | side | drops | marks | queueing delay p50 | p99 | fates that differ |")
        print("|---|---|---|---|---|---|---|---|")
        for name in a.scenarios.split(","):
            arrivals = scenario(name, a.seconds, random.Random(a.seed))
            ns3 = run_ns3(arrivals, a.disc, a.limit, d, binary, a.ns3_run)
            sides = [("ns-3 " + a.disc, ns3)]
            if a.disc == "pfifo":
                sides.insert(0, ("linkem tail drop", run_linkem(arrivals, a.limit, d, a.tree)))
            elif a.linkem and a.disc in ("codel", "pie", "red", "fq_codel"):
                sides.insert(0, ("linkem " + a.disc, run_linkem(arrivals, a.limit, d, a.tree, a.disc, a.params, a.linkem_seed)))
            for side, fates in sides:
                drops, marks, p50, p99 = summary(arrivals, fates)
                differ = ""
                if side.startswith("linkem"):  # a fate or a transmission start that is not ns-3's
                    n = sum(1 for pid, *_ in arrivals if fates.get(pid, ("drop", 0)) != ns3.get(pid, ("drop", 0)))
                    disagreements += n
                    differ = str(n)
                print(f"| {name} | {len(arrivals)} | {side} | {drops} | {marks} | {p50:.1f} ms | {p99:.1f} ms | {differ} |", flush=True)
    if a.check:
        print(f"aqm_compare: {disagreements} packets with another fate or start than ns-3's")
        sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
