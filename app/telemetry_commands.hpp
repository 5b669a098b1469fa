// linkem's DPDK telemetry commands (docs/ARCHITECTURE.md "Steering a running
// linkem"): /linkem/links, /linkem/link,NAME, /linkem/info, /linkem/set,"LINK
// KEY=VALUE..." and /linkem/apply,FILE. Each answers a dictionary with "status"
// (0 done, 1 could not be carried out, 2 bad input: nothing changed) and
// "message", then the reply's fields (linkem/control_wire.hpp shapes them to
// what DPDK 22.11's telemetry carries). linkemctl and dpdk-telemetry.py read them
// from the instance's socket, /var/run/dpdk/NAME/dpdk_telemetry.v2.
//
// Threads: DPDK runs a command on the telemetry thread of the client's
// connection, never on an lcore; the commands call the ControlTarget
// (app/control.hpp) from there.
#pragma once

#include "control.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace linkem {

struct TelemetryInstance {
    std::string name;         // the instance's name (its file prefix)
    std::string config_file;  // as given on the command line
    uint64_t seed = 0;
    std::vector<std::string> links;  // the configured links' names
};

// Registers the commands; call once, after rte_eal_init(). Returns what went
// wrong (empty when all were registered).
std::string register_telemetry_commands(const TelemetryInstance &instance);

// The target the commands call, or null: then reads and changes answer status 1
// with `state` ("starting", "stopping"). Returns once no command is calling the old one.
void set_telemetry_target(ControlTarget *target, const std::string &state);

}  // namespace linkem
