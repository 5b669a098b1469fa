#include "linkem/log_filter.hpp"

#include <array>

namespace linkem {
namespace {

// Each is a part of the line that says what happened; the rest (device names,
// numbers, the function name DPDK puts first) varies.
constexpr std::array<std::string_view, 6> kExpectedParts = {
    "TELEMETRY: No legacy callbacks, legacy socket not created",
    "tap_nl_dump_ext_ack(): Specified qdisc kind is unknown",
    "qdisc_create_multiq(): Could not add multiq qdisc",
    ": failed to create multiq qdisc.",
    "Disabling rte flow support: ",
    "tap_mp_req_on_rxtx(): Failed to send start req to secondary",
};

bool has(std::string_view line, std::string_view part) { return line.find(part) != std::string_view::npos; }

}  // namespace

bool is_expected_startup_line(std::string_view line) {
    for (std::string_view part : kExpectedParts)
        if (has(line, part)) return true;
    // "EAL: No available 1048576 kB hugepages reported", "EAL: No free 1048576 kB hugepages reported on node 0"
    return (has(line, "EAL: No available ") || has(line, "EAL: No free ")) && has(line, " kB hugepages reported");
}

std::string without_expected_lines(std::string_view text, bool filter) {
    if (!filter) return std::string(text);
    std::string kept;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        if (!is_expected_startup_line(line)) {
            kept.append(line);
            if (end != std::string_view::npos) kept.push_back('\n');
        }
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    return kept;
}

}  // namespace linkem
