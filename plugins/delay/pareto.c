/*
 * delay model "pareto": Pareto-distributed jitter, heavy-tailed (netem's pareto).
 *
 *   delay: {plugin: pareto, mean: 20ms, jitter: 2ms}
 *   delay: {plugin: pareto, mean: 20ms, jitter: 2ms, order: drop}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): standard deviation (also accepted as stddev)
 *   order   keep (default) or drop, handled by linkem: keep holds a packet
 *           back so that none is reordered; drop loses it instead, so the
 *           delay distribution stays exact (TLEM's option)
 *
 * Formula: delay = max(0, mean + jitter X), with X a Pareto of shape 3 standardised to mean 0, variance 1: X = (U^(-1/3) - 1.5) /
 * sqrt(0.75).
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "pareto"
#define JITTER_DESCRIPTION "Pareto-distributed jitter, heavy-tailed (netem's pareto)"
#define JITTER_DRAW(rng) (draw_pareto((rng)))
#define JITTER_STDDEV_ALIAS 1
#include "jitter_model.inc"
