// Running the emulation: EAL -> mbuf pool -> ports -> arenas -> lcores ->
// control loop (status lines, link state, stop) -> clean shutdown -> reports.
#pragma once

#include "control.hpp"
#include "linkem/command_line.hpp"
#include "linkem/config.hpp"
#include "linkem/eal_args.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/memory_budget.hpp"
#include "linkem/replay_stream.hpp"

#include <functional>
#include <optional>
#include <vector>

namespace linkem {

// Returns the process exit status: 0 when the run ended cleanly with every
// link balanced and every mbuf back in its pool, 1 otherwise.
// The sizes of the DPDK objects a run creates (pools, rings, EAL's own), for
// the memory budget; needs no EAL.
DpdkCosts dpdk_costs();

// The emulator is the ControlTarget (app/control.hpp) of DPDK's telemetry
// commands (linkemctl) from when its lcores run until before they stop.
// config and plans are the running ones: runtime changes (set, apply,
// SIGHUP) update them in place. replays: by configured port, how each
// replay source holds its trace (loaded or streamed; main decided it with
// the memory budget).
int run_emulator(Config &config, std::vector<LinkPlan> &plans, const CommandLine &cl, const EalPlan &eal, uint64_t seed,
                 const std::vector<std::optional<ReplayPlan>> &replays);

}  // namespace linkem
