// YAML -> Config, collecting every error with its position and key path.
//
// The walk only follows the structure the configuration defines (it never
// recurses into arbitrary user nodes), so aliases that would expand
// exponentially ("billion laughs") cost nothing, and yaml-cpp's own depth guard
// bounds nesting while parsing.
#include "linkem/config.hpp"
#include "linkem/config_change.hpp"
#include "linkem/device_iface.hpp"
#include "linkem/netem_translate.hpp"
#include "linkem/suggest.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <arpa/inet.h>
#include <sys/stat.h>

namespace linkem {

namespace {

// Control characters a configuration held (a newline in a quoted name, a
// terminal escape) shown as \xHH, so that an error is one harmless line.
std::string visible(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
            out += c;
    }
    return out;
}

}  // namespace

std::string ConfigError::to_string() const {
    if (path.empty()) return visible(fmt::format("{}:{}:{}: {}", file, pos.line, pos.column, message));
    return visible(fmt::format("{}:{}:{}: {}: {}", file, pos.line, pos.column, path, message));
}

Parsed<ListenAddress> ListenAddress::parse(std::string_view text) {
    using Result = Parsed<ListenAddress>;
    const auto fail = [&](std::string_view why) {
        return Result::fail(fmt::format("expected HOST:PORT such as 127.0.0.1:9464, got \"{}\": {}", text, why));
    };
    ListenAddress a;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find("]:");
        if (close == std::string_view::npos) return fail("an IPv6 address in brackets needs \":PORT\" after it ([::1]:9464)");
        a.host = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
        in6_addr v6{};
        if (inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) return fail(fmt::format("\"{}\" is not an IPv6 address", a.host));
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return fail("no \":PORT\" (127.0.0.1:9464 listens on this machine only)");
        a.host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
        if (a.host.empty()) return fail("no host (127.0.0.1 for this machine only, 0.0.0.0 for every interface)");
        if (a.host.find(':') != std::string::npos) return fail("an IPv6 address goes in brackets, such as [::1]:9464");
        const bool numeric = std::all_of(a.host.begin(), a.host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
        in_addr v4{};
        if (numeric && inet_pton(AF_INET, a.host.c_str(), &v4) != 1) return fail(fmt::format("\"{}\" is not an IPv4 address", a.host));
        const bool name_chars = std::all_of(a.host.begin(), a.host.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        });
        if (!name_chars || a.host.size() > 253) return fail(fmt::format("\"{}\" is neither an IP address nor a host name", a.host));
    }
    const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                        std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; });
    const unsigned long port = digits ? std::stoul(std::string(port_text)) : 0;
    if (port < 1 || port > 65535) return fail(fmt::format("the port must be a number from 1 to 65535, not \"{}\"", port_text));
    a.port = static_cast<uint16_t>(port);
    return Result::ok(std::move(a));
}

std::string ListenAddress::to_string() const {
    return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

const Port *Config::find_port(std::string_view port_name) const {
    for (const Port &p : ports)
        if (p.name == port_name) return &p;
    return nullptr;
}

const ModelParam *ModelSpec::find(std::string_view key) const {
    for (const ModelParam &p : params)
        if (p.key == key) return &p;
    return nullptr;
}

namespace {

template <class T>
Parsed<T> typed_param(const ModelSpec &spec, std::string_view key) {
    const ModelParam *p = spec.find(key);
    if (p == nullptr) return Parsed<T>::fail(fmt::format("missing parameter \"{}\"", key));
    if (p->is_list) return Parsed<T>::fail(fmt::format("parameter \"{}\" takes one value, not a list", key));
    return T::parse(p->values.front());
}

}  // namespace

Parsed<Duration> ModelSpec::duration(std::string_view key) const { return typed_param<Duration>(*this, key); }
Parsed<Rate> ModelSpec::rate(std::string_view key) const { return typed_param<Rate>(*this, key); }
Parsed<Probability> ModelSpec::probability(std::string_view key) const { return typed_param<Probability>(*this, key); }

namespace {

// Why a running disciplined link's queue cannot become b's (empty: it can).
// Its held queue was made for its limits, scheduler and ECN parsing; only the
// discipline and its parameters may change.
std::string held_queue_refusal(const Link &a, const Link &b) {
    if (!b.holds_queue()) return "it cannot lose its held queue";
    if (a.discipline.has_value() != b.discipline.has_value())
        return a.discipline ? "its queues cannot lose their discipline" : "its queues cannot get a discipline";
    if (a.queue.packets != b.queue.packets || a.queue.bytes != b.queue.bytes) return "its limit cannot change";
    if (a.discipline_ecn != b.discipline_ecn) return "its ecn cannot change (it decides which frames the ingress parses)";
    if (a.scheduler.has_value() != b.scheduler.has_value()) return "it cannot get or lose a scheduler";
    if (a.scheduler) {
        const QueueSchedulerSpec &x = *a.scheduler, &y = *b.scheduler;
        bool same = x.kind == y.kind && x.flows == y.flows && x.quantum_bytes == y.quantum_bytes && x.classes.size() == y.classes.size();
        for (size_t i = 0; same && i < x.classes.size(); ++i)
            same = x.classes[i].name == y.classes[i].name && x.classes[i].weight == y.classes[i].weight &&
                   x.classes[i].match_text == y.classes[i].match_text;
        if (!same) return "its scheduler, flows, quantum and classes cannot change";
    }
    return "";
}

// The refusal of a change to what a running disciplined link's held queue was made for.
std::string held_queue_message(const std::string &link_name, const std::string &why) {
    return fmt::format(
        "link \"{}\" has a queue discipline: {} while linkem runs yet (only the discipline and its parameters can; "
        "restart linkem with the new configuration)",
        link_name, why);
}

SourcePos pos_of(const YAML::Node &node) {
    const YAML::Mark m = node.Mark();
    if (m.line < 0 || m.column < 0) return {};
    return {m.line + 1, m.column + 1};
}

std::string child(const std::string &path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}
std::string item(const std::string &path, size_t index) { return fmt::format("{}[{}]", path, index); }

std::string describe(const YAML::Node &node) {
    switch (node.Type()) {
    case YAML::NodeType::Map: return node.size() == 0 ? "an empty mapping" : "a mapping";
    case YAML::NodeType::Sequence: return node.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Scalar: return fmt::format("\"{}\"", node.Scalar());
    default: return "nothing";
    }
}

// Strings handed to DPDK must not hide control characters (a NUL would cut them short).
bool has_control_character(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool is_identifier(std::string_view s) {
    if (s.empty() || s.size() > kMaxNameLength) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    });
}

Parsed<uint64_t> parse_uint(std::string_view text, uint64_t max) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return Parsed<uint64_t>::fail(fmt::format("\"{}\" is not a whole number", text));
    uint64_t v = 0;
    for (char c : text) {
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (v > (max - digit) / 10) return Parsed<uint64_t>::fail(fmt::format("{} is above the largest allowed, {}", text, max));
        v = v * 10 + digit;
    }
    return Parsed<uint64_t>::ok(v);
}

// A replay speed, "2", "0.5", "1.25", in billionths (at most 9 decimals).
Parsed<uint64_t> parse_speed_ppb(std::string_view text) {
    const auto fail = [&] {
        return Parsed<uint64_t>::fail(fmt::format(
            "\"{}\" is not a speed factor: expected a number such as 1.0 (the recorded timing), 2 (twice as fast) or 0.5", text));
    };
    const size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    const auto digits = [](std::string_view d) { return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }); };
    if ((whole.empty() && fraction.empty()) || !digits(whole) || !digits(fraction) || fraction.size() > 9 || whole.size() > 9 ||
        (dot != std::string_view::npos && fraction.empty()))
        return fail();
    uint64_t v = 0;
    for (char c : whole) v = v * 10 + static_cast<uint64_t>(c - '0');
    uint64_t frac = 0;
    for (size_t i = 0; i < 9; ++i) frac = frac * 10 + (i < fraction.size() ? static_cast<uint64_t>(fraction[i] - '0') : 0);
    return Parsed<uint64_t>::ok(v * Replay::kSpeedOne + frac);
}

std::optional<SourcePos> find_binary(std::string_view text);

// What is wrong with a string the YAML parser produced, if anything. The file
// is UTF-8 (checked before parsing), but escapes can still make invalid
// UTF-8: yaml-cpp 0.7 decodes "\N" and "\_" to the single bytes 0x85 and 0xA0
// instead of U+0085 and U+00A0. Such a string could not be printed back as
// text, so it is refused where it stands.
std::optional<std::string> not_text(std::string_view s) {
    std::string without_nul(s);  // a NUL is refused by the checks of the place that uses the string
    std::replace(without_nul.begin(), without_nul.end(), '\0', ' ');
    if (find_binary(without_nul))
        return "holds bytes that are not UTF-8 (yaml-cpp reads the escapes \"\\N\" and \"\\_\" as single bytes: write \"\\u0085\" or "
               "\"\\u00a0\")";
    return std::nullopt;
}

// A model parameter's value reaches the model as a C string: no NUL in it.
std::optional<std::string> param_value_problem(std::string_view s) {
    if (s.find('\0') != std::string_view::npos) return "holds a NUL character";
    return not_text(s);
}

// A mapping's entries, after the checks every mapping gets: keys are plain
// scalars of text, no key appears twice, and (when `known` is given) every key is known.
struct Entry {
    YAML::Node key;
    YAML::Node value;
};

extern const std::vector<std::string> kLinkKeys;  // a link's keys (below): netem's words get hints there

class Loader {
  public:
    explicit Loader(std::string file) : file_(std::move(file)) {}

    std::vector<ConfigError> take_errors() { return std::move(errors_); }

    void error(SourcePos pos, std::string path, std::string message) {
        errors_.push_back({file_, pos, std::move(path), std::move(message)});
    }
    void error(const YAML::Node &at, std::string path, std::string message) { error(pos_of(at), std::move(path), std::move(message)); }

    // nullptr for `known` accepts any key (plugin parameters).
    std::map<std::string, Entry> entries(const YAML::Node &map, const std::string &path, const std::vector<std::string> *known,
                                         std::vector<std::string> *order = nullptr) {
        std::map<std::string, Entry> out;
        if (!map.IsMap()) return out;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const YAML::Node key = it->first;
            if (!key.IsScalar()) {
                error(key, path, fmt::format("a key must be a plain word, not {}", describe(key)));
                continue;
            }
            const std::string name = key.Scalar();
            if (const auto problem = not_text(name)) {
                error(key, path, fmt::format("a key {}", *problem));
                continue;
            }
            if (const auto first = out.find(name); first != out.end()) {
                const SourcePos p = pos_of(first->second.key);
                error(key, child(path, name), fmt::format("duplicate key \"{}\" (first at line {}, column {})", name, p.line, p.column));
                continue;
            }
            if (known != nullptr && std::find(known->begin(), known->end(), name) == known->end()) {
                // netem's words get the linkem form (only in a link: elsewhere "rate" may mean something else).
                const auto netem = known == &kLinkKeys ? netem_key_hint(name) : std::nullopt;
                const auto guess = nearest_word(name, *known);
                const std::string hint = netem ? "; " + *netem : guess ? fmt::format("; did you mean \"{}\"?", *guess) : "";
                error(key, child(path, name), fmt::format("unknown key \"{}\"{} (known keys: {})", name, hint, join(*known)));
                continue;
            }
            out.emplace(name, Entry{key, it->second});
            if (order != nullptr) order->push_back(name);
        }
        return out;
    }

    // The scalar text of a value, or an error that says what was expected.
    std::optional<std::string> scalar(const Entry &e, const std::string &path, std::string_view expected) {
        if (e.value.IsScalar()) {
            if (const auto problem = not_text(e.value.Scalar())) {
                error(e.value, path, fmt::format("the value {}", *problem));
                return std::nullopt;
            }
            return e.value.Scalar();
        }
        error(e.value.IsNull() ? e.key : e.value, path, fmt::format("expected {}, got {}", expected, describe(e.value)));
        return std::nullopt;
    }

    template <class T>
    std::optional<T> unit_value(const Entry &e, const std::string &path, std::string_view expected) {
        const auto text = scalar(e, path, expected);
        if (!text) return std::nullopt;
        Parsed<T> parsed = T::parse(*text);
        if (!parsed) error(e.value, path, parsed.error);
        return parsed.value;
    }

    std::optional<uint64_t> whole_number(const Entry &e, const std::string &path, uint64_t min, uint64_t max) {
        const auto text = scalar(e, path, fmt::format("a whole number from {} to {}", min, max));
        if (!text) return std::nullopt;
        const Parsed<uint64_t> parsed = parse_uint(*text, max);
        if (!parsed) {
            error(e.value, path, fmt::format("{} (expected a whole number from {} to {})", parsed.error, min, max));
            return std::nullopt;
        }
        if (*parsed.value < min) {
            error(e.value, path, fmt::format("{} is below the smallest allowed, {} (range {} to {})", *parsed.value, min, min, max));
            return std::nullopt;
        }
        return parsed.value;
    }

    Config load(const YAML::Node &root);

  private:
    void load_ports(const Entry &e, Config &c);
    std::optional<Replay> load_replay(const std::map<std::string, Entry> &fields, const std::string &path);
    void load_links(const Entry &e, Config &c);
    std::optional<Link> load_link(const YAML::Node &node, const std::string &path);
    void load_pipeline(const Entry &e, Config &c);
    void load_stats(const Entry &e, Config &c);
    void load_eal(const Entry &e, Config &c);
    std::optional<ModelSpec> load_model(const Entry &e, const std::string &path, const struct ModelKind &kind);
    std::optional<QueueLimit> load_queue(const Entry &e, const std::string &path);
    void load_discipline(const Entry &e, const std::string &path, Link &link);
    void load_queue_classes(const Entry &e, const std::string &path, QueueSchedulerSpec &scheduler);
    bool load_param(const std::string &key, const Entry &f, const std::string &param_path, const std::string &path, ModelSpec &spec);
    void load_overhead(const Entry &e, const std::string &path, Link &link);
    void check_links(const Config &c, const std::vector<size_t> &yaml_index);
    void load_mangle(const Entry &e, const std::string &path, Link &link);
    void load_per_flow(const Entry &e, const std::string &path, Link &link);
    void load_rules(const Entry &e, Config &c);
    std::optional<Rule> load_rule(const YAML::Node &node, const std::string &path, const Config &c);
    bool load_match(const Entry &e, const std::string &path, const Config &c, Rule &rule);
    void check_paths(const Config &c);
    void load_timeline(const Entry &e, Config &c);
    std::optional<TimelineStep> load_timeline_step(const YAML::Node &node, const std::string &path, const Config &c);
    std::optional<bool> boolean(const Entry &e, const std::string &path);
    std::optional<uint8_t> prefix_bits(const Entry &e, const std::string &path, uint8_t max);

    std::string file_;
    std::vector<ConfigError> errors_;
    std::vector<std::string> port_names_;  // every key under ports, in file order
    std::set<std::string> replay_ports_;   // the ports with `replay:` (links may not go to them)
    std::vector<std::string> link_names_;  // every link name written, loaded or not
    std::vector<YAML::Node> link_nodes_;   // by Config::links index: the link's mapping as written
};

const std::vector<std::string> kTopKeys = {"name", "ports", "links", "rules", "pipeline", "stats", "capture", "seed", "eal", "timeline"};
const std::vector<std::string> kTimelineKeys = {"from", "repeat", "steps"};
const std::vector<std::string> kTimelineStepKeys = {"at", "link", "set"};
const std::vector<std::string> kPortKeys = {"device", "replay", "speed", "pps", "rate", "topspeed", "loop", "start", "memory", "chunk"};
const std::vector<std::string> kReplayOnlyKeys = {"speed", "pps", "rate", "topspeed", "loop", "start", "memory", "chunk"};
const std::vector<std::string> kLinkKeys = {"name",  "from",  "to",   "bandwidth", "overhead", "queue",
                                            "delay", "order", "loss", "arena",     "mangle",   "per_flow"};
const std::vector<std::string> kMangleKeys = {"duplicate", "corrupt", "truncate", "ecn", "reorder"};
const std::vector<std::string> kCorruptKeys = {"probability", "ber"};
const std::vector<std::string> kReorderKeys = {"probability", "extra_delay"};
const std::vector<std::string> kPerFlowKeys = {"key", "max_flows", "idle_timeout", "aggregate"};
const std::vector<std::string> kFlowKeyKeys = {"src", "dst", "src6", "dst6", "proto", "src_port", "dst_port"};
const std::vector<std::string> kRuleKeys = {"match", "link", "chain", "action"};
const std::vector<std::string> kMatchKeys = {"port", "ether_type", "vlan",     "inner_vlan", "src",
                                             "dst",  "proto",      "src_port", "dst_port",   "dscp"};
const std::vector<std::string> kQueueKeys = {"packets", "bytes"};
const std::vector<std::string> kPipelineKeys = {"burst", "lcores", "sleep_threshold", "classify_lcore", "idle_after", "idle_nap"};
const std::vector<std::string> kStatsKeys = {"lateness_tolerance", "prometheus"};

Config Loader::load(const YAML::Node &root) {
    Config c;
    c.file = file_;
    if (root.IsNull()) {
        error(SourcePos{1, 1}, "", "the file is empty: expected a mapping with \"ports\" and \"links\" (see docs/CONFIG.md)");
        return c;
    }
    if (!root.IsMap()) {
        error(root, "", fmt::format("expected a mapping with \"ports\" and \"links\" at the top, got {}", describe(root)));
        return c;
    }
    auto top = entries(root, "", &kTopKeys);
    if (auto it = top.find("ports"); it != top.end())
        load_ports(it->second, c);
    else
        error(SourcePos{1, 1}, "ports",
              "missing required key \"ports\" (example: ports: {a: {device: net_null0}, b: {device: net_null1}})");
    if (auto it = top.find("links"); it != top.end())
        load_links(it->second, c);
    else
        error(SourcePos{1, 1}, "links", "missing required key \"links\" (example: links: [{name: a-to-b, from: a, to: b, delay: 10ms}])");
    if (auto it = top.find("rules"); it != top.end()) load_rules(it->second, c);
    if (errors_.empty()) check_paths(c);
    for (const Port &p : c.ports)  // a replay no link starts from would send nothing, and never end
        if (p.replay && std::none_of(c.links.begin(), c.links.end(), [&](const Link &l) { return l.from == p.name; }))
            error(p.replay->pos, child(child("ports", p.name), "replay"),
                  fmt::format("replay source \"{}\" feeds no link: add one that starts there (example: {{name: {}-to-b, from: {}, to: b}})",
                              p.name, p.name, p.name));
    if (auto it = top.find("pipeline"); it != top.end()) load_pipeline(it->second, c);
    if (auto it = top.find("stats"); it != top.end()) load_stats(it->second, c);
    if (auto it = top.find("capture"); it != top.end()) {
        const YAML::Node v = it->second.value;
        if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false"))
            c.capture = v.Scalar() == "true";
        else
            error(v.IsNull() ? it->second.key : v, "capture", fmt::format("expected true or false, got {}", describe(v)));
    }
    if (auto it = top.find("seed"); it != top.end()) {
        if (it->second.value.IsScalar() && it->second.value.Scalar() == "random")
            c.seed_random = true;
        else if (auto seed = whole_number(it->second, "seed", 0, UINT64_MAX))
            c.seed = *seed;
    }
    if (auto it = top.find("eal"); it != top.end()) load_eal(it->second, c);
    if (auto it = top.find("timeline"); it != top.end()) load_timeline(it->second, c);
    if (auto it = top.find("name"); it != top.end())
        if (const auto name = scalar(it->second, "name", "an instance name such as lab2")) {
            if (const std::string problem = instance_name_problem(*name); problem.empty())
                c.name = *name;
            else
                error(it->second.value, "name", problem);
        }
    return c;
}

void Loader::load_ports(const Entry &e, Config &c) {
    if (!e.value.IsMap() || e.value.size() == 0) {
        error(e.value.IsNull() ? e.key : e.value, "ports",
              fmt::format("expected a mapping of port names to devices, such as {{a: {{device: net_null0}}}}, got {}", describe(e.value)));
        return;
    }
    std::vector<std::string> order;
    const auto ports = entries(e.value, "ports", nullptr, &order);
    port_names_ = order;  // links name these, valid or not: no second error for a bad port
    std::map<std::string, std::string> device_owner, interface_owner;
    for (const std::string &name : order) {
        const Entry &pe = ports.at(name);
        const std::string path = child("ports", name);
        if (!is_identifier(name)) {
            error(pe.key, path, fmt::format("port name must be 1 to {} letters, digits, '_', '-' or '.'", kMaxNameLength));
            continue;
        }
        if (!pe.value.IsMap()) {
            error(pe.value.IsNull() ? pe.key : pe.value, path,
                  fmt::format("expected a mapping such as {{device: \"net_tap0,iface=lkm-a\"}}, got {}", describe(pe.value)));
            continue;
        }
        const auto fields = entries(pe.value, path, &kPortKeys);
        const auto dev = fields.find("device");
        if (const auto rep = fields.find("replay"); rep != fields.end()) {
            replay_ports_.insert(name);
            if (dev != fields.end()) {
                error(dev->second.key, child(path, "device"),
                      "a replay source has no device: give device (a DPDK port) or replay (a capture to send), not both");
                continue;
            }
            if (auto replay = load_replay(fields, path)) c.ports.push_back({name, "", pos_of(pe.key), pos_of(rep->second.value), replay});
            continue;
        }
        for (const std::string &key : kReplayOnlyKeys)
            if (const auto it = fields.find(key); it != fields.end())
                error(it->second.key, child(path, key),
                      fmt::format("\"{}\" belongs to a replay source, which this port is not (example: {{replay: trace.pcap, {}}})", key,
                                  key == "loop"     ? "loop: 2"
                                  : key == "start"  ? "start: 1s"
                                  : key == "memory" ? "memory: 256MiB"
                                  : key == "chunk"  ? "chunk: 1MiB"
                                                    : "speed: 2"));
        if (dev == fields.end()) {
            error(pe.value, child(path, "device"),
                  "missing required key \"device\" (a PCI address such as 0000:01:00.0, or vdev devargs such as net_null0; or "
                  "replay: FILE for a replay source)");
            continue;
        }
        const auto device = scalar(dev->second, child(path, "device"), "a DPDK device string such as net_null0 or 0000:01:00.0");
        if (!device) continue;
        if (device->empty() || has_control_character(*device)) {
            error(dev->second.value, child(path, "device"),
                  fmt::format("the device string is {} (examples: net_null0, 0000:01:00.0)",
                              device->empty() ? "empty" : "not printable: it holds a control character"));
            continue;
        }
        if (auto [owner, inserted] = device_owner.emplace(*device, name); !inserted)
            error(dev->second.value, child(path, "device"),
                  fmt::format("device \"{}\" is already used by port \"{}\"", *device, owner->second));
        // One kernel interface under two device names would duplicate or black-hole its traffic.
        for (const std::string &iface : kernel_interfaces(*device))
            if (auto [owner, inserted] = interface_owner.emplace(iface, name); !inserted && owner->second != name)
                error(dev->second.value, child(path, "device"),
                      fmt::format("kernel interface \"{}\" is already used by port \"{}\" (one interface, one port: each port "
                                  "receives all of its traffic)",
                                  iface, owner->second));
        c.ports.push_back({name, *device, pos_of(pe.key), pos_of(dev->second.value), std::nullopt});
    }
}

// A replay source's keys (ports.NAME.replay and its pace, loop and start);
// nothing here opens the file (linkem/replay.hpp reads it before a run).
std::optional<Replay> Loader::load_replay(const std::map<std::string, Entry> &fields, const std::string &path) {
    const size_t errors_before = errors_.size();
    Replay r;
    const Entry &file = fields.at("replay");
    if (const auto text = scalar(file, child(path, "replay"), "a capture file such as trace.pcap (pcap or pcapng)")) {
        if (text->empty() || has_control_character(*text))
            error(file.value, child(path, "replay"),
                  fmt::format("the file name is {} (example: replay: trace.pcap)",
                              text->empty() ? "empty" : "not printable: it holds a control character"));
        r.file = *text;
        const std::filesystem::path written(*text);
        r.path = written.is_absolute() ? *text : (std::filesystem::path(file_).parent_path() / written).string();
        r.pos = pos_of(file.value);
    }
    const char *pace_key = nullptr;  // the first of speed, pps, rate, topspeed: true
    const auto pace = [&](const char *key, Replay::Pace p, const Entry &at) {
        if (pace_key != nullptr) {
            error(at.key, child(path, key),
                  fmt::format("give one of speed, pps, rate or topspeed: {} already sets the pace (example: {{replay: trace.pcap, pps: "
                              "10000}})",
                              pace_key));
            return;
        }
        pace_key = key;
        r.pace = p;
    };
    // In the order written, so that the second pace key is the one named.
    std::vector<std::pair<SourcePos, std::string>> order;
    for (const char *key : {"speed", "pps", "rate", "topspeed"})
        if (const auto it = fields.find(key); it != fields.end()) order.push_back({pos_of(it->second.key), key});
    std::sort(order.begin(), order.end(),
              [](const auto &a, const auto &b) { return std::tie(a.first.line, a.first.column) < std::tie(b.first.line, b.first.column); });
    for (const auto &[at, key] : order) {
        const Entry &e = fields.at(key);
        const std::string p = child(path, key);
        if (key == "speed") {
            const auto text = scalar(e, p, "a speed factor such as 1.0 (the recorded timing) or 2 (twice as fast)");
            if (!text) continue;
            const Parsed<uint64_t> ppb = parse_speed_ppb(*text);
            if (!ppb)
                error(e.value, p, ppb.error);
            else if (*ppb.value == 0 || *ppb.value > kMaxReplaySpeedPpb)
                error(e.value, p,
                      fmt::format("{} is out of range (above 0, up to {}; topspeed: true sends as fast as linkem can)", *text,
                                  kMaxReplaySpeedPpb / Replay::kSpeedOne));
            else {
                r.speed_ppb = *ppb.value;
                pace("speed", Replay::Pace::kSpeed, e);
            }
        } else if (key == "pps") {
            const auto text = scalar(e, p, "a packet rate such as 10000 or 10k");
            if (!text) continue;
            std::string count = *text;
            if (count.size() > 3 && count.compare(count.size() - 3, 3, "pps") == 0) count.resize(count.size() - 3);
            const Parsed<PacketCount> n = PacketCount::parse(count + " packets");
            if (!n || n.value->packets == 0 || n.value->packets > kMaxReplayPps)
                error(e.value, p,
                      fmt::format("\"{}\" is not a packet rate from 1 to {} per second (examples: 10000, 10k, 1M)", *text, kMaxReplayPps));
            else {
                r.pps = n.value->packets;
                pace("pps", Replay::Pace::kPps, e);
            }
        } else if (key == "rate") {
            const auto rate = unit_value<Rate>(e, p, "a rate such as 100Mbit/s");
            if (!rate) continue;
            if (rate->bits_per_s == 0 || rate->bits_per_s > kMaxBandwidthBitsPerS)
                error(e.value, p,
                      fmt::format("{} is out of range (1bit/s to {})", rate->to_string(), Rate{kMaxBandwidthBitsPerS}.to_string()));
            else {
                r.rate = *rate;
                pace("rate", Replay::Pace::kRate, e);
            }
        } else if (const auto on = boolean(e, p); on && *on) {
            pace("topspeed", Replay::Pace::kTopspeed, e);
        }
    }
    if (const auto it = fields.find("loop"); it != fields.end()) {
        if (it->second.value.IsScalar() && it->second.value.Scalar() == "forever")
            r.loops.reset();
        else if (it->second.value.IsScalar() && !parse_uint(it->second.value.Scalar(), UINT64_MAX))
            error(it->second.value, child(path, "loop"),
                  fmt::format("expected a number of times through the trace such as 2, or forever, got \"{}\"", it->second.value.Scalar()));
        else if (const auto n = whole_number(it->second, child(path, "loop"), 1, kMaxReplayLoops))
            r.loops = *n;
    }
    if (const auto it = fields.find("start"); it != fields.end()) {
        if (const auto d = unit_value<Duration>(it->second, child(path, "start"), "a duration such as 1s")) {
            if (d->ns <= kMaxReplayStartNs)
                r.start = *d;
            else
                error(it->second.value, child(path, "start"),
                      fmt::format("{} is out of range (0 to {})", d->to_string(), Duration{kMaxReplayStartNs}.to_string()));
        }
    }
    // chunk, then memory: at least two chunks of it.
    if (const auto it = fields.find("chunk"); it != fields.end()) {
        if (const auto size = unit_value<ByteSize>(it->second, child(path, "chunk"), "a size such as 1MiB")) {
            if (size->bytes < kMinReplayChunkBytes || size->bytes > kMaxReplayChunkBytes || size->bytes % 64 != 0)
                error(it->second.value, child(path, "chunk"),
                      fmt::format("{} is out of range ({} to {}, a multiple of 64 bytes)", size->to_string(),
                                  ByteSize{kMinReplayChunkBytes}.to_string(), ByteSize{kMaxReplayChunkBytes}.to_string()));
            else
                r.chunk_bytes = size->bytes;
        }
    }
    if (const auto it = fields.find("memory"); it != fields.end()) {
        if (it->second.value.IsScalar() && it->second.value.Scalar() == "auto") {
            r.memory_bytes.reset();
        } else if (const auto size = unit_value<ByteSize>(it->second, child(path, "memory"), "a size such as 256MiB, or auto")) {
            if (size->bytes > kMaxReplayMemoryBytes)
                error(it->second.value, child(path, "memory"),
                      fmt::format("{} is out of range (up to {})", size->to_string(), ByteSize{kMaxReplayMemoryBytes}.to_string()));
            else if (size->bytes < 2 * r.chunk_bytes)
                error(it->second.value, child(path, "memory"),
                      fmt::format("{} holds fewer than two chunks of {} (a trace larger than memory streams through at least two: "
                                  "give more memory or a smaller chunk, such as {{memory: 64MiB, chunk: 1MiB}})",
                                  size->to_string(), ByteSize{r.chunk_bytes}.to_string()));
            else
                r.memory_bytes = size->bytes;
        }
    }
    if (errors_.size() != errors_before) return std::nullopt;
    return r;
}

void Loader::load_links(const Entry &e, Config &c) {
    if (!e.value.IsSequence() || e.value.size() == 0) {
        error(e.value.IsNull() ? e.key : e.value, "links",
              fmt::format("expected a list of links, such as [{{name: a-to-b, from: a, to: b, delay: 10ms}}], got {}", describe(e.value)));
        return;
    }
    std::vector<size_t> yaml_index;  // of each loaded link, for paths in cross-link errors
    for (size_t i = 0; i < e.value.size(); ++i) {
        if (auto link = load_link(e.value[i], item("links", i))) {
            c.links.push_back(std::move(*link));
            link_nodes_.push_back(e.value[i]);
            yaml_index.push_back(i);
        }
    }
    check_links(c, yaml_index);
}

// What a model field accepts as a shorthand, and which built-in model that means.
struct ModelKind {
    const char *shorthand_expected;               // "a duration such as 20ms"
    const char *plugin_example;                   // "{plugin: normal, mean: 20ms, stddev: 2ms}"
    const char *builtin;                          // model the shorthand stands for
    const char *param;                            // that model's parameter
    std::string (*check)(std::string_view text);  // empty when the shorthand is valid
};

std::string check_bandwidth(std::string_view text) {
    const Parsed<Rate> r = Rate::parse(text);
    if (!r) return r.error;
    if (r.value->bits_per_s == 0 || r.value->bits_per_s > kMaxBandwidthBitsPerS)
        return fmt::format("{} is out of range (1bit/s to {}; leave bandwidth out for no limit)", r.value->to_string(),
                           Rate{kMaxBandwidthBitsPerS}.to_string());
    return {};
}
std::string check_delay(std::string_view text) {
    const Parsed<Duration> d = Duration::parse(text);
    if (!d) return netem_delay_value_hint(text).value_or(d.error);
    if (d.value->ns > kMaxDelayNs)
        return fmt::format("{} is out of range (0 to {})", d.value->to_string(), Duration{kMaxDelayNs}.to_string());
    return {};
}
std::string check_loss(std::string_view text) {
    const Parsed<Probability> p = Probability::parse(text);
    return p ? std::string{} : netem_loss_value_hint(text).value_or(p.error);
}

const ModelKind kBandwidthKind{"a rate such as 100Mbit/s", "{plugin: trace, file: link.trace}", "constant", "rate", check_bandwidth};
const ModelKind kDelayKind{"a duration such as 20ms", "{plugin: normal, mean: 20ms, stddev: 2ms}", "constant", "delay", check_delay};
const ModelKind kLossKind{"a probability such as 1% or 0.5%", "{plugin: gilbert_elliott, p: 1%, r: 10%}", "bernoulli", "p", check_loss};

std::optional<ModelSpec> Loader::load_model(const Entry &e, const std::string &path, const ModelKind &kind) {
    ModelSpec spec;
    spec.path = path;
    spec.pos = pos_of(e.value);
    if (e.value.IsScalar()) {
        const std::string text = e.value.Scalar();
        if (std::string problem = kind.check(text); !problem.empty()) {
            error(e.value, path, problem);
            return std::nullopt;
        }
        spec.plugin = kind.builtin;
        spec.shorthand = true;
        spec.params.push_back({kind.param, path, spec.pos, {text}, false});
        return spec;
    }
    if (!e.value.IsMap()) {
        error(e.value.IsNull() ? e.key : e.value, path,
              fmt::format("expected {} or a model such as {}, got {}", kind.shorthand_expected, kind.plugin_example, describe(e.value)));
        return std::nullopt;
    }
    std::vector<std::string> order;
    const auto fields = entries(e.value, path, nullptr, &order);
    bool ok = true;
    for (const std::string &key : order) {
        const Entry &f = fields.at(key);
        const std::string param_path = child(path, key);
        if (key == "plugin") {
            const auto name = scalar(f, param_path, "a model name such as \"normal\" or a path such as \"./my_model.so\"");
            if (name && name->empty()) error(f.value, param_path, "the model name is empty");
            if (!name || name->empty())
                ok = false;
            else
                spec.plugin = *name;
            continue;
        }
        if (!load_param(key, f, param_path, path, spec)) ok = false;
    }
    if (fields.find("plugin") == fields.end()) {
        error(e.value, child(path, "plugin"), fmt::format("missing required key \"plugin\" (example: {})", kind.plugin_example));
        ok = false;
    }
    if (!ok) return std::nullopt;
    return spec;
}

// A model's parameter `key` (anything but the keys the host reads itself), appended to spec.params.
bool Loader::load_param(const std::string &key, const Entry &f, const std::string &param_path, const std::string &path, ModelSpec &spec) {
    bool ok = true;
    if (has_control_character(key)) {  // no model names a parameter so; refused here so that no message or print carries it
        error(f.key, path, "a parameter name holds a control character; parameter names are words such as \"mean\"");
        return false;
    }
    ModelParam param{key, param_path, pos_of(f.value), {}, f.value.IsSequence()};
    if (f.value.IsScalar()) {
        if (const auto problem = param_value_problem(f.value.Scalar())) {
            error(f.value, param_path, fmt::format("the value {}", *problem));
            ok = false;
        }
        param.values.push_back(f.value.Scalar());
    } else if (f.value.IsSequence()) {
        for (size_t i = 0; i < f.value.size(); ++i) {
            const YAML::Node v = f.value[i];
            if (!v.IsScalar()) {
                error(v.IsNull() ? f.value : v, item(param_path, i),
                      fmt::format("a list parameter holds plain values, not {}", describe(v)));
                ok = false;
                break;
            }
            if (const auto problem = param_value_problem(v.Scalar())) {
                error(v, item(param_path, i), fmt::format("the value {}", *problem));
                ok = false;
                break;
            }
            param.values.push_back(v.Scalar());
        }
    } else {
        error(f.value.IsNull() ? f.key : f.value, param_path,
              fmt::format("expected a value or a list of values, got {}", describe(f.value)));
        ok = false;
    }
    spec.params.push_back(std::move(param));
    return ok;
}

// queue: {discipline: NAME, limit: ..., ecn: true|false, ...the discipline's parameters}, with a
// scheduler: {scheduler: fq|drr, flows: N, quantum: SIZE, classes: [...], ...} or {discipline: fq_codel, ...}.
void Loader::load_discipline(const Entry &e, const std::string &path, Link &link) {
    ModelSpec spec;
    spec.path = path;
    spec.pos = pos_of(e.value);
    std::vector<std::string> order;
    const auto fields = entries(e.value, path, nullptr, &order);
    std::optional<QueueSchedulerSpec> scheduler;
    const auto want_scheduler = [&]() -> QueueSchedulerSpec & {
        if (!scheduler) {
            scheduler.emplace();
            scheduler->pos = pos_of(e.value);
        }
        return *scheduler;
    };
    bool limit_given = false;
    std::optional<std::string> kind_text;
    for (const std::string &key : order) {
        const Entry &f = fields.at(key);
        const std::string p = child(path, key);
        if (key == "discipline") {
            const auto name = scalar(f, p, "a queue discipline such as codel, pie, red or fq_codel, or a path such as \"./my_aqm.so\"");
            if (name && name->empty()) error(f.value, p, "the discipline's name is empty");
            if (name && *name == "fq_codel") {  // FQ-CoDel (RFC 8290): fair queueing over flows, CoDel in each
                want_scheduler().fq_codel = true;
                spec.plugin = "codel";
            } else if (name && !name->empty()) {
                spec.plugin = *name;
            }
        } else if (key == "scheduler") {
            kind_text = scalar(f, p, "fq (a queue per flow) or drr (a queue per class, by weight)");
            if (kind_text && *kind_text != "fq" && *kind_text != "drr")
                error(f.value, p,
                      fmt::format("\"{}\" is not a scheduler: fq (a queue per flow, as FQ-CoDel) or drr (classes chosen by "
                                  "match:, served by weight)",
                                  *kind_text));
            if (kind_text) want_scheduler().kind = *kind_text == "drr" ? QueueSchedulerSpec::Kind::kDrr : QueueSchedulerSpec::Kind::kFq;
        } else if (key == "flows") {
            if (auto n = whole_number(f, p, 1, QueueSchedulerSpec::kMaxFlows)) want_scheduler().flows = static_cast<uint32_t>(*n);
        } else if (key == "quantum") {
            if (auto size = unit_value<ByteSize>(f, p, "a size such as 1514B")) {
                if (size->bytes < 64 || size->bytes > (1u << 20))
                    error(f.value, p, fmt::format("{} is out of range (64B to 1MiB)", size->to_string()));
                else
                    want_scheduler().quantum_bytes = size->bytes;
            }
        } else if (key == "classes") {
            load_queue_classes(f, p, want_scheduler());
        } else if (key == "limit") {
            limit_given = true;
            if (auto q = load_queue(f, p)) link.queue = *q;
        } else if (key == "packets" || key == "bytes") {
            error(f.key, p,
                  fmt::format("with a discipline the hard limit is written limit: (for example limit: 1000 packets, or "
                              "limit: {{packets: 1000, bytes: 1MiB}}), not {}:",
                              key));
        } else if (key == "ecn") {
            if (auto on = boolean(f, p)) {
                link.discipline_ecn = *on;
                spec.params.push_back({"ecn", p, pos_of(f.value), {*on ? "true" : "false"}, false});
            }
        } else if (key == "plugin") {
            error(f.key, p, "a queue discipline is named by discipline: (for example queue: {discipline: codel}), not plugin:");
        } else {
            load_param(key, f, p, path, spec);
        }
    }
    if (scheduler && !kind_text && !scheduler->fq_codel) {  // flows:, quantum: or classes: alone
        for (const char *key : {"flows", "quantum", "classes"})
            if (fields.count(key) != 0) {
                error(fields.at(key).key, child(path, key),
                      fmt::format("{}: is a scheduler's: give scheduler: fq (or drr), or discipline: fq_codel", key));
                break;
            }
        return;
    }
    if (scheduler && spec.plugin.empty() && fields.count("discipline") == 0 && !spec.params.empty()) {
        const ModelParam &stray = spec.params.front();  // a discipline's parameter, with no discipline to take it
        error(stray.pos, stray.path,
              fmt::format("{}: is a queue discipline's parameter, and the scheduler's queues have none: name it "
                          "(discipline: codel, pie, red or a plugin), or leave out {}:",
                          stray.key, stray.key));
        return;
    }
    if (scheduler) {
        const bool drr = scheduler->kind == QueueSchedulerSpec::Kind::kDrr;
        if (scheduler->fq_codel && kind_text && drr)
            error(fields.at("scheduler").value, child(path, "scheduler"), "fq_codel is fair queueing over flows: leave out scheduler: drr");
        if (drr && scheduler->classes.empty())
            error(e.value, path, "scheduler: drr needs classes: (for example classes: [{match: {proto: tcp}, weight: 3}, {weight: 1}])");
        if (!drr && !scheduler->classes.empty())
            error(fields.at("classes").key, child(path, "classes"), "classes: go with scheduler: drr (fq makes a queue per flow)");
        if (drr && fields.count("flows") != 0)
            error(fields.at("flows").key, child(path, "flows"), "flows: goes with scheduler: fq (drr makes a queue per class)");
        if (!limit_given) link.queue = {drr ? kDefaultQueuePackets : QueueSchedulerSpec::kDefaultFqLimitPackets, std::nullopt};
        link.scheduler = std::move(scheduler);
    } else if (spec.plugin.empty() && fields.count("discipline") == 0) {
        error(e.value, path, "give discipline: (codel, pie, red, fq_codel or a plugin) or scheduler: (fq or drr)");
    }
    if (!spec.plugin.empty()) link.discipline = std::move(spec);
}

// classes: [{name: NAME, match: {...}, weight: N}, ...] of a drr scheduler.
void Loader::load_queue_classes(const Entry &e, const std::string &path, QueueSchedulerSpec &scheduler) {
    if (!e.value.IsSequence() || e.value.size() == 0) {
        error(e.value.IsNull() ? e.key : e.value, path,
              "expected a list of classes such as [{match: {proto: tcp}, weight: 3}, {weight: 1}]");
        return;
    }
    static const std::vector<std::string> kClassKeys = {"name", "match", "weight"};
    static const Config kNoPorts;
    for (size_t i = 0; i < e.value.size(); ++i) {
        const std::string p = fmt::format("{}[{}]", path, i);
        const Entry item{e.value[i], e.value[i]};
        if (!item.value.IsMap()) {
            error(item.value, p,
                  fmt::format("expected a class such as {{match: {{proto: udp}}, weight: 1}}, got {}", describe(item.value)));
            continue;
        }
        QueueClass c;
        c.name = fmt::format("class {}", i);
        const auto fields = entries(item.value, p, &kClassKeys, nullptr);
        if (auto it = fields.find("name"); it != fields.end())
            if (auto name = scalar(it->second, child(p, "name"), "a name")) c.name = *name;
        if (auto it = fields.find("weight"); it != fields.end())
            if (auto w = whole_number(it->second, child(p, "weight"), 1, 1000)) c.weight = static_cast<uint32_t>(*w);
        if (auto it = fields.find("match"); it != fields.end()) {
            if (it->second.value.IsMap() && it->second.value["port"]) {
                error(it->second.value["port"], child(child(p, "match"), "port"),
                      "a class cannot match the arrival port: the link has one (match other header fields)");
            } else {
                Rule holder;
                if (load_match(it->second, child(p, "match"), kNoPorts, holder)) {
                    c.match = holder.match;
                    c.match_text = std::move(holder.match_text);
                }
            }
        }
        scheduler.classes.push_back(std::move(c));
    }
}

std::optional<QueueLimit> Loader::load_queue(const Entry &e, const std::string &path) {
    const std::string range =
        fmt::format("1 to {} packets, {} to {}", kMaxQueuePackets, ByteSize{64}.to_string(), ByteSize{kMaxQueueBytes}.to_string());
    auto in_range_packets = [&](const YAML::Node &at, const std::string &p, uint64_t n) {
        if (n >= 1 && n <= kMaxQueuePackets) return true;
        error(at, p, fmt::format("{} is out of range ({})", PacketCount{n}.to_string(), range));
        return false;
    };
    auto in_range_bytes = [&](const YAML::Node &at, const std::string &p, uint64_t n) {
        if (n >= 64 && n <= kMaxQueueBytes) return true;
        error(at, p, fmt::format("{} is out of range ({})", ByteSize{n}.to_string(), range));
        return false;
    };
    QueueLimit q;
    if (e.value.IsScalar()) {
        const std::string text = e.value.Scalar();
        if (const Parsed<PacketCount> packets = PacketCount::parse(text)) {
            if (!in_range_packets(e.value, path, packets.value->packets)) return std::nullopt;
            q.packets = packets.value->packets;
            return q;
        }
        const Parsed<ByteSize> size = ByteSize::parse(text);
        if (!size) {
            error(e.value, path,
                  fmt::format("\"{}\" is not a queue limit: expected a size such as 256KiB or a packet count such as 1000 packets", text));
            return std::nullopt;
        }
        if (!in_range_bytes(e.value, path, size.value->bytes)) return std::nullopt;
        q.bytes = size.value->bytes;
        return q;
    }
    if (!e.value.IsMap()) {
        error(e.value.IsNull() ? e.key : e.value, path,
              fmt::format(
                  "expected a size such as 256KiB, a packet count such as \"1000 packets\", or {{packets: 1000, bytes: 1MiB}}, got {}",
                  describe(e.value)));
        return std::nullopt;
    }
    const auto fields = entries(e.value, path, &kQueueKeys);
    bool ok = true;
    if (auto it = fields.find("packets"); it != fields.end()) {
        const std::string p = child(path, "packets");
        std::optional<uint64_t> n;
        if (it->second.value.IsScalar() && parse_uint(it->second.value.Scalar(), UINT64_MAX))
            n = *parse_uint(it->second.value.Scalar(), UINT64_MAX).value;
        else if (auto count = unit_value<PacketCount>(it->second, p, "a packet count such as 1000"))
            n = count->packets;
        if (n && in_range_packets(it->second.value, p, *n))
            q.packets = n;
        else
            ok = false;
    }
    if (auto it = fields.find("bytes"); it != fields.end()) {
        const std::string p = child(path, "bytes");
        const auto size = unit_value<ByteSize>(it->second, p, "a size such as 256KiB");
        if (size && in_range_bytes(it->second.value, p, size->bytes))
            q.bytes = size->bytes;
        else
            ok = false;
    }
    if (ok && !q.packets && !q.bytes) {
        error(e.value, path, "give \"packets\", \"bytes\" or both (example: {packets: 1000, bytes: 1MiB})");
        ok = false;
    }
    return ok ? std::optional<QueueLimit>(q) : std::nullopt;
}

void Loader::load_overhead(const Entry &e, const std::string &path, Link &link) {
    const char *expected = "\"ethernet\" (24 bytes: preamble, SFD, FCS and inter-frame gap), \"none\", or a byte count such as 24";
    const auto text = scalar(e, path, expected);
    if (!text) return;
    if (*text == "ethernet" || *text == "none") {
        link.overhead_name = *text;
        link.overhead_bytes = *text == "ethernet" ? kEthernetOverheadBytes : 0;
        return;
    }
    const bool all_digits = std::all_of(text->begin(), text->end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (all_digits && text->size() > 9) {
        error(e.value, path, fmt::format("{} bytes is out of range (0 to {} bytes)", *text, kMaxOverheadBytes));
        return;
    }
    Parsed<uint64_t> bytes = parse_uint(*text, UINT64_MAX);
    if (!bytes) {
        const Parsed<ByteSize> size = ByteSize::parse(*text);
        if (size) bytes = Parsed<uint64_t>::ok(size.value->bytes);
    }
    if (!bytes) {
        const auto guess = nearest_word(*text, {"ethernet", "none"});
        error(e.value, path,
              fmt::format("\"{}\" is not an overhead{}: expected {}", *text, guess ? fmt::format(" (did you mean \"{}\"?)", *guess) : "",
                          expected));
        return;
    }
    if (*bytes.value > kMaxOverheadBytes) {
        error(e.value, path, fmt::format("{} bytes is out of range (0 to {} bytes)", *bytes.value, kMaxOverheadBytes));
        return;
    }
    link.overhead_bytes = static_cast<uint32_t>(*bytes.value);
}

std::optional<Link> Loader::load_link(const YAML::Node &node, const std::string &path) {
    if (!node.IsMap()) {
        error(node, path,
              fmt::format("expected a link mapping such as {{name: a-to-b, from: a, to: b, delay: 10ms}}, got {}", describe(node)));
        return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    const auto fields = entries(node, path, &kLinkKeys);
    Link link;
    link.pos = pos_of(node);
    link.queue.packets = kDefaultQueuePackets;

    for (const char *key : {"name", "from", "to"}) {
        const auto it = fields.find(key);
        if (it == fields.end()) {
            // from/to may be left out by a link used only inside chains (checked in check_paths).
            if (std::string_view(key) == "name") error(node, child(path, key), "missing required key \"name\"");
            continue;
        }
        const auto text =
            scalar(it->second, child(path, key), std::string_view(key) == "name" ? "a link name such as a-to-b" : "a port name");
        if (!text) continue;
        if (std::string_view(key) == "name") {
            link_names_.push_back(*text);  // rules name it, valid or not: no second error for a bad link
            if (!is_identifier(*text))
                error(it->second.value, child(path, key),
                      fmt::format("link name \"{}\" must be 1 to {} letters, digits, '_', '-' or '.'", *text, kMaxNameLength));
            link.name = *text;
            link.name_pos = pos_of(it->second.value);
            continue;
        }
        std::string &end = std::string_view(key) == "from" ? link.from : link.to;
        end = *text;
        if (!port_names_.empty() && std::find(port_names_.begin(), port_names_.end(), end) == port_names_.end()) {
            const auto guess = nearest_word(end, port_names_);
            error(it->second.value, child(path, key),
                  fmt::format("unknown port \"{}\"{} (defined ports: {})", end, guess ? fmt::format("; did you mean \"{}\"?", *guess) : "",
                              join(port_names_)));
        }
    }
    if (!link.to.empty() && replay_ports_.count(link.to) != 0)
        error(fields.at("to").value, child(path, "to"),
              fmt::format("port \"{}\" is a replay source: it only sends, so a link cannot go to it (links go from: it, to a port "
                          "with a device)",
                          link.to));
    if (!link.from.empty() && link.from == link.to)
        error(fields.at("to").value, child(path, "to"), fmt::format("a link cannot go from port \"{}\" back to the same port", link.to));

    if (auto it = fields.find("bandwidth"); it != fields.end())
        link.bandwidth = load_model(it->second, child(path, "bandwidth"), kBandwidthKind);
    if (auto it = fields.find("overhead"); it != fields.end()) load_overhead(it->second, child(path, "overhead"), link);
    if (auto it = fields.find("queue"); it != fields.end()) {
        if (it->second.value.IsMap() && (it->second.value["discipline"] || it->second.value["scheduler"]))
            load_discipline(it->second, child(path, "queue"), link);
        else if (auto q = load_queue(it->second, child(path, "queue")))
            link.queue = *q;
    }
    if (auto it = fields.find("delay"); it != fields.end()) {
        link.delay = load_model(it->second, child(path, "delay"), kDelayKind);
        // Before ABI 1.2 `order` was a parameter of the delay model: say where it went.
        if (const ModelParam *moved = link.delay ? link.delay->find("order") : nullptr)
            error(moved->pos, moved->path,
                  fmt::format("order moved to {}: it is a setting of the link, beside delay (`order: {}`)", child(path, "order"),
                              moved->is_list || moved->values.empty() ? "keep" : moved->values.front()));
    }
    if (auto it = fields.find("order"); it != fields.end()) {
        const auto text = scalar(it->second, child(path, "order"), "keep or drop");
        if (text && *text != "keep" && *text != "drop")
            error(it->second.value, child(path, "order"),
                  fmt::format("\"{}\" is not an order: keep (hold a packet back so nothing is reordered) or drop (drop it, so the "
                              "delay distribution stays exact)",
                              *text));
        link.order_drop = text && *text == "drop";
    }
    if (auto it = fields.find("loss"); it != fields.end()) link.loss = load_model(it->second, child(path, "loss"), kLossKind);
    if (auto it = fields.find("arena"); it != fields.end()) {
        if (auto n = unit_value<PacketCount>(it->second, child(path, "arena"), "a packet count such as \"1M packets\"")) {
            if (n->packets >= kMinArenaPackets && n->packets <= kMaxArenaPackets)
                link.arena_packets = n->packets;
            else
                error(it->second.value, child(path, "arena"),
                      fmt::format("{} is out of range ({} to {} packets)", n->to_string(), kMinArenaPackets, kMaxArenaPackets));
        }
    }

    if (auto it = fields.find("mangle"); it != fields.end()) {
        link.mangle_pos = pos_of(it->second.value);
        load_mangle(it->second, child(path, "mangle"), link);
    }
    if (auto it = fields.find("per_flow"); it != fields.end()) load_per_flow(it->second, child(path, "per_flow"), link);
    if (link.holds_queue()) {  // what a discipline cannot go with (yet)
        const bool named = static_cast<bool>(fields.at("queue").value["discipline"]);
        const std::string at = child(child(path, "queue"), named ? "discipline" : "scheduler");
        const YAML::Node where = fields.at("queue").value[named ? "discipline" : "scheduler"];
        if (!link.bandwidth)
            error(where, at,
                  "a queue discipline needs a bandwidth limit: without one no queue forms (add bandwidth:, for example bandwidth: "
                  "10Mbit/s)");
        if (link.per_flow) error(where, at, "a per-flow template cannot have a queue discipline (not supported yet)");
        if (link.mangle.ecn)
            error(where, at,
                  "with a queue discipline ECN is the discipline's: write queue: {discipline: ..., ecn: true} and leave out mangle.ecn");
    }

    if (errors_.size() != errors_before) return std::nullopt;
    return link;
}

// Checks across links: unique names. Several links may start or end at one
// port: classification rules choose among them (check_paths).
void Loader::check_links(const Config &c, const std::vector<size_t> &yaml_index) {
    std::map<std::string, size_t> by_name;
    for (size_t i = 0; i < c.links.size(); ++i) {
        const Link &l = c.links[i];
        const std::string path = item("links", yaml_index[i]);
        if (auto [first, inserted] = by_name.emplace(l.name, i); !inserted)
            error(l.name_pos, child(path, "name"),
                  fmt::format("duplicate link name \"{}\" (first used at line {})", l.name, c.links[first->second].name_pos.line));
    }
}

std::optional<bool> Loader::boolean(const Entry &e, const std::string &path) {
    if (e.value.IsScalar() && (e.value.Scalar() == "true" || e.value.Scalar() == "false")) return e.value.Scalar() == "true";
    error(e.value.IsNull() ? e.key : e.value, path, fmt::format("expected true or false, got {}", describe(e.value)));
    return std::nullopt;
}

// A prefix length written "/24" or "24", at most max.
std::optional<uint8_t> Loader::prefix_bits(const Entry &e, const std::string &path, uint8_t max) {
    const auto text = scalar(e, path, fmt::format("a prefix length such as /24 (0 to {})", max));
    if (!text) return std::nullopt;
    const std::string_view digits = !text->empty() && text->front() == '/' ? std::string_view(*text).substr(1) : std::string_view(*text);
    const Parsed<uint64_t> bits = parse_uint(digits, max);
    if (!bits) {
        error(e.value, path,
              fmt::format("\"{}\" is not a prefix length from /0 to /{} (example: {})", *text, max, max == 32 ? "/24" : "/64"));
        return std::nullopt;
    }
    return static_cast<uint8_t>(*bits.value);
}

void Loader::load_mangle(const Entry &e, const std::string &path, Link &link) {
    if (!e.value.IsMap()) {
        error(e.value.IsNull() ? e.key : e.value, path,
              fmt::format("expected a mapping such as {{duplicate: 1%, corrupt: 0.1%, truncate: 128B, ecn: true, "
                          "reorder: {{probability: 1%, extra_delay: 5ms}}}}, got {}",
                          describe(e.value)));
        return;
    }
    Mangle &m = link.mangle;
    const auto fields = entries(e.value, path, &kMangleKeys);
    const auto probability = [&](const Entry &pe, const std::string &p) {
        return unit_value<Probability>(pe, p, "a probability such as 1% or 0.1%");
    };
    if (auto it = fields.find("duplicate"); it != fields.end()) m.duplicate = probability(it->second, child(path, "duplicate"));
    if (auto it = fields.find("corrupt"); it != fields.end()) {
        const std::string p = child(path, "corrupt");
        if (it->second.value.IsMap()) {
            const auto c = entries(it->second.value, p, &kCorruptKeys);
            if (auto pr = c.find("probability"); pr != c.end()) m.corrupt = probability(pr->second, child(p, "probability"));
            if (auto ber = c.find("ber"); ber != c.end()) m.corrupt_ber = probability(ber->second, child(p, "ber"));
            if (c.size() != 1)
                error(it->second.value, p, "give one of probability (per packet: one bit flipped) or ber (every bit: a bit error rate)");
        } else {
            m.corrupt = probability(it->second, p);
        }
    }
    if (auto it = fields.find("truncate"); it != fields.end()) {
        if (auto size = unit_value<ByteSize>(it->second, child(path, "truncate"), "a size such as 128B")) {
            if (size->bytes >= 14 && size->bytes <= 65535)
                m.truncate_bytes = static_cast<uint32_t>(size->bytes);
            else
                error(it->second.value, child(path, "truncate"),
                      fmt::format("{} is out of range (14B, an Ethernet header, to 65535B)", size->to_string()));
        }
    }
    if (auto it = fields.find("ecn"); it != fields.end()) m.ecn = boolean(it->second, child(path, "ecn")).value_or(false);
    if (auto it = fields.find("reorder"); it != fields.end()) {
        const std::string p = child(path, "reorder");
        if (!it->second.value.IsMap()) {
            error(it->second.value.IsNull() ? it->second.key : it->second.value, p,
                  fmt::format("expected a mapping such as {{probability: 1%, extra_delay: 5ms}}, got {}", describe(it->second.value)));
        } else {
            const auto r = entries(it->second.value, p, &kReorderKeys);
            const auto pr = r.find("probability");
            const auto extra = r.find("extra_delay");
            if (pr == r.end() || extra == r.end())
                error(it->second.value, p, "reorder needs both probability and extra_delay (example: {probability: 1%, extra_delay: 5ms})");
            if (pr != r.end()) m.reorder = probability(pr->second, child(p, "probability"));
            if (extra != r.end()) {
                if (auto d = unit_value<Duration>(extra->second, child(p, "extra_delay"), "a duration such as 5ms")) {
                    if (d->ns > 0 && d->ns <= kMaxDelayNs)
                        m.reorder_extra_delay = *d;
                    else
                        error(extra->second.value, child(p, "extra_delay"),
                              fmt::format("{} is out of range (above 0, up to {})", d->to_string(), Duration{kMaxDelayNs}.to_string()));
                }
            }
        }
    }
}

void Loader::load_per_flow(const Entry &e, const std::string &path, Link &link) {
    if (!e.value.IsMap()) {
        error(
            e.value.IsNull() ? e.key : e.value, path,
            fmt::format("expected a mapping such as {{key: {{src: /24}}, max_flows: 256, idle_timeout: 10s}}, got {}", describe(e.value)));
        return;
    }
    PerFlow pf;
    const auto fields = entries(e.value, path, &kPerFlowKeys);
    const auto key = fields.find("key");
    if (key == fields.end()) {
        error(e.value, child(path, "key"), "missing required key \"key\" (example: key: {src: /24}, one link per source /24)");
    } else if (!key->second.value.IsMap()) {
        error(key->second.value.IsNull() ? key->second.key : key->second.value, child(path, "key"),
              fmt::format("expected a mapping of header fields such as {{src: /24, dst_port: true}}, got {}", describe(key->second.value)));
    } else {
        const std::string kp = child(path, "key");
        if (key->second.value.size() == 0)
            error(key->second.value, kp, "an empty key would make every packet one flow; name at least one field, such as {src: /24}");
        const auto k = entries(key->second.value, kp, &kFlowKeyKeys);
        for (const auto &[name, entry] : k) {
            const std::string fp = child(kp, name);
            if (name == "src" || name == "dst") {
                if (auto bits = prefix_bits(entry, fp, 32)) (name == "src" ? pf.key.src_bits : pf.key.dst_bits) = *bits;
            } else if (name == "src6" || name == "dst6") {
                if (auto bits = prefix_bits(entry, fp, 128)) (name == "src6" ? pf.key.src6_bits : pf.key.dst6_bits) = *bits;
            } else if (auto on = boolean(entry, fp)) {
                (name == "proto" ? pf.key.proto : name == "src_port" ? pf.key.src_port : pf.key.dst_port) = *on;
            }
        }
    }
    if (auto it = fields.find("max_flows"); it != fields.end()) {
        if (auto n = whole_number(it->second, child(path, "max_flows"), 1, kMaxFlows)) pf.max_flows = static_cast<uint32_t>(*n);
    }
    if (auto it = fields.find("idle_timeout"); it != fields.end()) {
        if (auto d = unit_value<Duration>(it->second, child(path, "idle_timeout"), "a duration such as 10s")) pf.idle_timeout = *d;
    }
    if (auto it = fields.find("aggregate"); it != fields.end()) {
        if (auto r = unit_value<Rate>(it->second, child(path, "aggregate"), "a rate such as 100Mbit/s")) {
            if (r->bits_per_s == 0)
                error(it->second.value, child(path, "aggregate"),
                      "a rate of 0 would pass nothing; leave aggregate out for no shared limit");
            else if (r->bits_per_s > kMaxBandwidthBitsPerS)
                error(it->second.value, child(path, "aggregate"),
                      fmt::format("{} is out of range (1bit/s to {})", r->to_string(), Rate{kMaxBandwidthBitsPerS}.to_string()));
            else
                pf.aggregate = *r;
        }
    }
    link.per_flow = pf;
}

void Loader::load_rules(const Entry &e, Config &c) {
    if (!e.value.IsSequence()) {
        error(e.value.IsNull() ? e.key : e.value, "rules",
              fmt::format("expected a list of rules, such as [{{match: {{proto: udp, dst_port: 5000-6000}}, link: slow}}], got {}",
                          describe(e.value)));
        return;
    }
    if (e.value.size() > kMaxRules) {
        error(e.value, "rules", fmt::format("{} rules; at most {} are allowed", e.value.size(), kMaxRules));
        return;
    }
    for (size_t i = 0; i < e.value.size(); ++i)
        if (auto rule = load_rule(e.value[i], item("rules", i), c)) c.rules.push_back(std::move(*rule));
}

std::optional<Rule> Loader::load_rule(const YAML::Node &node, const std::string &path, const Config &c) {
    if (!node.IsMap()) {
        error(node, path, fmt::format("expected a rule such as {{match: {{proto: udp}}, link: slow}}, got {}", describe(node)));
        return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    Rule rule;
    rule.path = path;
    rule.pos = pos_of(node);
    const auto fields = entries(node, path, &kRuleKeys);
    bool resolved = true;  // false: a name refers to a link or port whose own error is already reported
    const auto link_index = [&](const Entry &le, const std::string &p) -> std::optional<size_t> {
        const auto name = scalar(le, p, "a link name");
        if (!name) return std::nullopt;
        std::vector<std::string> names;
        for (size_t i = 0; i < c.links.size(); ++i) {
            if (c.links[i].name == *name) {
                rule.link_pos.push_back(pos_of(le.value));
                return i;
            }
            names.push_back(c.links[i].name);
        }
        if (link_names_.empty() || std::find(link_names_.begin(), link_names_.end(), *name) != link_names_.end()) {
            resolved = false;
            return std::nullopt;
        }
        const auto guess = nearest_word(*name, names);
        error(le.value, p,
              fmt::format("unknown link \"{}\"{} (defined links: {})", *name, guess ? fmt::format("; did you mean \"{}\"?", *guess) : "",
                          join(names)));
        return std::nullopt;
    };
    const int actions = static_cast<int>(fields.count("link") + fields.count("chain") + fields.count("action"));
    if (actions != 1)
        error(node, path,
              fmt::format("a rule needs exactly one of link, chain or action (example: {{match: {{proto: udp}}, link: slow}}); it has {}",
                          actions));
    if (auto it = fields.find("link"); it != fields.end()) {
        rule.action = Rule::Action::kLink;
        if (auto i = link_index(it->second, child(path, "link"))) rule.links.push_back(*i);
    }
    if (auto it = fields.find("chain"); it != fields.end()) {
        rule.action = Rule::Action::kChain;
        const YAML::Node v = it->second.value;
        if (!v.IsSequence() || v.size() < 2 || v.size() > kMaxChainHops) {
            error(v.IsNull() ? it->second.key : v, child(path, "chain"),
                  fmt::format("expected a list of 2 to {} link names, such as [access, core], got {}", kMaxChainHops,
                              v.IsSequence() && v.size() > 0 ? fmt::format("a list of {}", v.size()) : describe(v)));
        } else {
            for (size_t i = 0; i < v.size(); ++i)
                if (auto li = link_index(Entry{it->second.key, v[i]}, item(child(path, "chain"), i))) rule.links.push_back(*li);
        }
    }
    if (auto it = fields.find("action"); it != fields.end()) {
        const auto a = scalar(it->second, child(path, "action"), "pass or drop");
        if (a && (*a == "pass" || *a == "drop"))
            rule.action = *a == "pass" ? Rule::Action::kPass : Rule::Action::kDrop;
        else if (a)
            error(it->second.value, child(path, "action"),
                  fmt::format("\"{}\" is not an action: pass (forward untouched) or drop (to name a link, use link: or chain:)", *a));
    }
    if (auto it = fields.find("match"); it != fields.end() && !load_match(it->second, child(path, "match"), c, rule)) resolved = false;
    if (!resolved || errors_.size() != errors_before) return std::nullopt;
    return rule;
}

bool Loader::load_match(const Entry &e, const std::string &path, const Config &c, Rule &rule) {
    if (!e.value.IsMap()) {
        error(e.value.IsNull() ? e.key : e.value, path,
              fmt::format("expected a mapping of header fields such as {{proto: udp, dst_port: 5000-6000}}, got {}", describe(e.value)));
        return false;
    }
    std::vector<std::string> order;
    const auto fields = entries(e.value, path, &kMatchKeys, &order);
    RuleMatch &m = rule.match;
    bool resolved = true;
    for (const std::string &name : order) {
        const Entry &f = fields.at(name);
        const std::string p = child(path, name);
        const auto text = scalar(f, p, "a value");
        if (!text) continue;
        std::string canonical = *text;
        const auto fail = [&](const std::string &message) { error(f.value, p, message); };
        if (name == "port") {
            const Port *port = c.find_port(*text);
            if (port == nullptr && (port_names_.empty() || std::find(port_names_.begin(), port_names_.end(), *text) != port_names_.end())) {
                resolved = false;  // the port's own error is reported
                continue;
            }
            if (port == nullptr) {
                const auto guess = nearest_word(*text, port_names_);
                fail(fmt::format("unknown port \"{}\"{} (defined ports: {})", *text,
                                 guess ? fmt::format("; did you mean \"{}\"?", *guess) : "", join(port_names_)));
                continue;
            }
            m.fields |= RuleMatch::kPort;
            m.port = static_cast<uint16_t>(port - c.ports.data());
            rule.port_pos = pos_of(f.value);
        } else if (name == "ether_type") {
            const Parsed<uint16_t> t = parse_ether_type(*text);
            if (!t) {
                fail(t.error);
                continue;
            }
            m.fields |= RuleMatch::kEtherType;
            m.ether_type = *t.value;
            canonical = fmt::format("{:#06x}", *t.value);
        } else if (name == "vlan" || name == "inner_vlan") {
            const Parsed<uint64_t> id = parse_uint(*text, 4095);
            if (!id) {
                fail(fmt::format("\"{}\" is not a VLAN id (0 to 4095)", *text));
                continue;
            }
            m.fields |= name == "vlan" ? RuleMatch::kVlan : RuleMatch::kInnerVlan;
            (name == "vlan" ? m.vlan : m.inner_vlan) = static_cast<uint16_t>(*id.value);
        } else if (name == "src" || name == "dst") {
            const Parsed<IpPrefix> prefix = parse_ip_prefix(*text);
            if (!prefix) {
                fail(prefix.error);
                continue;
            }
            m.fields |= name == "src" ? RuleMatch::kSrc : RuleMatch::kDst;
            (name == "src" ? m.src : m.dst) = *prefix.value;
            canonical = to_string(*prefix.value);
        } else if (name == "proto") {
            const Parsed<uint8_t> proto = parse_ip_proto(*text);
            if (!proto) {
                fail(proto.error);
                continue;
            }
            m.fields |= RuleMatch::kProto;
            m.proto = *proto.value;
            canonical = fmt::format("{}", *proto.value);
        } else if (name == "src_port" || name == "dst_port") {
            const Parsed<PortRange> range = parse_port_range(*text);
            if (!range) {
                fail(range.error);
                continue;
            }
            m.fields |= name == "src_port" ? RuleMatch::kSrcPort : RuleMatch::kDstPort;
            (name == "src_port" ? m.src_port : m.dst_port) = *range.value;
            canonical = range.value->lo == range.value->hi ? fmt::format("{}", range.value->lo)
                                                           : fmt::format("{}-{}", range.value->lo, range.value->hi);
        } else if (name == "dscp") {
            // One value or a range, such as 46 or 8-15.
            const size_t dash = text->find('-');
            const Parsed<uint64_t> lo = parse_uint(std::string_view(*text).substr(0, dash), 63);
            const Parsed<uint64_t> hi = dash == std::string::npos ? lo : parse_uint(std::string_view(*text).substr(dash + 1), 63);
            if (!lo || !hi || *hi.value < *lo.value) {
                fail(fmt::format("\"{}\" is not a DSCP value or range from 0 to 63 (examples: 46, 8-15)", *text));
                continue;
            }
            m.fields |= RuleMatch::kDscp;
            for (uint64_t d = *lo.value; d <= *hi.value; ++d) m.dscp_set |= uint64_t{1} << d;
        }
        rule.match_text.emplace_back(name, canonical);
    }
    return resolved;
}

// Checks of how links are used: by rules, chains and as a port's default.
//  - A link a rule names directly needs from and to; a rule's `port` must be that link's from.
//  - A chain's first hop needs from, its last hop to; a link inside a chain belongs to that chain
//    alone (its model must see arrivals in time order), is not a per-flow template, and only the
//    last hop may mangle.
//  - Every link is reachable: it has from (it is then a candidate for its port's default) or a rule names it.
void Loader::check_paths(const Config &c) {
    std::vector<int> chain_of(c.links.size(), -1);  // the rule whose chain holds the link
    std::vector<bool> named(c.links.size(), false);
    const auto link_path = [&](size_t i) { return item("links", i); };
    for (size_t r = 0; r < c.rules.size(); ++r) {
        const Rule &rule = c.rules[r];
        if (rule.action == Rule::Action::kLink) {
            const size_t i = rule.links.front();
            named[i] = true;
            const Link &l = c.links[i];
            if (l.from.empty() || l.to.empty())
                error(rule.link_pos.front(), child(rule.path, "link"),
                      fmt::format("link \"{}\" needs from and to to be used on its own (it has {}); name it in a chain, or give it both",
                                  l.name, l.from.empty() ? "no from" : "no to"));
            else if ((rule.match.fields & RuleMatch::kPort) != 0 && c.ports[rule.match.port].name != l.from)
                error(rule.port_pos, child(child(rule.path, "match"), "port"),
                      fmt::format("link \"{}\" starts at port \"{}\", so this rule can only match packets arriving there, not at \"{}\"",
                                  l.name, l.from, c.ports[rule.match.port].name));
        }
        if (rule.action == Rule::Action::kChain) {
            for (size_t h = 0; h < rule.links.size(); ++h) {
                const size_t i = rule.links[h];
                const Link &l = c.links[i];
                const std::string hop = item(child(rule.path, "chain"), h);
                if (chain_of[i] >= 0 && chain_of[i] != static_cast<int>(r))
                    error(rule.link_pos[h], hop,
                          fmt::format("link \"{}\" is already a hop of the chain in rules[{}]; a chained link belongs to one chain", l.name,
                                      chain_of[i]));
                else if (chain_of[i] == static_cast<int>(r))
                    error(rule.link_pos[h], hop, fmt::format("link \"{}\" appears twice in this chain", l.name));
                chain_of[i] = static_cast<int>(r);
                if (l.per_flow)
                    error(rule.link_pos[h], hop, fmt::format("link \"{}\" is a per-flow template, which a chain cannot hold", l.name));
                if (h == 0 && l.from.empty())
                    error(rule.link_pos[h], hop,
                          fmt::format("the chain's first link, \"{}\", needs from: (the port it receives on)", l.name));
                if (h + 1 == rule.links.size() && l.to.empty())
                    error(rule.link_pos[h], hop, fmt::format("the chain's last link, \"{}\", needs to: (the port it sends to)", l.name));
                if (h + 1 < rule.links.size() && l.mangle.any())
                    error(
                        l.mangle_pos, child(link_path(i), "mangle"),
                        fmt::format("link \"{}\" is not the last hop of the chain in {}; only the last hop may mangle", l.name, rule.path));
            }
            const Link &first = c.links[rule.links.front()];
            if ((rule.match.fields & RuleMatch::kPort) != 0 && !first.from.empty() && c.ports[rule.match.port].name != first.from)
                error(rule.port_pos, child(child(rule.path, "match"), "port"),
                      fmt::format("the chain starts at port \"{}\" (link \"{}\"), so this rule can only match packets arriving there",
                                  first.from, first.name));
        }
        if ((rule.action == Rule::Action::kPass || rule.action == Rule::Action::kDrop) && (rule.match.fields & RuleMatch::kPort) != 0) {
            const std::string &port = c.ports[rule.match.port].name;
            const bool receives = std::any_of(c.links.begin(), c.links.end(), [&](const Link &l) { return l.from == port; });
            if (!receives)
                error(rule.port_pos, child(child(rule.path, "match"), "port"),
                      fmt::format("port \"{}\" receives nothing: no link starts there", port));
        }
    }
    for (size_t i = 0; i < c.links.size(); ++i) {
        const Link &l = c.links[i];
        if (chain_of[i] >= 0 && named[i])
            error(
                l.name_pos, child(link_path(i), "name"),
                fmt::format("link \"{}\" is a hop of the chain in rules[{}] and is also named on its own by a rule", l.name, chain_of[i]));
        // A link a rule names on its own has that rule's error already.
        if (chain_of[i] < 0 && !named[i] && (l.from.empty() || l.to.empty()))
            error(l.pos, link_path(i), fmt::format("link \"{}\" needs from and to (it is not a hop of any chain)", l.name));
    }
}

// The timeline (docs/CONFIG.md "Timeline"): after the links and rules, which its steps name.
void Loader::load_timeline(const Entry &e, Config &c) {
    const std::string expected =
        "a list of steps such as [{at: 10s, link: a-to-b, set: {bandwidth: 5Mbit/s}}], or a mapping such as {from: first_packet, "
        "repeat: 30s, steps: [...]}";
    Timeline t;
    t.pos = pos_of(e.value);
    YAML::Node steps;
    std::string steps_path = "timeline";  // the short form's steps are timeline[N]
    SourcePos repeat_pos;
    if (e.value.IsSequence()) {
        steps = e.value;
    } else if (e.value.IsMap()) {
        const auto fields = entries(e.value, "timeline", &kTimelineKeys);
        if (auto it = fields.find("from"); it != fields.end()) {
            if (const auto text = scalar(it->second, "timeline.from", "start or first_packet")) {
                if (*text == "first_packet")
                    t.from_first_packet = true;
                else if (*text != "start")
                    error(
                        it->second.value, "timeline.from",
                        fmt::format("\"{}\" is not an origin: start (linkem's start) or first_packet (the first packet's arrival)", *text));
            }
        }
        if (auto it = fields.find("repeat"); it != fields.end()) {
            repeat_pos = pos_of(it->second.value);
            if (auto d = unit_value<Duration>(it->second, "timeline.repeat", "a duration such as 30s")) {
                if (d->ns <= 0 || d->ns > kMaxTimelineAtNs)
                    error(it->second.value, "timeline.repeat",
                          fmt::format("{} is out of range (more than 0, at most {})", d->to_string(),
                                      Duration{kMaxTimelineAtNs}.to_string()));
                else
                    t.repeat = *d;
            }
        }
        const auto it = fields.find("steps");
        if (it == fields.end()) {
            error(e.value, "timeline.steps",
                  "missing required key \"steps\" (example: steps: [{at: 10s, link: a-to-b, set: {delay: 30ms}}])");
            return;
        }
        steps = it->second.value;
        steps_path = "timeline.steps";
        if (!steps.IsSequence()) {
            error(steps.IsNull() ? it->second.key : steps, steps_path,
                  fmt::format("expected a list of steps such as [{{at: 10s, link: a-to-b, set: {{bandwidth: 5Mbit/s}}}}], got {}",
                              describe(steps)));
            return;
        }
    } else {
        error(e.value.IsNull() ? e.key : e.value, "timeline", fmt::format("expected {}, got {}", expected, describe(e.value)));
        return;
    }
    if (steps.size() == 0) {
        error(steps, steps_path, "a timeline needs at least one step, such as {at: 10s, link: a-to-b, set: {delay: 30ms}}");
        return;
    }
    if (steps.size() > kMaxTimelineSteps) {
        error(steps, steps_path, fmt::format("{} steps; a timeline has at most {}", steps.size(), kMaxTimelineSteps));
        return;
    }
    bool ok = true;
    for (size_t k = 0; k < steps.size(); ++k) {
        const std::string path = item(steps_path, k);
        std::optional<TimelineStep> step = load_timeline_step(steps[k], path, c);
        if (!step) {
            ok = false;
            continue;
        }
        if (!t.steps.empty() && step->at.ns < t.steps.back().at.ns)
            error(step->pos, child(path, "at"),
                  fmt::format("steps are in time order: at {} comes after {} at {}", step->at.to_string(), t.steps.back().path,
                              t.steps.back().at.to_string()));
        t.steps.push_back(std::move(*step));
    }
    if (!ok) return;
    if (t.repeat && t.repeat->ns <= t.steps.back().at.ns)
        error(repeat_pos, "timeline.repeat",
              fmt::format("repeat ({}) must be longer than the last step's at ({}, {})", t.repeat->to_string(),
                          t.steps.back().at.to_string(), t.steps.back().path));
    c.timeline = std::move(t);
}

std::optional<TimelineStep> Loader::load_timeline_step(const YAML::Node &node, const std::string &path, const Config &c) {
    if (!node.IsMap()) {
        error(node, path,
              fmt::format("expected a step such as {{at: 10s, link: a-to-b, set: {{bandwidth: 5Mbit/s}}}}, got {}", describe(node)));
        return std::nullopt;
    }
    const size_t errors_before = errors_.size();
    const auto fields = entries(node, path, &kTimelineStepKeys);
    for (const char *key : {"at", "link", "set"})
        if (fields.find(key) == fields.end())
            error(node, child(path, key),
                  fmt::format("missing required key \"{}\" (example: {{at: 10s, link: a-to-b, set: {{bandwidth: 5Mbit/s}}}})", key));
    if (errors_.size() != errors_before) return std::nullopt;
    TimelineStep step;
    step.path = path;
    const Entry &at = fields.at("at");
    step.pos = pos_of(at.value);
    if (auto d = unit_value<Duration>(at, child(path, "at"), "a time such as 10s")) {
        if (d->ns < 0 || d->ns > kMaxTimelineAtNs)
            error(at.value, child(path, "at"),
                  fmt::format("{} is out of range (0 to {} after the timeline's origin)", d->to_string(),
                              Duration{kMaxTimelineAtNs}.to_string()));
        else
            step.at = *d;
    }
    const Entry &link_entry = fields.at("link");
    const auto name = scalar(link_entry, child(path, "link"), "a link name such as a-to-b");
    if (!name) return std::nullopt;
    size_t index = c.links.size();
    std::vector<std::string> names;
    for (size_t i = 0; i < c.links.size(); ++i) {
        names.push_back(c.links[i].name);
        if (c.links[i].name == *name) index = i;
    }
    if (index == c.links.size()) {
        // A link that was written but did not load has its own errors already.
        if (std::find(link_names_.begin(), link_names_.end(), *name) == link_names_.end()) {
            const auto guess = nearest_word(*name, names);
            error(link_entry.value, child(path, "link"),
                  fmt::format("unknown link \"{}\"{} (links: {})", *name, guess ? fmt::format("; did you mean \"{}\"?", *guess) : "",
                              join(names)));
        }
        return std::nullopt;
    }
    const Link &running = c.links[index];
    step.link_index = index;
    step.link_name = running.name;

    // The set: a link's changeable keys, read as the link's own keys (linkemctl set's rules).
    const Entry &set = fields.at("set");
    const std::string set_path = child(path, "set");
    if (!set.value.IsMap() || set.value.size() == 0) {
        error(set.value.IsNull() ? set.key : set.value, set_path,
              fmt::format("expected a mapping of link keys to new values, such as {{delay: 30ms, loss: 1%}}, got {}", describe(set.value)));
        return std::nullopt;
    }
    std::vector<std::string> order;
    const auto keys = entries(set.value, set_path, &kLinkKeys, &order);
    for (const std::string &k : order) {
        const Entry &f = keys.at(k);
        if (k == "name" || k == "from" || k == "to")
            error(f.key, child(set_path, k), fmt::format("a link's {} cannot change while linkem runs", k));
        else if (k == "arena")
            error(f.key, child(set_path, k),
                  "the arena is made at start; it cannot change while linkem runs (give it headroom in the link)");
        else if (k == "per_flow")
            error(f.key, child(set_path, k), "per_flow cannot change while linkem runs");
        else if (running.per_flow)
            error(f.key, child(set_path, k),
                  fmt::format("link \"{}\" is a per-flow template: its keys cannot change while linkem runs yet", running.name));
    }
    if (errors_.size() != errors_before) return std::nullopt;
    // The link's own mapping with the set's keys laid over it, loaded as a link (its errors under the set's path).
    YAML::Node merged(YAML::NodeType::Map);
    const YAML::Node own = link_nodes_[index];
    for (auto f = own.begin(); f != own.end(); ++f)
        if (keys.find(f->first.Scalar()) == keys.end()) merged.force_insert(f->first, f->second);
    for (const std::string &k : order) merged.force_insert(keys.at(k).key, keys.at(k).value);
    std::optional<Link> changed = load_link(merged, set_path);
    if (!changed) return std::nullopt;
    if (auto it = keys.find("queue"); it != keys.end() && !running.holds_queue() && changed->holds_queue())
        error(it->second.value, child(set_path, "queue"),
              fmt::format("link \"{}\" would get a queue discipline: that cannot happen while linkem runs yet", running.name));
    if (auto it = keys.find("overhead"); it != keys.end() && running.holds_queue() && changed->overhead_bytes != running.overhead_bytes)
        error(it->second.value, child(set_path, "overhead"), held_queue_message(running.name, "its overhead cannot change"));
    if (auto it = keys.find("queue"); it != keys.end() && running.holds_queue())
        if (const std::string why = held_queue_refusal(running, *changed); !why.empty())
            error(it->second.value, child(set_path, "queue"), held_queue_message(running.name, why));
    if (auto it = keys.find("mangle"); it != keys.end()) {
        const std::string mangle_path = child(set_path, "mangle");
        if (changed->mangle.ecn != running.mangle.ecn)
            error(it->second.value, child(mangle_path, "ecn"),
                  fmt::format("ecn cannot change while linkem runs (it decides which frames the ingress parses; it is {})",
                              running.mangle.ecn ? "true" : "false"));
        if (changed->mangle.reorder && !running.mangle.reorder)
            error(it->second.value, child(mangle_path, "reorder"),
                  fmt::format("mangle.reorder needs a second lane, made at start only for a link with reorder; link \"{}\" has none "
                              "(give it reorder in links, with probability 0%)",
                              running.name));
        for (const Rule &r : c.rules)
            if (r.action == Rule::Action::kChain && changed->mangle.any())
                for (size_t h = 0; h + 1 < r.links.size(); ++h)
                    if (r.links[h] == index)
                        error(it->second.value, mangle_path,
                              fmt::format("link \"{}\" is not the last hop of the chain in {}; only the last hop may mangle", running.name,
                                          r.path));
    }
    if (errors_.size() != errors_before) return std::nullopt;
    // Each key's value as the configuration prints it.
    const auto printed = link_key_values(*changed);
    for (const std::string &k : order) {
        const auto p = std::find_if(printed.begin(), printed.end(), [&](const auto &kv) { return kv.first == k; });
        if (p != printed.end()) {
            step.set.emplace_back(k, p->second);
            continue;
        }
        YAML::Emitter out;
        out << YAML::Flow << keys.at(k).value;
        step.set.emplace_back(k, out.c_str());
    }
    step.link = std::move(*changed);
    return step;
}

void Loader::load_pipeline(const Entry &e, Config &c) {
    if (!e.value.IsMap()) {
        error(e.value.IsNull() ? e.key : e.value, "pipeline",
              fmt::format("expected a mapping such as {{burst: 32, lcores: [0, 1]}}, got {}", describe(e.value)));
        return;
    }
    const auto fields = entries(e.value, "pipeline", &kPipelineKeys);
    if (auto it = fields.find("burst"); it != fields.end()) {
        if (auto burst = whole_number(it->second, "pipeline.burst", 1, kMaxBurst)) c.pipeline.burst = static_cast<uint32_t>(*burst);
    }
    if (auto it = fields.find("sleep_threshold"); it != fields.end()) {
        if (auto d = unit_value<Duration>(it->second, "pipeline.sleep_threshold", "a duration such as 50us")) {
            if (d->ns <= kMaxSleepThresholdNs)
                c.pipeline.sleep_threshold = *d;
            else
                error(it->second.value, "pipeline.sleep_threshold",
                      fmt::format("{} is out of range (0 to {})", d->to_string(), Duration{kMaxSleepThresholdNs}.to_string()));
        }
    }
    const auto bounded_duration = [&](const char *key, int64_t max_ns, const char *example, Duration &into) {
        const auto it = fields.find(key);
        if (it == fields.end()) return;
        const std::string path = std::string("pipeline.") + key;
        if (auto d = unit_value<Duration>(it->second, path, example)) {
            if (d->ns <= max_ns)
                into = *d;
            else
                error(it->second.value, path, fmt::format("{} is out of range (0 to {})", d->to_string(), Duration{max_ns}.to_string()));
        }
    };
    bounded_duration("idle_after", kMaxIdleAfterNs, "a duration such as 1s", c.pipeline.idle_after);
    bounded_duration("idle_nap", kMaxIdleNapNs, "a duration such as 1ms", c.pipeline.idle_nap);
    if (auto it = fields.find("classify_lcore"); it != fields.end()) {
        if (auto id = whole_number(it->second, "pipeline.classify_lcore", 0, kMaxLcore)) {
            c.pipeline.classify_lcore = static_cast<uint32_t>(*id);
            c.pipeline.classify_lcore_pos = pos_of(it->second.value);
        }
    }
    if (auto it = fields.find("lcores"); it != fields.end()) {
        const YAML::Node v = it->second.value;
        if (v.IsScalar() && v.Scalar() == "auto") return;
        if (!v.IsSequence() || v.size() == 0) {
            error(v.IsNull() ? it->second.key : v, "pipeline.lcores",
                  fmt::format("expected a list of lcore ids such as [0, 1], or auto, got {}", describe(v)));
            return;
        }
        std::set<uint64_t> seen;
        for (size_t i = 0; i < v.size(); ++i) {
            const std::string path = item("pipeline.lcores", i);
            const auto id = whole_number(Entry{it->second.key, v[i]}, path, 0, kMaxLcore);
            if (!id) continue;
            if (!seen.insert(*id).second) error(v[i], path, fmt::format("lcore {} is listed twice", *id));
            if (c.pipeline.classify_lcore == *id)
                error(v[i], path, fmt::format("lcore {} is also pipeline.classify_lcore: the classify lcore must be another one", *id));
            c.pipeline.lcores.push_back(static_cast<uint32_t>(*id));
            c.pipeline.lcores_pos.push_back(pos_of(v[i]));
        }
    }
}

void Loader::load_stats(const Entry &e, Config &c) {
    if (!e.value.IsMap()) {
        error(e.value.IsNull() ? e.key : e.value, "stats",
              fmt::format("expected a mapping such as {{lateness_tolerance: 10us}}, got {}", describe(e.value)));
        return;
    }
    const auto fields = entries(e.value, "stats", &kStatsKeys);
    if (auto it = fields.find("lateness_tolerance"); it != fields.end()) {
        if (auto d = unit_value<Duration>(it->second, "stats.lateness_tolerance", "a duration such as 10us")) {
            if (d->ns <= kMaxLatenessToleranceNs)
                c.stats.lateness_tolerance = *d;
            else
                error(it->second.value, "stats.lateness_tolerance",
                      fmt::format("{} is out of range (0 to {})", d->to_string(), Duration{kMaxLatenessToleranceNs}.to_string()));
        }
    }
    if (auto it = fields.find("prometheus"); it != fields.end())
        if (auto a = unit_value<ListenAddress>(it->second, "stats.prometheus", "an address such as 127.0.0.1:9464"))
            c.stats.prometheus = *a;
}

void Loader::load_eal(const Entry &e, Config &c) {
    if (!e.value.IsSequence()) {
        error(e.value.IsNull() ? e.key : e.value, "eal",
              fmt::format("expected a list of EAL arguments such as [\"--log-level=lib.eal:notice\"], got {}", describe(e.value)));
        return;
    }
    for (size_t i = 0; i < e.value.size(); ++i) {
        const auto arg = scalar(Entry{e.key, e.value[i]}, item("eal", i), "an EAL argument such as \"--log-level=lib.eal:notice\"");
        if (!arg) continue;
        if (arg->empty() || has_control_character(*arg))
            error(e.value[i], item("eal", i), arg->empty() ? "an EAL argument is empty" : "an EAL argument holds a control character");
        else if (*arg == "--file-prefix" || arg->rfind("--file-prefix=", 0) == 0)
            error(e.value[i], item("eal", i),
                  "--file-prefix is linkem's instance name: write `name: NAME` at the top of the file (or linkem --name NAME) instead");
        else
            c.eal.push_back(*arg);
    }
}

// Position of the first byte that is not valid UTF-8 text, or of a NUL byte.
// Columns count bytes, as yaml-cpp's do. Refuses overlong forms, surrogates
// and code points above U+10FFFF, as UTF-8 (RFC 3629) does.
std::optional<SourcePos> find_binary(std::string_view text) {
    int line = 1, column = 1;
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    for (size_t i = 0; i < text.size();) {
        const unsigned char b = byte(i);
        size_t len = 0;
        unsigned char second_min = 0x80, second_max = 0xBF;
        if (b != 0 && b < 0x80)
            len = 1;
        else if (b >= 0xC2 && b <= 0xDF)
            len = 2;
        else if (b >= 0xE0 && b <= 0xEF)
            len = 3, second_min = b == 0xE0 ? 0xA0 : 0x80, second_max = b == 0xED ? 0x9F : 0xBF;
        else if (b >= 0xF0 && b <= 0xF4)
            len = 4, second_min = b == 0xF0 ? 0x90 : 0x80, second_max = b == 0xF4 ? 0x8F : 0xBF;
        bool ok = len != 0 && i + len <= text.size();
        for (size_t k = 1; ok && k < len; ++k) {
            const unsigned char c = byte(i + k);
            ok = k == 1 ? (c >= second_min && c <= second_max) : (c >> 6) == 0x2;
        }
        if (!ok) return SourcePos{line, column};
        if (b == '\n') {
            ++line;
            column = 1;
        } else {
            column += static_cast<int>(len);
        }
        i += len;
    }
    return std::nullopt;
}

bool line_has_tab_indent(std::string_view text, int line) {
    size_t start = 0;
    for (int l = 1; l < line; ++l) {
        start = text.find('\n', start);
        if (start == std::string_view::npos) return false;
        ++start;
    }
    for (size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i)
        if (text[i] == '\t') return true;
    return false;
}

// Where a second YAML document starts, if the text holds one. yaml-cpp 0.7's
// YAML::LoadAll never ends on some inputs (a lone ",", "!,#A": the parser
// yields an endless run of documents without consuming the token; upstream
// jbeder/yaml-cpp#1040), so the stream is read one document at a time and the
// reading stops at the second: a configuration is one document, and whatever
// starts a second one is refused at its position. Syntax errors inside the
// first document are thrown (YAML::Exception) exactly as YAML::Load throws them.
class DocumentStarts : public YAML::EventHandler {
  public:
    YAML::Mark start;
    void OnDocumentStart(const YAML::Mark &mark) override { start = mark; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark &, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark &, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark &, const std::string &, YAML::anchor_t, const std::string &) override {}
    void OnSequenceStart(const YAML::Mark &, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark &, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

struct SecondDocument {
    SourcePos pos;
    std::string message;
};

// True when a line before `before` is a YAML document end marker ("...").
bool has_document_end_line(std::string_view text, size_t before) {
    for (size_t line = 0; line < before && line < text.size();) {
        const std::string_view rest = text.substr(line);
        if (rest.starts_with("...") && (rest.size() == 3 || std::string_view(" \t\r\n#").find(rest[3]) != std::string_view::npos))
            return true;
        const size_t end = text.find('\n', line);
        if (end == std::string_view::npos) break;
        line = end + 1;
    }
    return false;
}

std::optional<SecondDocument> find_second_document(std::string_view text) {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    DocumentStarts first;
    if (!parser.HandleNextDocument(first)) return std::nullopt;
    DocumentStarts second;
    second.start.pos = -1;
    try {
        if (!parser.HandleNextDocument(second)) return std::nullopt;
    } catch (const YAML::Exception &) {
        if (second.start.pos < 0) throw;  // not even a second document's start: a plain syntax error
    }
    const SourcePos pos{second.start.line + 1, second.start.column + 1};
    const size_t at = static_cast<size_t>(second.start.pos);
    if (text.substr(at).starts_with("---"))
        return SecondDocument{pos, "a second YAML document: a configuration is one document (remove the \"---\" line)"};
    if (has_document_end_line(text, at))
        return SecondDocument{pos, "a second YAML document after a \"...\" line: a configuration is one document"};
    const char c = at < text.size() ? text[at] : ' ';
    const std::string what = c > ' ' && c < 0x7f ? fmt::format("'{}'", c) : std::string("character");
    return SecondDocument{pos, fmt::format("YAML syntax: unexpected {}: it belongs to no mapping or list (a stray character?)", what)};
}

LoadResult finish(std::vector<ConfigError> errors, std::optional<Config> config) {
    std::stable_sort(errors.begin(), errors.end(), [](const ConfigError &a, const ConfigError &b) {
        return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
    });
    LoadResult result;
    result.error_count = errors.size();
    if (errors.size() > kMaxErrors) errors.resize(kMaxErrors);
    if (result.error_count == 0) result.config = std::move(config);
    result.errors = std::move(errors);
    return result;
}

}  // namespace

LoadResult load_config_text(std::string_view text, const std::string &file_name) {
    auto fail = [&](SourcePos pos, std::string message) { return finish({{file_name, pos, "", std::move(message)}}, std::nullopt); };
    if (text.size() > kMaxConfigBytes)
        return fail({1, 1},
                    fmt::format("the file is {} bytes; a configuration is at most {} (large data such as traces go in files it names)",
                                text.size(), ByteSize{kMaxConfigBytes}.to_string()));
    if (auto at = find_binary(text)) return fail(*at, "binary data: a configuration is UTF-8 text without NUL bytes");

    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));  // the first document only; never LoadAll (see find_second_document)
        if (auto second = find_second_document(text)) return fail(second->pos, std::move(second->message));
    } catch (const YAML::DeepRecursion &e) {
        return fail({e.mark.line + 1, e.mark.column + 1}, fmt::format("YAML syntax: nested deeper than {} levels", e.depth()));
    } catch (const YAML::Exception &e) {
        const SourcePos pos{e.mark.line + 1, e.mark.column + 1};
        std::string message = fmt::format("YAML syntax: {}", e.msg);
        if (line_has_tab_indent(text, pos.line)) message += " (this line is indented with a tab; YAML indents with spaces only)";
        return fail(pos, std::move(message));
    }
    Loader loader(file_name);
    Config config = loader.load(root);
    return finish(loader.take_errors(), std::move(config));
}

LoadResult load_config_file(const std::string &path) {
    auto fail = [&](std::string message) { return finish({{path, {1, 1}, "", std::move(message)}}, std::nullopt); };
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return fail(fmt::format("cannot read the file: {}", std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) return fail("this is a directory; expected a YAML configuration file");
    if (!S_ISREG(st.st_mode)) return fail("this is not a regular file; expected a YAML configuration file");
    if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes)
        return fail(fmt::format("the file is {} bytes; a configuration is at most {} (large data such as traces go in files it names)",
                                st.st_size, ByteSize{kMaxConfigBytes}.to_string()));
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(fmt::format("cannot open the file: {}", std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    return load_config_text(text.str(), path);
}

// ---- Runtime changes (linkem/config_change.hpp) ----

namespace {

// The position of `key` in mapping `map`, or fallback.
SourcePos key_pos(const YAML::Node &map, std::string_view key, SourcePos fallback) {
    if (!map.IsMap()) return fallback;
    for (auto it = map.begin(); it != map.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == key) return pos_of(it->first);
    return fallback;
}

void sort_errors(std::vector<ConfigError> &errors) {
    std::stable_sort(errors.begin(), errors.end(), [](const ConfigError &a, const ConfigError &b) {
        return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
    });
}

// The keys of link i that differ between the running and the candidate
// configuration, into edit; refusals into errors. where(key) is the
// position to name for a key.
template <class Where>
void diff_link(const Config &running, const Config &candidate, size_t i, const std::string &file, Where where,
               std::vector<ConfigError> &errors, LinkEdit &edit) {
    const Link &a = running.links[i], &b = candidate.links[i];
    const auto va = link_key_values(a), vb = link_key_values(b);
    const auto value = [](const std::vector<std::pair<std::string, std::string>> &kv, const std::string &key) {
        for (const auto &[k, v] : kv)
            if (k == key) return v;
        return std::string("none");
    };
    edit.link = i;
    for (const std::string &key : kLinkKeys) {
        if (key == "name" || key == "from" || key == "to") continue;
        const std::string before = value(va, key), after = value(vb, key);
        if (before == after) continue;
        const std::string path = fmt::format("links[{}].{}", i, key);
        if (key == "arena")
            errors.push_back(
                {file, where(key), path,
                 fmt::format("the arena is made at start ({}); it cannot change while linkem runs (restart linkem to resize it)",
                             before == "none" ? "sized from the link's parameters" : before)});
        else if (key == "per_flow")
            errors.push_back(
                {file, where(key), path, "per_flow cannot change while linkem runs (restart linkem with the new configuration)"});
        else if (a.per_flow)
            errors.push_back({file, where(key), path,
                              fmt::format("link \"{}\" is a per-flow template: its keys cannot change while linkem runs yet (restart "
                                          "linkem with the new configuration)",
                                          a.name)});
        else if (!a.holds_queue() && b.holds_queue())
            errors.push_back({file, where(key), path,
                              fmt::format("link \"{}\" would get a queue discipline: that cannot happen while linkem runs yet "
                                          "(restart linkem with the new configuration)",
                                          a.name)});
        else if (a.holds_queue() && key == "overhead")
            errors.push_back({file, where(key), path, held_queue_message(a.name, "its overhead cannot change")});
        else if (const std::string why = a.holds_queue() && key == "queue" ? held_queue_refusal(a, b) : ""; !why.empty())
            errors.push_back({file, where(key), path, held_queue_message(a.name, why)});
        else if (key == "mangle" && a.mangle.ecn != b.mangle.ecn)
            errors.push_back({file, where(key), path + ".ecn",
                              fmt::format("ecn cannot change while linkem runs (it decides which frames the ingress parses; it is {})",
                                          a.mangle.ecn ? "true" : "false")});
        else
            edit.keys.emplace_back(key, after);
    }
}

ChangeCandidate finish_change(const Config &running, Config candidate, std::vector<ConfigError> errors, std::vector<LinkEdit> edits) {
    ChangeCandidate out;
    sort_errors(errors);
    if (!errors.empty()) {
        if (errors.size() > kMaxErrors) errors.resize(kMaxErrors);
        out.errors = std::move(errors);
        return out;
    }
    candidate.file = running.file;  // plugins named by a relative path are found beside linkem's own file
    candidate.seed = running.seed;
    candidate.seed_random = running.seed_random;
    for (LinkEdit &e : edits)
        if (!e.keys.empty()) out.edits.push_back(std::move(e));
    out.config = std::move(candidate);
    return out;
}

}  // namespace

ChangeCandidate load_link_set(const Config &running, const std::string &link, const std::vector<std::string> &assignments) {
    const std::string file = kSetFileName;
    const auto fail = [&](SourcePos pos, std::string path, std::string message) {
        ChangeCandidate out;
        out.errors.push_back({file, pos, std::move(path), std::move(message)});
        return out;
    };
    size_t index = running.links.size();
    std::vector<std::string> names;
    for (size_t i = 0; i < running.links.size(); ++i) {
        names.push_back(running.links[i].name);
        if (running.links[i].name == link) index = i;
    }
    if (index == running.links.size()) {
        const auto guess = nearest_word(link, names);
        return fail({1, 1}, "",
                    fmt::format("unknown link \"{}\"{} (links: {})", link, guess ? fmt::format("; did you mean \"{}\"?", *guess) : "",
                                join(names)));
    }
    if (assignments.empty()) return fail({1, 1}, "", "nothing to set: give KEY=VALUE, such as delay=30ms");
    // The patch: one line per assignment, "KEY: VALUE".
    std::string text;
    for (size_t k = 0; k < assignments.size(); ++k) {
        const std::string &a = assignments[k];
        const size_t eq = a.find('=');
        if (eq == std::string::npos || eq == 0)
            return fail(
                {static_cast<int>(k + 1), 1}, "",
                fmt::format("expected KEY=VALUE, such as delay=30ms or 'loss={{plugin: gilbert_elliott, p: 1%, r: 30%}}', got \"{}\"", a));
        if (a.find_first_of("\r\n") != std::string::npos)
            return fail({static_cast<int>(k + 1), 1}, "", "an assignment is one line: the value holds a line break");
        text += a.substr(0, eq) + ": " + a.substr(eq + 1) + "\n";
    }
    if (auto at = find_binary(text)) return fail(*at, "", "binary data: a value is UTF-8 text without NUL bytes");
    YAML::Node patch;
    try {
        patch = YAML::Load(text);
    } catch (const YAML::Exception &e) {
        return fail({e.mark.line + 1, e.mark.column + 1}, "", fmt::format("YAML syntax: {}", e.msg));
    }
    const std::string path = item("links", index);
    if (!patch.IsMap()) return fail({1, 1}, path, "expected KEY=VALUE assignments, such as delay=30ms");

    Loader keys(file);
    std::vector<std::string> order;
    const auto fields = keys.entries(patch, path, &kLinkKeys, &order);
    for (const std::string &k : order)
        if (k == "name" || k == "from" || k == "to")
            keys.error(fields.at(k).key, child(path, k), fmt::format("a link's {} cannot change while linkem runs", k));
    std::vector<ConfigError> errors = keys.take_errors();
    if (!errors.empty()) return finish_change(running, running, std::move(errors), {});

    // The running configuration, printed and read back, with the patch laid over the link.
    const YAML::Node printed = YAML::Load(to_yaml(running));
    YAML::Node root(YAML::NodeType::Map);
    for (auto it = printed.begin(); it != printed.end(); ++it) {
        if (it->first.Scalar() != "links") {
            root.force_insert(it->first, it->second);
            continue;
        }
        YAML::Node links(YAML::NodeType::Sequence);
        for (size_t i = 0; i < it->second.size(); ++i) {
            if (i != index) {
                links.push_back(it->second[i]);
                continue;
            }
            YAML::Node merged(YAML::NodeType::Map);
            const YAML::Node old = it->second[i];
            for (auto f = old.begin(); f != old.end(); ++f)
                if (fields.find(f->first.Scalar()) == fields.end()) merged.force_insert(f->first, f->second);
            for (const std::string &k : order) merged.force_insert(fields.at(k).key, fields.at(k).value);
            links.push_back(merged);
        }
        root.force_insert(it->first, links);
    }
    Loader loader(file);
    Config candidate = loader.load(root);
    errors = loader.take_errors();
    std::vector<LinkEdit> edits(1);
    if (errors.empty())
        diff_link(
            running, candidate, index, file,
            [&](const std::string &k) {
                return fields.count(k) != 0 ? pos_of(fields.at(k).key) : SourcePos{1, 1};
            },
            errors, edits[0]);
    return finish_change(running, std::move(candidate), std::move(errors), std::move(edits));
}

ChangeCandidate load_link_sets(const Config &running, const std::vector<LinkSet> &sets) {
    Config current = running;
    std::vector<size_t> touched;
    for (const LinkSet &set : sets) {
        ChangeCandidate one = load_link_set(current, set.link, set.assignments);
        if (!one.config) return one;
        current = std::move(*one.config);
        for (size_t i = 0; i < current.links.size(); ++i)
            if (current.links[i].name == set.link && std::find(touched.begin(), touched.end(), i) == touched.end()) touched.push_back(i);
    }
    std::sort(touched.begin(), touched.end());
    std::vector<ConfigError> errors;
    std::vector<LinkEdit> edits(touched.size());
    for (size_t k = 0; k < touched.size(); ++k)
        diff_link(
            running, current, touched[k], kSetFileName,
            [](const std::string &) {
                return SourcePos{1, 1};
            },
            errors, edits[k]);
    return finish_change(running, std::move(current), std::move(errors), std::move(edits));
}

ChangeCandidate load_change_text(const Config &running, std::string_view text, const std::string &file_name) {
    LoadResult loaded = load_config_text(text, file_name);
    if (!loaded.config) {
        ChangeCandidate out;
        out.errors = std::move(loaded.errors);
        return out;
    }
    Config &c = *loaded.config;
    const YAML::Node root = YAML::Load(std::string(text));  // it loaded: no exception
    const auto top = [&](std::string_view key) { return key_pos(root, key, SourcePos{1, 1}); };
    std::vector<ConfigError> errors;
    const auto refuse = [&](SourcePos pos, std::string path, std::string message) {
        errors.push_back({file_name, pos, std::move(path), std::move(message)});
    };
    const auto port_list = [](const Config &cfg) {
        std::vector<std::string> out;
        for (const Port &p : cfg.ports) out.push_back(fmt::format("{}: {}", p.name, p.device));
        return join(out);
    };
    bool ports_same = c.ports.size() == running.ports.size();
    for (size_t k = 0; ports_same && k < c.ports.size(); ++k)
        ports_same = c.ports[k].name == running.ports[k].name && c.ports[k].device == running.ports[k].device;
    if (!ports_same) refuse(top("ports"), "ports", fmt::format("ports cannot change while linkem runs (running: {})", port_list(running)));

    std::vector<std::string> running_names;
    for (const Link &l : running.links) running_names.push_back(l.name);
    bool links_same = c.links.size() == running.links.size();
    for (size_t i = 0; links_same && i < c.links.size(); ++i) links_same = c.links[i].name == running.links[i].name;
    if (!links_same) {
        refuse(top("links"), "links",
               fmt::format("links cannot be added, removed, renamed or reordered while linkem runs (running: {})", join(running_names)));
        return finish_change(running, running, std::move(errors), {});
    }
    const YAML::Node link_nodes = root["links"];
    std::vector<LinkEdit> edits(c.links.size());
    for (size_t i = 0; i < c.links.size(); ++i) {
        const YAML::Node node = link_nodes[i];
        const auto where = [&](const std::string &k) { return key_pos(node, k, c.links[i].pos); };
        for (const auto &[k, before, after] :
             {std::tuple<const char *, std::string, std::string>{"from", running.links[i].from, c.links[i].from},
              std::tuple<const char *, std::string, std::string>{"to", running.links[i].to, c.links[i].to}})
            if (before != after)
                refuse(where(k), fmt::format("links[{}].{}", i, k),
                       fmt::format("a link's {} cannot change while linkem runs (it is \"{}\")", k, before));
        diff_link(running, c, i, file_name, where, errors, edits[i]);
    }

    bool rules_same = c.rules.size() == running.rules.size();
    for (size_t r = 0; rules_same && r < c.rules.size(); ++r) {
        const Rule &a = c.rules[r], &b = running.rules[r];
        rules_same = a.match_text == b.match_text && a.action == b.action && a.links == b.links;
        if (!rules_same) refuse(a.pos, item("rules", r), "rules cannot change while linkem runs");
    }
    if (!rules_same && c.rules.size() != running.rules.size())
        refuse(top("rules"), "rules", fmt::format("rules cannot change while linkem runs (it has {})", running.rules.size()));

    // The other sections, as --check prints them.
    const std::string printed_new = to_yaml(c), printed_old = to_yaml(running);
    const auto line_of = [](const std::string &yaml, std::string_view key) {
        const std::string prefix = std::string(key) + ":";
        size_t at = yaml.rfind("\n" + prefix);
        if (at == std::string::npos) return std::string();
        at += 1;
        return yaml.substr(at, yaml.find('\n', at) - at);
    };
    for (const char *key : {"pipeline", "stats", "capture", "eal", "timeline"})
        if (line_of(printed_new, key) != line_of(printed_old, key))
            refuse(top(key), key,
                   fmt::format("{} cannot change while linkem runs (it is {})", key,
                               line_of(printed_old, key).empty() ? "not given" : line_of(printed_old, key).substr(std::strlen(key) + 2)));
    if (!running.seed_random && (c.seed_random || c.seed != running.seed))
        refuse(top("seed"), "seed", fmt::format("seed cannot change while linkem runs (it is {})", running.seed));
    return finish_change(running, std::move(c), std::move(errors), std::move(edits));
}

ChangeCandidate load_change_file(const Config &running, const std::string &path) {
    const auto fail = [&](std::string message) {
        ChangeCandidate out;
        out.errors.push_back({path, {1, 1}, "", std::move(message)});
        return out;
    };
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return fail(fmt::format("cannot read the file: {}", std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) return fail("this is not a regular file; expected a YAML configuration file");
    if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes)
        return fail(fmt::format("the file is {} bytes; a configuration is at most {}", st.st_size, ByteSize{kMaxConfigBytes}.to_string()));
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(fmt::format("cannot open the file: {}", std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    return load_change_text(running, text.str(), path);
}

}  // namespace linkem
