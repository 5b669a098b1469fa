#include "stages.hpp"
#include "replay_stage.hpp"

#include "linkem/pipeline_egress.hpp"
#include "linkem/pipeline_ingress.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_pause.h>

#include <algorithm>
#include <ctime>
#include <sys/prctl.h>

namespace linkem {
namespace {

constexpr uint64_t kHandoffSlackNs = 100'000;  // a receive stage stamps a burst this long at most before it is on the ring
constexpr int kTxAttempts = 8;                 // tx_burst calls before the rest counts as tx_full
constexpr uint32_t kIdlePollsBeforeSleep = 256;
constexpr uint64_t kLongestSleepNs = 10'000'000;  // so stop requests are seen within ~10 ms
constexpr uint64_t kMaxWakeMarginNs = 2'000'000;  // never wake earlier than this for fear of oversleeping

uint64_t now_ns(const TscClock &clock) { return clock.to_ns(rte_rdtsc()); }

// A burst of mbufs as the pipeline's ingress step reads frames
// (pipeline_ingress.hpp): all arrived at once.
struct MbufFrames {
    rte_mbuf *const *mbufs;
    uint64_t arrival;
    uint32_t len(uint16_t i) const { return mbufs[i]->pkt_len; }
    const uint8_t *head(uint16_t i) const { return rte_pktmbuf_mtod(mbufs[i], const uint8_t *); }
    uint32_t head_len(uint16_t i) const { return mbufs[i]->data_len; }
    void copy(uint16_t i, uint8_t *dst, uint32_t n) const {
        const void *data = rte_pktmbuf_read(mbufs[i], 0, n, dst);  // copies only a chained mbuf
        if (data != dst) rte_memcpy(dst, data, n);
    }
    uint64_t arrival_ns(uint16_t) const { return arrival; }
};

// Admits a burst that arrived at arrival_ns and frees its mbufs.
void admit_mbufs(IngressRuntime &in, rte_mbuf **mbufs, uint16_t n, uint64_t arrival_ns, uint64_t start_ns, const TscClock &clock) {
    admit_burst(in, MbufFrames{mbufs, arrival_ns}, n, start_ns, [&clock] { return now_ns(clock); });
    rte_pktmbuf_free_bulk(mbufs, n);
}

// Up to when a replay source's arrivals are all admitted: its packets not
// yet taken arrive at or after its cursor's next time (a runtime change may
// be taken between bursts up to there, not beyond: link_change.hpp).
uint64_t replay_poll_ns(const RxPort &in, uint64_t now) {
    const uint64_t next = in.replay->cursor.next_ns();
    return next == 0 ? 0 : std::min(now, next - 1);
}

// rx stage of one arrival port: receive a burst (one clock read) and admit it.
uint32_t rx_stage(RxPort &in, const LcoreTask &task) {
    if (in.replay != nullptr) return replay_stage(in, task);
    rte_mbuf *mbufs[kMaxBurst];
    const uint16_t n = rte_eth_rx_burst(in.port_id, 0, mbufs, static_cast<uint16_t>(task.burst));
    if (n == 0) return 0;
    const uint64_t arrival_ns = now_ns(*task.clock);
    admit_mbufs(*in.ingress, mbufs, n, arrival_ns, arrival_ns, *task.clock);
    return n;
}

// receive stage (with a classify lcore): receive at most what the port's
// handoff ring has room for, stamp it with its arrival time, put it on the
// ring. A full ring leaves the packets in the port's queue: while the classify
// lcore falls behind, the port drops what it cannot hold and counts it
// (imissed), and this lcore does not spend its time receiving packets only to
// free them.
uint32_t receive_stage(RxPort &in, const LcoreTask &task) {
    // A replay source has no mbufs to hand over: it admits on this lcore.
    if (in.replay != nullptr) return replay_stage(in, task);
    const unsigned room = std::min(rte_ring_free_count(in.handoff), task.burst);  // grows only: this stage is the one producer
    if (room == 0) return 0;
    rte_mbuf *mbufs[kMaxBurst];
    const uint16_t n = rte_eth_rx_burst(in.port_id, 0, mbufs, static_cast<uint16_t>(room));
    if (n == 0) return 0;
    const uint64_t arrival_ns = now_ns(*task.clock);
    HandoffEntry entries[kMaxBurst];
    for (uint16_t i = 0; i < n; ++i) entries[i] = {mbufs[i], arrival_ns};
    rte_ring_sp_enqueue_bulk_elem(in.handoff, entries, sizeof(HandoffEntry), n, nullptr);
    return n;
}

// classify stage (on the classify lcore): take up to a burst off the port's
// handoff ring and admit it, one run of equal arrival times at a time. The
// mbufs were written on another core: their headers, then their first data
// lines, are fetched for the whole burst before it is looked at.
uint32_t classify_stage(RxPort &in, const LcoreTask &task) {
    HandoffEntry entries[kMaxBurst];
    const unsigned n = rte_ring_sc_dequeue_burst_elem(in.handoff, entries, sizeof(HandoffEntry), task.burst, nullptr);
    if (n == 0) return 0;
    for (unsigned i = 0; i < n; ++i) rte_prefetch0(entries[i].mbuf);
    for (unsigned i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(entries[i].mbuf, const void *));
    rte_mbuf *mbufs[kMaxBurst];
    for (unsigned i = 0; i < n;) {
        const uint64_t arrival_ns = entries[i].arrival_ns;
        uint16_t k = 0;
        for (; i < n && entries[i].arrival_ns == arrival_ns; ++i) mbufs[k++] = entries[i].mbuf;
        admit_mbufs(*in.ingress, mbufs, k, arrival_ns, now_ns(*task.clock), *task.clock);
    }
    return n;
}

// A frame from the arena into an mbuf (chained when longer than one mbuf's room).
bool fill_mbuf(rte_mempool *pool, rte_mbuf *m, const uint8_t *data, uint32_t len) {
    uint32_t room = rte_pktmbuf_tailroom(m);
    uint32_t take = std::min(room, len);
    rte_memcpy(rte_pktmbuf_mtod(m, void *), data, take);
    m->data_len = static_cast<uint16_t>(take);
    m->pkt_len = len;
    rte_mbuf *last = m;
    for (uint32_t done = take; done < len; done += take) {
        rte_mbuf *seg = rte_pktmbuf_alloc(pool);
        if (seg == nullptr) return false;
        take = std::min<uint32_t>(rte_pktmbuf_tailroom(seg), len - done);
        rte_memcpy(rte_pktmbuf_mtod(seg, void *), data + done, take);
        seg->data_len = static_cast<uint16_t>(take);
        last->next = seg;
        last = seg;
        ++m->nb_segs;
    }
    return true;
}

// tx stage of one destination port: take what is due from each lane that
// ends here (at most a burst, in release-time order across lanes); copy each
// record into an mbuf; send in bursts; settle. What the port will not take
// after a few attempts (or what finds no mbuf) is freed and counted as
// tx_full on its link. Each packet sent is observed once (lateness, order,
// rate) at the time its burst was handed to the port.
uint32_t tx_stage(TxPort &out, const LcoreTask &task, uint64_t now) {
    DueBurst due;
    const uint32_t n = take_due(*out.egress, now, task.burst, due);
    if (n == 0) return 0;

    rte_mbuf *mbufs[kMaxBurst];
    uint32_t record_of[kMaxBurst];  // mbufs[k] carries due.record[record_of[k]]
    uint32_t ready = 0;
    if (rte_pktmbuf_alloc_bulk(out.pool, mbufs, n) == 0) {  // else the pool is dry: every one of them is dropped
        for (uint32_t i = 0; i < n; ++i) {
            if (!fill_mbuf(out.pool, mbufs[i], due.record[i]->data(), due.record[i]->len_bytes)) {
                rte_pktmbuf_free(mbufs[i]);
                continue;
            }
            record_of[ready] = i;
            mbufs[ready++] = mbufs[i];
        }
    }

    // Lateness is taken when the burst is handed to the driver: what the
    // driver does next (af_packet's sendto delivers into the peer's stack
    // before it returns) is the port's time, not linkem's.
    const uint64_t sent_ns = now_ns(*task.clock);
    uint32_t sent = 0;
    for (int attempt = 0; attempt < kTxAttempts && sent < ready; ++attempt)
        sent += rte_eth_tx_burst(out.port_id, 0, mbufs + sent, static_cast<uint16_t>(ready - sent));
    LinkRuntime *only_link = due.lanes_used == 1 ? due.lane_of[0]->link : nullptr;
    settle_due(due, record_of, sent, sent_ns);
    if (sent < ready) rte_pktmbuf_free_bulk(mbufs + sent, ready - sent);
    if (only_link != nullptr) only_link->tx.busy_ns.add(now_ns(*task.clock) - now);
    return n;
}

// How long this lcore may sleep. A nap that ends at a release deadline (the
// earliest next release minus the threshold; a new packet is never due before
// the head of its arena, nor sooner than the link's constant delay after
// arriving) is shortened by the lcore's wake margin. A poll nap of at most one
// threshold has no deadline, so it is not shortened: a receiving lcore takes
// it between polls, and so does a tx lcore with an empty lane whose link has
// no constant delay longer than the threshold (no delay, a short one, or a
// model such as normal jitter, which has no floor above 0). A packet admitted
// during such a nap whose delay is shorter than the nap plus the wake-up's
// own lateness leaves that much late; one with a longer delay, on time.
// 0 means spin. An lcore that has moved nothing for idle_after takes poll
// naps of idle_nap instead (idle back-off): a packet arriving during one is
// received, and timestamped, up to that much late.
struct Nap {
    uint64_t deadline_ns;  // sleep until this much before the deadline (0: none within the horizon)
    uint64_t poll_ns;      // or this long, with no deadline
};

Nap plan_nap(const LcoreTask &task, bool receiving, bool backed_off, uint64_t now) {
    uint64_t horizon = now + kLongestSleepNs;
    bool poll = receiving && !task.classify_ports.empty();
    if (receiving)  // a replay's next packet is a deadline; a device port is polled
        for (const auto *ports : {&task.rx_ports, &task.receive_ports})
            for (const RxPort *in : *ports) {
                if (in->replay == nullptr)
                    poll = true;
                else
                    horizon = std::min(horizon, in->replay->next_ns.load(std::memory_order_relaxed));  // this lcore stored it
            }
    // The replays' next arrivals, read before the lanes: a burst admitted after
    // this read is either seen in its lane below or not yet published, and
    // then its time is at or after what was read (stored after the publish).
    uint64_t next_arrival = UINT64_MAX;
    for (const ReplayPort *r : task.replay_sources) next_arrival = std::min(next_arrival, r->next_ns.load(std::memory_order_acquire));
    for (TxPort *out : task.tx_ports) {
        for (Lane *lane : out->egress->lanes) {
            const ArenaRecord *head = lane->arena.front();
            if (head != nullptr)
                horizon = std::min(horizon, head->release_ns);
            else if (const uint64_t min_delay_ns = lane->link->min_delay_ns.load(std::memory_order_relaxed);
                     min_delay_ns > task.sleep_threshold_ns)
                horizon = std::min(horizon, now + min_delay_ns);
            else if (!task.replay_sources.empty())
                horizon = std::min(horizon, next_arrival > UINT64_MAX - min_delay_ns ? UINT64_MAX : next_arrival + min_delay_ns);
            else
                poll = true;
        }
    }
    const uint64_t to_deadline = horizon > now + task.sleep_threshold_ns ? horizon - now - task.sleep_threshold_ns : 0;
    const uint64_t poll_ns = backed_off ? std::max(task.idle_nap_ns, task.sleep_threshold_ns) : task.sleep_threshold_ns;
    return {to_deadline, poll ? poll_ns : UINT64_MAX};
}

void sleep_ns(uint64_t ns) {
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    nanosleep(&ts, nullptr);
}

// How late this lcore's wake-ups have been lately: sleeps are shortened by it,
// and the rest of the wait is spun. On a quiet machine it stays near the
// timer's own latency; on a virtual machine whose host is busy, waking an idle
// vCPU can take hundreds of microseconds, and the margin grows to match.
// A decaying maximum: it jumps up at once and comes down by 1/16 per sleep.
struct WakeMargin {
    uint64_t ns = 0;
    void observe(uint64_t overslept_ns) {
        ns -= ns / 16;
        if (overslept_ns > ns) ns = overslept_ns < kMaxWakeMarginNs ? overslept_ns : kMaxWakeMarginNs;
    }
};

bool handoffs_empty(const LcoreTask &task) {
    for (RxPort *in : task.classify_ports)
        if (rte_ring_count(in->handoff) != 0) return false;
    return true;
}

bool arenas_empty(const LcoreTask &task) {
    for (TxPort *out : task.tx_ports)
        for (Lane *lane : out->egress->lanes)
            if (lane->arena.occupancy() != 0) return false;
    return true;
}

// Stack the data path may reach below lcore_main's frame, prefaulted before
// the run: the idle loop stays shallow, so a stage's first burst (its arrays
// of a burst's records, verdicts and mbufs, the link models' calls, a plugin's)
// is the first to reach the pages below, and on a virtual machine each first
// touch of a page there cost tens of microseconds (measured: the first
// admit_burst of a replay 100-170 us, against 5 us with the stack touched).
constexpr size_t kWarmStackBytes = 128 * 1024;
static_assert(kWarmStackBytes % 4096 == 0);

// Writes one byte in each page of kWarmStackBytes below the caller's frame,
// from the top down (the main thread's stack grows as it faults). Not inlined,
// so that the block is below the caller's frame, where the stages' frames go.
[[gnu::noinline]] void prefault_stack() {
    volatile uint8_t block[kWarmStackBytes];
    for (size_t i = sizeof block; i > 0; i -= 4096) block[i - 1] = 0;
}

}  // namespace

int lcore_warm_up(void *arg) {
    const LcoreTask &task = *static_cast<const LcoreTask *>(arg);
    prefault_stack();
    // This lcore's mempool cache and the first mbufs' headers: a burst taken
    // and given back (any mbuf serves as well as another).
    for (TxPort *out : task.tx_ports) {
        rte_mbuf *mbufs[kMaxBurst];
        if (rte_pktmbuf_alloc_bulk(out->pool, mbufs, task.burst) == 0) rte_pktmbuf_free_bulk(mbufs, task.burst);
        // An empty burst: rte_eth_tx_burst reads the port's tx callback table
        // (ethdev's, never touched before: a page fault seen on the first
        // replayed packet's path) and the driver's queue; a burst of none
        // sends nothing.
        (void)rte_eth_tx_burst(out->port_id, 0, mbufs, 0);
    }
    return 0;
}

int lcore_main(void *arg) {
    const LcoreTask &task = *static_cast<const LcoreTask *>(arg);
    PipelineControl &control = *task.control;
    prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us: sleeps end close to when asked
    bool receiving = !task.rx_ports.empty() || !task.receive_ports.empty() || !task.classify_ports.empty();
    uint32_t idle_polls = 0;
    WakeMargin margin;
    uint64_t last_moved_ns = now_ns(*task.clock);  // for the idle back-off

    for (uint32_t iter = 0;; ++iter) {
        /* 1. Release what is due. */
        const uint64_t now = now_ns(*task.clock);
        uint32_t moved = 0;
        for (TxPort *out : task.tx_ports) moved += tx_stage(*out, task, now);

        /* 2. Admit a burst from each port this lcore receives on (or hand it
              over, or take it from a handoff ring). A runtime change whose
              instant has passed is taken first, even when no packet comes
              (link_change.hpp): an rx stage stamps its next burst later than
              now; a replay source's next packet is due at its schedule, which
              may be before now when this lcore is late; a classify stage only
              once its handoff ring is empty. Queue disciplines decide every
              transmission start up to the same instant, idle or not. */
        for (RxPort *in : task.rx_ports) {
            const uint64_t upto = in->replay == nullptr ? now : replay_poll_ns(*in, now);
            poll_change(*in->ingress, upto);
            advance_held(*in->ingress, upto);
        }
        for (RxPort *in : task.receive_ports)  // a replay source admits on its receive lcore
            if (in->replay != nullptr) {
                const uint64_t upto = replay_poll_ns(*in, now);
                poll_change(*in->ingress, upto);
                advance_held(*in->ingress, upto);
            }
        for (RxPort *in : task.classify_ports) {
            if (rte_ring_count(in->handoff) != 0) continue;
            // One clock reading for both: the change is taken before the starts at or after its instant are decided.
            const uint64_t at = now_ns(*task.clock);
            const uint64_t upto = at > kHandoffSlackNs ? at - kHandoffSlackNs : 0;
            if (in->ingress->change.load(std::memory_order_relaxed) != nullptr) poll_change(*in->ingress, upto);
            if (!in->ingress->held_links.empty()) advance_held(*in->ingress, upto);
        }
        if (receiving) {
            for (RxPort *in : task.rx_ports) moved += rx_stage(*in, task);
            for (RxPort *in : task.receive_ports) moved += receive_stage(*in, task);
            for (RxPort *in : task.classify_ports) moved += classify_stage(*in, task);
        }

        /* 3. Every 16 iterations: stop requests. A classify lcore stops
              receiving only once no lcore feeds its rings and they are empty. */
        if ((iter & 0xF) == 0) {
            if (receiving && control.stop_rx.load(std::memory_order_acquire) &&
                (task.classify_ports.empty() || (control.feeding.load(std::memory_order_acquire) == 0 && handoffs_empty(task)))) {
                receiving = false;
                if (!task.receive_ports.empty()) control.feeding.fetch_sub(1, std::memory_order_acq_rel);
                control.receiving.fetch_sub(1, std::memory_order_acq_rel);
            }
            if (!receiving) {
                const bool nothing_left = control.receiving.load(std::memory_order_acquire) == 0 && arenas_empty(task);
                if (task.tx_ports.empty() || nothing_left || control.stop_tx.load(std::memory_order_acquire)) break;
            }
        }

        /* 4. Idle: spin a little, then sleep while the next task is far away. */
        if (moved != 0) {
            idle_polls = 0;
            last_moved_ns = now;
            continue;
        }
        if (++idle_polls < kIdlePollsBeforeSleep) {
            rte_pause();
            continue;
        }
        const uint64_t before = now_ns(*task.clock);
        const bool backed_off = task.idle_nap_ns != 0 && before - last_moved_ns >= task.idle_after_ns;
        const Nap nap = plan_nap(task, receiving, backed_off, before);
        const uint64_t for_deadline = nap.deadline_ns > margin.ns ? nap.deadline_ns - margin.ns : 0;
        const uint64_t asked = std::min(for_deadline, nap.poll_ns);
        if (asked == 0) {
            rte_pause();
            continue;
        }
        sleep_ns(asked);
        const uint64_t slept = now_ns(*task.clock) - before;
        margin.observe(slept > asked ? slept - asked : 0);
    }
    control.running.fetch_sub(1, std::memory_order_acq_rel);
    return 0;
}

}  // namespace linkem
