#include "search_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XX_HAVE_X86 1
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
/* 32 output samples at a time in four registers, every row added in before they are stored:
 * one load per 8 additions, no stores in the inner loop. */
__attribute__((target("avx2")))
static void sum_rows_avx2(const float *const *rows, size_t nrows, float *out, size_t n) {
    size_t t = 0;
    for (; t + 32 <= n; t += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t r = 0; r < nrows; r++) {
            const float *p = rows[r] + t;
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + 24));
        }
        _mm256_storeu_ps(out + t, a0);
        _mm256_storeu_ps(out + t + 8, a1);
        _mm256_storeu_ps(out + t + 16, a2);
        _mm256_storeu_ps(out + t + 24, a3);
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
