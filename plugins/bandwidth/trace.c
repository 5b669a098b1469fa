/*
 * bandwidth model "trace": a Mahimahi packet-delivery trace.
 *
 *   bandwidth: {plugin: trace, file: traces/lte-downlink.trace}
 *   overhead: none     # Mahimahi counts bytes of the frame only
 *
 * Parameters
 *   file  path (required), relative to the configuration file
 *
 * The format (Mahimahi's): one line per delivery opportunity, holding the
 * millisecond at which it happens (non-decreasing; several lines may share a
 * millisecond); each opportunity carries 1504 bytes. The trace repeats with a
 * period of its last timestamp, from time 0 (when linkem starts). A file with
 * the one line "1" is 1504 bytes per ms = 12.032 Mbit/s.
 *
 * A frame that starts at t uses the opportunities at or after t until its
 * bytes are carried (bytes an opportunity has left serve the next frame if
 * that one starts no later than the opportunity); it finishes at the time of
 * the last one used. Unlike Mahimahi, frames over 1504 bytes are allowed and
 * take several opportunities.
 * Reset (ABI 1.2): the next frame starts on a whole opportunity; the trace's
 * clock goes on.
 *
 * See also: constant, steps, markov, slot.
 */
#include <linkem/plugin.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_BYTES_PER_OPPORTUNITY 1504

typedef struct trace {
    uint64_t period_ns;
    uint64_t op;   /* absolute index of the current opportunity */
    uint32_t left; /* bytes it still carries */
    uint32_t n;
    uint64_t time_ns[]; /* of each opportunity in one period */
} trace;

static uint64_t time_of(const trace *s, uint64_t op) { return (op / s->n) * s->period_ns + s->time_ns[op % s->n]; }

/* The first opportunity at or after t. */
static uint64_t first_at(const trace *s, uint64_t t) {
    const uint64_t cycle = t / s->period_ns, offset = t % s->period_ns;
    uint32_t lo = 0, hi = s->n; /* first index with time >= offset */
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        if (s->time_ns[mid] < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return cycle * s->n + lo; /* lo == n rolls into the next cycle */
}

static int create(const lkm_create_args *args, void **state) {
    const char *file = NULL;
    if (args->path(args, "file", 0, &file) != LKM_OK) {
        args->fail(args, "file", "missing: a Mahimahi trace file (one millisecond timestamp per line)");
        return -1;
    }
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        char message[512];
        snprintf(message, sizeof message, "cannot read %s: %s", file, strerror(errno));
        args->fail(args, "file", message);
        return -1;
    }
    uint32_t cap = 1024, n = 0, line_no = 0;
    trace *s = malloc(sizeof *s + cap * sizeof(uint64_t));
    char line[256], message[600];
    int bad = s == NULL;
    while (!bad && fgets(line, sizeof line, f) != NULL) {
        ++line_no;
        char *p = line;
        while (isspace((unsigned char)*p)) ++p;
        if (*p == '\0') continue;
        char *end = NULL;
        errno = 0;
        const unsigned long long ms = strtoull(p, &end, 10);
        while (isspace((unsigned char)*end)) ++end;
        if (end == p || *end != '\0' || errno != 0 || *p == '-' || (n > 0 && ms * 1000000ULL < s->time_ns[n - 1])) {
            snprintf(message, sizeof message, "%s:%u: \"%.40s\" is not a millisecond timestamp (whole, non-decreasing)", file, line_no, p);
            args->fail(args, "file", message);
            bad = 1;
            break;
        }
        if (n == cap) {
            trace *bigger = realloc(s, sizeof *s + 2 * cap * sizeof(uint64_t));
            if (bigger == NULL) {
                bad = 1;
                break;
            }
            s = bigger, cap *= 2;
        }
        s->time_ns[n++] = ms * 1000000ULL;
    }
    fclose(f);
    if (!bad && (n == 0 || s->time_ns[n - 1] == 0)) {
        args->fail(args, "file", n == 0 ? "holds no delivery opportunities" : "its last timestamp must be above 0 (it is the period)");
        bad = 1;
    }
    if (bad) {
        free(s);
        return -1;
    }
    s->n = n;
    s->period_ns = s->time_ns[n - 1];
    s->op = 0;
    s->left = TRACE_BYTES_PER_OPPORTUNITY;
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static uint64_t finish_ns(void *state, uint64_t start_ns, uint32_t wire_bytes) {
    trace *s = state;
    if (s->left == 0) { /* the current opportunity is used up */
        ++s->op;
        s->left = TRACE_BYTES_PER_OPPORTUNITY;
    }
    if (time_of(s, s->op) < start_ns) { /* it has passed unused: the first one from start_ns */
        s->op = first_at(s, start_ns);
        s->left = TRACE_BYTES_PER_OPPORTUNITY;
    }
    uint32_t need = wire_bytes;
    while (need > s->left) {
        need -= s->left;
        ++s->op;
        s->left = TRACE_BYTES_PER_OPPORTUNITY;
    }
    s->left -= need;
    return time_of(s, s->op);
}

/* ABI 1.2: the trace runs on linkem's clock; reset forgets how much of the
 * current opportunity earlier frames used (the next frame finds the first
 * whole one at or after its start). */
static void reset(void *state) {
    trace *s = state;
    s->op = 0;
    s->left = TRACE_BYTES_PER_OPPORTUNITY;
}
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
static const void *get_extension(const char *id) { return strcmp(id, LKM_EXT_RESET) == 0 ? &reset_ext : NULL; }

static const lkm_param_info params[] = {
    {"file", "path", "a Mahimahi trace: one millisecond per 1504-byte opportunity (required)"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "trace",
    .kind = LKM_KIND_BANDWIDTH,
    .description = "a Mahimahi packet-delivery trace, repeated",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .finish_ns = finish_ns,
    .get_extension = get_extension,
};
