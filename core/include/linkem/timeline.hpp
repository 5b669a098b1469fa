// A timeline's progress (docs/CONFIG.md "Timeline", docs/ARCHITECTURE.md
// "Runtime changes"): which steps come next and at what instant on the
// pipeline's clock. linkem's control thread and linkem-sim share it: each
// makes the next instant's change (load_link_sets over the configuration in
// force, then prepare_change) and posts it with post_change(change, next_ns()).
//
// Instants: base + k * repeat + at, for repetition k = 0, 1, ...; base is
// the pipeline clock's start (from: start) or the first packet's arrival
// (from: first_packet), given by start() once known.
#pragma once

#include "linkem/config.hpp"
#include "linkem/config_change.hpp"

#include <cstdint>
#include <vector>

namespace linkem {

class TimelineCursor {
  public:
    static constexpr uint64_t kNone = UINT64_MAX;

    explicit TimelineCursor(Timeline timeline) : t_(std::move(timeline)) {}

    bool empty() const { return t_.steps.empty(); }
    bool from_first_packet() const { return t_.from_first_packet; }
    // The origin is known: instants count from base_ns.
    void start(uint64_t base_ns) {
        base_ns_ = base_ns;
        started_ = true;
    }
    bool started() const { return started_; }
    uint64_t base_ns() const { return base_ns_; }
    // The next instant; kNone before start(), and after the last step of a timeline without repeat.
    uint64_t next_ns() const;
    // The steps at the next instant, in the file's order.
    std::vector<const TimelineStep *> next_steps() const;
    // Those steps as one change of `running` (what linkemctl set would do for each).
    ChangeCandidate next_change(const Config &running) const;
    // Past the next instant's steps.
    void advance();
    uint64_t repetition() const { return round_; }  // 0 for the first pass
    bool repeats() const { return t_.repeat.has_value(); }

  private:
    size_t group_end() const;

    Timeline t_;
    size_t index_ = 0;    // the next step
    uint64_t round_ = 0;  // repetitions done
    uint64_t base_ns_ = 0;
    bool started_ = false;
};

}  // namespace linkem
