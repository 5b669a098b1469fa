// Config -> YAML in human units: what `linkem --check` prints. The output is a
// valid configuration that loads back to the same effective configuration.
#include "linkem/config.hpp"
#include "linkem/config_change.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace linkem {
namespace {

// A YAML scalar: plain when it cannot be misread, double-quoted otherwise.
// Spaces inside are plain (`1000 packets`; with none of ":#,[]{}" a flow
// mapping reads them back whole); at either end they would be trimmed.
std::string scalar(std::string_view s) {
    const bool plain = !s.empty() &&
                       std::all_of(s.begin(), s.end(),
                                   [](char c) {
                                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                                              c == '.' || c == '/' || c == '%' || c == '-' || c == '+' || c == ' ';
                                   }) &&
                       s.front() != '-' && s.front() != '.' && s.front() != '%' &&  // "%" starts a YAML directive
                       s.front() != ' ' && s.back() != ' ';
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

std::string mangle(const Mangle &m) {
    std::vector<std::string> parts;
    if (m.duplicate) parts.push_back(fmt::format("duplicate: {}", scalar(m.duplicate->to_string())));
    if (m.corrupt) parts.push_back(fmt::format("corrupt: {}", scalar(m.corrupt->to_string())));
    if (m.corrupt_ber) parts.push_back(fmt::format("corrupt: {{ber: {}}}", scalar(m.corrupt_ber->to_string())));
    if (m.truncate_bytes) parts.push_back(fmt::format("truncate: {}", ByteSize{*m.truncate_bytes}.to_string()));
    if (m.ecn) parts.push_back("ecn: true");
    if (m.reorder)
        parts.push_back(fmt::format("reorder: {{probability: {}, extra_delay: {}}}", scalar(m.reorder->to_string()),
                                    m.reorder_extra_delay.to_string()));
    return fmt::format("{{{}}}", fmt::join(parts, ", "));
}

std::string per_flow(const PerFlow &pf) {
    std::vector<std::string> key;
    const FlowKeySpec &k = pf.key;
    if (k.src_bits) key.push_back(fmt::format("src: /{}", k.src_bits));
    if (k.dst_bits) key.push_back(fmt::format("dst: /{}", k.dst_bits));
    if (k.src6_bits) key.push_back(fmt::format("src6: /{}", k.src6_bits));
    if (k.dst6_bits) key.push_back(fmt::format("dst6: /{}", k.dst6_bits));
    if (k.proto) key.push_back("proto: true");
    if (k.src_port) key.push_back("src_port: true");
    if (k.dst_port) key.push_back("dst_port: true");
    return fmt::format("{{key: {{{}}}, max_flows: {}, idle_timeout: {}{}}}", fmt::join(key, ", "), pf.max_flows,
                       pf.idle_timeout.to_string(), pf.aggregate ? ", aggregate: " + pf.aggregate->to_string() : "");
}

std::string rule(const Config &c, const Rule &r) {
    std::vector<std::string> match;
    for (const auto &[key, value] : r.match_text) match.push_back(fmt::format("{}: {}", key, scalar(value)));
    std::string out = fmt::format("{{match: {{{}}}, ", fmt::join(match, ", "));
    std::vector<std::string> names;
    for (size_t i : r.links) names.push_back(scalar(c.links[i].name));
    switch (r.action) {
    case Rule::Action::kLink: return out + fmt::format("link: {}}}", names.front());
    case Rule::Action::kChain: return out + fmt::format("chain: [{}]}}", fmt::join(names, ", "));
    case Rule::Action::kPass: return out + "action: pass}";
    case Rule::Action::kDrop: return out + "action: drop}";
    }
    return out + "}";
}

// A replay source: its file as written (resolved again when loaded back) and every setting.
std::string replay(const Replay &r) {
    std::string pace;
    switch (r.pace) {
    case Replay::Pace::kSpeed: {
        std::string fraction = fmt::format("{:09}", r.speed_ppb % Replay::kSpeedOne);
        while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
        pace = fmt::format("speed: {}.{}", r.speed_ppb / Replay::kSpeedOne, fraction.empty() ? "0" : fraction);
        break;
    }
    case Replay::Pace::kPps: pace = fmt::format("pps: {}", r.pps); break;
    case Replay::Pace::kRate: pace = fmt::format("rate: {}", scalar(r.rate.to_string())); break;
    case Replay::Pace::kTopspeed: pace = "topspeed: true"; break;
    }
    std::string memory;  // when not the defaults (auto, 1MiB chunks)
    if (r.memory_bytes) memory += ", memory: " + scalar(ByteSize{*r.memory_bytes}.to_string());
    if (r.chunk_bytes != Replay::kDefaultChunkBytes) memory += ", chunk: " + scalar(ByteSize{r.chunk_bytes}.to_string());
    return fmt::format("{{replay: {}, {}, loop: {}, start: {}{}}}", scalar(r.file), pace, r.loops ? fmt::format("{}", *r.loops) : "forever",
                       scalar(r.start.to_string()), memory);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> link_yaml_fields(const Link &l) {
    std::vector<std::pair<std::string, std::string>> fields;
    if (!l.from.empty()) fields.emplace_back("from", scalar(l.from));
    if (!l.to.empty()) fields.emplace_back("to", scalar(l.to));
    if (l.bandwidth) fields.emplace_back("bandwidth", model(*l.bandwidth));
    fields.emplace_back("overhead", l.overhead_name.empty() ? fmt::format("{}", l.overhead_bytes) : l.overhead_name);
    if (l.holds_queue()) {  // {discipline: NAME, limit: ..., the scheduler's keys, the discipline's parameters (ecn among them)}
        std::vector<std::string> parts;
        const QueueSchedulerSpec *s = l.scheduler ? &*l.scheduler : nullptr;
        if (s != nullptr && s->fq_codel)
            parts.push_back("discipline: fq_codel");
        else if (l.discipline)
            parts.push_back(fmt::format("discipline: {}", scalar(l.discipline->plugin)));
        parts.push_back(fmt::format("limit: {}", queue(l.queue)));
        if (s != nullptr) {
            const bool drr = s->kind == QueueSchedulerSpec::Kind::kDrr;
            if (!s->fq_codel) parts.push_back(fmt::format("scheduler: {}", drr ? "drr" : "fq"));
            if (!drr) parts.push_back(fmt::format("flows: {}", s->flows));
            parts.push_back(fmt::format("quantum: {}", ByteSize{s->quantum_bytes}.to_string()));
            std::vector<std::string> classes;
            for (const QueueClass &c : s->classes) {
                std::vector<std::string> match;
                for (const auto &[key, value] : c.match_text) match.push_back(fmt::format("{}: {}", key, scalar(value)));
                classes.push_back(fmt::format("{{name: {}, {}weight: {}}}", scalar(c.name),
                                              match.empty() ? "" : fmt::format("match: {{{}}}, ", fmt::join(match, ", ")), c.weight));
            }
            if (drr) parts.push_back(fmt::format("classes: [{}]", fmt::join(classes, ", ")));
        }
        if (l.discipline) {
            const std::string params = model(*l.discipline);  // "{plugin: NAME, ...}"
            const size_t comma = params.find(", ");
            if (comma != std::string::npos) parts.push_back(params.substr(comma + 2, params.size() - comma - 3));
        }
        fields.emplace_back("queue", fmt::format("{{{}}}", fmt::join(parts, ", ")));
    } else {
        fields.emplace_back("queue", queue(l.queue));
    }
    if (l.delay) fields.emplace_back("delay", model(*l.delay));
    if (l.order_drop) fields.emplace_back("order", "drop");
    if (l.loss) fields.emplace_back("loss", model(*l.loss));
    if (l.arena_packets) fields.emplace_back("arena", scalar(PacketCount{*l.arena_packets}.to_string()));
    if (l.mangle.any()) fields.emplace_back("mangle", mangle(l.mangle));
    if (l.per_flow) fields.emplace_back("per_flow", per_flow(*l.per_flow));
    return fields;
}

std::vector<std::pair<std::string, std::string>> link_key_values(const Link &l) {
    // The keys a runtime change compares: the YAML's but from and to, with order always stated.
    std::vector<std::pair<std::string, std::string>> out;
    for (auto &[key, value] : link_yaml_fields(l))
        if (key != "from" && key != "to" && key != "order") out.emplace_back(key, value);
    out.emplace_back("order", l.order_drop ? "drop" : "keep");
    return out;
}

std::string timeline_yaml(const Timeline &t) {
    if (t.steps.empty()) return "";
    std::vector<std::string> steps;
    for (const TimelineStep &s : t.steps) {
        std::vector<std::string> set;
        for (const auto &[key, value] : s.set) set.push_back(fmt::format("{}: {}", key, value));
        steps.push_back(fmt::format("{{at: {}, link: {}, set: {{{}}}}}", s.at.to_string(), scalar(s.link_name), fmt::join(set, ", ")));
    }
    return fmt::format("{{from: {}{}, steps: [{}]}}", t.from_first_packet ? "first_packet" : "start",
                       t.repeat ? ", repeat: " + t.repeat->to_string() : std::string(), fmt::join(steps, ", "));
}

std::string to_yaml(const Config &c) {
    std::string out = fmt::format("name: {}\nports:\n", scalar(c.name));
    for (const Port &p : c.ports)
        out += p.replay ? fmt::format("  {}: {}\n", scalar(p.name), replay(*p.replay))
                        : fmt::format("  {}: {{device: {}}}\n", scalar(p.name), scalar(p.device));
    out += "links:\n";
    for (const Link &l : c.links) {
        out += fmt::format("  - name: {}\n", scalar(l.name));
        for (const auto &[key, value] : link_yaml_fields(l)) out += fmt::format("    {}: {}\n", key, value);
    }
    if (!c.rules.empty()) {
        out += "rules:\n";
        for (const Rule &r : c.rules) out += fmt::format("  - {}\n", rule(c, r));
    }
    std::string lcores = "auto";
    if (!c.pipeline.lcores.empty()) lcores = fmt::format("[{}]", fmt::join(c.pipeline.lcores, ", "));
    const std::string classify = c.pipeline.classify_lcore ? fmt::format(", classify_lcore: {}", *c.pipeline.classify_lcore) : "";
    out +=
        fmt::format("pipeline: {{burst: {}, lcores: {}{}, sleep_threshold: {}, idle_after: {}, idle_nap: {}}}\n", c.pipeline.burst, lcores,
                    classify, c.pipeline.sleep_threshold.to_string(), c.pipeline.idle_after.to_string(), c.pipeline.idle_nap.to_string());
    out += fmt::format("stats: {{lateness_tolerance: {}{}}}\n", c.stats.lateness_tolerance.to_string(),
                       c.stats.prometheus ? ", prometheus: " + scalar(c.stats.prometheus->to_string()) : std::string());
    out += fmt::format("capture: {}\n", c.capture ? "true" : "false");
    out += fmt::format("seed: {}\n", c.seed_random ? std::string("random") : fmt::format("{}", c.seed));
    if (!c.eal.empty()) {
        std::vector<std::string> args;
        for (const std::string &a : c.eal) args.push_back(scalar(a));
        out += fmt::format("eal: [{}]\n", fmt::join(args, ", "));
    }
    if (!c.timeline.steps.empty()) out += fmt::format("timeline: {}\n", timeline_yaml(c.timeline));
    return out;
}

}  // namespace linkem
