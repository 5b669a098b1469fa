#!/usr/bin/env python3
"""Many runtime changes to a running linkem, over one DPDK telemetry connection.

    tools/steer_stress.py [--name linkem] [--link a-to-b] [--per-second 1000]
                          [--seconds 10] [--values delay=10ms,delay=11ms]

Sends `/linkem/set,LINK KEY=VALUE` at the given rate (one connection, as
linkemctl would send them one by one), alternating between the values, and
prints how many were accepted, refused or unanswered, and the time each took
to be answered (p50/p99/max: linkem answers once the lcore took the change).
Exit status 1 when any change was not accepted. The socket is EAL's
/var/run/dpdk/NAME/dpdk_telemetry.v2 (NAME: linkem's --name).
"""
import argparse
import json
import os
import socket
import statistics
import sys
import time


def connect(name):
    path = f"/var/run/dpdk/{name}/dpdk_telemetry.v2"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
    except OSError as e:
        sys.exit(f"steer_stress: no linkem named {name!r} answers at {path}: {e.strerror}")
    hello = json.loads(s.recv(1 << 16))
    return s, hello


def status_of(reply):
    """The status linkem put in its reply (0 accepted), wherever the command's name nests it."""
    if isinstance(reply, dict):
        if "status" in reply and isinstance(reply["status"], int):
            return reply["status"]
        for value in reply.values():
            found = status_of(value)
            if found is not None:
                return found
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="linkem")
    ap.add_argument("--link", default="a-to-b")
    ap.add_argument("--per-second", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--values", default="delay=10ms,delay=11ms", help="comma-separated KEY=VALUE sets to alternate")
    a = ap.parse_args()
    values = a.values.split(",")
    s, hello = connect(a.name)
    max_output = hello.get("max_output_len", 16384)
    gap = 1.0 / a.per_second
    took, refused, unanswered, messages = [], 0, 0, {}
    start = time.monotonic()
    n = int(a.seconds * a.per_second)
    for k in range(n):
        due = start + k * gap
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        sent = time.monotonic()
        try:
            s.send(f"/linkem/set,{a.link} {values[k % len(values)]}".encode())
            reply = json.loads(s.recv(max_output))
        except (OSError, ValueError) as e:
            unanswered += 1
            if isinstance(e, OSError):  # linkem closed the connection (it stopped): the rest cannot be sent
                unanswered += n - k - 1
                print(f"steer_stress: the connection broke after {k} changes: {e.strerror}")
                break
            continue
        took.append(time.monotonic() - sent)
        status = status_of(reply)
        if status != 0:
            refused += 1
            text = json.dumps(reply)[:200]
            messages[text] = messages.get(text, 0) + 1
    elapsed = time.monotonic() - start
    print(f"steer_stress: {n} changes to {a.link} in {elapsed:.1f} s ({n / elapsed:.0f}/s): "
          f"{len(took) - refused} accepted, {refused} refused, {unanswered} unanswered")
    if took:
        q = statistics.quantiles(took, n=100) if len(took) > 1 else [took[0]] * 99
        print(f"answered in p50 {q[49] * 1e6:.0f} us, p99 {q[98] * 1e6:.0f} us, max {max(took) * 1e6:.0f} us")
    for text, count in messages.items():
        print(f"  {count} x {text}")
    sys.exit(0 if refused == 0 and unanswered == 0 else 1)


if __name__ == "__main__":
    main()
