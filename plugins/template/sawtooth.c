/*
 * A template for a linkem model: copy this file, rename the model, change the
 * marked places. It builds out of the linkem tree with one command:
 *
 *   cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I/path/to/linkem/plugins/include \
 *      sawtooth.c -o sawtooth.so -lm
 *   # or, once linkem is installed:  cc ... $(pkg-config --cflags linkem-plugin) ...
 *
 * and loads by path from a configuration:
 *
 *   delay: {plugin: ./sawtooth.so, min: 1ms, max: 3ms, period: 10ms}
 *
 * delay model "sawtooth": the delay rises linearly from min to max over each
 * period, then falls back to min (a queue that slowly fills and empties).
 *
 * Parameters
 *   min     duration (default 0): the delay at the start of each period
 *   max     duration (required, >= min): the delay just before its end
 *   period  duration, above 0 (required)
 *
 * Formula: delay = min + (max - min) * (exit mod period) / period, with exit
 * the time the packet left the link (ns since linkem started).
 * Bounds (ABI 1.2, optional): no delay below min or above max; linkem sizes
 * its buffers and times its transmit lcore with them.
 *
 * docs/PLUGINS.md walks through it.
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

/* (1) The instance's state: everything the model needs per link. */
typedef struct sawtooth {
    uint64_t min_ns, max_ns, period_ns;
} sawtooth;

/* (2) create: read and check the parameters, build the state.
 * [control thread] May allocate; report problems with args->fail(). */
static int create(const lkm_create_args *args, void **state) {
    uint64_t min = 0, max = 0, period = 0;
    if (args->duration_ns(args, "min", 0, &min) == LKM_INVALID) return -1;
    if (args->duration_ns(args, "max", 0, &max) != LKM_OK) {
        args->fail(args, "max", "missing: the largest delay, such as 3ms");
        return -1;
    }
    if (args->duration_ns(args, "period", 0, &period) != LKM_OK || period == 0) {
        args->fail(args, "period", "missing or 0: the length of one tooth, such as 10ms");
        return -1;
    }
    if (max < min) {
        args->fail(args, "max", "must not be below min");
        return -1;
    }
    sawtooth *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    s->min_ns = min, s->max_ns = max, s->period_ns = period;
    *state = s;
    return 0;
}

/* [control thread] */
static void destroy(void *state) { free(state); }

/* (3) The per-burst work. [lcore, hot path] No allocation, locks, system
 * calls or printing here: it runs for every burst of packets. */
static void delay_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint64_t *delay_ns) {
    const sawtooth *s = state;
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t phase = pkts[i].exit_ns % s->period_ns;
        delay_ns[i] = s->min_ns + (uint64_t)((__extension__(unsigned __int128)(s->max_ns - s->min_ns) * phase) / s->period_ns);
    }
}

/* (4) Optional extensions (ABI 1.2), found by id: here the delay's bounds.
 * A model with state that depends on the packets it saw (a Markov chain, a
 * counter) also offers LKM_EXT_RESET; this one has none. [control thread] */
static int delay_bounds(const void *state, uint64_t *min_ns, uint64_t *max_ns) {
    const sawtooth *s = state;
    *min_ns = s->min_ns, *max_ns = s->max_ns;
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .delay_ns = delay_bounds};
static const void *get_extension(const char *id) { return strcmp(id, LKM_EXT_BOUNDS) == 0 ? &bounds : NULL; }

static const lkm_param_info params[] = {
    {"min", "duration", "delay at the start of each period; default 0"},
    {"max", "duration", "delay at the end of each period (required)"},
    {"period", "duration", "length of one period (required)"},
};

/* The one exported symbol: linkem reads everything about the model here. */
LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "sawtooth",
    .kind = LKM_KIND_DELAY,
    .description = "a delay that rises from min to max over each period",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .delay_burst = delay_burst,
    .get_extension = get_extension,
};
