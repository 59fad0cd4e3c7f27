#include "search_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XX_HAVE_X86 1
#endif

/* The moments' sums must be the same on every path: no fused multiply-adds. */
#pragma STDC FP_CONTRACT OFF

/* ---- payload quantisation: stored level of each sample ----
 *
 * q = (x - offset) * inverse in float; NaN stores `middle`; otherwise q rounded half away from
 * zero and clamped to [0, top]. Clamping first and then rounding (double)q + 0.5 down gives the
 * same level for every input: for q in [2^-29, top] (24 significant bits) adding 0.5 in double is
 * exact, and a smaller q rounds to 0.5, never to 1. In float, 0.49999997 + 0.5 would round up to 1. */

static inline int32_t level(float x, float offset, float inverse, float top, int32_t middle) {
    float q = (x - offset) * inverse;
    if (q != q) return middle;
    q = q > 0 ? q : 0;
    q = q < top ? q : top;
    return (int32_t)((double)q + 0.5);
}

static void quantise_u8_scalar(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)level(x[i], offset, inverse, 255.0f, 128);
}

static void quantise_u16_scalar(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
    for (size_t i = 0; i < n; i++) {
        int32_t q = level(x[i], offset, inverse, 65535.0f, 32768);
        out[2 * i] = (uint8_t)(q & 0xff);
        out[2 * i + 1] = (uint8_t)(q >> 8);
    }
}

#ifdef XX_HAVE_X86
/* Eight levels as int32, by the scalar rule. */
__attribute__((target("avx2"), always_inline))
static inline __m256i levels_avx2(const float *x, __m256 offset, __m256 inverse, __m256 top, __m256i middle) {
    __m256 q = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x), offset), inverse);
    __m256 unordered = _mm256_cmp_ps(q, q, _CMP_UNORD_Q);
    __m256 c = _mm256_min_ps(_mm256_max_ps(q, _mm256_setzero_ps()), top);  /* NaN becomes 0, then replaced */
    const __m256d half = _mm256_set1_pd(0.5);
    __m128i low = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(c)), half));
    __m128i high = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(c, 1)), half));
    __m256i levels = _mm256_set_m128i(high, low);
    return _mm256_blendv_epi8(levels, middle, _mm256_castps_si256(unordered));
}

__attribute__((target("avx2")))
static void quantise_u8_avx2(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
    const __m256 o = _mm256_set1_ps(offset), v = _mm256_set1_ps(inverse), top = _mm256_set1_ps(255.0f);
    const __m256i middle = _mm256_set1_epi32(128), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a = levels_avx2(x + i, o, v, top, middle), b = levels_avx2(x + i + 8, o, v, top, middle);
        __m256i c = levels_avx2(x + i + 16, o, v, top, middle), d = levels_avx2(x + i + 24, o, v, top, middle);
        /* The packs work within 128-bit lanes; the permutation puts the 4-byte groups in order. */
        __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(a, b), _mm256_packus_epi32(c, d));
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_permutevar8x32_epi32(bytes, order));
    }
    quantise_u8_scalar(x + i, n - i, offset, inverse, out + i);
}

__attribute__((target("avx2")))
static void quantise_u16_avx2(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
    const __m256 o = _mm256_set1_ps(offset), v = _mm256_set1_ps(inverse), top = _mm256_set1_ps(65535.0f);
    const __m256i middle = _mm256_set1_epi32(32768);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = levels_avx2(x + i, o, v, top, middle), b = levels_avx2(x + i + 8, o, v, top, middle);
        __m256i words = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);  /* x86 is little-endian */
        _mm256_storeu_si256((__m256i *)(out + 2 * i), words);
    }
    quantise_u16_scalar(x + i, n - i, offset, inverse, out + 2 * i);
}
#endif

void xx_quantise_u8(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        quantise_u8_avx2(x, n, offset, inverse, out);
        return;
    }
#endif
    quantise_u8_scalar(x, n, offset, inverse, out);
}

void xx_quantise_u8_scalar(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
    quantise_u8_scalar(x, n, offset, inverse, out);
}

void xx_quantise_u16(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        quantise_u16_avx2(x, n, offset, inverse, out);
        return;
    }
#endif
    quantise_u16_scalar(x, n, offset, inverse, out);
}

void xx_quantise_u16_scalar(const float *x, size_t n, float offset, float inverse, uint8_t *out) {
    quantise_u16_scalar(x, n, offset, inverse, out);
}

/* ---- the quantiser's fit: sums over a window, four lanes by sample index ---- */

static inline void moments_one(float v, double lower, double upper, double shift, size_t lane, xx_moments *m) {
    double d = (double)v;
    if (d >= lower && d <= upper) { /* false for NaN */
        double c = d - shift;
        m->sum[lane] += c;
        m->squares[lane] += c * c;
        m->count[lane] += 1;
    }
}

static void moments_scalar(const float *x, size_t n, double lower, double upper, double shift, size_t phase,
                           xx_moments *m) {
    for (size_t i = 0; i < n; i++) moments_one(x[i], lower, upper, shift, (phase + i) & 3, m);
}

static int any_leaves_scalar(const float *x, size_t n, double lower, double upper, double new_lower,
                             double new_upper) {
    for (size_t i = 0; i < n; i++) {
        double d = (double)x[i];
        if (d >= lower && d <= upper && (d < new_lower || d > new_upper)) return 1;
    }
    return 0;
}

#ifdef XX_HAVE_X86
/* Lane j of each vector holds the samples whose index is j modulo 4, as in the scalar loop; a
 * sample outside the window adds +0.0, which leaves a sum (never -0.0: it starts at +0.0)
 * unchanged. */
__attribute__((target("avx2")))
static void moments_avx2(const float *x, size_t n, double lower, double upper, double shift, size_t phase,
                         xx_moments *m) {
    size_t i = 0;
    for (; i < n && ((phase + i) & 3) != 0; i++) moments_one(x[i], lower, upper, shift, (phase + i) & 3, m);
    __m256d sum = _mm256_loadu_pd(m->sum), squares = _mm256_loadu_pd(m->squares);
    __m256i count = _mm256_loadu_si256((const __m256i *)m->count);
    const __m256d lo = _mm256_set1_pd(lower), hi = _mm256_set1_pd(upper), s = _mm256_set1_pd(shift);
    for (; i + 4 <= n; i += 4) {
        __m256d d = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
        __m256d in = _mm256_and_pd(_mm256_cmp_pd(d, lo, _CMP_GE_OQ), _mm256_cmp_pd(d, hi, _CMP_LE_OQ));
        __m256d c = _mm256_and_pd(_mm256_sub_pd(d, s), in);
        sum = _mm256_add_pd(sum, c);
        squares = _mm256_add_pd(squares, _mm256_mul_pd(c, c));
        count = _mm256_sub_epi64(count, _mm256_castpd_si256(in)); /* the mask is -1 where in */
    }
    _mm256_storeu_pd(m->sum, sum);
    _mm256_storeu_pd(m->squares, squares);
    _mm256_storeu_si256((__m256i *)m->count, count);
    for (; i < n; i++) moments_one(x[i], lower, upper, shift, (phase + i) & 3, m);
}

__attribute__((target("avx2")))
static int any_leaves_avx2(const float *x, size_t n, double lower, double upper, double new_lower,
                           double new_upper) {
    const __m256d lo = _mm256_set1_pd(lower), hi = _mm256_set1_pd(upper);
    const __m256d new_lo = _mm256_set1_pd(new_lower), new_hi = _mm256_set1_pd(new_upper);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), b = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
        __m256d in_a = _mm256_and_pd(_mm256_cmp_pd(a, lo, _CMP_GE_OQ), _mm256_cmp_pd(a, hi, _CMP_LE_OQ));
        __m256d in_b = _mm256_and_pd(_mm256_cmp_pd(b, lo, _CMP_GE_OQ), _mm256_cmp_pd(b, hi, _CMP_LE_OQ));
        __m256d out_a = _mm256_or_pd(_mm256_cmp_pd(a, new_lo, _CMP_LT_OQ), _mm256_cmp_pd(a, new_hi, _CMP_GT_OQ));
        __m256d out_b = _mm256_or_pd(_mm256_cmp_pd(b, new_lo, _CMP_LT_OQ), _mm256_cmp_pd(b, new_hi, _CMP_GT_OQ));
        __m256d left = _mm256_or_pd(_mm256_and_pd(in_a, out_a), _mm256_and_pd(in_b, out_b));
        if (_mm256_movemask_pd(left)) return 1;
    }
    return any_leaves_scalar(x + i, n - i, lower, upper, new_lower, new_upper);
}
#endif

void xx_moments_add(const float *x, size_t n, double lower, double upper, double shift, size_t phase,
                    xx_moments *m) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        moments_avx2(x, n, lower, upper, shift, phase, m);
        return;
    }
#endif
    moments_scalar(x, n, lower, upper, shift, phase, m);
}

void xx_moments_add_scalar(const float *x, size_t n, double lower, double upper, double shift, size_t phase,
                           xx_moments *m) {
    moments_scalar(x, n, lower, upper, shift, phase, m);
}

int xx_any_leaves(const float *x, size_t n, double lower, double upper, double new_lower, double new_upper) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) return any_leaves_avx2(x, n, lower, upper, new_lower, new_upper);
#endif
    return any_leaves_scalar(x, n, lower, upper, new_lower, new_upper);
}

int xx_any_leaves_scalar(const float *x, size_t n, double lower, double upper, double new_lower, double new_upper) {
    return any_leaves_scalar(x, n, lower, upper, new_lower, new_upper);
}
