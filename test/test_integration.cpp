// [eal] The real linkem on virtual ports (net_null, net_pcap, net_ring), run
// as a child process with --duration and --stats-json: the counters balance
// exactly, every mbuf comes back, and captures show the configured spacing.
// Needs root (EAL); skips with a message otherwise.
#include "linkem_process.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace linkem::test;

namespace {

using nlohmann::json;

// A link's drops for one reason (its "drops" object in --stats-json).
uint64_t drops(const json &link, const char *reason) { return link.at("drops").at(reason).get<uint64_t>(); }

// pcap files: a little-endian writer (microsecond format) and a reader of
// both the microsecond and the nanosecond formats.
void write_pcap(const fs::path &path, int frames, uint32_t frame_bytes) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    std::vector<unsigned char> frame(frame_bytes, 0);
    const unsigned char dst[6] = {0x02, 0, 0, 0, 0, 2}, src[6] = {0x02, 0, 0, 0, 0, 1};
    std::memcpy(frame.data(), dst, 6);
    std::memcpy(frame.data() + 6, src, 6);
    frame[12] = 0x88;  // EtherType 0x88b5: local experimental
    frame[13] = 0xb5;
    for (int i = 0; i < frames; ++i) {
        frame[14] = static_cast<unsigned char>(i);
        const uint32_t record[4] = {static_cast<uint32_t>(i), 0, frame_bytes, frame_bytes};
        out.write(reinterpret_cast<const char *>(record), sizeof record);
        out.write(reinterpret_cast<const char *>(frame.data()), static_cast<std::streamsize>(frame.size()));
    }
}

std::vector<double> pcap_times_s(const fs::path &path) {
    const std::string data = read_file(path);
    std::vector<double> times;
    if (data.size() < 24) return times;
    uint32_t magic;
    std::memcpy(&magic, data.data(), 4);
    const double fraction_unit = magic == 0xa1b23c4d ? 1e-9 : 1e-6;
    for (size_t at = 24; at + 16 <= data.size();) {
        uint32_t record[4];
        std::memcpy(record, data.data() + at, sizeof record);
        times.push_back(record[0] + record[1] * fraction_unit);
        at += 16 + record[2];
    }
    return times;
}

// The frames of a pcap file, in order.
std::vector<std::string> pcap_frames(const fs::path &path) {
    const std::string data = read_file(path);
    std::vector<std::string> frames;
    for (size_t at = 24; at + 16 <= data.size();) {
        uint32_t record[4];
        std::memcpy(record, data.data() + at, sizeof record);
        frames.push_back(data.substr(at + 16, record[2]));
        at += 16 + record[2];
    }
    return frames;
}

bool have_root() { return geteuid() == 0; }

}  // namespace

TEST_CASE("net_null both ways: exact accounting, seeded loss, exact constant delay", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "null.yaml", stats = dir / "stats.json";
    std::ofstream(config) << "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, delay: 5ms, loss: 1%}\n"
                             "  - {name: b-to-a, from: b, to: a, delay: 5ms}\nseed: 3\n";
    const Run r = run_linkem(config.string() + " --duration 2s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    CHECK(all_balanced(j));
    for (const char *name : {"a-to-b", "b-to-a"}) {
        const json &link = link_in(j, name);
        INFO(link.dump());
        const uint64_t rx = link.at("rx_packets"), tx = link.at("tx_packets");
        CHECK(rx > 100'000);  // traffic moved
        CHECK(link.at("in_flight") == 0);
        uint64_t dropped = 0;
        for (const auto &[reason, n] : link.at("drops").items()) dropped += n.get<uint64_t>();
        CHECK(rx == tx + dropped);
        CHECK(link.at("delay_ns").at("max") == 5'000'000);  // constant delay, no rate limit
        CHECK(link.at("delay_ns").at("p50") == 5'000'000);
    }
    const json &ab = link_in(j, "a-to-b");
    // 1% loss: within 5 sigma of N * p (sigma = sqrt(N p (1 - p))).
    const double n = static_cast<double>(ab.at("rx_packets").get<uint64_t>() - drops(ab, "arena_full") - drops(ab, "queue"));
    const double lost = static_cast<double>(drops(ab, "loss"));
    CHECK(std::abs(lost - 0.01 * n) < 5 * std::sqrt(n * 0.01 * 0.99));
    CHECK(drops(link_in(j, "b-to-a"), "loss") == 0);
    CHECK(j.at("mbufs").at("pool") == j.at("mbufs").at("returned"));
}

TEST_CASE("pcap in, ring between, pcap out: the capture shows the configured rate", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path in = dir / "in.pcap", out = dir / "out.pcap", config = dir / "chain.yaml", stats = dir / "stats.json";
    constexpr int kFrames = 200;
    write_pcap(in, kFrames, 1000);
    // in.pcap -> port a -> link a-to-b (10 Mbit/s) -> port b (a ring that loops
    // tx back to rx) -> link b-to-a -> port a -> out.pcap.
    std::ofstream(config) << "ports:\n  a: {device: \"net_pcap0,rx_pcap=" << in.string() << ",tx_pcap=" << out.string() << "\"}\n"
                          << "  b: {device: net_ring0}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, bandwidth: 10Mbit/s, overhead: ethernet, delay: 20ms}\n"
                             "  - {name: b-to-a, from: b, to: a, delay: 5ms}\n";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    for (const char *name : {"a-to-b", "b-to-a"}) {
        const json &link = link_in(j, name);
        INFO(link.dump());
        CHECK(link.at("rx_packets") == kFrames);
        CHECK(link.at("tx_packets") == kFrames);
        CHECK(link.at("in_flight") == 0);
    }
    CHECK(link_in(j, "b-to-a").at("delay_ns").at("max") == 5'000'000);

    const std::vector<double> times = pcap_times_s(out);
    REQUIRE(times.size() == kFrames);
    // The rate, measured robustly: the median over windows of 20 frames of the
    // time per frame. (Single gaps jitter by tens of us: the pcap driver stamps
    // a frame after writing it; and one scheduling stall must not decide the test.)
    constexpr size_t kWindow = 20;
    std::vector<double> per_frame;
    for (size_t i = 0; i + kWindow < times.size(); ++i) per_frame.push_back((times[i + kWindow] - times[i]) / kWindow);
    std::sort(per_frame.begin(), per_frame.end());
    const double expected = (1000.0 + 24) * 8 / 10e6;  // 819.2 us per frame on the wire
    const double median = per_frame[per_frame.size() / 2];
    // A timing figure: when it misses while linkem's own p99 lateness says the
    // host did not let it keep its schedule, skip with both figures.
    const uint64_t lateness_p99_ns = link_in(j, "a-to-b").at("lateness_ns").at("p99");
    if (median != Approx(expected).epsilon(0.02) && lateness_p99_ns > 1'000'000)
        LINKEM_SKIP(fmt::format("host too busy for the capture's rate: {:.1f} us per frame for 819.2, lateness p99 {} ns", median * 1e6,
                                lateness_p99_ns));
    CHECK(median == Approx(expected).epsilon(0.02));
}

TEST_CASE("a port that cannot start is named, and linkem exits cleanly", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "bad.yaml";
    std::ofstream(config) << "ports:\n  a: {device: \"net_af_packet0,iface=lkm-no-such-if\"}\n  b: {device: net_null1}\n"
                             "links: [{name: ab, from: a, to: b}]\n";
    const Run r = run_linkem(config.string() + " --duration 1s", 60);
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("port a (net_af_packet0,iface=lkm-no-such-if): DPDK has no device \"net_af_packet0\""));
    CHECK_THAT(r.output, Catch::Contains("No such device"));  // the driver's reason
}

TEST_CASE("what a link sends into a looping port is freed at shutdown: every mbuf comes back", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "loop.yaml", stats = dir / "stats.json";
    // net_null floods a 10 Mbit/s link into a ring port, whose link back is
    // still receiving when linkem stops: the ring holds mbufs at the end.
    std::ofstream(config) << "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: net_ring0}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, bandwidth: 10Mbit/s, delay: 20ms}\n"
                             "  - {name: b-to-a, from: b, to: a}\n";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    CHECK(r.status == 0);
    const json j = read_json(stats);
    CHECK(j.at("mbufs").at("pool") == j.at("mbufs").at("returned"));
    CHECK(drops(link_in(j, "a-to-b"), "queue") > 0);  // the flood met the queue limit
}

TEST_CASE("one lcore carries both directions, each with its own share", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "one.yaml", stats = dir / "stats.json";
    std::ofstream(config) << "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, delay: 1ms}\n  - {name: b-to-a, from: b, to: a, delay: 1ms}\n"
                             "pipeline: {lcores: [0]}\n";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    const uint64_t ab = link_in(j, "a-to-b").at("tx_packets"), ba = link_in(j, "b-to-a").at("tx_packets");
    CHECK(ab > 100'000);
    CHECK(ba > 100'000);
    // Polled in turn from pools of their own, neither direction starves the other.
    CHECK(static_cast<double>(std::min(ab, ba)) > 0.5 * static_cast<double>(std::max(ab, ba)));
}

TEST_CASE("the data path runs a non-trivial model of each kind", "[eal][plugin]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "models.yaml", stats = dir / "stats.json";
    // A rate schedule, bursty loss and normal jitter (held in order: with 0.5 ms of
    // jitter and a frame every few us, `order: drop` would drop nearly all).
    std::ofstream(config) << "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
                             "links:\n  - name: a-to-b\n    from: a\n    to: b\n"
                             "    bandwidth: {plugin: steps, rates: [200Mbit/s, 50Mbit/s], durations: [100ms, 100ms]}\n"
                             "    queue: 10000 packets\n"
                             "    loss: {plugin: gilbert_elliott, p: 1%, r: 30%}\n"
                             "    delay: {plugin: normal, mean: 5ms, stddev: 500us}\n"
                             "  - {name: b-to-a, from: b, to: a, delay: 1ms}\n";
    const Run r = run_linkem(config.string() + " --duration 2s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json stats_doc = read_json(stats);
    const json &link = link_in(stats_doc, "a-to-b");
    INFO(link.dump());
    CHECK(link.at("in_flight") == 0);
    CHECK(drops(link, "queue") > 0);  // net_null floods the 50-200 Mbit/s link
    CHECK(drops(link, "loss") > 0);
    CHECK(drops(link, "order") == 0);
    const uint64_t tx = link.at("tx_packets");
    // 2 s at 125 Mbit/s on average, 64-byte frames with no overhead: about 490k
    // frames, plus up to 10000 left queued at the stop (2%). The queue holds 25
    // to 100 ms of the link's time, so a busy host that deschedules the rx
    // lcore for some ms does not leave the link idle.
    CHECK(static_cast<double>(tx) == Approx(2 * 125e6 / 512 * (1 - 0.01 / 0.31)).epsilon(0.1));
    const uint64_t p50 = link.at("delay_ns").at("p50");
    CHECK(p50 > 5'000'000);  // the queue adds to the 5 ms
}

TEST_CASE("lateness is recorded for every packet sent, and an injected stall shows up in it", "[eal][fidelity]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "stall.yaml", stats = dir / "stats.json";
    std::ofstream(config) << "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, bandwidth: 100Mbit/s, delay: 20ms}\n"
                             "stats: {lateness_tolerance: 10us}\n";
    // The stall: the whole process stopped for 300 ms (SIGSTOP), as a host
    // that deschedules it would. Packets due meanwhile leave up to 300 ms late.
    const Run r = run_linkem_and(config.string() + " --duration 3s --stats-interval 0 --stats-json " + stats.string(), 60, [](pid_t pid) {
        usleep(1'500'000);
        kill(pid, SIGSTOP);
        usleep(300'000);
        kill(pid, SIGCONT);
    });
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("lateness (transmit - release): p50") && Catch::Contains("p99.9") &&
                             Catch::Contains("within the 10 us lateness tolerance"));
    const json j = read_json(stats);
    const json &lateness = link_in(j, "a-to-b").at("lateness_ns");
    INFO(lateness.dump());
    CHECK(lateness.at("count") == link_in(j, "a-to-b").at("tx_packets"));  // every packet sent is in the histogram
    CHECK(lateness.at("count") > 100'000);
    CHECK(lateness.at("max") >= 250'000'000);  // the stall, less what the clock and the signals blur
    CHECK(lateness.at("max") < 2'000'000'000);
    CHECK(lateness.at("late") > 0);
    // The stall is a tail, not the rule: it holds back the packets due in 300 ms
    // of a 3 s run. (How late the rest leave is the host's business, measured
    // by tools/fidelity.sh beside the host's own floor, not asserted here: on a
    // busy host a median of 1.9 ms was seen.)
    CHECK(lateness.at("p50") < 250'000'000);
}

namespace {

// User plus system CPU seconds of a process, all its threads; -1 when /proc
// has no such process (the caller checks, outside the child's callback).
double cpu_seconds(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const size_t name_end = stat.rfind(')');
    if (name_end == std::string::npos) return -1;
    std::istringstream fields(stat.substr(name_end + 1));
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    if (f.size() <= 12) return -1;
    return static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("an idle linkem with jitter on its links sleeps on both lcores instead of polling", "[eal][pacing]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "idle.yaml";
    // No traffic at all (ring ports nobody writes to). A normal jitter model
    // has no delay floor, so the tx lcore naps a threshold at a time; were
    // either lcore to spin, it alone would use a whole CPU.
    std::ofstream(config) << "ports:\n  a: {device: net_ring0}\n  b: {device: net_ring1}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, delay: {plugin: normal, mean: 10ms, stddev: 1ms}}\n"
                             "  - {name: b-to-a, from: b, to: a, delay: {plugin: normal, mean: 10ms, stddev: 1ms}}\n"
                             "pipeline: {lcores: [0, 1]}\n";
    double share = -1;
    const Run r = run_linkem_and(config.string() + " --duration 3s --stats-interval 0", 60, [&](pid_t pid) {
        usleep(1'200'000);  // past EAL's start-up
        const double before = cpu_seconds(pid);
        usleep(1'000'000);
        const double after = cpu_seconds(pid);
        if (before >= 0 && after >= 0) share = after - before;
    });
    INFO(r.output);
    REQUIRE(r.status == 0);
    INFO("CPU seconds used in one idle second: " << share);
    REQUIRE(share >= 0);  // else /proc could not be read while linkem ran
    CHECK(share < 1.0);
}

// Context switches (voluntary and not) of every thread of a process so far:
// each nap of an lcore is one; -1 when /proc has no such process.
double context_switches(pid_t pid) {
    const fs::path tasks = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    double sum = 0;
    for (const fs::directory_entry &task : fs::directory_iterator(tasks, ec)) {
        std::ifstream status(task.path() / "status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
                sum += std::stod(line.substr(line.find(':') + 1));
    }
    return ec ? -1 : sum;
}

TEST_CASE("an idle linkem backs off to long naps: at most 5% of a CPU", "[eal][pacing]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "idle.yaml";
    // As above, and the back-off starts after 100 ms without a packet: then
    // each lcore wakes once per idle_nap (1 ms) instead of once per
    // sleep_threshold (50 us). The behaviour asserted is the wake-up rate
    // (a busy host only makes naps longer, so fewer); the CPU share, which a
    // busy host inflates (each wake-up then costs more), is asserted when the
    // wake-ups are as few as they should be and else reported.
    std::ofstream(config) << "ports:\n  a: {device: net_ring0}\n  b: {device: net_ring1}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, delay: {plugin: normal, mean: 10ms, stddev: 1ms}}\n"
                             "  - {name: b-to-a, from: b, to: a, delay: {plugin: normal, mean: 10ms, stddev: 1ms}}\n"
                             "pipeline: {lcores: [0, 1], idle_after: 100ms, idle_nap: 1ms}\n";
    double share = -1, wakeups = -1;
    const Run r = run_linkem_and(config.string() + " --duration 4s --stats-interval 0", 60, [&](pid_t pid) {
        usleep(1'500'000);  // past EAL's start-up and the first 100 ms
        const double cpu_before = cpu_seconds(pid), switches_before = context_switches(pid);
        usleep(2'000'000);
        const double cpu_after = cpu_seconds(pid), switches_after = context_switches(pid);
        if (cpu_before >= 0 && cpu_after >= 0) share = (cpu_after - cpu_before) / 2;
        if (switches_before >= 0 && switches_after >= 0) wakeups = (switches_after - switches_before) / 2;
    });
    INFO(r.output);
    REQUIRE(r.status == 0);
    INFO("backed off, per idle second: " << share << " CPU seconds, " << wakeups << " context switches");
    REQUIRE(share >= 0);
    REQUIRE(wakeups >= 0);
    // Two lcores at one nap per ms, the control thread's 100 naps per second,
    // EAL's own threads: about 2100. Without the back-off: tens of thousands.
    CHECK(wakeups < 4000);
    if (share > 0.05 && wakeups < 4000)
        LINKEM_SKIP(
            fmt::format("host too busy for the CPU bound: {:.3f} CPU-s/s at {:.0f} wake-ups/s (each wake-up costs more "
                        "on a busy host)",
                        share, wakeups));
    CHECK(share <= 0.05);
}

TEST_CASE("the fidelity figures set rate and loss beside the configuration", "[eal][fidelity]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "fidelity.yaml", stats = dir / "stats.json";
    std::ofstream(config) << "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
                             "links:\n  - {name: a-to-b, from: a, to: b, bandwidth: 100Mbit/s, overhead: ethernet, delay: 1ms,\n"
                             "     loss: {plugin: gilbert_elliott, p: 1%, r: 30%}}\nseed: 5\n";
    const Run r = run_linkem(config.string() + " --duration 2s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    const json &link = link_in(j, "a-to-b"), &rate = link.at("rate"), &loss = link.at("loss");
    INFO(rate.dump() << "\n" << loss.dump());
    // The model's own times give the configured rate back exactly (to rounding);
    // net_null floods the link, so it is backlogged nearly all the time.
    CHECK(rate.at("configured_bps").get<double>() == Approx(100e6).epsilon(0.001));
    // Gilbert-Elliott p 1%, r 30%: 3.23% in the long run; about 140k packets
    // (430 bursts) in 2 s: 25% relative is more than 4 sigma.
    const uint64_t offered = loss.at("offered"), lost = loss.at("lost");
    CHECK(offered > 100'000);
    CHECK(static_cast<double>(lost) / static_cast<double>(offered) == Approx(0.01 / 0.31).epsilon(0.25));
    CHECK(loss.at("expected").get<double>() == Approx(0.01 / 0.31).epsilon(1e-9));
    CHECK(link.at("out_of_order") == 0);
    // The achieved rate is a timing figure: when it misses and linkem's own
    // p99 lateness says the host did not let it keep its schedule, the check
    // is skipped with both figures, never passed.
    // The same for the time the tx side measured the link backlogged (all but
    // start-up and the last delay of the 2 s run, when the host lets it keep up).
    const double achieved_bps = rate.at("achieved_bps").get<double>();
    const double backlogged_ns = rate.at("backlogged_ns").get<double>();
    const uint64_t lateness_p99_ns = link.at("lateness_ns").at("p99");
    if ((achieved_bps != Approx(100e6).epsilon(0.02) || backlogged_ns <= 1.5e9) && lateness_p99_ns > 1'000'000)
        LINKEM_SKIP(
            fmt::format("host too busy for the rate check: achieved {:.0f} bit/s for 100 Mbit/s over {:.0f} ns backlogged, "
                        "lateness p99 {} ns",
                        achieved_bps, backlogged_ns, lateness_p99_ns));
    CHECK(achieved_bps == Approx(100e6).epsilon(0.02));
    CHECK(backlogged_ns > 1.5e9);
}

namespace {

// A pcap of the given frames (microsecond format), one per second of capture time.
// The first CPU this process may run on.
int first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) return c;
    return 0;
}

void write_pcap_frames(const fs::path &path, const std::vector<std::vector<uint8_t>> &frames) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    for (size_t i = 0; i < frames.size(); ++i) {
        const uint32_t len = static_cast<uint32_t>(frames[i].size());
        const uint32_t record[4] = {static_cast<uint32_t>(i), 0, len, len};
        out.write(reinterpret_cast<const char *>(record), sizeof record);
        out.write(reinterpret_cast<const char *>(frames[i].data()), len);
    }
}

// An Ethernet frame: optional VLAN tag, then an IPv4 header (protocol, fragment offset in 8-byte units) and 8 bytes of L4 header.
std::vector<uint8_t> ipv4_frame(uint8_t proto, uint16_t dst_port, int vlan = -1, uint16_t fragment_offset = 0, uint8_t src_net = 0,
                                uint8_t src_host = 1) {
    std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
    if (vlan >= 0) f.insert(f.end(), {0x81, 0x00, static_cast<uint8_t>(vlan >> 8), static_cast<uint8_t>(vlan)});
    f.insert(f.end(), {0x08, 0x00});
    const uint16_t total = 20 + 8 + 36;
    f.insert(f.end(), {0x45,
                       0,
                       static_cast<uint8_t>(total >> 8),
                       static_cast<uint8_t>(total),
                       0,
                       1,
                       static_cast<uint8_t>(fragment_offset >> 8),
                       static_cast<uint8_t>(fragment_offset),
                       64,
                       proto,
                       0,
                       0,
                       10,
                       src_net,
                       0,
                       src_host,
                       10,
                       0,
                       1,
                       1});
    f.insert(f.end(), {0x30, 0x39, static_cast<uint8_t>(dst_port >> 8), static_cast<uint8_t>(dst_port), 0, 44, 0, 0});
    f.resize(f.size() + 36, 0xab);
    return f;
}

std::string flow_key(int net) { return "src 10." + std::to_string(net) + ".0.0/24"; }

}  // namespace

TEST_CASE("rules send each class of traffic through its own link; malformed frames are counted", "[eal][classify]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    // Classification on the rx lcore, then on a classify lcore of its own
    // (three lcores mapped onto one CPU, so any machine can run it).
    const bool classify_lcore = GENERATE(false, true);
    const std::string cpu = std::to_string(first_allowed_cpu());
    INFO((classify_lcore ? "on a classify lcore" : "on the rx lcore"));
    TempDir dir;
    const fs::path in = dir / "in.pcap", config = dir / "rules.yaml", stats = dir / "stats.json";
    std::vector<std::vector<uint8_t>> frames;
    const auto add = [&](int count, const std::vector<uint8_t> &f) { frames.insert(frames.end(), count, f); };
    add(100, ipv4_frame(17, 5500));          // UDP 5000-6000: slow
    add(10, ipv4_frame(17, 5999, 100));      // the same behind a VLAN tag: slow
    add(50, ipv4_frame(17, 7000));           // UDP elsewhere: default (fast)
    add(40, ipv4_frame(6, 5500));            // TCP to 5500: default
    add(10, ipv4_frame(17, 5500, -1, 100));  // a later fragment carries no ports: default
    add(20, ipv4_frame(47, 0));              // GRE: dropped by rule
    std::vector<uint8_t> arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06};
    arp.resize(60, 0);
    add(30, arp);                                                       // ARP: passed untouched
    add(10, std::vector<uint8_t>{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0});  // runts: default
    write_pcap_frames(in, frames);
    std::ofstream(config) << "ports:\n  a: {device: \"net_pcap0,rx_pcap=" << in.string() << "\"}\n  b: {device: net_null1}\n"
                          << "links:\n  - {name: fast, from: a, to: b, delay: 1ms}\n  - {name: slow, from: a, to: b, delay: 20ms}\n"
                          << "rules:\n  - {match: {proto: udp, dst_port: 5000-6000}, link: slow}\n"
                          << "  - {match: {ether_type: arp}, action: pass}\n  - {match: {proto: gre}, action: drop}\n"
                          << (classify_lcore ? "pipeline: {classify_lcore: 2}\n" : "");
    const std::string eal = classify_lcore ? " -- --lcores 0@" + cpu + ",1@" + cpu + ",2@" + cpu : "";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string() + eal, 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    const json &slow = link_in(j, "slow"), &fast = link_in(j, "fast"), &pass = link_in(j, "pass-a");
    CHECK(slow.at("rx_packets") == 110);
    CHECK(slow.at("tx_packets") == 110);
    CHECK(slow.at("delay_ns").at("max") == 20'000'000);  // every one of them took the slow link
    CHECK(fast.at("rx_packets") == 110);
    CHECK(fast.at("tx_packets") == 110);
    CHECK(fast.at("delay_ns").at("max") == 1'000'000);
    CHECK(pass.at("tx_packets") == 30);
    CHECK(pass.at("delay_ns").at("max") == 0);  // pass: no added delay
    REQUIRE(j.at("classify").size() == 1);
    const json &classify = j.at("classify").at(0);
    CHECK(classify.at("port") == "a");
    CHECK(classify.at("packets") == 270);
    CHECK(classify.at("drops").at("rule") == 20);
    CHECK(classify.at("drops").at("unclassified") == 0);
    CHECK(classify.at("frames").at("runt") == 10);
    CHECK(classify.at("frames").at("later_fragment") == 10);
    CHECK(classify.at("default_packets") == 110);
    CHECK(port_in(j, "a").at("ipackets") == 270);  // every frame received was classified
    if (classify_lcore) CHECK(r.output.find("lcore 2: classify a") != std::string::npos);
    CHECK(all_balanced(j));
}

TEST_CASE("a per-source-/24 template makes one link per subnet; a chain adds its hops' delays", "[eal][classify]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path in = dir / "in.pcap", config = dir / "flows.yaml", stats = dir / "stats.json";
    std::vector<std::vector<uint8_t>> frames;
    for (int i = 0; i < 300; ++i)
        frames.push_back(ipv4_frame(17, 9000, -1, 0, static_cast<uint8_t>(i % 3), static_cast<uint8_t>(1 + i % 7)));
    for (int i = 0; i < 40; ++i) frames.push_back(ipv4_frame(6, 80));  // TCP: the chain
    write_pcap_frames(in, frames);
    std::ofstream(config) << "ports:\n  a: {device: \"net_pcap0,rx_pcap=" << in.string() << "\"}\n  b: {device: net_null1}\n"
                          << "links:\n  - {name: subnet, from: a, to: b, bandwidth: 100Mbit/s, delay: 2ms,"
                          << " per_flow: {key: {src: /24}, max_flows: 4}}\n"
                          << "  - {name: access, from: a, delay: 5ms}\n  - {name: core, to: b, delay: 7ms}\n"
                          << "rules:\n  - {match: {proto: tcp}, chain: [access, core]}\n  - {match: {proto: udp}, link: subnet}\n";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    // One instance per source /24, each with a third of the packets, reported by its key.
    std::set<std::string> keys;
    for (int net = 0; net < 3; ++net) {
        const json &link = link_in(j, "subnet#" + std::to_string(net));
        CHECK(link.at("rx_packets") == 100);
        keys.insert(link.at("flow").at("key").get<std::string>());
    }
    CHECK(keys == std::set<std::string>{flow_key(0), flow_key(1), flow_key(2)});
    CHECK_THROWS(link_in(j, "subnet#3"));  // never used: not reported
    // The chain: each hop counts the packets; the first hands them on; the delays add up.
    const json &access = link_in(j, "access"), &core = link_in(j, "core");
    CHECK(access.at("rx_packets") == 40);
    CHECK(access.at("handed_on") == 40);
    CHECK(core.at("rx_packets") == 40);
    CHECK(core.at("tx_packets") == 40);
    CHECK(access.at("delay_ns").at("max") == 5'000'000);
    CHECK(core.at("delay_ns").at("max") == 7'000'000);
    CHECK(all_balanced(j));
}

TEST_CASE("a per-flow template's aggregate is one bottleneck in front of every flow's link", "[eal][classify]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path in = dir / "in.pcap", config = dir / "aggregate.yaml", stats = dir / "stats.json";
    // Two subnets' frames (78 bytes, 624 us each at 1 Mbit/s), alternating, all
    // arriving within a few ms: the shared queue of 50 packets takes about 50
    // of the 600 and drops the rest; each flow's own link then adds 2 ms.
    std::vector<std::vector<uint8_t>> frames;
    for (int i = 0; i < 600; ++i) frames.push_back(ipv4_frame(17, 9000, -1, 0, static_cast<uint8_t>(i % 2)));
    write_pcap_frames(in, frames);
    std::ofstream(config) << "ports:\n  a: {device: \"net_pcap0,rx_pcap=" << in.string() << "\"}\n  b: {device: net_null1}\n"
                          << "links:\n  - {name: subnet, from: a, to: b, delay: 2ms, queue: 50 packets,"
                          << " per_flow: {key: {src: /24}, max_flows: 4, aggregate: 1Mbit/s}}\n";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    const json &shared = link_in(j, "subnet/aggregate");
    CHECK(shared.at("rx_packets") == 600);
    const uint64_t passed = shared.at("handed_on");
    CHECK(passed + shared.at("drops").at("queue").get<uint64_t>() == 600);
    CHECK(passed >= 50);
    CHECK(passed <= 70);                                       // 50 queued, plus what left while the rest arrived
    const uint64_t most_ns = shared.at("delay_ns").at("max");  // the last one admitted waited for about 50 ahead of it
    CHECK(most_ns >= 50 * 624'000 * 9 / 10);
    CHECK(most_ns <= 70 * 624'000);
    // Each subnet's own instance got its share of what passed, and sent all of it 2 ms later.
    const json &flow0 = link_in(j, "subnet#0"), &flow1 = link_in(j, "subnet#1");
    const uint64_t rx0 = flow0.at("rx_packets"), rx1 = flow1.at("rx_packets");
    CHECK(rx0 + rx1 == passed);
    CHECK(flow0.at("tx_packets").get<uint64_t>() + flow1.at("tx_packets").get<uint64_t>() == passed);
    CHECK(std::abs(static_cast<double>(rx0) - static_cast<double>(rx1)) <= 1);
    CHECK(flow0.at("delay_ns").at("max") == 2'000'000);
    CHECK(std::set<std::string>{flow0.at("flow").at("key"), flow1.at("flow").at("key")} == std::set<std::string>{flow_key(0), flow_key(1)});
    CHECK(all_balanced(j));
}

// n ECT(0) UDP frames (the IPv4 TOS byte's ECN field set to 2).
std::vector<std::vector<uint8_t>> ect0_frames(size_t n) {
    std::vector<std::vector<uint8_t>> frames(n, ipv4_frame(17, 9000));
    for (auto &f : frames) f[15] = 0x02;
    return frames;
}

// The ECN field of captured IPv4 frames: how many carry CE and how many ECT(0).
struct EcnOnWire {
    uint64_t frames = 0, ce = 0, ect0 = 0;
};
EcnOnWire ecn_on_wire(const std::vector<std::string> &wire) {
    EcnOnWire e;
    for (const std::string &f : wire) {
        ++e.frames;
        if (f.size() <= 15) continue;
        e.ce += (f[15] & 3) == 3 ? 1 : 0;
        e.ect0 += (f[15] & 3) == 2 ? 1 : 0;
    }
    return e;
}

TEST_CASE("ecn: past a full queue ECN-capable packets are marked CE instead of dropped, up to twice the limit", "[eal][mangle]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path in = dir / "in.pcap", out = dir / "out.pcap", config = dir / "ecn.yaml", stats = dir / "stats.json";
    // 300 ECT(0) UDP frames at once into a 1 Mbit/s link with a 10-packet
    // queue: 10 queue normally, 10 more are admitted marked CE, the rest
    // (less what leaves while they arrive) are dropped.
    write_pcap_frames(in, ect0_frames(300));
    std::ofstream(config) << "ports:\n  a: {device: \"net_pcap0,rx_pcap=" << in.string() << "\"}\n"
                          << "  b: {device: \"net_pcap1,rx_pcap=" << in.string() << ",tx_pcap=" << out.string() << "\"}\n"
                          << "links:\n  - {name: ab, from: a, to: b, bandwidth: 1Mbit/s, queue: 10 packets, mangle: {ecn: true}}\n"
                          << "  - {name: ba, from: b, to: a, delay: 1ms}\n";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    const json &ab = link_in(j, "ab");
    const uint64_t marked = ab.at("mangle").at("ce_marked"), sent = ab.at("tx_packets");
    CHECK(marked >= 10);
    CHECK(marked <= 12);  // a packet or two may leave while the burst arrives
    CHECK(sent + drops(ab, "queue") == 300);
    // On the wire: exactly the marked ones carry CE, the others still ECT(0).
    const EcnOnWire wire = ecn_on_wire(pcap_frames(out));
    CHECK(wire.frames == sent);
    CHECK(wire.ce == marked);
    CHECK(wire.ce + wire.ect0 == sent);
    CHECK(all_balanced(j));
}

TEST_CASE("a queue discipline in linkem: held, decided at each start, marks CE on the wire, and the accounting balances", "[eal][queue]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    const char *fixtures = std::getenv("LINKEM_FIXTURE_DIR");
    REQUIRE(fixtures != nullptr);  // set by meson test
    TempDir dir;
    const fs::path in = dir / "in.pcap", out = dir / "out.pcap", config = dir / "aqm.yaml", stats = dir / "stats.json";
    // 300 ECT(0) UDP frames at once into a 1 Mbit/s link whose discipline (the fixture sojourn_cap) marks what
    // waited more than 20 ms: of the 101 the hard limit lets in (one on the wire, 100 waiting), the first few tens
    // leave unmarked, the rest marked CE; the other 199 are overload (queue).
    write_pcap_frames(in, ect0_frames(300));
    std::ofstream(config) << "ports:\n  a: {device: \"net_pcap0,rx_pcap=" << in.string() << "\"}\n"
                          << "  b: {device: \"net_pcap1,rx_pcap=" << in.string() << ",tx_pcap=" << out.string() << "\"}\n"
                          << "links:\n  - {name: ab, from: a, to: b, bandwidth: 1Mbit/s, queue: {discipline: \"" << fixtures
                          << "/fixture_sojourn_cap.so\", cap: 20ms, ecn: true, limit: 100 packets}}\n"
                          << "  - {name: ba, from: b, to: a, delay: 1ms}\n";
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    const json &ab = link_in(j, "ab");
    INFO(ab.dump());
    const uint64_t marked = ab.at("queue_discipline").at("marks"), sent = ab.at("tx_packets");
    CHECK(ab.at("rx_packets") == 300);
    CHECK(sent + drops(ab, "queue") + drops(ab, "aqm_drop") == 300);
    CHECK(drops(ab, "aqm_drop") == 0);  // every frame is ECN-capable: MARK, never a drop
    CHECK(sent >= 101);                 // the hard limit's 101, and what arrived after places freed
    CHECK(marked >= 1);
    CHECK(marked < sent);
    CHECK(ab.at("queue_discipline").at("sojourn_ns").at("count") == sent);
    const EcnOnWire wire = ecn_on_wire(pcap_frames(out));
    CHECK(wire.frames == sent);
    CHECK(wire.ce == marked);
    CHECK(wire.ce + wire.ect0 == sent);
    CHECK(all_balanced(j));
}

TEST_CASE("each mangler's count matches its configuration (seeded, 5 sigma)", "[eal][mangle]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "mangle.yaml", stats = dir / "stats.json";
    std::ofstream(config) << "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: net_null1}\n"
                          << "links:\n  - {name: m, from: a, to: b, bandwidth: 100Mbit/s, delay: 1ms,\n"
                          << "     mangle: {duplicate: 5%, corrupt: 10%, truncate: 40B, reorder: {probability: 2%, extra_delay: 1ms}}}\n"
                          << "seed: 3\n";
    const Run r = run_linkem(config.string() + " --duration 2s --stats-interval 0 --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const json j = read_json(stats);
    const json &link = link_in(j, "m"), &mangle = link.at("mangle");
    const double forwarded = static_cast<double>(link.at("rx_packets").get<uint64_t>() - drops(link, "queue"));
    REQUIRE(forwarded > 100'000);  // about 150 kpps for 2 s
    const auto within_5_sigma = [&](const char *key, double p) {
        const double n = mangle.at(key).get<double>();
        INFO(key << ": " << n << " of " << forwarded << ", expected " << p * forwarded);
        CHECK(std::abs(n - p * forwarded) <= 5 * std::sqrt(forwarded * p * (1 - p)));
    };
    within_5_sigma("duplicated", 0.05);
    within_5_sigma("corrupted", 0.10);
    within_5_sigma("reordered", 0.02);
    CHECK(mangle.at("truncated") == static_cast<uint64_t>(forwarded));  // every 64-byte frame is cut to 40
    CHECK(mangle.at("corrupted_bits") == mangle.at("corrupted"));       // per packet: one bit each
    CHECK(link.at("out_of_order") > 0);                                 // held-back packets were overtaken
    CHECK(link.at("tx_bytes") == 40 * link.at("tx_packets").get<uint64_t>());
    CHECK(all_balanced(j));
}
