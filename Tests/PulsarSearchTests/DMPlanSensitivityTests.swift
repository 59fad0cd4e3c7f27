import XunxingSupport
import Foundation
import PulsarSearch
import Testing

/// What the DM plan costs a narrow pulse (issue 12, part 5): for every stage of the plan, a pulse
/// train injected with the simulator at the stage's first trial DM, halfway to the second, at the
/// last trial of the stage's first group of nominal DMs and halfway from the trial before it, at a
/// middle trial and halfway to the next, dedispersed with the `SubbandDedisperser` at the planned
/// trials and downsampling, keeps at least 95% of the boxcar matched-filter S/N of the same
/// pulses dedispersed directly (one channel per subband) at full resolution at their exact DM.
///
/// The pulses are bright (S/N 10^6) so the noise moves the ratio by about 10^-5: the ratio is a
/// property of the plan and the dedisperser, not of a noise draw. The S/N is the mean over 16
/// pulses whose arrival times step by 0.38 of a (downsampled) sample, so sub-sample phases are
/// averaged; each pulse's S/N is the best boxcar (any width, any start) around its arrival.
///
/// The first trial of a stage always starts a batch, so it is a nominal DM of the subband
/// dedisperser (its delays rounded once, as direct dedispersion's). The last trial of the first
/// group and the middle trial are about half a nominal spacing from their nominal DM, the worst
/// for the subband dedisperser (the middle trial's grid placed so, as it is when a batch of the
/// search or a work unit starts there); the first group's is where the pulse is narrowest.
///
/// With the previous rule (downsample once the channel smearing passes twice the current sample
/// time) this test fails at every downsampled stage of both bands: 0.726-0.844 at the first
/// trials, 0.709-0.791 halfway to the second, 0.771-0.834 at the middle trials and 0.774-0.832
/// halfway to the next. With the current rule (tolerance 4), at the downsampled stages: 64
/// channels 0.952-0.982, 1024 channels 0.956-0.981; lowest halfway before the first group's last
/// trial, highest at the first trials (0.975-0.982, one rounding). Tolerances 3.9 and 3.8 gave
/// lows of 0.953 and 0.950, 3 gave 0.938, 2 gave 0.860 (see `DMPlan`).
@Suite("DM plan sensitivity")
struct DMPlanSensitivityTests {
    struct Band: Sendable, CustomTestStringConvertible {
        var channels: Int
        /// MHz, first (highest) channel, and channel step (negative).
        var fch1: Double
        var foff: Double
        var tsamp: Double
        var dmMax: Double
        var testDescription: String {
            String(format: "%d channels of %.3g MHz from %.0f MHz down, %.0f us, DM 0-%.0f",
                   channels, -foff, fch1, tsamp * 1e6, dmMax)
        }
        var frequencies: [Double] { (0..<channels).map { fch1 + Double($0) * foff } }
        var geometry: BandGeometry { BandGeometry(channelFrequencies: frequencies, sampleTime: tsamp) }

        /// The spacing of the subband dedisperser's nominal DMs at downsampling `ds`, as
        /// `SubbandDedisperser` chooses it (about 2 sqrt(channels) subbands; the DM error inside
        /// the widest subband at most one sample). Only used to place its grid at the worst.
        func nominalSpacing(downsample ds: Int) -> Double {
            let nsub = channels <= 16 ? channels : min(channels, max(16, Int((2 * Double(channels).squareRoot()).rounded())))
            var top = [Double](repeating: 0, count: nsub), bottom = [Double](repeating: .infinity, count: nsub)
            for (c, f) in frequencies.enumerated() {
                top[c * nsub / channels] = max(top[c * nsub / channels], f)
                bottom[c * nsub / channels] = min(bottom[c * nsub / channels], f)
            }
            let widest = zip(bottom, top).map { Dispersion.delay(dm: 1, frequency: $0, reference: $1) }.max()!
            return 2 * tsamp * Double(ds) / widest
        }
    }

    static let bands = [
        // Issue 12's 64 channels at 100 us, here across 1.2-1.5 GHz: channel smearing matters
        // from a few pc cm^-3, so every downsampling factor up to 32 appears below DM 1000.
        Band(channels: 64, fch1: 1500, foff: -300.0 / 64, tsamp: 100e-6, dmMax: 1000),
        // A Parkes/FAST-like survey band.
        Band(channels: 1024, fch1: 1500, foff: -300.0 / 1024, tsamp: 64e-6, dmMax: 1000),
    ]

    struct Point: Sendable {
        var what: String
        var downsample: Int
        var dm: Double
        var reference: Double
        var planned: Double
        var ratio: Double { planned / reference }
    }

    /// Mean over `arrivals` (in samples of `x`) of the best boxcar S/N within `extent` samples.
    static func boxcarSNR(_ x: UnsafeBufferPointer<Float>, sigma: Double, arrivals: [Double], extent: Int) -> Double {
        var total = 0.0
        var prefix = [Double](repeating: 0, count: 2 * extent + 2)
        for a in arrivals {
            let lo = max(0, Int(a) - extent), hi = min(x.count, Int(a) + extent + 1)
            for i in lo..<hi { prefix[i - lo + 1] = prefix[i - lo] + Double(x[i]) }
            var best = -Double.infinity
            for w in 1...(hi - lo) {
                let norm = 1 / Double(w).squareRoot()
                for s in 0...(hi - lo - w) { best = max(best, (prefix[s + w] - prefix[s]) * norm) }
            }
            total += best / sigma
        }
        return total / Double(arrivals.count)
    }

    /// S/N of two interleaved pulse trains, at `dms.0` and `dms.1` (close: their pulses half a
    /// period apart stay apart whichever of the two DMs the data are dedispersed at): each directly
    /// dedispersed at full resolution at its own DM, and each dedispersed with the default
    /// subbands at `trials` with downsampling `ds` (the best of the series `evaluate.0`, `.1`).
    static func measure(
        _ band: Band, dms: (Double, Double), downsample ds: Int, trials: [Double], evaluate: ([Int], [Int])
    ) throws -> [(reference: Double, planned: Double)] {
        let t = band.tsamp
        let dmMax = max(dms.0, dms.1)
        let bottom = band.frequencies.min()!
        // Samples (full resolution) either side of an arrival that hold the whole pulse.
        let extent = Int((Dispersion.channelSmearing(dm: dmMax, frequency: bottom, channelWidth: band.foff) / t).rounded(.up)) + 4 * ds + 8
        let pulses = 16
        let periodSamples = Double(4 * extent) + 0.381966 * Double(ds) + 0.1
        var o = SimulatedObservation()
        o.channels = band.channels
        o.fch1 = band.fch1
        o.foff = band.foff
        o.tsamp = t
        o.nbits = 32
        o.samples = Int((band.geometry.delayPerDM * dmMax / t).rounded(.up)) + Int(Double(pulses + 1) * periodSamples) + 2 * extent
        let period = periodSamples * t
        // Intrinsic width a tenth of a sample. Phase 0.5: the first pulse half a period in, the
        // other train's pulses at whole periods.
        let duty = 0.1 * t / period
        o.pulsars = [
            InjectedPulsar(period: period, dm: dms.0, dutyCycle: duty, snr: 1e6, phase: 0.5),
            InjectedPulsar(period: period, dm: dms.1, dutyCycle: duty, snr: 1e6, phase: 0),
        ]
        let source = Simulator.spectra(o)
        let weights = ChannelWeights.uniform(channels: band.channels)
        let arrivals = [(1...pulses).map { (Double($0) - 0.5) * periodSamples }, (1...pulses).map { Double($0) * periodSamples }]
        let nch = Double(band.channels)

        let direct = SubbandDedisperser(source: source, weights: weights, subbands: band.channels)
        let block = try SubbandDedisperser(source: source, weights: weights).dedisperse(dms: trials, downsample: ds)
        return try [(dms.0, evaluate.0), (dms.1, evaluate.1)].enumerated().map { k, point in
            let reference = try direct.dedisperse(dms: [point.0], downsample: 1).withSeries(0) {
                boxcarSNR($0, sigma: nch.squareRoot(), arrivals: arrivals[k], extent: extent)
            }
            let planned = point.1.map { i in
                block.withSeries(i) {
                    boxcarSNR($0, sigma: (nch * Double(ds)).squareRoot(), arrivals: arrivals[k].map { $0 / Double(ds) },
                              extent: extent / ds + 1)
                }
            }.max()!
            return (reference, planned)
        }
    }

    static func points(_ band: Band) throws -> [Point] {
        let plan = DMPlan(geometry: band.geometry, dmMin: 0, dmMax: band.dmMax)
        var points: [Point] = []
        for stage in plan.stages {
            let ds = stage.downsample
            let dms = stage.trials.map { plan.trials[$0].dm }
            func add(_ what: (String, String), _ pulses: (Double, Double), _ trials: [Double], _ evaluate: ([Int], [Int])) throws {
                let s = try measure(band, dms: pulses, downsample: ds, trials: trials, evaluate: evaluate)
                points.append(Point(what: what.0, downsample: ds, dm: pulses.0, reference: s[0].reference, planned: s[0].planned))
                points.append(Point(what: what.1, downsample: ds, dm: pulses.1, reference: s[1].reference, planned: s[1].planned))
            }
            // The first trial, and halfway to the second (the stage's first trial always starts a
            // batch: it is a nominal DM of the subband dedisperser).
            let second = dms[min(1, dms.count - 1)]
            try add(("first trial", "halfway 1st-2nd"), (dms[0], 0.5 * (dms[0] + second)), [dms[0], second], ([0], [0, 1]))
            // The last trial dedispersed with the first one's channel stage (about half a nominal
            // spacing past it, the worst offset from a nominal DM, where the pulse is still the
            // narrowest of the stage), and halfway from the trial before it.
            // Downsampled stages only: at full resolution this is the subband dedisperser's cost
            // at the lowest DMs (down to 0.908 on 64 channels at DM 1.5 and 0.912 on 1024 at DM
            // 3.0, where a pulse is about one sample wide), which no downsampling rule changes.
            let spacing = band.nominalSpacing(downsample: ds)
            if ds > 1, let k = dms.lastIndex(where: { $0 - dms[0] < 0.499 * spacing }), k >= 1 {
                try add(("end of 1st group", "halfway before"), (dms[k], 0.5 * (dms[k - 1] + dms[k])),
                        [dms[0], dms[k - 1], dms[k]], ([2], [1, 2]))
            }
            // A middle trial, and halfway to the next, with the nominal DMs at their worst.
            let m = dms.count / 2
            let middle = dms[m], next = dms[min(dms.count - 1, m + 1)]
            let anchor = max(dms[0], middle - 0.49 * band.nominalSpacing(downsample: ds))
            try add(("middle trial", "halfway middle"), (middle, 0.5 * (middle + next)), [anchor, middle, next], ([1], [1, 2]))
        }
        return points
    }

    @Test("a narrow pulse keeps 95% of its full-resolution S/N at every stage", arguments: bands)
    func withinFivePercent(band: Band) async throws {
        let result = await onThread { Result { try Self.points(band) } }
        let points = try result.get()
        let plan = DMPlan(geometry: band.geometry, dmMin: 0, dmMax: band.dmMax)
        var table = ["\(band.testDescription): \(plan.trials.count) trials, stages "
            + plan.stages.map { "\($0.trials.count) at x\($0.downsample) from DM \(plan.trials[$0.trials.lowerBound].dm)" }.joined(separator: ", ")]
        for p in points {
            table.append("  " + p.what.padding(toLength: 16, withPad: " ", startingAt: 0) + String(
                format: " x%-2d DM %8.3f  S/N %.4g / %.4g = %.3f", p.downsample, p.dm, p.planned, p.reference, p.ratio))
        }
        print(table.joined(separator: "\n"))
        #expect(plan.stages.count >= 2, "the range must reach a downsampled stage")
        for p in points {
            #expect(p.ratio >= 0.95, "x\(p.downsample) \(p.what) at DM \(p.dm): S/N \(p.planned) vs \(p.reference) at full resolution")
        }
    }
}
