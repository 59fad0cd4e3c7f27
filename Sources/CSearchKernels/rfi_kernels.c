#include "search_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XX_HAVE_X86 1
#include "transpose8.h"
#endif

#define G XX_RFI_GROUP

#ifdef XX_HAVE_X86
__attribute__((target("avx2")))
static inline float hsum256(__m256 a) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}
#endif

/* ---- the mask pass: one chunk of spectra into a block's running sums ---- */

/* Channels [c0, c1) of the chunk, one at a time. */
static void accumulate_channels_scalar(const float *x, size_t rows, size_t nch, size_t c0, size_t c1,
                                       const float *shift, const float *weight, float *sum, float *sumsq, float *dec,
                                       size_t first_row, size_t decimation, size_t dec_rows, float *common) {
    for (size_t c = c0; c < c1; c++) {
        float s = 0, q = 0;
        size_t groups = (nch + G - 1) / G;
        for (size_t t = 0; t < rows; t++) {
            float v = x[t * nch + c] - shift[c];
            s += v;
            q += v * v;
            common[t] += v * weight[c];
            size_t j = (first_row + t) / decimation;
            if (dec && j < dec_rows) dec[xx_rfi_dec_index(c, j, groups)] += v;
        }
        sum[c] += s;
        sumsq[c] += q;
    }
}

static void rfi_accumulate_scalar(const float *x, size_t rows, size_t nch, const float *shift, const float *weight,
                                  float *sum, float *sumsq, float *dec, size_t first_row, size_t decimation,
                                  size_t dec_rows, float *common) {
    for (size_t t = 0; t < rows; t++) common[t] = 0;
    accumulate_channels_scalar(x, rows, nch, 0, nch, shift, weight, sum, sumsq, dec, first_row, decimation, dec_rows,
                               common);
}

#ifdef XX_HAVE_X86
/* `n` (1 or 4) spectra that fall in one decimated row, all channels at once: the channel sums,
 * sums of squares and decimated row updated once for the n, each spectrum's weighted sum in a
 * register across the channels. */
__attribute__((target("avx2,fma")))
static inline void accumulate_rows_avx2(const float *x, size_t n, size_t nch, const float *shift, const float *weight,
                                        float *sum, float *sumsq, float *row_dec, size_t stride, float *common) {
    size_t vec = nch & ~(size_t)7, c;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    if (n == 4) {
        for (c = 0; c < vec; c += 8) {
            __m256 sh = _mm256_loadu_ps(shift + c), w = _mm256_loadu_ps(weight + c);
            __m256 v0 = _mm256_sub_ps(_mm256_loadu_ps(x + c), sh);
            __m256 v1 = _mm256_sub_ps(_mm256_loadu_ps(x + nch + c), sh);
            __m256 v2 = _mm256_sub_ps(_mm256_loadu_ps(x + 2 * nch + c), sh);
            __m256 v3 = _mm256_sub_ps(_mm256_loadu_ps(x + 3 * nch + c), sh);
            __m256 q = _mm256_fmadd_ps(v0, v0, _mm256_loadu_ps(sumsq + c));
            q = _mm256_fmadd_ps(v1, v1, q);
            q = _mm256_fmadd_ps(v2, v2, q);
            _mm256_storeu_ps(sumsq + c, _mm256_fmadd_ps(v3, v3, q));
            __m256 d = _mm256_add_ps(_mm256_add_ps(v0, v1), _mm256_add_ps(v2, v3));
            _mm256_storeu_ps(sum + c, _mm256_add_ps(_mm256_loadu_ps(sum + c), d));
            if (row_dec) {
                float *o = row_dec + (c / G) * stride + c % G;
                _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), d));
            }
            a0 = _mm256_fmadd_ps(v0, w, a0);
            a1 = _mm256_fmadd_ps(v1, w, a1);
            a2 = _mm256_fmadd_ps(v2, w, a2);
            a3 = _mm256_fmadd_ps(v3, w, a3);
        }
        common[0] = hsum256(a0);
        common[1] = hsum256(a1);
        common[2] = hsum256(a2);
        common[3] = hsum256(a3);
    } else {
        for (c = 0; c < vec; c += 8) {
            __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(shift + c));
            _mm256_storeu_ps(sumsq + c, _mm256_fmadd_ps(v, v, _mm256_loadu_ps(sumsq + c)));
            _mm256_storeu_ps(sum + c, _mm256_add_ps(_mm256_loadu_ps(sum + c), v));
            if (row_dec) {
                float *o = row_dec + (c / G) * stride + c % G;
                _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), v));
            }
            a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(weight + c), a0);
        }
        common[0] = hsum256(a0);
    }
    for (size_t k = 0; k < n; k++)
        for (c = vec; c < nch; c++) {
            float v = x[k * nch + c] - shift[c];
            sum[c] += v;
            sumsq[c] += v * v;
            common[k] += v * weight[c];
            if (row_dec) row_dec[(c / G) * stride + c % G] += v;
        }
}

__attribute__((target("avx2,fma")))
static void rfi_accumulate_avx2(const float *x, size_t rows, size_t nch, const float *shift, const float *weight,
                                float *sum, float *sumsq, float *dec, size_t first_row, size_t decimation,
                                size_t dec_rows, float *common) {
    size_t groups = (nch + G - 1) / G, stride = G * XX_RFI_TILE;
    for (size_t t = 0; t < rows;) {
        size_t r = first_row + t, j = r / decimation;
        size_t n = (decimation % 4 == 0 && r % 4 == 0 && t + 4 <= rows) ? 4 : 1;
        float *row_dec = (dec != NULL && j < dec_rows) ? dec + xx_rfi_dec_index(0, j, groups) : NULL;
        accumulate_rows_avx2(x + t * nch, n, nch, shift, weight, sum, sumsq, row_dec, stride, common + t);
        t += n;
    }
}
#endif

void xx_rfi_accumulate(const float *x, size_t rows, size_t nch, const float *shift, const float *weight, float *sum,
                       float *sumsq, float *dec, size_t first_row, size_t decimation, size_t dec_rows, float *common) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2_fma()) {
        rfi_accumulate_avx2(x, rows, nch, shift, weight, sum, sumsq, dec, first_row, decimation, dec_rows, common);
        return;
    }
#endif
    rfi_accumulate_scalar(x, rows, nch, shift, weight, sum, sumsq, dec, first_row, decimation, dec_rows, common);
}

void xx_rfi_accumulate_scalar(const float *x, size_t rows, size_t nch, const float *shift, const float *weight,
                              float *sum, float *sumsq, float *dec, size_t first_row, size_t decimation,
                              size_t dec_rows, float *common) {
    rfi_accumulate_scalar(x, rows, nch, shift, weight, sum, sumsq, dec, first_row, decimation, dec_rows, common);
}

/* ---- a chunk's noise level ---- */

static void chunk_level_scalar(const float *p, size_t n, float clip, float *mean, float *kept_count, float *peak) {
    float total = 0, top = 0;
    for (size_t i = 0; i < n; i++) {
        total += p[i];
        top = p[i] > top ? p[i] : top;
    }
    float limit = clip * total / (float)n, kept = 0, count = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] <= limit) {
            kept += p[i];
            count += 1;
        }
    *mean = kept;
    *kept_count = count;
    *peak = top;
}

#ifdef XX_HAVE_X86

__attribute__((target("avx2")))
static void chunk_level_avx2(const float *p, size_t n, float clip, float *mean, float *kept_count, float *peak) {
    size_t vec = n & ~(size_t)7, i;
    __m256 total = _mm256_setzero_ps(), top = total;
    for (i = 0; i < vec; i += 8) {
        __m256 v = _mm256_loadu_ps(p + i);
        total = _mm256_add_ps(total, v);
        top = _mm256_max_ps(top, v);
    }
    float t = hsum256(total);
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(top), _mm256_extractf128_ps(top, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    float best = _mm_cvtss_f32(m);
    for (; i < n; i++) {
        t += p[i];
        best = p[i] > best ? p[i] : best;
    }
    float limit = clip * t / (float)n;
    __m256 lim = _mm256_set1_ps(limit), one = _mm256_set1_ps(1), kept = _mm256_setzero_ps(), count = kept;
    for (i = 0; i < vec; i += 8) {
        __m256 v = _mm256_loadu_ps(p + i);
        __m256 keep = _mm256_cmp_ps(v, lim, _CMP_LE_OQ);
        kept = _mm256_add_ps(kept, _mm256_and_ps(keep, v));
        count = _mm256_add_ps(count, _mm256_and_ps(keep, one));
    }
    float k = hsum256(kept), c = hsum256(count);
    for (; i < n; i++)
        if (p[i] <= limit) {
            k += p[i];
            c += 1;
        }
    *mean = k;
    *kept_count = c;
    *peak = best;
}
#endif

void xx_chunk_level(const float *p, size_t n, float clip, float *kept_sum, float *kept_count, float *peak) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        chunk_level_avx2(p, n, clip, kept_sum, kept_count, peak);
        return;
    }
#endif
    chunk_level_scalar(p, n, clip, kept_sum, kept_count, peak);
}

/* ---- the decimated series: the common mode, then each channel's series ---- */

static void rfi_weighted_rows_scalar(const float *dec, size_t groups, size_t dec_rows, const float *weight,
                                     float *out) {
    for (size_t j = 0; j < dec_rows; j++) {
        float acc = 0;
        for (size_t c = 0; c < groups * G; c++) acc += dec[xx_rfi_dec_index(c, j, groups)] * weight[c];
        out[j] = acc;
    }
}

#ifdef XX_HAVE_X86
/* Tile by tile (8 decimated rows of every group lie together), a row's lanes in registers. */
__attribute__((target("avx2,fma")))
static void rfi_weighted_rows_avx2(const float *dec, size_t groups, size_t dec_rows, const float *weight,
                                   float *out) {
    for (size_t j0 = 0; j0 < dec_rows; j0 += XX_RFI_TILE) {
        __m256 acc[XX_RFI_TILE];
        for (int k = 0; k < XX_RFI_TILE; k++) acc[k] = _mm256_setzero_ps();
        const float *tile = dec + xx_rfi_dec_index(0, j0, groups);
        for (size_t g = 0; g < groups; g++) {
            __m256 w0 = _mm256_loadu_ps(weight + g * G), w1 = _mm256_loadu_ps(weight + g * G + 8);
            const float *block = tile + g * G * XX_RFI_TILE;
            for (int k = 0; k < XX_RFI_TILE; k++)
                acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(block + k * G + 8), w1,
                                         _mm256_fmadd_ps(_mm256_loadu_ps(block + k * G), w0, acc[k]));
        }
        for (int k = 0; k < XX_RFI_TILE; k++) out[j0 + k] = hsum256(acc[k]);
    }
}
#endif

void xx_rfi_weighted_rows(const float *dec, size_t groups, size_t dec_rows, const float *weight, float *out) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2_fma()) {
        rfi_weighted_rows_avx2(dec, groups, dec_rows, weight, out);
        return;
    }
#endif
    rfi_weighted_rows_scalar(dec, groups, dec_rows, weight, out);
}

static void rfi_series_scalar(float *dec, size_t groups, size_t g, size_t dec_rows, size_t width,
                              const float *kept, const float *common, const float *level, const float *scale,
                              float *const *out) {
    for (size_t j = 0; j < dec_rows; j++) {
        float *row = dec + xx_rfi_dec_index(g * G, j, groups);
        float k = kept[j], c = common[j];
        for (size_t i = 0; i < width; i++) out[i][j] = row[i] - k * level[i] - c * scale[i];
        for (size_t i = 0; i < G; i++) row[i] = 0;
    }
}

#ifdef XX_HAVE_X86
/* Eight rows of eight channels at a time, transposed in registers. */
__attribute__((target("avx2")))
static void rfi_series_avx2(float *dec, size_t groups, size_t g, size_t dec_rows, size_t width,
                            const float *kept, const float *common, const float *level, const float *scale,
                            float *const *out) {
    size_t rows8 = dec_rows & ~(size_t)7;
    for (size_t h = 0; h < 2 && h * 8 < width; h++) {
        size_t lanes = width - h * 8 < 8 ? width - h * 8 : 8;
        __m256 lv = _mm256_loadu_ps(level + h * 8), sv = _mm256_loadu_ps(scale + h * 8);
        for (size_t j = 0; j < rows8; j += 8) {
            __m256 r[8];
            for (int k = 0; k < 8; k++) {
                __m256 v = _mm256_loadu_ps(dec + xx_rfi_dec_index(g * G + h * 8, j + k, groups));
                v = _mm256_sub_ps(v, _mm256_mul_ps(_mm256_set1_ps(kept[j + k]), lv));
                r[k] = _mm256_sub_ps(v, _mm256_mul_ps(_mm256_set1_ps(common[j + k]), sv));
            }
            xx_transpose8(r);
            for (size_t i = 0; i < lanes; i++) _mm256_storeu_ps(out[h * 8 + i] + j, r[i]);
        }
    }
    for (size_t j = 0; j < rows8; j += XX_RFI_TILE) {
        float *tile = dec + xx_rfi_dec_index(g * G, j, groups);
        for (int k = 0; k < XX_RFI_TILE * G; k += 8) _mm256_storeu_ps(tile + k, _mm256_setzero_ps());
    }
    for (size_t j = rows8; j < dec_rows; j++) /* none: dec_rows is a multiple of XX_RFI_TILE */
        for (size_t i = 0; i < G; i++) {
            float *v = dec + xx_rfi_dec_index(g * G + i, j, groups);
            if (i < width) out[i][j] = *v - kept[j] * level[i] - common[j] * scale[i];
            *v = 0;
        }
}
#endif

void xx_rfi_series(float *dec, size_t groups, size_t g, size_t dec_rows, size_t width, const float *kept,
                   const float *common, const float *level, const float *scale, float *const *out) {
#ifdef XX_HAVE_X86
    if (xx_kernels_use_avx2()) {
        rfi_series_avx2(dec, groups, g, dec_rows, width, kept, common, level, scale, out);
        return;
    }
#endif
    rfi_series_scalar(dec, groups, g, dec_rows, width, kept, common, level, scale, out);
}

/* ---- memory for large scratch arrays ---- */

#include <stdlib.h>
#include <sys/mman.h>

float *xx_alloc_floats_huge(size_t count) {
    size_t bytes = count * sizeof(float), huge = (size_t)2 << 20;
    if (bytes < huge) return malloc(bytes ? bytes : sizeof(float));
    bytes = (bytes + huge - 1) / huge * huge;
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

void xx_free_floats(float *p) { free(p); }
