// An instance's name: `linkem --name NAME` or `name:` in the configuration
// (default "linkem"). It is EAL's --file-prefix, so it names the runtime
// directory EAL makes, /var/run/dpdk/NAME for root (docs/CONFIG.md "name"),
// where DPDK's telemetry socket dpdk_telemetry.v2 answers `linkemctl --name
// NAME` and `dpdk-telemetry.py -f NAME`, and where dpdk-dumpcap --file-prefix
// NAME finds a capture: true run. Two instances need two names.
#pragma once

#include <string>
#include <string_view>

namespace linkem {

constexpr const char *kDefaultInstanceName = "linkem";
constexpr size_t kMaxInstanceNameLength = 32;  // a directory name, a hugepage file prefix, part of a unix socket path
constexpr const char *kTelemetrySocketName = "dpdk_telemetry.v2";

// Empty when `name` may be an instance name: 1 to 32 letters, digits, '_',
// '-' or '.', not starting with '.' or '-' (what a file prefix may hold, and
// no hidden directory or option); else what is wrong, for a message.
std::string instance_name_problem(std::string_view name);

// EAL 22.11's runtime directory for a file prefix: /var/run/dpdk/PREFIX for
// root, else $XDG_RUNTIME_DIR/dpdk/PREFIX, or /tmp/dpdk/PREFIX without it.
std::string dpdk_runtime_dir(std::string_view file_prefix);
// The instance's telemetry socket: dpdk_runtime_dir(name)/dpdk_telemetry.v2.
std::string telemetry_socket_path(std::string_view name);

}  // namespace linkem
