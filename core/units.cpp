// Parsing and printing of every unit linkem accepts (see units.hpp for the contract).
//
// All parsing is exact integer arithmetic: the number is read as a decimal
// mantissa with a count of fraction digits, multiplied by the unit's scale in
// 128 bits, and must divide back to a whole number of the base unit.
#include "linkem/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <string>
#include <limits>
#include <vector>

namespace linkem {
namespace {

__extension__ using u128 = unsigned __int128;

struct Unit {
    std::string suffix;
    u128 scale;  // base units per 1 of this unit
};

struct Quantity {
    const char *kind;       // "a duration"
    const char *examples;   // "250ns, 10us"
    const char *base_unit;  // for the resolution message: "1ns"
    const std::vector<Unit> &units;
    bool bare_zero_ok;                   // "0" with no unit is accepted
    u128 max_value;                      // largest value in base units
    const char *largest;                 // max_value as the user would write it
    bool hint_bytes_per_s = false;       // explain "MBps" and tc's units (rates only)
    bool bare_number_ambiguous = false;  // "0.5" could be 0.5% (netem) or 50%: refused (probabilities only)
};

constexpr int kMaxMantissaDigits = 20;  // keeps mantissa * scale (scale <= 1e18) inside 128 bits
constexpr int kMaxFractionDigits = 30;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

u128 pow10(int n) {
    u128 v = 1;
    while (n-- > 0) v *= 10;
    return v;
}

std::string not_a(const Quantity &q, std::string_view text, std::string_view reason) {
    return fmt::format("\"{}\" is not {}: {} (examples: {})", text, q.kind, reason, q.examples);
}

// tc's rate units (man tc: "bit", "kbit", "mbit", ..., and "bps", "kbps", "mbps" for
// bytes per second), for those linkem does not accept: what they mean, and the
// linkem unit with the same value.
struct TcUnitMeaning {
    const char *what;
    const char *linkem;
};
std::optional<TcUnitMeaning> tc_rate_unit(std::string_view suffix) {
    struct Entry {
        const char *tc;
        TcUnitMeaning meaning;
    };
    static const Entry kTcUnits[] = {
        {"bit", {"bits per second", "bit/s"}},       {"kbit", {"kilobits per second", "kbit/s"}},
        {"mbit", {"megabits per second", "Mbit/s"}}, {"gbit", {"gigabits per second", "Gbit/s"}},
        {"tbit", {"terabits per second", "Tbit/s"}}, {"Kbit", {"kilobits per second", "kbit/s"}},
        {"Mbit", {"megabits per second", "Mbit/s"}}, {"Gbit", {"gigabits per second", "Gbit/s"}},
        {"Tbit", {"terabits per second", "Tbit/s"}}, {"mbps", {"megabytes per second", "MB/s"}},
        {"gbps", {"gigabytes per second", "GB/s"}},  {"tbps", {"terabytes per second", "TB/s"}},
    };
    for (const Entry &e : kTcUnits)
        if (suffix == e.tc) return e.meaning;
    return std::nullopt;
}

// Exact decimal rendering of value / scale with at most max_decimals digits after
// the point; empty when the value cannot be written exactly that way.
std::string exact_decimal(u128 value, u128 scale, int max_decimals) {
    const u128 whole = value / scale;
    u128 rest = value % scale;
    std::string out = fmt::format("{}", static_cast<uint64_t>(whole));
    if (rest == 0) return out;
    out += '.';
    for (int d = 0; d < max_decimals && rest != 0; ++d) {
        rest *= 10;
        out += static_cast<char>('0' + static_cast<int>(rest / scale));
        rest %= scale;
    }
    return rest == 0 ? out : std::string{};
}

Parsed<u128> parse_quantity(std::string_view raw, const Quantity &q) {
    const std::string_view text = trim(raw);
    if (text.empty()) return Parsed<u128>::fail(fmt::format("empty value: expected {} (examples: {})", q.kind, q.examples));
    if (text.front() == '-') return Parsed<u128>::fail(not_a(q, text, "it is negative"));

    // The number: digits, then optionally '.' and at least one digit. Zeros
    // that end the fraction change nothing and are not counted as digits.
    u128 mantissa = 0;
    int significant = 0, fraction_digits = 0, pending_zeros = 0;
    size_t i = 0;
    const auto take_digit = [&](char c, bool in_fraction) {
        if (in_fraction && c == '0') {
            ++pending_zeros;
            return true;
        }
        for (; pending_zeros > 0; --pending_zeros) {
            mantissa *= 10;
            ++fraction_digits;
            if (mantissa != 0) ++significant;
        }
        if (in_fraction) ++fraction_digits;
        if (mantissa != 0 || c != '0') ++significant;
        mantissa = mantissa * 10 + static_cast<unsigned>(c - '0');
        return significant <= kMaxMantissaDigits && fraction_digits <= kMaxFractionDigits;
    };
    const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    for (; i < text.size() && is_digit(text[i]); ++i)
        if (!take_digit(text[i], false)) return Parsed<u128>::fail(not_a(q, text, "too many digits"));
    if (i == 0) return Parsed<u128>::fail(not_a(q, text, "it does not start with a number"));
    if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) {
        for (++i; i < text.size() && is_digit(text[i]); ++i)
            if (!take_digit(text[i], true)) return Parsed<u128>::fail(not_a(q, text, "too many digits"));
    }

    const std::string_view suffix = trim(text.substr(i));
    const Unit *unit = nullptr;
    for (const Unit &u : q.units)
        if (u.suffix == suffix) unit = &u;
    if (unit == nullptr) {
        if (suffix.empty()) {
            if (q.bare_zero_ok && mantissa == 0) return Parsed<u128>::ok(0);
            if (q.bare_number_ambiguous) {
                const std::string as_fraction = exact_decimal(mantissa * 100, pow10(fraction_digits), kMaxFractionDigits);
                return Parsed<u128>::fail(not_a(
                    q, text, fmt::format("a bare number is ambiguous (netem reads {0} as {0}%): write {0}% or {1}%", text, as_fraction)));
            }
            return Parsed<u128>::fail(not_a(q, text, "the unit is missing"));
        }
        if (q.hint_bytes_per_s && suffix.size() >= 3 && suffix.substr(suffix.size() - 3) == "Bps")
            return Parsed<u128>::fail(not_a(q, text, fmt::format("\"{}\" is ambiguous: write B/s for bytes or bit/s for bits", suffix)));
        if (q.hint_bytes_per_s)
            if (const auto meaning = tc_rate_unit(suffix))
                return Parsed<u128>::fail(not_a(q, text,
                                                fmt::format("unknown unit \"{}\"; in tc, {}{} is {}: write {}{} in linkem", suffix,
                                                            text.substr(0, i), suffix, meaning->what, text.substr(0, i), meaning->linkem)));
        return Parsed<u128>::fail(not_a(q, text, fmt::format("unknown unit \"{}\"", suffix)));
    }

    const u128 scaled = mantissa * unit->scale;  // cannot overflow: < 1e20 * 1e18
    const u128 divisor = pow10(fraction_digits);
    if (scaled % divisor != 0) return Parsed<u128>::fail(not_a(q, text, fmt::format("it is finer than the resolution of {}", q.base_unit)));
    const u128 value = scaled / divisor;
    if (value > q.max_value) return Parsed<u128>::fail(not_a(q, text, fmt::format("it is above the largest, {}", q.largest)));
    return Parsed<u128>::ok(value);
}

// The shortest exact form among the printable units (ties go to the larger unit).
// A unit larger than the value is not used ("0.5ms" prints as "500us"), except
// the smallest, which may be all there is ("0.1%").
std::string format_quantity(u128 value, const std::vector<Unit> &printable, int max_decimals) {
    if (value == 0) return "0" + printable.front().suffix;
    std::string best;
    for (const Unit &u : printable) {
        if (value < u.scale && &u != &printable.front()) continue;
        const std::string number = exact_decimal(value, u.scale, max_decimals);
        if (number.empty()) continue;
        std::string candidate = number + u.suffix;
        if (best.empty() || candidate.size() <= best.size()) best = std::move(candidate);
    }
    return best;
}

std::vector<Unit> with_prefixes(const std::vector<std::pair<std::string, u128>> &prefixes,
                                const std::vector<std::pair<std::string, u128>> &bases) {
    std::vector<Unit> units;
    for (const auto &[prefix, prefix_scale] : prefixes)
        for (const auto &[base, base_scale] : bases) units.push_back({prefix + base, prefix_scale * base_scale});
    return units;
}

constexpr u128 kE3 = 1000, kE6 = kE3 * kE3, kE9 = kE6 * kE3, kE12 = kE9 * kE3;
constexpr u128 kKi = 1024, kMi = kKi * 1024, kGi = kMi * 1024, kTi = kGi * 1024;
constexpr u128 kMaxU64 = std::numeric_limits<uint64_t>::max();

// "µs" with the micro sign (U+00B5) or the Greek mu (U+03BC): both are typed.
const std::vector<Unit> kDurationUnits = {{"ns", 1}, {"us", kE3}, {"\xC2\xB5s", kE3}, {"\xCE\xBCs", kE3}, {"ms", kE6}, {"s", kE9}};
const std::vector<Unit> kDurationPrint = {{"ns", 1}, {"us", kE3}, {"ms", kE6}, {"s", kE9}};

const std::vector<Unit> kRateUnits = with_prefixes({{"", 1}, {"k", kE3}, {"K", kE3}, {"M", kE6}, {"G", kE9}, {"T", kE12}},
                                                   {{"bit/s", 1}, {"bps", 1}, {"b/s", 1}, {"B/s", 8}});
const std::vector<Unit> kRatePrint = {{"bit/s", 1}, {"kbit/s", kE3}, {"Mbit/s", kE6}, {"Gbit/s", kE9}, {"Tbit/s", kE12}};

const std::vector<Unit> kSizeUnits = {{"B", 1},     {"bytes", 1}, {"kB", kE3},  {"KB", kE3},  {"MB", kE6}, {"GB", kE9},
                                      {"TB", kE12}, {"KiB", kKi}, {"MiB", kMi}, {"GiB", kGi}, {"TiB", kTi}};
const std::vector<Unit> kSizePrint = {{"B", 1},    {"KB", kE3},  {"KiB", kKi}, {"MB", kE6}, {"MiB", kMi},
                                      {"GB", kE9}, {"GiB", kGi}, {"TB", kE12}, {"TiB", kTi}};

std::vector<Unit> packet_units() {
    std::vector<Unit> units;
    for (const auto &[prefix, scale] : std::vector<std::pair<std::string, u128>>{{"", 1}, {"k", kE3}, {"K", kE3}, {"M", kE6}, {"G", kE9}})
        for (const char *word : {"packets", "packet", "pkts", "pkt"}) {
            units.push_back({prefix + word, scale});
            if (!prefix.empty()) units.push_back({prefix + " " + word, scale});
        }
    return units;
}
const std::vector<Unit> kPacketUnits = packet_units();

constexpr u128 kPercent = Probability::kOne / 100;
const std::vector<Unit> kProbabilityUnits = {{"%", kPercent}};
const std::vector<Unit> kProbabilityPrint = {{"%", kPercent}};

const Quantity kDuration{
    "a duration",           Duration::kExamples, "1ns", kDurationUnits, true, static_cast<u128>(std::numeric_limits<int64_t>::max()),
    "9223372036.854775807s"};
const Quantity kRate{"a rate", Rate::kExamples, "1bit/s", kRateUnits, false, kMaxU64, "18446744073709551615bit/s", true};
const Quantity kSize{"a size", ByteSize::kExamples, "1B", kSizeUnits, true, kMaxU64, "18446744073709551615B"};
const Quantity kPackets{"a packet count", PacketCount::kExamples, "1 packet", kPacketUnits, false, kMaxU64, "18446744073709551615 packets"};
const Quantity kProbability{
    "a probability", Probability::kExamples, "0.0000000000000001%", kProbabilityUnits, true, Probability::kOne, "100%", false, true};

template <class T, class Field>
Parsed<T> wrap(Parsed<u128> parsed, Field T::*field) {
    if (!parsed) return Parsed<T>::fail(std::move(parsed.error));
    T out{};
    out.*field = static_cast<Field>(*parsed.value);
    return Parsed<T>::ok(out);
}

}  // namespace

Parsed<Duration> Duration::parse(std::string_view text) { return wrap(parse_quantity(text, kDuration), &Duration::ns); }
std::string Duration::to_string() const { return format_quantity(static_cast<u128>(ns), kDurationPrint, 9); }

Parsed<Rate> Rate::parse(std::string_view text) { return wrap(parse_quantity(text, kRate), &Rate::bits_per_s); }
std::string Rate::to_string() const { return format_quantity(bits_per_s, kRatePrint, 9); }

Parsed<ByteSize> ByteSize::parse(std::string_view text) { return wrap(parse_quantity(text, kSize), &ByteSize::bytes); }
std::string ByteSize::to_string() const { return format_quantity(bytes, kSizePrint, 3); }

Parsed<PacketCount> PacketCount::parse(std::string_view text) { return wrap(parse_quantity(text, kPackets), &PacketCount::packets); }
std::string PacketCount::to_string() const { return fmt::format("{} {}", packets, packets == 1 ? "packet" : "packets"); }

Parsed<Probability> Probability::parse(std::string_view text) { return wrap(parse_quantity(text, kProbability), &Probability::scaled); }
std::string Probability::to_string() const { return format_quantity(scaled, kProbabilityPrint, 16); }

}  // namespace linkem

namespace linkem {
namespace {

// x (>= 0) with 3 significant digits and at least min_decimals, trailing zeros dropped.
std::string three_digits(double x, int min_decimals = 0) {
    const int decimals = std::max(min_decimals, x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : x >= 0.1 ? 3 : x >= 0.01 ? 4 : 5);
    std::string out = fmt::format("{:.{}f}", x, decimals);
    if (out.find('.') != std::string::npos) {
        while (out.back() == '0') out.pop_back();
        if (out.back() == '.') out.pop_back();
    }
    return out;
}

// The value scaled into the first unit (steps of 1000) that keeps its rounded digits below 1000.
std::string scaled(double value, const char *const *units, size_t count, const char *suffix) {
    const char *sign = value < 0 ? "-" : "";
    double x = value < 0 ? -value : value;
    size_t u = 0;
    while (u + 1 < count && std::stod(three_digits(x)) >= 1000) {
        x /= 1000;
        ++u;
    }
    return fmt::format("{}{} {}{}", sign, three_digits(x), units[u], suffix);
}

}  // namespace

std::string human_duration(double ns) {
    static const char *const units[] = {"ns", "us", "ms", "s"};
    return scaled(ns, units, 4, "");
}

std::string human_si(double value, const char *unit) {
    static const char *const prefixes[] = {"", "k", "M", "G", "T", "P"};
    return scaled(value, prefixes, 6, unit);
}

std::string human_percent(double fraction) {
    const double x = 100 * fraction;
    std::string out = three_digits(x);
    // A fraction short of 1 (or above 0) must not read as 100% (or 0%).
    for (int decimals = 1; decimals <= 12 && ((out == "100" && fraction < 1) || (out == "0" && fraction > 0)); ++decimals)
        out = three_digits(x, decimals);
    return out + "%";
}

std::string utc_timestamp_text(int64_t unix_ns) {
    const int64_t ms = unix_ns / 1'000'000;
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm t{};
    gmtime_r(&seconds, &t);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                       t.tm_sec, ms % 1000);
}

}  // namespace linkem
