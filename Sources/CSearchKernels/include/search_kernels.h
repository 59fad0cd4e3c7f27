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

/* Puts the value of rank k (0-based) of a[0 ..< n) at a[k], everything before it <= and everything
 * after it >= (Hoare-partition quickselect, median-of-three pivot; the selection xx_median uses).
 * Nothing happens for n < 2 or k >= n. */
void xx_select_rank(float *a, size_t n, size_t k);

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

/* Fourier interpolation's sum: *re + i *im = sum over m in [lo, hi] of X_m / (m - r), X the
 * interleaved complex spectrum x (re, im per bin), in doubles. The AVX2 kernel sums four bins per
 * lane, so it may differ from the scalar one in the last bits. */
void xx_fourier_sum(const float *x, long lo, long hi, double r, double *re, double *im);
void xx_fourier_sum_scalar(const float *x, long lo, long hi, double r, double *re, double *im);
/* 1 if the kernels that need AVX2 and FMA both are in use on this CPU. */
int xx_kernels_use_avx2_fma(void);

/* Payload quantisation (quantise_kernels.c): out gets the stored level of each of the n samples,
 * q = (x[i] - offset) * inverse rounded half away from zero and clamped to [0, 255] (u8) or
 * [0, 65535] (u16, two bytes little-endian per sample); NaN stores the middle level (128, 32768).
 * The AVX2 and scalar kernels give identical bytes. */
void xx_quantise_u8(const float *x, size_t n, float offset, float inverse, uint8_t *out);
void xx_quantise_u8_scalar(const float *x, size_t n, float offset, float inverse, uint8_t *out);
void xx_quantise_u16(const float *x, size_t n, float offset, float inverse, uint8_t *out);
void xx_quantise_u16_scalar(const float *x, size_t n, float offset, float inverse, uint8_t *out);

/* The quantiser's robust fit (quantise_kernels.c). Sums over the samples d (as double) with
 * lower <= d <= upper (never NaN) of c = d - shift and c * c, and their count, in four lanes:
 * sample i goes to lane (phase + i) % 4, so a series handed over in pieces, each with phase =
 * the index of its first sample, sums exactly as the whole series does. AVX2 and scalar kernels
 * give identical sums. */
typedef struct {
    double sum[4];
    double squares[4];
    int64_t count[4];
} xx_moments;
void xx_moments_add(const float *x, size_t n, double lower, double upper, double shift, size_t phase,
                    xx_moments *m);
void xx_moments_add_scalar(const float *x, size_t n, double lower, double upper, double shift, size_t phase,
                           xx_moments *m);
/* 1 if a sample within [lower, upper] lies outside [new_lower, new_upper]. */
int xx_any_leaves(const float *x, size_t n, double lower, double upper, double new_lower, double new_upper);
int xx_any_leaves_scalar(const float *x, size_t n, double lower, double upper, double new_lower, double new_upper);

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

/* RFI kernels (rfi_kernels.c). */

/* The decimated series of a mask block lie in tiles: XX_RFI_TILE rows of XX_RFI_GROUP channels
 * together (time-major within the tile), the tiles of one set of rows side by side for every group
 * of channels, so that a spectrum's channels are a few pages apart and a group's series is read
 * tile after tile. */
#define XX_RFI_GROUP 16
#define XX_RFI_TILE 8

/* Where channel c's decimated sample j lies, with `groups` groups of channels. */
static inline size_t xx_rfi_dec_index(size_t c, size_t j, size_t groups) {
    return (((j / XX_RFI_TILE) * groups + c / XX_RFI_GROUP) * XX_RFI_TILE + j % XX_RFI_TILE) * XX_RFI_GROUP
        + c % XX_RFI_GROUP;
}

/* One chunk of `rows` spectra of `nch` channels (x, spectrum-major) into a mask block's running
 * sums, rows numbered from `first_row` within the block: per channel c, v = x - shift[c] is added
 * to sum[c], v * v to sumsq[c], and v to the decimated series at row j = (first_row + t) /
 * decimation, dec[xx_rfi_dec_index(c, j, ceil(nch / XX_RFI_GROUP))], when j < dec_rows (dec may
 * be NULL; dec_rows a multiple of XX_RFI_TILE); common[t] = sum over c of v * weight[c]. Sums are
 * in float, in an order that may differ between the AVX2 and scalar kernels. */
void xx_rfi_accumulate(const float *x, size_t rows, size_t nch, const float *shift, const float *weight, float *sum,
                       float *sumsq, float *dec, size_t first_row, size_t decimation, size_t dec_rows, float *common);
void xx_rfi_accumulate_scalar(const float *x, size_t rows, size_t nch, const float *shift, const float *weight,
                              float *sum, float *sumsq, float *dec, size_t first_row, size_t decimation,
                              size_t dec_rows, float *common);

/* out[j] = sum over channels c of dec's series c at row j times weight[c], for dec laid out by
 * xx_rfi_dec_index with `groups` groups (weight holds groups * XX_RFI_GROUP floats, 0 past the
 * last channel). */
void xx_rfi_weighted_rows(const float *dec, size_t groups, size_t dec_rows, const float *weight, float *out);

/* Group g's series, each taken out to its own array: out[i][j] = dec's series g * XX_RFI_GROUP + i
 * at row j, less kept[j] * level[i] and common[j] * scale[i], for i < width and j < dec_rows
 * (level and scale hold XX_RFI_GROUP floats); the group's samples in dec are then set to 0, ready
 * for the next block. */
void xx_rfi_series(float *dec, size_t groups, size_t g, size_t dec_rows, size_t width, const float *kept,
                   const float *common, const float *level, const float *scale, float *const *out);

/* `count` floats for a large scratch array that is walked across many pages (a mask block's
 * decimated series): aligned to 2 MB and, where the kernel allows it, backed by huge pages, so
 * that the walk does not miss the TLB at every page. NULL if out of memory; free with
 * xx_free_floats. */
float *xx_alloc_floats_huge(size_t count);
void xx_free_floats(float *p);

/* A chunk of `n` powers: their largest (*peak), and the sum and count of those at most `clip`
 * times their mean (*kept_sum, *kept_count). */
void xx_chunk_level(const float *p, size_t n, float clip, float *kept_sum, float *kept_count, float *peak);

/* Dedispersion kernels (dedisperse_kernels.c). */

/* out[t] = sum over r < nrows of rows[r][t], for t < n: the sum of `nrows` rows each already
 * offset by its dispersion shift (a subband from its channels, a DM trial from its subbands).
 * Rows are added in order for each t, so the AVX2 and scalar kernels agree to the last bit. */
void xx_sum_rows(const float *const *rows, size_t nrows, float *out, size_t n);
void xx_sum_rows_scalar(const float *const *rows, size_t nrows, float *out, size_t n);

/* out[c * stride + t] = (x[t * nch + c] - offset[c]) * weight[c] for t < spectra, c < nch: the
 * dedisperser's reader turning spectrum-major samples into normalised channel rows. The AVX2 and
 * scalar kernels do the same two operations on each sample: same bits. */
void xx_transpose_normalise(const float *x, size_t spectra, size_t nch, const float *offset, const float *weight,
                            float *out, size_t stride);
void xx_transpose_normalise_scalar(const float *x, size_t spectra, size_t nch, const float *offset,
                                   const float *weight, float *out, size_t stride);

/* The same from unsigned 8-bit samples as they lie in the file, widened once in registers: no
 * float copy of the spectra in between. Same bits as widening first, then the float kernels. */
void xx_transpose_normalise_u8(const unsigned char *x, size_t spectra, size_t nch, const float *offset,
                               const float *weight, float *out, size_t stride);
void xx_transpose_normalise_u8_scalar(const unsigned char *x, size_t spectra, size_t nch, const float *offset,
                                      const float *weight, float *out, size_t stride);

#endif
