import Foundation

/// One harmonic of a Fourier detection, measured where its interpolated power peaks near the
/// predicted bin (`h` times the fundamental's): what PRESTO's accelsearch lists per harmonic, and
/// what its sifting reads to reject candidates whose power sits in one stray harmonic.
///
/// The shape figures are Middleditch, Deich & Kulkarni's (1993), from the Fourier response `A(r)`
/// around the peak: the **centroid** `-(d phase / dr) / 2 pi` is where in the observation (0-1)
/// the harmonic's power arrived, 0.5 for a signal steady throughout; the **purity**
/// `sqrt(1.5 |P''| / P) / pi` is the RMS spread of that arrival time relative to a steady
/// signal's, 1 for a steady signal and about 0.5 for one present during half the observation.
public struct HarmonicMeasurement: Sendable, Codable, Equatable {
    /// Normalised power (the local noise power is 1).
    public var power: Double
    /// Power as the FFT gives it, before normalisation.
    public var rawPower: Double
    /// Fourier bin where the harmonic peaks.
    public var r: Double
    /// Phase of the Fourier amplitude at `r`, radians in (-pi, pi].
    public var phase: Double
    public var centroid: Double
    public var purity: Double

    enum CodingKeys: String, CodingKey {
        case power, rawPower = "raw_power", r, phase, centroid, purity
    }

    /// The values are kept to the digits their errors warrant (powers to 5 significant digits,
    /// `r` to 1e-4 bins, the rest to 1e-4), so that a work unit's result carrying them stays small
    /// and they read back from JSON exactly.
    public init(power: Double, rawPower: Double, r: Double, phase: Double, centroid: Double, purity: Double) {
        self.power = Self.significant(power, 5)
        self.rawPower = Self.significant(rawPower, 5)
        self.r = (r * 1e4).rounded() / 1e4
        self.phase = (phase * 1e4).rounded() / 1e4
        self.centroid = (centroid * 1e4).rounded() / 1e4
        self.purity = (purity * 1e4).rounded() / 1e4
    }

    static func significant(_ x: Double, _ digits: Int) -> Double {
        guard x != 0, x.isFinite else { return x }
        let scale = pow(10, Double(digits - 1 - Int(log10(abs(x)).rounded(.down))))
        return (x * scale).rounded() / scale
    }

    /// The power of the harmonics summed coherently, as accelsearch's "Coherent Power": each
    /// harmonic's amplitude `sqrt(power)` turned by its expected phase (harmonic `h` of a pulse at
    /// fundamental phase `p` is at `h p`) so that a pulse's harmonics add in phase. For a narrow
    /// pulse it approaches `(sum sqrt(P_h))^2`, for noise about the incoherent sum.
    public static func coherentPower(_ harmonics: [HarmonicMeasurement]) -> Double {
        guard let fundamental = harmonics.first else { return 0 }
        var re = 0.0, im = 0.0
        for (i, h) in harmonics.enumerated() {
            let turn = h.phase + fundamental.phase - (Double(i + 1) * fundamental.phase).truncatingRemainder(dividingBy: 2 * .pi)
            let amplitude = max(0, h.power).squareRoot()
            re += amplitude * cos(turn)
            im += amplitude * sin(turn)
        }
        return re * re + im * im
    }

    /// Measures harmonics `1 ... count` of the fundamental at bin `r`: each one's power is maximised
    /// within half a bin of `h r` and normalised by `localPower(bin)` (the mean noise power there);
    /// harmonics past the spectrum's end are left out.
    static func measure(
        fundamental r: Double, count: Int, interpolator: FourierInterpolator, localPower: (Int) -> Double
    ) -> [HarmonicMeasurement] {
        // The peak is found with the search's sum (16 bins a side); the shape at it needs the
        // response's curvature, which that sum biases by ~8 % for a signal present half the time,
        // so power, phase and shape are read with 64 bins a side (~2 %).
        var wide = interpolator
        wide.halfWidth = max(64, interpolator.halfWidth)
        var measured: [HarmonicMeasurement] = []
        for h in 1...max(1, count) {
            let predicted = r * Double(h)
            guard predicted >= 1, Int(predicted.rounded()) < interpolator.count - 1 else { break }
            let peak = peakBin(near: predicted, interpolator: interpolator)
            let local = localPower(Int(peak.rounded()))
            guard local > 0 else { break }
            let (re, im) = wide.amplitude(at: peak)
            let raw = re * re + im * im
            // The shape from finite differences of the response around the peak.
            let d = 0.02
            let (reL, imL) = wide.amplitude(at: peak - d), (reH, imH) = wide.amplitude(at: peak + d)
            var dPhase = atan2(imH, reH) - atan2(imL, reL)
            if dPhase > .pi { dPhase -= 2 * .pi } else if dPhase < -.pi { dPhase += 2 * .pi }
            let pL = reL * reL + imL * imL, pH = reH * reH + imH * imH
            let curvature = (pH - 2 * raw + pL) / (d * d)
            let purity = raw > 0 ? (1.5 * abs(curvature) / raw).squareRoot() / .pi : 0
            measured.append(HarmonicMeasurement(
                power: raw / local, rawPower: raw, r: peak, phase: atan2(im, re),
                centroid: -dPhase / (2 * d) / (2 * .pi), purity: purity))
        }
        return measured
    }

    /// The bin within half a bin of `predicted` where the interpolated power peaks: a grid of
    /// eighths, then golden-section search around the best.
    static func peakBin(near predicted: Double, interpolator: FourierInterpolator) -> Double {
        var best = predicted, bestPower = -1.0
        for i in -4...4 {
            let r = predicted + Double(i) / 8
            let p = interpolator.power(at: r)
            if p > bestPower { best = r; bestPower = p }
        }
        let (r, p) = GoldenSection.maximum(from: best - 0.125, to: best + 0.125, iterations: 10) { interpolator.power(at: $0) }
        return p > bestPower ? r : best
    }
}
