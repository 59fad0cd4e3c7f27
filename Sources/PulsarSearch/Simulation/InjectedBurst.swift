import Foundation

/// A single dispersed pulse (a fast radio burst, a giant pulse) injected into a simulated
/// observation.
public struct InjectedBurst: Sendable, Codable, Equatable {
    /// Arrival at the top of the band, seconds from the start.
    public var time: Double
    public var dm: Double
    /// Intrinsic full width at half maximum, seconds (a Gaussian).
    public var width: Double
    /// The S/N a matched filter gets from the quantised data at the true DM, were it not smeared.
    public var snr: Double
    /// Scattering time at 1 GHz, seconds (an exponential tail scaling as frequency^-4); 0: none.
    public var scattering: Double

    public init(time: Double, dm: Double, width: Double, snr: Double, scattering: Double = 0) {
        self.time = time
        self.dm = dm
        self.width = width
        self.snr = snr
        self.scattering = scattering
    }
}

/// A burst's contribution to each channel, sample by sample: a Gaussian (the intrinsic width,
/// the channel's dispersion smearing and the sample time added in quadrature, its area kept)
/// convolved with the channel's scattering tail, arriving at the channel's dispersion delay.
struct BurstInjection {
    let arrival: [Double]
    let sigma: [Double]
    let tau: [Double]
    let area: Double
    let start: Double
    let end: Double

    init(_ burst: InjectedBurst, frequencies: [Double], tsamp: Double, channelWidth: Double, efficiency: Double) {
        let fTop = frequencies.max() ?? 0
        let nch = Double(frequencies.count)
        let s0 = burst.width / 2.3548  // FWHM to sigma
        // Optimal S/N of a unit-peak Gaussian of sigma s (samples) summed over N unit-noise channels:
        // A sqrt(N) sqrt(s sqrt(pi)); the amplitude A follows, and the area A s sqrt(2 pi) is kept per channel.
        let sSamples = max(s0, 0.3 * tsamp) / tsamp
        let peak = burst.snr / (nch.squareRoot() * (sSamples * Double.pi.squareRoot()).squareRoot()) / efficiency
        area = peak * sSamples * (2 * Double.pi).squareRoot() * tsamp  // in sigma x seconds
        arrival = frequencies.map { burst.time + Dispersion.delay(dm: burst.dm, frequency: $0, reference: fTop) }
        sigma = frequencies.map { f in
            let smear = Dispersion.channelSmearing(dm: burst.dm, frequency: f, channelWidth: channelWidth) / 2.3548
            return (s0 * s0 + smear * smear + pow(0.3 * tsamp, 2)).squareRoot()
        }
        tau = frequencies.map { burst.scattering * pow($0 / 1000, -4) }
        let reach = zip(sigma, tau).map { 6 * $0 + 12 * $1 }.max() ?? 0
        start = (arrival.min() ?? 0) - reach
        end = (arrival.max() ?? 0) + reach
    }

    /// Adds the burst at time `t` (seconds) to `row`, in noise sigmas.
    func add(at t: Double, to row: UnsafeMutableBufferPointer<Float>) {
        guard t >= start && t <= end else { return }
        for c in 0..<row.count {
            let x = t - arrival[c], s = sigma[c]
            guard x > -6 * s && x < 6 * s + 12 * tau[c] else { continue }
            let density: Double
            if tau[c] <= 0.05 * s {
                density = exp(-0.5 * x * x / (s * s)) / (s * (2 * Double.pi).squareRoot())
            } else {
                // Gaussian convolved with an exponential of time constant tau (exponentially modified Gaussian).
                let l = 1 / tau[c]
                density = 0.5 * l * exp(0.5 * l * (l * s * s - 2 * x)) * erfc((l * s * s - x) / (s * 2.0.squareRoot()))
            }
            row[c] += Float(area * density)
        }
    }
}
