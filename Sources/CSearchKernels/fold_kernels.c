#include "search_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XX_HAVE_X86 1
#endif

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

/* Sum of x[j]^2 in double precision. */
static double squares_scalar(const float *x, size_t n) {
    double q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        q0 += (double)x[j] * x[j];
        q1 += (double)x[j + 1] * x[j + 1];
        q2 += (double)x[j + 2] * x[j + 2];
        q3 += (double)x[j + 3] * x[j + 3];
    }
    for (; j < n; j++) q0 += (double)x[j] * x[j];
    return (q0 + q1) + (q2 + q3);
}

#ifdef XX_HAVE_X86
__attribute__((target("avx2,fma")))
static double squares_avx2(const float *x, size_t n) {
    __m256d q0 = _mm256_setzero_pd(), q1 = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + j));
        __m256d b = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 4));
        q0 = _mm256_fmadd_pd(a, a, q0);
        q1 = _mm256_fmadd_pd(b, b, q1);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(q0, q1));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + squares_scalar(x + j, n - j);
}
#endif

static double squares(const float *x, size_t n) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) return squares_avx2(x, n);
#endif
    return squares_scalar(x, n);
}

/* Many samples per bin (24 or more: below that the per-run bookkeeping costs more than adding
 * each sample on its own): whole runs of samples in one bin are summed in registers, and the
 * bin changes once per run. */
static void fold_runs(const float *x, size_t n, double phase0, double dphase, int nbins, double *sums,
                      double *counts) {
    const double step = dphase * nbins;
    const double inverse = 1.0 / step;
    double frac = phase0 - (double)(int64_t)phase0;
    if (frac < 0) frac += 1;
    double p = frac * nbins;
    size_t j = 0;
    while (j < n) {
        if (p >= nbins) p -= nbins;
        int b = (int)p;
        if (b >= nbins) b = nbins - 1;
        /* Samples i = 0, 1, ... stay in bin b while p + i * step < b + 1: ceil(left) of them. */
        double left = ((double)(b + 1) - p) * inverse;
        size_t k = (size_t)left;
        if ((double)k < left) k++;
        if (k == 0) k = 1;
        if (k > n - j) k = n - j;
        sums[b] += run_sum(x + j, k);
        counts[b] += (double)k;
        p += (double)k * step;
        j += k;
    }
}

/* sum over j in [0, n) of floor((a j + b) / m), in unsigned 64-bit arithmetic (the classic
 * Euclid-like reduction: O(log m) steps). Exact while a * n + b < 2^64 at every step, which holds
 * for the arguments used here (n <= 2^16, a, m <= 2^32, b < 2^33 keep it below 2^49). */
static uint64_t floor_sum(uint64_t n, uint64_t m, uint64_t a, uint64_t b) {
    uint64_t total = 0;
    for (;;) {
        if (a >= m) {
            total += n * (n - 1) / 2 * (a / m);
            a %= m;
        }
        if (b >= m) {
            total += n * (b / m);
            b %= m;
        }
        uint64_t y = a * n + b;
        if (y < m) break;
        n = y / m;
        b = y % m;
        uint64_t t = m;
        m = a;
        a = t;
    }
    return total;
}

/* The number of j in [0, n) with (ph0 + j inc) mod 2^32 < x, for 0 <= x <= 2^32:
 * (y mod M) >= x exactly when floor((y + M - x) / M) - floor(y / M) = 1. */
static uint64_t phases_below(uint64_t n, uint32_t ph0, uint32_t inc, uint64_t x) {
    const uint64_t m = (uint64_t)1 << 32;
    if (x == 0) return 0;
    if (x >= m) return n;
    return n - (floor_sum(n, m, inc, (uint64_t)ph0 + m - x) - floor_sum(n, m, inc, ph0));
}

#ifdef XX_HAVE_X86
/* idx[i] = floor(((ph + i inc) mod 2^32) nb / 2^32) for i < 1024, eight at a time: the same
 * bins as the scalar loop's. */
__attribute__((target("avx2")))
static void bins_avx2(uint32_t ph, uint32_t inc, uint32_t nb, uint32_t *idx) {
    __m256i p = _mm256_add_epi32(_mm256_set1_epi32((int)ph),
                                 _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)inc)));
    const __m256i step = _mm256_set1_epi32((int)(inc * 8u));
    const __m256i scale = _mm256_set1_epi32((int)nb);
    for (int i = 0; i < 1024; i += 8) {
        __m256i even = _mm256_srli_epi64(_mm256_mul_epu32(p, scale), 32);
        __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(p, 32), scale);
        _mm256_storeu_si256((__m256i *)(idx + i), _mm256_blend_epi32(even, odd, 0xAA));
        p = _mm256_add_epi32(p, step);
    }
}
#endif

/* Few samples per bin: the phase is tracked in 32-bit fixed point and each sample is added to
 * its bin, with four interleaved copies of the float accumulators so that consecutive samples in
 * one bin do not wait on each other's stores; flushed into the double outputs every `chunk`
 * samples. The counts need no per-sample work: for bin b = floor(ph nb / 2^32), the samples of a
 * chunk in bin b are those whose phase lies in [ceil(b 2^32 / nb), ceil((b + 1) 2^32 / nb)),
 * counted exactly with floor sums. */
static double fold_samples(const float *x, size_t n, double phase0, double dphase, int nbins, double *sums,
                           double *counts, double *scratch) {
    double sq = 0; /* sum of x^2, taken from each block of 1024 while it is in L1 */
    const double scale = 4294967296.0;
    double frac = phase0 - (double)(int64_t)phase0;
    if (frac < 0) frac += 1;
    double dfrac = dphase - (double)(int64_t)dphase;
    if (dfrac < 0) dfrac += 1;
    uint32_t ph = (uint32_t)(uint64_t)(frac * scale);
    const uint32_t inc = (uint32_t)(uint64_t)(dfrac * scale + 0.5);
    const uint64_t nb = (uint64_t)nbins;
    float *acc = (float *)scratch; /* 4 copies x nbins floats */
    float *a0 = acc, *a1 = acc + nbins, *a2 = acc + 2 * nbins, *a3 = acc + 3 * nbins;
    const size_t chunk = 1 << 16;
#define XX_BIN(p) ((size_t)(((uint64_t)(uint32_t)(p) * nb) >> 32))
    for (size_t start = 0; start < n; start += chunk) {
        size_t end = n - start > chunk ? start + chunk : n;
        const uint32_t first = ph;
        for (int i = 0; i < 4 * nbins; i++) acc[i] = 0;
        size_t j = start;
#ifdef XX_HAVE_X86
        if (xx_kernels_use_avx2()) {
            uint32_t idx[1024];
            while (end - j >= 1024) {
                bins_avx2(ph, inc, (uint32_t)nbins, idx);
                for (size_t i = 0; i < 1024; i += 4) {
                    a0[idx[i]] += x[j + i];
                    a1[idx[i + 1]] += x[j + i + 1];
                    a2[idx[i + 2]] += x[j + i + 2];
                    a3[idx[i + 3]] += x[j + i + 3];
                }
                sq += squares(x + j, 1024);
                ph += 1024 * inc;
                j += 1024;
            }
        }
#endif
        sq += squares(x + j, end - j);
        for (; j + 4 <= end; j += 4) {
            a0[XX_BIN(ph)] += x[j];
            a1[XX_BIN(ph + inc)] += x[j + 1];
            a2[XX_BIN(ph + 2 * inc)] += x[j + 2];
            a3[XX_BIN(ph + 3 * inc)] += x[j + 3];
            ph += 4 * inc;
        }
        for (; j < end; j++) {
            a0[XX_BIN(ph)] += x[j];
            ph += inc;
        }
        uint64_t below = 0;
        for (int b = 0; b < nbins; b++) {
            sums[b] += ((double)a0[b] + (double)a1[b]) + ((double)a2[b] + (double)a3[b]);
            uint64_t edge = (((uint64_t)(b + 1) << 32) + nb - 1) / nb;
            uint64_t upto = phases_below(end - start, first, inc, edge);
            counts[b] += (double)(upto - below);
            below = upto;
        }
    }
#undef XX_BIN
    return sq;
}

double xx_fold_linear(const float *x, size_t n, double phase0, double dphase, int nbins, double *sums,
                      double *counts, double *scratch) {
    if (n == 0 || nbins <= 0) return 0;
    if (dphase > 0 && dphase * nbins < 1.0 / 24) {
        fold_runs(x, n, phase0, dphase, nbins, sums, counts);
        return squares(x, n);
    }
    return fold_samples(x, n, phase0, dphase, nbins, sums, counts, scratch);
}

void xx_decimate(const float *x, size_t n, size_t factor, float *out) {
    size_t m = n / factor;
    if (factor < 2) {
        for (size_t i = 0; i < m; i++) out[i] = x[i];
        return;
    }
    if (factor > 8192) {
        for (size_t i = 0; i < m; i++) out[i] = (float)run_sum(x + i * factor, factor);
        return;
    }
    /* By halving, 8192 inputs at a time through a small buffer: pairwise sums vectorise, and each
     * pass reads half the previous one. */
    float tmp[4096];
    const size_t chunk = 8192 - 8192 % factor;
    for (size_t start = 0; start + factor <= n; start += chunk) {
        size_t len = n - start < chunk ? (n - start) / factor * factor : chunk;
        size_t h = len / 2;
        const float *p = x + start;
        for (size_t i = 0; i < h; i++) tmp[i] = p[2 * i] + p[2 * i + 1];
        for (size_t f = 2; f < factor; f *= 2) {
            h /= 2;
            for (size_t i = 0; i < h; i++) tmp[i] = tmp[2 * i] + tmp[2 * i + 1];
        }
        for (size_t i = 0; i < h; i++) out[start / factor + i] = tmp[i];
    }
}
