#!/usr/bin/env python3
"""linkem's throughput benchmark (README, "Performance"). Run it with tools/bench.sh.

In one run, on net_null ports: dpdk-testpmd io forwarding on one core (one
way, and both ways) as the I/O ceiling, then linkem rows:
  (a) one direction, delay 10 ms, constant models only
  (b) one direction, bernoulli 1% loss and normal jitter (10 ms, 1 ms)
  (c) as (b) with 100 ms delay
  (d) both directions at once, as (b)
  (e) as (b) with 1500-byte frames
  (f) as (d) with two links per direction and ten rules
  (g) as (b), its source a replay port (topspeed, looping a trace of 1024
      64-byte frames) instead of net_null: besides the delivered rate, the
      replay stage's own admitted rate (its packets over its duration)
  (h) as (b) through a 10 Gbit/s link with the codel queue discipline
      (queue: {discipline: codel, limit: 1000 packets, target: 20us, interval:
      400us}: a 1000-packet queue holds 67 us at this rate): net_null's endless
      source overloads it, so every packet is held and decided at its
      transmission start (docs/QUEUES.md)
  (i) as (h) with fq_codel (queue: {discipline: fq_codel, limit: 1000
      packets, target: 20us, interval: 400us}): every frame's headers are
      parsed and hashed to its flow queue; net_null's frames (all zero bytes,
      not IP) are one flow, so this is the scheduler's cost over one queue
--rows b,h runs only those rows (testpmd's ceilings always run).
Each link's arena is sized for its delay (arena_packets below). Each row
runs --seconds, ignores the first --warmup seconds, takes the median of the
per-second delivered rate in the steady window, and repeats --repeats
times; the table shows the median of the repeats. It is a benchmark, not a
test: nothing here asserts a speed.

Then CPU use at low load (linkem's pacing: it sleeps when it has nothing to
do): linkem between two network namespaces (veth + net_af_packet, both
directions as (b)), as a share of one CPU from /proc/PID/stat over the
window:
  - idle without the idle back-off (pipeline: {idle_nap: 0}: every lcore
    polls once per sleep_threshold, 50 us, however long it has been idle);
  - idle, backed off (the defaults: after pipeline.idle_after, 1 s, without
    a packet, an lcore polls once per pipeline.idle_nap, 1 ms), measured
    from idle_after + 0.5 s after the start;
  - carrying 10 kpps of UDP (iperf3), with the defaults;
then the back-off's cost, on a link of a constant 10 ms each way (no
jitter, so the round trip's excess is linkem's lateness and the kernel's
path): ping's RTT minus 20 ms for a ping after 3 s idle (the request waits
for the next poll of the backed-off receiving lcore: up to one idle_nap)
beside pings 0.2 s apart (never backed off) and pings after 3 s idle with
idle_nap: 0 (what the idleness costs without the back-off), medians of
--idle-samples pings; and dpdk-testpmd idle on the same ports (it polls without sleeping).
--cpu-only skips the throughput rows.
"""
import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}


def testpmd(ports, seconds, warmup):
    """Median steady Tx-pps per port of dpdk-testpmd io forwarding on one core."""
    vdevs = [f"--vdev=net_null{i},size=64" for i in range(ports)]
    topology = "loop" if ports == 1 else "paired"
    cmd = ["timeout", "-s", "INT", str(seconds + 2), "dpdk-testpmd", "-l", "0,1", "--in-memory", "--no-pci",
           "--log-level=lib.eal:error"] + vdevs + ["--", "--forward-mode=io", f"--port-topology={topology}",
                                                   "--auto-start", "--stats-period=1", "--nb-cores=1"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    samples = [int(x) for x in re.findall(r"Tx-pps:\s+(\d+)", out)]
    # Stats print every port each second: group per second, keep the steady ones.
    per_second = [samples[i:i + ports] for i in range(0, len(samples) - ports + 1, ports)]
    steady = [sum(s) / ports for s in per_second[warmup + 1:] if len(s) == ports]
    return statistics.median(steady) / 1e6 if steady else 0.0


def linkem(config_text, seconds, warmup, directions=1):
    """Steady delivered Mpps per direction (all links' tx over the directions), and the run's JSON statistics."""
    mpps, samples, stats = linkem_samples(config_text, seconds, warmup, directions)
    return mpps, stats


def linkem_samples(config_text, seconds, warmup, directions=1):
    """As linkem(), with the per-second samples after the warm-up too: Mpps per
    direction in each status interval (the links' tx summed over the directions)."""
    with tempfile.TemporaryDirectory() as d:
        cfg, stats = os.path.join(d, "bench.yaml"), os.path.join(d, "stats.json")
        open(cfg, "w").write(config_text)
        run = subprocess.run([os.path.join(ROOT, "build/app/linkem"), cfg, "--duration", f"{seconds}s",
                              "--stats-interval", "1s", "--stats-json", stats], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"bench: linkem failed:\n{run.stdout}{run.stderr}")
        per_link = {}
        # Status lines: "2026-12-02T15:01:02.250Z a-to-b: rx 1.2 Mpps 614 Mbit/s | tx 1.2 Mpps ..." (the UTC time first).
        for m in re.finditer(r"^(?:\d{4}-\d\d-\d\dT[\d:.]+Z )?(\S+): rx [\d.]+ \S+ [\d.]+ \S+ \| tx ([\d.]+) (\w?)pps", run.stdout, re.M):
            per_link.setdefault(m.group(1), []).append(float(m.group(2)) * UNITS[m.group(3)])
        steady = [statistics.median(v[warmup:]) / 1e6 for v in per_link.values() if len(v) > warmup]
        seconds_seen = min((len(v) for v in per_link.values()), default=0)
        samples = [sum(v[t] for v in per_link.values()) / 1e6 / directions for t in range(warmup, seconds_seen)]
        return sum(steady) / directions, samples, json.load(open(stats))


# The arenas are sized for the delay (links[].arena counts 80-byte records):
# what arrives at SIZING_MPPS, or at SIZING_GBPS for long frames, in the delay
# plus five standard deviations of jitter. linkem's own default assumes a 10
# Gbit/s line (14.9 Mpps of 64-byte frames), which net_null, an endless
# source, outruns.
SIZING_MPPS, SIZING_GBPS = 40, 100


def arena_packets(delay_ms, jitter_ms, size=64):
    record_bytes = (16 + size + 15) // 16 * 16  # DelayArena::record_bytes
    pps = min(SIZING_MPPS * 1e6, SIZING_GBPS * 1e9 / (8 * (size + 24)))
    return int(pps * (delay_ms + 5 * jitter_ms) / 1e3 * record_bytes / 80)


def config(both_ways, delay_ms, models, size=64):
    loss = ", loss: 1%" if models else ""
    jitter = f"delay: {{plugin: normal, mean: {delay_ms}ms, stddev: 1ms}}" if models else f"delay: {delay_ms}ms"
    arena = f", arena: {arena_packets(delay_ms, 1 if models else 0, size)} packets"
    links = f"  - {{name: a-to-b, from: a, to: b, {jitter}{loss}{arena}}}\n"
    if both_ways:
        links += f"  - {{name: b-to-a, from: b, to: a, {jitter}{loss}{arena}}}\n"
    return (f"ports:\n  a: {{device: \"net_null0,size={size}\"}}\n  b: {{device: \"net_null1,size={size}\"}}\n"
            f"links:\n{links}pipeline: {{burst: 32, lcores: [0, 1]}}\nseed: 1\n")


def rules_config():
    """(f): both ways as (b), two links per direction, ten rules that net_null's
    all-zero (non-IP) frames never match: every packet is parsed and tried
    against every rule of its port before it takes the default link."""
    model = f"delay: {{plugin: normal, mean: 10ms, stddev: 1ms}}, loss: 1%, arena: {arena_packets(10, 1)} packets"
    links = "".join(f"  - {{name: {n}, from: {f}, to: {t}, {model}}}\n"
                    for n, f, t in [("a-to-b", "a", "b"), ("a-to-b-udp", "a", "b"), ("b-to-a", "b", "a"), ("b-to-a-udp", "b", "a")])
    rules = ""
    for k in range(5):
        for link in ("a-to-b-udp", "b-to-a-udp"):
            rules += f"  - {{match: {{proto: udp, dst_port: {5000 + 100 * k}-{5099 + 100 * k}, src: 10.{k}.0.0/16}}, link: {link}}}\n"
    return (f"ports:\n  a: {{device: \"net_null0,size=64\"}}\n  b: {{device: \"net_null1,size=64\"}}\n"
            f"links:\n{links}rules:\n{rules}pipeline: {{burst: 32, lcores: [0, 1]}}\nseed: 1\n")


def codel_config(discipline="codel"):
    """(h): as (b), the link 10 Gbit/s (Ethernet framing: 14.2 Mpps of 64-byte frames) with codel: held, decided at transmission start.
    (i): the same with fq_codel."""
    model = (f"bandwidth: 10Gbit/s, overhead: ethernet, "
             f"queue: {{discipline: {discipline}, limit: 1000 packets, target: 20us, interval: 400us}}, "
             f"delay: {{plugin: normal, mean: 10ms, stddev: 1ms}}, loss: 1%, arena: {arena_packets(10, 1)} packets")
    return (f"ports:\n  a: {{device: \"net_null0,size=64\"}}\n  b: {{device: \"net_null1,size=64\"}}\n"
            f"links:\n  - {{name: a-to-b, from: a, to: b, {model}}}\npipeline: {{burst: 32, lcores: [0, 1]}}\nseed: 1\n")


def write_trace64(path, records=1024):
    """A microsecond pcap of 64-byte frames 1 us apart (the replay source of row (g))."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(records):
            frame = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]) + struct.pack("<I", i) + bytes(46)
            f.write(struct.pack("<IIII", 1000, i, len(frame), len(frame)) + frame)


def replay_config(trace):
    """(g): as (b), from a replay port at topspeed (looping forever) to net_null."""
    model = f"delay: {{plugin: normal, mean: 10ms, stddev: 1ms}}, loss: 1%, arena: {arena_packets(10, 1)} packets"
    return (f"ports:\n  r: {{replay: {trace}, topspeed: true, loop: forever}}\n  b: {{device: \"net_null1,size=64\"}}\n"
            f"links:\n  - {{name: r-to-b, from: r, to: b, {model}}}\npipeline: {{burst: 32, lcores: [0, 1]}}\nseed: 1\n")


NETNS = os.path.join(ROOT, "tools/netns.sh")
NETNS_PREFIX = "lkmbench"


def netns(command):
    """Runs a function of tools/netns.sh; returns its stdout."""
    env = dict(os.environ, NETNS_PREFIX=NETNS_PREFIX)
    return subprocess.run(["bash", "-c", f"source '{NETNS}'; {command}"], env=env, capture_output=True, text=True).stdout.strip()


def cpu_seconds(pid):
    """User + system CPU seconds of a process, all its threads."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid, seconds):
    """The process's CPU use over `seconds`, in % of one CPU."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def in_ns(side, cmd):
    """Starts cmd in namespace a or b, output discarded."""
    return subprocess.Popen(["ip", "netns", "exec", f"{NETNS_PREFIX}-ns-{side}"] + cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(process, timeout_s):
    """SIGINT, then SIGKILL if it has not ended within timeout_s; always reaped."""
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(2)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def started(process, seconds):
    """Whether `process` is still running after `seconds` (a DPDK app that cannot start exits early)."""
    time.sleep(seconds)
    return process.poll() is None


def packets_into_linkem():
    """Packets that entered linkem at port a: what the veth's host end received from the namespace."""
    return int(open(f"/sys/class/net/{NETNS_PREFIX}-a/statistics/rx_packets").read())


def ns_config(path, model, pipeline=""):
    """linkem between the namespaces' veth ends, `model` both ways, lcores 0 and 1 (and `pipeline`'s keys)."""
    open(path, "w").write(
        f"ports:\n  a: {{device: \"net_af_packet0,iface={NETNS_PREFIX}-a\"}}\n  b: {{device: \"net_af_packet1,iface={NETNS_PREFIX}-b\"}}\n"
        f"links:\n  - {{name: a-to-b, from: a, to: b, {model}}}\n  - {{name: b-to-a, from: b, to: a, {model}}}\n"
        f"pipeline: {{burst: 32, lcores: [0, 1]{pipeline}}}\nseed: 1\n")


def start_linkem(cfg, log):
    """linkem on cfg, once its log says it runs."""
    run = subprocess.Popen([os.path.join(ROOT, "build/app/linkem"), cfg, "--stats-interval", "0"],
                           stdout=open(log, "w"), stderr=subprocess.STDOUT)
    if netns(f"netns_wait_running '{log}' {run.pid} && echo ok") != "ok":
        stop(run, 30)
        sys.exit(f"bench: linkem did not start on the namespaces' ports:\n{open(log).read()}")
    return run


def static_neighbours():
    """Permanent ARP entries both ways: no neighbour probe crosses linkem while it is idle (it would end the back-off)."""
    macs = {side: netns(f"ip netns exec {NETNS_PREFIX}-ns-{side} cat /sys/class/net/{NETNS_PREFIX}-{side}-ns/address")
            for side in ("a", "b")}
    for side, peer, peer_ip in (("a", "b", "10.77.0.2"), ("b", "a", "10.77.0.1")):
        netns(f"ip -n {NETNS_PREFIX}-ns-{side} neigh replace {peer_ip} lladdr {macs[peer]} "
              f"dev {NETNS_PREFIX}-{side}-ns nud permanent")


def ping_rtt_ms():
    """One ping from namespace a to b: its RTT in ms (ping's summary, 3 decimals), or None when it got no answer."""
    out = subprocess.run(["ip", "netns", "exec", f"{NETNS_PREFIX}-ns-a", "ping", "-c", "1", "-W", "2", "10.77.0.2"],
                         capture_output=True, text=True).stdout
    m = re.search(r"= ([\d.]+)/", out)
    return float(m.group(1)) if m else None


def excess_row(name, rtts, delays_ms):
    """A row of RTT minus the configured delays: the median and each sample, in ms."""
    got = [r - delays_ms for r in rtts if r is not None]
    if not got:
        return (name, None, f"no ping answered ({len(rtts)} sent)")
    samples = ", ".join(f"{x:.3f}" for x in got)
    return (name, None, f"RTT - {delays_ms} ms: median {statistics.median(got):.3f} ms of {len(got)} ({samples})")


def cpu_rows(seconds, idle_samples):
    """[(row, % of one CPU or None, note)]: linkem idle without and with the back-off, at 10 kpps,
    the first ping after an idle spell beside pings close together, testpmd idle."""
    missing = netns("netns_missing")
    if missing:
        return [("CPU use", None, f"skipped: needs {missing}")]
    existing = netns("netns_existing")
    if existing:  # netns_up and netns_down would delete what this run did not create
        return [("CPU use", None, f"skipped: {existing} exists and was not created by this run")]
    rows = []
    model = "delay: {plugin: normal, mean: 10ms, stddev: 1ms}, loss: 1%"
    idle_after_s = 1.0  # pipeline.idle_after's default (docs/CONFIG.md)
    with tempfile.TemporaryDirectory() as d:
        cfg, log = os.path.join(d, "cpu.yaml"), os.path.join(d, "linkem.log")
        linkem_run = server = client = pmd = None
        try:
            netns("netns_up")
            static_neighbours()
            # The idle row as it was before the back-off: every lcore polls once per sleep_threshold.
            ns_config(cfg, model, ", idle_nap: 0")
            linkem_run = start_linkem(cfg, log)
            time.sleep(1)
            rows.append(("linkem idle, no back-off (both directions as (b), pipeline.idle_nap: 0)",
                         cpu_share(linkem_run.pid, seconds), "polls every sleep_threshold (50 us)"))
            stop(linkem_run, 30)
            # The defaults: measured once the back-off has begun.
            ns_config(cfg, model)
            linkem_run = start_linkem(cfg, log)
            time.sleep(idle_after_s + 0.5)
            rows.append(("linkem idle, backed off (both directions as (b), defaults)", cpu_share(linkem_run.pid, seconds),
                         "after idle_after (1 s) without a packet: one poll per idle_nap (1 ms)"))
            # 10 kpps: 36-byte UDP payloads (78-byte frames) at 2.88 Mbit/s of payload.
            server = in_ns("b", ["iperf3", "-s", "-1"])
            time.sleep(0.5)
            client = in_ns("a", ["iperf3", "-c", "10.77.0.2", "-u", "-l", "36", "-b", "2880000", "-t", str(seconds + 3)])
            time.sleep(1.5)
            packets0, c0, t0 = packets_into_linkem(), cpu_seconds(linkem_run.pid), time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - t0
            share = 100 * (cpu_seconds(linkem_run.pid) - c0) / elapsed
            rate = (packets_into_linkem() - packets0) / elapsed
            rows.append(("linkem at 10 kpps of UDP a to b", share, f"{rate / 1e3:.1f} kpps arrived at port a"))
            for p in (client, server):
                stop(p, 5)
            stop(linkem_run, 30)
            # The back-off's cost: constant delays, so RTT - 20 ms is linkem's lateness plus the kernel's path;
            # the same pings without the back-off tell its share from what 3 s of idleness costs anyway
            # (a virtual machine's idle vCPUs wake slowly).
            for pipeline, label in (("", "backed off"), (", idle_nap: 0", "no back-off, idle_nap: 0")):
                ns_config(cfg, "delay: 10ms", pipeline)
                linkem_run = start_linkem(cfg, log)
                ping_rtt_ms()  # the path's first packet
                close = []
                for _ in range(idle_samples if not pipeline else 0):
                    time.sleep(0.2)
                    close.append(ping_rtt_ms())
                after_idle = []
                for _ in range(idle_samples):
                    time.sleep(3)
                    after_idle.append(ping_rtt_ms())
                rows.append(excess_row(f"linkem, first ping after 3 s idle ({label}; 10 ms each way)", after_idle, 20))
                if close:
                    rows.append(excess_row("linkem, pings 0.2 s apart (never backed off; 10 ms each way)", close, 20))
                stop(linkem_run, 30)
            pmd = subprocess.Popen(["dpdk-testpmd", "-l", "0,1", "--in-memory", "--no-pci", "--log-level=lib.eal:error",
                                    f"--vdev=net_af_packet0,iface={NETNS_PREFIX}-a", f"--vdev=net_af_packet1,iface={NETNS_PREFIX}-b",
                                    "--", "--forward-mode=io", "--auto-start", "--nb-cores=1", "--stats-period=1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if started(pmd, 2):
                rows.append(("testpmd io idle, same ports, 1 forwarding core", cpu_share(pmd.pid, seconds), "polls without sleeping"))
            else:
                rows.append(("testpmd io idle, same ports, 1 forwarding core", None, f"testpmd exited with status {pmd.returncode}"))
        finally:
            for p in (client, server, linkem_run, pmd):
                stop(p, 30)
            netns("netns_down")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cpu-seconds", type=int, default=5, help="window of each CPU-use measurement")
    ap.add_argument("--idle-samples", type=int, default=5, help="pings after 3 s idle (and 0.2 s apart) for the back-off's cost")
    ap.add_argument("--rows", default="", help="only these throughput rows, e.g. b,h (default: all)")
    ap.add_argument("--cpu-only", action="store_true", help="only the CPU use at low load and the back-off's cost")
    a = ap.parse_args()
    if not a.cpu_only:
        throughput(a)
    print("\nCPU use at low load: linkem between two network namespaces (veth, net_af_packet), "
          f"share of one CPU over {a.cpu_seconds} s (/proc/PID/stat; this machine has {os.cpu_count()} CPUs)\n")
    print("| case | CPU % of one core | note |")
    print("|---|---|---|")
    for name, share, note in cpu_rows(a.cpu_seconds, a.idle_samples):
        print(f"| {name} | {'' if share is None else f'{share:.0f}'} | {note} |")


def throughput(a):
    """The throughput table: testpmd's ceilings and rows (a) to (f)."""
    one = statistics.median([testpmd(1, a.seconds, a.warmup) for _ in range(a.repeats)])
    two = statistics.median([testpmd(2, a.seconds, a.warmup) for _ in range(a.repeats)])
    rows = [("testpmd io, one way, 1 core", one, None, None), ("testpmd io, both ways, 1 core", two, None, None)]
    cases = [("(a) 1 dir, 10 ms, constant", config(False, 10, False), one),
             ("(b) 1 dir, 10 ms, bernoulli 1% + normal", config(False, 10, True), one),
             ("(c) as (b), 100 ms", config(False, 100, True), one),
             ("(d) both dirs, as (b)", config(True, 10, True), two),
             ("(e) as (b), 1500-byte frames", config(False, 10, True, 1500), one),
             ("(f) as (d), 2 links per dir, 10 rules", rules_config(), two)]
    trace_dir = tempfile.TemporaryDirectory()
    trace = os.path.join(trace_dir.name, "trace64.pcap")
    write_trace64(trace)
    cases.append(("(g) as (b), from a topspeed replay", replay_config(trace), one))
    cases.append(("(h) as (b), 10 Gbit/s with codel", codel_config(), one))
    cases.append(("(i) as (h) with fq_codel", codel_config("fq_codel"), one))
    if a.rows:
        cases = [c for c in cases if c[0][1] in a.rows.split(",")]
    for name, text, ceiling in cases:
        directions = 2 if ceiling is two else 1
        runs = [linkem(text, a.seconds, a.warmup, directions) for _ in range(a.repeats)]
        mpps = statistics.median(r[0] for r in runs)
        rows.append((name, mpps, ceiling, runs[len(runs) // 2][1]))
    trace_dir.cleanup()

    print(f"\nlinkem benchmark: net_null ports, 64-byte frames unless noted; median of {a.repeats} runs of "
          f"{a.seconds} s, steady window after {a.warmup} s\n")
    print("| row | Mpps per direction | vs testpmd | classify ns/pkt | rx+model ns/pkt | tx ns/pkt | lateness p50 / p99 us | drops | "
          "arena MiB | pools MiB | B/pkt in flight |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, mpps, ceiling, stats in rows:
        if stats is None:
            print(f"| {name} | {mpps:.2f} | 1.00 | | | | | | | | |")
            continue
        links = stats["links"]
        rx_ns = sum(l["rx_stage_ns"] for l in links) / max(1, sum(l["rx_packets"] for l in links))
        ports = stats.get("classify", [])
        classify_ns = sum(p["classify_ns"] for p in ports) / max(1, sum(p["packets"] for p in ports))
        tx_ns = sum(l["tx_stage_ns"] for l in links) / max(1, sum(l["tx_packets"] for l in links))
        # The worst link's, over the whole run: how late packets left while linkem ran at this speed.
        late_p50 = max(l["lateness_ns"]["p50"] for l in links) / 1e3
        late_p99 = max(l["lateness_ns"]["p99"] for l in links) / 1e3
        drops = {}
        for l in links:
            for k, v in l["drops"].items():
                drops[k] = drops.get(k, 0) + v
        drop_text = ", ".join(f"{k} {v}" for k, v in drops.items() if v) or "none"
        mem = stats["memory"]
        print(f"| {name} | {mpps:.2f} | {mpps / ceiling if ceiling else 0:.2f} | {classify_ns:.1f} | {rx_ns:.1f} | {tx_ns:.1f} | "
              f"{late_p50:.1f} / {late_p99:.1f} | {drop_text} | "
              f"{mem['arena_bytes'] / 2**20:.0f} | {mem['pool_bytes'] / 2**20:.0f} | {mem['bytes_per_packet_in_flight']} |")
    for name, mpps, ceiling, stats in rows:
        for r in (stats or {}).get("replay", []):
            admitted = r["packets"] / (r["duration_ns"] / 1e9) / 1e6 if r["duration_ns"] else 0.0
            b_row = next((m for n, m, _, _ in rows if n.startswith("(b)")), 0.0)
            print(f"\n{name}: the replay stage admitted {admitted:.2f} Mpps ({r['packets']} packets in {r['duration_ns'] / 1e9:.2f} s, "
                  f"waiting for the link's room), delivered {mpps:.2f} Mpps; row (b) from net_null: {b_row:.2f} Mpps")


if __name__ == "__main__":
    main()
