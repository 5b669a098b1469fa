// The emulator's lcores: what is DPDK about the data path. Each receives
// bursts from ethdev ports and hands them to the pipeline's ingress step
// (core/include/linkem/pipeline_ingress.hpp), or takes what is due from the
// pipeline's egress step (pipeline_egress.hpp), builds mbufs and sends them
// (core/include/linkem/lcore_plan.hpp, docs/ARCHITECTURE.md "Data path").
//
//   rx stage, one per arrival port (RxPort): receive a burst, one clock read,
//     admit it (classify, paths, mangle, copy into the lanes), free every mbuf.
//   With a classify lcore, the rx stage is split at its first step: the
//     receive stage (rx lcore) puts each packet with its burst's arrival time
//     on the port's handoff ring; the classify stage (classify lcore) takes
//     them off and admits them.
//   tx stage, one per destination port (TxPort): take what is due from every
//     lane that ends at the port, copy it into mbufs, send in release-time
//     order, settle (observe what was sent for its link's fidelity figures).
//
// Contract: on the data path nothing takes a lock, allocates memory, makes a
// system call or logs; everything works in bursts. Each rx stage runs on one
// lcore and each tx stage on one lcore, so every arena has one producer and
// one consumer, every counter block one writer, every port queue one user.
#pragma once

#include "linkem/pipeline.hpp"
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

// One packet on a handoff ring: the mbuf and its burst's arrival time.
struct HandoffEntry {
    rte_mbuf *mbuf;
    uint64_t arrival_ns;
};

struct ReplayPort;

// An arrival port: its ethdev and the pipeline's ingress state.
struct RxPort {
    IngressRuntime *ingress = nullptr;
    uint16_t port_id = 0;
    rte_ring *handoff = nullptr;   // with a classify lcore: receive stage -> classify stage
    ReplayPort *replay = nullptr;  // a replay source (app/replay_stage.hpp): no ethdev, its stage replays the trace
};

// A destination port: its ethdev, the pool the tx stage builds its mbufs
// from, and the pipeline's egress state.
struct TxPort {
    EgressRuntime *egress = nullptr;
    uint16_t port_id = 0;
    rte_mempool *pool = nullptr;
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
    std::vector<RxPort *> rx_ports;        // whole rx stages
    std::vector<RxPort *> receive_ports;   // receive stages: to the handoff ring
    std::vector<RxPort *> classify_ports;  // classify stages: from the handoff ring
    std::vector<TxPort *> tx_ports;
    const TscClock *clock = nullptr;
    uint32_t burst = 32;
    uint64_t sleep_threshold_ns = 50'000;
    uint64_t idle_after_ns = 1'000'000'000;  // idle back-off (config.hpp Pipeline): after this long without a packet,
    uint64_t idle_nap_ns = 1'000'000;        // poll naps of this length (0: none)
    PipelineControl *control = nullptr;
    // When every arrival port is a replay source: their next packets' times
    // (ReplayPort::next_ns), so a tx stage with an empty lane naps until the
    // next one can be due instead of polling (empty: some port is a device).
    std::vector<const ReplayPort *> replay_sources;
};

// The loop of one lcore; `arg` is a LcoreTask. Returns 0.
int lcore_main(void *arg);

// Run once on each lcore (as lcore_main will be, at the same stack depth)
// before the run's start: touches what the lcore's first packets would
// otherwise touch for the first time, and changes nothing any packet's fate
// depends on (docs/ARCHITECTURE.md "Replay sources"). `arg` is a LcoreTask. Returns 0.
int lcore_warm_up(void *arg);

}  // namespace linkem
