// [unit] Streaming a replay trace (linkem/replay_stream.hpp): the chunk
// ring between a reader thread and the cursor (every record once, in order,
// over wraps and loops; starvation counted, never a wrong record), the same
// schedule as the loaded trace, the plan (loaded or streamed), the config
// keys and their errors, and the memory budget's replay items.
#include "linkem/config.hpp"
#include "linkem/memory_budget.hpp"
#include "linkem/replay.hpp"
#include "linkem/replay_stream.hpp"
#include "linkem_process.hpp"
#include "replay_trace.hpp"

#include "config_errors.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace linkem;
using namespace linkem::test;

namespace {

std::string with_port(const std::string &value) {
    return "ports:\n  r: " + value + "\n  b: {device: net_null1}\nlinks:\n  - {name: rb, from: r, to: b}\n";
}

Replay replay_of(const std::string &value, const std::string &file = "t.yaml") {
    LoadResult r = load_config_text(with_port(value), file);
    for (const auto &e : r.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(r.config);
    return *r.config->ports[0].replay;
}

// The one error a replay port's value gives.
void require_one_port_error(const std::string &value, int line, int column, const std::string &path, const std::string &message_part) {
    require_one_error(with_port(value), line, column, path, message_part);
}

// n frames of 100 to 163 bytes (varying, so strides differ), 250 us apart plus i ns.
std::vector<TraceRecord> frames(uint32_t n) {
    std::vector<TraceRecord> out;
    for (uint32_t i = 0; i < n; ++i) out.push_back({1'000'000'000'000ULL + i * 250'000ULL + i, sequenced_frame(i, 100 + i % 64)});
    return out;
}

// What a cursor handed out: sequence numbers and arrivals, burst by burst.
struct Taken {
    std::vector<uint32_t> seq;
    std::vector<uint64_t> arrival;
    std::vector<uint32_t> len;
};

void take_all(ReplayCursor &c, Taken &t, uint16_t burst, uint64_t *empty_polls = nullptr) {
    ReplayBurst b;
    for (int spins = 0; !c.done() && spins < 10'000'000; ++spins) {
        const uint16_t n = c.take(UINT64_MAX, burst, b);
        if (n == 0 && empty_polls != nullptr) ++*empty_polls;
        for (uint16_t i = 0; i < n; ++i) {
            t.seq.push_back(sequence_of(std::string(reinterpret_cast<const char *>(b.head(i)), b.len(i))));
            t.arrival.push_back(b.arrival[i]);
            t.len.push_back(b.len(i));
        }
        (void)c.next_ns();  // between bursts, as the stage does
    }
}

struct Streamed {
    ReplayShape shape;
    std::vector<ChunkHeader> memory;
    std::unique_ptr<ChunkRing> ring;
    std::unique_ptr<ReplayReader> reader;

    Streamed(const Replay &r, uint64_t chunk_bytes, uint64_t chunks) {
        std::string error;
        const auto s = walk_replay_trace(
            r, [](const ReplayEntry &, const std::string &) { return true; }, &error);
        INFO(error);
        REQUIRE(s);
        shape = *s;
        memory.resize(chunk_bytes * chunks / sizeof(ChunkHeader));
        ring = std::make_unique<ChunkRing>(reinterpret_cast<uint8_t *>(memory.data()), chunk_bytes, chunks);
        reader = std::make_unique<ReplayReader>(r, shape, *ring);
    }
    ReplayTrace trace() const { return {nullptr, ring->base(), shape.count, shape.span_ns, shape.total_bytes}; }
};

}  // namespace

TEST_CASE("the chunk ring: the reader publishes, the consumer gives back; never more than the ring ahead", "[unit][replay]") {
    std::vector<ChunkHeader> memory(3 * 4096 / 64);
    ChunkRing ring(reinterpret_cast<uint8_t *>(memory.data()), 4096, 3);
    CHECK(ring.room());
    CHECK(ring.published() == 0);
    for (int k = 0; k < 3; ++k) {
        REQUIRE(ring.room());
        CHECK(ring.chunk(ring.published()) == ring.base() + k * 4096);
        ring.publish();
    }
    CHECK_FALSE(ring.room());  // three chunks ahead of the consumer: full
    ring.release(1);
    REQUIRE(ring.room());
    CHECK(ring.chunk(ring.published()) == ring.base());  // chunk 3 wraps onto chunk 0's memory
    ring.publish();
    CHECK_FALSE(ring.room());
    CHECK(ChunkRing::record_bytes(1) == 40);
    CHECK(ChunkRing::record_bytes(64) == 96);
    CHECK(ChunkRing::holds(4096, 4096 - 64 - 32));
    CHECK_FALSE(ChunkRing::holds(4096, 4096 - 64 - 31));
}

TEST_CASE("a streamed trace gives every record once, in order, at the loaded trace's times, over wraps and loops", "[unit][replay]") {
    TempDir dir;
    write_trace((dir / "t.pcap").string(), frames(1000), true);
    for (const char *pace : {"speed: 1", "speed: 3", "pps: 7k", "rate: 10Mbit/s"}) {
        INFO(pace);
        Replay r = replay_of(fmt::format("{{replay: {}, {}, loop: 3}}", (dir / "t.pcap").string(), pace));
        std::string error;
        const std::optional<ReplayTraceData> loaded = read_replay_trace(r, &error);
        REQUIRE(loaded);
        ReplayCursor whole(r, ReplayTrace::of(*loaded));
        whole.begin(5'000);
        Taken want;
        take_all(whole, want, 32);
        REQUIRE(want.seq.size() == 3000);

        // 4 KiB chunks (about 25 records each), 3 of them: the ring wraps about 40 times per loop.
        Streamed s(r, 4096, 3);
        s.reader->start();
        s.reader->wait_read_ahead();
        CHECK(s.ring->published() == 3);  // read ahead: the ring full before the first take
        ReplayCursor streamed(r, s.trace(), s.ring.get());
        streamed.begin(5'000);
        Taken got;
        take_all(streamed, got, 32);
        CHECK(got.seq == want.seq);  // nothing twice, nothing skipped, in order over the loops
        CHECK(got.arrival == want.arrival);
        CHECK(got.len == want.len);
        CHECK(streamed.done());
        CHECK(streamed.next_ns() == UINT64_MAX);
        s.reader->stop();
        CHECK_FALSE(s.reader->failed());
        CHECK(s.reader->chunks_written() > 100);
        CHECK(s.ring->released() == s.ring->published());  // every chunk given back
    }
}

TEST_CASE("a consumer faster than the reader starves, counts it, and waits: late, never a wrong record", "[unit][replay]") {
    TempDir dir;
    write_trace((dir / "t.pcap").string(), frames(200), false);
    Replay r = replay_of(fmt::format("{{replay: {}, topspeed: true, loop: 2}}", (dir / "t.pcap").string()));
    Streamed s(r, 4096, 2);
    ReplayCursor c(r, s.trace(), s.ring.get());
    c.begin(0);  // nothing read yet: the reader has not started
    ReplayBurst b;
    CHECK(c.take(UINT64_MAX, 32, b) == 0);
    CHECK(c.take(UINT64_MAX, 32, b) == 0);
    CHECK(c.starvations() == 1);  // one episode, however many polls
    CHECK_FALSE(c.done());
    s.reader->start();
    Taken got;
    uint64_t empty_polls = 0;
    take_all(c, got, 8, &empty_polls);
    std::vector<uint32_t> want;
    for (uint32_t loop = 0; loop < 2; ++loop)
        for (uint32_t i = 0; i < 200; ++i) want.push_back(i);
    CHECK(got.seq == want);
    CHECK(c.starvations() >= 1);
    INFO(empty_polls);
    CHECK(c.starvations() <= empty_polls + 1);  // each episode is a poll that found nothing
    CHECK(s.reader->waits() > 0);               // and the reader, two chunks ahead, waited for the consumer too
}

TEST_CASE("a trace changed under its reader stops the replay with a message; what was sent was read whole", "[unit][replay]") {
    TempDir dir;
    const std::string path = (dir / "t.pcap").string();
    write_trace(path, frames(300), false);
    Replay r = replay_of(fmt::format("{{replay: {}, pps: 1000, loop: 3}}", path));
    Streamed s(r, 4096, 2);
    write_trace(path, frames(200), false);  // shorter now: every pass holds fewer records than checked
    s.reader->start();
    ReplayCursor c(r, s.trace(), s.ring.get());
    c.begin(0);
    Taken got;
    ReplayBurst b;
    for (int spins = 0; spins < 1'000'000 && !c.abandoned(); ++spins) {
        const uint16_t n = c.take(UINT64_MAX, 32, b);
        for (uint16_t i = 0; i < n; ++i) got.seq.push_back(sequence_of(std::string(reinterpret_cast<const char *>(b.head(i)), b.len(i))));
        (void)c.next_ns();
        if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(10));
    }
    CHECK(c.abandoned());
    CHECK(c.next_ns() == UINT64_MAX);
    CHECK_FALSE(c.done());
    REQUIRE(s.reader->failed());
    CHECK_THAT(s.reader->error(), Catch::Contains("t.pcap: the trace changed while it was replayed (loop 1"));
    CHECK(got.seq.size() < 200);  // the last partial chunk is not published
    for (size_t i = 0; i < got.seq.size(); ++i) CHECK(got.seq[i] == i);
}

TEST_CASE("the replay plan: loaded when it fits, else streamed through floor(memory / chunk) chunks", "[unit][replay]") {
    ReplayShape shape;
    shape.count = 1000;
    shape.total_bytes = 1'000'000;
    shape.max_len_bytes = 1500;
    CHECK(shape.loaded_bytes() == 1'032'000);
    std::string error;
    const auto plan = [&](const std::string &keys, bool fits) {
        return plan_replay(replay_of("{replay: t.pcap" + keys + "}"), shape, fits, &error);
    };
    const auto fits = plan("", true);
    REQUIRE(fits);
    CHECK_FALSE(fits->streamed);
    CHECK(fits->memory_bytes == 1'032'000);
    const auto too_big = plan("", false);  // auto, and the budget cannot hold it whole
    REQUIRE(too_big);
    CHECK(too_big->streamed);
    CHECK(too_big->chunk_bytes == 1 << 20);
    CHECK(too_big->chunks == 64);
    CHECK(too_big->memory_bytes == kAutoStreamBytes);
    const auto given = plan(", memory: 1000000B, chunk: 64KiB", true);  // memory below the trace: streamed, whatever the host has
    REQUIRE(given);
    CHECK(given->streamed);
    CHECK(given->chunks == 15);
    CHECK(given->memory_bytes == 15 * 65536);
    const auto roomy = plan(", memory: 2MiB", false);  // memory holds it: loaded
    REQUIRE(roomy);
    CHECK_FALSE(roomy->streamed);
    shape.max_len_bytes = 9000;
    CHECK_FALSE(plan(", memory: 64KiB, chunk: 8KiB", true));
    CHECK_THAT(error, Catch::Contains("its largest frame (9000 bytes) does not fit a chunk of 8 KiB with its 96 bytes of header"));
}

TEST_CASE("a replay port's memory and chunk keys: loaded, printed back, errors positioned", "[unit][config][replay]") {
    const Replay plain = replay_of("{replay: t.pcap}");
    CHECK_FALSE(plain.memory_bytes);
    CHECK(plain.chunk_bytes == Replay::kDefaultChunkBytes);
    const Replay r = replay_of("{replay: t.pcap, memory: 256MiB, chunk: 64KiB}");
    CHECK(r.memory_bytes == std::optional<uint64_t>(256ULL << 20));
    CHECK(r.chunk_bytes == 65536);
    CHECK_FALSE(replay_of("{replay: t.pcap, memory: auto}").memory_bytes);
    LoadResult printed = load_config_text(
        to_yaml(*load_config_text(with_port("{replay: t.pcap, memory: 256MiB, chunk: 64KiB}"), "t.yaml").config), "t.yaml");
    REQUIRE(printed.config);
    CHECK(printed.config->ports[0].replay->memory_bytes == r.memory_bytes);
    CHECK(printed.config->ports[0].replay->chunk_bytes == 65536);

    // `  r: {replay: t.pcap, memory: VALUE}`: the value at column 31; chunk's at 30.
    require_one_port_error("{replay: t.pcap, memory: lots}", 2, 31, "ports.r.memory", "lots");
    require_one_port_error("{replay: t.pcap, memory: 2TiB}", 2, 31, "ports.r.memory", "out of range (up to 1TiB)");
    require_one_port_error("{replay: t.pcap, memory: 1MiB}", 2, 31, "ports.r.memory",
                           "1MiB holds fewer than two chunks of 1MiB (a trace larger than memory streams through at least two");
    require_one_port_error("{replay: t.pcap, chunk: 1KiB}", 2, 30, "ports.r.chunk",
                           "1KiB is out of range (4KiB to 1GiB, a multiple of 64 bytes)");
    require_one_port_error("{replay: t.pcap, chunk: 5000B}", 2, 30, "ports.r.chunk", "a multiple of 64 bytes");
    require_one_port_error("{device: net_null0, memory: 1GiB}", 2, 26, "ports.r.memory",
                           "\"memory\" belongs to a replay source, which this port is not (example: {replay: trace.pcap, memory: 256MiB})");
}

TEST_CASE("the memory budget counts a replay's trace or ring, and refuses one that does not fit", "[unit][memory][replay]") {
    LoadResult loaded = load_config_text(with_port("{replay: t.pcap}"), "t.yaml");
    REQUIRE(loaded.config);
    const Config &config = *loaded.config;
    DpdkCosts costs;
    costs.pool_bytes_per_port = 40ULL << 20;
    costs.eal_bytes = 32ULL << 20;
    const std::vector<ReplayMemory> loaded_trace = {{"r", 3ULL << 30, false, "a big trace"}};
    const std::vector<MemoryItem> items = memory_items(config, {}, RoutePlan{}, costs, loaded_trace);
    CHECK(items[1].name == "mbuf pools");
    CHECK(items[1].bytes == 40ULL << 20);  // one device port: the replay source has no pool
    const auto trace =
        std::find_if(items.begin(), items.end(), [](const MemoryItem &i) { return i.name == "port r: replay trace (loaded)"; });
    REQUIRE(trace != items.end());
    CHECK(trace->bytes == 3ULL << 30);
    CHECK(trace->kind == MemoryItem::Kind::kArena);

    MemoryHost host{true, 1ULL << 30, 0, 2ULL << 30};  // 1 GiB of hugepages, 2 GiB of ordinary memory
    const MemoryBudget refused = plan_memory(items, host);
    CHECK_FALSE(refused.fits);
    CHECK_THAT(refused.problem,
               Catch::Contains("ordinary memory is needed") && Catch::Contains("port r: replay trace (loaded) 3 GiB (a big trace)"));
    const std::vector<ReplayMemory> ring = {{"r", 64ULL << 20, true, "64 chunks of 1 MiB"}};
    const MemoryBudget streamed = plan_memory(memory_items(config, {}, RoutePlan{}, costs, ring), host);
    CHECK(streamed.fits);
    CHECK_THAT(budget_text(streamed, host),
               Catch::Contains("# memory: port r: replay ring (streamed trace): 64 MiB in hugepages (64 chunks of 1 MiB)"));
}

TEST_CASE("a replay's status line: packets so far, their rate, loops done, lateness p99, starvations", "[unit][replay]") {
    const Replay paced = replay_of("{replay: t.pcap, pps: 1000, loop: 3}");
    ReplayStats stats;
    ReplayTraceData d;
    d.entries = {{0, 0, 0, 100, 0}, {1000, 100, 100, 100, 0}};
    d.bytes.assign(200, 0);
    ReplayCursor c(paced, ReplayTrace::of(d));
    c.begin(0);
    ReplayBurst b;
    REQUIRE(c.take(UINT64_MAX, 32, b) == 6);
    stats.record(b, 6, 12'000'000, true, 1'000'000);  // 12 ms, 11 ms, ... 7 ms late
    stats.loops_so_far.store(c.loop());
    stats.starvations_so_far.store(1);
    CHECK(replay_status_line("r", paced, stats, 2, 2.0, true) ==
          "replay r: 6 packets replayed (2 pps), 3 loops done of 3, lateness p99 12 ms, starved 1 time");
    const Replay top = replay_of("{replay: t.pcap, topspeed: true, loop: forever}");
    CHECK(replay_status_line("r", top, stats, 0, 0.5, false) == "replay r: 6 packets replayed (12 pps), 3 loops done (looping forever)");
}
