// The replay stage (docs/ARCHITECTURE.md "Replay"): a replay source port's rx
// role. Each poll it admits, through the same admit_burst as any port, the
// trace records whose scheduled time has come, each with its scheduled time
// as its arrival time; what it did goes into its ReplayStats.
#pragma once

#include "linkem/pipeline.hpp"
#include "linkem/replay.hpp"
#include "linkem/replay_stream.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace linkem {

struct RxPort;
struct LcoreTask;

struct ReplayPort {
    // ring: a streamed trace's chunks (its reader fills them), nullptr when loaded.
    ReplayPort(const Replay &config, const ReplayTrace &t, uint64_t tolerance, std::unique_ptr<ChunkRing> chunk_ring = nullptr)
        : trace(t),
          ring(std::move(chunk_ring)),
          cursor(config, t, ring.get()),
          topspeed(config.pace == Replay::Pace::kTopspeed),
          tolerance_ns(tolerance) {}
    ~ReplayPort() {
        if (reader) reader->stop();  // before the ring goes
    }
    const ReplayTrace trace;
    std::unique_ptr<ChunkRing> ring;
    std::unique_ptr<ReplayReader> reader;  // the control side's reader thread, when streamed
    ReplayCursor cursor;                   // the replay stage's lcore only
    ReplayStats stats;                     // written by the replay stage's lcore
    const bool topspeed;
    const uint64_t tolerance_ns;  // stats.lateness_tolerance
    std::string memory;           // where the trace is: "hugepages" or "ordinary memory"
    // topspeed into one plain link: no more than its lane has room for (in
    // records of the trace's longest frame), so the source does not overrun
    // the link it feeds (nullptr: rules or a per-flow template; no limit).
    Lane *room_lane = nullptr;
    uint32_t max_len_bytes = 0;
    // The next record's scheduled time (UINT64_MAX when done), stored after
    // each poll for the tx lcores' naps: no packet of this source arrives sooner.
    std::atomic<uint64_t> next_ns{0};
};

// Admits what is due from in.replay (at most a burst); returns how many.
// [lcore, hot path: no allocation, no locks, no system calls]
uint32_t replay_stage(RxPort &in, const LcoreTask &task);

}  // namespace linkem
