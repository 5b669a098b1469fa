// From a configured link to what the data path needs: the link model's
// parameters, the delay arena's size (with the arithmetic that gave it, for
// --check), and the longest a packet can stay in the link.
//
// Arena size (docs/ARCHITECTURE.md "Delay arena"): enough entries for every
// packet that can be in the link at once when it is full of minimum-size frames:
//   rate x (delay + queue drain time) / (8 x (60 + overhead) bytes) + 2 bursts,
// rounded up to a power of two. A link without a rate limit is sized for an
// assumed line rate of 10 Gbit/s. `arena: N packets` overrides the result.
#pragma once

#include "linkem/config.hpp"
#include "linkem/arena.hpp"
#include "linkem/link_model.hpp"

#include <string>

namespace linkem {

constexpr uint64_t kAssumedLineRateBps = 10'000'000'000ULL;
constexpr uint64_t kMaxFrameBytes = 1514;  // for the queue's drain time

struct LinkPlan {
    LinkModelParams model;
    uint64_t arena_entries = 0;  // a power of two
    std::string arena_reason;    // how arena_entries was derived
    uint64_t max_delay_ns = 0;   // delay + the drain time of a full queue
};

// Fails (with the key path in the message) when the link uses a model the
// data path cannot run yet: only the constant/bernoulli shorthands can run
// until the plugin host exists.
Parsed<LinkPlan> plan_link(const Config &config, size_t link_index, uint64_t seed);

}  // namespace linkem
