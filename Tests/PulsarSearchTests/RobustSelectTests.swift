import Foundation
@testable import PulsarSearch
import Testing

/// The histogram selection the single-pulse normalisation uses, against sorting.
@Suite("Robust.select: the k-th smallest in linear passes")
struct RobustSelectTests {
    static func check(_ values: [Float], _ k: Int) -> (got: Float, want: Float) {
        var scratch = [Float](repeating: .nan, count: values.count)
        let got = values.withUnsafeBufferPointer { v in scratch.withUnsafeMutableBufferPointer { Robust.select(v, k, scratch: $0.baseAddress!) } }
        return (got, values.sorted()[k])
    }

    @Test("equals the sorted array's k-th on random data: Gaussian, heavy-tailed, few distinct values, one huge outlier, a constant; at every kind of k", arguments: 0..<6)
    func againstSorting(kind: Int) {
        var rng = SeededGenerator(seed: UInt64(10 + kind))
        for trial in 0..<40 {
            let n = 1 + Int(rng.uniform() * 5000)
            let values: [Float] = (0..<n).map { _ in
                switch kind {
                case 0: return Float(rng.gaussian())
                case 1: return Float(rng.gaussian() / max(1e-3, rng.uniform()))  // Cauchy-like tails
                case 2: return Float(Int(rng.uniform() * 4))  // many ties across few bins
                case 3: return rng.uniform() < 0.001 ? 3e38 : Float(rng.gaussian())
                case 4: return 7.25
                default: return Float(rng.uniform() * 1e-30) - 1e-30  // tiny range
                }
            }
            for k in Set([0, n - 1, n / 2, Int(rng.uniform() * Double(n)) % n]) {
                let (got, want) = Self.check(values, k)
                #expect(got == want, "kind \(kind) trial \(trial) n \(n) k \(k): \(got) vs \(want)")
            }
        }
    }

    @Test("the input is left as it was; a NaN falls back to selecting in place as quickselect does; the range -3e38...3e38 works")
    func inputsAndFallbacks() {
        let values: [Float] = [5, -1, 3, 3, 9, 0, 2]
        let before = values
        _ = Self.check(values, 3)
        #expect(values == before)
        let wide: [Float] = [3e38, -3e38, 0, 1, -1]
        #expect(Self.check(wide, 2).got == 0 && Self.check(wide, 0).got == -3e38 && Self.check(wide, 4).got == 3e38)
        var withNaN = values
        withNaN[2] = .nan
        var copy = withNaN
        copy.withUnsafeMutableBufferPointer { Robust.quickselect($0, 3) }
        let (got, _) = Self.check(withNaN, 3)
        #expect(got == copy[3] || (got.isNaN && copy[3].isNaN))
    }
}
