#include "search_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XX_HAVE_X86 1
#endif

static inline void record(size_t k, float v, size_t first_k, int64_t *cross_k, float *cross_v,
                          size_t capacity, size_t *found) {
    if (k < first_k) return;
    if (*found < capacity) {
        cross_k[*found] = (int64_t)k;
        cross_v[*found] = v;
    }
    (*found)++;
}

static int log2_int(int x) {
    int s = 0;
    while ((1 << s) < x) s++;
    return s;
}

static size_t stage_scalar(const float *powers, const float *prev, size_t prev_base, float *out,
                           size_t k_begin, size_t k_end, int n, float threshold, size_t first_k,
                           int64_t *cross_k, float *cross_v, size_t capacity) {
    const int shift = log2_int(2 * n);
    size_t found = 0;
    for (size_t k = k_begin; k < k_end; k++) {
        float sum = prev[k - prev_base];
        for (int j = 1; j < 2 * n; j += 2) sum += powers[((size_t)j * k + (size_t)n) >> shift];
        if (out) out[k - k_begin] = sum;
        if (sum > threshold) record(k, sum, first_k, cross_k, cross_v, capacity, &found);
    }
    return found;
}

size_t xx_harmonic_stage_scalar(const float *powers, const float *prev, float *out, size_t count,
                                int n, float threshold, size_t first_k, int64_t *cross_k,
                                float *cross_v, size_t capacity) {
    return stage_scalar(powers, prev, 0, out, 0, count, n, threshold, first_k, cross_k, cross_v, capacity);
}

static void powers_scalar(const float *c, float *p, size_t count) {
    for (size_t k = 0; k < count; k++) p[k] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1];
}

double xx_sum(const float *x, size_t count) {
    double total = 0;
    size_t i = 0;
    while (i < count) {
        size_t end = i + 4096 < count ? i + 4096 : count;
        float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (; i + 8 <= end; i += 8)
            for (int l = 0; l < 8; l++) a[l] += x[i + l];
        for (; i < end; i++) a[0] += x[i];
        for (int l = 0; l < 8; l++) total += a[l];
    }
    return total;
}

#ifdef XX_HAVE_X86
/* For a group of 8 consecutive k starting at k0 (a multiple of 8), harmonic j reads
 * powers[idx_j(k0) + d_l] with lane offsets d_l = idx_j(k0 + l) - idx_j(k0) in [0, 7], which
 * depend only on j and on k0 mod max(8, 2n): one unaligned load and one permute per harmonic. */
/* Inlined with a constant n by harmonic_stage_avx2: the harmonic loop unrolls and the shift is an
 * immediate. */
__attribute__((target("avx2"), always_inline))
static inline size_t stage_avx2_body(const float *powers, const float *prev, size_t prev_base, float *out,
                                     size_t k_begin, size_t k_end, const int n, float threshold,
                                     size_t first_k, int64_t *cross_k, float *cross_v, size_t capacity) {
    const int two_n = 2 * n;
    const int shift = log2_int(two_n);
    const int patterns = two_n > 8 ? two_n / 8 : 1;
    /* lane offsets: [pattern][harmonic index][lane] */
    int32_t offsets[4 * 16 * 8];
    if (patterns * n > 64) return stage_scalar(powers, prev, prev_base, out, k_begin, k_end, n, threshold,
                                               first_k, cross_k, cross_v, capacity);
    for (int g = 0; g < patterns; g++) {
        for (int h = 0; h < n; h++) {
            size_t j = (size_t)(2 * h + 1);
            size_t k0 = (size_t)(8 * g);
            size_t base = (j * k0 + (size_t)n) >> shift;
            for (int l = 0; l < 8; l++)
                offsets[(g * n + h) * 8 + l] = (int32_t)(((j * (k0 + l) + (size_t)n) >> shift) - base);
        }
    }
    const __m256 thr = _mm256_set1_ps(threshold);
    size_t found = 0;
    for (size_t k0 = k_begin; k0 < k_end; k0 += 8) {
        int g = (int)((k0 & (size_t)(patterns * 8 - 1)) >> 3); /* patterns * 8 is a power of two */
        __m256 acc = _mm256_loadu_ps(prev + (k0 - prev_base));
        const int32_t *row = offsets + g * n * 8;
        size_t jk = k0 + (size_t)n; /* j * k0 + n for j = 1 */
        for (int h = 0; h < n; h++) {
            __m256i idx = _mm256_loadu_si256((const __m256i *)(row + h * 8));
            __m256 v = _mm256_loadu_ps(powers + (jk >> shift));
            acc = _mm256_add_ps(acc, _mm256_permutevar8x32_ps(v, idx));
            jk += 2 * k0;
        }
        if (out) _mm256_storeu_ps(out + (k0 - k_begin), acc);
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(acc, thr, _CMP_GT_OQ));
        if (mask) {
            float lanes[8];
            _mm256_storeu_ps(lanes, acc);
            for (int l = 0; l < 8; l++)
                if (mask & (1 << l)) record(k0 + l, lanes[l], first_k, cross_k, cross_v, capacity, &found);
        }
    }
    return found;
}

__attribute__((target("avx2")))
static size_t harmonic_stage_avx2(const float *powers, const float *prev, size_t prev_base, float *out,
                                  size_t k_begin, size_t k_end, int n, float threshold, size_t first_k,
                                  int64_t *cross_k, float *cross_v, size_t capacity) {
#define XX_STAGE(N) stage_avx2_body(powers, prev, prev_base, out, k_begin, k_end, N, threshold, first_k, \
                                    cross_k, cross_v, capacity)
    switch (n) {
    case 1: return XX_STAGE(1);
    case 2: return XX_STAGE(2);
    case 4: return XX_STAGE(4);
    case 8: return XX_STAGE(8);
    case 16: return XX_STAGE(16);
    default: return XX_STAGE(n);
    }
#undef XX_STAGE
}

__attribute__((target("avx2")))
static void powers_avx2(const float *c, float *p, size_t count) {
    size_t k = 0;
    for (; k + 8 <= count; k += 8) {
        __m256 a = _mm256_loadu_ps(c + 2 * k);     /* re0 im0 re1 im1 re2 im2 re3 im3 */
        __m256 b = _mm256_loadu_ps(c + 2 * k + 8); /* re4 .. im7 */
        a = _mm256_mul_ps(a, a);
        b = _mm256_mul_ps(b, b);
        /* hadd pairs: (a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7) */
        __m256 s = _mm256_hadd_ps(a, b);
        s = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), 0xD8));
        _mm256_storeu_ps(p + k, s);
    }
    for (; k < count; k++) p[k] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1];
}

static int cpu_has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached;
}

static int cpu_has_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("fma") ? 1 : 0;
    }
    return cached;
}
#endif

size_t xx_harmonic_stage_range(const float *powers, const float *prev, size_t prev_base, float *out,
                               size_t k_begin, size_t k_end, int n, float threshold, size_t first_k,
                               int64_t *cross_k, float *cross_v, size_t capacity) {
#ifdef XX_HAVE_X86
    if (cpu_has_avx2())
        return harmonic_stage_avx2(powers, prev, prev_base, out, k_begin, k_end, n, threshold, first_k,
                                   cross_k, cross_v, capacity);
#endif
    return stage_scalar(powers, prev, prev_base, out, k_begin, k_end, n, threshold, first_k, cross_k,
                        cross_v, capacity);
}

size_t xx_harmonic_stage(const float *powers, const float *prev, float *out, size_t count, int n,
                         float threshold, size_t first_k, int64_t *cross_k, float *cross_v,
                         size_t capacity) {
    return xx_harmonic_stage_range(powers, prev, 0, out, 0, count, n, threshold, first_k, cross_k,
                                   cross_v, capacity);
}

size_t xx_threshold_scan(const float *values, size_t count, float threshold, size_t first_k,
                         int64_t *cross_k, float *cross_v, size_t capacity) {
    size_t found = 0;
    size_t k = first_k;
    /* Blocks of 8 with no crossing are skipped with one branch (vectorised by the compiler). */
    for (; k + 8 <= count; k += 8) {
        int any = 0;
        for (int l = 0; l < 8; l++) any |= values[k + l] > threshold;
        if (!any) continue;
        for (int l = 0; l < 8; l++)
            if (values[k + l] > threshold) record(k + l, values[k + l], first_k, cross_k, cross_v, capacity, &found);
    }
    for (; k < count; k++)
        if (values[k] > threshold) record(k, values[k], first_k, cross_k, cross_v, capacity, &found);
    return found;
}

void xx_powers(const float *c, float *p, size_t count) {
#ifdef XX_HAVE_X86
    if (cpu_has_avx2()) {
        powers_avx2(c, p, count);
        return;
    }
#endif
    powers_scalar(c, p, count);
}

int xx_kernels_use_avx2(void) {
#ifdef XX_HAVE_X86
    return cpu_has_avx2();
#else
    return 0;
#endif
}

int xx_kernels_use_avx2_fma(void) {
#ifdef XX_HAVE_X86
    return cpu_has_avx2() && cpu_has_fma();
#else
    return 0;
#endif
}

/* ---- Fourier interpolation: sum over m in [lo, hi] of X_m / (m - r) ---- */

static void fourier_sum_scalar(const float *x, long lo, long hi, double r, double *re, double *im) {
    double sr = 0, si = 0;
    for (long m = lo; m <= hi; m++) {
        double w = 1.0 / ((double)m - r);
        sr += (double)x[2 * m] * w;
        si += (double)x[2 * m + 1] * w;
    }
    *re = sr;
    *im = si;
}

#ifdef XX_HAVE_X86
/* Four bins at a time: the four weights in one vector division (the scalar loop waits on one
 * division per bin), the interleaved amplitudes split into real and imaginary lanes. */
__attribute__((target("avx2")))
static void fourier_sum_avx2(const float *x, long lo, long hi, double r, double *re, double *im) {
    __m256d acc_re = _mm256_setzero_pd(), acc_im = _mm256_setzero_pd();
    const __m256d one = _mm256_set1_pd(1.0), lanes = _mm256_set_pd(3, 2, 1, 0);
    long m = lo;
    for (; m + 3 <= hi; m += 4) {
        __m256d d = _mm256_sub_pd(_mm256_add_pd(_mm256_set1_pd((double)m), lanes), _mm256_set1_pd(r));
        __m256d w = _mm256_div_pd(one, d);
        __m256 v = _mm256_loadu_ps(x + 2 * m);
        __m128 a = _mm256_castps256_ps128(v), b = _mm256_extractf128_ps(v, 1);
        __m128 reals = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        __m128 imags = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        acc_re = _mm256_add_pd(acc_re, _mm256_mul_pd(_mm256_cvtps_pd(reals), w));
        acc_im = _mm256_add_pd(acc_im, _mm256_mul_pd(_mm256_cvtps_pd(imags), w));
    }
    double sr[4], si[4];
    _mm256_storeu_pd(sr, acc_re);
    _mm256_storeu_pd(si, acc_im);
    double tail_re = 0, tail_im = 0;
    if (m <= hi) fourier_sum_scalar(x, m, hi, r, &tail_re, &tail_im);
    *re = (sr[0] + sr[1]) + (sr[2] + sr[3]) + tail_re;
    *im = (si[0] + si[1]) + (si[2] + si[3]) + tail_im;
}
#endif

void xx_fourier_sum(const float *x, long lo, long hi, double r, double *re, double *im) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        fourier_sum_avx2(x, lo, hi, r, re, im);
        return;
    }
#endif
    fourier_sum_scalar(x, lo, hi, r, re, im);
}

void xx_fourier_sum_scalar(const float *x, long lo, long hi, double r, double *re, double *im) {
    fourier_sum_scalar(x, lo, hi, r, re, im);
}
