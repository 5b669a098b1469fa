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
constexpr uint64_t kDefaultHeldSlots = 1000;      // a discipline's held queue when no limit is given (the loader always gives one)

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
    if (!p.bandwidth || p.queue) return 0;  // no bottleneck, no queue; a discipline holds its queue (held_slots_for)
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
    if (p_.queue) {
        hq_.resize(held_slots_for(p_));
        aqm_.sojourn_ns = std::make_unique<Histogram>();
    }
}

uint64_t LinkModel::held_slots_for(const LinkModelParams &p) {
    if (!p.queue || !p.bandwidth) return 0;
    uint64_t slots = p.queue_limit_packets != 0 ? p.queue_limit_packets : UINT64_MAX;
    if (p.queue_limit_bytes != 0) slots = std::min(slots, p.queue_limit_bytes / min_wire_bytes(p.overhead_bytes) + 1);
    return std::min(slots == UINT64_MAX ? kDefaultHeldSlots : slots, kMaxQueueSlots);
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
    // The next packet's sequence skips one: the tx side's rate figure pairs
    // only consecutive packets, and across a change their releases may be
    // spaced by the change of delay, not by the link (release_tracker.hpp).
    ++link_sequence_;
}

void LinkModel::reset() {
    last_exit_ns_ = 0;
    last_release_ns_ = 0;
    head_ = 0;
    count_ = 0;
    queued_bytes_ = 0;
    held_head_ = held_count_ = held_bytes_ = 0;
    busy_ = false;
    for (const ModelRef *m : {&p_.bandwidth, &p_.loss, &p_.delay, &p_.queue})
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

    release(admitted, tags, index, marks, k, out);
}

void LinkModel::release(lkm_pkt *admitted, uint32_t *tags, uint32_t *index, bool *marks, uint32_t k, Verdict *out) {
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

Fate LinkModel::hold(const PacketIn &p, uint64_t handle) {
    const uint32_t wire = wire_length(p.len_bytes, p_.overhead_bytes);
    const bool over_packets = p_.queue_limit_packets != 0 && held_count_ + 1 > p_.queue_limit_packets;
    const bool over_bytes = p_.queue_limit_bytes != 0 && held_bytes_ + wire > p_.queue_limit_bytes;
    if (over_packets || over_bytes || held_count_ == hq_.size()) return Fate::kDropQueue;  // overload: no discipline call
    // An arrival stamped before a decision already made (linkem: at most one poll) arrives at that decision's instant.
    const uint64_t arrival = std::max(p.arrival_ns, last_call_ns_);
    const lkm_queue_pkt pkt{arrival, p.len_bytes, wire, 0, static_cast<uint8_t>(p.ecn_capable ? 1 : 0), {}};
    const lkm_queue_state q{arrival, held_count_, held_bytes_, p_.link_rate_bps};  // now = its arrival
    last_call_ns_ = arrival;
    const uint32_t verdict = p_.queue.model->enqueue(p_.queue.state, &pkt, &q);
    bool marked = false;
    if (verdict == LKM_QUEUE_MARK && p.ecn_capable) {
        marked = true;
    } else if (verdict != LKM_QUEUE_PASS) {
        if (verdict != LKM_QUEUE_DROP && verdict != LKM_QUEUE_MARK) [[unlikely]] {
            record_model_error(ModelError::What::kQueueVerdict, LKM_KIND_QUEUE, p_.queue, verdict, arrival);
            return Fate::kDropModelError;
        }
        if (verdict == LKM_QUEUE_MARK)
            aqm_.mark_drops.store(aqm_.mark_drops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        aqm_.enqueue_drops.store(aqm_.enqueue_drops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return Fate::kDropAqmDrop;
    }
    hq_[(held_head_ + held_count_) % hq_.size()] = {handle, arrival, p.len_bytes, wire, p.ecn_capable, marked};
    ++held_count_;
    held_bytes_ += wire;
    return Fate::kForward;
}

uint32_t LinkModel::advance(uint64_t t, Decided *out, uint32_t cap, uint64_t room) {
    lkm_pkt admitted[kMaxBurst];  // the packets sent, in order
    uint32_t tags[kMaxBurst];
    uint32_t index[kMaxBurst];  // their positions in out
    bool marks[kMaxBurst];
    Verdict verdicts[kMaxBurst];
    uint32_t n = 0, k = 0;
    uint64_t sojourn_sum = 0, marks_now = 0, mark_drops = 0;
    cap = std::min<uint32_t>(cap, kMaxBurst);
    while (n < cap) {
        if (held_count_ == 0) {
            // The link becomes free at max(last exit, last decision) and finds the queue empty: the busy period ends.
            const uint64_t free_at = std::max(last_exit_ns_, decided_ns_);
            if (busy_ && free_at <= t) {
                busy_ = false;
                const lkm_queue_state q{std::max(free_at, last_call_ns_), 0, 0, p_.link_rate_bps};
                last_call_ns_ = q.now_ns;
                p_.queue.model->dequeue(p_.queue.state, nullptr, &q);
            }
            break;
        }
        const HeldPacket head = hq_[held_head_];
        const uint64_t start = std::max({last_exit_ns_, head.arrival_ns, last_call_ns_});
        if (start > t) break;
        held_head_ = held_head_ + 1 == hq_.size() ? 0 : held_head_ + 1;
        --held_count_;
        held_bytes_ -= head.wire_bytes;
        busy_ = true;
        decided_ns_ = start;
        last_call_ns_ = start;
        const lkm_queue_pkt pkt{head.arrival_ns, head.len_bytes, head.wire_bytes, 0, static_cast<uint8_t>(head.ecn_capable ? 1 : 0), {}};
        const lkm_queue_state q{start, held_count_, held_bytes_, p_.link_rate_bps};
        const uint32_t verdict = p_.queue.model->dequeue(p_.queue.state, &pkt, &q);
        Decided &d = out[n];
        d = {head.handle, head.arrival_ns, head.len_bytes, {Fate::kForward, false, 0, 0}};
        if (verdict != LKM_QUEUE_PASS && !(verdict == LKM_QUEUE_MARK && head.ecn_capable)) {
            if (verdict != LKM_QUEUE_DROP && verdict != LKM_QUEUE_MARK) [[unlikely]] {
                record_model_error(ModelError::What::kQueueVerdict, LKM_KIND_QUEUE, p_.queue, verdict, start);
                d.verdict.fate = Fate::kDropModelError;
            } else {
                mark_drops += verdict == LKM_QUEUE_MARK ? 1 : 0;
                d.verdict.fate = Fate::kDropAqmDrop;
            }
            ++n;
            continue;  // the next head, at the same instant
        }
        if (room == 0) {  // the delay arena is full: no link time
            d.verdict.fate = Fate::kDropArenaFull;
            ++n;
            continue;
        }
        const uint64_t exit = p_.bandwidth.model->finish_ns(p_.bandwidth.state, start, head.wire_bytes);
        if (exit < start || exit > kModelTimeLimitNs) [[unlikely]] {  // the frame never enters the link
            record_model_error(exit < start ? ModelError::What::kFinishBeforeStart : ModelError::What::kFinishBeyondLimit,
                               LKM_KIND_BANDWIDTH, p_.bandwidth, exit, start);
            d.verdict.fate = Fate::kDropModelError;
            ++n;
            continue;
        }
        const bool waited = last_exit_ns_ >= head.arrival_ns && link_sequence_ != 0;
        last_exit_ns_ = exit;
        --room;
        const bool mark = head.marked || verdict == LKM_QUEUE_MARK;
        marks_now += verdict == LKM_QUEUE_MARK ? 1 : 0;
        aqm_.sojourn_ns->record_in_burst(start - head.arrival_ns);
        sojourn_sum += start - head.arrival_ns;
        marks[k] = mark;
        admitted[k] = {head.arrival_ns, exit, head.len_bytes, head.wire_bytes};
        tags[k] = (link_sequence_ & LinkTag::kSequenceMask) | (waited ? LinkTag::kWaited : 0);
        ++link_sequence_;
        index[k++] = n++;
    }
    if (k != 0) {
        aqm_.sojourn_ns->add_sum(sojourn_sum);
        uint32_t at[kMaxBurst];
        for (uint32_t j = 0; j < k; ++j) at[j] = j;
        release(admitted, tags, at, marks, k, verdicts);
        for (uint32_t j = 0; j < k; ++j) out[index[j]].verdict = verdicts[j];
    }
    if (marks_now != 0) aqm_.marks.store(aqm_.marks.load(std::memory_order_relaxed) + marks_now, std::memory_order_relaxed);
    if (mark_drops != 0) aqm_.mark_drops.store(aqm_.mark_drops.load(std::memory_order_relaxed) + mark_drops, std::memory_order_relaxed);
    return n;
}

}  // namespace linkem
