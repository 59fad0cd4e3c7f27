import CSearchKernels
import Foundation

/// Per channel x block statistics of a filterbank, from one pass in order: mean, standard
/// deviation, and the strongest locally whitened Fourier power of the block's first
/// `blockSamples` samples, summed `decimation` at a time, once what all channels share at each
/// instant is taken out (broadband periodic interference such as mains is for zero-DM filtering
/// and birdie lists, not for the mask: masking it would mask everything). Spectra that the cleaning
/// clips (their weighted channel average stands out by `clipSigma` robust sigmas from the block's)
/// are left out of all three, so that a few impulses do not mask the block they fall in.
///
/// The data are read a cache-sized chunk at a time and each sample is touched once
/// (`xx_rfi_accumulate`: sums, sums of squares, the decimated series and each spectrum's weighted
/// sum together); the common mode and the means come out of the decimated series afterwards,
/// since a transform is linear. The clipping decision weighs channels by the previous block's
/// deviations (the first block's by its first chunk's), and clipped spectra are read again to be
/// taken out of the sums: they are few.
struct BlockStatistics {
    var mean: [Float]
    var std: [Float]
    var peakPower: [Float]
    /// Fourier bins each peak power was the largest of.
    var searchedBins: Int

    /// Bins per chunk whose clipped mean whitens the powers.
    static let chunk = 256
    /// Channels whose decimated series lie together (time-major), transformed together.
    static let group = Int(XX_RFI_GROUP)
    /// Floats of filterbank read at a time: a chunk that stays in the L2 cache.
    static let chunkFloats = 1 << 18

    static func measure(
        _ source: any SpectrumSource, blockSamples length: Int, blocks: Int, clipSigma: Double = 0, decimation: Int = 1,
        planner: FFTPlanner, threads: Int = 1
    ) throws -> BlockStatistics {
        let nch = source.channelCount, total = source.spectrumCount
        try source.seek(toSpectrum: 0)
        let factor = max(1, min(decimation, length / 16))
        // A multiple of the kernels' tile of rows (the few samples past it are left out of the transform).
        let fftSize = length >= 16 ? length / factor / Int(XX_RFI_TILE) * Int(XX_RFI_TILE) : 0
        var stats = BlockStatistics(
            mean: .init(repeating: 0, count: blocks * nch), std: .init(repeating: 0, count: blocks * nch),
            peakPower: .init(repeating: 0, count: blocks * nch), searchedBins: max(1, fftSize / 2 - 1))
        let longest = total - (blocks - 1) * length
        let chunkRows = max(8, chunkFloats / max(1, nch))
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunkRows * nch)
        // Sums are of samples less the block's first spectrum (Float keeps the variance exact enough).
        let sum = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch), sumSq = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch)
        let shift = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch), inverse = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch)
        let weight = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch)
        // Each spectrum's weighted channel sum; the decimated series (spectrum-major) and the
        // samples each of its rows still holds after clipping; the decimated common mode.
        let common = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, longest))
        let groups = (nch + group - 1) / group
        // Zero at the start; the transforms' read of each block's series sets it to 0 again
        // (blocks that are not transformed zero it themselves).
        guard let decBase = xx_alloc_floats_huge(max(1, fftSize * groups * group)) else { throw CocoaError(.fileReadUnknown) }
        let dec = UnsafeMutableBufferPointer(start: decBase, count: max(1, fftSize * groups * group))
        defer { xx_free_floats(decBase) }
        dec.initialize(repeating: 0)
        let decCommon = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, fftSize))
        var kept = [Int](repeating: factor, count: max(1, fftSize))
        defer { [buffer, sum, sumSq, shift, inverse, weight, common, decCommon].forEach { $0.deallocate() } }
        let plan = fftSize > 0 ? planner.plan(size: fftSize) : nil
        // Per thread: a group's transform buffers and a power spectrum.
        let workers = max(1, threads)
        let workspaces = (0..<workers).map { _ in (0..<group).map { _ in FFTWorkspace(size: max(2, fftSize)) } }
        let powerBuffers = (0..<workers).map { _ in UnsafeMutableBufferPointer<Float>.allocate(capacity: fftSize / 2 + 1) }
        defer { powerBuffers.forEach { $0.deallocate() } }
        var haveWeights = false
        for b in 0..<blocks {
            let count = b == blocks - 1 ? total - b * length : length
            let s = sum.baseAddress!, q = sumSq.baseAddress!, r = shift.baseAddress!
            s.update(repeating: 0, count: nch)
            q.update(repeating: 0, count: nch)
            for j in kept.indices { kept[j] = factor }
            var got = 0
            while got < count {
                let n = try source.read(into: buffer, count: min(chunkRows, count - got))
                guard n > 0 else { break }
                let x = buffer.baseAddress!
                if got == 0 {
                    r.update(from: x, count: nch)
                    if !haveWeights {
                        provisionalWeights(x, rows: n, channels: nch, into: weight)
                        haveWeights = true
                    }
                }
                xx_rfi_accumulate(x, n, nch, r, weight.baseAddress!, s, q, fftSize > 0 ? dec.baseAddress! : nil, got, factor, fftSize,
                                  common.baseAddress! + got)
                got += n
            }
            guard got > 0 else { continue }
            var keptSpectra = got
            func settle() {
                for c in 0..<nch {
                    let m = Double(s[c]) / Double(max(1, keptSpectra))
                    let sd = max(0, Double(q[c]) / Double(max(1, keptSpectra)) - m * m).squareRoot()
                    stats.mean[b * nch + c] = Float(m) + r[c]
                    stats.std[b * nch + c] = Float(sd)
                    inverse[c] = sd > 0 ? Float(1 / sd) : 0
                }
            }
            settle()
            // The spectra the cleaning will clip leave the statistics (and the transforms' input).
            if clipSigma > 0, got > 1 {
                // Centre and spread from at most 4,096 evenly spaced spectra (ample for a median).
                let step = max(1, got / 4096)
                let z = stride(from: 0, to: got, by: step).map { common[$0] }
                let centre = Robust.median(z)
                let limit = Float(clipSigma) * max(Robust.sigma(z, centre: centre), 1e-6)
                let clipped = (0..<got).filter { abs(common[$0] - centre) > limit }
                for t in clipped {
                    try source.seek(toSpectrum: b * length + t)
                    guard try source.read(into: buffer, count: 1) == 1 else { continue }
                    let row = buffer.baseAddress!, j = t / factor
                    for c in 0..<nch {
                        let v = row[c] - r[c]
                        s[c] -= v
                        q[c] -= v * v
                        if j < fftSize { dec[xx_rfi_dec_index(c, j, groups)] -= v }
                    }
                    if j < fftSize { kept[j] -= 1 }
                    keptSpectra -= 1
                }
                if !clipped.isEmpty {
                    try source.seek(toSpectrum: b * length + got)
                    if keptSpectra > 1 { settle() }
                }
            }
            weight.baseAddress!.update(from: inverse.baseAddress!, count: nch)
            let live = Float((0..<nch).filter { inverse[$0] > 0 }.count)
            guard let plan, live > 0, got >= length else {
                dec.update(repeating: 0)
                continue
            }
            // The common mode of the decimated series: each decimated instant's mean over channels
            // of the normalised samples, means taken out (sum of weighted rows less what the means
            // contribute, kept[j] samples each).
            let groupWeight = UnsafeMutableBufferPointer<Float>.allocate(capacity: groups * group)
            let level = UnsafeMutableBufferPointer<Float>.allocate(capacity: groups * group)
            let scale = UnsafeMutableBufferPointer<Float>.allocate(capacity: groups * group)
            defer { [groupWeight, level, scale].forEach { $0.deallocate() } }
            groupWeight.initialize(repeating: 0)
            level.initialize(repeating: 0)
            scale.initialize(repeating: 0)
            var meanWeight: Float = 0
            for c in 0..<nch {
                groupWeight[c] = inverse[c]
                level[c] = stats.mean[b * nch + c] - r[c]
                scale[c] = stats.std[b * nch + c]
                meanWeight += level[c] * inverse[c]
            }
            xx_rfi_weighted_rows(dec.baseAddress!, groups, fftSize, groupWeight.baseAddress!, decCommon.baseAddress!)
            let keptFloat = kept.map(Float.init)
            for j in 0..<fftSize { decCommon[j] = (decCommon[j] - keptFloat[j] * meanWeight) / live }
            // Channels `group` at a time, the groups shared among the threads: each channel's
            // series, means and common mode taken out, transformed, searched.
            stats.std.withUnsafeBufferPointer { stdBuffer in
                stats.peakPower.withUnsafeMutableBufferPointer { peakBuffer in
                    keptFloat.withUnsafeBufferPointer { keptBuffer in
                    nonisolated(unsafe) let stds = stdBuffer, peaks = peakBuffer, keptSamples = keptBuffer
                    nonisolated(unsafe) let x = dec.baseAddress!, common = decCommon, level = level, scale = scale
                    parallelFor(count: groups, threads: workers) { g, worker in
                        let first = g * group, width = min(group, nch - first)
                        let inputs = workspaces[worker]
                        var outputs = inputs.map { Optional($0.real) }
                        outputs.withUnsafeMutableBufferPointer { out in
                            xx_rfi_series(x, groups, g, fftSize, width, keptSamples.baseAddress!, common.baseAddress!,
                                          level.baseAddress! + first, scale.baseAddress! + first, out.baseAddress!)
                        }
                        let pw = powerBuffers[worker]
                        for k in 0..<width where stds[b * nch + first + k] > 0 {
                            plan.execute(input: inputs[k].real, output: inputs[k].complex)
                            xx_powers(inputs[k].complex, pw.baseAddress!, fftSize / 2 + 1)
                            peaks[b * nch + first + k] = whitenedPeak(UnsafeBufferPointer(pw), bins: fftSize / 2)
                        }
                    }
                    }
                }
            }
        }
        try source.seek(toSpectrum: 0)
        return stats
    }

    /// Channel weights (inverse standard deviations) from the first spectra read, for the first
    /// block's clipping decision.
    private static func provisionalWeights(_ x: UnsafeMutablePointer<Float>, rows: Int, channels nch: Int, into weight: UnsafeMutableBufferPointer<Float>) {
        for c in 0..<nch {
            var m = 0.0, m2 = 0.0
            for t in 0..<rows {
                let v = Double(x[t * nch + c] - x[c])
                m += v
                m2 += v * v
            }
            m /= Double(rows)
            let sd = max(0, m2 / Double(rows) - m * m).squareRoot()
            weight[c] = sd > 0 ? Float(1 / sd) : 0
        }
    }

    /// Above this many times its chunk's mean a power is left out of the mean's second pass.
    static let clip: Float = 5
    /// The mean of an exponential clipped at `clip` times its mean, over its mean: what the
    /// second pass's mean underestimates by (1 - c e^-c / (1 - e^-c), 0.966 at c = 5).
    static let clippedMeanFactor: Float = {
        let c = Double(clip)
        return Float(1 - c * exp(-c) / (1 - exp(-c)))
    }()

    /// The largest of powers[1..<bins] over its chunk's mean power (``chunkLevel(_:_:)``): noise
    /// powers then have mean 1 whatever the spectrum's slope.
    static func whitenedPeak(_ powers: [Float], bins: Int) -> Float {
        powers.withUnsafeBufferPointer { whitenedPeak($0, bins: bins) }
    }

    static func whitenedPeak(_ p: UnsafeBufferPointer<Float>, bins: Int) -> Float {
        var best: Float = 0
        var start = 1
        while start < bins {
            let end = min(bins, start + chunk)
            let (mean, peak) = chunkLevel(p, start..<end)
            if mean > 0 { best = max(best, peak / mean) }
            start = end
        }
        return best
    }

    /// The mean of `p[range]` taken twice, the second time without powers over ``clip`` times the
    /// first (so that a strong tone does not hide itself), corrected for the clipping; and the
    /// largest power. The noise level that whitens a chunk of a power spectrum.
    static func chunkLevel(_ p: UnsafeBufferPointer<Float>, _ range: Range<Int>) -> (mean: Float, peak: Float) {
        guard !range.isEmpty else { return (0, 0) }
        var kept: Float = 0, n: Float = 0, peak: Float = 0
        xx_chunk_level(p.baseAddress! + range.lowerBound, range.count, clip, &kept, &n, &peak)
        return (n > 0 ? kept / n / clippedMeanFactor : 0, peak)
    }
}
