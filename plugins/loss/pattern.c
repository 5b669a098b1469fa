/*
 * loss model "pattern": deterministic loss, for reproducible tests.
 *
 *   loss: {plugin: pattern, drop: [3, 7, 11]}          # those packets
 *   loss: {plugin: pattern, every: 100}                # every 100th packet
 *   loss: {plugin: pattern, after: 2s, for: 500ms}     # an outage
 *   loss: {plugin: pattern, after: 1s, for: 100ms, period: 1s}  # repeated
 *
 * Parameters (any combination; a packet matching any rule is lost)
 *   drop    list of numbers: indexes of packets to lose, counting from 0 the
 *           packets the loss model sees (those the queue admitted)
 *   every   number, 1 and up: lose packets every-1, 2 every-1, ... (the Nth, 2Nth, ...)
 *   after   duration: start of a loss window, after the first packet's arrival
 *   for     duration: length of the window (required with after)
 *   period  duration: repeat the window this often (default: once)
 *
 * Reset (ABI 1.2): packet indexes count from 0 again, and the window
 * starts after the next packet.
 *
 * See also: bernoulli, gilbert_elliott.
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct pattern {
    uint64_t seen; /* packets seen so far */
    uint64_t every;
    int has_window, started;
    uint64_t first_arrival_ns, after_ns, for_ns, period_ns;
    uint32_t n_drop, next_drop; /* drop[] is sorted */
    uint64_t drop[];
} pattern;

static int by_value(const void *a, const void *b) {
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int create(const lkm_create_args *args, void **state) {
    const uint32_t n = args->count(args, "drop");
    pattern *s = calloc(1, sizeof *s + n * sizeof(uint64_t));
    if (s == NULL) return -1;
    int bad = 0;
    for (uint32_t i = 0; i < n; ++i) {
        double v = 0;
        if (args->number(args, "drop", i, &v) != LKM_OK || v < 0 || v != (double)(uint64_t)v) {
            args->fail(args, "drop", "expected a list of packet indexes: whole numbers from 0");
            bad = 1;
            break;
        }
        s->drop[i] = (uint64_t)v;
    }
    s->n_drop = n;
    qsort(s->drop, n, sizeof s->drop[0], by_value);
    double every = 0;
    bad |= args->number(args, "every", 0, &every) == LKM_INVALID;
    if (every != 0 && (every < 1 || every != (double)(uint64_t)every)) {
        args->fail(args, "every", "must be a whole number, 1 and up");
        bad = 1;
    }
    s->every = (uint64_t)every;
    const int has_after = args->duration_ns(args, "after", 0, &s->after_ns);
    const int has_for = args->duration_ns(args, "for", 0, &s->for_ns);
    const int has_period = args->duration_ns(args, "period", 0, &s->period_ns);
    bad |= has_after == LKM_INVALID || has_for == LKM_INVALID || has_period == LKM_INVALID;
    if (!bad && (has_after == LKM_OK) != (has_for == LKM_OK)) {
        args->fail(args, has_after == LKM_OK ? "for" : "after", "missing: after and for go together");
        bad = 1;
    }
    if (!bad && has_period == LKM_OK && s->period_ns == 0) {
        args->fail(args, "period", "must be above 0");
        bad = 1;
    }
    s->has_window = has_after == LKM_OK;
    if (bad) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    pattern *s = state;
    for (uint32_t i = 0; i < n; ++i, ++s->seen) {
        int lose = 0;
        while (s->next_drop < s->n_drop && s->drop[s->next_drop] < s->seen) ++s->next_drop;
        if (s->next_drop < s->n_drop && s->drop[s->next_drop] == s->seen) lose = 1;
        if (s->every != 0 && (s->seen + 1) % s->every == 0) lose = 1;
        if (s->has_window) {
            if (!s->started) s->started = 1, s->first_arrival_ns = pkts[i].arrival_ns;
            uint64_t t = pkts[i].arrival_ns - s->first_arrival_ns;
            if (t >= s->after_ns) {
                t -= s->after_ns;
                if (s->period_ns != 0) t %= s->period_ns;
                if (t < s->for_ns) lose = 1;
            }
        }
        drop[i] = (uint8_t)lose;
    }
}

/* Only `every` alone has a long-run loss independent of the traffic. */
static double long_run_loss(const void *state) {
    const pattern *s = state;
    if (s->n_drop != 0 || s->has_window) return -1;
    return s->every == 0 ? 0.0 : 1.0 / (double)s->every;
}

/* ABI 1.2: the long-run loss, when it does not depend on the traffic. */
static int loss_bound(const void *state, double *long_run) {
    const double p = long_run_loss(state);
    if (p < 0) return -1;
    *long_run = p;
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .loss = loss_bound};
static void reset(void *state) { /* the packet count and the window start again */
    pattern *s = state;
    s->seen = 0;
    s->next_drop = 0;
    s->started = 0;
    s->first_arrival_ns = 0;
}
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    if (strcmp(id, LKM_EXT_BOUNDS) == 0) return &bounds;
    return NULL;
}

static const lkm_param_info params[] = {
    {"drop", "list of number", "indexes of packets to lose, from 0"},
    {"every", "number", "lose every Nth packet"},
    {"after", "duration", "a loss window starts this long after the first packet"},
    {"for", "duration", "the window's length"},
    {"period", "duration", "repeat the window this often; default once"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "pattern",
    .kind = LKM_KIND_LOSS,
    .description = "deterministic loss: listed packets, every Nth, or time windows",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .loss_burst = loss_burst,
    .get_extension = get_extension,
};
