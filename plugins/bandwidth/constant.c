/*
 * bandwidth model "constant": a link of fixed rate.
 *
 *   bandwidth: 100Mbit/s                          # the shorthand stands for:
 *   bandwidth: {plugin: constant, rate: 100Mbit/s}
 *
 * Parameters
 *   rate  rate, 1bit/s and up (required): the link's rate.
 *
 * Formula
 *   A frame of L wire bytes that starts at t finishes at t + 8 L / rate.
 *   Frames of one busy period are timed from its start,
 *     finish = busy_start + ceil(8 * (bytes since busy_start) * 1e9 / rate) ns,
 *   so rounding never accumulates over a long back-to-back run.
 *
 * Bounds (ABI 1.2): lowest and highest rate are both `rate`. Reset: a new
 * busy period starts with the next frame.
 *
 * See also: trace (Mahimahi traces), steps (a rate schedule), markov (good and
 * stalled states), slot (transmission slots).
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

typedef struct constant_rate {
    uint64_t rate_bps;
    uint64_t busy_start_ns; /* start of the current back-to-back run */
    uint64_t busy_bytes;    /* wire bytes sent since then */
    uint64_t last_finish_ns;
} constant_rate;

static int create(const lkm_create_args *args, void **state) {
    uint64_t rate = 0;
    const int rc = args->rate_bps(args, "rate", 0, &rate);
    if (rc == LKM_INVALID) return -1;
    if (rc == LKM_ABSENT || rate == 0) {
        args->fail(args, "rate", rc == LKM_ABSENT ? "missing: the link's rate, such as 100Mbit/s" : "must be above 0bit/s");
        return -1;
    }
    constant_rate *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rate_bps = rate;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static uint64_t finish_ns(void *state, uint64_t start_ns, uint32_t wire_bytes) {
    constant_rate *s = state;
    if (start_ns > s->last_finish_ns || s->busy_bytes == 0) { /* the link was idle: a new busy period */
        s->busy_start_ns = start_ns;
        s->busy_bytes = 0;
    }
    s->busy_bytes += wire_bytes;
    const u128 bits_ns = (u128)s->busy_bytes * 8u * 1000000000u;
    s->last_finish_ns = s->busy_start_ns + (uint64_t)((bits_ns + s->rate_bps - 1) / s->rate_bps);
    return s->last_finish_ns;
}

/* ABI 1.2 */
static void reset(void *state) {
    constant_rate *s = state;
    s->busy_start_ns = s->busy_bytes = s->last_finish_ns = 0;
}
static int rate_bounds(const void *state, uint64_t *min_bps, uint64_t *max_bps) {
    *min_bps = *max_bps = ((const constant_rate *)state)->rate_bps;
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
    {"rate", "rate", "the link's rate (required)"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "constant",
    .kind = LKM_KIND_BANDWIDTH,
    .description = "a fixed rate: a frame of L bytes takes 8L/rate",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .finish_ns = finish_ns,
    .get_extension = get_extension,
};
