/*
 * A standard normal draw by the ziggurat method (Marsaglia and Tsang, "The
 * Ziggurat Method for Generating Random Variables", 2000), for the normal
 * and paretonormal models. Internal: not part of the ABI.
 *
 * The half curve f(x) = exp(-x^2 / 2), x >= 0, is covered by 256 horizontal
 * layers of equal area A. Layer 0 is the rectangle [0, X0] x [0, f(R)] whose
 * area equals the strip under f(R) up to R plus the whole tail beyond R;
 * layer i (1..255) is [0, x_i] x [f(x_i), f(x_{i+1})], with x_1 = R and
 * x_256 = 0. A point drawn uniformly in a layer at a uniform height is under
 * the curve for sure when its abscissa z < x_{i+1}: that is 99% of draws,
 * and they cost one 64-bit random value, a multiplication and a comparison.
 * The rest are decided exactly: in a wedge by comparing the point with the
 * curve, in layer 0 by drawing from the tail beyond R (Marsaglia's 1964
 * method). So the result is normal up to the 53-bit resolution of the
 * uniforms, and about three times cheaper than an inverse CDF.
 *
 * One 64-bit value gives the layer (its low 8 bits) and a signed position in
 * it (its top 53 bits): disjoint bits, so the two are independent.
 *
 * The tables are computed once, when the model's shared object is loaded.
 */
#ifndef LINKEM_PLUGINS_NORMAL_DRAW_H
#define LINKEM_PLUGINS_NORMAL_DRAW_H

#include <linkem/plugin.h>

#include <math.h>
#include <stdint.h>

#define NORMAL_LAYERS 256
#define NORMAL_TAIL_START 3.6541528853610088 /* R: with it, layer 0 and the top layer come out of the same area */

static struct {
    double x[NORMAL_LAYERS + 1]; /* layer i spans [0, x[i]] */
    double inner[NORMAL_LAYERS]; /* x[i + 1] / x[i]: |u| below it is under the curve for sure */
    double f[NORMAL_LAYERS + 1]; /* f(x[i]): layer i >= 1 spans heights [f[i], f[i + 1]] */
} normal_layers;

__attribute__((constructor)) static void normal_layers_init(void) {
    const double r = NORMAL_TAIL_START, f_r = exp(-0.5 * r * r);
    const double area = r * f_r + 1.2533141373155003 /* sqrt(pi / 2) */ * erfc(r / sqrt(2.0)); /* R f(R) plus the tail's integral */
    normal_layers.x[0] = area / f_r;
    normal_layers.x[1] = r;
    for (int i = 1; i < NORMAL_LAYERS - 1; ++i) {
        const double y = exp(-0.5 * normal_layers.x[i] * normal_layers.x[i]) + area / normal_layers.x[i]; /* f(x[i + 1]) */
        normal_layers.x[i + 1] = sqrt(-2 * log(y));
    }
    normal_layers.x[NORMAL_LAYERS] = 0;
    for (int i = 0; i <= NORMAL_LAYERS; ++i) normal_layers.f[i] = exp(-0.5 * normal_layers.x[i] * normal_layers.x[i]);
    for (int i = 0; i < NORMAL_LAYERS; ++i) normal_layers.inner[i] = normal_layers.x[i + 1] / normal_layers.x[i];
}

/* Beyond R: x = -ln(U1) / R, y = -ln(U2), until 2y > x^2; then R + x. */
static inline double normal_tail(lkm_rng *r) {
    for (;;) {
        const double x = -log(1.0 - lkm_rng_uniform(r)) / NORMAL_TAIL_START; /* 1 - U: in (0, 1] */
        const double y = -log(1.0 - lkm_rng_uniform(r));
        if (2 * y > x * x) return NORMAL_TAIL_START + x;
    }
}

static inline double draw_normal(lkm_rng *r) {
    for (;;) {
        const uint64_t bits = lkm_rng_next(r);
        const unsigned layer = bits & (NORMAL_LAYERS - 1);
        const double u = (double)((int64_t)bits >> 11) * 0x1p-52; /* [-1, 1) */
        const double z = u * normal_layers.x[layer];
        if (fabs(u) < normal_layers.inner[layer]) return z;
        if (layer == 0) return u < 0 ? -normal_tail(r) : normal_tail(r);
        const double height = normal_layers.f[layer] + lkm_rng_uniform(r) * (normal_layers.f[layer + 1] - normal_layers.f[layer]);
        if (height < exp(-0.5 * z * z)) return z;
    }
}

#endif
