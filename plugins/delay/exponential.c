/*
 * delay model "exponential": an exponentially distributed delay above a minimum.
 *
 *   delay: {plugin: exponential, min: 10ms, mean: 5ms}
 *
 * Parameters
 *   min    duration (default 0): the smallest delay
 *   mean   duration (required): mean of the exponential part
 *
 * Formula: delay = min - mean ln(1 - U), U uniform on [0, 1): mean min + mean,
 * standard deviation mean.
 * Bounds (ABI 1.2): smallest min, largest unbounded.
 *
 * See also: constant, uniform, normal, pareto, empirical.
 */
#include <linkem/plugin.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct exponential {
    lkm_rng rng;
    double min_ns, mean_ns;
} exponential;

static int create(const lkm_create_args *args, void **state) {
    uint64_t min = 0, mean = 0;
    if (args->duration_ns(args, "min", 0, &min) == LKM_INVALID) return -1;
    const int rc = args->duration_ns(args, "mean", 0, &mean);
    if (rc == LKM_INVALID) return -1;
    if (rc == LKM_ABSENT) {
        args->fail(args, "mean", "missing: the mean of the exponential part, such as 5ms");
        return -1;
    }
    exponential *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->min_ns = (double)min;
    s->mean_ns = (double)mean;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void delay_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint64_t *delay_ns) {
    exponential *s = state;
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) delay_ns[i] = (uint64_t)(s->min_ns - s->mean_ns * log1p(-lkm_rng_uniform(&s->rng)) + 0.5);
}

static int delay_bounds(const void *state, uint64_t *min_ns, uint64_t *max_ns) {
    const exponential *s = state;
    *min_ns = (uint64_t)(s->min_ns + 0.5); /* -mean ln(1 - U) >= 0, rounded as the delays are */
    *max_ns = s->mean_ns == 0 ? *min_ns : LKM_UNBOUNDED;
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .delay_ns = delay_bounds};
/* ABI 1.2: a new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    exponential *to = new_state;
    const exponential *from = old_state;
    to->rng = from->rng;
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    return strcmp(id, LKM_EXT_BOUNDS) == 0 ? &bounds : NULL;
}

static const lkm_param_info params[] = {
    {"min", "duration", "the smallest delay; default 0"},
    {"mean", "duration", "mean of the exponential part (required)"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "exponential",
    .kind = LKM_KIND_DELAY,
    .description = "exponentially distributed delay above a minimum",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .delay_burst = delay_burst,
    .get_extension = get_extension,
};
