/// A dedispersed time series and its metadata.
public struct TimeSeries: Sendable {
    /// The samples, one per `tsamp`.
    public var samples: [Float]
    /// Sampling interval in seconds.
    public var tsamp: Double
    /// Dispersion measure (pc cm^-3) the series was dedispersed at.
    public var dm: Double
    /// Time stamp of the first sample, MJD.
    public var tstart: Double
    /// Name of the observed source.
    public var sourceName: String
    /// Reference frequency in MHz (the band centre or highest frequency) if known.
    public var frequencyMHz: Double?

    /// Creates a time series.
    public init(
        samples: [Float], tsamp: Double, dm: Double = 0, tstart: Double = 60000, sourceName: String = "",
        frequencyMHz: Double? = nil
    ) {
        self.samples = samples
        self.tsamp = tsamp
        self.dm = dm
        self.tstart = tstart
        self.sourceName = sourceName
        self.frequencyMHz = frequencyMHz
    }

    /// Length of the series in seconds: `samples.count * tsamp`.
    public var duration: Double {
        Double(samples.count) * tsamp
    }
}

/// Reads and writes time series as SIGPROC `.tim` files or PRESTO `.dat` + `.inf` pairs.
public enum TimeSeriesFile {
    /// Reads a time series, choosing the format by extension:
    ///
    /// - `.tim`: a SIGPROC header with `nchans` 1 (normally `data_type` 2) and `nbits` 8, 16 or 32,
    ///   then the samples. `refdm` (finite) becomes ``TimeSeries/dm`` (0 when absent) and `fch1`, if present,
    ///   ``TimeSeries/frequencyMHz``. 8/16-bit samples are returned as the stored integers.
    /// - `.dat` or `.inf`: a PRESTO series; both `BASE.dat` (little-endian float32) and `BASE.inf`
    ///   are read, whichever of the two paths is given.
    ///
    /// Any other extension is `invalidValue` with field `"extension"`.
    public static func read(path: String) throws -> TimeSeries {
        let ext = PathText.pathExtension(path)
        switch ext {
        case "tim":
            return try readTim(path: path)
        case "dat", "inf":
            return try PrestoSeries.read(basePath: PathText.deletingExtension(path))
        default:
            throw FormatError.invalidValue(
                file: path, field: "extension", value: ext.isEmpty ? "(none)" : "'.\(ext)'",
                reason: "time series files must end in .tim, .dat or .inf")
        }
    }

    /// Writes `series` as a SIGPROC `.tim` file with `nbits` 8, 16 or 32.
    ///
    /// 32-bit samples are stored exactly. For 8 and 16 bits the samples are scaled linearly so that
    /// the smallest finite sample becomes 0 and the largest `2^nbits - 1` (a constant series becomes
    /// all 0), rounded to nearest and written unsigned; the scaling is not stored. The header has
    /// `nchans` 1, `data_type` 2, `refdm` = ``TimeSeries/dm`` and, when known, `fch1` =
    /// ``TimeSeries/frequencyMHz``. An empty series is `empty`; other `nbits` are `invalidValue`.
    public static func writeTim(_ series: TimeSeries, path: String, nbits: Int = 32) throws {
        guard nbits == 8 || nbits == 16 || nbits == 32 else {
            throw FormatError.invalidValue(
                file: path, field: "nbits", value: "\(nbits)", reason: "a .tim file holds 8, 16 or 32-bit samples")
        }
        guard !series.samples.isEmpty else { throw FormatError.empty(file: path) }
        var header = FilterbankHeader(
            sourceName: series.sourceName, fch1: series.frequencyMHz ?? 0, foff: 1, nchans: 1, nbits: nbits,
            tsamp: series.tsamp, tstart: series.tstart, nifs: 1, dataType: 2)
        header.refdm = series.dm
        try header.validate(file: path, requireFrequency: false)
        let encoded = SigprocHeader.encode(header, includeFrequency: series.frequencyMHz != nil)
        let writer = try FilterbankWriter(path: path, header: header, encodedHeader: encoded)

        try series.samples.withUnsafeBufferPointer { samples in
            if nbits == 32 {
                try writer.write(samples)
                return
            }
            let (offset, scale) = linearScaling(samples, levels: Float((1 << nbits) - 1))
            let chunk = 1 << 16
            var scaled = [Float](repeating: 0, count: Swift.min(chunk, samples.count))
            try scaled.withUnsafeMutableBufferPointer { scaledBuffer in
                var start = 0
                while start < samples.count {
                    let n = Swift.min(chunk, samples.count - start)
                    for i in 0..<n { scaledBuffer[i] = (samples[start + i] - offset) * scale }
                    try writer.write(UnsafeBufferPointer(rebasing: scaledBuffer[0..<n]))
                    start += n
                }
            }
        }
        try writer.close()
    }

    /// Writes `BASE.dat` (little-endian float32 samples) and `BASE.inf` (PRESTO metadata), where
    /// `basePath` is the path without extension. The `.inf` records the reference frequency as a
    /// single channel (0 when unknown).
    public static func writePresto(_ series: TimeSeries, basePath: String) throws {
        try PrestoSeries.write(series, basePath: basePath)
    }

    /// `offset` and `scale` mapping the finite range of `samples` onto 0...levels.
    static func linearScaling(_ samples: UnsafeBufferPointer<Float>, levels: Float) -> (offset: Float, scale: Float) {
        var low = Float.infinity
        var high = -Float.infinity
        for x in samples where x.isFinite {
            low = Swift.min(low, x)
            high = Swift.max(high, x)
        }
        guard low.isFinite else { return (0, 1) }
        guard high > low else { return (low, 1) }
        return (low, levels / (high - low))
    }

    /// Reads a SIGPROC `.tim` file.
    static func readTim(path: String) throws -> TimeSeries {
        let file = try PosixFile.openForReading(path)
        let decoded = try SigprocHeader.decode(file: file, requireFrequency: false)
        let header = decoded.header
        guard header.nchans == 1 else {
            throw FormatError.invalidValue(
                file: path, field: "nchans", value: "\(header.nchans)", reason: "a .tim time series has 1 channel")
        }
        guard header.nifs == 1 else {
            throw FormatError.invalidValue(
                file: path, field: "nifs", value: "\(header.nifs)", reason: "a .tim time series has 1 IF")
        }
        guard header.nbits >= 8 else {
            throw FormatError.invalidValue(
                file: path, field: "nbits", value: "\(header.nbits)",
                reason: "a .tim time series holds 8, 16 or 32-bit samples")
        }
        if let dm = header.refdm, !dm.isFinite {
            throw FormatError.invalidValue(
                file: path, field: "refdm", value: "\(dm)", reason: "the reference DM must be a finite number of pc cm^-3")
        }
        let reader = try FilterbankReader(file: file, header: header, headerLength: decoded.length)
        let count = reader.spectrumCount
        let samples = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            initialized = try reader.read(into: buffer, count: count)
        }
        return TimeSeries(
            samples: samples, tsamp: header.tsamp, dm: header.refdm ?? 0, tstart: header.tstart,
            sourceName: header.sourceName, frequencyMHz: decoded.hasFrequency ? header.fch1 : nil)
    }
}
