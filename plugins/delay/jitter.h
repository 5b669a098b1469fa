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

/* A standard normal draw by inverse CDF: Acklam's rational approximation of
 * the normal quantile (relative error below 1.2e-9). The central 95% needs
 * only multiplications and one division; a log and a sqrt only in the tails,
 * so it is several times cheaper than Box-Muller's log, sqrt and cos. */
static inline double draw_normal(lkm_rng *r) {
    const double p = ((double)(lkm_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0); /* (0, 1) */
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
    const double p_low = 0.02425;
    if (p > p_low && p < 1 - p_low) {
        const double q = p - 0.5, t = q * q;
        return (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * q /
               (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1);
    }
    const double q = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
    const double x =
        (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < 0.5 ? x : -x;
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
