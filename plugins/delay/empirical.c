/*
 * delay model "empirical": delays drawn from measured data.
 *
 *   delay: {plugin: empirical, file: rtt-samples.txt}                  # samples, in ms
 *   delay: {plugin: empirical, file: samples-us.txt, unit: us}
 *   delay: {plugin: empirical, file: normal.dist, mean: 20ms, jitter: 2ms}  # netem table
 *
 * Parameters
 *   file    path (required), relative to the configuration file
 *   format  samples or netem (default: netem for a .dist file, else samples)
 *   unit    ns, us, ms or s (samples only; default ms)
 *   mean, jitter  durations (netem tables only): delay = mean + jitter * v / 8192
 *
 * samples: one measured delay per line (a plain number in `unit`; '#' starts a
 * comment). The model draws from their empirical distribution by inverse
 * CDF: with the n samples sorted, U uniform on [0, 1) gives the value at
 * position U (n - 1), interpolated linearly between neighbours.
 * netem: iproute2's .dist tables (normal.dist, pareto.dist, ...): whitespace-
 * separated signed integers, scale 8192 (NETEM_DIST_SCALE), at most 16384;
 * the model picks one uniformly, as netem does.
 * Bounds (ABI 1.2): the smallest and largest sample (samples), or the delays
 * of the table's smallest and largest value (netem), clamped at 0.
 *
 * See also: normal, pareto, paretonormal (the same shapes, computed).
 */
#include <linkem/plugin.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct empirical {
    lkm_rng rng;
    int netem;
    double scale_ns; /* samples: ns per unit */
    double mean_ns, jitter_ns;
    uint32_t n;
    double values[]; /* sorted samples, or the netem table */
} empirical;

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int create(const lkm_create_args *args, void **state) {
    const char *file = NULL, *format = NULL, *unit = "ms";
    uint64_t mean = 0, jitter = 0;
    if (args->path(args, "file", 0, &file) != LKM_OK) {
        args->fail(args, "file", "missing: a file of measured delays, or a netem .dist table");
        return -1;
    }
    if (args->string(args, "format", 0, &format) == LKM_INVALID || args->string(args, "unit", 0, &unit) == LKM_INVALID ||
        args->duration_ns(args, "mean", 0, &mean) == LKM_INVALID || args->duration_ns(args, "jitter", 0, &jitter) == LKM_INVALID)
        return -1;
    const size_t len = strlen(file);
    const int netem = format != NULL ? strcmp(format, "netem") == 0 : len > 5 && strcmp(file + len - 5, ".dist") == 0;
    if (format != NULL && !netem && strcmp(format, "samples") != 0) {
        args->fail(args, "format", "expected samples or netem");
        return -1;
    }
    double scale = 0;
    if (strcmp(unit, "ns") == 0)
        scale = 1;
    else if (strcmp(unit, "us") == 0)
        scale = 1e3;
    else if (strcmp(unit, "ms") == 0)
        scale = 1e6;
    else if (strcmp(unit, "s") == 0)
        scale = 1e9;
    else {
        args->fail(args, "unit", "expected ns, us, ms or s");
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
    empirical *s = malloc(sizeof *s + cap * sizeof(double));
    char line[4096];
    int bad = s == NULL;
    while (!bad && fgets(line, sizeof line, f) != NULL) {
        ++line_no;
        char *hash = strchr(line, '#');
        if (hash != NULL) *hash = '\0';
        for (char *p = line;;) {
            while (isspace((unsigned char)*p)) ++p;
            if (*p == '\0') break;
            char *end = NULL;
            const double v = strtod(p, &end);
            if (end == p || !isfinite(v) || (!netem && v < 0)) {
                char message[600];
                snprintf(message, sizeof message, "%s:%u: \"%.40s\" is not %s", file, line_no, p,
                         netem ? "a table value" : "a delay (a number, 0 or more)");
                args->fail(args, "file", message);
                bad = 1;
                break;
            }
            if (n == cap) {
                empirical *bigger = realloc(s, sizeof *s + 2 * cap * sizeof(double));
                if (bigger == NULL) {
                    bad = 1;
                    break;
                }
                s = bigger;
                cap *= 2;
            }
            s->values[n++] = v;
            p = end;
        }
    }
    fclose(f);
    if (!bad && (n == 0 || (netem && n > 16384))) {
        args->fail(args, "file", n == 0 ? "holds no values" : "a netem table has at most 16384 values");
        bad = 1;
    }
    if (bad) {
        free(s);
        return -1;
    }
    s->rng = args->rng;
    s->netem = netem;
    s->scale_ns = scale;
    s->mean_ns = (double)mean;
    s->jitter_ns = (double)jitter;
    s->n = n;
    if (!netem) qsort(s->values, n, sizeof(double), by_value);
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static void delay_burst(void *state, const lkm_pkt *pkts, uint32_t n, uint64_t *delay_ns) {
    empirical *s = state;
    (void)pkts;
    for (uint32_t i = 0; i < n; ++i) {
        const double u = lkm_rng_uniform(&s->rng);
        double d;
        if (s->netem) {
            d = s->mean_ns + s->jitter_ns * s->values[(uint32_t)(u * s->n)] / 8192.0;
        } else {
            const double at = u * (s->n - 1);
            const uint32_t k = (uint32_t)at;
            const double frac = at - k;
            d = (k + 1 < s->n ? s->values[k] + frac * (s->values[k + 1] - s->values[k]) : s->values[k]) * s->scale_ns;
        }
        delay_ns[i] = d <= 0 ? 0 : (uint64_t)(d + 0.5);
    }
}

static uint64_t rounded(double d) { return d <= 0 ? 0 : (uint64_t)(d + 0.5); }

static int delay_bounds(const void *state, uint64_t *min_ns, uint64_t *max_ns) {
    const empirical *s = state;
    if (!s->netem) { /* sorted: an interpolation never leaves [first, last]; 1 ns of slack for its rounding */
        *min_ns = rounded(s->values[0] * s->scale_ns);
        *max_ns = rounded(s->values[s->n - 1] * s->scale_ns) + 1;
        return 0;
    }
    double lo = s->values[0], hi = s->values[0];
    for (uint32_t i = 1; i < s->n; ++i) {
        if (s->values[i] < lo) lo = s->values[i];
        if (s->values[i] > hi) hi = s->values[i];
    }
    *min_ns = rounded(s->mean_ns + s->jitter_ns * lo / 8192.0); /* the same expression as delay_burst's */
    *max_ns = rounded(s->mean_ns + s->jitter_ns * hi / 8192.0);
    return 0;
}
static const lkm_ext_bounds bounds = {.struct_size = sizeof(lkm_ext_bounds), .delay_ns = delay_bounds};
/* ABI 1.2: a new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    empirical *to = new_state;
    const empirical *from = old_state;
    to->rng = from->rng;
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    return strcmp(id, LKM_EXT_BOUNDS) == 0 ? &bounds : NULL;
}

static const lkm_param_info params[] = {
    {"file", "path", "measured delays (one per line) or a netem .dist table (required)"},
    {"format", "string", "samples or netem; default from the file name"},
    {"unit", "string", "samples' unit: ns, us, ms (default) or s"},
    {"mean", "duration", "netem tables: the mean"},
    {"jitter", "duration", "netem tables: the scale of the table's values"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "empirical",
    .kind = LKM_KIND_DELAY,
    .description = "delays drawn from measured samples or a netem .dist table",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .delay_burst = delay_burst,
    .get_extension = get_extension,
};
