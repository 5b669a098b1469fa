// A replay source (ports.NAME.replay): a capture's packets, read into memory
// before the start (or streamed through a ring of chunks when it is not
// loaded whole: linkem/replay_stream.hpp), entering the links at their
// scheduled times.
//
// The schedule is a pure function of the configuration and the trace, in
// integer nanoseconds after the replay's base (linkem's start, or 0 in
// linkem-sim), so linkem and linkem-sim compute the same time for every
// packet; both admit each packet with arrival_ns = its scheduled time (not
// the time linkem got to it), so the link models see the same arrivals and
// decide the same fates. For record i (0-based) of loop k (0-based), with
// the trace's n records recorded at r_i after the first, span r_{n-1}:
//   speed s:   start + (k (span + span/(n-1)) + r_i) / s   (a loop restarts one mean gap after the last)
//   pps p:     start + (k n + i) / p
//   rate R:    start + 8 (k B + b_i) / R   (b_i: the bytes of the records before i, B: all of them)
//   topspeed:  start (linkem admits each packet when it gets to it, and that is its arrival time)
// Each product is taken in 128 bits and divided once, so nothing drifts
// over loops.
//
// Threads: a ReplayCursor and its ReplayStats are used by one thread (the
// replay stage's lcore); the control thread reads the stats after the lcores
// stop, and `done` at any time (release/acquire).
#pragma once

#include "linkem/config.hpp"
#include "linkem/histogram.hpp"
#include "linkem/stats.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace linkem {

// One record of a trace: when it was recorded, where its bytes are.
struct ReplayEntry {
    uint64_t recorded_ns;   // after the trace's first record
    uint64_t bytes_before;  // the bytes of every record before it (rate pacing)
    uint64_t data_offset;   // into the trace's bytes
    uint32_t len_bytes;
    uint32_t stride_bytes;  // streamed: from this entry to the next in its chunk; loaded: 0
};

// What a pass over a trace finds, without keeping its frames.
struct ReplayShape {
    uint64_t count = 0, span_ns = 0, total_bytes = 0;
    uint32_t max_len_bytes = 0;
    std::string format;  // "pcap (us)", "pcap (ns)", "pcapng"
    // Loaded whole: its index and its frames.
    uint64_t loaded_bytes() const { return count * sizeof(ReplayEntry) + total_bytes; }
};

// A trace as read, in ordinary memory (the emulator may copy it into hugepages).
struct ReplayTraceData {
    std::vector<ReplayEntry> entries;
    std::vector<uint8_t> bytes;
    uint64_t span_ns = 0;  // the last record's recorded_ns
    std::string format;    // "pcap (us)", "pcap (ns)", "pcapng"
};

// Reads every record of a pcap or pcapng capture (linkem/pcap_reader.hpp,
// every length checked before use). nullopt with *error set (naming the file
// and, for a malformed one, the byte offset) when it cannot be read, is
// malformed, is empty, goes back in time, or (looped at a speed) has one packet.
std::optional<ReplayTraceData> read_replay_trace(const Replay &config, std::string *error);

// The same pass, handing each record to each(entry, frame) (the entry's
// recorded_ns, bytes_before and len_bytes set) instead of keeping it; false
// from each stops the walk (nullopt, *error empty). Every check of
// read_replay_trace.
std::optional<ReplayShape> walk_replay_trace(const Replay &config,
                                             const std::function<bool(const ReplayEntry &, const std::string &)> &each, std::string *error);

// Where a trace lives while it is replayed.
struct ReplayTrace {
    const ReplayEntry *entries = nullptr;
    const uint8_t *bytes = nullptr;
    uint64_t count = 0;
    uint64_t span_ns = 0;
    uint64_t total_bytes = 0;

    static ReplayTrace of(const ReplayTraceData &d) {
        return {d.entries.data(), d.bytes.data(), d.entries.size(), d.span_ns, d.bytes.size()};
    }
};

// The schedule (above): ns after the base of record i in loop k.
class ReplaySchedule {
  public:
    ReplaySchedule(const Replay &config, const ReplayTrace &trace);
    uint64_t at(uint64_t loop, uint64_t i) const { return at(loop, i, entries_[i]); }
    // Record i (entry e) of loop k: the streamed form, the entry out of a chunk.
    uint64_t at(uint64_t loop, uint64_t i, const ReplayEntry &e) const;

  private:
    Replay::Pace pace_;
    uint64_t start_ns_, speed_ppb_, pps_, rate_bps_, period_ns_, count_, total_bytes_;
    const ReplayEntry *entries_;
};

// A burst of trace records as the pipeline's ingress step reads frames
// (pipeline_ingress.hpp), each with its scheduled time as its arrival.
struct ReplayBurst {
    const uint8_t *bytes = nullptr;
    const ReplayEntry *entry[kMaxBurst];
    uint64_t arrival[kMaxBurst];

    uint32_t len(uint16_t i) const { return entry[i]->len_bytes; }
    const uint8_t *head(uint16_t i) const { return bytes + entry[i]->data_offset; }
    uint32_t head_len(uint16_t i) const { return entry[i]->len_bytes; }
    void copy(uint16_t i, uint8_t *dst, uint32_t n) const { std::memcpy(dst, head(i), n); }
    uint64_t arrival_ns(uint16_t i) const { return arrival[i]; }
};

// The replay's position: the next record and its scheduled time (absolute:
// base + schedule). No allocation, no system call. Loaded: the records of
// the trace's index. Streamed (a ring, linkem/replay_stream.hpp): the
// records of the ring's chunks in order; take() first gives back the chunks
// the previous burst used, and when the next chunk is not there yet it stops
// (the stage starved: counted once until a chunk comes; its packets will be
// late, never wrong). `blocking` (linkem-sim) waits for the reader instead,
// so that next_ns() is always the next record's time.
class ChunkRing;
class ReplayCursor {
  public:
    ReplayCursor(const Replay &config, const ReplayTrace &trace, ChunkRing *ring = nullptr, bool blocking = false)
        : trace_(trace), schedule_(config, trace), loops_(config.loops), ring_(ring), blocking_(blocking) {}

    // Sets the base (linkem's start on its clock; 0 in linkem-sim) and rewinds
    // (streamed: once, before the first take).
    void begin(uint64_t base_ns) {
        base_ns_ = base_ns;
        loop_ = 0;
        index_ = 0;
        if (ring_ == nullptr) {
            next_ns_ = base_ns_ + schedule_.at(0, 0);
            return;
        }
        next_ns_ = base_ns_;  // until the first chunk is open
        open_next(false);
    }
    bool done() const { return loops_ && loop_ >= *loops_; }
    // The next record's scheduled time; UINT64_MAX when done (or abandoned). Streamed, when
    // the next chunk has not come yet: the last record's time (already due,
    // so that the stage looks again). Between bursts only (it gives back the
    // chunks the last burst used).
    uint64_t next_ns() {
        if (done()) {
            if (ring_ != nullptr) give_back();  // the last chunk too
            return UINT64_MAX;
        }
        if (ring_ != nullptr && left_ == 0) {
            give_back();
            if (!open_next(false) && abandoned()) return UINT64_MAX;  // the reader failed: nothing more will come
        }
        return next_ns_;
    }
    uint64_t loop() const { return loop_; }
    uint64_t starvations() const { return starvations_; }
    // Streamed: the reader closed the ring and every record it wrote is taken, before the end (it failed).
    bool abandoned() const;

    // Up to max records scheduled at or before until_ns, into b; returns how many.
    uint16_t take(uint64_t until_ns, uint16_t max, ReplayBurst &b) {
        if (ring_ != nullptr) return take_streamed(until_ns, max, b);
        b.bytes = trace_.bytes;
        uint16_t n = 0;
        while (n < max && !done() && next_ns_ <= until_ns) {
            b.entry[n] = &trace_.entries[index_];
            b.arrival[n] = next_ns_;
            ++n;
            if (++index_ == trace_.count) {
                index_ = 0;
                ++loop_;
            }
            if (!done()) next_ns_ = base_ns_ + schedule_.at(loop_, index_);
        }
        return n;
    }

  private:
    uint16_t take_streamed(uint64_t until_ns, uint16_t max, ReplayBurst &b);
    void give_back();
    bool open_next(bool count_starving);

    ReplayTrace trace_;
    ReplaySchedule schedule_;
    std::optional<uint64_t> loops_;
    uint64_t base_ns_ = 0, loop_ = 0, index_ = 0, next_ns_ = 0;
    // Streamed.
    ChunkRing *ring_;
    const bool blocking_;
    const ReplayEntry *cur_ = nullptr;  // the next record, in chunk opened_ - 1
    uint32_t left_ = 0;                 // records left in that chunk, cur_ included
    uint64_t opened_ = 0;               // chunks opened
    uint64_t starvations_ = 0;
    bool starving_ = false;
};

// What a replay did: written by its stage's thread.
struct ReplayStats {
    uint64_t packets = 0, bytes = 0;
    uint64_t first_scheduled_ns = 0, first_sent_ns = 0;  // of the first packet admitted
    uint64_t last_scheduled_ns = 0, last_sent_ns = 0;    // of the last
    uint64_t late = 0;                                   // admitted more than the lateness tolerance after its time
    Histogram lateness_ns;                               // admitted minus scheduled (none with topspeed)
    std::atomic<bool> done{false};                       // every loop admitted (release store)
    // For the status lines and SIGUSR1 while the stage runs (relaxed stores after each burst).
    std::atomic<uint64_t> packets_so_far{0}, loops_so_far{0}, starvations_so_far{0};

    // One burst, admitted at sent_ns.
    void record(const ReplayBurst &b, uint16_t n, uint64_t sent_ns, bool measure_lateness, uint64_t tolerance_ns) {
        if (n == 0) return;
        if (packets == 0) first_scheduled_ns = b.arrival[0], first_sent_ns = sent_ns;
        uint64_t sum = 0, burst_bytes = 0;
        for (uint16_t i = 0; i < n; ++i) {
            burst_bytes += b.entry[i]->len_bytes;
            if (!measure_lateness) continue;
            const uint64_t late_ns = sent_ns > b.arrival[i] ? sent_ns - b.arrival[i] : 0;
            lateness_ns.record_in_burst(late_ns);
            sum += late_ns;
            late += late_ns > tolerance_ns ? 1 : 0;
        }
        lateness_ns.add_sum(sum);
        packets += n;
        bytes += burst_bytes;
        last_scheduled_ns = b.arrival[n - 1];
        last_sent_ns = sent_ns;
        packets_so_far.store(packets, std::memory_order_relaxed);
    }
};

// A replay's figures for the summary and the JSON.
struct ReplayReport {
    std::string port, file, pace, memory;  // memory: where the trace was held ("hugepages", "ordinary memory", "" in linkem-sim)
    bool streamed = false;                 // through a ring of chunks
    uint64_t ring_bytes = 0, chunk_bytes = 0, chunks_read = 0, starvations = 0;
    uint64_t records = 0, trace_bytes = 0, trace_span_ns = 0;
    std::optional<uint64_t> loops;  // configured; none: forever
    bool virtual_time = false;      // linkem-sim: on schedule by construction
    bool topspeed = false;
    bool done = false;
    uint64_t packets = 0, bytes = 0;
    uint64_t schedule_span_ns = 0;  // last scheduled minus first scheduled, of the packets admitted
    uint64_t duration_ns = 0;       // last admitted minus first admitted
    double drift_ppm = 0;           // (duration - schedule span) / schedule span, x 10^6
    uint64_t late = 0, tolerance_ns = 0;
    uint64_t lateness_p50_ns = 0, lateness_p99_ns = 0, lateness_p999_ns = 0, lateness_max_ns = 0;
};

ReplayReport replay_report(const Port &port, const ReplayTrace &trace, const ReplayStats &stats, uint64_t tolerance_ns);
std::string replay_pace_text(const Replay &r);           // "speed 2", "10000 pps", "rate 10Mbit/s", "topspeed"
std::string replay_summary_text(const ReplayReport &r);  // lines for the summary
Json replay_json(const ReplayReport &r);                 // one element of the JSON's "replay" list
// A status line while the replay runs (--stats-interval, SIGUSR1): packets
// so far and their rate over the interval, loops done, lateness p99 so far
// (a torn view of the stage's histogram), starvations when streamed.
std::string replay_status_line(const std::string &port, const Replay &config, const ReplayStats &stats, uint64_t packets_before,
                               double seconds, bool streamed);

}  // namespace linkem
