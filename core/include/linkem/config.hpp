// The typed configuration, and the loader that builds it from YAML.
//
// Contract:
//  - load_config_file() / load_config_text() either return a complete, valid
//    Config or a list of every error found; never a partly filled Config.
//  - Each error names the file, the 1-based line and column of the offending
//    node, the key path ("links[1].delay") and what was expected, with an
//    example. Unknown keys are errors, with the known keys and the nearest one.
//  - Malformed input (syntax errors, tabs, duplicate keys, binary data, huge
//    files, deep nesting, alias bombs) yields errors, never a crash or a hang.
//  - Model fields (bandwidth, delay, loss) are kept as ModelSpec: a model name
//    plus raw parameters with their source positions. The shorthands
//    (`delay: 20ms`, `loss: 1%`, `bandwidth: 100Mbit/s`) become the built-in
//    models `constant`, `bernoulli` and `constant` with their one parameter, so
//    the plugin host later resolves every form through one mechanism. The
//    parameters of a shorthand are already checked; those of an explicit
//    `{plugin: ...}` are checked by the plugin that receives them.
//
// See docs/CONFIG.md for the user-facing reference of every key.
#pragma once

#include "linkem/packet_fields.hpp"
#include "linkem/instance.hpp"
#include "linkem/units.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace linkem {

// Where a value was written: 1-based line and column (0 when unknown).
struct SourcePos {
    int line = 0;
    int column = 0;
};

struct ConfigError {
    std::string file;
    SourcePos pos;
    std::string path;     // key path, e.g. "links[1].delay"; empty for file-level errors
    std::string message;  // what was wrong and what is expected

    std::string to_string() const;  // "file:line:col: path: message"
};

// One parameter of a model, as written: a scalar or a list of scalars.
struct ModelParam {
    std::string key;
    std::string path;  // "links[0].loss.p"
    SourcePos pos;
    std::vector<std::string> values;  // one element for a scalar
    bool is_list = false;
};

// A loss, delay or bandwidth model: `plugin` plus its parameters.
struct ModelSpec {
    std::string plugin;      // model name ("constant", "gilbert_elliott") or a path to a .so
    bool shorthand = false;  // written as a bare value such as `delay: 20ms`
    std::vector<ModelParam> params;
    std::string path;  // "links[0].delay"
    SourcePos pos;

    const ModelParam *find(std::string_view key) const;
    // Typed access to a parameter; an error message names the parameter's path.
    Parsed<Duration> duration(std::string_view key) const;
    Parsed<Rate> rate(std::string_view key) const;
    Parsed<Probability> probability(std::string_view key) const;
};

// The emulated link queue (before the bottleneck). Either limit, or both, may be set.
struct QueueLimit {
    std::optional<uint64_t> packets;
    std::optional<uint64_t> bytes;
};

// A replay source (ports.NAME.replay, docs/CONFIG.md "Replay"): a capture's
// packets enter the links from this port at their scheduled times. Pure
// configuration: the trace itself is read by linkem/replay.hpp.
struct Replay {
    enum class Pace : uint8_t { kSpeed, kPps, kRate, kTopspeed };
    static constexpr uint64_t kSpeedOne = 1'000'000'000;  // speed_ppb of `speed: 1` (the recorded timing)
    std::string file;                                     // as written
    std::string path;                                     // the file, resolved against the configuration file's directory
    Pace pace = Pace::kSpeed;
    uint64_t speed_ppb = kSpeedOne;     // speed x 10^9: the recorded gaps divided by the speed
    uint64_t pps = 0;                   // kPps: packets per second
    Rate rate{0};                       // kRate: each packet takes its frame's bits at this rate
    std::optional<uint64_t> loops = 1;  // times through the trace; none: forever
    Duration start{0};                  // the first packet's time after linkem's start
    // memory: the most the trace may take (none: auto, loaded when the host
    // holds it, else streamed); a larger trace streams through chunks of chunk_bytes.
    static constexpr uint64_t kDefaultChunkBytes = 1ULL << 20;
    std::optional<uint64_t> memory_bytes;
    uint64_t chunk_bytes = kDefaultChunkBytes;
    SourcePos pos;  // of the file name
};

struct Port {
    std::string name;
    std::string device;  // DPDK device: PCI address or vdev devargs ("net_null0"); empty for a replay source
    SourcePos pos;
    SourcePos device_pos;          // of the device string
    std::optional<Replay> replay;  // a replay source: no device, only links from it
};

// Packet mangling on a link (docs/CONFIG.md "mangle"); each is off unless given.
struct Mangle {
    std::optional<Probability> duplicate;    // a second copy, released with the original
    std::optional<Probability> corrupt;      // per packet: one random bit flipped
    std::optional<Probability> corrupt_ber;  // or every bit with this probability
    std::optional<uint32_t> truncate_bytes;  // frames longer than this are cut to it
    bool ecn = false;                        // ECN-capable packets are marked CE instead of queue drops
    std::optional<Probability> reorder;      // held back by reorder_extra_delay, so later ones overtake
    Duration reorder_extra_delay{0};
    bool any() const { return duplicate || corrupt || corrupt_ber || truncate_bytes || ecn || reorder; }
};

// A class of a weighted scheduler (queue: {scheduler: drr, classes: [...]}).
struct QueueClass {
    std::string name;                                             // classes[i].name, or "class i"
    RuleMatch match;                                              // fields 0: every packet
    std::vector<std::pair<std::string, std::string>> match_text;  // as written, canonical
    uint32_t weight = 1;                                          // its share: weight quanta per round
};

// A scheduler among several queues in front of a link's bandwidth limit
// (docs/CONFIG.md "Fair queueing"): `fq`, one queue per flow (a hash of the
// addresses, protocol and ports, as FQ-CoDel), new flows served first; or
// `drr`, one queue per class, chosen by matches, served in proportion to
// their weights. Each queue has its own instance of the link's discipline.
struct QueueSchedulerSpec {
    static constexpr uint32_t kDefaultFlows = 1024;
    static constexpr uint32_t kMaxFlows = 65536;
    static constexpr uint64_t kDefaultQuantumBytes = 1514;
    static constexpr uint64_t kDefaultFqLimitPackets = 10240;  // RFC 8290 (Linux's fq_codel limit)
    enum class Kind : uint8_t { kFq, kDrr };
    Kind kind = Kind::kFq;
    uint32_t flows = kDefaultFlows;                 // fq: queues
    uint64_t quantum_bytes = kDefaultQuantumBytes;  // frame bytes a queue may send per round (per weight unit)
    std::vector<QueueClass> classes;                // drr: a packet takes the first class it matches, else the last
    bool fq_codel = false;                          // written as discipline: fq_codel
    SourcePos pos;
    uint32_t queues() const { return kind == Kind::kFq ? flows : static_cast<uint32_t>(classes.size()); }
};

// Which header fields make a flow's key for a per-flow link (dummynet's mask).
struct FlowKeySpec {
    uint8_t src_bits = 0, dst_bits = 0;    // IPv4 prefix lengths (0: not part of the key)
    uint8_t src6_bits = 0, dst6_bits = 0;  // IPv6 prefix lengths
    bool proto = false, src_port = false, dst_port = false;
};

// A link template instantiated per flow (links[].per_flow).
struct PerFlow {
    static constexpr uint32_t kDefaultMaxFlows = 64;
    static constexpr int64_t kDefaultIdleTimeoutNs = 10'000'000'000;
    FlowKeySpec key;
    uint32_t max_flows = kDefaultMaxFlows;
    Duration idle_timeout{kDefaultIdleTimeoutNs};
    // A bottleneck every instance's packets cross first, at this rate, with
    // the template's queue limits and overhead; none: the instances share nothing.
    std::optional<Rate> aggregate;
};

struct Link {
    std::string name;
    std::string from;  // port names; empty when not given (a link used only inside chains)
    std::string to;
    std::optional<ModelSpec> bandwidth;           // none: no rate limit
    uint32_t overhead_bytes = 0;                  // added to every frame's length for the rate
    std::string overhead_name;                    // "ethernet", "none", or empty for a byte count
    QueueLimit queue;                             // with a discipline: its hard limits (over them: overload, drop reason queue)
    std::optional<ModelSpec> discipline;          // queue: {discipline: NAME, ...}: a queue discipline (LKM_KIND_QUEUE); none: tail drop
    bool discipline_ecn = false;                  // queue: {ecn: true}: packets are parsed for ECN, the discipline may mark
    std::optional<QueueSchedulerSpec> scheduler;  // queue: {scheduler: fq|drr} or {discipline: fq_codel}: several queues
    std::optional<ModelSpec> delay;               // none: no added delay
    std::optional<ModelSpec> loss;                // none: no random loss
    bool order_drop = false;                      // order: drop (drop what the delay would reorder); keep (default) holds it back
    std::optional<uint64_t> arena_packets;        // override of the delay arena's derived size
    Mangle mangle;
    std::optional<PerFlow> per_flow;  // a template: one instance per flow key
    SourcePos pos;                    // of the link's mapping
    SourcePos name_pos;               // of its name
    SourcePos mangle_pos;             // of its mangle value, when given
    // Its packets are held and decided at their transmission starts (a discipline or a scheduler).
    bool holds_queue() const { return discipline.has_value() || scheduler.has_value(); }
};

// A classification rule (top-level `rules`): first match wins.
struct Rule {
    enum class Action : uint8_t { kLink, kChain, kPass, kDrop };
    RuleMatch match;                                              // compiled; match.port is an index into Config::ports
    std::vector<std::pair<std::string, std::string>> match_text;  // as written, canonical (for --check)
    Action action = Action::kLink;
    std::vector<size_t> links;  // kLink: one index into Config::links; kChain: the hops in order
    std::string path;           // "rules[2]"
    SourcePos pos;
    std::vector<SourcePos> link_pos;  // of each name in `links`, as written
    SourcePos port_pos;               // of match.port, when given
};

struct Pipeline {
    static constexpr uint32_t kDefaultBurst = 32;
    uint32_t burst = kDefaultBurst;
    std::vector<uint32_t> lcores;       // empty: linkem picks from the CPUs it may run on
    std::vector<SourcePos> lcores_pos;  // of each id in `lcores`, as written
    // Classification, link models and mangling on an lcore of their own (the
    // other lcores receive and hand bursts over through a ring); none: on the rx lcores.
    std::optional<uint32_t> classify_lcore;
    SourcePos classify_lcore_pos;  // of its value, when given
    // An lcore with nothing to do for longer than this sleeps instead of spinning.
    static constexpr int64_t kDefaultSleepThresholdNs = 50'000;
    Duration sleep_threshold{kDefaultSleepThresholdNs};
    // Idle back-off: an lcore that has moved no packet for idle_after polls
    // with naps of idle_nap instead of sleep_threshold (0: never backs off).
    static constexpr int64_t kDefaultIdleAfterNs = 1'000'000'000;
    static constexpr int64_t kDefaultIdleNapNs = 1'000'000;
    Duration idle_after{kDefaultIdleAfterNs};
    Duration idle_nap{kDefaultIdleNapNs};
};

// An address to listen on: "127.0.0.1:9464", "0.0.0.0:9464", "localhost:9464", "[::1]:9464".
struct ListenAddress {
    std::string host;   // an IPv4 address, a host name, or an IPv6 address (without its brackets)
    uint16_t port = 0;  // 1 to 65535

    static constexpr const char *kExamples = "127.0.0.1:9464, 0.0.0.0:9464, [::1]:9464";
    static Parsed<ListenAddress> parse(std::string_view text);
    std::string to_string() const;  // parse(to_string()) gives the same address
    auto operator<=>(const ListenAddress &) const = default;
};

struct Stats {
    // A packet transmitted later than this after its release time counts as late.
    static constexpr int64_t kDefaultLatenessToleranceNs = 10'000;
    Duration lateness_tolerance{kDefaultLatenessToleranceNs};
    // stats.prometheus: serve GET /metrics (linkem/prometheus.hpp) there while running; none: no server.
    std::optional<ListenAddress> prometheus;
};

// A timeline (top-level `timeline`, docs/CONFIG.md "Timeline"): runtime
// changes at instants counted from linkem's start or from the first packet,
// optionally repeated. Each step is what `linkemctl set LINK KEY=VALUE...`
// would do; steps at one instant form one atomic change.
struct TimelineStep {
    Duration at{0};         // after the timeline's origin (within each repetition)
    size_t link_index = 0;  // into Config::links
    std::string link_name;
    // Each key with its value as the configuration prints it ("30ms",
    // "{plugin: normal, mean: 20ms, stddev: 2ms}"): KEY=VALUE for load_link_set.
    std::vector<std::pair<std::string, std::string>> set;
    Link link;         // the link as this step's keys make it over its configured keys (for plugin checks at start)
    std::string path;  // "timeline.steps[1]"
    SourcePos pos;
};

struct Timeline {
    bool from_first_packet = false;   // from: first_packet; otherwise from: start (linkem's start, linkem-sim's time 0)
    std::optional<Duration> repeat;   // the whole list again every `repeat`
    std::vector<TimelineStep> steps;  // in time order; empty: no timeline
    SourcePos pos;
};

struct Config {
    std::string file;  // as given to the loader, for messages
    // The instance's name (linkem/instance.hpp): EAL's --file-prefix, what linkemctl --name finds.
    // linkem's --name replaces it; linkem-sim ignores it.
    std::string name = kDefaultInstanceName;
    std::vector<Port> ports;
    std::vector<Link> links;
    std::vector<Rule> rules;
    Pipeline pipeline;
    Stats stats;
    bool capture = false;  // let dpdk-dumpcap capture the ports (EAL in multi-process mode)
    uint64_t seed = 1;
    bool seed_random = false;      // `seed: random`: drawn at start, then reported
    std::vector<std::string> eal;  // extra EAL arguments
    Timeline timeline;

    const Port *find_port(std::string_view port_name) const;
};

struct LoadResult {
    std::optional<Config> config;     // set only when there are no errors
    std::vector<ConfigError> errors;  // in file order; at most kMaxErrors
    size_t error_count = 0;           // all of them, shown or not
};

// Limits the loader enforces on its input before parsing.
constexpr size_t kMaxConfigBytes = 256 << 10;  // 256 KiB: parsed in well under a second
constexpr size_t kMaxErrors = 50;              // more are counted, not shown

// Defaults and accepted ranges, shared by the loader, the printer and docs/CONFIG.md.
constexpr uint64_t kDefaultQueuePackets = 1000;
constexpr uint32_t kEthernetOverheadBytes = 24;  // preamble 7 + SFD 1 + FCS 4 + inter-frame gap 12
constexpr uint32_t kMaxOverheadBytes = 1024;
constexpr uint32_t kMaxBurst = 512;  // the largest burst a stage handles (pipeline.burst), and the link model's
constexpr uint32_t kMaxLcore = 1023;
constexpr size_t kMaxNameLength = 24;                             // port and link names end up in DPDK object names
constexpr uint64_t kMaxBandwidthBitsPerS = 1'000'000'000'000ULL;  // 1 Tbit/s
constexpr int64_t kMaxDelayNs = 60'000'000'000LL;                 // 60 s
// The link model keeps one 16-byte slot per packet the queue can hold.
constexpr uint64_t kMaxQueuePackets = 10'000'000ULL;
constexpr uint64_t kMaxQueueBytes = 1ULL << 30;  // 1 GiB
constexpr uint64_t kMinArenaPackets = 64;
constexpr uint64_t kMaxArenaPackets = 1ULL << 28;           // a link's arena: 2^28 records (80 bytes each for 64-byte frames)
constexpr int64_t kMaxSleepThresholdNs = 1'000'000'000;     // 1 s
constexpr int64_t kMaxIdleAfterNs = 3600'000'000'000;       // 1 h
constexpr int64_t kMaxIdleNapNs = 10'000'000;               // 10 ms: stop requests are seen within one nap
constexpr int64_t kMaxLatenessToleranceNs = 1'000'000'000;  // 1 s
constexpr size_t kMaxRules = 1024;
constexpr size_t kMaxChainHops = 8;
constexpr uint32_t kMaxFlows = 65536;
constexpr uint64_t kMaxReplaySpeedPpb = 1'000'000ULL * Replay::kSpeedOne;  // speed: up to 1000000
constexpr uint64_t kMaxReplayPps = 1'000'000'000ULL;                       // 1 Gpps
constexpr uint64_t kMaxReplayLoops = 1'000'000'000ULL;
constexpr int64_t kMaxReplayStartNs = 86'400'000'000'000LL;         // 1 day
constexpr int64_t kMaxTimelineAtNs = 365LL * 86'400'000'000'000LL;  // a step's at and repeat: 1 year
constexpr size_t kMaxTimelineSteps = 10'000;
constexpr uint64_t kMinReplayChunkBytes = 4096;  // chunk: 4KiB to 1GiB, a multiple of 64 bytes
constexpr uint64_t kMaxReplayChunkBytes = 1ULL << 30;
constexpr uint64_t kMaxReplayMemoryBytes = 1ULL << 40;  // memory: up to 1TiB

LoadResult load_config_file(const std::string &path);
LoadResult load_config_text(std::string_view text, const std::string &file_name);

// The effective configuration (defaults filled in) as YAML in human units.
// It loads back to the same configuration: to_yaml(load(to_yaml(c))) == to_yaml(c).
std::string to_yaml(const Config &config);
// A link's keys but its name, as to_yaml writes them (defaults filled in): {"from", "a"}, {"delay", "10ms"}, ...
// Each value is YAML text that the loader reads back (`linkemctl show` prints them).
std::vector<std::pair<std::string, std::string>> link_yaml_fields(const Link &link);
// The timeline as one line of YAML ("{from: start, steps: [...]}"), as to_yaml writes it; "" when there is none.
std::string timeline_yaml(const Timeline &timeline);

}  // namespace linkem
