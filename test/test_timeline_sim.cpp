// [sim] A timeline in linkem-sim's virtual time: on a constant-rate link
// with a constant delay, every packet's release time is exactly what the
// parameters in force at its arrival give (before an instant the old ones, at
// or after it the new), through bursts that straddle the instants, with
// repeat, and with from: first_packet counted from the first arrival.
#include "linkem_process.hpp"
#include "replay_trace.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace linkem::test;

namespace {

Run sim(const std::string &arguments) { return run_program("LINKEM_SIM_BIN", arguments, 60); }

constexpr uint64_t kT0 = 100'000'000'000ULL;  // the input's first timestamp (100 s)

}  // namespace

TEST_CASE("linkem-sim: a repeating timeline of delay and bandwidth steps gives each packet its exact release time", "[sim]") {
    TempDir dir;
    // 100-byte frames every 20 us for 1.2 s: bursts of three (within the 50 us
    // poll nap), so instants at multiples of 20 us fall inside bursts.
    constexpr uint64_t kGap = 20'000, kCount = 60'000;
    std::vector<TraceRecord> in;
    for (uint32_t i = 0; i < kCount; ++i) in.push_back({kT0 + i * kGap, sequenced_frame(i, 100)});
    write_trace((dir / "in.pcap").string(), in, true);
    const std::string config = dir.write("tl.yaml",
                                         "ports: {a: {device: net_null0}, b: {device: net_null1}}\n"
                                         "links:\n  - {name: ab, from: a, to: b, bandwidth: 100Mbit/s, overhead: none, delay: 10ms, "
                                         "queue: 1000 packets, arena: 64K packets}\n"
                                         "timeline:\n  repeat: 600ms\n  steps:\n"
                                         "    - {at: 200ms, link: ab, set: {delay: 30ms}}\n"
                                         "    - {at: 400ms, link: ab, set: {bandwidth: 50Mbit/s}}\n"
                                         "    - {at: 500ms, link: ab, set: {delay: 10ms}}\n"
                                         "    - {at: 500ms, link: ab, set: {bandwidth: 100Mbit/s}}\n");
    const Run run = sim(config + " --in " + (dir / "in.pcap").string() + " --out " + (dir / "out.pcap").string() + " --stats-json " +
                        (dir / "s.json").string());
    INFO(run.output);
    REQUIRE(run.status == 0);
    const std::vector<TraceRecord> out = read_trace((dir / "out.pcap").string());
    REQUIRE(out.size() == kCount);

    // The parameters in force at arrival a (relative to the first): per 600 ms,
    // [0, 200) 8 us and 10 ms, [200, 400) 8 us and 30 ms, [400, 500) 16 us and
    // 30 ms, [500, 600) 8 us and 10 ms. Queue: back to back; order keep: a packet
    // due before its predecessor leaves with it.
    std::vector<uint64_t> want(kCount);
    uint64_t exit = 0, release = 0;
    for (uint64_t k = 0; k < kCount; ++k) {
        const uint64_t a = k * kGap, phase = a % 600'000'000;
        const uint64_t wire = phase >= 400'000'000 && phase < 500'000'000 ? 16'000 : 8'000;
        const uint64_t delay = phase >= 200'000'000 && phase < 500'000'000 ? 30'000'000 : 10'000'000;
        exit = std::max(exit, a) + wire;
        release = std::max(release, exit + delay);
        want[k] = release;
    }
    size_t wrong = 0;
    for (const TraceRecord &p : out) {
        const uint32_t seq = sequence_of(p.bytes);
        REQUIRE(seq < kCount);
        if (p.time_ns - kT0 != want[seq] && ++wrong <= 5)
            UNSCOPED_INFO(fmt::format("packet {} arrived at +{} ns: released at +{} ns, expected +{} ns", seq, seq * kGap, p.time_ns - kT0,
                                      want[seq]));
    }
    CHECK(wrong == 0);
    // The packets on either side of an instant: 10000 (200 ms) is the first with 30 ms.
    CHECK(want[9'999] == 9'999 * kGap + 8'000 + 10'000'000);
    CHECK(want[10'000] == 10'000 * kGap + 8'000 + 30'000'000);

    // Each instant's change is reported, as linkem reports them.
    const nlohmann::json stats = read_json(dir / "s.json");
    REQUIRE(stats["changes"].size() == 6);
    CHECK(stats["changes"][0]["at_ns"] == 200'000'000);
    CHECK(stats["changes"][0]["links"]["ab"]["delay"] == "30ms");
    CHECK(stats["changes"][0]["source"] == "timeline.steps[0], pass 1");
    CHECK(stats["changes"][2]["at_ns"] == 500'000'000);
    CHECK(stats["changes"][2]["links"]["ab"] == nlohmann::json{{"bandwidth", "100Mbit/s"}, {"delay", "10ms"}});
    CHECK(stats["changes"][5]["at_ns"] == 1'100'000'000);
    CHECK(stats["changes"][5]["source"] == "timeline.steps[2], pass 2");
    CHECK(link_in(stats, "ab")["drops"]["queue"] == 0);
    CHECK_THAT(run.output, Catch::Contains("linkem-sim: change 1 at +200ms (timeline.steps[0], pass 1): ab: delay=30ms"));
}

TEST_CASE("linkem-sim: a timeline from: first_packet counts from the first arrival, from: start from time 0", "[sim]") {
    TempDir dir;
    // A replay source: 200 frames 1 ms apart from 100 ms after the start.
    write_periodic_trace((dir / "trace.pcap").string(), 200, 1'000'000, 100);
    for (const std::string from : {"first_packet", "start"}) {
        const std::string config = dir.write("r.yaml",
                                             "ports:\n  r: {replay: trace.pcap, start: 100ms}\n  b: {device: net_null0}\n"
                                             "links:\n  - {name: rb, from: r, to: b, delay: 10ms, arena: 1M packets}\n"
                                             "timeline: {from: " +
                                                 from + ", steps: [{at: 50ms, link: rb, set: {delay: 20ms}}]}\n");
        const Run run = sim(config + " --out " + (dir / "out.pcap").string());
        INFO(from << "\n" << run.output);
        REQUIRE(run.status == 0);
        const std::vector<TraceRecord> out = read_trace((dir / "out.pcap").string());
        REQUIRE(out.size() == 200);
        // first_packet: the instant is 150 ms, packet 50's arrival; start: 50 ms, before any packet.
        const uint32_t first_new = from == "start" ? 0 : 50;
        for (const TraceRecord &p : out) {
            const uint32_t seq = sequence_of(p.bytes);
            const uint64_t arrival = 100'000'000ULL + seq * 1'000'000ULL;
            INFO("packet " << seq);
            CHECK(p.time_ns == arrival + (seq < first_new ? 10'000'000 : 20'000'000));
        }
    }
}

TEST_CASE("linkem-sim: a step after the last arrival still reaches the packets a discipline holds", "[sim][queue]") {
    TempDir dir;
    // 100 frames of 1000 bytes 1 us apart into 1 Mbit/s (8 ms each): at the
    // step, at 100 ms, most still wait in codel's queue (a target no packet
    // reaches: it drops nothing); from then each takes 80 us (100 Mbit/s).
    constexpr uint32_t kCount = 100;
    std::vector<TraceRecord> in;
    for (uint32_t i = 0; i < kCount; ++i) in.push_back({kT0 + i * 1'000, sequenced_frame(i, 1000)});
    write_trace((dir / "in.pcap").string(), in, true);
    const std::string config = dir.write("tl.yaml",
                                         "ports: {a: {device: net_null0}, b: {device: net_null1}}\n"
                                         "links:\n  - {name: ab, from: a, to: b, bandwidth: 1Mbit/s, overhead: none, "
                                         "queue: {discipline: codel, target: 10s, interval: 100s}}\n"
                                         "timeline:\n  - {at: 100ms, link: ab, set: {bandwidth: 100Mbit/s}}\n");
    const Run run = sim(config + " --in " + (dir / "in.pcap").string() + " --out " + (dir / "out.pcap").string());
    INFO(run.output);
    REQUIRE(run.status == 0);
    CHECK_THAT(run.output, Catch::Contains("change 1 at +100ms"));
    const std::vector<TraceRecord> out = read_trace((dir / "out.pcap").string());
    REQUIRE(out.size() == kCount);
    uint64_t exit = 0;
    for (uint32_t k = 0; k < kCount; ++k) {
        const uint64_t start = std::max<uint64_t>(exit, k * 1'000);
        exit = start + (start < 100'000'000 ? 8'000'000 : 80'000);
        INFO("packet " << k);
        CHECK(sequence_of(out[k].bytes) == k);
        CHECK(out[k].time_ns - kT0 == exit);
    }
    CHECK(exit < 112'000'000);  // 13 packets at the old rate, 87 at the new
}
