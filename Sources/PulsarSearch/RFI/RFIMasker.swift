import Foundation

/// Measures an ``RFIMask`` from a filterbank in one streaming pass, in the manner of PRESTO's
/// `rfifind`: for every channel x block cell its mean, its standard deviation and the strongest
/// Fourier power of its samples (locally whitened, so red noise is not mistaken for a tone), then
/// robust thresholds:
///
/// - a channel whose typical standard deviation stands out from its neighbours' (after a running
///   median over 15 channels takes out the bandpass) by `timeSigma` robust sigmas is masked whole;
/// - a cell whose standard deviation or mean stands out from its channel's, once what all channels
///   share in that block is divided or taken out, by `timeSigma` robust sigmas is masked;
/// - a block whose shared level of variance stands out from the other blocks' is masked whole;
/// - a cell whose strongest power has a false-alarm probability below a `freqSigma` Gaussian's is
///   masked (periodic interference; the transforms are of the cell's samples summed to
///   `fftSampleTime`, which makes the pass cost about twice a read rather than thirty times);
/// - then channels masked in more than `channelFraction` of blocks, and blocks in more than
///   `blockFraction` of channels, are masked whole, and `zapChannels` always.
public struct RFIMasker {
    public let options: RFIOptions
    public let planner: FFTPlanner
    /// Threads the per-cell transforms are shared among (the statistics pass itself reads in
    /// order). One by default: the transforms are of decimated series and cost less than handing
    /// them out (2 threads: 20 % less wall time, 10-20 % more CPU time, measured).
    public var threads = 1

    public init(options: RFIOptions, planner: FFTPlanner) {
        self.options = options
        self.planner = planner
    }

    /// Spectra per block for data sampled every `sampleTime` seconds: the power of two nearest
    /// `blockSeconds` (a fast Fourier transform length), at least 256, at most all of them.
    public func blockSamples(sampleTime: Double, spectra: Int) -> Int {
        let wanted = max(256, options.blockSeconds / sampleTime)
        let power = 1 << Int(log2(wanted).rounded())
        return min(max(1, spectra), power)
    }

    /// Reads `source` once from the start and returns its mask; leaves it at spectrum 0.
    public func measure(_ source: any SpectrumSource) throws -> RFIMask {
        let nch = source.channelCount, total = source.spectrumCount
        let length = blockSamples(sampleTime: source.sampleTime, spectra: total)
        let blocks = max(1, total / length)
        let stats = try BlockStatistics.measure(source, blockSamples: length, blocks: blocks, clipSigma: options.clipSigma,
                                                decimation: options.fftDecimation(sampleTime: source.sampleTime), planner: planner, threads: threads)
        var masked = [Bool](repeating: false, count: blocks * nch)
        func mask(_ b: Int, _ c: Int) { masked[b * nch + c] = true }

        // Channels: typical standard deviation against the neighbours' (log, bandpass removed).
        var level = (0..<nch).map { c in Robust.median((0..<blocks).map { stats.mean[$0 * nch + c] }) }
        var scale = (0..<nch).map { c in Robust.median((0..<blocks).map { stats.std[$0 * nch + c] }) }
        let logScale = scale.map { $0 > 0 ? Float(log(Double($0))) : -Float.infinity }
        let trend = Self.runningMedian(logScale, window: 15)
        let deviation = zip(logScale, trend).map { $0 - $1 }
        let finite = deviation.filter(\.isFinite)
        let channelSpread = max(Robust.sigma(finite, centre: Robust.median(finite)), 1e-3)
        let channelCentre = Robust.median(finite)
        for c in 0..<nch where !deviation[c].isFinite || abs(deviation[c] - channelCentre) > Float(options.timeSigma) * channelSpread {
            for b in 0..<blocks { mask(b, c) }
        }

        // Cells: variance and mean against the channel's, after what every channel shares in the block.
        var ratio = [Float](repeating: 0, count: blocks * nch)
        var offset = [Float](repeating: 0, count: blocks * nch)
        var blockFactor = [Float](repeating: 1, count: blocks)
        let root = Float(Double(length).squareRoot())
        for b in 0..<blocks {
            for c in 0..<nch where scale[c] > 0 {
                ratio[b * nch + c] = stats.std[b * nch + c] > 0 ? Float(log(Double(stats.std[b * nch + c] / scale[c]))) : -.infinity
                offset[b * nch + c] = (stats.mean[b * nch + c] - level[c]) / scale[c] * root
            }
            let good = (0..<nch).filter { scale[$0] > 0 && ratio[b * nch + $0].isFinite }
            let sharedRatio = Robust.median(good.map { ratio[b * nch + $0] })
            let sharedOffset = Robust.median(good.map { offset[b * nch + $0] })
            blockFactor[b] = sharedRatio
            for c in 0..<nch {
                ratio[b * nch + c] -= sharedRatio
                offset[b * nch + c] -= sharedOffset
            }
        }
        for values in [ratio, offset] {
            let usable = values.filter(\.isFinite)
            let centre = Robust.median(usable)
            let spread = max(Robust.sigma(usable, centre: centre), 1e-4)
            for i in values.indices where !values[i].isFinite || abs(values[i] - centre) > Float(options.timeSigma) * spread {
                masked[i] = true
            }
        }
        if blocks >= 4 {
            let centre = Robust.median(blockFactor)
            let spread = max(Robust.sigma(blockFactor, centre: centre), 1e-4)
            for b in 0..<blocks where abs(blockFactor[b] - centre) > Float(options.timeSigma) * spread {
                for c in 0..<nch { mask(b, c) }
            }
        }

        // Periodic interference: the strongest whitened power of each cell.
        let threshold = Float(Self.powerThreshold(sigma: options.freqSigma, bins: stats.searchedBins))
        for i in masked.indices where stats.peakPower[i] > threshold { masked[i] = true }

        // Whole channels and blocks, then the channels always zapped.
        for c in 0..<nch where Double((0..<blocks).filter { masked[$0 * nch + c] }.count) > options.channelFraction * Double(blocks) {
            for b in 0..<blocks { mask(b, c) }
        }
        for b in 0..<blocks where Double((0..<nch).filter { masked[b * nch + $0] }.count) > options.blockFraction * Double(nch) {
            for c in 0..<nch { mask(b, c) }
        }
        for c in options.zapChannels where c < nch {
            for b in 0..<blocks { mask(b, c) }
        }

        // The levels masked data are replaced with: from the cells kept.
        for c in 0..<nch {
            let kept = (0..<blocks).filter { !masked[$0 * nch + c] }
            guard !kept.isEmpty else { continue }
            level[c] = Robust.median(kept.map { stats.mean[$0 * nch + c] })
            scale[c] = Robust.median(kept.map { stats.std[$0 * nch + c] })
        }
        try source.seek(toSpectrum: 0)
        let header = RFIMask.Header(
            channels: nch, blocks: blocks, blockSamples: length, spectra: total, sampleTime: source.sampleTime, options: options,
            channelLevel: level, channelScale: scale)
        return RFIMask(header: header, masked: masked)
    }

    /// The whitened power above which a cell's strongest of `bins` powers is as unlikely in noise
    /// as a Gaussian deviate above `sigma`. Noise powers are exponential with mean 1, so the
    /// largest of n exceeds x with probability 1 - (1 - q)^n, q = e^-x per bin, were the mean
    /// that whitens them known; estimated from a chunk of m powers it is off by a relative
    /// e ~ N(0, s^2), s = 1 / sqrt(m), and averaging e^-x(1+e) over that gives
    /// q = e^(-x + x^2 s^2 / 2) (valid while x s^2 < 1).
    static func powerThreshold(sigma: Double, bins: Int) -> Double {
        let p = 0.5 * erfc(sigma / 2.0.squareRoot())
        let single = -expm1(log1p(-p) / Double(max(1, bins)))  // 1 - (1 - p)^(1/n)
        let m = Double(min(BlockStatistics.chunk, max(1, bins)))
        let s2 = 1 / m
        // Solve -x + x^2 s^2 / 2 = ln(single) for the smaller root.
        let target = -log(single)
        let disc = 1 - 2 * s2 * target
        return disc > 0 ? (1 - disc.squareRoot()) / s2 : target * 2
    }

    /// The median of each value's neighbourhood of `window` values (shorter at the ends),
    /// ignoring non-finite values.
    static func runningMedian(_ values: [Float], window: Int) -> [Float] {
        let half = window / 2
        return values.indices.map { i in
            let slice = values[max(0, i - half)...min(values.count - 1, i + half)].filter(\.isFinite)
            return Robust.median(slice)
        }
    }
}
