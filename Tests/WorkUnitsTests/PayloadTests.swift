import Foundation
import PulsarSearch
import Testing
import XunxingProtocol

@Suite("Work-unit payload")
struct PayloadTests {
    @Test("round trip within half a quantisation step", arguments: [8, 16])
    func roundTrip(bits: Int) throws {
        let dir = try Fixtures.temporaryDirectory("roundtrip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = 10_000, series = 3
        // Different means and spreads per series.
        var data: [Float] = []
        for i in 0..<series {
            data += Fixtures.noise(count: samples, mean: Float(i) * 100 - 50, sigma: Float(i + 1) * 3, seed: UInt64(i))
        }
        let header = Fixtures.header(series: series, samples: samples)
        let path = dir + "/unit.xxwu"
        try Fixtures.write(header, bits: bits, data: data, to: path)

        let (read, restored) = try WorkUnitPayload.read(path: path)
        var expected = header
        expected.bits = bits
        expected.scales = read.scales
        expected.offsets = read.offsets
        #expect(read == expected)
        #expect(try WorkUnitPayload.readHeader(path: path) == read)
        #expect(restored.count == data.count)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        let json = try Fixtures.json(read)
        #expect(size == 12 + json.count + series * samples * bits / 8)

        let levels = Float((1 << bits) - 1)
        for i in 0..<series {
            let scale = read.scales[i], offset = read.offsets[i]
            // The range is about mean +- 6 sigma.
            let sigma = Float(i + 1) * 3
            #expect(abs(scale * levels / (12 * sigma) - 1) < 0.05)
            var worst: Float = 0
            for j in (i * samples)..<((i + 1) * samples) where data[j] >= offset && data[j] <= offset + levels * scale {
                worst = max(worst, abs(restored[j] - data[j]))
            }
            // Half a step, plus the rounding of Float arithmetic at the values' magnitude.
            let rounding = 4 * max(abs(offset), abs(offset + levels * scale)).ulp
            #expect(worst <= 0.5 * scale + rounding, "series \(i): worst error \(worst), step \(scale)")
        }
    }

    @Test("a strong outlier is clipped, and does not coarsen the steps")
    func outlierClipped() throws {
        let dir = try Fixtures.temporaryDirectory("outlier")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var data = Fixtures.noise(count: 65536, seed: 9)
        data[1000] = 1e6
        data[2000] = -3e5
        data[3000] = .nan
        let path = dir + "/unit.xxwu"
        try Fixtures.write(Fixtures.header(series: 1, samples: data.count), bits: 8, data: data, to: path)
        let (header, restored) = try WorkUnitPayload.read(path: path)
        #expect(restored.allSatisfy { $0.isFinite })
        let top = header.offsets[0] + 255 * header.scales[0]
        #expect(restored[1000] == top)
        #expect(restored[2000] == header.offsets[0])
        #expect(abs(restored[3000]) < 0.1)
        #expect(top > 5 && top < 7, "the range follows the noise (sigma 1), not the spike: top \(top)")
    }

    @Test("a 50 MB payload is written series by series")
    func streamingWrite() throws {
        let dir = try Fixtures.temporaryDirectory("stream")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = 1 << 20, series = 50
        let noise = Fixtures.noise(count: samples + series, seed: 3)
        let path = dir + "/big.xxwu"
        let header = Fixtures.header(series: series, samples: samples)
        var calls = 0
        let start = Date()
        try noise.withUnsafeBufferPointer { all in
            // Every series is a view into one small buffer: nothing of payload size exists in memory.
            try WorkUnitPayload.write(header: header, bits: 8, seriesCount: series, series: { i in
                calls += 1
                return UnsafeBufferPointer(rebasing: all[i..<(i + samples)])
            }, to: path)
        }
        let seconds = Date().timeIntervalSince(start)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        print("streaming: wrote \(size) bytes in \(String(format: "%.2f", seconds)) s")
        #expect(size > 50 * 1_000_000)
        #expect(calls == 2 * series)
        let read = try WorkUnitPayload.readHeader(path: path)
        #expect(read.dms.count == series)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }

    // MARK: - Errors

    func smallPayload(_ dir: String) throws -> String {
        let path = dir + "/unit.xxwu"
        try Fixtures.write(Fixtures.header(series: 2, samples: 100), bits: 16,
            data: Fixtures.noise(count: 200, seed: 1), to: path)
        return path
    }

    @Test("a truncated file names expected and actual sizes")
    func truncated() throws {
        let dir = try Fixtures.temporaryDirectory("truncated")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try smallPayload(dir)
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        try full.prefix(full.count - 10).write(to: URL(fileURLWithPath: path))
        let error = PayloadError.truncated(file: path, expectedBytes: full.count, actualBytes: full.count - 10)
        #expect(throws: error) { try WorkUnitPayload.read(path: path) }
        #expect(throws: error) { try WorkUnitPayload.readHeader(path: path) }
        #expect(error.description.contains("\(full.count)") && error.description.contains("\(full.count - 10)"))

        try full.prefix(5).write(to: URL(fileURLWithPath: path))
        #expect(throws: PayloadError.truncated(file: path, expectedBytes: 12, actualBytes: 5)) {
            try WorkUnitPayload.readHeader(path: path)
        }
        var longer = full
        longer.append(0)
        try longer.write(to: URL(fileURLWithPath: path))
        #expect(throws: PayloadError.trailingData(file: path, expectedBytes: full.count, actualBytes: full.count + 1)) {
            try WorkUnitPayload.read(path: path)
        }
    }

    @Test("bad magic")
    func badMagic() throws {
        let dir = try Fixtures.temporaryDirectory("magic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try smallPayload(dir)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data.replaceSubrange(0..<8, with: Data("NOTAUNIT".utf8))
        try data.write(to: URL(fileURLWithPath: path))
        let error = PayloadError.badMagic(file: path, found: "\"NOTAUNIT\"")
        #expect(throws: error) { try WorkUnitPayload.read(path: path) }
        #expect(error.description.contains("magic") && error.description.contains("NOTAUNIT"))
    }

    @Test("version 99 is refused as a version, not a missing field")
    func futureVersion() throws {
        let dir = try Fixtures.temporaryDirectory("version")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/v99.xxwu"
        let json = Data(#"{"version": 99, "somethingNew": true}"#.utf8)
        try Fixtures.rawPayload(json: json, dataBytes: 0).write(to: URL(fileURLWithPath: path))
        let error = PayloadError.unsupportedVersion(file: path, version: 99, supported: 1)
        #expect(throws: error) { try WorkUnitPayload.readHeader(path: path) }
        #expect(error.description.contains("'version' has value 99"))
    }

    @Test("header counts that disagree with dms name the field and value")
    func inconsistentCounts() throws {
        let dir = try Fixtures.temporaryDirectory("counts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/counts.xxwu"
        var header = Fixtures.header(series: 4, samples: 100)
        header.scales = [1, 1, 1, 1]
        header.offsets = [0, 0, 0, 0]
        header.dmIndices = [1, 2, 3]
        try Fixtures.rawPayload(json: Fixtures.json(header), dataBytes: 400).write(to: URL(fileURLWithPath: path))
        let error = PayloadError.headerFieldInconsistent(
            file: path, field: "dmIndices", value: "3 entries", expected: "4, one per entry of dms")
        #expect(throws: error) { try WorkUnitPayload.read(path: path) }
        #expect(error.description.contains("'dmIndices' has value 3 entries"))

        header.dmIndices = [1, 2, 3, 4]
        header.scales = [1, 1]
        try Fixtures.rawPayload(json: Fixtures.json(header), dataBytes: 400).write(to: URL(fileURLWithPath: path))
        #expect(throws: PayloadError.headerFieldInconsistent(
            file: path, field: "scales", value: "2 entries", expected: "4, one per entry of dms")) {
            try WorkUnitPayload.read(path: path)
        }
    }

    @Test("invalid header JSON names the field")
    func invalidJSON() throws {
        let dir = try Fixtures.temporaryDirectory("json")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bad.xxwu"
        try Fixtures.rawPayload(json: Data("{not json".utf8), dataBytes: 0).write(to: URL(fileURLWithPath: path))
        #expect(throws: PayloadError.self) { try WorkUnitPayload.readHeader(path: path) }

        var object = try #require(try JSONSerialization.jsonObject(
            with: Fixtures.json(Fixtures.header(series: 1, samples: 10))) as? [String: Any])
        object.removeValue(forKey: "samplesPerSeries")
        let json = try JSONSerialization.data(withJSONObject: object)
        try Fixtures.rawPayload(json: json, dataBytes: 10).write(to: URL(fileURLWithPath: path))
        do {
            _ = try WorkUnitPayload.readHeader(path: path)
            Issue.record("expected an error")
        } catch let error as PayloadError {
            guard case let .headerJSONInvalid(file, field, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(file == path && field == "samplesPerSeries")
        }
    }

    @Test("the writer refuses unusable arguments")
    func writerArguments() throws {
        let dir = try Fixtures.temporaryDirectory("writer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/w.xxwu"
        let data = Fixtures.noise(count: 200, seed: 2)
        #expect(throws: PayloadError.invalidArgument(file: path, field: "bits", value: "12", expected: "8 or 16")) {
            try Fixtures.write(Fixtures.header(series: 2, samples: 100), bits: 12, data: data, to: path)
        }
        let header = Fixtures.header(series: 3, samples: 100)
        #expect(throws: PayloadError.headerFieldInconsistent(
            file: path, field: "dms", value: "3 entries", expected: "2, one per series written")) {
            try data.withUnsafeBufferPointer { all in
                try WorkUnitPayload.write(header: header, bits: 8, seriesCount: 2,
                    series: { UnsafeBufferPointer(rebasing: all[($0 * 100)..<(($0 + 1) * 100)]) }, to: path)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: PayloadError.cannotOpen(file: "/nonexistent-dir/x.xxwu", reason: "No such file or directory")) {
            try WorkUnitPayload.read(path: "/nonexistent-dir/x.xxwu")
        }
    }

    @Test("a result round-trips through JSON")
    func resultCodable() throws {
        let result = WorkUnitResult(
            workUnitID: "wu-1", candidates: [SeriesCandidate(frequency: 12.5, harmonics: 8, power: 80, sigma: 9.25,
                acceleration: 0, dm: 30, dmIndex: 60)],
            cpuSeconds: 1.5, elapsedSeconds: 1.7, seriesSearched: 12, software: "xunxing-worker 0.1 fftw-3.3.10")
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        #expect(try JSONDecoder().decode(WorkUnitResult.self, from: e.encode(result)) == result)
    }
}
