import Foundation
import PulsarSearch
import Testing

@Suite("Search of the real and reference data in ../shared/data")
struct RealDataSearchTests {
    @Test("tutorial.fil: the 250 ms pulsar at DM 30 is the top candidate")
    func tutorial() throws {
        let reader = try FilterbankReader(path: FormatsFixtures.dataPath("tutorial.fil"))
        let report = try SearchPipeline(configuration: SearchFixtures.configuration(), planner: SearchFixtures.planner)
            .search(reader)
        let top = try #require(report.candidates.first)
        #expect(abs(top.periodS - 0.25) / 0.25 < 5e-4, "\(SearchFixtures.summary(report))")
        #expect(abs(top.dm - 30) <= 5, "\(SearchFixtures.summary(report))")
        #expect(top.snrFolded > 10)
    }

    @Test("parkes_8bit_1.fil: the 50 Hz mains at DM ~0 are dropped as interference, and found with the low-DM cutoff off")
    func parkes() throws {
        // This 2.1 s of Crab data holds no detectable periodicity from the pulsar itself (see the
        // README): what a periodicity search does find there is the mains interference.
        let reader = try FilterbankReader(path: FormatsFixtures.dataPath("parkes_8bit_1.fil"))
        var configuration = SearchFixtures.configuration()
        let report = try SearchPipeline(configuration: configuration, planner: SearchFixtures.planner).search(reader)
        #expect(report.dmPlan.trials.count > 100)
        #expect(!report.candidates.contains { abs($0.frequencyHz - 50) < 0.5 }, "\(SearchFixtures.summary(report))")
        configuration.sift.minDM = 0
        let unfiltered = try SearchPipeline(configuration: configuration, planner: SearchFixtures.planner).search(reader)
        let mains = try #require(unfiltered.candidates.first { abs($0.frequencyHz - 50) < 0.5 }, "\(SearchFixtures.summary(unfiltered))")
        #expect(mains.dm < 5)
    }
}
