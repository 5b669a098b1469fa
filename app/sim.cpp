// linkem-sim: one link of a configuration in virtual time, with the same link
// model and plugins as the emulator and no EAL, NIC or hugepages.
//
//   linkem-sim CONFIG.yaml (--in IN.pcap | --synthetic rate=1Mpps,size=64,count=1000000)
//              [--out OUT.pcap] [--link NAME] [--seed N] [--stats-json FILE]
//
// Arrival times are the input's timestamps relative to its first packet (the
// virtual clock starts at 0 there, as linkem's does when it starts). Each
// forwarded packet is written with its release time as its timestamp (on the
// input's time base), in release order, in the nanosecond pcap format. The
// delay arena is simulated too: a packet that would find it full is dropped as
// arena_full. Same configuration, seed and input: byte-identical output.
#include "linkem/config.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/pcap_reader.hpp"
#include "linkem/release_tracker.hpp"
#include "linkem/plugin_host.hpp"
#include "linkem/seed.hpp"
#include "linkem/stats.hpp"
#include "linkem/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace linkem;

__extension__ using u128 = unsigned __int128;
constexpr int kExitOk = 0, kExitRuntime = 1, kExitUsage = 2;

const char *kUsage =
    "usage: linkem-sim CONFIG.yaml (--in IN.pcap | --synthetic rate=R,size=S,count=N) [--out OUT.pcap]\n"
    "                  [--link NAME] [--seed N] [--stats-json FILE]\n"
    "\n"
    "Runs one link of CONFIG.yaml (default: the first) in virtual time and prints what it did.\n"
    "  --in IN.pcap        packets and their arrival times from a capture\n"
    "  --synthetic ...     R: packets per second (1Mpps, 100kpps) or a rate (100Mbit/s);\n"
    "                      S: frame size (64, 1500B); N: packet count\n"
    "  --out OUT.pcap      forwarded packets, stamped with their emulated release times\n"
    "  --seed N            overrides the configuration's seed\n"
    "  --stats-json FILE   the summary as JSON, as linkem --stats-json writes it\n";

struct Frame {
    uint64_t arrival_ns;  // relative to the first input packet
    std::string bytes;
};

struct Input {
    std::vector<Frame> frames;
    uint64_t base_ns = 0;  // absolute time of the first packet
    std::string error;
};

// Every record of a pcap capture, checked by PcapReader before anything is
// allocated for it; arrival times relative to the first record.
Input read_pcap(const std::string &path) {
    Input in;
    std::ifstream f(path, std::ios::binary);
    if (!f) return {{}, 0, fmt::format("{}: cannot read: {}", path, std::strerror(errno))};
    PcapReader reader(f, path);
    if (!reader.open()) return {{}, 0, reader.error()};
    PcapReader::Record record;
    for (PcapReader::Next next; (next = reader.next(&record)) != PcapReader::Next::kEnd;) {
        if (next == PcapReader::Next::kError) return {{}, 0, reader.error()};
        if (in.frames.empty()) in.base_ns = record.time_ns;
        if (record.time_ns < in.base_ns || (!in.frames.empty() && record.time_ns - in.base_ns < in.frames.back().arrival_ns))
            return {{}, 0, fmt::format("{}: packet {} is older than the one before: sort the capture", path, in.frames.size() + 1)};
        in.frames.push_back({record.time_ns - in.base_ns, std::move(record.bytes)});
    }
    return in;
}

// "rate=1Mpps,size=64,count=1000000"
Input synthetic(const std::string &spec) {
    uint64_t count = 0, size = 64, gap_ns_num = 0, gap_den = 1;
    for (size_t start = 0; start < spec.size();) {
        const size_t end = std::min(spec.find(',', start), spec.size());
        const std::string item = spec.substr(start, end - start);
        start = end + 1;
        const size_t eq = item.find('=');
        const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
        if (key == "count") {
            const Parsed<PacketCount> n = PacketCount::parse(value + " packets");
            if (!n) return {{}, 0, fmt::format("--synthetic count: {}", n.error)};
            count = n.value->packets;
        } else if (key == "size") {
            const Parsed<ByteSize> s = ByteSize::parse(value.find_first_not_of("0123456789") == std::string::npos ? value + "B" : value);
            if (!s || s.value->bytes < 14 || s.value->bytes > 65535)
                return {{}, 0, fmt::format("--synthetic size: \"{}\" is not a frame size from 14B to 65535B", value)};
            size = s.value->bytes;
        } else if (key == "rate") {
            if (value.size() > 3 && value.compare(value.size() - 3, 3, "pps") == 0) {
                const Parsed<PacketCount> pps = PacketCount::parse(value.substr(0, value.size() - 3) + " packets");
                if (!pps || pps.value->packets == 0)
                    return {{}, 0, fmt::format("--synthetic rate: \"{}\" is not a packet rate such as 1Mpps", value)};
                gap_ns_num = 1'000'000'000, gap_den = pps.value->packets;
            } else {
                const Parsed<Rate> r = Rate::parse(value);
                if (!r || r.value->bits_per_s == 0) return {{}, 0, fmt::format("--synthetic rate: {}", r ? "must be above 0" : r.error)};
                gap_ns_num = size * 8 * 1'000'000'000, gap_den = r.value->bits_per_s;
            }
        } else {
            return {{}, 0, fmt::format("--synthetic: unknown item \"{}\" (known: rate, size, count)", key)};
        }
    }
    if (count == 0 || gap_den == 0 || gap_ns_num == 0)
        return {{}, 0, "--synthetic needs rate=..., size=... and count=... (example: rate=1Mpps,size=64,count=1000000)"};
    Input in;
    in.frames.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        Frame frame{static_cast<uint64_t>((static_cast<u128>(i) * gap_ns_num) / gap_den), std::string(size, '\0')};
        frame.bytes[12] = static_cast<char>(0x88), frame.bytes[13] = static_cast<char>(0xb5);  // local experimental EtherType
        for (int b = 0; b < 8 && 14 + b < static_cast<int>(size); ++b) frame.bytes[14 + b] = static_cast<char>(i >> (8 * b));
        in.frames.push_back(std::move(frame));
    }
    return in;
}

class PcapWriter {
  public:
    bool open(const std::string &path) {
        out_.open(path, std::ios::binary | std::ios::trunc);
        const uint32_t header[6] = {0xa1b23c4d, 0x00040002, 0, 0, 262144, 1};  // nanosecond pcap, Ethernet
        out_.write(reinterpret_cast<const char *>(header), sizeof header);
        return static_cast<bool>(out_);
    }
    void write(uint64_t t_ns, const std::string &bytes) {
        const uint32_t record[4] = {static_cast<uint32_t>(t_ns / 1'000'000'000), static_cast<uint32_t>(t_ns % 1'000'000'000),
                                    static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(bytes.size())};
        out_.write(reinterpret_cast<const char *>(record), sizeof record);
        out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    bool ok() const { return static_cast<bool>(out_); }
    bool is_open() const { return out_.is_open(); }

  private:
    std::ofstream out_;
};

struct Options {
    std::string config, in, synthetic, out, link, stats_json;
    std::optional<uint64_t> seed;
};

std::optional<Options> parse_options(int argc, char **argv, std::string *error) {
    Options o;
    const std::vector<std::string> known = {"--in", "--synthetic", "--out", "--link", "--seed", "--stats-json", "--help"};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help") return std::nullopt;
        if (a.rfind("--", 0) != 0) {
            if (!o.config.empty()) return *error = "more than one configuration file", std::nullopt;
            o.config = a;
            continue;
        }
        if (i + 1 >= argc) return *error = a + " needs a value", std::nullopt;
        const std::string v = argv[++i];
        if (a == "--in")
            o.in = v;
        else if (a == "--synthetic")
            o.synthetic = v;
        else if (a == "--out")
            o.out = v;
        else if (a == "--link")
            o.link = v;
        else if (a == "--stats-json")
            o.stats_json = v;
        else if (a == "--seed") {
            uint64_t seed = 0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seed);
            if (v.empty() || ec != std::errc() || end != v.data() + v.size())
                return *error = fmt::format("--seed \"{}\" is not a whole number from 0 to 18446744073709551615", v), std::nullopt;
            o.seed = seed;
        } else {
            const auto guess = nearest_word(a, known);
            return *error = fmt::format("unknown option \"{}\"{}", a, guess ? "; did you mean " + *guess + "?" : ""), std::nullopt;
        }
    }
    if (o.config.empty()) return *error = "no configuration file given", std::nullopt;
    if (o.in.empty() == o.synthetic.empty()) return *error = "give --in IN.pcap or --synthetic ..., one of them", std::nullopt;
    return o;
}

}  // namespace

int main(int argc, char **argv) {
    std::string error;
    const std::optional<Options> opt = parse_options(argc, argv, &error);
    if (!opt) {
        if (error.empty()) return fmt::print("{}", kUsage), kExitOk;
        fmt::print(stderr, "linkem-sim: {}\nTry 'linkem-sim --help'.\n", error);
        return kExitUsage;
    }
    const LoadResult loaded = load_config_file(opt->config);
    if (!loaded.config) {
        for (const ConfigError &e : loaded.errors) fmt::print(stderr, "{}\n", e.to_string());
        fmt::print(stderr, "linkem-sim: {} error{} in {}\n", loaded.error_count, loaded.error_count == 1 ? "" : "s", opt->config);
        return kExitUsage;
    }
    const Config &config = *loaded.config;
    size_t link_index = 0;
    if (!opt->link.empty()) {
        std::vector<std::string> names;
        for (const Link &l : config.links) names.push_back(l.name);
        const auto it = std::find(names.begin(), names.end(), opt->link);
        if (it == names.end()) {
            fmt::print(stderr, "linkem-sim: no link \"{}\" in {} (links: {})\n", opt->link, opt->config, join(names));
            return kExitUsage;
        }
        link_index = static_cast<size_t>(it - names.begin());
    }
    const uint64_t seed = opt->seed ? *opt->seed : resolve_seed(config);
    std::vector<ConfigError> errors;
    std::optional<LinkPlan> plan = plan_link(config, link_index, seed, PluginHost(), &errors);
    if (!plan) {
        for (const ConfigError &e : errors) fmt::print(stderr, "{}\n", e.to_string());
        return kExitUsage;
    }

    const Input input = opt->in.empty() ? synthetic(opt->synthetic) : read_pcap(opt->in);
    if (!input.error.empty()) {
        fmt::print(stderr, "linkem-sim: {}\n", input.error);
        return opt->in.empty() ? kExitUsage : kExitRuntime;
    }
    PcapWriter out;
    if (!opt->out.empty() && !out.open(opt->out)) {
        fmt::print(stderr, "linkem-sim: cannot write {}: {}\n", opt->out, std::strerror(errno));
        return kExitRuntime;
    }

    // Virtual time: bursts of pipeline.burst packets, each at its own arrival time.
    LinkModel model(plan->model);
    RxCounters rx;
    TxCounters tx;
    const LinkExpectations expected = link_expectations(config, *plan);
    ReleaseTracker release(expected.lateness_tolerance_ns, plan->model.overhead_bytes);  // every packet leaves on time
    ReleaseTally tally;
    std::deque<std::pair<uint64_t, uint64_t>> in_arena;  // (release time, record bytes) of packets not yet released
    uint64_t arena_used = 0;
    const uint32_t burst = std::min<uint32_t>(config.pipeline.burst, LinkModel::kMaxBurst);
    std::vector<PacketIn> pkts(burst);
    std::vector<Verdict> verdicts(burst);
    for (size_t at = 0; at < input.frames.size(); at += burst) {
        const uint32_t n = static_cast<uint32_t>(std::min<size_t>(burst, input.frames.size() - at));
        for (uint32_t i = 0; i < n; ++i)
            pkts[i] = {input.frames[at + i].arrival_ns, static_cast<uint32_t>(input.frames[at + i].bytes.size())};
        while (!in_arena.empty() && in_arena.front().first <= pkts[0].arrival_ns) {
            arena_used -= in_arena.front().second;
            in_arena.pop_front();
        }
        // The arena's room in records of the burst's longest frame, as the rx stage computes it.
        uint32_t longest = 0;
        for (uint32_t i = 0; i < n; ++i) longest = std::max(longest, pkts[i].len_bytes);
        const uint64_t record = DelayArena::record_bytes(longest), free = plan->arena_bytes - arena_used;
        model.admit_burst(pkts.data(), n, verdicts.data(), free > record ? (free - record) / record : 0);
        for (uint32_t i = 0; i < n; ++i) {
            const Frame &frame = input.frames[at + i];
            rx.packets.add(1);
            rx.bytes.add(frame.bytes.size());
            switch (verdicts[i].fate) {
            case Fate::kForward:
                in_arena.emplace_back(verdicts[i].release_ns, DelayArena::record_bytes(frame.bytes.size()));
                arena_used += in_arena.back().second;
                rx.delay_ns.record(verdicts[i].release_ns - frame.arrival_ns);
                tx.packets.add(1);
                tx.bytes.add(frame.bytes.size());
                release.observe(verdicts[i].release_ns, verdicts[i].tag, static_cast<uint32_t>(frame.bytes.size()), verdicts[i].release_ns,
                                tx.lateness_ns, tally);
                if (out.is_open()) out.write(input.base_ns + verdicts[i].release_ns, frame.bytes);
                break;
            case Fate::kDropQueue: rx.drop_queue.add(1); break;
            case Fate::kDropLoss: rx.drop_loss.add(1); break;
            case Fate::kDropOrder: rx.drop_order.add(1); break;
            case Fate::kDropArenaFull: rx.drop_arena_full.add(1); break;
            case Fate::kDropModelError: rx.drop_model_error.add(1); break;
            }
        }
    }
    if (out.is_open() && !out.ok()) {
        fmt::print(stderr, "linkem-sim: writing {} failed\n", opt->out);
        return kExitRuntime;
    }

    add_tally(tx, tally);
    LinkSnapshot s = snapshot(config.links[link_index].name, expected, rx, tx, 0, true);
    s.model_error = model.first_model_error();
    const OrderKeepStats &held = model.order_keep();
    add_order_keep(s, held.held_back.load(), held.added_ns.load(), held.added_max_ns.load(), held.held_model_delay_ns.get(),
                   held.held_delivered_delay_ns.get(), true);
    const uint64_t span_ns = input.frames.empty() ? 0 : input.frames.back().arrival_ns;
    s.run_ns = span_ns;
    fmt::print("linkem-sim: link {} (seed {}), {} packets over {} of input\n{}", s.name, seed, s.rx_packets,
               Duration{static_cast<int64_t>(span_ns)}.to_string(), summary_text({s}));
    if (!opt->stats_json.empty()) {
        std::ofstream json(opt->stats_json);
        json << stats_json({s}, Json{{"seed", seed}, {"input_span_ns", span_ns}});
        if (!json) {
            fmt::print(stderr, "linkem-sim: cannot write {}\n", opt->stats_json);
            return kExitRuntime;
        }
    }
    return s.balanced() ? kExitOk : kExitRuntime;
}
