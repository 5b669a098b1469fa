// The egress step of the pipeline: what is due at one destination port,
// taken from every lane that ends there, and settled once the caller has
// delivered what it could.
//
//   take_due():   every record whose release time has come, from each lane
//                 (at most a burst), merged into release-time order across
//                 lanes; the records stay in their arenas until settled.
//   settle_due(): observes each delivered record once for its link's
//                 fidelity figures (lateness, order, rate) at the time its
//                 burst was handed over, counts the rest as tx_full on their
//                 links, and gives the arenas' space back.
//
// The caller does the delivery: the emulator copies the records into mbufs
// and sends them; linkem-sim writes them to a capture, stamped with their
// release times. Time is an argument, never read here.
//
// Contract: one thread per EgressRuntime (pipeline.hpp); no locks,
// allocation, system calls or logs.
#pragma once

#include "linkem/pipeline.hpp"

#include <cstdint>

namespace linkem {

// One burst of due records, in release-time order.
struct DueBurst {
    const ArenaRecord *record[kMaxBurst];
    Lane *lane_of[kMaxBurst];  // record[i] is in lane_of[i]
    uint32_t n = 0;
    Lane *used[kMaxBurst];  // the lanes records were taken from
    uint32_t lanes_used = 0;
};

// Takes up to `burst` (<= kMaxBurst) records released at or before now_ns.
// Returns due.n.
uint32_t take_due(EgressRuntime &out, uint64_t now_ns, uint32_t burst, DueBurst &due);

// delivered[0..n_delivered) are indexes into due.record, in the order they
// were delivered, at sent_ns. Every other record of the burst is counted as
// tx_full. The burst is done with afterwards (its records' space is reused).
void settle_due(DueBurst &due, const uint32_t *delivered, uint32_t n_delivered, uint64_t sent_ns);

}  // namespace linkem
