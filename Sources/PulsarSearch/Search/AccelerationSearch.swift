import Foundation

/// Acceleration trials for a binary-pulsar search by time-domain resampling.
///
/// A line-of-sight acceleration `a` makes the pulse phase drift quadratically: resampling the series
/// with `t' = t - a (t - T/2)^2 / (2c)` removes that drift for one trial acceleration, after which
/// every trial is an ordinary FFT search (as peasoup and the Einstein@Home BRP app do). Centring on
/// T/2 keeps the largest shift to a quarter of the uncentred one.
///
/// Spacing: an acceleration error `da` drifts a signal of frequency f by `z = f da T^2 / c` Fourier
/// bins over the observation. Neighbouring trials are spaced so that they differ by at most
/// `drift` bins at the highest frequency the search sums power at (Nyquist, or the harmonics of
/// the highest fundamental searched when that is lower), so a signal between two trials is left
/// with at most drift / 2 bins. PRESTO's accelsearch steps z by 2 at its highest harmonic; peasoup
/// allows a 10% broadening of the pulse, about 15 bins at Nyquist for 64 us data. Measured with
/// this search (2^21 samples of 64 us, a 2.5 ms pulsar of 5% duty cycle, 16 harmonics): a residual
/// drift of 0.5, 1, 2, 3.5 and 7 bins at Nyquist costs 1%, 2%, 4%, 7% and 16% of the detection
/// sigma (a 50 ms pulsar loses nothing). The default, 4 bins between neighbours (at most 2 left),
/// halves the trials of PRESTO's spacing for at most 4% of sigma on the fastest pulsars.
public struct AccelerationPlan: Sendable, Equatable {
    /// Speed of light in m/s.
    public static let speedOfLight = 299_792_458.0
    /// Default drift between neighbouring trials at the highest searched frequency, Fourier bins.
    public static let defaultDrift = 4.0

    /// Trial accelerations in m/s^2, zero first then by increasing magnitude.
    public let trials: [Double]
    /// Spacing between trials in m/s^2 (0 when only zero is searched).
    public let step: Double

    /// Trials covering `-maxAcceleration...maxAcceleration` for an observation of `duration` seconds
    /// sampled every `sampleTime` seconds, neighbours `drift` Fourier bins apart at
    /// `highestFrequency` (default and at most: the Nyquist frequency, 1 / (2 sampleTime)).
    public init(
        maxAcceleration: Double, duration: Double, sampleTime: Double, highestFrequency: Double? = nil,
        drift: Double = AccelerationPlan.defaultDrift
    ) {
        let maxA = abs(maxAcceleration)
        let nyquist = 0.5 / sampleTime
        let fHigh = min(nyquist, highestFrequency ?? nyquist)
        guard maxA > 0, duration > 0, sampleTime > 0, fHigh > 0, drift > 0 else {
            trials = [0]
            step = 0
            return
        }
        let idealStep = drift * Self.speedOfLight / (fHigh * duration * duration)
        let perSide = Int((maxA / idealStep).rounded(.up))
        let step = maxA / Double(max(1, perSide))
        var trials: [Double] = [0]
        for i in 1...max(1, perSide) {
            trials.append(Double(i) * step)
            trials.append(-Double(i) * step)
        }
        self.trials = trials
        self.step = step
    }

    /// Fourier bins a signal at `frequency` drifts over `duration` seconds with an acceleration
    /// error of `acceleration`: f a T^2 / c.
    public static func drift(frequency: Double, acceleration: Double, duration: Double) -> Double {
        frequency * abs(acceleration) * duration * duration / speedOfLight
    }

    /// Resamples `input` (sample time `tsamp`) for trial acceleration `acceleration` into `output`
    /// (same count). Nearest-sample resampling; samples pulled from outside the series are zero.
    public static func resample(
        _ input: UnsafeBufferPointer<Float>, tsamp: Double, acceleration: Double,
        into output: UnsafeMutableBufferPointer<Float>
    ) {
        let n = input.count
        precondition(output.count >= n)
        guard acceleration != 0 else {
            output.baseAddress!.update(from: input.baseAddress!, count: n)
            return
        }
        // Shift in samples at sample j: alpha * (j - n/2)^2, alpha = a * tsamp / (2c).
        // Track it by finite differences: d(j+1) - d(j) = alpha * (2(j - n/2) + 1).
        // Where the rounded shift is the same at both ends of a block it is the same throughout
        // (the shift is monotonic on each side of the middle), so the block is one copy.
        let alpha = acceleration * tsamp / (2 * speedOfLight)
        let mid = Double(n) / 2
        let x = input.baseAddress!
        let y = output.baseAddress!
        @inline(__always) func shift(_ j: Int) -> Int {
            let d = Double(j) - mid
            return Int((alpha * d * d + 0.5).rounded(.down))
        }
        let block = 256
        var start = 0
        while start < n {
            let end = min(n, start + block)
            let s0 = shift(start), s1 = shift(end - 1)
            let monotonic = Double(start) >= mid || Double(end - 1) <= mid
            if s0 == s1 && monotonic && start + s0 >= 0 && end - 1 + s0 < n {
                (y + start).update(from: x + start + s0, count: end - start)
            } else {
                for j in start..<end {
                    let source = j + shift(j)
                    y[j] = (source >= 0 && source < n) ? x[source] : 0
                }
            }
            start = end
        }
    }
}
