#include "search_kernels.h"

#include <math.h>

/* Sum of x[0 ..< n] in four float lanes (runs are at most a few thousand samples). */
static inline double run_sum(const float *x, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        s0 += x[j];
        s1 += x[j + 1];
        s2 += x[j + 2];
        s3 += x[j + 3];
    }
    for (; j < n; j++) s0 += x[j];
    return (double)((s0 + s1) + (s2 + s3));
}

/* Many samples per bin: whole runs of samples in one bin are summed in registers, and the
 * bin changes once per run. */
static void fold_runs(const float *x, size_t n, double phase0, double dphase, int nbins, double *sums,
                      double *counts) {
    const double step = dphase * nbins;
    const double inverse = 1.0 / step;
    double p = (phase0 - floor(phase0)) * nbins;
    size_t j = 0;
    while (j < n) {
        if (p >= nbins) p -= nbins;
        int b = (int)p;
        if (b >= nbins) b = nbins - 1;
        /* Samples i = 0, 1, ... stay in bin b while p + i * step < b + 1. */
        double left = ((double)(b + 1) - p) * inverse;
        size_t k = (size_t)ceil(left);
        if (k == 0) k = 1;
        if (k > n - j) k = n - j;
        sums[b] += run_sum(x + j, k);
        counts[b] += (double)k;
        p += (double)k * step;
        j += k;
    }
}

/* Few samples per bin: the phase is tracked in 32-bit fixed point and four interleaved
 * accumulators (sum, count pairs) keep consecutive samples that land in one bin from waiting on
 * each other's stores. */
static void fold_samples(const float *x, size_t n, double phase0, double dphase, int nbins, double *sums,
                         double *counts, double *scratch) {
    const double scale = 4294967296.0;
    uint32_t ph = (uint32_t)((phase0 - floor(phase0)) * scale);
    uint32_t inc = (uint32_t)((dphase - floor(dphase)) * scale + 0.5);
    const uint64_t nb = (uint64_t)nbins;
    double *a0 = scratch, *a1 = scratch + 2 * nbins, *a2 = scratch + 4 * nbins, *a3 = scratch + 6 * nbins;
    for (int i = 0; i < 8 * nbins; i++) scratch[i] = 0;
#define XX_BIN(p) ((size_t)(((uint64_t)(p) * nb) >> 32))
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        size_t b0 = XX_BIN(ph);
        size_t b1 = XX_BIN(ph + inc);
        size_t b2 = XX_BIN(ph + 2 * inc);
        size_t b3 = XX_BIN(ph + 3 * inc);
        a0[2 * b0] += x[j];
        a0[2 * b0 + 1] += 1;
        a1[2 * b1] += x[j + 1];
        a1[2 * b1 + 1] += 1;
        a2[2 * b2] += x[j + 2];
        a2[2 * b2 + 1] += 1;
        a3[2 * b3] += x[j + 3];
        a3[2 * b3 + 1] += 1;
        ph += 4 * inc;
    }
    for (; j < n; j++) {
        size_t b = XX_BIN(ph);
        a0[2 * b] += x[j];
        a0[2 * b + 1] += 1;
        ph += inc;
    }
#undef XX_BIN
    for (int b = 0; b < nbins; b++) {
        sums[b] += (a0[2 * b] + a1[2 * b]) + (a2[2 * b] + a3[2 * b]);
        counts[b] += (a0[2 * b + 1] + a1[2 * b + 1]) + (a2[2 * b + 1] + a3[2 * b + 1]);
    }
}

void xx_fold_linear(const float *x, size_t n, double phase0, double dphase, int nbins, double *sums,
                    double *counts, double *scratch) {
    if (n == 0 || nbins <= 0) return;
    if (dphase > 0 && dphase * nbins < 0.125)
        fold_runs(x, n, phase0, dphase, nbins, sums, counts);
    else
        fold_samples(x, n, phase0, dphase, nbins, sums, counts, scratch);
}

double xx_sum_squared_deviations(const float *x, size_t n, double mean) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        double d0 = x[j] - mean, d1 = x[j + 1] - mean, d2 = x[j + 2] - mean, d3 = x[j + 3] - mean;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; j < n; j++) {
        double d = x[j] - mean;
        s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
}
