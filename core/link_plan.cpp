#include "linkem/link_plan.hpp"

#include "linkem/memory_budget.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace linkem {
namespace {

__extension__ using u128 = unsigned __int128;

constexpr uint64_t kMaxDelayBoundNs = INT64_MAX;  // a stated largest delay beyond it counts as none

uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

}  // namespace

uint64_t arena_record_bytes(uint64_t packets, uint64_t wire_bytes, uint32_t overhead_bytes) {
    // A record is a 16-byte header and the frame padded to 16 bytes: at most
    // the frame + 31 bytes, and a frame is its wire bytes less the overhead.
    if (packets == 0) return 0;
    const uint64_t extra_each = overhead_bytes >= 31 ? 0 : 31 - overhead_bytes;
    const u128 bound = static_cast<u128>(wire_bytes) + static_cast<u128>(packets) * extra_each;
    return bound > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(bound);
}

std::optional<LinkPlan> plan_link(const Config &config, size_t link_index, uint64_t seed, const PluginHost &host,
                                  std::vector<ConfigError> *errors, const std::string &stream_name) {
    const Link &link = config.links.at(link_index);
    const size_t errors_before = errors->size();
    LinkPlan plan;
    LinkModelParams &p = plan.model;
    p.overhead_bytes = link.overhead_bytes;
    p.queue_limit_packets = link.queue.packets.value_or(0);
    p.queue_limit_bytes = link.queue.bytes.value_or(0);
    p.ecn_mark = link.mangle.ecn;

    // The bandwidth model first: its stated rate is the others' context.
    ModelContext context;
    context.overhead_bytes = link.overhead_bytes;
    context.max_burst = kMaxBurst;
    auto make = [&](const std::optional<ModelSpec> &spec, uint32_t kind, std::unique_ptr<ModelInstance> &owner, ModelRef &ref) {
        if (!spec) return;
        owner = host.instantiate(config, *spec, kind, stream_name.empty() ? link.name : stream_name, seed, errors, context);
        if (owner) ref = {&owner->model(), owner->state(), owner->reset_callback(), owner->carry_callback()};
    };
    make(link.bandwidth, LKM_KIND_BANDWIDTH, plan.bandwidth, p.bandwidth);
    const std::optional<Bounds> rate_bounds = plan.bandwidth ? plan.bandwidth->rate_bounds() : std::nullopt;
    if (rate_bounds && rate_bounds->min == rate_bounds->max) context.link_rate_bps = rate_bounds->max;
    if (link.scheduler) {  // several queues, each with an instance of the discipline (its own random stream)
        const QueueSchedulerSpec &s = *link.scheduler;
        QueueScheduler &q = p.scheduler;
        q.queues = s.queues();
        q.new_flow_priority = s.kind == QueueSchedulerSpec::Kind::kFq;
        for (uint32_t i = 0; i < q.queues; ++i)
            q.quantum_bytes.push_back(static_cast<uint32_t>(s.quantum_bytes * (s.classes.empty() ? 1 : s.classes[i].weight)));
        for (uint32_t i = 0; link.discipline && i < q.queues; ++i) {
            plan.queue_instances.push_back(
                host.instantiate(config, *link.discipline, LKM_KIND_QUEUE, fmt::format("{}/q{}", link.name, i), seed, errors, context));
            const ModelInstance *made = plan.queue_instances.back().get();
            if (made == nullptr) break;  // its errors are the same for every queue: said once
            q.disciplines.push_back({&made->model(), made->state(), made->reset_callback(), made->carry_callback()});
        }
    } else {
        make(link.discipline, LKM_KIND_QUEUE, plan.queue, p.queue);
    }
    p.link_rate_bps = context.link_rate_bps;
    if (link.holds_queue()) p.ecn_mark = false;  // a discipline marks by its own verdicts (the loader refuses mangle.ecn beside one)
    make(link.loss, LKM_KIND_LOSS, plan.loss, p.loss);
    make(link.delay, LKM_KIND_DELAY, plan.delay, p.delay);
    p.order_drop = link.order_drop;
    if (errors->size() != errors_before) return std::nullopt;

    // Sizing (link_plan.hpp), from what the models state (lkm_ext_bounds), assumed values otherwise.
    // The delay line fills at the highest rate, and a full queue drains at the lowest (none: unknown).
    const std::optional<uint64_t> rate =
        rate_bounds && rate_bounds->max != LKM_UNBOUNDED ? std::optional<uint64_t>(rate_bounds->max) : std::nullopt;
    const uint64_t drain_rate = rate_bounds ? rate_bounds->min : 0;
    std::optional<Bounds> delay_bounds = plan.delay ? plan.delay->delay_bounds() : std::optional<Bounds>(Bounds{0, 0});
    if (delay_bounds && delay_bounds->max > kMaxDelayBoundNs) delay_bounds->max = LKM_UNBOUNDED;  // no use for sizing
    const bool delay_known = delay_bounds && delay_bounds->max != LKM_UNBOUNDED;
    const uint64_t delay_ns = delay_known ? delay_bounds->max : kAssumedDelayNs;
    plan.min_delay_ns = delay_bounds ? delay_bounds->min : 0;

    // The queue: what its limits let in (a bandwidth model's queue has the same limits, whatever its rate).
    const uint64_t overhead = p.overhead_bytes;
    const uint64_t queue_packets = link.holds_queue() ? LinkModel::held_slots_for(p) : LinkModel::queue_slots_for(p);
    uint64_t queue_wire_bytes = 0;
    if (queue_packets != 0) {
        queue_wire_bytes = queue_packets * (kMaxFrameBytes + overhead);
        if (p.queue_limit_bytes != 0) queue_wire_bytes = std::min(queue_wire_bytes, p.queue_limit_bytes * (p.ecn_mark ? 2 : 1));
    }
    uint64_t drain_ns = 0;
    if (drain_rate != 0 && queue_wire_bytes != 0) {
        const u128 exact = static_cast<u128>(queue_wire_bytes) * 8 * 1'000'000'000u / drain_rate;
        drain_ns = exact > static_cast<u128>(INT64_MAX) ? static_cast<uint64_t>(INT64_MAX) : static_cast<uint64_t>(exact);
    }  // a bandwidth model without a lowest rate: its drain time is unknown, the longest stay counts the delay alone
    plan.max_delay_ns = std::min<uint64_t>(delay_ns + drain_ns, INT64_MAX);

    // The delay line: what leaves the link during the largest delay, at the
    // link's highest rate, else at the assumed line rate, in frames of at least 60 bytes.
    const uint64_t line_rate = rate ? *rate : kAssumedLineRateBps;
    const uint64_t line_min_wire = 60 + overhead;
    const u128 line_bytes_exact = static_cast<u128>(line_rate) * delay_ns / (8 * 1'000'000'000ULL);
    const uint64_t line_wire_bytes = line_bytes_exact > (u128{1} << 62) ? uint64_t{1} << 62 : static_cast<uint64_t>(line_bytes_exact);
    const uint64_t line_packets = (line_wire_bytes + line_min_wire - 1) / line_min_wire;

    const uint64_t burst_bytes = 2ULL * config.pipeline.burst * DelayArena::record_bytes(kMaxFrameBytes);
    const uint64_t queue_records = arena_record_bytes(queue_packets, queue_wire_bytes, overhead);
    const uint64_t line_records = arena_record_bytes(line_packets, line_wire_bytes, overhead);
    const uint64_t min_record = DelayArena::record_bytes(64);
    if (link.arena_packets) {
        plan.arena_bytes = DelayArena::round_capacity(*link.arena_packets * min_record);
        plan.arena_reason = fmt::format("set by links[{}].arena, {}B per minimum-size packet", link_index, min_record);
    } else {
        const uint64_t needed =
            saturating_add(saturating_add(queue_records, line_records), burst_bytes + DelayArena::record_bytes(kMaxFrameBytes));
        plan.arena_bytes = DelayArena::round_capacity(needed);
        const std::string queue_text =
            queue_packets == 0
                ? std::string(link.bandwidth ? "no queue limit" : "no queue (no bandwidth limit)")
                : fmt::format("queue {} packets, {} of wire bytes{}: {} as records", queue_packets, bytes_text(queue_wire_bytes),
                              p.ecn_mark ? " (twice the limits: ecn)" : "", bytes_text(queue_records));
        plan.arena_reason = fmt::format(
            "{} + delay line {}{} x {}{} = {} of frames, {} as records + 2 bursts and a wrap of {}B records, {} = {}, rounded up to a "
            "power of two",
            queue_text, Rate{line_rate}.to_string(), rate ? "" : " (assumed line rate)",
            Duration{static_cast<int64_t>(delay_ns)}.to_string(), delay_known ? "" : " (assumed delay; set arena: to size it)",
            bytes_text(line_wire_bytes), bytes_text(line_records), DelayArena::record_bytes(kMaxFrameBytes),
            bytes_text(burst_bytes + DelayArena::record_bytes(kMaxFrameBytes)), bytes_text(needed));
    }
    return plan;
}

bool plan_flow_instances(const Config &config, size_t link_index, uint64_t seed, const PluginHost &host, LinkPlan &plan,
                         std::vector<ConfigError> *errors) {
    const Link &link = config.links.at(link_index);
    if (!link.per_flow) return true;
    for (uint32_t k = 0; k < link.per_flow->max_flows; ++k) {
        std::optional<LinkPlan> instance = plan_link(config, link_index, seed, host, errors, fmt::format("{}#{}", link.name, k));
        if (!instance) return false;
        plan.flow_instances.push_back(std::move(*instance));
    }
    if (link.per_flow->aggregate) {
        // The template with a constant rate and nothing else, planned like any link.
        Config shared = config;
        Link &l = shared.links.at(link_index);
        ModelSpec rate{"constant", true, {}, fmt::format("links[{}].per_flow.aggregate", link_index), link.pos};
        rate.params.push_back({"rate", rate.path, link.pos, {link.per_flow->aggregate->to_string()}, false});
        l.bandwidth = rate;
        l.delay.reset();
        l.loss.reset();
        l.mangle = Mangle{};
        l.mangle.ecn = link.mangle.ecn;  // a full shared queue marks CE too
        l.per_flow.reset();
        std::optional<LinkPlan> aggregate = plan_link(shared, link_index, seed, host, errors, link.name + "/aggregate");
        if (!aggregate) return false;
        plan.aggregate = std::make_unique<LinkPlan>(std::move(*aggregate));
    }
    // The template itself carries no packet: every flow has an instance of
    // its own. Its models, made by plan_link() to size the arena and check the
    // parameters, go (flow_instances[0] tells which models the flows run).
    plan.bandwidth.reset();
    plan.loss.reset();
    plan.delay.reset();
    plan.queue.reset();
    plan.model.bandwidth = plan.model.loss = plan.model.delay = plan.model.queue = ModelRef{};
    return true;
}

LinkExpectations link_expectations(const Config &config, const LinkPlan &plan) {
    LinkExpectations e;
    e.lateness_tolerance_ns = static_cast<uint64_t>(config.stats.lateness_tolerance.ns);
    e.loss = plan.loss ? plan.loss->expected_loss() : std::optional<double>(0.0);
    e.overhead_bytes = plan.model.overhead_bytes;
    return e;
}

namespace {

// A timeline step's key from the step's link into the link as the steps before left it.
void take_link_key(Link &to, const Link &from, const std::string &key) {
    if (key == "bandwidth") to.bandwidth = from.bandwidth;
    if (key == "overhead") {
        to.overhead_bytes = from.overhead_bytes;
        to.overhead_name = from.overhead_name;
    }
    if (key == "queue") to.queue = from.queue;
    if (key == "delay") to.delay = from.delay;
    if (key == "order") to.order_drop = from.order_drop;
    if (key == "loss") to.loss = from.loss;
    if (key == "mangle") {
        to.mangle = from.mangle;
        to.mangle_pos = from.mangle_pos;
    }
}

}  // namespace

std::optional<std::vector<LinkPlan>> plan_links(const Config &config, uint64_t seed, const PluginHost &host,
                                                std::vector<ConfigError> *errors) {
    std::vector<LinkPlan> plans;
    std::vector<ConfigError> found;
    for (size_t i = 0; i < config.links.size(); ++i) {
        if (std::optional<LinkPlan> plan = plan_link(config, i, seed, host, &found)) {
            plan_flow_instances(config, i, seed, host, *plan, &found);
            plans.push_back(std::move(*plan));
        }
    }
    for (const Rule &r : config.rules)  // a held queue ends its path: the pipeline decides it alone (not yet in a chain)
        if (r.action == Rule::Action::kChain)
            for (size_t h = 0; h < r.links.size(); ++h)
                if (config.links.at(r.links[h]).holds_queue())
                    found.push_back({config.file, h < r.link_pos.size() ? r.link_pos[h] : r.pos, r.path + ".chain",
                                     fmt::format("link \"{}\" has a queue discipline: it cannot be a hop of a chain yet (give it "
                                                 "its own rule with link:)",
                                                 config.links[r.links[h]].name)});
    // Each timeline step's models, made once now so their parameters are checked where they are written, and
    // the arena each instant needs against the link's: the steps in order, each over what the ones before left
    // (twice through a repeating timeline, whose second pass starts from the first's end).
    if (found.empty() && !config.timeline.steps.empty()) {
        Config stepped = config;
        for (int pass = 0; pass < (config.timeline.repeat ? 2 : 1) && found.empty(); ++pass)
            for (const TimelineStep &step : config.timeline.steps) {
                const size_t i = step.link_index;
                Link &l = stepped.links[i];
                for (const auto &[key, value] : step.set) take_link_key(l, step.link, key);
                l.arena_packets.reset();
                const size_t before = found.size();
                std::optional<LinkPlan> plan = plan_link(stepped, i, seed, host, &found, step.link.name + "@timeline");
                l.arena_packets = config.links[i].arena_packets;
                if (found.size() == before && plan && plan->arena_bytes > plans[i].arena_bytes)
                    found.push_back(
                        {config.file, step.pos, step.path,
                         fmt::format("this step needs an arena of {} ({}); link \"{}\" has {}: give it headroom with arena: "
                                     "(for instance arena: {} packets)",
                                     ByteSize{plan->arena_bytes}.to_string(), plan->arena_reason, step.link.name,
                                     ByteSize{plans[i].arena_bytes}.to_string(), plan->arena_bytes / DelayArena::record_bytes(64))});
                if (found.size() != before) break;
            }
    }
    std::stable_sort(found.begin(), found.end(), [](const ConfigError &a, const ConfigError &b) {
        return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
    });
    const bool ok = found.empty();
    errors->insert(errors->end(), found.begin(), found.end());
    if (!ok) return std::nullopt;
    return plans;
}

}  // namespace linkem
