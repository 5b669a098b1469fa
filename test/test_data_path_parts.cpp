// [unit] The DPDK-free parts of the data path: delay arena, histogram, TSC
// clock and the counters' reports.
#include "linkem/arena.hpp"
#include "linkem/histogram.hpp"
#include "linkem/lcore_plan.hpp"
#include "linkem/stats.hpp"
#include "linkem/tsc_clock.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace linkem;

TEST_CASE("the arena hands out entries in order, only when due, and refuses when full", "[unit][arena]") {
    std::vector<ArenaEntry> storage(64);
    DelayArena arena(storage.data(), storage.size());
    std::vector<ArenaEntry> in;
    for (uint64_t i = 0; i < 70; ++i) in.push_back({reinterpret_cast<void *>(i + 1), 100 + i});
    CHECK(arena.push_burst(in.data(), 70) == 64);  // 6 do not fit
    CHECK(arena.occupancy() == 64);
    std::vector<ArenaEntry> out(64);
    CHECK(arena.pop_due(99, out.data(), 64) == 0);  // nothing due yet
    CHECK(arena.pop_due(109, out.data(), 64) == 10);
    CHECK(out[0].release_ns == 100);
    CHECK(out[9].release_ns == 109);
    uint64_t next = 0;
    REQUIRE(arena.next_release(&next));
    CHECK(next == 110);
    CHECK(arena.pop_due(1000, out.data(), 4) == 4);   // at most max
    CHECK(arena.push_burst(in.data() + 64, 6) == 6);  // room again after the consumer moved
    CHECK(arena.occupancy() == 56);
    CHECK(DelayArena::round_capacity(1000) == 1024);
    CHECK(DelayArena::round_capacity(1) == 64);
}

TEST_CASE("the arena carries a million entries between two threads without loss or reordering", "[unit][arena]") {
    constexpr uint64_t kN = 1'000'000;
    std::vector<ArenaEntry> storage(1024);
    DelayArena arena(storage.data(), storage.size());
    std::thread producer([&] {
        for (uint64_t i = 0; i < kN;) {
            ArenaEntry e{reinterpret_cast<void *>(i + 1), i};
            i += arena.push_burst(&e, 1);
        }
    });
    uint64_t expected = 0;
    bool in_order = true;
    ArenaEntry out[32];
    while (expected < kN) {
        const uint32_t n = arena.pop_due(UINT64_MAX, out, 32);
        for (uint32_t i = 0; i < n; ++i) in_order = in_order && out[i].release_ns == expected++;
    }
    producer.join();
    CHECK(in_order);
    CHECK(arena.occupancy() == 0);
}

TEST_CASE("histogram percentiles are within 1/16 of the exact value", "[unit][stats]") {
    Histogram h;
    for (uint64_t v = 1; v <= 100'000; ++v) h.record(v);
    CHECK(h.total() == 100'000);
    CHECK(h.max() == 100'000);
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        const double exact = q * 100'000;
        CHECK(static_cast<double>(h.percentile(q)) >= exact);
        CHECK(static_cast<double>(h.percentile(q)) <= exact * (1 + 1.0 / 16) + 1);
    }
    Histogram small;
    for (uint64_t v : {3, 3, 3, 7}) small.record(v);
    CHECK(small.percentile(0.5) == 3);  // exact below 16
    CHECK(small.percentile(1.0) == 7);
    CHECK(Histogram{}.percentile(0.5) == 0);
    for (int b = 0; b < Histogram::kBuckets - 1; ++b) REQUIRE(Histogram::bucket_of(Histogram::upper_bound(b)) == b);
}

TEST_CASE("the TSC clock converts cycles to ns from its epoch", "[unit][time]") {
    const TscClock clock(2'500'000'000, 1000);  // 2.5 GHz
    CHECK(clock.to_ns(1000) == 0);
    CHECK(clock.to_ns(1000 + 2'500'000'000) == Approx(1e9).epsilon(1e-9));
    CHECK(clock.to_ns(1000 + 25) == 10);
    CHECK(clock.to_tsc(10) == 1025);
}

TEST_CASE("counter reports balance and name every drop reason", "[unit][stats]") {
    RxCounters rx;
    TxCounters tx;
    rx.packets.add(100);
    rx.bytes.add(6400);
    rx.drop_queue.add(3);
    rx.drop_loss.add(2);
    tx.packets.add(90);
    tx.bytes.add(5760);
    tx.drop_shutdown.add(1);
    const LinkSnapshot s = snapshot("a-to-b", rx, tx, 4, true);
    CHECK(s.dropped() == 6);
    CHECK(s.balanced());  // 100 = 90 + 6 + 4
    CHECK_FALSE(snapshot("a-to-b", rx, tx, 5, true).balanced());
    const std::string json = stats_json({s}, "\"seed\": 1");
    CHECK_THAT(json, Catch::Contains("\"name\": \"a-to-b\", \"rx_packets\": 100, \"tx_packets\": 90"));
    CHECK_THAT(json,
               Catch::Contains("\"drops\": {\"queue\": 3, \"loss\": 2, \"order\": 0, \"arena_full\": 0, \"tx_full\": 0, \"shutdown\": 1}"));
    CHECK_THAT(json, Catch::Contains("\"in_flight\": 4") && Catch::Contains("\"seed\": 1"));
    CHECK_THAT(summary_text({s}), Catch::Contains("100 = 90 + 6 + 4: balanced"));
}

TEST_CASE("the lcore plan gives every stage exactly one lcore", "[unit][plan]") {
    const auto one = plan_lcores(1, 2);
    CHECK(one[0].rx_links == std::vector<size_t>{0, 1});
    CHECK(one[0].tx_links == std::vector<size_t>{0, 1});
    const auto two = plan_lcores(2, 2);
    CHECK(two[0].rx_links == std::vector<size_t>{0, 1});
    CHECK(two[0].tx_links.empty());
    CHECK(two[1].tx_links == std::vector<size_t>{0, 1});
    const auto four = plan_lcores(4, 2);
    CHECK(four[0].rx_links == std::vector<size_t>{0});
    CHECK(four[1].tx_links == std::vector<size_t>{0});
    CHECK(four[2].rx_links == std::vector<size_t>{1});
    CHECK(four[3].tx_links == std::vector<size_t>{1});
}
