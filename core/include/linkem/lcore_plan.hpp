// Which lcore runs which stage (docs/ARCHITECTURE.md "Lcore plan"). The
// stages are the rx stages (one per arrival port: receive, classify, link
// models, mangling, arenas) and the tx stages (one per destination port:
// release).
//
//   1 lcore:              it runs every stage;
//   2 to R+T-1 lcores:    the first runs every rx stage, the second every tx
//                         stage; others stay idle;
//   R+T lcores or more:   rx stage i runs on lcore i, tx stage j on lcore R+j.
//
// With a classify lcore (pipeline.classify_lcore), each rx stage is split in
// two: a receive stage (receive a burst, read the clock, put it on the port's
// handoff ring) planned on the other lcores as above, and a classify stage
// (take from the ring, classify, run the links, mangle, copy into arenas), all
// of them on the classify lcore.
//
// Every stage runs on exactly one lcore, so each arena and each handoff ring
// has one producer and one consumer, and each port's queue one user.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace linkem {

struct LcoreRole {
    std::vector<size_t> rx_stages;        // indexes of arrival ports (RoutePlan::ingress): the whole rx stage
    std::vector<size_t> receive_stages;   // arrival ports this lcore only receives from (a classify lcore does the rest)
    std::vector<size_t> classify_stages;  // arrival ports whose handoff ring this lcore takes from
    std::vector<size_t> tx_stages;        // indexes of destination ports (RoutePlan::egress_ports)
};

constexpr size_t kNoClassifyLcore = SIZE_MAX;

// roles[k] is the work of the k-th lcore in the EAL's lcore list.
// classify_lcore: the index in that list of the classify lcore, or
// kNoClassifyLcore; with one, lcore_count must be at least 2.
std::vector<LcoreRole> plan_lcores(size_t lcore_count, size_t rx_stage_count, size_t tx_stage_count,
                                   size_t classify_lcore = kNoClassifyLcore);

}  // namespace linkem
