// [queue] Queue disciplines (plugin ABI 1.3, LKM_KIND_QUEUE): the held queue
// of a link with a discipline, decided at each transmission start, in virtual
// time with the fixture discipline sojourn_cap
// (test/plugin_fixtures/sojourn_cap.c); the plugin host's checks; the
// configuration's forms and refusals.
#include "link_fixture.hpp"

#include "linkem/config_change.hpp"
#include "linkem/held_frames.hpp"
#include "linkem/memory_budget.hpp"
#include "linkem/route_plan.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace linkem;
using namespace linkem::test;

namespace {

// Repeats test/plugin_fixtures/sojourn_cap.c's state (the fixture's call counts).
struct sojourn_cap_state {
    uint64_t cap_ns;
    uint64_t enqueue_backlog;
    int ecn;
    uint64_t enqueues, dequeues, empty_dequeues;
    uint64_t last_now_ns;
    uint64_t last_backlog_packets, last_backlog_bytes;
    uint64_t last_link_rate_bps;
    int time_went_back;
};

std::string fixture_path(const std::string &what = "sojourn_cap") {
    const char *dir = std::getenv("LINKEM_FIXTURE_DIR");
    REQUIRE(dir != nullptr);  // set by meson test
    return std::string(dir) + "/fixture_" + what + ".so";
}

// A 8 Mbit/s link without framing overhead: a 1000-byte frame takes exactly 1 ms.
std::string link_fields(const std::string &discipline_params) {
    return "bandwidth: 8Mbit/s, overhead: none, queue: {discipline: \"" + fixture_path() + "\", " + discipline_params + "}";
}

constexpr uint64_t kMs = 1'000'000;

const sojourn_cap_state &fixture_state(const TestLink &link) {
    REQUIRE(link.plan().queue);
    return *static_cast<const sojourn_cap_state *>(link.plan().queue->state());
}

std::vector<ConfigError> load_errors(const std::string &link_fields_text) {
    const std::string yaml =
        "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " + link_fields_text + "}\n";
    LoadResult loaded = load_config_text(yaml, "t.yaml");
    if (!loaded.config) return loaded.errors;
    std::vector<ConfigError> errors;
    plan_link(*loaded.config, 0, 1, PluginHost(plugin_dirs()), &errors);
    return errors;
}

std::string first_error(const std::string &fields) {
    const auto errors = load_errors(fields);
    REQUIRE_FALSE(errors.empty());
    return errors.front().to_string();
}

}  // namespace

TEST_CASE("the host loads a queue discipline (kind 4) and lists it as \"queue\"", "[queue][plugin]") {
    LoadedModel loaded;
    std::string error;
    REQUIRE(PluginHost::load_file(fixture_path(), &loaded, &error));
    CHECK(loaded.model->kind == LKM_KIND_QUEUE);
    CHECK(std::string(kind_name(LKM_KIND_QUEUE)) == "queue");
    CHECK(PluginHost::file_name_for(LKM_KIND_QUEUE, "codel") == "lkm_queue_codel.so");
    // A queue model named where another kind is expected is refused, and the other way round.
    const auto wrong = load_errors("bandwidth: 8Mbit/s, loss: {plugin: \"" + fixture_path() + "\"}");
    REQUIRE_FALSE(wrong.empty());
    CHECK_THAT(wrong.front().to_string(), Catch::Contains("queue"));
}

TEST_CASE("the host refuses a queue model without dequeue, older than ABI 1.3, or another kind with enqueue", "[queue][plugin]") {
    const auto refusal = [](const std::string &path) {
        LoadedModel loaded;
        std::string error;
        INFO(path);
        CHECK_FALSE(PluginHost::load_file(path, &loaded, &error));
        CHECK_THAT(error, Catch::StartsWith(path + ": model \"sojourn_cap\": "));
        return error;
    };
    CHECK_THAT(refusal(fixture_path("queue_no_dequeue")), Catch::Contains("a queue model must set enqueue and dequeue"));
    CHECK_THAT(refusal(fixture_path("queue_old_abi")), Catch::Contains("a queue model needs plugin ABI 1.3") && Catch::Contains("ABI 1.2"));
    CHECK_THAT(refusal(fixture_path("loss_with_queue")), Catch::Contains("a loss model must leave enqueue and dequeue NULL"));
}

TEST_CASE("a verdict outside PASS, DROP and MARK is a model error: the packet is dropped and the value kept", "[queue]") {
    TestLink link("bandwidth: 8Mbit/s, overhead: none, queue: {discipline: \"" + fixture_path("queue_bad_verdict") +
                  "\", cap: 1500us, limit: 10 packets}");
    const HeldRun r = run_held(link.model(), std::vector<PacketIn>(3, PacketIn{0, 1000}));
    CHECK(r.by_packet[0].verdict.fate == Fate::kForward);
    CHECK(r.by_packet[1].verdict.fate == Fate::kForward);
    CHECK(r.by_packet[2].verdict.fate == Fate::kDropModelError);  // sojourn 2 ms > 1.5 ms: the bad verdict
    const auto e = link.model().first_model_error();
    REQUIRE(e);
    CHECK(e->kind == LKM_KIND_QUEUE);
    CHECK(e->value == 7);
    CHECK(e->packet_ns == 2 * kMs);
}

TEST_CASE("a disciplined link starts each packet when the link is free: exact times on a constant rate", "[queue]") {
    TestLink link(link_fields("cap: 1s, limit: 100 packets"));
    CHECK(link.model().has_discipline());
    CHECK(link.model().held_capacity() == 100);
    std::vector<PacketIn> pkts;
    for (int i = 0; i < 5; ++i) pkts.push_back({0, 1000});
    pkts.push_back({10 * kMs + 500'000, 1000});  // an idle link: starts at its arrival
    const HeldRun r = run_held(link.model(), pkts);
    const std::vector<uint64_t> want = {1 * kMs, 2 * kMs, 3 * kMs, 4 * kMs, 5 * kMs, 11 * kMs + 500'000};
    for (size_t i = 0; i < pkts.size(); ++i) {
        INFO(i);
        REQUIRE(r.by_packet[i].verdict.fate == Fate::kForward);
        CHECK(r.by_packet[i].verdict.release_ns == want[i]);  // no delay model: release = exit
        CHECK_FALSE(r.by_packet[i].verdict.ce_marked);
    }
    const sojourn_cap_state &s = fixture_state(link);
    CHECK(s.enqueues == 6);
    CHECK(s.dequeues == 6);
    CHECK(s.time_went_back == 0);
    CHECK(s.last_link_rate_bps == 8'000'000);  // the constant rate, in lkm_queue_state
    // Sojourn times 0, 1, 2, 3, 4 ms and 0: the histogram has the six, summing to 10 ms.
    const Histogram &h = *link.model().discipline_stats().sojourn_ns;
    CHECK(h.total() == 6);
    CHECK(h.sum() == 10.0 * kMs);
    CHECK(h.max() == 4 * kMs);
    CHECK(link.model().held_packets() == 0);
}

TEST_CASE("a disciplined link with the same traffic as tail drop gives the same exits and drops (limit counts waiting packets)",
          "[queue]") {
    // Six 1000-byte frames at once into a queue of 3: tail drop lets one start and three wait; so does the held queue.
    TestLink tail("bandwidth: 8Mbit/s, overhead: none, queue: 3 packets");
    TestLink held(link_fields("cap: 1s, limit: 3 packets"));
    std::vector<PacketIn> pkts(6, PacketIn{0, 1000});
    pkts.push_back({2 * kMs + 1, 1000});  // one place freed at 2 ms (the third frame started at 2 ms)
    const std::vector<Verdict> a = tail.run(pkts);
    const HeldRun b = run_held(held.model(), pkts);
    for (size_t i = 0; i < pkts.size(); ++i) {
        INFO(i);
        CHECK(b.by_packet[i].verdict.fate == a[i].fate);
        if (a[i].fate == Fate::kForward) CHECK(b.by_packet[i].verdict.release_ns == a[i].release_ns);
    }
    CHECK(count_fate(a, Fate::kDropQueue) == 2);  // overload: the existing reason
}

TEST_CASE("the discipline drops at dequeue by sojourn time; the next head is tried at the same instant", "[queue]") {
    TestLink link(link_fields("cap: 2500us, limit: 100 packets"));
    const std::vector<PacketIn> pkts(6, PacketIn{0, 1000});
    const HeldRun r = run_held(link.model(), pkts);
    // Starts at 0, 1, 2 ms (sojourn within 2.5 ms): sent. At 3 ms the sojourn is 3 ms: dropped, and so are the
    // next two heads, at the same instant.
    for (size_t i = 0; i < 3; ++i) CHECK(r.by_packet[i].verdict.release_ns == (i + 1) * kMs);
    for (size_t i = 3; i < 6; ++i) CHECK(r.by_packet[i].verdict.fate == Fate::kDropAqmDrop);
    const sojourn_cap_state &s = fixture_state(link);
    CHECK(s.dequeues == 6);
    CHECK(s.empty_dequeues == 1);
    CHECK(s.last_now_ns == 3 * kMs);  // the queue was found empty at 3 ms: the last drop's instant, the link's free time
    CHECK(link.model().discipline_stats().sojourn_ns->total() == 3);  // only the packets sent
    CHECK(link.model().discipline_stats().enqueue_drops.load() == 0);
}

TEST_CASE("MARK sends an ECN-capable packet marked CE and drops one that is not", "[queue]") {
    TestLink link(link_fields("cap: 2500us, ecn: true, limit: 100 packets"));
    std::vector<PacketIn> pkts;
    for (int i = 0; i < 6; ++i) pkts.push_back({0, 1000, i == 3 || i == 5});
    const HeldRun r = run_held(link.model(), pkts);
    // 0-2 within the cap; 3 (ECN-capable) marked, sent at 3 ms; 4 (not capable) at 4 ms: MARK acts as DROP;
    // 5 (capable) at 4 ms: marked, sent.
    for (size_t i = 0; i < 3; ++i) CHECK_FALSE(r.by_packet[i].verdict.ce_marked);
    CHECK(r.by_packet[3].verdict.fate == Fate::kForward);
    CHECK(r.by_packet[3].verdict.ce_marked);
    CHECK(r.by_packet[3].verdict.release_ns == 4 * kMs);
    CHECK(r.by_packet[4].verdict.fate == Fate::kDropAqmDrop);
    CHECK(r.by_packet[5].verdict.fate == Fate::kForward);
    CHECK(r.by_packet[5].verdict.ce_marked);
    CHECK(r.by_packet[5].verdict.release_ns == 5 * kMs);
    CHECK(link.model().discipline_stats().marks.load() == 2);
    CHECK(link.model().discipline_stats().mark_drops.load() == 1);
}

TEST_CASE("dequeue(NULL) comes once per busy period, when the link is free and the queue empty", "[queue]") {
    TestLink link(link_fields("cap: 1s, limit: 100 packets"));
    LinkModel &m = link.model();
    const sojourn_cap_state &s = fixture_state(link);
    Decided out[kMaxBurst];
    CHECK(m.hold({0, 1000}, 0) == Fate::kForward);
    CHECK(m.advance(500'000, out, kMaxBurst) == 1);  // starts at 0
    CHECK(m.hold({500'000, 1000}, 1) == Fate::kForward);
    CHECK(m.advance(1'999'999, out, kMaxBurst) == 1);  // starts at 1 ms; the link is busy until 2 ms
    CHECK(s.empty_dequeues == 0);
    CHECK(m.advance(1'999'999, out, kMaxBurst) == 0);
    CHECK(s.empty_dequeues == 0);
    CHECK(m.advance(10 * kMs, out, kMaxBurst) == 0);
    CHECK(s.empty_dequeues == 1);
    CHECK(s.last_now_ns == 2 * kMs);  // at the busy period's end, not at the time advanced to
    CHECK(m.advance(20 * kMs, out, kMaxBurst) == 0);
    CHECK(s.empty_dequeues == 1);  // once
    CHECK(m.hold({30 * kMs, 1000}, 2) == Fate::kForward);
    CHECK(m.advance(UINT64_MAX, out, kMaxBurst) == 1);
    CHECK(m.advance(UINT64_MAX, out, kMaxBurst) == 0);
    CHECK(s.empty_dequeues == 2);
    CHECK(s.time_went_back == 0);
}

TEST_CASE("enqueue verdicts and the hard limit; every packet ends sent or dropped once", "[queue]") {
    TestLink link(link_fields("cap: 1s, enqueue_backlog: 2, limit: 3 packets"));
    std::vector<PacketIn> pkts(8, PacketIn{0, 1000});
    for (int i = 0; i < 600; ++i) pkts.push_back({kMs + static_cast<uint64_t>(i) * 100'000, 1000});  // 10 per ms into 1 per ms
    const HeldRun r = run_held(link.model(), pkts);
    // At t=0: the first starts at once, the next two wait, the fourth finds 2 waiting: the discipline drops it at enqueue.
    CHECK(r.refused[0] == Fate::kForward);
    CHECK(r.refused[1] == Fate::kForward);
    CHECK(r.refused[2] == Fate::kForward);
    CHECK(r.refused[3] == Fate::kDropAqmDrop);
    std::map<Fate, size_t> fates;
    for (const Decided &d : r.by_packet) ++fates[d.verdict.fate];
    CHECK(fates[Fate::kForward] + fates[Fate::kDropAqmDrop] + fates[Fate::kDropQueue] == pkts.size());  // balanced
    CHECK(fates[Fate::kDropAqmDrop] == link.model().discipline_stats().enqueue_drops.load());
    CHECK(fates[Fate::kDropQueue] == 0);  // the discipline (backlog 2) acts before the hard limit (3) is reached
    const sojourn_cap_state &s = fixture_state(link);
    CHECK(s.enqueues == pkts.size());
    CHECK(s.dequeues == fates[Fate::kForward]);
    CHECK(link.model().held_packets() == 0);

    TestLink hard(link_fields("cap: 1s, limit: 3 packets"));
    const HeldRun h = run_held(hard.model(), std::vector<PacketIn>(6, PacketIn{0, 1000}));
    CHECK(h.refused[4] == Fate::kDropQueue);  // overload: no discipline call
    CHECK(h.refused[5] == Fate::kDropQueue);
    CHECK(fixture_state(hard).enqueues == 4);
}

TEST_CASE("a link without a discipline keeps no held queue", "[queue]") {
    TestLink plain("bandwidth: 8Mbit/s, queue: 10 packets");
    CHECK_FALSE(plain.model().has_discipline());
    CHECK(plain.model().held_capacity() == 0);
    CHECK(plain.model().discipline_stats().sojourn_ns == nullptr);
}

TEST_CASE("queue: {discipline: ...}: its forms, printing, and positioned refusals", "[queue][config]") {
    const std::string path = fixture_path();
    TestLink bytes(link_fields("cap: 5ms, limit: {packets: 50, bytes: 30000B}"));
    CHECK(bytes.model().held_capacity() == 50);
    {  // printed as written, and loaded back the same
        const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " +
                                 link_fields("cap: 5ms, ecn: true, limit: 50 packets") + "}\n";
        LoadResult loaded = load_config_text(yaml, "t.yaml");
        REQUIRE(loaded.config);
        CHECK(loaded.config->links[0].discipline_ecn);
        const std::string printed = to_yaml(*loaded.config);
        CHECK_THAT(printed, Catch::Contains("queue: {discipline: " + path + ", limit: 50 packets, cap: 5ms, ecn: true}"));
        LoadResult again = load_config_text(printed, "t.yaml");
        REQUIRE(again.config);
        CHECK(to_yaml(*again.config) == printed);
    }
    {  // the default hard limit: 1000 packets
        TestLink d(link_fields("cap: 5ms"));
        CHECK(d.model().held_capacity() == 1000);
    }
    CHECK_THAT(first_error("queue: {discipline: \"" + path + "\", cap: 5ms}"),
               Catch::Contains("t.yaml:3:") && Catch::Contains("links[0].queue.discipline: a queue discipline needs a bandwidth limit"));
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, queue: {discipline: \"" + path + "\", cap: 5ms, packets: 10}"),
               Catch::Contains("links[0].queue.packets: with a discipline the hard limit is written limit:"));
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, queue: {discipline: \"" + path + "\", cap: 5ms, ecn: maybe}"),
               Catch::Contains("links[0].queue.ecn: expected true or false"));
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, queue: {discipline: \"" + path + "\", cap: 5ms, limit: 0 packets}"),
               Catch::Contains("links[0].queue.limit: 0 packets is out of range"));
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, mangle: {ecn: true}, queue: {discipline: \"" + path + "\", cap: 5ms}"),
               Catch::Contains("links[0].queue.discipline: with a queue discipline ECN is the discipline's"));
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, per_flow: {key: {src: /32}}, queue: {discipline: \"" + path + "\", cap: 5ms}"),
               Catch::Contains("links[0].queue.discipline: a per-flow template cannot have a queue discipline"));
    // The discipline's own parameters, checked by the plugin, positioned at their keys.
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, queue: {discipline: \"" + path + "\"}"), Catch::Contains("links[0].queue.cap: required"));
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, queue: {discipline: \"" + path + "\", cap: 5ms, target: 5ms}"),
               Catch::Contains("links[0].queue.target: unknown parameter \"target\" for queue model"));
    CHECK_THAT(first_error("bandwidth: 1Mbit/s, queue: {discipline: no_such_aqm}"),
               Catch::Contains("links[0].queue") && Catch::Contains("no queue model named \"no_such_aqm\""));
}

TEST_CASE("a running link with a discipline changes its link keys and its discipline at runtime, not its held queue's shape",
          "[queue][config]") {
    const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " +
                             link_fields("cap: 5ms") + "}\n  - {name: ba, from: b, to: a, bandwidth: 8Mbit/s}\n";
    LoadResult loaded = load_config_text(yaml, "t.yaml");
    REQUIRE(loaded.config);
    const std::string discipline = "queue={discipline: \"" + fixture_path() + "\", ";
    for (const std::vector<std::string> &ok :
         {std::vector<std::string>{"delay=5ms", "bandwidth=4Mbit/s", "loss=1%"}, {discipline + "cap: 9ms}"}}) {
        const ChangeCandidate c = load_link_set(*loaded.config, "ab", ok);
        for (const auto &e : c.errors) UNSCOPED_INFO(e.to_string());
        CHECK(c.errors.empty());
        CHECK(c.config);
    }
    // What the held queue was made for: its limit, its ECN parsing; and the overhead.
    const ChangeCandidate limit = load_link_set(*loaded.config, "ab", {discipline + "cap: 9ms, limit: 10 packets}"});
    REQUIRE_FALSE(limit.errors.empty());
    CHECK_THAT(limit.errors.front().to_string(),
               Catch::Contains("links[0].queue: link \"ab\" has a queue discipline: its limit cannot change while linkem runs yet"));
    const ChangeCandidate ecn = load_link_set(*loaded.config, "ab", {discipline + "cap: 5ms, ecn: true}"});
    REQUIRE_FALSE(ecn.errors.empty());
    CHECK_THAT(ecn.errors.front().to_string(), Catch::Contains("its ecn cannot change"));
    const ChangeCandidate tail_drop = load_link_set(*loaded.config, "ab", {"queue=100 packets"});
    REQUIRE_FALSE(tail_drop.errors.empty());
    CHECK_THAT(tail_drop.errors.front().to_string(), Catch::Contains("it cannot lose its held queue"));
    const ChangeCandidate overhead = load_link_set(*loaded.config, "ab", {"overhead=ethernet"});
    REQUIRE_FALSE(overhead.errors.empty());
    CHECK_THAT(overhead.errors.front().to_string(), Catch::Contains("links[0].overhead: link \"ab\" has a queue discipline: its overhead"));
    const ChangeCandidate add = load_link_set(*loaded.config, "ba", {discipline + "cap: 5ms}"});
    REQUIRE_FALSE(add.errors.empty());
    CHECK_THAT(add.errors.front().to_string(), Catch::Contains("link \"ba\" would get a queue discipline"));
    // apply/SIGHUP: the same, from the difference of two files.
    std::string changed = yaml;
    changed.replace(changed.find("cap: 5ms"), 8, "cap: 7ms");
    const ChangeCandidate applied = load_change_text(*loaded.config, changed, "u.yaml");
    for (const auto &e : applied.errors) UNSCOPED_INFO(e.to_string());
    CHECK(applied.errors.empty());
    changed.replace(changed.find("cap: 7ms"), 8, "cap: 7ms, limit: 9 packets");
    const ChangeCandidate refused = load_change_text(*loaded.config, changed, "u.yaml");
    REQUIRE_FALSE(refused.errors.empty());
    CHECK_THAT(refused.errors.front().to_string(),
               Catch::Contains("u.yaml:3:") && Catch::Contains("links[0].queue: link \"ab\" has a queue discipline: its limit"));
}

TEST_CASE("a timeline step on a link with a discipline: its link keys and discipline load, its limit is refused at its position",
          "[queue][config]") {
    const std::string links = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " +
                              link_fields("cap: 5ms") + "}\n  - {name: ba, from: b, to: a, bandwidth: 8Mbit/s}\n";
    const std::string discipline = "queue: {discipline: \"" + fixture_path() + "\", ";
    LoadResult loaded = load_config_text(
        links + "timeline:\n  - {at: 1s, link: ab, set: {delay: 5ms, bandwidth: 2Mbit/s, overhead: none, " + discipline + "cap: 1ms}}}\n",
        "t.yaml");
    for (const auto &e : loaded.errors) UNSCOPED_INFO(e.to_string());
    CHECK(loaded.errors.empty());
    loaded =
        load_config_text(links + "timeline:\n  - {at: 1s, link: ab, set: {" + discipline + "cap: 1ms, limit: 5 packets}}}\n", "t.yaml");
    REQUIRE_FALSE(loaded.errors.empty());
    CHECK_THAT(loaded.errors.front().to_string(),
               Catch::Contains("t.yaml:6:") && Catch::Contains("timeline[0].set.queue: link \"ab\" has a queue discipline: its limit"));
    loaded = load_config_text(links + "timeline:\n  - {at: 1s, link: ba, set: {" + discipline + "cap: 5ms}}}\n", "t.yaml");
    REQUIRE_FALSE(loaded.errors.empty());
    CHECK_THAT(loaded.errors.front().to_string(), Catch::Contains("timeline[0].set.queue: link \"ba\" would get a queue discipline"));
}

TEST_CASE("the memory budget counts a disciplined link's held queue and its frames", "[queue][memory]") {
    const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " +
                             link_fields("cap: 5ms, limit: 100 packets") + "}\n";
    LoadResult loaded = load_config_text(yaml, "t.yaml");
    REQUIRE(loaded.config);
    std::vector<ConfigError> errors;
    auto plans = plan_links(*loaded.config, 1, PluginHost(plugin_dirs()), &errors);
    REQUIRE(plans);
    uint64_t frames = 0, slots = 0;
    for (const MemoryItem &item : memory_items(*loaded.config, *plans, plan_routes(*loaded.config), DpdkCosts{})) {
        if (item.name == "link ab: held queue's frames") frames = item.bytes;
        if (item.name == "link ab: held queue") slots = item.bytes;
    }
    CHECK(frames == held_frames_bytes(100));
    CHECK(frames == 100 * 2048);  // a slot of 2048 bytes per packet the limit lets wait
    CHECK(slots == 100 * sizeof(HeldPacket));
}
