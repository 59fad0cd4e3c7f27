import ArgumentParser
import Foundation
import PulsarSearch

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a simulated filterbank or time series: Gaussian noise plus injected pulsars.",
        discussion: """
            The same options and --seed always write the same file. --snr is the matched-filter \
            S/N of the whole observation at the true DM before channel smearing; searches recover \
            less, as with real data. Omit --period for pure noise.

            --format presto writes a dedispersed PRESTO time series instead (OUTPUT.dat and \
            OUTPUT.inf, float32, unit-variance white noise; the pulsars are added undispersed and \
            the .inf records the first --dm), which PRESTO, riptide and `xunxing search` all read; \
            --format tim writes the same series as a SIGPROC .tim. Channel options are ignored. \
            --format psrfits writes the filterbank as a PSRFITS search-mode file instead (1, 2, 4 \
            or 8 bits, rows of --samples-per-row samples).

            Real data are not white: --red-noise adds drifts common to all channels (1/f^a, \
            --red-index a), --mains 50 Hz interference with harmonics, --hot-channel persistent \
            narrowband interference, --impulse-rate undispersed broadband bursts. Amplitudes are \
            in units of the per-channel noise sigma; --snr stays the S/N of the quantised data.

            Examples:
              xunxing simulate noise.fil --samples 131072
              xunxing simulate psr.fil --period 0.25 --dm 30 --snr 20 --duty-cycle 0.05
              xunxing simulate binary.fil --period 0.0031 --dm 40 --accel 25 --tsamp 64e-6 --samples 4194304
              xunxing simulate psr.fits --format psrfits --period 0.25 --dm 30 --snr 20
              xunxing simulate psr --format presto --period 0.5 --snr 15 --tsamp 64e-6 --samples 4194304
              xunxing simulate rfi.fil --period 0.25 --dm 30 --red-noise 5 --mains 0.3 --hot-channel 12 --impulse-rate 1
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case filterbank, psrfits, presto, tim
    }

    @Argument(help: "Output path (for --format presto the base path: OUTPUT.dat and OUTPUT.inf).")
    var output: String

    @Option(help: "Output: filterbank (SIGPROC), psrfits (search mode), presto (.dat + .inf time series) or tim (SIGPROC time series).")
    var format: Format = .filterbank

    @Option(help: "Samples per PSRFITS row (--format psrfits); must divide --samples.")
    var samplesPerRow: Int = 1024

    @Option(help: "Pulsar period in seconds (repeat to inject several pulsars).")
    var period: [Double] = []
    @Option(help: "DM of each pulsar (one value applies to all).")
    var dm: [Double] = [0]
    @Option(help: "S/N of each pulsar.")
    var snr: [Double] = [20]
    @Option(help: "Pulse FWHM as a fraction of the period.")
    var dutyCycle: [Double] = [0.05]
    @Option(help: "Line-of-sight acceleration of each pulsar, m/s^2.")
    var accel: [Double] = [0]

    @Option(help: "Channels.") var channels: Int = 64
    @Option(help: "Centre frequency of the first channel, MHz.") var fch1: Double = 1500
    @Option(help: "Channel step, MHz (negative: descending).") var foff: Double = -4
    @Option(help: "Sample time, s.") var tsamp: Double = 256e-6
    @Option(help: "Number of time samples.") var samples: Int = 1 << 18
    @Option(help: "Bits per sample: 1, 2, 4, 8, 16 or 32.") var nbits: Int = 8
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Pointing right ascension written into the header: degrees or hh:mm:ss.s.") var ra: String?
    @Option(help: "Pointing declination written into the header: degrees or [+-]dd:mm:ss.s.") var dec: String?
    @Option(help: "MJD of the first sample.") var mjd: Double = 60000

    @Option(help: "Red noise common to all channels: its standard deviation in noise sigma.") var redNoise: Double = 0
    @Option(help: "Spectral index a of the red noise (power ~ 1/f^a, 0 < a <= 2).") var redIndex: Double = 2
    @Option(help: "Amplitude of 50 Hz mains interference (harmonic h at amplitude / h), noise sigma.") var mains: Double = 0
    @Option(help: "Mains frequency, Hz.") var mainsFrequency: Double = 50
    @Option(help: "A channel (0-based) with persistent narrowband interference (repeatable).") var hotChannel: [Int] = []
    @Option(help: "Extra noise in each --hot-channel, noise sigma.") var hotSigma: Double = 3
    @Option(help: "Undispersed broadband impulses per second.") var impulseRate: Double = 0
    @Option(help: "Impulse amplitude in every channel, noise sigma.") var impulseAmplitude: Double = 3

    func validate() throws {
        guard [1, 2, 4, 8, 16, 32].contains(nbits) else { throw ValidationError("--nbits must be 1, 2, 4, 8, 16 or 32") }
        guard channels >= 1, samples >= 1, tsamp > 0, foff != 0, fch1 > 0 else {
            throw ValidationError("--channels, --samples, --tsamp and --fch1 must be positive and --foff non-zero")
        }
        if channels * nbits % 8 != 0 { throw ValidationError("--channels x --nbits must fill whole bytes") }
        if format == .psrfits {
            guard nbits <= 8 else { throw ValidationError("--format psrfits writes 1, 2, 4 or 8-bit samples, not --nbits \(nbits)") }
            guard samplesPerRow >= 1, samples % samplesPerRow == 0 else {
                throw ValidationError("--samples-per-row \(samplesPerRow) must divide --samples \(samples)")
            }
        }
        for (name, values) in [("--dm", dm), ("--snr", snr), ("--duty-cycle", dutyCycle), ("--accel", accel)]
        where values.count != 1 && values.count != period.count {
            throw ValidationError("\(name) takes one value or one per --period (\(period.count))")
        }
        for p in period where p <= 2 * tsamp { throw ValidationError("--period \(p) is not longer than two samples") }
        guard redNoise >= 0, redIndex > 0, redIndex <= 2 else {
            throw ValidationError("--red-noise must be >= 0 and --red-index in (0, 2], got \(redNoise) and \(redIndex)")
        }
        guard mainsFrequency > 0, impulseRate >= 0, hotSigma >= 0 else {
            throw ValidationError("--mains-frequency must be positive, --impulse-rate and --hot-sigma not negative")
        }
        for c in hotChannel where c < 0 || c >= channels {
            throw ValidationError("--hot-channel \(c) is outside 0..<\(channels)")
        }
        if (ra == nil) != (dec == nil) { throw ValidationError("--ra and --dec go together") }
        if let ra, KnownCommand.angle(ra, hours: true).map({ (0..<360).contains($0) }) != true {
            throw ValidationError("--ra '\(ra)': not degrees in 0-360 or hh:mm:ss.s")
        }
        if let dec, KnownCommand.angle(dec, hours: false).map({ abs($0) <= 90 }) != true {
            throw ValidationError("--dec '\(dec)': not degrees in -90-90 or dd:mm:ss.s")
        }
        guard mjd.isFinite, mjd > 0 else { throw ValidationError("--mjd \(mjd): must be a positive MJD") }
    }

    func run() throws {
        var o = SimulatedObservation()
        o.channels = channels
        o.fch1 = fch1
        o.foff = foff
        o.tsamp = tsamp
        o.samples = samples
        o.nbits = nbits
        o.seed = seed
        o.raDegrees = ra.flatMap { KnownCommand.angle($0, hours: true) }
        o.decDegrees = dec.flatMap { KnownCommand.angle($0, hours: false) }
        o.startMJD = mjd
        o.interference.redNoiseSigma = redNoise
        o.interference.redNoiseIndex = redIndex
        o.interference.mainsAmplitude = mains
        o.interference.mainsFrequency = mainsFrequency
        o.interference.narrowbandChannels = hotChannel
        o.interference.narrowbandSigma = hotSigma
        o.interference.impulseRate = impulseRate
        o.interference.impulseAmplitude = impulseAmplitude
        func value(_ list: [Double], _ i: Int) -> Double { list.count == 1 ? list[0] : list[i] }
        o.pulsars = period.enumerated().map { i, p in
            InjectedPulsar(period: p, dm: value(dm, i), dutyCycle: value(dutyCycle, i), snr: value(snr, i), acceleration: value(accel, i))
        }
        if format == .psrfits {
            try Simulator.writePSRFITS(o, to: output, samplesPerRow: samplesPerRow)
            print("wrote \(output): PSRFITS, \(channels) channels x \(samples) samples, \(String(format: "%.1f", o.duration)) s, \(o.pulsars.count) pulsar(s)")
            return
        }
        if format != .filterbank {
            var series = Simulator.timeSeries(
                samples: samples, tsamp: tsamp, pulsars: o.pulsars, seed: seed, dm: dm[0], interference: o.interference)
            series.sourceName = o.sourceName
            if format == .tim {
                try TimeSeriesFile.writeTim(series, path: output)
            } else {
                var base = output
                for ext in [".dat", ".inf"] where base.hasSuffix(ext) { base = String(base.dropLast(ext.count)) }
                try TimeSeriesFile.writePresto(series, basePath: base)
            }
            print("wrote \(output): time series of \(samples) samples, \(String(format: "%.1f", o.duration)) s, \(o.pulsars.count) pulsar(s)")
            return
        }
        try Simulator.writeFilterbank(o, to: output)
        print("wrote \(output): \(channels) channels x \(samples) samples, \(String(format: "%.1f", o.duration)) s, \(o.pulsars.count) pulsar(s)")
    }
}
