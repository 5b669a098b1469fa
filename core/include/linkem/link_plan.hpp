// From a configured link to what the data path needs: the model instances
// (created through the plugin host, so their parameters are checked), the
// link model's parameters, the delay arena's size with the arithmetic that
// gave it (for --check), and the longest a packet can stay in the link.
//
// Arena size (docs/ARCHITECTURE.md "Delay arena"): room for every packet that
// can be in the link at once, whatever its bandwidth model:
//  - the queue: what its limits let in (packets, and wire bytes: 1514-byte
//    frames when only packets are limited; twice the limits with ecn);
//  - the delay line: what leaves the link during one delay, at the constant
//    rate, else (a bandwidth model, or no bandwidth limit) at an assumed line
//    rate of 10 Gbit/s, in frames of at least 60 bytes; the delay is the
//    constant delay, else an assumed 100 ms;
//  - two bursts and one wrap (a skip record) of 1514-byte frames;
// each in record bytes (arena_record_bytes), summed and rounded up to a power
// of two. `arena: N packets` overrides the result.
#pragma once

#include "linkem/arena.hpp"
#include "linkem/config.hpp"
#include "linkem/link_model.hpp"
#include "linkem/plugin_host.hpp"
#include "linkem/stats.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace linkem {

constexpr uint64_t kAssumedLineRateBps = 10'000'000'000ULL;
constexpr uint64_t kAssumedDelayNs = 100'000'000;     // for sizing, when the delay model is not constant
constexpr uint64_t kMaxFrameBytes = 1514;             // for the queue's drain time and its arena bytes
constexpr uint64_t kPassLaneArenaBytes = 4ULL << 20;  // the arena of a port's pass lane

struct LinkPlan {
    std::unique_ptr<ModelInstance> bandwidth, loss, delay;        // owned; model holds references to them
    std::unique_ptr<ModelInstance> queue;                         // the queue discipline, when the link has one (and no scheduler)
    std::vector<std::unique_ptr<ModelInstance>> queue_instances;  // with a scheduler: each queue's discipline
    LinkModelParams model;
    uint64_t arena_bytes = 0;   // a power of two
    std::string arena_reason;   // how arena_bytes was derived
    uint64_t max_delay_ns = 0;  // delay + the drain time of a full queue (delay assumed when not constant)
    uint64_t min_delay_ns = 0;  // no packet leaves sooner after arriving (0 unless the delay is constant)
    // A per-flow template: one plan per instance (each with its own model
    // instances and random streams, "name#k"), made by plan_flow_instances().
    std::vector<LinkPlan> flow_instances;
    // With per_flow.aggregate: the shared bottleneck in front of the
    // instances ("name/aggregate": the rate, the template's queue limits and
    // overhead, no loss or delay), also made by plan_flow_instances().
    std::unique_ptr<LinkPlan> aggregate;
};

// An upper bound of the arena bytes `packets` frames of `wire_bytes` wire
// bytes in all take as records (16-byte header, frame padded to 16 bytes).
uint64_t arena_record_bytes(uint64_t packets, uint64_t wire_bytes, uint32_t overhead_bytes);

// The instances of a per-flow template (links[i].per_flow), appended to
// plan.flow_instances, and its aggregate's plan when it has one. The
// template's own model instances are destroyed: only its flows carry packets.
bool plan_flow_instances(const Config &config, size_t link_index, uint64_t seed, const PluginHost &host, LinkPlan &plan,
                         std::vector<ConfigError> *errors);

// What the link's configuration promises, reported beside what is measured.
LinkExpectations link_expectations(const Config &config, const LinkPlan &plan);

// Creates the link's model instances and sizes its arena. Errors (with file,
// position and key path) are appended to *errors; returns nothing then.
// stream_name names the models' random streams (default: the link's name; a
// per-flow template's instances use "name#k", so each flow draws its own).
std::optional<LinkPlan> plan_link(const Config &config, size_t link_index, uint64_t seed, const PluginHost &host,
                                  std::vector<ConfigError> *errors, const std::string &stream_name = {});

// Every link's plan (plan_link, and plan_flow_instances for per-flow
// templates), in Config::links order, as linkem and linkem-sim make them.
// Errors are appended to *errors, sorted by position; returns nothing then.
std::optional<std::vector<LinkPlan>> plan_links(const Config &config, uint64_t seed, const PluginHost &host,
                                                std::vector<ConfigError> *errors);

}  // namespace linkem
