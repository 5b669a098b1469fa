#!/usr/bin/env bash
# Run every linkem test. One of the README's two commands; CI runs exactly this.
# Installs and builds what is missing first (tools/setup.sh), then runs all
# tests meson knows but the package-chroot suite (arguments go to meson test
# instead), and ends with one line: "N passed, N failed, N skipped",
# counting test cases. Exit status is non-zero when anything failed.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LINKEM_BUILD_DIR:-$top/build}

if ! "$top/tools/setup.sh"; then
    echo "test: set-up or build failed"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi

rm -f "$build_dir/meson-logs/testlog.json"
# Without arguments: every test but the slow package-chroot suite (the .deb
# installed in a Debian 12 chroot, minutes; run it with --suite package-chroot).
[ $# -gt 0 ] || set -- --no-suite package-chroot
meson test -C "$build_dir" --print-errorlogs "$@"
meson_status=$?

python3 "$top/tools/test_summary.py" "$build_dir/meson-logs/testlog.json"
summary_status=$?

[ "$meson_status" -eq 0 ] && [ "$summary_status" -eq 0 ]
