// The ingress step of the pipeline: one burst of frames that arrived at one
// port, admitted.
//
//   classify each frame by the port's compiled rules (parsing its headers only
//   when a rule, a per-flow template or ECN needs them); group the frames by
//   the path they take; run each group through its path's hops one after the
//   other (a hop's release time is the next hop's arrival); mangle and copy
//   the survivors into the last hop's lane; count.
//
// Templated over where frames come from, so the same code runs on mbufs (the
// emulator), capture records (linkem-sim) and byte arrays (tests). A Frames
// type gives, for frame i of the burst (0 <= i < n):
//   uint32_t len(i)            its length in bytes
//   const uint8_t *head(i)     its first head_len(i) bytes, contiguous
//   uint32_t head_len(i)       (the headers are looked for there)
//   void copy(i, dst, len)     copies its first len (<= len(i)) bytes to dst
//   uint64_t arrival_ns(i)     when it arrived; never less than frame i-1's
// Frames are only read: the caller keeps (and frees) them.
//
// Time is never read here: arrival times come with the frames, and `now` is
// a callable returning nanoseconds, read twice per burst only to count how
// long classifying and admitting took (linkem-sim passes a clock that stands
// still).
//
// Contract: one thread per IngressRuntime (pipeline.hpp); n <= kMaxBurst; no
// locks, allocation, system calls or logs.
#pragma once

#include "linkem/burst_split.hpp"
#include "linkem/link_change.hpp"
#include "linkem/packet_fields.hpp"
#include "linkem/path_admit.hpp"
#include "linkem/pipeline.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace linkem {

constexpr uint64_t kArenaPrefetchBytes = 4096;  // how far ahead each side fetches its arena (docs/ARCHITECTURE.md "Delay arena")

namespace ingress_detail {

// The index of the first rule that matches, or rules.size().
inline size_t first_match(const IngressRuntime &in, const PacketFields &f) {
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
    uint32_t packets = 0, forwarded = 0;
    uint64_t bytes = 0, delay_sum_ns = 0;
    RxDropTally drops;  // by reason (linkem/drops.hpp)

    void add(LinkRuntime &link, const PacketIn &in, const Verdict &v) {
        ++packets;
        bytes += in.len_bytes;
        if (v.fate == Fate::kForward) {
            const uint64_t delay_ns = v.release_ns - in.arrival_ns;
            link.rx.delay_ns.record_in_burst(delay_ns);
            delay_sum_ns += delay_ns;
            ++forwarded;
        } else {
            drops.count(v.fate);
        }
    }
    void flush(LinkRuntime &link, bool inner_hop) {
        link.rx.packets.add(packets);
        link.rx.bytes.add(bytes);
        link.rx.delay_ns.add_sum(delay_sum_ns);
        drops.flush(link.rx);
        link.rx.queue_depth.set(link.model.queue_depth());
        if (inner_hop) link.rx.handed_on.add(forwarded);
    }
};

// Counts an inner hop's verdicts on its link (its packets go on to the next hop).
inline void count_inner_hop(LinkRuntime &link, const PacketIn *in, const Verdict *verdicts, uint32_t n) {
    HopTally tally;
    for (uint32_t j = 0; j < n; ++j) tally.add(link, in[j], verdicts[j]);
    tally.flush(link, true);
}

// Whole records of `record` bytes a lane can still take, one kept spare for a wrap.
inline uint64_t lane_room(DelayArena &arena, uint64_t record, uint32_t wanted) {
    const uint64_t free = arena.free_bytes(record * (wanted + 1));
    return free > record ? (free - record) / record : 0;
}

// A link with a queue discipline (docs/ARCHITECTURE.md "Queue disciplines"):
// what its model decided, from its held frames into its lane, mangled,
// counted. Each decision's frame is in the held store under its handle
// (HeldFrames::kNoSlot: it found no slot when held).
inline void emit_decided(LinkRuntime &link, const Decided *d, uint32_t n) {
    HeldFrames &store = *link.held_frames;
    LinkMangler &mg = link.mangle;
    Lane *const main_lane = link.lane;
    HopTally tally;
    uint32_t n_arena_full = 0, n_truncated = 0, n_ce = 0, n_corrupted = 0, n_duplicated = 0, n_reordered = 0;
    uint64_t corrupted_bits = 0;
    for (uint32_t j = 0; j < n; ++j) {
        const uint32_t slot = static_cast<uint32_t>(d[j].handle);
        const bool has_frame = slot != HeldFrames::kNoSlot;
        Verdict v = d[j].verdict;
        if (!has_frame && v.fate == Fate::kForward) v.fate = Fate::kDropArenaFull;  // its frame found no room when held
        const PacketIn in{d[j].arrival_ns, d[j].len_bytes, false};
        tally.add(link, in, v);
        if (v.fate == Fate::kForward) {
            uint32_t len = store.len(slot);
            if (len > mg.truncate_bytes) {
                len = mg.truncate_bytes;
                ++n_truncated;
            }
            Lane *lane = main_lane;
            uint64_t release_ns = v.release_ns;
            if (mg.reorder_on && mg.reorder.draw(&mg.rng)) {
                lane = link.reorder_lane;
                release_ns += mg.reorder_extra_ns;
                ++n_reordered;
            }
            if (ArenaRecord *r = lane->arena.append(release_ns, len, v.tag); r == nullptr) {
                ++n_arena_full;
            } else {
                std::memcpy(r->data(), store.data(slot), len);
                if (v.ce_marked) {  // the discipline's MARK: set CE on the wire
                    PacketFields f;
                    parse_packet(r->data(), len, &f);
                    if (f.ip_version != 0 && f.ecn != 3 && mark_ce(r->data(), len, f.l3_offset, f.ip_version)) ++n_ce;
                }
                if (mg.corrupt) {
                    const uint32_t bits = mg.corrupt->apply(r->data(), len);
                    n_corrupted += bits != 0 ? 1 : 0;
                    corrupted_bits += bits;
                }
                if (mg.duplicate_on && mg.duplicate.draw(&mg.rng)) {
                    ++n_duplicated;
                    if (ArenaRecord *copy = lane->arena.append(release_ns, len, v.tag & ~LinkTag::kWaited))
                        std::memcpy(copy->data(), r->data(), len);
                    else
                        ++n_arena_full;
                }
            }
        }
        if (has_frame) store.give_back(slot);
    }
    tally.flush(link, false);
    if (n_arena_full != 0) link.rx.drop_arena_full.add(n_arena_full);
    if (n_truncated != 0) link.rx.truncated.add(n_truncated);
    if (n_ce != 0) link.rx.ce_marked.add(n_ce);
    if (n_corrupted != 0) {
        link.rx.corrupted.add(n_corrupted);
        link.rx.corrupted_bits.add(corrupted_bits);
    }
    if (n_duplicated != 0) link.rx.duplicated.add(n_duplicated);
    if (n_reordered != 0) link.rx.reordered.add(n_reordered);
    main_lane->arena.publish();
    if (link.reorder_lane != nullptr) link.reorder_lane->arena.publish();
}

// Decides a disciplined link's transmission starts up to t and sends them on.
inline void drain_held(LinkRuntime &link, uint64_t t) {
    Decided d[kMaxBurst];
    for (;;) {
        const uint64_t room = lane_room(link.lane->arena, DelayArena::record_bytes(kMaxFrameBytes), kMaxBurst);
        const uint32_t n = link.model.advance(t, d, kMaxBurst, room);
        if (n == 0) return;
        emit_decided(link, d, n);
    }
}

// A disciplined link's packets (the path's one hop): each arrival is held
// (its frame copied into the held store) after the decisions up to its time.
template <class Frames>
void hold_tail(LinkRuntime &link, const PacketIn *in, const uint16_t *at, uint32_t m, const Frames &frames) {
    HopTally refused;
    HeldFrames &store = *link.held_frames;
    for (uint32_t j = 0; j < m; ++j) {
        drain_held(link, in[j].arrival_ns);
        const uint32_t len = frames.len(at[j]);
        const uint32_t slot = store.take(len);
        const Fate f = link.model.hold(in[j], slot);
        if (f != Fate::kForward) {
            if (slot != HeldFrames::kNoSlot) store.give_back(slot);
            refused.add(link, in[j], Verdict{f, false, 0, 0});
            continue;
        }
        if (slot != HeldFrames::kNoSlot) frames.copy(at[j], store.data(slot), len);
    }
    if (refused.packets != 0) refused.flush(link, false);
}

// Runs packets through a path's hops from flow_hop on, where their hop is
// `link` (for a per-flow path, their flow's instance), and puts the survivors,
// mangled, into the last hop's lanes. in[j] is the burst's frame at[j], at
// its arrival at hop flow_hop; ce[j] says whether an earlier hop marked it.
template <class Frames>
void run_tail(const PathRuntime &path, LinkRuntime &link, PacketIn *in, uint16_t *at, bool *ce, uint32_t m, const Frames &frames,
              const PacketFields *fields) {
    const size_t first = path.flow_hop, hops = path.hops.size() - first;
    if (link.held_frames) [[unlikely]] {  // a queue discipline: held, decided at each transmission start (the path's one hop)
        hold_tail(link, in, at, m, frames);
        return;
    }
    const auto hop = [&](size_t h) -> LinkRuntime & { return h == 0 ? link : *path.hops[first + h]; };
    LinkRuntime *last = &hop(hops - 1);
    uint32_t longest = 0;
    for (uint32_t j = 0; j < m; ++j) longest = std::max(longest, frames.len(at[j]));
    // The last lane's room, in records of the longest frame, goes to the first
    // of these hops: a packet that would not fit is dropped before it takes
    // link time or queue space there or after.
    const uint64_t room = lane_room(last->lane->arena, DelayArena::record_bytes(longest), m);

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
        uint32_t len = frames.len(at[j]);
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
        frames.copy(at[j], r->data(), len);
        const PacketFields &f = fields[at[j]];
        if ((ce[j] || verdicts[j].ce_marked) && f.ecn != 3 && mark_ce(r->data(), len, f.l3_offset, f.ip_version)) ++n_ce;  // 3: already CE
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
            std::memcpy(copy->data(), r->data(), len);
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
template <class Frames>
void run_group(const Group &g, const uint16_t *idx, LinkRuntime *const *link_of, const Frames &frames, const PacketFields *fields) {
    const PathRuntime &path = *g.path;
    const bool ecn = path.hops.back()->mangle.ecn;                            // every instance of a template mangles alike
    const LinkRuntime::QueueChoice &choice = path.hops.back()->queue_choice;  // a scheduler's: the flow or class
    PacketIn in[kMaxBurst];
    uint16_t at[kMaxBurst];  // in[j] is the burst's frame at[j]
    bool ce[kMaxBurst];
    for (uint32_t j = 0; j < g.count; ++j) {
        const uint16_t i = idx[j];
        const PacketFields &f = fields[i];
        in[j] = {frames.arrival_ns(i), frames.len(i),
                 ecn && f.ip_version != 0 && ecn_capable(frames.head(i), frames.head_len(i), f.l3_offset, f.ip_version),
                 choice.any() ? choice.of(f) : 0};
        at[j] = i;
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
        if (n != 0) run_tail(path, *path.hops[path.flow_hop], in, at, ce, n, frames, fields);
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
            run_tail(path, *link_of[mine_at[0]], mine_in, mine_at, mine_ce, mine, frames, fields);
        });
}

// The link that names the packet's group: the path's hop flow_hop, which for
// a per-flow path is the flow's instance (nullptr: no instance free, dropped).
// An instance may be recycled only when its lanes are empty and no packet of
// this burst (serial `burst`) went to it.
inline LinkRuntime *group_link(PathRuntime &path, const PacketFields &f, uint64_t now_ns, uint64_t burst) {
    if (path.flows == nullptr) return path.hops[path.flow_hop];
    FlowTemplate &t = *path.flows;
    bool created = false;
    const uint32_t i = t.table.find_or_add(
        flow_key(t.key, f), now_ns, [&](uint32_t k) { return t.last_burst[k] != burst && t.instances[k]->in_flight() == 0; }, &created);
    if (i == FlowTable::kNone) return nullptr;
    if (created) t.instances[i]->model.reset();
    t.last_burst[i] = burst;
    return t.instances[i];
}

}  // namespace ingress_detail

// Decides every transmission start up to now_ns on the links with a queue
// discipline that this port's packets reach (docs/ARCHITECTURE.md "Queue
// disciplines"): the rx lcore calls it on each poll, idle or not, before
// admitting the poll's burst; linkem-sim before each arrival and, with
// UINT64_MAX, at the end of its input. One load per poll when there are none.
inline void advance_held(IngressRuntime &in, uint64_t now_ns) {
    for (LinkRuntime *link : in.held_links) ingress_detail::drain_held(*link, now_ns);
}

namespace ingress_detail {

// Frames first.. of a burst, as a burst of their own.
template <class Frames>
struct FramesFrom {
    const Frames &frames;
    uint16_t first;
    uint32_t len(uint16_t i) const { return frames.len(first + i); }
    const uint8_t *head(uint16_t i) const { return frames.head(first + i); }
    uint32_t head_len(uint16_t i) const { return frames.head_len(first + i); }
    void copy(uint16_t i, uint8_t *dst, uint32_t n) const { frames.copy(first + i, dst, n); }
    uint64_t arrival_ns(uint16_t i) const { return frames.arrival_ns(first + i); }
};

// admit_burst() with the parameters in force.
template <class Frames, class Now>
void admit_frames(IngressRuntime &in, const Frames &frames, uint16_t n, uint64_t start_ns, Now now) {
    IngressCounters &c = in.counters;
    ++in.burst_serial;  // from 1: FlowTemplate::last_burst starts at 0

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
            bytes += frames.len(i);
            order[i] = i;
        }
        groups[n_groups++] = {in.direct, n, in.direct->hops.front()};
        n_default = n;
    } else {
        constexpr uint16_t kNoGroup = UINT16_MAX;
        uint16_t group_index[kMaxBurst];  // by packet: its group (kNoGroup: dropped)
        for (uint16_t i = 0; i < n; ++i) {
            bytes += frames.len(i);
            if (in.needs_fields) {
                parse_packet(frames.head(i), frames.head_len(i), &fields[i]);
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
            LinkRuntime *link = group_link(path, fields[i], frames.arrival_ns(i), in.burst_serial);
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
    const uint64_t classified_ns = now();

    // Each group through its path.
    const uint16_t *idx = order;
    for (uint32_t g = 0; g < n_groups; ++g) {
        run_group(groups[g], idx, link_of, frames, fields);
        idx += groups[g].count;
    }

    c.packets.add(n);
    c.bytes.add(bytes);
    if (n_default != 0) c.default_hits.add(n_default);
    if (n_rule_drop != 0) c.drop_rule.add(n_rule_drop);
    if (n_unclassified != 0) c.drop_unclassified.add(n_unclassified);
    if (n_flow_limit != 0) c.drop_flow_limit.add(n_flow_limit);
    for (size_t b = 0; b < kParseNotes; ++b)
        if (notes[b] != 0) c.notes[b].add(notes[b]);
    const uint64_t done_ns = now();
    c.classify_ns.add(classified_ns - start_ns);
    for (uint32_t g = 0; g < n_groups; ++g) groups[g].busy->rx.busy_ns.add((done_ns - classified_ns) * groups[g].count / n);
}

}  // namespace ingress_detail

// Admits a burst of n frames that arrived at `in`'s port: classifies them,
// runs each group through its path, counts. start_ns is when this thread
// began on the burst (later than the arrival when it came through a handoff
// ring), for the time spent classifying; now() is read once more after
// classifying and once at the end.
//
// A runtime change takes effect with the first packet that arrives at or
// after its instant (link_change.hpp): a burst whose arrivals straddle the
// instant (a replay's, linkem-sim's) is admitted in two parts, the change
// taken between them. The first arrival is noted once (a timeline's
// from: first_packet): one relaxed load per burst after that.
template <class Frames, class Now>
void admit_burst(IngressRuntime &in, const Frames &frames, uint16_t n, uint64_t start_ns, Now now) {
    using namespace ingress_detail;
    if (n == 0) return admit_frames(in, frames, n, start_ns, now);
    if (in.first_arrival_ns.load(std::memory_order_relaxed) == IngressRuntime::kNoArrival) [[unlikely]]
        in.first_arrival_ns.store(frames.arrival_ns(0), std::memory_order_release);
    if (PendingChange *pending = in.change.load(std::memory_order_acquire); pending != nullptr) [[unlikely]] {
        if (frames.arrival_ns(0) >= pending->effective_ns) {
            take_change(in, pending);
        } else if (frames.arrival_ns(n - 1) >= pending->effective_ns) {
            uint16_t k = 1;
            while (frames.arrival_ns(k) < pending->effective_ns) ++k;
            admit_frames(in, frames, k, start_ns, now);
            take_change(in, pending);
            return admit_frames(in, FramesFrom<Frames>{frames, k}, static_cast<uint16_t>(n - k), start_ns, now);
        }
    }
    admit_frames(in, frames, n, start_ns, now);
}

}  // namespace linkem
