// Streaming a replay trace that is not loaded whole (ports.NAME.memory,
// docs/CONFIG.md "Replay sources"; TCPivo's prefetching and double
// buffering): a reader thread on the control side reads the trace ahead
// into a ring of fixed-size chunks, and the replay stage takes records out
// of the chunks with no system call and no lock.
//
// The ring is single-producer (the reader) single-consumer (the replay
// stage's cursor, linkem/replay.hpp): two counters, chunks published
// (the reader's release store, the cursor's acquire load) and chunks
// released (the cursor's release store, the reader's acquire load). The
// reader writes chunk k only when k - released < chunks; the cursor reads
// chunk k only when k < published, and releases a chunk only at the start
// of its next take, when the burst that pointed into it has been copied
// into the lanes. A chunk:
//
//   [ChunkHeader, 64 B][ReplayEntry, 32 B][frame, padded to 8 B][ReplayEntry]...
//
// each entry's data_offset counting from the ring's first byte (so a
// ReplayBurst with bytes = the ring reads it as a loaded trace) and its
// stride_bytes the distance to the next entry. Records follow each other
// over loops: record i of loop k is the (k n + i)-th record written.
//
// No DPDK types: the caller gives the ring's memory (hugepages or locked
// memory in linkem, ordinary memory in linkem-sim and the tests).
#pragma once

#include "linkem/config.hpp"
#include "linkem/replay.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace linkem {

struct alignas(64) ChunkHeader {
    uint32_t records;  // in this chunk
    uint32_t used_bytes;
};

class ChunkRing {
  public:
    static constexpr uint64_t kHeaderBytes = sizeof(ChunkHeader);
    // The bytes a record of len_bytes takes in a chunk.
    static constexpr uint64_t record_bytes(uint64_t len_bytes) { return sizeof(ReplayEntry) + ((len_bytes + 7) & ~uint64_t{7}); }
    // Whether a chunk of chunk_bytes holds a record of len_bytes.
    static constexpr bool holds(uint64_t chunk_bytes, uint64_t len_bytes) { return kHeaderBytes + record_bytes(len_bytes) <= chunk_bytes; }

    // memory: chunks x chunk_bytes bytes, 64-byte aligned, at least 2 chunks; chunk_bytes a multiple of 64.
    ChunkRing(uint8_t *memory, uint64_t chunk_bytes, uint64_t chunks) : base_(memory), chunk_bytes_(chunk_bytes), chunks_(chunks) {}

    uint8_t *base() const { return base_; }
    uint64_t chunk_bytes() const { return chunk_bytes_; }
    uint64_t chunks() const { return chunks_; }
    uint8_t *chunk(uint64_t k) const { return base_ + (k % chunks_) * chunk_bytes_; }

    // Producer: chunk `published()` may be written when this is true.
    bool room() const { return published_.load(std::memory_order_relaxed) - released_.load(std::memory_order_acquire) < chunks_; }
    void publish() { published_.store(published_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
    // Producer: nothing more will come (the trace's end, or the reader failed or stopped).
    void close() { closed_.store(true, std::memory_order_release); }

    // Consumer: chunks below published() may be read; release(k) gives back every chunk below k.
    uint64_t published() const { return published_.load(std::memory_order_acquire); }
    void release(uint64_t k) {
        if (k != released_.load(std::memory_order_relaxed)) released_.store(k, std::memory_order_release);
    }
    bool closed() const { return closed_.load(std::memory_order_acquire); }
    uint64_t released() const { return released_.load(std::memory_order_acquire); }

  private:
    uint8_t *const base_;
    const uint64_t chunk_bytes_, chunks_;
    alignas(64) std::atomic<uint64_t> published_{0};
    alignas(64) std::atomic<uint64_t> released_{0};
    alignas(64) std::atomic<bool> closed_{false};
};

// How a replay holds its trace (decided before EAL, linkem/memory_budget.hpp counts it).
struct ReplayPlan {
    ReplayShape shape;
    bool streamed = false;
    uint64_t memory_bytes = 0;  // loaded: the trace (index + frames); streamed: the ring
    uint64_t chunk_bytes = 0, chunks = 0;
};

// A replay with `memory: SIZE` streams when its trace (shape.loaded_bytes())
// is larger, through floor(SIZE / chunk) chunks; without it (auto) it is
// loaded when whole_fits (the memory budget says the host holds it), else
// streamed through kAutoStreamBytes. nullopt with *error when the chunk
// cannot hold the trace's largest record.
constexpr uint64_t kAutoStreamBytes = 64ULL << 20;
std::optional<ReplayPlan> plan_replay(const Replay &config, const ReplayShape &shape, bool whole_fits, std::string *error);

// The reader thread: reads the trace (replay.hpp's walk, every record checked
// again) loop after loop into the ring, waiting while the ring is full.
class ReplayReader {
  public:
    ReplayReader(const Replay &config, const ReplayShape &shape, ChunkRing &ring) : config_(config), shape_(shape), ring_(ring) {}
    ~ReplayReader() { stop(); }
    ReplayReader(const ReplayReader &) = delete;
    ReplayReader &operator=(const ReplayReader &) = delete;

    void start();
    // Until the ring is full or the reader is done (before the replay's start: the read-ahead).
    void wait_read_ahead() const;
    void stop();
    // The trace could not be read again (changed or gone since it was checked): error() says why.
    bool failed() const { return failed_.load(std::memory_order_acquire); }
    std::string error() const;
    uint64_t chunks_written() const { return chunks_written_.load(std::memory_order_relaxed); }
    uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }  // times it found the ring full

  private:
    void run();
    bool append(const ReplayEntry &e, const std::string &bytes);
    bool flush();
    void fail(std::string message);

    const Replay config_;
    const ReplayShape shape_;
    ChunkRing &ring_;
    std::thread thread_;
    std::atomic<bool> stop_{false}, failed_{false}, finished_{false};
    std::atomic<uint64_t> chunks_written_{0}, waits_{0};
    mutable std::mutex error_mutex_;
    std::string error_;
    uint8_t *fill_ = nullptr;  // the chunk being written (reader thread only)
    uint64_t used_ = 0;
    uint32_t records_ = 0;
};

}  // namespace linkem
