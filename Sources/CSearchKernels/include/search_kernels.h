#ifndef XUNXING_SEARCH_KERNELS_H
#define XUNXING_SEARCH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Hot loops of the periodicity search, written against the CPU's vector unit where it has one
 * (AVX2 on x86-64, chosen at run time) with a portable scalar version of the same arithmetic. */

/* One stage of incoherent harmonic summing, indexed by the bin k of the highest harmonic.
 * The N-harmonic sum at top bin k is S_N[k] = sum over h = 1..N of powers[round(h k / N)], with
 * round(x) = floor(x + 1/2) (PRESTO's rounding of a harmonic's fractional bin, `(int)(x + 0.5)`).
 * Its even harmonics h = 2i are the n-harmonic sum at the same top bin k (N = 2n), so from the
 * n-harmonic sums `prev` this computes for k in [0, count):
 *     out[k] = prev[k] + sum over odd j < 2n of powers[(j * k + n) / (2n)]
 * `n` is a power of two (1, 2, 4, ...); `count` must be a multiple of 8, and `powers` and `prev`
 * must be readable 8 floats past the largest index used. `out` may be NULL when the sums
 * themselves are not needed (the last stage), and may equal `prev` (summed in place).
 * Every k >= first_k with out[k] > threshold is appended to (cross_k, cross_v) until
 * `capacity` entries; returns the number of crossings found (may exceed capacity). */
size_t xx_harmonic_stage(const float *powers, const float *prev, float *out, size_t count, int n,
                         float threshold, size_t first_k, int64_t *cross_k, float *cross_v,
                         size_t capacity);

/* The same stage for k in [k_begin, k_end) only (k_begin and k_end multiples of 8), with
 * `prev` holding the n-harmonic sums from index `prev_base` (prev[0] is sum number prev_base) and
 * `out` receiving out[k - k_begin]: lets the caller sum blocks of fundamentals whose sources stay
 * in cache. Arithmetic and crossings are identical to xx_harmonic_stage over the same k. */
size_t xx_harmonic_stage_range(const float *powers, const float *prev, size_t prev_base, float *out,
                               size_t k_begin, size_t k_end, int n, float threshold, size_t first_k,
                               int64_t *cross_k, float *cross_v, size_t capacity);

/* Same arithmetic without vector instructions (for tests and CPUs without AVX2). */
size_t xx_harmonic_stage_scalar(const float *powers, const float *prev, float *out, size_t count,
                                int n, float threshold, size_t first_k, int64_t *cross_k,
                                float *cross_v, size_t capacity);

/* Appends every k in [first_k, count) with values[k] > threshold to (cross_k, cross_v) until
 * `capacity` entries; returns the number found (may exceed capacity). */
size_t xx_threshold_scan(const float *values, size_t count, float threshold, size_t first_k,
                         int64_t *cross_k, float *cross_v, size_t capacity);

/* Powers |X_k|^2 of `count` interleaved complex values. */
void xx_powers(const float *complex_values, float *powers, size_t count);

/* Sum of `count` floats, accumulated in double precision across vector lanes. */
double xx_sum(const float *values, size_t count);

/* The median of x[0 ..< n] (n >= 1): the middle value for odd n, the mean of the two middle values
 * for even n. `scratch` (n floats) receives a reordered copy; x is not changed. Quickselect,
 * expected ~3n comparisons. */
float xx_median(const float *x, size_t n, float *scratch);

/* Red-noise normalisation between two medians: for k in [first, end), the local median is
 * m(k) = m0 + (m1 - m0) * ((k - c0) / (c1 - c0)) in float arithmetic (c1 > c0), and p[k] is
 * multiplied by ln 2 / m(k), or set to 0 where m(k) is not positive. */
void xx_normalize_between(float *p, size_t first, size_t end, float c0, float m0, float c1, float m1);

/* Folding with a linear phase: adds x[j] to sums[b] and 1 to counts[b] for j in [0, n), where
 * b = floor(frac(phase0 + j * dphase) * nbins) and phases are in turns (0 <= dphase < 1). Where a
 * bin holds 24 or more consecutive samples (dphase * nbins < 1/24) whole runs are summed at once;
 * otherwise the phase advances in 32-bit fixed point (drift below n * 2^-33 turns), so a sample
 * within 2^-32 turns of a bin edge may land in the neighbouring bin. `scratch` holds 8 * nbins
 * doubles. Returns the sum of x[j]^2, for the samples' variance. */
double xx_fold_linear(const float *x, size_t n, double phase0, double dphase, int nbins, double *sums,
                      double *counts, double *scratch);

/* out[i] = x[i * factor] + ... + x[i * factor + factor - 1] for i < n / factor, `factor` a power
 * of two (the remainder of n is dropped; `out` holds n / factor floats). */
void xx_decimate(const float *x, size_t n, size_t factor, float *out);

/* 1 if the AVX2 kernels are in use on this CPU. */
int xx_kernels_use_avx2(void);

/* FFA kernels (ffa_kernels.c). */

/* For each of the `nw` boxcar widths: out[i] = max over j in [0, placements) of
 * prefix[j + widths[i]] - prefix[j], the largest sum of widths[i] consecutive bins of a profile
 * whose (circular) prefix sums are `prefix`. `placements` is a positive multiple of 8 and `prefix`
 * must be readable to index placements + max(widths) - 1. */
void xx_boxcar_maxima(const float *prefix, size_t placements, const int32_t *widths, size_t nw, float *out);
void xx_boxcar_maxima_scalar(const float *prefix, size_t placements, const int32_t *widths, size_t nw,
                             float *out);

/* One row of an FFA merge: out[j] = a[j] + b[(j + turn) mod bins], 0 <= turn < bins. */
void xx_add_turned(const float *a, const float *b, size_t turn, size_t bins, float *out);

#endif
