// Config -> YAML in human units: what `linkem --check` prints. The output is a
// valid configuration that loads back to the same effective configuration.
#include "linkem/config.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {
namespace {

// A YAML scalar: plain when it cannot be misread, double-quoted otherwise.
std::string scalar(std::string_view s) {
    const bool plain = !s.empty() &&
                       std::all_of(s.begin(), s.end(),
                                   [](char c) {
                                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                                              c == '.' || c == '/' || c == '%' || c == '-' || c == '+';
                                   }) &&
                       s.front() != '-' && s.front() != '.';
    // Words YAML reads as null must be quoted to stay strings.
    const bool null_word = s == "null" || s == "Null" || s == "NULL";
    if (plain && !null_word) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20)
                out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
            else
                out += c;
        }
    }
    return out + "\"";
}

std::string model(const ModelSpec &spec) {
    if (spec.shorthand) {
        // The loader checked the value; print it in canonical units ("0.05Gbit/s" -> "50Mbit/s").
        const std::string &key = spec.params.front().key;
        if (key == "delay") return spec.duration(key).value.value_or(Duration{}).to_string();
        if (key == "rate") return spec.rate(key).value.value_or(Rate{}).to_string();
        return spec.probability(key).value.value_or(Probability{}).to_string();
    }
    std::string out = fmt::format("{{plugin: {}", scalar(spec.plugin));
    for (const ModelParam &p : spec.params) {
        out += fmt::format(", {}: ", scalar(p.key));
        if (!p.is_list) {
            out += scalar(p.values.front());
            continue;
        }
        out += "[";
        for (size_t i = 0; i < p.values.size(); ++i) out += (i ? ", " : "") + scalar(p.values[i]);
        out += "]";
    }
    return out + "}";
}

std::string queue(const QueueLimit &q) {
    if (q.packets && q.bytes) return fmt::format("{{packets: {}, bytes: {}}}", *q.packets, ByteSize{*q.bytes}.to_string());
    if (q.packets) return scalar(PacketCount{*q.packets}.to_string());
    return ByteSize{q.bytes.value_or(0)}.to_string();
}

}  // namespace

std::string to_yaml(const Config &c) {
    std::string out = "ports:\n";
    for (const Port &p : c.ports) out += fmt::format("  {}: {{device: {}}}\n", scalar(p.name), scalar(p.device));
    out += "links:\n";
    for (const Link &l : c.links) {
        out += fmt::format("  - name: {}\n    from: {}\n    to: {}\n", scalar(l.name), scalar(l.from), scalar(l.to));
        if (l.bandwidth) out += fmt::format("    bandwidth: {}\n", model(*l.bandwidth));
        out += fmt::format("    overhead: {}\n", l.overhead_name.empty() ? fmt::format("{}", l.overhead_bytes) : l.overhead_name);
        out += fmt::format("    queue: {}\n", queue(l.queue));
        if (l.delay) out += fmt::format("    delay: {}\n", model(*l.delay));
        if (l.loss) out += fmt::format("    loss: {}\n", model(*l.loss));
        if (l.arena_packets) out += fmt::format("    arena: {}\n", scalar(PacketCount{*l.arena_packets}.to_string()));
    }
    std::string lcores = "auto";
    if (!c.pipeline.lcores.empty()) lcores = fmt::format("[{}]", fmt::join(c.pipeline.lcores, ", "));
    out += fmt::format("pipeline: {{burst: {}, lcores: {}, sleep_threshold: {}}}\n", c.pipeline.burst, lcores,
                       c.pipeline.sleep_threshold.to_string());
    out += fmt::format("stats: {{lateness_tolerance: {}}}\n", c.stats.lateness_tolerance.to_string());
    out += fmt::format("capture: {}\n", c.capture ? "true" : "false");
    out += fmt::format("seed: {}\n", c.seed_random ? std::string("random") : fmt::format("{}", c.seed));
    if (!c.eal.empty()) {
        std::vector<std::string> args;
        for (const std::string &a : c.eal) args.push_back(scalar(a));
        out += fmt::format("eal: [{}]\n", fmt::join(args, ", "));
    }
    return out;
}

}  // namespace linkem
