/*
 * loss model "markov4": netem's 4-state Markov loss model ("loss state p13
 * p31 p32 p23 p14"), which separates isolated losses from loss bursts.
 *
 *   loss: {plugin: markov4, p13: 1%, p31: 70%, p32: 20%, p23: 5%, p14: 0.1%}
 *
 * States: 1 packet sent in a gap, 2 packet sent in a burst, 3 packet lost in
 * a burst, 4 isolated loss.
 *
 * Parameters (probabilities; p13 required, the others default as netem's)
 *   p13  gap -> burst loss          p31  burst loss -> gap (default 1 - p13)
 *   p32  burst loss -> burst sent   p23  burst sent -> burst loss
 *   p14  gap -> isolated loss
 *
 * Per packet, as netem's loss_4state(): from state 1, with p14 go to 4 and
 * lose, with p13 go to 3 and lose, else stay and send; from 2, with p23 go to
 * 3 and lose, else stay and send; from 3, with p32 go to 2 and send, with p31
 * go to 1 and send, else stay and lose; from 4, go to 1 and send.
 * Long-run loss is the stationary probability of states 3 and 4 as entered.
 *
 * Reset (ABI 1.2): back to state 1 (the gap).
 *
 * See also: gilbert_elliott, bernoulli.
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct markov4 {
    lkm_rng rng;
    double p13, p31, p32, p23, p14;
    int state; /* 1..4 */
} markov4;

static int create(const lkm_create_args *args, void **state) {
    double p13 = -1, p31 = -1, p32 = 0, p23 = 0, p14 = 0;
    int bad = 0;
    bad |= args->probability(args, "p13", 0, &p13) == LKM_INVALID;
    bad |= args->probability(args, "p31", 0, &p31) == LKM_INVALID;
    bad |= args->probability(args, "p32", 0, &p32) == LKM_INVALID;
    bad |= args->probability(args, "p23", 0, &p23) == LKM_INVALID;
    bad |= args->probability(args, "p14", 0, &p14) == LKM_INVALID;
    if (bad) return -1;
    if (p13 < 0) {
        args->fail(args, "p13", "missing: the probability of gap -> burst loss");
        return -1;
    }
    if (p31 < 0) p31 = 1 - p13; /* netem's default */
    if (p13 + p14 > 1) {
        args->fail(args, "p14", "p13 + p14 must not exceed 100%");
        return -1;
    }
    if (p31 + p32 > 1) {
        args->fail(args, "p32", "p31 + p32 must not exceed 100%");
        return -1;
    }
    markov4 *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->p13 = p13, s->p31 = p31, s->p32 = p32, s->p23 = p23, s->p14 = p14;
    s->state = 1;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static int lose_next(markov4 *s) {
    const double u = lkm_rng_uniform(&s->rng);
    switch (s->state) {
    case 1:
        if (u < s->p14) return s->state = 4, 1;
        if (u < s->p14 + s->p13) return s->state = 3, 1;
        return 0;
    case 2:
        if (u < s->p23) return s->state = 3, 1;
        return 0;
    case 3:
        if (u < s->p32) return s->state = 2, 0;
        if (u < s->p32 + s->p31) return s->state = 1, 0;
        return 1;
    default: /* 4 */ s->state = 1; return 0;
    }
}

static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) drop[i] = (uint8_t)lose_next(state);
}

/* Stationary probabilities, relative to state 1 (a packet is lost when the
 * chain enters 3 or 4): pi4 = p14, pi3 = p13 / p31, pi2 = pi3 p32 / p23.
 * A chain that can get stuck outside state 1 (p31 = 0, or p23 = 0 with
 * p32 > 0) has no single long-run loss: unknown. */
static double long_run_loss(const void *state) {
    const markov4 *s = state;
    if (s->p13 == 0) return s->p14 / (1 + s->p14);
    if (s->p31 == 0 || (s->p23 == 0 && s->p32 > 0)) return -1;
    const double pi3 = s->p13 / s->p31, pi4 = s->p14;
    const double pi2 = s->p32 == 0 ? 0 : pi3 * s->p32 / s->p23;
    return (pi3 + pi4) / (1 + pi2 + pi3 + pi4);
}

/* ABI 1.2: the long-run loss, when it does not depend on the traffic. */
static int loss_bound(const void *state, double *long_run) {
    const double p = long_run_loss(state);
    if (p < 0) return -1;
    *long_run = p;
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .loss = loss_bound};
static void reset(void *state) { ((markov4 *)state)->state = 1; } /* back to state 1 (gap) */
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
/* ABI 1.2: a new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    markov4 *to = new_state;
    const markov4 *from = old_state;
    to->rng = from->rng;
    to->state = from->state;
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    if (strcmp(id, LKM_EXT_BOUNDS) == 0) return &bounds;
    return NULL;
}

static const lkm_param_info params[] = {
    {"p13", "probability", "gap -> burst loss (required)"},        {"p31", "probability", "burst loss -> gap; default 1 - p13"},
    {"p32", "probability", "burst loss -> burst sent; default 0"}, {"p23", "probability", "burst sent -> burst loss; default 0"},
    {"p14", "probability", "gap -> isolated loss; default 0"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "markov4",
    .kind = LKM_KIND_LOSS,
    .description = "netem's 4-state Markov loss: gaps, bursts, isolated losses",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .loss_burst = loss_burst,
    .get_extension = get_extension,
};
