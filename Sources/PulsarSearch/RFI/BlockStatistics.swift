import Foundation

/// Per channel x block statistics of a filterbank, from one pass in order: mean, standard
/// deviation, and the strongest locally whitened Fourier power of the block's first
/// `blockSamples` samples once what all channels share at each instant is taken out (broadband
/// periodic interference such as mains is for zero-DM filtering and birdie lists, not for the
/// mask: masking it would mask everything).
struct BlockStatistics {
    var mean: [Float]
    var std: [Float]
    var peakPower: [Float]
    /// Fourier bins each peak power was the largest of.
    var searchedBins: Int

    /// Bins per chunk whose median whitens the powers.
    static let chunk = 256

    static func measure(_ source: any SpectrumSource, blockSamples length: Int, blocks: Int, planner: FFTPlanner) throws -> BlockStatistics {
        let nch = source.channelCount, total = source.spectrumCount
        try source.seek(toSpectrum: 0)
        var stats = BlockStatistics(
            mean: .init(repeating: 0, count: blocks * nch), std: .init(repeating: 0, count: blocks * nch),
            peakPower: .init(repeating: 0, count: blocks * nch), searchedBins: max(1, length / 2 - 1))
        let longest = total - (blocks - 1) * length
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: longest * nch)
        defer { buffer.deallocate() }
        var sum = [Double](repeating: 0, count: nch), sumSq = [Double](repeating: 0, count: nch)
        let fftSize = length >= 16 ? length : 0
        let plan = fftSize > 0 ? planner.plan(size: fftSize) : nil
        let workspace = FFTWorkspace(size: max(2, fftSize))
        var powers = [Float](repeating: 0, count: fftSize / 2 + 1)
        var scratch = [Float](repeating: 0, count: chunk)
        var common = [Float](repeating: 0, count: max(1, fftSize))
        for b in 0..<blocks {
            let count = b == blocks - 1 ? total - b * length : length
            var got = 0
            while got < count {
                let n = try source.read(into: UnsafeMutableBufferPointer(rebasing: buffer[(got * nch)...]), count: count - got)
                guard n > 0 else { break }
                got += n
            }
            guard got > 0 else { continue }
            for c in 0..<nch { sum[c] = 0; sumSq[c] = 0 }
            sum.withUnsafeMutableBufferPointer { s in
                sumSq.withUnsafeMutableBufferPointer { q in
                    for t in 0..<got {
                        let row = buffer.baseAddress! + t * nch
                        for c in 0..<nch {
                            let v = Double(row[c])
                            s[c] += v
                            q[c] += v * v
                        }
                    }
                }
            }
            for c in 0..<nch {
                let m = sum[c] / Double(got)
                stats.mean[b * nch + c] = Float(m)
                stats.std[b * nch + c] = Float(max(0, sumSq[c] / Double(got) - m * m).squareRoot())
            }
            guard let plan, got >= fftSize else { continue }
            // The common mode: each instant's mean over channels of the normalised samples.
            for t in 0..<fftSize {
                let row = buffer.baseAddress! + t * nch
                var s: Float = 0
                var n = 0
                for c in 0..<nch where stats.std[b * nch + c] > 0 {
                    s += (row[c] - stats.mean[b * nch + c]) / stats.std[b * nch + c]
                    n += 1
                }
                common[t] = n > 0 ? s / Float(n) : 0
            }
            for c in 0..<nch {
                let variance = Double(stats.std[b * nch + c]) * Double(stats.std[b * nch + c])
                guard variance > 0 else { continue }
                let m = stats.mean[b * nch + c], sd = stats.std[b * nch + c]
                let input = workspace.real
                var p = buffer.baseAddress! + c
                for t in 0..<fftSize {
                    input[t] = p.pointee - m - common[t] * sd
                    p += nch
                }
                plan.execute(input: input, output: workspace.complex)
                let out = workspace.complex
                powers.withUnsafeMutableBufferPointer { pw in
                    for k in 1...(fftSize / 2) {
                        let re = out[2 * k], im = out[2 * k + 1]
                        pw[k] = re * re + im * im
                    }
                }
                stats.peakPower[b * nch + c] = whitenedPeak(&powers, bins: fftSize / 2, scratch: &scratch)
            }
        }
        try source.seek(toSpectrum: 0)
        return stats
    }

    /// The largest of powers[1..<bins] divided by the median of its chunk of ``chunk`` bins over
    /// ln 2 (an exponential's median), so that noise powers have mean 1 whatever the spectrum's
    /// slope.
    static func whitenedPeak(_ powers: inout [Float], bins: Int, scratch: inout [Float]) -> Float {
        var best: Float = 0
        var start = 1
        while start < bins {
            let end = min(bins, start + chunk)
            let n = end - start
            for i in 0..<n { scratch[i] = powers[start + i] }
            let med = scratch.withUnsafeMutableBufferPointer { s -> Float in
                let part = UnsafeMutableBufferPointer(rebasing: s[0..<n])
                Robust.quickselect(part, n / 2)
                return part[n / 2]
            }
            if med > 0 {
                let norm = Float(M_LN2) / med
                for i in start..<end { best = max(best, powers[i] * norm) }
            }
            start = end
        }
        return best
    }
}
