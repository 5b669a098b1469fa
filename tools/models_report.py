#!/usr/bin/env python3
"""Configured against measured statistics for every built-in loss and delay model.

Runs build/app/linkem-sim on synthetic traffic (numbered frames, 1 s apart for
delay models so that ordering never bends a delay) for each model, reads the
output capture, and prints one row per model: what the parameters imply and
what the run shows. Usage: tools/models_report.py [BUILD_DIR]
"""
import math
import os
import struct
import subprocess
import sys
import tempfile

build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "build")
sim = os.path.join(build, "app", "linkem-sim")
env = dict(os.environ, LINKEM_PLUGIN_PATH=os.path.join(build, "plugins"))


def run(link_fields, rate, count, size=100):
    """Forwarded (sequence number, release ns) pairs and the arrival spacing (ns)."""
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("ports: {a: {device: n0}, b: {device: n1}}\n"
                    f"links:\n  - {{name: ab, from: a, to: b, {link_fields}}}\nseed: 3\n")
        out = os.path.join(d, "o.pcap")
        subprocess.run([sim, cfg, "--synthetic", f"rate={rate},size={size},count={count}", "--out", out],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        data = open(out, "rb").read()
    got, at = [], 24
    while at + 16 <= len(data):
        s, ns, l, _ = struct.unpack("<IIII", data[at:at + 16])
        seq = struct.unpack("<Q", data[at + 16 + 14:at + 16 + 22])[0]
        got.append((seq, s * 10**9 + ns))
        at += 16 + l
    return got


def loss_row(name, fields, expect_loss, expect_burst, count=400_000):
    got = {seq for seq, _ in run(fields, "1Mpps", count)}
    lost = [i not in got for i in range(count)]
    n_lost = sum(lost)
    runs = sum(1 for i in range(count) if lost[i] and (i == 0 or not lost[i - 1]))
    burst = n_lost / runs if runs else 0
    expected_burst = "n/a" if math.isnan(expect_burst) else f"{expect_burst:.2f}"
    print(f"| {name} | `{fields}` | {expect_loss:.4%} | {n_lost / count:.4%} | {expected_burst} | {burst:.2f} |")


def delay_row(name, fields, expect_mean, expect_sd, expect_median, count=100_000):
    got = run(fields, "1pps", count)  # one packet per second: delays never reorder
    d = sorted((t - seq * 10**9) / 1e6 for seq, t in got)
    mean = sum(d) / len(d)
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))
    median = "n/a" if math.isnan(expect_median) else f"{expect_median:.3f}"
    print(f"| {name} | `{fields}` | {expect_mean:.3f} / {expect_sd:.3f} / {median} | "
          f"{mean:.3f} / {sd:.3f} / {d[len(d) // 2]:.3f} |")


print("Loss models, 400 000 packets each, seed 3 (expected burst: mean length of a run of losses)\n")
print("| model | configuration | expected loss | measured loss | expected burst | measured burst |")
print("|---|---|---|---|---|---|")
loss_row("bernoulli", "loss: 1%", 0.01, 1 / 0.99)
loss_row("gilbert_elliott", "loss: {plugin: gilbert_elliott, p: 1%, r: 30%}", 0.01 / 0.31, 1 / 0.3)
loss_row("gilbert_elliott", "loss: {plugin: gilbert_elliott, mean_loss: 2%, mean_burst: 3}", 0.02, 3)
p13, p31, p32, p23, p14 = 0.01, 0.7, 0.2, 0.05, 0.005
P = [[1 - p13 - p14, 0, p13, p14], [0, 1 - p23, p23, 0], [p31, p32, 1 - p31 - p32, 0], [1, 0, 0, 0]]
pi = [1, 0, 0, 0]
for _ in range(20000):
    pi = [sum(pi[a] * P[a][b] for a in range(4)) for b in range(4)]
loss_row("markov4", "loss: {plugin: markov4, p13: 1%, p31: 70%, p32: 20%, p23: 5%, p14: 0.5%}", pi[2] + pi[3], float("nan"))
loss_row("ber (100-byte frames)", "loss: {plugin: ber, ber: 1e-5}", 1 - (1 - 1e-5) ** 800, 1 / (1 - (1 - (1 - 1e-5) ** 800)))
loss_row("pattern", "loss: {plugin: pattern, every: 50}", 0.02, 1)

print("\nDelay models, 100 000 packets each, seed 3: mean / standard deviation / median, in ms\n")
print("| model | configuration | expected | measured |")
print("|---|---|---|---|")
delay_row("constant", "delay: 20ms", 20, 0, 20)
delay_row("uniform", "delay: {plugin: uniform, mean: 20ms, jitter: 2ms}", 20, 2 / math.sqrt(3), 20)
delay_row("normal", "delay: {plugin: normal, mean: 20ms, stddev: 2ms}", 20, 2, 20)
delay_row("pareto", "delay: {plugin: pareto, mean: 20ms, jitter: 2ms}", 20, 2, 20 + 2 * (2 ** (1 / 3) - 1.5) / math.sqrt(0.75))
delay_row("paretonormal", "delay: {plugin: paretonormal, mean: 20ms, stddev: 2ms}", 20, 2, float("nan"))
delay_row("exponential", "delay: {plugin: exponential, min: 10ms, mean: 5ms}", 15, 5, 10 + 5 * math.log(2))
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    f.write("\n".join(str(i) for i in range(1, 101)) + "\n")
samples = f.name
# Interpolating between the sorted samples makes it uniform on [1, 100] ms.
delay_row("empirical (samples 1..100 ms)", f"delay: {{plugin: empirical, file: {samples}}}", 50.5, 99 / math.sqrt(12), 50.5)
os.unlink(samples)
