/*
 * A template for a linkem queue discipline (AQM; kind LKM_KIND_QUEUE, plugin
 * ABI 1.3): it drops a packet at dequeue, when its transmission would start,
 * if its sojourn time (now - arrival) exceeds `cap`; with `ecn: true` it
 * marks an ECN-capable packet CE instead. Build it out of the tree with
 *   cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I/path/to/linkem/plugins/include \
 *      sojourn_cap_aqm.c -o sojourn_cap_aqm.so -lm
 * and load it by path:
 *   queue: {discipline: ./sojourn_cap_aqm.so, cap: 5ms, limit: 1000 packets}
 * docs/PLUGINS.md "Queue disciplines" walks through it.
 */
#include <linkem/plugin.h>

#include <stdlib.h>

/* (1) The instance's state. */
typedef struct aqm {
    uint64_t cap_ns;
    int ecn;
} aqm;

/* (2) create [control thread]: read the parameters (every key of `queue:`
 * but `discipline` and `limit`; `ecn` is the text "true" or "false"). */
static int create(const lkm_create_args *args, void **state) {
    uint64_t cap_ns = 0;
    const int rc = args->duration_ns(args, "cap", 0, &cap_ns);
    if (rc == LKM_INVALID) return -1; /* linkem already said why */
    if (rc == LKM_ABSENT) {
        args->fail(args, "cap", "missing: the longest sojourn time, such as 5ms");
        return -1;
    }
    const char *ecn = "false";
    if (args->string(args, "ecn", 0, &ecn) == LKM_INVALID) return -1;
    aqm *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    s->cap_ns = cap_ns;
    s->ecn = ecn[0] == 't';
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

/* (3) The verdicts [lcore, hot path: no allocation, locks, system calls or logs]. */
static uint32_t enqueue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    (void)state, (void)pkt, (void)q;
    return LKM_QUEUE_PASS; /* admit every arrival: linkem enforces `limit` before this call */
}

static uint32_t dequeue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    const aqm *s = state;
    if (pkt == NULL) return LKM_QUEUE_PASS; /* the queue went empty: nothing to decide */
    if (q->now_ns - pkt->arrival_ns <= s->cap_ns) return LKM_QUEUE_PASS;
    return s->ecn ? LKM_QUEUE_MARK : LKM_QUEUE_DROP; /* MARK on a non-ECN packet: linkem drops it */
}

static const lkm_param_info params[] = {
    {"cap", "duration", "the longest sojourn time at transmission start (required)"},
    {"ecn", "string", "\"true\": mark CE instead of dropping (default \"false\")"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "sojourn_cap_aqm",
    .kind = LKM_KIND_QUEUE,
    .description = "drops (or marks) a packet whose sojourn time exceeds cap at dequeue",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .enqueue = enqueue,
    .dequeue = dequeue,
};
