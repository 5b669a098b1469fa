// Runtime changes on the data path (docs/ARCHITECTURE.md "Runtime changes").
//
// A change (a `set`, an `apply`, SIGHUP, a timeline step) has one instant,
// effective_ns, on the pipeline's clock. It applies to the packets that
// arrive at or after it: a packet that arrived before keeps the fate its
// arrival computed, and a link's queue state carries on, so a change by
// itself loses and reorders nothing.
//
//   control side                              the link's ingress thread
//   ------------                              -------------------------
//   prepare_change(): new model instances
//     (plan_link, their streams from
//     (seed, "LINK@N", kind)), a queue ring,
//     the mangler; the arena check
//   post_change(): min_delay_ns lowered,
//     a PendingChange in each ingress's
//     mailbox (release store)           -->   take_change() in admit_burst()
//                                             before the first packet that
//                                             arrives >= effective_ns (a burst
//                                             that straddles it is cut there), or
//                                             poll_change() when idle: swaps
//                                             params, ring, mangler (no lock, no
//                                             allocation); done = true (release)
//   change_taken() / withdraw_change()  <--
//   commit_change(): min_delay_ns set, the
//     plans and the running Config updated;
//     the old instances are destroyed with
//     the PreparedChange
//
// Several links (even on different ingress ports) share one effective_ns.
// linkem posts a set, apply or SIGHUP with effective_ns = the time the change
// was accepted, and a timeline step (linkem/timeline.hpp) ahead of its
// instant with effective_ns = the instant; linkem-sim posts a timeline's
// instants in its virtual time and calls the same admit_burst(), so a change
// takes effect at the first packet that arrives at or after it.
#pragma once

#include "linkem/config.hpp"
#include "linkem/config_change.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/pipeline.hpp"
#include "linkem/plugin_host.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace linkem {

// One link's new state, made on the control side. After the swap, params,
// ring and mangle hold the link's old ones.
struct LinkSwap {
    LinkRuntime *link = nullptr;
    size_t config_index = 0;        // into Config::links
    LinkPlan plan;                  // owns the new instances (after commit_change: the old ones)
    LinkModelParams params;         // refers to plan's instances
    std::vector<QueueSlot> ring;    // LinkModel::queue_ring_for(params) slots
    LinkMangler mangle;             // its random stream replaced by the running one at the swap
    uint64_t min_delay_ns = 0;      // plan.min_delay_ns
    uint64_t old_min_delay_ns = 0;  // the link's before the change
    uint64_t offered_at_swap = 0;   // the packets its loss model had judged when the change took effect
    bool new_disciplines = false;   // a disciplined link's queue: changed: its new discipline instances take over
};

// One ingress port's share of a change: what its thread swaps.
struct PendingChange {
    IngressRuntime *ingress = nullptr;
    uint64_t effective_ns = 0;
    std::vector<LinkSwap *> swaps;
    std::atomic<bool> done{false};  // set (release) by the ingress thread once swapped
    bool withdrawn = false;         // control side: taken back before the ingress saw it
};

struct PreparedChange {
    uint64_t number = 0;  // 1 for the run's first change
    Config config;        // the running configuration with the change
    std::vector<LinkEdit> edits;
    std::vector<std::unique_ptr<LinkSwap>> swaps;
    std::vector<std::unique_ptr<PendingChange>> pending;  // one per ingress port concerned
};

// Plans every edited link of `candidate` (its new model instances, with
// random streams (seed, "LINK@number", kind)), checks each fits the link's
// arena and lanes, and makes everything the swap needs. Errors (positioned
// as the loader's; file_name for the patch's or the file's name) are
// appended to *errors; returns nothing then. `plans`: the running plans, by
// Config::links index.
std::optional<PreparedChange> prepare_change(const PipelineRuntime &pipeline, const std::vector<LinkPlan> &plans, ChangeCandidate candidate,
                                             uint64_t seed, uint64_t number, const PluginHost &host, const std::string &file_name,
                                             std::vector<ConfigError> *errors);

// Posts the change to each ingress concerned, to take effect at effective_ns.
// Returns false (nothing posted) when an ingress still has a change pending.
bool post_change(PreparedChange &change, uint64_t effective_ns);
// Whether every ingress concerned has taken it.
bool change_taken(const PreparedChange &change);
// Takes back what no ingress has taken yet (a thread that already took its
// share finishes it: this waits for that). Returns how many shares were withdrawn.
size_t withdraw_change(PreparedChange &change);
// After the change was taken (or partly withdrawn): each taken link's
// min_delay_ns, its plan (swapped into `plans`, the old one left in the
// LinkSwap) and its keys in `running`. Returns the edits that took effect.
std::vector<LinkEdit> commit_change(PreparedChange &change, std::vector<LinkPlan> &plans, Config &running);

// [ingress thread] A disciplined link's transmission starts before t,
// decided (and sent on) under the parameters in force before a change at t.
void decide_held_before(LinkRuntime &link, uint64_t t);

// [ingress thread] Swaps one pending change in, unless the control side withdrew it.
inline void take_change(IngressRuntime &in, PendingChange *c) {
    if (!in.change.compare_exchange_strong(c, nullptr, std::memory_order_acq_rel)) return;  // withdrawn meanwhile
    for (LinkSwap *s : c->swaps) {
        if (s->link->model.has_discipline()) [[unlikely]]
            decide_held_before(*s->link, c->effective_ns);
        s->offered_at_swap = offered_to_loss(s->link->rx);
        s->link->model.change(s->params, s->ring, s->new_disciplines);
        s->mangle.rng = s->link->mangle.rng;  // duplicate and reorder draws go on
        std::swap(s->link->mangle, s->mangle);
    }
    c->done.store(true, std::memory_order_release);
}

// [ingress thread] Between bursts (the top of its loop, also when idle):
// takes a pending change once now_ns has reached its instant. Only for a
// thread whose next burst's arrival times are later than now_ns.
inline void poll_change(IngressRuntime &in, uint64_t now_ns) {
    PendingChange *c = in.change.load(std::memory_order_acquire);
    if (c != nullptr && now_ns >= c->effective_ns) [[unlikely]]
        take_change(in, c);
}

}  // namespace linkem
