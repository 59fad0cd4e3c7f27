import Foundation
import Testing
@testable import PulsarSearch

/// The FFA's kernels against brute force on random, unequal inputs.
@Suite("FFA kernels")
struct FFAKernelTests {
    /// The transform of `input` (`rows x bins`).
    static func transform(_ input: [Float], rows: Int, bins: Int) -> [Float] {
        var output = [Float](repeating: .nan, count: rows * bins)
        var scratch = [Float](repeating: .nan, count: rows * bins)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    FFATransform.transform(i.baseAddress!, rows: rows, bins: bins, into: o.baseAddress!, scratch: s.baseAddress!)
                }
            }
        }
        return output
    }

    @Test("each output row is every input row turned by a drift on the straight line from 0 to s, summed",
          arguments: [(2, 9), (3, 11), (5, 16), (7, 12), (8, 25), (13, 40), (16, 33), (31, 50), (40, 24)])
    func transformIsTheSumOfDriftedRows(rows: Int, bins: Int) {
        var random = SeededGenerator(seed: UInt64(rows * 1000 + bins))
        let input = (0..<(rows * bins)).map { _ in Float(random.gaussian() * 3 + random.uniform()) }
        let output = Self.transform(input, rows: rows, bins: bins)
        // Each row's drift in each output row, read from the transform of that row alone (a one in
        // its bin 0): a transform that mixed, lost or doubled rows shows here as a row without
        // exactly one 1.
        var drift = [[Int]](repeating: [Int](repeating: 0, count: rows), count: rows)
        for i in 0..<rows {
            var impulse = [Float](repeating: 0, count: rows * bins)
            impulse[i * bins] = 1
            let response = Self.transform(impulse, rows: rows, bins: bins)
            for s in 0..<rows {
                let row = response[(s * bins)..<((s + 1) * bins)]
                #expect(row.filter { $0 != 0 }.count == 1 && row.contains(1), "row \(i) in output row \(s)")
                let at = row.firstIndex(of: 1).map { $0 - s * bins } ?? 0
                drift[s][i] = (bins - at) % bins
            }
        }
        let tolerance = log2(Double(rows)) / 2 + 0.5
        for s in 0..<rows {
            #expect(drift[s][0] == 0)
            #expect(drift[s][rows - 1] == s % bins, "the last row of output row \(s) lands at \(drift[s][rows - 1])")
            for i in 0..<rows {
                let ideal = Double(i * s) / Double(rows - 1)
                var off = abs(Double(drift[s][i]) - ideal).truncatingRemainder(dividingBy: Double(bins))
                off = min(off, Double(bins) - off)
                #expect(off <= tolerance, "row \(i) of output row \(s): drift \(drift[s][i]) against \(ideal)")
            }
            // Brute force with those drifts, on the random input.
            for j in 0..<bins {
                var sum: Double = 0
                for i in 0..<rows { sum += Double(input[i * bins + (j + drift[s][i]) % bins]) }
                #expect(abs(Double(output[s * bins + j]) - sum) < 1e-3 * Double(rows), "output row \(s), bin \(j)")
            }
        }
    }

    @Test("a pulse of a period between bins and bins + 1 samples lines up in the row of its drift")
    func periodicPulseLinesUp() {
        let rows = 64, bins = 50
        for s in [0, 9, 31, 63] {
            let period = Double(bins) + Double(s) / Double(rows - 1)
            var input = [Float](repeating: 0, count: rows * bins)
            var t = 3.0
            while Int(t.rounded()) < input.count { input[Int(t.rounded())] = 1; t += period }
            let output = Self.transform(input, rows: rows, bins: bins)
            // The most pulses two neighbouring bins of output row r hold.
            func peak(_ r: Int) -> Float {
                (0..<bins).map { output[r * bins + $0] + output[r * bins + ($0 + 1) % bins] }.max()!
            }
            #expect(peak(s) >= 0.85 * Float(rows), "drift \(s): the fold's peak holds \(peak(s)) of \(rows) pulses")
            for r in [s - 4, s + 4] where r >= 0 && r < rows {
                #expect(peak(r) < 0.75 * peak(s), "drift \(s): row \(r) holds \(peak(r))")
            }
        }
    }

    @Test("resampling by a fractional factor integrates the series over each window", arguments: [1.0, 1.37, 2.0, 3.71, 16.2])
    func resamplingIntegrates(factor: Double) {
        var random = SeededGenerator(seed: UInt64(factor * 100))
        let n = 300
        let series = (0..<n).map { _ in Float(random.gaussian() + 2 * random.uniform()) }
        var output = [Float](repeating: 0, count: n)
        let (count, variance) = series.withUnsafeBufferPointer { s in
            output.withUnsafeMutableBufferPointer { Resampling.downsample(s, by: factor, into: $0) }
        }
        #expect(count == Int(Double(n) / factor))
        var squares = 0.0
        for k in 0..<count {
            let a = Double(k) * factor, b = Double(k + 1) * factor
            var sum = 0.0
            for i in 0..<n {
                let overlap = max(0, min(b, Double(i + 1)) - max(a, Double(i)))
                sum += overlap * Double(series[i])
                squares += overlap * overlap
            }
            #expect(abs(Double(output[k]) - sum) < 1e-3 * factor, "window \(k): \(output[k]) against \(sum)")
        }
        #expect(abs(variance - squares / Double(count)) < 1e-9)
    }

    @Test("the boxcar S/N is the best correlation with a zero-mean, unit-norm boxcar template")
    func boxcarMatchEqualsTemplateCorrelation() {
        var random = SeededGenerator(seed: 99)
        for trial in 0..<30 {
            let bins = 20 + trial * 7
            let profile = (0..<bins).map { _ in Float(random.gaussian() * (1 + random.uniform())) }
            let widths = FFAOptions().widths(bins: bins)
            let noise = Float(0.5 + random.uniform())
            var prefix = [Float](repeating: 0, count: bins + widths.last! + BoxcarMatch.lanes + 1)
            let (snr, width) = profile.withUnsafeBufferPointer { p in
                prefix.withUnsafeMutableBufferPointer { BoxcarMatch.best(p.baseAddress!, bins: bins, widths: widths.map { Int32($0) }, noise: noise, prefix: $0.baseAddress!) }
            }
            var best = -Double.infinity, bestWidth = 0
            for w in widths where w < bins {
                let on = ((Double(bins - w)) / Double(bins * w)).squareRoot()
                let off = Double(w) / Double(bins - w) * on
                for start in 0..<bins {
                    var c = 0.0
                    for j in 0..<bins {
                        let inside = (j - start + bins) % bins < w
                        c += (inside ? on : -off) * Double(profile[j])
                    }
                    if c / Double(noise) > best { best = c / Double(noise); bestWidth = w }
                }
            }
            #expect(abs(Double(snr) - best) < 1e-3 * max(1, abs(best)), "bins \(bins): \(snr) against \(best)")
            #expect(width == bestWidth)
        }
    }

    @Test("the running median follows a slow baseline and leaves narrow pulses whole")
    func runningMedianKeepsPulses() {
        let n = 40_000, window = 4000
        var random = SeededGenerator(seed: 5)
        var series = [Float](repeating: 0, count: n)
        var baseline = [Float](repeating: 0, count: n)
        for i in 0..<n {
            baseline[i] = Float(5 * sin(Double(i) / 9000) + (i > 20_000 ? 3 : 0) + Double(i) * 1e-4)
            series[i] = baseline[i] + Float(0.1 * random.gaussian())
        }
        // Pulses 20 samples wide every 200 samples, 10 high: a running mean would rise by 1 under them.
        for start in stride(from: 100, to: n - 20, by: 200) { for i in start..<(start + 20) { series[i] += 10 } }
        series.withUnsafeMutableBufferPointer { RunningMedian.subtract(from: $0, window: window) }
        var pulse: [Float] = [], between: [Float] = []
        for start in stride(from: 100, to: n - 220, by: 200) {
            pulse.append(series[(start + 5)..<(start + 15)].reduce(0, +) / 10)
            // Away from the step, where any running filter smooths the corner, and from the ends,
            // where the window is one-sided and follows the slope late.
            let centre = start + 100
            if abs(centre - 20_000) > window, centre > window / 2, centre < n - window / 2 { between.append(series[(start + 95)..<(start + 105)].reduce(0, +) / 10) }
        }
        let meanPulse = pulse.reduce(0, +) / Float(pulse.count)
        #expect(abs(meanPulse - 10) < 0.3, "pulses keep their height: \(meanPulse)")
        #expect(between.map { abs($0) }.max()! < 0.3, "the baseline is gone: \(between.map { abs($0) }.max()!)")
    }
}
