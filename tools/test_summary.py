#!/usr/bin/env python3
"""Count test cases across every test meson ran and print the closing line.

Input: meson's build/meson-logs/testlog.json (one JSON object per test).
Catch2 binaries print "[linkem-case] PASS|FAIL|SKIP <name>" per test case
(test/catch_main.cpp); those lines are counted one by one. A test without
such lines (a script) counts as one case: meson's OK is a pass, SKIP (exit 77)
a skip, anything else a failure. A binary that failed without reporting a
failing case (a crash, a timeout) adds one failure, so nothing fails silently.

Output ends with: "N passed, N failed, N skipped". Exit status 1 on any failure.
"""
import json
import sys


def main(path):
    passed = failed = skipped = 0
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        print(f"test summary: cannot read {path}: {e}")
        print("0 passed, 1 failed, 0 skipped")
        return 1
    for line in lines:
        test = json.loads(line)
        name, result, out = test["name"], test["result"], test.get("stdout") or ""
        cases = [(l.split(" ", 2) + ["", ""])[1:3] for l in out.splitlines() if l.startswith("[linkem-case] ")]
        for l in out.splitlines():
            if l.startswith("[linkem-skip] "):
                print(f"skipped: {name}: {l[len('[linkem-skip] '):]}")
        if cases:
            p = sum(1 for verdict, _ in cases if verdict == "PASS")
            f = sum(1 for verdict, _ in cases if verdict == "FAIL")
            s = sum(1 for verdict, _ in cases if verdict == "SKIP")
            for verdict, case in cases:
                if verdict == "FAIL":
                    print(f"failed: {name}: {case}")
            if result != "OK" and f == 0:
                print(f"failed: {name}: the binary ended with {result} (exit {test.get('returncode')}) outside any test case")
                f = 1
            passed, failed, skipped = passed + p, failed + f, skipped + s
        elif result == "OK":
            passed += 1
        elif result == "SKIP":
            reason = out.strip().splitlines()[-1] if out.strip() else "no reason printed"
            print(f"skipped: {name}: {reason}")
            skipped += 1
        else:
            print(f"failed: {name}: {result} (exit {test.get('returncode')})")
            failed += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"))
