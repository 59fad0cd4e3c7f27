import Foundation
import PulsarSearch
import Testing

/// FFTW's wisdom is process-wide: each test uses sizes no other test plans with `measure`.
@Suite("FFT planner: quick plans first, measured plans later")
struct FFTPlannerTests {
    /// |X_k|^2 of `input` at `bins`, by the double-precision definition.
    static func bruteForcePowers(_ input: [Float], bins: [Int]) -> [Double] {
        let n = Double(input.count)
        return bins.map { k in
            var re = 0.0, im = 0.0
            for (t, x) in input.enumerated() {
                let phase = -2 * Double.pi * Double(k) * Double(t) / n
                re += Double(x) * cos(phase)
                im += Double(x) * sin(phase)
            }
            return re * re + im * im
        }
    }

    static func transform(_ plan: RealFFTPlan, _ input: [Float]) -> [Float] {
        let workspace = FFTWorkspace(size: plan.size)
        for (i, x) in input.enumerated() { workspace.real[i] = x }
        plan.execute(input: workspace.real, output: workspace.complex)
        return (0...(plan.size / 2)).map { k in
            workspace.complex[2 * k] * workspace.complex[2 * k] + workspace.complex[2 * k + 1] * workspace.complex[2 * k + 1]
        }
    }

    @Test("a deferred planner plans quickly, queues the size, improves it to a correct plan and saves the wisdom")
    func deferredPlanning() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fft-planner-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wisdom = (directory as NSString).appendingPathComponent("wisdom")
        let size = 3 * 5 * 7 * 64  // 6720: planned nowhere else in the tests
        var rng = SeededGenerator(seed: 6720)
        let input = (0..<size).map { _ in Float(rng.gaussian()) }
        let bins = (0..<24).map { _ in Int(rng.uniform() * Double(size / 2)) }
        let expected = Self.bruteForcePowers(input, bins: bins)

        let planner = FFTPlanner(rigor: .measure, wisdomPath: wisdom, deferred: true)
        #expect(planner.deferred)
        let quick = planner.plan(size: size)
        #expect(planner.sizesToImprove == [size])
        let quickPowers = Self.transform(quick, input)
        #expect(!FileManager.default.fileExists(atPath: wisdom), "nothing measured yet, so no wisdom written")

        // A generous cap: FFTW stops measuring at the limit, and then the next planner found no
        // wisdom for the size (seen with another test process sharing the cores).
        #expect(planner.improveNextPlan(timeLimit: 60) == size)
        #expect(planner.sizesToImprove.isEmpty)
        #expect(planner.improveNextPlan(timeLimit: 5) == nil)
        #expect(FileManager.default.fileExists(atPath: wisdom))
        let measured = planner.plan(size: size)
        let measuredPowers = Self.transform(measured, input)
        // Both plans compute the transform: every sampled bin against the definition.
        for (bin, truth) in zip(bins, expected) {
            #expect(abs(Double(quickPowers[bin]) - truth) <= 1e-3 * truth + 1e-2, "quick plan, bin \(bin)")
            #expect(abs(Double(measuredPowers[bin]) - truth) <= 1e-3 * truth + 1e-2, "measured plan, bin \(bin)")
        }
        // The quick plan stays usable after it was replaced (a search may still hold it).
        #expect(Self.transform(quick, input) == quickPowers)

        // A planner finding wisdom for the size queues nothing (FFTW holds wisdom per process; the
        // file it is saved to was checked above).
        let next = FFTPlanner(rigor: .measure, wisdomPath: wisdom, deferred: true)
        _ = next.plan(size: size)
        #expect(next.sizesToImprove.isEmpty)
    }

    @Test("estimate planners and planners that are not deferred never queue sizes")
    func notDeferred() {
        let estimate = FFTPlanner(rigor: .estimate, deferred: true)
        #expect(!estimate.deferred)
        _ = estimate.plan(size: 3 * 5 * 7 * 32)
        #expect(estimate.sizesToImprove.isEmpty)
        let measure = FFTPlanner(rigor: .measure)
        _ = measure.plan(size: 3 * 3 * 5 * 64)
        #expect(measure.sizesToImprove.isEmpty)
        #expect(measure.improveNextPlan() == nil)
    }
}
