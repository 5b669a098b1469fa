// Which link each packet takes: the configuration's rules compiled per
// arrival port (docs/ARCHITECTURE.md "Classification").
//
// For every port at which some link starts (an ingress port), the rules that
// can apply there, in order, first match wins:
//   - a rule naming a link (or a chain) applies at the port that link (the
//     chain's first hop) starts from;
//   - a pass or drop rule applies at every ingress port, or at its match.port;
//   - when none matches: the port's default, the first link listed with
//     `from:` that port and not inside a chain; with none, the packet is
//     dropped as `unclassified`.
// Each action that sends packets somewhere is a Path: one or more links
// (hops) whose times are computed at arrival, hop after hop. `pass` is a
// path through the port's pass lane: no model, released at once, to the
// port its first link goes to.
//
// Rules are compiled once: a match is a RuleMatch (a field mask and values),
// so the data path compares numbers, never strings.
#pragma once

#include "linkem/config.hpp"
#include "linkem/packet_fields.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace linkem {

struct RouteAction {
    enum class Kind : uint8_t { kPath, kDrop };
    Kind kind = Kind::kDrop;
    uint32_t path = 0;  // index into RoutePlan::paths (kPath)
};

struct CompiledRule {
    RuleMatch match;  // kPort already checked when the rule was given to its ingress port
    RouteAction action;
    size_t rule_index;  // into Config::rules, for hit counters
};

struct Path {
    static constexpr size_t kPassLane = SIZE_MAX;
    std::vector<size_t> hops;  // indexes into Config::links; {kPassLane} for pass
    size_t to_port = 0;        // where the last hop sends
    size_t from_port = 0;      // where packets arrive
};

struct IngressPlan {
    size_t port = 0;  // index into Config::ports
    std::vector<CompiledRule> rules;
    RouteAction default_action;  // when no rule matches
    bool needs_fields = false;   // some rule looks past the arrival port: frames must be parsed
    std::string default_text;    // "link a-to-b" or "drop (unclassified)", for --check
};

struct RoutePlan {
    std::vector<Path> paths;
    std::vector<IngressPlan> ingress;
    std::vector<size_t> egress_ports;  // ports some path sends to

    // Does link i end a path (then it has an arena), or is it only a chain's inner hop?
    std::vector<bool> ends_path;  // by link index
};

// The loader has checked the rules and links (config_load.cpp check_paths).
RoutePlan plan_routes(const Config &config);

// One rule in words, for the summary: its match fields as written (canonical) and its action,
// "proto: udp, dst_port: 5000-6000 -> link slow", "any packet -> drop".
std::string describe_rule(const Config &config, const Rule &rule);

// Human-readable rules of one ingress port, for --check.
std::string describe_ingress(const Config &config, const RoutePlan &plan, const IngressPlan &ingress);

}  // namespace linkem
