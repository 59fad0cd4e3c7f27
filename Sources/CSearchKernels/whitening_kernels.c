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

float xx_median(const float *x, size_t n, float *scratch) {
    memcpy(scratch, x, n * sizeof(float));
    size_t upper = n / 2;
    select_rank(scratch, n, upper);
    float m = scratch[upper];
    if (n % 2 == 0) {
        /* The lower middle value is the largest of the values ranked below `upper`. */
        float lower = scratch[0];
        for (size_t i = 1; i < upper; i++) if (scratch[i] > lower) lower = scratch[i];
        m = 0.5f * (m + lower);
    }
    return m;
}

void xx_normalize_between(float *p, size_t first, size_t end, float c0, float m0, float c1, float m1) {
    const float ln2 = 0.693147180559945f;
    float width = c1 - c0, dm = m1 - m0;
    for (size_t k = first; k < end; k++) {
        float m = m0 + dm * (((float)k - c0) / width);
        p[k] = m > 0 ? p[k] * (ln2 / m) : 0;
    }
}
