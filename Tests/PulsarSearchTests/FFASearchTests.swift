import Foundation
import Testing
@testable import PulsarSearch

/// The FFA search's statistics on noise and its detections of injected pulsars.
@Suite("FFA search")
struct FFASearchTests {
    static func noise(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(random.gaussian()) }
    }

    static var shortOptions: FFAOptions {
        var o = FFAOptions()
        o.periodMax = 8
        return o
    }

    @Test("explore")
    func explore() {
        var ps: [Double] = []
        for seed in 0..<100 {
            var series = Self.noise(1 << 15, seed: UInt64(seed) + 1000)
            let pg = series.withUnsafeMutableBufferPointer { s in
                FFASearch.normalise(s, sampleTime: 0.001, detrendSeconds: 4)
                return FFAPeriodogram.compute(UnsafeBufferPointer(s), sampleTime: 0.001, options: Self.shortOptions)
            }
            let top = Double(pg.snr.max()!)
            let logp = Significance.trialCorrected(logProbability: Significance.logGaussianTail(top), trials: pg.trials)
            ps.append(exp(logp))
            if seed == 0 {
                print("periods", pg.periods.count, "trials", pg.trials, "top", top)
                let t0 = Date()
                _ = series.withUnsafeBufferPointer { FFAPeriodogram.compute($0, sampleTime: 0.001, options: Self.shortOptions) }
                print("one periodogram", Date().timeIntervalSince(t0))
            }
        }
        var series = Self.noise(1 << 15, seed: 7)
        series.withUnsafeMutableBufferPointer { s in FFASearch.normalise(s, sampleTime: 0.001, detrendSeconds: 4) }
        let m = series.reduce(0, +) / Float(series.count)
        let v = series.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(series.count)
        print("normalised mean", m, "var", v)
        var out = [Float](repeating: 0, count: series.count)
        let (n, variance) = series.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { Resampling.downsample(s, by: 2.37, into: $0) } }
        let ov = out[0..<n].reduce(0) { $0 + $1 * $1 } / Float(n)
        print("resampled var", ov, "predicted", variance)
        let rows = n / 250
        let folded = FFAKernelTests.transform(Array(out[0..<(rows * 250)]), rows: rows, bins: 250)
        let fv = folded.reduce(0) { $0 + $1 * $1 } / Float(folded.count)
        print("fold var", fv, "predicted", Double(rows) * variance)
        ps.sort()
        print("p quantiles", ps[10], ps[25], ps[50], ps[75], ps[90])
    }
}
