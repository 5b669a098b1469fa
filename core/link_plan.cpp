#include "linkem/link_plan.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {
namespace {

__extension__ using u128 = unsigned __int128;

// The constant value of a model when it is the built-in constant one
// (shorthand or explicit), for sizing; nothing otherwise.
template <class T>
std::optional<T> constant_param(const std::optional<ModelSpec> &spec, const char *key,
                                Parsed<T> (ModelSpec::*get)(std::string_view) const) {
    if (!spec || spec->plugin != "constant") return std::nullopt;
    return ((*spec).*get)(key).value;
}

}  // namespace

std::optional<LinkPlan> plan_link(const Config &config, size_t link_index, uint64_t seed, const PluginHost &host,
                                  std::vector<ConfigError> *errors, const std::string &stream_name) {
    const Link &link = config.links.at(link_index);
    const size_t errors_before = errors->size();
    LinkPlan plan;
    LinkModelParams &p = plan.model;
    p.overhead_bytes = link.overhead_bytes;
    p.queue_limit_packets = link.queue.packets.value_or(0);
    p.queue_limit_bytes = link.queue.bytes.value_or(0);
    p.ecn_mark = link.mangle.ecn;

    auto make = [&](const std::optional<ModelSpec> &spec, uint32_t kind, std::unique_ptr<ModelInstance> &owner, ModelRef &ref) {
        if (!spec) return;
        owner = host.instantiate(config, *spec, kind, stream_name.empty() ? link.name : stream_name, seed, errors);
        if (owner) ref = {&owner->model(), owner->state()};
    };
    make(link.bandwidth, LKM_KIND_BANDWIDTH, plan.bandwidth, p.bandwidth);
    make(link.loss, LKM_KIND_LOSS, plan.loss, p.loss);
    make(link.delay, LKM_KIND_DELAY, plan.delay, p.delay);
    if (link.delay) {
        if (const ModelParam *order = link.delay->find("order")) {
            const std::string &v = order->values.front();
            if (order->is_list || (v != "keep" && v != "drop"))
                errors->push_back({config.file, order->pos, order->path,
                                   fmt::format("\"{}\" is not an order: keep (hold a packet back so nothing is reordered) or drop "
                                               "(drop it, so the delay distribution stays exact)",
                                               v)});
            p.order_drop = v == "drop";
        }
    }
    if (errors->size() != errors_before) return std::nullopt;

    // Sizing: the constant rate and delay when known, assumed values otherwise.
    const std::optional<Rate> rate = constant_param<Rate>(link.bandwidth, "rate", &ModelSpec::rate);
    const std::optional<Duration> delay =
        link.delay ? constant_param<Duration>(link.delay, "delay", &ModelSpec::duration) : std::optional<Duration>(Duration{0});
    const uint64_t delay_ns = delay ? static_cast<uint64_t>(delay->ns) : kAssumedDelayNs;
    plan.min_delay_ns = delay ? delay_ns : 0;
    uint64_t drain_ns = 0;
    if (rate) {
        uint64_t queue_bytes = p.queue_limit_bytes;
        if (p.queue_limit_packets != 0) {
            const uint64_t by_packets = p.queue_limit_packets * (kMaxFrameBytes + p.overhead_bytes);
            queue_bytes = queue_bytes == 0 ? by_packets : std::min(queue_bytes, by_packets);
        }
        const u128 exact = static_cast<u128>(queue_bytes) * 8 * 1'000'000'000u / rate->bits_per_s;
        drain_ns = exact > static_cast<u128>(INT64_MAX) ? static_cast<uint64_t>(INT64_MAX) : static_cast<uint64_t>(exact);
    }
    plan.max_delay_ns = std::min<uint64_t>(delay_ns + drain_ns, INT64_MAX);

    const uint64_t sizing_rate = rate ? rate->bits_per_s : kAssumedLineRateBps;
    const uint64_t min_wire_bytes = 60 + p.overhead_bytes;
    const uint64_t needed =
        static_cast<uint64_t>(static_cast<u128>(sizing_rate) * plan.max_delay_ns / (8 * min_wire_bytes) / 1'000'000'000u) +
        2ULL * config.pipeline.burst;
    const uint64_t min_record = DelayArena::record_bytes(64);
    if (link.arena_packets) {
        plan.arena_bytes = DelayArena::round_capacity(*link.arena_packets * min_record);
        plan.arena_reason = fmt::format("set by links[{}].arena, {}B per minimum-size packet", link_index, min_record);
    } else {
        plan.arena_bytes = DelayArena::round_capacity(std::min(needed, kMaxArenaPackets) * min_record);
        plan.arena_reason =
            fmt::format("{}{} x ({} delay{} + {} queue drain) / {}B frames + 2 bursts = {} packets of {}B", Rate{sizing_rate}.to_string(),
                        rate ? "" : " (assumed line rate)", Duration{static_cast<int64_t>(delay_ns)}.to_string(),
                        delay ? "" : " (assumed; set arena: to size it)", Duration{static_cast<int64_t>(drain_ns)}.to_string(),
                        min_wire_bytes, needed, min_record);
    }
    return plan;
}

bool plan_flow_instances(const Config &config, size_t link_index, uint64_t seed, const PluginHost &host, LinkPlan &plan,
                         std::vector<ConfigError> *errors) {
    const Link &link = config.links.at(link_index);
    if (!link.per_flow) return true;
    for (uint32_t k = 0; k < link.per_flow->max_flows; ++k) {
        std::optional<LinkPlan> instance = plan_link(config, link_index, seed, host, errors, fmt::format("{}#{}", link.name, k));
        if (!instance) return false;
        plan.flow_instances.push_back(std::move(*instance));
    }
    if (link.per_flow->aggregate) {
        // The template with a constant rate and nothing else, planned like any link.
        Config shared = config;
        Link &l = shared.links.at(link_index);
        ModelSpec rate{"constant", true, {}, fmt::format("links[{}].per_flow.aggregate", link_index), link.pos};
        rate.params.push_back({"rate", rate.path, link.pos, {link.per_flow->aggregate->to_string()}, false});
        l.bandwidth = rate;
        l.delay.reset();
        l.loss.reset();
        l.mangle = Mangle{};
        l.mangle.ecn = link.mangle.ecn;  // a full shared queue marks CE too
        l.per_flow.reset();
        std::optional<LinkPlan> aggregate = plan_link(shared, link_index, seed, host, errors, link.name + "/aggregate");
        if (!aggregate) return false;
        plan.aggregate = std::make_unique<LinkPlan>(std::move(*aggregate));
    }
    return true;
}

LinkExpectations link_expectations(const Config &config, const LinkPlan &plan) {
    LinkExpectations e;
    e.lateness_tolerance_ns = static_cast<uint64_t>(config.stats.lateness_tolerance.ns);
    e.loss = plan.loss ? plan.loss->expected_loss() : std::optional<double>(0.0);
    return e;
}

}  // namespace linkem
