// The EAL and driver log lines every run prints whatever is right or wrong
// with it, which hide the lines that matter. At the default log level
// (--log-level notice, and at warning and error) linkem drops them; at info
// and debug it passes them like every other line (app/eal_log.hpp installs
// the filter; docs/CONFIG.md "Log level" lists them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace linkem {

// True for one line (without its newline) of the expected start-up noise:
//  - "TELEMETRY: No legacy callbacks, legacy socket not created": DPDK's
//    legacy telemetry socket has no users; the v2 socket is unaffected.
//  - "EAL: No available 1048576 kB hugepages reported" (and "No free ...
//    hugepages reported on node N"): a page size with none reserved, while
//    another size has some.
//  - net_tap's "Could not add multiq qdisc", "failed to create multiq
//    qdisc", "Disabling rte flow support" and the kernel's netlink answer
//    before them ("Specified qdisc kind is unknown", from
//    tap_nl_dump_ext_ack): the kernel lacks the multiq qdisc net_tap's
//    rte_flow support needs; linkem uses one queue and no rte_flow.
//  - net_tap's "Failed to send start req to secondary": with --in-memory
//    there is no multi-process channel and no secondary to tell.
bool is_expected_startup_line(std::string_view line);

// `text` (one or more lines, as a log call wrote them) without the expected
// lines; unchanged when `filter` is false.
std::string without_expected_lines(std::string_view text, bool filter);

}  // namespace linkem
