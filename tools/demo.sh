#!/usr/bin/env bash
# The main job on an embedded default: one of the README's two commands.
#
# This version of linkem validates configurations; the emulation data path is
# not built yet. So the demo installs and builds what is missing, checks
# config/demo.yaml (two af_packet ports joined by a 50 Mbit/s, 20 ms link each
# way), prints the effective configuration and the EAL arguments linkem would
# use, and says what the full demo will do once the data path lands.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${LINKEM_BUILD_DIR:-$top/build}
config=${1:-$top/config/demo.yaml}

"$top/tools/setup.sh"

echo
echo "== linkem --check $config"
"$build_dir/app/linkem" "$config" --check

cat <<TXT

== What the full demo will do (once the data path is in place)
It will create two network namespaces, join each to linkem through a veth pair
bound with net_af_packet, run linkem with this configuration, ping and iperf3
from one namespace to the other through it, and print the configured delay and
rate beside the measured ones, then linkem's own summary. Until then, only
'linkem CONFIG --check' is available.
TXT
