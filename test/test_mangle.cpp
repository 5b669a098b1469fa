// [unit] The packet manglers (linkem/mangle.hpp): Bernoulli draws, bit
// corruption per packet and by bit error rate, and ECN marking. Seeds are
// fixed; every statistical check states its tolerance, 5 sigma (two-sided
// tail about 6e-7) or a chi-square bound of like tail.
#include "linkem/mangle.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

using namespace linkem;

namespace {

uint32_t bits_differing(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
    uint32_t n = 0;
    for (size_t i = 0; i < a.size(); ++i) n += static_cast<uint32_t>(std::popcount(static_cast<uint8_t>(a[i] ^ b[i])));
    return n;
}

// |measured - expected| within 5 sigma of a binomial count of n trials of p.
bool within_5_sigma(double measured, double n, double p) { return std::abs(measured - n * p) < 5 * std::sqrt(n * p * (1 - p)); }

double chi_square(const std::vector<double> &observed, double expected_each) {
    double chi2 = 0;
    for (double o : observed) chi2 += (o - expected_each) * (o - expected_each) / expected_each;
    return chi2;
}

uint8_t random_byte(lkm_rng *rng) { return static_cast<uint8_t>(lkm_rng_next(rng) >> 56); }

// The IPv4 header checksum computed from scratch over header_len bytes, with
// the checksum field (bytes 10-11) taken as zero.
uint16_t ipv4_checksum(const uint8_t *ip, size_t header_len) {
    uint32_t sum = 0;
    for (size_t i = 0; i < header_len; i += 2)
        if (i != 10) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

void set_ipv4_checksum(uint8_t *ip, size_t header_len) {
    const uint16_t c = ipv4_checksum(ip, header_len);
    ip[10] = static_cast<uint8_t>(c >> 8);
    ip[11] = static_cast<uint8_t>(c);
}

constexpr uint16_t kEthernetHeader = 14;

// An Ethernet frame of random bytes holding a random IPv4 header of ihl
// 32-bit words (options included) with the given ECN, checksum valid.
std::vector<uint8_t> ipv4_frame(lkm_rng *rng, unsigned ihl, uint8_t ecn, size_t payload = 20) {
    std::vector<uint8_t> f(kEthernetHeader + ihl * 4 + payload);
    for (uint8_t &b : f) b = random_byte(rng);
    uint8_t *ip = f.data() + kEthernetHeader;
    ip[0] = static_cast<uint8_t>(0x40 | ihl);
    ip[1] = static_cast<uint8_t>((ip[1] & 0xfc) | ecn);
    set_ipv4_checksum(ip, ihl * 4);
    return f;
}

// An Ethernet frame holding a random IPv6 header with the given ECN.
std::vector<uint8_t> ipv6_frame(lkm_rng *rng, uint8_t ecn, size_t payload = 20) {
    std::vector<uint8_t> f(kEthernetHeader + 40 + payload);
    for (uint8_t &b : f) b = random_byte(rng);
    uint8_t *ip = f.data() + kEthernetHeader;
    ip[0] = static_cast<uint8_t>(0x60 | (ip[0] & 0x0f));      // version 6, traffic class bits 7-4
    ip[1] = static_cast<uint8_t>((ip[1] & 0xcf) | ecn << 4);  // traffic class bits 3-0, flow label bits 19-16
    return f;
}

unsigned ipv4_ecn(const std::vector<uint8_t> &f) { return f[kEthernetHeader + 1] & 3u; }
unsigned ipv6_ecn(const std::vector<uint8_t> &f) { return (f[kEthernetHeader + 1] >> 4) & 3u; }
unsigned ipv6_dscp(const std::vector<uint8_t> &f) { return (f[kEthernetHeader] & 0x0fu) << 2 | f[kEthernetHeader + 1] >> 6; }
uint32_t ipv6_flow_label(const std::vector<uint8_t> &f) {
    return (f[kEthernetHeader + 1] & 0x0fu) << 16 | f[kEthernetHeader + 2] << 8 | f[kEthernetHeader + 3];
}

}  // namespace

TEST_CASE("Chance: p = 0 never, p = 1 always, p = 1% at its rate", "[unit][mangle]") {
    constexpr int kN = 1'000'000;
    lkm_rng rng = seeded_rng(1);
    const Chance never = Chance::of(0), always = Chance::of(1), one_percent = Chance::of(0.01);
    int n_never = 0, n_always = 0, n_one = 0;
    for (int i = 0; i < kN; ++i) {
        n_never += never.draw(&rng);
        n_always += always.draw(&rng);
        n_one += one_percent.draw(&rng);
    }
    CHECK(n_never == 0);
    CHECK(n_always == kN);
    INFO("1%: " << n_one << " of " << kN);
    CHECK(within_5_sigma(n_one, kN, 0.01));  // 10000 +- 497

    CHECK(Chance::of(0.5).threshold == uint64_t{1} << 63);
    CHECK(Chance::of(-1).threshold == 0);
    CHECK(Chance::of(std::numeric_limits<double>::quiet_NaN()).threshold == 0);
    CHECK(Chance::of(2).threshold == UINT64_MAX);
}

TEST_CASE("Chance: the same seed gives the same sequence", "[unit][mangle]") {
    const Chance c = Chance::of(0.3);
    auto sequence = [&](uint64_t seed) {
        lkm_rng rng = seeded_rng(seed);
        std::vector<bool> v;
        for (int i = 0; i < 1000; ++i) v.push_back(c.draw(&rng));
        return v;
    };
    CHECK(sequence(42) == sequence(42));
    CHECK(sequence(42) != sequence(43));
}

TEST_CASE("Corruptor per packet: one uniformly placed bit in a fraction p of frames", "[unit][mangle]") {
    constexpr int kFrames = 200'000;
    constexpr uint32_t kLen = 64;
    Corruptor c = Corruptor::per_packet(0.05, 7);
    lkm_rng fill = seeded_rng(8);
    std::vector<uint8_t> original(kLen), frame(kLen);
    std::vector<double> by_byte(kLen), by_bit(8);
    int changed = 0;
    for (int i = 0; i < kFrames; ++i) {
        for (uint8_t &b : original) b = random_byte(&fill);
        frame = original;
        const uint32_t flipped = c.apply(frame.data(), kLen);
        const uint32_t differ = bits_differing(original, frame);
        REQUIRE(flipped == differ);
        REQUIRE(differ <= 1);  // exactly one bit in each changed frame
        if (differ == 0) continue;
        ++changed;
        for (uint32_t j = 0; j < kLen; ++j) {
            const uint8_t x = original[j] ^ frame[j];
            if (x == 0) continue;
            by_byte[j] += 1;
            by_bit[static_cast<size_t>(std::countr_zero(x))] += 1;
        }
    }
    INFO(changed << " of " << kFrames << " frames changed");
    CHECK(within_5_sigma(changed, kFrames, 0.05));  // 10000 +- 487
    // About 156 hits per byte. Chi-square with 63 degrees of freedom is below
    // 130 but with probability 1.5e-6; with 7 (the bit within the byte), below
    // 40 but with probability 1.3e-6.
    const double chi2_bytes = chi_square(by_byte, changed / double{kLen});
    const double chi2_bits = chi_square(by_bit, changed / 8.0);
    INFO("chi-square: bytes " << chi2_bytes << ", bits " << chi2_bits);
    CHECK(chi2_bytes < 130);
    CHECK(chi2_bits < 40);
}

TEST_CASE("Corruptor per packet: p = 1 flips one bit of every frame, even a 1-byte one", "[unit][mangle]") {
    Corruptor c = Corruptor::per_packet(1, 3);
    std::array<int, 8> seen{};
    for (int i = 0; i < 8000; ++i) {
        uint8_t b = 0;
        REQUIRE(c.apply(&b, 1) == 1);
        REQUIRE(std::popcount(b) == 1);
        ++seen[static_cast<size_t>(std::countr_zero(b))];
    }
    for (int n : seen) CHECK(n > 500);  // 1000 expected, sigma 29.6
    CHECK(c.apply(nullptr, 0) == 0);
    std::vector<uint8_t> frame(64);
    CHECK(Corruptor::per_packet(0, 3).apply(frame.data(), 64) == 0);
    CHECK(frame == std::vector<uint8_t>(64));
}

TEST_CASE("Corruptor bit error rate: flips per frame follow Binomial(8 L, ber)", "[unit][mangle]") {
    constexpr int kFrames = 100'000;
    constexpr uint32_t kLen = 1500;
    constexpr double kBer = 1e-4;
    constexpr double kBits = 8.0 * kLen;  // 12000 bits: 1.2 flips per frame on average
    Corruptor c = Corruptor::bit_error_rate(kBer, 21);
    std::vector<uint8_t> zero(kLen), frame(kLen);
    double total = 0, sum_sq = 0;
    int frames_with_none = 0, frames_with_one = 0;
    for (int i = 0; i < kFrames; ++i) {
        const uint32_t flipped = c.apply(frame.data(), kLen);
        REQUIRE(bits_differing(zero, frame) == flipped);
        std::fill(frame.begin(), frame.end(), 0);
        total += flipped;
        sum_sq += static_cast<double>(flipped) * flipped;
        frames_with_none += flipped == 0;
        frames_with_one += flipped == 1;
    }
    const double mean = total / kFrames, variance = sum_sq / kFrames - mean * mean;
    const double p0 = std::pow(1 - kBer, kBits);                     // 0.3012, about exp(-1.2)
    const double p1 = kBits * kBer * std::pow(1 - kBer, kBits - 1);  // 0.3614
    INFO("flips " << total << ", per frame mean " << mean << " variance " << variance << ", frames with none " << frames_with_none
                  << ", with one " << frames_with_one);
    // All 1.2e9 bits are independent trials: 120000 +- 1732 at 5 sigma.
    CHECK(within_5_sigma(total, kFrames * kBits, kBer));
    // The per-frame variance is 8 L ber (1 - ber) = 1.19988; the sample
    // variance's standard error is sqrt((mu + 2 mu^2) / N) = 0.0064 (Poisson
    // limit): 0.032 is 5 of them.
    CHECK(std::abs(variance - kBits * kBer * (1 - kBer)) < 0.032);
    CHECK(within_5_sigma(frames_with_none, kFrames, p0));  // 30118 +- 725
    CHECK(within_5_sigma(frames_with_one, kFrames, p1));   // 36140 +- 760
}

TEST_CASE("Corruptor bit error rate: 0 flips nothing, 1 flips everything, 1-byte frames", "[unit][mangle]") {
    std::vector<uint8_t> frame(1500, 0xa5);
    Corruptor none = Corruptor::bit_error_rate(0, 1);
    for (int i = 0; i < 1000; ++i) REQUIRE(none.apply(frame.data(), 1500) == 0);
    CHECK(std::all_of(frame.begin(), frame.end(), [](uint8_t b) { return b == 0xa5; }));

    Corruptor all = Corruptor::bit_error_rate(1, 1);
    CHECK(all.apply(frame.data(), 1500) == 1500 * 8);
    CHECK(std::all_of(frame.begin(), frame.end(), [](uint8_t b) { return b == 0x5a; }));
    CHECK(all.apply(nullptr, 0) == 0);

    // 1-byte frames at ber 10%: 100000 frames are 800000 bits, 80000 +- 1342 flips at 5 sigma.
    Corruptor tiny = Corruptor::bit_error_rate(0.1, 2);
    double total = 0;
    for (int i = 0; i < 100'000; ++i) {
        uint8_t b = 0;
        const uint32_t flipped = tiny.apply(&b, 1);
        REQUIRE(flipped == static_cast<uint32_t>(std::popcount(b)));
        total += flipped;
    }
    INFO(total << " flips");
    CHECK(within_5_sigma(total, 800'000, 0.1));
}

TEST_CASE("Corruptor: the same seed corrupts the same bits", "[unit][mangle]") {
    auto run = [](Corruptor c) {
        std::vector<uint8_t> out;
        for (uint32_t len : {64u, 1500u, 1u, 9000u, 300u}) {
            for (int i = 0; i < 200; ++i) {
                std::vector<uint8_t> frame(len);
                c.apply(frame.data(), len);
                out.insert(out.end(), frame.begin(), frame.end());
            }
        }
        return out;
    };
    CHECK(run(Corruptor::bit_error_rate(1e-4, 5)) == run(Corruptor::bit_error_rate(1e-4, 5)));
    CHECK(run(Corruptor::bit_error_rate(1e-4, 5)) != run(Corruptor::bit_error_rate(1e-4, 6)));
    CHECK(run(Corruptor::per_packet(0.1, 5)) == run(Corruptor::per_packet(0.1, 5)));
    CHECK(run(Corruptor::per_packet(0.1, 5)) != run(Corruptor::per_packet(0.1, 6)));
}

TEST_CASE("mark_ce: IPv4 ECT(0) and ECT(1) become CE, checksum valid, DSCP unchanged", "[unit][mangle]") {
    lkm_rng rng = seeded_rng(99);
    for (int i = 0; i < 500; ++i) {
        const unsigned ihl = 5 + static_cast<unsigned>(lkm_rng_next(&rng) % 11);  // 20 to 60 bytes: options too
        const uint8_t ect = (i & 1) ? 1 : 2;                                      // ECT(1), ECT(0)
        std::vector<uint8_t> frame = ipv4_frame(&rng, ihl, ect);
        const std::vector<uint8_t> before = frame;
        uint8_t *ip = frame.data() + kEthernetHeader;
        const auto len = static_cast<uint32_t>(frame.size());
        INFO("header " << ihl * 4 << " bytes, ECN " << unsigned{ect});
        CHECK(ecn_capable(frame.data(), len, kEthernetHeader, 4));
        REQUIRE(mark_ce(frame.data(), len, kEthernetHeader, 4));
        CHECK(ipv4_ecn(frame) == 3);
        CHECK((ip[1] >> 2) == (before[kEthernetHeader + 1] >> 2));  // DSCP
        CHECK(ipv4_checksum(ip, ihl * 4) == (ip[10] << 8 | ip[11]));
        for (size_t j = 0; j < frame.size(); ++j) {
            const size_t in_ip = j - kEthernetHeader;
            if (j >= kEthernetHeader && (in_ip == 1 || in_ip == 10 || in_ip == 11)) continue;
            REQUIRE(frame[j] == before[j]);
        }
        // Already CE: true, and nothing changes.
        const std::vector<uint8_t> marked = frame;
        CHECK(mark_ce(frame.data(), len, kEthernetHeader, 4));
        CHECK(frame == marked);
        CHECK(ecn_capable(frame.data(), len, kEthernetHeader, 4));
    }
}

TEST_CASE("mark_ce: IPv4 checksums at the edges of ones' complement (0x0000 before or after)", "[unit][mangle]") {
    lkm_rng rng = seeded_rng(5);
    for (bool zero_after : {false, true}) {
        std::vector<uint8_t> frame = ipv4_frame(&rng, 5, 2);
        uint8_t *ip = frame.data() + kEthernetHeader;
        // Choose the identification field (bytes 4-5) so that the checksum is
        // 0x0000 before the marking, or after it.
        if (zero_after) ip[1] |= 3;
        ip[4] = ip[5] = 0;
        const uint16_t id = ipv4_checksum(ip, 20);  // the complement of the others' sum: makes the total 0xffff
        ip[4] = static_cast<uint8_t>(id >> 8);
        ip[5] = static_cast<uint8_t>(id);
        if (zero_after) ip[1] = static_cast<uint8_t>((ip[1] & 0xfc) | 2);
        set_ipv4_checksum(ip, 20);
        if (!zero_after) CHECK((ip[10] << 8 | ip[11]) == 0);
        REQUIRE(mark_ce(frame.data(), static_cast<uint32_t>(frame.size()), kEthernetHeader, 4));
        CHECK(ipv4_checksum(ip, 20) == (ip[10] << 8 | ip[11]));
        if (zero_after) CHECK((ip[10] << 8 | ip[11]) == 0);
    }
}

TEST_CASE("mark_ce: Not-ECT is left alone", "[unit][mangle]") {
    lkm_rng rng = seeded_rng(3);
    for (int i = 0; i < 50; ++i) {
        for (uint8_t version : {4, 6}) {
            std::vector<uint8_t> frame = version == 4 ? ipv4_frame(&rng, 5 + (i % 11), 0) : ipv6_frame(&rng, 0);
            const std::vector<uint8_t> before = frame;
            const auto len = static_cast<uint32_t>(frame.size());
            CHECK_FALSE(ecn_capable(frame.data(), len, kEthernetHeader, version));
            CHECK_FALSE(mark_ce(frame.data(), len, kEthernetHeader, version));
            CHECK(frame == before);
        }
    }
}

TEST_CASE("mark_ce: IPv6 ECN bits become CE, flow label and DSCP unchanged", "[unit][mangle]") {
    lkm_rng rng = seeded_rng(66);
    for (int i = 0; i < 500; ++i) {
        const uint8_t ect = (i & 1) ? 1 : 2;
        std::vector<uint8_t> frame = ipv6_frame(&rng, ect);
        const std::vector<uint8_t> before = frame;
        const auto len = static_cast<uint32_t>(frame.size());
        CHECK(ecn_capable(frame.data(), len, kEthernetHeader, 6));
        REQUIRE(mark_ce(frame.data(), len, kEthernetHeader, 6));
        CHECK(ipv6_ecn(frame) == 3);
        CHECK(ipv6_dscp(frame) == ipv6_dscp(before));
        CHECK(ipv6_flow_label(frame) == ipv6_flow_label(before));
        CHECK((frame[kEthernetHeader] >> 4) == 6);
        for (size_t j = 0; j < frame.size(); ++j)
            if (j != kEthernetHeader + 1u) REQUIRE(frame[j] == before[j]);
        const std::vector<uint8_t> marked = frame;
        CHECK(mark_ce(frame.data(), len, kEthernetHeader, 6));  // already CE
        CHECK(frame == marked);
    }
}

TEST_CASE("mark_ce: a header cut short, of another version or not IP is untouched and not read past", "[unit][mangle]") {
    lkm_rng rng = seeded_rng(12);
    // Each prefix is copied into a vector of exactly its length, so that the
    // header runs off the end of the allocation (caught under ASan).
    auto refuses = [](const std::vector<uint8_t> &whole, size_t len, uint8_t version) {
        std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(len));
        const std::vector<uint8_t> before = cut;
        const auto n = static_cast<uint32_t>(len);
        const bool refused = !ecn_capable(cut.data(), n, kEthernetHeader, version) && !mark_ce(cut.data(), n, kEthernetHeader, version);
        return refused && cut == before;
    };
    const std::vector<uint8_t> v4 = ipv4_frame(&rng, 15, 2, 0);  // 60-byte header with options, no payload
    const std::vector<uint8_t> v6 = ipv6_frame(&rng, 2, 0);
    for (size_t len = 0; len < v4.size(); ++len) CHECK(refuses(v4, len, 4));
    for (size_t len = 0; len < v6.size(); ++len) CHECK(refuses(v6, len, 6));
    CHECK_FALSE(refuses(v4, v4.size(), 4));  // whole: marked
    CHECK_FALSE(refuses(v6, v6.size(), 6));

    CHECK(refuses(v4, v4.size(), 6));  // the version nibble must agree
    CHECK(refuses(v6, v6.size(), 4));
    CHECK(refuses(v4, v4.size(), 5));
    std::vector<uint8_t> bad_ihl = ipv4_frame(&rng, 5, 2);
    bad_ihl[kEthernetHeader] = 0x44;  // IHL 4: 16 bytes, below the minimum
    CHECK(refuses(bad_ihl, bad_ihl.size(), 4));
    CHECK_FALSE(mark_ce(nullptr, 0, 0, 4));
    CHECK_FALSE(ecn_capable(nullptr, 0, 0, 6));
}
