import Foundation

/// Dedispersed time series at several DMs, stored contiguously: series `i` is
/// `data[i * length ..< (i + 1) * length]`.
public struct DedispersedBlock: Sendable {
    public let dms: [Double]
    public let downsample: Int
    /// Seconds per sample of every series.
    public let sampleTime: Double
    /// Samples per series.
    public let length: Int
    public let data: [Float]

    /// Calls `body` with series `i`.
    public func withSeries<R>(_ i: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try data.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[(i * length)..<((i + 1) * length)]))
        }
    }
}

/// One chunk of dedispersed output: samples `start ..< start + count` of every series, series `i`
/// at `samples[i * stride ..< i * stride + count]`.
public struct DedispersedChunk {
    /// Index of the chunk's first sample in the whole series.
    public let start: Int
    /// Samples of each series in this chunk.
    public let count: Int
    /// Distance between consecutive series in `samples`.
    public let stride: Int
    public let samples: UnsafeBufferPointer<Float>

    /// This chunk of series `i`.
    public func series(_ i: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: samples.baseAddress! + i * stride, count: count)
    }
}

