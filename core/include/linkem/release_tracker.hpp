// How faithfully a link's tx side releases packets, measured per packet on
// the tx lcore (docs/ARCHITECTURE.md "Fidelity"):
//
//  - lateness: actual transmit time minus release time, into a histogram, and
//    a count of packets later than the tolerance;
//  - order: packets transmitted after one that took the link later (their
//    LinkTag sequence steps back): 0 unless something reorders;
//  - rate while backlogged: for each packet that waited for the link and
//    directly follows the previous packet on it (sequence + 1), its wire
//    bytes, the actual time since the previous transmission and the model's
//    time since the previous release. Summed over a run, bytes over actual
//    time is the achieved rate and bytes over model time the configured one,
//    for any bandwidth model (constant, trace, schedule). A runtime change
//    skips a sequence number (LinkModel::change), so the pair that straddles
//    it, whose releases differ by the change of delay too, is left out.
//
// Contract: one ReleaseTracker per link, used only by the link's tx lcore;
// observe() is a few instructions and touches only the tracker and the tally,
// which the caller adds to the link's counters once per burst.
#pragma once

#include "linkem/histogram.hpp"
#include "linkem/link_model.hpp"
#include "linkem/stats.hpp"

#include <cstdint>

namespace linkem {

// What one burst adds to the counters.
struct ReleaseTally {
    uint64_t late = 0;
    uint64_t out_of_order = 0;
    uint64_t backlogged_wire_bytes = 0;
    uint64_t backlogged_sent_ns = 0;
    uint64_t backlogged_model_ns = 0;
    uint64_t lateness_sum_ns = 0;  // added to the lateness histogram's sum once per burst
};

// Adds a burst's tally to the link's tx counters (one store per non-zero field).
inline void add_tally(TxCounters &tx, const ReleaseTally &tally) {
    tx.lateness_ns.add_sum(tally.lateness_sum_ns);
    if (tally.late != 0) tx.late.add(tally.late);
    if (tally.out_of_order != 0) tx.out_of_order.add(tally.out_of_order);
    if (tally.backlogged_wire_bytes != 0) {
        tx.backlogged_wire_bytes.add(tally.backlogged_wire_bytes);
        tx.backlogged_sent_ns.add(tally.backlogged_sent_ns);
        tx.backlogged_model_ns.add(tally.backlogged_model_ns);
    }
}

class ReleaseTracker {
  public:
    ReleaseTracker(uint64_t tolerance_ns, uint32_t overhead_bytes) : tolerance_ns_(tolerance_ns), overhead_bytes_(overhead_bytes) {}

    // [control side] A runtime change's new overhead, for the packets sent from
    // now on (those in flight were admitted with the old one: a slip of one delay).
    void set_overhead(uint32_t overhead_bytes) { overhead_bytes_.store(overhead_bytes, std::memory_order_relaxed); }

    // One packet handed to the port at sent_ns (>= release_ns).
    void observe(uint64_t release_ns, uint32_t tag, uint32_t len_bytes, uint64_t sent_ns, Histogram &lateness_ns, ReleaseTally &tally) {
        const uint64_t late = sent_ns - release_ns;
        lateness_ns.record_in_burst(late);
        tally.lateness_sum_ns += late;
        tally.late += late > tolerance_ns_ ? 1 : 0;

        const uint32_t sequence = LinkTag::sequence(tag);
        const uint32_t step = (sequence - last_sequence_) & LinkTag::kSequenceMask;
        if (started_ && step > LinkTag::kSequenceMask / 2) {  // a step back: it overtook nothing, something overtook it
            ++tally.out_of_order;
            return;  // the furthest packet so far stays the reference
        }
        if (started_ && step == 1 && LinkTag::waited(tag)) {
            tally.backlogged_wire_bytes += wire_length(len_bytes, overhead_bytes_.load(std::memory_order_relaxed));
            tally.backlogged_sent_ns += sent_ns - last_sent_ns_;
            tally.backlogged_model_ns += release_ns - last_release_ns_;
        }
        started_ = true;
        last_sequence_ = sequence;
        last_sent_ns_ = sent_ns;
        last_release_ns_ = release_ns;
    }

  private:
    const uint64_t tolerance_ns_;
    std::atomic<uint32_t> overhead_bytes_;  // a plain load on x86
    bool started_ = false;
    uint32_t last_sequence_ = 0;
    uint64_t last_sent_ns_ = 0;
    uint64_t last_release_ns_ = 0;
};

}  // namespace linkem
