// The data path: runtime state of links, arrival ports and destination
// ports, and the lcore loop that runs their stages
// (core/include/linkem/lcore_plan.hpp, docs/ARCHITECTURE.md "Data path").
//
//   rx stage, one per arrival port (IngressRuntime): receive a burst, one
//     clock read; classify each packet by the compiled rules (parsing the
//     headers only when a rule, a per-flow template or ECN needs them);
//     group the packets by the link they enter; for each group run the path's
//     hops one after the other (a hop's release time is the next hop's
//     arrival); mangle and copy the survivors into the last hop's arena (its
//     lane); free every mbuf; count.
//   With a classify lcore, the rx stage is split at its first step: the
//     receive stage (rx lcore) puts each packet with its burst's arrival time
//     on the port's handoff ring; the classify stage (classify lcore) takes
//     them off and does the rest.
//   tx stage, one per destination port (EgressRuntime): take what is due from
//     every lane that ends at the port, send it in release-time order, observe
//     each packet sent for its link's fidelity figures.
//
// Contract: on the data path nothing takes a lock, allocates memory, makes a
// system call or logs; everything works in bursts. Each rx stage runs on one
// lcore and each tx stage on one lcore, so every arena has one producer and
// one consumer, every counter block one writer, every port queue one user.
#pragma once

#include "linkem/arena.hpp"
#include "linkem/flow_table.hpp"
#include "linkem/link_model.hpp"
#include "linkem/mangle.hpp"
#include "linkem/release_tracker.hpp"
#include "linkem/route_plan.hpp"
#include "linkem/stats.hpp"
#include "linkem/tsc_clock.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace linkem {

struct LinkRuntime;

// An arena and the link whose packets it holds. A link that ends a path has
// one; with `reorder`, a second for the packets it holds back.
struct Lane {
    Lane(LinkRuntime *owner, void *storage, uint64_t bytes) : link(owner), arena(storage, bytes) {}
    LinkRuntime *const link;
    DelayArena arena;  // the rx lcore of the link's port produces, the tx lcore of its destination consumes
};

// A link's mangling (links[].mangle), on the rx lcore.
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
          expected(expectations),
          model(params),
          release(expectations.lateness_tolerance_ns, params.overhead_bytes) {}

    const std::string name;
    const uint64_t min_delay_ns;      // no packet is released sooner after its arrival
    const LinkExpectations expected;  // what the configuration says, beside what is measured
    LinkModel model;                  // rx lcore only
    LinkMangler mangle;               // rx lcore only
    RxCounters rx;                    // written by the rx lcore
    Lane *lane = nullptr;             // where it releases; none for a chain's inner hop
    Lane *reorder_lane = nullptr;     // what reorder holds back
    // The tx lcore writes this per packet: on a cache line of its own, away
    // from the lane pointers the rx lcore reads (measured: sharing one halved both stages' speed).
    alignas(64) ReleaseTracker release;
    TxCounters tx;  // written by the tx lcore
    // A per-flow instance: its template's flow table and index there (for reports).
    const FlowTable *flows = nullptr;
    const FlowKeySpec *flow_key_spec = nullptr;
    uint32_t flow_index = 0;
};

// A per-flow template: its flow table and instances.
struct FlowTemplate {
    FlowTemplate(const FlowKeySpec &spec, uint32_t max_flows, uint64_t idle_ns) : key(spec), table(max_flows, idle_ns) {}
    const FlowKeySpec key;
    FlowTable table;                       // rx lcore only
    std::vector<LinkRuntime *> instances;  // by flow table index
    LinkRuntime *aggregate = nullptr;      // per_flow.aggregate: the hop before the instance
};

// The links a packet crosses, in order. A per-flow path's hop `flow_hop` is
// the flow's instance, picked per packet (the template's aggregate, if any, before it).
struct PathRuntime {
    std::vector<LinkRuntime *> hops;
    FlowTemplate *flows = nullptr;
    size_t flow_hop = 0;
};

// One packet on a handoff ring: the mbuf and its burst's arrival time.
struct HandoffEntry {
    rte_mbuf *mbuf;
    uint64_t arrival_ns;
};

struct IngressRuntime {
    IngressRuntime(std::string port, uint16_t id, const IngressPlan &plan)
        : port_name(std::move(port)),
          port_id(id),
          rules(plan.rules),
          default_action(plan.default_action),
          default_text(plan.default_text),
          counters(plan.rules.size()) {}
    const std::string port_name;
    const uint16_t port_id;
    const std::vector<CompiledRule> rules;
    const RouteAction default_action;
    const std::string default_text;
    bool needs_fields = false;         // parse every frame's headers
    PathRuntime *direct = nullptr;     // no rules, no header needed, no per-flow template: every packet takes this path
    std::vector<PathRuntime *> paths;  // by RoutePlan path index
    IngressCounters counters;
    rte_ring *handoff = nullptr;                                        // with a classify lcore: receive stage -> classify stage
    std::vector<PacketFields> fields = std::vector<PacketFields>(512);  // a burst's parsed headers (no allocation per burst)
};

struct EgressRuntime {
    uint16_t port_id = 0;
    rte_mempool *pool = nullptr;  // the port's pool: the tx stage builds its mbufs from it
    std::vector<Lane *> lanes;    // every lane that releases to this port
};

// Flags the control thread sets and the lcores read.
struct PipelineControl {
    std::atomic<bool> stop_rx{false};  // stop receiving; keep releasing what is held
    std::atomic<bool> stop_tx{false};  // grace period over: stop releasing
    std::atomic<int> receiving{0};     // lcores that still receive (from a port or a handoff ring)
    std::atomic<int> feeding{0};       // lcores that still put packets on handoff rings
    std::atomic<int> running{0};       // lcores still in their loop
};

struct LcoreTask {
    std::vector<IngressRuntime *> rx_ports;        // whole rx stages
    std::vector<IngressRuntime *> receive_ports;   // receive stages: to the handoff ring
    std::vector<IngressRuntime *> classify_ports;  // classify stages: from the handoff ring
    std::vector<EgressRuntime *> tx_ports;
    const TscClock *clock = nullptr;
    uint32_t burst = 32;
    uint64_t sleep_threshold_ns = 50'000;
    PipelineControl *control = nullptr;
};

// The loop of one lcore; `arg` is a LcoreTask. Returns 0.
int lcore_main(void *arg);

// After every lcore has stopped: discards what a lane still holds and counts
// it as dropped at shutdown on its link. Returns the number of packets discarded.
uint64_t drain_lane_at_shutdown(Lane &lane);

}  // namespace linkem
