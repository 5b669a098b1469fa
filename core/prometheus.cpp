#include "linkem/prometheus.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace linkem {
namespace {

constexpr int kFirstBoundBits = 6;  // le = 63 ns
constexpr int kLastBoundBits = 36;  // le = 68.7 s

using Labels = std::vector<std::pair<const char *, std::string>>;

// The text being built: families one after the other, each with its samples.
class Exposition {
  public:
    void family(const char *name, const char *type, std::string_view help) {
        std::string escaped;
        for (char c : help) escaped += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
        out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escaped, name, type);
    }
    void sample(std::string_view name, const Labels &labels, std::string_view value) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            for (size_t i = 0; i < labels.size(); ++i)
                out_ += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", labels[i].first, prometheus_label_value(labels[i].second));
            out_ += '}';
        }
        out_ += fmt::format(" {}\n", value);
    }
    void sample(std::string_view name, const Labels &labels, uint64_t value) { sample(name, labels, fmt::format("{}", value)); }
    void sample(std::string_view name, const Labels &labels, double value) { sample(name, labels, fmt::format("{}", value)); }

    // One counter (or gauge) per link.
    template <class Get>
    void per_link(const char *name, const char *type, std::string_view help, const std::vector<LinkSnapshot> &links, Get get) {
        family(name, type, help);
        for (const LinkSnapshot &s : links) sample(name, {{"link", s.name}}, get(s));
    }
    template <class Get>
    void per_port(const char *name, const char *type, std::string_view help, const std::vector<PortClassifySnapshot> &ports, Get get) {
        family(name, type, help);
        for (const PortClassifySnapshot &p : ports) sample(name, {{"port", p.port}}, get(p));
    }

    // only: the links that have the histogram (all when null).
    void histogram(const char *name, std::string_view help, const std::vector<LinkSnapshot> &links, Histogram LinkSnapshot::*member,
                   bool (*only)(const LinkSnapshot &) = nullptr) {
        family(name, "histogram", help);
        const std::vector<uint64_t> &bounds = prometheus_bucket_bounds_ns();
        const std::string bucket = fmt::format("{}_bucket", name);
        for (const LinkSnapshot &s : links) {
            if (only != nullptr && !only(s)) continue;
            const Histogram &h = s.*member;
            // Values up to bound 2^k - 1 are exactly the buckets whose upper bound is at most it.
            uint64_t seen = 0;
            int b = 0;
            for (uint64_t bound : bounds) {
                for (; b < Histogram::kBuckets && Histogram::upper_bound(b) <= bound; ++b) seen += h.count(b);
                sample(bucket, {{"link", s.name}, {"le", prometheus_seconds(bound)}}, seen);
            }
            for (; b < Histogram::kBuckets; ++b) seen += h.count(b);
            sample(bucket, {{"link", s.name}, {"le", "+Inf"}}, seen);
            sample(fmt::format("{}_sum", name), {{"link", s.name}}, h.sum() / 1e9);
            sample(fmt::format("{}_count", name), {{"link", s.name}}, seen);
        }
    }

    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

bool has_discipline(const LinkSnapshot &s) { return s.discipline; }

// The queue disciplines' families (links[].queue.discipline), when a link has one; samples for those links only.
void discipline_families(Exposition &e, const std::vector<LinkSnapshot> &links) {
    if (std::none_of(links.begin(), links.end(), has_discipline)) return;
    e.family("linkem_link_aqm_marks_total", "counter", "Packets the queue discipline marked CE (sent).");
    for (const LinkSnapshot &s : links)
        if (s.discipline) e.sample("linkem_link_aqm_marks_total", {{"link", s.name}}, s.aqm_marks);
    e.family("linkem_link_aqm_drops_total", "counter",
             "Packets the queue discipline dropped, at their arrival (enqueue) or as the head of the queue (dequeue); "
             "together the drops of reason aqm_drop.");
    for (const LinkSnapshot &s : links) {
        if (!s.discipline) continue;
        const uint64_t all = s.drop(DropReason::kAqmDrop), at_enqueue = std::min(s.aqm_enqueue_drops, all);
        e.sample("linkem_link_aqm_drops_total", {{"link", s.name}, {"when", "enqueue"}}, at_enqueue);
        e.sample("linkem_link_aqm_drops_total", {{"link", s.name}, {"when", "dequeue"}}, all - at_enqueue);
    }
    e.family("linkem_link_aqm_mark_drops_total", "counter",
             "Packets the queue discipline would have marked CE but were not ECN-capable: dropped (among the aqm drops).");
    for (const LinkSnapshot &s : links)
        if (s.discipline) e.sample("linkem_link_aqm_mark_drops_total", {{"link", s.name}}, s.aqm_mark_drops);
    e.histogram("linkem_link_queue_sojourn_seconds",
                "Transmission start minus arrival of the packets the queue discipline let through (their time in the queue).", links,
                &LinkSnapshot::sojourn_ns, has_discipline);
}

// A scheduler's queues (links[].queue.scheduler, fq_codel): per queue that carried a packet, what it
// sent and what it lost, labelled by its number (and a drr class's name); declared only when a link has one.
void scheduler_families(Exposition &e, const std::vector<LinkSnapshot> &links) {
    if (std::none_of(links.begin(), links.end(), [](const LinkSnapshot &s) { return !s.scheduler.empty(); })) return;
    const auto each = [&](const char *name, const char *type, const char *help, auto value) {
        e.family(name, type, help);
        for (const LinkSnapshot &s : links)
            for (const LinkSnapshot::SchedulerQueue &q : s.queues) {
                Labels labels = {{"link", s.name}, {"queue", std::to_string(q.queue)}};
                if (!q.name.empty()) labels.push_back({"class", q.name});
                value(labels, q);
            }
    };
    each("linkem_link_scheduler_sent_packets_total", "counter", "Packets a scheduler's queue sent (flow queues: those that carried one).",
         [&](const Labels &l, const LinkSnapshot::SchedulerQueue &q) { e.sample("linkem_link_scheduler_sent_packets_total", l, q.sent); });
    each("linkem_link_scheduler_sent_bytes_total", "counter", "Frame bytes a scheduler's queue sent.",
         [&](const Labels &l, const LinkSnapshot::SchedulerQueue &q) {
             e.sample("linkem_link_scheduler_sent_bytes_total", l, q.sent_bytes);
         });
    each("linkem_link_scheduler_drops_total", "counter",
         "Packets a scheduler's queue lost: by its discipline (reason aqm_drop) or from its head on overload (reason queue).",
         [&](const Labels &l, const LinkSnapshot::SchedulerQueue &q) {
             Labels aqm = l, overload = l;
             aqm.push_back({"why", "aqm"});
             overload.push_back({"why", "overload"});
             e.sample("linkem_link_scheduler_drops_total", aqm, q.aqm_drops);
             e.sample("linkem_link_scheduler_drops_total", overload, q.overload_drops);
         });
    each("linkem_link_scheduler_sojourn_seconds_total", "counter",
         "The sojourn times (transmission start minus arrival) of a scheduler's queue's sent packets, summed: over "
         "linkem_link_scheduler_sent_packets_total, its mean.",
         [&](const Labels &l, const LinkSnapshot::SchedulerQueue &q) {
             e.sample("linkem_link_scheduler_sojourn_seconds_total", l, prometheus_seconds(q.sojourn_sum_ns));
         });
}

bool rate_measured(const LinkSnapshot &s) { return s.backlogged_sent_ns != 0 && s.backlogged_model_ns != 0; }
double bits_per_s(uint64_t bytes, uint64_t ns) { return 8e9 * static_cast<double>(bytes) / static_cast<double>(ns); }

}  // namespace

std::string prometheus_label_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string prometheus_seconds(uint64_t ns) {
    const uint64_t whole = ns / 1'000'000'000, fraction = ns % 1'000'000'000;
    if (fraction == 0) return fmt::format("{}", whole);
    std::string digits = fmt::format("{:09}", fraction);
    digits.erase(digits.find_last_not_of('0') + 1);
    return fmt::format("{}.{}", whole, digits);
}

const std::vector<uint64_t> &prometheus_bucket_bounds_ns() {
    static const std::vector<uint64_t> bounds = [] {
        std::vector<uint64_t> b;
        for (int k = kFirstBoundBits; k <= kLastBoundBits; ++k) b.push_back((uint64_t{1} << k) - 1);
        return b;
    }();
    return bounds;
}

std::string prometheus_text(const std::vector<LinkSnapshot> &links, const std::vector<PortClassifySnapshot> &ports, uint64_t run_ns) {
    Exposition e;
    e.family("linkem_run_seconds", "gauge", "Time since the run started.");
    e.sample("linkem_run_seconds", {}, prometheus_seconds(run_ns));

    e.per_link("linkem_link_rx_packets_total", "counter", "Packets that arrived on the link.", links,
               [](const LinkSnapshot &s) { return s.rx_packets; });
    e.per_link("linkem_link_rx_bytes_total", "counter", "Bytes of the packets that arrived on the link (frames without overhead).", links,
               [](const LinkSnapshot &s) { return s.rx_bytes; });
    e.per_link("linkem_link_tx_packets_total", "counter", "Packets the link handed to its port's driver.", links,
               [](const LinkSnapshot &s) { return s.tx_packets; });
    e.per_link("linkem_link_tx_bytes_total", "counter", "Bytes of the packets the link handed to its port's driver.", links,
               [](const LinkSnapshot &s) { return s.tx_bytes; });

    // One sample per link and reason, every reason of the list (linkem/drops.hpp), zero or not.
    std::string reasons;
    for (size_t r = 0; r < kDropReasons; ++r)
        reasons += fmt::format("{}{}", r == 0 ? "" : ", ", drop_reason_name(static_cast<DropReason>(r)));
    e.family("linkem_link_drops_total", "counter", fmt::format("Packets the link dropped, by reason ({}).", reasons));
    for (const LinkSnapshot &s : links)
        for (size_t r = 0; r < kDropReasons; ++r)
            e.sample("linkem_link_drops_total", {{"link", s.name}, {"reason", drop_reason_name(static_cast<DropReason>(r))}}, s.drops[r]);

    e.per_link("linkem_link_in_flight_packets", "gauge", "Packets the link holds (its delay arena).", links,
               [](const LinkSnapshot &s) { return s.in_flight; });
    e.per_link("linkem_link_queue_depth_packets", "gauge", "Packets in the emulated queue at the last arrival.", links,
               [](const LinkSnapshot &s) { return s.queue_depth; });
    e.per_link("linkem_link_late_packets_total", "counter", "Packets transmitted later than stats.lateness_tolerance after their release.",
               links, [](const LinkSnapshot &s) { return s.late; });
    e.per_link("linkem_link_out_of_order_packets_total", "counter", "Packets transmitted after a packet that took the link later.", links,
               [](const LinkSnapshot &s) { return s.out_of_order; });
    e.per_link("linkem_link_handed_on_packets_total", "counter", "A chain's inner hop: packets passed to the next hop.", links,
               [](const LinkSnapshot &s) { return s.handed_on; });

    e.family("linkem_link_mangled_packets_total", "counter", "Packets mangled by the link (links[].mangle), by kind.");
    for (const LinkSnapshot &s : links) {
        const std::pair<const char *, uint64_t> kinds[] = {{"duplicated", s.duplicated},
                                                           {"corrupted", s.corrupted},
                                                           {"truncated", s.truncated},
                                                           {"ce_marked", s.ce_marked},
                                                           {"reordered", s.reordered}};
        for (const auto &[kind, n] : kinds) e.sample("linkem_link_mangled_packets_total", {{"link", s.name}, {"kind", kind}}, n);
    }
    e.family("linkem_link_stage_busy_seconds_total", "counter",
             "Time the link's rx/model and tx stages spent on bursts that carried packets.");
    for (const LinkSnapshot &s : links) {
        e.sample("linkem_link_stage_busy_seconds_total", {{"link", s.name}, {"stage", "rx"}}, prometheus_seconds(s.rx_busy_ns));
        e.sample("linkem_link_stage_busy_seconds_total", {{"link", s.name}, {"stage", "tx"}}, prometheus_seconds(s.tx_busy_ns));
    }

    e.per_link("linkem_link_backlogged_wire_bytes_total", "counter", "Wire bytes sent while packets waited for the link.", links,
               [](const LinkSnapshot &s) { return s.backlogged_wire_bytes; });
    e.per_link("linkem_link_backlogged_seconds_total", "counter", "Time the link sent while backlogged.", links,
               [](const LinkSnapshot &s) { return prometheus_seconds(s.backlogged_sent_ns); });
    // The rates: only for a link that has been backlogged (else no sample).
    e.family("linkem_link_achieved_rate_bits_per_second", "gauge", "Rate achieved while backlogged, since the start (wire bits).");
    for (const LinkSnapshot &s : links)
        if (rate_measured(s))
            e.sample("linkem_link_achieved_rate_bits_per_second", {{"link", s.name}},
                     bits_per_s(s.backlogged_wire_bytes, s.backlogged_sent_ns));
    e.family("linkem_link_configured_rate_bits_per_second", "gauge", "The bandwidth model's rate over the same backlogged wire bytes.");
    for (const LinkSnapshot &s : links)
        if (rate_measured(s))
            e.sample("linkem_link_configured_rate_bits_per_second", {{"link", s.name}},
                     bits_per_s(s.backlogged_wire_bytes, s.backlogged_model_ns));

    e.histogram("linkem_link_delay_seconds", "Release time minus arrival time of the packets the link admitted.", links,
                &LinkSnapshot::delay_ns);
    e.histogram("linkem_link_lateness_seconds", "Actual transmit time minus release time of the packets the link sent.", links,
                &LinkSnapshot::lateness_ns);
    discipline_families(e, links);
    scheduler_families(e, links);

    e.per_port("linkem_port_rx_packets_total", "counter", "Packets classified at the arrival port.", ports,
               [](const PortClassifySnapshot &p) { return p.packets; });
    e.per_port("linkem_port_rx_bytes_total", "counter", "Bytes of the packets classified at the arrival port.", ports,
               [](const PortClassifySnapshot &p) { return p.bytes; });
    e.per_port("linkem_port_classify_seconds_total", "counter", "Time spent parsing and matching rules at the arrival port.", ports,
               [](const PortClassifySnapshot &p) { return prometheus_seconds(p.classify_ns); });
    e.per_port("linkem_port_default_packets_total", "counter", "Packets no rule matched (the port's default applied).", ports,
               [](const PortClassifySnapshot &p) { return p.default_hits; });
    std::string port_reasons;
#define LINKEM_PORT_REASON(name, text) port_reasons += fmt::format("{}{}", port_reasons.empty() ? "" : ", ", #name);
    LINKEM_PORT_DROPS(LINKEM_PORT_REASON)
#undef LINKEM_PORT_REASON
    e.family("linkem_port_drops_total", "counter",
             fmt::format("Packets dropped at the arrival port before any link, by reason ({}).", port_reasons));
    for (const PortClassifySnapshot &p : ports) {
#define LINKEM_PORT_DROP_SAMPLE(name, text) e.sample("linkem_port_drops_total", {{"port", p.port}, {"reason", #name}}, p.drop_##name);
        LINKEM_PORT_DROPS(LINKEM_PORT_DROP_SAMPLE)
#undef LINKEM_PORT_DROP_SAMPLE
    }
    e.family("linkem_port_rule_packets_total", "counter", "Packets each rule matched at the arrival port.");
    for (const PortClassifySnapshot &p : ports)
        for (const auto &[rule, n] : p.rule_hits) e.sample("linkem_port_rule_packets_total", {{"port", p.port}, {"rule", rule}}, n);
    e.family("linkem_port_frames_total", "counter", "Frames the parser noted at the arrival port, by note.");
    for (const PortClassifySnapshot &p : ports)
        for (size_t b = 0; b < kParseNotes; ++b)
            e.sample("linkem_port_frames_total", {{"port", p.port}, {"note", parse_note_name(b)}}, p.notes[b]);
    return e.take();
}

}  // namespace linkem
