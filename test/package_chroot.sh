#!/usr/bin/env bash
# [package-chroot] tools/package.sh's .deb on a clean Debian 12: installed in a
# debootstrap chroot of bookworm with `apt-get install ./linkem_*.deb`, which
# must resolve every dependency from the Debian mirror (without Recommends: the
# Depends alone must suffice), then
#   - linkem --version and linkem-sim --version name the package's commit;
#   - linkem --check accepts an installed example configuration, and linkem
#     runs it (net_null ports: EAL and the drivers come from the Depends);
#   - linkem --list-plugins finds the 17 built-in models under /usr/lib;
#   - man -w finds linkem(1), linkem-sim(1), linkem.yaml(5), linkem-plugin(7);
#     linkem-wire is there;
#   - linkem-sim runs an installed example on synthetic input;
#   - a plugin author's path (docs/PLUGINS.md, linkem-plugin(7)): with gcc,
#     libc6-dev and pkg-config installed afterwards (a second apt-get install,
#     so the checks above ran on the Depends alone), `pkg-config --cflags
#     linkem-plugin` works and names the installed version and plugin
#     directory; the installed template (/usr/share/linkem/examples/sawtooth.c,
#     the same as plugins/template/sawtooth.c) builds with PLUGINS.md's
#     command against the installed header and exports lkm_entry alone;
#     linkem --check and --list-plugins load it; the installed linkem-sim runs
#     it and writes exactly the capture the build tree's linkem-sim writes with
#     the tree's template (whose delays test/template_plugin.sh checks against
#     its formula);
#   - apt-get remove takes the files away again.
#
#   test/package_chroot.sh [LINKEM.deb]     (default: builds one with tools/package.sh)
#
# Slow (minutes; the first run debootstraps), so NOT in the default run:
# tools/test.sh leaves its suite out; run it by hand or with
# `meson test -C build --suite package-chroot`. The chroot's base is cached as
# a tarball in $LINKEM_CACHE_DIR (default /var/cache/linkem): later runs
# unpack it instead of debootstrapping. The mirror is the one apt uses here
# (/etc/apt/sources.list or sources.list.d), which the chroot also gets.
# Needs root, debootstrap and unshare; exits 77 (skipped) without them.
# Prints "[linkem-case] PASS|FAIL name" per check.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${LINKEM_CACHE_DIR:-/var/cache/linkem}
tarball=$cache/bookworm-minbase.tar.gz

if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root"; exit 77; fi
for tool in debootstrap unshare chroot tar; do
    command -v "$tool" >/dev/null || { echo "skipped: needs $tool (tools/setup.sh installs debootstrap)"; exit 77; }
done

work=$(mktemp -d /var/tmp/linkem-chroot.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT

deb=${1:-}
if [ -z "$deb" ]; then
    deb=$(LINKEM_PACKAGE_DIR=$work/deb "$top/tools/package.sh" | tail -n 1) || { echo "tools/package.sh failed"; exit 1; }
fi
[ -f "$deb" ] || { echo "no package $deb"; exit 1; }
version=$(dpkg-deb -f "$deb" Version)
commit=${version##*.g}; commit=${commit%.dirty}
echo "package: $deb ($(du -h "$deb" | cut -f1)), version $version"
upstream=${version%%+*}

# What the template plugin must do in the chroot: the build tree's linkem-sim,
# with the template built from the tree, on the same configuration and input.
build_dir=$(realpath -m "${LINKEM_BUILD_DIR:-$top/build}")
mkdir -p "$work/template"
cp "$top/plugins/template/sawtooth.c" "$work/template/"
cat > "$work/template/sawtooth.yaml" <<'YAML'
ports: {a: {device: net_null0}, b: {device: net_null1}}
links:
  - {name: ab, from: a, to: b, delay: {plugin: ./sawtooth.so, min: 1ms, max: 3ms, period: 10ms}}
YAML
template_synthetic=rate=1428pps,size=100,count=100
if command -v cc >/dev/null && [ -x "$build_dir/app/linkem-sim" ] &&
    (cd "$work/template" && cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I"$top/plugins/include" sawtooth.c -o sawtooth.so -lm &&
        "$build_dir/app/linkem-sim" sawtooth.yaml --synthetic "$template_synthetic" --out expected.pcap > expected.log 2>&1); then
    rm -f "$work/template/sawtooth.so"
else
    echo "no reference capture for the template (needs cc and $build_dir/app/linkem-sim): the chroot's is checked by its size only"
    rm -f "$work/template/expected.pcap"
fi
rm -f "$work/template/sawtooth.so"
mv "$work/template/sawtooth.c" "$work/template/sawtooth.c.tree"

mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\([^ ]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

if [ ! -s "$tarball" ]; then
    echo "no cached chroot ($tarball): debootstrap bookworm from $mirror (a few minutes)"
    mkdir -p "$cache" || exit 1
    if ! debootstrap --variant=minbase --include=man-db bookworm "$work/base" "$mirror" > "$work/debootstrap.log" 2>&1; then
        tail -n 20 "$work/debootstrap.log"
        echo "debootstrap failed"; exit 1
    fi
    tar -czf "$tarball.part" --numeric-owner -C "$work/base" . && mv "$tarball.part" "$tarball" || exit 1
    rm -rf --one-file-system "$work/base"
fi

root=$work/root
mkdir -p "$root"
tar -xzf "$tarball" --numeric-owner -C "$root" || { echo "cannot unpack $tarball"; exit 1; }
# The host's apt sources and resolver, so that the chroot reaches the same mirror.
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list "$root/etc/apt/" 2>/dev/null || true
cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$root/etc/apt/sources.list.d/" 2>/dev/null || true
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
cp -r "$work/template" "$root/tmp/template"

# Everything inside runs in a mount namespace of its own: /proc, /sys and /dev
# vanish with it however the test ends.
cat > "$root/tmp/inside.sh" <<EOF
set -u
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin
verdict() { if [ "\$2" -eq 0 ]; then echo "[linkem-case] PASS \$1"; else echo "[linkem-case] FAIL \$1"; fi; }
apt-get update -q > /tmp/apt-update.log 2>&1 || { tail -n 20 /tmp/apt-update.log; exit 1; }
apt-get install -y -q --no-install-recommends /tmp/$(basename "$deb") > /tmp/apt-install.log 2>&1
status=\$?
tail -n 3 /tmp/apt-install.log
verdict "apt-get install ./$(basename "$deb") resolves its dependencies" \$status
[ \$status -eq 0 ] || exit 1
out=\$(linkem --version 2>&1); echo "\$out"
echo "\$out" | grep -q "^linkem [0-9.]* (commit $commit\(-dirty\)\{0,1\}), DPDK 22.11"; verdict "linkem --version names commit $commit" \$?
out=\$(linkem-sim --version 2>&1); echo "\$out"
echo "\$out" | grep -q "^linkem-sim [0-9.]* (commit $commit"; verdict "linkem-sim --version names commit $commit" \$?
linkem /usr/share/linkem/examples/minimal.yaml --check > /tmp/check.log 2>&1; s=\$?
[ \$s -eq 0 ] || cat /tmp/check.log
verdict "linkem --check /usr/share/linkem/examples/minimal.yaml" \$s
n=\$(linkem --list-plugins 2>&1 | grep -c "/usr/lib/[^ ]*/linkem/plugins/lkm_")
[ "\$n" -ge 17 ]; verdict "linkem --list-plugins finds the built-in models under /usr/lib (\$n)" \$?
linkem /usr/share/linkem/examples/minimal.yaml --duration 1s --stats-interval 0 > /tmp/run.log 2>&1; s=\$?
[ \$s -eq 0 ] && grep -q "balanced" /tmp/run.log || { tail -n 20 /tmp/run.log; s=1; }
verdict "linkem runs minimal.yaml (net_null ports, EAL and its drivers from the Depends) for 1 s" \$s
out=\$(linkem-wire 2>&1); s=\$?
[ \$s -eq 2 ] && echo "\$out" | grep -q "up IFACE_A IFACE_B"; verdict "linkem-wire prints its usage (status 2)" \$?
man -w linkem && man -w linkem-sim && man -w 5 linkem.yaml && man -w 7 linkem-plugin
verdict "man -w finds linkem(1), linkem-sim(1), linkem.yaml(5), linkem-plugin(7)" \$?
linkem-sim /usr/share/linkem/examples/minimal.yaml --synthetic rate=10kpps,size=1000,count=1000 > /tmp/sim.log 2>&1; s=\$?
tail -n 4 /tmp/sim.log
verdict "linkem-sim runs an installed example on synthetic input" \$s

# A plugin author's tools, installed after the checks above (the .deb only suggests them).
apt-get install -y -q --no-install-recommends gcc libc6-dev pkg-config > /tmp/apt-dev.log 2>&1; s=\$?
[ \$s -eq 0 ] || tail -n 20 /tmp/apt-dev.log
verdict "apt-get install gcc libc6-dev pkg-config (for the plugin checks)" \$s
cflags=\$(pkg-config --cflags linkem-plugin); s=\$?
modversion=\$(pkg-config --modversion linkem-plugin 2>&1)
plugindir=\$(pkg-config --variable=plugindir linkem-plugin 2>&1)
echo "pkg-config: cflags '\$cflags', version \$modversion, plugindir \$plugindir"
[ \$s -eq 0 ] && [ "\$modversion" = "$upstream" ] && ls "\$plugindir"/lkm_delay_constant.so > /dev/null
verdict "pkg-config --cflags linkem-plugin works (version $upstream, plugindir holds the built-in models)" \$?
cd /tmp/template
cp /usr/share/linkem/examples/sawtooth.c . && cmp -s sawtooth.c sawtooth.c.tree; same=\$?
cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden \$(pkg-config --cflags linkem-plugin) sawtooth.c -o sawtooth.so -lm 2> /tmp/cc.log; s=\$?
[ \$s -eq 0 ] || cat /tmp/cc.log
exported=\$(nm -D --defined-only sawtooth.so 2>/dev/null | awk '{print \$3}' | tr '\n' ' ')
[ \$s -eq 0 ] && [ "\$exported" = "lkm_entry " ] && [ \$same -eq 0 ]
verdict "the installed template (identical to plugins/template/sawtooth.c: \$([ \$same -eq 0 ] && echo yes || echo no)) builds with PLUGINS.md's pkg-config command against /usr/include/linkem/plugin.h (exports: \$exported)" \$?
linkem sawtooth.yaml --check > /tmp/template-check.log 2>&1 && LINKEM_PLUGIN_PATH=/tmp/template linkem --list-plugins 2>&1 | grep -q "sawtooth"
s=\$?; [ \$s -eq 0 ] || cat /tmp/template-check.log
verdict "linkem --check loads the template by path, --list-plugins finds it on LINKEM_PLUGIN_PATH" \$s
linkem-sim sawtooth.yaml --synthetic $template_synthetic --out out.pcap > /tmp/template-sim.log 2>&1; s=\$?
tail -n 3 /tmp/template-sim.log
size=\$(stat -c %s out.pcap 2>/dev/null || echo 0)
if [ -f expected.pcap ]; then
    [ \$s -eq 0 ] && [ "\$size" -eq 11624 ] && cmp -s out.pcap expected.pcap
    verdict "the installed linkem-sim runs the template: 100 packets, the same capture as the build tree's (\$size bytes)" \$?
else
    [ \$s -eq 0 ] && [ "\$size" -eq 11624 ]
    verdict "the installed linkem-sim runs the template: 100 packets (\$size bytes)" \$?
fi
cd /
apt-get remove -y -q linkem > /tmp/apt-remove.log 2>&1 && [ ! -e /usr/bin/linkem ] && [ ! -e /usr/share/man/man1/linkem.1.gz ]
verdict "apt-get remove linkem takes its files away" \$?
EOF
unshare --mount --propagation private sh -c '
    mount -t proc proc "$1/proc" && mount -t sysfs sys "$1/sys" && mount --rbind /dev "$1/dev" &&
    chroot "$1" /bin/bash /tmp/inside.sh' sh "$root" 2>&1 | tee "$work/inside.log"
passed=$(grep -c '^\[linkem-case\] PASS' "$work/inside.log")
failed=$(grep -c '^\[linkem-case\] FAIL' "$work/inside.log")
echo "package-chroot: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -eq 15 ]
