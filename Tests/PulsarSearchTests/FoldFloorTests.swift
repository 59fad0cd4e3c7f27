import XunxingSupport
import Foundation
import PulsarSearch
import Testing

/// The fold significance below which the coordinator keeps a reported candidate out of a dataset's
/// merged list: folds of pure noise at random frequencies stay below it, folds of what the search
/// detects above.
@Suite("Fold significance floor")
struct FoldFloorTests {
    static let n = 1 << 17, tsamp = 0.0005

    static func series(seed: UInt64, amplitude: Double) -> ([Float], Double) {
        var rng = SeededGenerator(seed: seed)
        let f = exp(log(0.5) + rng.uniform() * (log(300.0) - log(0.5)))
        let width = 0.02 + 0.1 * rng.uniform()
        let x = (0..<n).map { j -> Float in
            let phase = (Double(j) * tsamp * f).truncatingRemainder(dividingBy: 1)
            return Float(rng.gaussian() + amplitude * exp(-pow((phase - 0.5) / width, 2)))
        }
        return (x, f)
    }

    /// (spectral sigma, fold sigma) of the strongest detection of a pulsar of random period, width and amplitude.
    static func detection(seed: UInt64) -> (Double, Double)? {
        var rng = SeededGenerator(seed: seed &* 7919)
        let (x, _) = series(seed: seed, amplitude: 0.03 + 0.1 * rng.uniform())
        var parameters = SpectralSearchParameters()
        parameters.sigmaThreshold = 2
        let searcher = PeriodicitySearcher(planner: SearchFixtures.planner, parameters: parameters)
        guard let best = x.withUnsafeBufferPointer({ searcher.search(samples: $0, tsamp: tsamp) }).first else { return nil }
        let p = x.withUnsafeBufferPointer { Folder.optimise($0, tsamp: tsamp, frequency: best.frequency) }
        return (best.sigma, p.chiSquareSigma)
    }

    /// The coordinator's default floor (`CoordinatorConfiguration.minFoldSigma`).
    static let floor = 3.0

    @Test("fold sigma floor 3: noise folded at 200 random frequencies reaches it rarely, detections at sigma >= 5 always")
    func quantiles() async {
        let (noise, found) = await onThread { () -> ([Double], [(Double, Double)]) in
            let noise = (0..<200 as Range<UInt64>).map { seed -> Double in
                let (x, f) = Self.series(seed: seed, amplitude: 0)
                return x.withUnsafeBufferPointer { Folder.optimise($0, tsamp: Self.tsamp, frequency: f) }.chiSquareSigma
            }.sorted()
            return (noise, (0..<300).compactMap { Self.detection(seed: 5000 + UInt64($0)) })
        }
        func q(_ v: [Double]) -> String {
            let m = v.count - 1
            return String(format: "n %d min %.1f p1 %.1f p10 %.1f median %.1f p90 %.1f max %.1f", v.count, v[0], v[m / 100], v[m / 10], v[m / 2], v[m * 9 / 10], v[m])
        }
        print("noise: \(q(noise))")
        for lo in [3.0, 4, 5, 6, 8] {
            let v = found.filter { $0.0 >= lo }.map { $0.1 }.sorted()
            if v.count > 5 { print("spectral sigma >= \(lo): \(q(v))") }
        }
        let noiseAbove = noise.filter { $0 >= Self.floor }.count
        print("noise folds at or above the floor: \(noiseAbove) of 200")
        let merged = found.filter { $0.0 >= 5 }
        #expect(noiseAbove <= 20, "\(noiseAbove) of 200 noise folds reach the floor")
        #expect(merged.count >= 50, "only \(merged.count) detections at sigma >= 5: the test lost its power")
        #expect(merged.allSatisfy { $0.1 >= Self.floor }, "\(merged.filter { $0.1 < Self.floor })")
    }
}
