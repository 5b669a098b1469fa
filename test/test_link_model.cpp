// [golden] and [model] tests of the link model in virtual time: exact exit and
// release times and drop decisions for given arrival sequences.
#include "linkem/link_model.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace linkem;

namespace {

constexpr uint64_t kGbps = 1'000'000'000;

std::vector<Verdict> run(LinkModelParams p, const std::vector<PacketIn> &pkts) {
    LinkModel model(p);
    std::vector<Verdict> out(pkts.size());
    model.admit_burst(pkts.data(), static_cast<uint32_t>(pkts.size()), out.data());
    return out;
}

// Release times of forwarded packets; drops show as 0 with their fate checked separately.
std::vector<uint64_t> releases(const std::vector<Verdict> &v) {
    std::vector<uint64_t> r;
    for (const Verdict &x : v) r.push_back(x.fate == Fate::kForward ? x.release_ns : 0);
    return r;
}

}  // namespace

TEST_CASE("back-to-back frames leave one transmission time apart", "[golden][model]") {
    // 125 bytes at 1 Gbit/s take exactly 1000 ns.
    const std::vector<PacketIn> burst = {{0, 125}, {0, 125}, {0, 125}};
    CHECK(releases(run({.rate_bps = kGbps}, burst)) == std::vector<uint64_t>{1000, 2000, 3000});
    CHECK(releases(run({.rate_bps = kGbps, .delay_ns = 10'000}, burst)) == std::vector<uint64_t>{11000, 12000, 13000});
}

TEST_CASE("after an idle gap the link starts from the arrival time", "[golden][model]") {
    CHECK(releases(run({.rate_bps = kGbps}, {{0, 125}, {5000, 125}, {5500, 125}})) == std::vector<uint64_t>{1000, 6000, 7000});
}

TEST_CASE("overhead bytes count against the rate", "[golden][model]") {
    // 100 + 24 bytes = 992 bits at 1 Gbit/s = 992 ns.
    CHECK(releases(run({.rate_bps = kGbps, .overhead_bytes = 24}, {{0, 100}, {0, 100}})) == std::vector<uint64_t>{992, 1984});
}

TEST_CASE("fractional transmission times accumulate without drift", "[golden][model]") {
    // 1 byte at 3 Gbit/s: 8/3 ns each; the third ends at exactly 8 ns, the 3000th at 8000 ns.
    std::vector<PacketIn> pkts(3000, PacketIn{0, 1});
    const auto r = releases(run({.rate_bps = 3 * kGbps}, pkts));
    CHECK(r[0] == 3);  // 2.67 ns, released at the next whole ns
    CHECK(r[1] == 6);
    CHECK(r[2] == 8);
    CHECK(r[2999] == 8000);
}

TEST_CASE("a packet limit drops the overflow and the queue drains at the rate", "[golden][model]") {
    LinkModel model({.rate_bps = kGbps, .queue_limit_packets = 2});
    const std::vector<PacketIn> first = {{0, 125}, {0, 125}, {0, 125}, {0, 125}};
    std::vector<Verdict> out(4);
    model.admit_burst(first.data(), 4, out.data());
    CHECK(out[0].fate == Fate::kForward);
    CHECK(out[1].fate == Fate::kForward);
    CHECK(out[2].fate == Fate::kDropQueue);
    CHECK(out[3].fate == Fate::kDropQueue);
    CHECK(model.queued_packets(0) == 2);
    CHECK(model.queued_packets(1000) == 1);
    // At 1000 ns the first has left: one slot is free, and the link is busy until 2000 ns.
    const std::vector<PacketIn> later = {{1000, 125}, {1000, 125}};
    model.admit_burst(later.data(), 2, out.data());
    CHECK(out[0].fate == Fate::kForward);
    CHECK(out[0].release_ns == 3000);
    CHECK(out[1].fate == Fate::kDropQueue);
}

TEST_CASE("a byte limit counts wire bytes of queued packets", "[golden][model]") {
    const auto v = run({.rate_bps = kGbps, .overhead_bytes = 25, .queue_limit_bytes = 300}, {{0, 125}, {0, 125}, {0, 100}});
    CHECK(v[0].fate == Fate::kForward);    // 150 bytes queued
    CHECK(v[1].fate == Fate::kForward);    // 300
    CHECK(v[2].fate == Fate::kDropQueue);  // 425 > 300
    CHECK(v[1].release_ns == 2400);        // 2 x 150 bytes at 1 Gbit/s
}

TEST_CASE("a queue drop does not use the link; a loss does", "[golden][model]") {
    // Queue limit 1: the second packet at t=0 finds the first still on the link.
    const auto dropped = run({.rate_bps = kGbps, .queue_limit_packets = 1}, {{0, 125}, {0, 125}, {1000, 125}});
    CHECK(dropped[1].fate == Fate::kDropQueue);
    CHECK(dropped[2].release_ns == 2000);  // starts at 1000: the dropped packet took no time
    // Certain loss: every packet is lost, but each occupies the link, so the queue still fills.
    const auto lost = run({.rate_bps = kGbps, .queue_limit_packets = 1, .loss_per_2_64 = UINT64_MAX}, {{0, 125}, {0, 125}});
    CHECK(lost[0].fate == Fate::kDropLoss);
    CHECK(lost[1].fate == Fate::kDropQueue);
}

TEST_CASE("with no rate limit the release is arrival plus delay, never decreasing", "[golden][model]") {
    CHECK(releases(run({.delay_ns = 500}, {{0, 60}, {10, 9000}, {10, 60}, {2000, 60}})) == std::vector<uint64_t>{500, 510, 510, 2500});
}

TEST_CASE("Bernoulli loss matches its probability within 4 sigma (seeded)", "[model][stats]") {
    constexpr int kN = 200'000;
    constexpr double kP = 0.01;
    constexpr uint64_t kOnePercent = 10'000'000'000'000'000ULL;  // 1% in 1e-18 steps
    const std::vector<PacketIn> pkts(kN, PacketIn{0, 64});
    const auto count_lost = [&](uint64_t seed) {
        const auto v = run({.loss_per_2_64 = probability_to_2_64(kOnePercent), .seed = seed}, pkts);
        return std::count_if(v.begin(), v.end(), [](const Verdict &x) { return x.fate == Fate::kDropLoss; });
    };
    const double sigma = std::sqrt(kN * kP * (1 - kP));  // about 44.5
    const auto lost = count_lost(7);
    CHECK(std::abs(static_cast<double>(lost) - kN * kP) < 4 * sigma);
    CHECK(count_lost(7) == lost);  // the same seed gives the same decisions
    CHECK(count_lost(8) != lost);  // another seed, another stream
}

TEST_CASE("probabilities map onto the generator's range exactly at the ends", "[unit][model]") {
    CHECK(probability_to_2_64(0) == 0);
    CHECK(probability_to_2_64(1'000'000'000'000'000'000ULL) == UINT64_MAX);
    CHECK(probability_to_2_64(500'000'000'000'000'000ULL) == (uint64_t{1} << 63));
}

TEST_CASE("a packet that finds the arena full uses no link time", "[golden][model]") {
    LinkModel model({.rate_bps = kGbps, .queue_limit_packets = 10});
    const std::vector<PacketIn> pkts = {{0, 125}, {0, 125}, {0, 125}};
    std::vector<Verdict> out(3);
    model.admit_burst(pkts.data(), 3, out.data(), 1);  // room for one
    CHECK(out[0].fate == Fate::kForward);
    CHECK(out[1].fate == Fate::kDropArenaFull);
    CHECK(out[2].fate == Fate::kDropArenaFull);
    CHECK(model.queue_depth() == 1);
    const PacketIn next{0, 125};
    model.admit_burst(&next, 1, out.data(), 1);
    CHECK(out[0].release_ns == 2000);  // right behind the first: the refused ones took no time
}

TEST_CASE("with Ethernet framing, runt frames are padded to 60 bytes on the wire", "[golden][model]") {
    // 42-byte ARP frame: 60 + 24 = 84 bytes = 672 ns at 1 Gbit/s.
    CHECK(releases(run({.rate_bps = kGbps, .overhead_bytes = 24}, {{0, 42}})) == std::vector<uint64_t>{672});
    CHECK(releases(run({.rate_bps = kGbps}, {{0, 42}})) == std::vector<uint64_t>{336});  // no framing: as received
    // A byte limit counts runts at their true size without running out of slots.
    LinkModel model({.rate_bps = 1'000'000, .queue_limit_bytes = 6000});
    std::vector<PacketIn> arp(200, PacketIn{0, 42});
    std::vector<Verdict> out(200);
    model.admit_burst(arp.data(), 200, out.data());
    CHECK(std::count_if(out.begin(), out.end(), [](const Verdict &v) { return v.fate == Fate::kForward; }) == 6000 / 42);
}
