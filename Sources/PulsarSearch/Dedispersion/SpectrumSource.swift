/// Anything that yields filterbank spectra in time order: a file on disk, or memory in tests.
public protocol SpectrumSource: AnyObject {
    /// Channels per spectrum.
    var channelCount: Int { get }
    /// Spectra (time samples) in the source.
    var spectrumCount: Int { get }
    /// Seconds between spectra.
    var sampleTime: Double { get }
    /// Centre frequency of channel `index` in MHz.
    func channelFrequency(_ index: Int) -> Double
    /// Reads up to `count` spectra from the current position, spectrum-major, into `buffer`;
    /// returns how many were read (0 at the end).
    func read(into buffer: UnsafeMutableBufferPointer<Float>, count: Int) throws -> Int
    /// Moves the read position to spectrum `index`.
    func seek(toSpectrum index: Int) throws
}

/// A source that can hand over unsigned 8-bit samples as they are stored, so the dedisperser's
/// reader widens each sample once, straight into channel rows.
public protocol ByteSpectrumSource: SpectrumSource {
    /// Whether ``readBytes(into:count:)`` can be used (unsigned 8-bit samples).
    var hasUnsignedBytes: Bool { get }
    /// Reads up to `count` spectra as stored bytes, spectrum-major; returns how many were read.
    func readBytes(into buffer: UnsafeMutableBufferPointer<UInt8>, count: Int) throws -> Int
}

extension SpectrumSource {
    /// The band's channel frequencies and sample time.
    public var geometry: BandGeometry {
        BandGeometry(channelFrequencies: (0..<channelCount).map(channelFrequency), sampleTime: sampleTime)
    }
}

/// Spectra held in memory (spectrum-major), for tests and small simulated data.
public final class InMemorySpectra: SpectrumSource {
    public let channelCount: Int
    public let sampleTime: Double
    public let data: [Float]
    private let frequencies: [Double]
    private var position = 0

    public init(data: [Float], channelFrequencies: [Double], sampleTime: Double) {
        precondition(data.count % channelFrequencies.count == 0)
        self.data = data
        self.frequencies = channelFrequencies
        self.channelCount = channelFrequencies.count
        self.sampleTime = sampleTime
    }

    public var spectrumCount: Int { data.count / channelCount }
    public func channelFrequency(_ index: Int) -> Double { frequencies[index] }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>, count: Int) throws -> Int {
        let n = min(count, spectrumCount - position, buffer.count / channelCount)
        guard n > 0 else { return 0 }
        data.withUnsafeBufferPointer { src in
            buffer.baseAddress!.update(from: src.baseAddress! + position * channelCount, count: n * channelCount)
        }
        position += n
        return n
    }

    public func seek(toSpectrum index: Int) throws { position = max(0, min(index, spectrumCount)) }
}

/// The frequencies and sampling of an observation, as the DM planner needs them.
public struct BandGeometry: Sendable, Equatable {
    /// Channel centre frequencies in MHz, in file order.
    public var channelFrequencies: [Double]
    /// Sample time in seconds.
    public var sampleTime: Double

    public init(channelFrequencies: [Double], sampleTime: Double) {
        self.channelFrequencies = channelFrequencies
        self.sampleTime = sampleTime
    }

    public var highestFrequency: Double { channelFrequencies.max() ?? 0 }
    public var lowestFrequency: Double { channelFrequencies.min() ?? 0 }
    public var centreFrequency: Double { 0.5 * (highestFrequency + lowestFrequency) }
    /// Channel width in MHz (positive).
    public var channelWidth: Double {
        channelFrequencies.count > 1
            ? abs(highestFrequency - lowestFrequency) / Double(channelFrequencies.count - 1) : 1
    }
    /// Seconds of delay across the band per unit DM, edge channel to edge channel.
    public var delayPerDM: Double {
        Dispersion.delay(dm: 1, frequency: lowestFrequency, reference: highestFrequency)
    }
}
