#!/usr/bin/env bash
# [package] tools/package.sh on the test's build, checked without installing:
#   - control fields: Package, Architecture, a Version carrying the commit the
#     build's `linkem --version` prints, Depends naming DPDK's libraries and
#     drivers, yaml-cpp and fmt;
#   - contents (dpkg-deb -c): linkem, linkemctl, linkem-sim, linkem-wire, every built-in plugin,
#     plugin.h, linkem-plugin.pc, the five man pages linkem(1), linkemctl(1), linkem-sim(1),
#     linkem.yaml(5), linkem-plugin(7) (gzipped, each rendering without
#     warnings), every docs/*.md and config/*.yaml, the plugin template, the
#     copyright file; all under /usr, nothing under /usr/local;
#   - the unpacked tree's linkem finds the plugins beside it (its own copy,
#     first on the search path) and checks an example configuration.
# The install in a Debian 12 chroot is test/package_chroot.sh (slow, by hand).
# Needs dpkg-deb and dpkg-shlibdeps; exits 77 (skipped) without them.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LINKEM_BUILD_DIR:-$top/build}

for tool in dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || { echo "skipped: needs $tool (dpkg-dev)"; exit 77; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
verdict() {  # verdict NAME STATUS [DETAIL]
    if [ "$2" -eq 0 ]; then echo "[linkem-case] PASS $1${3:+ ($3)}"; else
        echo "[linkem-case] FAIL $1${3:+ ($3)}"
        failures=$((failures + 1))
    fi
}

deb=$(LINKEM_PACKAGE_DIR=$work/out "$top/tools/package.sh" "$build_dir" 2> "$work/package.log" | tail -n 1)
status=$?
tail -n 3 "$work/package.log"
[ $status -eq 0 ] && [ -f "$deb" ]
verdict "tools/package.sh builds a .deb" $? "$(basename "${deb:-none}"), $(du -h "$deb" 2>/dev/null | cut -f1)"
[ -f "$deb" ] || exit 1

field() { dpkg-deb -f "$deb" "$1"; }
dpkg-deb -I "$deb" | sed -n '/Package:/,$p'
commit=$("$build_dir/app/linkem" --version | sed -n 's/^linkem [^ ]* (commit \([^)]*\)).*/\1/p')
if [ "$commit" = unknown ]; then  # built outside git: the project's version alone
    version_pattern='^[0-9.]+$'
else
    version_pattern="^[0-9.]+\\+git[0-9]+\\.g${commit//-/\\.}\$"
fi
[ -n "$commit" ] && [ "$(field Package)" = linkem ] && [ "$(field Architecture)" = "$(dpkg --print-architecture)" ] &&
    [[ "$(field Version)" =~ $version_pattern ]]
verdict "control: Package linkem, this architecture, Version ends in the commit linkem --version prints" $? \
    "Version $(field Version), commit ${commit:-none}"
depends=$(field Depends)
ok=0
for pkg in librte-eal librte-ethdev librte-mempool-ring librte-net-af-packet librte-net-null librte-net-ring libyaml-cpp0.7 libfmt9 libstdc++6 libc6; do
    grep -Eq "(^|, )${pkg//+/[+]}[0-9]*( |,|$)" <<< "$depends" || { echo "Depends lacks $pkg"; ok=1; }
done
verdict "control: Depends names DPDK's libraries and drivers, yaml-cpp, fmt, libstdc++, libc" $ok

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$work/contents"
ok=0
expect() { grep -Eq "^$1\$" "$work/contents" || { echo "missing: $1"; ok=1; }; }
expect /usr/bin/linkem
expect /usr/bin/linkemctl
expect /usr/bin/linkem-sim
expect /usr/sbin/linkem-wire
for plugin in "$build_dir"/plugins/lkm_*.so; do expect "/usr/lib/[^/]+/linkem/plugins/$(basename "$plugin")"; done
expect /usr/include/linkem/plugin.h
expect "/usr/lib/[^/]+/pkgconfig/linkem-plugin.pc"
man_pages="man1/linkem.1 man1/linkemctl.1 man1/linkem-sim.1 man5/linkem.yaml.5 man7/linkem-plugin.7"
for page in $man_pages; do expect "/usr/share/man/${page//./[.]}[.]gz"; done
for doc in "$top"/docs/*.md "$top/README.md"; do expect "/usr/share/doc/linkem/$(basename "$doc")"; done
expect /usr/share/doc/linkem/copyright
for config in "$top"/config/*.yaml; do expect "/usr/share/linkem/examples/$(basename "$config")"; done
expect /usr/share/linkem/examples/sawtooth.c
expect /usr/share/linkem/examples/sojourn_cap_aqm.c
grep -q '^/usr/local' "$work/contents" && { echo "files under /usr/local"; ok=1; }
grep -v '^/usr/' "$work/contents" | grep -v '^/$' | grep -q . && { echo "files outside /usr"; ok=1; }
verdict "contents: executables, $(ls "$build_dir"/plugins/lkm_*.so | wc -l) plugins, header, .pc, 4 man pages, docs, examples, template, all under /usr" $ok

dpkg-deb -x "$deb" "$work/tree"
ok=0
for page in $man_pages; do
    file=$work/tree/usr/share/man/$page.gz
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$file" 2>&1 >/dev/null)
    [ -z "$warnings" ] || { echo "$page: $warnings"; ok=1; }
    zcat "$file" 2>/dev/null | grep -q '^\.SH NAME' || { echo "$page: no NAME section"; ok=1; }
done
verdict "man pages ($man_pages) render without warnings" $ok

# The unpacked linkem finds its own plugins first (beside it), wherever it lies.
plugins=$(env -u LINKEM_PLUGIN_PATH "$work/tree/usr/bin/linkem" --list-plugins 2>&1)
search=$(sed -n 's/^search path: //p' <<< "$plugins")
[[ "$search" == "$work/tree/usr/lib/"*"/linkem/plugins:"* ]]
verdict "the unpacked linkem searches the plugins beside it first" $? "search path: $search"
"$work/tree/usr/bin/linkem" "$work/tree/usr/share/linkem/examples/minimal.yaml" --check > "$work/check.log" 2>&1
status=$?
[ $status -eq 0 ] || cat "$work/check.log"
verdict "the unpacked linkem checks the packaged minimal.yaml" $status

echo "package-contents: $failures failed check(s)"
[ "$failures" -eq 0 ]
