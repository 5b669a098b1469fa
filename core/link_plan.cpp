#include "linkem/link_plan.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {
namespace {

__extension__ using u128 = unsigned __int128;

uint64_t hash_name(const std::string &s) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    return h;
}

std::string unsupported(const ModelSpec &m) {
    return fmt::format("{}: model \"{}\" needs the plugin host, which this build does not have yet; use the shorthand form for now", m.path,
                       m.plugin);
}

}  // namespace

Parsed<LinkPlan> plan_link(const Config &config, size_t link_index, uint64_t seed) {
    const Link &link = config.links.at(link_index);
    LinkPlan plan;
    LinkModelParams &p = plan.model;
    p.overhead_bytes = link.overhead_bytes;
    p.queue_limit_packets = link.queue.packets.value_or(0);
    p.queue_limit_bytes = link.queue.bytes.value_or(0);
    p.seed = mix_seed(seed, hash_name(link.name));
    if (link.bandwidth) {
        if (!link.bandwidth->shorthand) return Parsed<LinkPlan>::fail(unsupported(*link.bandwidth));
        p.rate_bps = link.bandwidth->rate("rate").value->bits_per_s;
    }
    if (link.delay) {
        if (!link.delay->shorthand) return Parsed<LinkPlan>::fail(unsupported(*link.delay));
        p.delay_ns = static_cast<uint64_t>(link.delay->duration("delay").value->ns);
    }
    if (link.loss) {
        if (!link.loss->shorthand) return Parsed<LinkPlan>::fail(unsupported(*link.loss));
        p.loss_per_2_64 = probability_to_2_64(link.loss->probability("p").value->scaled);
    }

    // The longest a packet stays: a full queue ahead of it, then the delay.
    uint64_t drain_ns = 0;
    if (p.rate_bps != 0) {
        uint64_t queue_bytes = p.queue_limit_bytes;
        if (p.queue_limit_packets != 0) {
            const uint64_t by_packets = p.queue_limit_packets * (kMaxFrameBytes + p.overhead_bytes);
            queue_bytes = queue_bytes == 0 ? by_packets : std::min(queue_bytes, by_packets);
        }
        const u128 exact = static_cast<u128>(queue_bytes) * 8 * 1'000'000'000u / p.rate_bps;
        drain_ns = exact > static_cast<u128>(INT64_MAX) ? static_cast<uint64_t>(INT64_MAX) : static_cast<uint64_t>(exact);
    }
    plan.max_delay_ns = std::min<uint64_t>(p.delay_ns + drain_ns, INT64_MAX);

    const uint64_t rate = p.rate_bps != 0 ? p.rate_bps : kAssumedLineRateBps;
    const uint64_t min_wire_bytes = 60 + p.overhead_bytes;
    const uint64_t burst_room = 2ULL * config.pipeline.burst;
    const uint64_t needed =
        static_cast<uint64_t>(static_cast<u128>(rate) * plan.max_delay_ns / (8 * min_wire_bytes) / 1'000'000'000u) + burst_room;
    if (link.arena_packets) {
        plan.arena_entries = DelayArena::round_capacity(*link.arena_packets);
        plan.arena_reason = fmt::format("set by links[{}].arena", link_index);
    } else {
        plan.arena_entries = DelayArena::round_capacity(std::min(needed, kMaxArenaPackets));
        plan.arena_reason =
            fmt::format("{}{} x ({} delay + {} queue drain) / {}B frames + 2 bursts = {} packets", Rate{rate}.to_string(),
                        p.rate_bps != 0 ? "" : " (assumed line rate)", Duration{static_cast<int64_t>(p.delay_ns)}.to_string(),
                        Duration{static_cast<int64_t>(drain_ns)}.to_string(), min_wire_bytes, needed);
    }
    return Parsed<LinkPlan>::ok(std::move(plan));
}

}  // namespace linkem
