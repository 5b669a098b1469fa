/*
 * delay model "uniform": jitter uniformly distributed around a mean (netem's default).
 *
 *   delay: {plugin: uniform, mean: 20ms, jitter: 2ms}
 *   delay: {plugin: uniform, mean: 20ms, jitter: 2ms, order: drop}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): half-width: delays are uniform in [mean - jitter, mean + jitter]
 *   order   keep (default) or drop, handled by linkem: keep holds a packet
 *           back so that none is reordered; drop loses it instead, so the
 *           delay distribution stays exact (TLEM's option)
 *
 * Formula: delay = max(0, mean + jitter X), with X uniform on [-1, 1) (standard deviation jitter / sqrt 3).
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "uniform"
#define JITTER_DESCRIPTION "jitter uniformly distributed around a mean (netem's default)"
#define JITTER_DRAW(rng) (2.0 * lkm_rng_uniform((rng)) - 1.0)
#define JITTER_STDDEV_ALIAS 0
#include "jitter_model.inc"
