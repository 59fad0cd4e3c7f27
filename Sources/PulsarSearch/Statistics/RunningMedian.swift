/// A running median for subtracting slow baseline wander (red noise, gain drifts) from a long
/// series without touching narrow pulses: computed on a copy reduced to the medians of short
/// blocks, so that the window holds `points` of them, then interpolated back linearly. Pulses
/// narrower than half a block move neither the block medians nor the median of those, where a
/// running mean (or block means, as riptide takes) would rise under a train of pulses.
public enum RunningMedian {
    /// Subtracts from `series` its running median over `window` samples (centred, shorter at the
    /// ends), estimated on `points` block medians per window.
    public static func subtract(from series: UnsafeMutableBufferPointer<Float>, window: Int, points: Int = 101) {
        let n = series.count
        guard n > 1 else { return }
        let scrunch = max(1, min(n, window / max(1, points)))
        let coarseCount = (n + scrunch - 1) / scrunch
        var coarse = [Float](repeating: 0, count: coarseCount)
        let half = max(0, min(coarseCount, window / scrunch) / 2)
        var medians = [Float](repeating: 0, count: coarseCount)
        var windowed = [Float](repeating: 0, count: max(scrunch, 2 * half + 1))
        windowed.withUnsafeMutableBufferPointer { buffer in
            for k in 0..<coarseCount {
                // A block's median from at most about 64 of its samples, evenly spread.
                let lo = k * scrunch, hi = min(n, lo + scrunch)
                let step = max(1, (hi - lo) / 64)
                var count = 0
                for i in stride(from: lo, to: hi, by: step) { buffer[count] = series[i]; count += 1 }
                let part = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
                Robust.quickselect(part, count / 2)
                coarse[k] = part[count / 2]
            }
            for k in 0..<coarseCount {
                let lo = max(0, k - half), hi = min(coarseCount, k + half + 1)
                for i in lo..<hi { buffer[i - lo] = coarse[i] }
                let count = hi - lo
                let part = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
                Robust.quickselect(part, count / 2)
                medians[k] = part[count / 2]
            }
        }
        // Linear interpolation between the centres of the blocks (constant before the first and
        // after the last centre).
        let centre = { (k: Int) -> Int in k * scrunch + (min(n, (k + 1) * scrunch) - k * scrunch) / 2 }
        let base = series.baseAddress!
        var i = 0
        let first = centre(0)
        while i < min(n, first + 1) { base[i] -= medians[0]; i += 1 }
        for k in 0..<(coarseCount - 1) {
            let a = centre(k), b = centre(k + 1)
            let level = medians[k], slope = (medians[k + 1] - medians[k]) / Float(b - a)
            while i <= b && i < n { base[i] -= level + slope * Float(i - a); i += 1 }
        }
        while i < n { base[i] -= medians[coarseCount - 1]; i += 1 }
    }
}
