import Foundation

/// Per channel x block statistics of a filterbank, from one pass in order: mean, standard
/// deviation, and the strongest locally whitened Fourier power of the block's first
/// `blockSamples` samples once what all channels share at each instant is taken out (broadband
/// periodic interference such as mains is for zero-DM filtering and birdie lists, not for the
/// mask: masking it would mask everything). Spectra that the cleaning clips (their channel
/// average stands out by `clipSigma` robust sigmas from the block's) are left out of all three, so
/// that a few impulses do not mask the block they fall in.
struct BlockStatistics {
    var mean: [Float]
    var std: [Float]
    var peakPower: [Float]
    /// Fourier bins each peak power was the largest of.
    var searchedBins: Int

    /// Bins per chunk whose clipped mean whitens the powers.
    static let chunk = 256
    /// Channels transposed and transformed together: their samples of one spectrum share cache lines.
    static let group = 16

    static func measure(
        _ source: any SpectrumSource, blockSamples length: Int, blocks: Int, clipSigma: Double = 0, planner: FFTPlanner,
        threads: Int = 1
    ) throws -> BlockStatistics {
        let nch = source.channelCount, total = source.spectrumCount
        try source.seek(toSpectrum: 0)
        var stats = BlockStatistics(
            mean: .init(repeating: 0, count: blocks * nch), std: .init(repeating: 0, count: blocks * nch),
            peakPower: .init(repeating: 0, count: blocks * nch), searchedBins: max(1, length / 2 - 1))
        let longest = total - (blocks - 1) * length
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: longest * nch)
        defer { buffer.deallocate() }
        // Sums are of samples less the block's first spectrum (Float keeps the variance exact enough).
        let sum = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch), sumSq = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch)
        let shift = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch), inverse = UnsafeMutableBufferPointer<Float>.allocate(capacity: nch)
        defer { [sum, sumSq, shift, inverse].forEach { $0.deallocate() } }
        let fftSize = length >= 16 ? length : 0
        let plan = fftSize > 0 ? planner.plan(size: fftSize) : nil
        // Per thread: a group's transform buffers and a power spectrum.
        let workers = max(1, threads)
        let workspaces = (0..<workers).map { _ in (0..<group).map { _ in FFTWorkspace(size: max(2, fftSize)) } }
        let powerBuffers = (0..<workers).map { _ in UnsafeMutableBufferPointer<Float>.allocate(capacity: fftSize / 2 + 1) }
        defer { powerBuffers.forEach { $0.deallocate() } }
        let common = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, longest))
        var clipped = [Bool](repeating: false, count: longest)
        defer { common.deallocate() }
        for b in 0..<blocks {
            let count = b == blocks - 1 ? total - b * length : length
            var got = 0
            while got < count {
                let n = try source.read(into: UnsafeMutableBufferPointer(rebasing: buffer[(got * nch)...]), count: count - got)
                guard n > 0 else { break }
                got += n
            }
            guard got > 0 else { continue }
            let x = buffer.baseAddress!
            let s = sum.baseAddress!, q = sumSq.baseAddress!, r = shift.baseAddress!
            r.update(from: x, count: nch)
            s.update(repeating: 0, count: nch)
            q.update(repeating: 0, count: nch)
            for t in 0..<got {
                let row = x + t * nch
                for c in 0..<nch {
                    let v = row[c] - r[c]
                    s[c] += v
                    q[c] += v * v
                }
            }
            var kept = got
            func settle() {
                for c in 0..<nch {
                    let m = Double(s[c]) / Double(max(1, kept))
                    let sd = max(0, Double(q[c]) / Double(max(1, kept)) - m * m).squareRoot()
                    stats.mean[b * nch + c] = Float(m) + r[c]
                    stats.std[b * nch + c] = Float(sd)
                    inverse[c] = sd > 0 ? Float(1 / sd) : 0
                }
            }
            settle()
            let live = Float((0..<nch).filter { inverse[$0] > 0 }.count)
            guard live > 0 else { continue }
            // The common mode: each instant's mean over channels of the normalised samples.
            stats.mean.withUnsafeBufferPointer { means in
                let m = means.baseAddress! + b * nch, w = inverse.baseAddress!
                for t in 0..<got {
                    let row = x + t * nch
                    var acc: Float = 0
                    for c in 0..<nch { acc += (row[c] - m[c]) * w[c] }
                    common[t] = acc / live
                }
            }
            // The spectra the cleaning will clip leave the statistics (and become 0 below).
            for t in 0..<got { clipped[t] = false }
            if clipSigma > 0, got > 1 {
                let z = UnsafeBufferPointer(rebasing: common[0..<got])
                let centre = Robust.median(z)
                let limit = Float(clipSigma) * max(Robust.sigma(z, centre: centre), 1e-6)
                for t in 0..<got where abs(common[t] - centre) > limit {
                    clipped[t] = true
                    kept -= 1
                    let row = x + t * nch
                    for c in 0..<nch {
                        let v = row[c] - r[c]
                        s[c] -= v
                        q[c] -= v * v
                    }
                }
                if kept < got && kept > 1 {
                    settle()
                    // The common mode again, with the statistics of the spectra kept.
                    stats.mean.withUnsafeBufferPointer { means in
                        let m = means.baseAddress! + b * nch, w = inverse.baseAddress!
                        for t in 0..<got where !clipped[t] {
                            let row = x + t * nch
                            var acc: Float = 0
                            for c in 0..<nch { acc += (row[c] - m[c]) * w[c] }
                            common[t] = acc / live
                        }
                    }
                }
            }
            guard let plan, got >= fftSize else { continue }
            // Channels `group` at a time, the groups shared among the threads: gathered from the
            // spectra (each spectrum's samples of the group are neighbours in memory), the common
            // mode taken out, transformed, searched.
            let groups = (nch + group - 1) / group
            stats.mean.withUnsafeBufferPointer { meanBuffer in
                stats.std.withUnsafeBufferPointer { stdBuffer in
                    stats.peakPower.withUnsafeMutableBufferPointer { peakBuffer in
                        clipped.withUnsafeBufferPointer { clippedBuffer in
                            nonisolated(unsafe) let means = meanBuffer, stds = stdBuffer, peaks = peakBuffer, cut = clippedBuffer
                            nonisolated(unsafe) let x = x, common = common
                            parallelFor(count: groups, threads: workers) { g, worker in
                                let first = g * group, width = min(group, nch - first)
                                let inputs = workspaces[worker]
                                for t in 0..<fftSize {
                                    let row = x + t * nch + first
                                    if cut[t] {
                                        for k in 0..<width { inputs[k].real[t] = 0 }
                                        continue
                                    }
                                    let ct = common[t]
                                    for k in 0..<width {
                                        let c = b * nch + first + k
                                        inputs[k].real[t] = row[k] - means[c] - ct * stds[c]
                                    }
                                }
                                let pw = powerBuffers[worker]
                                for k in 0..<width where stds[b * nch + first + k] > 0 {
                                    plan.execute(input: inputs[k].real, output: inputs[k].complex)
                                    let out = inputs[k].complex
                                    for i in 1...(fftSize / 2) {
                                        let re = out[2 * i], im = out[2 * i + 1]
                                        pw[i] = re * re + im * im
                                    }
                                    peaks[b * nch + first + k] = whitenedPeak(UnsafeBufferPointer(pw), bins: fftSize / 2)
                                }
                            }
                        }
                    }
                }
            }
        }
        try source.seek(toSpectrum: 0)
        return stats
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
        var total: Float = 0, peak: Float = 0
        for i in range {
            total += p[i]
            peak = max(peak, p[i])
        }
        let limit = clip * total / Float(range.count)
        var kept: Float = 0, n: Float = 0
        for i in range where p[i] <= limit {
            kept += p[i]
            n += 1
        }
        return (n > 0 ? kept / n / clippedMeanFactor : 0, peak)
    }
}
