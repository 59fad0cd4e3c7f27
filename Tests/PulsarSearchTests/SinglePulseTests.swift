import Foundation
@testable import PulsarSearch
import Testing

@Suite("Single-pulse search")
struct SinglePulseTests {
    /// Brute force: normalise by sorting, sum every window, group runs above the threshold.
    static func bruteForce(_ raw: [Float], widths: [Int], threshold: Double, block: Int, window: Int) -> [(start: Int, width: Int, snr: Double)] {
        let n = raw.count
        // Less the centred running mean, summed directly.
        let x = (0..<n).map { i -> Float in
            let lo = max(0, i - window / 2), hi = min(n, i + window / 2 + 1)
            return raw[i] - Float(raw[lo..<hi].map(Double.init).reduce(0, +) / Double(hi - lo))
        }
        var z = [Double](repeating: 0, count: n)
        var start = 0
        while start < n {
            let end = n - start < 2 * block ? n : start + block
            let part = x[start..<end].sorted()
            let median = part[part.count / 2]
            let deviations = x[start..<end].map { abs($0 - median) }.sorted()
            let sigma = 1.4826 * Double(deviations[deviations.count / 2])
            for i in start..<end { z[i] = sigma > 0 ? Double(x[i] - median) / sigma : 0 }
            start = end
        }
        var hits: [(Int, Int, Double)] = []
        for w in widths where w <= n {
            // Each width's sums every quarter width, normalised by the median and MAD of every 8th.
            let step = max(1, w / 4)
            let starts = Array(stride(from: 0, through: n - w, by: step))
            let sums = starts.map { t in z[t..<(t + w)].reduce(0, +) }
            let sample = stride(from: 0, to: sums.count, by: 8).map { sums[$0] }
            let centre = sample.sorted()[sample.count / 2]
            let spread = 1.4826 * sample.map { abs($0 - centre) }.sorted()[sample.count / 2]
            var best: (Int, Double)?
            for (i, t) in starts.enumerated() {
                let snr = (sums[i] - centre) / spread
                if snr >= threshold {
                    if best == nil || snr > best!.1 { best = (t, snr) }
                } else if let b = best {
                    hits.append((b.0, w, b.1))
                    best = nil
                }
            }
            if let b = best { hits.append((b.0, w, b.1)) }
        }
        return hits
    }

    @Test("boxcar hits equal a brute-force matched filter on unequal random data with a slope, a step and pulses of several widths")
    func boxcarAgainstBruteForce() {
        var rng = SeededGenerator(seed: 17)
        let n = 5000
        var x = (0..<n).map { i in Float(rng.gaussian()) * 3 + Float(i) * 0.001 + (i > 3100 ? 40 : 0) }
        for (at, width, amplitude) in [(400, 1, 25.0), (1200, 7, 6.0), (2500, 30, 3.0), (4000, 3, 10.0)] {
            for i in at..<(at + width) { x[i] += Float(amplitude * 3) }
        }
        let widths = BoxcarSearch.widths(maxSeconds: 0.05, sampleTime: 1e-3)
        // Log-spaced about 1.5x apart (consecutive at first), one sample to 50 ms.
        #expect(widths == [1, 2, 3, 5, 7, 10, 15, 23, 34])
        let search = BoxcarSearch(widths: widths, threshold: 5, normalisationBlock: 800)
        let hits = x.withUnsafeBufferPointer { search.search($0, sampleTime: 1e-3, dm: 10, dmIndex: 3) }
        let expected = Self.bruteForce(x, widths: widths, threshold: 5, block: search.normalisationBlock, window: search.detrendWindow)
        #expect(hits.count == expected.count && hits.count >= 8, "\(hits.count) vs \(expected.count)")
        for (h, e) in zip(hits, expected) {
            #expect(h.start == e.start && h.width == e.width && abs(Double(h.snr) - e.snr) < 2e-3 * e.snr, "\(h) vs \(e)")
        }
        // Every injected pulse is found at its position by some width.
        for at in [400, 1200, 2500, 4000] {
            #expect(hits.contains { abs($0.start - at) <= $0.width + 2 }, "pulse at \(at)")
        }
    }

    @Test("on white noise the hits above S/N 3 at one-sample width come at the Gaussian rate, over 20 seeds (normalisation calibrated)")
    func noiseRate() {
        let n = 1 << 16
        var total = 0
        for seed in 0..<20 {
            var rng = SeededGenerator(seed: UInt64(100 + seed))
            // A level and scale of its own per seed, and red drift the block normalisation takes out.
            let x = (0..<n).map { i in Float(50 + 7 * rng.gaussian()) + Float(10 * sin(Double(i) / 20_000)) }
            let search = BoxcarSearch(widths: [1], threshold: 3, normalisationBlock: 4096)
            total += x.withUnsafeBufferPointer { search.search($0, sampleTime: 1e-3, dm: 0, dmIndex: 0) }.count
        }
        // Runs above 3 sigma of independent samples: n p (1 - p) up-crossings per series.
        let p = 0.5 * erfc(3 / 2.0.squareRoot())
        let expected = 20 * Double(n) * p * (1 - p)
        #expect(abs(Double(total) - expected) < 5 * expected.squareRoot(), "\(total) hits, expected \(expected)")
    }

    @Test("clustering: one event per pulse across DM, time and width, the strongest member describing it; DM-0 and all-DM clusters flagged")
    func clustering() {
        let dms = (0..<50).map { Double($0) * 2 }
        var hits: [SinglePulseHit] = []
        // A burst at t = 1 s peaking at DM 40 (trial 20), seen from trial 16 to 24 with falling S/N.
        for d in 16...24 {
            for w in [2, 4] {
                hits.append(SinglePulseHit(dmIndex: d, dm: dms[d], start: 1000 - w / 2, width: w, sampleTime: 1e-3,
                                           snr: Float(12 - abs(d - 20)) - Float(w) * 0.1))
            }
        }
        // Another at t = 3 s, DM 80, and an impulse at DM 0, and a broadband one across every DM.
        hits.append(SinglePulseHit(dmIndex: 40, dm: 80, start: 3000, width: 1, sampleTime: 1e-3, snr: 7))
        for d in 0...3 { hits.append(SinglePulseHit(dmIndex: d, dm: dms[d], start: 2000, width: 1, sampleTime: 1e-3, snr: Float(20 - d))) }
        for d in 0..<50 { hits.append(SinglePulseHit(dmIndex: d, dm: dms[d], start: 4000, width: 8, sampleTime: 1e-3, snr: 6 + Float(d % 3))) }
        let events = SinglePulseClustering().cluster(hits, dms: dms, startMJD: 60000)
        #expect(events.count == 4, "\(events)")
        let burst = events.first { $0.rfi == nil && abs($0.dm - 40) < 1e-9 }
        #expect(burst?.members == 18 && burst?.snr == Double(Float(12) - 0.2) && burst?.dmMin == 32 && burst?.dmMax == 48)
        #expect(abs((burst?.timeSeconds ?? 0) - 1.0) < 1e-9 && abs((burst?.mjd ?? 0) - (60000 + 1.0 / 86_400)) < 1e-12)
        #expect(events.contains { $0.rfi == nil && $0.dm == 80 && $0.members == 1 })
        #expect(events.contains { $0.rfi == "dm0" && $0.members == 4 })
        #expect(events.contains { $0.rfi == "all-dm" && $0.members == 50 })
    }

    @Test("FRB 121102 in real data: found at its DM (~565) about 2 s in")
    func frb121102() throws {
        let source = try ObservationFile.open(FormatsFixtures.dataPath("frb121102.fil"))
        var c = SinglePulseConfiguration()
        c.dmMin = 450
        c.dmMax = 700
        c.rfi = RFIOptions()
        let report = try SinglePulseSearch(configuration: c, planner: SearchFixtures.planner).search(source, startMJD: source.info.mjd)
        let top = try #require(report.events.first)
        #expect(abs(top.dm - 565) < 20 && abs(top.timeSeconds - 2.0) < 0.1 && top.snr > 8, "\(top)")
        // Nothing else in these 4 s comes near it: events as strong as 80% of it are fragments of
        // the same burst (within 0.1 s and 100 pc cm^-3 of it: a bright burst answers at DMs beside its
        // own, earlier or later as the DM is higher or lower; clustering does not yet join all of them).
        #expect(report.events.dropFirst().filter { $0.snr >= 0.8 * top.snr }
                    .allSatisfy { abs($0.timeSeconds - top.timeSeconds) < 0.1 && abs($0.dm - top.dm) < 100 }, "\(report.events.prefix(4))")
    }

    static func observation(bursts: [InjectedBurst], interference: SimulatedInterference = .init(), seed: UInt64 = 5) -> SimulatedObservation {
        var o = SimulatedObservation()
        o.channels = 64
        o.fch1 = 1500
        o.foff = -2
        o.tsamp = 256e-6
        o.samples = 1 << 16
        o.seed = seed
        o.bursts = bursts
        o.interference = interference
        return o
    }

    static func search(_ o: SimulatedObservation) throws -> SinglePulseReport {
        var c = SinglePulseConfiguration()
        c.dmMax = 400
        c.rfi = RFIOptions()
        // The impulses are clipped by the cleaning unless asked not to: here the single-pulse
        // search must see them and flag them itself.
        c.rfi.clipSigma = 0
        return try SinglePulseSearch(configuration: c, planner: SearchFixtures.planner).search(Simulator.spectra(o))
    }

    @Test("injected dispersed bursts (one scattered) are found at their DM and time under red noise and RFI; broadband impulses are flagged, not reported")
    func injectedBursts() throws {
        var rfi = SimulatedInterference()
        rfi.redNoiseSigma = 0.1
        rfi.narrowbandChannels = [7]
        rfi.impulseRate = 0.3
        rfi.impulseAmplitude = 3
        rfi.impulseWidth = 1e-3
        let bursts = [InjectedBurst(time: 3.0, dm: 150, width: 2e-3, snr: 15),
                      InjectedBurst(time: 9.5, dm: 300, width: 4e-3, snr: 14, scattering: 1e-3)]
        let report = try Self.search(Self.observation(bursts: bursts, interference: rfi))
        // The two bursts are the two strongest events; anything else is a fragment of one (at a
        // neighbouring DM, within 0.1 s) or noise below S/N 7.
        #expect(report.events.count >= 2 && Set(report.events.prefix(2).map { ($0.timeSeconds * 10).rounded() }) == [30, 95],
                "\(report.events.prefix(5))")
        #expect(report.events.dropFirst(2).allSatisfy { e in e.snr < 7 || bursts.contains { abs($0.time - e.timeSeconds) < 0.1 } },
                "\(report.events.prefix(6))")
        for b in bursts {
            let e = try #require(report.events.first { abs($0.timeSeconds - b.time) < 0.05 }, "burst at \(b.time) s")
            #expect(abs(e.dm - b.dm) <= 0.05 * b.dm, "\(e)")
            #expect(e.snr > 0.6 * b.snr && e.snr < 1.3 * b.snr, "S/N \(e.snr) against \(b.snr) injected")
        }
        // The impulses: present, and flagged as interference at DM ~0.
        #expect(report.flagged.contains { $0.rfi == "dm0" }, "\(report.flagged.prefix(3))")
    }

    @Test("noise alone, with red noise, gives no event at S/N 6 (about 0.1 expected from ~2,000 DM x width trials)")
    func noiseAlone() throws {
        var rfi = SimulatedInterference()
        rfi.redNoiseSigma = 0.1
        let report = try Self.search(Self.observation(bursts: [], interference: rfi, seed: 9))
        #expect(report.events.isEmpty, "\(report.events.prefix(3))")
    }

    @Test("a burst's diagnostics from the data: the profile peaks at its time, every subband of the waterfall at the same bin, S/N against DM at its DM")
    func diagnostics() throws {
        let burst = InjectedBurst(time: 5.0, dm: 200, width: 3e-3, snr: 30)
        let o = Self.observation(bursts: [burst])
        let source = Simulator.spectra(o)
        let weights = try ChannelWeights.measure(source)
        let event = SinglePulseEvent(timeSeconds: 5.0, mjd: 0, dm: 195, widthSeconds: 3e-3, snr: 30, members: 1, dmMin: 190, dmMax: 210,
                                     timeMinSeconds: 5, timeMaxSeconds: 5, rfi: nil)
        let d = try BurstDiagnostics.measure(source, weights: weights, event: event)
        #expect(d.times.count == 64 && d.profile.count == 64 && d.waterfall.count == 16 && d.frequencies.count == 16)
        #expect(d.frequencies == d.frequencies.sorted(by: >))
        let peak = d.profile.indices.max { d.profile[$0] < d.profile[$1] }!
        #expect(abs(d.times[peak] - 5.0) < 2e-3 && d.profile[peak] > 8, "profile peaks at \(d.times[peak]) s, S/N \(d.profile[peak])")
        // Dispersion removed at DM 195 (5 off): every subband's brightest bin within one of the profile's.
        for (s, row) in d.waterfall.enumerated() {
            let brightest = row.indices.max { row[$0] < row[$1] }!
            #expect(abs(brightest - peak) <= 1, "subband \(s) peaks at bin \(brightest), the profile at \(peak)")
        }
        // S/N against DM peaks at the injected DM (not the event's 195), within the curve's step.
        let best = d.dmCurve.max { $0.snr < $1.snr }!
        let step = d.dmCurve[1].dm - d.dmCurve[0].dm
        #expect(abs(best.dm - 200) <= step, "S/N peaks at DM \(best.dm)")
        // and falls off on both sides (at 20 and 15 pc cm^-3 off the delay across the band is 7 and 5 ms, twice the width).
        #expect(d.dmCurve.first!.snr < 0.5 * best.snr && d.dmCurve.last!.snr < 0.7 * best.snr, "\(d.dmCurve.first!) \(d.dmCurve.last!) \(best)")
    }
}
