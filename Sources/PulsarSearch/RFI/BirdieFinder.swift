import Foundation

/// Finds periodic interference in the topocentric (DM 0) spectrum of a filterbank, to be zapped
/// from every DM trial with its harmonics.
///
/// A peak of the DM 0 spectrum is not always interference: a bright pulsar at low DM shows there
/// too. So each peak's harmonic family (its first 8 harmonics) is weighed at every DM trial of the
/// plan, from the Fourier coefficients of subband series (the shift theorem turns dedispersion at
/// a frequency into a phase per subband), and the peak is a birdie only when the family is
/// strongest below `lowDM`: as the search's own sifting would drop it, and as no dispersed
/// source behaves.
public struct BirdieFinder {
    /// Whitened DM-0 power (trial-corrected Gaussian sigma of one bin) a peak needs.
    public var sigma: Double = 6
    /// A family strongest below this DM (pc cm^-3) is interference (the sifting's low-DM cutoff).
    public var lowDM: Double = 2
    /// Harmonics weighed per family, and zapped when they stand out at DM 0.
    public var harmonics: Int = 8
    /// Most peaks examined (strongest first).
    public var maxPeaks: Int = 32
    /// Memory for the subband series, bytes.
    public var memoryBudget: Int = 256 << 20
    /// Lowest frequency examined, Hz.
    public var minFrequency: Double = 0.2

    public let planner: FFTPlanner

    public init(planner: FFTPlanner) { self.planner = planner }

    /// The birdies of `source` (channel levels and weights from `weights`) given the DMs the
    /// search will try; leaves the source at spectrum 0.
    public func find(in source: any SpectrumSource, weights: ChannelWeights, dms: [Double]) throws -> [Birdie] {
        let nch = source.channelCount, n = source.spectrumCount
        guard n >= 64 else { return [] }
        let duration = Double(n) * source.sampleTime
        var nsub = min(32, nch)
        while nsub > 1 && nsub * n * 4 > memoryBudget { nsub /= 2 }
        let perSub = (nch + nsub - 1) / nsub
        let subbands = (0..<nsub).map { s in (s * perSub)..<min(nch, (s + 1) * perSub) }.filter { !$0.isEmpty }
        let series = try Self.subbandSeries(source, weights: weights, subbands: subbands)
        let fTop = (0..<nch).map(source.channelFrequency).max()!
        let centres = subbands.map { band in band.map(source.channelFrequency).reduce(0, +) / Double(band.count) }

        // The DM 0 spectrum, whitened.
        let workspace = FFTWorkspace(size: n)
        let plan = planner.plan(size: n)
        let bins = n / 2
        var zero = [Float](repeating: 0, count: bins + 1)
        for t in 0..<n { workspace.real[t] = series.indices.reduce(0) { $0 + series[$1][t] } }
        plan.execute(input: workspace.real, output: workspace.complex)
        for k in 1...bins { zero[k] = workspace.complex[2 * k] * workspace.complex[2 * k] + workspace.complex[2 * k + 1] * workspace.complex[2 * k + 1] }
        let level = Self.localMeans(zero, bins: bins)
        let threshold = Float(RFIMasker.powerThreshold(sigma: sigma, bins: bins))
        let kMin = max(1, Int((minFrequency * duration).rounded(.up)))
        var peaks: [Int] = []
        for k in max(2, kMin)..<bins where level[k] > 0 {
            let p = zero[k] / level[k]
            if p > threshold && zero[k] >= zero[k - 1] && zero[k] >= zero[k + 1] { peaks.append(k) }
        }
        peaks = Array(peaks.sorted { zero[$0] / level[$0] > zero[$1] / level[$1] }.prefix(maxPeaks))
        guard !peaks.isEmpty else { return [] }

        // Each subband's coefficients at every harmonic of every peak.
        let wanted = Set(peaks.flatMap { k in (1...harmonics).map { k * $0 }.filter { $0 <= bins } })
        var coefficients: [Int: [(Float, Float)]] = [:]
        for bin in wanted { coefficients[bin] = [] }
        for s in series.indices {
            for t in 0..<n { workspace.real[t] = series[s][t] }
            plan.execute(input: workspace.real, output: workspace.complex)
            for bin in wanted { coefficients[bin]!.append((workspace.complex[2 * bin], workspace.complex[2 * bin + 1])) }
        }
        let delays = dms.map { dm in centres.map { Dispersion.delay(dm: dm, frequency: $0, reference: fTop) } }

        var birdies: [Birdie] = []
        let width = 2 / duration
        for k in peaks {
            let f = Double(k) / duration
            if birdies.contains(where: { b in (1...b.harmonics).contains { abs(f - Double($0) * b.frequency) <= b.width } }) { continue }
            let family = (1...harmonics).map { k * $0 }.filter { $0 <= bins }
            // The family's whitened power at each DM: the subbands' coefficients rotated back by
            // each subband's delay and summed.
            var best = (dm: 0.0, power: -Float.infinity)
            for (d, dm) in dms.enumerated() {
                var total: Float = 0
                for bin in family where level[bin] > 0 {
                    let fb = Double(bin) / duration
                    var re: Double = 0, im: Double = 0
                    for (s, a) in coefficients[bin]!.enumerated() {
                        let phase = 2 * Double.pi * fb * delays[d][s]
                        re += Double(a.0) * cos(phase) - Double(a.1) * sin(phase)
                        im += Double(a.0) * sin(phase) + Double(a.1) * cos(phase)
                    }
                    total += Float(re * re + im * im) / level[bin]
                }
                if total > best.power { best = (dm, total) }
            }
            guard best.dm < lowDM else { continue }
            // Zap the harmonics that stand out at DM 0 (at least the peak itself), the frequency
            // measured on the highest of them (its error is that harmonic's half bin over its
            // number), as wide as a strong line leaks: a line of whitened power P leaks about
            // P / (pi^2 d^2) into the bin d bins away, so zap out to where that falls to 2.
            let loud = family.enumerated().filter { level[$0.element] > 0 && zero[$0.element] / level[$0.element] > 10 }.map { $0.offset + 1 }
            let top = max(1, loud.max() ?? 1)
            let around = (top * k - top / 2 - 1)...min(bins, top * k + top / 2 + 1)
            let peakBin = around.filter { $0 >= 1 }.max { zero[$0] < zero[$1] } ?? top * k
            let refined = Double(peakBin) / Double(top) / duration
            let strongest = family.prefix(top).map { level[$0] > 0 ? zero[$0] / level[$0] : 0 }.max() ?? 0
            let reach = max(1, (Double(strongest) / (Double.pi * Double.pi * 2)).squareRoot())
            birdies.append(Birdie(frequency: refined, width: max(width, 2 * reach / duration), harmonics: top))
        }
        try source.seek(toSpectrum: 0)
        return birdies.sorted { $0.frequency < $1.frequency }
    }

    /// Each subband's normalised sum of its channels, one series per subband.
    static func subbandSeries(_ source: any SpectrumSource, weights: ChannelWeights, subbands: [Range<Int>]) throws -> [[Float]] {
        let nch = source.channelCount, n = source.spectrumCount
        var series = subbands.map { _ in [Float](repeating: 0, count: n) }
        try source.seek(toSpectrum: 0)
        let block = 4096
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: block * nch)
        defer { buffer.deallocate() }
        var t = 0
        while t < n {
            let got = try source.read(into: buffer, count: min(block, n - t))
            guard got > 0 else { break }
            for (s, band) in subbands.enumerated() {
                series[s].withUnsafeMutableBufferPointer { out in
                    for i in 0..<got {
                        let row = buffer.baseAddress! + i * nch
                        var acc: Float = 0
                        for c in band { acc += (row[c] - weights.means[c]) * weights.weights[c] }
                        out[t + i] = acc
                    }
                }
            }
            t += got
        }
        try source.seek(toSpectrum: 0)
        return series
    }

    /// Each bin's noise level: the clipped mean of its chunk of ``BlockStatistics/chunk`` bins
    /// (``BlockStatistics/chunkLevel(_:_:)``, as the mask whitens a cell's spectrum).
    static func localMeans(_ powers: [Float], bins: Int) -> [Float] {
        var level = [Float](repeating: 0, count: bins + 1)
        powers.withUnsafeBufferPointer { p in
            var start = 1
            while start <= bins {
                let end = min(bins + 1, start + BlockStatistics.chunk)
                let mean = BlockStatistics.chunkLevel(p, start..<end).mean
                for k in start..<end { level[k] = mean }
                start = end
            }
        }
        return level
    }
}
