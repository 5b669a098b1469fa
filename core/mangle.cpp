#include "linkem/mangle.hpp"

#include "linkem/link_model.hpp"

#include <cmath>

namespace linkem {

Chance Chance::of(double p) {
    if (!(p > 0)) return Chance{0};  // also NaN
    if (p >= 1) return Chance{UINT64_MAX};
    // p < 1 is at most 1 - 2^-53, so p * 2^64 is below 2^64 and converts exactly.
    return Chance{static_cast<uint64_t>(std::ldexp(p, 64))};
}

lkm_rng seeded_rng(uint64_t seed) {
    lkm_rng rng;
    for (uint64_t i = 0; i < 4; ++i) rng.s[i] = mix_seed(seed, i);
    return rng;
}

Corruptor Corruptor::per_packet(double p, uint64_t seed) {
    Corruptor c(Mode::kPerPacket, seed);
    c.chance_ = Chance::of(p);
    return c;
}

Corruptor Corruptor::bit_error_rate(double ber, uint64_t seed) {
    Corruptor c(Mode::kBitErrorRate, seed);
    if (ber > 0) {
        c.log_keep_bit_ = std::log1p(-std::fmin(ber, 1.0));  // -inf at ber = 1: every gap is 0
        c.bits_to_next_ = c.draw_gap();
    }
    return c;
}

// Geometric on {0, 1, ...}: floor(log(U) / log(1 - ber)) with U uniform in (0, 1].
uint64_t Corruptor::draw_gap() {
    const double gap = std::floor(std::log1p(-lkm_rng_uniform(&rng_)) / log_keep_bit_);
    constexpr double kCap = 0x1p62;  // far beyond any run of traffic; keeps the sums below from overflowing
    return gap < kCap ? static_cast<uint64_t>(gap) : static_cast<uint64_t>(kCap);
}

uint32_t Corruptor::apply(uint8_t *frame, uint32_t len) {
    if (mode_ == Mode::kPerPacket) {
        if (!chance_.draw(&rng_) || len == 0) return 0;
        // One draw picks both: the byte from the high 32 bits (multiply-shift), the bit from the low 3.
        const uint64_t r = lkm_rng_next(&rng_);
        frame[((r >> 32) * len) >> 32] ^= static_cast<uint8_t>(1u << (r & 7));
        return 1;
    }
    if (log_keep_bit_ == 0) return 0;  // ber 0
    const uint64_t bits = uint64_t{len} * 8;
    uint64_t pos = bits_to_next_;
    uint32_t flipped = 0;
    while (pos < bits) {
        frame[pos >> 3] ^= static_cast<uint8_t>(1u << (pos & 7));
        ++flipped;
        pos += draw_gap() + 1;
    }
    bits_to_next_ = pos - bits;
    return flipped;
}

namespace {

constexpr uint8_t kNotEct = 0, kCe = 3;

// The ECN field is in byte 1 of the IP header for both versions; returns its
// shift there, or -1 when the header is not whole inside the frame or is not
// of ip_version.
int ecn_shift(const uint8_t *frame, uint32_t len, uint16_t l3_offset, uint8_t ip_version) {
    if (ip_version != 4 && ip_version != 6) return -1;
    const uint32_t room = len > l3_offset ? len - l3_offset : 0;
    if (room < (ip_version == 4 ? 20u : 40u)) return -1;
    const uint8_t *ip = frame + l3_offset;
    if ((ip[0] >> 4) != ip_version) return -1;
    if (ip_version == 6) return 4;                   // version(4) | traffic class(8) | flow label(20): ECN is bits 5-4 of byte 1
    const uint32_t header = (ip[0] & 0x0fu) * 4u;    // IHL
    return header >= 20 && header <= room ? 0 : -1;  // TOS byte: DSCP in bits 7-2, ECN in bits 1-0
}

// Ones' complement 16-bit sum with the carries folded back in.
uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

}  // namespace

bool ecn_capable(const uint8_t *frame, uint32_t len, uint16_t l3_offset, uint8_t ip_version) {
    const int shift = ecn_shift(frame, len, l3_offset, ip_version);
    return shift >= 0 && ((frame[l3_offset + 1] >> shift) & 3u) != kNotEct;
}

bool mark_ce(uint8_t *frame, uint32_t len, uint16_t l3_offset, uint8_t ip_version) {
    const int shift = ecn_shift(frame, len, l3_offset, ip_version);
    if (shift < 0) return false;
    uint8_t *ip = frame + l3_offset;
    const unsigned ecn = (ip[1] >> shift) & 3u;
    if (ecn == kNotEct) return false;
    if (ecn == kCe) return true;
    if (ip_version == 6) {  // IPv6 has no header checksum
        ip[1] = static_cast<uint8_t>(ip[1] | (kCe << shift));
        return true;
    }
    // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m the 16-bit word holding the TOS byte.
    const uint16_t old_word = static_cast<uint16_t>(ip[0] << 8 | ip[1]);
    ip[1] = static_cast<uint8_t>(ip[1] | kCe);
    const uint16_t new_word = static_cast<uint16_t>(ip[0] << 8 | ip[1]);
    const uint16_t old_sum = static_cast<uint16_t>(ip[10] << 8 | ip[11]);
    const uint16_t new_sum =
        static_cast<uint16_t>(~fold(uint32_t{static_cast<uint16_t>(~old_sum)} + static_cast<uint16_t>(~old_word) + new_word));
    ip[10] = static_cast<uint8_t>(new_sum >> 8);
    ip[11] = static_cast<uint8_t>(new_sum);
    return true;
}

}  // namespace linkem
