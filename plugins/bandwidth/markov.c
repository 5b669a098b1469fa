/*
 * bandwidth model "markov": a link that alternates between a good rate and a
 * stalled (or degraded) rate, for random lengths of time, as on WiFi or
 * cellular links.
 *
 *   bandwidth: {plugin: markov, rate: 50Mbit/s, mean_good: 2s, mean_stall: 200ms}
 *   bandwidth: {plugin: markov, rate: 50Mbit/s, stall_rate: 1Mbit/s, mean_good: 2s, mean_stall: 200ms}
 *
 * Parameters
 *   rate        rate, above 0 (required): in the good state
 *   stall_rate  rate (default 0bit/s): in the stalled state
 *   mean_good   duration, above 0 (required): mean time in the good state
 *   mean_stall  duration, above 0 (required): mean time in the stalled state
 *
 * Times in each state are exponentially distributed (a continuous-time Markov
 * chain) drawn from the instance's seeded stream, starting good at time 0.
 * Long-run rate: (rate mean_good + stall_rate mean_stall) / (mean_good + mean_stall).
 * Bounds (ABI 1.2): stall_rate to rate. Reset: the chain starts good again,
 * at the next frame's start.
 *
 * See also: constant, steps, trace, slot.
 */
#include "rate_schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct markov {
    rate_cursor cursor;
    lkm_rng rng;
    uint64_t rate_bps[2]; /* good, stalled */
    double mean_ns[2];
    int stalled;
    int restart; /* reset: the next frame's start begins a good state */
} markov;

static uint64_t draw_length(markov *s, int state) {
    const double d = -s->mean_ns[state] * log1p(-lkm_rng_uniform(&s->rng));
    return d < 1 ? 1 : (uint64_t)d;
}

static void next_segment(void *state, segment *seg) {
    markov *s = state;
    s->stalled = !s->stalled;
    seg->start_ns = seg->end_ns;
    seg->end_ns = seg->start_ns + draw_length(s, s->stalled);
    seg->rate_bps = s->rate_bps[s->stalled];
}

static int create(const lkm_create_args *args, void **state) {
    uint64_t rate = 0, stall_rate = 0, good = 0, stall = 0;
    if (args->rate_bps(args, "rate", 0, &rate) == LKM_INVALID || args->rate_bps(args, "stall_rate", 0, &stall_rate) == LKM_INVALID ||
        args->duration_ns(args, "mean_good", 0, &good) == LKM_INVALID || args->duration_ns(args, "mean_stall", 0, &stall) == LKM_INVALID)
        return -1;
    const char *missing = rate == 0 ? "rate" : good == 0 ? "mean_good" : stall == 0 ? "mean_stall" : NULL;
    if (missing != NULL) {
        args->fail(args, missing, "missing or 0: rate, mean_good and mean_stall are required and above 0");
        return -1;
    }
    markov *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->rate_bps[0] = rate, s->rate_bps[1] = stall_rate;
    s->mean_ns[0] = (double)good, s->mean_ns[1] = (double)stall;
    s->cursor.seg = (segment){0, draw_length(s, 0), rate};
    s->cursor.last_finish_ns = UINT64_MAX;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static uint64_t finish_ns(void *state, uint64_t start_ns, uint32_t wire_bytes) {
    markov *s = state;
    if (s->restart) { /* as create() began at 0, from this frame's start */
        s->restart = 0;
        s->stalled = 0;
        s->cursor.seg = (segment){start_ns, start_ns + draw_length(s, 0), s->rate_bps[0]};
        s->cursor.last_finish_ns = UINT64_MAX;
    }
    return schedule_finish(&s->cursor, s, next_segment, start_ns, wire_bytes);
}

/* ABI 1.2 */
static void reset(void *state) { ((markov *)state)->restart = 1; }
static int rate_bounds(const void *state, uint64_t *min_bps, uint64_t *max_bps) {
    const markov *s = state;
    *min_bps = s->rate_bps[1] < s->rate_bps[0] ? s->rate_bps[1] : s->rate_bps[0];
    *max_bps = s->rate_bps[1] > s->rate_bps[0] ? s->rate_bps[1] : s->rate_bps[0];
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
    {"rate", "rate", "in the good state (required)"},
    {"stall_rate", "rate", "in the stalled state; default 0bit/s"},
    {"mean_good", "duration", "mean time in the good state (required)"},
    {"mean_stall", "duration", "mean time in the stalled state (required)"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "markov",
    .kind = LKM_KIND_BANDWIDTH,
    .description = "good and stalled rate states of random length, as on WiFi",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .finish_ns = finish_ns,
    .get_extension = get_extension,
};
