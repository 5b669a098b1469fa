// [sim][memory] A link whose bandwidth is a model (a trace, steps, markov,
// slot) gets an arena that holds its configured queue: saturated, it drops at
// the queue, never at the arena (linkem-sim simulates the arena as the rx
// stage does).
#include "linkem_process.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace linkem::test;

namespace {

uint64_t counter(const std::string &output, const std::string &name) {
    const size_t at = output.find(" " + name + "=");
    INFO(output);
    REQUIRE(at != std::string::npos);
    return std::stoull(output.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("a saturated link with a bandwidth model drops at its queue, not at its arena", "[sim][memory]") {
    TempDir dir;
    // A Mahimahi trace: 5 delivery opportunities every 2 ms (about 30 Mbit/s).
    std::string trace;
    for (int ms = 1; ms <= 100; ++ms)
        for (int k = 0; k < (ms % 2 == 0 ? 5 : 0); ++k) trace += std::to_string(ms) + "\n";
    dir.write("link.trace", trace);
    for (const std::string bandwidth :
         {"{plugin: trace, file: link.trace}", "{plugin: steps, rates: [40Mbit/s, 10Mbit/s], durations: [100ms, 100ms]}",
          "{plugin: markov, rate: 50Mbit/s, mean_good: 100ms, mean_stall: 20ms}",
          "{plugin: slot, min_gap: 2ms, max_gap: 4ms, packets: 5, bytes: 30KB}"}) {
        for (const std::string queue : {"100 packets", "64KiB"}) {
            INFO(bandwidth << ", queue " << queue);
            const std::string config = dir.write(
                "model.yaml",
                "ports: {a: {device: net_null0}, b: {device: net_null1}}\nlinks:\n  - {name: ab, from: a, to: b, bandwidth: " + bandwidth +
                    ", overhead: none, queue: " + queue + "}\nseed: 5\n");
            // 20000 frames of 1000 bytes at 160 Mbit/s: several times what any of the models carries.
            const Run r = run_program("LINKEM_SIM_BIN", config + " --synthetic rate=20000pps,size=1000,count=20000", 60);
            INFO(r.output);
            REQUIRE(r.status == 0);
            CHECK(counter(r.output, "queue") > 10000);
            CHECK(counter(r.output, "arena_full") == 0);
        }
    }
}
