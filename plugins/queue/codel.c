/*
 * queue discipline "codel": Controlled Delay, RFC 8289.
 *
 *   queue: {discipline: codel}                                # target 5ms, interval 100ms
 *   queue: {discipline: codel, target: 5ms, interval: 100ms, ecn: yes}
 *
 * Parameters
 *   target    duration, above 0 (default 5ms): the acceptable standing sojourn time
 *   interval  duration, above 0 (default 100ms): how long the sojourn time must stay
 *             above target before the first drop, and the control law's scale
 *   ecn       yes or no (default no): mark CE instead of dropping an ECN-capable
 *             packet; with no, CoDel never marks
 *   mtu       size (default 1514B): the backlog guard. No packet is dropped while
 *             the bytes still waiting behind it are at most one frame of this
 *             length, counted as the link counts them (wire bytes: mtu plus the
 *             link's framing overhead)
 *   arithmetic rfc (default) or linux: rfc keeps times in ns and drops at
 *             first_above_time (RFC 8289's ">="); linux keeps them in units of
 *             1024 ns, as Linux and ns-3 do, and drops only after it (">").
 *             With linux and mtu: 1499B (ns-3's "fewer than MinBytes 1500"), the
 *             decisions are ns-3 3.37's CoDelQueueDisc's, packet by packet
 *             (docs/QUEUES.md)
 *
 * All decisions are taken at dequeue (enqueue admits every packet the host's
 * hard limit admits), following RFC 8289's pseudo-code (section 5), one
 * packet per call: where the RFC's dequeue() drops a packet and dequeues the
 * next in a loop, this model returns DROP and the host calls dequeue again,
 * at the same instant, with the next head, which continues the loop.
 *
 *   - dodequeue (RFC 5.3): a packet whose sojourn time is below target, or
 *     behind which at most the guard's bytes wait, resets first_above_time;
 *     otherwise the first such packet sets first_above_time = now + interval
 *     and a later one at now >= first_above_time is ok to drop (the RFC's
 *     ">=": Linux and ns-3 use ">").
 *   - Dropping state (RFC 5.5): while now >= drop_next, drop (count + 1) and
 *     schedule drop_next = drop_next + interval / sqrt(count); leave the state
 *     when a packet is not ok to drop or the queue is empty (dequeue(NULL)).
 *   - Entering the state (RFC 5.4): drop, and start from count = 1, or from
 *     count - lastcount when that is above 1 and the last drop_next is less
 *     than 16 intervals ago; drop_next = now + interval / sqrt(count).
 *     "now - drop_next < 16 interval" is a signed comparison, as in Linux and
 *     ns-3 (whose version the RFC says it reproduces): a drop_next still in the
 *     future counts as recent. The RFC's unsigned time_t would wrap there.
 *   - The control law interval / sqrt(count) is Linux's and ns-3's fixed-point
 *     Newton iteration (codel_math.h): the same 16-bit reciprocal square roots,
 *     with the interval scaled in ns instead of their 1024 ns units.
 *   - ECN, as Linux: with ecn, an ECN-capable packet that would be dropped is
 *     marked and sent instead; the schedule advances as for a drop, and the
 *     loop stops (the marked packet leaves). A packet that is not ECN-capable
 *     is dropped. No random draws.
 *
 * Extensions: linkem.carry (a parameter change keeps the state: dropping,
 * count, lastcount, drop_next, first_above_time, the reciprocal square root)
 * and linkem.reset (back to create()'s state).
 *
 * See also: pie, red; docs/QUEUES.md.
 */
#include "codel_math.h"
#include "queue_common.h"

#include <stdlib.h>
#include <string.h>

enum { CODEL_NOTHING_PENDING, CODEL_AFTER_FIRST_DROP, CODEL_AFTER_LOOP_DROP };

typedef struct codel_vars {
    uint64_t first_above_time; /* 0: not above target */
    uint64_t drop_next;
    uint32_t count, lastcount;
    uint16_t rec_inv_sqrt;
    uint8_t dropping;
    uint8_t pending;     /* the last call returned DROP: the RFC's loop goes on at the next dequeue */
    uint64_t pending_ns; /* when */
} codel_vars;

typedef struct codel {
    uint64_t target, interval; /* in the instance's time unit: ns, or 1024 ns with arithmetic: linux */
    uint64_t guard_bytes;
    int ecn;
    int shift;  /* ns >> shift is the time unit: 0, or 10 with arithmetic: linux */
    int strict; /* ok to drop only after first_above_time (Linux, ns-3), not at it (the RFC) */
    codel_vars v;
} codel;

static void vars_init(codel_vars *v) {
    memset(v, 0, sizeof *v);
    v->rec_inv_sqrt = CODEL_REC_INV_SQRT_ONE;
}

static int create(const lkm_create_args *args, void **state) {
    uint64_t target = 5000000, interval = 100000000, mtu = 1514;
    int ecn = 0, bad = 0;
    const char *arithmetic = "rfc";
    bad |= args->duration_ns(args, "target", 0, &target) == LKM_INVALID;
    bad |= args->duration_ns(args, "interval", 0, &interval) == LKM_INVALID;
    bad |= args->size_bytes(args, "mtu", 0, &mtu) == LKM_INVALID;
    bad |= queue_read_flag(args, "ecn", &ecn) != 0;
    bad |= args->string(args, "arithmetic", 0, &arithmetic) == LKM_INVALID;
    if (bad) return -1;
    if (strcmp(arithmetic, "rfc") != 0 && strcmp(arithmetic, "linux") != 0) {
        args->fail(args, "arithmetic", "expected rfc or linux");
        return -1;
    }
    const int linux_units = strcmp(arithmetic, "linux") == 0;
    if (target == 0) {
        args->fail(args, "target", "must be above 0");
        return -1;
    }
    if (interval == 0 || interval >= (UINT64_C(1) << 40)) {
        args->fail(args, "interval", "must be above 0 and below 1000s");
        return -1;
    }
    codel *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->shift = linux_units ? 10 : 0;
    s->strict = linux_units;
    s->target = target >> s->shift;
    s->interval = interval >> s->shift;
    if (s->interval == 0) s->interval = 1;
    s->guard_bytes = mtu + args->overhead_bytes;
    s->ecn = ecn;
    vars_init(&s->v);
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

/* RFC 8289's dodequeue() for pkt (NULL: the queue is empty) at now (in the
 * time unit; now_ns in ns), with backlog_bytes still waiting behind it: is
 * it ok to drop? */
static int ok_to_drop(codel *s, const lkm_queue_pkt *pkt, uint64_t now, uint64_t now_ns, uint64_t backlog_bytes) {
    codel_vars *v = &s->v;
    if (pkt == NULL) {
        v->first_above_time = 0;
        return 0;
    }
    const uint64_t sojourn = (now_ns > pkt->arrival_ns ? now_ns - pkt->arrival_ns : 0) >> s->shift;
    if (sojourn < s->target || backlog_bytes <= s->guard_bytes) {
        v->first_above_time = 0;
        return 0;
    }
    if (v->first_above_time == 0) {
        v->first_above_time = now + s->interval;
        return 0;
    }
    return s->strict ? now > v->first_above_time : now >= v->first_above_time;
}

static int may_mark(const codel *s, const lkm_queue_pkt *pkt) { return s->ecn && pkt->ecn_capable; }

/* One turn of the RFC's drop loop on pkt: count goes up, and pkt is dropped
 * (the loop continues at the next call) or, with ECN, marked and sent. */
static uint32_t signal_in_loop(codel *s, const lkm_queue_pkt *pkt, uint64_t now_ns) {
    codel_vars *v = &s->v;
    ++v->count;
    v->rec_inv_sqrt = codel_newton_step(v->rec_inv_sqrt, v->count);
    if (may_mark(s, pkt)) {
        v->drop_next += codel_spacing_ns(s->interval, v->rec_inv_sqrt);
        return LKM_QUEUE_MARK;
    }
    v->pending = CODEL_AFTER_LOOP_DROP;
    v->pending_ns = now_ns;
    return LKM_QUEUE_DROP;
}

static uint32_t enqueue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    (void)state;
    (void)pkt;
    (void)q;
    return LKM_QUEUE_PASS; /* CoDel decides at dequeue */
}

static uint32_t dequeue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    codel *s = state;
    codel_vars *v = &s->v;
    const uint64_t now_ns = q->now_ns, now = now_ns >> s->shift;
    if (v->pending != CODEL_NOTHING_PENDING && now_ns != v->pending_ns) {
        /* The host did not come back at the drop's instant: the drop left
         * the queue empty, and the RFC's next dodequeue found nothing. */
        v->first_above_time = 0;
        if (v->pending == CODEL_AFTER_LOOP_DROP) v->dropping = 0;
        v->pending = CODEL_NOTHING_PENDING;
    }
    if (v->pending == CODEL_AFTER_FIRST_DROP) {
        /* RFC 5.4: after the drop that entered the dropping state, the next
         * packet is dequeued (its verdict only updates first_above_time) and sent. */
        v->pending = CODEL_NOTHING_PENDING;
        (void)ok_to_drop(s, pkt, now, now_ns, q->backlog_bytes);
        return LKM_QUEUE_PASS;
    }
    const int ok = ok_to_drop(s, pkt, now, now_ns, q->backlog_bytes);
    if (v->pending == CODEL_AFTER_LOOP_DROP) {
        /* RFC 5.5, inside the loop after a drop: leave, or schedule the next drop. */
        v->pending = CODEL_NOTHING_PENDING;
        if (!ok)
            v->dropping = 0;
        else
            v->drop_next += codel_spacing_ns(s->interval, v->rec_inv_sqrt);
        if (v->dropping && now >= v->drop_next) return signal_in_loop(s, pkt, now_ns);
        return LKM_QUEUE_PASS;
    }
    if (v->dropping) {
        if (!ok) v->dropping = 0;
        if (v->dropping && now >= v->drop_next) return signal_in_loop(s, pkt, now_ns);
        return LKM_QUEUE_PASS;
    }
    if (!ok) return LKM_QUEUE_PASS;
    /* RFC 5.4: enter the dropping state. */
    v->dropping = 1;
    const uint32_t delta = v->count - v->lastcount;
    if (delta > 1 && (int64_t)(now - v->drop_next) < (int64_t)(16 * s->interval)) {
        v->count = delta;
        v->rec_inv_sqrt = codel_newton_step(v->rec_inv_sqrt, v->count);
    } else {
        v->count = 1;
        v->rec_inv_sqrt = CODEL_REC_INV_SQRT_ONE;
    }
    v->lastcount = v->count;
    v->drop_next = now + codel_spacing_ns(s->interval, v->rec_inv_sqrt);
    if (may_mark(s, pkt)) return LKM_QUEUE_MARK;
    v->pending = CODEL_AFTER_FIRST_DROP;
    v->pending_ns = now_ns;
    return LKM_QUEUE_DROP;
}

static void reset(void *state) { vars_init(&((codel *)state)->v); }
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
/* A new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    codel *to = new_state;
    const codel *from = old_state;
    to->v = from->v;
    if (to->shift != from->shift) { /* the times change unit */
        codel_vars *v = &to->v;
        const int up = from->shift > to->shift, by = up ? from->shift - to->shift : to->shift - from->shift;
        if (v->first_above_time != 0) v->first_above_time = up ? v->first_above_time << by : v->first_above_time >> by;
        v->drop_next = up ? v->drop_next << by : v->drop_next >> by;
    }
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    return NULL;
}

static const lkm_param_info params[] = {
    {"target", "duration", "acceptable standing sojourn time; default 5ms"},
    {"interval", "duration", "time above target before dropping, control-law scale; default 100ms"},
    {"ecn", "string", "yes or no: mark ECN-capable packets instead of dropping; default no"},
    {"mtu", "size", "backlog guard: no drop while at most this frame's wire bytes wait; default 1514B"},
    {"arithmetic", "string", "rfc (ns, ok to drop at first_above_time) or linux (1024 ns units, after it); default rfc"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "codel",
    .kind = LKM_KIND_QUEUE,
    .description = "CoDel (RFC 8289): drop at dequeue when the sojourn time stays above target",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .get_extension = get_extension,
    .enqueue = enqueue,
    .dequeue = dequeue,
};
