/*
 * loss model "bernoulli": each packet is lost independently with probability p.
 *
 *   loss: 1%                          # the shorthand stands for:
 *   loss: {plugin: bernoulli, p: 1%}
 *
 * Parameters
 *   p  probability, 0 to 100% (default 0): the loss probability.
 *
 * Statistics: losses in N packets are Binomial(N, p): mean N p, variance
 * N p (1 - p); loss bursts are geometric with mean length 1 / (1 - p).
 *
 * See also: gilbert_elliott (bursty), markov4 (netem's 4-state model),
 * ber (by bit error rate), pattern (deterministic).
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct bernoulli {
    lkm_rng rng;
    double p;
} bernoulli;

static int create(const lkm_create_args *args, void **state) {
    double p = 0;
    if (args->probability(args, "p", 0, &p) == LKM_INVALID) return -1;
    bernoulli *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->p = p;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    bernoulli *s = state;
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) drop[i] = lkm_rng_uniform(&s->rng) < s->p;
}

static double long_run_loss(const void *state) { return ((const bernoulli *)state)->p; }

/* ABI 1.2: the long-run loss, when it does not depend on the traffic. */
static int loss_bound(const void *state, double *long_run) {
    const double p = long_run_loss(state);
    if (p < 0) return -1;
    *long_run = p;
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .loss = loss_bound};
/* ABI 1.2: a new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    bernoulli *to = new_state;
    const bernoulli *from = old_state;
    to->rng = from->rng;
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    return strcmp(id, LKM_EXT_BOUNDS) == 0 ? &bounds : NULL;
}

static const lkm_param_info params[] = {
    {"p", "probability", "loss probability of each packet; default 0"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "bernoulli",
    .kind = LKM_KIND_LOSS,
    .description = "independent random loss with probability p",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .loss_burst = loss_burst,
    .get_extension = get_extension,
};
