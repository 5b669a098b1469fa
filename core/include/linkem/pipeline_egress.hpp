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
#include "linkem/pipeline_ingress.hpp"  // kArenaPrefetchBytes

#include <algorithm>

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
inline uint32_t take_due(EgressRuntime &out, uint64_t now_ns, uint32_t burst, DueBurst &due) {
    uint32_t n = 0, lanes_used = 0;
    for (Lane *lane : out.lanes) {
        const uint32_t before = n;
        for (const ArenaRecord *r; n < burst && (r = lane->arena.front()) != nullptr && r->release_ns <= now_ns; lane->arena.pop()) {
            if (n == before) lane->arena.prefetch_ahead(kArenaPrefetchBytes);
            due.lane_of[n] = lane;
            due.record[n++] = r;
        }
        if (n != before) due.used[lanes_used++] = lane;
        if (n == burst) break;
    }
    due.n = n;
    due.lanes_used = lanes_used;
    if (lanes_used > 1) {  // merge the lanes' runs (each already in release order) by release time
        uint32_t order[kMaxBurst];
        for (uint32_t i = 0; i < n; ++i) order[i] = i;
        // Ties keep the order taken (index as the second key): the order of
        // std::stable_sort, without the buffer it may allocate.
        std::sort(order, order + n, [&](uint32_t a, uint32_t b) {
            const uint64_t ra = due.record[a]->release_ns, rb = due.record[b]->release_ns;
            return ra != rb ? ra < rb : a < b;
        });
        const ArenaRecord *sorted_record[kMaxBurst];
        Lane *sorted_lane[kMaxBurst];
        for (uint32_t i = 0; i < n; ++i) {
            sorted_record[i] = due.record[order[i]];
            sorted_lane[i] = due.lane_of[order[i]];
        }
        std::copy(sorted_record, sorted_record + n, due.record);
        std::copy(sorted_lane, sorted_lane + n, due.lane_of);
    }
    return n;
}

namespace egress_detail {

// The sums for one link over a burst, added to its counters at once.
struct LinkTxSums {
    LinkRuntime *link = nullptr;
    uint64_t packets = 0, bytes = 0;
    ReleaseTally tally;
    void flush() {
        if (link == nullptr) return;
        link->tx.packets.add(packets);
        link->tx.bytes.add(bytes);
        add_tally(link->tx, tally);
        *this = {};
    }
};

}  // namespace egress_detail

// delivered[0..n_delivered) are indexes into due.record, in the order they
// were delivered, at sent_ns. Every other record of the burst is counted as
// tx_full. The burst is done with afterwards (its records' space is reused).
inline void settle_due(DueBurst &due, const uint32_t *delivered, uint32_t n_delivered, uint64_t sent_ns) {
    egress_detail::LinkTxSums sums;
    for (uint32_t k = 0; k < n_delivered; ++k) {
        const ArenaRecord &r = *due.record[delivered[k]];
        LinkRuntime *link = due.lane_of[delivered[k]]->link;
        if (link != sums.link) {
            sums.flush();
            sums.link = link;
        }
        ++sums.packets;
        sums.bytes += r.len_bytes;
        link->release.observe(r.release_ns, r.tag, r.len_bytes, sent_ns, link->tx.lateness_ns, sums.tally);
    }
    sums.flush();
    if (n_delivered < due.n) {  // the rare path: per packet, to the right link
        bool sent[kMaxBurst] = {};
        for (uint32_t k = 0; k < n_delivered; ++k) sent[delivered[k]] = true;
        for (uint32_t i = 0; i < due.n; ++i)
            if (!sent[i]) due.lane_of[i]->link->tx.drop_tx_full.add(1);
    }
    for (uint32_t u = 0; u < due.lanes_used; ++u)
        due.used[u]->arena.publish_consumed();  // copied out and observed: the space is free again
    due.n = 0;
    due.lanes_used = 0;
}

}  // namespace linkem
