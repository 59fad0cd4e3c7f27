import CSearchKernels
import Foundation

/// Normalised Fourier powers around a candidate's frequency, for plots.
public struct SpectrumExcerpt: Sendable, Codable, Equatable {
    /// Frequency of the first power, Hz.
    public var startHz: Double
    /// Spacing of the powers (the Fourier resolution 1/T), Hz.
    public var stepHz: Double
    /// Powers normalised for noise of mean 1: the searcher's whitened powers, or (``make``) powers
    /// times ln 2 over the median power of the excerpt's surroundings.
    public var powers: [Float]

    enum CodingKeys: String, CodingKey { case startHz = "start_hz", stepHz = "step_hz", powers }

    public init(startHz: Double, stepHz: Double, powers: [Float]) {
        self.startHz = startHz
        self.stepHz = stepHz
        self.powers = powers
    }

    /// The spectrum of `series` around `frequency` (±`halfWidth` bins), normalised by the median
    /// power within ±`halfWidth * 8` bins. One FFT of the whole series: for candidates whose
    /// search spectrum is gone (the coordinator's confirmation of merged results); a local search
    /// takes ``PeriodicitySearcher/excerpt(frequency:halfWidth:)`` from the spectrum it searched.
    public static func make(
        _ series: UnsafeBufferPointer<Float>, tsamp: Double, frequency: Double, planner: FFTPlanner, halfWidth: Int = 32
    ) -> SpectrumExcerpt? {
        let size = FFTPlanner.goodSize(atLeast: series.count)
        guard size >= 64 else { return nil }
        let workspace = FFTWorkspace(size: size)
        let mean = Float(xx_sum(series.baseAddress!, series.count) / Double(series.count))
        for i in 0..<series.count { workspace.real[i] = series[i] - mean }
        (workspace.real + series.count).update(repeating: 0, count: size - series.count)
        planner.plan(size: size).execute(input: workspace.real, output: workspace.complex)
        let bins = size / 2
        let duration = Double(size) * tsamp
        let centre = Int((frequency * duration).rounded())
        guard centre > 0, centre < bins else { return nil }
        func power(_ k: Int) -> Float {
            let re = workspace.complex[2 * k], im = workspace.complex[2 * k + 1]
            return re * re + im * im
        }
        let wide = (max(1, centre - 8 * halfWidth)..<min(bins, centre + 8 * halfWidth)).map(power).sorted()
        let median = wide.isEmpty ? 1 : max(1e-30, wide[wide.count / 2])
        let lo = max(1, centre - halfWidth), hi = min(bins - 1, centre + halfWidth)
        let scale = Float(log(2.0)) / median
        return SpectrumExcerpt(startHz: Double(lo) / duration, stepHz: 1 / duration, powers: (lo...hi).map { power($0) * scale })
    }
}
