/// Writes a SIGPROC filterbank file: the header first, then spectra quantised to `header.nbits`.
///
/// Integer samples are rounded to the nearest value and clamped to the type's range (NaN becomes
/// the minimum); 8- and 16-bit samples are unsigned unless `header.isSigned == true`; 32-bit
/// samples are written as little-endian floats. 1/2/4-bit samples are packed first sample in the
/// low-order bits. Output is buffered; call ``close()`` to flush and learn of any write error
/// (the writer also flushes, silently, when deallocated unclosed). Not thread-safe.
public final class FilterbankWriter {
    /// The path being written.
    public let path: String
    /// The header written at the start of the file.
    public let header: FilterbankHeader

    private let file: PosixFile
    private let valuesPerSpectrum: Int
    private let bytesPerSpectrum: Int
    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private var filled = 0
    private var closed = false

    /// Target size of the output buffer.
    static let bufferBytes = 1 << 20

    /// Validates `header` (as ``SigprocHeader/decode(path:)`` would), creates or truncates `path`
    /// and writes the header.
    public convenience init(path: String, header: FilterbankHeader) throws {
        try header.validate(file: path)
        try self.init(path: path, header: header, encodedHeader: SigprocHeader.encode(header))
    }

    /// Writes `encodedHeader` verbatim (used for time series headers).
    init(path: String, header: FilterbankHeader, encodedHeader: [UInt8]) throws {
        self.path = path
        self.header = header
        self.valuesPerSpectrum = header.nchans * header.nifs
        self.bytesPerSpectrum = header.bytesPerSpectrum
        self.file = try PosixFile.openForWriting(path)
        let spectra = Swift.max(1, Self.bufferBytes / bytesPerSpectrum)
        self.capacity = spectra * bytesPerSpectrum
        self.buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        try file.write(encodedHeader)
    }

    deinit {
        if !closed {
            try? flush()
            try? file.close()
        }
        buffer.deallocate()
    }

    /// Appends spectra. `spectra` is spectrum-major like ``FilterbankReader``'s output:
    /// `spectra[s * nchans + c]`; with `nifs > 1` each spectrum holds `nchans * nifs` values,
    /// IF 0's channels first. A count that is not a whole number of spectra is `invalidValue`.
    public func write(_ spectra: UnsafeBufferPointer<Float>) throws {
        guard !closed else {
            throw FormatError.io(file: path, reason: "write after close")
        }
        guard spectra.count % valuesPerSpectrum == 0 else {
            throw FormatError.invalidValue(
                file: path, field: "spectra", value: "\(spectra.count) values",
                reason: "not a multiple of nchans × nifs = \(valuesPerSpectrum)")
        }
        guard let source = spectra.baseAddress else { return }
        let total = spectra.count / valuesPerSpectrum
        var done = 0
        while done < total {
            if filled == capacity { try flush() }
            let n = Swift.min(total - done, (capacity - filled) / bytesPerSpectrum)
            filled += SamplePacker.pack(
                source + done * valuesPerSpectrum, count: n * valuesPerSpectrum, nbits: header.nbits,
                isSigned: header.isSigned == true, into: buffer + filled)
            done += n
        }
    }

    /// Writes buffered bytes to the file.
    private func flush() throws {
        if filled > 0 {
            let count = filled
            filled = 0
            try file.write(buffer, count: count)
        }
    }

    /// Flushes buffered spectra and closes the file. Further calls do nothing.
    public func close() throws {
        guard !closed else { return }
        closed = true
        do {
            try flush()
        } catch {
            try? file.close()
            throw error
        }
        try file.close()
    }
}

/// A writer holds an open file and a mutable buffer: never use one from two threads at once.
@available(*, unavailable)
extension FilterbankWriter: Sendable {}
