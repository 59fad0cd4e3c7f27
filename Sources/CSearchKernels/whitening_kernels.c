#include "search_kernels.h"

#include <string.h>

/* Hoare-partition quickselect with a median-of-three pivot: after it, a[want] holds the value of
 * rank `want`, everything before it is <= and everything after it >=. */
static void select_rank(float *a, size_t n, size_t want) {
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        /* Order a[lo], a[mid], a[hi] so the pivot is their median and the ends are sentinels. */
        if (a[mid] < a[lo]) { float t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { float t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { float t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        if (hi - lo < 3) return;
        float pivot = a[mid];
        size_t i = lo, j = hi;
        for (;;) {
            do i++; while (a[i] < pivot);
            do j--; while (pivot < a[j]);
            if (i >= j) break;
            float t = a[i]; a[i] = a[j]; a[j] = t;
        }
        /* a[lo ... j] <= pivot <= a[j + 1 ... hi]. */
        if (want <= j) hi = j; else lo = j + 1;
    }
}

/* The value of rank `upper` of a[0..n), or the mean of ranks upper - 1 and upper when `both`;
 * reorders a. */
static float middle(float *a, size_t n, size_t upper, int both) {
    select_rank(a, n, upper);
    float m = a[upper];
    if (both) {
        /* The lower middle value is the largest of the values ranked below `upper`. */
        float lower = a[0];
        for (size_t i = 1; i < upper; i++) if (a[i] > lower) lower = a[i];
        m = 0.5f * (m + lower);
    }
    return m;
}

void xx_select_rank(float *a, size_t n, size_t k) {
    if (n > 1 && k < n) select_rank(a, n, k);
}

float xx_median(const float *x, size_t n, float *scratch) {
    const size_t upper = n / 2;
    const int both = n % 2 == 0;
    if (n >= 512) {
        /* Two values that bracket the median, from a sorted sample of 127 spread over the block
         * (ranks 63 -+ 12: the median's rank in the sample has a standard deviation of about 5.6),
         * then one branch-free pass that counts the values below the bracket and keeps those in
         * it (about a fifth); the median is selected among those. Quickselect over the whole block
         * mispredicts a branch for about every other value; this touches each value once without
         * a branch. If the bracket misses the middle ranks, the whole block is selected instead. */
        float sample[127];
        for (size_t i = 0; i < 127; i++) {
            float v = x[(2 * i + 1) * n / 254];
            size_t j = i;
            while (j > 0 && sample[j - 1] > v) { sample[j] = sample[j - 1]; j--; }
            sample[j] = v;
        }
        const float lo = sample[51], hi = sample[75];
        size_t below = 0, kept = 0;
        for (size_t i = 0; i < n; i++) {
            float v = x[i];
            below += v < lo;
            scratch[kept] = v;
            kept += (v >= lo) & (v <= hi);
        }
        if (below + both <= upper && upper < below + kept) return middle(scratch, kept, upper - below, both);
    }
    memcpy(scratch, x, n * sizeof(float));
    return middle(scratch, n, upper, both);
}

void xx_normalize_between(float *p, size_t first, size_t end, float c0, float m0, float c1, float m1) {
    const float ln2 = 0.693147180559945f;
    float width = c1 - c0, dm = m1 - m0;
    for (size_t k = first; k < end; k++) {
        float m = m0 + dm * (((float)k - c0) / width);
        p[k] = m > 0 ? p[k] * (ln2 / m) : 0;
    }
}
