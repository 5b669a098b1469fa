/*
 * sojourn_cap: a queue discipline (LKM_KIND_QUEUE, plugin ABI 1.3) for
 * linkem's tests: docs/PLUGINS.md "Queue disciplines"' template,
 * plugins/template/sojourn_cap_aqm.c, with what the tests need besides.
 *
 * It drops a packet at dequeue when its sojourn time (the time it waited in
 * the queue) exceeds `cap`; with `ecn: true` it returns MARK instead, and the
 * host falls back to a drop for a packet that is not ECN-capable. With
 * `enqueue_backlog: N` it also drops at enqueue any packet that finds N or
 * more packets waiting (a test of the enqueue path).
 *
 * Built again with -D<WHAT> (test/meson.build) for the host's refusals:
 * BROKEN_NO_DEQUEUE (dequeue NULL), BROKEN_OLD_ABI (says ABI 1.2),
 * BROKEN_LOSS_WITH_QUEUE (a loss model that sets enqueue and dequeue), and
 * BAD_VERDICT (dequeue returns 7 for a packet past the cap: a model error).
 *
 * For the tests it counts its calls in its state, which a test reads by
 * casting the state pointer (test/test_queue_discipline.cpp repeats struct
 * sojourn_cap_state; a real plugin keeps its state private).
 */
#include <linkem/plugin.h>

#include <stdlib.h>

/* Shared with test/test_queue_discipline.cpp: keep in step. */
struct sojourn_cap_state {
    uint64_t cap_ns;
    uint64_t enqueue_backlog; /* 0: never drop at enqueue */
    int ecn;
    /* What the host called, for the tests. */
    uint64_t enqueues, dequeues, empty_dequeues;
    uint64_t last_now_ns;
    uint64_t last_backlog_packets, last_backlog_bytes;
    uint64_t last_link_rate_bps;
    int time_went_back; /* set when now_ns decreased from one call to the next */
};

static const lkm_param_info params[] = {
    {"cap", "duration", "the longest sojourn time a packet may have at its transmission start; required"},
    {"ecn", "string", "\"true\": mark an ECN-capable packet instead of dropping it; default \"false\""},
    {"enqueue_backlog", "number", "drop at enqueue a packet that finds this many waiting; default 0 (never)"},
};

static int create(const lkm_create_args *args, void **state) {
    struct sojourn_cap_state *s = calloc(1, sizeof *s);
    if (s == NULL) {
        args->fail(args, NULL, "out of memory");
        return -1;
    }
    if (args->duration_ns(args, "cap", 0, &s->cap_ns) != LKM_OK) {
        if (args->count(args, "cap") == 0) args->fail(args, "cap", "required: the longest sojourn time, such as 5ms");
        free(s);
        return -1;
    }
    const char *ecn = "false";
    if (args->string(args, "ecn", 0, &ecn) == LKM_INVALID) {
        free(s);
        return -1;
    }
    s->ecn = ecn[0] == 't';
    double backlog = 0;
    if (args->number(args, "enqueue_backlog", 0, &backlog) == LKM_INVALID || backlog < 0) {
        if (backlog < 0) args->fail(args, "enqueue_backlog", "must be 0 or more");
        free(s);
        return -1;
    }
    s->enqueue_backlog = (uint64_t)backlog;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void note(struct sojourn_cap_state *s, const lkm_queue_state *q) {
    if (q->now_ns < s->last_now_ns) s->time_went_back = 1;
    s->last_now_ns = q->now_ns;
    s->last_backlog_packets = q->backlog_packets;
    s->last_backlog_bytes = q->backlog_bytes;
    s->last_link_rate_bps = q->link_rate_bps;
}

static uint32_t enqueue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    struct sojourn_cap_state *s = state;
    (void)pkt;
    note(s, q);
    ++s->enqueues;
    return s->enqueue_backlog != 0 && q->backlog_packets >= s->enqueue_backlog ? LKM_QUEUE_DROP : LKM_QUEUE_PASS;
}

#if defined(BROKEN_NO_DEQUEUE)
#define UNUSED_IN_THIS_VARIANT __attribute__((unused)) /* the broken variant leaves it out of its descriptor */
#else
#define UNUSED_IN_THIS_VARIANT
#endif
static UNUSED_IN_THIS_VARIANT uint32_t dequeue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    struct sojourn_cap_state *s = state;
    note(s, q);
    if (pkt == NULL) { /* the link found the queue empty: a busy period ended */
        ++s->empty_dequeues;
        return LKM_QUEUE_PASS;
    }
    ++s->dequeues;
    if (q->now_ns - pkt->arrival_ns <= s->cap_ns) return LKM_QUEUE_PASS;
#if defined(BAD_VERDICT)
    return 7;
#endif
    return s->ecn ? LKM_QUEUE_MARK : LKM_QUEUE_DROP; /* MARK on a packet that is not ECN-capable: the host drops it */
}

#if defined(BROKEN_LOSS_WITH_QUEUE)
static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    (void)state;
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) drop[i] = 0;
}
#endif

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
#if defined(BROKEN_OLD_ABI)
    .abi_version = (LKM_ABI_MAJOR << 16) | 2,
#else
    .abi_version = LKM_ABI_VERSION,
#endif
    .name = "sojourn_cap",
#if defined(BROKEN_LOSS_WITH_QUEUE)
    .kind = LKM_KIND_LOSS,
    .loss_burst = loss_burst,
#else
    .kind = LKM_KIND_QUEUE,
#endif
    .description = "drops (or marks) a packet whose sojourn time exceeds cap when its transmission would start",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .enqueue = enqueue,
#if !defined(BROKEN_NO_DEQUEUE)
    .dequeue = dequeue,
#endif
};
