// [sim] linkem-sim: the link model and plugins in virtual time, from a pcap or
// synthetic input: exact timestamps, byte-identical repeats, clear errors.
#include "linkem_process.hpp"
#include "replay_trace.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace linkem::test;
namespace fs = std::filesystem;

namespace {

Run sim(const std::string &arguments) { return run_program("LINKEM_SIM_BIN", arguments, 60); }

// A microsecond pcap of n frames of len bytes, one every gap_us from t = 100 s.
void write_pcap(const fs::path &path, int n, uint32_t len, uint32_t gap_us) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    for (int i = 0; i < n; ++i) {
        const uint64_t us = 100'000'000ULL + static_cast<uint64_t>(i) * gap_us;
        const uint32_t record[4] = {static_cast<uint32_t>(us / 1'000'000), static_cast<uint32_t>(us % 1'000'000), len, len};
        out.write(reinterpret_cast<const char *>(record), sizeof record);
        std::string frame(len, static_cast<char>(i));
        out.write(frame.data(), len);
    }
}

// Timestamps (ns) of a nanosecond pcap, as linkem-sim writes.
std::vector<uint64_t> times_ns(const fs::path &path) {
    const std::string data = read_file(path);
    REQUIRE(data.size() >= 24);
    uint32_t magic;
    std::memcpy(&magic, data.data(), 4);
    REQUIRE(magic == 0xa1b23c4d);
    std::vector<uint64_t> t;
    for (size_t at = 24; at + 16 <= data.size();) {
        uint32_t r[4];
        std::memcpy(r, data.data() + at, sizeof r);
        t.push_back(uint64_t{r[0]} * 1'000'000'000 + r[1]);
        at += 16 + r[2];
    }
    return t;
}

const std::string kConfig =
    "ports: {a: {device: net_null0}, b: {device: net_null1}}\n"
    "links:\n  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, delay: {plugin: normal, mean: 5ms, stddev: 1ms}, "
    "loss: {plugin: gilbert_elliott, p: 2%, r: 25%}}\nseed: 4\n";

}  // namespace

TEST_CASE("linkem-sim reproduces a seeded run byte for byte", "[sim]") {
    TempDir dir;
    const std::string config = dir.write("sim.yaml", kConfig);
    const std::string args = config + " --synthetic rate=2000pps,size=500,count=20000 --out ";
    const Run a = sim(args + (dir / "a.pcap").string());
    INFO(a.output);
    REQUIRE(a.status == 0);
    REQUIRE(sim(args + (dir / "b.pcap").string()).status == 0);
    REQUIRE(sim(args + (dir / "c.pcap").string() + " --seed 5").status == 0);
    const std::string first = read_file(dir / "a.pcap");
    CHECK(first.size() > 24 + 10000 * 516);
    CHECK(first == read_file(dir / "b.pcap"));
    CHECK(first != read_file(dir / "c.pcap"));  // another seed, other losses and delays
    CHECK_THAT(a.output, Catch::Contains("(seed 4)") && Catch::Contains("link ab:") && Catch::Contains("balanced"));
}

TEST_CASE("linkem-sim stamps each packet with its exact release time", "[sim]") {
    TempDir dir;
    // 1000-byte frames every 100 us into 10 Mbit/s (800 us each) with 5 ms delay:
    // frame i leaves at 100 s + 800 us (i + 1) + 5 ms, while the queue lasts.
    write_pcap(dir / "in.pcap", 20, 1000, 100);
    const std::string config = dir.write("c.yaml",
                                         "ports: {a: {device: n0}, b: {device: n1}}\n"
                                         "links: [{name: ab, from: a, to: b, bandwidth: 10Mbit/s, queue: 100 packets, delay: 5ms}]\n");
    const Run r = sim(config + " --in " + (dir / "in.pcap").string() + " --out " + (dir / "out.pcap").string() + " --stats-json " +
                      (dir / "s.json").string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    const auto t = times_ns(dir / "out.pcap");
    REQUIRE(t.size() == 20);
    for (size_t i = 0; i < t.size(); ++i) CHECK(t[i] == 100'000'000'000ULL + 800'000 * (i + 1) + 5'000'000);
    const nlohmann::json stats = read_json(dir / "s.json");
    CHECK(link_in(stats, "ab").at("rx_packets") == 20);
    CHECK(link_in(stats, "ab").at("tx_packets") == 20);
}

TEST_CASE("linkem-sim runs a queue discipline: each packet decided at its transmission start, exactly", "[sim][queue]") {
    const char *fixtures = std::getenv("LINKEM_FIXTURE_DIR");
    REQUIRE(fixtures != nullptr);  // set by meson test
    TempDir dir;
    // 1000-byte frames every 100 us into 10 Mbit/s (800 us each), 5 ms delay; the fixture discipline drops a
    // packet whose sojourn at its start exceeds 3 ms. Frame i would start at 800 us i (sojourn 700 us i): 0-4
    // pass; at 4 ms frames 5-9 (sojourn 3.5 to 3.1 ms) are dropped one after the other at the same instant and
    // 10 (3.0 ms) starts; at 4.8 ms 11-17 are dropped and 18 starts; at 5.6 ms 19 is dropped.
    write_pcap(dir / "in.pcap", 20, 1000, 100);
    const std::string config =
        dir.write("c.yaml", std::string("ports: {a: {device: n0}, b: {device: n1}}\n"
                                        "links: [{name: ab, from: a, to: b, bandwidth: 10Mbit/s, delay: 5ms, queue: {discipline: \"") +
                                fixtures + "/fixture_sojourn_cap.so\", cap: 3ms, limit: 100 packets}}]\n");
    const Run r = sim(config + " --in " + (dir / "in.pcap").string() + " --out " + (dir / "out.pcap").string() + " --stats-json " +
                      (dir / "s.json").string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    const auto t = times_ns(dir / "out.pcap");
    const std::vector<uint64_t> exits_us = {800, 1600, 2400, 3200, 4000, 4800, 5600};
    REQUIRE(t.size() == exits_us.size());
    for (size_t i = 0; i < t.size(); ++i) CHECK(t[i] == 100'000'000'000ULL + exits_us[i] * 1000 + 5'000'000);
    const nlohmann::json stats = read_json(dir / "s.json");
    const nlohmann::json &ab = link_in(stats, "ab");
    CHECK(ab.at("rx_packets") == 20);
    CHECK(ab.at("tx_packets") == 7);
    CHECK(ab.at("drops").at("aqm_drop") == 13);
    CHECK(ab.at("drops").at("queue") == 0);
    CHECK(ab.at("balanced") == true);
    CHECK(ab.at("queue_discipline").at("drops") == 13);
    CHECK(ab.at("queue_discipline").at("marks") == 0);
    CHECK(ab.at("queue_discipline").at("sojourn_ns").at("count") == 7);
    CHECK(ab.at("queue_discipline").at("sojourn_ns").at("max") == 3'000'000);  // frames 10 and 18 waited exactly the cap
    CHECK_THAT(r.output, Catch::Contains("queue discipline: 0 marked CE, 13 dropped (0 at arrival, 0 MARKs"));
}

namespace {

// Ethernet, IPv4 and UDP (or another protocol, with ports where UDP has them) from 10.0.0.1:src_port to 10.0.0.2:9, len bytes in all.
std::string udp_frame(uint16_t src_port, uint32_t len, uint8_t proto = 17) {
    std::string f(len, '\0');
    const auto put16 = [&](size_t at, uint32_t v) {
        f[at] = static_cast<char>(v >> 8);
        f[at + 1] = static_cast<char>(v & 0xFF);
    };
    put16(12, 0x0800);
    f[14] = 0x45;
    put16(16, len - 14);
    f[22] = 64;
    f[23] = static_cast<char>(proto);
    f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
    put16(34, src_port);
    put16(36, 9);
    put16(38, len - 34);
    return f;
}

// A microsecond pcap of udp_frame()s, from t = 100 s: {at_us, src_port, len, proto} each.
struct FrameAt {
    uint64_t at_us;
    uint16_t src_port;
    uint32_t len;
    uint8_t proto;
};
void write_frames(const fs::path &path, const std::vector<FrameAt> &frames) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    for (const FrameAt &f : frames) {
        const std::string frame = udp_frame(f.src_port, f.len, f.proto);
        const uint32_t record[4] = {static_cast<uint32_t>(100 + f.at_us / 1'000'000), static_cast<uint32_t>(f.at_us % 1'000'000), f.len,
                                    f.len};
        out.write(reinterpret_cast<const char *>(record), sizeof record);
        out.write(frame.data(), f.len);
    }
}

// Runs linkem-sim on dir/in.pcap with config (one link ab), to dir/out.pcap; its output and JSON statistics.
struct SimRun {
    std::string output;
    nlohmann::json stats;
};
SimRun sim_stats(TempDir &dir, const std::string &config) {
    const Run r = sim(dir.write("c.yaml", config) + " --in " + (dir / "in.pcap").string() + " --out " + (dir / "out.pcap").string() +
                      " --stats-json " + (dir / "s.json").string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    return {r.output, read_json(dir / "s.json")};
}

}  // namespace

TEST_CASE("linkem-sim runs fq_codel: a light flow keeps its short wait beside a heavy one", "[sim][queue][scheduler]") {
    TempDir dir;
    // 2 s: a heavy flow of 1000-byte frames every 400 us (20 Mbit/s) and a light one of 100-byte frames every 20 ms, into 10 Mbit/s.
    std::vector<FrameAt> frames;
    for (uint64_t us = 0; us < 2'000'000; us += 400) {
        frames.push_back({us, 1000, 1000, 17});
        if (us % 20'000 == 0) frames.push_back({us, 2000, 100, 17});
    }
    write_frames(dir / "in.pcap", frames);
    const SimRun run = sim_stats(dir,
                                 "ports: {a: {device: n0}, b: {device: n1}}\n"
                                 "links: [{name: ab, from: a, to: b, bandwidth: 10Mbit/s, queue: {discipline: fq_codel}}]\n");
    CHECK_THAT(run.output, Catch::Contains("scheduler: fq over 1024 flow queues: 2 carried packets"));
    const nlohmann::json &stats = run.stats;
    const nlohmann::json &ab = link_in(stats, "ab");
    CHECK(ab.at("rx_packets") == 5000 + 100);
    CHECK(ab.at("balanced") == true);
    const nlohmann::json &scheduler = ab.at("scheduler");
    CHECK(scheduler.at("kind") == "fq");
    CHECK(scheduler.at("queues") == 1024);
    REQUIRE(scheduler.at("active_queues").size() == 2);
    const nlohmann::json *heavy = &scheduler.at("active_queues")[0], *light = &scheduler.at("active_queues")[1];
    if (heavy->at("sent_bytes").get<uint64_t>() < light->at("sent_bytes").get<uint64_t>()) std::swap(heavy, light);
    CHECK(light->at("sent") == 100);  // every light packet delivered
    CHECK(light->at("aqm_drops") == 0);
    CHECK(light->at("sojourn_mean_ns").get<uint64_t>() < 1'000'000);  // at most one heavy frame (800 us) ahead of it
    CHECK(heavy->at("aqm_drops").get<uint64_t>() > 0);                // codel in the heavy flow's queue
    CHECK(heavy->at("sojourn_mean_ns").get<uint64_t>() > 5'000'000);  // its standing queue, codel's target and above
    CHECK(ab.at("drops").at("aqm_drop") == heavy->at("aqm_drops"));
}

TEST_CASE("linkem-sim runs weighted classes: TCP weight 3 and UDP weight 1 share a backlogged link 3 to 1", "[sim][queue][scheduler]") {
    TempDir dir;
    // 2 s of 1000-byte frames, TCP and UDP, each at 10 Mbit/s, into one 10 Mbit/s link.
    std::vector<FrameAt> frames;
    for (uint64_t us = 0; us < 2'000'000; us += 800)
        for (const uint8_t proto : {uint8_t{6}, uint8_t{17}}) frames.push_back({us, 5000, 1000, proto});
    write_frames(dir / "in.pcap", frames);
    const nlohmann::json stats =
        sim_stats(dir,
                  "ports: {a: {device: n0}, b: {device: n1}}\n"
                  "links: [{name: ab, from: a, to: b, bandwidth: 10Mbit/s, queue: {scheduler: drr, classes: [\n"
                  "  {name: tcp, match: {proto: tcp}, weight: 3}, {name: udp, match: {proto: udp}, weight: 1}]}}]\n")
            .stats;
    const nlohmann::json &ab = link_in(stats, "ab");
    CHECK(ab.at("balanced") == true);
    const nlohmann::json &classes = ab.at("scheduler").at("active_queues");
    REQUIRE(classes.size() == 2);
    CHECK(classes[0].at("name") == "tcp");
    CHECK(classes[0].at("weight") == 3);
    // While both classes are backlogged (each offers the link's whole rate), from 0.2 s until the input ends
    // at 2 s, the link sends 3 TCP frames for each UDP frame, to within a round (4 frames) at either end.
    // (After the input ends, what each class still holds drains: the totals are not 3 to 1.)
    const std::string out = read_file(dir / "out.pcap");
    uint64_t tcp = 0, udp = 0;
    for (size_t at = 24; at + 16 <= out.size();) {
        uint32_t rec[4];
        std::memcpy(rec, out.data() + at, sizeof rec);
        const uint64_t t_ns = uint64_t{rec[0]} * 1'000'000'000 + rec[1] - 100'000'000'000ULL;
        if (t_ns >= 200'000'000 && t_ns < 2'000'000'000) (out[at + 16 + 23] == 6 ? tcp : udp) += 1;
        at += 16 + rec[2];
    }
    REQUIRE(tcp + udp == 1800 / 0.8);  // 1.8 s at 0.8 ms per frame
    CHECK(tcp >= 3 * udp - 4);
    CHECK(tcp <= 3 * udp + 4);
    CHECK(classes[1].at("overload_drops") == ab.at("drops").at("queue"));  // the UDP class holds the most bytes for its weight
}

TEST_CASE("linkem-sim names what is wrong with its input", "[sim]") {
    TempDir dir;
    const std::string config = dir.write("sim.yaml", kConfig);
    const Run none = sim(config);
    CHECK(none.status == 2);
    CHECK_THAT(none.output, Catch::Contains("give --in IN.pcap or --synthetic"));
    const Run bad = sim(config + " --synthetic rate=fast,size=64,count=10");
    CHECK(bad.status == 2);
    CHECK_THAT(bad.output, Catch::Contains("--synthetic rate:"));
    const Run not_pcap = sim(config + " --in " + dir.write("x.pcap", "hello, this is not a capture file"));
    CHECK(not_pcap.status == 1);
    CHECK_THAT(not_pcap.output, Catch::Contains("not a pcap file"));
    const Run link = sim(config + " --link nope --synthetic rate=1kpps,size=64,count=1");
    CHECK(link.status == 2);
    CHECK_THAT(link.output, Catch::Contains("no link \"nope\"") && Catch::Contains("links: ab"));
}

namespace {

// A nanosecond pcap header (snap length `snap`) followed by `records`.
std::string pcap_bytes(uint32_t snap, const std::string &records) {
    const uint32_t header[6] = {0xa1b23c4d, 0x00040002, 0, 0, snap, 1};
    return std::string(reinterpret_cast<const char *>(header), sizeof header) + records;
}

std::string record(uint32_t seconds, uint32_t ns, uint32_t captured, const std::string &bytes) {
    const uint32_t h[4] = {seconds, ns, captured, captured};
    return std::string(reinterpret_cast<const char *>(h), sizeof h) + bytes;
}

}  // namespace

TEST_CASE("linkem-sim checks every record's length before it allocates, and names a truncated record", "[sim]") {
    TempDir dir;
    const std::string config = dir.write("sim.yaml", kConfig);
    const std::string frame(60, 'x');
    // 176 bytes: a header, two good frames, and a record that claims 4 GiB.
    const std::string huge = pcap_bytes(0, record(1, 0, 60, frame) + record(1, 10, 0xffffffff, std::string(12, 'y')));
    // Under a 2 GiB address-space limit: linkem-sim needs far less; 4 GiB can't be had.
    const Run claim = run_program_limited("LINKEM_SIM_BIN", config + " --in " + dir.write("huge.pcap", huge), 60, 2048);
    INFO(claim.output);
    CHECK(claim.status == 1);
    CHECK_THAT(claim.output, Catch::Contains("record 2 at byte 100 claims 4294967295 captured bytes"));

    const Run snap = sim(config + " --in " + dir.write("snap.pcap", pcap_bytes(64, record(1, 0, 65, std::string(65, 'z')))));
    CHECK(snap.status == 1);
    CHECK_THAT(snap.output, Catch::Contains("record 1 at byte 24 claims 65 captured bytes, more than the file's snap length 64"));

    // The last record's header stops after 9 bytes; and a last record missing some of its frame.
    const std::string good = record(1, 0, 60, frame);
    const Run header_cut = sim(config + " --in " + dir.write("cut1.pcap", pcap_bytes(0, good + good.substr(0, 9))));
    CHECK(header_cut.status == 1);
    CHECK_THAT(header_cut.output, Catch::Contains("record 2 at byte 100 is truncated: 9 of its 16 header bytes"));
    const Run data_cut = sim(config + " --in " + dir.write("cut2.pcap", pcap_bytes(0, good + good.substr(0, 40))));
    CHECK(data_cut.status == 1);
    CHECK_THAT(data_cut.output, Catch::Contains("record 2 at byte 100 is truncated: 24 of its 60 captured bytes"));

    const Run ns = sim(config + " --in " + dir.write("ns.pcap", pcap_bytes(0, record(1, 1'000'000'000, 60, frame))));
    CHECK(ns.status == 1);
    CHECK_THAT(ns.output, Catch::Contains("sub-second field 1000000000 is not below 1000000000"));
}

TEST_CASE("linkem-sim refuses a seed it cannot hold, and resolves seed: random as linkem does", "[sim]") {
    TempDir dir;
    const std::string fixed = dir.write("sim.yaml", kConfig);
    const Run big = sim(fixed + " --seed 99999999999999999999999 --synthetic rate=1kpps,size=64,count=1");
    CHECK(big.status == 2);
    CHECK_THAT(big.output, Catch::Contains("--seed \"99999999999999999999999\" is not a whole number from 0 to 18446744073709551615"));
    CHECK(sim(fixed + " --seed 18446744073709551615 --synthetic rate=1kpps,size=64,count=1").status == 0);

    // seed: random draws a seed per run and prints it; that seed repeats the run.
    std::string random_config = kConfig;
    random_config.replace(random_config.find("seed: 4"), 7, "seed: random");
    const std::string config = dir.write("random.yaml", random_config);
    const std::string args = config + " --synthetic rate=2000pps,size=200,count=5000 --out ";
    const Run a = sim(args + (dir / "a.pcap").string()), b = sim(args + (dir / "b.pcap").string());
    REQUIRE(a.status == 0);
    REQUIRE(b.status == 0);
    const auto seed_of = [](const std::string &output) {
        const size_t at = output.find("(seed ");
        REQUIRE(at != std::string::npos);
        return output.substr(at + 6, output.find(')', at) - at - 6);
    };
    const std::string seed_a = seed_of(a.output);
    CHECK(seed_a != seed_of(b.output));  // two draws of 64 bits
    CHECK(read_file(dir / "a.pcap") != read_file(dir / "b.pcap"));
    REQUIRE(sim(args + (dir / "again.pcap").string() + " --seed " + seed_a).status == 0);
    CHECK(read_file(dir / "a.pcap") == read_file(dir / "again.pcap"));
}

TEST_CASE("linkem-sim shows what order keep held back, and the model's delay beside the delivered one", "[sim]") {
    TempDir dir;
    // The case: 10 kpps into 2 ms of jitter; keeping order holds most packets back.
    const std::string config = dir.write("jitter.yaml",
                                         "ports: {a: {device: net_null0}, b: {device: net_null1}}\n"
                                         "links:\n  - {name: ab, from: a, to: b, delay: {plugin: normal, mean: 10ms, "
                                         "stddev: 2ms}}\nseed: 7\n");
    const std::string json = (dir / "s.json").string();
    const Run r = sim(config + " --synthetic rate=10kpps,size=64,count=50000 --stats-json " + json);
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("order keep held back ") && Catch::Contains(" of 50000 packets") &&
                             Catch::Contains("the delivered delay differs from the model's"));
    CHECK_THAT(r.output, Catch::Contains("delay, model (before the hold): p50 "));
    const nlohmann::json link = link_in(read_json(json), "ab");
    const nlohmann::json &keep = link.at("order_keep"), &model = keep.at("model_delay_ns");
    INFO(keep.dump());
    CHECK(keep.at("held_back") > 25'000);
    CHECK(keep.at("added_ns").get<double>() / keep.at("held_back").get<double>() > 1e6);  // a mean of milliseconds added
    CHECK(model.at("count") == 50'000);
    CHECK(model.at("p50").get<double>() == Approx(10e6).epsilon(0.07));  // the configured mean, within the histogram's 1/16
    CHECK(link.at("delay_ns").at("p50").get<double>() > 1.15 * model.at("p50").get<double>());  // delivered: shifted by the hold
}

namespace {

// A microsecond pcap of IPv4/UDP frames: (time in us, source address's last byte) each.
void write_udp_pcap(const fs::path &path, const std::vector<std::pair<uint64_t, uint8_t>> &frames) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    for (const auto &[us, source] : frames) {
        std::string f(64, '\0');
        f[12] = 0x08;
        f[14] = 0x45;
        f[17] = 50;  // IPv4 total length
        f[22] = 64, f[23] = 17;
        f[26] = 10, f[29] = static_cast<char>(source);
        f[30] = 10, f[33] = 100;
        const uint32_t record[4] = {static_cast<uint32_t>(us / 1'000'000), static_cast<uint32_t>(us % 1'000'000), 64, 64};
        out.write(reinterpret_cast<const char *>(record), sizeof record);
        out.write(f.data(), 64);
    }
}

}  // namespace

TEST_CASE("a per-flow instance given a packet in a burst is not recycled for another flow in that burst", "[sim][flows]") {
    TempDir dir;
    const fs::path config = dir / "pf.yaml", in = dir / "in.pcap", json = dir / "s.json";
    // One instance, recyclable as soon as it is idle (idle_timeout 0) and
    // empty; six packets of two flows, alternating, in one burst: the first
    // flow keeps the instance, the other's three packets find none.
    std::ofstream(config) << "ports: {a: {device: net_null0}, b: {device: net_null1}}\n"
                             "links:\n  - {name: pf, from: a, to: b, delay: 5ms, bandwidth: 1Mbit/s,\n"
                             "     per_flow: {key: {src: /32}, max_flows: 1, idle_timeout: 0s}}\n";
    write_udp_pcap(in, {{0, 1}, {0, 2}, {0, 1}, {0, 2}, {0, 1}, {0, 2}});
    const Run r = sim(config.string() + " --in " + in.string() + " --stats-json " + json.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    const nlohmann::json stats = read_json(json);
    const nlohmann::json &instance = link_in(stats, "pf#0");
    CHECK(instance["rx_packets"] == 3);
    CHECK(instance["flow"]["flows_served"] == 1);
    CHECK(stats["classify"][0]["drops"]["flow_limit"] == 3);
}

TEST_CASE("linkem-sim releases what is due between sparse arrivals: a small arena does not fill", "[sim][memory]") {
    TempDir dir;
    const fs::path config = dir / "a.yaml", in = dir / "in.pcap";
    // 64 packets one second apart into a 1 ms link with an arena of 64
    // records: each leaves long before the next arrives, as in linkem. A
    // burst lumping them (32 at a time) would hold 32 in the arena at once.
    std::ofstream(config) << "ports: {a: {device: net_null0}, b: {device: net_null1}}\n"
                             "links:\n  - {name: l, from: a, to: b, delay: 1ms, arena: 64 packets}\n";
    write_pcap(in, 64, 1442, 1'000'000);
    const Run r = sim(config.string() + " --in " + in.string());
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("tx 64 packets") && Catch::Contains("arena_full=0"));
}

TEST_CASE("--synthetic items may come in any order", "[sim]") {
    TempDir dir;
    const fs::path config = dir / "m.yaml";
    std::ofstream(config) << "ports: {a: {device: net_null0}, b: {device: net_null1}}\nlinks: [{name: ab, from: a, to: b, delay: 1ms}]\n";
    const Run rate_first = sim(config.string() + " --synthetic rate=100Mbit/s,size=1500,count=1000");
    const Run size_first = sim(config.string() + " --synthetic size=1500,rate=100Mbit/s,count=1000");
    INFO(rate_first.output << size_first.output);
    REQUIRE(rate_first.status == 0);
    // 1000 frames of 1500 B at 100 Mbit/s: one every 120 us, the last at 119.88 ms.
    CHECK_THAT(rate_first.output, Catch::Contains("over 119.88ms of input"));
    CHECK_THAT(size_first.output, Catch::Contains("over 119.88ms of input"));
}

TEST_CASE("linkem-sim replays a trace at its schedule: speed 2, two loops, through delay and loss", "[sim][replay]") {
    TempDir dir;
    // 100 frames recorded 1 ms apart; at speed 2, from start 10 ms, frame i of loop k is
    // scheduled at 10 ms + k 50 ms + i 0.5 ms (a loop restarts one mean gap, 1 ms recorded, after the last),
    // and leaves the 5 ms link at that plus 5 ms.
    std::vector<TraceRecord> trace;
    for (uint32_t i = 0; i < 100; ++i) trace.push_back({1'700'000'000'000'000'000ULL + i * 1'000'000ULL, sequenced_frame(i, 200)});
    write_trace((dir / "trace.pcap").string(), trace, false);
    const std::string config = dir.write("replay.yaml",
                                         "ports:\n  r: {replay: trace.pcap, speed: 2, loop: 2, start: 10ms}\n  b: {device: net_null0}\n"
                                         "links:\n  - {name: rb, from: r, to: b, delay: 5ms, loss: 10%}\nseed: 3\n");
    const Run run = sim(config + " --out " + (dir / "out.pcap").string() + " --stats-json " + (dir / "s.json").string());
    INFO(run.output);
    REQUIRE(run.status == 0);
    const std::vector<TraceRecord> out = read_trace((dir / "out.pcap").string());
    const nlohmann::json stats = read_json(dir / "s.json");
    const uint64_t lost = link_in(stats, "rb")["drops"]["loss"].get<uint64_t>();
    CHECK(out.size() + lost == 200);
    CHECK(lost >= 5);  // 10% of 200: 20, sigma 4.2
    CHECK(lost <= 40);
    uint64_t previous = 0;
    for (const TraceRecord &p : out) {
        REQUIRE(p.time_ns >= 15'000'000);
        const uint64_t slot = p.time_ns - 15'000'000;  // k 50 ms + i 0.5 ms
        const uint64_t loop = slot / 50'000'000, i = slot % 50'000'000;
        CHECK(i % 500'000 == 0);
        CHECK(i / 500'000 == sequence_of(p.bytes));
        CHECK(loop < 2);
        CHECK(p.time_ns > previous);
        previous = p.time_ns;
    }
    CHECK(out.back().time_ns <= 15'000'000 + 50'000'000 + 99 * 500'000);
    const nlohmann::json &replay = stats["replay"][0];
    CHECK(replay["port"] == "r");
    CHECK(replay["packets"] == 200);
    CHECK(replay["records"] == 100);
    CHECK(replay["done"] == true);
    CHECK(replay["trace_span_ns"] == 99'000'000);
    CHECK(replay["schedule_span_ns"] == 50'000'000 + 99 * 500'000);
    CHECK(replay["drift_ppm"] == 0.0);
    CHECK(port_in(stats, "r")["ipackets"] == 200);
    CHECK_THAT(run.output, Catch::Contains("200 packets into port r (replay)") &&
                               Catch::Contains("replay r: trace.pcap (100 packets, 19.5 KiB over 99 ms), speed 2, 2 loops: 200 packets"));

    // The same run again: the same bytes (the schedule and the seed decide everything).
    REQUIRE(sim(config + " --out " + (dir / "again.pcap").string()).status == 0);
    CHECK(read_file(dir / "again.pcap") == read_file(dir / "out.pcap"));
}

TEST_CASE("linkem-sim: a trace streamed through many small chunks gives the loaded trace's output, byte for byte", "[sim][replay]") {
    TempDir dir;
    // 600 frames of 100 to 163 bytes, 200 us apart: about 100 KiB loaded; streamed through 4 chunks of 4 KiB
    // (about 27 records each: 22 chunks a loop, the ring wrapping 16 times over three loops).
    std::vector<TraceRecord> trace;
    for (uint32_t i = 0; i < 600; ++i) trace.push_back({1'700'000'000'000'000'000ULL + i * 200'000ULL, sequenced_frame(i, 100 + i % 64)});
    write_trace((dir / "trace.pcap").string(), trace, true);
    const auto run_with = [&](const std::string &name, const std::string &memory) {
        const std::string config = dir.write(name + ".yaml", "ports:\n  r: {replay: trace.pcap, speed: 1.5, loop: 3" + memory +
                                                                 "}\n  b: {device: net_null0}\n"
                                                                 "links:\n  - {name: rb, from: r, to: b, delay: 3ms, loss: 20%, "
                                                                 "bandwidth: 4Mbit/s, queue: 20 packets}\nseed: 5\n");
        const Run run = sim(config + " --out " + (dir / (name + ".pcap")).string() + " --stats-json " + (dir / (name + ".json")).string());
        INFO(run.output);
        REQUIRE(run.status == 0);
        return run;
    };
    const Run loaded = run_with("loaded", "");
    const Run streamed = run_with("streamed", ", memory: 16KiB, chunk: 4KiB");
    CHECK_THAT(streamed.output, Catch::Contains("streamed through a ring of 4 chunks of 4 KiB (16 KiB)"));
    CHECK_THAT(loaded.output, !Catch::Contains("streamed through"));
    const std::string out = read_file(dir / "loaded.pcap");
    CHECK(out.size() > 24 + 1000 * 16);
    CHECK(read_file(dir / "streamed.pcap") == out);  // the same packets, lost and queued the same, at the same times
    const nlohmann::json a = read_json(dir / "loaded.json"), b = read_json(dir / "streamed.json");
    CHECK(link_in(a, "rb")["drops"] == link_in(b, "rb")["drops"]);
    CHECK(link_in(a, "rb")["drops"]["loss"].get<uint64_t>() > 100);  // 20% of what the queue let through
    CHECK(link_in(a, "rb")["drops"]["queue"].get<uint64_t>() > 0);   // 4 Mbit/s is below the trace's rate: the queue decides too
    CHECK(b["replay"][0]["packets"] == 1800);
    CHECK(b["replay"][0]["streamed"] == true);
    CHECK(b["replay"][0]["stream"]["chunks_read"].get<uint64_t>() >= 60);
    CHECK(a["replay"][0]["streamed"] == false);
}

TEST_CASE("linkem-sim refuses a replay it cannot run, naming the port", "[sim][replay]") {
    TempDir dir;
    write_trace((dir / "t.pcap").string(), {{1'000'000'000, sequenced_frame(0, 60)}, {1'001'000'000, sequenced_frame(1, 60)}}, true);
    const std::string forever = dir.write("forever.yaml",
                                          "ports:\n  r: {replay: t.pcap, loop: forever}\n  b: {device: net_null0}\n"
                                          "links:\n  - {name: rb, from: r, to: b}\n");
    const Run f = sim(forever);
    CHECK(f.status == 2);
    CHECK_THAT(f.output, Catch::Contains("forever.yaml:2:3: ports.r.loop: forever has no end in virtual time: give a number of loops"));
    const std::string missing = dir.write("missing.yaml",
                                          "ports:\n  r: {replay: nothing.pcap}\n  b: {device: net_null0}\n"
                                          "links:\n  - {name: rb, from: r, to: b}\n");
    const Run m = sim(missing);
    CHECK(m.status == 1);
    CHECK_THAT(m.output, Catch::Contains("missing.yaml:2:15: ports.r.replay: ") && Catch::Contains("nothing.pcap: cannot read"));
    const std::string ok = dir.write("ok.yaml",
                                     "ports:\n  r: {replay: t.pcap}\n  b: {device: net_null0}\n"
                                     "links:\n  - {name: rb, from: r, to: b}\n");
    const Run in = sim(ok + " --in r=" + (dir / "t.pcap").string());
    CHECK(in.status == 2);
    CHECK_THAT(in.output, Catch::Contains("port \"r\" is a replay source: it sends its own trace (t.pcap)"));
}
