// What a run will allocate, and whether the host can give it, decided before
// anything starts (docs/CONFIG.md "Memory"). Pure: no DPDK types; the sizes
// of DPDK's own objects come from the caller (DpdkCosts).
//
// Where each item goes, in the order the emulator allocates:
//  - DPDK's objects (EAL and drivers, mbuf pools, handoff rings) live in
//    DPDK's heap: free hugepages, or with --no-huge the -m heap (ordinary
//    memory). They must fit there, or the run is refused.
//  - A delay arena is a memzone in hugepages when the hugepages left after
//    the items before it hold it; otherwise (and always with --no-huge) it is
//    ordinary memory, advised to use transparent hugepages and touched at
//    start-up, so that the data path never faults a page in.
//  - The link models' queue rings (16 bytes a slot) are ordinary memory.
//  - A replay source's trace (loaded: its index and frames, one block) or
//    its ring of chunks (streamed) goes to hugepages when the hugepages left
//    hold it, else ordinary memory (locked), as an arena.
// Everything in ordinary memory must fit in what the host has available
// (MemAvailable, and the cgroup's memory.max less its use when lower).
#pragma once

#include "linkem/config.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/route_plan.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace linkem {

// What DPDK's own objects cost, told by the program that knows DPDK's sizes.
struct DpdkCosts {
    uint64_t pool_bytes_per_port = 0;  // one port's mbuf pool
    std::string pool_how;              // "16383 mbufs of 2368B"
    uint64_t handoff_ring_bytes = 0;   // one port's handoff ring (with pipeline.classify_lcore)
    uint64_t eal_bytes = 0;            // EAL's and the drivers' own, measured
};

struct MemoryItem {
    enum class Kind {
        kDpdk,     // must be in DPDK's heap
        kArena,    // a memzone in hugepages when it fits, else ordinary memory
        kOrdinary  // ordinary memory
    };
    std::string name;  // "link a-to-b: delay arena"
    uint64_t bytes = 0;
    std::string how;  // the arithmetic, for --check
    Kind kind = Kind::kOrdinary;
    bool in_dpdk_heap = false;    // decided by plan_memory()
    std::string derivation = {};  // an arena's size as the link plan derived it, for a refusal (--check prints it on the link's line)
};

// What the host can give, from HostFacts and the EAL plan.
struct MemoryHost {
    bool hugepages = true;                // EAL uses hugepages (no --no-huge)
    uint64_t hugepage_free_bytes = 0;     // free hugepages of every size
    uint64_t dpdk_heap_limit_bytes = 0;   // --no-huge's -m heap (or --legacy-mem -m); 0: no limit but the hugepages
    uint64_t memory_available_bytes = 0;  // ordinary memory the process may still take
};

struct MemoryBudget {
    std::vector<MemoryItem> items;  // in allocation order, each placed
    uint64_t total_bytes = 0;
    uint64_t dpdk_heap_bytes = 0;  // in DPDK's heap (hugepages, or the -m heap with --no-huge)
    uint64_t ordinary_bytes = 0;   // in ordinary memory outside DPDK's heap
    bool fits = true;
    std::string problem;  // when it does not fit: what is short, the total and the biggest items
};

// A replay source's memory (linkem/replay_stream.hpp's ReplayPlan).
struct ReplayMemory {
    std::string port;
    uint64_t bytes = 0;
    bool streamed = false;
    std::string how;  // "412345 packets, 300 MiB of frames" or "256 chunks of 1 MiB"
};

// DPDK's own memory linkem needs before any arena (EAL, pools, rings).
uint64_t dpdk_fixed_bytes(const Config &config, const DpdkCosts &costs);

// Every allocation of a run, in the emulator's order: DPDK's objects, then
// each link's arena (a per-flow template: max_flows instances x lanes in one
// block), the pass lanes' arenas, the replay sources' traces or rings, and
// the link models' queue rings. A replay source has no pool.
std::vector<MemoryItem> memory_items(const Config &config, const std::vector<LinkPlan> &plans, const RoutePlan &routes,
                                     const DpdkCosts &costs, const std::vector<ReplayMemory> &replays = {});

// Places the items (MemoryItem::in_dpdk_heap) and checks the host's figures.
MemoryBudget plan_memory(std::vector<MemoryItem> items, const MemoryHost &host);

// The --check lines: each item, where it goes and why; the totals beside the host's figures.
std::string budget_text(const MemoryBudget &budget, const MemoryHost &host);

// A size for people: "512 B", "1.5 KiB", "16 GiB", "4096 TiB" (rounded, not exact).
std::string bytes_text(uint64_t bytes);

}  // namespace linkem
