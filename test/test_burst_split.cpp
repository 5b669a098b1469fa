// [unit] Splitting a burst into runs by key (core/include/linkem/burst_split.hpp),
// as the rx stage splits a path's packets by flow instance: every position
// once, each run in arrival order, and the work linear in the burst (one key
// read per packet), not per packet per flow.
#include "linkem/burst_split.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

using namespace linkem;

TEST_CASE("a burst splits into one run per key, each in arrival order, reading each key once", "[unit][split]") {
    constexpr uint32_t kN = 512;
    for (const uint32_t flows : {1u, 7u, 100u, 512u}) {
        INFO(flows << " flows");
        std::mt19937 rng(flows);
        std::vector<uint32_t> key(kN);
        for (uint32_t &k : key) k = flows == kN ? 0 : static_cast<uint32_t>(rng() % flows) * 977;  // sparse instance numbers
        if (flows == kN)
            for (uint32_t j = 0; j < kN; ++j) key[j] = 65535 - j;  // every packet its own flow, in reverse instance order
        uint32_t reads = 0;
        std::map<uint32_t, std::vector<uint16_t>> runs;
        uint32_t calls = 0;
        for_each_key_run<kN>(
            kN,
            [&](uint32_t j) {
                ++reads;
                return key[j];
            },
            [&](const uint16_t *positions, uint32_t count) {
                ++calls;
                REQUIRE(count > 0);
                const uint32_t k = key[positions[0]];
                CHECK(runs.count(k) == 0);  // one run per key
                for (uint32_t i = 0; i < count; ++i) {
                    CHECK(key[positions[i]] == k);
                    if (i > 0) CHECK(positions[i] > positions[i - 1]);  // arrival order
                    runs[k].push_back(positions[i]);
                }
            });
        std::map<uint32_t, std::vector<uint16_t>> expected;
        for (uint32_t j = 0; j < kN; ++j) expected[key[j]].push_back(static_cast<uint16_t>(j));
        CHECK(runs == expected);
        CHECK(calls == expected.size());
        CHECK(reads == kN);  // linear: each packet's key once, however many flows
    }
}
