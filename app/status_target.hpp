// The ControlTarget linkem offers until it can change a running emulation
// (issue 17 item 1, the emulator's own ControlTarget, replaces it): show
// reads the configuration and the live counters; set and apply answer
// status 1, "not supported".
#pragma once

#include "control.hpp"

#include "linkem/config.hpp"
#include "linkem/stats.hpp"

#include <functional>
#include <mutex>

namespace linkem {

class StatusTarget : public ControlTarget {
  public:
    // snapshots: the links' counters now, with histograms (a torn view, as the status lines read them).
    StatusTarget(const Config &config, std::function<std::vector<LinkSnapshot>()> snapshots)
        : config_(config), snapshots_(std::move(snapshots)) {}

    ControlReply set_link(const std::string &link, const std::vector<std::string> &assignments) override;
    ControlReply apply_file(const std::string &path) override;
    ControlReply show(const std::string &link) override;

  private:
    const Config &config_;
    std::function<std::vector<LinkSnapshot>()> snapshots_;
    std::mutex mutex_;  // one request at a time
};

}  // namespace linkem
