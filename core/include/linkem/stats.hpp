// Per-link counters with named drop reasons, and their reports (status line,
// summary, JSON).
//
// Contract: each counter block has one writer (the rx side or the tx side of
// one link) that updates it once per burst with relaxed stores; the control
// thread reads with relaxed loads. For every link at every moment
//   rx_packets = tx_packets + sum(drops) + in_flight,
// where in_flight is what the link's model and arena hold; at a clean stop
// in_flight is 0 and the identity is checked exactly.
#pragma once

#include "linkem/histogram.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace linkem {

enum class DropReason : uint8_t { kQueue, kLoss, kOrder, kArenaFull, kTxFull, kShutdown, kCount };
constexpr size_t kDropReasons = static_cast<size_t>(DropReason::kCount);
const char *drop_reason_name(DropReason r);  // "queue", "loss", "order", "arena_full", "tx_full", "shutdown"

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
    Counter drop_queue, drop_loss, drop_order, drop_arena_full;
    Counter queue_depth;  // packets in the emulated queue at the last arrival
    Counter busy_ns;      // time spent in the rx/model stage on bursts that carried packets
    Histogram delay_ns;   // release - arrival of admitted packets
};

// Written by the link's tx stage.
struct alignas(64) TxCounters {
    Counter packets, bytes;
    Counter drop_tx_full, drop_shutdown;
    Counter busy_ns;        // time spent in the tx stage on bursts that sent packets
    Histogram lateness_ns;  // actual transmit - release time
    Counter late;           // transmitted later than the lateness tolerance
    Counter out_of_order;   // transmitted after a packet that took the link later
    // Rate while backlogged (linkem/release_tracker.hpp): wire bytes, actual and model time.
    Counter backlogged_wire_bytes, backlogged_sent_ns, backlogged_model_ns;
};

// What a link's configuration says, for comparison with what was measured.
struct LinkExpectations {
    uint64_t lateness_tolerance_ns = 10'000;
    std::optional<double> loss;  // the loss model's long-run loss; 0 without one; none when unknown
};

// A consistent-enough copy for reports.
struct LinkSnapshot {
    std::string name;
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    std::array<uint64_t, kDropReasons> drops{};
    uint64_t in_flight = 0;  // measured: what the arena holds
    uint64_t queue_depth = 0;
    uint64_t rx_busy_ns = 0, tx_busy_ns = 0;  // stage time, for ns per packet per stage
    uint64_t late = 0, out_of_order = 0;
    uint64_t backlogged_wire_bytes = 0, backlogged_sent_ns = 0, backlogged_model_ns = 0;
    Histogram delay_ns, lateness_ns;
    LinkExpectations expected;

    uint64_t dropped() const;
    // Packets the loss model judged: those that took link time.
    uint64_t offered_to_loss() const;
    bool balanced() const { return rx_packets == tx_packets + dropped() + in_flight; }
};

// Histograms are copied only when asked: do so only when both writers are stopped.
LinkSnapshot snapshot(const std::string &name, const LinkExpectations &expected, const RxCounters &rx, const TxCounters &tx,
                      uint64_t in_flight, bool with_histograms);

// "a-to-b: rx 1.20 Mpps 614.4 Mbit/s | tx ... | drops queue=0 loss=12 | queue 3 pkts | in flight 250"
std::string status_line(const LinkSnapshot &now, const LinkSnapshot &before, double seconds);
// The final per-link summary, several lines.
std::string summary_text(const std::vector<LinkSnapshot> &links);
// {"links": [{"name": ..., "rx_packets": ..., "drops": {...}, "delay_ns": {"p50":..}, ...}], ...extra}
std::string stats_json(const std::vector<LinkSnapshot> &links, const std::string &extra_fields);

}  // namespace linkem
