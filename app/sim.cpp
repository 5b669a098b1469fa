// linkem-sim: a whole configuration in virtual time, through the same
// pipeline as the emulator (core/include/linkem/pipeline*.hpp: rules, chains,
// per-flow templates and aggregates, manglers, ECN, the same random streams),
// with no EAL, NIC or hugepages.
//
//   linkem-sim CONFIG.yaml (--in [PORT=]IN.pcap ... | --synthetic rate=1Mpps,size=64,count=1000000)
//              [--out [PORT=]OUT.pcap ...] [--link NAME] [--seed N] [--stats-json FILE]
//
// Each input capture arrives at its port; the arrival times are its
// timestamps relative to the first packet of all inputs (the virtual clock
// starts at 0 there, as linkem's does when it starts). Frames are admitted in
// bursts from one port, as an rx stage admits them: at most pipeline.burst
// frames, arrived within pipeline.sleep_threshold (a poll nap) of the first,
// and none at or after the next release time; before each burst, everything
// released by its first arrival is taken out of the arenas, so the arenas fill
// (and per-flow instances free up) as the emulator's do. Each packet is written to
// its destination port's output with its release time as its timestamp (on
// the inputs' time base), in release order, in the nanosecond pcap format.
// Same configuration, seed and input: byte-identical output.
//
// A replay source (ports.NAME.replay) is an input too, without --in: its
// trace's records arrive at their scheduled times (linkem/replay.hpp) from
// virtual time 0, which is linkem's start; the inputs' times are on the same
// base (their first packet at 0).
//
// A timeline (docs/CONFIG.md "timeline") runs in virtual time: each instant's
// change is taken exactly there (bursts end before it), from time 0 or from
// the first arrival (from: first_packet); each is printed and listed in
// --stats-json's `changes`.
//
// --link NAME runs that one link alone, as a plain link from its arrival port
// to its destination (a per-flow template as one link, no rules), as
// tools/fidelity.py uses it to model one flow.
#include "linkem/command_line.hpp"
#include "linkem/config.hpp"
#include "linkem/link_change.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/pcap_reader.hpp"
#include "linkem/pipeline.hpp"
#include "linkem/pipeline_egress.hpp"
#include "linkem/pipeline_ingress.hpp"
#include "linkem/plugin_host.hpp"
#include "linkem/replay.hpp"
#include "linkem/replay_stream.hpp"
#include "linkem/seed.hpp"
#include "linkem/stats.hpp"
#include "linkem/suggest.hpp"
#include "linkem/timeline.hpp"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace linkem;

__extension__ using u128 = unsigned __int128;
constexpr int kExitOk = 0, kExitRuntime = 1, kExitUsage = 2;

const char *kUsage =
    "usage: linkem-sim CONFIG.yaml [--in [PORT=]IN.pcap ... | --synthetic rate=R,size=S,count=N]\n"
    "                  [--out [PORT=]OUT.pcap ...] [--link NAME] [--seed N] [--stats-json FILE]\n"
    "\n"
    "Runs CONFIG.yaml in virtual time, every port, rule and link of it, and prints what it did.\n"
    "A replay source in it (ports: NAME: {replay: FILE}) sends its trace at its schedule, from time 0.\n"
    "  --in PORT=IN.pcap   packets arriving at PORT, with their arrival times, from a capture\n"
    "                      (repeat for each port; without PORT=: the first link's arrival port)\n"
    "  --synthetic ...     generated packets for the first link's arrival port instead:\n"
    "                      R: packets per second (1Mpps, 100kpps) or a rate (100Mbit/s);\n"
    "                      S: frame size (64, 1500B); N: packet count\n"
    "  --out PORT=OUT.pcap what leaves PORT, stamped with the emulated release times\n"
    "                      (repeat for each port; without PORT=: the first link's destination)\n"
    "  --link NAME         that link alone, as a plain link (no rules, a per-flow template as one link)\n"
    "  --seed N            overrides the configuration's seed\n"
    "  --stats-json FILE   the summary as JSON, as linkem --stats-json writes it\n"
    "  --version           the version and the git commit it was built from\n";

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
    uint64_t count = 0, size = 64, gap_ns_num = 0, gap_den = 1, bits_per_s = 0;
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
                bits_per_s = r.value->bits_per_s;  // the gap needs the size, which may come later
            }
        } else {
            return {{}, 0, fmt::format("--synthetic: unknown item \"{}\" (known: rate, size, count)", key)};
        }
    }
    if (bits_per_s != 0) gap_ns_num = size * 8 * 1'000'000'000, gap_den = bits_per_s;
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
    void write(uint64_t t_ns, const uint8_t *bytes, uint32_t len) {
        const uint32_t record[4] = {static_cast<uint32_t>(t_ns / 1'000'000'000), static_cast<uint32_t>(t_ns % 1'000'000'000), len, len};
        out_.write(reinterpret_cast<const char *>(record), sizeof record);
        out_.write(reinterpret_cast<const char *>(bytes), len);
    }
    bool ok() const { return static_cast<bool>(out_); }
    bool is_open() const { return out_.is_open(); }

  private:
    std::ofstream out_;
};

// "PORT=FILE" or "FILE" (port empty).
struct PortFile {
    std::string port, file;
};

struct Options {
    std::string config, synthetic, link, stats_json;
    std::vector<PortFile> in, out;
    std::optional<uint64_t> seed;
};

PortFile port_file(const std::string &v) {
    const size_t eq = v.find('=');
    // A file name may hold '=' too: only a plain word before it names a port.
    if (eq == std::string::npos || eq == 0 || v.find('/') < eq) return {"", v};
    return {v.substr(0, eq), v.substr(eq + 1)};
}

std::optional<Options> parse_options(int argc, char **argv, std::string *error) {
    Options o;
    const std::vector<std::string> known = {"--in", "--synthetic", "--out", "--link", "--seed", "--stats-json", "--help", "--version"};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help") return std::nullopt;
        if (a == "--version") fmt::print("{}\n", version_line("linkem-sim")), std::exit(kExitOk);
        if (a.rfind("--", 0) != 0) {
            if (!o.config.empty()) return *error = "more than one configuration file", std::nullopt;
            o.config = a;
            continue;
        }
        if (i + 1 >= argc) return *error = a + " needs a value", std::nullopt;
        const std::string v = argv[++i];
        if (a == "--in")
            o.in.push_back(port_file(v));
        else if (a == "--synthetic")
            o.synthetic = v;
        else if (a == "--out")
            o.out.push_back(port_file(v));
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
    if (!o.in.empty() && !o.synthetic.empty()) return *error = "give --in IN.pcap or --synthetic ..., not both", std::nullopt;
    return o;
}

// The configuration --link NAME leaves: that link alone, as a plain link
// between its ports; a chain's link lacks one end, and gets the first port
// (as its arrival) or the second (as its destination) there.
Config one_link(const Config &config, size_t link_index) {
    Config c = config;
    Link l = config.links[link_index];
    if (l.from.empty()) l.from = config.ports.front().name;
    if (l.to.empty()) l.to = config.ports.size() > 1 ? config.ports[1].name : config.ports.front().name;
    l.per_flow.reset();
    c.links = {l};
    c.rules.clear();
    // Its timeline steps only.
    std::vector<TimelineStep> steps;
    for (TimelineStep s : c.timeline.steps)
        if (s.link_index == link_index) {
            s.link_index = 0;
            s.link.from = l.from;
            s.link.to = l.to;
            s.link.per_flow.reset();
            steps.push_back(std::move(s));
        }
    c.timeline.steps = std::move(steps);
    return c;
}

// A burst of capture records as the pipeline's ingress step reads frames.
struct RecordFrames {
    const Frame *frames;
    uint32_t len(uint16_t i) const { return static_cast<uint32_t>(frames[i].bytes.size()); }
    const uint8_t *head(uint16_t i) const { return reinterpret_cast<const uint8_t *>(frames[i].bytes.data()); }
    uint32_t head_len(uint16_t i) const { return len(i); }
    void copy(uint16_t i, uint8_t *dst, uint32_t n) const { std::memcpy(dst, frames[i].bytes.data(), n); }
    uint64_t arrival_ns(uint16_t i) const { return frames[i].arrival_ns; }
};

// Arenas in anonymous memory mapped without reserving swap: pages are
// committed only as records reach them, so a per-flow template's instances
// (max_flows arenas, most never used) cost only what their flows touch.
class LazyArenas {
  public:
    ~LazyArenas() {
        for (const auto &[p, bytes] : blocks_) munmap(p, bytes);
    }
    void *allocate(const std::string &what, uint64_t bytes) {
        void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            fmt::print(stderr, "linkem-sim: {}: cannot map {} of delay arena: {}\n", what, ByteSize{bytes}.to_string(),
                       std::strerror(errno));
            return nullptr;
        }
        blocks_.emplace_back(p, bytes);
        return p;
    }

  private:
    std::vector<std::pair<void *, uint64_t>> blocks_;
};

// One input: the frames that arrive at a port, and the next to admit; or a
// replay source's trace, admitted at its schedule (linkem/replay.hpp).
struct PortInput {
    IngressRuntime *ingress = nullptr;
    std::string file;
    std::vector<Frame> frames;
    size_t next = 0;
    ReplayCursor *replay = nullptr;
    ReplayStats *replay_stats = nullptr;

    // The next frame's arrival; UINT64_MAX when there is none.
    uint64_t peek() const {
        if (replay != nullptr) return replay->next_ns();
        return next < frames.size() ? frames[next].arrival_ns : UINT64_MAX;
    }
    uint64_t packets() const { return replay != nullptr ? replay_stats->packets : frames.size(); }
};

// A replay source in virtual time: its trace, schedule and figures.
struct SimReplay {
    size_t port;
    ReplayTraceData data;  // loaded
    std::unique_ptr<ReplayCursor> cursor;
    std::unique_ptr<ReplayStats> stats;
    // Streamed (memory: smaller than the trace): its ring and reader, as linkem's.
    std::optional<ReplayPlan> plan;
    std::vector<ChunkHeader> ring_memory;  // 64-byte lines
    std::unique_ptr<ChunkRing> ring;
    std::unique_ptr<ReplayReader> reader;
    ReplayTrace trace() const {
        if (!plan) return ReplayTrace::of(data);
        return {nullptr, ring->base(), plan->shape.count, plan->shape.span_ns, plan->shape.total_bytes};
    }
};

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
    size_t link_index = 0;
    if (!opt->link.empty()) {
        std::vector<std::string> names;
        for (const Link &l : loaded.config->links) names.push_back(l.name);
        const auto it = std::find(names.begin(), names.end(), opt->link);
        if (it == names.end()) {
            fmt::print(stderr, "linkem-sim: no link \"{}\" in {} (links: {})\n", opt->link, opt->config, join(names));
            return kExitUsage;
        }
        link_index = static_cast<size_t>(it - names.begin());
    }
    // The configuration in force: a timeline's changes update its links, as linkem's do.
    Config config = opt->link.empty() ? *loaded.config : one_link(*loaded.config, link_index);
    if (!opt->link.empty()) link_index = 0;
    const uint64_t seed = opt->seed ? *opt->seed : resolve_seed(config);
    std::vector<ConfigError> errors;
    const PluginHost host;
    std::optional<std::vector<LinkPlan>> plans = plan_links(config, seed, host, &errors);
    if (!plans) {
        for (const ConfigError &e : errors) fmt::print(stderr, "{}\n", e.to_string());
        return kExitUsage;
    }
    LazyArenas arenas;
    std::unique_ptr<PipelineRuntime> pipeline = PipelineRuntime::build(
        config, *plans, seed, [&](const std::string &what, uint64_t bytes) { return arenas.allocate(what, bytes); }, nullptr);
    if (pipeline == nullptr) return kExitRuntime;

    // The one-file forms: the first link's (or --link's) ports.
    const Link &first = config.links[link_index];
    const std::string default_in = !first.from.empty() ? first.from : pipeline->ingress().front()->port_name;
    const std::string default_out =
        !first.to.empty() ? first.to : config.ports[pipeline->egress().empty() ? 0 : pipeline->egress().front()->port].name;
    const auto ports_named = [&](const auto &list) {
        std::vector<std::string> names;
        for (const auto &p : list) names.push_back(config.ports[p->port].name);
        return names;
    };

    std::vector<PortInput> inputs;
    std::vector<PortFile> in_files = opt->in;
    if (!opt->synthetic.empty()) in_files = {{default_in, ""}};
    // Replay sources: their traces, read as linkem reads them, scheduled from virtual time 0 (linkem's start).
    std::vector<SimReplay> replays;
    for (size_t k = 0; k < config.ports.size(); ++k) {
        const Port &p = config.ports[k];
        if (!p.replay) continue;
        const std::string path = fmt::format("ports.{}", p.name);
        if (!p.replay->loops) {
            fmt::print(
                stderr, "{}\n",
                ConfigError{config.file, p.pos, path + ".loop", "forever has no end in virtual time: give a number of loops"}.to_string());
            return kExitUsage;
        }
        std::string trace_error;
        // As linkem does with memory: smaller than the trace, streamed; else loaded (linkem-sim has no memory budget).
        const std::optional<ReplayShape> shape = walk_replay_trace(
            *p.replay, [](const ReplayEntry &, const std::string &) { return true; }, &trace_error);
        std::optional<ReplayPlan> plan = shape ? plan_replay(*p.replay, *shape, true, &trace_error) : std::nullopt;
        std::optional<ReplayTraceData> data = plan && !plan->streamed ? read_replay_trace(*p.replay, &trace_error) : std::nullopt;
        if (!plan || (!plan->streamed && !data)) {
            fmt::print(stderr, "{}\n", ConfigError{config.file, p.replay->pos, path + ".replay", trace_error}.to_string());
            return kExitRuntime;
        }
        replays.push_back(
            {k, data ? std::move(*data) : ReplayTraceData{}, nullptr, std::make_unique<ReplayStats>(), std::nullopt, {}, nullptr, nullptr});
        if (plan->streamed) {
            SimReplay &r = replays.back();
            r.plan = plan;
            r.ring_memory.resize(plan->memory_bytes / sizeof(ChunkHeader));
            r.ring = std::make_unique<ChunkRing>(reinterpret_cast<uint8_t *>(r.ring_memory.data()), plan->chunk_bytes, plan->chunks);
            r.reader = std::make_unique<ReplayReader>(*p.replay, plan->shape, *r.ring);
            r.reader->start();
        }
    }
    if (in_files.empty() && replays.empty()) {
        fmt::print(stderr,
                   "linkem-sim: give --in IN.pcap or --synthetic ... (or a replay source in the configuration)\n"
                   "Try 'linkem-sim --help'.\n");
        return kExitUsage;
    }
    for (const PortFile &pf : in_files) {
        const std::string port = pf.port.empty() ? default_in : pf.port;
        if (const Port *p = config.find_port(port); p != nullptr && p->replay) {
            fmt::print(stderr, "linkem-sim: --in {}={}: port \"{}\" is a replay source: it sends its own trace ({})\n", port, pf.file, port,
                       p->replay->file);
            return kExitUsage;
        }
        IngressRuntime *ingress = nullptr;
        for (auto &in : pipeline->ingress())
            if (in->port_name == port) ingress = in.get();
        if (ingress == nullptr) {
            fmt::print(stderr, "linkem-sim: --in {}={}: no link or rule takes packets from port \"{}\" (arrival ports: {})\n", port,
                       pf.file, port, join(ports_named(pipeline->ingress())));
            return kExitUsage;
        }
        for (const PortInput &other : inputs)
            if (other.ingress == ingress) {
                fmt::print(stderr, "linkem-sim: port {} has two inputs ({} and {}): give one capture per port\n", port, other.file,
                           pf.file);
                return kExitUsage;
            }
        Input input = opt->synthetic.empty() ? read_pcap(pf.file) : synthetic(opt->synthetic);
        if (!input.error.empty()) {
            fmt::print(stderr, "linkem-sim: {}\n", input.error);
            return opt->synthetic.empty() ? kExitRuntime : kExitUsage;
        }
        // Back to absolute times; made relative to the earliest input below.
        for (Frame &f : input.frames) f.arrival_ns += input.base_ns;
        inputs.push_back({ingress, pf.file.empty() ? "--synthetic" : pf.file, std::move(input.frames), 0});
    }
    uint64_t base_ns = UINT64_MAX;
    for (const PortInput &in : inputs)
        if (!in.frames.empty()) base_ns = std::min(base_ns, in.frames.front().arrival_ns);
    if (base_ns == UINT64_MAX) base_ns = 0;
    uint64_t span_ns = 0;
    for (PortInput &in : inputs) {
        for (Frame &f : in.frames) f.arrival_ns -= base_ns;
        if (!in.frames.empty()) span_ns = std::max(span_ns, in.frames.back().arrival_ns);
    }
    for (SimReplay &r : replays) {
        IngressRuntime *ingress = nullptr;
        for (auto &in : pipeline->ingress())
            if (in->port == r.port) ingress = in.get();
        r.cursor =
            std::make_unique<ReplayCursor>(*config.ports[r.port].replay, r.trace(), r.ring.get(), true);  // streamed: waits for its reader
        r.cursor->begin(0);
        if (ingress == nullptr) continue;  // no link starts there: it sends nothing
        inputs.push_back({ingress, config.ports[r.port].replay->file, {}, 0, r.cursor.get(), r.stats.get()});
    }

    // Outputs by egress index.
    std::vector<PcapWriter> outputs(pipeline->egress().size());
    std::vector<std::string> output_names(pipeline->egress().size());
    for (const PortFile &pf : opt->out) {
        const std::string port = pf.port.empty() ? default_out : pf.port;
        size_t e = 0;
        while (e < pipeline->egress().size() && config.ports[pipeline->egress()[e]->port].name != port) ++e;
        if (e == pipeline->egress().size()) {
            fmt::print(stderr, "linkem-sim: --out {}={}: no link sends to port \"{}\" (destination ports: {})\n", port, pf.file, port,
                       join(ports_named(pipeline->egress())));
            return kExitUsage;
        }
        if (outputs[e].is_open()) {
            fmt::print(stderr, "linkem-sim: port {} has two outputs ({} and {})\n", port, output_names[e], pf.file);
            return kExitUsage;
        }
        if (!outputs[e].open(pf.file)) {
            fmt::print(stderr, "linkem-sim: cannot write {}: {}\n", pf.file, std::strerror(errno));
            return kExitRuntime;
        }
        output_names[e] = pf.file;
    }

    // Virtual time: release what is due before each arrival burst, then admit it.
    const uint32_t burst = std::min<uint32_t>(config.pipeline.burst, kMaxBurst);
    const uint64_t sleep_threshold_ns = static_cast<uint64_t>(config.pipeline.sleep_threshold.ns);
    std::vector<uint64_t> sent_per_port(pipeline->egress().size(), 0);
    DueBurst due;
    uint32_t all[kMaxBurst];
    for (uint32_t i = 0; i < kMaxBurst; ++i) all[i] = i;
    const auto next_release = [&] {
        uint64_t t = UINT64_MAX;
        for (auto &out : pipeline->egress())
            for (Lane *lane : out->lanes)
                if (const ArenaRecord *r = lane->arena.front()) t = std::min(t, r->release_ns);
        return t;
    };
    const auto release_until = [&](uint64_t until_ns) {
        for (uint64_t t; (t = next_release()) <= until_ns;) {
            for (size_t e = 0; e < pipeline->egress().size(); ++e) {
                while (take_due(*pipeline->egress()[e], t, burst, due) != 0) {
                    if (outputs[e].is_open())
                        for (uint32_t i = 0; i < due.n; ++i) {
                            const ArenaRecord &r = *due.record[i];
                            outputs[e].write(base_ns + r.release_ns, r.data(), r.len_bytes);
                        }
                    sent_per_port[e] += due.n;
                    settle_due(due, all, due.n, t);  // every packet leaves at its release time
                }
            }
        }
    };
    // The timeline in virtual time (docs/ARCHITECTURE.md "Runtime changes"): each
    // instant's change is made and posted as linkem's control thread does, and
    // taken at the instant itself: the bursts are cut there, so the packets
    // that arrive before it have the old parameters and the others the new.
    TimelineCursor timeline(config.timeline);
    if (!timeline.empty() && !timeline.from_first_packet()) timeline.start(0);
    Json changes = Json::array();
    uint64_t changes_made = 0;
    const auto take_timeline_step = [&]() -> bool {
        const uint64_t at_ns = timeline.next_ns();
        const std::string path = timeline.next_steps().front()->path;
        const std::string name = timeline.repeats() ? fmt::format("{}, pass {}", path, timeline.repetition() + 1) : path;
        ChangeCandidate candidate = timeline.next_change(config);
        timeline.advance();
        if (candidate.config && candidate.edits.empty()) return true;  // the links have these values already
        std::vector<ConfigError> change_errors = std::move(candidate.errors);
        std::optional<PreparedChange> prepared;
        if (candidate.config)
            prepared = prepare_change(*pipeline, *plans, std::move(candidate), seed, changes_made + 1, host, config.file, &change_errors);
        if (!prepared) {
            fmt::print(stderr, "linkem-sim: timeline: {} cannot be applied at +{}:\n", name,
                       Duration{static_cast<int64_t>(at_ns)}.to_string());
            for (const ConfigError &e : change_errors) fmt::print(stderr, "{}\n", e.to_string());
            return false;
        }
        post_change(*prepared, at_ns);
        for (const auto &p : prepared->pending) poll_change(*p->ingress, at_ns);
        const std::vector<LinkEdit> done = commit_change(*prepared, *plans, config);
        ++changes_made;
        Json links = Json::object();
        std::string words;
        for (const LinkEdit &e : done) {
            Json keys = Json::object();
            words += fmt::format(" {}:", config.links[e.link].name);
            for (const auto &[key, value] : e.keys) {
                keys[key] = value;
                words += fmt::format(" {}={}", key, value);
            }
            links[config.links[e.link].name] = std::move(keys);
        }
        changes.push_back({{"at_ns", at_ns}, {"links", std::move(links)}, {"source", name}});
        fmt::print("linkem-sim: change {} at +{} ({}):{}\n", changes_made, Duration{static_cast<int64_t>(at_ns)}.to_string(), name, words);
        return true;
    };
    for (;;) {
        PortInput *next = nullptr;  // the input whose next frame arrives first
        for (PortInput &in : inputs)
            if (in.peek() != UINT64_MAX && (next == nullptr || in.peek() < next->peek())) next = &in;
        if (next == nullptr) break;
        const uint64_t arrival_ns = next->peek();
        if (!timeline.empty() && !timeline.started()) timeline.start(arrival_ns);  // from: first_packet
        // Every instant up to this arrival (after the last one, below).
        while (timeline.next_ns() <= arrival_ns)
            if (!take_timeline_step()) return kExitRuntime;
        for (auto &in : pipeline->ingress()) advance_held(*in, arrival_ns);  // queue disciplines: the starts up to now
        release_until(arrival_ns);
        // A burst: up to `burst` frames of this port that arrived within one
        // poll nap (sleep_threshold) of the first, until another port's frame
        // comes first, and before the next release (the emulator's tx stage
        // runs before its rx stage, so what is due leaves its arena first).
        uint64_t until = std::min(next_release() - 1, arrival_ns + sleep_threshold_ns);
        for (PortInput &in : inputs)
            if (&in != next) until = std::min(until, in.peek());
        until = std::min(until, timeline.next_ns() - 1);  // a burst ends before the timeline's next instant
        if (next->replay != nullptr) {                    // the records scheduled by then, each arriving at its scheduled time
            ReplayBurst b;
            const uint16_t n = next->replay->take(until, static_cast<uint16_t>(burst), b);
            admit_burst(*next->ingress, b, n, arrival_ns, [arrival_ns] { return arrival_ns; });
            next->replay_stats->record(b, n, arrival_ns, false, 0);
            continue;
        }
        uint16_t n = 1;
        while (n < burst && next->next + n < next->frames.size() && next->frames[next->next + n].arrival_ns <= until) ++n;
        admit_burst(*next->ingress, RecordFrames{&next->frames[next->next]}, n, arrival_ns, [arrival_ns] { return arrival_ns; });
        next->next += n;
    }
    // The end of input: the held queues drain. A packet still held takes the
    // parameters in force at its transmission start, so the steps go on while
    // any queue holds one (as linkem takes them while idle); after that they
    // change nothing any packet sees.
    const auto holding = [&] {
        for (auto &in : pipeline->ingress())
            for (const LinkRuntime *link : in->held_links)
                if (link->model.held_packets() != 0) return true;
        return false;
    };
    while (timeline.next_ns() != TimelineCursor::kNone && holding()) {
        const uint64_t step_ns = timeline.next_ns();
        for (auto &in : pipeline->ingress()) advance_held(*in, step_ns - 1);
        release_until(step_ns - 1);
        if (!holding()) break;
        if (!take_timeline_step()) return kExitRuntime;
    }
    for (auto &in : pipeline->ingress()) advance_held(*in, UINT64_MAX);
    release_until(UINT64_MAX - 1);
    for (size_t e = 0; e < outputs.size(); ++e)
        if (outputs[e].is_open() && !outputs[e].ok()) {
            fmt::print(stderr, "linkem-sim: writing {} failed\n", output_names[e]);
            return kExitRuntime;
        }

    // Virtual time keeps the schedule: each replayed packet was admitted at its scheduled time.
    std::vector<ReplayReport> replay_reports;
    for (SimReplay &r : replays) {
        r.stats->first_sent_ns = r.stats->first_scheduled_ns;
        r.stats->last_sent_ns = r.stats->last_scheduled_ns;
        r.stats->done.store(r.cursor->done());
        span_ns = std::max(span_ns, r.stats->last_scheduled_ns);
        if (r.reader && r.reader->failed()) {
            fmt::print(stderr, "linkem-sim: {}\n", r.reader->error());
            return kExitRuntime;
        }
        ReplayReport report = replay_report(config.ports[r.port], r.trace(), *r.stats, 0);
        report.virtual_time = true;
        if (r.plan) {
            report.streamed = true;
            report.ring_bytes = r.plan->memory_bytes;
            report.chunk_bytes = r.plan->chunk_bytes;
            report.chunks_read = r.reader->chunks_written();
        }
        replay_reports.push_back(std::move(report));
    }
    const std::vector<LinkSnapshot> links = pipeline->link_snapshots(span_ns, true);
    const std::vector<PortClassifySnapshot> classified = pipeline->classify_snapshots();
    std::vector<std::string> fed;
    for (const PortInput &in : inputs)
        fed.push_back(fmt::format("{} packets into port {}{}", in.packets(), in.ingress->port_name, in.replay ? " (replay)" : ""));
    fmt::print("linkem-sim: {}{} (seed {}): {}, over {} of input\n{}", opt->config,
               opt->link.empty() ? "" : ", link " + opt->link + " alone", seed, join(fed),
               Duration{static_cast<int64_t>(span_ns)}.to_string(), summary_text(links));
    if (!config.rules.empty() || pipeline->routes().paths.size() > pipeline->routes().ingress.size())
        fmt::print("{}", classify_summary_text(classified));
    Json replay_list = Json::array();
    for (const ReplayReport &r : replay_reports) {
        fmt::print("{}", replay_summary_text(r));
        replay_list.push_back(replay_json(r));
    }
    bool balanced = true;
    for (const LinkSnapshot &l : links) balanced = balanced && l.balanced() && l.in_flight == 0;
    if (!opt->stats_json.empty()) {
        // The document linkem writes; each port's ipackets and opackets are
        // what linkem-sim read from its input and wrote for it.
        Json ports = Json::array();
        for (size_t k = 0; k < config.ports.size(); ++k) {
            uint64_t in_packets = 0, out_packets = 0;
            for (const PortInput &in : inputs)
                if (in.ingress->port == k) in_packets = in.packets();
            for (size_t e = 0; e < pipeline->egress().size(); ++e)
                if (pipeline->egress()[e]->port == k) out_packets = sent_per_port[e];
            ports.push_back({{"name", config.ports[k].name}, {"ipackets", in_packets}, {"opackets", out_packets}});
        }
        std::ofstream json(opt->stats_json);
        json << stats_json(links, Json{{"seed", seed},
                                       {"duration_ns", span_ns},
                                       {"input_span_ns", span_ns},
                                       {"ports", std::move(ports)},
                                       {"classify", classify_json(classified)},
                                       {"replay", std::move(replay_list)},
                                       {"changes", std::move(changes)}});
        if (!json) {
            fmt::print(stderr, "linkem-sim: cannot write {}\n", opt->stats_json);
            return kExitRuntime;
        }
    }
    return balanced ? kExitOk : kExitRuntime;
}
