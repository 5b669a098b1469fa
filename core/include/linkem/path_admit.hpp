// A burst through a path of links (a chain: rules' `chain:`), computed at
// arrival, hop after hop: a packet's release time from one link is its arrival
// time at the next (docs/ARCHITECTURE.md "Data path"). Each hop's link model
// decides every packet's fate once; what one hop drops never reaches the next.
//
// Contract: the same as LinkModel::admit_burst() for every hop (arrival times
// never decrease, n <= kMaxBurst, one lcore); no allocation.
#pragma once

#include "linkem/link_model.hpp"

#include <cstddef>
#include <cstdint>

namespace linkem {

// Keeps the packets verdicts[] forwards, in order: each one's arrival at the
// next hop is its release time from this one, and ce[] collects this hop's
// CE marks. Returns how many are kept.
inline uint32_t keep_forwarded(PacketIn *in, Verdict *verdicts, uint16_t *at, bool *ce, uint32_t n) {
    uint32_t kept = 0;
    for (uint32_t j = 0; j < n; ++j) {
        if (verdicts[j].fate != Fate::kForward) continue;
        in[kept] = {verdicts[j].release_ns, in[j].len_bytes, in[j].ecn_capable};  // exit of this hop = arrival at the next
        at[kept] = at[j];
        ce[kept] = ce[j] || verdicts[j].ce_marked;
        verdicts[kept++] = verdicts[j];
    }
    return kept;
}

// hop(h) is the LinkModel of hop h (0 .. hop_count-1, at least 1). On entry
// in[0..n) are the packets at the first hop, at[0..n) whatever the caller uses
// to name them (carried along), ce[0..n) false. first_hop_room limits what
// the first hop forwards (LinkModel's `room`): the last hop's arena, reserved
// before any link time is taken. After each hop, observe(h, in, verdicts, n)
// sees that hop's n packets and verdicts. Between hops the drops are removed
// (keep_forwarded); the last hop's are not, so the caller looks at each
// verdict once. Returns the number of packets that reached the last hop:
// in[j], at[j] and verdicts[j] are theirs there (verdicts[j].fate says which
// left it), and ce[j] whether an earlier hop marked the packet Congestion
// Experienced (the last hop's mark is in verdicts[j].ce_marked).
template <class HopModel, class Observe>
uint32_t admit_along_path(HopModel hop, size_t hop_count, PacketIn *in, Verdict *verdicts, uint16_t *at, bool *ce, uint32_t n,
                          uint64_t first_hop_room, Observe observe) {
    for (size_t h = 0; n != 0; ++h) {
        hop(h).admit_burst(in, n, verdicts, h == 0 ? first_hop_room : UINT64_MAX);
        observe(h, static_cast<const PacketIn *>(in), static_cast<const Verdict *>(verdicts), n);
        if (h + 1 == hop_count) break;
        n = keep_forwarded(in, verdicts, at, ce, n);
    }
    return n;
}

}  // namespace linkem
