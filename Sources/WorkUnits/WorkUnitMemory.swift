#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PulsarSearch
import XunxingProtocol

/// Peak memory of a work unit's search, MB, for the worker's memory limit and the coordinator's
/// scheduling by a host's memory.
///
/// A search holds the whole payload as `Float` samples (4 bytes each, whatever the payload's
/// 8 or 16 bits) and, for the trial it runs, buffers proportional to the FFT length `n`: the
/// padded series, the spectrum, powers and whitened powers, the harmonic sums and, for an
/// accelerated trial, the resampled series. ``bytesPerFFTPoint`` counts them; it and the fixed
/// part were set from the peak resident memory measured for whole units (`xunxing bench units`
/// prints both, release build, 2026-12-06): 324 series of 2^20 samples 1308 MB measured, 1360
/// modelled; 324 of 2^22 5226 / 5392; tutorial.fil's 301 of 187,520 221 / 240; 131 of 2^18
/// 133 / 159; small units (2,048 to 65,536 samples) 1-16 / 18-33, the fixed part dominating.
/// So the model errs high, by 3-8 % for large units.
public enum WorkUnitMemory {
    /// Bytes of working buffers per point of the FFT length.
    public static let bytesPerFFTPoint = 48
    /// Fixed part of a search (plans, candidate lists, toplists), bytes.
    public static let fixedBytes = 16 << 20

    /// MB to search a unit of `seriesCount` series of `samplesPerSeries` samples.
    public static func megabytes(seriesCount: Int, samplesPerSeries: Int) -> Int {
        let samples = 4 * seriesCount * samplesPerSeries
        let buffers = bytesPerFFTPoint * PeriodicitySearcher.fftSize(forSamples: max(64, samplesPerSeries))
        return megabytes(roundingUp: Int64(samples + buffers + fixedBytes))
    }

    /// `bytes` in MB, rounded up.
    public static func megabytes(roundingUp bytes: Int64) -> Int {
        Int((bytes + (1 << 20) - 1) >> 20)
    }

    /// MB to search the unit a header describes.
    public static func megabytes(header: WorkUnitHeader) -> Int {
        megabytes(seriesCount: header.seriesCount, samplesPerSeries: header.samplesPerSeries)
    }

    /// The least a payload of `payloadBytes` can need: its samples as `Float`s (16-bit samples,
    /// so half as many as bytes) and the fixed part. For a unit from a coordinator that does not
    /// say, until its header is read (``megabytes(header:)``).
    public static func leastMegabytes(payloadBytes: Int64) -> Int {
        megabytes(roundingUp: max(0, min(payloadBytes, 1 << 40)) * 2 + Int64(fixedBytes))
    }
}

#if canImport(Glibc)
/// glibc's `malloc_trim` (not in the Glibc module's headers).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// This process's resident memory, from `/proc/self/status` (Linux), for measuring what a search
/// takes: reset the peak, run it, read the peak.
public enum ProcessMemory {
    /// Resident memory now (VmRSS), bytes; nil when unreadable.
    public static func residentBytes() -> Int? { field("VmRSS:") }

    /// Peak resident memory (VmHWM) since the process started or the last ``resetPeak()``, bytes.
    public static func peakResidentBytes() -> Int? { field("VmHWM:") }

    /// Returns freed heap to the system and resets the peak to the current resident memory
    /// (writing 5 to `/proc/self/clear_refs`, Linux 4.0 and later); false when it could not.
    @discardableResult
    public static func resetPeak() -> Bool {
        #if canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }

    private static func field(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let kB = Int(line.dropFirst(name.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        else { return nil }
        return kB * 1024
    }
}
