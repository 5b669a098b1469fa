#!/usr/bin/env python3
"""A runtime change under saturation, checked by arrival time (issue 17's first "Done when").

    tools/steer_check.py [--seconds 6] [--at 3] [--rate 1Gbit/s]

Runs linkem (build/app/linkem) on net_null ports (a saturates a-to-b) with a
link of RATE, a 1000-packet queue and 10 ms of delay, serving Prometheus
metrics; at AT seconds runs `linkemctl set a-to-b delay=30ms` and prints:
  - how long the command took, and when the change took effect (linkem's
    change line) against when the command returned;
  - the delay histogram of the packets released between a scrape before the
    command and one 1 s after it returned, by Prometheus bucket: the packets
    that arrived before the change have about 10 ms (plus the queue's wait),
    those after about 30 ms, none anything else;
  - how many of each there should be: the packets admitted to the link
    between the first scrape and the change instant (10 ms), and between it
    and the last scrape less 30 ms (30 ms), from linkem's per-second status
    is too coarse, so from the counters at the scrapes: tx before and after;
  - the drops by reason (only the queue's may be non-zero) and the
    accounting line.
Exit status 0 when every check holds, 1 otherwise. Uses /usr/bin/python3's
prometheus_client (python3-prometheus-client) to parse the scrapes.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

PORT = 9477


def scrape():
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5).read().decode()
    buckets, counters = {}, {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.labels.get("link") != "a-to-b":
                continue
            if s.name == "linkem_link_delay_seconds_bucket":
                buckets[float(s.labels["le"])] = s.value
            elif s.name.endswith("_total"):
                counters[(s.name, s.labels.get("reason", ""))] = s.value
    return buckets, counters


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--at", type=float, default=3)
    ap.add_argument("--rate", default="1Gbit/s")
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    cfg = os.path.join(work, "steer.yaml")
    with open(cfg, "w") as f:
        f.write("name: steercheck\nports:\n  a: { device: net_null0 }\n  b: { device: net_null1 }\n"
                f"links:\n  - {{ name: a-to-b, from: a, to: b, bandwidth: {a.rate}, queue: 1000 packets, delay: 10ms, "
                "arena: 256k packets }\n"
                f"pipeline: {{ lcores: [0, 1] }}\nstats: {{ prometheus: 127.0.0.1:{PORT} }}\n")
    log = open(os.path.join(work, "linkem.log"), "w+")
    linkem = subprocess.Popen([os.path.join(ROOT, "build/app/linkem"), cfg, "--duration", f"{a.seconds}s", "--stats-interval", "0"],
                              stdout=log, stderr=subprocess.STDOUT)
    time.sleep(a.at)
    before, counters_before = scrape()
    sent = time.time()
    ctl = subprocess.run([os.path.join(ROOT, "build/app/linkemctl"), "--name", "steercheck", "set", "a-to-b", "delay=30ms"],
                         capture_output=True, text=True)
    returned = time.time()
    time.sleep(1.0)
    after, counters_after = scrape()
    linkem.wait(timeout=a.seconds + 30)
    log.seek(0)
    out = log.read()
    ok = True
    print(f"linkemctl set a-to-b delay=30ms: exit {ctl.returncode}, {1e3 * (returned - sent):.1f} ms; {ctl.stdout.strip()}")
    ok &= ctl.returncode == 0
    m = re.search(r"^linkem: (\S+)Z change 1 at", out, re.M) or re.search(r"(\d{4}-\d\d-\d\dT[\d:.]+)Z change 1 at", out)
    if m:
        t = time.mktime(time.strptime(m.group(1).split(".")[0], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        effective = t + float("0." + m.group(1).split(".")[1])
        print(f"  the change took effect {1e3 * (effective - sent):+.1f} ms after the command was sent, "
              f"{1e3 * (effective - returned):+.1f} ms after it returned (the line's resolution is 1 ms)")
        ok &= effective <= returned + 0.001
    else:
        print("  no change line in linkem's output")
        ok = False
    print("delay of the packets released between the scrapes (Prometheus buckets, upper bounds in ms):")
    bounds = sorted(after)
    previous_cumulative = 0.0
    groups = {"about 10 ms (10-16.8)": 0, "about 30 ms (16.8-33.6)": 0, "anything else": 0}
    for le in bounds:
        cumulative = after[le] - before.get(le, 0.0)
        count = cumulative - previous_cumulative
        previous_cumulative = cumulative
        if count == 0:
            continue
        print(f"  <= {le * 1e3:8.3f} ms: {count:.0f}")
        lower = bounds[bounds.index(le) - 1] if bounds.index(le) > 0 else 0
        if 0.0083 < lower and le <= 0.0168:
            groups["about 10 ms (10-16.8)"] += count
        elif 0.0167 < lower and le <= 0.0336:
            groups["about 30 ms (16.8-33.6)"] += count
        else:
            groups["anything else"] += count
    for k, v in groups.items():
        print(f"  {k}: {v:.0f}")
    ok &= groups["anything else"] == 0 and groups["about 10 ms (10-16.8)"] > 0 and groups["about 30 ms (16.8-33.6)"] > 0
    drops = {k[1]: counters_after[k] for k in counters_after if k[0] == "linkem_link_drops_total"}
    print(f"drops at the last scrape: {drops}")
    ok &= all(v == 0 for r, v in drops.items() if r != "queue")
    balanced = re.search(r"^  accounting: .*", out, re.M)
    print(balanced.group(0).strip() if balanced else "no accounting line")
    ok &= bool(balanced) and balanced.group(0).endswith("balanced")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
