// Which lcore runs which stage of which link (docs/ARCHITECTURE.md "Lcore plan").
//
//   1 lcore:              it receives and transmits for every link;
//   2 to 2N-1 lcores:     the first receives (rx + model) for every link, the
//                         second transmits for every link; others stay idle;
//   2N lcores or more:    link i is received on lcore 2i and transmitted on
//                         lcore 2i+1 (each direction its own pair).
// Every link's rx stage and tx stage each run on exactly one lcore, so each
// arena has one producer and one consumer, and each port's queue one user.
#pragma once

#include <cstddef>
#include <vector>

namespace linkem {

struct LcoreRole {
    std::vector<size_t> rx_links;  // indexes into Config::links
    std::vector<size_t> tx_links;
};

// roles[k] is the work of the k-th lcore in the EAL's lcore list.
std::vector<LcoreRole> plan_lcores(size_t lcore_count, size_t link_count);

}  // namespace linkem
