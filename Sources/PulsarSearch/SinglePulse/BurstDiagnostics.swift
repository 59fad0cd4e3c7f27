import Foundation

/// What FRB pipelines show of a burst, measured from the data at the event's DM: the dedispersed
/// pulse profile, the dedispersed frequency-time waterfall (subbands x time bins), and the boxcar
/// S/N at the event's width against DM.
public struct BurstDiagnostics: Sendable {
    /// Bin centres, seconds from the start of the file, and the profile (sum over subbands,
    /// normalised to unit noise).
    public var times: [Double]
    public var profile: [Float]
    /// Subband centre frequencies (MHz, highest first) and `waterfall[subband][bin]`, normalised
    /// per subband.
    public var frequencies: [Double]
    public var waterfall: [[Float]]
    /// S/N of the event's boxcar near its time, at DMs around its own.
    public var dmCurve: [(dm: Double, snr: Double)]

    /// Measures `event` in `source` (already cleaned, with `weights`): `bins` time bins of half
    /// the event's width around it, `subbands` subbands, and `dmTrials` DMs across
    /// `dmSpan` (pc cm^-3) centred on the event's DM.
    public static func measure(
        _ source: any SpectrumSource, weights: ChannelWeights, event: SinglePulseEvent, bins: Int = 64, subbands: Int = 16,
        dmTrials: Int = 41, dmSpan: Double? = nil
    ) throws -> BurstDiagnostics {
        let tsamp = source.sampleTime
        let binSamples = max(1, Int((0.5 * event.widthSeconds / tsamp).rounded()))
        let centre = Int(event.timeSeconds / tsamp)
        let first = max(0, centre - bins / 2 * binSamples)
        let count = min(bins, (source.spectrumCount - first) / binSamples)
        let dedisperser = SubbandDedisperser(source: source, weights: weights, subbands: min(subbands, source.channelCount))
        let (block, _) = try dedisperser.dedisperseSubbands(dm: event.dm, downsample: 1)
        let nsub = block.dms.count
        var waterfall: [[Float]] = []
        for s in 0..<nsub {
            let row: [Float] = block.withSeries(s) { series in
                (0..<count).map { b in
                    var sum: Float = 0
                    for k in 0..<binSamples where first + b * binSamples + k < series.count { sum += series[first + b * binSamples + k] }
                    return sum
                }
            }
            waterfall.append(Self.standardised(row))
        }
        let profile = Self.standardised((0..<count).map { b in waterfall.reduce(0) { $0 + $1[b] } })
        let freqs = (0..<source.channelCount).map(source.channelFrequency)
        let perSub = (freqs.count + nsub - 1) / nsub
        let frequencies = (0..<nsub).map { s -> Double in
            let band = freqs[(s * perSub)..<min(freqs.count, (s + 1) * perSub)]
            return band.reduce(0, +) / Double(max(1, band.count))
        }
        // S/N against DM: the event's boxcar, near its time, at each DM.
        let span = dmSpan ?? max(10, 2 * (event.dmMax - event.dmMin), 0.2 * event.dm)
        let dms = (0..<dmTrials).map { max(0, event.dm - span / 2 + span * Double($0) / Double(max(1, dmTrials - 1))) }
        let width = max(1, Int((event.widthSeconds / tsamp).rounded()))
        let search = BoxcarSearch(widths: [width], threshold: 0, normalisationBlock: Int(1 / tsamp))
        let curve = try dedisperser.dedisperse(dms: dms, downsample: 1)
        let window = 2 * width + Int(0.005 / tsamp)
        let dmCurve: [(dm: Double, snr: Double)] = dms.indices.map { i in
            (dms[i], Double(curve.withSeries(i) { search.peakSNR($0, width: width, centre: centre, window: window) }))
        }
        return BurstDiagnostics(
            times: (0..<count).map { (Double(first + $0 * binSamples) + 0.5 * Double(binSamples)) * tsamp },
            profile: profile, frequencies: frequencies, waterfall: waterfall, dmCurve: dmCurve)
    }

    /// `values` less their median, over their MAD-sigma (unchanged when that is 0).
    static func standardised(_ values: [Float]) -> [Float] {
        guard !values.isEmpty else { return values }
        let m = Robust.median(values)
        let s = Robust.sigma(values, centre: m)
        return values.map { s > 0 ? ($0 - m) / s : $0 - m }
    }
}

/// ``BurstDiagnostics`` as stored and sent: the same numbers, in Codable form.
public struct BurstPlots: Sendable, Codable, Equatable {
    public var times: [Double]
    public var profile: [Float]
    public var frequencies: [Double]
    public var waterfall: [[Float]]
    public var dms: [Double]
    public var snrs: [Double]

    public init(_ d: BurstDiagnostics) {
        times = d.times
        profile = d.profile
        frequencies = d.frequencies
        waterfall = d.waterfall
        dms = d.dmCurve.map(\.dm)
        snrs = d.dmCurve.map(\.snr)
    }

    enum CodingKeys: String, CodingKey {
        case times = "times_s", profile, frequencies = "frequencies_mhz", waterfall, dms, snrs
    }
}
