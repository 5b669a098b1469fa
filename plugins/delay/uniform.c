/*
 * delay model "uniform": jitter uniformly distributed around a mean (netem's default).
 *
 *   delay: {plugin: uniform, mean: 20ms, jitter: 2ms}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): half-width: delays are uniform in [mean - jitter, mean + jitter]
 *
 * Formula: delay = max(0, mean + jitter X), with X uniform on [-1, 1) (standard deviation jitter / sqrt 3).
 * Bounds (ABI 1.2): [mean - jitter, mean + jitter] (clamped at 0); mean alone when jitter is 0.
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "uniform"
#define JITTER_DESCRIPTION "jitter uniformly distributed around a mean (netem's default)"
#define JITTER_DRAW(rng) (2.0 * lkm_rng_uniform((rng)) - 1.0)
#define JITTER_MIN_X -1.0
#define JITTER_MAX_X 1.0
#define JITTER_STDDEV_ALIAS 0
#include "jitter_model.inc"
