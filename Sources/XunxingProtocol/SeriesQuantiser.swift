import CSearchKernels

/// Per-series linear quantisation of a dedispersed series to 8 or 16 bits:
/// value = stored * scale + offset, stored in `0...levels`.
///
/// The range is the series' mean +- `halfRangeSigmas` standard deviations. Mean and standard
/// deviation are estimated robustly: after a first estimate, samples beyond the range are left out
/// and the estimate repeated (up to three times), so one strong spike neither widens the range nor
/// coarsens the steps; such a spike is clipped to the end of the range. Non-finite samples are
/// ignored by the estimate and stored as the mean.
public struct SeriesQuantiser: Sendable, Equatable {
    /// Standard deviations either side of the mean that the stored range spans.
    public static let halfRangeSigmas = 6.0

    /// Bits per stored sample, 8 or 16.
    public let bits: Int
    /// Step between stored levels.
    public let scale: Float
    /// Value of stored level 0.
    public let offset: Float

    /// Highest stored level (255 or 65535).
    public var levels: Int { (1 << bits) - 1 }

    /// A quantiser with explicit parameters (as read from a header).
    public init(bits: Int, scale: Float, offset: Float) {
        precondition(bits == 8 || bits == 16)
        self.bits = bits
        self.scale = scale
        self.offset = offset
    }

    /// The quantiser for `series` at `bits` bits per sample.
    public init(fitting series: UnsafeBufferPointer<Float>, bits: Int) {
        self.init(bits: bits, scanning: { visit in _ = visit(series) })
    }

    /// The quantiser for a series too long to hold, read piece by piece: `scan(visit)` must call
    /// `visit` on consecutive pieces of the whole series, in order, stopping early when it returns
    /// false. It is called a few times (once per pass of the robust estimate). The result is the
    /// same as ``init(fitting:bits:)``'s on the whole series.
    public init(bits: Int, scanning scan: ((UnsafeBufferPointer<Float>) -> Bool) throws -> Void) rethrows {
        precondition(bits == 8 || bits == 16)
        let (mean, sigma) = try Self.robustMoments(scan)
        let levels = Double((1 << bits) - 1)
        let halfRange = Self.halfRangeSigmas * sigma
        var scale = Float(2 * halfRange / levels)
        if !(scale.isFinite && scale > 0) || !(halfRange > 0) { scale = 1 }
        // Put the mean in the middle of the range; the offset is rounded to Float first so that the
        // encoder and decoder use exactly the same numbers.
        let offset = Float(mean - 0.5 * levels * Double(scale))
        self.init(bits: bits, scale: scale, offset: offset.isFinite ? offset : 0)
    }

    /// Mean and standard deviation of the finite samples, iteratively excluding samples further than
    /// `halfRangeSigmas` from the mean.
    static func robustMoments(_ x: UnsafeBufferPointer<Float>) -> (mean: Double, sigma: Double) {
        robustMoments { visit in _ = visit(x) }
    }

    /// ``robustMoments(_:)`` of a series read piece by piece (see ``init(bits:scanning:)``).
    ///
    /// The sums are taken in Double, about the previous pass's mean (so large offsets cost no
    /// precision), in four interleaved partial sums by sample index (`xx_moments_add`): the same
    /// for any division into pieces.
    static func robustMoments(
        _ scan: ((UnsafeBufferPointer<Float>) -> Bool) throws -> Void
    ) rethrows -> (mean: Double, sigma: Double) {
        // The first window holds every finite sample: an infinity would make the mean infinite.
        var lower = -Double.greatestFiniteMagnitude, upper = Double.greatestFiniteMagnitude
        var mean = 0.0, sigma = 0.0
        for _ in 0..<4 {
            var moments = xx_moments()
            var index = 0
            let shift = mean
            try scan { x in
                xx_moments_add(x.baseAddress, x.count, lower, upper, shift, index & 3, &moments)
                index += x.count
                return true
            }
            let (sums, squares, counts) = (moments.sum, moments.squares, moments.count)
            let sum = (sums.0 + sums.1) + (sums.2 + sums.3)
            let sumSquares = (squares.0 + squares.1) + (squares.2 + squares.3)
            let count = Int(counts.0 + counts.1 + counts.2 + counts.3)
            guard count > 0 else { return (mean, sigma) }
            let m = sum / Double(count)
            let newMean = shift + m
            let newSigma = (max(0, sumSquares / Double(count) - m * m)).squareRoot()
            let converged = newMean == mean && newSigma == sigma
            mean = newMean
            sigma = newSigma
            if converged || sigma == 0 { break }
            let newLower = mean - halfRangeSigmas * sigma, newUpper = mean + halfRangeSigmas * sigma
            // Stop once no sample left the window: the next pass would give the same numbers.
            var excluded = false
            try scan { x in
                if xx_any_leaves(x.baseAddress, x.count, lower, upper, newLower, newUpper) != 0 { excluded = true }
                return !excluded
            }
            lower = newLower
            upper = newUpper
            if !excluded { break }
        }
        return (mean, sigma)
    }

    /// Stores `input` into `output` (little-endian, `bits / 8` bytes per sample): each sample's
    /// level is `(x - offset) / scale` (as `(x - offset) * (1 / scale)` in Float) rounded half
    /// away from zero and clamped to `0...levels`; NaN is stored as the middle level.
    public func encode(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= input.count * bits / 8)
        guard let x = input.baseAddress, let out = output.baseAddress else { return }
        let bytes = out.assumingMemoryBound(to: UInt8.self)
        if bits == 8 {
            xx_quantise_u8(x, input.count, offset, 1 / scale, bytes)
        } else {
            xx_quantise_u16(x, input.count, offset, 1 / scale, bytes)
        }
    }

    /// Restores `output.count` samples from `input` (little-endian, `bits / 8` bytes per sample).
    public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= output.count * bits / 8)
        if bits == 8 {
            let bytes = input.bindMemory(to: UInt8.self)
            for i in 0..<output.count { output[i] = Float(bytes[i]) * scale + offset }
        } else {
            let base = input.baseAddress!
            for i in 0..<output.count {
                let q = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                output[i] = Float(q) * scale + offset
            }
        }
    }
}
