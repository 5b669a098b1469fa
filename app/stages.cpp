#include "stages.hpp"

#include "linkem/burst_split.hpp"
#include "linkem/path_admit.hpp"

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

constexpr uint32_t kMaxBurst = 512;             // Pipeline's upper bound (config.hpp kMaxBurst)
constexpr uint64_t kArenaPrefetchBytes = 4096;  // how far ahead each side fetches its arena (docs/ARCHITECTURE.md "Delay arena")
constexpr int kTxAttempts = 8;                  // tx_burst calls before the rest counts as tx_full
constexpr uint32_t kIdlePollsBeforeSleep = 256;
constexpr uint64_t kLongestSleepNs = 10'000'000;  // so stop requests are seen within ~10 ms
constexpr uint64_t kMaxWakeMarginNs = 2'000'000;  // never wake earlier than this for fear of oversleeping

uint64_t now_ns(const TscClock &clock) { return clock.to_ns(rte_rdtsc()); }

bool ecn_capable_frame(const rte_mbuf *mb, const PacketFields &f) {
    return ecn_capable(rte_pktmbuf_mtod(mb, const uint8_t *), mb->data_len, f.l3_offset, f.ip_version);
}

// The index of the first rule that matches, or rules.size().
size_t first_match(const IngressRuntime &in, const PacketFields &f) {
    const size_t n = in.rules.size();
    for (size_t r = 0; r < n; ++r)
        if (rule_matches(in.rules[r].match, 0, f)) return r;
    return n;
}

// One burst's packets that take the same path, as indexes into the burst.
struct Group {
    PathRuntime *path;
    uint32_t count;
    LinkRuntime *busy;  // where the group's share of the stage's time is counted: the path's first link
};

// One hop's verdicts over a burst, added to its link's counters at once.
struct HopTally {
    uint32_t packets = 0, forwarded = 0, n_queue = 0, n_loss = 0, n_order = 0, n_arena_full = 0, n_model_error = 0;
    uint64_t bytes = 0;

    void add(LinkRuntime &link, const PacketIn &in, const Verdict &v) {
        ++packets;
        bytes += in.len_bytes;
        switch (v.fate) {
        case Fate::kForward:
            link.rx.delay_ns.record(v.release_ns - in.arrival_ns);
            ++forwarded;
            break;
        case Fate::kDropQueue: ++n_queue; break;
        case Fate::kDropLoss: ++n_loss; break;
        case Fate::kDropArenaFull: ++n_arena_full; break;
        case Fate::kDropOrder: ++n_order; break;
        case Fate::kDropModelError: ++n_model_error; break;
        }
    }
    void flush(LinkRuntime &link, bool inner_hop) const {
        link.rx.packets.add(packets);
        link.rx.bytes.add(bytes);
        if (n_queue != 0) link.rx.drop_queue.add(n_queue);
        if (n_loss != 0) link.rx.drop_loss.add(n_loss);
        if (n_order != 0) link.rx.drop_order.add(n_order);
        if (n_arena_full != 0) link.rx.drop_arena_full.add(n_arena_full);
        if (n_model_error != 0) link.rx.drop_model_error.add(n_model_error);
        link.rx.queue_depth.set(link.model.queue_depth());
        if (inner_hop) link.rx.handed_on.add(forwarded);
    }
};

// Counts an inner hop's verdicts on its link (its packets go on to the next hop).
void count_inner_hop(LinkRuntime &link, const PacketIn *in, const Verdict *verdicts, uint32_t n) {
    HopTally tally;
    for (uint32_t j = 0; j < n; ++j) tally.add(link, in[j], verdicts[j]);
    tally.flush(link, true);
}

// Runs packets through a path's hops from flow_hop on, where their hop is
// `link` (for a per-flow path, their flow's instance), and puts the survivors,
// mangled, into the last hop's lanes. in[j] is the burst's packet at[j], at
// its arrival at hop flow_hop; ce[j] says whether an earlier hop marked it.
void run_tail(const PathRuntime &path, LinkRuntime &link, PacketIn *in, uint16_t *at, bool *ce, uint32_t m, rte_mbuf *const *mbufs,
              const PacketFields *fields) {
    const size_t first = path.flow_hop, hops = path.hops.size() - first;
    const auto hop = [&](size_t h) -> LinkRuntime & { return h == 0 ? link : *path.hops[first + h]; };
    LinkRuntime *last = &hop(hops - 1);
    uint32_t longest = 0;
    for (uint32_t j = 0; j < m; ++j) longest = std::max(longest, mbufs[at[j]]->pkt_len);
    // The last lane's room, in records of the longest frame (one spare for a
    // wrap), goes to the first of these hops: a packet that would not fit is
    // dropped before it takes link time or queue space there or after.
    const uint64_t record = DelayArena::record_bytes(longest);
    const uint64_t free = last->lane->arena.free_bytes(record * (m + 1));
    const uint64_t room = free > record ? (free - record) / record : 0;

    Verdict verdicts[kMaxBurst];
    const uint32_t n =
        admit_along_path([&](size_t h) -> LinkModel & { return hop(h).model; }, hops, in, verdicts, at, ce, m, room,
                         [&](size_t h, const PacketIn *hop_in, const Verdict *v, uint32_t count) {
                             if (h + 1 < hops)
                                 count_inner_hop(hop(h), hop_in, v, count);  // the last hop is counted below, as its packets are copied
                         });

    // Copy what the last hop forwards into its lanes, mangling on the way.
    LinkMangler &mg = last->mangle;
    uint32_t n_arena_full = 0, n_truncated = 0, n_ce = 0, n_corrupted = 0, n_duplicated = 0, n_reordered = 0;
    uint64_t corrupted_bits = 0;
    HopTally tally;
    last->lane->arena.prefetch_for_write(kArenaPrefetchBytes);
    for (uint32_t j = 0; j < n; ++j) {
        tally.add(*last, in[j], verdicts[j]);
        if (verdicts[j].fate != Fate::kForward) continue;
        const rte_mbuf *mb = mbufs[at[j]];
        uint32_t len = mb->pkt_len;
        if (len > mg.truncate_bytes) {
            len = mg.truncate_bytes;
            ++n_truncated;
        }
        Lane *lane = last->lane;
        uint64_t release_ns = verdicts[j].release_ns;
        if (mg.reorder_on && mg.reorder.draw(&mg.rng)) {  // held back: later packets overtake it
            lane = last->reorder_lane;
            release_ns += mg.reorder_extra_ns;
            ++n_reordered;
        }
        ArenaRecord *r = lane->arena.append(release_ns, len, verdicts[j].tag);
        if (r == nullptr) {  // not expected on the main lane: the room was reserved
            ++n_arena_full;
            continue;
        }
        const void *data = rte_pktmbuf_read(mb, 0, len, r->data());  // copies only a chained mbuf
        if (data != r->data()) rte_memcpy(r->data(), data, len);
        if ((ce[j] || verdicts[j].ce_marked) && fields[at[j]].ecn != 3 &&
            mark_ce(r->data(), len, fields[at[j]].l3_offset, fields[at[j]].ip_version))
            ++n_ce;  // 3: already CE
        if (mg.corrupt) {
            const uint32_t bits = mg.corrupt->apply(r->data(), len);
            n_corrupted += bits != 0 ? 1 : 0;
            corrupted_bits += bits;
        }
        if (mg.duplicate_on && mg.duplicate.draw(&mg.rng)) {  // a second copy, released with the first
            ++n_duplicated;
            ArenaRecord *copy = lane->arena.append(release_ns, len, verdicts[j].tag & ~LinkTag::kWaited);
            if (copy == nullptr) {
                ++n_arena_full;
                continue;
            }
            rte_memcpy(copy->data(), r->data(), len);
        }
    }
    tally.flush(*last, false);
    if (n_arena_full != 0) last->rx.drop_arena_full.add(n_arena_full);
    if (n_truncated != 0) last->rx.truncated.add(n_truncated);
    if (n_ce != 0) last->rx.ce_marked.add(n_ce);
    if (n_corrupted != 0) {
        last->rx.corrupted.add(n_corrupted);
        last->rx.corrupted_bits.add(corrupted_bits);
    }
    if (n_duplicated != 0) last->rx.duplicated.add(n_duplicated);
    if (n_reordered != 0) last->rx.reordered.add(n_reordered);
    last->lane->arena.publish();
    if (last->reorder_lane != nullptr) last->reorder_lane->arena.publish();
}

// Runs one group's packets through its path. idx: the group's packets in
// arrival order; link_of: each packet's hop flow_hop. The hops before
// flow_hop (a per-flow template's aggregate) take every packet of the path in
// arrival order; from flow_hop on, each link's packets go on together.
void run_group(const Group &g, const uint16_t *idx, LinkRuntime *const *link_of, rte_mbuf *const *mbufs, const PacketFields *fields,
               uint64_t arrival_ns) {
    const PathRuntime &path = *g.path;
    const bool ecn = path.hops.back()->mangle.ecn;  // every instance of a template mangles alike
    PacketIn in[kMaxBurst];
    uint16_t at[kMaxBurst];  // in[j] is the burst's packet at[j]
    bool ce[kMaxBurst];
    for (uint32_t j = 0; j < g.count; ++j) {
        const rte_mbuf *mb = mbufs[idx[j]];
        in[j] = {arrival_ns, mb->pkt_len, ecn && fields[idx[j]].ip_version != 0 && ecn_capable_frame(mb, fields[idx[j]])};
        at[j] = idx[j];
        ce[j] = false;
    }
    uint32_t n = g.count;
    if (path.flow_hop != 0) {
        Verdict verdicts[kMaxBurst];
        n = admit_along_path(
            [&](size_t h) -> LinkModel & { return path.hops[h]->model; }, path.flow_hop, in, verdicts, at, ce, n, UINT64_MAX,
            [&](size_t h, const PacketIn *hop_in, const Verdict *v, uint32_t count) { count_inner_hop(*path.hops[h], hop_in, v, count); });
        n = keep_forwarded(in, verdicts, at, ce, n);
    }
    if (path.flows == nullptr) {
        if (n != 0) run_tail(path, *path.hops[path.flow_hop], in, at, ce, n, mbufs, fields);
        return;
    }
    // One flow instance at a time, its packets in arrival order (a sort by
    // instance: O(n log n), however many flows the burst carries).
    PacketIn mine_in[kMaxBurst];
    uint16_t mine_at[kMaxBurst];
    bool mine_ce[kMaxBurst];
    for_each_key_run<kMaxBurst>(
        n, [&](uint32_t j) { return link_of[at[j]]->flow_index; },
        [&](const uint16_t *positions, uint32_t mine) {
            for (uint32_t r = 0; r < mine; ++r) {
                mine_in[r] = in[positions[r]];
                mine_at[r] = at[positions[r]];
                mine_ce[r] = ce[positions[r]];
            }
            run_tail(path, *link_of[mine_at[0]], mine_in, mine_at, mine_ce, mine, mbufs, fields);
        });
}

// The link that names the packet's group: the path's hop flow_hop, which for
// a per-flow path is the flow's instance (nullptr: no instance free, dropped).
LinkRuntime *group_link(PathRuntime &path, const PacketFields &f, uint64_t now_ns) {
    if (path.flows == nullptr) return path.hops[path.flow_hop];
    FlowTemplate &t = *path.flows;
    bool created = false;
    const uint32_t i = t.table.find_or_add(
        flow_key(t.key, f), now_ns,
        [&](uint32_t k) {
            const LinkRuntime &l = *t.instances[k];
            return l.lane->arena.occupancy() == 0 && (l.reorder_lane == nullptr || l.reorder_lane->arena.occupancy() == 0);
        },
        &created);
    if (i == FlowTable::kNone) return nullptr;
    if (created) t.instances[i]->model.reset();
    return t.instances[i];
}

// What an rx stage does after receiving: classify a burst that arrived at
// arrival_ns, run each group of packets through its path, free every mbuf,
// count. Classification time is taken from start_ns (when this lcore began on
// the burst; later than arrival_ns when it came through a handoff ring).
void admit_burst(IngressRuntime &in, rte_mbuf **mbufs, uint16_t n, uint64_t arrival_ns, uint64_t start_ns, const TscClock &clock) {
    IngressCounters &c = in.counters;

    // Classify: each packet's path, and the link that names its group.
    PacketFields *fields = in.fields.data();  // filled only when in.needs_fields
    Group groups[kMaxBurst];
    uint32_t n_groups = 0;
    uint16_t order[kMaxBurst];        // the admitted packets, group after group, each group in arrival order
    LinkRuntime *link_of[kMaxBurst];  // by packet: its path's hop flow_hop (its flow's instance)
    uint64_t bytes = 0;
    uint32_t notes[kParseNotes] = {};
    uint32_t n_default = 0, n_rule_drop = 0, n_unclassified = 0, n_flow_limit = 0;
    if (in.direct != nullptr) {  // nothing to look at: every packet takes the one path
        for (uint16_t i = 0; i < n; ++i) {
            bytes += mbufs[i]->pkt_len;
            order[i] = i;
        }
        groups[n_groups++] = {in.direct, n, in.direct->hops.front()};
        n_default = n;
    } else {
        constexpr uint16_t kNoGroup = UINT16_MAX;
        uint16_t group_index[kMaxBurst];  // by packet: its group (kNoGroup: dropped)
        for (uint16_t i = 0; i < n; ++i) {
            bytes += mbufs[i]->pkt_len;
            if (in.needs_fields) {
                parse_packet(rte_pktmbuf_mtod(mbufs[i], const uint8_t *), mbufs[i]->data_len, &fields[i]);
                for (uint32_t note = fields[i].notes; note != 0; note &= note - 1) ++notes[__builtin_ctz(note)];
            }
            const size_t r = in.rules.empty() ? 0 : first_match(in, fields[i]);
            RouteAction action = in.default_action;
            if (r < in.rules.size()) {
                c.rule_hits[r].add(1);
                action = in.rules[r].action;
            } else {
                ++n_default;
            }
            group_index[i] = kNoGroup;
            if (action.kind == RouteAction::Kind::kDrop) {
                ++(r < in.rules.size() ? n_rule_drop : n_unclassified);
                continue;
            }
            PathRuntime &path = *in.paths[action.path];
            LinkRuntime *link = group_link(path, fields[i], arrival_ns);
            if (link == nullptr) {
                ++n_flow_limit;
                continue;
            }
            link_of[i] = link;
            uint32_t g = 0;
            while (g < n_groups && groups[g].path != &path) ++g;
            if (g == n_groups) groups[n_groups++] = {&path, 0, path.flow_hop == 0 ? link : path.hops.front()};
            ++groups[g].count;
            group_index[i] = static_cast<uint16_t>(g);
        }
        uint32_t next[kMaxBurst];  // by group: where its next packet goes in order[] (a counting sort)
        for (uint32_t g = 0, k = 0; g < n_groups; k += groups[g++].count) next[g] = k;
        for (uint16_t i = 0; i < n; ++i)
            if (group_index[i] != kNoGroup) order[next[group_index[i]]++] = i;
    }
    const uint64_t classified_ns = now_ns(clock);

    // Each group through its path.
    const uint16_t *idx = order;
    for (uint32_t g = 0; g < n_groups; ++g) {
        run_group(groups[g], idx, link_of, mbufs, fields, arrival_ns);
        idx += groups[g].count;
    }
    rte_pktmbuf_free_bulk(mbufs, n);

    c.packets.add(n);
    c.bytes.add(bytes);
    if (n_default != 0) c.default_hits.add(n_default);
    if (n_rule_drop != 0) c.drop_rule.add(n_rule_drop);
    if (n_unclassified != 0) c.drop_unclassified.add(n_unclassified);
    if (n_flow_limit != 0) c.drop_flow_limit.add(n_flow_limit);
    for (size_t b = 0; b < kParseNotes; ++b)
        if (notes[b] != 0) c.notes[b].add(notes[b]);
    const uint64_t done_ns = now_ns(clock);
    c.classify_ns.add(classified_ns - start_ns);
    for (uint32_t g = 0; g < n_groups; ++g) groups[g].busy->rx.busy_ns.add((done_ns - classified_ns) * groups[g].count / n);
}

// rx stage of one arrival port: receive a burst (one clock read) and admit it.
uint32_t rx_stage(IngressRuntime &in, const LcoreTask &task) {
    rte_mbuf *mbufs[kMaxBurst];
    const uint16_t n = rte_eth_rx_burst(in.port_id, 0, mbufs, static_cast<uint16_t>(task.burst));
    if (n == 0) return 0;
    const uint64_t arrival_ns = now_ns(*task.clock);
    admit_burst(in, mbufs, n, arrival_ns, arrival_ns, *task.clock);
    return n;
}

// receive stage (with a classify lcore): receive at most what the port's
// handoff ring has room for, stamp it with its arrival time, put it on the
// ring. A full ring leaves the packets in the port's queue: while the classify
// lcore falls behind, the port drops what it cannot hold and counts it
// (imissed), and this lcore does not spend its time receiving packets only to
// free them.
uint32_t receive_stage(IngressRuntime &in, const LcoreTask &task) {
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
uint32_t classify_stage(IngressRuntime &in, const LcoreTask &task) {
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
        admit_burst(in, mbufs, k, arrival_ns, now_ns(*task.clock), *task.clock);
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

// The tx side's sums for one link over a burst, added to its counters at once.
struct LinkTxSums {
    LinkRuntime *link = nullptr;
    uint64_t packets = 0, bytes = 0;
    ReleaseTally tally;
    void flush() {
        if (link == nullptr) return;
        link->tx.packets.add(packets);
        link->tx.bytes.add(bytes);
        add_tally(link->tx, tally);
        *this = {};
    }
};

// tx stage of one destination port: take every record whose release time has
// come from each lane that ends here (at most a burst), in release-time order
// across lanes; copy each into an mbuf; send in bursts. What the port will not
// take after a few attempts (or what finds no mbuf) is freed and counted as
// tx_full on its link. Each packet sent is observed once (lateness, order,
// rate) at the time its burst was handed to the port.
uint32_t tx_stage(EgressRuntime &out, const LcoreTask &task, uint64_t now) {
    const ArenaRecord *due[kMaxBurst];
    Lane *lane_of[kMaxBurst];
    uint32_t n = 0, lanes_used = 0;
    Lane *used[kMaxBurst];
    for (Lane *lane : out.lanes) {
        const uint32_t before = n;
        for (const ArenaRecord *r; n < task.burst && (r = lane->arena.front()) != nullptr && r->release_ns <= now; lane->arena.pop()) {
            if (n == before) lane->arena.prefetch_ahead(kArenaPrefetchBytes);
            lane_of[n] = lane;
            due[n++] = r;
        }
        if (n != before) used[lanes_used++] = lane;
        if (n == task.burst) break;
    }
    if (n == 0) return 0;
    if (lanes_used > 1) {  // merge the lanes' runs (each already in release order) by release time
        uint32_t order[kMaxBurst];
        for (uint32_t i = 0; i < n; ++i) order[i] = i;
        std::stable_sort(order, order + n, [&](uint32_t a, uint32_t b) { return due[a]->release_ns < due[b]->release_ns; });
        const ArenaRecord *sorted_due[kMaxBurst];
        Lane *sorted_lane[kMaxBurst];
        for (uint32_t i = 0; i < n; ++i) {
            sorted_due[i] = due[order[i]];
            sorted_lane[i] = lane_of[order[i]];
        }
        std::copy(sorted_due, sorted_due + n, due);
        std::copy(sorted_lane, sorted_lane + n, lane_of);
    }

    rte_mbuf *mbufs[kMaxBurst];
    uint32_t record_of[kMaxBurst];  // mbufs[k] carries due[record_of[k]]
    uint32_t ready = 0;
    bool built[kMaxBurst];
    std::fill_n(built, n, false);
    if (rte_pktmbuf_alloc_bulk(out.pool, mbufs, n) == 0) {  // else the pool is dry: every one of them is dropped
        for (uint32_t i = 0; i < n; ++i) {
            if (!fill_mbuf(out.pool, mbufs[i], due[i]->data(), due[i]->len_bytes)) {
                rte_pktmbuf_free(mbufs[i]);
                continue;
            }
            built[i] = true;
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

    LinkTxSums sums;
    for (uint32_t k = 0; k < sent; ++k) {
        const ArenaRecord &r = *due[record_of[k]];
        LinkRuntime *link = lane_of[record_of[k]]->link;
        if (link != sums.link) {
            sums.flush();
            sums.link = link;
        }
        ++sums.packets;
        sums.bytes += r.len_bytes;
        link->release.observe(r.release_ns, r.tag, r.len_bytes, sent_ns, link->tx.lateness_ns, sums.tally);
    }
    sums.flush();
    if (sent < n) {  // the rare path: per packet, to the right link
        for (uint32_t k = sent; k < ready; ++k) lane_of[record_of[k]]->link->tx.drop_tx_full.add(1);
        for (uint32_t i = 0; i < n; ++i)
            if (!built[i]) lane_of[i]->link->tx.drop_tx_full.add(1);
    }
    for (uint32_t u = 0; u < lanes_used; ++u) used[u]->arena.publish_consumed();  // copied out and observed: the space is free again

    if (sent < ready) rte_pktmbuf_free_bulk(mbufs + sent, ready - sent);
    if (lanes_used == 1) lane_of[0]->link->tx.busy_ns.add(now_ns(*task.clock) - now);
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
// 0 means spin.
struct Nap {
    uint64_t deadline_ns;  // sleep until this much before the deadline (0: none within the horizon)
    uint64_t poll_ns;      // or this long, with no deadline
};

Nap plan_nap(const LcoreTask &task, bool receiving, uint64_t now) {
    uint64_t horizon = now + kLongestSleepNs;
    bool poll = receiving;
    for (EgressRuntime *out : task.tx_ports) {
        for (Lane *lane : out->lanes) {
            const ArenaRecord *head = lane->arena.front();
            if (head != nullptr)
                horizon = std::min(horizon, head->release_ns);
            else if (lane->link->min_delay_ns > task.sleep_threshold_ns)
                horizon = std::min(horizon, now + lane->link->min_delay_ns);
            else
                poll = true;
        }
    }
    const uint64_t to_deadline = horizon > now + task.sleep_threshold_ns ? horizon - now - task.sleep_threshold_ns : 0;
    return {to_deadline, poll ? task.sleep_threshold_ns : UINT64_MAX};
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
    for (IngressRuntime *in : task.classify_ports)
        if (rte_ring_count(in->handoff) != 0) return false;
    return true;
}

bool arenas_empty(const LcoreTask &task) {
    for (EgressRuntime *out : task.tx_ports)
        for (Lane *lane : out->lanes)
            if (lane->arena.occupancy() != 0) return false;
    return true;
}

}  // namespace

int lcore_main(void *arg) {
    const LcoreTask &task = *static_cast<const LcoreTask *>(arg);
    PipelineControl &control = *task.control;
    prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us: sleeps end close to when asked
    bool receiving = !task.rx_ports.empty() || !task.receive_ports.empty() || !task.classify_ports.empty();
    uint32_t idle_polls = 0;
    WakeMargin margin;

    for (uint32_t iter = 0;; ++iter) {
        /* 1. Release what is due. */
        const uint64_t now = now_ns(*task.clock);
        uint32_t moved = 0;
        for (EgressRuntime *out : task.tx_ports) moved += tx_stage(*out, task, now);

        /* 2. Admit a burst from each port this lcore receives on (or hand it
              over, or take it from a handoff ring). */
        if (receiving) {
            for (IngressRuntime *in : task.rx_ports) moved += rx_stage(*in, task);
            for (IngressRuntime *in : task.receive_ports) moved += receive_stage(*in, task);
            for (IngressRuntime *in : task.classify_ports) moved += classify_stage(*in, task);
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

uint64_t drain_lane_at_shutdown(Lane &lane) {
    uint64_t discarded = 0;
    for (; lane.arena.front() != nullptr; lane.arena.pop()) ++discarded;
    lane.arena.publish_consumed();
    lane.link->tx.drop_shutdown.add(discarded);
    return discarded;
}

}  // namespace linkem
