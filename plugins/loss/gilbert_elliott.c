/*
 * loss model "gilbert_elliott": bursty loss from a two-state Markov chain,
 * as netem's "loss gemodel p r 1-h 1-k".
 *
 *   loss: {plugin: gilbert_elliott, p: 1%, r: 30%}                 # netem's parameters
 *   loss: {plugin: gilbert_elliott, p: 1%, r: 30%, loss_bad: 90%, loss_good: 0.1%}
 *   loss: {plugin: gilbert_elliott, mean_loss: 2%, mean_burst: 3}  # friendlier
 *
 * Parameters (give p and r, or mean_loss and mean_burst)
 *   p           probability: good -> bad per packet
 *   r           probability: bad -> good per packet
 *   loss_bad    probability (netem's 1-h, default 100%): loss in the bad state
 *   loss_good   probability (netem's 1-k, default 0): loss in the good state
 *   mean_loss   probability, below 100%: long-run loss (with loss_bad 100%, loss_good 0)
 *   mean_burst  number, 1 and up: mean length of a run of losses, in packets
 *
 * Per packet, as netem: in state S, move to the other state with S's
 * transition probability, then lose the packet with S's loss probability.
 * Long-run loss: (r (1-k) + p (1-h)) / (p + r). With 1-h = 1 and 1-k = 0,
 * runs of losses are geometric with mean 1 / r, so mean_burst gives
 * r = 1 / mean_burst and mean_loss gives p = r mean_loss / (1 - mean_loss).
 *
 * Reset (ABI 1.2): back to the good state.
 *
 * See also: bernoulli, markov4 (netem's 4-state model), pattern.
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct gilbert_elliott {
    lkm_rng rng;
    double p, r, loss_bad, loss_good;
    int bad;
} gilbert_elliott;

static int create(const lkm_create_args *args, void **state) {
    double p = -1, r = -1, loss_bad = 1, loss_good = 0, mean_loss = -1, mean_burst = -1;
    int bad = 0;
    bad |= args->probability(args, "p", 0, &p) == LKM_INVALID;
    bad |= args->probability(args, "r", 0, &r) == LKM_INVALID;
    bad |= args->probability(args, "loss_bad", 0, &loss_bad) == LKM_INVALID;
    bad |= args->probability(args, "loss_good", 0, &loss_good) == LKM_INVALID;
    bad |= args->probability(args, "mean_loss", 0, &mean_loss) == LKM_INVALID;
    bad |= args->number(args, "mean_burst", 0, &mean_burst) == LKM_INVALID;
    if (bad) return -1;
    const int netem = p >= 0 || r >= 0, friendly = mean_loss >= 0 || mean_burst >= 0;
    if (netem == friendly) {
        args->fail(args, NULL,
                   netem ? "give either p and r, or mean_loss and mean_burst, not both"
                         : "give p and r (netem's gemodel), or mean_loss and mean_burst");
        return -1;
    }
    if (friendly) {
        if (mean_loss < 0 || mean_burst < 0) {
            args->fail(args, mean_loss < 0 ? "mean_loss" : "mean_burst", "missing: mean_loss and mean_burst go together");
            return -1;
        }
        if (mean_loss >= 1) {
            args->fail(args, "mean_loss", "must be below 100%");
            return -1;
        }
        if (mean_burst < 1) {
            args->fail(args, "mean_burst", "must be at least 1 packet");
            return -1;
        }
        r = 1.0 / mean_burst;
        p = r * mean_loss / (1.0 - mean_loss);
        if (p > 1) {
            args->fail(args, "mean_loss", "too high for this mean_burst (good -> bad would exceed 100%)");
            return -1;
        }
    } else if (p < 0 || r < 0) {
        args->fail(args, p < 0 ? "p" : "r", "missing: p and r go together");
        return -1;
    }
    gilbert_elliott *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->p = p;
    s->r = r;
    s->loss_bad = loss_bad;
    s->loss_good = loss_good;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    gilbert_elliott *s = state;
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) {
        const int was_bad = s->bad;
        if (lkm_rng_uniform(&s->rng) < (was_bad ? s->r : s->p)) s->bad = !was_bad;
        drop[i] = lkm_rng_uniform(&s->rng) < (was_bad ? s->loss_bad : s->loss_good);
    }
}

/* The stationary share of the bad state is p / (p + r); the loss is decided
 * in the state a packet finds. A chain that never moves stays good. */
static double long_run_loss(const void *state) {
    const gilbert_elliott *s = state;
    if (s->p + s->r == 0) return s->loss_good;
    return (s->p * s->loss_bad + s->r * s->loss_good) / (s->p + s->r);
}

/* ABI 1.2: the long-run loss, when it does not depend on the traffic. */
static int loss_bound(const void *state, double *long_run) {
    const double p = long_run_loss(state);
    if (p < 0) return -1;
    *long_run = p;
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .loss = loss_bound};
static void reset(void *state) { ((gilbert_elliott *)state)->bad = 0; } /* back to the good state */
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
/* ABI 1.2: a new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    gilbert_elliott *to = new_state;
    const gilbert_elliott *from = old_state;
    to->rng = from->rng;
    to->bad = from->bad;
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    if (strcmp(id, LKM_EXT_BOUNDS) == 0) return &bounds;
    return NULL;
}

static const lkm_param_info params[] = {
    {"p", "probability", "good -> bad per packet (netem's p)"},
    {"r", "probability", "bad -> good per packet (netem's r)"},
    {"loss_bad", "probability", "loss in the bad state (netem's 1-h); default 100%"},
    {"loss_good", "probability", "loss in the good state (netem's 1-k); default 0"},
    {"mean_loss", "probability", "instead of p and r: long-run loss"},
    {"mean_burst", "number", "instead of p and r: mean loss run length, packets"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "gilbert_elliott",
    .kind = LKM_KIND_LOSS,
    .description = "bursty loss: a good and a bad state (netem's gemodel)",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .loss_burst = loss_burst,
    .get_extension = get_extension,
};
