import Foundation
import PulsarSearch
import Testing
import XunxingSupport

/// Runs the built `xunxing` executable (it sits beside the test bundle).
enum CommandLine {
    static var executable: URL {
        URL(fileURLWithPath: Swift.CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("xunxing")
    }

    /// Runs it with `arguments`; `environment` entries are added to (or replace) this process's.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> SubprocessOutput {
        try Subprocess.run(executable.path, arguments, environment: environment)
    }
}

@Suite("xunxing command line")
struct CommandLineTests {
    @Test("simulate, then search --format json: the pulsar first, with the documented fields")
    func simulateAndSearch() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let file = dir.appendingPathComponent("psr.fil").path
        let sim = try CommandLine.run(["simulate", file, "--period", "0.0123", "--dm", "40", "--snr", "25", "--samples", "131072"])
        #expect(sim.status == 0, "\(sim.stderr)")
        let search = try CommandLine.run(["search", file, "--dm-max", "80", "--format", "json", "--threads", "2"])
        #expect(search.status == 0, "\(search.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        // The header facts and what was searched come with the candidates.
        let observation = try #require(document["observation"] as? [String: Any])
        #expect(observation["format"] as? String == "sigproc")
        for key in ["telescope", "source", "mjd", "ra_deg", "dec_deg"] { #expect(observation.keys.contains(key), "missing observation.\(key)") }
        #expect(document["file"] as? String == file)
        #expect((document["dm_trials"] as? Int ?? 0) > 1 && (document["dm_max"] as? Double ?? 0) >= 80)
        #expect(document["duration_s"] as? Double ?? 0 > 0 && document.keys.contains("rfi"))
        let json = try #require(document["candidates"] as? [[String: Any]])
        let top = try #require(json.first)
        for key in ["period_s", "frequency_hz", "dm", "sigma", "harmonics", "accel_m_s2", "snr_folded"] {
            #expect(top[key] != nil, "missing \(key)")
        }
        let period = try #require(top["period_s"] as? Double)
        #expect(abs(period - 0.0123) / 0.0123 < 5e-4)
        // The pulsar is diagnosed and scored (the order by quality: searchDiagnoses).
        let quality = try #require((top["quality"] as? [String: Any])?["score"] as? Double)
        #expect(quality > 0.5 && top["diagnostics"] is [String: Any], "quality \(quality)")
    }

    @Test("search diagnoses its five strongest candidates and orders them by quality; --diagnose 0 keeps sigma order")
    func searchDiagnoses() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let file = dir.appendingPathComponent("seven.fil").path
        // Seven pulsars of unrelated periods and unequal strength: more candidates than are diagnosed.
        var o = SimulatedObservation()
        o.samples = 1 << 17
        o.pulsars = zip([0.0123, 0.0317, 0.0571, 0.0893, 0.1471, 0.2339, 0.3761], [30.0, 26, 22, 19, 16, 14, 12]).enumerated().map {
            InjectedPulsar(period: $1.0, dm: 20 + 6 * Double($0), dutyCycle: 0.04, snr: $1.1)
        }
        try Simulator.writeFilterbank(o, to: file)
        let search = try CommandLine.run(["search", file, "--dm-max", "80", "--format", "json", "--threads", "2", "--quiet"])
        #expect(search.status == 0, "\(search.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        let json = try #require(document["candidates"] as? [[String: Any]])
        // The strongest five are diagnosed and ordered by quality; the rest keep sigma order.
        #expect(json.count > 5, "too few candidates (\(json.count)) to tell the diagnosed five from the rest")
        let diagnosed = min(5, json.count)
        let scores = json.prefix(diagnosed).compactMap { ($0["quality"] as? [String: Any])?["score"] as? Double }
        #expect(scores.count == diagnosed && scores == scores.sorted(by: >), "\(scores)")
        #expect(json.prefix(diagnosed).allSatisfy { $0["diagnostics"] is [String: Any] })
        #expect(json.dropFirst(diagnosed).allSatisfy { $0["quality"] == nil || $0["quality"] is NSNull })
        #expect(scores.first ?? 0 > 0.5, "the pulsar's quality \(scores)")
        // Without diagnosis: sigma order throughout and no quality. The diagnosed five are that
        // order's first five, reordered; the rest are the same, in the same order.
        let plain = try CommandLine.run(["search", file, "--dm-max", "80", "--format", "json", "--threads", "2", "--diagnose", "0", "--quiet"])
        let plainDocument = try #require(try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        let plainJSON = try #require(plainDocument["candidates"] as? [[String: Any]])
        let sigmas = plainJSON.compactMap { $0["sigma"] as? Double }
        #expect(!sigmas.isEmpty && sigmas == sigmas.sorted(by: >))
        #expect(plainJSON.allSatisfy { $0["quality"] == nil || $0["quality"] is NSNull })
        func periods(_ list: some Sequence<[String: Any]>) -> [Double] { list.compactMap { $0["period_s"] as? Double } }
        #expect(Set(periods(json.prefix(diagnosed))) == Set(periods(plainJSON.prefix(diagnosed))))
        #expect(periods(json.dropFirst(diagnosed)) == periods(plainJSON.dropFirst(diagnosed)))
        // The table's quality column (the 11th) holds the score, or "-" without diagnosis.
        func firstRow(_ arguments: [String]) throws -> [Substring] {
            let table = try CommandLine.run(["search", file, "--dm-max", "80", "--threads", "2", "--quiet"] + arguments)
            let header = try #require(table.stdout.split(separator: "\n").first { $0.contains("period_ms") })
            #expect(header.split(separator: " ")[10] == "quality", "\(header)")
            return try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("  1 ") }).split(separator: " ")
        }
        #expect(try firstRow([])[10] == String(format: "%.2f", scores.first ?? -1)[...])
        #expect(try firstRow(["--diagnose", "0"])[10] == "-")
        let refused = try CommandLine.run(["search", file, "--diagnose=-1"])
        #expect(refused.status != 0 && refused.stderr.contains("--diagnose must be 0 or more"), "\(refused.stderr)")
    }

    @Test("--low-dm-cutoff 0 keeps the 50 Hz mains of parkes_8bit_1.fil that the default drops; a negative cutoff is refused")
    func lowDMCutoff() throws {
        let file = FormatsFixtures.dataPath("parkes_8bit_1.fil")
        func frequencies(_ extra: [String]) throws -> [(Double, Double)] {
            let search = try CommandLine.run(["search", file, "--format", "json", "--quiet"] + extra)
            #expect(search.status == 0, "\(search.stderr)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
            let json = try #require(document["candidates"] as? [[String: Any]])
            return json.compactMap { c in (c["frequency_hz"] as? Double).flatMap { f in (c["dm"] as? Double).map { (f, $0) } } }
        }
        #expect(try !frequencies([]).contains { abs($0.0 - 50) < 0.5 })
        let kept = try frequencies(["--low-dm-cutoff", "0"])
        #expect(kept.contains { abs($0.0 - 50) < 0.5 && $0.1 < 5 }, "\(kept)")
        let bad = try CommandLine.run(["search", file, "--low-dm-cutoff", "-1"])
        #expect(bad.status != 0 && bad.stderr.contains("--low-dm-cutoff"), "\(bad.stderr)")
    }

    @Test("a PRESTO time series is searched at the DM its .inf records")
    func prestoSeries() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        var series = Simulator.timeSeries(
            samples: 1 << 17, tsamp: 5e-4, pulsars: [InjectedPulsar(period: 0.0717, dm: 0, dutyCycle: 0.04, snr: 20)], seed: 3)
        series.dm = 42.5
        let base = dir.appendingPathComponent("series_DM42.50").path
        try TimeSeriesFile.writePresto(series, basePath: base)
        let result = try CommandLine.run(["search", base + ".inf", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(document["observation"] is NSNull, "a time series has no filterbank header")
        let json = try #require(document["candidates"] as? [[String: Any]])
        let top = try #require(json.first)
        #expect(abs((top["period_s"] as? Double ?? 0) - 0.0717) / 0.0717 < 5e-4)
        #expect(top["dm"] as? Double == 42.5)
    }

    @Test("a bad file fails with a message naming the file, the field and the value")
    func badFile() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let url = dir.appendingPathComponent("three-bit.fil")
        var header = FilterbankHeader(fch1: 1500, foff: -1, nchans: 8, nbits: 8, tsamp: 1e-3)
        header.nbits = 8
        var bytes = SigprocHeader.encode(header)
        // Patch nbits to 3: find the keyword and overwrite the int32 after it.
        let key = Array("nbits".utf8)
        let at = (0..<(bytes.count - key.count)).first { Array(bytes[$0..<($0 + key.count)]) == key }!
        bytes[at + key.count] = 3
        try FormatsFixtures.write(bytes + [UInt8](repeating: 0, count: 64), to: url)
        let result = try CommandLine.run(["search", url.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("three-bit.fil"))
        #expect(result.stderr.contains("nbits"))
        #expect(result.stderr.contains("3"))
    }

    @Test("--help teaches: examples and the meaning of the outputs")
    func help() throws {
        let result = try CommandLine.run(["search", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("--dm-max"))
        #expect(result.stdout.contains("snr_folded"))
        let top = try CommandLine.run(["--help"])
        #expect(top.stdout.contains("Examples"))
    }

    @Test("single-pulse: FRB 121102 found and plotted (profile, waterfall, S/N against DM, DM-time scatter); JSON with the documented fields")
    func singlePulse() throws {
        let directory = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(directory) }
        let file = FormatsFixtures.dataPath("frb121102.fil")
        let run = try CommandLine.run(["single-pulse", file, "--dm-min", "500", "--dm-max", "620", "--format", "json",
                                       "--plot", directory.path, "--plot-count", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let events = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        let top = try #require(events.first)
        for key in ["time_s", "mjd", "dm", "width_s", "snr", "members", "dm_min", "dm_max", "time_min_s", "time_max_s"] {
            #expect(top[key] != nil, "\(key) missing")
        }
        #expect(abs((top["dm"] as? Double ?? 0) - 565) < 20 && abs((top["time_s"] as? Double ?? 0) - 2.0) < 0.1, "\(top)")
        #expect(abs((top["mjd"] as? Double ?? 0) - 57645.41108) < 1e-4, "MJD of the first sample plus the arrival time")
        for name in ["dm-time.svg", "event-1-profile.svg", "event-1-waterfall.svg", "event-1-dm.svg"] {
            let svg = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"), "\(name)")
        }
        let waterfall = try String(contentsOf: directory.appendingPathComponent("event-1-waterfall.svg"), encoding: .utf8)
        #expect(waterfall.components(separatedBy: "<rect").count - 1 == 1 + 16 * 64, "the frame and 16 subbands x 64 bins")
    }
}
