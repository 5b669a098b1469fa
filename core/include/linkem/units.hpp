// Units as types, parsed and printed in exactly one place.
//
// Every quantity a user writes in a configuration goes through this header:
//
//   Duration     250ns 10us 1.5ms 2s            (also µs; bare 0)       -> integer ns
//   Rate         100bit/s 64kbit/s 1Gbps 12.5MB/s                       -> integer bit/s
//   ByteSize     1500B 64KB 256KiB 1MiB          (bare 0)                -> integer bytes
//   PacketCount  1000 packets, 1M packets, 1 packet                      -> integer packets
//   Probability  1% 0.5% 0.001%                  (bare 0)                -> fixed point, 1e-18 steps
//
// Contract:
//  - parse() accepts an unsigned decimal number (digits, optional fraction),
//    optional spaces, then a unit from the table below. The value must be a
//    whole number of the base unit ("0.5ns" is refused, "1.5KiB" is 1536 B).
//  - Decimal prefixes are powers of 1000 (k, M, G, T); binary prefixes
//    (KiB, MiB, GiB) are powers of 1024. Rates accept bits (bit/s, bps) and
//    bytes (B/s); "MBps" is refused as ambiguous. tc's spellings that linkem
//    does not take ("10mbit", "1gbit", tc's "mbps" = megabytes per second)
//    are refused with the linkem form of the same value ("10Mbit/s", "10MB/s").
//  - A probability needs its "%": a bare number other than 0 is refused,
//    because netem reads "loss 0.5" as 0.5% where a fraction would be 50%;
//    the message offers both readings ("write 0.5% or 50%").
//  - Negative numbers, overflow, a missing or unknown unit and values below
//    the resolution are errors; the message says which, and shows valid
//    examples.
//  - to_string() prints an exact value in the shortest unit form, so
//    parse(x.to_string()) == x for every value (the round-trip property).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace linkem {

// Either a value or an error message ready to show to the user.
template <class T>
struct Parsed {
    std::optional<T> value;
    std::string error;

    static Parsed ok(T v) { return {std::move(v), {}}; }
    static Parsed fail(std::string message) { return {std::nullopt, std::move(message)}; }
    explicit operator bool() const { return value.has_value(); }
};

struct Duration {
    int64_t ns = 0;

    static constexpr const char *kExamples = "250ns, 10us, 1.5ms, 2s";
    static Parsed<Duration> parse(std::string_view text);
    std::string to_string() const;
    auto operator<=>(const Duration &) const = default;
};

struct Rate {
    uint64_t bits_per_s = 0;

    static constexpr const char *kExamples = "64kbit/s, 100Mbit/s, 1Gbps, 12.5MB/s";
    static Parsed<Rate> parse(std::string_view text);
    std::string to_string() const;
    // Time a frame of len_bytes occupies the link at this rate, in ns (not rounded).
    double tx_time_ns(uint64_t len_bytes) const { return static_cast<double>(len_bytes) * 8e9 / static_cast<double>(bits_per_s); }
    auto operator<=>(const Rate &) const = default;
};

struct ByteSize {
    uint64_t bytes = 0;

    static constexpr const char *kExamples = "1500B, 64KB, 256KiB, 1MiB";
    static Parsed<ByteSize> parse(std::string_view text);
    std::string to_string() const;
    auto operator<=>(const ByteSize &) const = default;
};

struct PacketCount {
    uint64_t packets = 0;

    static constexpr const char *kExamples = "1000 packets, 64k packets, 1M packets";
    static Parsed<PacketCount> parse(std::string_view text);
    std::string to_string() const;
    auto operator<=>(const PacketCount &) const = default;
};

// A probability in [0, 1], kept as an exact decimal fixed-point number so that
// "0.1%" prints back as "0.1%" and compares exactly.
struct Probability {
    static constexpr uint64_t kOne = 1'000'000'000'000'000'000ULL;  // 1.0
    uint64_t scaled = 0;                                            // units of 1e-18

    static constexpr const char *kExamples = "1%, 0.5%, 0.001%";
    static Parsed<Probability> parse(std::string_view text);
    std::string to_string() const;  // always as a percentage
    double value() const { return static_cast<double>(scaled) / static_cast<double>(kOne); }
    auto operator<=>(const Probability &) const = default;
};

}  // namespace linkem

namespace linkem {

// Measured values for a person to read at a glance (reports, not
// configuration): 3 significant digits, trailing zeros dropped, in the unit
// that keeps the number below 1000 ("60.8 ms", "9.82 Mbit/s", "1.2 GB").
// Not exact and not meant to be parsed back: the JSON reports keep the
// exact integers.
std::string human_duration(double ns);                 // ns, us, ms, s: 60817407 -> "60.8 ms", 850 -> "850 ns"
std::string human_si(double value, const char *unit);  // decimal prefixes k M G T P: (9.823e6, "bit/s") -> "9.82 Mbit/s"
std::string human_percent(double fraction);            // 3 significant digits: 0.01234 -> "1.23%", 1.11 -> "111%", 0.99996 -> "99.996%"
                                                       // (never "100%" or "0%" unless exactly so)
// A wall-clock time (ns since the Unix epoch, at or after it) in UTC, ISO 8601 to the
// millisecond: 1764687662250000000 -> "2025-12-02T15:01:02.250Z". Status lines and
// --stats-jsonl lines carry it.
std::string utc_timestamp_text(int64_t unix_ns);

}  // namespace linkem
