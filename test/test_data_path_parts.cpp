// [unit] The DPDK-free parts of the data path: delay arena, histogram, TSC
// clock and the counters' reports.
#include "linkem/arena.hpp"
#include "linkem/config.hpp"
#include "linkem/histogram.hpp"
#include "linkem/lcore_plan.hpp"
#include "linkem/release_tracker.hpp"
#include "linkem/stats.hpp"
#include "linkem/tsc_clock.hpp"
#include "linkem/units.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <thread>
#include <vector>

using namespace linkem;

namespace {

// A 64-byte aligned buffer for an arena of `bytes`.
struct ArenaBuffer {
    explicit ArenaBuffer(size_t bytes) : storage(bytes / 64 + 1) {}
    void *data() { return storage.data(); }
    struct alignas(64) Line {
        uint8_t b[64];
    };
    std::vector<Line> storage;
};

}  // namespace

TEST_CASE("the arena keeps records in order, visible only once published", "[unit][arena]") {
    ArenaBuffer buffer(4096);
    DelayArena arena(buffer.data(), 4096);
    CHECK(DelayArena::record_bytes(64) == 80);  // 16-byte header + 64 bytes, at 16-byte alignment
    CHECK(DelayArena::record_bytes(50) == 80);
    CHECK(DelayArena::record_bytes(48) == 64);
    for (uint32_t i = 0; i < 3; ++i) {
        ArenaRecord *r = arena.append(100 + i, 64);
        REQUIRE(r != nullptr);
        std::memset(r->data(), static_cast<int>(i), 64);
    }
    CHECK(arena.front() == nullptr);  // not published yet
    arena.publish();
    CHECK(arena.occupancy() == 3);
    for (uint32_t i = 0; i < 3; ++i) {
        const ArenaRecord *r = arena.front();
        REQUIRE(r != nullptr);
        CHECK(r->release_ns == 100 + i);
        CHECK(r->len_bytes == 64);
        CHECK(r->data()[63] == i);
        arena.pop();
    }
    CHECK(arena.front() == nullptr);
    arena.publish_consumed();
    CHECK(arena.occupancy() == 0);
}

TEST_CASE("the arena refuses a record that does not fit, and wraps without splitting one", "[unit][arena]") {
    ArenaBuffer buffer(4096);
    DelayArena arena(buffer.data(), 4096);
    // 128-byte records (112-byte frames): 32 fill the 4096 bytes exactly; the 33rd does not fit.
    REQUIRE(DelayArena::record_bytes(112) == 128);
    for (int i = 0; i < 32; ++i) REQUIRE(arena.append(i, 112) != nullptr);
    CHECK(arena.append(32, 112) == nullptr);
    arena.publish();
    for (int i = 0; i < 3; ++i) arena.pop();  // frees 384 bytes at the start
    CHECK(arena.append(99, 300) == nullptr);  // still full until the consumer publishes
    arena.publish_consumed();
    // The ring's end is reached exactly: a 320-byte record starts at offset 0, whole.
    ArenaRecord *big = arena.append(99, 300);
    REQUIRE(big != nullptr);
    CHECK(reinterpret_cast<uint8_t *>(big) == static_cast<uint8_t *>(buffer.data()));
    arena.publish();
    uint64_t last = 0;
    int seen = 0;
    for (const ArenaRecord *r; (r = arena.front()) != nullptr; arena.pop(), ++seen) {
        CHECK(r->release_ns >= last);
        last = r->release_ns;
    }
    CHECK(seen == 30);  // 29 left of the first 32, and the big one
    CHECK(last == 99);
    arena.publish_consumed();
    // A record that does not fit before the end is preceded by a skip record and starts at 0.
    for (int i = 0; i < 10; ++i) REQUIRE(arena.append(100 + i, 112) != nullptr);  // 320 + 1280 bytes used in all
    arena.publish();
    ArenaRecord *wrapped = nullptr;
    for (int i = 0; i < 20 && (wrapped = arena.append(200 + i, 1000)) != nullptr; ++i) {
        arena.publish();
        while (arena.front() != nullptr) arena.pop();
        arena.publish_consumed();
        if (reinterpret_cast<uint8_t *>(wrapped) == static_cast<uint8_t *>(buffer.data())) break;
    }
    REQUIRE(wrapped != nullptr);
    CHECK(reinterpret_cast<uint8_t *>(wrapped) == static_cast<uint8_t *>(buffer.data()));
}

TEST_CASE("the arena carries a million records between two threads, intact and in order", "[unit][arena]") {
    constexpr uint64_t kN = 1'000'000;
    ArenaBuffer buffer(64 * 1024);
    DelayArena arena(buffer.data(), 64 * 1024);
    std::thread producer([&] {
        for (uint64_t i = 0; i < kN;) {
            const uint32_t len =
                9 + static_cast<uint32_t>((i * 7919) % 1500);  // varying sizes force wraps; 9+: the marker byte follows the 8-byte number
            ArenaRecord *r = arena.append(i, len);
            if (r == nullptr) {
                arena.publish();
                continue;
            }
            std::memcpy(r->data(), &i, sizeof i);
            r->data()[len - 1] = static_cast<uint8_t>(i);
            ++i;
            if (i % 16 == 0) arena.publish();
        }
        arena.publish();
    });
    uint64_t expected = 0;
    bool intact = true;
    while (expected < kN) {
        const ArenaRecord *r = arena.front();
        if (r == nullptr) continue;
        uint64_t seq;
        std::memcpy(&seq, r->data(), sizeof seq);
        const uint32_t len = 9 + static_cast<uint32_t>((expected * 7919) % 1500);
        intact = intact && r->release_ns == expected && seq == expected && r->len_bytes == len &&
                 r->data()[len - 1] == static_cast<uint8_t>(expected);
        arena.pop();
        ++expected;
        if (expected % 8 == 0) arena.publish_consumed();
    }
    arena.publish_consumed();
    producer.join();
    CHECK(intact);
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
    const LinkSnapshot s = snapshot("a-to-b", LinkExpectations{}, rx, tx, 4, true);
    CHECK(s.dropped() == 6);
    CHECK(s.balanced());  // 100 = 90 + 6 + 4
    CHECK_FALSE(snapshot("a-to-b", LinkExpectations{}, rx, tx, 5, true).balanced());
    const nlohmann::json json = nlohmann::json::parse(stats_json({s}, Json{{"seed", 1}}));
    const nlohmann::json &link = json.at("links").at(0);
    CHECK(link.at("name") == "a-to-b");
    CHECK(link.at("rx_packets") == 100);
    CHECK(link.at("tx_packets") == 90);
    CHECK(link.at("drops") == nlohmann::json{{"queue", 3},
                                             {"loss", 2},
                                             {"order", 0},
                                             {"arena_full", 0},
                                             {"tx_full", 0},
                                             {"shutdown", 1},
                                             {"model_error", 0},
                                             {"aqm_drop", 0}});
    CHECK(link.at("in_flight") == 4);
    CHECK(link.at("balanced") == true);
    CHECK(json.at("seed") == 1);
    CHECK_THAT(summary_text({s}), Catch::Contains("100 = 90 + 6 + 4: balanced"));
}

TEST_CASE("the lcore plan gives every stage exactly one lcore", "[unit][plan]") {
    const auto one = plan_lcores(1, 2, 2);
    CHECK(one[0].rx_stages == std::vector<size_t>{0, 1});
    CHECK(one[0].tx_stages == std::vector<size_t>{0, 1});
    const auto two = plan_lcores(2, 2, 2);
    CHECK(two[0].rx_stages == std::vector<size_t>{0, 1});
    CHECK(two[0].tx_stages.empty());
    CHECK(two[1].tx_stages == std::vector<size_t>{0, 1});
    CHECK(two[1].rx_stages.empty());
    const auto four = plan_lcores(4, 2, 2);
    CHECK(four[0].rx_stages == std::vector<size_t>{0});
    CHECK(four[1].rx_stages == std::vector<size_t>{1});
    CHECK(four[2].tx_stages == std::vector<size_t>{0});
    CHECK(four[3].tx_stages == std::vector<size_t>{1});
    const auto three = plan_lcores(3, 1, 2);  // one arrival port feeding two destinations
    CHECK(three[0].rx_stages == std::vector<size_t>{0});
    CHECK(three[1].tx_stages == std::vector<size_t>{0});
    CHECK(three[2].tx_stages == std::vector<size_t>{1});
}

TEST_CASE("with a classify lcore, the others only receive and it classifies for every port", "[unit][plan]") {
    const auto three = plan_lcores(3, 2, 2, 2);  // lcores 0 and 1 as a 2-lcore plan, the third classifies
    REQUIRE(three.size() == 3);
    CHECK(three[0].receive_stages == std::vector<size_t>{0, 1});
    CHECK(three[0].rx_stages.empty());
    CHECK(three[1].tx_stages == std::vector<size_t>{0, 1});
    CHECK(three[2].classify_stages == std::vector<size_t>{0, 1});
    CHECK(three[2].tx_stages.empty());
    CHECK(three[2].receive_stages.empty());
    const auto first = plan_lcores(2, 1, 1, 0);  // the classify lcore first in the list
    CHECK(first[0].classify_stages == std::vector<size_t>{0});
    CHECK(first[1].receive_stages == std::vector<size_t>{0});
    CHECK(first[1].tx_stages == std::vector<size_t>{0});
    for (const auto &plan : {three, first})  // every stage exactly once, and nothing runs whole rx stages
        for (size_t stage : {size_t{0}}) {
            size_t receive = 0, classify = 0;
            for (const LcoreRole &r : plan) {
                receive += static_cast<size_t>(std::count(r.receive_stages.begin(), r.receive_stages.end(), stage));
                classify += static_cast<size_t>(std::count(r.classify_stages.begin(), r.classify_stages.end(), stage));
                CHECK(r.rx_stages.empty());
            }
            CHECK(receive == 1);
            CHECK(classify == 1);
        }
}

TEST_CASE("the release tracker measures lateness, order and the rate while backlogged", "[unit][stats]") {
    // 10 us tolerance, Ethernet overhead: a 64-byte frame is 88 wire bytes.
    ReleaseTracker tracker(10'000, kEthernetOverheadBytes);
    Histogram lateness;
    ReleaseTally tally;
    const uint32_t waited = LinkTag::kWaited;
    tracker.observe(1'000, 0, 64, 1'100, lateness, tally);            // starts a busy period: no rate sample
    tracker.observe(2'000, 1 | waited, 64, 2'300, lateness, tally);   // model 1000 ns, sent 1200 ns later
    tracker.observe(3'000, 2 | waited, 64, 3'300, lateness, tally);   // model 1000 ns, sent 1000 ns later
    tracker.observe(4'000, 4 | waited, 64, 4'100, lateness, tally);   // 3 was lost: a gap, no sample
    tracker.observe(5'000, 5, 64, 25'000, lateness, tally);           // the link went idle: no sample; 20 us late
    tracker.observe(5'000, 3, 64, 25'100, lateness, tally);           // a step back: out of order
    tracker.observe(6'000, 6 | waited, 64, 25'200, lateness, tally);  // follows 5, not 3
    CHECK(lateness.total() == 7);
    CHECK(lateness.max() == 20'100);
    CHECK(tally.late == 3);  // 20 000, 20 100 and 19 200 ns
    CHECK(tally.out_of_order == 1);
    CHECK(tally.backlogged_wire_bytes == 3 * 88);
    CHECK(tally.backlogged_model_ns == 1'000 + 1'000 + 1'000);
    CHECK(tally.backlogged_sent_ns == 1'200 + 1'000 + 200);
    // A 31-bit sequence wraps without looking like a step back.
    ReleaseTracker wrapping(10'000, 0);
    ReleaseTally wrap_tally;
    wrapping.observe(0, LinkTag::kSequenceMask, 64, 0, lateness, wrap_tally);
    wrapping.observe(1'000, 0 | waited, 64, 1'000, lateness, wrap_tally);
    CHECK(wrap_tally.out_of_order == 0);
    CHECK(wrap_tally.backlogged_wire_bytes == 64);
}

TEST_CASE("the report sets each measured fidelity figure beside what was configured", "[unit][stats]") {
    RxCounters rx;
    TxCounters tx;
    rx.packets.add(1000);
    rx.drop_queue.add(100);
    rx.drop_loss.add(9);
    tx.packets.add(891);
    for (int i = 0; i < 891; ++i) tx.lateness_ns.record(i < 880 ? 100 : 50'000);
    tx.late.add(11);
    tx.backlogged_wire_bytes.add(1'250'000);
    tx.backlogged_sent_ns.add(1'000'000'000);  // 10 Mbit/s achieved
    tx.backlogged_model_ns.add(999'000'000);   // for 10.01 configured
    LinkExpectations expected;
    expected.loss = 0.01;
    const LinkSnapshot s = snapshot("a-to-b", expected, rx, tx, 0, true);
    CHECK(s.offered_to_loss() == 900);
    const std::string text = summary_text({s});
    CHECK_THAT(text, Catch::Contains("schedule: 98.8% of packets within the 10 us lateness tolerance (11 of 891 later): poor"));
    CHECK_THAT(text, Catch::Contains("rate while backlogged: 10 Mbit/s achieved, 10 Mbit/s configured (99.9%), over 1 s\n"));
    CHECK_THAT(text, Catch::Contains("loss: 1% measured (9 of 900 on the link), 1% expected"));
    CHECK_THAT(text, Catch::Contains("order: 0 released out of arrival order"));
    const nlohmann::json link = nlohmann::json::parse(stats_json({s}, nullptr)).at("links").at(0);
    const nlohmann::json &lateness = link.at("lateness_ns"), &rate = link.at("rate"), &loss = link.at("loss");
    CHECK(lateness.at("tolerance_ns") == 10000);
    CHECK(lateness.at("late") == 11);
    CHECK(lateness.at("late_fraction").get<double>() == Approx(11.0 / 891).epsilon(1e-12));
    CHECK(rate.at("achieved_bps").get<double>() == Approx(10e6).epsilon(1e-12));
    CHECK(rate.at("configured_bps").get<double>() == Approx(10e6 / 0.999).epsilon(1e-12));
    CHECK(loss.at("offered") == 900);
    CHECK(loss.at("lost") == 9);
    CHECK(loss.at("measured").get<double>() == Approx(0.01).epsilon(1e-12));
    CHECK(loss.at("expected").get<double>() == Approx(0.01).epsilon(1e-12));
    expected.loss.reset();
    const nlohmann::json unknown = nlohmann::json::parse(stats_json({snapshot("x", expected, rx, TxCounters{}, 0, true)}, nullptr));
    CHECK(unknown.at("links").at(0).at("loss").at("expected").is_null());
    CHECK(unknown.at("links").at(0).at("rate").at("achieved_bps").is_null());
}

// [summary] What a person reads in the summary (issue 18): human units, a verdict, explanations.
TEST_CASE("the summary prints durations, rates and sizes in human units; the JSON keeps exact integers", "[unit][stats][summary]") {
    RxCounters rx;
    TxCounters tx;
    rx.packets.add(3);
    rx.bytes.add(1'234'567);
    tx.packets.add(3);
    tx.bytes.add(1'234'567);
    for (int i = 0; i < 3; ++i) {
        rx.delay_ns.record(60'817'407);
        tx.lateness_ns.record(1'500);
    }
    const LinkSnapshot s = snapshot("a-to-b", LinkExpectations{}, rx, tx, 0, true);
    const std::string text = summary_text({s});
    const Histogram &d = s.delay_ns;
    CHECK_THAT(text, Catch::Contains("rx 3 packets (1.23 MB), tx 3 packets (1.23 MB)"));
    CHECK_THAT(text, Catch::Contains(fmt::format("delay (release - arrival): p50 {} p99 {} max {}\n", human_duration(d.percentile(0.5)),
                                                 human_duration(d.percentile(0.99)), human_duration(d.max()))));
    CHECK_THAT(text, Catch::Contains("delay (release - arrival): p50 60.") && Catch::Contains(" ms p99 "));
    CHECK_THAT(text, Catch::Contains("lateness (transmit - release): p50 1.") && Catch::Contains(" us p99.9 "));
    CHECK_THAT(text, !Catch::Contains(std::to_string(d.max())) && !Catch::Contains("1234567"));
    const nlohmann::json link = nlohmann::json::parse(stats_json({s}, nullptr)).at("links").at(0);
    CHECK(link.at("rx_bytes") == 1234567);
    CHECK(link.at("delay_ns").at("max") == d.max());
}

TEST_CASE("the summary judges lateness against the tolerance: good, fair or poor", "[unit][stats][summary]") {
    const auto verdict = [](int late_of_1000) {
        RxCounters rx;
        TxCounters tx;
        for (int i = 0; i < 1000; ++i) tx.lateness_ns.record(i < late_of_1000 ? 50'000 : 100);
        tx.late.add(static_cast<uint64_t>(late_of_1000));
        LinkExpectations expected;
        expected.lateness_tolerance_ns = 20'000;
        return summary_text({snapshot("x", expected, rx, tx, 0, true)});
    };
    CHECK_THAT(verdict(0), Catch::Contains("schedule: 100% of packets within the 20 us lateness tolerance (0 of 1000 later): good\n"));
    CHECK_THAT(verdict(1), Catch::Contains("schedule: 99.9% of packets within the 20 us lateness tolerance (1 of 1000 later): good\n"));
    CHECK_THAT(verdict(5), Catch::Contains("(5 of 1000 later): fair: a few packets late"));
    CHECK_THAT(verdict(11), Catch::Contains("schedule: 98.9% of packets within the 20 us lateness tolerance (11 of 1000 later): "
                                            "poor: the host could not keep the schedule\n"));
    CHECK_THAT(summary_text({snapshot("x", LinkExpectations{}, RxCounters{}, TxCounters{}, 0, true)}),
               Catch::Contains("schedule: no packet transmitted (tolerance 10 us)"));
}

TEST_CASE("the summary says a rate measured over a short backlog is only indicative", "[unit][stats][summary]") {
    const auto text = [](uint64_t sent_ns) {
        RxCounters rx;
        TxCounters tx;
        tx.backlogged_wire_bytes.add(4'000);
        tx.backlogged_sent_ns.add(sent_ns);
        tx.backlogged_model_ns.add(3'200'000);  // 10 Mbit/s configured
        return summary_text({snapshot("x", LinkExpectations{}, rx, tx, 0, true)});
    };
    CHECK_THAT(text(2'880'000), Catch::Contains("rate while backlogged: 11.1 Mbit/s achieved, 10 Mbit/s configured (111%), measured over "
                                                "only 2.88 ms of backlog: indicative only (a meaningful figure needs 1 s or more)\n"));
    RxCounters rx;
    TxCounters tx;
    tx.backlogged_wire_bytes.add(1'250'000);
    tx.backlogged_sent_ns.add(1'000'000'000);
    tx.backlogged_model_ns.add(1'000'000'000);
    CHECK_THAT(summary_text({snapshot("x", LinkExpectations{}, rx, tx, 0, true)}),
               Catch::Contains("rate while backlogged: 10 Mbit/s achieved, 10 Mbit/s configured (100%), over 1 s\n"));
}

TEST_CASE("the summary says when queue drops came from an offered load above the link's rate", "[unit][stats][summary]") {
    RxCounters rx;
    TxCounters tx;
    rx.packets.add(10'000);
    rx.bytes.add(10'000'000);  // 1000-byte frames
    rx.drop_queue.add(2'000);
    tx.packets.add(8'000);
    tx.backlogged_wire_bytes.add(1'250'000);
    tx.backlogged_model_ns.add(200'000'000);  // the link: 50 Mbit/s
    tx.backlogged_sent_ns.add(200'000'000);
    LinkExpectations expected;
    expected.overhead_bytes = 24;
    LinkSnapshot s = snapshot("x", expected, rx, tx, 0, true);
    CHECK_THAT(summary_text({s}), Catch::Contains("queue drops: 2000 packets (20% of rx) found the queue full: packets arrived faster "
                                                  "than the link sends them\n"));  // no run time: no offered load
    s.run_ns = 1'000'000'000;                                                      // (10 MB + 10000 x 24 B) x 8 / 1 s = 81.92 Mbit/s
    CHECK_THAT(summary_text({s}), Catch::Contains("queue drops: 2000 packets (20% of rx) found the queue full: the offered load, 81.9 "
                                                  "Mbit/s on average over 1 s, exceeded the link's 50 Mbit/s by 63.8%\n"));
    s.run_ns = 4'000'000'000;
    CHECK_THAT(summary_text({s}), Catch::Contains("the offered load, 20.5 Mbit/s on average over 4 s, stayed below the link's 50 Mbit/s: "
                                                  "bursts above the link's rate overflowed the queue\n"));
    rx.drop_queue.set(0);
    CHECK_THAT(summary_text({snapshot("x", expected, rx, tx, 0, true)}), !Catch::Contains("queue drops:"));
}

TEST_CASE("the classification summary says which rule dropped packets, in words", "[unit][stats][summary]") {
    PortClassifySnapshot p;
    p.port = "a";
    p.packets = 20;
    p.rule_hits = {{"rules[0]", 5}, {"rules[1]", 12}};
    p.rule_words = {{"proto: udp, dst_port: 5000-6000 -> link slow", false}, {"any packet -> drop", true}};
    p.drop_rule = 12;
    p.default_text = "link ab";
    p.default_hits = 3;
    const std::string text = classify_summary_text({p});
    CHECK_THAT(text,
               Catch::Contains("  matched: rules[0] (proto: udp, dst_port: 5000-6000 -> link slow) 5, rules[1] (any packet -> drop) 12, "
                               "otherwise (link ab) 3\n"));
    CHECK_THAT(text, Catch::Contains("  dropped here: by a drop rule: rules[1] (any packet -> drop) 12; unclassified 0; flow_limit 0\n"));
    p.rule_hits.pop_back();
    p.rule_words.pop_back();
    p.drop_rule = 0;
    CHECK_THAT(classify_summary_text({p}), Catch::Contains("dropped here: by a drop rule: none (no drop rule applies at this port);"));
    const nlohmann::json port = nlohmann::json::parse(classify_json({p}).dump()).at(0);
    CHECK(port.at("drops") == nlohmann::json{{"rule", 0}, {"unclassified", 0}, {"flow_limit", 0}});
}
