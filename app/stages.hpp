// The data path: per-link runtime state and the lcore loop that runs the
// rx/model stage and the tx stage of the links an lcore was given
// (core/include/linkem/lcore_plan.hpp).
//
// Contract: on the data path nothing takes a lock, allocates memory, makes a
// system call or logs; everything works in bursts. Packets are copied into
// the arena by the rx stage (which frees its mbufs at once, on its own core)
// and out of it by the tx stage (which takes mbufs from the destination
// port's pool, on its own core). The only system call is the
// nanosleep of an idle lcore. Each link's rx stage runs on one lcore and its
// tx stage on one lcore, so the arena has one producer and one consumer, and
// each counter block one writer.
#pragma once

#include "linkem/arena.hpp"
#include "linkem/link_model.hpp"
#include "linkem/release_tracker.hpp"
#include "linkem/stats.hpp"
#include "linkem/tsc_clock.hpp"

#include <atomic>

struct rte_mempool;
#include <cstdint>
#include <string>
#include <vector>

namespace linkem {

struct LinkRuntime {
    LinkRuntime(std::string link_name, uint16_t from_port, uint16_t to_port, rte_mempool *to_pool, const LinkModelParams &params,
                uint64_t min_delay, void *arena_storage, uint64_t arena_bytes, const LinkExpectations &expectations)
        : name(std::move(link_name)),
          rx_port(from_port),
          tx_port(to_port),
          tx_pool(to_pool),
          min_delay_ns(min_delay),
          expected(expectations),
          model(params),
          arena(arena_storage, arena_bytes),
          release(expectations.lateness_tolerance_ns, params.overhead_bytes) {}

    const std::string name;
    const uint16_t rx_port;
    const uint16_t tx_port;
    rte_mempool *const tx_pool;       // the destination port's pool: the tx stage builds its mbufs from it
    const uint64_t min_delay_ns;      // no packet is released sooner after its arrival
    const LinkExpectations expected;  // what the configuration says, beside what is measured
    LinkModel model;                  // rx lcore only
    DelayArena arena;                 // rx lcore produces, tx lcore consumes
    uint64_t arena_room_cached = 0;   // rx lcore: free entries known without reading the consumer's index
    ReleaseTracker release;           // tx lcore only
    RxCounters rx;                    // written by the rx lcore
    TxCounters tx;                    // written by the tx lcore
};

// Flags the control thread sets and the lcores read.
struct PipelineControl {
    std::atomic<bool> stop_rx{false};  // stop receiving; keep releasing what is held
    std::atomic<bool> stop_tx{false};  // grace period over: stop releasing
    std::atomic<int> receiving{0};     // lcores that still receive
    std::atomic<int> running{0};       // lcores still in their loop
};

struct LcoreTask {
    std::vector<LinkRuntime *> rx_links;
    std::vector<LinkRuntime *> tx_links;
    const TscClock *clock = nullptr;
    uint32_t burst = 32;
    uint64_t sleep_threshold_ns = 50'000;
    PipelineControl *control = nullptr;
};

// The loop of one lcore; `arg` is a LcoreTask. Returns 0.
int lcore_main(void *arg);

// After every lcore has stopped: discards what the arena still holds and
// counts it as dropped at shutdown. Returns the number of packets discarded.
uint64_t drain_arena_at_shutdown(LinkRuntime &link);

}  // namespace linkem
