import Foundation
import PulsarSearch
import Testing

/// Each kind of simulated interference is found and taken out, and a pulsar under it is still
/// found at a sigma within 10% of the same observation without it (the noise is the same: the
/// simulator draws interference from a generator of its own).
@Suite("RFI excision on simulated interference")
struct RFIExcisionTests {
    static let period = 0.1234

    static func observation(_ interference: SimulatedInterference = .init(), dm: Double = 60) -> SimulatedObservation {
        var o = SimulatedObservation()
        o.channels = 64
        o.fch1 = 1500
        o.foff = -2
        o.tsamp = 256e-6
        o.samples = 1 << 16
        o.seed = 21
        o.pulsars = [InjectedPulsar(period: period, dm: dm, dutyCycle: 0.04, snr: 20)]
        o.interference = interference
        return o
    }

    /// The pulsar's sigma (nil when it is not the top candidate) and the report.
    static func search(_ o: SimulatedObservation, rfi: RFIOptions) throws -> (sigma: Double?, report: SearchReport) {
        var configuration = SearchFixtures.configuration(dmMax: 2 * (o.pulsars.first?.dm ?? 60))
        configuration.rfi = rfi
        let report = try SearchPipeline(configuration: configuration, planner: SearchFixtures.planner).search(Simulator.spectra(o))
        let match = SearchFixtures.match(report, period: period, tolerance: 1e-3)
        return (match?.rank == 0 ? match?.candidate.sigma : nil, report)
    }

    static let clean: Double = {
        try! search(observation(), rfi: .off).sigma!
    }()

    /// Whether a candidate is 50 Hz mains: a harmonic or sub-harmonic of 50 Hz.
    static func isMains(_ c: Candidate?) -> Bool {
        guard let f = c?.frequencyHz else { return false }
        return (1...10).contains { h in abs(f - 50 * Double(h)) < 0.5 || abs(f - 50 / Double(h)) < 0.05 }
    }

    static func within10Percent(_ sigma: Double?, _ what: String) {
        #expect(sigma != nil && abs(sigma! - clean) <= 0.1 * clean, "\(what): sigma \(sigma.map { String($0) } ?? "not on top") against \(clean) without interference")
    }

    @Test("without interference the mask takes out next to nothing and the pulsar's sigma is unchanged")
    func noInterference() throws {
        let (sigma, report) = try Self.search(Self.observation(), rfi: RFIOptions())
        let rfi = try #require(report.rfi)
        #expect(rfi.fractionMasked < 0.01 && rfi.clippedSpectra < 5 && rfi.maskedChannels.isEmpty, "\(rfi.summary)")
        #expect(sigma != nil && abs(sigma! - Self.clean) <= 0.03 * Self.clean, "\(String(describing: sigma)) vs \(Self.clean)")
    }

    @Test("persistent narrowband channels are masked whole, and only they")
    func narrowband() throws {
        var i = SimulatedInterference()
        i.narrowbandChannels = [5, 17, 40]
        i.narrowbandSigma = 3
        let (sigma, report) = try Self.search(Self.observation(i), rfi: RFIOptions())
        let rfi = try #require(report.rfi)
        #expect(rfi.maskedChannels == [5, 17, 40], "\(rfi.maskedChannels)")
        Self.within10Percent(sigma, "hot channels")
    }

    @Test("broadband impulses are clipped, spectrum by spectrum")
    func impulses() throws {
        var i = SimulatedInterference()
        i.impulseRate = 2
        i.impulseAmplitude = 2
        i.impulseWidth = 2e-3
        let o = Self.observation(i)
        // The impulses, counted from the interference alone (no noise, no pulsar).
        var quiet = o
        quiet.pulsars = []
        var impulseSpectra = 0
        try Simulator.generate(quiet, blockLength: 4096) { block in
            var mean = 0.0
            for s in 0..<(block.count / 64) {
                mean = (0..<64).reduce(0) { $0 + Double(block[s * 64 + $1]) } / 64
                if mean > 128 + 18 * 1.5 { impulseSpectra += 1 }
            }
        }
        let (sigma, report) = try Self.search(o, rfi: RFIOptions())
        let rfi = try #require(report.rfi)
        #expect(impulseSpectra > 100)
        #expect(abs(Double(rfi.clippedSpectra - impulseSpectra)) <= 0.1 * Double(impulseSpectra),
                "\(rfi.clippedSpectra) spectra clipped, \(impulseSpectra) carry an impulse")
        Self.within10Percent(sigma, "impulses")
        // Taken out: the channel average of the cleaned data has no impulse left in it (none over
        // 6 robust sigmas), while the raw data's has over a hundred.
        let raw = Simulator.spectra(o)
        let mask = try RFIMasker(options: RFIOptions(), planner: SearchFixtures.planner).measure(raw)
        func outliers(_ source: any SpectrumSource) throws -> Int {
            var data = [Float](repeating: 0, count: source.spectrumCount * 64)
            _ = try data.withUnsafeMutableBufferPointer { try source.read(into: $0, count: source.spectrumCount) }
            let means = (0..<source.spectrumCount).map { s in data[(s * 64)..<(s * 64 + 64)].reduce(0, +) / 64 }
            let sorted = means.sorted(), centre = sorted[sorted.count / 2]
            let spread = 1.4826 * means.map { abs($0 - centre) }.sorted()[means.count / 2]
            return means.filter { abs($0 - centre) > 6 * spread }.count
        }
        #expect(try outliers(raw) > 100)
        #expect(try outliers(CleanedSpectra(source: Simulator.spectra(o), mask: mask)) == 0)
    }

    @Test("a carrier drifting through the band is masked along its track")
    func driftingCarrier() throws {
        var i = SimulatedInterference()
        i.carrier = DriftingCarrier(startChannel: 10, endChannel: 50, amplitude: 4)
        let o = Self.observation(i)
        let mask = try RFIMasker(options: RFIOptions(), planner: SearchFixtures.planner).measure(Simulator.spectra(o))
        var track = Set<Int>()
        for s in stride(from: 0, to: o.samples, by: 16) {
            let channel = i.carrier!.channel(at: Double(s) / Double(o.samples))
            track.insert(mask.block(ofSpectrum: s) * 64 + channel)
        }
        let hit = track.filter { mask.masked[$0] }.count
        let elsewhere = mask.masked.indices.filter { mask.masked[$0] && !track.contains($0) }.count
        #expect(Double(hit) >= 0.9 * Double(track.count), "\(hit) of \(track.count) cells on the track masked")
        #expect(Double(elsewhere) <= 0.02 * Double(mask.masked.count - track.count), "\(elsewhere) cells off the track masked")
        Self.within10Percent(try Self.search(o, rfi: RFIOptions()).sigma, "drifting carrier")
    }

    @Test("mains in every channel is not masked (it would mask everything); zero-DM filtering takes it out, at a cost to low-DM pulsars that keeps it off by default")
    func mains() throws {
        var i = SimulatedInterference()
        i.mainsAmplitude = 0.5
        i.mainsFrequency = 50
        i.mainsHarmonics = 5
        var zeroDM = RFIOptions()
        zeroDM.zeroDM = true
        // A pulsar whose sweep across the band (0.1 s at DM 300) is long against its pulse (5 ms):
        // zero-DM takes little of it.
        let cleanHighDM = try #require(try Self.search(Self.observation(dm: 300), rfi: .off).sigma)
        let (sigma, report) = try Self.search(Self.observation(i, dm: 300), rfi: zeroDM)
        #expect(report.rfi!.fractionMasked < 0.02, "\(report.rfi!.summary)")
        #expect(sigma != nil && abs(sigma! - cleanHighDM) <= 0.1 * cleanHighDM, "mains, zero-DM: \(String(describing: sigma)) vs \(cleanHighDM)")
        #expect(!report.candidates.contains { c in (1...5).contains { abs(c.frequencyHz - 50 * Double($0)) < 0.5 } })
        // Without it (and without automatic birdies), mains and the sub-harmonics its harmonics
        // sum into outrank the pulsar.
        var maskOnly = RFIOptions()
        maskOnly.birdieSigma = 0
        let masked = try Self.search(Self.observation(i, dm: 300), rfi: maskOnly)
        #expect(masked.sigma == nil && Self.isMains(masked.report.candidates.first), "mains left in: \(SearchFixtures.summary(masked.report))")
        // The measurement behind the default: at DM 60 (a 21 ms sweep) zero-DM costs a third of the sigma.
        let lowDM = try #require(try Self.search(Self.observation(), rfi: zeroDM).sigma)
        #expect(lowDM < 0.8 * Self.clean, "zero-DM at DM 60: \(lowDM) vs \(Self.clean)")
    }

    @Test("mains is found in the DM 0 spectrum and zapped with its harmonics (automatic birdies); a bright pulsar at low DM is not")
    func automaticBirdies() throws {
        var i = SimulatedInterference()
        i.mainsAmplitude = 0.5
        i.mainsFrequency = 50
        i.mainsHarmonics = 5
        let (sigma, report) = try Self.search(Self.observation(i), rfi: RFIOptions())
        let birdies = try #require(report.rfi).birdies
        let mains = birdies.filter { abs($0.frequency - 50) < 0.2 }
        #expect(mains.count == 1 && mains[0].harmonics >= 5, "\(birdies)")
        // Nothing near the pulsar's frequency or its harmonics is zapped.
        #expect(!birdies.contains { b in (1...16).contains { h in abs(b.frequency - Double(h) / Self.period) < 0.05 } }, "\(birdies)")
        Self.within10Percent(sigma, "mains, automatic birdies")
        // The same with them off: mains (and the sub-harmonics its harmonics sum into) outranks the pulsar.
        var off = RFIOptions()
        off.birdieSigma = 0
        let unzapped = try Self.search(Self.observation(i), rfi: off)
        #expect(unzapped.sigma == nil && Self.isMains(unzapped.report.candidates.first), "\(SearchFixtures.summary(unzapped.report))")

        // A bright pulsar at DM 20 (its sweep, 6 ms, is shorter than its 123 ms period, so it is
        // strong at DM 0 too): its harmonic family is strongest at DM 20, so it is not zapped.
        var bright = Self.observation(dm: 20)
        bright.pulsars[0].snr = 60
        let found = try Self.search(bright, rfi: RFIOptions())
        #expect(found.report.rfi!.birdies.allSatisfy { b in !(1...16).contains { h in abs(b.frequency - Double(h) / Self.period) < 0.05 } },
                "\(found.report.rfi!.birdies)")
        #expect(found.sigma != nil)
    }
}
