/*
 * loss model "ber": loss from a bit error rate, so that longer frames are
 * lost more often (a frame is lost when any of its bits is corrupted).
 *
 *   loss: {plugin: ber, ber: 1e-6}
 *
 * Parameters
 *   ber  number, 0 to 1 (required): probability that a bit is in error.
 *
 * Formula: P(loss of a frame of L bytes) = 1 - (1 - ber)^(8 L), with L the
 * frame as received (no framing overhead). Tabulated per length at create.
 *
 * See also: bernoulli.
 */
#include <linkem/plugin.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BER_MAX_LEN 16384 /* longer frames use the last entry's formula directly */

typedef struct ber {
    lkm_rng rng;
    double log_keep_bit; /* ln(1 - ber) */
    double p_by_len[BER_MAX_LEN];
} ber;

static int create(const lkm_create_args *args, void **state) {
    double b = -1;
    const int rc = args->number(args, "ber", 0, &b);
    if (rc == LKM_INVALID) return -1;
    if (rc == LKM_ABSENT || b < 0 || b > 1) {
        args->fail(args, "ber", rc == LKM_ABSENT ? "missing: the bit error rate, such as 1e-6" : "must be from 0 to 1");
        return -1;
    }
    ber *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->log_keep_bit = log1p(-b);
    for (uint32_t len = 0; len < BER_MAX_LEN; ++len) s->p_by_len[len] = -expm1(8.0 * len * s->log_keep_bit);
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    ber *s = state;
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t len = pkts[i].len_bytes;
        const double p = len < BER_MAX_LEN ? s->p_by_len[len] : -expm1(8.0 * len * s->log_keep_bit);
        drop[i] = lkm_rng_uniform(&s->rng) < p;
    }
}

/* The loss depends on the frames' lengths: 1 - (1 - ber)^(8 len). */
static double long_run_loss(const void *state) {
    (void)state;
    return -1;
}

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
    ber *to = new_state;
    const ber *from = old_state;
    to->rng = from->rng;
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    return strcmp(id, LKM_EXT_BOUNDS) == 0 ? &bounds : NULL;
}

static const lkm_param_info params[] = {
    {"ber", "number", "bit error rate, 0 to 1, such as 1e-6 (required)"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "ber",
    .kind = LKM_KIND_LOSS,
    .description = "loss from a bit error rate: longer frames are lost more often",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .loss_burst = loss_burst,
    .get_extension = get_extension,
};
