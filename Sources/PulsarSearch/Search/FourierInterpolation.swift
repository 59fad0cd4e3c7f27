import CSearchKernels
import Foundation

/// Fourier amplitudes between bins.
///
/// For a real series of length N with DFT X_m, the response at fractional frequency r is, for large N,
/// `A(r) = -exp(-i pi r) sin(pi r) / pi * sum_m X_m / (m - r)`: every bin contributes with weight
/// 1/(m - r). Summing the `halfWidth` nearest bins on each side recovers the power a signal loses when
/// it falls between bins (up to 59% at half a bin with no interpolation).
public struct FourierInterpolator {
    /// Interleaved complex spectrum (re, im), `count` complex values.
    public let spectrum: UnsafePointer<Float>
    public let count: Int
    /// Bins on each side of `r` used in the sum.
    public var halfWidth: Int = 16

    public init(spectrum: UnsafePointer<Float>, count: Int) {
        self.spectrum = spectrum
        self.count = count
    }

    /// |A(r)|^2, the raw (unnormalised) power at fractional bin `r`.
    public func power(at r: Double) -> Double {
        let (re, im) = amplitude(at: r)
        return re * re + im * im
    }

    /// A(r), the complex Fourier amplitude at fractional bin `r` (the bin's own value at a whole
    /// bin; 0 outside the spectrum).
    public func amplitude(at r: Double) -> (re: Double, im: Double) {
        let nearest = Int(r.rounded())
        if abs(r - Double(nearest)) < 1e-9 {
            guard nearest >= 0 && nearest < count else { return (0, 0) }
            return (Double(spectrum[2 * nearest]), Double(spectrum[2 * nearest + 1]))
        }
        let base = Int(r.rounded(.down))
        let lo = max(0, base - halfWidth + 1)
        let hi = min(count - 1, base + halfWidth)
        guard lo <= hi else { return (0, 0) }
        var sumRe = 0.0
        var sumIm = 0.0
        xx_fourier_sum(spectrum, lo, hi, r, &sumRe, &sumIm)
        // -exp(-i pi r) sin(pi r) / pi times the sum.
        let s = -sin(Double.pi * r) / Double.pi
        let c = cos(Double.pi * r), n = -sin(Double.pi * r)
        let re = s * (c * sumRe - n * sumIm), im = s * (c * sumIm + n * sumRe)
        return (re, im)
    }
}
