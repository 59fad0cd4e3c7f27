import Foundation
import PulsarSearch
import Testing
import WorkUnits
import XunxingProtocol

@Suite("Work-unit presets")
struct PresetTests {
    @Test("the repository's presets load")
    func repositoryPresets() throws {
        let directory = Fixtures.packageRoot.appendingPathComponent("workunits").path
        let presets = try PresetCatalog.load(directory: directory)
        #expect(Set(presets.keys) == ["tiny", "quick", "standard"])
        let tiny = try #require(presets["tiny"])
        #expect(tiny.targetCost == 0.05 && tiny.replication == 2 && tiny.deadlineSeconds == 120)
        #expect(presets["standard"]?.targetCost == 1800 && presets["standard"]?.deadlineSeconds == 7 * 86400)
        #expect(presets["quick"]?.targetCost == 60 && presets["quick"]?.deadlineSeconds == 86400)
        for preset in presets.values {
            #expect(preset.searchParameters.maxHarmonics == preset.harmonics)
            #expect(preset.maxReplicas >= preset.replication)
        }
    }

    /// Writes the tiny preset with `edit` applied to its JSON object to `dir/name.json`.
    func write(_ dir: String, _ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let source = Fixtures.packageRoot.appendingPathComponent("workunits/tiny.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        object["name"] = name
        edit(&object)
        let path = dir + "/\(name).json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("bad presets are refused naming file, field and value")
    func badPresets() throws {
        let cases: [(String, (inout [String: Any]) -> Void, [String])] = [
            ("bits12", { $0["bits"] = 12 }, ["bits12.json", "'bits'", "12", "8 or 16"]),
            ("cost", { $0["targetCost"] = -1 }, ["cost.json", "'targetCost'", "-1"]),
            ("zerocost", { $0["targetCost"] = 0 }, ["zerocost.json", "'targetCost'", "0"]),
            ("replication", { $0["replication"] = 0 }, ["replication.json", "'replication'", "0"]),
            ("replicas", { $0["maxReplicas"] = 1 }, ["replicas.json", "'maxReplicas'", "1"]),
            ("harmonics", { $0["harmonics"] = 3 }, ["harmonics.json", "'harmonics'", "3"]),
            ("missing", { $0.removeValue(forKey: "deadlineSeconds") }, ["missing.json", "'deadlineSeconds'", "missing"]),
            ("type", { $0["bits"] = "eight" }, ["type.json", "'bits'", "eight"]),
            ("renamed", { $0["name"] = "other" }, ["renamed.json", "'name'", "other"]),
            ("nofft", { $0["modes"] = ["ffa"] }, ["nofft.json", "'modes'", "ffa", "fft"]),
            ("twice", { $0["modes"] = ["fft", "ffa", "ffa"] }, ["twice.json", "'modes'", "repeat"]),
            ("mode", { $0["modes"] = ["fft", "fold"] }, ["mode.json", "'modes[1]'", "fold"]),
            ("ffabins", { $0["modes"] = ["fft", "ffa"]; $0["ffa"] = ["binsMin": 300] }, ["ffabins.json", "'ffa'", "300"]),
            ("spwidth", { $0["singlePulse"] = ["maxWidth": -1] }, ["spwidth.json", "'singlePulse'", "-1"]),
        ]
        for (name, edit, fragments) in cases {
            let dir = try Fixtures.temporaryDirectory("preset-\(name)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            _ = try write(dir, name, edit)
            do {
                let loaded = try PresetCatalog.load(directory: dir)
                Issue.record("\(name): accepted \(loaded)")
            } catch {
                let message = "\(error)"
                for fragment in fragments {
                    #expect(message.contains(fragment), "\(name): '\(message)' lacks '\(fragment)'")
                }
            }
        }
    }

    @Test("a valid copy loads and an unreadable directory is reported")
    func directoryErrors() throws {
        let dir = try Fixtures.temporaryDirectory("preset-ok")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try write(dir, "mine") { $0["dmMax"] = 500 }
        try Data("not a preset".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        let presets = try PresetCatalog.load(directory: dir)
        #expect(presets["mine"]?.dmMax == 500)
        #expect(throws: PresetError.self) { try PresetCatalog.load(directory: dir + "/absent") }
    }

    @Test("modes switch the FFA and single-pulse searches on; their settings default field by field")
    func searchModes() throws {
        let dir = try Fixtures.temporaryDirectory("preset-modes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try write(dir, "all") {
            $0["modes"] = ["fft", "ffa", "single-pulse"]
            $0["ffa"] = ["periodMax": 12]
            $0["singlePulse"] = ["snrThreshold": 7]
        }
        _ = try write(dir, "settingsonly") { $0["singlePulse"] = ["snrThreshold": 7] }
        let presets = try PresetCatalog.load(directory: dir)
        var expected = FFAOptions()
        expected.periodMax = 12
        #expect(presets["all"]?.ffaOptions == expected)
        #expect(presets["all"]?.singlePulseOptions == SinglePulseUnitOptions(snrThreshold: 7))
        // Settings without the mode change nothing; the repository's presets run the FFT only.
        #expect(presets["settingsonly"]?.singlePulseOptions == nil && presets["settingsonly"]?.ffaOptions == nil)
        let repository = try PresetCatalog.load(directory: Fixtures.packageRoot.appendingPathComponent("workunits").path)
        #expect(!repository.isEmpty && repository.values.allSatisfy { $0.ffaOptions == nil && $0.singlePulseOptions == nil })
    }
}

@Suite("Hours as people read them")
struct HoursTextTests {
    @Test("seconds under a minute, minutes under an hour, hours above; signs and rounding at the edges")
    func units() {
        let cases: [(Double, String)] = [
            (0, "0 h"), (0.094 / 3600, "0.09 s"), (8.0 / 3600, "8.00 s"), (42.0 / 3600, "42.0 s"), (59.94 / 3600, "59.9 s"),
            (60.0 / 3600, "1.0 min"), (210.0 / 3600, "3.5 min"), (3590.0 / 3600, "59.8 min"), (1, "1.00 h"), (1.254, "1.25 h"),
            (2_400_000_000, "2400000000.00 h"), (-0.5, "-30.0 min"), (-3, "-3.00 h"),
        ]
        for (hours, text) in cases { #expect(HoursText.format(hours) == text, "\(hours) h") }
    }
}
