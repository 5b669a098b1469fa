/*
 * Deliberately broken plugins, one per refusal the host must make. Built
 * several times with -DBROKEN_<WHAT>; see test/meson.build and
 * test/test_plugin_host.cpp. A correct one (no define) is the reference;
 * -DABI_1_0 builds a correct one as an ABI 1.0 plugin would be.
 *
 * Models that load but misbehave at run time (test/test_model_contract.cpp):
 *   -DBROKEN_NULL_STATE      create() returns 0 and leaves *state NULL;
 *   -DBROKEN_CONSTRUCTOR     a shared-object constructor that aborts the
 *                            process as soon as it is opened;
 *   -DMISBEHAVE=<kind>       a model of that lkm_kind (1 loss, 2 delay,
 *                            3 bandwidth) whose results break the
 *                            contract, chosen by its parameter `mode`:
 *     bandwidth: early (finish_ns always 1: before the frame's start),
 *                huge (finish_ns UINT64_MAX);
 *     loss:      two (drop[i] = 2), overrun (writes n + 1 entries);
 *     delay:     max (delay UINT64_MAX), wrap (a delay that makes
 *                exit_ns + delay wrap to 1), overrun (writes 512 entries
 *                whatever n is, as a model that assumes the largest burst),
 *                flood (writes 2048 entries: 16 KiB).
 */
#include <linkem/plugin.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(BROKEN_CONSTRUCTOR)
__attribute__((constructor)) static void crash_when_opened(void) { abort(); }
#endif

#if defined(MISBEHAVE)
enum mode { MODE_EARLY, MODE_HUGE, MODE_TWO, MODE_MAX, MODE_WRAP, MODE_OVERRUN, MODE_FLOOD };
typedef struct misbehaving {
    enum mode mode;
} misbehaving;

static int create(const lkm_create_args *args, void **state) {
    const char *text = "";
    if (args->string(args, "mode", 0, &text) != LKM_OK) {
        args->fail(args, "mode", "missing: early, huge, two, max, wrap, overrun or flood");
        return -1;
    }
    static const char *const names[] = {"early", "huge", "two", "max", "wrap", "overrun", "flood"};
    misbehaving *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    s->mode = MODE_EARLY;
    for (int m = 0; m < 7; ++m)
        if (strcmp(text, names[m]) == 0) s->mode = (enum mode)m;
    *state = s;
    return 0;
}
static void destroy(void *state) { free(state); }
__attribute__((unused)) static uint64_t finish_ns(void *state, uint64_t start_ns, uint32_t wire_bytes) {
    (void)start_ns, (void)wire_bytes;
    return ((misbehaving *)state)->mode == MODE_HUGE ? UINT64_MAX : 1;
}
__attribute__((unused)) static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    (void)pkts;
    const enum mode mode = ((misbehaving *)state)->mode;
    for (uint32_t i = 0; i < n; ++i) drop[i] = mode == MODE_TWO ? 2 : 0;
    if (mode == MODE_OVERRUN) drop[n] = 0;
}
__attribute__((unused)) static void delay_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint64_t *delay_ns) {
    const enum mode mode = ((misbehaving *)state)->mode;
    const uint32_t count = mode == MODE_OVERRUN ? 512 : mode == MODE_FLOOD ? 2048 : n;
    for (uint32_t i = 0; i < count; ++i)
        delay_ns[i] = mode == MODE_MAX ? UINT64_MAX : mode == MODE_WRAP && i < n ? UINT64_MAX - pkts[i].exit_ns + 2 : 1000;
}
static const lkm_param_info params[] = {{"mode", "string", "how to misbehave"}};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = MODEL_NAME,
    .kind = MISBEHAVE,
    .description = "a test fixture that breaks the result contract",
    .params = params,
    .param_count = 1,
    .create = create,
    .destroy = destroy,
#if MISBEHAVE == 1 /* LKM_KIND_LOSS (a macro is needed here) */
    .loss_burst = loss_burst,
#elif MISBEHAVE == 2 /* LKM_KIND_DELAY */
    .delay_burst = delay_burst,
#else
    .finish_ns = finish_ns,
#endif
};
#else /* the loss model of the refusal fixtures */

static int create(const lkm_create_args *args, void **state) {
    double r = 0;
    if (args->probability(args, "r", 0, &r) == LKM_INVALID) return -1;
    if (r > 0.5) {
        args->fail(args, "r", "must be at most 50% in this model");
        return -1;
    }
#if defined(BROKEN_NULL_STATE)
    *state = NULL;
    return 0;
#else
    *state = malloc(1);
    return *state == NULL ? -1 : 0;
#endif
}
static void destroy(void *state) { free(state); }
__attribute__((unused)) static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    (void)state, (void)pkts;
    for (uint32_t i = 0; i < n; ++i) drop[i] = 0;
}
/* ABI 1.1: this model never loses a packet. */
__attribute__((unused)) static double expected_loss(const void *state) {
    (void)state;
    return 0.0;
}
/* Answers what a 1.0 host cannot ask: the "abi_1_0" build must not be asked. */
__attribute__((unused)) static double unaskable_loss(const void *state) {
    (void)state;
    return 0.5;
}
static const lkm_param_info params[] = {{"r", "probability", "a parameter to misspell"}};

#ifndef MODEL_NAME
#define MODEL_NAME "fixture"
#endif

#if defined(BROKEN_NO_ENTRY)
LKM_EXPORT const lkm_model some_other_name = {
#else
LKM_EXPORT const lkm_model lkm_entry = {
#endif
#if defined(BROKEN_TOO_SMALL)
    .struct_size = 16,
#elif defined(ABI_1_0)
    .struct_size = offsetof(lkm_model, expected_loss),
#else
.struct_size = sizeof(lkm_model),
#endif
#if defined(BROKEN_MAJOR)
    .abi_version = (LKM_ABI_MAJOR + 1) << 16,
#elif defined(BROKEN_MINOR)
    .abi_version = (LKM_ABI_MAJOR << 16) | (LKM_ABI_MINOR + 1),
#elif defined(ABI_1_0)
    .abi_version = 1 << 16,
#else
.abi_version = LKM_ABI_VERSION,
#endif
    .name = MODEL_NAME,
#if defined(BROKEN_KIND)
    .kind = 9,
#else
    .kind = LKM_KIND_LOSS,
#endif
    .description = "a test fixture",
    .params = params,
    .param_count = 1,
    .create = create,
    .destroy = destroy,
#if !defined(BROKEN_NO_CALLBACK)
    .loss_burst = loss_burst,
#endif
#if defined(ABI_1_0)
    .expected_loss = unaskable_loss, /* beyond struct_size: a 1.0 plugin has no such field */
#else
    .expected_loss = expected_loss,
#endif
};
#endif /* MISBEHAVE */
