#!/usr/bin/env python3
"""A/B of two linkem builds on bench rows (b) and (d), back to back.

    tools/bench_ab.py A_TREE B_TREE [--runs 3] [--seconds 8] [--warmup 3]

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
A benchmark, not a test: nothing is asserted.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a_tree")
    ap.add_argument("b_tree")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    rows = [("(b) 1 dir, 10 ms, bernoulli 1% + normal", bench.config(False, 10, True), 1),
            ("(d) both dirs, as (b)", bench.config(True, 10, True), 2)]
    trees = {"A": os.path.abspath(a.a_tree), "B": os.path.abspath(a.b_tree)}
    for tree in trees.values():
        if not os.access(os.path.join(tree, "build/app/linkem"), os.X_OK):
            sys.exit(f"bench_ab: no build/app/linkem in {tree}")
    print(f"A = {trees['A']}\nB = {trees['B']}\n")
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
