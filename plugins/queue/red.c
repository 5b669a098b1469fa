/*
 * queue discipline "red": Random Early Detection (Floyd and Jacobson 1993,
 * RFC 2309's recommendation), with the gentle variant, as ns-3 and Linux
 * offer it.
 *
 *   queue: {discipline: red}                                  # 5 to 15 packets, gentle
 *   queue: {discipline: red, min_th: 20, max_th: 60, max_p: 2%, w_q: 0.002, ecn: yes}
 *   queue: {discipline: red, mode: bytes, min_th: 30KB, max_th: 90KB}
 *
 * Parameters
 *   min_th     number of packets (size in bytes with mode: bytes), default 5 (7500B):
 *              no early drop while the average queue is below it
 *   max_th     number of packets (size with mode: bytes), above min_th, default 15
 *              (22500B): above it every packet is dropped (with gentle: the
 *              probability rises from max_p to 1 up to 2 max_th)
 *   max_p      probability (default 10%): the early drop probability at max_th
 *   w_q        number in (0, 1] (default 0.002): the average's weight
 *   gentle     yes or no (default yes)
 *   ecn        yes or no (default no): mark CE instead of dropping an ECN-capable
 *              packet early; above the hard threshold (max_th, or 2 max_th with
 *              gentle) packets are dropped unless hard_drop is no
 *   hard_drop  yes or no (default yes, as ns-3's UseHardDrop): with ecn, drop
 *              rather than mark above the hard threshold
 *   mode       packets (default) or bytes: what min_th, max_th and the average count
 *   mean_pkt_size size (default 500B, ns-3's MeanPktSize): the typical frame, in
 *              wire bytes, for the idle-time correction (and byte mode's scaling)
 *
 * At each arrival (enqueue), with q the packets (or wire bytes) waiting before
 * it, as Floyd and Jacobson's figure 2:
 *   avg = (1 - w_q) avg + w_q q; after an idle period (the link found the
 *   queue empty, dequeue(NULL), and nothing arrived since), first
 *   avg = (1 - w_q)^m avg, m = idle time x link rate / (8 mean_pkt_size),
 *   the number of typical frames the link could have sent (ns-3's form:
 *   together avg (1 - w_q)^(m+1) + w_q q). The rate is the state's
 *   link_rate_bps, else the create arguments'; when neither is known the
 *   idle time is not counted.
 *   below min_th: admit, count = -1;
 *   min_th to max_th: count + 1, p_b = max_p (avg - min_th) / (max_th - min_th),
 *     with gentle from max_th to 2 max_th p_b = max_p + (1 - max_p) (avg - max_th) / max_th;
 *     in byte mode p_b *= wire_bytes / mean_pkt_size;
 *     p_a = p_b / (1 - count p_b) (1 once count p_b >= 1): drop (or mark) with
 *     probability p_a (a draw from the instance's seeded stream), then count = 0;
 *   at or above max_th (2 max_th with gentle): drop, count = 0.
 * Dequeue decides nothing (it records the start of idle periods).
 *
 * Extensions: linkem.carry (the random stream, avg, count and the idle
 * period go on) and linkem.reset.
 *
 * See also: codel, pie; docs/QUEUES.md.
 */
#include "queue_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct red_vars {
    double avg;
    int64_t count;
    int idle;
    uint64_t idle_since_ns;
} red_vars;

typedef struct red {
    lkm_rng rng;
    double min_th, max_th, max_p, w_q, mean_pkt_bytes;
    uint64_t create_rate_bps;
    int gentle, ecn, hard_drop, bytes;
    red_vars v;
} red;

static void vars_init(red_vars *v) {
    memset(v, 0, sizeof *v);
    v->count = -1;
}

static int read_threshold(const lkm_create_args *args, const char *key, int bytes, double *out) {
    if (!bytes) return args->number(args, key, 0, out) == LKM_INVALID ? -1 : 0;
    uint64_t b = 0;
    const int rc = args->size_bytes(args, key, 0, &b);
    if (rc == LKM_INVALID) return -1;
    if (rc == LKM_OK) *out = (double)b;
    return 0;
}

static int create(const lkm_create_args *args, void **state) {
    const char *mode = "packets";
    if (args->string(args, "mode", 0, &mode) == LKM_INVALID) return -1;
    if (strcmp(mode, "packets") != 0 && strcmp(mode, "bytes") != 0) {
        args->fail(args, "mode", "expected packets or bytes");
        return -1;
    }
    const int bytes = strcmp(mode, "bytes") == 0;
    uint64_t mean_pkt = 500;
    double min_th = bytes ? 7500 : 5, max_th = bytes ? 22500 : 15, max_p = 0.1, w_q = 0.002;
    int gentle = 1, ecn = 0, hard_drop = 1, bad = 0;
    bad |= read_threshold(args, "min_th", bytes, &min_th) != 0;
    bad |= read_threshold(args, "max_th", bytes, &max_th) != 0;
    bad |= args->probability(args, "max_p", 0, &max_p) == LKM_INVALID;
    bad |= args->number(args, "w_q", 0, &w_q) == LKM_INVALID;
    bad |= args->size_bytes(args, "mean_pkt_size", 0, &mean_pkt) == LKM_INVALID;
    bad |= queue_read_flag(args, "gentle", &gentle) != 0;
    bad |= queue_read_flag(args, "ecn", &ecn) != 0;
    bad |= queue_read_flag(args, "hard_drop", &hard_drop) != 0;
    if (bad) return -1;
    if (!(min_th >= 0)) {
        args->fail(args, "min_th", "must be 0 or more");
        return -1;
    }
    if (!(max_th > min_th)) {
        args->fail(args, "max_th", "must be above min_th");
        return -1;
    }
    if (!(max_p > 0)) {
        args->fail(args, "max_p", "must be above 0");
        return -1;
    }
    if (!(w_q > 0 && w_q <= 1)) {
        args->fail(args, "w_q", "must be above 0 and at most 1");
        return -1;
    }
    if (mean_pkt == 0) {
        args->fail(args, "mean_pkt_size", "must be above 0");
        return -1;
    }
    red *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->min_th = min_th;
    s->max_th = max_th;
    s->max_p = max_p;
    s->w_q = w_q;
    s->mean_pkt_bytes = (double)mean_pkt;
    s->create_rate_bps = args->link_rate_bps;
    s->gentle = gentle;
    s->ecn = ecn;
    s->hard_drop = hard_drop;
    s->bytes = bytes;
    vars_init(&s->v);
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

/* A congestion signal on pkt: mark it when allowed, else drop it. */
static uint32_t congestion_signal(const red *s, const lkm_queue_pkt *pkt, int hard) {
    if (s->ecn && pkt->ecn_capable && !(hard && s->hard_drop)) return LKM_QUEUE_MARK;
    return LKM_QUEUE_DROP;
}

static uint32_t enqueue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    red *s = state;
    red_vars *v = &s->v;
    const double backlog = s->bytes ? (double)q->backlog_bytes : (double)q->backlog_packets;
    if (v->idle) {
        const uint64_t rate = q->link_rate_bps != 0 ? q->link_rate_bps : s->create_rate_bps;
        const uint64_t idle_ns = q->now_ns > v->idle_since_ns ? q->now_ns - v->idle_since_ns : 0;
        const double m = (double)idle_ns * 1e-9 * (double)rate / (8.0 * s->mean_pkt_bytes);
        if (m > 0) v->avg *= pow(1.0 - s->w_q, m);
        v->idle = 0;
    }
    v->avg = (1.0 - s->w_q) * v->avg + s->w_q * backlog;

    const double hard_th = s->gentle ? 2 * s->max_th : s->max_th;
    if (v->avg < s->min_th) {
        v->count = -1;
        return LKM_QUEUE_PASS;
    }
    if (v->avg >= hard_th) {
        v->count = 0;
        return congestion_signal(s, pkt, 1);
    }
    ++v->count;
    double p_b = v->avg < s->max_th ? s->max_p * (v->avg - s->min_th) / (s->max_th - s->min_th)
                                    : s->max_p + (1.0 - s->max_p) * (v->avg - s->max_th) / s->max_th;
    if (s->bytes) p_b = p_b * (double)pkt->wire_bytes / s->mean_pkt_bytes;
    const double scaled = (double)v->count * p_b;
    const double p_a = scaled >= 1 ? 1.0 : p_b / (1.0 - scaled);
    if (lkm_rng_uniform(&s->rng) < p_a) {
        v->count = 0;
        return congestion_signal(s, pkt, 0);
    }
    return LKM_QUEUE_PASS;
}

static uint32_t dequeue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    red *s = state;
    if (pkt == NULL && !s->v.idle) { /* the link is free and the queue empty: an idle period starts */
        s->v.idle = 1;
        s->v.idle_since_ns = q->now_ns;
    }
    return LKM_QUEUE_PASS;
}

static void reset(void *state) { vars_init(&((red *)state)->v); }
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
/* A new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    red *to = new_state;
    const red *from = old_state;
    to->rng = from->rng;
    to->v = from->v;
    if (to->bytes != from->bytes) to->v.avg = 0; /* packets and bytes do not mix */
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    return NULL;
}

static const lkm_param_info params[] = {
    {"min_th", "number", "average queue below which nothing is dropped, packets (size with mode: bytes); default 5"},
    {"max_th", "number", "average queue at which the early drop probability reaches max_p; default 15"},
    {"max_p", "probability", "early drop probability at max_th; default 10%"},
    {"w_q", "number", "weight of the average queue; default 0.002"},
    {"gentle", "string", "yes or no: probability from max_p to 1 between max_th and 2 max_th; default yes"},
    {"ecn", "string", "yes or no: mark ECN-capable packets instead of dropping early; default no"},
    {"hard_drop", "string", "yes or no: with ecn, drop above the hard threshold; default yes"},
    {"mode", "string", "packets or bytes: what the thresholds count; default packets"},
    {"mean_pkt_size", "size", "typical frame (wire bytes) for the idle correction; default 500B"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "red",
    .kind = LKM_KIND_QUEUE,
    .description = "RED (Floyd and Jacobson): early random drop by the average queue, gentle",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .get_extension = get_extension,
    .enqueue = enqueue,
    .dequeue = dequeue,
};
