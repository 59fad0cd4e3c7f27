/// PRESTO time series: `BASE.dat` holds little-endian float32 samples, `BASE.inf` the metadata as
/// lines ` Label text  =  value`.
///
/// Labels are matched by their leading text ("Number of bins", "Width of each time series bin",
/// ...), so column alignment does not matter; lines without `=` and the free-text notes after
/// "Any additional notes" are ignored, as are the "On/Off bin pair" lines of series with breaks.
enum PrestoSeries {
    /// Canonical labels, as PRESTO writes them.
    enum Label {
        static let bins = "Number of bins in the time series"
        static let width = "Width of each time series bin (sec)"
        static let dm = "Dispersion measure (cm-3 pc)"
        static let epoch = "Epoch of observation (MJD)"
        static let object = "Object being observed"
        static let lowChannel = "Central freq of low channel (Mhz)"
        static let bandwidth = "Total bandwidth (Mhz)"
        static let channels = "Number of channels"
        static let channelWidth = "Channel bandwidth (Mhz)"
    }

    /// The metadata this package uses from a `.inf` file.
    struct Info {
        var bins: Int
        var width: Double
        var dm = 0.0
        var epoch = 60000.0
        var object = ""
        var frequencyMHz: Double?
    }

    /// Reads `basePath.inf` and `basePath.dat`.
    static func read(basePath: String) throws -> TimeSeries {
        let infPath = basePath + ".inf"
        let datPath = basePath + ".dat"
        let info = try parse(try readText(infPath), file: infPath)
        if info.bins == 0 { throw FormatError.empty(file: infPath) }

        let dat = try PosixFile.openForReading(datPath)
        let size = try dat.size()
        if size == 0 { throw FormatError.empty(file: datPath) }
        if size % 4 != 0 {
            throw FormatError.partialSample(
                file: datPath, field: "data", value: "\(size) bytes", reason: "not a whole number of 4-byte float samples")
        }
        let infName = PathText.lastComponent(infPath)
        if size / 4 < info.bins {
            throw FormatError.partialSample(
                file: datPath, field: "data", value: "\(size) bytes",
                reason: "holds \(size / 4) float32 samples but \(infName) says '\(Label.bins)' = \(info.bins)")
        }
        if size / 4 > info.bins {
            throw FormatError.invalidValue(
                file: datPath, field: "data", value: "\(size) bytes",
                reason: "holds \(size / 4) float32 samples but \(infName) says '\(Label.bins)' = \(info.bins)")
        }
        let samples = try [Float](unsafeUninitializedCapacity: info.bins) { buffer, initialized in
            initialized = 0
            try dat.readFully(into: buffer.baseAddress!, count: info.bins * 4, offset: 0)
            #if _endian(big)
            for i in 0..<info.bins { buffer[i] = Float(bitPattern: UInt32(littleEndian: buffer[i].bitPattern)) }
            #endif
            initialized = info.bins
        }
        return TimeSeries(
            samples: samples, tsamp: info.width, dm: info.dm, tstart: info.epoch, sourceName: info.object,
            frequencyMHz: info.frequencyMHz)
    }

    /// Reads a whole (small) text file.
    static func readText(_ path: String) throws -> String {
        let file = try PosixFile.openForReading(path)
        let size = try file.size()
        var bytes = [UInt8](repeating: 0, count: size)
        let got = try bytes.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            return try file.read(into: base, count: size, offset: 0)
        }
        return String(decoding: bytes[0..<got], as: UTF8.self)
    }

    /// Parses `.inf` text; errors name `file`, the label and the value.
    static func parse(_ text: String, file: String) throws -> Info {
        var bins: Int?
        var width: Double?
        var info = Info(bins: 0, width: 0)
        var lowChannel: Double?
        var bandwidth: Double?
        var channelWidth: Double?

        func number(_ label: String, _ value: String) throws -> Double {
            guard let x = Double(value), x.isFinite else {
                throw FormatError.invalidValue(file: file, field: label, value: "'\(value)'", reason: "not a finite number")
            }
            return x
        }

        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = trimmed(rawLine)
            if line.hasPrefix("Any additional notes") { break }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let label = trimmed(line[..<equals])
            let value = trimmed(line[line.index(after: equals)...])
            if label.hasPrefix("Number of bins") {
                guard let n = Int(value), n >= 0 else {
                    throw FormatError.invalidValue(
                        file: file, field: label, value: "'\(value)'", reason: "not a whole number of bins >= 0")
                }
                bins = n
            } else if label.hasPrefix("Width of each time series bin") {
                guard let dt = Double(value), dt.isFinite, dt > 0 else {
                    throw FormatError.invalidValue(
                        file: file, field: label, value: "'\(value)'",
                        reason: "the bin width must be a finite number of seconds > 0")
                }
                width = dt
            } else if label.hasPrefix("Dispersion measure") {
                info.dm = try number(label, value)
            } else if label.hasPrefix("Epoch of observation") {
                info.epoch = try number(label, value)
            } else if label.hasPrefix("Object being observed") {
                info.object = value
            } else if label.hasPrefix("Central freq of low channel") {
                lowChannel = try number(label, value)
            } else if label.hasPrefix("Total bandwidth") {
                bandwidth = try number(label, value)
            } else if label.hasPrefix("Channel bandwidth") {
                channelWidth = try number(label, value)
            }
        }
        guard let bins else { throw FormatError.missingField(file: file, field: Label.bins) }
        guard let width else { throw FormatError.missingField(file: file, field: Label.width) }
        info.bins = bins
        info.width = width
        if let low = lowChannel, low > 0 {
            // Centre of the band: low channel centre + (total bandwidth - one channel) / 2.
            if let bw = bandwidth, let cw = channelWidth {
                info.frequencyMHz = low + (bw - cw) / 2
            } else {
                info.frequencyMHz = low
            }
        }
        return info
    }

    /// Writes `basePath.dat` and `basePath.inf`.
    static func write(_ series: TimeSeries, basePath: String) throws {
        let infPath = basePath + ".inf"
        let datPath = basePath + ".dat"
        guard series.tsamp.isFinite, series.tsamp > 0 else {
            throw FormatError.invalidValue(
                file: infPath, field: Label.width, value: "\(series.tsamp)",
                reason: "the bin width must be a finite number of seconds > 0")
        }
        guard !series.samples.isEmpty else { throw FormatError.empty(file: datPath) }

        let dat = try PosixFile.openForWriting(datPath)
        try series.samples.withUnsafeBufferPointer { samples in
            #if _endian(little)
            try dat.write(UnsafeRawPointer(samples.baseAddress!), count: samples.count * 4)
            #else
            try dat.write(samples.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } })
            #endif
        }
        try dat.close()

        let inf = try PosixFile.openForWriting(infPath)
        try inf.write(Array(infText(series, name: PathText.lastComponent(basePath)).utf8))
        try inf.close()
    }

    /// The `.inf` text for `series`, in PRESTO's line order and layout.
    static func infText(_ series: TimeSeries, name: String) -> String {
        infText(name: name, object: series.sourceName, epoch: series.tstart, bins: series.samples.count, width: series.tsamp,
                dm: series.dm, frequencyMHz: series.frequencyMHz)
    }

    /// The `.inf` text of a series of `bins` samples of `width` seconds at `dm`.
    static func infText(name: String, object: String, epoch: Double, bins: Int, width: Double, dm: Double, frequencyMHz: Double?) -> String {
        let frequency = frequencyMHz ?? 0
        let known = frequencyMHz != nil
        let rows: [(String, String)] = [
            ("Data file name without suffix", name),
            ("Telescope used", "Unknown"),
            ("Instrument used", "Unknown"),
            (Label.object, object),
            ("J2000 Right Ascension (hh:mm:ss.ssss)", "00:00:00.0000"),
            ("J2000 Declination     (dd:mm:ss.ssss)", "00:00:00.0000"),
            ("Data observed by", "Unknown"),
            (Label.epoch, "\(epoch)"),
            ("Barycentered?           (1=yes, 0=no)", "0"),
            (Label.bins, "\(bins)"),
            (Label.width, "\(width)"),
            ("Any breaks in the data? (1=yes, 0=no)", "0"),
            ("Type of observation (EM band)", "Radio"),
            ("Beam diameter (arcsec)", "0"),
            (Label.dm, "\(dm)"),
            (Label.lowChannel, "\(frequency)"),
            (Label.bandwidth, known ? "1.0" : "0.0"),
            (Label.channels, "1"),
            (Label.channelWidth, known ? "1.0" : "0.0"),
            ("Data analyzed by", "xunxing"),
        ]
        var text = ""
        for (label, value) in rows {
            let padding = String(repeating: " ", count: Swift.max(1, 39 - label.count))
            text += " \(label)\(padding)=  \(value)\n"
        }
        text += " Any additional notes:\n    Time series written by xunxing (PulsarSearch).\n\n"
        return text
    }

    /// `text` without leading and trailing spaces and tabs.
    static func trimmed<S: StringProtocol>(_ text: S) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
            let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first...last])
    }
}
