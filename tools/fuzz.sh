#!/usr/bin/env bash
# libFuzzer targets with AddressSanitizer + UndefinedBehaviorSanitizer.
#   tools/fuzz.sh list                   the targets
#   tools/fuzz.sh TARGET [SECONDS]       build and fuzz one target (default 60 s)
#   tools/fuzz.sh smoke [SECONDS_EACH]   build and fuzz every target (default 5 s each)
#
# A target is test/fuzz_<target>.cpp defining LLVMFuzzerTestOneInput. Its own
# comment lines say how it is built:
#   // fuzz-sources: core/a.cpp core/b.cpp   the sources it links (required)
#   // fuzz-libs: yaml-cpp fmt                pkg-config names (optional)
#   // fuzz-args: -max_len=4096               extra libFuzzer flags (optional)
# Everything lands in build-fuzz/ (gitignored): objects (each core source is
# compiled once for all targets), build-fuzz/<target>/fuzz_<target>, its
# corpus (kept between runs; seeded from test/fuzz_seeds/<target>/ and, for
# the config target, config/*.yaml; test/fuzz_seeds/<target>.dict, if there,
# is its libFuzzer dictionary) and any crash-*, timeout-*, oom-* or
# leak-* input, which reproduces with: build-fuzz/<target>/fuzz_<target> FILE
#
# Every run: -timeout=2 (one input taking 2 s is a finding), -rss_limit_mb=2048.
# Prints "[linkem-case] PASS|FAIL fuzz <target> (N runs in S s)" per target
# (tools/test_summary.py counts them) and exits 1 if any target found
# something; exits 77 (skipped) when clang++-14 or its libFuzzer runtime is
# missing (Debian 12 packages clang-14 and libclang-rt-14-dev; tools/setup.sh
# installs them). The meson test fuzz-smoke runs "smoke 5".
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${LINKEM_FUZZ_DIR:-$top/build-fuzz}
cxx=${LINKEM_FUZZ_CXX:-clang++-14}
sanitize=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
cxxflags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -I"$top/core/include")

usage() { sed -n '2,5s/^# \{0,1\}//p' "$0"; exit 2; }

targets() { for f in "$top"/test/fuzz_*.cpp; do [ -e "$f" ] && basename "$f" .cpp | sed 's/^fuzz_//'; done; }

# The value of a "// fuzz-KEY:" line of a target's source.
directive() { sed -n "s|^// fuzz-$2:[[:space:]]*||p" "$top/test/fuzz_$1.cpp" | head -n 1; }

# Can clang build a libFuzzer binary here? (clang-14 without libclang-rt-14-dev cannot link one.)
toolchain_ready() {
    command -v "$cxx" >/dev/null || return 1
    mkdir -p "$out"
    printf '#include <cstdint>\n#include <cstddef>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t *, size_t) { return 0; }\n' \
        > "$out/probe.cpp"
    "$cxx" "${sanitize[@]}" "$out/probe.cpp" -o "$out/probe" 2>"$out/probe.log"
}

object_path() { echo "$out/obj/$(echo "${1#"$top"/}" | tr / _).o"; }

# Compiles one source (flags in $2) into build-fuzz/obj/ unless its object is
# newer than it and than every project header.
compile() {
    local src=$1 obj
    obj=$(object_path "$src")
    if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$top/core/include" -newer "$obj" -name '*.hpp' | head -n 1)" ]; then
        # shellcheck disable=SC2086
        "$cxx" "${cxxflags[@]}" "${sanitize[@]}" $2 -c "$src" -o "$obj.$$.tmp" && mv "$obj.$$.tmp" "$obj"
    fi
}

# Builds build-fuzz/<target>/fuzz_<target>, its sources compiled side by side.
build() {
    local target=$1 sources libs flags= objects=() pids=() src failed=0 pid
    sources=$(directive "$target" sources)
    libs=$(directive "$target" libs)
    [ -n "$sources" ] || { echo "fuzz: test/fuzz_$target.cpp has no '// fuzz-sources:' line" >&2; return 1; }
    if [ -n "$libs" ]; then
        # shellcheck disable=SC2086
        flags=$(pkg-config --cflags $libs) || return 1
    fi
    mkdir -p "$out/obj" "$out/$target"
    for src in "test/fuzz_$target.cpp" $sources; do
        [ -e "$top/$src" ] || { echo "fuzz: $target: no source $src" >&2; return 1; }
        compile "$top/$src" "$flags" &
        pids+=($!)
        objects+=("$(object_path "$top/$src")")
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    [ "$failed" -eq 0 ] || return 1
    # shellcheck disable=SC2046,SC2086
    "$cxx" "${sanitize[@]}" "${objects[@]}" $([ -z "$libs" ] || pkg-config --libs $libs) -o "$out/$target/fuzz_$target"
}

seed() {
    local target=$1 corpus=$out/$1/corpus
    mkdir -p "$corpus"
    [ -d "$top/test/fuzz_seeds/$target" ] && cp "$top/test/fuzz_seeds/$target"/* "$corpus/" 2>/dev/null
    [ "$target" = config ] && cp "$top"/config/*.yaml "$corpus/"
    return 0
}

# Runs one built target for $2 seconds; prints its verdict line.
run() {
    local target=$1 seconds=$2 dir=$out/$1 log status runs
    log=$dir/last-run.log
    seed "$target"
    local dict=()
    [ ! -e "$top/test/fuzz_seeds/$target.dict" ] || dict=(-dict="$top/test/fuzz_seeds/$target.dict")
    # shellcheck disable=SC2046
    (cd "$dir" && exec ./"fuzz_$target" -max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 \
        -artifact_prefix="$dir/" -print_final_stats=1 "${dict[@]}" $(directive "$target" args) corpus) >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$status" -eq 0 ]; then
        echo "[linkem-case] PASS fuzz $target (${runs:-?} runs in $seconds s, corpus $(ls "$dir/corpus" | wc -l) inputs)"
    else
        echo "[linkem-case] FAIL fuzz $target (exit $status after ${runs:-?} runs; log $log)"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|.*runtime error)' "$log" | head -n 8
    fi
    [ "$status" -eq 0 ]  # libFuzzer's own failure status is 77, which meson would read as "skipped"
}

[ $# -ge 1 ] || usage
case $1 in
-h | --help) usage ;;
list) targets; exit 0 ;;
esac
if ! toolchain_ready; then
    echo "skipped: needs $cxx with its libFuzzer runtime (Debian packages clang-14, libclang-rt-14-dev)"
    exit 77
fi
if [ "$1" = smoke ]; then
    seconds=${2:-5}
    failed=0
    for target in $(targets); do
        if ! build "$target"; then
            echo "[linkem-case] FAIL fuzz $target (does not build)"
            failed=1
            continue
        fi
        run "$target" "$seconds" || failed=1
    done
    exit "$failed"
fi
target=$1
seconds=${2:-60}
[ -e "$top/test/fuzz_$target.cpp" ] || { echo "fuzz: no target \"$target\" (targets: $(targets | tr '\n' ' '))" >&2; exit 2; }
build "$target" || exit 1
run "$target" "$seconds"
