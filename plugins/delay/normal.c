/*
 * delay model "normal": normally distributed jitter (netem's normal).
 *
 *   delay: {plugin: normal, mean: 20ms, jitter: 2ms}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): standard deviation (also accepted as stddev)
 *
 * Formula: delay = max(0, mean + jitter X), with X standard normal (drawn by the ziggurat method: normal_draw.h).
 * Bounds (ABI 1.2): smallest 0 (unbounded below, clamped), largest unbounded; mean alone when jitter is 0.
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "normal"
#define JITTER_DESCRIPTION "normally distributed jitter (netem's normal)"
#define JITTER_DRAW(rng) (draw_normal((rng)))
#define JITTER_MIN_X -INFINITY
#define JITTER_MAX_X INFINITY
#define JITTER_STDDEV_ALIAS 1
#include "normal_draw.h"
#include "jitter_model.inc"
