#include "linkem/link_model.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

// The canary after a model's output array (link_model.hpp): on unless NDEBUG
// (meson's debug and debugoptimized builds, the tests' build).
#if !defined(LINKEM_PLUGIN_GUARD) && !defined(NDEBUG)
#define LINKEM_PLUGIN_GUARD 1
#endif

namespace linkem {
namespace {

#if defined(LINKEM_PLUGIN_GUARD) && LINKEM_PLUGIN_GUARD
constexpr bool kPluginGuard = true;
#else
constexpr bool kPluginGuard = false;
#endif
constexpr uint32_t kGuardEntries = 8;                  // canary entries after the n a model is given
constexpr uint8_t kLossCanary = 0xA5;                  // never a valid verdict
constexpr uint64_t kDelayCanary = 0xA5C3A5C3A5C3A5C3;  // beyond kModelTimeLimitNs: never a valid delay

template <class T>
void set_guard(T *out, uint32_t n, T canary) {
    if constexpr (kPluginGuard)
        for (uint32_t g = 0; g < kGuardEntries; ++g) out[n + g] = canary;
}

// A model that wrote past its n outputs may have corrupted anything near
// them: say which one, and stop.
template <class T>
void check_guard(const T *out, uint32_t n, T canary, const ModelRef &model, const char *array) {
    if constexpr (kPluginGuard) {
        for (uint32_t g = 0; g < kGuardEntries; ++g)
            if (out[n + g] != canary) {
                std::fprintf(stderr,
                             "linkem: %s model \"%s\" wrote past the %u entries of %s[] it was given (entry %u): a plugin bug "
                             "(it must write exactly n entries); stopping\n",
                             model.model->kind == LKM_KIND_LOSS ? "loss" : "delay", model.model->name, n, array, n + g);
                std::abort();
            }
    }
}

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

uint32_t wire_length(uint32_t len_bytes, uint32_t overhead_bytes) {
    const uint64_t frame = overhead_bytes == kEthernetFraming ? std::max<uint64_t>(len_bytes, kMinEthernetFrame) : len_bytes;
    return static_cast<uint32_t>(frame + overhead_bytes);
}

uint64_t LinkModel::min_wire_bytes(uint32_t overhead_bytes) {
    return (overhead_bytes == kEthernetFraming ? kMinEthernetFrame : kMinFrame) + overhead_bytes;
}

uint64_t LinkModel::queue_slots_for(const LinkModelParams &p) {
    if (!p.bandwidth) return 0;  // no bottleneck, no queue
    uint64_t slots = UINT64_MAX;
    if (p.queue_limit_packets != 0) slots = p.queue_limit_packets;
    if (p.queue_limit_bytes != 0) slots = std::min(slots, p.queue_limit_bytes / min_wire_bytes(p.overhead_bytes) + 1);
    if (slots == UINT64_MAX) return 0;
    if (p.ecn_mark) slots *= 2;  // marked packets may fill the queue to twice its limits
    return std::min(slots, kMaxQueueSlots);
}

LinkModel::LinkModel(const LinkModelParams &params) : p_(params) {
    if (p_.delay && !p_.order_drop) {  // the only links that can hold a packet back (OrderKeepStats)
        held_.held_model_delay_ns = std::make_unique<Histogram>();
        held_.held_delivered_delay_ns = std::make_unique<Histogram>();
    }
    slots_.resize(queue_slots_for(p_));
}

void LinkModel::keep_order_histograms() {
    if (!held_.held_model_delay_ns) held_.held_model_delay_ns = std::make_unique<Histogram>();
    if (!held_.held_delivered_delay_ns) held_.held_delivered_delay_ns = std::make_unique<Histogram>();
}

uint64_t LinkModel::queue_ring_for(const LinkModelParams &params) const {
    const uint64_t own = queue_slots_for(params);
    return own == 0 ? 0 : std::max<uint64_t>(own, slots_.size());
}

void LinkModel::change(LinkModelParams &params, std::vector<QueueSlot> &ring) {
    for (auto [now, next] :
         {std::pair{&p_.bandwidth, &params.bandwidth}, std::pair{&p_.loss, &params.loss}, std::pair{&p_.delay, &params.delay}})
        if (*next && next->carry != nullptr && next->model == now->model && now->state != nullptr) next->carry(next->state, now->state);
    if (ring.empty()) {  // no queue limit now (or no bandwidth): the queue is not tracked
        head_ = count_ = queued_bytes_ = 0;
    } else {  // the queued packets, oldest first (ring.size() >= count_: queue_ring_for)
        for (uint64_t i = 0, at = head_; i < count_; ++i, at = at + 1 == slots_.size() ? 0 : at + 1) ring[i] = slots_[at];
        head_ = 0;
        if (count_ == 0) queued_bytes_ = 0;
    }
    std::swap(slots_, ring);
    std::swap(p_, params);
}

void LinkModel::reset() {
    last_exit_ns_ = 0;
    last_release_ns_ = 0;
    head_ = 0;
    count_ = 0;
    queued_bytes_ = 0;
    for (const ModelRef *m : {&p_.bandwidth, &p_.loss, &p_.delay})
        if (m->reset != nullptr) m->reset(m->state);
}

std::optional<ModelError> LinkModel::first_model_error() const {
    if (!has_model_error_.load(std::memory_order_acquire)) return std::nullopt;
    return model_error_;
}

void LinkModel::record_model_error(ModelError::What what, uint32_t kind, const ModelRef &model, uint64_t value, uint64_t packet_ns) {
    if (has_model_error_.load(std::memory_order_relaxed)) return;  // the first one only; this lcore is the one writer
    model_error_ = {what, kind, model.model->name, value, packet_ns};
    has_model_error_.store(true, std::memory_order_release);
}

void LinkModel::drain_until(uint64_t now_ns) {
    while (count_ != 0 && slots_[head_].start_ns <= now_ns) {
        queued_bytes_ -= slots_[head_].wire_bytes;
        head_ = head_ + 1 == slots_.size() ? 0 : head_ + 1;
        --count_;
    }
}

uint64_t LinkModel::queued_packets(uint64_t now_ns) const {
    uint64_t n = 0;
    for (uint64_t i = 0, at = head_; i < count_; ++i, at = at + 1 == slots_.size() ? 0 : at + 1)
        if (slots_[at].start_ns > now_ns) ++n;
    return n;
}

void LinkModel::admit_burst(const PacketIn *pkts, uint32_t n, Verdict *out, uint64_t room) {
    lkm_pkt admitted[kMaxBurst];  // the packets past the queue, in order
    uint32_t tags[kMaxBurst];     // and their LinkTags
    uint32_t index[kMaxBurst];    // their positions in pkts
    bool marks[kMaxBurst];        // admitted past a full queue, to be marked CE
    uint32_t k = 0;

    // 0-2. Room, queue and exit time, packet by packet: each depends on the last.
    for (uint32_t i = 0; i < n; ++i) {
        if (room == 0) {
            out[i] = {Fate::kDropArenaFull, false, 0, 0};
            continue;
        }
        const uint64_t arrival = pkts[i].arrival_ns;
        const uint32_t wire = wire_length(pkts[i].len_bytes, p_.overhead_bytes);
        uint64_t exit = arrival;
        bool waited = false, marked = false;
        if (p_.bandwidth) {
            drain_until(arrival);
            const bool over_packets = p_.queue_limit_packets != 0 && count_ + 1 > p_.queue_limit_packets;
            const bool over_bytes = p_.queue_limit_bytes != 0 && queued_bytes_ + wire > p_.queue_limit_bytes;
            const bool no_slot = !slots_.empty() && count_ == slots_.size();
            if (over_packets || over_bytes || no_slot) {
                const bool within_twice = (p_.queue_limit_packets == 0 || count_ + 1 <= 2 * p_.queue_limit_packets) &&
                                          (p_.queue_limit_bytes == 0 || queued_bytes_ + wire <= 2 * p_.queue_limit_bytes);
                if (!(p_.ecn_mark && pkts[i].ecn_capable && within_twice && !no_slot)) {
                    out[i] = {Fate::kDropQueue, false, 0, 0};
                    continue;
                }
                marked = true;
            }
            const uint64_t start = std::max(last_exit_ns_, arrival);
            exit = p_.bandwidth.model->finish_ns(p_.bandwidth.state, start, wire);
            if (exit < start || exit > kModelTimeLimitNs) [[unlikely]] {  // the frame never enters the link
                record_model_error(exit < start ? ModelError::What::kFinishBeforeStart : ModelError::What::kFinishBeyondLimit,
                                   LKM_KIND_BANDWIDTH, p_.bandwidth, exit, start);
                out[i] = {Fate::kDropModelError, false, 0, 0};
                continue;
            }
            waited = last_exit_ns_ >= arrival && link_sequence_ != 0;
            last_exit_ns_ = exit;
            if (!slots_.empty()) {
                slots_[(head_ + count_) % slots_.size()] = {start, wire};  // it waits in the queue until its transmission starts
                ++count_;
                queued_bytes_ += wire;
            }
        }
        marks[k] = marked;
        admitted[k] = {arrival, exit, pkts[i].len_bytes, wire};
        tags[k] = (link_sequence_ & LinkTag::kSequenceMask) | (waited ? LinkTag::kWaited : 0);
        ++link_sequence_;
        index[k++] = i;
        --room;
    }

    // 3. Loss on the wire, one call for the burst; the survivors move up.
    if (p_.loss && k != 0) {
        uint8_t lost[kMaxBurst + kGuardEntries];
        set_guard(lost, k, kLossCanary);
        p_.loss.model->loss_burst(p_.loss.state, admitted, k, lost);
        check_guard(lost, k, kLossCanary, p_.loss, "drop");
        uint32_t kept = 0;
        for (uint32_t j = 0; j < k; ++j) {
            if (lost[j] != 0) {
                if (lost[j] != 1) [[unlikely]] {
                    record_model_error(ModelError::What::kLossVerdict, LKM_KIND_LOSS, p_.loss, lost[j], admitted[j].exit_ns);
                    out[index[j]] = {Fate::kDropModelError, false, 0, 0};
                } else {
                    out[index[j]] = {Fate::kDropLoss, false, 0, 0};
                }
                continue;
            }
            admitted[kept] = admitted[j];
            tags[kept] = tags[j];
            marks[kept] = marks[j];
            index[kept++] = index[j];
        }
        k = kept;
    }

    // 4. Delay, one call for the burst; then release in order.
    uint64_t delay[kMaxBurst + kGuardEntries];
    if (p_.delay && k != 0) {
        set_guard(delay, k, kDelayCanary);
        p_.delay.model->delay_burst(p_.delay.state, admitted, k, delay);
        check_guard(delay, k, kDelayCanary, p_.delay, "delay_ns");
    }
    uint64_t held = 0, added_ns = 0, added_max_ns = 0;          // order keep, for the burst
    uint64_t held_model_sum_ns = 0, held_delivered_sum_ns = 0;  // the histograms' sums, added once per burst
    for (uint32_t j = 0; j < k; ++j) {
        const uint64_t exit = admitted[j].exit_ns;
        uint64_t due = exit;
        if (p_.delay) {
            if (delay[j] > kModelTimeLimitNs || exit > kModelTimeLimitNs - delay[j]) [[unlikely]] {  // no sum: it could wrap
                record_model_error(ModelError::What::kReleaseBeyondLimit, LKM_KIND_DELAY, p_.delay, delay[j], exit);
                out[index[j]] = {Fate::kDropModelError, false, 0, 0};
                continue;
            }
            due += delay[j];
        }
        if (due < last_release_ns_) {
            if (p_.order_drop) {
                out[index[j]] = {Fate::kDropOrder, false, 0, 0};
                continue;
            }
            const uint64_t added = last_release_ns_ - due;  // held back behind a predecessor released later
            ++held;
            added_ns += added;
            added_max_ns = std::max(added_max_ns, added);
            if (held_.held_model_delay_ns) {
                const uint64_t model_ns = due - admitted[j].arrival_ns, delivered_ns = last_release_ns_ - admitted[j].arrival_ns;
                held_.held_model_delay_ns->record_in_burst(model_ns);
                held_.held_delivered_delay_ns->record_in_burst(delivered_ns);
                held_model_sum_ns += model_ns;
                held_delivered_sum_ns += delivered_ns;
            }
        } else {
            last_release_ns_ = due;
        }
        out[index[j]] = {Fate::kForward, marks[j], tags[j], last_release_ns_};
    }
    if (held != 0) {
        held_.held_back.store(held_.held_back.load(std::memory_order_relaxed) + held, std::memory_order_relaxed);
        held_.added_ns.store(held_.added_ns.load(std::memory_order_relaxed) + added_ns, std::memory_order_relaxed);
        if (added_max_ns > held_.added_max_ns.load(std::memory_order_relaxed))
            held_.added_max_ns.store(added_max_ns, std::memory_order_relaxed);
        if (held_.held_model_delay_ns) {
            held_.held_model_delay_ns->add_sum(held_model_sum_ns);
            held_.held_delivered_delay_ns->add_sum(held_delivered_sum_ns);
        }
    }
}

}  // namespace linkem
