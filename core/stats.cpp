#include "linkem/stats.hpp"

#include <fmt/format.h>

namespace linkem {

const char *drop_reason_name(DropReason r) {
    switch (r) {
    case DropReason::kQueue: return "queue";
    case DropReason::kLoss: return "loss";
    case DropReason::kOrder: return "order";
    case DropReason::kArenaFull: return "arena_full";
    case DropReason::kTxFull: return "tx_full";
    case DropReason::kShutdown: return "shutdown";
    case DropReason::kCount: break;
    }
    return "?";
}

uint64_t LinkSnapshot::dropped() const {
    uint64_t sum = 0;
    for (uint64_t d : drops) sum += d;
    return sum;
}

LinkSnapshot snapshot(const std::string &name, const RxCounters &rx, const TxCounters &tx, uint64_t in_flight, bool with_histograms) {
    LinkSnapshot s;
    s.name = name;
    // Read tx before rx: a packet counted by tx was counted by rx earlier, so
    // a running snapshot may show rx ahead (in flight), never behind.
    s.tx_packets = tx.packets.get();
    s.tx_bytes = tx.bytes.get();
    s.drops[static_cast<size_t>(DropReason::kTxFull)] = tx.drop_tx_full.get();
    s.drops[static_cast<size_t>(DropReason::kShutdown)] = tx.drop_shutdown.get();
    s.rx_packets = rx.packets.get();
    s.rx_bytes = rx.bytes.get();
    s.drops[static_cast<size_t>(DropReason::kQueue)] = rx.drop_queue.get();
    s.drops[static_cast<size_t>(DropReason::kLoss)] = rx.drop_loss.get();
    s.drops[static_cast<size_t>(DropReason::kOrder)] = rx.drop_order.get();
    s.drops[static_cast<size_t>(DropReason::kArenaFull)] = rx.drop_arena_full.get();
    s.queue_depth = rx.queue_depth.get();
    s.rx_busy_ns = rx.busy_ns.get();
    s.tx_busy_ns = tx.busy_ns.get();
    s.in_flight = in_flight;
    if (with_histograms) {
        s.delay_ns = rx.delay_ns;
        s.lateness_ns = tx.lateness_ns;
    }
    return s;
}

namespace {

std::string rate_text(double per_s, const char *unit) {
    if (per_s >= 1e9) return fmt::format("{:.2f} G{}", per_s / 1e9, unit);
    if (per_s >= 1e6) return fmt::format("{:.2f} M{}", per_s / 1e6, unit);
    if (per_s >= 1e3) return fmt::format("{:.2f} k{}", per_s / 1e3, unit);
    return fmt::format("{:.0f} {}", per_s, unit);
}

std::string drops_text(const LinkSnapshot &s) {
    std::string out;
    for (size_t r = 0; r < kDropReasons; ++r)
        out += fmt::format("{}{}={}", out.empty() ? "" : " ", drop_reason_name(static_cast<DropReason>(r)), s.drops[r]);
    return out;
}

std::string percentiles_json(const Histogram &h) {
    return fmt::format("{{\"count\": {}, \"p50\": {}, \"p99\": {}, \"p999\": {}, \"max\": {}}}", h.total(), h.percentile(0.5),
                       h.percentile(0.99), h.percentile(0.999), h.max());
}

}  // namespace

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
        out += fmt::format("link {}: rx {} packets ({} bytes), tx {} packets ({} bytes), in flight {}\n", s.name, s.rx_packets, s.rx_bytes,
                           s.tx_packets, s.tx_bytes, s.in_flight);
        out += fmt::format("  drops: {}\n", drops_text(s));
        out += fmt::format("  delay ns (release - arrival): p50 {} p99 {} max {}\n", s.delay_ns.percentile(0.5),
                           s.delay_ns.percentile(0.99), s.delay_ns.max());
        out += fmt::format("  lateness ns (transmit - release): p50 {} p99 {} max {}\n", s.lateness_ns.percentile(0.5),
                           s.lateness_ns.percentile(0.99), s.lateness_ns.max());
        out += fmt::format("  accounting: rx = tx + drops + in flight: {} = {} + {} + {}: {}\n", s.rx_packets, s.tx_packets, s.dropped(),
                           s.in_flight, s.balanced() ? "balanced" : "NOT BALANCED");
    }
    return out;
}

std::string stats_json(const std::vector<LinkSnapshot> &links, const std::string &extra_fields) {
    std::string out = "{\n  \"links\": [";
    for (size_t i = 0; i < links.size(); ++i) {
        const LinkSnapshot &s = links[i];
        std::string drops;
        for (size_t r = 0; r < kDropReasons; ++r)
            drops += fmt::format("{}\"{}\": {}", r ? ", " : "", drop_reason_name(static_cast<DropReason>(r)), s.drops[r]);
        out += fmt::format(
            "{}\n    {{\"name\": \"{}\", \"rx_packets\": {}, \"tx_packets\": {}, \"rx_bytes\": {}, \"tx_bytes\": {}, \"drops\": {{{}}}, "
            "\"in_flight\": {}, \"balanced\": {}, \"rx_stage_ns\": {}, \"tx_stage_ns\": {}, \"delay_ns\": {}, \"lateness_ns\": {}}}",
            i ? "," : "", s.name, s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, drops, s.in_flight, s.balanced() ? "true" : "false",
            s.rx_busy_ns, s.tx_busy_ns, percentiles_json(s.delay_ns), percentiles_json(s.lateness_ns));
    }
    out += "\n  ]";
    if (!extra_fields.empty()) out += ",\n  " + extra_fields;
    return out + "\n}\n";
}

}  // namespace linkem
