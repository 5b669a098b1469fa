// [unit] units.hpp: parsing, printing, round trips and every error class.
#include "linkem/units.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace linkem;

namespace {

template <class T>
T must_parse(const std::string &text) {
    Parsed<T> p = T::parse(text);
    INFO("parsing \"" << text << "\": " << p.error);
    REQUIRE(p);
    return *p.value;
}

template <class T>
std::string parse_error(const std::string &text) {
    Parsed<T> p = T::parse(text);
    INFO("parsing \"" << text << "\" should fail");
    REQUIRE_FALSE(p);
    return p.error;
}

}  // namespace

TEST_CASE("durations parse in every unit", "[unit][units]") {
    CHECK(must_parse<Duration>("250ns").ns == 250);
    CHECK(must_parse<Duration>("10us").ns == 10'000);
    CHECK(must_parse<Duration>("10\xC2\xB5s").ns == 10'000);
    CHECK(must_parse<Duration>("1.5ms").ns == 1'500'000);
    CHECK(must_parse<Duration>("2s").ns == 2'000'000'000);
    CHECK(must_parse<Duration>("20 ms").ns == 20'000'000);
    CHECK(must_parse<Duration>("  7ms ").ns == 7'000'000);
    CHECK(must_parse<Duration>("0").ns == 0);
    CHECK(must_parse<Duration>("0.000000001s").ns == 1);
    CHECK(must_parse<Duration>("9223372036.854775807s").ns == INT64_MAX);
    CHECK(must_parse<Duration>("1.000000000000000000000000000000000s").ns == 1'000'000'000);  // trailing zeros are free
    CHECK(must_parse<Duration>("10\xCE\xBCs").ns == 10'000);                                  // Greek mu as well as the micro sign
}

TEST_CASE("rates parse in bits and bytes with decimal prefixes", "[unit][units]") {
    CHECK(must_parse<Rate>("100bit/s").bits_per_s == 100);
    CHECK(must_parse<Rate>("64kbit/s").bits_per_s == 64'000);
    CHECK(must_parse<Rate>("100Mbit/s").bits_per_s == 100'000'000);
    CHECK(must_parse<Rate>("1Gbit/s").bits_per_s == 1'000'000'000);
    CHECK(must_parse<Rate>("10kbps").bits_per_s == 10'000);
    CHECK(must_parse<Rate>("100Mbps").bits_per_s == 100'000'000);
    CHECK(must_parse<Rate>("1Gbps").bits_per_s == 1'000'000'000);
    CHECK(must_parse<Rate>("12.5MB/s").bits_per_s == 100'000'000);
    CHECK(must_parse<Rate>("1B/s").bits_per_s == 8);
    CHECK(must_parse<Rate>("2.5 Gbit/s").bits_per_s == 2'500'000'000);
}

TEST_CASE("sizes use powers of 1000 for KB and 1024 for KiB", "[unit][units]") {
    CHECK(must_parse<ByteSize>("1500B").bytes == 1500);
    CHECK(must_parse<ByteSize>("64KB").bytes == 64'000);
    CHECK(must_parse<ByteSize>("64kB").bytes == 64'000);
    CHECK(must_parse<ByteSize>("256KiB").bytes == 262'144);
    CHECK(must_parse<ByteSize>("1MiB").bytes == 1'048'576);
    CHECK(must_parse<ByteSize>("1.5KiB").bytes == 1536);
    CHECK(must_parse<ByteSize>("2GB").bytes == 2'000'000'000);
    CHECK(must_parse<ByteSize>("0").bytes == 0);
}

TEST_CASE("packet counts take an optional decimal prefix", "[unit][units]") {
    CHECK(must_parse<PacketCount>("1000 packets").packets == 1000);
    CHECK(must_parse<PacketCount>("1 packet").packets == 1);
    CHECK(must_parse<PacketCount>("1000packets").packets == 1000);
    CHECK(must_parse<PacketCount>("64k packets").packets == 64'000);
    CHECK(must_parse<PacketCount>("1M packets").packets == 1'000'000);
    CHECK(must_parse<PacketCount>("2.5k pkts").packets == 2500);
}

TEST_CASE("probabilities accept percentages and a bare zero", "[unit][units]") {
    CHECK(must_parse<Probability>("1%").scaled == Probability::kOne / 100);
    CHECK(must_parse<Probability>("100%").scaled == Probability::kOne);
    CHECK(must_parse<Probability>("0").scaled == 0);
    CHECK(must_parse<Probability>("0.0").scaled == 0);
    CHECK(must_parse<Probability>("0.0001%").scaled == Probability::kOne / 1'000'000);
    CHECK(must_parse<Probability>("0.5%").value() == Approx(0.005));
}

TEST_CASE("values print in the shortest exact unit", "[unit][units]") {
    CHECK(Duration{1'500'000}.to_string() == "1.5ms");
    CHECK(Duration{20'000'000}.to_string() == "20ms");
    CHECK(Duration{250}.to_string() == "250ns");
    CHECK(Duration{0}.to_string() == "0ns");
    CHECK(Duration{2'000'000'000}.to_string() == "2s");
    CHECK(Rate{50'000'000}.to_string() == "50Mbit/s");
    CHECK(Rate{1'500'000'000}.to_string() == "1.5Gbit/s");
    CHECK(Rate{64'000}.to_string() == "64kbit/s");
    CHECK(ByteSize{262'144}.to_string() == "256KiB");
    CHECK(ByteSize{64'000}.to_string() == "64KB");
    CHECK(ByteSize{1500}.to_string() == "1.5KB");
    CHECK(ByteSize{1501}.to_string() == "1501B");
    CHECK(ByteSize{1'000'000'000'000}.to_string() == "1TB");
    CHECK(ByteSize{1ULL << 40}.to_string() == "1TiB");
    CHECK(PacketCount{1000}.to_string() == "1000 packets");
    CHECK(PacketCount{1}.to_string() == "1 packet");
    CHECK(must_parse<Probability>("1%").to_string() == "1%");
    CHECK(Probability{0}.to_string() == "0%");
    CHECK(Probability{Probability::kOne}.to_string() == "100%");
    CHECK(must_parse<Probability>("0.1%").to_string() == "0.1%");
}

TEST_CASE("printing and parsing round-trip for random values", "[unit][units]") {
    std::mt19937_64 rng(42);  // fixed seed: the same 20000 values every run
    for (int i = 0; i < 20000; ++i) {
        const uint64_t raw = rng();
        // Mix full-range values with "round" ones, which take the prefixed units.
        const uint64_t round = (raw % 100000) * (i % 3 == 0 ? 1 : i % 3 == 1 ? 1000 : 1'000'000);
        for (uint64_t v : {raw, round}) {
            const Duration d{static_cast<int64_t>(v >> 1)};
            REQUIRE(must_parse<Duration>(d.to_string()) == d);
            const Rate r{v};
            REQUIRE(must_parse<Rate>(r.to_string()) == r);
            const ByteSize s{v};
            REQUIRE(must_parse<ByteSize>(s.to_string()) == s);
            const PacketCount n{v};
            REQUIRE(must_parse<PacketCount>(n.to_string()) == n);
            const Probability p{v % (Probability::kOne + 1)};
            REQUIRE(must_parse<Probability>(p.to_string()) == p);
        }
    }
}

TEST_CASE("negative values are refused with an example", "[unit][units]") {
    for (const std::string &e : {parse_error<Duration>("-5ms"), parse_error<Rate>("-1Mbit/s"), parse_error<ByteSize>("-1KiB"),
                                 parse_error<PacketCount>("-3 packets"), parse_error<Probability>("-1%")}) {
        CHECK_THAT(e, Catch::Contains("negative"));
        CHECK_THAT(e, Catch::Contains("(examples: "));
    }
}

TEST_CASE("overflow is refused, naming the largest value", "[unit][units]") {
    CHECK_THAT(parse_error<Duration>("9223372037s"), Catch::Contains("above the largest, 9223372036.854775807s"));
    CHECK_THAT(parse_error<Rate>("18446744073709551616bit/s"), Catch::Contains("above the largest"));
    CHECK_THAT(parse_error<ByteSize>("20000000000GiB"), Catch::Contains("above the largest"));
    CHECK_THAT(parse_error<Probability>("150%"), Catch::Contains("above the largest, 100%"));
    CHECK_THAT(parse_error<Probability>("100.5%"), Catch::Contains("above the largest, 100%"));
    CHECK_THAT(parse_error<Duration>("123456789012345678901234ns"), Catch::Contains("too many digits"));
}

TEST_CASE("a bare-number probability is refused: netem reads 0.5 as 0.5%", "[unit][units][netem]") {
    CHECK_THAT(parse_error<Probability>("0.5"), Catch::Contains("a bare number is ambiguous") && Catch::Contains("write 0.5% or 50%"));
    CHECK_THAT(parse_error<Probability>("1"), Catch::Contains("write 1% or 100%"));
    CHECK_THAT(parse_error<Probability>("0.001"), Catch::Contains("write 0.001% or 0.1%"));
    CHECK_THAT(parse_error<Probability>(" 25 "), Catch::Contains("write 25% or 2500%"));
    // Whatever to_string prints carries its unit, so it parses under the rule.
    for (uint64_t scaled : {uint64_t{1}, Probability::kOne / 2, Probability::kOne})
        CHECK_THAT(Probability{scaled}.to_string(), Catch::EndsWith("%"));
}

TEST_CASE("tc's rate units are refused with the linkem form of the same value", "[unit][units][netem]") {
    CHECK_THAT(parse_error<Rate>("10mbit"),
               Catch::Contains("unknown unit \"mbit\"") && Catch::Contains("megabits per second") && Catch::Contains("write 10Mbit/s"));
    CHECK_THAT(parse_error<Rate>("10kbit"), Catch::Contains("write 10kbit/s"));
    CHECK_THAT(parse_error<Rate>("1gbit"), Catch::Contains("write 1Gbit/s"));
    CHECK_THAT(parse_error<Rate>("2.5mbps"), Catch::Contains("megabytes per second") && Catch::Contains("write 2.5MB/s"));
    CHECK_THAT(parse_error<Rate>("10Mbit"), Catch::Contains("write 10Mbit/s"));
    // The linkem forms it suggests are accepted with the meaning tc gives.
    CHECK(must_parse<Rate>("10Mbit/s").bits_per_s == 10'000'000);
    CHECK(must_parse<Rate>("2.5MB/s").bits_per_s == 20'000'000);
}

TEST_CASE("a missing unit is refused, except for a bare zero where it is unambiguous", "[unit][units]") {
    CHECK_THAT(parse_error<Duration>("20"), Catch::Contains("the unit is missing") && Catch::Contains("examples: 250ns"));
    CHECK_THAT(parse_error<Rate>("100"), Catch::Contains("the unit is missing") && Catch::Contains("100Mbit/s"));
    CHECK_THAT(parse_error<ByteSize>("1500"), Catch::Contains("the unit is missing"));
    CHECK_THAT(parse_error<PacketCount>("1000"), Catch::Contains("the unit is missing"));
    CHECK_THAT(parse_error<Rate>("0"), Catch::Contains("the unit is missing"));
}

TEST_CASE("unknown units, words and ambiguous units are refused", "[unit][units]") {
    CHECK(parse_error<Duration>("20 parsecs") ==
          "\"20 parsecs\" is not a duration: unknown unit \"parsecs\" (examples: 250ns, 10us, 1.5ms, 2s)");
    CHECK_THAT(parse_error<Duration>("fast"), Catch::Contains("does not start with a number"));
    CHECK_THAT(parse_error<Rate>("10MBps"), Catch::Contains("ambiguous"));
    CHECK_THAT(parse_error<ByteSize>("1Mb"), Catch::Contains("unknown unit \"Mb\""));
    CHECK_THAT(parse_error<Duration>(""), Catch::Contains("empty value"));
    CHECK_THAT(parse_error<Duration>("1.2.3ms"), Catch::Contains("unknown unit \".3ms\""));
    CHECK_THAT(parse_error<Duration>("5.ms"), Catch::Contains("unknown unit \".ms\""));
    CHECK_THAT(parse_error<Duration>("1Bps"), !Catch::Contains("ambiguous"));
}

TEST_CASE("values finer than the resolution are refused", "[unit][units]") {
    CHECK_THAT(parse_error<Duration>("0.5ns"), Catch::Contains("finer than the resolution of 1ns"));
    CHECK_THAT(parse_error<Rate>("0.5bit/s"), Catch::Contains("finer than the resolution"));
    CHECK_THAT(parse_error<ByteSize>("1.0001KiB"), Catch::Contains("finer than the resolution"));
    CHECK_THAT(parse_error<PacketCount>("1.5 packets"), Catch::Contains("finer than the resolution"));
}

TEST_CASE("transmission time follows the rate", "[unit][units]") {
    CHECK(Rate{1'000'000'000}.tx_time_ns(125) == Approx(1000.0));
    CHECK(Rate{50'000'000}.tx_time_ns(1500) == Approx(240'000.0));
}

TEST_CASE("reports print measured values with 3 significant digits in the unit a person reads", "[unit][units][human]") {
    CHECK(human_duration(60'817'407) == "60.8 ms");
    CHECK(human_duration(850) == "850 ns");
    CHECK(human_duration(0) == "0 ns");
    CHECK(human_duration(1'000) == "1 us");
    CHECK(human_duration(12'345) == "12.3 us");
    CHECK(human_duration(999'600) == "1 ms");  // rounds up into the next unit, never "1000 us"
    CHECK(human_duration(2'500'000'000) == "2.5 s");
    CHECK(human_duration(3'600e9) == "3600 s");  // seconds are the largest unit
    CHECK(human_si(9'823'456, "bit/s") == "9.82 Mbit/s");
    CHECK(human_si(50e6, "bit/s") == "50 Mbit/s");
    CHECK(human_si(1.2e9, "B") == "1.2 GB");
    CHECK(human_si(999, "pps") == "999 pps");
    CHECK(human_si(1'234'567, "pps") == "1.23 Mpps");
    CHECK(human_percent(0.01234) == "1.23%");
    CHECK(human_percent(1.11) == "111%");
    CHECK(human_percent(0.5) == "50%");
    CHECK(human_percent(0) == "0%");
    CHECK(human_percent(1) == "100%");
    // Short of 100% (or above 0%) never reads as 100% (0%).
    CHECK(human_percent(0.99996) == "99.996%");
    CHECK(human_percent(0.9999999) == "99.99999%");
    CHECK(human_percent(2e-9) == "0.0000002%");
}
