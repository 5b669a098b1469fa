/*
 * bandwidth model "steps": a schedule of rates over time, repeated.
 *
 *   bandwidth: {plugin: steps, rates: [10Mbit/s, 2Mbit/s, 0bit/s], durations: [2s, 1s, 200ms]}
 *
 * Parameters
 *   rates      list of rates (required): the rate of each step; 0bit/s is an outage
 *   durations  list of durations, above 0 (required): how long each step lasts
 *   repeat     yes (default) or no: after the last step, start again, or keep
 *              the last rate forever
 *
 * The schedule starts at time 0 (when linkem starts). A frame of L bytes that
 * starts at t finishes when the scheduled rate has carried 8 L bits since t.
 * Bounds (ABI 1.2): the lowest and highest of rates. Reset: the schedule's
 * clock goes on (it is linkem's).
 *
 * See also: constant, trace, markov, slot.
 */
#include "rate_schedule.h"

#include <stdlib.h>
#include <string.h>

typedef struct steps {
    rate_cursor cursor;
    uint32_t n, index;
    int repeat;
    uint64_t *rate_bps, *duration_ns;
} steps;

static void next_segment(void *state, segment *seg) {
    steps *s = state;
    if (s->index + 1 < s->n || s->repeat) s->index = (s->index + 1) % s->n;
    const int last_forever = !s->repeat && s->index + 1 == s->n;
    seg->start_ns = seg->end_ns;
    seg->end_ns = last_forever ? UINT64_MAX : seg->start_ns + s->duration_ns[s->index];
    seg->rate_bps = s->rate_bps[s->index];
}

static void destroy(void *state) {
    steps *s = state;
    if (s == NULL) return;
    free(s->rate_bps);
    free(s->duration_ns);
    free(s);
}

static int create(const lkm_create_args *args, void **state) {
    const uint32_t n = args->count(args, "rates");
    if (n == 0 || args->count(args, "durations") != n) {
        args->fail(args, n == 0 ? "rates" : "durations",
                   n == 0 ? "missing: a list of rates, such as [10Mbit/s, 2Mbit/s]" : "needs one duration per rate");
        return -1;
    }
    const char *repeat = "yes";
    if (args->string(args, "repeat", 0, &repeat) == LKM_INVALID) return -1;
    if (strcmp(repeat, "yes") != 0 && strcmp(repeat, "no") != 0) {
        args->fail(args, "repeat", "expected yes or no");
        return -1;
    }
    steps *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rate_bps = calloc(n, sizeof(uint64_t));
    s->duration_ns = calloc(n, sizeof(uint64_t));
    s->n = n;
    s->repeat = strcmp(repeat, "yes") == 0;
    int any_rate = 0, bad = s->rate_bps == NULL || s->duration_ns == NULL;
    for (uint32_t i = 0; !bad && i < n; ++i) {
        bad |= args->rate_bps(args, "rates", i, &s->rate_bps[i]) != LKM_OK;
        bad |= args->duration_ns(args, "durations", i, &s->duration_ns[i]) != LKM_OK;
        if (!bad && s->duration_ns[i] == 0) {
            args->fail(args, "durations", "every step must last longer than 0");
            bad = 1;
        }
        any_rate |= s->rate_bps[i] != 0;
    }
    if (!bad && !any_rate) {
        args->fail(args, "rates", "at least one step needs a rate above 0");
        bad = 1;
    }
    if (bad) {
        destroy(s);
        return -1;
    }
    s->cursor.seg = (segment){0, n == 1 && !s->repeat ? UINT64_MAX : s->duration_ns[0], s->rate_bps[0]};
    s->cursor.last_finish_ns = UINT64_MAX;
    *state = s;
    return 0;
}

static uint64_t finish_ns(void *state, uint64_t start_ns, uint32_t wire_bytes) {
    steps *s = state;
    return schedule_finish(&s->cursor, s, next_segment, start_ns, wire_bytes);
}

/* ABI 1.2. The schedule runs on linkem's clock: reset keeps its position
 * and forgets only what the last frame left over in its nanosecond. */
static void reset(void *state) { ((steps *)state)->cursor.last_finish_ns = UINT64_MAX; }
static int rate_bounds(const void *state, uint64_t *min_bps, uint64_t *max_bps) {
    const steps *s = state;
    *min_bps = UINT64_MAX, *max_bps = 0;
    for (uint32_t i = 0; i < s->n; ++i) {
        if (s->rate_bps[i] < *min_bps) *min_bps = s->rate_bps[i];
        if (s->rate_bps[i] > *max_bps) *max_bps = s->rate_bps[i];
    }
    return 0;
}
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .rate_bps = rate_bounds};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    if (strcmp(id, LKM_EXT_BOUNDS) == 0) return &bounds;
    return NULL;
}

static const lkm_param_info params[] = {
    {"rates", "list of rate", "the rate of each step (required); 0bit/s is an outage"},
    {"durations", "list of duration", "how long each step lasts (required)"},
    {"repeat", "string", "yes (default) or no: start again after the last step"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "steps",
    .kind = LKM_KIND_BANDWIDTH,
    .description = "a schedule of rates over time, repeated",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .finish_ns = finish_ns,
    .get_extension = get_extension,
};
