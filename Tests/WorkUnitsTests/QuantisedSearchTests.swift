import Foundation
import PulsarSearch
import Testing
import XunxingProtocol

@Suite("Searching quantised payloads")
struct QuantisedSearchTests {
    @Test("an 8-bit payload series gives the same pulsar at the same sigma (within 5%)")
    func quantisedSearch() throws {
        let dir = try Fixtures.temporaryDirectory("search")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tsamp = 256e-6, samples = 1 << 18
        let pulsar = InjectedPulsar(period: 0.0123, dm: 0, dutyCycle: 0.05, snr: 16)
        let series = Simulator.timeSeries(samples: samples, tsamp: tsamp, pulsars: [pulsar], seed: 21)
        var header = Fixtures.header(series: 1, samples: samples)
        header.sampleTime = tsamp
        let path = dir + "/pulsar.xxwu"
        try Fixtures.write(header, bits: 8, data: series.samples, to: path)
        let (read, quantised) = try WorkUnitPayload.read(path: path)

        let searcher = PeriodicitySearcher(planner: Fixtures.planner, parameters: read.search)
        let original = series.samples.withUnsafeBufferPointer { searcher.search(samples: $0, tsamp: tsamp) }
        let fromPayload = quantised.withUnsafeBufferPointer { searcher.search(samples: $0, tsamp: tsamp) }
        let duration = Double(samples) * tsamp
        func best(_ found: [SeriesCandidate]) -> SeriesCandidate? {
            found.filter { abs($0.frequency - 1 / pulsar.period) * duration < 2 }.max { $0.sigma < $1.sigma }
        }
        let a = try #require(best(original), "pulsar not found in the original series")
        let b = try #require(best(fromPayload), "pulsar not found in the quantised series")
        print(String(format: "quantised search: original sigma %.2f (%d harmonics), 8-bit payload sigma %.2f (%d harmonics)",
            a.sigma, a.harmonics, b.sigma, b.harmonics))
        #expect(abs(a.frequency - b.frequency) * duration < 0.1)
        #expect(abs(a.sigma - b.sigma) <= 0.05 * a.sigma)
        #expect(a.sigma > 8)
    }
}
