#!/usr/bin/env python3
"""A/B of two linkem builds on bench rows (b) and (d), back to back.

    tools/bench_ab.py A_TREE B_TREE [--runs 3] [--seconds 8] [--warmup 3]
    tools/bench_ab.py A_TREE B_TREE --instructions


A_TREE and B_TREE are source trees with a built build/app/linkem (and its
plugins), for example a worktree of the commit before a change and this one.
The rows are tools/bench.py's (b) (one direction, 10 ms normal jitter, 1%
loss) and (d) (both directions, as (b)); runs alternate A, B, A, B, ... so
a slow spell of the host hits both. Prints each run and the medians, and B
against A in percent.

On a VM that loses a fifth of its time in gaps of milliseconds the run
medians wander by a third; interference only ever takes speed away, so the
table also gives the 90th percentile of every per-second sample of a side
(the seconds the host left alone), which is the steadier comparison.

--instructions runs each build once per row under valgrind's callgrind
instead (3 s; about 1 Mpps there) and prints the instructions each lcore
stage executes per packet: the rx stage (receive, classify, models, copy
into the arena) per packet received, the tx stage (take what is due,
transmit, observe) per packet sent. Counts of instructions do not depend on
what the host does beside the run, so they show a change of the work per
packet that throughput on a busy VM cannot; they do not show cache effects.
A benchmark, not a test: nothing is asserted.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def instructions_per_packet(tree, config_text, seconds=3):
    """(rx stage instructions per packet received, tx stage per packet sent) under callgrind."""
    with tempfile.TemporaryDirectory() as d:
        cfg, stats, out = (os.path.join(d, n) for n in ("bench.yaml", "stats.json", "callgrind.out"))
        open(cfg, "w").write(config_text)
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                              os.path.join(tree, "build/app/linkem"), cfg, "--duration", f"{seconds}s", "--stats-json", stats],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"bench_ab: linkem under callgrind failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
        links = json.load(open(stats))["links"]
        rx = sum(l["rx_packets"] for l in links)
        tx = sum(l["tx_packets"] for l in links)
        text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out], capture_output=True, text=True).stdout
        def inclusive(function):
            # The function's own entry is the largest: others are the parts of it inlined from a header.
            counts = [int(m.group(1).replace(",", "")) for m in re.finditer(
                r"^\s*([\d,]+) \([\d. %]+\)\s+\S*:linkem::\(anonymous namespace\)::" + function + r"\(", text, re.M)]
            if not counts:
                sys.exit(f"bench_ab: no {function} in the callgrind profile of {tree}")
            return max(counts)
        return inclusive("rx_stage") / rx, inclusive("tx_stage") / tx


def instructions(trees, rows):
    print("| row | A rx stage instructions per packet | B | B vs A | A tx stage instructions per packet | B | B vs A |")
    print("|---|---|---|---|---|---|---|")
    for name, text, _ in rows:
        (arx, atx), (brx, btx) = (instructions_per_packet(trees[k], text) for k in ("A", "B"))
        print(f"| {name} | {arx:.0f} | {brx:.0f} | {100 * (brx - arx) / arx:+.1f}% | {atx:.0f} | {btx:.0f} | {100 * (btx - atx) / atx:+.1f}% |",
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a_tree")
    ap.add_argument("b_tree")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--instructions", action="store_true", help="instructions per packet under callgrind instead of throughput")
    a = ap.parse_args()
    rows = [("(b) 1 dir, 10 ms, bernoulli 1% + normal", bench.config(False, 10, True), 1),
            ("(d) both dirs, as (b)", bench.config(True, 10, True), 2)]
    trees = {"A": os.path.abspath(a.a_tree), "B": os.path.abspath(a.b_tree)}
    for tree in trees.values():
        if not os.access(os.path.join(tree, "build/app/linkem"), os.X_OK):
            sys.exit(f"bench_ab: no build/app/linkem in {tree}")
    print(f"A = {trees['A']}\nB = {trees['B']}\n")
    if a.instructions:
        instructions(trees, rows)
        return
    print("| row | A Mpps per direction (runs) | B Mpps per direction (runs) | A median | B median | B vs A "
          "| A p90 of seconds | B p90 of seconds | B vs A |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, text, directions in rows:
        got = {"A": [], "B": []}
        seconds = {"A": [], "B": []}
        for _ in range(a.runs):
            for side in ("A", "B"):
                bench.ROOT = trees[side]
                mpps, samples, _ = bench.linkem_samples(text, a.seconds, a.warmup, directions)
                got[side].append(mpps)
                seconds[side] += samples
        ma, mb = statistics.median(got["A"]), statistics.median(got["B"])
        pa, pb = (statistics.quantiles(seconds[k], n=10)[-1] for k in ("A", "B"))
        runs = {k: ", ".join(f"{v:.2f}" for v in got[k]) for k in got}
        print(f"| {name} | {runs['A']} | {runs['B']} | {ma:.2f} | {mb:.2f} | {100 * (mb - ma) / ma:+.1f}% "
              f"| {pa:.2f} | {pb:.2f} | {100 * (pb - pa) / pa:+.1f}% |", flush=True)


if __name__ == "__main__":
    main()
