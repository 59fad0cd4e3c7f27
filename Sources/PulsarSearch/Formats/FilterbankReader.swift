/// Streams the spectra of a SIGPROC filterbank file, block by block, without ever loading the
/// whole observation.
///
/// Raw bytes are fetched with one `pread` per block into a reusable buffer (at most a few MiB) and
/// unpacked to `Float`. A reader is not thread-safe: use one per thread.
public final class FilterbankReader {
    /// The path the reader was opened with; errors name it.
    public let path: String
    /// The decoded header.
    public let header: FilterbankHeader
    /// Number of spectra (time samples) in the file.
    public let spectrumCount: Int
    /// Length of the header in bytes: the file offset of the first spectrum.
    public let headerLength: Int

    private let file: PosixFile
    private let unpacker: SampleUnpacker
    private let bytesPerSpectrum: Int
    /// Reusable raw-byte block buffer.
    private let raw: UnsafeMutablePointer<UInt8>
    /// Spectra that fit in `raw`.
    private let blockSpectra: Int
    private var nextSpectrum = 0

    /// Target size of one raw read.
    static let blockBytes = 4 << 20

    /// Opens `path`, decodes its header and checks the data length.
    ///
    /// Throws ``FormatError/partialSample(file:field:value:reason:)`` (field `"data"`) when the data
    /// section is not a whole number of spectra and ``FormatError/empty(file:)`` when it holds none
    /// (including a 0-byte file), besides the header errors of ``SigprocHeader/decode(path:)``.
    public convenience init(path: String) throws {
        let file = try PosixFile.openForReading(path)
        let decoded = try SigprocHeader.decode(file: file, requireFrequency: true)
        try self.init(file: file, header: decoded.header, headerLength: decoded.length)
    }

    /// Wraps an already-decoded file (used for time series, whose header rules differ).
    init(file: PosixFile, header: FilterbankHeader, headerLength: Int) throws {
        self.file = file
        self.path = file.path
        self.header = header
        self.headerLength = headerLength
        let bps = header.bytesPerSpectrum
        self.bytesPerSpectrum = bps
        let dataBytes = try file.size() - headerLength
        if dataBytes % bps != 0 {
            let unit = header.nchans == 1 && header.nifs == 1 ? "\(bps)-byte samples" : "\(bps)-byte spectra"
            throw FormatError.partialSample(
                file: path, field: "data", value: "\(dataBytes) bytes",
                reason: "not a whole number of \(unit)")
        }
        let count = dataBytes / bps
        if count == 0 { throw FormatError.empty(file: path) }
        self.spectrumCount = count
        self.unpacker = SampleUnpacker(nbits: header.nbits, isSigned: header.isSigned == true)
        let spectra = Swift.max(1, Swift.min(count, Self.blockBytes / bps))
        self.blockSpectra = spectra
        self.raw = UnsafeMutablePointer<UInt8>.allocate(capacity: spectra * bps)
    }

    deinit { raw.deallocate() }

    /// Index of the next spectrum ``read(into:count:)`` will return (0 at the start,
    /// ``spectrumCount`` at the end).
    public var position: Int { nextSpectrum }

    /// Moves to spectrum `index` (0...``spectrumCount``); anything else is `invalidValue`.
    public func seek(toSpectrum index: Int) throws {
        guard index >= 0, index <= spectrumCount else {
            throw FormatError.invalidValue(
                file: path, field: "spectrum index", value: "\(index)",
                reason: "outside the file's 0...\(spectrumCount) spectra")
        }
        nextSpectrum = index
    }

    /// Reads up to `count` spectra from the current position, unpacked to `Float`, spectrum-major:
    /// `buffer[s * nchans + c]` is channel `c` (file order, IF 0 only) of spectrum `s`.
    ///
    /// Returns the number of spectra read: fewer than `count` only at the end of the file, 0 once
    /// there. `buffer` must hold at least `count * nchans` values (checked with a precondition).
    public func read(into buffer: UnsafeMutableBufferPointer<Float>, count: Int) throws -> Int {
        precondition(count >= 0, "FilterbankReader.read: negative count \(count)")
        let nchans = header.nchans
        precondition(
            buffer.count >= count * nchans,
            "FilterbankReader.read: buffer holds \(buffer.count) values, \(count) spectra need \(count * nchans)")
        let total = Swift.min(count, spectrumCount - nextSpectrum)
        guard total > 0, let out = buffer.baseAddress else { return 0 }
        let contiguous = header.nifs == 1
        var done = 0
        while done < total {
            let n = Swift.min(total - done, blockSpectra)
            try file.readFully(into: raw, count: n * bytesPerSpectrum, offset: headerLength + nextSpectrum * bytesPerSpectrum)
            let destination = out + done * nchans
            if contiguous {
                // Spectra are back to back in both layouts: unpack the block as one stream.
                unpacker.unpack(raw, count: n * nchans, into: destination)
            } else {
                for s in 0..<n {
                    unpacker.unpack(raw + s * bytesPerSpectrum, count: nchans, into: destination + s * nchans)
                }
            }
            nextSpectrum += n
            done += n
        }
        return total
    }
}

extension FilterbankReader {
    /// Whether ``readBytes(into:count:)`` can be used: unsigned 8-bit samples, one IF.
    public var hasUnsignedBytes: Bool { header.nbits == 8 && header.isSigned != true && header.nifs == 1 }

    /// Reads up to `count` spectra from the current position as they are stored, unsigned 8-bit
    /// samples, `buffer[s * nchans + c]`, straight from the file (no copy, nothing unpacked); the
    /// return value is as ``read(into:count:)``'s. Only when ``hasUnsignedBytes`` (a precondition).
    public func readBytes(into buffer: UnsafeMutableBufferPointer<UInt8>, count: Int) throws -> Int {
        precondition(hasUnsignedBytes, "FilterbankReader.readBytes: \(path) has \(header.nbits)-bit samples, \(header.nifs) IFs")
        precondition(count >= 0 && buffer.count >= count * bytesPerSpectrum,
                     "FilterbankReader.readBytes: buffer holds \(buffer.count) bytes, \(count) spectra need \(count * bytesPerSpectrum)")
        let total = Swift.min(count, spectrumCount - nextSpectrum)
        guard total > 0, let out = buffer.baseAddress else { return 0 }
        try file.readFully(into: out, count: total * bytesPerSpectrum, offset: headerLength + nextSpectrum * bytesPerSpectrum)
        nextSpectrum += total
        return total
    }
}

/// Readers hold an open file and mutable position: share them between threads only by handing
/// them over, never concurrently.
@available(*, unavailable)
extension FilterbankReader: Sendable {}
