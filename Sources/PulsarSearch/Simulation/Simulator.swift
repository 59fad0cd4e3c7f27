import Foundation

/// A pulsar to inject into simulated data.
public struct InjectedPulsar: Sendable, Codable, Equatable {
    /// Period in seconds (at the middle of the observation).
    public var period: Double
    /// Dispersion measure, pc cm^-3.
    public var dm: Double
    /// Pulse full width at half maximum as a fraction of the period.
    public var dutyCycle: Double
    /// Matched-filter signal-to-noise of the whole observation: the S/N an ideal search would reach
    /// on the series dedispersed at the true DM, before channel smearing, in the quantised data.
    public var snr: Double
    /// Line-of-sight acceleration, m/s^2 (positive: frequency falling).
    public var acceleration: Double
    /// Pulse phase at the start, turns.
    public var phase: Double

    public init(period: Double, dm: Double, dutyCycle: Double = 0.05, snr: Double, acceleration: Double = 0, phase: Double = 0) {
        self.period = period
        self.dm = dm
        self.dutyCycle = dutyCycle
        self.snr = snr
        self.acceleration = acceleration
        self.phase = phase
    }
}

/// A simulated observation: Gaussian noise in every channel, quantised to `nbits`, plus dispersed,
/// optionally accelerated pulsars. The same parameters and seed give the same file.
public struct SimulatedObservation: Sendable, Codable, Equatable {
    public var channels: Int = 64
    /// Centre of the first channel, MHz.
    public var fch1: Double = 1500
    /// Channel step, MHz (negative: descending frequencies, the usual order).
    public var foff: Double = -1
    /// Sample time, s.
    public var tsamp: Double = 256e-6
    public var samples: Int = 1 << 16
    public var nbits: Int = 8
    public var seed: UInt64 = 1
    public var pulsars: [InjectedPulsar] = []
    /// Single dispersed pulses.
    public var bursts: [InjectedBurst] = []
    /// Red noise and interference (none by default).
    public var interference = SimulatedInterference()
    public var sourceName: String = "simulated"
    /// Pointing (J2000 degrees) and start (MJD) written into the header; nil: no position, MJD 60000.
    public var raDegrees: Double?
    public var decDegrees: Double?
    public var startMJD: Double?

    public init() {}

    public var duration: Double { Double(samples) * tsamp }

    /// The filterbank header this observation is written with.
    public var header: FilterbankHeader {
        var h = FilterbankHeader(
            sourceName: sourceName, fch1: fch1, foff: foff, nchans: channels, nbits: nbits, tsamp: tsamp, tstart: startMJD ?? 60000)
        h.srcRaj = raDegrees.map { SexagesimalAngle.packed(degrees: $0, hours: true) }
        h.srcDej = decDegrees.map { SexagesimalAngle.packed(degrees: $0, hours: false) }
        h.machineID = 0
        h.telescopeID = 0
        return h
    }

    /// Noise mean and standard deviation before quantisation, chosen per bit depth so that the
    /// quantiser neither clips nor wastes levels.
    var noiseLevels: (mean: Double, sigma: Double) {
        switch nbits {
        case 1: return (0.5, 0.5)
        case 2: return (1.5, 1.0)
        case 4: return (7.5, 3.0)
        case 8: return (128, 18)
        case 16: return (32768, 3000)
        default: return (0, 1)
        }
    }
}

/// Generates simulated filterbank data block by block (never the whole observation at once).
public enum Simulator {
    /// Writes `observation` to a SIGPROC filterbank at `path`.
    public static func writeFilterbank(_ observation: SimulatedObservation, to path: String) throws {
        let writer = try FilterbankWriter(path: path, header: observation.header)
        try generate(observation) { try writer.write($0) }
        try writer.close()
    }

    /// Writes `observation` as a PSRFITS search-mode file at `path` (total intensity, AA+BB), in
    /// rows of `samplesPerRow` samples, which must divide the observation's samples; the bits per
    /// sample must be 1, 2, 4 or 8. `ascending` writes the channels lowest frequency first.
    public static func writePSRFITS(
        _ observation: SimulatedObservation, to path: String, samplesPerRow: Int = 1024, ascending: Bool = false
    ) throws {
        guard samplesPerRow >= 1, observation.samples % samplesPerRow == 0 else {
            throw FormatError.invalidValue(file: path, field: "NSBLK", value: "\(samplesPerRow)",
                                           reason: "it must divide the \(observation.samples) samples simulated")
        }
        let nch = observation.channels
        var freqs = (0..<nch).map { observation.fch1 + Double($0) * observation.foff }
        let flip = ascending == (observation.foff < 0)
        if flip { freqs.reverse() }
        let info = ObservationInfo(format: "psrfits", telescope: "Fake", source: observation.sourceName, mjd: observation.header.tstart,
                                   raDegrees: observation.raDegrees, decDegrees: observation.decDegrees)
        let writer = try PSRFITSWriter(path: path, info: info, frequencies: freqs, sampleTime: observation.tsamp,
                                       bitsPerSample: observation.nbits, samplesPerRow: samplesPerRow)
        let ones = [Float](repeating: 1, count: nch), zeros = [Float](repeating: 0, count: nch)
        try generate(observation, quantise: true, blockLength: samplesPerRow) { block in
            var row = [UInt8](repeating: 0, count: block.count)
            for s in 0..<(block.count / nch) {
                for c in 0..<nch { row[s * nch + c] = UInt8(block[s * nch + (flip ? nch - 1 - c : c)]) }
            }
            try writer.appendRow(samples: row, scale: ones, offset: zeros, weight: ones)
        }
        try writer.close()
    }

    /// The observation held in memory, for tests.
    public static func spectra(_ observation: SimulatedObservation) -> InMemorySpectra {
        var data: [Float] = []
        data.reserveCapacity(observation.samples * observation.channels)
        try! generate(observation, quantise: true) { data.append(contentsOf: $0) }
        let freqs = (0..<observation.channels).map { observation.fch1 + Double($0) * observation.foff }
        return InMemorySpectra(data: data, channelFrequencies: freqs, sampleTime: observation.tsamp)
    }

    /// Calls `body` with consecutive blocks of spectra (spectrum-major), `blockLength` spectra each.
    public static func generate(
        _ o: SimulatedObservation, quantise: Bool = false, blockLength: Int = 1024,
        _ body: (UnsafeBufferPointer<Float>) throws -> Void
    ) throws {
        let nch = o.channels
        let (mean, sigma) = o.noiseLevels
        let freqs = (0..<nch).map { o.fch1 + Double($0) * o.foff }
        let fTop = freqs.max()!
        let tableSize = 1024
        let efficiency = quantisationEfficiency(nbits: o.nbits, mean: mean, sigma: sigma)
        var interference = InterferenceGenerator(
            o.interference, channels: nch, tsamp: o.tsamp, duration: o.duration, seed: o.seed)
        let duration = o.duration
        let c = AccelerationPlan.speedOfLight

        // Per pulsar and channel: delay (turns) and a profile table in units of the noise sigma.
        struct Injection {
            var frequency: Double
            var phase: Double
            var acceleration: Double
            var delayTurns: [Double]
            var tables: [[Float]]
        }
        let injections: [Injection] = o.pulsars.map { p in
            let width = p.dutyCycle * p.period
            let sampled = (width * width + pow(0.68 * o.tsamp, 2)).squareRoot()
            let pulses = duration / p.period
            // The S/N is that of the quantised data: quantisation keeps a fraction `efficiency` of a
            // weak signal's S/N, so the amplitude before it is larger by 1 / efficiency.
            let amplitude = p.snr / ((width / sampled) * (Double(nch) * pulses * 0.7527 * sampled / o.tsamp).squareRoot())
                / efficiency
            var tables: [[Float]] = []
            var delays: [Double] = []
            for f in freqs {
                delays.append(Dispersion.delay(dm: p.dm, frequency: f, reference: fTop) / p.period)
                let smear = Dispersion.channelSmearing(dm: p.dm, frequency: f, channelWidth: o.foff)
                let wc = (sampled * sampled + pow(0.68 * smear, 2)).squareRoot()
                let peak = amplitude * width / wc
                let wTurns = wc / p.period
                tables.append((0..<tableSize).map { i in
                    var d = Double(i) / Double(tableSize)
                    if d > 0.5 { d -= 1 }
                    var v = 0.0
                    // Sum the nearest wraps so wide pulses stay periodic.
                    for k in -1...1 {
                        let x = (d + Double(k)) / wTurns
                        v += exp(-4 * M_LN2 * x * x)
                    }
                    return Float(peak * v)
                })
            }
            return Injection(frequency: 1 / p.period, phase: p.phase, acceleration: p.acceleration, delayTurns: delays, tables: tables)
        }

        let bursts = o.bursts.map {
            BurstInjection($0, frequencies: freqs, tsamp: o.tsamp, channelWidth: abs(o.foff), efficiency: efficiency)
        }
        var rng = SeededGenerator(seed: o.seed)
        var block = [Float](repeating: 0, count: blockLength * nch)
        var t = 0
        let levels = Double((1 << min(o.nbits, 16)) - 1)
        while t < o.samples {
            let count = min(blockLength, o.samples - t)
            for s in 0..<count {
                let time = Double(t + s) * o.tsamp
                let row = s * nch
                for ch in 0..<nch { block[row + ch] = Float(rng.gaussian()) }
                block.withUnsafeMutableBufferPointer {
                    interference.add(sample: t + s, to: UnsafeMutableBufferPointer(rebasing: $0[row..<(row + nch)]))
                }
                block.withUnsafeMutableBufferPointer { b in
                    for burst in bursts { burst.add(at: time, to: UnsafeMutableBufferPointer(rebasing: b[row..<(row + nch)])) }
                }
                for inj in injections {
                    let offset = time - duration / 2
                    let tau = time - inj.acceleration * offset * offset / (2 * c)
                    let base = inj.frequency * tau + inj.phase
                    for ch in 0..<nch {
                        var phase = base - inj.delayTurns[ch]
                        phase -= phase.rounded(.down)
                        block[row + ch] += inj.tables[ch][min(tableSize - 1, Int(phase * Double(tableSize)))]
                    }
                }
                for ch in 0..<nch {
                    var v = mean + sigma * Double(block[row + ch])
                    if quantise && o.nbits < 32 { v = min(levels, max(0, v.rounded())) }
                    block[row + ch] = Float(v)
                }
            }
            try block.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<(count * nch)])) }
            t += count
        }
    }

    /// White Gaussian noise (unit variance) with pulsars added directly (their DM is ignored),
    /// and `interference` (a single channel: channel 0 is the only hot channel there is), as a
    /// dedispersed series; for benchmarks and series-level tests.
    public static func timeSeries(
        samples: Int, tsamp: Double, pulsars: [InjectedPulsar], seed: UInt64, dm: Double = 0,
        interference: SimulatedInterference = SimulatedInterference()
    ) -> TimeSeries {
        var o = SimulatedObservation()
        o.channels = 1
        o.tsamp = tsamp
        o.samples = samples
        o.nbits = 32
        o.seed = seed
        o.pulsars = pulsars.map { var p = $0; p.dm = 0; return p }
        o.interference = interference
        var data: [Float] = []
        data.reserveCapacity(samples)
        try! generate(o, blockLength: 65536) { data.append(contentsOf: $0) }
        return TimeSeries(samples: data, tsamp: tsamp, dm: dm, sourceName: "simulated")
    }
}
