/*
 * Shared by the built-in jitter models (internal, not part of the ABI):
 * the netem-style parameters "mean" and "jitter", and standard draws.
 * A delay is mean + jitter * X for a standardised X (mean 0, variance 1),
 * clamped at 0 (so a jitter comparable to the mean skews the distribution).
 */
#ifndef LINKEM_PLUGINS_JITTER_H
#define LINKEM_PLUGINS_JITTER_H

#include <linkem/plugin.h>

#include <math.h>

typedef struct jitter_params {
    double mean_ns, jitter_ns;
} jitter_params;

/* Reads mean (default 0) and jitter (default 0), and, when stddev_alias is
 * set, "stddev" as another name for jitter; returns 0, or -1 after fail(). */
static inline int jitter_read(const lkm_create_args *args, jitter_params *out, int stddev_alias) {
    uint64_t mean = 0, jitter = 0;
    if (args->duration_ns(args, "mean", 0, &mean) == LKM_INVALID) return -1;
    const int has_jitter = args->duration_ns(args, "jitter", 0, &jitter);
    if (has_jitter == LKM_INVALID) return -1;
    if (stddev_alias) {
        const int has_stddev = args->duration_ns(args, "stddev", 0, &jitter);
        if (has_stddev == LKM_INVALID) return -1;
        if (has_stddev == LKM_OK && has_jitter == LKM_OK) {
            args->fail(args, "stddev", "give jitter or stddev (the same thing), not both");
            return -1;
        }
    }
    out->mean_ns = (double)mean;
    out->jitter_ns = (double)jitter;
    return 0;
}

static inline uint64_t jitter_apply(const jitter_params *p, double x) {
    const double d = p->mean_ns + p->jitter_ns * x;
    return d <= 0 ? 0 : (uint64_t)(d + 0.5);
}

/* Pareto with shape 3 and scale 1, standardised: (P - 1.5) / sqrt(3/4). */
static inline double draw_pareto(lkm_rng *r) {
    const double u = 1.0 - lkm_rng_uniform(r);
    return (1.0 / cbrt(u) - 1.5) / 0.8660254037844386;
}

#define JITTER_PARAMS \
    {"mean", "duration", "mean delay; default 0"}, { "jitter", "duration", "standard deviation (half-width for uniform); default 0" }
#define STDDEV_PARAM \
    { "stddev", "duration", "another name for jitter" }

#endif
