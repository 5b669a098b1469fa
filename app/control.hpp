// Steering a running emulation: the requests linkemctl (over DPDK telemetry),
// SIGHUP and the timeline make of linkem, and what they get back.
//
// The emulator implements ControlTarget on its control side. Requests come
// from DPDK's telemetry threads (one per client connection) and from the
// control thread; an implementation serialises them, so callers need no
// lock of their own. Nothing here runs on an lcore: a change reaches the
// lcore that owns a link through the pipeline's change mailbox
// (docs/ARCHITECTURE.md "Runtime changes"), and a request returns once that
// lcore has taken it.
//
// Status, as linkemctl exits: 0 done; 2 bad input, nothing changed (the
// message names the position, key path and what was expected, as the YAML
// loader does); 1 the request could not be carried out (linkem is starting
// or stopping, or the lcore did not take the change in time).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace linkem {

struct ControlReply {
    int status = 0;
    std::string message;  // for a person: one line per error, or what changed and when
    nlohmann::json body;  // show: the document; set and apply: the change as recorded in the run's JSON
};

class ControlTarget {
  public:
    virtual ~ControlTarget() = default;
    // `set LINK KEY=VALUE...`: each KEY a link key of the YAML (delay, loss,
    // bandwidth, queue, overhead, mangle...), each VALUE in the YAML's syntax
    // and units ("30ms", "1%", "{plugin: normal, mean: 20ms, stddev: 2ms}").
    virtual ControlReply set_link(const std::string &link, const std::vector<std::string> &assignments) = 0;
    // `apply FILE`: makes the links what FILE says (its ports, rules and
    // pipeline must be the running ones); the same as SIGHUP with linkem's own file.
    virtual ControlReply apply_file(const std::string &path) = 0;
    // `show [LINK]` (empty: every link): the configuration in force and the live counters.
    virtual ControlReply show(const std::string &link) = 0;
};

}  // namespace linkem
