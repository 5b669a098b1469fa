// The link model: pure arithmetic on times and lengths, no DPDK types, so the
// same code runs in the emulator (real time) and in tests (virtual time).
//
// For each packet, in arrival order, admit_burst() decides its fate once
// (TLEM, section IV; docs/ARCHITECTURE.md "Link model"):
//
//   0. room: a packet that would find the delay arena full is dropped
//      (kDropArenaFull) before it touches any state;
//   1. exit time from the bottleneck (the TLEM formula):
//        t_exit = max(t_exit_prev, t_arrival) + (len + overhead) * 8 / rate
//      With no rate limit, t_exit = t_arrival and no queue ever forms.
//   2. queue check: the packets and bytes still in the emulated queue at
//      t_arrival are those admitted earlier whose t_exit > t_arrival. If adding
//      this packet would exceed a limit it is dropped (kDropQueue) and does not
//      occupy the link.
//   3. loss: with probability p the packet is lost on the wire (kDropLoss).
//      It has already used its time on the link, as a frame hit by noise does.
//   4. release: t_release = max(t_release_prev, t_exit + delay). Release times
//      never decrease, so nothing is reordered.
//
// Times are in ns since the emulator's epoch; exit times are kept in ps
// internally so that back-to-back frames accumulate no rounding drift.
// Contract: arrival times passed to admit_burst() never decrease; one
// LinkModel belongs to one lcore (no locks, no allocation after construction).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace linkem {

struct LinkModelParams {
    uint64_t rate_bps = 0;  // 0: no rate limit
    uint32_t overhead_bytes = 0;  // per frame; with 24 (Ethernet framing) frames are also padded to 60 bytes
    uint64_t queue_limit_packets = 0;  // 0: no packet limit
    uint64_t queue_limit_bytes = 0;    // 0: no byte limit (counts wire bytes, overhead included)
    uint64_t delay_ns = 0;
    uint64_t loss_per_2_64 = 0;  // loss probability as a fraction of 2^64
    uint64_t seed = 1;
};

struct PacketIn {
    uint64_t arrival_ns;
    uint32_t len_bytes;  // frame length as received (no FCS)
};

enum class Fate : uint8_t { kForward, kDropQueue, kDropLoss, kDropArenaFull };

struct Verdict {
    Fate fate;
    uint64_t release_ns;  // valid when fate == kForward
};

// A small, fast, seedable generator (xoshiro256**), one stream per user.
class Random {
  public:
    explicit Random(uint64_t seed);
    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

  private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

class LinkModel {
  public:
    explicit LinkModel(const LinkModelParams &params);

    // Decides the fate of n packets; out[i] belongs to pkts[i]. At most
    // `room` packets are forwarded (the free space of the delay arena); the
    // rest that would have been are kDropArenaFull and use no link time.
    void admit_burst(const PacketIn *pkts, uint32_t n, Verdict *out, uint64_t room = UINT64_MAX);

    // Packets and wire bytes in the emulated queue at time now_ns (for status lines).
    uint64_t queued_packets(uint64_t now_ns) const;
    // Packets in the emulated queue as of the last arrival (cheap; for status lines).
    uint64_t queue_depth() const { return count_; }
    // The number of queue slots the model reserved (its memory is 16 bytes each).
    uint64_t queue_slots() const { return slots_.size(); }

  private:
    struct Slot {
        uint64_t exit_ps;
        uint64_t wire_bytes;
    };
    void drain_until(uint64_t now_ps);
    uint64_t tx_time_ps(uint64_t wire_bytes);

    LinkModelParams p_;
    Random random_;
    uint64_t last_exit_ps_ = 0;
    uint64_t tx_remainder_ = 0;  // sub-ps carry between back-to-back frames
    uint64_t last_release_ns_ = 0;
    // The queue as a ring of (exit time, bytes) of admitted packets not yet exited.
    std::vector<Slot> slots_;
    uint64_t head_ = 0, count_ = 0, queued_bytes_ = 0;
};

// Converts a probability in 1e-18 steps (Probability::scaled) to a fraction of 2^64.
uint64_t probability_to_2_64(uint64_t scaled_1e18);

// splitmix64: derives independent stream seeds from one global seed.
uint64_t mix_seed(uint64_t seed, uint64_t salt);

}  // namespace linkem
