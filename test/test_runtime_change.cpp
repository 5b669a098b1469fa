// [unit] link_change.hpp: a runtime change driven through admit_burst() in
// virtual time: packets that arrive before its instant keep the old fate,
// those at or after it get the new one, the queue carries over; a model with
// linkem.carry continues its random stream; a refused change changes nothing;
// a disciplined link keeps its held queue and discipline instance.
#include "link_fixture.hpp"
#include "linkem/config_change.hpp"
#include "linkem/link_change.hpp"
#include "linkem/pipeline_ingress.hpp"
#include "linkem/release_tracker.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

using namespace linkem;
using linkem::test::plugin_dirs;

namespace {

// Frames of one length, each with its own arrival time.
struct TestFrames {
    const uint64_t *arrivals;
    uint32_t length;
    uint8_t bytes[64] = {};
    uint32_t len(uint16_t) const { return length; }
    const uint8_t *head(uint16_t) const { return bytes; }
    uint32_t head_len(uint16_t) const { return sizeof bytes; }
    void copy(uint16_t, uint8_t *dst, uint32_t n) const {
        for (uint32_t k = 0; k < n; ++k) dst[k] = 0;
    }
    uint64_t arrival_ns(uint16_t i) const { return arrivals[i]; }
};

std::vector<uint64_t> arrivals();  // every 10 us from kT0 (below)

struct Run {
    explicit Run(const std::string &link_fields) {
        LoadResult loaded = load_config_text(
            "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " + link_fields + "}\n", "run.yaml");
        REQUIRE(loaded.config);
        config = std::move(*loaded.config);
        std::vector<ConfigError> errors;
        auto planned = plan_links(config, 1, host, &errors);
        REQUIRE(planned);
        plans = std::move(*planned);
        pipeline = PipelineRuntime::build(
            config, plans, 1,
            [this](const std::string &, uint64_t bytes) {
                memory.emplace_back(bytes / 8 + 8);
                return static_cast<void *>(memory.back().data());
            },
            nullptr);
        REQUIRE(pipeline);
    }
    // Admits packets [from, to) of `arrivals` in bursts of `burst`.
    void admit(const std::vector<uint64_t> &arrivals, size_t from, size_t to, size_t burst) {
        for (size_t at = from; at < to; at += burst) {
            const uint16_t n = static_cast<uint16_t>(std::min(burst, to - at));
            TestFrames frames{arrivals.data() + at, 1000};
            admit_burst(*pipeline->ingress().front(), frames, n, arrivals[at], [] { return uint64_t{0}; });
        }
    }
    std::optional<PreparedChange> prepare(const std::vector<std::string> &assignments, std::vector<ConfigError> *errors) {
        ChangeCandidate candidate = load_link_set(config, "ab", assignments);
        errors->insert(errors->end(), candidate.errors.begin(), candidate.errors.end());
        if (!candidate.config) return std::nullopt;
        return prepare_change(*pipeline, plans, std::move(candidate), 1, ++changes, host, kSetFileName, errors);
    }
    // Every packet of arrivals() admitted in bursts of 8, a change of `assignments` taking effect at packet
    // `first_changed` (a burst's first arrival), and committed.
    void change_at(const std::vector<std::string> &assignments, size_t first_changed) {
        const std::vector<uint64_t> at = arrivals();
        std::vector<ConfigError> errors;
        std::optional<PreparedChange> change = prepare(assignments, &errors);
        for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
        REQUIRE(change);
        admit(at, 0, first_changed, 8);
        REQUIRE(post_change(*change, at[first_changed]));
        admit(at, first_changed, at.size(), 8);
        REQUIRE(change_taken(*change));
        commit_change(*change, plans, config);
    }
    std::vector<uint64_t> releases() {
        std::vector<uint64_t> out;
        LinkRuntime *link = pipeline->config_link(0);
        REQUIRE(link != nullptr);
        REQUIRE(link->lane != nullptr);
        DelayArena &arena = link->lane->arena;
        for (const ArenaRecord *r = arena.front(); r != nullptr; r = arena.front()) {
            if (r->len_bytes != ArenaRecord::kSkip) out.push_back(r->release_ns);
            arena.pop();
        }
        arena.publish_consumed();
        return out;
    }

    PluginHost host{plugin_dirs()};
    Config config;
    std::vector<LinkPlan> plans;
    std::vector<std::vector<uint64_t>> memory;
    std::unique_ptr<PipelineRuntime> pipeline;
    uint64_t changes = 0;
};

constexpr uint64_t kT0 = 1'000'000'000;
constexpr uint64_t kGapNs = 10'000;   // arrivals every 10 us: 1000-byte frames at 800 Mbit/s
constexpr uint64_t kWireNs = 80'000;  // each takes 80 us at 100 Mbit/s: the queue grows
constexpr size_t kPackets = 200;

std::vector<uint64_t> arrivals() {
    std::vector<uint64_t> a;
    for (size_t k = 0; k < kPackets; ++k) a.push_back(kT0 + k * kGapNs);
    return a;
}

}  // namespace

TEST_CASE("runtime change: exact at its instant, also inside a burst; queued packets keep their fate; the queue carries over", "[unit]") {
    // 84: inside a burst of 8 whose arrivals straddle the instant (a replay's,
    // linkem-sim's): admit_burst cuts it there, so packets 80-83 keep the old
    // delay and 84-87 get the new one.
    for (const size_t split : {size_t{80}, size_t{84}}) {
        Run run("bandwidth: 100Mbit/s, delay: 10ms, queue: 1000 packets, arena: 64K packets");  // headroom for 30ms
        const std::vector<uint64_t> at = arrivals();
        std::vector<ConfigError> errors;
        std::optional<PreparedChange> change = run.prepare({"delay=30ms"}, &errors);
        for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
        REQUIRE(errors.empty());
        REQUIRE(change);
        run.admit(at, 0, 40, 8);
        REQUIRE(post_change(*change, at[split]));                                // posted ahead of its instant
        CHECK(run.pipeline->config_link(0)->min_delay_ns.load() == 10'000'000);  // lowered only when the new delay is smaller
        run.admit(at, 40, kPackets, 8);
        REQUIRE(change_taken(*change));
        const std::vector<LinkEdit> done = commit_change(*change, run.plans, run.config);
        REQUIRE(done.size() == 1);
        CHECK(run.pipeline->config_link(0)->min_delay_ns.load() == 30'000'000);
        CHECK(run.config.links[0].delay->params.front().values.front() == "30ms");

        const std::vector<uint64_t> released = run.releases();
        REQUIRE(released.size() == kPackets);  // nothing lost
        const size_t first_new = split;
        for (size_t k = 0; k < kPackets; ++k) {
            const uint64_t exit = kT0 + (k + 1) * kWireNs;  // back to back from the first: the queue never empties
            INFO("packet " << k << " split " << split);
            CHECK(released[k] == exit + (k < first_new ? 10'000'000 : 30'000'000));
        }
    }
}

TEST_CASE("runtime change: a change to a smaller delay keeps the order (held back behind the old packets)", "[unit]") {
    Run run("delay: 30ms");
    const std::vector<uint64_t> at = arrivals();
    std::vector<ConfigError> errors;
    std::optional<PreparedChange> change = run.prepare({"delay=10ms"}, &errors);
    REQUIRE(change);
    REQUIRE(post_change(*change, at[100]));
    CHECK(run.pipeline->config_link(0)->min_delay_ns.load() == 10'000'000);  // lowered before the ingress takes it
    run.admit(at, 0, kPackets, 4);
    commit_change(*change, run.plans, run.config);
    const std::vector<uint64_t> released = run.releases();
    REQUIRE(released.size() == kPackets);
    for (size_t k = 1; k < kPackets; ++k) CHECK(released[k] >= released[k - 1]);
    CHECK(released[99] == at[99] + 30'000'000);
    CHECK(released[100] == released[99]);  // held back: order keep
    CHECK(released[kPackets - 1] == released[99]);
}

TEST_CASE("runtime change: refused (too big for the arena, bad value) changes nothing", "[unit]") {
    Run run("bandwidth: 100Mbit/s, delay: 10ms, queue: 100 packets");
    std::vector<ConfigError> errors;
    CHECK_FALSE(run.prepare({"delay=50s"}, &errors));
    REQUIRE(errors.size() == 1);
    INFO(errors[0].to_string());
    CHECK(errors[0].to_string().find("set:1:1: links[0]: the change needs an arena of") == 0);
    CHECK(errors[0].to_string().find("has 512KiB, made at start: give it headroom with arena:") != std::string::npos);
    errors.clear();
    CHECK_FALSE(run.prepare({"delay=fast"}, &errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].to_string().rfind("set:1:8: links[0].delay: ", 0) == 0);
    CHECK(run.pipeline->ingress().front()->change.load() == nullptr);
    CHECK(run.config.links[0].delay->params.front().values.front() == "10ms");
}

TEST_CASE("runtime change: a withdrawn change leaves the link as it was", "[unit]") {
    Run run("bandwidth: 100Mbit/s, delay: 10ms, queue: 1000 packets, arena: 64K packets");
    const std::vector<uint64_t> at = arrivals();
    std::vector<ConfigError> errors;
    std::optional<PreparedChange> change = run.prepare({"delay=30ms"}, &errors);
    REQUIRE(change);
    REQUIRE(post_change(*change, at[150]));
    run.admit(at, 0, 100, 4);
    CHECK(withdraw_change(*change) == 1);
    CHECK(commit_change(*change, run.plans, run.config).empty());
    run.admit(at, 100, kPackets, 4);
    const std::vector<uint64_t> released = run.releases();
    REQUIRE(released.size() == kPackets);
    for (size_t k = 0; k < kPackets; ++k) CHECK(released[k] == kT0 + (k + 1) * kWireNs + 10'000'000);
    CHECK(run.config.links[0].delay->params.front().values.front() == "10ms");
}

TEST_CASE("linkem.carry: a restated loss model continues its random stream", "[unit]") {
    // Without carry the new instance would draw from the stream (seed, "ab@1", loss): other verdicts.
    for (const char *loss : {"loss: 30%", "loss: {plugin: gilbert_elliott, p: 20%, r: 30%}"}) {
        INFO(loss);
        const std::vector<uint64_t> at = arrivals();
        Run changed(std::string("delay: 1ms, ") + loss);
        Run unchanged(std::string("delay: 1ms, ") + loss);
        std::vector<ConfigError> errors;
        // A change of the delay alone keeps the loss instance; restating the loss model's parameters makes a new instance.
        const std::string value = std::string(loss).substr(6);
        ChangeCandidate candidate = load_link_set(changed.config, "ab", {"loss=" + value});
        REQUIRE(candidate.config);
        candidate.edits = {{0, {{"loss", value}}}};  // restated: planned anew as if it had changed
        std::optional<PreparedChange> change =
            prepare_change(*changed.pipeline, changed.plans, std::move(candidate), 1, 1, changed.host, kSetFileName, &errors);
        REQUIRE(change);
        changed.admit(at, 0, 100, 8);
        REQUIRE(post_change(*change, at[100]));
        changed.admit(at, 100, kPackets, 8);
        REQUIRE(change_taken(*change));
        commit_change(*change, changed.plans, changed.config);
        unchanged.admit(at, 0, kPackets, 8);
        const std::vector<uint64_t> a = changed.releases(), b = unchanged.releases();
        CHECK(a.size() < kPackets);  // some were lost
        CHECK(a == b);
    }
}

TEST_CASE("runtime change: the summary's expected loss weights each era's stated loss by the packets judged under it", "[unit]") {
    Run run("delay: 1ms, loss: 2%");
    run.change_at({"loss=10%"}, 96);

    LinkRuntime *link = run.pipeline->config_link(0);
    const LinkExpectations expected = link->expectations();
    REQUIRE(expected.loss);
    CHECK(*expected.loss == Approx(0.10));
    CHECK(expected.offered_before == 96);
    // 96 packets at 2% and 104 at 10%.
    const std::optional<double> over_run = expected.loss_over(kPackets);
    REQUIRE(over_run);
    CHECK(*over_run == Approx((96 * 0.02 + 104 * 0.10) / 200));
    CHECK(*expected.loss_over(50) == Approx(0.02));  // a snapshot taken before the count caught up: the first era only
    // A model whose loss is not stated in some era leaves the run's expectation unstated.
    LinkExpectations unknown = expected;
    unknown.loss_unknown_before = true;
    CHECK_FALSE(unknown.loss_over(kPackets));
}

TEST_CASE("runtime change: the rate while backlogged stays the link's across a change of delay", "[unit]") {
    // 200 packets back to back on 100 Mbit/s; the delay goes from 10 to 30 ms at packet 80. Fed to the tx side's
    // tracker in release order, sent on time: the pair across the change (releases 20 ms further apart) is left out.
    Run run("bandwidth: 100Mbit/s, delay: 10ms, queue: 1000 packets, arena: 64K packets");
    run.change_at({"delay=30ms"}, 80);

    LinkRuntime *link = run.pipeline->config_link(0);
    REQUIRE(link != nullptr);
    REQUIRE(link->lane != nullptr);
    ReleaseTracker tracker(10'000, 0);
    Histogram lateness_ns;
    ReleaseTally tally;
    DelayArena &arena = link->lane->arena;
    uint64_t packets = 0;
    for (const ArenaRecord *r = arena.front(); r != nullptr; r = arena.front()) {
        if (r->len_bytes != ArenaRecord::kSkip) {
            tracker.observe(r->release_ns, r->tag, r->len_bytes, r->release_ns, lateness_ns, tally);
            ++packets;
        }
        arena.pop();
    }
    arena.publish_consumed();
    REQUIRE(packets == kPackets);
    CHECK(tally.out_of_order == 0);
    // 199 consecutive pairs, all backlogged, less the one across the change: 198 frames of 1000 bytes.
    CHECK(tally.backlogged_wire_bytes == 198 * 1000);
    REQUIRE(tally.backlogged_model_ns != 0);
    const double configured_bps = 8e9 * static_cast<double>(tally.backlogged_wire_bytes) / static_cast<double>(tally.backlogged_model_ns);
    CHECK(configured_bps == Approx(100e6).epsilon(1e-9));
}

TEST_CASE("runtime change: a disciplined link keeps its held queue and discipline; a waiting packet takes the rate in force at its start",
          "[unit][queue]") {
    // codel with a target no packet here reaches: it passes every packet, so
    // the held queue is a FIFO whose transmission starts are decided as the
    // link frees. 128 Mbit/s: 62.5 us per frame, so transmissions start
    // between arrivals. 94: inside a burst of 8 (admit_burst cuts it there),
    // and the start at 937.5 us, after the last arrival before the instant
    // (930 us) and before it (940 us), is decided under the old rate; 96: the
    // change taken at a burst's first arrival.
    constexpr uint64_t kOldWireNs = 62'500, kNewWireNs = 8'000;
    for (const size_t split : {size_t{94}, size_t{96}}) {
        Run run(
            "bandwidth: 128Mbit/s, overhead: none, delay: 10ms, arena: 64K packets, "
            "queue: {discipline: codel, target: 1s, interval: 10s, limit: 1000 packets}");
        const ModelInstance *discipline = run.plans[0].queue.get();
        REQUIRE(discipline != nullptr);
        const std::vector<uint64_t> at = arrivals();
        std::vector<ConfigError> errors;
        std::optional<PreparedChange> change = run.prepare({"bandwidth=1Gbit/s"}, &errors);
        for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
        REQUIRE(change);
        run.admit(at, 0, 40, 8);
        REQUIRE(post_change(*change, at[split]));
        run.admit(at, 40, kPackets, 8);
        REQUIRE(change_taken(*change));
        advance_held(*run.pipeline->ingress().front(), UINT64_MAX);  // the end of input: the held queue drains
        REQUIRE(commit_change(*change, run.plans, run.config).size() == 1);
        CHECK(run.plans[0].queue.get() == discipline);  // the running plan still owns the instance the link goes on with
        CHECK(run.pipeline->config_link(0)->model.held_packets() == 0);

        // Back to back from the first packet (the queue never empties before
        // the change): a transmission that starts before the instant takes
        // 62.5 us, one that starts at or after it 8 us (1 Gbit/s), whenever
        // its packet arrived.
        const uint64_t instant = at[split];
        std::vector<uint64_t> want;
        uint64_t exit = 0;
        for (size_t k = 0; k < kPackets; ++k) {
            const uint64_t start = std::max(exit, at[k]);
            exit = start + (start < instant ? kOldWireNs : kNewWireNs);
            want.push_back(exit + 10'000'000);
        }
        CHECK(want[split] - 10'000'000 > instant + kOldWireNs);  // packets still waited at the instant
        const std::vector<uint64_t> released = run.releases();
        REQUIRE(released.size() == kPackets);  // nothing lost: the held queue went on
        for (size_t k = 0; k < kPackets; ++k) {
            INFO("packet " << k << " split " << split);
            CHECK(released[k] == want[k]);
        }
    }
}

TEST_CASE("runtime change: a disciplined link's discipline parameters change; its state carries over; its held queue goes on",
          "[unit][queue]") {
    // codel first passes everything (target 1s); from packet 94's arrival its
    // target is 1 ms and its interval 2 ms, and the queue, whose packets by
    // then wait several milliseconds, is dropped at its head from there.
    Run run(
        "bandwidth: 128Mbit/s, overhead: none, delay: 10ms, arena: 64K packets, "
        "queue: {discipline: codel, target: 1s, interval: 10s, limit: 1000 packets}");
    const ModelInstance *before = run.plans[0].queue.get();
    const std::vector<uint64_t> at = arrivals();
    std::vector<ConfigError> errors;
    std::optional<PreparedChange> change =
        run.prepare({"queue={discipline: codel, target: 1ms, interval: 2ms, limit: 1000 packets}"}, &errors);
    for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(change);
    run.admit(at, 0, 40, 8);
    REQUIRE(post_change(*change, at[94]));
    run.admit(at, 40, kPackets, 8);
    REQUIRE(change_taken(*change));
    advance_held(*run.pipeline->ingress().front(), UINT64_MAX);
    REQUIRE(commit_change(*change, run.plans, run.config).size() == 1);
    CHECK(run.plans[0].queue.get() != before);  // the new instance runs, and the running plan owns it
    CHECK(run.config.links[0].discipline->params.front().values.front() == "1ms");

    const std::vector<uint64_t> released = run.releases();
    const LinkSnapshot s = run.pipeline->link_snapshots(0, false).front();
    INFO("released " << released.size() << ", aqm drops " << s.drop(DropReason::kAqmDrop));
    CHECK(s.drop(DropReason::kAqmDrop) > 0);
    CHECK(released.size() + s.drop(DropReason::kAqmDrop) == kPackets);  // held, then sent or dropped: none lost otherwise
    // The transmissions that started before the instant (at 940 us: the 16th
    // starts at 937.5 us) ran under the old target: back to back, none dropped.
    for (size_t k = 0; k < 16; ++k) CHECK(released[k] == kT0 + (k + 1) * 62'500 + 10'000'000);
}
