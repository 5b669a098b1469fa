// Packet manglers: pure functions on a frame's bytes, plus a little per-link
// state (a random stream). Free of DPDK so they run in tests and in
// linkem-sim; the data path hands them the mbuf's data pointer and length.
//
// Contracts:
//  - Chance: a Bernoulli draw with its threshold precomputed, so a decision is
//    one lkm_rng_next() and one compare. p <= 0 (or NaN) never, p >= 1 always.
//  - Corruptor: flips bits of a frame and leaves every checksum wrong, as a
//    noisy wire does (the receiver's checks are what is being tested).
//      per_packet(p):     with probability p, one bit of the frame, chosen
//                         uniformly, is flipped (netem's "corrupt").
//      bit_error_rate(b): every bit is flipped independently with
//                         probability b. The frames are seen as one stream
//                         of bits: the gap to the next flipped bit is drawn
//                         from the geometric distribution and carried from
//                         one frame to the next, so the cost is one draw
//                         per flipped bit, not one per bit or per frame.
//    apply() returns the number of bits it flipped in this frame; a frame of
//    length 0 is never touched.
//  - ecn_capable / mark_ce: the IP header starts at frame + l3_offset and
//    ip_version (4 or 6, from the caller's parse) says which. The header must
//    lie whole inside len (for IPv4 the IHL's length, at least 20 bytes; for
//    IPv6, 40 bytes) and carry that version, else the packet is treated as
//    not ECN-capable; nothing past len is ever read.
//      ecn_capable: ECN field is ECT(0), ECT(1) or CE.
//      mark_ce:     sets CE on an ECT(0) or ECT(1) packet and returns true;
//                   an IPv4 header checksum is updated incrementally
//                   (RFC 1624, eqn. 3), as a router does, and the DSCP (and
//                   IPv6 flow label) are unchanged. Already CE: true, frame
//                   untouched. Not-ECT or not a valid header: false, frame
//                   untouched.
// Everything here runs per packet on the data path: no allocation, no
// exceptions, no system calls.
//
// Probabilities elsewhere are linkem::Probability: pass p.value() when
// constructing.
#pragma once

#include <linkem/plugin.h>

#include <cstdint>

namespace linkem {

struct Chance {
    uint64_t threshold = 0;  // P(true) = threshold / 2^64, except UINT64_MAX: always

    static Chance of(double p);
    bool draw(lkm_rng *rng) const {
        const uint64_t r = lkm_rng_next(rng);  // drawn even when p is 0 or 1, so the stream does not depend on p
        return r < threshold || threshold == UINT64_MAX;
    }
};

// A stream seeded from one 64-bit seed (splitmix64 for each of the four words).
lkm_rng seeded_rng(uint64_t seed);

class Corruptor {
  public:
    static Corruptor per_packet(double p, uint64_t seed);
    static Corruptor bit_error_rate(double ber, uint64_t seed);

    uint32_t apply(uint8_t *frame, uint32_t len);

  private:
    enum class Mode { kPerPacket, kBitErrorRate };
    Corruptor(Mode mode, uint64_t seed) : mode_(mode), rng_(seeded_rng(seed)) {}
    uint64_t draw_gap();  // unflipped bits before the next flipped one

    Mode mode_;
    lkm_rng rng_;
    Chance chance_;              // kPerPacket
    double log_keep_bit_ = 0;    // kBitErrorRate: log(1 - ber); 0 when ber is 0 (never flips)
    uint64_t bits_to_next_ = 0;  // kBitErrorRate: unflipped bits left before the next flip
};

bool ecn_capable(const uint8_t *frame, uint32_t len, uint16_t l3_offset, uint8_t ip_version);
bool mark_ce(uint8_t *frame, uint32_t len, uint16_t l3_offset, uint8_t ip_version);

}  // namespace linkem
