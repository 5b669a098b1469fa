/*
 * delay model "normal": normally distributed jitter (netem's normal).
 *
 *   delay: {plugin: normal, mean: 20ms, jitter: 2ms}
 *   delay: {plugin: normal, mean: 20ms, jitter: 2ms, order: drop}
 *
 * Parameters
 *   mean    duration (default 0): mean delay added after the link
 *   jitter  duration (default 0): standard deviation (also accepted as stddev)
 *   order   keep (default) or drop, handled by linkem: keep holds a packet
 *           back so that none is reordered; drop loses it instead, so the
 *           delay distribution stays exact (TLEM's option)
 *
 * Formula: delay = max(0, mean + jitter X), with X standard normal (drawn by the ziggurat method: normal_draw.h).
 *
 * See also: constant, uniform, normal, pareto, paretonormal, exponential, empirical.
 */
#define JITTER_NAME "normal"
#define JITTER_DESCRIPTION "normally distributed jitter (netem's normal)"
#define JITTER_DRAW(rng) (draw_normal((rng)))
#define JITTER_STDDEV_ALIAS 1
#include "normal_draw.h"
#include "jitter_model.inc"
