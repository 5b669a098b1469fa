/*
 * Deliberately broken plugins, one per refusal the host must make. Built
 * several times with -DBROKEN_<WHAT>; see test/meson.build and
 * test/test_plugin_host.cpp. A correct one (no define) is the reference;
 * -DABI_1_0 builds a correct one as an ABI 1.0 plugin would be.
 */
#include <linkem/plugin.h>

#include <stddef.h>
#include <stdlib.h>

static int create(const lkm_create_args *args, void **state) {
    double r = 0;
    if (args->probability(args, "r", 0, &r) == LKM_INVALID) return -1;
    if (r > 0.5) {
        args->fail(args, "r", "must be at most 50% in this model");
        return -1;
    }
    *state = malloc(1);
    return *state == NULL ? -1 : 0;
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
