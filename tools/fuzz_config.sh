#!/usr/bin/env bash
# Fuzz the configuration loader with libFuzzer + AddressSanitizer/UBSan.
#   tools/fuzz_config.sh [SECONDS]   (default 60)
# Seeds the corpus with config/*.yaml; crashes land in build-fuzz/crash-*.
# Needs clang-14 (Debian package clang-14); not part of tools/test.sh.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
out=$top/build-fuzz
command -v clang++-14 >/dev/null || { apt-get install -y -q clang-14 >/dev/null; }
mkdir -p "$out/corpus"
cp "$top"/config/*.yaml "$out/corpus/"
clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$top/core/include" \
    "$top/test/fuzz_config.cpp" "$top/core/config_load.cpp" "$top/core/config_print.cpp" \
    "$top/core/units.cpp" "$top/core/suggest.cpp" \
    $(pkg-config --cflags --libs yaml-cpp fmt) -o "$out/fuzz_config"
cd "$out"
./fuzz_config -max_total_time="$seconds" -max_len=4096 -timeout=2 -rss_limit_mb=2048 corpus
