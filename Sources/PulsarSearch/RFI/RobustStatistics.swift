import CSearchKernels
import Foundation

/// Medians and median-absolute-deviation sigmas: statistics that a minority of interference does
/// not move.
enum Robust {
    /// The median of `values` (0 for none); reorders a copy.
    static func median(_ values: some Collection<Float>) -> Float {
        guard !values.isEmpty else { return 0 }
        var v = Array(values)
        let m = v.count / 2
        v.withUnsafeMutableBufferPointer { quickselect($0, m) }
        if v.count % 2 == 1 { return v[m] }
        let upper = v[m]
        let lower = v[..<m].max()!
        return 0.5 * (lower + upper)
    }

    /// 1.4826 x the median absolute deviation from `centre`: a Gaussian's sigma.
    static func sigma(_ values: some Collection<Float>, centre: Float) -> Float {
        1.4826 * median(values.map { abs($0 - centre) })
    }

    /// The k-th smallest of `values` (0-based): the element ``quickselect(_:_:)`` puts at `k`, in
    /// a few linear passes that leave `values` as they are. A histogram of 2048 bins between the
    /// least and the greatest value finds the bin that holds it (the binning is monotonic, so every
    /// bin below holds only smaller values and every bin above only larger), then only that bin's
    /// values, copied into `scratch` (room for `values.count`), are selected among. Several times
    /// faster than selecting in place on noise; values with a NaN are selected in place in `scratch`.
    static func select(_ values: UnsafeBufferPointer<Float>, _ k: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        let n = values.count
        precondition(k >= 0 && k < n)
        var lo = values[0], hi = values[0], nan = false
        for v in values {
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
            nan = nan || v.isNaN
        }
        if lo == hi && !nan { return lo }
        let scale = Float(2048) / (hi - lo)
        guard !nan, scale.isFinite, scale > 0 else {
            scratch.update(from: values.baseAddress!, count: n)
            quickselect(UnsafeMutableBufferPointer(start: scratch, count: n), k)
            return scratch[k]
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2048) { counts -> Float in
            counts.initialize(repeating: 0)
            @inline(__always) func bin(_ v: Float) -> Int { Swift.min(2047, Int((v - lo) * scale)) }
            for v in values { counts[bin(v)] += 1 }
            var below = 0, b = 0
            while below + counts[b] <= k { below += counts[b]; b += 1 }
            var c = 0
            for v in values where bin(v) == b { scratch[c] = v; c += 1 }
            quickselect(UnsafeMutableBufferPointer(start: scratch, count: c), k - below)
            return scratch[k - below]
        }
    }

    /// Puts the k-th smallest element at index k, the smaller ones before it and the larger after
    /// it, in place: `xx_select_rank`, the selection the spectrum whitener's medians use too.
    static func quickselect(_ a: UnsafeMutableBufferPointer<Float>, _ k: Int) {
        guard let base = a.baseAddress, k >= 0 else { return }
        xx_select_rank(base, a.count, k)
    }
}
