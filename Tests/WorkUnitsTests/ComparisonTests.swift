import PulsarSearch
import Testing
import WorkUnits
import XunxingProtocol

@Suite("Replica comparison")
struct ComparisonTests {
    let duration = 60.0, threshold = 4.0

    func candidate(_ f: Double, sigma: Double, dmIndex: Int = 3, accel: Double = 0, harmonics: Int = 8) -> SeriesCandidate {
        SeriesCandidate(frequency: f, harmonics: harmonics, power: 10 * sigma, sigma: sigma, acceleration: accel, dm: 15, dmIndex: dmIndex)
    }

    var reference: WorkUnitResult {
        WorkUnitResult(
            workUnitID: "wu-7",
            candidates: [
                candidate(81.3, sigma: 14.2),
                candidate(162.6, sigma: 9.1, dmIndex: 4),
                candidate(5.55, sigma: 6.3, dmIndex: 5, accel: -12.5),
                candidate(33.3, sigma: 4.6, dmIndex: 6),  // marginal
            ],
            cpuSeconds: 10, elapsedSeconds: 11, seriesSearched: 24, software: "xunxing-worker 0.1 fftw-3.3.10")
    }

    func agree(_ a: WorkUnitResult, _ b: WorkUnitResult) -> Bool {
        let ab = ResultComparison.agree(a, b, duration: duration, reportingThreshold: threshold)
        let ba = ResultComparison.agree(b, a, duration: duration, reportingThreshold: threshold)
        #expect(ab == ba, "the rule must be symmetric")
        return ab
    }

    @Test("identical results agree; timing and software do not matter")
    func identical() {
        var other = reference
        other.cpuSeconds = 99
        other.software = "xunxing-worker 0.1 fftw-3.3.8"
        #expect(agree(reference, reference))
        #expect(agree(reference, other))
    }

    @Test("perturbations within tolerance agree, beyond it disagree")
    func perturbed() {
        var near = reference
        near.candidates[0].frequency += 0.4 / duration
        near.candidates[0].sigma *= 1.04
        near.candidates[1].sigma -= 0.45
        near.candidates[1].harmonics = 16
        near.candidates.reverse()
        #expect(agree(reference, near))

        var far = reference
        far.candidates[0].frequency += 0.6 / duration
        #expect(!agree(reference, far))
        var weaker = reference
        weaker.candidates[1].sigma -= 0.6  // 9.1 -> 8.5: more than max(0.5, 5% of 9.1)
        #expect(!agree(reference, weaker))
        var otherTrial = reference
        otherTrial.candidates[2].acceleration = 12.5
        #expect(!agree(reference, otherTrial))
        var otherDM = reference
        otherDM.candidates[0].dmIndex = 2
        #expect(!agree(reference, otherDM))
    }

    @Test("missing strong candidates disagree, missing marginal ones agree")
    func missing() {
        var noStrong = reference
        noStrong.candidates.remove(at: 2)  // sigma 6.3 >= 4 + 1
        #expect(!agree(reference, noStrong))
        var noMarginal = reference
        noMarginal.candidates.remove(at: 3)  // sigma 4.6 < 5
        #expect(agree(reference, noMarginal))
        var fabricated = reference
        fabricated.candidates.append(candidate(123.4, sigma: 11, dmIndex: 7))
        #expect(!agree(reference, fabricated))
        var lessWork = reference
        lessWork.seriesSearched = 12
        #expect(!agree(reference, lessWork))
        var nan = reference
        nan.candidates[3].sigma = .nan
        #expect(!agree(reference, nan))
        var otherUnit = reference
        otherUnit.workUnitID = "wu-8"
        #expect(!agree(reference, otherUnit))
    }

    @Test("canonical picks the largest agreeing group")
    func canonical() {
        var near = reference
        near.candidates[0].sigma += 0.3
        var wrong = reference
        wrong.candidates.removeFirst()
        let picked = ResultComparison.canonical([reference, wrong, near], duration: duration, reportingThreshold: threshold)
        #expect(picked == [0, 2])
        #expect(ResultComparison.canonical([wrong, reference], duration: duration, reportingThreshold: threshold) == nil)
        #expect(ResultComparison.canonical([reference], duration: duration, reportingThreshold: threshold) == nil)
        let four = ResultComparison.canonical([wrong, reference, near, reference], duration: duration, reportingThreshold: threshold)
        #expect(four == [1, 2, 3])
    }

    @Test("a lone result is implausible when it could not come from a real search of its unit")
    func plausibility() {
        func problem(_ r: WorkUnitResult) -> String? {
            ResultComparison.implausibility(r, seriesCount: reference.seriesSearched, reportingThreshold: threshold - 1)
        }
        #expect(problem(reference) == nil)
        var partial = reference
        partial.seriesSearched -= 1
        #expect(problem(partial)?.contains("series") == true)
        var nan = reference
        nan.candidates[0].frequency = .nan
        #expect(problem(nan)?.contains("frequency") == true)
        var odd = reference
        odd.candidates[0].harmonics = 3
        #expect(problem(odd)?.contains("harmonics") == true)
        var weak = reference
        weak.candidates[0].sigma = 0.1
        #expect(problem(weak)?.contains("sigma") == true)
        var flood = reference
        flood.candidates = Array(repeating: reference.candidates[0], count: 20_001)
        #expect(problem(flood)?.contains("candidates") == true)
    }
}
