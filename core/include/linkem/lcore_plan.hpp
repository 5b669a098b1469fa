// Which lcore runs which stage (docs/ARCHITECTURE.md "Lcore plan"). The
// stages are the rx stages (one per arrival port: classify, link models,
// arenas) and the tx stages (one per destination port: release).
//
//   1 lcore:              it runs every stage;
//   2 to R+T-1 lcores:    the first runs every rx stage, the second every tx
//                         stage; others stay idle;
//   R+T lcores or more:   rx stage i runs on lcore i, tx stage j on lcore R+j.
// Every stage runs on exactly one lcore, so each arena has one producer and
// one consumer, and each port's queue one user.
#pragma once

#include <cstddef>
#include <vector>

namespace linkem {

struct LcoreRole {
    std::vector<size_t> rx_stages;  // indexes of arrival ports (RoutePlan::ingress)
    std::vector<size_t> tx_stages;  // indexes of destination ports (RoutePlan::egress_ports)
};

// roles[k] is the work of the k-th lcore in the EAL's lcore list.
std::vector<LcoreRole> plan_lcores(size_t lcore_count, size_t rx_stage_count, size_t tx_stage_count);

}  // namespace linkem
