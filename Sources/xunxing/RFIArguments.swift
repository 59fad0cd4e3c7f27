import ArgumentParser
import PulsarSearch

/// The interference-excision options shared by `search` and `rfi`, named after rfifind's.
struct RFIArguments: ParsableArguments {
    @Option(name: .customLong("rfi"), help: "auto: measure a channel x time mask, clip impulses (and --zero-dm); off: search the data as they are.")
    var mode: RFIOptions.Mode = .auto

    @Option(help: "Use this mask (from `xunxing rfi FILE -o MASK`) instead of measuring one.")
    var mask: String?

    @Option(help: "Seconds per mask block (rfifind's -time); at least 256 samples.")
    var blockSeconds: Double = RFIOptions().blockSeconds

    @Option(help: "Mask a channel x block cell whose mean or standard deviation is this many robust sigmas off (rfifind's -timesig).")
    var timeSigma: Double = RFIOptions().timeSigma

    @Option(help: "Mask a cell whose strongest Fourier power is as unlikely as a Gaussian this many sigmas out (rfifind's -freqsig).")
    var freqSigma: Double = RFIOptions().freqSigma

    @Option(help: "Sample time (s) of the series the periodic test transforms (samples summed to it, a power of two at a time): tones up to 1/(2 x this) Hz at full sensitivity; 0: every sample, as rfifind (about 15x slower).")
    var fftSampleTime: Double = RFIOptions().fftSampleTime

    @Option(help: "Mask a channel whole when more than this fraction of its blocks are (rfifind's -chanfrac).")
    var channelFraction: Double = RFIOptions().channelFraction

    @Option(help: "Mask a block whole when more than this fraction of its channels are (rfifind's -intfrac).")
    var blockFraction: Double = RFIOptions().blockFraction

    @Option(help: "A channel (0-based, file order) to mask always; repeatable.")
    var zapChannel: [Int] = []

    @Option(help: "Replace spectra whose channel average is this many robust sigmas from their block's (rfifind's -clip); 0: no clipping.")
    var clipSigma: Double = RFIOptions().clipSigma

    @Option(help: "Zap periodic interference standing out at DM 0 by this many sigmas whose harmonics are strongest below the low-DM cutoff (automatic birdies); 0: off.")
    var birdieSigma: Double = RFIOptions().birdieSigma

    @Flag(help: "Subtract each spectrum's channel average (zero-DM filter): removes broadband interference, weakens pulsars at DMs near 0.")
    var zeroDm = false

    var options: RFIOptions {
        var o = RFIOptions()
        o.mode = mode
        o.blockSeconds = blockSeconds
        o.timeSigma = timeSigma
        o.freqSigma = freqSigma
        o.fftSampleTime = fftSampleTime
        o.channelFraction = channelFraction
        o.blockFraction = blockFraction
        o.zapChannels = zapChannel
        o.clipSigma = clipSigma
        o.zeroDM = zeroDm
        o.birdieSigma = birdieSigma
        return o
    }

    func validate() throws {
        if let problem = options.problem {
            throw ValidationError("--\(problem.field) \(problem.value): \(problem.reason)")
        }
    }
}

extension RFIOptions.Mode: ExpressibleByArgument {}
