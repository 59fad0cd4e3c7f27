import Foundation

/// Red noise and radio-frequency interference added to a simulated observation, so that tests and
/// benchmarks see what real data look like. Amplitudes are in units of the per-channel noise
/// sigma; everything is off by default.
public struct SimulatedInterference: Sendable, Codable, Equatable {
    /// Standard deviation of red noise common to all channels (gain and system-temperature drifts).
    public var redNoiseSigma: Double = 0
    /// Spectral index a of the red noise, whose power spectrum goes as 1/f^a (0 < a <= 2), from
    /// the inverse of the observation's length to a quarter of the sampling rate.
    public var redNoiseIndex: Double = 2
    /// Channels with persistent narrowband interference: extra Gaussian noise of
    /// `narrowbandSigma` in each, for the whole observation.
    public var narrowbandChannels: [Int] = []
    public var narrowbandSigma: Double = 3
    /// Undispersed broadband impulses (lightning, switching): mean number per second, amplitude in
    /// every channel, and length in seconds (at least one sample).
    public var impulseRate: Double = 0
    public var impulseAmplitude: Double = 3
    public var impulseWidth: Double = 1e-3
    /// Mains interference in every channel: amplitude of the fundamental (harmonic h has
    /// amplitude / h), its frequency (50 Hz in Europe, Asia and Australia) and the harmonics present.
    public var mainsAmplitude: Double = 0
    public var mainsFrequency: Double = 50
    public var mainsHarmonics: Int = 5
    /// A carrier (a transmitter's tone) drifting through the band: it adds `amplitude` to one
    /// channel at a time, moving linearly from `startChannel` to `endChannel` over the observation.
    public var carrier: DriftingCarrier? = nil

    public init() {}

    /// True when nothing is added.
    public var isEmpty: Bool {
        redNoiseSigma == 0 && narrowbandChannels.isEmpty && impulseRate == 0 && mainsAmplitude == 0 && carrier == nil
    }
}

/// A narrowband carrier drifting linearly across channels.
public struct DriftingCarrier: Sendable, Codable, Equatable {
    public var startChannel: Int
    public var endChannel: Int
    /// Added to the carrier's channel, in units of the noise sigma.
    public var amplitude: Double

    public init(startChannel: Int, endChannel: Int, amplitude: Double) {
        self.startChannel = startChannel
        self.endChannel = endChannel
        self.amplitude = amplitude
    }

    /// The carrier's channel at fraction `f` (0...1) of the observation.
    public func channel(at f: Double) -> Int {
        Int((Double(startChannel) + (Double(endChannel - startChannel)) * f).rounded())
    }
}

/// Generates the interference of one observation sample by sample, in order.
struct InterferenceGenerator {
    private let settings: SimulatedInterference
    private let tsamp: Double
    private var rng: SeededGenerator
    // Red noise: a sum of AR(1) processes with log-spaced time constants. Process j has a
    // Lorentzian spectrum 2 s_j^2 tau_j / (1 + (2 pi f tau_j)^2); with s_j^2 proportional to
    // tau_j^(a - 1) and three processes per decade the sum goes as 1/f^a between the shortest and
    // longest time constants.
    private var red: [Double] = []
    private var redDecay: [Double] = []
    private var redKick: [Double] = []
    private var narrowband: [Bool]
    private var mainsPhases: [Double] = []
    private var impulseLeft = 0
    private let impulseSamples: Int
    private let samples: Int

    init(_ settings: SimulatedInterference, channels: Int, tsamp: Double, duration: Double, seed: UInt64) {
        self.settings = settings
        self.tsamp = tsamp
        rng = SeededGenerator(seed: seed ^ 0x5EED_1F_0000)
        narrowband = [Bool](repeating: false, count: channels)
        for c in settings.narrowbandChannels where c >= 0 && c < channels { narrowband[c] = true }
        impulseSamples = max(1, Int((settings.impulseWidth / tsamp).rounded()))
        samples = max(1, Int((duration / tsamp).rounded()))
        if settings.redNoiseSigma > 0 {
            let shortest = 2 * tsamp / Double.pi, longest = duration
            let count = max(1, Int((3 * log10(longest / shortest)).rounded(.up)))
            let a = min(2, max(0.01, settings.redNoiseIndex))
            let taus = (0..<count).map { shortest * pow(longest / shortest, Double($0) / Double(max(1, count - 1))) }
            let variances = taus.map { pow($0, a - 1) }
            let scale = settings.redNoiseSigma * settings.redNoiseSigma / variances.reduce(0, +)
            for (tau, v) in zip(taus, variances) {
                let s = (v * scale).squareRoot()
                let rho = exp(-tsamp / tau)
                redDecay.append(rho)
                redKick.append(s * (1 - rho * rho).squareRoot())
                red.append(s * rng.gaussian())
            }
        }
        if settings.mainsAmplitude != 0 {
            mainsPhases = (0..<max(0, settings.mainsHarmonics)).map { _ in 2 * Double.pi * rng.uniform() }
        }
    }

    /// Adds the interference at sample `index` to `row` (one value per channel, in noise sigma).
    mutating func add(sample index: Int, to row: UnsafeMutableBufferPointer<Float>) {
        guard !settings.isEmpty else { return }
        var common = 0.0
        for j in red.indices {
            red[j] = red[j] * redDecay[j] + redKick[j] * rng.gaussian()
            common += red[j]
        }
        if settings.mainsAmplitude != 0 {
            let t = Double(index) * tsamp
            for (h, phase) in mainsPhases.enumerated() {
                let n = Double(h + 1)
                common += settings.mainsAmplitude / n * sin(2 * Double.pi * n * settings.mainsFrequency * t + phase)
            }
        }
        if impulseLeft == 0, settings.impulseRate > 0, rng.uniform() < settings.impulseRate * tsamp {
            impulseLeft = impulseSamples
        }
        if impulseLeft > 0 {
            common += settings.impulseAmplitude
            impulseLeft -= 1
        }
        let c = Float(common)
        for ch in 0..<row.count {
            row[ch] += c
            if narrowband[ch] { row[ch] += Float(settings.narrowbandSigma * rng.gaussian()) }
        }
        if let carrier = settings.carrier {
            let ch = carrier.channel(at: Double(index) / Double(samples))
            if ch >= 0 && ch < row.count { row[ch] += Float(carrier.amplitude) }
        }
    }
}

/// How much of a weak signal's S/N survives quantisation of unit Gaussian noise to `nbits` bits
/// with the simulator's levels (`noiseLevels`): the correlation between a value and its quantised
/// version, by numerical integration (sqrt(2/pi) = 0.80 for one bit).
func quantisationEfficiency(nbits: Int, mean: Double, sigma: Double) -> Double {
    guard nbits < 32 else { return 1 }
    let levels = Double((1 << min(nbits, 16)) - 1)
    var sxq = 0.0, sq = 0.0, sq2 = 0.0, total = 0.0
    let step = 0.001
    var x = -8.0
    while x <= 8 {
        let w = exp(-0.5 * x * x) * step
        let q = min(levels, max(0, (mean + sigma * x).rounded()))
        sxq += w * x * q
        sq += w * q
        sq2 += w * q * q
        total += w
        x += step
    }
    let meanQ = sq / total
    let varQ = sq2 / total - meanQ * meanQ
    guard varQ > 0 else { return 1 }
    return (sxq / total) / varQ.squareRoot()
}
