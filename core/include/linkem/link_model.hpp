// The link model: pure arithmetic on times and lengths, no DPDK types, so the
// same code runs in the emulator (real time) and in linkem-sim and tests
// (virtual time). The loss, delay and bandwidth models it calls are plugins
// (linkem/plugin.h), given as references to instances the caller owns.
//
// For each packet, in arrival order, admit_burst() decides its fate once
// (TLEM, section IV; docs/ARCHITECTURE.md "Link model"):
//
//   0. room: a packet that would find the delay arena full is dropped
//      (kDropArenaFull) before it touches any state;
//   1. queue check: the packets and wire bytes in the emulated queue at
//      t_arrival are those admitted earlier whose transmission has not started,
//      t_start > t_arrival: as in Linux qdiscs, ns-3, dummynet and Mahimahi, the
//      packet being transmitted has left the queue, so a limit of N packets
//      lets N wait behind the one on the wire (docs/CONFIG.md "queue"). If adding
//      this one would exceed a limit it is dropped (kDropQueue) and does not
//      occupy the link; with ecn_mark, an ECN-capable one is admitted instead
//      and marked (ce_marked), as long as the queue stays within twice its limits;
//   2. exit time from the bandwidth model (TLEM's formula, generalised):
//        t_exit = finish(max(t_exit_prev, t_arrival), wire_len)
//      With no bandwidth model, t_exit = t_arrival and no queue ever forms;
//   3. loss (one call for the burst): the packet is lost on the wire
//      (kDropLoss); it has already used its time on the link, as a frame hit
//      by noise does;
//   4. delay (one call for the burst), then release:
//        order keep: t_release = max(t_release_prev, t_exit + d)
//        order drop: a packet with t_exit + d < t_release_prev is dropped
//                    (kDropOrder), so the delay distribution stays exact.
//      Either way release times never decrease: nothing is reordered.
//
// A model result outside the plugin contract (docs/PLUGINS.md, "Results") is
// never used: a finish time before the frame's start or beyond
// kModelTimeLimitNs, a loss verdict other than 0 or 1, or a delay that puts
// the release beyond kModelTimeLimitNs (or would wrap) drops the packet as
// kDropModelError. A bandwidth error takes no link time (the frame never
// entered the link); loss and delay errors come after it did. The first bad
// value is kept (first_model_error()). With LINKEM_PLUGIN_GUARD (debug and
// debugoptimized builds: on unless NDEBUG), a loss or delay model that writes
// past the n entries of its output array is caught by a canary after them:
// linkem prints the model's name and aborts (its memory may be corrupt).
//
// A link with a queue discipline (LinkModelParams::queue, a plugin of kind
// LKM_KIND_QUEUE) does not decide at arrival: it HOLDS its queued packets and
// decides each one at its transmission start (docs/ARCHITECTURE.md "Queue
// disciplines"). hold() puts an arrival in the held queue (after the hard
// limits, a packet over them is kDropQueue, and the discipline's enqueue
// verdict: kDropAqmDrop); advance(t) decides every transmission start up to
// t: start = max(link free, head arrival), the discipline's dequeue verdict
// (a drop: kDropAqmDrop, and the next head at the same instant), then steps
// 2-4 above for the packets it sends. The caller advances to an arrival's
// time before holding it, so a decision at instant s sees exactly the
// arrivals before s (and those at s that came before it in arrival order,
// as in an event simulator). admit_burst() is not used on such a link.
//
// Contract: arrival times passed to admit_burst() and hold() never decrease,
// nor do the times passed to advance(); n <= 512; one LinkModel belongs to one
// lcore (no locks, no allocation after construction).
#pragma once

#include "linkem/drops.hpp"

#include <linkem/plugin.h>

#include "linkem/config.hpp"  // kMaxBurst
#include "linkem/histogram.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace linkem {

// A model instance as the link model calls it (owned elsewhere).
struct ModelRef {
    const lkm_model *model = nullptr;
    void *state = nullptr;
    void (*reset)(void *state) = nullptr;                             // its lkm_ext_reset callback, when it has one
    void (*carry)(void *new_state, const void *old_state) = nullptr;  // its lkm_ext_carry callback, when it has one
    explicit operator bool() const { return model != nullptr; }
};

// A scheduler choosing among several queues in front of the link (fair
// queueing; docs/ARCHITECTURE.md "Queue disciplines"): deficit round robin
// over the active queues, each with its quantum, and, with new_flow_priority,
// FQ-CoDel's list of new queues served first (RFC 8290 4.2). Each queue has
// its own instance of the discipline (or none: every verdict PASS). An
// arrival that takes the held packets over the hard limits is queued, and
// then up to drop_batch packets are dropped from the head of the fattest
// queue (its wire bytes over its quantum, the lowest index on a tie) until
// half of its bytes are gone (RFC 8290 4.1). The caller gives each packet's
// queue (PacketIn::queue < queues).
struct QueueScheduler {
    uint32_t queues = 0;                  // 0: no scheduler (one FIFO queue, LinkModelParams::queue its discipline)
    bool new_flow_priority = false;       // FQ-CoDel's new flows list; false: plain DRR
    std::vector<uint32_t> quantum_bytes;  // each queue's quantum, in frame bytes as received (Linux's qdisc length)
    std::vector<ModelRef> disciplines;    // each queue's discipline instance; empty: none
    uint32_t drop_batch = 64;             // the most packets one overload drops
};

struct LinkModelParams {
    uint32_t overhead_bytes = 0;       // per frame; with 24 (Ethernet framing) frames are also padded to 60 bytes
    uint64_t queue_limit_packets = 0;  // 0: no packet limit
    uint64_t queue_limit_bytes = 0;    // 0: no byte limit (counts wire bytes, overhead included)
    bool order_drop = false;           // drop what jitter would reorder, instead of holding it back
    bool ecn_mark = false;             // an ECN-capable packet that finds the queue full is marked CE and admitted,
                                       // up to twice the queue limits (then it is dropped as any other)
    ModelRef bandwidth;                // none: no rate limit
    ModelRef loss;                     // none: no random loss
    ModelRef delay;                    // none: no added delay
    ModelRef queue;                    // a queue discipline (LKM_KIND_QUEUE); none: tail drop, decided at arrival
    QueueScheduler scheduler;          // several queues (fair queueing), each with its discipline; the packets are held
    uint64_t link_rate_bps = 0;        // the rate a discipline is told (lkm_queue_state), 0: unknown
};

struct PacketIn {
    PacketIn() = default;  // trivial, so the data path's arrays of them cost nothing until written
    PacketIn(uint64_t arrival, uint32_t len, bool ecn = false, uint32_t q = 0)
        : arrival_ns(arrival), len_bytes(len), queue(q), ecn_capable(ecn) {}
    uint64_t arrival_ns;
    uint32_t len_bytes;  // frame length as received (no FCS)
    uint32_t queue;      // with a scheduler: the packet's queue (flow or class), below scheduler.queues; else 0
    bool ecn_capable;    // IP with ECT(0), ECT(1) or CE: may be marked instead of dropped (ecn_mark)
};

// kForward, or a drop counted on the rx side: kDropQueue, kDropLoss, kDropOrder, kDropArenaFull,
// kDropModelError (generated from the list of drop reasons, linkem/drops.hpp).
#define LINKEM_FATE_DROP(name, Camel, side, judged, text) LINKEM_DROP_IF_RX(side, kDrop##Camel, )
enum class Fate : uint8_t { kForward, LINKEM_LINK_DROPS(LINKEM_FATE_DROP) };
#undef LINKEM_FATE_DROP
#define LINKEM_FATE_ONE(name, Camel, side, judged, text) LINKEM_DROP_IF_RX(side, +1)
constexpr size_t kFates = 1 LINKEM_LINK_DROPS(LINKEM_FATE_ONE);  // kForward and the drops
#undef LINKEM_FATE_ONE

// The latest time a model may produce (a finish or a release time): 2^62 ns,
// about 146 years after linkem started. Beyond it a result is a model error.
constexpr uint64_t kModelTimeLimitNs = LKM_TIME_LIMIT_NS;

// The first result of a link's models that broke the contract.
struct ModelError {
    enum class What : uint8_t {
        kFinishBeforeStart,   // bandwidth: finish_ns returned a time before start_ns
        kFinishBeyondLimit,   // bandwidth: finish_ns returned a time beyond kModelTimeLimitNs
        kLossVerdict,         // loss: drop[i] neither 0 nor 1
        kReleaseBeyondLimit,  // delay: exit_ns + delay_ns[i] beyond kModelTimeLimitNs (or wrapping)
        kQueueVerdict         // queue: enqueue or dequeue returned neither PASS, DROP nor MARK
    };
    What what;
    uint32_t kind;       // LKM_KIND_*
    const char *model;   // the model's name (from its descriptor)
    uint64_t value;      // the bad value: the finish time, the verdict, the delay
    uint64_t packet_ns;  // the packet's time: its start on the link (bandwidth) or its exit (loss, delay)
};

// What the tx side needs to measure a link's fidelity without reading the
// model's state: each packet that took link time gets the next number of a
// 31-bit wrapping sequence (so a gap means a packet lost on the wire, a step
// back a reordering), and a flag when it waited for the link, that is, when
// the link stayed busy from the previous packet's exit to its own.
struct LinkTag {
    static constexpr uint32_t kSequenceMask = 0x7FFF'FFFF;
    static constexpr uint32_t kWaited = 0x8000'0000;
    static constexpr uint32_t sequence(uint32_t tag) { return tag & kSequenceMask; }
    static constexpr bool waited(uint32_t tag) { return (tag & kWaited) != 0; }
};

// Plain aggregates (no member initialisers), so the data path's arrays of
// them cost nothing until written; `{Fate::kDropQueue}` zeroes the rest.
struct Verdict {
    Fate fate;
    bool ce_marked;       // kForward past a full queue: the caller marks the packet Congestion Experienced
    uint32_t tag;         // a LinkTag, valid when fate == kForward
    uint64_t release_ns;  // valid when fate == kForward
};

// What order keep did: packets whose release a predecessor with a later
// release held back (t_exit + delay < t_release_prev), and the delay it added.
// The two histograms hold only those packets: the model's own delay (t_exit +
// delay - t_arrival) and the delivered one (t_release - t_arrival), so that
// the delivered delay distribution of every packet, less the held packets'
// delivered delays, plus their model delays, is the model's distribution
// (Histogram::replace), at no cost for a packet that is not held back.
// Written by the link's lcore once per burst (the histograms per held packet);
// read by the control thread (relaxed loads; histograms when the lcore stopped).
// Only a link with a delay model and order keep can hold a packet back (exit
// times never decrease), so only such a link gets the histograms (16 KB; a
// per-flow template has up to 65536 instances).
struct OrderKeepStats {
    std::atomic<uint64_t> held_back{0};                                       // packets
    std::atomic<uint64_t> added_ns{0};                                        // the delay added to them, summed
    std::atomic<uint64_t> added_max_ns{0};                                    // the most added to one packet
    std::unique_ptr<Histogram> held_model_delay_ns, held_delivered_delay_ns;  // made at construction, or none
};

// A packet a link with a queue discipline holds, and its fate once decided.
struct HeldPacket {
    uint64_t handle;  // the caller's name for it (an index into its frame store)
    uint64_t arrival_ns;
    uint32_t len_bytes;
    uint32_t wire_bytes;
    uint32_t queue;  // its queue (scheduler), else 0
    uint32_t next;   // the next record of its queue, or of the free list
    bool ecn_capable;
    bool marked;  // the discipline marked it CE at enqueue
};
struct Decided {
    uint64_t handle;  // as given to hold()
    uint64_t arrival_ns;
    uint32_t len_bytes;
    Verdict verdict;  // kForward (ce_marked: a MARK), kDropAqmDrop, kDropArenaFull, kDropLoss, kDropOrder, kDropModelError
};

// What a link's queue discipline did, beside its drops (Fate::kDropAqmDrop).
// Written by the link's lcore, read by the control thread (relaxed; the
// histogram when the lcore stopped).
struct QueueDisciplineStats {
    std::atomic<uint64_t> marks{0};          // MARK verdicts on ECN-capable packets (sent marked CE)
    std::atomic<uint64_t> mark_drops{0};     // MARK verdicts on packets not ECN-capable: dropped (counted as aqm_drop too)
    std::atomic<uint64_t> enqueue_drops{0};  // of the aqm_drop drops, those at arrival
    std::unique_ptr<Histogram> sojourn_ns;   // transmission start - arrival of the packets sent
    // With a scheduler: per queue (flow or class), what it sent and lost.
    struct Queue {
        std::atomic<uint64_t> sent{0}, sent_bytes{0};  // packets sent (marked ones too), their frame bytes
        std::atomic<uint64_t> sojourn_sum_ns{0};       // the sent packets' sojourn times, summed
        std::atomic<uint64_t> aqm_drops{0};            // its discipline's drops (at arrival or at transmission start)
        std::atomic<uint64_t> overload_drops{0};       // dropped from its head on overload (drop reason queue)
        std::atomic<uint64_t> marks{0};                // CE marks its discipline set
    };
    std::unique_ptr<Queue[]> queues;  // scheduler.queues of them, or none
    uint32_t queue_count = 0;
    std::atomic<uint64_t> overload_drops{0};  // with a scheduler: packets dropped from the fattest queue on overload
};

// One packet in the emulated queue: its exit time and wire bytes.
struct QueueSlot {
    uint64_t start_ns;  // when its transmission starts: it leaves the queue then
    uint64_t wire_bytes;
};

// A frame's length on the wire: padded to the Ethernet minimum when the
// overhead is Ethernet's, plus the overhead.
uint32_t wire_length(uint32_t len_bytes, uint32_t overhead_bytes);

class LinkModel {
  public:
    explicit LinkModel(const LinkModelParams &params);

    // Decides the fate of n (<= kMaxBurst) packets; out[i] belongs to pkts[i].
    // At most `room` packets are admitted past the queue (the free space of
    // the delay arena); the rest are kDropArenaFull and use no link time.
    void admit_burst(const PacketIn *pkts, uint32_t n, Verdict *out, uint64_t room = UINT64_MAX);

    // A link with a queue discipline (params.queue): puts packet p in the held
    // queue under `handle`, or refuses it: kDropQueue (over the hard limits,
    // no discipline call), kDropAqmDrop (the discipline's enqueue verdict).
    // Call advance(p.arrival_ns) first (until it returns 0).
    Fate hold(const PacketIn &p, uint64_t handle);
    // Decides the transmission starts at or before t (all of them with t = UINT64_MAX,
    // at the end of input): writes up to `cap` (<= kMaxBurst) decided packets
    // to out, in the order of their starts, and returns how many; call again
    // until it returns 0. At most `room` of them are sent (the free space of
    // the delay arena): the others are kDropArenaFull and take no link time.
    // When the link is free by t and the queue empty, the discipline's
    // dequeue(NULL) is called once for the busy period that ended.
    uint32_t advance(uint64_t t, Decided *out, uint32_t cap, uint64_t room = UINT64_MAX);
    // Packets held (a discipline's queue), their wire bytes.
    // (With a scheduler, an overload's drops are decided in hold() and handed
    // out by the next advance(), first, or by hand_out_evicted():
    // held_packets() counts them until then, held_bytes() does not.)
    uint64_t held_packets() const { return held_count_ + evicted_count_; }
    uint64_t held_bytes() const { return held_bytes_; }
    // Writes up to cap of an overload's drops (kDropQueue) to out, as advance() does first.
    uint32_t hand_out_evicted(Decided *out, uint32_t cap);
    // The records for held packets (0: no discipline): one per packet the hard
    // limits let wait, and with a scheduler one more (an overload's arrival is
    // queued before the fattest queue's head is dropped).
    uint64_t held_capacity() const { return pool_.size(); }
    // Calls f(const HeldPacket &) for each packet held (any order), for the
    // caller's shutdown accounting.
    template <class F>
    void for_each_held(F &&f) const {
        for (uint32_t i = 0; i < evicted_count_; ++i) f(pool_[evicted_[i]]);
        for (const SubQueue &q : queues_)
            for (uint32_t at = q.head; at != kNil; at = pool_[at].next) f(pool_[at]);
    }
    // Forgets the held packets (after the caller counted them); no discipline call.
    void forget_held();
    bool has_discipline() const { return !pool_.empty(); }
    // The scheduler's queues (0: none).
    uint32_t scheduler_queues() const { return p_.scheduler.queues; }
    const QueueDisciplineStats &discipline_stats() const { return aqm_; }
    // The held queue a discipline with these parameters needs (0: none):
    // one record per packet the hard limits let wait (and one, with a scheduler).
    static uint64_t held_slots_for(const LinkModelParams &params);

    // Forgets the queue and the last exit and release times (a per-flow link
    // recycled for a new flow), and resets each model that has the reset
    // extension (lkm_ext_reset: its state back to what create() made, its
    // random stream going on); a model without it goes on in its state, as
    // does the link's sequence. No allocation.
    void reset();

    // A runtime change (docs/ARCHITECTURE.md "Runtime changes"), on the
    // link's lcore, between two bursts: takes `params` (their model
    // instances made on the control side) and `ring` (a queue ring of
    // queue_ring_for() slots, made on the control side) and hands back the
    // old ones in the same variables, for the control side to destroy. The
    // queue state goes on: the last exit and release times, the sequence,
    // and the packets still queued (copied into the new ring, oldest first),
    // so new packets queue behind the old ones. A model that is the same as
    // before and has lkm_ext_carry takes over the old instance's state.
    // A link with a discipline keeps its held queue, its limits and its
    // overhead; a packet still held takes the bandwidth, loss and delay in
    // force when its transmission starts. Its discipline instances stay
    // (params.queue and params.scheduler come back as given) unless
    // new_disciplines: then each queue takes its new instance, which takes
    // over the old one's state when it is the same plugin with lkm_ext_carry
    // (the loader lets only the discipline and its parameters change).
    // No allocation, no lock.
    void change(LinkModelParams &params, std::vector<QueueSlot> &ring, bool new_disciplines = false);
    // The ring a change to `params` needs: its own slots, and room for what
    // the current ring may hold (none when the new parameters keep no queue).
    uint64_t queue_ring_for(const LinkModelParams &params) const;
    // Makes order keep's histograms now (control side, before the lcores
    // start), so a later change that adds a delay model finds them.
    void keep_order_histograms();

    // Packets in the emulated queue at time now_ns (for tests).
    uint64_t queued_packets(uint64_t now_ns) const;
    // Packets in the emulated queue as of the last arrival (cheap; for status lines).
    uint64_t queue_depth() const { return count_ + held_count_; }
    // The number of queue slots the model reserved (its memory is 16 bytes each).
    // What order keep held back (see OrderKeepStats); never touched with order drop.
    const OrderKeepStats &order_keep() const { return held_; }
    // The first model result outside the contract, once one was seen. Written
    // once by the lcore that runs admit_burst(), published with release order,
    // so the control thread may read it at any time.
    std::optional<ModelError> first_model_error() const;
    // The slots a model with these parameters reserves (0: no queue ring).
    static uint64_t queue_slots_for(const LinkModelParams &params);
    // The shortest frame on the wire, with the overhead (Ethernet pads to 60 bytes).
    static uint64_t min_wire_bytes(uint32_t overhead_bytes);

  private:
    using Slot = QueueSlot;
    void drain_until(uint64_t now_ns);
    // Steps 3-4 for k packets that took link time (admitted[j] is pkts' index[j]).
    void release(lkm_pkt *admitted, uint32_t *tags, uint32_t *index, bool *marks, uint32_t k, Verdict *out);
    void record_model_error(ModelError::What what, uint32_t kind, const ModelRef &model, uint64_t value, uint64_t packet_ns);

    LinkModelParams p_;
    uint64_t last_exit_ns_ = 0;
    uint64_t last_release_ns_ = 0;
    uint32_t link_sequence_ = 0;  // of the next packet to take link time (LinkTag)
    OrderKeepStats held_;
    // The queue as a ring of (start time, wire bytes) of admitted packets still waiting for the link.
    std::vector<Slot> slots_;
    uint64_t head_ = 0, count_ = 0, queued_bytes_ = 0;
    // A discipline's held packets: records in a pool, each queue a list of
    // them oldest first, the free ones a list too. Without a scheduler there
    // is one queue, with the link's discipline.
    static constexpr uint32_t kNil = UINT32_MAX;
    struct SubQueue {
        uint32_t head = kNil, tail = kNil;  // its packets, oldest first
        uint64_t packets = 0, bytes = 0;    // waiting, their wire bytes
        int64_t deficit = 0;                // DRR: the frame bytes it may still send this round
        uint32_t quantum = 0;
        uint32_t next_active = kNil;  // the next queue of its list
        uint8_t list = 0;             // kIdle, kNewList or kOldList
        ModelRef discipline;          // none: every verdict PASS
    };
    static constexpr uint8_t kIdle = 0, kNewList = 1, kOldList = 2;
    struct ActiveList {
        uint32_t head = kNil, tail = kNil;
    };
    void push_active(ActiveList &list, uint32_t q, uint8_t which);
    uint32_t pop_active(ActiveList &list);
    uint32_t next_queue(uint64_t now_ns);
    uint32_t pop_head(SubQueue &q);
    void free_record(uint32_t at) {  // back on the free list
        pool_[at].next = free_head_;
        free_head_ = at;
    }
    void drop_from_fattest();
    uint32_t verdict_of(uint32_t verdict, const HeldPacket &p, const ModelRef &by, uint64_t now_ns, Fate *fate);
    std::vector<HeldPacket> pool_;
    uint32_t free_head_ = kNil;
    std::vector<SubQueue> queues_;
    ActiveList new_list_, old_list_;  // new_list_ only with new_flow_priority
    uint32_t evicted_[kMaxBurst];     // an overload's drops (scheduler), until advance() hands them out
    uint32_t evicted_count_ = 0;
    uint64_t held_count_ = 0, held_bytes_ = 0;
    uint64_t decided_ns_ = 0;    // the start instant of the last decision (a sent or dropped head)
    uint64_t last_call_ns_ = 0;  // the last now_ns given to the discipline
    QueueDisciplineStats aqm_;
    ModelError model_error_{};
    std::atomic<bool> has_model_error_{false};
};

// splitmix64: derives independent stream seeds from one global seed.
uint64_t mix_seed(uint64_t seed, uint64_t salt);

}  // namespace linkem
