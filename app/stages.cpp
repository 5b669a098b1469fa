#include "stages.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_pause.h>

#include <algorithm>
#include <ctime>
#include <sys/prctl.h>

namespace linkem {
namespace {

constexpr uint32_t kMaxBurst = 512;  // Pipeline's upper bound (config.hpp kMaxBurst)
constexpr int kTxAttempts = 8;       // tx_burst calls before the rest counts as tx_full
constexpr uint32_t kIdlePollsBeforeSleep = 256;
constexpr uint64_t kLongestSleepNs = 10'000'000;  // so stop requests are seen within ~10 ms
constexpr uint64_t kMaxWakeMarginNs = 2'000'000;  // never wake earlier than this for fear of oversleeping

uint64_t now_ns(const TscClock &clock) { return clock.to_ns(rte_rdtsc()); }

// rx/model stage: receive a burst, decide every packet's fate with one model
// call, copy the admitted ones into the arena, free every mbuf, count.
uint32_t rx_stage(LinkRuntime &link, const LcoreTask &task) {
    rte_mbuf *mbufs[kMaxBurst];
    const uint16_t n = rte_eth_rx_burst(link.rx_port, 0, mbufs, static_cast<uint16_t>(task.burst));
    if (n == 0) return 0;

    const uint64_t arrival_ns = now_ns(*task.clock);  // one clock read per burst
    PacketIn in[kMaxBurst];
    uint64_t bytes = 0;
    uint32_t longest = 0;
    for (uint16_t i = 0; i < n; ++i) {
        in[i] = {arrival_ns, mbufs[i]->pkt_len};
        bytes += mbufs[i]->pkt_len;
        longest = std::max(longest, mbufs[i]->pkt_len);
    }
    // The arena's room, in records of the burst's longest frame (one spare for
    // a wrap), goes into the model: a packet that would not fit is dropped
    // before it takes link time or queue space.
    const uint64_t record = DelayArena::record_bytes(longest);
    const uint64_t free = link.arena.free_bytes(record * (n + 1));
    const uint64_t room = free > record ? (free - record) / record : 0;
    Verdict verdicts[kMaxBurst];
    link.model.admit_burst(in, n, verdicts, room);

    uint32_t n_admitted = 0, n_queue = 0, n_loss = 0, n_order = 0, n_arena_full = 0;
    for (uint16_t i = 0; i < n; ++i) {
        switch (verdicts[i].fate) {
        case Fate::kForward: {
            const uint32_t len = mbufs[i]->pkt_len;
            ArenaRecord *r = link.arena.append(verdicts[i].release_ns, len, verdicts[i].tag);
            if (r == nullptr) {  // not expected: the room was reserved
                ++n_arena_full;
                break;
            }
            const void *data = rte_pktmbuf_read(mbufs[i], 0, len, r->data());  // copies only a chained mbuf
            if (data != r->data()) rte_memcpy(r->data(), data, len);
            link.rx.delay_ns.record(verdicts[i].release_ns - arrival_ns);
            ++n_admitted;
            break;
        }
        case Fate::kDropQueue: ++n_queue; break;
        case Fate::kDropLoss: ++n_loss; break;
        case Fate::kDropArenaFull: ++n_arena_full; break;
        case Fate::kDropOrder: ++n_order; break;
        }
    }
    link.arena.publish();
    rte_pktmbuf_free_bulk(mbufs, n);

    link.rx.packets.add(n);
    link.rx.bytes.add(bytes);
    if (n_queue != 0) link.rx.drop_queue.add(n_queue);
    if (n_loss != 0) link.rx.drop_loss.add(n_loss);
    if (n_order != 0) link.rx.drop_order.add(n_order);
    if (n_arena_full != 0) link.rx.drop_arena_full.add(n_arena_full);
    link.rx.queue_depth.set(link.model.queue_depth());
    link.rx.busy_ns.add(now_ns(*task.clock) - arrival_ns);
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

// tx stage: copy every record whose release time has come into an mbuf, send
// them in bursts; what the port will not take after a few attempts (or what
// finds no mbuf) is freed and counted as tx_full. Each packet sent is
// observed once (lateness, order, rate) at the time its burst was handed to the port.
uint32_t tx_stage(LinkRuntime &link, const LcoreTask &task, uint64_t now) {
    const ArenaRecord *due[kMaxBurst];
    uint32_t n = 0;
    for (const ArenaRecord *r; n < task.burst && (r = link.arena.front()) != nullptr && r->release_ns <= now; link.arena.pop()) {
        // The next record is most likely right behind this one: fetch it early.
        rte_prefetch0(reinterpret_cast<const uint8_t *>(r) + DelayArena::record_bytes(r->len_bytes));
        due[n++] = r;
    }
    if (n == 0) return 0;

    rte_mbuf *mbufs[kMaxBurst];
    const ArenaRecord *record_of[kMaxBurst];  // mbufs[k] carries record_of[k]
    uint32_t ready = 0;
    if (rte_pktmbuf_alloc_bulk(link.tx_pool, mbufs, n) == 0) {  // else the pool is dry: every one of them is dropped
        for (uint32_t i = 0; i < n; ++i) {
            if (!fill_mbuf(link.tx_pool, mbufs[i], due[i]->data(), due[i]->len_bytes)) {
                rte_pktmbuf_free(mbufs[i]);
                continue;
            }
            record_of[ready] = due[i];
            mbufs[ready++] = mbufs[i];
        }
    }

    // Lateness is taken when the burst is handed to the driver: what the
    // driver does next (af_packet's sendto delivers into the peer's stack
    // before it returns) is the port's time, not linkem's.
    const uint64_t sent_ns = now_ns(*task.clock);
    uint32_t sent = 0;
    for (int attempt = 0; attempt < kTxAttempts && sent < ready; ++attempt)
        sent += rte_eth_tx_burst(link.tx_port, 0, mbufs + sent, static_cast<uint16_t>(ready - sent));

    uint64_t bytes = 0;
    ReleaseTally tally;
    for (uint32_t k = 0; k < sent; ++k) {
        const ArenaRecord &r = *record_of[k];
        bytes += r.len_bytes;
        link.release.observe(r.release_ns, r.tag, r.len_bytes, sent_ns, link.tx.lateness_ns, tally);
    }
    link.arena.publish_consumed();  // copied out and observed: the space is free again

    if (sent < ready) rte_pktmbuf_free_bulk(mbufs + sent, ready - sent);
    if (sent < n) link.tx.drop_tx_full.add(n - sent);
    link.tx.packets.add(sent);
    link.tx.bytes.add(bytes);
    add_tally(link.tx, tally);
    link.tx.busy_ns.add(now_ns(*task.clock) - now);
    return n;
}

// How long this lcore may sleep. A nap that ends at a release deadline (the
// earliest next release minus the threshold; a new packet is never due before
// the head of its arena, nor sooner than the link's constant delay after
// arriving) is shortened by the lcore's wake margin. While it receives, the
// lcore also naps at most one threshold between polls; that nap has no
// deadline, so it is not shortened. 0 means spin.
struct Nap {
    uint64_t deadline_ns;  // sleep until this much before the deadline (0: none within the horizon)
    uint64_t poll_ns;      // or this long, for a receiving lcore
};

Nap plan_nap(const LcoreTask &task, bool receiving, uint64_t now) {
    uint64_t horizon = now + kLongestSleepNs;
    for (LinkRuntime *link : task.tx_links) {
        const ArenaRecord *head = link->arena.front();
        const uint64_t earliest = head != nullptr ? head->release_ns : now + link->min_delay_ns;
        if (earliest < horizon) horizon = earliest;
    }
    const uint64_t to_deadline = horizon > now + task.sleep_threshold_ns ? horizon - now - task.sleep_threshold_ns : 0;
    return {to_deadline, receiving ? task.sleep_threshold_ns : UINT64_MAX};
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

bool arenas_empty(const LcoreTask &task) {
    for (LinkRuntime *link : task.tx_links)
        if (link->arena.occupancy() != 0) return false;
    return true;
}

}  // namespace

int lcore_main(void *arg) {
    const LcoreTask &task = *static_cast<const LcoreTask *>(arg);
    PipelineControl &control = *task.control;
    prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us: sleeps end close to when asked
    bool receiving = !task.rx_links.empty();
    uint32_t idle_polls = 0;
    WakeMargin margin;

    for (uint32_t iter = 0;; ++iter) {
        /* 1. Release what is due. */
        const uint64_t now = now_ns(*task.clock);
        uint32_t moved = 0;
        for (LinkRuntime *link : task.tx_links) moved += tx_stage(*link, task, now);

        /* 2. Admit a burst from each port this lcore receives on. */
        if (receiving)
            for (LinkRuntime *link : task.rx_links) moved += rx_stage(*link, task);

        /* 3. Every 16 iterations: stop requests. */
        if ((iter & 0xF) == 0) {
            if (receiving && control.stop_rx.load(std::memory_order_acquire)) {
                receiving = false;
                control.receiving.fetch_sub(1, std::memory_order_acq_rel);
            }
            if (!receiving) {
                const bool nothing_left = control.receiving.load(std::memory_order_acquire) == 0 && arenas_empty(task);
                if (task.tx_links.empty() || nothing_left || control.stop_tx.load(std::memory_order_acquire)) break;
            }
        }

        /* 4. Idle: spin a little, then sleep while the next task is far away. */
        if (moved != 0) {
            idle_polls = 0;
            continue;
        }
        if (++idle_polls < kIdlePollsBeforeSleep) {
            rte_pause();
            continue;
        }
        const uint64_t before = now_ns(*task.clock);
        const Nap nap = plan_nap(task, receiving, before);
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

uint64_t drain_arena_at_shutdown(LinkRuntime &link) {
    uint64_t discarded = 0;
    for (; link.arena.front() != nullptr; link.arena.pop()) ++discarded;
    link.arena.publish_consumed();
    link.tx.drop_shutdown.add(discarded);
    return discarded;
}

}  // namespace linkem
