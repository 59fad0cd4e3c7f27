import CSearchKernels
import Foundation

/// A time series summed 2, 4, 8, ... samples at a time, each level made once from the one below
/// when a fold first needs it and shared by every fold of the same series: candidates with long
/// periods are folded from a level with a few samples per phase bin (``Folder/decimation(samplesPerBin:)``),
/// so twenty candidates of one series read it once for the levels, not twenty times.
///
/// The levels are pairwise sums, the same values ``FoldCube`` makes when it decimates by itself.
/// The series itself is not kept: each call passes it (it must be the same series every time).
public final class SeriesPyramid: @unchecked Sendable {
    private let lock = NSLock()
    private var levels: [Int: [Float]] = [:]

    public init() {}

    /// The series summed `factor` (a power of two, at least 2) samples at a time; its length is
    /// `series.count / factor`, the remainder left out.
    public func level(_ factor: Int, of series: UnsafeBufferPointer<Float>) -> [Float] {
        precondition(factor >= 2 && factor & (factor - 1) == 0)
        return lock.withLock {
            if let done = levels[factor] { return done }
            var f = 2
            var below: [Float]? = nil
            while f <= factor {
                if let done = levels[f] {
                    below = done
                } else {
                    let next: [Float]
                    if let previous = below {
                        next = Self.halve(previous)
                    } else {
                        next = Self.halve(series)
                    }
                    levels[f] = next
                    below = next
                }
                f *= 2
            }
            return levels[factor]!
        }
    }

    private static func halve(_ x: [Float]) -> [Float] {
        x.withUnsafeBufferPointer { halve($0) }
    }

    private static func halve(_ x: UnsafeBufferPointer<Float>) -> [Float] {
        let m = x.count / 2
        guard m > 0, let base = x.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: m) { out, count in
            xx_decimate(base, 2 * m, 2, out.baseAddress!)
            count = m
        }
    }
}
