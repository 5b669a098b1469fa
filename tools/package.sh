#!/usr/bin/env bash
# Builds a Debian package of linkem from a meson build: tools/package.sh [BUILD_DIR]
#
#   BUILD_DIR   a configured build (default: $LINKEM_BUILD_DIR or ./build, the one
#               tools/setup.sh makes); ninja brings it up to date first.
#   output      $LINKEM_PACKAGE_DIR (default BUILD_DIR/deb)/linkem_VERSION_ARCH.deb;
#               the last line printed is its path.
#
# The package holds what `meson install` installs (linkem, linkemctl, linkem-sim,
# linkem-wire (tools/wire.sh), the plugins, plugin.h and linkem-plugin.pc,
# the man pages linkem(1), linkemctl(1), linkem-sim(1), linkem.yaml(5) and linkem-plugin(7),
# docs/*.md, and the example configurations and the plugin template in
# /usr/share/linkem/examples), under /usr: a build
# configured for another prefix (meson's default is /usr/local) is moved there,
# which is sound because the executables find their plugins relative to
# themselves (docs/PLUGINS.md "Finding models"). For a release, configure a
# build of its own: meson setup build-release --prefix=/usr --buildtype=release.
# Executables and plugins are stripped (LINKEM_PACKAGE_STRIP=0 keeps the
# debug information).
#
# Version: the project's version, then +git<commits>.g<commit> from the
# commit the binaries were built from (".dirty" when the tree had changes),
# as `linkem --version` prints it: 0.1.0+git122.ge1ff209a1b2c.
# Depends: the shared libraries the binaries link (dpkg-shlibdeps: DPDK's
# librte-*, libyaml-cpp0.7, libfmt9, libstdc++6, libc6) and the DPDK drivers
# EAL loads at run time for the virtual devices (mempool ring, af_packet,
# null, ring, pcap, tap); Recommends: dpdk (dpdk-devbind.py, dpdk-hugepages.py
# and the NIC drivers), ethtool and iproute2 (tools/wire.sh's work); Suggests:
# a C compiler, libc6-dev and pkg-config (to build a model of your own against
# plugin.h, linkem-plugin(7)).
# Needs dpkg-deb and dpkg-shlibdeps (dpkg-dev). Tested by
# test/package_contents.sh (fast, in the default run) and
# test/package_chroot.sh (installs it in a Debian 12 chroot, builds the
# template plugin there; slow, by hand).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(realpath -m "${1:-${LINKEM_BUILD_DIR:-$top/build}}")
out_dir=$(realpath -m "${LINKEM_PACKAGE_DIR:-$build_dir/deb}")

say() { printf 'package: %s\n' "$*" >&2; }
fail() { printf 'package: %s\n' "$*" >&2; exit 1; }

for tool in dpkg-deb dpkg-shlibdeps meson ninja; do
    command -v "$tool" >/dev/null || fail "needs $tool (tools/setup.sh installs it)"
done
[ -f "$build_dir/build.ninja" ] || fail "$build_dir is not a meson build directory (run tools/setup.sh, or meson setup $build_dir)"

ninja -C "$build_dir" >&2 || fail "the build failed"

option() {  # option NAME: a build option's value
    meson introspect "$build_dir" --buildoptions |
        python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix=$(option prefix)
project_version=$(meson introspect "$build_dir" --projectinfo | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
commit=$(sed -n 's/^#define LINKEM_GIT_COMMIT "\(.*\)"$/\1/p' "$build_dir/core/linkem_commit.h")
[ -n "$commit" ] || fail "no commit in $build_dir/core/linkem_commit.h"
count=$(git -C "$top" rev-list --count HEAD 2>/dev/null || echo 0)
if [ "$commit" = unknown ]; then
    version=$project_version
else
    version="$project_version+git$count.g${commit//-/.}"
fi
arch=$(dpkg --print-architecture)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root

meson install -C "$build_dir" --destdir "$root" --no-rebuild --quiet >&2 || fail "meson install failed"
if [ "$prefix" != /usr ]; then
    [ -d "$root$prefix" ] || fail "meson installed nothing under $prefix"
    mkdir -p "$root/usr"
    cp -a "$root$prefix/." "$root/usr/"
    rm -rf "${root:?}$prefix"
    rmdir -p --ignore-fail-on-non-empty "$(dirname "$root$prefix")" 2>/dev/null || true
    find "$root/usr" -name '*.pc' -exec sed -i "s|^prefix=$prefix\$|prefix=/usr|" {} +
    say "moved the install from $prefix to /usr"
fi
[ -x "$root/usr/bin/linkem" ] || fail "no usr/bin/linkem in the install"
[ -x "$root/usr/bin/linkemctl" ] || fail "no usr/bin/linkemctl in the install"

# Strip, compress the man pages, add the copyright file Debian asks for.
elf_files=()
while IFS= read -r -d '' f; do
    head -c 4 "$f" | grep -q 'ELF' && elf_files+=("$f")
done < <(find "$root/usr/bin" "$root/usr/lib" -type f -print0)
if [ "${LINKEM_PACKAGE_STRIP:-1}" != 0 ]; then
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "${elf_files[@]}"
fi
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
doc=$root/usr/share/doc/linkem
mkdir -p "$doc"
cat > "$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: linkem

Files: *
Copyright: the linkem developers
License: BSD-3-Clause
 On Debian systems, the full text of the BSD 3-clause license is in
 /usr/share/common-licenses/BSD.
EOF
printf 'linkem (%s) unstable; urgency=medium\n\n  * Built from commit %s by tools/package.sh.\n\n -- linkem developers <linkem@localhost>  %s\n' \
    "$version" "$commit" "$(date -R)" | gzip -9n > "$doc/changelog.Debian.gz"

# Depends: the libraries the ELF files link, then the drivers EAL loads at run time.
mkdir -p "$stage/src/debian"
printf 'Source: linkem\n\nPackage: linkem\nArchitecture: any\n' > "$stage/src/debian/control"
shlibs=$(cd "$stage/src" && dpkg-shlibdeps -O "${elf_files[@]}" 2>"$stage/shlibdeps.err") ||
    { cat "$stage/shlibdeps.err" >&2; fail "dpkg-shlibdeps failed"; }
depends=$(sed -n 's/^shlibs:Depends=//p' <<< "$shlibs")
pmd_dir=$(pkg-config --variable=pmdinfo_dir libdpdk 2>/dev/null || true)
[ -n "$pmd_dir" ] || pmd_dir=$(ls -d /usr/lib/"$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"/dpdk/pmds-* 2>/dev/null | head -n 1)
for driver in mempool_ring net_af_packet net_null net_ring net_pcap net_tap; do
    file=$(ls "$pmd_dir"/librte_"$driver".so.* 2>/dev/null | head -n 1)
    [ -n "$file" ] || fail "DPDK's $driver driver is not installed in ${pmd_dir:-its driver directory}"
    pkg=$(dpkg -S "$file" 2>/dev/null | head -n 1 | cut -d: -f1)
    [ -n "$pkg" ] || fail "no Debian package owns $file"
    case ", $depends, " in *", $pkg"[\ ,]*) ;; *) depends="$depends, $pkg" ;; esac
done

installed_kib=$(du -sk "$root/usr" | cut -f1)
mkdir -p "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<EOF
Package: linkem
Version: $version
Architecture: $arch
Maintainer: linkem developers <linkem@localhost>
Installed-Size: $installed_kib
Depends: $depends
Recommends: dpdk, ethtool, iproute2
Suggests: gcc | c-compiler, libc6-dev, pkg-config
Section: net
Priority: optional
Description: DPDK link emulator: bandwidth, queues, delay, loss as a bump in the wire
 linkem sits between two DPDK ports and makes the traffic crossing it behave
 as if it had crossed a real link: limited bandwidth, a finite queue, delay
 with jitter, random and bursty loss, duplication, corruption and reordering,
 per direction or per flow, from a YAML file. Loss, delay and bandwidth
 models are plugins behind a small C ABI (/usr/include/linkem/plugin.h).
 linkem-sim runs the same models in virtual time on a capture; linkemctl
 shows, changes and watches a running linkem by its name (DPDK telemetry).
 .
 Built from commit $commit.
EOF
(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"

mkdir -p "$out_dir"
deb=$out_dir/linkem_${version}_$arch.deb
rm -f "$out_dir"/linkem_*.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2 || fail "dpkg-deb failed"
say "$(du -h "$deb" | cut -f1) ($installed_kib KiB installed), Depends: $depends"
echo "$deb"
