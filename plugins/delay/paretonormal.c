/*
 * delay model "paretonormal": a mix of normal and Pareto jitter (netem's paretonormal).
 *
 *   delay: {plugin: paretonormal, mean: 20ms, jitter: 2ms}
 *   delay: {plugin: paretonormal, mean: 20ms, jitter: 2ms, order: drop}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): standard deviation (also accepted as stddev)
 *   order   keep (default) or drop, handled by linkem: keep holds a packet
 *           back so that none is reordered; drop loses it instead, so the
 *           delay distribution stays exact (TLEM's option)
 *
 * Formula: delay = max(0, mean + jitter X), with X = (3 Z + P) / sqrt 10 for a standard normal Z and the standardised Pareto P of the
 * pareto model (a quarter Pareto, as netem's table; variance 1).
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "paretonormal"
#define JITTER_DESCRIPTION "a mix of normal and Pareto jitter (netem's paretonormal)"
#define JITTER_DRAW(rng) ((3.0 * draw_normal((rng)) + draw_pareto((rng))) / 3.1622776601683795)
#define JITTER_STDDEV_ALIAS 1
#include "normal_draw.h"
#include "jitter_model.inc"
