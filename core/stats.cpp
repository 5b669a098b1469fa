#include "linkem/stats.hpp"

#include "linkem/units.hpp"

#include <fmt/format.h>

#include <string_view>

namespace linkem {

const char *drop_reason_name(DropReason r) {
    switch (r) {
#define LINKEM_NAME(name, Camel, side, judged, text) \
    case DropReason::k##Camel: return #name;
        LINKEM_LINK_DROPS(LINKEM_NAME)
#undef LINKEM_NAME
    case DropReason::kCount: break;
    }
    return "?";
}

const char *drop_reason_text(DropReason r) {
    switch (r) {
#define LINKEM_TEXT(name, Camel, side, judged, text) \
    case DropReason::k##Camel: return text;
        LINKEM_LINK_DROPS(LINKEM_TEXT)
#undef LINKEM_TEXT
    case DropReason::kCount: break;
    }
    return "?";
}

uint64_t LinkSnapshot::dropped() const {
    uint64_t sum = 0;
    for (uint64_t d : drops) sum += d;
    return sum;
}

uint64_t LinkSnapshot::offered_to_loss() const {
    uint64_t not_judged = 0;
#define LINKEM_NOT_JUDGED(name, Camel, side, judged, text) \
    if (!(judged)) not_judged += drop(DropReason::k##Camel);
    LINKEM_LINK_DROPS(LINKEM_NOT_JUDGED)
#undef LINKEM_NOT_JUDGED
    return rx_packets - not_judged;
}

std::string model_error_text(const ModelError &e) {
    const char *kind = e.kind == LKM_KIND_LOSS        ? "loss"
                       : e.kind == LKM_KIND_DELAY     ? "delay"
                       : e.kind == LKM_KIND_BANDWIDTH ? "bandwidth"
                       : e.kind == LKM_KIND_QUEUE     ? "queue"
                                                      : "?";
    switch (e.what) {
    case ModelError::What::kFinishBeforeStart:
        return fmt::format("{} model \"{}\": finish_ns returned {} for a frame starting at {} ns (before its start)", kind, e.model,
                           e.value, e.packet_ns);
    case ModelError::What::kFinishBeyondLimit:
        return fmt::format("{} model \"{}\": finish_ns returned {} for a frame starting at {} ns (beyond the 2^62 ns limit)", kind, e.model,
                           e.value, e.packet_ns);
    case ModelError::What::kLossVerdict:
        return fmt::format("{} model \"{}\": verdict {} for the packet that left the link at {} ns (must be 0 or 1)", kind, e.model,
                           e.value, e.packet_ns);
    case ModelError::What::kReleaseBeyondLimit:
        return fmt::format(
            "{} model \"{}\": delay_ns {} for the packet that left the link at {} ns (its release would be beyond the "
            "2^62 ns limit)",
            kind, e.model, e.value, e.packet_ns);
    case ModelError::What::kQueueVerdict:
        return fmt::format("{} model \"{}\": verdict {} for the packet it decided at {} ns (must be LKM_QUEUE_PASS, DROP or MARK)", kind,
                           e.model, e.value, e.packet_ns);
    }
    return "?";
}

void LinkExpectations::restate(const LinkExpectations &now, uint64_t offered) {
    const uint64_t judged = offered > offered_before ? offered - offered_before : 0;
    const double lost = loss ? expected_lost_before + *loss * static_cast<double>(judged) : 0;
    const bool unknown = loss_unknown_before || (!loss && judged != 0);
    const uint64_t before = std::max(offered, offered_before);
    *this = now;
    offered_before = before;
    expected_lost_before = lost;
    loss_unknown_before = unknown;
}

std::optional<double> LinkExpectations::loss_over(uint64_t offered) const {
    if (offered_before == 0) return loss;
    if (loss_unknown_before || !loss) return std::nullopt;
    if (offered <= offered_before) return expected_lost_before / static_cast<double>(offered_before);
    return (expected_lost_before + *loss * static_cast<double>(offered - offered_before)) / static_cast<double>(offered);
}

LinkSnapshot snapshot(const std::string &name, const LinkExpectations &expected, const RxCounters &rx, const TxCounters &tx,
                      uint64_t in_flight, bool with_histograms) {
    LinkSnapshot s;
    s.name = name;
    s.expected = expected;
    // Read tx before rx: a packet counted by tx was counted by rx earlier, so
    // a running snapshot may show rx ahead (in flight), never behind.
    s.tx_packets = tx.packets.get();
    s.tx_bytes = tx.bytes.get();
#define LINKEM_TX_DROP(name, Camel, side, judged, text) LINKEM_DROP_IF_TX(side, s.drop(DropReason::k##Camel) = tx.drop_##name.get();)
    LINKEM_LINK_DROPS(LINKEM_TX_DROP)
#undef LINKEM_TX_DROP
    s.late = tx.late.get();
    s.out_of_order = tx.out_of_order.get();
    s.backlogged_wire_bytes = tx.backlogged_wire_bytes.get();
    s.backlogged_sent_ns = tx.backlogged_sent_ns.get();
    s.backlogged_model_ns = tx.backlogged_model_ns.get();
    s.rx_packets = rx.packets.get();
    s.rx_bytes = rx.bytes.get();
#define LINKEM_RX_DROP(name, Camel, side, judged, text) LINKEM_DROP_IF_RX(side, s.drop(DropReason::k##Camel) = rx.drop_##name.get();)
    LINKEM_LINK_DROPS(LINKEM_RX_DROP)
#undef LINKEM_RX_DROP
    s.queue_depth = rx.queue_depth.get();
    s.rx_busy_ns = rx.busy_ns.get();
    s.tx_busy_ns = tx.busy_ns.get();
    s.in_flight = in_flight;
    s.handed_on = rx.handed_on.get();
    s.duplicated = rx.duplicated.get();
    s.corrupted = rx.corrupted.get();
    s.corrupted_bits = rx.corrupted_bits.get();
    s.truncated = rx.truncated.get();
    s.ce_marked = rx.ce_marked.get();
    s.reordered = rx.reordered.get();
    if (with_histograms) {
        s.delay_ns = rx.delay_ns;
        s.lateness_ns = tx.lateness_ns;
    }
    return s;
}

void add_order_keep(LinkSnapshot &s, uint64_t held_back, uint64_t added_ns, uint64_t added_max_ns, const Histogram *held_model_delay_ns,
                    const Histogram *held_delivered_delay_ns, bool with_histograms) {
    s.held_back = held_back;
    s.held_back_added_ns = added_ns;
    s.held_back_max_ns = added_max_ns;
    if (!with_histograms) return;
    s.model_delay_ns = s.delay_ns;
    if (held_model_delay_ns != nullptr && held_delivered_delay_ns != nullptr)
        s.model_delay_ns.replace(*held_delivered_delay_ns, *held_model_delay_ns);
}

namespace {

std::string rate_text(double per_s, const char *unit) { return human_si(per_s, unit); }
std::string ns_text(uint64_t ns) { return human_duration(static_cast<double>(ns)); }
std::string percentiles_text(const Histogram &h, bool with_p999) {
    return fmt::format("p50 {} p99 {}{} max {}", ns_text(h.percentile(0.5)), ns_text(h.percentile(0.99)),
                       with_p999 ? " p99.9 " + ns_text(h.percentile(0.999)) : std::string(), ns_text(h.max()));
}

std::string drops_text(const LinkSnapshot &s) {
    std::string out;
    for (size_t r = 0; r < kDropReasons; ++r)
        out += fmt::format("{}{}={}", out.empty() ? "" : " ", drop_reason_name(static_cast<DropReason>(r)), s.drops[r]);
    return out;
}

Json percentiles_json(const Histogram &h) {
    return {{"count", h.total()}, {"p50", h.percentile(0.5)}, {"p99", h.percentile(0.99)}, {"p999", h.percentile(0.999)}, {"max", h.max()}};
}

double ratio(uint64_t part, uint64_t whole) { return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole); }
double bits_per_s(uint64_t bytes, uint64_t ns) { return ns == 0 ? 0.0 : 8e9 * static_cast<double>(bytes) / static_cast<double>(ns); }
Json json_number(std::optional<double> v) { return v ? Json(*v) : Json(); }
std::string percent(double fraction) { return human_percent(fraction); }

// The link's fields on fidelity (docs/ARCHITECTURE.md "Fidelity"), added to its object o.
void add_fidelity_json(Json &o, const LinkSnapshot &s) {
    const bool rate_measured = s.backlogged_sent_ns != 0 && s.backlogged_model_ns != 0;
    const auto rate = [&](uint64_t ns) {
        return rate_measured ? std::optional<double>(bits_per_s(s.backlogged_wire_bytes, ns)) : std::nullopt;
    };
    Json lateness = percentiles_json(s.lateness_ns);
    lateness["tolerance_ns"] = s.expected.lateness_tolerance_ns;
    lateness["late"] = s.late;
    lateness["late_fraction"] = json_number(ratio(s.late, s.lateness_ns.total()));
    o["lateness_ns"] = std::move(lateness);
    o["rate"] = {{"backlogged_wire_bytes", s.backlogged_wire_bytes},
                 {"backlogged_ns", s.backlogged_sent_ns},
                 {"model_ns", s.backlogged_model_ns},
                 {"achieved_bps", json_number(rate(s.backlogged_sent_ns))},
                 {"configured_bps", json_number(rate(s.backlogged_model_ns))}};
    const uint64_t lost = s.drop(DropReason::kLoss);
    o["loss"] = {{"offered", s.offered_to_loss()},
                 {"lost", lost},
                 {"measured", json_number(ratio(lost, s.offered_to_loss()))},
                 {"expected", json_number(s.expected.loss_over(s.offered_to_loss()))}};
    o["out_of_order"] = s.out_of_order;
    o["order_keep"] = {{"held_back", s.held_back},
                       {"added_ns", s.held_back_added_ns},
                       {"added_max_ns", s.held_back_max_ns},
                       {"model_delay_ns", percentiles_json(s.model_delay_ns)}};
}

// The lateness verdict (stats.hpp summary_text): f = late / transmitted.
std::string schedule_verdict(const LinkSnapshot &s) {
    const uint64_t sent = s.lateness_ns.total();
    const std::string tolerance = ns_text(s.expected.lateness_tolerance_ns);
    if (sent == 0) return fmt::format("no packet transmitted (tolerance {})", tolerance);
    const double late = ratio(s.late, sent);
    const char *verdict = late <= 0.001  ? "good"
                          : late <= 0.01 ? "fair: a few packets late (the host was interrupted now and then)"
                                         : "poor: the host could not keep the schedule";
    return fmt::format("{} of packets within the {} lateness tolerance ({} of {} later): {}", percent(1 - late), tolerance, s.late, sent,
                       verdict);
}

// Why packets found the queue full: the offered load against the link's rate.
std::string queue_drops_text(const LinkSnapshot &s) {
    const uint64_t dropped = s.drop(DropReason::kQueue);
    std::string out =
        fmt::format("  queue drops: {} packets ({} of rx) found the queue full: ", dropped, percent(ratio(dropped, s.rx_packets)));
    const bool link_known = s.backlogged_sent_ns != 0 && s.backlogged_model_ns != 0;
    if (s.run_ns == 0 || !link_known) return out + "packets arrived faster than the link sends them\n";
    const double offered = bits_per_s(s.rx_bytes + s.rx_packets * s.expected.overhead_bytes, s.run_ns);
    const double link = bits_per_s(s.backlogged_wire_bytes, s.backlogged_model_ns);
    const std::string load = fmt::format("the offered load, {} on average over {},", rate_text(offered, "bit/s"), ns_text(s.run_ns));
    if (offered > link)
        return out + fmt::format("{} exceeded the link's {} by {}\n", load, rate_text(link, "bit/s"), percent(offered / link - 1));
    return out + fmt::format("{} stayed below the link's {}: bursts above the link's rate overflowed the queue\n", load,
                             rate_text(link, "bit/s"));
}

// A scheduler's queues: what each sent and lost (the busiest first, at most
// eight flow queues; every class), and the overload drops from the fattest.
std::string scheduler_text(const LinkSnapshot &s) {
    const bool classes = s.scheduler == "drr";
    const auto carried = std::count_if(s.queues.begin(), s.queues.end(),
                                       [](const LinkSnapshot::SchedulerQueue &q) { return q.sent + q.aqm_drops + q.overload_drops != 0; });
    std::string out = fmt::format("  scheduler: {} over {} {}: {} carried packets; {} dropped from the fattest queue on overload\n",
                                  s.scheduler, s.scheduler_queues, classes ? "classes" : "flow queues", carried, s.overload_drops);
    std::vector<const LinkSnapshot::SchedulerQueue *> order;
    uint64_t all_bytes = 0;
    for (const LinkSnapshot::SchedulerQueue &q : s.queues) {
        order.push_back(&q);
        all_bytes += q.sent_bytes;
    }
    if (!classes) std::stable_sort(order.begin(), order.end(), [](const auto *a, const auto *b) { return a->sent_bytes > b->sent_bytes; });
    const size_t shown = classes ? order.size() : std::min<size_t>(order.size(), 8);
    for (size_t i = 0; i < shown; ++i) {
        const LinkSnapshot::SchedulerQueue &q = *order[i];
        const std::string who = classes ? fmt::format("class \"{}\" (weight {})", q.name, q.weight) : fmt::format("flow queue {}", q.queue);
        out += fmt::format(
            "    {}: sent {} ({}, {} of the bytes sent), sojourn mean {}; {} dropped by its discipline, {} on overload, {} marked\n", who,
            q.sent, human_si(static_cast<double>(q.sent_bytes), "B"), percent(ratio(q.sent_bytes, all_bytes)),
            ns_text(q.sent == 0 ? 0 : q.sojourn_sum_ns / q.sent), q.aqm_drops, q.overload_drops, q.marks);
    }
    if (shown < order.size()) out += fmt::format("    ... {} more (the JSON lists every one)\n", order.size() - shown);
    return out;
}

std::string fidelity_text(const LinkSnapshot &s) {
    const Histogram &h = s.lateness_ns;
    std::string out = fmt::format("  lateness (transmit - release): {}\n", percentiles_text(h, true));
    out += fmt::format("  schedule: {}\n", schedule_verdict(s));
    if (s.backlogged_sent_ns != 0 && s.backlogged_model_ns != 0) {
        const double achieved = bits_per_s(s.backlogged_wire_bytes, s.backlogged_sent_ns);
        const double configured = bits_per_s(s.backlogged_wire_bytes, s.backlogged_model_ns);
        const std::string over = ns_text(s.backlogged_sent_ns);
        out += fmt::format("  rate while backlogged: {} achieved, {} configured ({}), {}\n", rate_text(achieved, "bit/s"),
                           rate_text(configured, "bit/s"), percent(achieved / configured),
                           s.backlogged_sent_ns >= kMeaningfulBacklogNs
                               ? "over " + over
                               : fmt::format("measured over only {} of backlog: indicative only (a meaningful figure needs {} or more)",
                                             over, ns_text(kMeaningfulBacklogNs)));
    } else {
        out += "  rate while backlogged: not measured (no packet waited for the link)\n";
    }
    const uint64_t lost = s.drop(DropReason::kLoss);
    const std::optional<double> expected_loss = s.expected.loss_over(s.offered_to_loss());
    out += fmt::format("  loss: {} measured ({} of {} on the link), {} expected\n", percent(ratio(lost, s.offered_to_loss())), lost,
                       s.offered_to_loss(), expected_loss ? percent(*expected_loss) : "not stated by the model");
    out += fmt::format("  order: {} released out of arrival order\n", s.out_of_order);
    if (s.held_back != 0) {
        // order keep: a packet due before its predecessor's release waits for it, which changes the delay distribution.
        const auto ms = [](double ns) { return human_duration(ns); };
        out += fmt::format(
            "  order keep held back {} of {} packets behind a predecessor released later (mean +{}, max +{}): "
            "the delivered delay differs from the model's\n",
            s.held_back, s.delay_ns.total(), ms(static_cast<double>(s.held_back_added_ns) / static_cast<double>(s.held_back)),
            ms(static_cast<double>(s.held_back_max_ns)));
        if (s.model_delay_ns.total() != 0)
            out += fmt::format("  delay, model (before the hold): {}; delivered: {}\n", percentiles_text(s.model_delay_ns, false),
                               percentiles_text(s.delay_ns, false));
    }
    return out;
}

}  // namespace

const char *parse_note_name(size_t bit) {
    static const char *const names[kParseNotes] = {"runt",     "truncated", "non_ip",         "ip_options",
                                                   "ipv6_ext", "fragment",  "later_fragment", "too_many_tags"};
    return bit < kParseNotes ? names[bit] : "?";
}

std::string classify_summary_text(const std::vector<PortClassifySnapshot> &ports) {
    std::string out;
    for (const PortClassifySnapshot &p : ports) {
        // No time at all for packets: a clock that stands still (linkem-sim's virtual time).
        const std::string cost =
            p.packets != 0 && p.classify_ns == 0
                ? "classifying time not measured (virtual time)"
                : fmt::format("{:.1f} ns per packet classifying",
                              p.packets == 0 ? 0.0 : static_cast<double>(p.classify_ns) / static_cast<double>(p.packets));
        out += fmt::format("port {} (classification): {} packets, {}\n", p.port, p.packets, cost);
        std::string hits, by_rule;
        for (size_t r = 0; r < p.rule_hits.size(); ++r) {
            const auto &[rule, n] = p.rule_hits[r];
            const bool described = r < p.rule_words.size();
            hits += described ? fmt::format("{} ({}) {}, ", rule, p.rule_words[r].text, n) : fmt::format("{} {}, ", rule, n);
            if (described && p.rule_words[r].drops)
                by_rule += fmt::format("{}{} ({}) {}", by_rule.empty() ? "" : ", ", rule, p.rule_words[r].text, n);
        }
        out += fmt::format("  matched: {}otherwise ({}) {}\n", hits, p.default_text, p.default_hits);
        if (p.rule_words.size() != p.rule_hits.size() || (by_rule.empty() && p.drop_rule != 0))
            by_rule = fmt::format("{}", p.drop_rule);
        else if (by_rule.empty())
            by_rule = "none (no drop rule applies at this port)";
        // "rule" by rule, the list's other reasons by name.
        std::string here = "by a drop rule: " + by_rule;
#define LINKEM_PORT_DROP_TEXT(name, text) \
    if (std::string_view(#name) != "rule") here += fmt::format("; {} {}", #name, p.drop_##name);
        LINKEM_PORT_DROPS(LINKEM_PORT_DROP_TEXT)
#undef LINKEM_PORT_DROP_TEXT
        out += fmt::format("  dropped here: {}\n", here);
        std::string notes;
        for (size_t b = 0; b < kParseNotes; ++b)
            if (p.notes[b] != 0) notes += fmt::format("{}{} {}", notes.empty() ? "" : ", ", parse_note_name(b), p.notes[b]);
        if (!notes.empty()) out += fmt::format("  frames: {}\n", notes);
    }
    return out;
}

void take_port_drops(PortClassifySnapshot &p, const IngressCounters &c) {
#define LINKEM_PORT_DROP_TAKE(name, text) p.drop_##name = c.drop_##name.get();
    LINKEM_PORT_DROPS(LINKEM_PORT_DROP_TAKE)
#undef LINKEM_PORT_DROP_TAKE
}

Json classify_json(const std::vector<PortClassifySnapshot> &ports) {
    Json out = Json::array();
    for (const PortClassifySnapshot &p : ports) {
        Json rules = Json::array(), drops = Json::object(), frames = Json::object();
        for (const auto &[rule, n] : p.rule_hits) rules.push_back({{"rule", rule}, {"packets", n}});
#define LINKEM_PORT_DROP_JSON(name, text) drops[#name] = p.drop_##name;
        LINKEM_PORT_DROPS(LINKEM_PORT_DROP_JSON)
#undef LINKEM_PORT_DROP_JSON
        for (size_t b = 0; b < kParseNotes; ++b) frames[parse_note_name(b)] = p.notes[b];
        out.push_back({{"port", p.port},
                       {"packets", p.packets},
                       {"bytes", p.bytes},
                       {"classify_ns", p.classify_ns},
                       {"rules", std::move(rules)},
                       {"default_packets", p.default_hits},
                       {"drops", std::move(drops)},
                       {"frames", std::move(frames)}});
    }
    return out;
}

std::string status_line(const LinkSnapshot &now, const LinkSnapshot &before, double seconds) {
    const auto per_s = [&](uint64_t a, uint64_t b) { return seconds > 0 ? static_cast<double>(a - b) / seconds : 0.0; };
    return fmt::format("{}: rx {} {} | tx {} {} | drops {} | queue {} pkts | in flight {}", now.name,
                       rate_text(per_s(now.rx_packets, before.rx_packets), "pps"),
                       rate_text(8 * per_s(now.rx_bytes, before.rx_bytes), "bit/s"),
                       rate_text(per_s(now.tx_packets, before.tx_packets), "pps"),
                       rate_text(8 * per_s(now.tx_bytes, before.tx_bytes), "bit/s"), drops_text(now), now.queue_depth, now.in_flight);
}

std::string summary_text(const std::vector<LinkSnapshot> &links) {
    std::string out;
    for (const LinkSnapshot &s : links) {
        out += fmt::format("link {}: rx {} packets ({}), tx {} packets ({}), in flight {}\n", s.name, s.rx_packets,
                           human_si(static_cast<double>(s.rx_bytes), "B"), s.tx_packets, human_si(static_cast<double>(s.tx_bytes), "B"),
                           s.in_flight);
        out += fmt::format("  drops: {}\n", drops_text(s));
        if (s.drop(DropReason::kQueue) != 0) out += queue_drops_text(s);
        if (s.model_error) out += fmt::format("  model error (first bad value): {}\n", model_error_text(*s.model_error));
        out += fmt::format("  delay (release - arrival): {}\n", percentiles_text(s.delay_ns, false));
        out += fidelity_text(s);
        if (s.discipline)
            out += fmt::format(
                "  queue discipline: {} marked CE, {} dropped ({} at arrival, {} MARKs on packets not ECN-capable); sojourn "
                "(start - arrival): {}\n",
                s.aqm_marks, s.drop(DropReason::kAqmDrop), s.aqm_enqueue_drops, s.aqm_mark_drops, percentiles_text(s.sojourn_ns, false));
        if (!s.scheduler.empty()) out += scheduler_text(s);
        if (!s.flow.empty()) out += fmt::format("  flow: {} ({} flow{} carried)\n", s.flow, s.flows_served, s.flows_served == 1 ? "" : "s");
        if (s.duplicated + s.corrupted + s.truncated + s.ce_marked + s.reordered != 0)
            out += fmt::format("  mangled: duplicated {}, corrupted {} ({} bits), truncated {}, ECN CE-marked {}, reordered {}\n",
                               s.duplicated, s.corrupted, s.corrupted_bits, s.truncated, s.ce_marked, s.reordered);
        if (s.handed_on != 0 || s.duplicated != 0)
            out += fmt::format("  accounting: rx + duplicated = tx + handed on + drops + in flight: {} + {} = {} + {} + {} + {}: {}\n",
                               s.rx_packets, s.duplicated, s.tx_packets, s.handed_on, s.dropped(), s.in_flight,
                               s.balanced() ? "balanced" : "NOT BALANCED");
        else
            out += fmt::format("  accounting: rx = tx + drops + in flight: {} = {} + {} + {}: {}\n", s.rx_packets, s.tx_packets,
                               s.dropped(), s.in_flight, s.balanced() ? "balanced" : "NOT BALANCED");
    }
    return out;
}

namespace {

const char *model_error_what(ModelError::What w) {
    switch (w) {
    case ModelError::What::kFinishBeforeStart: return "finish_before_start";
    case ModelError::What::kFinishBeyondLimit: return "finish_beyond_limit";
    case ModelError::What::kLossVerdict: return "loss_verdict";
    case ModelError::What::kReleaseBeyondLimit: return "release_beyond_limit";
    case ModelError::What::kQueueVerdict: return "queue_verdict";
    }
    return "?";
}

// null, or {"model": "x", "kind": "bandwidth", "what": "finish_before_start", "value": 1, "packet_ns": 1000, "text": "..."}
Json model_error_json(const std::optional<ModelError> &e) {
    if (!e) return nullptr;
    const char *kind = e->kind == LKM_KIND_LOSS    ? "loss"
                       : e->kind == LKM_KIND_DELAY ? "delay"
                       : e->kind == LKM_KIND_QUEUE ? "queue"
                                                   : "bandwidth";
    return {{"model", e->model},
            {"kind", kind},
            {"what", model_error_what(e->what)},
            {"value", e->value},
            {"packet_ns", e->packet_ns},
            {"text", model_error_text(*e)}};
}

}  // namespace

Json link_json(const LinkSnapshot &s) {
    Json drops = Json::object();
    for (size_t r = 0; r < kDropReasons; ++r) drops[drop_reason_name(static_cast<DropReason>(r))] = s.drops[r];
    Json o = {{"name", s.name},
              {"rx_packets", s.rx_packets},
              {"tx_packets", s.tx_packets},
              {"rx_bytes", s.rx_bytes},
              {"tx_bytes", s.tx_bytes},
              {"drops", std::move(drops)},
              {"in_flight", s.in_flight},
              {"balanced", s.balanced()},
              {"rx_stage_ns", s.rx_busy_ns},
              {"tx_stage_ns", s.tx_busy_ns},
              {"delay_ns", percentiles_json(s.delay_ns)}};
    add_fidelity_json(o, s);
    o["handed_on"] = s.handed_on;
    o["mangle"] = {{"duplicated", s.duplicated}, {"corrupted", s.corrupted}, {"corrupted_bits", s.corrupted_bits},
                   {"truncated", s.truncated},   {"ce_marked", s.ce_marked}, {"reordered", s.reordered}};
    o["model_error"] = model_error_json(s.model_error);
    if (!s.flow.empty()) o["flow"] = {{"key", s.flow}, {"flows_served", s.flows_served}};
    if (s.discipline)
        o["queue_discipline"] = {{"marks", s.aqm_marks},
                                 {"drops", s.drop(DropReason::kAqmDrop)},
                                 {"enqueue_drops", s.aqm_enqueue_drops},
                                 {"mark_drops", s.aqm_mark_drops},
                                 {"sojourn_ns", percentiles_json(s.sojourn_ns)}};
    if (!s.scheduler.empty()) {
        Json queues = Json::array();
        for (const LinkSnapshot::SchedulerQueue &q : s.queues) {
            Json one = {{"queue", q.queue},
                        {"sent", q.sent},
                        {"sent_bytes", q.sent_bytes},
                        {"sojourn_mean_ns", q.sent == 0 ? 0 : q.sojourn_sum_ns / q.sent},
                        {"aqm_drops", q.aqm_drops},
                        {"overload_drops", q.overload_drops},
                        {"marks", q.marks}};
            if (!q.name.empty()) {
                one["name"] = q.name;
                one["weight"] = q.weight;
            }
            queues.push_back(std::move(one));
        }
        o["scheduler"] = {{"kind", s.scheduler},
                          {"queues", s.scheduler_queues},
                          {"overload_drops", s.overload_drops},
                          {"active_queues", std::move(queues)}};
    }
    return o;
}

std::string stats_json(const std::vector<LinkSnapshot> &links, const Json &extra) {
    Json doc = {{"links", Json::array()}};
    for (const LinkSnapshot &s : links) doc["links"].push_back(link_json(s));
    if (extra.is_object())
        for (const auto &[key, value] : extra.items()) doc[key] = value;
    // Names come from the configuration and the system: a byte that is not UTF-8 becomes U+FFFD, never an exception.
    return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace linkem
