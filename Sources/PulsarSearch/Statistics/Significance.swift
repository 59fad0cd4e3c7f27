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
        var low = 0.0
        var high = Double(harmonics) + 10
        while Self.sigma(power: high, harmonics: harmonics, trials: trials) < sigma { high *= 2 }
        for _ in 0..<100 {
            let mid = 0.5 * (low + high)
            if Self.sigma(power: mid, harmonics: harmonics, trials: trials) < sigma { low = mid } else { high = mid }
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
