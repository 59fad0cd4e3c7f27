import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import PulsarSearch
import Testing
import WorkUnits
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// Interference excision on the coordinator: the splitter masks what the preset asks for, keeps
/// what it did with the dataset, hands the preset's birdies to every unit, and the dataset's page
/// shows it.
@Suite("Coordinator: interference excision at the split")
struct InterferenceTests {
    @Test("hot channels are masked at the split, recorded with the dataset and plotted on its page; the preset's birdies and the mains found at DM 0 reach every unit")
    func maskedAtSplit() async throws {
        let presets = FileManager.default.temporaryDirectory.appendingPathComponent("presets-\(UUID())")
        try FileManager.default.copyItem(at: CoordinatorFixture.packageRoot.appendingPathComponent("workunits"), to: presets)
        defer { try? FileManager.default.removeItem(at: presets) }
        // The site's known tone: 60 Hz and its first 4 harmonics, 0.1 Hz wide (the data's mains, at 50 Hz, is to be found).
        let file = presets.appendingPathComponent("tiny.json")
        var preset = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        preset["birdies"] = [["frequency": 60, "width": 0.1, "harmonics": 4]]
        try JSONSerialization.data(withJSONObject: preset).write(to: file)

        try await CoordinatorFixture.with({ $0.presetsDirectory = presets.path }) { f in
            var o = SimulatedObservation()
            o.channels = 32
            o.foff = -4
            o.tsamp = 512e-6
            o.samples = 1 << 15
            o.pulsars = [InjectedPulsar(period: 0.1234, dm: 20, dutyCycle: 0.05, snr: 30)]
            o.interference.narrowbandChannels = [3, 20]
            o.interference.mainsAmplitude = 0.3
            let path = f.directory.appendingPathComponent("hot.fil").path
            try FileManager.default.createDirectory(at: f.directory, withIntermediateDirectories: true)
            try Simulator.writeFilterbank(o, to: path)
            let astronomer = try await f.astronomer()
            let dataset = try await f.submitAndSplit(path, astronomer: astronomer)
            #expect(dataset.state == "searching", "\(dataset)")

            let record = try #require(try await f.coordinator.store.read { try await $0.dataset(id: dataset.id) })
            let plan = try WireCoding.decoder().decode(DatasetSplitPlan.self, from: Data(try #require(record.splitPlan).utf8))
            let rfi = try #require(plan.rfi)
            #expect(rfi.maskedChannels == [3, 20] && rfi.channelFractions.count == 32, "\(rfi.summary)")
            #expect(plan.preset.birdies == [Birdie(frequency: 60, width: 0.1, harmonics: 4)])

            // The mains in the data is found at DM 0 with its harmonics, and recorded.
            let found = rfi.birdies
            #expect(found.count == 1 && abs(found[0].frequency - 50) < 0.05 && found[0].harmonics >= 4, "\(found)")
            // Every unit's search zaps the site's birdies and those found.
            let units = try await f.coordinator.store.read { try await $0.workUnits(dataset: dataset.id) }
            #expect(!units.isEmpty)
            for unit in units {
                let payload = try WorkUnitPayload.read(path: unit.payloadPath)
                #expect(payload.header.search.birdies == [Birdie(frequency: 60, width: 0.1, harmonics: 4)] + found, "unit \(unit.seq)")
            }

            // The page shows the summary and a bar per channel, two of them full.
            _ = try await onThread { try astronomer.publish(dataset.id) }
            let page = try await onThread { try f.httpGet("/datasets/\(dataset.id)") }
            #expect(page.contains("id=\"rfi-summary\"") && page.contains(HTML_escaped(rfi.summary)), "\(page)")
            let figure = try #require(page.components(separatedBy: "id=\"rfi-channels\"").dropFirst().first?.components(separatedBy: "</figure>").first)
            #expect(figure.components(separatedBy: "<rect x=").count - 1 == 32 + 1, "32 bars and the plot frame")
            #expect(page.contains("60.000 Hz") && page.contains(HTML_escaped("\(String(format: "%.3f", found[0].frequency)) Hz")), "\(page)")
        }
    }

    /// The page's escaping of the summary line (& and < only occur in it as text).
    func HTML_escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
