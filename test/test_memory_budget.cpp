// [unit][memory] Arena sizing whatever the bandwidth model, and the memory
// budget: what a run allocates, where each part goes, and what is refused.
#include "link_fixture.hpp"
#include "linkem/memory_budget.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace linkem;
using namespace linkem::test;

namespace {

struct Planned {
    std::unique_ptr<Config> config;
    std::vector<LinkPlan> plans;
};

Planned plan_all(const std::string &yaml) {
    LoadResult loaded = load_config_text(yaml, "test.yaml");
    for (const auto &e : loaded.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(loaded.config);
    Planned p;
    p.config = std::make_unique<Config>(std::move(*loaded.config));
    std::vector<ConfigError> errors;
    const PluginHost host(plugin_dirs());
    for (size_t i = 0; i < p.config->links.size(); ++i) {
        std::optional<LinkPlan> plan = plan_link(*p.config, i, 1, host, &errors);
        REQUIRE(plan);
        REQUIRE(plan_flow_instances(*p.config, i, 1, host, *plan, &errors));
        p.plans.push_back(std::move(*plan));
    }
    for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(errors.empty());
    return p;
}

LinkPlan one_link(const std::string &fields) {
    Planned p = plan_all("ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " + fields + "}\n");
    return std::move(p.plans.front());
}

const DpdkCosts kCosts{40ULL << 20, "test pool", 64ULL << 10, 64ULL << 20};
constexpr uint64_t kGiB = 1ULL << 30;

}  // namespace

TEST_CASE("the arena holds the configured queue whatever the bandwidth model", "[unit][memory]") {
    // 1000 packets of up to 1514 bytes (+ 24 of overhead on the wire) as
    // records: each at most its frame + 31 bytes.
    const uint64_t queue_records = arena_record_bytes(1000, 1000 * (1514 + 24), 24);
    CHECK(queue_records == 1000 * (1514 + 31));
    for (const std::string bandwidth :
         {"bandwidth: {plugin: steps, rates: [10Mbit/s, 1Mbit/s], durations: [1s, 1s]}",
          "bandwidth: {plugin: markov, rate: 50Mbit/s, mean_good: 2s, mean_stall: 200ms}",
          "bandwidth: {plugin: slot, min_gap: 2ms, max_gap: 4ms, packets: 20, bytes: 30KB}", "bandwidth: 1Gbit/s"}) {
        INFO(bandwidth);
        const LinkPlan plan = one_link(bandwidth + ", overhead: ethernet, queue: 1000 packets");
        INFO(plan.arena_reason);
        CHECK(plan.arena_bytes >= queue_records);
        CHECK_THAT(plan.arena_reason, Catch::Contains("queue 1000 packets"));
    }
    // A model that states no highest rate (slot): the delay line is sized at the assumed line rate.
    const LinkPlan model = one_link("bandwidth: {plugin: slot, min_gap: 1ms}, queue: 64KiB, delay: 10ms");
    CHECK(model.arena_bytes >= kAssumedLineRateBps / 8 / 100 + 64 * 1024);
    CHECK_THAT(model.arena_reason, Catch::Contains("10Gbit/s (assumed line rate) x 10ms"));
    // A bytes limit with ecn: twice the limit may be queued.
    const LinkPlan ecn = one_link("bandwidth: 1Mbit/s, queue: 1MiB, mangle: {ecn: true}");
    CHECK(ecn.arena_bytes >= 2 * (1ULL << 20));
    CHECK_THAT(ecn.arena_reason, Catch::Contains("twice the limits"));
    // A constant rate's delay line is its rate x delay; `arena:` still wins.
    const LinkPlan slow = one_link("bandwidth: 8Mbit/s, delay: 1s, queue: 10 packets");
    CHECK(slow.arena_bytes >= 1'000'000);
    CHECK(slow.arena_bytes <= 4 * 1'000'000);
    CHECK(one_link("bandwidth: 8Mbit/s, arena: 1024 packets").arena_bytes == 128 * 1024);
}

TEST_CASE("the memory items are every allocation of a run, per-flow instances counted max_flows times", "[unit][memory]") {
    const Planned p = plan_all(
        "ports: {a: {device: n0}, b: {device: n1}}\n"
        "links:\n"
        "  - {name: flows, from: a, to: b, bandwidth: 10Mbit/s, queue: 100 packets, per_flow: {key: {dst_port: true}, max_flows: 1000},"
        " mangle: {reorder: {probability: 1%, extra_delay: 1ms}}}\n"
        "  - {name: back, from: b, to: a, delay: 5ms}\n"
        "rules:\n  - {match: {port: a, proto: udp}, link: flows}\n  - {match: {port: a}, action: pass}\n  - {link: back}\n");
    const std::vector<MemoryItem> items = memory_items(*p.config, p.plans, plan_routes(*p.config), kCosts);
    const auto find = [&](const std::string &name) -> const MemoryItem & {
        for (const MemoryItem &i : items)
            if (i.name == name) return i;
        FAIL("no item " << name);
        return items.front();
    };
    CHECK(find("mbuf pools").bytes == 2 * (40ULL << 20));
    CHECK(find("link flows: delay arenas of its per-flow instances").bytes == 1000 * 2 * p.plans[0].arena_bytes);
    CHECK(find("link flows: queue rings of its per-flow instances").bytes == 1000 * 100 * 16);
    CHECK(find("link back: delay arena").bytes == p.plans[1].arena_bytes);
    CHECK(find("port a: pass lane's arena").bytes == kPassLaneArenaBytes);
    CHECK(items.front().kind == MemoryItem::Kind::kDpdk);
}

TEST_CASE("arenas go to hugepages while they fit, then to ordinary memory; too much is refused, naming the biggest", "[unit][memory]") {
    using Kind = MemoryItem::Kind;
    const std::vector<MemoryItem> items = {{"pools", 100ULL << 20, "", Kind::kDpdk},
                                           {"link a: delay arena", 512ULL << 20, "", Kind::kArena},
                                           {"link b: delay arena", 512ULL << 20, "", Kind::kArena},
                                           {"link c: delay arena", 64ULL << 20, "", Kind::kArena},
                                           {"link a: queue ring", 1ULL << 20, "", Kind::kOrdinary}};
    const MemoryBudget huge = plan_memory(items, MemoryHost{true, kGiB, 0, 8 * kGiB});
    REQUIRE(huge.fits);
    CHECK(huge.items[1].in_dpdk_heap);
    CHECK_FALSE(huge.items[2].in_dpdk_heap);  // 100 + 512 + 512 MiB > 1 GiB
    CHECK(huge.items[3].in_dpdk_heap);        // first fit
    CHECK(huge.dpdk_heap_bytes == (100ULL + 512 + 64) << 20);
    CHECK(huge.ordinary_bytes == (512ULL + 1) << 20);
    CHECK_THAT(budget_text(huge, MemoryHost{true, kGiB, 0, 8 * kGiB}),
               Catch::Contains("# memory: link b: delay arena: 512 MiB in ordinary memory, prefaulted") &&
                   Catch::Contains("# memory: total 1.16 GiB: 676 MiB in hugepages (host: 1 GiB free)"));

    // --no-huge: DPDK's objects in its -m heap, every arena in ordinary memory, all of it counted there.
    const MemoryBudget no_huge = plan_memory(items, MemoryHost{false, 0, kGiB, 2 * kGiB});
    REQUIRE(no_huge.fits);
    CHECK_FALSE(no_huge.items[1].in_dpdk_heap);
    CHECK(no_huge.dpdk_heap_bytes == 100ULL << 20);
    CHECK_FALSE(plan_memory(items, MemoryHost{false, 0, kGiB, kGiB}).fits);  // 1.16 GiB of ordinary memory
    const MemoryBudget small_heap = plan_memory(items, MemoryHost{false, 0, 64ULL << 20, 8 * kGiB});
    REQUIRE_FALSE(small_heap.fits);
    CHECK_THAT(small_heap.problem, Catch::Contains("its --no-huge heap (-m) is 64 MiB"));

    // A derived 1 TiB arena: refused, with the total and the biggest items.
    std::vector<MemoryItem> big = items;
    big.push_back({"link huge: delay arena", 1ULL << 40, "1 TiB (see the link's line)", Kind::kArena});
    const MemoryBudget refused = plan_memory(big, MemoryHost{true, kGiB, 0, 20 * kGiB});
    REQUIRE_FALSE(refused.fits);
    CHECK_THAT(refused.problem, Catch::Contains("needs 1 TiB of memory in all") && Catch::Contains("the host has 20 GiB available") &&
                                    Catch::Contains("The biggest: link huge: delay arena 1 TiB (1 TiB (see the link's line)); "
                                                    "link a: delay arena 512 MiB"));
    // Sizes near the limits of uint64_t do not wrap around.
    big.push_back({"link worse: delay arena", UINT64_MAX, "", Kind::kArena});
    CHECK_FALSE(plan_memory(big, MemoryHost{true, UINT64_MAX, 0, UINT64_MAX - 1}).fits);
}

TEST_CASE("bytes_text rounds for people", "[unit][memory]") {
    CHECK(bytes_text(512) == "512 B");
    CHECK(bytes_text(1536) == "1.5 KiB");
    CHECK(bytes_text(16ULL << 30) == "16 GiB");
    CHECK(bytes_text(4096ULL << 40) == "4 PiB");
    CHECK(bytes_text(1023ULL << 20) == "1023 MiB");
}
