#!/usr/bin/env python3
"""linkem fidelity, measured from outside the process (tools/fidelity.sh).

A scenario configures the a-to-b link between two network namespaces
(veth + net_af_packet, tools/netns.sh). A paced UDP probe stream (sequence
number and send time in each payload) and, for rate scenarios, a saturating
UDP stream cross it; tcpdump captures both namespace ends with nanosecond
kernel timestamps; packets are matched by (stream, sequence). The same
capture of what entered linkem is run through linkem-sim with the same
configuration and seed: that is the model's own answer for these very
packets, to compare with (delay per packet and its CDF, losses and their
bursts). A baseline run forwards the same probes through dpdk-testpmd (no
emulation): what the kernel and the I/O path add by themselves. The perflow
scenario makes the link a per-flow template and sends several flows at once
(one UDP destination port each); each flow is judged on its own, against
linkem-sim run on that flow's packets alone.

Subcommands used inside the namespaces: `send` and `receive`.
"""
import argparse
import json
import math
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("LINKEM_BUILD_DIR", os.path.join(ROOT, "build"))
PREFIX = "lkf"  # namespaces lkf-ns-a, lkf-ns-b; interfaces lkf-a, lkf-b
IP_B = "10.77.0.2"
PROBE_PORT, SATURATE_PORT = 9000, 9001  # saturating stream k (1, 2, ...) goes to SATURATE_PORT + k - 1
MAGIC = b"LKMF"
HEADER = struct.Struct("!4sBIQ")  # magic, stream (0 probe, 1.. saturating), sequence, send time (ns)
ETHERNET_OVERHEAD = 24

# Each scenario: the a-to-b link's fields (YAML), the probe stream, an
# optional saturating stream (or several: saturate_streams), and what is
# judged. `per_flow` makes the link a template (perflow()).
SCENARIOS = {
    "constant": dict(
        about="constant 10 ms delay",
        link="delay: 10ms", probe_pps=2000, size=200, seconds=10),
    "jitter": dict(
        about="normal jitter: mean 10 ms, stddev 1 ms (order: keep)",
        link="delay: {plugin: normal, mean: 10ms, stddev: 1ms}", probe_pps=200, size=200, seconds=15),
    "bernoulli": dict(
        about="1% Bernoulli loss, 5 ms delay",
        link="delay: 5ms\n    loss: 1%", probe_pps=5000, size=200, seconds=10),
    "gilbert": dict(
        about="Gilbert-Elliott bursts (p 1%, r 30%: 3.23% loss, bursts of 3.3), 5 ms delay",
        link="delay: 5ms\n    loss: {plugin: gilbert_elliott, p: 1%, r: 30%}", probe_pps=5000, size=200, seconds=10),
    "rate": dict(
        about="20 Mbit/s (Ethernet framing) with a 100-packet queue kept full, 5 ms delay",
        link="bandwidth: 20Mbit/s\n    overhead: ethernet\n    queue: 100 packets\n    delay: 5ms",
        probe_pps=197, size=200, seconds=10, saturate_bps=30e6, saturate_size=1200, rate_bps=20e6, overhead=ETHERNET_OVERHEAD),
    "trace": dict(
        about="Mahimahi trace tools/fidelity/varying.trace (12 to 48 Mbit/s, 18 Mbit/s on average), saturated",
        link="bandwidth: {plugin: trace, file: " + os.path.join(ROOT, "tools/fidelity/varying.trace") + "}\n"
             "    overhead: none\n    queue: 100 packets\n    delay: 5ms",
        probe_pps=197, size=200, seconds=10, saturate_bps=30e6, saturate_size=1200, trace="tools/fidelity/varying.trace", overhead=0,
        note="the trace repeats from linkem's start, in linkem-sim from the first packet: the model's per-probe figures are for "
             "another phase of the trace; compare the rates"),
    "perflow": dict(
        about="per-flow template keyed by UDP destination port: each flow its own 20 Mbit/s link (Ethernet framing, 100-packet "
              "queue, 5 ms delay); two saturating flows and a probe flow at once",
        link="bandwidth: 20Mbit/s\n    overhead: ethernet\n    queue: 100 packets\n    delay: 5ms",
        per_flow="{key: {dst_port: true}, max_flows: 4, idle_timeout: 10s}",
        probe_pps=197, size=200, seconds=10, saturate_bps=30e6, saturate_size=1200, saturate_streams=2, rate_bps=20e6,
        overhead=ETHERNET_OVERHEAD,
        note="the model of each flow is linkem-sim (one link, virtual time) on the template as a plain link, fed only that flow's "
             "packets as captured entering linkem: instances share nothing, so that is the flow's own model. The models are "
             "deterministic on purpose: an instance's random streams are seeded by its name (a-to-b#k), which a plain link in "
             "linkem-sim cannot have, so random models would differ packet by packet"),
}


def stream_port(stream):
    return PROBE_PORT if stream == 0 else SATURATE_PORT + stream - 1


def linkem_fields(sc):
    """The a-to-b link's fields as linkem gets them: a per-flow scenario's template and its per_flow."""
    return sc["link"] + (f"\n    per_flow: {sc['per_flow']}" if sc.get("per_flow") else "")


# ---------------------------------------------------------------- traffic

def send(args):
    """Paced probes (and saturating streams) to IP_B, each with its sequence and send time."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((IP_B, PROBE_PORT))
    streams = [(probe, 0, 1e9 / args.pps, args.size)]
    for k in range(1, (args.saturate_streams if args.saturate_bps > 0 else 0) + 1):
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flood.connect((IP_B, stream_port(k)))
        flood.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        streams.append((flood, k, args.saturate_size * 8 * 1e9 / args.saturate_bps, args.saturate_size))
    pad = {s: b"\0" * max(0, size - 42 - HEADER.size) for _, s, _, size in streams}  # frame = 14 + 20 + 8 + payload
    start = time.monotonic_ns() + 100_000_000
    end = start + int(args.seconds * 1e9)
    nxt = [start] * len(streams)
    seq = [0] * len(streams)
    while True:
        k = min(range(len(streams)), key=lambda i: nxt[i])
        due = nxt[k]
        if due >= end:
            break
        # Sleep, never spin: linkem's two lcores already take both CPUs of a
        # small machine, and a spinning sender would preempt them for whole
        # timeslices. Send times are taken from the capture, not the schedule.
        wait = due - time.monotonic_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        sock, stream, gap_ns, _ = streams[k]
        try:
            sock.send(HEADER.pack(MAGIC, stream, seq[k], time.time_ns()) + pad[stream])
        except BlockingIOError:
            pass
        seq[k] += 1
        nxt[k] += int(gap_ns)
    print(json.dumps({"probes": seq[0], "saturating": sum(seq[1:]), "streams": seq}))


def receive(args):
    """Binds the probe and saturating ports so nothing answers with ICMP; discards what arrives."""
    socks = []
    for port in [stream_port(k) for k in range(args.saturate_streams + 1)]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("0.0.0.0", port))
        s.setblocking(False)
        socks.append(s)
    import selectors
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            try:
                while True:
                    key.fileobj.recv(65536)
            except BlockingIOError:
                pass


# ---------------------------------------------------------------- pcap

def pcap_records(path):
    """The pcap's file header and, for each of our UDP frames in it, (t_ns, frame length, stream, seq, record bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return data, []
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B23C4D:
        scale = 1
    elif magic == 0xA1B2C3D4:
        scale = 1000
    else:
        raise SystemExit(f"fidelity: {path}: not a little-endian pcap")
    out = []
    at = 24
    while at + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from("<IIII", data, at)
        record = data[at:at + 16 + incl]
        frame = record[16:]
        at += 16 + incl
        if len(frame) < 14 + 20 + 8 + HEADER.size or frame[12:14] != b"\x08\x00":
            continue
        ihl = (frame[14] & 0x0F) * 4
        if frame[23] != 17:
            continue
        payload = frame[14 + ihl + 8:]
        if len(payload) < HEADER.size or payload[:4] != MAGIC:
            continue
        _, stream, seq, _ = HEADER.unpack_from(payload)
        out.append((sec * 1_000_000_000 + frac * scale, orig, stream, seq, record))
    return data[:24], out


def read_pcap(path):
    """[(t_ns, frame length, stream, seq)] of our UDP frames in a (nanosecond or microsecond) pcap."""
    return [r[:4] for r in pcap_records(path)[1]]


def write_stream_pcap(path, out, stream):
    """Copies the frames of one stream (one flow) of a pcap into another, as they are."""
    header, records = pcap_records(path)
    with open(out, "wb") as f:
        f.write(header)
        for r in records:
            if r[2] == stream:
                f.write(r[4])


# ---------------------------------------------------------------- statistics

def quantile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(math.ceil(q * len(sorted_values))) - 1))
    return sorted_values[i]


def wilson(k, n, z=2.576):
    """99% Wilson interval of a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def batch_means(lost_flags, batches=40, z=2.704):
    """99% interval of the loss rate of a correlated sequence: mean of batch
    means, t quantile for 39 degrees of freedom."""
    n = len(lost_flags) // batches
    if n == 0:
        return (0.0, 1.0)
    means = [sum(lost_flags[b * n:(b + 1) * n]) / n for b in range(batches)]
    m, s = statistics.mean(means), statistics.stdev(means)
    h = z * s / math.sqrt(batches)
    return (max(0.0, m - h), m + h)


def bursts(lost_flags):
    runs, run = [], 0
    for lost in lost_flags:
        if lost:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    if run:
        runs.append(run)
    return runs


def burst_table(runs):
    n = len(runs) or 1
    return [sum(1 for r in runs if r == k) / n for k in (1, 2, 3)] + [sum(1 for r in runs if r >= 4) / n]


def us(ns):
    return f"{ns / 1000:+.1f} us" if not math.isnan(ns) else "n/a"


def ms(ns):
    return f"{ns / 1e6:.3f} ms" if not math.isnan(ns) else "n/a"


def trace_rate_bps(path):
    stamps = [int(line) for line in open(os.path.join(ROOT, path)) if line.strip()]
    return len(stamps) * 1504 * 8 / (stamps[-1] / 1000)


# ---------------------------------------------------------------- running

def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, text=True, capture_output=True, **kw)


def netns(action):
    r = sh(f"NETNS_PREFIX={PREFIX}; source '{ROOT}/tools/netns.sh'; {action}", executable="/bin/bash")
    if r.returncode != 0:
        raise SystemExit(f"fidelity: {action} failed: {r.stderr}")


def static_neighbours():
    """Permanent ARP entries, so no ARP crosses linkem during a run."""
    mac = {}
    for side in "ab":
        mac[side] = sh(f"ip netns exec {PREFIX}-ns-{side} cat /sys/class/net/{PREFIX}-{side}-ns/address").stdout.strip()
    sh(f"ip netns exec {PREFIX}-ns-a ip neigh replace 10.77.0.2 lladdr {mac['b']} dev {PREFIX}-a-ns nud permanent")
    sh(f"ip netns exec {PREFIX}-ns-b ip neigh replace 10.77.0.1 lladdr {mac['a']} dev {PREFIX}-b-ns nud permanent")


def write_config(path, link_fields, seed, extra=""):
    with open(path, "w") as f:
        f.write(f"""ports:
  a: {{ device: "net_af_packet0,iface={PREFIX}-a" }}
  b: {{ device: "net_af_packet1,iface={PREFIX}-b" }}
links:
  - name: a-to-b
    from: a
    to: b
    {link_fields}
  - {{ name: b-to-a, from: b, to: a }}
seed: {seed}
{extra}""")


def start_forwarder(kind, config, work):
    log = open(os.path.join(work, f"{kind}.log"), "w")
    if kind == "linkem":
        cmd = [os.path.join(BUILD, "app/linkem"), config, "--stats-interval", "0", "--stats-json", os.path.join(work, "stats.json")]
        ready = "linkem: running"
    else:
        cmd = ["stdbuf", "-oL", "dpdk-testpmd", "-l", "0,1", "--in-memory", "--no-pci", "--log-level=lib.eal:error",
               f"--vdev=net_af_packet0,iface={PREFIX}-a", f"--vdev=net_af_packet1,iface={PREFIX}-b", "--",
               "--forward-mode=io", "--port-topology=paired", "--auto-start", "--nb-cores=1"]
        ready = "Press enter to exit"
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
    for _ in range(200):
        time.sleep(0.1)
        if ready in open(log.name).read():
            return proc, log.name
        if proc.poll() is not None:
            break
    raise SystemExit(f"fidelity: {kind} did not start:\n" + open(log.name).read())


def run_traffic(sc, work, tag, forwarder, config):
    """One pass: captures on both namespace ends while the sender runs. Returns (sent, at_a, at_b)."""
    pa, pb = os.path.join(work, f"{tag}-a.pcap"), os.path.join(work, f"{tag}-b.pcap")
    dumps = []
    # Side a whole (linkem-sim replays it, and frame lengths matter to rates), side b headers only.
    for side, path, snap in (("a", pa, "0"), ("b", pb, "128")):
        dumps.append(subprocess.Popen(
            ["ip", "netns", "exec", f"{PREFIX}-ns-{side}", "tcpdump", "-i", f"{PREFIX}-{side}-ns", "-n", "-s", snap,
             "--time-stamp-precision=nano", "-B", "16384", "-w", path, "udp and dst host 10.77.0.2"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"{tag}-{side}.tcpdump.log"), "w")))
    time.sleep(1.0)
    proc, log = start_forwarder(forwarder, config, work)
    streams = sc.get("saturate_streams", 1)
    receiver = subprocess.Popen(["ip", "netns", "exec", f"{PREFIX}-ns-b", sys.executable, __file__, "receive",
                                 "--seconds", str(sc["seconds"] + 5), "--saturate-streams", str(streams)])
    time.sleep(0.5)
    sent = sh(f"ip netns exec {PREFIX}-ns-a {sys.executable} {__file__} send --pps {sc['probe_pps']} --size {sc['size']} "
              f"--seconds {sc['seconds']} --saturate-bps {sc.get('saturate_bps', 0)} --saturate-size {sc.get('saturate_size', 1200)} "
              f"--saturate-streams {streams}")
    if sent.returncode != 0:
        raise SystemExit("fidelity: sender failed: " + sent.stderr)
    time.sleep(0.5)  # the longest delay here plus a full queue
    proc.send_signal(2)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    # tcpdump reads its ring a block at a time, and a block that does not fill is handed over after 1 s: what it
    # has not read when it stops is lost ("received by filter" but not "captured", in TAG-SIDE.tcpdump.log).
    time.sleep(1.5)
    for d in dumps:
        d.send_signal(2)
        d.wait(timeout=10)
    receiver.kill()
    return json.loads(sent.stdout), read_pcap(pa), read_pcap(pb), log


def owd_of(at_a, at_b, stream=0):
    sent = {(s, q): t for t, _, s, q in at_a if s == stream}
    got = {}
    for t, _, s, q in at_b:
        if s == stream and (s, q) in sent and (s, q) not in got:
            got[(s, q)] = t - sent[(s, q)]
    return sent, got


def model_delays(config, work, tag, stream=0, capture=None):
    """linkem-sim on what entered linkem (or on `capture`): the model's delay for each forwarded packet of `stream`."""
    capture = capture or os.path.join(work, f"{tag}-a.pcap")
    out = os.path.join(work, f"{tag}-model.pcap")
    r = sh(f"'{BUILD}/app/linkem-sim' '{config}' --link a-to-b --in '{capture}' --out '{out}'")
    if r.returncode != 0:
        raise SystemExit("fidelity: linkem-sim failed: " + r.stdout + r.stderr)
    return owd_of(read_pcap(capture), read_pcap(out), stream)


def saturated_rate(at_b, streams, saturating, overhead):
    """The rate at the receiver of the frames of `streams`, bytes as the link counts them, while the `saturating`
    streams all kept it backlogged: from the last of their first frames received to the first of their last
    frames, less 1 s at each end. Returns (bit/s, [(t_ns, bytes)] of those frames)."""
    frames = sorted((t, length + overhead) for t, length, s, _ in at_b if s in streams)
    t1 = max(min(t for t, _, s, _ in at_b if s == k) for k in saturating) + 1_000_000_000
    t2 = min(max(t for t, _, s, _ in at_b if s == k) for k in saturating) - 1_000_000_000
    window = [(t, b) for t, b in frames if t1 <= t <= t2]
    return sum(b for _, b in window) * 8 / ((t2 - t1) / 1e9), frames


def throughput_bins(frames):
    """[(seconds since the first frame, bit/s)] in 100 ms bins, the partial first and last left out."""
    t0 = frames[0][0]
    bins = {}
    for t, b in frames:
        bins[(t - t0) // 100_000_000] = bins.get((t - t0) // 100_000_000, 0) + b
    return [(k / 10, v * 8 / 0.1) for k, v in sorted(bins.items())][1:-1]


def plots(name, work, rows, model, throughput, configured_bps, what="probe"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = []
    seqs = sorted(rows)
    if seqs:
        t0 = min(rows[s][0] for s in seqs)
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot([(rows[s][0] - t0) / 1e9 for s in seqs], [rows[s][1] / 1e6 for s in seqs], ".", ms=2, label="measured")
        if model:
            ax.plot([(rows[s][0] - t0) / 1e9 for s in seqs if s in model], [model[s] / 1e6 for s in seqs if s in model], ".", ms=1,
                    alpha=0.5, label="model (linkem-sim)")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("one-way delay (ms)")
        ax.set_title(f"{name}: one-way delay of each {what}")
        ax.legend()
        paths.append(os.path.join(work, f"{name}-delay-over-time.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(6, 4))
        measured = sorted(rows[s][1] / 1e6 for s in seqs)
        ax.plot(measured, [(i + 1) / len(measured) for i in range(len(measured))], label="measured")
        if model:
            m = sorted(v / 1e6 for v in model.values())
            ax.plot(m, [(i + 1) / len(m) for i in range(len(m))], "--", label="model (linkem-sim)")
        ax.set_xlabel("one-way delay (ms)")
        ax.set_ylabel("CDF")
        ax.set_title(f"{name}: delay CDF")
        ax.legend()
        paths.append(os.path.join(work, f"{name}-delay-cdf.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    if throughput:
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot([t for t, _ in throughput], [b / 1e6 for _, b in throughput], label="measured, 100 ms bins")
        if configured_bps:
            ax.axhline(configured_bps / 1e6, color="k", ls="--", label="configured (mean)")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("Mbit/s (as the link counts bytes)")
        ax.set_title(f"{name}: throughput at the receiver")
        ax.legend()
        paths.append(os.path.join(work, f"{name}-throughput.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def table_row(cells):
    return "| " + " | ".join(cells) + " |"


def extra_yaml(args):
    return args.extra.replace("\\n", "\n") + "\n" if args.extra else ""


def measure(name, args):
    """The namespaces, the baseline pass (testpmd, probes only) and linkem's pass of a scenario.
    Returns (work, config, base delays, what the sender sent, captures at a and b, linkem's links' stats)."""
    sc = SCENARIOS[name]
    work = os.path.join(args.out, name)
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "linkem.yaml")
    write_config(config, linkem_fields(sc), args.seed, extra_yaml(args))
    base_config = os.path.join(work, "baseline.yaml")
    write_config(base_config, "delay: 0ms", args.seed)
    netns("netns_up")
    try:
        static_neighbours()
        base = None
        if not args.no_baseline:
            bsc = dict(sc, seconds=min(5, sc["seconds"]), saturate_bps=0)
            _, ba, bb, _ = run_traffic(bsc, work, "baseline", "testpmd", base_config)
            _, got = owd_of(ba, bb)
            base = sorted(got.values())
        sent_info, at_a, at_b, log = run_traffic(sc, work, "linkem", "linkem", config)
    finally:
        netns("netns_clean_up")
    return work, config, base, sent_info, at_a, at_b, json.load(open(os.path.join(work, "stats.json")))["links"]


def scenario(name, args):
    sc = SCENARIOS[name]
    work, config, base, sent_info, at_a, at_b, links = measure(name, args)
    stats = links[0]
    sent, got = owd_of(at_a, at_b)
    model_sent, model_got = model_delays(config, work, "linkem")
    seqs = sorted(q for (_, q) in sent)
    lost_flags = [0 if (0, q) in got else 1 for q in seqs]
    rows = {q: (sent[(0, q)], got[(0, q)]) for q in seqs if (0, q) in got}
    model = {q: model_got[(0, q)] for (_, q) in model_got}
    errors = sorted(rows[q][1] - model[q] for q in rows if q in model)
    delays = sorted(v for _, v in rows.values())
    model_sorted = sorted(model.values())

    # Reordering: probes received after one with a higher sequence number.
    order = [q for _, _, s, q in sorted(at_b) if s == 0]
    reordered, highest = 0, -1
    for q in order:
        if q < highest:
            reordered += 1
        highest = max(highest, q)

    print(f"\n## fidelity: {name}: {sc['about']}\n")
    print(f"linkem link a-to-b: {sc['link'].replace(chr(10) + '    ', ', ')}; seed {args.seed}")
    print(f"probes: {sc['probe_pps']}/s for {sc['seconds']} s, {sc['size']}-byte frames; sent {sent_info['probes']}, "
          f"captured entering {len(seqs)}, leaving {len(rows)}" +
          (f"; saturating stream {sc['saturate_bps'] / 1e6:.0f} Mbit/s of {sc['saturate_size']}-byte frames"
           if sc.get("saturate_bps") else "") + "\n")
    if sc.get("note"):
        print(f"note: {sc['note']}\n")
    print(table_row(["measure", "model / configured", "measured", "error"]))
    print(table_row(["---"] * 4))
    for label, q in (("one-way delay p50", 0.5), ("one-way delay p99", 0.99), ("one-way delay max", 1.0)):
        m, x = quantile(model_sorted, q), quantile(delays, q)
        print(table_row([label, ms(m), ms(x), us(x - m)]))
    if errors:
        abs_err = sorted(abs(e) for e in errors)
        print(table_row(["delay error per probe (measured - model), median / p99 / max of abs",
                         "0", f"{us(quantile(errors, 0.5))} / {us(quantile(abs_err, 0.99))} / {us(abs_err[-1])}", ""]))
    if base:
        print(table_row(["kernel + I/O path alone (testpmd, no emulation): p50 / p99 / max", "",
                         f"{us(quantile(base, 0.5))} / {us(quantile(base, 0.99))} / {us(base[-1])}", ""]))
    lost = sum(lost_flags)
    n = len(lost_flags)
    model_lost_flags = [0 if (0, q) in model_got else 1 for q in seqs]
    expected = stats["loss"]["expected"]
    if "loss:" in sc["link"]:  # a loss model: its long-run loss and the 99% interval of the measured one
        iid = "loss: 1%" in sc["link"]
        interval = wilson(lost, n) if iid else batch_means(lost_flags)
        inside = expected is not None and interval[0] <= expected <= interval[1]
        print(table_row(["probe loss (99% CI, " + ("Wilson" if iid else "batch means") + ")",
                         f"{100 * expected:.3f}%" if expected is not None else "n/a",
                         f"{100 * lost / n:.3f}% [{100 * interval[0]:.3f}%, {100 * interval[1]:.3f}%]",
                         "inside" if inside else "OUTSIDE"]))
    if lost or sum(model_lost_flags):
        print(table_row(["probes lost (loss or a full queue): model (linkem-sim, same packets) / linkem", str(sum(model_lost_flags)), str(lost),
                         "same probes" if model_lost_flags == lost_flags else "differ"]))
        runs, model_runs = bursts(lost_flags), bursts(model_lost_flags)
        mt, xt = burst_table(model_runs), burst_table(runs)
        print(table_row(["loss bursts 1 / 2 / 3 / 4+ (share), mean length",
                         " / ".join(f"{v:.2f}" for v in mt) + f", {statistics.mean(model_runs) if model_runs else 0:.2f}",
                         " / ".join(f"{v:.2f}" for v in xt) + f", {statistics.mean(runs) if runs else 0:.2f}", ""]))
    print(table_row(["probes reordered", "0", str(reordered), ""]))

    throughput, configured_bps = [], None
    if sc.get("saturate_bps"):
        achieved, frames = saturated_rate(at_b, (0, 1), (1,), sc.get("overhead", 0))
        configured_bps = sc.get("rate_bps") or trace_rate_bps(sc["trace"])
        print(table_row(["rate while saturated (receiver, bytes as the link counts them)", f"{configured_bps / 1e6:.3f} Mbit/s",
                         f"{achieved / 1e6:.3f} Mbit/s", f"{100 * (achieved / configured_bps - 1):+.2f}%"]))
        throughput = throughput_bins(frames)
    lat = stats["lateness_ns"]
    print(table_row(["linkem inside: lateness p50 / p99 / p99.9 / max", "", f"{lat['p50']} / {lat['p99']} / {lat['p999']} / {lat['max']} ns",
                     f"{100 * lat['late_fraction']:.3f}% later than {lat['tolerance_ns'] / 1000:g} us"]))
    rate = stats["rate"]
    if rate["achieved_bps"]:
        print(table_row(["linkem inside: rate while backlogged", f"{rate['configured_bps'] / 1e6:.3f} Mbit/s",
                         f"{rate['achieved_bps'] / 1e6:.3f} Mbit/s", f"{100 * (rate['achieved_bps'] / rate['configured_bps'] - 1):+.2f}%"]))
    loss = stats["loss"]
    print(table_row(["linkem inside: loss (all packets on the link)", "n/a" if loss["expected"] is None else f"{100 * loss['expected']:.3f}%",
                     f"{100 * (loss['measured'] or 0):.3f}% of {loss['offered']}", f"out of order: {stats['out_of_order']}"]))
    paths = plots(name, work, rows, model, throughput, configured_bps)
    print("\nplots: " + ", ".join(paths))
    print(f"files: {work} (linkem.yaml, captures, linkem.log, stats.json)")


def perflow(name, args):
    """A per-flow template: one instance per flow (stream, told apart by its destination port), each flow judged on its
    own against linkem-sim on the template as a plain link, fed that flow's packets alone."""
    sc = SCENARIOS[name]
    work, config, base, sent_info, at_a, at_b, links = measure(name, args)
    template = os.path.join(work, "template.yaml")
    write_config(template, sc["link"], args.seed, extra_yaml(args))
    overhead, rate_bps = sc["overhead"], sc["rate_bps"]
    streams = list(range(sc["saturate_streams"] + 1))
    keys = {k: f"dst_port {stream_port(k)}" for k in streams}
    instances = [l for l in links if l["name"].startswith("a-to-b#")]
    by_key = {l["flow"]["key"]: l for l in instances if "flow" in l}
    entering = {k: sum(1 for _, _, s, _ in at_a if s == k) for k in streams}
    leaving = {k: sum(1 for _, _, s, _ in at_b if s == k) for k in streams}

    print(f"\n## fidelity: {name}: {sc['about']}\n")
    print(f"linkem link a-to-b: {linkem_fields(sc).replace(chr(10) + '    ', ', ')}; seed {args.seed}")
    print(f"flows for {sc['seconds']} s: {keys[0]} probes {sc['probe_pps']}/s of {sc['size']}-byte frames; " +
          ", ".join(keys[k] for k in streams[1:]) + f" saturating, {sc['saturate_bps'] / 1e6:.0f} Mbit/s each of "
          f"{sc['saturate_size']}-byte frames; sent " + " / ".join(str(n) for n in sent_info["streams"]) +
          ", captured entering " + " / ".join(str(entering[k]) for k in streams) +
          ", leaving " + " / ".join(str(leaving[k]) for k in streams) + "\n")
    print(f"note: {sc['note']}\n")
    print(table_row(["measure", "model / configured", "measured", "error"]))
    print(table_row(["---"] * 4))
    same = len(instances) == len(streams) and sorted(by_key) == sorted(keys.values())
    print(table_row(["linkem's instances of a-to-b (stats): one per flow, keyed by it", f"{len(streams)}: " + ", ".join(keys.values()),
                     f"{len(instances)}: " + ", ".join(f"{l['name']} {l.get('flow', {}).get('key', '(no key)')}" for l in instances),
                     "one per flow" if same else "DIFFER"]))
    paths, reordered = [], []
    qs = (0.5, 0.99, 1.0)
    for k in streams:
        label = f"{keys[k]} ({'probes' if k == 0 else 'saturating'})"
        sent, got = owd_of(at_a, at_b, k)
        capture = os.path.join(work, f"linkem-a-{stream_port(k)}.pcap")
        write_stream_pcap(os.path.join(work, "linkem-a.pcap"), capture, k)
        _, model_got = model_delays(template, work, f"linkem-{stream_port(k)}", k, capture)
        seqs = sorted(q for (_, q) in sent)
        lost_flags = [0 if (k, q) in got else 1 for q in seqs]
        model_lost_flags = [0 if (k, q) in model_got else 1 for q in seqs]
        rows = {q: (sent[(k, q)], got[(k, q)]) for q in seqs if (k, q) in got}
        model = {q: model_got[(k, q)] for (_, q) in model_got}
        errors = sorted(rows[q][1] - model[q] for q in rows if q in model)
        delays = sorted(v for _, v in rows.values())
        model_sorted = sorted(model.values())
        order, highest = [q for _, _, s, q in sorted(at_b) if s == k], -1
        reordered.append(0)
        for q in order:
            reordered[-1] += q < highest
            highest = max(highest, q)

        inst = by_key.get(keys[k])
        if inst:
            print(table_row([f"{label}: its instance (stats)", keys[k], f"{inst['name']}: {inst['flow']['key']}, "
                             f"{inst['flow']['flows_served']} flow served, tx {inst['tx_packets']} packets",
                             "tx = captured leaving" if inst["tx_packets"] == leaving[k] else f"captured leaving: {leaving[k]}"]))
        else:
            print(table_row([f"{label}: its instance (stats)", keys[k], "none", "MISSING"]))
        throughput = []
        if k:
            achieved, frames = saturated_rate(at_b, (k,), (k,), overhead)
            throughput = throughput_bins(frames)
            print(table_row([f"{label}: rate while saturated (receiver, bytes as the link counts them)", f"{rate_bps / 1e6:.3f} Mbit/s",
                             f"{achieved / 1e6:.3f} Mbit/s", f"{100 * (achieved / rate_bps - 1):+.2f}%"]))
        print(table_row([f"{label}: one-way delay p50 / p99 / max",
                         " / ".join(f"{quantile(model_sorted, q) / 1e6:.3f}" for q in qs) + " ms",
                         " / ".join(f"{quantile(delays, q) / 1e6:.3f}" for q in qs) + " ms",
                         " / ".join(us(quantile(delays, q) - quantile(model_sorted, q)) for q in qs)]))
        if errors:
            abs_err = sorted(abs(e) for e in errors)
            print(table_row([f"{label}: delay error per packet (measured - model), median / p99 / max of abs", "0",
                             f"{us(quantile(errors, 0.5))} / {us(quantile(abs_err, 0.99))} / {us(abs_err[-1])}", ""]))
        print(table_row([f"{label}: packets lost (a full queue): model (linkem-sim, same packets) / linkem", str(sum(model_lost_flags)),
                         f"{sum(lost_flags)}" + (f" (linkem counts {inst['drops']['queue']} queue drops)" if inst else ""),
                         "same packets" if model_lost_flags == lost_flags else "differ"]))
        if inst:
            lat, rate = inst["lateness_ns"], inst["rate"]
            if k and rate["achieved_bps"]:  # the probes' link is idle but for a probe now and then
                print(table_row([f"{label}: linkem inside: rate while backlogged", f"{rate['configured_bps'] / 1e6:.3f} Mbit/s",
                                 f"{rate['achieved_bps'] / 1e6:.3f} Mbit/s",
                                 f"{100 * (rate['achieved_bps'] / rate['configured_bps'] - 1):+.2f}%"]))
            print(table_row([f"{label}: linkem inside: lateness p50 / p99 / p99.9 / max", "",
                             f"{lat['p50']} / {lat['p99']} / {lat['p999']} / {lat['max']} ns",
                             f"{100 * lat['late_fraction']:.3f}% later than {lat['tolerance_ns'] / 1000:g} us"]))
        paths += plots(f"{name}-{stream_port(k)}", work, rows, model, throughput, rate_bps if k else None, "packet")

    # All flows together, and what one link shared by them would have done with the same packets (linkem-sim on all).
    achieved, _ = saturated_rate(at_b, streams, streams[1:], overhead)
    configured = len(streams[1:]) * rate_bps + sc["probe_pps"] * (sc["size"] + overhead) * 8
    print(table_row(["all flows: rate at the receiver while saturated", f"{configured / 1e6:.3f} Mbit/s", f"{achieved / 1e6:.3f} Mbit/s",
                     f"{100 * (achieved / configured - 1):+.2f}%"]))
    _, shared_got = model_delays(template, work, "linkem-shared", 0, os.path.join(work, "linkem-a.pcap"))
    shared_bps, _ = saturated_rate(read_pcap(os.path.join(work, "linkem-shared-model.pcap")), streams, streams[1:], overhead)
    _, probes_got = owd_of(at_a, at_b, 0)
    print(table_row(["for contrast, one plain link shared by all flows (linkem-sim, the same packets): all flows' rate / "
                     f"{keys[0]} delay p50", f"{shared_bps / 1e6:.3f} Mbit/s / {ms(quantile(sorted(shared_got.values()), 0.5))}",
                     f"{achieved / 1e6:.3f} Mbit/s / {ms(quantile(sorted(probes_got.values()), 0.5))} (per flow, above)", ""]))
    print(table_row(["packets reordered within a flow, each flow", "0", " / ".join(str(n) for n in reordered), ""]))
    if base:
        print(table_row(["kernel + I/O path alone (testpmd, no emulation): p50 / p99 / max", "",
                         f"{us(quantile(base, 0.5))} / {us(quantile(base, 0.99))} / {us(base[-1])}", ""]))
    print("\nplots: " + ", ".join(paths))
    print(f"files: {work} (linkem.yaml, template.yaml, captures whole and per flow, linkem.log, stats.json)")


# ---------------------------------------------------------------- bufferbloat

# TCP through a 10 Mbit/s link with 20 ms each way, a ping beside it: what the
# forward link's queue does to the RTT under load. Each case is one line: its
# name, the a-to-b link's queue, and the plugin it needs (None: built in). A
# case whose plugin is not in the build is printed as not available.
BUFFERBLOAT_CASES = [
    ("tail drop", "1000 packets", None),
    ("CoDel", "{discipline: codel, limit: 1000 packets}", "codel"),
    ("FQ-CoDel", "{discipline: fq_codel, limit: 1000 packets}", "codel"),  # codel in each flow's queue
]
BUFFERBLOAT_LINK = "bandwidth: 10Mbit/s, overhead: ethernet, delay: 20ms"  # both directions
BUFFERBLOAT_REVERSE_QUEUE = "1000 packets"  # b-to-a carries the ACKs and the ping replies
BUFFERBLOAT_LOAD_SECONDS = 18  # the TCP transfer; the ping runs from 1 s into it to 1 s before its end
BUFFERBLOAT_BASELINE_SECONDS = 5  # the ping alone, on an idle link
BUFFERBLOAT_PING_INTERVAL_S = 0.2


def bufferbloat_config(path, forward_queue, seed):
    with open(path, "w") as f:
        f.write(f"""ports:
  a: {{ device: "net_af_packet0,iface={PREFIX}-a" }}
  b: {{ device: "net_af_packet1,iface={PREFIX}-b" }}
links:
  - {{ name: a-to-b, from: a, to: b, {BUFFERBLOAT_LINK}, queue: {forward_queue} }}
  - {{ name: b-to-a, from: b, to: a, {BUFFERBLOAT_LINK}, queue: {BUFFERBLOAT_REVERSE_QUEUE} }}
seed: {seed}
""")


def ping_replies(path):
    """(ping's summary: transmitted, received) and [(seconds since the epoch the request left, RTT ms)] of `ping -D -n`."""
    replies, transmitted, received = [], 0, 0
    for line in open(path, errors="replace"):
        if line.startswith("[") and " time=" in line:
            stamp = float(line[1:line.index("]")])
            rtt_ms = float(line.split(" time=")[1].split()[0])
            replies.append((stamp - rtt_ms / 1000, rtt_ms))
        elif "packets transmitted" in line:
            transmitted, received = int(line.split()[0]), int(line.split(", ")[1].split()[0])
    return (transmitted, received), replies


def bufferbloat_case(work, forward_queue, seed, load_seconds):
    """One linkem run: namespaces made afresh (no TCP metrics carried over), linkem started, then the ping alone
    (load_seconds 0) or the ping beside an iperf3 TCP transfer. Returns a dict of what was measured."""
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "linkem.yaml")
    bufferbloat_config(config, forward_queue, seed)
    ping_path = os.path.join(work, "ping.txt")
    ns_a, ns_b = f"ip netns exec {PREFIX}-ns-a", f"ip netns exec {PREFIX}-ns-b"
    result = {"work": work}

    def ping(seconds):
        # A count, not a deadline: ping waits for the replies still in flight after the last request (up to 3 s, longer than
        # a full 1000-packet queue here), so only what the link lost counts as lost.
        count = int(round(seconds / BUFFERBLOAT_PING_INTERVAL_S))
        sh(f"{ns_a} ping -D -n -i {BUFFERBLOAT_PING_INTERVAL_S} -c {count} -W 3 {IP_B} > '{ping_path}' 2>&1")

    netns("netns_up")
    try:
        static_neighbours()
        linkem, _ = start_forwarder("linkem", config, work)
        if load_seconds == 0:
            ping(BUFFERBLOAT_BASELINE_SECONDS)
        else:
            server_json, client_json = os.path.join(work, "iperf3-server.json"), os.path.join(work, "iperf3-client.json")
            server = subprocess.Popen(f"{ns_b} timeout {load_seconds + 20} iperf3 -s -1 -J > '{server_json}' 2>&1", shell=True)
            time.sleep(0.5)
            client = subprocess.Popen(f"{ns_a} timeout {load_seconds + 15} iperf3 -c {IP_B} -C cubic -t {load_seconds} -J "
                                      f"> '{client_json}' 2>&1", shell=True)
            result["load_start"] = time.time()
            time.sleep(1.0)
            ping(load_seconds - 2)
            client.wait()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            try:
                server_report = json.load(open(server_json))
                result["goodput_bps"] = server_report["end"]["sum_received"]["bits_per_second"]
            except (ValueError, KeyError, TypeError):
                result["error"] = "iperf3 server: " + open(server_json, errors="replace").read()[-200:].strip()
            try:
                client_report = json.load(open(client_json))
                result["congestion"] = client_report["end"].get("sender_tcp_congestion", "?")
                result["retransmits"] = client_report["end"]["sum_sent"].get("retransmits")
            except (ValueError, KeyError, TypeError):
                result.setdefault("error", "iperf3 client: " + open(client_json, errors="replace").read()[-200:].strip())
        time.sleep(0.5)
        linkem.send_signal(2)
        try:
            linkem.wait(timeout=30)
        except subprocess.TimeoutExpired:
            linkem.kill()
    finally:
        netns("netns_clean_up")
    result["ping_counts"], result["replies"] = ping_replies(ping_path)
    result["links"] = {l["name"]: l for l in json.load(open(os.path.join(work, "stats.json")))["links"]}
    return result


def bufferbloat_row(name, result):
    rtts = sorted(rtt for _, rtt in result["replies"])
    transmitted, received = result["ping_counts"]
    forward = result["links"]["a-to-b"]
    drops = forward["drops"]
    discipline = forward.get("queue_discipline")
    sojourn = f"{discipline['sojourn_ns']['p50'] / 1e6:.1f}" if discipline else "n/a (tail drop)"
    goodput = f"{result['goodput_bps'] / 1e6:.2f}" if "goodput_bps" in result else ("" if "load_start" not in result else "failed")
    return table_row([name, f"{quantile(rtts, 0.5):.1f}", f"{quantile(rtts, 0.99):.1f}", f"{transmitted - received} of {transmitted}",
                      goodput, f"{result.get('retransmits', '')}", f"{drops['queue']} / {drops['aqm_drop']}", sojourn,
                      f"{forward['delay_ns']['p50'] / 1e6:.1f}"])


def bufferbloat_plots(work, results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = []

    def save(fig, ax, name):
        ax.legend()
        paths.append(os.path.join(work, name))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, r in results:
        if r["replies"]:
            t0 = r.get("load_start", r["replies"][0][0])
            ax.plot([t - t0 for t, _ in r["replies"]], [rtt for _, rtt in r["replies"]], ".-", ms=3, lw=0.6, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("time since the TCP transfer started (s)")
    ax.set_ylabel("ping RTT (ms, log scale)")
    ax.set_title("bufferbloat: ping RTT beside TCP cubic, 10 Mbit/s, 20 ms each way")
    save(fig, ax, "bufferbloat-rtt-over-time.png")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, r in results:
        rtts = sorted(rtt for _, rtt in r["replies"])
        if rtts:
            ax.plot(rtts, [(i + 1) / len(rtts) for i in range(len(rtts))], label=name)
    ax.set_xscale("log")
    ax.set_xlabel("ping RTT (ms, log scale)")
    ax.set_ylabel("CDF")
    ax.set_title("bufferbloat: ping RTT CDF")
    save(fig, ax, "bufferbloat-rtt-cdf.png")
    return paths


def bufferbloat(args):
    """The ping's RTT beside a TCP transfer through each case's forward queue, one linkem run each."""
    work = os.path.join(args.out, "bufferbloat")
    os.makedirs(work, exist_ok=True)
    load_seconds = BUFFERBLOAT_LOAD_SECONDS
    print(f"\n## fidelity: bufferbloat: TCP cubic (iperf3, {load_seconds} s) and a ping every {BUFFERBLOAT_PING_INTERVAL_S:g} s "
          f"through {BUFFERBLOAT_LINK.replace(', overhead: ethernet', ' (Ethernet framing)')} each way\n")
    print(f"b-to-a (ACKs, ping replies): queue {BUFFERBLOAT_REVERSE_QUEUE}; a-to-b: each case's queue; seed {args.seed}. "
          f"The ping runs from 1 s into the transfer to 1 s before its end; the baseline pings an idle link for "
          f"{BUFFERBLOAT_BASELINE_SECONDS} s.\n")
    header = ["case", "ping RTT p50 (ms)", "ping RTT p99 (ms)", "pings lost", "TCP goodput (Mbit/s, iperf3 receiver)",
              "TCP retransmits", "a-to-b drops: queue / aqm_drop", "a-to-b sojourn p50 (ms)", "a-to-b delay p50 (ms, release - arrival)"]
    rows, results = [], []
    baseline = bufferbloat_case(os.path.join(work, "baseline"), BUFFERBLOAT_CASES[0][1], args.seed, 0)
    rows.append(bufferbloat_row("baseline: no load", baseline))
    results.append(("baseline: no load", baseline))
    for name, forward_queue, plugin in BUFFERBLOAT_CASES:
        label = f"{name}: queue: {forward_queue}"
        if plugin and not os.path.exists(os.path.join(BUILD, "plugins", f"lkm_queue_{plugin}.so")):
            rows.append(table_row([label, f"not available: {plugin} is not built yet"] + [""] * (len(header) - 2)))
            continue
        slug = name.lower().replace(" ", "-")
        r = bufferbloat_case(os.path.join(work, slug), forward_queue, args.seed, load_seconds)
        rows.append(bufferbloat_row(label, r))
        results.append((name, r))
        if r.get("error"):
            print(f"{name}: {r['error']}")
        if r.get("congestion") not in (None, "cubic"):
            print(f"{name}: iperf3's sender used {r['congestion']}, not cubic")
    print(table_row(header))
    print(table_row(["---"] * len(header)))
    for row in rows:
        print(row)
    for name, r in results:  # a scheduler's flow queues: what each carried and how long it waited
        scheduler = r.get("links", {}).get("a-to-b", {}).get("scheduler")
        if not scheduler:
            continue
        print(f"\n{name}: a-to-b's flow queues that carried packets ({scheduler['overload_drops']} overload drops):")
        for q in sorted(scheduler["active_queues"], key=lambda q: -q["sent_bytes"]):
            print(f"  queue {q['queue']}: sent {q['sent']} packets ({q['sent_bytes'] / 1e6:.2f} MB), sojourn mean "
                  f"{q['sojourn_mean_ns'] / 1e6:.2f} ms, {q['aqm_drops']} dropped by codel, {q['overload_drops']} on overload")
    paths = bufferbloat_plots(work, results)
    print("\nplots: " + ", ".join(paths))
    print(f"files: {work} (per case: linkem.yaml, linkem.log, stats.json, ping.txt, iperf3-*.json)")


def internal(args):
    """Lateness on net_null ports at 1 Mpps, beside the host's own floor."""
    work = os.path.join(args.out, "internal")
    os.makedirs(work, exist_ok=True)
    gaps_tool = os.path.join(BUILD, "tools/linkem-host-gaps")
    floor = {}
    if os.path.exists(gaps_tool):
        for line in sh(f"'{gaps_tool}' 1 {args.seconds}").stdout.splitlines():
            k, v = line.split()
            floor[k] = float(v) if k != "cpu" else v
    config = os.path.join(work, "linkem.yaml")
    with open(config, "w") as f:
        f.write("""ports:
  a: { device: "net_null0,size=64" }
  b: { device: "net_null1,size=64" }
links:
  # 704 Mbit/s of 64-byte frames with Ethernet framing (88 bytes) = 1 Mpps,
  # released evenly 1 us apart: every release is a deadline of its own.
  - { name: a-to-b, from: a, to: b, bandwidth: 704Mbit/s, overhead: ethernet, queue: 1000 packets, delay: 10ms }
pipeline: { lcores: [0, 1] }
stats: { lateness_tolerance: 2us }
""")
    stats_path = os.path.join(work, "stats.json")
    r = sh(f"'{BUILD}/app/linkem' '{config}' --duration {args.seconds}s --stats-interval 0 --stats-json '{stats_path}'")
    if r.returncode != 0:
        raise SystemExit("fidelity: linkem failed:\n" + r.stdout + r.stderr)
    s = json.load(open(stats_path))["links"][0]
    lat = s["lateness_ns"]
    tx_pps = s["tx_packets"] / (json.load(open(stats_path))["duration_ns"] / 1e9)
    print(f"\n## fidelity: internal: lateness at {tx_pps / 1e6:.2f} Mpps on net_null ports ({args.seconds} s)\n")
    print(table_row(["measure", "linkem (tx lcore 1)", "host floor (a perfect releaser on CPU 1)"]))
    print(table_row(["---"] * 3))
    print(table_row(["lateness p50", f"{lat['p50']} ns", "0 ns"]))
    print(table_row(["lateness p99", f"{lat['p99']} ns", f"{floor.get('floor_p99_ns', float('nan')):.0f} ns"]))
    print(table_row(["lateness p99.9", f"{lat['p999']} ns", f"{floor.get('floor_p999_ns', float('nan')):.0f} ns"]))
    print(table_row(["lateness max", f"{lat['max']} ns", f"{floor.get('gap_max_ns', float('nan')):.0f} ns (longest gap)"]))
    print(table_row(["later than 2 us", f"{100 * lat['late_fraction']:.3f}%", f"{100 * floor.get('floor_late_over_2us', float('nan')):.3f}%"]))
    print(table_row(["CPU time lost to gaps over 1 us", "", f"{100 * floor.get('lost_fraction', float('nan')):.3f}% "
                     f"({floor.get('gaps_per_second', float('nan')):.0f} gaps/s)"]))
    rate = s["rate"]
    print(table_row(["rate while backlogged", f"{rate['achieved_bps'] / 1e6:.3f} of {rate['configured_bps'] / 1e6:.3f} Mbit/s", ""]))
    print(f"\nfiles: {work}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--pps", type=float, required=True)
    s.add_argument("--size", type=int, required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--saturate-bps", type=float, default=0)
    s.add_argument("--saturate-size", type=int, default=1200)
    s.add_argument("--saturate-streams", type=int, default=1)
    r = sub.add_parser("receive")
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--saturate-streams", type=int, default=1)
    run = sub.add_parser("run")
    run.add_argument("scenario", choices=sorted(SCENARIOS) + ["internal", "bufferbloat", "all"])
    run.add_argument("--out", default=os.path.join(BUILD, "fidelity"))
    run.add_argument("--seed", type=int, default=7)
    run.add_argument("--seconds", type=int, default=10, help="length of the internal scenario")
    run.add_argument("--no-baseline", action="store_true", help="skip the testpmd pass")
    run.add_argument("--extra", default="", help="top-level YAML appended to the scenario's configuration")
    a = p.parse_args()
    if a.cmd == "send":
        return send(a)
    if a.cmd == "receive":
        return receive(a)
    names = sorted(SCENARIOS) + ["internal"] if a.scenario == "all" else [a.scenario]
    for name in names:
        if name == "internal":
            internal(a)
        elif name == "bufferbloat":
            bufferbloat(a)
        elif SCENARIOS[name].get("per_flow"):
            perflow(name, a)
        else:
            scenario(name, a)


if __name__ == "__main__":
    main()
