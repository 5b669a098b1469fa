#include "linkem/memory_budget.hpp"

#include "linkem/held_frames.hpp"
#include "linkem/link_model.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {
namespace {

__extension__ using u128 = unsigned __int128;

uint64_t saturating_multiply(uint64_t a, uint64_t b) {
    const u128 p = static_cast<u128>(a) * b;
    return p > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(p);
}

uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

constexpr uint64_t kQueueSlotBytes = 16;  // (exit time, wire bytes): link_model.hpp

// The queue ring of one link model (0 when it has none).
uint64_t queue_ring_bytes(const LinkPlan &plan) { return LinkModel::queue_slots_for(plan.model) * kQueueSlotBytes; }

}  // namespace

std::string bytes_text(uint64_t bytes) {
    static const char *const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    if (unit == 0) return fmt::format("{} B", bytes);
    return value >= 100 || value == static_cast<double>(static_cast<uint64_t>(value)) ? fmt::format("{:.0f} {}", value, kUnits[unit])
                                                                                      : fmt::format("{:.3g} {}", value, kUnits[unit]);
}

// The ports with a device (a replay source has no pool).
uint64_t device_ports(const Config &config) {
    return static_cast<uint64_t>(std::count_if(config.ports.begin(), config.ports.end(), [](const Port &p) { return !p.replay; }));
}

uint64_t dpdk_fixed_bytes(const Config &config, const DpdkCosts &costs) {
    uint64_t total = costs.eal_bytes + costs.pool_bytes_per_port * device_ports(config);
    if (config.pipeline.classify_lcore) total += costs.handoff_ring_bytes * config.ports.size();
    return total;
}

std::vector<MemoryItem> memory_items(const Config &config, const std::vector<LinkPlan> &plans, const RoutePlan &routes,
                                     const DpdkCosts &costs, const std::vector<ReplayMemory> &replays) {
    using Kind = MemoryItem::Kind;
    std::vector<MemoryItem> items;
    items.push_back(
        {"EAL and the port drivers", costs.eal_bytes, "their own memzones and heap: measured 8 MiB, allowed 4 times", Kind::kDpdk});
    items.push_back({"mbuf pools", costs.pool_bytes_per_port * device_ports(config),
                     fmt::format("{} ports x {} ({})", device_ports(config), bytes_text(costs.pool_bytes_per_port), costs.pool_how),
                     Kind::kDpdk});
    if (config.pipeline.classify_lcore)
        items.push_back({"handoff rings", costs.handoff_ring_bytes * config.ports.size(),
                         fmt::format("{} ports x {}", config.ports.size(), bytes_text(costs.handoff_ring_bytes)), Kind::kDpdk});

    std::vector<MemoryItem> rings;
    for (size_t i = 0; i < config.links.size() && i < plans.size(); ++i) {
        const Link &l = config.links[i];
        const LinkPlan &plan = plans[i];
        const uint64_t lanes = l.mangle.reorder ? 2 : 1;
        const std::string lanes_text = lanes == 2 ? " x 2 (reorder's second arena)" : "";
        if (l.per_flow) {
            const uint64_t flows = l.per_flow->max_flows;
            items.push_back({"link " + l.name + ": delay arenas of its per-flow instances",
                             saturating_multiply(saturating_multiply(plan.arena_bytes, lanes), flows),
                             fmt::format("max_flows {} x {}{}", flows, bytes_text(plan.arena_bytes), lanes_text), Kind::kArena});
            items.back().derivation = plan.arena_reason;
            const uint64_t ring = plan.flow_instances.empty() ? 0 : queue_ring_bytes(plan.flow_instances.front());  // each flow's
            const uint64_t aggregate_ring = plan.aggregate ? queue_ring_bytes(*plan.aggregate) : 0;
            if (ring + aggregate_ring != 0)
                rings.push_back(
                    {"link " + l.name + ": queue rings of its per-flow instances",
                     saturating_add(saturating_multiply(ring, flows), aggregate_ring),
                     fmt::format("max_flows {} x {} slots x {}B{}", flows, ring / kQueueSlotBytes, kQueueSlotBytes,
                                 aggregate_ring != 0 ? fmt::format(" + the aggregate's {} slots", aggregate_ring / kQueueSlotBytes) : ""),
                     Kind::kOrdinary});
            continue;
        }
        if (i < routes.ends_path.size() && routes.ends_path[i]) {
            items.push_back(
                {"link " + l.name + ": delay arena", saturating_multiply(plan.arena_bytes, lanes),
                 lanes == 2 ? fmt::format("2 x {}, reorder's second arena", bytes_text(plan.arena_bytes)) : std::string("one arena"),
                 Kind::kArena});
            items.back().derivation = plan.arena_reason;
        }
        if (const uint64_t ring = queue_ring_bytes(plan); ring != 0)
            rings.push_back({"link " + l.name + ": queue ring", ring,
                             fmt::format("{} slots x {}B", ring / kQueueSlotBytes, kQueueSlotBytes), Kind::kOrdinary});
        if (const uint64_t held = LinkModel::held_slots_for(plan.model); held != 0) {  // a queue discipline's held queue
            items.push_back({"link " + l.name + ": held queue's frames", held_frames_bytes(held),
                             fmt::format("{} packets x {}B slots", held, kHeldSlotBytes), Kind::kArena});
            rings.push_back({"link " + l.name + ": held queue", held * sizeof(HeldPacket),
                             fmt::format("{} slots x {}B", held, sizeof(HeldPacket)), Kind::kOrdinary});
        }
    }
    for (const Path &p : routes.paths)
        if (p.hops.front() == Path::kPassLane)
            items.push_back({"port " + config.ports[p.from_port].name + ": pass lane's arena", kPassLaneArenaBytes, "fixed", Kind::kArena});
    for (const ReplayMemory &r : replays)
        items.push_back(
            {"port " + r.port + (r.streamed ? ": replay ring (streamed trace)" : ": replay trace (loaded)"), r.bytes, r.how, Kind::kArena});
    items.insert(items.end(), rings.begin(), rings.end());
    return items;
}

MemoryBudget plan_memory(std::vector<MemoryItem> items, const MemoryHost &host) {
    using Kind = MemoryItem::Kind;
    MemoryBudget b;
    uint64_t heap_room = host.hugepages ? host.hugepage_free_bytes : host.dpdk_heap_limit_bytes;
    if (host.dpdk_heap_limit_bytes != 0) heap_room = std::min(heap_room, host.dpdk_heap_limit_bytes);
    uint64_t dpdk_needed = 0;
    for (MemoryItem &item : items) {
        b.total_bytes = saturating_add(b.total_bytes, item.bytes);
        if (item.kind == Kind::kDpdk) {
            item.in_dpdk_heap = true;
            dpdk_needed = saturating_add(dpdk_needed, item.bytes);
        }
    }
    b.dpdk_heap_bytes = dpdk_needed;
    // Arenas, first fit in the order they are allocated: a memzone in the
    // hugepages left, else ordinary memory (always with --no-huge).
    for (MemoryItem &item : items) {
        if (item.kind == Kind::kDpdk) continue;
        if (item.kind == Kind::kArena && host.hugepages && b.dpdk_heap_bytes <= heap_room && item.bytes <= heap_room - b.dpdk_heap_bytes) {
            item.in_dpdk_heap = true;
            b.dpdk_heap_bytes += item.bytes;
        } else {
            b.ordinary_bytes = saturating_add(b.ordinary_bytes, item.bytes);
        }
    }
    // With --no-huge DPDK's heap is ordinary memory too (what it uses of it).
    const uint64_t ordinary_in_all = saturating_add(b.ordinary_bytes, host.hugepages ? 0 : dpdk_needed);

    std::vector<std::string> short_of;
    if (dpdk_needed > heap_room)
        short_of.push_back(
            host.hugepages
                ? fmt::format("DPDK's own objects need {} of hugepages, {} are free", bytes_text(dpdk_needed), bytes_text(heap_room))
                : fmt::format("DPDK's own objects need {}, its --no-huge heap (-m) is {}", bytes_text(dpdk_needed), bytes_text(heap_room)));
    if (ordinary_in_all > host.memory_available_bytes)
        short_of.push_back(fmt::format("{} of ordinary memory is needed{}, the host has {} available", bytes_text(ordinary_in_all),
                                       host.hugepages ? fmt::format(" beside {} of hugepages", bytes_text(b.dpdk_heap_bytes)) : "",
                                       bytes_text(host.memory_available_bytes)));
    b.fits = short_of.empty();
    if (!b.fits) {
        std::vector<const MemoryItem *> biggest;
        for (const MemoryItem &item : items) biggest.push_back(&item);
        std::stable_sort(biggest.begin(), biggest.end(), [](const MemoryItem *x, const MemoryItem *y) { return x->bytes > y->bytes; });
        std::vector<std::string> named;
        for (size_t k = 0; k < biggest.size() && k < 3; ++k)
            named.push_back(fmt::format("{} {} ({}{})", biggest[k]->name, bytes_text(biggest[k]->bytes), biggest[k]->how,
                                        biggest[k]->derivation.empty() ? "" : "; derived: " + biggest[k]->derivation));
        b.problem = fmt::format("the run needs {} of memory in all and the host cannot give it: {}. The biggest: {}",
                                bytes_text(b.total_bytes), fmt::join(short_of, "; "), fmt::join(named, "; "));
    }
    b.items = std::move(items);
    return b;
}

std::string budget_text(const MemoryBudget &b, const MemoryHost &host) {
    std::string out;
    const char *heap = host.hugepages ? "hugepages" : "DPDK's --no-huge heap";
    for (const MemoryItem &item : b.items)
        out += fmt::format("# memory: {}: {} in {} ({})\n", item.name, bytes_text(item.bytes),
                           item.in_dpdk_heap                       ? heap
                           : item.kind == MemoryItem::Kind::kArena ? "ordinary memory, prefaulted"
                                                                   : "ordinary memory",
                           item.how);
    out += fmt::format("# memory: total {}: {} in {} (host: {}), {} in ordinary memory (host: {} available){}\n", bytes_text(b.total_bytes),
                       bytes_text(b.dpdk_heap_bytes), heap,
                       host.hugepages ? bytes_text(host.hugepage_free_bytes) + " free" : "-m " + bytes_text(host.dpdk_heap_limit_bytes),
                       bytes_text(b.ordinary_bytes), bytes_text(host.memory_available_bytes), b.fits ? "" : ": DOES NOT FIT");
    return out;
}

}  // namespace linkem
