// [stats] Every built-in model against its theory, in virtual time, through
// the real loader, plugin host and link model. Seeds are fixed; each check
// states its tolerance. Delay models are measured with arrivals 1 s apart, so
// that keeping releases in order never changes a delay.
#include "link_fixture.hpp"
#include "linkem_process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

using namespace linkem;
using namespace linkem::test;

namespace {

struct Moments {
    double mean = 0, stddev = 0;
};

Moments moments(const std::vector<double> &v) {
    Moments m;
    m.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double sq = 0;
    for (double x : v) sq += (x - m.mean) * (x - m.mean);
    m.stddev = std::sqrt(sq / static_cast<double>(v.size() - 1));
    return m;
}

// The delays (ms) a delay model gives n packets, one per second.
std::vector<double> delays_ms(const std::string &fields, size_t n, uint64_t seed = 11) {
    std::vector<PacketIn> pkts;
    for (size_t i = 0; i < n; ++i) pkts.push_back({i * 1'000'000'000ULL, 100});
    TestLink link(fields, seed);
    const auto v = link.run(pkts);
    std::vector<double> out;
    for (size_t i = 0; i < n; ++i) {
        REQUIRE(v[i].fate == Fate::kForward);
        out.push_back(static_cast<double>(v[i].release_ns - pkts[i].arrival_ns) / 1e6);
    }
    return out;
}

// Loss decisions for n packets of len bytes.
std::vector<bool> losses(const std::string &fields, size_t n, uint32_t len = 100, uint64_t seed = 5) {
    std::vector<PacketIn> pkts;
    for (size_t i = 0; i < n; ++i) pkts.push_back({i, len});
    const auto v = TestLink(fields, seed).run(pkts);
    std::vector<bool> lost;
    for (const Verdict &x : v) lost.push_back(x.fate == Fate::kDropLoss);
    return lost;
}

double fraction(const std::vector<bool> &v) {
    return static_cast<double>(std::count(v.begin(), v.end(), true)) / static_cast<double>(v.size());
}

double mean_run(const std::vector<bool> &v) {
    size_t runs = 0, in_runs = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i]) continue;
        ++in_runs;
        if (i == 0 || !v[i - 1]) ++runs;
    }
    return static_cast<double>(in_runs) / static_cast<double>(runs);
}

double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

TEST_CASE("gilbert_elliott: long-run loss and burst length (netem's p and r)", "[stats][plugin]") {
    // p = 1%, r = 30%: loss p / (p + r) = 3.226%, mean burst 1 / r = 3.33 packets.
    // 1M packets hold about 9700 good-bad cycles: 10% relative is over 5 sigma.
    const auto lost = losses("loss: {plugin: gilbert_elliott, p: 1%, r: 30%}", 1'000'000);
    CHECK(fraction(lost) == Approx(0.01 / 0.31).epsilon(0.10));
    CHECK(mean_run(lost) == Approx(1 / 0.30).epsilon(0.10));
}

TEST_CASE("gilbert_elliott: the friendlier mean loss and mean burst", "[stats][plugin]") {
    const auto lost = losses("loss: {plugin: gilbert_elliott, mean_loss: 2%, mean_burst: 3}", 1'000'000);
    CHECK(fraction(lost) == Approx(0.02).epsilon(0.10));
    CHECK(mean_run(lost) == Approx(3.0).epsilon(0.10));
}

TEST_CASE("gilbert_elliott: loss inside the states (1-h and 1-k)", "[stats][plugin]") {
    // Long-run loss: (r (1-k) + p (1-h)) / (p + r) = (0.3 * 0.001 + 0.01 * 0.5) / 0.31 = 1.71%.
    const auto lost = losses("loss: {plugin: gilbert_elliott, p: 1%, r: 30%, loss_bad: 50%, loss_good: 0.1%}", 1'000'000);
    CHECK(fraction(lost) == Approx((0.3 * 0.001 + 0.01 * 0.5) / 0.31).epsilon(0.10));
}

TEST_CASE("markov4: loss is the stationary probability of the loss states", "[stats][plugin]") {
    const double p13 = 0.01, p31 = 0.7, p32 = 0.2, p23 = 0.05, p14 = 0.005;
    // The chain of netem's loss_4state(); a packet is lost when it moves into state 3 or 4.
    const double P[4][4] = {{1 - p13 - p14, 0, p13, p14}, {0, 1 - p23, p23, 0}, {p31, p32, 1 - p31 - p32, 0}, {1, 0, 0, 0}};
    std::array<double, 4> pi = {1, 0, 0, 0};
    for (int it = 0; it < 20000; ++it) {
        std::array<double, 4> next{};
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) next[b] += pi[a] * P[a][b];
        pi = next;
    }
    const auto lost = losses("loss: {plugin: markov4, p13: 1%, p31: 70%, p32: 20%, p23: 5%, p14: 0.5%}", 1'000'000);
    CHECK(fraction(lost) == Approx(pi[2] + pi[3]).epsilon(0.10));
}

TEST_CASE("ber: longer frames are lost more often, as 1 - (1 - ber)^(8 L)", "[stats][plugin]") {
    constexpr size_t kN = 200'000;
    for (uint32_t len : {64u, 1500u}) {
        const double p = 1 - std::pow(1 - 1e-4, 8.0 * len);  // 4.99% and 69.9%
        const double measured = fraction(losses("loss: {plugin: ber, ber: 1e-4}", kN, len));
        INFO("frame " << len << " bytes: expected " << p << ", measured " << measured);
        CHECK(std::abs(measured - p) < 4 * std::sqrt(p * (1 - p) / kN));
    }
}

TEST_CASE("pattern: listed packets, every Nth, and time windows, exactly", "[plugin]") {
    const auto listed = losses("loss: {plugin: pattern, drop: [7, 3, 11]}", 20);
    for (size_t i = 0; i < 20; ++i) CHECK(listed[i] == (i == 3 || i == 7 || i == 11));
    const auto every = losses("loss: {plugin: pattern, every: 4}", 12);
    CHECK(every == std::vector<bool>{false, false, false, true, false, false, false, true, false, false, false, true});
    // A window from 2 ms to 3 ms after the first packet, repeated every 10 ms; a packet per 0.5 ms.
    std::vector<PacketIn> pkts;
    for (int i = 0; i < 40; ++i) pkts.push_back({1'000'000 + i * 500'000ULL, 100});
    const auto v = TestLink("loss: {plugin: pattern, after: 2ms, for: 1ms, period: 10ms}").run(pkts);
    for (int i = 0; i < 40; ++i) {
        const uint64_t t = (i * 500'000ULL) % 10'000'000;
        CHECK((v[i].fate == Fate::kDropLoss) == (t >= 2'000'000 && t < 3'000'000));
    }
}

TEST_CASE("uniform: delays spread evenly over mean +- jitter", "[stats][plugin]") {
    constexpr size_t kN = 100'000;
    const auto d = delays_ms("delay: {plugin: uniform, mean: 20ms, jitter: 2ms}", kN);
    const Moments m = moments(d);
    const double sigma = 2 / std::sqrt(3.0);
    CHECK(std::abs(m.mean - 20) < 4 * sigma / std::sqrt(kN));
    CHECK(m.stddev == Approx(sigma).epsilon(0.02));
    CHECK(*std::min_element(d.begin(), d.end()) >= 18.0);
    CHECK(*std::max_element(d.begin(), d.end()) <= 22.0);
}

TEST_CASE("normal: mean, standard deviation, and the share within one sigma", "[stats][plugin]") {
    constexpr size_t kN = 100'000;
    const auto d = delays_ms("delay: {plugin: normal, mean: 20ms, stddev: 2ms}", kN);
    const Moments m = moments(d);
    CHECK(std::abs(m.mean - 20) < 4 * 2 / std::sqrt(kN));
    CHECK(m.stddev == Approx(2).epsilon(0.02));
    const double within = static_cast<double>(std::count_if(d.begin(), d.end(), [](double x) { return std::abs(x - 20) < 2; })) / kN;
    CHECK(within == Approx(0.6827).margin(0.01));
}

TEST_CASE("normal: the share of draws between quantiles, out to the tails", "[stats][plugin]") {
    // 10^6 draws counted between z-boundaries, 3.654 being where the ziggurat's
    // tail method takes over; each count within 5 binomial standard deviations
    // of what the standard normal gives.
    constexpr size_t kN = 1'000'000;
    const auto d = delays_ms("delay: {plugin: normal, mean: 20ms, stddev: 2ms}", kN, 17);
    const std::array<double, 9> edges = {-4.5, -3.6541528853610088, -2, -1, 0, 1, 2, 3.6541528853610088, 4.5};
    std::array<size_t, edges.size() + 1> counts{};
    for (double x : d) counts[std::upper_bound(edges.begin(), edges.end(), (x - 20) / 2) - edges.begin()]++;
    double below = 0;
    for (size_t k = 0; k < counts.size(); ++k) {
        const double cdf = k < edges.size() ? 0.5 * std::erfc(-edges[k] / std::sqrt(2.0)) : 1.0;
        const double p = cdf - below, expected = p * kN;
        below = cdf;
        INFO("bin " << k << ": " << counts[k] << " draws, " << expected << " expected");
        CHECK(std::abs(static_cast<double>(counts[k]) - expected) <= 5 * std::sqrt(expected * (1 - p)) + 1);
    }
}

TEST_CASE("pareto: mean, median and minimum of the standardised shape-3 Pareto", "[stats][plugin]") {
    constexpr size_t kN = 200'000;
    const auto d = delays_ms("delay: {plugin: pareto, mean: 20ms, jitter: 2ms}", kN);
    // X = (P - 1.5) / sqrt(0.75), P = U^(-1/3): median (2^(1/3) - 1.5) / 0.866, minimum -0.5 / 0.866.
    const double median = 20 + 2 * (std::cbrt(2.0) - 1.5) / std::sqrt(0.75);
    CHECK(moments(d).mean == Approx(20).epsilon(0.005));
    CHECK(quantile(d, 0.5) == Approx(median).epsilon(0.002));
    CHECK(*std::min_element(d.begin(), d.end()) >= 20 - 2 * 0.5 / std::sqrt(0.75) - 1e-6);
}

TEST_CASE("paretonormal: mean and standard deviation of the mix", "[stats][plugin]") {
    constexpr size_t kN = 200'000;
    const Moments m = moments(delays_ms("delay: {plugin: paretonormal, mean: 20ms, stddev: 2ms}", kN));
    CHECK(m.mean == Approx(20).epsilon(0.005));
    CHECK(m.stddev == Approx(2).epsilon(0.03));
}

TEST_CASE("exponential: a minimum plus an exponential part", "[stats][plugin]") {
    constexpr size_t kN = 100'000;
    const auto d = delays_ms("delay: {plugin: exponential, min: 10ms, mean: 5ms}", kN);
    const Moments m = moments(d);
    CHECK(std::abs(m.mean - 15) < 4 * 5 / std::sqrt(kN));
    CHECK(m.stddev == Approx(5).epsilon(0.02));
    CHECK(*std::min_element(d.begin(), d.end()) >= 10.0);
    CHECK(quantile(d, 0.5) == Approx(10 + 5 * std::log(2.0)).epsilon(0.01));
}

TEST_CASE("empirical: measured samples and netem tables", "[stats][plugin]") {
    TempDir dir;
    std::string samples = "# measured, in ms\n";
    for (int i = 1; i <= 100; ++i) samples += std::to_string(i) + "\n";
    const std::string file = dir.write("samples.txt", samples);
    constexpr size_t kN = 100'000;
    const auto d = delays_ms("delay: {plugin: empirical, file: \"" + file + "\"}", kN);
    CHECK(*std::min_element(d.begin(), d.end()) >= 1.0);
    CHECK(*std::max_element(d.begin(), d.end()) <= 100.0);
    CHECK(moments(d).mean == Approx(50.5).epsilon(0.01));
    CHECK(quantile(d, 0.9) == Approx(90.1).epsilon(0.01));
    // A netem table of three values: -1, 0 and +1 in units of 8192.
    const std::string table = dir.write("three.dist", "# netem table\n-8192 0\n8192\n");
    const auto t = delays_ms("delay: {plugin: empirical, file: \"" + table + "\", mean: 20ms, jitter: 5ms}", 30'000);
    for (double x : {15.0, 20.0, 25.0}) {
        const double share = static_cast<double>(std::count(t.begin(), t.end(), x)) / 30'000;
        CHECK(share == Approx(1.0 / 3).margin(0.02));
    }
}

TEST_CASE("order: keep holds packets back; drop loses them and keeps the distribution", "[stats][plugin]") {
    // Packets every 100 us with 2 ms of normal jitter: most would overtake each other.
    std::vector<PacketIn> pkts;
    for (int i = 0; i < 20'000; ++i) pkts.push_back({i * 100'000ULL, 100});
    const auto keep = TestLink("delay: {plugin: normal, mean: 20ms, stddev: 2ms}").run(pkts);
    const auto drop = TestLink("delay: {plugin: normal, mean: 20ms, stddev: 2ms}, order: drop").run(pkts);
    CHECK(count_fate(keep, Fate::kDropOrder) == 0);
    CHECK(count_fate(drop, Fate::kDropOrder) > 1000);
    for (const auto *v : {&keep, &drop}) {
        uint64_t last = 0;
        for (const Verdict &x : *v)
            if (x.fate == Fate::kForward) {
                CHECK(x.release_ns >= last);
                last = x.release_ns;
            }
    }
}

TEST_CASE("trace: frames leave at the trace's delivery opportunities, repeated", "[plugin]") {
    TempDir dir;
    // Opportunities at 1, 1, 2 and 3 ms, repeated every 3 ms.
    const std::string file = dir.write("link.trace", "1\n1\n2\n3\n");
    const auto full =
        TestLink("bandwidth: {plugin: trace, file: \"" + file + "\"}, queue: 100 packets").run(std::vector<PacketIn>(8, PacketIn{0, 1504}));
    CHECK(releases(full) == std::vector<uint64_t>{1'000'000, 1'000'000, 2'000'000, 3'000'000, 4'000'000, 4'000'000, 5'000'000, 6'000'000});
    // Half-size frames share an opportunity; a frame arriving after an opportunity waits for the next.
    const auto half = TestLink("bandwidth: {plugin: trace, file: \"" + file + "\"}").run({{0, 752}, {0, 752}, {0, 752}, {2'500'000, 752}});
    CHECK(releases(half) == std::vector<uint64_t>{1'000'000, 1'000'000, 1'000'000, 3'000'000});
}

TEST_CASE("steps: the rate schedule, including an outage, exactly", "[plugin]") {
    // 8 Mbit/s for 1 ms, then nothing for 1 ms, repeated; 500-byte frames take 0.5 ms at 8 Mbit/s.
    const auto v = TestLink("bandwidth: {plugin: steps, rates: [8Mbit/s, 0bit/s], durations: [1ms, 1ms]}, queue: 100 packets")
                       .run(std::vector<PacketIn>(5, PacketIn{0, 500}));
    CHECK(releases(v) == std::vector<uint64_t>{500'000, 1'000'000, 2'500'000, 3'000'000, 4'500'000});
}

TEST_CASE("markov: the long-run rate of good and stalled states", "[stats][plugin]") {
    // 10 Mbit/s for 10 ms on average, then stalled for 10 ms: 5 Mbit/s in the long run.
    // 5000 frames of 1000 bytes (40 Mbit) need about 8 s, some 400 cycles: 15% is about 4 sigma.
    const auto v = TestLink("bandwidth: {plugin: markov, rate: 10Mbit/s, mean_good: 10ms, mean_stall: 10ms}, queue: 10k packets")
                       .run(std::vector<PacketIn>(5000, PacketIn{0, 1000}));
    CHECK(count_fate(v, Fate::kForward) == 5000);
    CHECK(static_cast<double>(v.back().release_ns) / 1e9 == Approx(8.0).epsilon(0.15));
}

TEST_CASE("slot: frames leave only in slots, at most N per slot", "[plugin]") {
    const auto fixed = TestLink("bandwidth: {plugin: slot, min_gap: 1ms, packets: 3}, queue: 100 packets")
                           .run(std::vector<PacketIn>(10, PacketIn{0, 100}));
    CHECK(releases(fixed) == std::vector<uint64_t>{1'000'000, 1'000'000, 1'000'000, 2'000'000, 2'000'000, 2'000'000, 3'000'000, 3'000'000,
                                                   3'000'000, 4'000'000});
    // Gaps uniform in [1 ms, 3 ms]: one frame per slot, 3000 slots end near 3000 x 2 ms.
    const auto spread = TestLink("bandwidth: {plugin: slot, min_gap: 1ms, max_gap: 3ms, packets: 1}, queue: 10k packets")
                            .run(std::vector<PacketIn>(3000, PacketIn{0, 100}));
    CHECK(static_cast<double>(spread.back().release_ns) / 1e6 == Approx(6000).epsilon(0.03));
}

TEST_CASE("a model's decisions depend only on the seed and the packets", "[plugin]") {
    const auto a = losses("loss: {plugin: gilbert_elliott, p: 5%, r: 20%}", 10'000, 100, 99);
    const auto b = losses("loss: {plugin: gilbert_elliott, p: 5%, r: 20%}", 10'000, 100, 99);
    const auto c = losses("loss: {plugin: gilbert_elliott, p: 5%, r: 20%}", 10'000, 100, 100);
    CHECK(a == b);
    CHECK(a != c);
}

TEST_CASE("loss models state their long-run loss (the bounds extension) where the traffic does not decide it", "[plugin]") {
    const auto expected = [](const std::string &fields) { return TestLink(fields).plan().loss->expected_loss(); };
    CHECK(expected("loss: 1%") == Approx(0.01));
    CHECK(expected("loss: {plugin: gilbert_elliott, p: 1%, r: 30%}") == Approx(0.01 / 0.31));
    CHECK(expected("loss: {plugin: gilbert_elliott, p: 1%, r: 30%, loss_bad: 50%, loss_good: 0.1%}") ==
          Approx((0.3 * 0.001 + 0.01 * 0.5) / 0.31));
    CHECK(expected("loss: {plugin: markov4, p13: 1%, p31: 70%, p32: 20%, p23: 5%, p14: 0.5%}") == Approx(0.0179159).epsilon(1e-4));
    CHECK(expected("loss: {plugin: pattern, every: 50}") == Approx(0.02));
    CHECK_FALSE(expected("loss: {plugin: pattern, drop: [3]}"));
    CHECK_FALSE(expected("loss: {plugin: ber, ber: 1e-5}"));  // depends on frame lengths
}
