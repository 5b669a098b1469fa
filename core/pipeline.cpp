#include "linkem/pipeline.hpp"

#include "linkem/pipeline_ingress.hpp"

#include "linkem/plugin_host.hpp"
#include "linkem/seed.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {

LinkMangler make_mangler(const Mangle &m, uint64_t seed, const std::string &name) {
    // Each random stream from the seed, the link's runtime name and what it is for.
    LinkMangler mg;
    if (m.truncate_bytes) mg.truncate_bytes = *m.truncate_bytes;
    mg.ecn = m.ecn;
    mg.rng = stream_rng(seed, name, Stream::kMangle);
    if (m.duplicate) {
        mg.duplicate_on = true;
        mg.duplicate = Chance::of(m.duplicate->value());
    }
    if (m.reorder) {
        mg.reorder_on = true;
        mg.reorder = Chance::of(m.reorder->value());
        mg.reorder_extra_ns = static_cast<uint64_t>(m.reorder_extra_delay.ns);
    }
    const uint64_t corrupt_seed = stream_seed(seed, name, Stream::kCorrupt);
    if (m.corrupt) mg.corrupt = Corruptor::per_packet(m.corrupt->value(), corrupt_seed);
    if (m.corrupt_ber) mg.corrupt = Corruptor::bit_error_rate(m.corrupt_ber->value(), corrupt_seed);
    return mg;
}

// fq: a hash of the whole 5-tuple (FQ-CoDel's flows); drr: the first class the packet matches, else the last.
uint32_t LinkRuntime::QueueChoice::of(const PacketFields &f) const {
    if (flows != 0) {
        // A fragmented datagram's fragments share a queue: ports are left out for all of
        // them, as only the first carries them (Linux's flow hash does the same).
        static constexpr FlowKeySpec kFiveTuple{32, 32, 128, 128, true, true, true};
        static constexpr FlowKeySpec kNoPorts{32, 32, 128, 128, true, false, false};
        const FlowKeySpec &spec = (f.notes & kNoteFragment) != 0 ? kNoPorts : kFiveTuple;
        return static_cast<uint32_t>(FlowTable::hash(flow_key(spec, f)) % flows);
    }
    for (size_t c = 0; c + 1 < classes.size(); ++c)
        if (rule_matches(classes[c], 0, f)) return static_cast<uint32_t>(c);
    return static_cast<uint32_t>(classes.size() - 1);
}

LinkRuntime *PipelineRuntime::add_link(const std::string &name, const LinkPlan &plan, const Link *l, size_t to_port, void *arena,
                                       void *reorder_arena, uint64_t seed) {
    links_.push_back(std::make_unique<LinkRuntime>(name, plan.model, plan.min_delay_ns, link_expectations(config_, plan)));
    LinkRuntime *link = links_.back().get();
    if (arena != nullptr) {
        lanes_.push_back(std::make_unique<Lane>(link, arena, plan.arena_bytes, to_port));
        link->lane = lanes_.back().get();
    }
    if (reorder_arena != nullptr) {
        lanes_.push_back(std::make_unique<Lane>(link, reorder_arena, plan.arena_bytes, to_port));
        link->reorder_lane = lanes_.back().get();
    }
    if (l == nullptr) return link;
    link->mangle = make_mangler(l->mangle, seed, name);
    if (l->discipline_ecn) link->mangle.ecn = true;  // the ingress reads the ECN field; the discipline marks (no tail-drop marking)
    if (l->scheduler) {
        if (l->scheduler->kind == QueueSchedulerSpec::Kind::kFq) link->queue_choice.flows = l->scheduler->flows;
        for (const QueueClass &c : l->scheduler->classes) {
            link->queue_choice.classes.push_back(c.match);
            link->queue_choice.class_names.push_back(c.name);
            link->queue_choice.class_weights.push_back(c.weight);
        }
    }
    if (!l->per_flow) link->model.keep_order_histograms();  // a runtime change may add a delay model
    return link;
}

// A LinkRuntime per link (per instance of a per-flow template, and one per
// pass lane), arenas for the links that end a path, the paths, and the state
// of each arrival and destination port.
std::unique_ptr<PipelineRuntime> PipelineRuntime::build(const Config &config, const std::vector<LinkPlan> &plans, uint64_t seed,
                                                        const ArenaAllocator &allocate, std::vector<std::string> *notes) {
    std::unique_ptr<PipelineRuntime> p(new PipelineRuntime(config));
    p->plans_ = &plans;
    p->routes_ = plan_routes(config);
    const RoutePlan &routes = p->routes_;
    const auto port_of = [&](const std::string &name) {
        for (size_t k = 0; k < config.ports.size(); ++k)
            if (config.ports[k].name == name) return k;
        return size_t{0};  // unreachable: the loader checked every port name
    };
    const auto note = [&](std::string line) {
        if (notes != nullptr) notes->push_back(std::move(line));
    };

    std::vector<LinkRuntime *> by_config_link(config.links.size(), nullptr);  // nullptr for a per-flow template
    std::vector<FlowTemplate *> template_of(config.links.size(), nullptr);
    for (size_t i = 0; i < config.links.size(); ++i) {
        const Link &l = config.links[i];
        const LinkPlan &plan = plans[i];
        const bool ends = routes.ends_path[i];
        const size_t lanes = l.mangle.reorder ? 2 : 1;
        if (l.per_flow) {
            // One memory block for every instance's lanes.
            const uint64_t each = plan.arena_bytes;
            uint8_t *block = static_cast<uint8_t *>(allocate("link " + l.name, each * lanes * l.per_flow->max_flows));
            if (block == nullptr) return nullptr;
            p->flow_templates_.push_back(
                std::make_unique<FlowTemplate>(l.per_flow->key, l.per_flow->max_flows, static_cast<uint64_t>(l.per_flow->idle_timeout.ns)));
            FlowTemplate *t = p->flow_templates_.back().get();
            template_of[i] = t;
            if (plan.aggregate)
                t->aggregate = p->add_link(l.name + "/aggregate", *plan.aggregate, nullptr, port_of(l.to), nullptr, nullptr, seed);
            for (uint32_t k = 0; k < l.per_flow->max_flows; ++k) {
                uint8_t *mine = block + each * lanes * k;
                LinkRuntime *link = p->add_link(fmt::format("{}#{}", l.name, k), plan.flow_instances[k], &l, port_of(l.to), mine,
                                                lanes == 2 ? mine + each : nullptr, seed);
                link->flows = &t->table;
                link->flow_key_spec = &t->key;
                link->flow_index = k;
                t->instances.push_back(link);
            }
            note(fmt::format("link {}: {} -> {}, per flow: up to {} instances{}, arenas {} in all", l.name, l.from, l.to,
                             l.per_flow->max_flows, plan.aggregate ? " behind " + l.name + "/aggregate" : "",
                             ByteSize{each * lanes * l.per_flow->max_flows}.to_string()));
            continue;
        }
        void *arena = ends ? allocate("link " + l.name, plan.arena_bytes) : nullptr;
        void *reorder = ends && lanes == 2 ? allocate("link " + l.name + " (reorder)", plan.arena_bytes) : nullptr;
        if (ends && (arena == nullptr || (lanes == 2 && reorder == nullptr))) return nullptr;
        by_config_link[i] = p->add_link(l.name, plan, &l, l.to.empty() ? 0 : port_of(l.to), arena, reorder, seed);
        if (LinkRuntime *link = by_config_link[i]; link->model.has_discipline()) {  // its held frames' store
            const uint64_t bytes = held_frames_bytes(link->model.held_capacity());
            void *store = allocate("link " + l.name + " (held queue)", bytes);
            if (store == nullptr) return nullptr;
            link->held_frames = std::make_unique<HeldFrames>(store, link->model.held_capacity());
        }
        note(fmt::format("link {}: {} -> {}, {}", l.name, l.from.empty() ? "(chain)" : l.from, l.to.empty() ? "(chain)" : l.to,
                         ends ? fmt::format("arena {}", ByteSize{plan.arena_bytes * lanes}.to_string()) : "inner hop, no arena"));
    }

    // Paths; a pass lane is a link with no model, released as it arrives.
    static const LinkPlan kPassPlan = [] {
        LinkPlan plan;
        plan.arena_bytes = kPassLaneArenaBytes;
        return plan;
    }();
    for (const Path &path_plan : routes.paths) {
        auto path = std::make_unique<PathRuntime>();
        if (path_plan.hops.front() == Path::kPassLane) {
            void *arena = allocate("pass lane", kPassPlan.arena_bytes);
            if (arena == nullptr) return nullptr;
            path->hops.push_back(p->add_link(fmt::format("pass-{}", config.ports[path_plan.from_port].name), kPassPlan, nullptr,
                                             path_plan.to_port, arena, nullptr, seed));
        } else if (template_of[path_plan.hops.front()] != nullptr) {
            path->flows = template_of[path_plan.hops.front()];
            if (path->flows->aggregate != nullptr) path->hops.push_back(path->flows->aggregate);
            path->flow_hop = path->hops.size();
            path->hops.push_back(path->flows->instances.front());  // replaced per packet by the flow's instance
        } else {
            for (size_t i : path_plan.hops) path->hops.push_back(by_config_link[i]);
        }
        p->paths_.push_back(std::move(path));
    }

    for (const IngressPlan &plan : routes.ingress) {
        auto in = std::make_unique<IngressRuntime>(config.ports[plan.port].name, plan.port, plan);
        for (auto &path : p->paths_) in->paths.push_back(path.get());
        in->needs_fields = plan.needs_fields;
        const auto path_needs_fields = [&](const RouteAction &a) {
            if (a.kind != RouteAction::Kind::kPath) return false;
            const PathRuntime &path = *p->paths_[a.path];
            return path.flows != nullptr || path.hops.back()->mangle.ecn || path.hops.back()->queue_choice.any();
        };
        for (const CompiledRule &r : plan.rules) in->needs_fields = in->needs_fields || path_needs_fields(r.action);
        in->needs_fields = in->needs_fields || path_needs_fields(plan.default_action);
        const auto held = [&](const RouteAction &a) {
            if (a.kind != RouteAction::Kind::kPath) return;
            for (LinkRuntime *hop : p->paths_[a.path]->hops)
                if (hop->held_frames && std::find(in->held_links.begin(), in->held_links.end(), hop) == in->held_links.end())
                    in->held_links.push_back(hop);
        };
        for (const CompiledRule &r : plan.rules) held(r.action);
        held(plan.default_action);
        if (plan.rules.empty() && !in->needs_fields && plan.default_action.kind == RouteAction::Kind::kPath)
            in->direct = p->paths_[plan.default_action.path].get();  // flows need fields, so it has none
        p->ingress_.push_back(std::move(in));
    }
    p->by_config_link_ = by_config_link;
    for (size_t port : routes.egress_ports) {
        auto out = std::make_unique<EgressRuntime>();
        out->port = port;
        for (const auto &lane : p->lanes_)
            if (lane->to_port == port) out->lanes.push_back(lane.get());
        p->egress_.push_back(std::move(out));
    }
    return p;
}

std::vector<IngressRuntime *> PipelineRuntime::ingress_of(const LinkRuntime *link) const {
    std::vector<IngressRuntime *> out;
    for (const auto &in : ingress_) {
        bool crosses = false;
        const auto check = [&](const RouteAction &a) {
            if (a.kind != RouteAction::Kind::kPath) return;
            for (const LinkRuntime *hop : paths_[a.path]->hops) crosses = crosses || hop == link;
        };
        for (const CompiledRule &r : in->rules) check(r.action);
        check(in->default_action);
        if (crosses) out.push_back(in.get());
    }
    return out;
}

uint64_t PipelineRuntime::longest_stay_ns(uint64_t beyond_delay_ns) const {
    uint64_t longest = 0;
    for (const Path &path : routes_.paths) {
        if (path.hops.front() == Path::kPassLane) continue;
        uint64_t stay_ns = 0;  // a path's stay is the sum of its hops'
        for (size_t i : path.hops) {
            const LinkPlan &p = (*plans_)[i];
            stay_ns += std::min(p.max_delay_ns, p.min_delay_ns + beyond_delay_ns) +
                       static_cast<uint64_t>(config_.links[i].mangle.reorder_extra_delay.ns);
            if (p.aggregate) stay_ns += std::min(p.aggregate->max_delay_ns, beyond_delay_ns);
        }
        longest = std::max(longest, stay_ns);
    }
    return longest;
}

std::vector<LinkSnapshot> PipelineRuntime::link_snapshots(uint64_t run_ns, bool with_histograms) const {
    std::vector<LinkSnapshot> out;
    for (const auto &l : links_) {
        if (l->flows != nullptr && l->flows->flows_served(l->flow_index) == 0) continue;
        LinkSnapshot s = snapshot(l->name, l->expectations(), l->rx, l->tx, l->in_flight(), with_histograms);
        s.model_error = l->model.first_model_error();
        s.run_ns = run_ns;
        if (l->model.has_discipline()) {
            const QueueDisciplineStats &q = l->model.discipline_stats();
            s.discipline = true;
            s.aqm_marks = q.marks.load(std::memory_order_relaxed);
            s.aqm_enqueue_drops = q.enqueue_drops.load(std::memory_order_relaxed);
            s.aqm_mark_drops = q.mark_drops.load(std::memory_order_relaxed);
            if (with_histograms) s.sojourn_ns = *q.sojourn_ns;
            const LinkRuntime::QueueChoice &choice = l->queue_choice;
            for (uint32_t i = 0; i < q.queue_count; ++i) {  // a scheduler's queues that carried a packet
                const QueueDisciplineStats::Queue &f = q.queues[i];
                LinkSnapshot::SchedulerQueue one;
                one.queue = i;
                if (i < choice.class_names.size()) {
                    one.name = choice.class_names[i];
                    one.weight = choice.class_weights[i];
                }
                one.sent = f.sent.load(std::memory_order_relaxed);
                one.sent_bytes = f.sent_bytes.load(std::memory_order_relaxed);
                one.sojourn_sum_ns = f.sojourn_sum_ns.load(std::memory_order_relaxed);
                one.aqm_drops = f.aqm_drops.load(std::memory_order_relaxed);
                one.overload_drops = f.overload_drops.load(std::memory_order_relaxed);
                one.marks = f.marks.load(std::memory_order_relaxed);
                if (one.sent + one.aqm_drops + one.overload_drops != 0 || one.weight != 0)  // every class; the flow queues used
                    s.queues.push_back(std::move(one));
            }
            if (q.queue_count != 0) {
                s.scheduler = choice.flows != 0 ? "fq" : "drr";
                s.scheduler_queues = q.queue_count;
                s.overload_drops = q.overload_drops.load(std::memory_order_relaxed);
            }
        }
        const OrderKeepStats &held = l->model.order_keep();
        add_order_keep(s, held.held_back.load(std::memory_order_relaxed), held.added_ns.load(std::memory_order_relaxed),
                       held.added_max_ns.load(std::memory_order_relaxed), held.held_model_delay_ns.get(),
                       held.held_delivered_delay_ns.get(), with_histograms);
        if (l->flows != nullptr) {
            s.flow = to_string(*l->flow_key_spec, l->flows->key_of(l->flow_index));
            s.flows_served = l->flows->flows_served(l->flow_index);
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<PortClassifySnapshot> PipelineRuntime::classify_snapshots() const {
    std::vector<PortClassifySnapshot> out;
    for (const auto &in : ingress_) {
        const IngressCounters &c = in->counters;
        PortClassifySnapshot p;
        p.port = in->port_name;
        p.packets = c.packets.get();
        p.bytes = c.bytes.get();
        p.classify_ns = c.classify_ns.get();
        p.default_hits = c.default_hits.get();
        take_port_drops(p, c);
        for (size_t b = 0; b < kParseNotes; ++b) p.notes[b] = c.notes[b].get();
        for (size_t r = 0; r < in->rules.size(); ++r) {
            const Rule &rule = config_.rules[in->rules[r].rule_index];
            p.rule_hits.emplace_back(rule.path, c.rule_hits[r].get());
            p.rule_words.push_back({describe_rule(config_, rule), rule.action == Rule::Action::kDrop});
        }
        p.default_text = in->default_text;
        out.push_back(std::move(p));
    }
    return out;
}

bool PipelineRuntime::holding() const {
    for (const auto &lane : lanes_)
        if (lane->arena.occupancy() != 0) return true;
    return false;
}

uint64_t PipelineRuntime::drop_held_at_shutdown() {
    uint64_t all = 0;
    for (auto &link : links_) {  // an overload's drops not handed out yet: counted as such
        Decided evicted[kMaxBurst];
        if (link->held_frames)
            while (const uint32_t n = link->model.hand_out_evicted(evicted, kMaxBurst)) ingress_detail::emit_decided(*link, evicted, n);
    }
    for (auto &link : links_)  // what a queue discipline still holds: arrived, never decided
        if (const uint64_t held = link->model.held_packets(); held != 0) {
            link->rx.packets.add(held);
            link->model.for_each_held([&](const HeldPacket &h) { link->rx.bytes.add(h.len_bytes); });
            link->tx.drop_shutdown.add(held);
            link->model.forget_held();
            all += held;
        }
    for (auto &lane : lanes_) {
        uint64_t discarded = 0;
        for (; lane->arena.front() != nullptr; lane->arena.pop()) ++discarded;
        lane->arena.publish_consumed();
        lane->link->tx.drop_shutdown.add(discarded);
        all += discarded;
    }
    return all;
}

}  // namespace linkem
