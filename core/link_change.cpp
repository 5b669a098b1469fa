#include "linkem/link_change.hpp"

#include "linkem/pipeline_ingress.hpp"
#include "linkem/seed.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace linkem {

std::optional<PreparedChange> prepare_change(const PipelineRuntime &pipeline, const std::vector<LinkPlan> &plans, ChangeCandidate candidate,
                                             uint64_t seed, uint64_t number, const PluginHost &host, const std::string &file_name,
                                             std::vector<ConfigError> *errors) {
    PreparedChange change;
    change.number = number;
    change.config = std::move(*candidate.config);
    change.edits = std::move(candidate.edits);
    const Config &c = change.config;
    const size_t errors_before = errors->size();
    const auto refuse = [&](const Link &l, size_t i, std::string message) {
        // A set patch's link has no position of its own: its first line.
        errors->push_back({file_name, l.pos.line == 0 ? SourcePos{1, 1} : l.pos, fmt::format("links[{}]", i), std::move(message)});
    };
    for (const LinkEdit &edit : change.edits) {
        const size_t i = edit.link;
        const Link &l = c.links[i];
        LinkRuntime *link = pipeline.config_link(i);
        if (link == nullptr) {
            refuse(l, i, fmt::format("link \"{}\" is a per-flow template: it cannot change while linkem runs yet", l.name));
            continue;
        }
        // Planned as if the link had no `arena:`: what the new parameters need, to compare with what the link has.
        Config sized = c;
        sized.links[i].arena_packets.reset();
        std::vector<ConfigError> found;
        std::optional<LinkPlan> plan = plan_link(sized, i, seed, host, &found, fmt::format("{}@{}", l.name, number));
        for (ConfigError &e : found) {
            e.file = file_name;  // the patch or the applied file, not linkem's own
            errors->push_back(std::move(e));
        }
        if (!plan) continue;
        // The arena and lanes were made at start for the parameters then.
        if (link->lane != nullptr && plan->arena_bytes > link->lane->arena.capacity_bytes()) {
            refuse(l, i,
                   fmt::format("the change needs an arena of {} ({}); link \"{}\" has {}, made at start: give it headroom with "
                               "arena: (for instance arena: {} packets) and restart linkem",
                               ByteSize{plan->arena_bytes}.to_string(), plan->arena_reason, l.name,
                               ByteSize{link->lane->arena.capacity_bytes()}.to_string(), plan->arena_bytes / DelayArena::record_bytes(64)));
            continue;
        }
        plan->arena_bytes = plans[i].arena_bytes;  // the arena stays the one made at start
        plan->arena_reason = plans[i].arena_reason;
        if (l.mangle.reorder && link->reorder_lane == nullptr) {
            refuse(l, i,
                   fmt::format("mangle.reorder needs a second lane, made at start only for a link with reorder; link \"{}\" has none "
                               "(restart linkem with reorder given)",
                               l.name));
            continue;
        }
        const std::vector<IngressRuntime *> owners = pipeline.ingress_of(link);
        if (owners.size() > 1) {
            refuse(l, i,
                   fmt::format("link \"{}\" is crossed by packets of {} ports; such a link cannot change while linkem runs", l.name,
                               owners.size()));
            continue;
        }
        auto swap = std::make_unique<LinkSwap>();
        swap->link = link;
        swap->config_index = i;
        swap->params = plan->model;
        swap->ring.resize(link->model.queue_ring_for(swap->params));
        swap->mangle = make_mangler(l.mangle, seed, fmt::format("{}@{}", l.name, number));
        swap->min_delay_ns = plan->min_delay_ns;
        swap->old_min_delay_ns = link->min_delay_ns.load(std::memory_order_relaxed);
        swap->plan = std::move(*plan);
        swap->new_disciplines = link->model.has_discipline() &&
                                std::any_of(edit.keys.begin(), edit.keys.end(), [](const auto &kv) { return kv.first == "queue"; });
        if (!owners.empty()) {
            IngressRuntime *in = owners.front();
            auto it = std::find_if(change.pending.begin(), change.pending.end(), [&](const auto &p) { return p->ingress == in; });
            if (it == change.pending.end()) {
                change.pending.push_back(std::make_unique<PendingChange>());
                change.pending.back()->ingress = in;
                it = change.pending.end() - 1;
            }
            (*it)->swaps.push_back(swap.get());
        }
        change.swaps.push_back(std::move(swap));
    }
    if (errors->size() != errors_before) return std::nullopt;
    return change;
}

bool post_change(PreparedChange &change, uint64_t effective_ns) {
    for (const auto &p : change.pending)
        if (p->ingress->change.load(std::memory_order_acquire) != nullptr) return false;
    // The egress plans its naps by min_delay_ns: lowered first, so no packet the change lets through sooner is slept past.
    for (const auto &s : change.swaps)
        if (s->min_delay_ns < s->old_min_delay_ns) s->link->min_delay_ns.store(s->min_delay_ns, std::memory_order_relaxed);
    for (const auto &p : change.pending) {
        p->effective_ns = effective_ns;
        p->ingress->change.store(p.get(), std::memory_order_release);
    }
    return true;
}

bool change_taken(const PreparedChange &change) {
    for (const auto &p : change.pending)
        if (!p->withdrawn && !p->done.load(std::memory_order_acquire)) return false;
    return true;
}

size_t withdraw_change(PreparedChange &change) {
    size_t withdrawn = 0;
    for (const auto &p : change.pending) {
        if (p->withdrawn || p->done.load(std::memory_order_acquire)) continue;
        PendingChange *expected = p.get();
        if (p->ingress->change.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) {
            p->withdrawn = true;
            ++withdrawn;
            continue;
        }
        while (!p->done.load(std::memory_order_acquire)) std::this_thread::yield();  // its thread is swapping: a few hundred ns
    }
    return withdrawn;
}

void decide_held_before(LinkRuntime &link, uint64_t t) {
    if (t != 0) ingress_detail::drain_held(link, t - 1);
}

std::vector<LinkEdit> commit_change(PreparedChange &change, std::vector<LinkPlan> &plans, Config &running) {
    std::vector<LinkEdit> done;
    for (const auto &s : change.swaps) {
        bool withdrawn = false;
        for (const auto &p : change.pending)
            if (p->withdrawn && std::find(p->swaps.begin(), p->swaps.end(), s.get()) != p->swaps.end()) withdrawn = true;
        if (withdrawn) {
            s->link->min_delay_ns.store(s->old_min_delay_ns, std::memory_order_relaxed);
            continue;
        }
        s->link->min_delay_ns.store(s->min_delay_ns, std::memory_order_relaxed);
        std::swap(plans[s->config_index], s->plan);
        if (s->link->model.has_discipline() && !s->new_disciplines) {
            // The running plan keeps the discipline instances the link goes on
            // with (LinkModel::change); the change's own, unused, go with it.
            LinkPlan &now = plans[s->config_index], &old = s->plan;
            std::swap(now.queue, old.queue);
            std::swap(now.queue_instances, old.queue_instances);
            std::swap(now.model.queue, old.model.queue);
            std::swap(now.model.scheduler, old.model.scheduler);
        }
        // A link no ingress reaches (none of its packets arrive) has no thread to swap it: the control side does.
        bool owned = false;
        for (const auto &p : change.pending)
            if (std::find(p->swaps.begin(), p->swaps.end(), s.get()) != p->swaps.end()) owned = true;
        if (!owned) {
            s->offered_at_swap = offered_to_loss(s->link->rx);
            s->link->model.change(s->params, s->ring, s->new_disciplines);
            s->mangle.rng = s->link->mangle.rng;
            std::swap(s->link->mangle, s->mangle);
        }
        running.links[s->config_index] = change.config.links[s->config_index];
        // The summary's expectations follow: the loss stated so far is weighted by the packets judged under it.
        s->link->restate(link_expectations(running, plans[s->config_index]), s->offered_at_swap);
        for (const LinkEdit &e : change.edits)
            if (e.link == s->config_index) done.push_back(e);
    }
    return done;
}

}  // namespace linkem
