// [unit] Replay sources: the loader's keys and every error's position, path
// and message; the schedule's exact times; reading a trace (linkem/replay.hpp).
#include "linkem/config.hpp"
#include "linkem/replay.hpp"
#include "linkem_process.hpp"
#include "replay_trace.hpp"

#include "config_errors.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace linkem;
using namespace linkem::test;

namespace {

// Port r (line 2) is `r: VALUE` (VALUE from column 6), b a device; link rb from r to b.
std::string with_port(const std::string &value, const std::string &more_links = "") {
    return "ports:\n  r: " + value + "\n  b: {device: net_null1}\nlinks:\n  - {name: rb, from: r, to: b}\n" + more_links;
}

Config must_load(const std::string &text, const std::string &file = "t.yaml") {
    LoadResult r = load_config_text(text, file);
    for (const auto &e : r.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(r.config);
    return *r.config;
}

const Replay &replay_of(const Config &c) {
    REQUIRE(c.ports[0].replay);
    return *c.ports[0].replay;
}

}  // namespace

TEST_CASE("a replay port loads with its pace, loops and start, and prints back", "[unit][config][replay]") {
    const Config plain = must_load(with_port("{replay: trace.pcap}"), "configs/t.yaml");
    const Replay &r = replay_of(plain);
    CHECK(plain.ports[0].device.empty());
    CHECK(r.file == "trace.pcap");
    CHECK(r.path == "configs/trace.pcap");  // relative to the configuration's directory
    CHECK(r.pace == Replay::Pace::kSpeed);
    CHECK(r.speed_ppb == Replay::kSpeedOne);
    CHECK(r.loops == std::optional<uint64_t>(1));
    CHECK(r.start.ns == 0);
    CHECK(r.pos.line == 2);
    CHECK(r.pos.column == 15);
    CHECK(replay_of(must_load(with_port("{replay: /data/t.pcapng}"), "configs/t.yaml")).path == "/data/t.pcapng");

    const Replay &s = replay_of(must_load(with_port("{replay: t.pcap, speed: 2.5, loop: 3, start: 1500ms}")));
    CHECK(s.speed_ppb == 2'500'000'000);
    CHECK(s.loops == std::optional<uint64_t>(3));
    CHECK(s.start.ns == 1'500'000'000);
    CHECK(replay_of(must_load(with_port("{replay: t.pcap, speed: 0.001}"))).speed_ppb == 1'000'000);
    const Replay &p = replay_of(must_load(with_port("{replay: t.pcap, pps: 10k, loop: forever}")));
    CHECK(p.pace == Replay::Pace::kPps);
    CHECK(p.pps == 10'000);
    CHECK_FALSE(p.loops);
    CHECK(replay_of(must_load(with_port("{replay: t.pcap, pps: 2500}"))).pps == 2500);
    const Replay &rt = replay_of(must_load(with_port("{replay: t.pcap, rate: 10Mbit/s}")));
    CHECK(rt.pace == Replay::Pace::kRate);
    CHECK(rt.rate.bits_per_s == 10'000'000);
    CHECK(replay_of(must_load(with_port("{replay: t.pcap, topspeed: true}"))).pace == Replay::Pace::kTopspeed);
    CHECK(replay_of(must_load(with_port("{replay: t.pcap, topspeed: false, pps: 5}"))).pace == Replay::Pace::kPps);

    // --check prints each form, and what it prints loads back to the same.
    for (const char *value :
         {"{replay: t.pcap}", "{replay: t.pcap, speed: 2.5, loop: 3, start: 1500ms}", "{replay: t.pcap, pps: 10k, loop: forever}",
          "{replay: t.pcap, rate: 10Mbit/s}", "{replay: t.pcap, topspeed: true}"}) {
        const std::string printed = to_yaml(must_load(with_port(value)));
        INFO(printed);
        CHECK(to_yaml(must_load(printed)) == printed);
    }
    CHECK_THAT(to_yaml(must_load(with_port("{replay: t.pcap, speed: 2.5, loop: 3, start: 1500ms}"))),
               Catch::Contains("r: {replay: t.pcap, speed: 2.5, loop: 3, start: 1.5s}"));
}

TEST_CASE("a replay port's bad values are refused with their position, path and an example", "[unit][config][replay]") {
    // `  r: {replay: t.pcap, speed: VALUE}`: the value at column 30.
    require_one_error(with_port("{replay: t.pcap, speed: fast}"), 2, 30, "ports.r.speed",
                      "\"fast\" is not a speed factor: expected a number such as 1.0");
    require_one_error(with_port("{replay: t.pcap, speed: 0}"), 2, 30, "ports.r.speed", "0 is out of range (above 0, up to 1000000");
    require_one_error(with_port("{replay: t.pcap, speed: 1.0000000001}"), 2, 30, "ports.r.speed", "is not a speed factor");
    require_one_error(with_port("{replay: t.pcap, speed: 2, pps: 100}"), 2, 33, "ports.r.pps",
                      "give one of speed, pps, rate or topspeed: speed already sets the pace");
    require_one_error(with_port("{replay: t.pcap, topspeed: true, rate: 1Mbit/s}"), 2, 39, "ports.r.rate",
                      "topspeed already sets the pace");
    require_one_error(with_port("{replay: t.pcap, pps: 0}"), 2, 28, "ports.r.pps", "\"0\" is not a packet rate from 1 to 1000000000");
    require_one_error(with_port("{replay: t.pcap, pps: lots}"), 2, 28, "ports.r.pps", "(examples: 10000, 10k, 1M)");
    require_one_error(with_port("{replay: t.pcap, rate: fast}"), 2, 29, "ports.r.rate", "fast");
    require_one_error(with_port("{replay: t.pcap, rate: 0bit/s}"), 2, 29, "ports.r.rate", "out of range (1bit/s to 1Tbit/s)");
    require_one_error(with_port("{replay: t.pcap, topspeed: maybe}"), 2, 33, "ports.r.topspeed", "expected true or false");
    require_one_error(with_port("{replay: t.pcap, loop: 0}"), 2, 29, "ports.r.loop", "0 is below the smallest allowed, 1");
    require_one_error(with_port("{replay: t.pcap, loop: often}"), 2, 29, "ports.r.loop",
                      "expected a number of times through the trace such as 2, or forever, got \"often\"");
    require_one_error(with_port("{replay: t.pcap, start: soon}"), 2, 30, "ports.r.start", "soon");
    require_one_error(with_port("{replay: t.pcap, start: 100000s}"), 2, 30, "ports.r.start", "100000s is out of range (0 to 86400s)");
    require_one_error(with_port("{replay: \"\"}"), 2, 15, "ports.r.replay", "the file name is empty (example: replay: trace.pcap)");
    require_one_error(with_port("{replay: [a, b]}"), 2, 15, "ports.r.replay", "expected a capture file such as trace.pcap");
    require_one_error(with_port("{replay: t.pcap, device: net_null0}"), 2, 23, "ports.r.device",
                      "a replay source has no device: give device (a DPDK port) or replay (a capture to send), not both");
    require_one_error(with_port("{replay: t.pcap, sped: 2}"), 2, 23, "ports.r.sped", "did you mean \"speed\"?");
    require_one_error(with_port("{device: net_null0, speed: 2}"), 2, 26, "ports.r.speed",
                      "\"speed\" belongs to a replay source, which this port is not (example: {replay: trace.pcap, speed: 2})");
    require_one_error(with_port("{}"), 2, 6, "ports.r.device", "or replay: FILE for a replay source");
    require_one_error(
        "ports:\n  r: {replay: t.pcap}\n  b: {device: net_null1}\n  c: {device: net_null2}\nlinks:\n  - {name: cb, from: c, to: b}\n", 2,
        15, "ports.r.replay", "replay source \"r\" feeds no link: add one that starts there (example: {name: r-to-b, from: r, to: b})");
    // A link may only start at a replay port.
    require_one_error(with_port("{replay: t.pcap}", "  - {name: br, from: b, to: r}\n"), 6, 29, "links[1].to",
                      "port \"r\" is a replay source: it only sends, so a link cannot go to it");
}

namespace {

// Three records recorded at 0, 100 us and 300 us, of 100, 200 and 300 bytes.
ReplayTraceData three_records() {
    ReplayTraceData d;
    d.entries = {{0, 0, 0, 100, 0}, {100'000, 100, 100, 200, 0}, {300'000, 300, 300, 300, 0}};
    d.bytes.assign(600, 0);
    d.span_ns = 300'000;
    return d;
}

Replay paced(const std::string &value) { return *must_load(with_port(value)).ports[0].replay; }

}  // namespace

TEST_CASE("the replay schedule: exact times for each pace, over loops", "[unit][replay]") {
    const ReplayTraceData d = three_records();
    const ReplayTrace t = ReplayTrace::of(d);
    // Recorded timing: the recorded offsets, the next loop one mean gap (150 us) after the last record.
    const ReplaySchedule same(paced("{replay: t.pcap, start: 1ms}"), t);
    CHECK(same.at(0, 0) == 1'000'000);
    CHECK(same.at(0, 1) == 1'100'000);
    CHECK(same.at(0, 2) == 1'300'000);
    CHECK(same.at(1, 0) == 1'450'000);
    CHECK(same.at(1, 2) == 1'750'000);
    // Twice as fast: every gap halved; 3 times as fast: rounded down to the ns, never accumulated.
    const ReplaySchedule twice(paced("{replay: t.pcap, speed: 2}"), t);
    CHECK(twice.at(0, 1) == 50'000);
    CHECK(twice.at(1, 0) == 225'000);
    CHECK(twice.at(1, 2) == 375'000);
    const ReplaySchedule thrice(paced("{replay: t.pcap, speed: 3}"), t);
    CHECK(thrice.at(0, 1) == 33'333);
    CHECK(thrice.at(1'000'000, 1) == (1'000'000ULL * 450'000 + 100'000) / 3);
    // pps: evenly spaced, whatever was recorded.
    const ReplaySchedule pps(paced("{replay: t.pcap, pps: 3}"), t);
    CHECK(pps.at(0, 1) == 333'333'333);
    CHECK(pps.at(1, 0) == 1'000'000'000);
    CHECK(pps.at(2, 2) == 2'666'666'666);
    // rate: each record takes its frame's bits; a loop is 600 bytes = 4800 bits.
    const ReplaySchedule rate(paced("{replay: t.pcap, rate: 8kbit/s}"), t);
    CHECK(rate.at(0, 1) == 100'000'000);  // 100 bytes at 1000 bytes/s
    CHECK(rate.at(0, 2) == 300'000'000);
    CHECK(rate.at(1, 0) == 600'000'000);
    const ReplaySchedule top(paced("{replay: t.pcap, topspeed: true, start: 2s}"), t);
    CHECK(top.at(5, 2) == 2'000'000'000);
}

TEST_CASE("the replay cursor hands out what is due, in bursts, and ends after its loops", "[unit][replay]") {
    const ReplayTraceData d = three_records();
    ReplayCursor c(paced("{replay: t.pcap, loop: 2}"), ReplayTrace::of(d));
    c.begin(1'000'000'000);
    CHECK(c.next_ns() == 1'000'000'000);
    ReplayBurst b;
    CHECK(c.take(999'999'999, 32, b) == 0);
    REQUIRE(c.take(1'000'150'000, 32, b) == 2);  // the records at +0 and +100 us
    CHECK(b.arrival[0] == 1'000'000'000);
    CHECK(b.arrival[1] == 1'000'100'000);
    CHECK(b.len(1) == 200);
    CHECK(b.head(1) == d.bytes.data() + 100);
    REQUIRE(c.take(UINT64_MAX, 2, b) == 2);  // at most the burst asked for: the last of loop 1 and the first of loop 2
    CHECK(b.arrival[0] == 1'000'300'000);
    CHECK(b.arrival[1] == 1'000'450'000);
    CHECK_FALSE(c.done());
    REQUIRE(c.take(UINT64_MAX, 32, b) == 2);
    CHECK(b.arrival[1] == 1'000'750'000);
    CHECK(c.done());
    CHECK(c.next_ns() == UINT64_MAX);
    CHECK(c.take(UINT64_MAX, 32, b) == 0);

    ReplayStats stats;
    c.begin(0);
    REQUIRE(c.take(UINT64_MAX, 32, b) == 6);
    stats.record(b, 6, 500'000, true, 100'000);  // admitted at 500 us: late by 500, 400, 200, 50, 0 and 0 us
    CHECK(stats.packets == 6);
    CHECK(stats.bytes == 1200);
    CHECK(stats.late == 3);
    CHECK(stats.lateness_ns.max() == 500'000);
    CHECK(stats.last_scheduled_ns == 750'000);
}

TEST_CASE("a replay trace is read from pcap (us and ns) and refused when malformed, naming the offset", "[unit][replay]") {
    TempDir dir;
    const std::vector<TraceRecord> records = {{1'000'000'000'000, sequenced_frame(0, 60)},
                                              {1'000'000'250'000, sequenced_frame(1, 1500)},
                                              {1'000'001'000'000, sequenced_frame(2, 64)}};
    Replay r;
    r.path = (dir / "us.pcap").string();
    write_trace(r.path, records, false);
    std::string error;
    const std::optional<ReplayTraceData> us = read_replay_trace(r, &error);
    INFO(error);
    REQUIRE(us);
    CHECK(us->format == "pcap (us)");
    REQUIRE(us->entries.size() == 3);
    CHECK(us->span_ns == 1'000'000);
    CHECK(us->entries[1].recorded_ns == 250'000);
    CHECK(us->entries[2].bytes_before == 1560);
    CHECK(us->bytes.size() == 1624);
    CHECK(sequence_of(std::string(reinterpret_cast<const char *>(us->bytes.data()) + 60, 1500)) == 1);

    r.path = (dir / "ns.pcap").string();
    std::vector<TraceRecord> ns_records = records;
    ns_records[1].time_ns += 7;
    write_trace(r.path, ns_records, true);
    const std::optional<ReplayTraceData> ns = read_replay_trace(r, &error);
    REQUIRE(ns);
    CHECK(ns->format == "pcap (ns)");
    CHECK(ns->entries[1].recorded_ns == 250'007);

    // Cut inside the last frame: the reader's message with the record's byte offset.
    const std::string whole = read_file(dir / "us.pcap");
    r.path = dir.write("cut.pcap", whole.substr(0, whole.size() - 10));
    CHECK_FALSE(read_replay_trace(r, &error));
    CHECK_THAT(error, Catch::Contains("cut.pcap") && Catch::Contains("record 3 at byte 1616 is truncated"));
    r.path = (dir / "back.pcap").string();
    write_trace(r.path, {records[1], records[0]}, false);
    CHECK_FALSE(read_replay_trace(r, &error));
    CHECK_THAT(error, Catch::Contains("packet 2 is older than the one before: sort the capture"));
    r.path = (dir / "empty.pcap").string();
    write_trace(r.path, {}, false);
    CHECK_FALSE(read_replay_trace(r, &error));
    CHECK_THAT(error, Catch::Contains("the capture holds no packets"));
    r.path = (dir / "one.pcap").string();
    write_trace(r.path, {records[0]}, false);
    CHECK(read_replay_trace(r, &error));
    r.loops = 2;
    CHECK_FALSE(read_replay_trace(r, &error));
    CHECK_THAT(error, Catch::Contains("one packet cannot be looped at a speed"));
    r.path = (dir / "missing.pcap").string();
    CHECK_FALSE(read_replay_trace(r, &error));
    CHECK_THAT(error, Catch::Contains("missing.pcap: cannot read: No such file or directory"));
}
