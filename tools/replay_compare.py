#!/usr/bin/env python3
"""Replay timing: linkem's replay port beside tcpreplay and a spinning sender (issue 20, item 5).

Run it as root with tools/replay_compare.sh. Four traces (written here, each
frame carrying a sequence number): Poisson arrivals with a 100 us mean gap;
a 1 kHz periodic stream; bursts of 50 back-to-back frames every 10 ms; 64-
and 1500-byte frames mixed at a 50 us mean gap. Each is sent into one end of
a veth pair (the other end in a network namespace of its own) by
  - linkem: a replay port (speed 1) into a link without delay onto
    net_af_packet on the veth end, on one lcore (the replay source and
    the tx stage both; the last CPU linkem may run on), as each other
    sender has one CPU: with the defaults (idle lcores nap until the next
    packet is due), spinning (pipeline.sleep_threshold: 0s), and on the
    default two lcores (source and tx apart, napping; on a machine with
    two CPUs they leave none to the kernel's path and the capture);
  - tcpreplay (Debian's, its default timer);
  - the kernel floor: a Python sender on an AF_PACKET socket that spins on
    the clock until each frame's time (what the kernel path and this host add
    to a sender that is never late on its own);
and captured at the far end by tcpdump with nanosecond timestamps. Packets
are matched by sequence number; per sender and trace the table gives the
absolute error of each inter-packet gap (captured gap minus recorded gap;
p50, p99, p99.9, max), each packet's offset from its schedule relative to
the first packet (p99 of its absolute value), the drift over the trace
(how far the sender's clock moved from the trace's, ppm: the least
offset among the last 5% of the packets, at least 10, less the least
among the first 5%, over the recorded time between them; a packet is
never sent before its time, only late, so the least offset of a few is
the clock's and one late packet at either end, the first send's or a
host's gap, is not taken for drift), the same from the last packet alone
(its offset over the span), the fitted rate error (the slope of capture
time on recorded time, less one, ppm) and the packets lost.
"""
import argparse
import os
import random
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ETHERTYPE = 0x88B5


def frame(seq, size):
    head = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]) + struct.pack("!H", ETHERTYPE)
    return head + struct.pack("<I", seq) + bytes(size - 18)


def traces(seconds, seed=1):
    """{name: [(t_ns, size)]}, each starting at 0."""
    rng = random.Random(seed)
    out = {}
    t, poisson = 0.0, []
    while t < seconds * 1e9:
        poisson.append((int(t), 100))
        t += rng.expovariate(1 / 100e3)
    out["poisson-100us"] = poisson
    out["periodic-1kHz"] = [(i * 1_000_000, 100) for i in range(int(seconds * 1000))]
    bursts = []
    for b in range(int(seconds * 100)):
        bursts += [(b * 10_000_000 + k * 700, 100) for k in range(50)]  # back to back at about 1 Gbit/s
    out["bursts-50x10ms"] = bursts
    t, mixed = 0.0, []
    while t < seconds * 1e9:
        mixed.append((int(t), rng.choice((64, 1500))))
        t += rng.expovariate(1 / 50e3)
    out["mixed-64-1500-50us"] = mixed
    return out


def write_pcap(path, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # nanosecond pcap
        base = 1_700_000_000 * 10**9
        for seq, (t, size) in enumerate(records):
            data = frame(seq, size)
            f.write(struct.pack("<IIII", (base + t) // 10**9, (base + t) % 10**9, len(data), len(data)) + data)


def read_capture(path):
    """{seq: t_ns} of our frames in a pcap (micro- or nanosecond)."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return {}
    magic = struct.unpack("<I", data[:4])[0]
    unit = 1 if magic == 0xA1B23C4D else 1000
    out, at = {}, 24
    while at + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack("<IIII", data[at:at + 16])
        body = data[at + 16:at + 16 + incl]
        at += 16 + incl
        if len(body) >= 18 and struct.unpack("!H", body[12:14])[0] == ETHERTYPE:
            out.setdefault(struct.unpack("<I", body[14:18])[0], sec * 10**9 + frac * unit)
    return out


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def judge(records, captured):
    """Gap errors, schedule offsets and drift of the captured packets against the trace."""
    seqs = sorted(s for s in captured if s < len(records))
    if len(seqs) < 2:
        return None
    first = seqs[0]
    offsets = [(captured[s] - captured[first]) - (records[s][0] - records[first][0]) for s in seqs]
    gaps = [abs((captured[b] - captured[a]) - (records[b][0] - records[a][0])) for a, b in zip(seqs, seqs[1:])]
    span = records[seqs[-1]][0] - records[first][0]
    return {"gap_p50": percentile(gaps, 0.5), "gap_p99": percentile(gaps, 0.99), "gap_p999": percentile(gaps, 0.999),
            "gap_max": max(gaps), "offset_p99": percentile([abs(o) for o in offsets], 0.99),
            "drift_ppm": drift_ppm(records, seqs, offsets), "last_ppm": offsets[-1] / span * 1e6 if span else 0.0,
            "fit_ppm": fitted_rate_ppm(records, captured, seqs), "lost": len(records) - len(seqs)}


def drift_ppm(records, seqs, offsets):
    """How far the sender's clock moved from the trace's: the least offset
    among the last 5% of the captured packets (at least 10) less the least
    among the first 5%, over the recorded time between those two packets.
    Lateness only adds to an offset, so a window's least offset is the
    clock's, whatever its packets queued behind."""
    k = max(10, len(seqs) // 20)
    if 2 * k > len(seqs):
        return float("nan")
    head = min(range(k), key=lambda i: offsets[i])
    tail = min(range(len(seqs) - k, len(seqs)), key=lambda i: offsets[i])
    span = records[seqs[tail]][0] - records[seqs[head]][0]
    return (offsets[tail] - offsets[head]) / span * 1e6 if span else 0.0


def fitted_rate_ppm(records, captured, seqs):
    """The sender's clock rate against the trace's: the least-squares slope of
    capture time on recorded time, less one, in ppm. Unlike the last packet's
    offset over the span (both relative to the first packet), one late packet
    at either end moves it little."""
    xs = [records[s][0] for s in seqs]
    ys = [captured[s] for s in seqs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx - 1) * 1e6


def capture(ns, iface, path):
    p = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-q", "-n", "-i", iface, "--time-stamp-precision=nano",
                          "-B", "65536", "-w", path, f"ether proto {ETHERTYPE:#x}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # tcpdump's socket is open
    return p


def stop_capture(p):
    time.sleep(0.5)
    p.terminate()
    p.wait(timeout=10)


def send_linkem(trace_path, iface, workdir, spin, one_lcore):
    cfg = os.path.join(workdir, "replay.yaml")
    pipeline = (["sleep_threshold: 0s"] if spin else []) + ([f"lcores: [{max(os.sched_getaffinity(0))}]"] if one_lcore else [])
    with open(cfg, "w") as f:
        f.write(f"ports:\n  r: {{replay: {trace_path}, speed: 1, start: 200ms}}\n"
                f"  b: {{device: \"net_af_packet0,iface={iface}\"}}\nlinks:\n  - {{name: r-to-b, from: r, to: b}}\n"
                + (f"pipeline: {{{', '.join(pipeline)}}}\n" if pipeline else ""))
    run = subprocess.run([os.path.join(ROOT, "build/app/linkem"), cfg, "--stats-interval", "0"], capture_output=True, text=True,
                         timeout=120)
    if run.returncode != 0:
        sys.exit(f"replay_compare: linkem failed:\n{run.stdout}{run.stderr}")
    # linkem's own account of the run: what it sent and dropped (so "lost" can be told from its drops).
    said = [line.strip() for line in run.stdout.splitlines() if line.startswith("link r-to-b:") or line.strip().startswith("drops:")]
    return "; ".join(said[:2])


def send_tcpreplay(trace_path, iface):
    run = subprocess.run(["tcpreplay", "-q", "-i", iface, trace_path], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        sys.exit(f"replay_compare: tcpreplay failed:\n{run.stdout}{run.stderr}")


def send_spinning(records, iface):
    """The kernel floor: each frame at its time, spinning on the clock (never sleeping)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    frames = [frame(seq, size) for seq, (_, size) in enumerate(records)]
    start = time.perf_counter_ns() + 50_000_000
    for (t, _), data in zip(records, frames):
        due = start + t
        while time.perf_counter_ns() < due:
            pass
        s.send(data)
    s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="each trace's span")
    ap.add_argument("--send-iface", required=True)
    ap.add_argument("--capture-ns", required=True)
    ap.add_argument("--capture-iface", required=True)
    ap.add_argument("--traces", default="", help="only these traces, comma-separated (default: all four)")
    ap.add_argument("--senders", default="", help="only these senders, comma-separated: linkem, spinning, two-lcores, tcpreplay, floor")
    a = ap.parse_args()
    rows, accounts = [], []
    senders = {"linkem": "linkem", "spinning": "linkem, spinning", "two-lcores": "linkem, 2 lcores", "tcpreplay": "tcpreplay",
               "floor": "kernel floor"}
    chosen = [senders[s] for s in a.senders.split(",")] if a.senders else list(senders.values())
    with tempfile.TemporaryDirectory() as d:
        for name, records in traces(a.seconds).items():
            if a.traces and name not in a.traces.split(","):
                continue
            trace_path = os.path.join(d, f"{name}.pcap")
            write_pcap(trace_path, records)
            for sender in chosen:
                cap_path = os.path.join(d, f"{name}-{sender.replace(' ', '_')}.pcap")
                cap = capture(a.capture_ns, a.capture_iface, cap_path)
                if sender.startswith("linkem"):
                    said = send_linkem(trace_path, a.send_iface, d, spin=sender.endswith("spinning"), one_lcore=not sender.endswith("lcores"))
                    accounts.append(f"{name}, {sender}: {said}")
                elif sender == "tcpreplay":
                    send_tcpreplay(trace_path, a.send_iface)
                else:
                    send_spinning(records, a.send_iface)
                stop_capture(cap)
                rows.append((name, len(records), sender, judge(records, read_capture(cap_path))))
    print(f"\nreplay timing: {a.seconds:g} s traces onto a veth pair, captured by tcpdump (ns) at the far end; "
          "errors in us\n")
    print("| trace | packets | sender | gap error p50 | p99 | p99.9 | max | schedule offset p99 | drift ppm | last packet ppm | "
          "fitted rate ppm | lost |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, sender, j in rows:
        if j is None:
            print(f"| {name} | {n} | {sender} | nothing captured | | | | | | | {n} |")
            continue
        print(f"| {name} | {n} | {sender} | {j['gap_p50'] / 1e3:.1f} | {j['gap_p99'] / 1e3:.1f} | {j['gap_p999'] / 1e3:.1f} | "
              f"{j['gap_max'] / 1e3:.1f} | {j['offset_p99'] / 1e3:.1f} | {j['drift_ppm']:.0f} | {j['last_ppm']:.0f} | {j['fit_ppm']:.0f} | "
              f"{j['lost']} |")
    print("\nlinkem's own counters (lost above = not captured at the far end; linkem's drops are here):")
    for line in accounts:
        print("  " + line)


if __name__ == "__main__":
    main()
