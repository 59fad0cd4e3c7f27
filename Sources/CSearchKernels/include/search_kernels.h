#ifndef XUNXING_SEARCH_KERNELS_H
#define XUNXING_SEARCH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Hot loops of the periodicity search, written against the CPU's vector unit where it has one
 * (AVX2 on x86-64, chosen at run time) with a portable scalar version of the same arithmetic. */

/* One stage of incoherent harmonic summing, indexed by the bin k of the highest harmonic.
 * From the n-harmonic sums `prev`, computes for k in [0, count):
 *     out[k] = prev[(k + 1) >> 1] + sum over odd j < 2n of powers[(j * k + n) / (2n)]
 * `n` is a power of two (1, 2, 4, ...); `count` must be a multiple of 8 and of 2n, and
 * `powers` and `prev` must be readable 8 floats past the largest index used. `out` may be NULL
 * when the sums themselves are not needed (the last stage).
 * Every k >= first_k with out[k] > threshold is appended to (cross_k, cross_v) until
 * `capacity` entries; returns the number of crossings found (may exceed capacity). */
size_t xx_harmonic_stage(const float *powers, const float *prev, float *out, size_t count, int n,
                         float threshold, size_t first_k, int64_t *cross_k, float *cross_v,
                         size_t capacity);

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

/* 1 if the AVX2 kernels are in use on this CPU. */
int xx_kernels_use_avx2(void);

#endif
