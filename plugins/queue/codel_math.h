/*
 * CoDel's control law in fixed point (internal, not part of the ABI; shared
 * by plugins/queue/codel.c and its unit tests).
 *
 * The drop spacing interval / sqrt(count) is computed as Linux
 * (include/net/codel_impl.h) and ns-3 (CoDelQueueDisc::NewtonStep and
 * ControlLaw) compute it: 1 / sqrt(count) is kept as a 16-bit fraction
 * (rec_inv_sqrt, 0xffff standing for 1.0), refined by one Newton step
 *     x' = x (3 - count x^2) / 2
 * each time count changes, in 32-bit fixed point, so the values of
 * rec_inv_sqrt are bit for bit those of Linux and ns-3. Only the time unit
 * differs: Linux and ns-3 scale an interval kept in units of 1024 ns (a
 * 32-bit "codel time"); linkem scales the interval in ns:
 *     spacing_ns = (interval_ns * rec_inv_sqrt) >> 16
 * which is Linux's reciprocal_scale(interval, rec_inv_sqrt << 16) computed
 * without overflow for any interval below 2^48 ns.
 */
#ifndef LINKEM_PLUGINS_CODEL_MATH_H
#define LINKEM_PLUGINS_CODEL_MATH_H

#include <stdint.h>

#define CODEL_REC_INV_SQRT_ONE UINT16_C(0xffff) /* 1 / sqrt(1), as Linux's ~0U >> 16 */

/* One Newton step of x = 1 / sqrt(count), x as a 16-bit fraction. */
static inline uint16_t codel_newton_step(uint16_t rec_inv_sqrt, uint32_t count) {
    const uint32_t x = (uint32_t)rec_inv_sqrt << 16;         /* x in 0.32 fixed point */
    const uint32_t x2 = (uint32_t)(((uint64_t)x * x) >> 32); /* x^2, 0.32 */
    uint64_t v = (UINT64_C(3) << 32) - (uint64_t)count * x2; /* 3 - count x^2, 32.32 */
    v >>= 2;                                                 /* room for the multiply */
    v = (v * x) >> (32 - 2 + 1);                             /* x (3 - count x^2) / 2, 0.32 */
    return (uint16_t)(v >> 16);
}

/* interval / sqrt(count) in ns, from the rec_inv_sqrt of that count. */
static inline uint64_t codel_spacing_ns(uint64_t interval_ns, uint16_t rec_inv_sqrt) {
    return (interval_ns >> 16) * rec_inv_sqrt + (((interval_ns & 0xffff) * rec_inv_sqrt) >> 16);
}

#endif /* LINKEM_PLUGINS_CODEL_MATH_H */
