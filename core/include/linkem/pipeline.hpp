// The pipeline's runtime state: links, their lanes (arenas), paths, per-flow
// templates, and the state of each arrival port (ingress) and destination
// port (egress); built once from the plans (route_plan.hpp, link_plan.hpp).
//
// Plan in core, realise in app: this is everything that decides a packet's
// fate, and none of it knows where frames come from or what time it is. The
// emulator (app/stages.cpp) feeds it mbufs from ethdev ports on the wall
// clock; linkem-sim (app/sim.cpp) feeds it capture records in virtual time;
// tests feed it byte arrays. The steps that run on it are in
// pipeline_ingress.hpp (admit a burst) and pipeline_egress.hpp (take what is
// due, settle what was sent).
//
// Threads: each IngressRuntime is used by one thread (the rx or classify
// stage of its port), each EgressRuntime by one (the tx stage of its port);
// every arena therefore has one producer and one consumer and every counter
// block one writer. The control thread only reads counters and snapshots.
#pragma once

#include "linkem/arena.hpp"
#include "linkem/config.hpp"
#include "linkem/flow_table.hpp"
#include "linkem/held_frames.hpp"
#include "linkem/link_model.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/mangle.hpp"
#include "linkem/release_tracker.hpp"
#include "linkem/route_plan.hpp"
#include "linkem/stats.hpp"

#include <atomic>
#include <mutex>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace linkem {

struct LinkRuntime;
struct PendingChange;  // link_change.hpp

// An arena and the link whose packets it holds. A link that ends a path has
// one; with `reorder`, a second for the packets it holds back.
struct Lane {
    Lane(LinkRuntime *owner, void *storage, uint64_t bytes, size_t port) : link(owner), arena(storage, bytes), to_port(port) {}
    LinkRuntime *const link;
    DelayArena arena;      // the ingress of the link's port produces, the egress of its destination consumes
    const size_t to_port;  // the destination port (index into Config::ports)
};

// A link's mangling (links[].mangle), on the ingress side.
struct LinkMangler {
    uint32_t truncate_bytes = UINT32_MAX;
    bool ecn = false;
    bool duplicate_on = false, reorder_on = false;
    Chance duplicate, reorder;
    uint64_t reorder_extra_ns = 0;
    std::optional<Corruptor> corrupt;
    lkm_rng rng{};  // for duplicate and reorder
};

struct LinkRuntime {
    LinkRuntime(std::string link_name, const LinkModelParams &params, uint64_t min_delay, const LinkExpectations &expectations)
        : name(std::move(link_name)),
          min_delay_ns(min_delay),
          model(params),
          release(expectations.lateness_tolerance_ns, params.overhead_bytes),
          expected_(expectations) {}

    const std::string name;
    // No packet is released sooner after its arrival. The egress reads it
    // (relaxed) to plan its naps; a runtime change lowers it before the
    // ingress takes the change and raises it after (link_change.hpp).
    std::atomic<uint64_t> min_delay_ns;
    // What the configuration says, beside what is measured: read and
    // restated (by a runtime change) on control threads only.
    LinkExpectations expectations() const {
        std::lock_guard<std::mutex> lock(expected_mutex_);
        return expected_;
    }
    // A change's new expectations; `offered` is how many packets the loss model judged before it.
    void restate(const LinkExpectations &now, uint64_t offered) {
        std::lock_guard<std::mutex> lock(expected_mutex_);
        expected_.restate(now, offered);
        release.set_overhead(now.overhead_bytes);
    }
    LinkModel model;               // ingress side only
    LinkMangler mangle;            // ingress side only
    RxCounters rx;                 // written by the ingress side
    Lane *lane = nullptr;          // where it releases; none for a chain's inner hop
    Lane *reorder_lane = nullptr;  // what reorder holds back
    // The egress side writes this per packet: on a cache line of its own, away
    // from the lane pointers the ingress side reads (measured: sharing one halved both stages' speed).
    alignas(64) ReleaseTracker release;
    TxCounters tx;  // written by the egress side
    // A per-flow instance: its template's flow table and index there (for reports).
    const FlowTable *flows = nullptr;
    const FlowKeySpec *flow_key_spec = nullptr;
    uint32_t flow_index = 0;
    // A link with a queue discipline: the frames its model holds, by the
    // handle given to hold() (held_frames.hpp), written and read by the
    // ingress side alone.
    std::unique_ptr<HeldFrames> held_frames;
    // With a scheduler: how a packet's queue is chosen (the flow's hash, or
    // the first class it matches), on the ingress side.
    struct QueueChoice {
        uint32_t flows = 0;                    // fq: queues by flow hash
        std::vector<RuleMatch> classes;        // drr: the first that matches, else the last
        std::vector<std::string> class_names;  // for reports
        std::vector<uint32_t> class_weights;
        bool any() const { return flows != 0 || !classes.empty(); }
        uint32_t of(const PacketFields &f) const;
    } queue_choice;

    mutable std::mutex expected_mutex_;
    LinkExpectations expected_;

    // Packets in its lanes, waiting for release.
    uint64_t in_flight() const { return (lane ? lane->arena.occupancy() : 0) + (reorder_lane ? reorder_lane->arena.occupancy() : 0); }
};

// A per-flow template: its flow table and instances.
struct FlowTemplate {
    FlowTemplate(const FlowKeySpec &spec, uint32_t max_flows, uint64_t idle_ns)
        : key(spec), table(max_flows, idle_ns), last_burst(max_flows, 0) {}
    const FlowKeySpec key;
    FlowTable table;                       // ingress side only
    std::vector<LinkRuntime *> instances;  // by flow table index
    LinkRuntime *aggregate = nullptr;      // per_flow.aggregate: the hop before the instance
    // By instance: the serial number of the last burst that gave it a packet.
    // An instance given a packet in the burst being classified holds it (not
    // yet in its lane), so it is not recycled for another flow in that burst.
    std::vector<uint64_t> last_burst;
};

// The links a packet crosses, in order. A per-flow path's hop `flow_hop` is
// the flow's instance, picked per packet (the template's aggregate, if any, before it).
struct PathRuntime {
    std::vector<LinkRuntime *> hops;
    FlowTemplate *flows = nullptr;
    size_t flow_hop = 0;
};

// One arrival port: its compiled rules and the paths they choose.
struct IngressRuntime {
    IngressRuntime(std::string name, size_t port_index, const IngressPlan &plan)
        : port_name(std::move(name)),
          port(port_index),
          rules(plan.rules),
          default_action(plan.default_action),
          default_text(plan.default_text),
          counters(plan.rules.size()) {}
    const std::string port_name;
    const size_t port;  // index into Config::ports
    const std::vector<CompiledRule> rules;
    const RouteAction default_action;
    const std::string default_text;
    bool needs_fields = false;         // parse every frame's headers
    PathRuntime *direct = nullptr;     // no rules, no header needed, no per-flow template: every packet takes this path
    std::vector<PathRuntime *> paths;  // by RoutePlan path index
    IngressCounters counters;
    // A runtime change for links this port's packets cross, posted by the
    // control side, taken by the thread that admits this port's bursts
    // (link_change.hpp): one acquire load per burst when none is pending.
    std::atomic<PendingChange *> change{nullptr};
    // The first packet's arrival (kNoArrival until one came), written once by
    // that thread: a timeline's from: first_packet counts from it.
    static constexpr uint64_t kNoArrival = UINT64_MAX;
    std::atomic<uint64_t> first_arrival_ns{kNoArrival};
    std::vector<LinkRuntime *> held_links;  // the links with a queue discipline this port's packets reach (advance_held)
    uint64_t burst_serial = 0;              // counts the bursts admitted (per-flow recycling: FlowTemplate::last_burst)
    std::vector<PacketFields> fields = std::vector<PacketFields>(kMaxBurst);  // a burst's parsed headers (no allocation per burst)
};

// One destination port: every lane that releases to it.
struct EgressRuntime {
    size_t port = 0;  // index into Config::ports
    std::vector<Lane *> lanes;
};

// Memory for an arena of `bytes` (a power of two), aligned to 64 bytes, for
// `what` (a link's name, for messages); nullptr when there is none (the
// allocator says why). linkem gives memzones or locked pages, linkem-sim and
// tests the heap. The memory outlives the PipelineRuntime.
using ArenaAllocator = std::function<void *(const std::string &what, uint64_t bytes)>;

// A link's mangling from its configuration; its random streams from the
// seed and stream_name (the link's runtime name; "name@N" for change N).
LinkMangler make_mangler(const Mangle &m, uint64_t seed, const std::string &stream_name);

// Everything the data path runs on, built from a checked configuration and
// its link plans. Owns the runtime objects; not the arenas' memory.
class PipelineRuntime {
  public:
    // nullptr when an arena could not be had. notes: one line per link
    // (where it goes, its arena), for the start-up messages.
    static std::unique_ptr<PipelineRuntime> build(const Config &config, const std::vector<LinkPlan> &plans, uint64_t seed,
                                                  const ArenaAllocator &allocate, std::vector<std::string> *notes);

    const Config &config() const { return config_; }
    const RoutePlan &routes() const { return routes_; }
    std::vector<std::unique_ptr<IngressRuntime>> &ingress() { return ingress_; }
    std::vector<std::unique_ptr<EgressRuntime>> &egress() { return egress_; }
    const std::vector<std::unique_ptr<Lane>> &lanes() const { return lanes_; }
    // The runtime link of Config::links[i]; nullptr for a per-flow template.
    LinkRuntime *config_link(size_t i) const { return i < by_config_link_.size() ? by_config_link_[i] : nullptr; }
    // The arrival ports whose packets can cross `link` (by their rules and default).
    std::vector<IngressRuntime *> ingress_of(const LinkRuntime *link) const;

    // The longest any packet can stay between arrival and release on any path
    // (each hop's largest delay, a full queue's drain at most beyond_delay_ns
    // past its smallest delay, what reorder holds back), for the grace period
    // at a stop.
    uint64_t longest_stay_ns(uint64_t beyond_delay_ns) const;

    // Every link's figures; run_ns is the time the offered load is measured
    // over. A per-flow instance that never carried a flow is left out.
    std::vector<LinkSnapshot> link_snapshots(uint64_t run_ns, bool with_histograms) const;
    std::vector<PortClassifySnapshot> classify_snapshots() const;

    // Whether any lane still holds a packet.
    bool holding() const;
    // After the last egress step: discards what the lanes still hold, counted
    // as dropped at shutdown on its link. Returns how many.
    uint64_t drop_held_at_shutdown();

  private:
    explicit PipelineRuntime(const Config &config) : config_(config) {}
    LinkRuntime *add_link(const std::string &name, const LinkPlan &plan, const Link *config_link, size_t to_port, void *arena,
                          void *reorder_arena, uint64_t seed);

    const Config &config_;
    const std::vector<LinkPlan> *plans_ = nullptr;  // the caller keeps them, and the Config, for as long as this lives
    RoutePlan routes_;
    std::vector<LinkRuntime *> by_config_link_;        // by Config::links index (nullptr: a per-flow template)
    std::vector<std::unique_ptr<LinkRuntime>> links_;  // every link, per-flow instance and pass lane's link
    std::vector<std::unique_ptr<Lane>> lanes_;
    std::vector<std::unique_ptr<FlowTemplate>> flow_templates_;
    std::vector<std::unique_ptr<PathRuntime>> paths_;
    std::vector<std::unique_ptr<IngressRuntime>> ingress_;
    std::vector<std::unique_ptr<EgressRuntime>> egress_;
};

}  // namespace linkem
