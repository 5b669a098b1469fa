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
__extension__ using u128 = unsigned __int128;
constexpr uint64_t kDefaultHeldSlots = 1000;  // a discipline's held queue when no limit is given (the loader always gives one)

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
    if (!p.bandwidth || p.queue || p.scheduler.queues != 0) return 0;  // no bottleneck, no queue; a held queue (held_slots_for)
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
    if (const uint64_t records = held_slots_for(p_); records != 0) {
        pool_.resize(records);
        forget_held();
        const uint32_t n = p_.scheduler.queues != 0 ? p_.scheduler.queues : 1;
        queues_.resize(n);
        for (uint32_t i = 0; i < n; ++i) {
            SubQueue &q = queues_[i];
            if (p_.scheduler.queues == 0) {  // one FIFO queue: DRR never rotates it
                q.quantum = UINT32_MAX >> 1;
                q.discipline = p_.queue;
            } else {
                q.quantum = p_.scheduler.quantum_bytes.at(i);
                if (!p_.scheduler.disciplines.empty()) q.discipline = p_.scheduler.disciplines.at(i);
            }
        }
        aqm_.sojourn_ns = std::make_unique<Histogram>();
        if (p_.scheduler.queues != 0) {
            aqm_.queues = std::make_unique<QueueDisciplineStats::Queue[]>(n);
            aqm_.queue_count = n;
        }
    }
}

uint64_t LinkModel::held_slots_for(const LinkModelParams &p) {
    if ((!p.queue && p.scheduler.queues == 0) || !p.bandwidth) return 0;
    uint64_t slots = p.queue_limit_packets != 0 ? p.queue_limit_packets : UINT64_MAX;
    if (p.queue_limit_bytes != 0) slots = std::min(slots, p.queue_limit_bytes / min_wire_bytes(p.overhead_bytes) + 1);
    slots = std::min(slots == UINT64_MAX ? kDefaultHeldSlots : slots, kMaxQueueSlots);
    return p.scheduler.queues != 0 ? slots + 1 : slots;
}

void LinkModel::forget_held() {
    for (uint32_t i = 0; i < pool_.size(); ++i) pool_[i].next = i + 1 == pool_.size() ? kNil : i + 1;
    free_head_ = pool_.empty() ? kNil : 0;
    for (SubQueue &q : queues_) {
        q.head = q.tail = kNil;
        q.packets = q.bytes = 0;
        q.next_active = kNil;
        q.list = kIdle;
    }
    new_list_ = old_list_ = {};
    evicted_count_ = 0;
    held_count_ = held_bytes_ = 0;
}

void LinkModel::keep_order_histograms() {
    if (!held_.held_model_delay_ns) held_.held_model_delay_ns = std::make_unique<Histogram>();
    if (!held_.held_delivered_delay_ns) held_.held_delivered_delay_ns = std::make_unique<Histogram>();
}

uint64_t LinkModel::queue_ring_for(const LinkModelParams &params) const {
    const uint64_t own = queue_slots_for(params);
    return own == 0 ? 0 : std::max<uint64_t>(own, slots_.size());
}

void LinkModel::change(LinkModelParams &params, std::vector<QueueSlot> &ring, bool new_disciplines) {
    for (auto [now, next] :
         {std::pair{&p_.bandwidth, &params.bandwidth}, std::pair{&p_.loss, &params.loss}, std::pair{&p_.delay, &params.delay}})
        if (*next && next->carry != nullptr && next->model == now->model && now->state != nullptr) next->carry(next->state, now->state);
    if (!pool_.empty()) {  // a held queue: it goes on, with its limits and overhead (the loader refuses changes of them)
        if (new_disciplines) {
            // Each queue takes its new discipline instance, carrying the old one's state.
            const bool scheduled = p_.scheduler.queues != 0;
            for (uint32_t i = 0; i < queues_.size(); ++i) {
                const ModelRef next = !scheduled                                ? params.queue
                                      : i < params.scheduler.disciplines.size() ? params.scheduler.disciplines[i]
                                                                                : ModelRef{};
                const ModelRef &now = queues_[i].discipline;
                if (next && now && next.carry != nullptr && next.model == now.model) next.carry(next.state, now.state);
                queues_[i].discipline = next;
            }
        } else {  // the same disciplines go on (the new ones, made for the same configuration, go back unused)
            std::swap(params.queue, p_.queue);
            std::swap(params.scheduler, p_.scheduler);
        }
        params.queue_limit_packets = p_.queue_limit_packets;
        params.queue_limit_bytes = p_.queue_limit_bytes;
        params.overhead_bytes = p_.overhead_bytes;
        params.ecn_mark = p_.ecn_mark;
    }
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
    if (!pool_.empty()) forget_held();
    for (const ModelRef *m : {&p_.bandwidth, &p_.loss, &p_.delay, &p_.queue})
        if (m->reset != nullptr) m->reset(m->state);
    for (const ModelRef &m : p_.scheduler.disciplines)
        if (m.reset != nullptr) m.reset(m.state);
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

void LinkModel::push_active(ActiveList &list, uint32_t q, uint8_t which) {
    queues_[q].next_active = kNil;
    queues_[q].list = which;
    if (list.tail == kNil)
        list.head = q;
    else
        queues_[list.tail].next_active = q;
    list.tail = q;
}

uint32_t LinkModel::pop_active(ActiveList &list) {
    const uint32_t q = list.head;
    list.head = queues_[q].next_active;
    if (list.head == kNil) list.tail = kNil;
    queues_[q].list = kIdle;
    return q;
}

// Deficit round robin (RFC 8290 4.2, which ns-3's FqCoDelQueueDisc follows):
// the queue whose head goes next at now_ns, or kNil when no queue holds a
// packet. The new list first: a queue whose deficit is spent gets a quantum
// more and goes to the end of the old list. A queue found empty is given its
// discipline's dequeue(NULL) and goes from the new list to the end of the
// old one, or from the old list out of the lists.
uint32_t LinkModel::next_queue(uint64_t now_ns) {
    for (;;) {
        bool from_new = false;
        while (new_list_.head != kNil && queues_[new_list_.head].deficit <= 0) {
            const uint32_t q = pop_active(new_list_);
            queues_[q].deficit += queues_[q].quantum;
            push_active(old_list_, q, kOldList);
        }
        uint32_t q = new_list_.head;
        if (q != kNil) {
            from_new = true;
        } else {
            while (old_list_.head != kNil && queues_[old_list_.head].deficit <= 0) {
                const uint32_t spent = pop_active(old_list_);
                queues_[spent].deficit += queues_[spent].quantum;
                push_active(old_list_, spent, kOldList);
            }
            q = old_list_.head;
            if (q == kNil) return kNil;
        }
        SubQueue &sq = queues_[q];
        if (sq.packets != 0) return q;
        if (sq.discipline) {
            const lkm_queue_state empty{now_ns, 0, 0, p_.link_rate_bps};
            sq.discipline.model->dequeue(sq.discipline.state, nullptr, &empty);
        }
        pop_active(from_new ? new_list_ : old_list_);
        if (from_new) push_active(old_list_, q, kOldList);
    }
}

// Takes q's head out of the held packets (its record stays taken: the caller frees it).
uint32_t LinkModel::pop_head(SubQueue &q) {
    const uint32_t at = q.head;
    const HeldPacket &h = pool_[at];
    q.head = h.next;
    if (q.head == kNil) q.tail = kNil;
    --q.packets;
    q.bytes -= h.wire_bytes;
    --held_count_;
    held_bytes_ -= h.wire_bytes;
    return at;
}

// An overload (scheduler): drop from the head of the fattest queue until half
// of its bytes are gone, at most drop_batch packets (RFC 8290 4.1).
void LinkModel::drop_from_fattest() {
    uint32_t fattest = 0;
    for (uint32_t i = 1; i < queues_.size(); ++i) {  // bytes / quantum, compared without dividing
        if (u128{queues_[i].bytes} * queues_[fattest].quantum > u128{queues_[fattest].bytes} * queues_[i].quantum) fattest = i;
    }
    SubQueue &q = queues_[fattest];
    const uint64_t threshold = q.bytes / 2;
    uint64_t dropped_bytes = 0;
    uint32_t count = 0;
    while (q.packets != 0 && evicted_count_ < kMaxBurst) {  // (hold() is called with none pending: at most drop_batch)
        const uint32_t at = pop_head(q);
        dropped_bytes += pool_[at].wire_bytes;
        evicted_[evicted_count_++] = at;
        if (++count >= p_.scheduler.drop_batch || dropped_bytes >= threshold) break;
    }
    aqm_.overload_drops.store(aqm_.overload_drops.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
    auto &figures = aqm_.queues[fattest].overload_drops;
    figures.store(figures.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
}

// A discipline's verdict on p: PASS (fate kForward), MARK on an ECN-capable
// packet (kForward, returns MARK), else a drop (kDropAqmDrop; MARK on one
// that is not ECN-capable is counted in mark_drops) or a model error.
uint32_t LinkModel::verdict_of(uint32_t verdict, const HeldPacket &p, const ModelRef &by, uint64_t now_ns, Fate *fate) {
    *fate = Fate::kForward;
    if (verdict == LKM_QUEUE_PASS || (verdict == LKM_QUEUE_MARK && p.ecn_capable)) return verdict;
    if (verdict != LKM_QUEUE_DROP && verdict != LKM_QUEUE_MARK) [[unlikely]] {
        record_model_error(ModelError::What::kQueueVerdict, LKM_KIND_QUEUE, by, verdict, now_ns);
        *fate = Fate::kDropModelError;
        return verdict;
    }
    if (verdict == LKM_QUEUE_MARK) aqm_.mark_drops.store(aqm_.mark_drops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    *fate = Fate::kDropAqmDrop;
    return verdict;
}

Fate LinkModel::hold(const PacketIn &p, uint64_t handle) {
    const bool scheduled = p_.scheduler.queues != 0;
    const uint32_t wire = wire_length(p.len_bytes, p_.overhead_bytes);
    const uint32_t qi = scheduled ? std::min(p.queue, p_.scheduler.queues - 1) : 0;
    if (!scheduled) {  // one FIFO queue: over the hard limits, refused without a discipline call
        const bool over_packets = p_.queue_limit_packets != 0 && held_count_ + 1 > p_.queue_limit_packets;
        const bool over_bytes = p_.queue_limit_bytes != 0 && held_bytes_ + wire > p_.queue_limit_bytes;
        if (over_packets || over_bytes) return Fate::kDropQueue;
    }
    if (free_head_ == kNil) return Fate::kDropQueue;  // no record (a scheduler's overload always frees some)
    // An arrival stamped before a decision already made (linkem: at most one poll) arrives at that decision's instant.
    const uint64_t arrival = std::max(p.arrival_ns, last_call_ns_);
    last_call_ns_ = arrival;
    SubQueue &q = queues_[qi];
    // A scheduler's queue becomes active as the packet arrives, before its discipline decides (as ns-3's FqCoDel).
    if (scheduled && q.list == kIdle) {
        q.deficit = q.quantum;
        push_active(p_.scheduler.new_flow_priority ? new_list_ : old_list_, qi, p_.scheduler.new_flow_priority ? kNewList : kOldList);
    }
    HeldPacket held{handle, arrival, p.len_bytes, wire, qi, kNil, p.ecn_capable, false};
    if (q.discipline) {
        const lkm_queue_pkt pkt{arrival, p.len_bytes, wire, qi, static_cast<uint8_t>(p.ecn_capable ? 1 : 0), {}};
        const lkm_queue_state state{arrival, q.packets, q.bytes, p_.link_rate_bps};  // now = its arrival
        Fate fate;
        const uint32_t verdict =
            verdict_of(q.discipline.model->enqueue(q.discipline.state, &pkt, &state), held, q.discipline, arrival, &fate);
        if (fate != Fate::kForward) {
            if (fate == Fate::kDropAqmDrop) {
                aqm_.enqueue_drops.store(aqm_.enqueue_drops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                if (scheduled)
                    aqm_.queues[qi].aqm_drops.store(aqm_.queues[qi].aqm_drops.load(std::memory_order_relaxed) + 1,
                                                    std::memory_order_relaxed);
            }
            return fate;
        }
        held.marked = verdict == LKM_QUEUE_MARK;
    }
    if (!scheduled) {  // a FIFO queue is active while it holds packets, and until it is found empty
        if (q.list == kIdle) push_active(old_list_, 0, kOldList);
    }
    const uint32_t at = free_head_;
    free_head_ = pool_[at].next;
    pool_[at] = held;
    if (q.tail == kNil)
        q.head = at;
    else
        pool_[q.tail].next = at;
    q.tail = at;
    ++q.packets;
    q.bytes += wire;
    ++held_count_;
    held_bytes_ += wire;
    if (scheduled) {
        const bool over_packets = p_.queue_limit_packets != 0 && held_count_ > p_.queue_limit_packets;
        const bool over_bytes = p_.queue_limit_bytes != 0 && held_bytes_ > p_.queue_limit_bytes;
        if (over_packets || over_bytes) drop_from_fattest();
    }
    return Fate::kForward;
}

uint32_t LinkModel::hand_out_evicted(Decided *out, uint32_t cap) {
    uint32_t e = 0;
    for (; e < evicted_count_ && e < cap; ++e) {
        const HeldPacket &h = pool_[evicted_[e]];
        out[e] = {h.handle, h.arrival_ns, h.len_bytes, {Fate::kDropQueue, false, 0, 0}};
        free_record(evicted_[e]);
    }
    std::copy(evicted_ + e, evicted_ + evicted_count_, evicted_);
    evicted_count_ -= e;
    return e;
}

uint32_t LinkModel::advance(uint64_t t, Decided *out, uint32_t cap, uint64_t room) {
    lkm_pkt admitted[kMaxBurst];  // the packets sent, in order
    uint32_t tags[kMaxBurst];
    uint32_t index[kMaxBurst];  // their positions in out
    bool marks[kMaxBurst];
    Verdict verdicts[kMaxBurst];
    uint32_t n = 0, k = 0;
    uint64_t sojourn_sum = 0, marks_now = 0;
    cap = std::min<uint32_t>(cap, kMaxBurst);
    // An overload's drops first: they were decided when the packet that caused it arrived.
    n = hand_out_evicted(out, cap);
    while (n < cap) {
        if (held_count_ == 0) {
            // The link becomes free at max(last exit, last decision) and finds no packet: the queues
            // still on the lists are found empty then (their disciplines' dequeue(NULL)).
            const uint64_t free_at = std::max(last_exit_ns_, decided_ns_);
            if (old_list_.head != kNil || new_list_.head != kNil) {
                if (free_at > t) break;
                last_call_ns_ = std::max(free_at, last_call_ns_);
                next_queue(last_call_ns_);
            }
            break;
        }
        const uint64_t start = std::max(last_exit_ns_, last_call_ns_);  // every held packet arrived by last_call_ns_
        if (start > t) break;
        const uint32_t qi = next_queue(start);
        SubQueue &q = queues_[qi];
        const uint32_t at = pop_head(q);
        const HeldPacket head = pool_[at];
        free_record(at);
        decided_ns_ = start;
        last_call_ns_ = start;
        Decided &d = out[n];
        d = {head.handle, head.arrival_ns, head.len_bytes, {Fate::kForward, false, 0, 0}};
        uint32_t verdict = LKM_QUEUE_PASS;
        if (q.discipline) {
            const lkm_queue_pkt pkt{
                head.arrival_ns, head.len_bytes, head.wire_bytes, qi, static_cast<uint8_t>(head.ecn_capable ? 1 : 0), {}};
            const lkm_queue_state state{start, q.packets, q.bytes, p_.link_rate_bps};
            verdict = verdict_of(q.discipline.model->dequeue(q.discipline.state, &pkt, &state), head, q.discipline, start, &d.verdict.fate);
        }
        QueueDisciplineStats::Queue *figures = aqm_.queues ? &aqm_.queues[qi] : nullptr;
        if (d.verdict.fate != Fate::kForward) {
            if (figures != nullptr && d.verdict.fate == Fate::kDropAqmDrop)
                figures->aqm_drops.store(figures->aqm_drops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
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
        q.deficit -= head.len_bytes;
        const bool waited = last_exit_ns_ >= head.arrival_ns && link_sequence_ != 0;
        last_exit_ns_ = exit;
        --room;
        const bool mark = head.marked || verdict == LKM_QUEUE_MARK;
        marks_now += mark ? 1 : 0;  // marked at enqueue (PIE, RED) or now (CoDel)
        const uint64_t sojourn = start - head.arrival_ns;
        aqm_.sojourn_ns->record_in_burst(sojourn);
        sojourn_sum += sojourn;
        if (figures != nullptr) {
            figures->sent.store(figures->sent.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            figures->sent_bytes.store(figures->sent_bytes.load(std::memory_order_relaxed) + head.len_bytes, std::memory_order_relaxed);
            figures->sojourn_sum_ns.store(figures->sojourn_sum_ns.load(std::memory_order_relaxed) + sojourn, std::memory_order_relaxed);
            if (mark) figures->marks.store(figures->marks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
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
    return n;
}

}  // namespace linkem
