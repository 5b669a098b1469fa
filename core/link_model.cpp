#include "linkem/link_model.hpp"

#include <algorithm>

namespace linkem {
namespace {

__extension__ using u128 = unsigned __int128;

constexpr uint64_t kPsPerNs = 1000;
constexpr uint64_t kMinEthernetFrame = 60;        // without FCS: shorter frames are padded on an Ethernet wire
constexpr uint64_t kEthernetFraming = 24;         // preamble, SFD, FCS, inter-frame gap
constexpr uint64_t kMinFrame = 14;                // an Ethernet header: no frame is shorter
constexpr uint64_t kMaxQueueSlots = 16ULL << 20;  // 256 MiB of slots at most; beyond, a full ring drops as queue

}  // namespace

uint64_t mix_seed(uint64_t seed, uint64_t salt) {
    uint64_t z = seed + salt * 0x9E3779B97F4A7C15ULL + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

Random::Random(uint64_t seed) {
    for (int i = 0; i < 4; ++i) s_[i] = mix_seed(seed, static_cast<uint64_t>(i));
}

uint64_t probability_to_2_64(uint64_t scaled_1e18) {
    constexpr uint64_t kOne = 1'000'000'000'000'000'000ULL;
    if (scaled_1e18 >= kOne) return UINT64_MAX;  // certain loss (admit_burst treats it so)
    return static_cast<uint64_t>((static_cast<u128>(scaled_1e18) << 64) / kOne);
}

LinkModel::LinkModel(const LinkModelParams &params) : p_(params), random_(params.seed) {
    if (p_.rate_bps == 0) return;  // no bottleneck, no queue
    uint64_t slots = UINT64_MAX;
    if (p_.queue_limit_packets != 0) slots = p_.queue_limit_packets;
    const uint64_t min_wire = (p_.overhead_bytes == kEthernetFraming ? kMinEthernetFrame : kMinFrame) + p_.overhead_bytes;
    if (p_.queue_limit_bytes != 0) slots = std::min(slots, p_.queue_limit_bytes / min_wire + 1);
    if (slots != UINT64_MAX) slots_.resize(std::min(slots, kMaxQueueSlots));
}

uint64_t LinkModel::tx_time_ps(uint64_t wire_bytes) {
    // bits * 1e12 / rate, carrying the remainder so a long back-to-back run
    // ends exactly where the exact rational sum would.
    const u128 numerator = static_cast<u128>(wire_bytes) * 8 * 1'000'000'000'000ULL + tx_remainder_;
    tx_remainder_ = static_cast<uint64_t>(numerator % p_.rate_bps);
    return static_cast<uint64_t>(numerator / p_.rate_bps);
}

void LinkModel::drain_until(uint64_t now_ps) {
    while (count_ != 0 && slots_[head_].exit_ps <= now_ps) {
        queued_bytes_ -= slots_[head_].wire_bytes;
        head_ = head_ + 1 == slots_.size() ? 0 : head_ + 1;
        --count_;
    }
}

uint64_t LinkModel::queued_packets(uint64_t now_ns) const {
    uint64_t n = 0;
    for (uint64_t i = 0, at = head_; i < count_; ++i, at = at + 1 == slots_.size() ? 0 : at + 1)
        if (slots_[at].exit_ps > now_ns * kPsPerNs) ++n;
    return n;
}

void LinkModel::admit_burst(const PacketIn *pkts, uint32_t n, Verdict *out, uint64_t room) {
    const bool pad = p_.overhead_bytes == kEthernetFraming;
    for (uint32_t i = 0; i < n; ++i) {
        // 0. No room left in the arena: drop before touching any state.
        if (room == 0) {
            out[i] = {Fate::kDropArenaFull, 0};
            continue;
        }
        const uint64_t arrival_ps = pkts[i].arrival_ns * kPsPerNs;
        const uint64_t frame_bytes = pad ? std::max<uint64_t>(pkts[i].len_bytes, kMinEthernetFrame) : pkts[i].len_bytes;
        const uint64_t wire_bytes = frame_bytes + p_.overhead_bytes;

        // 1-2. Exit time from the bottleneck, and the queue in front of it.
        uint64_t exit_ps = arrival_ps;
        if (p_.rate_bps != 0) {
            drain_until(arrival_ps);
            const bool over_packets = p_.queue_limit_packets != 0 && count_ + 1 > p_.queue_limit_packets;
            const bool over_bytes = p_.queue_limit_bytes != 0 && queued_bytes_ + wire_bytes > p_.queue_limit_bytes;
            const bool no_slot = !slots_.empty() && count_ == slots_.size();
            if (over_packets || over_bytes || no_slot) {
                out[i] = {Fate::kDropQueue, 0};
                continue;
            }
            if (last_exit_ps_ <= arrival_ps) {
                last_exit_ps_ = arrival_ps;  // the link was idle: start afresh
                tx_remainder_ = 0;
            }
            exit_ps = last_exit_ps_ + tx_time_ps(wire_bytes);
            last_exit_ps_ = exit_ps;
            if (!slots_.empty()) {
                slots_[(head_ + count_) % slots_.size()] = {exit_ps, wire_bytes};
                ++count_;
                queued_bytes_ += wire_bytes;
            }
        }

        // 3. Loss on the wire.
        if (p_.loss_per_2_64 != 0 && (p_.loss_per_2_64 == UINT64_MAX || random_.next() < p_.loss_per_2_64)) {
            out[i] = {Fate::kDropLoss, 0};
            continue;
        }

        // 4. Release time, never earlier than the previous one.
        const uint64_t exit_ns = (exit_ps + kPsPerNs - 1) / kPsPerNs;
        last_release_ns_ = std::max(last_release_ns_, exit_ns + p_.delay_ns);
        out[i] = {Fate::kForward, last_release_ns_};
        --room;
    }
}

}  // namespace linkem
