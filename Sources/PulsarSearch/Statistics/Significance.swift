import Foundation

/// Significance of summed Fourier powers.
///
/// A power normalised to unit mean in pure noise is exponentially distributed; the sum `S` of `n`
/// such powers has `2S ~ chi^2(2n)`, so its tail probability is the regularised upper incomplete
/// gamma function `Q(n, S) = exp(-S) * sum_{i<n} S^i / i!`. Sigma is the Gaussian-equivalent
/// significance of that tail after multiplying by the number of independent trials.
public enum Significance {
    /// Natural log of the probability that `harmonics` unit-mean noise powers sum to at least `power`.
    public static func logTailProbability(power: Double, harmonics: Int) -> Double {
        guard power > 0 else { return 0 }
        // log-sum-exp over the terms S^i / i!; the largest term is at i = min(n - 1, floor(S)).
        let logS = log(power)
        let peak = min(harmonics - 1, Int(power))
        let largest = Double(peak) * logS - lgamma(Double(peak) + 1)
        var sum = 0.0
        var logFactorial = 0.0
        for i in 0..<harmonics {
            if i > 0 { logFactorial += log(Double(i)) }
            sum += exp(Double(i) * logS - logFactorial - largest)
        }
        return min(0, -power + largest + log(sum))
    }

    /// Gaussian-equivalent sigma of summed `power` over `harmonics` harmonics, corrected for
    /// `trials` independent trials. Never negative.
    public static func sigma(power: Double, harmonics: Int, trials: Double) -> Double {
        let logP = logTailProbability(power: power, harmonics: harmonics)
        return gaussianSigma(logProbability: trialCorrected(logProbability: logP, trials: trials))
    }

    /// The summed power that reaches `sigma` for `harmonics` harmonics and `trials` trials.
    public static func powerThreshold(sigma: Double, harmonics: Int, trials: Double) -> Double {
        threshold(harmonics) { Self.sigma(power: $0, harmonics: harmonics, trials: trials) >= sigma }
    }

    /// Gaussian-equivalent sigma of the strongest `harmonics`-harmonic sum found by a search that
    /// maximises over the fundamental frequency continuously (whole bins, then Fourier
    /// interpolation) across `fundamentalBins` bins, and over `stages` harmonic stages.
    ///
    /// Counting one trial per `harmonics` bins, as PRESTO does, understates the trials: the sum
    /// S(r) = sum over h of |X(h r)|^2 is a chi-square process in the fundamental r whose h-th
    /// term varies h times faster, and its maximum over a bin exceeds its value at the bin. By
    /// Rice's formula the expected number of upcrossings of level u per fundamental bin is
    /// sqrt(lambda u / pi) f_n(u), where f_n is the gamma(n) density of S and lambda is the mean
    /// second spectral moment of the terms, (pi^2 / 3) (n + 1)(2n + 1) / 6 (pi^2 / 3 for one Fourier
    /// amplitude, times the mean of h^2). The expected number of noise peaks above u is then
    /// `fundamentalBins * m * (Q_n(u) + sqrt(lambda u / pi) f_n(u))`, and the probability of at
    /// least one is 1 - exp(-expected). The strongest candidate is the best of `stages` stages:
    /// m = `stages` is the union bound. Each stage's sum contains the one before it, so at low
    /// significance (1 sigma) the bound overstates false alarms by about 2 for 16 harmonics; in
    /// the tail, where candidates are judged, exceedances of different stages come from different
    /// bins and the bound is close (SigmaCalibrationTests measures both).
    public static func searchSigma(power: Double, harmonics: Int, fundamentalBins: Double, stages: Int = 1) -> Double {
        gaussianSigma(logProbability: logSearchProbability(power: power, harmonics: harmonics,
                                                            fundamentalBins: fundamentalBins, stages: stages))
    }

    /// log of the false-alarm probability behind `searchSigma`.
    public static func logSearchProbability(power: Double, harmonics: Int, fundamentalBins: Double, stages: Int = 1) -> Double {
        guard power > 0 else { return 0 }
        let logExpected = logExpectedPeaks(power: power, harmonics: harmonics, fundamentalBins: fundamentalBins, stages: stages)
        if logExpected < log(1e-3) { return logExpected }
        return min(0, log(-expm1(-exp(logExpected))))
    }

    /// log of the expected number of noise peaks above `power` in the search `searchSigma` describes.
    public static func logExpectedPeaks(power: Double, harmonics: Int, fundamentalBins: Double, stages: Int = 1) -> Double {
        let n = Double(harmonics)
        let logTail = logTailProbability(power: power, harmonics: harmonics)
        let logDensity = (n - 1) * log(power) - power - lgamma(n)
        let lambda = Double.pi * Double.pi / 3 * (n + 1) * (2 * n + 1) / 6
        let logCrossings = 0.5 * log(lambda * power / Double.pi) + logDensity
        let high = max(logTail, logCrossings)
        let logPerBin = high + log(exp(logTail - high) + exp(logCrossings - high))
        return log(max(1, fundamentalBins) * Double(max(1, stages))) + logPerBin
    }

    /// The summed power at which `searchSigma` reaches `sigma`. Any sigma is allowed: below 0 it
    /// stands for a false-alarm probability above one half (a detection threshold that noise
    /// crosses a few times per series), read as an expected number of peaks -ln(1 - p).
    public static func searchPowerThreshold(sigma: Double, harmonics: Int, fundamentalBins: Double, stages: Int = 1) -> Double {
        let logP = logGaussianTail(sigma)  // for sigma < 0 too (erfc)
        let logTarget = logP < log(1e-3) ? logP : log(-log1p(-exp(logP)))
        return threshold(harmonics) {
            logExpectedPeaks(power: $0, harmonics: harmonics, fundamentalBins: fundamentalBins, stages: stages) <= logTarget
        }
    }

    /// Bisection for the smallest power that is `significant`, which turns true as power grows.
    private static func threshold(_ harmonics: Int, _ significant: (Double) -> Bool) -> Double {
        var low = 0.0
        var high = Double(harmonics) + 10
        while !significant(high) { high *= 2 }
        for _ in 0..<100 {
            let mid = 0.5 * (low + high)
            if significant(mid) { high = mid } else { low = mid }
            if high - low < 1e-9 * high { break }
        }
        return high
    }

    /// log of 1 - (1 - p)^trials, computed without losing tiny probabilities.
    public static func trialCorrected(logProbability logP: Double, trials: Double) -> Double {
        let t = max(1, trials)
        if logP + log(t) < log(1e-3) { return logP + log(t) }
        let p = exp(logP)
        return log(-expm1(t * log1p(-p)))
    }

    /// log of the upper tail of the standard normal distribution at `x`.
    public static func logGaussianTail(_ x: Double) -> Double {
        if x < 30 { return log(0.5 * erfc(x / 2.0.squareRoot())) }
        // Asymptotic series for large x: Q(x) ~ phi(x)/x * (1 - 1/x^2 + 3/x^4 - 15/x^6)
        let x2 = x * x
        let series = 1 - 1 / x2 + 3 / (x2 * x2) - 15 / (x2 * x2 * x2)
        return -0.5 * x2 - log(x) - 0.5 * log(2 * Double.pi) + log(series)
    }

    /// The Gaussian-equivalent sigma (one-sided) of a tail probability given as its log; 0 for p >= 0.5.
    public static func gaussianSigma(logProbability logP: Double) -> Double {
        if logP >= log(0.5) { return 0 }
        // Start from the asymptotic solution of x^2/2 + ln(x sqrt(2 pi)) = -logP, then Newton.
        let a = -2 * logP
        var x = max(0.1, (a - log(2 * Double.pi * max(a, 1))).squareRoot())
        for _ in 0..<50 {
            let f = logGaussianTail(x) - logP
            let logPhi = -0.5 * x * x - 0.5 * log(2 * Double.pi)
            let derivative = -exp(logPhi - logGaussianTail(x))
            let step = f / derivative
            x -= step
            if x < 0 { x = 1e-6 }
            if abs(step) < 1e-10 { break }
        }
        return x
    }
}
