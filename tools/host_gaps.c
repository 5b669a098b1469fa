/*
 * linkem-host-gaps: how much the host itself delays a thread that never
 * sleeps. Spins on one CPU for a while reading the TSC, and reports every gap
 * between two readings longer than 1 us (timer ticks, interrupts, the
 * hypervisor taking the vCPU away). A releaser that is due at a uniformly
 * random moment and meets a gap waits until the gap ends, so from the gaps
 * follows the lateness a perfect releaser would show on this CPU:
 *   P(lateness > x) = sum over gaps of max(0, gap - x) / run time.
 * tools/fidelity.sh internal prints this floor beside linkem's own lateness.
 *
 *   linkem-host-gaps CPU SECONDS
 * Output: one "key value" per line (see main).
 */
#define _GNU_SOURCE
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#define MAX_GAPS 1000000

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The x for which the perfect releaser's P(lateness > x) equals q. */
static double floor_quantile(const double *gaps, size_t n, double run_ns, double q) {
    double lo = 0, hi = 1e9;
    for (int it = 0; it < 100; ++it) {
        const double x = (lo + hi) / 2;
        double late = 0;
        for (size_t i = 0; i < n; ++i) late += gaps[i] > x ? gaps[i] - x : 0;
        if (late / run_ns > q)
            lo = x;
        else
            hi = x;
    }
    return hi;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: linkem-host-gaps CPU SECONDS\n");
        return 2;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(argv[1]), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        perror("linkem-host-gaps: sched_setaffinity");
        return 1;
    }
    const double seconds = atof(argv[2]);
    /* TSC rate against the monotonic clock over 100 ms. */
    const uint64_t c0 = now_ns(), t0 = __rdtsc();
    while (now_ns() - c0 < 100000000) {
    }
    const double tsc_per_ns = (double)(__rdtsc() - t0) / (double)(now_ns() - c0);

    double *gaps = malloc(MAX_GAPS * sizeof *gaps);
    if (gaps == NULL) return 1;
    size_t n = 0;
    const uint64_t start = __rdtsc(), end = start + (uint64_t)(seconds * 1e9 * tsc_per_ns);
    uint64_t last = start;
    for (uint64_t t; (t = __rdtsc()) < end; last = t) {
        const double gap_ns = (double)(t - last) / tsc_per_ns;
        if (gap_ns > 1000 && n < MAX_GAPS) gaps[n++] = gap_ns;
    }
    const double run_ns = (double)(last - start) / tsc_per_ns;
    double lost = 0;
    for (size_t i = 0; i < n; ++i) lost += gaps[i];
    qsort(gaps, n, sizeof *gaps, by_value);
    double late_2us = 0, late_10us = 0;
    for (size_t i = 0; i < n; ++i) {
        late_2us += gaps[i] > 2000 ? gaps[i] - 2000 : 0;
        late_10us += gaps[i] > 10000 ? gaps[i] - 10000 : 0;
    }
    printf("cpu %s\nseconds %.3f\ngaps_over_1us %zu\ngaps_per_second %.1f\nlost_fraction %.6f\n", argv[1], run_ns / 1e9, n,
           (double)n / (run_ns / 1e9), lost / run_ns);
    printf("gap_p50_ns %.0f\ngap_max_ns %.0f\n", n ? gaps[n / 2] : 0.0, n ? gaps[n - 1] : 0.0);
    printf("floor_late_over_2us %.6f\nfloor_late_over_10us %.6f\n", late_2us / run_ns, late_10us / run_ns);
    printf("floor_p99_ns %.0f\nfloor_p999_ns %.0f\n", floor_quantile(gaps, n, run_ns, 0.01), floor_quantile(gaps, n, run_ns, 0.001));
    free(gaps);
    return 0;
}
