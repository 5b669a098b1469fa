/*
 * delay model "pareto": Pareto-distributed jitter, heavy-tailed (netem's pareto).
 *
 *   delay: {plugin: pareto, mean: 20ms, jitter: 2ms}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): standard deviation (also accepted as stddev)
 *
 * Formula: delay = max(0, mean + jitter X), with X a Pareto of shape 3 standardised to mean 0, variance 1: X = (U^(-1/3) - 1.5) /
 * sqrt(0.75).
 * Bounds (ABI 1.2): smallest mean - 0.577 jitter (clamped at 0), largest unbounded; mean alone when jitter is 0.
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "pareto"
#define JITTER_DESCRIPTION "Pareto-distributed jitter, heavy-tailed (netem's pareto)"
#define JITTER_DRAW(rng) (draw_pareto((rng)))
#define JITTER_MIN_X ((1.0 - 1.5) / 0.8660254037844386)
#define JITTER_MAX_X INFINITY
#define JITTER_STDDEV_ALIAS 1
#include "jitter_model.inc"
