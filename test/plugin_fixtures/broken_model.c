/*
 * Deliberately broken plugins, one per refusal the host must make. Built
 * several times with -DBROKEN_<WHAT>; see test/meson.build and
 * test/test_plugin_host.cpp. A correct one (no define) is the reference, an
 * ABI 1.2 model with both extensions (reset, and bounds: long-run loss 0);
 * -DABI_1_0 and -DABI_1_1 build a correct one as a plugin of that ABI would
 * be (1.1: expected_loss 0, no extensions).
 * Broken extensions (ABI 1.2): -DBROKEN_EXT_SMALL (a reset extension of 4
 * bytes), -DBROKEN_EXT_CALLBACK (a bounds extension without its loss callback).
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
#include <stdio.h>
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
#if !defined(ABI_1_0) && !defined(ABI_1_1)
    /* `context: [rate, overhead, burst]`: fails unless the host gave that context (ABI 1.2). */
    if (args->count(args, "context") == 3) {
        double want[3] = {0, 0, 0};
        for (uint32_t i = 0; i < 3; ++i)
            if (args->number(args, "context", i, &want[i]) != LKM_OK) return -1;
        if ((double)args->link_rate_bps != want[0] || (double)args->overhead_bytes != want[1] || (double)args->max_burst != want[2]) {
            char message[160];
            snprintf(message, sizeof message, "got link_rate_bps %llu, overhead_bytes %u, max_burst %u",
                     (unsigned long long)args->link_rate_bps, args->overhead_bytes, args->max_burst);
            args->fail(args, "context", message);
            return -1;
        }
    }
#endif
#if defined(BROKEN_NULL_STATE)
    *state = NULL;
    return 0;
#else
    *state = calloc(1, 1);
    return *state == NULL ? -1 : 0;
#endif
}
static void destroy(void *state) { free(state); }
__attribute__((unused)) static void loss_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop) {
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) drop[i] = 0;
    *(unsigned char *)state = 1; /* it has seen packets (reset clears it) */
}
/* ABI 1.1: this model never loses a packet. */
__attribute__((unused)) static double expected_loss(const void *state) {
    (void)state;
    return 0.0;
}
/* Answers what the host must not ask: a field beyond an old plugin's
 * struct_size, or expected_loss when the bounds extension has the answer. */
__attribute__((unused)) static double unaskable_loss(const void *state) {
    (void)state;
    return 0.5;
}
/* ABI 1.2 extensions. */
__attribute__((unused)) static void reset(void *state) { *(unsigned char *)state = 0; }
__attribute__((unused)) static int loss_bound(const void *state, double *long_run) {
    (void)state;
    *long_run = 0.0;
    return 0;
}
static const lkm_ext_reset reset_ext = {
#if defined(BROKEN_EXT_SMALL)
    .struct_size = 4,
#else
    .struct_size = sizeof(lkm_ext_reset),
#endif
    .reset = reset,
};
static const lkm_ext_bounds bounds_ext = {
    .struct_size = sizeof(lkm_ext_bounds),
#if !defined(BROKEN_EXT_CALLBACK)
    .loss = loss_bound,
#endif
};
__attribute__((unused)) static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    if (strcmp(id, LKM_EXT_BOUNDS) == 0) return &bounds_ext;
    return NULL;
}
static const lkm_ext_bounds half_loss_ext = {.struct_size = sizeof(lkm_ext_bounds), .loss = NULL};
/* What an old plugin's get_extension would answer if the host wrongly asked. */
__attribute__((unused)) static const void *unaskable_extension(const char *id) {
    (void)id;
    return &half_loss_ext; /* has no loss callback: loading would fail if the host looked */
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
#elif defined(ABI_1_1)
.struct_size = offsetof(lkm_model, get_extension),
#else
.struct_size = sizeof(lkm_model),
#endif
#if defined(BROKEN_MAJOR)
    .abi_version = (LKM_ABI_MAJOR + 1) << 16,
#elif defined(BROKEN_MINOR)
    .abi_version = (LKM_ABI_MAJOR << 16) | (LKM_ABI_MINOR + 1),
#elif defined(ABI_1_0)
    .abi_version = 1 << 16,
#elif defined(ABI_1_1)
    .abi_version = (1 << 16) | 1,
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
    .get_extension = unaskable_extension,
#elif defined(ABI_1_1)
    .expected_loss = expected_loss,
    .get_extension = unaskable_extension, /* beyond struct_size: a 1.1 plugin has no such field */
#else
    .expected_loss = unaskable_loss, /* superseded by the bounds extension's loss */
    .get_extension = get_extension,
#endif
};
#endif /* MISBEHAVE */
