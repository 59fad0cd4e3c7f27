import CSearchKernels
import Foundation
import PulsarSearch
import Testing
@testable import XunxingProtocol

/// The payload encoder's C kernels against the rule written out in Swift, sample by sample.
@Suite("Payload quantisation kernels")
struct QuantiserKernelTests {
    /// The stored level by the documented rule, with Swift's own rounding (half away from zero).
    static func reference(_ x: Float, offset: Float, inverse: Float, bits: Int) -> Int {
        let top = Float((1 << bits) - 1)
        let q = ((x - offset) * inverse).rounded()
        if q.isNaN { return Int((0.5 * top).rounded()) }
        return Int(min(top, max(0, q)))
    }

    /// Values where a rounding or clamping mistake shows: exact halves, the float just below 0.5
    /// (which rounds up to 1 when 0.5 is added in float), both ends, signed zeros, infinities, NaN.
    static let edges: [Float] = [
        0, -0.0, 0.5, -0.5, 0.49999997, -0.49999997, 0.50000006, 1.5, 2.5, 127.5, 128.5, 254.5, 254.49998,
        255, 255.49998, 255.5, 256, 1e-30, -1e-30, 65534.5, 65535, 65535.5, 70_000, -3,
        .infinity, -.infinity, .nan, Float(bitPattern: 0x7fc0_0001), .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
    ]

    static func inputs(seed: UInt64, count: Int) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            if i % 7 == 3 { return edges[Int(rng.next() % UInt64(edges.count))] }
            // Mostly within the range, some beyond either end; some exact halves.
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            if i % 5 == 1 { return Float(Int(u * 600) - 50) + 0.5 }
            return Float(u * 1.4 - 0.2) * 70_000
        }
    }

    @Test("u8 and u16, AVX2 and scalar, every length 0-80 and a long run: the reference's levels exactly")
    func kernelsMatchReference() {
        #if arch(x86_64)
        // Otherwise the dispatching kernels are the scalar ones and half of this compares nothing new.
        #expect(xx_kernels_use_avx2() == 1, "this x86-64 CPU has no AVX2: only the scalar kernels were tested")
        #endif
        // Scale 1 puts the edge values where they are; the other pairs scale them anywhere.
        let parameters: [(offset: Float, inverse: Float)] = [(0, 1), (0, 1.0 / 257), (-1000.25, 0.003), (17.5, 1.0 / 3)]
        var checked = 0
        for seed in UInt64(1)...4 {
            for count in Array(0...80) + [4099] {
                let x = Self.inputs(seed: seed &* 1000 &+ UInt64(count), count: count)
                for p in parameters {
                    for bits in [8, 16] {
                        let width = bits / 8
                        var fast = [UInt8](repeating: 0xAA, count: count * width + 1)
                        var scalar = [UInt8](repeating: 0xAA, count: count * width + 1)
                        x.withUnsafeBufferPointer { xs in
                            if bits == 8 {
                                xx_quantise_u8(xs.baseAddress, count, p.offset, p.inverse, &fast)
                                xx_quantise_u8_scalar(xs.baseAddress, count, p.offset, p.inverse, &scalar)
                            } else {
                                xx_quantise_u16(xs.baseAddress, count, p.offset, p.inverse, &fast)
                                xx_quantise_u16_scalar(xs.baseAddress, count, p.offset, p.inverse, &scalar)
                            }
                        }
                        #expect(fast.last == 0xAA && scalar.last == 0xAA, "wrote past the end")
                        for i in 0..<count {
                            let expected = Self.reference(x[i], offset: p.offset, inverse: p.inverse, bits: bits)
                            let got = bits == 8 ? Int(fast[i]) : Int(fast[2 * i]) | Int(fast[2 * i + 1]) << 8
                            let gotScalar = bits == 8 ? Int(scalar[i]) : Int(scalar[2 * i]) | Int(scalar[2 * i + 1]) << 8
                            if got != expected || gotScalar != expected {
                                Issue.record("bits \(bits), x \(x[i]), offset \(p.offset), inverse \(p.inverse): reference \(expected), kernel \(got), scalar \(gotScalar)")
                                return
                            }
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked == 4 * (81 * 80 / 2 + 4099) * 4 * 2)
    }

    @Test("encode stores what decode restores to within half a step, clipping beyond the range")
    func encodeDecode() {
        let x = Self.inputs(seed: 9, count: 1000).map { $0 / 70_000 * 10 - 3 }
        for bits in [8, 16] {
            let q = SeriesQuantiser(bits: bits, scale: 0.01, offset: -1)
            var bytes = [UInt8](repeating: 0, count: x.count * bits / 8)
            var back = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xs in bytes.withUnsafeMutableBytes { q.encode(xs, into: $0) } }
            bytes.withUnsafeBytes { raw in back.withUnsafeMutableBufferPointer { q.decode(raw, into: $0) } }
            let top = Float(q.levels) * 0.01 - 1
            for (v, r) in zip(x, back) {
                let clipped = v.isNaN ? Float(((0.5 * Float(q.levels)).rounded())) * 0.01 - 1 : min(top, max(-1, v))
                #expect(abs(r - clipped) <= 0.005 + 1e-5, "bits \(bits): \(v) came back as \(r)")
            }
        }
    }

    /// The fit's sums written out: sample i of the whole series into lane i % 4, in order.
    static func referenceMoments(_ x: [Float], lower: Double, upper: Double, shift: Double) -> (sum: [Double], squares: [Double], count: [Int]) {
        var sum = [Double](repeating: 0, count: 4), squares = sum, count = [0, 0, 0, 0]
        for (i, v) in x.enumerated() {
            let d = Double(v)
            guard d >= lower && d <= upper else { continue }
            let c = d - shift
            sum[i % 4] += c
            squares[i % 4] += c * c
            count[i % 4] += 1
        }
        return (sum, squares, count)
    }

    static func lanes(_ m: xx_moments) -> (sum: [Double], squares: [Double], count: [Int]) {
        ([m.sum.0, m.sum.1, m.sum.2, m.sum.3], [m.squares.0, m.squares.1, m.squares.2, m.squares.3],
         [m.count.0, m.count.1, m.count.2, m.count.3].map { Int($0) })
    }

    @Test("the fit's sums: AVX2, scalar and pieces cut anywhere give the reference's lanes bit for bit; the window test finds the one sample that leaves")
    func momentKernels() {
        var rng = SeededGenerator(seed: 77)
        var compared = 0
        for count in Array(0...40) + [1000, 4099] {
            for trial in 0..<3 {
                let x = Self.inputs(seed: UInt64(count * 10 + trial), count: count).map { $0 / 1000 }
                let lower = trial == 0 ? -Double.infinity : -3.0 - Double(trial), upper = trial == 0 ? Double.infinity : 50.0
                let shift = trial == 2 ? 12.345 : 0
                let expected = Self.referenceMoments(x, lower: lower, upper: upper, shift: shift)
                var whole = xx_moments(), scalar = xx_moments(), pieces = xx_moments()
                x.withUnsafeBufferPointer { xs in
                    xx_moments_add(xs.baseAddress, count, lower, upper, shift, 0, &whole)
                    xx_moments_add_scalar(xs.baseAddress, count, lower, upper, shift, 0, &scalar)
                    var start = 0
                    while start < count {
                        let n = min(count - start, Int(rng.next() % 11))
                        xx_moments_add(xs.baseAddress! + start, n, lower, upper, shift, start & 3, &pieces)
                        start += n
                    }
                }
                for got in [whole, scalar, pieces] {
                    let l = Self.lanes(got)
                    #expect(l.sum.map(\.bitPattern) == expected.sum.map(\.bitPattern), "count \(count) trial \(trial)")
                    #expect(l.squares.map(\.bitPattern) == expected.squares.map(\.bitPattern), "count \(count) trial \(trial)")
                    #expect(l.count == expected.count, "count \(count) trial \(trial)")
                    compared += 1
                }
            }
        }
        #expect(compared == (41 + 2) * 3 * 3)

        // One sample leaves the new window, at every position of a 300-sample series.
        for position in 0..<300 {
            var x = [Float](repeating: 1, count: 300)
            x[position] = 9
            let leaves = x.withUnsafeBufferPointer { xx_any_leaves($0.baseAddress, 300, 0, 10, 0.5, 8) }
            let scalar = x.withUnsafeBufferPointer { xx_any_leaves_scalar($0.baseAddress, 300, 0, 10, 0.5, 8) }
            // Outside the old window it was already left out: not counted again.
            let before = x.withUnsafeBufferPointer { xx_any_leaves($0.baseAddress, 300, 0, 8.5, 0.5, 8) }
            x[position] = .nan
            let nan = x.withUnsafeBufferPointer { xx_any_leaves($0.baseAddress, 300, 0, 10, 0.5, 8) }
            #expect(leaves == 1 && scalar == 1 && before == 0 && nan == 0, "position \(position)")
        }
    }

    @Test("the robust fit: the plain mean and deviation of Gaussian noise to 1e-12; infinities and spikes 1000 sigma high are left out")
    func robustFit() {
        for seed in UInt64(1)...20 {
            var rng = SeededGenerator(seed: seed)
            let n = 5000 + Int(seed) * 37
            var x = (0..<n).map { _ in Float(rng.gaussian() * 3 + 100) }
            let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
            let sigma = (x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)).squareRoot()
            let fit = x.withUnsafeBufferPointer { SeriesQuantiser.robustMoments($0) }
            if x.allSatisfy({ abs(Double($0) - mean) <= 6 * sigma }) {
                #expect(abs(fit.mean - mean) < 1e-12 * mean && abs(fit.sigma / sigma - 1) < 1e-12, "seed \(seed)")
            }
            // Infinities are left out like NaN, not averaged into an infinite mean.
            var infinite = x
            infinite[5] = .infinity
            infinite[n - 3] = -.infinity
            let finite = infinite.withUnsafeBufferPointer { SeriesQuantiser.robustMoments($0) }
            let rest = x.enumerated().filter { $0.offset != 5 && $0.offset != n - 3 }.map { Double($0.element) }
            let restMean = rest.reduce(0, +) / Double(rest.count)
            let restSigma = (rest.reduce(0) { $0 + ($1 - restMean) * ($1 - restMean) } / Double(rest.count)).squareRoot()
            #expect(abs(finite.mean - restMean) < 1e-6 && abs(finite.sigma / restSigma - 1) < 1e-6, "seed \(seed): \(finite)")
            for i in stride(from: 17, to: n, by: 500) { x[i] = 3100 }
            let spiky = x.withUnsafeBufferPointer { SeriesQuantiser.robustMoments($0) }
            #expect(abs(spiky.mean - mean) < 0.2 && abs(spiky.sigma / sigma - 1) < 0.02, "seed \(seed): \(spiky) against \(mean), \(sigma)")
        }
    }
}
