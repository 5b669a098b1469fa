#include "emulator.hpp"
#include "eal_log.hpp"
#include "metrics_server.hpp"

#include "linkem/device_iface.hpp"
#include "linkem/config_change.hpp"
#include "linkem/lcore_plan.hpp"
#include "linkem/link_change.hpp"
#include "linkem/pipeline.hpp"
#include "linkem/prometheus.hpp"
#include "linkem/replay.hpp"
#include "linkem/timeline.hpp"
#include "ports.hpp"
#include "replay_stage.hpp"
#include "runtime_files.hpp"
#include "stages.hpp"
#include "status_target.hpp"
#include "telemetry_commands.hpp"

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace linkem {
namespace {

// The first SIGINT/SIGTERM/SIGHUP starts a clean stop; a second one ends the grace period at once.
// SIGUSR1 asks the control thread for the summary so far (printed there, not in the handler).
volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_stop_signals = 0;
volatile std::sig_atomic_t g_report_requests = 0;
extern "C" void on_stop_signal(int signal) {
    g_stop_signal = signal;
    g_stop_signals = g_stop_signals + 1;
}
extern "C" void on_report_signal(int) { g_report_requests = g_report_requests + 1; }
volatile std::sig_atomic_t g_reload_requests = 0;
extern "C" void on_reload_signal(int) { g_reload_requests = g_reload_requests + 1; }

constexpr uint64_t kLinkStatePollNs = 100'000'000;  // the control thread reads every port's link state this often

// A port's link state since the start: where it began and every change, with the time since the start.
struct LinkStateChange {
    uint64_t t_ns;
    bool up;
    uint32_t speed_mbps;
    std::string text;
};

// A port's driver counters (rte_eth_stats); errors are frames lost inside the port, which no link counts.
struct DriverCounters {
    std::string port;
    uint64_t ipackets = 0, opackets = 0, imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
    uint64_t errors() const { return imissed + ierrors + oerrors + rx_nombuf; }
};

std::string driver_text(const DriverCounters &d) {
    std::string out = fmt::format("port {} (driver): ipackets {}, opackets {}, imissed {}, ierrors {}, oerrors {}, rx_nombuf {}\n", d.port,
                                  d.ipackets, d.opackets, d.imissed, d.ierrors, d.oerrors, d.rx_nombuf);
    if (d.oerrors != 0)
        out += fmt::format("  {} frames the driver accepted were not delivered (oerrors): the links into port {} counted them as tx\n",
                           d.oerrors, d.port);
    if (d.imissed + d.ierrors + d.rx_nombuf != 0)
        out += fmt::format("  {} frames were dropped by the port before any link saw them (imissed {}, ierrors {}, rx_nombuf {})\n",
                           d.imissed + d.ierrors + d.rx_nombuf, d.imissed, d.ierrors, d.rx_nombuf);
    return out;
}

constexpr unsigned kPoolMbufs = 16383;                       // per port: its rings, lcore caches and bursts (about 36 MB)
constexpr uint64_t kMaxGraceBeyondDelayNs = 10'000'000'000;  // a slow link's full queue is not waited for longer than 10 s
constexpr unsigned kPoolCache = 256;
// EAL's and the drivers' own DPDK memory beside the pools, rings and arenas:
// measured 8 MiB with two net_null ports (88 MiB of hugepages taken in all),
// allowed four times that.
constexpr uint64_t kEalOwnBytes = 32ULL << 20;
// A handoff ring's slots (with a classify lcore): an eighth of a port's pool,
// so the rx queue keeps mbufs to receive into while the classify lcore catches up.
constexpr unsigned kHandoffRingSlots = 2048;

// DPDK needs root for hugepages, raw sockets (net_af_packet, net_pcap on an
// interface), /dev/net/tun (net_tap) and device binding: a failure without it says so.
std::string not_root_hint() {
    return geteuid() == 0 ? "" : "; linkem is not running as root: run as root (sudo), since DPDK's devices and memory need it";
}

int log_level_number(const std::string &name) {
    if (name == "error") return RTE_LOG_ERR;
    if (name == "warning") return RTE_LOG_WARNING;
    if (name == "info") return RTE_LOG_INFO;
    if (name == "debug") return RTE_LOG_DEBUG;
    return RTE_LOG_NOTICE;
}

// Memory for one arena: a memzone when EAL has hugepages and the memzone
// fits, else ordinary memory advised to use transparent hugepages, touched
// page by page and locked now, so the data path never faults a page in
// (docs/CONFIG.md "Memory").
struct ArenaMemory {
    static constexpr uint64_t kHugeBytes = 2ULL << 20;
    const rte_memzone *zone = nullptr;
    void *mapping = nullptr;
    uint64_t mapping_bytes = 0;
    void *bytes = nullptr;
    uint64_t size_bytes = 0;

    bool allocate(const std::string &name, uint64_t size) {
        size_bytes = size;
        if (rte_eal_has_hugepages() != 0) {
            zone = rte_memzone_reserve_aligned(name.c_str(), size, SOCKET_ID_ANY, 0, RTE_CACHE_LINE_SIZE);
            if (zone != nullptr) {
                bytes = zone->addr;
                return true;
            }
        }
        // Aligned to 2 MiB, so that transparent hugepages can back all of it.
        mapping_bytes = (size + kHugeBytes - 1) / kHugeBytes * kHugeBytes + kHugeBytes;
        mapping = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mapping == MAP_FAILED) {
            mapping = nullptr;
            return false;
        }
        const uintptr_t start = (reinterpret_cast<uintptr_t>(mapping) + kHugeBytes - 1) / kHugeBytes * kHugeBytes;
        bytes = reinterpret_cast<void *>(start);
        madvise(bytes, size, MADV_HUGEPAGE);  // best effort: THP may be off
        volatile uint8_t *page = static_cast<uint8_t *>(bytes);
        for (uint64_t at = 0; at < size; at += 4096) page[at] = 0;
        mlock(bytes, size);  // best effort: no swapping, no reclaim of these pages
        return true;
    }
    bool in_hugepages() const { return zone != nullptr; }
    void release() {
        if (zone != nullptr) rte_memzone_free(zone);
        if (mapping != nullptr) munmap(mapping, mapping_bytes);
        zone = nullptr;
        mapping = nullptr;
    }
};

// The TSC's frequency measured against CLOCK_MONOTONIC over 100 ms. DPDK
// takes it from CPUID on x86, the nominal figure: on this project's virtual
// machine 2.1 GHz for a TSC that runs at 2.096 GHz, so every time linkem kept
// ran 1900 ppm slow (a replay drifted 1.9 ms per second; docs/DECISIONS.md).
// Each end is the clock reading bracketed most tightly by two TSC reads (of
// five), so a preemption there cannot skew it. Off by more than 5%, or
// without a clock: the nominal figure.
uint64_t measured_tsc_hz(uint64_t nominal_hz) {
    const auto sample = [](uint64_t *tsc, uint64_t *ns) {
        uint64_t best = UINT64_MAX;
        for (int i = 0; i < 5; ++i) {
            timespec t{};
            const uint64_t before = rte_rdtsc();
            if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) return false;
            const uint64_t after = rte_rdtsc();
            if (after - before < best) {
                best = after - before;
                *tsc = before + (after - before) / 2;
                *ns = static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
            }
        }
        return true;
    };
    uint64_t tsc0 = 0, ns0 = 0, tsc1 = 0, ns1 = 0;
    if (!sample(&tsc0, &ns0)) return nominal_hz;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!sample(&tsc1, &ns1) || ns1 <= ns0) return nominal_hz;
    __extension__ using u128 = unsigned __int128;
    const uint64_t hz = static_cast<uint64_t>(static_cast<u128>(tsc1 - tsc0) * 1'000'000'000u / (ns1 - ns0));
    return hz > nominal_hz / 20 * 19 && hz < nominal_hz / 20 * 21 ? hz : nominal_hz;
}

std::string seconds_text(uint64_t ns) { return Duration{static_cast<int64_t>(ns)}.to_string(); }

constexpr uint64_t kChangeTimeoutNs = 1'000'000'000;  // a change request waits this long for the lcores
constexpr uint64_t kTimelineLeadNs = 50'000'000;      // a timeline step is posted this long before its instant

int64_t unix_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Emulator final : public ControlTarget {
  public:
    Emulator(Config &config, std::vector<LinkPlan> &plans, const CommandLine &cl, uint64_t seed,
             const std::vector<std::optional<ReplayPlan>> &replay_plans)
        : config_(config), plans_(plans), cl_(cl), seed_(seed), replay_plans_(replay_plans), timeline_(config.timeline) {}
    ~Emulator() override { clean_up(); }

    int run(const EalPlan &eal);

    // ControlTarget (app/control.hpp): from telemetry threads and the control thread, serialised by control_mutex_.
    ControlReply set_link(const std::string &link, const std::vector<std::string> &assignments) override;
    ControlReply apply_file(const std::string &path) override;
    ControlReply show(const std::string &link) override;

  private:
    ControlReply change(ChangeCandidate candidate, const std::string &file_name);
    std::pair<std::string, Json> record_change(const std::vector<LinkEdit> &done, uint64_t number, uint64_t at_ns, int64_t at_unix_ns,
                                               const std::string &source);
    void timeline_tick(uint64_t now_ns);
    // [control thread] A step is posted, or the next one is due within the lead (or the origin is not known yet).
    bool timeline_near(uint64_t now_ns) const {
        if (timeline_.empty()) return false;
        if (timeline_change_ || !timeline_.started()) return true;
        const uint64_t at = timeline_.next_ns();
        return at != TimelineCursor::kNone && now_ns + 2 * kTimelineLeadNs >= at;
    }
    void timeline_stop();
    void set_accepting(bool accepting);
    bool start(const EalPlan &eal);
    void control_loop(uint64_t grace_ns);
    int finish();
    void report_interval(uint64_t now_ns);
    std::function<const LinkSnapshot &(const std::string &)> previous_by_name() const;
    void write_jsonl(const std::vector<LinkSnapshot> &current, uint64_t now_ns, const std::string &time, bool final);
    void watch_link_state(uint64_t now_ns);
    std::vector<DriverCounters> driver_counters() const;
    void print_summary_so_far(uint64_t now_ns);
    std::vector<LinkSnapshot> snapshots(bool with_histograms) const;
    uint64_t drain_receive_queues();
    void clean_up();

    Config &config_;                // the configuration in force: runtime changes update its links
    std::vector<LinkPlan> &plans_;  // and their plans (the model instances)
    const CommandLine &cl_;
    const uint64_t seed_;
    const std::vector<std::optional<ReplayPlan>> replay_plans_;  // by configured port: loaded or streamed

    // Runtime changes (docs/ARCHITECTURE.md "Runtime changes").
    std::mutex control_mutex_;   // one request at a time; guards what follows
    bool accepting_ = false;     // lcores running, not stopping
    const PluginHost host_;      // makes the new model instances
    uint64_t changes_made_ = 0;  // numbers the changes (their instances' random streams)
    static constexpr size_t kMaxListedChanges = 10'000;
    Json changes_ = Json::array();     // each accepted change, for the run's JSON (the first kMaxListedChanges)
    uint64_t changes_not_listed_ = 0;  // accepted after those
    // The timeline (docs/ARCHITECTURE.md "Runtime changes"): its next step, posted ahead of its instant.
    TimelineCursor timeline_;
    std::optional<PreparedChange> timeline_change_;  // posted, not yet committed
    uint64_t timeline_number_ = 0;                   // its change number
    bool timeline_stopping_ = false;                 // the run ends: nothing more is posted
    uint64_t timeline_late_ns_ = 0;                  // how late it was posted: it takes effect that much after its instant

    bool eal_ready_ = false;
    bool pdump_ready_ = false;
    std::vector<rte_mempool *> pools_;  // one per port, for what it receives
    std::vector<OpenPort> ports_;
    std::vector<std::vector<std::string>> port_interfaces_;   // the kernel interfaces of each port's device
    std::vector<std::vector<LinkStateChange>> link_history_;  // per port: the state at the start and every change
    std::vector<std::string> eal_args_;                       // as EAL got them, for the runtime files at the end
    std::vector<ArenaMemory> arena_memory_;
    bool build_pipeline();
    // Replay sources (app/replay_stage.hpp), by configured port: the trace as read, its stage's state.
    bool read_replay_traces();
    bool make_replay_ports();
    bool replays_done() const;
    std::string replay_reader_failure() const;
    void print_replay_status(const std::string &prefix, double seconds);
    std::vector<std::optional<ReplayTraceData>> replay_data_;
    std::vector<std::unique_ptr<ReplayPort>> replays_;
    std::vector<void *> replay_hugepages_;         // rte_malloc'd copies of traces
    std::vector<ArenaMemory> replay_rings_;        // streamed traces' chunk rings (memzones or locked memory)
    std::vector<uint64_t> replay_packets_before_;  // by configured port: packets replayed at the last status line
    bool replay_failed_ = false;                   // a streamed trace could not be read again: the run exits 1
    std::vector<int> ethdev_index_;                // by configured port: its index in ports_ (-1: a replay source, no ethdev)

    std::unique_ptr<PipelineRuntime> pipeline_;
    std::vector<RxPort> rx_ports_;  // by pipeline ingress
    std::vector<TxPort> tx_ports_;  // by pipeline egress
    std::vector<LcoreTask> tasks_;
    std::vector<unsigned> lcore_ids_;
    std::unique_ptr<TscClock> clock_;
    PipelineControl control_;
    uint64_t started_ns_ = 0;
    // The last interval's end (status lines, --stats-jsonl): its snapshot and time.
    std::vector<LinkSnapshot> previous_;
    uint64_t previous_ns_ = 0;
    std::unique_ptr<MetricsServer> metrics_;  // stats.prometheus: bound in start(), serving from run() until clean_up()
    std::unique_ptr<StatusTarget> status_;    // show's document (the configuration in force, live counters), from run() until clean_up()
    std::ofstream jsonl_;                     // --stats-jsonl; closed after a failed write
    bool jsonl_failed_ = false;               // a write failed: the run exits 1
};

bool Emulator::start(const EalPlan &eal) {
    // What could refuse the run without DPDK goes first: the metrics address, the JSON lines file.
    if (const auto &address = config_.stats.prometheus) {
        metrics_ = std::make_unique<MetricsServer>();
        std::string error;
        if (!metrics_->bind(*address, &error)) {
            fmt::print(stderr, "linkem: stats.prometheus: cannot listen on {}: {} (is another program, or another linkem, using it?)\n",
                       address->to_string(), error);
            return false;
        }
    }
    if (!cl_.stats_jsonl_path.empty()) {
        jsonl_.open(cl_.stats_jsonl_path, std::ios::out | std::ios::trunc);
        if (!jsonl_) {
            fmt::print(stderr, "linkem: --stats-jsonl: cannot write {}: {}\n", cl_.stats_jsonl_path, std::strerror(errno));
            return false;
        }
    }
    std::vector<std::string> args = eal.args;
    if (std::none_of(args.begin(), args.end(), [](const std::string &a) { return a.rfind("--log-level", 0) == 0; }))
        args.push_back(fmt::format("--log-level={}", log_level_number(cl_.log_level)));
    for (const std::string &removed : remove_stale_runtime_files(args))
        fmt::print("linkem: removed {}, left by a run that was killed\n", removed);
    eal_args_ = args;
    remove_empty_runtime_dir_at_exit(args);  // registered before EAL's own handler, so it runs after it
    // The expected start-up lines only at --log-level info and debug (eal_log.hpp).
    install_eal_log(cl_.log_level != "info" && cl_.log_level != "debug");
    bool refused_arguments = false;
    if (init_eal(args, &refused_arguments) < 0) {
        const int why = rte_errno;
        fmt::print(stderr, "linkem: EAL initialisation failed: {}{} (arguments: {}){}\n", rte_strerror(why),
                   refused_arguments ? ": it refused an argument (its message is above; `dpdk-testpmd --help` lists EAL's options)" : "",
                   fmt::join(eal.args, " "), not_root_hint());
        return false;
    }
    eal_ready_ = true;
    clock_ = std::make_unique<TscClock>(measured_tsc_hz(rte_get_tsc_hz()), rte_rdtsc());
    // Telemetry answers from now on: status 1, "starting", until run() hands over the target.
    TelemetryInstance instance{config_.name, cl_.config_path, seed_, {}};
    for (const Link &l : config_.links) instance.links.push_back(l.name);
    if (const std::string problem = register_telemetry_commands(instance); !problem.empty())
        fmt::print(stderr, "linkem: warning: {}: linkemctl will not reach this instance\n", problem);

    lcore_ids_.push_back(rte_get_main_lcore());
    unsigned id;
    RTE_LCORE_FOREACH_WORKER(id) lcore_ids_.push_back(id);

    // A pool per port: its rx queue's mbufs, and those the tx stage builds for
    // it. Packets in flight live in the arenas, so the pools stay small.
    for (size_t k = 0; k < config_.ports.size(); ++k) {
        if (config_.ports[k].replay) {  // no device: nothing to receive into or send from
            pools_.push_back(nullptr);
            continue;
        }
        rte_mempool *pool = rte_pktmbuf_pool_create(fmt::format("lkm_pool_{}", k).c_str(), kPoolMbufs, kPoolCache, 0,
                                                    RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
        if (pool == nullptr) {
            fmt::print(stderr, "linkem: port {}: cannot create a pool of {} mbufs: {}\n", config_.ports[k].name, kPoolMbufs,
                       rte_strerror(rte_errno));
            return false;
        }
        pools_.push_back(pool);
    }

    for (size_t k = 0; k < config_.ports.size(); ++k) {
        const Port &p = config_.ports[k];
        ethdev_index_.push_back(p.replay ? -1 : static_cast<int>(ports_.size()));
        if (p.replay) continue;
        OpenPort port{p.name, p.device};
        std::string error;
        if (!open_port(port, pools_[k], PortSettings{}, &error)) {
            fmt::print(stderr, "linkem: {}{}\n", error, not_root_hint());
            return false;
        }
        port_interfaces_.push_back(kernel_interfaces(p.device));
        const PortLinkState state = port_link_state(port.port_id, port_interfaces_.back());
        fmt::print("linkem: port {} ({}): ethdev {}, mtu {}, link {}\n", port.name, port.device, port.port_id, port.mtu, state.text);
        link_history_.push_back({LinkStateChange{0, state.up, state.speed_mbps, state.text}});
        ports_.push_back(port);
    }
    if (!build_pipeline()) return false;

    if (config_.capture) {
        if (rte_pdump_init() != 0) {
            fmt::print(stderr, "linkem: capture: cannot start DPDK's packet capture service: {}\n", rte_strerror(rte_errno));
            return false;
        }
        pdump_ready_ = true;
        const std::string runtime_dir = rte_eal_get_runtime_dir();  // /var/run/dpdk/PREFIX
        const std::string prefix = runtime_dir.substr(runtime_dir.rfind('/') + 1);
        for (const OpenPort &p : ports_) {
            char ethdev[RTE_ETH_NAME_MAX_LEN] = "?";
            rte_eth_dev_get_name_by_port(p.port_id, ethdev);
            fmt::print("linkem: capture: port {} is interface {}: dpdk-dumpcap --file-prefix={} -i {} -w {}.pcapng\n", p.name, ethdev,
                       prefix, ethdev, p.name);
        }
    }

    size_t classify_index = kNoClassifyLcore;
    if (config_.pipeline.classify_lcore) {
        const unsigned wanted = *config_.pipeline.classify_lcore;
        const auto at = std::find(lcore_ids_.begin(), lcore_ids_.end(), wanted);
        if (at == lcore_ids_.end() || lcore_ids_.size() < 2) {
            fmt::print(stderr, "linkem: pipeline.classify_lcore {} needs to be one of at least two EAL lcores; EAL has {}\n", wanted,
                       fmt::join(lcore_ids_, ","));
            return false;
        }
        classify_index = static_cast<size_t>(at - lcore_ids_.begin());
        for (RxPort &in : rx_ports_) {
            in.handoff = rte_ring_create_elem(fmt::format("lkm_handoff_{}", in.port_id).c_str(), sizeof(HandoffEntry), kHandoffRingSlots,
                                              static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (in.handoff == nullptr) {
                fmt::print(stderr, "linkem: port {}: cannot create its handoff ring: {}\n", in.ingress->port_name, rte_strerror(rte_errno));
                return false;
            }
        }
    }
    const std::vector<LcoreRole> roles = plan_lcores(lcore_ids_.size(), rx_ports_.size(), tx_ports_.size(), classify_index);
    tasks_.resize(roles.size());
    for (size_t k = 0; k < roles.size(); ++k) {
        LcoreTask &t = tasks_[k];
        std::vector<std::string> work;
        for (size_t i : roles[k].rx_stages) {
            t.rx_ports.push_back(&rx_ports_[i]);
            work.push_back("rx " + rx_ports_[i].ingress->port_name);
        }
        for (size_t i : roles[k].receive_stages) {
            t.receive_ports.push_back(&rx_ports_[i]);
            work.push_back("receive " + rx_ports_[i].ingress->port_name);
        }
        for (size_t i : roles[k].classify_stages) {
            t.classify_ports.push_back(&rx_ports_[i]);
            work.push_back("classify " + rx_ports_[i].ingress->port_name);
        }
        for (size_t j : roles[k].tx_stages) {
            t.tx_ports.push_back(&tx_ports_[j]);
            work.push_back("tx " + config_.ports[tx_ports_[j].egress->port].name);
        }
        t.clock = clock_.get();
        t.burst = config_.pipeline.burst;
        t.sleep_threshold_ns = static_cast<uint64_t>(config_.pipeline.sleep_threshold.ns);
        t.idle_after_ns = static_cast<uint64_t>(config_.pipeline.idle_after.ns);
        t.idle_nap_ns = static_cast<uint64_t>(config_.pipeline.idle_nap.ns);
        t.control = &control_;
        if (std::all_of(rx_ports_.begin(), rx_ports_.end(), [](const RxPort &in) { return in.replay != nullptr; }))
            for (const RxPort &in : rx_ports_) t.replay_sources.push_back(in.replay);
        fmt::print("linkem: lcore {}: {}\n", lcore_ids_[k], work.empty() ? "idle" : fmt::format("{}", fmt::join(work, ", ")));
    }
    return true;
}

// The pipeline (core/include/linkem/pipeline.hpp) with its arenas in
// memzones or locked memory, and the ethdev side of each of its ports.
bool Emulator::build_pipeline() {
    const ArenaAllocator reserve = [&](const std::string &what, uint64_t bytes) -> void * {
        ArenaMemory memory;
        const auto began = std::chrono::steady_clock::now();
        if (!memory.allocate(fmt::format("lkm_arena_{}", arena_memory_.size()), bytes)) {
            fmt::print(stderr, "linkem: {}: cannot allocate {} of delay arena\n", what, ByteSize{bytes}.to_string());
            return nullptr;
        }
        if (!memory.in_hugepages())
            fmt::print("linkem: {}: arena of {} in ordinary memory (transparent hugepages advised), touched in {:.2f} s\n", what,
                       bytes_text(bytes), std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        arena_memory_.push_back(memory);
        return memory.bytes;
    };
    std::vector<std::string> notes;
    pipeline_ = PipelineRuntime::build(config_, plans_, seed_, reserve, &notes);
    if (pipeline_ == nullptr) return false;
    for (const std::string &line : notes) fmt::print("linkem: {}\n", line);
    if (!make_replay_ports()) return false;
    for (auto &in : pipeline_->ingress()) {
        const int ethdev = ethdev_index_[in->port];
        ReplayPort *replay = replays_[in->port].get();
        rx_ports_.push_back({in.get(), ethdev < 0 ? uint16_t{0} : ports_[static_cast<size_t>(ethdev)].port_id, nullptr, replay});
        if (replay != nullptr && replay->topspeed && in->direct != nullptr && in->direct->flows == nullptr)
            replay->room_lane = in->direct->hops.back()->lane;
    }
    for (auto &out : pipeline_->egress())
        tx_ports_.push_back({out.get(), ports_[static_cast<size_t>(ethdev_index_[out->port])].port_id, pools_[out->port]});
    return true;
}

// Before EAL: every replay source's trace, read and checked (a malformed one
// refuses the run, naming the byte offset), in ordinary memory.
bool Emulator::read_replay_traces() {
    replay_data_.resize(config_.ports.size());
    bool ok = true;
    for (size_t k = 0; k < config_.ports.size(); ++k) {
        const Port &p = config_.ports[k];
        if (!p.replay || replay_plans_[k]->streamed) continue;  // a streamed trace is read by its reader after EAL
        std::string error;
        replay_data_[k] = read_replay_trace(*p.replay, &error);
        if (!replay_data_[k]) {
            fmt::print(stderr, "{}\n", ConfigError{config_.file, p.replay->pos, fmt::format("ports.{}.replay", p.name), error}.to_string());
            ok = false;
        }
    }
    if (!ok) fmt::print(stderr, "linkem: a replay trace cannot be used; nothing was started\n");
    return ok;
}

// After EAL: each loaded trace in hugepages (one rte_malloc block) when they
// hold it, else where it was read (ordinary memory, locked); each streamed
// trace's ring of chunks (a memzone, else locked memory), its reader started
// and its read-ahead filled; and its replay stage's state.
bool Emulator::make_replay_ports() {
    replays_.resize(config_.ports.size());
    for (size_t k = 0; k < config_.ports.size(); ++k) {
        const Port &p = config_.ports[k];
        if (!p.replay) continue;
        const uint64_t tolerance_ns = static_cast<uint64_t>(config_.stats.lateness_tolerance.ns);
        const std::string loops =
            p.replay->loops ? fmt::format("{} loop{}", *p.replay->loops, *p.replay->loops == 1 ? "" : "s") : "looping forever";
        const ReplayPlan &plan = *replay_plans_[k];
        if (plan.streamed) {
            ArenaMemory memory;
            const auto began = std::chrono::steady_clock::now();
            if (!memory.allocate(fmt::format("lkm_replay_ring_{}", k), plan.memory_bytes)) {
                fmt::print(stderr, "linkem: port {}: cannot allocate the replay's ring of {}\n", p.name, bytes_text(plan.memory_bytes));
                return false;
            }
            replay_rings_.push_back(memory);
            const ReplayTrace trace{nullptr, static_cast<const uint8_t *>(memory.bytes), plan.shape.count, plan.shape.span_ns,
                                    plan.shape.total_bytes};
            auto ring = std::make_unique<ChunkRing>(static_cast<uint8_t *>(memory.bytes), plan.chunk_bytes, plan.chunks);
            replays_[k] = std::make_unique<ReplayPort>(*p.replay, trace, tolerance_ns, std::move(ring));
            ReplayPort &r = *replays_[k];
            r.memory = memory.in_hugepages() ? "hugepages" : "ordinary memory";
            r.max_len_bytes = plan.shape.max_len_bytes;
            r.reader = std::make_unique<ReplayReader>(*p.replay, plan.shape, *r.ring);
            r.reader->start();
            r.reader->wait_read_ahead();  // the ring full before the start
            fmt::print(
                "linkem: port {}: replay {} ({}, {} packets, {}, over {}), {}, {}, streamed through {} chunks of {} in {} "
                "(read ahead in {:.2f} s)\n",
                p.name, p.replay->path, plan.shape.format, plan.shape.count, bytes_text(plan.shape.loaded_bytes()),
                human_duration(static_cast<double>(plan.shape.span_ns)), replay_pace_text(*p.replay), loops, plan.chunks,
                bytes_text(plan.chunk_bytes), r.memory, std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
            continue;
        }
        ReplayTraceData &d = *replay_data_[k];
        ReplayTrace trace = ReplayTrace::of(d);
        const uint64_t index_bytes = d.entries.size() * sizeof(ReplayEntry);
        void *block = rte_eal_has_hugepages() != 0
                          ? rte_malloc(fmt::format("lkm_replay_{}", k).c_str(), index_bytes + d.bytes.size(), RTE_CACHE_LINE_SIZE)
                          : nullptr;
        std::string memory = "hugepages";
        uint32_t max_len_bytes = 0;
        for (const ReplayEntry &e : d.entries) max_len_bytes = std::max(max_len_bytes, e.len_bytes);
        if (block != nullptr) {
            replay_hugepages_.push_back(block);
            std::memcpy(block, d.entries.data(), index_bytes);
            std::memcpy(static_cast<uint8_t *>(block) + index_bytes, d.bytes.data(), d.bytes.size());
            trace.entries = static_cast<const ReplayEntry *>(block);
            trace.bytes = static_cast<const uint8_t *>(block) + index_bytes;
            d.entries = {};  // the copy is the trace now: the ordinary memory goes back
            d.bytes = {};
        } else {
            memory = "ordinary memory";
            mlock(d.entries.data(), index_bytes);  // best effort, as for arenas
            mlock(d.bytes.data(), d.bytes.size());
        }
        replays_[k] = std::make_unique<ReplayPort>(*p.replay, trace, tolerance_ns);
        replays_[k]->memory = memory;
        replays_[k]->max_len_bytes = max_len_bytes;
        fmt::print("linkem: port {}: replay {} ({}, {} packets, {}, over {}), {}, {}, in {}\n", p.name, p.replay->path, d.format,
                   trace.count, bytes_text(index_bytes + trace.total_bytes), human_duration(static_cast<double>(trace.span_ns)),
                   replay_pace_text(*p.replay), loops, memory);
    }
    return true;
}

// A streamed trace whose reader failed, once the stage has taken what it read: why; else empty.
std::string Emulator::replay_reader_failure() const {
    for (const auto &r : replays_)
        if (r != nullptr && r->reader && r->reader->failed() && r->ring->released() >= r->ring->published()) return r->reader->error();
    return "";
}

// A line per replay source: packets so far, their rate since the last line, loops, lateness p99, starvations.
void Emulator::print_replay_status(const std::string &prefix, double seconds) {
    replay_packets_before_.resize(replays_.size());
    for (size_t k = 0; k < replays_.size(); ++k) {
        if (replays_[k] == nullptr) continue;
        const ReplayPort &r = *replays_[k];
        fmt::print("{}{}\n", prefix,
                   replay_status_line(config_.ports[k].name, *config_.ports[k].replay, r.stats, replay_packets_before_[k], seconds,
                                      r.ring != nullptr));
        replay_packets_before_[k] = r.stats.packets_so_far.load(std::memory_order_relaxed);
    }
}

// Every replay source has sent all of its loops (false when there is none).
bool Emulator::replays_done() const {
    bool any = false;
    for (const auto &r : replays_) {
        if (r == nullptr) continue;
        if (!r->stats.done.load(std::memory_order_acquire)) return false;
        any = true;
    }
    return any;
}

// After the lcores stop, frees what still waits in the ports' receive queues
// (for example what a link sent into a port that loops back, like net_ring),
// as long as some mbufs are missing from the pools and the queues give any.
uint64_t Emulator::drain_receive_queues() {
    const auto pools_complete = [&] {
        for (rte_mempool *pool : pools_)
            if (pool != nullptr && rte_mempool_avail_count(pool) != pool->size) return false;
        return true;
    };
    uint64_t freed = 0;
    rte_mbuf *mbufs[64];
    for (int round = 0; round < 4096 && !pools_complete(); ++round) {
        uint64_t got = 0;
        for (const OpenPort &p : ports_) {
            const uint16_t n = rte_eth_rx_burst(p.port_id, 0, mbufs, 64);
            rte_pktmbuf_free_bulk(mbufs, n);
            got += n;
        }
        if (got == 0) break;
        freed += got;
    }
    return freed;
}

std::vector<LinkSnapshot> Emulator::snapshots(bool with_histograms) const {
    return pipeline_->link_snapshots(clock_->to_ns(rte_rdtsc()) - started_ns_, with_histograms);  // the offered load's time: the run so far
}

// The last interval's snapshot of a link by name; zero figures for a link that was not
// in it (a per-flow instance that started carrying a flow since).
std::function<const LinkSnapshot &(const std::string &)> Emulator::previous_by_name() const {
    static const LinkSnapshot kNone;
    std::unordered_map<std::string, const LinkSnapshot *> by_name;
    for (const LinkSnapshot &p : previous_) by_name.emplace(p.name, &p);
    return [by_name = std::move(by_name)](const std::string &name) -> const LinkSnapshot & {
        const auto it = by_name.find(name);
        return it == by_name.end() ? kNone : *it->second;
    };
}

// Every --stats-interval: a status line per link, prefixed with the UTC time,
// and with --stats-jsonl a JSON line (the histograms then copied as a torn view).
void Emulator::report_interval(uint64_t now_ns) {
    std::vector<LinkSnapshot> current = snapshots(jsonl_.is_open());
    const double seconds = static_cast<double>(now_ns - previous_ns_) / 1e9;
    const std::string time = utc_timestamp_text(unix_now_ns());
    const auto before = previous_by_name();
    for (const LinkSnapshot &s : current) fmt::print("{} {}\n", time, status_line(s, before(s.name), seconds));
    print_replay_status(time + " ", seconds);
    std::fflush(stdout);
    if (jsonl_.is_open()) write_jsonl(current, now_ns, time, false);
    previous_ = std::move(current);
    previous_ns_ = now_ns;
}

// One line of --stats-jsonl: {"time", "t_ns", "interval_ns", "final", "links": [link_json + "interval": rates], "classify"}.
void Emulator::write_jsonl(const std::vector<LinkSnapshot> &current, uint64_t now_ns, const std::string &time, bool final) {
    const double seconds = static_cast<double>(now_ns - previous_ns_) / 1e9;
    const auto per_s = [&](uint64_t a, uint64_t b) { return seconds > 0 && a >= b ? static_cast<double>(a - b) / seconds : 0.0; };
    Json links = Json::array();
    const auto previous = previous_by_name();
    for (const LinkSnapshot &s : current) {
        const LinkSnapshot &before = previous(s.name);
        Json o = link_json(s);
        o["interval"] = {{"rx_pps", per_s(s.rx_packets, before.rx_packets)},
                         {"rx_bps", 8 * per_s(s.rx_bytes, before.rx_bytes)},
                         {"tx_pps", per_s(s.tx_packets, before.tx_packets)},
                         {"tx_bps", 8 * per_s(s.tx_bytes, before.tx_bytes)},
                         {"dropped", s.dropped() >= before.dropped() ? s.dropped() - before.dropped() : 0}};
        links.push_back(std::move(o));
    }
    const Json line = {{"time", time},   {"t_ns", now_ns - started_ns_}, {"interval_ns", now_ns - previous_ns_},
                       {"final", final}, {"links", std::move(links)},    {"classify", classify_json(pipeline_->classify_snapshots())}};
    jsonl_ << line.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;  // a line at a time, for tail -f
    if (!jsonl_) {
        fmt::print(stderr, "linkem: --stats-jsonl: cannot write {}: {}\n", cl_.stats_jsonl_path, std::strerror(errno));
        jsonl_.close();
        jsonl_failed_ = true;
    }
}

void Emulator::watch_link_state(uint64_t now_ns) {
    for (size_t i = 0; i < ports_.size(); ++i) {
        const PortLinkState state = port_link_state(ports_[i].port_id, port_interfaces_[i]);
        const LinkStateChange &last = link_history_[i].back();
        if (state.up == last.up && state.speed_mbps == last.speed_mbps && state.text == last.text) continue;
        const uint64_t t_ns = now_ns - started_ns_;
        fmt::print("linkem: port {}: link {} at {} (was {})\n", ports_[i].name, state.text, seconds_text(t_ns), last.text);
        std::fflush(stdout);
        link_history_[i].push_back({t_ns, state.up, state.speed_mbps, state.text});
    }
}

std::vector<DriverCounters> Emulator::driver_counters() const {
    std::vector<DriverCounters> out;
    for (const OpenPort &p : ports_) {
        rte_eth_stats s{};
        rte_eth_stats_get(p.port_id, &s);
        out.push_back({p.name, s.ipackets, s.opackets, s.imissed, s.ierrors, s.oerrors, s.rx_nombuf});
    }
    return out;
}

// SIGUSR1: the summary so far, read while the lcores run (the counters move
// as they are read, so a link may show packets in neither tx nor in flight).
void Emulator::print_summary_so_far(uint64_t now_ns) {
    fmt::print("\nlinkem: summary so far (SIGUSR1), after {}; the run goes on\n{}", seconds_text(now_ns - started_ns_),
               summary_text(snapshots(true)));
    for (size_t k = 0; k < replays_.size();
         ++k)  // the figures written as the stage runs (relaxed), lateness as a torn view; the rate since the start
        if (replays_[k] != nullptr)
            fmt::print("{}\n", replay_status_line(config_.ports[k].name, *config_.ports[k].replay, replays_[k]->stats, 0,
                                                  static_cast<double>(now_ns - started_ns_) / 1e9, replays_[k]->ring != nullptr));
    for (const DriverCounters &d : driver_counters()) fmt::print("{}", driver_text(d));
    fmt::print("linkem: end of the summary so far\n\n");
    std::fflush(stdout);
}

// The control thread: status lines, link state, and the stop sequence.
void Emulator::control_loop(uint64_t grace_ns) {
    const uint64_t interval_ns = static_cast<uint64_t>(cl_.stats_interval.ns);
    uint64_t last_state_check_ns = 0;
    std::sig_atomic_t reports_done = 0, reloads_done = g_reload_requests;
    set_accepting(true);
    for (;;) {
        // 10 ms; 1 ms while a timeline step is posted or due within its lead, so the next is posted soon after.
        std::this_thread::sleep_for(std::chrono::milliseconds(timeline_near(clock_->to_ns(rte_rdtsc())) ? 1 : 10));
        const uint64_t now = clock_->to_ns(rte_rdtsc());
        if (g_stop_signal != 0) {
            fmt::print("linkem: signal {} ({}): stopping (a second one stops without waiting for packets in flight)\n",
                       static_cast<int>(g_stop_signal), strsignal(g_stop_signal));
            std::fflush(stdout);
            break;
        }
        if (cl_.duration && now - started_ns_ >= static_cast<uint64_t>(cl_.duration->ns)) break;
        if (const std::string failed = replay_reader_failure(); !failed.empty()) {
            fmt::print(stderr, "linkem: {}\n", failed);
            replay_failed_ = true;
            break;
        }
        if (replays_done()) {
            fmt::print("linkem: every replay has sent its last packet at {}: stopping once what is in flight has left\n",
                       seconds_text(now - started_ns_));
            std::fflush(stdout);
            break;
        }
        if (!timeline_.empty()) timeline_tick(now);
        if (interval_ns != 0 && now - previous_ns_ >= interval_ns) report_interval(now);
        if (now - last_state_check_ns >= kLinkStatePollNs) {
            watch_link_state(now);
            last_state_check_ns = now;
        }
        if (const std::sig_atomic_t asked = g_reload_requests; asked != reloads_done) {
            reloads_done = asked;
            const ControlReply reply = apply_file(config_.file);
            if (reply.status != 0)
                fmt::print(stderr, "linkem: SIGHUP: {} not applied, nothing changed:\n{}\n", config_.file, reply.message);
            else if (reply.body.is_null())
                fmt::print("linkem: SIGHUP: {}\n", reply.message);
            std::fflush(stdout);
        }
        if (const std::sig_atomic_t asked = g_report_requests; asked != reports_done) {
            reports_done = asked;
            print_summary_so_far(now);
        }
    }
    timeline_stop();
    set_accepting(false);
    // Stop receiving; release what is held at its due time, for up to the grace period.
    control_.stop_rx.store(true, std::memory_order_release);
    const uint64_t deadline = clock_->to_ns(rte_rdtsc()) + grace_ns;
    while (control_.running.load(std::memory_order_acquire) > 0 && clock_->to_ns(rte_rdtsc()) < deadline && g_stop_signals < 2)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    control_.stop_tx.store(true, std::memory_order_release);
}

int Emulator::run(const EalPlan &eal) {
    std::signal(SIGINT, on_stop_signal);  // before start-up: a signal during it stops the run at once
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGHUP, on_reload_signal);  // reload: apply linkem's own file again (apply_file)
    std::signal(SIGUSR1, on_report_signal);
    if (!read_replay_traces()) return 2;
    if (!start(eal)) return 1;

    // Grace: the longest any packet can stay (delay + a full queue's drain),
    // but never more than 10 s beyond the delay; and 10 ms for the last wake-ups.
    const uint64_t grace_ns = pipeline_->longest_stay_ns(kMaxGraceBeyondDelayNs) + 10'000'000;
    int receiving = 0, feeding = 0;
    for (const LcoreTask &t : tasks_) {
        receiving += t.rx_ports.empty() && t.receive_ports.empty() && t.classify_ports.empty() ? 0 : 1;
        feeding += t.receive_ports.empty() ? 0 : 1;
    }
    control_.receiving.store(receiving);
    control_.feeding.store(feeding);
    control_.running.store(static_cast<int>(tasks_.size()));

    // linkemctl's commands (DPDK's telemetry threads) reach this emulator once the lcores run (set_accepting);
    // show reads what the status lines read.
    status_ = std::make_unique<StatusTarget>(config_, [this] { return snapshots(true); });
    fmt::print("linkem: instance \"{}\": linkemctl --name {} show\n", config_.name, config_.name);
    fmt::print("linkem: running{} (seed {}); Ctrl-C stops\n", cl_.duration ? " for " + cl_.duration->to_string() : "", seed_);
    // Each lcore warms up first (lcore_warm_up: its stack prefaulted, its
    // mempool cache filled), so that its first packets are not late by what
    // it touches for the first time; a replay's schedule starts after it. An
    // lcore that cannot be launched here is reported at the launch below.
    for (size_t k = 1; k < tasks_.size(); ++k) (void)rte_eal_remote_launch(lcore_warm_up, &tasks_[k], lcore_ids_[k]);
    lcore_warm_up(&tasks_[0]);
    rte_eal_mp_wait_lcore();
    // The run starts here, as late as can be before the lcores: a replay's first
    // packet is due at once with start: 0s, and what came before takes time.
    started_ns_ = clock_->to_ns(rte_rdtsc());
    if (!timeline_.empty() && !timeline_.from_first_packet()) timeline_.start(started_ns_);
    for (auto &r : replays_)
        if (r != nullptr) {
            r->cursor.begin(started_ns_);  // the schedule counts from linkem's start
            r->next_ns.store(r->cursor.next_ns(), std::memory_order_relaxed);
        }
    previous_ = snapshots(false);
    previous_ns_ = started_ns_;
    if (metrics_) {
        // The server's thread reads as the status lines do: relaxed counters, histograms as a torn view.
        metrics_->start([this] {
            const uint64_t run_ns = clock_->to_ns(rte_rdtsc()) - started_ns_;
            return prometheus_text(pipeline_->link_snapshots(run_ns, true), pipeline_->classify_snapshots(), run_ns);
        });
        fmt::print("linkem: metrics: http://{}/metrics (Prometheus)\n", config_.stats.prometheus->to_string());
    }
    std::fflush(stdout);
    if (!timeline_.empty()) timeline_tick(started_ns_);  // a step in the first 50 ms is posted before any packet
    std::thread control([&] { control_loop(grace_ns); });
    for (size_t k = 1; k < tasks_.size(); ++k) {
        if (rte_eal_remote_launch(lcore_main, &tasks_[k], lcore_ids_[k]) != 0) {
            fmt::print(stderr, "linkem: cannot launch lcore {}; stopping\n", lcore_ids_[k]);
            control_.running.fetch_sub(1);
            g_stop_signal = SIGTERM;
        }
    }
    lcore_main(&tasks_[0]);
    rte_eal_mp_wait_lcore();
    control.join();
    return finish();
}

int Emulator::finish() {
    const uint64_t ran_ns = clock_->to_ns(rte_rdtsc()) - started_ns_;
    watch_link_state(started_ns_ + ran_ns);  // a change in the last poll interval is reported too
    const uint64_t shutdown_drops = pipeline_->drop_held_at_shutdown();
    const std::vector<LinkSnapshot> final_stats = snapshots(true);
    const std::vector<PortClassifySnapshot> classified = pipeline_->classify_snapshots();
    const uint64_t left_in_ports = drain_receive_queues();
    if (left_in_ports != 0)
        fmt::print("linkem: freed {} packets found in port receive queues after receiving stopped (they reached no link)\n", left_in_ports);

    const std::vector<DriverCounters> drivers = driver_counters();
    Json port_json = Json::array();
    for (size_t i = 0; i < ports_.size(); ++i) {
        const DriverCounters &d = drivers[i];
        Json history = Json::array();
        for (const LinkStateChange &c : link_history_[i])
            history.push_back({{"t_ns", c.t_ns}, {"up", c.up}, {"speed_mbps", c.speed_mbps}, {"state", c.text}});
        port_json.push_back({{"name", d.port},
                             {"ipackets", d.ipackets},
                             {"opackets", d.opackets},
                             {"imissed", d.imissed},
                             {"ierrors", d.ierrors},
                             {"rx_nombuf", d.rx_nombuf},
                             {"oerrors", d.oerrors},
                             {"driver_errors", d.errors()},
                             {"link", std::move(history)}});
        close_port(ports_[i]);
    }
    uint64_t pool_size = 0, available = 0;
    for (rte_mempool *pool : pools_) {
        if (pool == nullptr) continue;  // a replay source's
        pool_size += pool->size;
        available += rte_mempool_avail_count(pool);
    }
    const bool mbufs_back = available == pool_size;

    fmt::print("\nlinkem: ran {}; {} packets still held at the end were dropped as shutdown\n{}", seconds_text(ran_ns), shutdown_drops,
               summary_text(final_stats));
    if (!config_.rules.empty() || pipeline_->routes().paths.size() > pipeline_->routes().ingress.size() || config_.pipeline.classify_lcore)
        fmt::print("{}", classify_summary_text(classified));
    Json replay_reports = Json::array();
    for (size_t k = 0; k < replays_.size(); ++k) {
        if (replays_[k] == nullptr) continue;
        ReplayReport report = replay_report(config_.ports[k], replays_[k]->trace, replays_[k]->stats, replays_[k]->tolerance_ns);
        report.memory = replays_[k]->memory;
        if (const ReplayPort &r = *replays_[k]; r.ring) {
            report.streamed = true;
            report.ring_bytes = r.ring->chunks() * r.ring->chunk_bytes();
            report.chunk_bytes = r.ring->chunk_bytes();
            report.chunks_read = r.reader->chunks_written();
            report.starvations = r.cursor.starvations();
        }
        fmt::print("{}", replay_summary_text(report));
        replay_reports.push_back(replay_json(report));
    }
    for (const DriverCounters &d : drivers) fmt::print("{}", driver_text(d));
    uint64_t delivery_errors = 0, port_drops = 0;
    for (const DriverCounters &d : drivers) {
        delivery_errors += d.oerrors;
        port_drops += d.imissed + d.ierrors + d.rx_nombuf;
    }
    fmt::print("accounting: links count what they hand to a driver as tx; driver errors: {}\n",
               delivery_errors + port_drops == 0
                   ? std::string("none")
                   : fmt::format("{} frames not delivered (oerrors), {} dropped by ports before any link (imissed, ierrors, rx_nombuf)",
                                 delivery_errors, port_drops));
    fmt::print("mbufs: {} of {} back in the pools{}\n", available, pool_size, mbufs_back ? "" : " (LEAK)");

    bool balanced = true;
    for (const LinkSnapshot &s : final_stats) balanced = balanced && s.balanced() && s.in_flight == 0;
    if (jsonl_.is_open()) write_jsonl(final_stats, started_ns_ + ran_ns, utc_timestamp_text(unix_now_ns()), true);
    if (!cl_.stats_json_path.empty()) {
        uint64_t arena_bytes = 0;
        for (const ArenaMemory &m : arena_memory_) arena_bytes += m.size_bytes;
        const uint64_t mbuf_bytes = RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(rte_mbuf);
        const Json extra = {{"seed", seed_},
                            {"duration_ns", ran_ns},
                            {"mbufs", {{"pool", pool_size}, {"returned", available}}},
                            {"memory",
                             {{"arena_bytes", arena_bytes},
                              {"pool_bytes", pool_size * mbuf_bytes},
                              {"bytes_per_packet_in_flight", DelayArena::record_bytes(64)}}},
                            {"ports", std::move(port_json)},
                            {"classify", classify_json(classified)},
                            {"replay", std::move(replay_reports)},
                            {"changes", changes_},
                            {"changes_not_listed", changes_not_listed_}};
        std::ofstream out(cl_.stats_json_path);
        out << stats_json(final_stats, extra);
        if (!out) {
            fmt::print(stderr, "linkem: cannot write {}\n", cl_.stats_json_path);
            return 1;
        }
    }
    if (jsonl_failed_) return 1;
    std::fflush(stdout);  // the summary first: the warnings below are the run's last lines
    if (!balanced) fmt::print(stderr, "linkem: the accounting does not balance (see above)\n");
    // Driver errors (docs/ARCHITECTURE.md "Exit status"): frames a driver accepted and did not
    // deliver make the links' tx counts wrong, so the run fails; frames a port dropped before
    // any link saw them leave the links' accounting true, and get a warning.
    for (const DriverCounters &d : drivers) {
        if (d.oerrors != 0)
            fmt::print(stderr, "linkem: DRIVER ERRORS: port {}: {} frames were accepted by the driver but not delivered (oerrors)\n",
                       d.port, d.oerrors);
        if (d.imissed + d.ierrors + d.rx_nombuf != 0)
            fmt::print(stderr,
                       "linkem: warning: port {}: {} frames were dropped by the port before any link saw them (imissed {}, ierrors {}, "
                       "rx_nombuf {})\n",
                       d.port, d.imissed + d.ierrors + d.rx_nombuf, d.imissed, d.ierrors, d.rx_nombuf);
    }
    for (size_t i = 0; i < ports_.size(); ++i)
        if (link_history_[i].size() > 1 || !link_history_[i].front().up)
            fmt::print(stderr, "linkem: warning: port {}: link was {} at the start{}; now {}\n", ports_[i].name,
                       link_history_[i].front().text,
                       link_history_[i].size() > 1
                           ? fmt::format(" and changed {} time{}", link_history_[i].size() - 1, link_history_[i].size() == 2 ? "" : "s")
                           : "",
                       link_history_[i].back().text);
    if (delivery_errors != 0) fmt::print(stderr, "linkem: exit status 1: driver errors (frames counted as sent were not delivered)\n");
    if (replay_failed_) fmt::print(stderr, "linkem: exit status 1: a replay trace could not be read to its end (above)\n");
    return balanced && mbufs_back && delivery_errors == 0 && !replay_failed_ ? 0 : 1;
}

void Emulator::clean_up() {
    if (metrics_) metrics_->stop();             // first: it reads the pipeline
    set_telemetry_target(nullptr, "stopping");  // waits for commands that call it
    status_.reset();
    for (OpenPort &p : ports_) close_port(p);
    for (RxPort &in : rx_ports_) rte_ring_free(in.handoff);  // empty: the classify lcore stops only once they are
    rx_ports_.clear();
    tx_ports_.clear();
    pipeline_.reset();
    for (ArenaMemory &m : arena_memory_) m.release();
    arena_memory_.clear();
    for (rte_mempool *pool : pools_) rte_mempool_free(pool);
    pools_.clear();
    replays_.clear();  // stops the readers before their rings go
    for (void *block : replay_hugepages_) rte_free(block);
    replay_hugepages_.clear();
    for (ArenaMemory &m : replay_rings_) m.release();
    replay_rings_.clear();
    if (pdump_ready_) rte_pdump_uninit();
    pdump_ready_ = false;
    if (eal_ready_) {
        rte_eal_cleanup();
        // Under a file prefix (capture: true) EAL leaves its hugepage files and runtime directory.
        for (const std::string &left : remove_runtime_files(eal_args_)) fmt::print(stderr, "linkem: could not remove {}\n", left);
    }
    eal_ready_ = false;
}

}  // namespace

void Emulator::set_accepting(bool accepting) {
    {
        std::lock_guard<std::mutex> lock(control_mutex_);
        accepting_ = accepting;
    }
    set_telemetry_target(accepting ? this : nullptr, accepting ? "running" : "stopping");  // waits for commands in flight
}

namespace {

std::string errors_text(const std::vector<ConfigError> &errors) {
    std::string out;
    for (const ConfigError &e : errors) out += (out.empty() ? "" : "\n") + e.to_string();
    return out;
}

}  // namespace

ControlReply Emulator::set_link(const std::string &link, const std::vector<std::string> &assignments) {
    std::lock_guard<std::mutex> lock(control_mutex_);
    if (!accepting_) return {1, "linkem is starting or stopping: no change now", nullptr};
    return change(load_link_set(config_, link, assignments), kSetFileName);
}

ControlReply Emulator::apply_file(const std::string &path) {
    std::lock_guard<std::mutex> lock(control_mutex_);
    if (!accepting_) return {1, "linkem is starting or stopping: no change now", nullptr};
    return change(load_change_file(config_, path), path);
}

// With control_mutex_ held: prepare, post, wait for every lcore concerned (1 s at most), commit, record.
ControlReply Emulator::change(ChangeCandidate candidate, const std::string &file_name) {
    if (!candidate.config) return {2, errors_text(candidate.errors), nullptr};
    // A timeline step posted, or taken by its lcore and not yet committed
    // (timeline_tick): the running plans and configuration are not yet the
    // step's, so a change made now would be laid over the wrong ones.
    if (timeline_change_) return {1, "a change is still pending (a timeline step); try again", nullptr};
    if (candidate.edits.empty()) return {0, "nothing to change: the links already have these values", nullptr};
    std::vector<ConfigError> errors;
    std::optional<PreparedChange> prepared =
        prepare_change(*pipeline_, plans_, std::move(candidate), seed_, changes_made_ + 1, host_, file_name, &errors);
    if (!prepared) return {2, errors_text(errors), nullptr};
    const uint64_t at_ns = clock_->to_ns(rte_rdtsc());
    const int64_t at_unix_ns = unix_now_ns();
    if (!post_change(*prepared, at_ns)) return {1, "a change is still pending on an lcore; try again", nullptr};
    while (!change_taken(*prepared) && clock_->to_ns(rte_rdtsc()) - at_ns < kChangeTimeoutNs)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    const size_t withdrawn = withdraw_change(*prepared);
    const std::vector<LinkEdit> done = commit_change(*prepared, plans_, config_);
    if (done.empty()) return {1, "no lcore took the change within 1 s (is linkem stopping?); nothing changed", nullptr};
    ++changes_made_;
    auto [line, record] = record_change(done, changes_made_, at_ns, at_unix_ns, "");
    // The old instances go with `prepared`, here on the control side.
    if (withdrawn != 0) return {1, line + " (partly: an lcore did not take its share within 1 s)", record};
    return {0, line, record};
}

// A timeline step as a change's source: "timeline.steps[1]", and its pass (from 1) when the timeline repeats.
static std::string timeline_step_name(const TimelineCursor &t) {
    const std::string path = t.next_steps().front()->path;
    return t.repeats() ? fmt::format("{}, pass {}", path, t.repetition() + 1) : path;
}

// With control_mutex_ held: the change's line (printed) and its record in the run's JSON.
std::pair<std::string, Json> Emulator::record_change(const std::vector<LinkEdit> &done, uint64_t number, uint64_t at_ns, int64_t at_unix_ns,
                                                     const std::string &source) {
    Json links = Json::object();
    std::string words;
    for (const LinkEdit &e : done) {
        Json keys = Json::object();
        words += fmt::format(" {}:", config_.links[e.link].name);
        for (const auto &[key, value] : e.keys) {
            keys[key] = value;
            words += fmt::format(" {}={}", key, value);
        }
        links[config_.links[e.link].name] = std::move(keys);
    }
    const std::string utc = utc_timestamp_text(at_unix_ns);
    Json record = {{"at_ns", at_ns - started_ns_}, {"utc", utc}, {"links", std::move(links)}};
    if (!source.empty()) record["source"] = source;
    // The JSON keeps the first kMaxListedChanges (a few hundred bytes each), so that a run steered for hours
    // does not grow without bound; the rest are counted, and every one is printed.
    if (changes_.size() < kMaxListedChanges)
        changes_.push_back(record);
    else
        ++changes_not_listed_;
    const std::string line = fmt::format("{} change {} at +{}{}:{}", utc, number, seconds_text(at_ns - started_ns_),
                                         source.empty() ? "" : " (" + source + ")", words);
    fmt::print("linkem: {}\n", line);
    std::fflush(stdout);
    return {line, record};
}

// The timeline, from the control loop (every 10 ms, 1 ms near a step): commits the step taken,
// learns the first packet's arrival (from: first_packet), and posts the next
// step kTimelineLeadNs before its instant, so the ingress takes it with the
// first packet that arrives at or after it (admit_burst) or, idle, once its
// clock has passed it (poll_change).
void Emulator::timeline_tick(uint64_t now_ns) {
    std::lock_guard<std::mutex> lock(control_mutex_);
    if (timeline_change_) {
        if (!change_taken(*timeline_change_)) return;
        const uint64_t at_ns = timeline_.next_ns() + timeline_late_ns_;  // when it took effect
        const std::vector<LinkEdit> done = commit_change(*timeline_change_, plans_, config_);
        // The instant's wall-clock time, from the pipeline clock's distance to it.
        const int64_t at_unix_ns = unix_now_ns() - (static_cast<int64_t>(clock_->to_ns(rte_rdtsc())) - static_cast<int64_t>(at_ns));
        if (!done.empty()) record_change(done, timeline_number_, at_ns, at_unix_ns, timeline_step_name(timeline_));
        timeline_change_.reset();  // the old instances are destroyed here, on the control side
        timeline_.advance();
        if (timeline_stopping_) return;
    }
    if (timeline_stopping_) return;
    if (!timeline_.started()) {
        uint64_t first = IngressRuntime::kNoArrival;
        for (const auto &in : pipeline_->ingress()) first = std::min(first, in->first_arrival_ns.load(std::memory_order_acquire));
        if (first == IngressRuntime::kNoArrival) return;
        timeline_.start(first);
        fmt::print("linkem: timeline: the first packet arrived at +{}: its steps count from there\n", seconds_text(first - started_ns_));
    }
    const uint64_t at_ns = timeline_.next_ns();
    if (at_ns == TimelineCursor::kNone || now_ns + kTimelineLeadNs < at_ns) return;
    const std::string path = timeline_step_name(timeline_);
    ChangeCandidate candidate = timeline_.next_change(config_);
    if (!candidate.config || candidate.edits.empty()) {
        if (!candidate.config) fmt::print(stderr, "linkem: timeline: {} not applied:\n{}\n", path, errors_text(candidate.errors));
        timeline_.advance();  // nothing to change (the links have these values), or refused: the next one
        return;
    }
    std::vector<ConfigError> errors;
    std::optional<PreparedChange> prepared =
        prepare_change(*pipeline_, plans_, std::move(candidate), seed_, changes_made_ + 1, host_, config_.file, &errors);
    if (!prepared) {
        fmt::print(stderr, "linkem: timeline: {} not applied:\n{}\n", path, errors_text(errors));
        timeline_.advance();
        return;
    }
    // Posted after its instant (the step before was taken late, or from: first_packet learnt the origin late): it
    // takes effect from now, and is recorded so.
    const uint64_t late_ns = now_ns > at_ns ? now_ns - at_ns : 0;
    if (!post_change(*prepared, at_ns + late_ns)) return;  // a set or apply is pending on that lcore: again at the next tick
    timeline_number_ = ++changes_made_;
    timeline_late_ns_ = late_ns;
    if (late_ns != 0)
        fmt::print(stderr,
                   "linkem: timeline: {} posted {:.3f} ms after its instant: it takes effect from then, and packets that arrived in "
                   "between kept the old parameters (see docs/CONFIG.md, \"timeline\": steps too close together)\n",
                   path, static_cast<double>(late_ns) / 1e6);
    timeline_change_ = std::move(prepared);
}

// At the end of the run: a step posted and not taken is withdrawn; one taken is committed.
void Emulator::timeline_stop() {
    timeline_stopping_ = true;
    if (!timeline_change_) return;
    {
        std::lock_guard<std::mutex> lock(control_mutex_);
        withdraw_change(*timeline_change_);
    }
    timeline_tick(clock_->to_ns(rte_rdtsc()));  // commits what was taken, or drops what was withdrawn
    std::lock_guard<std::mutex> lock(control_mutex_);
    timeline_change_.reset();
}

ControlReply Emulator::show(const std::string &link) {
    std::lock_guard<std::mutex> lock(control_mutex_);  // a change's commit is never seen half done
    if (!accepting_) return {1, "linkem is starting or stopping", nullptr};
    return status_->show(link);
}

DpdkCosts dpdk_costs() {
    DpdkCosts c;
    rte_mempool_objsz size{};
    const uint32_t element = static_cast<uint32_t>(sizeof(rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE);
    const uint32_t per_mbuf = rte_mempool_calc_obj_size(element, 0, &size);
    // The mbufs, the pool's ring of pointers, and its header with a cache per possible lcore.
    c.pool_bytes_per_port = uint64_t{per_mbuf} * kPoolMbufs + static_cast<uint64_t>(rte_ring_get_memsize(rte_align32pow2(kPoolMbufs + 1))) +
                            sizeof(rte_mempool) + uint64_t{RTE_MAX_LCORE} * sizeof(rte_mempool_cache);
    c.pool_how = fmt::format("{} mbufs of {}B, their ring and per-lcore caches", kPoolMbufs, per_mbuf);
    c.handoff_ring_bytes = static_cast<uint64_t>(rte_ring_get_memsize_elem(sizeof(HandoffEntry), kHandoffRingSlots));
    c.eal_bytes = kEalOwnBytes;
    return c;
}

int run_emulator(Config &config, std::vector<LinkPlan> &plans, const CommandLine &cl, const EalPlan &eal, uint64_t seed,
                 const std::vector<std::optional<ReplayPlan>> &replays) {
    Emulator emulator(config, plans, cl, seed, replays);
    return emulator.run(eal);
}

}  // namespace linkem
