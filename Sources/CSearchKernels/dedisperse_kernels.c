#include "search_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XX_HAVE_X86 1
#include "transpose8.h"
#endif

/* ---- dedispersion: sums of shifted rows ---- */

static void sum_rows_scalar(const float *const *rows, size_t nrows, float *out, size_t n) {
    for (size_t t = 0; t < n; t++) out[t] = 0;
    for (size_t r = 0; r < nrows; r++) {
        const float *row = rows[r];
        for (size_t t = 0; t < n; t++) out[t] += row[t];
    }
}

#ifdef XX_HAVE_X86
/* 64 output samples at a time in eight registers, every row added in before they are stored:
 * one load per 8 additions, no stores in the inner loop; then 8 at a time, then one by one. */
__attribute__((target("avx2")))
static void sum_rows_avx2(const float *const *rows, size_t nrows, float *out, size_t n) {
    size_t t = 0;
    for (; t + 64 <= n; t += 64) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (size_t r = 0; r < nrows; r++) {
            const float *p = rows[r] + t;
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + 24));
            a4 = _mm256_add_ps(a4, _mm256_loadu_ps(p + 32));
            a5 = _mm256_add_ps(a5, _mm256_loadu_ps(p + 40));
            a6 = _mm256_add_ps(a6, _mm256_loadu_ps(p + 48));
            a7 = _mm256_add_ps(a7, _mm256_loadu_ps(p + 56));
        }
        _mm256_storeu_ps(out + t, a0);
        _mm256_storeu_ps(out + t + 8, a1);
        _mm256_storeu_ps(out + t + 16, a2);
        _mm256_storeu_ps(out + t + 24, a3);
        _mm256_storeu_ps(out + t + 32, a4);
        _mm256_storeu_ps(out + t + 40, a5);
        _mm256_storeu_ps(out + t + 48, a6);
        _mm256_storeu_ps(out + t + 56, a7);
    }
    for (; t + 8 <= n; t += 8) {
        __m256 a = _mm256_setzero_ps();
        for (size_t r = 0; r < nrows; r++) a = _mm256_add_ps(a, _mm256_loadu_ps(rows[r] + t));
        _mm256_storeu_ps(out + t, a);
    }
    for (; t < n; t++) {
        float s = 0;
        for (size_t r = 0; r < nrows; r++) s += rows[r][t];
        out[t] = s;
    }
}
#endif

void xx_sum_rows(const float *const *rows, size_t nrows, float *out, size_t n) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        sum_rows_avx2(rows, nrows, out, n);
        return;
    }
#endif
    sum_rows_scalar(rows, nrows, out, n);
}

void xx_sum_rows_scalar(const float *const *rows, size_t nrows, float *out, size_t n) {
    sum_rows_scalar(rows, nrows, out, n);
}

/* ---- the dedisperser's reader: spectrum-major to normalised channel rows ---- */

/* One body for float samples and for unsigned 8-bit samples as stored (widened once, in
 * registers): NAME's scalar and AVX2 kernels over samples of type T, LOAD8(p) loading the 8
 * consecutive samples at p as floats. The AVX2 kernels take eight spectra of eight channels at a
 * time, normalised with the channels across the lanes, transposed in registers, stored as eight
 * samples of eight rows. */
#define XX_SCALAR_ROWS                                                                                \
    for (size_t t = 0; t < spectra; t++)                                                              \
        for (size_t c = 0; c < nch; c++) out[c * stride + t] = ((float)x[t * nch + c] - offset[c]) * weight[c];

#ifdef XX_HAVE_X86
#define XX_TRANSPOSE_NORMALISE_AVX2(NAME, T, LOAD8)                                                   \
    __attribute__((target("avx2")))                                                                   \
    static void NAME##_avx2(const T *x, size_t spectra, size_t nch, const float *offset,              \
                            const float *weight, float *out, size_t stride) {                         \
        size_t t8 = spectra & ~(size_t)7, c8 = nch & ~(size_t)7;                                      \
        for (size_t c = 0; c < c8; c += 8) {                                                          \
            __m256 o = _mm256_loadu_ps(offset + c), w = _mm256_loadu_ps(weight + c);                  \
            for (size_t t = 0; t < t8; t += 8) {                                                      \
                __m256 r[8];                                                                          \
                for (int k = 0; k < 8; k++)                                                           \
                    r[k] = _mm256_mul_ps(_mm256_sub_ps(LOAD8(x + (t + k) * nch + c), o), w);          \
                xx_transpose8(r);                                                                     \
                for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + (c + i) * stride + t, r[i]);      \
            }                                                                                         \
        }                                                                                             \
        for (size_t t = 0; t < t8; t++)                                                               \
            for (size_t c = c8; c < nch; c++) out[c * stride + t] = ((float)x[t * nch + c] - offset[c]) * weight[c]; \
        for (size_t t = t8; t < spectra; t++)                                                         \
            for (size_t c = 0; c < nch; c++) out[c * stride + t] = ((float)x[t * nch + c] - offset[c]) * weight[c]; \
    }
#define XX_LOAD8_FLOAT(p) _mm256_loadu_ps(p)
#define XX_LOAD8_U8(p) _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
XX_TRANSPOSE_NORMALISE_AVX2(transpose_normalise, float, XX_LOAD8_FLOAT)
XX_TRANSPOSE_NORMALISE_AVX2(transpose_normalise_u8, unsigned char, XX_LOAD8_U8)
#define XX_DISPATCH_AVX2(NAME)                                                                        \
    if (xx_kernels_use_avx2()) {                                                                      \
        NAME##_avx2(x, spectra, nch, offset, weight, out, stride);                                    \
        return;                                                                                       \
    }
#else
#define XX_DISPATCH_AVX2(NAME)
#endif

void xx_transpose_normalise(const float *x, size_t spectra, size_t nch, const float *offset, const float *weight,
                            float *out, size_t stride) {
    XX_DISPATCH_AVX2(transpose_normalise)
    XX_SCALAR_ROWS
}

void xx_transpose_normalise_scalar(const float *x, size_t spectra, size_t nch, const float *offset,
                                   const float *weight, float *out, size_t stride) {
    XX_SCALAR_ROWS
}

void xx_transpose_normalise_u8(const unsigned char *x, size_t spectra, size_t nch, const float *offset,
                               const float *weight, float *out, size_t stride) {
    XX_DISPATCH_AVX2(transpose_normalise_u8)
    XX_SCALAR_ROWS
}

void xx_transpose_normalise_u8_scalar(const unsigned char *x, size_t spectra, size_t nch, const float *offset,
                                      const float *weight, float *out, size_t stride) {
    XX_SCALAR_ROWS
}
