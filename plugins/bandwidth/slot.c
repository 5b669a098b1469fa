/*
 * bandwidth model "slot": frames leave only in transmission slots, as netem's
 * "slot MIN MAX packets N bytes B" (bursty MACs: WiFi aggregation, DOCSIS, LTE).
 *
 *   bandwidth: {plugin: slot, min_gap: 2ms, max_gap: 4ms, packets: 20, bytes: 30KB}
 *
 * Parameters
 *   min_gap  duration, above 0 (required): shortest time between slots
 *   max_gap  duration (default min_gap): longest; gaps are uniform in between
 *   packets  number (default no limit): frames a slot can carry
 *   bytes    size (default no limit): wire bytes a slot can carry (a frame
 *            longer than that still leaves alone in an empty slot)
 *
 * Slots start one gap after time 0. A frame that starts at t leaves at the
 * first slot at or after t that has room for it.
 * Reset (ABI 1.2): the current slot's use is forgotten; the slot times go on.
 *
 * See also: constant, steps, markov, trace.
 */
#include <linkem/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    lkm_rng rng;
    uint64_t min_gap_ns, max_gap_ns, packets, bytes;
    uint64_t at_ns; /* the current slot */
    uint64_t used_packets, used_bytes;
} slot;

static void next_slot(slot *s) {
    const uint64_t spread = s->max_gap_ns - s->min_gap_ns;
    s->at_ns += s->min_gap_ns + (spread == 0 ? 0 : (uint64_t)(lkm_rng_uniform(&s->rng) * (double)(spread + 1)));
    s->used_packets = 0;
    s->used_bytes = 0;
}

static int create(const lkm_create_args *args, void **state) {
    uint64_t min_gap = 0, max_gap = 0, bytes = UINT64_MAX;
    double packets = 0;
    if (args->duration_ns(args, "min_gap", 0, &min_gap) == LKM_INVALID) return -1;
    const int has_max = args->duration_ns(args, "max_gap", 0, &max_gap);
    if (has_max == LKM_INVALID || args->number(args, "packets", 0, &packets) == LKM_INVALID ||
        args->size_bytes(args, "bytes", 0, &bytes) == LKM_INVALID)
        return -1;
    if (min_gap == 0) {
        args->fail(args, "min_gap", "missing or 0: the shortest time between slots, such as 2ms");
        return -1;
    }
    if (has_max == LKM_ABSENT) max_gap = min_gap;
    if (max_gap < min_gap) {
        args->fail(args, "max_gap", "must not be below min_gap");
        return -1;
    }
    if (packets < 0 || packets != (double)(uint64_t)packets) {
        args->fail(args, "packets", "must be a whole number");
        return -1;
    }
    slot *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->min_gap_ns = min_gap, s->max_gap_ns = max_gap;
    s->packets = packets == 0 ? UINT64_MAX : (uint64_t)packets;
    s->bytes = bytes == 0 ? UINT64_MAX : bytes;
    next_slot(s);
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static uint64_t finish_ns(void *state, uint64_t start_ns, uint32_t wire_bytes) {
    slot *s = state;
    for (;;) {
        const int fits = s->used_packets < s->packets && (s->used_bytes + wire_bytes <= s->bytes || s->used_packets == 0);
        if (s->at_ns >= start_ns && fits) break;
        next_slot(s);
    }
    ++s->used_packets;
    s->used_bytes += wire_bytes;
    return s->at_ns;
}

/* ABI 1.2: the slots run on linkem's clock; reset frees the current slot
 * of what earlier frames used. */
static void reset(void *state) {
    slot *s = state;
    s->used_packets = s->used_bytes = 0;
}
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
static const void *get_extension(const char *id) { return strcmp(id, LKM_EXT_RESET) == 0 ? &reset_ext : NULL; }

static const lkm_param_info params[] = {
    {"min_gap", "duration", "shortest time between slots (required)"},
    {"max_gap", "duration", "longest; default min_gap"},
    {"packets", "number", "frames per slot; default no limit"},
    {"bytes", "size", "wire bytes per slot; default no limit"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "slot",
    .kind = LKM_KIND_BANDWIDTH,
    .description = "frames leave only in transmission slots (netem's slot)",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .finish_ns = finish_ns,
    .get_extension = get_extension,
};
