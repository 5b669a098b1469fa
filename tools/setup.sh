#!/usr/bin/env bash
# Idempotent set-up for linkem on Debian 12, run as root:
#   1. install the Debian packages the build and tests need (apt-get update once),
#   2. reserve 2 MiB hugepages when the kernel allows it (warn, never fail, when not),
#   3. configure (meson) and build (ninja) into ./build.
# Called by tools/demo.sh and tools/test.sh; safe to run again at any time.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LINKEM_BUILD_DIR:-$top/build}
# 2 MiB hugepages to reserve: LINKEM_HUGEPAGES, or 1 GiB (512 pages), and
# never more than an eighth of the machine's memory.
mem_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
hugepages_cap=$(( mem_kib / 8 / 2048 ))
hugepages_wanted=${LINKEM_HUGEPAGES:-$(( hugepages_cap < 512 ? hugepages_cap : 512 ))}

say() { printf 'setup: %s\n' "$*"; }

packages=(
  build-essential pkg-config meson ninja-build
  libdpdk-dev dpdk dpdk-dev
  libyaml-cpp-dev libfmt-dev nlohmann-json3-dev catch2
  libcpp-httplib-dev python3-prometheus-client  # stats.prometheus's server; its test parses the scrape
  libns3-dev       # ns-3's queue discs: the reference for linkem's queues (tools/ns3, the ns3-reference test)
  libcli11-dev     # linkemctl's command line
  iproute2 ethtool iputils-ping iperf3 python3 python3-matplotlib tcpdump
  tcpreplay  # tools/replay_compare.sh: replay timing beside linkem's
  clang-14 libclang-rt-14-dev  # libFuzzer for tools/fuzz.sh (the fuzz-smoke test)
  dpkg-dev man-db  # tools/package.sh (dpkg-shlibdeps) and its man page check
  debootstrap      # test/package_chroot.sh: the .deb installed in a Debian 12 chroot
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages: all present"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

reserve_hugepages() {
  local nr=/proc/sys/vm/nr_hugepages have
  have=$(cat "$nr" 2>/dev/null || echo 0)
  if [ "$have" -lt "$hugepages_wanted" ] && [ -w "$nr" ]; then
    echo "$hugepages_wanted" > "$nr" 2>/dev/null || true
    have=$(cat "$nr" 2>/dev/null || echo 0)
  fi
  if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
    mkdir -p /dev/hugepages 2>/dev/null || true
    mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
  fi
  if [ "$have" -gt 0 ] && grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
    say "hugepages: $have x 2 MiB reserved, hugetlbfs on /dev/hugepages"
  else
    say "hugepages: none could be reserved; linkem will run with --no-huge (slower, fine for tests)"
  fi
}

build() {
  local werror=false
  [ "${CI:-}" = "true" ] && werror=true
  if [ ! -f "$build_dir/build.ninja" ]; then
    say "configuring $build_dir (werror=$werror)"
    meson setup "$build_dir" "$top" --buildtype=debugoptimized -Dwerror="$werror"
  elif ! meson introspect "$build_dir" --buildoptions 2>/dev/null |
         python3 -c 'import json,sys; sys.exit(0 if any(o["name"]=="werror" and str(o["value"]).lower()==sys.argv[1] for o in json.load(sys.stdin)) else 1)' "$werror"; then
    say "reconfiguring $build_dir (werror=$werror)"
    meson configure "$build_dir" -Dwerror="$werror" >/dev/null
  fi
  say "building"
  ninja -C "$build_dir"
}

install_packages
reserve_hugepages
[ "${LINKEM_SETUP_NO_BUILD:-}" = "1" ] || build
