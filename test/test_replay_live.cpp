// [eal][replay] A replay source live and in virtual time: linkem replays a
// trace through a link with delay and Bernoulli loss onto a net_pcap port
// and ends by itself; linkem-sim runs the same configuration and seed. The
// same packets are lost (compared by the sequence numbers the frames carry,
// in order), each packet's time (relative to the first) differs by no more
// than the tx lateness linkem measured, and the replay's own figures are
// reported. Needs root for linkem's EAL (skips otherwise).
#include "linkem_process.hpp"
#include "replay_trace.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace linkem::test;

TEST_CASE("a replayed trace through delay and loss: linkem and linkem-sim agree packet by packet", "[eal][replay]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    // 400 frames recorded 500 us apart (a 199.5 ms trace), twice, from 100 ms after the start.
    write_periodic_trace((dir / "trace.pcap").string(), 400, 500'000, 100);
    const std::string live_out = (dir / "live.pcap").string();
    const std::string config = dir.write(
        "replay.yaml",
        fmt::format("ports:\n  r: {{replay: trace.pcap, speed: 1, loop: 2, start: 100ms}}\n  b: {{device: \"net_pcap0,tx_pcap={}\"}}\n"
                    "links:\n  - {{name: rb, from: r, to: b, delay: 5ms, loss: 10%}}\nseed: 11\n",
                    live_out));

    const Run live = run_linkem(config + " --stats-interval 0 --stats-json " + (dir / "live.json").string(), 60);
    INFO(live.output);
    REQUIRE(live.status == 0);
    CHECK_THAT(live.output, Catch::Contains("every replay has sent its last packet") && Catch::Contains("linkem: port r: replay ") &&
                                Catch::Contains("400 packets"));
    CHECK(live.seconds < 20);  // it ended by itself, after 0.5 s of replay and the grace

    const Run sim = run_program("LINKEM_SIM_BIN",
                                config + " --out b=" + (dir / "sim.pcap").string() + " --stats-json " + (dir / "sim.json").string(), 60);
    INFO(sim.output);
    REQUIRE(sim.status == 0);

    const std::vector<TraceRecord> got = read_trace(live_out), want = read_trace((dir / "sim.pcap").string());
    const nlohmann::json live_stats = read_json(dir / "live.json"), sim_stats = read_json(dir / "sim.json");
    const uint64_t lost = link_in(sim_stats, "rb")["drops"]["loss"].get<uint64_t>();
    CHECK(want.size() + lost == 800);
    CHECK(link_in(live_stats, "rb")["drops"]["loss"].get<uint64_t>() == lost);
    // The same packets, in the same order: the same ones were lost.
    std::vector<uint32_t> got_seq, want_seq;
    for (const TraceRecord &p : got) got_seq.push_back(sequence_of(p.bytes));
    for (const TraceRecord &p : want) want_seq.push_back(sequence_of(p.bytes));
    REQUIRE(got_seq == want_seq);
    REQUIRE(!got.empty());

    // Times relative to the first delivered packet: linkem's differ from the
    // schedule + delay (linkem-sim's) only by its tx lateness (the time it
    // handed a burst to the driver minus the release time; net_pcap stamps
    // the frame then). net_pcap's clock counts the TSC at DPDK's nominal
    // frequency (2.1 GHz on this project's VM for a 2.096 GHz TSC), linkem's
    // at the measured one, so the capture's rate is taken out first (at most 0.5%).
    REQUIRE(got.size() >= 2);
    const double span_ns = static_cast<double>(want.back().time_ns - want.front().time_ns);
    const double capture_rate = static_cast<double>(got.back().time_ns - got.front().time_ns) / span_ns;
    const nlohmann::json &tx_lateness = link_in(live_stats, "rb")["lateness_ns"];
    // The clocks' difference, and the first and last packets' own lateness over the span (a busy host).
    CHECK(std::abs(capture_rate - 1) < 0.005 + 2 * static_cast<double>(tx_lateness["max"].get<uint64_t>()) / span_ns);
    // The rate comes from the first and last packets, each up to the lateness
    // late: a packet's difference is its own lateness minus a share of theirs.
    const int64_t allowed_ns = 2 * static_cast<int64_t>(tx_lateness["max"].get<uint64_t>()) + 20'000;  // + net_pcap's clock reading
    int64_t worst_ns = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const int64_t live_ns = static_cast<int64_t>(got[i].time_ns - got[0].time_ns);
        const int64_t sim_ns = static_cast<int64_t>(static_cast<double>(want[i].time_ns - want[0].time_ns) * capture_rate);
        worst_ns = std::max(worst_ns, std::abs(live_ns - sim_ns));
    }
    INFO(fmt::format("worst difference {} ns (capture clock rate {:.6f}), tx lateness max {} ns, p99 {} ns", worst_ns, capture_rate,
                     tx_lateness["max"].get<uint64_t>(), tx_lateness["p99"].get<uint64_t>()));
    CHECK(worst_ns <= allowed_ns);
    // And linkem-sim's times are exactly the schedule plus the delay.
    for (const TraceRecord &p : want) {
        const uint64_t t = p.time_ns - 105'000'000;  // start + delay
        const uint64_t loop = t / 200'000'000, at = t % 200'000'000;
        CHECK(loop < 2);
        CHECK(at == sequence_of(p.bytes) * 500'000ULL);
    }

    // The replay's own figures.
    const nlohmann::json &replay = live_stats["replay"][0];
    INFO(replay.dump());
    CHECK(replay["port"] == "r");
    CHECK(replay["packets"] == 800);
    CHECK(replay["done"] == true);
    CHECK(replay["records"] == 400);
    CHECK(replay["trace_span_ns"] == 199'500'000);
    CHECK(replay["schedule_span_ns"] == 399'500'000);
    const uint64_t duration = replay["duration_ns"].get<uint64_t>();
    const nlohmann::json &lateness = replay["lateness"];
    CHECK(lateness["p50_ns"].get<uint64_t>() <= lateness["p99_ns"].get<uint64_t>());
    CHECK(lateness["p99_ns"].get<uint64_t>() <= lateness["max_ns"].get<uint64_t>());
    // Duration against the schedule: the last packet's lateness minus the first's.
    CHECK(duration + lateness["max_ns"].get<uint64_t>() >= 399'500'000);
    CHECK(duration <= 399'500'000 + lateness["max_ns"].get<uint64_t>());
    CHECK(std::abs(replay["drift_ppm"].get<double>()) <= 1e6 * static_cast<double>(lateness["max_ns"].get<uint64_t>()) / 399.5e6 + 1);
    CHECK((replay["memory"] == "hugepages" || replay["memory"] == "ordinary memory"));
    CHECK_THAT(live.output, Catch::Contains("replay r: trace.pcap (400 packets") && Catch::Contains("drift") &&
                                Catch::Contains("lateness (admitted after the schedule): p50"));
    CHECK(sim_stats["replay"][0]["packets"] == 800);
}

TEST_CASE("a trace streamed through tiny chunks: linkem's fates are linkem-sim's for the loaded trace", "[eal][replay]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    // 600 frames 300 us apart (about 80 KiB loaded), streamed through 4 chunks of 4 KiB (about 30 records each).
    write_periodic_trace((dir / "trace.pcap").string(), 600, 300'000, 100);
    const std::string live_out = (dir / "live.pcap").string();
    const auto config_with = [&](const std::string &name, const std::string &memory) {
        return dir.write(name, fmt::format("ports:\n  r: {{replay: trace.pcap, speed: 2, loop: 2, start: 100ms{}}}\n"
                                           "  b: {{device: \"net_pcap0,tx_pcap={}\"}}\n"
                                           "links:\n  - {{name: rb, from: r, to: b, delay: 2ms, loss: 15%}}\nseed: 23\n",
                                           memory, live_out));
    };
    const std::string streamed = config_with("streamed.yaml", ", memory: 16KiB, chunk: 4KiB");
    const Run check = run_linkem(streamed + " --check", 30);
    INFO(check.output);
    REQUIRE(check.status == 0);
    CHECK_THAT(check.output, Catch::Contains("streamed through 4 chunks of 4 KiB") &&
                                 Catch::Contains("# memory: port r: replay ring (streamed trace): 16 KiB in "));
    const Run live = run_linkem(streamed + " --stats-interval 0 --stats-json " + (dir / "live.json").string(), 60);
    INFO(live.output);
    REQUIRE(live.status == 0);
    CHECK_THAT(live.output,
               Catch::Contains("streamed through 4 chunks of 4 KiB") && Catch::Contains("every replay has sent its last packet"));

    const std::string loaded = config_with("loaded.yaml", "");
    const Run sim = run_program("LINKEM_SIM_BIN",
                                loaded + " --out b=" + (dir / "sim.pcap").string() + " --stats-json " + (dir / "sim.json").string(), 60);
    INFO(sim.output);
    REQUIRE(sim.status == 0);
    std::vector<uint32_t> got_seq, want_seq;
    for (const TraceRecord &p : read_trace(live_out)) got_seq.push_back(sequence_of(p.bytes));
    for (const TraceRecord &p : read_trace((dir / "sim.pcap").string())) want_seq.push_back(sequence_of(p.bytes));
    CHECK(want_seq.size() < 1100);  // some were lost
    CHECK(got_seq == want_seq);     // and the same ones, live and streamed as offline and loaded
    const nlohmann::json live_stats = read_json(dir / "live.json");
    const nlohmann::json &replay = live_stats["replay"][0];
    INFO(replay.dump());
    CHECK(replay["packets"] == 1200);
    CHECK(replay["streamed"] == true);
    CHECK(replay["stream"]["ring_bytes"] == 16384);
    CHECK(replay["stream"]["chunks_read"].get<uint64_t>() >= 40);
    CHECK(replay["stream"].contains("starvations"));
}

TEST_CASE("a malformed replay trace refuses --check and the run before EAL, naming the byte offset", "[eal][replay]") {
    TempDir dir;
    std::vector<TraceRecord> trace;
    for (uint32_t i = 0; i < 3; ++i) trace.push_back({1'000'000'000ULL + i * 1000, sequenced_frame(i, 100)});
    write_trace((dir / "whole.pcap").string(), trace, false);
    const std::string whole = read_file(dir / "whole.pcap");
    dir.write("cut.pcap", whole.substr(0, whole.size() - 7));  // the third record loses its last 7 bytes
    const std::string config = dir.write("cut.yaml",
                                         "ports:\n  r: {replay: cut.pcap}\n  b: {device: net_null0}\n"
                                         "links:\n  - {name: rb, from: r, to: b}\n");
    const Run check = run_linkem(config + " --check", 30);
    INFO(check.output);
    CHECK(check.status == 2);
    CHECK_THAT(check.output, Catch::Contains("cut.yaml:2:15: ports.r.replay: ") && Catch::Contains("record 3 at byte 256 is truncated"));
    if (geteuid() != 0) LINKEM_SKIP("needs root to start DPDK's EAL");
    const Run run = run_linkem(config + " --stats-interval 0", 30);
    INFO(run.output);
    CHECK(run.status == 2);
    CHECK_THAT(run.output, Catch::Contains("cut.yaml:2:15: ports.r.replay: ") && Catch::Contains("record 3 at byte 256 is truncated") &&
                               Catch::Contains("a replay trace cannot be used; nothing was started"));
    CHECK_THAT(run.output, !Catch::Contains("EAL"));
}
