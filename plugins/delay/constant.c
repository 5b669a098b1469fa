/*
 * delay model "constant": the same delay for every packet.
 *
 *   delay: 20ms                          # the shorthand stands for:
 *   delay: {plugin: constant, delay: 20ms}
 *
 * Parameters
 *   delay  duration, 0 and up (default 0): added after the link.
 *
 * Formula: release = exit + delay.
 * Bounds (ABI 1.2): smallest and largest delay are both `delay`.
 *
 * See also: uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct constant_delay {
    uint64_t delay_ns;
} constant_delay;

static int create(const lkm_create_args *args, void **state) {
    uint64_t delay = 0;
    if (args->duration_ns(args, "delay", 0, &delay) == LKM_INVALID) return -1;
    constant_delay *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    s->delay_ns = delay;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void delay_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint64_t *delay_ns) {
    const uint64_t d = ((const constant_delay *)state)->delay_ns;
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) delay_ns[i] = d;
}

/* ABI 1.2: every delay is the one delay. */
static int delay_bounds(const void *state, uint64_t *min_ns, uint64_t *max_ns) {
    *min_ns = *max_ns = ((const constant_delay *)state)->delay_ns;
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .delay_ns = delay_bounds};
static const void *get_extension(const char *id) { return strcmp(id, LKM_EXT_BOUNDS) == 0 ? &bounds : NULL; }

static const lkm_param_info params[] = {
    {"delay", "duration", "added to every packet; default 0"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "constant",
    .kind = LKM_KIND_DELAY,
    .description = "the same delay for every packet",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .delay_burst = delay_burst,
    .get_extension = get_extension,
};
