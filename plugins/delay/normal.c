/*
 * delay model "normal": normally distributed jitter (netem's normal).
 *
 *   delay: {plugin: normal, mean: 20ms, jitter: 2ms}
 *   delay: {plugin: normal, mean: 20ms, jitter: 2ms, order: drop}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): standard deviation (also accepted as stddev)
 *   order   keep (default) or drop, handled by linkem: keep holds a packet
 *           back so that none is reordered; drop loses it instead, so the
 *           delay distribution stays exact (TLEM's option)
 *
 * Formula: delay = max(0, mean + jitter X), with X standard normal (Box-Muller).
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#include "jitter.h"

#include <stdlib.h>

typedef struct state {
    lkm_rng rng;
    jitter_params p;
} state_t;

static int create(const lkm_create_args *args, void **state) {
    state_t *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    if (jitter_read(args, &s->p, 1) != 0) {
        free(s);
        return -1;
    }
    s->rng = args->rng;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void delay_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint64_t *delay_ns) {
    state_t *s = state;
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) delay_ns[i] = jitter_apply(&s->p, draw_normal(&s->rng));
}

static const lkm_param_info params[] = {JITTER_PARAMS, STDDEV_PARAM, {"order", "string", "keep (default) or drop: see docs/PLUGINS.md"}};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "normal",
    .kind = LKM_KIND_DELAY,
    .description = "normally distributed jitter (netem's normal)",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .delay_burst = delay_burst,
};
