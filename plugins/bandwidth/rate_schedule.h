/*
 * Shared by the built-in bandwidth models whose rate changes over time
 * (internal, not part of the ABI). A schedule is a sequence of segments
 * [start, end) of constant rate; a frame of L bytes that starts at t finishes
 * when the link has carried 8 L bits since t. Work is exact integer
 * arithmetic in bit-nanoseconds (rate x time); the capacity a frame leaves
 * unused in its last nanosecond is carried to a frame that starts right then,
 * so back-to-back frames do not drift.
 */
#ifndef LINKEM_PLUGINS_RATE_SCHEDULE_H
#define LINKEM_PLUGINS_RATE_SCHEDULE_H

#include <linkem/plugin.h>

__extension__ typedef unsigned __int128 sched_u128;

typedef struct segment {
    uint64_t start_ns, end_ns, rate_bps;
} segment;

typedef struct rate_cursor {
    segment seg; /* the segment the last frame finished in */
    uint64_t last_finish_ns;
    sched_u128 carry; /* bit-ns left over at last_finish_ns */
} rate_cursor;

/* next(state, seg) replaces *seg by the segment that follows it. */
typedef void (*next_segment_fn)(void *state, segment *seg);

static inline uint64_t schedule_finish(rate_cursor *c, void *state, next_segment_fn next, uint64_t start_ns, uint32_t wire_bytes) {
    sched_u128 need = (sched_u128)wire_bytes * 8u * 1000000000u; /* bit-ns */
    sched_u128 spare = start_ns == c->last_finish_ns ? c->carry : 0;
    while (c->seg.end_ns <= start_ns) next(state, &c->seg);
    uint64_t t = start_ns;
    for (;;) {
        const sched_u128 capacity = (sched_u128)c->seg.rate_bps * (c->seg.end_ns - t) + spare;
        if (need <= capacity) {
            /* Finishes in this segment: the first whole ns by which it is carried. */
            const sched_u128 rest = need > spare ? need - spare : 0;
            const uint64_t dt = c->seg.rate_bps == 0 ? 0 : (uint64_t)((rest + c->seg.rate_bps - 1) / c->seg.rate_bps);
            c->carry = (sched_u128)c->seg.rate_bps * dt + spare - need;
            c->last_finish_ns = t + dt;
            return c->last_finish_ns;
        }
        need -= capacity;
        spare = 0;
        t = c->seg.end_ns;
        next(state, &c->seg);
    }
}

#endif
