import PulsarSearch
import XunxingProtocol

/// Peak memory of a work unit's search, MB, for the worker's memory limit and the coordinator's
/// scheduling by a host's memory.
///
/// A search holds the whole payload as `Float` samples (4 bytes each, whatever the payload's
/// 8 or 16 bits) and, for the trial it runs, buffers proportional to the FFT length `n`: the
/// padded series, the spectrum, powers and whitened powers, the harmonic sums and, for an
/// accelerated trial, the resampled series. ``bytesPerFFTPoint`` counts them; it and the fixed
/// part were set from the peak resident memory measured for whole units
/// (`xunxing bench units`, which prints it), rounded up.
public enum WorkUnitMemory {
    /// Bytes of working buffers per point of the FFT length.
    public static let bytesPerFFTPoint = 48
    /// Fixed part of a search (plans, candidate lists, toplists), bytes.
    public static let fixedBytes = 16 << 20

    /// MB to search a unit of `seriesCount` series of `samplesPerSeries` samples.
    public static func megabytes(seriesCount: Int, samplesPerSeries: Int) -> Int {
        let samples = 4 * seriesCount * samplesPerSeries
        let buffers = bytesPerFFTPoint * PeriodicitySearcher.fftSize(forSamples: max(64, samplesPerSeries))
        return (samples + buffers + fixedBytes + (1 << 20) - 1) >> 20
    }

    /// MB to search the unit a header describes.
    public static func megabytes(header: WorkUnitHeader) -> Int {
        megabytes(seriesCount: header.seriesCount, samplesPerSeries: header.samplesPerSeries)
    }

    /// An upper estimate from the payload's size alone (an assignment from a coordinator that
    /// does not say): 8-bit samples in one series, the most memory a payload of that size can need.
    public static func megabytes(payloadBytes: Int64) -> Int {
        megabytes(seriesCount: 1, samplesPerSeries: Int(max(64, min(payloadBytes, 1 << 40))))
    }
}
