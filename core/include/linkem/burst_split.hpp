// A burst split into runs of packets that share a key (the rx stage: the
// packets of one path, split by their flow's instance), each run in arrival
// order, for run-by-run processing (docs/ARCHITECTURE.md "Data path").
//
// Contract: n <= 65536 positions; key_of(j) is a whole number below 2^32,
// called once per position; run(positions, count) is called once per distinct
// key, with that key's positions in increasing order. O(n log n) in the burst
// size (a sort of n 64-bit words), whatever the number of keys; no allocation.
#pragma once

#include <algorithm>
#include <cstdint>

namespace linkem {

template <uint32_t kMaxN, class KeyOf, class Run>
void for_each_key_run(uint32_t n, KeyOf key_of, Run run) {
    static_assert(kMaxN <= 65536, "positions are 16 bits");
    uint64_t sorted[kMaxN];  // (key << 16) | position: sorting them groups keys and keeps arrival order within each
    for (uint32_t j = 0; j < n; ++j) sorted[j] = (uint64_t{key_of(j)} << 16) | j;
    std::sort(sorted, sorted + n);
    uint16_t positions[kMaxN];
    for (uint32_t start = 0; start < n;) {
        const uint64_t key = sorted[start] >> 16;
        uint32_t count = 0;
        for (; start < n && sorted[start] >> 16 == key; ++start) positions[count++] = static_cast<uint16_t>(sorted[start] & 0xFFFF);
        run(static_cast<const uint16_t *>(positions), count);
    }
}

}  // namespace linkem
