import Foundation
import PulsarSearch
import XunxingProtocol

/// Helpers shared by the work-unit tests.
enum Fixtures {
    /// One FFT planner for the whole test process (ESTIMATE plans, as workers in tests use).
    static let planner = FFTPlanner(rigor: .estimate)

    /// A fresh empty directory under the system's temporary directory.
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("xunxing-workunits-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The package root, found from this file's path.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Deterministic Gaussian noise (mean `mean`, standard deviation `sigma`).
    static func noise(count: Int, mean: Float = 0, sigma: Float = 1, seed: UInt64) -> [Float] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (Double(z >> 11) + 0.5) / Double(1 << 53)
        }
        var out = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let r = (-2 * log(next())).squareRoot(), t = 2 * Double.pi * next()
            out[i] = mean + sigma * Float(r * cos(t))
            if i + 1 < count { out[i + 1] = mean + sigma * Float(r * sin(t)) }
            i += 2
        }
        return out
    }

    /// A header for `series` series of `samples` samples (bits, scales and offsets left to the writer).
    static func header(series: Int, samples: Int, id: String = "wu-test") -> WorkUnitHeader {
        var search = SpectralSearchParameters()
        search.sigmaThreshold = 4
        return WorkUnitHeader(
            workUnitID: id, datasetID: "ds-test", sampleTime: 256e-6, downsample: 2, samplesPerSeries: samples,
            dms: (0..<series).map { 10 + 0.5 * Double($0) }, dmIndices: (0..<series).map { 40 + $0 },
            accelerations: [0, 12.5, -12.5], search: search, estimatedCost: 0.04)
    }

    /// Writes `data` (series after series) as a payload.
    static func write(_ header: WorkUnitHeader, bits: Int, data: [Float], to path: String) throws {
        let n = header.samplesPerSeries
        try data.withUnsafeBufferPointer { all in
            try WorkUnitPayload.write(
                header: header, bits: bits, seriesCount: header.dms.count,
                series: { UnsafeBufferPointer(rebasing: all[($0 * n)..<(($0 + 1) * n)]) }, to: path)
        }
    }

    /// A file made of magic, header length, `json` and `dataBytes` zero bytes.
    static func rawPayload(json: Data, dataBytes: Int, magic: String = "XXWUNIT1") -> Data {
        var d = Data(magic.utf8)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(json)
        d.append(Data(count: dataBytes))
        return d
    }

    /// JSON of a header, sorted keys.
    static func json(_ header: WorkUnitHeader) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(header)
    }
}
