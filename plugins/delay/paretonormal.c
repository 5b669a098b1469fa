/*
 * delay model "paretonormal": a mix of normal and Pareto jitter (netem's paretonormal).
 *
 *   delay: {plugin: paretonormal, mean: 20ms, jitter: 2ms}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): standard deviation (also accepted as stddev)
 *
 * Formula: delay = max(0, mean + jitter X), with X = (3 Z + P) / sqrt 10 for a standard normal Z and the standardised Pareto P of the
 * pareto model (a quarter Pareto, as netem's table; variance 1).
 * Bounds (ABI 1.2): smallest 0 (clamped), largest unbounded; mean alone when jitter is 0.
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "paretonormal"
#define JITTER_DESCRIPTION "a mix of normal and Pareto jitter (netem's paretonormal)"
#define JITTER_DRAW(rng) ((3.0 * draw_normal((rng)) + draw_pareto((rng))) / 3.1622776601683795)
#define JITTER_MIN_X -INFINITY
#define JITTER_MAX_X INFINITY
#define JITTER_STDDEV_ALIAS 1
#include "normal_draw.h"
#include "jitter_model.inc"
