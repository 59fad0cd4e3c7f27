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

    /// Puts the k-th smallest element at index k (Hoare's selection), in place.
    static func quickselect(_ a: UnsafeMutableBufferPointer<Float>, _ k: Int) {
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let pivot = a[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }
}
