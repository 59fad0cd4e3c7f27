import Foundation

/// Latencies of one kind of request, in microseconds, kept whole so percentiles are exact.
/// One recorder per thread; merged at the end of a run.
public struct LatencyRecorder: Sendable {
    private(set) var samples: [String: [UInt32]] = [:]

    public init() {}

    /// Records one request of `endpoint` that took `seconds`.
    public mutating func record(_ endpoint: String, seconds: Double) {
        samples[endpoint, default: []].append(UInt32(min(max(0, seconds * 1e6), Double(UInt32.max))))
    }

    /// Adds another recorder's samples.
    public mutating func merge(_ other: LatencyRecorder) {
        for (endpoint, values) in other.samples { samples[endpoint, default: []].append(contentsOf: values) }
    }

    /// Percentiles per endpoint and over all requests.
    public func summary() -> [String: LatencySummary] {
        var result: [String: LatencySummary] = [:]
        var all: [UInt32] = []
        for (endpoint, values) in samples {
            result[endpoint] = LatencySummary(values)
            all.append(contentsOf: values)
        }
        result["all"] = LatencySummary(all)
        return result
    }
}

/// Request count and latency percentiles, milliseconds.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    init(_ values: [UInt32]) {
        let sorted = values.sorted()
        count = sorted.count
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))]) / 1000
        }
        p50Ms = at(0.5)
        p99Ms = at(0.99)
        maxMs = Double(sorted.last ?? 0) / 1000
    }

    enum CodingKeys: String, CodingKey {
        case count
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
        case maxMs = "max_ms"
    }
}
