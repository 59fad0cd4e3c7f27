/// The `count` strongest bins of one searched spectrum, whatever their significance: a search's
/// proof of work, as Einstein@Home's BRP application reports a fixed-size toplist per template.
///
/// A toplist cannot be written without the spectrum it comes from: each entry's `fourierPower`
/// (the unnormalised |X_k|^2 of FFTW's transform of the prepared series) can be checked by anyone
/// holding the series with one O(n) single-bin DFT (``SingleBinDFT``), and which bins are the
/// strongest only by searching again. Entries are strongest first; ties go to the lower bin.
public struct SpectrumToplist: Codable, Sendable, Equatable {
    /// Fourier bin of each entry (frequency = bin / padded series length in seconds).
    public var bins: [Int]
    /// Whitened power of each bin (noise mean 1), as the harmonic sum saw it.
    public var powers: [Float]
    /// Unnormalised |X_k|^2 of each bin, before whitening.
    public var fourierPowers: [Double]

    public init(bins: [Int] = [], powers: [Float] = [], fourierPowers: [Double] = []) {
        self.bins = bins
        self.powers = powers
        self.fourierPowers = fourierPowers
    }

    /// Entries in the list (nil-safe: the three arrays may disagree in a forged list).
    public var count: Int { min(bins.count, powers.count, fourierPowers.count) }

    /// Whether the three arrays have the same length.
    public var isConsistent: Bool { bins.count == powers.count && powers.count == fourierPowers.count }

    /// Selects the `count` largest of `powers[range]`, with |X_k|^2 from the interleaved complex
    /// spectrum `complex`. One pass: most bins cost one comparison against the current smallest
    /// entry.
    public static func select(
        powers: UnsafeBufferPointer<Float>, range: Range<Int>, count: Int, complex: UnsafePointer<Float>
    ) -> SpectrumToplist {
        guard count > 0, !range.isEmpty else { return SpectrumToplist() }
        var bins: [Int] = []
        var values: [Float] = []
        bins.reserveCapacity(count + 1)
        values.reserveCapacity(count + 1)
        var floor = -Float.infinity
        for k in range {
            let p = powers[k]
            // Full list: only a strictly larger power enters (the lower bin wins a tie).
            guard values.count < count || p > floor else { continue }
            var i = values.count
            while i > 0 && values[i - 1] < p { i -= 1 }
            values.insert(p, at: i)
            bins.insert(k, at: i)
            if values.count > count {
                values.removeLast()
                bins.removeLast()
            }
            if values.count == count { floor = values[count - 1] }
        }
        let fourier = bins.map { k -> Double in
            let re = Double(complex[2 * k]), im = Double(complex[2 * k + 1])
            return re * re + im * im
        }
        return SpectrumToplist(bins: bins, powers: values, fourierPowers: fourier)
    }
}

/// The discrete Fourier transform at one frequency, in double precision: X(r) = sum_j x_j
/// exp(-2 pi i r j / length) over the samples given (zeros beyond them, to `length`). O(n), for
/// checking a reported power without a whole transform. `r` may be fractional.
///
/// The phase starts exactly every 256 samples (j r mod length, reduced before the sine and cosine)
/// and advances by one complex multiplication in between, so rounding does not grow with the
/// series' length as it does in Goertzel's recurrence.
public enum SingleBinDFT {
    /// |X(r)|^2 of `samples` zero-padded to `length`.
    public static func power(_ samples: UnsafeBufferPointer<Float>, length: Int, bin r: Double) -> Double {
        let (re, im) = transform(samples, length: length, bin: r)
        return re * re + im * im
    }

    /// X(r) as (real, imaginary).
    public static func transform(_ samples: UnsafeBufferPointer<Float>, length: Int, bin r: Double) -> (Double, Double) {
        precondition(length >= samples.count && length > 0)
        let n = Double(length)
        let omega = -2 * Double.pi * r / n
        let stepRe = cos(omega), stepIm = sin(omega)
        let block = 256
        var sumRe = 0.0, sumIm = 0.0
        var start = 0
        let x = samples.baseAddress!
        while start < samples.count {
            let end = min(samples.count, start + block)
            // Phase at `start`, reduced exactly when r is whole.
            let turns: Double
            if r == r.rounded(), abs(r) < 9e15 {
                let k = Int(r) % length
                turns = Double((k * start) % length) / n
            } else {
                turns = (r * Double(start)).truncatingRemainder(dividingBy: n) / n
            }
            var wRe = cos(-2 * Double.pi * turns), wIm = sin(-2 * Double.pi * turns)
            for j in start..<end {
                let v = Double(x[j])
                sumRe += v * wRe
                sumIm += v * wIm
                let t = wRe * stepRe - wIm * stepIm
                wIm = wRe * stepIm + wIm * stepRe
                wRe = t
            }
            start = end
        }
        return (sumRe, sumIm)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
