// Per-link counters with named drop reasons, and their reports (status line,
// summary, JSON). The drop reasons, their counters, names and JSON keys come
// from one list, linkem/drops.hpp.
//
// Contract: each counter block has one writer (the rx side or the tx side of
// one link) that updates it once per burst with relaxed stores; the control
// thread reads with relaxed loads. For every link at every moment
//   rx_packets + duplicated = tx_packets + handed_on + sum(drops) + in_flight,
// where duplicated counts the extra copies the duplicate mangler made,
// handed_on what a chain's inner hop passed to the next hop, and in_flight
// what the link's lanes hold; at a clean stop in_flight is 0 and the
// identity is checked exactly (LinkSnapshot::balanced()).
#pragma once

#include "linkem/drops.hpp"
#include "linkem/histogram.hpp"
#include "linkem/link_model.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace linkem {

// The reports' JSON: objects keep their keys in the order written.
using Json = nlohmann::ordered_json;

// A link's drop reasons, in the list's order (linkem/drops.hpp): kQueue, kLoss, kOrder, kArenaFull,
// kTxFull, kShutdown, kModelError.
#define LINKEM_DROP_REASON(name, Camel, side, judged, text) k##Camel,
enum class DropReason : uint8_t { LINKEM_LINK_DROPS(LINKEM_DROP_REASON) kCount };
#undef LINKEM_DROP_REASON
constexpr size_t kDropReasons = static_cast<size_t>(DropReason::kCount);
const char *drop_reason_name(DropReason r);  // the list's name: "queue", "loss", ..., the text reports' name and the JSON key
const char *drop_reason_text(DropReason r);  // the list's description
// A drop Fate's reason; Fate::kForward has none (DropReason::kCount).
constexpr DropReason drop_reason(Fate f) {
    switch (f) {
#define LINKEM_FATE_REASON(name, Camel, side, judged, text) LINKEM_DROP_IF_RX(side, case Fate::kDrop##Camel : return DropReason::k##Camel;)
        LINKEM_LINK_DROPS(LINKEM_FATE_REASON)
#undef LINKEM_FATE_REASON
    case Fate::kForward: break;
    }
    return DropReason::kCount;
}

// A counter written by one thread and read by others: no read-modify-write.
class Counter {
  public:
    void add(uint64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
    uint64_t get() const { return v_.load(std::memory_order_relaxed); }

  private:
    std::atomic<uint64_t> v_{0};
};

// Written by the link's rx/model stage.
struct alignas(64) RxCounters {
    Counter packets, bytes;
    // drop_queue, drop_loss, drop_order, drop_arena_full, drop_model_error: the list's rx side
#define LINKEM_RX_DROP_COUNTER(name, Camel, side, judged, text) LINKEM_DROP_IF_RX(side, Counter drop_##name;)
    LINKEM_LINK_DROPS(LINKEM_RX_DROP_COUNTER)
#undef LINKEM_RX_DROP_COUNTER
    Counter queue_depth;  // packets in the emulated queue at the last arrival
    Counter busy_ns;      // time spent in the rx/model stage on bursts that carried packets
    Histogram delay_ns;   // release - arrival of admitted packets
    Counter handed_on;    // a chain's inner hop: packets passed to the next hop
    // Mangling (links[].mangle): each counts packets, except corrupted_bits.
    Counter duplicated, corrupted, corrupted_bits, truncated, ce_marked, reordered;
};

// Written by the link's tx stage.
struct alignas(64) TxCounters {
    Counter packets, bytes;
    // drop_tx_full, drop_shutdown: the list's tx side
#define LINKEM_TX_DROP_COUNTER(name, Camel, side, judged, text) LINKEM_DROP_IF_TX(side, Counter drop_##name;)
    LINKEM_LINK_DROPS(LINKEM_TX_DROP_COUNTER)
#undef LINKEM_TX_DROP_COUNTER
    Counter busy_ns;        // time spent in the tx stage on bursts that sent packets
    Histogram lateness_ns;  // actual transmit - release time
    Counter late;           // transmitted later than the lateness tolerance
    Counter out_of_order;   // transmitted after a packet that took the link later
    // Rate while backlogged (linkem/release_tracker.hpp): wire bytes, actual and model time.
    Counter backlogged_wire_bytes, backlogged_sent_ns, backlogged_model_ns;
};

// Packets the loss model judged so far: rx less the rx drops the list marks as not judged.
inline uint64_t offered_to_loss(const RxCounters &rx) {
    uint64_t not_judged = 0;
#define LINKEM_RX_NOT_JUDGED(name, Camel, side, judged, text) LINKEM_DROP_IF_RX(side, if (!(judged)) not_judged += rx.drop_##name.get();)
    LINKEM_LINK_DROPS(LINKEM_RX_NOT_JUDGED)
#undef LINKEM_RX_NOT_JUDGED
    return rx.packets.get() - not_judged;
}

// The rx-side counter of a drop Fate; null for Fate::kForward. Inline: the
// pipeline flushes its per-burst tallies through it.
inline Counter *drop_counter(RxCounters &rx, Fate f) {
    switch (f) {
#define LINKEM_COUNTER(name, Camel, side, judged, text) LINKEM_DROP_IF_RX(side, case Fate::kDrop##Camel : return &rx.drop_##name;)
        LINKEM_LINK_DROPS(LINKEM_COUNTER)
#undef LINKEM_COUNTER
    case Fate::kForward: break;
    }
    return nullptr;
}
inline void add_drop(RxCounters &rx, Fate f, uint64_t n) {
    if (Counter *c = drop_counter(rx, f)) c->add(n);
}

// A burst's drops by Fate, added to the counters once (one store per reason that occurred).
struct RxDropTally {
    std::array<uint32_t, kFates> by_fate{};
    void count(Fate f) { ++by_fate[static_cast<size_t>(f)]; }
    void flush(RxCounters &rx) {
        for (size_t f = 1; f < by_fate.size(); ++f)
            if (by_fate[f] != 0) add_drop(rx, static_cast<Fate>(f), by_fate[f]);
        by_fate = {};
    }
};

// What a link's configuration says, for comparison with what was measured.
struct LinkExpectations {
    uint64_t lateness_tolerance_ns = 10'000;
    std::optional<double> loss;   // the loss model's long-run loss; 0 without one; none when unknown
    uint32_t overhead_bytes = 0;  // added to each frame for the rate (links[].overhead): the offered load in wire bytes
    // Runtime changes: what the loss models stated before the last change
    // took effect, summed over the packets they judged (O(1) however many
    // changes: docs/ARCHITECTURE.md "Runtime changes").
    uint64_t offered_before = 0;       // packets judged before the last change
    double expected_lost_before = 0;   // of those, the stated loss times the packets, summed
    bool loss_unknown_before = false;  // some model before did not state its loss
    // A change's new expectations, `now`, after these, when the loss model had judged `offered` packets.
    void restate(const LinkExpectations &now, uint64_t offered);
    // The long-run loss expected of a run that offered `offered` packets to
    // the loss model: the stated losses weighted by their packets; none
    // when one is unknown.
    std::optional<double> loss_over(uint64_t offered) const;
};

// A consistent-enough copy for reports.
struct LinkSnapshot {
    std::string name;
    std::string flow;           // a per-flow instance: its template and key ("per-subnet[src 10.1.2.0/24]"); else empty
    uint64_t flows_served = 0;  // a per-flow instance: flows it carried (more than 1 once recycled)
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    std::array<uint64_t, kDropReasons> drops{};  // by DropReason
    uint64_t &drop(DropReason r) { return drops[static_cast<size_t>(r)]; }
    uint64_t drop(DropReason r) const { return drops[static_cast<size_t>(r)]; }
    uint64_t in_flight = 0;  // measured: what the arena holds
    uint64_t queue_depth = 0;
    uint64_t rx_busy_ns = 0, tx_busy_ns = 0;  // stage time, for ns per packet per stage
    uint64_t late = 0, out_of_order = 0;
    uint64_t handed_on = 0;
    uint64_t duplicated = 0, corrupted = 0, corrupted_bits = 0, truncated = 0, ce_marked = 0, reordered = 0;
    uint64_t backlogged_wire_bytes = 0, backlogged_sent_ns = 0, backlogged_model_ns = 0;
    Histogram delay_ns, lateness_ns;
    LinkExpectations expected;
    // order keep (link_model.hpp OrderKeepStats): packets held back behind a predecessor released
    // later, the delay that added, and the model's own delay distribution (set with the histograms).
    uint64_t held_back = 0, held_back_added_ns = 0, held_back_max_ns = 0;
    Histogram model_delay_ns;
    std::optional<ModelError> model_error;  // the first model result outside the contract (LinkModel::first_model_error())
    // A queue discipline (link_model.hpp QueueDisciplineStats): its CE marks, its drops at arrival and MARKs
    // that fell back to drops (both among drops[kAqmDrop]), the sojourn times of the packets it sent.
    bool discipline = false;
    uint64_t aqm_marks = 0, aqm_enqueue_drops = 0, aqm_mark_drops = 0;
    Histogram sojourn_ns;
    // A scheduler (fair queueing, link_model.hpp QueueScheduler): "fq" or "drr", its queues, the packets
    // an overload dropped from the fattest queue (among drops[kQueue]), and each queue that carried a packet.
    struct SchedulerQueue {
        uint32_t queue = 0;
        std::string name;     // a drr class's name; empty for a flow queue
        uint32_t weight = 0;  // a drr class's weight; 0 for a flow queue
        uint64_t sent = 0, sent_bytes = 0, sojourn_sum_ns = 0, aqm_drops = 0, overload_drops = 0, marks = 0;
    };
    std::string scheduler;
    uint32_t scheduler_queues = 0;
    uint64_t overload_drops = 0;
    std::vector<SchedulerQueue> queues;
    uint64_t run_ns = 0;  // the time rx was counted over (the run so far, linkem-sim's input span), for the offered load; 0 unknown

    uint64_t dropped() const;  // every reason in the list
    // Packets the loss model judged: rx less the drops the list marks as not judged
    // (queue, arena_full, model_error: they took no link time, or their model broke the contract).
    uint64_t offered_to_loss() const;
    // Duplicates add packets; a chain's inner hop hands its packets on instead of sending them.
    bool balanced() const { return rx_packets + duplicated == tx_packets + handed_on + dropped() + in_flight; }
};

// Adds order keep's figures to a snapshot: the model's delay distribution is
// the delivered one with the held packets' delivered delays replaced by their
// model delays (when the snapshot has its histograms).
// The histograms may be null (a link that cannot hold a packet back).
void add_order_keep(LinkSnapshot &s, uint64_t held_back, uint64_t added_ns, uint64_t added_max_ns, const Histogram *held_model_delay_ns,
                    const Histogram *held_delivered_delay_ns, bool with_histograms);
// "bandwidth model \"x\": finish_ns returned 1 for a frame starting at 1000 ns (before its start)"
std::string model_error_text(const ModelError &e);

// Histograms are copied only when asked: do so only when both writers are stopped.
LinkSnapshot snapshot(const std::string &name, const LinkExpectations &expected, const RxCounters &rx, const TxCounters &tx,
                      uint64_t in_flight, bool with_histograms);

// What classification did at one arrival port (written by that port's rx lcore).
constexpr size_t kParseNotes = 8;         // bits of PacketFields::notes, in order
const char *parse_note_name(size_t bit);  // "runt", "truncated", "non_ip", ...

struct alignas(64) IngressCounters {
    explicit IngressCounters(size_t rules) : rule_hits(rules) {}
    Counter packets, bytes;
    Counter classify_ns;  // time spent parsing and matching, over bursts
    Counter default_hits;
    // drop_rule, drop_unclassified, drop_flow_limit: the port list (linkem/drops.hpp)
#define LINKEM_PORT_DROP_COUNTER(name, text) Counter drop_##name;
    LINKEM_PORT_DROPS(LINKEM_PORT_DROP_COUNTER)
#undef LINKEM_PORT_DROP_COUNTER
    std::array<Counter, kParseNotes> notes;
    std::vector<Counter> rule_hits;  // by the port's compiled rules, in order
};

struct PortClassifySnapshot {
    std::string port;
    uint64_t packets = 0, bytes = 0, classify_ns = 0, default_hits = 0;
#define LINKEM_PORT_DROP_FIELD(name, text) uint64_t drop_##name = 0;
    LINKEM_PORT_DROPS(LINKEM_PORT_DROP_FIELD)
#undef LINKEM_PORT_DROP_FIELD
    std::array<uint64_t, kParseNotes> notes{};
    std::vector<std::pair<std::string, uint64_t>> rule_hits;  // "rules[0]" -> packets
    // By rule_hits' index (may be empty: then the summary names rules only): the rule in words
    // (route_plan.hpp describe_rule, "proto udp, dst_port 5000-6000 -> link slow") and whether it drops.
    struct RuleWords {
        std::string text;
        bool drops = false;
    };
    std::vector<RuleWords> rule_words;
    std::string default_text;
};

// Copies the port list's drop counters into p.
void take_port_drops(PortClassifySnapshot &p, const IngressCounters &c);

std::string classify_summary_text(const std::vector<PortClassifySnapshot> &ports);
Json classify_json(const std::vector<PortClassifySnapshot> &ports);  // [{"port": ..., "drops": {"rule": ..}, ...}, ...]

// "a-to-b: rx 1.20 Mpps 614.4 Mbit/s | tx ... | drops queue=0 loss=12 | queue 3 pkts | in flight 250"
std::string status_line(const LinkSnapshot &now, const LinkSnapshot &before, double seconds);
// The final per-link summary, several lines, in units a person reads (units.hpp human_*); the JSON
// keeps the exact integers. Lateness verdict (documented in docs/ARCHITECTURE.md "Fidelity"): with
// f the fraction of transmitted packets later than stats.lateness_tolerance, "good" when f <= 0.1%,
// "fair" when f <= 1%, "poor: the host could not keep the schedule" above. The rate while backlogged
// is only indicative when measured over less than kMeaningfulBacklogNs of backlog.
constexpr uint64_t kMeaningfulBacklogNs = 1'000'000'000;
std::string summary_text(const std::vector<LinkSnapshot> &links);
// One link: {"name": ..., "rx_packets": ..., "drops": {"queue": ..}, "delay_ns": {"p50": ..}, ...}
Json link_json(const LinkSnapshot &s);
// The --stats-json document: {"links": [link_json, ...], then extra's fields}, indented, one line at the end.
// extra: an object (or null).
std::string stats_json(const std::vector<LinkSnapshot> &links, const Json &extra);

}  // namespace linkem
