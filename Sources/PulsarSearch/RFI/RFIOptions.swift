import Foundation

/// How a filterbank is cleaned of interference before dedispersion, after PRESTO's `rfifind`
/// (block time, time sigma, frequency sigma, channel and interval fractions, clipping) and the
/// zero-DM filter of Eatough et al. (2009).
public struct RFIOptions: Sendable, Codable, Equatable {
    /// `auto`: measure a mask from the data; `off`: no mask, no clipping, no zero-DM.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case auto, off
    }

    public var mode: Mode = .auto
    /// Seconds per block of the mask (each channel x block cell is judged on its own), rounded to
    /// the nearest power of two of samples, at least 256.
    public var blockSeconds: Double = 1
    /// Cells whose mean or standard deviation lies this many robust sigmas from what the rest of
    /// the data lead one to expect are masked (rfifind's `-timesig`).
    public var timeSigma: Double = 10
    /// Cells whose strongest Fourier power has a false-alarm probability below that of a Gaussian
    /// at this many sigmas are masked (rfifind's `-freqsig`): periodic interference.
    public var freqSigma: Double = 4
    /// Sample time (seconds) of the series the periodic test transforms: each cell's samples are
    /// summed in groups of the largest power of two that fits, so that the test costs a fraction
    /// of reading the data. Tones below 1 / (2 x this) Hz are seen at full sensitivity; faster ones
    /// alias into the band, attenuated by the summing. 0: every sample is transformed, as rfifind
    /// does (some 30 times the cost of reading the file).
    public var fftSampleTime: Double = 0.002
    /// A channel with more than this fraction of its blocks masked is masked whole (`-chanfrac`).
    public var channelFraction: Double = 0.7
    /// A block with more than this fraction of its channels masked is masked whole (`-intfrac`).
    public var blockFraction: Double = 0.3
    /// Channels always masked (0-based, file order): a site's known bad channels.
    public var zapChannels: [Int] = []
    /// Spectra whose mean over the unmasked channels lies this many robust sigmas from the block's
    /// are replaced (rfifind's `-clip`): broadband impulses. 0 turns clipping off.
    public var clipSigma: Double = 6
    /// Subtract from each spectrum its mean over the channels (zero-DM filtering): removes
    /// undispersed broadband interference and also weakens pulsars at DMs near 0.
    public var zeroDM: Bool = false
    /// Periodic interference standing out at DM 0 by this many sigmas (one bin, trial-corrected),
    /// whose harmonic family is strongest below the low-DM cutoff, is zapped from every trial with
    /// its harmonics (automatic birdies). 0 turns it off.
    public var birdieSigma: Double = 6

    public init() {}

    /// Samples summed per point of the periodic test's series at sample time `sampleTime`: the
    /// largest power of two whose sum lasts at most ``fftSampleTime`` (at least 1).
    public func fftDecimation(sampleTime: Double) -> Int {
        guard fftSampleTime > 0, sampleTime > 0 else { return 1 }
        var factor = 1
        while Double(factor * 2) * sampleTime <= fftSampleTime * (1 + 1e-9) && factor < 1 << 20 { factor *= 2 }
        return factor
    }

    /// No cleaning at all.
    public static let off: RFIOptions = {
        var o = RFIOptions()
        o.mode = .off
        return o
    }()

    private enum CodingKeys: String, CodingKey {
        case mode, blockSeconds, timeSigma, freqSigma, fftSampleTime, channelFraction, blockFraction, zapChannels, clipSigma, zeroDM, birdieSigma
    }

    /// Decodes with every field optional (a preset may give only what it changes).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RFIOptions()
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? d.mode
        blockSeconds = try c.decodeIfPresent(Double.self, forKey: .blockSeconds) ?? d.blockSeconds
        timeSigma = try c.decodeIfPresent(Double.self, forKey: .timeSigma) ?? d.timeSigma
        freqSigma = try c.decodeIfPresent(Double.self, forKey: .freqSigma) ?? d.freqSigma
        fftSampleTime = try c.decodeIfPresent(Double.self, forKey: .fftSampleTime) ?? d.fftSampleTime
        channelFraction = try c.decodeIfPresent(Double.self, forKey: .channelFraction) ?? d.channelFraction
        blockFraction = try c.decodeIfPresent(Double.self, forKey: .blockFraction) ?? d.blockFraction
        zapChannels = try c.decodeIfPresent([Int].self, forKey: .zapChannels) ?? d.zapChannels
        clipSigma = try c.decodeIfPresent(Double.self, forKey: .clipSigma) ?? d.clipSigma
        zeroDM = try c.decodeIfPresent(Bool.self, forKey: .zeroDM) ?? d.zeroDM
        birdieSigma = try c.decodeIfPresent(Double.self, forKey: .birdieSigma) ?? d.birdieSigma
    }

    /// The first setting out of range, as (field, value, reason); nil when all are usable.
    public var problem: (field: String, value: String, reason: String)? {
        if !(blockSeconds > 0) { return ("blockSeconds", "\(blockSeconds)", "must be > 0") }
        if !(timeSigma > 0) { return ("timeSigma", "\(timeSigma)", "must be > 0") }
        if !(freqSigma > 0) { return ("freqSigma", "\(freqSigma)", "must be > 0") }
        if !(fftSampleTime >= 0) || !fftSampleTime.isFinite { return ("fftSampleTime", "\(fftSampleTime)", "must be >= 0 seconds (0: every sample)") }
        if !(0...1).contains(channelFraction) { return ("channelFraction", "\(channelFraction)", "must be in 0...1") }
        if !(0...1).contains(blockFraction) { return ("blockFraction", "\(blockFraction)", "must be in 0...1") }
        if !(birdieSigma >= 0) { return ("birdieSigma", "\(birdieSigma)", "must be >= 0 (0: no automatic birdies)") }
        if !(clipSigma >= 0) { return ("clipSigma", "\(clipSigma)", "must be >= 0 (0: no clipping)") }
        if let bad = zapChannels.first(where: { $0 < 0 }) { return ("zapChannels", "\(bad)", "channels are numbered from 0") }
        return nil
    }
}
