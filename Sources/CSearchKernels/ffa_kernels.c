#include "search_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XX_HAVE_X86 1
#endif

/* ---- boxcar maxima over circular prefix sums ---- */

static void boxcar_maxima_scalar(const float *prefix, size_t placements, const int32_t *widths, size_t nw,
                                 float *out) {
    for (size_t i = 0; i < nw; i++) {
        const float *high = prefix + widths[i];
        float top = high[0] - prefix[0];
        for (size_t j = 1; j < placements; j++) {
            float v = high[j] - prefix[j];
            top = v > top ? v : top;
        }
        out[i] = top;
    }
}

#ifdef XX_HAVE_X86
__attribute__((target("avx2")))
static void boxcar_maxima_avx2(const float *prefix, size_t placements, const int32_t *widths, size_t nw,
                               float *out) {
    for (size_t i = 0; i < nw; i++) {
        const float *high = prefix + widths[i];
        __m256 top = _mm256_sub_ps(_mm256_loadu_ps(high), _mm256_loadu_ps(prefix));
        for (size_t j = 8; j < placements; j += 8)
            top = _mm256_max_ps(top, _mm256_sub_ps(_mm256_loadu_ps(high + j), _mm256_loadu_ps(prefix + j)));
        __m128 m = _mm_max_ps(_mm256_castps256_ps128(top), _mm256_extractf128_ps(top, 1));
        m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
        out[i] = _mm_cvtss_f32(m);
    }
}
#endif

void xx_boxcar_maxima(const float *prefix, size_t placements, const int32_t *widths, size_t nw, float *out) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        boxcar_maxima_avx2(prefix, placements, widths, nw, out);
        return;
    }
#endif
    boxcar_maxima_scalar(prefix, placements, widths, nw, out);
}

void xx_boxcar_maxima_scalar(const float *prefix, size_t placements, const int32_t *widths, size_t nw,
                             float *out) {
    boxcar_maxima_scalar(prefix, placements, widths, nw, out);
}

/* ---- one merged row of the FFA ---- */

static void add_shifted_scalar(const float *a, const float *b, float *out, size_t n) {
    for (size_t j = 0; j < n; j++) out[j] = a[j] + b[j];
}

#ifdef XX_HAVE_X86
__attribute__((target("avx2")))
static void add_shifted_avx2(const float *a, const float *b, float *out, size_t n) {
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(out + j, _mm256_add_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
    for (; j < n; j++) out[j] = a[j] + b[j];
}
#endif

void xx_add_turned(const float *a, const float *b, size_t turn, size_t bins, float *out) {
    size_t split = bins - turn;
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        add_shifted_avx2(a, b + turn, out, split);
        add_shifted_avx2(a + split, b, out + split, turn);
        return;
    }
#endif
    add_shifted_scalar(a, b + turn, out, split);
    add_shifted_scalar(a + split, b, out + split, turn);
}
