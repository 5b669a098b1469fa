#include "linkem/instance.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace linkem {

std::string instance_name_problem(std::string_view name) {
    const std::string rule = fmt::format("1 to {} letters, digits, '_', '-' or '.', not starting with '.' or '-'", kMaxInstanceNameLength);
    if (name.empty()) return "an instance name is empty: it needs " + rule;
    if (name.size() > kMaxInstanceNameLength)
        return fmt::format("\"{}\" is {} characters long: an instance name is {}", name, name.size(), rule);
    const bool allowed = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    });
    if (!allowed || name.front() == '.' || name.front() == '-')
        return fmt::format("\"{}\" is not an instance name: it names EAL's runtime directory, so it is {}", name, rule);
    return {};
}

std::string dpdk_runtime_dir(std::string_view file_prefix) {
    std::string base = "/var/run";
    if (geteuid() != 0) {
        const char *xdg = std::getenv("XDG_RUNTIME_DIR");
        base = xdg != nullptr ? xdg : "/tmp";
    }
    return fmt::format("{}/dpdk/{}", base, file_prefix);
}

std::string telemetry_socket_path(std::string_view name) { return fmt::format("{}/{}", dpdk_runtime_dir(name), kTelemetrySocketName); }

}  // namespace linkem
